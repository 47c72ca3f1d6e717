//! `debrief channel …`, `debrief user notify` and `debrief actions [--stats]`: where
//! notifications go, who receives which, and follow-through as a measure.

use std::sync::Arc;

use debrief_core::notify::{
    Channel, ChannelFields, ChannelTarget, Preferences, SmtpSettings, Topic,
};
use debrief_server::api::notify::{FollowThroughReport, report, test_send};

use super::Ctx;
use crate::args;
use crate::cli::{ActionsArgs, ChannelAddCommand, ChannelCommand, ChannelCommon, UserNotifyArgs};
use crate::error::{CliError, Result};
use crate::render;

fn fields(common: ChannelCommon, target: ChannelTarget) -> ChannelFields {
    ChannelFields {
        name: common.name,
        target,
        topics: common.topics,
        owners: common.owners,
        enabled: true,
    }
}

/// A channel by name (any case).
async fn find(ctx: &Ctx, name: &str) -> Result<Channel> {
    let channels = ctx.store.list_channels().await?;
    channels
        .into_iter()
        .find(|c| c.fields.name.as_str().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            CliError::failed(format!(
                "there is no channel named {name:?} (see debrief channel list)"
            ))
        })
}

pub async fn channel(ctx: &Ctx, c: ChannelCommand) -> Result<()> {
    match c {
        ChannelCommand::Add(add) => {
            let f = match add {
                ChannelAddCommand::Email(a) => {
                    let port = a.port.unwrap_or_else(|| a.security.default_port());
                    fields(
                        a.common,
                        ChannelTarget::Email(SmtpSettings {
                            host: a.host,
                            port,
                            security: a.security,
                            username: a.username,
                            password: a.password,
                            from: a.from,
                            to: a.to,
                        }),
                    )
                }
                ChannelAddCommand::Slack(a) => {
                    fields(a.common, ChannelTarget::Slack { url: a.url })
                }
                ChannelAddCommand::Webhook(a) => fields(
                    a.common,
                    ChannelTarget::Webhook {
                        url: a.url,
                        secret: a.secret,
                    },
                ),
            };
            f.validate().map_err(|e| CliError::bad_field(&e))?;
            let c = ctx.store.create_channel(f, jiff::Timestamp::now()).await?;
            render::emit(&format!(
                "Added channel {} (#{}): {}; carries {}{}.\nTry it: debrief channel test {}{}\n",
                c.fields.name,
                c.id,
                c.fields.target.describe(),
                c.fields.topics,
                owners(&c.fields),
                c.fields.name,
                if matches!(c.fields.target, ChannelTarget::Email(_)) {
                    " --to you@example.com"
                } else {
                    ""
                }
            ))
        }
        ChannelCommand::List(a) => {
            let channels = ctx.store.list_channels().await?;
            if a.json.json {
                let shown: Vec<_> = channels
                    .iter()
                    .map(debrief_server::api::notify::ChannelView::of)
                    .collect();
                return render::emit(&render::json(&shown)?);
            }
            if channels.is_empty() {
                return render::emit(
                    "No channels: reminders are only written to the log.\nAdd one: debrief channel add email|slack|webhook --help\n",
                );
            }
            let rows: Vec<Vec<String>> = channels
                .iter()
                .map(|c| {
                    vec![
                        c.id.to_string(),
                        c.fields.name.to_string(),
                        c.fields.target.kind().to_string(),
                        if c.fields.enabled { "on" } else { "off" }.to_owned(),
                        c.fields.topics.to_string(),
                        if c.fields.owners.is_empty() {
                            "every owner".to_owned()
                        } else {
                            c.fields
                                .owners
                                .iter()
                                .map(|o| o.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        c.fields.target.describe(),
                    ]
                })
                .collect();
            render::emit(&render::table(
                &["ID", "NAME", "KIND", "ENABLED", "TOPICS", "TEAM", "WHERE"],
                &rows,
            ))
        }
        ChannelCommand::Test(a) => {
            let channel = find(ctx, &a.name).await?;
            let state = debrief_server::AppState::new(
                ctx.store.clone(),
                debrief_server::Config {
                    zone: ctx.zone.clone(),
                    ca: ctx.ca.clone(),
                    ..debrief_server::Config::default()
                },
                Arc::new(debrief_server::SystemClock),
            );
            let to = a.to.map(|e| e.as_str().to_owned());
            match test_send(&state, &channel, to, &ctx.by).await {
                Ok(Some(to)) => render::emit(&format!(
                    "Sent a test through {} to {to}.\n",
                    channel.fields.name
                )),
                Ok(None) => {
                    render::emit(&format!("Sent a test through {}.\n", channel.fields.name))
                }
                Err(why) => Err(CliError::failed(format!(
                    "the test through {} failed: {why}",
                    channel.fields.name
                ))),
            }
        }
        ChannelCommand::Disable(r) => set_enabled(ctx, &r.name, false).await,
        ChannelCommand::Enable(r) => set_enabled(ctx, &r.name, true).await,
        ChannelCommand::Remove(r) => {
            let c = find(ctx, &r.name).await?;
            ctx.store.delete_channel(c.id).await?;
            render::emit(&format!("Removed channel {}.\n", c.fields.name))
        }
    }
}

fn owners(f: &ChannelFields) -> String {
    if f.owners.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = f.owners.iter().map(|o| o.as_str()).collect();
        format!(" for {}", names.join(", "))
    }
}

async fn set_enabled(ctx: &Ctx, name: &str, enabled: bool) -> Result<()> {
    let c = find(ctx, name).await?;
    let mut f = c.fields.clone();
    f.enabled = enabled;
    let c = ctx
        .store
        .update_channel(c.id, c.version, f, jiff::Timestamp::now())
        .await?;
    render::emit(&format!(
        "Channel {} is now {}.\n",
        c.fields.name,
        if enabled { "enabled" } else { "disabled" }
    ))
}

/// `debrief user notify EMAIL [--topics …]`.
pub async fn user_topics(ctx: &Ctx, a: UserNotifyArgs) -> Result<()> {
    let user = super::accounts::find(ctx, &a.email).await?;
    let prefs = match a.topics {
        Some(topics) => {
            let p = Preferences { topics };
            ctx.store.set_preferences(user.id, &p).await?;
            p
        }
        None => ctx.store.preferences(user.id).await?,
    };
    if a.json.json {
        return render::emit(&render::json(&prefs)?);
    }
    let mut out = format!(
        "{} <{}> receives: {}\n",
        user.name, user.email, prefs.topics
    );
    for t in Topic::ALL {
        out.push_str(&format!(
            "  [{}] {:<12} {}\n",
            if prefs.topics.contains(*t) { "x" } else { " " },
            t.as_str(),
            t.describe()
        ));
    }
    render::emit(&out)
}

/// `debrief actions [--stats]`.
pub async fn actions(ctx: &Ctx, a: ActionsArgs) -> Result<()> {
    if !a.stats {
        return super::action::list(ctx, a.list).await;
    }
    let l = a.list;
    let today = args::today(&ctx.zone);
    let items = ctx
        .store
        .list_actions(&super::action::filter(ctx, &l))
        .await?;
    let r = report(ctx.store.as_ref(), &items, today, ctx.zone.tz())
        .await
        .map_err(|e| CliError::failed(e.message))?;
    if l.json.json {
        return render::emit(&render::json(&r)?);
    }
    render::emit(&stats_text(&r))
}

fn pct(m: &debrief_core::followthrough::FollowThrough, n: usize) -> String {
    m.percent(n)
        .map_or_else(|| "-".to_owned(), |p| format!("{p}%"))
}

fn stats_text(r: &FollowThroughReport) -> String {
    let m = &r.all;
    if m.actions == 0 {
        return "No action items match.\n".to_owned();
    }
    let mut out = format!(
        "Follow-through of {} action(s), as of {}:\n  on time  {:>5}  {:>4}\n  late     {:>5}  {:>4}\n  declined {:>5}  {:>4}\n  open     {:>5}  {:>4}  ({} overdue)\n",
        m.actions,
        r.today,
        m.on_time,
        pct(m, m.on_time),
        m.late,
        pct(m, m.late),
        m.declined,
        pct(m, m.declined),
        m.open,
        pct(m, m.open),
        m.overdue
    );
    match m.median_days_overdue {
        Some(d) => out.push_str(&format!("  median days overdue (late and overdue): {d}\n")),
        None => out.push_str("  nothing was late or is overdue\n"),
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = r
        .postmortems
        .iter()
        .map(|p| {
            let m = &p.measure;
            vec![
                p.key.to_string(),
                p.status.to_string(),
                m.actions.to_string(),
                pct(m, m.on_time),
                m.late.to_string(),
                m.declined.to_string(),
                m.open.to_string(),
                m.overdue.to_string(),
                m.median_days_overdue
                    .map_or_else(|| "-".to_owned(), |d| d.to_string()),
                render::short(&p.title, 50),
            ]
        })
        .collect();
    out.push_str(&render::table(
        &[
            "PM",
            "STATUS",
            "ACTIONS",
            "ON TIME",
            "LATE",
            "DECLINED",
            "OPEN",
            "OVERDUE",
            "MEDIAN DAYS",
            "TITLE",
        ],
        &rows,
    ));
    out
}
