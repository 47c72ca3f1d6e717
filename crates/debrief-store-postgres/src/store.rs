//! The use cases of the storage port on PostgreSQL: each one a transaction.
//!
//! Every write locks its postmortem's row (`SELECT … FOR UPDATE`) before it touches the
//! postmortem or any of its parts. Writes to one postmortem therefore take turns, which keeps
//! version checks, the search document (rebuilt from the whole timeline) and the close-only-
//! when-actions-are-finished rule consistent, and lets no two transactions lock rows in opposite
//! orders.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use debrief_core::{
    ActionFields, ActionId, ActionItem, Entity, EventFields, EventId, FieldChange, Key,
    Participant, ParticipantFields, ParticipantId, Postmortem, PostmortemDocument,
    PostmortemFields, ProgressUpdate, Revision, Source, Status, TimelineEvent, Version,
};
use debrief_store::search::plain_words;
use debrief_store::{
    ActionFilter, BulkOutcome, Edit, EventQuery, PostmortemFilter, PostmortemSummary, Result,
    SearchHit, SearchQuery, Stats, Store, StoreError, auto_close_summary, changes,
    check_action_allowed, check_document_status, check_edit, check_group_key, check_version,
    closes_after, fill_key_moment, finished_at, finishes, follow_milestone, group_summary,
    occurred_at, open_to_alerts, prepare_action, prepare_event, prepare_participant,
    prepare_postmortem, status_change, status_summary, to_json,
};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder};

use crate::PostgresStore;
use crate::rows::{
    self, ActionRow, EventRow, ParticipantRow, PostmortemRow, RevisionRow, StoredAction,
    StoredPostmortem, SummaryRow, action_columns, backend, duplicate_or_backend, event_columns,
    key_of, micros, now, number_of, participant_columns, postmortem_columns, summary_columns,
};

type Tx = sqlx::Transaction<'static, Postgres>;

/// The transaction-scoped advisory lock taken while a new key number is chosen.
const KEY_NUMBER_LOCK: i64 = 0x6465_6272_6965_6602;

impl PostgresStore {
    async fn begin(&self) -> Result<Tx> {
        self.pool.begin().await.map_err(backend)
    }
}

fn not_found_postmortem(key: Key) -> StoreError {
    StoreError::NotFound(format!("postmortem {key}"))
}

/// An invalid item of a batch names its place: `events[2].milestone`.
fn at_index(list: &'static str, i: usize) -> impl Fn(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Invalid(p) => StoreError::Invalid(p.within(&format!("{list}[{i}]"))),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading and locking rows.

async fn find_postmortem(
    conn: &mut PgConnection,
    key: Key,
    lock: bool,
) -> Result<StoredPostmortem> {
    let sql = if lock {
        concat!(
            "SELECT ",
            postmortem_columns!(),
            " FROM postmortems p WHERE p.number = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            postmortem_columns!(),
            " FROM postmortems p WHERE p.number = $1"
        )
    };
    let row: Option<PostmortemRow> = sqlx::query_as(sql)
        .bind(number_of(key))
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(rows::postmortem)
        .transpose()?
        .ok_or_else(|| not_found_postmortem(key))
}

/// Locks the postmortem with row id `id`.
async fn lock_postmortem_by_id(conn: &mut PgConnection, id: i64) -> Result<StoredPostmortem> {
    let row: PostmortemRow = sqlx::query_as(concat!(
        "SELECT ",
        postmortem_columns!(),
        " FROM postmortems p WHERE p.id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    rows::postmortem(row)
}

/// The row id of a postmortem, for reads.
async fn postmortem_id(conn: &mut PgConnection, key: Key) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM postmortems WHERE number = $1")
        .bind(number_of(key))
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| not_found_postmortem(key))
}

async fn lock_event(
    conn: &mut PgConnection,
    pm: &StoredPostmortem,
    id: EventId,
) -> Result<TimelineEvent> {
    let row: Option<EventRow> = sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events e WHERE e.id = $1 AND e.postmortem_id = $2 FOR UPDATE"
    ))
    .bind(id.0)
    .bind(pm.id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(rows::event)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("event {} in {}", id.0, pm.postmortem.key)))
}

async fn find_action(conn: &mut PgConnection, id: ActionId, lock: bool) -> Result<StoredAction> {
    let sql = if lock {
        concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions a JOIN postmortems p ON p.id = a.postmortem_id WHERE a.id = $1 FOR UPDATE OF a"
        )
    } else {
        concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions a JOIN postmortems p ON p.id = a.postmortem_id WHERE a.id = $1"
        )
    };
    let row: Option<ActionRow> = sqlx::query_as(sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map(rows::action)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("action {}", id.0)))
}

