//! Who is asking: password hashing (argon2id), secrets for sessions and API tokens, and the
//! extractors that turn a request's cookie or bearer token into a [`Caller`].
//!
//! Secrets never reach the database: a session cookie or a token is looked up by the SHA-256 of
//! its secret, so a copy of the database cannot be used to sign in.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use sha2::{Digest, Sha256};

use debrief_core::{Access, Email, Reader, Scope, Status, User, UserRole};
use debrief_store::{Credentials, Store};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "debrief_session";
/// The cookie that carries the login form's anti-forgery token before there is a session.
pub const LOGIN_CSRF_COOKIE: &str = "debrief_login";
/// The header a browser script sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Every API token starts with this, so a leaked one is easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "dbf_";

/// 32 random bytes as lower-case hex.
pub fn secret() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(hex(&bytes))
}

/// A new API token's secret, `dbf_…`.
pub fn new_token() -> ApiResult<String> {
    Ok(format!("{TOKEN_PREFIX}{}", secret()?))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// What the store keeps of a secret.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// An argon2id hash of a password, as a PHC string.
pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to verify against when the email is unknown, so that a wrong email takes as long as a
/// wrong password and sign-in does not reveal who has an account.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("debrief-decoy-password").unwrap_or_default())
}

/// Checks an email and password. `None` when either is wrong or the user is disabled.
pub async fn sign_in(store: &dyn Store, email: &str, password: &str) -> ApiResult<Option<User>> {
    let Ok(email) = email.parse::<Email>() else {
        return Ok(None);
    };
    let found = store.credentials(&email).await?;
    let stored = found
        .as_ref()
        .map_or(decoy_hash(), |c: &Credentials| c.password_hash.as_str())
        .to_owned();
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(ApiError::internal)?;
    Ok(match found {
        Some(c) if ok && !c.user.disabled => Some(c.user),
        _ => None,
    })
}

/// How a caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session; state-changing requests must carry its CSRF token.
    Session { hash: String, csrf: String },
    /// An API token, limited to its scope.
    Token { scope: Scope },
}

/// A signed-in user making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: User,
    pub via: Via,
}

impl Caller {
    /// Refuses with 403 unless both the user's role and (for a token) its scope allow `access`.
    pub fn require(&self, access: Access) -> ApiResult<()> {
        if !self.user.role.allows(access) {
            let needed = match access {
                Access::Read => "viewer",
                Access::Write => "editor",
                Access::Admin => "admin",
            };
            return Err(ApiError::forbidden(format!(
                "this needs the {needed} role; you are {}",
                self.user.role
            )));
        }
        if let Via::Token { scope } = &self.via
            && !scope.allows(access)
        {
            return Err(ApiError::forbidden(format!(
                "this token's scope is {scope}; the request needs {}",
                match access {
                    Access::Read => "read",
                    Access::Write => "write",
                    Access::Admin => "admin",
                }
            )));
        }
        Ok(())
    }

    /// The name written to the revision history.
    pub fn actor(&self) -> &str {
        self.user.name.as_str()
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == UserRole::Admin
    }

    pub fn can_write(&self) -> bool {
        self.user.role.allows(Access::Write)
    }

    /// Whether this caller may see a postmortem in `status` with these participants.
    pub fn may_see<'a>(
        &self,
        status: Status,
        participants: impl IntoIterator<Item = &'a debrief_core::ParticipantFields>,
    ) -> bool {
        let me = &self.user;
        let participant = participants.into_iter().any(|p| {
            p.name.as_str().eq_ignore_ascii_case(me.name.as_str())
                || p.contact
                    .as_ref()
                    .is_some_and(|c| c.as_str().eq_ignore_ascii_case(me.email.as_str()))
        });
        debrief_core::user::may_see(
            status,
            Reader {
                role: me.role,
                participant,
            },
        )
    }
}

/// The value of cookie `name` in a request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

/// The value of cookie `name` in request headers.
pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Callers recently found by their session or token, for a moment
/// ([`Config::caller_ttl`](crate::Config::caller_ttl), 2 s by default), so that a browser or
/// script making many requests is looked up once per moment rather than on every request.
///
/// What that costs, and why it is bounded: a sign-out, a revoked token, or a user disabled or
/// given another role takes effect at once on this instance (each of those forgets the affected
/// callers here), and within the moment on other instances and for changes made with the CLI.
/// A session or token that expires is refused at its expiry time on every instance (the expiry
/// is kept with the caller and checked on every use).
#[derive(Debug)]
pub struct CallerCache {
    ttl: std::time::Duration,
    recent: std::sync::Mutex<std::collections::HashMap<String, Recent>>,
}

