//! Webhooks: `/api/v1/hooks/{alertmanager,grafana,pagerduty,opsgenie,github,generic}`.
//!
//! Each hook is enabled by giving it a secret ([`HookConfig`]); a hook without one answers 404.
//! Every hook but GitHub's wants `Authorization: Bearer <secret>`; GitHub's checks
//! `X-Hub-Signature-256`, the HMAC-SHA256 of the body keyed with the secret. A wrong or missing
//! secret gets 401 before anything is read or written.
//!
//! **Alert hooks** (Alertmanager, Grafana, PagerDuty, Opsgenie) read the payload with
//! `debrief-import` and handle its alerts group by group (Alertmanager's and Grafana's `groupKey`,
//! PagerDuty's incident, Opsgenie's alert):
//!
//! - a group with an open postmortem (draft or in review, see
//!   [`open_to_alerts`](debrief_store::open_to_alerts)) gets the alerts' events appended;
//! - a group with none whose firing alerts pass the [draft rule](crate::state::DraftRule) opens a
//!   draft postmortem ([`draft_fields`]) through the store's insert-or-get
//!   ([`open_for_group`](debrief_store::Store::open_for_group)), so concurrent deliveries open one;
//! - a group with none that does not pass is acknowledged (202) and recorded nowhere.
//!
//! When a group resolves, its last resolved alert is recorded as the `resolved` milestone, which
//! sets the postmortem's resolved key moment; the first acknowledgement (PagerDuty, Opsgenie) of a
//! postmortem without one is recorded as the `acknowledged` milestone.
//!
//! **Event hooks** (GitHub `deployment_status`, generic JSON lines) never open a postmortem: they
//! append to the one named by `?postmortem=PM-n`, or to every open postmortem of `?service=NAME`.
//!
//! Handling is idempotent: events de-duplicate on (source, source id) in the store, and the group
//! → postmortem mapping is one row per group, so a delivery repeated (Alertmanager retries) adds
//! nothing.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use debrief_core::{
    EventFields, EventKind, Key, KeyMoment, Label, Moment, Postmortem, PostmortemFields, Severity,
    Source, Status, Title, Zone,
};
use debrief_import::{AlertBatch, AlertStatus, ErrorKind, ImportError, ImportReport, ParsedAlert};
use debrief_store::{MAX_GROUP_KEY_BYTES, PostmortemFilter};

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, DraftRule, HookSource};

/// The header GitHub signs its deliveries in.
pub const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
/// The header GitHub names the event in (`deployment_status`, `ping`, …).
pub const GITHUB_EVENT: &str = "x-github-event";

/// The six hooks.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/hooks/alertmanager", post(alertmanager))
        .route("/api/v1/hooks/grafana", post(grafana))
        .route("/api/v1/hooks/pagerduty", post(pagerduty))
        .route("/api/v1/hooks/opsgenie", post(opsgenie))
        .route("/api/v1/hooks/github", post(github))
        .route("/api/v1/hooks/generic", post(generic))
}

async fn alertmanager(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    receive(&state, HookSource::Alertmanager, req).await
}

async fn grafana(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    receive(&state, HookSource::Grafana, req).await
}

async fn pagerduty(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    receive(&state, HookSource::PagerDuty, req).await
}

async fn opsgenie(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    receive(&state, HookSource::Opsgenie, req).await
}

async fn github(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    receive(&state, HookSource::GitHub, req).await
}

async fn generic(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    receive(&state, HookSource::Generic, req).await
}

/// What a hook answers: the postmortem written to (`null` when none), whether the delivery
/// opened it, and what happened to the events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookAnswer {
    /// The postmortem the events went to (the first, when a delivery held several groups).
    pub postmortem: Option<String>,
    /// Whether this delivery opened a draft postmortem.
    pub created: bool,
    /// Events added to a timeline.
    pub added: usize,
    /// Events that were already there (a repeated delivery).
    pub already_present: usize,
    /// Alerts or events recorded nowhere: their group has no open postmortem and did not pass the
    /// draft rule, or the hook's URL names no postmortem.
    pub ignored: usize,
    /// Alerts or rows the parser refused, with where and why.
    pub rejected: Vec<RejectedItem>,
    /// Every postmortem written to.
    pub postmortems: Vec<String>,
    /// What the parser noted (retries kept once, alerts left out by the sender, …).
    pub notes: Vec<String>,
    /// What happened, in a sentence.
    pub message: String,
}

