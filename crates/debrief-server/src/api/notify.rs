//! Notifications over the API: the channels admins configure (with a test send), each person's
//! choice of topics, and follow-through as a measure.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use debrief_core::followthrough::{FollowThrough, measure};
use debrief_core::notify::{
    Channel, ChannelFields, ChannelId, ChannelInput, ChannelTarget, Preferences, REDACTED, Topic,
    Topics,
};
use debrief_core::{Access, ActionItem, Key, Status};
use debrief_store::{ActionFilter, Job, JobFilter, JobId, JobState, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::actions::{BoardQuery, only_visible, today};
use super::body::{Json, json_value, patched};
use super::{if_match, versioned};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::notify::Outgoing;
use crate::state::AppState;

/// A channel as admins see it: secrets replaced by `********`, and where it goes in words.
#[derive(Debug, Serialize)]
pub struct ChannelView {
    #[serde(flatten)]
    pub channel: Channel,
    pub description: String,
}

impl ChannelView {
    pub fn of(c: &Channel) -> ChannelView {
        let mut channel = c.clone();
        channel.fields.target = c.fields.target.redacted();
        ChannelView {
            description: c.fields.target.describe(),
            channel,
        }
    }
}

fn channel_id(raw: &str) -> ApiResult<ChannelId> {
    raw.parse::<i64>()
        .map(ChannelId)
        .map_err(|_| ApiError::not_found(format!("channel {raw:?}")))
}

pub async fn list_channels(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> ApiResult<axum::Json<Vec<ChannelView>>> {
    caller.require(Access::Admin)?;
    let channels = state.store().list_channels().await?;
    Ok(axum::Json(channels.iter().map(ChannelView::of).collect()))
}

pub async fn get_channel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Access::Admin)?;
    let c = state.store().get_channel(channel_id(&id)?).await?;
    Ok(versioned(StatusCode::OK, c.version, &ChannelView::of(&c)))
}

pub async fn add_channel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Json(input): Json<ChannelInput>,
) -> ApiResult<Response> {
    caller.require(Access::Admin)?;
    let fields = input.into_fields()?;
    let c = state.store().create_channel(fields, state.now()).await?;
    Ok(versioned(
        StatusCode::CREATED,
        c.version,
        &ChannelView::of(&c),
    ))
}

/// `new` with every secret that still reads `********` (echoed back from a read) taken from
/// `stored`: a form or a patch that shows the redacted value keeps the secret.
pub fn keep_secrets(stored: &ChannelFields, mut new: ChannelFields) -> ChannelFields {
    match (&stored.target, &mut new.target) {
        (ChannelTarget::Email(old), ChannelTarget::Email(smtp))
            if smtp.password.as_deref() == Some(REDACTED) =>
        {
            smtp.password.clone_from(&old.password);
        }
        (ChannelTarget::Slack { url: old }, ChannelTarget::Slack { url })
            if url.as_str().ends_with(&format!("/{REDACTED}")) =>
        {
            *url = old.clone();
        }
        (ChannelTarget::Webhook { secret: old, .. }, ChannelTarget::Webhook { secret, .. })
            if secret == REDACTED =>
        {
            secret.clone_from(old);
        }
        _ => {}
    }
    new
}

pub async fn patch_channel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Admin)?;
    let expected = if_match(req.headers())?;
    let id = channel_id(&id)?;
    let patch = json_value(req, &state).await?;
    let current = state.store().get_channel(id).await?;
    let shown = ChannelInput::from(&ChannelView::of(&current).channel.fields);
    let input: ChannelInput = patched(&shown, patch)?;
    let fields = keep_secrets(&current.fields, input.build()?);
    fields.validate()?;
    let c = state
        .store()
        .update_channel(id, expected, fields, state.now())
        .await?;
    Ok(versioned(StatusCode::OK, c.version, &ChannelView::of(&c)))
}

