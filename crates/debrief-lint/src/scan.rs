//! Reading a Markdown postmortem line by line: which section each line is in (from headings),
//! which text is prose (not code, URLs, HTML, link targets or quotations), where sentences end,
//! suppression comments, and the action items the structure rules check. One pass, linear time:
//! only sentences holding a possible anchor word are analysed further.

use crate::config::{RuleKind, add_participant};
use crate::engine::{self, Place, Raw};
use crate::lexicon::{self, WordList};
use crate::pattern::{Kind, Tok, normalize_word};
use crate::structure::{self, ActionItem};
use crate::{Context, Finding, Level, Linter, Section};

/// A sentence longer than this many tokens is analysed in pieces.
const MAX_SENTENCE: usize = 128;

#[derive(Debug, Clone, Copy)]
struct RawTok {
    start: usize,
    end: usize,
    kind: Kind,
    handle: bool,
    quoted: bool,
    joined: bool,
    apostrophe: bool,
}

/// A suppression comment's reach: lines `from..=to`, for the rules it names (none = all).
#[derive(Debug, Clone)]
struct Suppress {
    from: usize,
    to: usize,
    rules: Vec<String>,
}

/// Lowercase words, numbering and punctuation removed: how headings and aliases are compared.
pub(crate) fn normalize_heading(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            space = false;
        } else if c == '\'' || c == '\u{2019}' {
            // "what's" → "whats"
        } else if !c.is_ascii() && c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    // Leading numbering: "1 summary", "step 3 timeline", "iv impact".
    let mut skip = 0;
    while let Some(i) = out[skip..].find(' ') {
        let w = &out[skip..skip + i];
        let numbering = w.bytes().all(|b| b.is_ascii_digit())
            || w == "step"
            || w == "part"
            || (w.len() <= 4 && w.bytes().all(|b| matches!(b, b'i' | b'v' | b'x')));
        if !numbering {
            break;
        }
        skip += i + 1;
    }
    if skip > 0 {
        out.drain(..skip);
    }
    out
}

struct Scan<'a> {
    linter: &'a Linter,
    text: &'a str,
    fixed: Option<Section>,
    participants: WordList,

    line_no: usize,
    section: Section,
    levels: [Option<Section>; 7],
    headings: usize,
    title: Option<(usize, usize)>,
    seen: [bool; 16],

    toks: Vec<RawTok>,
    candidate: bool,
    quote: bool,
    place_heading: bool,
    place_question: bool,
    pending_title: bool,

    norm: String,
    ntoks: Vec<Tok>,
    parts: Vec<Box<str>>,
    raws: Vec<Raw>,
    saturated: bool,

    in_fence: Option<(u8, usize)>,
    in_comment: Option<usize>,
    prev_blank: bool,
    list_context: bool,
    skip_line: Option<usize>,

    suppress: Vec<Suppress>,
    open_off: Vec<(usize, Vec<String>)>,

    actions: Vec<ActionItem>,
    current_action: Option<usize>,
    action_base_indent: Option<usize>,
    action_heading_date: bool,
    action_heading_done: bool,
    actions_have_table: bool,
    table: Option<Table>,
    /// Words before the first section heading: an introduction serves as the summary.
    preamble_words: usize,
    section_headings: usize,
}

#[derive(Debug, Clone, Default)]
struct Table {
    pending_header: Option<Vec<String>>,
    header: Option<Vec<String>>,
}

pub(crate) fn run(
    linter: &Linter,
    text: &str,
    fixed: Option<Section>,
    ctx: &Context,
) -> Vec<Finding> {
    let mut participants = linter.c.participants.clone();
    for p in &ctx.participants {
        add_participant(&mut participants, p);
    }
    if fixed.is_none() {
        collect_participants(linter, text, &mut participants);
    }
    let mut s = Scan {
        linter,
        text,
        fixed,
        participants,
        line_no: 1,
        section: fixed.unwrap_or(Section::Other),
        levels: [None; 7],
        headings: 0,
        title: None,
        seen: [false; 16],
        toks: Vec::with_capacity(MAX_SENTENCE),
        candidate: false,
        quote: false,
        place_heading: false,
        place_question: false,
        pending_title: fixed == Some(Section::Actions),
        norm: String::new(),
        ntoks: Vec::new(),
        parts: Vec::new(),
        raws: Vec::new(),
        saturated: false,
        in_fence: None,
        in_comment: None,
        prev_blank: true,
        list_context: false,
        skip_line: None,
        suppress: Vec::new(),
        open_off: Vec::new(),
        actions: Vec::new(),
        current_action: None,
        action_base_indent: None,
        action_heading_date: false,
        action_heading_done: false,
        actions_have_table: false,
        table: None,
        preamble_words: 0,
        section_headings: 0,
    };
    s.document();
    s.finish()
}

impl<'a> Scan<'a> {
    fn document(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = 0;
        let mut front_matter = self.fixed.is_none() && line_at(text, 0).trim_end() == "---";
        let mut first = true;
        while pos < bytes.len() {
            let nl = text[pos..].find('\n').map_or(bytes.len(), |i| pos + i);
            let mut end = nl;
            if end > pos && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            if front_matter {
                let l = text[pos..end].trim_end();
                if !first && (l == "---" || l == "...") {
                    front_matter = false;
                }
            } else if self.skip_line == Some(self.line_no) {
                self.skip_line = None;
            } else {
                self.line(pos, end, nl + 1);
            }
            first = false;
            pos = nl + 1;
            self.line_no += 1;
        }
        self.flush();
    }