/// One refused alert or row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedItem {
    pub location: String,
    pub reason: String,
}

impl HookAnswer {
    fn status(&self) -> StatusCode {
        if self.created {
            StatusCode::CREATED
        } else if self.postmortems.is_empty() {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        }
    }

    fn touched(&mut self, key: Key, created: bool) {
        let key = key.to_string();
        if !self.postmortems.contains(&key) {
            self.postmortems.push(key);
        }
        self.created |= created;
    }

    fn finish(mut self) -> Response {
        self.postmortem = self.postmortems.first().cloned();
        if self.message.is_empty() {
            self.message = match (&self.postmortem, self.created) {
                (Some(key), true) => format!(
                    "opened draft postmortem {key}: {} event(s) added",
                    self.added
                ),
                (Some(_), false) => format!(
                    "{} event(s) added, {} already present",
                    self.added, self.already_present
                ),
                (None, _) => "recorded nowhere: no open postmortem for these alerts, and none \
                              passed the rule that opens a draft"
                    .to_owned(),
            };
        }
        (self.status(), axum::Json(self)).into_response()
    }
}

/// Checks the hook is enabled and the caller knows its secret, reads the payload and handles it.
async fn receive(state: &AppState, source: HookSource, req: Request) -> ApiResult<Response> {
    let Some(secret) = state.config().hooks.secret(source) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "the {source} hook is disabled: enable it with a secret (`debrief serve --hook-secret {source}=SECRET`)"
            ),
        ));
    };
    let secret = secret.to_owned();
    let headers = req.headers().clone();
    if source != HookSource::GitHub {
        check_bearer(&headers, &secret)?;
    }
    let query = req.uri().query().unwrap_or_default().to_owned();
    let body = crate::api::body::bytes(req, state).await?;
    if source == HookSource::GitHub {
        check_signature(&headers, &secret, &body)?;
        match headers.get(GITHUB_EVENT).and_then(|v| v.to_str().ok()) {
            Some("ping") => {
                return Ok(HookAnswer {
                    message: "pong: the github hook is set up".to_owned(),
                    ..HookAnswer::default()
                }
                .finish());
            }
            Some(event) if event != "deployment_status" && event != "deployment" => {
                return Ok(HookAnswer {
                    message: format!(
                        "recorded nowhere: this hook records deployment_status and deployment events, not {event}"
                    ),
                    ..HookAnswer::default()
                }
                .finish());
            }
            _ => {}
        }
    }
    let opts = debrief_import::Options {
        zone: state.config().zone.clone(),
        max_bytes: u64::try_from(state.config().max_body).unwrap_or(u64::MAX),
        received_at: Some(state.now()),
        ..debrief_import::Options::default()
    };
    let by = format!("{source} webhook");
    let parsed = match source {
        HookSource::Alertmanager => {
            debrief_import::alertmanager::parse(&body, &opts).map(Parsed::Alerts)
        }
        HookSource::Grafana => debrief_import::grafana::parse(&body, &opts).map(Parsed::Alerts),
        HookSource::PagerDuty => debrief_import::pagerduty::parse(&body, &opts).map(Parsed::Alerts),
        HookSource::Opsgenie => debrief_import::opsgenie::parse(&body, &opts).map(Parsed::Alerts),
        HookSource::GitHub => debrief_import::github::parse(&body, &opts).map(Parsed::Events),
        HookSource::Generic => {
            debrief_import::jsonl::parse(body.as_ref(), &opts).map(Parsed::Events)
        }
    }
    .map_err(import_error)?;
    match parsed {
        Parsed::Alerts(batch) => alerts(state, &by, source, batch).await,
        Parsed::Events(report) => {
            let target = EventTarget::from_query(&query)?;
            events(state, &by, report, target).await
        }
    }
}

