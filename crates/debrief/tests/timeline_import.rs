//! End-to-end tests of `debrief timeline import` against a temporary SQLite database, with small
//! synthetic inputs written by each test: what is added, what a re-import adds (nothing), what is
//! rejected and why, and that a bad input or a dry run writes nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "debrief-import-{name}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// Writes `text` to `file` (creating its folder) and returns the file's path as a string.
    fn write(&self, file: &str, text: &str) -> String {
        let path = self.path(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        std::fs::write(&path, text).expect("write fixture");
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run of the binary printed, and its exit code.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    #[track_caller]
    fn ok(self) -> Out {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    #[track_caller]
    fn fails(self, code: i32) -> Out {
        assert_eq!(self.code, code, "expected exit {code}: {self:#?}");
        assert!(
            self.stdout.is_empty(),
            "nothing on stdout on failure: {self:#?}"
        );
        assert!(
            self.stderr.starts_with("error: "),
            "errors start with error: — {self:#?}"
        );
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// A fresh SQLite database with one postmortem, PM-1.
struct Db {
    url: String,
}

impl Db {
    fn new(dir: &TempDir) -> Db {
        let db = Db {
            url: format!("sqlite://{}", dir.path("debrief.db").display()),
        };
        db.run(&["new", "Checkout errors after config push"]).ok();
        db
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_debrief"));
        c.env_remove("DEBRIEF_DATABASE_URL")
            .env_remove("DEBRIEF_ZONE")
            .env_remove("DEBRIEF_USER")
            .args(["--database", &self.url, "--zone", "UTC", "--as", "tester"])
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Out {
        let out = self.command(args).output().expect("run debrief");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// Runs with `input` on standard input.
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Out {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run debrief");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait for debrief");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// The timeline of PM-1, hidden events included.
    fn events(&self) -> Vec<Value> {
        let out = self
            .run(&["timeline", "list", "PM-1", "--all", "--json"])
            .ok();
        out.json().as_array().expect("a list of events").clone()
    }

    /// `timeline import PM-1 --format FORMAT PATH ARGS… --json`, expected to succeed.
    fn import(&self, format: &str, path: &str, more: &[&str]) -> Value {
        let mut args = vec![
            "timeline", "import", "PM-1", "--format", format, path, "--json",
        ];
        args.extend_from_slice(more);
        self.run(&args).ok().json()
    }
}

fn counts(summary: &Value) -> (u64, u64, u64) {
    let n = |k: &str| {
        summary[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {summary}"))
    };
    (n("added"), n("already_present"), n("rejected_count"))
}

fn descriptions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["description"].as_str().expect("description").to_owned())
        .collect()
}

const CSV: &str = "\
Time (UTC),Who,Kind,What happened,ID
2024-03-05 14:02,system:alertmanager,alert,Checkout error-rate alert fired,r1
2024-03-05 14:05,Dana Ruiz,action,Rolled back the config push,r2
2024-03-05 14:07,Sam,note,
soon,Sam,note,Customers still see errors,r4
2024-03-05 14:31,Dana Ruiz,milestone,Error rate back to normal,r5
";

#[test]
fn csv_import_adds_each_row_once_and_lists_rejected_rows() {
    let dir = TempDir::new("csv");
    let db = Db::new(&dir);
    let file = dir.write("timeline.csv", CSV);

    let first = db.import("csv", &file, &[]);
    assert_eq!(counts(&first), (3, 0, 2), "{first:#}");
    let rejected = first["rejected"].as_array().expect("rejected rows");
    assert!(
        rejected[0]["location"]
            .as_str()
            .is_some_and(|l| l.ends_with("timeline.csv:4: What happened")),
        "the empty description names its line and column: {first:#}"
    );
    assert!(
        rejected[1]["location"]
            .as_str()
            .is_some_and(|l| l.ends_with("timeline.csv:5: Time (UTC)")),
        "{first:#}"
    );
    assert!(
        rejected[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("\"soon\" is not a time")),
        "{first:#}"
    );
    let events = db.events();
    assert_eq!(
        descriptions(&events),
        [
            "Checkout error-rate alert fired",
            "Rolled back the config push",
            "Error rate back to normal"
        ]
    );
    assert_eq!(events[0]["source"], "csv");
    assert_eq!(events[0]["source_id"], "r1");
    assert_eq!(events[0]["kind"], "alert");

    // The same file again: nothing added, the same rows rejected.
    let again = db.import("csv", &file, &[]);
    assert_eq!(counts(&again), (0, 3, 2), "{again:#}");
    assert_eq!(db.events().len(), 3);

    // The text summary says the same, with each rejected row on its own line.
    let text = db
        .run(&["timeline", "import", "PM-1", "--format", "csv", &file])
        .ok()
        .stdout;
    assert!(
        text.starts_with("Imported ") && text.contains("0 added, 3 already present, 2 rejected."),
        "{text}"
    );
    assert!(
        text.contains("timeline.csv:5: Time (UTC): \"soon\" is not a time"),
        "{text}"
    );

    // Standard input, with a mapping for columns the importer would not guess and a date for rows
    // that hold only a time of day.
    let piped = db.run_with_stdin(
        &[
            "timeline",
            "import",
            "PM-1",
            "--format",
            "csv",
            "-",
            "--json",
            "--date",
            "2024-03-05",
            "--map",
            "time=At,description=Said",
        ],
        "At,Said\n14:40,Status page updated\n",
    );
    let piped = piped.ok().json();
    assert_eq!(counts(&piped), (1, 0, 0), "{piped:#}");
    let events = db.events();
    let last = events.last().expect("an event");
    assert_eq!(last["description"], "Status page updated");
    assert!(
        last["happened_at"].to_string().contains("2024-03-05T14:40"),
        "{last:#}"
    );
}

#[test]
fn a_slack_export_keeps_threads_and_skips_joins() {
    let dir = TempDir::new("slack");
    let db = Db::new(&dir);
    dir.write(
        "export/channels.json",
        r#"[{"id": "C0INC42", "name": "incident-42"}, {"id": "C0RANDOM", "name": "random"}]"#,
    );
    dir.write(
        "export/users.json",
        r#"[{"id": "U0DANA", "name": "dana", "real_name": "Dana Ruiz"},
            {"id": "U0SAM", "name": "sam", "profile": {"real_name": "Sam Ortiz"}}]"#,
    );
    dir.write(
        "export/incident-42/2024-03-05.json",
        r#"[
          {"type": "message", "user": "U0DANA", "text": "Checkout errors are climbing, <@U0SAM> can you look?",
           "ts": "1709647320.000100", "thread_ts": "1709647320.000100", "reply_count": 1},
          {"type": "message", "subtype": "channel_join", "user": "U0SAM",
           "text": "<@U0SAM> has joined the channel", "ts": "1709647330.000200"},
          {"type": "message", "user": "U0SAM", "text": "Looking at the deploy log now",
           "ts": "1709647380.000300", "thread_ts": "1709647320.000100", "parent_user_id": "U0DANA"}
        ]"#,
    );
    dir.write(
        "export/random/2024-03-05.json",
        r#"[{"type": "message", "user": "U0SAM", "text": "lunch?", "ts": "1709647400.000100"}]"#,
    );
    let export = dir.path("export").display().to_string();

    let summary = db.import("slack", &export, &["--channel", "incident-42"]);
    assert_eq!(counts(&summary), (2, 0, 0), "{summary:#}");
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("join/leave"),
        "the skipped join is noted: {summary:#}"
    );

    let events = db.events();
    assert_eq!(events.len(), 2, "{events:#?}");
    let (parent, reply) = (&events[0], &events[1]);
    assert_eq!(parent["source"], "slack");
    assert_eq!(parent["source_id"], "C0INC42/1709647320.000100");
    assert_eq!(parent["actor"]["name"], "Dana Ruiz");
    assert!(
        parent["description"]
            .as_str()
            .is_some_and(|d| d.contains("@Sam Ortiz")),
        "mentions become names: {parent:#}"
    );
    assert_eq!(reply["actor"]["name"], "Sam Ortiz");
    assert!(
        reply["description"]
            .as_str()
            .is_some_and(|d| d.contains("C0INC42/1709647320.000100")),
        "the reply names its thread's first message: {reply:#}"
    );

    // Again, now with every channel: only the other channel's message is new.
    let again = db.import("slack", &export, &[]);
    assert_eq!(counts(&again), (1, 2, 0), "{again:#}");

    // A Slack export is a directory or a zip, never standard input.
    db.run(&["timeline", "import", "PM-1", "--format", "slack", "-"])
        .fails(2);
    // An unknown channel is refused, naming the ones there are.
    let err = db
        .run(&[
            "timeline",
            "import",
            "PM-1",
            "--format",
            "slack",
            &export,
            "--channel",
            "ops",
        ])
        .fails(1);
    assert!(err.stderr.contains("incident-42"), "{err:#?}");
}

const ALERTMANAGER: &str = r#"{
  "version": "4",
  "groupKey": "{}:{alertname=\"CheckoutErrors\"}",
  "status": "firing",
  "receiver": "debrief",
  "groupLabels": {"alertname": "CheckoutErrors"},
  "commonLabels": {"alertname": "CheckoutErrors", "severity": "critical"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager.example:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout"},
      "annotations": {"summary": "Checkout error rate above 5%"},
      "startsAt": "2024-03-05T14:02:11.123456789+01:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus.example:9090/graph?g0.expr=x",
      "fingerprint": "c0ffee0000000001"
    }
  ]
}
"#;

