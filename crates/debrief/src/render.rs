//! Terminal output: aligned tables, times in `--zone`, the `show` view, and JSON. Rendering builds
//! strings; `emit` writes them, and a closed pipe (`debrief list | head`) ends quietly instead of
//! panicking.

use std::fmt::Write as _;
use std::io::Write as _;

use debrief_core::postmortem::human_duration;
use debrief_core::readiness::Gap;
use debrief_core::{
    ActionItem, KeyMoment, LessonKind, Moment, Participant, Postmortem, Precision, Question,
    TimelineEvent, Zone,
};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::{CliError, Result};

/// Writes `text` to standard output.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::failed(format!("cannot write the output: {e}"))),
    }
}

/// Stable, pretty JSON with a final newline.
pub fn json(value: &impl Serialize) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failed(format!("cannot encode the output as JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// A moment shown in `zone`, at its own precision. A day keeps its own date, followed by its zone
/// when that is not `zone` (`2024-05-01[Europe/Berlin]`, as `--started` accepts it).
pub fn moment(m: &Moment, zone: &Zone) -> String {
    m.display_in(zone)
}

/// An instant shown in `zone`, to the minute.
pub fn instant(at: Timestamp, zone: &Zone) -> String {
    Moment::new(at, zone.clone(), Precision::Minute)
        .map_or_else(|_| at.to_string(), |m| m.display_local())
}

/// The calendar date of an instant in `zone`.
pub fn date_of(at: Timestamp, zone: &Zone) -> Date {
    at.to_zoned(zone.tz().clone()).date()
}

fn duration(d: Option<SignedDuration>) -> String {
    d.map_or_else(|| "—".to_owned(), human_duration)
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                l.push_str(cell);
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// The first line of a text, shortened to `max` characters.
pub fn short(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or_default();
    let more = text.lines().nth(1).is_some();
    if first.chars().count() > max {
        let cut: String = first.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else if more {
        format!("{first} …")
    } else {
        first.to_owned()
    }
}

fn indent(text: &str, by: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{by}{line}");
        }
    }
    out
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}");
}

/// One line for an action item.
pub fn action_line(a: &ActionItem, today: Date) -> String {
    let f = &a.fields;
    let mut s = format!(
        "#{} [{}] {} — owner {}, check-in {}",
        a.id.0,
        f.status.name(),
        f.title,
        f.owner,
        f.check_in
    );
    if f.is_overdue(today) {
        s.push_str(" (overdue)");
    }
    if let Some(due) = f.due {
        let _ = write!(s, ", due {due}");
    }
    let _ = write!(s, " · {} · {}", f.category, f.priority);
    if f.volunteer {
        s.push_str(" · volunteer");
    }
    s
}

/// Everything `show` prints.
#[derive(Debug)]
pub struct View<'a> {
    pub postmortem: &'a Postmortem,
    pub events: &'a [TimelineEvent],
    pub actions: &'a [ActionItem],
    pub participants: &'a [Participant],
    pub gaps: &'a [Gap],
    pub zone: &'a Zone,
    pub today: Date,
}

