//! Lints Markdown files (or, with `--section NAME`, each line of stdin as one field of that
//! section) and prints the findings: `cargo run -p debrief-lint --example lint -- FILE…`.

use std::io::Read;

use debrief_lint::{Context, Linter, Section};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let linter = Linter::builtin();
    if args.first().map(String::as_str) == Some("--section") {
        let section: Section = match args.get(1).map(|s| s.parse()) {
            Some(Ok(s)) => s,
            _ => {
                eprintln!("usage: lint --section SECTION < lines");
                return std::process::ExitCode::from(2);
            }
        };
        let mut input = String::new();
        if std::io::stdin().read_to_string(&mut input).is_err() {
            return std::process::ExitCode::from(2);
        }
        for line in input.lines() {
            let found = linter.lint_section(line, section, &Context::default());
            let rules: Vec<String> = found
                .iter()
                .map(|f| format!("{}:{} «{}»", f.rule, f.level, f.matched))
                .collect();
            println!(
                "{line}\n    => {}",
                if rules.is_empty() {
                    "-".to_owned()
                } else {
                    rules.join(", ")
                }
            );
        }
        return std::process::ExitCode::SUCCESS;
    }
    for path in &args {
        let text = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        match linter.lint_bytes(&text) {
            Ok(found) => {
                for f in found {
                    println!(
                        "{path}:{}:{}: {} {} [{}] «{}»",
                        f.line, f.column, f.level, f.rule, f.section, f.matched
                    );
                }
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
    std::process::ExitCode::SUCCESS
}
