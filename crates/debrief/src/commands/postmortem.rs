//! Postmortem commands: `new`, `list`, `show`, `edit`, `history`, `search`.

use std::fmt::Write as _;

use debrief_core::postmortem::human_duration;
use debrief_core::readiness::{self, Gap};
use debrief_core::{
    ActionItem, KeyMoment, Label, Participant, Postmortem, PostmortemFields, Status, TimelineEvent,
    Version,
};
use debrief_store::{ActionFilter, EventQuery, PostmortemFilter, SearchQuery, StoreError};
use jiff::SignedDuration;
use serde::Serialize;

use super::Ctx;
use crate::args::{self, Setting};
use crate::cli::{EditArgs, FilterArgs, HistoryArgs, ListArgs, NewArgs, SearchArgs, ShowArgs};
use crate::error::{CliError, Result};
use crate::render;

pub async fn new(ctx: &Ctx, a: NewArgs) -> Result<()> {
    let mut fields = PostmortemFields::new(a.title, a.severity);
    fields.summary = a.summary.unwrap_or_default();
    fields.impact = a.impact.unwrap_or_default();
    fields.services = a.services;
    fields.tags = a.tags;
    if let Some(t) = &a.started {
        fields.key_moments.started = Some(ctx.moment("--started", t)?);
    }
    let p = ctx.store.create_postmortem(&ctx.by, fields).await?;
    if a.show {
        if !a.json.json {
            render::emit(&format!("Created {}: {}\n\n", p.key, p.fields.title))?;
        }
        return show(
            ctx,
            ShowArgs {
                key: p.key,
                json: a.json,
            },
        )
        .await;
    }
    if a.json.json {
        render::emit(&render::json(&p)?)
    } else {
        render::emit(&format!("Created {}: {}\n", p.key, p.fields.title))
    }
}

fn filter(ctx: &Ctx, a: &FilterArgs) -> Result<PostmortemFilter> {
    Ok(PostmortemFilter {
        status: a.status,
        severity: a.severity,
        service: a.service.clone(),
        from: a
            .from
            .as_ref()
            .map(|t| ctx.moment("--from", t).map(|m| m.at()))
            .transpose()?,
        until: a
            .until
            .as_ref()
            .map(|t| ctx.moment("--until", t).map(|m| m.at()))
            .transpose()?,
        limit: a.limit,
    })
}

fn services(s: &[Label]) -> String {
    s.iter().map(Label::as_str).collect::<Vec<_>>().join(", ")
}

pub async fn list(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let found = ctx.store.list_postmortems(&filter(ctx, &a.filter)?).await?;
    if a.json.json {
        return render::emit(&render::json(&found)?);
    }
    if found.is_empty() {
        return render::emit("No postmortems match. Start one with: debrief new \"TITLE\"\n");
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|p| {
            vec![
                p.key.to_string(),
                p.status.to_string(),
                p.severity.to_string(),
                render::date_of(p.occurred_at, &ctx.zone).to_string(),
                render::short(&p.title, 60),
                services(&p.services),
            ]
        })
        .collect();
    render::emit(&render::table(
        &["KEY", "STATUS", "SEV", "OCCURRED", "TITLE", "SERVICES"],
        &rows,
    ))
}

/// A derived duration in JSON: seconds, and the text people read.
#[derive(Debug, Serialize)]
struct DurationJson {
    seconds: i64,
    text: String,
}

fn duration_json(d: Option<SignedDuration>) -> Option<DurationJson> {
    d.map(|d| DurationJson {
        seconds: d.as_secs(),
        text: human_duration(d),
    })
}

#[derive(Debug, Serialize)]
struct DurationsJson {
    time_to_detect: Option<DurationJson>,
    time_to_acknowledge: Option<DurationJson>,
    time_to_mitigate: Option<DurationJson>,
    time_to_resolve: Option<DurationJson>,
}

#[derive(Debug, Serialize)]
struct ReadinessJson<'a> {
    ready: bool,
    gaps: &'a [Gap],
}

/// `show --json`: the record, its parts with their ids and versions, and what is derived.
#[derive(Debug, Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    postmortem: &'a Postmortem,
    events: &'a [TimelineEvent],
    actions: &'a [ActionItem],
    participants: &'a [Participant],
    durations: DurationsJson,
    readiness: ReadinessJson<'a>,
}

