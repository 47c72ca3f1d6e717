//! What templates show, prepared in Rust: times in the page's zone, Markdown as safe HTML,
//! choices for selects. Templates stay free of logic beyond loops and conditions.

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
    /// Which item is current: `archive`, `actions`, `new`, `admin`, `tokens`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_well() {
        assert_eq!(words("monitoring_gap"), "Monitoring gap");
        assert_eq!(words(""), "");
    }
}
