//! Background work: the reminder scan and the job worker, run by every `debrief serve` instance
//! (and alone by `debrief worker`).
//!
//! - [`scan_once`] reads the unfinished actions whose check-in date is near (one indexed query)
//!   and the postmortems waiting for their review, asks `debrief_core::followup` which reminders
//!   are due, and enqueues one `notify` job per reminder with the reminder's de-duplication key.
//!   Once a week it also enqueues one `digest` job for the week. Every instance scans; the keys
//!   make the second enqueue a no-op. It also deletes finished jobs older than [`keep_done`].
//! - [`run_once`] claims due jobs (with a lease) and runs their handlers:
//!   - `notify` re-reads the action or postmortem, drops the reminder if it is no longer due
//!     (progress was reported, the date moved, the action was finished), finds who to tell and
//!     which channels carry it ([`debrief_core::notify::destinations`]), and enqueues one `send`
//!     job per destination;
//!   - `digest` (the week's) enqueues one `digest` job per team channel and per person who
//!     chose the digest; each of those builds its digest and enqueues its `send` job;
//!   - `send` sends one message to one destination through the [`Deliver`] channel.
//!
//!   Success completes the job; an error fails it (retried with backoff, parked after its last
//!   attempt). Because every destination is its own job with its own key, a failing webhook is
//!   retried alone and never makes an email go out twice.
//!
//! Both take the time from the state's clock, so tests drive them with a manual clock and call
//! them directly; [`spawn`] runs them in loops.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use debrief_core::followthrough::{digest, digest_message};
use debrief_core::followup::{
    self, Contact, FollowupConfig, Recipient, Reminder, action_reminders, review_reminder,
};
use debrief_core::notify::{
    Audience, Channel, ChannelId, ChannelTarget, Destination, Topic, Topics, destinations,
};
use debrief_core::{ActionItem, Email, Key, Postmortem, UserId};
use debrief_store::jobs::{Claim, Job, NewJob};
use debrief_store::{ActionFilter, DynStore, StoreError};

pub use crate::notify::{ChannelSender, Deliver, Outgoing};
use crate::state::{AppState, Config};

/// The kind of the job that turns one reminder into sends.
pub const NOTIFY: &str = "notify";
/// The kind of the job that sends one message to one destination.
pub const SEND: &str = "send";
/// The kind of the jobs that make the weekly digests.
pub const DIGEST: &str = "digest";
/// The job kinds this worker has handlers for; it claims no others (a newer instance's jobs wait
/// for a newer worker).
pub const KINDS: &[&str] = &[NOTIFY, SEND, DIGEST];

/// How long finished jobs are kept at least (for `debrief jobs list --state done`) before the
/// scan deletes them. Parked jobs are kept until an admin retries them.
pub const KEEP_DONE: SignedDuration = SignedDuration::from_hours(30 * 24);

/// How long finished jobs are kept: [`KEEP_DONE`], or longer when a reminder can stay due longer
/// (a job's key is what stops a reminder being sent twice, so it must outlive the time the
/// reminder can be due: lead time + grace + review window + catch-up, and a day's margin).
pub fn keep_done(config: &FollowupConfig) -> SignedDuration {
    let days = i64::from(
        config.lead_days.max(0)
            + config.grace_days.max(0)
            + config.review_within_days.max(0)
            + config.catch_up_days.max(1)
            + 2,
    );
    KEEP_DONE.max(SignedDuration::from_hours(days * 24))
}

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

/// A `send` job: one message, one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendJob {
    pub channel: ChannelId,
    /// The address, for email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub message: Outgoing,
}

/// A `digest` job: the week's plan, or one team's or person's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum DigestJob {
    /// Enqueues the others.
    Week { week: String },
    /// A team channel's digest: the actions of its owners.
    Channel { week: String, channel: ChannelId },
    /// A person's digest, by email: the actions they own.
    User { week: String, user: UserId },
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
    /// Finished jobs deleted (older than [`keep_done`]).
    pub purged: u64,
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
        .map(|r| Ok(NewJob::new(NOTIFY, encode(r)?, now).dedup(r.dedup_key())))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut jobs = jobs;
    if let Some(week) = config.digest.due(now, state.config().zone.tz()) {
        let plan = DigestJob::Week { week: week.clone() };
        jobs.push(NewJob::new(DIGEST, encode(&plan)?, now).dedup(format!("digest:{week}")));
    }
    let enqueued = store.enqueue_many(jobs, now).await?;
    let purged = match now.checked_sub(keep_done(config)) {
        Ok(before) => store.purge_jobs(before).await?,
        Err(_) => 0,
    };
    Ok(ScanOutcome {
        actions: actions.len(),
        postmortems: postmortems.len(),
        due: due.len(),
        enqueued,
        purged,
    })
}

