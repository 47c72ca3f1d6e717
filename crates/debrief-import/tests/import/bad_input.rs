//! Bad input: nothing makes an importer panic, and what is too large is refused without being read.

use std::io::{Cursor, Read};

use debrief_import::slack::SlackExport;
use debrief_import::{
    ErrorKind, FieldMapping, Format, ImportError, Options, alertmanager, csv, github, grafana,
    import, jsonl, kubernetes, opsgenie, pagerduty, transcript,
};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::{bytes, dir_files, fixture, ts, zip_of};

fn opts() -> Options {
    Options {
        file_name: Some("input".to_owned()),
        received_at: Some(ts("2026-03-05T00:00:00Z")),
        date: Some("2026-03-04".parse().expect("date")),
        ..Options::default()
    }
}

/// Runs every importer over `data`. They may refuse it; they must not panic, and whatever they
/// refuse they refuse with a message.
fn all_parsers(data: &[u8]) {
    let o = opts();
    let check = |r: Result<(), ImportError>| {
        if let Err(e) = r {
            assert!(!e.message.is_empty());
        }
    };
    check(alertmanager::parse(data, &o).map(drop));
    check(grafana::parse(data, &o).map(drop));
    check(pagerduty::parse(data, &o).map(drop));
    check(opsgenie::parse(data, &o).map(drop));
    check(github::parse(data, &o).map(drop));
    check(kubernetes::parse(data, &o).map(drop));
    check(csv::parse(data, &o).map(drop));
    check(jsonl::parse(data, &o).map(drop));
    check(transcript::parse(data, &o).map(drop));
    let mapped = Options {
        mapping: FieldMapping::parse(
            "time=a.b, description=c, actor=d, id=e, kind=f, milestone=g, link=h",
        )
        .expect("mapping"),
        ..o.clone()
    };
    check(jsonl::parse(data, &mapped).map(drop));
    check(csv::parse(data, &mapped).map(drop));
}

const FIXTURES: &[&str] = &[
    "alertmanager/firing.json",
    "alertmanager/resolved.json",
    "grafana/unified.json",
    "grafana/legacy.json",
    "pagerduty/v3.json",
    "pagerduty/v2.json",
    "opsgenie/events.jsonl",
    "github/deployment_status.json",
    "kubernetes/eventlist.json",
    "kubernetes/events-k8s-io.json",
    "csv/timeline.csv",
    "jsonl/log.jsonl",
    "transcript/irc.txt",
    "transcript/slack-paste.txt",
];

/// Keys the formats use, so that generated JSON reaches past the first checks.
const KEYS: &[&str] = &[
    "version",
    "alerts",
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "fingerprint",
    "generatorURL",
    "groupKey",
    "truncatedAlerts",
    "ruleName",
    "state",
    "evalMatches",
    "event",
    "event_type",
    "occurred_at",
    "id",
    "data",
    "incident",
    "messages",
    "log_entries",
    "created_on",
    "action",
    "alert",
    "alertId",
    "createdAt",
    "updatedAt",
    "priority",
    "tags",
    "deployment_status",
    "deployment",
    "created_at",
    "creator",
    "login",
    "items",
    "kind",
    "apiVersion",
    "metadata",
    "uid",
    "count",
    "series",
    "firstTimestamp",
    "eventTime",
    "type",
    "ts",
    "text",
    "user",
    "thread_ts",
    "files",
    "edited",
    "attachments",
    "subtype",
    "name",
    "time",
    "message",
    "description",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("4"),
            Just("firing"),
            Just("resolved"),
            Just("2026-03-05T00:00:00Z"),
            Just("0001-01-01T00:00:00Z"),
            Just("1772668810.000300"),
            Just("incident.triggered"),
            Just("Create"),
            Just("EventList"),
            Just("message"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// A fixture cut short and with a few bytes changed.
fn mangled_fixture() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(FIXTURES),
        any::<prop::sample::Index>(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    )
        .prop_map(|(file, cut, flips)| {
            let mut data = bytes(file);
            let len = cut.index(data.len() + 1);
            data.truncate(len);
            for (at, b) in flips {
                if !data.is_empty() {
                    let i = at.index(data.len());
                    data[i] = b;
                }
            }
            data
        })
}

fn slack_zip_with_day_file(day: Vec<u8>) -> Vec<u8> {
    let mut files = dir_files(&fixture("slack/export"), "");
    files.push(("incident-42/2026-03-06.json".to_owned(), day));
    zip_of(&files)
}

fn slack_collect(zip: Vec<u8>) {
    if let Ok(mut export) = SlackExport::from_zip(Box::new(Cursor::new(zip)), "p.zip") {
        let _ = export.collect(&Options::default());
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&data);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}(\n\\PC{0,80}){0,5}") {
        all_parsers(text.as_bytes());
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let data = serde_json::to_vec(&value).expect("json");
        all_parsers(&data);
        slack_collect(slack_zip_with_day_file(data));
    }

    #[test]
    fn mangled_fixtures_never_panic(data in mangled_fixture()) {
        all_parsers(&data);
    }

    #[test]
    fn arbitrary_zips_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend(data);
        slack_collect(zip);
    }

    #[test]
    fn arbitrary_day_files_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        slack_collect(slack_zip_with_day_file(data));
    }

    #[test]
    fn arbitrary_users_and_channels_never_panic(users in json_value(), channels in json_value()) {
        let mut files = dir_files(&fixture("slack/export"), "");
        for (name, data) in &mut files {
            if name == "users.json" {
                *data = serde_json::to_vec(&users).expect("json");
            }
            if name == "channels.json" {
                *data = serde_json::to_vec(&channels).expect("json");
            }
        }
        slack_collect(zip_of(&files));
    }
}

