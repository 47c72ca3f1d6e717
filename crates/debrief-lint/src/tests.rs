//! Unit tests: the built-in rules, each false-alarm guard, Markdown handling, suppression, the
//! structure rules, config errors and bad input.

use crate::{Config, Context, Finding, Level, Linter, Section};

fn linter() -> Linter {
    match Linter::new(Config::builtin()) {
        Ok(l) => l,
        Err(e) => panic!("built-in rules: {e}"),
    }
}

fn rules_in(section: Section, text: &str) -> Vec<String> {
    linter()
        .lint_section(text, section, &Context::default())
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

fn blame(section: Section, text: &str) -> Vec<String> {
    rules_in(section, text)
        .into_iter()
        .filter(|r| r.starts_with("blame/"))
        .collect()
}

#[track_caller]
fn flags(section: Section, text: &str, rule: &str) {
    let got = blame(section, text);
    assert!(
        got.iter().any(|r| r == rule),
        "{text:?}: expected {rule}, got {got:?}"
    );
}

#[track_caller]
fn clean(section: Section, text: &str) {
    let got = blame(section, text);
    assert!(got.is_empty(), "{text:?}: expected nothing, got {got:?}");
}

fn md(text: &str) -> Vec<Finding> {
    linter().lint_markdown(text)
}

fn has(findings: &[Finding], rule: &str) -> bool {
    findings.iter().any(|f| f.rule == rule)
}

#[test]
fn builtin_rules_compile_and_cover_the_issue() {
    let ids: Vec<String> = linter().rules().into_iter().map(|r| r.id).collect();
    for id in [
        "blame/counterfactual",
        "blame/human-error",
        "blame/person-as-cause",
        "blame/hindsight",
        "blame/root-cause",
        "blame/individual-remedy",
        "blame/who-why-question",
        "blame/passive-judgment",
        "structure/missing-summary",
        "structure/missing-impact",
        "structure/missing-timeline",
        "structure/missing-factors",
        "structure/missing-actions",
        "structure/action-owner",
        "structure/action-check-in",
        "structure/vague-action",
    ] {
        assert!(ids.iter().any(|i| i == id), "missing rule {id}");
    }
}

#[test]
fn each_blame_rule_fires() {
    use Section::*;
    flags(
        Factors,
        "The engineer should have checked the config.",
        "blame/counterfactual",
    );
    flags(
        Factors,
        "We failed to verify the fix end to end.",
        "blame/counterfactual",
    );
    flags(
        Factors,
        "The author forgot to update the runbook.",
        "blame/counterfactual",
    );
    flags(
        Lessons,
        "If only we had looked at the graph.",
        "blame/counterfactual",
    );
    flags(
        Factors,
        "We missed the early warning.",
        "blame/counterfactual",
    );
    flags(Summary, "It was human error.", "blame/human-error");
    flags(
        Factors,
        "A careless change opened the port.",
        "blame/human-error",
    );
    flags(Summary, "Bob caused the outage.", "blame/person-as-cause");
    flags(
        Summary,
        "The incident was caused by @dmitri.",
        "blame/person-as-cause",
    );
    flags(Factors, "The DBA was negligent.", "blame/person-as-cause");
    flags(Factors, "Obviously the disk was full.", "blame/hindsight");
    flags(Factors, "The root cause was a bad TTL.", "blame/root-cause");
    flags(
        Actions,
        "Be more careful when deploying.",
        "blame/individual-remedy",
    );
    flags(
        Actions,
        "Retrain the on-call engineers.",
        "blame/individual-remedy",
    );
    flags(
        Actions,
        "Remind developers to run the tests.",
        "blame/individual-remedy",
    );
    flags(
        Actions,
        "Operators will no longer run scripts by hand.",
        "blame/individual-remedy",
    );
    flags(
        Actions,
        "Make sure to double-check the region.",
        "blame/individual-remedy",
    );
    flags(
        Lessons,
        "Who approved this change?",
        "blame/who-why-question",
    );
    flags(
        Lessons,
        "Why did the engineer restart the primary?",
        "blame/who-why-question",
    );
    flags(
        Factors,
        "The restore was never tested.",
        "blame/passive-judgment",
    );
    flags(
        Factors,
        "Nobody noticed the silenced alert.",
        "blame/passive-judgment",
    );
    flags(
        Factors,
        "The deprecation notice was overlooked.",
        "blame/passive-judgment",
    );
}

#[test]
fn levels_follow_the_issue() {
    let l = linter();
    let level = |section, text: &str, rule: &str| {
        l.lint_section(text, section, &Context::default())
            .into_iter()
            .find(|f| f.rule == rule)
            .map(|f| f.level)
    };
    // Hindsight is a hint alone, a warning about a person's action.
    assert_eq!(
        level(
            Section::Factors,
            "Obviously the disk was full.",
            "blame/hindsight"
        ),
        Some(Level::Hint)
    );
    assert_eq!(
        level(
            Section::Factors,
            "He obviously didn't read the runbook.",
            "blame/hindsight"
        ),
        Some(Level::Warning)
    );
    // A root cause is a hint; a warning when it is a person or human error.
    assert_eq!(
        level(
            Section::Factors,
            "The root cause was a bad TTL.",
            "blame/root-cause"
        ),
        Some(Level::Hint)
    );
    assert_eq!(
        level(
            Section::Factors,
            "The root cause was human error.",
            "blame/root-cause"
        ),
        Some(Level::Warning)
    );
    assert_eq!(
        level(
            Section::Factors,
            "The root cause was the engineer who ran it.",
            "blame/root-cause"
        ),
        Some(Level::Warning)
    );
    assert!(Level::Hint < Level::Warning && Level::Warning < Level::Error);
}

#[test]
fn guard_code_and_urls_are_not_prose() {
    clean(
        Section::Factors,
        "The log says `operator error: should have checked` and stops.",
    );
    clean(
        Section::Factors,
        "See https://example.com/should-have-been-caught/human-error for details.",
    );
    clean(Section::Factors, "See <https://example.com/human-error>.");
    clean(
        Section::Factors,
        "See [the runbook](https://example.com/nobody-noticed).",
    );
    let found = md(
        "# T\n\n## Factors\n\n```\nwe should have checked; human error\n```\n\n    human error in an indented block\n",
    );
    assert!(
        !found.iter().any(|f| f.rule.starts_with("blame/")),
        "{found:?}"
    );
}

#[test]
fn guard_template_headings() {
    let found = md(
        "# PM\n\n## What could we have done differently?\n\n### What we should have done\n\n## Could do differently\n",
    );
    assert!(
        !found.iter().any(|f| f.rule.starts_with("blame/")),
        "{found:?}"
    );
    // The prompts Debrief's own export writes.
    let found = md(
        "# PM\n\n## Remediation ideas\n\n### Quick fix: what would have mitigated it faster?\n\n- Keep a command to raise the limit.\n",
    );
    assert!(
        !found.iter().any(|f| f.rule.starts_with("blame/")),
        "{found:?}"
    );
}

#[test]
fn guard_should_have_a_noun_phrase_is_a_recommendation() {
    clean(
        Section::Actions,
        "We should have alerting on config load failures.",
    );
    clean(
        Section::Ideas,
        "Each service should have a documented owner.",
    );
    clean(Section::Lessons, "We should have automated failover tests.");
    clean(
        Section::Lessons,
        "We should have dedicated on-call rotations.",
    );
    flags(
        Section::Lessons,
        "We should have checked the failover.",
        "blame/counterfactual",
    );
}

#[test]
fn guard_technical_subject_with_failed_to() {
    clean(Section::Timeline, "The pods failed to start.");
    clean(
        Section::Timeline,
        "Kafka failed to rebalance the partitions.",
    );
    clean(
        Section::Timeline,
        "Alerts for the on-call engineer failed to fire.",
    );
    clean(
        Section::Timeline,
        "We failed to reach the vendor for an hour.",
    );
    flags(
        Section::Timeline,
        "The on-call failed to acknowledge the page.",
        "blame/counterfactual",
    );
}

#[test]
fn guard_hypothetical_benefit() {
    clean(
        Section::Ideas,
        "This alert would have detected it in minutes.",
    );
    clean(
        Section::Lessons,
        "An alert on queue depth could have shortened the outage.",
    );
    clean(
        Section::Ideas,
        "This could have been caught by a canary stage.",
    );
    clean(
        Section::Lessons,
        "It could have been much worse at peak time.",
    );
}

#[test]
fn guard_what_people_knew_and_believed() {
    for text in [
        "The engineer thought the limit was set elsewhere.",
        "Ana believed the spike was the usual Monday batch.",
        "The responders assumed the primary was healthy.",
        "Nobody knew the flag also controlled the cache warmer.",
        "The on-call did not know the service had a second database.",
        "We could not have known that the default changed.",
    ] {
        clean(Section::Factors, text);
        clean(Section::Timeline, text);
    }
}

#[test]
fn guard_naming_who_did_what_in_a_timeline() {
    let ctx = Context::with_participants(["Bob", "Priya"]);
    let l = linter();
    for text in [
        "14:02 Bob restarted the primary database.",
        "14:10 @dmitri rolled back the deploy.",
        "Priya triggered the failover manually.",
        "The deploy was triggered by @lars from the pipeline.",
        "Ana reminded the team to post updates.",
    ] {
        let found = l.lint_section(text, Section::Timeline, &ctx);
        assert!(found.is_empty(), "{text}: {found:?}");
    }
}

#[test]
fn guard_quotations_and_blockquotes() {
    clean(
        Section::Timeline,
        "Bob wrote: \"I should have checked the region first.\"",
    );
    clean(
        Section::Lessons,
        "The old template asked \u{201c}who caused the outage?\u{201d}.",
    );
    let found = md("# PM\n\n## Timeline\n\n> bob: I forgot to check, human error\n");
    assert!(
        !found.iter().any(|f| f.rule.starts_with("blame/")),
        "{found:?}"
    );
}

#[test]
fn guard_negated_and_technical_uses() {
    clean(
        Section::Factors,
        "This was not human error; the tool allowed it.",
    );
    clean(Section::Factors, "Lazy loading delayed the first request.");
    clean(Section::Impact, "The user error rate tripled.");
    clean(
        Section::Lessons,
        "It was not obvious that the services shared a pool.",
    );
    clean(Section::Factors, "There was no single root cause.");
    clean(
        Section::Actions,
        "Retrain the fraud model on the corrected labels.",
    );
    clean(
        Section::Actions,
        "The deploy tool will no longer accept unsigned images.",
    );
}

#[test]
fn participants_make_names_people() {
    let l = linter();
    let text = "Zorblat failed to renew the certificate.";
    assert!(
        l.lint_section(text, Section::Factors, &Context::default())
            .is_empty()
    );
    let found = l.lint_section(
        text,
        Section::Factors,
        &Context::with_participants(["Zorblat Quux"]),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, "blame/counterfactual");
}

#[test]
fn participants_section_of_the_document_is_read() {
    let doc = "# PM\n\n## Factors\n\nZorblat failed to renew the certificate.\n\n## Participants\n\n| # | Name | Role |\n|--:|---|---|\n| 1 | Zorblat | responder |\n";
    assert!(has(&md(doc), "blame/counterfactual"));
}

#[test]
fn finding_positions_are_exact() {
    let text = "Intro line.\n\n## Factors\n\nCafé team: the engineer should have checked it.\n";
    let found: Vec<Finding> = md(text)
        .into_iter()
        .filter(|f| f.rule == "blame/counterfactual")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(&text[f.range.clone()], "the engineer should have checked");
    assert_eq!(f.matched, "the engineer should have checked");
    assert_eq!(
        (f.line, f.column),
        (5, 12),
        "columns count characters, not bytes"
    );
    assert_eq!((f.end_line, f.end_column), (5, 44));
    assert_eq!(f.section, Section::Factors);
    assert!(f.suggestion.contains("the engineer should have checked"));
    assert!(!f.message.is_empty());
}

#[test]
fn sentences_continue_across_wrapped_lines() {
    let found = md("# PM\n\n## Factors\n\nThe engineer on call\nfailed to escalate.\n");
    assert!(has(&found, "blame/counterfactual"), "{found:?}");
}

#[test]
fn suppression_comment_covers_its_line_and_the_next() {
    let doc = "# PM\n\n## Factors\n\n<!-- debrief-lint: allow blame/hindsight -->\nObviously the disk was full.\n\nObviously the queue was long.\n";
    let found: Vec<Finding> = md(doc)
        .into_iter()
        .filter(|f| f.rule == "blame/hindsight")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, 8);
    let doc =
        "# PM\n\n## Factors\n\nObviously the disk was full. <!-- debrief-lint: allow blame/* -->\n";
    assert!(!has(&md(doc), "blame/hindsight"));
    // Another rule is not suppressed.
    let doc = "# PM\n\n## Factors\n\n<!-- debrief-lint: allow blame/root-cause -->\nObviously the disk was full.\n";
    assert!(has(&md(doc), "blame/hindsight"));
}

