//! The learned read schedule (`upstream.cadence.learned`): each order waiting for its install
//! or activation is read at a rate proportional to the square root of that wait's hazard at
//! its age, `r(a) = c·√h(a)` — the schedule that minimises the total expected detection delay
//! for a given number of reads (the square-root rule of crawler freshness scheduling; the
//! poller bench computes the same bound on the true delays and shows how close this comes).
//! `c` is set so the reads of every waiting order together fit the reads per second left
//! for them, each order's rate counted as kept within the interval bounds below (see
//! [`fill`]).
//!
//! A wait with fewer than [`MIN_EVENTS`] observed events keeps the ladder (the fixed
//! cadences), and so does everything that is no wait (pending orders, expiry checks). An
//! interval is never shorter than `upstream.cadence.install_fast` nor longer than
//! `upstream.cadence.install_tail`, so no waiting order goes unread for long, whatever the
//! estimate says, unless that floor alone would take more than a quarter of the reads (orders
//! that never install are tracked until their validity ends): then the longest interval is
//! stretched, to at most eight `install_tail`s.

use std::time::Duration;

use super::learned::{add_exposure, bin, Learned, Wait, BINS, EDGES};

/// Events a wait needs before its learned rates replace the ladder.
pub const MIN_EVENTS: f64 = 50.0;

/// The share of the budget left for waits that the learned ones may plan to use, at least.
const MIN_SHARE: f64 = 0.1;
/// The most of the reads that the floor (one read per `max` of every order of a learned wait)
/// may take. Orders that never install stay tracked until their validity ends (up to 30
/// days), so an account's floor grows with its order rate times its validity: past this share
/// the floor is spread thinner, up to [`FLOOR_STRETCH`] times `max`.
const FLOOR_SHARE: f64 = 0.25;
/// How far past `install_tail` a crowded floor may be stretched.
const FLOOR_STRETCH: u32 = 8;

/// Read intervals by wait and age; the default has nothing learned, so every wait keeps the
/// ladder (and the bounds are never used).
#[derive(Debug, Clone, Default)]
pub struct Rates {
    /// Per wait ([`Wait::ALL`] order): the hazard per bin, `None` while it keeps the ladder.
    hazard: [Option<[f64; BINS]>; 2],
    /// Reads per second per unit of `√h`.
    c: f64,
    min: Duration,
    max: Duration,
}

impl Rates {
    /// The rates for `learned` and the open waits' ages (seconds, per wait), with
    /// `reads_per_sec` for all waits; `ladder_rate(wait, age)` is what the ladder reads an
    /// order of a wait that keeps it. Those reads, and the `max`-spaced reads of orders at an
    /// age where nothing was ever seen, are taken out first; what the learned rates may plan
    /// is at least a tenth. If reading every order of the learned waits once per `max` would
    /// take more than [`FLOOR_SHARE`] of the reads, `max` is stretched until it does not.
    pub fn compute(
        learned: &Learned,
        open: [&[f64]; 2],
        reads_per_sec: f64,
        ladder_rate: impl Fn(Wait, f64) -> f64,
        (min, max): (Duration, Duration),
    ) -> Self {
        let on_floor = Wait::ALL
            .into_iter()
            .zip(open)
            .filter(|(w, _)| learned.get(*w).count() >= MIN_EVENTS)
            .map(|(_, o)| o.len())
            .sum();
        let max = floor(max, on_floor, reads_per_sec);
        let mut hazard = [None, None];
        // Orders per (wait, bin) at a learned age, by the bin's `√h`.
        let mut groups: Vec<(f64, f64)> = Vec::new();
        let mut ladder_reads = 0.0;
        for (i, wait) in Wait::ALL.into_iter().enumerate() {
            let finished = learned.get(wait);
            if finished.count() < MIN_EVENTS {
                ladder_reads += open[i].iter().map(|a| ladder_rate(wait, *a)).sum::<f64>();
                continue;
            }
            let mut exposure = [0.0; BINS];
            for age in open[i] {
                add_exposure(&mut exposure, *age);
            }
            let h = finished.hazard(&exposure);
            let mut orders = [0.0; BINS];
            for a in open[i] {
                orders[bin(*a)] += 1.0;
            }
            for (n, h) in orders.into_iter().zip(h) {
                match h.sqrt() {
                    _ if n == 0.0 => {}
                    // Read every `max` all the same (see `interval`).
                    0.0 => ladder_reads += n / max.as_secs_f64().max(1.0),
                    w => groups.push((n, w)),
                }
            }
            hazard[i] = Some(h);
        }
        let left = (reads_per_sec - ladder_reads).max(reads_per_sec * MIN_SHARE);
        // However many orders the floor holds, the learned rates keep at least a tenth.
        let weight: f64 = groups.iter().map(|(n, w)| n * w).sum();
        let least = reads_per_sec * MIN_SHARE / weight;
        let c = fill(&groups, left, (min, max)).max(if least.is_finite() { least } else { 0.0 });
        Self {
            hazard,
            c: if c.is_finite() { c } else { 0.0 },
            min,
            max,
        }
    }

