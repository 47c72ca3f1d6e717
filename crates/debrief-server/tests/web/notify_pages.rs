//! The notification pages, driven like a browser without JavaScript: the admins' channels page,
//! each person's topics on their account page, and follow-through on the action board.

use jiff::ToSpan;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use debrief_core::notify::{ChannelId, ChannelTarget};
use debrief_core::{Scope, UserRole};

use crate::common::{App, browser, client, input_value, sign_in};

const SECRET: &str = "a-shared-secret-long-enough";

/// A webhook channel's form, as the add form sends it.
fn webhook_form<'a>(
    csrf: &'a str,
    name: &'a str,
    url: &'a str,
    secret: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("kind", "webhook"),
        ("version", "0"),
        ("name", name),
        ("url", url),
        ("secret", secret),
        ("owners", "team:sre, Ana Lima"),
        ("topics", "reminders"),
        ("topics", "digest"),
        ("enabled", "on"),
    ]
}

async fn page(b: &reqwest::Client, url: String) -> (u16, String) {
    let r = b.get(url).send().await.expect("get");
    let status = r.status().as_u16();
    (status, r.text().await.expect("html"))
}

async fn post(b: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String) {
    let r = b.post(url).form(form).send().await.expect("post");
    let status = r.status().as_u16();
    (status, r.text().await.expect("html"))
}

