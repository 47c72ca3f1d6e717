//! `debrief-bench`: generates an archive of postmortems and measures a store on it — bulk insert
//! rate, `get` of a postmortem with 500 events, and search latency for realistic queries.
//!
//! Usage: `debrief-bench --database URL [--postmortems N] [--events N] [--seed N] [--only search]`.
//! `--only search` measures search alone on an existing archive (no 500-event postmortem added).
//! The archive is synthetic but shaped like real write-ups: services, symptoms, causes and
//! timeline lines drawn from fixed vocabularies with a seeded generator, so runs are repeatable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use debrief_core::{
    ActionDocument, ActionFields, ContributingFactor, EventFields, EventKind, Moment,
    ParticipantFields, PostmortemDocument, PostmortemFields, Precision, Question, Role, Source,
    Status, Zone,
};
use debrief_store::{EventQuery, PostmortemFilter, SearchQuery, Store};

const SERVICES: &[&str] = &[
    "checkout",
    "payments",
    "auth",
    "search",
    "inventory",
    "shipping",
    "notifications",
    "billing",
    "catalog",
    "gateway",
    "ledger",
    "profile",
    "recommendations",
    "media",
    "reporting",
    "scheduler",
];
const SYMPTOMS: &[&str] = &[
    "returned 500 errors",
    "timed out",
    "was slow",
    "dropped messages",
    "served stale data",
    "rejected logins",
    "lost connections",
    "ran out of disk",
    "exhausted its connection pool",
    "crash-looped",
    "double-charged customers",
    "stopped sending emails",
    "failed health checks",
];
/// Incident families: a cause for the title, and timeline lines that only incidents of that
/// kind have. Real archives look like this — a few words in every write-up, most words in few —
/// so a query matches a realistic share of the archive, not all of it.
const FAMILIES: &[(&str, &[&str])] = &[
    (
        "an expired certificate",
        &[
            "TLS handshake failures for {s} clients",
            "Certificate for {s}.example.com expired at 00:00 UTC",
            "Certificate renewal job had not run since the cron change",
            "Issued a new certificate by hand and reloaded the load balancer",
        ],
    ),
    (
        "a database failover",
        &[
            "Primary database {h} stopped accepting writes",
            "Replication lag climbed to 40 minutes on the replica",
            "Promoted the replica to primary",
            "Connection strings still pointed at the old primary",
        ],
    ),
    (
        "a memory leak",
        &[
            "Resident memory of {s} grew 200 MB per hour",
            "Pods OOMKilled repeatedly on {h}",
            "Heap profile showed cached sessions never released",
            "Restarted {s} every two hours as a stopgap",
        ],
    ),
    (
        "a bad deploy",
        &[
            "Release {v} of {s} rolled out to all regions",
            "Error rate doubled two minutes after the rollout",
            "Rolled back {s} to {v}",
            "The canary stage was skipped for this release",
        ],
    ),
    (
        "a DNS change",
        &[
            "Resolver returned NXDOMAIN for {s}.internal",
            "TTL of 86400 seconds kept the stale record cached",
            "Reverted the zone change in the DNS provider",
        ],
    ),
    (
        "a full disk",
        &[
            "Disk usage on {h} reached 100%",
            "Log rotation had stopped after the agent upgrade",
            "Deleted old write-ahead segments to free space",
        ],
    ),
    (
        "a traffic spike",
        &[
            "Requests per second to {s} tripled within five minutes",
            "Marketing email campaign sent to 2 million customers",
            "Autoscaler reached its maximum of 40 instances",
            "Enabled rate limiting at the edge",
        ],
    ),
    (
        "a schema migration",
        &[
            "Migration {v} took an exclusive lock on the orders table",
            "Queries against orders queued behind the migration lock",
            "Cancelled the migration and rescheduled it with batching",
        ],
    ),
    (
        "a feature flag",
        &[
            "Flag {f} enabled for all tenants instead of 1%",
            "Flag evaluation service returned defaults during the outage",
            "Disabled flag {f} from the admin console",
        ],
    ),
    (
        "a network partition",
        &[
            "Packet loss between availability zones reached 30%",
            "Cloud provider confirmed a degraded network link",
            "Drained traffic away from the affected zone",
        ],
    ),
    (
        "a dependency outage",
        &[
            "Payment provider API returned 503 for all requests",
            "Circuit breaker for the provider never opened",
            "Switched to the secondary payment provider",
        ],
    ),
    (
        "a configuration change",
        &[
            "Config push lowered the connection pool size of {s} to 5",
            "Connection pool exhausted: requests waited for a free connection",
            "Reverted the config push",
        ],
    ),
    (
        "an autoscaler limit",
        &[
            "Cluster autoscaler could not add nodes: quota exceeded",
            "Pending pods for {s} stayed unschedulable",
            "Requested a quota increase from the cloud provider",
        ],
    ),
    (
        "a queue backlog",
        &[
            "Queue depth for {s} reached 2 million messages",
            "Consumers crash-looped on a malformed message",
            "Moved the poison message to the dead-letter queue",
        ],
    ),
    (
        "a Kubernetes upgrade",
        &[
            "Node pool upgrade drained nodes faster than pods rescheduled",
            "Kubernetes evicted pods on two nodes under memory pressure",
            "Paused the node pool upgrade",
        ],
    ),
    (
        "a cache stampede",
        &[
            "Cache hit ratio of {s} dropped from 98% to 10%",
            "All instances recomputed the same keys at once",
            "Added request coalescing to the cache client",
        ],
    ),
    (
        "a clock skew",
        &[
            "Clock on {h} drifted 90 seconds ahead",
            "Tokens were rejected as not yet valid",
            "Restarted the time sync daemon",
        ],
    ),
    (
        "a credential rotation",
        &[
            "Database password rotated without updating {s}",
            "Authentication failures from {s} to the database",
            "Updated the secret and restarted {s}",
        ],
    ),
    (
        "a load balancer change",
        &[
            "Health check path of {s} changed to a route that needs auth",
            "Load balancer marked every target unhealthy",
            "Restored the previous health check path",
        ],
    ),
    (
        "a storage outage",
        &[
            "Object storage requests timed out in one region",
            "Uploads of customer files failed",
            "Served downloads from the replica bucket",
        ],
    ),
];
/// Lines every kind of incident has.
const COMMON: &[&str] = &[
    "Alert fired for elevated error rate on the {s} dashboard",
    "On-call acknowledged the page and opened the incident channel",
    "Customer support reported failed requests from several customers",
    "Status page updated: investigating degraded {s}",
    "Posted an update to the customer support channel",
    "Incident lead asked for a status update",
    "Error rate back to baseline",
    "Declared the incident resolved",
    "Looked at the {s} logs for {h}",
    "Opened ticket {t} to track the follow-up",
];
const QUERIES: &[&str] = &[
    "expired certificate",
    "database failover",
    "replication lag",
    "memory leak OOMKilled",
    "rolled back canary",
    "dns ttl",
    "disk full log rotation",
    "traffic spike rate limiting",
    "migration lock orders",
    "feature flag tenants",
    "packet loss zone",
    "payment provider 503",
    "connection pool exhausted",
    "quota exceeded",
    "dead-letter queue",
    "kubernetes evicted pods",
    "cache stampede",
    "clock drift tokens",
    "password rotated",
    "checkout timed out",
];

