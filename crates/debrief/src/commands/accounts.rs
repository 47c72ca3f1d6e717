//! `debrief serve`, `debrief user …` and `debrief token …`: running the web app and managing who
//! may use it. These commands act with the database's authority, so they are for whoever runs
//! Debrief; in the web app only admins manage users.

use std::io::Read;

use debrief_core::User;
use debrief_server::api::accounts::{create_user, issue_token};
use debrief_store::UserChange;

use super::Ctx;
use crate::cli::{ServeArgs, TokenCommand, UserCommand};
use crate::error::{CliError, Result};
use crate::render;

fn api(e: debrief_server::error::ApiError) -> CliError {
    match e.field {
        Some(f) => CliError::failed(format!("{f}: {}", e.message)),
        None => CliError::failed(e.message),
    }
}

pub async fn serve(ctx: Ctx, a: ServeArgs) -> Result<()> {
    if a.demo {
        let key = debrief_server::demo::load(ctx.store.as_ref())
            .await
            .map_err(CliError::failed)?;
        println!("Demo postmortem: {key}");
    }
    let hooks = debrief_server::state::HookConfig::new(
        a.hook_secrets,
        debrief_server::state::DraftRule::new(a.open_draft_on),
    )
    .map_err(CliError::failed)?;
    let enabled: Vec<&str> = hooks.enabled().map(|h| h.as_str()).collect();
    if !enabled.is_empty() {
        println!(
            "Webhooks enabled: {}; a firing alert opens a draft when {}",
            enabled.join(", "),
            hooks.rule
        );
    }
    let config = debrief_server::Config {
        public_url: a
            .public_url
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_default(),
        secure_cookies: a.secure_cookies,
        zone: ctx.zone.clone(),
        hooks,
        cache_bytes: a.cache_mb as usize * 1024 * 1024,
        caller_ttl: a.caller_ttl,
        ..followup_config(&ctx, a.followup, !a.no_worker)
    };
    debrief_server::serve(ctx.store, config, a.addr)
        .await
        .map_err(|e| CliError::failed(format!("cannot serve on {}: {e}", a.addr)))
}

/// The server configuration of the follow-through flags (everything else by default).
fn followup_config(
    ctx: &Ctx,
    a: crate::cli::FollowupArgs,
    enabled: bool,
) -> debrief_server::Config {
    let defaults = debrief_server::Config::default();
    debrief_server::Config {
        zone: ctx.zone.clone(),
        ca: ctx.ca.clone(),
        followup: debrief_core::FollowupConfig {
            lead_days: a.reminder_lead,
            grace_days: a.reminder_grace,
            digest: debrief_core::followthrough::DigestSchedule {
                day: a.digest_day,
                hour: a.digest_hour,
            },
            ..defaults.followup
        },
        worker: debrief_server::jobs::WorkerConfig {
            enabled,
            scan_interval: a.scan_interval,
            ..defaults.worker.clone()
        },
        ..defaults
    }
}

/// `debrief worker`: the reminder scan and the job worker without the web app.
pub async fn worker(ctx: Ctx, a: crate::cli::WorkerArgs) -> Result<()> {
    let once = a.once;
    let config = followup_config(&ctx, a.followup, true);
    if !once {
        println!(
            "Debrief worker: {}",
            debrief_server::jobs::describe(&config.followup, &config.worker)
        );
    }
    let done = debrief_server::jobs::work(ctx.store, config, once)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    if once {
        render::emit(&format!(
            "Ran {} job(s): {} message(s) sent, {} reminder(s) or digest(s) planned, {} with nothing to send, {} failed (retried later).\n",
            done.claimed, done.delivered, done.planned, done.skipped, done.failed
        ))?;
    }
    Ok(())
}

/// The new user's password: `DEBRIEF_PASSWORD`, else standard input (first line).
fn password() -> Result<String> {
    if let Ok(p) = std::env::var("DEBRIEF_PASSWORD") {
        return Ok(p);
    }
    let mut input = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .map_err(|e| {
            CliError::failed(format!("cannot read the password from standard input: {e}"))
        })?;
    Ok(input.lines().next().unwrap_or_default().to_owned())
}

pub(super) async fn find(ctx: &Ctx, email: &debrief_core::Email) -> Result<User> {
    ctx.store
        .credentials(email)
        .await?
        .map(|c| c.user)
        .ok_or_else(|| CliError::failed(format!("there is no user with email {email}")))
}

