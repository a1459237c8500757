//! The read ages that minimise one waiting order's expected detection delay plus a price per
//! read, for a piecewise-constant hazard: the discrete counterpart of the square-root rule.
//!
//! Today it is the poller bench's *whole-read bound* (`benches/poller/whole.rs`, fed the
//! day's true hazard) and its `plan*` reference (`benches/poller/planned.rs`). Stop 28 also drove the learned schedule with it, fed the learned
//! hazard; over a full bench day that was better on some shapes and worse on others than the
//! square-root rule of [`super::rates`], so the schedule kept the rule (docs/benchmarks.md
//! has both tables).
//!
//! The square-root rule (`r = c·√h`) is the optimum of a continuous relaxation: it pretends a
//! read can be spread over ages, so an order that can afford one read in its first ten
//! minutes is "read" a tenth at a time. Whole reads cannot do that, and where reads are
//! scarce (an hour's orders sharing a minute's budget) the difference is most of the delay.
//! So the schedule is solved as what it is: reads at ages `t₁ < t₂ < …`, each costing
//! `price` seconds of delay if the order is still waiting, each detecting an event that
//! happened since the one before. By dynamic programming over a grid of ages (every bin edge,
//! [`STEPS`] ages per bin between them): `W(i) = min_j price·S(tᵢ) + D(i,j) + W(j)`, where
//! `S` is the survival and `D(i,j) = ∫_{tᵢ}^{tⱼ} (S(tᵢ) − S(u)) du` the delay of the events
//! between two reads (an event at `x` waits `tⱼ − x`, the time it spends in `(x, tⱼ]`). Everything is computed relative to `S(tᵢ)`, so a steep hazard
//! underflows to "certain", never to a division by zero. A gap between reads is kept within
//! `min..max` where the grid allows it.

/// Ages per bin on the grid (a bin spans a doubling: about 9% of the age apart).
const STEPS: usize = 8;
/// How far past the last edge the grid reaches, as a multiple of it (the last bin is open).
const REACH: f64 = 8.0;

/// The grid of ages a plan reads at: every edge, [`STEPS`] ages per bin, and the end.
#[derive(Debug, Clone)]
pub struct Grid {
    ages: Vec<f64>,
    /// The hazard bin of the segment that starts at each age.
    bins: Vec<usize>,
}

impl Grid {
    /// The grid for bins with these lower edges (ascending, the first 0, the last bin open).
    pub fn new(edges: &[f64]) -> Self {
        let (mut ages, mut bins) = (Vec::new(), Vec::new());
        for (i, lo) in edges.iter().enumerate() {
            let hi = edges.get(i + 1).copied().unwrap_or(lo * REACH);
            for k in 0..STEPS {
                // Geometric within a bin, except the first (from 0): arithmetic there.
                let at = if *lo > 0.0 {
                    lo * (hi / lo).powf(k as f64 / STEPS as f64)
                } else {
                    hi * k as f64 / STEPS as f64
                };
                ages.push(at);
                bins.push(i);
            }
        }
        ages.push(edges.last().map_or(0.0, |l| l * REACH));
        bins.push(edges.len().saturating_sub(1));
        Self { ages, bins }
    }

    /// The last grid age at or below `age` (`None` past the grid's end).
    pub fn cell(&self, age: f64) -> Option<usize> {
        let age = if age.is_finite() { age.max(0.0) } else { 0.0 };
        let k = self.ages.partition_point(|a| *a <= age).checked_sub(1)?;
        (k + 1 < self.ages.len()).then_some(k)
    }
}

/// The solved plan: for each grid age, the age of the next read.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Per grid age: the grid index of the next read, or `None` when no event can come after
    /// it (the hazard is zero from there on: nothing to read for).
    next: Vec<Option<usize>>,
}

