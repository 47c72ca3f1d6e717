//! The JSON API as curl and scripts use it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use debrief_core::{Scope, UserRole};

use crate::common::{App, client};

async fn send(
    rb: reqwest::RequestBuilder,
    token: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = rb.bearer_auth(token).send().await.expect("request");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

fn etag(h: &reqwest::header::HeaderMap) -> String {
    h.get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn no_credentials_is_401_and_a_bad_token_too() {
    let app = App::start().await;
    let c = client();
    let r = c
        .get(app.url("/api/v1/postmortems"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["code"], "unauthenticated");

    let (status, _, body) = send(c.get(app.url("/api/v1/postmortems")), "dbf_nope").await;
    assert_eq!(status, 401);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown")
    );
}

#[tokio::test]
async fn create_read_and_update_with_versions() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    let (status, h, pm) = send(
        c.post(app.url("/api/v1/postmortems")).json(
            &json!({"title": "Queue backlog", "severity": "SEV2", "summary": "Orders queued."}),
        ),
        t,
    )
    .await;
    assert_eq!(status, 201, "{pm}");
    assert_eq!(etag(&h), "\"1\"");
    assert_eq!(
        h.get("location").and_then(|v| v.to_str().ok()),
        Some("/api/v1/postmortems/PM-1")
    );
    assert_eq!(pm["key"], "PM-1");

    // No If-Match: refused, nothing written.
    let (status, _, body) = send(
        c.patch(app.url("/api/v1/postmortems/PM-1"))
            .json(&json!({"impact": "x"})),
        t,
    )
    .await;
    assert_eq!(status, 428, "{body}");
    assert_eq!(body["code"], "version_required");

    let (status, h, pm) = send(
        c.patch(app.url("/api/v1/postmortems/PM-1"))
            .header("If-Match", "\"1\"")
            .json(&json!({"impact": "2,000 orders late"})),
        t,
    )
    .await;
    assert_eq!(status, 200, "{pm}");
    assert_eq!(etag(&h), "\"2\"");
    assert_eq!(
        pm["summary"], "Orders queued.",
        "a patch keeps other fields"
    );
    assert_eq!(pm["impact"], "2,000 orders late");

    // A stale version: 409 with the current record; nothing overwritten.
    let (status, h, body) = send(
        c.patch(app.url("/api/v1/postmortems/PM-1"))
            .header("If-Match", "\"1\"")
            .json(&json!({"impact": "mine"})),
        t,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["current_version"], 2);
    assert_eq!(body["current"]["impact"], "2,000 orders late");
    assert_eq!(etag(&h), "\"2\"");
    let (_, _, now) = send(c.get(app.url("/api/v1/postmortems/PM-1")), t).await;
    assert_eq!(now["impact"], "2,000 orders late");
}

#[tokio::test]
async fn bad_bodies_name_the_field_and_write_nothing() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    let post = |body: String, ct: &'static str| {
        c.post(app.url("/api/v1/postmortems"))
            .header("content-type", ct)
            .body(body)
    };
    let cases = [
        (
            json!({"title": "x", "severity": "SEV9"}).to_string(),
            "application/json",
            422,
            Some("severity"),
        ),
        (
            json!({"title": "", "severity": "SEV2"}).to_string(),
            "application/json",
            422,
            Some("title"),
        ),
        (
            json!({"severity": "SEV2"}).to_string(),
            "application/json",
            422,
            Some("title"),
        ),
        (
            json!({"title": "x", "severity": "SEV2", "sumary": "typo"}).to_string(),
            "application/json",
            422,
            Some("sumary"),
        ),
        ("{\"title\": ".to_owned(), "application/json", 400, None),
        (
            "title=x".to_owned(),
            "application/x-www-form-urlencoded",
            415,
            None,
        ),
        (
            format!(
                "{{\"title\": \"{}\", \"severity\": \"SEV2\"}}",
                "a".repeat(3 * 1024 * 1024)
            ),
            "application/json",
            413,
            None,
        ),
    ];
    for (body, ct, want, field) in cases {
        let (status, _, err) = send(post(body, ct), t).await;
        assert_eq!(status.as_u16(), want, "{err}");
        assert!(err["code"].is_string(), "{err}");
        assert!(err["message"].is_string(), "{err}");
        if let Some(f) = field {
            assert_eq!(err["field"], f, "{err}");
        }
    }
    let (_, _, list) = send(c.get(app.url("/api/v1/postmortems")), t).await;
    assert_eq!(list, json!([]), "nothing was written");
}

