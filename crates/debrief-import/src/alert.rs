//! What the alert and paging importers (Alertmanager, Grafana, PagerDuty, Opsgenie) give besides
//! events: the facts a webhook needs to decide whether to open a draft postmortem, which open one
//! an alert belongs to, and whether it resolves it.

use std::collections::BTreeMap;
use std::fmt;

use debrief_core::{EventFields, Source};
use jiff::Timestamp;

use crate::report::{ImportReport, Rejected};

/// Where an alert is in its life, across tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// Firing, triggered, created.
    Firing,
    /// Someone took it (PagerDuty, Opsgenie).
    Acknowledged,
    /// Resolved, closed, back to normal.
    Resolved,
    /// Anything else that happened to it: a note, an escalation, a reassignment.
    Updated,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Updated => "updated",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert (or one thing that happened to an alert or page) and the event recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAlert {
    pub source: Source,
    /// The key that groups this alert with others of the same incident: Alertmanager's and
    /// Grafana's `groupKey`, PagerDuty's incident id, Opsgenie's alert id. Later alerts with the
    /// same key belong to the same postmortem.
    pub group_key: Option<String>,
    /// The identity of the alert itself, stable across notifications: Alertmanager's and Grafana's
    /// `fingerprint` (computed from the labels when the payload has none), PagerDuty's incident id,
    /// Opsgenie's alert id.
    pub fingerprint: String,
    pub status: AlertStatus,
    /// The alert's name or title: `alertname`, the incident title, the alert message.
    pub name: String,
    /// The severity or priority as the tool wrote it (`critical`, `P1`, `high`), when it has one:
    /// the `severity` label, PagerDuty's urgency, Opsgenie's priority.
    pub severity: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Option<Timestamp>,
    /// When it ended; `None` while it is still firing.
    pub ends_at: Option<Timestamp>,
    /// The event for the timeline.
    pub event: EventFields,
}

/// The group-level facts of an Alertmanager or Grafana notification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertGroup {
    pub group_key: String,
    /// The status of the group as a whole: firing while any of its alerts fires.
    pub status: Option<AlertStatus>,
    pub receiver: String,
    pub group_labels: BTreeMap<String, String>,
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    pub external_url: Option<String>,
    /// How many alerts the sender left out (`max_alerts`).
    pub truncated_alerts: u64,
}

/// What an alert or paging payload gives: the groups it carried (one per notification; a file of
/// saved notifications may hold several), the alerts with their events, the rows refused and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertBatch {
    pub groups: Vec<AlertGroup>,
    pub alerts: Vec<ParsedAlert>,
    pub rejected: Vec<Rejected>,
    /// Rejected alerts beyond [`MAX_LISTED_REJECTED`](crate::MAX_LISTED_REJECTED), counted only.
    pub rejected_unlisted: u64,
    pub notes: Vec<String>,
}

impl AlertBatch {
    /// The events, as a plain import report (for the CLI, which has no use for the alert facts).
    pub fn into_report(self) -> ImportReport {
        ImportReport {
            events: self.alerts.into_iter().map(|a| a.event).collect(),
            rejected: self.rejected,
            rejected_unlisted: self.rejected_unlisted,
            notes: self.notes,
        }
    }
}
