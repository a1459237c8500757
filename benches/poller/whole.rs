//! The bound for whole reads: the least expected detection delay a schedule of whole reads
//! could reach on the day's true delays and a budget ([`crate::poller_bound`]'s inputs; the
//! report gives it bound' budget, the expiry watch paid first).
//!
//! The square-root rule of [`crate::poller_bound`] is the optimum of a continuous relaxation:
//! it spreads reads over ages, so where reads are scarce (an order that can afford one read
//! in the ten minutes most installs happen in) it counts a delay of half a fractional
//! interval that no schedule of whole reads can give. This bound reads each order of a class
//! at the ages that minimise the expected delay plus a price per read on the day's *true*
//! hazard ([`esim_bridge::ingest::poller::Plan`], by dynamic programming over a grid of
//! ages), one price for both classes, bisected so the reads the day's orders actually take
//! (until their event is read, or the window ends) fit the budget.
//! The delays are those of the day's events under that schedule. The plan is the same for
//! every order of a class (ages since the start of its wait), so it is a bound for the
//! schedules the poller can follow, not for one that knows each order's future.

use esim_bridge::ingest::poller::{Grid, Plan};

use crate::poller_bound::{Bound, Histogram, Waits};

/// The range of prices (seconds of delay one read is worth) the bisection searches.
const PRICES: (f64, f64) = (1e-3, 1e9);
const HALVINGS: usize = 40;

/// The lowest price (within [`PRICES`]) at which `reads(price)` fits `budget`: plans read
/// less the dearer a read is. Also `crate::poller_planned`'s.
pub fn price_for(budget: f64, reads: impl Fn(f64) -> f64) -> f64 {
    let (mut cheap, mut dear) = (PRICES.0.ln(), PRICES.1.ln());
    for _ in 0..HALVINGS {
        let mid = (cheap + dear) / 2.0;
        if reads(mid.exp()) > budget {
            cheap = mid;
        } else {
            dear = mid;
        }
    }
    dear.exp()
}

/// One class's plan on its true hazard, as the ages of its reads.
struct Class<'a> {
    waits: &'a Waits,
    grid: Grid,
    hazard: Vec<f64>,
}

impl Class<'_> {
    /// The reads the class's orders take at `price`, and each event's (age, delay).
    fn run(&self, price: f64) -> (f64, Vec<(f64, f64)>) {
        let plan = Plan::solve(&self.grid, &self.hazard, price, (0.0, f64::INFINITY));
        let path = plan.path(&self.grid);
        let (mut reads, mut events) = (0.0, Vec::new());
        for m in &self.waits.members {
            let event = m.before_end();
            // The read that finds the event, if the plan reads after it at all.
            let found = event.map(|d| path.partition_point(|r| *r < d));
            let until = match found.filter(|i| *i < path.len()) {
                Some(i) => path[i].min(m.to),
                None => m.to,
            };
            // Only the reads inside the window count (a wait of the day before from `from`).
            let before = path.partition_point(|r| *r < m.from);
            reads += path.partition_point(|r| *r <= until).saturating_sub(before) as f64;
            let found = found.and_then(|i| path.get(i));
            if let (Some(d), Some(&at)) = (m.event(), found) {
                events.push((d, at - d));
            }
        }
        (reads, events)
    }
}

/// The whole-read bound for each class, given `budget` reads over the window for all.
pub fn whole(classes: &[&Waits], budget: f64) -> Vec<Option<Bound>> {
    let classes: Vec<Class> = classes
        .iter()
        .map(|w| {
            let h = Histogram::of(w.members.iter().map(|m| m.delay));
            Class {
                waits: w,
                grid: h.grid(),
                hazard: h.hazard,
            }
        })
        .collect();
    let price = price_for(budget, |p| classes.iter().map(|c| c.run(p).0).sum());
    classes
        .iter()
        .map(|c| {
            let (_, events) = c.run(price);
            Bound::of_events(events)
        })
        .collect()
}
