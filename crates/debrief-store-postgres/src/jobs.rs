//! The job queue on PostgreSQL, and the reads of the reminder scan.
//!
//! A claim is one `UPDATE … FROM (SELECT … ORDER BY run_at LIMIT n FOR UPDATE SKIP LOCKED)
//! RETURNING`: concurrent claimers on any number of instances skip each other's rows instead of
//! waiting for them, and a row claimed and committed meanwhile fails the re-check of its
//! condition, so no job is handed out twice. The lease makes a crashed worker's jobs claimable
//! again once it ends.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};

use debrief_core::{ActionItem, Postmortem};
use debrief_store::jobs::{
    Claim, Enqueued, Job, JobFilter, JobId, JobState, Jobs, NewJob, after_failure, check_retry,
    check_text, clip_error, job_counts_from, job_not_found,
};
use debrief_store::{Result, StoreError, from_json, to_json};

use crate::PostgresStore;
use crate::rows::{
    self, ActionRow, PostmortemRow, action_columns, backend, instant, micros, postmortem_columns,
};

const JOB_COLUMNS: &str = "id, kind, payload::text AS payload, run_at, attempts, max_attempts, \
                           lease_until, leased_by, last_error, state, dedup_key, created_at, \
                           finished_at";

/// The same columns of `jobs j`, for statements that join.
const JOINED_JOB_COLUMNS: &str = "j.id, j.kind, j.payload::text AS payload, j.run_at, j.attempts, \
                                  j.max_attempts, j.lease_until, j.leased_by, j.last_error, \
                                  j.state, j.dedup_key, j.created_at, j.finished_at";

fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column).map_err(backend)
}

fn count(n: i32, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Backend(format!("stored {what} {n} is out of range")))
}

fn job_from_row(row: &PgRow) -> Result<Job> {
    let state: String = get(row, "state")?;
    Ok(Job {
        id: JobId(get(row, "id")?),
        kind: get(row, "kind")?,
        payload: from_json("job payload", get::<&str>(row, "payload")?)?,
        run_at: instant(get(row, "run_at")?)?,
        attempts: count(get(row, "attempts")?, "attempts")?,
        max_attempts: count(get(row, "max_attempts")?, "max_attempts")?,
        lease_until: get::<Option<i64>>(row, "lease_until")?
            .map(instant)
            .transpose()?,
        leased_by: get(row, "leased_by")?,
        last_error: get(row, "last_error")?,
        state: state
            .parse::<JobState>()
            .map_err(|e| StoreError::Backend(format!("stored job state is unreadable: {e}")))?,
        dedup_key: get(row, "dedup_key")?,
        created_at: instant(get(row, "created_at")?)?,
        finished_at: get::<Option<i64>>(row, "finished_at")?
            .map(instant)
            .transpose()?,
    })
}

async fn load_job(conn: &mut PgConnection, id: JobId, lock: bool) -> Result<Job> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| job_not_found(id))?;
    job_from_row(&row)
}

