//! Follow-through: which reminders are due, for an action item or a postmortem, on a given day.
//! Pure: the caller reads the records and the clock, this decides.
//!
//! - **Before the check-in**: from `lead` days before an unfinished action's check-in date until
//!   the day before it, its owner is reminded.
//! - **Check-in passed**: once the date has passed with no progress note since the check-in date
//!   was set, the owner is reminded again.
//! - **Escalation**: more than `grace` days after the check-in date, still without a progress note,
//!   the postmortem's incident lead (else whoever created the postmortem) is told.
//! - **Review not scheduled**: a postmortem resolved more than `review_within` days ago, still a
//!   draft or in review, with no review meeting scheduled ("within a week, while memories are
//!   fresh").
//!
//! Each reminder has a de-duplication key naming what it is about — the action and its check-in
//! date, or the postmortem — so the job queue sends it at most once, however many instances scan
//! and however often. A new check-in date is a new round of reminders.
//!
//! A reminder is due only during a window (`catch_up` days after it becomes due): scanning after a
//! long outage, or for the first time over an old archive, does not send reminders about
//! check-ins long past.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::action::{ActionId, ActionItem};
use crate::participant::{Participant, Role};
use crate::postmortem::{Key, Postmortem, Status, simple_enum};

simple_enum!(
    /// What a reminder is about.
    ReminderKind, "reminder kind" {
        BeforeCheckIn => "before",
        CheckInPassed => "overdue",
        Escalation => "escalate",
        ReviewNotScheduled => "review",
    }
);

simple_enum!(
    /// Who a reminder goes to: the action's owner, or the postmortem's incident lead (whoever
    /// created the postmortem when it names no lead).
    Recipient, "recipient" {
        Owner => "owner",
        Lead => "lead",
    }
);

/// When reminders are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowupConfig {
    /// Days before a check-in date that its owner is reminded (0: no such reminder).
    pub lead_days: i32,
    /// Days after a check-in date without progress before the lead is told.
    pub grace_days: i32,
    /// Days after resolution by which the review meeting should be scheduled.
    pub review_within_days: i32,
    /// Days a reminder stays due once it is: a scan after an outage still sends it, an old
    /// archive does not flood everyone.
    pub catch_up_days: i32,
    /// When the weekly digest goes out.
    #[serde(default)]
    pub digest: crate::followthrough::DigestSchedule,
}

impl Default for FollowupConfig {
    fn default() -> FollowupConfig {
        FollowupConfig {
            lead_days: 2,
            grace_days: 3,
            review_within_days: 7,
            catch_up_days: 7,
            digest: crate::followthrough::DigestSchedule::default(),
        }
    }
}

/// The longest lead time, grace period or catch-up window, in days.
pub const MAX_FOLLOWUP_DAYS: i32 = 366;

impl FollowupConfig {
    /// Checks the numbers: each between 0 (1 for the catch-up window) and a year.
    pub fn validate(&self) -> Result<(), crate::ParseError> {
        for (field, value, min) in [
            ("lead", self.lead_days, 0),
            ("grace", self.grace_days, 0),
            ("review_within", self.review_within_days, 0),
            ("catch_up", self.catch_up_days, 1),
        ] {
            if !(min..=MAX_FOLLOWUP_DAYS).contains(&value) {
                return Err(crate::ParseError::new(
                    field,
                    format!("{value} days: expected {min} to {MAX_FOLLOWUP_DAYS} days"),
                ));
            }
        }
        self.digest.validate()
    }

    /// The check-in dates for which a reminder can be due `today`: unfinished actions outside
    /// this range (both ends included) need not be read.
    pub fn check_in_window(&self, today: Date) -> (Date, Date) {
        let back = self.grace_days.max(0) + self.catch_up_days.max(1);
        let from = today.checked_sub(back.days()).unwrap_or(Date::MIN);
        let to = today
            .checked_add(self.lead_days.max(0).days())
            .unwrap_or(Date::MAX);
        (from, to)
    }
}

