//! The command line, as clap types: global options, subcommands and their flags. Values are parsed
//! here into core types (a bad `--severity` or `--at` fails before anything touches the database,
//! with exit code 2); the commands in `crate::commands` only run them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use debrief_core::{
    ContributingFactor, EventKind, Key, KeyMoment, Label, LessonKind, Line, Link, Name, Outcome,
    Priority, Question, RemediationIdea, Role, Severity, Source, Status, Text, Title, Url, Zone,
};
use debrief_store::ActionStatusName;
use jiff::civil::Date;

use crate::args::{self, Day, Setting, TimeArg};

/// Debrief: blameless postmortems from the terminal — capture the incident, build the timeline,
/// agree actions with an owner and a check-in date, and follow them through.
#[derive(Debug, Parser)]
#[command(
    name = "debrief",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Database: sqlite://PATH, a file path, or postgres://USER@HOST/DB [default: sqlite:// a file
    /// in your data directory]
    #[arg(
        long,
        global = true,
        env = "DEBRIEF_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: Option<String>,

    /// Who makes the change, as recorded in the revision history [default: $USER]
    #[arg(long = "as", global = true, env = "DEBRIEF_USER", value_name = "NAME")]
    pub as_name: Option<Name>,

    /// Zone for times typed without an offset, and for showing times: an IANA name
    /// (Europe/Berlin), UTC, or an offset (+05:30) [default: this machine's zone]
    #[arg(long, global = true, env = "DEBRIEF_ZONE", value_name = "ZONE")]
    pub zone: Option<Zone>,

    /// Also trust the certificate authorities in this PEM file for SMTP and webhooks (a company's
    /// own CA), besides the public ones. Read by serve, worker and channel test
    #[arg(long, global = true, env = "DEBRIEF_CA_FILE", value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a postmortem for an incident (a title is enough; fill in the rest later)
    New(NewArgs),
    /// List postmortems, newest incident first
    List(ListArgs),
    /// Show a postmortem: key moments and durations, readiness for review, timeline, actions…
    Show(ShowArgs),
    /// Change a postmortem's fields or status (refused if someone else changed it meanwhile)
    Edit(Box<EditArgs>),
    /// Add, list, edit and hide timeline events
    #[command(subcommand)]
    Timeline(TimelineCommand),
    /// Add, list and update action items (each has an owner and a check-in date)
    #[command(subcommand)]
    Action(ActionCommand),
    /// Add, list and update the people who took part in the incident
    #[command(subcommand)]
    Participant(ParticipantCommand),
    /// Show who changed what, and when
    History(HistoryArgs),
    /// Full-text search of past postmortems
    Search(SearchArgs),
    /// Write a postmortem as Markdown or JSON
    Export(ExportArgs),
    /// Read a postmortem from a Markdown (or .json) file into the database
    Import(ImportArgs),
    /// Bring the database schema up to date (also done automatically on every start)
    Migrate,
    /// Check Markdown postmortems for blame language, missing sections and action items without
    /// an owner or a check-in date (needs no database)
    Lint(crate::commands::lint::LintArgs),
    /// Run the web app and the JSON API (http://127.0.0.1:7878 by default)
    Serve(ServeArgs),
    /// Run only the follow-through work — the reminder scan and the job worker — without the web
    /// app (every `debrief serve` runs it too, unless started with --no-worker)
    Worker(WorkerArgs),
    /// List the background jobs (reminders) that are parked or failing, and retry them
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Add, list, disable and enable users of the web app and API
    #[command(subcommand)]
    User(UserCommand),
    /// Create, list and revoke API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Notification channels (email over SMTP, Slack-compatible webhooks, signed webhooks)
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Action items across postmortems; with --stats, follow-through: done on time, late,
    /// declined, open
    Actions(ActionsArgs),
}

#[derive(Debug, Args)]
pub struct ActionsArgs {
    /// Measure follow-through instead of listing: overall and per postmortem
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub list: ActionListArgs,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Add a channel, checked before it is stored
    #[command(subcommand)]
    Add(ChannelAddCommand),
    /// List channels (secrets hidden)
    List(JsonOnly),
    /// Send a test message through a channel now, and say how it went
    Test(ChannelTestArgs),
    /// Stop sending through a channel (it is kept)
    Disable(ChannelRef),
    /// Send through a disabled channel again
    Enable(ChannelRef),
    /// Remove a channel
    Remove(ChannelRef),
}

