//! Accounts over the API: who am I, users (admins), and API tokens (shown once, stored hashed).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use debrief_core::{Access, ApiToken, Email, Name, Scope, TokenId, User, UserId, UserRole};
use debrief_store::{NewToken, NewUser, Store, UserChange};

use super::body::Json;
use crate::auth::{self, ApiCaller, Via};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Me {
    pub user: User,
    /// `session` or `token`.
    pub signed_in_with: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

pub async fn me(ApiCaller(caller): ApiCaller) -> axum::Json<Me> {
    let (signed_in_with, scope) = match caller.via {
        Via::Session { .. } => ("session", None),
        Via::Token { scope } => ("token", Some(scope)),
    };
    axum::Json(Me {
        user: caller.user,
        signed_in_with,
        scope,
    })
}

pub async fn users(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> ApiResult<axum::Json<Vec<User>>> {
    caller.require(Access::Admin)?;
    Ok(axum::Json(state.store().list_users().await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    pub name: Name,
    pub email: Email,
    pub role: UserRole,
    pub password: String,
}

/// Creates a user with a checked password; shared by the API, the admin page and the CLI.
pub async fn create_user(
    store: &dyn Store,
    name: Name,
    email: Email,
    role: UserRole,
    password: &str,
    only_if_none: bool,
) -> ApiResult<User> {
    debrief_core::user::check_password(password)?;
    let password = password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(ApiError::internal)??;
    Ok(store
        .create_user(
            NewUser {
                name,
                email,
                role,
                password_hash,
            },
            only_if_none,
        )
        .await?)
}

pub async fn add_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Json(u): Json<UserIn>,
) -> ApiResult<Response> {
    caller.require(Access::Admin)?;
    let user = create_user(state.store(), u.name, u.email, u.role, &u.password, false).await?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub name: Option<Name>,
    #[serde(default)]
    pub role: Option<UserRole>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
}

fn user_id(raw: &str) -> ApiResult<UserId> {
    raw.parse::<i64>()
        .map(UserId)
        .map_err(|_| ApiError::not_found(format!("user {raw:?}")))
}

pub async fn change_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    Json(p): Json<UserPatch>,
) -> ApiResult<axum::Json<User>> {
    caller.require(Access::Admin)?;
    let id = user_id(&id)?;
    if id == caller.user.id
        && (p.disabled == Some(true) || p.role.is_some_and(|r| r != UserRole::Admin))
    {
        return Err(ApiError::invalid(
            if p.disabled == Some(true) {
                "disabled"
            } else {
                "role"
            },
            "you cannot disable yourself or give up your own admin role; ask another admin",
        ));
    }
    let password_hash = match p.password {
        Some(pw) => {
            debrief_core::user::check_password(&pw)?;
            Some(
                tokio::task::spawn_blocking(move || auth::hash_password(&pw))
                    .await
                    .map_err(ApiError::internal)??,
            )
        }
        None => None,
    };
    let user = state
        .store()
        .update_user(
            id,
            UserChange {
                name: p.name,
                role: p.role,
                disabled: p.disabled,
                password_hash,
            },
        )
        .await?;
    state.callers().forget_user(user.id);
    Ok(axum::Json(user))
}

#[derive(Debug, Default, Deserialize)]
pub struct TokensQuery {
    /// Admins: `true` lists every user's tokens.
    pub all: Option<bool>,
}

pub async fn tokens(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<TokensQuery>,
) -> ApiResult<axum::Json<Vec<ApiToken>>> {
    let all = q.all.unwrap_or(false);
    if all {
        caller.require(Access::Admin)?;
    }
    let owner = (!all).then_some(caller.user.id);
    Ok(axum::Json(state.store().list_tokens(owner).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    pub name: Name,
    pub scope: Scope,
    /// Days until the token expires; none for a token that lasts until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A new token: its record and, this once, its secret.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub record: ApiToken,
    /// The secret. It is not stored and cannot be shown again.
    pub token: String,
}

/// Creates a token for `user`; a token never has more power than its user's role.
pub async fn issue_token(
    store: &dyn Store,
    now: jiff::Timestamp,
    user: &User,
    name: Name,
    scope: Scope,
    expires_in_days: Option<u32>,
) -> ApiResult<CreatedToken> {
    let needs = match scope {
        Scope::Read => Access::Read,
        Scope::Write => Access::Write,
        Scope::Admin => Access::Admin,
    };
    if !user.role.allows(needs) {
        return Err(ApiError::invalid(
            "scope",
            format!("a {} cannot make a token with the {scope} scope", user.role),
        ));
    }
    if expires_in_days == Some(0) || expires_in_days.is_some_and(|d| d > 3650) {
        return Err(ApiError::invalid(
            "expires_in_days",
            "must be from 1 to 3650 days, or left out for a token that lasts until revoked",
        ));
    }
    let expires_at = expires_in_days
        .map(|d| now.checked_add(jiff::SignedDuration::from_hours(24 * i64::from(d))))
        .transpose()
        .map_err(ApiError::internal)?;
    let secret = auth::new_token()?;
    let record = store
        .create_token(NewToken {
            user_id: user.id,
            name,
            scope,
            hash: auth::digest(&secret),
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(CreatedToken {
        record,
        token: secret,
    })
}

pub async fn create_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Json(t): Json<TokenIn>,
) -> ApiResult<Response> {
    if let Via::Token { scope } = caller.via
        && scope != Scope::Admin
        && t.scope > scope
    {
        return Err(ApiError::forbidden(
            "a token cannot create a token with a wider scope than its own",
        ));
    }
    let created = issue_token(
        state.store(),
        state.now(),
        &caller.user,
        t.name,
        t.scope,
        t.expires_in_days,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApiToken>> {
    let id = id
        .parse::<i64>()
        .map(TokenId)
        .map_err(|_| ApiError::not_found(format!("token {id:?}")))?;
    let mine = state.store().list_tokens(Some(caller.user.id)).await?;
    if !mine.iter().any(|t| t.id == id) {
        caller
            .require(Access::Admin)
            .map_err(|_| ApiError::not_found(format!("token {}", id.0)))?;
    }
    let revoked = state.store().revoke_token(id, state.now()).await?;
    state.callers().forget_token(id);
    Ok(axum::Json(revoked))
}
