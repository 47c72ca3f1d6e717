//! Follow-through as a measure, and the weekly digest.
//!
//! Every action counts in exactly one of four groups: **on time** (done by its check-in date),
//! **late** (done after it), **declined**, **open** (not finished; those past their check-in date
//! are also counted as **overdue**). "Days overdue" is, for a late action, how many days after its
//! check-in date it was done, and for an overdue one, how many days have passed since; the median
//! is over both. The check-in date is the current one: a date re-agreed with a progress note counts.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::action::{ActionId, ActionItem, ActionStatus};
use crate::followup::Message;
use crate::postmortem::{Key, simple_enum};

/// Counts of a set of actions by how they were followed through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowThrough {
    pub actions: usize,
    pub on_time: usize,
    pub late: usize,
    pub declined: usize,
    pub open: usize,
    /// Open actions past their check-in date (a part of `open`).
    pub overdue: usize,
    /// The median days overdue of the late and the overdue actions; `None` when there are none.
    pub median_days_overdue: Option<f64>,
}

impl FollowThrough {
    /// `part` as a percentage of all actions, rounded to a whole number; `None` with no actions.
    pub fn percent(&self, part: usize) -> Option<u32> {
        (self.actions > 0).then(|| {
            let p = (part as f64) * 100.0 / (self.actions as f64);
            p.round() as u32
        })
    }

    /// Every action is done or declined (and there is at least one).
    pub fn all_finished(&self) -> bool {
        self.actions > 0 && self.open == 0
    }
}

/// The day an action was finished, in `tz`: when it was marked done or declined (its last update
/// for records that predate that).
pub fn finished_on(action: &ActionItem, tz: &TimeZone) -> Date {
    action
        .finished_at
        .unwrap_or(action.updated_at)
        .to_zoned(tz.clone())
        .date()
}

fn days(from: Date, to: Date) -> i32 {
    from.until(to).map_or(0, |span| span.get_days())
}

/// Measures follow-through over `actions` as of `today`.
pub fn measure<'a>(
    actions: impl IntoIterator<Item = &'a ActionItem>,
    today: Date,
    tz: &TimeZone,
) -> FollowThrough {
    let mut m = FollowThrough::default();
    let mut overdue_days: Vec<i32> = Vec::new();
    for a in actions {
        m.actions += 1;
        let check_in = a.fields.check_in;
        match &a.fields.status {
            ActionStatus::Done => {
                let done = finished_on(a, tz);
                if done <= check_in {
                    m.on_time += 1;
                } else {
                    m.late += 1;
                    overdue_days.push(days(check_in, done));
                }
            }
            ActionStatus::Declined { .. } => m.declined += 1,
            ActionStatus::Open | ActionStatus::InProgress => {
                m.open += 1;
                if check_in < today {
                    m.overdue += 1;
                    overdue_days.push(days(check_in, today));
                }
            }
        }
    }
    m.median_days_overdue = median(&mut overdue_days);
    m
}

/// Measures each postmortem's actions separately.
pub fn measure_by_postmortem<'a>(
    actions: impl IntoIterator<Item = &'a ActionItem>,
    today: Date,
    tz: &TimeZone,
) -> BTreeMap<Key, FollowThrough> {
    let mut by: BTreeMap<Key, Vec<&ActionItem>> = BTreeMap::new();
    for a in actions {
        by.entry(a.postmortem).or_default().push(a);
    }
    by.into_iter()
        .map(|(key, list)| (key, measure(list, today, tz)))
        .collect()
}

fn median(values: &mut [i32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        f64::from(values[n / 2])
    } else {
        (f64::from(values[n / 2 - 1]) + f64::from(values[n / 2])) / 2.0
    })
}

simple_enum!(
    /// The day the weekly digest goes out (`off`: never).
    DigestDay, "digest day" {
        Monday => "monday",
        Tuesday => "tuesday",
        Wednesday => "wednesday",
        Thursday => "thursday",
        Friday => "friday",
        Saturday => "saturday",
        Sunday => "sunday",
        Off => "off",
    }
);

impl DigestDay {
    fn weekday(self) -> Option<Weekday> {
        Some(match self {
            DigestDay::Monday => Weekday::Monday,
            DigestDay::Tuesday => Weekday::Tuesday,
            DigestDay::Wednesday => Weekday::Wednesday,
            DigestDay::Thursday => Weekday::Thursday,
            DigestDay::Friday => Weekday::Friday,
            DigestDay::Saturday => Weekday::Saturday,
            DigestDay::Sunday => Weekday::Sunday,
            DigestDay::Off => return None,
        })
    }
}

