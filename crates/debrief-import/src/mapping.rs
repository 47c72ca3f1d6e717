//! The mapping from a table's columns (CSV) or a record's fields (JSON lines) to event fields, and
//! the conversion of one such row into an event.

use std::collections::BTreeMap;
use std::fmt;

use debrief_core::{
    Actor, EventFields, EventKind, KeyMoment, LinkKind, Moment, Precision, Source, Zone,
};
use jiff::civil::{Date, DateTime, Time};

use crate::common::{Occurrences, epoch_by_magnitude, fnv1a64, link, one_line, shorten, text};
use crate::report::{ErrorKind, ImportError, Location};

/// An event field a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// When it happened: a date and time, or a time of day with [`Field::Date`] or a given date.
    Time,
    /// The date, when the time column holds only a time of day.
    Date,
    Description,
    /// `Dana Ruiz`, `team:payments`, `system:alertmanager`.
    Actor,
    /// One of the event kinds (`alert`, `action`, …); `note` when absent.
    Kind,
    /// The row's own id, for de-duplication on re-import.
    SourceId,
    /// A key moment (`detected`, `resolved`, …): makes the event a milestone.
    Milestone,
    /// An http(s) link to evidence.
    Link,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Time,
        Field::Date,
        Field::Description,
        Field::Actor,
        Field::Kind,
        Field::SourceId,
        Field::Milestone,
        Field::Link,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Time => "time",
            Field::Date => "date",
            Field::Description => "description",
            Field::Actor => "actor",
            Field::Kind => "kind",
            Field::SourceId => "source_id",
            Field::Milestone => "milestone",
            Field::Link => "link",
        }
    }

    /// The column names looked for, in order, when the mapping does not name one.
    pub(crate) fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Time => &[
                "time",
                "timestamp",
                "datetime",
                "date_time",
                "happened_at",
                "occurred_at",
                "@timestamp",
                "ts",
                "when",
                "at",
                "created_at",
            ],
            Field::Date => &["date", "day"],
            Field::Description => &[
                "description",
                "text",
                "message",
                "msg",
                "what",
                "what_happened",
                "event",
                "summary",
                "details",
                "note",
                "notes",
            ],
            Field::Actor => &["actor", "who", "by", "user", "author", "person", "name"],
            Field::Kind => &["kind", "type", "category"],
            Field::SourceId => &["source_id", "id", "event_id", "uid", "uuid"],
            Field::Milestone => &["milestone", "key_moment"],
            Field::Link => &["link", "url", "href"],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Field {
    type Err = String;
    fn from_str(s: &str) -> Result<Field, String> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Field::ALL
            .into_iter()
            .find(|f| f.as_str() == wanted || (wanted == "id" && *f == Field::SourceId))
            .ok_or_else(|| {
                format!(
                    "{:?} is not an event field: expected one of {}",
                    s.trim(),
                    Field::ALL.map(Field::as_str).join(", ")
                )
            })
    }
}

/// Which column (CSV header) or field (JSON lines; `a.b` reaches into objects) holds each event
/// field. Fields not named are looked for under common names (`time`, `timestamp`, `description`,
/// `message`, `actor`, `who`, …, case and spacing ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMapping {
    columns: BTreeMap<Field, String>,
}

impl FieldMapping {
    /// Parses `time=When, description=What happened, actor=Who` (field names as in [`Field`]).
    pub fn parse(spec: &str) -> Result<FieldMapping, ImportError> {
        let mut mapping = FieldMapping::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, column) = part.split_once('=').ok_or_else(|| {
                options_error(format!(
                    "{part:?} is not a mapping: expected FIELD=COLUMN, such as time=When"
                ))
            })?;
            let field: Field = field.parse().map_err(options_error)?;
            let column = column.trim();
            if column.is_empty() {
                return Err(options_error(format!("{field}= names no column")));
            }
            mapping.set(field, column);
        }
        Ok(mapping)
    }

    pub fn set(&mut self, field: Field, column: impl Into<String>) {
        self.columns.insert(field, column.into());
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.columns.get(&field).map(String::as_str)
    }
}

fn options_error(message: String) -> ImportError {
    ImportError::new(ErrorKind::Options, Location::default(), message)
}

/// A header as it is compared: lowercase, `_` for spaces and dashes, without a trailing unit or
/// zone in parentheses or brackets (`Time (UTC)` → `time`) or a `_utc` suffix.
pub(crate) fn normalize_header(h: &str) -> String {
    let mut h = h.trim().trim_start_matches('\u{feff}').trim();
    if let Some(i) = h.find(['(', '['])
        && i > 0
    {
        h = h[..i].trim_end();
    }
    let h = h.to_ascii_lowercase().replace([' ', '-'], "_");
    match h.strip_suffix("_utc") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => h,
    }
}

