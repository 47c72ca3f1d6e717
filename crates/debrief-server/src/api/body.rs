//! Request bodies: JSON read with the field at fault named in every error (`actions[2].owner`),
//! unknown fields refused (a typo must not be silently dropped), and JSON merge patches.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A JSON body of type `T`.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Json<T>> {
        let value = json_value(req, state).await?;
        parse(value).map(Json)
    }
}

/// Reads a body as any JSON value, refusing a non-JSON content type (415) and malformed JSON
/// (400, with line and column).
pub async fn json_value(req: Request, state: &AppState) -> ApiResult<Value> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send JSON with Content-Type: application/json (got {:?})",
                if essence.is_empty() {
                    "nothing"
                } else {
                    essence
                }
            ),
        ));
    }
    let bytes = bytes(req, state).await?;
    json_of(&bytes)
}

/// Parses a body as any JSON value; malformed JSON is 400 with line and column.
pub fn json_of(bytes: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// Reads the whole body, refusing one over the size limit with 413.
pub async fn bytes(req: Request, state: &AppState) -> ApiResult<axum::body::Bytes> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(state)
            } else {
                ApiError::bad_request(format!("could not read the body: {e}"))
            }
        })
}

/// Reads the body as UTF-8 text.
pub async fn text(req: Request, state: &AppState) -> ApiResult<String> {
    let bytes = bytes(req, state).await?;
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

pub fn too_large(state: &AppState) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the body is larger than the {} bytes this server accepts",
            state.config().max_body
        ),
    )
}

/// Turns a JSON value into `T`, naming the field of the first problem, and refusing fields `T`
/// does not have.
pub fn parse<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    let mut unknown = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let de = serde_ignored::Deserializer::new(value, &mut note);
    let parsed: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let mut path = e.path().to_string();
        let mut message = e.into_inner().to_string();
        // serde reports a missing field at its parent; point at the field itself.
        if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())
        {
            path = if path == "." {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            message = format!("is required: give {name}");
        }
        // A value's own check may already name a field inside it (`email: …`); keep one name.
        let message = message
            .strip_prefix(&format!("{path}: "))
            .map(str::to_owned)
            .unwrap_or(message);
        ApiError::invalid(if path == "." { String::new() } else { path }, message)
    })?;
    if let Some(first) = unknown.first() {
        return Err(ApiError::invalid(
            first.clone(),
            format!("unknown field {first:?}; check its spelling against the API reference"),
        ));
    }
    Ok(parsed)
}

/// Applies a JSON merge patch (RFC 7396): objects merge key by key, `null` removes a key, anything
/// else replaces.
pub fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(map) = target {
                for (k, v) in patch {
                    if v.is_null() {
                        map.remove(&k);
                    } else {
                        merge(map.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// The record `current` with a merge patch applied, parsed back into its type.
pub fn patched<T: serde::Serialize + DeserializeOwned>(current: &T, patch: Value) -> ApiResult<T> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "a patch must be a JSON object of the fields to change",
        ));
    }
    let mut value = serde_json::to_value(current).map_err(ApiError::internal)?;
    merge(&mut value, patch);
    parse(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge(&mut v, json!({"a": "z", "c": {"f": null}}));
        assert_eq!(v, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse::<debrief_core::PostmortemFields>(json!({"title": "", "severity": "SEV2"}))
            .expect_err("empty title");
        assert_eq!(err.field.as_deref(), Some("title"));
        let err = parse::<debrief_core::PostmortemFields>(
            json!({"title": "t", "severity": "SEV2", "sumary": "typo"}),
        )
        .expect_err("unknown field");
        assert_eq!(err.field.as_deref(), Some("sumary"));
        let err =
            parse::<debrief_core::PostmortemFields>(json!({"title": "t", "severity": "SEVX"}))
                .expect_err("bad severity");
        assert_eq!(err.field.as_deref(), Some("severity"));
    }
}
