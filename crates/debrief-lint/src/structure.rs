//! The structure rules' reading of action items: does an item name an owner and a check-in
//! date, or say it is done?

use crate::config::ActionsConfig;
use crate::lexicon::{Lexicon, WordList};

/// An action item found in the action items section: a list item (with its continuation lines
/// and sub-items) or a table row.
#[derive(Debug, Clone)]
pub(crate) struct ActionItem {
    /// The item's first line (its content).
    pub(crate) first: (usize, usize),
    /// Continuation lines and sub-items.
    pub(crate) more: Vec<(usize, usize)>,
    /// The heading it is under gives a date ("Long term (target: Q1 2026)").
    pub(crate) heading_date: bool,
    /// The heading it is under says these are done ("Immediate actions (completed)").
    pub(crate) heading_done: bool,
    /// Read from a table's columns.
    pub(crate) table: Option<TableRow>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TableRow {
    pub(crate) owner: bool,
    pub(crate) date: bool,
    pub(crate) done: bool,
}

/// The action checks' word lists, split into words once per document.
pub(crate) struct Checks<'c> {
    cfg: &'c ActionsConfig,
    done: Vec<Vec<&'c str>>,
    owner_markers: Vec<Vec<&'c str>>,
}

impl<'c> Checks<'c> {
    pub(crate) fn new(cfg: &'c ActionsConfig) -> Checks<'c> {
        let split = |v: &'c [String]| -> Vec<Vec<&'c str>> {
            v.iter()
                .map(|p| p.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>())
                .filter(|p| !p.is_empty())
                .collect()
        };
        Checks {
            cfg,
            done: split(&cfg.done_words),
            owner_markers: split(&cfg.owner_markers),
        }
    }

    /// Whether the item lacks an owner, and whether it lacks a check-in date. Done items lack
    /// nothing.
    pub(crate) fn missing(
        &self,
        text: &str,
        item: &ActionItem,
        lex: &Lexicon,
        participants: &WordList,
    ) -> (bool, bool) {
        if item.heading_done {
            return (false, false);
        }
        if let Some(row) = item.table {
            if row.done {
                return (false, false);
            }
            return (!row.owner, !(row.date || item.heading_date));
        }
        let mut full = String::new();
        for &(s, e) in std::iter::once(&item.first).chain(&item.more) {
            full.push_str(&text[s..e]);
            full.push('\n');
        }
        let lower = full.to_lowercase();
        let ws = words(&lower);
        let has = |phrases: &[Vec<&str>]| {
            phrases
                .iter()
                .any(|p| ws.windows(p.len()).any(|w| w == p.as_slice()))
        };
        if lower.contains("[x]") || lower.contains("~~") || lower.contains('\u{2705}') {
            return (false, false);
        }
        if has(&self.done) || reports_done(&ws, lex) {
            return (false, false);
        }
        let owner = has(&self.owner_markers) || has_owner(&full, &ws, lex, participants);
        let date = item.heading_date || has_date(&lower, self.cfg);
        (!owner, !date)
    }
}

/// An item that reports what was done ("Sent communications…", "Added alerts…") rather than
/// what will be.
fn reports_done(ws: &[&str], lex: &Lexicon) -> bool {
    let first = ws.first().copied().unwrap_or("");
    (first.len() >= 5
        && first.ends_with("ed")
        && !matches!(first, "need" | "embed" | "proceed" | "succeed" | "exceed"))
        || (lex.has(lex.verbed, first)
            && !matches!(
                first,
                "set"
                    | "put"
                    | "cut"
                    | "read"
                    | "run"
                    | "let"
                    | "hit"
                    | "split"
                    | "spread"
                    | "shut"
                    | "come"
                    | "become"
            ))
}

/// Words of a lower-case text: runs of letters and digits.
fn words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

fn has_phrase(ws: &[&str], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split(' ').filter(|w| !w.is_empty()).collect();
    !p.is_empty() && ws.windows(p.len()).any(|w| w == p.as_slice())
}

/// Says it is done: a done word, a ticked box, or struck through.
pub(crate) fn is_done(lower: &str, cfg: &ActionsConfig) -> bool {
    if lower.contains("[x]") || lower.contains("~~") || lower.contains('\u{2705}') {
        return true;
    }
    let ws = words(lower);
    cfg.done_words.iter().any(|d| has_phrase(&ws, d))
}

const MONTHS: [&str; 24] = [
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Gives a date: 2026-12-07, 12/7, Dec 7, Q1 2026, Friday, end of month, "check-in: …".
pub(crate) fn has_date(lower: &str, cfg: &ActionsConfig) -> bool {
    let b = lower.as_bytes();
    // 2026-12-07 or 2026/12/07
    for i in 0..b.len().saturating_sub(9) {
        let d = |k: usize| b[i + k].is_ascii_digit();
        if d(0)
            && d(1)
            && d(2)
            && d(3)
            && matches!(b[i + 4], b'-' | b'/')
            && d(5)
            && d(6)
            && matches!(b[i + 7], b'-' | b'/')
            && d(8)
            && d(9)
        {
            return true;
        }
    }
    // 12/7 or 7/12/2026
    for i in 1..b.len().saturating_sub(1) {
        if b[i] == b'/' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit() {
            return true;
        }
    }
    let ws = words(lower);
    for (k, w) in ws.iter().enumerate() {
        let near_number = |x: Option<&&str>| {
            x.is_some_and(|n| n.bytes().next().is_some_and(|c| c.is_ascii_digit()))
        };
        if MONTHS.contains(w)
            && (near_number(ws.get(k + 1)) || (k > 0 && near_number(ws.get(k - 1))))
        {
            return true;
        }
        if w.len() == 2 && w.starts_with('q') && matches!(w.as_bytes()[1], b'1'..=b'4') {
            return true;
        }
        if DAYS.contains(w) || matches!(*w, "eod" | "eow" | "eom" | "eoq" | "tomorrow") {
            return true;
        }
        if *w == "end" && ws.get(k + 1) == Some(&"of") {
            return true;
        }
        if *w == "next"
            && ws
                .get(k + 1)
                .is_some_and(|n| matches!(*n, "week" | "month" | "sprint" | "quarter" | "year"))
        {
            return true;
        }
        if w.len() >= 4
            && w.starts_with("20")
            && w.bytes().all(|c| c.is_ascii_digit())
            && w.len() == 4
        {
            return true;
        }
    }
    // "check-in: …", "due: …"
    for m in &cfg.date_markers {
        let mut from = 0;
        while let Some(i) = lower[from..].find(m.as_str()) {
            let at = from + i;
            let before_ok = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
            let after = lower[at + m.len()..].trim_start();
            if before_ok && (after.starts_with(':') || after.starts_with('=')) {
                return true;
            }
            from = at + m.len().max(1);
        }
    }
    false
}

/// Names an owner: an @handle, an owner marker ("owner: …", "assigned to …"), a participant's
/// or a known given name, or a capitalised name in parentheses or after a dash at the end.
fn has_owner(full: &str, ws: &[&str], lex: &Lexicon, participants: &WordList) -> bool {
    let b = full.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'@'
            && i + 1 < b.len()
            && b[i + 1].is_ascii_alphanumeric()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            return true;
        }
    }
    // "the error tracking team", "Platform team" (not "the team")
    for (k, w) in ws.iter().enumerate() {
        if matches!(*w, "team" | "teams" | "squad" | "guild") && k > 0 {
            let before = ws[k - 1];
            if !matches!(
                before,
                "the"
                    | "a"
                    | "an"
                    | "our"
                    | "their"
                    | "this"
                    | "that"
                    | "whole"
                    | "entire"
                    | "every"
                    | "each"
                    | "other"
                    | "to"
                    | "same"
            ) {
                return true;
            }
        }
    }
    for w in full
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2)
    {
        let capital = w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().skip(1).all(char::is_lowercase);
        if capital {
            let l = w.to_lowercase();
            if participants.contains(&l) || lex.has(lex.names, &l) {
                return true;
            }
        }
    }
    // "(Alice)", "[Platform team]", "— Alice" at the end of a line
    for line in full.lines() {
        let t = line.trim_end().trim_end_matches(['.', '*', '_']);
        let inner = if let Some(x) = t.strip_suffix(')') {
            x.rfind('(').map(|i| &x[i + 1..])
        } else if let Some(x) = t.strip_suffix(']') {
            x.rfind('[').map(|i| &x[i + 1..])
        } else {
            t.rfind(" \u{2014} ")
                .map(|i| &t[i + 4..])
                .or_else(|| t.rfind(" - ").map(|i| &t[i + 3..]))
        };
        if let Some(name) = inner {
            let name = name.trim();
            let n = name.split_whitespace().count();
            if (1..=3).contains(&n)
                && name.chars().next().is_some_and(char::is_uppercase)
                && !name.chars().any(|c| c.is_ascii_digit() || c == '#')
            {
                return true;
            }
        }
    }
    false
}
