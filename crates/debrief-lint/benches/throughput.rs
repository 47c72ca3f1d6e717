//! Lint throughput on Markdown postmortems, single thread.
//!
//! ```sh
//! cargo bench -p debrief-lint --bench throughput                      # the figures
//! cargo bench -p debrief-lint --bench throughput -- --write DIR       # the input, as files
//! ```
//!
//! The input is generated (deterministically, from a fixed seed): postmortems in Debrief's export
//! format and in hand-written styles, with summaries, timelines as tables and bullet lists,
//! contributing factors, lessons and action items; about one sentence in twelve carries blame
//! language. `--write DIR` writes the same documents as `.md` files, so another linter (the
//! baseline, `alex`) can be timed on exactly the same text.

use std::time::{Duration, Instant};

use debrief_lint::Linter;

/// xorshift64*: small, deterministic, good enough to pick sentences.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SERVICES: &[&str] = &[
    "checkout",
    "search",
    "billing",
    "login",
    "ingest",
    "reports",
    "notifications",
    "gateway",
];
const CLEAN: &[&str] = &[
    "Requests to the {s} API timed out for {n} minutes after a configuration change reduced the connection pool.",
    "The {s} workers restarted in a loop because the new image could not read its secrets.",
    "Latency on the {s} service rose from 120 ms to {n} ms at the 95th percentile.",
    "About {n} customers saw errors when they tried to pay; no data was lost.",
    "The alert fired in a channel that had been muted during the reorganisation.",
    "The rollback restored the code but not the configuration map, so errors continued.",
    "The database team joined the bridge and found the pool limit set to {n}.",
    "Support posted an update on the status page and answered {n} tickets.",
    "The dashboard showed application errors but not pool saturation.",
    "Two teams owned parts of the configuration, and neither saw the whole picture.",
    "Staging has a tenth of production's traffic, so the limit never mattered there.",
    "The runbook described the previous deployment tool, which was retired in March.",
    "The engineer thought the limit was configured at the gateway.",
    "We should have alerting on pool saturation for every service.",
    "The pods failed to start because the image pull secret had been rotated.",
    "A synthetic check on the {s} page would have detected this within minutes.",
    "Traffic was drained from the affected zone and errors stopped within {n} seconds.",
    "The cache warmer wrote stale entries after the schema change, see `warm_cache.py`.",
    "Details are in https://example.invalid/incidents/{n} and the linked merge request.",
    "Customer support was told about the incident {n} minutes after it started.",
];
const BLAME: &[&str] = &[
    "The on-call engineer should have checked the replica lag first.",
    "It was human error: the wrong context was selected.",
    "Obviously the disk was going to fill up eventually.",
    "The root cause was the engineer who ran the script.",
    "Nobody noticed that the alert had been silenced.",
    "Be more careful when running migrations.",
    "Who approved this change?",
    "The restore procedure was never tested.",
];
const TITLES: &[&str] = &[
    "Add an alert on pool saturation",
    "Include configuration maps in the rollback tool",
    "Document the failover steps in the runbook",
    "Investigate the flaky health check",
    "Cap the retry budget at 3 attempts per request",
    "Route the disk alert to the on-call channel",
];

