//! End-to-end tests of `debrief lint`: files, directories and standard input; the four output
//! formats; the exit code against `--deny`; user configs; and bad input. `debrief lint` needs no
//! database, so these run without one.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("debrief-lint-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, file: &str, text: &[u8]) -> String {
        let path = self.0.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lint(args: &[&str], stdin: Option<&[u8]>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_debrief"));
    cmd.arg("lint")
        .args(args)
        // No database is needed: a URL that cannot work proves it is not touched.
        .env("DEBRIEF_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env_remove("DEBRIEF_LINT_CONFIG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run debrief");
    if let Some(input) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(input).expect("stdin");
    }
    let out = child.wait_with_output().expect("wait");
    let result = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!result.stderr.contains("panicked"), "{result:#?}");
    result
}

const CLEAN: &str = "# PM-7: Search outage

## Summary

Search was unavailable for 35 minutes because the index cluster ran out of disk.

## Impact

About 4,000 searches failed.

## Timeline

| Time | Event |
|---|---|
| 10:02 | The disk alert fired |
| 10:05 | Ana acknowledged the page |

## Contributing factors

- The retention job had been disabled during a migration.

## Action items

| Action | Owner | Check-in |
|---|---|---|
| Alert at 80 % disk on the index cluster | Ana | 2026-12-07 |
";

fn blameful() -> String {
    CLEAN.replace(
        "- The retention job had been disabled during a migration.",
        "- The engineer should have re-enabled the retention job.\n- Obviously the disk was going to fill up.",
    )
}

#[test]
fn a_clean_postmortem_passes() {
    let dir = TempDir::new("clean");
    let file = dir.write("pm.md", CLEAN.as_bytes());
    let out = lint(&[&file], None);
    assert_eq!(out.code, 0, "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(
        out.stderr
            .contains("0 error(s), 0 warning(s), 0 hint(s) in 1 file"),
        "{out:#?}"
    );
}

#[test]
fn findings_in_text_and_the_exit_code() {
    let dir = TempDir::new("text");
    let file = dir.write("pm.md", blameful().as_bytes());
    let out = lint(&[&file], None);
    assert_eq!(out.code, 1, "{out:#?}");
    let first = out.stdout.lines().next().unwrap_or_default();
    let expected = format!("{file}:20:3: warning blame/counterfactual: ");
    assert!(first.starts_with(&expected), "{first}");
    assert!(first.contains("(suggestion: "), "{first}");
    assert!(
        out.stdout
            .contains(&format!("{file}:21:3: hint blame/hindsight: ")),
        "{out:#?}"
    );
    // Only a hint would remain below the bar.
    let out = lint(&[&file, "--deny", "error"], None);
    assert_eq!(out.code, 0, "{out:#?}");
    let out = lint(&[&file, "--deny", "hint"], None);
    assert_eq!(out.code, 1, "{out:#?}");
}

