//! Text newtypes: a value of these types has already been checked, so code that holds one never
//! checks it again.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ParseError;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $parse:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(value: String) -> Result<Self, ParseError> {
                $parse(&value).map($name)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;
            fn from_str(value: &str) -> Result<Self, ParseError> {
                $parse(value).map($name)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn single_line(value: &str, max_chars: usize) -> Result<String, ParseError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new("", "must not be empty"));
    }
    if trimmed.contains(['\n', '\r']) {
        return Err(ParseError::new("", "must be a single line"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ParseError::new("", "must not contain control characters"));
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(ParseError::new(
            "",
            format!("must be at most {max_chars} characters (got {count})"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn parse_title(value: &str) -> Result<String, ParseError> {
    single_line(value, 200)
}

fn parse_line(value: &str) -> Result<String, ParseError> {
    single_line(value, 2000)
}

fn parse_name(value: &str) -> Result<String, ParseError> {
    single_line(value, 120)
}

fn parse_label(value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ParseError::new("", "must not be empty"));
    }
    if value.len() > 64 {
        return Err(ParseError::new("", "must be at most 64 characters"));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':')))
    {
        return Err(ParseError::new(
            "",
            format!(
                "{value:?} contains {bad:?}; use letters, digits and - _ . / : (no spaces or commas)"
            ),
        ));
    }
    Ok(value.to_ascii_lowercase())
}

/// Refuses control characters in free text, other than line breaks and tabs: they cannot be seen,
/// break terminals and exports, and some databases refuse them (PostgreSQL refuses NUL).
pub fn check_free_text(field: &str, value: &str) -> Result<(), ParseError> {
    match value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some(bad) => Err(ParseError::new(
            field,
            format!(
                "contains the control character {bad:?}; only line breaks and tabs are allowed"
            ),
        )),
        None => Ok(()),
    }
}

fn parse_text(value: &str) -> Result<String, ParseError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new("", "must not be empty"));
    }
    check_free_text("", trimmed)?;
    if trimmed.len() > 100_000 {
        return Err(ParseError::new("", "must be at most 100000 bytes"));
    }
    Ok(normalize_newlines(trimmed))
}

/// Trims a free-text field and turns CRLF into LF: the form every stored free text has.
pub fn normalize_text(value: &str) -> String {
    normalize_newlines(value.trim())
}

fn normalize_newlines(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

fn parse_url(value: &str) -> Result<String, ParseError> {
    let value = value.trim();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| {
            ParseError::new(
                "",
                format!("{value:?} is not a link: expected an http:// or https:// URL"),
            )
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(ParseError::new("", format!("{value:?} has no host")));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ParseError::new("", format!("{value:?} contains spaces")));
    }
    if value.len() > 2048 {
        return Err(ParseError::new("", "must be at most 2048 characters"));
    }
    Ok(value.to_owned())
}

string_newtype!(
    /// A postmortem or action title: one line, 1–200 characters.
    Title,
    parse_title
);
string_newtype!(
    /// One line of text, such as a lesson or a remediation idea: 1–2000 characters.
    Line,
    parse_line
);
string_newtype!(
    /// The name of a person, team or system: one line, 1–120 characters.
    Name,
    parse_name
);
string_newtype!(
    /// A service or tag: lowercase letters, digits and `- _ . / :`.
    Label,
    parse_label
);
string_newtype!(
    /// Non-empty free text (Markdown), such as an event description.
    Text,
    parse_text
);
string_newtype!(
    /// An http(s) URL.
    Url,
    parse_url
);

/// Parses `value` as `T`, naming `field` in the error.
pub fn parse_field<T>(field: &str, value: &str) -> Result<T, ParseError>
where
    T: std::str::FromStr<Err = ParseError>,
{
    value.parse::<T>().map_err(|e| e.within(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_single_line() {
        let t: Title = "  Checkout down  ".parse().expect("valid");
        assert_eq!(t.as_str(), "Checkout down");
        assert!("".parse::<Title>().is_err());
        assert!("a\nb".parse::<Title>().is_err());
        assert!("x".repeat(201).parse::<Title>().is_err());
    }

    #[test]
    fn labels_are_lowercased_and_restricted() {
        let l: Label = "Payments-API".parse().expect("valid");
        assert_eq!(l.as_str(), "payments-api");
        let err = "web store".parse::<Label>().expect_err("space");
        assert!(err.message.contains("no spaces"), "{err}");
    }

    #[test]
    fn urls_need_scheme_and_host() {
        assert!("https://grafana.example/d/1".parse::<Url>().is_ok());
        assert!("grafana.example".parse::<Url>().is_err());
        assert!("https:///x".parse::<Url>().is_err());
        assert!("https://a b".parse::<Url>().is_err());
    }

    #[test]
    fn free_text_refuses_invisible_control_characters() {
        assert!(check_free_text("summary", "two\nlines\twith a tab").is_ok());
        let err = check_free_text("summary", "x\u{0}y").expect_err("nul");
        assert_eq!(err.field, "summary");
        assert!(err.message.contains("control character"), "{err}");
        assert!("esc \u{1b}[31m red".parse::<Text>().is_err());
    }

    #[test]
    fn field_names_nest() {
        let err = parse_field::<Title>("title", "").expect_err("empty");
        assert_eq!(err.to_string(), "title: must not be empty");
        assert_eq!(err.within("actions[2]").field, "actions[2].title");
    }
}