/// A small deterministic generator (xorshift64*), so archives are repeatable without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        let n = items.len() as u64;
        items[usize::try_from(self.next() % n).unwrap_or(0)]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Args {
    database: String,
    postmortems: usize,
    events: usize,
    seed: u64,
    /// Only this measurement (`search`), on an existing archive.
    only: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        database: String::new(),
        postmortems: 100_000,
        events: 50,
        seed: 42,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: {value:?} is not a number"))
        };
        match flag.as_str() {
            "--database" => args.database = value.clone(),
            "--postmortems" => args.postmortems = number()?,
            "--events" => args.events = number()?,
            "--seed" => args.seed = u64::try_from(number()?).unwrap_or(42),
            "--only" if value == "search" => args.only = Some(value.clone()),
            "--only" => return Err(format!("--only: {value:?} is not a measurement (search)")),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.database.is_empty() {
        return Err(
            "usage: debrief-bench --database URL [--postmortems N] [--events N] [--seed N] [--only search]"
                .into(),
        );
    }
    Ok(args)
}

fn fill(rng: &mut Rng, line: &str, service: &str) -> String {
    line.replace("{s}", service)
        .replace("{h}", &format!("{service}-{}", rng.below(400)))
        .replace(
            "{v}",
            &format!("v{}.{}.{}", rng.below(40), rng.below(20), rng.below(10)),
        )
        .replace(
            "{f}",
            &format!("{service}_rollout_{:x}", rng.below(1 << 20)),
        )
        .replace("{t}", &format!("OPS-{}", rng.below(90_000)))
}

