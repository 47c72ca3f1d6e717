use std::io::Cursor;

use debrief_core::{ActorKind, EventKind, LinkKind};
use debrief_import::slack::{SlackExport, SlackMessage};
use debrief_import::{ErrorKind, Options};

use crate::support::{assert_unique_ids, dir_files, fixture, ids, ts, zip_of};

fn export_dir() -> std::path::PathBuf {
    fixture("slack/export")
}

fn import_all(
    export: &mut SlackExport,
    opts: &Options,
) -> (Vec<SlackMessage>, debrief_import::slack::SlackSummary) {
    let mut messages = Vec::new();
    let summary = export
        .import(opts, &mut |m: SlackMessage| messages.push(m))
        .expect("imports");
    (messages, summary)
}

fn by_ts<'a>(messages: &'a [SlackMessage], ts: &str) -> &'a SlackMessage {
    messages
        .iter()
        .find(|m| m.ts == ts)
        .unwrap_or_else(|| panic!("no message {ts}"))
}

#[test]
fn a_directory_export_becomes_events() {
    let mut export = SlackExport::open(&export_dir()).expect("opens");
    let (messages, summary) = import_all(&mut export, &Options::default());
    assert_eq!(messages.len(), 9, "{messages:#?}");
    assert_eq!(summary.messages, 9);
    assert_eq!(summary.skipped_noise, 2, "the join and the topic change");

    let root = by_ts(&messages, "1772668680.000200");
    assert_eq!(root.channel_name, "incident-42");
    assert_eq!(root.thread_parent, None);
    let e = &root.event;
    assert_eq!(e.source.as_str(), "slack");
    assert_eq!(e.source_id.as_deref(), Some("C0INC0042/1772668680.000200"));
    assert_eq!(e.kind, EventKind::Note);
    assert_eq!(e.happened_at.at(), ts("2026-03-04T23:58:00.0002Z"));
    let actor = e.actor.as_ref().expect("actor");
    assert_eq!(
        (actor.kind, actor.name.as_str()),
        (ActorKind::Person, "Dana Ruiz")
    );
    assert_eq!(
        e.description.as_str(),
        "Checkout error rate is at **12%** since 23:55, see [the dashboard](https://grafana.example.com/d/checkout)"
    );

    // A reply names its parent by the parent's source id; a mention and a user group are resolved.
    let reply = by_ts(&messages, "1772668810.000300");
    assert_eq!(
        reply.thread_parent.as_deref(),
        Some("C0INC0042/1772668680.000200")
    );
    assert_eq!(
        reply.event.description.as_str(),
        "@Dana Ruiz looking, paging @db-oncall\n\n_Reply in thread slack C0INC0042/1772668680.000200_"
    );
    assert_eq!(
        reply.event.actor.as_ref().map(|a| a.name.as_str()),
        Some("Sam O.")
    );

    // An edited message keeps its final text and says when it was edited.
    let edited = by_ts(&messages, "1772668870.000400");
    assert!(
        edited
            .event
            .description
            .as_str()
            .starts_with("pool size was lowered in the 23:40 deploy & connections are capped")
    );
    assert!(
        edited
            .event
            .description
            .as_str()
            .ends_with("_(edited 2026-03-05 00:01:40 +00:00)_"),
        "{}",
        edited.event.description
    );
    assert_eq!(
        edited.event.actor.as_ref().map(|a| a.name.as_str()),
        Some("lee")
    );

    // A bot's attachment is its text; the bot is a system.
    let bot = by_ts(&messages, "1772668920.000500");
    assert_eq!(
        bot.event.description.as_str(),
        "Rollback started\ncheckout v2.3.1 → v2.3.0 [run 881](https://ci.example.com/runs/881)"
    );
    let actor = bot.event.actor.as_ref().expect("bot");
    assert_eq!(
        (actor.kind, actor.name.as_str()),
        (ActorKind::System, "deploybot")
    );

    // A file share is kept as a link.
    let file = by_ts(&messages, "1772668980.000600");
    assert_eq!(file.event.description.as_str(), "Shared error rate graph");
    assert_eq!(file.event.links.len(), 1);
    assert_eq!(file.event.links[0].kind, LinkKind::Document);
    assert_eq!(
        file.event.links[0].url.as_str(),
        "https://acme.slack.com/files/U0DANA001/F0GRAPH01/errors.png"
    );

    // Unknown users keep their id and are reported, not refused.
    let ghost = by_ts(&messages, "1772669100.000700");
    assert_eq!(
        ghost.event.description.as_str(),
        "@here error rate back to normal, cc @U0GHOST98 in #general"
    );
    assert_eq!(
        ghost.event.actor.as_ref().map(|a| a.name.as_str()),
        Some("U0GHOST99")
    );
    assert_eq!(summary.unknown_users.get("U0GHOST99"), Some(&1));
    assert_eq!(summary.unknown_users.get("U0GHOST98"), Some(&1));
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.contains("not in users.json") && n.contains("U0GHOST98")),
        "{:?}",
        summary.notes
    );

    // A direct message folder is named by its id; a channel mention with a label keeps it.
    assert_eq!(
        by_ts(&messages, "1772676100.000100").channel_name,
        "D0DIRECT1"
    );
    assert_eq!(
        by_ts(&messages, "1772669400.000100")
            .event
            .description
            .as_str(),
        "FYI checkout had errors, handled in #incident-42"
    );

    // Bad messages are rejected with their file and index; the rest is imported.
    assert_eq!(summary.rejected.len(), 2, "{:?}", summary.rejected);
    let shown: Vec<String> = summary.rejected.iter().map(ToString::to_string).collect();
    assert!(shown[0].ends_with("incident-42/2026-03-05.json: [6].ts: expected the message's ts as a string of epoch seconds (such as \"1736478514.897649\"), found a number"), "{}", shown[0]);
    assert!(
        shown[1].ends_with(
            "incident-42/2026-03-05.json: [7]: expected a message object, found a string"
        ),
        "{}",
        shown[1]
    );
    assert!(
        summary.notes.iter().any(|n| n.contains("not day files")),
        "{:?}",
        summary.notes
    );
}