/// Locks an action and, first, its postmortem (always in that order); returns both.
async fn lock_action(
    conn: &mut PgConnection,
    id: ActionId,
) -> Result<(StoredPostmortem, StoredAction)> {
    let pm_id: i64 = sqlx::query_scalar("SELECT postmortem_id FROM actions WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| StoreError::NotFound(format!("action {}", id.0)))?;
    let pm = lock_postmortem_by_id(conn, pm_id).await?;
    let action = find_action(conn, id, true).await?;
    Ok((pm, action))
}

// ---------------------------------------------------------------------------------------------
// Writing rows.

/// One entry of the revision history.
struct Entry<'a> {
    postmortem_id: i64,
    at: Timestamp,
    by: &'a str,
    entity: Entity,
    entity_id: Option<i64>,
    summary: String,
    changes: Vec<FieldChange>,
}

async fn record(conn: &mut PgConnection, entry: Entry<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO revisions (postmortem_id, at, actor, entity, entity_id, summary, changes)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
    )
    .bind(entry.postmortem_id)
    .bind(micros(entry.at))
    .bind(entry.by)
    .bind(entry.entity.as_str())
    .bind(entry.entity_id)
    .bind(entry.summary)
    .bind(to_json(&entry.changes)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Inserts a postmortem at version 1 and returns it with its row id.
async fn insert_postmortem(
    conn: &mut PgConnection,
    number: i64,
    status: Status,
    fields: PostmortemFields,
    at: Timestamp,
) -> Result<StoredPostmortem> {
    let key = key_of(number)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO postmortems
             (number, version, status, severity, title, occurred_at, created_at, updated_at, body)
         VALUES ($1, 1, $2, $3, $4, $5, $6, $6, $7::jsonb)
         RETURNING id",
    )
    .bind(number)
    .bind(status.as_str())
    .bind(i16::from(fields.severity.level()))
    .bind(fields.title.as_str())
    .bind(micros(occurred_at(&fields, at)))
    .bind(micros(at))
    .bind(to_json(&fields)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(duplicate_or_backend(|| format!("postmortem {key}")))?;
    write_services(conn, id, &fields).await?;
    Ok(StoredPostmortem {
        id,
        postmortem: Postmortem {
            key,
            version: Version(1),
            status,
            created_at: at,
            updated_at: at,
            fields,
        },
    })
}

/// Writes a new version of a postmortem (fields and status) over the stored one.
async fn write_postmortem(conn: &mut PgConnection, id: i64, p: &Postmortem) -> Result<()> {
    sqlx::query(
        "UPDATE postmortems
         SET version = $2, status = $3, severity = $4, title = $5, occurred_at = $6,
             updated_at = $7, body = $8::jsonb
         WHERE id = $1",
    )
    .bind(id)
    .bind(p.version.0)
    .bind(p.status.as_str())
    .bind(i16::from(p.fields.severity.level()))
    .bind(p.fields.title.as_str())
    .bind(micros(occurred_at(&p.fields, p.created_at)))
    .bind(micros(p.updated_at))
    .bind(to_json(&p.fields)?)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    write_services(conn, id, &p.fields).await
}

async fn write_services(conn: &mut PgConnection, id: i64, fields: &PostmortemFields) -> Result<()> {
    let services: Vec<String> = fields.services.iter().map(|s| s.to_string()).collect();
    sqlx::query(
        "WITH gone AS (
             DELETE FROM postmortem_services
             WHERE postmortem_id = $1 AND NOT (service = ANY($2::text[]))
         )
         INSERT INTO postmortem_services (postmortem_id, service)
         SELECT $1, s FROM UNNEST($2::text[]) AS s
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(services)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Rebuilds the search row of a postmortem from its fields and its whole timeline.
async fn reindex(conn: &mut PgConnection, id: i64, fields: &PostmortemFields) -> Result<()> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body::text FROM events WHERE postmortem_id = $1 ORDER BY happened_at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let doc = debrief_store::search_document(fields, &bodies)?;
    sqlx::query(
        "INSERT INTO postmortem_search (postmortem_id, title, summary, body, document)
         VALUES ($1, $2::text, $3::text, $4::text,
                 setweight(to_tsvector('english', $5::text), 'A')
                 || setweight(to_tsvector('english', $6::text), 'B')
                 || setweight(to_tsvector('english', $7::text), 'C'))
         ON CONFLICT (postmortem_id) DO UPDATE
         SET title = EXCLUDED.title, summary = EXCLUDED.summary, body = EXCLUDED.body,
             document = EXCLUDED.document",
    )
    .bind(id)
    // The text is kept as written (for snippets); the index is built from its plain words, so
    // PostgreSQL splits `api.example.com` or `10.0.0.1` into words as SQLite's tokenizer does.
    .bind(&doc.title)
    .bind(&doc.summary)
    .bind(&doc.body)
    .bind(plain_words(&doc.title))
    .bind(plain_words(&doc.summary))
    .bind(plain_words(&doc.body))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// What an event insert did for one event of the batch: its new id, or `None` when its
/// (source, source id) was already on the timeline.
type Inserted = Vec<Option<EventId>>;

/// Inserts events in one statement, in the order given (so ids follow it), skipping those whose
/// (source, source id) is already on this timeline or earlier in the batch.
async fn insert_event_rows(
    conn: &mut PgConnection,
    postmortem_id: i64,
    events: &[EventFields],
    recorded_at: Timestamp,
) -> Result<Inserted> {
    let mut happened = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut sources = Vec::with_capacity(events.len());
    let mut source_ids = Vec::with_capacity(events.len());
    let mut hidden = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    let mut kept = vec![false; events.len()];
    let mut seen = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(sid) = &e.source_id
            && !seen.insert((e.source.as_str(), sid.as_str()))
        {
            continue; // repeated in the batch
        }
        kept[i] = true;
        happened.push(e.happened_at.epoch_micros());
        kinds.push(e.kind.as_str());
        sources.push(e.source.as_str());
        source_ids.push(e.source_id.as_deref());
        hidden.push(e.hidden);
        bodies.push(to_json(e)?);
    }
    if bodies.is_empty() {
        return Ok(vec![None; events.len()]);
    }
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "INSERT INTO events
             (postmortem_id, version, happened_at, recorded_at, kind, source, source_id, hidden,
              body)
         SELECT $1, 1, u.happened_at, $2, u.kind, u.source, u.source_id, u.hidden, u.body::jsonb
         FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[])
              WITH ORDINALITY AS u (happened_at, kind, source, source_id, hidden, body, ord)
         ORDER BY u.ord
         ON CONFLICT (postmortem_id, source, source_id) WHERE source_id IS NOT NULL DO NOTHING
         RETURNING id, source, source_id",
    )
    .bind(postmortem_id)
    .bind(micros(recorded_at))
    .bind(&happened)
    .bind(&kinds)
    .bind(&sources)
    .bind(&source_ids)
    .bind(&hidden)
    .bind(&bodies)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    // RETURNING promises no order: events with a source id are matched back by it; those without
    // were all inserted, with ids in batch order.
    let mut by_source = HashMap::new();
    let mut manual = Vec::new();
    for (id, source, source_id) in rows {
        match source_id {
            Some(sid) => {
                by_source.insert((source, sid), EventId(id));
            }
            None => manual.push(EventId(id)),
        }
    }
    manual.sort_unstable();
    let mut manual = manual.into_iter();
    Ok(events
        .iter()
        .zip(kept)
        .map(|(e, kept)| match (&e.source_id, kept) {
            (_, false) => None,
            (Some(sid), true) => by_source.remove(&(e.source.as_str().to_owned(), sid.clone())),
            (None, true) => manual.next(),
        })
        .collect())
}