#[tokio::test]
async fn actions_need_an_owner_and_a_check_in_date() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "Disk full", "severity": "SEV3"})),
        t,
    )
    .await;
    let (status, _, err) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/actions"))
            .json(&json!({"title": "Alert on disk", "category": "detect", "check_in": "2026-12-01", "priority": "high", "status": "open"})),
        t,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["field"], "owner");
    let (_, _, none) = send(c.get(app.url("/api/v1/actions")), t).await;
    assert_eq!(none, json!([]));

    let (status, h, a) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/actions"))
            .json(&json!({"title": "Alert on disk", "category": "detect", "owner": "team:sre", "check_in": "2026-12-01", "priority": "high", "status": "open"})),
        t,
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_i64().expect("id");
    let (status, _, a) = send(
        c.post(app.url(&format!("/api/v1/actions/{id}/progress")))
            .json(&json!({"note": "Dashboard drafted", "new_check_in": "2026-12-08"})),
        t,
    )
    .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["check_in"], "2026-12-08");
    assert_eq!(a["progress"][0]["author"], "Ada Admin");
    let (status, _, a) = send(
        c.patch(app.url(&format!("/api/v1/actions/{id}")))
            .header("If-Match", etag(&h))
            .json(&json!({"status": "declined", "reason": "Covered by the SLO alert"})),
        t,
    )
    .await;
    assert_eq!(status, 409, "the progress note moved the version on: {a}");
    let (_, _, board) = send(
        c.get(app.url("/api/v1/actions?owner=TEAM:SRE&overdue_on=2026-12-09")),
        t,
    )
    .await;
    assert_eq!(board.as_array().map(Vec::len), Some(1), "{board}");
}

