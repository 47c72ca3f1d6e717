//! The commands: each takes its parsed arguments and a [`Ctx`] (the store, who is acting, the
//! display zone), talks to the store, and prints the result.

mod accounts;
mod action;
mod import;
mod jobs;
pub mod lint;
mod notify;
mod participant;
mod postmortem;
mod timeline;
mod transfer;

use debrief_core::{Key, Zone};
use debrief_store::DynStore;

use crate::cli::{Cli, Command};
use crate::db;
use crate::error::{CliError, Result};
use crate::render;

/// What every command needs.
#[derive(Debug)]
pub struct Ctx {
    pub store: DynStore,
    /// Who makes the change, for the revision history.
    pub by: String,
    /// Where times without an offset are read, and where all times are shown.
    pub zone: Zone,
    /// Certificate authorities trusted for sending besides the public ones (`--ca-file`).
    pub ca: debrief_server::notify::TrustedRoots,
}

impl Ctx {
    /// A value typed on the command line resolved in `--zone`, naming its flag if it fails.
    pub fn moment(&self, flag: &str, t: &crate::args::TimeArg) -> Result<debrief_core::Moment> {
        t.resolve(&self.zone)
            .map_err(|e| CliError::bad_flag(flag, &e))
    }
}

/// The certificate authorities of `--ca-file`.
fn trusted_roots(path: &std::path::Path) -> Result<debrief_server::notify::TrustedRoots> {
    let pem = std::fs::read(path).map_err(|e| {
        CliError::usage(format!("--ca-file {}: cannot read it: {e}", path.display()))
    })?;
    debrief_server::notify::TrustedRoots::from_pem(&pem)
        .map_err(|e| CliError::usage(format!("--ca-file {}: {e}", path.display())))
}

/// Who is acting: `--as`, else `$USER`, else `cli`.
fn actor(cli: &Cli) -> String {
    if let Some(name) = &cli.as_name {
        return name.to_string();
    }
    std::env::var("USER")
        .ok()
        .and_then(|u| u.parse::<debrief_core::Name>().ok())
        .map_or_else(|| "cli".to_owned(), |n| n.to_string())
}

pub async fn run(cli: Cli) -> Result<()> {
    let url = match &cli.database {
        Some(url) => url.clone(),
        None => db::default_url()?,
    };
    if let Command::Migrate = cli.command {
        return migrate(&url).await;
    }
    // Check the URL's form before anything else, so a typo is a usage error.
    db::target(&url)?;
    // Read before the database is opened: a bad file changes nothing.
    let ca = match (&cli.ca_file, &cli.command) {
        (
            Some(path),
            Command::Serve(_)
            | Command::Worker(_)
            | Command::Channel(crate::cli::ChannelCommand::Test(_)),
        ) => trusted_roots(path)?,
        _ => debrief_server::notify::TrustedRoots::default(),
    };
    let ctx = Ctx {
        store: db::open(&url).await?,
        by: actor(&cli),
        zone: cli.zone.clone().unwrap_or_else(Zone::system),
        ca,
    };
    match cli.command {
        Command::New(a) => postmortem::new(&ctx, a).await,
        Command::List(a) => postmortem::list(&ctx, a).await,
        Command::Show(a) => postmortem::show(&ctx, a).await,
        Command::Edit(a) => postmortem::edit(&ctx, *a).await,
        Command::History(a) => postmortem::history(&ctx, a).await,
        Command::Search(a) => postmortem::search(&ctx, a).await,
        Command::Timeline(c) => timeline::run(&ctx, c).await,
        Command::Action(c) => action::run(&ctx, c).await,
        Command::Participant(c) => participant::run(&ctx, c).await,
        Command::Export(a) => transfer::export(&ctx, a).await,
        Command::Import(a) => transfer::import(&ctx, a).await,
        Command::Migrate => Ok(()),
        // Handled in main.rs before any database is opened.
        Command::Lint(_) => Ok(()),
        Command::Serve(a) => accounts::serve(ctx, a).await,
        Command::Worker(a) => accounts::worker(ctx, a).await,
        Command::Jobs(c) => jobs::run(&ctx, c).await,
        Command::User(c) => accounts::user(&ctx, c).await,
        Command::Token(c) => accounts::token(&ctx, c).await,
        Command::Channel(c) => notify::channel(&ctx, c).await,
        Command::Actions(a) => notify::actions(&ctx, a).await,
    }
}

async fn migrate(url: &str) -> Result<()> {
    let (backend, applied) = db::migrate(url).await?;
    let where_ = db::redact(url);
    if applied.is_empty() {
        render::emit(&format!("The {backend} database {where_} is up to date.\n"))
    } else {
        let list: Vec<String> = applied.iter().map(i64::to_string).collect();
        render::emit(&format!(
            "Applied migration(s) {} to the {backend} database {where_}.\n",
            list.join(", ")
        ))
    }
}

/// Checks that a postmortem exists, so a sub-record command says "PM-9 not found" first.
pub async fn require(ctx: &Ctx, key: Key) -> Result<debrief_core::Postmortem> {
    Ok(ctx.store.get_postmortem(key).await?)
}
