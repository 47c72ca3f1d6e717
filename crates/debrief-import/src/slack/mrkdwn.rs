//! Slack's message markup ("mrkdwn") to Markdown.
//!
//! - `<@U123>` → `@Dana Ruiz` (the user's name; an unknown id is kept and counted),
//! - `<#C123|ops>` or `<#C123>` → `#ops`,
//! - `<!here>`, `<!channel>`, `<!everyone>` → `@here`, …; `<!subteam^S1|@sre>` → `@sre`;
//!   `<!date^…|fallback>` → its fallback text,
//! - `<https://x|text>` → `[text](https://x)`, `<https://x>` → `<https://x>`,
//! - `*bold*` → `**bold**`, `~strike~` → `~~strike~~` (`_italic_` and code are the same in both),
//! - `&amp;`, `&lt;`, `&gt;` → `&`, `<`, `>`.
//!
//! Nothing is changed inside code spans and blocks except the entities.

use std::collections::{BTreeMap, HashMap};

/// The names mentions are resolved with, and the user ids that could not be.
#[derive(Debug)]
pub(crate) struct Names<'a> {
    pub users: &'a HashMap<String, String>,
    pub channels: &'a HashMap<String, String>,
    pub unknown_users: &'a mut BTreeMap<String, u64>,
}

/// Converts Slack mrkdwn to Markdown.
pub(crate) fn to_markdown(s: &str, names: &mut Names<'_>) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while !rest.is_empty() {
        // Code blocks first, then inline code: both are copied with only entities decoded.
        let block = rest.find("```");
        let inline = rest.find('`');
        let start = match (block, inline) {
            (Some(b), Some(i)) => b.min(i),
            (Some(b), None) => b,
            (None, Some(i)) => i,
            (None, None) => {
                convert_prose(rest, &mut out, names);
                break;
            }
        };
        let fence = if block == Some(start) { "```" } else { "`" };
        let after = &rest[start + fence.len()..];
        match after.find(fence) {
            Some(end) => {
                convert_prose(&rest[..start], &mut out, names);
                out.push_str(fence);
                decode_entities(&after[..end], &mut out);
                out.push_str(fence);
                rest = &after[end + fence.len()..];
            }
            None => {
                // An unclosed backtick is a literal.
                convert_prose(&rest[..start + fence.len()], &mut out, names);
                rest = after;
            }
        }
    }
    out
}

fn convert_prose(s: &str, out: &mut String, names: &mut Names<'_>) {
    let mut plain = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let Some(len) = rest[open + 1..].find('>') else {
            break;
        };
        plain.push_str(&rest[..open]);
        let inner = &rest[open + 1..open + 1 + len];
        // Tokens are resolved into a placeholder-free form: the text they stand for is plain
        // text (with entities), and a link is kept apart from emphasis conversion.
        flush_plain(&mut plain, out);
        token(inner, out, names);
        rest = &rest[open + 1 + len + 1..];
    }
    plain.push_str(rest);
    flush_plain(&mut plain, out);
}

fn flush_plain(plain: &mut String, out: &mut String) {
    if plain.is_empty() {
        return;
    }
    let emphasized = emphasis(plain);
    decode_entities(&emphasized, out);
    plain.clear();
}

fn token(inner: &str, out: &mut String, names: &mut Names<'_>) {
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(l).filter(|l| !l.trim().is_empty())),
        None => (inner, None),
    };
    if let Some(id) = target.strip_prefix('@') {
        out.push('@');
        match names.users.get(id) {
            Some(name) => out.push_str(name),
            None => match label {
                Some(l) => decode_entities(l.trim_start_matches('@'), out),
                None => {
                    *names.unknown_users.entry(id.to_owned()).or_insert(0) += 1;
                    out.push_str(id);
                }
            },
        }
    } else if let Some(id) = target.strip_prefix('#') {
        out.push('#');
        match (label, names.channels.get(id)) {
            (Some(l), _) => decode_entities(l, out),
            (None, Some(name)) => out.push_str(name),
            (None, None) => out.push_str(id),
        }
    } else if let Some(special) = target.strip_prefix('!') {
        let mut parts = special.split('^');
        let word = parts.next().unwrap_or_default();
        let detail = parts.next();
        match (word, label) {
            // A date shows its fallback text, or else its epoch seconds.
            ("date", Some(l)) => decode_entities(l, out),
            ("date", None) => out.push_str(detail.unwrap_or(word)),
            (_, Some(l)) => {
                out.push('@');
                decode_entities(l.trim_start_matches('@'), out);
            }
            ("subteam", None) => {
                out.push('@');
                out.push_str(detail.unwrap_or(word));
            }
            (_, None) => {
                out.push('@');
                out.push_str(word);
            }
        }
    } else {
        let mut url = String::new();
        decode_entities(target, &mut url);
        match label {
            Some(l) if l != target => {
                let mut text = String::new();
                decode_entities(l, &mut text);
                out.push('[');
                out.push_str(&text.replace('[', "\\[").replace(']', "\\]"));
                out.push_str("](");
                if url.contains([' ', '(', ')']) {
                    out.push('<');
                    out.push_str(&url);
                    out.push('>');
                } else {
                    out.push_str(&url);
                }
                out.push(')');
            }
            _ => {
                if url.contains(':') && !url.contains(' ') {
                    out.push('<');
                    out.push_str(&url);
                    out.push('>');
                } else {
                    out.push_str(&url);
                }
            }
        }
    }
}

