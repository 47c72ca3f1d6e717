//! The job queue on SQLite, and the reads of the reminder scan.
//!
//! Every write takes the database lock up front (`BEGIN IMMEDIATE`), so a claim — one
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` — runs alone: two workers, in one process
//! or two on the same file, can never claim the same job. The lease makes a crashed worker's
//! jobs claimable again once it ends.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use debrief_core::time::timestamp_from_micros;
use debrief_core::{ActionItem, Postmortem};
use debrief_store::jobs::{
    Claim, Enqueued, Job, JobFilter, JobId, JobState, Jobs, NewJob, after_failure, check_retry,
    check_text, clip_error, job_counts_from, job_not_found,
};
use debrief_store::{Result, StoreError, from_json, to_json};

use crate::rows::{
    ACTION_COLUMNS, POSTMORTEM_COLUMNS, action_from_row, backend, postmortem_from_row,
};
use crate::{SqliteStore, micros};

const JOB_COLUMNS: &str = "id, kind, payload, run_at, attempts, max_attempts, lease_until, \
                           leased_by, last_error, state, dedup_key, created_at, finished_at";

/// Rows per INSERT of a batch (7 parameters each, far below SQLite's limit).
const BATCH_ROWS: usize = 500;

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(column).map_err(backend)
}

fn instant(micros: i64) -> Result<Timestamp> {
    Ok(timestamp_from_micros(micros)?)
}

fn count(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Backend(format!("stored {what} {n} is out of range")))
}

fn job_from_row(row: &SqliteRow) -> Result<Job> {
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

async fn load_job(conn: &mut SqliteConnection, id: JobId) -> Result<Job> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| job_not_found(id))?;
    job_from_row(&row)
}

#[async_trait]
impl Jobs for SqliteStore {
    async fn enqueue(&self, job: NewJob, now: Timestamp) -> Result<Enqueued> {
        job.validate()?;
        let payload = to_json(&job.payload)?;
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, state, dedup_key, created_at)
             VALUES (?1, ?2, ?3, 0, ?4, 'queued', ?5, ?6)
             ON CONFLICT (dedup_key) DO NOTHING RETURNING {JOB_COLUMNS}"
        );
        let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&job.kind)
            .bind(&payload)
            .bind(micros(job.run_at))
            .bind(i64::from(job.max_attempts))
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
                let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE dedup_key = ?1");
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
        let mut rows = Vec::with_capacity(jobs.len());
        for job in jobs {
            job.validate()?;
            let payload = to_json(&job.payload)?;
            rows.push((job, payload));
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for chunk in rows.chunks(BATCH_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, state, dedup_key, created_at) ",
            );
            q.push_values(chunk, |mut b, (job, payload)| {
                b.push_bind(&job.kind)
                    .push_bind(payload)
                    .push_bind(micros(job.run_at))
                    .push("0")
                    .push_bind(i64::from(job.max_attempts))
                    .push("'queued'")
                    .push_bind(job.dedup_key.as_deref())
                    .push_bind(micros(now));
            });
            q.push(" ON CONFLICT (dedup_key) DO NOTHING");
            added += q
                .build()
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        }
        tx.commit().await.map_err(backend)?;
        Ok(added)
    }

    async fn claim(&self, claim: &Claim) -> Result<Vec<Job>> {
        check_text("worker", &claim.worker)?;
        let until = micros(claim.lease_until()?);
        if claim.kinds.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let now = micros(claim.now);
        let mut tx = self.begin_write().await?;
        // A job whose worker vanished on its last attempt is parked, not run once more.
        sqlx::query(
            "UPDATE jobs SET state = 'parked', lease_until = NULL,
                 last_error = 'the lease of ' || COALESCE(leased_by, '?') || ' ended before attempt '
                     || attempts || ' of ' || max_attempts || ' finished (did the worker stop?)'
             WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_leased
                 WHERE state = 'running' AND lease_until <= ?1 AND attempts >= max_attempts)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let mut q = QueryBuilder::<Sqlite>::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_by = ",
        );
        q.push_bind(&claim.worker)
            .push(", lease_until = ")
            .push_bind(until)
            .push(
                // The planner is told the index: walking unfinished jobs in run_at order stops
                // after `limit`, where the state index would sort every queued job.
                " WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_due
                   WHERE state IN ('queued', 'running') AND run_at <= ",
            )
            .push_bind(now)
            .push(" AND (state = 'queued' OR lease_until <= ")
            .push_bind(now)
            .push(")");
        if let Some(kinds) = &claim.kinds {
            q.push(" AND kind IN (");
            let mut list = q.separated(", ");
            for kind in kinds {
                list.push_bind(kind);
            }
            list.push_unseparated(")");
        }
        q.push(" ORDER BY run_at, id LIMIT ")
            .push_bind(claim.effective_limit())
            .push(") RETURNING ")
            .push(JOB_COLUMNS);
        let rows = q.build().fetch_all(&mut *tx).await.map_err(backend)?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        tx.commit().await.map_err(backend)?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    async fn complete(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = ?3, lease_until = NULL
             WHERE id = ?1 AND leased_by = ?2 AND state = 'running'",
        )
        .bind(id.0)
        .bind(worker)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        let mine = if done == 1 {
            true
        } else {
            let job = load_job(&mut tx, id).await?;
            job.state == JobState::Done && job.leased_by.as_deref() == Some(worker)
        };
        tx.commit().await.map_err(backend)?;
        Ok(mine)
    }

    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<Option<Job>> {
        let mut tx = self.begin_write().await?;
        let job = load_job(&mut tx, id).await?;
        if job.state != JobState::Running || job.leased_by.as_deref() != Some(worker) {
            // End the transaction now: a dropped one would hold its lock until the pool
            // recycles the connection.
            tx.rollback().await.map_err(backend)?;
            return Ok(None);
        }
        let (state, run_at) = after_failure(&job, now);
        let sql = format!(
            "UPDATE jobs SET state = ?2, run_at = ?3, lease_until = NULL, last_error = ?4
             WHERE id = ?1 RETURNING {JOB_COLUMNS}"
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
        load_job(&mut conn, id).await
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let mut q =
            QueryBuilder::<Sqlite>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1"));
        if !filter.states.is_empty() {
            q.push(" AND state IN (");
            let mut list = q.separated(", ");
            for state in &filter.states {
                list.push_bind(state.as_str());
            }
            list.push_unseparated(")");
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
        let mut tx = self.begin_write().await?;
        let job = load_job(&mut tx, id).await?;
        if let Err(e) = check_retry(&job) {
            tx.rollback().await.map_err(backend)?;
            return Err(e);
        }
        let sql = format!(
            "UPDATE jobs SET state = 'queued', run_at = ?2, attempts = 0, lease_until = NULL,
                 finished_at = NULL
             WHERE id = ?1 RETURNING {JOB_COLUMNS}"
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
        let mut tx = self.begin_write().await?;
        let purged = sqlx::query(
            "DELETE FROM jobs INDEXED BY jobs_done_by_finish
             WHERE state = 'done' AND finished_at < ?1",
        )
        .bind(micros(finished_before))
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        tx.commit().await.map_err(backend)?;
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
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN postmortems p ON p.id = a.postmortem_id
             WHERE a.status IN ('open', 'in_progress') AND a.check_in BETWEEN ?1 AND ?2
             ORDER BY a.check_in, a.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(action_from_row).collect()
    }

    async fn unreviewed_postmortems(&self) -> Result<Vec<Postmortem>> {
        let sql = format!(
            "SELECT {POSTMORTEM_COLUMNS} FROM postmortems
             WHERE status IN ('draft', 'in_review')
                 AND json_extract(body, '$.key_moments.resolved') IS NOT NULL
                 AND json_extract(body, '$.meeting.scheduled_at') IS NULL
             ORDER BY number"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(postmortem_from_row).collect()
    }
}
