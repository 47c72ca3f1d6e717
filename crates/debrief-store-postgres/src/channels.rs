//! Notification channels and users' notification preferences on PostgreSQL.
//!
//! A channel's name is unique through the `name_key` column (its lower case, computed in Rust as
//! on SQLite): two instances creating the same name at once meet on the constraint, and the
//! second is told the name is taken. An edit locks the channel's row, so its version check and
//! write cannot interleave with another edit.

use async_trait::async_trait;
use debrief_core::notify::{Channel, ChannelFields, ChannelId, Preferences};
use debrief_core::{UserId, Version};
use debrief_store::channels::{
    Channels, channel_name_key, channel_not_found, check_channel_edit, duplicate_channel,
    prepare_channel,
};
use debrief_store::{Edit, Result, StoreError, from_json, to_json};
use jiff::Timestamp;

use crate::PostgresStore;
use crate::rows::{self, ChannelRow, backend, channel_columns, micros};

/// A unique violation on a channel's name becomes the duplicate-name error.
fn name_taken(fields: &ChannelFields) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
            duplicate_channel(&fields.name)
        }
        _ => backend(e),
    }
}

fn user_not_found(id: UserId) -> StoreError {
    StoreError::NotFound(format!("user {}", id.0))
}

#[async_trait]
impl Channels for PostgresStore {
    async fn create_channel(&self, fields: ChannelFields, now: Timestamp) -> Result<Channel> {
        let fields = prepare_channel(fields)?;
        let row: ChannelRow = sqlx::query_as(concat!(
            "INSERT INTO channels AS c
                 (name, name_key, enabled, version, created_at, updated_at, body)
             VALUES ($1, $2, $3, 1, $4, $4, $5::jsonb) RETURNING ",
            channel_columns!()
        ))
        .bind(fields.name.as_str())
        .bind(channel_name_key(&fields.name))
        .bind(fields.enabled)
        .bind(micros(now))
        .bind(to_json(&fields)?)
        .fetch_one(&self.pool)
        .await
        .map_err(name_taken(&fields))?;
        rows::channel(row)
    }

    async fn list_channels(&self) -> Result<Vec<Channel>> {
        let rows: Vec<ChannelRow> = sqlx::query_as(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels c ORDER BY c.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(rows::channel).collect()
    }

    async fn get_channel(&self, id: ChannelId) -> Result<Channel> {
        let row: Option<ChannelRow> = sqlx::query_as(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels c WHERE c.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        rows::channel(row.ok_or_else(|| channel_not_found(id))?)
    }

    async fn update_channel(
        &self,
        id: ChannelId,
        expected: Version,
        fields: ChannelFields,
        now: Timestamp,
    ) -> Result<Channel> {
        let fields = prepare_channel(fields)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let row: Option<ChannelRow> = sqlx::query_as(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels c WHERE c.id = $1 FOR UPDATE"
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let current = rows::channel(row.ok_or_else(|| channel_not_found(id))?)?;
        let Edit::Apply { version, .. } = check_channel_edit(&current, expected, &fields)? else {
            tx.rollback().await.map_err(backend)?;
            return Ok(current);
        };
        let row: ChannelRow = sqlx::query_as(concat!(
            "UPDATE channels c
             SET name = $2, name_key = $3, enabled = $4, version = $5, updated_at = $6,
                 body = $7::jsonb
             WHERE c.id = $1 RETURNING ",
            channel_columns!()
        ))
        .bind(id.0)
        .bind(fields.name.as_str())
        .bind(channel_name_key(&fields.name))
        .bind(fields.enabled)
        .bind(version.0)
        .bind(micros(now))
        .bind(to_json(&fields)?)
        .fetch_one(&mut *tx)
        .await
        .map_err(name_taken(&fields))?;
        let channel = rows::channel(row)?;
        tx.commit().await.map_err(backend)?;
        Ok(channel)
    }

    async fn delete_channel(&self, id: ChannelId) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM channels WHERE id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        if deleted == 0 {
            return Err(channel_not_found(id));
        }
        Ok(())
    }

    async fn preferences(&self, user: UserId) -> Result<Preferences> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT preferences::text FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        match stored.ok_or_else(|| user_not_found(user))? {
            Some(json) => from_json("preferences", &json),
            None => Ok(Preferences::default()),
        }
    }

    async fn set_preferences(&self, user: UserId, prefs: &Preferences) -> Result<()> {
        let changed = sqlx::query("UPDATE users SET preferences = $2::jsonb WHERE id = $1")
            .bind(user.0)
            .bind(to_json(prefs)?)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        if changed == 0 {
            return Err(user_not_found(user));
        }
        Ok(())
    }
}