/// The column index of each field, for a CSV header.
#[derive(Debug, Default)]
pub(crate) struct Columns(BTreeMap<Field, usize>);

impl Columns {
    pub fn resolve(
        headers: &[String],
        mapping: &FieldMapping,
        file: Option<&str>,
    ) -> Result<Columns, ImportError> {
        let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        let mut found = BTreeMap::new();
        for field in Field::ALL {
            let index = match mapping.get(field) {
                Some(wanted) => {
                    let exact = headers.iter().position(|h| h.trim() == wanted.trim());
                    let loose = || {
                        let w = normalize_header(wanted);
                        normalized.iter().position(|h| *h == w)
                    };
                    match exact.or_else(loose) {
                        Some(i) => Some(i),
                        None => {
                            return Err(ImportError::new(
                                ErrorKind::Options,
                                Location::file(file).with_line(1),
                                format!(
                                    "the mapping names the column {wanted:?} for {field}, but the header has {}",
                                    list_headers(headers)
                                ),
                            ));
                        }
                    }
                }
                None => field
                    .aliases()
                    .iter()
                    .find_map(|alias| normalized.iter().position(|h| h == alias)),
            };
            if let Some(i) = index {
                found.insert(field, i);
            }
        }
        // A lone `date` column holds the whole time.
        if !found.contains_key(&Field::Time)
            && let Some(i) = found.remove(&Field::Date)
        {
            found.insert(Field::Time, i);
        }
        for required in [Field::Time, Field::Description] {
            if !found.contains_key(&required) {
                return Err(ImportError::new(
                    ErrorKind::Options,
                    Location::file(file).with_line(1),
                    format!(
                        "no column for the event's {required}: the header has {}; name one with a mapping such as {required}=COLUMN (looked for {})",
                        list_headers(headers),
                        required.aliases().join(", ")
                    ),
                ));
            }
        }
        Ok(Columns(found))
    }

    pub fn get(&self, field: Field) -> Option<usize> {
        self.0.get(&field).copied()
    }
}

fn list_headers(headers: &[String]) -> String {
    if headers.iter().all(|h| h.trim().is_empty()) {
        return "no named columns".to_owned();
    }
    let names: Vec<String> = headers
        .iter()
        .take(20)
        .map(|h| format!("{:?}", shorten(h.trim(), 40)))
        .collect();
    format!("the columns {}", names.join(", "))
}

/// One row's raw values, before they are checked.
#[derive(Debug, Default)]
pub(crate) struct RowValues<'a> {
    pub time: Option<&'a str>,
    pub date: Option<&'a str>,
    pub description: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub source_id: Option<&'a str>,
    pub milestone: Option<&'a str>,
    pub link: Option<&'a str>,
}

impl<'a> RowValues<'a> {
    pub fn set(&mut self, field: Field, value: &'a str) {
        let slot = match field {
            Field::Time => &mut self.time,
            Field::Date => &mut self.date,
            Field::Description => &mut self.description,
            Field::Actor => &mut self.actor,
            Field::Kind => &mut self.kind,
            Field::SourceId => &mut self.source_id,
            Field::Milestone => &mut self.milestone,
            Field::Link => &mut self.link,
        };
        let value = value.trim();
        *slot = if value.is_empty() { None } else { Some(value) };
    }
}

/// Why a row was refused: the field at fault and the reason.
pub(crate) type RowProblem = (Field, String);

/// What converting a row gives besides the event: problems with optional fields, which are
/// dropped, not fatal.
#[derive(Debug, Default)]
pub(crate) struct RowNotes(pub Vec<RowProblem>);

