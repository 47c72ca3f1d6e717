//! Notifications through real servers: an SMTP server on loopback (Python's aiosmtpd, run from
//! `tests/support/smtp_sink.py`) receives the emails, and an HTTP receiver in this test records the
//! Slack-compatible and signed webhook requests and checks their signatures. Time is a manual
//! clock; the worker runs when the test says so.
//!
//! Without python3 and aiosmtpd the tests are skipped, unless `CI=true` (then they fail).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use debrief_core::followthrough::{DigestDay, DigestSchedule};
use debrief_core::notify::{
    ChannelFields, ChannelTarget, Preferences, SmtpSecurity, SmtpSettings, Topics,
};
use debrief_core::{
    ActionFields, ParticipantFields, PostmortemFields, Question, Role, Severity, UserRole,
};
use debrief_server::jobs::{self, RunOutcome, scan_once};
use debrief_server::{AppState, Clock, Config};
use debrief_store::{DynStore, JobFilter, JobState, NewUser};
use debrief_store_sqlite::SqliteStore;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::Value;

const SECRET: &str = "receiver-secret-0123456789";

#[derive(Debug)]
struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    fn set(&self, t: Timestamp) {
        *self.0.lock().expect("clock") = t;
    }
    fn advance(&self, d: SignedDuration) {
        let mut now = self.0.lock().expect("clock");
        *now = now.checked_add(d).expect("time");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock")
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "debrief-notify-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The loopback SMTP server; killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Smtp {
    fn start(dir: &TempDir) -> Option<Smtp> {
        Smtp::start_with(dir, &[])
    }

    /// With `tls` = [certificate, key]: STARTTLS with that certificate, required.
    fn start_with(dir: &TempDir, tls: &[&Path]) -> Option<Smtp> {
        let port = free_port();
        let out = dir.0.join("mail.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let spawned = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&out)
            .args(tls)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let skip = |why: String| -> Option<Smtp> {
            let message = format!("{why}; install it with: pip install aiosmtpd");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            eprintln!("skipping: {message}");
            None
        };
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => return skip(format!("cannot run python3 ({e})")),
        };
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "ready" {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            let _ = child.kill();
            return skip(format!(
                "the SMTP sink did not start: {}",
                err.lines().last().unwrap_or("no output")
            ));
        }
        Some(Smtp { child, port, out })
    }

    /// Every message received so far.
    fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the HTTP receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// An HTTP receiver on loopback: `/slack` and `/hook` answer 200, `/down` answers 503.
async fn receiver() -> (SocketAddr, Log) {
    async fn record(
        State(log): State<Log>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let path = uri.path().to_owned();
        let status = if path == "/down" {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        log.lock().expect("log").push(Received {
            path,
            headers,
            body,
        });
        status
    }
    let log: Log = Arc::default();
    let app = axum::Router::new()
        .route("/slack", post(record))
        .route("/hook", post(record))
        .route("/down", post(record))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, log)
}

fn received(log: &Log, path: &str) -> Vec<Received> {
    log.lock()
        .expect("log")
        .iter()
        .filter(|r| r.path == path)
        .cloned()
        .collect()
}

fn noon(day: Date) -> Timestamp {
    day.at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("zoned")
        .timestamp()
}

/// A Monday a few weeks from now (records are created at the real time; reminders run later).
fn a_monday() -> Date {
    let mut d = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(28.days())
        .expect("date");
    while d.weekday() != jiff::civil::Weekday::Monday {
        d = d.checked_add(1.day()).expect("date");
    }
    d
}

fn day(base: Date, offset: i32) -> Date {
    base.checked_add(offset.days()).expect("date")
}

async fn drain(app: &AppState) -> RunOutcome {
    jobs::drain(app, "test-worker").await.expect("run")
}

struct World {
    app: AppState,
    store: DynStore,
    clock: Arc<ManualClock>,
    smtp: Smtp,
    http: SocketAddr,
    log: Log,
    base: Date,
    _dir: TempDir,
}

/// A store with two users (Ana wants everything, Bo only the digest), an email channel to the
/// SMTP sink with a team address, a Slack room for the platform team and a signed webhook for
/// everyone; a postmortem led by Bo with actions owned by Ana and by team:platform.
async fn world(digest: DigestSchedule) -> Option<World> {
    let dir = TempDir::new();
    let smtp = Smtp::start(&dir)?;
    let (http, log) = receiver().await;
    let store: DynStore = Arc::new(
        SqliteStore::open(&dir.0.join("debrief.db"))
            .await
            .expect("store"),
    );
    let base = a_monday();
    let clock = Arc::new(ManualClock(Mutex::new(noon(day(base, -14)))));
    let mut config = Config {
        public_url: "https://debrief.example".into(),
        ..Config::default()
    };
    config.followup.digest = digest;
    let app = AppState::new(store.clone(), config, clock.clone());

    for (name, email, topics) in [
        ("Ana Lima", "ana@example.com", "all"),
        ("Bo Chen", "bo@example.com", "digest"),
    ] {
        let u = store
            .create_user(
                NewUser {
                    name: name.parse().expect("name"),
                    email: email.parse().expect("email"),
                    role: UserRole::Editor,
                    password_hash: "not used".into(),
                },
                false,
            )
            .await
            .expect("user");
        store
            .set_preferences(
                u.id,
                &Preferences {
                    topics: topics.parse().expect("topics"),
                },
            )
            .await
            .expect("preferences");
    }
    let channels = [
        ChannelFields {
            name: "mail".parse().expect("name"),
            target: ChannelTarget::Email(SmtpSettings {
                host: "127.0.0.1".into(),
                port: smtp.port,
                security: SmtpSecurity::Plain,
                username: None,
                password: None,
                from: "Debrief <debrief@example.com>".into(),
                to: vec!["platform@example.com".parse().expect("email")],
            }),
            topics: Topics::all(),
            owners: vec!["team:platform".parse().expect("owner")],
            enabled: true,
        },
        ChannelFields {
            name: "platform-slack".parse().expect("name"),
            target: ChannelTarget::Slack {
                url: format!("http://{http}/slack").parse().expect("url"),
            },
            topics: "reminders,digest".parse().expect("topics"),
            owners: vec!["team:platform".parse().expect("owner")],
            enabled: true,
        },
        ChannelFields {
            name: "all-webhook".parse().expect("name"),
            target: ChannelTarget::Webhook {
                url: format!("http://{http}/hook").parse().expect("url"),
                secret: SECRET.into(),
            },
            topics: Topics::all(),
            owners: vec![],
            enabled: true,
        },
    ];
    for c in channels {
        store
            .create_channel(c, Timestamp::now())
            .await
            .expect("channel");
    }
    Some(World {
        app,
        store,
        clock,
        smtp,
        http,
        log,
        base,
        _dir: dir,
    })
}

async fn postmortem(w: &World) -> (debrief_core::Postmortem, Vec<debrief_core::ActionItem>) {
    let pm = w
        .store
        .create_postmortem(
            "Bo Chen",
            PostmortemFields::new("Queue backlog".parse().expect("t"), Severity::default()),
        )
        .await
        .expect("pm");
    let mut lead = ParticipantFields::new("Bo Chen".parse().expect("name"), Role::IncidentLead);
    lead.contact = Some("bo@example.com".parse().expect("contact"));
    w.store
        .add_participant("Bo Chen", pm.key, lead)
        .await
        .expect("lead");
    let mut actions = Vec::new();
    for (title, owner, offset) in [
        ("Alert on queue depth", "Ana Lima", 0),
        ("Add a one-click revert", "team:platform", 3),
    ] {
        actions.push(
            w.store
                .add_action(
                    "Bo Chen",
                    pm.key,
                    ActionFields::new(
                        title.parse().expect("title"),
                        Question::Detect,
                        owner.parse().expect("owner"),
                        day(w.base, offset),
                    ),
                )
                .await
                .expect("action"),
        );
    }
    (pm, actions)
}

fn verify_signature(r: &Received) {
    let timestamp = r.header("x-debrief-timestamp");
    assert!(!timestamp.is_empty(), "no timestamp: {:?}", r.headers);
    let mut signed = timestamp.as_bytes().to_vec();
    signed.push(b'.');
    signed.extend_from_slice(&r.body);
    let expected = format!(
        "sha256={}",
        hex(&debrief_server::hooks::hmac_sha256(
            SECRET.as_bytes(),
            &signed
        ))
    );
    assert_eq!(r.header("x-debrief-signature"), expected);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn reminders_reach_email_slack_and_a_signed_webhook_once() {
    let Some(w) = world(DigestSchedule {
        day: DigestDay::Off,
        hour: 9,
    })
    .await
    else {
        return;
    };
    let (pm, actions) = postmortem(&w).await;

    // Two days before Ana's check-in: her reminder goes to her address, and to the webhook for
    // everyone; not to the platform team's room or address (not their action).
    w.clock.set(noon(day(w.base, -2)));
    assert_eq!(scan_once(&w.app).await.expect("scan").enqueued, 1);
    let run = drain(&w.app).await;
    assert_eq!(
        (run.planned, run.delivered, run.failed),
        (1, 2, 0),
        "{run:?}"
    );
    let mail = w.smtp.messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    let m = &mail[0];
    assert_eq!(m["rcpt_tos"], serde_json::json!(["ana@example.com"]));
    assert_eq!(m["to"], "Ana Lima <ana@example.com>");
    assert_eq!(m["from"], "Debrief <debrief@example.com>");
    assert!(
        m["subject"]
            .as_str()
            .expect("subject")
            .contains(&format!("Check-in on {}", w.base)),
        "{m}"
    );
    let body = m["body"].as_str().expect("body");
    assert!(body.contains("Alert on queue depth"), "{body}");
    assert!(
        body.contains(&format!("https://debrief.example/pm/{}", pm.key)),
        "{body}"
    );
    assert!(
        m["message_id"]
            .as_str()
            .expect("id")
            .ends_with("@example.com>"),
        "{m}"
    );

    let hooks = received(&w.log, "/hook");
    assert_eq!(hooks.len(), 1);
    let h = &hooks[0];
    verify_signature(h);
    let json = h.json();
    assert_eq!(json["event"], "reminder.before");
    assert_eq!(json["topic"], "reminders");
    assert_eq!(json["postmortem"], pm.key.to_string());
    assert_eq!(json["action"], actions[0].id.0);
    assert_eq!(json["details"]["action"]["owner"], "Ana Lima");
    assert_eq!(
        h.header("x-debrief-delivery"),
        json["id"].as_str().expect("id")
    );
    assert_eq!(h.header("content-type"), "application/json");
    assert!(received(&w.log, "/slack").is_empty());

    // The team's action: its room and its address get it; the webhook too.
    w.clock.set(noon(day(w.base, 1)));
    scan_once(&w.app).await.expect("scan");
    let run = drain(&w.app).await;
    assert_eq!(run.failed, 0, "{run:?}");
    let slack = received(&w.log, "/slack");
    assert_eq!(slack.len(), 1);
    let text = slack[0].json()["text"].as_str().expect("text").to_owned();
    assert!(text.contains("Add a one-click revert"), "{text}");
    assert!(
        text.contains(&format!(
            "<https://debrief.example/pm/{}|Open {}>",
            pm.key, pm.key
        )),
        "{text}"
    );
    assert!(slack[0].headers.get("x-debrief-signature").is_none());
    let to_team: Vec<_> = w
        .smtp
        .messages()
        .into_iter()
        .filter(|m| m["rcpt_tos"] == serde_json::json!(["platform@example.com"]))
        .collect();
    assert_eq!(to_team.len(), 1);
    // Ana's check-in passed without progress (the day after): reminded again, by email.
    let ana_mail: Vec<_> = w
        .smtp
        .messages()
        .into_iter()
        .filter(|m| m["rcpt_tos"] == serde_json::json!(["ana@example.com"]))
        .collect();
    assert_eq!(ana_mail.len(), 2, "{ana_mail:?}");

    // Nothing is sent twice, however often the scan and the worker run.
    let (mails, requests) = (w.smtp.messages().len(), w.log.lock().expect("log").len());
    for _ in 0..3 {
        scan_once(&w.app).await.expect("scan");
        drain(&w.app).await;
    }
    assert_eq!(w.smtp.messages().len(), mails);
    assert_eq!(w.log.lock().expect("log").len(), requests);

    // Bo (the lead) chose only the digest: the escalation after the grace period reaches the
    // webhook, not his inbox.
    w.clock.set(noon(day(w.base, 4)));
    scan_once(&w.app).await.expect("scan");
    drain(&w.app).await;
    let bo_mail = w
        .smtp
        .messages()
        .into_iter()
        .filter(|m| m["rcpt_tos"] == serde_json::json!(["bo@example.com"]))
        .count();
    assert_eq!(bo_mail, 0);
    assert!(
        received(&w.log, "/hook")
            .iter()
            .any(|r| r.json()["event"] == "reminder.escalate"),
        "no escalation on the webhook"
    );
}

#[tokio::test]
async fn an_unreachable_channel_is_retried_then_parked_and_nothing_else_is_resent() {
    let Some(w) = world(DigestSchedule {
        day: DigestDay::Off,
        hour: 9,
    })
    .await
    else {
        return;
    };
    // The webhook's receiver is down (503), the SMTP server of a second mail channel is gone.
    let mut channels = w.store.list_channels().await.expect("list");
    let hook = channels
        .iter_mut()
        .find(|c| c.fields.name.as_str() == "all-webhook")
        .expect("hook");
    let mut down = hook.fields.clone();
    down.target = ChannelTarget::Webhook {
        url: format!("http://{}/down", w.http).parse().expect("url"),
        secret: SECRET.into(),
    };
    w.store
        .update_channel(hook.id, hook.version, down, Timestamp::now())
        .await
        .expect("update");
    let (_pm, _actions) = postmortem(&w).await;

    w.clock.set(noon(day(w.base, -2)));
    scan_once(&w.app).await.expect("scan");
    let run = drain(&w.app).await;
    assert_eq!((run.delivered, run.failed), (1, 1), "{run:?}");
    assert_eq!(w.smtp.messages().len(), 1);
    let failing = w
        .store
        .list_jobs(&JobFilter {
            failing: true,
            ..JobFilter::default()
        })
        .await
        .expect("jobs");
    assert_eq!(failing.len(), 1);
    let error = failing[0].last_error.clone().expect("error");
    assert!(error.contains("all-webhook"), "{error}");
    assert!(error.contains("503"), "{error}");
    assert!(!error.contains(SECRET));

    // Retried with backoff until its attempts run out, then parked; the email is never resent.
    for _ in 0..12 {
        w.clock.advance(SignedDuration::from_hours(2));
        drain(&w.app).await;
    }
    let parked = w
        .store
        .list_jobs(&JobFilter {
            states: vec![JobState::Parked],
            ..JobFilter::default()
        })
        .await
        .expect("jobs");
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0].attempts > 1);
    assert_eq!(w.smtp.messages().len(), 1);
    let tries = received(&w.log, "/down");
    assert_eq!(tries.len() as u32, parked[0].attempts);
    // Every attempt carried the same delivery id, so a receiver could drop repeats.
    let ids: std::collections::BTreeSet<&str> = tries
        .iter()
        .map(|r| r.header("x-debrief-delivery"))
        .collect();
    assert_eq!(ids.len(), 1);

    // An SMTP server that is not there: the error names it.
    let mut mail = w
        .store
        .list_channels()
        .await
        .expect("list")
        .into_iter()
        .find(|c| c.fields.name.as_str() == "mail")
        .expect("mail");
    if let ChannelTarget::Email(smtp) = &mut mail.fields.target {
        smtp.port = free_port();
    }
    let result = debrief_server::api::notify::test_send(
        &w.app,
        &mail,
        Some("ana@example.com".into()),
        "test",
    )
    .await;
    let why = result.expect_err("nothing listens there");
    assert!(why.contains("127.0.0.1"), "{why}");
}