impl Plan {
    /// The plan for hazard `h` (per bin of `grid`'s edges, events per second), at `price`
    /// seconds of delay per read, with gaps kept within `min..max` seconds where the grid
    /// allows (the first grid age past `min` is always allowed).
    pub fn solve(grid: &Grid, h: &[f64], price: f64, (min, max): (f64, f64)) -> Self {
        let n = grid.ages.len();
        // A read worth more than this much delay is never bought (and NaN buys every read).
        let price = if price.is_nan() {
            0.0
        } else {
            price.clamp(0.0, 1e12)
        };
        let rate = |k: usize| {
            let x = h.get(grid.bins[k]).copied().unwrap_or(0.0);
            if x.is_finite() && x > 0.0 {
                x
            } else {
                0.0
            }
        };
        // Per segment k (grid age k to k+1): its length, cumulative hazard and ∫S/S(start).
        let mut seg = Vec::with_capacity(n);
        for k in 0..n - 1 {
            let span = grid.ages[k + 1] - grid.ages[k];
            let x = rate(k);
            let mass = x * span;
            let area = if mass > 1e-12 {
                -(-mass).exp_m1() / x
            } else {
                span
            };
            seg.push((span, mass, area));
        }
        // Cumulative hazard from each age to the end: "can anything still happen".
        let mut tail = vec![0.0; n];
        for k in (0..n - 1).rev() {
            tail[k] = tail[k + 1] + seg[k].1;
        }
        let mut next = vec![None; n];
        // Cost to go, relative to the survival at each age: V(i) = W(i)/S(tᵢ).
        let mut v = vec![0.0; n];
        for i in (0..n - 1).rev() {
            if tail[i] <= 1e-12 {
                continue;
            }
            let (mut gap, mut log_s, mut area) = (0.0, 0.0f64, 0.0);
            let mut best: Option<(f64, usize)> = None;
            for j in i + 1..n {
                let (span, mass, a) = seg[j - 1];
                area += (-log_s).exp() * a;
                gap += span;
                log_s += mass;
                let s = (-log_s).exp();
                if gap < min && j + 1 < n {
                    continue;
                }
                // Past `max`, only when no read within it was possible.
                if gap > max && best.is_some() {
                    break;
                }
                let cost = price + (gap - area) + s * v[j];
                if best.is_none_or(|(b, _)| cost < b) {
                    best = Some((cost, j));
                }
                // Nothing can happen after `j`: a later read finds nothing more.
                if tail[j] <= 1e-12 {
                    break;
                }
            }
            if let Some((cost, j)) = best {
                v[i] = cost;
                next[i] = Some(j);
            }
        }
        Self { next }
    }

    /// The seconds from `age` (in grid cell `cell`) to the plan's next read, or `None` when
    /// nothing can happen after it.
    pub fn gap(&self, grid: &Grid, cell: usize, age: f64) -> Option<f64> {
        self.next[cell].map(|j| grid.ages[j] - age)
    }

