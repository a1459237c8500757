//! The engine's side of the learned schedule: what it observes goes into [`Learned`], the
//! rates are recomputed every [`RECOMPUTE_EVERY`] from it, the orders still waiting and the
//! reads fulfilment and discovery left, and the estimate is stored for the next leader.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

use super::cadence::Next;
use super::learned::{Learned, Wait};
use super::rates::{self, Rates};
use super::schedule::Class;
use super::{Engine, Outlet};
use crate::config::CadenceConfig;
use crate::ingest::poller::tracked::{rank, Phase, Tracked};
use crate::provider::clock::later;
use crate::telemetry::ErrorChain;
use esim_events::EventType;

/// How often the rates are recomputed and the estimate stored (a hand-over loses at most this
/// much of what was learned; or every `upstream.cadence.install_tail`, the longest learned
/// interval while the floor is not crowded, if that is shorter).
pub const RECOMPUTE_EVERY: Duration = Duration::from_secs(30);
/// The share of the read budget the schedule plans to use: the rest absorbs retries and the
/// bursts of fulfilment and discovery.
const PLANNED_SHARE: f64 = 0.95;
/// The most of the planned reads the expiry watch of active eSIMs (one read every
/// `upstream.cadence.lifecycle`) may take. Its cost grows with every eSIM in use (an account
/// ordering 2,000 an hour has hundreds of thousands active within two weeks, which a 6 h
/// watch would read 1,300 times a minute): past this share the watch is spread thinner
/// instead of taking the reads installs and activations are detected with. The check just
/// after each expected expiry is kept whatever the share.
pub const WATCH_SHARE: f64 = 0.25;

/// The wait `t` is in, and since when (unix seconds).
pub fn wait_of(t: &Tracked) -> Option<(Wait, i64)> {
    match t.phase {
        Phase::Install => Some((Wait::Install, t.delivered_at?)),
        Phase::Lifecycle if t.latest == Some(EventType::Installed) => {
            Some((Wait::Activation, t.installed().or(t.delivered_at)?))
        }
        _ => None,
    }
}

/// Seconds from `since` to `now` (0 if `since` is later).
fn age(since: i64, now: OffsetDateTime) -> f64 {
    now.unix_timestamp().saturating_sub(since).max(0) as f64
}

/// Learning and rate state of the engine; the default has learned nothing yet.
#[derive(Debug, Default)]
pub struct Learning {
    pub learned: Learned,
    pub rates: Rates,
    /// Whether `learned` changed since it was stored.
    dirty: bool,
    /// When the rates were last computed, and the fulfilment and discovery reads by then.
    last: Option<(Instant, u64)>,
    /// How often an active eSIM is read while the expiry watch is stretched to
    /// [`WATCH_SHARE`]; `None`: every `upstream.cadence.lifecycle`.
    pub watch: Option<Duration>,
}

impl<O: Outlet> Engine<O> {
    /// Takes what a previous leader learned.
    pub fn set_learned(&mut self, learned: Option<Learned>) {
        if let Some(l) = learned {
            self.learning.learned = l;
        }
    }

    /// The next look at `t`: the cadence's, with a learned interval for a wait that has one
    /// and the expiry watch's stretched one for an active eSIM.
    pub(super) fn next_look(&self, t: &Tracked, now: OffsetDateTime) -> Next {
        let cadence = &self.settings.cadence;
        let next = cadence.next(t, now);
        let Next::At(class, _) = next else {
            return next;
        };
        if !cadence.config().learned {
            return next;
        }
        match (wait_of(t), self.learning.watch) {
            (Some((wait, since)), _) => match self.learning.rates.interval(wait, age(since, now)) {
                Some(interval) => Next::At(class, later(now, interval)),
                None => next,
            },
            (None, Some(every)) if t.phase == Phase::Lifecycle => cadence.watch(t, now, every),
            (None, _) => next,
        }
    }

