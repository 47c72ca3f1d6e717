//! The pattern language of the rules file, and the matcher that runs a pattern over the tokens of
//! one sentence.
//!
//! A pattern is tokens separated by spaces: literal words (`should`), alternatives (`should|could`,
//! with `_` joining the words of a phrase: `no_one`), optional tokens (`not?`), word classes
//! (`{person}`, `{pp}`, or a list from `[words]`), a gap (`...`, up to six tokens), and the sentence
//! edges `^` and `$`. Matching is bounded: every attempt has a step budget, so no pattern and no
//! sentence can make the linter slow.

use crate::lexicon::{self, Ends, Lexicon};

/// How far `...` reaches.
pub(crate) const GAP: usize = 6;
/// Adverbs that may sit between two pattern tokens, at most.
const MAX_FILLERS: usize = 2;
/// Steps one match attempt may take before it gives up.
const BUDGET: u32 = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A person or a group speaking of itself ("we").
    Person,
    /// A person, not "we".
    Individual,
    /// A person, or "they"/"them".
    Agent,
    /// A word or code that does not start a mention of a person.
    NonPerson,
    /// A past participle used as a verb ("checked the", "rolled back"), not as an adjective.
    Pp,
    /// A past form: "-ed" or an irregular one.
    Verbed,
    Any,
    Number,
    /// A list from `[words]`, by index.
    List(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PTok {
    Start,
    End,
    Gap,
    Lit {
        alts: Vec<Vec<Box<str>>>,
        optional: bool,
    },
    Class {
        class: Class,
        optional: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) toks: Vec<PTok>,
    /// The token the pattern is looked up by: a required literal, its rarest one.
    pub(crate) anchor: usize,
    /// For each alternative of the anchor token, which of its words is looked up (the rarest).
    pub(crate) anchor_offsets: Vec<usize>,
}

/// Where in a phrase its rarest word is, and what looking it up costs.
fn rarest(words: &[Box<str>]) -> (usize, usize) {
    words
        .iter()
        .enumerate()
        .map(|(k, w)| (lexicon::lookup_cost(w), k))
        .min()
        .unwrap_or((50, 0))
}

/// Splits a word as written into normalized words: lower case, curly apostrophes straightened,
/// contractions expanded ("shouldn't" → "should", "not"; "Bob's" → "bob", "'s").
pub(crate) fn normalize_word(raw: &str, out: &mut Vec<Box<str>>) {
    let mut w = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\u{2019}' | '\u{2018}' | '`' => w.push('\''),
            c => w.extend(c.to_lowercase()),
        }
    }
    if w == "'s" {
        out.push("'s".into());
        return;
    }
    let w = w.trim_matches('\'');
    if w.is_empty() {
        return;
    }
    if w == "cannot" {
        out.push("can".into());
        out.push("not".into());
        return;
    }
    if let Some(base) = w.strip_suffix("n't") {
        let base = match base {
            "won" => "will",
            "shan" => "shall",
            "ain" => "is",
            "ca" => "can",
            b => b,
        };
        if !base.is_empty() {
            out.push(base.into());
        }
        out.push("not".into());
        return;
    }
    for (suffix, word) in [
        ("'ve", "have"),
        ("'re", "are"),
        ("'ll", "will"),
        ("'d", "would"),
        ("'m", "am"),
        ("'s", "'s"),
    ] {
        if let Some(base) = w.strip_suffix(suffix)
            && !base.is_empty()
            && !base.contains('\'')
        {
            out.push(base.into());
            out.push(word.into());
            return;
        }
    }
    if let Some(base) = w.strip_suffix("s'")
        && !base.is_empty()
    {
        out.push(format!("{base}s").into());
        out.push("'s".into());
        return;
    }
    out.push(w.into());
}

/// The normalized words of a phrase written in a pattern or a word list: `_`, `-` and spaces
/// separate words; punctuation characters are words of their own.
pub(crate) fn phrase_words(phrase: &str) -> Vec<Box<str>> {
    let mut out = Vec::new();
    if !phrase.is_empty()
        && phrase
            .chars()
            .all(|c| c.is_ascii_punctuation() && c != '\'')
    {
        for c in phrase.chars() {
            out.push(c.to_string().into());
        }
        return out;
    }
    for part in phrase.split(|c: char| c == '_' || c == '-' || c.is_whitespace()) {
        if part.is_empty() {
            continue;
        }
        if part.chars().all(|c| c.is_ascii_punctuation() && c != '\'') {
            for c in part.chars() {
                out.push(c.to_string().into());
            }
            continue;
        }
        normalize_word(part, &mut out);
    }
    out
}

fn is_punct_word(w: &str) -> bool {
    w.len() == 1 && w.bytes().all(|b| b.is_ascii_punctuation() && b != b'\'')
}

impl Pattern {
    /// Parses a pattern; `class` resolves a `{name}` to a class.
    pub(crate) fn parse(
        text: &str,
        class: &dyn Fn(&str) -> Option<Class>,
    ) -> Result<Pattern, String> {
        let pieces: Vec<&str> = text.split_whitespace().collect();
        if pieces.is_empty() {
            return Err("the pattern is empty".to_owned());
        }
        let mut toks = Vec::with_capacity(pieces.len());
        for (i, piece) in pieces.iter().enumerate() {
            let tok = match *piece {
                "^" if i == 0 => PTok::Start,
                "^" => return Err("`^` (start of sentence) can only come first".to_owned()),
                "$" if i + 1 == pieces.len() => PTok::End,
                "$" => return Err("`$` (end of sentence) can only come last".to_owned()),
                "..." => PTok::Gap,
                p if p.starts_with('{') => {
                    let (inner, optional) = if let Some(x) = p.strip_suffix("}?") {
                        (x, true)
                    } else if let Some(x) = p.strip_suffix('}') {
                        (x, false)
                    } else {
                        return Err(format!(
                            "`{p}`: a class is written `{{name}}` or `{{name}}?`"
                        ));
                    };
                    let (name, optional) = match inner[1..].strip_suffix('?') {
                        Some(n) => (n, true),
                        None => (&inner[1..], optional),
                    };
                    let c = class(name).ok_or_else(|| {
                        format!(
                            "unknown word class `{{{name}}}`: use person, individual, agent, \
                             nonperson, pp, verbed, any, number, or a list under [words]"
                        )
                    })?;
                    PTok::Class { class: c, optional }
                }
                p => {
                    let (body, optional) = match p.strip_suffix('?') {
                        Some(b) if !b.is_empty() => (b, true),
                        _ => (p, false),
                    };
                    let mut alts = Vec::new();
                    for alt in body.split('|') {
                        if alt.is_empty() {
                            return Err(format!("`{p}`: an empty alternative"));
                        }
                        if alt.contains(['{', '}']) {
                            return Err(format!(
                                "`{p}`: a class cannot be one of several alternatives"
                            ));
                        }
                        let words = phrase_words(alt);
                        if words.is_empty() {
                            return Err(format!("`{p}`: `{alt}` has no word in it"));
                        }
                        alts.push(words);
                    }
                    PTok::Lit { alts, optional }
                }
            };
            toks.push(tok);
        }
        let anchor = toks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t {
                PTok::Class {
                    class: Class::List(_),
                    optional: false,
                } => Some((usize::MAX, i)),
                PTok::Lit {
                    alts,
                    optional: false,
                } if alts.iter().all(|a| !is_punct_word(&a[0])) => {
                    let cost: usize = alts.iter().map(|a| rarest(a).0).sum();
                    Some((cost, i))
                }
                _ => None,
            })
            .min()
            .map(|(_, i)| i)
            .ok_or_else(|| {
                "a pattern needs at least one word that must be there (not optional, not a \
                 class, not punctuation)"
                    .to_owned()
            })?;
        let anchor_offsets = match &toks[anchor] {
            PTok::Lit { alts, .. } => alts.iter().map(|a| rarest(a).1).collect(),
            _ => Vec::new(),
        };
        Ok(Pattern {
            toks,
            anchor,
            anchor_offsets,
        })
    }

    /// Looks the pattern up by a required word list instead, when its words are rarer than the
    /// chosen literal's ("{judgments}" rather than "is|was|were|are").
    pub(crate) fn reanchor(&mut self, lex: &Lexicon) {
        let cost_of = |t: &PTok| -> Option<usize> {
            match t {
                PTok::Lit {
                    alts,
                    optional: false,
                } if alts.iter().all(|a| !is_punct_word(&a[0])) => {
                    Some(alts.iter().map(|a| rarest(a).0).sum())
                }
                PTok::Class {
                    class: Class::List(k),
                    optional: false,
                } => Some(
                    lex.list(*k)
                        .words()
                        .map(lexicon::lookup_cost)
                        .sum::<usize>()
                        .max(1),
                ),
                _ => None,
            }
        };
        if let Some((_, i)) = self
            .toks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| cost_of(t).map(|c| (c, i)))
            .min()
        {
            self.anchor = i;
            self.anchor_offsets = match &self.toks[i] {
                PTok::Lit { alts, .. } => alts.iter().map(|a| rarest(a).1).collect(),
                _ => Vec::new(),
            };
        }
    }

    /// The words the pattern is looked up by.
    pub(crate) fn anchor_words<'l>(&'l self, lex: &'l Lexicon) -> Vec<&'l str> {
        match &self.toks[self.anchor] {
            PTok::Lit { alts, .. } => alts
                .iter()
                .zip(&self.anchor_offsets)
                .map(|(a, &k)| &*a[k])
                .collect(),
            PTok::Class {
                class: Class::List(k),
                ..
            } => lex.list(*k).words().collect(),
            _ => Vec::new(),
        }
    }
}

/// What a token of a sentence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    Punct,
    /// Inline code or a URL: a thing, never a literal match.
    Code,
}

/// A normalized token of one sentence.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    /// Into the sentence's normalized text.
    pub(crate) norm: (u32, u32),
    pub(crate) kind: Kind,
    /// Written with a capital first letter.
    pub(crate) cap: bool,
    /// An @handle.
    pub(crate) handle: bool,
    /// Inside double quotes.
    pub(crate) quoted: bool,
    /// Joined to the next token by a hyphen ("on-call").
    pub(crate) joined: bool,
    /// A single capital letter, as in "Emil C.".
    pub(crate) initial: bool,
    pub(crate) has_digit: bool,
    /// Byte range in the document.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Who a mention of a person is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Individual,
    Group,
    Ambiguous,
}

/// Runs patterns over one sentence.
pub(crate) struct Matcher<'a> {
    pub(crate) toks: &'a [Tok],
    pub(crate) text: &'a str,
    pub(crate) lex: &'a Lexicon,
    /// Participants' names (lower case), single words and full names.
    pub(crate) participants: &'a lexicon::WordList,
    budget: std::cell::Cell<u32>,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(
        toks: &'a [Tok],
        text: &'a str,
        lex: &'a Lexicon,
        participants: &'a lexicon::WordList,
    ) -> Matcher<'a> {
        Matcher {
            toks,
            text,
            lex,
            participants,
            budget: std::cell::Cell::new(BUDGET),
        }
    }

    pub(crate) fn word(&self, i: usize) -> Option<&'a str> {
        let t = self.toks.get(i)?;
        Some(&self.text[t.norm.0 as usize..t.norm.1 as usize])
    }

    fn is_word(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == Kind::Word)
    }

    fn spend(&self) -> bool {
        let b = self.budget.get();
        if b == 0 {
            return false;
        }
        self.budget.set(b - 1);
        true
    }

    /// The pattern matched with its anchor at token `i`: the token range it covers.
    pub(crate) fn match_at(&self, p: &Pattern, i: usize) -> Option<(usize, usize)> {
        self.budget.set(BUDGET);
        if let PTok::Class { class, .. } = &p.toks[p.anchor] {
            for after in self.class_fwd(*class, i, false).iter() {
                let Some(end) = self.fwd(&p.toks[p.anchor + 1..], after, false) else {
                    continue;
                };
                let before = &p.toks[..p.anchor];
                let start = if before.is_empty() {
                    Some(i)
                } else {
                    self.bwd(before, i as isize - 1, false)
                };
                if let Some(start) = start {
                    return Some((start, end.max(after)));
                }
            }
            return None;
        }
        let PTok::Lit { alts, .. } = &p.toks[p.anchor] else {
            return None;
        };
        for (alt, &off) in alts.iter().zip(&p.anchor_offsets) {
            let Some(i) = i.checked_sub(off) else {
                continue;
            };
            if !self.lit_at(alt, i) {
                continue;
            }
            let after = i + alt.len();
            let Some(end) = self.fwd(&p.toks[p.anchor + 1..], after, false) else {
                continue;
            };
            let before = &p.toks[..p.anchor];
            let start = if before.is_empty() {
                Some(i)
            } else {
                self.bwd(before, i as isize - 1, false)
            };
            if let Some(start) = start {
                return Some((start, end.max(after)));
            }
        }
        None
    }

    /// Whether the pattern matches anywhere overlapping tokens `s..e`.
    pub(crate) fn overlaps(&self, p: &Pattern, s: usize, e: usize) -> bool {
        let from = s.saturating_sub(GAP + 4);
        for start in from..e.min(self.toks.len()) {
            self.budget.set(BUDGET);
            if let Some(end) = self.fwd(&p.toks, start, true) {
                let (a, b) = (start, end.max(start + 1));
                if a < e && s < b {
                    return true;
                }
            }
        }
        false
    }

    fn lit_at(&self, alt: &[Box<str>], i: usize) -> bool {
        alt.iter().enumerate().all(|(k, w)| {
            self.toks
                .get(i + k)
                .is_some_and(|t| t.kind != Kind::Code && self.word(i + k) == Some(&**w))
        })
    }

    fn lit_ending(&self, alt: &[Box<str>], i: isize) -> bool {
        let n = alt.len() as isize;
        i - n + 1 >= 0 && self.lit_at(alt, (i - n + 1) as usize)
    }

    /// Matches `p` forwards from token `i`; the end of the match.
    fn fwd(&self, p: &[PTok], i: usize, first: bool) -> Option<usize> {
        let Some((t, rest)) = p.split_first() else {
            return Some(i);
        };
        if !self.spend() {
            return None;
        }
        let mut j = i;
        let mut skipped = 0;
        loop {
            if let Some(end) = self.fwd_one(t, rest, j) {
                return Some(end);
            }
            let can_skip = !first
                && skipped < MAX_FILLERS
                && matches!(t, PTok::Lit { .. } | PTok::Class { .. })
                && self.is_word(j)
                && self.word(j).is_some_and(|w| self.lex.is_filler(w));
            if !can_skip {
                return None;
            }
            j += 1;
            skipped += 1;
        }
    }

    fn fwd_one(&self, t: &PTok, rest: &[PTok], j: usize) -> Option<usize> {
        let n = self.toks.len();
        match t {
            PTok::Start => (j == 0).then(|| self.fwd(rest, j, true)).flatten(),
            PTok::End => (j == n).then_some(j),
            PTok::Gap => (0..=GAP)
                .take_while(|k| j + k <= n)
                .find_map(|k| self.fwd(rest, j + k, true)),
            PTok::Lit { alts, optional } => {
                for alt in alts {
                    if self.lit_at(alt, j)
                        && let Some(end) = self.fwd(rest, j + alt.len(), false)
                    {
                        return Some(end);
                    }
                }
                if *optional {
                    self.fwd(rest, j, false)
                } else {
                    None
                }
            }
            PTok::Class { class, optional } => {
                let possessive_ok = matches!(rest.first(), Some(PTok::Lit { alts, .. })
                    if alts.iter().any(|a| &*a[0] == "'s"));
                for end in self.class_fwd(*class, j, possessive_ok).iter() {
                    if let Some(e) = self.fwd(rest, end, false) {
                        return Some(e);
                    }
                }
                if *optional {
                    self.fwd(rest, j, false)
                } else {
                    None
                }
            }
        }
    }

    /// Matches `p` backwards, its last token ending at token `i`; the start of the match.
    fn bwd(&self, p: &[PTok], i: isize, first: bool) -> Option<usize> {
        let Some((t, rest)) = p.split_last() else {
            return Some((i + 1) as usize);
        };
        if !self.spend() {
            return None;
        }
        let mut j = i;
        let mut skipped = 0;
        loop {
            if let Some(start) = self.bwd_one(t, rest, j) {
                return Some(start);
            }
            let can_skip = !first
                && skipped < MAX_FILLERS
                && j >= 0
                && matches!(t, PTok::Lit { .. } | PTok::Class { .. })
                && self.is_word(j as usize)
                && self.word(j as usize).is_some_and(|w| self.lex.is_filler(w));
            if !can_skip {
                return None;
            }
            j -= 1;
            skipped += 1;
        }
    }

    fn bwd_one(&self, t: &PTok, rest: &[PTok], j: isize) -> Option<usize> {
        match t {
            PTok::Start => (j == -1).then(|| self.bwd(rest, j, true)).flatten(),
            PTok::End => None,
            PTok::Gap => (0..=GAP as isize)
                .take_while(|k| j - k >= -1)
                .find_map(|k| self.bwd(rest, j - k, true)),
            PTok::Lit { alts, optional } => {
                for alt in alts {
                    if self.lit_ending(alt, j)
                        && let Some(s) = self.bwd(rest, j - alt.len() as isize, false)
                    {
                        return Some(s);
                    }
                }
                if *optional {
                    self.bwd(rest, j, false)
                } else {
                    None
                }
            }
            PTok::Class { class, optional } => {
                if j >= 0 {
                    for start in self.class_bwd(*class, j as usize).iter() {
                        if let Some(s) = self.bwd(rest, start as isize - 1, false) {
                            return Some(s);
                        }
                    }
                }
                if *optional {
                    self.bwd(rest, j, false)
                } else {
                    None
                }
            }
        }
    }

    /// The ends of the ways `class` matches starting at token `j`.
    fn class_fwd(&self, class: Class, j: usize, possessive_ok: bool) -> Ends {
        let Some(t) = self.toks.get(j) else {
            return Ends::default();
        };
        let w = self.word(j).unwrap_or("");
        let one = |ok: bool| {
            if ok {
                Ends::one(j + 1)
            } else {
                Ends::default()
            }
        };
        match class {
            Class::Any => one(t.kind != Kind::Punct),
            Class::Number => one(t.has_digit),
            Class::Verbed => one(t.kind == Kind::Word && self.lex.is_verbed(w)),
            Class::Pp if self.is_prefix(j) => {
                if self.is_pp(j + 1) {
                    Ends::one(j + 2)
                } else {
                    Ends::default()
                }
            }
            Class::Pp => one(self.is_pp(j)),
            Class::List(k) => {
                if t.kind != Kind::Word {
                    return Ends::default();
                }
                let lens = self.lex.list(k).lengths_at(w, |off| {
                    self.toks
                        .get(j + off)
                        .filter(|t| t.kind == Kind::Word)
                        .and_then(|_| self.word(j + off))
                });
                let mut out = Ends::default();
                for len in lens.iter() {
                    out.push(j + len);
                }
                out
            }
            Class::NonPerson => one(t.kind != Kind::Punct && self.person_fwd(j).is_none()),
            Class::Person | Class::Individual | Class::Agent => match self.person_fwd(j) {
                Some((end, who, possessive)) if accepts(class, who) => {
                    if possessive && !possessive_ok {
                        Ends::default()
                    } else {
                        Ends::one(end)
                    }
                }
                _ => Ends::default(),
            },
        }
    }

    /// The starts of the ways `class` matches ending at token `i`.
    fn class_bwd(&self, class: Class, i: usize) -> Ends {
        let Some(t) = self.toks.get(i) else {
            return Ends::default();
        };
        let w = self.word(i).unwrap_or("");
        let one = |ok: bool| if ok { Ends::one(i) } else { Ends::default() };
        match class {
            Class::Any => one(t.kind != Kind::Punct),
            Class::Number => one(t.has_digit),
            Class::Verbed => one(t.kind == Kind::Word && self.lex.is_verbed(w)),
            Class::Pp => {
                if !self.is_pp(i) {
                    Ends::default()
                } else if i > 0 && self.is_prefix(i - 1) {
                    Ends::one(i - 1)
                } else {
                    Ends::one(i)
                }
            }
            Class::List(k) => {
                if t.kind != Kind::Word {
                    return Ends::default();
                }
                let lens = self.lex.list(k).lengths_ending(|off| {
                    i.checked_sub(off)
                        .filter(|&x| self.is_word(x))
                        .and_then(|x| self.word(x))
                });
                let mut out = Ends::default();
                for len in lens.iter() {
                    out.push(i + 1 - len);
                }
                out
            }
            Class::NonPerson => one(t.kind != Kind::Punct && self.person_bwd(i).is_none()),
            Class::Person | Class::Individual | Class::Agent => match self.person_bwd(i) {
                Some((start, who)) if accepts(class, who) => Ends::one(start),
                _ => Ends::default(),
            },
        }
    }

    /// A prefix joined by a hyphen to the word after it: "re-enabled", "double-checked".
    fn is_prefix(&self, j: usize) -> bool {
        self.toks.get(j).is_some_and(|t| t.joined)
            && matches!(
                self.word(j),
                Some(
                    "re" | "pre"
                        | "un"
                        | "de"
                        | "mis"
                        | "over"
                        | "under"
                        | "co"
                        | "double"
                        | "triple"
                        | "cross"
                        | "auto"
                        | "self"
                        | "hand"
                        | "hot"
                        | "cold"
                )
            )
    }

    /// A past participle used as a verb: an irregular one, or an "-ed" word not followed by a
    /// noun it would modify ("should have automated alerting" is a recommendation).
    fn is_pp(&self, j: usize) -> bool {
        let Some(t) = self.toks.get(j) else {
            return false;
        };
        if t.kind != Kind::Word || t.joined {
            return false;
        }
        let w = self.word(j).unwrap_or("");
        if self.lex.has(self.lex.verbed, w) {
            return true;
        }
        if !self.lex.is_verbed(w) {
            return false;
        }
        match self.toks.get(j + 1) {
            None => true,
            Some(next) => match next.kind {
                Kind::Punct | Kind::Code => true,
                Kind::Word => {
                    let nw = self.word(j + 1).unwrap_or("");
                    !next.joined
                        && (lexicon::is_function_word(nw)
                            || (nw.ends_with("ly") && nw.len() >= 4)
                            || next.has_digit)
                }
            },
        }
    }

    fn is_name(&self, i: usize) -> bool {
        let Some(t) = self.toks.get(i) else {
            return false;
        };
        if t.kind != Kind::Word || !t.cap || t.initial {
            return false;
        }
        let w = self.word(i).unwrap_or("");
        if self.lex.has(self.lex.tech, w) {
            return false;
        }
        if i > 0 && self.word(i - 1).is_some_and(lexicon::blocks_name) {
            return false;
        }
        if self.participants.contains(w) || self.lex.has(self.lex.names, w) {
            return true;
        }
        // "Emil C." — a capitalised word and an initial.
        self.toks.get(i + 1).is_some_and(|n| n.initial) && w.bytes().all(|b| b.is_ascii_lowercase())
    }

    /// A one-word mention of a person at `i`.
    fn head(&self, i: usize) -> Option<Who> {
        let t = self.toks.get(i)?;
        if t.kind != Kind::Word {
            return None;
        }
        if t.handle {
            return Some(Who::Individual);
        }
        let w = self.word(i)?;
        if self.lex.has(self.lex.group_pronouns, w) {
            return Some(Who::Group);
        }
        if self.lex.has(self.lex.people_pronouns, w) {
            return Some(Who::Individual);
        }
        if self.lex.has(self.lex.ambiguous_pronouns, w) {
            return Some(Who::Ambiguous);
        }
        if self.is_name(i) {
            return Some(Who::Individual);
        }
        None
    }

    /// A capitalised word inside a sentence that names a system ("Teams", "Vault").
    fn is_tech_name(&self, i: usize) -> bool {
        i > 0
            && self.toks.get(i).is_some_and(|t| t.cap)
            && self.word(i).is_some_and(|w| self.lex.has(self.lex.tech, w))
    }

    /// The length of a role noun ("engineer", "on call") starting at `j`.
    fn role_at(&self, j: usize) -> Option<usize> {
        let w = self.word(j)?;
        if !self.is_word(j) || self.is_tech_name(j) {
            return None;
        }
        self.lex
            .list(self.lex.roles)
            .lengths_at(w, |off| {
                self.toks
                    .get(j + off)
                    .filter(|t| t.kind == Kind::Word)
                    .and_then(|_| self.word(j + off))
            })
            .max()
    }

    /// A mention of a person starting at `j`: its end, who, and whether it is possessive
    /// ("Bob's change").
    fn person_fwd(&self, j: usize) -> Option<(usize, Who, bool)> {
        let possessive = |end: usize| self.word(end) == Some("'s");
        // "her" before a noun is a determiner: "due to her change".
        let w = self.word(j)?;
        if let Some(who) = self.head(j) {
            let determiner_like = w == "her"
                && self.toks.get(j + 1).is_some_and(|t| t.kind == Kind::Word)
                && self
                    .word(j + 1)
                    .is_some_and(|n| !lexicon::is_function_word(n));
            if !determiner_like {
                let mut end = j + 1;
                // Full names: "Alice Smith", "Emil C".
                if who == Who::Individual && self.toks[j].cap && !self.toks[j].handle {
                    while end < j + 3
                        && self.toks.get(end).is_some_and(|t| {
                            t.kind == Kind::Word && t.cap && (t.initial || self.is_name(end))
                        })
                    {
                        end += 1;
                    }
                    if let Some(len) = self
                        .participants
                        .lengths_at(w, |off| self.word(j + off))
                        .max()
                    {
                        end = end.max(j + len);
                    }
                }
                return Some((end, who, possessive(end)));
            }
        }
        // [determiner] [up to three modifiers] role-noun [role-noun…] ["on call"]
        let mut k = j;
        if self.lex.has(self.lex.determiners, w) && self.is_word(j) {
            k += 1;
        }
        for m in k..k + 4 {
            let t = self.toks.get(m)?;
            if t.kind != Kind::Word {
                return None;
            }
            if let Some(len) = self.role_at(m) {
                let mut end = m + len;
                while let Some(more) = self.role_at(end) {
                    end += more;
                }
                // "human error", "operator mistake": a compound noun, not a person.
                if matches!(
                    self.word(end),
                    Some(
                        "error"
                            | "errors"
                            | "mistake"
                            | "mistakes"
                            | "failure"
                            | "failures"
                            | "factor"
                            | "factors"
                    )
                ) {
                    return None;
                }
                if self.word(end) == Some("on")
                    && matches!(self.word(end + 1), Some("call" | "duty" | "shift"))
                {
                    end += 2;
                }
                return Some((end, Who::Individual, possessive(end)));
            }
            let mw = self.word(m)?;
            if lexicon::is_function_word(mw) || self.lex.is_verbed(mw) {
                return None;
            }
        }
        None
    }

    /// A mention of a person ending at `i`, in subject position: its start and who. A noun right
    /// after a preposition is not a subject ("alerts for the on-call engineer failed to fire").
    fn person_bwd(&self, i: usize) -> Option<(usize, Who)> {
        let mut k = i;
        if matches!(self.word(k), Some("call" | "duty" | "shift"))
            && k >= 2
            && self.word(k - 1) == Some("on")
            && self.role_ending(k - 2).is_some()
        {
            k -= 2;
        }
        let (start, who) = if let Some(who) = self.head(k) {
            let mut s = k;
            // "Alice Smith", "Emil C"
            while s > 0 && self.toks[s].cap && self.is_name(s - 1) {
                s -= 1;
            }
            if who == Who::Individual && self.toks[k].initial {
                return None;
            }
            (s, who)
        } else if self.toks[k].initial && k > 0 && self.toks[k - 1].cap && self.is_word(k - 1) {
            (k - 1, Who::Individual)
        } else if self.toks[k].cap && k > 0 && self.is_name(k - 1) {
            // "Alice Smith": a surname after a known first name.
            (k - 1, Who::Individual)
        } else {
            let len = self.role_ending(k)?;
            let mut s = k + 1 - len;
            // modifiers and a determiner before the role noun
            let mut mods = 0;
            while s > 0 && mods < 3 {
                let p = s - 1;
                let Some(pw) = self.word(p) else { break };
                if !self.is_word(p) {
                    break;
                }
                if self.toks[p].joined {
                    // "on-call engineer", "first-time deployer"
                    s = p;
                    continue;
                }
                if self.lex.has(self.lex.determiners, pw) {
                    s = p;
                    break;
                }
                if lexicon::is_function_word(pw) || self.lex.is_verbed(pw) {
                    break;
                }
                s = p;
                mods += 1;
            }
            (s, Who::Individual)
        };
        if start > 0 && self.word(start - 1).is_some_and(lexicon::is_preposition) {
            return None;
        }
        if start > 0 && self.word(start - 1) == Some("'s") {
            return None;
        }
        Some((start, who))
    }

    fn role_ending(&self, i: usize) -> Option<usize> {
        if self.is_tech_name(i) {
            return None;
        }
        self.lex
            .list(self.lex.roles)
            .lengths_ending(|off| {
                i.checked_sub(off)
                    .filter(|&x| self.is_word(x))
                    .and_then(|x| self.word(x))
            })
            .max()
    }
}

fn accepts(class: Class, who: Who) -> bool {
    match class {
        Class::Person => who != Who::Ambiguous,
        Class::Individual => who == Who::Individual,
        Class::Agent => true,
        _ => false,
    }
}
