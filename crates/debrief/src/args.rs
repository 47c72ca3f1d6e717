//! Value types for command-line arguments that the core `FromStr` types do not cover on their
//! own: times typed without a zone (checked at parse time, placed in `--zone` later), values that
//! can be cleared with `none`, dates with `today`, and the `KIND:TEXT` pairs of `debrief edit`.
//!
//! Every parser here returns the core [`ParseError`], so clap reports it as a usage error (exit 2)
//! naming the flag, before anything touches the database.

use debrief_core::{Moment, ParseError, Zone};
use jiff::civil::Date;

/// A time as typed (`2024-05-01 10:07`, `…T10:07:12Z`, `…+02:00`, `…[Europe/Berlin]`). Its form
/// is checked when the arguments are parsed; the zone for times without an offset is applied
/// later, once `--zone` is known.
#[derive(Debug, Clone)]
pub struct TimeArg(String);

impl TimeArg {
    /// The moment, reading a time without an offset in `zone`.
    pub fn resolve(&self, zone: &Zone) -> Result<Moment, ParseError> {
        Moment::parse(&self.0, zone)
    }
}

/// Checks the form of a time.
pub fn time(s: &str) -> Result<TimeArg, ParseError> {
    Moment::parse(s, &Zone::utc())?;
    Ok(TimeArg(s.trim().to_owned()))
}

/// A new value for an optional field, or `none` to clear it.
#[derive(Debug, Clone)]
pub enum Setting<T> {
    Clear,
    To(T),
}

impl<T: Clone> Setting<T> {
    pub fn value(&self) -> Option<T> {
        match self {
            Setting::Clear => None,
            Setting::To(v) => Some(v.clone()),
        }
    }
}

fn is_none(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("none")
}

/// A value of `T`, or `none`.
pub fn or_none<T>(s: &str) -> Result<Setting<T>, ParseError>
where
    T: std::str::FromStr<Err = ParseError>,
{
    if is_none(s) {
        Ok(Setting::Clear)
    } else {
        s.parse().map(Setting::To)
    }
}

/// A time, or `none`.
pub fn time_or_none(s: &str) -> Result<Setting<TimeArg>, ParseError> {
    if is_none(s) {
        Ok(Setting::Clear)
    } else {
        time(s).map(Setting::To)
    }
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<Date, ParseError> {
    debrief_core::time::parse_date(s)
}

/// A date, or `none`.
pub fn date_or_none(s: &str) -> Result<Setting<Date>, ParseError> {
    if is_none(s) {
        Ok(Setting::Clear)
    } else {
        date(s).map(Setting::To)
    }
}

/// A date, or `today` (in `--zone`).
#[derive(Debug, Clone, Copy)]
pub enum Day {
    Today,
    On(Date),
}

impl Day {
    pub fn resolve(self, zone: &Zone) -> Date {
        match self {
            Day::Today => today(zone),
            Day::On(d) => d,
        }
    }
}

/// Today's date in `zone`.
pub fn today(zone: &Zone) -> Date {
    jiff::Timestamp::now().to_zoned(zone.tz().clone()).date()
}

pub fn day(s: &str) -> Result<Day, ParseError> {
    if s.trim().eq_ignore_ascii_case("today") {
        Ok(Day::Today)
    } else {
        date(s).map(Day::On).map_err(|e| {
            ParseError::new(
                "",
                format!("{} (or the word today)", e.message.trim_end_matches('.')),
            )
        })
    }
}

/// A number of whole days: `2`, `2d` or `2 days` (0 to a year).
pub fn days(s: &str) -> Result<i32, ParseError> {
    let t = s.trim().to_ascii_lowercase();
    let number = t
        .strip_suffix("days")
        .or_else(|| t.strip_suffix("day"))
        .or_else(|| t.strip_suffix('d'))
        .unwrap_or(&t)
        .trim();
    match number.parse::<i32>() {
        Ok(n) if (0..=debrief_core::followup::MAX_FOLLOWUP_DAYS).contains(&n) => Ok(n),
        _ => Err(ParseError::new(
            "",
            format!(
                "{:?} is not a number of days: expected 0 to {}, such as 2 or 2d",
                s.trim(),
                debrief_core::followup::MAX_FOLLOWUP_DAYS
            ),
        )),
    }
}

/// A duration as people write it: `90` (seconds), `60s`, `5m`, `1h`, `500ms`.
fn duration(t: &str) -> Option<std::time::Duration> {
    t.parse::<u64>()
        .map(std::time::Duration::from_secs)
        .ok()
        .or_else(|| {
            t.parse::<jiff::SignedDuration>()
                .ok()
                .and_then(|d| std::time::Duration::try_from(d).ok())
        })
}

/// A duration from a second to a day: `60s`, `5m`, `1h`, `90` (seconds).
pub fn interval(s: &str) -> Result<std::time::Duration, ParseError> {
    let t = s.trim();
    match duration(t) {
        Some(d)
            if d >= std::time::Duration::from_secs(1)
                && d <= std::time::Duration::from_secs(86_400) =>
        {
            Ok(d)
        }
        _ => Err(ParseError::new(
            "",
            format!("{t:?} is not an interval: expected 1s to 24h, such as 60s or 5m"),
        )),
    }
}

/// How long a caller is trusted: `0s` to `60s` (`2s`, `2`, `500ms`). Longer would leave a revoked
/// token working for too long.
pub fn caller_ttl(s: &str) -> Result<std::time::Duration, ParseError> {
    let t = s.trim();
    match duration(t) {
        Some(d) if d <= std::time::Duration::from_secs(60) => Ok(d),
        _ => Err(ParseError::new(
            "",
            format!("{t:?} is not a time to trust a caller: expected 0s to 60s, such as 2s"),
        )),
    }
}

pub use debrief_core::forms::{factor, idea, lesson, link};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_none() {
        assert!(matches!(time_or_none("None"), Ok(Setting::Clear)));
        assert!(time("yesterday").is_err());
        assert!(matches!(day("today"), Ok(Day::Today)));
        assert!(day("tomorrow").is_err());
    }

    #[test]
    fn days_and_intervals() {
        assert_eq!(days("2").expect("days"), 2);
        assert_eq!(days("3d").expect("days"), 3);
        assert_eq!(days(" 7 days").expect("days"), 7);
        assert!(days("-1").is_err());
        assert!(days("two").is_err());
        assert_eq!(interval("60s").expect("interval").as_secs(), 60);
        assert_eq!(interval("5m").expect("interval").as_secs(), 300);
        assert_eq!(interval("90").expect("interval").as_secs(), 90);
        assert!(interval("0s").is_err());
        assert!(interval("2 days").is_err());
        assert_eq!(caller_ttl("0s").expect("ttl"), std::time::Duration::ZERO);
        assert_eq!(caller_ttl("2").expect("ttl").as_secs(), 2);
        assert_eq!(caller_ttl("500ms").expect("ttl").as_millis(), 500);
        assert!(caller_ttl("61s").is_err());
        assert!(caller_ttl("-1s").is_err());
        assert!(caller_ttl("soon").is_err());
    }
}
