//! The JSON API under `/api/v1/`: one handler per use case of the storage port, plus accounts.
//!
//! Conventions: records are answered with an `ETag` of their version; an update names the
//! version it edits in `If-Match` and a stale one gets `409` with the current record; a body with
//! an unknown field, a wrong type or an invalid value gets `422` naming the field; every error is
//! an [`ApiError`](crate::error::ApiError).

pub mod accounts;
pub mod actions;
pub mod body;
pub mod lint;
pub mod notify;
pub mod postmortems;
pub mod timeline;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use debrief_core::{Key, Postmortem, Version};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Every API route. The OpenAPI document lists the same paths (a test checks it).
pub fn routes() -> Router<AppState> {
    use accounts as acc;
    use actions as act;
    use notify as nt;
    use postmortems as pm;
    use timeline as tl;
    Router::new()
        .route("/api/v1/openapi.json", get(crate::openapi::serve))
        .route("/api/v1/me", get(acc::me))
        .route(
            "/api/v1/me/preferences",
            get(nt::my_preferences).put(nt::set_my_preferences),
        )
        .route(
            "/api/v1/channels",
            get(nt::list_channels).post(nt::add_channel),
        )
        .route(
            "/api/v1/channels/{id}",
            get(nt::get_channel)
                .patch(nt::patch_channel)
                .delete(nt::delete_channel),
        )
        .route("/api/v1/channels/{id}/test", post(nt::test_channel))
        .route("/api/v1/jobs", get(nt::jobs))
        .route("/api/v1/jobs/{id}/retry", post(nt::retry_job))
        .route("/api/v1/postmortems", get(pm::list).post(pm::create))
        .route("/api/v1/postmortems/import", post(pm::import))
        .route(
            "/api/v1/postmortems/{key}",
            get(pm::get).put(pm::replace).patch(pm::patch),
        )
        .route("/api/v1/postmortems/{key}/status", post(pm::status))
        .route("/api/v1/postmortems/{key}/document", get(pm::document))
        .route("/api/v1/postmortems/{key}/export", get(pm::export))
        .route("/api/v1/postmortems/{key}/readiness", get(pm::readiness))
        .route("/api/v1/postmortems/{key}/revisions", get(pm::revisions))
        .route("/api/v1/postmortems/{key}/restore", post(pm::restore))
        .route(
            "/api/v1/postmortems/{key}/events",
            get(tl::list).post(tl::add),
        )
        .route("/api/v1/postmortems/{key}/events/bulk", post(tl::bulk))
        .route(
            "/api/v1/postmortems/{key}/events/{id}",
            get(tl::get).put(tl::replace).patch(tl::patch),
        )
        .route(
            "/api/v1/postmortems/{key}/events/{id}/hidden",
            post(tl::hide),
        )
        .route(
            "/api/v1/postmortems/{key}/participants",
            get(tl::participants).post(tl::add_participant),
        )
        .route(
            "/api/v1/postmortems/{key}/participants/{id}",
            axum::routing::put(tl::replace_participant).patch(tl::patch_participant),
        )
        .route(
            "/api/v1/postmortems/{key}/actions",
            get(act::list_of).post(act::add),
        )
        .route("/api/v1/actions", get(act::list))
        .route("/api/v1/actions/stats", get(nt::stats))
        .route(
            "/api/v1/actions/{id}",
            get(act::get).put(act::replace).patch(act::patch),
        )
        .route("/api/v1/actions/{id}/progress", post(act::progress))
        .route("/api/v1/search", get(pm::search))
        .route("/api/v1/lint", post(lint::lint))
        .route("/api/v1/users", get(acc::users).post(acc::add_user))
        .route("/api/v1/users/{id}", axum::routing::patch(acc::change_user))
        .route("/api/v1/tokens", get(acc::tokens).post(acc::create_token))
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(acc::revoke_token),
        )
}

/// A query parameter that was given and is not blank, trimmed.
pub fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The `ETag` of a version: `"3"`.
pub fn etag(v: Version) -> String {
    format!("\"{}\"", v.0)
}

/// The version an update names in `If-Match` (`"3"`, `W/"3"` or `3`). Required: `428` without.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Version> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "version_required",
            "send the version you edit in If-Match (the ETag you read), so that nobody's change is overwritten",
        )
        .at("If-Match"));
    };
    let text = raw.to_str().unwrap_or_default().trim();
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .map(Version)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "If-Match {text:?} is not a version: expected the ETag you read, like \"3\""
            ))
            .at("If-Match")
        })
}

/// A JSON answer with the record's version as its `ETag`.
pub fn versioned<T: Serialize>(status: StatusCode, version: Version, body: &T) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// A postmortem key from a path segment; a malformed one is simply not found.
pub fn key(raw: &str) -> ApiResult<Key> {
    raw.parse::<Key>()
        .map_err(|_| ApiError::not_found(format!("postmortem {raw:?} (keys look like PM-12)")))
}

/// The postmortem, if the caller may see it. One they may not see is answered as not found, so
/// that a draft's existence is not revealed.
pub async fn visible(state: &AppState, caller: &Caller, key: Key) -> ApiResult<Postmortem> {
    let pm = state.store().get_postmortem(key).await?;
    if caller.can_write() || may_see(state, caller, &pm).await? {
        Ok(pm)
    } else {
        Err(ApiError::not_found(format!("postmortem {key}")))
    }
}

/// Whether the caller may see this postmortem (reads its participants only when that decides).
pub async fn may_see(state: &AppState, caller: &Caller, pm: &Postmortem) -> ApiResult<bool> {
    if caller.may_see(pm.status, std::iter::empty()) {
        return Ok(true);
    }
    let participants = state.store().list_participants(pm.key).await?;
    Ok(caller.may_see(pm.status, participants.iter().map(|p| &p.fields)))
}