#[derive(Debug, Subcommand)]
pub enum ChannelAddCommand {
    /// Email over SMTP: each person gets their notifications at their address; --to adds a
    /// team's copy
    Email(EmailChannelArgs),
    /// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, …)
    Slack(SlackChannelArgs),
    /// Any HTTP endpoint: JSON signed with HMAC-SHA256 (X-Debrief-Signature)
    Webhook(WebhookChannelArgs),
}

/// What every channel has.
#[derive(Debug, Args)]
pub struct ChannelCommon {
    /// A short unique name, such as platform-slack
    #[arg(long)]
    pub name: Name,
    /// The topics it carries: reminders, escalations, reviews, digest (comma-separated), or all
    #[arg(long, default_value = "all")]
    pub topics: debrief_core::notify::Topics,
    /// The team: action owners whose notifications and digest it receives (repeat, or separate
    /// with commas); none: every owner
    #[arg(long = "owner", value_delimiter = ',')]
    pub owners: Vec<Name>,
}

#[derive(Debug, Args)]
pub struct EmailChannelArgs {
    #[command(flatten)]
    pub common: ChannelCommon,
    /// The SMTP server's host name
    #[arg(long)]
    pub host: String,
    /// Its port [default: 587 for starttls, 465 for tls, 25 for none]
    #[arg(long)]
    pub port: Option<u16>,
    /// starttls, tls or none
    #[arg(long, default_value = "starttls")]
    pub security: debrief_core::notify::SmtpSecurity,
    /// Log in as
    #[arg(long, requires = "password")]
    pub username: Option<String>,
    /// The login's password
    #[arg(
        long,
        env = "DEBRIEF_SMTP_PASSWORD",
        hide_env_values = true,
        requires = "username"
    )]
    pub password: Option<String>,
    /// The sender: address, or "Name <address>"
    #[arg(long)]
    pub from: String,
    /// A team's address for its copy and weekly digest (repeat for several)
    #[arg(long = "to", value_delimiter = ',')]
    pub to: Vec<debrief_core::Email>,
}

#[derive(Debug, Args)]
pub struct SlackChannelArgs {
    #[command(flatten)]
    pub common: ChannelCommon,
    /// The incoming webhook's URL
    #[arg(long, env = "DEBRIEF_SLACK_URL", hide_env_values = true)]
    pub url: Url,
}

#[derive(Debug, Args)]
pub struct WebhookChannelArgs {
    #[command(flatten)]
    pub common: ChannelCommon,
    /// Where to POST
    #[arg(long)]
    pub url: Url,
    /// The shared secret the body is signed with (at least 16 characters)
    #[arg(long, env = "DEBRIEF_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
}

