//! The storage contract, run against SQLite: a fresh database file per test.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use debrief_store::Store;
use debrief_store::contract::Harness;
use debrief_store_sqlite::SqliteStore;

struct SqliteHarness {
    store: Arc<SqliteStore>,
    dir: PathBuf,
}

impl Harness for SqliteHarness {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

impl Drop for SqliteHarness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn setup() -> Option<SqliteHarness> {
    let dir = std::env::temp_dir().join(format!(
        "debrief-sqlite-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let store = SqliteStore::open(&dir.join("debrief.db"))
        .await
        .expect("open a fresh database");
    Some(SqliteHarness {
        store: Arc::new(store),
        dir,
    })
}

debrief_store::contract_tests!(setup);

#[tokio::test]
async fn migrations_run_once() {
    let h = setup().await.expect("harness");
    assert!(h.store.migrate().await.expect("again").is_empty());
    let reopened = SqliteStore::open(&h.dir.join("debrief.db"))
        .await
        .expect("reopen");
    assert!(reopened.migrate().await.expect("again").is_empty());
}

#[tokio::test]
async fn the_database_is_in_wal_mode_with_foreign_keys() {
    let h = setup().await.expect("harness");
    let url = format!("sqlite://{}", h.dir.join("debrief.db").display());
    let store = SqliteStore::connect(&url).await.expect("connect by url");
    assert_eq!(store.backend(), "sqlite");
    let settings = store.settings().await.expect("settings");
    assert_eq!(settings.journal_mode, "wal");
    assert!(settings.foreign_keys);
    assert!(h.dir.join("debrief.db-wal").exists());
}

/// A database whose search rows were keyed by the postmortem's id alone (before migration 6) is
/// re-keyed when opened, and searches rank exactly as before.
#[tokio::test]
async fn migration_6_rekeys_an_existing_search_index() {
    use debrief_core::{PostmortemFields, Severity};
    use debrief_store::{PostmortemFilter, SearchQuery};
    use sqlx::Connection;

    let h = setup().await.expect("harness");
    for (title, summary) in [
        (
            "Expired certificate on the gateway",
            "TLS handshakes failed for 40 minutes.",
        ),
        (
            "Database failover",
            "The certificate store was unreachable during the failover.",
        ),
        ("Slow logins", "Session lookups timed out."),
    ] {
        let mut f = PostmortemFields::new(title.parse().expect("title"), Severity::default());
        f.summary = summary.into();
        h.store.create_postmortem("test", f).await.expect("create");
    }
    let query = SearchQuery::parse("certificate").expect("query");
    let ranked = |hits: Vec<debrief_store::SearchHit>| {
        hits.into_iter()
            .map(|h| (h.postmortem.key.to_string(), h.rank))
            .collect::<Vec<_>>()
    };
    let before = ranked(
        h.store
            .search(&query, &PostmortemFilter::default())
            .await
            .expect("search"),
    );
    assert_eq!(before.len(), 2, "{before:?}");

    // Put the index back the way migrations 1 to 5 left it.
    let path = h.dir.join("debrief.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    sqlx::raw_sql(
        "CREATE VIRTUAL TABLE old_search USING fts5 (
             title, summary, body, tokenize = 'porter unicode61 remove_diacritics 2');
         INSERT INTO old_search (rowid, title, summary, body)
             SELECT rowid >> 24, title, summary, body FROM postmortem_search;
         DROP TABLE postmortem_search;
         ALTER TABLE old_search RENAME TO postmortem_search;
         DELETE FROM schema_migrations WHERE version = 6;",
    )
    .execute(&mut conn)
    .await
    .expect("downgrade the index");
    conn.close().await.expect("close");

    let reopened = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(reopened.applied_on_connect(), [6]);
    let after = ranked(
        reopened
            .search(&query, &PostmortemFilter::default())
            .await
            .expect("search"),
    );
    assert_eq!(after, before);
}
