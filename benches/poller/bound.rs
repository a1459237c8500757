//! The bound the poller's detail reads are measured against: the least expected detection
//! delay any read schedule could reach on the day's true delays, arrivals and read budget.
//!
//! An order `i` waits for an event (install after delivery, or activation after install) whose
//! delay has density `f` and survival `S`. Read at rate `r(a)` while the event has not
//! happened, at age `a` since the order entered the class, it costs `∫ r·S da` reads and leaves
//! an expected delay of `∫ f/(2r) da` (a read falls uniformly within `1/r` of the event). With
//! `B` reads for all orders of both classes, the schedule that minimises the total delay reads
//! every order at `r(a) = c·√h(a)`, `h = f/S` the hazard (the square-root rule of crawler
//! freshness scheduling), and the budget fixes `c`: `B = c · Σ_i ∫₀^{A_i} √(f·S) da`, where
//! `A_i` is how long order `i` can be watched before the window ends (events after it are not
//! counted, so reads for them are not either).
//!
//! `f` and `S` are the day's own (every planned delay, "never" included), binned on a log
//! scale. The optimal schedule's delay of each event that happened in the window is then
//! `1/(2r(a))` on average and uniform in `[0, 1/r(a)]`; the mean is the sum of the first, the
//! p99 is drawn from the second (a fixed seed). Fulfilment and discovery reads come first and
//! are taken out of `B`. A continuous relaxation (reads are not whole, answers take no time,
//! and each event's delay uses the rate of its own bin), so it is the reference the schedule
//! is measured against, not a proof that nothing can be below it.

use esim_sim::{OrderStatus, OrderTruth, SimState};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::OffsetDateTime;

/// Bins per decade of the delay histogram, and its range in seconds.
const BINS_PER_DECADE: f64 = 8.0;
const FIRST_EDGE: f64 = 1.0;
const LAST_EDGE: f64 = 60.0 * 86_400.0;

/// One class of waits (installs, or activations): the planned delay of every member, `None`
/// when the event never happens, and how long each member could be watched in the window.
#[derive(Default)]
pub struct Waits {
    /// (planned delay, watchable time) per member, in seconds.
    pub members: Vec<(Option<f64>, f64)>,
}

/// The install waits (from delivery) and activation waits (from install) of the delivered
/// orders among `truths`, watchable until `window_end` (the simulator's planned times).
pub fn waits(sim: &SimState, truths: &[OrderTruth], window_end: OffsetDateTime) -> [Waits; 2] {
    let secs = |d: time::Duration| d.as_seconds_f64();
    let (mut install, mut activation) = (Waits::default(), Waits::default());
    for t in truths {
        let Some(t) = sim.truth(t.id) else { continue };
        if t.final_status != OrderStatus::Delivered || t.resolved_at >= window_end {
            continue;
        }
        let installed = t.installed_at.map(|at| secs(at - t.resolved_at));
        install
            .members
            .push((installed, secs(window_end - t.resolved_at)));
        if let Some(at) = t.installed_at.filter(|at| *at < window_end) {
            let activated = t.activated_at.map(|a| secs(a - at));
            activation.members.push((activated, secs(window_end - at)));
        }
    }
    [install, activation]
}

/// The reads the expiry watch of active eSIMs would take in the window `[start, end)`: each
/// eSIM active in it read once every `lifecycle` seconds from its activation until it expires
/// or the window ends, plus the one check past an expiry inside the window (what the cadence
/// reads of them, whichever schedule the waits follow; the bound above does not pay for them).
/// `truths` are every order of the run, those that arrived before the window included.
pub fn expiry_watch_reads(
    sim: &SimState,
    truths: &[OrderTruth],
    (start, end): (OffsetDateTime, OffsetDateTime),
    lifecycle: f64,
) -> f64 {
    let mut reads = 0.0;
    for t in truths {
        let Some(t) = sim.truth(t.id) else { continue };
        let Some(active) = t.activated_at.filter(|at| *at < end) else {
            continue;
        };
        let until = t.expires_at.map_or(end, |e| e.min(end));
        reads += (until - active.max(start)).as_seconds_f64().max(0.0) / lifecycle.max(1.0);
        if t.expires_at.is_some_and(|e| start <= e && e < end) {
            reads += 1.0;
        }
    }
    reads
}

/// A delay distribution on log-spaced bins: edges, the probability of each bin, and the
/// square-root-rule weight `√(f·S)` and hazard in each.
pub struct Histogram {
    /// Lower edges of the bins (the first 0); the last edge closes the last bin.
    pub edges: Vec<f64>,
    /// Events per second at risk, per bin.
    pub hazard: Vec<f64>,
    /// `√(f·S)` per bin (reads per unit of `c` per second spent in the bin).
    weight: Vec<f64>,
}

