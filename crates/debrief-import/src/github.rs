//! GitHub `deployment_status` webhooks (and `deployment`, which says a deployment was created).
//!
//! One event per deployment status, at its `created_at`, keyed by the status id: "Deployment of
//! `main` (f95f852) to production: success". The deployment's log or target URL is linked as a
//! CI run, its environment URL and the commit as links too.

use std::collections::HashSet;

use debrief_core::{Actor, ActorKind, EventFields, EventKind, LinkKind};
use serde_json::{Map, Value};

use crate::common::{Options, link, name, shorten, source, text};
use crate::json::{
    FieldError, FieldResult, documents, join, located, loose_obj, loose_str, object, opt_int,
    opt_obj, req_time,
};
use crate::report::{ImportError, ImportReport, Problems};

/// Reads a GitHub `deployment_status` (or `deployment`) webhook body, or a file of them.
pub fn parse(bytes: &[u8], opts: &Options) -> Result<ImportReport, ImportError> {
    opts.check_size(bytes)?;
    let docs = documents(bytes, opts.file())?;
    let mut problems = Problems::default();
    let mut events = Vec::new();
    let mut seen = HashSet::new();
    let single = docs.len() == 1;
    for (base, doc) in &docs {
        match object(doc, "").and_then(|m| one(m, opts)) {
            Ok(event) => {
                let id = event.source_id.clone().unwrap_or_default();
                if opts.in_window(event.happened_at.at()) && seen.insert(id) {
                    events.push(event);
                }
            }
            Err(e) => {
                if single {
                    return Err(e.into_error(base));
                }
                problems.reject(located(base, &e.path), e.message);
            }
        }
    }
    Ok(problems.into_report(events))
}

fn creator(m: Option<&Map<String, Value>>) -> Option<Actor> {
    let c = m?;
    let login = loose_str(c, "login")?;
    let kind = if loose_str(c, "type") == Some("Bot") || login.ends_with("[bot]") {
        ActorKind::System
    } else {
        ActorKind::Person
    };
    Some(Actor {
        kind,
        name: name(login)?,
    })
}

fn id_text(m: &Map<String, Value>, path: &str) -> FieldResult<Option<String>> {
    Ok(match opt_int(m, "id", path)? {
        Some(n) => Some(n.to_string()),
        None => loose_str(m, "node_id").map(str::to_owned),
    })
}

fn one(m: &Map<String, Value>, opts: &Options) -> FieldResult<EventFields> {
    let deployment = opt_obj(m, "deployment", "")?;
    let status = opt_obj(m, "deployment_status", "")?;
    if status.is_none() && deployment.is_none() {
        return Err(FieldError::new(
            "deployment_status",
            "missing: expected a GitHub deployment_status (or deployment) webhook",
        ));
    }
    let repo = loose_obj(m, "repository");
    let repo_name = repo.and_then(|r| loose_str(r, "full_name"));
    let d = deployment;
    let reference = d.and_then(|d| loose_str(d, "ref"));
    let sha = d.and_then(|d| loose_str(d, "sha"));
    let environment = status
        .and_then(|s| loose_str(s, "environment"))
        .or_else(|| d.and_then(|d| loose_str(d, "environment")))
        .unwrap_or("an environment");
    let mut what = String::from("Deployment");
    if let Some(r) = reference {
        what.push_str(&format!(" of `{r}`"));
    }
    if let Some(s) = sha {
        what.push_str(&format!(" ({})", shorten(s, 7).trim_end_matches('…')));
    }
    what.push_str(&format!(" to {environment}"));
    let (at, source_id, state, detail, actor) = match status {
        Some(s) => {
            let path = "deployment_status";
            let at = req_time(s, "created_at", path)?;
            let id = id_text(s, path)?.ok_or_else(|| {
                FieldError::new(&join(path, "id"), "missing: expected the status's id")
            })?;
            let state = loose_str(s, "state").unwrap_or("unknown").to_owned();
            let actor = creator(loose_obj(s, "creator"))
                .or_else(|| creator(d.and_then(|d| loose_obj(d, "creator"))))
                .or_else(|| creator(loose_obj(m, "sender")));
            (
                at,
                format!("deployment_status:{id}"),
                state,
                loose_str(s, "description"),
                actor,
            )
        }
        None => {
            let path = "deployment";
            let dep = d.ok_or_else(|| FieldError::new(path, "missing"))?;
            let at = req_time(dep, "created_at", path)?;
            let id = id_text(dep, path)?.ok_or_else(|| {
                FieldError::new(&join(path, "id"), "missing: expected the deployment's id")
            })?;
            let actor =
                creator(loose_obj(dep, "creator")).or_else(|| creator(loose_obj(m, "sender")));
            (
                at,
                format!("deployment:{id}"),
                "created".to_owned(),
                loose_str(dep, "description"),
                actor,
            )
        }
    };
    let mut description = format!("{what}: {state}");
    if let Some(r) = repo_name {
        description.push_str(&format!(" — {r}"));
    }
    if let Some(detail) = detail.map(str::trim).filter(|s| !s.is_empty()) {
        description.push_str("\n\n");
        description.push_str(detail);
    }
    let description = text(&description)
        .ok_or_else(|| FieldError::new("", "nothing to describe the deployment with"))?;
    let mut event = EventFields::new(opts.moment(at), EventKind::Action, description);
    event.source = source("github");
    event.source_id = Some(source_id);
    event.actor = actor;
    let mut add = |kind, url: Option<&str>, title: &str| {
        if let Some(l) = url.and_then(|u| link(kind, u, Some(title)))
            && !event.links.iter().any(|x| x.url == l.url)
        {
            event.links.push(l);
        }
    };
    if let Some(s) = status {
        add(LinkKind::CiRun, loose_str(s, "log_url"), "Deployment log");
        add(LinkKind::CiRun, loose_str(s, "target_url"), "Deployment");
        add(
            LinkKind::Other,
            loose_str(s, "environment_url"),
            "Environment",
        );
    }
    if let (Some(r), Some(s)) = (repo.and_then(|r| loose_str(r, "html_url")), sha) {
        add(
            LinkKind::Other,
            Some(&format!("{}/commit/{s}", r.trim_end_matches('/'))),
            "Commit",
        );
    }
    event
        .validate()
        .map_err(|e| FieldError::new("", e.to_string()))?;
    Ok(event)
}
