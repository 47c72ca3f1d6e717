//! The postmortem page: every section viewed and edited, the timeline editor with accounts side
//! by side, actions, participants, readiness, status, and the revision history with restore.
//!
//! Editing never loses what someone typed. A form carries the version it was drawn from and a
//! fingerprint of its section. If the postmortem changed meanwhile but not in this section, the
//! edit is applied to the current version; if this section changed too, the page comes back
//! with the user's text still in the form and the other person's version beside it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use debrief_core::postmortem::human_duration;
use debrief_core::{
    Access, ActionFields, ActionId, ActionItem, ActionStatus, Actor, Entity, EventFields, EventId,
    EventKind, FactorCategory, KeyMoment, Label, LessonKind, Line, Name, Outcome, Participant,
    ParticipantFields, ParticipantId, Postmortem, PostmortemFields, Priority, ProgressUpdate,
    Question, Revision, Role, Severity, Status, Text, TimelineEvent, Title, Url, UserRole, Version,
    Zone,
};
use debrief_store::{ActionFilter, EventQuery, StoreError};

use super::view::{self, Choice, Nav};
use super::{FormData, PageCaller, error_page, render};
use crate::api::postmortems::{Readiness, fields_at, readiness_of};
use crate::api::visible;
use crate::auth::Caller;
use crate::cache::{PageBody, PageVariant, Seen};
use crate::error::ApiError;
use crate::markdown;
use crate::state::AppState;

/// An error tied to one form field.
type FieldErrors = Vec<(String, String)>;

/// A form as the template draws it: its values (from the record, or as the user typed them),
/// its errors, whether it is open, and, on a conflict, the other person's version.
#[derive(Debug, Clone, Default)]
pub struct F {
    pub id: String,
    pub values: HashMap<String, String>,
    pub errors: HashMap<String, String>,
    pub open: bool,
    /// On a conflict: the values someone else saved, as "label: value" lines.
    pub theirs: Vec<(String, String)>,
    pub version: i64,
    pub base: String,
    pub message: String,
}

impl F {
    pub fn v(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
    pub fn e(&self, name: &str) -> &str {
        self.errors.get(name).map_or("", String::as_str)
    }
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.v(name), "on" | "true")
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.message.is_empty()
    }
    /// Options of a select named `name`, with the current value selected.
    pub fn options(&self, name: &str, names: &[&str]) -> Vec<Choice> {
        view::choices(names, self.v(name))
    }
    pub fn optional(&self, name: &str, names: &[&str], none: &str) -> Vec<Choice> {
        view::optional_choices(names, self.v(name), none)
    }
}

/// What went wrong with the last submitted form, to draw it again.
#[derive(Debug, Clone, Default)]
pub struct Outcome_ {
    pub form: String,
    pub typed: Option<FormData>,
    pub errors: FieldErrors,
    pub message: String,
    pub theirs: Vec<(String, String)>,
    /// The version and fingerprint to put in the redrawn form (after a conflict: the current one).
    pub version: Option<i64>,
    pub base: Option<String>,
}

fn fingerprint(v: &Value) -> String {
    let digest = Sha256::digest(v.to_string().as_bytes());
    crate::auth::hex(&digest[..8])
}

fn names<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| f(*v)).collect()
}

// ---------------------------------------------------------------------------------------------
// The postmortem's own sections.

/// The sections of a postmortem's own fields that have an edit form.
pub const SECTIONS: &[&str] = &[
    "overview",
    "summary",
    "impact",
    "key_moments",
    "customer_statement",
    "factors",
    "lessons",
    "ideas",
    "links",
    "meeting",
    "notes",
];

fn joined(labels: &[Label]) -> String {
    labels
        .iter()
        .map(Label::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn lines<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join("\n")
}

/// The values a section's form shows for these fields.
fn section_values(section: &str, p: &PostmortemFields, zone: &Zone) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), v);
    };
    match section {
        "overview" => {
            put("title", p.title.to_string());
            put("severity", p.severity.to_string());
            put("services", joined(&p.services));
            put("tags", joined(&p.tags));
            put(
                "incident_cost",
                p.incident_cost
                    .as_ref()
                    .map(Line::to_string)
                    .unwrap_or_default(),
            );
        }
        "summary" => put("summary", p.summary.clone()),
        "impact" => put("impact", p.impact.clone()),
        "notes" => put("notes", p.notes.clone()),
        "key_moments" => {
            for k in KeyMoment::ALL {
                put(k.as_str(), view::opt_moment(p.key_moments.get(*k), zone));
            }
        }
        "customer_statement" => {
            put("regret", p.customer_statement.regret.clone());
            put("reason", p.customer_statement.reason.clone());
            put("remedy", p.customer_statement.remedy.clone());
        }
        "factors" => put(
            "factors",
            lines(&p.factors, |f| format!("{}: {}", f.category, f.text)),
        ),
        "lessons" => {
            for k in LessonKind::ALL {
                put(k.as_str(), lines(p.lessons.of(*k), Line::to_string));
            }
        }
        "ideas" => put(
            "ideas",
            lines(&p.ideas, |i| format!("{}: {}", i.question, i.text)),
        ),
        "links" => put("links", lines(&p.links, debrief_core::forms::link_line)),
        "meeting" => {
            put(
                "scheduled_at",
                view::opt_moment(p.meeting.scheduled_at.as_ref(), zone),
            );
            put(
                "location",
                p.meeting
                    .location
                    .as_ref()
                    .map(Line::to_string)
                    .unwrap_or_default(),
            );
            put(
                "facilitator",
                p.meeting
                    .facilitator
                    .as_ref()
                    .map(Name::to_string)
                    .unwrap_or_default(),
            );
            put("meeting_notes", p.meeting.notes.clone());
        }
        _ => {}
    }
    m
}

/// The part of the fields a section edits, to tell whether someone else changed it.
fn section_part(section: &str, p: &PostmortemFields) -> Value {
    match section {
        "overview" => json!([p.title, p.severity, p.services, p.tags, p.incident_cost]),
        "summary" => json!(p.summary),
        "impact" => json!(p.impact),
        "notes" => json!(p.notes),
        "key_moments" => json!(p.key_moments),
        "customer_statement" => json!(p.customer_statement),
        "factors" => json!(p.factors),
        "lessons" => json!(p.lessons),
        "ideas" => json!(p.ideas),
        "links" => json!(p.links),
        "meeting" => json!(p.meeting),
        _ => Value::Null,
    }
}

fn parse_labels(field: &str, s: &str, errors: &mut FieldErrors) -> Vec<Label> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .filter_map(|x| {
            x.parse::<Label>()
                .map_err(|e| errors.push((field.to_owned(), e.message)))
                .ok()
        })
        .collect()
}

fn parse_lines<T>(
    field: &str,
    s: &str,
    errors: &mut FieldErrors,
    parse: impl Fn(&str) -> Result<T, debrief_core::ParseError>,
) -> Vec<T> {
    s.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter_map(|(i, l)| {
            parse(l)
                .map_err(|e| {
                    let detail = if e.field.is_empty() {
                        e.message
                    } else {
                        format!("{}: {}", e.field, e.message)
                    };
                    errors.push((field.to_owned(), format!("line {}: {detail}", i + 1)));
                })
                .ok()
        })
        .collect()
}

fn opt_line(field: &str, s: &str, errors: &mut FieldErrors) -> Option<Line> {
    let s = s.trim();
    (!s.is_empty())
        .then(|| {
            s.parse::<Line>()
                .map_err(|e| errors.push((field.to_owned(), e.message)))
                .ok()
        })
        .flatten()
}

