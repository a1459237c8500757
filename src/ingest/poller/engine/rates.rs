//! The learned read schedule (`upstream.cadence.learned`): each order waiting for its install
//! or activation is read at the ages that minimise the total expected detection delay for
//! the reads there are, given that wait's hazard ([`super::plan`]: the whole-read counterpart
//! of the square-root rule `r = c·√h`, which the poller bench's bound computes on the true
//! delays). One price per read, the same for both waits (a second of delay is a second,
//! whichever wait it is), is set by bisection so the intervals the plans give the orders
//! waiting now add up to the reads per second left for them.
//!
//! A wait with fewer than [`MIN_EVENTS`] observed events keeps the ladder (the fixed
//! cadences), and so does everything that is no wait (pending orders, expiry checks). An
//! interval is never shorter than `upstream.cadence.install_fast` nor longer than
//! `upstream.cadence.install_tail`, so no waiting order goes unread for long, whatever the
//! estimate says.

use std::sync::LazyLock;
use std::time::Duration;

use super::learned::{add_exposure, Learned, Wait, EDGES};
use super::plan::{Grid, Plan};

/// Events a wait needs before its learned rates replace the ladder.
pub const MIN_EVENTS: f64 = 50.0;

/// The share of the budget left for waits that the learned ones may plan to use, at least.
const MIN_SHARE: f64 = 0.1;

/// The range of prices (seconds of delay one read is worth) the bisection searches, and its
/// steps (the range is 28 e-folds wide: 30 halvings leave it within 3·10⁻⁸ of one).
const PRICES: (f64, f64) = (1e-3, 1e9);
const HALVINGS: usize = 30;

/// The ages plans read at (the learned bins, each split in eight).
static GRID: LazyLock<Grid> = LazyLock::new(|| Grid::new(&EDGES));

/// Read intervals by wait and age; the default has nothing learned, so every wait keeps the
/// ladder (and the bounds are never used).
#[derive(Debug, Clone, Default)]
pub struct Rates {
    /// Per wait ([`Wait::ALL`] order): its plan, `None` while it keeps the ladder.
    plans: [Option<Plan>; 2],
    min: Duration,
    max: Duration,
}

impl Rates {
    /// The rates for `learned` and the open waits' ages (seconds, per wait), with
    /// `reads_per_sec` for all waits; `ladder_rate(wait, age)` is what the ladder reads an
    /// order of a wait that keeps it. Those reads are taken out first; what the learned
    /// plans may use is at least a tenth.
    pub fn compute(
        learned: &Learned,
        open: [&[f64]; 2],
        reads_per_sec: f64,
        ladder_rate: impl Fn(Wait, f64) -> f64,
        (min, max): (Duration, Duration),
    ) -> Self {
        let mut hazard = [None, None];
        let mut ladder_reads = 0.0;
        for (i, wait) in Wait::ALL.into_iter().enumerate() {
            let finished = learned.get(wait);
            if finished.count() < MIN_EVENTS {
                ladder_reads += open[i].iter().map(|a| ladder_rate(wait, *a)).sum::<f64>();
                continue;
            }
            let mut exposure = [0.0; EDGES.len()];
            for age in open[i] {
                add_exposure(&mut exposure, *age);
            }
            hazard[i] = Some(finished.hazard(&exposure));
        }
        let mut rates = Self {
            plans: hazard.map(|h| h.map(|h| Plan::solve(&GRID, &h, 1.0, (0.0, 0.0)))),
            min,
            max,
        };
        // Orders at an age after which nothing was ever seen are read every `max` whatever
        // the price (see `interval`): those reads are taken out first, like the ladder's.
        let mut active: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for wait in Wait::ALL {
            let i = wait as usize;
            if rates.plans[i].is_none() {
                continue;
            }
            for age in open[i] {
                if rates.quiet(wait, *age) {
                    ladder_reads += 1.0 / max.as_secs_f64().max(1.0);
                } else {
                    active[i].push(*age);
                }
            }
        }
        let left = (reads_per_sec - ladder_reads).max(reads_per_sec * MIN_SHARE);
        let mut at_price = |price: f64| {
            rates.plans = hazard.map(|h| h.map(|h| Plan::solve(&GRID, &h, price, rates.secs())));
            Wait::ALL
                .into_iter()
                .map(|w| {
                    active[w as usize]
                        .iter()
                        .map(|a| rates.rate(w, *a))
                        .sum::<f64>()
                })
                .sum::<f64>()
        };
        let (mut cheap, mut dear) = (PRICES.0.ln(), PRICES.1.ln());
        let price = if left.is_nan() || left <= 0.0 {
            PRICES.1
        } else if at_price(PRICES.0) <= left {
            PRICES.0
        } else {
            for _ in 0..HALVINGS {
                let mid = (cheap + dear) / 2.0;
                let got = at_price(mid.exp());
                if got > left {
                    cheap = mid;
                } else {
                    dear = mid;
                }
            }
            dear.exp()
        };
        at_price(price);
        rates
    }

