use debrief_core::{ActorKind, EventKind, KeyMoment, LinkKind, Precision};
use debrief_import::{ErrorKind, FieldMapping, Format, Options, csv, import, jsonl, transcript};

use crate::support::{assert_unique_ids, bytes, ids, ts};

fn opts(file: &str) -> Options {
    Options {
        file_name: Some(file.to_owned()),
        ..Options::default()
    }
}

#[test]
fn csv_rows_become_events_and_bad_rows_are_rejected() {
    let report = csv::parse(&bytes("csv/timeline.csv")[..], &opts("t.csv")).expect("parses");
    let got: Vec<(String, EventKind, &str)> = report
        .events
        .iter()
        .map(|e| {
            (
                e.happened_at.at().to_string(),
                e.kind,
                e.description.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-03-04T23:55:00Z".to_owned(),
                EventKind::Alert,
                "Checkout 5xx alert fired"
            ),
            (
                "2026-03-04T23:05:00Z".to_owned(),
                EventKind::Decision,
                "Started rollback of 2.3.1, \"fast path\""
            ),
            (
                "2026-03-05T00:41:00Z".to_owned(),
                EventKind::Milestone,
                "Error rate back to normal"
            ),
            (
                "2026-03-05T00:55:00Z".to_owned(),
                EventKind::CommunicationOut,
                "Posted the status page update"
            ),
        ]
    );
    let first = &report.events[0];
    assert_eq!(first.source.as_str(), "csv");
    assert_eq!(first.happened_at.precision(), Precision::Minute);
    let actor = first.actor.as_ref().expect("actor");
    assert_eq!(
        (actor.kind, actor.name.as_str()),
        (ActorKind::System, "prometheus")
    );
    assert_eq!(first.links[0].kind, LinkKind::Other);
    assert_eq!(report.events[2].milestone, Some(KeyMoment::Resolved));

    let mut rejected: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
    // The domain's own wording follows the field name.
    let first = rejected.remove(0);
    assert!(
        first.starts_with("t.csv:3: Milestone: only a milestone event can set a key moment"),
        "{first}"
    );
    assert_eq!(
        rejected,
        [
            "t.csv:7: Time: \"yesterday\" is not a time: expected YYYY-MM-DD HH:MM[:SS] (optionally with Z or an offset), an RFC 3339 time, an epoch time in seconds or milliseconds, or HH:MM with a date",
            "t.csv:8: Kind: \"explosion\" is not an event kind: expected one of detection, alert, report, action, communication_in, communication_out, observation, decision, milestone, note",
            "t.csv:9: What happened: empty: expected what happened",
        ]
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n
                == "t.csv:4: Link: \"not a url\" is not an http(s) URL; the link was left out"),
        "{:?}",
        report.notes
    );

    // Rows without an id get one from their content: the same file gives the same ids.
    let again = csv::parse(&bytes("csv/timeline.csv")[..], &opts("t.csv")).expect("parses");
    assert_eq!(ids(&report.events), ids(&again.events));
    assert_unique_ids(&report.events);
}

#[test]
fn csv_with_a_mapping_a_semicolon_and_times_of_day() {
    let data = bytes("csv/mapped.csv");
    let err = csv::parse(&data[..], &opts("m.csv")).expect_err("no known columns");
    assert_eq!(err.kind, ErrorKind::Options);
    assert!(
        err.to_string().starts_with("m.csv:1: no column for the event's time: the header has the columns \"Ref\", \"Heure\", \"Qui\", \"Quoi\""),
        "{err}"
    );
    let mapped = Options {
        mapping: FieldMapping::parse("time=Heure, description=Quoi, actor=Qui, id=Ref")
            .expect("mapping"),
        date: Some("2026-03-04".parse().expect("date")),
        ..opts("m.csv")
    };
    let report = csv::parse(&data[..], &mapped).expect("parses");
    assert_eq!(ids(&report.events), ["INC-1", "INC-2"]);
    assert_eq!(
        report.events[0].happened_at.at(),
        ts("2026-03-04T23:55:00Z")
    );
    let bad = Options {
        mapping: FieldMapping::parse("time=When").expect("mapping"),
        ..opts("m.csv")
    };
    let err = csv::parse(&data[..], &bad).expect_err("missing column");
    assert!(
        err.message.contains("names the column \"When\" for time"),
        "{err}"
    );
}

