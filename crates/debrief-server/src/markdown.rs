//! User Markdown to safe HTML. Everything people write (summaries, accounts, notes…) is Markdown;
//! it is rendered with pulldown-cmark and made safe by construction rather than by cleaning HTML
//! afterwards: raw HTML in the source is shown as text, never passed through, and a link or image
//! whose URL is not `http`, `https`, `mailto` or relative loses its URL. With the strict
//! Content-Security-Policy on every page, a `<script>` in any field never runs.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Whether a URL may appear in a link or image.
pub fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    let scheme_end = u.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if u.as_bytes()[i] == b':' => {
            let scheme = &u[..i];
            matches!(scheme, "http" | "https" | "mailto")
        }
        // No scheme: a relative link or an anchor.
        _ => !u.starts_with("//"),
    }
}

/// Renders Markdown as HTML that is safe to put in a page.
pub fn render(source: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed(""),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_text() {
        let html = render("Hello <script>alert(1)</script> and <img src=x onerror=alert(2)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let block = render("<div onclick=\"x()\">\nhi\n</div>\n");
        assert!(!block.contains("<div"), "{block}");
    }

    #[test]
    fn dangerous_urls_are_dropped() {
        let html =
            render("[click](javascript:alert(1)) [ok](https://example.com/a) [rel](/pm/PM-1)");
        assert!(!html.contains("javascript"), "{html}");
        assert!(html.contains("href=\"https://example.com/a\""));
        assert!(html.contains("href=\"/pm/PM-1\""));
        let img = render("![x](data:text/html;base64,PHNjcmlwdD4=)");
        assert!(!img.contains("data:"), "{img}");
        assert!(!safe_url("JaVaScRiPt:alert(1)"));
        assert!(!safe_url("//evil.example/x"));
        assert!(safe_url("#timeline"));
    }

    #[test]
    fn markdown_still_works() {
        let html = render("**bold** and `code <b>`\n\n- a\n- b\n");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code &lt;b&gt;</code>"));
        assert!(html.contains("<li>a</li>"));
    }
}