fn generate(
    rng: &mut Rng,
    index: usize,
    events: usize,
) -> Result<PostmortemDocument, debrief_core::ParseError> {
    let bad = |e: jiff::Error| debrief_core::ParseError::new("bench", e.to_string());
    let zone = Zone::utc();
    let service = rng.pick(SERVICES);
    let symptom = rng.pick(SYMPTOMS);
    let (cause, lines) = FAMILIES[usize::try_from(rng.below(FAMILIES.len() as u64)).unwrap_or(0)];
    let mut fields = PostmortemFields::new(
        format!("{service} {symptom} after {cause}").parse()?,
        format!("SEV{}", 1 + rng.below(4)).parse()?,
    );
    fields.summary = format!(
        "For {} minutes {service} {symptom}. It followed {cause}; about {}% of requests were affected.",
        5 + rng.below(180),
        1 + rng.below(60)
    );
    fields.impact = format!(
        "Customers of {service} saw errors; {} support tickets were opened.",
        rng.below(400)
    );
    fields.services = vec![service.parse()?, rng.pick(SERVICES).parse()?];
    // Incidents spread over five years, one every ~26 minutes.
    let offset =
        i64::try_from(index).unwrap_or(0) * 1_577 + i64::try_from(rng.below(600)).unwrap_or(0);
    let start = jiff::Timestamp::from_second(1_577_836_800 + offset).map_err(bad)?;
    fields.key_moments.started = Some(Moment::exact(start, zone.clone()));
    fields.factors.push(ContributingFactor {
        category: "change".parse()?,
        text: format!("{cause} reached {service} without a canary").parse()?,
    });
    fields
        .lessons
        .got_lucky
        .push(format!("The {service} traffic was low at the time").parse()?);
    let mut evs = Vec::with_capacity(events);
    for e in 0..events {
        let step = i64::try_from(e).unwrap_or(0) * 45 + i64::try_from(rng.below(40)).unwrap_or(0);
        let at = start
            .checked_add(jiff::SignedDuration::from_secs(step))
            .map_err(bad)?;
        let kind =
            EventKind::ALL[usize::try_from(rng.below(EventKind::ALL.len() as u64)).unwrap_or(0)];
        let kind = if kind == EventKind::Milestone {
            EventKind::Note
        } else {
            kind
        };
        // Half the lines are common to every incident, half belong to this kind of incident.
        let template = if rng.below(2) == 0 {
            rng.pick(COMMON)
        } else {
            rng.pick(lines)
        };
        let mut ev = EventFields::new(
            Moment::new(at, zone.clone(), Precision::Second)?,
            kind,
            fill(rng, template, service).parse()?,
        );
        ev.source = "slack".parse::<Source>()?;
        ev.source_id = Some(format!("C{index}/{e}"));
        evs.push(ev);
    }
    let action = ActionFields::new(
        format!("Add a canary stage for {service}").parse()?,
        Question::Prevent,
        format!("{service}-team").parse()?,
        jiff::civil::date(2025, 1, 15),
    );
    Ok(PostmortemDocument {
        key: None,
        status: Status::Published,
        fields,
        events: evs,
        actions: vec![ActionDocument {
            fields: action,
            progress: Vec::new(),
        }],
        participants: vec![ParticipantFields::new(
            "On-call engineer".parse()?,
            Role::IncidentLead,
        )],
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round();
    sorted[usize::try_from(rank as u64)
        .unwrap_or(0)
        .min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

async fn connect(url: &str) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            debrief_store_postgres::PostgresStore::connect(url)
                .await
                .map_err(|e| e.to_string())?,
        ))
    } else {
        Ok(Arc::new(
            debrief_store_sqlite::SqliteStore::connect(url)
                .await
                .map_err(|e| e.to_string())?,
        ))
    }
}

