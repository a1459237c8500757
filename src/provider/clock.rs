//! The poller's clock: wall time pinned at start plus tokio's monotonic time since then.
//!
//! Due times live in a tokio `Instant` queue, while event timestamps and the KV state need wall
//! time. Deriving one from the other keeps them consistent, and under `tokio::time::pause()`
//! (tests, the benchmark) wall time advances with virtual time, just like the simulator's clock.
//! Over a process lifetime the drift from the system clock is that of the monotonic clock.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

/// The furthest ahead a due time may lie; later ones are due then (a century).
const MAX_AHEAD: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A cheap, copyable clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_wall: OffsetDateTime,
    base: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// Pins the system's wall time to tokio's now.
    pub fn new() -> Self {
        Self::starting_at(OffsetDateTime::now_utc())
    }

    /// A clock that reads `wall` at tokio's now (the benchmark aligns it with the simulator).
    pub fn starting_at(wall: OffsetDateTime) -> Self {
        Self {
            base_wall: wall,
            base: Instant::now(),
        }
    }

    /// Wall time now.
    pub fn now(&self) -> OffsetDateTime {
        self.wall_at(Instant::now())
    }

    /// The wall time of a tokio instant.
    pub fn wall_at(&self, at: Instant) -> OffsetDateTime {
        match at.checked_duration_since(self.base) {
            Some(after) => self.base_wall + after,
            None => self.base_wall - self.base.duration_since(at),
        }
    }

    /// The tokio instant of a wall time; times before the clock's start map to its start
    /// (anything due in the past is simply due).
    pub fn instant_at(&self, wall: OffsetDateTime) -> Instant {
        let after = Duration::try_from(wall - self.base_wall).unwrap_or(Duration::ZERO);
        let after = after.min(MAX_AHEAD);
        self.base.checked_add(after).unwrap_or(self.base)
    }
}

/// `t + d`, or the latest representable time instead of overflowing.
pub fn later(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d))
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_utc())
}

/// Unix milliseconds of a wall time (the KV encoding).
pub fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The wall time of unix milliseconds; `None` when out of range.
pub fn from_unix_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test(start_paused = true)]
    async fn wall_time_follows_virtual_time_and_maps_back_to_instants() {
        let clock = Clock::starting_at(datetime!(2026-05-15 12:00 UTC));
        let start = Instant::now();
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now(), datetime!(2026-05-15 12:01:30 UTC));
        let due = clock.instant_at(datetime!(2026-05-15 12:02 UTC));
        assert_eq!(due - start, Duration::from_secs(120));
        assert_eq!(clock.instant_at(datetime!(2026-05-15 11:00 UTC)), start);
        let far = clock.instant_at(time::PrimitiveDateTime::MAX.assume_utc());
        assert_eq!(far - start, MAX_AHEAD);
        let end = later(datetime!(9999-12-31 23:59:30 UTC), Duration::from_secs(60));
        assert_eq!(end, time::PrimitiveDateTime::MAX.assume_utc());
        let ms = unix_ms(datetime!(2026-05-15 12:00:00.250 UTC));
        assert_eq!(
            from_unix_ms(ms),
            Some(datetime!(2026-05-15 12:00:00.250 UTC))
        );
    }
}