    /// Counts the end of a wait between `before` and `after` (`after` `None`: the order left).
    pub(super) fn learn(&mut self, before: &Tracked, after: Option<&Tracked>, now: OffsetDateTime) {
        let Some((wait, since)) = wait_of(before) else {
            return;
        };
        // Along the delivered chain only: a cancelled order never installed.
        let reached = |t: EventType| {
            after.and_then(|a| a.latest).is_some_and(|l| {
                matches!(
                    l,
                    EventType::Installed | EventType::Activated | EventType::Depleted
                ) && rank(l) >= rank(t)
            })
        };
        let (target, at) = match wait {
            Wait::Install => (EventType::Installed, after.and_then(Tracked::installed)),
            Wait::Activation => (EventType::Activated, after.and_then(|a| a.activated_at)),
        };
        let finished = self.learning.learned.get_mut(wait);
        if reached(target) {
            let at = at.unwrap_or(now.unix_timestamp()).min(now.unix_timestamp());
            finished.event(at.saturating_sub(since).max(0) as f64);
            // Installed and activated in one observation: the activation wait ended too (its
            // length from the dates, else at detection).
            if wait == Wait::Install && reached(EventType::Activated) {
                let from = at;
                let to = after
                    .and_then(|a| a.activated_at)
                    .unwrap_or(now.unix_timestamp());
                let secs = to.saturating_sub(from).max(0) as f64;
                self.learning.learned.activation.event(secs);
            }
        } else if after.is_none_or(|a| wait_of(a).is_none_or(|(w, _)| w != wait)) {
            finished.censored(age(since, now));
        } else {
            return;
        }
        self.learning.dirty = true;
    }

    /// Recomputes the rates (and stores the estimate) once [`RECOMPUTE_EVERY`] has passed.
    pub(super) async fn recompute(&mut self) {
        let now = Instant::now();
        let every = RECOMPUTE_EVERY.min(self.settings.cadence.config().install_tail);
        if self
            .learning
            .last
            .is_some_and(|(then, _)| now.duration_since(then) < every)
        {
            return;
        }
        let fetched = self
            .stats
            .figures()
            .reads(&[Class::Fulfilment, Class::Discovery]);
        let Some((then, fetched_then)) = self.learning.last.replace((now, fetched)) else {
            return;
        };
        let elapsed = now.duration_since(then);
        let urgent = fetched.saturating_sub(fetched_then) as f64 / elapsed.as_secs_f64();
        let limit = self.client.budget().limit() as f64 / 60.0;
        let reads = (limit * PLANNED_SHARE - urgent).max(0.0);
        let clock_now = self.clock.now();
        let mut open: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut active = 0usize;
        for t in self.orders.values() {
            match wait_of(t) {
                Some((wait, since)) => open[wait as usize].push(age(since, clock_now)),
                None if t.phase == Phase::Lifecycle => active += 1,
                None => {}
            }
        }
        // Active eSIMs are read on the lifecycle cadence (expiry is predicted, not learned)
        // while that fits the watch's share, and spread thinner past it.
        let config = self.settings.cadence.config();
        let (reads, watch) = expiry_watch(reads, active, config);
        // The fixed cadences (`learned = false`) keep the watch at `lifecycle`.
        let watch = watch.filter(|_| config.learned);
        if watch.is_some() != self.learning.watch.is_some() {
            let every = watch.map(|w| format!("{}s", w.as_secs()));
            tracing::info!(
                active,
                every = every.as_deref().unwrap_or("upstream.cadence.lifecycle"),
                "expiry watch of active eSIMs {}",
                if watch.is_some() {
                    "spread past its share of the read budget"
                } else {
                    "back on its cadence"
                }
            );
        }
        self.learning.watch = watch;
        let cadence = &self.settings.cadence;
        let ladder = |wait: Wait, a: f64| {
            let every = match wait {
                Wait::Activation => cadence.config().lifecycle,
                Wait::Install => cadence.install_ladder(Duration::from_secs_f64(a)).1,
            };
            1.0 / every.as_secs_f64().max(1.0)
        };
        let bounds = (cadence.config().install_fast, cadence.config().install_tail);
        let rates = Rates::compute(
            &self.learning.learned,
            [&open[0], &open[1]],
            reads,
            ladder,
            bounds,
        );
        for wait in Wait::ALL {
            if rates.learned(wait) && !self.learning.rates.learned(wait) {
                let events = self.learning.learned.get(wait).count();
                tracing::info!(
                    wait = wait.label(),
                    events,
                    "read schedule now learned from this account's delays"
                );
            }
        }
        self.learning.rates = rates;
        self.store_learned().await;
    }

