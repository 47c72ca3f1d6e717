use debrief_core::{ActorKind, EventKind, LinkKind, Precision};
use debrief_import::{AlertStatus, ErrorKind, Options, alertmanager, grafana, opsgenie, pagerduty};

use crate::support::{assert_unique_ids, bytes, ts};

fn opts(file: &str) -> Options {
    Options {
        file_name: Some(file.to_owned()),
        ..Options::default()
    }
}

#[test]
fn alertmanager_firing_alerts() {
    let batch = alertmanager::parse(&bytes("alertmanager/firing.json"), &opts("firing.json"))
        .expect("parses");
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    assert_eq!(batch.alerts.len(), 2);
    let group = &batch.groups[0];
    assert_eq!(group.group_key, "{}:{alertname=\"CheckoutErrors\"}");
    assert_eq!(group.status, Some(AlertStatus::Firing));
    assert_eq!(group.receiver, "debrief");
    assert_eq!(
        group.common_labels.get("severity").map(String::as_str),
        Some("page")
    );

    let a = &batch.alerts[0];
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.fingerprint, "5f0e4c3b2a191807");
    assert_eq!(
        a.group_key.as_deref(),
        Some("{}:{alertname=\"CheckoutErrors\"}")
    );
    assert_eq!(a.name, "CheckoutErrors");
    assert_eq!(a.severity.as_deref(), Some("page"));
    assert_eq!(a.ends_at, None, "year 1 means still firing");
    // The offset is honoured; nanoseconds are kept.
    assert_eq!(
        a.event.happened_at.at(),
        ts("2026-03-04T23:55:12.123456789Z")
    );
    assert_eq!(a.event.happened_at.precision(), Precision::Second);
    assert_eq!(a.event.kind, EventKind::Alert);
    assert_eq!(a.event.source.as_str(), "alertmanager");
    assert_eq!(
        a.event.source_id.as_deref(),
        Some("5f0e4c3b2a191807:2026-03-04T23:55:12.123456789Z:firing")
    );
    assert_eq!(
        a.event.description.as_str(),
        "**Firing:** CheckoutErrors — Checkout 5xx above 5%\n\n5xx ratio is 12.4% in eu-west-1\n\nLabels: region=eu-west-1, service=checkout, severity=page"
    );
    let actor = a.event.actor.as_ref().expect("actor");
    assert_eq!(
        (actor.kind, actor.name.as_str()),
        (ActorKind::System, "alertmanager")
    );
    let links: Vec<(LinkKind, &str)> = a
        .event
        .links
        .iter()
        .map(|l| (l.kind, l.url.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            (
                LinkKind::Dashboard,
                "https://prometheus.example.com/graph?g0.expr=checkout_5xx_ratio"
            ),
            (
                LinkKind::Document,
                "https://runbooks.example.com/checkout-errors"
            ),
        ]
    );

    // No fingerprint in the payload: computed from the labels as Alertmanager does; no status:
    // the group's.
    let b = &batch.alerts[1];
    assert_eq!(b.fingerprint, "53539ae90df033f0");
    assert_eq!(b.status, AlertStatus::Firing);
    assert!(b.event.links.is_empty());
}

