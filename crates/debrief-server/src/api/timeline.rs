//! Timeline events and participants of one postmortem.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use debrief_core::{
    Access, EventFields, EventId, Participant, ParticipantFields, ParticipantId, TimelineEvent,
};
use debrief_store::{BulkOutcome, EventQuery};

use super::body::{Json, json_value, patched};
use super::{if_match, key, versioned, visible};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `true` to include hidden events.
    pub hidden: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<TimelineEvent>>> {
    let key = key(&k)?;
    visible(&state, &caller, key).await?;
    let events = state
        .store()
        .list_events(
            key,
            EventQuery {
                include_hidden: q.hidden.unwrap_or(false),
            },
        )
        .await?;
    Ok(axum::Json(events))
}

pub async fn add(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    Json(event): Json<EventFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let e = state
        .store()
        .add_event(caller.actor(), key(&k)?, event)
        .await?;
    Ok(versioned(StatusCode::CREATED, e.version, &e))
}

pub async fn bulk(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    Json(events): Json<Vec<EventFields>>,
) -> ApiResult<axum::Json<BulkOutcome>> {
    caller.require(Access::Write)?;
    let outcome = state
        .store()
        .insert_events(caller.actor(), key(&k)?, events)
        .await?;
    Ok(axum::Json(outcome))
}

fn event_id(raw: &str) -> ApiResult<EventId> {
    raw.parse::<i64>()
        .map(EventId)
        .map_err(|_| ApiError::not_found(format!("event {raw:?}")))
}

async fn find_event(
    state: &AppState,
    key: debrief_core::Key,
    id: EventId,
) -> ApiResult<TimelineEvent> {
    state
        .store()
        .list_events(
            key,
            EventQuery {
                include_hidden: true,
            },
        )
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::not_found(format!("event {} in {key}", id.0)))
}

pub async fn get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((k, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = key(&k)?;
    visible(&state, &caller, key).await?;
    let e = find_event(&state, key, event_id(&id)?).await?;
    Ok(versioned(StatusCode::OK, e.version, &e))
}

pub async fn replace(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((k, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(event): Json<EventFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(&headers)?;
    let e = state
        .store()
        .edit_event(caller.actor(), key(&k)?, event_id(&id)?, expected, event)
        .await?;
    Ok(versioned(StatusCode::OK, e.version, &e))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((k, id)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(req.headers())?;
    let (key, id) = (key(&k)?, event_id(&id)?);
    let patch = json_value(req, &state).await?;
    let current = find_event(&state, key, id).await?;
    let fields = patched(&current.fields, patch)?;
    let e = state
        .store()
        .edit_event(caller.actor(), key, id, expected, fields)
        .await?;
    Ok(versioned(StatusCode::OK, e.version, &e))
}

#[derive(Debug, Deserialize)]
pub struct Hidden {
    pub hidden: bool,
}

pub async fn hide(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((k, id)): Path<(String, String)>,
    Json(h): Json<Hidden>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let e = state
        .store()
        .set_event_hidden(caller.actor(), key(&k)?, event_id(&id)?, h.hidden)
        .await?;
    Ok(versioned(StatusCode::OK, e.version, &e))
}

pub async fn participants(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
) -> ApiResult<axum::Json<Vec<Participant>>> {
    let key = key(&k)?;
    visible(&state, &caller, key).await?;
    Ok(axum::Json(state.store().list_participants(key).await?))
}

pub async fn add_participant(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    Json(p): Json<ParticipantFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let p = state
        .store()
        .add_participant(caller.actor(), key(&k)?, p)
        .await?;
    Ok(versioned(StatusCode::CREATED, p.version, &p))
}

fn participant_id(raw: &str) -> ApiResult<ParticipantId> {
    raw.parse::<i64>()
        .map(ParticipantId)
        .map_err(|_| ApiError::not_found(format!("participant {raw:?}")))
}

pub async fn replace_participant(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((k, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(p): Json<ParticipantFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(&headers)?;
    let p = state
        .store()
        .update_participant(caller.actor(), key(&k)?, participant_id(&id)?, expected, p)
        .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

pub async fn patch_participant(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((k, id)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(req.headers())?;
    let (key, id) = (key(&k)?, participant_id(&id)?);
    let patch = json_value(req, &state).await?;
    let current = state
        .store()
        .list_participants(key)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found(format!("participant {} in {key}", id.0)))?;
    let fields = patched(&current.fields, patch)?;
    let p = state
        .store()
        .update_participant(caller.actor(), key, id, expected, fields)
        .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}