fn opt_moment(
    field: &str,
    s: &str,
    zone: &Zone,
    errors: &mut FieldErrors,
) -> Option<debrief_core::Moment> {
    let s = s.trim();
    (!s.is_empty())
        .then(|| {
            debrief_core::Moment::parse(s, zone)
                .map_err(|e| errors.push((field.to_owned(), e.message)))
                .ok()
        })
        .flatten()
}

fn free_text(field: &str, s: &str, errors: &mut FieldErrors) -> String {
    let t = s.replace("\r\n", "\n").trim().to_owned();
    if let Err(e) = debrief_core::text::check_free_text(field, &t) {
        errors.push((field.to_owned(), e.message));
    }
    t
}

/// Applies a section's form to the fields.
fn apply_section(
    section: &str,
    form: &FormData,
    p: &mut PostmortemFields,
    zone: &Zone,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let e = &mut errors;
    match section {
        "overview" => {
            match form.get("title").parse::<Title>() {
                Ok(t) => p.title = t,
                Err(err) => e.push(("title".into(), err.message)),
            }
            match form.get("severity").parse::<Severity>() {
                Ok(s) => p.severity = s,
                Err(err) => e.push(("severity".into(), err.message)),
            }
            p.services = parse_labels("services", form.get("services"), e);
            p.tags = parse_labels("tags", form.get("tags"), e);
            p.incident_cost = opt_line("incident_cost", form.get("incident_cost"), e);
        }
        "summary" => p.summary = free_text("summary", form.get("summary"), e),
        "impact" => p.impact = free_text("impact", form.get("impact"), e),
        "notes" => p.notes = free_text("notes", form.get("notes"), e),
        "key_moments" => {
            for k in KeyMoment::ALL {
                let m = opt_moment(k.as_str(), form.get(k.as_str()), zone, e);
                p.key_moments.set(*k, m);
            }
        }
        "customer_statement" => {
            p.customer_statement.regret = free_text("regret", form.get("regret"), e);
            p.customer_statement.reason = free_text("reason", form.get("reason"), e);
            p.customer_statement.remedy = free_text("remedy", form.get("remedy"), e);
        }
        "factors" => {
            p.factors = parse_lines(
                "factors",
                form.get("factors"),
                e,
                debrief_core::forms::factor,
            )
        }
        "lessons" => {
            for k in LessonKind::ALL {
                *p.lessons.of_mut(*k) = parse_lines(k.as_str(), form.get(k.as_str()), e, |l| {
                    l.trim().parse::<Line>()
                });
            }
        }
        "ideas" => p.ideas = parse_lines("ideas", form.get("ideas"), e, debrief_core::forms::idea),
        "links" => p.links = parse_lines("links", form.get("links"), e, debrief_core::forms::link),
        "meeting" => {
            p.meeting.scheduled_at = opt_moment("scheduled_at", form.get("scheduled_at"), zone, e);
            p.meeting.location = opt_line("location", form.get("location"), e);
            let f = form.get("facilitator").trim();
            p.meeting.facilitator = if f.is_empty() {
                None
            } else {
                f.parse::<Name>()
                    .map_err(|err| e.push(("facilitator".into(), err.message)))
                    .ok()
            };
            p.meeting.notes = free_text("meeting_notes", form.get("meeting_notes"), e);
        }
        other => e.push((
            "section".into(),
            format!("{other:?} is not a section of a postmortem"),
        )),
    }
    if errors.is_empty() {
        p.validate()
            .map_err(|err| vec![(err.field.clone(), err.message)])
    } else {
        Err(errors)
    }
}

fn typed_values(form: &FormData) -> HashMap<String, String> {
    form.0.iter().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// View models.

#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub time: String,
    pub kind: String,
    pub milestone: String,
    pub actor: String,
    pub description: String,
    pub source: String,
    pub account_of: String,
    pub knew: String,
    pub expected: String,
    pub assumed: String,
    pub has_account: bool,
    pub outcome: String,
    pub differently: String,
    pub hidden: bool,
    pub pinned: bool,
    pub form: F,
}

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub time: String,
    pub what: String,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ActionView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub owner: String,
    pub check_in: String,
    pub due: String,
    pub priority: String,
    pub status: String,
    pub reason: String,
    pub overdue: bool,
    pub volunteer: bool,
    pub tracker: String,
    pub progress: Vec<(String, String, String)>,
    pub form: F,
    pub progress_form: F,
}

#[derive(Debug, Clone)]
pub struct ParticipantView {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub role: String,
    pub invited: bool,
    pub attended: bool,
    pub circumstances: String,
    pub form: F,
}

#[derive(Debug, Clone)]
pub struct RevisionRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub summary: String,
    pub fields: String,
    pub restorable: bool,
}

#[derive(Debug, Clone)]
pub struct Duration_ {
    pub label: &'static str,
    pub value: String,
}

/// A linter finding as the status panel lists it.
#[derive(Debug, Clone)]
pub struct LintRow {
    pub rule: String,
    pub level: &'static str,
    pub section: String,
    pub matched: String,
    pub message: String,
    pub suggestion: String,
}

/// The blameless linter over the whole postmortem as its Markdown export, with the participants'
/// names known: what is left to rephrase before the review.
fn lint_rows(
    state: &AppState,
    pm: &Postmortem,
    events: &[TimelineEvent],
    actions: &[ActionItem],
    participants: &[Participant],
) -> Vec<LintRow> {
    let doc = debrief_core::PostmortemDocument::from_parts(pm, events, actions, participants);
    let text = debrief_markdown::export(&doc, &state.config().zone);
    let ctx = debrief_lint::Context::with_participants(
        participants.iter().map(|p| p.fields.name.to_string()),
    );
    state
        .linter()
        .lint_markdown_with(&text, &ctx)
        .into_iter()
        .filter(|f| f.level >= debrief_lint::Level::Warning && f.rule.starts_with("blame/"))
        .map(|f| LintRow {
            rule: f.rule,
            level: f.level.as_str(),
            section: view::words(f.section.as_str()),
            matched: f.matched,
            message: f.message,
            suggestion: f.suggestion,
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Transition {
    pub to: String,
    pub label: String,
    pub forward: bool,
}

#[derive(Debug, Template)]
#[template(path = "postmortem.html", whitespace = "minimize")]
pub struct PmPage {
    pub nav: Nav,
    pub key: String,
    pub version: i64,
    pub title: String,
    pub status: String,
    pub status_label: &'static str,
    pub severity: String,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub incident_cost: String,
    pub created: String,
    pub updated: String,
    pub can_write: bool,
    pub zone: String,
    pub summary_html: String,
    pub impact_html: String,
    pub notes_html: String,
    pub moments: Vec<(String, String)>,
    pub durations: Vec<Duration_>,
    pub regret: String,
    pub reason: String,
    pub remedy: String,
    pub factors: Vec<(String, String)>,
    pub lessons: Vec<(String, Vec<String>)>,
    pub ideas: Vec<(String, Vec<String>)>,
    pub links: Vec<(String, String, String)>,
    pub meeting: Vec<(String, String)>,
    pub meeting_notes_html: String,
    pub events: Vec<EventRow>,
    pub hidden_count: usize,
    pub account_people: Vec<String>,
    pub account_rows: Vec<AccountRow>,
    pub actions: Vec<ActionView>,
    /// The follow-through of the postmortem's actions in one line (empty without actions).
    pub follow_through: String,
    pub participants: Vec<ParticipantView>,
    pub revisions: Vec<RevisionRow>,
    pub readiness: Readiness,
    pub lint: Vec<LintRow>,
    pub transitions: Vec<Transition>,
    pub status_error: String,
    pub sections: HashMap<String, F>,
    pub new_event: F,
    pub new_action: F,
    pub new_participant: F,
    pub kinds: Vec<&'static str>,
    pub milestones: Vec<&'static str>,
    pub outcomes: Vec<&'static str>,
    pub questions: Vec<&'static str>,
    pub priorities: Vec<&'static str>,
    pub action_statuses: Vec<&'static str>,
    pub roles: Vec<&'static str>,
    pub severities: Vec<String>,
    pub factor_categories: String,
    pub question_names: String,
    pub link_kinds: String,
}

impl PmPage {
    pub fn section(&self, name: &str) -> &F {
        static EMPTY: std::sync::OnceLock<F> = std::sync::OnceLock::new();
        self.sections
            .get(name)
            .unwrap_or_else(|| EMPTY.get_or_init(F::default))
    }
    pub fn severity_options(&self) -> Vec<Choice> {
        let refs: Vec<&str> = self.severities.iter().map(String::as_str).collect();
        self.section("overview").options("severity", &refs)
    }
    pub fn lesson_prompts(&self) -> Vec<(&'static str, &'static str)> {
        LessonKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.prompt()))
            .collect()
    }
    pub fn moment_names(&self) -> Vec<(&'static str, String)> {
        KeyMoment::ALL
            .iter()
            .map(|k| (k.as_str(), view::words(k.as_str())))
            .collect()
    }
}

fn event_values(e: &EventFields, zone: &Zone) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("happened_at".into(), view::moment(&e.happened_at, zone));
    m.insert("kind".into(), e.kind.to_string());
    m.insert(
        "milestone".into(),
        e.milestone.map(|k| k.to_string()).unwrap_or_default(),
    );
    m.insert(
        "actor".into(),
        e.actor.as_ref().map(Actor::to_string).unwrap_or_default(),
    );
    m.insert("description".into(), e.description.to_string());
    m.insert(
        "account_of".into(),
        e.account_of
            .as_ref()
            .map(Name::to_string)
            .unwrap_or_default(),
    );
    m.insert("knew".into(), e.account.knew.clone());
    m.insert("expected".into(), e.account.expected.clone());
    m.insert("assumed".into(), e.account.assumed.clone());
    m.insert(
        "outcome".into(),
        e.outcome.map(|o| o.to_string()).unwrap_or_default(),
    );
    m.insert("differently".into(), e.differently.clone());
    m.insert("pinned".into(), if e.pinned { "on" } else { "" }.into());
    m
}

