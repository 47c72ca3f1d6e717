use debrief_core::action::SmartChecks;
use debrief_core::{
    Account, ActionDocument, ActionFields, ActionStatus, Actor, ActorKind, ContributingFactor,
    EventFields, EventKind, KeyMoment, Link, LinkKind, Moment, Outcome, ParticipantFields,
    PostmortemDocument, PostmortemFields, Priority, ProgressUpdate, Question, RemediationIdea,
    Role, Status, Zone,
};

use crate::{export, import};

fn berlin() -> Zone {
    "Europe/Berlin".parse().expect("zone")
}

fn at(s: &str) -> Moment {
    Moment::parse(s, &berlin()).expect("moment")
}

fn p<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect(s)
}

/// A postmortem with every field set, including the awkward ones.
fn rich() -> PostmortemDocument {
    let mut f = PostmortemFields::new(p("Checkout latency | spike"), p("SEV2"));
    f.summary = "Checkout requests timed out for 68 minutes.\n\n## Timeline\n\nA heading that \
                 looks like ours, and one that does not:\n\n# Background\n\n```sh\n# restart\n## Notes\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        .to_owned();
    f.impact = "About 2,300 orders failed.\n\\## Impact".to_owned();
    f.services = vec![p("checkout"), p("payments-api")];
    f.tags = vec![p("database"), p("config")];
    f.key_moments.started = Some(at("2024-05-01 10:00"));
    f.key_moments.detected = Some(at("2024-05-01 10:07"));
    f.key_moments.acknowledged = Some(at("2024-05-01 10:09:30"));
    f.key_moments.mitigated = Some(at("2024-05-01 11:08"));
    f.key_moments.resolved = Some(at("2024-05-02"));
    f.customer_statement.regret = "We are sorry that checkout failed.".to_owned();
    f.customer_statement.reason = "A configuration change\nreduced the connection pool.".to_owned();
    f.customer_statement.remedy = "We now alert on pool saturation.".to_owned();
    f.incident_cost = Some(p("about €12k in refunds"));
    f.factors = vec![
        ContributingFactor {
            category: p("change"),
            text: p("The pool size change was reviewed as a no-op."),
        },
        ContributingFactor {
            category: p("monitoring gap"),
            text: p("No alert on pool | saturation."),
        },
    ];
    f.lessons.what_helped = vec![p("The runbook for the database was current.")];
    f.lessons.what_slowed_us = vec![p("Dashboards were split across two tools.")];
    f.lessons.do_differently = vec![p("Roll out config changes gradually.")];
    f.lessons.know_now = vec![p("The pool is shared by checkout and refunds.")];
    f.lessons.got_lucky = vec![p("It happened during office hours."), p("**Bold:** lesson")];
    f.ideas = vec![
        RemediationIdea {
            question: Question::Detect,
            text: p("Alert on pool saturation"),
        },
        RemediationIdea {
            question: Question::OtherRisks,
            text: p("Audit other shared pools"),
        },
    ];
    f.links = vec![
        Link {
            kind: LinkKind::Dashboard,
            url: p("https://grafana.example/d/checkout"),
            title: Some(p("Checkout [prod] dashboard")),
        },
        Link {
            kind: LinkKind::MergeRequest,
            url: p("https://git.example/mr/42"),
            title: None,
        },
    ];
    f.notes = "Follow-up review on **Friday**.\n\n- one\n- two".to_owned();
    f.meeting.scheduled_at = Some(at("2024-05-03 14:00"));
    f.meeting.location = Some(p("Room 4 / video"));
    f.meeting.facilitator = Some(p("Dana Ruiz"));
    f.meeting.notes = "Agreed on three actions.\n\n  Indented line kept.".to_owned();

    let mut e1 = EventFields::new(
        at("2024-05-01 10:00"),
        EventKind::Milestone,
        p("Deploy 2024.5.1 rolled out"),
    );
    e1.milestone = Some(KeyMoment::Started);
    e1.actor = Some(Actor {
        kind: ActorKind::System,
        name: p("deploy-bot"),
    });
    e1.source = p("github");
    e1.source_id = Some("  deploy #991 \"x\"".to_owned());
    let mut e2 = EventFields::new(
        at("2024-05-01 10:07:12.25"),
        EventKind::Alert,
        p("PoolSaturation fired\nsecond line with a | pipe and <br> tag"),
    );
    e2.actor = Some(Actor {
        kind: ActorKind::Person,
        name: p("team:not-a-team"),
    });
    e2.account_of = Some(p("Ana"));
    e2.account = Account {
        knew: "The alert had fired twice that week.".to_owned(),
        expected: "It to clear by itself.\n\n```\n## Timeline\n```".to_owned(),
        assumed: "That the deploy was unrelated.".to_owned(),
    };
    e2.outcome = Some(Outcome::Hindered);
    e2.differently = "Check recent deploys first.".to_owned();
    e2.links = vec![Link {
        kind: LinkKind::Chat,
        url: p("https://chat.example/m/1"),
        title: Some(p("Ana's message")),
    }];
    e2.hidden = true;
    e2.pinned = true;
    let e3 = EventFields::new(at("2024-05-02"), EventKind::Note, p("Day-precision note"));

    let mut a1 = ActionFields::new(
        p("Alert on pool saturation"),
        Question::Detect,
        p("payments-team"),
        p("2024-06-01"),
    );
    a1.description =
        "Page when the pool is above 90% for 5 minutes.\n\nSee the dashboard.".to_owned();
    a1.due = Some(p("2024-06-15"));
    a1.priority = Priority::High;
    a1.status = ActionStatus::InProgress;
    a1.volunteer = true;
    a1.estimated_cost = Some(p("2 days"));
    a1.tracker = Some(p("https://jira.example/browse/PAY-1"));
    a1.smart = SmartChecks {
        specific: true,
        success_criterion: "Alert fires within 2 minutes in a game day.".to_owned(),
        agreed_by_owner: true,
        realistic: false,
    };
    let mut a2 = ActionFields::new(
        p("Share the pool"),
        Question::Prevent,
        p("Ana"),
        p("2024-06-10"),
    );
    a2.status = ActionStatus::Declined {
        reason: p("Covered by the queue migration"),
    };
    a2.priority = Priority::Low;

    let mut alice = ParticipantFields::new(p("Ana"), Role::IncidentLead);
    alice.contact = Some(p("ana@example.com | @ana"));
    alice.attended = true;
    alice.circumstances = "Paged at night.\nOn her second week.".to_owned();
    let vp = ParticipantFields::new(p("VP Eng"), Role::Stakeholder);

    PostmortemDocument {
        key: Some(p("PM-42")),
        status: Status::InReview,
        fields: f,
        events: vec![e1, e2, e3],
        actions: vec![
            ActionDocument {
                fields: a1,
                progress: vec![
                    ProgressUpdate {
                        at: p("2024-05-10T08:30:00.123456789Z"),
                        author: p("Ana"),
                        note: p("Dashboard drafted | reviewed"),
                        new_check_in: Some(p("2024-06-08")),
                    },
                    ProgressUpdate {
                        at: p("2024-05-12T09:00:00Z"),
                        author: p("Ben"),
                        note: p("Alert rule merged"),
                        new_check_in: None,
                    },
                ],
            },
            ActionDocument {
                fields: a2,
                progress: Vec::new(),
            },
        ],
        participants: vec![alice, vp],
    }
}

