//! The storage contract on PostgreSQL: every case of `debrief_store::contract` against a fresh
//! database, plus what is particular to this adapter (migrations, refused edits).
//!
//! Each test creates its own database on the server named by `DEBRIEF_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`, used as the admin database) and drops it
//! afterwards, even when the test fails. Without a reachable server the tests are skipped, unless
//! `CI=true`, where that is a failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use debrief_core::{
    EventFields, EventKind, KeyMoment, Moment, PostmortemFields, Severity, Version, Zone,
};
use debrief_store::EventQuery;
use debrief_store::contract::Harness;
use debrief_store::{Store, StoreError};
use debrief_store_postgres::{PgConnectOptions, PostgresStore};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh database with a store connected to it; dropped with the harness.
struct TestDb {
    store: Arc<PostgresStore>,
    options: PgConnectOptions,
    _cleanup: Cleanup,
}

impl Harness for TestDb {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

fn admin_options() -> PgConnectOptions {
    let url = std::env::var("DEBRIEF_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    url.parse()
        .unwrap_or_else(|e| panic!("DEBRIEF_TEST_POSTGRES_URL is not a PostgreSQL URL: {e}"))
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(n);
        h.finish() & 0xffff_ffff
    };
    format!("debrief_test_{}_{n}_{random:08x}", std::process::id())
}

/// Connects to the admin database, or explains why the tests cannot run.
async fn admin_connection(admin: &PgConnectOptions) -> Option<PgConnection> {
    match PgConnection::connect_with(admin).await {
        Ok(conn) => Some(conn),
        Err(e) => {
            let message = format!(
                "PostgreSQL is not reachable at {}:{} ({e}); set DEBRIEF_TEST_POSTGRES_URL",
                admin.get_host(),
                admin.get_port()
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            eprintln!("skipping: {message}");
            None
        }
    }
}

async fn fresh_database() -> Option<(PgConnectOptions, PgConnectOptions, String)> {
    let admin = admin_options();
    let mut conn = admin_connection(&admin).await?;
    let name = unique_name();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let _ = conn.close().await;
    let options = admin.clone().database(&name);
    Some((admin, options, name))
}

async fn setup() -> Option<TestDb> {
    let (admin, options, name) = fresh_database().await?;
    // Made first, so that the database is dropped even if connecting panics.
    let cleanup = Cleanup { admin, name };
    let store = PostgresStore::connect_with(options.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot connect the store: {e}"));
    Some(TestDb {
        store: Arc::new(store),
        options,
        _cleanup: cleanup,
    })
}

fn drop_database(admin: PgConnectOptions, name: String) {
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let mut conn = PgConnection::connect_with(&admin)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok::<(), String>(())
        })
    })
    .join();
    match dropped {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("could not drop a test database: {e}"),
        Err(_) => eprintln!("could not drop a test database: the dropping thread panicked"),
    }
}

debrief_store::contract_tests!(setup);

