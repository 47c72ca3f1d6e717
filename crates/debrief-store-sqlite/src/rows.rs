//! Turning rows back into domain records: the column lists each query selects and the decoders
//! that read them.

use debrief_core::notify::{Channel, ChannelId};
use debrief_core::time::timestamp_from_micros;
use debrief_core::{
    ActionId, ActionItem, ApiToken, Entity, EventId, Key, Label, Participant, ParticipantId,
    Postmortem, Revision, Severity, Status, TimelineEvent, TokenId, User, UserId, Version,
};
use debrief_store::{PostmortemSummary, Result, StoreError, from_json};
use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub const POSTMORTEM_COLUMNS: &str = "number, version, status, created_at, updated_at, body";
pub const SUMMARY_COLUMNS: &str = "p.number, p.version, p.title, p.status, p.severity, p.services, p.occurred_at, p.created_at, p.updated_at";
pub const EVENT_COLUMNS: &str = "id, version, recorded_at, body";
pub const ACTION_COLUMNS: &str =
    "a.id, p.number, a.version, a.created_at, a.updated_at, a.body, a.progress, a.finished_at";
pub const CHANNEL_COLUMNS: &str = "id, version, created_at, updated_at, body";
pub const PARTICIPANT_COLUMNS: &str = "id, version, body";
pub const USER_COLUMNS: &str = "id, name, email, role, disabled, created_at";
/// [`USER_COLUMNS`] of `users u`, for joins.
pub const JOINED_USER_COLUMNS: &str = "u.id, u.name, u.email, u.role, u.disabled, u.created_at";
pub const TOKEN_COLUMNS: &str =
    "id, user_id, name, scope, created_at, expires_at, last_used_at, revoked_at";

/// A database failure, as the port reports it.
pub fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(backend)
}

fn instant(row: &SqliteRow, column: &str) -> Result<Timestamp> {
    Ok(timestamp_from_micros(get(row, column)?)?)
}

fn optional_instant(row: &SqliteRow, column: &str) -> Result<Option<Timestamp>> {
    Ok(get::<Option<i64>>(row, column)?
        .map(timestamp_from_micros)
        .transpose()?)
}

fn key(row: &SqliteRow) -> Result<Key> {
    let n: i64 = get(row, "number")?;
    Ok(Key::new(u32::try_from(n).map_err(|_| {
        StoreError::Backend(format!("bad postmortem number {n}"))
    })?)?)
}

fn status(row: &SqliteRow) -> Result<Status> {
    let s: String = get(row, "status")?;
    Ok(s.parse::<Status>()?)
}

pub fn postmortem_from_row(row: &SqliteRow) -> Result<Postmortem> {
    Ok(Postmortem {
        key: key(row)?,
        version: Version(get(row, "version")?),
        status: status(row)?,
        created_at: instant(row, "created_at")?,
        updated_at: instant(row, "updated_at")?,
        fields: from_json("postmortem", get::<&str>(row, "body")?)?,
    })
}

pub fn summary_from_row(row: &SqliteRow) -> Result<PostmortemSummary> {
    let severity: i64 = get(row, "severity")?;
    Ok(PostmortemSummary {
        key: key(row)?,
        version: Version(get(row, "version")?),
        title: get(row, "title")?,
        status: status(row)?,
        severity: Severity::try_from(format!("SEV{severity}"))?,
        services: from_json::<Vec<Label>>("services", get::<&str>(row, "services")?)?,
        occurred_at: instant(row, "occurred_at")?,
        created_at: instant(row, "created_at")?,
        updated_at: instant(row, "updated_at")?,
    })
}

pub fn event_from_row(row: &SqliteRow) -> Result<TimelineEvent> {
    Ok(TimelineEvent {
        id: EventId(get(row, "id")?),
        version: Version(get(row, "version")?),
        recorded_at: instant(row, "recorded_at")?,
        fields: from_json("event", get::<&str>(row, "body")?)?,
    })
}

pub fn action_from_row(row: &SqliteRow) -> Result<ActionItem> {
    Ok(ActionItem {
        id: ActionId(get(row, "id")?),
        postmortem: key(row)?,
        version: Version(get(row, "version")?),
        created_at: instant(row, "created_at")?,
        updated_at: instant(row, "updated_at")?,
        fields: from_json("action", get::<&str>(row, "body")?)?,
        progress: from_json("progress", get::<&str>(row, "progress")?)?,
        finished_at: optional_instant(row, "finished_at")?,
    })
}

pub fn channel_from_row(row: &SqliteRow) -> Result<Channel> {
    Ok(Channel {
        id: ChannelId(get(row, "id")?),
        version: Version(get(row, "version")?),
        created_at: instant(row, "created_at")?,
        updated_at: instant(row, "updated_at")?,
        fields: from_json("channel", get::<&str>(row, "body")?)?,
    })
}

pub fn participant_from_row(row: &SqliteRow) -> Result<Participant> {
    Ok(Participant {
        id: ParticipantId(get(row, "id")?),
        version: Version(get(row, "version")?),
        fields: from_json("participant", get::<&str>(row, "body")?)?,
    })
}

pub fn revision_from_row(row: &SqliteRow) -> Result<Revision> {
    let entity: String = get(row, "entity")?;
    Ok(Revision {
        id: get(row, "id")?,
        at: instant(row, "at")?,
        actor: get(row, "actor")?,
        entity: entity.parse::<Entity>()?,
        entity_id: get(row, "entity_id")?,
        summary: get(row, "summary")?,
        changes: from_json("revision", get::<&str>(row, "changes")?)?,
    })
}

pub fn user_from_row(row: &SqliteRow) -> Result<User> {
    Ok(User {
        id: UserId(get(row, "id")?),
        name: get::<&str>(row, "name")?.parse()?,
        email: get::<&str>(row, "email")?.parse()?,
        role: get::<&str>(row, "role")?.parse()?,
        disabled: get(row, "disabled")?,
        created_at: instant(row, "created_at")?,
    })
}

pub fn token_from_row(row: &SqliteRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId(get(row, "id")?),
        user_id: UserId(get(row, "user_id")?),
        name: get::<&str>(row, "name")?.parse()?,
        scope: get::<&str>(row, "scope")?.parse()?,
        created_at: instant(row, "created_at")?,
        expires_at: optional_instant(row, "expires_at")?,
        last_used_at: optional_instant(row, "last_used_at")?,
        revoked_at: optional_instant(row, "revoked_at")?,
    })
}