/// When the weekly digest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSchedule {
    pub day: DigestDay,
    /// The hour of that day (0–23) in the configured zone.
    pub hour: i8,
}

impl Default for DigestSchedule {
    fn default() -> DigestSchedule {
        DigestSchedule {
            day: DigestDay::Monday,
            hour: 9,
        }
    }
}

impl DigestSchedule {
    pub fn validate(&self) -> Result<(), crate::ParseError> {
        if !(0..=23).contains(&self.hour) {
            return Err(crate::ParseError::new(
                "digest_hour",
                format!("{}: expected an hour from 0 to 23", self.hour),
            ));
        }
        Ok(())
    }

    /// The week whose digest is due at `now`, as `2026-W48` (its de-duplication key): the
    /// current ISO week once its digest time has passed; `None` before it, or when off. A digest
    /// missed while nothing ran still goes out later that week, never in the next.
    pub fn due(&self, now: Timestamp, tz: &TimeZone) -> Option<String> {
        let weekday = self.day.weekday()?;
        let zoned = now.to_zoned(tz.clone());
        let today = zoned.date();
        let iso = today.iso_week_date();
        let offset = i64::from(weekday.to_monday_zero_offset())
            - i64::from(today.weekday().to_monday_zero_offset());
        let day = today.checked_add(offset.days()).ok()?;
        let at = day
            .at(self.hour, 0, 0, 0)
            .to_zoned(tz.clone())
            .ok()?
            .timestamp();
        (now >= at).then(|| format!("{}-W{:02}", iso.year(), iso.week()))
    }
}

/// One action in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestLine {
    pub action: ActionId,
    pub postmortem: Key,
    pub title: String,
    pub owner: String,
    pub check_in: Date,
    /// Days past the check-in date (overdue actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i32>,
    /// Why it was declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A team's week: what is due in the next seven days, what is overdue, what was done and declined
/// in the last seven, and the follow-through of all its actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub team: String,
    pub week: String,
    pub today: Date,
    pub due: Vec<DigestLine>,
    pub overdue: Vec<DigestLine>,
    pub done: Vec<DigestLine>,
    pub declined: Vec<DigestLine>,
    pub follow_through: FollowThrough,
}

impl Digest {
    /// Nothing due, overdue, done or declined: not worth a message.
    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
            && self.overdue.is_empty()
            && self.done.is_empty()
            && self.declined.is_empty()
    }
}

/// Builds the digest of `actions` (already narrowed to the team's) as of `today`.
pub fn digest<'a>(
    team: &str,
    week: &str,
    actions: impl IntoIterator<Item = &'a ActionItem>,
    today: Date,
    tz: &TimeZone,
) -> Digest {
    let actions: Vec<&ActionItem> = actions.into_iter().collect();
    let week_ahead = today.checked_add(7.days()).unwrap_or(Date::MAX);
    let week_ago = today.checked_sub(7.days()).unwrap_or(Date::MIN);
    let line = |a: &ActionItem| DigestLine {
        action: a.id,
        postmortem: a.postmortem,
        title: a.fields.title.to_string(),
        owner: a.fields.owner.to_string(),
        check_in: a.fields.check_in,
        days_overdue: None,
        reason: None,
    };
    let mut d = Digest {
        team: team.to_owned(),
        week: week.to_owned(),
        today,
        due: Vec::new(),
        overdue: Vec::new(),
        done: Vec::new(),
        declined: Vec::new(),
        follow_through: measure(actions.iter().copied(), today, tz),
    };
    for a in &actions {
        let check_in = a.fields.check_in;
        match &a.fields.status {
            ActionStatus::Open | ActionStatus::InProgress => {
                if check_in < today {
                    d.overdue.push(DigestLine {
                        days_overdue: Some(days(check_in, today)),
                        ..line(a)
                    });
                } else if check_in < week_ahead {
                    d.due.push(line(a));
                }
            }
            ActionStatus::Done => {
                if finished_on(a, tz) >= week_ago {
                    d.done.push(line(a));
                }
            }
            ActionStatus::Declined { reason } => {
                if finished_on(a, tz) >= week_ago {
                    d.declined.push(DigestLine {
                        reason: Some(reason.to_string()),
                        ..line(a)
                    });
                }
            }
        }
    }
    let by_date = |a: &DigestLine, b: &DigestLine| {
        (a.check_in, a.postmortem, a.action.0).cmp(&(b.check_in, b.postmortem, b.action.0))
    };
    d.due.sort_by(by_date);
    d.overdue.sort_by(by_date);
    d.done.sort_by(by_date);
    d.declined.sort_by(by_date);
    d
}