pub(crate) fn row_event(
    row: &RowValues<'_>,
    default_date: Option<Date>,
    zone: &Zone,
    source: &Source,
    occurrences: &mut Occurrences,
    notes: &mut RowNotes,
) -> Result<EventFields, RowProblem> {
    let time = row
        .time
        .ok_or((Field::Time, "empty: expected a time".to_owned()))?;
    let row_date = match row.date {
        Some(d) => Some(d.parse::<Date>().map_err(|_| {
            (
                Field::Date,
                format!("{d:?} is not a date: expected YYYY-MM-DD"),
            )
        })?),
        None => None,
    };
    let happened_at =
        parse_when(time, row_date.or(default_date), zone).map_err(|e| (Field::Time, e))?;
    let description = row.description.and_then(text).ok_or((
        Field::Description,
        "empty: expected what happened".to_owned(),
    ))?;
    let mut kind = match row.kind {
        Some(k) => k
            .parse::<EventKind>()
            .map_err(|e| (Field::Kind, e.message))?,
        None => EventKind::Note,
    };
    let milestone = match row.milestone {
        Some(m) => {
            let m = m
                .parse::<KeyMoment>()
                .map_err(|e| (Field::Milestone, e.message))?;
            if row.kind.is_none() {
                kind = EventKind::Milestone;
            }
            Some(m)
        }
        None => None,
    };
    let actor = match row.actor {
        Some(a) => Some(Actor::parse(&one_line(a, 200)).map_err(|e| (Field::Actor, e.message))?),
        None => None,
    };
    let source_id = match row.source_id {
        Some(id) => id.to_owned(),
        None => {
            let key = fnv1a64(&[
                time.as_bytes(),
                row.date.unwrap_or("").as_bytes(),
                row.actor.unwrap_or("").as_bytes(),
                description.as_str().as_bytes(),
            ]);
            occurrences.id(format!("row-{key:016x}"))
        }
    };
    let mut event = EventFields::new(happened_at, kind, description);
    event.milestone = milestone;
    event.actor = actor;
    event.source = source.clone();
    event.source_id = Some(source_id);
    if let Some(url) = row.link {
        match link(LinkKind::Other, url, None) {
            Some(l) => event.links.push(l),
            None => notes.0.push((
                Field::Link,
                format!(
                    "{:?} is not an http(s) URL; the link was left out",
                    shorten(url, 60)
                ),
            )),
        }
    }
    event.validate().map_err(|e| {
        let field = match e.field.as_str() {
            "source_id" => Field::SourceId,
            "milestone" => Field::Milestone,
            _ => Field::Kind,
        };
        (field, e.message)
    })?;
    Ok(event)
}

/// Reads a time as people and tools write it in tables and logs:
/// - `2024-03-05 14:02`, `2024-03-05T14:02:11.25Z`, `2024-03-05 14:02:11+01:00`, `2024-03-05`
///   (the precision is what was written; without an offset the zone applies);
/// - epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size), with an
///   optional fraction of seconds;
/// - a time of day (`14:02`, `14:02:11`, `2:02 PM`) when a date is known.
pub(crate) fn parse_when(s: &str, date: Option<Date>, zone: &Zone) -> Result<Moment, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_epoch(s, zone);
    }
    if let Ok(m) = Moment::parse(s, zone) {
        return Ok(m);
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(Moment::exact(ts, zone.clone()));
    }
    if let Some((time, precision)) = parse_time_of_day(s) {
        let Some(date) = date else {
            return Err(format!(
                "{:?} is a time of day without a date: give the date (a date column or option)",
                shorten(s, 40)
            ));
        };
        return civil_moment(date.to_datetime(time), zone, precision);
    }
    Err(format!(
        "{:?} is not a time: expected YYYY-MM-DD HH:MM[:SS] (optionally with Z or an offset), an RFC 3339 time, an epoch time in seconds or milliseconds, or HH:MM with a date",
        shorten(s, 40)
    ))
}

fn parse_epoch(s: &str, zone: &Zone) -> Result<Moment, String> {
    let bad = || format!("{:?} is not an epoch time", shorten(s, 40));
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() || whole.len() > 30 {
        return Err(bad());
    }
    let n: i128 = whole.parse().map_err(|_| bad())?;
    let mut at = epoch_by_magnitude(n)?;
    if let Some(frac) = frac {
        // A fraction only makes sense on seconds.
        if n >= 100_000_000_000 || frac.contains('.') || frac.is_empty() {
            return Err(bad());
        }
        let digits: String = frac.chars().take(9).collect();
        let nanos: i64 = format!("{digits:0<9}").parse().map_err(|_| bad())?;
        at = at
            .checked_add(jiff::SignedDuration::from_nanos(nanos))
            .map_err(|_| bad())?;
    }
    Ok(Moment::exact(at, zone.clone()))
}