/// Sets key moments from milestone events. When any changed, writes the postmortem's next
/// version and records it; returns the postmortem as it is now.
async fn apply_milestones<'e>(
    conn: &mut PgConnection,
    pm: &StoredPostmortem,
    events: impl IntoIterator<Item = (Option<&'e EventFields>, &'e EventFields)>,
    by: &str,
    at: Timestamp,
) -> Result<Postmortem> {
    let mut next = pm.postmortem.clone();
    let mut changed = false;
    for (before, after) in events {
        changed |= follow_milestone(&mut next.fields, before, after);
    }
    if !changed {
        return Ok(next);
    }
    next.version = Version(pm.postmortem.version.0 + 1);
    next.updated_at = at;
    write_postmortem(conn, pm.id, &next).await?;
    record(
        conn,
        Entry {
            postmortem_id: pm.id,
            at,
            by,
            entity: Entity::Postmortem,
            entity_id: None,
            summary: "key moment follows a milestone event".into(),
            changes: changes(&pm.postmortem.fields, &next.fields),
        },
    )
    .await?;
    Ok(next)
}

async fn insert_action(
    conn: &mut PgConnection,
    postmortem_id: i64,
    fields: &ActionFields,
    progress: &[ProgressUpdate],
    at: Timestamp,
) -> Result<ActionId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO actions
             (postmortem_id, version, owner_key, status, check_in, created_at, updated_at, body,
              progress, finished_at)
         VALUES ($1, 1, $2, $3, $4::date, $5, $5, $6::jsonb, $7::jsonb, $8)
         RETURNING id",
    )
    .bind(postmortem_id)
    .bind(owner_key(fields))
    .bind(fields.status.name())
    .bind(fields.check_in.to_string())
    .bind(micros(at))
    .bind(to_json(fields)?)
    .bind(to_json(&progress)?)
    .bind(finished_at(None, &fields.status, at).map(micros))
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(ActionId(id))
}

