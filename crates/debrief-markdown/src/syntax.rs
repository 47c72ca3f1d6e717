//! The pieces of the format that export and import must agree on: section names, headings, and the
//! escaping of free text, table cells, link titles and quoted values. Each escape here has its exact
//! inverse next to it.

use debrief_core::{Line, Link, ParseError, Url};

/// The `##` sections of a postmortem, in the order export writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Summary,
    Impact,
    KeyMoments,
    CustomerStatement,
    Factors,
    Lessons,
    Ideas,
    Timeline,
    Actions,
    Participants,
    Links,
    Meeting,
    Notes,
}

impl Section {
    pub(crate) const ALL: [Section; 13] = [
        Section::Summary,
        Section::Impact,
        Section::KeyMoments,
        Section::CustomerStatement,
        Section::Factors,
        Section::Lessons,
        Section::Ideas,
        Section::Timeline,
        Section::Actions,
        Section::Participants,
        Section::Links,
        Section::Meeting,
        Section::Notes,
    ];

    /// The heading export writes.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::Summary => "Summary",
            Section::Impact => "Impact",
            Section::KeyMoments => "Key moments",
            Section::CustomerStatement => "Customer statement",
            Section::Factors => "Contributing factors",
            Section::Lessons => "Lessons learned",
            Section::Ideas => "Remediation ideas",
            Section::Timeline => "Timeline",
            Section::Actions => "Action items",
            Section::Participants => "Participants",
            Section::Links => "Links",
            Section::Meeting => "Meeting",
            Section::Notes => "Notes",
        }
    }

    /// Other headings people write for the same section (normalized: lowercase, single spaces).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Section::KeyMoments => &["key times"],
            Section::CustomerStatement => &["customer-facing statement", "statement"],
            Section::Factors => &["factors"],
            Section::Lessons => &["lessons"],
            Section::Ideas => &["ideas", "remediation"],
            Section::Actions => &["actions"],
            Section::Meeting => &["review meeting", "review"],
            _ => &[],
        }
    }

    /// Sections whose body is free Markdown, written as is.
    pub(crate) fn is_free_text(self) -> bool {
        matches!(self, Section::Summary | Section::Impact | Section::Notes)
    }

    /// The section a heading names, ignoring case and runs of whitespace.
    pub(crate) fn named(name: &str) -> Option<Section> {
        let wanted = normalize_name(name);
        Section::ALL.into_iter().find(|s| {
            normalize_name(s.title()) == wanted || s.aliases().iter().any(|a| *a == wanted)
        })
    }

    /// All section titles, for error messages.
    pub(crate) fn all_titles() -> String {
        Section::ALL.map(Section::title).join(", ")
    }
}

/// Lowercase, with runs of whitespace turned into one space.
pub(crate) fn normalize_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An ATX heading at column 0: its level and its text, trimmed.
pub(crate) fn heading(line: &str) -> Option<(usize, &str)> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let rest = line.get(hashes..)?;
    if rest.is_empty() || rest.starts_with([' ', '\t']) {
        Some((hashes, rest.trim()))
    } else {
        None
    }
}