/// A reminder that is due.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reminder {
    pub kind: ReminderKind,
    pub to: Recipient,
    pub postmortem: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionId>,
    /// The check-in date it is about (action reminders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_in: Option<Date>,
}

impl Reminder {
    /// The key that makes it unique: `remind:before:ACTION:CHECK-IN`, `remind:review:PM-n`.
    pub fn dedup_key(&self) -> String {
        match (self.action, self.check_in) {
            (Some(action), Some(check_in)) => {
                format!("remind:{}:{}:{check_in}", self.kind, action.0)
            }
            (Some(action), None) => format!("remind:{}:{}", self.kind, action.0),
            _ => format!("remind:{}:{}", self.kind, self.postmortem),
        }
    }
}

/// Days from `from` to `to` (negative when `to` is earlier).
fn days_between(from: Date, to: Date) -> i32 {
    from.until(to).map_or(0, |span| span.get_days())
}

/// When the action's current check-in date was set: the last progress note that agreed it, else
/// the action's creation. (A date changed by editing the action, without a note, is not seen:
/// notes written before such an edit still count as progress.)
pub fn check_in_set_at(action: &ActionItem) -> Timestamp {
    action
        .progress
        .iter()
        .filter(|u| u.new_check_in == Some(action.fields.check_in))
        .map(|u| u.at)
        .max()
        .unwrap_or(action.created_at)
}

/// Whether progress was reported on the current check-in: a note written after it was set.
pub fn progress_reported(action: &ActionItem) -> bool {
    let set = check_in_set_at(action);
    action.progress.iter().any(|u| u.at > set)
}

/// The reminders due `today` for an action item.
pub fn action_reminders(
    action: &ActionItem,
    today: Date,
    config: &FollowupConfig,
) -> Vec<Reminder> {
    if action.fields.status.is_finished() {
        return Vec::new();
    }
    let check_in = action.fields.check_in;
    let passed = days_between(check_in, today);
    let catch_up = config.catch_up_days.max(1);
    let reminder = |kind, to| Reminder {
        kind,
        to,
        postmortem: action.postmortem,
        action: Some(action.id),
        check_in: Some(check_in),
    };
    let mut due = Vec::new();
    if passed < 0 && -passed <= config.lead_days {
        due.push(reminder(ReminderKind::BeforeCheckIn, Recipient::Owner));
    }
    if passed > 0 && !progress_reported(action) {
        if passed <= catch_up {
            due.push(reminder(ReminderKind::CheckInPassed, Recipient::Owner));
        }
        let late = passed - config.grace_days.max(0);
        if late > 0 && late <= catch_up {
            due.push(reminder(ReminderKind::Escalation, Recipient::Lead));
        }
    }
    due
}

/// The "schedule the review" reminder, when it is due at `now` for this postmortem.
pub fn review_reminder(
    postmortem: &Postmortem,
    now: Timestamp,
    config: &FollowupConfig,
) -> Option<Reminder> {
    if !matches!(postmortem.status, Status::Draft | Status::InReview)
        || postmortem.fields.meeting.scheduled_at.is_some()
    {
        return None;
    }
    let resolved = postmortem.fields.key_moments.resolved.as_ref()?.at();
    let since = now.duration_since(resolved);
    let due_after = SignedDuration::from_hours(24 * i64::from(config.review_within_days.max(0)));
    let until = due_after + SignedDuration::from_hours(24 * i64::from(config.catch_up_days.max(1)));
    (since > due_after && since <= until).then_some(Reminder {
        kind: ReminderKind::ReviewNotScheduled,
        to: Recipient::Lead,
        postmortem: postmortem.key,
        action: None,
        check_in: None,
    })
}

/// Someone to tell, and how to reach them if the postmortem says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    /// The participant's contact (an email, a chat handle…), when recorded.
    pub contact: Option<String>,
}

