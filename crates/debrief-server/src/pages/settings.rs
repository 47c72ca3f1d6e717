//! Settings: the notification channels admins configure (`/settings/channels`) and each person's
//! choice of notification topics (on their account page, `/tokens`).
//!
//! A channel's secrets (an SMTP password, a webhook secret, a Slack URL's path) are never drawn:
//! edit forms show `********`, and saving `********` keeps the stored secret
//! ([`keep_secrets`]). A refused form comes back with the problem next to its field and what was
//! typed still in it; an edit made on an older version comes back with the other version beside
//! it, and the form then edits the current one.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use debrief_core::notify::{
    Channel, ChannelFields, ChannelId, ChannelKind, ChannelTarget, Preferences, SmtpSecurity,
    SmtpSettings, Topic, Topics,
};
use debrief_core::{Access, Email, Name, ParseError, Url, Version};
use debrief_store::StoreError;

use super::view::{self, Choice, Nav};
use super::{FormData, PageCaller, error_page, render};
use crate::api::notify::{ChannelView, keep_secrets, test_send};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// An error tied to one form field.
type FieldErrors = Vec<(String, String)>;

/// A topic checkbox.
#[derive(Debug, Clone)]
pub struct TopicBox {
    pub value: &'static str,
    pub label: String,
    pub describe: &'static str,
    pub checked: bool,
}

fn topic_boxes(checked: impl Fn(Topic) -> bool) -> Vec<TopicBox> {
    Topic::ALL
        .iter()
        .map(|t| TopicBox {
            value: t.as_str(),
            label: view::words(t.as_str()),
            describe: t.describe(),
            checked: checked(*t),
        })
        .collect()
}

/// The topics ticked in a form (`topics=reminders&topics=digest`).
fn ticked(form: &FormData) -> BTreeSet<String> {
    form.0
        .iter()
        .filter(|(k, _)| k == "topics")
        .map(|(_, v)| v.clone())
        .collect()
}

/// A channel form as the template draws it: its values (from the channel with its secrets
/// redacted, or as typed), the errors next to fields, and on a conflict the other version.
#[derive(Debug, Clone, Default)]
pub struct ChannelForm {
    /// `email`, `slack` or `webhook`.
    pub kind: String,
    pub values: HashMap<String, String>,
    pub errors: HashMap<String, String>,
    pub topics: Vec<TopicBox>,
    pub enabled: bool,
    /// Drawn open (it has something to show).
    pub open: bool,
    /// The version the form edits (0 for a new channel).
    pub version: i64,
    pub message: String,
    pub theirs: Vec<(String, String)>,
}

