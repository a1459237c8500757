//! A fixed number of slots where the longest-idle holder gives way to a newcomer.
//!
//! A slot is either *busy* (doing work that must not be cut: a connection serving a request, a
//! request whose body is complete) or *yielding* (a connection waiting for a request, a request
//! still receiving its body). When the pool is full, [`Pool::admit`] preempts the holder that
//! has been yielding the longest (its [`Slot::preempted`] resolves) and admits the newcomer in its
//! place; only if every slot is busy is the newcomer refused. So a client that holds slots
//! without finishing anything (idle connections, trickled bodies) can delay nobody for long: a
//! real request, which becomes busy microseconds after it arrives, takes an idle one's slot.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The pool; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Pool {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Increases on every transition to yielding: the smallest key yielded the longest.
    next: u64,
    yielding: BTreeMap<u64, CancellationToken>,
    busy: usize,
}

/// Why [`Pool::admit`] refused a newcomer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every slot is busy")]
pub struct Full;

/// Why a holder lost its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the slot was given to a newcomer")]
pub struct Preempted;

/// One held slot, yielding when admitted; released on drop.
#[derive(Debug)]
pub struct Slot {
    pool: Arc<Pool>,
    token: CancellationToken,
    /// `Some(key)` while yielding, `None` while busy.
    key: Option<u64>,
}

impl Pool {
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity,
            state: Mutex::default(),
        })
    }

    /// A yielding slot, preempting the longest-yielding holder if the pool is full.
    pub fn admit(self: &Arc<Self>) -> Result<Slot, Full> {
        let mut state = self.lock();
        if state.yielding.len().saturating_add(state.busy) >= self.capacity {
            let (_, oldest) = state.yielding.pop_first().ok_or(Full)?;
            oldest.cancel();
        }
        let token = CancellationToken::new();
        let key = state.push(token.clone());
        Ok(Slot {
            pool: self.clone(),
            token,
            key: Some(key),
        })
    }

    /// Preempts every yielding holder (on shutdown: idle connections close at once).
    pub fn preempt_yielding(&self) {
        let yielding = std::mem::take(&mut self.lock().yielding);
        yielding.values().for_each(CancellationToken::cancel);
    }

    /// Slots held now (busy or yielding).
    #[cfg(test)]
    pub fn held(&self) -> usize {
        let state = self.lock();
        state.yielding.len().saturating_add(state.busy)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The critical sections cannot panic; a poisoned lock still holds consistent counts.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn push(&mut self, token: CancellationToken) -> u64 {
        let key = self.next;
        self.next = self.next.wrapping_add(1);
        self.yielding.insert(key, token);
        key
    }
}

impl Slot {
    /// Marks the slot busy: it can no longer be preempted. Fails if it already was.
    pub fn busy(&mut self) -> Result<(), Preempted> {
        let Some(key) = self.key else {
            return Ok(());
        };
        let mut state = self.pool.lock();
        if state.yielding.remove(&key).is_none() {
            return Err(Preempted);
        }
        state.busy = state.busy.saturating_add(1);
        self.key = None;
        Ok(())
    }

    /// Marks the slot yielding again (newest in line to give way). Fails if it was preempted.
    pub fn yielding(&mut self) -> Result<(), Preempted> {
        if self.key.is_some() {
            return self.check();
        }
        let mut state = self.pool.lock();
        state.busy = state.busy.saturating_sub(1);
        self.key = Some(state.push(self.token.clone()));
        drop(state);
        self.check()
    }

    /// Resolves once the slot was given to a newcomer (never while busy).
    pub fn preempted(&self) -> WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }

    fn check(&self) -> Result<(), Preempted> {
        if self.token.is_cancelled() {
            return Err(Preempted);
        }
        Ok(())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.key {
            Some(key) => {
                state.yielding.remove(&key);
            }
            None => state.busy = state.busy.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_pool_preempts_the_longest_yielding_holder_and_never_a_busy_one() {
        let pool = Pool::new(3);
        let mut busy = pool.admit().expect("room");
        busy.busy().expect("not preempted");
        let old = pool.admit().expect("room");
        let young = pool.admit().expect("room");
        assert_eq!(pool.held(), 3);

        let newcomer = pool.admit().expect("the oldest yielding holder gives way");
        assert!(old.token.is_cancelled() && !young.token.is_cancelled());
        assert!(!busy.token.is_cancelled());
        assert_eq!(pool.held(), 3);
        drop(old); // the preempted holder leaves: no double release
        assert_eq!(pool.held(), 3);

        let mut young = young;
        young.busy().expect("still held");
        let mut newcomer = newcomer;
        newcomer.busy().expect("still held");
        assert_eq!(pool.admit().map(drop), Err(Full), "every slot is busy");
        assert_eq!(pool.held(), 3);
    }

    #[test]
    fn a_holder_that_yields_again_queues_behind_older_yielders() {
        let pool = Pool::new(2);
        let mut a = pool.admit().expect("room");
        let b = pool.admit().expect("room");
        a.busy().expect("held");
        a.yielding().expect("held"); // a is now younger than b
        let _c = pool.admit().expect("b gives way");
        assert!(b.token.is_cancelled() && !a.token.is_cancelled());
        let mut b = b;
        assert_eq!(b.busy(), Err(Preempted));
        assert_eq!(pool.held(), 2);
    }

    #[test]
    fn releases_and_shutdown_free_every_slot() {
        let pool = Pool::new(4);
        let slots: Vec<Slot> = (0..4).map(|_| pool.admit().expect("room")).collect();
        let mut busy = pool.admit().expect("preempts one");
        busy.busy().expect("held");
        pool.preempt_yielding();
        assert_eq!(pool.held(), 1, "only the busy slot is left");
        assert!(slots.iter().all(|s| s.token.is_cancelled()));
        drop(slots);
        drop(busy);
        assert_eq!(pool.held(), 0);
    }
}
