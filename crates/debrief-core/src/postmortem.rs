//! The postmortem: one per incident, with every section of the write-up.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ParseError;
use crate::text::{Label, Line, Name, Title, Url};
use crate::time::Moment;

/// A postmortem's short key, `PM-42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(u32);

impl Key {
    /// The largest key number. Far beyond any archive, and low enough that "the next number"
    /// always exists.
    pub const MAX: u32 = 999_999_999;

    pub fn new(number: u32) -> Result<Key, ParseError> {
        if number == 0 {
            return Err(ParseError::new("key", "key numbers start at 1"));
        }
        if number > Key::MAX {
            return Err(ParseError::new(
                "key",
                format!(
                    "PM-{number} is too large: key numbers go up to {}",
                    Key::MAX
                ),
            ));
        }
        Ok(Key(number))
    }

    pub fn number(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PM-{}", self.0)
    }
}

impl std::str::FromStr for Key {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Key, ParseError> {
        let t = s.trim();
        let digits = t
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("pm-"))
            .map(|_| &t[3..])
            .unwrap_or(t);
        match digits.parse::<u32>() {
            Ok(n) if n > 0 && digits.chars().all(|c| c.is_ascii_digit()) => Key::new(n),
            _ => Err(ParseError::new(
                "key",
                format!("{t:?} is not a postmortem key: expected PM-<number>, such as PM-42"),
            )),
        }
    }
}

impl TryFrom<String> for Key {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Key, ParseError> {
        s.parse()
    }
}

impl From<Key> for String {
    fn from(k: Key) -> String {
        k.to_string()
    }
}

/// The version of a record, for optimistic concurrency: an edit names the version it was made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(pub i64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Severity, `SEV1` (worst) to `SEV<n>`; the default scale has four levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Severity(u8);

impl Severity {
    /// The number of levels on the default scale (SEV1–SEV4).
    pub const DEFAULT_LEVELS: u8 = 4;

    pub fn level(self) -> u8 {
        self.0
    }

    /// Parses `SEV2` (or `sev2`, `2`) against a scale of `levels` levels.
    pub fn parse_with_levels(s: &str, levels: u8) -> Result<Severity, ParseError> {
        let t = s.trim();
        let digits = t
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("sev"))
            .map(|_| &t[3..])
            .unwrap_or(t);
        match digits.parse::<u8>() {
            Ok(n) if (1..=levels).contains(&n) => Ok(Severity(n)),
            _ => {
                let all: Vec<String> = (1..=levels).map(|n| format!("SEV{n}")).collect();
                Err(ParseError::new(
                    "severity",
                    format!(
                        "{t:?} is not a severity: expected one of {}",
                        all.join(", ")
                    ),
                ))
            }
        }
    }
}

impl Severity {
    /// Refuses a severity outside the scale in force. Stored records keep the severity they were
    /// written with; new input (a form, an API body, an imported document) is held to the scale.
    pub fn check_scale(self, levels: u8) -> Result<(), ParseError> {
        Severity::parse_with_levels(&self.to_string(), levels).map(|_| ())
    }
}

impl Default for Severity {
    fn default() -> Self {
        Severity(3)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV{}", self.0)
    }
}

impl std::str::FromStr for Severity {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Severity, ParseError> {
        Severity::parse_with_levels(s, Severity::DEFAULT_LEVELS)
    }
}

impl TryFrom<String> for Severity {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Severity, ParseError> {
        // Stored severities were valid on the scale in force when written; accept any level.
        Severity::parse_with_levels(&s, u8::MAX)
    }
}

impl From<Severity> for String {
    fn from(s: Severity) -> String {
        s.to_string()
    }
}

macro_rules! simple_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ParseError;
            fn from_str(s: &str) -> Result<Self, $crate::ParseError> {
                let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::ParseError::new(
                            "",
                            format!(
                                "{:?} is not {} {}: expected one of {}",
                                s.trim(),
                                if $what.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                                $what,
                                names.join(", ")
                            ),
                        )
                    })
            }
        }
    };
}
pub(crate) use simple_enum;

