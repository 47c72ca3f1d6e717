//! The rules file: its TOML shape, the user's config layered on the built-in rules, and the
//! checks that turn a mistake in either into an error naming the line and the key.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::lexicon::{Lexicon, WordList};
use crate::pattern::{Class, Pattern, phrase_words};
use crate::{Level, Section};

/// The built-in rules, compiled into the binary.
pub const BUILTIN_RULES: &str = include_str!("../rules/builtin.toml");

/// A config that could not be read or does not make sense: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {}{message}", key_prefix(.key))]
pub struct ConfigError {
    /// Which file: `config` for the user's, `built-in rules` for ours.
    pub origin: String,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The key the error is about, such as `rules."blame/hindsight".level`, when known.
    pub key: Option<String>,
    pub message: String,
}

fn key_prefix(key: &Option<String>) -> String {
    key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default()
}

/// A configuration: the built-in rules, plus any number of user configs on top, in order.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) builtin: bool,
    pub(crate) layers: Vec<Layer>,
}

#[derive(Debug, Clone)]
pub(crate) struct Layer {
    origin: String,
    text: String,
    raw: RawConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config::builtin()
    }
}

impl Config {
    /// Only the built-in rules.
    pub fn builtin() -> Config {
        Config {
            builtin: true,
            layers: Vec::new(),
        }
    }

    /// The built-in rules extended and overridden by a user config (TOML). `builtin = false` at
    /// the top of the config starts from nothing instead.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::builtin();
        c.add_toml("config", text)?;
        Ok(c)
    }

    /// Adds one more config on top, `origin` naming it in errors (a file name, say).
    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<(), ConfigError> {
        let raw = parse_raw(origin, text)?;
        if raw.builtin == Some(false) {
            self.builtin = false;
        }
        self.layers.push(Layer {
            origin: origin.to_owned(),
            text: text.to_owned(),
            raw,
        });
        Ok(())
    }
}

