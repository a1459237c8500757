//! A delay distribution on log-spaced bins, as the bounds ([`crate::poller_bound`],
//! [`crate::poller_whole`]) see the day's true delays: each bin's hazard, the square-root
//! rule's weight `√(f·S)`, and the survival at any age.

use esim_bridge::ingest::poller::Grid;

/// Bins per decade of the delay histogram, and its range in seconds.
const BINS_PER_DECADE: f64 = 8.0;
const FIRST_EDGE: f64 = 1.0;
pub const LAST_EDGE: f64 = 60.0 * 86_400.0;

/// The histogram of one class's planned delays.
pub struct Histogram {
    /// Lower edges of the bins (the first 0); the last edge closes the last bin.
    pub edges: Vec<f64>,
    /// Events per second at risk, per bin.
    pub hazard: Vec<f64>,
    /// `√(f·S)` per bin (reads per unit of `c` per second spent in the bin).
    weight: Vec<f64>,
    /// The share of waits that end inside each bin, and the share still waiting at its lower
    /// edge.
    share: Vec<f64>,
    survived: Vec<f64>,
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
        let (mut share, mut at_edge) = (Vec::new(), Vec::new());
        let mut survived = 1.0;
        for (i, c) in counts.iter().enumerate() {
            let p = *c as f64 / total;
            let width = edges[i + 1] - edges[i];
            let s_mid = (survived - p / 2.0).max(f64::MIN_POSITIVE);
            let f = p / width;
            hazard.push(f / s_mid);
            weight.push((f * s_mid).sqrt());
            share.push(p);
            at_edge.push(survived);
            survived -= p;
        }
        Self {
            edges,
            hazard,
            weight,
            share,
            survived: at_edge,
        }
    }

    /// The plan's grid on these bins (the same for every class: the edges are fixed).
    pub fn grid(&self) -> Grid {
        Grid::new(&self.edges[..self.edges.len() - 1])
    }

    pub fn index(edges: &[f64], d: f64) -> usize {
        edges[1..].partition_point(|e| *e <= d).min(edges.len() - 2)
    }

    /// `∫_from^to √(f·S) da`.
    pub fn reads_per_c(&self, (from, to): (f64, f64)) -> f64 {
        let mut sum = 0.0;
        for (i, w) in self.weight.iter().enumerate() {
            let (lo, hi) = (self.edges[i].max(from), self.edges[i + 1].min(to));
            if self.edges[i] >= to {
                break;
            }
            sum += w * (hi - lo).max(0.0);
        }
        sum
    }

    /// The share of waits still waiting at age `a` (linear within a bin).
    pub fn survival(&self, a: f64) -> f64 {
        let i = Self::index(&self.edges, a);
        let (lo, hi) = (self.edges[i], self.edges[i + 1]);
        let within = ((a - lo) / (hi - lo)).clamp(0.0, 1.0);
        self.survived[i] - self.share[i] * within
    }

    /// The optimal read rate per unit of `c` at age `d`.
    pub fn rate_per_c(&self, d: f64) -> f64 {
        self.hazard[Self::index(&self.edges, d)].sqrt()
    }
}