pub async fn show(ctx: &Ctx, a: ShowArgs) -> Result<()> {
    let p = ctx.store.get_postmortem(a.key).await?;
    let events = ctx
        .store
        .list_events(
            a.key,
            EventQuery {
                include_hidden: true,
            },
        )
        .await?;
    let actions = ctx
        .store
        .list_actions(&ActionFilter {
            postmortem: Some(a.key),
            ..ActionFilter::default()
        })
        .await?;
    let participants = ctx.store.list_participants(a.key).await?;
    let gaps = readiness::check(
        &p.fields,
        events.iter().map(|e| &e.fields),
        participants.iter().map(|p| &p.fields),
    );
    if a.json.json {
        let d = p.fields.key_moments.durations();
        let out = ShowJson {
            postmortem: &p,
            events: &events,
            actions: &actions,
            participants: &participants,
            durations: DurationsJson {
                time_to_detect: duration_json(d.time_to_detect),
                time_to_acknowledge: duration_json(d.time_to_acknowledge),
                time_to_mitigate: duration_json(d.time_to_mitigate),
                time_to_resolve: duration_json(d.time_to_resolve),
            },
            readiness: ReadinessJson {
                ready: gaps.is_empty(),
                gaps: &gaps,
            },
        };
        return render::emit(&render::json(&out)?);
    }
    render::emit(&render::show(&render::View {
        postmortem: &p,
        events: &events,
        actions: &actions,
        participants: &participants,
        gaps: &gaps,
        zone: &ctx.zone,
        today: args::today(&ctx.zone),
    }))
}

fn set_list(
    list: &mut Vec<Label>,
    replace: Option<&Vec<Label>>,
    add: &[Label],
    remove: &[Label],
    flag: &str,
) -> Result<()> {
    if let Some(all) = replace {
        list.clone_from(all);
    }
    for l in add {
        if !list.contains(l) {
            list.push(l.clone());
        }
    }
    for l in remove {
        let before = list.len();
        list.retain(|x| x != l);
        if list.len() == before {
            return Err(CliError::failed(format!(
                "--remove-{flag}: {l} is not among the {flag}s ({})",
                if list.is_empty() {
                    "none".to_owned()
                } else {
                    services(list)
                }
            )));
        }
    }
    Ok(())
}

/// Applies the edit flags to `f`. Returns whether any field flag was given.
fn apply(ctx: &Ctx, a: &EditArgs, f: &mut PostmortemFields) -> Result<bool> {
    let mut given = false;
    let mut mark = || given = true;
    if let Some(t) = &a.title {
        f.title = t.clone();
        mark();
    }
    for (slot, value) in [
        (&mut f.summary, &a.summary),
        (&mut f.impact, &a.impact),
        (&mut f.customer_statement.regret, &a.regret),
        (&mut f.customer_statement.reason, &a.reason),
        (&mut f.customer_statement.remedy, &a.remedy),
        (&mut f.notes, &a.notes),
    ] {
        if let Some(v) = value {
            v.clone_into(slot);
            mark();
        }
    }
    if let Some(s) = a.severity {
        f.severity = s;
        mark();
    }
    if a.services.is_some() || !a.add_service.is_empty() || !a.remove_service.is_empty() {
        set_list(
            &mut f.services,
            a.services.as_ref(),
            &a.add_service,
            &a.remove_service,
            "service",
        )?;
        mark();
    }
    if a.tags.is_some() || !a.add_tag.is_empty() || !a.remove_tag.is_empty() {
        set_list(
            &mut f.tags,
            a.tags.as_ref(),
            &a.add_tag,
            &a.remove_tag,
            "tag",
        )?;
        mark();
    }
    for (which, value) in [
        (KeyMoment::Started, &a.started),
        (KeyMoment::Detected, &a.detected),
        (KeyMoment::Acknowledged, &a.acknowledged),
        (KeyMoment::Mitigated, &a.mitigated),
        (KeyMoment::Resolved, &a.resolved),
    ] {
        match value {
            None => {}
            Some(Setting::Clear) => {
                f.key_moments.set(which, None);
                mark();
            }
            Some(Setting::To(t)) => {
                let m = ctx.moment(&format!("--{which}"), t)?;
                f.key_moments.set(which, Some(m));
                mark();
            }
        }
    }
    if let Some(c) = &a.incident_cost {
        f.incident_cost = c.value();
        mark();
    }
    if !a.add_factor.is_empty() {
        f.factors.extend(a.add_factor.iter().cloned());
        mark();
    }
    for (kind, text) in &a.add_lesson {
        f.lessons.of_mut(*kind).push(text.clone());
        mark();
    }
    if !a.add_idea.is_empty() {
        f.ideas.extend(a.add_idea.iter().cloned());
        mark();
    }
    if !a.add_link.is_empty() {
        f.links.extend(a.add_link.iter().cloned());
        mark();
    }
    match &a.meeting {
        None => {}
        Some(Setting::Clear) => {
            f.meeting.scheduled_at = None;
            mark();
        }
        Some(Setting::To(t)) => {
            f.meeting.scheduled_at = Some(ctx.moment("--meeting", t)?);
            mark();
        }
    }
    if let Some(l) = &a.meeting_location {
        f.meeting.location = l.value();
        mark();
    }
    if let Some(fac) = &a.facilitator {
        f.meeting.facilitator = fac.value();
        mark();
    }
    Ok(given)
}