fn encode<T: Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode a job: {e}")))
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOutcome {
    pub claimed: usize,
    /// Messages sent (`send` jobs completed).
    pub delivered: usize,
    /// Reminders and digests turned into `send` jobs.
    pub planned: usize,
    /// Completed without sending: no longer due, nobody to tell, channel gone.
    pub skipped: usize,
    /// Failed: queued again with backoff, or parked.
    pub failed: usize,
    /// Not finished by this worker: its lease was too short to start, or it was taken over.
    pub lost: usize,
}

/// What a handler did with a job.
enum Handled {
    Sent,
    /// Enqueued this many further jobs.
    Planned(u64),
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
                match handled {
                    Handled::Skipped(why) => {
                        tracing::debug!(job = %job.id, kind = %job.kind, why, "nothing to send");
                        outcome.skipped += 1;
                    }
                    Handled::Planned(n) => {
                        tracing::debug!(job = %job.id, kind = %job.kind, sends = n, "planned");
                        outcome.planned += 1;
                    }
                    Handled::Sent => outcome.delivered += 1,
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
        SEND => send(state, job).await,
        DIGEST => digest_job(state, job).await,
        other => Err(format!("no handler for jobs of kind {other:?}")),
    }
}

/// A missing record means the job is moot; any other store error is worth a retry.
fn moot(e: StoreError) -> Result<Handled, String> {
    match e {
        StoreError::NotFound(_) => Ok(Handled::Skipped("its record is gone")),
        other => Err(other.to_string()),
    }
}

fn read<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, String> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("the payload of job {} is unreadable: {e}", job.id))
}

/// The link to a postmortem's page.
pub fn link(state: &AppState, key: Key) -> String {
    state.config().link(&format!("/pm/{key}"))
}