#[test]
fn suppression_off_and_on() {
    let doc = "# PM\n\n<!-- debrief-lint: off -->\n\n## Factors\n\nHuman error.\n\n<!-- debrief-lint: on -->\n\nHuman error again.\n";
    let found: Vec<Finding> = md(doc)
        .into_iter()
        .filter(|f| f.rule == "blame/human-error")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, 11);
}

const EXPORT: &str = "# PM-42: Checkout errors after config push

- **Status:** draft
- **Severity:** SEV2
- **Times in:** UTC

## Summary

Checkout requests timed out for 68 minutes after a config push halved the connection pool.

## Impact

About 2,300 orders failed.

## Key moments

- **Started:** 2024-05-01 10:00 UTC
- **Detected:** 2024-05-01 10:05 UTC (time to detect: 5m)

## Contributing factors

- **change:** The pool size moved to a config map the rollback does not cover.
- **monitoring gap:** No alert on pool saturation.

## Lessons learned

### What helped us

- The rollback was one command.

### What we would do differently

- Page the database team as soon as connection errors appear.

## Remediation ideas

### Detect: how could we detect this sooner?

- Alert on pool waits.

## Timeline

| # | Time | Kind | Actor | Description | Outcome | Source |
|--:|---|---|---|---|---|---|
| 1 | 2024-05-01 10:05 | alert | system:pagerduty | High 5xx rate on checkout | helped | pagerduty |
| 2 | 2024-05-01 10:09 | action | Ana | Rolled back the deploy | neutral | manual |

