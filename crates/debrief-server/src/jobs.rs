//! Background work: the reminder scan and the job worker, run by every `debrief serve` instance
//! (and alone by `debrief worker`).
//!
//! - [`scan_once`] reads the unfinished actions whose check-in date is near (one indexed query)
//!   and the postmortems waiting for their review, asks `debrief_core::followup` which reminders
//!   are due, and enqueues one `notify` job per reminder with the reminder's de-duplication key.
//!   Every instance scans; the key makes the second enqueue of a reminder a no-op.
//! - [`run_once`] claims due jobs (with a lease) and runs their handlers. The `notify` handler
//!   re-reads the action or postmortem, drops the reminder if it is no longer due (progress was
//!   reported, the date moved, the action was finished), finds who to tell and hands a
//!   [`Notification`] to the [`Deliver`] channel; success completes the job, an error fails it
//!   (retried with backoff, parked after its last attempt).
//!
//! Both take the time from the state's clock, so tests drive them with a manual clock and call
//! them directly; [`spawn`] runs them in loops.
//!
//! Delivery is the seam for the notification channels (email, Slack, webhooks — a later step):
//! until then the only channel is [`LogDelivery`], which writes each notification to the log.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::SignedDuration;
use serde::Serialize;

use debrief_core::followup::{
    self, Contact, FollowupConfig, Recipient, Reminder, ReminderKind, action_reminders,
    review_reminder,
};
use debrief_core::{ActionId, Key, Postmortem};
use debrief_store::jobs::{Claim, Job, NewJob};
use debrief_store::{DynStore, StoreError};

use crate::state::{AppState, Config};

/// The kind of the job that sends one reminder.
pub const NOTIFY: &str = "notify";
/// The job kinds this worker has handlers for; it claims no others (a newer instance's jobs wait
/// for a newer worker).
pub const KINDS: &[&str] = &[NOTIFY];

/// How the background work runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Run the scan and the worker in this process (`debrief serve --no-worker` turns it off).
    pub enabled: bool,
    /// How often the reminder scan runs.
    pub scan_interval: Duration,
    /// How often an idle worker looks for due jobs.
    pub poll_interval: Duration,
    /// How long a worker holds a job before another may take it over.
    pub lease: SignedDuration,
    /// Jobs claimed at once.
    pub batch: u32,
    /// The longest one job may take (reading its records and delivering); it fails the attempt
    /// after that. A claimed job is only started with at least this much of its lease left, so
    /// (with the instances' clocks in step) a job is never run by two workers at once.
    pub job_timeout: Duration,
}

impl Default for WorkerConfig {
    fn default() -> WorkerConfig {
        WorkerConfig {
            enabled: true,
            scan_interval: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            lease: SignedDuration::from_mins(5),
            batch: 10,
            job_timeout: Duration::from_secs(20),
        }
    }
}

/// A reminder ready to send: who to, and what to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// The reminder's de-duplication key: the same for every attempt, so a channel can drop a
    /// repeat (an email's Message-ID, a webhook's idempotency key).
    pub id: String,
    pub kind: ReminderKind,
    pub to_name: String,
    /// How to reach them, when the postmortem records it (a participant's contact).
    pub to_contact: Option<String>,
    pub subject: String,
    pub body: String,
    pub postmortem: Key,
    pub action: Option<ActionId>,
}

/// A notification channel. An error is retried with backoff (the message says why, for admins);
/// a channel should use [`Notification::id`] to avoid a second send when a retry follows a send
/// whose success was not recorded.
#[async_trait]
pub trait Deliver: Send + Sync + fmt::Debug {
    async fn deliver(&self, n: &Notification) -> Result<(), String>;
}

/// The only channel until the notifications step: writes every notification to the log (at
/// `info`) and succeeds. Nobody is emailed or messaged.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogDelivery;

#[async_trait]
impl Deliver for LogDelivery {
    async fn deliver(&self, n: &Notification) -> Result<(), String> {
        tracing::info!(
            id = %n.id,
            kind = %n.kind,
            to = %n.to_name,
            contact = n.to_contact.as_deref().unwrap_or("-"),
            postmortem = %n.postmortem,
            subject = %n.subject,
            "reminder (log only: no notification channel is configured)"
        );
        Ok(())
    }
}

/// What one scan found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOutcome {
    /// Unfinished actions with a check-in date in the window.
    pub actions: usize,
    /// Postmortems waiting for their review meeting.
    pub postmortems: usize,
    /// Reminders due now.
    pub due: usize,
    /// … of which were new (the others were enqueued by an earlier scan, here or elsewhere).
    pub enqueued: u64,
}

/// Today in the configured zone.
fn today(state: &AppState) -> jiff::civil::Date {
    crate::api::actions::today(state)
}

