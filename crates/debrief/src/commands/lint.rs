//! `debrief lint`: checks Markdown postmortems for blame language, missing sections and action
//! items without an owner or a check-in date. Needs no database. Prints findings as text, JSON,
//! SARIF 2.1.0 or GitHub annotations; the caller turns "a finding at or above `--deny`" into
//! exit code 1, so it drops into any CI. Inputs that cannot be read (a missing file, bytes that
//! are not UTF-8, a malformed `--config`) fail the whole run before anything is printed.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use debrief_lint::{Config, Context, Finding, Level, Linter};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{CliError, Result};
use crate::render;

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Markdown files, directories (searched recursively for *.md), or - for standard input
    /// [default: the current directory]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output: text for people, json, sarif (2.1.0, for code scanning) or github (workflow
    /// annotations)
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,
    /// Exit with code 1 when a finding at this level or above exists
    #[arg(long, value_enum, default_value = "warning", value_name = "LEVEL")]
    pub deny: DenyLevel,
    /// A TOML file that extends or overrides the built-in rules (see docs/LINT.md)
    #[arg(long, value_name = "PATH", env = "DEBRIEF_LINT_CONFIG")]
    pub config: Option<PathBuf>,
    /// The name of someone involved, so that sentences about them are recognised (repeat for
    /// several); names in a document's Participants section are read too
    #[arg(long = "participant", value_name = "NAME")]
    pub participants: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// path:line:col: level rule: message (suggestion: …)
    Text,
    /// A JSON array of findings, each with its path
    Json,
    /// A SARIF 2.1.0 log
    Sarif,
    /// GitHub Actions workflow commands (::warning file=…)
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DenyLevel {
    Error,
    Warning,
    Hint,
}

impl DenyLevel {
    fn level(self) -> Level {
        match self {
            DenyLevel::Error => Level::Error,
            DenyLevel::Warning => Level::Warning,
            DenyLevel::Hint => Level::Hint,
        }
    }
}

/// One input: where it came from and its text.
struct Input {
    shown: String,
    text: String,
}

/// Lints the inputs and prints the findings. `Ok(true)` when a finding at or above `--deny` was
/// found (the caller exits with 1), `Ok(false)` when none was.
pub fn run(args: &LintArgs) -> Result<bool> {
    let linter = linter(args.config.as_deref())?;
    let inputs = read_inputs(&args.paths)?;
    let ctx = Context::with_participants(args.participants.iter().cloned());
    let results: Vec<(&Input, Vec<Finding>)> = inputs
        .iter()
        .map(|input| (input, linter.lint_markdown_with(&input.text, &ctx)))
        .collect();
    let out = match args.format {
        LintFormat::Text => text(&results),
        LintFormat::Json => json(&results)?,
        LintFormat::Sarif => sarif(&linter, &results)?,
        LintFormat::Github => github(&results),
    };
    render::emit(&out)?;
    if args.format == LintFormat::Text {
        eprintln!("{}", summary(&results));
    }
    let deny = args.deny.level();
    Ok(results
        .iter()
        .any(|(_, found)| found.iter().any(|f| f.level >= deny)))
}

fn linter(config: Option<&Path>) -> Result<Linter> {
    let mut c = Config::builtin();
    if let Some(path) = config {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("--config: cannot read {shown}: {e}")))?;
        c.add_toml(&shown, &text)
            .map_err(|e| CliError::usage(format!("--config: {e}")))?;
    }
    Linter::new(c).map_err(|e| CliError::usage(format!("--config: {e}")))
}

/// Reads every input first, so that a missing file or bad bytes fail the run before any output.
fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut stdin = false;
    for p in paths {
        if p.as_os_str() == "-" {
            stdin = true;
            continue;
        }
        let meta = std::fs::metadata(p)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            files.extend(found.into_iter().map(|f| (f.display().to_string(), f)));
        } else {
            files.push((p.display().to_string(), p.clone()));
        }
    }
    let mut inputs = Vec::with_capacity(files.len() + usize::from(stdin));
    if stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
        inputs.push(decode("-", bytes)?);
    }
    for (shown, path) in files {
        let bytes = std::fs::read(&path)
            .map_err(|e| CliError::usage(format!("cannot read {shown}: {e}")))?;
        inputs.push(decode(&shown, bytes)?);
    }
    Ok(inputs)
}

