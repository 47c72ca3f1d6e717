//! Opsgenie webhooks: `{"action": "Create", "alert": {…}, "source": {…}}`.
//!
//! Opsgenie writes `createdAt` in epoch milliseconds and `updatedAt` in epoch nanoseconds (and
//! other tools that mimic it use seconds): the unit is told by the size of the number. A created
//! alert is recorded at `createdAt`, anything else at `updatedAt`. The alert id groups the events;
//! the source id is the alert, the action and its time, so a redelivery adds nothing.

use std::collections::{BTreeMap, HashSet};

use debrief_core::{Actor, ActorKind, EventFields, EventKind};
use serde_json::{Map, Value};

use crate::alert::{AlertBatch, AlertStatus, ParsedAlert};
use crate::alertmanager::finish;
use crate::common::{Options, epoch_by_magnitude, name, source, text};
use crate::json::{
    FieldError, FieldResult, documents, join, located, loose_str, object, opt_int, opt_obj, req_str,
};
use crate::report::{ImportError, Problems};

/// Reads an Opsgenie webhook body (or a file of them).
pub fn parse(bytes: &[u8], opts: &Options) -> Result<AlertBatch, ImportError> {
    opts.check_size(bytes)?;
    let docs = documents(bytes, opts.file())?;
    let mut batch = AlertBatch::default();
    let mut problems = Problems::default();
    let mut seen = HashSet::new();
    let single = docs.len() == 1;
    for (base, doc) in &docs {
        match object(doc, "").and_then(|m| one(m, opts)) {
            Ok(alert) => {
                if !opts.in_window(alert.event.happened_at.at()) {
                    continue;
                }
                let id = alert.event.source_id.clone().unwrap_or_default();
                if seen.insert(id) {
                    batch.alerts.push(alert);
                } else {
                    problems.note(format!(
                        "{base}: an Opsgenie event came more than once (a redelivery); it was kept once"
                    ));
                }
            }
            Err(e) => {
                if single {
                    return Err(e.into_error(base));
                }
                problems.reject(located(base, &e.path), e.message);
            }
        }
    }
    finish(batch, problems)
}

fn time_field(
    alert: &Map<String, Value>,
    key: &str,
) -> FieldResult<Option<(i128, jiff::Timestamp)>> {
    match opt_int(alert, key, "alert")? {
        None => Ok(None),
        Some(n) => epoch_by_magnitude(n)
            .map(|t| Some((n, t)))
            .map_err(|e| FieldError::new(&join("alert", key), e)),
    }
}

fn one(m: &Map<String, Value>, opts: &Options) -> FieldResult<ParsedAlert> {
    let Some(alert) = opt_obj(m, "alert", "")? else {
        return Err(FieldError::new(
            "alert",
            "missing: expected an Opsgenie webhook with action and alert",
        ));
    };
    let action = req_str(m, "action", "")?.trim();
    let alert_id = req_str(alert, "alertId", "alert")?.trim();
    let created = time_field(alert, "createdAt")?;
    let updated = time_field(alert, "updatedAt")?;
    let (raw, at) = match action {
        "Create" => created.or(updated),
        _ => updated.or(created),
    }
    .ok_or_else(|| {
        FieldError::new(
            "alert.updatedAt",
            "missing: expected an epoch time (alert.createdAt or alert.updatedAt)",
        )
    })?;
    let message = loose_str(alert, "message").unwrap_or(alert_id).trim();
    let tiny = loose_str(alert, "tinyId");
    let label = match tiny {
        Some(t) => format!("Opsgenie alert #{t}"),
        None => "Opsgenie alert".to_owned(),
    };
    let priority = match alert.get("priority") {
        Some(Value::String(p)) if !p.trim().is_empty() => Some(p.trim().to_owned()),
        Some(Value::Number(n)) => Some(format!("P{n}")),
        _ => None,
    };
    let tags: Vec<&str> = match alert.get("tags") {
        Some(Value::Array(t)) => t.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let entity = loose_str(alert, "entity");
    let username = loose_str(alert, "username").map(str::trim);
    let person = username.filter(|u| !u.eq_ignore_ascii_case("system"));
    let actor = match person {
        Some(u) => name(u).map(|n| Actor {
            kind: ActorKind::Person,
            name: n,
        }),
        None => name("opsgenie").map(|n| Actor {
            kind: ActorKind::System,
            name: n,
        }),
    };
    let (status, kind, mut description) = match action {
        "Create" => {
            let mut details = Vec::new();
            if let Some(p) = &priority {
                details.push(p.clone());
            }
            if let Some(e) = entity {
                details.push(format!("entity {e}"));
            }
            if !tags.is_empty() {
                details.push(format!("tags {}", tags.join(", ")));
            }
            let details = if details.is_empty() {
                String::new()
            } else {
                format!(" ({})", details.join("; "))
            };
            (
                AlertStatus::Firing,
                EventKind::Alert,
                format!("{label} created: {message}{details}"),
            )
        }
        "Acknowledge" => (
            AlertStatus::Acknowledged,
            EventKind::Action,
            format!("{label} acknowledged: {message}"),
        ),
        "Close" => (
            AlertStatus::Resolved,
            EventKind::Action,
            format!("{label} closed: {message}"),
        ),
        "UnAcknowledge" => (
            AlertStatus::Firing,
            EventKind::Action,
            format!("{label} unacknowledged: {message}"),
        ),
        "AddNote" => (
            AlertStatus::Updated,
            EventKind::Note,
            format!("Note on {label} ({message})"),
        ),
        other => (
            AlertStatus::Updated,
            if person.is_some() {
                EventKind::Action
            } else {
                EventKind::Observation
            },
            format!("{label}: {} ({message})", split_words(other)),
        ),
    };
    if let Some(note) = loose_str(alert, "note") {
        description.push_str(": ");
        description.push_str(note.trim());
    }
    let description = text(&description)
        .ok_or_else(|| FieldError::new("alert", "nothing to describe the alert with"))?;
    let mut event = EventFields::new(opts.moment(at), kind, description);
    event.source = source("opsgenie");
    event.source_id = Some(format!("{alert_id}:{action}:{raw}"));
    event.actor = actor;
    event
        .validate()
        .map_err(|e| FieldError::new("", e.to_string()))?;
    let mut labels = BTreeMap::new();
    for (k, v) in [
        ("entity", entity),
        ("alias", loose_str(alert, "alias")),
        ("source", loose_str(alert, "source")),
        ("tinyId", tiny),
    ] {
        if let Some(v) = v {
            labels.insert(k.to_owned(), v.to_owned());
        }
    }
    if !tags.is_empty() {
        labels.insert("tags".to_owned(), tags.join(","));
    }
    Ok(ParsedAlert {
        source: source("opsgenie"),
        group_key: Some(alert_id.to_owned()),
        fingerprint: alert_id.to_owned(),
        status,
        name: message.to_owned(),
        severity: priority,
        labels,
        annotations: BTreeMap::new(),
        starts_at: created.map(|c| c.1),
        ends_at: (status == AlertStatus::Resolved).then_some(at),
        event,
    })
}

/// `TakeOwnership` → `take ownership`.
fn split_words(action: &str) -> String {
    let mut out = String::new();
    for (i, c) in action.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_words() {
        assert_eq!(split_words("TakeOwnership"), "take ownership");
        assert_eq!(split_words("Escalate"), "escalate");
    }
}
