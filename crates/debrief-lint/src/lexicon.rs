//! Word lists: the ones rules name as classes (from `[words]` in the rules file) and the closed
//! class of English function words the matcher needs to tell a verb from a noun.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast, non-cryptographic hasher for short words (the inputs are ours or the user's
/// config; nothing here is exposed to untrusted keys in a way that matters for flooding: the
/// tables are built once, from the config).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        self.0 = h;
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;
pub(crate) type FastSet<K> = HashSet<K, BuildHasherDefault<WordHasher>>;

/// A few token positions (the ends or starts of the ways something matches), without a heap
/// allocation: the matcher asks for them at every step.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ends {
    n: u8,
    v: [usize; 4],
}

impl Ends {
    pub(crate) fn one(x: usize) -> Ends {
        let mut e = Ends::default();
        e.push(x);
        e
    }

    pub(crate) fn push(&mut self, x: usize) {
        if usize::from(self.n) < self.v.len() {
            self.v[usize::from(self.n)] = x;
            self.n += 1;
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.v[..usize::from(self.n)].iter().copied()
    }

    pub(crate) fn max(&self) -> Option<usize> {
        self.iter().max()
    }
}

/// A list of words and phrases (a phrase is several normalized words).
#[derive(Debug, Clone, Default)]
pub(crate) struct WordList {
    single: FastSet<Box<str>>,
    /// Phrases of two or more words, by their first word.
    multi: FastMap<Box<str>, Vec<Vec<Box<str>>>>,
    /// The same phrases, by their last word.
    multi_last: FastMap<Box<str>, Vec<Vec<Box<str>>>>,
}

impl WordList {
    pub(crate) fn add(&mut self, words: Vec<Box<str>>) {
        match words.len() {
            0 => {}
            1 => {
                if let Some(w) = words.into_iter().next() {
                    self.single.insert(w);
                }
            }
            n => {
                let first = words[0].clone();
                let last = words[n - 1].clone();
                self.multi_last.entry(last).or_default().push(words.clone());
                self.multi.entry(first).or_default().push(words);
            }
        }
    }

    pub(crate) fn contains(&self, word: &str) -> bool {
        self.single.contains(word)
    }

    /// The words an entry of the list can start with.
    pub(crate) fn words(&self) -> impl Iterator<Item = &str> {
        self.single.iter().chain(self.multi.keys()).map(|w| &**w)
    }

    /// The lengths of the entries (single words and phrases) that match starting at `first`
    /// (`word_at(k)` is the k-th word after it).
    pub(crate) fn lengths_at<'a, F>(&self, first: &str, word_at: F) -> Ends
    where
        F: Fn(usize) -> Option<&'a str>,
    {
        let mut out = Ends::default();
        if self.single.contains(first) {
            out.push(1);
        }
        if let Some(phrases) = self.multi.get(first) {
            for p in phrases {
                if p.iter()
                    .enumerate()
                    .skip(1)
                    .all(|(k, w)| word_at(k) == Some(&**w))
                {
                    out.push(p.len());
                }
            }
        }
        out
    }

    /// The lengths of the entries that end at the word `word_at(0)`, reading backwards
    /// (`word_at(k)` is the k-th word before it).
    pub(crate) fn lengths_ending<'a, F>(&self, word_at: F) -> Ends
    where
        F: Fn(usize) -> Option<&'a str>,
    {
        let mut out = Ends::default();
        let Some(last) = word_at(0) else { return out };
        if self.single.contains(last) {
            out.push(1);
        }
        if let Some(phrases) = self.multi_last.get(last) {
            for p in phrases {
                let n = p.len();
                if p.iter()
                    .enumerate()
                    .all(|(k, w)| word_at(n - 1 - k) == Some(&**w))
                {
                    out.push(n);
                }
            }
        }
        out
    }
}

/// The lists the matcher uses, by name, plus the fixed function words.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lexicon {
    pub(crate) lists: Vec<(String, WordList)>,
    pub(crate) roles: usize,
    pub(crate) people_pronouns: usize,
    pub(crate) group_pronouns: usize,
    pub(crate) ambiguous_pronouns: usize,
    pub(crate) determiners: usize,
    pub(crate) names: usize,
    pub(crate) tech: usize,
    pub(crate) fillers: usize,
    pub(crate) not_fillers: usize,
    pub(crate) verbed: usize,
}

