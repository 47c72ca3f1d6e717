//! End-to-end tests of the `debrief` binary against a temporary SQLite database (and PostgreSQL
//! when one is reachable): a newcomer's walk-through, and every kind of bad input.

use std::path::PathBuf;
use std::process::Command;
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
            "debrief-cli-{name}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
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

/// A database the CLI runs against.
struct Db {
    url: String,
}

impl Db {
    fn sqlite(dir: &TempDir, name: &str) -> Db {
        Db {
            url: format!("sqlite://{}", dir.path(name).display()),
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_env(&[], args)
    }

    fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Out {
        let out = Command::new(env!("CARGO_BIN_EXE_debrief"))
            .envs(env.iter().copied())
            .env_remove("DEBRIEF_DATABASE_URL")
            .env_remove("DEBRIEF_ZONE")
            .env_remove("DEBRIEF_USER")
            .args(["--database", &self.url, "--zone", "UTC", "--as", "tester"])
            .args(args)
            .output()
            .expect("run debrief");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }
}

/// A newcomer's first postmortem, then the Markdown round trip into `second` (an empty database).
fn walk_through(db: &Db, second: &Db, dir: &TempDir) {
    let out = db
        .run(&[
            "new",
            "Checkout errors after config push",
            "--severity",
            "SEV2",
            "--summary",
            "Checkout failed for 12% of orders for 40 minutes.",
            "--impact",
            "About 1,900 orders failed; customers saw a generic error page.",
            "--service",
            "checkout",
            "--started",
            "2024-05-01 10:00",
        ])
        .ok();
    assert_eq!(
        out.stdout,
        "Created PM-1: Checkout errors after config push\n"
    );

    db.run(&[
        "timeline",
        "add",
        "PM-1",
        "--at",
        "2024-05-01 10:07",
        "--kind",
        "alert",
        "--text",
        "Error-rate alert fired for checkout",
        "--actor",
        "system:alertmanager",
    ])
    .ok();
    let out = db
        .run(&[
            "timeline",
            "add",
            "PM-1",
            "--at",
            "2024-05-01T10:09:30Z",
            "--milestone",
            "detected",
            "--text",
            "Incident declared in #inc-checkout",
        ])
        .ok();
    assert!(out.stdout.contains("(sets detected)"), "{out:#?}");
    db.run(&[
        "timeline",
        "add",
        "PM-1",
        "--at",
        "2024-05-01 10:40",
        "--kind",
        "action",
        "--text",
        "Rolled back the config push",
        "--actor",
        "Ada",
        "--account-of",
        "Ada",
        "--knew",
        "The push was the only change in the last hour",
        "--outcome",
        "helped",
    ])
    .ok();
    let out = db
        .run(&[
            "action",
            "add",
            "PM-1",
            "--title",
            "Stage config pushes region by region",
            "--owner",
            "platform-team",
            "--check-in",
            "2024-06-01",
            "--success",
            "A bad push reaches at most one region",
        ])
        .ok();
    assert!(
        out.stdout.starts_with("Added action #1 to PM-1"),
        "{out:#?}"
    );
    db.run(&[
        "participant",
        "add",
        "PM-1",
        "--name",
        "Ada",
        "--role",
        "incident_lead",
        "--circumstances",
        "on call, daytime",
    ])
    .ok();

    let show = db.run(&["show", "PM-1"]).ok().stdout;
    for expected in [
        "PM-1  Checkout errors after config push",
        "Status draft · Severity SEV2",
        "Services: checkout",
        "2024-05-01 10:00 +00:00",
        "time to detect",
        "9m 30s",
        "Checkout failed for 12% of orders",
        "Readiness for review",
        "No one from customer support is listed",
        "Error-rate alert fired for checkout",
        "Knew: The push was the only change in the last hour",
        "Outcome: helped",
        "Stage config pushes region by region — owner platform-team, check-in 2024-06-01",
        "#1 Ada — incident lead, invited",
    ] {
        assert!(show.contains(expected), "show lacks {expected:?}:\n{show}");
    }

    let list = db.run(&["list"]).ok().stdout;
    assert!(list.starts_with("KEY"), "{list}");
    assert!(
        list.contains(
            "PM-1  draft   SEV2  2024-05-01  Checkout errors after config push  checkout"
        ),
        "{list}"
    );

    let hits = db.run(&["search", "rolled back"]).ok().stdout;
    assert!(hits.starts_with("PM-1"), "{hits}");

    let first = dir.path("pm-1.md");
    let first_str = first.to_str().expect("utf-8 path");
    db.run(&[
        "export", "PM-1", "--format", "markdown", "--output", first_str,
    ])
    .ok();
    let exported = std::fs::read_to_string(&first).expect("exported file");
    let stdout_export = db.run(&["export", "PM-1"]).ok().stdout;
    assert_eq!(stdout_export, exported, "--output writes what stdout shows");

    let out = second.run(&["import", first_str]).ok();
    assert_eq!(
        out.stdout,
        "Imported PM-1: Checkout errors after config push (3 events, 1 action, 1 participant)\n"
    );
    let again = second
        .run(&["export", "PM-1", "--format", "markdown"])
        .ok()
        .stdout;
    assert_eq!(again, exported, "export → import → export is the identity");
}

#[test]
fn newcomer_walk_through_on_sqlite() {
    let dir = TempDir::new("walk");
    let db = Db::sqlite(&dir, "one.db");
    let second = Db::sqlite(&dir, "nested/two.db");
    walk_through(&db, &second, &dir);

    // Importing the same file again: the key is taken.
    let file = dir.path("pm-1.md");
    let file = file.to_str().expect("path");
    let err = second.run(&["import", file]).fails(1);
    assert!(err.stderr.contains("PM-1 already exists"), "{err:#?}");
    assert!(err.stderr.contains("--new-key"), "{err:#?}");
    let out = second.run(&["import", "--new-key", file]).ok();
    assert!(out.stdout.starts_with("Imported PM-2: "), "{out:#?}");
}

#[test]
fn bad_severity_is_a_usage_error_naming_the_scale() {
    let dir = TempDir::new("sev");
    let db = Db::sqlite(&dir, "db.sqlite");
    let err = db.run(&["new", "Disk full", "--severity", "SEV9"]).fails(2);
    assert!(err.stderr.contains("severity"), "{err:#?}");
    assert!(err.stderr.contains("SEV1, SEV2, SEV3, SEV4"), "{err:#?}");
    assert_eq!(
        db.run(&["list", "--json"]).ok().json(),
        Value::Array(vec![])
    );
}

#[test]
fn malformed_times_name_the_expected_form() {
    let dir = TempDir::new("time");
    let db = Db::sqlite(&dir, "db.sqlite");
    db.run(&["new", "Disk full"]).ok();
    for bad in ["yesterday", "2024-13-01 10:00", "10:07", "2024-05-01 10"] {
        let err = db
            .run(&[
                "timeline", "add", "PM-1", "--at", bad, "--kind", "note", "--text", "x",
            ])
            .fails(2);
        assert!(err.stderr.contains("--at"), "{err:#?}");
        assert!(err.stderr.contains("YYYY-MM-DD HH:MM"), "{err:#?}");
    }
    let err = db.run(&["edit", "PM-1", "--resolved", "soon"]).fails(2);
    assert!(err.stderr.contains("--resolved"), "{err:#?}");
    assert_eq!(
        db.run(&["timeline", "list", "PM-1", "--all", "--json"])
            .ok()
            .json(),
        Value::Array(vec![])
    );
}

#[test]
fn an_action_needs_an_owner_and_a_check_in_date() {
    let dir = TempDir::new("action");
    let db = Db::sqlite(&dir, "db.sqlite");
    db.run(&["new", "Queue backlog"]).ok();
    let base = ["action", "add", "PM-1", "--title", "Alert on queue depth"];
    let no_owner = [&base[..], &["--check-in", "2024-06-01"]].concat();
    let err = db.run(&no_owner).fails(2);
    assert!(err.stderr.contains("--owner"), "{err:#?}");
    let no_check_in = [&base[..], &["--owner", "Ada"]].concat();
    let err = db.run(&no_check_in).fails(2);
    assert!(err.stderr.contains("--check-in"), "{err:#?}");
    let bad_date = [&base[..], &["--owner", "Ada", "--check-in", "next week"]].concat();
    let err = db.run(&bad_date).fails(2);
    assert!(err.stderr.contains("YYYY-MM-DD"), "{err:#?}");
    assert_eq!(
        db.run(&["action", "list", "--json"]).ok().json(),
        Value::Array(vec![]),
        "nothing was written"
    );
}

#[test]
fn unknown_keys_are_not_found() {
    let dir = TempDir::new("unknown");
    let db = Db::sqlite(&dir, "db.sqlite");
    for args in [
        &["show", "PM-99"][..],
        &["edit", "PM-99", "--summary", "x"],
        &[
            "timeline",
            "add",
            "PM-99",
            "--at",
            "2024-05-01",
            "--kind",
            "note",
            "--text",
            "x",
        ],
        &["export", "PM-99"],
        &["history", "PM-99"],
    ] {
        let err = db.run(args).fails(1);
        assert!(err.stderr.contains("PM-99 not found"), "{args:?}: {err:#?}");
    }
    let err = db.run(&["show", "PM-x"]).fails(2);
    assert!(err.stderr.contains("PM-<number>"), "{err:#?}");
}

#[test]
fn importing_a_file_that_is_not_a_postmortem_writes_nothing() {
    let dir = TempDir::new("import");
    let db = Db::sqlite(&dir, "db.sqlite");
    let file = dir.path("notes.md");
    std::fs::write(&file, "# Shopping list\n\n- milk\n- eggs\n").expect("write");
    let shown = file.display().to_string();
    let err = db.run(&["import", &shown]).fails(1);
    assert!(
        err.stderr.starts_with(&format!("error: {shown}:")),
        "names the file and line: {err:#?}"
    );
    let line = err.stderr[format!("error: {shown}:").len()..]
        .split(':')
        .next()
        .unwrap_or_default();
    assert!(line.parse::<u32>().is_ok(), "a line number: {err:#?}");

    let json = dir.path("broken.json");
    std::fs::write(&json, "{\n  \"title\": \"x\",\n  oops\n}\n").expect("write");
    let shown = json.display().to_string();
    let err = db.run(&["import", &shown]).fails(1);
    assert!(
        err.stderr.starts_with(&format!("error: {shown}:3: ")),
        "{err:#?}"
    );

    let err = db.run(&["import", "/nonexistent/pm.md"]).fails(1);
    assert!(
        err.stderr.contains("cannot read /nonexistent/pm.md"),
        "{err:#?}"
    );
    assert_eq!(
        db.run(&["list", "--json"]).ok().json(),
        Value::Array(vec![])
    );
}

#[test]
fn every_listing_prints_json() {
    let dir = TempDir::new("json");
    let db = Db::sqlite(&dir, "db.sqlite");
    db.run(&[
        "new",
        "Login slow",
        "--service",
        "auth",
        "--started",
        "2024-05-01 09:00",
    ])
    .ok();
    db.run(&[
        "timeline",
        "add",
        "PM-1",
        "--at",
        "2024-05-01 09:05",
        "--kind",
        "report",
        "--text",
        "Support reported slow logins",
    ])
    .ok();
    db.run(&[
        "action",
        "add",
        "PM-1",
        "--title",
        "Cache sessions",
        "--owner",
        "auth-team",
        "--check-in",
        "2024-05-15",
    ])
    .ok();
    db.run(&[
        "participant",
        "add",
        "PM-1",
        "--name",
        "Sam",
        "--role",
        "customer support",
    ])
    .ok();

    let new = db.run(&["new", "Second", "--json"]).ok().json();
    assert_eq!(new["key"], "PM-2");
    let list = db.run(&["list", "--json"]).ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let filtered = db.run(&["list", "--service", "auth", "--json"]).ok().json();
    assert_eq!(filtered.as_array().map(Vec::len), Some(1));
    let show = db.run(&["show", "PM-1", "--json"]).ok().json();
    assert_eq!(show["key"], "PM-1");
    assert_eq!(
        show["events"][0]["description"],
        "Support reported slow logins"
    );
    assert_eq!(show["actions"][0]["owner"], "auth-team");
    assert_eq!(show["participants"][0]["role"], "customer_support");
    assert_eq!(show["readiness"]["ready"], false);
    assert!(show["durations"].is_object());
    let timeline = db.run(&["timeline", "list", "PM-1", "--json"]).ok().json();
    assert_eq!(timeline.as_array().map(Vec::len), Some(1));
    let actions = db.run(&["action", "list", "--json"]).ok().json();
    assert_eq!(actions[0]["title"], "Cache sessions");
    let overdue = db
        .run(&["action", "list", "--overdue=2024-05-16", "--json"])
        .ok()
        .json();
    assert_eq!(overdue.as_array().map(Vec::len), Some(1));
    let not_yet = db
        .run(&["action", "list", "--overdue", "2024-05-15", "--json"])
        .ok()
        .json();
    assert_eq!(not_yet.as_array().map(Vec::len), Some(0));
    let people = db
        .run(&["participant", "list", "PM-1", "--json"])
        .ok()
        .json();
    assert_eq!(people[0]["name"], "Sam");
    let history = db.run(&["history", "PM-1", "--json"]).ok().json();
    assert!(
        history.as_array().is_some_and(|h| h.len() >= 4),
        "{history}"
    );
    assert_eq!(history[0]["actor"], "tester");
    let hits = db.run(&["search", "slow logins", "--json"]).ok().json();
    assert_eq!(hits[0]["key"], "PM-1");
    let doc = db.run(&["export", "PM-1", "--format", "json"]).ok().json();
    assert_eq!(doc["title"], "Login slow");

    // The JSON export imports back.
    let file = dir.path("pm-1.json");
    db.run(&[
        "export",
        "PM-1",
        "--format",
        "json",
        "--output",
        file.to_str().expect("path"),
    ])
    .ok();
    let out = db
        .run(&["import", "--new-key", file.to_str().expect("path")])
        .ok();
    assert_eq!(
        out.stdout,
        "Imported PM-3: Login slow (1 event, 1 action, 1 participant)\n"
    );
}

#[test]
fn a_stale_edit_is_refused_with_the_current_version() {
    let dir = TempDir::new("stale");
    let db = Db::sqlite(&dir, "db.sqlite");
    db.run(&["new", "Cache stampede"]).ok();
    let out = db.run(&["edit", "PM-1", "--summary", "First take"]).ok();
    assert!(out.stdout.contains("(version 2): summary"), "{out:#?}");
    let err = db
        .run(&[
            "edit",
            "PM-1",
            "--summary",
            "Second take",
            "--if-version",
            "1",
        ])
        .fails(1);
    assert!(err.stderr.contains("now at version 2"), "{err:#?}");
    assert!(
        err.stderr.contains("summary"),
        "says what changed: {err:#?}"
    );
    let show = db.run(&["show", "PM-1", "--json"]).ok().json();
    assert_eq!(
        show["summary"], "First take",
        "the stale edit changed nothing"
    );
    db.run(&[
        "edit",
        "PM-1",
        "--summary",
        "Second take",
        "--if-version",
        "2",
    ])
    .ok();
}

#[test]
fn edits_statuses_and_follow_through() {
    let dir = TempDir::new("edit");
    let db = Db::sqlite(&dir, "db.sqlite");
    db.run(&["new", "Cert expiry", "--started", "2024-05-01 08:00"])
        .ok();
    let err = db.run(&["edit", "PM-1"]).fails(2);
    assert!(err.stderr.contains("nothing to change"), "{err:#?}");
    db.run(&[
        "edit",
        "PM-1",
        "--resolved",
        "2024-05-01 09:30",
        "--add-service",
        "edge",
        "--add-factor",
        "monitoring_gap:No alert on certificate expiry",
        "--add-lesson",
        "got_lucky:It expired on a quiet Sunday",
        "--add-idea",
        "detect:Alert 30 days before expiry",
        "--add-link",
        "dashboard:https://grafana.example/d/edge",
        "--meeting",
        "2024-05-03 14:00",
        "--facilitator",
        "Lee",
    ])
    .ok();
    let show = db.run(&["show", "PM-1"]).ok().stdout;
    for expected in [
        "time to resolve",
        "1h 30m",
        "[monitoring_gap] No alert on certificate expiry",
        "Where we got lucky",
        "Alert 30 days before expiry",
        "dashboard: https://grafana.example/d/edge",
        "Facilitator: Lee",
    ] {
        assert!(show.contains(expected), "show lacks {expected:?}:\n{show}");
    }
    let err = db
        .run(&["edit", "PM-1", "--add-factor", "bad luck:it happens"])
        .fails(2);
    assert!(
        err.stderr.contains("contributing-factor category"),
        "{err:#?}"
    );

    // Status moves one step at a time; a skip is refused and changes nothing.
    let err = db.run(&["edit", "PM-1", "--status", "published"]).fails(1);
    assert!(err.stderr.contains("one step at a time"), "{err:#?}");
    let out = db.run(&["edit", "PM-1", "--status", "in_review"]).ok();
    assert!(out.stdout.contains("PM-1 is now in_review"), "{out:#?}");
    db.run(&["edit", "PM-1", "--status", "published"]).ok();
    db.run(&[
        "action",
        "add",
        "PM-1",
        "--title",
        "Expiry alert",
        "--owner",
        "edge-team",
        "--check-in",
        "2024-05-20",
    ])
    .ok();
    let err = db.run(&["edit", "PM-1", "--status", "closed"]).fails(1);
    assert!(err.stderr.contains("cannot close"), "{err:#?}");

    // Progress notes move the check-in date; declining needs a reason.
    let out = db
        .run(&[
            "action",
            "update",
            "1",
            "--note",
            "Rule drafted",
            "--check-in",
            "2024-06-01",
        ])
        .ok();
    assert!(out.stdout.contains("next check-in 2024-06-01"), "{out:#?}");
    let err = db
        .run(&["action", "update", "1", "--status", "declined"])
        .fails(2);
    assert!(err.stderr.contains("reason"), "{err:#?}");
    // Declining the last open action of a published postmortem closes it.
    let out = db
        .run(&[
            "action",
            "update",
            "1",
            "--status",
            "declined",
            "--reason",
            "Covered by the cert manager",
        ])
        .ok();
    assert!(
        out.stdout
            .contains("PM-1 is now closed: every action is done or declined"),
        "{out:#?}"
    );
    let shown = db.run(&["show", "PM-1", "--json"]).ok();
    assert!(
        shown.stdout.contains("\"status\": \"closed\""),
        "{shown:#?}"
    );
    let history = db.run(&["history", "PM-1"]).ok();
    assert!(
        history.stdout.contains("every action is done or declined"),
        "{history:#?}"
    );
    let err = db.run(&["action", "update", "99", "--title", "x"]).fails(1);
    assert!(err.stderr.contains("action #99 not found"), "{err:#?}");

    // Timeline edits and hiding.
    db.run(&[
        "timeline",
        "add",
        "PM-1",
        "--at",
        "2024-05-01 08:20",
        "--kind",
        "observation",
        "--text",
        "Browser warnings reported on social media",
    ])
    .ok();
    db.run(&[
        "timeline",
        "edit",
        "PM-1",
        "1",
        "--outcome",
        "hindered",
        "--differently",
        "Watch expiry dates",
    ])
    .ok();
    db.run(&["timeline", "hide", "PM-1", "1"]).ok();
    let visible = db.run(&["timeline", "list", "PM-1", "--json"]).ok().json();
    assert_eq!(visible, Value::Array(vec![]));
    let all = db
        .run(&["timeline", "list", "PM-1", "--all", "--json"])
        .ok()
        .json();
    assert_eq!(all[0]["outcome"], "hindered");
    assert_eq!(all[0]["hidden"], true);
    let err = db.run(&["timeline", "hide", "PM-1", "7"]).fails(1);
    assert!(
        err.stderr.contains("event #7 not found in PM-1"),
        "{err:#?}"
    );

    // Participants.
    db.run(&[
        "participant",
        "add",
        "PM-1",
        "--name",
        "VP Eng",
        "--role",
        "stakeholder",
    ])
    .ok();
    let people = db
        .run(&["participant", "list", "PM-1", "--json"])
        .ok()
        .json();
    assert_eq!(
        people[0]["invited"], false,
        "stakeholders are not invited by default"
    );
    db.run(&["participant", "update", "PM-1", "1", "--attended"])
        .ok();

    let history = db.run(&["history", "PM-1"]).ok().stdout;
    assert!(history.contains("tester"), "{history}");
    assert!(history.contains("status"), "{history}");
}

#[test]
fn database_urls_are_checked() {
    let db = Db {
        url: "mysql://localhost/debrief".to_owned(),
    };
    let err = db.run(&["list"]).fails(2);
    assert!(err.stderr.contains("sqlite://PATH"), "{err:#?}");
    assert!(err.stderr.contains("postgres://"), "{err:#?}");

    let dir = TempDir::new("migrate");
    let db = Db::sqlite(&dir, "fresh.db");
    let out = db.run(&["migrate"]).ok();
    assert!(
        out.stdout
            .contains("Applied migration(s) 1, 2, 3, 4, 5, 6 to the sqlite database"),
        "{out:#?}"
    );
    let again = db.run(&["migrate"]).ok();
    assert!(again.stdout.contains("is up to date"), "{again:#?}");
}

#[test]
fn help_lists_every_subcommand() {
    let out = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8(out.stdout).expect("utf-8");
    for sub in [
        "new",
        "list",
        "show",
        "edit",
        "timeline",
        "action",
        "participant",
        "history",
        "search",
        "export",
        "import",
        "migrate",
        "lint",
        "serve",
        "worker",
        "user",
        "token",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "--help lacks {sub}:\n{help}"
        );
    }
}

