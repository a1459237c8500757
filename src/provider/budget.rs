//! The read budget: never more than `reads_per_minute` reads start in any rolling minute, and
//! a 429 pauses every read until its `Retry-After` has elapsed.
//!
//! Within that hard cap, reads are paced at `reads_per_minute / 60` per second with a small
//! burst allowance (a GCRA), instead of spending the whole minute's budget in one burst and
//! then starving for a minute: under overload a newly due high-priority read waits at most
//! about one pacing interval.
//!
//! Reads come in three [`Lane`]s, so that a saturated budget never makes urgent work wait for
//! a minute's worth of routine reads to age out of the window: routine checks leave a few
//! reads of every window (and the burst) to fulfilment and discovery, and early checks on
//! spare budget leave a tenth of the budget unused.
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

/// Reads that may start back to back after an idle spell (at most the limit).
const BURST: u32 = 10;

/// Reads of every window that routine checks leave to urgent ones (at most a tenth of it).
/// A few are enough: under saturation each urgent read displaces one routine read, and the
/// reserve only has to cover urgent reads arriving faster than old starts leave the window.
const URGENT_RESERVE: usize = 4;

/// First backoff after a 5xx or network error; doubles per consecutive failure.
const BACKOFF_START: Duration = Duration::from_millis(200);
/// Longest backoff.
pub const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// Who a read is for, and so how much of the budget it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Fulfilment and discovery (and the client's retry after a 401): the whole limit and
    /// the burst.
    Urgent,
    /// Install and lifecycle checks: leave [`URGENT_RESERVE`] reads of every window (and the
    /// burst) to urgent reads, so those always find room.
    Regular,
    /// Early checks on spare budget: leave a tenth of every window unused, no burst.
    Spare,
}

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
    /// Pacing (GCRA): one read per `interval`, up to `tolerance` ahead of schedule.
    interval: Duration,
    tolerance: Duration,
    /// The pacing schedule's next theoretical start.
    tat: Option<Instant>,
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

    /// The window cap and the pacing tolerance of a lane.
    fn lane(&self, lane: Lane) -> (usize, Duration) {
        let reserve = URGENT_RESERVE.min(self.limit / 10);
        match lane {
            Lane::Urgent => (self.limit, self.tolerance),
            Lane::Regular => (self.limit - reserve, Duration::ZERO),
            Lane::Spare => (self.limit - reserve.max(self.limit / 10), Duration::ZERO),
        }
    }

    fn available_at(&mut self, now: Instant, lane: Lane) -> Instant {
        self.prune(now);
        let (limit, tolerance) = self.lane(lane);
        let mut at = now;
        if self.starts.len() >= limit {
            // The start that must leave the window before another may begin.
            let idx = self.starts.len() - limit;
            at = at.max(self.starts[idx] + WINDOW + SLACK);
        }
        if let Some(until) = self.paused_until {
            at = at.max(until);
        }
        if let Some(tat) = self.tat {
            at = at.max(tat.checked_sub(tolerance).unwrap_or(tat));
        }
        at
    }

    fn record(&mut self, now: Instant) {
        self.starts.push_back(now);
        let tat = self.tat.map_or(now, |t| t.max(now));
        self.tat = Some(tat + self.interval);
    }
}

impl Budget {
    /// A budget of `reads_per_minute` (at least 1).
    pub fn new(reads_per_minute: u32) -> Self {
        let per_minute = reads_per_minute.max(1);
        let limit = usize::try_from(per_minute).unwrap_or(usize::MAX);
        let interval = WINDOW / per_minute;
        Self {
            inner: Arc::new(Mutex::new(Window {
                limit,
                starts: VecDeque::new(),
                paused_until: None,
                interval,
                tolerance: interval * (BURST.min(per_minute) - 1),
                tat: None,
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

    /// The earliest instant an urgent read may start (now, if one may start now).
    pub fn available_at(&self, now: Instant) -> Instant {
        self.available_at_for(now, Lane::Urgent)
    }

    /// The earliest instant a read of `lane` may start.
    pub fn available_at_for(&self, now: Instant, lane: Lane) -> Instant {
        self.lock().available_at(now, lane)
    }

    /// Admits an urgent read starting at `now`, or says nothing may start yet.
    pub fn try_start(&self, now: Instant) -> Option<Slot> {
        self.try_start_for(now, Lane::Urgent)
    }

    /// Admits a read of `lane` starting at `now`, or says it may not start yet.
    pub fn try_start_for(&self, now: Instant, lane: Lane) -> Option<Slot> {
        let mut w = self.lock();
        if w.available_at(now, lane) > now {
            return None;
        }
        w.record(now);
        Some(Slot(()))
    }

    /// Waits until an urgent read may start, then admits it.
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
#[path = "budget_tests.rs"]
mod tests;
