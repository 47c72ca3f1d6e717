//! The durable job queue part of the storage port: jobs in the database, claimed with a lease by
//! every instance, retried with backoff, parked when they keep failing — and the two reads the
//! reminder scan makes (unfinished actions by check-in date, postmortems awaiting their review).
//!
//! A job is `queued` until a worker claims it: claiming sets it `running`, counts an attempt and
//! gives the worker a lease until `lease_until`. The leaseholder then completes it (`done`) or
//! reports a failure: the job is queued again after an exponential backoff ([`backoff`]), or
//! `parked` once it has used `max_attempts`. A job whose lease expired (its worker crashed or
//! hung) is claimable again; an expired job that has no attempts left is parked instead. Parked
//! jobs wait for an admin ([`Jobs::retry_job`]).
//!
//! A job may carry a de-duplication key: enqueuing a key that exists is a no-op that returns the
//! existing job, whatever its state, so a reminder keyed by its action and check-in date is
//! enqueued once however many instances scan. Finished jobs are kept so their keys keep working,
//! until [`Jobs::purge_jobs`] removes those done long enough ago.

use std::fmt;

use async_trait::async_trait;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use debrief_core::{ActionItem, ParseError, Postmortem};

use crate::{Result, StoreError};

/// The id of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at` and a worker.
    Queued,
    /// Claimed by a worker, whose lease runs until `lease_until`.
    Running,
    /// Completed by its worker.
    Done,
    /// Failed `max_attempts` times; waits for an admin to retry it.
    Parked,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Parked,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Parked => "parked",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobState {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<JobState, ParseError> {
        let wanted = s.trim().to_ascii_lowercase();
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| {
                ParseError::new(
                    "state",
                    format!(
                        "{:?} is not a job state: expected one of queued, running, done, parked",
                        s.trim()
                    ),
                )
            })
    }
}

/// How many times a job is tried before it is parked, unless its [`NewJob`] says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// The first retry's delay; each further one doubles it, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: SignedDuration = SignedDuration::from_secs(30);
/// The longest delay between two attempts.
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_hours(1);
/// The longest job kind, de-duplication key and worker id, in bytes.
pub const MAX_JOB_TEXT_BYTES: usize = 500;
/// The longest error kept with a job, in characters; longer ones are cut.
pub const MAX_JOB_ERROR_CHARS: usize = 2000;

