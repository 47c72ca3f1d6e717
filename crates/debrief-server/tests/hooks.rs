//! The webhooks over real HTTP against a real server (SQLite in a temporary directory, random
//! loopback port), with small payloads written here: authentication, drafts opened by the rule,
//! grouping, idempotent re-delivery, the resolved milestone, and refused payloads.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use debrief_core::{EventKind, Key, KeyMoment, Status};
use debrief_server::hooks::hmac_sha256;
use debrief_server::state::{DraftRule, HookConfig, HookSource, LabelMatcher};
use debrief_server::{AppState, Config, SystemClock};
use debrief_store::{EventQuery, PostmortemFilter};
use debrief_store_sqlite::SqliteStore;
use jiff::Timestamp;
use serde_json::{Value, json};

const AM_SECRET: &str = "am-secret-0123456789";
const GH_SECRET: &str = "gh-secret-0123456789";
const PD_SECRET: &str = "pd-secret-0123456789";
const GENERIC_SECRET: &str = "generic-secret-0123456789";

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "debrief-hooks-{}-{}",
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

struct App {
    base: String,
    state: AppState,
    _dir: TempDir,
}

impl App {
    /// A server with the alertmanager, github, pagerduty and generic hooks enabled.
    async fn start() -> App {
        App::start_with_rule(DraftRule::default()).await
    }

    async fn start_with_rule(rule: DraftRule) -> App {
        let hooks = HookConfig::new(Vec::new(), rule)
            .expect("config")
            .with_secret(HookSource::Alertmanager, AM_SECRET)
            .with_secret(HookSource::GitHub, GH_SECRET)
            .with_secret(HookSource::PagerDuty, PD_SECRET)
            .with_secret(HookSource::Generic, GENERIC_SECRET);
        App::start_with(Config {
            hooks,
            ..Config::default()
        })
        .await
    }

