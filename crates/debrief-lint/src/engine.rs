//! Running the phrase rules over one sentence: find the anchor words, match the patterns around
//! them, drop what an exception or the allow-list covers, and keep one finding per rule and place.

use crate::config::{Compiled, RuleKind};
use crate::lexicon::{FastMap, WordList};
use crate::pattern::{Kind, Matcher, Tok, normalize_word};
use crate::{Level, Linter, Section};

/// The words patterns are looked up by, with a cheap first test on a word's first byte and
/// length, so most words of a text cost one table read.
#[derive(Debug, Clone)]
pub(crate) struct Anchors {
    map: FastMap<Box<str>, Vec<(u16, u16)>>,
    /// Anchor words all of whose patterns start the sentence with them ("^ who …"): they make a
    /// sentence a candidate only as its first word.
    initial_only: FastMap<Box<str>, bool>,
    /// A Bloom-style bit set over (first two bytes, length) of the anchor words: most words of
    /// a text are ruled out by one bit test.
    prefilter: Vec<u64>,
}

const FILTER_BITS: usize = 1 << 16;

/// The filter bit of a lower-case ASCII word.
fn filter_bit(first: u8, second: u8, len: usize) -> usize {
    let key = (u32::from(first) << 16) | (u32::from(second) << 8) | (len.min(255) as u32);
    (key.wrapping_mul(0x9e37_79b1) >> 16) as usize % FILTER_BITS
}

impl Default for Anchors {
    fn default() -> Anchors {
        Anchors {
            map: FastMap::default(),
            initial_only: FastMap::default(),
            prefilter: vec![0; FILTER_BITS / 64],
        }
    }
}

impl Anchors {
    pub(crate) fn build(c: &Compiled) -> Anchors {
        let mut a = Anchors::default();
        for (ri, rule) in c.rules.iter().enumerate() {
            if !rule.enabled || !matches!(rule.kind, RuleKind::Phrases | RuleKind::ActionTitle) {
                continue;
            }
            for (pi, p) in rule.patterns.iter().enumerate() {
                for w in p.pattern.anchor_words(&c.lex) {
                    let (Ok(r), Ok(pi)) = (u16::try_from(ri), u16::try_from(pi)) else {
                        continue;
                    };
                    a.map.entry(w.into()).or_default().push((r, pi));
                    let initial = p.pattern.anchor == 1
                        && matches!(p.pattern.toks.first(), Some(crate::pattern::PTok::Start))
                        && p.pattern.anchor_words(&c.lex).len() == p.pattern.anchor_offsets.len()
                        && p.pattern.anchor_offsets.iter().all(|&o| o == 0);
                    let e = a.initial_only.entry(w.into()).or_insert(true);
                    *e = *e && initial;
                    let b = w.as_bytes();
                    let bit = filter_bit(b[0], b.get(1).copied().unwrap_or(0), b.len());
                    a.prefilter[bit / 64] |= 1u64 << (bit % 64);
                }
            }
        }
        a
    }

    /// The anchor words, for diagnostics.
    pub(crate) fn words(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    pub(crate) fn get(&self, word: &str) -> Option<&[(u16, u16)]> {
        let b = word.as_bytes();
        if let Some(&first) = b.first()
            && first.is_ascii()
        {
            let bit = filter_bit(first, b.get(1).copied().unwrap_or(0), b.len());
            if self.prefilter[bit / 64] & (1u64 << (bit % 64)) == 0 {
                return None;
            }
        }
        self.map.get(word).map(Vec::as_slice)
    }

    /// Whether a word as written may start a match; `first` when it is the sentence's first.
    /// `plain`: the word is ASCII without an apostrophe (the tokenizer knows).
    pub(crate) fn is_candidate(&self, raw: &str, first: bool, plain: bool) -> bool {
        let ok = |w: &str| {
            self.map.contains_key(w)
                && (first || !self.initial_only.get(w).copied().unwrap_or(false))
        };
        let b = raw.as_bytes();
        let n = b.len();
        if n == 0 {
            return false;
        }
        if n < 64 && plain {
            let bit = filter_bit(
                b[0].to_ascii_lowercase(),
                b.get(1).map_or(0, u8::to_ascii_lowercase),
                n,
            );
            if self.prefilter[bit / 64] & (1u64 << (bit % 64)) == 0 {
                return false;
            }
            let mut buf = [0u8; 64];
            for (d, s) in buf.iter_mut().zip(b) {
                *d = s.to_ascii_lowercase();
            }
            // ASCII lowered stays ASCII: valid UTF-8.
            return std::str::from_utf8(&buf[..n]).is_ok_and(ok);
        }
        let mut parts = Vec::new();
        normalize_word(raw, &mut parts);
        parts.iter().any(|p| ok(p))
    }
}

/// Where a sentence is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub(crate) section: Section,
    pub(crate) heading: bool,
    /// A heading that asks a question or is a template prompt ("What could we have done
    /// differently?"): only rules that ask for it run there.
    pub(crate) question_heading: bool,
    /// The title of an action item.
    pub(crate) action_title: bool,
}