### Event 2

- **Account of:** Ana
- **Knew:** The deploy was the only change that morning.
- **Expected:** The rollback to restore the old pool size.
- **Could do differently:** Check the config map too.

## Action items

| # | Title | Owner | Check-in | Due | Priority | Status | Category |
|--:|---|---|---|---|---|---|---|
| 1 | Include config maps in rollbacks | platform-team | 2024-06-01 |  | high | open | prevent |
| 2 | Alert on pool saturation | Ana | 2024-06-01 |  | medium | open | detect |

### Action 1

- **Description:** The rollback tool restores config maps with the deploy.

## Participants

| # | Name | Role | Invited | Attended | Contact |
|--:|---|---|---|---|---|
| 1 | Ana | responder | yes | yes |  |
";

#[test]
fn debrief_export_lints_clean() {
    let found = md(EXPORT);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn debrief_export_with_blame_in_fields() {
    let doc = EXPORT
        .replace(
            "Checkout requests timed out for 68 minutes",
            "Ana should have checked the config map; checkout requests timed out for 68 minutes",
        )
        .replace(
            "| Rolled back the deploy |",
            "| Rolled back the deploy, obviously too late |",
        );
    let found = md(&doc);
    let summary = found.iter().find(|f| f.rule == "blame/counterfactual");
    assert!(
        summary.is_some_and(|f| f.section == Section::Summary && f.line == 9),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.rule == "blame/hindsight" && f.section == Section::Timeline),
        "{found:#?}"
    );
}