/// The delay before the next attempt of a job that failed its `attempts`-th attempt:
/// 30 s × 2^(attempts − 1), at most an hour (30 s, 1 min, 2 min, 4 min, … 1 h).
pub fn backoff(attempts: u32) -> SignedDuration {
    let doublings = attempts.saturating_sub(1).min(16);
    let secs = FIRST_BACKOFF.as_secs().saturating_mul(1_i64 << doublings);
    SignedDuration::from_secs(secs).min(MAX_BACKOFF)
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What the job does: the worker runs the handler of this kind (`notify`, …).
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// Not before this instant.
    pub run_at: Timestamp,
    pub max_attempts: u32,
    /// At most one job ever has this key: enqueuing it again returns the existing job.
    pub dedup_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` to run from `run_at`, tried [`DEFAULT_MAX_ATTEMPTS`] times, without a key.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value, run_at: Timestamp) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            run_at,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedup_key: None,
        }
    }

    /// The same job with a de-duplication key.
    #[must_use]
    pub fn dedup(mut self, key: impl Into<String>) -> NewJob {
        self.dedup_key = Some(key.into());
        self
    }

    /// The same job tried at most `n` times.
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> NewJob {
        self.max_attempts = n;
        self
    }

    /// Checks a job before it is stored: a kind and key of one short line, 1–100 attempts.
    pub fn validate(&self) -> Result<()> {
        check_text("kind", &self.kind)?;
        if let Some(key) = &self.dedup_key {
            check_text("dedup_key", key)?;
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(ParseError::new("max_attempts", "must be between 1 and 100").into());
        }
        Ok(())
    }
}

/// A job kind, key or worker id: one non-empty line of at most [`MAX_JOB_TEXT_BYTES`].
pub fn check_text(field: &str, text: &str) -> Result<()> {
    if text.is_empty() || text.len() > MAX_JOB_TEXT_BYTES || text.chars().any(char::is_control) {
        return Err(ParseError::new(
            field,
            format!(
                "must be one non-empty line of at most {MAX_JOB_TEXT_BYTES} bytes without control characters"
            ),
        )
        .into());
    }
    Ok(())
}

/// An error message as it is kept with a job: at most [`MAX_JOB_ERROR_CHARS`] characters.
pub fn clip_error(error: &str) -> String {
    let mut out: String = error.chars().take(MAX_JOB_ERROR_CHARS).collect();
    if out.len() < error.len() {
        out.push('…');
    }
    out
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Timestamp,
    /// Attempts started so far (a claim counts one, so a crash counts too).
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_until: Option<Timestamp>,
    /// The worker that claimed it last (kept once it is done).
    pub leased_by: Option<String>,
    /// The last failure, kept after a retry succeeds or an admin retries it.
    pub last_error: Option<String>,
    pub state: JobState,
    pub dedup_key: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// What [`Jobs::enqueue`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued {
    pub job: Job,
    /// `false`: a job with the same de-duplication key existed, and `job` is that one.
    pub created: bool,
}

/// A worker's request for jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Who claims: every instance's worker has its own id.
    pub worker: String,
    pub now: Timestamp,
    /// How long the worker may hold each job before another worker may take it.
    pub lease: SignedDuration,
    /// Only jobs of these kinds (the ones this worker has handlers for); `None`: any.
    pub kinds: Option<Vec<String>>,
    /// At most this many jobs (at least 1, at most 1000).
    pub limit: u32,
}

impl Claim {
    pub fn effective_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 1000))
    }

    /// The instant the lease of a job claimed now ends.
    pub fn lease_until(&self) -> Result<Timestamp> {
        if self.lease <= SignedDuration::ZERO {
            return Err(ParseError::new("lease", "must be positive").into());
        }
        self.now
            .checked_add(self.lease)
            .map_err(|e| ParseError::new("lease", format!("too long: {e}")).into())
    }
}

/// Which jobs to list (admins: what is parked or failing). All given filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only jobs in one of these states; empty: any state.
    pub states: Vec<JobState>,
    /// Only jobs that have failed at least once and are not done.
    pub failing: bool,
    pub kind: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

impl JobFilter {
    pub fn effective_limit(&self) -> i64 {
        i64::from(self.limit.unwrap_or(100).clamp(1, 1000))
    }
}

/// How a failed attempt leaves a job: queued again after [`backoff`], or parked when it has no
/// attempts left. Both adapters apply this one rule.
pub fn after_failure(job: &Job, now: Timestamp) -> (JobState, Timestamp) {
    if job.attempts >= job.max_attempts {
        (JobState::Parked, job.run_at)
    } else {
        let next = now
            .checked_add(backoff(job.attempts))
            .unwrap_or(Timestamp::MAX);
        (JobState::Queued, next)
    }
}

/// Refuses an admin retry of a job that is running or done.
pub fn check_retry(job: &Job) -> Result<()> {
    match job.state {
        JobState::Parked | JobState::Queued => Ok(()),
        state => Err(ParseError::new(
            "state",
            format!(
                "job {} is {state}: only parked or queued jobs can be retried",
                job.id
            ),
        )
        .into()),
    }
}

/// Job counts as a database groups them (kind, state name, count), in the order
/// [`Jobs::job_counts`] promises.
pub fn job_counts_from(rows: Vec<(String, String, i64)>) -> Result<Vec<(String, JobState, u64)>> {
    let mut counts = rows
        .into_iter()
        .map(|(kind, state, n)| {
            let state = state
                .parse::<JobState>()
                .map_err(|e| StoreError::Backend(format!("stored job state is unreadable: {e}")))?;
            let n =
                u64::try_from(n).map_err(|_| StoreError::Backend(format!("bad job count {n}")))?;
            Ok((kind, state, n))
        })
        .collect::<Result<Vec<_>>>()?;
    counts.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    Ok(counts)
}

/// The error when no job has this id.
pub fn job_not_found(id: JobId) -> StoreError {
    StoreError::NotFound(format!("job {id}"))
}

/// The job queue, and what the reminder scan reads. Every method is atomic.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Stores a job. With a de-duplication key that exists, stores nothing and returns the
    /// existing job (`created: false`), whatever its state.
    async fn enqueue(&self, job: NewJob, now: Timestamp) -> Result<Enqueued>;
    /// Stores many jobs in one transaction, skipping those whose de-duplication key exists (or
    /// repeats in the batch); returns how many were stored. All or nothing.
    async fn enqueue_many(&self, jobs: Vec<NewJob>, now: Timestamp) -> Result<u64>;
    /// Claims up to `limit` jobs that are due — queued with `run_at` at or before `now`, or
    /// running with a lease that ended at or before `now` — oldest `run_at` first. Each becomes
    /// `running`, leased by `worker` until `now + lease`, with one more attempt. A running job
    /// whose lease ended with no attempts left is parked instead. Concurrent claims (on one
    /// instance or several) never return the same job.
    async fn claim(&self, claim: &Claim) -> Result<Vec<Job>>;
    /// Marks a job done. `true` when `worker` holds it (or had completed it already: completing
    /// is idempotent for the leaseholder); `false`, changing nothing, when another worker holds
    /// it or it was queued again. [`StoreError::NotFound`] when there is no such job.
    async fn complete(&self, id: JobId, worker: &str, now: Timestamp) -> Result<bool>;
    /// Records a failed attempt by the leaseholder: the job is queued again after
    /// [`backoff`]`(attempts)` or, out of attempts, parked. Returns the job as it is now, or
    /// `None`, changing nothing, when `worker` does not hold a running lease on it.
    async fn fail(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<Option<Job>>;
    async fn get_job(&self, id: JobId) -> Result<Job>;
    /// Jobs matching the filter, newest first.
    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>>;
    /// An admin's retry: a parked (or queued) job is queued to run at `now` with its attempts
    /// reset; its last error is kept. A running or done job is refused.
    async fn retry_job(&self, id: JobId, now: Timestamp) -> Result<Job>;
    /// Deletes the jobs that are done and were completed before `finished_before`; returns how
    /// many. Queued, running and parked jobs are never purged, however old. A purged job's
    /// de-duplication key is free again, so purge only past the longest time its key can be
    /// enqueued again.
    async fn purge_jobs(&self, finished_before: Timestamp) -> Result<u64>;
    /// How many jobs there are of each kind in each state, for metrics: by kind, then state in
    /// the order of [`JobState::ALL`]; pairs with no job are left out.
    async fn job_counts(&self) -> Result<Vec<(String, JobState, u64)>>;

    /// Unfinished action items (open or in progress) whose check-in date is between `from` and
    /// `to`, both included, by check-in date: what the reminder scan considers. One indexed query.
    async fn followup_actions(&self, from: Date, to: Date) -> Result<Vec<ActionItem>>;
    /// Postmortems not yet published (draft or in review) that have a resolved key moment and no
    /// review meeting scheduled: candidates for the "schedule the review" reminder.
    async fn unreviewed_postmortems(&self) -> Result<Vec<Postmortem>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        let secs: Vec<i64> = (0..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(
            secs,
            [30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
        );
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn new_jobs_are_checked() {
        let now = Timestamp::UNIX_EPOCH;
        let ok = NewJob::new("notify", serde_json::json!({}), now).dedup("k");
        assert!(ok.validate().is_ok());
        assert!(
            NewJob::new("", serde_json::json!({}), now)
                .validate()
                .is_err()
        );
        assert!(ok.clone().dedup("a\nb").validate().is_err());
        assert!(ok.clone().max_attempts(0).validate().is_err());
        assert_eq!(clip_error(&"x".repeat(3000)).chars().count(), 2001);
        assert_eq!(
            "Parked".parse::<JobState>().expect("state"),
            JobState::Parked
        );
    }
}
