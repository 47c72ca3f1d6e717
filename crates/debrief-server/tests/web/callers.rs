//! Callers found by their session or token are trusted for a moment (`Config::caller_ttl`):
//! sign-out, revocation and disabling take effect at once on the instance that did them, within
//! the moment on another instance, and an expired session is refused at its expiry regardless.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use reqwest::cookie::{CookieStore, Jar};

use debrief_core::{Scope, UserRole};
use debrief_server::Config;
use debrief_store::{Accounts, UserChange};
use debrief_store_sqlite::SqliteStore;

use crate::common::{App, client, sign_in};

/// A browser whose cookies the test can read.
fn browser_with(jar: &Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn cookies(app: &App, jar: &Jar) -> String {
    let url = app.url("/").parse().expect("url");
    jar.cookies(&url)
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .unwrap_or_default()
}

async fn me(app: &App, token: &str) -> u16 {
    client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me")
        .status()
        .as_u16()
}

async fn home(app: &App, cookie: &str) -> u16 {
    client()
        .get(app.url("/"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("home")
        .status()
        .as_u16()
}

#[tokio::test]
async fn disabling_elsewhere_takes_effect_within_the_moment() {
    let ttl = Duration::from_millis(400);
    let app = App::start_with(Config {
        caller_ttl: ttl,
        ..Config::default()
    })
    .await;
    let token = app
        .user(
            "Eve Editor",
            "eve@example.com",
            UserRole::Editor,
            Scope::Write,
        )
        .await;
    let jar = Arc::new(Jar::default());
    let eve = browser_with(&jar);
    sign_in(&app, &eve, "eve@example.com").await;
    let cookie = cookies(&app, &jar);
    assert!(cookie.contains("debrief_session="), "{cookie}");
    assert_eq!(me(&app, &token).await, 200);
    assert_eq!(home(&app, &cookie).await, 200);

    // Another instance (a second store on the same database) disables Eve: her token and her
    // session stop working here once the moment has passed.
    let other = SqliteStore::open(&app.db).await.expect("second store");
    let users = other.list_users().await.expect("users");
    let id = users
        .iter()
        .find(|u| u.email.as_str() == "eve@example.com")
        .expect("eve")
        .id;
    other
        .update_user(
            id,
            UserChange {
                disabled: Some(true),
                ..UserChange::default()
            },
        )
        .await
        .expect("disable elsewhere");
    tokio::time::sleep(ttl + Duration::from_millis(150)).await;
    assert_eq!(me(&app, &token).await, 401, "the token, after the moment");
    assert_eq!(
        home(&app, &cookie).await,
        303,
        "the session, after the moment"
    );
}

#[tokio::test]
async fn revoking_and_signing_out_here_take_effect_at_once() {
    // A moment far longer than the test: only forgetting can explain a refusal.
    let app = App::start_with(Config {
        caller_ttl: Duration::from_secs(600),
        ..Config::default()
    })
    .await;
    let token = app
        .user("Bo Viewer", "bo@example.com", UserRole::Viewer, Scope::Read)
        .await;
    assert_eq!(me(&app, &token).await, 200);
    let tokens: serde_json::Value = client()
        .get(app.url("/api/v1/tokens?all=true"))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("tokens")
        .json()
        .await
        .expect("json");
    let bo = tokens
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == "t"))
        .and_then(|t| t["id"].as_i64())
        .expect("Bo's token");
    let r = client()
        .delete(app.url(&format!("/api/v1/tokens/{bo}")))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 200);
    assert_eq!(me(&app, &token).await, 401, "revoked here: refused at once");

    let jar = Arc::new(Jar::default());
    let bo = browser_with(&jar);
    let csrf = sign_in(&app, &bo, "bo@example.com").await;
    let cookie = cookies(&app, &jar);
    assert_eq!(home(&app, &cookie).await, 200);
    let r = bo
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 303);
    assert_eq!(
        home(&app, &cookie).await,
        303,
        "signed out here: the old cookie is refused at once"
    );

    // And a user disabled here.
    let token = app
        .user("Cy Editor", "cy@example.com", UserRole::Editor, Scope::Read)
        .await;
    let me_json: serde_json::Value = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let id = me_json["user"]["id"].as_i64().expect("id");
    let r = client()
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&app.token)
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await
        .expect("disable");
    assert_eq!(r.status(), 200);
    assert_eq!(
        me(&app, &token).await,
        401,
        "disabled here: refused at once"
    );
}

#[tokio::test]
async fn a_session_expires_on_time_even_when_recently_seen() {
    let app = App::start_with(Config {
        session_ttl: SignedDuration::from_secs(1),
        caller_ttl: Duration::from_secs(60),
        ..Config::default()
    })
    .await;
    let jar = Arc::new(Jar::default());
    let ada = browser_with(&jar);
    sign_in(&app, &ada, "ada@example.com").await;
    let cookie = cookies(&app, &jar);
    assert_eq!(home(&app, &cookie).await, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(home(&app, &cookie).await, 303, "expired: sent to sign in");
}
