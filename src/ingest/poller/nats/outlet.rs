//! [`NatsOutlet`]: the engine's [`Outlet`] port filled with NATS: events to JetStream, then
//! state to KV, in that order.

use super::quarantine::Quarantined;
use super::state::{StateStore, StoredOrder};
use crate::ingest::poller::cursor::Cursor;
use crate::ingest::poller::engine::learned::Learned;
use crate::ingest::poller::engine::{Outlet, OutletError};
use crate::publish::{Published, Publisher};
use esim_events::Event;
use tracing::Instrument;

/// JetStream events and KV state.
#[derive(Clone)]
pub struct NatsOutlet {
    publisher: Publisher,
    state: StateStore,
}

impl NatsOutlet {
    pub fn new(publisher: Publisher, state: StateStore) -> Self {
        Self { publisher, state }
    }
}

impl Outlet for NatsOutlet {
    /// One observation's events, in a trace of their own (`traceparent` on each message).
    async fn publish(&self, events: &[Event]) -> Result<Vec<bool>, OutletError> {
        let order = events.first().map(|e| e.data.id);
        let span = tracing::info_span!(parent: None, "poll_observation", order = order);
        let outcomes = self.publisher.publish_all(events).instrument(span).await?;
        Ok(outcomes
            .into_iter()
            .map(|o| matches!(o, Published::Stored { .. }))
            .collect())
    }

    async fn save(&self, id: u64, order: &StoredOrder) -> Result<(), OutletError> {
        Ok(self.state.save(id, order).await?)
    }

    async fn forget(&self, id: u64) -> Result<(), OutletError> {
        Ok(self.state.forget(id).await?)
    }

    async fn save_cursor(&self, cursor: &Cursor) -> Result<(), OutletError> {
        Ok(self.state.save_discovery(cursor).await?)
    }

    async fn quarantine(&self, id: u64, entry: &Quarantined) -> Result<(), OutletError> {
        Ok(self.state.save_quarantine(id, entry).await?)
    }

    async fn save_learned(&self, learned: &Learned) -> Result<(), OutletError> {
        Ok(self.state.save_learned(learned).await?)
    }
}
