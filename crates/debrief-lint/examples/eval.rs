//! Precision and recall of the blame rules on the labelled sentences in `eval/sentences.toml`:
//!
//! ```sh
//! cargo run -p debrief-lint --release --example eval            # the tables
//! cargo run -p debrief-lint --release --example eval -- -v      # and every disagreement
//! ```
//!
//! A case expects a set of rules at warning or above (`expect`) and possibly some only as hints
//! (`hints`). The first table counts findings at warning and above against `expect`; the second
//! ignores levels and counts any finding against `expect` and `hints` together.

use std::collections::{BTreeMap, BTreeSet};

use debrief_lint::{Context, Level, Linter, Section};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct File {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    section: Section,
    text: String,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    participants: Vec<String>,
    /// `holdout`: written after the rules were last tuned.
    #[serde(default)]
    set: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn precision(self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

fn main() -> std::process::ExitCode {
    let verbose = std::env::args().any(|a| a == "-v" || a == "--verbose");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/eval/sentences.toml");
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let file: File = match toml::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let linter = Linter::builtin();
    let all: Vec<&Case> = file.case.iter().collect();
    let tuned: Vec<&Case> = file.case.iter().filter(|c| c.set.is_none()).collect();
    let holdout: Vec<&Case> = file
        .case
        .iter()
        .filter(|c| c.set.as_deref() == Some("holdout"))
        .collect();
    for (name, cases) in [
        ("all", &all),
        ("tuning set", &tuned),
        ("held-out set", &holdout),
    ] {
        println!("\n## {name}\n");
        report(&linter, cases, verbose && name == "all");
    }
    std::process::ExitCode::SUCCESS
}

fn report(linter: &Linter, cases: &[&Case], verbose: bool) {
    let mut strict: BTreeMap<String, Counts> = BTreeMap::new();
    let mut any: BTreeMap<String, Counts> = BTreeMap::new();
    let mut by_section: BTreeMap<Section, usize> = BTreeMap::new();
    let (mut positives, mut negatives) = (0, 0);
    for case in cases {
        *by_section.entry(case.section).or_default() += 1;
        if case.expect.is_empty() && case.hints.is_empty() {
            negatives += 1;
        } else {
            positives += 1;
        }
        let ctx = Context::with_participants(case.participants.iter().cloned());
        let found = linter.lint_section(&case.text, case.section, &ctx);
        let family = |r: &str| r.starts_with("blame/") || r.starts_with("structure/vague");
        let got_strict: BTreeSet<String> = found
            .iter()
            .filter(|f| f.level >= Level::Warning && family(&f.rule))
            .map(|f| f.rule.clone())
            .collect();
        let got_any: BTreeSet<String> = found
            .iter()
            .filter(|f| family(&f.rule))
            .map(|f| f.rule.clone())
            .collect();
        let want_strict: BTreeSet<String> = case.expect.iter().cloned().collect();
        let want_any: BTreeSet<String> = case.expect.iter().chain(&case.hints).cloned().collect();
        for (table, got, want) in [
            (&mut strict, &got_strict, &want_strict),
            (&mut any, &got_any, &want_any),
        ] {
            for r in got.union(want) {
                let c = table.entry(r.clone()).or_default();
                match (got.contains(r), want.contains(r)) {
                    (true, true) => c.tp += 1,
                    (true, false) => c.fp += 1,
                    (false, true) => c.fn_ += 1,
                    (false, false) => {}
                }
            }
        }
        if verbose && (got_strict != want_strict || got_any != want_any) {
            println!("[{}] {}", case.section, case.text);
            println!("    want: {want_strict:?} (+ hints {:?})", case.hints);
            let shown: Vec<String> = found
                .iter()
                .map(|f| format!("{} {} «{}»", f.rule, f.level, f.matched))
                .collect();
            println!("    got:  {shown:?}");
        }
    }
    println!(
        "{} sentences ({positives} with a finding expected, {negatives} without); by section: {}",
        cases.len(),
        by_section
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (title, table) in [
        ("Findings at warning or above, against `expect`", &strict),
        ("Findings at any level, against `expect` + `hints`", &any),
    ] {
        println!("\n{title}\n");
        println!("| rule | TP | FP | FN | precision | recall |");
        println!("|---|---:|---:|---:|---:|---:|");
        let mut total = Counts::default();
        for (rule, c) in table {
            println!(
                "| {rule} | {} | {} | {} | {:.2} | {:.2} |",
                c.tp,
                c.fp,
                c.fn_,
                c.precision(),
                c.recall()
            );
            if rule.starts_with("blame/") {
                total.tp += c.tp;
                total.fp += c.fp;
                total.fn_ += c.fn_;
            }
        }
        println!(
            "| **blame/\\* (all)** | {} | {} | {} | **{:.2}** | **{:.2}** |",
            total.tp,
            total.fp,
            total.fn_,
            total.precision(),
            total.recall()
        );
    }
}