#[tokio::test]
async fn roles_scopes_and_draft_visibility() {
    let app = App::start().await;
    let c = client();
    let admin = &app.token;
    let viewer = app
        .user(
            "Vic Viewer",
            "vic@example.com",
            UserRole::Viewer,
            Scope::Read,
        )
        .await;
    let reader = app
        .user(
            "Eve Editor",
            "eve@example.com",
            UserRole::Editor,
            Scope::Read,
        )
        .await;
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "Draft one", "severity": "SEV3"})),
        admin,
    )
    .await;

    let (status, _, _) = send(c.get(app.url("/api/v1/postmortems/PM-1")), &viewer).await;
    assert_eq!(status, 404, "a viewer does not see someone else's draft");
    for path in [
        "/api/v1/postmortems/PM-1/document",
        "/api/v1/postmortems/PM-1/export",
    ] {
        let (status, _, _) = send(c.get(app.url(path)), &viewer).await;
        assert_eq!(status, 404, "{path} hides the draft too");
    }
    let (_, _, list) = send(c.get(app.url("/api/v1/postmortems")), &viewer).await;
    assert_eq!(list, json!([]));
    let (status, _, err) = send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "t", "severity": "SEV3"})),
        &viewer,
    )
    .await;
    assert_eq!(status, 403, "{err}");
    let (status, _, err) = send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "t", "severity": "SEV3"})),
        &reader,
    )
    .await;
    assert_eq!(status, 403, "a read token of an editor cannot write: {err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("scope")
    );
    let (status, _, _) = send(c.get(app.url("/api/v1/users")), &reader).await;
    assert_eq!(status, 403);

    // A participant may read the draft.
    send(
        c.post(app.url("/api/v1/postmortems/PM-1/participants"))
            .json(&json!({"name": "Vic", "contact": "VIC@example.com", "role": "responder", "invited": true})),
        admin,
    )
    .await;
    let (status, _, _) = send(c.get(app.url("/api/v1/postmortems/PM-1")), &viewer).await;
    assert_eq!(status, 200, "a participant sees the draft");
    let (status, _, doc) = send(c.get(app.url("/api/v1/postmortems/PM-1/document")), &viewer).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["participants"][0]["name"], "Vic");

    // Published: every signed-in user.
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "Second", "severity": "SEV3"})),
        admin,
    )
    .await;
    for (to, v) in [("in_review", 1), ("published", 2)] {
        let (status, _, b) = send(
            c.post(app.url("/api/v1/postmortems/PM-2/status"))
                .header("If-Match", format!("\"{v}\""))
                .json(&json!({"status": to})),
            admin,
        )
        .await;
        assert_eq!(status, 200, "{b}");
    }
    let (status, _, _) = send(c.get(app.url("/api/v1/postmortems/PM-2")), &viewer).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn timeline_bulk_hide_revisions_and_restore() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "Cert expired", "severity": "SEV2"})),
        t,
    )
    .await;
    let ev = |id: &str, at: &str, text: &str| {
        json!({"happened_at": {"at": at, "zone": "UTC", "precision": "minute"}, "kind": "alert",
               "description": text, "source": "alertmanager", "source_id": id})
    };
    let batch = json!([
        ev("a", "2026-11-20T10:00:00Z", "Alert fires"),
        ev("b", "2026-11-20T10:05:00Z", "Second alert")
    ]);
    let (status, _, out) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/events/bulk"))
            .json(&batch),
        t,
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out, json!({"added": 2, "already_present": 0}));
    let (_, _, out) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/events/bulk"))
            .json(&batch),
        t,
    )
    .await;
    assert_eq!(out, json!({"added": 0, "already_present": 2}));
    let bad = json!([ev("c", "2026-11-20T10:06:00Z", "ok"), {"kind": "alert"}]);
    let (status, _, err) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/events/bulk"))
            .json(&bad),
        t,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["field"].as_str().unwrap_or_default().starts_with("[1]"),
        "{err}"
    );

    let (_, _, events) = send(c.get(app.url("/api/v1/postmortems/PM-1/events")), t).await;
    assert_eq!(
        events.as_array().map(Vec::len),
        Some(2),
        "the bad batch added nothing"
    );
    let id = events[0]["id"].as_i64().expect("id");
    send(
        c.post(app.url(&format!("/api/v1/postmortems/PM-1/events/{id}/hidden")))
            .json(&json!({"hidden": true})),
        t,
    )
    .await;
    let (_, _, visible) = send(c.get(app.url("/api/v1/postmortems/PM-1/events")), t).await;
    assert_eq!(visible.as_array().map(Vec::len), Some(1));
    let (_, _, all) = send(
        c.get(app.url("/api/v1/postmortems/PM-1/events?hidden=true")),
        t,
    )
    .await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));

    // Two edits, then restore the first.
    let (_, h, _) = send(c.get(app.url("/api/v1/postmortems/PM-1")), t).await;
    let (_, h, _) = send(
        c.patch(app.url("/api/v1/postmortems/PM-1"))
            .header("If-Match", etag(&h))
            .json(&json!({"summary": "first words"})),
        t,
    )
    .await;
    let (_, h, _) = send(
        c.patch(app.url("/api/v1/postmortems/PM-1"))
            .header("If-Match", etag(&h))
            .json(&json!({"summary": "second words", "tags": ["tls"]})),
        t,
    )
    .await;
    let (_, _, revs) = send(c.get(app.url("/api/v1/postmortems/PM-1/revisions")), t).await;
    let first = revs
        .as_array()
        .and_then(|r| {
            r.iter().find(|r| {
                r["changes"].to_string().contains("first words") && r["summary"] == "updated"
            })
        })
        .map(|r| r["id"].clone())
        .expect("the first edit's revision");
    let (status, _, pm) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/restore"))
            .header("If-Match", etag(&h))
            .json(&json!({"revision": first})),
        t,
    )
    .await;
    assert_eq!(status, 200, "{pm}");
    assert_eq!(pm["summary"], "first words");
    assert_eq!(pm["tags"], json!([]));
}

