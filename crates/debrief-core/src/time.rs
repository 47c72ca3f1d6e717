//! Moments in an incident: an instant, the zone it was observed in, and how precisely it is known.
//!
//! A timeline entry copied from a chat log is known to the second; one recalled in the review
//! may be known only to the minute or the day. The precision is part of the value: a moment is
//! always truncated to its precision in its own zone, so two equal moments compare equal.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ParseError;

/// How precisely a moment is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Day,
    Minute,
    Second,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::Day, Precision::Minute, Precision::Second];

    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Day => "day",
            Precision::Minute => "minute",
            Precision::Second => "second",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Precision::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ParseError::new(
                    "",
                    format!("{s:?} is not a precision: use day, minute or second"),
                )
            })
    }
}

/// A time zone by name: an IANA name (`Europe/Copenhagen`), `UTC`, or a fixed offset (`+05:30`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone of this machine, or UTC when it has none with a name.
    pub fn system() -> Zone {
        let tz = TimeZone::system();
        match tz.iana_name() {
            Some("Etc/UTC" | "Etc/Universal" | "Etc/Zulu" | "Universal" | "Zulu" | "UTC") => {
                Zone::utc()
            }
            Some(name) => Zone {
                name: name.to_owned(),
                tz,
            },
            None => Zone::utc(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    fn from_offset(offset: Offset) -> Zone {
        if offset == Offset::UTC {
            return Zone::utc();
        }
        Zone {
            name: format_offset(offset),
            tz: TimeZone::fixed(offset),
        }
    }
}

fn format_offset(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
}

impl std::str::FromStr for Zone {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Ok(Zone::utc());
        }
        if s.starts_with(['+', '-']) {
            let parsed = parse_offset(s).ok_or_else(|| {
                ParseError::new(
                    "",
                    format!("{s:?} is not an offset: expected +HH:MM or -HH:MM"),
                )
            })?;
            return Ok(Zone::from_offset(parsed));
        }
        let tz = TimeZone::get(s).map_err(|_| {
            ParseError::new(
                "",
                format!("{s:?} is not a known time zone: use an IANA name such as Europe/Berlin, UTC, or an offset such as +02:00"),
            )
        })?;
        Ok(Zone {
            name: s.to_owned(),
            tz,
        })
    }
}