#[derive(Debug, Args)]
pub struct ChannelRef {
    /// The channel's name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ChannelTestArgs {
    /// The channel's name
    pub name: String,
    /// For an email channel: the address to send the test to
    #[arg(long)]
    pub to: Option<debrief_core::Email>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen, HOST:PORT
    #[arg(
        long,
        env = "DEBRIEF_ADDR",
        default_value = "127.0.0.1:7878",
        value_name = "HOST:PORT"
    )]
    pub addr: std::net::SocketAddr,
    /// Load an example postmortem (an incident made up for the demo) so there is something to see
    #[arg(long)]
    pub demo: bool,
    /// The address people use to reach Debrief, for the links it prints [default: the listen
    /// address]
    #[arg(long, env = "DEBRIEF_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Mark cookies Secure: set this when Debrief is served over HTTPS (behind a proxy)
    #[arg(long, env = "DEBRIEF_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Enable a webhook (/api/v1/hooks/SOURCE) with its secret: alertmanager, grafana, pagerduty,
    /// opsgenie, github or generic. Repeat for each; a hook without a secret is disabled. Prefer
    /// the environment variable (comma-separated) so that secrets stay out of the process list
    #[arg(
        long = "hook-secret",
        env = "DEBRIEF_HOOK_SECRETS",
        value_name = "SOURCE=SECRET",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub hook_secrets: Vec<debrief_server::state::HookSecret>,
    /// Which firing alerts open a draft postmortem when their group has none open: every
    /// condition must hold, a condition holds when the label has one of the values (* for any).
    /// Repeat for more conditions (in the environment, separate them with ;); giving any replaces
    /// the default [default: severity=critical,high,page,p1]
    #[arg(
        long = "open-draft-on",
        env = "DEBRIEF_OPEN_DRAFT_ON",
        value_name = "LABEL=VALUE[,VALUE]",
        value_delimiter = ';'
    )]
    pub open_draft_on: Vec<debrief_server::state::LabelMatcher>,
    /// Do not run the reminder scan and job worker in this instance (when a separate
    /// `debrief worker` runs them)
    #[arg(long, env = "DEBRIEF_NO_WORKER")]
    pub no_worker: bool,
    /// Memory for rendered postmortems and pages kept between requests, in MiB (0: render every
    /// request). A write anywhere makes the next read render again, so nothing stale is served
    #[arg(long, env = "DEBRIEF_CACHE_MB", default_value = "16", value_name = "MIB",
          value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub cache_mb: u32,
    /// How long a signed-in caller is trusted before their session or token is read again: a
    /// sign-out, revoked token or changed role takes effect within this time when it was made
    /// through another instance or the CLI (0s: read on every request)
    #[arg(long, env = "DEBRIEF_CALLER_TTL", default_value = "2s", value_name = "SECONDS",
          value_parser = args::caller_ttl)]
    pub caller_ttl: std::time::Duration,
    #[command(flatten)]
    pub followup: FollowupArgs,
}

/// When reminders are due and how often they are looked for.
#[derive(Debug, Args)]
pub struct FollowupArgs {
    /// Days before an action's check-in date that its owner is reminded (0: no such reminder)
    #[arg(long, env = "DEBRIEF_REMINDER_LEAD", default_value = "2", value_name = "DAYS",
          value_parser = args::days)]
    pub reminder_lead: i32,
    /// Days after a check-in date without a progress note before the postmortem's incident lead
    /// (or its creator) is told
    #[arg(long, env = "DEBRIEF_REMINDER_GRACE", default_value = "3", value_name = "DAYS",
          value_parser = args::days)]
    pub reminder_grace: i32,
    /// How often each instance looks for due reminders (a reminder is sent once, however many
    /// instances look)
    #[arg(long, env = "DEBRIEF_SCAN_INTERVAL", default_value = "60s", value_name = "INTERVAL",
          value_parser = args::interval)]
    pub scan_interval: std::time::Duration,
    /// The day the weekly digest goes out (monday … sunday, or off)
    #[arg(
        long,
        env = "DEBRIEF_DIGEST_DAY",
        default_value = "monday",
        value_name = "DAY"
    )]
    pub digest_day: debrief_core::followthrough::DigestDay,
    /// The hour of that day it goes out (0–23, in --zone)
    #[arg(long, env = "DEBRIEF_DIGEST_HOUR", default_value = "9", value_name = "HOUR",
          value_parser = clap::value_parser!(i8).range(0..=23))]
    pub digest_hour: i8,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first: by default those that are parked (out of attempts) or failing
    List(JobsListArgs),
    /// Queue a parked (or waiting) job again, now, with its attempts reset
    Retry(JobsRetryArgs),
}

