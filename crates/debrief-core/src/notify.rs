//! Where notifications go and who receives which: the channels admins configure (email over SMTP,
//! Slack-compatible incoming webhooks, signed JSON webhooks), the topics a user chooses, and which
//! channel gets which notification.
//!
//! A channel carries notifications of the topics it subscribes to. An email channel is the mail
//! server: it sends each person the notifications meant for them (by the address of their account,
//! or their participant contact), as their preferences allow, and — when it lists team addresses —
//! a team's copy too. A Slack or webhook channel is a team's room: it receives the notifications
//! about the actions of the owners it lists (every owner when it lists none) and the team's weekly
//! digest.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::followup::ReminderKind;
use crate::postmortem::simple_enum;
use crate::text::{Name, Url};
use crate::user::Email;

simple_enum!(
    /// What a notification is about, as users and channels choose them.
    Topic, "notification topic" {
        Reminders => "reminders",
        Escalations => "escalations",
        Reviews => "reviews",
        Digest => "digest",
    }
);

impl Topic {
    /// The topic of a reminder: reminders before and after a check-in go to the owner
    /// (`reminders`), the lead's escalation is `escalations`, an unscheduled review `reviews`.
    pub fn of(kind: ReminderKind) -> Topic {
        match kind {
            ReminderKind::BeforeCheckIn | ReminderKind::CheckInPassed => Topic::Reminders,
            ReminderKind::Escalation => Topic::Escalations,
            ReminderKind::ReviewNotScheduled => Topic::Reviews,
        }
    }

    /// One line for a settings page.
    pub fn describe(self) -> &'static str {
        match self {
            Topic::Reminders => "before and after the check-in date of an action I own",
            Topic::Escalations => {
                "when an action of a postmortem I lead passes its check-in date without progress"
            }
            Topic::Reviews => "when a postmortem I lead has no review meeting a week after it",
            Topic::Digest => "a weekly digest: actions due, overdue, done and declined",
        }
    }
}

/// A set of topics, written `reminders,escalations` (or `all`, or `none`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Topics(pub BTreeSet<Topic>);

impl Topics {
    pub fn all() -> Topics {
        Topics(Topic::ALL.iter().copied().collect())
    }

    pub fn none() -> Topics {
        Topics(BTreeSet::new())
    }

    pub fn contains(&self, topic: Topic) -> bool {
        self.0.contains(&topic)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Topic> + '_ {
        self.0.iter().copied()
    }
}

impl Default for Topics {
    /// Everyone receives every topic until they choose otherwise.
    fn default() -> Topics {
        Topics::all()
    }
}

impl std::fmt::Display for Topics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(Topic::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl std::str::FromStr for Topics {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Topics, ParseError> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "all" => return Ok(Topics::all()),
            "none" | "" => return Ok(Topics::none()),
            _ => {}
        }
        s.split(',')
            .map(|part| part.parse::<Topic>().map_err(|e| e.within("topics")))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Topics)
    }
}

/// What a user has chosen to receive. Stored with the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// The topics they receive. Everything until they choose.
    #[serde(default)]
    pub topics: Topics,
}

simple_enum!(
    /// How Debrief talks to the SMTP server.
    SmtpSecurity, "SMTP security" {
        StartTls => "starttls",
        Tls => "tls",
        Plain => "none",
    }
);

impl SmtpSecurity {
    /// The usual port: 587 for STARTTLS, 465 for TLS, 25 for a plain relay.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::Plain => 25,
        }
    }
}

/// A mail server to send through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Log in with these; both or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The sender: `debrief@example.com` or `Debrief <debrief@example.com>`.
    pub from: String,
    /// A team's addresses (a mailing list): they get the team's copy of each notification this
    /// channel carries, and its weekly digest. Empty: personal email only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Email>,
}

