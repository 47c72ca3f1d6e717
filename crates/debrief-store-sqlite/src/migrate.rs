//! Forward-only migrations: numbered SQL files embedded in the binary, each applied once, in
//! order, in its own transaction, and recorded in `schema_migrations`.

use debrief_store::{Result, StoreError};
use sqlx::SqlitePool;

use crate::rows::backend;

/// Every migration, in order. Never edit one that has shipped: add the next.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (2, include_str!("../migrations/0002_accounts.sql")),
    (3, include_str!("../migrations/0003_hooks.sql")),
    (4, include_str!("../migrations/0004_jobs.sql")),
    (5, include_str!("../migrations/0005_notify.sql")),
    (6, include_str!("../migrations/0006_search_rowids.sql")),
];

pub async fn run(pool: &SqlitePool) -> Result<Vec<i64>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
    if let Some(newest) = applied.last() {
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if *newest > known {
            return Err(StoreError::Backend(format!(
                "the database is at schema version {newest}, newer than this debrief knows ({known}): upgrade debrief"
            )));
        }
    }
    let mut newly = Vec::new();
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        sqlx::raw_sql(*sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Backend(format!("migration {version} failed: {e}")))?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)")
            .bind(version)
            .bind(jiff::Timestamp::now().as_microsecond())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        newly.push(*version);
    }
    tx.commit().await.map_err(backend)?;
    Ok(newly)
}