#[derive(Debug, Args)]
pub struct JobsListArgs {
    /// Only jobs in this state: queued, running, done or parked (repeat for several); with
    /// neither --state nor --all, parked and failing jobs
    #[arg(long)]
    pub state: Vec<debrief_store::JobState>,
    /// Every job, whatever its state
    #[arg(long, conflicts_with = "state")]
    pub all: bool,
    /// At most this many
    #[arg(long, default_value = "100")]
    pub limit: u32,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct JobsRetryArgs {
    /// The job's id (see `debrief jobs list`)
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Scan once, run every job that is due, and exit (for cron or a test)
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub followup: FollowupArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from DEBRIEF_PASSWORD or, if unset, from standard input
    Add(UserAddArgs),
    /// List users
    List(JsonOnly),
    /// Disable a user: their sessions end and their tokens stop working
    Disable(UserRef),
    /// Enable a disabled user again
    Enable(UserRef),
    /// Show or choose the notification topics a user receives
    Notify(UserNotifyArgs),
}

#[derive(Debug, Args)]
pub struct UserNotifyArgs {
    /// The user's email address
    pub email: debrief_core::Email,
    /// reminders, escalations, reviews, digest (comma-separated), all or none; without it, show
    #[arg(long)]
    pub topics: Option<debrief_core::notify::Topics>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The user's name, as shown in the revision history
    pub name: Name,
    /// The email address they sign in with
    #[arg(long)]
    pub email: debrief_core::Email,
    /// viewer, editor or admin
    #[arg(long, default_value = "editor")]
    pub role: debrief_core::UserRole,
}

#[derive(Debug, Args)]
pub struct UserRef {
    /// The user's email address
    pub email: debrief_core::Email,
}

#[derive(Debug, Args)]
pub struct JsonOnly {
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the secret is printed once and not stored
    Create(TokenCreateArgs),
    /// List tokens (of one user with --user)
    List(TokenListArgs),
    /// Revoke a token by its id
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The user the token acts as (email)
    #[arg(long)]
    pub user: debrief_core::Email,
    /// A name to recognise the token by (ci-export, grafana-hook, …)
    #[arg(long)]
    pub name: Name,
    /// read, write or admin; never more than the user's role allows
    #[arg(long, default_value = "read")]
    pub scope: debrief_core::Scope,
    /// Days until it expires [default: until revoked]
    #[arg(long, value_name = "DAYS")]
    pub expires_in_days: Option<u32>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct TokenListArgs {
    /// Only this user's tokens (email)
    #[arg(long)]
    pub user: Option<debrief_core::Email>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id, as `debrief token list` shows it
    pub id: i64,
}

/// Print JSON instead of text.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print stable, pretty JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// A short title, such as "Checkout errors after config push"
    pub title: Title,
    /// Severity, SEV1 (worst) to SEV4
    #[arg(long, default_value = "SEV3")]
    pub severity: Severity,
    /// One or two sentences: what is known and the customer impact
    #[arg(long)]
    pub summary: Option<String>,
    /// Who or what was affected, and how much
    #[arg(long)]
    pub impact: Option<String>,
    /// An affected service (repeat for several)
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<Label>,
    /// A tag (repeat for several)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<Label>,
    /// When the incident started
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub started: Option<TimeArg>,
    /// Show the new postmortem (as `debrief show` does) after creating it
    #[arg(long)]
    pub show: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Filters shared by `list` and `search`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only postmortems in this status (draft, in_review, published, closed)
    #[arg(long)]
    pub status: Option<Status>,
    /// Only postmortems of this severity
    #[arg(long)]
    pub severity: Option<Severity>,
    /// Only postmortems that affected this service
    #[arg(long)]
    pub service: Option<Label>,
    /// Only incidents that started at or after this time
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub from: Option<TimeArg>,
    /// Only incidents that started before this time
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub until: Option<TimeArg>,
    /// At most this many results (default 100)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    #[arg(long)]
    pub title: Option<Title>,
    /// One or two sentences: what is known and the customer impact ("" clears)
    #[arg(long)]
    pub summary: Option<String>,
    /// Who or what was affected, and how much ("" clears)
    #[arg(long)]
    pub impact: Option<String>,
    #[arg(long)]
    pub severity: Option<Severity>,
    /// Replace the list of services (repeat for several)
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Option<Vec<Label>>,
    /// Add a service
    #[arg(long, value_name = "SERVICE")]
    pub add_service: Vec<Label>,
    /// Remove a service
    #[arg(long, value_name = "SERVICE")]
    pub remove_service: Vec<Label>,
    /// Replace the list of tags (repeat for several)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Option<Vec<Label>>,
    /// Add a tag
    #[arg(long, value_name = "TAG")]
    pub add_tag: Vec<Label>,
    /// Remove a tag
    #[arg(long, value_name = "TAG")]
    pub remove_tag: Vec<Label>,
    /// When the incident started (none clears)
    #[arg(long, value_name = "TIME|none", value_parser = args::time_or_none)]
    pub started: Option<Setting<TimeArg>>,
    /// When it was detected (none clears)
    #[arg(long, value_name = "TIME|none", value_parser = args::time_or_none)]
    pub detected: Option<Setting<TimeArg>>,
    /// When someone acknowledged it (none clears)
    #[arg(long, value_name = "TIME|none", value_parser = args::time_or_none)]
    pub acknowledged: Option<Setting<TimeArg>>,
    /// When the customer impact was mitigated (none clears)
    #[arg(long, value_name = "TIME|none", value_parser = args::time_or_none)]
    pub mitigated: Option<Setting<TimeArg>>,
    /// When it was fully resolved (none clears)
    #[arg(long, value_name = "TIME|none", value_parser = args::time_or_none)]
    pub resolved: Option<Setting<TimeArg>>,
    /// Customer statement — regret: that we are sorry, plainly ("" clears)
    #[arg(long)]
    pub regret: Option<String>,
    /// Customer statement — reason: what happened, without blame ("" clears)
    #[arg(long)]
    pub reason: Option<String>,
    /// Customer statement — remedy: what we are doing so it does not happen again ("" clears)
    #[arg(long)]
    pub remedy: Option<String>,
    /// Free notes ("" clears)
    #[arg(long)]
    pub notes: Option<String>,
    /// What the incident cost, to keep actions in proportion (none clears)
    #[arg(long, value_name = "TEXT|none", value_parser = args::or_none::<Line>)]
    pub incident_cost: Option<Setting<Line>>,
    /// Add a contributing factor, CATEGORY:TEXT (categories: change, configuration, capacity,
    /// dependency, monitoring_gap, process, knowledge, communication, tooling, other)
    #[arg(long, value_name = "CATEGORY:TEXT", value_parser = args::factor)]
    pub add_factor: Vec<ContributingFactor>,
    /// Add a lesson learned, KIND:TEXT (what_helped, what_slowed_us, do_differently, know_now,
    /// got_lucky)
    #[arg(long, value_name = "KIND:TEXT", value_parser = args::lesson)]
    pub add_lesson: Vec<(LessonKind, Line)>,
    /// Add a remediation idea, QUESTION:TEXT (detect, react, quick_fix, prevent, other_risks)
    #[arg(long, value_name = "QUESTION:TEXT", value_parser = args::idea)]
    pub add_idea: Vec<RemediationIdea>,
    /// Add a link: KIND:URL or "KIND URL" (logs, merge_request, ci_run, chat, dashboard, ticket,
    /// document, other)
    #[arg(long, value_name = "KIND:URL", value_parser = args::link)]
    pub add_link: Vec<Link>,
    /// When the review meeting is (none clears)
    #[arg(long, value_name = "TIME|none", value_parser = args::time_or_none)]
    pub meeting: Option<Setting<TimeArg>>,
    /// Where the review meeting is: a room or a video link (none clears)
    #[arg(long, value_name = "TEXT|none", value_parser = args::or_none::<Line>)]
    pub meeting_location: Option<Setting<Line>>,
    /// Who facilitates the review (none clears)
    #[arg(long, value_name = "NAME|none", value_parser = args::or_none::<Name>)]
    pub facilitator: Option<Setting<Name>>,
    /// Move to another status: draft, in_review, published, closed (one step forward, or back)
    #[arg(long)]
    pub status: Option<Status>,
    /// Only apply the change if the postmortem is still at this version
    #[arg(long, value_name = "N")]
    pub if_version: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum TimelineCommand {
    /// Add an event to the timeline: describe what happened, don't explain it
    Add(Box<EventAddArgs>),
    /// List the timeline in time order
    List(TimelineListArgs),
    /// Change an event: re-time it, annotate it after the review, …
    Edit(Box<EventEditArgs>),
    /// Hide an event from the timeline view (it is kept, and still searchable)
    Hide(EventHideArgs),
    /// Import events from a Slack export, alert or paging payloads, deployments, Kubernetes
    /// events, CSV, JSON lines or a chat transcript (re-importing adds nothing twice)
    Import(Box<TimelineImportArgs>),
}

/// What an event adds besides its time, kind and description.
#[derive(Debug, Args)]
pub struct EventDetails {
    /// Who or what acted: a name, team:NAME or system:NAME (none clears)
    #[arg(long, value_name = "ACTOR|none", value_parser = actor_or_none)]
    pub actor: Option<Setting<debrief_core::Actor>>,
    /// For a milestone event: the key moment it sets (started, detected, acknowledged,
    /// mitigated, resolved; none clears)
    #[arg(long, value_name = "KEYMOMENT|none", value_parser = args::or_none::<KeyMoment>)]
    pub milestone: Option<Setting<KeyMoment>>,
    /// Whose account of the moment this is (none clears)
    #[arg(long, value_name = "NAME|none", value_parser = args::or_none::<Name>)]
    pub account_of: Option<Setting<Name>>,
    /// What they knew at the time
    #[arg(long)]
    pub knew: Option<String>,
    /// What they expected to happen
    #[arg(long)]
    pub expected: Option<String>,
    /// What they assumed
    #[arg(long)]
    pub assumed: Option<String>,
    /// As discussed in the review: did it help, hinder, or neither (helped, hindered, neutral;
    /// none clears)
    #[arg(long, value_name = "OUTCOME|none", value_parser = args::or_none::<Outcome>)]
    pub outcome: Option<Setting<Outcome>>,
    /// As discussed in the review: what could we do differently
    #[arg(long)]
    pub differently: Option<String>,
    /// Where the event came from (manual, slack, alertmanager, pagerduty, …)
    #[arg(long)]
    pub source: Option<Source>,
    /// The source's own id for the event, so a re-import does not add it twice (none clears)
    #[arg(long, value_name = "ID|none", value_parser = args::or_none::<Line>)]
    pub source_id: Option<Setting<Line>>,
    /// Evidence: URL, KIND:URL or "KIND URL" (repeat for several)
    #[arg(long = "link", value_name = "URL", value_parser = args::link)]
    pub links: Vec<Link>,
    /// Pin the event, so it stands out in the timeline
    #[arg(long)]
    pub pin: bool,
}

fn actor_or_none(s: &str) -> Result<Setting<debrief_core::Actor>, debrief_core::ParseError> {
    if s.trim().eq_ignore_ascii_case("none") {
        Ok(Setting::Clear)
    } else {
        debrief_core::Actor::parse(s).map(Setting::To)
    }
}

#[derive(Debug, Args)]
pub struct EventAddArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// When it happened: 2024-05-01, 2024-05-01 10:07 or 2024-05-01T10:07:12Z (with an optional
    /// offset or [Zone]); the precision is what you type
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub at: TimeArg,
    /// detection, alert, report, action, communication_in, communication_out, observation,
    /// decision, milestone, note (milestone if --milestone is given)
    #[arg(long, required_unless_present = "milestone")]
    pub kind: Option<EventKind>,
    /// What happened: describe, don't explain
    #[arg(long)]
    pub text: Text,
    #[command(flatten)]
    pub details: EventDetails,
}

#[derive(Debug, Args)]
pub struct TimelineListArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// Include hidden events
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct EventEditArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// The event's id (see `debrief timeline list`)
    pub id: i64,
    /// When it happened
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub at: Option<TimeArg>,
    /// The kind of event
    #[arg(long)]
    pub kind: Option<EventKind>,
    /// What happened: describe, don't explain
    #[arg(long)]
    pub text: Option<Text>,
    #[command(flatten)]
    pub details: EventDetails,
    /// Unpin the event
    #[arg(long, conflicts_with = "pin")]
    pub unpin: bool,
    /// Only apply the change if the event is still at this version
    #[arg(long, value_name = "N")]
    pub if_version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct EventHideArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// The event's id (see `debrief timeline list --all`)
    pub id: i64,
    /// Show the event again
    #[arg(long)]
    pub unhide: bool,
}

