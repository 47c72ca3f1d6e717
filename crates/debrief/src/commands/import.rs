//! `debrief timeline import`: reads a Slack export, alert or paging payloads, deployment statuses,
//! Kubernetes events, CSV, JSON lines or a chat transcript with `debrief-import`, and adds the
//! events to a timeline in one transaction.
//!
//! - Flags that do not apply to the format, and a transcript without a date, are usage errors
//!   (exit 2), found before the input is read.
//! - An input that cannot be imported at all (an [`ImportError`]: truncated JSON, not a Slack
//!   export, over the size limit) fails with the importer's message, which names the file, line or
//!   field, and nothing is written (exit 1). Bad rows are only rejected: the rest is imported and
//!   each rejected row is listed with its location and reason.
//! - The events go in with one `insert_events` call: all or nothing, and an event whose (source,
//!   source id) is already on the timeline is counted as already present, not added again.
//!   `--dry-run` makes the same count against the timeline's events without writing.
//! - A progress bar is drawn on stderr, by hand with `\r`, when stderr is a terminal and the input
//!   takes more than a moment.

use std::collections::HashSet;
use std::fs;
use std::io::{IsTerminal as _, Read, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use debrief_core::{EventFields, Moment, Precision};
use debrief_import::slack::{SlackExport, SlackMessage, SlackSink};
use debrief_import::{
    FieldMapping, Format, ImportError, ImportReport, Location, Options, Rejected,
};
use debrief_store::{BulkOutcome, EventQuery};
use jiff::{SignedDuration, Timestamp, ToSpan as _};
use serde::Serialize;

use super::{Ctx, require};
use crate::cli::TimelineImportArgs;
use crate::error::{CliError, Result};
use crate::render;

/// At most this many rejected rows are listed in the text summary (`--json` lists them all).
const LISTED_REJECTED: usize = 50;

pub async fn run(ctx: &Ctx, a: TimelineImportArgs) -> Result<()> {
    check_flags(&a)?;
    let stdin = a.path.as_os_str() == "-";
    if stdin && a.format == Format::Slack {
        return Err(CliError::usage(
            "a Slack export cannot be read from standard input: give the path of its zip or of \
             the directory it unpacks to",
        ));
    }
    let opts = options(ctx, &a, stdin)?;
    require(ctx, a.key).await?;

    let mut progress = Progress::new();
    let report = if a.format == Format::Slack {
        read_slack(&a.path, &opts, &mut progress)
    } else {
        read_input(&a, stdin, &opts, &mut progress)
    }
    .map_err(|e| CliError::failed(e.to_string()))?;
    let (events, rejected, rejected_unlisted, notes) = checked(report);
    let rejected_count = rejected.len() as u64 + rejected_unlisted;

    let outcome = if a.dry_run {
        would_add(ctx, a.key, &events).await?
    } else if events.is_empty() {
        BulkOutcome::default()
    } else {
        progress.say(&format!("Writing {} event(s) to {}…", events.len(), a.key));
        ctx.store.insert_events(&ctx.by, a.key, events).await?
    };
    progress.clear();

    let summary = Summary {
        key: a.key.to_string(),
        format: a.format.as_str(),
        input: opts.file_name.clone().unwrap_or_default(),
        dry_run: a.dry_run,
        added: outcome.added,
        already_present: outcome.already_present,
        rejected_count,
        rejected: rejected
            .into_iter()
            .map(|r| RejectedRow {
                location: r.location.to_string(),
                reason: r.reason,
            })
            .collect(),
        notes,
    };
    if a.json.json {
        render::emit(&render::json(&summary)?)
    } else {
        render::emit(&text(&summary))
    }
}

/// Refuses flags that the format does not read, so a mistyped command does not silently import
/// something else than was meant.
fn check_flags(a: &TimelineImportArgs) -> Result<()> {
    use Format::{Csv, Grafana, JsonLines, Slack, Transcript};
    let f = a.format;
    let given: [(&str, bool, &[Format]); 5] = [
        ("--channel", !a.channels.is_empty(), &[Slack]),
        ("--workspace-url", a.workspace_url.is_some(), &[Slack]),
        ("--map", !a.maps.is_empty(), &[Csv, JsonLines]),
        ("--date", a.date.is_some(), &[Csv, JsonLines, Transcript]),
        ("--received", a.received.is_some(), &[Grafana]),
    ];
    for (flag, is_given, formats) in given {
        if is_given && !formats.contains(&f) {
            let names: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
            return Err(CliError::usage(format!(
                "{flag} applies to --format {} only, not to {f}",
                names.join(" or ")
            )));
        }
    }
    if f == Transcript && a.date.is_none() && a.since.is_none() {
        return Err(CliError::usage(
            "a chat transcript has times but no dates: give the date of its first line with \
             --date YYYY-MM-DD (or --since)",
        ));
    }
    Ok(())
}

/// The importer's options from the command line; times are resolved in `--zone`.
fn options(ctx: &Ctx, a: &TimelineImportArgs, stdin: bool) -> Result<Options> {
    let mut opts = Options {
        zone: ctx.zone.clone(),
        date: a.date,
        channels: a.channels.clone(),
        workspace_url: a.workspace_url.clone(),
        file_name: Some(if stdin {
            "stdin".to_owned()
        } else {
            a.path.display().to_string()
        }),
        ..Options::default()
    };
    if let Some(max) = a.max_size {
        opts.max_bytes = max;
    }
    if let Some(t) = &a.since {
        opts.since = Some(ctx.moment("--since", t)?.at());
    }
    if let Some(t) = &a.until {
        opts.until = Some(last_instant(&ctx.moment("--until", t)?));
    }
    if let (Some(since), Some(until)) = (opts.since, opts.until)
        && since > until
    {
        return Err(CliError::usage(
            "--since is after --until: the window is empty",
        ));
    }
    let mut mapping = FieldMapping::default();
    for m in &a.maps {
        for field in debrief_import::Field::ALL {
            if let Some(column) = m.get(field) {
                mapping.set(field, column);
            }
        }
    }
    opts.mapping = mapping;
    if a.format == Format::Grafana {
        opts.received_at = Some(match &a.received {
            Some(t) => ctx.moment("--received", t)?.at(),
            // When the payload was saved is the best guess at when it was received; it also keeps
            // a re-import of the same file from adding the alert again (its id holds the time).
            None if stdin => Timestamp::now(),
            None => fs::metadata(&a.path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| Timestamp::try_from(t).ok())
                .unwrap_or_else(Timestamp::now),
        });
    }
    Ok(opts)
}

/// The last instant a moment covers at its precision: all of a day, all of a minute, all of a
/// whole second. `--until 2024-03-05` keeps what happened on that day.
fn last_instant(m: &Moment) -> Timestamp {
    let at = m.at();
    let next = match m.precision() {
        Precision::Day => m.zoned().checked_add(1.day()).map(|z| z.timestamp()).ok(),
        Precision::Minute => at.checked_add(SignedDuration::from_mins(1)).ok(),
        Precision::Second if at.subsec_nanosecond() == 0 => {
            at.checked_add(SignedDuration::from_secs(1)).ok()
        }
        Precision::Second => None,
    };
    next.and_then(|n| n.checked_sub(SignedDuration::from_nanos(1)).ok())
        .unwrap_or(at)
}

/// Reads a single-file format from PATH or standard input.
fn read_input(
    a: &TimelineImportArgs,
    stdin: bool,
    opts: &Options,
    progress: &mut Progress,
) -> Result<ImportReport, ImportError> {
    let label = opts.file_name.clone().unwrap_or_default();
    if stdin {
        let input = Counting::new(std::io::stdin().lock(), None, &label, progress);
        return debrief_import::import(a.format, input, opts);
    }
    let file_error = |e: &std::io::Error| {
        ImportError::new(
            debrief_import::ErrorKind::Io,
            Location::file(Some(&label)),
            format!("cannot read the input: {e}"),
        )
    };
    let meta = fs::metadata(&a.path).map_err(|e| file_error(&e))?;
    if meta.is_dir() {
        return Err(ImportError::new(
            debrief_import::ErrorKind::Options,
            Location::file(Some(&label)),
            format!(
                "this is a directory: --format {} reads one file (only a Slack export is a directory)",
                a.format
            ),
        ));
    }
    let file = fs::File::open(&a.path).map_err(|e| file_error(&e))?;
    let input = Counting::new(file, Some(meta.len()), &label, progress);
    debrief_import::import(a.format, input, opts)
}

/// Collects a Slack export's messages as they are streamed, then orders them by time.
///
/// The events are held in memory until they are inserted in one transaction (so the import is all
/// or nothing). That is small for one incident's channels and window; an import of a whole
/// workspace without `--channel` or `--since` holds every message of the export at once.
fn read_slack(
    path: &Path,
    opts: &Options,
    progress: &mut Progress,
) -> Result<ImportReport, ImportError> {
    struct Collect<'a> {
        events: Vec<EventFields>,
        label: &'a str,
        progress: &'a mut Progress,
    }
    impl SlackSink for Collect<'_> {
        fn message(&mut self, message: SlackMessage) {
            self.events.push(message.event);
        }
        fn progress(&mut self, files_done: usize, files_total: usize) {
            let label = self.label;
            let events = self.events.len();
            self.progress.draw(|| {
                format!(
                    "Reading {label} {} {files_done} of {files_total} day files, {events} messages",
                    bar(files_done as u64, files_total as u64)
                )
            });
        }
    }
    let label = path.display().to_string();
    let mut export = SlackExport::open(path)?;
    let mut sink = Collect {
        events: Vec::new(),
        label: &label,
        progress,
    };
    let summary = export.import(opts, &mut sink)?;
    let mut events = sink.events;
    events.sort_by(|a, b| a.happened_at.cmp(&b.happened_at));
    Ok(ImportReport {
        events,
        rejected: summary.rejected,
        rejected_unlisted: summary.rejected_unlisted,
        notes: summary.notes,
    })
}

