//! The engine's port for its side effects: [`Outlet`] is what the engine needs done with what
//! it observed (events stored, then state), defined here by its user. The real one is
//! `nats::NatsOutlet`; the engine tests and the benchmark record events in memory instead, so
//! the engine runs in virtual time with no socket between its tasks.

use std::future::Future;

use super::learned::Learned;
use crate::ingest::poller::cursor::Cursor;
use crate::ingest::poller::nats::quarantine::Quarantined;
use crate::ingest::poller::nats::state::{StateError, StoredOrder};
use crate::publish::PublishError;
use esim_events::Event;

/// Why an outlet call failed; [`OutletError::is_permanent`] tells the engine whether to
/// pause and retry (NATS down or slow) or to set the order aside.
#[derive(Debug, thiserror::Error)]
pub enum OutletError {
    /// The events were not all stored.
    #[error("events not stored")]
    Publish(#[from] PublishError),
    /// The poll state (KV) was not written or removed.
    #[error("poll state not stored")]
    State(#[from] StateError),
}

impl OutletError {
    /// Refused for good (an invalid event, or the server refuses it): retrying will not help.
    /// Everything else (NATS down or slow, KV failures) is worth another try later.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Publish(e) if !e.is_unavailable())
    }
}

/// The engine's side effects. Implementations must be idempotent per event and per key.
pub trait Outlet: Send + Sync {
    /// Publishes in order and waits for every ack; per event, `true` if it was stored now
    /// (`false`: already in the stream, e.g. first seen by webhook).
    fn publish(
        &self,
        events: &[Event],
    ) -> impl Future<Output = Result<Vec<bool>, OutletError>> + Send;
    /// Stores one tracked order's state.
    fn save(
        &self,
        id: u64,
        order: &StoredOrder,
    ) -> impl Future<Output = Result<(), OutletError>> + Send;
    /// Drops a finished order's state.
    fn forget(&self, id: u64) -> impl Future<Output = Result<(), OutletError>> + Send;
    /// Stores the discovery cursor.
    fn save_cursor(&self, cursor: &Cursor) -> impl Future<Output = Result<(), OutletError>> + Send;
    /// Stores that an order is quarantined (see `quarantine`).
    fn quarantine(
        &self,
        id: u64,
        entry: &Quarantined,
    ) -> impl Future<Output = Result<(), OutletError>> + Send;
    /// Stores what the schedule learned (see `learned`). Outlets that keep no state (the
    /// engine tests, the benchmark) need not: a restart there starts from nothing anyway.
    fn save_learned(
        &self,
        learned: &Learned,
    ) -> impl Future<Output = Result<(), OutletError>> + Send {
        let _ = learned;
        async { Ok(()) }
    }
}