#[derive(Debug, Args)]
pub struct TimelineImportArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// slack, alertmanager, grafana, pagerduty, opsgenie, github (deployment_status), kubernetes,
    /// csv, jsonl or transcript
    #[arg(long, value_name = "FORMAT")]
    pub format: debrief_import::Format,
    /// The file to read, or - for standard input; for slack, the export's zip or the directory
    /// it unpacks to
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// slack: only this channel, by name or id (repeat for several) [default: all channels]
    #[arg(long = "channel", value_name = "CHANNEL")]
    pub channels: Vec<String>,
    /// Only events at or after this time
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub since: Option<TimeArg>,
    /// Only events at or before this time (a day or a minute includes all of it)
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub until: Option<TimeArg>,
    /// transcript: the date of the first line (or give --since); csv, jsonl: the date of rows
    /// that hold only a time of day, YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = args::date)]
    pub date: Option<Date>,
    /// csv, jsonl: which column (or JSON field) holds what, such as time=When,description=What
    /// (fields: time, date, description, actor, kind, source_id, milestone, link); columns not
    /// named are found by common names
    #[arg(long = "map", value_name = "FIELD=COLUMN,…", value_parser = debrief_import::FieldMapping::parse)]
    pub maps: Vec<debrief_import::FieldMapping>,
    /// slack: the workspace's address (https://acme.slack.com), so each event links to its message
    #[arg(long, value_name = "URL")]
    pub workspace_url: Option<Url>,
    /// grafana: when a legacy alert (which carries no time) was received [default: the file's
    /// modification time, or now for standard input]
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    pub received: Option<TimeArg>,
    /// Refuse inputs (or files inside a Slack export) larger than this: bytes, or with a K, M or G
    /// suffix [default: 256M]
    #[arg(long, value_name = "SIZE", value_parser = byte_size)]
    pub max_size: Option<u64>,
    /// Read the input and report what would be added, without writing anything
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// A size in bytes: `1048576`, `512K`, `300M`, `2G` (binary units; `MiB` and `MB` are read alike).
fn byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "{t:?} is not a size: expected bytes, or a number with K, M or G"
            ));
        }
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| {
            format!(
                "{t:?} is not a size: expected a positive number of bytes, or one with K, M or G"
            )
        })
}

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Add an action item: it needs an owner and a check-in date
    Add(ActionAddArgs),
    /// List action items across postmortems, by check-in date
    List(ActionListArgs),
    /// Change an action item, or report progress on it with --note
    Update(ActionUpdateArgs),
}

