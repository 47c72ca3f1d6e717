//! The schema migrations and their runner: a forward-only list of SQL files embedded in the
//! binary, applied in order, each in its own transaction, and recorded in `schema_migrations`.
//! Instances starting at the same time take turns through a session advisory lock.

use debrief_store::{Result, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgConnection;

use crate::rows::{backend, now_micros};

/// One migration: its version number and the SQL that brings the schema to it.
struct Migration {
    version: i64,
    sql: &'static str,
}

/// Every migration, in order. Never edit one that has shipped: add the next instead.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../migrations/0002_accounts.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../migrations/0003_hooks.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../migrations/0004_jobs.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../migrations/0005_notify.sql"),
    },
];

/// The advisory lock that serializes migrators ("debrief" in ASCII, plus one).
const MIGRATION_LOCK: i64 = 0x6465_6272_6965_6601;

/// Applies the migrations not applied yet; returns their versions.
pub(crate) async fn run(pool: &PgPool) -> Result<Vec<i64>> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let outcome = apply_pending(&mut conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        // A connection that may still hold the lock must not go back to the pool.
        conn.close_on_drop();
    }
    outcome
}

async fn apply_pending(conn: &mut PgConnection) -> Result<Vec<i64>> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             applied_at BIGINT NOT NULL
         )",
    )
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    if let Some(newest) = applied.last() {
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        if *newest > known {
            return Err(StoreError::Backend(format!(
                "the database schema is at version {newest}, newer than this program knows ({known}): upgrade Debrief"
            )));
        }
    }
    let mut newly = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(backend)?;
        sqlx::raw_sql(m.sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Backend(format!("migration {} failed: {e}", m.version)))?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(m.version)
            .bind(now_micros())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        newly.push(m.version);
    }
    Ok(newly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i64::try_from(i + 1).expect("small"));
            assert!(!m.sql.trim().is_empty());
        }
    }
}