#[test]
fn csv_empty_input_is_refused() {
    let err = csv::parse(&b"  \n"[..], &opts("e.csv")).expect_err("empty");
    assert_eq!(err.kind, ErrorKind::Format);
    assert!(err.message.contains("empty"), "{err}");
}

#[test]
fn json_lines() {
    let report = jsonl::parse(&bytes("jsonl/log.jsonl")[..], &opts("log.jsonl")).expect("parses");
    let got: Vec<(String, &str)> = report
        .events
        .iter()
        .map(|e| (e.happened_at.at().to_string(), e.description.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-03-04T23:55:40.125Z".to_owned(),
                "checkout pool exhausted"
            ),
            ("2026-03-04T23:58:10Z".to_owned(), "rollback requested"),
            ("2026-03-05T00:10:00Z".to_owned(), "rollback requested"),
            ("2026-03-05T00:20:00Z".to_owned(), "error rate normal"),
        ]
    );
    assert_eq!(report.events[0].source.as_str(), "jsonl");
    assert_eq!(report.events[0].source_id.as_deref(), Some("log-1"));
    assert_eq!(report.events[1].kind, EventKind::Decision);
    assert_eq!(report.events[3].links.len(), 1);
    assert_unique_ids(&report.events);
    let rejected: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(rejected[0].starts_with("log.jsonl:5:"), "{}", rejected[0]);
    assert!(rejected[0].contains("truncated"), "{}", rejected[0]);
    assert_eq!(
        rejected[1],
        "log.jsonl:6: expected a JSON object, found an array"
    );
    assert_eq!(
        rejected[2],
        "log.jsonl:7: description: empty: expected what happened"
    );
}

#[test]
fn json_lines_with_nested_fields() {
    let data = br#"{"event": {"at": "2026-03-05T00:01:00Z", "what": "db failover"}, "by": "team:database"}"#;
    let o = Options {
        mapping: FieldMapping::parse("time=event.at, description=event.what").expect("mapping"),
        ..Options::default()
    };
    let report = jsonl::parse(&data[..], &o).expect("parses");
    let e = &report.events[0];
    assert_eq!(e.description.as_str(), "db failover");
    assert_eq!(e.actor.as_ref().map(|a| a.kind), Some(ActorKind::Team));
}

#[test]
fn json_lines_that_are_not() {
    let err = jsonl::parse(&b"time,description\n1,2\n"[..], &opts("x.csv")).expect_err("csv");
    assert_eq!(err.kind, ErrorKind::Syntax);
    assert!(err.to_string().starts_with("x.csv:1:"), "{err}");
    assert!(err.message.contains("expected JSON lines"), "{err}");
    let err = jsonl::parse(&b"[1]\n"[..], &opts("y")).expect_err("array");
    assert!(
        err.message.contains("found an array on the first line"),
        "{err}"
    );
}

#[test]
fn transcripts_in_common_forms() {
    let o = Options {
        date: Some("2026-03-04".parse().expect("date")),
        ..opts("irc.txt")
    };
    let report = transcript::parse(&bytes("transcript/irc.txt")[..], &o).expect("parses");
    let got: Vec<(String, Option<&str>, &str)> = report
        .events
        .iter()
        .map(|e| {
            (
                e.happened_at.display_local(),
                e.actor.as_ref().map(|a| a.name.as_str()),
                e.description.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-03-04 23:55 +00:00".to_owned(),
                Some("dana"),
                "checkout errors climbing, anyone deploying?"
            ),
            (
                "2026-03-04 23:56:30 +00:00".to_owned(),
                Some("sam"),
                "not me. looking at the dashboard"
            ),
            (
                "2026-03-04 23:58 +00:00".to_owned(),
                Some("Lee"),
                "pool size was lowered in the 23:40 deploy\nand the connections are capped at 20"
            ),
            (
                "2026-03-04 23:59 +00:00".to_owned(),
                Some("dana"),
                "dana starts the rollback"
            ),
            // Past midnight: the next day.
            (
                "2026-03-05 00:02 +00:00".to_owned(),
                Some("dana"),
                "rollback done, error rate dropping"
            ),
            // A line a minute out of order stays on its day.
            (
                "2026-03-05 00:01 +00:00".to_owned(),
                Some("sam"),
                "(late) confirmed on eu-west"
            ),
            (
                "2026-03-05 00:30 +00:00".to_owned(),
                Some("dana"),
                "all clear"
            ),
        ]
    );
    assert_eq!(report.events[0].source.as_str(), "transcript");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("past midnight 1 time")),
        "{:?}",
        report.notes
    );
    assert!(
        report.notes.iter().any(|n| n.contains("1 join/leave")),
        "{:?}",
        report.notes
    );
    let again = transcript::parse(&bytes("transcript/irc.txt")[..], &o).expect("parses");
    assert_eq!(ids(&report.events), ids(&again.events));
    assert_unique_ids(&report.events);
}