impl Histogram {
    /// The histogram of planned delays (`None`: the event never happens).
    pub fn of(delays: impl Iterator<Item = Option<f64>>) -> Self {
        let decades = (LAST_EDGE / FIRST_EDGE).log10();
        let n = (decades * BINS_PER_DECADE).ceil() as usize;
        let mut edges = vec![0.0];
        edges.extend((0..=n).map(|i| FIRST_EDGE * 10f64.powf(i as f64 / BINS_PER_DECADE)));
        let mut counts = vec![0u64; edges.len() - 1];
        let mut total = 0u64;
        for d in delays {
            total += 1;
            if let Some(d) = d.filter(|d| *d < LAST_EDGE) {
                counts[Self::index(&edges, d)] += 1;
            }
        }
        let total = total.max(1) as f64;
        let (mut hazard, mut weight) = (Vec::new(), Vec::new());
        let mut survived = 1.0;
        for (i, c) in counts.iter().enumerate() {
            let p = *c as f64 / total;
            let width = edges[i + 1] - edges[i];
            let s_mid = (survived - p / 2.0).max(f64::MIN_POSITIVE);
            let f = p / width;
            hazard.push(f / s_mid);
            weight.push((f * s_mid).sqrt());
            survived -= p;
        }
        Self {
            edges,
            hazard,
            weight,
        }
    }

    fn index(edges: &[f64], d: f64) -> usize {
        edges[1..].partition_point(|e| *e <= d).min(edges.len() - 2)
    }

    /// `∫₀^A √(f·S) da`.
    fn reads_per_c(&self, watch: f64) -> f64 {
        let mut sum = 0.0;
        for (i, w) in self.weight.iter().enumerate() {
            let (lo, hi) = (self.edges[i], self.edges[i + 1]);
            if lo >= watch {
                break;
            }
            sum += w * (hi.min(watch) - lo);
        }
        sum
    }

    /// The optimal read rate per unit of `c` at age `d`.
    fn rate_per_c(&self, d: f64) -> f64 {
        self.hazard[Self::index(&self.edges, d)].sqrt()
    }
}

/// The optimal schedule's delays for one class.
#[derive(Debug, Clone)]
pub struct Bound {
    pub mean: f64,
    pub p99: f64,
    pub events: usize,
    /// (age at the event, expected delay) of every event: the plot's bound.
    pub curve: Vec<(f64, f64)>,
}

impl Bound {
    /// The mean and p99 of a schedule's (age at the event, delay) per event; `None` without
    /// events.
    pub fn of_events(events: Vec<(f64, f64)>) -> Option<Self> {
        if events.is_empty() {
            return None;
        }
        let mut delays: Vec<f64> = events.iter().map(|(_, d)| *d).collect();
        delays.sort_by(f64::total_cmp);
        Some(Self {
            mean: delays.iter().sum::<f64>() / delays.len() as f64,
            p99: crate::percentile(&delays, 0.99)?,
            events: delays.len(),
            curve: events,
        })
    }
}

/// The bound for each class, given `budget` reads over the window for all of them, and the
/// reads the optimal schedule spends on each.
pub fn bound(classes: &[&Waits], budget: f64) -> (Vec<Option<Bound>>, Vec<f64>) {
    let histograms: Vec<Histogram> = classes
        .iter()
        .map(|w| Histogram::of(w.members.iter().map(|(d, _)| *d)))
        .collect();
    let per_class: Vec<f64> = classes
        .iter()
        .zip(&histograms)
        .map(|(w, h)| {
            w.members
                .iter()
                .map(|(_, a)| h.reads_per_c(*a))
                .sum::<f64>()
        })
        .collect();
    let per_c: f64 = per_class.iter().sum();
    let c = budget.max(f64::MIN_POSITIVE) / per_c.max(f64::MIN_POSITIVE);
    let reads = per_class.iter().map(|p| p * c).collect();
    let mut rng = StdRng::seed_from_u64(0xb00d);
    let bounds = classes
        .iter()
        .zip(&histograms)
        .map(|(w, h)| {
            let mut delays = Vec::new();
            let mut curve = Vec::new();
            let mut mean = 0.0;
            for (d, watch) in &w.members {
                let Some(d) = d.filter(|d| d <= watch) else {
                    continue;
                };
                let gap = 1.0 / (c * h.rate_per_c(d)).max(f64::MIN_POSITIVE);
                mean += gap / 2.0;
                curve.push((d, gap / 2.0));
                delays.push(rng.random::<f64>() * gap);
            }
            if delays.is_empty() {
                return None;
            }
            delays.sort_by(f64::total_cmp);
            Some(Bound {
                mean: mean / delays.len() as f64,
                p99: crate::percentile(&delays, 0.99)?,
                events: delays.len(),
                curve,
            })
        })
        .collect();
    (bounds, reads)
}
