//! Opens the database named by `--database`: `sqlite://PATH`, `sqlite:PATH` or a plain file path
//! for SQLite; `postgres://…` or `postgresql://…` for PostgreSQL. Migrations run on connect.

use std::sync::Arc;

use debrief_store::DynStore;
use debrief_store_postgres::PostgresStore;
use debrief_store_sqlite::SqliteStore;
use etcetera::BaseStrategy;

use crate::error::{CliError, Result};

/// Which database a `--database` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite URL, `sqlite://PATH`.
    Sqlite(String),
    Postgres(String),
}

/// The default database: `debrief/debrief.db` in the user's data directory.
pub fn default_url() -> Result<String> {
    let strategy = etcetera::choose_base_strategy().map_err(|e| {
        CliError::failed(format!(
            "cannot find your data directory ({e}); pass --database sqlite://PATH"
        ))
    })?;
    let path = strategy.data_dir().join("debrief").join("debrief.db");
    Ok(format!("sqlite://{}", path.display()))
}

/// Reads a `--database` value.
pub fn target(url: &str) -> Result<Target> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_owned()));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err(unsupported(url));
        }
        return Ok(Target::Sqlite(format!("sqlite://{path}")));
    }
    if url.is_empty() || url.contains("://") {
        return Err(unsupported(url));
    }
    Ok(Target::Sqlite(format!("sqlite://{url}")))
}

fn unsupported(url: &str) -> CliError {
    CliError::usage(format!(
        "--database: {url:?} is not a database Debrief can use: expected sqlite://PATH, a file \
         path, or postgres://USER@HOST/DATABASE"
    ))
}

/// Connects, running migrations.
pub async fn open(url: &str) -> Result<DynStore> {
    let store: DynStore = match target(url)? {
        Target::Sqlite(u) => Arc::new(
            SqliteStore::connect(&u)
                .await
                .map_err(|e| unreachable(&u, e))?,
        ),
        Target::Postgres(u) => Arc::new(
            PostgresStore::connect(&u)
                .await
                .map_err(|e| unreachable(&u, e))?,
        ),
    };
    Ok(store)
}

/// Connects and applies pending migrations, returning the newly applied versions.
pub async fn migrate(url: &str) -> Result<(&'static str, Vec<i64>)> {
    match target(url)? {
        Target::Sqlite(u) => {
            let store = SqliteStore::connect(&u)
                .await
                .map_err(|e| unreachable(&u, e))?;
            let mut applied = store.applied_on_connect().to_vec();
            applied.extend(store.migrate().await?);
            Ok(("sqlite", applied))
        }
        Target::Postgres(u) => {
            let store = PostgresStore::connect(&u)
                .await
                .map_err(|e| unreachable(&u, e))?;
            let mut applied = store.applied_on_connect().to_vec();
            applied.extend(store.migrate().await?);
            Ok(("postgres", applied))
        }
    }
}

fn unreachable(url: &str, e: debrief_store::StoreError) -> CliError {
    CliError::failed(format!("cannot open the database {}: {e}", redact(url)))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_a_backend() {
        assert_eq!(
            target("sqlite:///tmp/x.db").expect("sqlite"),
            Target::Sqlite("sqlite:///tmp/x.db".into())
        );
        assert_eq!(
            target("/tmp/x.db").expect("path"),
            Target::Sqlite("sqlite:///tmp/x.db".into())
        );
        assert_eq!(
            target("postgresql://u@h/db").expect("pg"),
            Target::Postgres("postgresql://u@h/db".into())
        );
        let err = target("mysql://h/db").expect_err("mysql");
        assert!(matches!(err, CliError::Usage(ref m) if m.contains("sqlite://PATH")));
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    }
}