fn user_rows(users: &[User]) -> String {
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.id.0.to_string(),
                u.name.to_string(),
                u.email.to_string(),
                u.role.to_string(),
                if u.disabled { "disabled" } else { "active" }.to_owned(),
            ]
        })
        .collect();
    render::table(&["ID", "NAME", "EMAIL", "ROLE", "STATE"], &rows)
}

pub async fn user(ctx: &Ctx, c: UserCommand) -> Result<()> {
    match c {
        UserCommand::Add(a) => {
            let pw = password()?;
            let u = create_user(ctx.store.as_ref(), a.name, a.email, a.role, &pw, false)
                .await
                .map_err(api)?;
            render::emit(&format!("Added {} <{}> as {}.\n", u.name, u.email, u.role))
        }
        UserCommand::List(a) => {
            let users = ctx.store.list_users().await?;
            if a.json.json {
                render::emit(&render::json(&users)?)
            } else if users.is_empty() {
                render::emit(
                    "No users yet. Start `debrief serve` for the setup link, or: debrief user add NAME --email … --role admin\n",
                )
            } else {
                render::emit(&user_rows(&users))
            }
        }
        UserCommand::Disable(r) => set_disabled(ctx, &r.email, true).await,
        UserCommand::Enable(r) => set_disabled(ctx, &r.email, false).await,
        UserCommand::Notify(a) => super::notify::user_topics(ctx, a).await,
    }
}

async fn set_disabled(ctx: &Ctx, email: &debrief_core::Email, disable: bool) -> Result<()> {
    let u = find(ctx, email).await?;
    let u = ctx
        .store
        .update_user(
            u.id,
            UserChange {
                disabled: Some(disable),
                ..UserChange::default()
            },
        )
        .await?;
    render::emit(&format!(
        "{} <{}> is now {}.\n",
        u.name,
        u.email,
        if u.disabled { "disabled" } else { "enabled" }
    ))
}

pub async fn token(ctx: &Ctx, c: TokenCommand) -> Result<()> {
    match c {
        TokenCommand::Create(a) => {
            let u = find(ctx, &a.user).await?;
            if u.disabled {
                return Err(CliError::failed(format!(
                    "{} is disabled; enable them first",
                    u.email
                )));
            }
            let created = issue_token(
                ctx.store.as_ref(),
                jiff::Timestamp::now(),
                &u,
                a.name,
                a.scope,
                a.expires_in_days,
            )
            .await
            .map_err(api)?;
            if a.json.json {
                render::emit(&render::json(&serde_json::json!({
                    "id": created.record.id,
                    "name": created.record.name,
                    "scope": created.record.scope,
                    "token": created.token,
                }))?)
            } else {
                render::emit(&format!(
                    "Token {} ({}, scope {}) for {}:\n\n  {}\n\nCopy it now: it is not stored and cannot be shown again.\n",
                    created.record.id.0,
                    created.record.name,
                    created.record.scope,
                    u.email,
                    created.token
                ))
            }
        }
        TokenCommand::List(a) => {
            let owner = match &a.user {
                Some(e) => Some(find(ctx, e).await?.id),
                None => None,
            };
            let tokens = ctx.store.list_tokens(owner).await?;
            if a.json.json {
                return render::emit(&render::json(&tokens)?);
            }
            let users = ctx.store.list_users().await?;
            let now = jiff::Timestamp::now();
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.0.to_string(),
                        t.name.to_string(),
                        users
                            .iter()
                            .find(|u| u.id == t.user_id)
                            .map(|u| u.email.to_string())
                            .unwrap_or_default(),
                        t.scope.to_string(),
                        if t.revoked_at.is_some() {
                            "revoked"
                        } else if t.is_active(now) {
                            "active"
                        } else {
                            "expired"
                        }
                        .to_owned(),
                    ]
                })
                .collect();
            if rows.is_empty() {
                render::emit("No tokens.\n")
            } else {
                render::emit(&render::table(
                    &["ID", "NAME", "USER", "SCOPE", "STATE"],
                    &rows,
                ))
            }
        }
        TokenCommand::Revoke(a) => {
            let t = ctx
                .store
                .revoke_token(debrief_core::TokenId(a.id), jiff::Timestamp::now())
                .await?;
            render::emit(&format!("Token {} ({}) is revoked.\n", t.id.0, t.name))
        }
    }
}