    fn secs(&self) -> (f64, f64) {
        (self.min.as_secs_f64(), self.max.as_secs_f64())
    }

    /// The reads per second an order of a learned `wait` at `age` costs (0 otherwise): one
    /// over its plan's spacing there, within `install_fast..install_tail`.
    fn rate(&self, wait: Wait, age: f64) -> f64 {
        let Some(plan) = &self.plans[wait as usize] else {
            return 0.0;
        };
        let (min, max) = self.secs();
        let spacing = GRID
            .cell(age)
            .and_then(|cell| plan.spacing(cell))
            .unwrap_or(max);
        1.0 / spacing.max(min).min(max).max(1e-3)
    }

    /// True if nothing can happen to an order of a learned `wait` after `age` (or the age is
    /// past the plan's last).
    fn quiet(&self, wait: Wait, age: f64) -> bool {
        let Some(plan) = &self.plans[wait as usize] else {
            return false;
        };
        GRID.cell(age)
            .is_none_or(|cell| plan.gap(&GRID, cell, age).is_none())
    }

    /// The read interval of an order of `wait` at `age` seconds, just read, or `None` while
    /// the wait keeps the ladder: to its plan's next read, within `install_fast..install_tail`
    /// (`install_tail` where nothing can happen any more, or past the plan's last age).
    pub fn interval(&self, wait: Wait, age: f64) -> Option<Duration> {
        let plan = self.plans[wait as usize].as_ref()?;
        let (min, max) = self.secs();
        let age = if age.is_finite() { age.max(0.0) } else { 0.0 };
        let gap = GRID
            .cell(age)
            .and_then(|cell| plan.gap(&GRID, cell, age))
            .unwrap_or(max);
        let gap = if gap.is_finite() { gap } else { max };
        Some(Duration::try_from_secs_f64(gap.max(min).min(max)).unwrap_or(self.max))
    }

    /// True if `wait` follows its learned rates.
    pub fn learned(&self, wait: Wait) -> bool {
        self.plans[wait as usize].is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(6 * 3600));

    fn learned(install_ages: &[f64], n: usize) -> Learned {
        let mut l = Learned::default();
        for _ in 0..n {
            for a in install_ages {
                l.install.event(*a);
            }
        }
        l
    }

    #[test]
    fn too_few_events_keep_the_ladder() {
        let l = learned(&[60.0], 10);
        let r = Rates::compute(&l, [&[30.0], &[]], 3.0, |_, _| 0.1, BOUNDS);
        assert_eq!(r.interval(Wait::Install, 30.0), None);
        assert!(!r.learned(Wait::Activation));
    }

    /// The reads per second `r` plans for the orders at `ages` of the install wait.
    fn planned(r: &Rates, ages: &[f64]) -> f64 {
        ages.iter().map(|a| r.rate(Wait::Install, *a)).sum()
    }

    #[test]
    fn likely_ages_are_read_often_and_the_reads_fit_the_budget() {
        // Installs at one minute; ages 50 s (likely) and 3 h (nothing was ever seen there).
        let l = learned(&[60.0, 70.0], 100);
        let open = vec![50.0; 10];
        let r = Rates::compute(&l, [&open, &[]], 1.0, |_, _| 0.0, BOUNDS);
        let soon = r.interval(Wait::Install, 50.0).unwrap();
        assert_eq!(r.interval(Wait::Install, 3.0 * 3600.0), Some(BOUNDS.1));
        // Ten orders at the same age share one read per second: none reads more than that,
        // and the price is not set so high that they read much less.
        let used = planned(&r, &open);
        assert!(used <= 1.0 + 1e-9 && used > 0.5, "{used} {soon:?}");
        // A fresh order is read when installs become likely, not at its first seconds' rate.
        let fresh = r.interval(Wait::Install, 0.0).unwrap();
        assert!(fresh < Duration::from_secs(90), "{fresh:?}");
        let fewer = Rates::compute(&l, [&open, &[]], 0.05, |_, _| 0.0, BOUNDS);
        assert!(fewer.interval(Wait::Install, 50.0).unwrap() > soon);
    }