#[tokio::test]
async fn the_weekly_digest_goes_to_teams_and_to_people_who_chose_it() {
    let Some(w) = world(DigestSchedule::default()).await else {
        return;
    };
    let (_pm, actions) = postmortem(&w).await;
    // Bo (by his email address) owns an action due two days after the digest's Monday; Ana's
    // is overdue by then.
    w.store
        .add_action(
            "Bo Chen",
            actions[0].postmortem,
            ActionFields::new(
                "Write the runbook".parse().expect("title"),
                Question::React,
                "bo@example.com".parse().expect("owner"),
                day(w.base, 9),
            ),
        )
        .await
        .expect("action");

    // The Monday a week after Ana's check-in, at 09:30: the digest is due.
    let monday = day(w.base, 7);
    w.clock.set(
        monday
            .at(9, 30, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp(),
    );
    // Reminders due that day are not the point here: count only digests.
    scan_once(&w.app).await.expect("scan");
    drain(&w.app).await;
    let digests: Vec<Value> = w
        .smtp
        .messages()
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("weekly digest"))
        })
        .collect();
    let to = |m: &Value| m["rcpt_tos"][0].as_str().unwrap_or_default().to_owned();
    let mut recipients: Vec<String> = digests.iter().map(to).collect();
    recipients.sort();
    // Ana (everything) and Bo (digest only) each get theirs; the platform team its own.
    assert_eq!(
        recipients,
        vec!["ana@example.com", "bo@example.com", "platform@example.com"],
        "{digests:?}"
    );
    let bo = digests
        .iter()
        .find(|m| to(m) == "bo@example.com")
        .expect("bo's digest");
    let bo_body = bo["body"].as_str().expect("body");
    assert!(bo_body.contains("Due in the next 7 days (1)"), "{bo_body}");
    assert!(bo_body.contains("Write the runbook"), "{bo_body}");
    let ana = digests
        .iter()
        .find(|m| to(m) == "ana@example.com")
        .expect("ana's digest");
    let body = ana["body"].as_str().expect("body");
    assert!(body.contains("Overdue (1)"), "{body}");
    assert!(body.contains("Alert on queue depth"), "{body}");
    assert!(!body.contains("one-click revert"), "{body}");
    let slack = received(&w.log, "/slack");
    assert!(
        slack.iter().any(|r| r.json()["text"]
            .as_str()
            .is_some_and(|t| t.contains("weekly digest") && t.contains("one-click revert"))),
        "{slack:?}"
    );
    let hook = received(&w.log, "/hook");
    let every_team = hook
        .iter()
        .find(|r| r.json()["event"] == "digest")
        .expect("the webhook's digest");
    verify_signature(every_team);
    assert_eq!(
        every_team.json()["details"]["overdue"][0]["title"],
        "Alert on queue depth"
    );

    // Once a week: later that week nothing more goes out.
    let count = w.smtp.messages().len() + w.log.lock().expect("log").len();
    w.clock.advance(SignedDuration::from_hours(30));
    scan_once(&w.app).await.expect("scan");
    drain(&w.app).await;
    let digests_after = w
        .smtp
        .messages()
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("weekly digest"))
        })
        .count();
    assert_eq!(digests_after, digests.len());
    assert!(w.smtp.messages().len() + w.log.lock().expect("log").len() >= count);
}