pub async fn delete_channel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Access::Admin)?;
    state.store().delete_channel(channel_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestIn {
    /// For an email channel: the address to send the test to (default: yours).
    #[serde(default)]
    pub to: Option<debrief_core::Email>,
}

#[derive(Debug, Serialize)]
pub struct TestOut {
    pub sent: bool,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Sends a test message through `channel` now and says how it went: the admin's check that the
/// server, the URL and the secret work.
pub async fn test_send(
    state: &AppState,
    channel: &Channel,
    to: Option<String>,
    by: &str,
) -> Result<Option<String>, String> {
    let to = match &channel.fields.target {
        ChannelTarget::Email(_) => Some(to.ok_or("give an address to send the test email to")?),
        _ => None,
    };
    let now = state.now();
    let message = Outgoing {
        id: format!("test:{}:{}", channel.id, now.as_millisecond()),
        topic: Topic::Reminders,
        event: "test".to_owned(),
        subject: format!("[Debrief] Test of channel {}", channel.fields.name),
        body: format!(
            "{by} sent this test from Debrief to check the channel {:?}. It carries: {}.",
            channel.fields.name.as_str(),
            channel.fields.topics
        ),
        link: Some(state.config().link("/settings/channels")),
        to_name: None,
        postmortem: None,
        action: None,
        details: serde_json::Value::Null,
    };
    state
        .deliver()
        .send(channel, to.as_deref(), &message, now)
        .await?;
    Ok(to)
}

pub async fn test_channel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Admin)?;
    let id = channel_id(&id)?;
    let body = super::body::bytes(req, &state).await?;
    let t: TestIn = if body.iter().all(u8::is_ascii_whitespace) {
        TestIn::default()
    } else {
        super::body::parse(super::body::json_of(&body)?)?
    };
    let channel = state.store().get_channel(id).await?;
    let to =
        t.to.map(|e| e.as_str().to_owned())
            .or_else(|| Some(caller.user.email.as_str().to_owned()));
    match test_send(&state, &channel, to, caller.user.name.as_str()).await {
        Ok(to) => Ok(axum::Json(TestOut {
            sent: true,
            channel: channel.fields.name.to_string(),
            to,
        })
        .into_response()),
        Err(why) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "channel_failed",
            format!(
                "the test through {:?} failed: {why}",
                channel.fields.name.as_str()
            ),
        )),
    }
}

/// A person's choices, with what each topic means.
#[derive(Debug, Serialize)]
pub struct PreferencesView {
    pub topics: Topics,
    pub available: Vec<TopicView>,
}

#[derive(Debug, Serialize)]
pub struct TopicView {
    pub topic: Topic,
    pub description: &'static str,
}

impl PreferencesView {
    pub fn of(p: Preferences) -> PreferencesView {
        PreferencesView {
            topics: p.topics,
            available: Topic::ALL
                .iter()
                .map(|t| TopicView {
                    topic: *t,
                    description: t.describe(),
                })
                .collect(),
        }
    }
}