/// Writes a new version of an action, its finish time included.
async fn write_action(conn: &mut PgConnection, a: &ActionItem) -> Result<()> {
    sqlx::query(
        "UPDATE actions
         SET version = $2, owner_key = $3, status = $4, check_in = $5::date, updated_at = $6,
             body = $7::jsonb, progress = $8::jsonb, finished_at = $9
         WHERE id = $1",
    )
    .bind(a.id.0)
    .bind(a.version.0)
    .bind(owner_key(&a.fields))
    .bind(a.fields.status.name())
    .bind(a.fields.check_in.to_string())
    .bind(micros(a.updated_at))
    .bind(to_json(&a.fields)?)
    .bind(to_json(&a.progress)?)
    .bind(a.finished_at.map(micros))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The owner as the owner filter compares it.
fn owner_key(fields: &ActionFields) -> String {
    fields.owner.as_str().trim().to_lowercase()
}

/// After an action was finished: closes its postmortem (locked in this transaction), as a status
/// change by `by` at `at` would, when [`closes_after`] says so.
async fn close_if_finished(
    conn: &mut PgConnection,
    pm: &StoredPostmortem,
    by: &str,
    at: Timestamp,
) -> Result<()> {
    let (unfinished, total): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE status NOT IN ('done', 'declined')), COUNT(*)
         FROM actions WHERE postmortem_id = $1",
    )
    .bind(pm.id)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    let count = |n: i64| usize::try_from(n).unwrap_or(usize::MAX);
    let current = &pm.postmortem;
    if !closes_after(current.status, count(unfinished), count(total)) {
        return Ok(());
    }
    let next = Postmortem {
        version: Version(current.version.0 + 1),
        updated_at: at,
        status: Status::Closed,
        ..current.clone()
    };
    write_postmortem(conn, pm.id, &next).await?;
    record(
        conn,
        Entry {
            postmortem_id: pm.id,
            at,
            by,
            entity: Entity::Postmortem,
            entity_id: None,
            summary: auto_close_summary(),
            changes: vec![status_change(current.status, Status::Closed)],
        },
    )
    .await
}

async fn insert_participant(
    conn: &mut PgConnection,
    postmortem_id: i64,
    fields: &ParticipantFields,
) -> Result<ParticipantId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO participants (postmortem_id, version, body) VALUES ($1, 1, $2::jsonb)
         RETURNING id",
    )
    .bind(postmortem_id)
    .bind(to_json(fields)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(ParticipantId(id))
}

/// The next free key number. Call with the key-number lock held.
async fn next_number(conn: &mut PgConnection) -> Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM postmortems")
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

