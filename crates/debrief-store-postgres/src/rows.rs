//! Between rows and domain values: the column lists each query selects, the tuples they decode
//! into, how those become `Postmortem`, `TimelineEvent`, `ActionItem`, … and how database errors
//! become [`StoreError`]s.

use debrief_core::notify::{Channel, ChannelFields, ChannelId};
use debrief_core::time::timestamp_from_micros;
use debrief_core::{
    ActionFields, ActionId, ActionItem, ApiToken, EventFields, EventId, Key, Participant,
    ParticipantFields, ParticipantId, Postmortem, PostmortemFields, ProgressUpdate, Revision,
    Severity, Status, TimelineEvent, TokenId, User, UserId, Version,
};
use debrief_store::{PostmortemSummary, Result, StoreError, from_json};
use jiff::Timestamp;

/// Any database failure, for operators' logs.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A unique-constraint violation becomes `Duplicate(what)`; anything else is a backend failure.
pub(crate) fn duplicate_or_backend(
    what: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
            StoreError::Duplicate(what())
        }
        _ => backend(e),
    }
}

/// Now, to the microsecond: the precision the database keeps, so a returned record equals the
/// same record read back.
pub(crate) fn now() -> Timestamp {
    let micros = Timestamp::now().as_microsecond();
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn now_micros() -> i64 {
    now().as_microsecond()
}

pub(crate) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub(crate) fn instant(micros: i64) -> Result<Timestamp> {
    timestamp_from_micros(micros)
        .map_err(|e| StoreError::Backend(format!("stored time is unreadable: {e}")))
}

/// A postmortem key from its stored number.
pub(crate) fn key_of(number: i64) -> Result<Key> {
    u32::try_from(number)
        .ok()
        .and_then(|n| Key::new(n).ok())
        .ok_or_else(|| {
            StoreError::Backend(format!("stored postmortem number {number} is not a key"))
        })
}

pub(crate) fn number_of(key: Key) -> i64 {
    i64::from(key.number())
}

fn status_of(text: &str) -> Result<Status> {
    text.parse()
        .map_err(|e| StoreError::Backend(format!("stored status is unreadable: {e}")))
}

/// The columns of a postmortem row, in the order of `PostmortemRow`.
macro_rules! postmortem_columns {
    () => {
        "p.id, p.number, p.version, p.status, p.created_at, p.updated_at, p.body::text"
    };
}
pub(crate) use postmortem_columns;

/// `id, number, version, status, created_at, updated_at, body`.
pub(crate) type PostmortemRow = (i64, i64, i64, String, i64, i64, String);

/// A postmortem with its row id.
#[derive(Debug, Clone)]
pub(crate) struct StoredPostmortem {
    pub id: i64,
    pub postmortem: Postmortem,
}

pub(crate) fn postmortem(row: PostmortemRow) -> Result<StoredPostmortem> {
    let (id, number, version, status, created_at, updated_at, body) = row;
    Ok(StoredPostmortem {
        id,
        postmortem: Postmortem {
            key: key_of(number)?,
            version: Version(version),
            status: status_of(&status)?,
            created_at: instant(created_at)?,
            updated_at: instant(updated_at)?,
            fields: from_json::<PostmortemFields>("postmortem", &body)?,
        },
    })
}

/// The columns of a listing line, in the order of `SummaryRow`.
macro_rules! summary_columns {
    () => {
        "p.number, p.version, p.title, p.status, p.severity, \
     COALESCE(p.body->'services', '[]'::jsonb)::text, p.occurred_at, p.created_at, p.updated_at"
    };
}
pub(crate) use summary_columns;

/// `number, version, title, status, severity, services, occurred_at, created_at, updated_at`.
pub(crate) type SummaryRow = (i64, i64, String, String, i16, String, i64, i64, i64);

pub(crate) fn summary(row: SummaryRow) -> Result<PostmortemSummary> {
    let (number, version, title, status, severity, services, occurred_at, created_at, updated_at) =
        row;
    Ok(PostmortemSummary {
        key: key_of(number)?,
        version: Version(version),
        title,
        status: status_of(&status)?,
        severity: Severity::try_from(format!("SEV{severity}"))
            .map_err(|e| StoreError::Backend(format!("stored severity is unreadable: {e}")))?,
        services: from_json("services", &services)?,
        occurred_at: instant(occurred_at)?,
        created_at: instant(created_at)?,
        updated_at: instant(updated_at)?,
    })
}

/// The columns of an event row, in the order of `EventRow`.
macro_rules! event_columns {
    () => {
        "e.id, e.version, e.recorded_at, e.body::text"
    };
}
pub(crate) use event_columns;

/// `id, version, recorded_at, body`.
pub(crate) type EventRow = (i64, i64, i64, String);

pub(crate) fn event(row: EventRow) -> Result<TimelineEvent> {
    let (id, version, recorded_at, body) = row;
    Ok(TimelineEvent {
        id: EventId(id),
        version: Version(version),
        recorded_at: instant(recorded_at)?,
        fields: from_json::<EventFields>("event", &body)?,
    })
}

/// The columns of an action row (joined with its postmortem), in the order of `ActionRow`.
macro_rules! action_columns {
    () => {
        "a.id, a.postmortem_id, p.number, a.version, a.created_at, \
     a.updated_at, a.body::text, a.progress::text, a.finished_at"
    };
}
pub(crate) use action_columns;

/// `id, postmortem_id, number, version, created_at, updated_at, body, progress, finished_at`.
pub(crate) type ActionRow = (i64, i64, i64, i64, i64, i64, String, String, Option<i64>);

/// An action with the row id of its postmortem.
#[derive(Debug, Clone)]
pub(crate) struct StoredAction {
    pub postmortem_id: i64,
    pub action: ActionItem,
}

pub(crate) fn action(row: ActionRow) -> Result<StoredAction> {
    let (id, postmortem_id, number, version, created_at, updated_at, body, progress, finished_at) =
        row;
    Ok(StoredAction {
        postmortem_id,
        action: ActionItem {
            id: ActionId(id),
            postmortem: key_of(number)?,
            version: Version(version),
            created_at: instant(created_at)?,
            updated_at: instant(updated_at)?,
            fields: from_json::<ActionFields>("action", &body)?,
            progress: from_json::<Vec<ProgressUpdate>>("action progress", &progress)?,
            finished_at: finished_at.map(instant).transpose()?,
        },
    })
}

/// The columns of a channel row (`channels c`), in the order of `ChannelRow`.
macro_rules! channel_columns {
    () => {
        "c.id, c.version, c.created_at, c.updated_at, c.body::text"
    };
}
pub(crate) use channel_columns;

/// `id, version, created_at, updated_at, body`.
pub(crate) type ChannelRow = (i64, i64, i64, i64, String);

pub(crate) fn channel(row: ChannelRow) -> Result<Channel> {
    let (id, version, created_at, updated_at, body) = row;
    Ok(Channel {
        id: ChannelId(id),
        version: Version(version),
        created_at: instant(created_at)?,
        updated_at: instant(updated_at)?,
        fields: from_json::<ChannelFields>("channel", &body)?,
    })
}

/// The columns of a participant row, in the order of `ParticipantRow`.
macro_rules! participant_columns {
    () => {
        "r.id, r.version, r.body::text"
    };
}
pub(crate) use participant_columns;

/// `id, version, body`.
pub(crate) type ParticipantRow = (i64, i64, String);

pub(crate) fn participant(row: ParticipantRow) -> Result<Participant> {
    let (id, version, body) = row;
    Ok(Participant {
        id: ParticipantId(id),
        version: Version(version),
        fields: from_json::<ParticipantFields>("participant", &body)?,
    })
}

/// `id, at, actor, entity, entity_id, summary, changes`.
pub(crate) type RevisionRow = (i64, i64, String, String, Option<i64>, String, String);

pub(crate) fn revision(row: RevisionRow) -> Result<Revision> {
    let (id, at, actor, entity, entity_id, summary, changes) = row;
    Ok(Revision {
        id,
        at: instant(at)?,
        actor,
        entity: entity
            .parse()
            .map_err(|e| StoreError::Backend(format!("stored revision is unreadable: {e}")))?,
        entity_id,
        summary,
        changes: from_json("revision changes", &changes)?,
    })
}

/// A stored value that no longer parses (a row written by hand, or by a newer Debrief).
fn unreadable(what: &'static str) -> impl Fn(debrief_core::ParseError) -> StoreError {
    move |e| StoreError::Backend(format!("stored {what} is unreadable: {e}"))
}

/// The columns of a user row (`users u`), in the order of `UserRow`.
macro_rules! user_columns {
    () => {
        "u.id, u.name, u.email, u.role, u.disabled, u.created_at"
    };
}
pub(crate) use user_columns;

/// `id, name, email, role, disabled, created_at`.
pub(crate) type UserRow = (i64, String, String, String, bool, i64);

pub(crate) fn user(row: UserRow) -> Result<User> {
    let (id, name, email, role, disabled, created_at) = row;
    Ok(User {
        id: UserId(id),
        name: name.parse().map_err(unreadable("user name"))?,
        email: email.parse().map_err(unreadable("email"))?,
        role: role.parse().map_err(unreadable("user role"))?,
        disabled,
        created_at: instant(created_at)?,
    })
}

/// The columns of an API token row (`api_tokens t`), in the order of `TokenRow`.
macro_rules! token_columns {
    () => {
        "t.id, t.user_id, t.name, t.scope, t.created_at, t.expires_at, t.last_used_at, \
     t.revoked_at"
    };
}
pub(crate) use token_columns;

/// `id, user_id, name, scope, created_at, expires_at, last_used_at, revoked_at`.
pub(crate) type TokenRow = (
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

pub(crate) fn token(row: TokenRow) -> Result<ApiToken> {
    let (id, user_id, name, scope, created_at, expires_at, last_used_at, revoked_at) = row;
    Ok(ApiToken {
        id: TokenId(id),
        user_id: UserId(user_id),
        name: name.parse().map_err(unreadable("token name"))?,
        scope: scope.parse().map_err(unreadable("token scope"))?,
        created_at: instant(created_at)?,
        expires_at: expires_at.map(instant).transpose()?,
        last_used_at: last_used_at.map(instant).transpose()?,
        revoked_at: revoked_at.map(instant).transpose()?,
    })
}