/// The top-level field names that differ, for a confirmation line.
fn changed_fields(before: &PostmortemFields, after: &PostmortemFields) -> Vec<String> {
    let mut names: Vec<String> = debrief_store::changes(before, after)
        .into_iter()
        .map(|c| c.field)
        .collect();
    names.dedup();
    names
}

pub async fn edit(ctx: &Ctx, a: EditArgs) -> Result<()> {
    let pm = ctx.store.get_postmortem(a.key).await?;
    let mut fields = pm.fields.clone();
    let given = apply(ctx, &a, &mut fields)?;
    if !given && a.status.is_none() {
        return Err(CliError::usage(format!(
            "nothing to change: give at least one flag, such as --summary, --severity, \
             --resolved or --status (see debrief edit --help for all of them)\n\n\
             Usage: debrief edit {} [OPTIONS]",
            a.key
        )));
    }
    let expected = a.if_version.map_or(pm.version, Version);

    // Check the status move before writing anything, so a refused move changes nothing.
    let status_move = match a.status {
        Some(to) if to == pm.status && given => None,
        Some(to) => {
            let unfinished = if to == Status::Closed {
                ctx.store
                    .list_actions(&ActionFilter {
                        postmortem: Some(a.key),
                        ..ActionFilter::default()
                    })
                    .await?
                    .iter()
                    .filter(|x| !x.fields.status.is_finished())
                    .count()
            } else {
                0
            };
            pm.status
                .transition(to, unfinished)
                .map_err(|e| CliError::failed(format!("--status: {e}")))?;
            Some(to)
        }
        None => None,
    };
    if expected != pm.version {
        return Err(conflict(ctx, &pm, expected).await);
    }

    let mut out = String::new();
    let mut current = pm.clone();
    let changed = changed_fields(&pm.fields, &fields);
    if given {
        if changed.is_empty() {
            let _ = writeln!(
                out,
                "{}: nothing changed (the values are already set).",
                a.key
            );
        } else {
            current = match ctx
                .store
                .update_postmortem(&ctx.by, a.key, expected, fields)
                .await
            {
                Ok(p) => p,
                Err(StoreError::Conflict { .. }) => return Err(conflict(ctx, &pm, expected).await),
                Err(e) => return Err(e.into()),
            };
            let _ = writeln!(
                out,
                "Updated {} (version {}): {}",
                a.key,
                current.version,
                changed.join(", ")
            );
        }
    }
    if let Some(to) = status_move {
        let from = current.status;
        current = match ctx
            .store
            .change_status(&ctx.by, a.key, current.version, to)
            .await
        {
            Ok(p) => p,
            Err(StoreError::Conflict { .. }) => {
                return Err(conflict(ctx, &current, current.version).await);
            }
            Err(e) => return Err(e.into()),
        };
        let _ = writeln!(
            out,
            "{} is now {} (was {from}; version {})",
            a.key, current.status, current.version
        );
    }
    render::emit(&out)
}