async fn lock_key_numbers(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_NUMBER_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Appends the listing filters (`p` is the postmortem) to a query that already has a WHERE.
fn push_filters(q: &mut QueryBuilder<Postgres>, filter: &PostmortemFilter) {
    if let Some(status) = filter.status {
        q.push(" AND p.status = ").push_bind(status.as_str());
    }
    if let Some(severity) = filter.severity {
        q.push(" AND p.severity = ")
            .push_bind(i16::from(severity.level()));
    }
    if let Some(service) = &filter.service {
        q.push(
            " AND EXISTS (SELECT 1 FROM postmortem_services ps \
             WHERE ps.postmortem_id = p.id AND ps.service = ",
        )
        .push_bind(service.to_string())
        .push(")");
    }
    if let Some(from) = filter.from {
        q.push(" AND p.occurred_at >= ").push_bind(micros(from));
    }
    if let Some(until) = filter.until {
        q.push(" AND p.occurred_at < ").push_bind(micros(until));
    }
}

/// The postmortem an alert group points at, whatever its status.
async fn group_target(
    conn: &mut PgConnection,
    source: &Source,
    group_key: &str,
) -> Result<Option<Postmortem>> {
    let row: Option<PostmortemRow> = sqlx::query_as(concat!(
        "SELECT ",
        postmortem_columns!(),
        " FROM alert_groups g JOIN postmortems p ON p.id = g.postmortem_id
         WHERE g.source = $1 AND g.group_key = $2"
    ))
    .bind(source.as_str())
    .bind(group_key)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(row
        .map(rows::postmortem)
        .transpose()?
        .map(|stored| stored.postmortem))
}

// ---------------------------------------------------------------------------------------------
// The use cases.

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn stats(&self, today: Date) -> Result<Stats> {
        let counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM postmortems GROUP BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        let (open, overdue): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE check_in < $1::date) FROM actions
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
        let mut tx = self.begin().await?;
        lock_key_numbers(&mut tx).await?;
        let number = next_number(&mut tx).await?;
        let pm = insert_postmortem(&mut tx, number, Status::Draft, fields, at).await?;
        reindex(&mut tx, pm.id, &pm.postmortem.fields).await?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Postmortem,
                entity_id: None,
                summary: "created".into(),
                changes: changes(&(), &pm.postmortem.fields),
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(pm.postmortem)
    }

    async fn import_document(&self, by: &str, doc: PostmortemDocument) -> Result<Postmortem> {
        let PostmortemDocument {
            key,
            status,
            fields,
            events,
            actions,
            participants,
        } = doc;
        let mut fields = prepare_postmortem(fields)?;
        let events = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| prepare_event(e).map_err(at_index("events", i)))
            .collect::<Result<Vec<_>>>()?;
        let actions = actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                prepare_action(a.fields)
                    .map(|fields| (fields, a.progress))
                    .map_err(at_index("actions", i))
            })
            .collect::<Result<Vec<_>>>()?;
        let participants = participants
            .into_iter()
            .map(prepare_participant)
            .collect::<Result<Vec<ParticipantFields>>>()?;
        for e in &events {
            fill_key_moment(&mut fields, e);
        }
        check_document_status(status, actions.iter().map(|(a, _)| a))?;

        let at = now();
        let mut tx = self.begin().await?;
        lock_key_numbers(&mut tx).await?;
        let number = match key {
            Some(key) => {
                let taken: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM postmortems WHERE number = $1)",
                )
                .bind(number_of(key))
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                if taken {
                    return Err(StoreError::Duplicate(format!("postmortem {key}")));
                }
                number_of(key)
            }
            None => next_number(&mut tx).await?,
        };
        let pm = insert_postmortem(&mut tx, number, status, fields, at).await?;
        let inserted = insert_event_rows(&mut tx, pm.id, &events, at).await?;
        for (fields, progress) in &actions {
            insert_action(&mut tx, pm.id, fields, progress, at).await?;
        }
        for p in &participants {
            insert_participant(&mut tx, pm.id, p).await?;
        }
        reindex(&mut tx, pm.id, &pm.postmortem.fields).await?;
        let added = inserted.iter().flatten().count();
        let summary = format!(
            "imported with {added} event(s), {} action(s)",
            actions.len()
        );
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Postmortem,
                entity_id: None,
                summary,
                changes: changes(&(), &pm.postmortem.fields),
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(pm.postmortem)
    }

    async fn get_postmortem(&self, key: Key) -> Result<Postmortem> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Ok(find_postmortem(&mut conn, key, false).await?.postmortem)
    }

    async fn list_postmortems(&self, filter: &PostmortemFilter) -> Result<Vec<PostmortemSummary>> {
        let mut q = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM postmortems p WHERE TRUE"
        ));
        push_filters(&mut q, filter);
        q.push(" ORDER BY p.occurred_at DESC, p.number DESC LIMIT ")
            .push_bind(filter.effective_limit());
        let rows: Vec<SummaryRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(rows::summary).collect()
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
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let current = &pm.postmortem;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(format!("postmortem {key}"), current, expected, &fields)?
        else {
            return Ok(pm.postmortem);
        };
        let next = Postmortem {
            version,
            updated_at: at,
            fields,
            ..current.clone()
        };
        write_postmortem(&mut tx, pm.id, &next).await?;
        reindex(&mut tx, pm.id, &next.fields).await?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Postmortem,
                entity_id: None,
                summary: "updated".into(),
                changes: diff,
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(next)
    }

    async fn change_status(
        &self,
        by: &str,
        key: Key,
        expected: Version,
        to: Status,
    ) -> Result<Postmortem> {
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let current = &pm.postmortem;
        check_version(format!("postmortem {key}"), current, expected)?;
        let unfinished: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM actions
             WHERE postmortem_id = $1 AND status NOT IN ('done', 'declined')",
        )
        .bind(pm.id)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let direction = current
            .status
            .transition(to, usize::try_from(unfinished).unwrap_or(usize::MAX))?;
        let next = Postmortem {
            version: Version(current.version.0 + 1),
            updated_at: at,
            status: to,
            ..current.clone()
        };
        write_postmortem(&mut tx, pm.id, &next).await?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Postmortem,
                entity_id: None,
                summary: status_summary(current.status, to, direction),
                changes: vec![status_change(current.status, to)],
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(next)
    }

    async fn add_event(&self, by: &str, key: Key, event: EventFields) -> Result<TimelineEvent> {
        let event = prepare_event(event)?;
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let inserted = insert_event_rows(&mut tx, pm.id, std::slice::from_ref(&event), at).await?;
        let Some(id) = inserted.first().copied().flatten() else {
            return Err(StoreError::Duplicate(format!(
                "an event from {} with id {:?} on {key}",
                event.source,
                event.source_id.as_deref().unwrap_or_default()
            )));
        };
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Event,
                entity_id: Some(id.0),
                summary: "added event".into(),
                changes: changes(&(), &event),
            },
        )
        .await?;
        let now_pm = apply_milestones(&mut tx, &pm, [(None, &event)], by, at).await?;
        reindex(&mut tx, pm.id, &now_pm.fields).await?;
        tx.commit().await.map_err(backend)?;
        Ok(TimelineEvent {
            id,
            version: Version(1),
            recorded_at: at,
            fields: event,
        })
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
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let current = lock_event(&mut tx, &pm, id).await?;
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
        let next = TimelineEvent {
            version,
            fields: event,
            ..current.clone()
        };
        sqlx::query(
            "UPDATE events
             SET version = $2, happened_at = $3, kind = $4, source = $5, source_id = $6,
                 hidden = $7, body = $8::jsonb
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(next.version.0)
        .bind(next.fields.happened_at.epoch_micros())
        .bind(next.fields.kind.as_str())
        .bind(next.fields.source.as_str())
        .bind(next.fields.source_id.as_deref())
        .bind(next.fields.hidden)
        .bind(to_json(&next.fields)?)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_or_backend(|| {
            format!(
                "an event from {} with id {:?} on {key}",
                next.fields.source,
                next.fields.source_id.as_deref().unwrap_or_default()
            )
        }))?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Event,
                entity_id: Some(id.0),
                summary: "edited event".into(),
                changes: diff,
            },
        )
        .await?;
        let now_pm = apply_milestones(
            &mut tx,
            &pm,
            [(Some(&current.fields), &next.fields)],
            by,
            at,
        )
        .await?;
        reindex(&mut tx, pm.id, &now_pm.fields).await?;
        tx.commit().await.map_err(backend)?;
        Ok(next)
    }

    async fn set_event_hidden(
        &self,
        by: &str,
        key: Key,
        id: EventId,
        hidden: bool,
    ) -> Result<TimelineEvent> {
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let current = lock_event(&mut tx, &pm, id).await?;
        if current.fields.hidden == hidden {
            return Ok(current);
        }
        let mut next = current.clone();
        next.fields.hidden = hidden;
        next.version = Version(current.version.0 + 1);
        sqlx::query("UPDATE events SET version = $2, hidden = $3, body = $4::jsonb WHERE id = $1")
            .bind(id.0)
            .bind(next.version.0)
            .bind(hidden)
            .bind(to_json(&next.fields)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Event,
                entity_id: Some(id.0),
                summary: if hidden { "hid event" } else { "unhid event" }.into(),
                changes: changes(&current.fields, &next.fields),
            },
        )
        .await?;
        // Hidden events stay indexed: the search document does not change.
        tx.commit().await.map_err(backend)?;
        Ok(next)
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
            .map(|(i, e)| prepare_event(e).map_err(at_index("events", i)))
            .collect::<Result<Vec<_>>>()?;
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let inserted = insert_event_rows(&mut tx, pm.id, &events, at).await?;
        let added = inserted.iter().flatten().count();
        let outcome = BulkOutcome {
            added,
            already_present: events.len() - added,
        };
        if added == 0 {
            // Nothing changed: no revision, no new version.
            return Ok(outcome);
        }
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Event,
                entity_id: None,
                summary: format!(
                    "imported {} event(s), {} already present",
                    outcome.added, outcome.already_present
                ),
                changes: vec![FieldChange {
                    field: "events".into(),
                    before: serde_json::Value::Null,
                    after: outcome.added.into(),
                }],
            },
        )
        .await?;
        let new_events = events
            .iter()
            .zip(&inserted)
            .filter(|(_, id)| id.is_some())
            .map(|(e, _)| e);
        let now_pm = apply_milestones(&mut tx, &pm, new_events.map(|e| (None, e)), by, at).await?;
        reindex(&mut tx, pm.id, &now_pm.fields).await?;
        tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn list_events(&self, key: Key, query: EventQuery) -> Result<Vec<TimelineEvent>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let pm_id = postmortem_id(&mut conn, key).await?;
        let rows: Vec<EventRow> = sqlx::query_as(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events e WHERE e.postmortem_id = $1 AND ($2 OR NOT e.hidden)
              ORDER BY e.happened_at, e.id"
        ))
        .bind(pm_id)
        .bind(query.include_hidden)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        rows.into_iter().map(rows::event).collect()
    }

    async fn add_action(&self, by: &str, key: Key, action: ActionFields) -> Result<ActionItem> {
        let fields = prepare_action(action)?;
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        check_action_allowed(pm.postmortem.status, &fields)?;
        let id = insert_action(&mut tx, pm.id, &fields, &[], at).await?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Action,
                entity_id: Some(id.0),
                summary: "added action".into(),
                changes: changes(&(), &fields),
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(ActionItem {
            id,
            postmortem: key,
            version: Version(1),
            created_at: at,
            updated_at: at,
            finished_at: finished_at(None, &fields.status, at),
            fields,
            progress: Vec::new(),
        })
    }

    async fn get_action(&self, id: ActionId) -> Result<ActionItem> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Ok(find_action(&mut conn, id, false).await?.action)
    }

    async fn update_action(
        &self,
        by: &str,
        id: ActionId,
        expected: Version,
        action: ActionFields,
    ) -> Result<ActionItem> {
        let fields = prepare_action(action)?;
        let at = now();
        let mut tx = self.begin().await?;
        let (pm, stored) = lock_action(&mut tx, id).await?;
        let current = &stored.action;
        check_action_allowed(pm.postmortem.status, &fields)?;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(format!("action {}", id.0), current, expected, &fields)?
        else {
            return Ok(stored.action);
        };
        let next = ActionItem {
            version,
            updated_at: at,
            finished_at: finished_at(
                Some((&current.fields.status, current.finished_at)),
                &fields.status,
                at,
            ),
            fields,
            ..current.clone()
        };
        write_action(&mut tx, &next).await?;
        record(
            &mut tx,
            Entry {
                postmortem_id: stored.postmortem_id,
                at,
                by,
                entity: Entity::Action,
                entity_id: Some(id.0),
                summary: "updated action".into(),
                changes: diff,
            },
        )
        .await?;
        if finishes(&current.fields.status, &next.fields.status) {
            close_if_finished(&mut tx, &pm, by, at).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(next)
    }

    async fn add_progress(
        &self,
        by: &str,
        id: ActionId,
        update: ProgressUpdate,
    ) -> Result<ActionItem> {
        let at = now();
        let mut tx = self.begin().await?;
        let (_, stored) = lock_action(&mut tx, id).await?;
        let current = &stored.action;
        let mut next = current.clone();
        if let Some(check_in) = update.new_check_in {
            next.fields.check_in = check_in;
        }
        next.fields.validate()?;
        next.progress.push(update.clone());
        next.version = Version(current.version.0 + 1);
        next.updated_at = at;
        next.finished_at = finished_at(
            Some((&current.fields.status, current.finished_at)),
            &next.fields.status,
            at,
        );
        write_action(&mut tx, &next).await?;
        let mut diff = changes(&current.fields, &next.fields);
        diff.push(FieldChange {
            field: "progress".into(),
            before: serde_json::Value::Null,
            after: serde_json::to_value(&update).unwrap_or_default(),
        });
        record(
            &mut tx,
            Entry {
                postmortem_id: stored.postmortem_id,
                at,
                by,
                entity: Entity::Action,
                entity_id: Some(id.0),
                summary: "progress note".into(),
                changes: diff,
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(next)
    }

    async fn list_actions(&self, filter: &ActionFilter) -> Result<Vec<ActionItem>> {
        let mut q = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions a JOIN postmortems p ON p.id = a.postmortem_id WHERE TRUE"
        ));
        if let Some(key) = filter.postmortem {
            q.push(" AND p.number = ").push_bind(number_of(key));
        }
        if let Some(owner) = &filter.owner {
            q.push(" AND a.owner_key = ")
                .push_bind(owner.trim().to_lowercase());
        }
        if let Some(status) = filter.status {
            q.push(" AND a.status = ").push_bind(status.as_str());
        }
        if let Some(day) = filter.overdue_on {
            q.push(" AND a.status NOT IN ('done', 'declined') AND a.check_in < ")
                .push_bind(day.to_string())
                .push("::date");
        }
        q.push(" ORDER BY a.check_in, a.id");
        let rows: Vec<ActionRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|r| rows::action(r).map(|s| s.action))
            .collect()
    }

    async fn add_participant(
        &self,
        by: &str,
        key: Key,
        participant: ParticipantFields,
    ) -> Result<Participant> {
        let fields = prepare_participant(participant)?;
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let id = insert_participant(&mut tx, pm.id, &fields).await?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Participant,
                entity_id: Some(id.0),
                summary: "added participant".into(),
                changes: changes(&(), &fields),
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(Participant {
            id,
            version: Version(1),
            fields,
        })
    }

    async fn update_participant(
        &self,
        by: &str,
        key: Key,
        id: ParticipantId,
        expected: Version,
        participant: ParticipantFields,
    ) -> Result<Participant> {
        let fields = prepare_participant(participant)?;
        let at = now();
        let mut tx = self.begin().await?;
        let pm = find_postmortem(&mut tx, key, true).await?;
        let row: Option<ParticipantRow> = sqlx::query_as(concat!(
            "SELECT ",
            participant_columns!(),
            " FROM participants r WHERE r.id = $1 AND r.postmortem_id = $2 FOR UPDATE"
        ))
        .bind(id.0)
        .bind(pm.id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let current = row
            .map(rows::participant)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("participant {} in {key}", id.0)))?;
        let Edit::Apply {
            version,
            changes: diff,
        } = check_edit(
            format!("participant {} in {key}", id.0),
            &current,
            expected,
            &fields,
        )?
        else {
            return Ok(current);
        };
        let next = Participant {
            id,
            version,
            fields,
        };
        sqlx::query("UPDATE participants SET version = $2, body = $3::jsonb WHERE id = $1")
            .bind(id.0)
            .bind(next.version.0)
            .bind(to_json(&next.fields)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Participant,
                entity_id: Some(id.0),
                summary: "updated participant".into(),
                changes: diff,
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok(next)
    }

    async fn list_participants(&self, key: Key) -> Result<Vec<Participant>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let pm_id = postmortem_id(&mut conn, key).await?;
        let rows: Vec<ParticipantRow> = sqlx::query_as(concat!(
            "SELECT ",
            participant_columns!(),
            " FROM participants r WHERE r.postmortem_id = $1 ORDER BY r.id"
        ))
        .bind(pm_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        rows.into_iter().map(rows::participant).collect()
    }

    async fn revisions(&self, key: Key) -> Result<Vec<Revision>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let pm_id = postmortem_id(&mut conn, key).await?;
        let rows: Vec<RevisionRow> = sqlx::query_as(
            "SELECT id, at, actor, entity, entity_id, summary, changes::text
             FROM revisions WHERE postmortem_id = $1 ORDER BY id",
        )
        .bind(pm_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        rows.into_iter().map(rows::revision).collect()
    }

    async fn latest_revision(&self, key: Key) -> Result<Option<i64>> {
        // Revision ids come from a sequence, so across postmortems they are not in commit order;
        // within one they are: every write locks the postmortem's row before it records its
        // revision, so the next writer draws its id after this one committed.
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT (SELECT max(r.id) FROM revisions r WHERE r.postmortem_id = p.id)
             FROM postmortems p WHERE p.number = $1",
        )
        .bind(number_of(key))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|(mark,)| mark)
            .ok_or_else(|| not_found_postmortem(key))
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
        let mut tx = self.begin().await?;
        // The key-number lock serializes everyone who may open a postmortem, on every instance;
        // read under it, the group's row shows what an earlier opener committed.
        lock_key_numbers(&mut tx).await?;
        if let Some(pm) = group_target(&mut tx, source, group_key).await?
            && open_to_alerts(pm.status)
        {
            tx.commit().await.map_err(backend)?;
            return Ok((pm, false));
        }
        let number = next_number(&mut tx).await?;
        let pm = insert_postmortem(&mut tx, number, Status::Draft, fields, at).await?;
        reindex(&mut tx, pm.id, &pm.postmortem.fields).await?;
        sqlx::query(
            "INSERT INTO alert_groups (source, group_key, postmortem_id, opened_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (source, group_key)
             DO UPDATE SET postmortem_id = EXCLUDED.postmortem_id, opened_at = EXCLUDED.opened_at",
        )
        .bind(source.as_str())
        .bind(group_key)
        .bind(pm.id)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        record(
            &mut tx,
            Entry {
                postmortem_id: pm.id,
                at,
                by,
                entity: Entity::Postmortem,
                entity_id: None,
                summary: group_summary(source, group_key),
                changes: changes(&(), &pm.postmortem.fields),
            },
        )
        .await?;
        tx.commit().await.map_err(backend)?;
        Ok((pm.postmortem, true))
    }

    async fn search(
        &self,
        query: &SearchQuery,
        filter: &PostmortemFilter,
    ) -> Result<Vec<SearchHit>> {
        // Rank and limit first; only the rows returned are read in full for their snippet.
        let mut q =
            QueryBuilder::<Postgres>::new("WITH q AS (SELECT websearch_to_tsquery('english', ");
        q.push_bind(query.to_websearch());
        q.push(
            ") AS query),
             hits AS (
                 SELECT p.id, p.number, p.version, p.title, p.status, p.severity,
                        COALESCE(p.body->'services', '[]'::jsonb)::text AS services,
                        p.occurred_at, p.created_at, p.updated_at,
                        ts_rank_cd(s.document, q.query)::float8 AS rank
                 FROM q, postmortem_search s JOIN postmortems p ON p.id = s.postmortem_id
                 WHERE s.document @@ q.query",
        );
        push_filters(&mut q, filter);
        q.push(" ORDER BY rank DESC, p.occurred_at DESC, p.number DESC LIMIT ")
            .push_bind(filter.effective_limit());
        q.push(
            ")
             SELECT h.number, h.version, h.title, h.status, h.severity, h.services,
                    h.occurred_at, h.created_at, h.updated_at, h.rank, s.summary, s.body
             FROM hits h JOIN postmortem_search s ON s.postmortem_id = h.id
             ORDER BY h.rank DESC, h.occurred_at DESC, h.number DESC",
        );
        type HitRow = (
            i64,
            i64,
            String,
            String,
            i16,
            String,
            i64,
            i64,
            i64,
            f64,
            String,
            String,
        );
        let rows: Vec<HitRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|r| {
                let (number, version, title, status, severity, services, occ, created, updated) =
                    (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8);
                let postmortem = rows::summary((
                    number, version, title, status, severity, services, occ, created, updated,
                ))?;
                Ok(SearchHit {
                    postmortem,
                    rank: r.9,
                    // The same snippet as on SQLite: the best-matching line, for the top hits only.
                    snippet: query.snippet(&r.10, &r.11),
                })
            })
            .collect()
    }
}