/// Splits a report, turning any event the store would refuse into a rejected row, so one odd
/// event does not fail the whole import.
fn checked(report: ImportReport) -> (Vec<EventFields>, Vec<Rejected>, u64, Vec<String>) {
    let ImportReport {
        events,
        mut rejected,
        rejected_unlisted,
        notes,
    } = report;
    let mut kept = Vec::with_capacity(events.len());
    for event in events {
        // The same check the store makes before writing (`debrief_store::prepare_event`).
        match event.validate() {
            Ok(()) => kept.push(event),
            Err(e) => rejected.push(Rejected {
                location: Location::default().with_field(format!(
                    "{} event {}",
                    event.source.as_str(),
                    event.source_id.as_deref().unwrap_or("without an id")
                )),
                reason: e.to_string(),
            }),
        }
    }
    (kept, rejected, rejected_unlisted, notes)
}

/// What `insert_events` would do, without writing: events whose (source, source id) is on the
/// timeline (hidden events included) or earlier in the batch are already present.
async fn would_add(
    ctx: &Ctx,
    key: debrief_core::Key,
    events: &[EventFields],
) -> Result<BulkOutcome> {
    let existing = ctx
        .store
        .list_events(
            key,
            EventQuery {
                include_hidden: true,
            },
        )
        .await?;
    let mut seen: HashSet<(String, String)> = existing
        .into_iter()
        .filter_map(|e| {
            let id = e.fields.source_id?;
            Some((e.fields.source.as_str().to_owned(), id))
        })
        .collect();
    let mut outcome = BulkOutcome::default();
    for e in events {
        let new = match &e.source_id {
            Some(id) => seen.insert((e.source.as_str().to_owned(), id.clone())),
            None => true,
        };
        if new {
            outcome.added += 1;
        } else {
            outcome.already_present += 1;
        }
    }
    Ok(outcome)
}

