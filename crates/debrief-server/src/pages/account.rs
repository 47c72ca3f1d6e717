//! Sign-in, sign-out, the first-start setup link, API tokens and the admin page.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use debrief_core::{Access, ApiToken, Email, Name, Scope, User, UserRole};
use debrief_store::{NewSession, UserChange};

use super::view::{self, Choice, Nav};
use super::{FormData, PageCaller, error_page, fail, render};
use crate::auth::{self, Caller, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;

fn cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// Starts a session for `user`; returns the `Set-Cookie` header value.
pub async fn start_session(state: &AppState, user: &User) -> Result<HeaderValue, ApiError> {
    let secret = auth::secret()?;
    let now = state.now();
    let ttl = state.config().session_ttl;
    state
        .store()
        .create_session(NewSession {
            hash: auth::digest(&secret),
            user_id: user.id,
            csrf: auth::secret()?,
            created_at: now,
            expires_at: now.checked_add(ttl).map_err(ApiError::internal)?,
        })
        .await?;
    Ok(cookie(state, SESSION_COOKIE, &secret, ttl.as_secs()))
}

/// Where to go after signing in: only a path on this site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    /// No user exists yet: point at the setup link instead.
    first_start: bool,
    csrf: String,
    next: String,
    email: String,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// The sign-in form. Its anti-forgery token is kept in a cookie; a browser that already has one
/// keeps it, so two open sign-in tabs both work.
fn login_form(
    state: &AppState,
    first_start: bool,
    status: StatusCode,
    next: &str,
    email: &str,
    error: &str,
    existing: Option<&str>,
) -> Response {
    let csrf = match existing.filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(c) => c.to_owned(),
        None => match auth::secret() {
            Ok(c) => c,
            Err(e) => return error_page(&e, None),
        },
    };
    let mut r = render(
        status,
        &LoginPage {
            nav: Nav::default(),
            first_start,
            csrf: csrf.clone(),
            next: safe_next(next).to_owned(),
            email: email.to_owned(),
            error: error.to_owned(),
        },
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie(state, LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    r
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let first_start = matches!(state.store().count_users().await, Ok(0));
    login_form(
        &state,
        first_start,
        StatusCode::OK,
        q.next.as_deref().unwrap_or("/"),
        "",
        "",
        auth::cookie_in(&headers, LOGIN_CSRF_COOKIE),
    )
}

pub async fn login(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: axum::http::HeaderMap,
    form: FormData,
) -> Response {
    let next = form.get("next").to_owned();
    let email = form.get("email").trim().to_owned();
    let sent_cookie = auth::cookie_in(&headers, LOGIN_CSRF_COOKIE)
        .unwrap_or_default()
        .to_owned();
    if sent_cookie.is_empty() || !auth::same(&sent_cookie, form.get("csrf")) {
        return login_form(
            &state,
            false,
            StatusCode::FORBIDDEN,
            &next,
            &email,
            "The sign-in form was out of date. Please try again.",
            None,
        );
    }
    let addr = connect.map(|c| c.0.0.ip());
    let now = state.now();
    if let Some(wait) = state.limiter().check(&email, addr, now) {
        let minutes = (wait.as_secs() + 59) / 60;
        return login_form(
            &state,
            false,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &email,
            &format!("Too many failed sign-ins. Try again in {minutes} minute(s)."),
            Some(&sent_cookie),
        );
    }
    match auth::sign_in(state.store(), &email, form.get("password")).await {
        Ok(Some(user)) => {
            state.limiter().succeeded(&email);
            match start_session(&state, &user).await {
                Ok(set_cookie) => {
                    let mut r = Redirect::to(safe_next(&next)).into_response();
                    r.headers_mut().append(header::SET_COOKIE, set_cookie);
                    r.headers_mut()
                        .append(header::SET_COOKIE, cookie(&state, LOGIN_CSRF_COOKIE, "", 0));
                    r
                }
                Err(e) => error_page(&e, None),
            }
        }
        Ok(None) => {
            state.limiter().failed(&email, addr, now);
            login_form(
                &state,
                false,
                StatusCode::UNAUTHORIZED,
                &next,
                &email,
                "That email and password do not match an active account.",
                Some(&sent_cookie),
            )
        }
        Err(e) => error_page(&e, None),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    if let auth::Via::Session { hash, .. } = &caller.via {
        if let Err(e) = state.store().delete_session(hash).await {
            return error_page(&e.into(), Some(&caller));
        }
        state.callers().forget_session(hash);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, cookie(&state, SESSION_COOKIE, "", 0));
    r
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    nav: Nav,
    token: String,
    name: String,
    email: String,
    errors: Vec<(String, String)>,
}

impl SetupPage {
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

pub async fn setup_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !state.is_setup_token(&token) {
        return error_page(
            &ApiError::not_found("this setup link (it works once, until the first admin exists)"),
            None,
        );
    }
    render(
        StatusCode::OK,
        &SetupPage {
            nav: Nav::default(),
            token,
            name: String::new(),
            email: String::new(),
            errors: Vec::new(),
        },
    )
}

pub async fn setup(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: FormData,
) -> Response {
    if !state.is_setup_token(&token) {
        return error_page(
            &ApiError::not_found("this setup link (it works once, until the first admin exists)"),
            None,
        );
    }
    let mut errors = Vec::new();
    let name = form
        .get("name")
        .parse::<Name>()
        .map_err(|e| errors.push(("name".to_owned(), e.message)));
    let email = form
        .get("email")
        .parse::<Email>()
        .map_err(|e| errors.push(("email".to_owned(), e.message)));
    let password = form.get("password");
    if let Err(e) = debrief_core::user::check_password(password) {
        errors.push(("password".to_owned(), e.message));
    } else if password != form.get("password2") {
        errors.push((
            "password2".to_owned(),
            "the two passwords differ".to_owned(),
        ));
    }
    let (Ok(name), Ok(email), true) = (name, email, errors.is_empty()) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                nav: Nav::default(),
                token,
                name: form.get("name").to_owned(),
                email: form.get("email").to_owned(),
                errors,
            },
        );
    };
    let user = match crate::api::accounts::create_user(
        state.store(),
        name,
        email,
        UserRole::Admin,
        password,
        true,
    )
    .await
    {
        Ok(u) => u,
        Err(e) => return error_page(&e, None),
    };
    state.clear_setup_token();
    match start_session(&state, &user).await {
        Ok(set_cookie) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().append(header::SET_COOKIE, set_cookie);
            r
        }
        Err(e) => error_page(&e, None),
    }
}