#[derive(Debug, Args)]
pub struct ActionAddArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// What will be done, specifically
    #[arg(long)]
    pub title: Title,
    /// Who owns it: a person or a team
    #[arg(long)]
    pub owner: Name,
    /// When measurable progress is reported, YYYY-MM-DD (not necessarily completion)
    #[arg(long, value_name = "DATE", value_parser = args::date)]
    pub check_in: Date,
    /// Which of the five questions it answers: detect, react, quick_fix, prevent, other_risks
    #[arg(long, default_value = "prevent")]
    pub category: Question,
    /// When it should be done, YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = args::date)]
    pub due: Option<Date>,
    /// high, medium or low
    #[arg(long, default_value = "medium")]
    pub priority: Priority,
    /// More detail
    #[arg(long)]
    pub description: Option<String>,
    /// Someone asked to take it
    #[arg(long)]
    pub volunteer: bool,
    /// Link to the ticket in your tracker
    #[arg(long, value_name = "URL")]
    pub tracker: Option<Url>,
    /// Estimated cost, to compare with the incident's cost
    #[arg(long)]
    pub cost: Option<Line>,
    /// How we will know it worked (the measurable criterion)
    #[arg(long, value_name = "CRITERION")]
    pub success: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActionListArgs {
    /// Only actions of this postmortem
    #[arg(long, value_name = "KEY")]
    pub postmortem: Option<Key>,
    /// Only actions of this owner
    #[arg(long)]
    pub owner: Option<Name>,
    /// Only actions in this status (open, in_progress, done, declined)
    #[arg(long)]
    pub status: Option<ActionStatusName>,
    /// Only unfinished actions whose check-in date is before DATE (default: today)
    #[arg(long, value_name = "DATE", num_args = 0..=1, default_missing_value = "today",
          value_parser = args::day)]
    pub overdue: Option<Day>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct ActionUpdateArgs {
    /// The action's id (see `debrief action list`)
    pub id: i64,
    #[arg(long)]
    pub title: Option<Title>,
    #[arg(long)]
    pub owner: Option<Name>,
    /// A new check-in date; with --note, it is agreed as part of the progress note
    #[arg(long, value_name = "DATE", value_parser = args::date)]
    pub check_in: Option<Date>,
    /// Due date (none clears)
    #[arg(long, value_name = "DATE|none", value_parser = args::date_or_none)]
    pub due: Option<Setting<Date>>,
    #[arg(long)]
    pub priority: Option<Priority>,
    /// Which of the five questions it answers
    #[arg(long)]
    pub category: Option<Question>,
    #[arg(long)]
    pub description: Option<String>,
    /// Link to the ticket in your tracker (none clears)
    #[arg(long, value_name = "URL|none", value_parser = args::or_none::<Url>)]
    pub tracker: Option<Setting<Url>>,
    /// Estimated cost (none clears)
    #[arg(long, value_name = "TEXT|none", value_parser = args::or_none::<Line>)]
    pub cost: Option<Setting<Line>>,
    /// How we will know it worked
    #[arg(long, value_name = "CRITERION")]
    pub success: Option<String>,
    /// open, in_progress, done, or declined (with --reason)
    #[arg(long)]
    pub status: Option<ActionStatusName>,
    /// Why the action is declined
    #[arg(long, requires = "status")]
    pub reason: Option<String>,
    /// Report progress: a dated note (with --check-in, the next check-in date)
    #[arg(long)]
    pub note: Option<Line>,
    /// Only apply the change if the action is still at this version
    #[arg(long, value_name = "N")]
    pub if_version: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum ParticipantCommand {
    /// Add someone who took part in the incident
    Add(ParticipantAddArgs),
    /// List the participants
    List(ParticipantListArgs),
    /// Change a participant
    Update(ParticipantUpdateArgs),
}

#[derive(Debug, Args)]
pub struct ParticipantAddArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    #[arg(long)]
    pub name: Name,
    /// incident_lead, responder, customer_support, communications, subject_expert, observer,
    /// stakeholder
    #[arg(long)]
    pub role: Role,
    /// Email, chat handle, …
    #[arg(long)]
    pub contact: Option<Line>,
    /// Invite them to the review (everyone but stakeholders is invited by default)
    #[arg(long, conflicts_with = "not_invited")]
    pub invited: bool,
    /// Do not invite them to the review
    #[arg(long)]
    pub not_invited: bool,
    /// They attended the review
    #[arg(long)]
    pub attended: bool,
    /// Paged at night, off hours, new to the team, …
    #[arg(long)]
    pub circumstances: Option<String>,
}