    fn line(&mut self, s: usize, e: usize, next: usize) {
        let text = self.text;
        let bytes = text.as_bytes();
        if let Some((ch, len)) = self.in_fence {
            let t = text[s..e].trim_start();
            let run = t.bytes().take_while(|&b| b == ch).count();
            if run >= len && t[run..].trim().is_empty() && indent_of(&text[s..e]).0 < 4 {
                self.in_fence = None;
            }
            return;
        }
        if let Some(start) = self.in_comment {
            if let Some(i) = text[s..e].find("-->") {
                self.in_comment = None;
                let body = &text[start..s + i];
                self.directive(body);
                let after = s + i + 3;
                if after < e {
                    self.inline(after, e);
                }
            }
            return;
        }
        let (indent, rest) = indent_of(&text[s..e]);
        let rest = s + rest;
        if rest >= e {
            self.flush();
            self.prev_blank = true;
            self.quote = false;
            self.table = None;
            return;
        }
        let line = &text[rest..e];
        let first = bytes[rest];
        if first != b'|' {
            self.table = None;
        }
        // Fenced code.
        if indent < 4 && (line.starts_with("```") || line.starts_with("~~~")) {
            let run = line.bytes().take_while(|&b| b == first).count();
            if !(first == b'`' && line[run..].contains('`')) {
                self.flush();
                self.in_fence = Some((first, run));
                self.prev_blank = false;
                return;
            }
        }
        // Indented code.
        if indent >= 4 && self.prev_blank && !self.list_context {
            return;
        }
        // ATX heading.
        if indent < 4 && first == b'#' {
            let level = line.bytes().take_while(|&b| b == b'#').count();
            let after = line.as_bytes().get(level).copied();
            if level <= 6 && matches!(after, None | Some(b' ' | b'\t')) {
                let mut content = line[level..].trim();
                // closing #s
                let trimmed = content.trim_end_matches('#');
                if trimmed.len() < content.len()
                    && (trimmed.is_empty() || trimmed.ends_with([' ', '\t']))
                {
                    content = trimmed.trim_end();
                }
                let cs = if content.is_empty() {
                    e
                } else {
                    rest + substring_offset(line, content)
                };
                self.heading(level, cs, cs + content.len());
                self.prev_blank = false;
                return;
            }
        }
        // Quotations and pasted chat.
        if indent < 4 && first == b'>' {
            self.flush();
            self.prev_blank = false;
            if self.linter.c.settings.skip_blockquotes {
                return;
            }
            let inner = rest + 1;
            self.inline(inner, e);
            return;
        }
        // Thematic break.
        if indent < 4 && is_thematic_break(line) {
            self.flush();
            self.prev_blank = true;
            self.list_context = false;
            return;
        }
        // Table row.
        if indent < 4 && first == b'|' {
            self.flush();
            self.table_row(rest, e);
            self.prev_blank = false;
            return;
        }
        // List item.
        if let Some(content) = list_marker(line) {
            self.flush();
            self.quote = false;
            self.list_item(indent, rest + content, e);
            self.prev_blank = false;
            return;
        }
        // Reference definition: [label]: url
        if indent < 4 && first == b'[' && is_reference_definition(line) {
            return;
        }
        // Setext heading: a paragraph's only line followed by === or ---.
        if self.prev_blank && indent < 4 && next < text.len() {
            let ne = text[next..].find('\n').map_or(text.len(), |i| next + i);
            let under = text[next..ne].trim();
            let level = if !under.is_empty() && under.bytes().all(|b| b == b'=') {
                1
            } else if under.len() >= 2 && under.bytes().all(|b| b == b'-') {
                2
            } else {
                0
            };
            if level > 0 && indent_of(&text[next..ne]).0 < 4 {
                let content = line.trim_end();
                self.heading(level, rest, rest + content.len());
                self.skip_line = Some(self.line_no + 1);
                self.prev_blank = false;
                return;
            }
        }
        // Paragraph text.
        if self.prev_blank {
            self.flush();
            self.quote = false;
            if indent < 2 {
                self.list_context = false;
                self.current_action = None;
            }
        }
        if let Some(i) = self.current_action {
            self.actions[i].more.push((rest, e));
        }
        self.prev_blank = false;
        self.inline(rest, e);
    }

