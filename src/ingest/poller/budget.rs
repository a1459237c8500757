//! The read budget: never more than `reads_per_minute` reads start in any rolling minute, and
//! a 429 pauses every read until its `Retry-After` has elapsed.
//!
//! Within that hard cap, reads are paced at `reads_per_minute / 60` per second with a small
//! burst allowance (a GCRA), instead of spending the whole minute's budget in one burst and
//! then starving for a minute: under overload a newly due high-priority read waits at most
//! about one pacing interval.
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
        if let Some(tat) = self.tat {
            at = at.max(tat.checked_sub(self.tolerance).unwrap_or(tat));
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
        w.record(now);
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
    async fn reads_are_paced_after_a_short_burst() {
        let budget = Budget::new(240);
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..(BURST + 8) {
            budget.start().await;
            starts.push(Instant::now() - t0);
        }
        let burst = usize::try_from(BURST).unwrap();
        assert!(starts[..burst].iter().all(|s| s.is_zero()), "{starts:?}");
        for pair in starts[burst..].windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_millis(250));
        }
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