    /// The rates of `learned` alone (no order waiting) at a given `c`: the bench's rule on a
    /// day's own delays, where `c` is bisected to the day's budget.
    pub fn at(learned: &Learned, c: f64, (min, max): (Duration, Duration)) -> Self {
        let hazard = Wait::ALL.map(|w| {
            let f = learned.get(w);
            (f.count() >= MIN_EVENTS).then(|| f.hazard(&[0.0; BINS]))
        });
        Self {
            hazard,
            c: if c.is_finite() { c.max(0.0) } else { 0.0 },
            min,
            max,
        }
    }

    /// The read interval of an order of `wait` at `age` seconds, or `None` while the wait
    /// keeps the ladder: the sooner of one interval at the rate of its age, and the time in
    /// which the rate, followed over the ages ahead, adds up to one read (a fresh order whose
    /// installs come in minutes is read when they become likely, not at the slow rate of its
    /// first seconds; one past a busy age is still read at that age's rate, not only when the
    /// next busy age comes).
    pub fn interval(&self, wait: Wait, age: f64) -> Option<Duration> {
        let h = self.hazard[wait as usize]?;
        let (min, max) = (self.min.as_secs_f64(), self.max.as_secs_f64());
        let age = if age.is_finite() { age.max(0.0) } else { 0.0 };
        let now = 1.0 / (self.c * h[bin(age)].sqrt());
        let ahead = self.ahead(&h, age, max);
        let secs = if now.is_finite() && now > 0.0 {
            now.min(ahead)
        } else {
            ahead
        };
        Some(Duration::from_secs_f64(secs.clamp(min, max)))
    }

    /// Seconds until the rate from `age` on adds up to one read (`max` if it does not by then).
    fn ahead(&self, h: &[f64; BINS], age: f64, max: f64) -> f64 {
        let mut owed = 1.0;
        let mut at = age;
        let mut i = bin(age);
        while at - age < max {
            let rate = self.c * h[i].sqrt();
            let end = EDGES.get(i + 1).copied().unwrap_or(f64::INFINITY);
            let span = end - at;
            if rate.is_finite() && rate > 0.0 && rate * span >= owed {
                return at - age + owed / rate;
            }
            if rate.is_finite() && rate > 0.0 {
                owed -= rate * span;
            }
            at = end;
            i = (i + 1).min(BINS - 1);
        }
        max
    }

    /// True if `wait` follows its learned rates.
    pub fn learned(&self, wait: Wait) -> bool {
        self.hazard[wait as usize].is_some()
    }
}

/// `max`, stretched (at most [`FLOOR_STRETCH`] times) so that `orders` read once per `max`
/// take at most [`FLOOR_SHARE`] of `reads_per_sec`.
fn floor(max: Duration, orders: usize, reads_per_sec: f64) -> Duration {
    let longest = max.saturating_mul(FLOOR_STRETCH);
    let share = reads_per_sec * FLOOR_SHARE;
    if share.is_nan() || share <= 0.0 || orders == 0 {
        return if orders == 0 { max } else { longest };
    }
    Duration::try_from_secs_f64(orders as f64 / share)
        .unwrap_or(longest)
        .clamp(max, longest.max(max))
}