/// An event from its form, over `base` (fields the form does not show — source, links,
/// hidden — stay as they were).
fn event_from_form(
    form: &FormData,
    base: Option<&EventFields>,
    zone: &Zone,
) -> Result<EventFields, FieldErrors> {
    let mut errors = FieldErrors::new();
    let er = &mut errors;
    let happened_at = match form.get("happened_at").trim() {
        "" => {
            er.push((
                "happened_at".into(),
                "is required: when did it happen? (a day is enough)".into(),
            ));
            None
        }
        t => debrief_core::Moment::parse(t, zone)
            .map_err(|x| er.push(("happened_at".into(), x.message)))
            .ok(),
    };
    let kind = required::<EventKind>(form, "kind", "what kind of moment", er);
    let description = required::<Text>(form, "description", "what happened?", er);
    let milestone = match form.get("milestone").trim() {
        "" => None,
        m => m
            .parse::<KeyMoment>()
            .map_err(|x| er.push(("milestone".into(), x.message)))
            .ok(),
    };
    let actor = match form.get("actor").trim() {
        "" => None,
        a => Actor::parse(a)
            .map_err(|x| er.push(("actor".into(), x.message)))
            .ok(),
    };
    let account_of = match form.get("account_of").trim() {
        "" => None,
        a => a
            .parse::<Name>()
            .map_err(|x| er.push(("account_of".into(), x.message)))
            .ok(),
    };
    let knew = free_text("knew", form.get("knew"), er);
    let expected = free_text("expected", form.get("expected"), er);
    let assumed = free_text("assumed", form.get("assumed"), er);
    let outcome = match form.get("outcome").trim() {
        "" => None,
        o => o
            .parse::<Outcome>()
            .map_err(|x| er.push(("outcome".into(), x.message)))
            .ok(),
    };
    let differently = free_text("differently", form.get("differently"), er);
    let (Some(happened_at), Some(kind), Some(description), true) =
        (happened_at, kind, description, errors.is_empty())
    else {
        return Err(errors);
    };
    let mut e = match base {
        Some(b) => b.clone(),
        None => EventFields::new(happened_at.clone(), kind, description.clone()),
    };
    e.happened_at = happened_at;
    e.kind = kind;
    e.description = description;
    e.milestone = milestone;
    e.actor = actor;
    e.account_of = account_of;
    e.account.knew = knew;
    e.account.expected = expected;
    e.account.assumed = assumed;
    e.outcome = outcome;
    e.differently = differently;
    e.pinned = form.has("pinned");
    e.validate()
        .map_err(|x| vec![(x.field.clone(), x.message)])?;
    Ok(e)
}

fn action_values(a: &ActionFields) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("title".into(), a.title.to_string());
    m.insert("description".into(), a.description.clone());
    m.insert("category".into(), a.category.to_string());
    m.insert("owner".into(), a.owner.to_string());
    m.insert("check_in".into(), a.check_in.to_string());
    m.insert(
        "due".into(),
        a.due.map(|d| d.to_string()).unwrap_or_default(),
    );
    m.insert("priority".into(), a.priority.to_string());
    m.insert("status".into(), a.status.name().to_owned());
    m.insert(
        "reason".into(),
        match &a.status {
            ActionStatus::Declined { reason } => reason.to_string(),
            _ => String::new(),
        },
    );
    m.insert(
        "volunteer".into(),
        if a.volunteer { "on" } else { "" }.into(),
    );
    m.insert(
        "estimated_cost".into(),
        a.estimated_cost
            .as_ref()
            .map(Line::to_string)
            .unwrap_or_default(),
    );
    m.insert(
        "tracker".into(),
        a.tracker.as_ref().map(Url::to_string).unwrap_or_default(),
    );
    m
}

fn required<T: std::str::FromStr<Err = debrief_core::ParseError>>(
    form: &FormData,
    field: &str,
    what: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    let v = form.get(field).trim();
    if v.is_empty() {
        errors.push((field.to_owned(), format!("is required: {what}")));
        return None;
    }
    v.parse::<T>()
        .map_err(|e| errors.push((field.to_owned(), e.message)))
        .ok()
}

/// An action from its form, over `base` (fields the form does not show — SMART checks — stay).
fn action_from_form(
    form: &FormData,
    base: Option<&ActionFields>,
) -> Result<ActionFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let title = required::<Title>(form, "title", "say what will be done", &mut e);
    let category = required::<Question>(form, "category", "which question does it answer?", &mut e);
    let owner = required::<Name>(
        form,
        "owner",
        "every action needs an owner, a person or a team",
        &mut e,
    );
    let check_in = match form.get("check_in").trim() {
        "" => {
            e.push((
                "check_in".into(),
                "is required: when will the owner report progress?".into(),
            ));
            None
        }
        d => debrief_core::time::parse_date(d)
            .map_err(|x| e.push(("check_in".into(), x.message)))
            .ok(),
    };
    let due = match form.get("due").trim() {
        "" => None,
        d => debrief_core::time::parse_date(d)
            .map_err(|x| e.push(("due".into(), x.message)))
            .ok(),
    };
    let priority = match form.get("priority").trim() {
        "" => Some(Priority::Medium),
        p => p
            .parse::<Priority>()
            .map_err(|x| e.push(("priority".into(), x.message)))
            .ok(),
    };
    let reason = form.get("reason").trim();
    let status = match form.get("status").trim() {
        "" | "open" => Some(ActionStatus::Open),
        "in_progress" => Some(ActionStatus::InProgress),
        "done" => Some(ActionStatus::Done),
        "declined" => {
            if reason.is_empty() {
                e.push((
                    "reason".into(),
                    "is required: say why the action is declined".into(),
                ));
                None
            } else {
                reason
                    .parse::<Line>()
                    .map(|reason| ActionStatus::Declined { reason })
                    .map_err(|x| e.push(("reason".into(), x.message)))
                    .ok()
            }
        }
        other => {
            e.push((
                "status".into(),
                format!("{other:?} is not an action status"),
            ));
            None
        }
    };
    let description = free_text("description", form.get("description"), &mut e);
    let estimated_cost = opt_line("estimated_cost", form.get("estimated_cost"), &mut e);
    let tracker = match form.get("tracker").trim() {
        "" => None,
        t => t
            .parse::<Url>()
            .map_err(|x| e.push(("tracker".into(), x.message)))
            .ok(),
    };
    let (
        Some(title),
        Some(category),
        Some(owner),
        Some(check_in),
        Some(priority),
        Some(status),
        true,
    ) = (
        title,
        category,
        owner,
        check_in,
        priority,
        status,
        e.is_empty(),
    )
    else {
        return Err(e);
    };
    let mut a = match base {
        Some(b) => b.clone(),
        None => ActionFields::new(title.clone(), category, owner.clone(), check_in),
    };
    a.title = title;
    a.category = category;
    a.owner = owner;
    a.check_in = check_in;
    a.due = due;
    a.priority = priority;
    a.status = status;
    a.description = description;
    a.volunteer = form.has("volunteer");
    a.estimated_cost = estimated_cost;
    a.tracker = tracker;
    a.validate()
        .map_err(|x| vec![(x.field.clone(), x.message)])?;
    Ok(a)
}