#[test]
fn alertmanager_resolved_alerts_are_separate_events() {
    let firing =
        alertmanager::parse(&bytes("alertmanager/firing.json"), &opts("f")).expect("firing");
    let resolved =
        alertmanager::parse(&bytes("alertmanager/resolved.json"), &opts("resolved.json"))
            .expect("resolved");
    assert_eq!(resolved.alerts.len(), 1);
    let r = &resolved.alerts[0];
    assert_eq!(r.status, AlertStatus::Resolved);
    assert_eq!(r.fingerprint, firing.alerts[0].fingerprint);
    assert_eq!(r.event.happened_at.at(), ts("2026-03-05T00:41:00Z"));
    assert_eq!(r.ends_at, Some(ts("2026-03-05T00:41:00Z")));
    assert_eq!(
        r.event.source_id.as_deref(),
        Some("5f0e4c3b2a191807:2026-03-04T23:55:12.123456789Z:resolved")
    );
    assert_ne!(r.event.source_id, firing.alerts[0].event.source_id);
    assert!(
        r.event.description.as_str().starts_with(
            "**Resolved:** CheckoutErrors — Checkout 5xx above 5% (firing since 2026-03-04 23:55:12.123456789 +00:00)"
        ),
        "{}",
        r.event.description
    );

    // Bad alerts are rejected with their field path; the good one is kept.
    let rejected: Vec<String> = resolved.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(
        rejected[0].starts_with(
            "resolved.json: alerts[1].startsAt: \"2026-03-05T00:10:00\" has no offset"
        ),
        "{}",
        rejected[0]
    );
    assert!(
        rejected[1].starts_with(
            "resolved.json: alerts[2].endsAt: a resolved alert needs the time it ended"
        ),
        "{}",
        rejected[1]
    );
}

#[test]
fn alertmanager_retries_add_nothing() {
    let one = bytes("alertmanager/firing.json");
    let mut twice = one.clone();
    twice.push(b'\n');
    twice.extend_from_slice(&one);
    let batch = alertmanager::parse(&twice, &opts("retries.json")).expect("parses");
    assert_eq!(batch.alerts.len(), 2);
    assert!(
        batch.notes.iter().any(|n| n.contains("a retry")),
        "{:?}",
        batch.notes
    );
    let again = alertmanager::parse(&one, &opts("x")).expect("parses");
    let report = batch.into_report();
    assert_unique_ids(&report.events);
    assert_eq!(
        crate::support::ids(&report.events),
        crate::support::ids(&again.into_report().events)
    );
}

#[test]
fn alertmanager_wrong_version_is_refused() {
    let err = alertmanager::parse(&bytes("alertmanager/version3.json"), &opts("v3.json"))
        .expect_err("v3");
    assert_eq!(err.kind, ErrorKind::Format);
    assert_eq!(
        err.to_string(),
        "v3.json: version: expected \"4\" (Alertmanager webhook version 4), found the string \"3\": this version of the payload is not supported"
    );
    let err = alertmanager::parse(br#"{"alerts": []}"#, &opts("nov.json")).expect_err("no version");
    assert!(
        err.to_string()
            .starts_with("nov.json: version: missing: expected \"4\""),
        "{err}"
    );
}

#[test]
fn alertmanager_truncated_json_names_line_and_column() {
    let data = bytes("alertmanager/firing.json");
    let err = alertmanager::parse(&data[..400], &opts("cut.json")).expect_err("truncated");
    assert_eq!(err.kind, ErrorKind::Syntax);
    assert_eq!(err.location.file.as_deref(), Some("cut.json"));
    assert!(err.location.line.is_some() && err.location.column.is_some());
    assert!(err.message.contains("ends too early"), "{err}");
}

#[test]
fn grafana_unified_alerts() {
    let batch = grafana::parse(&bytes("grafana/unified.json"), &opts("g.json")).expect("parses");
    assert_eq!(batch.alerts.len(), 1);
    let a = &batch.alerts[0];
    assert_eq!(a.event.source.as_str(), "grafana");
    assert_eq!(a.severity.as_deref(), Some("critical"));
    assert_eq!(
        a.group_key.as_deref(),
        Some("{}/{severity=\"critical\"}:{alertname=\"HighLatency\"}")
    );
    assert_eq!(
        a.event.source_id.as_deref(),
        Some("aa11bb22cc33dd44:2026-03-04T23:54:00Z:firing")
    );
    assert!(
        a.event
            .description
            .as_str()
            .ends_with("Values: B=2.41, C=1"),
        "{}",
        a.event.description
    );
    let urls: Vec<&str> = a.event.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://grafana.example.com/alerting/grafana/abc/view",
            "https://grafana.example.com/d/checkout",
            "https://grafana.example.com/d/checkout?viewPanel=3"
        ]
    );
    assert_eq!(batch.groups[0].truncated_alerts, 2);
    assert!(
        batch
            .notes
            .iter()
            .any(|n| n.contains("left out 2 alert(s)")),
        "{:?}",
        batch.notes
    );
}

