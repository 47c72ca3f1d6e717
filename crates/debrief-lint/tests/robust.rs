//! The linter never panics and its findings always point into the text: proptest over arbitrary
//! strings, Markdown-shaped strings, arbitrary bytes and arbitrary configs.

use debrief_lint::{Config, Context, Finding, Linter, Section};
use proptest::prelude::*;

fn linter() -> &'static Linter {
    static L: std::sync::OnceLock<Linter> = std::sync::OnceLock::new();
    L.get_or_init(Linter::builtin)
}

/// Every finding's range is inside the text, on character boundaries, and its line and column
/// agree with the range.
fn check(text: &str, found: &[Finding]) -> Result<(), TestCaseError> {
    for f in found {
        prop_assert!(
            f.range.start <= f.range.end && f.range.end <= text.len(),
            "{f:?}"
        );
        prop_assert!(text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end));
        if f.rule.starts_with("lint/") {
            continue;
        }
        let before = &text[..f.range.start];
        let line = before.matches('\n').count() + 1;
        let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
            .chars()
            .count()
            + 1;
        prop_assert_eq!((f.line, f.column), (line, col), "{:?}", f);
        prop_assert_eq!(&f.matched, &text[f.range.clone()]);
        prop_assert!(!f.message.is_empty());
    }
    Ok(())
}

fn markdownish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("# Title\n".to_owned()),
        Just("## Summary\n".to_owned()),
        Just("## Action items\n".to_owned()),
        Just("### What could we have done differently?\n".to_owned()),
        Just("- ".to_owned()),
        Just("1. ".to_owned()),
        Just("| a | b |\n|---|---|\n".to_owned()),
        Just("| ".to_owned()),
        Just("```\n".to_owned()),
        Just("`".to_owned()),
        Just("<!-- debrief-lint: allow blame/* -->".to_owned()),
        Just("<!-- debrief-lint: off -->".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("> ".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("    ".to_owned()),
        Just("[link](http://x.y/(z)".to_owned()),
        Just("\"".to_owned()),
        Just("\u{201c}".to_owned()),
        Just("@alice ".to_owned()),
        Just("the engineer should have checked ".to_owned()),
        Just("we failed to ".to_owned()),
        Just("human error. ".to_owned()),
        Just("Bob's fault ".to_owned()),
        Just("shouldn\u{2019}t have ".to_owned()),
        Just("root cause: ".to_owned()),
        Just("nobody noticed ".to_owned()),
        Just("Who approved ".to_owned()),
        Just("obviously ".to_owned()),
        Just("on-call ".to_owned()),
        Just("é漢😀 ".to_owned()),
        "[a-zA-Z .,:;?!'-]{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        let found = linter().lint_markdown(&text);
        check(&text, &found)?;
        for section in [Section::Summary, Section::Timeline, Section::Actions] {
            let found = linter().lint_section(&text, section, &Context::default());
            check(&text, &found)?;
        }
    }

    #[test]
    fn markdown_shaped_strings(text in markdownish()) {
        let found = linter().lint_markdown_with(&text, &Context::with_participants(["Alice", "Bob"]));
        check(&text, &found)?;
        let found = linter().lint_section(&text, Section::Actions, &Context::default());
        check(&text, &found)?;
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        match linter().lint_bytes(&bytes) {
            Ok(found) => {
                let text = std::str::from_utf8(&bytes).unwrap_or_default();
                check(text, &found)?;
            }
            Err(debrief_lint::LintError::InvalidUtf8 { offset, .. }) => {
                prop_assert!(std::str::from_utf8(&bytes).is_err());
                prop_assert!(offset < bytes.len());
            }
        }
    }

    #[test]
    fn arbitrary_configs(text in "[a-z\\[\\]\"=./ \n{}?|_^$]{0,80}") {
        // Either an error that names a place, or a linter that works.
        match Config::from_toml(&text).and_then(Linter::new) {
            Ok(l) => { let _ = l.lint_markdown("The engineer should have checked."); }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    #[test]
    fn arbitrary_user_patterns(pattern in "[a-z{}?|_^$.' ]{0,30}") {
        let config = format!(
            "[rules.\"team/x\"]\nmessage = \"m\"\nphrases = [{:?}]\n",
            pattern
        );
        if let Ok(l) = Config::from_toml(&config).and_then(Linter::new) {
            let text = "we should have checked the thing that was never tested by anyone ok";
            let found = l.lint_markdown(text);
            check(text, &found)?;
        }
    }
}