/// The lists the code relies on; the rules file must define them (it may leave them empty).
pub(crate) const REQUIRED_LISTS: [&str; 10] = [
    "roles",
    "people_pronouns",
    "group_pronouns",
    "ambiguous_pronouns",
    "determiners",
    "names",
    "tech",
    "fillers",
    "not_fillers",
    "verbed",
];

impl Lexicon {
    pub(crate) fn new(lists: Vec<(String, WordList)>) -> Lexicon {
        let mut lex = Lexicon {
            lists,
            ..Lexicon::default()
        };
        for name in REQUIRED_LISTS {
            if lex.index(name).is_none() {
                lex.lists.push((name.to_owned(), WordList::default()));
            }
        }
        let at = |lex: &Lexicon, name: &str| lex.index(name).unwrap_or(0);
        lex.roles = at(&lex, "roles");
        lex.people_pronouns = at(&lex, "people_pronouns");
        lex.group_pronouns = at(&lex, "group_pronouns");
        lex.ambiguous_pronouns = at(&lex, "ambiguous_pronouns");
        lex.determiners = at(&lex, "determiners");
        lex.names = at(&lex, "names");
        lex.tech = at(&lex, "tech");
        lex.fillers = at(&lex, "fillers");
        lex.not_fillers = at(&lex, "not_fillers");
        lex.verbed = at(&lex, "verbed");
        lex
    }

    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.lists.iter().position(|(n, _)| n == name)
    }

    pub(crate) fn list(&self, i: usize) -> &WordList {
        &self.lists[i].1
    }

    pub(crate) fn has(&self, list: usize, word: &str) -> bool {
        self.lists[list].1.contains(word)
    }

    /// A word that may sit between two pattern tokens.
    pub(crate) fn is_filler(&self, word: &str) -> bool {
        if self.has(self.fillers, word) {
            return true;
        }
        word.len() >= 5
            && word.ends_with("ly")
            && word.bytes().all(|b| b.is_ascii_lowercase())
            && !self.has(self.not_fillers, word)
    }

    pub(crate) fn is_verbed(&self, word: &str) -> bool {
        (word.len() >= 4 && word.ends_with("ed") && word.bytes().all(|b| b.is_ascii_alphabetic()))
            || self.has(self.verbed, word)
    }
}

/// Closed-class words: after a past participle they show it is a verb ("checked the config",
/// "rolled back", "paged sooner"), not an adjective before a noun ("automated alerting").
pub(crate) fn is_function_word(word: &str) -> bool {
    matches!(
        word,
        "the"
            | "a"
            | "an"
            | "our"
            | "their"
            | "his"
            | "her"
            | "my"
            | "your"
            | "its"
            | "this"
            | "that"
            | "these"
            | "those"
            | "it"
            | "them"
            | "him"
            | "us"
            | "me"
            | "you"
            | "we"
            | "they"
            | "he"
            | "she"
            | "i"
            | "someone"
            | "somebody"
            | "anyone"
            | "anybody"
            | "everyone"
            | "everything"
            | "something"
            | "anything"
            | "nothing"
            | "there"
            | "here"
            | "to"
            | "of"
            | "in"
            | "on"
            | "at"
            | "by"
            | "for"
            | "with"
            | "from"
            | "into"
            | "onto"
            | "about"
            | "after"
            | "before"
            | "during"
            | "until"
            | "since"
            | "through"
            | "over"
            | "under"
            | "up"
            | "down"
            | "out"
            | "off"
            | "back"
            | "away"
            | "around"
            | "forward"
            | "along"
            | "via"
            | "and"
            | "or"
            | "but"
            | "so"
            | "if"
            | "when"
            | "while"
            | "because"
            | "as"
            | "than"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "what"
            | "how"
            | "where"
            | "why"
            | "whether"
            | "sooner"
            | "earlier"
            | "later"
            | "faster"
            | "first"
            | "again"
            | "too"
            | "instead"
            | "then"
            | "now"
            | "immediately"
            | "anyway"
            | "yet"
            | "already"
            | "still"
            | "once"
            | "more"
            | "less"
            | "all"
            | "both"
            | "each"
            | "every"
            | "some"
            | "any"
            | "no"
            | "not"
            | "either"
            | "neither"
            | "is"
            | "was"
            | "were"
            | "are"
            | "be"
            | "been"
            | "being"
            | "has"
            | "have"
            | "had"
            | "do"
            | "does"
            | "did"
            | "will"
            | "would"
            | "shall"
            | "should"
            | "can"
            | "could"
            | "may"
            | "might"
            | "must"
            | "better"
            | "properly"
            | "correctly"
            | "manually"
            | "right"
            | "well"
            | "together"
            | "ourselves"
            | "themselves"
            | "himself"
            | "herself"
            | "myself"
            | "yourself"
            | "itself"
    )
}

