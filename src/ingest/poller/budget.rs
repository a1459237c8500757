//! The read budget: never more than `reads_per_minute` reads start in any rolling minute, and
//! a 429 pauses every read until its `Retry-After` has elapsed.
//!
//! Shared by the scheduler (which reserves a [`Slot`] before choosing what to read) and the
//! client (which needs another slot for the one retry after a 401). Time is tokio time, so
//! tests and the benchmark run it deterministically under `tokio::time::pause()`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// The provider's rate-limit window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Each start occupies the budget a little longer than the window: the provider counts
/// arrivals, and request latency can bunch arrivals closer together than their starts.
const SLACK: Duration = Duration::from_secs(1);

/// First backoff after a 5xx or network error; doubles per consecutive failure.
const BACKOFF_START: Duration = Duration::from_millis(200);
/// Longest backoff.
pub const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// Proof that one read was admitted by the budget (created only by [`Budget`]).
#[derive(Debug)]
pub struct Slot(());

/// The shared rolling-window budget; cheap to clone.
#[derive(Debug, Clone)]
pub struct Budget {
    inner: Arc<Mutex<Window>>,
}

#[derive(Debug)]
struct Window {
    limit: usize,
    starts: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while self
            .starts
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= WINDOW + SLACK)
        {
            self.starts.pop_front();
        }
    }

    fn available_at(&mut self, now: Instant) -> Instant {
        self.prune(now);
        let mut at = now;
        if self.starts.len() >= self.limit {
            // The start that must leave the window before another may begin.
            let idx = self.starts.len() - self.limit;
            at = at.max(self.starts[idx] + WINDOW + SLACK);
        }
        if let Some(until) = self.paused_until {
            at = at.max(until);
        }
        at
    }
}

impl Budget {
    /// A budget of `reads_per_minute` (at least 1).
    pub fn new(reads_per_minute: u32) -> Self {
        let limit = usize::try_from(reads_per_minute.max(1)).unwrap_or(usize::MAX);
        Self {
            inner: Arc::new(Mutex::new(Window {
                limit,
                starts: VecDeque::new(),
                paused_until: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        // Every critical section leaves the window consistent, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads allowed per rolling minute.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Reads started in the current window.
    pub fn used(&self, now: Instant) -> usize {
        let mut w = self.lock();
        w.prune(now);
        w.starts.len()
    }

    /// The earliest instant a read may start (now, if one may start now).
    pub fn available_at(&self, now: Instant) -> Instant {
        self.lock().available_at(now)
    }

    /// Admits a read starting at `now`, or says nothing may start yet.
    pub fn try_start(&self, now: Instant) -> Option<Slot> {
        let mut w = self.lock();
        if w.available_at(now) > now {
            return None;
        }
        w.starts.push_back(now);
        Some(Slot(()))
    }

    /// Waits until a read may start, then admits it.
    pub async fn start(&self) -> Slot {
        loop {
            let now = Instant::now();
            if let Some(slot) = self.try_start(now) {
                return slot;
            }
            tokio::time::sleep_until(self.available_at(now)).await;
        }
    }

    /// A 429 said to wait: no read starts before `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut w = self.lock();
        w.paused_until = Some(w.paused_until.map_or(until, |u| u.max(until)));
    }

    /// When the current 429 pause ends, if one is running.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.lock().paused_until.filter(|&u| u > now)
    }
}

/// The wait before retry number `attempt` (1-based) after a 5xx or network error: 200 ms
/// doubling, capped at 10 s, with "equal jitter" (half fixed, half random) so that requests
/// failing together do not retry together.
pub fn backoff(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(16);
    let full = BACKOFF_START.saturating_mul(1 << exp).min(BACKOFF_CAP);
    let half = full / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_start_in_any_window() {
        let budget = Budget::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(budget.try_start(Instant::now()).is_some());
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert!(budget.try_start(Instant::now()).is_none());
        assert_eq!(budget.available_at(Instant::now()), t0 + WINDOW + SLACK);
        let mut starts = Vec::new();
        for _ in 0..6 {
            budget.start().await;
            starts.push(Instant::now());
        }
        for pair in starts.windows(4) {
            assert!(pair[3] - pair[0] >= WINDOW, "{pair:?}");
        }
        assert_eq!(budget.used(Instant::now()), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pause_holds_every_read() {
        let budget = Budget::new(100);
        let now = Instant::now();
        budget.pause_until(now + Duration::from_secs(7));
        budget.pause_until(now + Duration::from_secs(3));
        assert!(budget.try_start(now).is_none());
        assert_eq!(budget.paused_until(now), Some(now + Duration::from_secs(7)));
        budget.start().await;
        assert_eq!(Instant::now() - now, Duration::from_secs(7));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempt in 1..=20 {
            let full = BACKOFF_START
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_CAP);
            let b = backoff(attempt);
            assert!(b >= full / 2 && b <= full, "attempt {attempt}: {b:?}");
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}