fn fields(title: &str) -> PostmortemFields {
    PostmortemFields::new(title.parse().expect("title"), Severity::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    let Some(db) = setup().await else { return };
    // The first connect applied everything; running again applies nothing.
    assert_eq!(
        db.store.migrate().await.expect("migrate"),
        Vec::<i64>::new()
    );
    let again = PostgresStore::connect_with(db.options.clone())
        .await
        .expect("second connect");
    assert_eq!(again.migrate().await.expect("migrate"), Vec::<i64>::new());
    // Data written through one store is visible through the other.
    let p = db
        .store
        .create_postmortem("ada", fields("Seen twice"))
        .await
        .expect("create");
    assert_eq!(again.get_postmortem(p.key).await.expect("get"), p);
    again.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrators_starting_together_take_turns() {
    let Some((admin, options, name)) = fresh_database().await else {
        return;
    };
    let guard = Cleanup { admin, name };
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(PostgresStore::connect_with(options.clone())))
        .collect();
    for t in tasks {
        let store = t.await.expect("task").expect("connect");
        store.close().await;
    }
    drop(guard);
}

/// Drops a database that has no store attached.
struct Cleanup {
    admin: PgConnectOptions,
    name: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        drop_database(self.admin.clone(), self.name.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_update_leaves_no_revision() {
    let Some(db) = setup().await else { return };
    let store = db.store.clone();
    let p = store
        .create_postmortem("ada", fields("Stale"))
        .await
        .expect("create");
    let mut f = p.fields.clone();
    f.summary = "First edit".into();
    store
        .update_postmortem("ada", p.key, p.version, f)
        .await
        .expect("update");
    let before = store.revisions(p.key).await.expect("revisions");
    let mut stale = p.fields.clone();
    stale.summary = "Second edit on an old version".into();
    let err = store
        .update_postmortem("bo", p.key, Version(1), stale)
        .await
        .expect_err("stale");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let after = store.revisions(p.key).await.expect("revisions");
    assert_eq!(before, after);
    assert_eq!(
        store.get_postmortem(p.key).await.expect("get").version,
        Version(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_clear_error_without_the_password() {
    // Port 1 on localhost: nothing listens there.
    let err = PostgresStore::connect("postgres://ada:s3cret@127.0.0.1:1/debrief")
        .await
        .expect_err("unreachable");
    let text = err.to_string();
    assert!(
        text.contains("postgres://ada@127.0.0.1:1/debrief"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
}

fn event(at: &str, text: &str, source_id: Option<&str>) -> EventFields {
    let mut e = EventFields::new(
        Moment::parse(at, &Zone::utc()).expect("moment"),
        EventKind::Observation,
        text.parse().expect("text"),
    );
    if let Some(id) = source_id {
        e.source = "slack".parse().expect("source");
        e.source_id = Some(id.to_owned());
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_insert_keeps_batch_order_and_sets_milestones() {
    let Some(db) = setup().await else { return };
    let store = db.store.clone();
    let p = store
        .create_postmortem("ada", fields("Mixed batch"))
        .await
        .expect("create");
    store
        .insert_events(
            "ada",
            p.key,
            vec![event("2024-05-01 10:00", "first", Some("m1"))],
        )
        .await
        .expect("first batch");
    // Same time for all: the timeline keeps the batch order; known and repeated ids are skipped.
    let mut declared = event("2024-05-01 10:00", "declared", None);
    declared.kind = EventKind::Milestone;
    declared.milestone = Some(KeyMoment::Detected);
    let batch = vec![
        event("2024-05-01 10:00", "a", None),
        event("2024-05-01 10:00", "first again", Some("m1")),
        event("2024-05-01 10:00", "b", Some("m2")),
        event("2024-05-01 10:00", "b again", Some("m2")),
        declared,
        event("2024-05-01 10:00", "c", None),
    ];
    let out = store
        .insert_events("bo", p.key, batch)
        .await
        .expect("second batch");
    assert_eq!((out.added, out.already_present), (4, 2));
    let texts: Vec<String> = store
        .list_events(p.key, EventQuery::default())
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.fields.description.to_string())
        .collect();
    assert_eq!(texts, ["first", "a", "b", "declared", "c"]);
    let now = store.get_postmortem(p.key).await.expect("get");
    assert_eq!(now.version, Version(2));
    assert!(now.fields.key_moments.detected.is_some());
    let revs = store.revisions(p.key).await.expect("revisions");
    assert!(
        revs.iter().any(|r| r.summary.contains("milestone")),
        "{revs:?}"
    );
    // A batch of nothing new writes nothing.
    let out = store
        .insert_events(
            "cy",
            p.key,
            vec![event("2024-05-01 10:00", "x", Some("m2"))],
        )
        .await
        .expect("third batch");
    assert_eq!((out.added, out.already_present), (0, 1));
    assert!(
        store
            .revisions(p.key)
            .await
            .expect("revisions")
            .iter()
            .all(|r| r.actor != "cy")
    );
}