impl ChannelForm {
    pub fn v(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
    pub fn e(&self, name: &str) -> &str {
        self.errors.get(name).map_or("", String::as_str)
    }
    /// `aria-invalid` of a field.
    pub fn invalid(&self, name: &str) -> &'static str {
        if self.errors.contains_key(name) {
            "true"
        } else {
            "false"
        }
    }
    pub fn securities(&self) -> Vec<Choice> {
        SmtpSecurity::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: match s {
                    SmtpSecurity::StartTls => "STARTTLS (587)".to_owned(),
                    SmtpSecurity::Tls => "TLS (465)".to_owned(),
                    SmtpSecurity::Plain => "None (25, a trusted relay)".to_owned(),
                },
                selected: s.as_str() == self.v("security"),
            })
            .collect()
    }
    /// What the add form's summary says.
    pub fn title(&self) -> &'static str {
        match self.kind.as_str() {
            "email" => "Add an email channel (SMTP)",
            "slack" => "Add a Slack channel (incoming webhook)",
            _ => "Add a signed webhook",
        }
    }

    /// A blank form to add a channel of `kind`: every topic, enabled.
    fn blank(kind: ChannelKind) -> ChannelForm {
        let mut values = HashMap::new();
        if kind == ChannelKind::Email {
            values.insert("security".to_owned(), "starttls".to_owned());
        }
        ChannelForm {
            kind: kind.as_str().to_owned(),
            values,
            topics: topic_boxes(|_| true),
            enabled: true,
            ..ChannelForm::default()
        }
    }

    /// The form of a stored channel, its secrets redacted.
    fn of(c: &Channel) -> ChannelForm {
        let shown = ChannelView::of(c).channel.fields;
        let mut m = HashMap::new();
        m.insert("name".to_owned(), shown.name.to_string());
        m.insert(
            "owners".to_owned(),
            shown
                .owners
                .iter()
                .map(Name::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        );
        match &shown.target {
            ChannelTarget::Email(smtp) => {
                m.insert("host".to_owned(), smtp.host.clone());
                m.insert("port".to_owned(), smtp.port.to_string());
                m.insert("security".to_owned(), smtp.security.as_str().to_owned());
                m.insert(
                    "username".to_owned(),
                    smtp.username.clone().unwrap_or_default(),
                );
                m.insert(
                    "password".to_owned(),
                    smtp.password.clone().unwrap_or_default(),
                );
                m.insert("from".to_owned(), smtp.from.clone());
                m.insert(
                    "to".to_owned(),
                    smtp.to
                        .iter()
                        .map(Email::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            ChannelTarget::Slack { url } => {
                m.insert("url".to_owned(), url.to_string());
            }
            ChannelTarget::Webhook { url, secret } => {
                m.insert("url".to_owned(), url.to_string());
                m.insert("secret".to_owned(), secret.clone());
            }
        }
        ChannelForm {
            kind: shown.target.kind().as_str().to_owned(),
            values: m,
            topics: topic_boxes(|t| shown.topics.contains(t)),
            enabled: shown.enabled,
            version: c.version.0,
            ..ChannelForm::default()
        }
    }

    /// The form as it was sent, open, with `errors`.
    fn typed(kind: ChannelKind, form: &FormData, errors: FieldErrors) -> ChannelForm {
        let mut values = HashMap::new();
        for name in FIELDS {
            values.insert((*name).to_owned(), form.get(name).to_owned());
        }
        let ticked = ticked(form);
        ChannelForm {
            kind: kind.as_str().to_owned(),
            values,
            errors: errors.into_iter().collect(),
            topics: topic_boxes(|t| ticked.contains(t.as_str())),
            enabled: form.has("enabled"),
            open: true,
            version: form.get("version").parse().unwrap_or(0),
            ..ChannelForm::default()
        }
    }
}

/// Every text field a channel form may have.
const FIELDS: &[&str] = &[
    "name", "owners", "host", "port", "security", "username", "password", "from", "to", "url",
    "secret",
];

/// The form field an error's field belongs to: `from.email` → `from`.
fn field_of(field: &str, fallback: &str) -> String {
    match field.split(['.', '[']).next() {
        Some(f) if FIELDS.contains(&f) => f.to_owned(),
        _ => fallback.to_owned(),
    }
}

/// A comma- (or line-) separated list.
fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', '\n', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Reads a channel of `kind` from a form, every problem named by its field. The fields are not
/// yet checked as a whole ([`check`] does that, after an edit kept its secrets).
fn fields_from(kind: ChannelKind, form: &FormData) -> Result<ChannelFields, FieldErrors> {
    let mut errors: FieldErrors = Vec::new();
    let mut fail = |field: &str, message: String| errors.push((field.to_owned(), message));

    let name = form
        .get("name")
        .parse::<Name>()
        .map_err(|e| fail("name", e.message));
    let mut owners = Vec::new();
    for o in list(form.get("owners")) {
        match o.parse::<Name>() {
            Ok(n) => owners.push(n),
            Err(e) => fail("owners", format!("{o:?}: {}", e.message)),
        }
    }
    let mut topics = BTreeSet::new();
    for t in ticked(form) {
        match t.parse::<Topic>() {
            Ok(t) => {
                topics.insert(t);
            }
            Err(e) => fail("topics", e.message),
        }
    }
    let url = |fail: &mut dyn FnMut(&str, String)| {
        form.get("url")
            .parse::<Url>()
            .map_err(|e| fail("url", e.message))
    };
    let target = match kind {
        ChannelKind::Email => {
            let security = form
                .get("security")
                .parse::<SmtpSecurity>()
                .map_err(|e| fail("security", e.message));
            let port = match form.get("port").trim() {
                "" => Ok(security.as_ref().map_or(587, |s| s.default_port())),
                p => p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| fail("port", format!("{p:?} is not a port (1 to 65535)"))),
            };
            let mut to = Vec::new();
            for a in list(form.get("to")) {
                match a.parse::<Email>() {
                    Ok(e) => to.push(e),
                    Err(e) => fail("to", e.message),
                }
            }
            match (security, port) {
                (Ok(security), Ok(port)) => Some(ChannelTarget::Email(SmtpSettings {
                    host: form.get("host").trim().to_owned(),
                    port,
                    security,
                    username: optional(form.get("username")),
                    password: (!form.get("password").is_empty())
                        .then(|| form.get("password").to_owned()),
                    from: form.get("from").trim().to_owned(),
                    to,
                })),
                _ => None,
            }
        }
        ChannelKind::Slack => url(&mut fail).ok().map(|url| ChannelTarget::Slack { url }),
        ChannelKind::Webhook => url(&mut fail).ok().map(|url| ChannelTarget::Webhook {
            url,
            secret: form.get("secret").trim().to_owned(),
        }),
    };
    match (name, target) {
        (Ok(name), Some(target)) if errors.is_empty() => Ok(ChannelFields {
            name,
            target,
            topics: Topics(topics),
            owners,
            enabled: form.has("enabled"),
        }),
        _ => Err(errors),
    }
}

/// Checks the fields as a whole, the way a send would trip over them.
fn check(fields: &ChannelFields) -> Result<(), FieldErrors> {
    fields
        .validate()
        .map_err(|e: ParseError| vec![(field_of(&e.field, "name"), e.message)])
}

/// What went wrong (or right) with the last form, to draw the page again.
#[derive(Debug, Default)]
struct Outcome {
    /// `add-email`, `add-slack`, `add-webhook` or `channel-7`.
    form: String,
    typed: Option<ChannelForm>,
    notice: String,
    error: String,
    test: Option<TestResult>,
}

#[derive(Debug, Clone)]
pub struct TestResult {
    pub ok: bool,
    pub message: String,
    /// The address the test form should show again.
    pub to: String,
}

#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub is_email: bool,
    pub enabled: bool,
    pub topics: String,
    pub owners: String,
    pub describe: String,
    pub test: Option<TestResult>,
    pub test_to: String,
    pub form: ChannelForm,
}

fn kind_label(k: ChannelKind) -> &'static str {
    match k {
        ChannelKind::Email => "Email",
        ChannelKind::Slack => "Slack",
        ChannelKind::Webhook => "Webhook",
    }
}

