//! `debrief timeline`: add, list, edit and hide events. Events are never deleted: hiding keeps them
//! (and keeps them searchable), and every edit is in the revision history.

use debrief_core::{EventFields, EventId, EventKind, TimelineEvent, Version};
use debrief_store::EventQuery;

use super::{Ctx, require};
use crate::cli::{
    EventAddArgs, EventDetails, EventEditArgs, EventHideArgs, TimelineCommand, TimelineListArgs,
};
use crate::error::{CliError, Result};
use crate::render;

pub async fn run(ctx: &Ctx, c: TimelineCommand) -> Result<()> {
    match c {
        TimelineCommand::Add(a) => add(ctx, *a).await,
        TimelineCommand::List(a) => list(ctx, a).await,
        TimelineCommand::Edit(a) => edit(ctx, *a).await,
        TimelineCommand::Hide(a) => hide(ctx, a).await,
        TimelineCommand::Import(a) => super::import::run(ctx, *a).await,
    }
}

/// Applies the optional details to an event. Returns whether any was given.
fn apply(d: &EventDetails, e: &mut EventFields) -> bool {
    let mut given = false;
    if let Some(a) = &d.actor {
        e.actor = a.value();
        given = true;
    }
    if let Some(m) = &d.milestone {
        e.milestone = m.value();
        given = true;
    }
    if let Some(n) = &d.account_of {
        e.account_of = n.value();
        given = true;
    }
    for (slot, value) in [
        (&mut e.account.knew, &d.knew),
        (&mut e.account.expected, &d.expected),
        (&mut e.account.assumed, &d.assumed),
        (&mut e.differently, &d.differently),
    ] {
        if let Some(v) = value {
            v.clone_into(slot);
            given = true;
        }
    }
    if let Some(o) = &d.outcome {
        e.outcome = o.value();
        given = true;
    }
    if let Some(s) = &d.source {
        e.source = s.clone();
        given = true;
    }
    if let Some(id) = &d.source_id {
        e.source_id = id.value().map(String::from);
        given = true;
    }
    if !d.links.is_empty() {
        e.links.extend(d.links.iter().cloned());
        given = true;
    }
    if d.pin {
        e.pinned = true;
        given = true;
    }
    given
}

async fn add(ctx: &Ctx, a: EventAddArgs) -> Result<()> {
    require(ctx, a.key).await?;
    let at = ctx.moment("--at", &a.at)?;
    let kind = a.kind.unwrap_or(EventKind::Milestone);
    let mut event = EventFields::new(at, kind, a.text);
    apply(&a.details, &mut event);
    event.validate().map_err(|e| CliError::bad_field(&e))?;
    let e = ctx.store.add_event(&ctx.by, a.key, event).await?;
    let mut msg = format!(
        "Added event #{} to {} at {}: {}",
        e.id.0,
        a.key,
        render::moment(&e.fields.happened_at, &ctx.zone),
        render::short(e.fields.description.as_str(), 60)
    );
    if let Some(m) = e.fields.milestone {
        msg.push_str(&format!(" (sets {m})"));
    }
    msg.push('\n');
    render::emit(&msg)
}

async fn list(ctx: &Ctx, a: TimelineListArgs) -> Result<()> {
    require(ctx, a.key).await?;
    let events = ctx
        .store
        .list_events(
            a.key,
            EventQuery {
                include_hidden: a.all,
            },
        )
        .await?;
    if a.json.json {
        return render::emit(&render::json(&events)?);
    }
    if events.is_empty() {
        return render::emit(&format!(
            "The timeline of {} is empty. Add an event with: debrief timeline add {} --at TIME --kind KIND --text …\n",
            a.key, a.key
        ));
    }
    let out: String = events
        .iter()
        .map(|e| render::event_block(e, &ctx.zone))
        .collect();
    render::emit(&out)
}

async fn find(ctx: &Ctx, key: debrief_core::Key, id: i64) -> Result<TimelineEvent> {
    require(ctx, key).await?;
    ctx.store
        .list_events(
            key,
            EventQuery {
                include_hidden: true,
            },
        )
        .await?
        .into_iter()
        .find(|e| e.id == EventId(id))
        .ok_or_else(|| CliError::failed(format!("event #{id} not found in {key}")))
}

async fn edit(ctx: &Ctx, a: EventEditArgs) -> Result<()> {
    let current = find(ctx, a.key, a.id).await?;
    let mut e = current.fields.clone();
    let mut given = apply(&a.details, &mut e);
    if let Some(t) = &a.at {
        e.happened_at = ctx.moment("--at", t)?;
        given = true;
    }
    if let Some(k) = a.kind {
        e.kind = k;
        given = true;
    }
    if let Some(t) = &a.text {
        e.description = t.clone();
        given = true;
    }
    if a.unpin {
        e.pinned = false;
        given = true;
    }
    if !given {
        return Err(CliError::usage(
            "nothing to change: give at least one flag, such as --at, --text, --outcome or \
             --differently (see debrief timeline edit --help)",
        ));
    }
    e.validate().map_err(|err| {
        CliError::usage(format!(
            "--{}: {}",
            err.field.replace('_', "-"),
            err.message
        ))
    })?;
    let expected = a.if_version.map_or(current.version, Version);
    let saved = ctx
        .store
        .edit_event(&ctx.by, a.key, EventId(a.id), expected, e)
        .await?;
    render::emit(&format!(
        "Updated event #{} of {} (version {})\n",
        saved.id.0, a.key, saved.version
    ))
}

async fn hide(ctx: &Ctx, a: EventHideArgs) -> Result<()> {
    find(ctx, a.key, a.id).await?;
    let hidden = !a.unhide;
    let e = ctx
        .store
        .set_event_hidden(&ctx.by, a.key, EventId(a.id), hidden)
        .await?;
    render::emit(&format!(
        "{} event #{} of {}{}\n",
        if hidden { "Hid" } else { "Unhid" },
        e.id.0,
        a.key,
        if hidden {
            " (it is kept: debrief timeline list --all shows it)"
        } else {
            ""
        }
    ))
}