/// Prepositions: a noun right after one is not the subject of the next verb.
pub(crate) fn is_preposition(word: &str) -> bool {
    matches!(
        word,
        "for"
            | "to"
            | "of"
            | "with"
            | "by"
            | "from"
            | "about"
            | "at"
            | "in"
            | "on"
            | "into"
            | "onto"
            | "via"
            | "than"
            | "like"
            | "without"
            | "towards"
            | "toward"
            | "between"
            | "among"
            | "against"
            | "per"
            | "under"
            | "behind"
            | "beside"
            | "near"
    )
}

/// Words after which a capitalised word is not a name even if it is in the list of names.
pub(crate) fn blocks_name(word: &str) -> bool {
    matches!(word, "the" | "a" | "an" | "this" | "that" | "our" | "their")
}

/// What it costs to look a pattern up by this word: roughly how often the word occurs. A pattern
/// is looked up by its cheapest required token.
pub(crate) fn lookup_cost(word: &str) -> usize {
    if matches!(
        word,
        "the"
            | "a"
            | "an"
            | "to"
            | "of"
            | "and"
            | "or"
            | "in"
            | "on"
            | "at"
            | "by"
            | "for"
            | "with"
            | "is"
            | "was"
            | "were"
            | "are"
            | "be"
            | "been"
            | "have"
            | "has"
            | "had"
            | "it"
            | "this"
            | "that"
            | "not"
            | "we"
            | "i"
            | "you"
            | "he"
            | "she"
            | "they"
            | "as"
            | "from"
            | "but"
            | "so"
            | "if"
            | "no"
            | "all"
            | "'s"
            | "more"
    ) {
        50
    } else if is_function_word(word) || matches!(word, "error" | "errors" | "alert" | "alerts") {
        10
    } else if is_common(word) {
        5
    } else {
        1
    }
}

/// Common words beyond the function words.
pub(crate) fn is_common(word: &str) -> bool {
    is_function_word(word)
        || matches!(
            word,
            "just"
                | "one"
                | "also"
                | "make"
                | "made"
                | "get"
                | "got"
                | "new"
                | "time"
                | "use"
                | "'s"
                | "engineer"
                | "engineers"
                | "developer"
                | "developers"
                | "check"
                | "checks"
                | "change"
                | "deploy"
                | "service"
                | "found"
                | "read"
                | "team"
                | "only"
                | "because"
                | "up"
                | "good"
                | "due"
                | "fired"
                | "started"
                | "pay"
        )
}

/// Abbreviations whose final dot does not end a sentence.
pub(crate) fn is_abbreviation(word_lower: &str) -> bool {
    matches!(
        word_lower,
        "e.g"
            | "i.e"
            | "etc"
            | "vs"
            | "mr"
            | "mrs"
            | "ms"
            | "dr"
            | "approx"
            | "cf"
            | "no"
            | "st"
            | "fig"
            | "inc"
            | "ltd"
            | "jr"
            | "sr"
            | "al"
            | "eg"
            | "ie"
            | "viz"
            | "resp"
            | "incl"
            | "est"
            | "min"
            | "max"
            | "avg"
            | "ca"
            | "op"
            | "vol"
            | "pp"
            | "p"
    )
}