fn sentence(rng: &mut Rng) -> String {
    let s = if rng.below(12) == 0 {
        rng.pick(BLAME)
    } else {
        rng.pick(CLEAN)
    };
    s.replace("{s}", rng.pick(SERVICES))
        .replace("{n}", &(10 + rng.below(990)).to_string())
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    (0..sentences)
        .map(|_| sentence(rng))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One postmortem, in the export format or a hand-written one.
fn postmortem(rng: &mut Rng, key: usize) -> String {
    let mut d = String::new();
    let exported = rng.below(2) == 0;
    let svc = rng.pick(SERVICES);
    if exported {
        d.push_str(&format!(
            "# PM-{key}: {svc} errors after a config push\n\n- **Status:** published\n- **Severity:** SEV{}\n- **Times in:** UTC\n\n",
            1 + rng.below(4)
        ));
    } else {
        d.push_str(&format!("# {svc} outage {key}\n\n"));
    }
    d.push_str(&format!("## Summary\n\n{}\n\n", paragraph(rng, 2)));
    d.push_str(&format!("## Impact\n\n{}\n\n", paragraph(rng, 2)));
    d.push_str("## Contributing factors\n\n");
    for _ in 0..3 + rng.below(4) {
        let n = 1 + rng.below(2);
        d.push_str(&format!("- {}\n", paragraph(rng, n)));
    }
    d.push_str("\n## Lessons learned\n\n### What helped us\n\n");
    for _ in 0..2 + rng.below(3) {
        d.push_str(&format!("- {}\n", sentence(rng)));
    }
    d.push_str("\n### What slowed us down\n\n");
    for _ in 0..2 + rng.below(3) {
        d.push_str(&format!("- {}\n", sentence(rng)));
    }
    d.push_str("\n## Timeline\n\n");
    let events = 15 + rng.below(40);
    if exported {
        d.push_str("| # | Time | Kind | Actor | Description | Outcome | Source |\n|--:|---|---|---|---|---|---|\n");
        for i in 0..events {
            d.push_str(&format!(
                "| {} | 2026-03-{:02} {:02}:{:02} | action | Ana | {} | helped | manual |\n",
                i + 1,
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                sentence(rng)
            ));
        }
        d.push_str("\n### Event 2\n\n- **Knew:** The deploy was the only change that morning.\n- **Expected:** The rollback to restore the old pool size.\n");
    } else {
        for _ in 0..events {
            d.push_str(&format!(
                "- **{:02}:{:02} UTC** - {}\n",
                rng.below(24),
                rng.below(60),
                sentence(rng)
            ));
        }
    }
    d.push_str("\n## Action items\n\n");
    if exported {
        d.push_str("| # | Title | Owner | Check-in | Due | Priority | Status | Category |\n|--:|---|---|---|---|---|---|---|\n");
        for i in 0..3 + rng.below(5) {
            d.push_str(&format!(
                "| {} | {} | platform-team | 2026-04-{:02} |  | high | open | prevent |\n",
                i + 1,
                rng.pick(TITLES),
                1 + rng.below(28)
            ));
        }
    } else {
        for _ in 0..3 + rng.below(5) {
            d.push_str(&format!(
                "- {} (owner: @ana, check-in 2026-04-{:02})\n",
                rng.pick(TITLES),
                1 + rng.below(28)
            ));
        }
    }
    d.push_str("\n```sh\nkubectl rollout undo deployment/checkout # should have checked\n```\n");
    d
}

fn corpus(bytes: usize) -> Vec<String> {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut docs = Vec::new();
    let mut total = 0;
    while total < bytes {
        let d = postmortem(&mut rng, docs.len() + 1);
        total += d.len();
        docs.push(d);
    }
    docs
}

/// This process's CPU time (user + system), from /proc/self/stat on Linux: on a shared machine
/// the wall clock measures the neighbours too.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Clock ticks: 100 per second on Linux.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn mb_per_s(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let Some(dir) = args.get(i + 1) else {
            eprintln!("usage: --write DIR [MEGABYTES]");
            std::process::exit(2);
        };
        let mb: usize = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(2);
        let docs = corpus(mb * 1_000_000);
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("{dir}: {e}");
            std::process::exit(1);
        }
        for (k, d) in docs.iter().enumerate() {
            let path = format!("{dir}/pm-{:04}.md", k + 1);
            if let Err(e) = std::fs::write(&path, d) {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
        println!("wrote {} files to {dir}", docs.len());
        return;
    }
    let linter = Linter::builtin();
    let docs = corpus(20_000_000);
    let bytes: usize = docs.iter().map(String::len).sum();
    // Warm-up, then the best of five runs: one document at a time, as the CLI lints files.
    let mut findings = 0;
    for d in docs.iter().take(50) {
        findings += linter.lint_markdown(d).len();
    }
    let mut best = Duration::MAX;
    let cpu_start = cpu_time();
    for _ in 0..5 {
        let start = Instant::now();
        findings = 0;
        for d in &docs {
            findings += linter.lint_markdown(d).len();
        }
        best = best.min(start.elapsed());
    }
    let cpu = cpu_start.and_then(|s| cpu_time().map(|e| e.saturating_sub(s)));
    println!(
        "{} postmortems, {:.1} MB: best of 5 {:.3} s = {:.0} MB/s wall clock ({findings} findings)",
        docs.len(),
        bytes as f64 / 1e6,
        best.as_secs_f64(),
        mb_per_s(bytes, best)
    );
    if let Some(cpu) = cpu.filter(|c| !c.is_zero()) {
        println!(
            "  CPU time for the 5 runs {:.2} s = {:.0} MB/s of CPU time",
            cpu.as_secs_f64(),
            mb_per_s(bytes * 5, cpu)
        );
    }
    // One 100 MB document: linear time, bounded memory for findings.
    let mut big = String::with_capacity(100_000_000);
    for d in docs.iter().cycle() {
        if big.len() >= 100_000_000 {
            break;
        }
        big.push_str(d);
        big.push('\n');
    }
    let start = Instant::now();
    let n = linter.lint_markdown(&big).len();
    let t = start.elapsed();
    println!(
        "one {:.0} MB document: {:.3} s = {:.0} MB/s ({n} findings, capped at the default 10,000 + 1)",
        big.len() as f64 / 1e6,
        t.as_secs_f64(),
        mb_per_s(big.len(), t)
    );
}