#[test]
fn grafana_legacy_alerts_use_the_receive_time_and_say_so() {
    let data = bytes("grafana/legacy.json");
    let err = grafana::parse(&data, &opts("legacy.json")).expect_err("needs a receive time");
    assert_eq!(err.kind, ErrorKind::Options);
    assert!(err.message.contains("carries no time"), "{err}");

    let with_time = Options {
        received_at: Some(ts("2026-03-04T23:57:41Z")),
        ..opts("legacy.json")
    };
    let batch = grafana::parse(&data, &with_time).expect("parses");
    let a = &batch.alerts[0];
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.severity.as_deref(), Some("warning"));
    assert_eq!(a.event.happened_at.precision(), Precision::Minute);
    assert_eq!(a.event.happened_at.at(), ts("2026-03-04T23:57:00Z"));
    assert!(
        a.event.description.as_str().contains(
            "_Time of receipt: the legacy Grafana alert format carries no time of its own._"
        ),
        "{}",
        a.event.description
    );
    assert_eq!(
        a.event.source_id.as_deref(),
        Some("legacy:1/7/3/12:alerting:2026-03-04T23:57:00Z")
    );
    assert!(
        batch
            .notes
            .iter()
            .any(|n| n.contains("the time it was received"))
    );
    // A retry within the same minute adds nothing.
    let later = Options {
        received_at: Some(ts("2026-03-04T23:57:55Z")),
        ..opts("legacy.json")
    };
    let again = grafana::parse(&data, &later).expect("parses");
    assert_eq!(again.alerts[0].event.source_id, a.event.source_id);
}

#[test]
fn grafana_refuses_other_json() {
    let err = grafana::parse(br#"{"hello": "world"}"#, &opts("o.json")).expect_err("other");
    assert!(err.message.contains("not a Grafana alert"), "{err}");
}

#[test]
fn pagerduty_v3_events() {
    let batch = pagerduty::parse(&bytes("pagerduty/v3.json"), &opts("pd.json")).expect("parses");
    assert_eq!(batch.alerts.len(), 3, "{:?}", batch.rejected);
    let [trigger, ack, note] = &batch.alerts[..] else {
        panic!("three events")
    };
    assert_eq!(trigger.status, AlertStatus::Firing);
    assert_eq!(trigger.group_key.as_deref(), Some("PINC042"));
    assert_eq!(trigger.severity.as_deref(), Some("P1"));
    assert_eq!(trigger.event.kind, EventKind::Alert);
    assert_eq!(
        trigger.event.source_id.as_deref(),
        Some("v3:01EVT0000TRIGGER")
    );
    assert_eq!(
        trigger.event.description.as_str(),
        "PagerDuty incident #42 triggered: Checkout 5xx above 5% (service checkout-api, priority P1, urgency high)"
    );
    assert_eq!(
        trigger.event.actor.as_ref().map(|a| a.kind),
        Some(ActorKind::System)
    );
    assert_eq!(trigger.event.links[0].kind, LinkKind::Ticket);

    assert_eq!(ack.status, AlertStatus::Acknowledged);
    assert_eq!(ack.event.kind, EventKind::Action);
    let who = ack.event.actor.as_ref().expect("agent");
    assert_eq!(
        (who.kind, who.name.as_str()),
        (ActorKind::Person, "Sam Ortiz")
    );

    assert_eq!(note.event.kind, EventKind::Note);
    assert_eq!(note.group_key.as_deref(), Some("PINC042"));
    assert!(
        note.event
            .description
            .as_str()
            .ends_with("\n\nRolling back 2.3.1"),
        "{}",
        note.event.description
    );

    assert!(
        batch.notes.iter().any(|n| n.contains("redelivery")),
        "{:?}",
        batch.notes
    );
    let rejected: Vec<String> = batch.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0],
        "pd.json: [4].event.occurred_at: \"yesterday\" is not a time: expected an RFC 3339 time such as 2024-03-05T14:02:11Z"
    );
}

