//! Action items: the board across all postmortems, one postmortem's actions, edits and progress.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use debrief_core::{Access, ActionFields, ActionId, ActionItem, Key, Line, ProgressUpdate};
use debrief_store::{ActionFilter, ActionStatusName};
use jiff::civil::Date;

use super::body::{Json, json_value, patched};
use super::{given, if_match, key, may_see, versioned, visible};
use crate::auth::{ApiCaller, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The board's filters as they arrive in a query string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BoardQuery {
    pub owner: Option<String>,
    pub status: Option<String>,
    /// Unfinished actions whose check-in date is before this date (`today` works).
    pub overdue_on: Option<String>,
    pub postmortem: Option<String>,
}

impl BoardQuery {
    pub fn filter(&self, today: Date) -> ApiResult<ActionFilter> {
        Ok(ActionFilter {
            postmortem: given(&self.postmortem)
                .map(|k| k.parse::<Key>())
                .transpose()
                .map_err(|e| ApiError::invalid("postmortem", e.message))?,
            owner: given(&self.owner).map(str::to_owned),
            status: given(&self.status)
                .map(str::parse::<ActionStatusName>)
                .transpose()
                .map_err(|e| ApiError::invalid("status", e.message))?,
            overdue_on: given(&self.overdue_on)
                .map(|d| {
                    if d.eq_ignore_ascii_case("today") {
                        Ok(today)
                    } else {
                        debrief_core::time::parse_date(d)
                    }
                })
                .transpose()
                .map_err(|e| ApiError::invalid("overdue_on", e.message))?,
        })
    }
}

/// The actions whose postmortem the caller may see.
pub async fn only_visible(
    state: &AppState,
    caller: &Caller,
    actions: Vec<ActionItem>,
) -> ApiResult<Vec<ActionItem>> {
    if caller.can_write() {
        return Ok(actions);
    }
    let mut seen: HashMap<Key, bool> = HashMap::new();
    let mut out = Vec::with_capacity(actions.len());
    for a in actions {
        let ok = match seen.get(&a.postmortem) {
            Some(ok) => *ok,
            None => {
                let pm = state.store().get_postmortem(a.postmortem).await?;
                let ok = may_see(state, caller, &pm).await?;
                seen.insert(a.postmortem, ok);
                ok
            }
        };
        if ok {
            out.push(a);
        }
    }
    Ok(out)
}

pub fn today(state: &AppState) -> Date {
    state
        .now()
        .to_zoned(state.config().zone.tz().clone())
        .date()
}

pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<BoardQuery>,
) -> ApiResult<axum::Json<Vec<ActionItem>>> {
    let filter = q.filter(today(&state))?;
    let actions = state.store().list_actions(&filter).await?;
    Ok(axum::Json(only_visible(&state, &caller, actions).await?))
}

pub async fn list_of(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
) -> ApiResult<axum::Json<Vec<ActionItem>>> {
    let key = key(&k)?;
    visible(&state, &caller, key).await?;
    let actions = state
        .store()
        .list_actions(&ActionFilter {
            postmortem: Some(key),
            ..ActionFilter::default()
        })
        .await?;
    Ok(axum::Json(actions))
}

pub async fn add(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    Json(action): Json<ActionFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let a = state
        .store()
        .add_action(caller.actor(), key(&k)?, action)
        .await?;
    Ok(versioned(StatusCode::CREATED, a.version, &a))
}

fn action_id(raw: &str) -> ApiResult<ActionId> {
    raw.parse::<i64>()
        .map(ActionId)
        .map_err(|_| ApiError::not_found(format!("action {raw:?}")))
}

async fn visible_action(state: &AppState, caller: &Caller, id: ActionId) -> ApiResult<ActionItem> {
    let a = state.store().get_action(id).await?;
    visible(state, caller, a.postmortem)
        .await
        .map_err(|_| ApiError::not_found(format!("action {}", id.0)))?;
    Ok(a)
}

pub async fn get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let a = visible_action(&state, &caller, action_id(&id)?).await?;
    Ok(versioned(StatusCode::OK, a.version, &a))
}

pub async fn replace(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(action): Json<ActionFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(&headers)?;
    let a = state
        .store()
        .update_action(caller.actor(), action_id(&id)?, expected, action)
        .await?;
    Ok(versioned(StatusCode::OK, a.version, &a))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(req.headers())?;
    let id = action_id(&id)?;
    let patch = json_value(req, &state).await?;
    let current = state.store().get_action(id).await?;
    let fields = patched(&current.fields, patch)?;
    let a = state
        .store()
        .update_action(caller.actor(), id, expected, fields)
        .await?;
    Ok(versioned(StatusCode::OK, a.version, &a))
}

/// A progress note, optionally with a new check-in date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressIn {
    pub note: Line,
    #[serde(default)]
    pub new_check_in: Option<Date>,
}

pub async fn progress(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    Json(p): Json<ProgressIn>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let update = ProgressUpdate {
        at: state.now(),
        author: caller.user.name.clone(),
        note: p.note,
        new_check_in: p.new_check_in,
    };
    let a = state
        .store()
        .add_progress(caller.actor(), action_id(&id)?, update)
        .await?;
    Ok(versioned(StatusCode::OK, a.version, &a))
}