    async fn start_with(config: Config) -> App {
        let dir = TempDir::new();
        let store = SqliteStore::open(&dir.0.join("debrief.db"))
            .await
            .expect("open store");
        let state = AppState::new(Arc::new(store), config, Arc::new(SystemClock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = debrief_server::app(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        App {
            base: format!("http://{addr}"),
            state,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts `body` to a hook with a bearer secret; returns the status and the JSON answer.
    async fn post(&self, hook: &str, secret: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .post(self.url(&format!("/api/v1/hooks/{hook}")))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(s) = secret {
            req = req.bearer_auth(s);
        }
        answer(req).await
    }

    async fn alertmanager(&self, body: &Value) -> (u16, Value) {
        self.post("alertmanager", Some(AM_SECRET), &body.to_string())
            .await
    }

    async fn postmortem_count(&self) -> usize {
        self.state
            .store()
            .list_postmortems(&PostmortemFilter::default())
            .await
            .expect("list")
            .len()
    }
}

async fn answer(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// One Alertmanager alert.
fn alert(name: &str, instance: &str, severity: &str, starts: &str, ends: Option<&str>) -> Value {
    json!({
        "status": if ends.is_some() { "resolved" } else { "firing" },
        "labels": {
            "alertname": name, "instance": instance, "severity": severity, "service": "Checkout API"
        },
        "annotations": { "summary": format!("{name} on {instance}"), "description": "Errors above 5%" },
        "startsAt": starts,
        "endsAt": ends.unwrap_or("0001-01-01T00:00:00Z"),
        "generatorURL": "http://prometheus.example/graph?g0.expr=up",
    })
}

/// An Alertmanager notification (version 4) of group `alertname=<name>`.
fn notification(name: &str, alerts: Vec<Value>) -> Value {
    let resolved = alerts.iter().all(|a| a["status"] == "resolved");
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"),
        "truncatedAlerts": 0,
        "status": if resolved { "resolved" } else { "firing" },
        "receiver": "debrief",
        "groupLabels": { "alertname": name },
        "commonLabels": { "alertname": name },
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": alerts,
    })
}

#[tokio::test]
async fn disabled_hooks_are_not_found() {
    let app = App::start_with(Config::default()).await;
    for hook in [
        "alertmanager",
        "grafana",
        "pagerduty",
        "opsgenie",
        "github",
        "generic",
    ] {
        let (status, body) = app.post(hook, Some("anything"), "{}").await;
        assert_eq!(status, 404, "{hook}: {body}");
        assert_eq!(body["code"], "not_found");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("--hook-secret"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn bearer_secrets_are_checked() {
    let app = App::start().await;
    let body = notification(
        "Disk",
        vec![alert(
            "Disk",
            "db-1",
            "warning",
            "2024-05-01T10:00:00Z",
            None,
        )],
    )
    .to_string();
    let (status, answer) = app.post("alertmanager", None, &body).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code"], "unauthenticated");
    let (status, _) = app.post("alertmanager", Some("wrong-secret"), &body).await;
    assert_eq!(status, 401);
    // Another hook's secret is not this hook's.
    let (status, _) = app.post("alertmanager", Some(PD_SECRET), &body).await;
    assert_eq!(status, 401);
    let (status, answer) = app.post("alertmanager", Some(AM_SECRET), &body).await;
    assert_eq!(status, 202, "{answer}");
    // The webhook's secret is not an API token.
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/postmortems"))
        .bearer_auth(AM_SECRET)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);
}

fn deployment_status(id: u64, state: &str, at: &str) -> String {
    json!({
        "action": "created",
        "deployment_status": {
            "id": id, "state": state, "environment": "production", "created_at": at,
            "description": "Deployed by CI", "creator": { "login": "ci-bot[bot]", "type": "Bot" }
        },
        "deployment": {
            "id": 77, "ref": "main", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            "environment": "production", "created_at": at
        },
        "repository": { "full_name": "acme/checkout" }
    })
    .to_string()
}

async fn github(app: &App, query: &str, body: &str, signature: Option<String>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/hooks/github{query}")))
        .header("content-type", "application/json")
        .header("x-github-event", "deployment_status")
        .body(body.to_owned());
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    answer(req).await
}

fn sign(secret: &str, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), body.as_bytes());
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[tokio::test]
async fn github_deliveries_are_signed() {
    let app = App::start().await;
    let pm = app
        .state
        .store()
        .create_postmortem(
            "test",
            debrief_core::PostmortemFields::new(
                "Checkout down".parse().expect("title"),
                "SEV2".parse().expect("sev"),
            ),
        )
        .await
        .expect("create");
    let body = deployment_status(901, "success", "2024-05-01T10:20:00Z");
    let (status, answer) = github(&app, "?postmortem=PM-1", &body, None).await;
    assert_eq!(status, 401, "{answer}");
    let (status, _) = github(
        &app,
        "?postmortem=PM-1",
        &body,
        Some(sign("not-the-secret", &body)),
    )
    .await;
    assert_eq!(status, 401);
    // A signature of another body does not pass either.
    let other = deployment_status(902, "failure", "2024-05-01T10:20:00Z");
    let (status, _) = github(
        &app,
        "?postmortem=PM-1",
        &body,
        Some(sign(GH_SECRET, &other)),
    )
    .await;
    assert_eq!(status, 401);
    // A bearer secret is not what GitHub sends.
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/hooks/github?postmortem=PM-1"))
        .bearer_auth(GH_SECRET)
        .body(body.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);

    let (status, answer) = github(
        &app,
        "?postmortem=PM-1",
        &body,
        Some(sign(GH_SECRET, &body)),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["postmortem"], "PM-1");
    assert_eq!(answer["created"], false);
    assert_eq!(answer["added"], 1);
    let (_, again) = github(
        &app,
        "?postmortem=PM-1",
        &body,
        Some(sign(GH_SECRET, &body)),
    )
    .await;
    assert_eq!(
        (again["added"].as_u64(), again["already_present"].as_u64()),
        (Some(0), Some(1))
    );
    let events = app
        .state
        .store()
        .list_events(pm.key, EventQuery::default())
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].fields.source.as_str(), "github");

    // Without a target the delivery is accepted and recorded nowhere; ping is answered.
    let (status, answer) = github(&app, "", &body, Some(sign(GH_SECRET, &body))).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["postmortem"], Value::Null);
    let ping = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/hooks/github"))
        .header("x-github-event", "ping")
        .header("x-hub-signature-256", sign(GH_SECRET, ping))
        .body(ping)
        .send()
        .await
        .expect("ping");
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn a_firing_alert_opens_a_draft_and_its_group_follows() {
    let app = App::start().await;
    let first = alert(
        "HighErrorRate",
        "web-1",
        "critical",
        "2024-05-01T10:02:13.5Z",
        None,
    );
    let (status, answer) = app
        .alertmanager(&notification("HighErrorRate", vec![first.clone()]))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["postmortem"], "PM-1");
    assert_eq!(answer["created"], true);
    assert_eq!(answer["added"], 1);
    assert_eq!(answer["rejected"], json!([]));

    let key = Key::new(1).expect("key");
    let pm = app.state.store().get_postmortem(key).await.expect("pm");
    assert_eq!(pm.status, Status::Draft);
    assert_eq!(pm.fields.title.as_str(), "HighErrorRate on web-1");
    assert_eq!(pm.fields.severity.to_string(), "SEV1");
    assert_eq!(
        pm.fields.key_moments.started.as_ref().map(|m| m.at()),
        Some(ts("2024-05-01T10:02:13.5Z"))
    );
    assert_eq!(
        pm.fields
            .services
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
        ["checkout-api"]
    );

    // A second alert of the same group: Alertmanager sends the whole group again.
    let second = alert(
        "HighErrorRate",
        "web-2",
        "warning",
        "2024-05-01T10:04:00Z",
        None,
    );
    let both = notification("HighErrorRate", vec![first.clone(), second.clone()]);
    let (status, answer) = app.alertmanager(&both).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["postmortem"], "PM-1");
    assert_eq!(answer["created"], false);
    assert_eq!(
        (answer["added"].as_u64(), answer["already_present"].as_u64()),
        (Some(1), Some(1))
    );

    // Delivered again (a retry): nothing new.
    let (status, answer) = app.alertmanager(&both).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["added"].as_u64(), answer["already_present"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(app.postmortem_count().await, 1);

    // The group resolves: the last resolution is the resolved milestone.
    let resolved = notification(
        "HighErrorRate",
        vec![
            alert(
                "HighErrorRate",
                "web-1",
                "critical",
                "2024-05-01T10:02:13.5Z",
                Some("2024-05-01T10:40:00Z"),
            ),
            alert(
                "HighErrorRate",
                "web-2",
                "warning",
                "2024-05-01T10:04:00Z",
                Some("2024-05-01T10:45:30Z"),
            ),
        ],
    );
    let (status, answer) = app.alertmanager(&resolved).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["added"], 2);
    let pm = app.state.store().get_postmortem(key).await.expect("pm");
    assert_eq!(
        pm.fields.key_moments.resolved.as_ref().map(|m| m.at()),
        Some(ts("2024-05-01T10:45:30Z"))
    );
    let events = app
        .state
        .store()
        .list_events(key, EventQuery::default())
        .await
        .expect("events");
    assert_eq!(events.len(), 4);
    let milestones: Vec<_> = events
        .iter()
        .filter(|e| e.fields.kind == EventKind::Milestone)
        .collect();
    assert_eq!(milestones.len(), 1);
    assert_eq!(milestones[0].fields.milestone, Some(KeyMoment::Resolved));
    assert!(
        events
            .iter()
            .all(|e| e.fields.source.as_str() == "alertmanager")
    );
    // Resolved again (a retry): nothing changes.
    let (_, answer) = app.alertmanager(&resolved).await;
    assert_eq!(
        (answer["added"].as_u64(), answer["already_present"].as_u64()),
        (Some(0), Some(2))
    );

    // Another group is another postmortem.
    let (status, answer) = app
        .alertmanager(&notification(
            "DiskFull",
            vec![alert(
                "DiskFull",
                "db-1",
                "page",
                "2024-05-01T11:00:00Z",
                None,
            )],
        ))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["postmortem"], "PM-2");
    let pm2 = app
        .state
        .store()
        .get_postmortem(Key::new(2).expect("key"))
        .await
        .expect("pm");
    assert_eq!(pm2.fields.severity.to_string(), "SEV2");
}