fn decode_entities(s: &str, out: &mut String) {
    if !s.contains('&') {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (decoded, len) = if tail.starts_with("&amp;") {
            ('&', 5)
        } else if tail.starts_with("&lt;") {
            ('<', 4)
        } else if tail.starts_with("&gt;") {
            ('>', 4)
        } else {
            ('&', 1)
        };
        out.push(decoded);
        rest = &tail[len..];
    }
    out.push_str(rest);
}

/// `*bold*` → `**bold**` and `~strike~` → `~~strike~~`, where the markers open after a space or
/// punctuation (or at the start), close before one (or at the end), and hug the text they mark.
fn emphasis(s: &str) -> String {
    if !s.contains(['*', '~']) {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    let boundary =
        |c: Option<&char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
    while i < chars.len() {
        let c = chars[i];
        if (c == '*' || c == '~')
            && boundary(i.checked_sub(1).and_then(|p| chars.get(p)))
            && chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != c)
        {
            // Find the closing marker on the same line.
            let mut j = i + 1;
            let mut close = None;
            while j < chars.len() && chars[j] != '\n' {
                if chars[j] == c && !chars[j - 1].is_whitespace() && boundary(chars.get(j + 1)) {
                    close = Some(j);
                    break;
                }
                j += 1;
            }
            if let Some(j) = close {
                let marker = if c == '*' { "**" } else { "~~" };
                out.push_str(marker);
                out.extend(&chars[i + 1..j]);
                out.push_str(marker);
                i = j + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(s: &str) -> (String, BTreeMap<String, u64>) {
        let users = HashMap::from([("U1".to_owned(), "Dana Ruiz".to_owned())]);
        let channels = HashMap::from([("C1".to_owned(), "ops".to_owned())]);
        let mut unknown = BTreeMap::new();
        let out = to_markdown(
            s,
            &mut Names {
                users: &users,
                channels: &channels,
                unknown_users: &mut unknown,
            },
        );
        (out, unknown)
    }

    #[test]
    fn mentions_and_links() {
        assert_eq!(convert("<@U1> look").0, "@Dana Ruiz look");
        let (out, unknown) = convert("cc <@U9>");
        assert_eq!(out, "cc @U9");
        assert_eq!(unknown.get("U9"), Some(&1));
        assert_eq!(
            convert("in <#C1> and <#C2|incidents>").0,
            "in #ops and #incidents"
        );
        assert_eq!(convert("<!here> <!channel>").0, "@here @channel");
        assert_eq!(convert("<!subteam^S1|@sre> <!subteam^S2>").0, "@sre @S2");
        assert_eq!(
            convert("<!date^1392734382^{date}|Feb 18, 2014>").0,
            "Feb 18, 2014"
        );
        assert_eq!(
            convert("see <https://g.example/d/1?a=1&amp;b=2|the dashboard>").0,
            "see [the dashboard](https://g.example/d/1?a=1&b=2)"
        );
        assert_eq!(convert("<https://x.example>").0, "<https://x.example>");
        assert_eq!(
            convert("<mailto:a@b.example|a@b.example>").0,
            "[a@b.example](mailto:a@b.example)"
        );
    }

    #[test]
    fn formatting_and_code() {
        assert_eq!(convert("*down* and ~up~").0, "**down** and ~~up~~");
        assert_eq!(convert("2 * 3 * 4").0, "2 * 3 * 4");
        assert_eq!(convert("a &lt;b&gt; &amp; c").0, "a <b> & c");
        assert_eq!(
            convert("run `kubectl get *pods*` then ```\n<@U1> &lt;x&gt;\n```").0,
            "run `kubectl get *pods*` then ```\n<@U1> <x>\n```"
        );
        assert_eq!(convert("a ` b <@U1>").0, "a ` b @Dana Ruiz");
        assert_eq!(convert("unclosed < here").0, "unclosed < here");
    }
}