async fn run(args: Args) -> Result<(), String> {
    let store = connect(&args.database).await?;
    let mut rng = Rng(args.seed.max(1));
    let existing = store
        .list_postmortems(&PostmortemFilter {
            limit: Some(1),
            ..PostmortemFilter::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    if existing.is_empty() {
        println!(
            "archive: generating {} postmortems × {} events on {}",
            args.postmortems,
            args.events,
            store.backend()
        );
        let started = Instant::now();
        let mut last = Instant::now();
        for i in 0..args.postmortems {
            let doc = generate(&mut rng, i, args.events).map_err(|e| e.to_string())?;
            store
                .import_document("bench", doc)
                .await
                .map_err(|e| e.to_string())?;
            if last.elapsed() > Duration::from_secs(30) {
                last = Instant::now();
                eprintln!(
                    "  … {i} postmortems in {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let total_events = args.postmortems * args.events;
        println!(
            "bulk insert: {} postmortems, {} events in {:.1} s = {:.0} postmortems/s, {:.0} events/s",
            args.postmortems,
            total_events,
            secs,
            args.postmortems as f64 / secs,
            total_events as f64 / secs
        );
    } else {
        println!("archive: reusing the existing archive in {}", args.database);
    }

    if args.only.is_none() {
        measure_get(&store, &mut rng, &args).await?;
    }
    measure_search(&store).await
}

/// `get` of a postmortem with 500 events (added to the archive for it).
async fn measure_get(store: &Arc<dyn Store>, rng: &mut Rng, args: &Args) -> Result<(), String> {
    let big = store
        .import_document(
            "bench",
            generate(rng, args.postmortems + 1, 500).map_err(|e| e.to_string())?,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let pm = store
            .get_postmortem(big.key)
            .await
            .map_err(|e| e.to_string())?;
        let events = store
            .list_events(pm.key, EventQuery::default())
            .await
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed());
        if events.len() != 500 {
            return Err(format!("expected 500 events, got {}", events.len()));
        }
    }
    times.sort();
    println!(
        "get (postmortem + 500 events), 300 runs: p50 {}, p95 {}",
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 95.0))
    );

    Ok(())
}

/// Search: 20 queries, each run 10 times after a warm-up.
async fn measure_search(store: &Arc<dyn Store>) -> Result<(), String> {
    let mut all = Vec::new();
    for q in QUERIES {
        let query = SearchQuery::parse(q).map_err(|e| e.to_string())?;
        let filter = PostmortemFilter {
            limit: Some(20),
            ..PostmortemFilter::default()
        };
        let hits = store
            .search(&query, &filter)
            .await
            .map_err(|e| e.to_string())?;
        let mut mine = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            store
                .search(&query, &filter)
                .await
                .map_err(|e| e.to_string())?;
            mine.push(t.elapsed());
        }
        mine.sort();
        println!(
            "  search {q:?}: {} hits shown, p50 {}",
            hits.len(),
            ms(percentile(&mine, 50.0))
        );
        all.extend(mine);
    }
    all.sort();
    println!(
        "search, 20 queries × 10 runs (top 20 hits): p50 {}, p95 {}, max {}",
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 95.0)),
        ms(percentile(&all, 100.0))
    );
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