    /// The ages of the reads of an order followed from age 0, until nothing can happen.
    pub fn path(&self, grid: &Grid) -> Vec<f64> {
        let (mut at, mut out) = (0, Vec::new());
        while let Some(j) = self.next[at] {
            out.push(grid.ages[j]);
            at = j;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDGES: [f64; 4] = [0.0, 60.0, 120.0, 240.0];

    fn reads(plan: &Plan, grid: &Grid) -> Vec<f64> {
        plan.path(grid)
    }

    #[test]
    fn reads_gather_where_events_are_likely_and_a_higher_price_buys_fewer() {
        let grid = Grid::new(&EDGES);
        // Installs only between one and two minutes.
        let h = [0.0, 0.05, 0.0, 0.0];
        let cheap = reads(&Plan::solve(&grid, &h, 1.0, (1.0, 1e9)), &grid);
        let dear = reads(&Plan::solve(&grid, &h, 30.0, (1.0, 1e9)), &grid);
        assert!(dear.len() < cheap.len(), "{dear:?} {cheap:?}");
        for r in [&cheap, &dear] {
            assert!(r.iter().all(|a| (60.0..=120.0).contains(a)), "{r:?}");
            assert_eq!(
                r.last(),
                Some(&120.0),
                "the last read at the end of the busy ages"
            );
        }
        // Nothing can happen after 2 min: nothing is planned there.
        let k = grid.cell(150.0).unwrap();
        assert_eq!(
            Plan::solve(&grid, &h, 1.0, (1.0, 1e9)).gap(&grid, k, 150.0),
            None
        );
    }

    #[test]
    fn a_constant_hazard_is_read_at_the_square_root_rule_s_spacing() {
        // Memoryless installs at rate h, a read worth λ seconds: spacing τ costs λ and
        // leaves a mean delay of about τ/2 for the h·τ of the orders that install, so the
        // best is τ = √(2λ/h) (the square-root rule): 200 s for h = 10⁻⁴/s and λ = 2 s.
        let edges: Vec<f64> = (0..12)
            .map(|i| if i == 0 { 0.0 } else { 15.0 * 2f64.powi(i - 1) })
            .collect();
        let grid = Grid::new(&edges);
        let plan = Plan::solve(&grid, &[1e-4; 12], 2.0, (1.0, 1e9));
        let r = reads(&plan, &grid);
        let mut last = 0.0;
        for a in r.iter().copied().take(6) {
            // The grid's steps are 9% of the age apart.
            assert!((160.0..=240.0).contains(&(a - last)), "{r:?}");
            last = a;
        }
    }

    #[test]
    fn most_installs_early_are_read_right_after_them() {
        // 95% install in the first minute, the rest slowly: a read comes at the end of that
        // minute (each second later delays 95% of the installs), even though the
        // slow rest alone would be read only every few minutes. A delay counted from the
        // read before instead of to the read after (the same for a constant hazard) puts it
        // half an hour late.
        let grid = Grid::new(&EDGES);
        let plan = Plan::solve(&grid, &[0.05, 1e-4, 1e-4, 1e-4], 30.0, (1.0, 1e9));
        let r = reads(&plan, &grid);
        assert!(r[0] <= 60.0 && r.contains(&60.0), "{r:?}");
    }

    #[test]
    fn gaps_stay_within_bounds_where_the_grid_allows() {
        let grid = Grid::new(&EDGES);
        let h = [0.01; 4];
        let plan = Plan::solve(&grid, &h, 1e6, (20.0, 100.0));
        let r = reads(&plan, &grid);
        let mut last = 0.0;
        // Past about 300 s this grid's steps are longer than 100 s.
        for a in r.iter().copied().take_while(|a| *a < 300.0) {
            assert!(
                a - last >= 20.0 - 1e-9 && a - last <= 100.0 + 1e-9,
                "{last} {a}"
            );
            last = a;
        }
        let free = reads(&Plan::solve(&grid, &h, 1e-6, (20.0, 100.0)), &grid);
        assert!(
            free.len() > r.len() && free[0] < 30.0,
            "a cheap read reads as often as allowed: {free:?}"
        );
    }

    #[test]
    fn hostile_hazards_and_prices_give_a_plan() {
        let grid = Grid::new(&EDGES);
        for h in [[f64::NAN; 4], [f64::INFINITY; 4], [1e300; 4], [-1.0; 4]] {
            for price in [0.0, f64::NAN, 1e300] {
                let plan = Plan::solve(&grid, &h, price, (1.0, 100.0));
                for k in 0..grid.ages.len() - 1 {
                    if let Some(g) = plan.gap(&grid, k, grid.ages[k]) {
                        assert!(g.is_finite() && g > 0.0, "{h:?} {price} {g}");
                    }
                }
            }
        }
        assert_eq!(grid.cell(1e12), None);
        assert_eq!(grid.cell(f64::NAN), Some(0));
    }
}