/// A token as the tokens and admin pages list it.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub scope: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
}

fn token_rows(state: &AppState, tokens: &[ApiToken], users: &[User]) -> Vec<TokenRow> {
    let zone = &state.config().zone;
    let now = state.now();
    tokens
        .iter()
        .map(|t| TokenRow {
            id: t.id.0,
            name: t.name.to_string(),
            owner: users
                .iter()
                .find(|u| u.id == t.user_id)
                .map(|u| u.name.to_string())
                .unwrap_or_default(),
            scope: t.scope.to_string(),
            created: view::instant(t.created_at, zone),
            expires: t
                .expires_at
                .map(|x| view::instant(x, zone))
                .unwrap_or_else(|| "never".to_owned()),
            last_used: t
                .last_used_at
                .map(|x| view::instant(x, zone))
                .unwrap_or_else(|| "never".to_owned()),
            state: if t.revoked_at.is_some() {
                "revoked"
            } else if t.is_active(now) {
                "active"
            } else {
                "expired"
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    nav: Nav,
    notifications: super::settings::MyNotifications,
    tokens: Vec<TokenRow>,
    scopes: Vec<Choice>,
    created: String,
    error: String,
}

async fn tokens_view(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    created: String,
    error: String,
    saved: bool,
) -> Response {
    let tokens = match state.store().list_tokens(Some(caller.user.id)).await {
        Ok(t) => t,
        Err(e) => return error_page(&e.into(), Some(caller)),
    };
    let notifications = match super::settings::my_notifications(state, caller, saved).await {
        Ok(n) => n,
        Err(e) => return error_page(&e, Some(caller)),
    };
    let allowed: Vec<&str> = Scope::ALL
        .iter()
        .filter(|s| {
            caller.user.role.allows(match s {
                Scope::Read => Access::Read,
                Scope::Write => Access::Write,
                Scope::Admin => Access::Admin,
            })
        })
        .map(|s| s.as_str())
        .collect();
    render(
        status,
        &TokensPage {
            nav: Nav::of(Some(caller), "tokens"),
            notifications,
            tokens: token_rows(state, &tokens, std::slice::from_ref(&caller.user)),
            scopes: view::choices(&allowed, "read"),
            created,
            error,
        },
    )
}

/// `?saved=notifications`: the notification choices were just saved.
#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

pub async fn tokens_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<SavedQuery>,
) -> Response {
    tokens_view(
        &state,
        &caller,
        StatusCode::OK,
        String::new(),
        String::new(),
        q.saved.as_deref() == Some("notifications"),
    )
    .await
}

pub async fn create_token(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    let parsed = (|| -> Result<(Name, Scope, Option<u32>), ApiError> {
        let name = form
            .get("name")
            .parse::<Name>()
            .map_err(|e| ApiError::invalid("name", e.message))?;
        let scope = form
            .get("scope")
            .parse::<Scope>()
            .map_err(|e| ApiError::invalid("scope", e.message))?;
        let days = match form.get("expires_in_days").trim() {
            "" => None,
            d => Some(d.parse::<u32>().map_err(|_| {
                ApiError::invalid("expires_in_days", format!("{d:?} is not a number of days"))
            })?),
        };
        Ok((name, scope, days))
    })();
    let result = match parsed {
        Ok((name, scope, days)) => {
            crate::api::accounts::issue_token(
                state.store(),
                state.now(),
                &caller.user,
                name,
                scope,
                days,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            tokens_view(
                &state,
                &caller,
                StatusCode::CREATED,
                created.token,
                String::new(),
                false,
            )
            .await
        }
        Err(e) if e.status.is_client_error() => {
            let message = match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            };
            tokens_view(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                message,
                false,
            )
            .await
        }
        Err(e) => error_page(&e, Some(&caller)),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    let id = debrief_core::TokenId(id);
    let mine = match state.store().list_tokens(Some(caller.user.id)).await {
        Ok(t) => t.iter().any(|t| t.id == id),
        Err(e) => return error_page(&e.into(), Some(&caller)),
    };
    if !mine && !caller.is_admin() {
        return error_page(
            &ApiError::not_found(format!("token {}", id.0)),
            Some(&caller),
        );
    }
    match state.store().revoke_token(id, state.now()).await {
        Ok(_) => {
            state.callers().forget_token(id);
            Redirect::to(if mine { "/tokens" } else { "/admin" }).into_response()
        }
        Err(e) => error_page(&e.into(), Some(&caller)),
    }
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub roles: Vec<Choice>,
    pub disabled: bool,
    pub created: String,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Nav,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    roles: Vec<Choice>,
    form_name: String,
    form_email: String,
    error: String,
    notice: String,
}

async fn admin_view(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    form: Option<&FormData>,
    error: String,
    notice: String,
) -> Response {
    let (users, tokens) = match (
        state.store().list_users().await,
        state.store().list_tokens(None).await,
    ) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => return error_page(&e.into(), Some(caller)),
    };
    let role_names: Vec<&str> = UserRole::ALL.iter().map(|r| r.as_str()).collect();
    let zone = &state.config().zone;
    render(
        status,
        &AdminPage {
            nav: Nav::of(Some(caller), "admin"),
            users: users
                .iter()
                .map(|u| UserRow {
                    id: u.id.0,
                    name: u.name.to_string(),
                    email: u.email.to_string(),
                    role: u.role.to_string(),
                    roles: view::choices(&role_names, u.role.as_str()),
                    disabled: u.disabled,
                    created: view::instant(u.created_at, zone),
                    me: u.id == caller.user.id,
                })
                .collect(),
            tokens: token_rows(state, &tokens, &users),
            roles: view::choices(&role_names, form.map_or("editor", |f| f.get("role"))),
            form_name: form.map(|f| f.get("name").to_owned()).unwrap_or_default(),
            form_email: form.map(|f| f.get("email").to_owned()).unwrap_or_default(),
            error,
            notice,
        },
    )
}

pub async fn admin_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    if let Err(e) = caller.require(Access::Admin) {
        return error_page(&e, Some(&caller));
    }
    admin_view(
        &state,
        &caller,
        StatusCode::OK,
        None,
        String::new(),
        String::new(),
    )
    .await
}

fn message_of(e: &ApiError) -> String {
    match &e.field {
        Some(f) => format!("{f}: {}", e.message),
        None => e.message.clone(),
    }
}

pub async fn add_user(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    if let Err(e) = caller.require(Access::Admin) {
        return error_page(&e, Some(&caller));
    }
    let parsed = (|| -> Result<(Name, Email, UserRole), ApiError> {
        Ok((
            form.get("name")
                .parse::<Name>()
                .map_err(|e| ApiError::invalid("name", e.message))?,
            form.get("email")
                .parse::<Email>()
                .map_err(|e| ApiError::invalid("email", e.message))?,
            form.get("role")
                .parse::<UserRole>()
                .map_err(|e| ApiError::invalid("role", e.message))?,
        ))
    })();
    let result = match parsed {
        Ok((name, email, role)) => {
            crate::api::accounts::create_user(
                state.store(),
                name,
                email,
                role,
                form.get("password"),
                false,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => {
            admin_view(
                &state,
                &caller,
                StatusCode::CREATED,
                None,
                String::new(),
                format!("Added {} ({}).", u.name, u.role),
            )
            .await
        }
        Err(e) if e.status.is_client_error() => {
            admin_view(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&form),
                message_of(&e),
                String::new(),
            )
            .await
        }
        Err(e) => error_page(&e, Some(&caller)),
    }
}

pub async fn change_user(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    if let Err(e) = caller.require(Access::Admin) {
        return error_page(&e, Some(&caller));
    }
    let id = debrief_core::UserId(id);
    let role = match form.get("role") {
        "" => None,
        r => match r.parse::<UserRole>() {
            Ok(r) => Some(r),
            Err(e) => return error_page(&ApiError::invalid("role", e.message), Some(&caller)),
        },
    };
    let disabled = match form.get("disabled") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    if id == caller.user.id
        && (disabled == Some(true) || role.is_some_and(|r| r != UserRole::Admin))
    {
        return admin_view(
            &state,
            &caller,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            "You cannot disable yourself or give up your own admin role; ask another admin."
                .to_owned(),
            String::new(),
        )
        .await;
    }
    match state
        .store()
        .update_user(
            id,
            UserChange {
                role,
                disabled,
                ..UserChange::default()
            },
        )
        .await
    {
        Ok(u) => {
            state.callers().forget_user(u.id);
            admin_view(
                &state,
                &caller,
                StatusCode::OK,
                None,
                String::new(),
                format!("Saved {}.", u.name),
            )
            .await
        }
        Err(e) => fail(&caller)(e.into()),
    }
}
