//! The jobs part of the port for Sqlite. (Filled in by the follow-through issue.)

use async_trait::async_trait;
use debrief_store::jobs::Jobs;

use crate::SqliteStore;

#[async_trait]
impl Jobs for SqliteStore {}