/// The result, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Summary {
    key: String,
    format: &'static str,
    /// The input as named on the command line (`stdin` for `-`).
    input: String,
    dry_run: bool,
    /// Added, or with `--dry-run` would be added.
    added: usize,
    already_present: usize,
    /// All rejected rows, including any beyond those listed.
    rejected_count: u64,
    rejected: Vec<RejectedRow>,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RejectedRow {
    location: String,
    reason: String,
}

fn text(s: &Summary) -> String {
    let mut out = if s.dry_run {
        format!(
            "Dry run, nothing written: {} ({}) into {}: {} would be added, {} already present, {} rejected.\n",
            s.input, s.format, s.key, s.added, s.already_present, s.rejected_count
        )
    } else {
        format!(
            "Imported {} ({}) into {}: {} added, {} already present, {} rejected.\n",
            s.input, s.format, s.key, s.added, s.already_present, s.rejected_count
        )
    };
    if !s.rejected.is_empty() || s.rejected_count > 0 {
        out.push_str("\nRejected:\n");
        for r in s.rejected.iter().take(LISTED_REJECTED) {
            if r.location.is_empty() {
                out.push_str(&format!("  {}\n", r.reason));
            } else {
                out.push_str(&format!("  {}: {}\n", r.location, r.reason));
            }
        }
        let listed = s.rejected.len().min(LISTED_REJECTED) as u64;
        if s.rejected_count > listed {
            out.push_str(&format!(
                "  … and {} more (--json lists {})\n",
                s.rejected_count - listed,
                if s.rejected_count > s.rejected.len() as u64 {
                    "the first ones"
                } else {
                    "them all"
                }
            ));
        }
    }
    if !s.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for n in &s.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    if !s.dry_run && s.added > 0 {
        out.push_str(&format!(
            "\nSee the timeline with: debrief timeline list {}\n",
            s.key
        ));
    }
    out
}

/// A one-line progress report on stderr, redrawn in place with `\r`. It stays silent unless
/// stderr is a terminal and the work has taken longer than [`Progress::DELAY`], so quick imports
/// and scripts see nothing.
#[derive(Debug)]
struct Progress {
    enabled: bool,
    started: Instant,
    last_drawn: Option<Instant>,
    /// The width of the line on screen, to blank it out.
    width: usize,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(300);
    const INTERVAL: Duration = Duration::from_millis(100);