fn decode(shown: &str, bytes: Vec<u8>) -> Result<Input> {
    String::from_utf8(bytes)
        .map(|text| Input {
            shown: shown.to_owned(),
            text,
        })
        .map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let column = valid[valid.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            CliError::usage(format!(
                "{shown}: not UTF-8 text: invalid bytes at byte {offset} (line {line}, column \
                 {column})"
            ))
        })
}

/// `*.md` and `*.markdown` files under `dir`, not following symbolic links into directories and
/// skipping hidden directories (`.git`).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| CliError::usage(format!("cannot read {}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with('.');
        let kind = entry
            .file_type()
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
        if kind.is_dir() {
            if !hidden {
                walk(&path, out)?;
            }
        } else if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("md") || x.eq_ignore_ascii_case("markdown"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn text(results: &[(&Input, Vec<Finding>)]) -> String {
    let mut out = String::new();
    for (input, found) in results {
        for f in found {
            out.push_str(&format!(
                "{}:{}:{}: {} {}: {}",
                input.shown, f.line, f.column, f.level, f.rule, f.message
            ));
            if !f.suggestion.is_empty() {
                out.push_str(&format!(" (suggestion: {})", f.suggestion));
            }
            out.push('\n');
        }
    }
    out
}

fn summary(results: &[(&Input, Vec<Finding>)]) -> String {
    let count = |l: Level| {
        results
            .iter()
            .map(|(_, f)| f.iter().filter(|x| x.level == l).count())
            .sum::<usize>()
    };
    let files = results.len();
    format!(
        "{} error(s), {} warning(s), {} hint(s) in {files} file{}",
        count(Level::Error),
        count(Level::Warning),
        count(Level::Hint),
        if files == 1 { "" } else { "s" }
    )
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    #[serde(flatten)]
    finding: &'a Finding,
}

fn json(results: &[(&Input, Vec<Finding>)]) -> Result<String> {
    let all: Vec<JsonFinding> = results
        .iter()
        .flat_map(|(input, found)| {
            found.iter().map(|f| JsonFinding {
                path: &input.shown,
                finding: f,
            })
        })
        .collect();
    render::json(&all)
}

/// A path as a relative URI reference, as SARIF wants.
fn uri(path: &str) -> String {
    if path == "-" {
        return "stdin".to_owned();
    }
    let mut out = String::with_capacity(path.len());
    for c in path.trim_start_matches("./").chars() {
        match c {
            '\\' => out.push('/'),
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Hint => "note",
    }
}

fn sarif(linter: &Linter, results: &[(&Input, Vec<Finding>)]) -> Result<String> {
    let rules = linter.rules();
    let rule_list: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": { "text": r.message },
                "defaultConfiguration": {
                    "level": sarif_level(r.level),
                    "enabled": r.enabled,
                },
            })
        })
        .collect();
    let mut out = Vec::new();
    for (input, found) in results {
        for f in found {
            let mut result = json!({
                "ruleId": f.rule,
                "level": sarif_level(f.level),
                "message": {
                    "text": if f.suggestion.is_empty() {
                        f.message.clone()
                    } else {
                        format!("{} Suggestion: {}", f.message, f.suggestion)
                    }
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&input.shown) },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column.max(f.column),
                        }
                    }
                }],
            });
            if let Some(i) = rules.iter().position(|r| r.id == f.rule)
                && let Some(obj) = result.as_object_mut()
            {
                obj.insert("ruleIndex".to_owned(), json!(i));
            }
            out.push(result);
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "debrief-lint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rule_list,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": out,
        }]
    });
    render::json(&log)
}

/// Escapes the message of a workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property of a workflow command.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(results: &[(&Input, Vec<Finding>)]) -> String {
    let mut out = String::new();
    for (input, found) in results {
        for f in found {
            let command = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Hint => "notice",
            };
            let mut message = f.message.clone();
            if !f.suggestion.is_empty() {
                message.push_str(&format!(" (suggestion: {})", f.suggestion));
            }
            out.push_str(&format!(
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                gh_property(&input.shown),
                f.line,
                f.column,
                f.end_line,
                f.end_column.max(f.column),
                gh_property(&f.rule),
                gh_data(&message)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(gh_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(uri("./docs/pm 1#2.md"), "docs/pm%201%232.md");
        assert_eq!(uri("-"), "stdin");
    }
}
