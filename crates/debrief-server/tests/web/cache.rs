//! The rendered-postmortem cache, through the real server: a cached document or page changes
//! right after a write (through this server or another instance on the same database), readers
//! get their own CSRF token and name, and the visibility rules hold for cached pages.

use reqwest::StatusCode;
use serde_json::{Value, json};

use debrief_core::{Scope, UserRole};
use debrief_store::Store;
use debrief_store_sqlite::SqliteStore;

use crate::common::{App, browser, client, input_value, sign_in};

async fn send(rb: reqwest::RequestBuilder, token: &str) -> (StatusCode, Value) {
    let r = rb.bearer_auth(token).send().await.expect("request");
    let status = r.status();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The JSON document as the API answers it: status, ETag and body.
async fn document(app: &App, token: &str, key: &str) -> (StatusCode, String, Value) {
    let r = client()
        .get(app.url(&format!("/api/v1/postmortems/{key}/document")))
        .bearer_auth(token)
        .send()
        .await
        .expect("document");
    let status = r.status();
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = r.text().await.expect("body");
    (
        status,
        etag,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn page(b: &reqwest::Client, app: &App, path: &str) -> (StatusCode, String) {
    let r = b.get(app.url(path)).send().await.expect("page");
    (r.status(), r.text().await.expect("html"))
}

fn event(at: &str, text: &str) -> Value {
    json!({"happened_at": {"at": at, "zone": "UTC", "precision": "minute"}, "kind": "observation",
           "description": text, "source": "manual"})
}

#[tokio::test]
async fn a_cached_document_and_page_change_right_after_an_edit() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    let (status, pm) = send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "Cache before", "severity": "SEV2", "summary": "First words."})),
        t,
    )
    .await;
    assert_eq!(status, 201, "{pm}");
    let b = browser();
    let csrf = sign_in(&app, &b, "ada@example.com").await;

    // Read twice: the same answer, tagged with the revision.
    let (status, tag, doc) = document(&app, t, "PM-1").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["title"], "Cache before");
    assert!(tag.starts_with("\"rev-"), "{tag}");
    let (_, tag_again, doc_again) = document(&app, t, "PM-1").await;
    assert_eq!((&tag_again, &doc_again), (&tag, &doc));
    let (status, html) = page(&b, &app, "/pm/PM-1").await;
    assert_eq!(status, 200);
    assert!(html.contains("Cache before"));
    assert!(html.contains("First words."));
    assert_eq!(input_value(&html, "csrf").as_deref(), Some(csrf.as_str()));
    assert!(
        html.contains("title=\"Your account: notifications and API tokens\">Ada Admin</a>"),
        "the reader's name in the navigation"
    );
    let (_, html_again) = page(&b, &app, "/pm/PM-1").await;
    assert_eq!(html_again, html, "a second read draws the same page");
    let (cached, _) = app.state.docs().usage();
    assert_eq!(cached, 1, "the postmortem is cached");

    // An unchanged document is not sent again.
    let r = c
        .get(app.url("/api/v1/postmortems/PM-1/document"))
        .bearer_auth(t)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect("conditional");
    assert_eq!(r.status(), 304);
    assert_eq!(
        r.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(tag.as_str())
    );

    // An edit through the API shows on the very next read, of either form.
    let (status, body) = send(
        c.patch(app.url("/api/v1/postmortems/PM-1"))
            .header("If-Match", "\"1\"")
            .json(&json!({"title": "Cache after", "summary": "Second words."})),
        t,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, new_tag, doc) = document(&app, t, "PM-1").await;
    assert_eq!(doc["title"], "Cache after");
    assert_eq!(doc["summary"], "Second words.");
    assert_ne!(new_tag, tag);
    let r = c
        .get(app.url("/api/v1/postmortems/PM-1/document"))
        .bearer_auth(t)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect("conditional");
    assert_eq!(r.status(), 200, "an old tag gets the new document");
    let (_, html) = page(&b, &app, "/pm/PM-1").await;
    assert!(html.contains("Cache after"));
    assert!(html.contains("Second words."));
    assert!(!html.contains("Cache before"));

    // So does a change to a part: a new event, then hiding it.
    let (status, ev) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/events"))
            .json(&event("2026-11-20T10:00:00Z", "Pager fired for checkout")),
        t,
    )
    .await;
    assert_eq!(status, 201, "{ev}");
    let (_, _, doc) = document(&app, t, "PM-1").await;
    assert_eq!(doc["events"][0]["description"], "Pager fired for checkout");
    let (_, html) = page(&b, &app, "/pm/PM-1").await;
    assert!(html.contains("Pager fired for checkout"));
    assert!(!html.contains("hidden-event"));
    let id = ev["id"].as_i64().expect("event id");
    send(
        c.post(app.url(&format!("/api/v1/postmortems/PM-1/events/{id}/hidden")))
            .json(&json!({"hidden": true})),
        t,
    )
    .await;
    let (_, html) = page(&b, &app, "/pm/PM-1").await;
    assert!(
        html.contains("hidden-event"),
        "an editor sees it, marked hidden"
    );
    let (_, _, doc) = document(&app, t, "PM-1").await;
    assert_eq!(doc["events"][0]["hidden"], true);

    // A write by another instance on the same database: seen on the next read here.
    let other = SqliteStore::open(&app.db).await.expect("second store");
    let current = other
        .get_postmortem("PM-1".parse().expect("key"))
        .await
        .expect("get");
    let mut fields = current.fields.clone();
    fields.impact = "Written by another instance".into();
    other
        .update_postmortem("other", current.key, current.version, fields)
        .await
        .expect("update elsewhere");
    let (_, _, doc) = document(&app, t, "PM-1").await;
    assert_eq!(doc["impact"], "Written by another instance");
    let (_, html) = page(&b, &app, "/pm/PM-1").await;
    assert!(html.contains("Written by another instance"));

    // The export reads the same cached document.
    let (status, export) = send(
        c.get(app.url("/api/v1/postmortems/PM-1/export?format=json")),
        t,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(export, doc);
}