fn topics_label(t: &Topics) -> String {
    if t.is_empty() {
        "none".to_owned()
    } else if *t == Topics::all() {
        "all".to_owned()
    } else {
        t.iter().map(Topic::as_str).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    nav: Nav,
    channels: Vec<ChannelRow>,
    add: Vec<ChannelForm>,
    notice: String,
    error: String,
}

async fn channels_view(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    mut outcome: Outcome,
) -> Response {
    let channels = match state.store().list_channels().await {
        Ok(c) => c,
        Err(e) => return error_page(&e.into(), Some(caller)),
    };
    let mut typed = outcome.typed.take();
    let mut take = |id: &str| {
        if outcome.form == id {
            typed.take()
        } else {
            None
        }
    };
    let rows = channels
        .iter()
        .map(|c| {
            let id = format!("channel-{}", c.id);
            let test = if outcome.form == id {
                outcome.test.clone()
            } else {
                None
            };
            ChannelRow {
                id: c.id.0,
                name: c.fields.name.to_string(),
                kind: kind_label(c.fields.target.kind()),
                is_email: c.fields.target.kind() == ChannelKind::Email,
                enabled: c.fields.enabled,
                topics: topics_label(&c.fields.topics),
                owners: if c.fields.owners.is_empty() {
                    "every owner".to_owned()
                } else {
                    c.fields
                        .owners
                        .iter()
                        .map(Name::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                describe: c.fields.target.describe(),
                test_to: test
                    .as_ref()
                    .map_or_else(|| caller.user.email.to_string(), |t| t.to.clone()),
                test,
                form: take(&id).unwrap_or_else(|| ChannelForm::of(c)),
            }
        })
        .collect();
    let add = ChannelKind::ALL
        .iter()
        .map(|k| take(&format!("add-{k}")).unwrap_or_else(|| ChannelForm::blank(*k)))
        .collect();
    render(
        status,
        &ChannelsPage {
            nav: Nav::of(Some(caller), "channels"),
            channels: rows,
            add,
            notice: outcome.notice,
            error: outcome.error,
        },
    )
}

/// Checks the form's CSRF token and the admin role.
fn admin_only(caller: &Caller, form: Option<&FormData>) -> Result<(), Response> {
    if let Some(form) = form {
        form.check_csrf(caller)?;
    }
    caller
        .require(Access::Admin)
        .map_err(|e| error_page(&e, Some(caller)))
}

/// A form posted about one channel: its CSRF token and the admin role checked, and the channel
/// id from the path.
fn channel_form(caller: &Caller, form: &FormData, raw: &str) -> Result<ChannelId, Response> {
    admin_only(caller, Some(form))?;
    raw.parse::<i64>().map(ChannelId).map_err(|_| {
        error_page(
            &ApiError::not_found(format!("channel {raw:?}")),
            Some(caller),
        )
    })
}

/// The channel a form posts to, read now (admins only; a missing one is an error page).
async fn form_channel(
    state: &AppState,
    caller: &Caller,
    form: &FormData,
    raw: &str,
) -> Result<Channel, Response> {
    let id = channel_form(caller, form, raw)?;
    state
        .store()
        .get_channel(id)
        .await
        .map_err(|e| error_page(&e.into(), Some(caller)))
}

/// `GET /settings/channels`.
pub async fn channels_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> Response {
    if let Err(r) = admin_only(&caller, None) {
        return r;
    }
    channels_view(&state, &caller, StatusCode::OK, Outcome::default()).await
}

/// The page again with `form_id`'s form as typed and the store's refusal next to its field.
async fn refused(
    state: &AppState,
    caller: &Caller,
    form_id: String,
    kind: ChannelKind,
    form: &FormData,
    e: StoreError,
) -> Response {
    let e: ApiError = e.into();
    if e.status.is_server_error() {
        return error_page(&e, Some(caller));
    }
    let errors = match (e.code, &e.field) {
        ("duplicate", _) => vec![("name".to_owned(), e.message.clone())],
        (_, Some(f)) => vec![(field_of(f, "name"), e.message.clone())],
        _ => Vec::new(),
    };
    let mut typed = ChannelForm::typed(kind, form, Vec::new());
    if errors.is_empty() {
        typed.message = e.message.clone();
    }
    typed.errors = errors.into_iter().collect();
    channels_view(
        state,
        caller,
        e.status,
        Outcome {
            form: form_id,
            typed: Some(typed),
            ..Outcome::default()
        },
    )
    .await
}

async fn invalid(
    state: &AppState,
    caller: &Caller,
    form_id: String,
    kind: ChannelKind,
    form: &FormData,
    errors: FieldErrors,
) -> Response {
    channels_view(
        state,
        caller,
        StatusCode::UNPROCESSABLE_ENTITY,
        Outcome {
            form: form_id,
            typed: Some(ChannelForm::typed(kind, form, errors)),
            ..Outcome::default()
        },
    )
    .await
}

/// `POST /settings/channels`: adds a channel of the form's `kind`.
pub async fn add_channel(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: FormData,
) -> Response {
    if let Err(r) = admin_only(&caller, Some(&form)) {
        return r;
    }
    let kind = match form.get("kind").parse::<ChannelKind>() {
        Ok(k) => k,
        Err(e) => return error_page(&ApiError::invalid("kind", e.message), Some(&caller)),
    };
    let form_id = format!("add-{kind}");
    let fields = match fields_from(kind, &form).and_then(|f| check(&f).map(|()| f)) {
        Ok(f) => f,
        Err(errors) => return invalid(&state, &caller, form_id, kind, &form, errors).await,
    };
    match state.store().create_channel(fields, state.now()).await {
        Ok(c) => {
            channels_view(
                &state,
                &caller,
                StatusCode::CREATED,
                Outcome {
                    notice: format!(
                        "Added the {} channel {}. Send it a test to check it works.",
                        kind_label(kind),
                        c.fields.name
                    ),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => refused(&state, &caller, form_id, kind, &form, e).await,
    }
}

const CONFLICT: &str = "Someone else saved a change to this channel while you were editing. \
                        What you typed is still in the form; their version is shown beside it. \
                        Check it and save again.";

/// The current channel as "label: value" lines, to show beside a stale edit.
fn theirs(c: &Channel) -> Vec<(String, String)> {
    vec![
        ("Name".to_owned(), c.fields.name.to_string()),
        ("Where".to_owned(), c.fields.target.describe()),
        ("Topics".to_owned(), topics_label(&c.fields.topics)),
        (
            "Team owners".to_owned(),
            c.fields
                .owners
                .iter()
                .map(Name::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "State".to_owned(),
            if c.fields.enabled {
                "enabled"
            } else {
                "disabled"
            }
            .to_owned(),
        ),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect()
}

/// `POST /settings/channels/{id}`: saves the edit form (made on the form's `version`).
pub async fn edit_channel(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    let current = match form_channel(&state, &caller, &form, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = current.id;
    let kind = current.fields.target.kind();
    let form_id = format!("channel-{id}");
    let fields = match fields_from(kind, &form) {
        Ok(f) => keep_secrets(&current.fields, f),
        Err(errors) => return invalid(&state, &caller, form_id, kind, &form, errors).await,
    };
    if let Err(errors) = check(&fields) {
        return invalid(&state, &caller, form_id, kind, &form, errors).await;
    }
    let expected = Version(form.get("version").parse().unwrap_or(0));
    match state
        .store()
        .update_channel(id, expected, fields, state.now())
        .await
    {
        Ok(c) => {
            channels_view(
                &state,
                &caller,
                StatusCode::OK,
                Outcome {
                    notice: format!("Saved the channel {}.", c.fields.name),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(StoreError::Conflict { .. }) => {
            // The conflict carries the channel redacted; read it again to show the same lines
            // (describe() never shows a secret) and to edit its current version.
            let now = match state.store().get_channel(id).await {
                Ok(c) => c,
                Err(e) => return error_page(&e.into(), Some(&caller)),
            };
            let mut typed = ChannelForm::typed(kind, &form, Vec::new());
            typed.message = CONFLICT.to_owned();
            typed.theirs = theirs(&now);
            typed.version = now.version.0;
            channels_view(
                &state,
                &caller,
                StatusCode::CONFLICT,
                Outcome {
                    form: form_id,
                    typed: Some(typed),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => refused(&state, &caller, form_id, kind, &form, e).await,
    }
}

/// `POST /settings/channels/{id}/enabled`: `enabled=true` or `false`, on the current version
/// (only that one field changes).
pub async fn toggle_channel(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    let id = match channel_form(&caller, &form, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let enabled = match form.get("enabled") {
        "true" => true,
        "false" => false,
        other => {
            return error_page(
                &ApiError::invalid("enabled", format!("{other:?}: expected true or false")),
                Some(&caller),
            );
        }
    };
    let result = async {
        let current = state.store().get_channel(id).await?;
        let mut fields = current.fields.clone();
        fields.enabled = enabled;
        state
            .store()
            .update_channel(id, current.version, fields, state.now())
            .await
    }
    .await
    .map(|c| {
        if enabled {
            format!("Enabled {}: it sends again.", c.fields.name)
        } else {
            format!(
                "Disabled {}: it sends nothing until enabled again.",
                c.fields.name
            )
        }
    });
    done(&state, &caller, result).await
}

/// `POST /settings/channels/{id}/remove`.
pub async fn remove_channel(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    let id = match channel_form(&caller, &form, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let result = async {
        let c = state.store().get_channel(id).await?;
        state.store().delete_channel(id).await?;
        Ok::<_, StoreError>(c)
    }
    .await
    .map(|c| {
        format!(
            "Removed the channel {}: nothing more is sent through it.",
            c.fields.name
        )
    });
    done(&state, &caller, result).await
}

/// The channels page with `notice` after a change that worked, or the error page.
async fn done(state: &AppState, caller: &Caller, result: Result<String, StoreError>) -> Response {
    match result {
        Ok(notice) => {
            channels_view(
                state,
                caller,
                StatusCode::OK,
                Outcome {
                    notice,
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => error_page(&e.into(), Some(caller)),
    }
}

/// `POST /settings/channels/{id}/test`: sends a test now and shows how it went (for email, to
/// the form's `to`, by default the admin's own address).
pub async fn test_channel(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    let channel = match form_channel(&state, &caller, &form, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = channel.id;
    let typed_to = form.get("to").trim().to_owned();
    let to = if typed_to.is_empty() {
        Ok(caller.user.email.to_string())
    } else {
        typed_to
            .parse::<Email>()
            .map(|e| e.to_string())
            .map_err(|e| format!("the address {}", e.message))
    };
    let name = channel.fields.name.to_string();
    let result = match to {
        Ok(to) => {
            let to = (channel.fields.target.kind() == ChannelKind::Email).then_some(to);
            match test_send(&state, &channel, to, caller.user.name.as_str()).await {
                Ok(Some(to)) => TestResult {
                    ok: true,
                    message: format!("Sent a test through {name} to {to}."),
                    to,
                },
                Ok(None) => TestResult {
                    ok: true,
                    message: format!("Sent a test through {name}; it was accepted."),
                    to: typed_to,
                },
                Err(why) => TestResult {
                    ok: false,
                    message: format!("The test through {name} failed: {why}"),
                    to: typed_to,
                },
            }
        }
        Err(why) => TestResult {
            ok: false,
            message: format!("No test was sent: {why}"),
            to: typed_to,
        },
    };
    channels_view(
        &state,
        &caller,
        StatusCode::OK,
        Outcome {
            form: format!("channel-{id}"),
            test: Some(result),
            ..Outcome::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// My notifications.

/// The notifications part of the account page.
#[derive(Debug, Clone, Default)]
pub struct MyNotifications {
    pub topics: Vec<TopicBox>,
    /// Which channels exist, in one line.
    pub channels: String,
    /// Just saved: the confirmation to show.
    pub saved: String,
}

/// Reads the caller's choices and the channels, for the account page.
pub async fn my_notifications(
    state: &AppState,
    caller: &Caller,
    saved: bool,
) -> Result<MyNotifications, ApiError> {
    let prefs = state.store().preferences(caller.user.id).await?;
    let channels = state.store().list_channels().await?;
    let on: Vec<&Channel> = channels.iter().filter(|c| c.fields.enabled).collect();
    let email = on
        .iter()
        .any(|c| c.fields.target.kind() == ChannelKind::Email);
    let rooms: Vec<String> = on
        .iter()
        .filter(|c| c.fields.target.kind() != ChannelKind::Email)
        .map(|c| format!("{} ({})", c.fields.name, kind_label(c.fields.target.kind())))
        .collect();
    let mut line = if email {
        format!("Email is on: these go to {}.", caller.user.email)
    } else {
        "Email is not configured yet: ask an admin.".to_owned()
    };
    if !rooms.is_empty() {
        line.push_str(&format!(
            " Team rooms, which follow their own settings: {}.",
            rooms.join(", ")
        ));
    }
    Ok(MyNotifications {
        topics: topic_boxes(|t| prefs.topics.contains(t)),
        channels: line,
        saved: if saved {
            if prefs.topics.is_empty() {
                "Saved: you receive no notifications by email.".to_owned()
            } else {
                format!(
                    "Saved: you receive {}.",
                    prefs
                        .topics
                        .iter()
                        .map(|t| view::words(t.as_str()).to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        } else {
            String::new()
        },
    })
}

/// `POST /account/notifications`: the ticked topics (none ticked: none).
pub async fn save_notifications(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: FormData,
) -> Response {
    if let Err(r) = form.check_csrf(&caller) {
        return r;
    }
    let mut topics = BTreeSet::new();
    for t in ticked(&form) {
        match t.parse::<Topic>() {
            Ok(t) => {
                topics.insert(t);
            }
            Err(e) => return error_page(&ApiError::invalid("topics", e.message), Some(&caller)),
        }
    }
    let prefs = Preferences {
        topics: Topics(topics),
    };
    match state.store().set_preferences(caller.user.id, &prefs).await {
        Ok(()) => Redirect::to("/tokens?saved=notifications#notifications").into_response(),
        Err(e) => error_page(&e.into(), Some(&caller)),
    }
}
