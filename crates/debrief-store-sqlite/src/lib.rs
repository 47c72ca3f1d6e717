//! Debrief's storage port on an embedded SQLite database: the default, zero-configuration store.
//!
//! One file, WAL journal (readers never wait for the writer), foreign keys on, FTS5 for search.
//! Every write use case runs in one `BEGIN IMMEDIATE` transaction, so writers queue on the
//! database lock instead of failing half-way, and a crash never leaves half a change.

mod accounts;
mod channels;
mod jobs;
mod migrate;
mod rank;
mod rows;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use debrief_core::{
    ActionFields, ActionId, ActionItem, Entity, EventFields, EventId, FieldChange, Key,
    Participant, ParticipantFields, ParticipantId, Postmortem, PostmortemDocument,
    PostmortemFields, ProgressUpdate, Revision, Source, Status, TimelineEvent, Version,
};
use debrief_store::{
    ActionFilter, BulkOutcome, Edit, EventQuery, PostmortemFilter, PostmortemSummary, Result,
    SearchHit, SearchQuery, Stats, Store, StoreError, auto_close_summary, changes,
    check_action_allowed, check_document_status, check_edit, check_group_key, check_version,
    closes_after, fill_key_moment, finished_at, finishes, follow_milestone, group_summary,
    occurred_at, open_to_alerts, prepare_action, prepare_event, prepare_participant,
    prepare_postmortem, status_change, status_summary, to_json,
};

use rows::{
    ACTION_COLUMNS, EVENT_COLUMNS, PARTICIPANT_COLUMNS, POSTMORTEM_COLUMNS, SUMMARY_COLUMNS,
    action_from_row, backend, event_from_row, participant_from_row, postmortem_from_row,
    summary_from_row,
};

/// What [`SqliteStore::settings`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteSettings {
    /// `wal` for a file database.
    pub journal_mode: String,
    pub foreign_keys: bool,
}

/// A Debrief store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Connections for the point reads of every web request (`None` in memory: one connection).
    lookups: Option<Arc<Lookups>>,
    location: String,
    /// The migrations that opening applied (empty when the schema was up to date).
    applied_on_connect: Vec<i64>,
}

/// Connections of their own for the small reads every web request makes: who is calling (a
/// session or token) and whether a postmortem changed since it was last drawn. A query through
/// the pool costs two round trips to the connection's thread — the query, and the pool's check
/// of the connection on its way back — so these reads, one indexed statement each, borrow a
/// connection here instead, for one. Only single statements run on them: no transaction is left
/// open if a request is dropped half-way. WAL lets them read beside the writer.
#[derive(Debug)]
struct Lookups {
    conns: Vec<tokio::sync::Mutex<SqliteConnection>>,
    next: AtomicUsize,
}

/// How many lookup connections a file database opens.
const LOOKUP_CONNECTIONS: usize = 2;

impl Lookups {
    async fn open(options: &SqliteConnectOptions, location: &str) -> Result<Lookups> {
        let mut conns = Vec::with_capacity(LOOKUP_CONNECTIONS);
        for _ in 0..LOOKUP_CONNECTIONS {
            let conn = options.connect().await.map_err(|e| {
                StoreError::Backend(format!("cannot open the SQLite database {location}: {e}"))
            })?;
            conns.push(tokio::sync::Mutex::new(conn));
        }
        Ok(Lookups {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// A free connection, or the next one's turn.
    async fn get(&self) -> tokio::sync::MutexGuard<'_, SqliteConnection> {
        for conn in &self.conns {
            if let Ok(guard) = conn.try_lock() {
                return guard;
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i].lock().await
    }
}

/// Runs one statement on a lookup connection, or on the pool without them: `lookup!(self, q,
/// fetch_optional)`.
macro_rules! lookup {
    ($store:expr, $query:expr, $fetch:ident) => {
        match &$store.lookups {
            Some(lookups) => $query.$fetch(&mut *lookups.get().await).await,
            None => $query.$fetch(&$store.pool).await,
        }
    };
}
pub(crate) use lookup;

fn now() -> Timestamp {
    Timestamp::now()
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

impl SqliteStore {
    /// Opens (creating if missing) the database named by `sqlite://PATH` or `sqlite::memory:`,
    /// and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<SqliteStore> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "{url:?} is not a SQLite URL: expected sqlite://PATH"
                ))
            })?;
        if path == ":memory:" {
            return Self::open_with(
                SqliteConnectOptions::from_str("sqlite::memory:").map_err(backend)?,
                1,
                url,
            )
            .await;
        }
        Self::open(Path::new(path)).await
    }

    /// Opens (creating if missing, with its directory) the database file at `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!(
                    "cannot create the directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_with(options, 4, &path.display().to_string()).await
    }

    async fn open_with(
        options: SqliteConnectOptions,
        max: u32,
        location: &str,
    ) -> Result<SqliteStore> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it is acknowledged, even across a power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .statement_cache_capacity(256)
            // Let a whole timeline cross from the SQLite worker thread without waiting.
            .row_buffer_size(1024);
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(1)
            // Not a network connection: a ping before each use would only be one more round
            // trip to the connection's thread on every query. (sqlx still checks a connection
            // when it comes back to the pool, which also rolls back anything left open.)
            .test_before_acquire(false)
            // Search ranks with `debrief_rank` (rank.rs), which every pool connection needs.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    rank::register(handle.as_raw_handle())
                        .map_err(|e| sqlx::Error::Configuration(e.into()))
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(|e| {
                StoreError::Backend(format!("cannot open the SQLite database {location}: {e}"))
            })?;
        let mut store = SqliteStore {
            pool,
            lookups: None,
            location: location.to_owned(),
            applied_on_connect: Vec::new(),
        };
        store.applied_on_connect = store.migrate().await?;
        // After the migrations: a lookup connection caches statements of the schema it saw.
        if max > 1 {
            store.lookups = Some(Arc::new(Lookups::open(&options, location).await?));
        }
        Ok(store)
    }

    /// The migrations that opening applied (empty when the schema was already up to date).
    pub fn applied_on_connect(&self) -> &[i64] {
        &self.applied_on_connect
    }

    /// Applies the migrations this database has not seen yet; returns their versions.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        migrate::run(&self.pool).await
    }

    /// The connection settings that matter for durability and integrity, as SQLite reports them.
    pub async fn settings(&self) -> Result<SqliteSettings> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
        let foreign_keys: bool = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
        Ok(SqliteSettings {
            journal_mode,
            foreign_keys,
        })
    }

    /// Where the database lives, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)
    }
}