fn attempts(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[async_trait]
impl Jobs for PostgresStore {
    async fn enqueue(&self, job: NewJob, now: Timestamp) -> Result<Enqueued> {
        job.validate()?;
        let payload = to_json(&job.payload)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let sql = format!(
            "INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, state, dedup_key, created_at)
             VALUES ($1, $2::jsonb, $3, 0, $4, 'queued', $5, $6)
             ON CONFLICT (dedup_key) DO NOTHING RETURNING {JOB_COLUMNS}"
        );
        let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&job.kind)
            .bind(&payload)
            .bind(micros(job.run_at))
            .bind(attempts(job.max_attempts))
            .bind(job.dedup_key.as_deref())
            .bind(micros(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let outcome = match inserted {
            Some(row) => Enqueued {
                job: job_from_row(&row)?,
                created: true,
            },
            None => {
                // The conflicting insert has committed (ON CONFLICT waited for it), and this
                // statement's snapshot is newer: the row is visible.
                let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE dedup_key = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(job.dedup_key.as_deref())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
                Enqueued {
                    job: job_from_row(&row)?,
                    created: false,
                }
            }
        };
        tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn enqueue_many(&self, jobs: Vec<NewJob>, now: Timestamp) -> Result<u64> {
        let mut jobs = jobs;
        for job in &jobs {
            job.validate()?;
        }
        if jobs.is_empty() {
            return Ok(0);
        }
        // Concurrent batches insert shared keys in one order, so they wait for each other instead
        // of deadlocking.
        jobs.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
        let mut kinds = Vec::with_capacity(jobs.len());
        let mut payloads = Vec::with_capacity(jobs.len());
        let mut run_ats = Vec::with_capacity(jobs.len());
        let mut maxes = Vec::with_capacity(jobs.len());
        let mut keys = Vec::with_capacity(jobs.len());
        for job in jobs {
            payloads.push(to_json(&job.payload)?);
            run_ats.push(micros(job.run_at));
            maxes.push(attempts(job.max_attempts));
            kinds.push(job.kind);
            keys.push(job.dedup_key);
        }
        let done = sqlx::query(
            "INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, state, dedup_key, created_at)
             SELECT k, p::jsonb, r, 0, m, 'queued', d, $6
             FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::int4[], $5::text[])
                 AS t (k, p, r, m, d)
             ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(&kinds)
        .bind(&payloads)
        .bind(&run_ats)
        .bind(&maxes)
        .bind(&keys)
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn claim(&self, claim: &Claim) -> Result<Vec<Job>> {
        check_text("worker", &claim.worker)?;
        let until = micros(claim.lease_until()?);
        if claim.kinds.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let now = micros(claim.now);
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // A job whose worker vanished on its last attempt is parked, not run once more.
        sqlx::query(
            "UPDATE jobs SET state = 'parked', lease_until = NULL,
                 last_error = 'the lease of ' || COALESCE(leased_by, '?') || ' ended before attempt '
                     || attempts || ' of ' || max_attempts || ' finished (did the worker stop?)'
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE state = 'running' AND lease_until <= $1 AND attempts >= max_attempts
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let mut q = QueryBuilder::<Postgres>::new(
            "UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, leased_by = ",
        );
        q.push_bind(&claim.worker)
            .push(", lease_until = ")
            .push_bind(until)
            .push(
                " FROM (SELECT id FROM jobs
                   WHERE state IN ('queued', 'running') AND run_at <= ",
            )
            .push_bind(now)
            .push(" AND (state = 'queued' OR lease_until <= ")
            .push_bind(now)
            .push(")");
        if let Some(kinds) = &claim.kinds {
            q.push(" AND kind = ANY(").push_bind(kinds).push(")");
        }
        q.push(" ORDER BY run_at, id LIMIT ")
            .push_bind(claim.effective_limit())
            .push(" FOR UPDATE SKIP LOCKED) c WHERE j.id = c.id RETURNING ")
            .push(JOINED_JOB_COLUMNS);
        let rows = q.build().fetch_all(&mut *tx).await.map_err(backend)?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        tx.commit().await.map_err(backend)?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    async fn complete(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let job = load_job(&mut tx, id, true).await?;
        let mine = job.leased_by.as_deref() == Some(worker);
        let outcome = match job.state {
            JobState::Running if mine => {
                sqlx::query(
                    "UPDATE jobs SET state = 'done', finished_at = $2, lease_until = NULL
                     WHERE id = $1",
                )
                .bind(id.0)
                .bind(micros(now))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                true
            }
            JobState::Done => mine,
            _ => false,
        };
        tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<Option<Job>> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let job = load_job(&mut tx, id, true).await?;
        if job.state != JobState::Running || job.leased_by.as_deref() != Some(worker) {
            // End the transaction now: a dropped one would hold its lock until the pool
            // recycles the connection.
            tx.rollback().await.map_err(backend)?;
            return Ok(None);
        }
        let (state, run_at) = after_failure(&job, now);
        let sql = format!(
            "UPDATE jobs SET state = $2, run_at = $3, lease_until = NULL, last_error = $4
             WHERE id = $1 RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(state.as_str())
            .bind(micros(run_at))
            .bind(clip_error(error))
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        let job = job_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(Some(job))
    }

    async fn get_job(&self, id: JobId) -> Result<Job> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        load_job(&mut conn, id, false).await
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let mut q =
            QueryBuilder::<Postgres>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE TRUE"));
        if !filter.states.is_empty() {
            let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
            q.push(" AND state = ANY(").push_bind(states).push(")");
        }
        if filter.failing {
            q.push(" AND last_error IS NOT NULL AND state <> 'done'");
        }
        if let Some(kind) = &filter.kind {
            q.push(" AND kind = ").push_bind(kind);
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .push_bind(filter.effective_limit());
        let rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn retry_job(&self, id: JobId, now: Timestamp) -> Result<Job> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let job = load_job(&mut tx, id, true).await?;
        if let Err(e) = check_retry(&job) {
            tx.rollback().await.map_err(backend)?;
            return Err(e);
        }
        let sql = format!(
            "UPDATE jobs SET state = 'queued', run_at = $2, attempts = 0, lease_until = NULL,
                 finished_at = NULL
             WHERE id = $1 RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(micros(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        let job = job_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(job)
    }

    async fn purge_jobs(&self, finished_before: Timestamp) -> Result<u64> {
        let purged = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
            .bind(micros(finished_before))
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(purged)
    }

    async fn job_counts(&self) -> Result<Vec<(String, JobState, u64)>> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        job_counts_from(rows)
    }

    async fn followup_actions(&self, from: Date, to: Date) -> Result<Vec<ActionItem>> {
        let rows: Vec<ActionRow> = sqlx::query_as(concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions a JOIN postmortems p ON p.id = a.postmortem_id
             WHERE a.status IN ('open', 'in_progress') AND a.check_in BETWEEN $1::date AND $2::date
             ORDER BY a.check_in, a.id"
        ))
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|r| rows::action(r).map(|s| s.action))
            .collect()
    }

    async fn unreviewed_postmortems(&self) -> Result<Vec<Postmortem>> {
        let rows: Vec<PostmortemRow> = sqlx::query_as(concat!(
            "SELECT ",
            postmortem_columns!(),
            " FROM postmortems p
             WHERE p.status IN ('draft', 'in_review')
                 AND p.body->'key_moments'->'resolved' IS NOT NULL
                 AND p.body->'meeting'->'scheduled_at' IS NULL
             ORDER BY p.number"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|r| rows::postmortem(r).map(|s| s.postmortem))
            .collect()
    }
}
