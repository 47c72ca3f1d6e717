//! Helpers every importer shares: options, turning outside text into checked domain values, times,
//! stable ids, and reading under a size limit.

use std::io::Read;

use debrief_core::{Line, Link, LinkKind, Moment, Name, Source, Text, Url, Zone};
use jiff::Timestamp;

use crate::mapping::FieldMapping;
use crate::report::ImportError;

/// The default size limit of one input (or of one file inside a Slack export): 256 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// What the caller tells an importer. Each importer reads the fields that concern it and ignores
/// the rest, so one value can be built from the command line and handed to any of them.
#[derive(Debug, Clone)]
pub struct Options {
    /// The zone imported moments are shown in (their instant is what the input says).
    pub zone: Zone,
    /// Only events at or after this instant are kept.
    pub since: Option<Timestamp>,
    /// Only events at or before this instant are kept.
    pub until: Option<Timestamp>,
    /// Inputs (and files inside a Slack export) larger than this are refused.
    pub max_bytes: u64,
    /// The name of the input, used in error messages.
    pub file_name: Option<String>,
    /// When the payload was received: the time of a legacy Grafana alert, which carries none.
    pub received_at: Option<Timestamp>,
    /// The date of the first line of a chat transcript, and of CSV rows that hold only a time.
    pub date: Option<jiff::civil::Date>,
    /// Which column or JSON field holds what (CSV and JSON lines).
    pub mapping: FieldMapping,
    /// Slack: the channels to import, by name or id (`#` optional). Empty: all of them.
    pub channels: Vec<String>,
    /// Slack: the workspace address (`https://acme.slack.com`); with it every message links to its
    /// permalink and a thread reply also links to its parent.
    pub workspace_url: Option<Url>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            zone: Zone::utc(),
            since: None,
            until: None,
            max_bytes: DEFAULT_MAX_BYTES,
            file_name: None,
            received_at: None,
            date: None,
            mapping: FieldMapping::default(),
            channels: Vec::new(),
            workspace_url: None,
        }
    }
}

impl Options {
    /// Whether `at` is inside the `since`/`until` window (both ends included).
    pub fn in_window(&self, at: Timestamp) -> bool {
        self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at <= u)
    }

    pub(crate) fn file(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// Refuses a byte slice over the limit.
    pub(crate) fn check_size(&self, bytes: &[u8]) -> Result<(), ImportError> {
        if bytes.len() as u64 > self.max_bytes {
            return Err(ImportError::too_large(self.file(), self.max_bytes));
        }
        Ok(())
    }

    pub(crate) fn moment(&self, at: Timestamp) -> Moment {
        Moment::exact(at, self.zone.clone())
    }
}

/// Reads all of `reader`, refusing more than `limit` bytes without reading past the limit.
pub fn read_capped<R: Read>(
    reader: R,
    limit: u64,
    file: Option<&str>,
) -> Result<Vec<u8>, ImportError> {
    let mut buf = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| ImportError::io(file, &e))?;
    if buf.len() as u64 > limit {
        return Err(ImportError::too_large(file, limit));
    }
    Ok(buf)
}

/// A reader that fails once more than `limit` bytes have been read, for the streaming formats.
#[derive(Debug)]
pub(crate) struct CappedReader<R> {
    inner: R,
    left: u64,
    pub exceeded: bool,
}

impl<R: Read> CappedReader<R> {
    pub fn new(inner: R, limit: u64) -> CappedReader<R> {
        CappedReader {
            inner,
            left: limit,
            exceeded: false,
        }
    }
}

/// The message of the I/O error a [`CappedReader`] returns past its limit.
pub(crate) const OVER_LIMIT: &str = "debrief-import: input over the size limit";

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Read one byte more than is left, to tell "exactly at the limit" from "over it".
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.exceeded = true;
            return Err(std::io::Error::other(OVER_LIMIT));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Maps an I/O error from a [`CappedReader`] stack to the right [`ImportError`].
pub(crate) fn stream_error(err: &std::io::Error, file: Option<&str>, limit: u64) -> ImportError {
    if err.to_string().contains(OVER_LIMIT) {
        ImportError::too_large(file, limit)
    } else {
        ImportError::io(file, err)
    }
}

