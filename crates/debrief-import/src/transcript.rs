//! Plain chat transcripts, as people paste them from a chat client or an IRC log:
//!
//! ```text
//! [14:02] dana: the checkout error rate is climbing
//! [14:02:31] <sam> looking
//! 14:03 - Lee: paging the database on-call
//! 2024-03-05 14:04 dana: restarted the pool
//! Sam Ortiz [2:05 PM]
//! rollback started
//! and finished
//! [14:06] * lee opens a status page incident
//! ```
//!
//! A line that starts with no time continues the message above it. Times carry no date: the date
//! of the first line is given by the caller ([`Options::date`], else the date of
//! [`Options::since`]), and a time earlier than the one before it (by more than ten minutes) moves
//! to the next day, so a log that runs past midnight stays in order. A line may also start with its
//! own date (`2024-03-05 14:04`). `HH:MM` is known to the minute, `HH:MM:SS` to the second.

use std::io::{BufRead, BufReader, Read};

use debrief_core::{Actor, ActorKind, EventFields, EventKind, Precision};
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, ToSpan};

use crate::common::{
    CappedReader, Occurrences, Options, fnv1a64, name, source, stream_error, text,
};
use crate::mapping::{civil_moment, parse_time_of_day};
use crate::report::{ErrorKind, ImportError, ImportReport, Location, Problems};

/// Backwards jumps up to this long are taken as lines out of order, not as a new day.
const OUT_OF_ORDER: SignedDuration = SignedDuration::from_mins(10);

/// What a line of a transcript is.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// A message starts: its time, the speaker when known, and its first line of text (maybe
    /// empty when the text follows on the next lines).
    Message {
        date: Option<Date>,
        time: Time,
        precision: Precision,
        speaker: Option<&'a str>,
        text: &'a str,
    },
    /// Someone joined or left: not part of the incident.
    Noise,
    /// No time at the start: the continuation of the message above.
    Continuation(&'a str),
}

/// A `[2024-03-05 14:02:11]`, `14:02`, `2:02 PM` time stamp, with its date when it has one.
fn parse_stamp(s: &str) -> Option<(Option<Date>, Time, Precision)> {
    let s = s.trim();
    if s.len() >= 10
        && s.is_char_boundary(10)
        && let Ok(date) = s[..10].parse::<Date>()
    {
        let rest = s[10..].trim_start_matches(['T', ' ', ',']);
        if rest.is_empty() {
            return None;
        }
        let rest = rest.trim_end_matches(['Z', 'z']).trim();
        let (time, precision) = parse_time_of_day(rest)?;
        return Some((Some(date), time, precision));
    }
    let (time, precision) = parse_time_of_day(s)?;
    Some((None, time, precision))
}

fn is_noise(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "has joined",
        "has left",
        "has quit",
        "joined the channel",
        "left the channel",
        "joined #",
        "left #",
    ]
    .iter()
    .any(|p| t.contains(p))
}

/// The speaker and text after the time stamp.
fn classify_rest(date: Option<Date>, time: Time, precision: Precision, rest: &str) -> Line<'_> {
    let mut r = rest.trim();
    for sep in ["- ", "– ", "— ", "| "] {
        if let Some(x) = r.strip_prefix(sep) {
            r = x.trim_start();
            break;
        }
    }
    if r == "-" || r == "|" {
        r = "";
    }
    let (speaker, text) = if let Some(after) = r.strip_prefix('<')
        && let Some(end) = after.find('>')
    {
        let who = after[..end]
            .trim()
            .trim_start_matches(['@', '+', '%', '~', '&']);
        (Some(who), after[end + 1..].trim_start())
    } else if let Some(action) = r.strip_prefix("* ") {
        let who = action.split_whitespace().next();
        (who, action.trim())
    } else if r.starts_with("-!-") || r.starts_with("***") || r.starts_with("--") {
        let body = r.trim_start_matches(['-', '!', '*', ' ']);
        if is_noise(body) {
            return Line::Noise;
        }
        (None, body)
    } else if let Some(i) = r
        .find(": ")
        .or_else(|| r.ends_with(':').then(|| r.len() - 1))
    {
        let who = r[..i].trim();
        if !who.is_empty() && who.chars().count() <= 64 && !who.contains("://") {
            (Some(who), r[i + 1..].trim_start())
        } else {
            (None, r)
        }
    } else {
        (None, r)
    };
    let speaker = speaker.filter(|s| !s.is_empty());
    if speaker.is_none() && is_noise(text) {
        return Line::Noise;
    }
    Line::Message {
        date,
        time,
        precision,
        speaker,
        text,
    }
}