#[test]
fn reimporting_gives_the_same_ids() {
    let opts = Options::default();
    let first = SlackExport::open(&export_dir())
        .expect("opens")
        .collect(&opts)
        .expect("first");
    let second = SlackExport::open(&export_dir())
        .expect("opens")
        .collect(&opts)
        .expect("second");
    assert_unique_ids(&first.events);
    assert_eq!(ids(&first.events), ids(&second.events));
    // Collected events are in time order.
    assert!(
        first
            .events
            .windows(2)
            .all(|w| w[0].happened_at <= w[1].happened_at)
    );
}

#[test]
fn a_zip_reads_like_its_directory_even_inside_a_folder() {
    let files = dir_files(&export_dir(), "Acme Slack export Mar 5 2026/");
    let zip = zip_of(&files);
    let mut from_zip =
        SlackExport::from_zip(Box::new(Cursor::new(zip)), "export.zip").expect("zip");
    let opts = Options::default();
    let zipped = from_zip.collect(&opts).expect("zip imports");
    let plain = SlackExport::open(&export_dir())
        .expect("dir")
        .collect(&opts)
        .expect("dir imports");
    assert_eq!(zipped.events, plain.events);
    assert_eq!(zipped.rejected.len(), plain.rejected.len());
    assert!(
        zipped.rejected[0]
            .location
            .to_string()
            .starts_with("export.zip/incident-42/2026-03-05.json"),
        "{}",
        zipped.rejected[0]
    );
}