#[tokio::test]
async fn search_export_import_and_readiness() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    send(c.post(app.url("/api/v1/postmortems")).json(&json!({"title": "Connection pool exhausted", "severity": "SEV2", "summary": "Checkout ran out of connections."})), t).await;
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "DNS TTL too long", "severity": "SEV3"})),
        t,
    )
    .await;
    let (status, _, hits) = send(c.get(app.url("/api/v1/search?q=connections")), t).await;
    assert_eq!(status, 200);
    assert_eq!(hits[0]["key"], "PM-1", "{hits}");
    let (status, _, err) = send(c.get(app.url("/api/v1/search")), t).await;
    assert_eq!((status.as_u16(), err["field"].as_str()), (422, Some("q")));

    let md = c
        .get(app.url("/api/v1/postmortems/PM-1/export?format=markdown"))
        .bearer_auth(t)
        .send()
        .await
        .expect("export");
    assert!(
        md.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/markdown")
    );
    let md = md.text().await.expect("text");
    assert!(md.contains("# PM-1: Connection pool exhausted"));
    let (status, _, imported) = send(
        c.post(app.url("/api/v1/postmortems/import"))
            .header("content-type", "text/markdown")
            .body(md.replace("# PM-1:", "# PM-9:")),
        t,
    )
    .await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(imported["key"], "PM-9");
    let (status, _, err) = send(
        c.post(app.url("/api/v1/postmortems/import"))
            .header("content-type", "text/markdown")
            .body("just some text"),
        t,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["field"]
            .as_str()
            .unwrap_or_default()
            .starts_with("line "),
        "{err}"
    );

    let (_, _, r) = send(c.get(app.url("/api/v1/postmortems/PM-2/readiness")), t).await;
    assert_eq!(r["ready"], false);
    let codes: Vec<&str> = r["gaps"]
        .as_array()
        .map(|g| g.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        codes.contains(&"summary_missing") && codes.contains(&"timeline_empty"),
        "{r}"
    );
}

#[tokio::test]
async fn the_linter_answers_for_a_field_or_a_document() {
    let app = App::start().await;
    let c = client();
    let (status, _, out) = send(
        c.post(app.url("/api/v1/lint")).json(&json!({"text": "Sam forgot to check the dashboard.", "section": "summary", "participants": ["Sam"]})),
        &app.token,
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let rules: Vec<&str> = out["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(rules.iter().any(|r| r.starts_with("blame/")), "{out}");
    assert!(out["findings"][0]["suggestion"].is_string());
    let (_, _, clean) = send(
        c.post(app.url("/api/v1/lint")).json(&json!({"text": "The pods failed to start after the node was drained.", "section": "timeline"})),
        &app.token,
    )
    .await;
    assert_eq!(
        clean["findings"],
        json!([]),
        "a technical subject with failed to is not blame"
    );
    let (status, _, err) = send(
        c.post(app.url("/api/v1/lint"))
            .json(&json!({"text": "x", "section": "chapter"})),
        &app.token,
    )
    .await;
    assert_eq!(
        (status.as_u16(), err["field"].as_str()),
        (422, Some("section"))
    );
}

#[tokio::test]
async fn tokens_are_shown_once_and_can_be_revoked() {
    let app = App::start().await;
    let c = client();
    let (status, _, created) = send(
        c.post(app.url("/api/v1/tokens"))
            .json(&json!({"name": "ci", "scope": "read", "expires_in_days": 30})),
        &app.token,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["token"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("dbf_"));
    let (status, _, me) = send(c.get(app.url("/api/v1/me")), &secret).await;
    assert_eq!(status, 200);
    assert_eq!(me["scope"], "read");
    let (_, _, list) = send(c.get(app.url("/api/v1/tokens")), &app.token).await;
    assert!(
        !list.to_string().contains(&secret),
        "the secret is never listed"
    );
    let id = created["id"].as_i64().expect("id");
    let (status, _, _) = send(
        c.delete(app.url(&format!("/api/v1/tokens/{id}"))),
        &app.token,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = send(c.get(app.url("/api/v1/me")), &secret).await;
    assert_eq!(status, 401, "a revoked token no longer works");
}

#[tokio::test]
async fn unknown_routes_health_metrics_and_openapi() {
    let app = App::start().await;
    let c = client();
    let (status, _, body) = send(c.get(app.url("/api/v1/nothing-here")), &app.token).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    let r = c.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), 200);
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "m", "severity": "SEV4"})),
        &app.token,
    )
    .await;
    let metrics = c
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("debrief_postmortems{status=\"draft\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("debrief_http_requests_total{method=\"POST\",route=\"/api/v1/postmortems\",status=\"201\"} 1"), "{metrics}");
    assert!(metrics.contains("debrief_action_items_overdue 0"));

    let doc: Value = c
        .get(app.url("/api/v1/openapi.json"))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
}