    fn heading(&mut self, level: usize, cs: usize, ce: usize) {
        self.flush();
        self.quote = false;
        self.list_context = false;
        self.current_action = None;
        self.action_base_indent = None;
        self.table = None;
        self.headings += 1;
        let content = &self.text[cs..ce];
        let norm = normalize_heading(content);
        let question = is_question_heading(content, &norm);
        let mut place_section = self.section;
        if self.fixed.is_none() {
            let level = level.clamp(1, 6);
            let ancestor = (1..level).rev().find_map(|l| {
                self.levels[l].filter(|s| !matches!(s, Section::Other | Section::Title))
            });
            let mapped = map_heading(&self.linter.c.aliases, &norm);
            let section = if self.headings == 1 && level == 1 && !mapped.1 {
                self.title = Some((cs, ce));
                Section::Title
            } else {
                mapped.0.or(ancestor).unwrap_or(Section::Other)
            };
            self.levels[level] = Some(section);
            for l in self.levels.iter_mut().skip(level + 1) {
                *l = None;
            }
            self.seen[section.index()] = true;
            if section != Section::Title {
                self.section_headings += 1;
            }
            place_section = section;
            self.section = if section == Section::Title {
                Section::Other
            } else {
                section
            };
            if section == Section::Actions {
                if mapped.0 == Some(Section::Actions) {
                    self.actions_have_table = false;
                }
                let lower = content.to_lowercase();
                self.action_heading_date = structure::has_date(&lower, &self.linter.c.actions);
                self.action_heading_done = structure::is_done(&lower, &self.linter.c.actions);
            }
        }
        let saved = self.section;
        self.section = place_section;
        self.place_heading = true;
        self.place_question = question;
        self.inline(cs, ce);
        self.flush();
        self.place_heading = false;
        self.place_question = false;
        self.section = saved;
    }

    fn list_item(&mut self, indent: usize, cs: usize, e: usize) {
        self.list_context = true;
        let mut cs = cs;
        let mut done = false;
        let line = &self.text[cs..e];
        for (box_, is_done) in [("[ ] ", false), ("[x] ", true), ("[X] ", true)] {
            if line.starts_with(box_) {
                cs += box_.len();
                done = is_done;
            }
        }
        if self.section == Section::Actions && self.fixed.is_none() && !self.actions_have_table {
            let base = *self.action_base_indent.get_or_insert(indent);
            if indent <= base + 1 || self.current_action.is_none() {
                self.actions.push(ActionItem {
                    first: (cs, e),
                    more: Vec::new(),
                    heading_date: self.action_heading_date,
                    heading_done: self.action_heading_done || done,
                    table: None,
                });
                self.current_action = Some(self.actions.len() - 1);
                self.pending_title = true;
            } else if let Some(i) = self.current_action {
                self.actions[i].more.push((cs, e));
            }
        }
        self.inline(cs, e);
    }

    fn table_row(&mut self, s: usize, e: usize) {
        let cells = split_cells(self.text, s, e);
        let is_delimiter = !cells.is_empty()
            && cells.iter().all(|&(a, b)| {
                let c = self.text[a..b].trim();
                !c.is_empty() && c.bytes().all(|x| matches!(x, b'-' | b':' | b' '))
            });
        let table = self.table.get_or_insert_with(Table::default);
        if is_delimiter {
            if table.header.is_none() {
                table.header = table.pending_header.take();
            }
            return;
        }
        let in_actions = self.section == Section::Actions && self.fixed.is_none();
        let header_known = table.header.is_some();
        let texts: Vec<String> = if !header_known || in_actions {
            cells
                .iter()
                .map(|&(a, b)| normalize_heading(&self.text[a..b]))
                .collect()
        } else {
            Vec::new()
        };
        if !header_known {
            table.pending_header = Some(texts.clone());
        }
        let mut title_col = None;
        if let Some(h) = self.table.as_ref().and_then(|t| t.header.as_ref())
            && in_actions
        {
            let cfg = &self.linter.c.actions;
            let col = |names: &[String]| h.iter().position(|x| names.iter().any(|n| n == x));
            let owner = col(&cfg.owner_columns);
            let date = col(&cfg.date_columns);
            let status = col(&cfg.status_columns);
            let title_names = [
                "title",
                "action",
                "action item",
                "item",
                "task",
                "what",
                "description",
            ]
            .map(str::to_owned);
            title_col = col(&title_names).or_else(|| h.iter().position(|x| !x.is_empty()));
            let filled = |c: Option<usize>| {
                c.and_then(|i| texts.get(i)).is_some_and(|t| {
                    !t.is_empty()
                        && !matches!(
                            t.as_str(),
                            "tbd" | "n a" | "none" | "todo" | "unknown" | "nobody"
                        )
                })
            };
            let done = status
                .and_then(|i| texts.get(i))
                .is_some_and(|t| structure::is_done(t, cfg))
                || texts.iter().any(|t| cfg.done_words.iter().any(|d| d == t));
            let row = structure::TableRow {
                owner: filled(owner),
                date: filled(date),
                done,
            };
            self.actions_have_table = true;
            self.actions.push(ActionItem {
                first: (s, e),
                more: Vec::new(),
                heading_date: self.action_heading_date,
                heading_done: self.action_heading_done,
                table: Some(row),
            });
        }
        for (i, &(a, b)) in cells.iter().enumerate() {
            self.pending_title = title_col == Some(i);
            self.inline(a, b);
            self.flush();
        }
        self.pending_title = false;
    }