/// Runs `openssl` with `args` (split at spaces) in `dir`; false when it is not installed (the test
/// is skipped, but not in CI, which installs it).
fn openssl(dir: &TempDir, args: &str) -> bool {
    let args: Vec<&str> = args.split_whitespace().collect();
    match Command::new("openssl")
        .args(&args)
        .current_dir(&dir.0)
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("openssl must be installed in CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping: cannot run openssl ({e})");
            false
        }
    }
}

/// A mail relay inside a company's network: STARTTLS required, its certificate signed by the
/// company's own certificate authority. Without that CA the send fails and says why; with it
/// (`--ca-file`, `Config::ca`) the email arrives.
#[tokio::test]
async fn starttls_to_a_relay_signed_by_a_private_ca() {
    let dir = TempDir::new();
    // A CA, and a certificate for "localhost" signed by it.
    const EC: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::fs::write(
        dir.0.join("relay.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    let made = openssl(
        &dir,
        &format!(
            "req -x509 {EC} -keyout ca.key -out ca.pem -days 2 -subj /CN=Example-Corp-CA \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
        ),
    ) && openssl(
        &dir,
        &format!("req {EC} -keyout relay.key -out relay.csr -subj /CN=localhost"),
    ) && openssl(
        &dir,
        "x509 -req -in relay.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out relay.pem \
         -days 2 -extfile relay.ext",
    );
    if !made {
        return;
    }
    let Some(smtp) = Smtp::start_with(&dir, &[&dir.0.join("relay.pem"), &dir.0.join("relay.key")])
    else {
        return;
    };

    let channel = debrief_core::notify::Channel {
        id: debrief_core::notify::ChannelId(1),
        version: debrief_core::Version(1),
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
        fields: ChannelFields {
            name: "relay".parse().expect("name"),
            target: ChannelTarget::Email(SmtpSettings {
                host: "localhost".into(),
                port: smtp.port,
                security: SmtpSecurity::StartTls,
                username: None,
                password: None,
                from: "Debrief <debrief@example.com>".into(),
                to: vec![],
            }),
            topics: Topics::all(),
            owners: vec![],
            enabled: true,
        },
    };
    let message = debrief_server::notify::Outgoing {
        id: "test:relay".into(),
        topic: debrief_core::notify::Topic::Reminders,
        event: "test".into(),
        subject: "A test through the relay".into(),
        body: "It arrived over STARTTLS.".into(),
        link: None,
        to_name: None,
        postmortem: None,
        action: None,
        details: Value::Null,
    };
    use debrief_server::notify::{ChannelSender, Deliver, TrustedRoots};
    let send = |roots: TrustedRoots| {
        let (channel, message) = (&channel, &message);
        async move {
            ChannelSender::new(&roots)
                .send(channel, Some("ana@example.com"), message, Timestamp::now())
                .await
        }
    };

    // The public roots alone do not know the company's CA: refused, and nothing arrives.
    let err = send(TrustedRoots::default())
        .await
        .expect_err("an unknown CA is refused");
    assert!(
        err.contains("UnknownIssuer") && err.contains("--ca-file"),
        "{err}"
    );
    assert!(smtp.messages().is_empty());

    // Trusting it, the email goes out over STARTTLS.
    let pem = std::fs::read(dir.0.join("ca.pem")).expect("ca.pem");
    send(TrustedRoots::from_pem(&pem).expect("the CA file"))
        .await
        .expect("sent over STARTTLS");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["subject"], "A test through the relay");
    assert_eq!(messages[0]["rcpt_tos"][0], "ana@example.com");

    // A file that is not a certificate is refused when it is read, saying so.
    assert!(TrustedRoots::from_pem(b"not a certificate").is_err());
    let key = std::fs::read(dir.0.join("relay.key")).expect("key");
    assert!(TrustedRoots::from_pem(&key).is_err());
}
