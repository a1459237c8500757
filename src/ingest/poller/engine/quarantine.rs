//! Setting an order aside for good (see [`crate::ingest::poller::nats::quarantine`] for what is
//! stored and why): counted, logged by id and reason only, stored, then no longer tracked.

use super::outlet::Outlet;
use super::Engine;
use crate::ingest::poller::metrics;
use crate::ingest::poller::nats::quarantine::Quarantined;
use crate::provider::sanity::Reason;
use crate::telemetry::ErrorChain;

impl<O: Outlet> Engine<O> {
    /// Resumes one stored quarantine entry.
    pub fn restore_quarantined(&mut self, id: u64) {
        self.quarantined.insert(id);
    }

    /// Orders quarantined (this run and before).
    pub fn quarantined(&self) -> usize {
        self.quarantined.len()
    }

    /// Sets `id` aside for good: stored first, then no longer tracked.
    pub(super) async fn quarantine(&mut self, id: u64, reason: Reason) {
        metrics::quarantined(reason);
        tracing::warn!(
            order_id = id,
            reason = reason.label(),
            "provider order cannot be processed; quarantined and skipped from now on"
        );
        let entry = Quarantined::new(reason, self.clock.now());
        if let Err(e) = self.outlet.quarantine(id, &entry).await {
            tracing::warn!(order_id = id, error = %ErrorChain(&e), "quarantine not stored; it is re-decided after a restart");
        }
        self.quarantined.insert(id);
        let stored = self.orders.contains_key(&id);
        self.untrack(id, stored).await;
    }
}
