//! PagerDuty webhooks: version 3 (`{"event": {"event_type": "incident.triggered", …}}`) and
//! version 2 (`{"messages": [{"event": "incident.trigger", "log_entries": […], …}]}`).
//!
//! One event per webhook event (v3) or message (v2), keyed by its id, so redeliveries add nothing.
//! The incident id groups them: it is the [`ParsedAlert::group_key`].

use std::collections::{BTreeMap, HashSet};

use debrief_core::{Actor, ActorKind, EventFields, EventKind, LinkKind};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::alert::{AlertBatch, AlertStatus, ParsedAlert};
use crate::alertmanager::finish;
use crate::common::{Options, link, name, source, text};
use crate::json::{
    FieldError, FieldResult, documents, index, join, located, loose_obj, loose_str, object,
    opt_array, opt_int, opt_obj, opt_time, req_str, req_time,
};
use crate::report::{ImportError, Problems};

/// Reads a PagerDuty webhook body (or a file of them).
pub fn parse(bytes: &[u8], opts: &Options) -> Result<AlertBatch, ImportError> {
    opts.check_size(bytes)?;
    let docs = documents(bytes, opts.file())?;
    let mut batch = AlertBatch::default();
    let mut problems = Problems::default();
    let mut seen = HashSet::new();
    let single = docs.len() == 1;
    for (base, doc) in &docs {
        let mut keep = |alert: ParsedAlert, problems: &mut Problems| {
            if !opts.in_window(alert.event.happened_at.at()) {
                return;
            }
            let id = alert.event.source_id.clone().unwrap_or_default();
            if seen.insert(id) {
                batch.alerts.push(alert);
            } else {
                problems.note(format!(
                    "{}: a PagerDuty event came more than once (a redelivery); it was kept once",
                    base
                ));
            }
        };
        let result = object(doc, "").and_then(|m| {
            if let Some(event) = opt_obj(m, "event", "")? {
                let alert = v3(event, "event", opts)?;
                keep(alert, &mut problems);
                Ok(())
            } else if let Some(messages) = opt_array(m, "messages", "")? {
                for (i, msg) in messages.iter().enumerate() {
                    let path = index("messages", i);
                    match v2(msg, &path, opts) {
                        Ok(alert) => keep(alert, &mut problems),
                        Err(e) => problems.reject(located(base, &e.path), e.message),
                    }
                }
                Ok(())
            } else {
                Err(FieldError::new(
                    "",
                    "not a PagerDuty webhook: expected an object with event (webhooks v3) or messages (v2)",
                ))
            }
        });
        if let Err(e) = result {
            if single {
                return Err(e.into_error(base));
            }
            problems.reject(located(base, &e.path), e.message);
        }
    }
    finish(batch, problems)
}

/// The actor of a PagerDuty reference (`agent`, `last_status_change_by`): a user is a person,
/// anything else (a service, an integration) a system.
fn actor(reference: Option<&Map<String, Value>>) -> Option<Actor> {
    let r = reference?;
    let who = loose_str(r, "summary").or_else(|| loose_str(r, "name"))?;
    let kind = match loose_str(r, "type") {
        Some(t) if t.starts_with("user") => ActorKind::Person,
        _ => ActorKind::System,
    };
    Some(Actor {
        kind,
        name: name(who)?,
    })
}

fn pagerduty() -> Option<Actor> {
    Some(Actor {
        kind: ActorKind::System,
        name: name("pagerduty")?,
    })
}

/// What a v3 `event_type` or v2 `event` (without `incident.`) means.
fn meaning(what: &str) -> (AlertStatus, &'static str) {
    match what {
        "triggered" | "trigger" => (AlertStatus::Firing, "triggered"),
        "acknowledged" | "acknowledge" => (AlertStatus::Acknowledged, "acknowledged"),
        "resolved" | "resolve" => (AlertStatus::Resolved, "resolved"),
        "unacknowledged" | "unacknowledge" => (AlertStatus::Firing, "unacknowledged"),
        "reopened" => (AlertStatus::Firing, "reopened"),
        "annotated" | "annotate" => (AlertStatus::Updated, "annotated"),
        "escalated" | "escalate" => (AlertStatus::Updated, "escalated"),
        "reassigned" | "assign" => (AlertStatus::Updated, "reassigned"),
        "delegated" | "delegate" => (AlertStatus::Updated, "delegated"),
        "priority_updated" => (AlertStatus::Updated, "priority changed"),
        "status_update_published" => (AlertStatus::Updated, "status update published"),
        "responder.added" => (AlertStatus::Updated, "responder added"),
        "responder.replied" => (AlertStatus::Updated, "responder replied"),
        _ => (AlertStatus::Updated, ""),
    }
}