fn parse_raw(origin: &str, text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str::<RawConfig>(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((0, 0), |s| line_col(text, s.start.min(text.len())));
        ConfigError {
            origin: origin.to_owned(),
            line,
            column,
            key: e.span().and_then(|s| key_at(text, s.start.min(text.len()))),
            message: e.message().trim().to_owned(),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The dotted key an offset in a TOML file is under: the nearest table header above it and the
/// key on its line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    let header_here = line.trim().starts_with('[');
    match (table, key) {
        _ if header_here => Some(
            line.trim()
                .trim_matches(|c| c == '[' || c == ']')
                .to_owned(),
        ),
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k.to_owned()),
        (Some(t), None) => Some(t),
        (None, None) => None,
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: Option<i64>,
    builtin: Option<bool>,
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    sections: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    actions: RawActions,
    #[serde(default)]
    words: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<RawRule>>,
    /// Phrases never flagged, whatever the rule.
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    /// Names of the people involved: a capitalised one reads as a person.
    #[serde(default)]
    participants: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    skip_quoted: Option<bool>,
    skip_blockquotes: Option<bool>,
    max_findings: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActions {
    #[serde(default)]
    owner_columns: Vec<String>,
    #[serde(default)]
    date_columns: Vec<String>,
    #[serde(default)]
    status_columns: Vec<String>,
    #[serde(default)]
    done_words: Vec<String>,
    #[serde(default)]
    owner_markers: Vec<String>,
    #[serde(default)]
    date_markers: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    level: Option<Level>,
    enabled: Option<bool>,
    message: Option<String>,
    suggestion: Option<String>,
    in_question_headings: Option<bool>,
    subsumes: Option<Vec<Spanned<String>>>,
    requires_section: Option<Section>,
    check: Option<Spanned<String>>,
    scope: Option<Spanned<String>>,
    /// Drop the patterns of the layers below before adding this layer's.
    replace_patterns: Option<bool>,
    #[serde(default)]
    patterns: Vec<RawPattern>,
    /// Shorthand: each phrase is a pattern.
    #[serde(default)]
    phrases: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    #[serde(rename = "match")]
    matches: Spanned<String>,
    level: Option<Level>,
    sections: Option<Vec<Section>>,
    #[serde(default)]
    not_sections: Vec<Section>,
    #[serde(default)]
    only_headings: bool,
    #[serde(default)]
    except: Vec<Spanned<String>>,
    message: Option<String>,
    suggestion: Option<String>,
}

/// What kind of check a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleKind {
    /// Patterns over sentences.
    Phrases,
    /// Patterns over the title of an action item.
    ActionTitle,
    /// A Markdown postmortem must have this section.
    Requires(Section),
    ActionOwner,
    ActionCheckIn,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledPattern {
    pub(crate) pattern: Pattern,
    pub(crate) level: Option<Level>,
    pub(crate) sections: Option<Vec<Section>>,
    pub(crate) not_sections: Vec<Section>,
    pub(crate) only_headings: bool,
    pub(crate) excepts: Vec<Pattern>,
    pub(crate) message: Option<String>,
    pub(crate) suggestion: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) level: Level,
    /// A user config set the level: it applies to every pattern.
    pub(crate) level_forced: bool,
    pub(crate) enabled: bool,
    pub(crate) message: String,
    pub(crate) suggestion: String,
    pub(crate) in_question_headings: bool,
    pub(crate) subsumes: Vec<usize>,
    pub(crate) kind: RuleKind,
    pub(crate) patterns: Vec<CompiledPattern>,
}

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) skip_quoted: bool,
    pub(crate) skip_blockquotes: bool,
    pub(crate) max_findings: usize,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ActionsConfig {
    pub(crate) owner_columns: Vec<String>,
    pub(crate) date_columns: Vec<String>,
    pub(crate) status_columns: Vec<String>,
    pub(crate) done_words: Vec<String>,
    pub(crate) owner_markers: Vec<String>,
    pub(crate) date_markers: Vec<String>,
}

/// Everything a [`crate::Linter`] runs.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) rules: Vec<Rule>,
    pub(crate) lex: Lexicon,
    /// Heading names (normalized) → section.
    pub(crate) aliases: crate::lexicon::FastMap<Box<str>, Section>,
    pub(crate) actions: ActionsConfig,
    pub(crate) allow: Vec<Pattern>,
    pub(crate) settings: Settings,
    pub(crate) participants: WordList,
}

/// A rule as merged from the layers, before its patterns are compiled.
struct Merged {
    level: Option<Level>,
    level_forced: bool,
    enabled: bool,
    message: Option<String>,
    suggestion: Option<String>,
    in_question_headings: bool,
    subsumes: Vec<(usize, Spanned<String>)>,
    requires_section: Option<Section>,
    check: Option<(usize, Spanned<String>)>,
    scope: Option<(usize, Spanned<String>)>,
    patterns: Vec<(usize, RawPattern)>,
    /// Where the rule was first defined (layer, span).
    at: (usize, std::ops::Range<usize>),
}