    /// Tokenizes prose in `s..e`: words, the punctuation patterns use, code spans and URLs as
    /// opaque things; HTML tags, comments and link targets skipped.
    fn inline(&mut self, s: usize, e: usize) {
        let text = self.text;
        let b = text.as_bytes();
        let mut i = s;
        while i < e {
            let c = b[i];
            if c == b' ' {
                i += 1;
                continue;
            }
            if c.is_ascii_alphanumeric() || (c >= 0x80 && !is_special_utf8(b, i, e)) {
                if (c == b'h' || c == b'f' || c == b'w') && starts_url(&text[i..e]) {
                    let end = url_end(b, i, e);
                    self.push(i, end, Kind::Code, false, false, false);
                    i = end;
                    continue;
                }
                i = self.word(i, e);
                continue;
            }
            match c {
                b'@' if i + 1 < e && is_word_byte(b[i + 1]) => {
                    let mut j = i + 1;
                    while j < e
                        && (is_word_byte(b[j])
                            || ((b[j] == b'-' || b[j] == b'.')
                                && j + 1 < e
                                && is_word_byte(b[j + 1])))
                    {
                        j += 1;
                    }
                    self.push(i, j, Kind::Word, true, false, false);
                    i = j;
                }
                b'`' => {
                    let run = b[i..e].iter().take_while(|&&x| x == b'`').count();
                    match find_backticks(b, i + run, e, run) {
                        Some(close) => {
                            self.push(i, close + run, Kind::Code, false, false, false);
                            i = close + run;
                        }
                        None => i += run,
                    }
                }
                b'<' => {
                    if text[i..e].starts_with("<!--") {
                        match text[i + 4..e].find("-->") {
                            Some(k) => {
                                let body = &text[i + 4..i + 4 + k];
                                self.directive(body);
                                i = i + 4 + k + 3;
                            }
                            None => {
                                self.in_comment = Some(i + 4);
                                return;
                            }
                        }
                    } else if i + 1 < e && (b[i + 1].is_ascii_alphabetic() || b[i + 1] == b'/') {
                        // An HTML tag or an autolink.
                        match text[i..e].find('>') {
                            Some(k) => {
                                if starts_url(&text[i + 1..e]) {
                                    self.push(i, i + k + 1, Kind::Code, false, false, false);
                                }
                                i += k + 1;
                            }
                            None => i += 1,
                        }
                    } else {
                        i += 1;
                    }
                }
                b']' => {
                    i += 1;
                    if i < e && b[i] == b'(' {
                        // A link's target: skip to the matching parenthesis.
                        let mut depth = 0usize;
                        while i < e {
                            match b[i] {
                                b'(' => depth += 1,
                                b')' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        i += 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            i += 1;
                        }
                    } else if i < e && b[i] == b'[' {
                        match text[i..e].find(']') {
                            Some(k) => i += k + 1,
                            None => i += 1,
                        }
                    }
                }
                b'\\' => {
                    i += 1;
                    if i < e && b[i].is_ascii() {
                        i += 1;
                    }
                }
                b'.' | b'!' | b'?' => {
                    let next = b.get(i + 1).copied();
                    let ends = i + 1 >= e
                        || matches!(
                            next,
                            Some(b' ' | b'\t' | b'"' | b')' | b'*' | b'_' | b'\'' | b']')
                        )
                        || (next == Some(0xE2) && is_special_utf8(b, i + 1, e));
                    if c == b'?' {
                        self.push(i, i + 1, Kind::Punct, false, false, false);
                    }
                    if ends && !(c == b'.' && self.last_is_abbreviation()) {
                        self.end_sentence();
                    }
                    i += 1;
                }
                b';' | b'|' => {
                    self.end_sentence();
                    i += 1;
                }
                b':' | b',' | b'(' | b')' => {
                    self.push(i, i + 1, Kind::Punct, false, false, false);
                    i += 1;
                }
                b'-' => {
                    let before_space = i == s || matches!(b[i - 1], b' ' | b'\t');
                    let after_space = i + 1 >= e || matches!(b[i + 1], b' ' | b'\t');
                    if before_space && after_space {
                        self.push(i, i + 1, Kind::Punct, false, false, false);
                    }
                    i += 1;
                }
                b'"' => {
                    if !(i > s && b[i - 1].is_ascii_digit()) {
                        self.quote = !self.quote;
                    }
                    i += 1;
                }
                0xE2 => {
                    // General punctuation: quotes, dashes.
                    let k = b.get(i + 2).copied().unwrap_or(0);
                    match (b.get(i + 1).copied(), k) {
                        (Some(0x80), 0x9C) => self.quote = true,
                        (Some(0x80), 0x9D) => self.quote = false,
                        (Some(0x80), 0x93 | 0x94) => {
                            self.push(i, i + 3, Kind::Punct, false, false, false);
                        }
                        _ => {}
                    }
                    i += utf8_len(c).min(e - i);
                }
                _ => i += if c >= 0x80 { utf8_len(c).min(e - i) } else { 1 },
            }
        }
    }

    /// A word starting at `i`; returns where it ends.
    fn word(&mut self, i: usize, e: usize) -> usize {
        let b = self.text.as_bytes();
        let mut j = i;
        let mut apostrophe = false;
        while j < e {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                j += 1;
                continue;
            }
            if c >= 0x80 {
                if is_special_utf8(b, j, e) {
                    // ’ inside a word is an apostrophe.
                    if b.get(j + 1) == Some(&0x80)
                        && b.get(j + 2) == Some(&0x99)
                        && j + 3 < e
                        && b[j + 3].is_ascii_alphabetic()
                    {
                        apostrophe = true;
                        j += 3;
                        continue;
                    }
                    break;
                }
                j += utf8_len(c).min(e - j);
                continue;
            }
            if c == b'\'' && j + 1 < e && b[j + 1].is_ascii_alphabetic() {
                apostrophe = true;
                j += 1;
                continue;
            }
            if (c == b'_' || c == b'.') && j + 1 < e && b[j + 1].is_ascii_alphanumeric() {
                j += 1;
                continue;
            }
            if c == b'@' && j + 1 < e && b[j + 1].is_ascii_alphanumeric() {
                // An e-mail address: a thing, not words.
                let mut k = j + 1;
                while k < e && (b[k].is_ascii_alphanumeric() || matches!(b[k], b'.' | b'-' | b'_'))
                {
                    k += 1;
                }
                self.push(i, k, Kind::Code, false, false, false);
                return k;
            }
            break;
        }
        // "engineers'" — a plural possessive.
        if j < e
            && b[j] == b'\''
            && j > i
            && b[j - 1] == b's'
            && (j + 1 >= e || !is_word_byte(b[j + 1]))
        {
            apostrophe = true;
            j += 1;
        }
        let joined = j + 1 < e && b[j] == b'-' && is_word_byte(b[j + 1]);
        self.push(i, j, Kind::Word, false, joined, apostrophe);
        if joined { j + 1 } else { j }
    }