    /// Stores the estimate if it changed since it was last stored (also tried when the engine
    /// stops; a stop that drops the engine first loses at most [`RECOMPUTE_EVERY`] of it).
    pub(super) async fn store_learned(&mut self) {
        if std::mem::take(&mut self.learning.dirty) {
            if let Err(e) = self.outlet.save_learned(&self.learning.learned).await {
                self.learning.dirty = true;
                tracing::debug!(error = %ErrorChain(&e), "schedule estimate not stored; retried later");
            }
        }
    }
}

/// The reads left for the waits once the expiry watch of `active` eSIMs has its part of
/// `reads` (per second), and the watch's interval if it had to be stretched past
/// `lifecycle` to keep to [`WATCH_SHARE`] ([`rates::spread`]: at most [`rates::STRETCH`] times
/// `lifecycle`; the watch's reads at that interval are taken out whatever they cost).
pub fn expiry_watch(reads: f64, active: usize, c: &CadenceConfig) -> (f64, Option<Duration>) {
    let reads = if reads.is_finite() {
        reads.max(0.0)
    } else {
        0.0
    };
    let every = c.lifecycle.max(Duration::from_secs(1));
    let spread = rates::spread(every, active, reads, WATCH_SHARE);
    let cost = active as f64 / spread.as_secs_f64();
    let left = (reads - cost).max(0.0);
    (left, (spread > every).then_some(spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_watch_keeps_its_cadence_while_it_fits_its_share_and_is_spread_past_it() {
        let c = CadenceConfig::default();
        let every = c.lifecycle.as_secs_f64();
        // 3,600 active eSIMs every 6 h: 1/6 read per second of 4, under a quarter.
        let (left, watch) = expiry_watch(4.0, 3_600, &c);
        assert_eq!(watch, None);
        assert!((left - (4.0 - 3_600.0 / every)).abs() < 1e-9, "{left}");
        // 100,000 would want 4.6 reads per second: the watch gets a quarter of 4, the waits
        // keep the rest, and each eSIM is read every 100,000 s instead of every 6 h.
        let (left, watch) = expiry_watch(4.0, 100_000, &c);
        assert!((left - 3.0).abs() < 1e-9, "{left}");
        let watch = watch.expect("stretched");
        assert!((watch.as_secs_f64() - 100_000.0).abs() < 1e-6, "{watch:?}");
        assert!(watch > c.lifecycle);
        // No reads at all (a burst of fulfilment took them, or a nonsense figure): the watch
        // is spread at most eightfold, and what it then costs comes first.
        let longest = c.lifecycle * rates::STRETCH;
        for reads in [0.0, f64::NAN, -1.0, f64::INFINITY] {
            assert_eq!(expiry_watch(reads, 10, &c), (0.0, Some(longest)), "{reads}");
        }
        let (left, watch) = expiry_watch(1.0, 1_000_000, &c);
        assert_eq!(watch, Some(longest));
        assert_eq!(
            left, 0.0,
            "1,000,000 eSIMs every 48 h take 5.8 reads/s of 1"
        );
        assert_eq!(expiry_watch(1.0, 0, &c), (1.0, None));
    }
}