#[tokio::test]
async fn alerts_that_do_not_pass_the_rule_are_recorded_nowhere() {
    let app = App::start().await;
    let warning = notification(
        "SlowQueries",
        vec![alert(
            "SlowQueries",
            "db-1",
            "warning",
            "2024-05-01T09:00:00Z",
            None,
        )],
    );
    let (status, answer) = app.alertmanager(&warning).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["postmortem"], Value::Null);
    assert_eq!(answer["created"], false);
    assert_eq!(answer["added"], 0);
    assert_eq!(answer["ignored"], 1);
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("recorded nowhere"),
        "{answer}"
    );
    assert_eq!(app.postmortem_count().await, 0);

    // A resolved alert of a group without a postmortem opens nothing either.
    let resolved = notification(
        "Outage",
        vec![alert(
            "Outage",
            "web-1",
            "critical",
            "2024-05-01T09:00:00Z",
            Some("2024-05-01T09:30:00Z"),
        )],
    );
    let (status, _) = app.alertmanager(&resolved).await;
    assert_eq!(status, 202);
    assert_eq!(app.postmortem_count().await, 0);
}

#[tokio::test]
async fn the_rule_is_configurable() {
    let rule = DraftRule::new(vec![
        "team=payments".parse::<LabelMatcher>().expect("matcher"),
        "severity=*".parse::<LabelMatcher>().expect("matcher"),
    ]);
    let app = App::start_with_rule(rule).await;
    let mut other_team = alert("Latency", "web-1", "critical", "2024-05-01T09:00:00Z", None);
    other_team["labels"]["team"] = json!("search");
    let (status, _) = app
        .alertmanager(&notification("Latency", vec![other_team]))
        .await;
    assert_eq!(
        status, 202,
        "a critical alert of another team opens nothing"
    );
    let mut payments = alert(
        "CardDeclines",
        "pay-1",
        "info",
        "2024-05-01T09:05:00Z",
        None,
    );
    payments["labels"]["team"] = json!("Payments");
    let (status, answer) = app
        .alertmanager(&notification("CardDeclines", vec![payments]))
        .await;
    assert_eq!(status, 201, "{answer}");
    let pm = app
        .state
        .store()
        .get_postmortem(Key::new(1).expect("key"))
        .await
        .expect("pm");
    assert_eq!(pm.fields.severity.to_string(), "SEV4", "info maps to SEV4");
}