#[test]
fn structure_missing_sections() {
    let found = md("# Outage\n\n## Timeline\n\n- 10:00 alert\n");
    for rule in [
        "structure/missing-summary",
        "structure/missing-impact",
        "structure/missing-factors",
        "structure/missing-actions",
    ] {
        let f = found.iter().find(|f| f.rule == rule);
        assert!(
            f.is_some_and(|f| f.line == 1 && f.section == Section::Title),
            "{rule}: {found:#?}"
        );
    }
    assert!(!has(&found, "structure/missing-timeline"));
    // Headings in other words, numbered, nested.
    let found = md(
        "# X\n\n## 1. Overview\n\n## Customer impact\n\n## Timeline (all times UTC)\n\n## Root cause analysis\n\n## Follow-up actions\n",
    );
    assert!(
        !found
            .iter()
            .any(|f| f.rule.starts_with("structure/missing")),
        "{found:#?}"
    );
}

#[test]
fn structure_action_items_in_lists() {
    let doc = "# X\n\n## Summary\n\nx\n\n## Impact\n\ny\n\n## Timeline\n\nz\n\n## Contributing factors\n\nw\n\n## Action items\n\n\
               - Add an alert on pool saturation (owner: @ana, check-in 2026-12-07)\n\
               - Include config maps in rollbacks\n  - owner: Platform team\n\
               - [x] Raise the pool limit\n\
               - Alert on queue depth — Priya, due Friday\n\
               - Improve monitoring (@sam, 2026-12-01)\n";
    let found = md(doc);
    let owners: Vec<usize> = found
        .iter()
        .filter(|f| f.rule == "structure/action-owner")
        .map(|f| f.line)
        .collect();
    let dates: Vec<usize> = found
        .iter()
        .filter(|f| f.rule == "structure/action-check-in")
        .map(|f| f.line)
        .collect();
    assert_eq!(owners, Vec::<usize>::new(), "{found:#?}");
    assert_eq!(dates, vec![22], "{found:#?}");
    let vague: Vec<usize> = found
        .iter()
        .filter(|f| f.rule == "structure/vague-action")
        .map(|f| f.line)
        .collect();
    assert_eq!(
        vague,
        Vec::<usize>::new(),
        "the item has a number: {found:#?}"
    );
}