fn kind_for(what: &str, actor: Option<&Actor>) -> EventKind {
    match what {
        "triggered" | "trigger" => EventKind::Alert,
        "annotated" | "annotate" => EventKind::Note,
        "status_update_published" => EventKind::CommunicationOut,
        _ if actor.is_some_and(|a| a.kind == ActorKind::Person) => EventKind::Action,
        _ => EventKind::Observation,
    }
}

struct Incident<'a> {
    id: String,
    number: Option<i128>,
    title: String,
    urgency: Option<&'a str>,
    priority: Option<&'a str>,
    service: Option<&'a str>,
    url: Option<&'a str>,
}

impl Incident<'_> {
    fn label(&self) -> String {
        match self.number {
            Some(n) => format!("PagerDuty incident #{n}"),
            None => "PagerDuty incident".to_owned(),
        }
    }

    fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        let mut put = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                labels.insert(k.to_owned(), v.to_owned());
            }
        };
        put("service", self.service);
        put("urgency", self.urgency);
        put("priority", self.priority);
        labels
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one place that builds every PagerDuty event"
)]
fn build(
    incident: &Incident<'_>,
    what: &str,
    at: Timestamp,
    actor: Option<Actor>,
    extra: Option<&str>,
    source_id: String,
    path: &str,
    opts: &Options,
) -> FieldResult<ParsedAlert> {
    let (status, verb) = meaning(what);
    let verb = if verb.is_empty() {
        what.replace(['_', '.'], " ")
    } else {
        verb.to_owned()
    };
    let mut description = format!("{} {verb}: {}", incident.label(), incident.title);
    let mut details = Vec::new();
    if let Some(s) = incident.service {
        details.push(format!("service {s}"));
    }
    if let Some(p) = incident.priority {
        details.push(format!("priority {p}"));
    }
    if let Some(u) = incident.urgency {
        details.push(format!("urgency {u}"));
    }
    if status == AlertStatus::Firing && !details.is_empty() {
        description.push_str(&format!(" ({})", details.join(", ")));
    }
    if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
        description.push_str("\n\n");
        description.push_str(extra);
    }
    let description = text(&description)
        .ok_or_else(|| FieldError::new(path, "nothing to describe the event with"))?;
    let kind = kind_for(what, actor.as_ref());
    let mut event = EventFields::new(opts.moment(at), kind, description);
    event.source = source("pagerduty");
    event.source_id = Some(source_id);
    event.actor = actor.or_else(pagerduty);
    if let Some(l) = incident
        .url
        .and_then(|u| link(LinkKind::Ticket, u, Some(&incident.label())))
    {
        event.links.push(l);
    }
    event
        .validate()
        .map_err(|e| FieldError::new(path, e.to_string()))?;
    Ok(ParsedAlert {
        source: source("pagerduty"),
        group_key: Some(incident.id.clone()),
        fingerprint: incident.id.clone(),
        status,
        name: incident.title.clone(),
        severity: incident.priority.or(incident.urgency).map(str::to_owned),
        labels: incident.labels(),
        annotations: BTreeMap::new(),
        starts_at: (status == AlertStatus::Firing).then_some(at),
        ends_at: (status == AlertStatus::Resolved).then_some(at),
        event,
    })
}