#[test]
fn a_zip_file_on_disk_opens_too() {
    let dir = std::env::temp_dir().join(format!("debrief-import-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("export.zip");
    std::fs::write(&path, zip_of(&dir_files(&export_dir(), ""))).expect("write");
    let report = SlackExport::open(&path)
        .expect("opens")
        .collect(&Options::default())
        .expect("imports");
    assert_eq!(report.events.len(), 9);
    let json = dir.join("channels.json");
    std::fs::write(&json, b"[]").expect("write");
    let err = SlackExport::open(&json).expect_err("a single JSON file");
    assert_eq!(err.kind, ErrorKind::Format);
    assert!(err.message.contains("single JSON file"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn channel_and_window_select_messages() {
    let mut opts = Options {
        channels: vec!["#incident-42".to_owned()],
        since: Some(ts("2026-03-05T00:00:00Z")),
        until: Some(ts("2026-03-05T00:30:00Z")),
        ..Options::default()
    };
    let mut export = SlackExport::open(&export_dir()).expect("opens");
    let (messages, summary) = import_all(&mut export, &opts);
    let got: Vec<&str> = messages.iter().map(|m| m.ts.as_str()).collect();
    assert_eq!(
        got,
        [
            "1772668810.000300",
            "1772668870.000400",
            "1772668920.000500",
            "1772668980.000600",
            "1772669100.000700"
        ]
    );
    assert!(summary.outside_window >= 2, "{summary:?}");

    // A day file whose date cannot hold the window is not read at all.
    opts.since = Some(ts("2026-03-06T00:00:00Z"));
    opts.until = None;
    let (messages, summary) = import_all(&mut export, &opts);
    assert!(messages.is_empty());
    assert_eq!(summary.files_skipped, 1);
    assert_eq!(summary.files_read, 1);

    // Channels are found by id too.
    opts.channels = vec!["C0GENERAL".to_owned()];
    opts.since = None;
    let (messages, _) = import_all(&mut export, &opts);
    assert_eq!(messages.len(), 1);
}

#[test]
fn an_unknown_channel_lists_the_channels_there_are() {
    let opts = Options {
        channels: vec!["incident-43".to_owned()],
        ..Options::default()
    };
    let err = SlackExport::open(&export_dir())
        .expect("opens")
        .collect(&opts)
        .expect_err("no such channel");
    assert_eq!(err.kind, ErrorKind::Options);
    assert!(
        err.message.contains("no channel \"incident-43\"")
            && err.message.contains("general, incident-42"),
        "{err}"
    );
}

#[test]
fn a_workspace_address_gives_permalinks_and_thread_links() {
    let opts = Options {
        workspace_url: Some("https://acme.slack.com/".parse().expect("url")),
        ..Options::default()
    };
    let mut export = SlackExport::open(&export_dir()).expect("opens");
    let (messages, _) = import_all(&mut export, &opts);
    let reply = by_ts(&messages, "1772668810.000300");
    let links: Vec<(LinkKind, &str)> = reply
        .event
        .links
        .iter()
        .map(|l| (l.kind, l.url.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            (
                LinkKind::Chat,
                "https://acme.slack.com/archives/C0INC0042/p1772668810000300?thread_ts=1772668680.000200&cid=C0INC0042"
            ),
            (
                LinkKind::Chat,
                "https://acme.slack.com/archives/C0INC0042/p1772668680000200"
            ),
        ]
    );
    assert_eq!(
        reply.event.links[1].title.as_ref().map(|t| t.as_str()),
        Some("Thread parent (slack C0INC0042/1772668680.000200)")
    );
    assert_eq!(
        reply.event.description.as_str(),
        "@Dana Ruiz looking, paging @db-oncall"
    );
}

#[test]
fn what_is_not_a_slack_export_is_refused_clearly() {
    // A zip without channels.json.
    let zip = zip_of(&[("notes/readme.txt".to_owned(), b"hello".to_vec())]);
    let err = SlackExport::from_zip(Box::new(Cursor::new(zip)), "x.zip").expect_err("not slack");
    assert_eq!(err.kind, ErrorKind::Format);
    assert_eq!(
        err.to_string(),
        "x.zip: not a Slack export: the zip has no channels.json (nor groups.json, mpims.json or dms.json)"
    );
    // Bytes that are not a zip.
    let err = SlackExport::from_zip(
        Box::new(Cursor::new(b"PK\x03\x04 broken".to_vec())),
        "y.zip",
    )
    .expect_err("broken");
    assert!(err.to_string().starts_with("y.zip: "), "{err}");
    // A directory without channels.json.
    let err = SlackExport::open(&fixture("csv")).expect_err("not slack");
    assert!(err.message.contains("no channels.json"), "{err}");
    // channels.json that is not a list.
    let zip = zip_of(&[("channels.json".to_owned(), b"{\"a\": 1}".to_vec())]);
    let err = SlackExport::from_zip(Box::new(Cursor::new(zip)), "z.zip")
        .expect("opens")
        .collect(&Options::default())
        .expect_err("not a list");
    assert_eq!(
        err.to_string(),
        "z.zip/channels.json: not a Slack export: expected a JSON array of conversations"
    );
}

#[test]
fn a_truncated_day_file_names_file_line_and_column() {
    let mut files = dir_files(&export_dir(), "");
    for (name, data) in &mut files {
        if name == "incident-42/2026-03-05.json" {
            data.truncate(300);
        }
    }
    let zip = zip_of(&files);
    let err = SlackExport::from_zip(Box::new(Cursor::new(zip)), "t.zip")
        .expect("opens")
        .collect(&Options::default())
        .expect_err("truncated");
    assert_eq!(err.kind, ErrorKind::Syntax);
    assert_eq!(
        err.location.file.as_deref(),
        Some("t.zip/incident-42/2026-03-05.json")
    );
    assert_eq!(err.location.line, Some(3));
    assert!(err.location.column.is_some());
    assert!(err.message.contains("ends too early"), "{err}");
}

#[test]
fn a_day_file_over_the_limit_is_refused_not_read() {
    let opts = Options {
        max_bytes: 1000,
        ..Options::default()
    };
    let err = SlackExport::open(&export_dir())
        .expect("opens")
        .collect(&opts)
        .expect_err("too large");
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert!(
        err.to_string()
            .contains("2026-03-05.json: the input is larger than the limit of 1000 bytes"),
        "{err}"
    );
}

#[test]
fn progress_is_reported_per_day_file() {
    struct Progress(Vec<(usize, usize)>);
    impl debrief_import::slack::SlackSink for Progress {
        fn message(&mut self, _: SlackMessage) {}
        fn progress(&mut self, done: usize, total: usize) {
            self.0.push((done, total));
        }
    }
    let mut p = Progress(Vec::new());
    SlackExport::open(&export_dir())
        .expect("opens")
        .import(&Options::default(), &mut p)
        .expect("imports");
    assert_eq!(p.0, [(1, 4), (2, 4), (3, 4), (4, 4)]);
}

#[test]
fn channels_are_listed() {
    let mut export = SlackExport::open(&export_dir()).expect("opens");
    let channels = export.channels(&Options::default()).expect("channels");
    assert_eq!(
        channels,
        [
            ("D0DIRECT1".to_owned(), "D0DIRECT1".to_owned()),
            ("C0GENERAL".to_owned(), "general".to_owned()),
            ("C0INC0042".to_owned(), "incident-42".to_owned()),
        ]
    );
}