fn participant_values(p: &ParticipantFields) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("name".into(), p.name.to_string());
    m.insert(
        "contact".into(),
        p.contact.as_ref().map(Line::to_string).unwrap_or_default(),
    );
    m.insert("role".into(), p.role.to_string());
    m.insert("invited".into(), if p.invited { "on" } else { "" }.into());
    m.insert("attended".into(), if p.attended { "on" } else { "" }.into());
    m.insert("circumstances".into(), p.circumstances.clone());
    m
}

fn participant_from_form(form: &FormData, adding: bool) -> Result<ParticipantFields, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = required::<Name>(form, "name", "who took part?", &mut e);
    let role = required::<Role>(form, "role", "their role in the incident", &mut e);
    let contact = opt_line("contact", form.get("contact"), &mut e);
    let circumstances = free_text("circumstances", form.get("circumstances"), &mut e);
    let (Some(name), Some(role), true) = (name, role, e.is_empty()) else {
        return Err(e);
    };
    let mut p = ParticipantFields::new(name, role);
    p.contact = contact;
    p.circumstances = circumstances;
    // A new participant gets their role's invitation default unless the form says otherwise.
    p.invited = if adding {
        match form.get("invited_choice") {
            "yes" => true,
            "no" => false,
            _ => role.invited_by_default(),
        }
    } else {
        form.has("invited")
    };
    p.attended = form.has("attended");
    p.validate()
        .map_err(|x| vec![(x.field.clone(), x.message)])?;
    Ok(p)
}

fn status_label_of(name: &str) -> String {
    name.parse::<Status>()
        .map(view::status_label)
        .unwrap_or_default()
        .to_owned()
}

fn durations(r: &Readiness) -> Vec<Duration_> {
    let d = &r.durations;
    [
        ("Time to detect", d.time_to_detect),
        ("Time to acknowledge", d.time_to_acknowledge),
        ("Time to mitigate", d.time_to_mitigate),
        ("Time to resolve", d.time_to_resolve),
    ]
    .into_iter()
    .map(|(label, v)| Duration_ {
        label,
        value: v.map(human_duration).unwrap_or_else(|| "—".to_owned()),
    })
    .collect()
}

fn transitions(status: Status) -> Vec<Transition> {
    let order = Status::ALL;
    let i = order.iter().position(|s| *s == status).unwrap_or(0);
    let mut out = Vec::new();
    if let Some(next) = order.get(i + 1) {
        out.push(Transition {
            to: next.to_string(),
            label: match next {
                Status::InReview => "Ready for review".to_owned(),
                Status::Published => "Publish".to_owned(),
                Status::Closed => "Close".to_owned(),
                Status::Draft => "Back to draft".to_owned(),
            },
            forward: true,
        });
    }
    if i > 0 {
        let back = order[i - 1];
        out.push(Transition {
            to: back.to_string(),
            label: format!("Back to {}", view::status_label(back).to_lowercase()),
            forward: false,
        });
    }
    out
}

/// What the page shows besides the postmortem's own fields.
struct Parts {
    events: Vec<TimelineEvent>,
    actions: Vec<ActionItem>,
    participants: Vec<Participant>,
    revisions: Vec<Revision>,
}

async fn load_parts(
    state: &AppState,
    key: debrief_core::Key,
    include_hidden: bool,
) -> Result<Parts, ApiError> {
    let store = state.store();
    Ok(Parts {
        events: store
            .list_events(key, EventQuery { include_hidden })
            .await?,
        actions: store
            .list_actions(&ActionFilter {
                postmortem: Some(key),
                ..ActionFilter::default()
            })
            .await?,
        participants: store.list_participants(key).await?,
        revisions: store.revisions(key).await?,
    })
}

/// Builds the whole page for this caller, with `outcome` describing a form to draw again.
async fn page_view(
    state: &AppState,
    caller: &Caller,
    pm: &Postmortem,
    outcome: &Outcome_,
) -> Result<PmPage, ApiError> {
    let can_write = caller.can_write();
    let parts = load_parts(state, pm.key, can_write).await?;
    let today = crate::api::actions::today(state);
    Ok(build_page(
        state,
        Nav::of(Some(caller), ""),
        can_write,
        today,
        pm,
        &parts,
        outcome,
    ))
}

