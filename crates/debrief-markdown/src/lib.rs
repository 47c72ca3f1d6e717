//! Debrief's Markdown postmortem format: a postmortem written as a Markdown file a person is glad to
//! read and keep in git, and read back without losing anything.
//!
//! [`export`] writes a [`PostmortemDocument`] as Markdown: a `# PM-42: Title` heading, a small
//! metadata list, one `##` section per part of the write-up (summary, impact, key moments with their
//! derived durations, customer statement, contributing factors, lessons learned, remediation ideas,
//! timeline, action items, participants, links, meeting, notes), tables for the timeline, actions and
//! participants, and short `### Event 3` / `### Action 2` / `### Participant 1` sub-sections for the
//! details that do not fit a table row (written only when there is something to say).
//!
//! [`import`] is its exact inverse and also the parser for files people edit by hand (`debrief lint`):
//! it forgives whitespace, heading case, section order, column order, table alignment rows and empty
//! template fields, but refuses content that is wrong, with an [`ImportError`] naming the line.
//!
//! The format, in short:
//! - Free-text sections (summary, impact, notes) are written as they are; a line that would read as
//!   one of the `##` section headings gets one more backslash (`\## Timeline`), removed on import.
//! - Free text in a list item (an account, a description, meeting notes…) is written after the label
//!   when it is one line, and indented by two spaces below the label otherwise.
//! - Table cells escape `\` as `\\`, `|` as `\|`, a newline as `<br>`, and a literal `<br` as `\<br`.
//! - Times are shown in the zone chosen for the export (named in `- **Times in:**`) at their own
//!   precision; durations are derived and ignored on import. A moment known only to the day keeps
//!   its own zone and date: when that zone is not the export zone it is written with the zone in
//!   brackets (`2024-05-01[Europe/Berlin]`). A hand-written file without `Times in` reads times
//!   written without an offset or zone as UTC.
//! - Free text is compared in its stored form (trimmed, LF line ends): that is what comes back.

mod export;
mod import;
mod syntax;

#[cfg(test)]
mod tests;

pub use debrief_core::PostmortemDocument;
pub use export::export;
pub use import::import;

/// Why a Markdown file could not be read as a postmortem: the 1-based line and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ImportError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}