impl Config {
    pub(crate) fn compile(&self) -> Result<Compiled, ConfigError> {
        let mut layers: Vec<Layer> = Vec::new();
        if self.builtin {
            layers.push(Layer {
                origin: "built-in rules".to_owned(),
                text: BUILTIN_RULES.to_owned(),
                raw: parse_raw("built-in rules", BUILTIN_RULES)?,
            });
        }
        layers.extend(self.layers.iter().cloned());
        let err = |layer: usize, span: std::ops::Range<usize>, key: Option<String>, msg: String| {
            let l = &layers[layer];
            let (line, column) = line_col(&l.text, span.start);
            ConfigError {
                origin: l.origin.clone(),
                line,
                column,
                key: key.or_else(|| key_at(&l.text, span.start)),
                message: msg,
            }
        };

        let mut settings = Settings {
            skip_quoted: true,
            skip_blockquotes: true,
            max_findings: 10_000,
        };
        let mut words: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut sections: Vec<(Section, Vec<String>)> = Vec::new();
        let mut actions = ActionsConfig::default();
        let mut allow: Vec<(usize, Spanned<String>)> = Vec::new();
        let mut participants = WordList::default();
        let mut merged: Vec<(String, Merged)> = Vec::new();

        for (li, layer) in layers.iter().enumerate() {
            let raw = &layer.raw;
            if let Some(v) = raw.version
                && v != 1
            {
                return Err(ConfigError {
                    origin: layer.origin.clone(),
                    line: 0,
                    column: 0,
                    key: Some("version".to_owned()),
                    message: format!("version {v} is not known; this linter reads version 1"),
                });
            }
            if let Some(b) = raw.settings.skip_quoted {
                settings.skip_quoted = b;
            }
            if let Some(b) = raw.settings.skip_blockquotes {
                settings.skip_blockquotes = b;
            }
            if let Some(n) = raw.settings.max_findings {
                settings.max_findings = n;
            }
            for (name, list) in &raw.words {
                if !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') || name.is_empty() {
                    return Err(ConfigError {
                        origin: layer.origin.clone(),
                        line: 0,
                        column: 0,
                        key: Some(format!("words.{name}")),
                        message: "a word list's name is lower-case letters and `_`".to_owned(),
                    });
                }
                words
                    .entry(name.clone())
                    .or_default()
                    .extend(list.iter().cloned());
            }
            for (name, aliases) in &raw.sections {
                let Ok(section) = name.parse::<Section>() else {
                    return Err(ConfigError {
                        origin: layer.origin.clone(),
                        line: 0,
                        column: 0,
                        key: Some(format!("sections.{name}")),
                        message: format!(
                            "unknown section `{name}`: expected one of {}",
                            Section::ALL.map(Section::as_str).join(", ")
                        ),
                    });
                };
                let normalized = aliases.iter().map(|a| crate::scan::normalize_heading(a));
                match sections.iter_mut().find(|(s, _)| *s == section) {
                    Some((_, list)) => list.extend(normalized),
                    None => sections.push((section, normalized.collect())),
                }
            }
            let a = &raw.actions;
            let lower = |v: &Vec<String>| -> Vec<String> {
                v.iter()
                    .map(|s| crate::scan::normalize_heading(s))
                    .collect()
            };
            actions.owner_columns.extend(lower(&a.owner_columns));
            actions.date_columns.extend(lower(&a.date_columns));
            actions.status_columns.extend(lower(&a.status_columns));
            actions.done_words.extend(lower(&a.done_words));
            actions.owner_markers.extend(lower(&a.owner_markers));
            actions.date_markers.extend(lower(&a.date_markers));
            allow.extend(raw.allow.iter().map(|s| (li, s.clone())));
            for name in &raw.participants {
                add_participant(&mut participants, name);
            }

            for (id, spanned) in &raw.rules {
                let span = spanned.span();
                let r = spanned.get_ref();
                if !valid_rule_id(id) {
                    return Err(err(
                        li,
                        span,
                        Some(format!("rules.\"{id}\"")),
                        "a rule id is `family/name` in lower case, such as `blame/hindsight` or \
                         `team/jargon`"
                            .to_owned(),
                    ));
                }
                let idx = match merged.iter().position(|(i, _)| i == id) {
                    Some(i) => i,
                    None => {
                        merged.push((
                            id.clone(),
                            Merged {
                                level: None,
                                level_forced: false,
                                enabled: true,
                                message: None,
                                suggestion: None,
                                in_question_headings: false,
                                subsumes: Vec::new(),
                                requires_section: None,
                                check: None,
                                scope: None,
                                patterns: Vec::new(),
                                at: (li, span.clone()),
                            },
                        ));
                        merged.len() - 1
                    }
                };
                let m = &mut merged[idx].1;
                if let Some(level) = r.level {
                    m.level = Some(level);
                    // A level set on a rule defined in a lower layer applies to every finding.
                    m.level_forced = m.at.0 < li;
                }
                if let Some(e) = r.enabled {
                    m.enabled = e;
                }
                if r.message.is_some() {
                    m.message.clone_from(&r.message);
                }
                if r.suggestion.is_some() {
                    m.suggestion.clone_from(&r.suggestion);
                }
                if let Some(b) = r.in_question_headings {
                    m.in_question_headings = b;
                }
                if let Some(s) = &r.subsumes {
                    m.subsumes = s.iter().map(|x| (li, x.clone())).collect();
                }
                if r.requires_section.is_some() {
                    m.requires_section = r.requires_section;
                }
                if let Some(c) = &r.check {
                    m.check = Some((li, c.clone()));
                }
                if let Some(s) = &r.scope {
                    m.scope = Some((li, s.clone()));
                }
                if r.replace_patterns == Some(true) {
                    m.patterns.clear();
                }
                m.patterns
                    .extend(r.patterns.iter().map(|p| (li, p.clone())));
                m.patterns.extend(r.phrases.iter().map(|p| {
                    (
                        li,
                        RawPattern {
                            matches: p.clone(),
                            level: None,
                            sections: None,
                            not_sections: Vec::new(),
                            only_headings: false,
                            except: Vec::new(),
                            message: None,
                            suggestion: None,
                        },
                    )
                }));
            }
        }