/// The `c` at which the orders' reads, each at `c·√h` kept within one per `max` and one per
/// `min`, add up to `left` per second (`groups`: orders and their `√h`). The bounds are part
/// of the plan: an order whose rate would fall below one per `max` is still read every
/// `max`, and those reads come out of the same budget, so they are counted before `c` is
/// set rather than spent on top of it. `0` when the floors alone take `left` (every such
/// order is then read every `max`).
fn fill(groups: &[(f64, f64)], left: f64, (min, max): (Duration, Duration)) -> f64 {
    let (lo, hi) = (
        1.0 / max.as_secs_f64().max(1e-3),
        1.0 / min.as_secs_f64().max(1e-3),
    );
    let (lo, hi) = (lo.min(hi), hi);
    let reads = |c: f64| -> f64 { groups.iter().map(|(n, w)| n * (c * w).clamp(lo, hi)).sum() };
    let Some(smallest) = groups.iter().map(|(_, w)| *w).reduce(f64::min) else {
        return 0.0;
    };
    // Past `top` every order is read every `min`.
    let top = (hi / smallest).min(f64::MAX);
    if left.is_nan() || reads(0.0) >= left {
        return 0.0;
    }
    if reads(top) <= left {
        return top;
    }
    let (mut below, mut above) = (0.0, top);
    for _ in 0..200 {
        let mid = below + (above - below) / 2.0;
        if mid <= below || mid >= above {
            break;
        }
        if reads(mid) > left {
            above = mid;
        } else {
            below = mid;
        }
    }
    below
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

    #[test]
    fn likely_ages_are_read_often_and_the_reads_fit_the_budget() {
        // Installs at one minute; ages 50 s (likely) and 3 h (nothing was ever seen there).
        let l = learned(&[60.0, 70.0], 100);
        let open = vec![50.0; 10];
        let r = Rates::compute(&l, [&open, &[]], 1.0, |_, _| 0.0, BOUNDS);
        let soon = r.interval(Wait::Install, 50.0).unwrap();
        assert_eq!(r.interval(Wait::Install, 3.0 * 3600.0), Some(BOUNDS.1));
        // Ten orders at the same age share one read per second: one read each 10 s.
        assert!((soon.as_secs_f64() - 10.0).abs() < 1e-6, "{soon:?}");
        // A fresh order is read when installs become likely, not at its first seconds' rate.
        let fresh = r.interval(Wait::Install, 0.0).unwrap();
        assert!(fresh < Duration::from_secs(60), "{fresh:?}");
        let fewer = Rates::compute(&l, [&open, &[]], 0.5, |_, _| 0.0, BOUNDS);
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
        let none = Rates::compute(&l, [&[], &[]], f64::NAN, |_, _| 0.0, BOUNDS);
        assert_eq!(none.interval(Wait::Install, 50.0), Some(BOUNDS.1));
    }

    #[test]
    fn the_floor_s_reads_come_out_of_the_budget() {
        // A hundred installs at 100 s and one at two days: a hundred young orders at a busy
        // age and a hundred thousand old ones whose rate would fall below one read per `max`.
        // Those are read every `max` all the same (or less often if that would take over a
        // quarter of the reads, as here), so the young ones get what is left of the 5
        // reads/s, and the plan adds up to the budget instead of spending the young ones'
        // share on top of the floor.
        let mut l = learned(&[100.0], 100);
        l.install.event(200_000.0);
        let mut open = vec![100.0; 100];
        open.extend(std::iter::repeat_n(300_000.0, 100_000));
        let planned = |r: &Rates| -> f64 {
            open.iter()
                .map(|a| 1.0 / r.interval(Wait::Install, *a).unwrap().as_secs_f64())
                .sum()
        };
        let r = Rates::compute(&l, [&open, &[]], 5.0, |_, _| 0.0, BOUNDS);
        assert!(r.interval(Wait::Install, 300_000.0).unwrap() >= BOUNDS.1);
        assert!((planned(&r) - 5.0).abs() < 1e-6, "{}", planned(&r));
        // When the floor, even stretched, takes more than the budget, the learned rates keep
        // a tenth of it: the young orders are still read more often than every `max`.
        let r = Rates::compute(&l, [&open, &[]], 1.0, |_, _| 0.0, BOUNDS);
        assert!(r.interval(Wait::Install, 100.0).unwrap() < BOUNDS.1 / 4);
    }

    #[test]
    fn a_crowded_floor_is_spread_to_its_share() {
        // 100,000 orders that never install (tracked until their validity ends, at an age
        // where no install was ever seen), read every `max` (6 h), would take 4.6 of 5
        // reads/s: the floor is stretched so they take a quarter, and the young orders keep
        // the rest.
        let l = learned(&[100.0], 100);
        let mut open = vec![100.0; 100];
        open.extend(std::iter::repeat_n(300_000.0, 100_000));
        let r = Rates::compute(&l, [&open, &[]], 5.0, |_, _| 0.0, BOUNDS);
        let old = r.interval(Wait::Install, 300_000.0).unwrap();
        assert!(
            (old.as_secs_f64() - 100_100.0 / 1.25).abs() < 1.0,
            "{old:?}"
        );
        let young = r.interval(Wait::Install, 100.0).unwrap().as_secs_f64();
        assert!((100.0 / young - 3.75).abs() < 1e-2, "{young}");
        // However crowded, the floor is stretched at most eightfold.
        let r = Rates::compute(&l, [&open, &[]], 0.01, |_, _| 0.0, BOUNDS);
        let old = r.interval(Wait::Install, 300_000.0).unwrap();
        assert_eq!(old, BOUNDS.1 * FLOOR_STRETCH);
    }

    /// Provider dates make the ages: whole seconds (so many on a bin's edge, where the event
    /// counts in a bin its own wait never reached), zero, negative, huge or not a number. A
    /// busy bin keeps its own hazard, so one with many events and almost no exposure is
    /// steep; whatever the ages and the budget, every hazard stays finite and every interval
    /// within `install_fast` and eight `install_tail`s.
    mod hostile {
        use super::*;
        use crate::ingest::poller::engine::learned::EDGES;
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
                        let longest = BOUNDS.1 * FLOOR_STRETCH;
                        prop_assert!((BOUNDS.0..=longest).contains(&i), "{i:?}");
                    }
                }
            }
        }
    }
}
