//! The engine's figures, shared live with whoever holds a handle (tests, the benchmark); the
//! same figures go to Prometheus gauges.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::schedule::Class;

/// A snapshot of the figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Orders tracked, and how many of them are PENDING.
    pub tracked: usize,
    pub pending: usize,
    /// Per class ([`Class::ALL`] order): how overdue the oldest waiting item is now.
    pub stretch: [Duration; 5],
    /// Per class: the largest lateness of any read started so far.
    pub max_late: [Duration; 5],
    /// Per class: reads started, and their total lateness.
    pub served: [u64; 5],
    pub total_late: [Duration; 5],
}

/// A shared handle on the figures; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    inner: Arc<Mutex<Figures>>,
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, Figures> {
        // Plain counters: a panic mid-update cannot leave them unusable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the figures.
    pub fn figures(&self) -> Figures {
        self.lock().clone()
    }

    pub(super) fn served(&self, class: Class, late: Duration) {
        let mut f = self.lock();
        let i = class as usize;
        f.served[i] += 1;
        f.total_late[i] += late;
        f.max_late[i] = f.max_late[i].max(late);
    }

    pub(super) fn update(&self, tracked: usize, pending: usize, stretch: [Duration; 5]) {
        let mut f = self.lock();
        f.tracked = tracked;
        f.pending = pending;
        f.stretch = stretch;
    }
}
