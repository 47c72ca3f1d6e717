//! Follow-through: the reminder scan and the job worker, driven by a manual clock (no sleeping),
//! and the proof that two instances on one database deliver every reminder exactly once —
//! on PostgreSQL (two stores on one database) and on SQLite (two stores on one file).
//!
//! PostgreSQL tests create their own database on the server named by `DEBRIEF_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) and drop it afterwards; without a
//! reachable server they are skipped, unless `CI=true`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use debrief_core::followthrough::DigestDay;
use debrief_core::followup::{FollowupConfig, action_reminders, review_reminder};
use debrief_core::notify::{
    Channel, ChannelFields, ChannelTarget, SmtpSecurity, SmtpSettings, Topics,
};
use debrief_core::{
    ActionFields, ActionItem, ActionStatus, Moment, ParticipantFields, PostmortemFields,
    ProgressUpdate, Question, Role, Severity, Zone,
};
use debrief_server::jobs::{self, Deliver, Outgoing, RunOutcome, run_once, scan_once};
use debrief_server::{AppState, Clock, Config};
use debrief_store::{DynStore, JobFilter, JobState};
use debrief_store_postgres::{PgConnectOptions, PostgresStore};
use debrief_store_sqlite::SqliteStore;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    fn at(t: Timestamp) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(t)))
    }
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

/// One message as the recorder saw it.
#[derive(Debug, Clone)]
struct Sent {
    id: String,
    event: String,
    channel: String,
    /// The address, for email.
    to: Option<String>,
    to_name: Option<String>,
    subject: String,
    body: String,
    action: Option<debrief_core::ActionId>,
}

/// Records every send; fails the first `fail_first` of them.
#[derive(Debug, Default)]
struct Recorder {
    sent: Mutex<Vec<Sent>>,
    fail_first: AtomicUsize,
}

impl Recorder {
    fn failing(n: usize) -> Arc<Recorder> {
        let r = Recorder::default();
        r.fail_first.store(n, Ordering::SeqCst);
        Arc::new(r)
    }
    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("sent").clone()
    }
    /// Sends per (notification, channel, address).
    fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for n in self.sent() {
            let key = format!("{} {} {}", n.id, n.channel, n.to.unwrap_or_default());
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    }
}

#[async_trait]
impl Deliver for Recorder {
    async fn send(
        &self,
        channel: &Channel,
        to: Option<&str>,
        n: &Outgoing,
        _now: Timestamp,
    ) -> Result<(), String> {
        let failing = self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok();
        if failing {
            return Err("smtp: connection refused".into());
        }
        self.sent.lock().expect("sent").push(Sent {
            id: n.id.clone(),
            event: n.event.clone(),
            channel: channel.fields.name.to_string(),
            to: to.map(str::to_owned),
            to_name: n.to_name.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            action: n.action,
        });
        Ok(())
    }
}

/// Runs the worker until nothing is due.
async fn drain(app: &AppState, worker: &str) -> RunOutcome {
    jobs::drain(app, worker).await.expect("run")
}

/// An email channel (each person at their address) and a team room carrying everything; the
/// recorder stands in for both.
async fn channels(store: &DynStore) {
    let email = ChannelFields {
        name: "mail".parse().expect("name"),
        target: ChannelTarget::Email(SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            from: "Debrief <debrief@example.com>".into(),
            to: vec![],
        }),
        topics: Topics::all(),
        owners: vec![],
        enabled: true,
    };
    let room = ChannelFields {
        name: "room".parse().expect("name"),
        target: ChannelTarget::Webhook {
            url: "http://127.0.0.1:9/hook".parse().expect("url"),
            secret: "a secret of some length".into(),
        },
        topics: Topics::all(),
        owners: vec![],
        enabled: true,
    };
    for c in [email, room] {
        store
            .create_channel(c, Timestamp::now())
            .await
            .expect("channel");
    }
}

