//! Debrief's blameless linter: finds blame in postmortem text — counterfactuals ("should have"),
//! "human error", a person named as the cause, hindsight ("obviously"), a single root cause,
//! remedies that fix people instead of systems, "who"/"why did <person>" questions, judgments of
//! absence ("nobody noticed") — and, in a whole Markdown postmortem, missing sections and action
//! items without an owner or a check-in date.
//!
//! The rules are data (`rules/builtin.toml`, compiled in), extended or overridden by a user config
//! ([`Config::from_toml`]). The crate is pure: text in, findings out, no I/O. It never panics on
//! any input, and its time is linear in the input's length.
//!
//! ```
//! use debrief_lint::{Context, Linter, Section};
//!
//! let linter = Linter::builtin();
//! let findings = linter.lint_section(
//!     "The engineer should have checked the config.",
//!     Section::Summary,
//!     &Context::default(),
//! );
//! assert_eq!(findings[0].rule, "blame/counterfactual");
//! ```

mod config;
mod engine;
mod lexicon;
mod pattern;
mod scan;
mod structure;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use config::{BUILTIN_RULES, Config, ConfigError};

/// How much a finding matters. Ordered: `Hint < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Hint,
    Warning,
    Error,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Hint, Level::Warning, Level::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Hint => "hint",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Level, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hint" => Ok(Level::Hint),
            "warning" | "warn" => Ok(Level::Warning),
            "error" => Ok(Level::Error),
            other => Err(format!(
                "unknown level `{other}`: expected hint, warning or error"
            )),
        }
    }
}

/// Which part of a postmortem a text is. Rules can apply to some sections only (remedies are
/// judged in action items, not in the timeline), and some sections are not linted for blame
/// (links, key moments, appendices of verbatim logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The document's title (its first `#` heading).
    Title,
    Summary,
    Impact,
    Timeline,
    /// Contributing factors (also "root cause" sections).
    Factors,
    Lessons,
    Actions,
    /// Remediation ideas (the five questions).
    Ideas,
    CustomerStatement,
    KeyMoments,
    Participants,
    Links,
    Meeting,
    Notes,
    /// Verbatim material: chat logs, transcripts.
    Appendix,
    /// Anything else.
    Other,
}

impl Section {
    pub const ALL: [Section; 16] = [
        Section::Title,
        Section::Summary,
        Section::Impact,
        Section::Timeline,
        Section::Factors,
        Section::Lessons,
        Section::Actions,
        Section::Ideas,
        Section::CustomerStatement,
        Section::KeyMoments,
        Section::Participants,
        Section::Links,
        Section::Meeting,
        Section::Notes,
        Section::Appendix,
        Section::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Title => "title",
            Section::Summary => "summary",
            Section::Impact => "impact",
            Section::Timeline => "timeline",
            Section::Factors => "factors",
            Section::Lessons => "lessons",
            Section::Actions => "actions",
            Section::Ideas => "ideas",
            Section::CustomerStatement => "customer_statement",
            Section::KeyMoments => "key_moments",
            Section::Participants => "participants",
            Section::Links => "links",
            Section::Meeting => "meeting",
            Section::Notes => "notes",
            Section::Appendix => "appendix",
            Section::Other => "other",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Whether blame rules read this section's prose.
    pub(crate) fn is_prose(self) -> bool {
        !matches!(
            self,
            Section::Links | Section::KeyMoments | Section::Appendix
        )
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Section {
    type Err = String;

    fn from_str(s: &str) -> Result<Section, String> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let alias = match s.as_str() {
            "contributing_factors" | "factor" => "factors",
            "action_items" | "action" | "action_title" | "action_item" => "actions",
            "remediation_ideas" | "idea" => "ideas",
            "lessons_learned" | "lesson" => "lessons",
            "event" | "events" => "timeline",
            other => other,
        };
        Section::ALL
            .into_iter()
            .find(|x| x.as_str() == alias)
            .ok_or_else(|| {
                format!(
                    "unknown section `{s}`: expected one of {}",
                    Section::ALL.map(Section::as_str).join(", ")
                )
            })
    }
}

/// What the linter knows about the postmortem beyond the text: the names of the people involved,
/// so that "Priya failed to…" is recognised as being about a person.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub participants: Vec<String>,
}

impl Context {
    pub fn with_participants<I, S>(names: I) -> Context
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Context {
            participants: names.into_iter().map(Into::into).collect(),
        }
    }
}