#[tokio::test]
async fn bad_payloads_name_the_field() {
    let app = App::start().await;
    let mut v3 = notification(
        "X",
        vec![alert("X", "a", "critical", "2024-05-01T09:00:00Z", None)],
    );
    v3["version"] = json!("3");
    let (status, answer) = app.alertmanager(&v3).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["field"], "version");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("\"4\""),
        "{answer}"
    );

    let (status, answer) = app
        .post(
            "alertmanager",
            Some(AM_SECRET),
            r#"{"version": "4", "alerts": ["#,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], "bad_request");

    let mut no_start = alert("X", "a", "critical", "2024-05-01T09:00:00Z", None);
    no_start.as_object_mut().expect("object").remove("startsAt");
    let (status, answer) = app.alertmanager(&notification("X", vec![no_start])).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["field"], "alerts[0].startsAt");
    assert_eq!(app.postmortem_count().await, 0);
}

fn pagerduty_event(id: &str, event_type: &str, at: &str) -> String {
    json!({
        "event": {
            "id": id, "event_type": event_type, "resource_type": "incident", "occurred_at": at,
            "agent": { "type": "user_reference", "summary": "Dana Ruiz" },
            "data": {
                "id": "Q1ABCDEF", "type": "incident", "number": 42, "title": "Checkout is down",
                "urgency": "high", "service": { "summary": "Checkout" },
                "html_url": "https://acme.pagerduty.com/incidents/Q1ABCDEF"
            }
        }
    })
    .to_string()
}