#[test]
fn json_output() {
    let dir = TempDir::new("json");
    let file = dir.write("pm.md", blameful().as_bytes());
    let out = lint(&[&file, "--format", "json"], None);
    assert_eq!(out.code, 1, "{out:#?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let first = &v[0];
    assert_eq!(first["path"], file.as_str());
    assert_eq!(first["rule"], "blame/counterfactual");
    assert_eq!(first["level"], "warning");
    assert_eq!(first["line"], 20);
    assert_eq!(first["column"], 3);
    assert_eq!(first["section"], "factors");
    assert!(first["range"]["start"].is_u64());
    assert!(first["suggestion"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn sarif_output() {
    let dir = TempDir::new("sarif");
    let file = dir.write("docs/pm one.md", blameful().as_bytes());
    let out = lint(&[&file, "--format", "sarif"], None);
    assert_eq!(out.code, 1, "{out:#?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "debrief-lint");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "blame/counterfactual"));
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "blame/counterfactual");
    assert_eq!(result["level"], "warning");
    let index = result["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(rules[index]["id"], "blame/counterfactual");
    let location = &result["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("docs/pm%20one.md"))
    );
    assert_eq!(location["region"]["startLine"], 20);
    assert_eq!(location["region"]["startColumn"], 3);
    let hint = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "blame/hindsight");
    assert!(hint.is_some_and(|r| r["level"] == "note"));
}

#[test]
fn github_annotations() {
    let dir = TempDir::new("github");
    let file = dir.write("pm.md", blameful().as_bytes());
    let out = lint(&[&file, "--format", "github"], None);
    assert_eq!(out.code, 1, "{out:#?}");
    let first = out.stdout.lines().next().unwrap_or_default();
    let expected = format!(
        "::warning file={},line=20,col=3,",
        file.replace(':', "%3A").replace(',', "%2C")
    );
    assert!(first.starts_with(&expected), "{first}");
    assert!(first.contains("title=blame/counterfactual::"), "{first}");
    assert!(
        out.stdout.lines().any(|l| l.starts_with("::notice ")),
        "{out:#?}"
    );
}

#[test]
fn standard_input() {
    let out = lint(&["-"], Some(blameful().as_bytes()));
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stdout
            .starts_with("-:20:3: warning blame/counterfactual"),
        "{out:#?}"
    );
}

#[test]
fn directories_recursively_markdown_only() {
    let dir = TempDir::new("dir");
    dir.write("a/one.md", CLEAN.as_bytes());
    dir.write("a/b/two.md", blameful().as_bytes());
    dir.write("a/b/notes.txt", b"The engineer should have checked.");
    dir.write(".hidden/three.md", blameful().as_bytes());
    let out = lint(&[&dir.path()], None);
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stdout.lines().all(|l| l.contains("two.md:")),
        "{out:#?}"
    );
    assert!(out.stderr.contains("in 2 files"), "{out:#?}");
}

#[test]
fn suppression_comments() {
    let dir = TempDir::new("suppress");
    let text = blameful().replace(
        "- The engineer should",
        "<!-- debrief-lint: allow blame/counterfactual -->\n- The engineer should",
    );
    let file = dir.write("pm.md", text.as_bytes());
    let out = lint(&[&file], None);
    assert_eq!(out.code, 0, "only the hint is left: {out:#?}");
    assert!(!out.stdout.contains("counterfactual"), "{out:#?}");
}

#[test]
fn a_user_config() {
    let dir = TempDir::new("config");
    let file = dir.write("pm.md", blameful().as_bytes());
    let config = dir.write(
        "lint.toml",
        b"[rules.\"blame/counterfactual\"]\nenabled = false\n\n[rules.\"blame/hindsight\"]\nlevel = \"error\"\n",
    );
    let out = lint(&[&file, "--config", &config], None);
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(!out.stdout.contains("counterfactual"), "{out:#?}");
    assert!(out.stdout.contains(": error blame/hindsight: "), "{out:#?}");
}

#[test]
fn a_malformed_config_names_the_line() {
    let dir = TempDir::new("badconfig");
    let file = dir.write("pm.md", CLEAN.as_bytes());
    let config = dir.write(
        "lint.toml",
        b"[rules.\"blame/hindsight\"]\nlevel = \"loud\"\n",
    );
    let out = lint(&[&file, "--config", &config], None);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(out.stderr.starts_with("error: --config: "), "{out:#?}");
    assert!(out.stderr.contains(&format!("{config}:2:")), "{out:#?}");
}

#[test]
fn unreadable_inputs_fail_before_any_output() {
    let dir = TempDir::new("bad");
    let good = dir.write("good.md", blameful().as_bytes());
    let out = lint(&[&good, &format!("{}/missing.md", dir.path())], None);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(out.stderr.starts_with("error: cannot read "), "{out:#?}");

    let bad = dir.write("bad.md", b"# PM\n\nfine\n\xff oops\n");
    let out = lint(&[&bad], None);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr
            .contains("not UTF-8 text: invalid bytes at byte 11 (line 4, column 1)"),
        "{out:#?}"
    );
}

#[test]
fn usage_errors() {
    let out = lint(&["--format", "xml"], None);
    assert_eq!(out.code, 2, "{out:#?}");
    let out = lint(&["--deny", "fatal"], None);
    assert_eq!(out.code, 2, "{out:#?}");
}

#[test]
fn participants_on_the_command_line() {
    let text = CLEAN.replace(
        "- The retention job had been disabled during a migration.",
        "- Zorblat failed to re-enable the retention job.",
    );
    let out = lint(&["-"], Some(text.as_bytes()));
    assert_eq!(
        out.code, 0,
        "an unknown capitalised word is not a person: {out:#?}"
    );
    let out = lint(&["-", "--participant", "Zorblat"], Some(text.as_bytes()));
    assert_eq!(out.code, 1, "{out:#?}");
}