/// The URL of a PostgreSQL server to test against, with its database path replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let host = rest.split_once('/').map_or(rest, |(h, _)| h);
    format!("{scheme}://{host}/{db}{query}")
}

#[test]
fn newcomer_walk_through_on_postgres() {
    use sqlx::Connection as _;

    let base = std::env::var("DEBRIEF_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let connect = || async {
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            sqlx::PgConnection::connect(&base),
        )
        .await
    };
    let mut admin = match runtime.block_on(connect()) {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) if !in_ci => {
            eprintln!("skipping: PostgreSQL at {base} is not reachable ({e})");
            return;
        }
        Err(_) if !in_ci => {
            eprintln!("skipping: PostgreSQL at {base} did not answer in 5s");
            return;
        }
        other => panic!("PostgreSQL at {base} is required in CI: {other:?}"),
    };
    let name = format!(
        "debrief_cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    runtime
        .block_on(
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin),
        )
        .expect("create database");

    let result = std::panic::catch_unwind(|| {
        let dir = TempDir::new("pg");
        let db = Db {
            url: with_database(&base, &name),
        };
        let second = Db::sqlite(&dir, "second.db");
        walk_through(&db, &second, &dir);
        db.run(&["migrate"]).ok();
    });

    runtime
        .block_on(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin),
        )
        .expect("drop database");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn postgres_urls_keep_their_host_and_options() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/test?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
}