/// The message for an edit made on an old version: the current version and what changed since.
async fn conflict(ctx: &Ctx, read: &Postmortem, expected: Version) -> CliError {
    let now = match ctx.store.get_postmortem(read.key).await {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let mut msg = format!(
        "{} was changed by someone else: you edited version {expected}, it is now at version {}. \
         Nothing was saved; look at the changes below and re-apply yours (or pass --if-version {}).",
        read.key, now.version, now.version
    );
    let mut lines: Vec<String> = Vec::new();
    if read.version < now.version {
        // Changed between our read and our write: compare what we read with what is there now.
        for c in debrief_store::changes(&read.fields, &now.fields) {
            lines.push(format!(
                "  {}: {} → {}",
                c.field,
                value_text(&c.before, &ctx.zone),
                value_text(&c.after, &ctx.zone)
            ));
        }
        if read.status != now.status {
            lines.push(format!("  status: {} → {}", read.status, now.status));
        }
    } else if let Ok(revisions) = ctx.store.revisions(read.key).await {
        // A stale --if-version: list the latest changes to the postmortem itself.
        let newer = usize::try_from(now.version.0 - expected.0).unwrap_or(0);
        let own: Vec<_> = revisions
            .iter()
            .filter(|r| r.entity == debrief_core::Entity::Postmortem)
            .collect();
        for r in own.iter().rev().take(newer.max(1)).rev() {
            let fields: Vec<&str> = r.changes.iter().map(|c| c.field.as_str()).collect();
            lines.push(format!(
                "  {}  {}  {}{}",
                render::instant(r.at, &ctx.zone),
                r.actor,
                r.summary,
                if fields.is_empty() {
                    String::new()
                } else {
                    format!(": {}", fields.join(", "))
                }
            ));
        }
    }
    if !lines.is_empty() {
        msg.push_str("\nChanged since:\n");
        msg.push_str(&lines.join("\n"));
    }
    CliError::failed(msg)
}

/// A value from the revision history for people: moments in `--zone`, text as text.
fn value_text(v: &serde_json::Value, zone: &debrief_core::Zone) -> String {
    if v.get("at").is_some()
        && let Ok(m) = serde_json::from_value::<debrief_core::Moment>(v.clone())
    {
        return render::moment(&m, zone);
    }
    short_json(v)
}

fn short_json(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::Null => "(none)".to_owned(),
        serde_json::Value::String(s) if s.is_empty() => "(empty)".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    render::short(&s, 60)
}

pub async fn history(ctx: &Ctx, a: HistoryArgs) -> Result<()> {
    let revisions = ctx.store.revisions(a.key).await?;
    if a.json.json {
        return render::emit(&render::json(&revisions)?);
    }
    let mut out = String::new();
    for r in &revisions {
        let what = match r.entity_id {
            Some(id) => format!("{} #{id}", r.entity),
            None => r.entity.to_string(),
        };
        let _ = writeln!(
            out,
            "{}  {}  {what}: {}",
            render::instant(r.at, &ctx.zone),
            r.actor,
            r.summary
        );
        // A change without a field name is the whole record (created, added): the summary
        // line says it all.
        for c in r.changes.iter().filter(|c| !c.field.is_empty()) {
            let _ = writeln!(
                out,
                "    {}: {} → {}",
                c.field,
                value_text(&c.before, &ctx.zone),
                value_text(&c.after, &ctx.zone)
            );
        }
    }
    if out.is_empty() {
        out.push_str("No changes recorded.\n");
    }
    render::emit(&out)
}

pub async fn search(ctx: &Ctx, a: SearchArgs) -> Result<()> {
    let query = SearchQuery::parse(&a.query).map_err(|e| CliError::bad_flag("QUERY", &e))?;
    let hits = ctx.store.search(&query, &filter(ctx, &a.filter)?).await?;
    if a.json.json {
        return render::emit(&render::json(&hits)?);
    }
    if hits.is_empty() {
        return render::emit(&format!("No postmortems match {:?}.\n", a.query));
    }
    let mut out = String::new();
    for h in &hits {
        let p = &h.postmortem;
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {}",
            p.key,
            p.status,
            p.severity,
            render::date_of(p.occurred_at, &ctx.zone),
            p.title
        );
        let snippet = h.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        if !snippet.is_empty() {
            let _ = writeln!(out, "    {snippet}");
        }
    }
    render::emit(&out)
}