fn parse_offset(s: &str) -> Option<Offset> {
    if !s.is_ascii() {
        return None;
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None if rest.len() == 2 => (rest, "00"),
        None => return None,
    };
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 18 || m > 59 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

impl TryFrom<String> for Zone {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        value.parse()
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> String {
        z.name
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A moment: an instant, the zone it is shown in, and its precision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "MomentRepr", into = "MomentRepr")]
pub struct Moment {
    at: Timestamp,
    zone: Zone,
    precision: Precision,
}

#[derive(Serialize, Deserialize)]
struct MomentRepr {
    at: Timestamp,
    zone: Zone,
    precision: Precision,
}

impl TryFrom<MomentRepr> for Moment {
    type Error = ParseError;
    fn try_from(r: MomentRepr) -> Result<Self, ParseError> {
        Moment::new(r.at, r.zone, r.precision)
    }
}

impl From<Moment> for MomentRepr {
    fn from(m: Moment) -> Self {
        MomentRepr {
            at: m.at,
            zone: m.zone,
            precision: m.precision,
        }
    }
}

impl PartialOrd for Moment {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Moment {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at
            .cmp(&other.at)
            .then_with(|| self.precision.cmp(&other.precision))
            .then_with(|| self.zone.name.cmp(&other.zone.name))
    }
}

impl Moment {
    /// A moment truncated to `precision` in `zone`.
    pub fn new(at: Timestamp, zone: Zone, precision: Precision) -> Result<Moment, ParseError> {
        if precision == Precision::Second {
            return Ok(Moment {
                at,
                zone,
                precision,
            });
        }
        let zoned = at.to_zoned(zone.tz.clone());
        let truncated = match precision {
            Precision::Second => Ok(zoned.datetime()),
            Precision::Minute => zoned.datetime().round(
                jiff::civil::DateTimeRound::new()
                    .smallest(jiff::Unit::Minute)
                    .mode(jiff::RoundMode::Trunc),
            ),
            Precision::Day => Ok(zoned.date().to_datetime(jiff::civil::Time::midnight())),
        }
        .map_err(|e| {
            ParseError::new(
                "",
                format!("cannot truncate {at} to a {}: {e}", precision.as_str()),
            )
        })?;
        // Within a minute the offset does not change, so keep the instant's own offset: in the
        // hour that repeats when clocks go back, the earlier and later 01:30 stay distinct.
        let resolved = match precision {
            Precision::Minute => zoned.offset().to_timestamp(truncated),
            _ => zone
                .tz
                .to_ambiguous_zoned(truncated)
                .compatible()
                .map(|z| z.timestamp()),
        };
        let at = resolved.map_err(|e| ParseError::new("", e.to_string()))?;
        Ok(Moment {
            at,
            zone,
            precision,
        })
    }

    /// A moment known to the second (sub-second digits are kept).
    pub fn exact(at: Timestamp, zone: Zone) -> Moment {
        Moment {
            at,
            zone,
            precision: Precision::Second,
        }
    }

    pub fn at(&self) -> Timestamp {
        self.at
    }

    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Microseconds since the Unix epoch: the form the databases store, so that order is time order.
    pub fn epoch_micros(&self) -> i64 {
        timestamp_micros(self.at)
    }

    pub fn zoned(&self) -> Zoned {
        self.at.to_zoned(self.zone.tz.clone())
    }

    /// The moment as seen from another zone, at the same precision.
    ///
    /// A moment known to the minute or the second is the same instant shown in `zone`. A moment
    /// known to the day means "on that calendar day, in its own zone": it is returned unchanged,
    /// keeping its zone and its date, because re-truncating it in `zone` would move it to another
    /// day (2024-05-01 in Berlin is not 2024-04-30 in New York, nor 2024-05-01 there).
    pub fn in_zone(&self, zone: &Zone) -> Result<Moment, ParseError> {
        if self.precision == Precision::Day {
            return Ok(self.clone());
        }
        Moment::new(self.at, zone.clone(), self.precision)
    }

    /// Renders the moment as seen from `zone` (see [`Moment::in_zone`]): minutes and seconds in
    /// `zone`, a day as its own date, followed by its zone in brackets when that is not `zone`
    /// (`2024-05-01[Europe/Berlin]`), which [`Moment::parse`] reads back to the same moment.
    pub fn display_in(&self, zone: &Zone) -> String {
        let shown = self.in_zone(zone).unwrap_or_else(|_| self.clone());
        if shown.precision == Precision::Day && shown.zone != *zone {
            format!("{}[{}]", shown.display_local(), shown.zone.name)
        } else {
            shown.display_local()
        }
    }

    /// Parses what a person types: `2024-03-05`, `2024-03-05 14:02`, `2024-03-05T14:02:11Z`,
    /// `2024-03-05 14:02:11+01:00`, `2024-03-05T14:02[Europe/Paris]`. Without an offset or zone
    /// in the text, `default_zone` applies. The precision is what was written: a date is known to
    /// the day, `HH:MM` to the minute, `HH:MM:SS` to the second.
    pub fn parse(input: &str, default_zone: &Zone) -> Result<Moment, ParseError> {
        let s = input.trim();
        let bad = |why: &str| {
            ParseError::new(
                "",
                format!(
                    "{s:?} is not a time{why}: expected YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DDTHH:MM:SS, optionally followed by Z, an offset such as +01:00, or a zone in brackets such as [Europe/Berlin]"
                ),
            )
        };
        if s.is_empty() || !s.is_ascii() {
            return Err(bad(""));
        }
        // Split off a bracketed zone name.
        let (body, bracket_zone) = match s.find('[') {
            Some(i) if s.ends_with(']') => (&s[..i], Some(&s[i + 1..s.len() - 1])),
            Some(_) => return Err(bad(" (unclosed [zone])")),
            None => (s, None),
        };
        let body = body.trim();
        // Split off a trailing Z or offset.
        let (civil, offset) = split_offset(body);
        let civil = civil.trim().replacen(' ', "T", 1);
        let precision = if civil.len() == 10 {
            Precision::Day
        } else {
            match civil
                .get(10..)
                .map(|t| t.split('.').next().unwrap_or("").len())
            {
                Some(6) => Precision::Minute,
                Some(9) => Precision::Second,
                _ => return Err(bad("")),
            }
        };
        let datetime: DateTime = if precision == Precision::Day {
            civil
                .parse::<Date>()
                .map_err(|e| bad(&format!(" ({e})")))?
                .to_datetime(jiff::civil::Time::midnight())
        } else {
            civil
                .parse::<DateTime>()
                .map_err(|e| bad(&format!(" ({e})")))?
        };
        let offset_zone = match offset {
            Some(off) => Some(
                off.parse::<Zone>()
                    .map_err(|_| bad(&format!(" (bad offset {off:?})")))?,
            ),
            None => None,
        };
        let named_zone = match bracket_zone {
            Some(name) => name.parse::<Zone>()?,
            None => default_zone.clone(),
        };
        // With an explicit offset, the offset fixes the instant; the named zone is kept when it
        // agrees with that offset at that instant (so a rendered moment parses back to itself).
        let (at, zone) = match offset_zone {
            Some(off_zone) => {
                let at = off_zone
                    .tz
                    .to_ambiguous_zoned(datetime)
                    .unambiguous()
                    .map_err(|e| bad(&format!(" ({e})")))?
                    .timestamp();
                if named_zone.tz.to_offset(at) == off_zone.tz.to_offset(at) {
                    (at, named_zone)
                } else if bracket_zone.is_some() {
                    return Err(bad(" (the offset does not match the zone in brackets)"));
                } else {
                    (at, off_zone)
                }
            }
            None => {
                let at = named_zone
                    .tz
                    .to_ambiguous_zoned(datetime)
                    .compatible()
                    .map_err(|e| bad(&format!(" ({e})")))?
                    .timestamp();
                (at, named_zone)
            }
        };
        Moment::new(at, zone, precision)
    }

    /// Renders the moment in its own zone at its precision: `2024-03-05`, `2024-03-05 14:02 +01:00`,
    /// `2024-03-05 14:02:11.250 +01:00`.
    pub fn display_local(&self) -> String {
        let z = self.zoned();
        match self.precision {
            Precision::Day => z.date().to_string(),
            Precision::Minute => format!(
                "{} {}",
                z.strftime("%Y-%m-%d %H:%M"),
                format_offset(z.offset())
            ),
            Precision::Second => {
                let frac = z.subsec_nanosecond();
                let base = z.strftime("%Y-%m-%d %H:%M:%S").to_string();
                let frac = if frac == 0 {
                    String::new()
                } else {
                    let digits = format!("{frac:09}");
                    format!(".{}", digits.trim_end_matches('0'))
                };
                format!("{base}{frac} {}", format_offset(z.offset()))
            }
        }
    }
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_local())
    }
}

