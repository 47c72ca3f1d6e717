//! The log of the long-running commands (`debrief serve`, `debrief worker`): every tracing event
//! of Debrief's own crates at `info` and above (`debug` with `DEBRIEF_LOG=debug`), and other
//! crates' warnings and errors, one line each on stderr. Small on purpose: no spans, no colours,
//! no filter language.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};

#[derive(Debug)]
struct StderrLog {
    /// The most verbose level shown for Debrief's crates.
    max: Level,
    next_span: AtomicU64,
}

impl StderrLog {
    fn shows(&self, metadata: &Metadata<'_>) -> bool {
        let ours = metadata.target().starts_with("debrief");
        // Less verbose levels compare lower: ERROR < WARN < INFO < DEBUG < TRACE.
        *metadata.level() <= if ours { self.max } else { Level::WARN }
    }
}

/// One event's message and fields as text.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for StderrLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.shows(metadata)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed).max(1))
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        if !self.shows(metadata) {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        eprintln!(
            "{} {:>5} {}: {}{}",
            jiff::Timestamp::now()
                .round(jiff::Unit::Millisecond)
                .unwrap_or_else(|_| jiff::Timestamp::now()),
            metadata.level(),
            metadata.target(),
            line.message,
            line.fields
        );
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// Sends tracing events to stderr from now on (once per process; later calls do nothing).
pub fn init() {
    let max = match std::env::var("DEBRIEF_LOG").map(|v| v.trim().to_ascii_lowercase()) {
        Ok(v) if v == "debug" => Level::DEBUG,
        Ok(v) if v == "trace" => Level::TRACE,
        Ok(v) if v == "warn" => Level::WARN,
        Ok(v) if v == "error" => Level::ERROR,
        _ => Level::INFO,
    };
    let _ = tracing::subscriber::set_global_default(StderrLog {
        max,
        next_span: AtomicU64::new(1),
    });
}