    fn push(
        &mut self,
        start: usize,
        end: usize,
        kind: Kind,
        handle: bool,
        joined: bool,
        apostrophe: bool,
    ) {
        if !(self.text.is_char_boundary(start) && self.text.is_char_boundary(end)) || end < start {
            return;
        }
        if self.toks.len() >= MAX_SENTENCE {
            self.flush();
        }
        if kind == Kind::Word && self.section_headings == 0 && !self.place_heading {
            self.preamble_words += 1;
        }
        if kind == Kind::Word && !self.candidate && !handle {
            let w = &self.text[start..end];
            let plain = !apostrophe && w.is_ascii();
            if self
                .linter
                .anchors
                .is_candidate(w, self.toks.is_empty(), plain)
            {
                self.candidate = true;
            }
        }
        self.toks.push(RawTok {
            start,
            end,
            kind,
            handle,
            quoted: self.quote,
            joined,
            apostrophe,
        });
    }

    fn last_is_abbreviation(&self) -> bool {
        let Some(t) = self.toks.last() else {
            return false;
        };
        if t.kind != Kind::Word {
            return false;
        }
        let w = &self.text[t.start..t.end];
        if w.chars().count() == 1 && w.chars().all(char::is_uppercase) {
            return true;
        }
        lexicon::is_abbreviation(&w.to_ascii_lowercase())
    }

    fn end_sentence(&mut self) {
        self.flush();
    }

    /// Analyses the sentence so far (if it holds an anchor) and starts a new one.
    fn flush(&mut self) {
        if self.toks.is_empty() {
            return;
        }
        let place = Place {
            section: self.section,
            heading: self.place_heading,
            question_heading: self.place_question,
            action_title: self.pending_title,
        };
        self.pending_title = false;
        if self.candidate && !self.saturated && place.section.is_prose() {
            self.normalize();
            engine::analyze(
                self.linter,
                &self.ntoks,
                &self.norm,
                place,
                &self.participants,
                &mut self.raws,
            );
            if self.raws.len() > self.linter.c.settings.max_findings {
                self.saturated = true;
            }
        }
        self.toks.clear();
        self.candidate = false;
    }

    fn normalize(&mut self) {
        self.norm.clear();
        self.ntoks.clear();
        let text = self.text;
        for t in &self.toks {
            let raw = &text[t.start..t.end];
            let mut push = |norm: &mut String, word: &str, first: bool| {
                let a = norm.len();
                norm.push_str(word);
                let cap = first && raw.chars().next().is_some_and(char::is_uppercase);
                self.ntoks.push(Tok {
                    norm: (a as u32, norm.len() as u32),
                    kind: t.kind,
                    cap,
                    handle: t.handle,
                    quoted: t.quoted,
                    joined: t.joined,
                    initial: raw.len() == 1 && raw.bytes().all(|b| b.is_ascii_uppercase()),
                    has_digit: raw.bytes().any(|b| b.is_ascii_digit()),
                    start: t.start,
                    end: t.end,
                });
            };
            match t.kind {
                Kind::Code => push(&mut self.norm, "", false),
                Kind::Punct => {
                    let p = if raw.len() > 1 { "-" } else { raw };
                    push(&mut self.norm, p, false);
                }
                Kind::Word if t.handle || (raw.is_ascii() && !t.apostrophe) => {
                    let a = self.norm.len();
                    self.norm.push_str(raw);
                    self.norm[a..].make_ascii_lowercase();
                    let lower_end = self.norm.len();
                    self.ntoks.push(Tok {
                        norm: (a as u32, lower_end as u32),
                        kind: t.kind,
                        cap: raw.as_bytes().first().is_some_and(u8::is_ascii_uppercase),
                        handle: t.handle,
                        quoted: t.quoted,
                        joined: t.joined,
                        initial: raw.len() == 1 && raw.bytes().all(|b| b.is_ascii_uppercase()),
                        has_digit: raw.bytes().any(|b| b.is_ascii_digit()),
                        start: t.start,
                        end: t.end,
                    });
                }
                Kind::Word => {
                    self.parts.clear();
                    normalize_word(raw, &mut self.parts);
                    let parts = std::mem::take(&mut self.parts);
                    for (k, p) in parts.iter().enumerate() {
                        push(&mut self.norm, p, k == 0);
                    }
                    self.parts = parts;
                }
            }
        }
        // A document beyond 4 GiB would overflow the offsets: such sentences are dropped.
        if self.norm.len() > u32::MAX as usize {
            self.ntoks.clear();
        }
    }

