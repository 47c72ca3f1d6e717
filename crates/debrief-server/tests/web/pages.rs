//! The web pages, driven like a browser without JavaScript: forms, cookies, redirects.

use serde_json::json;

use crate::common::{App, PASSWORD, browser, client, input_value, sign_in};

#[tokio::test]
async fn pages_need_a_session_and_say_where_to_go_back() {
    let app = App::start().await;
    let r = client().get(app.url("/pm/PM-1")).send().await.expect("get");
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap_or_default(),
        "/login?next=/pm/PM-1"
    );
    let r = client()
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap_or_default().contains("Not found"));
}

#[tokio::test]
async fn sign_in_is_protected_and_rate_limited() {
    let app = App::start().await;
    let b = browser();
    // A form without the anti-forgery cookie is refused.
    let r = client()
        .post(app.url("/login"))
        .form(&[
            ("csrf", "x"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = input_value(&html, "csrf").expect("csrf");
    for _ in 0..5 {
        let r = b
            .post(app.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "ada@example.com"),
                ("password", "wrong password!"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap_or_default().contains("do not match"));
    }
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.status(),
        429,
        "even the right password waits after five failures"
    );
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("Too many failed sign-ins")
    );
}

#[tokio::test]
async fn a_whole_postmortem_through_forms() {
    let app = App::start().await;
    let b = browser();
    let csrf = sign_in(&app, &b, "ada@example.com").await;

    let r = b
        .post(app.url("/new"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Checkout 500s"),
            ("severity", "SEV2"),
            ("started", "2026-11-20 14:02"),
            ("summary", ""),
        ])
        .send()
        .await
        .expect("new");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/pm/PM-1");

    // A form without the session's token changes nothing.
    let r = b
        .post(app.url("/pm/PM-1/edit/summary"))
        .form(&[
            ("csrf", "forged"),
            ("version", "1"),
            ("base", ""),
            ("summary", "forged"),
        ])
        .send()
        .await
        .expect("forged");
    assert_eq!(r.status(), 403);

    let page = b
        .get(app.url("/pm/PM-1"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let base = page
        .split("action=\"/pm/PM-1/edit/summary\"")
        .nth(1)
        .and_then(|rest| input_value(rest, "base"))
        .expect("summary base");
    let r = b
        .post(app.url("/pm/PM-1/edit/summary"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", "1"),
            ("base", base.as_str()),
            ("summary", "Hello <script>alert(1)</script> **bold**"),
        ])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), 303);

    // An action without an owner: the error is next to the field and the typed title is kept.
    let r = b
        .post(app.url("/pm/PM-1/actions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", "0"),
            ("base", ""),
            ("title", "Alert on pool saturation"),
            ("owner", ""),
            ("check_in", "2026-12-01"),
            ("category", "detect"),
            ("priority", "high"),
            ("status", "open"),
        ])
        .send()
        .await
        .expect("action");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("every action needs an owner"),
        "the error is shown"
    );
    assert!(
        html.contains("value=\"Alert on pool saturation\""),
        "what the user typed is kept"
    );
    let r = b
        .post(app.url("/pm/PM-1/actions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", "0"),
            ("base", ""),
            ("title", "Alert on pool saturation"),
            ("owner", "team:sre"),
            ("check_in", "2026-12-01"),
            ("category", "detect"),
            ("priority", "high"),
            ("status", "open"),
        ])
        .send()
        .await
        .expect("action");
    assert_eq!(r.status(), 303);

    let r = b
        .post(app.url("/pm/PM-1/events"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", "0"),
            ("base", ""),
            ("happened_at", "2026-11-20 14:06"),
            ("kind", "alert"),
            ("description", "Error-rate alert fires"),
            ("account_of", "Sam"),
            ("knew", "Only one region was red"),
        ])
        .send()
        .await
        .expect("event");
    assert_eq!(r.status(), 303);

    let r = b.get(app.url("/pm/PM-1")).send().await.expect("page");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let html = r.text().await.expect("html");
    assert!(
        !html.contains("<script>alert(1)"),
        "user HTML never reaches the page as HTML"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("<strong>bold</strong>"));
    assert!(html.contains("Error-rate alert fires") && html.contains("Sam"));
    assert!(html.contains("Alert on pool saturation"));
    assert!(
        !html.contains("action=\"/pm/PM-1/events/1\""),
        "event editors are drawn only when asked for"
    );
    let editing = b
        .get(app.url("/pm/PM-1?edit=event-1"))
        .send()
        .await
        .expect("edit")
        .text()
        .await
        .expect("html");
    assert!(editing.contains("action=\"/pm/PM-1/events/1\""));
    assert!(
        editing.contains("value=\"Sam\""),
        "the editor holds the event's values"
    );

    // Status: forward to in review, then publish; closing waits for the action.
    for (to, want) in [("in_review", 303), ("published", 303), ("closed", 409)] {
        let r = b
            .post(app.url("/pm/PM-1/status"))
            .form(&[("csrf", csrf.as_str()), ("to", to)])
            .send()
            .await
            .expect("status");
        assert_eq!(r.status(), want, "to {to}");
        if want == 409 {
            assert!(
                r.text()
                    .await
                    .unwrap_or_default()
                    .contains("Could not move to Closed")
            );
        }
    }
    let api: serde_json::Value = client()
        .get(app.url("/api/v1/postmortems/PM-1"))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(api["status"], "published");
    assert_eq!(
        api["summary"], "Hello <script>alert(1)</script> **bold**",
        "stored as typed"
    );
}

