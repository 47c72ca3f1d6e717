//! Prometheus Alertmanager webhook notifications (version 4), and the shared reading of the
//! same shape that Grafana's unified alerting sends.
//!
//! One event per alert and status: a firing alert is recorded at its `startsAt`, a resolved one at
//! its `endsAt`. The source id is the alert's fingerprint, its `startsAt` and its status, so the
//! retries Alertmanager sends add nothing, and a resolution is a separate event from the firing it
//! ends. An `endsAt` of year 1 (`0001-01-01T00:00:00Z`) means the alert is still firing.

use std::collections::{BTreeMap, HashSet};

use debrief_core::{Actor, ActorKind, EventFields, EventKind, LinkKind, Source};
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::alert::{AlertBatch, AlertGroup, AlertStatus, ParsedAlert};
use crate::common::{Options, fnv1a64, is_unset_time, link, name, shorten, source, text};
use crate::json::{
    FieldError, FieldResult, describe_value, documents, index, join, located, loose_str, object,
    opt_array, opt_int, opt_str, opt_time, req_time, string_map,
};
use crate::report::{ImportError, Location, Problems};

/// Reads an Alertmanager webhook body (or a file of them: a JSON array, or one per line).
pub fn parse(bytes: &[u8], opts: &Options) -> Result<AlertBatch, ImportError> {
    opts.check_size(bytes)?;
    let docs = documents(bytes, opts.file())?;
    let mut batch = AlertBatch::default();
    let mut problems = Problems::default();
    let mut seen = HashSet::new();
    let single = docs.len() == 1;
    for (base, doc) in &docs {
        let result = object(doc, "").and_then(|m| {
            check_version(m)?;
            parse_group(
                m,
                base,
                Flavor::Alertmanager,
                opts,
                &mut problems,
                &mut seen,
                &mut batch,
            )
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

pub(crate) fn finish(mut batch: AlertBatch, problems: Problems) -> Result<AlertBatch, ImportError> {
    batch.rejected = problems.rejected;
    batch.rejected_unlisted = problems.rejected_unlisted;
    batch.notes = problems.notes;
    Ok(batch)
}

fn check_version(m: &Map<String, Value>) -> FieldResult<()> {
    match m.get("version") {
        Some(Value::String(v)) if v.trim() == "4" => Ok(()),
        None | Some(Value::Null) => Err(FieldError::new(
            "version",
            "missing: expected \"4\" (an Alertmanager webhook of version 4); is this an Alertmanager notification?",
        )),
        Some(other) => Err(FieldError::new(
            "version",
            format!(
                "expected \"4\" (Alertmanager webhook version 4), found {}: this version of the payload is not supported",
                describe_value(other)
            ),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Alertmanager,
    Grafana,
}

impl Flavor {
    fn source(self) -> Source {
        source(self.name())
    }

    fn name(self) -> &'static str {
        match self {
            Flavor::Alertmanager => "alertmanager",
            Flavor::Grafana => "grafana",
        }
    }
}

fn parse_status(s: &str, path: &str) -> FieldResult<AlertStatus> {
    match s.trim().to_ascii_lowercase().as_str() {
        "firing" => Ok(AlertStatus::Firing),
        "resolved" => Ok(AlertStatus::Resolved),
        _ => Err(FieldError::new(
            path,
            format!(
                "{:?} is not a status: expected \"firing\" or \"resolved\"",
                shorten(s, 40)
            ),
        )),
    }
}

/// Reads one notification (a group of alerts) into `batch`. Problems with one alert reject that
/// alert; problems with the notification itself are returned.
pub(crate) fn parse_group(
    m: &Map<String, Value>,
    base: &Location,
    flavor: Flavor,
    opts: &Options,
    problems: &mut Problems,
    seen: &mut HashSet<String>,
    batch: &mut AlertBatch,
) -> FieldResult<()> {
    let alerts = opt_array(m, "alerts", "")?
        .ok_or_else(|| FieldError::new("alerts", "missing: expected an array of alerts"))?;
    let status = match opt_str(m, "status", "")? {
        Some(s) => Some(parse_status(s, "status")?),
        None => None,
    };
    let group = AlertGroup {
        group_key: opt_str(m, "groupKey", "")?.unwrap_or_default().to_owned(),
        status,
        receiver: opt_str(m, "receiver", "")?.unwrap_or_default().to_owned(),
        group_labels: string_map(m, "groupLabels", "")?,
        common_labels: string_map(m, "commonLabels", "")?,
        common_annotations: string_map(m, "commonAnnotations", "")?,
        external_url: opt_str(m, "externalURL", "")?.map(str::to_owned),
        truncated_alerts: opt_int(m, "truncatedAlerts", "")?
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
    };
    if group.truncated_alerts > 0 {
        problems.note(format!(
            "{}: the sender left out {} alert(s) of group {} (max_alerts): they are not in this import",
            flavor.name(),
            group.truncated_alerts,
            shorten(&group.group_key, 120)
        ));
    }
    let src = flavor.source();
    for (i, alert) in alerts.iter().enumerate() {
        let path = index("alerts", i);
        match parse_alert(alert, &path, &group, flavor, &src, opts) {
            Ok(parsed) => {
                let Some(id) = parsed.event.source_id.clone() else {
                    continue;
                };
                if !opts.in_window(parsed.event.happened_at.at()) {
                    continue;
                }
                if seen.insert(id) {
                    batch.alerts.push(parsed);
                } else {
                    problems.note(format!(
                        "{}: the same alert and status came more than once (a retry); it was kept once",
                        located(base, &path)
                    ));
                }
            }
            Err(e) => problems.reject(located(base, &e.path), e.message),
        }
    }
    batch.groups.push(group);
    Ok(())
}

/// Alertmanager's fingerprint of a label set: FNV-1a over the sorted names and values, each
/// followed by a 0xff byte, written as 16 hex digits.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<&[u8]> = labels
        .iter()
        .flat_map(|(k, v)| [k.as_bytes(), v.as_bytes()])
        .collect();
    format!("{:016x}", fnv1a64(&parts))
}

fn parse_alert(
    v: &Value,
    path: &str,
    group: &AlertGroup,
    flavor: Flavor,
    src: &Source,
    opts: &Options,
) -> FieldResult<ParsedAlert> {
    let m = object(v, path)?;
    let labels = string_map(m, "labels", path)?;
    let annotations = string_map(m, "annotations", path)?;
    let starts_at = req_time(m, "startsAt", path)?;
    let ends_at = opt_time(m, "endsAt", path)?.filter(|t| !is_unset_time(*t));
    let status = match opt_str(m, "status", path)? {
        Some(s) => parse_status(s, &join(path, "status"))?,
        None => group.status.ok_or_else(|| {
            FieldError::new(&join(path, "status"), "missing, and the notification has no status either: expected \"firing\" or \"resolved\"")
        })?,
    };
    let happened = match status {
        AlertStatus::Resolved => ends_at.ok_or_else(|| {
            FieldError::new(
                &join(path, "endsAt"),
                "a resolved alert needs the time it ended: expected an RFC 3339 time",
            )
        })?,
        _ => starts_at,
    };
    let fingerprint = match opt_str(m, "fingerprint", path)?.filter(|f| !f.trim().is_empty()) {
        Some(f) => f.trim().to_owned(),
        None => fingerprint(&labels),
    };
    let alert_name = labels
        .get("alertname")
        .cloned()
        .or_else(|| loose_str(m, "title").map(str::to_owned))
        .unwrap_or_else(|| format!("alert {fingerprint}"));
    let severity = labels
        .get("severity")
        .or_else(|| labels.get("priority"))
        .cloned();

    let description = describe(
        status,
        &alert_name,
        &labels,
        &annotations,
        starts_at,
        m,
        opts,
    );
    let description = text(&description)
        .ok_or_else(|| FieldError::new(path, "nothing to describe the alert with"))?;
    let mut event = EventFields::new(opts.moment(happened), EventKind::Alert, description);
    event.source = src.clone();
    event.source_id = Some(format!("{fingerprint}:{}:{}", starts_at, status.as_str()));
    event.actor = name(flavor.name()).map(|n| Actor {
        kind: ActorKind::System,
        name: n,
    });
    let mut links = Vec::new();
    let mut add = |kind, url: Option<&str>, title: &str| {
        if let Some(l) = url.and_then(|u| link(kind, u, Some(title))) {
            links.push(l);
        }
    };
    add(
        LinkKind::Dashboard,
        loose_str(m, "generatorURL"),
        "Alert source",
    );
    if flavor == Flavor::Grafana {
        add(
            LinkKind::Dashboard,
            loose_str(m, "dashboardURL"),
            "Dashboard",
        );
        add(LinkKind::Dashboard, loose_str(m, "panelURL"), "Panel");
        add(LinkKind::Other, loose_str(m, "imageURL"), "Image");
    }
    for key in ["runbook_url", "runbook"] {
        add(
            LinkKind::Document,
            annotations.get(key).map(String::as_str),
            "Runbook",
        );
    }
    for key in ["dashboard_url", "dashboard"] {
        add(
            LinkKind::Dashboard,
            annotations.get(key).map(String::as_str),
            "Dashboard",
        );
    }
    event.links = links;
    event
        .validate()
        .map_err(|e| FieldError::new(path, e.to_string()))?;
    Ok(ParsedAlert {
        source: src.clone(),
        group_key: (!group.group_key.is_empty()).then(|| group.group_key.clone()),
        fingerprint,
        status,
        name: alert_name,
        severity,
        labels,
        annotations,
        starts_at: Some(starts_at),
        ends_at,
        event,
    })
}

fn describe(
    status: AlertStatus,
    alert_name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    starts_at: Timestamp,
    m: &Map<String, Value>,
    opts: &Options,
) -> String {
    let mut out = match status {
        AlertStatus::Resolved => format!("**Resolved:** {alert_name}"),
        _ => format!("**Firing:** {alert_name}"),
    };
    let summary = ["summary", "message", "title"]
        .iter()
        .find_map(|k| annotations.get(*k).filter(|s| !s.trim().is_empty()));
    if let Some(summary) = summary
        && summary != alert_name
    {
        out.push_str(" — ");
        out.push_str(summary.trim());
    }
    if status == AlertStatus::Resolved {
        out.push_str(&format!(
            " (firing since {})",
            opts.moment(starts_at).display_local()
        ));
    }
    if let Some(d) = annotations
        .get("description")
        .filter(|d| !d.trim().is_empty())
    {
        out.push_str("\n\n");
        out.push_str(d.trim());
    }
    let shown: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !shown.is_empty() {
        out.push_str("\n\nLabels: ");
        out.push_str(&shorten(&shown.join(", "), 1000));
    }
    if let Some(Value::Object(values)) = m.get("values")
        && !values.is_empty()
    {
        let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str("\n\nValues: ");
        out.push_str(&shorten(&shown.join(", "), 1000));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_alertmanager() {
        // The empty label set hashes to FNV-1a's offset basis, as in Prometheus.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let a = BTreeMap::from([("a".to_owned(), "b".to_owned())]);
        let b = BTreeMap::from([("ab".to_owned(), String::new())]);
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn versions_are_checked() {
        let m = serde_json::json!({"version": "3"});
        let e = check_version(m.as_object().expect("obj")).expect_err("v3");
        assert_eq!(e.path, "version");
        assert!(e.message.contains("expected \"4\""), "{}", e.message);
    }
}