#[tokio::test]
async fn pagerduty_incidents_record_acknowledged_and_resolved() {
    let app = App::start().await;
    let (status, answer) = app
        .post(
            "pagerduty",
            Some(PD_SECRET),
            &pagerduty_event("E1", "incident.triggered", "2024-05-01T10:00:00Z"),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let key = Key::new(1).expect("key");
    let pm = app.state.store().get_postmortem(key).await.expect("pm");
    assert_eq!(pm.fields.title.as_str(), "Checkout is down");
    assert_eq!(pm.fields.severity.to_string(), "SEV2", "urgency high");
    for (id, kind, at) in [
        ("E2", "incident.acknowledged", "2024-05-01T10:03:00Z"),
        ("E3", "incident.resolved", "2024-05-01T10:30:00Z"),
    ] {
        let (status, answer) = app
            .post("pagerduty", Some(PD_SECRET), &pagerduty_event(id, kind, at))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["postmortem"], "PM-1");
    }
    let pm = app.state.store().get_postmortem(key).await.expect("pm");
    let km = &pm.fields.key_moments;
    assert_eq!(
        km.acknowledged.as_ref().map(|m| m.at()),
        Some(ts("2024-05-01T10:03:00Z"))
    );
    assert_eq!(
        km.resolved.as_ref().map(|m| m.at()),
        Some(ts("2024-05-01T10:30:00Z"))
    );
}

#[tokio::test]
async fn generic_events_go_where_the_url_says() {
    let app = App::start().await;
    let mut f = debrief_core::PostmortemFields::new(
        "Payments slow".parse().expect("title"),
        "SEV3".parse().expect("sev"),
    );
    f.services = vec!["payments".parse().expect("label")];
    app.state
        .store()
        .create_postmortem("t", f)
        .await
        .expect("create");
    let lines = "{\"time\": \"2024-05-01T10:00:00Z\", \"message\": \"Rolled back v2.3\", \"id\": \"r1\"}\n\
                 {\"time\": \"2024-05-01T10:05:00Z\", \"message\": \"Error rate normal\", \"id\": \"r2\"}\n";
    let (status, answer) = app
        .post("generic?service=payments", Some(GENERIC_SECRET), lines)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["postmortem"], "PM-1");
    assert_eq!(answer["added"], 2);
    let (status, answer) = app
        .post("generic?postmortem=PM-1", Some(GENERIC_SECRET), lines)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["already_present"], 2);
    let (status, answer) = app
        .post("generic?service=search", Some(GENERIC_SECRET), lines)
        .await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = app
        .post("generic?postmortem=PM-9", Some(GENERIC_SECRET), lines)
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["field"], "postmortem");
}

/// Every documented hook is routed (enabled without credentials it answers 401), and every hook
/// route is documented.
#[tokio::test]
async fn the_openapi_document_lists_the_hooks() {
    let mut hooks = HookConfig::default();
    for source in HookSource::ALL {
        hooks = hooks.with_secret(source, "s3cret-s3cret");
    }
    let app = App::start_with(Config {
        hooks,
        ..Config::default()
    })
    .await;
    let documented = debrief_server::openapi::documented_hooks();
    assert_eq!(documented.len(), 6);
    for (method, path) in &documented {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = reqwest::Client::new()
            .request(m, app.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(
            r.status(),
            401,
            "{method} {path} is documented but not routed"
        );
    }
    let source = include_str!("../src/hooks.rs");
    let mut routed = 0;
    for chunk in source.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).expect("path");
        routed += 1;
        assert!(
            documented.iter().any(|(m, p)| m == "POST" && p == path),
            "{path} is routed but not in the OpenAPI document"
        );
    }
    assert_eq!(routed, documented.len());
    let doc = debrief_server::openapi::document();
    for (_, path) in &documented {
        assert!(
            doc["paths"][path]["post"]["responses"]["202"].is_object(),
            "{path}"
        );
    }
}
