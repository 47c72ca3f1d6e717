//! The notification part of the storage port: the channels admins configure (where notifications
//! go) and each user's notification preferences (which topics they receive).
//!
//! A channel is a record like the others: it has a version, and an edit made on an older version
//! is refused with the current channel (its secrets redacted). Its name is unique without regard
//! to case, so `Mail` and `mail` cannot both exist. Channels belong to no postmortem, so their
//! changes are not in a postmortem's revision history.
//!
//! A user's preferences live with their account; a user who never chose has the default
//! ([`Preferences::default`]: every topic).

use async_trait::async_trait;
use jiff::Timestamp;

use debrief_core::notify::{Channel, ChannelFields, ChannelId, Preferences};
use debrief_core::{Name, UserId, Version};

use crate::{Edit, Result, StoreError};

/// Channels and notification preferences. Every method is atomic.
#[async_trait]
pub trait Channels: Send + Sync {
    /// Stores a new channel at version 1, created and updated at `now`. Refused, writing nothing:
    /// fields that fail [`ChannelFields::validate`] ([`StoreError::Invalid`] naming the field),
    /// and a name another channel has, compared without regard to case
    /// ([`StoreError::Duplicate`]: "a channel named … already exists").
    async fn create_channel(&self, fields: ChannelFields, now: Timestamp) -> Result<Channel>;
    /// Every channel, by id.
    async fn list_channels(&self) -> Result<Vec<Channel>>;
    /// The channel, or [`StoreError::NotFound`] (`channel 7`).
    async fn get_channel(&self, id: ChannelId) -> Result<Channel>;
    /// Replaces a channel's fields, made on version `expected`: a stale version is
    /// [`StoreError::Conflict`] carrying the current channel with its secrets redacted; equal
    /// fields change nothing (no new version); otherwise the next version, updated at `now`.
    /// Invalid fields and a name another channel has are refused as by
    /// [`create_channel`](Channels::create_channel).
    async fn update_channel(
        &self,
        id: ChannelId,
        expected: Version,
        fields: ChannelFields,
        now: Timestamp,
    ) -> Result<Channel>;
    /// Deletes a channel; [`StoreError::NotFound`] when there is none with this id. Its name is
    /// free again.
    async fn delete_channel(&self, id: ChannelId) -> Result<()>;

    /// What the user chose to receive: [`Preferences::default`] (every topic) until they chose.
    /// [`StoreError::NotFound`] (`user 7`) when there is no such user.
    async fn preferences(&self, user: UserId) -> Result<Preferences>;
    /// Stores the user's choice. [`StoreError::NotFound`] when there is no such user.
    async fn set_preferences(&self, user: UserId, prefs: &Preferences) -> Result<()>;
}

/// Checks a channel before it is written: every field a send would trip over later.
pub fn prepare_channel(fields: ChannelFields) -> Result<ChannelFields> {
    fields.validate()?;
    Ok(fields)
}

/// A channel's name as uniqueness compares it: without regard to case (Unicode lower case, the
/// same in every database).
pub fn channel_name_key(name: &Name) -> String {
    name.as_str().trim().to_lowercase()
}

/// The error when no channel has this id.
pub fn channel_not_found(id: ChannelId) -> StoreError {
    StoreError::NotFound(format!("channel {id}"))
}

/// The error when another channel has this name (without regard to case).
pub fn duplicate_channel(name: &Name) -> StoreError {
    StoreError::Duplicate(format!("a channel named {name}"))
}

/// The channel as it may be shown to whoever made a stale edit: its secrets redacted.
pub fn redacted_channel(channel: &Channel) -> Channel {
    let mut shown = channel.clone();
    shown.fields.target = channel.fields.target.redacted();
    shown
}

/// The optimistic-concurrency rule for a channel edit (see [`crate::check_edit`]); the conflict
/// carries the current channel with its secrets redacted. Channels have no revision history, so
/// the field changes are not computed.
pub fn check_channel_edit(
    current: &Channel,
    expected: Version,
    new: &ChannelFields,
) -> Result<Edit> {
    if current.version != expected {
        return Err(StoreError::conflict(
            format!("channel {}", current.id),
            current.version,
            &redacted_channel(current),
        ));
    }
    if &current.fields == new {
        return Ok(Edit::Unchanged);
    }
    Ok(Edit::Apply {
        version: Version(current.version.0 + 1),
        changes: Vec::new(),
    })
}
