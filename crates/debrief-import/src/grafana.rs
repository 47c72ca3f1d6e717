//! Grafana alerting webhooks: the unified format (Grafana 8 and later: Alertmanager's shape with
//! dashboard and panel links and the values that fired), and the legacy format of the old
//! dashboard alerts, which has no time at all.
//!
//! A legacy alert is recorded at the time the caller received it ([`Options::received_at`]), known
//! to the minute, and its description says so. Its source id is the rule, the state and that
//! minute, so a retry within the same minute adds nothing.

use std::collections::{BTreeMap, HashSet};

use debrief_core::{Actor, ActorKind, EventFields, EventKind, LinkKind, Moment, Precision};
use serde_json::{Map, Value};

use crate::alert::{AlertBatch, AlertStatus, ParsedAlert};
use crate::alertmanager::{Flavor, finish, parse_group};
use crate::common::{Options, link, name, shorten, source, text};
use crate::json::{
    FieldError, FieldResult, documents, located, loose_str, object, opt_int, string_map,
};
use crate::report::{ImportError, Problems};

/// Reads a Grafana alerting webhook body (or a file of them).
pub fn parse(bytes: &[u8], opts: &Options) -> Result<AlertBatch, ImportError> {
    opts.check_size(bytes)?;
    let docs = documents(bytes, opts.file())?;
    let mut batch = AlertBatch::default();
    let mut problems = Problems::default();
    let mut seen = HashSet::new();
    let single = docs.len() == 1;
    for (base, doc) in &docs {
        let result = object(doc, "").and_then(|m| {
            if m.contains_key("alerts") {
                parse_group(m, base, Flavor::Grafana, opts, &mut problems, &mut seen, &mut batch)
            } else if m.contains_key("ruleName") || m.contains_key("evalMatches") || m.contains_key("ruleId") {
                let Some(received) = opts.received_at else {
                    return Err(FieldError::options(
                        "",
                        "this is a legacy Grafana alert, which carries no time: the time it was received is needed",
                    ));
                };
                let alert = legacy(m, received, opts)?;
                if opts.in_window(alert.event.happened_at.at()) {
                    let id = alert.event.source_id.clone().unwrap_or_default();
                    if seen.insert(id) {
                        problems.note(format!(
                            "legacy Grafana alert {:?}: the payload has no time, so the time it was received ({}) was used",
                            shorten(&alert.name, 80),
                            alert.event.happened_at
                        ));
                        batch.alerts.push(alert);
                    }
                }
                Ok(())
            } else {
                Err(FieldError::new(
                    "",
                    "not a Grafana alert: expected the unified format (an object with alerts) or the legacy one (with ruleName and state)",
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

fn legacy(
    m: &Map<String, Value>,
    received: jiff::Timestamp,
    opts: &Options,
) -> FieldResult<ParsedAlert> {
    let state = loose_str(m, "state")
        .unwrap_or("alerting")
        .trim()
        .to_ascii_lowercase();
    let status = match state.as_str() {
        "alerting" => AlertStatus::Firing,
        "ok" => AlertStatus::Resolved,
        _ => AlertStatus::Updated,
    };
    let rule = loose_str(m, "ruleName")
        .or_else(|| loose_str(m, "title"))
        .unwrap_or("Grafana alert")
        .trim()
        .to_owned();
    let id_part = |key: &str| -> FieldResult<String> {
        Ok(opt_int(m, key, "")?
            .map(|n| n.to_string())
            .unwrap_or_default())
    };
    let rule_key = format!(
        "legacy:{}/{}/{}/{}",
        id_part("orgId")?,
        id_part("dashboardId")?,
        id_part("panelId")?,
        id_part("ruleId")?
    );
    let at = Moment::new(received, opts.zone.clone(), Precision::Minute)
        .map_err(|e| FieldError::new("", e.message))?;
    let mut description = match status {
        AlertStatus::Firing => format!("**Alerting:** {rule}"),
        AlertStatus::Resolved => format!("**OK:** {rule}"),
        _ => format!("**{}:** {rule}", capitalize(&state)),
    };
    if let Some(msg) = loose_str(m, "message") {
        description.push_str(" — ");
        description.push_str(msg.trim());
    }
    if let Some(Value::Array(matches)) = m.get("evalMatches") {
        let shown: Vec<String> = matches
            .iter()
            .filter_map(Value::as_object)
            .map(|em| {
                let metric = loose_str(em, "metric").unwrap_or("value");
                let value = em.get("value").map(Value::to_string).unwrap_or_default();
                format!("{metric}={value}")
            })
            .collect();
        if !shown.is_empty() {
            description.push_str("\n\nValues: ");
            description.push_str(&shorten(&shown.join(", "), 1000));
        }
    }
    description.push_str(
        "\n\n_Time of receipt: the legacy Grafana alert format carries no time of its own._",
    );
    let description = text(&description)
        .ok_or_else(|| FieldError::new("", "nothing to describe the alert with"))?;
    let mut event = EventFields::new(at.clone(), EventKind::Alert, description);
    event.source = source("grafana");
    event.source_id = Some(format!("{rule_key}:{state}:{}", at.at()));
    event.actor = name("grafana").map(|n| Actor {
        kind: ActorKind::System,
        name: n,
    });
    if let Some(l) =
        loose_str(m, "ruleUrl").and_then(|u| link(LinkKind::Dashboard, u, Some("Alert rule")))
    {
        event.links.push(l);
    }
    if let Some(l) = loose_str(m, "imageUrl").and_then(|u| link(LinkKind::Other, u, Some("Image")))
    {
        event.links.push(l);
    }
    event
        .validate()
        .map_err(|e| FieldError::new("", e.to_string()))?;
    let labels: BTreeMap<String, String> = string_map(m, "tags", "")?;
    let severity = labels.get("severity").cloned();
    Ok(ParsedAlert {
        source: source("grafana"),
        group_key: Some(rule_key.clone()),
        fingerprint: rule_key,
        status,
        name: rule,
        severity,
        labels,
        annotations: BTreeMap::new(),
        starts_at: None,
        ends_at: None,
        event,
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