fn classify(line: &str) -> Line<'_> {
    let t = line.trim();
    // `[14:02] …` or `(14:02) …`
    if let Some(open) = t.chars().next().filter(|c| matches!(c, '[' | '('))
        && let Some(close) = t.find(if open == '[' { ']' } else { ')' })
        && let Some((date, time, precision)) = parse_stamp(&t[1..close])
    {
        return classify_rest(date, time, precision, &t[close + 1..]);
    }
    // `14:02 …`, `2:02 PM …`, `2024-03-05 14:02 …`, `2024-03-05T14:02:11Z …`: try the longest
    // stamp of up to three words.
    let words: Vec<(usize, &str)> = word_ends(t).into_iter().take(3).collect();
    for &(end, _) in words.iter().rev() {
        let stamp = t[..end].trim_end_matches([',', ' ']);
        if let Some((date, time, precision)) = parse_stamp(stamp) {
            return classify_rest(date, time, precision, &t[end..]);
        }
    }
    // `Dana Ruiz [10:07 AM]` (the text follows, on this line or the next ones).
    if let Some(open) = t.find('[')
        && open > 0
        && let Some(close) = t[open..].find(']').map(|c| open + c)
        && let Some((date, time, precision)) = parse_stamp(&t[open + 1..close])
    {
        let who = t[..open].trim();
        if who.chars().count() <= 80 {
            let text = t[close + 1..].trim_start_matches([':', ' ', '-']);
            return Line::Message {
                date,
                time,
                precision,
                speaker: Some(who),
                text,
            };
        }
    }
    Line::Continuation(t)
}

/// The byte offsets where each of the first words of `t` ends.
fn word_ends(t: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut in_word = false;
    let mut start = 0;
    for (i, c) in t.char_indices() {
        if c.is_whitespace() {
            if in_word {
                out.push((i, &t[start..i]));
                in_word = false;
                if out.len() == 3 {
                    return out;
                }
            }
        } else if !in_word {
            in_word = true;
            start = i;
        }
    }
    if in_word {
        out.push((t.len(), &t[start..]));
    }
    out
}

struct Pending {
    line: u64,
    date: Date,
    time: Time,
    precision: Precision,
    speaker: Option<String>,
    text: String,
}