fn v3(event: &Map<String, Value>, path: &str, opts: &Options) -> FieldResult<ParsedAlert> {
    let id = req_str(event, "id", path)?;
    let event_type = req_str(event, "event_type", path)?;
    let at = req_time(event, "occurred_at", path)?;
    let data_path = join(path, "data");
    let data = opt_obj(event, "data", path)?.ok_or_else(|| {
        FieldError::new(
            &data_path,
            "missing: expected the incident the event is about",
        )
    })?;
    // For incident events `data` is the incident; for notes and status updates it points at it.
    let is_incident = loose_str(data, "type") == Some("incident");
    let inc = if is_incident {
        data
    } else {
        loose_obj(data, "incident").unwrap_or(data)
    };
    let incident_id = loose_str(inc, "id").ok_or_else(|| {
        FieldError::new(
            &join(&data_path, "id"),
            "missing: expected the incident's id",
        )
    })?;
    let title = loose_str(inc, "title")
        .or_else(|| loose_str(inc, "summary"))
        .unwrap_or(incident_id);
    let incident = Incident {
        id: incident_id.to_owned(),
        number: opt_int(inc, "number", &data_path).ok().flatten(),
        title: title.trim().to_owned(),
        urgency: loose_str(inc, "urgency"),
        priority: loose_obj(inc, "priority").and_then(|p| loose_str(p, "summary")),
        service: loose_obj(inc, "service").and_then(|s| loose_str(s, "summary")),
        url: loose_str(inc, "html_url"),
    };
    let what = event_type.strip_prefix("incident.").unwrap_or(event_type);
    let extra = match what {
        "annotated" => loose_str(data, "content"),
        "status_update_published" => loose_str(data, "message"),
        "resolved" => loose_str(data, "resolve_reason"),
        _ => None,
    };
    build(
        &incident,
        what,
        at,
        actor(loose_obj(event, "agent")),
        extra,
        format!("v3:{id}"),
        path,
        opts,
    )
}

fn v2(msg: &Value, path: &str, opts: &Options) -> FieldResult<ParsedAlert> {
    let m = object(msg, path)?;
    if !m.contains_key("event") && m.contains_key("type") {
        return Err(FieldError::new(
            &join(path, "type"),
            "this is a PagerDuty webhook of version 1, which is not supported: use webhooks v3 (or v2)",
        ));
    }
    let id = req_str(m, "id", path)?;
    let event = req_str(m, "event", path)?;
    let inc_path = join(path, "incident");
    let inc = opt_obj(m, "incident", path)?.ok_or_else(|| {
        FieldError::new(
            &inc_path,
            "missing: expected the incident the message is about",
        )
    })?;
    let incident_id = req_str(inc, "id", &inc_path)?;
    let entry = opt_array(m, "log_entries", path)?
        .and_then(|entries| entries.first())
        .and_then(Value::as_object);
    let at = match opt_time(m, "created_on", path)? {
        Some(t) => t,
        None => match entry {
            Some(e) => req_time(e, "created_at", &join(path, "log_entries[0]"))?,
            None => req_time(m, "created_on", path)?,
        },
    };
    let title = loose_str(inc, "title")
        .or_else(|| loose_str(inc, "summary"))
        .unwrap_or(incident_id);
    let service = loose_obj(inc, "service")
        .and_then(|s| loose_str(s, "name").or_else(|| loose_str(s, "summary")));
    let incident = Incident {
        id: incident_id.to_owned(),
        number: opt_int(inc, "incident_number", &inc_path).ok().flatten(),
        title: title.trim().to_owned(),
        urgency: loose_str(inc, "urgency"),
        priority: loose_obj(inc, "priority").and_then(|p| loose_str(p, "summary")),
        service,
        url: loose_str(inc, "html_url"),
    };
    let who = entry
        .and_then(|e| actor(loose_obj(e, "agent")))
        .or_else(|| actor(loose_obj(inc, "last_status_change_by")));
    let what = event.strip_prefix("incident.").unwrap_or(event);
    let entry_summary = entry.and_then(|e| loose_str(e, "summary"));
    let note = entry
        .and_then(|e| loose_obj(e, "channel"))
        .and_then(|c| loose_str(c, "content"));
    let extra = match (entry_summary, note) {
        (_, Some(n)) if what == "annotate" => Some(n.to_owned()),
        (Some(s), _) => Some(s.to_owned()),
        _ => None,
    };
    build(
        &incident,
        what,
        at,
        who,
        extra.as_deref(),
        format!("v2:{id}"),
        path,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings() {
        assert_eq!(meaning("trigger").0, AlertStatus::Firing);
        assert_eq!(meaning("resolved").0, AlertStatus::Resolved);
        assert_eq!(meaning("something_new"), (AlertStatus::Updated, ""));
    }
}