/// Who is told when the lead should be: the postmortem's first incident lead, else whoever
/// created it (`creator`, from the revision history).
pub fn lead_contact(participants: &[Participant], creator: Option<&str>) -> Option<Contact> {
    participants
        .iter()
        .find(|p| p.fields.role == Role::IncidentLead)
        .map(|p| Contact {
            name: p.fields.name.to_string(),
            contact: p.fields.contact.as_ref().map(ToString::to_string),
        })
        .or_else(|| {
            creator.filter(|c| !c.trim().is_empty()).map(|c| Contact {
                name: c.to_owned(),
                contact: contact_of(participants, c),
            })
        })
}

/// The contact of the participant named `name` (compared without regard to case), if recorded.
pub fn contact_of(participants: &[Participant], name: &str) -> Option<String> {
    let wanted = name.trim().to_lowercase();
    participants
        .iter()
        .filter(|p| p.fields.name.to_string().to_lowercase() == wanted)
        .find_map(|p| p.fields.contact.as_ref().map(ToString::to_string))
}

/// A reminder as words: a subject line and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// Writes an action reminder for `to_name`, on `today`.
pub fn action_message(
    reminder: &Reminder,
    action: &ActionItem,
    postmortem_title: &str,
    to_name: &str,
    today: Date,
) -> Message {
    let title = &action.fields.title;
    let key = action.postmortem;
    let check_in = action.fields.check_in;
    let owner = &action.fields.owner;
    let about = format!("the action \"{title}\" from {key} \"{postmortem_title}\"");
    let how = format!(
        "Add a dated progress note on the postmortem's page, or with `debrief action update {} --note \"…\"` \
         (with --check-in DATE when a new date is agreed).",
        action.id.0
    );
    match reminder.kind {
        ReminderKind::BeforeCheckIn => Message {
            subject: format!("Check-in on {check_in}: {title} ({key})"),
            body: format!(
                "Hello {to_name},\n\n{} has its check-in on {check_in} ({} day(s) from now). \
                 Please report measurable progress by then: what changed, and whether the date \
                 still holds.\n\n{how}\n",
                capitalize(&about),
                days_between(today, check_in)
            ),
        },
        ReminderKind::CheckInPassed => Message {
            subject: format!("Check-in passed: {title} ({key})"),
            body: format!(
                "Hello {to_name},\n\nThe check-in date of {about} was {check_in}, and no progress \
                 note has been added since it was set. A short note — or a new check-in date — \
                 tells the team where it stands.\n\n{how}\n"
            ),
        },
        ReminderKind::Escalation => Message {
            subject: format!("No progress on {title} ({key}) since its check-in on {check_in}"),
            body: format!(
                "Hello {to_name},\n\n{} is owned by {owner}; its check-in was {check_in}, {} \
                 day(s) ago, and there is no progress note yet. Could you check in with {owner}? \
                 The aim is to unblock the work, or to agree a new date or to decline it with a \
                 reason — not to blame.\n",
                capitalize(&about),
                days_between(check_in, today)
            ),
        },
        ReminderKind::ReviewNotScheduled => review_message(key, postmortem_title, to_name, None),
    }
}

