//! `POST /api/v1/lint`: the blameless linter over one field's text (as the editor sends it while
//! someone types) or a whole Markdown postmortem.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use debrief_core::Access;
use debrief_lint::{Context, Finding, Section};

use super::body::Json;
use super::{key, visible};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintIn {
    pub text: String,
    /// Which section the text is (`summary`, `timeline`, `factors`, `lessons`, `actions`, …);
    /// without one, the text is a whole Markdown postmortem.
    #[serde(default)]
    pub section: Option<String>,
    /// The postmortem the text belongs to, so its participants' names are known.
    #[serde(default)]
    pub postmortem: Option<String>,
    /// More names of people, beyond the postmortem's participants.
    #[serde(default)]
    pub participants: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LintOut {
    pub findings: Vec<Finding>,
}

pub async fn lint(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Json(body): Json<LintIn>,
) -> ApiResult<axum::Json<LintOut>> {
    caller.require(Access::Read)?;
    let mut names = body.participants;
    if let Some(k) = body.postmortem.as_deref() {
        let pm = visible(&state, &caller, key(k)?).await?;
        names.extend(
            state
                .store()
                .list_participants(pm.key)
                .await?
                .into_iter()
                .map(|p| p.fields.name.to_string()),
        );
    }
    let ctx = Context::with_participants(names);
    let linter = state.linter();
    let findings = match body.section.as_deref() {
        None | Some("") | Some("document") => linter.lint_markdown_with(&body.text, &ctx),
        Some(s) => {
            let section = s
                .parse::<Section>()
                .map_err(|e| ApiError::invalid("section", e))?;
            linter.lint_section(&body.text, section, &ctx)
        }
    };
    Ok(axum::Json(LintOut { findings }))
}