/// The digest as a plain-text message; `link` makes a link to an action's postmortem.
pub fn digest_message(d: &Digest, link: impl Fn(Key) -> String) -> Message {
    let subject = format!(
        "[Debrief] {} weekly digest, {}: {} due, {} overdue, {} done, {} declined",
        d.team,
        d.week,
        d.due.len(),
        d.overdue.len(),
        d.done.len(),
        d.declined.len()
    );
    let mut body = format!("Follow-through for {}, week {}.\n", d.team, d.week);
    let section = |body: &mut String,
                   heading: &str,
                   lines: &[DigestLine],
                   detail: &dyn Fn(&DigestLine) -> String| {
        if lines.is_empty() {
            return;
        }
        body.push_str(&format!("\n{heading} ({}):\n", lines.len()));
        for l in lines {
            body.push_str(&format!(
                "- {} — {} ({}, #{}){}\n  {}\n",
                l.title,
                l.owner,
                l.postmortem,
                l.action.0,
                detail(l),
                link(l.postmortem)
            ));
        }
    };
    section(&mut body, "Due in the next 7 days", &d.due, &|l| {
        format!(", check-in {}", l.check_in)
    });
    section(&mut body, "Overdue", &d.overdue, &|l| {
        format!(
            ", check-in {}, {} day(s) ago",
            l.check_in,
            l.days_overdue.unwrap_or(0)
        )
    });
    section(&mut body, "Done in the last 7 days", &d.done, &|_| {
        String::new()
    });
    section(
        &mut body,
        "Declined in the last 7 days",
        &d.declined,
        &|l| format!(": {}", l.reason.as_deref().unwrap_or("")),
    );
    if d.is_empty() {
        body.push_str("\nNothing due, overdue, done or declined this week.\n");
    }
    let f = &d.follow_through;
    if f.actions > 0 {
        body.push_str(&format!(
            "\nAll {} action(s): {}% done on time, {}% late, {}% declined, {}% open ({} overdue)",
            f.actions,
            f.percent(f.on_time).unwrap_or(0),
            f.percent(f.late).unwrap_or(0),
            f.percent(f.declined).unwrap_or(0),
            f.percent(f.open).unwrap_or(0),
            f.overdue
        ));
        if let Some(m) = f.median_days_overdue {
            body.push_str(&format!("; median {m} day(s) overdue"));
        }
        body.push_str(".\n");
    }
    Message { subject, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{ActionFields, ProgressUpdate};
    use crate::postmortem::{Question, Version};

    fn date(s: &str) -> Date {
        s.parse().expect("date")
    }

    fn action(
        id: i64,
        pm: u32,
        owner: &str,
        check_in: &str,
        status: ActionStatus,
        finished: Option<&str>,
    ) -> ActionItem {
        let mut fields = ActionFields::new(
            format!("Action {id}").parse().expect("title"),
            Question::Prevent,
            owner.parse().expect("owner"),
            date(check_in),
        );
        fields.status = status;
        ActionItem {
            id: ActionId(id),
            postmortem: Key::new(pm).expect("key"),
            version: Version(1),
            created_at: "2026-10-01T09:00:00Z".parse().expect("ts"),
            updated_at: "2026-10-01T09:00:00Z".parse().expect("ts"),
            fields,
            progress: Vec::<ProgressUpdate>::new(),
            finished_at: finished.map(|f| f.parse().expect("ts")),
        }
    }

    fn declined() -> ActionStatus {
        ActionStatus::Declined {
            reason: "the service is being retired".parse().expect("reason"),
        }
    }

    fn sample() -> Vec<ActionItem> {
        vec![
            // done a day early, done three days late, done five days late
            action(
                1,
                1,
                "ana",
                "2026-11-10",
                ActionStatus::Done,
                Some("2026-11-09T10:00:00Z"),
            ),
            action(
                2,
                1,
                "ana",
                "2026-11-10",
                ActionStatus::Done,
                Some("2026-11-13T10:00:00Z"),
            ),
            action(
                3,
                2,
                "bo",
                "2026-11-01",
                ActionStatus::Done,
                Some("2026-11-06T23:30:00Z"),
            ),
            action(
                4,
                2,
                "bo",
                "2026-11-01",
                declined(),
                Some("2026-11-20T08:00:00Z"),
            ),
            // open: four days overdue, not yet due
            action(5, 2, "bo", "2026-11-19", ActionStatus::InProgress, None),
            action(6, 3, "cy", "2026-11-25", ActionStatus::Open, None),
        ]
    }

    #[test]
    fn every_action_counts_in_one_group() {
        let today = date("2026-11-23");
        let m = measure(&sample(), today, &TimeZone::UTC);
        assert_eq!(
            (m.actions, m.on_time, m.late, m.declined, m.open, m.overdue),
            (6, 1, 2, 1, 2, 1)
        );
        // late by 3 and 5 days, overdue by 4: median 4
        assert_eq!(m.median_days_overdue, Some(4.0));
        assert_eq!(m.percent(m.on_time), Some(17));
        assert!(!m.all_finished());
        let empty = measure(&[], today, &TimeZone::UTC);
        assert_eq!(empty.percent(0), None);
        assert_eq!(empty.median_days_overdue, None);
    }

    #[test]
    fn the_day_of_completion_is_taken_in_the_zone() {
        // 23:30 UTC on the 6th is the 7th in Tokyo: still late either way, by one more day.
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::fixed(jiff::tz::offset(9)));
        let a = [action(
            3,
            2,
            "bo",
            "2026-11-01",
            ActionStatus::Done,
            Some("2026-11-06T23:30:00Z"),
        )];
        assert_eq!(
            measure(&a, date("2026-11-23"), &TimeZone::UTC).median_days_overdue,
            Some(5.0)
        );
        assert_eq!(
            measure(&a, date("2026-11-23"), &tokyo).median_days_overdue,
            Some(6.0)
        );
    }

    #[test]
    fn per_postmortem_measures_are_separate() {
        let by = measure_by_postmortem(&sample(), date("2026-11-23"), &TimeZone::UTC);
        assert_eq!(by.len(), 3);
        let first = by[&Key::new(1).expect("key")];
        assert_eq!((first.on_time, first.late, first.open), (1, 1, 0));
        assert!(first.all_finished());
    }

    #[test]
    fn the_digest_sorts_the_week() {
        let today = date("2026-11-23");
        let d = digest(
            "team:platform",
            "2026-W48",
            &sample(),
            today,
            &TimeZone::UTC,
        );
        let ids = |lines: &[DigestLine]| lines.iter().map(|l| l.action.0).collect::<Vec<_>>();
        assert_eq!(ids(&d.due), vec![6]);
        assert_eq!(ids(&d.overdue), vec![5]);
        assert_eq!(d.overdue[0].days_overdue, Some(4));
        // done on the 9th and the 13th are more than a week ago; the 6th too
        assert_eq!(ids(&d.done), Vec::<i64>::new());
        assert_eq!(ids(&d.declined), vec![4]);
        let m = digest_message(&d, |k| format!("https://debrief.example/postmortems/{k}"));
        assert!(
            m.subject.contains("1 due, 1 overdue, 0 done, 1 declined"),
            "{}",
            m.subject
        );
        assert!(
            m.body.contains("the service is being retired"),
            "{}",
            m.body
        );
        assert!(
            m.body.contains("https://debrief.example/postmortems/PM-2"),
            "{}",
            m.body
        );
        assert!(m.body.contains("median 4 day(s) overdue"), "{}", m.body);
    }

    #[test]
    fn the_digest_is_due_once_a_week_after_its_hour() {
        let s = DigestSchedule::default(); // Monday 09:00
        let tz = TimeZone::UTC;
        let at = |t: &str| t.parse::<Timestamp>().expect("ts");
        // 2026-11-23 is a Monday.
        assert_eq!(s.due(at("2026-11-23T08:59:00Z"), &tz), None);
        assert_eq!(
            s.due(at("2026-11-23T09:00:00Z"), &tz).as_deref(),
            Some("2026-W48")
        );
        assert_eq!(
            s.due(at("2026-11-27T17:00:00Z"), &tz).as_deref(),
            Some("2026-W48")
        );
        assert_eq!(s.due(at("2026-11-30T08:00:00Z"), &tz), None);
        let friday = DigestSchedule {
            day: DigestDay::Friday,
            hour: 16,
        };
        assert_eq!(friday.due(at("2026-11-23T12:00:00Z"), &tz), None);
        assert_eq!(
            friday.due(at("2026-11-27T16:30:00Z"), &tz).as_deref(),
            Some("2026-W48")
        );
        let off = DigestSchedule {
            day: DigestDay::Off,
            hour: 9,
        };
        assert_eq!(off.due(at("2026-11-23T12:00:00Z"), &tz), None);
        assert!(
            DigestSchedule {
                day: DigestDay::Monday,
                hour: 24
            }
            .validate()
            .is_err()
        );
    }
}
