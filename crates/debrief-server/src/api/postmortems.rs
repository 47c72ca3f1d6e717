//! Postmortems: list, create, import, read, replace, patch, status, readiness, revisions,
//! restore, export and search.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use debrief_core::readiness::Gap;
use debrief_core::{
    Access, Durations, Entity, Label, Moment, Postmortem, PostmortemDocument, PostmortemFields,
    Revision, Severity, Status, Zone,
};
use debrief_store::{PostmortemFilter, PostmortemSummary, SearchHit, SearchQuery};

use super::body::{Json, json_value, parse, patched};
use super::{given, if_match, key, versioned, visible};
use crate::auth::{ApiCaller, Caller};
use crate::cache::{JsonBody, Seen, document_etag};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The listing filters as they arrive in a query string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FilterQuery {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    /// Search words (only for search).
    pub q: Option<String>,
}

fn within(field: &'static str) -> impl Fn(debrief_core::ParseError) -> ApiError {
    move |e| ApiError::invalid(field, e.message)
}

/// A date or a time for `from`/`until`: `2026-11-01` (midnight in `zone`) or any time Debrief
/// reads.
fn instant(field: &str, s: &str, zone: &Zone) -> ApiResult<jiff::Timestamp> {
    Moment::parse(s, zone)
        .map(|m| m.at())
        .map_err(|e| ApiError::invalid(field, e.message))
}

impl FilterQuery {
    pub fn filter(&self, zone: &Zone) -> ApiResult<PostmortemFilter> {
        Ok(PostmortemFilter {
            status: given(&self.status)
                .map(str::parse::<Status>)
                .transpose()
                .map_err(within("status"))?,
            severity: given(&self.severity)
                .map(str::parse::<Severity>)
                .transpose()
                .map_err(within("severity"))?,
            service: given(&self.service)
                .map(str::parse::<Label>)
                .transpose()
                .map_err(within("service"))?,
            from: given(&self.from)
                .map(|s| instant("from", s, zone))
                .transpose()?,
            until: given(&self.until)
                .map(|s| instant("until", s, zone))
                .transpose()?,
            limit: given(&self.limit)
                .map(|s| {
                    s.parse::<u32>()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            ApiError::invalid(
                                "limit",
                                format!("{s:?} is not a number from 1 to 1000"),
                            )
                        })
                })
                .transpose()?,
        })
    }
}

/// Drops the postmortems this caller may not see (drafts they do not take part in).
pub async fn only_visible<T>(
    state: &AppState,
    caller: &Caller,
    items: Vec<T>,
    summary: impl Fn(&T) -> &PostmortemSummary,
) -> ApiResult<Vec<T>> {
    if caller.can_write() {
        return Ok(items);
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let s = summary(&item);
        let ok = caller.may_see(s.status, std::iter::empty()) || {
            let participants = state.store().list_participants(s.key).await?;
            caller.may_see(s.status, participants.iter().map(|p| &p.fields))
        };
        if ok {
            out.push(item);
        }
    }
    Ok(out)
}

pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<FilterQuery>,
) -> ApiResult<axum::Json<Vec<PostmortemSummary>>> {
    let filter = q.filter(&state.config().zone)?;
    let found = state.store().list_postmortems(&filter).await?;
    Ok(axum::Json(
        only_visible(&state, &caller, found, |s| s).await?,
    ))
}

pub async fn search(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(q): Query<FilterQuery>,
) -> ApiResult<axum::Json<Vec<SearchHit>>> {
    let words =
        given(&q.q).ok_or_else(|| ApiError::invalid("q", "give the words to search for"))?;
    let query = SearchQuery::parse(words).map_err(|e| ApiError::invalid("q", e.message))?;
    let filter = q.filter(&state.config().zone)?;
    let hits = state.store().search(&query, &filter).await?;
    Ok(axum::Json(
        only_visible(&state, &caller, hits, |h| &h.postmortem).await?,
    ))
}

/// Holds a new or changed severity to the scale in force (a stored one may predate it).
fn check_severity(new: &PostmortemFields, old: Option<&PostmortemFields>) -> ApiResult<()> {
    if old.is_some_and(|o| o.severity == new.severity) {
        return Ok(());
    }
    new.severity
        .check_scale(Severity::DEFAULT_LEVELS)
        .map_err(|e| ApiError::invalid("severity", e.message))
}