/// A `## Known section` heading at column 0: where a free-text section ends.
pub(crate) fn section_heading(line: &str) -> Option<Section> {
    match heading(line) {
        Some((2, name)) => Section::named(name),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Free text in a section body (summary, impact, notes).
//
// A line of free text that would read as one of the section headings (`## Timeline`, indented by
// up to three spaces, after any number of backslashes) gets one more backslash after its
// indentation; import removes one from such lines. Nothing else in free text is touched.

fn split_indent(line: &str) -> (&str, &str) {
    let n = line.bytes().take_while(|b| *b == b' ').count().min(3);
    line.split_at(n)
}

fn is_guarded(rest: &str) -> bool {
    section_heading(rest.trim_start_matches('\\')).is_some()
}

pub(crate) fn escape_free_text(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let (indent, rest) = split_indent(line);
            if is_guarded(rest) {
                format!("{indent}\\{rest}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn unescape_free_line(line: &str) -> String {
    let (indent, rest) = split_indent(line);
    match rest.strip_prefix('\\') {
        Some(unescaped) if is_guarded(rest) => format!("{indent}{unescaped}"),
        _ => line.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Table cells.
//
// `\` → `\\`, `|` → `\|`, a `<` that starts `<br` → `\<`, a newline → `<br>`. Import reads `\\`,
// `\|`, `\<` back as the character, `<br>` / `<br/>` / `<br />` (any case) as a newline, and keeps
// any other backslash as it is (so hand-written `\d` survives).

fn starts_br(s: &str) -> bool {
    s.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("<br"))
}

pub(crate) fn escape_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '<' if text.get(i..).is_some_and(starts_br) => out.push_str("\\<"),
            _ => out.push(c),
        }
    }
    out
}

fn line_break_len(s: &str) -> Option<usize> {
    ["<br>", "<br/>", "<br />"]
        .iter()
        .find(|form| {
            s.get(..form.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(form))
        })
        .map(|form| form.len())
}

pub(crate) fn unescape_cell(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut rest = cell;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            match rest.get(1..).and_then(|r| r.chars().next()) {
                Some(n @ ('\\' | '|' | '<')) => {
                    out.push(n);
                    rest = rest.get(2..).unwrap_or("");
                }
                _ => {
                    out.push('\\');
                    rest = rest.get(1..).unwrap_or("");
                }
            }
        } else if let Some(len) = line_break_len(rest) {
            out.push('\n');
            rest = rest.get(len..).unwrap_or("");
        } else {
            out.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
    }
    out
}

/// Splits a table row into its cells, unescaped and trimmed. Leading and trailing pipes are
/// optional; a pipe after a backslash is part of a cell.
pub(crate) fn split_row(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let mut cells = Vec::new();
    let mut start = 0;
    let mut chars = t.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == '|' {
            cells.push(t.get(start..i).unwrap_or(""));
            start = i + 1;
        }
    }
    let last = t.get(start..).unwrap_or("");
    if !last.trim().is_empty() {
        cells.push(last);
    }
    cells.into_iter().map(|c| unescape_cell(c.trim())).collect()
}

/// A table's alignment row: `|---|:---:|`.
pub(crate) fn is_delimiter_row(line: &str) -> bool {
    let cells = split_row(line);
    !cells.is_empty()
        && cells.iter().all(|c| {
            let c = c.trim();
            let inner = c.strip_prefix(':').unwrap_or(c);
            let inner = inner.strip_suffix(':').unwrap_or(inner);
            !inner.is_empty() && inner.chars().all(|ch| ch == '-')
        })
}

