//! Debrief's storage port on PostgreSQL, for teams that run several instances against one
//! database.
//!
//! Each record's written content is a JSONB document (the serde form of the domain's `*Fields`
//! types); the columns beside it exist to filter, order and constrain. Full-text search uses a
//! weighted `tsvector` per postmortem, rebuilt in the transaction of every write that changes
//! indexed text. Edits use optimistic concurrency: the row is locked, its version compared, and
//! a stale edit refused with the current record. Every use case is one transaction.

mod accounts;
mod channels;
mod jobs;
mod migrate;
mod rows;
mod store;

use std::fmt;
use std::time::Duration;

use debrief_store::{Result, StoreError};
use sqlx::PgPool;
use sqlx::postgres::{PgConnection, PgPoolOptions};

/// Connection options, for [`PostgresStore::connect_with`].
pub use sqlx::postgres::PgConnectOptions;

/// How many connections one instance keeps at most.
const MAX_CONNECTIONS: u32 = 8;
/// How long a use case waits for a connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL store. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Where it is connected, without the password, for messages and logs.
    target: String,
    /// The migrations that connecting applied (empty when the schema was up to date).
    applied_on_connect: Vec<i64>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

/// `postgres://user@host:port/database`, never with the password.
fn describe(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    format!(
        "postgres://{}@{host}/{}",
        options.get_username(),
        options.get_database().unwrap_or("")
    )
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:5432/database`) and
    /// brings its schema up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        let options: PgConnectOptions = url.parse().map_err(|e| {
            StoreError::Backend(format!(
                "not a PostgreSQL URL (expected postgres://user:password@host:5432/database): {e}"
            ))
        })?;
        PostgresStore::connect_with(options).await
    }

    /// Connects with options built in code, and brings the schema up to date.
    pub async fn connect_with(options: PgConnectOptions) -> Result<PostgresStore> {
        let target = describe(&options);
        let failed = |why: String| {
            StoreError::Backend(format!("cannot connect to PostgreSQL at {target}: {why}"))
        };
        // One direct connection first: a pool reports every failure as a timeout, this says why
        // (refused, unknown host, authentication, no such database).
        match tokio::time::timeout(
            ACQUIRE_TIMEOUT,
            <PgConnection as sqlx::Connection>::connect_with(&options),
        )
        .await
        {
            Err(_) => {
                return Err(failed(format!(
                    "no answer within {} s",
                    ACQUIRE_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Ok(Ok(probe)) => {
                let _ = sqlx::Connection::close(probe).await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let mut store = PostgresStore {
            pool,
            target,
            applied_on_connect: Vec::new(),
        };
        store.applied_on_connect = store.migrate().await?;
        Ok(store)
    }

    /// The migrations that connecting applied (empty when the schema was already up to date).
    pub fn applied_on_connect(&self) -> &[i64] {
        &self.applied_on_connect
    }

    /// Applies the schema migrations not applied yet and returns their versions (empty when the
    /// schema is current). Safe to run from several instances at once.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        migrate::run(&self.pool).await
    }

    /// Closes every connection; use cases after this fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Where the store is connected, without the password.
    pub fn target(&self) -> &str {
        &self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn descriptions_leave_out_the_password() {
        let options: PgConnectOptions = "postgres://ada:s3cret@db.example:6543/debrief"
            .parse()
            .expect("url");
        let text = describe(&options);
        assert_eq!(text, "postgres://ada@db.example:6543/debrief");
        let store = PostgresStore {
            pool: PgPoolOptions::new().connect_lazy_with(options),
            target: text,
            applied_on_connect: Vec::new(),
        };
        assert!(!format!("{store:?}").contains("s3cret"));
    }
}
