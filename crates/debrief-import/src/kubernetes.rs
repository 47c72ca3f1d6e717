//! Kubernetes events, as `kubectl get events -o json` writes them: an `EventList` (or `List`) of
//! `core/v1` or `events.k8s.io/v1` events, or a single event.
//!
//! An event that happened several times (`count` over `firstTimestamp`…`lastTimestamp`, or a
//! `series`) is one timeline event at its first occurrence whose description says how often and
//! until when. The source id is the event object's uid.

use std::collections::HashSet;

use debrief_core::{Actor, ActorKind, EventFields, EventKind};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::common::{Options, name, shorten, source, text};
use crate::json::{
    FieldError, FieldResult, describe, documents, index, join, located, loose_obj, loose_str,
    object, opt_int, opt_obj, opt_time,
};
use crate::report::{ErrorKind, ImportError, ImportReport, Location, Problems};

/// Reads Kubernetes events.
pub fn parse(bytes: &[u8], opts: &Options) -> Result<ImportReport, ImportError> {
    opts.check_size(bytes)?;
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"apiVersion:")
        || trimmed.starts_with(b"kind:")
        || trimmed.starts_with(b"---")
    {
        return Err(ImportError::new(
            ErrorKind::Format,
            Location::file(opts.file()).with_line(1),
            "this looks like YAML: export the events as JSON (kubectl get events -o json)",
        ));
    }
    let docs = documents(bytes, opts.file())?;
    let mut problems = Problems::default();
    let mut events = Vec::new();
    let mut seen = HashSet::new();
    let mut outside = 0u64;
    let single = docs.len() == 1;
    let mut keep = |event: EventFields, problems: &mut Problems| {
        if !opts.in_window(event.happened_at.at()) {
            outside += 1;
            return;
        }
        let id = event.source_id.clone().unwrap_or_default();
        if seen.insert(id) {
            events.push(event);
        } else {
            problems
                .note("the same Kubernetes event (uid) appeared more than once; it was kept once");
        }
    };
    for (base, doc) in &docs {
        let result = object(doc, "").and_then(|m| {
            let kind = loose_str(m, "kind").unwrap_or("");
            if let Some(Value::Array(items)) = m.get("items") {
                if !matches!(kind, "" | "EventList" | "List") {
                    return Err(FieldError::new(
                        "kind",
                        format!("{kind:?} is not a list of events: expected EventList or List"),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    let path = index("items", i);
                    match one(item, &path, opts) {
                        Ok(Some(e)) => keep(e, &mut problems),
                        Ok(None) => {}
                        Err(e) => problems.reject(located(base, &e.path), e.message),
                    }
                }
                Ok(())
            } else if kind == "Event" || m.contains_key("involvedObject") || m.contains_key("regarding") {
                if let Some(e) = one(doc, "", opts)? {
                    keep(e, &mut problems);
                }
                Ok(())
            } else {
                Err(FieldError::new(
                    "kind",
                    "not Kubernetes events: expected an EventList (kubectl get events -o json) or an Event",
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
    if outside > 0 {
        problems.note(format!(
            "{outside} events outside the time window were left out"
        ));
    }
    Ok(problems.into_report(events))
}

/// A `MicroTime` or `Time` field, where Kubernetes writes `null` or an empty string for "unset".
fn k8s_time(m: &Map<String, Value>, key: &str, path: &str) -> FieldResult<Option<Timestamp>> {
    opt_time(m, key, path).map(|t| t.filter(|t| t.as_second() > 0))
}

fn one(v: &Value, path: &str, opts: &Options) -> FieldResult<Option<EventFields>> {
    let m = object(v, path)?;
    let new_api = loose_str(m, "apiVersion").is_some_and(|a| a.starts_with("events.k8s.io/"))
        || m.contains_key("regarding")
        || m.contains_key("note");
    let kind = loose_str(m, "kind").unwrap_or("Event");
    if kind != "Event" {
        return Err(FieldError::new(
            &join(path, "kind"),
            format!("{:?} is not an Event", shorten(kind, 40)),
        ));
    }
    let meta = opt_obj(m, "metadata", path)?;
    let meta_path = join(path, "metadata");
    let (first_key, last_key, count_key, object_key, message_key) = if new_api {
        (
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
            "deprecatedCount",
            "regarding",
            "note",
        )
    } else {
        (
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "involvedObject",
            "message",
        )
    };
    let event_time = k8s_time(m, "eventTime", path)?;
    let first = k8s_time(m, first_key, path)?;
    let mut last = k8s_time(m, last_key, path)?;
    let mut count = opt_int(m, count_key, path)?.unwrap_or(1);
    if let Some(series) = opt_obj(m, "series", path)? {
        let series_path = join(path, "series");
        if let Some(n) = opt_int(series, "count", &series_path)? {
            count = count.max(n);
        }
        if let Some(t) = k8s_time(series, "lastObservedTime", &series_path)? {
            last = Some(last.map_or(t, |l| l.max(t)));
        }
    }
    let created = match meta {
        Some(meta) => k8s_time(meta, "creationTimestamp", &meta_path)?,
        None => None,
    };
    let Some(at) = first.or(event_time).or(created) else {
        return Err(FieldError::new(
            &join(path, first_key),
            format!(
                "missing: expected a time ({first_key}, eventTime or metadata.creationTimestamp)"
            ),
        ));
    };
    let uid = meta
        .and_then(|meta| loose_str(meta, "uid"))
        .map(str::to_owned)
        .or_else(|| {
            let meta = meta?;
            let name = loose_str(meta, "name")?;
            Some(format!(
                "{}/{name}",
                loose_str(meta, "namespace").unwrap_or("")
            ))
        })
        .ok_or_else(|| {
            FieldError::new(
                &join(&meta_path, "uid"),
                "missing: expected the event's uid or name",
            )
        })?;
    let reason = loose_str(m, "reason").unwrap_or("Event");
    let level = loose_str(m, "type").unwrap_or("Normal");
    let target = loose_obj(m, object_key).map(|o| {
        let kind = loose_str(o, "kind").unwrap_or("object");
        let name = loose_str(o, "name").unwrap_or("?");
        match loose_str(o, "namespace") {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        }
    });
    let message = match m.get(message_key) {
        Some(Value::String(s)) => s.trim().to_owned(),
        None | Some(Value::Null) => String::new(),
        Some(other) => {
            return Err(FieldError::new(
                &join(path, message_key),
                format!("expected a string, found {}", describe(other)),
            ));
        }
    };
    let mut description = if level == "Normal" {
        reason.to_owned()
    } else {
        format!("{level} {reason}")
    };
    if let Some(t) = &target {
        description.push_str(&format!(" on {t}"));
    }
    if !message.is_empty() {
        description.push_str(": ");
        description.push_str(&message);
    }
    if count > 1 {
        match last.filter(|l| *l > at) {
            Some(l) => description.push_str(&format!(
                " (×{count}, last at {})",
                opts.moment(l).display_local()
            )),
            None => description.push_str(&format!(" (×{count})")),
        }
    }
    let Some(description) = text(&description) else {
        return Ok(None);
    };
    let component = if new_api {
        loose_str(m, "reportingController")
            .or_else(|| loose_obj(m, "deprecatedSource").and_then(|s| loose_str(s, "component")))
    } else {
        loose_str(m, "reportingComponent")
            .or_else(|| loose_obj(m, "source").and_then(|s| loose_str(s, "component")))
    };
    let mut event = EventFields::new(opts.moment(at), EventKind::Observation, description);
    event.source = source("kubernetes");
    event.source_id = Some(uid);
    event.actor = component
        .or(Some("kubernetes"))
        .and_then(name)
        .map(|n| Actor {
            kind: ActorKind::System,
            name: n,
        });
    event
        .validate()
        .map_err(|e| FieldError::new(path, e.to_string()))?;
    Ok(Some(event))
}
