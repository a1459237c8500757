//! The simulator's clock: simulated "now" = base wall time + scaled tokio time + manual offset.
//!
//! Everything the provider would timestamp (order creation, transitions, webhooks' `created_at`)
//! reads [`SimClock::now`]. It is built on `tokio::time::Instant`, so tests running under
//! `tokio::time::pause()` get virtual time for free, and [`SimClock::advance`] jumps lifecycles
//! forward without waiting. Token lifetimes and rate-limit windows deliberately use unscaled
//! tokio time ([`SimClock::wall_now`]): they model the provider's real clock, not order lifecycles.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::lock::lock;

/// A cheap-to-clone handle on the simulated time.
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Wall time that corresponds to `base_instant`.
    base_wall: OffsetDateTime,
    /// Tokio instant at which the clock was created.
    base_instant: Instant,
    /// Simulated seconds per real second (1.0 = real time).
    speed: f64,
    /// Sum of all manual [`SimClock::advance`] calls.
    offset: Mutex<Duration>,
    /// Wakes sleepers when the offset jumps, so they recompute their deadline.
    advanced: Notify,
}

impl SimClock {
    /// A clock starting at `base_wall` (now if `None`), running `speed` times faster than tokio
    /// time. A non-finite or non-positive speed is treated as 1.0 (config validation rejects it).
    pub fn new(base_wall: Option<OffsetDateTime>, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self {
            inner: Arc::new(Inner {
                base_wall: base_wall.unwrap_or_else(OffsetDateTime::now_utc),
                base_instant: Instant::now(),
                speed,
                offset: Mutex::new(Duration::ZERO),
                advanced: Notify::new(),
            }),
        }
    }

    /// Simulated now.
    pub fn now(&self) -> OffsetDateTime {
        let scaled = self.elapsed().mul_f64(self.inner.speed);
        self.inner.base_wall + scaled + *lock(&self.inner.offset)
    }

    /// The provider's "real" wall clock: base + unscaled tokio time, ignoring `advance`.
    pub fn wall_now(&self) -> OffsetDateTime {
        self.inner.base_wall + self.elapsed()
    }

    /// Tokio time elapsed since the clock was created.
    pub fn elapsed(&self) -> Duration {
        self.inner.base_instant.elapsed()
    }

    /// The tokio instant the clock started at (for counters expressed as offsets).
    pub fn started(&self) -> Instant {
        self.inner.base_instant
    }

    /// Speed factor (simulated seconds per real second).
    pub fn speed(&self) -> f64 {
        self.inner.speed
    }

    /// Jumps simulated time forward by `by`, waking every [`SimClock::sleep_until`].
    pub fn advance(&self, by: Duration) -> OffsetDateTime {
        {
            let mut offset = lock(&self.inner.offset);
            *offset = offset.saturating_add(by);
        }
        self.inner.advanced.notify_waiters();
        self.now()
    }

    /// Sleeps until simulated time reaches `target`, also waking early on manual advances.
    pub async fn sleep_until(&self, target: OffsetDateTime) {
        loop {
            let mut advanced = pin!(self.inner.advanced.notified());
            // Register before reading the time so an advance in between is not missed.
            advanced.as_mut().enable();
            let now = self.now();
            if now >= target {
                return;
            }
            let remaining = Duration::try_from(target - now).unwrap_or(Duration::ZERO);
            let real = remaining
                .div_f64(self.inner.speed)
                .max(Duration::from_millis(1));
            tokio::select! {
                _ = tokio::time::sleep(real) => {}
                _ = advanced => {}
            }
        }
    }
}

/// Truncates to whole seconds in UTC, the precision the provider's timestamps carry.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.replace_nanosecond(0).unwrap_or(utc)
}

/// Formats as RFC 3339 UTC with whole seconds (`2026-05-15T14:30:32Z`), as the provider writes
/// timestamps.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    whole_seconds(t)
        .format(&time::format_description::well_known::Rfc3339)
        // Only years outside 0..=9999 fail to format; the simulator never produces them.
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test(start_paused = true)]
    async fn sim_time_scales_tokio_time_and_adds_manual_offset() {
        let clock = SimClock::new(Some(datetime!(2026-05-15 12:00 UTC)), 60.0);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(clock.now(), datetime!(2026-05-15 12:10 UTC));
        assert_eq!(clock.wall_now(), datetime!(2026-05-15 12:00:10 UTC));
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clock.now(), datetime!(2026-05-15 13:10 UTC));
        assert_eq!(clock.wall_now(), datetime!(2026-05-15 12:00:10 UTC));
    }

    #[tokio::test(start_paused = true)]
    async fn sleeper_wakes_on_manual_advance() {
        let clock = SimClock::new(Some(datetime!(2026-05-15 12:00 UTC)), 1.0);
        let target = datetime!(2026-05-16 12:00 UTC);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move {
                clock.sleep_until(target).await;
                clock.now()
            }
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(86_400));
        let woke_at = sleeper.await.map_err(|e| e.to_string());
        assert_eq!(woke_at, Ok(datetime!(2026-05-16 12:00 UTC)));
        // Only a moment of tokio time passed: the advance, not the timer, woke it.
        assert!(clock.elapsed() < Duration::from_secs(1));
    }
}
