//! Users, browser sessions and API tokens on PostgreSQL.
//!
//! Creating a user takes a transaction-scoped advisory lock, so the "no user yet" check of the
//! first-start setup and its insert cannot interleave with another instance creating a user.
//! Changing a user locks its row; disabling one deletes their sessions in the same transaction.
//! The other writes are single statements.

use async_trait::async_trait;
use debrief_core::{ApiToken, Email, TokenId, User, UserId};
use debrief_store::{
    Accounts, Credentials, NewSession, NewToken, NewUser, Result, Session, StoreError, UserChange,
    last_use_is_stale,
};
use jiff::Timestamp;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};

use crate::PostgresStore;
use crate::rows::{
    self, TokenRow, UserRow, backend, duplicate_or_backend, instant, micros, now, token_columns,
    user_columns,
};

/// The transaction-scoped advisory lock taken while a user is created.
const USERS_LOCK: i64 = 0x6465_6272_6965_6603;

fn user_not_found(id: UserId) -> StoreError {
    StoreError::NotFound(format!("user {}", id.0))
}

fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("bad row count {n}")))
}

/// Locks the user's row against changes (not against reads) until the transaction ends, or says
/// that there is no such user.
async fn lock_user_shared(conn: &mut PgConnection, id: UserId) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR SHARE")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    found.map(|_| ()).ok_or_else(|| user_not_found(id))
}

/// A session's user columns, then `csrf, expires_at`.
type SessionRow = (i64, String, String, String, bool, i64, String, i64);

/// A token's columns, then its user's.
type TokenUserRow = (
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    String,
    String,
    bool,
    i64,
);

#[async_trait]
impl Accounts for PostgresStore {
    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        count(n)
    }

    async fn create_user(&self, user: NewUser, only_if_none: bool) -> Result<User> {
        let at = now();
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Taken for every creation, so that "no user yet" stays true until this one commits.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(USERS_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if only_if_none {
            let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            if any {
                return Err(StoreError::Duplicate(
                    "an admin (Debrief is already set up)".into(),
                ));
            }
        }
        let row: UserRow = sqlx::query_as(concat!(
            "INSERT INTO users AS u (name, email, role, password_hash, disabled, created_at)
             VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING ",
            user_columns!()
        ))
        .bind(user.name.as_str())
        .bind(user.email.as_str())
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(micros(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_or_backend(|| {
            format!("a user with email {}", user.email)
        }))?;
        let created = rows::user(row)?;
        tx.commit().await.map_err(backend)?;
        Ok(created)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u ORDER BY u.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(rows::user).collect()
    }

    async fn get_user(&self, id: UserId) -> Result<User> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        rows::user(row.ok_or_else(|| user_not_found(id))?)
    }

    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>> {
        let row: Option<(i64, String, String, String, bool, i64, String)> =
            sqlx::query_as(concat!(
                "SELECT ",
                user_columns!(),
                ", u.password_hash FROM users u WHERE u.email = $1"
            ))
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(
            |(id, name, email, role, disabled, created_at, password_hash)| {
                Ok(Credentials {
                    user: rows::user((id, name, email, role, disabled, created_at))?,
                    password_hash,
                })
            },
        )
        .transpose()
    }

    async fn update_user(&self, id: UserId, change: UserChange) -> Result<User> {
        let UserChange {
            name,
            role,
            disabled,
            password_hash,
        } = change;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "UPDATE users u
             SET name = COALESCE($2, u.name), role = COALESCE($3, u.role),
                 disabled = COALESCE($4, u.disabled),
                 password_hash = COALESCE($5, u.password_hash)
             WHERE u.id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id.0)
        .bind(name.as_ref().map(|n| n.as_str()))
        .bind(role.map(|r| r.as_str()))
        .bind(disabled)
        .bind(password_hash.as_deref())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let user = rows::user(row.ok_or_else(|| user_not_found(id))?)?;
        if disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(user)
    }

    async fn create_session(&self, session: NewSession) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // The share lock makes a concurrent disabling wait for this session (and delete it).
        lock_user_shared(&mut tx, session.user_id).await?;
        sqlx::query(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.hash)
        .bind(session.user_id.0)
        .bind(&session.csrf)
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(duplicate_or_backend(|| "a session with this hash".into()))?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn session(&self, hash: &str, now: Timestamp) -> Result<Option<Session>> {
        let row: Option<SessionRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            ", s.csrf, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
        ))
        .bind(hash)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(
            |(id, name, email, role, disabled, created_at, csrf, expires_at)| {
                Ok(Session {
                    user: rows::user((id, name, email, role, disabled, created_at))?,
                    csrf,
                    expires_at: instant(expires_at)?,
                })
            },
        )
        .transpose()
    }

    async fn delete_session(&self, hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        // Expired at `now` is what `session` refuses: `expires_at <= now`.
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(micros(now))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn create_token(&self, token: NewToken) -> Result<ApiToken> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_user_shared(&mut tx, token.user_id).await?;
        let row: TokenRow = sqlx::query_as(concat!(
            "INSERT INTO api_tokens AS t (user_id, name, scope, hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            token_columns!()
        ))
        .bind(token.user_id.0)
        .bind(token.name.as_str())
        .bind(token.scope.as_str())
        .bind(&token.hash)
        .bind(micros(token.created_at))
        .bind(token.expires_at.map(micros))
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_or_backend(|| "a token with this hash".into()))?;
        let stored = rows::token(row)?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn list_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        let mut q = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens t WHERE TRUE"
        ));
        if let Some(user) = user {
            q.push(" AND t.user_id = ").push_bind(user.0);
        }
        q.push(" ORDER BY t.created_at DESC, t.id DESC");
        let rows: Vec<TokenRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(rows::token).collect()
    }

    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<ApiToken> {
        // A concurrent revocation waits for the row and re-reads it: the first time is kept.
        let row: Option<TokenRow> = sqlx::query_as(concat!(
            "UPDATE api_tokens t SET revoked_at = COALESCE(t.revoked_at, $2)
             WHERE t.id = $1 RETURNING ",
            token_columns!()
        ))
        .bind(id.0)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        rows::token(row.ok_or_else(|| StoreError::NotFound(format!("token {}", id.0)))?)
    }

    async fn authenticate_token(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, User)>> {
        // Read first: most calls change nothing (last use is kept to the minute).
        let row: Option<TokenUserRow> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            ", ",
            user_columns!(),
            " FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = $1 AND t.revoked_at IS NULL
                 AND (t.expires_at IS NULL OR t.expires_at > $2) AND NOT u.disabled"
        ))
        .bind(hash)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((
            id,
            user_id,
            name,
            scope,
            created_at,
            expires_at,
            last_used_at,
            revoked_at,
            uid,
            uname,
            email,
            role,
            disabled,
            ucreated_at,
        )) = row
        else {
            return Ok(None);
        };
        let token = rows::token((
            id,
            user_id,
            name,
            scope,
            created_at,
            expires_at,
            last_used_at,
            revoked_at,
        ))?;
        let user = rows::user((uid, uname, email, role, disabled, ucreated_at))?;
        let mut token = token;
        if last_use_is_stale(token.last_used_at, now) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(token.id.0)
                .bind(micros(now))
                .execute(&self.pool)
                .await
                .map_err(backend)?;
            token.last_used_at = Some(now);
        }
        Ok(Some((token, user)))
    }
}