/// The part of the page that draws channel `id` (its row, tools and edit form).
fn channel_part(html: &str, id: i64) -> String {
    let start = format!("<tbody id=\"channel-{id}\">");
    html.split(&start)
        .nth(1)
        .and_then(|rest| rest.split("</tbody>").next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_admin_adds_a_webhook_channel_and_never_sees_its_secret() {
    let app = App::start().await;
    let b = browser();
    let csrf = sign_in(&app, &b, "ada@example.com").await;

    let (status, html) = page(&b, app.url("/admin")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"/settings/channels\""),
        "linked from the admin page and nav"
    );
    let (status, html) = page(&b, app.url("/settings/channels")).await;
    assert_eq!(status, 200);
    assert!(html.contains("No channels yet"), "{html}");

    let (status, html) = post(
        &b,
        app.url("/settings/channels"),
        &webhook_form(
            &csrf,
            "audit-hook",
            "https://receiver.example/debrief",
            SECRET,
        ),
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert!(
        html.contains("Added the Webhook channel audit-hook"),
        "{html}"
    );

    let (status, html) = page(&b, app.url("/settings/channels")).await;
    assert_eq!(status, 200);
    let channels = app.state.store().list_channels().await.expect("channels");
    assert_eq!(channels.len(), 1);
    let id = channels[0].id.0;
    let row = channel_part(&html, id);
    assert!(row.contains("<strong>audit-hook</strong>"), "{row}");
    assert!(
        row.contains("signed webhook https://receiver.example/debrief"),
        "{row}"
    );
    assert!(row.contains("reminders, digest"), "{row}");
    assert!(row.contains("team:sre, Ana Lima"), "{row}");
    assert!(row.contains("enabled"), "{row}");
    assert!(!html.contains(SECRET), "the secret is never drawn");
    assert!(
        row.contains("name=\"secret\" value=\"********\""),
        "the edit form shows the secret redacted: {row}"
    );

    // Saving the edit form as drawn, with a new name, keeps the secret.
    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{id}")),
        &[
            ("csrf", csrf.as_str()),
            ("kind", "webhook"),
            ("version", "1"),
            ("name", "audit"),
            ("url", "https://receiver.example/debrief"),
            ("secret", "********"),
            ("owners", "team:sre"),
            ("topics", "reminders"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Saved the channel audit."), "{html}");
    let stored = app
        .state
        .store()
        .get_channel(ChannelId(id))
        .await
        .expect("channel");
    assert_eq!(stored.fields.name.as_str(), "audit");
    match &stored.fields.target {
        ChannelTarget::Webhook { secret, .. } => assert_eq!(secret, SECRET, "kept"),
        other => panic!("kind changed: {other:?}"),
    }

    // An edit made on the old version is refused; what was typed stays, theirs is beside it.
    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{id}")),
        &[
            ("csrf", csrf.as_str()),
            ("kind", "webhook"),
            ("version", "1"),
            ("name", "audit-renamed-meanwhile"),
            ("url", "https://receiver.example/debrief"),
            ("secret", "********"),
            ("topics", "digest"),
        ],
    )
    .await;
    assert_eq!(status, 409, "{html}");
    let row = channel_part(&html, id);
    assert!(
        row.contains("Someone else saved a change to this channel"),
        "{row}"
    );
    assert!(row.contains("value=\"audit-renamed-meanwhile\""), "{row}");
    assert!(row.contains("Their version, saved meanwhile"), "{row}");
    assert_eq!(
        input_value(&row, "version").as_deref(),
        Some("2"),
        "the form now edits the current version"
    );
    assert!(!html.contains(SECRET));

    // Disable, then remove.
    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{id}/enabled")),
        &[("csrf", csrf.as_str()), ("enabled", "false")],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Disabled audit"), "{html}");
    assert!(channel_part(&html, id).contains("disabled"));
    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{id}/remove")),
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(status, 403, "{html}");
    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{id}/remove")),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Removed the channel audit"), "{html}");
    assert!(html.contains("No channels yet"));
}

#[tokio::test]
async fn a_refused_channel_keeps_what_was_typed_and_names_the_field() {
    let app = App::start().await;
    let b = browser();
    let csrf = sign_in(&app, &b, "ada@example.com").await;

    let (status, html) = post(
        &b,
        app.url("/settings/channels"),
        &webhook_form(
            &csrf,
            "audit-hook",
            "https://receiver.example/typed",
            "short",
        ),
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("must be at least 16 characters"), "{html}");
    assert!(
        html.contains("name=\"url\" value=\"https://receiver.example/typed\""),
        "the typed URL is kept"
    );
    assert!(
        html.contains("value=\"team:sre, Ana Lima\""),
        "the typed owners too"
    );
    let form = html
        .split("id=\"add-webhook\"")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_default();
    assert!(form.starts_with(" open"), "the form is drawn open: {form}");
    assert!(
        form.contains(
            "aria-invalid=\"true\"></label><p class=\"field-error\" role=\"alert\">must be at least 16"
        ),
        "the error is next to the field: {form}"
    );
    assert!(
        app.state
            .store()
            .list_channels()
            .await
            .expect("list")
            .is_empty()
    );

    // A bad URL, and an email channel with a bad sender: each next to its field.
    let (status, html) = post(
        &b,
        app.url("/settings/channels"),
        &webhook_form(&csrf, "audit-hook", "receiver.example/no-scheme", SECRET),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("is not a link"), "{html}");
    let (status, html) = post(
        &b,
        app.url("/settings/channels"),
        &[
            ("csrf", csrf.as_str()),
            ("kind", "email"),
            ("version", "0"),
            ("name", "mail"),
            ("host", "smtp.example.com"),
            ("port", ""),
            ("security", "starttls"),
            ("from", "not an address"),
            ("to", "platform@example.com"),
            ("topics", "reminders"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("value=\"not an address\""), "{html}");
    assert!(html.contains("value=\"smtp.example.com\""));
    let email_form = html
        .split("id=\"add-email\"")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_default();
    assert!(email_form.contains("name=\"from\""));
    assert!(
        email_form
            .split("name=\"from\"")
            .nth(1)
            .is_some_and(|after| after.contains("class=\"field-error\"")),
        "the sender's error follows its field"
    );

    // A name another channel has (in another case) is refused next to the name.
    let (status, _) = post(
        &b,
        app.url("/settings/channels"),
        &webhook_form(&csrf, "audit-hook", "https://receiver.example/a", SECRET),
    )
    .await;
    assert_eq!(status, 201);
    let (status, html) = post(
        &b,
        app.url("/settings/channels"),
        &webhook_form(&csrf, "Audit-Hook", "https://receiver.example/b", SECRET),
    )
    .await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("already exists"), "{html}");
    assert!(html.contains("value=\"https://receiver.example/b\""));
    assert_eq!(
        app.state.store().list_channels().await.expect("list").len(),
        1
    );
}

#[tokio::test]
async fn a_test_send_shows_how_it_went() {
    let app = App::start().await;
    let b = browser();
    let csrf = sign_in(&app, &b, "ada@example.com").await;

    // A receiver that accepts, and a port nobody listens on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ok_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
        axum::serve(listener, app).await.expect("serve");
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_addr = closed.local_addr().expect("addr");
    drop(closed);

    for (name, url) in [
        ("up", format!("http://{ok_addr}/hook")),
        ("down", format!("http://{closed_addr}/hook")),
    ] {
        let (status, html) = post(
            &b,
            app.url("/settings/channels"),
            &webhook_form(&csrf, name, &url, SECRET),
        )
        .await;
        assert_eq!(status, 201, "{html}");
    }
    let channels = app.state.store().list_channels().await.expect("list");
    let (up, down) = (channels[0].id.0, channels[1].id.0);

    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{up}/test")),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(
        channel_part(&html, up).contains("Sent a test through up"),
        "{html}"
    );

    let (status, html) = post(
        &b,
        app.url(&format!("/settings/channels/{down}/test")),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let row = channel_part(&html, down);
    assert!(
        row.contains("The test through down failed:") && row.contains("could not be reached"),
        "the sender's own error is shown: {row}"
    );
}

#[tokio::test]
async fn a_viewer_may_not_manage_channels() {
    let app = App::start().await;
    app.user(
        "Vic Viewer",
        "vic@example.com",
        UserRole::Viewer,
        Scope::Read,
    )
    .await;
    let b = browser();
    let csrf = sign_in(&app, &b, "vic@example.com").await;
    let (status, html) = page(&b, app.url("/settings/channels")).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("Not allowed"));
    let (status, home) = page(&b, app.url("/")).await;
    assert_eq!(status, 200);
    assert!(
        !home.contains("/settings/channels"),
        "no link for non-admins"
    );
    let (status, _) = post(
        &b,
        app.url("/settings/channels"),
        &webhook_form(&csrf, "sneaky", "https://receiver.example/x", SECRET),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        app.state
            .store()
            .list_channels()
            .await
            .expect("list")
            .is_empty()
    );
    // Without a session: sent to sign in.
    let r = client()
        .get(app.url("/settings/channels"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn my_notifications_are_saved_and_shown_checked() {
    let app = App::start().await;
    let token = app
        .user(
            "Ed Editor",
            "ed@example.com",
            UserRole::Editor,
            Scope::Write,
        )
        .await;
    let b = browser();
    let csrf = sign_in(&app, &b, "ed@example.com").await;

    let (status, html) = page(&b, app.url("/tokens")).await;
    assert_eq!(status, 200);
    assert!(html.contains("My notifications"), "{html}");
    assert!(
        html.contains("Email is not configured yet: ask an admin"),
        "{html}"
    );
    for t in ["reminders", "escalations", "reviews", "digest"] {
        assert!(
            html.contains(&format!("value=\"{t}\" checked")),
            "every topic until chosen: {t}"
        );
    }
    assert!(html.contains("before and after the check-in date of an action I own"));

    let r = b
        .post(app.url("/account/notifications"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("topics", "reminders"),
            ("topics", "digest"),
        ])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(to, "/tokens?saved=notifications#notifications");
    let (_, html) = page(&b, app.url(&to)).await;
    assert!(
        html.contains("Saved: you receive reminders, digest."),
        "{html}"
    );
    let (_, html) = page(&b, app.url("/tokens")).await;
    assert!(
        !html.contains("Saved: you receive"),
        "the confirmation shows once"
    );
    assert!(html.contains("value=\"reminders\" checked"));
    assert!(html.contains("value=\"digest\" checked"));
    assert!(html.contains("value=\"escalations\">"), "{html}");
    assert!(html.contains("value=\"reviews\">"));

    let prefs: Value = client()
        .get(app.url("/api/v1/me/preferences"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(prefs["topics"], json!(["reminders", "digest"]), "{prefs}");

    // A forged form changes nothing.
    let r = b
        .post(app.url("/account/notifications"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("forged");
    assert_eq!(r.status(), 403);

    // Once an admin adds an email channel, the page says so.
    let admin = browser();
    let admin_csrf = sign_in(&app, &admin, "ada@example.com").await;
    let (status, html) = post(
        &admin,
        app.url("/settings/channels"),
        &[
            ("csrf", admin_csrf.as_str()),
            ("kind", "email"),
            ("version", "0"),
            ("name", "mail"),
            ("host", "smtp.example.com"),
            ("port", "587"),
            ("security", "starttls"),
            ("username", "debrief"),
            ("password", "smtp-password-1"),
            ("from", "Debrief <debrief@example.com>"),
            ("topics", "reminders"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert!(!html.contains("smtp-password-1"));
    let (_, html) = page(&b, app.url("/tokens")).await;
    assert!(
        html.contains("Email is on: these go to ed@example.com."),
        "{html}"
    );
}

#[tokio::test]
async fn the_board_shows_follow_through() {
    let app = App::start().await;
    let c = client();
    let today = app.state.now().to_zoned(TimeZone::UTC).date();
    let later = today.checked_add(10.days()).expect("date").to_string();
    let past = today.checked_sub(3.days()).expect("date").to_string();
    let r = c
        .post(app.url("/api/v1/postmortems"))
        .bearer_auth(&app.token)
        .json(&json!({"title": "Queue backlog", "severity": "SEV3"}))
        .send()
        .await
        .expect("pm");
    assert_eq!(r.status(), 201);
    let mut ids = Vec::new();
    for (title, check_in) in [("Alert on depth", &later), ("Load-test the queue", &past)] {
        let a: Value = c
            .post(app.url("/api/v1/postmortems/PM-1/actions"))
            .bearer_auth(&app.token)
            .json(&json!({"title": title, "category": "detect", "owner": "Ada Admin", "check_in": check_in, "priority": "medium", "status": "open"}))
            .send()
            .await
            .expect("action")
            .json()
            .await
            .expect("json");
        ids.push(a["id"].as_i64().expect("id"));
    }
    let r = c
        .patch(app.url(&format!("/api/v1/actions/{}", ids[0])))
        .bearer_auth(&app.token)
        .header("If-Match", "\"1\"")
        .json(&json!({"status": "done"}))
        .send()
        .await
        .expect("done");
    assert_eq!(r.status(), 200);

    let b = browser();
    sign_in(&app, &b, "ada@example.com").await;
    let (status, html) = page(&b, app.url("/actions?view=all")).await;
    assert_eq!(status, 200);
    let ft = html
        .split("class=\"card follow-through\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("a follow-through section");
    let tile = |label: &str| -> String {
        ft.split(&format!("<dt>{label}"))
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(ft.contains("of the 2 action(s) shown"), "{ft}");
    assert!(
        tile("On time").contains("<strong>1</strong> <span class=\"muted\">50%</span>"),
        "{ft}"
    );
    assert!(tile("Late").contains("<strong>0</strong>"), "{ft}");
    assert!(tile("Declined").contains("<strong>0</strong>"), "{ft}");
    assert!(
        tile("Open")
            .contains("<strong>1</strong> <span class=\"muted\">50%</span> (1 overdue, 50%)"),
        "{ft}"
    );
    assert!(tile("Median days overdue").contains("3 days"), "{ft}");
    assert!(ft.contains("<a href=\"/pm/PM-1\">PM-1</a>"), "{ft}");
    assert!(ft.contains("Queue backlog"), "{ft}");

    // The board's view narrows what is measured: the overdue view has the one overdue action.
    let (_, html) = page(&b, app.url("/actions?view=overdue")).await;
    assert!(html.contains("of the 1 action(s) shown"), "{html}");

    // The postmortem page has its own line.
    let (_, html) = page(&b, app.url("/pm/PM-1")).await;
    assert!(
        html.contains("Follow-through: 1 on time (50%), 0 late (0%), 0 declined (0%), 1 open (1 overdue); median 3 days overdue."),
        "{html}"
    );
}
