//! The follow-through benchmark (figures in docs/PERFORMANCE.md; run by bench/followup.sh):
//!
//! 1. **Scan**: an archive of `--actions` open action items (default 100,000; 100 per postmortem)
//!    with check-in dates spread evenly over a year around today; times the reminder scan's query,
//!    the first scan (which enqueues every due reminder) and the scans after it (which find every
//!    reminder already enqueued), and — for comparison — reading every open action.
//! 2. **Drain**: `--drain` reminders (default 10,000: actions whose check-in is tomorrow) in a
//!    second database with one webhook channel, worked off by two instances (two stores, two
//!    worker ids) at once — a `notify` job and a `send` job per reminder; counts every send (the
//!    channel is replaced by a counter) and checks that none is repeated.
//!
//! ```sh
//! cargo run --release -p debrief-server --example followup_bench -- \
//!     --database sqlite://bench/out/followup.db --drain-database sqlite://bench/out/drain.db
//! ```
//!
//! Both databases must be new (empty) or made by an earlier run with the same numbers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use debrief_core::notify::{Channel, ChannelFields, ChannelTarget, Topics};
use debrief_core::{
    ActionDocument, ActionFields, PostmortemDocument, PostmortemFields, Question, Severity, Status,
};
use debrief_server::jobs::{Deliver, Outgoing, drain, scan_once};
use debrief_server::{AppState, Config, SystemClock};
use debrief_store::DynStore;
use debrief_store_postgres::PostgresStore;
use debrief_store_sqlite::SqliteStore;
use jiff::ToSpan;
use jiff::civil::Date;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Counts sends by notification id.
#[derive(Debug, Default)]
struct Counter(Mutex<HashMap<String, u32>>);

#[async_trait]
impl Deliver for Counter {
    async fn send(
        &self,
        _channel: &Channel,
        _to: Option<&str>,
        n: &Outgoing,
        _now: jiff::Timestamp,
    ) -> Result<(), String> {
        let mut counts = self.0.lock().map_err(|e| e.to_string())?;
        *counts.entry(n.id.clone()).or_insert(0) += 1;
        Ok(())
    }
}

async fn open(url: &str) -> Result<DynStore, Error> {
    Ok(if url.starts_with("postgres://") {
        Arc::new(PostgresStore::connect(url).await?)
    } else {
        Arc::new(SqliteStore::connect(url).await?)
    })
}

fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Stores `n` open actions, 100 per postmortem, with check-in dates from `check_in(i)`.
async fn seed(store: &DynStore, n: usize, check_in: impl Fn(usize) -> Date) -> Result<(), Error> {
    let started = Instant::now();
    let mut i = 0;
    let mut pm = 0;
    while i < n {
        pm += 1;
        let mut fields =
            PostmortemFields::new(format!("Incident {pm}").parse()?, Severity::default());
        fields.summary = "Generated for the follow-through benchmark.".into();
        let mut actions = Vec::new();
        for _ in 0..100.min(n - i) {
            actions.push(ActionDocument {
                fields: ActionFields::new(
                    format!("Action {i}").parse()?,
                    Question::Prevent,
                    format!("owner-{}", i % 50).parse()?,
                    check_in(i),
                ),
                progress: Vec::new(),
            });
            i += 1;
        }
        let doc = PostmortemDocument {
            key: None,
            status: Status::Published,
            fields,
            events: Vec::new(),
            actions,
            participants: Vec::new(),
        };
        store.import_document("bench", doc).await?;
    }
    println!(
        "  seeded {n} actions in {pm} postmortems: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn scan_bench(url: &str, n: usize) -> Result<(), Error> {
    println!("== scan: {url}, {n} open actions over a year");
    let store = open(url).await?;
    let today = today();
    let existing = store
        .followup_actions(
            jiff::civil::date(1900, 1, 1),
            jiff::civil::date(9999, 12, 31),
        )
        .await?
        .len();
    if existing == 0 {
        // Evenly over [today − 182 days, today + 182 days].
        let span = 365_usize;
        seed(&store, n, |i| {
            let offset = i64::try_from(i * span / n).unwrap_or(0) - 182;
            today.checked_add(offset.days()).unwrap_or(today)
        })
        .await?;
    } else {
        println!("  reusing {existing} open actions");
    }
    let state = AppState::new(store.clone(), Config::default(), Arc::new(SystemClock))
        .with_deliver(Arc::new(Counter::default()));
    let (from, to) = state.config().followup.check_in_window(today);
    let mut query = Vec::new();
    let mut found = 0;
    for _ in 0..7 {
        let t = Instant::now();
        found = store.followup_actions(from, to).await?.len();
        query.push(t.elapsed());
    }
    println!(
        "  scan query ({from} … {to}): {found} actions, median {}",
        ms(median(query))
    );
    let t = Instant::now();
    let first = scan_once(&state).await?;
    println!(
        "  first scan: {} due, {} enqueued, {}",
        first.due,
        first.enqueued,
        ms(t.elapsed())
    );
    let mut again = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let o = scan_once(&state).await?;
        again.push(t.elapsed());
        assert_eq!(o.enqueued, 0, "a reminder was enqueued twice");
    }
    println!(
        "  later scans (all already enqueued): median {}, max {}",
        ms(median(again.clone())),
        ms(again.iter().copied().max().unwrap_or_default())
    );
    let t = Instant::now();
    let all = store
        .followup_actions(
            jiff::civil::date(1900, 1, 1),
            jiff::civil::date(9999, 12, 31),
        )
        .await?
        .len();
    println!(
        "  for comparison, reading all {all} open actions: {}",
        ms(t.elapsed())
    );
    Ok(())
}

