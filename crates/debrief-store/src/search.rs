//! What full-text search indexes, and how a person's query is read. Both adapters use these, so a
//! query means the same on SQLite (FTS5) and PostgreSQL (tsvector).

use debrief_core::{EventFields, LessonKind, ParseError, PostmortemFields};

/// The indexed text of one postmortem, in three weights: the title matters most, then the summary
/// and impact, then everything else (timeline text, accounts, factors, lessons, ideas, notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    pub title: String,
    pub summary: String,
    pub body: String,
}

impl SearchDocument {
    /// The document for a postmortem and its timeline. Hidden events are still indexed: hiding
    /// declutters the timeline view, it does not remove evidence.
    pub fn build<'a>(
        fields: &PostmortemFields,
        events: impl IntoIterator<Item = &'a EventFields>,
    ) -> SearchDocument {
        let mut body = String::new();
        let mut push = |s: &str| {
            if !s.is_empty() {
                body.push_str(s);
                body.push('\n');
            }
        };
        for e in events {
            push(e.description.as_str());
            push(&e.account.knew);
            push(&e.account.expected);
            push(&e.account.assumed);
            push(&e.differently);
            if let Some(actor) = &e.actor {
                push(actor.name.as_str());
            }
        }
        for f in &fields.factors {
            push(f.text.as_str());
        }
        for kind in LessonKind::ALL {
            for l in fields.lessons.of(*kind) {
                push(l.as_str());
            }
        }
        for i in &fields.ideas {
            push(i.text.as_str());
        }
        push(&fields.notes);
        push(&fields.customer_statement.reason);
        for s in fields.services.iter().chain(&fields.tags) {
            push(s.as_str());
        }
        let mut summary = fields.summary.clone();
        if !fields.impact.is_empty() {
            summary.push('\n');
            summary.push_str(&fields.impact);
        }
        SearchDocument {
            title: fields.title.to_string(),
            summary,
            body,
        }
    }
}

/// One thing the query asks for: a word or a quoted phrase. All terms must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    Word(String),
    Phrase(Vec<String>),
}

/// A parsed search query: words and "quoted phrases", all of which must match (words are matched
/// by stem, so `deploys` finds `deploy`). Punctuation is ignored, so no input is a syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<SearchTerm>,
}

/// Words too common to search for: PostgreSQL's English stop words, which its index leaves out.
/// Leaving them out of every query makes SQLite behave the same.
const STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

/// The words of `text` (runs of letters and digits) joined by single spaces: what both backends
/// index, so `api.example.com`, `10.0.0.1` or `/var/log/app.log` are found by their parts on
/// PostgreSQL as on SQLite.
pub fn plain_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Splits text into the words search knows: runs of letters and digits, less stop words.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

impl SearchQuery {
    /// Reads a query. A query with no words in it is refused.
    pub fn parse(input: &str) -> Result<SearchQuery, ParseError> {
        let mut terms = Vec::new();
        for (i, part) in input.split('"').enumerate() {
            let ws = words(part);
            if i % 2 == 1 {
                match ws.len() {
                    0 => {}
                    1 => terms.extend(ws.into_iter().map(SearchTerm::Word)),
                    _ => terms.push(SearchTerm::Phrase(ws)),
                }
            } else {
                terms.extend(ws.into_iter().map(SearchTerm::Word));
            }
        }
        terms.dedup();
        if terms.is_empty() {
            return Err(ParseError::new(
                "query",
                "type at least one word to search for (very common words such as \"the\" are ignored)",
            ));
        }
        if terms.len() > 32 {
            return Err(ParseError::new("query", "use at most 32 words"));
        }
        Ok(SearchQuery { terms })
    }

    pub fn terms(&self) -> &[SearchTerm] {
        &self.terms
    }

    /// The query as an FTS5 MATCH expression: every word and phrase quoted, joined by AND.
    pub fn to_fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| match t {
                SearchTerm::Word(w) => format!("\"{w}\""),
                SearchTerm::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The query as text for PostgreSQL's `websearch_to_tsquery`: words, and phrases in quotes.
    pub fn to_websearch(&self) -> String {
        self.terms
            .iter()
            .map(|t| match t {
                SearchTerm::Word(w) => w.clone(),
                SearchTerm::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl SearchQuery {
    /// The line of a result that best shows why it matched: the summary or timeline line with the
    /// most query words (matched by word start, so `expired` shows `expiry`), cut to about 160
    /// characters around the first match. Falls back to the summary's first line.
    pub fn snippet(&self, summary: &str, body: &str) -> String {
        let stems: Vec<String> = self
            .terms
            .iter()
            .flat_map(|t| match t {
                SearchTerm::Word(w) => vec![w.clone()],
                SearchTerm::Phrase(ws) => ws.clone(),
            })
            .map(|w| {
                let n = w.chars().count();
                let keep = if n > 4 { n - (n - 4).min(3) } else { n };
                w.chars().take(keep).collect()
            })
            .collect();
        let mut best: Option<(usize, &str)> = None;
        for line in summary.lines().chain(body.lines()) {
            let lower = line.to_lowercase();
            let score = stems.iter().filter(|s| lower.contains(s.as_str())).count();
            if score > 0 && best.is_none_or(|(b, _)| score > b) {
                best = Some((score, line));
            }
        }
        let line = match best {
            Some((_, line)) => line,
            None => summary.lines().next().unwrap_or_default(),
        };
        clip(line, &stems, 160)
    }
}

/// Cuts `line` to about `max` characters, keeping the first match of a stem in view.
fn clip(line: &str, stems: &[String], max: usize) -> String {
    let chars: Vec<char> = line.trim().chars().collect();
    if chars.len() <= max {
        return chars.into_iter().collect();
    }
    let lower: Vec<char> = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let first = stems
        .iter()
        .filter_map(|s| {
            let needle: Vec<char> = s.chars().collect();
            lower
                .windows(needle.len().max(1))
                .position(|w| w == needle.as_slice())
        })
        .min()
        .unwrap_or(0)
        .min(chars.len());
    let start = first
        .saturating_sub(40)
        .min(chars.len().saturating_sub(max));
    let end = (start + max).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_words_and_phrases_and_drop_syntax() {
        let q = SearchQuery::parse(r#"The disk full "connection pool exhausted" -x* OR"#)
            .expect("query");
        assert_eq!(
            q.to_fts5(),
            r#""disk" AND "full" AND "connection pool exhausted" AND "x""#
        );
        assert_eq!(
            q.to_websearch(),
            r#"disk full "connection pool exhausted" x"#
        );
        assert!(SearchQuery::parse(" \"\" *** ").is_err());
        assert!(SearchQuery::parse("the of and").is_err());
    }

    #[test]
    fn snippets_show_the_best_matching_line() {
        let q = SearchQuery::parse("expired certificates").expect("query");
        let body = "Alert fired\nThe certificate for api.example.com was renewed\nCertificate expired at midnight\n";
        assert_eq!(
            q.snippet("Checkout failed.", body),
            "Certificate expired at midnight"
        );
        let q = SearchQuery::parse("kubernetes").expect("query");
        assert_eq!(
            q.snippet("Checkout failed.\nSecond line", "nothing here"),
            "Checkout failed."
        );
        let long = format!("{} pool exhausted {}", "x".repeat(300), "y".repeat(300));
        let q = SearchQuery::parse("exhausted").expect("query");
        let s = q.snippet("", &long);
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("pool exhausted"),
            "{s}"
        );
        assert!(s.chars().count() <= 162);
    }
}
