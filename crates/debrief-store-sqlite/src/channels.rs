//! Notification channels and users' notification preferences on SQLite.
//!
//! Writes run in `BEGIN IMMEDIATE` transactions like every other write. A channel's name is
//! unique through the `name_key` column (its lower case, computed in Rust), so a concurrent
//! creation of the same name fails on the constraint rather than slipping past a check.

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::SqliteConnection;

use debrief_core::notify::{Channel, ChannelFields, ChannelId, Preferences};
use debrief_core::{UserId, Version};
use debrief_store::channels::{
    Channels, channel_name_key, channel_not_found, check_channel_edit, duplicate_channel,
    prepare_channel,
};
use debrief_store::{Edit, Result, StoreError, from_json, to_json};

use crate::rows::{CHANNEL_COLUMNS, backend, channel_from_row};
use crate::{SqliteStore, micros};

/// A unique violation on a channel's name becomes the duplicate-name error.
fn name_taken(fields: &ChannelFields) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => duplicate_channel(&fields.name),
        other => backend(other),
    }
}

async fn load_channel(conn: &mut SqliteConnection, id: ChannelId) -> Result<Channel> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .ok_or_else(|| channel_not_found(id))?;
    channel_from_row(&row)
}

fn user_not_found(id: UserId) -> StoreError {
    StoreError::NotFound(format!("user {}", id.0))
}

#[async_trait]
impl Channels for SqliteStore {
    async fn create_channel(&self, fields: ChannelFields, now: Timestamp) -> Result<Channel> {
        let fields = prepare_channel(fields)?;
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "INSERT INTO channels (name, name_key, enabled, version, created_at, updated_at, body)
             VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5) RETURNING {CHANNEL_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(fields.name.as_str())
            .bind(channel_name_key(&fields.name))
            .bind(fields.enabled)
            .bind(micros(now))
            .bind(to_json(&fields)?)
            .fetch_one(&mut *tx)
            .await
            .map_err(name_taken(&fields))?;
        let channel = channel_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(channel)
    }

    async fn list_channels(&self) -> Result<Vec<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(channel_from_row).collect()
    }

    async fn get_channel(&self, id: ChannelId) -> Result<Channel> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        load_channel(&mut conn, id).await
    }

    async fn update_channel(
        &self,
        id: ChannelId,
        expected: Version,
        fields: ChannelFields,
        now: Timestamp,
    ) -> Result<Channel> {
        let fields = prepare_channel(fields)?;
        let mut tx = self.begin_write().await?;
        let current = load_channel(&mut tx, id).await?;
        let Edit::Apply { version, .. } = check_channel_edit(&current, expected, &fields)? else {
            tx.rollback().await.map_err(backend)?;
            return Ok(current);
        };
        let sql = format!(
            "UPDATE channels SET name = ?2, name_key = ?3, enabled = ?4, version = ?5,
                 updated_at = ?6, body = ?7
             WHERE id = ?1 RETURNING {CHANNEL_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let channel = channel_from_row(&row)?;
        tx.commit().await.map_err(backend)?;
        Ok(channel)
    }

    async fn delete_channel(&self, id: ChannelId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM channels WHERE id = ?1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await.map_err(backend)?;
            return Err(channel_not_found(id));
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn preferences(&self, user: UserId) -> Result<Preferences> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT preferences FROM users WHERE id = ?1")
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
        let json = to_json(prefs)?;
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE users SET preferences = ?2 WHERE id = ?1")
            .bind(user.0)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if changed == 0 {
            tx.rollback().await.map_err(backend)?;
            return Err(user_not_found(user));
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}