/// One reminder scan: enqueues a `notify` job for every reminder due now that has none yet.
pub async fn scan_once(state: &AppState) -> Result<ScanOutcome, StoreError> {
    let now = state.now();
    let today = today(state);
    let config = &state.config().followup;
    let (from, to) = config.check_in_window(today);
    let store = state.store();
    let actions = store.followup_actions(from, to).await?;
    let postmortems = store.unreviewed_postmortems().await?;
    let mut due: Vec<Reminder> = actions
        .iter()
        .flat_map(|a| action_reminders(a, today, config))
        .collect();
    due.extend(
        postmortems
            .iter()
            .filter_map(|p| review_reminder(p, now, config)),
    );
    let jobs = due
        .iter()
        .map(|r| {
            let payload = serde_json::to_value(r)
                .map_err(|e| StoreError::Backend(format!("cannot encode a reminder: {e}")))?;
            Ok(NewJob::new(NOTIFY, payload, now).dedup(r.dedup_key()))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let enqueued = store.enqueue_many(jobs, now).await?;
    Ok(ScanOutcome {
        actions: actions.len(),
        postmortems: postmortems.len(),
        due: due.len(),
        enqueued,
    })
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOutcome {
    pub claimed: usize,
    /// Delivered and completed.
    pub delivered: usize,
    /// Completed without delivering: no longer due, or nobody to tell.
    pub skipped: usize,
    /// Failed: queued again with backoff, or parked.
    pub failed: usize,
    /// Not finished by this worker: its lease was too short to start, or it was taken over.
    pub lost: usize,
}

/// What a handler did with a job.
enum Handled {
    Delivered,
    Skipped(&'static str),
}

/// One pass of the worker: claims up to a batch of due jobs as `worker` and runs each.
pub async fn run_once(state: &AppState, worker: &str) -> Result<RunOutcome, StoreError> {
    let jobs_config = &state.config().worker;
    let claim = Claim {
        worker: worker.to_owned(),
        now: state.now(),
        lease: jobs_config.lease,
        kinds: Some(KINDS.iter().map(|k| (*k).to_owned()).collect()),
        limit: jobs_config.batch,
    };
    let jobs = state.store().claim(&claim).await?;
    let mut outcome = RunOutcome {
        claimed: jobs.len(),
        ..RunOutcome::default()
    };
    let timeout =
        SignedDuration::try_from(jobs_config.job_timeout).unwrap_or(SignedDuration::from_secs(20));
    for job in jobs {
        // Too little lease left to finish safely: leave it for when the lease ends.
        let start_by = job
            .lease_until
            .and_then(|until| until.checked_sub(timeout).ok());
        if start_by.is_none_or(|t| state.now() > t) {
            tracing::warn!(job = %job.id, "job not started: too little of its lease is left");
            outcome.lost += 1;
            continue;
        }
        // The whole handler is bounded, so it ends before the lease does.
        let result = match tokio::time::timeout(jobs_config.job_timeout, handle(state, &job)).await
        {
            Ok(result) => result,
            Err(_) => Err(format!(
                "the job took longer than {} s",
                jobs_config.job_timeout.as_secs()
            )),
        };
        let now = state.now();
        match result {
            Ok(handled) => {
                if let Handled::Skipped(why) = handled {
                    tracing::debug!(job = %job.id, why, "reminder not sent");
                    outcome.skipped += 1;
                } else {
                    outcome.delivered += 1;
                }
                if !state.store().complete(job.id, worker, now).await? {
                    tracing::warn!(job = %job.id, "job finished after its lease was taken over");
                    outcome.lost += 1;
                }
            }
            Err(error) => {
                outcome.failed += 1;
                match state.store().fail(job.id, worker, &error, now).await? {
                    Some(after) => tracing::warn!(
                        job = %job.id, kind = %job.kind, attempt = after.attempts,
                        state = %after.state, error = %error, "job failed"
                    ),
                    None => tracing::warn!(job = %job.id, error = %error,
                        "job failed after its lease was taken over"),
                }
            }
        }
    }
    Ok(outcome)
}

/// Runs one job's handler.
async fn handle(state: &AppState, job: &Job) -> Result<Handled, String> {
    match job.kind.as_str() {
        NOTIFY => notify(state, job).await,
        other => Err(format!("no handler for jobs of kind {other:?}")),
    }
}

/// A missing record means the reminder is moot; any other store error is worth a retry.
fn moot(e: StoreError) -> Result<Handled, String> {
    match e {
        StoreError::NotFound(_) => Ok(Handled::Skipped("its record is gone")),
        other => Err(other.to_string()),
    }
}

/// Sends one reminder, if it is still due.
async fn notify(state: &AppState, job: &Job) -> Result<Handled, String> {
    let reminder: Reminder = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("the reminder in job {} is unreadable: {e}", job.id))?;
    let store = state.store();
    let pm = match store.get_postmortem(reminder.postmortem).await {
        Ok(pm) => pm,
        Err(e) => return moot(e),
    };
    let participants = store
        .list_participants(pm.key)
        .await
        .map_err(|e| e.to_string())?;
    let config = &state.config().followup;
    let today = today(state);
    let (to, message) = match reminder.action {
        Some(id) => {
            let action = match store.get_action(id).await {
                Ok(a) => a,
                Err(e) => return moot(e),
            };
            if !action_reminders(&action, today, config).contains(&reminder) {
                return Ok(Handled::Skipped("no longer due"));
            }
            let to = match reminder.to {
                Recipient::Owner => {
                    let name = action.fields.owner.to_string();
                    Contact {
                        contact: followup::contact_of(&participants, &name),
                        name,
                    }
                }
                Recipient::Lead => match lead(state, &pm, &participants).await? {
                    Some(c) => c,
                    None => return Ok(Handled::Skipped("the postmortem names no lead")),
                },
            };
            let message = followup::action_message(
                &reminder,
                &action,
                pm.fields.title.as_str(),
                &to.name,
                today,
            );
            (to, message)
        }
        None => {
            if review_reminder(&pm, state.now(), config).as_ref() != Some(&reminder) {
                return Ok(Handled::Skipped("no longer due"));
            }
            let Some(to) = lead(state, &pm, &participants).await? else {
                return Ok(Handled::Skipped("the postmortem names no lead"));
            };
            let resolved = pm
                .fields
                .key_moments
                .resolved
                .as_ref()
                .map(|m| m.at().to_zoned(state.config().zone.tz().clone()).date());
            let message =
                followup::review_message(pm.key, pm.fields.title.as_str(), &to.name, resolved);
            (to, message)
        }
    };
    let notification = Notification {
        id: reminder.dedup_key(),
        kind: reminder.kind,
        to_name: to.name,
        to_contact: to.contact,
        subject: message.subject,
        body: message.body,
        postmortem: pm.key,
        action: reminder.action,
    };
    state.deliver().deliver(&notification).await?;
    Ok(Handled::Delivered)
}

/// The postmortem's incident lead, else whoever created it.
async fn lead(
    state: &AppState,
    pm: &Postmortem,
    participants: &[debrief_core::Participant],
) -> Result<Option<Contact>, String> {
    if let Some(lead) = followup::lead_contact(participants, None) {
        return Ok(Some(lead));
    }
    let revisions = state
        .store()
        .revisions(pm.key)
        .await
        .map_err(|e| e.to_string())?;
    let creator = revisions.first().map(|r| r.actor.as_str());
    Ok(followup::lead_contact(participants, creator))
}

/// A worker id unique to this process: host, process id and a random suffix.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty() && h.len() <= 100 && !h.chars().any(char::is_control))
        .unwrap_or_else(|| "debrief".to_owned());
    let mut random = [0u8; 4];
    let suffix = match getrandom::fill(&mut random) {
        Ok(()) => random.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => String::from("0"),
    };
    format!("{host}-{}-{suffix}", std::process::id())
}

/// The scan loop: a scan every `scan_interval`, forever.
pub async fn scan_loop(state: AppState) {
    let interval = state.config().worker.scan_interval;
    loop {
        match scan_once(&state).await {
            Ok(o) if o.enqueued > 0 => {
                tracing::info!(due = o.due, enqueued = o.enqueued, "reminder scan");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "reminder scan failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// The worker loop: runs due jobs as `worker`, looking again every `poll_interval` when idle.
pub async fn work_loop(state: AppState, worker: String) {
    let poll = state.config().worker.poll_interval;
    loop {
        match run_once(&state, &worker).await {
            Ok(o) if o.claimed > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "job worker: could not claim or finish jobs"),
        }
        tokio::time::sleep(poll).await;
    }
}

/// Starts the scan loop and the worker loop on the runtime; returns the worker's id.
pub fn spawn(state: &AppState) -> String {
    let worker = worker_id();
    tokio::spawn(scan_loop(state.clone()));
    tokio::spawn(work_loop(state.clone(), worker.clone()));
    worker
}

/// `debrief worker`: the scan and the worker without the web app, until Ctrl-C or SIGTERM — or,
/// with `once`, one scan and then every due job, and return.
pub async fn work(store: DynStore, config: Config, once: bool) -> Result<RunOutcome, StoreError> {
    let state = AppState::new(store, config, Arc::new(crate::SystemClock));
    let worker = worker_id();
    if once {
        let scan = scan_once(&state).await?;
        tracing::info!(due = scan.due, enqueued = scan.enqueued, "reminder scan");
        let mut total = RunOutcome::default();
        loop {
            let o = run_once(&state, &worker).await?;
            total.claimed += o.claimed;
            total.delivered += o.delivered;
            total.skipped += o.skipped;
            total.failed += o.failed;
            total.lost += o.lost;
            // Failed jobs wait for their backoff and unstarted ones for their lease: neither is
            // claimable again now, so this ends.
            if o.claimed == 0 {
                return Ok(total);
            }
        }
    }
    tracing::info!(worker = %worker, "debrief worker started");
    tokio::select! {
        () = scan_loop(state.clone()) => {},
        () = work_loop(state, worker) => {},
        () = crate::shutdown() => {},
    }
    Ok(RunOutcome::default())
}

/// The follow-through settings in force, for a start-up line.
pub fn describe(config: &FollowupConfig, worker: &WorkerConfig) -> String {
    format!(
        "reminders {} day(s) before a check-in, {} day(s) of grace before the lead is told; scan every {} s",
        config.lead_days,
        config.grace_days,
        worker.scan_interval.as_secs()
    )
}
