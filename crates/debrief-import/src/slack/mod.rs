//! Slack workspace exports: a zip, or the directory it unpacks to, with `channels.json`,
//! `users.json` and one folder per channel holding a file per day (`ops/2024-03-05.json`).
//!
//! The export is read one day file at a time and each message is handed to a [`SlackSink`] as soon
//! as it is made, so memory stays flat however large the export is. Day files outside the time
//! window are skipped by their name, before they are read.
//!
//! - User ids become names (the real name, else the display name, else the user name); an id not in
//!   `users.json` is kept as the name and counted in [`SlackSummary::unknown_users`].
//! - Slack markup becomes Markdown (see `mrkdwn.rs`).
//! - Joins, leaves, topic and purpose changes, pins and other housekeeping are skipped.
//! - A thread reply names its parent by the parent's source id: in [`SlackMessage::thread_parent`],
//!   in a link to the parent (with [`Options::workspace_url`]) or, without one, in a line at the end
//!   of its description.
//! - Shared files become links; an edited message keeps its final text and says when it was edited.
//! - The source id of a message is `CHANNEL_ID/TS`, unique in a workspace.

mod files;
pub(crate) mod mrkdwn;
mod raw;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Seek};
use std::path::Path;

use debrief_core::{Actor, ActorKind, EventFields, EventKind, Link, LinkKind, Source};
use jiff::{Timestamp, ToSpan};
use serde_json::Value;

use crate::common::{Options, link, name, one_line, source, text};
use crate::json::syntax_error;
use crate::report::{ErrorKind, ImportError, ImportReport, Location, Problems};
pub use files::ReadSeek;
use files::{Files, LIST_FILES};
use mrkdwn::{Names, to_markdown};
use raw::{DayFile, Element, Loose, RawMessage};

/// One imported message: its event and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    pub channel_id: String,
    pub channel_name: String,
    /// Slack's `ts` of the message (its id within the channel).
    pub ts: String,
    /// For a thread reply: the source id of the thread's first message.
    pub thread_parent: Option<String>,
    pub event: EventFields,
}

/// Where imported messages go.
pub trait SlackSink {
    fn message(&mut self, message: SlackMessage);

    /// Called after each day file, for a progress bar: files done, files to read in all.
    fn progress(&mut self, _files_done: usize, _files_total: usize) {}
}

impl<F: FnMut(SlackMessage)> SlackSink for F {
    fn message(&mut self, message: SlackMessage) {
        self(message);
    }
}

/// What a streamed Slack import did besides handing over messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlackSummary {
    /// Messages handed to the sink.
    pub messages: u64,
    /// Joins, leaves, topic changes and other housekeeping skipped.
    pub skipped_noise: u64,
    /// Messages outside the time window (in day files that were read).
    pub outside_window: u64,
    /// Messages with nothing to show (no text, file or attachment).
    pub empty: u64,
    pub files_read: usize,
    /// Day files left unread because their date is outside the window.
    pub files_skipped: usize,
    /// User ids that are not in `users.json`, with how often each was seen.
    pub unknown_users: BTreeMap<String, u64>,
    pub rejected: Vec<crate::Rejected>,
    pub rejected_unlisted: u64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
struct Channel {
    id: String,
    name: String,
    folder: String,
}

/// An opened Slack export, ready to import.
#[derive(Debug)]
pub struct SlackExport {
    files: Files,
    label: String,
}