/// The source named `name` (one of [`Source::KNOWN`]).
pub(crate) fn source(name: &str) -> Source {
    name.parse().unwrap_or_else(|_| Source::manual())
}

fn is_bad_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// The most bytes kept of one description; longer text is cut with an ellipsis.
pub(crate) const MAX_TEXT_BYTES: usize = 100_000;

/// Outside text as an event description: invisible control characters become spaces and text over
/// the limit is cut (with `…`). `None` when nothing is left.
pub(crate) fn text(s: &str) -> Option<Text> {
    if s.len() <= MAX_TEXT_BYTES && !s.chars().any(is_bad_control) {
        return s.parse().ok();
    }
    let mut clean: String = s
        .chars()
        .map(|c| if is_bad_control(c) { ' ' } else { c })
        .collect();
    if clean.len() > MAX_TEXT_BYTES {
        let cut = floor_char_boundary(&clean, MAX_TEXT_BYTES - 8);
        clean.truncate(cut);
        clean.push('…');
    }
    clean.parse().ok()
}

/// One line of outside text, at most `max_chars` characters: whitespace runs (line breaks
/// included) become one space, control characters are dropped.
pub(crate) fn one_line(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut count = 0;
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if c.is_control() {
            continue;
        }
        if space && !out.is_empty() {
            if count + 1 >= max_chars {
                break;
            }
            out.push(' ');
            count += 1;
        }
        space = false;
        if count >= max_chars {
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// Outside text as a person's, team's or system's name (at most 120 characters).
pub(crate) fn name(s: &str) -> Option<Name> {
    one_line(s, 120).parse().ok()
}

/// Outside text as one line (at most 2000 characters), such as a link title.
pub(crate) fn line(s: &str) -> Option<Line> {
    one_line(s, 2000).parse().ok()
}

/// A link, when `url` is an http(s) URL.
pub(crate) fn link(kind: LinkKind, url: &str, title: Option<&str>) -> Option<Link> {
    let url: Url = url.trim().parse().ok()?;
    Some(Link {
        kind,
        url,
        title: title.and_then(line),
    })
}

pub(crate) fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The first `max` characters of `s`, with `…` when it was cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Parses an RFC 3339 time with its offset (`2024-03-05T14:02:11.25Z`, `…-05:00`).
pub(crate) fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
    let t = s.trim();
    if let Some(offset) = offset_text(t)
        && let Some(minutes) = offset_minutes(offset)
        && !(-12 * 60..=14 * 60).contains(&minutes)
    {
        return Err(format!(
            "{:?} has the offset {offset}, which no place uses: expected an offset between -12:00 and +14:00, or Z",
            shorten(t, 60)
        ));
    }
    t.parse::<Timestamp>().map_err(|e| {
        let looks_like_a_time = t.len() >= 16 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit);
        if !looks_like_a_time {
            format!(
                "{:?} is not a time: expected an RFC 3339 time such as 2024-03-05T14:02:11Z",
                shorten(t, 60)
            )
        } else if has_offset(t) {
            format!("{:?} is not a valid time ({e}): expected an RFC 3339 time such as 2024-03-05T14:02:11Z", shorten(t, 60))
        } else {
            format!(
                "{:?} has no offset: expected an RFC 3339 time with Z or an offset such as +01:00 (2024-03-05T14:02:11Z)",
                shorten(t, 60)
            )
        }
    })
}

/// The `+01:00` / `-0500` at the end of an RFC 3339 time, when there is one.
fn offset_text(t: &str) -> Option<&str> {
    let tail_start = 11.min(t.len());
    let tail = t.get(tail_start..)?;
    let i = tail.rfind(['+', '-'])?;
    Some(&tail[i..])
}

