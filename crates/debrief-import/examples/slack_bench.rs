//! The Slack import benchmark: generates a Slack export of 1,000,000 messages over 30 channels and
//! measures importing all of it (streamed) and one incident's worth (one channel, a window holding
//! 100,000 messages, collected in memory), with the peak memory of each.
//!
//! ```sh
//! cargo run --release -p debrief-import --example slack_bench                 # generate if missing, measure
//! cargo run --release -p debrief-import --example slack_bench -- --regenerate # generate anew
//! cargo run --release -p debrief-import --example slack_bench -- --zip        # also measure the zipped export
//! cargo run --release -p debrief-import --example slack_bench -- --collect-all # also hold all events at once
//! ```
//!
//! The export goes to `bench/out/slack-export/` (run from the workspace root; `--out DIR` to
//! change it). Each measurement runs in a fresh process, so its peak resident memory (`VmHWM` in
//! `/proc/self/status`) is its own.
//!
//! The export is shaped like a modern one: every message carries `blocks` (the rich-text copy of its
//! text), human messages a `user_profile`; there are threads, edits, mentions, links, channel
//! references, bot posts with attachments, file shares, joins, and a few unknown user ids.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use debrief_import::Options;
use debrief_import::slack::{SlackExport, SlackMessage, SlackSink};
use jiff::Timestamp;
use serde_json::{Value, json};

const CHANNELS: usize = 30;
const MESSAGES: u64 = 1_000_000;
/// The incident channel holds this many of the messages; the others share the rest.
const INCIDENT_MESSAGES: u64 = 200_000;
/// The window: this many messages of the incident channel, starting at this one.
const WINDOW_FIRST: u64 = 50_000;
const WINDOW_MESSAGES: u64 = 100_000;
const USERS: usize = 400;
/// The export spans 90 days from 2026-08-01T00:00:00Z.
const START: i64 = 1_785_542_400;
const SPAN_SECS: i64 = 90 * 86_400;

