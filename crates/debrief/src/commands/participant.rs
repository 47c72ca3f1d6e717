//! `debrief participant`: who took part, in which role, and whether they are invited to the review
//! (stakeholders are not, by default: the meeting is a safe place for responders).

use debrief_core::{ParticipantFields, ParticipantId, Version};

use super::{Ctx, require};
use crate::cli::{
    ParticipantAddArgs, ParticipantCommand, ParticipantListArgs, ParticipantUpdateArgs,
};
use crate::error::{CliError, Result};
use crate::render;

pub async fn run(ctx: &Ctx, c: ParticipantCommand) -> Result<()> {
    match c {
        ParticipantCommand::Add(a) => add(ctx, a).await,
        ParticipantCommand::List(a) => list(ctx, a).await,
        ParticipantCommand::Update(a) => update(ctx, a).await,
    }
}

async fn add(ctx: &Ctx, a: ParticipantAddArgs) -> Result<()> {
    require(ctx, a.key).await?;
    let mut f = ParticipantFields::new(a.name, a.role);
    if a.invited {
        f.invited = true;
    }
    if a.not_invited {
        f.invited = false;
    }
    f.attended = a.attended;
    f.contact = a.contact;
    f.circumstances = a.circumstances.unwrap_or_default();
    let p = ctx.store.add_participant(&ctx.by, a.key, f).await?;
    let mut msg = format!(
        "Added participant #{} to {}: {} ({}, {})\n",
        p.id.0,
        a.key,
        p.fields.name,
        render::role(p.fields.role),
        if p.fields.invited {
            "invited"
        } else {
            "not invited"
        }
    );
    if p.fields.invited && p.fields.role == debrief_core::Role::Stakeholder {
        msg.push_str(
            "Note: stakeholders are usually not invited, to keep the review safe; send them the \
             summary afterwards.\n",
        );
    }
    render::emit(&msg)
}

async fn list(ctx: &Ctx, a: ParticipantListArgs) -> Result<()> {
    require(ctx, a.key).await?;
    let people = ctx.store.list_participants(a.key).await?;
    if a.json.json {
        return render::emit(&render::json(&people)?);
    }
    if people.is_empty() {
        return render::emit(&format!(
            "No participants yet. Add one with: debrief participant add {} --name … --role …\n",
            a.key
        ));
    }
    render::emit(
        &people
            .iter()
            .map(render::participant_line)
            .collect::<String>(),
    )
}

async fn update(ctx: &Ctx, a: ParticipantUpdateArgs) -> Result<()> {
    require(ctx, a.key).await?;
    let current = ctx
        .store
        .list_participants(a.key)
        .await?
        .into_iter()
        .find(|p| p.id == ParticipantId(a.id))
        .ok_or_else(|| CliError::failed(format!("participant #{} not found in {}", a.id, a.key)))?;
    let mut f = current.fields.clone();
    let mut given = false;
    if let Some(n) = &a.name {
        f.name = n.clone();
        given = true;
    }
    if let Some(r) = a.role {
        f.role = r;
        given = true;
    }
    if let Some(c) = &a.contact {
        f.contact = c.value();
        given = true;
    }
    if a.invited || a.not_invited {
        f.invited = a.invited;
        given = true;
    }
    if a.attended || a.not_attended {
        f.attended = a.attended;
        given = true;
    }
    if let Some(c) = &a.circumstances {
        c.clone_into(&mut f.circumstances);
        given = true;
    }
    if !given {
        return Err(CliError::usage(
            "nothing to change: give at least one flag, such as --role, --attended or --not-invited \
             (see debrief participant update --help)",
        ));
    }
    let expected = a.if_version.map_or(current.version, Version);
    let p = ctx
        .store
        .update_participant(&ctx.by, a.key, ParticipantId(a.id), expected, f)
        .await?;
    render::emit(&format!(
        "Updated participant #{} of {} (version {})\n",
        p.id.0, a.key, p.version
    ))
}
