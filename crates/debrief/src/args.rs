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
}