/// A finding before it is placed in lines and columns.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub(crate) rule: usize,
    pub(crate) pattern: Option<usize>,
    pub(crate) level: Level,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) section: Section,
}

struct Candidate {
    rule: usize,
    pattern: usize,
    level: Level,
    s: usize,
    e: usize,
}

/// Runs the phrase rules over one sentence's tokens.
pub(crate) fn analyze(
    linter: &Linter,
    toks: &[Tok],
    norm: &str,
    place: Place,
    participants: &WordList,
    out: &mut Vec<Raw>,
) {
    let c = &linter.c;
    let m = Matcher::new(toks, norm, &c.lex, participants);
    let measurable = place.action_title
        && (toks.iter().any(|t| t.has_digit)
            || (0..toks.len()).any(|i| {
                matches!(m.word(i), Some("until" | "when" | "whenever"))
                    || (m.word(i) == Some("so") && m.word(i + 1) == Some("that"))
            }));
    let mut found: Vec<Candidate> = Vec::new();
    for i in 0..toks.len() {
        if toks[i].kind != Kind::Word {
            continue;
        }
        let Some(word) = m.word(i) else { continue };
        let Some(list) = linter.anchors.get(word) else {
            continue;
        };
        for &(ri, pi) in list {
            let (ri, pi) = (usize::from(ri), usize::from(pi));
            let rule = &c.rules[ri];
            let p = &rule.patterns[pi];
            match rule.kind {
                RuleKind::Phrases => {}
                RuleKind::ActionTitle if place.action_title && !measurable => {}
                _ => continue,
            }
            if place.question_heading && !rule.in_question_headings {
                continue;
            }
            if p.only_headings && !place.heading {
                continue;
            }
            if let Some(sections) = &p.sections
                && !sections.contains(&place.section)
            {
                continue;
            }
            if p.not_sections.contains(&place.section) {
                continue;
            }
            let Some((s, e)) = m.match_at(&p.pattern, i) else {
                continue;
            };
            if e <= s {
                continue;
            }
            if c.settings.skip_quoted && toks[s..e].iter().any(|t| t.quoted) {
                continue;
            }
            if p.excepts.iter().any(|x| m.overlaps(x, s, e)) {
                continue;
            }
            if c.allow.iter().any(|x| m.overlaps(x, s, e)) {
                continue;
            }
            let level = if rule.level_forced {
                rule.level
            } else {
                p.level.unwrap_or(rule.level)
            };
            found.push(Candidate {
                rule: ri,
                pattern: pi,
                level,
                s,
                e,
            });
        }
    }
    if found.is_empty() {
        return;
    }
    // One finding per rule and place: the highest level, then the longest.
    found.sort_by(|a, b| a.rule.cmp(&b.rule).then(a.s.cmp(&b.s)));
    let mut kept: Vec<Candidate> = Vec::with_capacity(found.len());
    for cand in found {
        if let Some(last) = kept.last_mut()
            && last.rule == cand.rule
            && cand.s < last.e
        {
            let better = cand.level > last.level
                || (cand.level == last.level && cand.e - cand.s > last.e - last.s);
            if better {
                *last = cand;
            }
            continue;
        }
        kept.push(cand);
    }
    // A rule may subsume another where both found the same words.
    let subsumed: Vec<bool> = kept
        .iter()
        .map(|a| {
            kept.iter().any(|b| {
                b.rule != a.rule
                    && c.rules[b.rule].subsumes.contains(&a.rule)
                    && a.s < b.e
                    && b.s < a.e
            })
        })
        .collect();
    for (cand, gone) in kept.into_iter().zip(subsumed) {
        if gone {
            continue;
        }
        out.push(Raw {
            rule: cand.rule,
            pattern: Some(cand.pattern),
            level: cand.level,
            start: toks[cand.s].start,
            end: toks[cand.e - 1].end,
            section: place.section,
        });
    }
}
