//! The whole-read plan (`engine/plan.rs`) walked as `rule, truth` is (the same waits, budget and activation walk
//! from when each install was found), one price for both waits bisected to the budget. On the
//! bounds' bins and free, it is the report's `plan*`: bound"'s plan with the poller's blind
//! spot (an activation cannot be watched for before its install has been read). In the
//! offline loop (`POLLER_BENCH_LOAD`) four variants separate what the rule's gap to `bound"` is made of: the hazard on the product's
//! bins (the estimate the poller keeps, doubling from 15 s) or on the bounds' finer ones (8
//! per decade), and reads kept within the learned intervals' bounds (`install_fast` ..
//! `install_tail`) or free.

use std::time::Duration;

use esim_bridge::ingest::poller::{Grid, Plan, Wait, BINS, EDGES};

use crate::poller_bound::{Bound, Histogram, Waits};

/// Which hazard and bounds a plan uses.
#[derive(Clone, Copy)]
pub struct Variant {
    /// The bounds' bins instead of the product's.
    pub fine: bool,
    /// Gaps kept within these (`None`: free).
    pub bounds: Option<(Duration, Duration)>,
}

impl Variant {
    pub fn label(self) -> String {
        format!(
            "plan, {} bins, {}",
            if self.fine { "fine" } else { "product" },
            if self.bounds.is_some() {
                "bounded"
            } else {
                "free"
            }
        )
    }
}

/// The plan's delays for installs and activations with `budget` reads for both.
pub fn planned(classes: [&Waits; 2], budget: f64, variant: Variant) -> Vec<Option<Bound>> {
    let (grid, hazard): (Grid, [Vec<f64>; 2]) = if variant.fine {
        let h = classes.map(|w| Histogram::of(w.members.iter().map(|m| m.delay)));
        (h[0].grid(), h.map(|h| h.hazard))
    } else {
        let learned = crate::poller_rule::learned(classes);
        let h = Wait::ALL.map(|w| learned.get(w).hazard(&[0.0; BINS]).to_vec());
        (Grid::new(&EDGES), h)
    };
    let bounds = variant.bounds.map_or((0.0, f64::INFINITY), |(min, max)| {
        (min.as_secs_f64(), max.as_secs_f64())
    });
    let run = |price: f64| {
        let plans = hazard
            .each_ref()
            .map(|h| Plan::solve(&grid, h, price, bounds));
        let at = |i: usize| {
            let (grid, plan) = (&grid, &plans[i]);
            // The cell of the age just reached: `age + gap` may land a rounding below the grid
            // age it aimed at, which would otherwise read again a moment later.
            move |age: f64| {
                let at = age + age.abs().max(1.0) * 1e-12;
                grid.cell(at).and_then(|c| plan.gap(grid, c, age))
            }
        };
        crate::poller_rule::walk_with([at(0), at(1)], classes)
    };
    let price = crate::poller_whole::price_for(budget, |p| run(p).0);
    let (_, both) = run(price);
    both.into_iter().map(Bound::of_events).collect()
}