        // Word lists, then the classes patterns can name.
        let mut lists = Vec::new();
        for (name, entries) in &words {
            let mut list = WordList::default();
            for e in entries {
                list.add(phrase_words(e));
            }
            lists.push((name.clone(), list));
        }
        let lex = Lexicon::new(lists);
        let class_of = |name: &str| -> Option<Class> {
            Some(match name {
                "person" => Class::Person,
                "individual" => Class::Individual,
                "agent" => Class::Agent,
                "nonperson" => Class::NonPerson,
                "pp" => Class::Pp,
                "verbed" => Class::Verbed,
                "any" => Class::Any,
                "number" => Class::Number,
                other => Class::List(lex.index(other)?),
            })
        };
        let compile_pattern = |li: usize, s: &Spanned<String>| -> Result<Pattern, ConfigError> {
            Pattern::parse(s.get_ref(), &class_of).map_err(|m| {
                err(
                    li,
                    s.span(),
                    None,
                    format!("pattern \"{}\": {m}", s.get_ref()),
                )
            })
        };

        let ids: Vec<String> = merged.iter().map(|(id, _)| id.clone()).collect();
        let mut rules = Vec::with_capacity(merged.len());
        for (id, m) in merged {
            let (li0, span0) = m.at.clone();
            let kind = match (&m.requires_section, &m.check, &m.scope) {
                (Some(s), None, None) => RuleKind::Requires(*s),
                (None, Some((li, c)), None) => match c.get_ref().as_str() {
                    "action-owner" => RuleKind::ActionOwner,
                    "action-check-in" => RuleKind::ActionCheckIn,
                    other => {
                        return Err(err(
                            *li,
                            c.span(),
                            Some(format!("rules.\"{id}\".check")),
                            format!(
                                "unknown check `{other}`: expected action-owner or action-check-in"
                            ),
                        ));
                    }
                },
                (None, None, Some((li, s))) => match s.get_ref().as_str() {
                    "action-title" => RuleKind::ActionTitle,
                    "sentence" => RuleKind::Phrases,
                    other => {
                        return Err(err(
                            *li,
                            s.span(),
                            Some(format!("rules.\"{id}\".scope")),
                            format!("unknown scope `{other}`: expected sentence or action-title"),
                        ));
                    }
                },
                (None, None, None) => RuleKind::Phrases,
                _ => {
                    return Err(err(
                        li0,
                        span0,
                        Some(format!("rules.\"{id}\"")),
                        "a rule has at most one of requires_section, check and scope".to_owned(),
                    ));
                }
            };
            let Some(message) = m.message else {
                return Err(err(
                    li0,
                    span0,
                    Some(format!("rules.\"{id}\"")),
                    "a new rule needs a message (why it matters)".to_owned(),
                ));
            };
            let uses_patterns = matches!(kind, RuleKind::Phrases | RuleKind::ActionTitle);
            if uses_patterns && m.patterns.is_empty() && m.enabled {
                return Err(err(
                    li0,
                    span0,
                    Some(format!("rules.\"{id}\"")),
                    "this rule has no patterns: add `phrases = [...]` or [[...patterns]]"
                        .to_owned(),
                ));
            }
            if !uses_patterns && let Some((li, p)) = m.patterns.first() {
                return Err(err(
                    *li,
                    p.matches.span(),
                    Some(format!("rules.\"{id}\".patterns")),
                    "this rule checks the document's structure and takes no patterns".to_owned(),
                ));
            }
            let mut patterns = Vec::with_capacity(m.patterns.len());
            for (li, p) in &m.patterns {
                let mut pattern = compile_pattern(*li, &p.matches)?;
                pattern.reanchor(&lex);
                let mut excepts = Vec::with_capacity(p.except.len());
                for e in &p.except {
                    excepts.push(compile_pattern(*li, e)?);
                }
                patterns.push(CompiledPattern {
                    pattern,
                    level: p.level,
                    sections: p.sections.clone(),
                    not_sections: p.not_sections.clone(),
                    only_headings: p.only_headings,
                    excepts,
                    message: p.message.clone(),
                    suggestion: p.suggestion.clone(),
                });
            }
            let mut subsumes = Vec::new();
            for (li, s) in &m.subsumes {
                match ids.iter().position(|x| x == s.get_ref()) {
                    Some(i) => subsumes.push(i),
                    None => {
                        return Err(err(
                            *li,
                            s.span(),
                            Some(format!("rules.\"{id}\".subsumes")),
                            format!("no rule `{}` to subsume", s.get_ref()),
                        ));
                    }
                }
            }
            rules.push(Rule {
                id,
                level: m.level.unwrap_or(Level::Warning),
                level_forced: m.level_forced,
                enabled: m.enabled,
                message,
                suggestion: m.suggestion.unwrap_or_default(),
                in_question_headings: m.in_question_headings,
                subsumes,
                kind,
                patterns,
            });
        }

