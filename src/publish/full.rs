//! A full events stream, said once: the first refusal logs why (and what to do), the first
//! stored event after it says the stream accepts again. Requests in between answer 503 without
//! repeating the cause, and `esim_bridge_stream_full` shows the state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::telemetry::ErrorChain;

/// Whether the last publish found the stream full; shared by every clone of a publisher.
#[derive(Clone, Default)]
pub(super) struct FullState(Arc<AtomicBool>);

impl FullState {
    /// A publish was refused because the stream is full.
    pub fn refused(&self, stream_error: &(dyn std::error::Error + 'static)) {
        if !self.0.swap(true, Ordering::Relaxed) {
            metrics::gauge!("esim_bridge_stream_full").set(1.0);
            tracing::error!(
                error = %ErrorChain(stream_error),
                "events stream full (discard: new, max_msgs or max_bytes reached): events are \
                 refused with 503 until an operator raises the limit or removes messages"
            );
        }
    }

    /// An event was stored (or found stored).
    pub fn accepted(&self) {
        if self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::Relaxed) {
            metrics::gauge!("esim_bridge_stream_full").set(0.0);
            tracing::info!("events stream accepts events again");
        }
    }
}