simple_enum!(
    /// Where a postmortem is in its life.
    Status, "status" {
        Draft => "draft",
        InReview => "in_review",
        Published => "published",
        Closed => "closed",
    }
);

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the postmortem is already {0}")]
    Unchanged(Status),
    #[error(
        "cannot go from {from} to {to}: move one step at a time (draft → in_review → published → closed)"
    )]
    Skips { from: Status, to: Status },
    #[error("cannot close: {open} action item(s) are neither done nor declined with a reason")]
    OpenActions { open: usize },
    #[error(
        "the postmortem is closed: move it back to published before adding or reopening an action"
    )]
    ActionOnClosed,
}

/// Which way a permitted status change goes. Going back is allowed and recorded as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Forward,
    Backward,
}

impl Status {
    fn rank(self) -> u8 {
        match self {
            Status::Draft => 0,
            Status::InReview => 1,
            Status::Published => 2,
            Status::Closed => 3,
        }
    }

    /// Checks a status change. Forward moves go one step at a time; a postmortem closes only when
    /// every action is done or declined (`unfinished_actions` counts the others). Moving back to
    /// any earlier status is allowed.
    pub fn transition(
        self,
        to: Status,
        unfinished_actions: usize,
    ) -> Result<Direction, TransitionError> {
        if self == to {
            return Err(TransitionError::Unchanged(self));
        }
        if to.rank() < self.rank() {
            return Ok(Direction::Backward);
        }
        if to.rank() != self.rank() + 1 {
            return Err(TransitionError::Skips { from: self, to });
        }
        if to == Status::Closed && unfinished_actions > 0 {
            return Err(TransitionError::OpenActions {
                open: unfinished_actions,
            });
        }
        Ok(Direction::Forward)
    }
}

simple_enum!(
    /// The key moments of an incident, in the order they normally happen.
    KeyMoment, "key moment" {
        Started => "started",
        Detected => "detected",
        Acknowledged => "acknowledged",
        Mitigated => "mitigated",
        Resolved => "resolved",
    }
);

/// When the incident started, was detected, acknowledged, mitigated and resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMoments {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigated: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Moment>,
}

impl KeyMoments {
    pub fn get(&self, which: KeyMoment) -> Option<&Moment> {
        match which {
            KeyMoment::Started => self.started.as_ref(),
            KeyMoment::Detected => self.detected.as_ref(),
            KeyMoment::Acknowledged => self.acknowledged.as_ref(),
            KeyMoment::Mitigated => self.mitigated.as_ref(),
            KeyMoment::Resolved => self.resolved.as_ref(),
        }
    }

    pub fn set(&mut self, which: KeyMoment, value: Option<Moment>) {
        let slot = match which {
            KeyMoment::Started => &mut self.started,
            KeyMoment::Detected => &mut self.detected,
            KeyMoment::Acknowledged => &mut self.acknowledged,
            KeyMoment::Mitigated => &mut self.mitigated,
            KeyMoment::Resolved => &mut self.resolved,
        };
        *slot = value;
    }

    /// The derived durations. Each is computed, never typed in; it is absent when either end is.
    pub fn durations(&self) -> Durations {
        let between = |from: &Option<Moment>, to: &Option<Moment>| match (from, to) {
            (Some(a), Some(b)) => Some(b.at().duration_since(a.at())),
            _ => None,
        };
        Durations {
            time_to_detect: between(&self.started, &self.detected),
            time_to_acknowledge: between(&self.detected, &self.acknowledged),
            time_to_mitigate: between(&self.started, &self.mitigated),
            time_to_resolve: between(&self.started, &self.resolved),
        }
    }

    /// Pairs of key moments that are out of order (a later one before an earlier one).
    pub fn out_of_order(&self) -> Vec<(KeyMoment, KeyMoment)> {
        let present: Vec<(KeyMoment, &Moment)> = KeyMoment::ALL
            .iter()
            .filter_map(|k| self.get(*k).map(|m| (*k, m)))
            .collect();
        let mut wrong = Vec::new();
        for (i, (ka, a)) in present.iter().enumerate() {
            for (kb, b) in &present[i + 1..] {
                if b.at() < a.at() {
                    wrong.push((*ka, *kb));
                }
            }
        }
        wrong
    }
}

/// Durations derived from the key moments.
///
/// time to detect = detected − started; time to acknowledge = acknowledged − detected;
/// time to mitigate = mitigated − started; time to resolve = resolved − started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    pub time_to_detect: Option<SignedDuration>,
    pub time_to_acknowledge: Option<SignedDuration>,
    pub time_to_mitigate: Option<SignedDuration>,
    pub time_to_resolve: Option<SignedDuration>,
}

