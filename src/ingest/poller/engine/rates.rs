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
/// the floor is spread thinner, up to [`STRETCH`] times `max`.
const FLOOR_SHARE: f64 = 0.25;
/// How far past its interval a crowded floor or expiry watch may be stretched: a burst of
/// fulfilment and discovery that leaves nothing for a moment must not push their next reads
/// weeks out.
pub const STRETCH: u32 = 8;

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
        // Every order of a learned wait counts, the young ones read far more often too: the
        // floor is judged as if all sat at it, so a crowded one is stretched early rather than
        // late.
        let on_floor = Wait::ALL
            .into_iter()
            .zip(open)
            .filter(|(w, _)| learned.get(*w).count() >= MIN_EVENTS)
            .map(|(_, o)| o.len())
            .sum();
        let max = spread(max, on_floor, reads_per_sec, FLOOR_SHARE);
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
        // `min` wins over `max` if they are the wrong way round (no panic either way).
        Some(Duration::from_secs_f64(secs.min(max).max(min)))
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

/// `every`, stretched (at most [`STRETCH`] times) so that `orders` each read once per the
/// result take at most `share` of `reads_per_sec`: how the floor and the expiry watch
/// (`learn::expiry_watch`) keep to their shares. Past the cap, or with no reads to share,
/// the cap.
pub(super) fn spread(every: Duration, orders: usize, reads_per_sec: f64, share: f64) -> Duration {
    let longest = every.saturating_mul(STRETCH).max(every);
    if orders == 0 {
        return every;
    }
    Duration::try_from_secs_f64(orders as f64 / (reads_per_sec * share))
        .unwrap_or(longest)
        .clamp(every, longest)
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
#[path = "rates_tests.rs"]
mod tests;