/// Turns one reminder, if it is still due, into a `send` job per destination.
async fn notify(state: &AppState, job: &Job) -> Result<Handled, String> {
    let reminder: Reminder = read(job)?;
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
    let (to, owner, message, details) = match reminder.action {
        Some(id) => {
            let action = match store.get_action(id).await {
                Ok(a) => a,
                Err(e) => return moot(e),
            };
            if !action_reminders(&action, today, config).contains(&reminder) {
                return Ok(Handled::Skipped("no longer due"));
            }
            let owner = action.fields.owner.to_string();
            let to = match reminder.to {
                Recipient::Owner => Contact {
                    contact: followup::contact_of(&participants, &owner),
                    name: owner.clone(),
                },
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
            let details = serde_json::json!({
                "reminder": reminder,
                "action": {
                    "id": action.id,
                    "title": action.fields.title,
                    "owner": action.fields.owner,
                    "check_in": action.fields.check_in,
                    "status": action.fields.status.name(),
                },
                "postmortem": { "key": pm.key, "title": pm.fields.title },
            });
            (to, Some(owner), message, details)
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
            let details = serde_json::json!({
                "reminder": reminder,
                "postmortem": { "key": pm.key, "title": pm.fields.title, "resolved": resolved },
            });
            (to, None, message, details)
        }
    };
    let channels = store.list_channels().await.map_err(|e| e.to_string())?;
    if channels.is_empty() {
        tracing::info!(
            id = %reminder.dedup_key(), to = %to.name, postmortem = %pm.key,
            subject = %message.subject,
            "reminder not sent: no notification channel is configured (see debrief channel add)"
        );
        return Ok(Handled::Skipped("no notification channel is configured"));
    }
    let topic = Topic::of(reminder.kind);
    let audience = audience(state, &to, owner).await?;
    let outgoing = Outgoing {
        id: reminder.dedup_key(),
        topic,
        event: format!("reminder.{}", reminder.kind),
        subject: message.subject,
        body: message.body,
        link: Some(link(state, pm.key)),
        to_name: Some(to.name),
        postmortem: Some(pm.key),
        action: reminder.action,
        details,
    };
    plan_sends(state, &channels, topic, &audience, outgoing).await
}

/// Enqueues one `send` job per destination of `outgoing`.
async fn plan_sends(
    state: &AppState,
    channels: &[Channel],
    topic: Topic,
    audience: &Audience,
    outgoing: Outgoing,
) -> Result<Handled, String> {
    let refs: Vec<(i64, &debrief_core::notify::ChannelFields)> =
        channels.iter().map(|c| (c.id.0, &c.fields)).collect();
    let targets = destinations(&refs, topic, audience);
    if targets.is_empty() {
        return Ok(Handled::Skipped("no channel carries it to anyone"));
    }
    enqueue_sends(state, &targets, &outgoing).await
}

async fn enqueue_sends(
    state: &AppState,
    targets: &[Destination],
    outgoing: &Outgoing,
) -> Result<Handled, String> {
    let now = state.now();
    let jobs = targets
        .iter()
        .map(|d| {
            let key = format!(
                "send:{}:{}:{}",
                outgoing.id,
                d.channel,
                d.to.as_deref().unwrap_or("room")
            );
            let job = SendJob {
                channel: ChannelId(d.channel),
                to: d.to.clone(),
                message: outgoing.clone(),
            };
            encode(&job).map(|payload| NewJob::new(SEND, payload, now).dedup(key))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let n = state
        .store()
        .enqueue_many(jobs, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Handled::Planned(n))
}

/// Who `to` is: their account (address and choices) when their name, email or contact matches
/// one; else the contact the postmortem records, with every topic. A disabled account gets no
/// email.
async fn audience(
    state: &AppState,
    to: &Contact,
    owner: Option<String>,
) -> Result<Audience, String> {
    let users = state
        .store()
        .list_users()
        .await
        .map_err(|e| e.to_string())?;
    let name = to.name.trim();
    let contact = to.contact.as_deref().map(str::trim);
    let user = users.iter().find(|u| {
        u.name.as_str().eq_ignore_ascii_case(name)
            || u.email.as_str().eq_ignore_ascii_case(name)
            || contact.is_some_and(|c| u.email.as_str().eq_ignore_ascii_case(c))
    });
    Ok(match user {
        Some(u) if u.disabled => Audience {
            name: to.name.clone(),
            email: None,
            topics: Topics::none(),
            owner,
        },
        Some(u) => Audience {
            name: to.name.clone(),
            email: Some(u.email.clone()),
            topics: state
                .store()
                .preferences(u.id)
                .await
                .map_err(|e| e.to_string())?
                .topics,
            owner,
        },
        None => Audience {
            name: to.name.clone(),
            email: contact.and_then(|c| c.parse::<Email>().ok()),
            topics: Topics::all(),
            owner,
        },
    })
}

/// Sends one message to one destination.
async fn send(state: &AppState, job: &Job) -> Result<Handled, String> {
    let send: SendJob = read(job)?;
    let channel = match state.store().get_channel(send.channel).await {
        Ok(c) => c,
        Err(e) => return moot(e),
    };
    if !channel.fields.enabled {
        return Ok(Handled::Skipped("its channel is disabled"));
    }
    state
        .deliver()
        .send(&channel, send.to.as_deref(), &send.message, state.now())
        .await
        .map_err(|e| format!("channel {:?}: {e}", channel.fields.name.as_str()))?;
    Ok(Handled::Sent)
}

/// The weekly digest: the plan, or one digest.
async fn digest_job(state: &AppState, job: &Job) -> Result<Handled, String> {
    let store = state.store();
    let err = |e: StoreError| e.to_string();
    match read::<DigestJob>(job)? {
        DigestJob::Week { week } => {
            let now = state.now();
            let channels = store.list_channels().await.map_err(err)?;
            let carries = |c: &Channel| c.fields.enabled && c.fields.topics.contains(Topic::Digest);
            let mut jobs = Vec::new();
            for c in channels.iter().filter(|c| carries(c)) {
                let has_team = match &c.fields.target {
                    ChannelTarget::Email(smtp) => !smtp.to.is_empty(),
                    _ => true,
                };
                if has_team {
                    let payload = encode(&DigestJob::Channel {
                        week: week.clone(),
                        channel: c.id,
                    })
                    .map_err(err)?;
                    jobs.push(
                        NewJob::new(DIGEST, payload, now)
                            .dedup(format!("digest:{week}:channel:{}", c.id)),
                    );
                }
            }
            let email = channels
                .iter()
                .any(|c| carries(c) && matches!(c.fields.target, ChannelTarget::Email(_)));
            if email {
                for u in store.list_users().await.map_err(err)? {
                    if u.disabled {
                        continue;
                    }
                    let prefs = store.preferences(u.id).await.map_err(err)?;
                    if prefs.topics.contains(Topic::Digest) {
                        let payload = encode(&DigestJob::User {
                            week: week.clone(),
                            user: u.id,
                        })
                        .map_err(err)?;
                        jobs.push(
                            NewJob::new(DIGEST, payload, now)
                                .dedup(format!("digest:{week}:user:{}", u.id.0)),
                        );
                    }
                }
            }
            let n = store.enqueue_many(jobs, now).await.map_err(err)?;
            Ok(Handled::Planned(n))
        }
        DigestJob::Channel { week, channel } => {
            let channel = match store.get_channel(channel).await {
                Ok(c) => c,
                Err(e) => return moot(e),
            };
            if !channel.fields.enabled || !channel.fields.topics.contains(Topic::Digest) {
                return Ok(Handled::Skipped("the channel no longer carries the digest"));
            }
            let actions = all_actions(state).await?;
            let mine: Vec<&ActionItem> = actions
                .iter()
                .filter(|a| channel.fields.serves_owner(a.fields.owner.as_str()))
                .collect();
            let team = if channel.fields.owners.is_empty() {
                "Every team".to_owned()
            } else {
                channel.fields.name.to_string()
            };
            let Some(outgoing) = digest_outgoing(state, &team, &week, &mine, None) else {
                return Ok(Handled::Skipped("nothing to report this week"));
            };
            let targets: Vec<Destination> = match &channel.fields.target {
                ChannelTarget::Email(smtp) => smtp
                    .to
                    .iter()
                    .map(|to| Destination {
                        channel: channel.id.0,
                        to: Some(to.as_str().to_owned()),
                    })
                    .collect(),
                _ => vec![Destination {
                    channel: channel.id.0,
                    to: None,
                }],
            };
            enqueue_sends(state, &targets, &outgoing).await
        }
        DigestJob::User { week, user } => {
            let user = match store.get_user(user).await {
                Ok(u) => u,
                Err(e) => return moot(e),
            };
            let prefs = store.preferences(user.id).await.map_err(err)?;
            if user.disabled || !prefs.topics.contains(Topic::Digest) {
                return Ok(Handled::Skipped("the person no longer wants the digest"));
            }
            let channels = store.list_channels().await.map_err(err)?;
            let Some(mail) = channels.iter().find(|c| {
                c.fields.enabled
                    && c.fields.topics.contains(Topic::Digest)
                    && matches!(c.fields.target, ChannelTarget::Email(_))
            }) else {
                return Ok(Handled::Skipped("no email channel carries the digest"));
            };
            let actions = all_actions(state).await?;
            let mine: Vec<&ActionItem> = actions
                .iter()
                .filter(|a| {
                    let owner = a.fields.owner.as_str().trim();
                    owner.eq_ignore_ascii_case(user.name.as_str())
                        || owner.eq_ignore_ascii_case(user.email.as_str())
                })
                .collect();
            let Some(outgoing) =
                digest_outgoing(state, user.name.as_str(), &week, &mine, Some(user.id))
            else {
                return Ok(Handled::Skipped("nothing to report this week"));
            };
            let target = Destination {
                channel: mail.id.0,
                to: Some(user.email.as_str().to_owned()),
            };
            enqueue_sends(state, &[target], &outgoing).await
        }
    }
}

async fn all_actions(state: &AppState) -> Result<Vec<ActionItem>, String> {
    state
        .store()
        .list_actions(&ActionFilter::default())
        .await
        .map_err(|e| e.to_string())
}

/// The digest of `actions` as a message; `None` when the week has nothing to report.
fn digest_outgoing(
    state: &AppState,
    team: &str,
    week: &str,
    actions: &[&ActionItem],
    user: Option<UserId>,
) -> Option<Outgoing> {
    let tz = state.config().zone.tz();
    let d = digest(team, week, actions.iter().copied(), today(state), tz);
    if d.is_empty() {
        return None;
    }
    let message = digest_message(&d, |key| link(state, key));
    let id = match user {
        Some(u) => format!("digest:{week}:user:{}", u.0),
        None => format!("digest:{week}:team:{team}"),
    };
    Some(Outgoing {
        id,
        topic: Topic::Digest,
        event: "digest".to_owned(),
        subject: message.subject,
        body: message.body,
        link: Some(state.config().link("/actions")),
        to_name: user.map(|_| team.to_owned()),
        postmortem: None,
        action: None,
        details: serde_json::to_value(&d).unwrap_or_default(),
    })
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

/// Runs the worker as `worker` until nothing is due now (the sends a `notify` or `digest` job
/// enqueues included); the outcomes added up. Failed jobs wait for their backoff and unstarted
/// ones for their lease: neither is claimable again at once, so this ends.
pub async fn drain(state: &AppState, worker: &str) -> Result<RunOutcome, StoreError> {
    let mut total = RunOutcome::default();
    loop {
        let o = run_once(state, worker).await?;
        total.claimed += o.claimed;
        total.delivered += o.delivered;
        total.planned += o.planned;
        total.skipped += o.skipped;
        total.failed += o.failed;
        total.lost += o.lost;
        if o.claimed == 0 {
            return Ok(total);
        }
    }
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
        return drain(&state, &worker).await;
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
    let digest = match config.digest.day {
        debrief_core::followthrough::DigestDay::Off => "no weekly digest".to_owned(),
        day => format!("weekly digest on {day} at {:02}:00", config.digest.hour),
    };
    format!(
        "reminders {} day(s) before a check-in, {} day(s) of grace before the lead is told; {digest}; scan every {} s",
        config.lead_days,
        config.grace_days,
        worker.scan_interval.as_secs()
    )
}