/// One thing the linter found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id: `blame/counterfactual`, `structure/action-owner`, …
    pub rule: String,
    pub level: Level,
    /// 1-based line of the start.
    pub line: usize,
    /// 1-based column of the start, in characters.
    pub column: usize,
    /// 1-based line of the end.
    pub end_line: usize,
    /// 1-based column just past the end, in characters.
    pub end_column: usize,
    /// Byte range in the text.
    pub range: Range<usize>,
    /// The section the text is in.
    pub section: Section,
    /// The text found (empty for a missing section).
    pub matched: String,
    /// Why it matters, in blameless terms.
    pub message: String,
    /// A rephrasing or what to add.
    pub suggestion: String,
}

/// Input the linter cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LintError {
    #[error("not UTF-8 text: invalid bytes at byte {offset} (line {line}, column {column})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
        line: usize,
        /// 1-based, in characters of the valid text before it.
        column: usize,
    },
}

/// A rule as the linter runs it: for listings and documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub level: Level,
    pub enabled: bool,
    pub message: String,
    pub patterns: usize,
}

/// The linter: rules compiled once, then used for any number of texts (it is `Send + Sync`).
#[derive(Debug, Clone)]
pub struct Linter {
    pub(crate) c: config::Compiled,
    pub(crate) anchors: engine::Anchors,
}

impl Linter {
    /// A linter with `config`'s rules.
    pub fn new(config: Config) -> Result<Linter, ConfigError> {
        let c = config.compile()?;
        let anchors = engine::Anchors::build(&c);
        Ok(Linter { c, anchors })
    }

    /// A linter with the built-in rules.
    pub fn builtin() -> Linter {
        match Linter::new(Config::builtin()) {
            Ok(l) => l,
            // The built-in rules are tested to compile; an empty linter is the safe fallback.
            Err(_) => Linter {
                c: config::Compiled {
                    rules: Vec::new(),
                    lex: lexicon::Lexicon::new(Vec::new()),
                    aliases: lexicon::FastMap::default(),
                    actions: config::ActionsConfig::default(),
                    allow: Vec::new(),
                    settings: config::Settings {
                        skip_quoted: true,
                        skip_blockquotes: true,
                        max_findings: 10_000,
                    },
                    participants: lexicon::WordList::default(),
                },
                anchors: engine::Anchors::default(),
            },
        }
    }

    /// The words that make a sentence worth matching (for diagnostics and benchmarks).
    #[doc(hidden)]
    pub fn anchor_words(&self) -> Vec<String> {
        self.anchors.words()
    }

    /// The rules, in the order they are defined.
    pub fn rules(&self) -> Vec<RuleInfo> {
        self.c
            .rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.clone(),
                level: r.level,
                enabled: r.enabled,
                message: r.message.clone(),
                patterns: r.patterns.len(),
            })
            .collect()
    }

    /// Lints a whole Markdown postmortem: sections come from its headings, and the structure
    /// rules (missing sections, action items without an owner or check-in date) run too.
    pub fn lint_markdown(&self, text: &str) -> Vec<Finding> {
        self.lint_markdown_with(text, &Context::default())
    }

    /// [`Linter::lint_markdown`] with the names of the people involved.
    pub fn lint_markdown_with(&self, text: &str, ctx: &Context) -> Vec<Finding> {
        scan::run(self, text, None, ctx)
    }

    /// Lints the text of one field (a summary, an event's description, an action's title):
    /// blame rules only, with `section` deciding which apply. An action's title (`Actions`) is
    /// also checked for vagueness.
    pub fn lint_section(&self, text: &str, section: Section, ctx: &Context) -> Vec<Finding> {
        scan::run(self, text, Some(section), ctx)
    }

    /// [`Linter::lint_markdown`] for bytes read from a file: invalid UTF-8 is an error naming
    /// where it is.
    pub fn lint_bytes(&self, bytes: &[u8]) -> Result<Vec<Finding>, LintError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(self.lint_markdown(text)),
            Err(e) => {
                let offset = e.valid_up_to();
                let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
                let (line, column) = config::line_col(valid, offset);
                Err(LintError::InvalidUtf8 {
                    offset,
                    line,
                    column,
                })
            }
        }
    }
}