/// The row id and record of a postmortem, by key.
async fn load_postmortem(conn: &mut SqliteConnection, key: Key) -> Result<(i64, Postmortem)> {
    let sql = format!("SELECT id, {POSTMORTEM_COLUMNS} FROM postmortems WHERE number = ?1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(key.number()))
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("postmortem {key}")))?;
    let id: i64 = row.try_get("id").map_err(backend)?;
    Ok((id, postmortem_from_row(&row)?))
}

async fn postmortem_id(conn: &mut SqliteConnection, key: Key) -> Result<i64> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM postmortems WHERE number = ?1")
        .bind(i64::from(key.number()))
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("postmortem {key}")))
}

/// Writes a postmortem's fields (and the columns derived from them) at a new version.
async fn write_postmortem(
    conn: &mut SqliteConnection,
    id: i64,
    version: Version,
    status: Status,
    fields: &PostmortemFields,
    created_at: Timestamp,
    updated_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE postmortems SET version = ?2, status = ?3, severity = ?4, title = ?5, services = ?6,
             occurred_at = ?7, updated_at = ?8, body = ?9 WHERE id = ?1",
    )
    .bind(id)
    .bind(version.0)
    .bind(status.as_str())
    .bind(i64::from(fields.severity.level()))
    .bind(fields.title.as_str())
    .bind(to_json(&fields.services)?)
    .bind(micros(occurred_at(fields, created_at)))
    .bind(micros(updated_at))
    .bind(to_json(fields)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    sqlx::query("DELETE FROM postmortem_services WHERE postmortem_id = ?1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for service in &fields.services {
        sqlx::query("INSERT INTO postmortem_services (service, postmortem_id) VALUES (?1, ?2)")
            .bind(service.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

async fn insert_postmortem_row(
    conn: &mut SqliteConnection,
    number: u32,
    status: Status,
    fields: &PostmortemFields,
    at: Timestamp,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO postmortems (number, version, status, severity, title, services, occurred_at, created_at, updated_at, body)
         VALUES (?1, 1, ?2, 0, '', '[]', ?3, ?3, ?3, '{}') RETURNING id",
    )
    .bind(i64::from(number))
    .bind(status.as_str())
    .bind(micros(at))
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    write_postmortem(conn, id, Version(1), status, fields, at, at).await?;
    Ok(id)
}

async fn next_number(conn: &mut SqliteConnection) -> Result<u32> {
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) FROM postmortems")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    u32::try_from(max + 1)
        .map_err(|_| StoreError::Backend("postmortem numbers are exhausted".into()))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one revision row has this many columns"
)]
async fn record(
    conn: &mut SqliteConnection,
    pm_id: i64,
    at: Timestamp,
    by: &str,
    entity: Entity,
    entity_id: Option<i64>,
    summary: &str,
    changes: &[FieldChange],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO revisions (postmortem_id, at, actor, entity, entity_id, summary, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(pm_id)
    .bind(micros(at))
    .bind(by)
    .bind(entity.as_str())
    .bind(entity_id)
    .bind(summary)
    .bind(to_json(&changes)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Writes a postmortem's search row. Its rowid is the postmortem's id shifted left by
/// `rank::LENGTH_BITS`, plus the row's length in tokens (at most `rank::LENGTH_MASK`), which
/// `debrief_rank` reads instead of looking it up for every match.
const INSERT_SEARCH_ROW: &str = "INSERT INTO postmortem_search (rowid, title, summary, body)
     VALUES ((?1 << 24) + min(debrief_tokens(?2, ?3, ?4), 16777215), ?2, ?3, ?4)";
/// Removes a postmortem's search row, whatever length its rowid holds.
const DELETE_SEARCH_ROW: &str =
    "DELETE FROM postmortem_search WHERE rowid BETWEEN (?1 << 24) AND (?1 << 24) + 16777215";

/// Rebuilds the search row of one postmortem from its fields and all its events.
async fn reindex(conn: &mut SqliteConnection, pm_id: i64, fields: &PostmortemFields) -> Result<()> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM events WHERE postmortem_id = ?1 ORDER BY happened_at, id",
    )
    .bind(pm_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let doc = debrief_store::search_document(fields, &bodies)?;
    sqlx::query(DELETE_SEARCH_ROW)
        .bind(pm_id)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query(INSERT_SEARCH_ROW)
        .bind(pm_id)
        .bind(&doc.title)
        .bind(&doc.summary)
        .bind(&doc.body)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Inserts one prepared event; `Ok(None)` when its (source, source id) is already there.
async fn insert_event(
    conn: &mut SqliteConnection,
    pm_id: i64,
    event: &EventFields,
    at: Timestamp,
) -> Result<Option<TimelineEvent>> {
    let sql = format!(
        "INSERT INTO events (postmortem_id, version, happened_at, recorded_at, kind, source, source_id, hidden, body)
         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (postmortem_id, source, source_id) WHERE source_id IS NOT NULL DO NOTHING
         RETURNING {EVENT_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(pm_id)
        .bind(event.happened_at.epoch_micros())
        .bind(micros(at))
        .bind(event.kind.as_str())
        .bind(event.source.as_str())
        .bind(event.source_id.as_deref())
        .bind(event.hidden)
        .bind(to_json(event)?)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(|r| event_from_row(&r)).transpose()
}

/// Moves the postmortem's key moments after an event was written (new version + revision when
/// one changes) and returns the postmortem as it is now.
async fn apply_milestone_in(
    conn: &mut SqliteConnection,
    pm_id: i64,
    mut pm: Postmortem,
    by: &str,
    before: Option<&EventFields>,
    event: &EventFields,
    at: Timestamp,
) -> Result<Postmortem> {
    let mut fields = pm.fields.clone();
    if !follow_milestone(&mut fields, before, event) {
        return Ok(pm);
    }
    let diff = changes(&pm.fields, &fields);
    let version = Version(pm.version.0 + 1);
    write_postmortem(conn, pm_id, version, pm.status, &fields, pm.created_at, at).await?;
    record(
        conn,
        pm_id,
        at,
        by,
        Entity::Postmortem,
        None,
        "key moment follows a milestone event",
        &diff,
    )
    .await?;
    pm.version = version;
    pm.updated_at = at;
    pm.fields = fields;
    Ok(pm)
}

async fn load_event(
    conn: &mut SqliteConnection,
    pm_id: i64,
    key: Key,
    id: EventId,
) -> Result<TimelineEvent> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1 AND postmortem_id = ?2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(pm_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("event {} in {key}", id.0)))?;
    event_from_row(&row)
}

async fn write_event(
    conn: &mut SqliteConnection,
    id: EventId,
    version: Version,
    event: &EventFields,
) -> Result<()> {
    sqlx::query(
        "UPDATE events SET version = ?2, happened_at = ?3, kind = ?4, source = ?5, source_id = ?6, hidden = ?7, body = ?8
         WHERE id = ?1",
    )
    .bind(id.0)
    .bind(version.0)
    .bind(event.happened_at.epoch_micros())
    .bind(event.kind.as_str())
    .bind(event.source.as_str())
    .bind(event.source_id.as_deref())
    .bind(event.hidden)
    .bind(to_json(event)?)
    .execute(&mut *conn)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(format!(
            "an event from {} with id {:?}",
            event.source,
            event.source_id.as_deref().unwrap_or_default()
        )),
        other => backend(other),
    })?;
    Ok(())
}

async fn load_action(conn: &mut SqliteConnection, id: ActionId) -> Result<(i64, ActionItem)> {
    let sql = format!(
        "SELECT a.postmortem_id, {ACTION_COLUMNS} FROM actions a JOIN postmortems p ON p.id = a.postmortem_id WHERE a.id = ?1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("action {}", id.0)))?;
    Ok((
        row.try_get("postmortem_id").map_err(backend)?,
        action_from_row(&row)?,
    ))
}

/// Writes a new version of an action; `finished_at` is when it was finished, by the rule of
/// [`debrief_store::finished_at`].
async fn write_action(
    conn: &mut SqliteConnection,
    id: ActionId,
    version: Version,
    action: &ActionFields,
    progress: &[ProgressUpdate],
    at: Timestamp,
    finished_at: Option<Timestamp>,
) -> Result<()> {
    sqlx::query(
        "UPDATE actions SET version = ?2, owner_key = ?3, status = ?4, check_in = ?5, updated_at = ?6, body = ?7, progress = ?8,
             finished_at = ?9
         WHERE id = ?1",
    )
    .bind(id.0)
    .bind(version.0)
    .bind(action.owner.as_str().to_lowercase())
    .bind(action.status.name())
    .bind(action.check_in.to_string())
    .bind(micros(at))
    .bind(to_json(action)?)
    .bind(to_json(&progress)?)
    .bind(finished_at.map(micros))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Inserts an action at version 1, written at `at`: one added finished is finished then.
async fn insert_action(
    conn: &mut SqliteConnection,
    pm_id: i64,
    action: &ActionFields,
    progress: &[ProgressUpdate],
    at: Timestamp,
) -> Result<ActionId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO actions (postmortem_id, version, owner_key, status, check_in, created_at, updated_at, body, progress, finished_at)
         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8) RETURNING id",
    )
    .bind(pm_id)
    .bind(action.owner.as_str().to_lowercase())
    .bind(action.status.name())
    .bind(action.check_in.to_string())
    .bind(micros(at))
    .bind(to_json(action)?)
    .bind(to_json(&progress)?)
    .bind(finished_at(None, &action.status, at).map(micros))
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(ActionId(id))
}