/// A reader of `len` bytes of `byte` that never holds them: a stand-in for a 2 GB upload.
fn endless(byte: u8, len: u64) -> impl Read {
    std::io::repeat(byte).take(len)
}

#[test]
fn two_gigabytes_are_refused_without_being_read() {
    const TWO_GB: u64 = 2 * 1024 * 1024 * 1024;
    let o = Options {
        max_bytes: 1024 * 1024,
        ..opts()
    };
    for format in [
        Format::Alertmanager,
        Format::Grafana,
        Format::PagerDuty,
        Format::Opsgenie,
        Format::GitHub,
        Format::Kubernetes,
        Format::Csv,
        Format::JsonLines,
        Format::Transcript,
    ] {
        let started = std::time::Instant::now();
        // Lines of a plausible shape, so the streaming formats read on until the limit.
        let input: Box<dyn Read> = match format {
            Format::Csv => Box::new(b"time,description\n".chain(endless(b'1', TWO_GB))),
            Format::Transcript => Box::new(endless(b'\n', TWO_GB)),
            _ => Box::new(endless(b' ', TWO_GB)),
        };
        let err = import(format, input, &o).expect_err("too large");
        assert_eq!(err.kind, ErrorKind::TooLarge, "{format}: {err}");
        assert_eq!(
            err.to_string(),
            "input: the input is larger than the limit of 1048576 bytes (1.0 MiB); refusing to read it (raise the limit if this file is expected)"
        );
        assert!(started.elapsed().as_secs() < 5, "{format} read too much");
    }
    // The byte-slice entry points check the length first.
    let big = vec![b' '; 2048];
    let small = Options {
        max_bytes: 1024,
        ..opts()
    };
    assert_eq!(
        alertmanager::parse(&big, &small)
            .expect_err("too large")
            .kind,
        ErrorKind::TooLarge
    );
}

#[test]
fn jsonl_lines_after_the_first_may_be_bad_but_a_first_bad_line_fails() {
    let data = b"{\"time\": \"2026-03-05T00:00:00Z\", \"message\": \"ok\"}\n{\"time\": \n";
    let report = jsonl::parse(&data[..], &opts()).expect("parses");
    assert_eq!(report.events.len(), 1);
    assert_eq!(report.rejected.len(), 1);
    let err = jsonl::parse(&b"{\"time\": \n"[..], &opts()).expect_err("first line");
    assert_eq!(err.kind, ErrorKind::Syntax);
}

type Parse = fn(&[u8], &Options) -> Result<(), ImportError>;

#[test]
fn every_error_kind_message_names_where() {
    let cases: [(&[u8], Parse); 4] = [
        (b"{", |d, o| alertmanager::parse(d, o).map(drop)),
        (b"[1, 2", |d, o| pagerduty::parse(d, o).map(drop)),
        (b"", |d, o| opsgenie::parse(d, o).map(drop)),
        (b"{\"items\": 3}", |d, o| kubernetes::parse(d, o).map(drop)),
    ];
    for (data, parse) in cases {
        let err = parse(data, &opts()).expect_err("bad");
        assert!(err.to_string().starts_with("input"), "{err}");
    }
}
