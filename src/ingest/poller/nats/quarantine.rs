//! Orders the poller cannot process, set aside for good instead of wedging the rest.
//!
//! An order whose data fails [`sanity::check`](crate::provider::sanity::check), cannot become events,
//! is refused by the stream for good, or makes its processing panic is quarantined: counted
//! (`esim_bridge_poller_quarantined_total{reason}`), logged with its id and reason category
//! only (never its content), no longer tracked, and stored under `quarantine.<id>` in the
//! state bucket *before* its order state is dropped, so it stays skipped across restarts and
//! replicas. `status` lists them by reason. Entries older than `upstream.cadence.give_up_after`
//! are dropped at load; deleting the key (`nats kv del <bucket> quarantine.<id>`) lets a fixed
//! order be discovered again.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::state::{StateError, StateStore};
use crate::provider::clock;
use crate::provider::sanity::Reason;

/// The key prefix of quarantined orders.
pub const QUARANTINE_PREFIX: &str = "quarantine.";

/// One quarantined order as stored under `quarantine.<id>`: why and since when, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    pub reason: Reason,
    /// Unix ms.
    pub at_ms: i64,
}

impl Quarantined {
    pub fn new(reason: Reason, at: OffsetDateTime) -> Self {
        Self {
            reason,
            at_ms: clock::unix_ms(at),
        }
    }

    /// Older than `keep` at `now`: forgotten at load.
    pub fn expired(&self, now: OffsetDateTime, keep: Duration) -> bool {
        let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        clock::unix_ms(now).saturating_sub(self.at_ms) > keep_ms
    }
}

impl StateStore {
    /// Stores one quarantined order.
    pub async fn save_quarantine(&self, id: u64, entry: &Quarantined) -> Result<(), StateError> {
        let value = serde_json::to_vec(entry)?;
        self.put(format!("{QUARANTINE_PREFIX}{id}"), value).await
    }

    /// Streams every quarantined order to `each`; returns how many were read.
    pub async fn load_quarantined(
        &self,
        mut each: impl FnMut(u64, Quarantined),
    ) -> Result<usize, StateError> {
        self.scan(
            QUARANTINE_PREFIX,
            |id, payload| match serde_json::from_slice::<Quarantined>(payload) {
                Ok(q) => {
                    each(id, q);
                    true
                }
                Err(_) => false,
            },
        )
        .await
    }

    /// Drops an expired quarantine entry.
    pub async fn forget_quarantine(&self, id: u64) -> Result<(), StateError> {
        Ok(self.kv().purge(format!("{QUARANTINE_PREFIX}{id}")).await?)
    }
}
