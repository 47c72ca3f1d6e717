//! Action items: every one has an owner and a check-in date, or it does not exist.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::postmortem::{Key, Question, Version, simple_enum};
use crate::text::{Line, Name, Title, Url};

/// The id of an action item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(pub i64);

simple_enum!(
    /// How urgent an action is.
    Priority, "priority" {
        High => "high",
        Medium => "medium",
        Low => "low",
    }
);

/// Where an action stands. A declined action carries the reason it was declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Declined { reason: Line },
}

impl ActionStatus {
    pub fn name(&self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Declined { .. } => "declined",
        }
    }

    /// Done, or declined with a reason: nothing more to follow up.
    pub fn is_finished(&self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Declined { .. })
    }

    /// Parses `open`, `in_progress`, `done`, or `declined` with its reason.
    pub fn parse(name: &str, reason: Option<&str>) -> Result<ActionStatus, ParseError> {
        let wanted = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match wanted.as_str() {
            "open" => Ok(ActionStatus::Open),
            "in_progress" => Ok(ActionStatus::InProgress),
            "done" => Ok(ActionStatus::Done),
            "declined" => {
                let reason = reason.unwrap_or("").parse::<Line>().map_err(|_| {
                    ParseError::new(
                        "reason",
                        "a declined action needs the reason it was declined",
                    )
                })?;
                Ok(ActionStatus::Declined { reason })
            }
            _ => Err(ParseError::new(
                "status",
                format!(
                    "{:?} is not an action status: expected one of open, in_progress, done, declined",
                    name.trim()
                ),
            )),
        }
    }
}

/// The SMART checks of an action: specific, measurable (a success criterion), agreed by the owner,
/// realistic. Time-bound is the check-in date, which every action has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartChecks {
    #[serde(default)]
    pub specific: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub success_criterion: String,
    #[serde(default)]
    pub agreed_by_owner: bool,
    #[serde(default)]
    pub realistic: bool,
}

impl SmartChecks {
    /// The checks not yet met, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.specific {
            out.push("specific");
        }
        if self.success_criterion.trim().is_empty() {
            out.push("measurable");
        }
        if !self.agreed_by_owner {
            out.push("agreed");
        }
        if !self.realistic {
            out.push("realistic");
        }
        out
    }
}

/// Everything about an action that people write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFields {
    pub title: Title,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub category: Question,
    /// A person or a team. Required.
    pub owner: Name,
    /// When measurable progress is reported. Required.
    pub check_in: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Date>,
    pub priority: Priority,
    #[serde(flatten)]
    pub status: ActionStatus,
    /// Someone asked to take it ("follow the excitement").
    #[serde(default)]
    pub volunteer: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracker: Option<Url>,
    #[serde(default)]
    pub smart: SmartChecks,
}

impl ActionFields {
    pub fn new(title: Title, category: Question, owner: Name, check_in: Date) -> ActionFields {
        ActionFields {
            title,
            description: String::new(),
            category,
            owner,
            check_in,
            due: None,
            priority: Priority::Medium,
            status: ActionStatus::Open,
            volunteer: false,
            estimated_cost: None,
            tracker: None,
            smart: SmartChecks::default(),
        }
    }

    /// Checks the rules that span fields: a due date is not before the check-in date.
    pub fn validate(&self) -> Result<(), ParseError> {
        crate::text::check_free_text("description", &self.description)?;
        crate::text::check_free_text("smart.success_criterion", &self.smart.success_criterion)?;
        if let Some(due) = self.due
            && due < self.check_in
        {
            return Err(ParseError::new(
                "due",
                format!(
                    "the due date {due} is before the check-in date {}: the check-in is when progress is first reported",
                    self.check_in
                ),
            ));
        }
        Ok(())
    }

    pub fn normalize(&mut self) {
        self.description = crate::text::normalize_text(&self.description);
        self.smart.success_criterion = crate::text::normalize_text(&self.smart.success_criterion);
    }

    /// Not finished and its check-in date is before `today`.
    pub fn is_overdue(&self, today: Date) -> bool {
        !self.status.is_finished() && self.check_in < today
    }
}

/// A dated note on how an action is going.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressUpdate {
    pub at: Timestamp,
    pub author: Name,
    pub note: Line,
    /// A new check-in date agreed with this update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_check_in: Option<Date>,
}

/// A stored action item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub id: ActionId,
    pub postmortem: Key,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub fields: ActionFields,
    #[serde(default)]
    pub progress: Vec<ProgressUpdate>,
    /// When it was last marked done or declined (kept by the store; `None` while unfinished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action() -> ActionFields {
        ActionFields::new(
            "Alert on queue depth".parse().expect("title"),
            Question::Detect,
            "payments-team".parse().expect("owner"),
            "2024-06-01".parse().expect("date"),
        )
    }

    #[test]
    fn declined_needs_a_reason() {
        let err = ActionStatus::parse("declined", None).expect_err("no reason");
        assert_eq!(err.field, "reason");
        let ok = ActionStatus::parse("Declined", Some("covered by PM-3")).expect("reason");
        assert!(ok.is_finished());
        assert!(ActionStatus::parse("in progress", None).is_ok());
        assert!(ActionStatus::parse("maybe", None).is_err());
    }

    #[test]
    fn overdue_is_open_past_check_in() {
        let a = action();
        let today: Date = "2024-06-02".parse().expect("date");
        assert!(a.is_overdue(today));
        assert!(!a.is_overdue("2024-06-01".parse().expect("date")));
        let mut done = a.clone();
        done.status = ActionStatus::Done;
        assert!(!done.is_overdue(today));
    }

    #[test]
    fn due_not_before_check_in() {
        let mut a = action();
        a.due = Some("2024-05-01".parse().expect("date"));
        assert_eq!(a.validate().expect_err("due").field, "due");
    }

    #[test]
    fn smart_checks_name_what_is_missing() {
        let mut a = action();
        assert_eq!(
            a.smart.missing(),
            vec!["specific", "measurable", "agreed", "realistic"]
        );
        a.smart.success_criterion = "p99 alert fires within 2 minutes in a game day".into();
        a.smart.specific = true;
        assert_eq!(a.smart.missing(), vec!["agreed", "realistic"]);
    }

    #[test]
    fn status_serializes_flat_with_reason() {
        let mut a = action();
        a.status = ActionStatus::Declined {
            reason: "superseded by the queue migration".parse().expect("line"),
        };
        let v = serde_json::to_value(&a).expect("json");
        assert_eq!(v["status"], "declined");
        assert_eq!(v["reason"], "superseded by the queue migration");
        let back: ActionFields = serde_json::from_value(v).expect("back");
        assert_eq!(back, a);
    }
}