impl SlackExport {
    /// Opens an export: a directory (the unpacked export) or a zip file.
    pub fn open(path: &Path) -> Result<SlackExport, ImportError> {
        let label = path.display().to_string();
        let meta = fs::metadata(path).map_err(|e| ImportError::io(Some(&label), &e))?;
        if meta.is_dir() {
            let files = Files::dir(path, &label)?;
            return Ok(SlackExport { files, label });
        }
        let mut file = fs::File::open(path).map_err(|e| ImportError::io(Some(&label), &e))?;
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut file, &mut magic).map_err(|e| ImportError::io(Some(&label), &e))?;
        if n < 4 || &magic[..2] != b"PK" {
            let hint = if magic[..n].iter().any(|b| matches!(b, b'[' | b'{')) {
                "this is a single JSON file; a Slack export is the zip Slack produces, or the directory it unpacks to"
            } else {
                "expected the zip Slack produces, or the directory it unpacks to"
            };
            return Err(ImportError::new(
                ErrorKind::Format,
                Location::file(Some(&label)),
                format!("not a Slack export: {hint}"),
            ));
        }
        file.rewind()
            .map_err(|e| ImportError::io(Some(&label), &e))?;
        SlackExport::from_zip(Box::new(std::io::BufReader::new(file)), &label)
    }

    /// Opens an export zip from any reader (the bytes of an upload: `Cursor<Vec<u8>>`).
    pub fn from_zip(reader: Box<dyn ReadSeek>, label: &str) -> Result<SlackExport, ImportError> {
        let files = Files::zip(reader, label)?;
        Ok(SlackExport {
            files,
            label: label.to_owned(),
        })
    }

    /// The channels of the export: (id, name) pairs.
    pub fn channels(&mut self, opts: &Options) -> Result<Vec<(String, String)>, ImportError> {
        let mut problems = Problems::default();
        let channels = self.read_channels(opts, &mut problems)?;
        Ok(channels.into_iter().map(|c| (c.id, c.name)).collect())
    }

    /// Imports the export, handing each message to `sink` as it is read.
    pub fn import(
        &mut self,
        opts: &Options,
        sink: &mut impl SlackSink,
    ) -> Result<SlackSummary, ImportError> {
        let mut problems = Problems::default();
        let channels = self.read_channels(opts, &mut problems)?;
        let users = self.read_users(opts, &mut problems)?;
        let selected = select(&channels, &opts.channels, &self.label)?;
        let channel_names: HashMap<String, String> = channels
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect();

        // Which day files to read: those whose date can hold a message in the window. A file is
        // named by a date that may be in the workspace's zone, so allow a day either side.
        let first_day = opts.since.and_then(|s| {
            s.to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .checked_sub(1.day())
                .ok()
        });
        let last_day = opts.until.and_then(|u| {
            u.to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .checked_add(1.day())
                .ok()
        });
        let folders = self.files.folders(&self.label)?;
        let mut plan: Vec<(Channel, Vec<files::DayFile>)> = Vec::new();
        let mut summary = SlackSummary::default();
        let mut other_files = 0;
        for channel in selected {
            if !folders.contains(&channel.folder) {
                problems.note(format!(
                    "channel #{} has no folder in the export (no messages)",
                    channel.name
                ));
                continue;
            }
            let (days, other) = self.files.day_files(&channel.folder, &self.label)?;
            other_files += other;
            let total = days.len();
            let days: Vec<_> = days
                .into_iter()
                .filter(|d| {
                    first_day.is_none_or(|f| d.date >= f) && last_day.is_none_or(|l| d.date <= l)
                })
                .collect();
            summary.files_skipped += total - days.len();
            plan.push((channel, days));
        }
        if other_files > 0 {
            problems.note(format!(
                "{other_files} file(s) in channel folders are not day files (YYYY-MM-DD.json) and were not read"
            ));
        }
        let files_total: usize = plan.iter().map(|(_, d)| d.len()).sum();
        let user_names: HashMap<String, String> = users
            .iter()
            .map(|(id, u)| (id.clone(), u.display.clone()))
            .collect();
        let mut reader = MessageReader {
            users: &users,
            user_names: &user_names,
            channel_names: &channel_names,
            source: source("slack"),
            opts,
            summary: &mut summary,
            problems: &mut problems,
        };
        let mut done = 0;
        for (channel, days) in &plan {
            for day in days {
                let shown = format!("{}/{}", self.label, day.path);
                let Some(bytes) = self.files.read(&day.path, opts.max_bytes, &self.label)? else {
                    continue;
                };
                let parsed: DayFile = match serde_json::from_slice(&bytes) {
                    Ok(d) => d,
                    Err(e) if e.classify() == serde_json::error::Category::Data => {
                        return Err(ImportError::new(
                            ErrorKind::Format,
                            Location::file(Some(&shown)),
                            "not a Slack day file: expected a JSON array of messages",
                        ));
                    }
                    Err(e) => return Err(syntax_error(&e, Some(&shown))),
                };
                drop(bytes);
                reader.summary.files_read += 1;
                for (i, element) in parsed.0.into_iter().enumerate() {
                    let at = || Location::file(Some(&shown)).with_field(format!("[{i}]"));
                    match element {
                        Element::NotObject(what) => reader
                            .problems
                            .reject(at(), format!("expected a message object, found {what}")),
                        Element::Message(m) => {
                            if let Some(message) = reader.message(&m, channel, &at) {
                                reader.summary.messages += 1;
                                sink.message(message);
                            }
                        }
                    }
                }
                done += 1;
                sink.progress(done, files_total);
            }
        }
        if !summary.unknown_users.is_empty() {
            let total: u64 = summary.unknown_users.values().sum();
            let listed: Vec<&str> = summary
                .unknown_users
                .keys()
                .take(20)
                .map(String::as_str)
                .collect();
            problems.note(format!(
                "{} user id(s) are not in users.json ({total} mention(s) or message(s)); the ids were kept as names: {}{}",
                summary.unknown_users.len(),
                listed.join(", "),
                if summary.unknown_users.len() > 20 { ", …" } else { "" }
            ));
        }
        if summary.skipped_noise > 0 {
            problems.note(format!(
                "{} join/leave/topic and other housekeeping messages were skipped",
                summary.skipped_noise
            ));
        }
        if summary.outside_window > 0 || summary.files_skipped > 0 {
            problems.note(format!(
                "{} messages outside the time window were left out (and {} day files were not read)",
                summary.outside_window, summary.files_skipped
            ));
        }
        if summary.empty > 0 {
            problems.note(format!(
                "{} messages had no text, file or attachment and were left out",
                summary.empty
            ));
        }
        summary.rejected = problems.rejected;
        summary.rejected_unlisted = problems.rejected_unlisted;
        summary.notes = problems.notes;
        Ok(summary)
    }

    /// Imports the export into memory, ordered by time. For large exports prefer
    /// [`SlackExport::import`], which does not hold every event at once.
    pub fn collect(&mut self, opts: &Options) -> Result<ImportReport, ImportError> {
        let mut events = Vec::new();
        let summary = self.import(opts, &mut |m: SlackMessage| events.push(m.event))?;
        events.sort_by(|a, b| a.happened_at.cmp(&b.happened_at));
        Ok(ImportReport {
            events,
            rejected: summary.rejected,
            rejected_unlisted: summary.rejected_unlisted,
            notes: summary.notes,
        })
    }

    fn read_json(&mut self, rel: &str, opts: &Options) -> Result<Option<Value>, ImportError> {
        let shown = format!("{}/{rel}", self.label);
        let Some(bytes) = self.files.read(rel, opts.max_bytes, &self.label)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| syntax_error(&e, Some(&shown)))
    }

    fn read_channels(
        &mut self,
        opts: &Options,
        problems: &mut Problems,
    ) -> Result<Vec<Channel>, ImportError> {
        let mut out: Vec<Channel> = Vec::new();
        for list in LIST_FILES {
            let Some(value) = self.read_json(list, opts)? else {
                continue;
            };
            let shown = format!("{}/{list}", self.label);
            let Value::Array(items) = value else {
                return Err(ImportError::new(
                    ErrorKind::Format,
                    Location::file(Some(&shown)),
                    "not a Slack export: expected a JSON array of conversations",
                ));
            };
            for (i, item) in items.iter().enumerate() {
                let id = item.get("id").and_then(Value::as_str).map(str::trim);
                let name = item.get("name").and_then(Value::as_str).map(str::trim);
                let Some(id) = id.filter(|s| !s.is_empty()) else {
                    problems.reject(
                        Location::file(Some(&shown)).with_field(format!("[{i}].id")),
                        "missing: expected the conversation's id; its messages are not imported",
                    );
                    continue;
                };
                // Direct messages have no name: their folder is their id.
                let (name, folder) = match name.filter(|s| !s.is_empty()) {
                    Some(n) if list != "dms.json" => (n.to_owned(), n.to_owned()),
                    _ => (id.to_owned(), id.to_owned()),
                };
                if out.iter().any(|c| c.id == id) {
                    continue;
                }
                out.push(Channel {
                    id: id.to_owned(),
                    name,
                    folder,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read_users(
        &mut self,
        opts: &Options,
        problems: &mut Problems,
    ) -> Result<HashMap<String, User>, ImportError> {
        let mut users = HashMap::new();
        let Some(value) = self.read_json("users.json", opts)? else {
            problems.note("the export has no users.json: user ids are kept as they are");
            return Ok(users);
        };
        let Value::Array(items) = value else {
            return Err(ImportError::new(
                ErrorKind::Format,
                Location::file(Some(&format!("{}/users.json", self.label))),
                "expected a JSON array of users",
            ));
        };
        for item in &items {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                continue;
            };
            let profile = item.get("profile");
            fn pick<'v>(v: Option<&'v Value>, key: &str) -> Option<&'v str> {
                v.and_then(|v| v.get(key))
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            }
            let shown = pick(Some(item), "real_name")
                .or_else(|| pick(profile, "real_name"))
                .or_else(|| pick(profile, "display_name"))
                .or_else(|| pick(Some(item), "name"))
                .unwrap_or(id);
            let is_bot =
                item.get("is_bot").and_then(Value::as_bool).unwrap_or(false) || id == "USLACKBOT";
            let display = one_line(shown, 120);
            let actor = name(&display).map(|n| Actor {
                kind: if is_bot {
                    ActorKind::System
                } else {
                    ActorKind::Person
                },
                name: n,
            });
            users.insert(id.to_owned(), User { display, actor });
        }
        Ok(users)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[derive(Debug)]
struct User {
    display: String,
    actor: Option<Actor>,
}

/// The channels asked for (all when none is named). A name that matches nothing is an error that
/// lists the channels there are.
fn select(
    channels: &[Channel],
    wanted: &[String],
    label: &str,
) -> Result<Vec<Channel>, ImportError> {
    if wanted.is_empty() {
        return Ok(channels.to_vec());
    }
    let mut out: Vec<Channel> = Vec::new();
    for w in wanted {
        let w = w.trim().trim_start_matches('#');
        let found = channels
            .iter()
            .find(|c| c.id == w)
            .or_else(|| channels.iter().find(|c| c.name.eq_ignore_ascii_case(w)));
        match found {
            Some(c) => {
                if !out.iter().any(|o| o.id == c.id) {
                    out.push(c.clone());
                }
            }
            None => {
                let names: Vec<&str> = channels.iter().take(50).map(|c| c.name.as_str()).collect();
                return Err(ImportError::new(
                    ErrorKind::Options,
                    Location::file(Some(label)),
                    format!(
                        "no channel {w:?} in this export; its channels are: {}{}",
                        names.join(", "),
                        if channels.len() > 50 { ", …" } else { "" }
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Message subtypes that are housekeeping, not part of what happened.
const NOISE: &[&str] = &[
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "channel_convert_to_private",
    "channel_convert_to_public",
    "group_join",
    "group_leave",
    "group_topic",
    "group_purpose",
    "group_name",
    "group_archive",
    "group_unarchive",
    "bot_add",
    "bot_remove",
    "bot_enable",
    "bot_disable",
    "pinned_item",
    "unpinned_item",
    "reminder_add",
    "reminder_delete",
    "tombstone",
    "message_deleted",
    "joiner_notification",
    "joiner_notification_for_inviter",
    "slackbot_response",
    "sh_room_created",
    "huddle_thread",
    "app_conversation_join",
];

/// Slack's `ts` (`"1736478514.897649"`, epoch seconds with a fraction) as an instant.
pub(crate) fn parse_ts(ts: &str) -> Option<Timestamp> {
    let (secs, frac) = match ts.split_once('.') {
        Some((s, f)) => (s, f),
        None => (ts, ""),
    };
    if secs.is_empty()
        || secs.len() > 12
        || frac.len() > 9
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let s: i64 = secs.parse().ok()?;
    let mut nanos: i32 = 0;
    if !frac.is_empty() {
        let n: i32 = frac.parse().ok()?;
        nanos = n * 10_i32.pow(9 - frac.len() as u32);
    }
    Timestamp::new(s, nanos).ok()
}

struct MessageReader<'a> {
    users: &'a HashMap<String, User>,
    user_names: &'a HashMap<String, String>,
    channel_names: &'a HashMap<String, String>,
    source: Source,
    opts: &'a Options,
    summary: &'a mut SlackSummary,
    problems: &'a mut Problems,
}

impl MessageReader<'_> {
    fn message(
        &mut self,
        m: &RawMessage,
        channel: &Channel,
        at: &dyn Fn() -> Location,
    ) -> Option<SlackMessage> {
        if let Some(kind) = m.kind.as_str()
            && kind != "message"
        {
            self.summary.skipped_noise += 1;
            return None;
        }
        let subtype = m.subtype.as_str().unwrap_or("");
        if NOISE.contains(&subtype) || matches!(m.hidden, Some(Value::Bool(true))) {
            self.summary.skipped_noise += 1;
            return None;
        }
        let ts = match &m.ts {
            Loose::Str(s) => s.trim(),
            Loose::Missing => {
                self.problems
                    .reject(at().with_field_suffix(".ts"), "missing: expected the message's ts (epoch seconds as a string, such as \"1736478514.897649\")");
                return None;
            }
            Loose::Other(what) => {
                self.problems.reject(
                    at().with_field_suffix(".ts"),
                    format!("expected the message's ts as a string of epoch seconds (such as \"1736478514.897649\"), found {what}"),
                );
                return None;
            }
        };
        let Some(when) = parse_ts(ts) else {
            self.problems.reject(
                at().with_field_suffix(".ts"),
                format!("{:?} is not a Slack ts: expected epoch seconds with a fraction, such as \"1736478514.897649\"", crate::common::shorten(ts, 40)),
            );
            return None;
        };
        if !self.opts.in_window(when) {
            self.summary.outside_window += 1;
            return None;
        }
        let source_id = format!("{}/{ts}", channel.id);
        let thread_parent = m
            .thread_ts
            .text()
            .map(str::trim)
            .filter(|t| *t != ts)
            .map(|t| format!("{}/{t}", channel.id));

        let mut names = Names {
            users: self.user_names,
            channels: self.channel_names,
            unknown_users: &mut self.summary.unknown_users,
        };
        let mut body = m
            .text
            .text()
            .map(|t| to_markdown(t, &mut names))
            .unwrap_or_default();
        // A bot often says everything in attachments.
        if body.trim().is_empty()
            && let Some(Value::Array(attachments)) = &m.attachments
        {
            let parts: Vec<String> = attachments
                .iter()
                .filter_map(attachment_text)
                .map(|t| to_markdown(&t, &mut names))
                .collect();
            body = parts.join("\n\n");
        }
        let mut links: Vec<Link> = Vec::new();
        let ws = self
            .opts
            .workspace_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned());
        if let Some(ws) = &ws {
            let mut url = format!("{ws}/archives/{}/p{}", channel.id, ts.replace('.', ""));
            if let Some(parent) = m.thread_ts.text().filter(|t| t.trim() != ts) {
                url.push_str(&format!("?thread_ts={}&cid={}", parent.trim(), channel.id));
            }
            links.extend(link(LinkKind::Chat, &url, Some("Slack message")));
        }
        let mut shared = Vec::new();
        let file_values = match &m.files {
            Some(Value::Array(files)) => files.iter().collect(),
            _ => Vec::new(),
        };
        for f in file_values.into_iter().chain(m.file.iter()) {
            let pick = |k: &str| {
                f.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            };
            let title = pick("title").or_else(|| pick("name")).unwrap_or("a file");
            if let Some(l) = pick("permalink")
                .or_else(|| pick("url_private"))
                .and_then(|u| link(LinkKind::Document, u, Some(title)))
            {
                links.push(l);
            }
            shared.push(one_line(title, 200));
        }
        if body.trim().is_empty() && !shared.is_empty() {
            body = format!("Shared {}", shared.join(", "));
        }
        if body.trim().is_empty() {
            self.summary.empty += 1;
            return None;
        }
        if let Some(parent) = &thread_parent {
            match &ws {
                Some(ws) => {
                    let parent_ts = parent.rsplit('/').next().unwrap_or_default();
                    let url = format!(
                        "{ws}/archives/{}/p{}",
                        channel.id,
                        parent_ts.replace('.', "")
                    );
                    links.extend(link(
                        LinkKind::Chat,
                        &url,
                        Some(&format!("Thread parent (slack {parent})")),
                    ));
                }
                None => body.push_str(&format!("\n\n_Reply in thread slack {parent}_")),
            }
        }
        let actor = self.actor(m);
        if let Some(Value::Object(edited)) = &m.edited {
            let when = edited
                .get("ts")
                .and_then(Value::as_str)
                .and_then(parse_ts)
                .map(|t| format!(" {}", self.opts.moment(t).display_local()))
                .unwrap_or_default();
            let by = edited
                .get("user")
                .and_then(Value::as_str)
                .filter(|u| Some(*u) != m.user.as_str())
                .map(|u| {
                    let who = self.user_names.get(u).map_or(u, String::as_str);
                    format!(" by {who}")
                })
                .unwrap_or_default();
            body.push_str(&format!("\n\n_(edited{when}{by})_"));
        }
        let Some(description) = text(&body) else {
            self.summary.empty += 1;
            return None;
        };
        let mut event = EventFields::new(self.opts.moment(when), EventKind::Note, description);
        event.actor = actor;
        event.source = self.source.clone();
        event.links = links;
        event.source_id = Some(source_id);
        if let Err(e) = event.validate() {
            self.problems.reject(at(), e.to_string());
            return None;
        }
        Some(SlackMessage {
            channel_id: channel.id.clone(),
            channel_name: channel.name.clone(),
            ts: ts.to_owned(),
            thread_parent,
            event,
        })
    }

    /// Who wrote the message: a person from users.json, or the bot that posted it.
    fn actor(&mut self, m: &RawMessage) -> Option<Actor> {
        let bot_post = m.subtype.as_str() == Some("bot_message")
            || (m.user.text().is_none() && m.bot_id.text().is_some());
        let commenter = m
            .comment
            .as_ref()
            .and_then(|c| c.get("user"))
            .and_then(Value::as_str);
        if !bot_post && let Some(uid) = m.user.text().or(commenter) {
            let uid = uid.trim();
            if let Some(user) = self.users.get(uid) {
                return user.actor.clone();
            }
            *self
                .summary
                .unknown_users
                .entry(uid.to_owned())
                .or_insert(0) += 1;
            return name(uid).map(|n| Actor {
                kind: ActorKind::Person,
                name: n,
            });
        }
        let profile_name = m
            .bot_profile
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty());
        let bot = m
            .username
            .text()
            .or(profile_name)
            .or_else(|| {
                m.user
                    .text()
                    .and_then(|u| self.user_names.get(u).map(String::as_str))
            })
            .or_else(|| m.bot_id.text())?;
        name(bot).map(|n| Actor {
            kind: ActorKind::System,
            name: n,
        })
    }
}

/// The text of a message attachment: its pretext, title and text, or else its fallback.
fn attachment_text(a: &Value) -> Option<String> {
    let pick = |k: &str| {
        a.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let parts: Vec<&str> = ["pretext", "title", "text"]
        .iter()
        .filter_map(|k| pick(k))
        .collect();
    if parts.is_empty() {
        pick("fallback").map(str::to_owned)
    } else {
        Some(parts.join("\n"))
    }
}

trait FieldSuffix {
    fn with_field_suffix(self, suffix: &str) -> Location;
}

impl FieldSuffix for Location {
    fn with_field_suffix(self, suffix: &str) -> Location {
        let field = format!("{}{suffix}", self.field.clone().unwrap_or_default());
        self.with_field(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_ts() {
        assert_eq!(
            parse_ts("1736478514.897649").map(|t| t.to_string()),
            Some("2025-01-10T03:08:34.897649Z".to_owned())
        );
        assert_eq!(
            parse_ts("1736478514").map(|t| t.as_second()),
            Some(1_736_478_514)
        );
        assert!(parse_ts("").is_none());
        assert!(parse_ts("-1.0").is_none());
        assert!(parse_ts("1.2.3").is_none());
        assert!(parse_ts("999999999999.0").is_none());
    }
}
