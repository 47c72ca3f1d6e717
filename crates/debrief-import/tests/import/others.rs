use debrief_core::{ActorKind, EventKind, LinkKind};
use debrief_import::{ErrorKind, Options, github, kubernetes};

use crate::support::{assert_unique_ids, bytes, ts};

fn opts(file: &str) -> Options {
    Options {
        file_name: Some(file.to_owned()),
        ..Options::default()
    }
}

#[test]
fn github_deployment_status() {
    let report =
        github::parse(&bytes("github/deployment_status.json"), &opts("gh.json")).expect("parses");
    assert_eq!(report.events.len(), 1);
    let e = &report.events[0];
    assert_eq!(e.source.as_str(), "github");
    assert_eq!(e.source_id.as_deref(), Some("deployment_status:900001"));
    assert_eq!(e.kind, EventKind::Action);
    assert_eq!(e.happened_at.at(), ts("2026-03-04T23:40:10Z"));
    assert_eq!(
        e.description.as_str(),
        "Deployment of `release/2.3.1` (3f9c2a1) to production: failure — acme/checkout\n\nhealth check failed"
    );
    let actor = e.actor.as_ref().expect("creator");
    assert_eq!(
        (actor.kind, actor.name.as_str()),
        (ActorKind::System, "deploy-robot[bot]")
    );
    let links: Vec<(LinkKind, &str)> = e.links.iter().map(|l| (l.kind, l.url.as_str())).collect();
    assert_eq!(
        links,
        [
            (LinkKind::CiRun, "https://ci.example.com/deploys/77/log"),
            (LinkKind::CiRun, "https://ci.example.com/deploys/77"),
            (LinkKind::Other, "https://shop.example.com"),
            (
                LinkKind::Other,
                "https://github.com/acme/checkout/commit/3f9c2a1d0e4b5a6978c1d2e3f4a5b6c7d8e9f0a1"
            ),
        ]
    );
}

#[test]
fn github_other_events_are_refused_or_rejected() {
    let err = github::parse(&bytes("github/push.json"), &opts("push.json")).expect_err("push");
    assert_eq!(err.kind, ErrorKind::Format);
    assert_eq!(
        err.to_string(),
        "push.json: deployment_status: missing: expected a GitHub deployment_status (or deployment) webhook"
    );
    // In a file of several payloads, the others are still read.
    let mut both = bytes("github/deployment_status.json");
    both.push(b'\n');
    both.extend(bytes("github/push.json"));
    let report = github::parse(&both, &opts("hooks.jsonl")).expect("parses");
    assert_eq!(report.events.len(), 1);
    assert_eq!(report.rejected.len(), 1);
    assert!(
        report.rejected[0]
            .to_string()
            .starts_with("hooks.jsonl:17: deployment_status: missing"),
        "{}",
        report.rejected[0]
    );
}

#[test]
fn kubernetes_core_events_with_counts_and_series() {
    let report =
        kubernetes::parse(&bytes("kubernetes/eventlist.json"), &opts("ev.json")).expect("parses");
    assert_eq!(report.events.len(), 2);
    let backoff = &report.events[0];
    assert_eq!(backoff.source.as_str(), "kubernetes");
    assert_eq!(
        backoff.source_id.as_deref(),
        Some("0b1e0c4e-1111-4000-8000-000000000001")
    );
    assert_eq!(backoff.kind, EventKind::Observation);
    assert_eq!(backoff.happened_at.at(), ts("2026-03-04T23:55:40Z"));
    assert_eq!(
        backoff.description.as_str(),
        "Warning BackOff on Pod shop/checkout-7d9f: Back-off restarting failed container checkout (×14, last at 2026-03-05 00:12:05 +00:00)"
    );
    assert_eq!(
        backoff.actor.as_ref().map(|a| a.name.as_str()),
        Some("kubelet")
    );
    let scaled = &report.events[1];
    assert_eq!(scaled.happened_at.at(), ts("2026-03-05T00:03:00.25Z"));
    assert!(
        scaled
            .description
            .as_str()
            .ends_with("(×3, last at 2026-03-05 00:04:30 +00:00)"),
        "{}",
        scaled.description
    );
    assert_eq!(
        scaled.actor.as_ref().map(|a| a.name.as_str()),
        Some("deployment-controller")
    );
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(
        report.rejected[0].to_string(),
        "ev.json: items[2].firstTimestamp: missing: expected a time (firstTimestamp, eventTime or metadata.creationTimestamp)"
    );
}

#[test]
fn kubernetes_events_api() {
    let report = kubernetes::parse(&bytes("kubernetes/events-k8s-io.json"), &opts("new.json"))
        .expect("parses");
    assert_eq!(report.events.len(), 1);
    let e = &report.events[0];
    assert_eq!(e.happened_at.at(), ts("2026-03-04T23:56:02Z"));
    assert_eq!(
        e.description.as_str(),
        "Warning OOMKilling on Pod shop/checkout-7d9f: Memory cgroup out of memory: killed process 4242 (checkout) (×4, last at 2026-03-04 23:59:40 +00:00)"
    );
    assert_eq!(e.actor.as_ref().map(|a| a.name.as_str()), Some("kubelet"));
    assert_unique_ids(&report.events);
}

#[test]
fn kubernetes_refuses_yaml_and_other_objects() {
    let err =
        kubernetes::parse(b"apiVersion: v1\nkind: List\n", &opts("ev.yaml")).expect_err("yaml");
    assert_eq!(
        err.to_string(),
        "ev.yaml:1: this looks like YAML: export the events as JSON (kubectl get events -o json)"
    );
    let err = kubernetes::parse(br#"{"kind": "Pod", "metadata": {}}"#, &opts("pod.json"))
        .expect_err("pod");
    assert!(err.message.contains("not Kubernetes events"), "{err}");
    let err = kubernetes::parse(br#"{"kind": "PodList", "items": []}"#, &opts("pods.json"))
        .expect_err("pods");
    assert!(err.message.contains("is not a list of events"), "{err}");
}

#[test]
fn windows_apply_to_every_format() {
    let opts = Options {
        since: Some(ts("2026-03-05T00:00:00Z")),
        ..Options::default()
    };
    let report = kubernetes::parse(&bytes("kubernetes/eventlist.json"), &opts).expect("parses");
    assert_eq!(report.events.len(), 1);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("outside the time window"))
    );
    let report = github::parse(&bytes("github/deployment_status.json"), &opts).expect("parses");
    assert!(report.events.is_empty());
}