/// Splits `2024-03-05T14:02Z` / `…+01:00` / `…-0500` into the civil part and the offset text.
fn split_offset(body: &str) -> (&str, Option<&str>) {
    if let Some(stripped) = body.strip_suffix('Z').or_else(|| body.strip_suffix('z')) {
        return (stripped, Some("UTC"));
    }
    // An offset starts after the time part (position > 10), with + or -.
    if body.len() > 11 {
        let tail_start = 11;
        if let Some(pos) = body.get(tail_start..).and_then(|t| t.rfind(['+', '-'])) {
            let pos = tail_start + pos;
            let (civil, off) = body.split_at(pos);
            return (civil.trim_end(), Some(off.trim()));
        }
    }
    if let Some(pos) = body.rfind(' ') {
        let tail = &body[pos + 1..];
        if tail.eq_ignore_ascii_case("utc") {
            return (&body[..pos], Some("UTC"));
        }
    }
    (body, None)
}

/// Microseconds since the Unix epoch.
pub fn timestamp_micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// The instant `micros` microseconds after the Unix epoch.
pub fn timestamp_from_micros(micros: i64) -> Result<Timestamp, ParseError> {
    Timestamp::from_microsecond(micros)
        .map_err(|e| ParseError::new("", format!("{micros} is not a valid instant: {e}")))
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(input: &str) -> Result<Date, ParseError> {
    input.trim().parse::<Date>().map_err(|_| {
        ParseError::new(
            "",
            format!("{:?} is not a date: expected YYYY-MM-DD", input.trim()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Zone {
        "Europe/Berlin".parse().expect("zone")
    }

    #[test]
    fn precision_follows_what_was_written() {
        let z = Zone::utc();
        assert_eq!(
            Moment::parse("2024-03-05", &z).expect("day").precision(),
            Precision::Day
        );
        assert_eq!(
            Moment::parse("2024-03-05 14:02", &z)
                .expect("minute")
                .precision(),
            Precision::Minute
        );
        assert_eq!(
            Moment::parse("2024-03-05T14:02:11Z", &z)
                .expect("second")
                .precision(),
            Precision::Second
        );
    }

    #[test]
    fn default_zone_applies_without_offset() {
        let m = Moment::parse("2024-03-05 14:02", &berlin()).expect("parse");
        assert_eq!(m.at().to_string(), "2024-03-05T13:02:00Z");
        assert_eq!(m.zone().name(), "Europe/Berlin");
        assert_eq!(m.display_local(), "2024-03-05 14:02 +01:00");
    }

    #[test]
    fn offsets_and_bracket_zones() {
        let z = Zone::utc();
        let m = Moment::parse("2024-03-05 14:02:11.25 +05:30", &z).expect("offset");
        assert_eq!(m.at().to_string(), "2024-03-05T08:32:11.25Z");
        assert_eq!(m.zone().name(), "+05:30");
        assert_eq!(m.display_local(), "2024-03-05 14:02:11.25 +05:30");
        let m = Moment::parse("2024-03-05 14:02 +01:00", &berlin()).expect("agreeing offset");
        assert_eq!(m.zone().name(), "Europe/Berlin");
        let m = Moment::parse("2024-07-01T09:00:00+02:00[Europe/Berlin]", &z).expect("bracket");
        assert_eq!(m.zone().name(), "Europe/Berlin");
        assert_eq!(m.at().to_string(), "2024-07-01T07:00:00Z");
        let m = Moment::parse("2024-03-05T14:02:11-0500", &z).expect("compact offset");
        assert_eq!(m.at().to_string(), "2024-03-05T19:02:11Z");
    }

    #[test]
    fn display_then_parse_is_identity() {
        for input in [
            "2024-03-05",
            "2024-03-31 02:30",
            "2024-10-27 02:30:00.5",
            "2024-03-05 23:59:59",
        ] {
            let m = Moment::parse(input, &berlin()).expect("parse");
            let again = Moment::parse(&m.display_local(), &berlin()).expect("reparse");
            assert_eq!(m, again, "{input} → {}", m.display_local());
        }
    }

    #[test]
    fn minute_precision_keeps_the_repeated_hour_apart() {
        // 2016-10-30: Berlin goes from +02:00 back to +01:00 at 03:00, so 02:30 happens twice.
        let first: Timestamp = "2016-10-30T00:30:40Z".parse().expect("ts");
        let second: Timestamp = "2016-10-30T01:30:40Z".parse().expect("ts");
        let a = Moment::new(first, berlin(), Precision::Minute).expect("first");
        let b = Moment::new(second, berlin(), Precision::Minute).expect("second");
        assert_eq!(a.at().to_string(), "2016-10-30T00:30:00Z");
        assert_eq!(b.at().to_string(), "2016-10-30T01:30:00Z");
        assert_eq!(
            Moment::parse(&b.display_local(), &berlin()).expect("reparse"),
            b
        );
    }

    #[test]
    fn minute_precision_truncates() {
        let at: Timestamp = "2024-03-05T14:02:59Z".parse().expect("ts");
        let m = Moment::new(at, Zone::utc(), Precision::Minute).expect("new");
        assert_eq!(m.at().to_string(), "2024-03-05T14:02:00Z");
    }

    #[test]
    fn garbage_is_refused_with_the_expected_form() {
        for bad in [
            "yesterday",
            "2024-13-01",
            "2024-03-05 25:00",
            "2024-03-05 14",
            "12:00",
            "2024-03-05T14:02[Mars/Olympus]",
        ] {
            let err = Moment::parse(bad, &Zone::utc()).expect_err(bad);
            assert!(
                err.message.contains("expected") || err.message.contains("zone"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn day_with_a_bracket_zone() {
        let m = Moment::parse("2024-05-01[Europe/Berlin]", &Zone::utc()).expect("named");
        assert_eq!(m.precision(), Precision::Day);
        assert_eq!(m.zone().name(), "Europe/Berlin");
        assert_eq!(m.at().to_string(), "2024-04-30T22:00:00Z");
        assert_eq!(m.display_local(), "2024-05-01");
        let m = Moment::parse("2024-05-01[+05:30]", &Zone::utc()).expect("offset");
        assert_eq!(m.precision(), Precision::Day);
        assert_eq!(m.zone().name(), "+05:30");
        assert_eq!(m.at().to_string(), "2024-04-30T18:30:00Z");
    }

    #[test]
    fn a_day_keeps_its_zone_and_date_in_another_zone() {
        let new_york: Zone = "America/New_York".parse().expect("zone");
        let day = Moment::parse("2024-05-01", &berlin()).expect("day");
        assert_eq!(day.in_zone(&new_york).expect("in zone"), day);
        assert_eq!(day.in_zone(&Zone::utc()).expect("in zone"), day);
        assert_eq!(day.display_in(&new_york), "2024-05-01[Europe/Berlin]");
        assert_eq!(day.display_in(&berlin()), "2024-05-01");
        assert_eq!(
            Moment::parse(&day.display_in(&new_york), &new_york).expect("reparse"),
            day
        );
        let offset: Zone = "+05:30".parse().expect("zone");
        let day = Moment::parse("2024-05-01", &offset).expect("day");
        assert_eq!(day.display_in(&Zone::utc()), "2024-05-01[+05:30]");
        assert_eq!(
            Moment::parse(&day.display_in(&Zone::utc()), &Zone::utc()).expect("reparse"),
            day
        );
    }

    #[test]
    fn minutes_and_seconds_convert_to_another_zone() {
        let new_york: Zone = "America/New_York".parse().expect("zone");
        let m = Moment::parse("2024-05-01 01:30", &berlin()).expect("minute");
        let shown = m.in_zone(&new_york).expect("in zone");
        assert_eq!(shown.zone().name(), "America/New_York");
        assert_eq!(shown.at(), m.at());
        assert_eq!(m.display_in(&new_york), "2024-04-30 19:30 -04:00");
        let s = Moment::parse("2024-05-01 01:30:15", &berlin()).expect("second");
        assert_eq!(s.display_in(&new_york), "2024-04-30 19:30:15 -04:00");
    }

    #[test]
    fn zones() {
        assert!("Mars/Olympus".parse::<Zone>().is_err());
        // Four bytes that are one character are not an offset (and do not panic).
        assert!("+𐒣".parse::<Zone>().is_err());
        assert_eq!("+0100".parse::<Zone>().expect("off").name(), "+01:00");
        assert_eq!("utc".parse::<Zone>().expect("utc").name(), "UTC");
    }
}