        let mut allow_patterns = Vec::with_capacity(allow.len());
        for (li, a) in &allow {
            let p = Pattern::parse(a.get_ref(), &class_of).map_err(|m| {
                err(
                    *li,
                    a.span(),
                    Some("allow".to_owned()),
                    format!("\"{}\": {m}", a.get_ref()),
                )
            })?;
            allow_patterns.push(p);
        }

        let mut aliases = crate::lexicon::FastMap::default();
        for (section, names) in &sections {
            for n in names {
                if !n.is_empty() {
                    aliases.entry(n.as_str().into()).or_insert(*section);
                }
            }
        }
        Ok(Compiled {
            rules,
            lex,
            aliases,
            actions,
            allow: allow_patterns,
            settings,
            participants,
        })
    }
}

fn valid_rule_id(id: &str) -> bool {
    let Some((family, name)) = id.split_once('/') else {
        return false;
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    ok(family) && ok(name)
}

/// Adds a participant's name: the full name and each of its words (lower case).
pub(crate) fn add_participant(list: &mut WordList, name: &str) {
    let words = phrase_words(name.trim().trim_start_matches('@'));
    if words.is_empty() {
        return;
    }
    for w in &words {
        if w.chars().count() >= 2 && w.chars().all(char::is_alphabetic) {
            list.add(vec![w.clone()]);
        }
    }
    if words.len() > 1 {
        list.add(words);
    }
}
