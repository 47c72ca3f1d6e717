//! The durable job queue part of the storage port: jobs in the database, claimed with a lease by
//! every instance, retried with backoff, parked when they keep failing. (Filled in by the
//! follow-through issue.)

use async_trait::async_trait;

/// The job queue. Every method is atomic.
#[async_trait]
pub trait Jobs: Send + Sync {}