#[test]
fn transcripts_pasted_from_a_chat_client() {
    let o = Options {
        date: Some("2026-03-04".parse().expect("date")),
        zone: "Europe/Berlin".parse().expect("zone"),
        ..opts("paste.txt")
    };
    let report = transcript::parse(&bytes("transcript/slack-paste.txt")[..], &o).expect("parses");
    let got: Vec<(String, &str)> = report
        .events
        .iter()
        .map(|e| (e.happened_at.display_local(), e.description.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-03-04 23:55 +01:00".to_owned(),
                "checkout errors climbing"
            ),
            (
                "2026-03-04 23:58 +01:00".to_owned(),
                "looking\nat the pool metrics"
            ),
            ("2026-03-05 00:03 +01:00".to_owned(), "rollback finished"),
        ]
    );
    assert_eq!(
        report.events[0].happened_at.at(),
        ts("2026-03-04T22:55:00Z")
    );
}

#[test]
fn transcripts_need_a_date_and_times() {
    let err = transcript::parse(&b"[10:00] a: b\n"[..], &opts("t.txt")).expect_err("no date");
    assert_eq!(err.kind, ErrorKind::Options);
    assert!(err.message.contains("give the date"), "{err}");
    // The window's start gives the date when no date is given.
    let o = Options {
        since: Some(ts("2026-03-04T09:00:00Z")),
        ..opts("t.txt")
    };
    let report = transcript::parse(&b"[10:00] a: b\n"[..], &o).expect("parses");
    assert_eq!(
        report.events[0].happened_at.at(),
        ts("2026-03-04T10:00:00Z")
    );
    let prose = "Just some prose.\n".repeat(30);
    let o = Options {
        date: Some("2026-03-04".parse().expect("date")),
        ..opts("prose.txt")
    };
    let err = transcript::parse(prose.as_bytes(), &o).expect_err("prose");
    assert_eq!(err.kind, ErrorKind::Format);
    assert!(err.message.contains("starts with a time"), "{err}");
}

#[test]
fn the_dispatcher_reads_every_format_but_slack() {
    let o = Options {
        date: Some("2026-03-04".parse().expect("date")),
        received_at: Some(ts("2026-03-04T23:57:00Z")),
        ..Options::default()
    };
    for (format, file, events) in [
        (Format::Alertmanager, "alertmanager/firing.json", 2),
        (Format::Grafana, "grafana/legacy.json", 1),
        (Format::PagerDuty, "pagerduty/v2.json", 2),
        (Format::Opsgenie, "opsgenie/events.jsonl", 4),
        (Format::GitHub, "github/deployment_status.json", 1),
        (Format::Kubernetes, "kubernetes/eventlist.json", 2),
        (Format::Csv, "csv/timeline.csv", 4),
        (Format::JsonLines, "jsonl/log.jsonl", 4),
        (Format::Transcript, "transcript/irc.txt", 7),
    ] {
        let report =
            import(format, &bytes(file)[..], &o).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(report.events.len(), events, "{format}");
        assert!(
            report
                .events
                .iter()
                .all(|e| e.source.as_str() == format.as_str()),
            "{format}"
        );
        assert_eq!(format.as_str().parse::<Format>(), Ok(format));
    }
    assert!(import(Format::Slack, &b""[..], &o).is_err());
    assert_eq!("ndjson".parse::<Format>(), Ok(Format::JsonLines));
    assert!(
        "xml"
            .parse::<Format>()
            .expect_err("unknown")
            .contains("expected one of slack")
    );
}