#[derive(Debug, Clone)]
struct Recent {
    caller: Caller,
    /// The token's id, to forget it when it is revoked.
    token: Option<debrief_core::TokenId>,
    /// When the session or token expires, if it does.
    expires_at: Option<jiff::Timestamp>,
    found: std::time::Instant,
}

/// The most callers kept; past it, all are forgotten (they are found again on their next
/// request).
const MAX_CALLERS: usize = 10_000;

impl CallerCache {
    /// Keeps callers for `ttl`; zero keeps none.
    pub fn new(ttl: std::time::Duration) -> CallerCache {
        CallerCache {
            ttl,
            recent: std::sync::Mutex::default(),
        }
    }

    fn get(&self, hash: &str, now: jiff::Timestamp) -> Option<Caller> {
        if self.ttl.is_zero() {
            return None;
        }
        let recent = self.recent.lock().ok()?;
        let r = recent.get(hash)?;
        (r.found.elapsed() < self.ttl && r.expires_at.is_none_or(|t| t > now))
            .then(|| r.caller.clone())
    }

    fn put(
        &self,
        hash: String,
        caller: &Caller,
        token: Option<debrief_core::TokenId>,
        expires_at: Option<jiff::Timestamp>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= MAX_CALLERS {
                recent.clear();
            }
            recent.insert(
                hash,
                Recent {
                    caller: caller.clone(),
                    token,
                    expires_at,
                    found: std::time::Instant::now(),
                },
            );
        }
    }

    fn forget_where(&self, gone: impl Fn(&Recent) -> bool) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.retain(|_, r| !gone(r));
        }
    }

    /// Forgets the caller of a session (signed out).
    pub fn forget_session(&self, hash: &str) {
        if let Ok(mut recent) = self.recent.lock() {
            recent.remove(hash);
        }
    }

    /// Forgets the caller of a token (revoked).
    pub fn forget_token(&self, id: debrief_core::TokenId) {
        self.forget_where(|r| r.token == Some(id));
    }

    /// Forgets every session and token of a user (disabled, another role or name).
    pub fn forget_user(&self, id: debrief_core::UserId) {
        self.forget_where(|r| r.caller.user.id == id);
    }
}

/// Finds the caller of a request, if any: a bearer token first, else the session cookie.
pub async fn identify(parts: &Parts, state: &AppState) -> ApiResult<Option<Caller>> {
    let now = state.now();
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let value = auth.to_str().unwrap_or_default();
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or(value.strip_prefix("bearer "))
        else {
            return Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the Authorization header must be `Bearer <token>`",
            ));
        };
        let hash = digest(token.trim());
        if let Some(caller) = state.callers().get(&hash, now) {
            return Ok(Some(caller));
        }
        return match state.store().authenticate_token(&hash, now).await? {
            Some((t, user)) => {
                let caller = Caller {
                    user,
                    via: Via::Token { scope: t.scope },
                };
                state.callers().put(hash, &caller, Some(t.id), t.expires_at);
                Ok(Some(caller))
            }
            None => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "this API token is unknown, revoked or expired, or its user is disabled",
            )),
        };
    }
    let Some(secret) = cookie(parts, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = digest(secret);
    if let Some(caller) = state.callers().get(&hash, now) {
        return Ok(Some(caller));
    }
    let Some(s) = state.store().session(&hash, now).await? else {
        return Ok(None);
    };
    let caller = Caller {
        user: s.user,
        via: Via::Session {
            hash: hash.clone(),
            csrf: s.csrf,
        },
    };
    state.callers().put(hash, &caller, None, Some(s.expires_at));
    Ok(Some(caller))
}

/// An API caller: 401 without credentials; a cookie-authenticated request that changes anything
/// must carry the session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<ApiCaller> {
        let caller = identify(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if let Via::Session { csrf, .. } = &caller.via {
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !safe && !same(sent, csrf) {
                return Err(ApiError::forbidden(
                    "a request signed in by cookie must send the page's CSRF token in X-CSRF-Token",
                )
                .at(CSRF_HEADER));
            }
        }
        Ok(ApiCaller(caller))
    }
}
