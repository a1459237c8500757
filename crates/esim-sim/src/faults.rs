//! Fault injection for provider reads: random 5xx, added latency, "next N reads fail", 429
//! storms and "next N reads answer garbage" ([`super::garbage`]). Injected answers are produced
//! in front of the rate limiter (like a load balancer would) and consume no budget.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::garbage::GarbageKind;
use super::lock::lock;
use super::ratelimit::ceil_secs;

/// Standing fault settings (config file, CLI or `PUT /_sim/faults`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Probability (0..=1) that a GET answers a random 500, 502 or 503.
    pub error_rate: f64,
    /// Latency added before every provider API answer (reads, writes and auth).
    #[serde(with = "humantime_serde")]
    pub latency: Duration,
    /// Extra uniformly random latency, up to this much.
    #[serde(with = "humantime_serde")]
    pub latency_jitter: Duration,
}

/// A fault decided for one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Answer with this 5xx status.
    ServerError(u16),
    /// Answer 429 announcing this many seconds.
    Throttle(u64),
    /// Answer `200 OK` with garbage of this (concrete) kind; the number picks a variant.
    Garbage(GarbageKind, u64),
}

/// Current fault state.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: FaultConfig,
    /// Reads still to fail, and with which status.
    fail_next: (u64, u16),
    /// A 429 storm runs until this instant.
    storm_until: Option<Instant>,
    /// Reads still to answer garbage, and which kind.
    garbage_next: (u64, GarbageKind),
    /// Garbage answers given so far (rotates kinds and variants).
    garbage_served: u64,
    rng: StdRng,
}

impl Faults {
    /// Faults with standing `config`; `seed` makes random choices reproducible.
    pub fn new(config: FaultConfig, seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                config,
                fail_next: (0, 503),
                storm_until: None,
                garbage_next: (0, GarbageKind::Mixed),
                garbage_served: 0,
                rng: StdRng::seed_from_u64(seed ^ 0xFA17),
            }),
        }
    }

    /// Replaces the standing settings.
    pub fn set(&self, config: FaultConfig) {
        lock(&self.inner).config = config;
    }

    /// The standing settings.
    pub fn config(&self) -> FaultConfig {
        lock(&self.inner).config.clone()
    }

    /// The next `count` reads answer `status` (a 5xx).
    pub fn fail_next(&self, count: u64, status: u16) {
        lock(&self.inner).fail_next = (count, status);
    }

    /// The next `count` reads answer `200 OK` with garbage of `kind`.
    pub fn garbage_next(&self, count: u64, kind: GarbageKind) {
        lock(&self.inner).garbage_next = (count, kind);
    }

    /// Every read answers 429 until `now + duration`.
    pub fn storm(&self, now: Instant, duration: Duration) {
        lock(&self.inner).storm_until = Some(now + duration);
    }

    /// Clears one-shot faults (next-N failures, storms).
    pub fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.fail_next = (0, 503);
        inner.storm_until = None;
        inner.garbage_next.0 = 0;
    }

    /// Latency to add to one answer.
    pub fn latency(&self) -> Duration {
        let mut inner = lock(&self.inner);
        let base = inner.config.latency;
        let jitter = inner.config.latency_jitter;
        if jitter.is_zero() {
            return base;
        }
        base + jitter.mul_f64(inner.rng.random::<f64>())
    }

    /// Decides whether the read arriving at `now` gets an injected answer.
    pub fn on_read(&self, now: Instant) -> Option<Injected> {
        let mut inner = lock(&self.inner);
        if let Some(until) = inner.storm_until {
            if now < until {
                return Some(Injected::Throttle(ceil_secs(until - now).max(1)));
            }
            inner.storm_until = None;
        }
        if inner.fail_next.0 > 0 {
            inner.fail_next.0 -= 1;
            return Some(Injected::ServerError(inner.fail_next.1));
        }
        if inner.garbage_next.0 > 0 {
            inner.garbage_next.0 -= 1;
            let n = inner.garbage_served;
            inner.garbage_served += 1;
            return Some(Injected::Garbage(inner.garbage_next.1.nth(n), n));
        }
        let rate = inner.config.error_rate;
        if rate > 0.0 && inner.rng.random::<f64>() < rate {
            let status = [500, 502, 503][inner.rng.random_range(0..3)];
            return Some(Injected::ServerError(status));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn storm_then_next_n_then_clean() {
        let faults = Faults::new(FaultConfig::default(), 1);
        faults.storm(Instant::now(), Duration::from_millis(2_500));
        assert_eq!(faults.on_read(Instant::now()), Some(Injected::Throttle(3)));
        tokio::time::advance(Duration::from_secs(3)).await;
        faults.fail_next(2, 502);
        assert_eq!(
            faults.on_read(Instant::now()),
            Some(Injected::ServerError(502))
        );
        assert_eq!(
            faults.on_read(Instant::now()),
            Some(Injected::ServerError(502))
        );
        assert_eq!(faults.on_read(Instant::now()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn garbage_next_n_rotates_mixed_kinds_then_stops() {
        let faults = Faults::new(FaultConfig::default(), 1);
        faults.garbage_next(4, GarbageKind::Mixed);
        let kinds: Vec<_> = (0..5).map(|_| faults.on_read(Instant::now())).collect();
        assert_eq!(
            kinds,
            [
                Some(Injected::Garbage(GarbageKind::Malformed, 0)),
                Some(Injected::Garbage(GarbageKind::Absurd, 1)),
                Some(Injected::Garbage(GarbageKind::Huge, 2)),
                Some(Injected::Garbage(GarbageKind::Malformed, 3)),
                None,
            ]
        );
    }
}