/// Writes the "schedule the review" reminder for `to_name`; `resolved` is the resolution day.
pub fn review_message(
    key: Key,
    postmortem_title: &str,
    to_name: &str,
    resolved: Option<Date>,
) -> Message {
    let when = resolved.map_or_else(String::new, |d| format!(" on {d}"));
    Message {
        subject: format!("Schedule the review of {key}: {postmortem_title}"),
        body: format!(
            "Hello {to_name},\n\nThe incident of {key} \"{postmortem_title}\" was resolved{when}, \
             and no review meeting is scheduled yet. Reviews work best within a week, while \
             memories are fresh: set the meeting on the postmortem's page.\n"
        ),
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ActionFields, ActionStatus, ProgressUpdate};
    use crate::participant::{ParticipantFields, ParticipantId};
    use crate::postmortem::{PostmortemFields, Question, Severity, Version};
    use crate::time::{Moment, Zone};

    fn date(s: &str) -> Date {
        s.parse().expect("date")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn action(check_in: &str) -> ActionItem {
        ActionItem {
            id: ActionId(7),
            postmortem: Key::new(42).expect("key"),
            version: Version(1),
            created_at: at("2026-03-01T09:00:00Z"),
            updated_at: at("2026-03-01T09:00:00Z"),
            fields: ActionFields::new(
                "Alert on queue depth".parse().expect("title"),
                Question::Detect,
                "Grace Hopper".parse().expect("owner"),
                date(check_in),
            ),
            progress: Vec::new(),
            finished_at: None,
        }
    }

    fn note(at_: &str, new_check_in: Option<&str>) -> ProgressUpdate {
        ProgressUpdate {
            at: at(at_),
            author: "Grace Hopper".parse().expect("name"),
            note: "dashboards drafted".parse().expect("note"),
            new_check_in: new_check_in.map(date),
        }
    }

    fn kinds(reminders: &[Reminder]) -> Vec<&'static str> {
        reminders.iter().map(|r| r.kind.as_str()).collect()
    }

    fn on(a: &ActionItem, day: &str) -> Vec<&'static str> {
        kinds(&action_reminders(a, date(day), &FollowupConfig::default()))
    }

    #[test]
    fn an_action_is_reminded_before_after_and_escalated() {
        let a = action("2026-03-20");
        assert_eq!(on(&a, "2026-03-17"), Vec::<&str>::new());
        assert_eq!(on(&a, "2026-03-18"), ["before"]);
        assert_eq!(on(&a, "2026-03-19"), ["before"]);
        // On the check-in day itself, nothing: it has not passed.
        assert_eq!(on(&a, "2026-03-20"), Vec::<&str>::new());
        assert_eq!(on(&a, "2026-03-21"), ["overdue"]);
        assert_eq!(on(&a, "2026-03-23"), ["overdue"]);
        // More than three days (the grace period) after: the lead is told too.
        assert_eq!(on(&a, "2026-03-24"), ["overdue", "escalate"]);
        assert_eq!(on(&a, "2026-03-27"), ["overdue", "escalate"]);
        // Seven days (the catch-up window) after each became due, it is no longer sent.
        assert_eq!(on(&a, "2026-03-28"), ["escalate"]);
        assert_eq!(on(&a, "2026-03-30"), ["escalate"]);
        assert_eq!(on(&a, "2026-03-31"), Vec::<&str>::new());
        let due = action_reminders(&a, date("2026-03-24"), &FollowupConfig::default());
        assert_eq!(due[1].to, Recipient::Lead);
        assert_eq!(due[0].to, Recipient::Owner);
        assert_eq!(due[0].dedup_key(), "remind:overdue:7:2026-03-20");
        assert_eq!(due[1].dedup_key(), "remind:escalate:7:2026-03-20");
        let before = action_reminders(&a, date("2026-03-18"), &FollowupConfig::default());
        assert_eq!(before[0].dedup_key(), "remind:before:7:2026-03-20");
        // The key is the same on every day of the window: sent once per check-in date.
        let later = action_reminders(&a, date("2026-03-19"), &FollowupConfig::default());
        assert_eq!(later[0].dedup_key(), before[0].dedup_key());
    }

    #[test]
    fn finished_actions_get_nothing() {
        let mut a = action("2026-03-20");
        a.fields.status = ActionStatus::Done;
        assert!(on(&a, "2026-03-19").is_empty());
        assert!(on(&a, "2026-03-25").is_empty());
        a.fields.status = ActionStatus::InProgress;
        assert_eq!(on(&a, "2026-03-25"), ["overdue", "escalate"]);
    }

    #[test]
    fn a_progress_note_since_the_check_in_was_set_stops_the_chasing() {
        let mut a = action("2026-03-20");
        a.progress.push(note("2026-03-20T16:00:00Z", None));
        assert_eq!(on(&a, "2026-03-19"), ["before"]);
        assert!(on(&a, "2026-03-21").is_empty());
        assert!(on(&a, "2026-03-25").is_empty());

        // A note that agreed a new date starts a new round: it does not count for that date.
        let mut moved = action("2026-04-10");
        moved
            .progress
            .push(note("2026-03-20T16:00:00Z", Some("2026-04-10")));
        assert_eq!(check_in_set_at(&moved), at("2026-03-20T16:00:00Z"));
        assert!(!progress_reported(&moved));
        assert_eq!(on(&moved, "2026-04-09"), ["before"]);
        assert_eq!(on(&moved, "2026-04-11"), ["overdue"]);
        let keys: Vec<String> =
            action_reminders(&moved, date("2026-04-15"), &FollowupConfig::default())
                .iter()
                .map(Reminder::dedup_key)
                .collect();
        assert_eq!(
            keys,
            [
                "remind:overdue:7:2026-04-10",
                "remind:escalate:7:2026-04-10"
            ]
        );
        moved.progress.push(note("2026-04-12T08:00:00Z", None));
        assert!(on(&moved, "2026-04-15").is_empty());
    }

    #[test]
    fn the_lead_time_and_grace_are_configurable() {
        let a = action("2026-03-20");
        let config = FollowupConfig {
            lead_days: 0,
            grace_days: 0,
            catch_up_days: 1,
            ..FollowupConfig::default()
        };
        let on = |day| kinds(&action_reminders(&a, date(day), &config));
        assert!(on("2026-03-19").is_empty());
        assert_eq!(on("2026-03-21"), ["overdue", "escalate"]);
        assert!(on("2026-03-22").is_empty());
        assert_eq!(
            config.check_in_window(date("2026-03-22")),
            (date("2026-03-21"), date("2026-03-22"))
        );
        assert_eq!(
            FollowupConfig::default().check_in_window(date("2026-03-22")),
            (date("2026-03-12"), date("2026-03-24"))
        );
        assert!(FollowupConfig::default().validate().is_ok());
        let bad = FollowupConfig {
            catch_up_days: 0,
            ..FollowupConfig::default()
        };
        assert_eq!(bad.validate().expect_err("catch up").field, "catch_up");
    }

    #[test]
    fn every_due_reminder_is_for_a_check_in_inside_the_window() {
        let config = FollowupConfig::default();
        let today = date("2026-06-15");
        let (from, to) = config.check_in_window(today);
        for offset in -40..40 {
            let check_in = today.checked_add(offset.days()).expect("date");
            let due = !action_reminders(&action(&check_in.to_string()), today, &config).is_empty();
            if due {
                assert!(from <= check_in && check_in <= to, "{check_in}");
            }
        }
    }

    fn postmortem(resolved: Option<&str>) -> Postmortem {
        let mut fields = PostmortemFields::new(
            "Checkout errors".parse().expect("title"),
            Severity::default(),
        );
        fields.key_moments.resolved =
            resolved.map(|r| Moment::parse(r, &Zone::utc()).expect("moment"));
        Postmortem {
            key: Key::new(42).expect("key"),
            version: Version(1),
            status: Status::Draft,
            created_at: at("2026-03-01T09:00:00Z"),
            updated_at: at("2026-03-01T09:00:00Z"),
            fields,
        }
    }

    #[test]
    fn a_review_not_scheduled_within_a_week_is_reminded() {
        let config = FollowupConfig::default();
        let p = postmortem(Some("2026-03-01 10:00"));
        assert_eq!(
            review_reminder(&p, at("2026-03-08T10:00:00Z"), &config),
            None
        );
        let due = review_reminder(&p, at("2026-03-08T10:00:01Z"), &config).expect("due");
        assert_eq!(due.dedup_key(), "remind:review:PM-42");
        assert_eq!(due.to, Recipient::Lead);
        assert!(review_reminder(&p, at("2026-03-15T10:00:00Z"), &config).is_some());
        assert_eq!(
            review_reminder(&p, at("2026-03-15T10:00:01Z"), &config),
            None
        );
        let mut met = p.clone();
        met.fields.meeting.scheduled_at =
            Some(Moment::parse("2026-03-20 15:00", &Zone::utc()).expect("m"));
        assert_eq!(
            review_reminder(&met, at("2026-03-09T00:00:00Z"), &config),
            None
        );
        let mut published = p.clone();
        published.status = Status::Published;
        assert_eq!(
            review_reminder(&published, at("2026-03-09T00:00:00Z"), &config),
            None
        );
        assert_eq!(
            review_reminder(&postmortem(None), at("2026-03-09T00:00:00Z"), &config),
            None
        );
    }

    fn participant(name: &str, role: Role, contact: Option<&str>) -> Participant {
        let mut fields = ParticipantFields::new(name.parse().expect("name"), role);
        fields.contact = contact.map(|c| c.parse().expect("contact"));
        Participant {
            id: ParticipantId(1),
            version: Version(1),
            fields,
        }
    }

    #[test]
    fn the_lead_is_the_incident_lead_else_the_creator() {
        let people = [
            participant("Ada", Role::Responder, Some("ada@example.com")),
            participant("Bo", Role::IncidentLead, Some("bo@example.com")),
        ];
        assert_eq!(
            lead_contact(&people, Some("cy")),
            Some(Contact {
                name: "Bo".into(),
                contact: Some("bo@example.com".into())
            })
        );
        assert_eq!(
            lead_contact(&people[..1], Some("ada")),
            Some(Contact {
                name: "ada".into(),
                contact: Some("ada@example.com".into())
            })
        );
        assert_eq!(lead_contact(&[], None), None);
        assert_eq!(contact_of(&people, "BO"), Some("bo@example.com".into()));
    }

    #[test]
    fn messages_name_the_action_and_the_date() {
        let a = action("2026-03-20");
        let r = &action_reminders(&a, date("2026-03-18"), &FollowupConfig::default())[0];
        let m = action_message(r, &a, "Checkout errors", "Grace Hopper", date("2026-03-18"));
        assert_eq!(
            m.subject,
            "Check-in on 2026-03-20: Alert on queue depth (PM-42)"
        );
        assert!(m.body.contains("2 day(s) from now"), "{}", m.body);
        assert!(
            m.body.contains("debrief action update 7 --note"),
            "{}",
            m.body
        );
        let e = &action_reminders(&a, date("2026-03-25"), &FollowupConfig::default())[1];
        let m = action_message(e, &a, "Checkout errors", "Bo", date("2026-03-25"));
        assert!(m.body.starts_with("Hello Bo,"), "{}", m.body);
        assert!(m.body.contains("owned by Grace Hopper"), "{}", m.body);
        assert!(m.body.contains("5 day(s) ago"), "{}", m.body);
        let review = review_message(
            a.postmortem,
            "Checkout errors",
            "Bo",
            Some(date("2026-03-01")),
        );
        assert_eq!(
            review.subject,
            "Schedule the review of PM-42: Checkout errors"
        );
        assert!(review.body.contains("resolved on 2026-03-01"));
    }

    #[test]
    fn reminders_round_trip_through_json() {
        let a = action("2026-03-20");
        let r = action_reminders(&a, date("2026-03-25"), &FollowupConfig::default());
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json[0]["kind"], "overdue");
        assert_eq!(json[1]["to"], "lead");
        let back: Vec<Reminder> = serde_json::from_value(json).expect("back");
        assert_eq!(back, r);
    }
}
