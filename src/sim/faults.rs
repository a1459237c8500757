//! Fault injection for provider reads: random 5xx, added latency, "next N reads fail" and
//! 429 storms. Injected answers are produced in front of the rate limiter (like a load
//! balancer would) and consume no budget.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::ratelimit::ceil_secs;
use super::util::lock;

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

    /// Every read answers 429 until `now + duration`.
    pub fn storm(&self, now: Instant, duration: Duration) {
        lock(&self.inner).storm_until = Some(now + duration);
    }

    /// Clears one-shot faults (next-N failures, storms).
    pub fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.fail_next = (0, 503);
        inner.storm_until = None;
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
}