    fn new() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_drawn: None,
            width: 0,
        }
    }

    /// Redraws the line (at most every [`Progress::INTERVAL`]); `line` is only called then.
    fn draw(&mut self, line: impl FnOnce() -> String) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.started) < Self::DELAY
            || self
                .last_drawn
                .is_some_and(|t| now.duration_since(t) < Self::INTERVAL)
        {
            return;
        }
        self.last_drawn = Some(now);
        self.put(&line());
    }

    /// Shows a step that may take a while (writing), if the import has been slow enough to show
    /// progress so far.
    fn say(&mut self, line: &str) {
        if self.enabled && self.started.elapsed() >= Self::DELAY {
            self.put(line);
        }
    }

    fn put(&mut self, line: &str) {
        let len = line.chars().count();
        let pad = " ".repeat(self.width.saturating_sub(len));
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be written is not worth failing the import for.
        let _ = write!(err, "\r{line}{pad}").and_then(|()| err.flush());
        self.width = len;
    }

    /// Blanks the line, so the summary starts on a clean line.
    fn clear(&mut self) {
        if self.width > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(self.width)).and_then(|()| err.flush());
            self.width = 0;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `[#########...........]  45%`
fn bar(done: u64, total: u64) -> String {
    const WIDTH: u64 = 24;
    let filled = (done.min(total) * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH);
    let percent = (done.min(total) * 100).checked_div(total).unwrap_or(100);
    format!(
        "[{}{}] {percent:>3}%",
        "#".repeat(filled as usize),
        ".".repeat((WIDTH - filled) as usize)
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A reader that reports how much of the input has been read.
struct Counting<'a, R> {
    inner: R,
    done: u64,
    total: Option<u64>,
    label: &'a str,
    progress: &'a mut Progress,
}

impl<'a, R> Counting<'a, R> {
    fn new(inner: R, total: Option<u64>, label: &'a str, progress: &'a mut Progress) -> Self {
        Counting {
            inner,
            done: 0,
            total,
            label,
            progress,
        }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        let (done, total, label) = (self.done, self.total, self.label);
        self.progress.draw(|| match total {
            Some(total) => format!(
                "Reading {label} {} {} of {}",
                bar(done, total),
                mib(done),
                mib(total)
            ),
            None => format!("Reading {label}: {} so far", mib(done)),
        });
        Ok(n)
    }
}

impl<R> std::fmt::Debug for Counting<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counting")
            .field("done", &self.done)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_and_never_overflow() {
        assert_eq!(bar(0, 10), format!("[{}]   0%", ".".repeat(24)));
        assert_eq!(
            bar(5, 10),
            format!("[{}{}]  50%", "#".repeat(12), ".".repeat(12))
        );
        assert_eq!(bar(20, 10), format!("[{}] 100%", "#".repeat(24)));
        assert_eq!(bar(0, 0), format!("[{}] 100%", "#".repeat(24)));
    }

    #[test]
    fn until_covers_what_was_written() {
        let z = debrief_core::Zone::utc();
        let end = |s: &str| last_instant(&Moment::parse(s, &z).expect("time")).to_string();
        assert_eq!(end("2024-03-05"), "2024-03-05T23:59:59.999999999Z");
        assert_eq!(end("2024-03-05 14:02"), "2024-03-05T14:02:59.999999999Z");
        assert_eq!(
            end("2024-03-05T14:02:11Z"),
            "2024-03-05T14:02:11.999999999Z"
        );
        assert_eq!(end("2024-03-05T14:02:11.5Z"), "2024-03-05T14:02:11.5Z");
    }

    #[test]
    fn long_rejection_lists_are_cut() {
        let s = Summary {
            key: "PM-1".into(),
            format: "csv",
            input: "t.csv".into(),
            dry_run: false,
            added: 1,
            already_present: 0,
            rejected_count: 60,
            rejected: (0..60)
                .map(|i| RejectedRow {
                    location: format!("t.csv:{}", i + 2),
                    reason: "bad".into(),
                })
                .collect(),
            notes: vec!["a note".into()],
        };
        let t = text(&s);
        assert!(
            t.starts_with(
                "Imported t.csv (csv) into PM-1: 1 added, 0 already present, 60 rejected."
            ),
            "{t}"
        );
        assert!(
            t.contains("  t.csv:51: bad\n") && !t.contains("t.csv:52:"),
            "{t}"
        );
        assert!(
            t.contains("  … and 10 more (--json lists them all)\n"),
            "{t}"
        );
        assert!(t.contains("  - a note\n"), "{t}");
    }
}
