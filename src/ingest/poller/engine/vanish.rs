//! An order the provider answers 404 for is *suspected* gone, not dropped: a lagging provider
//! replica answers 404 for an order another replica already serves, and an order untracked
//! on that answer would never have its install published. Only when the 404 holds —
//! [`CONFIRM_READS`] answers in a row spread over at least [`CONFIRM_OVER`] — is the order
//! dropped, and then it is quarantined (reason `vanished`), never silently untracked.
//!
//! While suspected, the order stays tracked (so discovery keeps skipping it as known, and
//! does not re-admit it as new) and is read again with the per-job backoff (200 ms doubling
//! to 10 s), so a replica's lag costs seconds of latency at most; after [`CONFIRM_READS`]
//! answers, every [`RECHECK`] until [`CONFIRM_OVER`] has passed (about ten reads per vanished
//! order in all). Any other answer clears the suspicion. Suspicions live in memory: a restart
//! starts them over, which only delays a drop.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::outlet::Outlet;
use super::reads::Job;
use super::schedule::Class;
use super::Engine;
use crate::provider::sanity::Reason;

/// 404s in a row before an order is taken to have vanished. With the backoff between
/// reads, five answers already span about half a minute, longer than a replica lags.
pub const CONFIRM_READS: u32 = 5;
/// ... and the time they must span at least: the provider's documented consistency is
/// "eventually"; ten minutes of 404s is no lag but an order that is gone. A constant, not a
/// setting: no operator choice makes an earlier drop safe, and a later one only costs reads.
pub const CONFIRM_OVER: Duration = Duration::from_secs(10 * 60);

/// The pace of reads of a suspected order once [`CONFIRM_READS`] answers are in.
pub const RECHECK: Duration = Duration::from_secs(2 * 60);

/// What a 404 leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suspicion {
    /// Read again with the per-job backoff.
    Soon,
    /// Read again after [`RECHECK`].
    Later,
    /// The 404 held: the order is gone.
    Confirmed,
}

/// Orders answered 404 lately: since when, and how many times in a row.
#[derive(Debug, Default)]
pub struct Suspects {
    by_id: HashMap<u64, (Instant, u32)>,
}

impl Suspects {
    /// Records a 404 for `id` at `now` (a confirmed one is forgotten).
    pub fn not_found(&mut self, id: u64, now: Instant) -> Suspicion {
        let (since, n) = self.by_id.entry(id).or_insert((now, 0));
        *n = n.saturating_add(1);
        if *n < CONFIRM_READS {
            return Suspicion::Soon;
        }
        if now.saturating_duration_since(*since) < CONFIRM_OVER {
            return Suspicion::Later;
        }
        self.by_id.remove(&id);
        Suspicion::Confirmed
    }

    /// Any other answer for `id`: not gone after all.
    pub fn clear(&mut self, id: u64) {
        self.by_id.remove(&id);
    }
}

impl<O: Outlet> Engine<O> {
    /// The provider answered 404 for a tracked order: read it again soon, or, once the 404
    /// is confirmed, quarantine it as `vanished`.
    pub(super) async fn on_not_found(&mut self, id: u64, class: Class) {
        let now = Instant::now();
        match self.suspects.not_found(id, now) {
            Suspicion::Confirmed => {
                tracing::warn!(
                    order_id = id,
                    "provider keeps answering 404 for the order; dropped as vanished"
                );
                self.quarantine(id, Reason::Vanished).await;
            }
            Suspicion::Soon => {
                tracing::info!(
                    order_id = id,
                    "provider answered 404 for a tracked order; still tracked, reading it again"
                );
                self.retry(Job::Order(id), class);
            }
            Suspicion::Later => {
                let due = now.checked_add(RECHECK).unwrap_or(now);
                self.queue.schedule(Job::Order(id), class, due);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_404_is_confirmed_only_after_enough_answers_over_enough_time() {
        let t0 = Instant::now();
        let mut s = Suspects::default();
        for _ in 1..CONFIRM_READS {
            assert_eq!(s.not_found(7, t0), Suspicion::Soon);
        }
        assert_eq!(
            s.not_found(7, t0),
            Suspicion::Later,
            "many, but all at once"
        );
        let late = t0 + CONFIRM_OVER;
        assert_eq!(s.not_found(7, late), Suspicion::Confirmed);
        assert_eq!(
            s.not_found(7, late),
            Suspicion::Soon,
            "forgotten once confirmed"
        );
        s.clear(7);
        assert_eq!(
            s.not_found(7, late + CONFIRM_OVER),
            Suspicion::Soon,
            "cleared"
        );
    }
}