/// Every documented operation is routed (with no credentials, a routed path answers 401, an
/// unrouted one 404 or 405), and every route in the router is documented.
#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let app = App::start().await;
    let c = client();
    for (method, path) in debrief_server::openapi::documented() {
        let concrete = path.replace("{key}", "PM-1").replace("{id}", "1");
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = c
            .request(m, app.url(&concrete))
            .send()
            .await
            .expect("request");
        if path == "/api/v1/openapi.json" {
            assert_eq!(r.status(), 200);
        } else {
            assert_eq!(
                r.status(),
                401,
                "{method} {path} is documented but not routed"
            );
        }
    }
    // The router's API routes, read from its source, are all documented.
    let source = include_str!("../../src/api/mod.rs");
    let documented = debrief_server::openapi::documented();
    let mut count = 0;
    for chunk in source.split(".route(").skip(1) {
        let Some(path) = chunk.split('"').nth(1) else {
            continue;
        };
        let handlers = chunk.split("\n}").next().unwrap_or_default();
        for method in ["get", "post", "put", "patch", "delete"] {
            if handlers.contains(&format!("{method}(")) {
                count += 1;
                assert!(
                    documented
                        .iter()
                        .any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path),
                    "{method} {path} is routed but not in the OpenAPI document"
                );
            }
        }
    }
    assert!(
        count >= documented.len(),
        "read {count} routes from the router"
    );
}

#[test]
fn the_openapi_document_is_reviewed() {
    let doc =
        serde_json::to_string_pretty(debrief_server::openapi::document()).expect("json") + "\n";
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
        std::fs::write(&path, &doc).expect("write snapshot");
    }
    let reviewed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        reviewed == doc,
        "the OpenAPI document changed; review it and run with UPDATE_SNAPSHOTS=1 to accept ({})",
        path.display()
    );
}