    /// `<!-- debrief-lint: allow RULE… -->` (this line and the next), `off RULE…` / `on RULE…`
    /// (a region). No rule means every rule; `blame/*` means a family.
    fn directive(&mut self, body: &str) {
        let body = body.trim();
        let Some(rest) = strip_prefix_ci(body, "debrief-lint") else {
            return;
        };
        let rest = rest.trim_start().trim_start_matches(':').trim();
        let mut words = rest
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty());
        let Some(command) = words.next() else { return };
        let rules: Vec<String> = words
            .map(str::to_owned)
            .filter(|w| !matches!(w.as_str(), "*" | "all"))
            .collect();
        let line = self.line_no;
        match command.to_ascii_lowercase().as_str() {
            "allow" | "disable-line" | "ignore" => self.suppress.push(Suppress {
                from: line,
                to: line + 1,
                rules,
            }),
            "allow-next-line" | "disable-next-line" => self.suppress.push(Suppress {
                from: line + 1,
                to: line + 1,
                rules,
            }),
            "off" | "disable" => self.open_off.push((line, rules)),
            "on" | "enable" => {
                let open = std::mem::take(&mut self.open_off);
                for (from, r) in open {
                    if rules.is_empty() || rules == r {
                        self.suppress.push(Suppress {
                            from,
                            to: line,
                            rules: r,
                        });
                    } else {
                        self.open_off.push((from, r));
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Vec<Finding> {
        self.flush();
        for (from, rules) in std::mem::take(&mut self.open_off) {
            self.suppress.push(Suppress {
                from,
                to: usize::MAX,
                rules,
            });
        }
        let c = &self.linter.c;
        if self.fixed.is_none() {
            if self.preamble_words >= 15 {
                self.seen[Section::Summary.index()] = true;
            }
            let at = self.title.unwrap_or((0, 0));
            let at_section = if self.title.is_some() {
                Section::Title
            } else {
                Section::Other
            };
            let checks = structure::Checks::new(&c.actions);
            let verdicts: Vec<(bool, bool)> = self
                .actions
                .iter()
                .map(|item| checks.missing(self.text, item, &c.lex, &self.participants))
                .collect();
            for (ri, rule) in c.rules.iter().enumerate() {
                if !rule.enabled {
                    continue;
                }
                match rule.kind {
                    RuleKind::Requires(section) if !self.seen[section.index()] => {
                        self.raws.push(Raw {
                            rule: ri,
                            pattern: None,
                            level: rule.level,
                            start: at.0,
                            end: at.1,
                            section: at_section,
                        });
                    }
                    RuleKind::ActionOwner | RuleKind::ActionCheckIn => {
                        let owner = rule.kind == RuleKind::ActionOwner;
                        for (item, &(no_owner, no_date)) in self.actions.iter().zip(&verdicts) {
                            if (owner && no_owner) || (!owner && no_date) {
                                let (s, e) = item.first;
                                let (s, e) = trim_range(self.text, s, e);
                                self.raws.push(Raw {
                                    rule: ri,
                                    pattern: None,
                                    level: rule.level,
                                    start: s,
                                    end: e,
                                    section: Section::Actions,
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        self.raws.sort_by_key(|r| (r.start, r.end));
        finalize(self.linter, self.text, self.raws, self.suppress)
    }
}

fn finalize(
    linter: &Linter,
    text: &str,
    raws: Vec<Raw>,
    mut suppress: Vec<Suppress>,
) -> Vec<Finding> {
    let c = &linter.c;
    let max = c.settings.max_findings;
    suppress.sort_by_key(|s| s.from);
    let mut out = Vec::with_capacity(raws.len().min(max + 1));
    // A running position: line and column of `pos`.
    let (mut pos, mut line, mut col) = (0usize, 1usize, 1usize);
    let advance = |from: usize, to: usize, line: &mut usize, col: &mut usize| {
        let part = &text[from..to];
        match part.rfind('\n') {
            Some(last) => {
                *line += part.bytes().filter(|&b| b == b'\n').count();
                *col = part[last + 1..].chars().count() + 1;
            }
            None => *col += part.chars().count(),
        }
    };
    let mut truncated = false;
    for r in raws {
        let start = floor_char(text, r.start);
        let end = floor_char(text, r.end.max(start));
        if start < pos {
            // Not expected (raws are sorted); recount from the top.
            pos = 0;
            line = 1;
            col = 1;
        }
        advance(pos, start, &mut line, &mut col);
        pos = start;
        let rule = &c.rules[r.rule];
        let suppressed = suppress.iter().take_while(|s| s.from <= line).any(|s| {
            line <= s.to && (s.rules.is_empty() || s.rules.iter().any(|sel| selects(sel, &rule.id)))
        });
        if suppressed {
            continue;
        }
        if out.len() >= max {
            truncated = true;
            break;
        }
        let (mut end_line, mut end_col) = (line, col);
        advance(start, end, &mut end_line, &mut end_col);
        let matched = &text[start..end];
        let p = r.pattern.and_then(|i| rule.patterns.get(i));
        let message = p
            .and_then(|p| p.message.clone())
            .unwrap_or_else(|| rule.message.clone());
        let suggestion = p
            .and_then(|p| p.suggestion.clone())
            .unwrap_or_else(|| rule.suggestion.clone())
            .replace("{match}", &shorten(matched));
        out.push(Finding {
            rule: rule.id.clone(),
            level: r.level,
            line,
            column: col,
            end_line,
            end_column: end_col,
            range: start..end,
            section: r.section,
            matched: matched.to_owned(),
            message,
            suggestion,
        });
    }
    if truncated {
        out.push(Finding {
            rule: "lint/too-many-findings".to_owned(),
            level: Level::Hint,
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            range: 0..0,
            section: Section::Other,
            matched: String::new(),
            message: format!(
                "Only the first {max} findings are shown; the text has more (raise \
                 settings.max_findings to see them)."
            ),
            suggestion: String::new(),
        });
    }
    out
}

fn selects(selector: &str, id: &str) -> bool {
    match selector.strip_suffix("/*") {
        Some(family) => id.split_once('/').is_some_and(|(f, _)| f == family),
        None => selector == id,
    }
}

/// The matched text for a suggestion: one line, at most about 60 characters.
fn shorten(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= 60 {
        one
    } else {
        let cut: String = one.chars().take(57).collect();
        format!("{cut}…")
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn trim_range(text: &str, s: usize, e: usize) -> (usize, usize) {
    let t = &text[s..e];
    let lead = t.len() - t.trim_start().len();
    let trail = t.len() - t.trim_end().len();
    if lead + trail >= t.len() {
        (s, s)
    } else {
        (s + lead, e - trail)
    }
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn line_at(text: &str, pos: usize) -> &str {
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    &text[pos..end]
}

/// Columns of indentation (a tab counts 4) and the byte offset of the first other character.
fn indent_of(line: &str) -> (usize, usize) {
    let mut cols = 0;
    for (i, b) in line.bytes().enumerate() {
        match b {
            b' ' => cols += 1,
            b'\t' => cols += 4 - cols % 4,
            _ => return (cols, i),
        }
    }
    (cols, line.len())
}

fn substring_offset(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

fn is_thematic_break(line: &str) -> bool {
    let t = line.trim();
    let Some(c) = t.bytes().next() else {
        return false;
    };
    matches!(c, b'-' | b'*' | b'_')
        && t.bytes().filter(|&b| b == c).count() >= 3
        && t.bytes().all(|b| b == c || b == b' ' || b == b'\t')
}

/// The byte offset of a list item's content, if the line starts a list item.
fn list_marker(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let first = *b.first()?;
    if matches!(first, b'-' | b'*' | b'+') {
        return match b.get(1) {
            None => Some(1),
            Some(b' ' | b'\t') => Some(2),
            _ => None,
        };
    }
    let digits = b.iter().take_while(|x| x.is_ascii_digit()).count();
    if (1..=9).contains(&digits) && matches!(b.get(digits), Some(b'.' | b')')) {
        return match b.get(digits + 1) {
            None => Some(digits + 1),
            Some(b' ' | b'\t') => Some(digits + 2),
            _ => None,
        };
    }
    None
}

fn is_reference_definition(line: &str) -> bool {
    line.find("]:")
        .is_some_and(|i| !line[1..i].contains('[') && i > 1)
}

/// Cells of a table row `|a|b|`: byte ranges, split at `|` outside code spans and escapes.
fn split_cells(text: &str, s: usize, e: usize) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut cells = Vec::new();
    let mut i = s;
    if i < e && b[i] == b'|' {
        i += 1;
    }
    let mut start = i;
    let mut in_code = 0usize;
    while i < e {
        match b[i] {
            b'\\' => i += 1,
            b'`' => {
                let run = b[i..e].iter().take_while(|&&x| x == b'`').count();
                if in_code == 0 {
                    if find_backticks(b, i + run, e, run).is_some() {
                        in_code = run;
                    }
                } else if in_code == run {
                    in_code = 0;
                }
                i += run - 1;
            }
            b'|' if in_code == 0 => {
                cells.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < e && !text[start..e].trim().is_empty() {
        cells.push((start, e));
    }
    cells
}

fn find_backticks(b: &[u8], from: usize, e: usize, run: usize) -> Option<usize> {
    let mut i = from;
    while i < e {
        if b[i] == b'`' {
            let r = b[i..e].iter().take_while(|&&x| x == b'`').count();
            if r == run {
                return Some(i);
            }
            i += r;
        } else {
            i += 1;
        }
    }
    None
}

fn starts_url(s: &str) -> bool {
    let b = s.as_bytes();
    let ci = |p: &str| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    ci("http://") || ci("https://") || ci("ftp://") || ci("www.")
}

fn url_end(b: &[u8], s: usize, e: usize) -> usize {
    let mut i = s;
    let mut depth = 0i32;
    while i < e {
        match b[i] {
            b' ' | b'\t' | b'<' | b'>' | b'"' | b'|' => break,
            b'(' => depth += 1,
            b')' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    // Trailing punctuation belongs to the sentence.
    while i > s && matches!(b[i - 1], b'.' | b',' | b';' | b':' | b'!' | b'?') {
        i -= 1;
    }
    i
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Non-ASCII characters that separate words: general punctuation (quotes, dashes, spaces) and
/// the Latin-1 signs (no-break space, « »).
fn is_special_utf8(b: &[u8], i: usize, e: usize) -> bool {
    match b[i] {
        0xE2 => i + 1 < e && matches!(b[i + 1], 0x80 | 0x81),
        0xC2 => {
            i + 1 < e
                && (0x80..=0xBF).contains(&b[i + 1])
                && !matches!(b[i + 1], 0xAA | 0xB5 | 0xBA)
        }
        0xE3 => i + 2 < e && b[i + 1] == 0x80 && b[i + 2] <= 0x82,
        0xEF => i + 2 < e && b[i + 1] == 0xBB && b[i + 2] == 0xBF,
        _ => false,
    }
}

/// A heading that asks a question or is a template prompt.
fn is_question_heading(content: &str, norm: &str) -> bool {
    if content
        .trim_end()
        .trim_end_matches(['*', '_'])
        .ends_with('?')
    {
        return true;
    }
    let first = norm.split(' ').next().unwrap_or("");
    matches!(
        first,
        "what"
            | "how"
            | "where"
            | "when"
            | "why"
            | "who"
            | "which"
            | "did"
            | "do"
            | "does"
            | "is"
            | "are"
            | "was"
            | "were"
            | "could"
            | "should"
            | "would"
            | "can"
    ) || norm.contains(" could do differently")
        || norm.starts_with("could do differently")
}

/// The section a (normalized) heading names: `(section, exact)`. A heading names a section when
/// it is one of its names, or starts or ends with one ("Timeline (all times UTC)", "Customer
/// impact"); the longest name wins.
fn map_heading(
    aliases: &crate::lexicon::FastMap<Box<str>, Section>,
    norm: &str,
) -> (Option<Section>, bool) {
    if let Some(s) = aliases.get(norm) {
        return (Some(*s), true);
    }
    let mut best: Option<(usize, Section)> = None;
    for (p, _) in norm.match_indices(' ') {
        for part in [&norm[..p], &norm[p + 1..]] {
            if let Some(s) = aliases.get(part)
                && best.is_none_or(|(len, _)| part.len() > len)
            {
                best = Some((part.len(), *s));
            }
        }
    }
    (best.map(|(_, s)| s), false)
}

/// Names listed in the participants section (table "Name" column or list items) and @handles.
fn collect_participants(linter: &Linter, text: &str, out: &mut WordList) {
    let sections = &linter.c.aliases;
    // Most documents have no participants section: look at the headings first.
    let mut any = false;
    let mut pos = 0;
    while pos < text.len() {
        let line = line_at(text, pos);
        if let Some(content) = line.strip_prefix('#') {
            let norm = normalize_heading(content.trim_start_matches('#'));
            if map_heading(sections, &norm).0 == Some(Section::Participants) {
                any = true;
                break;
            }
        }
        pos += line.len() + 1;
    }
    if !any {
        return;
    }
    let mut in_section = false;
    let mut fence: Option<u8> = None;
    let mut name_col: Option<usize> = None;
    let mut header_seen = false;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(f) = fence {
            if t.as_bytes().first() == Some(&f)
                && t.starts_with(if f == b'`' { "```" } else { "~~~" })
            {
                fence = None;
            }
            continue;
        }
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = t.bytes().next();
            continue;
        }
        if t.starts_with('#') {
            let content = t.trim_start_matches('#');
            let norm = normalize_heading(content);
            in_section = map_heading(sections, &norm).0 == Some(Section::Participants);
            name_col = None;
            header_seen = false;
            continue;
        }
        if !in_section {
            continue;
        }
        if t.starts_with('|') {
            let cells: Vec<String> = split_cells(t, 0, t.len())
                .into_iter()
                .map(|(a, b)| t[a..b].trim().trim_matches(['*', '_', '`']).to_owned())
                .collect();
            if cells
                .iter()
                .all(|c| c.bytes().all(|b| matches!(b, b'-' | b':' | b' ')))
            {
                continue;
            }
            if !header_seen {
                header_seen = true;
                name_col = cells
                    .iter()
                    .position(|c| normalize_heading(c) == "name" || normalize_heading(c) == "who")
                    .or_else(|| cells.iter().position(|c| c != "#" && !c.is_empty()));
                continue;
            }
            if let Some(cell) = name_col.and_then(|i| cells.get(i)) {
                add_participant(out, cell);
            }
            continue;
        }
        if let Some(content) = list_marker(t) {
            let item = &t[content..];
            let cut = item
                .find(['(', ',', ':', '<', '['])
                .or_else(|| item.find(" - "))
                .or_else(|| item.find(" \u{2014} "))
                .unwrap_or(item.len());
            let name = item[..cut].trim().trim_matches(['*', '_', '`']);
            if name.split_whitespace().count() <= 4 {
                add_participant(out, name);
            }
        }
    }
}