pub async fn my_preferences(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> ApiResult<axum::Json<PreferencesView>> {
    let p = state.store().preferences(caller.user.id).await?;
    Ok(axum::Json(PreferencesView::of(p)))
}

pub async fn set_my_preferences(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Json(p): Json<Preferences>,
) -> ApiResult<axum::Json<PreferencesView>> {
    state.store().set_preferences(caller.user.id, &p).await?;
    Ok(axum::Json(PreferencesView::of(p)))
}

/// One postmortem's follow-through.
#[derive(Debug, Clone, Serialize)]
pub struct PostmortemFollowThrough {
    pub key: Key,
    pub title: String,
    pub status: Status,
    #[serde(flatten)]
    pub measure: FollowThrough,
}

/// Follow-through across the selected actions and per postmortem.
#[derive(Debug, Clone, Serialize)]
pub struct FollowThroughReport {
    /// The day it was measured on.
    pub today: Date,
    pub all: FollowThrough,
    /// Per postmortem, those with overdue actions first.
    pub postmortems: Vec<PostmortemFollowThrough>,
}

/// Measures `actions` overall and per postmortem (titles read once per postmortem).
pub async fn report(
    store: &dyn Store,
    actions: &[ActionItem],
    today: Date,
    tz: &TimeZone,
) -> ApiResult<FollowThroughReport> {
    let all = measure(actions, today, tz);
    let by = debrief_core::followthrough::measure_by_postmortem(actions, today, tz);
    let mut postmortems = Vec::with_capacity(by.len());
    for (key, m) in by {
        let pm = store.get_postmortem(key).await?;
        postmortems.push(PostmortemFollowThrough {
            key,
            title: pm.fields.title.to_string(),
            status: pm.status,
            measure: m,
        });
    }
    postmortems.sort_by(|a, b| {
        (b.measure.overdue, b.measure.open, std::cmp::Reverse(a.key)).cmp(&(
            a.measure.overdue,
            a.measure.open,
            std::cmp::Reverse(b.key),
        ))
    });
    Ok(FollowThroughReport {
        today,
        all,
        postmortems,
    })
}

/// `GET /api/v1/actions/stats`: the board's filters (owner, status, postmortem) select the
/// actions measured.
pub async fn stats(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<BoardQuery>,
) -> ApiResult<axum::Json<FollowThroughReport>> {
    let today = today(&state);
    let filter: ActionFilter = q.filter(today)?;
    let actions = state.store().list_actions(&filter).await?;
    let actions = only_visible(&state, &caller, actions).await?;
    Ok(axum::Json(
        report(state.store(), &actions, today, state.config().zone.tz()).await?,
    ))
}

/// The job queue's filters: `state` (comma-separated: queued, running, done, parked),
/// `failing=true` (failed at least once and not done), `kind`, `limit` (1–1000).
#[derive(Debug, Default, Deserialize)]
pub struct JobsQuery {
    pub state: Option<String>,
    pub failing: Option<bool>,
    pub kind: Option<String>,
    pub limit: Option<u32>,
}

/// `GET /api/v1/jobs` (admins): by default the jobs that need an eye, parked and failing.
pub async fn jobs(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<JobsQuery>,
) -> ApiResult<axum::Json<Vec<Job>>> {
    caller.require(Access::Admin)?;
    let states = match super::given(&q.state) {
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<JobState>()
                    .map_err(|e| ApiError::invalid("state", e.to_string()))
            })
            .collect::<ApiResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let filter = |states: Vec<JobState>, failing: bool| JobFilter {
        states,
        failing,
        kind: super::given(&q.kind).map(str::to_owned),
        limit: q.limit,
    };
    let mut list = if states.is_empty() && q.failing.is_none() {
        let mut parked = state
            .store()
            .list_jobs(&filter(vec![JobState::Parked], false))
            .await?;
        parked.extend(
            state
                .store()
                .list_jobs(&filter(vec![JobState::Queued, JobState::Running], true))
                .await?,
        );
        parked
    } else {
        state
            .store()
            .list_jobs(&filter(states, q.failing.unwrap_or(false)))
            .await?
    };
    list.sort_by_key(|j| std::cmp::Reverse(j.id));
    Ok(axum::Json(list))
}

/// `POST /api/v1/jobs/{id}/retry` (admins): a parked or waiting job queued again now, its
/// attempts reset.
pub async fn retry_job(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Job>> {
    caller.require(Access::Admin)?;
    let id = id
        .parse::<i64>()
        .map(JobId)
        .map_err(|_| ApiError::not_found(format!("job {id:?}")))?;
    Ok(axum::Json(state.store().retry_job(id, state.now()).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use debrief_core::notify::{SmtpSecurity, SmtpSettings};

    #[test]
    fn redacted_secrets_echoed_back_keep_the_stored_ones() {
        let stored = ChannelFields {
            name: "mail".parse().expect("name"),
            target: ChannelTarget::Email(SmtpSettings {
                host: "smtp.example".into(),
                port: 587,
                security: SmtpSecurity::StartTls,
                username: Some("debrief".into()),
                password: Some("the real password".into()),
                from: "debrief@example.com".into(),
                to: vec![],
            }),
            topics: Topics::all(),
            owners: vec![],
            enabled: true,
        };
        let shown = ChannelView::of(&Channel {
            id: ChannelId(1),
            version: debrief_core::Version(1),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            fields: stored.clone(),
        })
        .channel
        .fields;
        assert_ne!(shown, stored);
        assert_eq!(keep_secrets(&stored, shown.clone()), stored);
        let mut changed = shown;
        if let ChannelTarget::Email(smtp) = &mut changed.target {
            smtp.password = Some("a new password".into());
        }
        let kept = keep_secrets(&stored, changed);
        let ChannelTarget::Email(smtp) = kept.target else {
            panic!("kind")
        };
        assert_eq!(smtp.password.as_deref(), Some("a new password"));
    }
}
