//! Observations a test or benchmark checks the bridge against: requests per endpoint, budget use,
//! 429s and whether anything arrived during an announced `Retry-After` pause, auth calls, webhooks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::lock::lock;
use super::ratelimit::MINUTE;

/// How many served-read timestamps are kept (oldest dropped first).
const MAX_RECORDED_READS: usize = 200_000;

/// Live counters (shared, internally locked).
#[derive(Debug)]
pub struct Counters {
    started: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    snap: CountersSnapshot,
    /// Served reads inside the last minute, for `reads_in_window`/`max_reads_in_window`.
    recent: VecDeque<Instant>,
    /// End of the latest announced `Retry-After` pause.
    pause_until: Option<Instant>,
    /// Served-read offsets in ms, the latest [`MAX_RECORDED_READS`].
    times: VecDeque<u64>,
}

/// A point-in-time copy of every counter.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct CountersSnapshot {
    /// Requests received per route (`"GET /api/v1/esim/orders"`, …), including rejected ones.
    pub requests: BTreeMap<String, u64>,
    /// GETs that passed the rate limiter (they consumed budget).
    pub reads_served: u64,
    /// Served reads within the last 60 s.
    pub reads_in_window: u64,
    /// Largest number of served reads seen in any rolling 60 s window.
    pub max_reads_in_window: u64,
    /// Milliseconds (tokio time since start) of each served read; capped to the latest 200 000.
    pub read_times_ms: Vec<u64>,
    /// 429 answers sent (reads, auth and injected storms).
    pub throttled: u64,
    /// Requests that arrived while an announced `Retry-After` pause was still running.
    pub requests_during_retry_after: u64,
    /// Successful logins.
    pub logins: u64,
    /// Successful refreshes.
    pub refreshes: u64,
    /// Logout calls (the bridge must never make one).
    pub logouts: u64,
    /// 401 answers sent.
    pub unauthorized: u64,
    /// Injected 5xx answers sent.
    pub server_errors: u64,
    /// Injected garbage answers sent (`200 OK`, malformed/absurd/huge).
    #[serde(default)]
    pub garbage_answers: u64,
    /// Orders created (API, control surface and workload).
    pub orders_created: u64,
    /// Webhook delivery counters.
    pub webhooks: WebhookCounters,
}

/// Webhook sender statistics.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct WebhookCounters {
    /// Distinct events produced by transitions.
    pub events: u64,
    /// Extra copies injected by the duplicate knob.
    pub duplicates: u64,
    /// HTTP attempts made.
    pub attempts: u64,
    /// Attempts answered 2xx.
    pub acked: u64,
    /// Attempts answered non-2xx or failed at the network level.
    pub failed_attempts: u64,
    /// Deliveries abandoned after the last retry.
    pub gave_up: u64,
}

impl CountersSnapshot {
    /// Max served reads in any `window` (recomputed from `read_times_ms`).
    pub fn max_reads_in_any(&self, window: Duration) -> usize {
        let w = window.as_millis() as u64;
        let times = &self.read_times_ms;
        let mut start = 0;
        let mut best = 0;
        for (end, &t) in times.iter().enumerate() {
            while t.saturating_sub(times[start]) >= w {
                start += 1;
            }
            best = best.max(end + 1 - start);
        }
        best
    }
}

impl Counters {
    /// Counters whose timestamps are offsets from `started`.
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// A request for `route` arrived at `now`.
    pub fn arrival(&self, route: &str, now: Instant) {
        let mut inner = lock(&self.inner);
        *inner.snap.requests.entry(route.to_owned()).or_default() += 1;
        if inner.pause_until.is_some_and(|until| now < until) {
            inner.snap.requests_during_retry_after += 1;
        }
    }

    /// A read consumed budget at `now`.
    pub fn read_served(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.started).as_millis() as u64;
        let mut inner = lock(&self.inner);
        inner.snap.reads_served += 1;
        if inner.times.len() >= MAX_RECORDED_READS {
            inner.times.pop_front();
        }
        inner.times.push_back(ms);
        inner.recent.push_back(now);
        prune(&mut inner.recent, now);
        let in_window = inner.recent.len() as u64;
        inner.snap.max_reads_in_window = inner.snap.max_reads_in_window.max(in_window);
    }

    /// A 429 announcing `retry_after_secs` was sent at `now`.
    pub fn throttled(&self, now: Instant, retry_after_secs: u64) {
        let mut inner = lock(&self.inner);
        inner.snap.throttled += 1;
        let until = now + Duration::from_secs(retry_after_secs);
        inner.pause_until = Some(inner.pause_until.map_or(until, |u| u.max(until)));
    }

    /// Applies `f` to the snapshot (for the simple increments).
    pub fn bump(&self, f: impl FnOnce(&mut CountersSnapshot)) {
        f(&mut lock(&self.inner).snap);
    }

    /// Copies the counters; `with_times` includes `read_times_ms`.
    pub fn snapshot(&self, with_times: bool) -> CountersSnapshot {
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        prune(&mut inner.recent, now);
        let mut snap = inner.snap.clone();
        snap.reads_in_window = inner.recent.len() as u64;
        if with_times {
            snap.read_times_ms = inner.times.iter().copied().collect();
        }
        snap
    }

    /// Clears everything (timestamps restart from the same origin).
    pub fn reset(&self) {
        *lock(&self.inner) = Inner::default();
    }
}

fn prune(recent: &mut VecDeque<Instant>, now: Instant) {
    while recent
        .front()
        .is_some_and(|&t| now.saturating_duration_since(t) >= MINUTE)
    {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_in_any_window_slides_over_recorded_times() {
        let snap = CountersSnapshot {
            read_times_ms: vec![0, 10_000, 59_999, 60_000, 60_001, 130_000],
            ..CountersSnapshot::default()
        };
        // [10_000, 59_999, 60_000, 60_001] fit in one 60 s window; 0 drops out at 60_000.
        assert_eq!(snap.max_reads_in_any(MINUTE), 4);
        assert_eq!(snap.max_reads_in_any(Duration::from_millis(1)), 1);
    }
}