#[derive(Debug, Args)]
pub struct ParticipantListArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct ParticipantUpdateArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    /// The participant's id (see `debrief participant list`)
    pub id: i64,
    #[arg(long)]
    pub name: Option<Name>,
    #[arg(long)]
    pub role: Option<Role>,
    /// Email, chat handle, … (none clears)
    #[arg(long, value_name = "TEXT|none", value_parser = args::or_none::<Line>)]
    pub contact: Option<Setting<Line>>,
    /// Invite them to the review
    #[arg(long, conflicts_with = "not_invited")]
    pub invited: bool,
    /// Do not invite them to the review
    #[arg(long)]
    pub not_invited: bool,
    /// They attended the review
    #[arg(long, conflicts_with = "not_attended")]
    pub attended: bool,
    /// They did not attend the review
    #[arg(long)]
    pub not_attended: bool,
    /// Paged at night, off hours, … ("" clears)
    #[arg(long)]
    pub circumstances: Option<String>,
    /// Only apply the change if the participant is still at this version
    #[arg(long, value_name = "N")]
    pub if_version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words and "quoted phrases"; all must match
    pub query: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Debrief's Markdown postmortem (imports back losslessly)
    Markdown,
    /// The whole postmortem as JSON (imports back with `debrief import FILE.json`)
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The postmortem, such as PM-42
    pub key: Key,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Write to this file instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A Markdown postmortem (as `debrief export` writes it), or a .json document
    pub file: PathBuf,
    /// Ignore the key in the file and take the next free one
    #[arg(long)]
    pub new_key: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
