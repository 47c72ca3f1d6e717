//! `debrief serve` flags that change how the running server behaves, checked against a real
//! server process: how long a caller is trusted (`--caller-ttl`) and the render cache's size
//! (`--cache-mb`).

mod support;

use std::process::Command;

use support::{Running, TempDir, ada_with_token, debrief, free_port, http, wait_for};

/// Starts `debrief serve` on `db` with `flags`, and waits until it answers.
fn serve(dir: &TempDir, db: &str, flags: &[&str]) -> (Running, u16) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_debrief"));
    command
        .env_remove("DEBRIEF_DATABASE_URL")
        .env_remove("DEBRIEF_CALLER_TTL")
        .env_remove("DEBRIEF_CACHE_MB")
        .args(["--database", db, "--zone", "UTC", "serve", "--no-worker"])
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .args(flags);
    let process = Running::start("debrief serve", command, dir.path("serve.log"));
    wait_for("debrief to answer /healthz", &|| process.output(), || {
        http("GET", port, "/healthz", &[], None)
            .ok()
            .filter(|(s, _)| *s == 200)
    });
    (process, port)
}

/// Runs `debrief --database DB ARGS…` with `env` set; its exit code and standard error.
fn run(db: &str, env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .env_remove("DEBRIEF_DATABASE_URL")
        .envs(env.iter().copied())
        .args(["--database", db])
        .args(args)
        .output()
        .expect("run debrief");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn with_caller_ttl_0_a_token_revoked_from_the_cli_is_refused_at_once() {
    let dir = TempDir::new();
    let db = format!("sqlite://{}", dir.path("debrief.db").display());
    let created = ada_with_token(&db, "editor", "read");
    debrief(&db, &["new", "Disk full on the build server"]);
    let bearer = format!("Bearer {}", created["token"].as_str().expect("token"));
    let id = created["id"].to_string();

    let (server, port) = serve(&dir, &db, &["--caller-ttl", "0s", "--cache-mb", "0"]);
    let auth = [("Authorization", bearer.as_str())];
    // Twice: the second read is the one a cache would answer.
    for _ in 0..2 {
        let (status, body) =
            http("GET", port, "/api/v1/postmortems/PM-1", &auth, None).expect("get");
        assert_eq!(status, 200, "{body}\n{}", server.output());
        assert!(body.contains("Disk full on the build server"), "{body}");
    }

    debrief(&db, &["token", "revoke", &id]);
    let (status, body) = http("GET", port, "/api/v1/postmortems/PM-1", &auth, None).expect("get");
    assert_eq!(status, 401, "a revoked token still works: {body}");
}

#[test]
fn bad_serve_settings_are_refused_before_anything_starts() {
    let dir = TempDir::new();
    let db = format!("sqlite://{}", dir.path("debrief.db").display());
    let not_pem = dir.path("not-a-ca.pem").display().to_string();
    std::fs::write(&not_pem, "just text\n").expect("file");
    for (flag, value, expected) in [
        ("--caller-ttl", "10m", "expected 0s to 60s"),
        ("--caller-ttl", "soon", "expected 0s to 60s"),
        ("--cache-mb", "-1", "--cache-mb"),
        ("--cache-mb", "5000", "--cache-mb"),
        ("--ca-file", "/nonexistent/ca.pem", "cannot read it"),
        ("--ca-file", not_pem.as_str(), "no PEM certificate"),
    ] {
        let setting = format!("{flag}={value}");
        let (code, stderr) = run(&db, &[], &["serve", "--addr", "127.0.0.1:0", &setting]);
        assert_eq!(code, Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(expected),
            "{flag} {value}: {stderr}"
        );
        assert!(
            !dir.path("debrief.db").exists(),
            "{flag} {value} created the database"
        );
    }
}

#[test]
fn ca_file_is_read_only_by_the_commands_that_send() {
    let dir = TempDir::new();
    let db = format!("sqlite://{}", dir.path("debrief.db").display());
    let missing = [("DEBRIEF_CA_FILE", "/nonexistent/ca.pem")];
    let (code, stderr) = run(&db, &missing, &["list"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = run(&db, &missing, &["worker", "--once"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--ca-file /nonexistent/ca.pem: cannot read it"),
        "{stderr}"
    );
}