#[tokio::test]
async fn concurrent_edits_merge_by_section_and_conflicts_keep_both_texts() {
    let app = App::start().await;
    client()
        .post(app.url("/api/v1/postmortems"))
        .bearer_auth(&app.token)
        .json(&json!({"title": "Two editors", "severity": "SEV3"}))
        .send()
        .await
        .expect("create");
    let one = browser();
    let two = browser();
    let csrf1 = sign_in(&app, &one, "ada@example.com").await;
    let csrf2 = sign_in(&app, &two, "ada@example.com").await;
    let page = one
        .get(app.url("/pm/PM-1"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let base_of = |section: &str| {
        page.split(&format!("action=\"/pm/PM-1/edit/{section}\""))
            .nth(1)
            .and_then(|rest| input_value(rest, "base"))
            .expect("base")
    };
    let (summary_base, impact_base) = (base_of("summary"), base_of("impact"));

    // Both opened the page at version 1. One saves the summary…
    let r = one
        .post(app.url("/pm/PM-1/edit/summary"))
        .form(&[
            ("csrf", csrf1.as_str()),
            ("version", "1"),
            ("base", summary_base.as_str()),
            ("summary", "Written by the first editor"),
        ])
        .send()
        .await
        .expect("one");
    assert_eq!(r.status(), 303);
    // …the other the impact, from the same old version: a different section, so it merges.
    let r = two
        .post(app.url("/pm/PM-1/edit/impact"))
        .form(&[
            ("csrf", csrf2.as_str()),
            ("version", "1"),
            ("base", impact_base.as_str()),
            ("impact", "Half the orders failed"),
        ])
        .send()
        .await
        .expect("two");
    assert_eq!(r.status(), 303);
    // Then the second edits the summary from the old version too: a real conflict.
    let r = two
        .post(app.url("/pm/PM-1/edit/summary"))
        .form(&[
            ("csrf", csrf2.as_str()),
            ("version", "1"),
            ("base", summary_base.as_str()),
            ("summary", "Written by the second editor"),
        ])
        .send()
        .await
        .expect("conflict");
    assert_eq!(r.status(), 409);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("Someone else saved a change here"),
        "the conflict is explained"
    );
    assert!(
        html.contains("Written by the second editor"),
        "the user's text is kept in the form"
    );
    assert!(
        html.contains("Their version") && html.contains("Written by the first editor"),
        "theirs is shown"
    );

    let pm: serde_json::Value = client()
        .get(app.url("/api/v1/postmortems/PM-1"))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(
        pm["summary"], "Written by the first editor",
        "nothing was overwritten"
    );
    assert_eq!(
        pm["impact"], "Half the orders failed",
        "the other section's edit merged"
    );
}

#[tokio::test]
async fn the_setup_link_makes_one_admin_once() {
    let app = App::start().await;
    // The harness already made an admin; a setup token must not work then.
    let token = app.state.new_setup_token().expect("token");
    let r = browser()
        .post(app.url(&format!("/setup/{token}")))
        .form(&[
            ("name", "Mallory"),
            ("email", "m@example.com"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
        ])
        .send()
        .await
        .expect("setup");
    assert_eq!(r.status(), 409, "Debrief is already set up");
    let r = browser()
        .get(app.url("/setup/not-the-token"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
}
