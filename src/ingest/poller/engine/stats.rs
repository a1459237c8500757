//! The engine's figures, shared live with whoever holds a handle (tests, the benchmark); the
//! same figures go to Prometheus gauges.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::schedule::{Class, Pick, Ready};

/// A snapshot of the figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Orders tracked, and how many of them are PENDING.
    pub tracked: usize,
    pub pending: usize,
    /// Per class ([`Class::ALL`](super::schedule::Class::ALL) order): how overdue the oldest waiting item is now.
    pub stretch: [Duration; 5],
    /// Per class: the largest lateness of any read started so far.
    pub max_late: [Duration; 5],
    /// Per class: due reads started (strict priority or reserved share), and their total
    /// lateness.
    pub served: [u64; 5],
    pub total_late: [Duration; 5],
    /// Of those, reads the reserved share gave to a lower class.
    pub reserved: u64,
    /// Per class: early checks on spare budget (not counted above).
    pub early: [u64; 5],
}

impl Figures {
    /// Reads of `classes` so far: due ones and early checks.
    pub fn reads(&self, classes: &[Class]) -> u64 {
        classes
            .iter()
            .map(|c| self.served[*c as usize] + self.early[*c as usize])
            .sum()
    }
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

    pub(super) fn served<K>(&self, ready: &Ready<K>) {
        let mut f = self.lock();
        let i = ready.class as usize;
        if ready.pick == Pick::Early {
            f.early[i] += 1;
            return;
        }
        f.reserved += u64::from(ready.pick == Pick::Reserved);
        f.served[i] += 1;
        f.total_late[i] += ready.late;
        f.max_late[i] = f.max_late[i].max(ready.late);
    }

    pub(super) fn update(&self, tracked: usize, pending: usize, stretch: [Duration; 5]) {
        let mut f = self.lock();
        f.tracked = tracked;
        f.pending = pending;
        f.stretch = stretch;
    }
}
