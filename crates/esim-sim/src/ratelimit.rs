//! A rolling-window rate limiter on tokio time: at most `limit` admissions in any `window`.
//!
//! Rejections do not consume budget. A rejection says how long until the oldest admission
//! leaves the window, rounded *up* to whole seconds, so a client waiting exactly that long
//! always finds a free slot.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// The provider's window for every documented limit.
pub const MINUTE: Duration = Duration::from_secs(60);

/// Admissions within the last `window`.
#[derive(Debug)]
pub struct RollingWindow {
    limit: usize,
    window: Duration,
    admitted: VecDeque<Instant>,
}

impl RollingWindow {
    /// A limiter admitting `limit` per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit as usize,
            window,
            admitted: VecDeque::new(),
        }
    }

    fn prune(&mut self, now: Instant) {
        while self
            .admitted
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.window)
        {
            self.admitted.pop_front();
        }
    }

    /// Admits at `now`, or returns the whole seconds until a slot frees (at least 1).
    pub fn try_admit(&mut self, now: Instant) -> Result<(), u64> {
        self.prune(now);
        if self.admitted.len() < self.limit {
            self.admitted.push_back(now);
            return Ok(());
        }
        let frees_at = self
            .admitted
            .front()
            .map_or(now + self.window, |&t| t + self.window);
        Err(ceil_secs(frees_at.saturating_duration_since(now)).max(1))
    }

    /// Admissions currently inside the window.
    #[cfg(test)]
    pub fn in_window(&mut self, now: Instant) -> usize {
        self.prune(now);
        self.admitted.len()
    }

    /// Changes the limit (existing admissions stay counted).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit as usize;
    }
}

/// Rounds a duration up to whole seconds.
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rejects_the_n_plus_first_and_frees_the_oldest_slot_after_retry_after() {
        let mut w = RollingWindow::new(3, MINUTE);
        assert!(w.try_admit(Instant::now()).is_ok());
        tokio::time::advance(Duration::from_millis(10_500)).await;
        assert!(w.try_admit(Instant::now()).is_ok());
        assert!(w.try_admit(Instant::now()).is_ok());
        let retry = w.try_admit(Instant::now());
        assert_eq!(retry, Err(50), "49.5 s rounds up to 50");
        // The rejection consumed nothing.
        assert_eq!(w.in_window(Instant::now()), 3);
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(w.try_admit(Instant::now()).is_ok());
        assert!(w.try_admit(Instant::now()).is_err());
    }
}
