//! What templates show, prepared in Rust: times in the page's zone, Markdown as safe HTML,
//! choices for selects. Templates stay free of logic beyond loops and conditions.

use debrief_core::followthrough::FollowThrough;
use debrief_core::{Moment, Status, Zone};

use crate::auth::Caller;

/// The navigation bar: who is signed in and what they may reach.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub signed_in: bool,
    pub user: String,
    pub role: String,
    pub is_admin: bool,
    pub can_write: bool,
    pub csrf: String,
    /// Which item is current: `archive`, `actions`, `new`, `admin`, `channels`, `tokens`.
    pub current: &'static str,
}

impl Nav {
    pub fn of(caller: Option<&Caller>, current: &'static str) -> Nav {
        match caller {
            Some(c) => Nav {
                signed_in: true,
                user: c.user.name.to_string(),
                role: c.user.role.to_string(),
                is_admin: c.is_admin(),
                can_write: c.can_write(),
                csrf: c.csrf().to_owned(),
                current,
            },
            None => Nav {
                current,
                ..Nav::default()
            },
        }
    }

    /// `aria-current="page"` for the current item.
    pub fn here(&self, item: &str) -> &'static str {
        if self.current == item {
            "page"
        } else {
            "false"
        }
    }
}

/// A moment as people read it in the page's zone.
pub fn moment(m: &Moment, zone: &Zone) -> String {
    m.display_in(zone)
}

pub fn opt_moment(m: Option<&Moment>, zone: &Zone) -> String {
    m.map(|m| moment(m, zone)).unwrap_or_default()
}

/// An instant (created, updated, revision times) in the page's zone, to the minute.
pub fn instant(t: jiff::Timestamp, zone: &Zone) -> String {
    t.to_zoned(zone.tz().clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The label people read for a status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "Draft",
        Status::InReview => "In review",
        Status::Published => "Published",
        Status::Closed => "Closed",
    }
}

/// A snake_case name as words: `monitoring_gap` → `Monitoring gap`.
pub fn words(name: &str) -> String {
    let mut s = name.replace('_', " ");
    if let Some(first) = s.get(..1) {
        let upper = first.to_uppercase();
        s.replace_range(..1, &upper);
    }
    s
}

/// A choice in a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Choices from a list of names, with `current` selected.
pub fn choices(names: &[&str], current: &str) -> Vec<Choice> {
    names
        .iter()
        .map(|n| Choice {
            value: (*n).to_owned(),
            label: words(n),
            selected: *n == current,
        })
        .collect()
}

/// Choices with an empty first entry (for optional values).
pub fn optional_choices(names: &[&str], current: &str, none: &str) -> Vec<Choice> {
    let mut out = vec![Choice {
        value: String::new(),
        label: none.to_owned(),
        selected: current.is_empty(),
    }];
    out.extend(choices(names, current));
    out
}

/// Follow-through as pages show it: each count with its share of all the actions.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    pub actions: usize,
    pub on_time: usize,
    pub on_time_pct: String,
    pub late: usize,
    pub late_pct: String,
    pub declined: usize,
    pub declined_pct: String,
    pub open: usize,
    pub open_pct: String,
    pub overdue: usize,
    pub overdue_pct: String,
    /// `3 days`, `2.5 days`, or `none` when nothing is or was overdue.
    pub median: String,
}

impl Measure {
    pub fn of(m: &FollowThrough) -> Measure {
        let pct = |n: usize| {
            m.percent(n)
                .map_or_else(|| "–".to_owned(), |p| format!("{p}%"))
        };
        Measure {
            actions: m.actions,
            on_time: m.on_time,
            on_time_pct: pct(m.on_time),
            late: m.late,
            late_pct: pct(m.late),
            declined: m.declined,
            declined_pct: pct(m.declined),
            open: m.open,
            open_pct: pct(m.open),
            overdue: m.overdue,
            overdue_pct: pct(m.overdue),
            median: m
                .median_days_overdue
                .map_or_else(|| "none".to_owned(), days),
        }
    }

    /// One line: `1 on time (50%), 0 late, 0 declined, 1 open (1 overdue); median 3 days overdue`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} on time ({}), {} late ({}), {} declined ({}), {} open ({} overdue)",
            self.on_time,
            self.on_time_pct,
            self.late,
            self.late_pct,
            self.declined,
            self.declined_pct,
            self.open,
            self.overdue,
        );
        if self.median != "none" {
            s.push_str(&format!("; median {} overdue", self.median));
        }
        s
    }
}

/// A number of days as people read it: `1 day`, `3 days`, `2.5 days`.
pub fn days(d: f64) -> String {
    if d.fract() == 0.0 {
        let n = d as i64;
        if n == 1 {
            "1 day".to_owned()
        } else {
            format!("{n} days")
        }
    } else {
        format!("{d:.1} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_well() {
        assert_eq!(words("monitoring_gap"), "Monitoring gap");
        assert_eq!(words(""), "");
    }

    #[test]
    fn follow_through_reads_as_counts_and_shares() {
        let m = Measure::of(&FollowThrough {
            actions: 4,
            on_time: 1,
            late: 1,
            declined: 0,
            open: 2,
            overdue: 1,
            median_days_overdue: Some(2.5),
        });
        assert_eq!(m.on_time_pct, "25%");
        assert_eq!(m.open_pct, "50%");
        assert_eq!(m.median, "2.5 days");
        assert_eq!(
            m.line(),
            "1 on time (25%), 1 late (25%), 0 declined (0%), 2 open (1 overdue); median 2.5 days overdue"
        );
        let none = Measure::of(&FollowThrough::default());
        assert_eq!(none.on_time_pct, "–");
        assert_eq!(none.median, "none");
        assert_eq!(days(1.0), "1 day");
        assert_eq!(days(3.0), "3 days");
    }
}