/// Where a channel delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelTarget {
    /// Email over SMTP.
    Email(SmtpSettings),
    /// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, …): a JSON `text`.
    Slack { url: Url },
    /// Any HTTP endpoint: a JSON body signed with HMAC-SHA256 of the shared secret.
    Webhook { url: Url, secret: String },
}

simple_enum!(
    /// The kind of a channel.
    ChannelKind, "channel kind" {
        Email => "email",
        Slack => "slack",
        Webhook => "webhook",
    }
);

impl ChannelTarget {
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelTarget::Email(_) => ChannelKind::Email,
            ChannelTarget::Slack { .. } => ChannelKind::Slack,
            ChannelTarget::Webhook { .. } => ChannelKind::Webhook,
        }
    }

    /// The same target with its secrets (SMTP password, webhook secret, a Slack URL's token
    /// path) replaced, for showing to admins.
    pub fn redacted(&self) -> ChannelTarget {
        match self {
            ChannelTarget::Email(smtp) => ChannelTarget::Email(SmtpSettings {
                password: smtp.password.as_ref().map(|_| REDACTED.to_owned()),
                ..smtp.clone()
            }),
            ChannelTarget::Slack { url } => ChannelTarget::Slack {
                url: redact_url(url),
            },
            ChannelTarget::Webhook { url, .. } => ChannelTarget::Webhook {
                url: url.clone(),
                secret: REDACTED.to_owned(),
            },
        }
    }

    /// Where it goes, in a few words, without secrets.
    pub fn describe(&self) -> String {
        match self {
            ChannelTarget::Email(smtp) => {
                let mut s = format!(
                    "email via {}:{} ({}) from {}",
                    smtp.host, smtp.port, smtp.security, smtp.from
                );
                if !smtp.to.is_empty() {
                    let to: Vec<&str> = smtp.to.iter().map(Email::as_str).collect();
                    s.push_str(&format!(", team copy to {}", to.join(", ")));
                }
                s
            }
            ChannelTarget::Slack { url } => format!("Slack webhook {}", redact_url(url)),
            ChannelTarget::Webhook { url, .. } => format!("signed webhook {url}"),
        }
    }
}

/// What a secret reads as when shown.
pub const REDACTED: &str = "********";

/// A Slack webhook URL is its own secret: keep the host and hide the path.
fn redact_url(url: &Url) -> Url {
    let s = url.as_str();
    let after_scheme = s.find("://").map_or(0, |i| i + 3);
    let host_end = s[after_scheme..]
        .find('/')
        .map_or(s.len(), |i| after_scheme + i);
    if host_end == s.len() {
        return url.clone();
    }
    format!("{}/{REDACTED}", &s[..host_end])
        .parse()
        .unwrap_or_else(|_| url.clone())
}

/// The shortest webhook secret accepted.
pub const MIN_SECRET_CHARS: usize = 16;