#[tokio::test]
async fn channels_are_checked_kept_secret_and_admin_only() {
    let app = App::start().await;
    let c = client();
    let editor = app
        .user("Ed Itor", "ed@example.com", UserRole::Editor, Scope::Write)
        .await;
    let hook = json!({
        "name": "platform-hook", "kind": "webhook",
        "url": "http://127.0.0.1:9/debrief", "secret": "a-long-shared-secret-123",
        "topics": ["reminders", "digest"], "owners": ["team:platform"]
    });

    // Admins only.
    let (status, _, _) = send(c.post(app.url("/api/v1/channels")).json(&hook), &editor).await;
    assert_eq!(status, 403);
    let (status, _, _) = send(c.get(app.url("/api/v1/channels")), &editor).await;
    assert_eq!(status, 403);

    // Bad input is refused naming the field, and nothing is stored.
    for (bad, field) in [
        (
            json!({"name": "x", "kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "short"}),
            "secret",
        ),
        (
            json!({"name": "x", "kind": "slack", "url": "hooks.example/x"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "email", "host": "smtp.example", "port": 587, "security": "starttls", "from": "nobody"}),
            "from",
        ),
        (
            json!({"name": "x", "kind": "email", "host": "smtp.example", "port": 587, "security": "starttls", "from": "a@example.com", "to": ["nope"]}),
            "to[0]",
        ),
        (
            json!({"name": "x", "kind": "pager", "url": "http://127.0.0.1:9/x"}),
            "kind",
        ),
        (
            json!({"name": "x", "kind": "slack", "url": "https://hooks.example/x", "topics": ["weekly"]}),
            "topics[0]",
        ),
    ] {
        let (status, _, body) =
            send(c.post(app.url("/api/v1/channels")).json(&bad), &app.token).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(
            body["field"].as_str().is_some_and(|f| f.starts_with(field)),
            "{bad}: {body}"
        );
    }
    let (_, _, list) = send(c.get(app.url("/api/v1/channels")), &app.token).await;
    assert_eq!(list, json!([]));

    // Created; read back without the secret.
    let (status, headers, created) =
        send(c.post(app.url("/api/v1/channels")).json(&hook), &app.token).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(etag(&headers), "\"1\"");
    assert_eq!(created["secret"], "********");
    assert_eq!(
        created["description"],
        "signed webhook http://127.0.0.1:9/debrief"
    );
    let id = created["id"].as_i64().expect("id");
    let (status, _, body) = send(
        c.post(app.url("/api/v1/channels")).json(
            &json!({"name": "PLATFORM-HOOK", "kind": "slack", "url": "https://hooks.example/x"}),
        ),
        &app.token,
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // A patch that echoes the redacted secret keeps it; the version is required and checked.
    let (status, _, _) = send(
        c.patch(app.url(&format!("/api/v1/channels/{id}")))
            .json(&json!({"enabled": false})),
        &app.token,
    )
    .await;
    assert_eq!(status, 428);
    let (status, headers, patched) = send(
        c.patch(app.url(&format!("/api/v1/channels/{id}")))
            .header("If-Match", "\"1\"")
            .json(&json!({"enabled": false, "secret": "********"})),
        &app.token,
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(etag(&headers), "\"2\"");
    assert_eq!(patched["enabled"], false);
    let stored = app
        .state
        .store()
        .get_channel(debrief_core::notify::ChannelId(id))
        .await
        .expect("stored");
    match stored.fields.target {
        debrief_core::notify::ChannelTarget::Webhook { secret, .. } => {
            assert_eq!(secret, "a-long-shared-secret-123");
        }
        other => panic!("{other:?}"),
    }
    let (status, _, body) = send(
        c.patch(app.url(&format!("/api/v1/channels/{id}")))
            .header("If-Match", "\"1\"")
            .json(&json!({"enabled": true})),
        &app.token,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["current"]["secret"], "********", "{body}");

    // A test through a channel nobody listens on: 502 with the reason.
    let (status, _, body) = send(
        c.post(app.url(&format!("/api/v1/channels/{id}/test"))),
        &app.token,
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "channel_failed");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("127.0.0.1:9"),
        "{body}"
    );

    let (status, _, _) = send(
        c.delete(app.url(&format!("/api/v1/channels/{id}"))),
        &app.token,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = send(
        c.get(app.url(&format!("/api/v1/channels/{id}"))),
        &app.token,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn preferences_and_follow_through() {
    let app = App::start().await;
    let c = client();
    let viewer = app
        .user("Vi Ewer", "vi@example.com", UserRole::Viewer, Scope::Read)
        .await;
    let (status, _, prefs) = send(c.get(app.url("/api/v1/me/preferences")), &viewer).await;
    assert_eq!(status, 200);
    assert_eq!(
        prefs["topics"],
        json!(["reminders", "escalations", "reviews", "digest"])
    );
    assert_eq!(prefs["available"].as_array().map(Vec::len), Some(4));
    let (status, _, prefs) = send(
        c.put(app.url("/api/v1/me/preferences"))
            .json(&json!({"topics": ["digest"]})),
        &viewer,
    )
    .await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(prefs["topics"], json!(["digest"]));
    let (status, _, body) = send(
        c.put(app.url("/api/v1/me/preferences"))
            .json(&json!({"topics": ["weekly"]})),
        &viewer,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (_, _, prefs) = send(c.get(app.url("/api/v1/me/preferences")), &viewer).await;
    assert_eq!(
        prefs["topics"],
        json!(["digest"]),
        "a refused change changes nothing"
    );

    // Follow-through: one done on time, one overdue; then the last one done closes the
    // published postmortem.
    let (_, _, pm) = send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "Queue backlog", "severity": "SEV3"})),
        &app.token,
    )
    .await;
    let key = pm["key"].as_str().expect("key").to_owned();
    let mut ids = Vec::new();
    for (title, check_in) in [
        ("Alert on depth", "2099-01-01"),
        ("Load-test", "2024-01-10"),
    ] {
        let (status, _, a) = send(
            c.post(app.url(&format!("/api/v1/postmortems/{key}/actions")))
                .json(&json!({"title": title, "category": "detect", "owner": "Ana", "check_in": check_in, "priority": "medium", "status": "open"})),
            &app.token,
        )
        .await;
        assert_eq!(status, 201, "{a}");
        ids.push(a["id"].as_i64().expect("id"));
    }
    let (status, _, _) = send(
        c.patch(app.url(&format!("/api/v1/actions/{}", ids[0])))
            .header("If-Match", "\"1\"")
            .json(&json!({"status": "done"})),
        &app.token,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, stats) = send(c.get(app.url("/api/v1/actions/stats")), &app.token).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["all"]["actions"], 2);
    assert_eq!(stats["all"]["on_time"], 1);
    assert_eq!(stats["all"]["open"], 1);
    assert_eq!(stats["all"]["overdue"], 1);
    assert_eq!(stats["postmortems"][0]["key"], key.as_str());
    assert_eq!(stats["postmortems"][0]["title"], "Queue backlog");
    // A draft is not the viewer's to see: its actions are not counted for them.
    let (_, _, theirs) = send(c.get(app.url("/api/v1/actions/stats")), &viewer).await;
    assert_eq!(theirs["all"]["actions"], 0, "{theirs}");

    for to in ["in_review", "published"] {
        let (_, headers, _) = send(
            c.get(app.url(&format!("/api/v1/postmortems/{key}"))),
            &app.token,
        )
        .await;
        let (status, _, body) = send(
            c.post(app.url(&format!("/api/v1/postmortems/{key}/status")))
                .header("If-Match", etag(&headers))
                .json(&json!({"status": to})),
            &app.token,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _, _) = send(
        c.patch(app.url(&format!("/api/v1/actions/{}", ids[1])))
            .header("If-Match", "\"1\"")
            .json(&json!({"status": "declined", "reason": "covered by the new queue"})),
        &app.token,
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, pm) = send(
        c.get(app.url(&format!("/api/v1/postmortems/{key}"))),
        &app.token,
    )
    .await;
    assert_eq!(pm["status"], "closed", "{pm}");

    let metrics = c
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("# TYPE debrief_jobs gauge"), "{metrics}");
}

#[tokio::test]
async fn admins_see_and_retry_parked_jobs() {
    let app = App::start().await;
    let c = client();
    let store = app.state.store();
    let now = app.state.now();
    // A send that failed its only attempt is parked.
    store
        .enqueue(
            debrief_store::NewJob::new("send", json!({"channel": 1}), now).max_attempts(1),
            now,
        )
        .await
        .expect("enqueue");
    let claimed = store
        .claim(&debrief_store::Claim {
            worker: "w".into(),
            now,
            lease: jiff::SignedDuration::from_mins(5),
            kinds: None,
            limit: 5,
        })
        .await
        .expect("claim");
    store
        .fail(
            claimed[0].id,
            "w",
            "channel \"room\": 127.0.0.1:9 could not be reached",
            now,
        )
        .await
        .expect("fail");
    let viewer = app
        .user("Vi Ewer", "vi@example.com", UserRole::Viewer, Scope::Read)
        .await;
    let (status, _, _) = send(c.get(app.url("/api/v1/jobs")), &viewer).await;
    assert_eq!(status, 403);
    let (status, _, jobs) = send(c.get(app.url("/api/v1/jobs")), &app.token).await;
    assert_eq!(status, 200, "{jobs}");
    assert_eq!(jobs[0]["state"], "parked");
    assert!(
        jobs[0]["last_error"]
            .as_str()
            .expect("error")
            .contains("could not be reached")
    );
    let (status, _, body) = send(c.get(app.url("/api/v1/jobs?state=lost")), &app.token).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "state");
    let id = jobs[0]["id"].as_i64().expect("id");
    let (status, _, job) = send(
        c.post(app.url(&format!("/api/v1/jobs/{id}/retry"))),
        &app.token,
    )
    .await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["state"], "queued");
    assert_eq!(job["attempts"], 0);
    // It stays in view (its last error kept) until an attempt succeeds.
    let (_, _, jobs) = send(c.get(app.url("/api/v1/jobs")), &app.token).await;
    assert_eq!(jobs[0]["state"], "queued");
    let (_, _, parked) = send(c.get(app.url("/api/v1/jobs?state=parked")), &app.token).await;
    assert_eq!(parked, json!([]));
}
