//! The API's one error type. Every failure becomes JSON with a stable `code`, a human `message`
//! and, where one input is at fault, its `field`. Server errors are logged here, once, and the
//! client learns only that something failed on our side.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use debrief_core::{ParseError, Version};
use debrief_store::StoreError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On a conflict: the record as it is now, so the client can compare and re-apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            current_version: None,
            current: None,
        }
    }

    #[must_use]
    pub fn at(mut self, field: impl Into<String>) -> ApiError {
        let field = field.into();
        self.field = (!field.is_empty()).then_some(field);
        self
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message).at(field)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or send an API token as `Authorization: Bearer …`",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A failure on our side. The cause goes to the log, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; its log has the details",
        )
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> ApiError {
        ApiError::invalid(e.field, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict {
                what,
                current_version,
                current,
            } => ApiError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message: format!(
                    "{what} was changed by someone else (now at version {current_version}); \
                     compare with `current` and re-apply your change"
                ),
                field: None,
                current_version: Some(current_version),
                current: Some(*current),
            },
            StoreError::Duplicate(what) => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate",
                format!("{what} already exists"),
            ),
            StoreError::Invalid(p) => p.into(),
            StoreError::Transition(t) => {
                ApiError::new(StatusCode::CONFLICT, "transition_refused", t.to_string())
                    .at("status")
            }
            StoreError::Backend(cause) => ApiError::internal(cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(&self)).into_response();
        if let Some(v) = self.current_version
            && let Ok(value) = HeaderValue::from_str(&crate::api::etag(v))
        {
            response.headers_mut().insert(header::ETAG, value);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"debrief\""),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