#[tokio::test]
async fn cached_pages_keep_each_readers_details_and_the_visibility_rules() {
    let app = App::start().await;
    let c = client();
    let t = &app.token;
    let viewer = app
        .user(
            "Vic <Viewer>",
            "vic@example.com",
            UserRole::Viewer,
            Scope::Read,
        )
        .await;
    app.user(
        "Eve Editor",
        "eve@example.com",
        UserRole::Editor,
        Scope::Write,
    )
    .await;
    send(
        c.post(app.url("/api/v1/postmortems"))
            .json(&json!({"title": "A draft", "severity": "SEV3"})),
        t,
    )
    .await;
    send(
        c.post(app.url("/api/v1/postmortems/PM-1/events/bulk"))
            .json(&json!([
                event("2026-11-20T10:00:00Z", "Shown to everyone"),
                event("2026-11-20T10:05:00Z", "Only for editors")
            ])),
        t,
    )
    .await;
    let (_, events) = send(
        c.get(app.url("/api/v1/postmortems/PM-1/events?hidden=true")),
        t,
    )
    .await;
    let hidden_id = events[1]["id"].as_i64().expect("id");
    send(
        c.post(app.url(&format!(
            "/api/v1/postmortems/PM-1/events/{hidden_id}/hidden"
        )))
        .json(&json!({"hidden": true})),
        t,
    )
    .await;

    let ada = browser();
    let ada_csrf = sign_in(&app, &ada, "ada@example.com").await;
    let eve = browser();
    let eve_csrf = sign_in(&app, &eve, "eve@example.com").await;
    let vic = browser();
    let vic_csrf = sign_in(&app, &vic, "vic@example.com").await;

    // The admin's read fills the cache; the viewer still may not see the draft.
    let (status, html) = page(&ada, &app, "/pm/PM-1").await;
    assert_eq!(status, 200);
    assert!(html.contains("Only for editors"));
    let (status, _) = page(&vic, &app, "/pm/PM-1").await;
    assert_eq!(status, 404, "a viewer does not see someone else's draft");
    let (status, _, _) = document(&app, t, "PM-1").await;
    assert_eq!(status, 200);
    let (status, _, _) = document(&app, &viewer, "PM-1").await;
    assert_eq!(status, 404, "nor its document");

    // Two editors: the same page, each with their own token and name.
    let (_, eve_html) = page(&eve, &app, "/pm/PM-1").await;
    assert_eq!(
        input_value(&eve_html, "csrf").as_deref(),
        Some(eve_csrf.as_str())
    );
    assert!(
        eve_html.contains("title=\"Your account: notifications and API tokens\">Eve Editor</a>")
    );
    assert!(
        !eve_html.contains(&ada_csrf),
        "never another reader's token"
    );
    assert!(eve_html.contains("Only for editors"));
    assert!(
        !eve_html.contains("href=\"/admin\""),
        "an editor has no admin link"
    );
    let (_, ada_html) = page(&ada, &app, "/pm/PM-1").await;
    assert!(ada_html.contains("href=\"/admin\""));
    assert!(!ada_html.contains(&eve_csrf));

    // Made a participant, the viewer sees the draft at once — without hidden events or forms,
    // with their name escaped.
    let (status, body) = send(
        c.post(app.url("/api/v1/postmortems/PM-1/participants")).json(
            &json!({"name": "Vic", "contact": "vic@example.com", "role": "responder", "invited": true}),
        ),
        t,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, html) = page(&vic, &app, "/pm/PM-1").await;
    assert_eq!(status, 200);
    assert!(html.contains("Shown to everyone"));
    assert!(
        !html.contains("Only for editors"),
        "hidden events stay hidden"
    );
    assert!(!html.contains("Edit summary"), "no edit forms for a viewer");
    assert!(
        html.contains(
            "title=\"Your account: notifications and API tokens\">Vic &#60;Viewer&#62;</a>"
        ),
        "the reader's name, escaped"
    );
    assert!(!html.contains("Vic <Viewer>"));
    assert_eq!(
        input_value(&html, "csrf-token").as_deref(),
        Some(vic_csrf.as_str())
    );
    let (status, _, doc) = document(&app, &viewer, "PM-1").await;
    assert_eq!(status, 200);
    assert_eq!(doc["participants"][0]["name"], "Vic");

    // Opening an event's editor draws that reader's own page, not the shared one.
    let (status, html) = page(&ada, &app, &format!("/pm/PM-1?edit=event-{hidden_id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Save event"));
    let (_, html) = page(&ada, &app, "/pm/PM-1").await;
    assert!(!html.contains("Save event"));

    // Unknown and malformed keys are still not found.
    let (status, _) = page(&ada, &app, "/pm/PM-9").await;
    assert_eq!(status, 404);
    let (status, _, _) = document(&app, t, "PM-9").await;
    assert_eq!(status, 404);
}
