//! One-line forms of the list items of a postmortem, as people type them on the command line
//! (`--factor CATEGORY:TEXT`) and in the web editor (one item per line): contributing factors,
//! lessons, remediation ideas and links.

use crate::{
    ContributingFactor, FactorCategory, LessonKind, Line, Link, LinkKind, ParseError, Question,
    RemediationIdea, Url,
};

/// Splits `KIND:TEXT` at the first colon.
fn pair<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), ParseError> {
    s.split_once(':')
        .map(|(k, t)| (k.trim(), t.trim()))
        .ok_or_else(|| ParseError::new("", format!("expected {what}, such as {}", example(what))))
}

fn example(what: &str) -> &'static str {
    match what {
        "CATEGORY:TEXT" => "change:\"The config push reached all regions at once\"",
        "KIND:TEXT" => "got_lucky:\"The spike came outside peak hours\"",
        _ => "detect:\"Alert on queue depth\"",
    }
}

/// `CATEGORY:TEXT`, a contributing factor.
pub fn factor(s: &str) -> Result<ContributingFactor, ParseError> {
    let (category, text) = pair(s, "CATEGORY:TEXT")?;
    Ok(ContributingFactor {
        category: category.parse::<FactorCategory>()?,
        text: text.parse::<Line>().map_err(|e| e.within("text"))?,
    })
}

/// `KIND:TEXT`, a lesson learned.
pub fn lesson(s: &str) -> Result<(LessonKind, Line), ParseError> {
    let (kind, text) = pair(s, "KIND:TEXT")?;
    Ok((
        kind.parse::<LessonKind>()?,
        text.parse::<Line>().map_err(|e| e.within("text"))?,
    ))
}

/// `QUESTION:TEXT`, a remediation idea.
pub fn idea(s: &str) -> Result<RemediationIdea, ParseError> {
    let (question, text) = pair(s, "QUESTION:TEXT")?;
    Ok(RemediationIdea {
        question: question.parse::<Question>()?,
        text: text.parse::<Line>().map_err(|e| e.within("text"))?,
    })
}

/// A link: `URL` (kind `other`), `KIND:URL` or `KIND URL`, optionally followed by a space and a
/// title (`dashboard https://grafana.example/d/1 Checkout latency`).
pub fn link(s: &str) -> Result<Link, ParseError> {
    let s = s.trim();
    let (kind, url) = if s.starts_with("http://") || s.starts_with("https://") {
        (LinkKind::Other, s)
    } else if let Some((kind, url)) = s.split_once(char::is_whitespace) {
        (kind.trim().parse::<LinkKind>()?, url.trim())
    } else if let Some((kind, url)) = s.split_once(':') {
        (kind.trim().parse::<LinkKind>()?, url.trim())
    } else {
        return Err(ParseError::new(
            "",
            format!(
                "{s:?} is not a link: expected URL, KIND:URL or \"KIND URL\" (kinds: {})",
                LinkKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let (url, title) = match url.split_once(char::is_whitespace) {
        Some((url, title)) if !title.trim().is_empty() => (
            url,
            Some(title.parse::<Line>().map_err(|e| e.within("title"))?),
        ),
        _ => (url, None),
    };
    Ok(Link {
        kind,
        url: url.parse::<Url>()?,
        title,
    })
}

/// A link in its one-line form, the inverse of [`link`].
pub fn link_line(l: &Link) -> String {
    match &l.title {
        Some(t) => format!("{} {} {t}", l.kind, l.url),
        None => format!("{} {}", l.kind, l.url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_take_three_forms_and_a_title() {
        let l = link("dashboard:https://grafana.example/d/1").expect("kind:url");
        assert_eq!(l.kind, LinkKind::Dashboard);
        assert_eq!(l.url.as_str(), "https://grafana.example/d/1");
        let l = link("ci_run https://ci.example/1").expect("kind url");
        assert_eq!(l.kind, LinkKind::CiRun);
        let l = link("https://x.example").expect("url");
        assert_eq!(l.kind, LinkKind::Other);
        let l = link("dashboard https://g.example/d/1 Checkout latency").expect("title");
        assert_eq!(l.title.as_ref().map(Line::as_str), Some("Checkout latency"));
        assert_eq!(link(&link_line(&l)).expect("round trip"), l);
        assert!(link("dashboards:https://x.example").is_err());
        assert!(link("nothing").is_err());
    }

    #[test]
    fn pairs() {
        let f = factor("monitoring gap: no alert on queue depth").expect("factor");
        assert_eq!(f.category.as_str(), "monitoring_gap");
        assert!(factor("no colon").is_err());
        let (k, _) = lesson("got_lucky:quiet hour").expect("lesson");
        assert_eq!(k, LessonKind::GotLucky);
    }
}