/// After an action was finished: closes its postmortem, as a status change by `by` at `at`
/// would, when [`closes_after`] says so. `pm` is the postmortem as loaded in this transaction.
async fn close_if_finished(
    conn: &mut SqliteConnection,
    pm_id: i64,
    pm: &Postmortem,
    by: &str,
    at: Timestamp,
) -> Result<()> {
    let (unfinished, total): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(status IN ('open', 'in_progress')), 0), COUNT(*)
         FROM actions WHERE postmortem_id = ?1",
    )
    .bind(pm_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    let count = |n: i64| usize::try_from(n).unwrap_or(usize::MAX);
    if !closes_after(pm.status, count(unfinished), count(total)) {
        return Ok(());
    }
    write_postmortem(
        conn,
        pm_id,
        Version(pm.version.0 + 1),
        Status::Closed,
        &pm.fields,
        pm.created_at,
        at,
    )
    .await?;
    record(
        conn,
        pm_id,
        at,
        by,
        Entity::Postmortem,
        None,
        &auto_close_summary(),
        &[status_change(pm.status, Status::Closed)],
    )
    .await
}

async fn insert_participant(
    conn: &mut SqliteConnection,
    pm_id: i64,
    p: &ParticipantFields,
) -> Result<Participant> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO participants (postmortem_id, version, body) VALUES (?1, 1, ?2) RETURNING id",
    )
    .bind(pm_id)
    .bind(to_json(p)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(Participant {
        id: ParticipantId(id),
        version: Version(1),
        fields: p.clone(),
    })
}

