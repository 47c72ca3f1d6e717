//! CSV timelines: a header row naming the columns, one event per row.
//!
//! Columns are found by a [`FieldMapping`](crate::FieldMapping) or by common names (`time`,
//! `description`, `actor`, `kind`, `id`, …). The delimiter (comma, semicolon or tab) is taken from
//! the header row. A row whose id column is empty gets an id derived from its content, so
//! re-importing the same file adds nothing. A bad row is rejected with its line and column name;
//! the other rows are imported.

use std::io::{BufRead, BufReader, Read};

use crate::common::{CappedReader, Occurrences, Options, source, stream_error};
use crate::mapping::{Columns, Field, RowNotes, RowValues, row_event};
use crate::report::{ErrorKind, ImportError, ImportReport, Location, Problems};

/// Reads a CSV timeline.
pub fn parse<R: Read>(reader: R, opts: &Options) -> Result<ImportReport, ImportError> {
    let file = opts.file();
    let mut input = BufReader::with_capacity(
        64 * 1024,
        LineEnds::new(CappedReader::new(reader, opts.max_bytes)),
    );
    let head = input
        .fill_buf()
        .map_err(|e| stream_error(&e, file, opts.max_bytes))?;
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::new(
            ErrorKind::Format,
            Location::file(file),
            "the CSV input is empty: expected a header row naming the columns (time, description, …)",
        ));
    }
    let delimiter = sniff_delimiter(head);
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let mut record = ::csv::ByteRecord::new();
    let read = |csv: &mut ::csv::Reader<_>, record: &mut ::csv::ByteRecord| {
        csv.read_byte_record(record).map_err(|e| match e.kind() {
            ::csv::ErrorKind::Io(io) => stream_error(io, file, opts.max_bytes),
            _ => ImportError::new(
                ErrorKind::Syntax,
                Location::file(file).with_line(e.position().map_or(0, ::csv::Position::line)),
                format!("cannot read the CSV: {e}"),
            ),
        })
    };
    // The header: the first non-empty record.
    let headers: Vec<String> = loop {
        if !read(&mut csv, &mut record)? {
            return Err(ImportError::new(
                ErrorKind::Format,
                Location::file(file),
                "the CSV input has no header row: expected one naming the columns (time, description, …)",
            ));
        }
        if record
            .iter()
            .any(|c| !c.iter().all(u8::is_ascii_whitespace))
        {
            break record
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
        }
    };
    let columns = Columns::resolve(&headers, &opts.mapping, file)?;
    let src = source("csv");
    let mut problems = Problems::default();
    let mut occurrences = Occurrences::default();
    let mut events = Vec::new();
    let mut outside = 0u64;
    while read(&mut csv, &mut record)? {
        let line = record_line(&csv, &record);
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let at = |field: Option<Field>| {
            let mut l = Location::file(file).with_line(line);
            if let Some(f) = field
                .and_then(|f| columns.get(f))
                .and_then(|i| headers.get(i))
            {
                l = l.with_field(f.trim().to_owned());
            }
            l
        };
        let mut cells: Vec<(Field, String)> = Vec::new();
        let mut bad_utf8 = None;
        for field in Field::ALL {
            if let Some(i) = columns.get(field)
                && let Some(cell) = record.get(i)
            {
                match std::str::from_utf8(cell) {
                    Ok(s) => cells.push((field, s.to_owned())),
                    Err(_) => bad_utf8 = Some(field),
                }
            }
        }
        if let Some(field) = bad_utf8 {
            problems.reject(at(Some(field)), "not valid UTF-8 text");
            continue;
        }
        let mut row = RowValues::default();
        for (field, value) in &cells {
            row.set(*field, value);
        }
        let mut notes = RowNotes::default();
        match row_event(
            &row,
            opts.date,
            &opts.zone,
            &src,
            &mut occurrences,
            &mut notes,
        ) {
            Ok(event) => {
                for (field, note) in notes.0 {
                    problems.note(format!("{}: {note}", at(Some(field))));
                }
                if opts.in_window(event.happened_at.at()) {
                    events.push(event);
                } else {
                    outside += 1;
                }
            }
            Err((field, reason)) => problems.reject(at(Some(field)), reason),
        }
    }
    if outside > 0 {
        problems.note(format!(
            "{outside} rows outside the time window were left out"
        ));
    }
    Ok(problems.into_report(events))
}

/// The line a record starts on. The reader's own position of a record is where it began reading,
/// which is before any blank lines it skipped; so count back from where the record ended instead:
/// every record ends with a line feed (see [`LineEnds`]), after which the reader is on the next line.
fn record_line<R: Read>(csv: &::csv::Reader<R>, record: &::csv::ByteRecord) -> u64 {
    let start = record.position().map_or(1, ::csv::Position::line);
    let embedded: u64 = record
        .iter()
        .map(|f| f.iter().filter(|b| **b == b'\n').count() as u64)
        .sum();
    csv.position()
        .line()
        .saturating_sub(1 + embedded)
        .max(start)
}

/// Line ends as one line feed: CRLF and a lone CR become LF, and a last line without one gets one,
/// so that lines are counted the same whatever wrote the file.
#[derive(Debug)]
struct LineEnds<R> {
    inner: R,
    buf: Vec<u8>,
    after_cr: bool,
    last: Option<u8>,
    finished: bool,
}

impl<R: Read> LineEnds<R> {
    fn new(inner: R) -> LineEnds<R> {
        LineEnds {
            inner,
            buf: vec![0; 32 * 1024],
            after_cr: false,
            last: None,
            finished: false,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() || self.finished {
            return Ok(0);
        }
        let want = out.len().min(self.buf.len());
        let n = self.inner.read(&mut self.buf[..want])?;
        if n == 0 {
            self.finished = true;
            if self.last.is_some_and(|b| b != b'\n') {
                out[0] = b'\n';
                self.last = Some(b'\n');
                return Ok(1);
            }
            return Ok(0);
        }
        let mut written = 0;
        for &b in &self.buf[..n] {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            let b = match b {
                b'\n' if after_cr => continue,
                b'\r' => b'\n',
                other => other,
            };
            out[written] = b;
            written += 1;
        }
        if written > 0 {
            self.last = Some(out[written - 1]);
            Ok(written)
        } else {
            // Only a line feed that ended a CRLF: read on.
            self.read(out)
        }
    }
}

/// The delimiter of the header row: the most frequent of `,`, `;` and tab outside quotes.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected_lines(input: &str) -> Vec<u64> {
        let report = parse(input.as_bytes(), &Options::default()).expect("parses");
        report
            .rejected
            .iter()
            .filter_map(|r| r.location.line)
            .collect()
    }

    #[test]
    fn rejected_rows_have_their_own_line() {
        let body = "time,description\nbad,a\n\n\nbad,\"two\nlines\"\nbad,c";
        assert_eq!(rejected_lines(body), [2, 5, 7]);
        assert_eq!(rejected_lines(&format!("{body}\n")), [2, 5, 7]);
        assert_eq!(rejected_lines(&body.replace('\n', "\r\n")), [2, 5, 7]);
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter(b"time;what;who\n1,2"), b';');
        assert_eq!(sniff_delimiter(b"time\twhat\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
    }
}