fn offset_minutes(offset: &str) -> Option<i32> {
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 2 || digits.len() > 4 {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    Some(sign * (hours * 60 + minutes))
}

fn has_offset(t: &str) -> bool {
    let tail = t.get(10..).unwrap_or("");
    tail.ends_with(['Z', 'z']) || tail.contains(['+', '-'])
}

/// Go's zero time (`0001-01-01T00:00:00Z`), which Alertmanager and Grafana send for "not yet".
pub(crate) fn is_unset_time(t: Timestamp) -> bool {
    // Anything before 1900 is a placeholder, not a moment of an incident.
    t.as_second() < -2_208_988_800
}

/// An integer epoch time whose unit is told by its size: seconds, milliseconds, microseconds or
/// nanoseconds (tools such as Opsgenie mix them in one payload).
pub(crate) fn epoch_by_magnitude(n: i128) -> Result<Timestamp, String> {
    if n < 0 {
        return Err(format!(
            "{n} is negative: expected an epoch time in seconds, milliseconds, microseconds or nanoseconds"
        ));
    }
    let nanos = if n < 100_000_000_000 {
        n * 1_000_000_000
    } else if n < 100_000_000_000_000 {
        n * 1_000_000
    } else if n < 100_000_000_000_000_000 {
        n * 1_000
    } else {
        n
    };
    Timestamp::from_nanosecond(nanos).map_err(|e| format!("{n} is not a usable epoch time: {e}"))
}

/// A 64-bit FNV-1a hash: stable across Rust versions and machines, for ids derived from content.
pub(crate) fn fnv1a64(parts: &[&[u8]]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// Counts repeats of a content-derived key so that identical rows get distinct, stable ids: the
/// first is `key`, the second `key~2`, and so on.
#[derive(Debug, Default)]
pub(crate) struct Occurrences(std::collections::HashMap<String, u32>);

impl Occurrences {
    pub fn id(&mut self, key: String) -> String {
        let n = self.0.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { key } else { format!("{key}~{n}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_units_are_told_by_size() {
        let want: Timestamp = "2015-01-05T10:03:11Z".parse().expect("ts");
        for n in [
            1_420_452_191_i128,
            1_420_452_191_000,
            1_420_452_191_000_000,
            1_420_452_191_000_000_000,
        ] {
            assert_eq!(epoch_by_magnitude(n).expect("epoch"), want, "{n}");
        }
        assert!(epoch_by_magnitude(-1).is_err());
        assert!(epoch_by_magnitude(i128::from(u64::MAX) * 1000).is_err());
    }

    #[test]
    fn text_is_cleaned_not_refused() {
        assert_eq!(text("a\u{1b}b").expect("text").as_str(), "a b");
        assert!(text("  ").is_none());
        let long = "é".repeat(60_000);
        let t = text(&long).expect("long");
        assert!(t.as_str().len() <= MAX_TEXT_BYTES);
        assert!(t.as_str().ends_with('…'));
    }

    #[test]
    fn names_become_one_line() {
        assert_eq!(one_line("  Dana \n Ruiz\u{7} ", 120), "Dana Ruiz");
        assert_eq!(one_line("abcdef", 3), "abc");
        assert!(name("\n\t").is_none());
    }

    #[test]
    fn rfc3339_errors_say_what_was_expected() {
        assert!(parse_rfc3339("2018-03-07T06:33:21.873077559-05:00").is_ok());
        let e = parse_rfc3339("2018-03-07T06:33:21").expect_err("no offset");
        assert!(e.contains("has no offset"), "{e}");
        let e = parse_rfc3339("2018-03-07T06:33:21+25:00").expect_err("bad offset");
        assert!(e.contains("which no place uses"), "{e}");
        let e = parse_rfc3339("2018-03-07T06:33:61Z").expect_err("bad second");
        assert!(e.contains("is not a valid time"), "{e}");
        assert!(parse_rfc3339("2018-03-07T06:33:21-1200").is_ok());
        assert!(is_unset_time(
            parse_rfc3339("0001-01-01T00:00:00Z").expect("zero")
        ));
    }

    #[test]
    fn capped_reader_stops_at_the_limit() {
        let data = [b'x'; 100];
        let mut out = Vec::new();
        let err = CappedReader::new(&data[..], 99)
            .read_to_end(&mut out)
            .expect_err("over");
        assert!(err.to_string().contains(OVER_LIMIT));
        let mut out = Vec::new();
        CappedReader::new(&data[..], 100)
            .read_to_end(&mut out)
            .expect("at the limit");
        assert_eq!(out.len(), 100);
        assert!(read_capped(&data[..], 10, None).is_err());
    }

    #[test]
    fn repeated_keys_get_numbered() {
        let mut o = Occurrences::default();
        assert_eq!(o.id("a".into()), "a");
        assert_eq!(o.id("a".into()), "a~2");
        assert_eq!(o.id("b".into()), "b");
    }
}