fn created(p: &Postmortem) -> Response {
    let mut r = versioned(StatusCode::CREATED, p.version, p);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/postmortems/{}", p.key)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Json(fields): Json<PostmortemFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    check_severity(&fields, None)?;
    let p = state
        .store()
        .create_postmortem(caller.actor(), fields)
        .await?;
    Ok(created(&p))
}

/// Imports a whole postmortem: a Debrief Markdown file (`Content-Type: text/markdown`) or a JSON
/// document as `GET …/document` answers it.
pub async fn import(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let is_markdown = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/markdown"));
    let doc: PostmortemDocument = if is_markdown {
        let text = super::body::text(req, &state).await?;
        debrief_markdown::import(&text)
            .map_err(|e| ApiError::invalid(format!("line {}", e.line), e.message))?
    } else {
        parse(json_value(req, &state).await?)?
    };
    check_severity(&doc.fields, None)?;
    let p = state.store().import_document(caller.actor(), doc).await?;
    Ok(created(&p))
}

pub async fn get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
) -> ApiResult<Response> {
    let p = visible(&state, &caller, key(&k)?).await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

pub async fn replace(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    headers: HeaderMap,
    Json(fields): Json<PostmortemFields>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(&headers)?;
    let key = key(&k)?;
    let current = state.store().get_postmortem(key).await?;
    check_severity(&fields, Some(&current.fields))?;
    let p = state
        .store()
        .update_postmortem(caller.actor(), key, expected, fields)
        .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

pub async fn patch(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(req.headers())?;
    let key = key(&k)?;
    let patch = json_value(req, &state).await?;
    let current = state.store().get_postmortem(key).await?;
    let fields = patched(&current.fields, patch)?;
    check_severity(&fields, Some(&current.fields))?;
    let p = state
        .store()
        .update_postmortem(caller.actor(), key, expected, fields)
        .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

#[derive(Debug, Deserialize)]
pub struct StatusChange {
    pub status: Status,
}

pub async fn status(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    headers: HeaderMap,
    Json(change): Json<StatusChange>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(&headers)?;
    let p = state
        .store()
        .change_status(caller.actor(), key(&k)?, expected, change.status)
        .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

/// The whole postmortem, if the caller may see it. The document holds the status and the
/// participants the visibility rule needs, so nothing is read twice.
async fn visible_document(
    state: &AppState,
    caller: &Caller,
    key: debrief_core::Key,
) -> ApiResult<PostmortemDocument> {
    let doc = state.store().get_document(key).await?;
    if caller.may_see(doc.status, &doc.participants) {
        Ok(doc)
    } else {
        Err(ApiError::not_found(format!("postmortem {key}")))
    }
}

/// The JSON document of a postmortem the caller may see, as cached for its newest revision
/// (rendered again when the postmortem changed: see [`crate::cache`]); with that revision.
pub async fn document_json(
    state: &AppState,
    caller: &Caller,
    key: debrief_core::Key,
) -> ApiResult<(i64, Arc<JsonBody>)> {
    // The revision first: what is read after it is at least as new.
    let mark = state.store().latest_revision(key).await?;
    let slot = state.docs().slot(key, mark);
    let json = state
        .docs()
        .json(&slot, async {
            let doc = state.store().get_document(key).await?;
            let body = serde_json::to_vec(&doc).map_err(ApiError::internal)?;
            Ok(JsonBody {
                seen: Seen {
                    status: doc.status,
                    participants: doc.participants,
                },
                body: Bytes::from(body),
            })
        })
        .await?;
    if json.seen.visible_to(caller) {
        Ok((slot.mark, json))
    } else {
        Err(ApiError::not_found(format!("postmortem {key}")))
    }
}

/// The whole postmortem as JSON, with an `ETag` of its newest revision; `If-None-Match` with
/// that tag is answered `304 Not Modified` (after the same visibility check).
pub async fn document(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (mark, json) = document_json(&state, &caller, key(&k)?).await?;
    Ok(json_response(&headers, mark, &json))
}

/// A cached JSON document as an answer: `304` when the client holds this revision.
fn json_response(headers: &HeaderMap, mark: i64, json: &JsonBody) -> Response {
    let etag = (mark > 0).then(|| document_etag(mark));
    let fresh = etag.as_deref().is_some_and(|tag| {
        headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == tag || t == "*")
    });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json.body.clone(),
        )
            .into_response()
    };
    if let Some(value) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub zone: Option<String>,
}

pub async fn export(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let key = key(&k)?;
    let zone = match given(&q.zone) {
        Some(z) => z
            .parse::<Zone>()
            .map_err(|e| ApiError::invalid("zone", e.message))?,
        None => state.config().zone.clone(),
    };
    if given(&q.format) == Some("json") {
        let (mark, json) = document_json(&state, &caller, key).await?;
        return Ok(json_response(&headers, mark, &json));
    }
    let doc = visible_document(&state, &caller, key).await?;
    match given(&q.format).unwrap_or("markdown") {
        "markdown" | "md" => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{key}.md\""),
                ),
            ],
            debrief_markdown::export(&doc, &zone),
        )
            .into_response()),
        other => Err(ApiError::invalid(
            "format",
            format!("{other:?} is not an export format: expected markdown or json"),
        )),
    }
}

