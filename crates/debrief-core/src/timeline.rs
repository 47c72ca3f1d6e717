//! Timeline events: what happened, when, who or what did it, and each person's account of it.
//!
//! Different people's accounts of the same moment are separate events that share a time: dissent is
//! recorded side by side, never overwritten.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::postmortem::{KeyMoment, Link, Version, simple_enum};
use crate::text::{Name, Text};
use crate::time::Moment;

/// The id of a timeline event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub i64);

simple_enum!(
    /// What kind of moment an event records.
    EventKind, "event kind" {
        Detection => "detection",
        Alert => "alert",
        Report => "report",
        Action => "action",
        CommunicationIn => "communication_in",
        CommunicationOut => "communication_out",
        Observation => "observation",
        Decision => "decision",
        Milestone => "milestone",
        Note => "note",
    }
);

simple_enum!(
    /// Whether an actor is a person, a team or a system.
    ActorKind, "actor kind" {
        Person => "person",
        Team => "team",
        System => "system",
    }
);

/// Who or what acted: a person, a team or a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub name: Name,
}

impl Actor {
    /// Parses `person:Alice`, `team:payments`, `system:alertmanager`, or a bare name (a person).
    pub fn parse(s: &str) -> Result<Actor, ParseError> {
        let s = s.trim();
        if let Some((kind, name)) = s.split_once(':')
            && let Ok(kind) = kind.parse::<ActorKind>()
        {
            let name = name.parse::<Name>().map_err(|e| e.within("actor"))?;
            return Ok(Actor { kind, name });
        }
        Ok(Actor {
            kind: ActorKind::Person,
            name: s.parse::<Name>().map_err(|e| e.within("actor"))?,
        })
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ActorKind::Person => write!(f, "{}", self.name),
            kind => write!(f, "{}:{}", kind, self.name),
        }
    }
}

/// Where an event came from: `manual`, an importer (`slack`, `alertmanager`, …), or another tool.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Source(String);

impl Source {
    /// The sources Debrief knows by name.
    pub const KNOWN: &'static [&'static str] = &[
        "manual",
        "slack",
        "alertmanager",
        "grafana",
        "pagerduty",
        "opsgenie",
        "github",
        "kubernetes",
        "csv",
        "jsonl",
        "markdown",
        "transcript",
        "webhook",
    ];

    pub fn manual() -> Source {
        Source("manual".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Source {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Source, ParseError> {
        let t = s.trim().to_ascii_lowercase();
        let ok = !t.is_empty()
            && t.len() <= 40
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(Source(t))
        } else {
            Err(ParseError::new(
                "source",
                format!(
                    "{:?} is not a source: use a short name such as {}",
                    s.trim(),
                    Source::KNOWN.join(", ")
                ),
            ))
        }
    }
}

impl TryFrom<String> for Source {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Source, ParseError> {
        s.parse()
    }
}

impl From<Source> for String {
    fn from(s: Source) -> String {
        s.0
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

simple_enum!(
    /// What the review concluded an event did for the response.
    Outcome, "outcome" {
        Helped => "helped",
        Hindered => "hindered",
        Neutral => "neutral",
    }
);

/// A person's account of a moment: what they knew, expected and assumed at the time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub knew: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expected: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub assumed: String,
}

impl Account {
    pub fn is_empty(&self) -> bool {
        self.knew.is_empty() && self.expected.is_empty() && self.assumed.is_empty()
    }
}

/// Everything about an event that people write or importers fill in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFields {
    pub happened_at: Moment,
    pub kind: EventKind,
    /// For a milestone event: the key moment it sets on the postmortem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<KeyMoment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Actor>,
    /// What happened: describe, don't explain.
    pub description: Text,
    pub source: Source,
    /// The source's own id, for de-duplication on re-import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Whose account this is, when it is one person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_of: Option<Name>,
    #[serde(default, skip_serializing_if = "Account::is_empty")]
    pub account: Account,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// "What could we do differently", as discussed in the review.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub differently: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub pinned: bool,
}

impl EventFields {
    /// A manual event with just a time, a kind and a description.
    pub fn new(happened_at: Moment, kind: EventKind, description: Text) -> EventFields {
        EventFields {
            happened_at,
            kind,
            milestone: None,
            actor: None,
            description,
            source: Source::manual(),
            source_id: None,
            account_of: None,
            account: Account::default(),
            outcome: None,
            differently: String::new(),
            links: Vec::new(),
            hidden: false,
            pinned: false,
        }
    }

    /// Checks the rules that span fields: a milestone names its key moment only on milestone
    /// events, and a source id is one line.
    pub fn validate(&self) -> Result<(), ParseError> {
        for (field, text) in [
            ("account.knew", &self.account.knew),
            ("account.expected", &self.account.expected),
            ("account.assumed", &self.account.assumed),
            ("differently", &self.differently),
        ] {
            crate::text::check_free_text(field, text)?;
        }
        if self.milestone.is_some() && self.kind != EventKind::Milestone {
            return Err(ParseError::new(
                "milestone",
                format!(
                    "only a milestone event can set a key moment (this event's kind is {})",
                    self.kind
                ),
            ));
        }
        if let Some(id) = &self.source_id
            && (id.is_empty() || id.len() > 500 || id.contains(['\n', '\r']))
        {
            return Err(ParseError::new(
                "source_id",
                "must be one non-empty line of at most 500 bytes",
            ));
        }
        Ok(())
    }

    /// Brings free text into its stored form.
    pub fn normalize(&mut self) {
        for text in [
            &mut self.account.knew,
            &mut self.account.expected,
            &mut self.account.assumed,
            &mut self.differently,
        ] {
            *text = crate::text::normalize_text(text);
        }
    }
}

/// A stored timeline event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub id: EventId,
    pub version: Version,
    pub recorded_at: Timestamp,
    #[serde(flatten)]
    pub fields: EventFields,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_parse_with_or_without_kind() {
        let a = Actor::parse("system:alertmanager").expect("system");
        assert_eq!(a.kind, ActorKind::System);
        assert_eq!(a.to_string(), "system:alertmanager");
        let p = Actor::parse("Dana Ruiz").expect("person");
        assert_eq!(p.kind, ActorKind::Person);
        assert_eq!(p.to_string(), "Dana Ruiz");
        // A colon that is not a kind is part of the name.
        assert_eq!(
            Actor::parse("ops: night").expect("name").name.as_str(),
            "ops: night"
        );
        assert!(Actor::parse("  ").is_err());
    }

    #[test]
    fn milestone_only_on_milestone_events() {
        let z = crate::time::Zone::utc();
        let at = Moment::parse("2024-01-01 10:00", &z).expect("moment");
        let mut e = EventFields::new(at, EventKind::Alert, "Paged".parse().expect("text"));
        e.milestone = Some(KeyMoment::Detected);
        assert_eq!(e.validate().expect_err("mismatch").field, "milestone");
        e.kind = EventKind::Milestone;
        assert!(e.validate().is_ok());
    }

    #[test]
    fn event_kinds_parse_loosely() {
        assert_eq!(
            "communication-out".parse::<EventKind>().expect("kind"),
            EventKind::CommunicationOut
        );
        let err = "explosion".parse::<EventKind>().expect_err("unknown kind");
        assert!(
            err.message
                .starts_with("\"explosion\" is not an event kind: expected one of detection"),
            "{err}"
        );
    }
}
