//! A real Prometheus Alertmanager sending its webhook to a real `debrief serve`, both on loopback:
//! alerts posted to Alertmanager's own API must open a draft postmortem with the alert's start
//! time, and the alert's resolution must set the resolved key moment.
//!
//! Needs Debian's `prometheus-alertmanager` (`.ci/run` installs it). Without it the test is
//! skipped with a note, unless `CI=true`, where that is a failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};

const SECRET: &str = "alertmanager-test-secret-5f2c";
const PASSWORD: &str = "a long enough password";
const DEADLINE: Duration = Duration::from_secs(60);

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "debrief-alertmanager-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process that is killed (and reaped) when dropped, even when the test fails.
struct Running {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(name: &'static str, mut command: Command, log: PathBuf) -> Running {
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running { name, child, log }
    }

    /// What it printed so far, for failure messages.
    fn output(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("--- {} output ---\n{text}", self.name)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Alertmanager binary, if installed.
fn alertmanager_binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("prometheus-alertmanager"));
    candidates.into_iter().find(|p| p.is_file())
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A minimal HTTP/1.1 exchange (one request per connection): status and body.
fn http(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `check` until it gives a value or the deadline passes.
fn wait_for<T>(
    what: &str,
    context: &dyn Fn() -> String,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out after {DEADLINE:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs the debrief binary against `db` and returns its standard output.
fn debrief(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .env_remove("DEBRIEF_DATABASE_URL")
        .env_remove("DEBRIEF_USER")
        .env("DEBRIEF_PASSWORD", PASSWORD)
        .args(["--database", db, "--zone", "UTC"])
        .args(args)
        .output()
        .expect("run debrief");
    assert!(
        out.status.success(),
        "debrief {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn instant(v: &Value) -> Option<Timestamp> {
    v["at"].as_str()?.parse().ok()
}

/// RFC 3339 to the second, as Alertmanager's API takes it.
fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[test]
fn alertmanager_opens_a_draft_and_resolves_it() {
    let Some(binary) = alertmanager_binary() else {
        let message =
            "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}: the Alertmanager test must run in CI");
        }
        eprintln!("skipping the Alertmanager test: {message}");
        return;
    };
    let dir = TempDir::new();
    let db = format!("sqlite://{}", dir.path("debrief.db").display());

    // An admin and a read token, as a person setting Debrief up would make them.
    debrief(
        &db,
        &[
            "user",
            "add",
            "Ada Admin",
            "--email",
            "ada@example.com",
            "--role",
            "admin",
        ],
    );
    let created: Value = serde_json::from_str(&debrief(
        &db,
        &[
            "token",
            "create",
            "--user",
            "ada@example.com",
            "--name",
            "am-test",
            "--scope",
            "read",
            "--json",
        ],
    ))
    .expect("token JSON");
    let token = created["token"].as_str().expect("token").to_owned();
    let bearer = format!("Bearer {token}");

    // Debrief, with the Alertmanager hook enabled.
    let debrief_port = free_port();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_debrief"));
    serve
        .env_remove("DEBRIEF_DATABASE_URL")
        .env_remove("DEBRIEF_OPEN_DRAFT_ON")
        .env("DEBRIEF_HOOK_SECRETS", format!("alertmanager={SECRET}"))
        .args(["--database", &db, "--zone", "UTC", "serve", "--addr"])
        .arg(format!("127.0.0.1:{debrief_port}"));
    let debrief_proc = Running::start("debrief serve", serve, dir.path("debrief.log"));
    wait_for(
        "debrief to answer /healthz",
        &|| debrief_proc.output(),
        || {
            http("GET", debrief_port, "/healthz", &[], None)
                .ok()
                .filter(|(s, _)| *s == 200)
        },
    );

    // Alertmanager, sending every group to Debrief's hook with the secret as a bearer token.
    let am_port = free_port();
    let config = format!(
        r#"route:
  receiver: debrief
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: debrief
    webhook_configs:
      - url: http://127.0.0.1:{debrief_port}/api/v1/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {SECRET}
"#
    );
    std::fs::write(dir.path("alertmanager.yml"), config).expect("config");
    std::fs::create_dir_all(dir.path("am-data")).expect("storage");
    let mut am = Command::new(&binary);
    am.arg(format!(
        "--config.file={}",
        dir.path("alertmanager.yml").display()
    ))
    .arg(format!("--storage.path={}", dir.path("am-data").display()))
    .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
    .arg("--cluster.listen-address=");
    let am_proc = Running::start("alertmanager", am, dir.path("alertmanager.log"));
    let logs = || format!("{}\n{}", debrief_proc.output(), am_proc.output());
    wait_for("Alertmanager to be ready", &logs, || {
        http("GET", am_port, "/-/ready", &[], None)
            .ok()
            .filter(|(s, _)| *s == 200)
    });

    // A critical alert that started two minutes ago.
    let started = Timestamp::now() - jiff::SignedDuration::from_secs(120);
    let started = Timestamp::from_second(started.as_second()).expect("second");
    let labels = json!({
        "alertname": "CheckoutErrors", "severity": "critical", "service": "checkout",
        "instance": "web-1"
    });
    let annotations = json!({ "summary": "Checkout error rate above 5%" });
    let firing =
        json!([{ "labels": labels, "annotations": annotations, "startsAt": rfc3339(started) }]);
    let (status, body) = http(
        "POST",
        am_port,
        "/api/v2/alerts",
        &[],
        Some(&firing.to_string()),
    )
    .expect("post alert");
    assert_eq!(
        status,
        200,
        "Alertmanager refused the alert: {body}\n{}",
        logs()
    );

    let auth = [("Authorization", bearer.as_str())];
    let pm: Value = wait_for("the draft postmortem", &logs, || {
        let (status, body) =
            http("GET", debrief_port, "/api/v1/postmortems/PM-1", &auth, None).ok()?;
        (status == 200)
            .then(|| serde_json::from_str(&body).ok())
            .flatten()
    });
    assert_eq!(pm["status"], "draft", "{pm}");
    assert_eq!(pm["title"], "Checkout error rate above 5%", "{pm}");
    assert_eq!(pm["severity"], "SEV1", "{pm}");
    assert_eq!(pm["services"], json!(["checkout"]), "{pm}");
    assert_eq!(
        instant(&pm["key_moments"]["started"]),
        Some(started),
        "the started key moment is the alert's startsAt: {pm}"
    );
    let events: Value = wait_for("the alert's event", &logs, || {
        let (status, body) = http(
            "GET",
            debrief_port,
            "/api/v1/postmortems/PM-1/events",
            &auth,
            None,
        )
        .ok()?;
        let events: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && events.as_array().is_some_and(|a| !a.is_empty())).then_some(events)
    });
    let first = &events[0];
    assert_eq!(first["source"], "alertmanager", "{events}");
    assert_eq!(first["kind"], "alert", "{events}");
    assert_eq!(instant(&first["happened_at"]), Some(started), "{events}");

    // The same alert again, ended ten seconds ago: Alertmanager resolves it and says so.
    let ended = Timestamp::now() - jiff::SignedDuration::from_secs(10);
    let ended = Timestamp::from_second(ended.as_second()).expect("second");
    let resolved = json!([{
        "labels": labels, "annotations": annotations,
        "startsAt": rfc3339(started), "endsAt": rfc3339(ended)
    }]);
    let (status, body) = http(
        "POST",
        am_port,
        "/api/v2/alerts",
        &[],
        Some(&resolved.to_string()),
    )
    .expect("post resolution");
    assert_eq!(
        status,
        200,
        "Alertmanager refused the resolution: {body}\n{}",
        logs()
    );
    let pm: Value = wait_for("the resolved key moment", &logs, || {
        let (status, body) =
            http("GET", debrief_port, "/api/v1/postmortems/PM-1", &auth, None).ok()?;
        let pm: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && pm["key_moments"]["resolved"].is_object()).then_some(pm)
    });
    assert_eq!(instant(&pm["key_moments"]["resolved"]), Some(ended), "{pm}");
    assert_eq!(
        instant(&pm["key_moments"]["started"]),
        Some(started),
        "{pm}"
    );
    let (_, body) = http(
        "GET",
        debrief_port,
        "/api/v1/postmortems/PM-1/events",
        &auth,
        None,
    )
    .expect("events");
    let events: Value = serde_json::from_str(&body).expect("events JSON");
    let events = events.as_array().expect("array");
    assert_eq!(events.len(), 2, "one firing and one resolution: {events:?}");
    let milestone = events
        .iter()
        .find(|e| e["milestone"] == "resolved")
        .unwrap_or_else(|| panic!("no resolved milestone: {events:?}"));
    assert_eq!(instant(&milestone["happened_at"]), Some(ended));

    // Only one postmortem: Alertmanager's retries and repeats added nothing.
    let (_, body) = http("GET", debrief_port, "/api/v1/postmortems", &auth, None).expect("list");
    let list: Value = serde_json::from_str(&body).expect("list JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    // Both processes are stopped here (and by their guards when an assertion above fails).
    drop(am_proc);
    drop(debrief_proc);
}
