//! `debrief export` and `debrief import`: a postmortem as Markdown (Debrief's format, kept in git
//! and linted in CI) or JSON, and back. An import is one transaction: a bad file writes nothing.

use std::path::Path;

use debrief_core::{PostmortemDocument, Severity};
use debrief_store::StoreError;

use super::Ctx;
use crate::cli::{ExportArgs, Format, ImportArgs};
use crate::error::{CliError, Result};
use crate::render;

pub async fn export(ctx: &Ctx, a: ExportArgs) -> Result<()> {
    let doc = ctx.store.get_document(a.key).await?;
    let text = match a.format {
        Format::Markdown => debrief_markdown::export(&doc, &ctx.zone),
        Format::Json => render::json(&doc)?,
    };
    match &a.output {
        None => render::emit(&text),
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("Wrote {} to {}", a.key, path.display());
            Ok(())
        }
    }
}

/// Reads a postmortem file: JSON when it ends in `.json`, Markdown otherwise. Errors name the file
/// and the line.
pub fn read_document(path: &Path) -> Result<PostmortemDocument> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::failed(format!("cannot read {shown}: {e}")))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_owned();
            CliError::failed(format!("{shown}:{}: {message}", e.line()))
        })
    } else {
        debrief_markdown::import(&text)
            .map_err(|e| CliError::failed(format!("{shown}:{}: {}", e.line, e.message)))
    }
}

pub async fn import(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    let mut doc = read_document(&a.file)?;
    // Stored records accept any severity they were written with; a document coming in is held
    // to the scale in force, as a typed --severity is.
    if let Err(e) = doc.fields.severity.check_scale(Severity::DEFAULT_LEVELS) {
        return Err(CliError::failed(format!(
            "{}: {e}; nothing was imported",
            a.file.display()
        )));
    }
    if a.new_key {
        doc.key = None;
    }
    let (events, actions, participants) =
        (doc.events.len(), doc.actions.len(), doc.participants.len());
    let p = match ctx.store.import_document(&ctx.by, doc).await {
        Ok(p) => p,
        Err(StoreError::Duplicate(what)) => {
            return Err(CliError::failed(format!(
                "{what} already exists; nothing was imported. Run again with --new-key to import \
                 it under the next free key"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    render::emit(&format!(
        "Imported {}: {} ({events} event{}, {actions} action{}, {participants} participant{})\n",
        p.key,
        p.fields.title,
        plural(events),
        plural(actions),
        plural(participants)
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