/// `14:02`, `14:02:11`, `2:02 PM`, `2:02:11pm`, `14.02`: a time of day and how precisely it is known.
pub(crate) fn parse_time_of_day(s: &str) -> Option<(Time, Precision)> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let (clock, meridiem) = if let Some(rest) = lower.strip_suffix("am") {
        (rest.trim_end().trim_end_matches('.'), Some(false))
    } else if let Some(rest) = lower.strip_suffix("pm") {
        (rest.trim_end().trim_end_matches('.'), Some(true))
    } else if let Some(rest) = lower.strip_suffix("a.m.") {
        (rest.trim_end(), Some(false))
    } else if let Some(rest) = lower.strip_suffix("p.m.") {
        (rest.trim_end(), Some(true))
    } else {
        (lower.as_str(), None)
    };
    let mut parts = clock.split([':', '.']);
    let h = parts.next()?;
    let m = parts.next()?;
    let sec = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let two = |p: &str, max_len: usize| -> Option<i8> {
        if p.is_empty() || p.len() > max_len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let mut hour = two(h, 2)?;
    let minute = two(m, 2).filter(|_| m.len() == 2)?;
    let second = match sec {
        Some(x) => Some(two(x, 2).filter(|_| x.len() == 2)?),
        None => None,
    };
    if let Some(pm) = meridiem {
        // "13:55 PM" is written by people too: a 24-hour time with a stray PM.
        if hour == 0 || hour > 23 || (!pm && hour > 12) {
            return None;
        }
        hour = match (pm, hour) {
            (true, h) if h > 12 => h,
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    let time = Time::new(hour, minute, second.unwrap_or(0), 0).ok()?;
    let precision = if second.is_some() {
        Precision::Second
    } else {
        Precision::Minute
    };
    Some((time, precision))
}

/// A civil date and time in `zone` (the earlier of two in a repeated hour; a skipped time moves
/// forward), known to `precision`.
pub(crate) fn civil_moment(
    dt: DateTime,
    zone: &Zone,
    precision: Precision,
) -> Result<Moment, String> {
    let at = zone
        .tz()
        .to_ambiguous_zoned(dt)
        .compatible()
        .map_err(|e| format!("{dt} does not exist in {zone}: {e}"))?
        .timestamp();
    Moment::new(at, zone.clone(), precision).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_parse() {
        let m = FieldMapping::parse("time=When, description = What happened,id=Ref").expect("ok");
        assert_eq!(m.get(Field::Time), Some("When"));
        assert_eq!(m.get(Field::Description), Some("What happened"));
        assert_eq!(m.get(Field::SourceId), Some("Ref"));
        let e = FieldMapping::parse("colour=x").expect_err("bad field");
        assert!(e.message.contains("not an event field"), "{e}");
        assert!(FieldMapping::parse("time").is_err());
    }

    #[test]
    fn columns_are_found_by_common_names() {
        let headers: Vec<String> = ["Timestamp", "Who", "Message"].map(String::from).to_vec();
        let c = Columns::resolve(&headers, &FieldMapping::default(), None).expect("found");
        assert_eq!(c.get(Field::Time), Some(0));
        assert_eq!(c.get(Field::Actor), Some(1));
        assert_eq!(c.get(Field::Description), Some(2));
        let headers: Vec<String> = ["Time (UTC)", "What happened"].map(String::from).to_vec();
        let c = Columns::resolve(&headers, &FieldMapping::default(), None).expect("found");
        assert_eq!(
            (c.get(Field::Time), c.get(Field::Description)),
            (Some(0), Some(1))
        );
        let headers: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let e =
            Columns::resolve(&headers, &FieldMapping::default(), Some("t.csv")).expect_err("none");
        assert!(
            e.to_string()
                .starts_with("t.csv:1: no column for the event's time"),
            "{e}"
        );
    }

    #[test]
    fn times_in_many_forms() {
        let z = Zone::utc();
        let d: Date = "2024-03-05".parse().expect("date");
        let m = parse_when("2024-03-05 14:02", None, &z).expect("minute");
        assert_eq!(m.precision(), Precision::Minute);
        let m = parse_when("2024-03-05T14:02:11.25+01:00", None, &z).expect("rfc");
        assert_eq!(m.at().to_string(), "2024-03-05T13:02:11.25Z");
        let m = parse_when("1709647331", None, &z).expect("epoch s");
        assert_eq!(m.at().to_string(), "2024-03-05T14:02:11Z");
        let m = parse_when("1709647331250", None, &z).expect("epoch ms");
        assert_eq!(m.at().to_string(), "2024-03-05T14:02:11.25Z");
        let m = parse_when("1709647331.5", None, &z).expect("fraction");
        assert_eq!(m.at().to_string(), "2024-03-05T14:02:11.5Z");
        let m = parse_when("2:02 PM", Some(d), &z).expect("pm");
        assert_eq!(m.at().to_string(), "2024-03-05T14:02:00Z");
        assert!(
            parse_when("14:02", None, &z)
                .expect_err("no date")
                .contains("without a date")
        );
        assert!(
            parse_when("soon", None, &z)
                .expect_err("bad")
                .contains("is not a time")
        );
        assert!(parse_when("1.2.3", None, &z).is_err());
    }

    #[test]
    fn times_of_day() {
        assert_eq!(
            parse_time_of_day("12:05 AM").map(|t| t.0.to_string()),
            Some("00:05:00".to_owned())
        );
        assert_eq!(parse_time_of_day("12:05pm").map(|t| t.0.hour()), Some(12));
        assert_eq!(
            parse_time_of_day("09:30:15").map(|t| t.1),
            Some(Precision::Second)
        );
        assert!(parse_time_of_day("25:00").is_none());
        assert_eq!(parse_time_of_day("13:55 PM").map(|t| t.0.hour()), Some(13));
        assert!(parse_time_of_day("13:00 AM").is_none());
        assert!(parse_time_of_day("9:3").is_none());
    }
}
