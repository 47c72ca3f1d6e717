//! Reading JSON payloads with errors that name the field path (`alerts[2].startsAt`) and say what
//! was expected.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::common::{parse_rfc3339, shorten};
use crate::report::{ErrorKind, ImportError, Location};

/// A field that is missing or has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub path: String,
    pub message: String,
    /// `Format` for a field at fault; `Options` when the caller must supply something.
    pub kind: ErrorKind,
}

impl FieldError {
    pub fn new(path: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.to_owned(),
            message: message.into(),
            kind: ErrorKind::Format,
        }
    }

    pub fn options(path: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            kind: ErrorKind::Options,
            ..FieldError::new(path, message)
        }
    }

    /// The error as a whole-input failure.
    pub fn into_error(self, base: &Location) -> ImportError {
        ImportError::new(self.kind, located(base, &self.path), self.message)
    }
}

pub(crate) type FieldResult<T> = Result<T, FieldError>;

/// `base` with `path` appended to its field.
pub(crate) fn located(base: &Location, path: &str) -> Location {
    let field = match &base.field {
        Some(prefix) if !path.is_empty() => {
            if path.starts_with('[') {
                format!("{prefix}{path}")
            } else {
                format!("{prefix}.{path}")
            }
        }
        Some(prefix) => prefix.clone(),
        None => path.to_owned(),
    };
    base.clone().with_field(field)
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// "a string", "a number", …: what a value is, for messages.
pub(crate) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON syntax error as an [`ImportError`] with its line and column.
pub(crate) fn syntax_error(err: &serde_json::Error, file: Option<&str>) -> ImportError {
    let location = Location::file(file)
        .with_line(err.line() as u64)
        .with_column(err.column() as u64);
    let message = if err.is_eof() {
        "the JSON ends too early (truncated input?): a value, `]` or `}` was expected".to_owned()
    } else {
        let text = err.to_string();
        // serde_json appends " at line L column C", which the location already says.
        let text = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(head, _)| head);
        format!("invalid JSON: {text}")
    };
    ImportError::new(ErrorKind::Syntax, location, message)
}

/// The 1-based line of byte `offset` in `bytes`.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// The JSON documents of an input: one object, an array of them, or several written one after the
/// other (JSON lines of saved webhook bodies). Each comes with the location of its start.
pub(crate) fn documents(
    bytes: &[u8],
    file: Option<&str>,
) -> Result<Vec<(Location, Value)>, ImportError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    let mut start = 0;
    loop {
        // Skip the whitespace before the next value, to report the line where it starts.
        while start < bytes.len() && bytes[start].is_ascii_whitespace() {
            start += 1;
        }
        match stream.next() {
            None => break,
            Some(Ok(v)) => {
                out.push((Location::file(file).with_line(line_of(bytes, start)), v));
                start = stream.byte_offset();
            }
            Some(Err(e)) => return Err(syntax_error(&e, file)),
        }
    }
    if out.is_empty() {
        return Err(ImportError::new(
            ErrorKind::Format,
            Location::file(file),
            "the input is empty: expected a JSON object",
        ));
    }
    if out.len() == 1
        && let Some((_, Value::Array(_))) = out.first()
        && let Some((loc, Value::Array(items))) = out.pop()
    {
        return Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let mut at = loc.clone().with_field(format!("[{i}]"));
                // The line of the array's start says nothing about where its element is.
                at.line = None;
                (at, v)
            })
            .collect());
    }
    if out.len() == 1 {
        // One document: its line is 1 or where it starts; a field path is enough.
        for (loc, _) in &mut out {
            loc.line = None;
        }
    }
    Ok(out)
}

pub(crate) fn object<'a>(v: &'a Value, path: &str) -> FieldResult<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| FieldError::new(path, format!("expected an object, found {}", describe(v))))
}

fn present<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

pub(crate) fn opt_str<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> FieldResult<Option<&'a str>> {
    match present(m, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(v) => Err(FieldError::new(
            &join(path, key),
            format!("expected a string, found {}", describe(v)),
        )),
    }
}

/// A string field, or `None` when it is missing, null, empty, or not a string: for fields that
/// only add detail and whose absence is no reason to refuse anything.
pub(crate) fn loose_str<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    match m.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
        _ => None,
    }
}

