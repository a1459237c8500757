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
//! A day that follows a warm-up (`POLLER_BENCH_WARMUP`) starts with the day before's orders
//! still waiting: every wait on at some time in the window is a member, watched over its part
//! of the window (`∫_{from}^{A_i} √(f·S) da / S(from)`, as it has survived to `from`), and the
//! events counted are those inside the window, whichever day's order they belong to. So the
//! bound spends the day's reads on the orders the poller has to read that day.
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
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::poller_histogram::Histogram;

/// One wait of a class: its planned delay (`None`: the event never happens), and the ages
/// since the wait began at which the measured window opens and closes for it (`from` is 0 for
/// a wait that begins inside the window).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Member {
    pub delay: Option<f64>,
    pub from: f64,
    pub to: f64,
}

impl Member {
    /// The event's age, if it happens before the window closes (found then, or in the drain).
    pub fn before_end(&self) -> Option<f64> {
        self.delay.filter(|d| *d <= self.to)
    }

    /// The event's age, if it happens inside the window: the events measured.
    pub fn event(&self) -> Option<f64> {
        self.before_end().filter(|d| *d >= self.from)
    }

    /// Whether the wait is still on when the window opens.
    pub fn waiting(&self) -> bool {
        self.delay.is_none_or(|d| d >= self.from)
    }
}

/// One class of waits (installs, or activations): every wait that began before the window
/// closes, those of the warm-up included (they are all draws of the class's delay).
#[derive(Default)]
pub struct Waits {
    pub members: Vec<Member>,
}

/// The install waits (from delivery) and activation waits (from install) of the delivered
/// orders among `truths` (every order of the run), for the window `[start, end]` (the
/// simulator's planned times). An activation wait follows its install wait's order: the
/// `k`-th activation belongs to the `k`-th install that happens before `end`.
pub fn waits(
    sim: &SimState,
    truths: &[OrderTruth],
    (start, end): (OffsetDateTime, OffsetDateTime),
) -> [Waits; 2] {
    let secs = |d: time::Duration| d.as_seconds_f64();
    let member = |delay, began: OffsetDateTime| Member {
        delay,
        from: secs(start - began).max(0.0),
        to: secs(end - began),
    };
    let (mut install, mut activation) = (Waits::default(), Waits::default());
    for t in truths {
        let Some(t) = sim.truth(t.id) else { continue };
        if t.final_status != OrderStatus::Delivered || t.resolved_at >= end {
            continue;
        }
        let installed = t.installed_at.map(|at| secs(at - t.resolved_at));
        install.members.push(member(installed, t.resolved_at));
        if let Some(at) = t.installed_at.filter(|at| *at < end) {
            let activated = t.activated_at.map(|a| secs(a - at));
            activation.members.push(member(activated, at));
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
        .map(|w| Histogram::of(w.members.iter().map(|m| m.delay)))
        .collect();
    // A wait already on when the window opens has survived to `from`: its reads from there
    // are the unconditional ones over S(from).
    let per_class: Vec<f64> = classes
        .iter()
        .zip(&histograms)
        .map(|(w, h)| {
            w.members
                .iter()
                .filter(|m| m.waiting())
                .map(|m| {
                    let at_risk = if m.from > 0.0 {
                        h.survival(m.from)
                    } else {
                        1.0
                    };
                    h.reads_per_c((m.from, m.to)) / at_risk.max(f64::MIN_POSITIVE)
                })
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
            for m in &w.members {
                let Some(d) = m.event() else { continue };
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