#[test]
fn pagerduty_v2_messages_with_log_entries() {
    let batch = pagerduty::parse(&bytes("pagerduty/v2.json"), &opts("v2.json")).expect("parses");
    assert_eq!(batch.alerts.len(), 2);
    let trigger = &batch.alerts[0];
    assert_eq!(trigger.event.source_id.as_deref(), Some("v2:msg-0001"));
    assert_eq!(
        trigger.event.description.as_str(),
        "PagerDuty incident #42 triggered: Checkout 5xx above 5% (service checkout-api, urgency high)\n\nTriggered through the API"
    );
    let resolve = &batch.alerts[1];
    assert_eq!(resolve.status, AlertStatus::Resolved);
    assert_eq!(resolve.ends_at, Some(ts("2026-03-05T00:41:05Z")));
    assert_eq!(
        resolve.event.actor.as_ref().map(|a| a.name.as_str()),
        Some("Dana Ruiz")
    );
    assert_eq!(batch.rejected.len(), 1);
    assert_eq!(
        batch.rejected[0].to_string(),
        "v2.json: messages[2].incident: missing: expected the incident the message is about"
    );
    let err = pagerduty::parse(br#"{"incident": {}}"#, &opts("p.json")).expect_err("neither");
    assert!(err.message.contains("not a PagerDuty webhook"), "{err}");
}

#[test]
fn opsgenie_times_in_mixed_units() {
    let batch =
        opsgenie::parse(&bytes("opsgenie/events.jsonl"), &opts("og.jsonl")).expect("parses");
    let times: Vec<String> = batch
        .alerts
        .iter()
        .map(|a| a.event.happened_at.at().to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2026-03-04T23:56:12.123Z", // createdAt in milliseconds
            "2026-03-04T23:58:10.5Z",   // updatedAt in nanoseconds
            "2026-03-05T00:03:20Z",     // seconds
            "2026-03-05T00:41:00Z",     // microseconds
        ]
    );
    let statuses: Vec<AlertStatus> = batch.alerts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AlertStatus::Firing,
            AlertStatus::Acknowledged,
            AlertStatus::Updated,
            AlertStatus::Resolved
        ]
    );
    let create = &batch.alerts[0];
    assert_eq!(create.severity.as_deref(), Some("P1"));
    assert_eq!(
        create.group_key.as_deref(),
        Some("a1b2c3d4-0000-4000-8000-000000000042")
    );
    assert_eq!(
        create.event.description.as_str(),
        "Opsgenie alert #42 created: Checkout 5xx above 5% (P1; entity checkout-api; tags checkout, eu)"
    );
    assert_eq!(
        create.event.actor.as_ref().map(|a| a.kind),
        Some(ActorKind::System)
    );
    assert_eq!(
        batch.alerts[2].event.description.as_str(),
        "Note on Opsgenie alert #42 (Checkout 5xx above 5%): rollback started"
    );
    assert_eq!(
        batch.alerts[1]
            .event
            .actor
            .as_ref()
            .map(|a| a.name.as_str()),
        Some("sam@example.com")
    );
    assert_eq!(batch.rejected.len(), 1);
    assert_eq!(
        batch.rejected[0].to_string(),
        "og.jsonl:5: alert.alertId: missing: expected a string"
    );
    let report = batch.into_report();
    assert_unique_ids(&report.events);
}