#[test]
fn structure_action_items_in_tables() {
    let doc = "# X\n\n## Action items\n\n| Action | Owner | Due |\n|---|---|---|\n| Alert on saturation | Ana | 2026-12-01 |\n| Improve monitoring |  |  |\n| Fix the issue | TBD | done |\n";
    let found = md(doc);
    assert!(
        found
            .iter()
            .any(|f| f.rule == "structure/action-owner" && f.line == 8),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.rule == "structure/action-check-in" && f.line == 8),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.rule == "structure/vague-action" && f.line == 8),
        "{found:#?}"
    );
    assert!(
        !found
            .iter()
            .any(|f| f.rule.starts_with("structure/action") && f.line == 7),
        "{found:#?}"
    );
}

#[test]
fn vague_action_in_a_field() {
    let l = linter();
    let f = l.lint_section(
        "Investigate monitoring for this scenario",
        Section::Actions,
        &Context::default(),
    );
    assert!(
        f.iter()
            .any(|f| f.rule == "structure/vague-action" && f.level == Level::Hint),
        "{f:?}"
    );
    let f = l.lint_section(
        "Add alerting for all cases where this service returns >1% errors",
        Section::Actions,
        &Context::default(),
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn appendix_and_links_are_not_linted() {
    let found = md(
        "# X\n\n## Appendix\n\nbob: I should have checked, human error\n\n## Links\n\n- obviously: https://x\n",
    );
    assert!(
        !found.iter().any(|f| f.rule.starts_with("blame/")),
        "{found:#?}"
    );
}

#[test]
fn user_config_changes_levels_disables_and_adds() {
    let config = r#"
allow = ["human error budget"]

[rules."blame/hindsight"]
level = "warning"

[rules."blame/root-cause"]
enabled = false

[rules."blame/human-error"]
phrases = ["pebcak issue"]

[rules."team/jargon"]
level = "hint"
message = "Say what you mean."
suggestion = "Instead of “{match}”, describe it."
phrases = ["yolo deploy"]
"#;
    let l = match Config::from_toml(config).and_then(Linter::new) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let ctx = Context::default();
    let f = l.lint_section("Obviously the disk was full.", Section::Factors, &ctx);
    assert!(
        f.iter()
            .any(|f| f.rule == "blame/hindsight" && f.level == Level::Warning),
        "{f:?}"
    );
    assert!(
        l.lint_section("The root cause was a bad TTL.", Section::Factors, &ctx)
            .is_empty()
    );
    let f = l.lint_section("It was a yolo deploy.", Section::Factors, &ctx);
    assert!(
        f.iter()
            .any(|f| f.rule == "team/jargon" && f.suggestion.contains("yolo deploy")),
        "{f:?}"
    );
    assert!(
        l.lint_section("The human error budget is spent.", Section::Factors, &ctx)
            .is_empty()
    );
    assert!(
        !l.lint_section("Human error caused it.", Section::Factors, &ctx)
            .is_empty()
    );
}

#[test]
fn malformed_configs_name_the_line_and_key() {
    let cases = [
        (
            "[rules.\"blame/hindsight\"]\nlevel = \"warn\"\n",
            2,
            "blame/hindsight",
        ),
        ("[rules.\"blame/hindsight\"]\nlevl = \"hint\"\n", 2, "levl"),
        (
            "[rules.\"Bad Id\"]\nmessage = \"x\"\nphrases = [\"x\"]\n",
            1,
            "Bad Id",
        ),
        (
            "[rules.\"team/x\"]\nmessage = \"m\"\nphrases = [\"{nosuch} word\"]\n",
            3,
            "nosuch",
        ),
        ("[rules.\"team/x\"]\nphrases = [\"word\"]\n", 1, "message"),
        (
            "[rules.\"team/x\"]\nmessage = \"m\"\nphrases = [\"not? {any}\"]\n",
            3,
            "must be there",
        ),
        ("this is not toml", 1, ""),
        ("[sections]\nsummmary = [\"tl;dr\"]\n", 0, "summmary"),
    ];
    for (text, line, needle) in cases {
        match Config::from_toml(text).and_then(Linter::new) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => {
                let shown = e.to_string();
                assert_eq!(e.line, line, "{text}: {shown}");
                assert!(shown.contains(needle), "{text}: {shown}");
                assert!(shown.starts_with("config:"), "{shown}");
            }
        }
    }
}

#[test]
fn bad_input_is_a_clear_error_or_a_clean_result() {
    let l = linter();
    let err = l.lint_bytes(b"# PM\n\nfine\n\xff\xfe bad");
    match err {
        Err(crate::LintError::InvalidUtf8 {
            offset,
            line,
            column,
        }) => {
            assert_eq!((offset, line, column), (11, 4, 1));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        l.lint_bytes(b"")
            .is_ok_and(|f| f.iter().all(|f| f.rule.starts_with("structure/")))
    );
    // Unclosed code fence, comment, code span, link: no panic.
    for text in [
        "```\nhuman error",
        "<!-- debrief-lint: off",
        "`human error",
        "[x](http://a",
        "\u{feff}# T\r\n\r\nHuman error.\r\n",
    ] {
        let _ = l.lint_markdown(text);
    }
}

#[test]
fn many_headings_and_long_lines_stay_linear() {
    let l = linter();
    let mut doc = String::new();
    for i in 0..10_000 {
        doc.push_str(&format!("## Heading {i}\n\n"));
        if i % 2 == 0 {
            doc.push_str(&format!("The engineer should have checked {i}.\n\n"));
        }
    }
    let start = std::time::Instant::now();
    let found = l.lint_markdown(&doc);
    assert!(
        found
            .iter()
            .filter(|f| f.rule == "blame/counterfactual")
            .count()
            == 5_000
    );
    let one_line = "the engineer should have checked and ".repeat(20_000);
    let found = l.lint_markdown(&one_line);
    assert!(!found.is_empty());
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

#[test]
fn findings_are_capped() {
    let config = "[settings]\nmax_findings = 5\n";
    let l = match Config::from_toml(config).and_then(Linter::new) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let doc = "Human error. ".repeat(100);
    let found = l.lint_markdown(&doc);
    assert_eq!(found.len(), 6);
    assert_eq!(found[5].rule, "lint/too-many-findings");
}

#[test]
fn serializes_to_json() {
    let found = linter().lint_section("It was human error.", Section::Summary, &Context::default());
    let json = serde_json::to_value(&found).unwrap_or_default();
    assert_eq!(json[0]["rule"], "blame/human-error");
    assert_eq!(json[0]["level"], "warning");
    assert_eq!(json[0]["section"], "summary");
    assert_eq!(json[0]["range"]["start"], 7);
}

#[test]
fn builtin_patterns_are_looked_up_by_uncommon_words() {
    // A pattern anchored on "was" or "to" would make almost every sentence a candidate and the
    // linter several times slower: the built-in rules avoid it, except where no rarer word exists.
    let l = linter();
    let allowed = [
        "had", "not", "why", "who", "should", "could", "ought", "because", "better",
    ];
    let mut bad = Vec::new();
    for rule in &l.c.rules {
        for p in &rule.patterns {
            for w in p.pattern.anchor_words(&l.c.lex) {
                if crate::lexicon::is_function_word(w) && !allowed.contains(&w) {
                    bad.push(format!("{}: {:?} by {w:?}", rule.id, p.pattern.toks));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_linter_is_shareable_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Linter>();
    shareable::<Finding>();
}
