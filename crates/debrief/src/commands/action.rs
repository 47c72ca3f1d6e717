//! `debrief action`: action items. Every one has an owner and a check-in date — the date when
//! measurable progress is reported — and progress is reported with dated notes.

use debrief_core::{ActionFields, ActionId, ActionStatus, ProgressUpdate, Version};
use debrief_store::ActionFilter;

use super::{Ctx, require};
use crate::args;
use crate::cli::{ActionAddArgs, ActionCommand, ActionListArgs, ActionUpdateArgs};
use crate::error::{CliError, Result};
use crate::render;

pub async fn run(ctx: &Ctx, c: ActionCommand) -> Result<()> {
    match c {
        ActionCommand::Add(a) => add(ctx, a).await,
        ActionCommand::List(a) => list(ctx, a).await,
        ActionCommand::Update(a) => update(ctx, a).await,
    }
}

async fn add(ctx: &Ctx, a: ActionAddArgs) -> Result<()> {
    require(ctx, a.key).await?;
    let mut f = ActionFields::new(a.title, a.category, a.owner, a.check_in);
    f.due = a.due;
    f.priority = a.priority;
    f.description = a.description.unwrap_or_default();
    f.volunteer = a.volunteer;
    f.tracker = a.tracker;
    f.estimated_cost = a.cost;
    f.smart.success_criterion = a.success.unwrap_or_default();
    f.validate().map_err(|e| CliError::bad_field(&e))?;
    let item = ctx.store.add_action(&ctx.by, a.key, f).await?;
    render::emit(&format!(
        "Added action #{} to {}: {} (owner {}, check-in {})\n",
        item.id.0, a.key, item.fields.title, item.fields.owner, item.fields.check_in
    ))
}

/// The action board's filter of `debrief action list` and `debrief actions`.
pub(super) fn filter(ctx: &Ctx, a: &ActionListArgs) -> ActionFilter {
    ActionFilter {
        postmortem: a.postmortem,
        owner: a.owner.as_ref().map(|o| o.to_string()),
        status: a.status,
        overdue_on: a.overdue.as_ref().map(|d| d.resolve(&ctx.zone)),
    }
}

pub(super) async fn list(ctx: &Ctx, a: ActionListArgs) -> Result<()> {
    if let Some(key) = a.postmortem {
        require(ctx, key).await?;
    }
    let today = args::today(&ctx.zone);
    let items = ctx.store.list_actions(&filter(ctx, &a)).await?;
    if a.json.json {
        return render::emit(&render::json(&items)?);
    }
    if items.is_empty() {
        return render::emit("No action items match.\n");
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let f = &i.fields;
            let mut check_in = f.check_in.to_string();
            if f.is_overdue(today) {
                check_in.push_str(" overdue");
            }
            vec![
                format!("#{}", i.id.0),
                i.postmortem.to_string(),
                f.status.name().to_owned(),
                check_in,
                f.owner.to_string(),
                f.category.to_string(),
                render::short(f.title.as_str(), 60),
            ]
        })
        .collect();
    render::emit(&render::table(
        &[
            "ID", "PM", "STATUS", "CHECK-IN", "OWNER", "QUESTION", "TITLE",
        ],
        &rows,
    ))
}

async fn update(ctx: &Ctx, a: ActionUpdateArgs) -> Result<()> {
    let current = ctx
        .store
        .get_action(ActionId(a.id))
        .await
        .map_err(|e| match e {
            debrief_store::StoreError::NotFound(_) => {
                CliError::failed(format!("action #{} not found", a.id))
            }
            other => other.into(),
        })?;
    let mut f = current.fields.clone();
    let mut given = false;
    if let Some(t) = &a.title {
        f.title = t.clone();
        given = true;
    }
    if let Some(o) = &a.owner {
        f.owner = o.clone();
        given = true;
    }
    // With --note, --check-in travels with the note (add_progress moves the date).
    if let (Some(d), None) = (a.check_in, &a.note) {
        f.check_in = d;
        given = true;
    }
    if let Some(d) = &a.due {
        f.due = d.value();
        given = true;
    }
    if let Some(p) = a.priority {
        f.priority = p;
        given = true;
    }
    if let Some(q) = a.category {
        f.category = q;
        given = true;
    }
    if let Some(d) = &a.description {
        d.clone_into(&mut f.description);
        given = true;
    }
    if let Some(t) = &a.tracker {
        f.tracker = t.value();
        given = true;
    }
    if let Some(c) = &a.cost {
        f.estimated_cost = c.value();
        given = true;
    }
    if let Some(s) = &a.success {
        s.clone_into(&mut f.smart.success_criterion);
        given = true;
    }
    if let Some(s) = a.status {
        f.status = ActionStatus::parse(s.as_str(), a.reason.as_deref())
            .map_err(|e| CliError::bad_field(&e))?;
        given = true;
    }
    if a.reason.is_some() && !matches!(f.status, ActionStatus::Declined { .. }) {
        return Err(CliError::usage(
            "--reason goes with --status declined: only a declined action keeps a reason",
        ));
    }
    if !given && a.note.is_none() {
        return Err(CliError::usage(
            "nothing to change: give at least one flag, such as --status, --check-in or --note \
             (see debrief action update --help)",
        ));
    }
    // Check the state both writes lead to before making the first, so a bad --check-in with
    // --note cannot leave half the change saved.
    let mut after_note = f.clone();
    if let (Some(d), Some(_)) = (a.check_in, &a.note) {
        after_note.check_in = d;
    }
    after_note.validate().map_err(|e| CliError::bad_field(&e))?;
    let mut lines = Vec::new();
    if given {
        let expected = a.if_version.map_or(current.version, Version);
        let saved = ctx
            .store
            .update_action(&ctx.by, ActionId(a.id), expected, f)
            .await?;
        lines.push(format!(
            "Updated action #{} (version {}): {} [{}]",
            saved.id.0,
            saved.version,
            saved.fields.title,
            saved.fields.status.name()
        ));
        if saved.fields.status.is_finished() && !current.fields.status.is_finished() {
            let pm = ctx.store.get_postmortem(saved.postmortem).await?;
            if pm.status == debrief_core::Status::Closed {
                lines.push(format!(
                    "{} is now closed: every action is done or declined",
                    pm.key
                ));
            }
        }
    } else if let Some(v) = a.if_version
        && Version(v) != current.version
    {
        return Err(CliError::failed(format!(
            "action #{} was changed by someone else (now at version {}); nothing was saved",
            a.id, current.version
        )));
    }
    if let Some(note) = a.note {
        let author = ctx.by.parse().map_err(|e| CliError::bad_flag("--as", &e))?;
        let update = ProgressUpdate {
            at: jiff::Timestamp::now(),
            author,
            note,
            new_check_in: a.check_in,
        };
        let saved = ctx
            .store
            .add_progress(&ctx.by, ActionId(a.id), update)
            .await?;
        lines.push(format!(
            "Noted progress on action #{} (next check-in {})",
            saved.id.0, saved.fields.check_in
        ));
    }
    lines.push(String::new());
    render::emit(&lines.join("\n"))
}
