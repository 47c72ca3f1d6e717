//! Users, browser sessions and API tokens on SQLite.
//!
//! Writes run in `BEGIN IMMEDIATE` transactions like every other write, so they queue on the
//! database lock: the first-admin check and its insert cannot interleave with another writer, and
//! disabling a user removes their sessions in the same transaction.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use debrief_core::time::timestamp_from_micros;
use debrief_core::{ApiToken, Email, TokenId, User, UserId};
use debrief_store::{
    Accounts, Credentials, NewSession, NewToken, NewUser, Result, Session, StoreError, UserChange,
    last_use_is_stale,
};

use crate::rows::{
    JOINED_USER_COLUMNS, TOKEN_COLUMNS, USER_COLUMNS, backend, token_from_row, user_from_row,
};
use crate::{SqliteStore, lookup, micros, now};

fn user_not_found(id: UserId) -> StoreError {
    StoreError::NotFound(format!("user {}", id.0))
}

/// A unique-constraint violation becomes `Duplicate(what)`; anything else is a backend failure.
fn duplicate_or_backend(what: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what()),
        other => backend(other),
    }
}

async fn load_user(conn: &mut SqliteConnection, id: UserId) -> Result<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| user_not_found(id))?;
    user_from_row(&row)
}

fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("bad row count {n}")))
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        count(n)
    }

    async fn create_user(&self, user: NewUser, only_if_none: bool) -> Result<User> {
        let at = now();
        let mut tx = self.begin_write().await?;
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
        let sql = format!(
            "INSERT INTO users (name, email, role, password_hash, disabled, created_at)
             VALUES (?1, ?2, ?3, ?4, 0, ?5) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let created = user_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(created)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn get_user(&self, id: UserId) -> Result<User> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        load_user(&mut conn, id).await
    }

    async fn credentials(&self, email: &Email) -> Result<Option<Credentials>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|row| {
            Ok(Credentials {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash").map_err(backend)?,
            })
        })
        .transpose()
    }

    async fn update_user(&self, id: UserId, change: UserChange) -> Result<User> {
        let UserChange {
            name,
            role,
            disabled,
            password_hash,
        } = change;
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE users SET name = COALESCE(?2, name), role = COALESCE(?3, role),
                 disabled = COALESCE(?4, disabled), password_hash = COALESCE(?5, password_hash)
             WHERE id = ?1 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(name.as_ref().map(|n| n.as_str()))
            .bind(role.map(|r| r.as_str()))
            .bind(disabled)
            .bind(password_hash.as_deref())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or_else(|| user_not_found(id))?;
        let user = user_from_row(&row)?;
        if disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(user)
    }

    async fn create_session(&self, session: NewSession) -> Result<()> {
        let mut tx = self.begin_write().await?;
        load_user(&mut tx, session.user_id).await?;
        sqlx::query(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
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
        let sql = format!(
            "SELECT {JOINED_USER_COLUMNS}, s.csrf, s.expires_at AS session_expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .bind(micros(now));
        let row = lookup!(self, query, fetch_optional).map_err(backend)?;
        row.map(|row| {
            let expires_at: i64 = row.try_get("session_expires_at").map_err(backend)?;
            Ok(Session {
                user: user_from_row(&row)?,
                csrf: row.try_get("csrf").map_err(backend)?,
                expires_at: timestamp_from_micros(expires_at)?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE hash = ?1")
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        // Expired at `now` is what `session` refuses: `expires_at <= now`.
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1")
            .bind(micros(now))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn create_token(&self, token: NewToken) -> Result<ApiToken> {
        let mut tx = self.begin_write().await?;
        load_user(&mut tx, token.user_id).await?;
        let sql = format!(
            "INSERT INTO api_tokens (user_id, name, scope, hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token.user_id.0)
            .bind(token.name.as_str())
            .bind(token.scope.as_str())
            .bind(&token.hash)
            .bind(micros(token.created_at))
            .bind(token.expires_at.map(micros))
            .fetch_one(&mut *tx)
            .await
            .map_err(duplicate_or_backend(|| "a token with this hash".into()))?;
        let stored = token_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn list_tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE 1 = 1"
        ));
        if let Some(user) = user {
            q.push(" AND user_id = ").push_bind(user.0);
        }
        q.push(" ORDER BY created_at DESC, id DESC");
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<ApiToken> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1
             RETURNING {TOKEN_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(micros(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound(format!("token {}", id.0)))?;
        let token = token_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(token)
    }

    async fn authenticate_token(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<(ApiToken, User)>> {
        // Read first: most calls change nothing, and a write would take the database's one
        // write lock (and a sync to disk) on every API request. The token and its user come in
        // one query: this runs on every API call.
        let sql = format!(
            "SELECT {JOINED_USER_COLUMNS}, t.id AS token_id, t.name AS token_name, t.scope,
                 t.created_at AS token_created_at, t.expires_at, t.last_used_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = ?1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?2)
                 AND u.disabled = 0"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .bind(micros(now));
        let Some(row) = lookup!(self, query, fetch_optional).map_err(backend)? else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let optional = |column: &str| -> Result<Option<Timestamp>> {
            Ok(row
                .try_get::<Option<i64>, _>(column)
                .map_err(backend)?
                .map(timestamp_from_micros)
                .transpose()?)
        };
        let mut token = ApiToken {
            id: TokenId(row.try_get("token_id").map_err(backend)?),
            user_id: user.id,
            name: row
                .try_get::<&str, _>("token_name")
                .map_err(backend)?
                .parse()?,
            scope: row.try_get::<&str, _>("scope").map_err(backend)?.parse()?,
            created_at: timestamp_from_micros(row.try_get("token_created_at").map_err(backend)?)?,
            expires_at: optional("expires_at")?,
            last_used_at: optional("last_used_at")?,
            revoked_at: optional("revoked_at")?,
        };
        if last_use_is_stale(token.last_used_at, now) {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")
                .bind(token.id.0)
                .bind(micros(now))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            token.last_used_at = Some(now);
        }
        Ok(Some((token, user)))
    }
}
