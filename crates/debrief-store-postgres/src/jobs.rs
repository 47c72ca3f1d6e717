//! The jobs part of the port for PostgreSQL. (Filled in by the follow-through issue.)

use async_trait::async_trait;
use debrief_store::jobs::Jobs;

use crate::PostgresStore;

#[async_trait]
impl Jobs for PostgresStore {}
