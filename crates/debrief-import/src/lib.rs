//! Debrief's timeline importers: bytes in, timeline events out.
//!
//! Each importer turns what a team already has — a Slack export, alert and paging webhooks,
//! deployment statuses, Kubernetes events, a CSV or JSON-lines file, a pasted chat transcript —
//! into [`EventFields`](debrief_core::EventFields) with their source and the source's own id, so
//! that importing the same input twice adds nothing (the store keeps one event per source and
//! source id in a postmortem).
//!
//! The crate is pure: it reads the bytes or files it is given and touches no database, network or
//! clock. Every importer either returns a report — the events, each rejected row with its location
//! and reason, and notes about what was skipped or assumed — or, when the input as a whole is
//! unusable (not that format, truncated, the wrong version, over the size limit), one
//! [`ImportError`] naming the file, line, column or field and what was expected. No input makes
//! an importer panic.
//!
//! | format | entry point | gives |
//! |---|---|---|
//! | Slack export (zip or directory) | [`slack::SlackExport`] | streamed [`slack::SlackMessage`]s |
//! | Alertmanager webhook v4 | [`alertmanager::parse`] | [`AlertBatch`] |
//! | Grafana alerting (unified, legacy) | [`grafana::parse`] | [`AlertBatch`] |
//! | PagerDuty webhooks v3, v2 | [`pagerduty::parse`] | [`AlertBatch`] |
//! | Opsgenie webhooks | [`opsgenie::parse`] | [`AlertBatch`] |
//! | GitHub `deployment_status` | [`github::parse`] | [`ImportReport`] |
//! | Kubernetes events | [`kubernetes::parse`] | [`ImportReport`] |
//! | CSV | [`csv::parse`] | [`ImportReport`] |
//! | JSON lines | [`jsonl::parse`] | [`ImportReport`] |
//! | chat transcript | [`transcript::parse`] | [`ImportReport`] |
//!
//! [`import`] reads any of them (except Slack, which is a directory or zip) from a reader under
//! the size limit of [`Options::max_bytes`].

mod common;
mod json;
mod mapping;
mod report;

pub mod alert;
pub mod alertmanager;
pub mod csv;
pub mod github;
pub mod grafana;
pub mod jsonl;
pub mod kubernetes;
pub mod opsgenie;
pub mod pagerduty;
pub mod slack;
pub mod transcript;

use std::io::Read;

pub use alert::{AlertBatch, AlertGroup, AlertStatus, ParsedAlert};
pub use common::{DEFAULT_MAX_BYTES, Options, read_capped};
pub use mapping::{Field, FieldMapping};
pub use report::{ErrorKind, ImportError, ImportReport, Location, MAX_LISTED_REJECTED, Rejected};

/// The formats [`import`] reads (Slack exports are read by [`slack::SlackExport`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Slack,
    Alertmanager,
    Grafana,
    PagerDuty,
    Opsgenie,
    GitHub,
    Kubernetes,
    Csv,
    JsonLines,
    Transcript,
}

impl Format {
    pub const ALL: [Format; 10] = [
        Format::Slack,
        Format::Alertmanager,
        Format::Grafana,
        Format::PagerDuty,
        Format::Opsgenie,
        Format::GitHub,
        Format::Kubernetes,
        Format::Csv,
        Format::JsonLines,
        Format::Transcript,
    ];

    /// The name used on the command line, and the event source it produces.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Slack => "slack",
            Format::Alertmanager => "alertmanager",
            Format::Grafana => "grafana",
            Format::PagerDuty => "pagerduty",
            Format::Opsgenie => "opsgenie",
            Format::GitHub => "github",
            Format::Kubernetes => "kubernetes",
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::Transcript => "transcript",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        let wanted = s.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "json-lines" | "jsonlines" | "ndjson" => "jsonl",
            "k8s" => "kubernetes",
            "chat" | "txt" => "transcript",
            "github-deployment" | "deployment" => "github",
            other => other,
        };
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == alias)
            .ok_or_else(|| {
                format!(
                    "{:?} is not an import format: expected one of {}",
                    s.trim(),
                    Format::ALL.map(Format::as_str).join(", ")
                )
            })
    }
}

/// Imports `input` in `format` (any format but Slack), reading at most [`Options::max_bytes`].
pub fn import<R: Read>(
    format: Format,
    input: R,
    opts: &Options,
) -> Result<ImportReport, ImportError> {
    let whole = |input: R| read_capped(input, opts.max_bytes, opts.file_name.as_deref());
    match format {
        Format::Slack => Err(ImportError::new(
            ErrorKind::Options,
            Location::file(opts.file_name.as_deref()),
            "a Slack export is a zip or a directory: open it with slack::SlackExport",
        )),
        Format::Alertmanager => Ok(alertmanager::parse(&whole(input)?, opts)?.into_report()),
        Format::Grafana => Ok(grafana::parse(&whole(input)?, opts)?.into_report()),
        Format::PagerDuty => Ok(pagerduty::parse(&whole(input)?, opts)?.into_report()),
        Format::Opsgenie => Ok(opsgenie::parse(&whole(input)?, opts)?.into_report()),
        Format::GitHub => github::parse(&whole(input)?, opts),
        Format::Kubernetes => kubernetes::parse(&whole(input)?, opts),
        Format::Csv => csv::parse(input, opts),
        Format::JsonLines => jsonl::parse(input, opts),
        Format::Transcript => transcript::parse(input, opts),
    }
}
