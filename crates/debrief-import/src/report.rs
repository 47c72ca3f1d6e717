//! What an import returns: the events, the rows that were refused and why, and notes; or, when the
//! input as a whole cannot be read, one error that says where and what was expected.

use std::fmt;

use debrief_core::EventFields;

/// Where in the input something was found: a file, a line and column, a JSON field path.
///
/// Every part is optional; `Display` writes the parts that are known, compiler style:
/// `alerts.json:3:14: alerts[2].startsAt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, as the caller named it (or the member of a zip: `export.zip!ops/2024-03-05.json`).
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<u64>,
    /// 1-based column (in bytes).
    pub column: Option<u64>,
    /// The field: a JSON path (`alerts[2].startsAt`), a CSV column name, or a record number.
    pub field: Option<String>,
}

impl Location {
    pub fn file(file: Option<&str>) -> Location {
        Location {
            file: file.map(str::to_owned),
            ..Location::default()
        }
    }

    #[must_use]
    pub fn with_line(mut self, line: u64) -> Location {
        self.line = Some(line);
        self
    }

    #[must_use]
    pub fn with_column(mut self, column: u64) -> Location {
        self.column = Some(column);
        self
    }

    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Location {
        let field = field.into();
        self.field = if field.is_empty() { None } else { Some(field) };
        self
    }

    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.line.is_none() && self.column.is_none() && self.field.is_none()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            f.write_str(file)?;
            wrote = true;
        }
        if let Some(line) = self.line {
            if wrote {
                write!(f, ":{line}")?;
            } else {
                write!(f, "line {line}")?;
            }
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
            wrote = true;
        }
        if let Some(field) = &self.field {
            if wrote {
                f.write_str(": ")?;
            }
            f.write_str(field)?;
        }
        Ok(())
    }
}

/// What kind of failure an [`ImportError`] is, so callers can answer it differently (an HTTP
/// handler answers `TooLarge` with 413, `Io` with 500 and the others with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be read.
    Io,
    /// The input (or one file inside it) is over the configured size limit.
    TooLarge,
    /// The bytes are not valid for the container: invalid or truncated JSON, a CSV that cannot be
    /// split into records, a zip that cannot be opened.
    Syntax,
    /// The input is well-formed but not the expected format: not a Slack export, an Alertmanager
    /// payload of another version, a required field missing.
    Format,
    /// The options do not fit the input: an unknown channel, a mapping naming a missing column, a
    /// transcript without a date.
    Options,
}

/// An input that cannot be imported at all. Nothing from it should be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub kind: ErrorKind,
    pub location: Location,
    /// What was wrong and what was expected.
    pub message: String,
}

impl ImportError {
    pub fn new(kind: ErrorKind, location: Location, message: impl Into<String>) -> ImportError {
        ImportError {
            kind,
            location,
            message: message.into(),
        }
    }

    pub(crate) fn io(file: Option<&str>, err: &std::io::Error) -> ImportError {
        ImportError::new(
            ErrorKind::Io,
            Location::file(file),
            format!("cannot read the input: {err}"),
        )
    }

    pub(crate) fn too_large(file: Option<&str>, limit: u64) -> ImportError {
        ImportError::new(
            ErrorKind::TooLarge,
            Location::file(file),
            format!(
                "the input is larger than the limit of {} bytes ({}); refusing to read it (raise the limit if this file is expected)",
                limit,
                human_bytes(limit)
            ),
        )
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for ImportError {}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if unit == "bytes" {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// One row, record, message or alert that was not imported, and why. The rest of the input is
/// still imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub location: Location,
    pub reason: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.location, self.reason)
        }
    }
}

/// The result of an import: the events to add, the rows refused, and notes a person should read
/// (what was skipped, what was assumed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub events: Vec<EventFields>,
    pub rejected: Vec<Rejected>,
    /// Rejected rows beyond [`MAX_LISTED_REJECTED`] are counted here but not listed.
    pub rejected_unlisted: u64,
    pub notes: Vec<String>,
}

/// At most this many rejected rows are kept with their reasons; the rest are counted.
pub const MAX_LISTED_REJECTED: usize = 10_000;

impl ImportReport {
    /// How many rows were rejected, listed or not.
    pub fn rejected_count(&self) -> u64 {
        self.rejected.len() as u64 + self.rejected_unlisted
    }
}

/// Rejected rows and notes gathered while parsing.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub rejected: Vec<Rejected>,
    pub rejected_unlisted: u64,
    pub notes: Vec<String>,
}

impl Problems {
    pub fn reject(&mut self, location: Location, reason: impl Into<String>) {
        if self.rejected.len() < MAX_LISTED_REJECTED {
            self.rejected.push(Rejected {
                location,
                reason: reason.into(),
            });
        } else {
            self.rejected_unlisted += 1;
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    pub fn into_report(self, events: Vec<EventFields>) -> ImportReport {
        ImportReport {
            events,
            rejected: self.rejected,
            rejected_unlisted: self.rejected_unlisted,
            notes: self.notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_like_compiler_messages() {
        let l = Location::file(Some("a.json"))
            .with_line(3)
            .with_column(14)
            .with_field("alerts[2].startsAt");
        assert_eq!(l.to_string(), "a.json:3:14: alerts[2].startsAt");
        assert_eq!(Location::default().with_line(7).to_string(), "line 7");
        assert_eq!(Location::default().with_field("x").to_string(), "x");
        let e = ImportError::new(ErrorKind::Format, l, "expected a time");
        assert_eq!(
            e.to_string(),
            "a.json:3:14: alerts[2].startsAt: expected a time"
        );
    }

    #[test]
    fn sizes_are_readable() {
        assert_eq!(human_bytes(10), "10 bytes");
        assert_eq!(human_bytes(2 * 1024 * 1024), "2.0 MiB");
    }

    #[test]
    fn rejected_rows_are_capped() {
        let mut p = Problems::default();
        for _ in 0..MAX_LISTED_REJECTED + 5 {
            p.reject(Location::default(), "bad");
        }
        let r = p.into_report(Vec::new());
        assert_eq!(r.rejected.len(), MAX_LISTED_REJECTED);
        assert_eq!(r.rejected_count(), MAX_LISTED_REJECTED as u64 + 5);
    }
}