/// The default configuration without the weekly digest (tested on its own).
fn no_digest() -> Config {
    let mut c = Config::default();
    c.followup.digest.day = DigestDay::Off;
    c
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "debrief-followup-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("debrief.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn state(store: DynStore, clock: Arc<ManualClock>, deliver: Arc<Recorder>) -> AppState {
    AppState::new(store, no_digest(), clock).with_deliver(deliver)
}

/// Noon UTC on `day`.
fn noon(day: Date) -> Timestamp {
    day.at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("zoned")
        .timestamp()
}

/// A day a month from now: stored records are created at the real time, reminders run later.
fn base_day() -> Date {
    Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(30.days())
        .expect("date")
}

fn day(base: Date, offset: i32) -> Date {
    base.checked_add(offset.days()).expect("date")
}

fn action(title: &str, owner: &str, check_in: Date) -> ActionFields {
    ActionFields::new(
        title.parse().expect("title"),
        Question::Prevent,
        owner.parse().expect("owner"),
        check_in,
    )
}

fn participant(name: &str, role: Role, contact: &str) -> ParticipantFields {
    let mut p = ParticipantFields::new(name.parse().expect("name"), role);
    p.contact = Some(contact.parse().expect("contact"));
    p
}

fn resolved_postmortem(title: &str, resolved: Timestamp) -> PostmortemFields {
    let mut f = PostmortemFields::new(title.parse().expect("title"), Severity::default());
    let text = resolved
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    f.key_moments.resolved = Some(Moment::parse(&text, &Zone::utc()).expect("moment"));
    f
}

#[tokio::test]
async fn an_action_is_reminded_once_per_step_and_the_lead_is_told() {
    let dir = TempDir::new();
    let store: DynStore = Arc::new(SqliteStore::open(&dir.db()).await.expect("store"));
    let base = base_day();
    let clock = ManualClock::at(noon(day(base, -10)));
    let recorder = Arc::new(Recorder::default());
    let app = state(store.clone(), clock.clone(), recorder.clone());
    channels(&store).await;

    let pm = store
        .create_postmortem(
            "cy",
            PostmortemFields::new("Queue backlog".parse().expect("t"), Severity::default()),
        )
        .await
        .expect("pm");
    store
        .add_participant(
            "cy",
            pm.key,
            participant("Bo", Role::IncidentLead, "bo@example.com"),
        )
        .await
        .expect("lead");
    store
        .add_participant(
            "cy",
            pm.key,
            participant("Grace Hopper", Role::Responder, "grace@example.com"),
        )
        .await
        .expect("owner");
    let quiet = store
        .add_action(
            "cy",
            pm.key,
            action("Alert on queue depth", "Grace Hopper", base),
        )
        .await
        .expect("action");
    let reported = store
        .add_action("cy", pm.key, action("Load-test the consumer", "Ada", base))
        .await
        .expect("action");

    // Ten days before: nothing is due.
    assert_eq!(scan_once(&app).await.expect("scan").due, 0);
    assert_eq!(run_once(&app, "w1").await.expect("run").claimed, 0);

    // Two days before: each owner is reminded, once however often the scan runs.
    clock.set(noon(day(base, -2)));
    let scan = scan_once(&app).await.expect("scan");
    assert_eq!((scan.actions, scan.due, scan.enqueued), (2, 2, 2));
    assert_eq!(scan_once(&app).await.expect("scan").enqueued, 0);
    // Each reminder becomes its sends: Grace by email (her participant contact) and in the
    // room; Ada, who has no address, in the room only.
    let run = drain(&app, "w1").await;
    assert_eq!((run.planned, run.delivered), (2, 3));
    let sent = recorder.sent();
    let grace = sent
        .iter()
        .find(|n| n.action == Some(quiet.id) && n.to.is_some())
        .expect("grace's email");
    assert_eq!(grace.event, "reminder.before");
    assert_eq!(grace.to_name.as_deref(), Some("Grace Hopper"));
    assert_eq!(grace.to.as_deref(), Some("grace@example.com"));
    assert_eq!(grace.id, format!("remind:before:{}:{base}", quiet.id.0));
    assert!(
        sent.iter()
            .any(|n| n.action == Some(reported.id) && n.channel == "room" && n.to.is_none())
    );
    assert!(
        grace.subject.contains(&format!("Check-in on {base}")),
        "{}",
        grace.subject
    );
    // The next day the same reminder is not sent again.
    clock.set(noon(day(base, -1)));
    assert_eq!(scan_once(&app).await.expect("scan").enqueued, 0);

    // Ada reports progress on the check-in day; Grace does not.
    clock.set(noon(base));
    store
        .add_progress(
            "Ada",
            reported.id,
            ProgressUpdate {
                at: clock.now(),
                author: "Ada".parse().expect("name"),
                note: "first run done, p99 fine".parse().expect("note"),
                new_check_in: None,
            },
        )
        .await
        .expect("progress");

    // The day after: only Grace is reminded that the check-in passed.
    clock.set(noon(day(base, 1)));
    assert_eq!(scan_once(&app).await.expect("scan").enqueued, 1);
    assert_eq!(drain(&app, "w1").await.delivered, 2);
    let last = recorder.sent().pop().expect("sent");
    assert_eq!(
        (last.event.as_str(), last.to_name.as_deref(), last.action),
        ("reminder.overdue", Some("Grace Hopper"), Some(quiet.id))
    );

    // After the grace period the lead is told — the first delivery fails and is retried.
    let flaky = Recorder::failing(1);
    let app = state(store.clone(), clock.clone(), flaky.clone());
    clock.set(noon(day(base, 4)));
    assert_eq!(scan_once(&app).await.expect("scan").enqueued, 1);
    // The lead's email fails once; the room's copy goes out and is not sent again.
    let run = drain(&app, "w1").await;
    assert_eq!((run.planned, run.delivered, run.failed), (1, 1, 1));
    let failing = store
        .list_jobs(&JobFilter {
            failing: true,
            ..JobFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(failing.len(), 1);
    assert_eq!(
        failing[0].last_error.as_deref(),
        Some("channel \"mail\": smtp: connection refused")
    );
    // Not before the backoff (30 s)…
    clock.advance(SignedDuration::from_secs(29));
    assert_eq!(run_once(&app, "w2").await.expect("run").claimed, 0);
    clock.advance(SignedDuration::from_secs(1));
    assert_eq!(drain(&app, "w2").await.delivered, 1);
    let told = flaky.sent().pop().expect("escalation");
    assert_eq!(
        (
            told.event.as_str(),
            told.to_name.as_deref(),
            told.to.as_deref()
        ),
        ("reminder.escalate", Some("Bo"), Some("bo@example.com"))
    );
    assert_eq!(flaky.counts().values().max(), Some(&1));
    assert!(told.body.contains("owned by Grace Hopper"), "{}", told.body);
    assert!(
        store
            .list_jobs(&JobFilter {
                states: vec![JobState::Queued, JobState::Running, JobState::Parked],
                ..JobFilter::default()
            })
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn a_reminder_no_longer_due_is_dropped_and_reviews_are_nudged() {
    let dir = TempDir::new();
    let store: DynStore = Arc::new(SqliteStore::open(&dir.db()).await.expect("store"));
    let base = base_day();
    let clock = ManualClock::at(noon(day(base, -1)));
    let recorder = Arc::new(Recorder::default());
    let app = state(store.clone(), clock.clone(), recorder.clone());
    channels(&store).await;

    // Created by "cy", with no incident lead: cy is told about the review.
    let pm = store
        .create_postmortem(
            "cy",
            resolved_postmortem("Checkout errors", noon(day(base, -9))),
        )
        .await
        .expect("pm");
    let a = store
        .add_action("cy", pm.key, action("Retry budget", "Ada", base))
        .await
        .expect("action");
    let scan = scan_once(&app).await.expect("scan");
    assert_eq!((scan.postmortems, scan.due, scan.enqueued), (1, 2, 2));
    // Done before the worker ran: the reminder is dropped, not sent.
    let mut done = a.fields.clone();
    done.status = ActionStatus::Done;
    store
        .update_action("Ada", a.id, a.version, done)
        .await
        .expect("done");
    let run = drain(&app, "w1").await;
    // cy has no address: the review nudge goes to the room only.
    assert_eq!((run.planned, run.delivered, run.skipped), (1, 1, 1));
    let review = recorder.sent().pop().expect("review");
    assert_eq!(review.event, "reminder.review");
    assert_eq!(review.to_name.as_deref(), Some("cy"));
    assert_eq!(review.id, format!("remind:review:{}", pm.key));
    assert!(review.body.contains("within a week"), "{}", review.body);
    // Once, whatever the scans that follow.
    clock.advance(SignedDuration::from_hours(24));
    assert_eq!(scan_once(&app).await.expect("scan").enqueued, 0);
}

// ---------------------------------------------------------------------------------------------
// Two instances, one database: every reminder exactly once.

/// Seeds postmortems and actions whose reminders fall over `days` days from `base`; returns the
/// keys the pure rules say are due on some day of the run (the test's expectation).
async fn seed(store: &DynStore, base: Date, days: i32) -> BTreeSet<String> {
    let mut expected = BTreeSet::new();
    let config = FollowupConfig::default();
    for p in 0..6 {
        let pm = store
            .create_postmortem(
                "cy",
                resolved_postmortem(&format!("Incident {p}"), noon(day(base, -5 - p))),
            )
            .await
            .expect("pm");
        if p % 2 == 0 {
            store
                .add_participant(
                    "cy",
                    pm.key,
                    participant("Bo", Role::IncidentLead, "bo@example.com"),
                )
                .await
                .expect("lead");
        }
        for i in 0..15 {
            let check_in = day(base, (i * 7 + p) % 20 - 6);
            let a = store
                .add_action(
                    "cy",
                    pm.key,
                    action(&format!("Action {p}.{i}"), "Ada", check_in),
                )
                .await
                .expect("action");
            expected.extend(due_keys(&a, base, days, &config));
        }
        let pm = store.get_postmortem(pm.key).await.expect("pm");
        for d in 0..days {
            for hour in [0, 6, 12, 18] {
                let at = noon(day(base, d))
                    .checked_add(SignedDuration::from_hours(hour - 12))
                    .expect("time");
                if let Some(r) = review_reminder(&pm, at, &config) {
                    expected.insert(r.dedup_key());
                }
            }
        }
    }
    expected
}

fn due_keys(a: &ActionItem, base: Date, days: i32, config: &FollowupConfig) -> Vec<String> {
    (0..days)
        .flat_map(|d| action_reminders(a, day(base, d), config))
        .map(|r| r.dedup_key())
        .collect()
}

/// Both instances scan and work at the same time, four times a day for `days` days.
async fn race(a: AppState, b: AppState, clock: Arc<ManualClock>, base: Date, days: i32) {
    async fn instance(state: AppState, worker: &'static str) {
        for _ in 0..2 {
            scan_once(&state).await.expect("scan");
            while run_once(&state, worker).await.expect("run").claimed > 0 {}
        }
    }
    for d in 0..days {
        for hour in [0, 6, 12, 18] {
            clock.set(
                noon(day(base, d))
                    .checked_add(SignedDuration::from_hours(hour - 12))
                    .expect("time"),
            );
            let one = tokio::spawn(instance(a.clone(), "instance-a"));
            let two = tokio::spawn(instance(b.clone(), "instance-b"));
            one.await.expect("instance a");
            two.await.expect("instance b");
        }
    }
}

async fn exactly_once(a: DynStore, b: DynStore, seed_store: DynStore) {
    let base = base_day();
    let days = 16;
    let expected = seed(&seed_store, base, days).await;
    // One room: every reminder is one send there.
    let room = ChannelFields {
        name: "room".parse().expect("name"),
        target: ChannelTarget::Webhook {
            url: "http://127.0.0.1:9/hook".parse().expect("url"),
            secret: "a secret of some length".into(),
        },
        topics: Topics::all(),
        owners: vec![],
        enabled: true,
    };
    seed_store
        .create_channel(room, Timestamp::now())
        .await
        .expect("channel");
    assert!(expected.len() > 100, "{}", expected.len());
    let clock = ManualClock::at(noon(base));
    let recorder = Arc::new(Recorder::default());
    let config = || Config {
        worker: debrief_server::jobs::WorkerConfig {
            batch: 3,
            ..debrief_server::jobs::WorkerConfig::default()
        },
        ..no_digest()
    };
    let one = AppState::new(a, config(), clock.clone()).with_deliver(recorder.clone());
    let two = AppState::new(b, config(), clock.clone()).with_deliver(recorder.clone());
    race(one, two, clock, base, days).await;
    let counts = recorder.counts();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let delivered: BTreeSet<String> = recorder.sent().into_iter().map(|s| s.id).collect();
    assert_eq!(delivered, expected);
    assert_eq!(counts.len(), expected.len());
    let unfinished = seed_store
        .list_jobs(&JobFilter {
            states: vec![JobState::Queued, JobState::Running, JobState::Parked],
            ..JobFilter::default()
        })
        .await
        .expect("list");
    assert!(unfinished.is_empty(), "{unfinished:?}");
    // Both instances did part of the work.
    let done = seed_store
        .list_jobs(&JobFilter {
            states: vec![JobState::Done],
            limit: Some(5000),
            ..JobFilter::default()
        })
        .await
        .expect("list");
    // A notify job and a send job per reminder.
    assert_eq!(done.len(), 2 * expected.len());
    let by = |w: &str| {
        done.iter()
            .filter(|j| j.leased_by.as_deref() == Some(w))
            .count()
    };
    let (by_a, by_b) = (by("instance-a"), by("instance-b"));
    assert!(by_a > 0 && by_b > 0, "a: {by_a}, b: {by_b}");
    println!(
        "{} reminders, each delivered once (instance a ran {by_a}, b {by_b})",
        delivered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_sqlite_file_send_each_reminder_once() {
    let dir = TempDir::new();
    let a: DynStore = Arc::new(SqliteStore::open(&dir.db()).await.expect("store a"));
    let b: DynStore = Arc::new(SqliteStore::open(&dir.db()).await.expect("store b"));
    exactly_once(a.clone(), b, a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_database_send_each_reminder_once() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let a: DynStore = Arc::new(
        PostgresStore::connect_with(db.options.clone())
            .await
            .expect("store a"),
    );
    let b: DynStore = Arc::new(
        PostgresStore::connect_with(db.options.clone())
            .await
            .expect("store b"),
    );
    exactly_once(a.clone(), b, a).await;
}

/// A fresh PostgreSQL database, dropped at the end.
struct TestDb {
    admin: PgConnectOptions,
    options: PgConnectOptions,
    name: String,
}

impl TestDb {
    async fn new() -> Option<TestDb> {
        let url = std::env::var("DEBRIEF_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let admin: PgConnectOptions = url.parse().expect("DEBRIEF_TEST_POSTGRES_URL");
        let mut conn = match PgConnection::connect_with(&admin).await {
            Ok(c) => c,
            Err(e) => {
                let message =
                    format!("PostgreSQL is not reachable ({e}); set DEBRIEF_TEST_POSTGRES_URL");
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{message}");
                }
                eprintln!("skipping: {message}");
                return None;
            }
        };
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "debrief_followup_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let _ = conn.close().await;
        Some(TestDb {
            options: admin.clone().database(&name),
            admin,
            name,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
