//! A real Prometheus Alertmanager sending its webhook to a real `debrief serve`, both on loopback:
//! alerts posted to Alertmanager's own API must open a draft postmortem with the alert's start
//! time, and the alert's resolution must set the resolved key moment.
//!
//! Needs Debian's `prometheus-alertmanager` (`.ci/run` installs it). Without it the test is
//! skipped with a note, unless `CI=true`, where that is a failure.

mod support;

use jiff::Timestamp;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

use support::{Running, TempDir, ada_with_token, free_port, http, wait_for};

const SECRET: &str = "alertmanager-test-secret-5f2c";

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
    let created = ada_with_token(&db, "admin", "read");
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