#[test]
fn an_alertmanager_payload_adds_its_alerts() {
    let dir = TempDir::new("alertmanager");
    let db = Db::new(&dir);
    let file = dir.write("alerts.json", ALERTMANAGER);

    let summary = db.import("alertmanager", &file, &[]);
    assert_eq!(counts(&summary), (1, 0, 0), "{summary:#}");
    let events = db.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["source"], "alertmanager");
    assert_eq!(events[0]["kind"], "alert");
    assert!(
        events[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("CheckoutErrors")),
        "{:#}",
        events[0]
    );
    assert!(
        events[0]["happened_at"]
            .to_string()
            .contains("2024-03-05T13:02:11"),
        "the offset is honoured: {:#}",
        events[0]
    );
    // Alertmanager retries: the same notification again adds nothing.
    let again = db.import("alertmanager", &file, &[]);
    assert_eq!(counts(&again), (0, 1, 0), "{again:#}");
    // Outside the window, nothing is imported.
    let out = db.import("alertmanager", &file, &["--until", "2024-03-04"]);
    assert_eq!(counts(&out), (0, 0, 0), "{out:#}");
}

#[test]
fn a_bad_input_writes_nothing_and_names_where() {
    let dir = TempDir::new("bad");
    let db = Db::new(&dir);
    let good = dir.write("timeline.csv", CSV);
    db.import("csv", &good, &[]);
    let before = db.events();
    assert_eq!(before.len(), 3);

    // Cut off in the middle of the second line.
    let cut = &ALERTMANAGER[..ALERTMANAGER
        .find("\"status\": \"firing\",\n      \"labels\"")
        .expect("alert")];
    let truncated = dir.write("alerts.json", cut);
    let err = db
        .run(&[
            "timeline",
            "import",
            "PM-1",
            "--format",
            "alertmanager",
            &truncated,
        ])
        .fails(1);
    assert!(
        err.stderr.contains("alerts.json:") && err.stderr.contains("truncated"),
        "{err:#?}"
    );
    let line = err
        .stderr
        .split("alerts.json:")
        .nth(1)
        .and_then(|r| r.split(':').next());
    assert!(
        line.is_some_and(|l| l.parse::<u32>().is_ok()),
        "the message names the line: {err:#?}"
    );

    // Valid JSON lines until the size limit runs out: the rows read so far are not written either.
    let mut big = String::new();
    for i in 0..50 {
        big.push_str(&format!(
            "{{\"time\": \"2024-03-05T15:{:02}:00Z\", \"message\": \"line {i}\"}}\n",
            i % 60
        ));
    }
    let big = dir.write("big.jsonl", &big);
    let err = db
        .run(&[
            "timeline",
            "import",
            "PM-1",
            "--format",
            "jsonl",
            &big,
            "--max-size",
            "1K",
        ])
        .fails(1);
    assert!(
        err.stderr.contains("big.jsonl") && err.stderr.contains("limit"),
        "{err:#?}"
    );

    // Not CSV at all.
    let garbage = dir.path("garbage.csv");
    std::fs::write(&garbage, b"\x00\x01\x02\xff\xfe\n\x00\x00").expect("write");
    let out = db.run(&[
        "timeline",
        "import",
        "PM-1",
        "--format",
        "csv",
        &garbage.display().to_string(),
    ]);
    assert_ne!(out.code, 0, "{out:#?}");
    assert!(!out.stderr.contains("panicked"), "{out:#?}");

    assert_eq!(db.events(), before, "the timeline is unchanged");
}