/// Formats a duration for people: `42s`, `5m`, `1h 08m`, `2d 03h`.
pub fn human_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let text = if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        if s.is_multiple_of(60) {
            format!("{}m", s / 60)
        } else {
            format!("{}m {:02}s", s / 60, s % 60)
        }
    } else if s < 86_400 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600)
    };
    format!("{sign}{text}")
}

/// The customer-facing statement: regret, reason, remedy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreeRs {
    #[serde(default)]
    pub regret: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub remedy: String,
}

impl ThreeRs {
    pub fn is_empty(&self) -> bool {
        self.regret.is_empty() && self.reason.is_empty() && self.remedy.is_empty()
    }
}

/// A category from the contributing-factor taxonomy: lowercase words joined by `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FactorCategory(String);

impl FactorCategory {
    /// The default taxonomy.
    pub const DEFAULTS: &'static [&'static str] = &[
        "change",
        "configuration",
        "capacity",
        "dependency",
        "monitoring_gap",
        "process",
        "knowledge",
        "communication",
        "tooling",
        "other",
    ];

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses against a taxonomy (`FactorCategory::DEFAULTS` unless a team configured its own).
    pub fn parse_in(s: &str, taxonomy: &[&str]) -> Result<FactorCategory, ParseError> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        if taxonomy.contains(&wanted.as_str()) {
            Ok(FactorCategory(wanted))
        } else {
            Err(ParseError::new(
                "category",
                format!(
                    "{:?} is not a contributing-factor category: expected one of {}",
                    s.trim(),
                    taxonomy.join(", ")
                ),
            ))
        }
    }
}

impl std::str::FromStr for FactorCategory {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        FactorCategory::parse_in(s, FactorCategory::DEFAULTS)
    }
}

impl TryFrom<String> for FactorCategory {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        // A stored category came from the taxonomy in force when it was written: keep its shape
        // rules only, so a team that trims its taxonomy does not lose old factors.
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(FactorCategory(s))
        } else {
            Err(ParseError::new(
                "category",
                format!("{s:?} is not a category"),
            ))
        }
    }
}

impl From<FactorCategory> for String {
    fn from(c: FactorCategory) -> String {
        c.0
    }
}

impl fmt::Display for FactorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contributing factor: one of several, never "the root cause".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributingFactor {
    pub category: FactorCategory,
    pub text: Line,
}

/// Lessons learned, in the five prompts of the practice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lessons {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub what_helped: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub what_slowed_us: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub do_differently: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub know_now: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub got_lucky: Vec<Line>,
}

simple_enum!(
    /// The prompts of "lessons learned".
    LessonKind, "lesson kind" {
        WhatHelped => "what_helped",
        WhatSlowedUs => "what_slowed_us",
        DoDifferently => "do_differently",
        KnowNow => "know_now",
        GotLucky => "got_lucky",
    }
);

impl LessonKind {
    /// The prompt as a person reads it.
    pub fn prompt(self) -> &'static str {
        match self {
            LessonKind::WhatHelped => "What helped us",
            LessonKind::WhatSlowedUs => "What slowed us down",
            LessonKind::DoDifferently => "What we would do differently",
            LessonKind::KnowNow => "What we know now that we did not before",
            LessonKind::GotLucky => "Where we got lucky",
        }
    }
}

impl Lessons {
    pub fn of(&self, kind: LessonKind) -> &Vec<Line> {
        match kind {
            LessonKind::WhatHelped => &self.what_helped,
            LessonKind::WhatSlowedUs => &self.what_slowed_us,
            LessonKind::DoDifferently => &self.do_differently,
            LessonKind::KnowNow => &self.know_now,
            LessonKind::GotLucky => &self.got_lucky,
        }
    }

    pub fn of_mut(&mut self, kind: LessonKind) -> &mut Vec<Line> {
        match kind {
            LessonKind::WhatHelped => &mut self.what_helped,
            LessonKind::WhatSlowedUs => &mut self.what_slowed_us,
            LessonKind::DoDifferently => &mut self.do_differently,
            LessonKind::KnowNow => &mut self.know_now,
            LessonKind::GotLucky => &mut self.got_lucky,
        }
    }