/// The page of `pm` as a reader with `nav` and `can_write` sees it on `today`.
fn build_page(
    state: &AppState,
    nav: Nav,
    can_write: bool,
    today: jiff::civil::Date,
    pm: &Postmortem,
    parts: &Parts,
    outcome: &Outcome_,
) -> PmPage {
    let zone = &state.config().zone;
    let Parts {
        events,
        actions,
        participants,
        revisions,
    } = parts;
    let readiness = readiness_of(pm, events, participants);

    let form_for = |id: &str, values: HashMap<String, String>, version: i64, base: String| -> F {
        let mine = outcome.form == id;
        F {
            id: id.to_owned(),
            values: match (&outcome.typed, mine) {
                (Some(t), true) => typed_values(t),
                _ => values,
            },
            errors: if mine {
                outcome.errors.iter().cloned().collect()
            } else {
                HashMap::new()
            },
            open: mine,
            theirs: if mine {
                outcome.theirs.clone()
            } else {
                Vec::new()
            },
            version: if mine {
                outcome.version.unwrap_or(version)
            } else {
                version
            },
            base: if mine {
                outcome.base.clone().unwrap_or(base)
            } else {
                base
            },
            message: if mine {
                outcome.message.clone()
            } else {
                String::new()
            },
        }
    };

    let sections = SECTIONS
        .iter()
        .map(|s| {
            let id = format!("section-{s}");
            (
                (*s).to_owned(),
                form_for(
                    &id,
                    section_values(s, &pm.fields, zone),
                    pm.version.0,
                    fingerprint(&section_part(s, &pm.fields)),
                ),
            )
        })
        .collect();

    let mut people: Vec<String> = Vec::new();
    for e in events {
        if let Some(who) = &e.fields.account_of
            && !e.fields.account.is_empty()
            && !people.contains(&who.to_string())
        {
            people.push(who.to_string());
        }
    }
    let mut account_rows: Vec<AccountRow> = Vec::new();
    for e in events.iter().filter(|e| !e.fields.hidden) {
        let Some(who) = &e.fields.account_of else {
            continue;
        };
        if e.fields.account.is_empty() {
            continue;
        }
        let time = view::moment(&e.fields.happened_at, zone);
        let col = people.iter().position(|p| p == who.as_str()).unwrap_or(0);
        let cell = account_html(&e.fields);
        match account_rows
            .iter_mut()
            .find(|r| r.time == time && r.cells[col].is_empty())
        {
            Some(r) => r.cells[col] = cell,
            None => {
                let mut cells = vec![String::new(); people.len()];
                cells[col] = cell;
                account_rows.push(AccountRow {
                    time,
                    what: e.fields.description.to_string(),
                    cells,
                });
            }
        }
    }

    let event_rows = events
        .iter()
        .map(|e| {
            let f = &e.fields;
            EventRow {
                id: e.id.0,
                time: view::moment(&f.happened_at, zone),
                kind: f.kind.to_string(),
                milestone: f
                    .milestone
                    .map(|m| view::words(m.as_str()))
                    .unwrap_or_default(),
                actor: f
                    .actor
                    .as_ref()
                    .map(|a| a.name.to_string())
                    .unwrap_or_default(),
                description: markdown::render(f.description.as_str()),
                source: if f.source.as_str() == "manual" {
                    String::new()
                } else {
                    f.source.to_string()
                },
                account_of: f
                    .account_of
                    .as_ref()
                    .map(Name::to_string)
                    .unwrap_or_default(),
                knew: f.account.knew.clone(),
                expected: f.account.expected.clone(),
                assumed: f.account.assumed.clone(),
                has_account: !f.account.is_empty(),
                outcome: f.outcome.map(|o| o.to_string()).unwrap_or_default(),
                differently: f.differently.clone(),
                hidden: f.hidden,
                pinned: f.pinned,
                form: form_for(
                    &format!("event-{}", e.id.0),
                    event_values(f, zone),
                    e.version.0,
                    String::new(),
                ),
            }
        })
        .collect();

    let action_views = actions
        .iter()
        .map(|a| {
            let f = &a.fields;
            ActionView {
                id: a.id.0,
                title: f.title.to_string(),
                description: markdown::render(&f.description),
                category: view::words(f.category.as_str()),
                owner: f.owner.to_string(),
                check_in: f.check_in.to_string(),
                due: f.due.map(|d| d.to_string()).unwrap_or_default(),
                priority: f.priority.to_string(),
                status: f.status.name().to_owned(),
                reason: match &f.status {
                    ActionStatus::Declined { reason } => reason.to_string(),
                    _ => String::new(),
                },
                overdue: !f.status.is_finished() && f.check_in < today,
                volunteer: f.volunteer,
                tracker: f
                    .tracker
                    .as_ref()
                    .map(Url::to_string)
                    .filter(|u| markdown::safe_url(u))
                    .unwrap_or_default(),
                progress: a
                    .progress
                    .iter()
                    .map(|p| {
                        (
                            view::instant(p.at, zone),
                            p.author.to_string(),
                            p.note.to_string(),
                        )
                    })
                    .collect(),
                form: form_for(
                    &format!("action-{}", a.id.0),
                    action_values(f),
                    a.version.0,
                    String::new(),
                ),
                progress_form: form_for(
                    &format!("progress-{}", a.id.0),
                    HashMap::new(),
                    a.version.0,
                    String::new(),
                ),
            }
        })
        .collect();

    let participant_views = participants
        .iter()
        .map(|p| ParticipantView {
            id: p.id.0,
            name: p.fields.name.to_string(),
            contact: p
                .fields
                .contact
                .as_ref()
                .map(Line::to_string)
                .unwrap_or_default(),
            role: view::words(p.fields.role.as_str()),
            invited: p.fields.invited,
            attended: p.fields.attended,
            circumstances: p.fields.circumstances.clone(),
            form: form_for(
                &format!("participant-{}", p.id.0),
                participant_values(&p.fields),
                p.version.0,
                String::new(),
            ),
        })
        .collect();

    let latest_pm_revision = revisions
        .iter()
        .filter(|r| r.entity == Entity::Postmortem)
        .map(|r| r.id)
        .max();
    let revision_rows = revisions
        .iter()
        .rev()
        .map(|r: &Revision| RevisionRow {
            id: r.id,
            at: view::instant(r.at, zone),
            actor: r.actor.clone(),
            entity: match r.entity_id {
                Some(id) => format!("{} {id}", r.entity),
                None => r.entity.to_string(),
            },
            summary: r.summary.clone(),
            fields: r
                .changes
                .iter()
                .map(|c| {
                    if c.field.is_empty() {
                        "everything".to_owned()
                    } else {
                        c.field.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
            restorable: can_write
                && r.entity == Entity::Postmortem
                && Some(r.id) != latest_pm_revision
                && r.changes.iter().any(|c| c.field != "status"),
        })
        .collect();

    let p = &pm.fields;
    let mut ideas: Vec<(String, Vec<String>)> = Vec::new();
    for q in Question::ALL {
        let texts: Vec<String> = p
            .ideas
            .iter()
            .filter(|i| i.question == *q)
            .map(|i| i.text.to_string())
            .collect();
        ideas.push((q.prompt().to_owned(), texts));
    }
    let mut meeting = Vec::new();
    if let Some(at) = &p.meeting.scheduled_at {
        meeting.push(("When".to_owned(), view::moment(at, zone)));
    }
    if let Some(l) = &p.meeting.location {
        meeting.push(("Where".to_owned(), l.to_string()));
    }
    if let Some(f) = &p.meeting.facilitator {
        meeting.push(("Facilitator".to_owned(), f.to_string()));
    }

    let blank_event = {
        let mut m = HashMap::new();
        m.insert("kind".to_owned(), "action".to_owned());
        m
    };
    let blank_action = {
        let mut m = HashMap::new();
        m.insert("priority".to_owned(), "medium".to_owned());
        m.insert("category".to_owned(), "prevent".to_owned());
        m
    };
    let blank_participant = {
        let mut m = HashMap::new();
        m.insert("role".to_owned(), "responder".to_owned());
        m
    };

    PmPage {
        nav,
        key: pm.key.to_string(),
        version: pm.version.0,
        title: p.title.to_string(),
        status: pm.status.to_string(),
        status_label: view::status_label(pm.status),
        severity: p.severity.to_string(),
        services: p.services.iter().map(Label::to_string).collect(),
        tags: p.tags.iter().map(Label::to_string).collect(),
        incident_cost: p
            .incident_cost
            .as_ref()
            .map(Line::to_string)
            .unwrap_or_default(),
        created: view::instant(pm.created_at, zone),
        updated: view::instant(pm.updated_at, zone),
        can_write,
        zone: zone.to_string(),
        summary_html: markdown::render(&p.summary),
        impact_html: markdown::render(&p.impact),
        notes_html: markdown::render(&p.notes),
        moments: KeyMoment::ALL
            .iter()
            .map(|k| {
                (
                    view::words(k.as_str()),
                    view::opt_moment(p.key_moments.get(*k), zone),
                )
            })
            .collect(),
        durations: durations(&readiness),
        regret: markdown::render(&p.customer_statement.regret),
        reason: markdown::render(&p.customer_statement.reason),
        remedy: markdown::render(&p.customer_statement.remedy),
        factors: p
            .factors
            .iter()
            .map(|f| (view::words(f.category.as_str()), f.text.to_string()))
            .collect(),
        lessons: LessonKind::ALL
            .iter()
            .map(|k| {
                (
                    k.prompt().to_owned(),
                    p.lessons.of(*k).iter().map(Line::to_string).collect(),
                )
            })
            .collect(),
        ideas,
        links: p
            .links
            .iter()
            .filter(|l| markdown::safe_url(l.url.as_str()))
            .map(|l| {
                (
                    view::words(l.kind.as_str()),
                    l.url.to_string(),
                    l.title
                        .as_ref()
                        .map_or_else(|| l.url.to_string(), Line::to_string),
                )
            })
            .collect(),
        meeting,
        meeting_notes_html: markdown::render(&p.meeting.notes),
        hidden_count: events.iter().filter(|e| e.fields.hidden).count(),
        events: event_rows,
        account_people: people,
        account_rows,
        actions: action_views,
        follow_through: if actions.is_empty() {
            String::new()
        } else {
            view::Measure::of(&debrief_core::followthrough::measure(
                actions.iter(),
                today,
                zone.tz(),
            ))
            .line()
        },
        participants: participant_views,
        revisions: revision_rows,
        lint: lint_rows(state, pm, events, actions, participants),
        readiness,
        transitions: if can_write {
            transitions(pm.status)
        } else {
            Vec::new()
        },
        status_error: if outcome.form == "status" {
            outcome.message.clone()
        } else {
            String::new()
        },
        sections,
        new_event: form_for("new-event", blank_event, 0, String::new()),
        new_action: form_for("new-action", blank_action, 0, String::new()),
        new_participant: form_for("new-participant", blank_participant, 0, String::new()),
        kinds: names(EventKind::ALL, EventKind::as_str),
        milestones: names(KeyMoment::ALL, KeyMoment::as_str),
        outcomes: names(Outcome::ALL, Outcome::as_str),
        questions: names(Question::ALL, Question::as_str),
        priorities: names(Priority::ALL, Priority::as_str),
        action_statuses: vec!["open", "in_progress", "done", "declined"],
        roles: names(Role::ALL, Role::as_str),
        severities: (1..=Severity::DEFAULT_LEVELS)
            .map(|n| format!("SEV{n}"))
            .collect(),
        factor_categories: FactorCategory::DEFAULTS.join(", "),
        question_names: Question::ALL
            .iter()
            .map(|q| q.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        link_kinds: debrief_core::LinkKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn account_html(e: &EventFields) -> String {
    let mut out = String::new();
    for (label, text) in [
        ("Knew", &e.account.knew),
        ("Expected", &e.account.expected),
        ("Assumed", &e.account.assumed),
    ] {
        if !text.is_empty() {
            out.push_str(&format!(
                "<p><strong>{label}:</strong></p>{}",
                markdown::render(text)
            ));
        }
    }
    out
}

fn key_of(raw: &str) -> Result<debrief_core::Key, ApiError> {
    crate::api::key(raw)
}

/// The page, with a form drawn again after a problem.
async fn respond(
    state: &AppState,
    caller: &Caller,
    pm: &Postmortem,
    status: StatusCode,
    outcome: Outcome_,
) -> Response {
    match page_view(state, caller, pm, &outcome).await {
        Ok(page) => render(status, &page),
        Err(e) => error_page(&e, Some(caller)),
    }
}

/// Back to the page, at the anchor of what was just saved.
fn saved(key: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/pm/{key}#{anchor}")).into_response()
}

/// Checks CSRF and the editor role; loads the postmortem the caller may see.
async fn prepare(
    state: &AppState,
    caller: &Caller,
    form: &FormData,
    key: &str,
) -> Result<Postmortem, Response> {
    form.check_csrf(caller)?;
    caller
        .require(Access::Write)
        .map_err(|e| error_page(&e, Some(caller)))?;
    let key = key_of(key).map_err(|e| error_page(&e, Some(caller)))?;
    visible(state, caller, key)
        .await
        .map_err(|e| error_page(&e, Some(caller)))
}

fn version_of(form: &FormData) -> Version {
    Version(form.get("version").parse().unwrap_or(0))
}

/// The values of a record as "label: value" lines, to show beside the user's version.
fn theirs(values: HashMap<String, String>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = values
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (view::words(&k), v))
        .collect();
    v.sort();
    v
}

const CONFLICT: &str = "Someone else saved a change here while you were editing. Your text is \
                        still in the form; their version is shown beside it. Merge what you \
                        want to keep and save again.";

// ---------------------------------------------------------------------------------------------
// Handlers.

/// `?edit=event-12` opens that event's editor (event editors are drawn only when asked for, so a
/// long timeline stays a light page).
#[derive(Debug, Default, serde::Deserialize)]
pub struct EditQuery {
    pub edit: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(key): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EditQuery>,
) -> Response {
    let key = match key_of(&key) {
        Ok(k) => k,
        Err(e) => return error_page(&e, Some(&caller)),
    };
    let edit = q.edit.unwrap_or_default();
    if edit.is_empty() {
        return match cached_page(&state, &caller, key).await {
            Ok(html) => (StatusCode::OK, axum::response::Html(html)).into_response(),
            Err(e) => error_page(&e, Some(&caller)),
        };
    }
    // A form opened on request is this reader's own page: drawn for them alone.
    match visible(&state, &caller, key).await {
        Ok(pm) => {
            let outcome = Outcome_ {
                form: edit,
                ..Outcome_::default()
            };
            respond(&state, &caller, &pm, StatusCode::OK, outcome).await
        }
        Err(e) => error_page(&e, Some(&caller)),
    }
}

/// The page as `caller` sees it, drawn once per revision of the postmortem, role and day and
/// kept (see [`crate::cache`]); the caller's CSRF token and name are filled in.
async fn cached_page(
    state: &AppState,
    caller: &Caller,
    key: debrief_core::Key,
) -> Result<String, ApiError> {
    // The revision first: what is read after it is at least as new.
    let mark = state.store().latest_revision(key).await?;
    let slot = state.docs().slot(key, mark);
    let variant = PageVariant {
        role: caller.user.role,
        today: crate::api::actions::today(state),
    };
    let page = state
        .docs()
        .page(&slot, variant, async {
            let pm = state.store().get_postmortem(key).await?;
            let mut parts = load_parts(state, key, true).await?;
            let seen = Seen {
                status: pm.status,
                participants: parts
                    .participants
                    .iter()
                    .map(|p| p.fields.clone())
                    .collect(),
            };
            let can_write = variant.role.allows(Access::Write);
            if !can_write {
                parts.events.retain(|e| !e.fields.hidden);
            }
            let (csrf, user) = PageBody::markers();
            let nav = Nav {
                signed_in: true,
                user: user.to_owned(),
                role: variant.role.to_string(),
                is_admin: variant.role == UserRole::Admin,
                can_write,
                csrf: csrf.to_owned(),
                current: "",
            };
            let view = build_page(
                state,
                nav,
                can_write,
                variant.today,
                &pm,
                &parts,
                &Outcome_::default(),
            );
            let html = view
                .render()
                .map_err(|e| ApiError::internal(format!("template: {e}")))?;
            Ok(PageBody::cut(seen, &html))
        })
        .await?;
    if page.seen.visible_to(caller) {
        Ok(page.fill(caller.csrf(), caller.user.name.as_str()))
    } else {
        Err(ApiError::not_found(format!("postmortem {key}")))
    }
}

#[derive(Template)]
#[template(path = "new.html")]
struct NewPage {
    nav: Nav,
    severities: Vec<Choice>,
    title: String,
    started: String,
    summary: String,
    zone: String,
    errors: HashMap<String, String>,
}

impl NewPage {
    fn e(&self, name: &str) -> &str {
        self.errors.get(name).map_or("", String::as_str)
    }
}

fn severity_names() -> Vec<String> {
    (1..=Severity::DEFAULT_LEVELS)
        .map(|n| format!("SEV{n}"))
        .collect()
}

pub async fn new_page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    if let Err(e) = caller.require(Access::Write) {
        return error_page(&e, Some(&caller));
    }
    let sev = severity_names();
    let refs: Vec<&str> = sev.iter().map(String::as_str).collect();
    render(
        StatusCode::OK,
        &NewPage {
            nav: Nav::of(Some(&caller), "new"),
            severities: view::choices(&refs, "SEV3"),
            title: String::new(),
            started: String::new(),
            summary: String::new(),
            zone: state.config().zone.to_string(),
            errors: HashMap::new(),
        },
    )
}

pub async fn create(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    if let Err(e) = caller.require(Access::Write) {
        return error_page(&e, Some(&caller));
    }
    let zone = &state.config().zone;
    let mut errors = FieldErrors::new();
    let title = required::<Title>(&form, "title", "what happened, in a few words", &mut errors);
    let severity = required::<Severity>(&form, "severity", "how bad was it?", &mut errors);
    let started = opt_moment("started", form.get("started"), zone, &mut errors);
    let summary = free_text("summary", form.get("summary"), &mut errors);
    let (Some(title), Some(severity), true) = (title, severity, errors.is_empty()) else {
        let sev = severity_names();
        let refs: Vec<&str> = sev.iter().map(String::as_str).collect();
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewPage {
                nav: Nav::of(Some(&caller), "new"),
                severities: view::choices(&refs, form.get("severity")),
                title: form.get("title").to_owned(),
                started: form.get("started").to_owned(),
                summary: form.get("summary").to_owned(),
                zone: zone.to_string(),
                errors: errors.into_iter().collect(),
            },
        );
    };
    let mut fields = PostmortemFields::new(title, severity);
    fields.summary = summary;
    fields.key_moments.started = started;
    match state
        .store()
        .create_postmortem(caller.actor(), fields)
        .await
    {
        Ok(pm) => Redirect::to(&format!("/pm/{}", pm.key)).into_response(),
        Err(e) => error_page(&e.into(), Some(&caller)),
    }
}

pub async fn edit_section(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((key, section)): Path<(String, String)>,
    form: FormData,
) -> Response {
    let current = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    if !SECTIONS.contains(&section.as_str()) {
        return error_page(
            &ApiError::not_found(format!("section {section:?}")),
            Some(&caller),
        );
    }
    let zone = state.config().zone.clone();
    let form_id = format!("section-{section}");
    let mut current = current;
    for _attempt in 0..3 {
        let mut fields = current.fields.clone();
        if let Err(errors) = apply_section(&section, &form, &mut fields, &zone) {
            return invalid(&state, &caller, &current, &form_id, form, errors).await;
        }
        let untouched = current.version == version_of(&form)
            || fingerprint(&section_part(&section, &current.fields)) == form.get("base");
        if !untouched {
            return respond(
                &state,
                &caller,
                &current,
                StatusCode::CONFLICT,
                Outcome_ {
                    form: form_id,
                    typed: Some(form),
                    message: CONFLICT.to_owned(),
                    theirs: theirs(section_values(&section, &current.fields, &zone)),
                    version: Some(current.version.0),
                    base: Some(fingerprint(&section_part(&section, &current.fields))),
                    ..Outcome_::default()
                },
            )
            .await;
        }
        match state
            .store()
            .update_postmortem(caller.actor(), current.key, current.version, fields)
            .await
        {
            Ok(_) => return saved(&key, &section),
            // Someone saved between our read and our write: look again.
            Err(StoreError::Conflict { .. }) => {
                match state.store().get_postmortem(current.key).await {
                    Ok(pm) => current = pm,
                    Err(e) => return error_page(&e.into(), Some(&caller)),
                }
            }
            Err(e) => {
                let e: ApiError = e.into();
                return respond(
                    &state,
                    &caller,
                    &current,
                    e.status,
                    Outcome_ {
                        form: form_id,
                        typed: Some(form),
                        errors: e
                            .field
                            .clone()
                            .map(|f| vec![(f, e.message.clone())])
                            .unwrap_or_default(),
                        message: if e.field.is_none() {
                            e.message
                        } else {
                            String::new()
                        },
                        ..Outcome_::default()
                    },
                )
                .await;
            }
        }
    }
    error_page(
        &ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the postmortem is being changed very often right now; reload and try again",
        ),
        Some(&caller),
    )
}

pub async fn status(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let to = match form.get("to").parse::<Status>() {
        Ok(s) => s,
        Err(e) => return error_page(&ApiError::invalid("to", e.message), Some(&caller)),
    };
    // A status move does not touch anything anyone typed, so it applies to the current version.
    match state
        .store()
        .change_status(caller.actor(), pm.key, pm.version, to)
        .await
    {
        Ok(_) => saved(&key, "status"),
        Err(e) => {
            let e: ApiError = e.into();
            let message = format!(
                "Could not move to {}: {}",
                status_label_of(to.as_str()),
                e.message
            );
            status_problem(&state, &caller, &pm, e.status, message).await
        }
    }
}

pub async fn restore(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let revision: i64 = form.get("revision").parse().unwrap_or(0);
    let result = async {
        let revisions = state.store().revisions(pm.key).await?;
        let fields = fields_at(&pm.fields, &revisions, revision)?;
        state
            .store()
            .update_postmortem(caller.actor(), pm.key, version_of(&form), fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => saved(&key, "history"),
        Err(e) => {
            let message = if e.status == StatusCode::CONFLICT {
                "The postmortem changed since you opened this page; look at the history again before restoring.".to_owned()
            } else {
                e.message.clone()
            };
            status_problem(&state, &caller, &pm, e.status, message).await
        }
    }
}

pub async fn add_event(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let event = match event_from_form(&form, None, &state.config().zone) {
        Ok(e) => e,
        Err(errors) => {
            return invalid(&state, &caller, &pm, "new-event", form, errors).await;
        }
    };
    match state.store().add_event(caller.actor(), pm.key, event).await {
        Ok(e) => saved(&key, &format!("event-{}", e.id.0)),
        Err(e) => store_failure(&state, &caller, &pm, "new-event", form, e).await,
    }
}

/// The page again, with a problem shown in the status panel (a refused status move or restore).
async fn status_problem(
    state: &AppState,
    caller: &Caller,
    pm: &Postmortem,
    status: StatusCode,
    message: String,
) -> Response {
    let outcome = Outcome_ {
        form: "status".into(),
        message,
        ..Outcome_::default()
    };
    respond(state, caller, pm, status, outcome).await
}

/// Draws a form again with the problems of what was typed (422).
async fn invalid(
    state: &AppState,
    caller: &Caller,
    pm: &Postmortem,
    form_id: &str,
    form: FormData,
    errors: FieldErrors,
) -> Response {
    let outcome = Outcome_ {
        form: form_id.to_owned(),
        typed: Some(form),
        errors,
        ..Outcome_::default()
    };
    respond(state, caller, pm, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
}

/// Draws a form again after someone else saved the same record (409): the user's text stays in
/// the form, theirs is shown beside it, and the form now edits the current version.
async fn conflicted(
    state: &AppState,
    caller: &Caller,
    pm: &Postmortem,
    form_id: &str,
    form: FormData,
    theirs: Vec<(String, String)>,
    version: Option<i64>,
) -> Response {
    let outcome = Outcome_ {
        form: form_id.to_owned(),
        typed: Some(form),
        message: CONFLICT.to_owned(),
        theirs,
        version,
        ..Outcome_::default()
    };
    respond(state, caller, pm, StatusCode::CONFLICT, outcome).await
}

/// Draws the form again with the store's refusal.
async fn store_failure(
    state: &AppState,
    caller: &Caller,
    pm: &Postmortem,
    form_id: &str,
    form: FormData,
    e: StoreError,
) -> Response {
    let e: ApiError = e.into();
    if e.status.is_server_error() {
        return error_page(&e, Some(caller));
    }
    respond(
        state,
        caller,
        pm,
        e.status,
        Outcome_ {
            form: form_id.to_owned(),
            typed: Some(form),
            errors: e
                .field
                .clone()
                .map(|f| {
                    vec![(
                        f.rsplit('.').next().unwrap_or_default().to_owned(),
                        e.message.clone(),
                    )]
                })
                .unwrap_or_default(),
            message: if e.field.is_none() {
                e.message.clone()
            } else {
                String::new()
            },
            ..Outcome_::default()
        },
    )
    .await
}

async fn find_event(state: &AppState, pm: &Postmortem, id: i64) -> Result<TimelineEvent, ApiError> {
    state
        .store()
        .list_events(
            pm.key,
            EventQuery {
                include_hidden: true,
            },
        )
        .await?
        .into_iter()
        .find(|e| e.id.0 == id)
        .ok_or_else(|| ApiError::not_found(format!("event {id} in {}", pm.key)))
}

pub async fn edit_event(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((key, id)): Path<(String, i64)>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let zone = state.config().zone.clone();
    let current = match find_event(&state, &pm, id).await {
        Ok(e) => e,
        Err(e) => return error_page(&e, Some(&caller)),
    };
    let form_id = format!("event-{id}");
    let fields = match event_from_form(&form, Some(&current.fields), &zone) {
        Ok(f) => f,
        Err(errors) => {
            return invalid(&state, &caller, &pm, &form_id, form, errors).await;
        }
    };
    match state
        .store()
        .edit_event(
            caller.actor(),
            pm.key,
            EventId(id),
            version_of(&form),
            fields,
        )
        .await
    {
        Ok(_) => saved(&key, &form_id),
        Err(StoreError::Conflict { .. }) => {
            let now = find_event(&state, &pm, id).await.ok();
            conflicted(
                &state,
                &caller,
                &pm,
                &form_id,
                form,
                now.as_ref()
                    .map(|e| theirs(event_values(&e.fields, &zone)))
                    .unwrap_or_default(),
                now.map(|e| e.version.0),
            )
            .await
        }
        Err(e) => store_failure(&state, &caller, &pm, &form_id, form, e).await,
    }
}

/// Hide/show and pin/unpin: small changes that apply to the current version of the event.
pub async fn event_flags(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((key, id)): Path<(String, i64)>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let result = async {
        let current = find_event(&state, &pm, id).await?;
        match form.get("flag") {
            "hide" | "show" => {
                state
                    .store()
                    .set_event_hidden(
                        caller.actor(),
                        pm.key,
                        current.id,
                        form.get("flag") == "hide",
                    )
                    .await?;
            }
            "pin" | "unpin" => {
                let mut f = current.fields.clone();
                f.pinned = form.get("flag") == "pin";
                state
                    .store()
                    .edit_event(caller.actor(), pm.key, current.id, current.version, f)
                    .await?;
            }
            other => {
                return Err(ApiError::invalid(
                    "flag",
                    format!("{other:?} is not one of hide, show, pin, unpin"),
                ));
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => saved(&key, &format!("event-{id}")),
        Err(e) => error_page(&e, Some(&caller)),
    }
}

pub async fn add_action(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let action = match action_from_form(&form, None) {
        Ok(a) => a,
        Err(errors) => {
            return invalid(&state, &caller, &pm, "new-action", form, errors).await;
        }
    };
    match state
        .store()
        .add_action(caller.actor(), pm.key, action)
        .await
    {
        Ok(a) => saved(&key, &format!("action-{}", a.id.0)),
        Err(e) => store_failure(&state, &caller, &pm, "new-action", form, e).await,
    }
}

async fn action_of(state: &AppState, pm: &Postmortem, id: i64) -> Result<ActionItem, ApiError> {
    let a = state.store().get_action(ActionId(id)).await?;
    if a.postmortem == pm.key {
        Ok(a)
    } else {
        Err(ApiError::not_found(format!("action {id} in {}", pm.key)))
    }
}

pub async fn edit_action(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((key, id)): Path<(String, i64)>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let current = match action_of(&state, &pm, id).await {
        Ok(a) => a,
        Err(e) => return error_page(&e, Some(&caller)),
    };
    let form_id = format!("action-{id}");
    let action = match action_from_form(&form, Some(&current.fields)) {
        Ok(a) => a,
        Err(errors) => {
            return invalid(&state, &caller, &pm, &form_id, form, errors).await;
        }
    };
    match state
        .store()
        .update_action(caller.actor(), ActionId(id), version_of(&form), action)
        .await
    {
        Ok(_) => saved(&key, &form_id),
        Err(StoreError::Conflict { .. }) => {
            let now = action_of(&state, &pm, id).await.ok();
            conflicted(
                &state,
                &caller,
                &pm,
                &form_id,
                form,
                now.as_ref()
                    .map(|a| theirs(action_values(&a.fields)))
                    .unwrap_or_default(),
                now.map(|a| a.version.0),
            )
            .await
        }
        Err(e) => store_failure(&state, &caller, &pm, &form_id, form, e).await,
    }
}

pub async fn progress(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((key, id)): Path<(String, i64)>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    if let Err(e) = action_of(&state, &pm, id).await {
        return error_page(&e, Some(&caller));
    }
    let form_id = format!("progress-{id}");
    let mut errors = FieldErrors::new();
    let note = required::<Line>(
        &form,
        "note",
        "what measurable progress was made?",
        &mut errors,
    );
    let new_check_in = match form.get("new_check_in").trim() {
        "" => None,
        d => debrief_core::time::parse_date(d)
            .map_err(|x| errors.push(("new_check_in".into(), x.message)))
            .ok(),
    };
    let (Some(note), true) = (note, errors.is_empty()) else {
        return invalid(&state, &caller, &pm, &form_id, form, errors).await;
    };
    let update = ProgressUpdate {
        at: state.now(),
        author: caller.user.name.clone(),
        note,
        new_check_in,
    };
    match state
        .store()
        .add_progress(caller.actor(), ActionId(id), update)
        .await
    {
        Ok(_) => saved(&key, &format!("action-{id}")),
        Err(e) => store_failure(&state, &caller, &pm, &form_id, form, e).await,
    }
}

pub async fn add_participant(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let p = match participant_from_form(&form, true) {
        Ok(p) => p,
        Err(errors) => {
            return invalid(&state, &caller, &pm, "new-participant", form, errors).await;
        }
    };
    match state
        .store()
        .add_participant(caller.actor(), pm.key, p)
        .await
    {
        Ok(p) => saved(&key, &format!("participant-{}", p.id.0)),
        Err(e) => store_failure(&state, &caller, &pm, "new-participant", form, e).await,
    }
}

pub async fn edit_participant(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((key, id)): Path<(String, i64)>,
    form: FormData,
) -> Response {
    let pm = match prepare(&state, &caller, &form, &key).await {
        Ok(pm) => pm,
        Err(r) => return r,
    };
    let form_id = format!("participant-{id}");
    let p = match participant_from_form(&form, false) {
        Ok(p) => p,
        Err(errors) => {
            return invalid(&state, &caller, &pm, &form_id, form, errors).await;
        }
    };
    match state
        .store()
        .update_participant(
            caller.actor(),
            pm.key,
            ParticipantId(id),
            version_of(&form),
            p,
        )
        .await
    {
        Ok(_) => saved(&key, &form_id),
        Err(StoreError::Conflict { .. }) => {
            let now: Option<Participant> = state
                .store()
                .list_participants(pm.key)
                .await
                .ok()
                .and_then(|all| all.into_iter().find(|p| p.id.0 == id));
            conflicted(
                &state,
                &caller,
                &pm,
                &form_id,
                form,
                now.as_ref()
                    .map(|p| theirs(participant_values(&p.fields)))
                    .unwrap_or_default(),
                now.map(|p| p.version.0),
            )
            .await
        }
        Err(e) => store_failure(&state, &caller, &pm, &form_id, form, e).await,
    }
}
