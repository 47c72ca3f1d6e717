//! The demo postmortem `debrief serve --demo` loads: an incident the project made up, written in
//! Debrief's own Markdown format, with a timeline from several sources, two people's accounts of
//! the same moment, contributing factors, lessons, ideas and action items.

use debrief_store::Store;

/// The demo, as Markdown.
pub const MARKDOWN: &str = include_str!("demo.md");

/// Loads the demo unless a postmortem with its title is already there. Returns its key.
pub async fn load(store: &dyn Store) -> Result<debrief_core::Key, String> {
    let mut doc = debrief_markdown::import(MARKDOWN).map_err(|e| format!("demo: {e}"))?;
    let title = doc.fields.title.clone();
    let query = debrief_store::SearchQuery::parse(&format!("\"{title}\""))
        .map_err(|e| format!("demo: {e}"))?;
    let found = store
        .search(&query, &debrief_store::PostmortemFilter::default())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(hit) = found.iter().find(|h| h.postmortem.title == title.as_str()) {
        return Ok(hit.postmortem.key);
    }
    doc.key = None;
    let pm = store
        .import_document("demo", doc)
        .await
        .map_err(|e| format!("demo: {e}"))?;
    Ok(pm.key)
}