/// One table row, cells escaped.
pub(crate) fn row(cells: &[String]) -> String {
    let mut out = String::from("|");
    for c in cells {
        out.push(' ');
        out.push_str(&escape_cell(c));
        out.push_str(" |");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Links: `[title](url)` with `\`, `[`, `]` escaped in the title, or a bare URL.

pub(crate) fn link_target(link: &Link) -> String {
    match &link.title {
        Some(title) => {
            let mut escaped = String::new();
            for c in title.as_str().chars() {
                if matches!(c, '\\' | '[' | ']') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            format!("[{escaped}]({})", link.url)
        }
        None => link.url.to_string(),
    }
}

pub(crate) fn parse_link_target(s: &str) -> Result<(Url, Option<Line>), ParseError> {
    let s = s.trim();
    let Some(rest) = s.strip_prefix('[') else {
        return Ok((s.parse::<Url>().map_err(|e| e.within("url"))?, None));
    };
    let bad = || {
        ParseError::new(
            "link",
            format!("{s:?} is not a link: expected [title](https://…) or a bare https:// URL"),
        )
    };
    let mut title = String::new();
    let mut chars = rest.char_indices();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, n @ ('\\' | '[' | ']'))) => title.push(n),
                Some((_, n)) => {
                    title.push('\\');
                    title.push(n);
                }
                None => title.push('\\'),
            },
            ']' => {
                end = Some(i);
                break;
            }
            _ => title.push(c),
        }
    }
    let end = end.ok_or_else(bad)?;
    let target = rest
        .get(end + 1..)
        .and_then(|a| a.strip_prefix('('))
        .and_then(|a| a.strip_suffix(')'))
        .ok_or_else(bad)?
        .trim();
    let target = target
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(target);
    let url = target.parse::<Url>().map_err(|e| e.within("url"))?;
    let title = if title.trim().is_empty() {
        None
    } else {
        Some(title.parse::<Line>().map_err(|e| e.within("title"))?)
    };
    Ok((url, title))
}

// ---------------------------------------------------------------------------------------------
// Quoted values: a value that would not survive trimming, starts with a quote or holds control
// characters is written in double quotes with `\\`, `\"` and `\u{…}` escapes.

pub(crate) fn quote_if_needed(s: &str) -> String {
    let plain =
        !s.is_empty() && s == s.trim() && !s.starts_with('"') && !s.chars().any(char::is_control);
    if plain {
        return s.to_owned();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn unquote(s: &str) -> String {
    let t = s.trim();
    let Some(inner) = t.strip_prefix('"').and_then(|i| i.strip_suffix('"')) else {
        return t.to_owned();
    };
    let mut out = String::new();
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        rest = rest.get(c.len_utf8()..).unwrap_or("");
        if c != '\\' {
            out.push(c);
            continue;
        }
        match rest.chars().next() {
            Some(n @ ('\\' | '"')) => {
                out.push(n);
                rest = rest.get(1..).unwrap_or("");
            }
            Some('u') => {
                let decoded = rest.strip_prefix("u{").and_then(|r| {
                    let close = r.find('}')?;
                    let code = u32::from_str_radix(r.get(..close)?, 16).ok()?;
                    Some((char::from_u32(code)?, r.get(close + 1..)?))
                });
                match decoded {
                    Some((ch, after)) => {
                        out.push(ch);
                        rest = after;
                    }
                    None => out.push('\\'),
                }
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// `PM-<digits>` then optional blanks and a colon: a title that would read as carrying a key.
pub(crate) fn looks_keyed(s: &str) -> bool {
    let s = s.trim_start_matches('\\');
    let Some(rest) = s
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("pm-"))
        .and_then(|_| s.get(3..))
    else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && rest
            .get(digits..)
            .is_some_and(|after| after.trim_start_matches([' ', '\t']).starts_with(':'))
}

/// `yes` or `no` (also true/false, y/n, x).
pub(crate) fn parse_bool(s: &str) -> Result<bool, ParseError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "x" | "✓" => Ok(true),
        "no" | "n" | "false" | "" | "-" => Ok(false),
        other => Err(ParseError::new("", format!("{other:?} is not yes or no"))),
    }
}

pub(crate) fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip() {
        for s in [
            "a|b",
            "a\\|b",
            "x\\",
            "line 1\nline 2",
            "<br>",
            "\\<BR/>",
            "a\\\nb",
            "\\\\|",
            "plain",
        ] {
            let row = row(&[s.to_owned(), "z".to_owned()]);
            assert_eq!(
                split_row(&row),
                vec![s.to_owned(), "z".to_owned()],
                "{s:?} → {row}"
            );
        }
    }

    #[test]
    fn free_text_guard_round_trips() {
        for s in [
            "## Timeline",
            "\\## timeline",
            "  ##   Key moments  ",
            "## Background",
            "### Timeline",
        ] {
            let escaped = escape_free_text(s);
            assert_eq!(unescape_free_line(&escaped), s);
            assert!(section_heading(&escaped).is_none());
        }
    }

    #[test]
    fn quoting_round_trips() {
        for s in ["abc", " a ", "\"q\"", "tab\there", "\\u{41}", "\"", ""] {
            assert_eq!(unquote(&quote_if_needed(s)), s, "{s:?}");
        }
    }

    #[test]
    fn keyed_titles() {
        assert!(looks_keyed("PM-7: x"));
        assert!(looks_keyed("pm-12 : x"));
        assert!(looks_keyed("\\PM-7: x"));
        assert!(!looks_keyed("PM-: x"));
        assert!(!looks_keyed("PM-7 x"));
        assert!(!looks_keyed("Database: x"));
    }
}
