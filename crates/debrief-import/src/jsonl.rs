//! JSON lines: one JSON object per line, such as structured logs or an export from another tool.
//!
//! Fields are found like CSV columns (a [`FieldMapping`](crate::FieldMapping), or common names
//! such as `time`, `timestamp`, `@timestamp`, `message`, `actor`), and a mapping can reach into
//! nested objects with dots (`time=event.created`). A line that is not valid JSON is rejected with
//! its line and column; when the first line is not JSON at all, the input is refused as a whole.

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use crate::common::{CappedReader, Occurrences, Options, source, stream_error};
use crate::json::describe;
use crate::mapping::{Field, RowNotes, RowValues, normalize_header, row_event};
use crate::report::{ErrorKind, ImportError, ImportReport, Location, Problems};

/// Reads JSON lines.
pub fn parse<R: Read>(reader: R, opts: &Options) -> Result<ImportReport, ImportError> {
    let file = opts.file();
    let mut input = BufReader::with_capacity(64 * 1024, CappedReader::new(reader, opts.max_bytes));
    let src = source("jsonl");
    let mut problems = Problems::default();
    let mut occurrences = Occurrences::default();
    let mut events = Vec::new();
    let mut outside = 0u64;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut seen_record = false;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| stream_error(&e, file, opts.max_bytes))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = Location::file(file).with_line(line_no);
        while buf.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            buf.pop();
        }
        let value: Value = match serde_json::from_slice(&buf) {
            Ok(v) => v,
            Err(e) => {
                let at = if e.column() > 0 {
                    at.with_column(e.column() as u64)
                } else {
                    at
                };
                let why = if e.is_eof() {
                    "the JSON ends too early (truncated line?)".to_owned()
                } else {
                    let text = e.to_string();
                    let text = text
                        .rsplit_once(" at line ")
                        .map_or(text.as_str(), |(h, _)| h);
                    format!("invalid JSON: {text}")
                };
                if !seen_record {
                    return Err(ImportError::new(
                        ErrorKind::Syntax,
                        at,
                        format!("{why}; expected JSON lines: one JSON object per line"),
                    ));
                }
                problems.reject(at, why);
                continue;
            }
        };
        let Value::Object(obj) = &value else {
            if !seen_record {
                return Err(ImportError::new(
                    ErrorKind::Format,
                    at,
                    format!(
                        "found {} on the first line: expected JSON lines, one JSON object per line",
                        describe(&value)
                    ),
                ));
            }
            problems.reject(
                at,
                format!("expected a JSON object, found {}", describe(&value)),
            );
            continue;
        };
        seen_record = true;
        let mut owned: Vec<(Field, String, String)> = Vec::new();
        for field in Field::ALL {
            if let Some((key, v)) = lookup(obj, field, opts) {
                owned.push((field, key, scalar_text(v)));
            }
        }
        let time_key = owned
            .iter()
            .find(|(f, _, _)| *f == Field::Time)
            .map(|(_, k, _)| k.clone());
        owned.retain(|(f, k, _)| !(*f == Field::Date && Some(k) == time_key.as_ref()));
        let mut row = RowValues::default();
        for (field, _, value) in &owned {
            row.set(*field, value);
        }
        let field_name = |f: Field| -> String {
            owned.iter().find(|(g, _, _)| *g == f).map_or_else(
                || opts.mapping.get(f).unwrap_or(f.as_str()).to_owned(),
                |(_, k, _)| k.clone(),
            )
        };
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
                    problems.note(format!(
                        "{}: {note}",
                        at.clone().with_field(field_name(field))
                    ));
                }
                if opts.in_window(event.happened_at.at()) {
                    events.push(event);
                } else {
                    outside += 1;
                }
            }
            Err((field, reason)) => problems.reject(at.with_field(field_name(field)), reason),
        }
    }
    if !seen_record {
        return Err(ImportError::new(
            ErrorKind::Format,
            Location::file(file),
            "the input has no records: expected JSON lines, one JSON object per line",
        ));
    }
    if outside > 0 {
        problems.note(format!(
            "{outside} records outside the time window were left out"
        ));
    }
    Ok(problems.into_report(events))
}

/// The value of `field` in a record: by the mapping's path, else by a common name.
fn lookup<'a>(
    obj: &'a Map<String, Value>,
    field: Field,
    opts: &Options,
) -> Option<(String, &'a Value)> {
    if let Some(path) = opts.mapping.get(field) {
        return by_path(obj, path).map(|v| (path.to_owned(), v));
    }
    let found = |aliases: &[&str]| {
        aliases.iter().find_map(|alias| {
            obj.iter()
                .find(|(k, v)| normalize_header(k) == *alias && !v.is_null())
                .map(|(k, v)| (k.clone(), v))
        })
    };
    let direct = found(field.aliases());
    // A lone `date` holds the whole time.
    if direct.is_none() && field == Field::Time && opts.mapping.get(Field::Date).is_none() {
        return found(Field::Date.aliases());
    }
    direct
}

/// `a.b.c` into nested objects; a key that itself contains dots wins when present.
fn by_path<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    let mut current = obj;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let v = current.get(part)?;
        if parts.peek().is_none() {
            return Some(v);
        }
        current = v.as_object()?;
    }
    None
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