/// The terminal view of a postmortem.
pub fn show(v: &View<'_>) -> String {
    let p = v.postmortem;
    let f = &p.fields;
    let z = v.zone;
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}", p.key, f.title);
    let _ = writeln!(
        out,
        "Status {} · Severity {} · Version {}",
        p.status, f.severity, p.version
    );
    let labels =
        |l: &[debrief_core::Label]| l.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if !f.services.is_empty() {
        let _ = writeln!(out, "Services: {}", labels(&f.services));
    }
    if !f.tags.is_empty() {
        let _ = writeln!(out, "Tags: {}", labels(&f.tags));
    }

    section(&mut out, &format!("Key moments ({z})"));
    let d = f.key_moments.durations();
    let derived = |k: KeyMoment| match k {
        KeyMoment::Started => None,
        KeyMoment::Detected => Some(("time to detect", d.time_to_detect)),
        KeyMoment::Acknowledged => Some(("time to acknowledge", d.time_to_acknowledge)),
        KeyMoment::Mitigated => Some(("time to mitigate", d.time_to_mitigate)),
        KeyMoment::Resolved => Some(("time to resolve", d.time_to_resolve)),
    };
    let mut rows = Vec::new();
    for k in KeyMoment::ALL {
        let at = f
            .key_moments
            .get(*k)
            .map_or_else(|| "—".to_owned(), |m| moment(m, z));
        let (label, value) = derived(*k)
            .map(|(l, d)| (l.to_owned(), duration(d)))
            .unwrap_or_default();
        rows.push(vec![
            format!("  {}", capitalized(k.as_str())),
            at,
            label,
            value,
        ]);
    }
    let t = table(&["", "", "", ""], &rows);
    out.push_str(t.split_once('\n').map_or("", |(_, rest)| rest));

    section(&mut out, "Summary");
    out.push_str(&text_or(
        &f.summary,
        "(none yet: debrief edit KEY --summary …)",
    ));
    section(&mut out, "Impact");
    out.push_str(&text_or(
        &f.impact,
        "(none yet: debrief edit KEY --impact …)",
    ));

    section(&mut out, "Readiness for review");
    if v.gaps.is_empty() {
        out.push_str("  Ready for review\n");
    } else {
        for g in v.gaps {
            let _ = writeln!(out, "  - {}", g.message);
        }
    }

    let visible: Vec<&TimelineEvent> = v.events.iter().filter(|e| !e.fields.hidden).collect();
    let hidden = v.events.len() - visible.len();
    section(&mut out, "Timeline");
    if visible.is_empty() {
        out.push_str("  (empty: debrief timeline add KEY --at TIME --kind KIND --text …)\n");
    }
    for e in &visible {
        out.push_str(&event_block(e, z));
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "  ({hidden} hidden: debrief timeline list {} --all)",
            p.key
        );
    }

    section(&mut out, "Actions");
    if v.actions.is_empty() {
        out.push_str("  (none yet: debrief action add KEY --title … --owner … --check-in DATE)\n");
    }
    for a in v.actions {
        let _ = writeln!(out, "  {}", action_line(a, v.today));
        if let Some(last) = a.progress.last() {
            let _ = writeln!(
                out,
                "      last progress {} ({}): {}",
                instant(last.at, z),
                last.author,
                last.note
            );
        }
    }

    section(&mut out, "Participants");
    if v.participants.is_empty() {
        out.push_str("  (none yet: debrief participant add KEY --name … --role …)\n");
    }
    for pa in v.participants {
        out.push_str(&participant_line(pa));
    }

    if !f.factors.is_empty() {
        section(&mut out, "Contributing factors");
        for c in &f.factors {
            let _ = writeln!(out, "  - [{}] {}", c.category, c.text);
        }
    }
    if !f.lessons.is_empty() {
        section(&mut out, "Lessons learned");
        for k in LessonKind::ALL {
            let items = f.lessons.of(*k);
            if !items.is_empty() {
                let _ = writeln!(out, "  {}", k.prompt());
                for l in items {
                    let _ = writeln!(out, "    - {l}");
                }
            }
        }
    }
    if !f.ideas.is_empty() {
        section(&mut out, "Remediation ideas");
        for q in Question::ALL {
            let ideas: Vec<_> = f.ideas.iter().filter(|i| i.question == *q).collect();
            if !ideas.is_empty() {
                let _ = writeln!(out, "  {}", q.prompt());
                for i in ideas {
                    let _ = writeln!(out, "    - {}", i.text);
                }
            }
        }
    }
    if !f.links.is_empty() {
        section(&mut out, "Links");
        for l in &f.links {
            let title = l
                .title
                .as_ref()
                .map(|t| format!(" — {t}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  - {}: {}{title}", l.kind, l.url);
        }
    }
    let cs = &f.customer_statement;
    if !cs.is_empty() || f.incident_cost.is_some() {
        section(&mut out, "Customer statement");
        for (label, text) in [
            ("Regret", &cs.regret),
            ("Reason", &cs.reason),
            ("Remedy", &cs.remedy),
        ] {
            if !text.is_empty() {
                let _ = writeln!(out, "  {label}: {}", text.replace('\n', "\n    "));
            }
        }
        if let Some(cost) = &f.incident_cost {
            let _ = writeln!(out, "  Incident cost: {cost}");
        }
    }
    section(&mut out, "Review meeting");
    let m = &f.meeting;
    match &m.scheduled_at {
        Some(at) => {
            let _ = writeln!(out, "  When: {}", moment(at, z));
        }
        None => out.push_str("  Not scheduled (debrief edit KEY --meeting TIME)\n"),
    }
    if let Some(loc) = &m.location {
        let _ = writeln!(out, "  Where: {loc}");
    }
    if let Some(fac) = &m.facilitator {
        let _ = writeln!(out, "  Facilitator: {fac}");
    }
    if !m.notes.is_empty() {
        out.push_str(&indent(&m.notes, "  "));
    }
    if !f.notes.is_empty() {
        section(&mut out, "Notes");
        out.push_str(&indent(&f.notes, "  "));
    }
    out
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// A role as people read it: `incident lead`.
pub fn role(r: debrief_core::Role) -> String {
    r.as_str().replace('_', " ")
}

fn text_or(text: &str, missing: &str) -> String {
    if text.trim().is_empty() {
        format!("  {missing}\n")
    } else {
        indent(text, "  ")
    }
}

/// An event as a few lines: time, id, kind, actor and description, then its account and review
/// notes.
pub fn event_block(e: &TimelineEvent, z: &Zone) -> String {
    let f = &e.fields;
    let mut out = String::new();
    let mut head = format!("  {}  #{} {}", moment(&f.happened_at, z), e.id.0, f.kind);
    if let Some(m) = f.milestone {
        let _ = write!(head, " ({m})");
    }
    if let Some(a) = &f.actor {
        let _ = write!(head, " · {a}");
    }
    if f.pinned {
        head.push_str(" · pinned");
    }
    if f.hidden {
        head.push_str(" · hidden");
    }
    let _ = writeln!(out, "{head}");
    out.push_str(&indent(f.description.as_str(), "      "));
    if let Some(who) = &f.account_of {
        let _ = writeln!(out, "      Account of {who}");
    }
    for (label, text) in [
        ("Knew", &f.account.knew),
        ("Expected", &f.account.expected),
        ("Assumed", &f.account.assumed),
        ("Could do differently", &f.differently),
    ] {
        if !text.is_empty() {
            let _ = writeln!(out, "      {label}: {}", text.replace('\n', "\n        "));
        }
    }
    if let Some(o) = f.outcome {
        let _ = writeln!(out, "      Outcome: {o}");
    }
    for l in &f.links {
        let _ = writeln!(out, "      {}: {}", l.kind, l.url);
    }
    if f.source.as_str() != "manual" {
        let id = f
            .source_id
            .as_deref()
            .map(|i| format!(" {i}"))
            .unwrap_or_default();
        let _ = writeln!(out, "      Source: {}{id}", f.source);
    }
    out
}

/// One line for a participant.
pub fn participant_line(p: &Participant) -> String {
    let f = &p.fields;
    let mut s = format!("  #{} {} — {}", p.id.0, f.name, role(f.role));
    s.push_str(if f.invited {
        ", invited"
    } else {
        ", not invited"
    });
    if f.attended {
        s.push_str(", attended");
    }
    if let Some(c) = &f.contact {
        let _ = write!(s, " · {c}");
    }
    if !f.circumstances.is_empty() {
        let _ = write!(s, " · {}", short(&f.circumstances, 80));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_trim() {
        let t = table(
            &["KEY", "TITLE"],
            &[
                vec!["PM-1".into(), "A".into()],
                vec!["PM-10".into(), "B".into()],
            ],
        );
        assert_eq!(t, "KEY    TITLE\nPM-1   A\nPM-10  B\n");
    }

    #[test]
    fn short_cuts_long_and_multiline_text() {
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(short("one\ntwo", 10), "one …");
        assert_eq!(short("one", 10), "one");
    }

    #[test]
    fn a_day_keeps_its_date_in_another_zone() {
        let berlin: Zone = "Europe/Berlin".parse().expect("zone");
        let new_york: Zone = "America/New_York".parse().expect("zone");
        let day = Moment::parse("2024-05-01", &berlin).expect("day");
        assert_eq!(moment(&day, &new_york), "2024-05-01[Europe/Berlin]");
        assert_eq!(moment(&day, &berlin), "2024-05-01");
        let minute = Moment::parse("2024-05-01 01:30", &berlin).expect("minute");
        assert_eq!(moment(&minute, &new_york), "2024-04-30 19:30 -04:00");
    }
}