#[test]
fn rich_document_round_trips_and_reads_well() {
    let doc = rich();
    let md = export(&doc, &berlin());
    for expected in [
        "# PM-42: Checkout latency | spike\n",
        "- **Status:** in_review\n",
        "- **Severity:** SEV2\n",
        "- **Services:** checkout, payments-api\n",
        "- **Times in:** Europe/Berlin\n",
        "## Summary\n",
        "\\## Timeline\n",
        "\n\\\\## Impact\n",
        "- **Detected:** 2024-05-01 10:07 +02:00 (time to detect: 7m)\n",
        "- **Acknowledged:** 2024-05-01 10:09:30 +02:00 (time to acknowledge: 2m 30s)\n",
        "- **Mitigated:** 2024-05-01 11:08 +02:00 (time to mitigate: 1h 08m)\n",
        "- **change:** The pool size change was reviewed as a no-op.\n",
        "### What helped us\n",
        "### Detect: how could we detect this sooner?\n",
        "| # | Time | Kind | Actor | Description | Outcome | Source |\n",
        "| 1 | 2024-05-01 10:00 +02:00 | milestone (started) | system:deploy-bot | Deploy 2024.5.1 rolled out |  | github |\n",
        "PoolSaturation fired<br>second line with a \\| pipe and \\<br> tag",
        "person:team:not-a-team",
        "### Event 2\n",
        "- **Knew:** The alert had fired twice that week.\n",
        "- **Link:** chat: [Ana's message](https://chat.example/m/1)\n",
        "| # | Title | Owner | Check-in | Due | Priority | Status | Category |\n",
        "| 1 | Alert on pool saturation | payments-team | 2024-06-01 | 2024-06-15 | high | in_progress | detect |\n",
        "- **Declined because:** Covered by the queue migration\n",
        "- **SMART checks met:** specific, agreed by owner\n",
        "| 2024-05-10 10:30:00.123456789 +02:00 | Ana | Dashboard drafted \\| reviewed | 2024-06-08 |\n",
        "| 1 | Ana | incident_lead | yes | yes | ana@example.com \\| @ana |\n",
        "| 2 | VP Eng | stakeholder | no | no |  |\n",
        "- **dashboard:** [Checkout \\[prod\\] dashboard](https://grafana.example/d/checkout)\n",
        "## Meeting\n",
        "## Notes\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    // Event 3 and participant 2 have nothing beyond their row.
    assert!(!md.contains("### Event 3"), "{md}");
    assert!(!md.contains("### Participant 2"), "{md}");
    // Sections are in the documented order.
    let order: Vec<usize> = [
        "## Summary",
        "## Impact",
        "## Key moments",
        "## Customer statement",
        "## Timeline",
        "## Action items",
        "## Notes",
    ]
    .iter()
    .map(|h| md.find(&format!("\n{h}\n")).expect(h))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{md}");

    let back = import(&md).unwrap_or_else(|e| panic!("{e}\n{md}"));
    assert_eq!(back, doc);
    assert_eq!(export(&back, &berlin()), md);
}

#[test]
fn minimal_document_is_short() {
    let doc = PostmortemDocument {
        key: None,
        status: Status::Draft,
        fields: PostmortemFields::new(p("Search was slow"), p("SEV4")),
        events: Vec::new(),
        actions: Vec::new(),
        participants: Vec::new(),
    };
    let md = export(&doc, &Zone::utc());
    assert_eq!(
        md,
        "# Search was slow\n\n- **Status:** draft\n- **Severity:** SEV4\n- **Times in:** UTC\n"
    );
    assert_eq!(import(&md).expect("import"), doc);
}

#[test]
fn a_title_that_looks_keyed_without_a_key_is_escaped() {
    let mut doc = rich();
    doc.key = None;
    doc.fields.title = p("PM-7: the sequel");
    let md = export(&doc, &berlin());
    assert!(md.starts_with("# \\PM-7: the sequel\n"), "{md}");
    assert_eq!(import(&md).expect("import"), doc);
}

#[test]
fn other_zone_shows_the_same_instants() {
    let doc = rich();
    let la: Zone = p("America/Los_Angeles");
    let md = export(&doc, &la);
    assert!(
        md.contains("- **Started:** 2024-05-01 01:00 -07:00\n"),
        "{md}"
    );
    let back = import(&md).expect("import");
    assert_eq!(export(&back, &la), md);
    assert_eq!(
        back.events[1].happened_at.at(),
        doc.events[1].happened_at.at()
    );
    assert_eq!(back.actions[0].progress, doc.actions[0].progress);
    // Day-precision moments keep their own zone and date.
    assert!(
        md.contains("- **Resolved:** 2024-05-02[Europe/Berlin] (time to resolve: "),
        "{md}"
    );
    assert_eq!(
        back.fields.key_moments.resolved,
        doc.fields.key_moments.resolved
    );
    assert_eq!(back.events[2].happened_at, doc.events[2].happened_at);
}

#[test]
fn a_day_in_another_zone_keeps_its_date() {
    let la: Zone = p("America/Los_Angeles");
    let day = at("2024-05-01");
    let mut f = PostmortemFields::new(p("Cert expiry"), p("SEV3"));
    f.key_moments.started = Some(day.clone());
    f.meeting.scheduled_at = Some(day.clone());
    let doc = PostmortemDocument {
        key: None,
        status: Status::Draft,
        fields: f,
        events: vec![EventFields::new(
            day.clone(),
            EventKind::Note,
            p("Certificate expired"),
        )],
        actions: Vec::new(),
        participants: Vec::new(),
    };
    let md = export(&doc, &la);
    for expected in [
        "- **Times in:** America/Los_Angeles\n",
        "- **Started:** 2024-05-01[Europe/Berlin]\n",
        "| 1 | 2024-05-01[Europe/Berlin] | note |",
        "- **Scheduled:** 2024-05-01[Europe/Berlin]\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    assert!(!md.contains("2024-04-30"), "{md}");
    let back = import(&md).unwrap_or_else(|e| panic!("{e}\n{md}"));
    assert_eq!(back, doc);
    assert_eq!(back.fields.key_moments.started.as_ref(), Some(&day));
    assert_eq!(back.events[0].happened_at, day);
    assert_eq!(back.fields.meeting.scheduled_at.as_ref(), Some(&day));
    assert_eq!(export(&back, &la), md);
    // In its own zone, the day is written plainly.
    let md = export(&doc, &berlin());
    assert!(md.contains("- **Started:** 2024-05-01\n"), "{md}");
    assert!(!md.contains("[Europe/Berlin]"), "{md}");
    assert_eq!(import(&md).expect("import"), doc);
    // A fixed offset zone works the same way.
    let india: Zone = p("+05:30");
    let mut doc = doc;
    let day = Moment::parse("2024-05-01", &india).expect("day");
    doc.fields.key_moments.started = Some(day.clone());
    let md = export(&doc, &la);
    assert!(md.contains("- **Started:** 2024-05-01[+05:30]\n"), "{md}");
    assert_eq!(import(&md).expect("import"), doc);
}

#[test]
fn hand_written_file_is_read_forgivingly() {
    let md = "\
\u{feff}
#   PM-9:   Queue backlog   \r
- **status:** In review
- **Severity:** sev1
- **Time zone:** +05:30

## TIMELINE

| Description | Time | Kind |
|:------------|:----:|-----:|
| Backlog grew | 2024-05-01 10:00 | alert |
|Consumers restarted|2024-05-01 10:20|action|

###   event 2
- **differently:** Restart earlier.

##  action   items

| Owner | Title | Check-in | Category |
| --- | --- | --- | --- |
| Ana | Alert on backlog | 2024-06-01 | Quick fix |

## Summary

Backlog grew.
## Unknown heading inside free text stays text

## Lessons learned

### what slowed us down
- Too many dashboards
-
";
    let doc = import(md).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc.key, Some(p("PM-9")));
    assert_eq!(doc.fields.title.as_str(), "Queue backlog");
    assert_eq!(doc.status, Status::InReview);
    assert_eq!(doc.fields.severity.level(), 1);
    assert_eq!(doc.events.len(), 2);
    assert_eq!(doc.events[0].happened_at.zone().name(), "+05:30");
    assert_eq!(doc.events[1].differently, "Restart earlier.");
    assert_eq!(doc.actions[0].fields.category, Question::QuickFix);
    assert_eq!(doc.actions[0].fields.priority, Priority::Medium);
    assert_eq!(doc.actions[0].fields.status, ActionStatus::Open);
    assert_eq!(
        doc.fields.summary,
        "Backlog grew.\n## Unknown heading inside free text stays text"
    );
    assert_eq!(
        doc.fields.lessons.what_slowed_us,
        vec![p("Too many dashboards")]
    );
}

fn expect_error(md: &str, line: usize, message: &str) {
    let e = import(md).expect_err("should not import");
    assert_eq!(e.line, line, "{e}");
    assert!(
        e.message.contains(message),
        "{e} does not contain {message:?}"
    );
    assert_eq!(e.to_string(), format!("line {}: {}", e.line, e.message));
}

const HEAD: &str = "# PM-1: Outage\n\n- **Severity:** SEV2\n- **Times in:** UTC\n";

#[test]
fn not_a_postmortem() {
    expect_error(
        "Some notes\n# Title\n",
        1,
        "not a Debrief postmortem: expected a first heading \"# PM-<n>: <title>\" or \"# <title>\"",
    );
    expect_error("\n\n## Summary\n", 3, "not a Debrief postmortem");
    expect_error("", 1, "not a Debrief postmortem");
    expect_error("#\n", 1, "title: must not be empty");
    // A comment that never closes hides everything after it.
    expect_error("<!-- licence\n# Title\n", 1, "not a Debrief postmortem");
}

#[test]
fn leading_html_comments_are_skipped() {
    let doc = import("<!-- Source: our wiki -->\n\n<!--\n  kept in git\n-->\n# PM-3: Outage\n\n- **Severity:** SEV2\n")
        .expect("import");
    assert_eq!(doc.fields.title.as_str(), "Outage");
    assert_eq!(doc.key.map(|k| k.number()), Some(3));
    // Errors still name the file's own line numbers.
    expect_error("<!-- x -->\n# Outage\n\n- **Severity:** SEV9\n", 4, "SEV9");
}

#[test]
fn bad_severity() {
    expect_error(
        "# Outage\n\n- **Severity:** SEV9\n",
        3,
        "severity: \"SEV9\" is not a severity: expected one of SEV1, SEV2, SEV3, SEV4",
    );
    expect_error("# Outage\n\n- **Status:** draft\n", 1, "needs a severity");
}

#[test]
fn bad_time() {
    let md = format!(
        "{HEAD}\n## Timeline\n\n| # | Time | Kind | Description |\n|---|---|---|---|\n| 1 | 2024-05-01 10:00 | alert | Paged |\n| 2 | yesterday | action | Restarted |\n"
    );
    expect_error(
        &md,
        11,
        "timeline event 2: time: \"yesterday\" is not a time",
    );
    let md = format!("{HEAD}\n## Key moments\n\n- **Started:** 2024-13-01\n");
    expect_error(&md, 8, "key moments: started: \"2024-13-01\" is not a time");
}

#[test]
fn missing_owner_and_check_in() {
    let table = "| # | Title | Owner | Check-in | Category |\n|---|---|---|---|---|\n";
    let md = format!(
        "{HEAD}\n## Action items\n\n{table}| 1 | Alert | Ana | 2024-06-01 | detect |\n| 2 | Be careful |  | 2024-06-01 | prevent |\n"
    );
    expect_error(&md, 11, "action item 2: owner: must not be empty");
    let md = format!("{HEAD}\n## Action items\n\n{table}| 1 | Alert | Ana |  | detect |\n");
    expect_error(&md, 10, "action item 1: check-in: must not be empty");
    let md = format!(
        "{HEAD}\n## Action items\n\n| # | Title | Check-in | Category |\n|---|---|---|---|\n| 1 | Alert | 2024-06-01 | detect |\n"
    );
    expect_error(&md, 8, "action items: the table needs a \"owner\" column");
    let md = format!(
        "{HEAD}\n## Action items\n\n{table}| 1 | Alert | Ana | 2024-06-01 | detect |\n\n### Action 1\n\n- **Declined because:** not needed\n"
    );
    expect_error(
        &md,
        10,
        "action item 1: a \"Declined because\" reason is given but the status is \"open\"",
    );
}

#[test]
fn wrong_column_count() {
    let md = format!(
        "{HEAD}\n## Timeline\n\n| # | Time | Kind | Description |\n|---|---|---|---|\n| 1 | 2024-05-01 10:00 | alert | Paged | extra |\n"
    );
    expect_error(
        &md,
        10,
        "timeline: this row has 5 cells but the header has 4",
    );
}

#[test]
fn unknown_sections_fields_and_columns() {
    expect_error(
        &format!("{HEAD}\n## Root cause\n\n- x\n"),
        6,
        "unknown section \"Root cause\": expected one of Summary, Impact",
    );
    expect_error(
        &format!("{HEAD}- **Owner:** Ana\n"),
        5,
        "unknown field \"owner\"",
    );
    expect_error(
        &format!(
            "{HEAD}\n## Participants\n\n| Name | Role | Mood |\n|--|--|--|\n| Ana | responder | fine |\n"
        ),
        8,
        "participants: unknown column \"Mood\"",
    );
    expect_error(
        &format!("{HEAD}\n## Participants\n\n| Name | Role |\n|--|--|\n| Ana | hero |\n"),
        10,
        "participant 1: role: \"hero\" is not a role",
    );
    expect_error(
        &format!("{HEAD}\n## Summary\n\nx\n\n## Summary\n\ny\n"),
        10,
        "section \"Summary\" appears twice (first at line 6)",
    );
    expect_error(
        &format!(
            "{HEAD}\n## Timeline\n\n| Time | Kind | Description |\n|--|--|--|\n| 2024-05-01 | alert | x |\n\n### Event 4\n\n- **Knew:** y\n"
        ),
        12,
        "there is no event 4 in the timeline table",
    );
    expect_error(
        &format!(
            "{HEAD}\n## Timeline\n\n| Time | Kind | Description |\n|--|--|--|\n| 2024-05-01 | alert (detected) | x |\n"
        ),
        10,
        "timeline event 1: milestone: only a milestone event can set a key moment",
    );
    expect_error(
        &format!("{HEAD}\n## Contributing factors\n\n- **bad luck!:** x\n"),
        8,
        "contributing factor 1: category:",
    );
}

#[test]
fn never_panics_on_fragments() {
    let md = export(&rich(), &berlin());
    // Every prefix, and every line dropped in turn: an error or a document, never a panic.
    for (i, _) in md.char_indices() {
        let _ = import(md.get(..i).unwrap_or(""));
    }
    let lines: Vec<&str> = md.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        let _ = import(&text.join("\n"));
    }
}