#[test]
fn a_refused_action_update_saves_nothing() {
    let dir = TempDir::new("half-update");
    let db = Db::sqlite(&dir, "half.db");
    db.run(&["new", "Half a change"]).ok();
    db.run(&[
        "action",
        "add",
        "PM-1",
        "--title",
        "Stage config pushes",
        "--owner",
        "Bo",
        "--check-in",
        "2024-06-01",
        "--due",
        "2024-07-01",
    ])
    .ok();
    // The note's new check-in date is after the due date: refused before anything is written.
    let err = db
        .run(&[
            "action",
            "update",
            "1",
            "--status",
            "in_progress",
            "--note",
            "moving",
            "--check-in",
            "2024-08-01",
        ])
        .fails(2);
    assert!(err.stderr.contains("due"), "{err:#?}");
    let actions = db.run(&["action", "list", "--json"]).ok().json();
    assert_eq!(actions[0]["status"], "open", "{actions:#}");
    assert_eq!(actions[0]["version"], 1, "{actions:#}");
    // A reason without --status declined is a usage error, not silently dropped.
    let err = db
        .run(&[
            "action", "update", "1", "--status", "done", "--reason", "why",
        ])
        .fails(2);
    assert!(
        err.stderr.contains("--reason goes with --status declined"),
        "{err:#?}"
    );
}