/// Appends the listing filters that are set, as `AND …` conditions over `postmortems p`. Only the
/// filters given appear in the SQL, so SQLite can use the index each one needs.
fn push_filters(q: &mut QueryBuilder<Sqlite>, f: &PostmortemFilter) {
    if let Some(status) = f.status {
        q.push(" AND p.status = ").push_bind(status.as_str());
    }
    if let Some(severity) = f.severity {
        q.push(" AND p.severity = ")
            .push_bind(i64::from(severity.level()));
    }
    if let Some(service) = &f.service {
        q.push(
            " AND p.id IN (SELECT s.postmortem_id FROM postmortem_services s WHERE s.service = ",
        )
        .push_bind(service.as_str().to_owned())
        .push(")");
    }
    if let Some(from) = f.from {
        q.push(" AND p.occurred_at >= ").push_bind(micros(from));
    }
    if let Some(until) = f.until {
        q.push(" AND p.occurred_at < ").push_bind(micros(until));
    }
}

fn has_filters(f: &PostmortemFilter) -> bool {
    f.status.is_some()
        || f.severity.is_some()
        || f.service.is_some()
        || f.from.is_some()
        || f.until.is_some()
}

/// The postmortem an alert group points at, whatever its status.
async fn group_target(
    conn: &mut SqliteConnection,
    source: &Source,
    group_key: &str,
) -> Result<Option<Postmortem>> {
    let sql = format!(
        "SELECT {POSTMORTEM_COLUMNS} FROM alert_groups g JOIN postmortems p ON p.id = g.postmortem_id
         WHERE g.source = ?1 AND g.group_key = ?2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(source.as_str())
        .bind(group_key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(|r| postmortem_from_row(&r)).transpose()
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn stats(&self, today: Date) -> Result<Stats> {
        let counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM postmortems GROUP BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        let (open, overdue): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(check_in < ?1), 0) FROM actions
             WHERE status IN ('open', 'in_progress')",
        )
        .bind(today.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Stats::from_counts(&counts, open, overdue)
    }

    async fn create_postmortem(&self, by: &str, fields: PostmortemFields) -> Result<Postmortem> {
        let fields = prepare_postmortem(fields)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let number = next_number(&mut tx).await?;
        let id = insert_postmortem_row(&mut tx, number, Status::Draft, &fields, at).await?;
        reindex(&mut tx, id, &fields).await?;
        record(
            &mut tx,
            id,
            at,
            by,
            Entity::Postmortem,
            None,
            "created",
            &changes(&(), &fields),
        )
        .await?;
        let (_, pm) = load_postmortem(&mut tx, Key::new(number)?).await?;
        tx.commit().await.map_err(backend)?;
        Ok(pm)
    }

    async fn import_document(&self, by: &str, doc: PostmortemDocument) -> Result<Postmortem> {
        let fields = prepare_postmortem(doc.fields)?;
        let events = doc
            .events
            .into_iter()
            .map(prepare_event)
            .collect::<Result<Vec<_>>>()?;
        let actions = doc
            .actions
            .into_iter()
            .map(|a| Ok((prepare_action(a.fields)?, a.progress)))
            .collect::<Result<Vec<_>>>()?;
        check_document_status(doc.status, actions.iter().map(|(a, _)| a))?;
        let participants = doc
            .participants
            .into_iter()
            .map(prepare_participant)
            .collect::<Result<Vec<_>>>()?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let number = match doc.key {
            Some(key) => {
                let taken: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM postmortems WHERE number = ?1")
                        .bind(i64::from(key.number()))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend)?;
                if taken.is_some() {
                    return Err(StoreError::Duplicate(format!("postmortem {key}")));
                }
                key.number()
            }
            None => next_number(&mut tx).await?,
        };
        let mut fields = fields;
        for e in &events {
            fill_key_moment(&mut fields, e);
        }
        let id = insert_postmortem_row(&mut tx, number, doc.status, &fields, at).await?;
        let mut added = 0;
        for e in &events {
            if insert_event(&mut tx, id, e, at).await?.is_some() {
                added += 1;
            }
        }
        for (a, progress) in &actions {
            insert_action(&mut tx, id, a, progress, at).await?;
        }
        for p in &participants {
            insert_participant(&mut tx, id, p).await?;
        }
        reindex(&mut tx, id, &fields).await?;
        let summary = format!(
            "imported with {added} event(s), {} action(s)",
            actions.len()
        );
        record(
            &mut tx,
            id,
            at,
            by,
            Entity::Postmortem,
            None,
            &summary,
            &changes(&(), &fields),
        )
        .await?;
        let (_, pm) = load_postmortem(&mut tx, Key::new(number)?).await?;
        tx.commit().await.map_err(backend)?;
        Ok(pm)
    }

    async fn get_postmortem(&self, key: Key) -> Result<Postmortem> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Ok(load_postmortem(&mut conn, key).await?.1)
    }

    async fn list_postmortems(&self, filter: &PostmortemFilter) -> Result<Vec<PostmortemSummary>> {
        let mut q = QueryBuilder::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM postmortems p WHERE 1 = 1"
        ));
        push_filters(&mut q, filter);
        q.push(" ORDER BY p.occurred_at DESC, p.number DESC LIMIT ")
            .push_bind(filter.effective_limit());
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(summary_from_row).collect()
    }

    async fn update_postmortem(
        &self,
        by: &str,
        key: Key,
        expected: Version,
        fields: PostmortemFields,
    ) -> Result<Postmortem> {
        let fields = prepare_postmortem(fields)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let (id, current) = load_postmortem(&mut tx, key).await?;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(format!("postmortem {key}"), &current, expected, &fields)?
        else {
            return Ok(current);
        };
        write_postmortem(
            &mut tx,
            id,
            version,
            current.status,
            &fields,
            current.created_at,
            at,
        )
        .await?;
        reindex(&mut tx, id, &fields).await?;
        record(
            &mut tx,
            id,
            at,
            by,
            Entity::Postmortem,
            None,
            "updated",
            &diff,
        )
        .await?;
        let (_, pm) = load_postmortem(&mut tx, key).await?;
        tx.commit().await.map_err(backend)?;
        Ok(pm)
    }

    async fn change_status(
        &self,
        by: &str,
        key: Key,
        expected: Version,
        to: Status,
    ) -> Result<Postmortem> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let (id, current) = load_postmortem(&mut tx, key).await?;
        check_version(format!("postmortem {key}"), &current, expected)?;
        let unfinished: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM actions WHERE postmortem_id = ?1 AND status IN ('open', 'in_progress')",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let direction = current
            .status
            .transition(to, usize::try_from(unfinished).unwrap_or(usize::MAX))?;
        write_postmortem(
            &mut tx,
            id,
            Version(current.version.0 + 1),
            to,
            &current.fields,
            current.created_at,
            at,
        )
        .await?;
        let change = status_change(current.status, to);
        record(
            &mut tx,
            id,
            at,
            by,
            Entity::Postmortem,
            None,
            &status_summary(current.status, to, direction),
            &[change],
        )
        .await?;
        let (_, pm) = load_postmortem(&mut tx, key).await?;
        tx.commit().await.map_err(backend)?;
        Ok(pm)
    }

    async fn add_event(&self, by: &str, key: Key, event: EventFields) -> Result<TimelineEvent> {
        let event = prepare_event(event)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let (pm_id, pm) = load_postmortem(&mut tx, key).await?;
        let stored = insert_event(&mut tx, pm_id, &event, at)
            .await?
            .ok_or_else(|| {
                StoreError::Duplicate(format!(
                    "an event from {} with id {:?} on {key}",
                    event.source,
                    event.source_id.as_deref().unwrap_or_default()
                ))
            })?;
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Event,
            Some(stored.id.0),
            "added event",
            &changes(&(), &event),
        )
        .await?;
        let pm = apply_milestone_in(&mut tx, pm_id, pm, by, None, &event, at).await?;
        reindex(&mut tx, pm_id, &pm.fields).await?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn edit_event(
        &self,
        by: &str,
        key: Key,
        id: EventId,
        expected: Version,
        event: EventFields,
    ) -> Result<TimelineEvent> {
        let event = prepare_event(event)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let (pm_id, pm) = load_postmortem(&mut tx, key).await?;
        let current = load_event(&mut tx, pm_id, key, id).await?;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(
            format!("event {} in {key}", id.0),
            &current,
            expected,
            &event,
        )?
        else {
            return Ok(current);
        };
        write_event(&mut tx, id, version, &event).await?;
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Event,
            Some(id.0),
            "edited event",
            &diff,
        )
        .await?;
        let pm =
            apply_milestone_in(&mut tx, pm_id, pm, by, Some(&current.fields), &event, at).await?;
        reindex(&mut tx, pm_id, &pm.fields).await?;
        let stored = load_event(&mut tx, pm_id, key, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn set_event_hidden(
        &self,
        by: &str,
        key: Key,
        id: EventId,
        hidden: bool,
    ) -> Result<TimelineEvent> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let pm_id = postmortem_id(&mut tx, key).await?;
        let current = load_event(&mut tx, pm_id, key, id).await?;
        if current.fields.hidden == hidden {
            return Ok(current);
        }
        let mut event = current.fields.clone();
        event.hidden = hidden;
        write_event(&mut tx, id, Version(current.version.0 + 1), &event).await?;
        let summary = if hidden { "hid event" } else { "unhid event" };
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Event,
            Some(id.0),
            summary,
            &changes(&current.fields, &event),
        )
        .await?;
        let stored = load_event(&mut tx, pm_id, key, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn insert_events(
        &self,
        by: &str,
        key: Key,
        events: Vec<EventFields>,
    ) -> Result<BulkOutcome> {
        let events = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                prepare_event(e).map_err(|err| match err {
                    StoreError::Invalid(p) => {
                        StoreError::Invalid(p.within(&format!("events[{i}]")))
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let (pm_id, mut pm) = load_postmortem(&mut tx, key).await?;
        let mut outcome = BulkOutcome::default();
        let mut milestones = Vec::new();
        for e in &events {
            if insert_event(&mut tx, pm_id, e, at).await?.is_some() {
                outcome.added += 1;
                if e.milestone.is_some() {
                    milestones.push(e);
                }
            } else {
                outcome.already_present += 1;
            }
        }
        if outcome.added > 0 {
            let summary = format!(
                "imported {} event(s), {} already present",
                outcome.added, outcome.already_present
            );
            let change = FieldChange {
                field: "events".into(),
                before: serde_json::Value::Null,
                after: outcome.added.into(),
            };
            record(
                &mut tx,
                pm_id,
                at,
                by,
                Entity::Event,
                None,
                &summary,
                &[change],
            )
            .await?;
            for e in milestones {
                pm = apply_milestone_in(&mut tx, pm_id, pm, by, None, e, at).await?;
            }
            reindex(&mut tx, pm_id, &pm.fields).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn list_events(&self, key: Key, query: EventQuery) -> Result<Vec<TimelineEvent>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let pm_id = postmortem_id(&mut conn, key).await?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE postmortem_id = ?1 AND (?2 OR hidden = 0) ORDER BY happened_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pm_id)
            .bind(query.include_hidden)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.iter().map(event_from_row).collect()
    }

    async fn add_action(&self, by: &str, key: Key, action: ActionFields) -> Result<ActionItem> {
        let action = prepare_action(action)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let (pm_id, pm) = load_postmortem(&mut tx, key).await?;
        check_action_allowed(pm.status, &action)?;
        let id = insert_action(&mut tx, pm_id, &action, &[], at).await?;
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Action,
            Some(id.0),
            "added action",
            &changes(&(), &action),
        )
        .await?;
        let (_, item) = load_action(&mut tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(item)
    }

    async fn get_action(&self, id: ActionId) -> Result<ActionItem> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Ok(load_action(&mut conn, id).await?.1)
    }

    async fn update_action(
        &self,
        by: &str,
        id: ActionId,
        expected: Version,
        action: ActionFields,
    ) -> Result<ActionItem> {
        let action = prepare_action(action)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let (pm_id, current) = load_action(&mut tx, id).await?;
        let (_, pm) = load_postmortem(&mut tx, current.postmortem).await?;
        check_action_allowed(pm.status, &action)?;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(format!("action {}", id.0), &current, expected, &action)?
        else {
            return Ok(current);
        };
        let finished = finished_at(
            Some((&current.fields.status, current.finished_at)),
            &action.status,
            at,
        );
        write_action(
            &mut tx,
            id,
            version,
            &action,
            &current.progress,
            at,
            finished,
        )
        .await?;
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Action,
            Some(id.0),
            "updated action",
            &diff,
        )
        .await?;
        if finishes(&current.fields.status, &action.status) {
            close_if_finished(&mut tx, pm_id, &pm, by, at).await?;
        }
        let (_, item) = load_action(&mut tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(item)
    }

    async fn add_progress(
        &self,
        by: &str,
        id: ActionId,
        update: ProgressUpdate,
    ) -> Result<ActionItem> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let (pm_id, current) = load_action(&mut tx, id).await?;
        let mut fields = current.fields.clone();
        if let Some(date) = update.new_check_in {
            fields.check_in = date;
            fields.validate()?;
        }
        let mut progress = current.progress.clone();
        progress.push(update.clone());
        let finished = finished_at(
            Some((&current.fields.status, current.finished_at)),
            &fields.status,
            at,
        );
        write_action(
            &mut tx,
            id,
            Version(current.version.0 + 1),
            &fields,
            &progress,
            at,
            finished,
        )
        .await?;
        let mut diff = changes(&current.fields, &fields);
        diff.push(FieldChange {
            field: "progress".into(),
            before: serde_json::Value::Null,
            after: serde_json::to_value(&update).unwrap_or_default(),
        });
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Action,
            Some(id.0),
            "progress note",
            &diff,
        )
        .await?;
        let (_, item) = load_action(&mut tx, id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(item)
    }

    async fn list_actions(&self, filter: &ActionFilter) -> Result<Vec<ActionItem>> {
        let mut q = QueryBuilder::new(format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN postmortems p ON p.id = a.postmortem_id WHERE 1 = 1"
        ));
        if let Some(key) = filter.postmortem {
            q.push(" AND p.number = ")
                .push_bind(i64::from(key.number()));
        }
        if let Some(owner) = &filter.owner {
            q.push(" AND a.owner_key = ")
                .push_bind(owner.trim().to_lowercase());
        }
        if let Some(status) = filter.status {
            q.push(" AND a.status = ").push_bind(status.as_str());
        }
        if let Some(day) = filter.overdue_on {
            q.push(" AND a.status IN ('open', 'in_progress') AND a.check_in < ")
                .push_bind(day.to_string());
        }
        q.push(" ORDER BY a.check_in, a.id");
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(action_from_row).collect()
    }

    async fn add_participant(
        &self,
        by: &str,
        key: Key,
        participant: ParticipantFields,
    ) -> Result<Participant> {
        let participant = prepare_participant(participant)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let pm_id = postmortem_id(&mut tx, key).await?;
        let stored = insert_participant(&mut tx, pm_id, &participant).await?;
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Participant,
            Some(stored.id.0),
            "added participant",
            &changes(&(), &participant),
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn update_participant(
        &self,
        by: &str,
        key: Key,
        id: ParticipantId,
        expected: Version,
        participant: ParticipantFields,
    ) -> Result<Participant> {
        let participant = prepare_participant(participant)?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let pm_id = postmortem_id(&mut tx, key).await?;
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE id = ?1 AND postmortem_id = ?2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(pm_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound(format!("participant {} in {key}", id.0)))?;
        let current = participant_from_row(&row)?;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(
            format!("participant {} in {key}", id.0),
            &current,
            expected,
            &participant,
        )?
        else {
            return Ok(current);
        };
        sqlx::query("UPDATE participants SET version = ?2, body = ?3 WHERE id = ?1")
            .bind(id.0)
            .bind(version.0)
            .bind(to_json(&participant)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        record(
            &mut tx,
            pm_id,
            at,
            by,
            Entity::Participant,
            Some(id.0),
            "updated participant",
            &diff,
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(Participant {
            id,
            version,
            fields: participant,
        })
    }

    async fn list_participants(&self, key: Key) -> Result<Vec<Participant>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let pm_id = postmortem_id(&mut conn, key).await?;
        let sql = format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE postmortem_id = ?1 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pm_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.iter().map(participant_from_row).collect()
    }

    async fn revisions(&self, key: Key) -> Result<Vec<Revision>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let pm_id = postmortem_id(&mut conn, key).await?;
        let rows = sqlx::query(
            "SELECT id, at, actor, entity, entity_id, summary, changes FROM revisions WHERE postmortem_id = ?1 ORDER BY id",
        )
        .bind(pm_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        rows.iter().map(rows::revision_from_row).collect()
    }

    async fn latest_revision(&self, key: Key) -> Result<Option<i64>> {
        // One index probe each: the postmortem by number, its newest revision by
        // (postmortem_id, id). No row: no such postmortem.
        let query = sqlx::query_as::<_, (Option<i64>,)>(
            "SELECT (SELECT max(r.id) FROM revisions r WHERE r.postmortem_id = p.id)
             FROM postmortems p WHERE p.number = ?1",
        )
        .bind(i64::from(key.number()));
        let row = lookup!(self, query, fetch_optional).map_err(backend)?;
        row.map(|(mark,)| mark)
            .ok_or_else(|| StoreError::NotFound(format!("postmortem {key}")))
    }

    async fn group_postmortem(
        &self,
        source: &Source,
        group_key: &str,
    ) -> Result<Option<Postmortem>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Ok(group_target(&mut conn, source, group_key)
            .await?
            .filter(|pm| open_to_alerts(pm.status)))
    }

    async fn open_for_group(
        &self,
        by: &str,
        source: &Source,
        group_key: &str,
        fields: PostmortemFields,
    ) -> Result<(Postmortem, bool)> {
        check_group_key(group_key)?;
        let fields = prepare_postmortem(fields)?;
        let at = now();
        // BEGIN IMMEDIATE: concurrent deliveries of one group queue here, and the second finds
        // the postmortem the first opened.
        let mut tx = self.begin_write().await?;
        if let Some(pm) = group_target(&mut tx, source, group_key).await?
            && open_to_alerts(pm.status)
        {
            tx.commit().await.map_err(backend)?;
            return Ok((pm, false));
        }
        let number = next_number(&mut tx).await?;
        let id = insert_postmortem_row(&mut tx, number, Status::Draft, &fields, at).await?;
        reindex(&mut tx, id, &fields).await?;
        sqlx::query(
            "INSERT INTO alert_groups (source, group_key, postmortem_id, opened_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source, group_key)
             DO UPDATE SET postmortem_id = excluded.postmortem_id, opened_at = excluded.opened_at",
        )
        .bind(source.as_str())
        .bind(group_key)
        .bind(id)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        record(
            &mut tx,
            id,
            at,
            by,
            Entity::Postmortem,
            None,
            &group_summary(source, group_key),
            &changes(&(), &fields),
        )
        .await?;
        let (_, pm) = load_postmortem(&mut tx, Key::new(number)?).await?;
        tx.commit().await.map_err(backend)?;
        Ok((pm, true))
    }

    async fn search(
        &self,
        query: &SearchQuery,
        filter: &PostmortemFilter,
    ) -> Result<Vec<SearchHit>> {
        // Rank inside the full-text index alone when no filter needs the postmortem's columns
        // (the common case, and twice as fast); otherwise rank the matches that pass the filters.
        // Only the best `limit` rows are then read in full. `debrief_rank` is `bm25()`, computed
        // faster (rank.rs).
        // A search row's rowid is the postmortem's id shifted left by 24 bits plus the row's
        // length (see INSERT_SEARCH_ROW); the join names both directions so SQLite can start from
        // either table.
        let mut q = QueryBuilder::new("WITH ranked AS (");
        if has_filters(filter) {
            q.push(
                "SELECT p.id AS id, postmortem_search.rowid AS search_id,
                        debrief_rank(postmortem_search, 10.0, 4.0, 1.0) AS score
                 FROM postmortem_search JOIN postmortems p
                     ON p.id = postmortem_search.rowid >> 24
                     AND postmortem_search.rowid
                         BETWEEN (p.id << 24) AND (p.id << 24) + 16777215
                 WHERE postmortem_search MATCH ",
            )
            .push_bind(query.to_fts5());
            push_filters(&mut q, filter);
            q.push(" ORDER BY score DESC, p.occurred_at DESC, p.number DESC LIMIT ");
        } else {
            q.push(
                "SELECT rowid >> 24 AS id, rowid AS search_id,
                        debrief_rank(postmortem_search, 10.0, 4.0, 1.0) AS score
                 FROM postmortem_search WHERE postmortem_search MATCH ",
            )
            .push_bind(query.to_fts5())
            .push(" ORDER BY score DESC, rowid DESC LIMIT ");
        }
        q.push_bind(filter.effective_limit()).push(format!(
            ")
             SELECT {SUMMARY_COLUMNS}, ranked.score, s.summary AS search_summary, s.body AS search_body
             FROM ranked
                 CROSS JOIN postmortems p ON p.id = ranked.id
                 CROSS JOIN postmortem_search s ON s.rowid = ranked.search_id
             ORDER BY ranked.score DESC, p.occurred_at DESC, p.number DESC"
        ));
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter()
            .map(|row| {
                let summary: &str = row.try_get("search_summary").map_err(backend)?;
                let body: &str = row.try_get("search_body").map_err(backend)?;
                Ok(SearchHit {
                    postmortem: summary_from_row(row)?,
                    rank: row.try_get("score").map_err(backend)?,
                    snippet: query.snippet(summary, body),
                })
            })
            .collect()
    }
}