pub(crate) fn req_str<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> FieldResult<&'a str> {
    opt_str(m, key, path)?
        .ok_or_else(|| FieldError::new(&join(path, key), "missing: expected a string"))
}

pub(crate) fn opt_obj<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> FieldResult<Option<&'a Map<String, Value>>> {
    match present(m, key) {
        None => Ok(None),
        Some(v) => object(v, &join(path, key)).map(Some),
    }
}

pub(crate) fn loose_obj<'a>(
    m: &'a Map<String, Value>,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    m.get(key).and_then(Value::as_object)
}

pub(crate) fn opt_array<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> FieldResult<Option<&'a Vec<Value>>> {
    match present(m, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(v) => Err(FieldError::new(
            &join(path, key),
            format!("expected an array, found {}", describe(v)),
        )),
    }
}

/// An integer field given as a number or as a string of digits.
pub(crate) fn opt_int(m: &Map<String, Value>, key: &str, path: &str) -> FieldResult<Option<i128>> {
    let bad = |v: &Value| {
        FieldError::new(
            &join(path, key),
            format!("expected an integer, found {}", describe_value(v)),
        )
    };
    match present(m, key) {
        None => Ok(None),
        Some(v @ Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .map(Some)
            .ok_or_else(|| bad(v)),
        Some(v @ Value::String(s)) => s.trim().parse::<i128>().map(Some).map_err(|_| bad(v)),
        Some(v) => Err(bad(v)),
    }
}

/// A value as a message shows it: its kind, and a short form of it when it is a scalar.
pub(crate) fn describe_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {:?}", shorten(s, 40)),
        Value::Number(n) => format!("the number {n}"),
        other => describe(other).to_owned(),
    }
}

/// An RFC 3339 time field.
pub(crate) fn opt_time(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
) -> FieldResult<Option<Timestamp>> {
    match opt_str(m, key, path)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_rfc3339(s)
            .map(Some)
            .map_err(|e| FieldError::new(&join(path, key), e)),
    }
}

pub(crate) fn req_time(m: &Map<String, Value>, key: &str, path: &str) -> FieldResult<Timestamp> {
    opt_time(m, key, path)?.ok_or_else(|| {
        FieldError::new(
            &join(path, key),
            "missing: expected an RFC 3339 time such as 2024-03-05T14:02:11Z",
        )
    })
}

/// An object of labels or annotations. Values that are not strings are written as JSON; nulls are
/// dropped.
pub(crate) fn string_map(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
) -> FieldResult<BTreeMap<String, String>> {
    let Some(obj) = opt_obj(m, key, path)? else {
        return Ok(BTreeMap::new());
    };
    Ok(obj
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_json_says_so_with_its_position() {
        let e = documents(b"{\n  \"a\": [1, 2", Some("x.json")).expect_err("truncated");
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.location.line, Some(2));
        assert!(e.message.contains("ends too early"), "{e}");
        let e = documents(b"{\"a\" 1}", Some("x.json")).expect_err("bad");
        assert!(
            e.to_string()
                .starts_with("x.json:1:6: invalid JSON: expected `:`"),
            "{e}"
        );
    }

    #[test]
    fn documents_are_one_an_array_or_several() {
        assert_eq!(documents(b"{}", None).expect("one").len(), 1);
        let many = documents(b"[{}, {}]", None).expect("array");
        assert_eq!(many[1].0.field.as_deref(), Some("[1]"));
        let lines = documents(b"{}\n\n{}\n", None).expect("lines");
        assert_eq!(lines[1].0.line, Some(3));
        assert!(documents(b"  ", None).is_err());
    }

    #[test]
    fn fields_name_their_path() {
        let v: Value = serde_json::json!({"a": {"b": 3, "t": "2024-01-01T00:00:00"}});
        let a = opt_obj(object(&v, "").expect("obj"), "a", "")
            .expect("a")
            .expect("some");
        let e = req_str(a, "b", "a").expect_err("number");
        assert_eq!(e.path, "a.b");
        assert_eq!(e.message, "expected a string, found a number");
        let e = opt_time(a, "t", "a").expect_err("no offset");
        assert!(e.message.contains("no offset"), "{}", e.message);
        assert_eq!(opt_int(a, "b", "a").expect("int"), Some(3));
    }
}