#[test]
fn a_json_import_is_held_to_the_severity_scale() {
    let dir = TempDir::new("json-severity");
    let db = Db::sqlite(&dir, "sev.db");
    db.run(&["new", "Scale"]).ok();
    let mut doc = db.run(&["export", "PM-1", "--format", "json"]).ok().json();
    doc["severity"] = "SEV9".into();
    doc["key"] = serde_json::Value::Null;
    let file = dir.path("sev9.json");
    std::fs::write(&file, doc.to_string()).expect("write");
    let err = db
        .run(&["import", file.to_str().expect("utf-8 path")])
        .fails(1);
    assert!(
        err.stderr.contains("\"SEV9\" is not a severity"),
        "{err:#?}"
    );
    let list = db.run(&["list", "--json"]).ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn worker_once_logs_due_reminders_once_when_no_channel_is_configured() {
    let dir = TempDir::new("worker");
    let db = Db::sqlite(&dir, "worker.db");
    db.run(&["new", "Queue backlog"]).ok();
    let tomorrow = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .tomorrow()
        .expect("date")
        .to_string();
    db.run(&[
        "action",
        "add",
        "PM-1",
        "--title",
        "Alert on queue depth",
        "--owner",
        "Grace",
        "--check-in",
        &tomorrow,
    ])
    .ok();
    let out = db.run(&["worker", "--once"]).ok();
    assert!(
        out.stdout.contains("Ran 1 job(s): 0 message(s) sent"),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains("no notification channel is configured")
            && out.stderr.contains("to=Grace"),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains(&format!(
            "Check-in on {tomorrow}: Alert on queue depth (PM-1)"
        )),
        "{out:#?}"
    );
    // Sent once: the next run finds it enqueued already.
    let again = db.run(&["worker", "--once"]).ok();
    assert!(again.stdout.contains("Ran 0 job(s)"), "{again:#?}");
    let err = db
        .run(&["worker", "--once", "--reminder-lead", "soon"])
        .fails(2);
    assert!(err.stderr.contains("number of days"), "{err:#?}");

    // Admins see parked and failing jobs (none here), or every job with --all.
    let none = db.run(&["jobs", "list"]).ok();
    assert!(
        none.stdout.contains("nothing is parked or failing"),
        "{none:#?}"
    );
    let all = db.run(&["jobs", "list", "--all"]).ok();
    assert!(
        all.stdout
            .contains(&format!("done   remind:before:1:{tomorrow}  1/8")),
        "{all:#?}"
    );
    let json = db.run(&["jobs", "list", "--state", "done", "--json"]).ok();
    assert!(json.stdout.contains("\"leased_by\""), "{json:#?}");
    let err = db.run(&["jobs", "retry", "1"]).fails(1);
    assert!(
        err.stderr
            .contains("only parked or queued jobs can be retried"),
        "{err:#?}"
    );
}

#[test]
fn channels_preferences_and_follow_through_from_the_cli() {
    let dir = TempDir::new("notify");
    let db = Db::sqlite(&dir, "notify.db");

    // Bad channels are refused when configured, naming the flag, and nothing is stored.
    let err = db
        .run(&[
            "channel",
            "add",
            "webhook",
            "--name",
            "hook",
            "--url",
            "https://receiver.example/debrief",
            "--secret",
            "short",
        ])
        .fails(2);
    assert!(
        err.stderr.contains("--secret: must be at least 16"),
        "{err:#?}"
    );
    let err = db
        .run(&[
            "channel",
            "add",
            "slack",
            "--name",
            "room",
            "--url",
            "hooks.example/x",
        ])
        .fails(2);
    assert!(err.stderr.contains("--url"), "{err:#?}");
    let err = db
        .run(&[
            "channel",
            "add",
            "email",
            "--name",
            "mail",
            "--host",
            "smtp.example",
            "--from",
            "nobody",
        ])
        .fails(2);
    assert!(err.stderr.contains("--from"), "{err:#?}");
    let err = db
        .run(&[
            "channel",
            "add",
            "email",
            "--name",
            "mail",
            "--host",
            "smtp.example",
            "--from",
            "debrief@example.com",
            "--to",
            "not-an-address",
        ])
        .fails(2);
    assert!(err.stderr.contains("--to"), "{err:#?}");
    let out = db.run(&["channel", "list"]).ok();
    assert!(out.stdout.contains("No channels"), "{out:#?}");

    // A webhook for the platform team: listed without its secret.
    let out = db
        .run_env(
            &[("DEBRIEF_WEBHOOK_SECRET", "a-long-shared-secret-123")],
            &[
                "channel",
                "add",
                "webhook",
                "--name",
                "platform-hook",
                "--url",
                "http://127.0.0.1:9/debrief",
                "--owner",
                "team:platform",
                "--topics",
                "reminders,digest",
            ],
        )
        .ok();
    assert!(
        out.stdout.contains("Added channel platform-hook"),
        "{out:#?}"
    );
    let list = db.run(&["channel", "list", "--json"]).ok();
    let json = list.json();
    assert_eq!(json[0]["name"], "platform-hook");
    assert_eq!(json[0]["secret"], "********");
    assert_eq!(
        json[0]["topics"],
        serde_json::json!(["reminders", "digest"])
    );
    assert!(!list.stdout.contains("a-long-shared-secret-123"));
    let err = db
        .run(&[
            "channel",
            "add",
            "slack",
            "--name",
            "Platform-Hook",
            "--url",
            "https://hooks.example/services/x",
        ])
        .fails(1);
    assert!(err.stderr.contains("already exists"), "{err:#?}");
    // Nothing listens on port 9: the test says so.
    let err = db.run(&["channel", "test", "platform-hook"]).fails(1);
    assert!(err.stderr.contains("127.0.0.1:9"), "{err:#?}");
    db.run(&["channel", "disable", "platform-hook"]).ok();
    let out = db.run(&["channel", "list"]).ok();
    assert!(out.stdout.contains(" off "), "{out:#?}");
    let err = db.run(&["channel", "remove", "nope"]).fails(1);
    assert!(err.stderr.contains("no channel named"), "{err:#?}");
    db.run(&["channel", "remove", "platform-hook"]).ok();

    // A user's topics.
    db.run_env(
        &[("DEBRIEF_PASSWORD", "a password of length")],
        &["user", "add", "Ana Lima", "--email", "ana@example.com"],
    )
    .ok();
    let out = db.run(&["user", "notify", "ana@example.com"]).ok();
    assert!(
        out.stdout
            .contains("receives: reminders,escalations,reviews,digest"),
        "{out:#?}"
    );
    let out = db
        .run(&[
            "user",
            "notify",
            "ana@example.com",
            "--topics",
            "digest,reminders",
        ])
        .ok();
    assert!(
        out.stdout.contains("receives: reminders,digest"),
        "{out:#?}"
    );
    let err = db
        .run(&["user", "notify", "ana@example.com", "--topics", "weekly"])
        .fails(2);
    assert!(err.stderr.contains("weekly"), "{err:#?}");

    // Follow-through: one action done on time (check-in far ahead), one overdue, one declined.
    db.run(&["new", "Queue backlog"]).ok();
    for (title, check_in) in [
        ("Alert on queue depth", "2099-01-01"),
        ("Load-test the consumer", "2024-01-10"),
        ("Retire the old queue", "2099-01-01"),
    ] {
        db.run(&[
            "action",
            "add",
            "PM-1",
            "--title",
            title,
            "--owner",
            "Ana Lima",
            "--check-in",
            check_in,
        ])
        .ok();
    }
    db.run(&["action", "update", "1", "--status", "done"]).ok();
    db.run(&[
        "action",
        "update",
        "3",
        "--status",
        "declined",
        "--reason",
        "The queue is retired",
    ])
    .ok();
    let out = db.run(&["actions", "--stats"]).ok();
    assert!(
        out.stdout.contains("Follow-through of 3 action(s)"),
        "{out:#?}"
    );
    assert!(out.stdout.contains("on time      1   33%"), "{out:#?}");
    assert!(out.stdout.contains("(1 overdue)"), "{out:#?}");
    let stats = db.run(&["actions", "--stats", "--json"]).ok().json();
    assert_eq!(stats["all"]["on_time"], 1);
    assert_eq!(stats["all"]["declined"], 1);
    assert_eq!(stats["all"]["overdue"], 1);
    assert_eq!(stats["postmortems"][0]["key"], "PM-1");
    // Without --stats it is the action list.
    let out = db.run(&["actions", "--owner", "ana lima"]).ok();
    assert!(out.stdout.contains("Load-test the consumer"), "{out:#?}");
}