fn main() {
    if let Err(e) = run() {
        eprintln!("slack_bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let out = PathBuf::from(value("--out").unwrap_or_else(|| "bench/out/slack-export".to_owned()));
    if let Some(what) = value("--measure") {
        return measure(&what, &out);
    }
    if args.iter().any(|a| a == "--regenerate") || !out.join("channels.json").is_file() {
        let started = Instant::now();
        let bytes = generate(&out)?;
        println!(
            "generated {MESSAGES} messages in {CHANNELS} channels: {} in {:.1} s ({})",
            mib(bytes),
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    let zip = out.with_extension("zip");
    if args.iter().any(|a| a == "--zip") && !zip.is_file() {
        let started = Instant::now();
        zip_dir(&out, &zip)?;
        let size = fs::metadata(&zip).map_err(|e| e.to_string())?.len();
        println!(
            "zipped the export: {} in {:.1} s ({})",
            mib(size),
            started.elapsed().as_secs_f64(),
            zip.display()
        );
    }
    let mut targets = vec![out.clone()];
    if args.iter().any(|a| a == "--zip") {
        targets.push(zip);
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    for target in &targets {
        let mut measurements = vec!["whole", "window"];
        if args.iter().any(|a| a == "--collect-all") {
            measurements.push("whole-collected");
        }
        for what in measurements {
            let status = Command::new(&exe)
                .args(["--measure", what, "--out"])
                .arg(target)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("the {what} measurement failed"));
            }
        }
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / 1024.0 / 1024.0)
}

/// The peak resident set of this process, from `/proc/self/status`.
fn peak_rss() -> String {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn ts_of(channel: usize, i: u64) -> (i64, u32) {
    let n = messages_in(channel);
    let secs = START + (i as i64 * SPAN_SECS) / n as i64;
    // A distinct fraction per message, as Slack's ts has.
    let micros = ((i * 7919 + channel as u64 * 104_729) % 1_000_000) as u32;
    (secs, micros)
}

fn window() -> (Timestamp, Timestamp) {
    let (a, am) = ts_of(0, WINDOW_FIRST);
    let (b, bm) = ts_of(0, WINDOW_FIRST + WINDOW_MESSAGES - 1);
    let since = Timestamp::new(a, am as i32 * 1000).unwrap_or(Timestamp::UNIX_EPOCH);
    let until = Timestamp::new(b, bm as i32 * 1000).unwrap_or(Timestamp::UNIX_EPOCH);
    (since, until)
}

fn measure(what: &str, path: &Path) -> Result<(), String> {
    let mut opts = Options::default();
    let label = if path.extension().is_some_and(|e| e == "zip") {
        "zip"
    } else {
        "directory"
    };
    let started = Instant::now();
    let mut export = SlackExport::open(path).map_err(|e| e.to_string())?;
    match what {
        "whole" => {
            let mut sink = Counting::default();
            let summary = export.import(&opts, &mut sink).map_err(|e| e.to_string())?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "whole export ({label}, streamed): {} events from {} day files in {secs:.2} s ({:.0} events/s); skipped {} housekeeping, {} empty; {} unknown user ids; {} rejected; peak RSS {}",
                sink.events,
                summary.files_read,
                sink.events as f64 / secs,
                summary.skipped_noise,
                summary.empty,
                summary.unknown_users.len(),
                summary.rejected.len(),
                peak_rss()
            );
            let _ = sink.bytes;
        }
        "whole-collected" => {
            let report = export.collect(&opts).map_err(|e| e.to_string())?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "whole export ({label}, collected in memory): {} events in {secs:.2} s; peak RSS {}",
                report.events.len(),
                peak_rss()
            );
        }
        "window" => {
            let (since, until) = window();
            opts.channels = vec![channel_name(0)];
            opts.since = Some(since);
            opts.until = Some(until);
            let mut events = Vec::new();
            let summary = export
                .import(&opts, &mut |m: SlackMessage| events.push(m.event))
                .map_err(|e| e.to_string())?;
            events.sort_by(|a, b| a.happened_at.cmp(&b.happened_at));
            let secs = started.elapsed().as_secs_f64();
            println!(
                "one incident ({label}, #{} from {since} to {until}: {WINDOW_MESSAGES} messages, collected): {} events from {} day files ({} skipped by name) in {secs:.2} s ({:.0} events/s); {} rejected; peak RSS {}",
                channel_name(0),
                events.len(),
                summary.files_read,
                summary.files_skipped,
                events.len() as f64 / secs,
                summary.rejected.len(),
                peak_rss()
            );
        }
        other => return Err(format!("unknown measurement {other:?}")),
    }
    Ok(())
}

#[derive(Default)]
struct Counting {
    events: u64,
    bytes: u64,
}

impl SlackSink for Counting {
    fn message(&mut self, m: SlackMessage) {
        self.events += 1;
        self.bytes += m.event.description.as_str().len() as u64;
    }
}

fn channel_name(c: usize) -> String {
    if c == 0 {
        "inc-checkout-errors".to_owned()
    } else {
        format!("team-{c:02}")
    }
}

fn channel_id(c: usize) -> String {
    format!("C{:08X}", 0x1000 + c)
}

fn user_id(u: usize) -> String {
    format!("U{:08X}", 0x5000 + u)
}

fn messages_in(channel: usize) -> u64 {
    if channel == 0 {
        return INCIDENT_MESSAGES;
    }
    let rest = MESSAGES - INCIDENT_MESSAGES;
    let others = (CHANNELS - 1) as u64;
    rest / others + u64::from((channel as u64) <= rest % others)
}

/// A small deterministic generator (xorshift), so every run writes the same export.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "checkout",
    "latency",
    "is",
    "up",
    "again",
    "the",
    "database",
    "pool",
    "looks",
    "exhausted",
    "rolling",
    "back",
    "deploy",
    "now",
    "error",
    "rate",
    "at",
    "five",
    "percent",
    "paging",
    "on-call",
    "for",
    "payments",
    "can",
    "someone",
    "check",
    "dashboards",
    "replica",
    "lag",
    "growing",
    "cache",
    "hit",
    "ratio",
    "dropped",
    "after",
    "the",
    "config",
    "change",
    "customers",
    "report",
    "timeouts",
    "status",
    "page",
    "updated",
    "mitigation",
    "holding",
    "queue",
    "depth",
    "back",
    "to",
    "normal",
    "restarting",
    "pods",
    "in",
    "eu-west",
    "traffic",
    "shifted",
];

fn sentence(rng: &mut Rng, min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    s
}

fn ts_text(secs: i64, micros: u32) -> String {
    format!("{secs}.{micros:06}")
}

/// Writes the export; returns its size in bytes.
fn generate(out: &Path) -> Result<u64, String> {
    if out.exists() {
        fs::remove_dir_all(out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut total = 0u64;
    let users: Vec<Value> = (0..USERS)
        .map(|u| {
            json!({
                "id": user_id(u),
                "team_id": "T0BENCH01",
                "name": format!("user{u}"),
                "real_name": format!("Person {u}"),
                "deleted": false,
                "is_bot": false,
                "tz": "Europe/Berlin",
                "profile": {"real_name": format!("Person {u}"), "display_name": format!("p{u}"), "title": "Engineer"}
            })
        })
        .collect();
    total += write_json(&out.join("users.json"), &Value::Array(users))?;
    let channels: Vec<Value> = (0..CHANNELS)
        .map(|c| {
            json!({
                "id": channel_id(c),
                "name": channel_name(c),
                "created": START,
                "creator": user_id(0),
                "is_archived": false,
                "is_general": c == 1,
                "members": (0..20).map(|u| user_id((c * 13 + u) % USERS)).collect::<Vec<_>>(),
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": format!("channel {c}"), "creator": "", "last_set": 0}
            })
        })
        .collect();
    total += write_json(&out.join("channels.json"), &Value::Array(channels))?;
    for c in 0..CHANNELS {
        total += generate_channel(out, c)?;
    }
    Ok(total)
}

fn generate_channel(out: &Path, c: usize) -> Result<u64, String> {
    let dir = out.join(channel_name(c));
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((c as u64 + 1) * 0x1234_5678));
    let mut day: Option<jiff::civil::Date> = None;
    let mut batch: Vec<Value> = Vec::new();
    let mut total = 0;
    let mut recent_roots: Vec<String> = Vec::new();
    for i in 0..messages_in(c) {
        let (secs, micros) = ts_of(c, i);
        let date = Timestamp::from_second(secs)
            .map_err(|e| e.to_string())?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        if day != Some(date) {
            if let Some(d) = day {
                total += write_json(
                    &dir.join(format!("{d}.json")),
                    &Value::Array(std::mem::take(&mut batch)),
                )?;
            }
            day = Some(date);
        }
        let ts = ts_text(secs, micros);
        let m = message(&mut rng, c, &ts, &mut recent_roots);
        batch.push(m);
    }
    if let Some(d) = day {
        total += write_json(&dir.join(format!("{d}.json")), &Value::Array(batch))?;
    }
    Ok(total)
}

fn message(rng: &mut Rng, c: usize, ts: &str, roots: &mut Vec<String>) -> Value {
    let roll = rng.below(1000);
    let user = user_id((c * 7 + rng.below(40) as usize) % USERS);
    if roll < 20 {
        return json!({
            "type": "message", "subtype": "channel_join", "user": user, "ts": ts,
            "text": format!("<@{user}> has joined the channel")
        });
    }
    if roll < 70 {
        let text = sentence(rng, 4, 12);
        return json!({
            "type": "message", "subtype": "bot_message", "bot_id": "B0BENCH01", "username": "alertbot", "ts": ts, "text": "",
            "attachments": [{
                "fallback": format!("[FIRING] {text}"),
                "title": format!("[FIRING:1] {text}"),
                "text": format!("*Alert:* {text} <https://grafana.example.com/d/abc?panel={c}|dashboard>"),
                "color": "d63232"
            }]
        });
    }
    let mut text = sentence(rng, 5, 25);
    if rng.below(5) == 0 {
        let other = if rng.below(50) == 0 {
            // A user missing from users.json.
            format!("U9{:07}", rng.below(100))
        } else {
            user_id(rng.below(USERS as u64) as usize)
        };
        text = format!("<@{other}> {text}");
    }
    if rng.below(10) == 0 {
        text.push_str(&format!(
            " <https://grafana.example.com/d/{}|dashboard>",
            rng.below(1000)
        ));
    }
    if rng.below(30) == 0 {
        text.push_str(&format!(" see <#{}|{}>", channel_id(1), channel_name(1)));
    }
    if rng.below(15) == 0 {
        text = format!("*{text}*");
    }
    if rng.below(20) == 0 {
        text.push_str(" `kubectl rollout undo deploy/checkout`");
    }
    let mut m = json!({
        "client_msg_id": format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", rng.next() as u32, rng.below(65536), rng.below(65536), rng.below(65536), rng.next() & 0xffff_ffff_ffff),
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "team": "T0BENCH01",
        "user_team": "T0BENCH01",
        "source_team": "T0BENCH01",
        "blocks": [{
            "type": "rich_text",
            "block_id": format!("b{}", rng.below(100_000)),
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]
        }],
        "user_profile": {
            "avatar_hash": "g0000bench", "image_72": "https://avatars.example.com/72.png",
            "first_name": "Person", "real_name": format!("Person {user}"), "display_name": "", "team": "T0BENCH01",
            "name": format!("user-{user}"), "is_restricted": false, "is_ultra_restricted": false
        }
    });
    let obj = m.as_object_mut();
    let Some(obj) = obj else { return m };
    if roll < 170 && !roots.is_empty() {
        let parent = roots[rng.below(roots.len() as u64) as usize].clone();
        obj.insert("thread_ts".into(), json!(parent));
        obj.insert("parent_user_id".into(), json!(user_id(0)));
    } else if roll < 200 {
        obj.insert("thread_ts".into(), json!(ts));
        obj.insert("reply_count".into(), json!(3));
        roots.push(ts.to_owned());
        if roots.len() > 20 {
            roots.remove(0);
        }
    }
    if (200..230).contains(&roll) {
        obj.insert("edited".into(), json!({"user": user, "ts": ts}));
    }
    if (230..240).contains(&roll) {
        obj.insert(
            "files".into(),
            json!([{
                "id": format!("F{}", rng.below(1_000_000)), "name": "graph.png", "title": "error rate graph",
                "mimetype": "image/png", "filetype": "png", "size": 12345,
                "permalink": format!("https://bench.slack.com/files/{user}/F1/graph.png"),
                "url_private": "https://files.slack.com/files-pri/T0BENCH01-F1/graph.png"
            }]),
        );
    }
    m
}

fn write_json(path: &Path, value: &Value) -> Result<u64, String> {
    let file = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(&mut w, value).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| e.to_string())
}

fn zip_dir(dir: &Path, zip_path: &Path) -> Result<(), String> {
    let file = fs::File::create(zip_path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipWriter::new(BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut paths = Vec::new();
    collect_files(dir, dir, &mut paths)?;
    paths.sort();
    for rel in paths {
        zip.start_file(rel.as_str(), options)
            .map_err(|e| e.to_string())?;
        let bytes = fs::read(dir.join(&rel)).map_err(|e| e.to_string())?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    zip.finish().map_err(|e| e.to_string())?;
    Ok(())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