#[test]
fn a_dry_run_counts_without_writing() {
    let dir = TempDir::new("dry");
    let db = Db::new(&dir);
    let file = dir.write("timeline.csv", CSV);

    let history = db.run(&["history", "PM-1", "--json"]).ok().json();
    let dry = db.import("csv", &file, &["--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(counts(&dry), (3, 0, 2), "{dry:#}");
    assert!(db.events().is_empty(), "a dry run writes nothing");
    assert_eq!(
        db.run(&["history", "PM-1", "--json"]).ok().json(),
        history,
        "nor any revision"
    );

    db.import("csv", &file, &[]);
    // Hidden events are still present: a re-import does not bring them back.
    let first_id = db.events()[0]["id"].to_string();
    db.run(&["timeline", "hide", "PM-1", &first_id]).ok();
    let dry = db.import("csv", &file, &["--dry-run"]);
    assert_eq!(counts(&dry), (0, 3, 2), "{dry:#}");
    let text = db
        .run(&[
            "timeline",
            "import",
            "PM-1",
            "--format",
            "csv",
            &file,
            "--dry-run",
        ])
        .ok()
        .stdout;
    assert!(
        text.starts_with("Dry run, nothing written:") && text.contains("0 would be added"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2_before_anything_is_read() {
    let dir = TempDir::new("usage");
    let db = Db::new(&dir);
    let file = dir.write("timeline.csv", CSV);
    let import = |more: &[&str]| {
        let mut args = vec!["timeline", "import", "PM-1"];
        args.extend_from_slice(more);
        db.run(&args)
    };

    let err = import(&["--format", "excel", &file]).fails(2);
    assert!(
        err.stderr.contains("slack")
            && err.stderr.contains("csv")
            && err.stderr.contains("transcript"),
        "the formats are listed: {err:#?}"
    );
    let err = import(&["--format", "csv", &file, "--channel", "ops"]).fails(2);
    assert!(
        err.stderr
            .contains("--channel applies to --format slack only"),
        "{err:#?}"
    );
    let err = import(&["--format", "transcript", &file]).fails(2);
    assert!(err.stderr.contains("--date"), "{err:#?}");
    import(&["--format", "csv", &file, "--since", "tomorrow"]).fails(2);
    import(&["--format", "csv", &file, "--map", "colour=Who"]).fails(2);
    import(&["--format", "csv", &file, "--max-size", "lots"]).fails(2);
    import(&[
        "--format",
        "csv",
        &file,
        "--since",
        "2024-03-06",
        "--until",
        "2024-03-05",
    ])
    .fails(2);

    // Run-time failures exit 1: a missing file, an unknown postmortem.
    let missing = dir.path("missing.csv").display().to_string();
    let err = import(&["--format", "csv", &missing]).fails(1);
    assert!(err.stderr.contains("missing.csv"), "{err:#?}");
    let err = db
        .run(&["timeline", "import", "PM-9", "--format", "csv", &file])
        .fails(1);
    assert!(err.stderr.contains("PM-9"), "{err:#?}");
    assert!(db.events().is_empty());
}

#[test]
fn a_transcript_needs_a_date_and_reads_its_lines() {
    let dir = TempDir::new("transcript");
    let db = Db::new(&dir);
    let file = dir.write(
        "chat.txt",
        "[23:58] dana: checkout errors again\n* sam has joined #incident\n[00:03] sam: rolling back\n",
    );
    let summary = db.import("transcript", &file, &["--date", "2024-03-05"]);
    assert_eq!(counts(&summary), (2, 0, 0), "{summary:#}");
    let events = db.events();
    assert!(
        events[1]["happened_at"]
            .to_string()
            .contains("2024-03-06T00:03"),
        "past midnight is the next day: {:#}",
        events[1]
    );
    assert!(Path::new(&file).exists());
}
