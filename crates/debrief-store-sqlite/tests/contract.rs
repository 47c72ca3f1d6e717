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