/// What is missing before the review, and the durations the key moments give.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub gaps: Vec<Gap>,
    pub durations: Durations,
}

/// The readiness of a postmortem from its loaded parts (hidden events do not count).
pub fn readiness_of(
    p: &Postmortem,
    events: &[debrief_core::TimelineEvent],
    participants: &[debrief_core::Participant],
) -> Readiness {
    let gaps = debrief_core::readiness::check(
        &p.fields,
        events.iter().map(|e| &e.fields),
        participants.iter().map(|x| &x.fields),
    );
    Readiness {
        ready: gaps.is_empty(),
        gaps,
        durations: p.fields.key_moments.durations(),
    }
}

pub async fn readiness(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
) -> ApiResult<axum::Json<Readiness>> {
    let p = visible(&state, &caller, key(&k)?).await?;
    let events = state
        .store()
        .list_events(p.key, debrief_store::EventQuery::default())
        .await?;
    let participants = state.store().list_participants(p.key).await?;
    Ok(axum::Json(readiness_of(&p, &events, &participants)))
}

pub async fn revisions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
) -> ApiResult<axum::Json<Vec<Revision>>> {
    let key = key(&k)?;
    visible(&state, &caller, key).await?;
    Ok(axum::Json(state.store().revisions(key).await?))
}

/// The postmortem's fields as they were right after revision `id`: the changes of every later
/// revision of the postmortem's own fields, undone newest first. Status moves are not undone —
/// status follows its own rules.
pub fn fields_at(
    current: &PostmortemFields,
    revisions: &[Revision],
    id: i64,
) -> ApiResult<PostmortemFields> {
    let target = revisions.iter().find(|r| r.id == id).ok_or_else(|| {
        ApiError::invalid(
            "revision",
            format!("there is no revision {id} of this postmortem"),
        )
    })?;
    if target.entity != Entity::Postmortem {
        return Err(ApiError::invalid(
            "revision",
            format!(
                "revision {id} changed {} {}, not the postmortem's own fields; edit that {} instead",
                target.entity,
                target.entity_id.unwrap_or_default(),
                target.entity
            ),
        ));
    }
    let mut value: Value = serde_json::to_value(current).map_err(ApiError::internal)?;
    for r in revisions
        .iter()
        .rev()
        .filter(|r| r.id > id && r.entity == Entity::Postmortem)
    {
        let undo: Vec<_> = r
            .changes
            .iter()
            .filter(|c| !c.field.is_empty() && c.field != "status")
            .cloned()
            .collect();
        debrief_core::revision::undo(&mut value, &undo);
    }
    parse(value)
}

#[derive(Debug, Deserialize)]
pub struct Restore {
    pub revision: i64,
}

pub async fn restore(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(k): Path<String>,
    headers: HeaderMap,
    Json(r): Json<Restore>,
) -> ApiResult<Response> {
    caller.require(Access::Write)?;
    let expected = if_match(&headers)?;
    let key = key(&k)?;
    let current = state.store().get_postmortem(key).await?;
    let revisions = state.store().revisions(key).await?;
    let fields = fields_at(&current.fields, &revisions, r.revision)?;
    let p = state
        .store()
        .update_postmortem(caller.actor(), key, expected, fields)
        .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}