/// A channel as admins configure it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelFields {
    /// A short unique name: `platform-slack`, `mail`.
    pub name: Name,
    #[serde(flatten)]
    pub target: ChannelTarget,
    /// The topics it carries.
    #[serde(default)]
    pub topics: Topics,
    /// The team: the action owners whose notifications and digest it receives (names as written
    /// on actions, compared without regard to case). Empty: every owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Name>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl ChannelFields {
    /// Checks everything a send would trip over later: the URL, the server, the sender, the
    /// secret. Each error names its field.
    pub fn validate(&self) -> Result<(), ParseError> {
        match &self.target {
            ChannelTarget::Email(smtp) => check_smtp(smtp),
            // A `Url` is already an absolute http(s) URL.
            ChannelTarget::Slack { .. } => Ok(()),
            ChannelTarget::Webhook { secret, .. } => {
                let n = secret.chars().count();
                if n < MIN_SECRET_CHARS {
                    return Err(ParseError::new(
                        "secret",
                        format!(
                            "must be at least {MIN_SECRET_CHARS} characters (got {n}): the receiver checks each request's HMAC with it"
                        ),
                    ));
                }
                if secret.chars().any(char::is_control) {
                    return Err(ParseError::new(
                        "secret",
                        "must not contain control characters",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Whether the channel takes notifications about actions owned by `owner`.
    pub fn serves_owner(&self, owner: &str) -> bool {
        self.owners.is_empty()
            || self
                .owners
                .iter()
                .any(|o| o.as_str().eq_ignore_ascii_case(owner.trim()))
    }
}

fn check_smtp(smtp: &SmtpSettings) -> Result<(), ParseError> {
    let host = smtp.host.trim();
    if host.is_empty() {
        return Err(ParseError::new(
            "host",
            "the SMTP server's host name is missing",
        ));
    }
    if host.len() > 253
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/@:?#".contains(c))
            && !(host.starts_with('[') && host.ends_with(']'))
    {
        return Err(ParseError::new(
            "host",
            format!("{host:?} is not a host name or address (no scheme, port, path or spaces)"),
        ));
    }
    if smtp.port == 0 {
        return Err(ParseError::new("port", "must be 1 to 65535"));
    }
    parse_mailbox(&smtp.from).map_err(|e| e.within("from"))?;
    match (&smtp.username, &smtp.password) {
        (Some(_), None) => {
            return Err(ParseError::new(
                "password",
                "a username needs a password (or give neither)",
            ));
        }
        (None, Some(_)) => {
            return Err(ParseError::new(
                "username",
                "a password needs a username (or give neither)",
            ));
        }
        (Some(user), Some(_)) if user.trim().is_empty() || user.chars().any(char::is_control) => {
            return Err(ParseError::new(
                "username",
                "must not be empty or contain control characters",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// A sender or recipient written `someone@example.com` or `Name <someone@example.com>`: the
/// display name (if any) and the address.
pub fn parse_mailbox(s: &str) -> Result<(Option<String>, Email), ParseError> {
    let s = s.trim();
    if let Some(open) = s.rfind('<') {
        let Some(inner) = s[open + 1..].strip_suffix('>') else {
            return Err(ParseError::new(
                "",
                format!("{s:?}: expected Name <address@example.com>"),
            ));
        };
        let name = s[..open].trim().trim_matches('"').trim();
        if name.chars().any(|c| c.is_control() || c == '"') {
            return Err(ParseError::new(
                "",
                format!("{s:?}: the name must not contain quotes or control characters"),
            ));
        }
        let email: Email = inner.parse()?;
        return Ok(((!name.is_empty()).then(|| name.to_owned()), email));
    }
    Ok((None, s.parse()?))
}

/// A channel as it arrives from a form or a JSON body: flat, every field by name, so an error
/// names the field at fault (`url`, `secret`, `to[1]`). [`ChannelInput::into_fields`] checks that
/// the fields the kind needs are there and that no other kind's fields were given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub name: Option<Name>,
    pub kind: Option<ChannelKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<Topics>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SmtpSecurity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&ChannelFields> for ChannelInput {
    fn from(f: &ChannelFields) -> ChannelInput {
        let mut input = ChannelInput {
            name: Some(f.name.clone()),
            kind: Some(f.target.kind()),
            topics: Some(f.topics.clone()),
            owners: f.owners.clone(),
            enabled: Some(f.enabled),
            ..ChannelInput::default()
        };
        match &f.target {
            ChannelTarget::Email(smtp) => {
                input.host = Some(smtp.host.clone());
                input.port = Some(smtp.port);
                input.security = Some(smtp.security);
                input.username.clone_from(&smtp.username);
                input.password.clone_from(&smtp.password);
                input.from = Some(smtp.from.clone());
                input.to.clone_from(&smtp.to);
            }
            ChannelTarget::Slack { url } => input.url = Some(url.clone()),
            ChannelTarget::Webhook { url, secret } => {
                input.url = Some(url.clone());
                input.secret = Some(secret.clone());
            }
        }
        input
    }
}

impl ChannelInput {
    /// The channel, checked: what its kind needs is given, nothing of another kind is, and
    /// [`ChannelFields::validate`] passes. Errors name the field.
    pub fn into_fields(self) -> Result<ChannelFields, ParseError> {
        let fields = self.build()?;
        fields.validate()?;
        Ok(fields)
    }

    /// The channel with what its kind needs and nothing of another kind, not yet validated as
    /// a whole (an edit first puts back the secrets it echoed as `********`).
    pub fn build(self) -> Result<ChannelFields, ParseError> {
        let required = |field: &str| ParseError::new(field, "is required");
        let name = self.name.ok_or_else(|| required("name"))?;
        let kind = self
            .kind
            .ok_or_else(|| ParseError::new("kind", "is required: email, slack or webhook"))?;
        let mut unused: Vec<&str> = Vec::new();
        let mut not_for = |given: bool, field: &'static str| {
            if given {
                unused.push(field);
            }
        };
        let email_fields = [
            (self.host.is_some(), "host"),
            (self.port.is_some(), "port"),
            (self.security.is_some(), "security"),
            (self.username.is_some(), "username"),
            (self.password.is_some(), "password"),
            (self.from.is_some(), "from"),
            (!self.to.is_empty(), "to"),
        ];
        let target = match kind {
            ChannelKind::Email => {
                not_for(self.url.is_some(), "url");
                not_for(self.secret.is_some(), "secret");
                let security = self.security.unwrap_or(SmtpSecurity::StartTls);
                ChannelTarget::Email(SmtpSettings {
                    host: self.host.ok_or_else(|| required("host"))?,
                    port: self.port.unwrap_or_else(|| security.default_port()),
                    security,
                    username: self.username,
                    password: self.password,
                    from: self.from.ok_or_else(|| required("from"))?,
                    to: self.to,
                })
            }
            ChannelKind::Slack => {
                for (given, field) in email_fields {
                    not_for(given, field);
                }
                not_for(self.secret.is_some(), "secret");
                ChannelTarget::Slack {
                    url: self.url.ok_or_else(|| required("url"))?,
                }
            }
            ChannelKind::Webhook => {
                for (given, field) in email_fields {
                    not_for(given, field);
                }
                ChannelTarget::Webhook {
                    url: self.url.ok_or_else(|| required("url"))?,
                    secret: self.secret.ok_or_else(|| required("secret"))?,
                }
            }
        };
        if let Some(field) = unused.first() {
            return Err(ParseError::new(
                *field,
                format!("is not used by a {kind} channel"),
            ));
        }
        Ok(ChannelFields {
            name,
            target,
            topics: self.topics.unwrap_or_default(),
            owners: self.owners,
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// A channel's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub i64);

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub version: crate::postmortem::Version,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    #[serde(flatten)]
    pub fields: ChannelFields,
}

/// Who a notification is for, as the worker resolved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// The person's name as written in the postmortem (an owner, the lead).
    pub name: String,
    /// Their email address: their account's, or their participant contact when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Their choices, when they have an account; without one, every topic.
    #[serde(default)]
    pub topics: Topics,
    /// The action owner the notification concerns (for a team channel's filter); the lead's
    /// notifications concern the owner of the action they are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// One place a notification is sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Destination {
    /// The channel's id.
    pub channel: i64,
    /// The address, for email; `None` for a channel's own room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Where a notification of `topic` goes: the person's email (through each enabled email
/// channel carrying the topic, when they have an address and want the topic), and each enabled
/// channel whose team covers `audience.owner` — a Slack or webhook channel's room, an email
/// channel's team addresses. Each destination once.
pub fn destinations(
    channels: &[(i64, &ChannelFields)],
    topic: Topic,
    audience: &Audience,
) -> Vec<Destination> {
    let mut out = BTreeSet::new();
    let mut personal_sent = false;
    for (id, channel) in channels {
        if !channel.enabled || !channel.topics.contains(topic) {
            continue;
        }
        let team = match &audience.owner {
            Some(owner) => channel.serves_owner(owner),
            None => channel.owners.is_empty(),
        };
        match &channel.target {
            ChannelTarget::Email(smtp) => {
                if !personal_sent
                    && let Some(email) = &audience.email
                    && audience.topics.contains(topic)
                {
                    out.insert(Destination {
                        channel: *id,
                        to: Some(email.as_str().to_owned()),
                    });
                    personal_sent = true;
                }
                if team {
                    for to in &smtp.to {
                        out.insert(Destination {
                            channel: *id,
                            to: Some(to.as_str().to_owned()),
                        });
                    }
                }
            }
            ChannelTarget::Slack { .. } | ChannelTarget::Webhook { .. } => {
                if team {
                    out.insert(Destination {
                        channel: *id,
                        to: None,
                    });
                }
            }
        }
    }
    // One address gets one copy, even when two channels would send it.
    let mut seen = BTreeSet::new();
    out.into_iter()
        .filter(|d| d.to.as_ref().is_none_or(|to| seen.insert(to.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slack(owners: &[&str], topics: &str) -> ChannelFields {
        ChannelFields {
            name: "platform".parse().expect("name"),
            target: ChannelTarget::Slack {
                url: "https://hooks.example/services/T0/B0/secret"
                    .parse()
                    .expect("url"),
            },
            topics: topics.parse().expect("topics"),
            owners: owners.iter().map(|o| o.parse().expect("owner")).collect(),
            enabled: true,
        }
    }

    fn email(to: &[&str]) -> ChannelFields {
        ChannelFields {
            name: "mail".parse().expect("name"),
            target: ChannelTarget::Email(SmtpSettings {
                host: "smtp.example".into(),
                port: 587,
                security: SmtpSecurity::StartTls,
                username: Some("debrief".into()),
                password: Some("hunter2-but-longer".into()),
                from: "Debrief <debrief@example.com>".into(),
                to: to.iter().map(|t| t.parse().expect("email")).collect(),
            }),
            topics: Topics::all(),
            owners: vec![],
            enabled: true,
        }
    }

    fn audience(owner: &str, email: Option<&str>, topics: &str) -> Audience {
        Audience {
            name: owner.into(),
            email: email.map(|e| e.parse().expect("email")),
            topics: topics.parse().expect("topics"),
            owner: Some(owner.into()),
        }
    }

    #[test]
    fn topics_parse_and_print() {
        let t: Topics = "digest, reminders".parse().expect("topics");
        assert_eq!(t.to_string(), "reminders,digest");
        assert_eq!("all".parse::<Topics>().expect("all"), Topics::all());
        assert!("none".parse::<Topics>().expect("none").is_empty());
        let e = "reminders,weekly".parse::<Topics>().expect_err("unknown");
        assert_eq!(e.field, "topics");
        assert!(e.message.contains("\"weekly\""), "{e}");
        assert_eq!(Topic::of(ReminderKind::CheckInPassed), Topic::Reminders);
        assert_eq!(Topic::of(ReminderKind::Escalation), Topic::Escalations);
    }

    #[test]
    fn channels_are_checked_naming_the_field() {
        assert!(slack(&[], "all").validate().is_ok());
        assert!(email(&[]).validate().is_ok());

        // The URL type itself takes http(s) only.
        assert!("ftp://hooks.example/x".parse::<Url>().is_err());

        let short = ChannelFields {
            target: ChannelTarget::Webhook {
                url: "https://receiver.example/debrief".parse().expect("url"),
                secret: "short".into(),
            },
            ..slack(&[], "all")
        };
        let e = short.validate().expect_err("short secret");
        assert_eq!(e.field, "secret");

        let mut mail = email(&[]);
        if let ChannelTarget::Email(smtp) = &mut mail.target {
            smtp.from = "not an address".into();
        }
        let e = mail.validate().expect_err("bad from");
        assert!(e.field.starts_with("from"), "{e}");

        let mut mail = email(&[]);
        if let ChannelTarget::Email(smtp) = &mut mail.target {
            smtp.host = "smtp://mail.example:25".into();
        }
        assert_eq!(mail.validate().expect_err("bad host").field, "host");

        let mut mail = email(&[]);
        if let ChannelTarget::Email(smtp) = &mut mail.target {
            smtp.password = None;
        }
        assert_eq!(mail.validate().expect_err("no password").field, "password");
    }

    #[test]
    fn input_needs_the_fields_of_its_kind_and_no_others() {
        let mail = email(&["team@example.com"]);
        let round = ChannelInput::from(&mail).into_fields().expect("round trip");
        assert_eq!(round, mail);
        let slack_in = ChannelInput {
            name: Some("room".parse().expect("name")),
            kind: Some(ChannelKind::Slack),
            ..ChannelInput::default()
        };
        assert_eq!(
            slack_in.clone().into_fields().expect_err("no url").field,
            "url"
        );
        let with_secret = ChannelInput {
            url: Some("https://hooks.example/x".parse().expect("url")),
            secret: Some("a secret of some length".into()),
            ..slack_in
        };
        let e = with_secret.into_fields().expect_err("secret on slack");
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("secret", "is not used by a slack channel")
        );
        let e = ChannelInput::default().into_fields().expect_err("empty");
        assert_eq!(e.field, "name");
    }

    #[test]
    fn mailboxes_with_and_without_a_name() {
        let (name, email) = parse_mailbox("Debrief <Debrief@Example.com>").expect("mailbox");
        assert_eq!(name.as_deref(), Some("Debrief"));
        assert_eq!(email.as_str(), "debrief@example.com");
        assert_eq!(parse_mailbox("a@b.example").expect("bare").0, None);
        assert!(parse_mailbox("Debrief <a@b.example").is_err());
        assert!(parse_mailbox("Debrief").is_err());
    }

    #[test]
    fn secrets_are_redacted_for_display() {
        let s = slack(&[], "all");
        let shown = s.target.redacted();
        let ChannelTarget::Slack { url } = shown else {
            panic!("kind")
        };
        assert_eq!(url.as_str(), "https://hooks.example/********");
        let ChannelTarget::Email(smtp) = email(&[]).target.redacted() else {
            panic!("kind")
        };
        assert_eq!(smtp.password.as_deref(), Some(REDACTED));
        assert!(!email(&[]).target.describe().contains("hunter2"));
    }

    #[test]
    fn personal_email_follows_preferences_and_team_rooms_follow_owners() {
        let mail = email(&["platform@example.com"]);
        let room = slack(&["team:platform", "Ana Lima"], "reminders,digest");
        let other = slack(&["team:search"], "all");
        let channels = [(1, &mail), (2, &room), (3, &other)];

        let ana = audience("ana lima", Some("ana@example.com"), "all");
        let d = destinations(&channels, Topic::Reminders, &ana);
        assert_eq!(
            d,
            vec![
                Destination {
                    channel: 1,
                    to: Some("ana@example.com".into())
                },
                Destination {
                    channel: 1,
                    to: Some("platform@example.com".into())
                },
                Destination {
                    channel: 2,
                    to: None
                },
            ]
        );

        // Ana turned reminders off: her email stops, the team's copies do not.
        let quiet = audience("Ana Lima", Some("ana@example.com"), "digest");
        let d = destinations(&channels, Topic::Reminders, &quiet);
        assert!(d.iter().all(|d| d.to.as_deref() != Some("ana@example.com")));
        assert_eq!(d.len(), 2);

        // The room does not carry escalations; the search room is not this owner's team.
        let d = destinations(&channels, Topic::Escalations, &ana);
        assert!(d.iter().all(|d| d.channel == 1), "{d:?}");

        // A disabled channel sends nothing.
        let mut off = room.clone();
        off.enabled = false;
        let d = destinations(&[(2, &off)], Topic::Reminders, &ana);
        assert!(d.is_empty());
    }
}