    pub fn is_empty(&self) -> bool {
        LessonKind::ALL.iter().all(|k| self.of(*k).is_empty())
    }
}

simple_enum!(
    /// The five questions that remediation ideas and action items answer.
    Question, "question" {
        Detect => "detect",
        React => "react",
        QuickFix => "quick_fix",
        Prevent => "prevent",
        OtherRisks => "other_risks",
    }
);

impl Question {
    /// The question as a person reads it.
    pub fn prompt(self) -> &'static str {
        match self {
            Question::Detect => "Detect: how could we detect this sooner?",
            Question::React => "React: how could we react better?",
            Question::QuickFix => "Quick fix: what would have mitigated it faster?",
            Question::Prevent => "Prevent: how do we keep it from happening again?",
            Question::OtherRisks => "Other areas of risk: where else does the same weakness hide?",
        }
    }
}

/// A remediation idea from the brainstorm, before it becomes an action item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationIdea {
    pub question: Question,
    pub text: Line,
}

simple_enum!(
    /// What a link points at.
    LinkKind, "link kind" {
        Logs => "logs",
        MergeRequest => "merge_request",
        CiRun => "ci_run",
        Chat => "chat",
        Dashboard => "dashboard",
        Ticket => "ticket",
        Document => "document",
        Other => "other",
    }
);

/// A link to evidence: logs, merge requests, CI runs, chat messages, dashboards, tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    pub url: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Line>,
}

/// The review meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator: Option<Name>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// Everything about a postmortem that people write; the record adds identity and bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemFields {
    pub title: Title,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub impact: String,
    pub severity: Severity,
    #[serde(default)]
    pub services: Vec<Label>,
    #[serde(default)]
    pub tags: Vec<Label>,
    #[serde(default)]
    pub key_moments: KeyMoments,
    #[serde(default)]
    pub customer_statement: ThreeRs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_cost: Option<Line>,
    #[serde(default)]
    pub factors: Vec<ContributingFactor>,
    #[serde(default)]
    pub lessons: Lessons,
    #[serde(default)]
    pub ideas: Vec<RemediationIdea>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub meeting: Meeting,
}

impl PostmortemFields {
    /// A new postmortem with only a title and a severity: the cheap start the practice asks for.
    pub fn new(title: Title, severity: Severity) -> PostmortemFields {
        PostmortemFields {
            title,
            summary: String::new(),
            impact: String::new(),
            severity,
            services: Vec::new(),
            tags: Vec::new(),
            key_moments: KeyMoments::default(),
            customer_statement: ThreeRs::default(),
            incident_cost: None,
            factors: Vec::new(),
            lessons: Lessons::default(),
            ideas: Vec::new(),
            links: Vec::new(),
            notes: String::new(),
            meeting: Meeting::default(),
        }
    }

    /// Checks the free-text fields for characters that do not belong in text.
    pub fn validate(&self) -> Result<(), ParseError> {
        for (field, text) in [
            ("summary", &self.summary),
            ("impact", &self.impact),
            ("notes", &self.notes),
            ("meeting.notes", &self.meeting.notes),
            ("customer_statement.regret", &self.customer_statement.regret),
            ("customer_statement.reason", &self.customer_statement.reason),
            ("customer_statement.remedy", &self.customer_statement.remedy),
        ] {
            crate::text::check_free_text(field, text)?;
        }
        Ok(())
    }

    /// Brings free-text fields into their stored form (trimmed, LF line ends) and removes
    /// duplicate services and tags, keeping the first occurrence.
    pub fn normalize(&mut self) {
        for text in [
            &mut self.summary,
            &mut self.impact,
            &mut self.notes,
            &mut self.meeting.notes,
            &mut self.customer_statement.regret,
            &mut self.customer_statement.reason,
            &mut self.customer_statement.remedy,
        ] {
            *text = crate::text::normalize_text(text);
        }
        dedup_keep_first(&mut self.services);
        dedup_keep_first(&mut self.tags);
    }
}

fn dedup_keep_first<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    items.retain(|item| {
        if seen.contains(item) {
            false
        } else {
            seen.push(item.clone());
            true
        }
    });
}