/// Reads a chat transcript.
pub fn parse<R: Read>(reader: R, opts: &Options) -> Result<ImportReport, ImportError> {
    let file = opts.file();
    let start_date = match (opts.date, opts.since) {
        (Some(d), _) => d,
        (None, Some(since)) => since.to_zoned(opts.zone.tz().clone()).date(),
        (None, None) => {
            return Err(ImportError::new(
                ErrorKind::Options,
                Location::file(file),
                "a chat transcript has times but no dates: give the date of its first line",
            ));
        }
    };
    let mut input = BufReader::with_capacity(64 * 1024, CappedReader::new(reader, opts.max_bytes));
    let src = source("transcript");
    let mut problems = Problems::default();
    let mut occurrences = Occurrences::default();
    let mut events = Vec::new();
    let mut outside = 0u64;
    let mut noise = 0u64;
    let mut rollovers = 0u32;
    let mut date = start_date;
    let mut last: Option<Time> = None;
    let mut pending: Option<Pending> = None;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut seen_message = false;

    let mut finish =
        |p: Pending, problems: &mut Problems, events: &mut Vec<EventFields>, outside: &mut u64| {
            let at = Location::file(file).with_line(p.line);
            let Some(description) = text(&p.text) else {
                problems.reject(at, "a time and a name but no message text");
                return;
            };
            let moment = match civil_moment(p.date.to_datetime(p.time), &opts.zone, p.precision) {
                Ok(m) => m,
                Err(e) => {
                    problems.reject(at, e);
                    return;
                }
            };
            let key = fnv1a64(&[
                p.date.to_string().as_bytes(),
                p.time.to_string().as_bytes(),
                p.speaker.as_deref().unwrap_or("").as_bytes(),
                description.as_str().as_bytes(),
            ]);
            let mut event = EventFields::new(moment, EventKind::Note, description);
            event.actor = p.speaker.as_deref().and_then(name).map(|n| Actor {
                kind: ActorKind::Person,
                name: n,
            });
            event.source = src.clone();
            event.source_id = Some(occurrences.id(format!("line-{key:016x}")));
            if opts.in_window(event.happened_at.at()) {
                events.push(event);
            } else {
                *outside += 1;
            }
        };

    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| stream_error(&e, file, opts.max_bytes))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let raw = String::from_utf8_lossy(&buf);
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            if let Some(p) = pending.as_mut()
                && !p.text.is_empty()
            {
                p.text.push('\n');
            }
            continue;
        }
        match classify(line) {
            Line::Noise => noise += 1,
            Line::Continuation(more) => match pending.as_mut() {
                Some(p) => {
                    if !p.text.is_empty() && !p.text.ends_with('\n') {
                        p.text.push('\n');
                    }
                    p.text.push_str(more);
                }
                None => {
                    let at = Location::file(file).with_line(line_no);
                    if !seen_message && line_no > 20 {
                        return Err(ImportError::new(
                            ErrorKind::Format,
                            at,
                            "no line in the first 20 starts with a time: expected a chat transcript with lines such as [14:02] name: text, 14:02:11 <name> text or name [10:07 AM]",
                        ));
                    }
                    problems.reject(
                        at,
                        "expected a line starting with a time, such as [14:02] name: text, 14:02:11 <name> text or name [10:07 AM]",
                    );
                }
            },
            Line::Message {
                date: line_date,
                time,
                precision,
                speaker,
                text: first,
            } => {
                seen_message = true;
                if let Some(d) = line_date {
                    date = d;
                } else if let Some(prev) = last
                    && prev.duration_until(time) < -OUT_OF_ORDER
                {
                    match date.checked_add(1.day()) {
                        Ok(next) => {
                            date = next;
                            rollovers += 1;
                        }
                        Err(e) => {
                            return Err(ImportError::new(
                                ErrorKind::Format,
                                Location::file(file).with_line(line_no),
                                format!("the transcript runs past the last date there is: {e}"),
                            ));
                        }
                    }
                }
                last = Some(time);
                if let Some(p) = pending.take() {
                    finish(p, &mut problems, &mut events, &mut outside);
                }
                pending = Some(Pending {
                    line: line_no,
                    date,
                    time,
                    precision,
                    speaker: speaker.map(str::to_owned),
                    text: first.trim().to_owned(),
                });
            }
        }
    }
    if let Some(p) = pending.take() {
        finish(p, &mut problems, &mut events, &mut outside);
    }
    if !seen_message {
        return Err(ImportError::new(
            ErrorKind::Format,
            Location::file(file),
            "no line starts with a time: expected a chat transcript with lines such as [14:02] name: text, 14:02:11 <name> text or name [10:07 AM]",
        ));
    }
    if rollovers > 0 {
        problems.note(format!(
            "the times went back past midnight {rollovers} time(s): those lines were dated the next day (first line dated {start_date})"
        ));
    }
    if noise > 0 {
        problems.note(format!("{noise} join/leave lines were skipped"));
    }
    if outside > 0 {
        problems.note(format!(
            "{outside} messages outside the time window were left out"
        ));
    }
    Ok(problems.into_report(events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(line: &str) -> (Option<String>, String, String) {
        match classify(line) {
            Line::Message {
                time,
                speaker,
                text,
                ..
            } => (
                speaker.map(str::to_owned),
                time.to_string(),
                text.to_owned(),
            ),
            other => panic!("{line:?} → {other:?}"),
        }
    }

    #[test]
    fn common_forms() {
        let dana = Some("dana".to_owned());
        assert_eq!(
            msg("[14:02] dana: hello"),
            (dana.clone(), "14:02:00".into(), "hello".into())
        );
        assert_eq!(
            msg("14:02:11 <@dana> hi"),
            (dana.clone(), "14:02:11".into(), "hi".into())
        );
        assert_eq!(
            msg("[2:02 PM] dana: x"),
            (dana.clone(), "14:02:00".into(), "x".into())
        );
        assert_eq!(
            msg("14:02 - dana: x"),
            (dana.clone(), "14:02:00".into(), "x".into())
        );
        assert_eq!(msg("2024-03-05 14:02 dana: x").1, "14:02:00");
        assert_eq!(msg("[2024-03-05T14:02:11Z] dana: x").1, "14:02:11");
        assert_eq!(
            msg("dana [10:07 AM]"),
            (dana.clone(), "10:07:00".into(), String::new())
        );
        assert_eq!(
            msg("[14:06] * dana restarts db"),
            (dana, "14:06:00".into(), "dana restarts db".into())
        );
        assert_eq!(msg("14:07 deploy finished").0, None);
        assert_eq!(classify("[14:08] -!- dana has joined #ops"), Line::Noise);
        assert_eq!(classify("just text"), Line::Continuation("just text"));
        assert_eq!(
            classify("see https://x.example/a: b"),
            Line::Continuation("see https://x.example/a: b")
        );
    }
}