enum Parsed {
    Alerts(AlertBatch),
    Events(ImportReport),
}

/// A payload the parser refused as a whole: 400 when it is not even valid JSON, 413 over the
/// limit, 422 otherwise (a wrong version, a missing field); the field is named.
fn import_error(e: ImportError) -> ApiError {
    let field = e.location.field.clone().unwrap_or_default();
    let message = e.to_string();
    match e.kind {
        ErrorKind::Syntax => ApiError::bad_request(message).at(field),
        ErrorKind::TooLarge => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).at(field)
        }
        ErrorKind::Io => ApiError::internal(message),
        _ => ApiError::invalid(field, message),
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

/// `Authorization: Bearer <secret>`, compared in constant time.
fn check_bearer(headers: &HeaderMap, secret: &str) -> ApiResult<()> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(sent) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(unauthenticated(
            "send the hook's secret as `Authorization: Bearer <secret>`",
        ));
    };
    if crate::auth::same(sent.trim(), secret) {
        Ok(())
    } else {
        Err(unauthenticated("this is not the hook's secret"))
    }
}

/// GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, compared in constant time.
fn check_signature(headers: &HeaderMap, secret: &str, body: &[u8]) -> ApiResult<()> {
    let sent = headers
        .get(GITHUB_SIGNATURE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .ok_or_else(|| {
            unauthenticated(
                "send X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>, as GitHub does when the webhook has a secret",
            )
        })?;
    let expected = crate::auth::hex(&hmac_sha256(secret.as_bytes(), body));
    if crate::auth::same(&sent.to_ascii_lowercase(), &expected) {
        Ok(())
    } else {
        Err(unauthenticated(
            "the X-Hub-Signature-256 signature does not match the body and the hook's secret",
        ))
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` keyed with `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner_pad = [0x36u8; BLOCK];
    let mut outer_pad = [0x5cu8; BLOCK];
    for ((i, o), k) in inner_pad.iter_mut().zip(outer_pad.iter_mut()).zip(block) {
        *i ^= k;
        *o ^= k;
    }
    let inner = Sha256::new()
        .chain_update(inner_pad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

// ---------------------------------------------------------------------------------------------
// Alerts.

/// The alerts of one group in one delivery.
struct Group {
    key: String,
    alerts: Vec<ParsedAlert>,
    /// The group's status as the sender gave it (Alertmanager, Grafana).
    status: Option<AlertStatus>,
}

/// The key a group is stored under: the sender's group key (else the alert's own identity), or
/// its SHA-256 when it is too long to store.
fn storable_key(key: &str) -> String {
    if key.is_empty() || key.len() > MAX_GROUP_KEY_BYTES || key.chars().any(char::is_control) {
        format!(
            "sha256:{}",
            crate::auth::hex(&Sha256::digest(key.as_bytes()))
        )
    } else {
        key.to_owned()
    }
}

fn groups(batch: AlertBatch) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for alert in batch.alerts {
        let raw = alert
            .group_key
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| alert.fingerprint.clone());
        let status = batch
            .groups
            .iter()
            .find(|g| g.group_key == raw)
            .and_then(|g| g.status);
        let key = storable_key(&raw);
        match out.iter_mut().find(|g| g.key == key) {
            Some(g) => g.alerts.push(alert),
            None => out.push(Group {
                key,
                alerts: vec![alert],
                status,
            }),
        }
    }
    out
}

fn rejected_items(rejected: &[debrief_import::Rejected]) -> Vec<RejectedItem> {
    rejected
        .iter()
        .map(|r| RejectedItem {
            location: r.location.to_string(),
            reason: r.reason.clone(),
        })
        .collect()
}

/// A delivery in which nothing could be read, but something was refused: 422 naming the first.
fn nothing_readable(rejected: &[debrief_import::Rejected], what: &str) -> Option<ApiError> {
    let first = rejected.first()?;
    Some(ApiError::invalid(
        first.location.field.clone().unwrap_or_default(),
        format!(
            "no {what} in the payload could be read; {} refused, the first: {first}",
            rejected.len()
        ),
    ))
}

async fn alerts(
    state: &AppState,
    by: &str,
    source: HookSource,
    batch: AlertBatch,
) -> ApiResult<Response> {
    if batch.alerts.is_empty()
        && let Some(e) = nothing_readable(&batch.rejected, "alert")
    {
        return Err(e);
    }
    let mut answer = HookAnswer {
        rejected: rejected_items(&batch.rejected),
        notes: batch.notes.clone(),
        ..HookAnswer::default()
    };
    let store_source: Source = source
        .as_str()
        .parse()
        .map_err(|e: debrief_core::ParseError| ApiError::internal(e.message))?;
    let rule = &state.config().hooks.rule;
    let zone = &state.config().zone;
    for group in groups(batch) {
        let found = state
            .store()
            .group_postmortem(&store_source, &group.key)
            .await?;
        let (pm, created) = match found {
            Some(pm) => (pm, false),
            None => {
                let Some(opener) = group
                    .alerts
                    .iter()
                    .find(|a| a.status == AlertStatus::Firing && passes(rule, a))
                else {
                    answer.ignored += group.alerts.len();
                    continue;
                };
                let fields = draft_fields(opener, &group.alerts, zone)?;
                state
                    .store()
                    .open_for_group(by, &store_source, &group.key, fields)
                    .await?
            }
        };
        if created {
            tracing::info!(postmortem = %pm.key, source = %source, group = %group.key, "a webhook opened a draft postmortem");
        }
        let events = with_milestones(&group, &pm);
        let outcome = state.store().insert_events(by, pm.key, events).await?;
        answer.added += outcome.added;
        answer.already_present += outcome.already_present;
        answer.touched(pm.key, created);
    }
    Ok(answer.finish())
}

/// Whether an alert passes the draft rule.
fn passes(rule: &DraftRule, alert: &ParsedAlert) -> bool {
    rule.passes(&alert.labels, alert.severity.as_deref())
}

/// The alert's severity as its tool wrote it: the `severity` label, else what the parser found
/// (PagerDuty's priority or urgency, Opsgenie's priority).
fn severity_value(alert: &ParsedAlert) -> Option<&str> {
    alert
        .labels
        .get("severity")
        .map(String::as_str)
        .or(alert.severity.as_deref())
}

/// The postmortem severity of an alert severity: `critical` (and P1) → SEV1; `high`, `page` (and
/// P2) → SEV2; `warning` (and P3) → SEV3; `SEV1`…`SEV4` (or `1`…`4`) as written; anything else,
/// or none → SEV4.
pub fn severity_for(value: Option<&str>) -> Severity {
    let sev = |n: u8| format!("SEV{n}").parse::<Severity>().unwrap_or_default();
    let value = value
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match value.as_str() {
        "critical" | "p1" => sev(1),
        "high" | "page" | "p2" => sev(2),
        "warning" | "p3" => sev(3),
        other => other.parse::<Severity>().unwrap_or_else(|_| sev(4)),
    }
}

/// One line of at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    let line: String = line.chars().filter(|c| !c.is_control()).collect();
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// A service label from the alert's `service` label: lower case, anything but letters, digits
/// and `- _ . / :` becomes `-` (`Checkout API` → `checkout-api`).
fn service_label(value: &str) -> Option<Label> {
    let mut slug = String::new();
    for c in value.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | ':') {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(64).collect();
    slug.trim_end_matches('-').parse().ok()
}

/// The draft a firing alert opens: titled by its `summary` annotation (else its name), severity
/// by [`severity_for`], the `service` label as its service, and the started key moment at the
/// earliest start among the group's alerts.
pub fn draft_fields(
    opener: &ParsedAlert,
    group: &[ParsedAlert],
    zone: &Zone,
) -> ApiResult<PostmortemFields> {
    let summary = ["summary", "title", "message"]
        .iter()
        .find_map(|k| opener.annotations.get(*k).filter(|s| !s.trim().is_empty()));
    let title = [
        summary.map(|s| one_line(s, 200)),
        Some(one_line(&opener.name, 200)),
        Some(format!("Alert {}", one_line(&opener.fingerprint, 100))),
    ]
    .into_iter()
    .flatten()
    .find_map(|t| t.parse::<Title>().ok())
    .map_or_else(|| "Alert from a webhook".parse::<Title>(), Ok)
    .map_err(|e| ApiError::internal(e.message))?;
    let mut fields = PostmortemFields::new(title, severity_for(severity_value(opener)));
    if let Some(service) = opener.labels.get("service").and_then(|s| service_label(s)) {
        fields.services.push(service);
    }
    let started = group
        .iter()
        .filter_map(|a| a.starts_at)
        .min()
        .or(opener.starts_at);
    fields.key_moments.started = started.map(|at| Moment::exact(at, zone.clone()));
    Ok(fields)
}

/// The group's events, with the milestones its alerts mark: when the group resolved, its last
/// resolved alert is the `resolved` milestone; the first acknowledgement is the `acknowledged`
/// milestone when the postmortem has none yet.
fn with_milestones(group: &Group, pm: &Postmortem) -> Vec<EventFields> {
    let resolved = match group.status {
        Some(status) => status == AlertStatus::Resolved,
        None => group
            .alerts
            .last()
            .is_some_and(|a| a.status == AlertStatus::Resolved),
    };
    let last_resolved = resolved
        .then(|| {
            group
                .alerts
                .iter()
                .enumerate()
                .filter(|(_, a)| a.status == AlertStatus::Resolved)
                .max_by_key(|(_, a)| a.event.happened_at.at())
                .map(|(i, _)| i)
        })
        .flatten();
    let first_ack = pm
        .fields
        .key_moments
        .acknowledged
        .is_none()
        .then(|| {
            group
                .alerts
                .iter()
                .enumerate()
                .filter(|(_, a)| a.status == AlertStatus::Acknowledged)
                .min_by_key(|(_, a)| a.event.happened_at.at())
                .map(|(i, _)| i)
        })
        .flatten();
    group
        .alerts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut event = a.event.clone();
            let milestone = if Some(i) == last_resolved {
                Some(KeyMoment::Resolved)
            } else if Some(i) == first_ack {
                Some(KeyMoment::Acknowledged)
            } else {
                None
            };
            if milestone.is_some() {
                event.kind = EventKind::Milestone;
                event.milestone = milestone;
            }
            event
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Events (GitHub, generic).

/// Where an event hook's events go, from its URL's query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EventTarget {
    Postmortem(Key),
    Service(Label),
    Nowhere,
}

impl EventTarget {
    fn from_query(query: &str) -> ApiResult<EventTarget> {
        let mut target = EventTarget::Nowhere;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            let next = match name {
                "postmortem" => EventTarget::Postmortem(value.parse::<Key>().map_err(|_| {
                    ApiError::invalid(
                        "postmortem",
                        format!("{value:?} is not a postmortem key: expected PM-n"),
                    )
                })?),
                "service" => EventTarget::Service(value.parse::<Label>().map_err(|e| {
                    ApiError::invalid("service", format!("not a service label: {}", e.message))
                })?),
                other => {
                    return Err(ApiError::invalid(
                        other,
                        format!(
                            "unknown query parameter {other:?}: this hook takes postmortem=PM-n or service=NAME"
                        ),
                    ));
                }
            };
            if target != EventTarget::Nowhere {
                return Err(ApiError::invalid(
                    name,
                    "name one target: postmortem=PM-n or service=NAME, once",
                ));
            }
            target = next;
        }
        Ok(target)
    }
}

/// Decodes `%XX` escapes and `+` in a query value (invalid escapes are kept as written).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn events(
    state: &AppState,
    by: &str,
    report: ImportReport,
    target: EventTarget,
) -> ApiResult<Response> {
    if report.events.is_empty()
        && let Some(e) = nothing_readable(&report.rejected, "event")
    {
        return Err(e);
    }
    let mut answer = HookAnswer {
        rejected: rejected_items(&report.rejected),
        notes: report.notes.clone(),
        ..HookAnswer::default()
    };
    let keys: Vec<Key> = match target {
        EventTarget::Postmortem(key) => {
            state.store().get_postmortem(key).await.map_err(|_| {
                ApiError::invalid("postmortem", format!("there is no postmortem {key}"))
            })?;
            vec![key]
        }
        EventTarget::Service(service) => {
            let mut keys = Vec::new();
            for status in [Status::Draft, Status::InReview] {
                let filter = PostmortemFilter {
                    status: Some(status),
                    service: Some(service.clone()),
                    ..PostmortemFilter::default()
                };
                keys.extend(
                    state
                        .store()
                        .list_postmortems(&filter)
                        .await?
                        .into_iter()
                        .map(|s| s.key),
                );
            }
            if keys.is_empty() {
                answer.message = format!(
                    "recorded nowhere: no open postmortem (draft or in review) lists the service {service}"
                );
            }
            keys
        }
        EventTarget::Nowhere => {
            answer.message = "recorded nowhere: add ?postmortem=PM-n or ?service=NAME to the \
                              hook's URL to say where its events go"
                .to_owned();
            Vec::new()
        }
    };
    if keys.is_empty() {
        answer.ignored = report.events.len();
    }
    for key in keys {
        let outcome = state
            .store()
            .insert_events(by, key, report.events.clone())
            .await?;
        answer.added += outcome.added;
        answer.already_present += outcome.already_present;
        answer.touched(key, false);
    }
    Ok(answer.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_follows_rfc_4231() {
        // Test case 2.
        assert_eq!(
            crate::auth::hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            crate::auth::hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn severities_map_to_the_scale() {
        let sev = |v: Option<&str>| severity_for(v).to_string();
        assert_eq!(sev(Some("critical")), "SEV1");
        assert_eq!(sev(Some("Critical")), "SEV1");
        assert_eq!(sev(Some("P1")), "SEV1");
        assert_eq!(sev(Some("high")), "SEV2");
        assert_eq!(sev(Some("page")), "SEV2");
        assert_eq!(sev(Some("warning")), "SEV3");
        assert_eq!(sev(Some("sev2")), "SEV2");
        assert_eq!(sev(Some("info")), "SEV4");
        assert_eq!(sev(None), "SEV4");
    }

    #[test]
    fn services_become_labels() {
        assert_eq!(
            service_label("Checkout API").map(|l| l.to_string()),
            Some("checkout-api".to_owned())
        );
        assert_eq!(
            service_label("payments").map(|l| l.to_string()),
            Some("payments".to_owned())
        );
        assert_eq!(service_label("  ***  "), None);
    }

    #[test]
    fn long_group_keys_are_hashed() {
        let long = "x".repeat(MAX_GROUP_KEY_BYTES + 1);
        let key = storable_key(&long);
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
        assert_eq!(storable_key("{}:{a=\"b\"}"), "{}:{a=\"b\"}");
    }

    #[test]
    fn event_targets_come_from_the_query() {
        assert_eq!(EventTarget::from_query(""), Ok(EventTarget::Nowhere));
        assert_eq!(
            EventTarget::from_query("postmortem=PM-3"),
            Ok(EventTarget::Postmortem(Key::new(3).expect("key")))
        );
        assert_eq!(
            EventTarget::from_query("service=check%6Fut"),
            Ok(EventTarget::Service("checkout".parse().expect("label")))
        );
        let e = EventTarget::from_query("team=x").expect_err("unknown");
        assert_eq!(e.field.as_deref(), Some("team"));
        let e = EventTarget::from_query("postmortem=PM-1&service=a").expect_err("two");
        assert_eq!(e.field.as_deref(), Some("service"));
    }
}