async fn drain_bench(url: &str, n: usize) -> Result<(), Error> {
    println!("== drain: {url}, {n} reminders, two instances");
    let seed_store = open(url).await?;
    let tomorrow = today().checked_add(1.day())?;
    if seed_store
        .followup_actions(
            jiff::civil::date(1900, 1, 1),
            jiff::civil::date(9999, 12, 31),
        )
        .await?
        .is_empty()
    {
        seed(&seed_store, n, |_| tomorrow).await?;
    }
    if seed_store.list_channels().await?.is_empty() {
        let room = ChannelFields {
            name: "bench-room".parse()?,
            target: ChannelTarget::Webhook {
                url: "http://127.0.0.1:9/bench".parse()?,
                secret: "a benchmark's secret".into(),
            },
            topics: Topics::all(),
            owners: vec![],
            enabled: true,
        };
        seed_store
            .create_channel(room, jiff::Timestamp::now())
            .await?;
    }
    let counter = Arc::new(Counter::default());
    let mut config = Config::default();
    config.followup.digest.day = debrief_core::followthrough::DigestDay::Off;
    let instance = |store: DynStore| {
        AppState::new(store, config.clone(), Arc::new(SystemClock)).with_deliver(counter.clone())
    };
    let a = instance(open(url).await?);
    let b = instance(open(url).await?);
    let t = Instant::now();
    let scan = scan_once(&a).await?;
    println!(
        "  scan: {} due, {} enqueued, {}",
        scan.due,
        scan.enqueued,
        ms(t.elapsed())
    );
    let work = |state: AppState, worker: &'static str| {
        tokio::spawn(async move { drain(&state, worker).await.map(|o| o.claimed) })
    };
    let t = Instant::now();
    let one = work(a, "bench-a");
    let two = work(b, "bench-b");
    let (ran_a, ran_b) = (one.await??, two.await??);
    let took = t.elapsed();
    let counts = counter.0.lock().map_err(|e| e.to_string())?;
    let deliveries: u32 = counts.values().sum();
    let repeated = counts.values().filter(|c| **c > 1).count();
    println!(
        "  drained in {:.1} s ({:.0} jobs/s, {:.0} reminders/s): jobs run by instance a {ran_a}, b {ran_b}; {deliveries} sends of {} reminders, {repeated} repeated",
        took.as_secs_f64(),
        (ran_a + ran_b) as f64 / took.as_secs_f64(),
        f64::from(deliveries) / took.as_secs_f64(),
        counts.len()
    );
    assert_eq!(repeated, 0, "a reminder was delivered twice");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut database = None;
    let mut drain_database = None;
    let mut actions = 100_000;
    let mut drain = 10_000;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--database" => database = Some(value()?),
            "--drain-database" => drain_database = Some(value()?),
            "--actions" => actions = value()?.parse()?,
            "--drain" => drain = value()?.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    if let Some(url) = database {
        scan_bench(&url, actions).await?;
    }
    if let Some(url) = drain_database {
        drain_bench(&url, drain).await?;
    }
    Ok(())
}