    #[test]
    fn the_ladder_s_reads_are_left_to_it_and_intervals_stay_in_bounds() {
        let l = learned(&[60.0], 100);
        let open = vec![50.0; 10];
        let alone = Rates::compute(&l, [&open, &[]], 0.5, |_, _| 0.0, BOUNDS);
        let beside = Rates::compute(&l, [&open, &[1.0; 10]], 0.5, |_, _| 0.1, BOUNDS);
        let (a, b) = (
            alone.interval(Wait::Install, 50.0).unwrap(),
            beside.interval(Wait::Install, 50.0).unwrap(),
        );
        assert!(b > a, "{a:?} {b:?}");
        let starved = Rates::compute(&l, [&open, &[1.0; 10]], 2.0, |_, _| 100.0, BOUNDS);
        assert!(starved.interval(Wait::Install, 50.0).unwrap() <= BOUNDS.1);
        let flood = Rates::compute(&l, [&open, &[]], 1e9, |_, _| 0.0, BOUNDS);
        assert_eq!(flood.interval(Wait::Install, 50.0), Some(BOUNDS.0));
        // No budget at all: the fewest reads a plan can take, never more than with some.
        let none = Rates::compute(&l, [&[], &[]], f64::NAN, |_, _| 0.0, BOUNDS);
        assert!(none.interval(Wait::Install, 50.0).unwrap() >= a);
    }

    #[test]
    fn a_fresh_order_is_read_once_installs_are_likely_even_when_reads_are_scarce() {
        // Installs at 2 to 5 minutes or never, two thousand orders at every age up to a day
        // sharing a third of a read per second (most of it the `max`-spaced reads of orders
        // past the busy ages): the plans' reads are the budget, and a fresh order is read
        // once installs are likely, in its busy minutes, not after them (the relaxed rule,
        // `r = c·√h` read until it added up to one read, read it at 10 to 13 min).
        let mut l = learned(&[120.0, 150.0, 200.0, 300.0], 50);
        for _ in 0..50 {
            l.install.censored(86_400.0);
        }
        let open: Vec<f64> = (0..2_000).map(|i| f64::from(i) * 43.2).collect();
        let first = |budget: f64| {
            let r = Rates::compute(&l, [&open, &[]], budget, |_, _| 0.0, BOUNDS);
            let used = planned(&r, &open);
            assert!(used <= budget + 1e-9, "{used} {budget}");
            r.interval(Wait::Install, 0.0).unwrap().as_secs_f64()
        };
        let (scarce, ample) = (first(0.3), first(1.0));
        assert!((60.0..=300.0).contains(&scarce), "{scarce}");
        assert!(ample < scarce, "{ample} {scarce}");
    }

    /// Provider dates make the ages: whole seconds (so many on a bin's edge, where the event
    /// counts in a bin its own wait never reached), zero, negative, huge or not a number. A
    /// busy bin keeps its own hazard, so one with many events and almost no exposure is
    /// steep; whatever the ages and the budget, every hazard stays finite and every interval
    /// within `install_fast..install_tail`.
    mod hostile {
        use super::*;
        use crate::ingest::poller::engine::learned::{BINS, EDGES};
        use proptest::prelude::*;

        fn age() -> impl Strategy<Value = f64> {
            prop_oneof![
                prop::sample::select(EDGES.to_vec()),
                0.0..2.0e6f64,
                prop::sample::select(vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e300]),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn intervals_stay_in_bounds(
                events in prop::collection::vec((age(), 1usize..200), 0..6),
                open in prop::collection::vec(age(), 0..40),
                reads in prop::sample::select(vec![0.0, 1e-9, 0.5, 4.0, 1e12, f64::NAN]),
                probe in age(),
            ) {
                let mut l = Learned::default();
                for (a, n) in &events {
                    for _ in 0..*n {
                        l.install.event(*a);
                        l.activation.event(*a);
                    }
                }
                let r = Rates::compute(&l, [&open, &open], reads, |_, _| 0.01, BOUNDS);
                for wait in Wait::ALL {
                    let mut exposure = [0.0; BINS];
                    for a in &open {
                        add_exposure(&mut exposure, *a);
                    }
                    let h = l.get(wait).hazard(&exposure);
                    prop_assert!(h.iter().all(|x| x.is_finite() && *x >= 0.0), "{h:?}");
                    if let Some(i) = r.interval(wait, probe) {
                        prop_assert!((BOUNDS.0..=BOUNDS.1).contains(&i), "{i:?}");
                    }
                }
            }
        }
    }
}