/// A stored postmortem: its fields plus identity, status and bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postmortem {
    pub key: Key,
    pub version: Version,
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub fields: PostmortemFields,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;

    #[test]
    fn keys_parse_and_print() {
        assert_eq!("PM-42".parse::<Key>().expect("key").to_string(), "PM-42");
        assert_eq!("pm-7".parse::<Key>().expect("key").number(), 7);
        assert_eq!("12".parse::<Key>().expect("key").number(), 12);
        let err = "PM-4294967295".parse::<Key>().expect_err("too large");
        assert!(err.message.contains("too large"), "{err}");
        assert!("PM-999999999".parse::<Key>().is_ok());
        for bad in ["PM-", "PM-0", "PM-x", "42a", "PM--1", ""] {
            let err = bad.parse::<Key>().expect_err(bad);
            assert!(err.message.contains("PM-<number>"), "{bad}: {err}");
        }
    }

    #[test]
    fn severity_refuses_levels_off_the_scale() {
        assert_eq!("SEV1".parse::<Severity>().expect("sev").level(), 1);
        assert_eq!("sev4".parse::<Severity>().expect("sev").to_string(), "SEV4");
        let err = "SEV9".parse::<Severity>().expect_err("sev9");
        assert_eq!(
            err.to_string(),
            "severity: \"SEV9\" is not a severity: expected one of SEV1, SEV2, SEV3, SEV4"
        );
        assert!(Severity::parse_with_levels("SEV5", 5).is_ok());
    }

    #[test]
    fn status_moves_one_step_forward_and_any_step_back() {
        use Status::*;
        assert_eq!(Draft.transition(InReview, 0), Ok(Direction::Forward));
        assert_eq!(InReview.transition(Published, 3), Ok(Direction::Forward));
        assert!(matches!(
            Draft.transition(Published, 0),
            Err(TransitionError::Skips { .. })
        ));
        assert_eq!(Published.transition(Draft, 0), Ok(Direction::Backward));
        assert_eq!(Closed.transition(InReview, 0), Ok(Direction::Backward));
        assert_eq!(
            Draft.transition(Draft, 0),
            Err(TransitionError::Unchanged(Draft))
        );
        assert_eq!(
            Published.transition(Closed, 2),
            Err(TransitionError::OpenActions { open: 2 })
        );
        assert_eq!(Published.transition(Closed, 0), Ok(Direction::Forward));
        assert_eq!("in review".parse::<Status>().expect("status"), InReview);
    }

    #[test]
    fn durations_are_derived_from_key_moments() {
        let z = Zone::utc();
        let m = |s: &str| Some(Moment::parse(s, &z).expect("moment"));
        let km = KeyMoments {
            started: m("2024-05-01 10:00"),
            detected: m("2024-05-01 10:07"),
            acknowledged: m("2024-05-01 10:09:30"),
            mitigated: m("2024-05-01 11:08"),
            resolved: None,
        };
        let d = km.durations();
        assert_eq!(d.time_to_detect, Some(SignedDuration::from_mins(7)));
        assert_eq!(d.time_to_acknowledge, Some(SignedDuration::from_secs(150)));
        assert_eq!(d.time_to_mitigate, Some(SignedDuration::from_mins(68)));
        assert_eq!(d.time_to_resolve, None);
        assert_eq!(human_duration(SignedDuration::from_mins(68)), "1h 08m");
        assert_eq!(human_duration(SignedDuration::from_secs(150)), "2m 30s");
        assert!(km.out_of_order().is_empty());
    }

    #[test]
    fn out_of_order_moments_are_reported() {
        let z = Zone::utc();
        let km = KeyMoments {
            started: Some(Moment::parse("2024-05-01 10:00", &z).expect("m")),
            detected: Some(Moment::parse("2024-05-01 09:00", &z).expect("m")),
            ..KeyMoments::default()
        };
        assert_eq!(
            km.out_of_order(),
            vec![(KeyMoment::Started, KeyMoment::Detected)]
        );
    }

    #[test]
    fn factor_categories_come_from_the_taxonomy() {
        assert_eq!(
            "Monitoring gap"
                .parse::<FactorCategory>()
                .expect("cat")
                .as_str(),
            "monitoring_gap"
        );
        let err = "bad luck".parse::<FactorCategory>().expect_err("unknown");
        assert!(err.message.contains("expected one of change"), "{err}");
    }
}
