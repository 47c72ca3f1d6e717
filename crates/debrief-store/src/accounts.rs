//! The accounts part of the storage port: users, browser sessions and API tokens. Kept in the
//! database so that several `debrief serve` instances share them.
//!
//! Secrets never reach the store: sessions and tokens are looked up by a hash of their secret
//! (computed by the server), and passwords are stored as argon2 hashes made by the server.

use async_trait::async_trait;
use jiff::Timestamp;

use debrief_core::{ApiToken, Email, Name, Scope, TokenId, User, UserId, UserRole};

use crate::Result;

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: Name,
    pub email: Email,
    pub role: UserRole,
    /// A PHC string (`$argon2id$…`).
    pub password_hash: String,
}

/// What sign-in needs: the user and their password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub name: Option<Name>,
    pub role: Option<UserRole>,
    /// Disabling a user also ends all their sessions; their tokens stop working while disabled.
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// A browser session to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Hex SHA-256 of the session cookie's secret.
    pub hash: String,
    pub user_id: UserId,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// An API token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub user_id: UserId,
    pub name: Name,
    pub scope: Scope,
    /// Hex SHA-256 of the token's secret.
    pub hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// Users, sessions and tokens. Every method is atomic.
#[async_trait]
pub trait Accounts: Send + Sync {
    async fn count_users(&self) -> Result<u64>;
    /// Creates a user; an email already in use is [`StoreError::Duplicate`](crate::StoreError).
    /// With `only_if_none`, the user is created only if there is no user at all yet (the
    /// first-start setup link), else [`StoreError::Duplicate`](crate::StoreError) — checked and
    /// written in one transaction, so two setup links cannot both make an admin.
    async fn create_user(&self, user: NewUser, only_if_none: bool) -> Result<User>;
    /// All users, by id.
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn get_user(&self, id: UserId) -> Result<User>;
    /// The user with this email and their password hash, if there is one (disabled or not).
    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>>;
    /// Changes a user. Disabling one deletes their sessions in the same transaction.
    async fn update_user(&self, id: UserId, change: UserChange) -> Result<User>;

    async fn create_session(&self, session: NewSession) -> Result<()>;
    /// The session with this hash, if it exists, has not expired at `now`, and its user is not
    /// disabled.
    async fn session(&self, hash: &str, now: Timestamp) -> Result<Option<Session>>;
    async fn delete_session(&self, hash: &str) -> Result<()>;
    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;

    async fn create_token(&self, token: NewToken) -> Result<ApiToken>;
    /// Tokens of one user, or of everyone, newest first (revoked ones included).
    async fn list_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>>;
    /// Revokes a token (idempotent: revoking a revoked token keeps its first revocation time).
    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<ApiToken>;
    /// The active token with this hash and its user — not revoked, not expired at `now`, user not
    /// disabled — and records `now` as its last use. Last use is kept to the minute (see
    /// [`last_use_is_stale`]): most calls only read, so API requests do not queue on writes.
    async fn authenticate_token(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, User)>>;
}

/// Whether a token's recorded last use should be rewritten at `now`: never recorded, or a minute
/// or more ago.
pub fn last_use_is_stale(last_used_at: Option<Timestamp>, now: Timestamp) -> bool {
    last_used_at.is_none_or(|t| now.duration_since(t) >= jiff::SignedDuration::from_mins(1))
}
