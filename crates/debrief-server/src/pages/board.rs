//! The archive (list and full-text search with filters) and the action board.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use debrief_core::{ActionItem, Severity, Status};
use debrief_store::{ActionFilter, ActionStatusName, PostmortemSummary, SearchQuery};

use super::view::{self, Choice, Nav};
use super::{PageCaller, render};
use crate::api::actions::{only_visible as visible_actions, today};
use crate::api::notify::report;
use crate::api::postmortems::{FilterQuery, only_visible};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub title: String,
    pub status: String,
    pub status_label: &'static str,
    pub severity: String,
    pub services: String,
    pub occurred: String,
    pub snippet: String,
}

fn row(s: &PostmortemSummary, snippet: String, state: &AppState) -> Row {
    Row {
        key: s.key.to_string(),
        title: s.title.clone(),
        status: s.status.to_string(),
        status_label: view::status_label(s.status),
        severity: s.severity.to_string(),
        services: s
            .services
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        occurred: view::instant(s.occurred_at, &state.config().zone),
        snippet,
    }
}

#[derive(Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    nav: Nav,
    q: String,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    service: String,
    from: String,
    until: String,
    rows: Vec<Row>,
    searched: bool,
    error: String,
}

pub async fn archive(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<FilterQuery>,
) -> Response {
    let status_names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let severity_names: Vec<String> = (1..=Severity::DEFAULT_LEVELS)
        .map(|n| format!("SEV{n}"))
        .collect();
    let severity_refs: Vec<&str> = severity_names.iter().map(String::as_str).collect();
    let words = q.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let result: Result<Vec<Row>, ApiError> = async {
        let filter = q.filter(&state.config().zone)?;
        if words.is_empty() {
            let found = state.store().list_postmortems(&filter).await?;
            let found = only_visible(&state, &caller, found, |s| s).await?;
            Ok(found
                .iter()
                .map(|s| row(s, String::new(), &state))
                .collect())
        } else {
            let query =
                SearchQuery::parse(&words).map_err(|e| ApiError::invalid("q", e.message))?;
            let hits = state.store().search(&query, &filter).await?;
            let hits = only_visible(&state, &caller, hits, |h| &h.postmortem).await?;
            Ok(hits
                .iter()
                .map(|h| row(&h.postmortem, h.snippet.clone(), &state))
                .collect())
        }
    }
    .await;
    let (rows, error, status) = match result {
        Ok(rows) => (rows, String::new(), StatusCode::OK),
        Err(e) if e.status.is_client_error() => (
            Vec::new(),
            match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return super::error_page(&e, Some(&caller)),
    };
    render(
        status,
        &ArchivePage {
            nav: Nav::of(Some(&caller), "archive"),
            statuses: view::optional_choices(
                &status_names,
                q.status.as_deref().unwrap_or(""),
                "Any status",
            ),
            severities: view::optional_choices(
                &severity_refs,
                q.severity.as_deref().unwrap_or("").to_uppercase().as_str(),
                "Any severity",
            ),
            service: q.service.clone().unwrap_or_default(),
            from: q.from.clone().unwrap_or_default(),
            until: q.until.clone().unwrap_or_default(),
            searched: !words.is_empty(),
            q: words,
            rows,
            error,
        },
    )
}

#[derive(Debug, Clone)]
pub struct ActionRow {
    pub id: i64,
    pub postmortem: String,
    pub title: String,
    pub owner: String,
    pub check_in: String,
    pub status: String,
    pub priority: String,
    pub overdue: bool,
    pub last_note: String,
}

#[derive(Debug, Clone)]
pub struct OwnerGroup {
    pub owner: String,
    pub open: usize,
    pub overdue: usize,
    pub rows: Vec<ActionRow>,
}

/// One postmortem's follow-through on the board.
#[derive(Debug, Clone)]
pub struct PmMeasure {
    pub key: String,
    pub title: String,
    pub status: String,
    pub status_label: &'static str,
    pub measure: view::Measure,
}

/// How many postmortems the board's follow-through table lists (most overdue first).
const TOP_POSTMORTEMS: usize = 20;

#[derive(Template)]
#[template(path = "actions.html")]
struct ActionsPage {
    nav: Nav,
    view: String,
    groups: Vec<OwnerGroup>,
    total: usize,
    overdue_total: usize,
    today: String,
    /// Follow-through of the actions shown.
    measure: view::Measure,
    postmortems: Vec<PmMeasure>,
    more_postmortems: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct BoardView {
    /// `mine` (default), `overdue`, `owners` or `all`.
    pub view: Option<String>,
}

fn action_row(a: &ActionItem, today: jiff::civil::Date) -> ActionRow {
    ActionRow {
        id: a.id.0,
        postmortem: a.postmortem.to_string(),
        title: a.fields.title.to_string(),
        owner: a.fields.owner.to_string(),
        check_in: a.fields.check_in.to_string(),
        status: a.fields.status.name().to_owned(),
        priority: a.fields.priority.to_string(),
        overdue: !a.fields.status.is_finished() && a.fields.check_in < today,
        last_note: a
            .progress
            .last()
            .map(|p| format!("{}: {}", p.at.strftime("%Y-%m-%d"), p.note))
            .unwrap_or_default(),
    }
}

pub async fn actions(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(q): Query<BoardView>,
) -> Response {
    let today = today(&state);
    let which = match q.view.as_deref().unwrap_or("mine") {
        v @ ("overdue" | "owners" | "all") => v,
        _ => "mine",
    };
    let filter = match which {
        "mine" => ActionFilter {
            owner: Some(caller.user.name.to_string()),
            ..ActionFilter::default()
        },
        "overdue" => ActionFilter {
            overdue_on: Some(today),
            ..ActionFilter::default()
        },
        _ => ActionFilter::default(),
    };
    let actions = match state.store().list_actions(&filter).await {
        Ok(a) => a,
        Err(e) => return super::error_page(&e.into(), Some(&caller)),
    };
    let actions = match visible_actions(&state, &caller, actions).await {
        Ok(a) => a,
        Err(e) => return super::error_page(&e, Some(&caller)),
    };
    let shown: Vec<ActionItem> = actions
        .into_iter()
        .filter(|a| which != "owners" || !a.fields.status.is_finished())
        .collect();
    let follow = match report(state.store(), &shown, today, state.config().zone.tz()).await {
        Ok(r) => r,
        Err(e) => return super::error_page(&e, Some(&caller)),
    };
    let more_postmortems = follow.postmortems.len().saturating_sub(TOP_POSTMORTEMS);
    let postmortems = follow
        .postmortems
        .iter()
        .take(TOP_POSTMORTEMS)
        .map(|p| PmMeasure {
            key: p.key.to_string(),
            title: p.title.clone(),
            status: p.status.to_string(),
            status_label: view::status_label(p.status),
            measure: view::Measure::of(&p.measure),
        })
        .collect();
    let rows: Vec<ActionRow> = shown.iter().map(|a| action_row(a, today)).collect();
    let total = rows.len();
    let overdue_total = rows.iter().filter(|r| r.overdue).count();
    let groups = if which == "owners" {
        let mut by: BTreeMap<String, Vec<ActionRow>> = BTreeMap::new();
        for r in rows {
            by.entry(r.owner.clone()).or_default().push(r);
        }
        by.into_iter()
            .map(|(owner, rows)| OwnerGroup {
                owner,
                open: rows.len(),
                overdue: rows.iter().filter(|r| r.overdue).count(),
                rows,
            })
            .collect()
    } else {
        vec![OwnerGroup {
            owner: String::new(),
            open: rows
                .iter()
                .filter(|r| {
                    r.status != ActionStatusName::Done.as_str()
                        && r.status != ActionStatusName::Declined.as_str()
                })
                .count(),
            overdue: overdue_total,
            rows,
        }]
    };
    render(
        StatusCode::OK,
        &ActionsPage {
            nav: Nav::of(Some(&caller), "actions"),
            view: which.to_owned(),
            groups,
            total,
            overdue_total,
            today: today.to_string(),
            measure: view::Measure::of(&follow.all),
            postmortems,
            more_postmortems,
        },
    )
}
