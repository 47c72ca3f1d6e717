//! The web app: server-rendered pages (askama templates in `templates/`), forms that work
//! without JavaScript (post, then redirect), and a little script that only adds comfort.
//!
//! Every form carries the session's CSRF token; every page is sent with the strict
//! Content-Security-Policy of [`crate::CSP`]; all user Markdown goes through
//! [`crate::markdown::render`].

#![expect(
    clippy::result_large_err,
    reason = "a page handler's early return is the whole response, built once per request"
)]

pub mod account;
pub mod assets;
pub mod board;
pub mod postmortem;
pub mod settings;
pub mod view;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::{Caller, identify};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(board::archive))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route(
            "/setup/{token}",
            get(account::setup_page).post(account::setup),
        )
        .route("/new", get(postmortem::new_page).post(postmortem::create))
        .route("/actions", get(board::actions))
        .route(
            "/tokens",
            get(account::tokens_page).post(account::create_token),
        )
        .route("/tokens/{id}/revoke", post(account::revoke_token))
        .route("/admin", get(account::admin_page))
        .route("/admin/users", post(account::add_user))
        .route("/admin/users/{id}", post(account::change_user))
        .route("/account/notifications", post(settings::save_notifications))
        .route(
            "/settings/channels",
            get(settings::channels_page).post(settings::add_channel),
        )
        .route("/settings/channels/{id}", post(settings::edit_channel))
        .route(
            "/settings/channels/{id}/enabled",
            post(settings::toggle_channel),
        )
        .route(
            "/settings/channels/{id}/remove",
            post(settings::remove_channel),
        )
        .route("/settings/channels/{id}/test", post(settings::test_channel))
        .route("/pm/{key}", get(postmortem::page))
        .route("/pm/{key}/edit/{section}", post(postmortem::edit_section))
        .route("/pm/{key}/status", post(postmortem::status))
        .route("/pm/{key}/restore", post(postmortem::restore))
        .route("/pm/{key}/events", post(postmortem::add_event))
        .route("/pm/{key}/events/{id}", post(postmortem::edit_event))
        .route("/pm/{key}/events/{id}/flags", post(postmortem::event_flags))
        .route("/pm/{key}/actions", post(postmortem::add_action))
        .route("/pm/{key}/actions/{id}", post(postmortem::edit_action))
        .route(
            "/pm/{key}/actions/{id}/progress",
            post(postmortem::progress),
        )
        .route("/pm/{key}/participants", post(postmortem::add_participant))
        .route(
            "/pm/{key}/participants/{id}",
            post(postmortem::edit_participant),
        )
}

/// A signed-in user viewing pages; without a session, the browser is sent to sign in and
/// brought back afterwards.
#[derive(Debug, Clone)]
pub struct PageCaller(pub Caller);

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match identify(parts, state).await {
            Ok(Some(caller)) => Ok(PageCaller(caller)),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                let target = if parts.method == axum::http::Method::GET && next != "/" {
                    format!("/login?next={}", encode(&next))
                } else {
                    "/login".to_owned()
                };
                Err(Redirect::to(&target).into_response())
            }
            Err(e) => Err(error_page(&e, None)),
        }
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form as sent: every name/value pair, in order (repeated names kept).
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, caller: &Caller) -> Result<(), Response> {
        if crate::auth::same(self.get("csrf"), caller.csrf()) && !caller.csrf().is_empty() {
            Ok(())
        } else {
            Err(error_page(
                &ApiError::forbidden(
                    "this form is out of date or did not come from Debrief (its anti-forgery token does not match); reload the page and try again",
                ),
                Some(caller),
            ))
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(pairs)) => Ok(FormData(pairs)),
            Err(e) => {
                let status = e.status();
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "the form is larger than this server accepts".to_owned()
                } else {
                    format!("the form could not be read: {e}")
                };
                Err(error_page(
                    &ApiError::new(status, "bad_request", message),
                    None,
                ))
            }
        }
    }
}

/// Renders a template, or a plain error if the template fails.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            ApiError::internal(format!("template: {e}"));
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "The page could not be drawn; the server log has the details.",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: view::Nav,
    title: String,
    message: &'a str,
}

/// A page for an error.
pub fn error_page(e: &ApiError, caller: Option<&Caller>) -> Response {
    let title = match e.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Someone else changed it",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    render(
        e.status,
        &ErrorPage {
            nav: view::Nav::of(caller, ""),
            title: title.to_owned(),
            message: &e.message,
        },
    )
}

pub fn not_found_page() -> Response {
    error_page(&ApiError::not_found("this page"), None)
}

/// Turns an API error into its page.
pub fn fail(caller: &Caller) -> impl Fn(ApiError) -> Response + '_ {
    move |e| error_page(&e, Some(caller))
}
