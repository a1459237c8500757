//! This account's own install and activation delays, learned from what the poller observes,
//! so the read schedule ([`super::rates`]) spends reads where this account's transitions are
//! likely instead of on a fixed ladder.
//!
//! Each wait (install after delivery, activation after install) is a piecewise-constant
//! hazard on fixed age bins (15 s to 11 days, doubling, the last one open): the events seen in a bin divided by
//! the time orders spent at risk in it. Orders that have not installed yet count as exposure
//! up to their current age (censored data, the same information a Kaplan–Meier estimate uses),
//! so a slow account is not mistaken for a fast one by only counting the installs it has seen.
//!
//! What is persisted ([`Learned`], the KV key `learned`) is the finished part: events, and the
//! exposure of waits that ended (in an event, or by the order leaving). The exposure of orders
//! still waiting is added from the tracked orders whenever the rates are recomputed, so a
//! restart or a new leader, which restores both, loses nothing. A stored record is untrusted:
//! one of another shape, or with a negative or non-finite number, is dropped (the schedule
//! then starts from the ladder again).

use serde::{Deserialize, Serialize};

/// Lower edges of the age bins, in seconds (the last bin is open).
pub const EDGES: [f64; 18] = [
    0.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1_920.0, 3_840.0, 7_680.0, 15_360.0,
    30_720.0, 61_440.0, 122_880.0, 245_760.0, 491_520.0, 983_040.0,
];
/// Bins.
pub const BINS: usize = EDGES.len();
/// Version of the stored record.
const VERSION: u32 = 1;
/// Largest count or exposure a stored record may hold (a record past it is not trusted).
const MAX_VALUE: f64 = 1e10;
/// Exposure in one bin past which a wait's whole record is halved: the estimate stays
/// bounded however long the poller runs, and old observations weigh less than new ones
/// (an account's customers change), while the hazards, ratios of the two, stay as they are.
const HALVE_AT: f64 = 1e9;

/// Events a bin needs for its hazard to be its own rather than pooled with its neighbours'.
const OWN_EVENTS: f64 = 20.0;

/// Which wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// From delivery to install.
    Install,
    /// From install to first use.
    Activation,
}

impl Wait {
    pub const ALL: [Wait; 2] = [Wait::Install, Wait::Activation];

    pub fn label(self) -> &'static str {
        match self {
            Wait::Install => "install",
            Wait::Activation => "activation",
        }
    }
}

/// The bin of an age (seconds, clamped at 0).
pub fn bin(age: f64) -> usize {
    EDGES.partition_point(|e| *e <= age).saturating_sub(1)
}

/// Adds `[0, age)` of exposure to `exposure`, bin by bin.
pub fn add_exposure(exposure: &mut [f64; BINS], age: f64) {
    let age = if age.is_finite() { age.max(0.0) } else { 0.0 };
    for (i, lo) in EDGES.iter().enumerate() {
        if age <= *lo {
            break;
        }
        let hi = EDGES.get(i + 1).copied().unwrap_or(f64::INFINITY);
        exposure[i] += age.min(hi) - lo;
    }
}

/// Finished waits of one kind: events per bin, and the exposure of waits that ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub events: Vec<f64>,
    pub exposure: Vec<f64>,
}

impl Default for Finished {
    fn default() -> Self {
        Self {
            events: vec![0.0; BINS],
            exposure: vec![0.0; BINS],
        }
    }
}

impl Finished {
    /// A wait that ended in its event at `age` seconds.
    pub fn event(&mut self, age: f64) {
        let age = if age.is_finite() { age.max(0.0) } else { 0.0 };
        self.events[bin(age)] += 1.0;
        self.censored(age);
    }

    /// A wait that ended without its event (the order left) at `age` seconds.
    pub fn censored(&mut self, age: f64) {
        let mut exposure = [0.0; BINS];
        add_exposure(&mut exposure, age);
        for (e, add) in self.exposure.iter_mut().zip(exposure) {
            *e += add;
        }
        if self.exposure.iter().any(|e| *e > HALVE_AT) {
            for v in self.events.iter_mut().chain(self.exposure.iter_mut()) {
                *v /= 2.0;
            }
        }
    }

    /// Events seen in all.
    pub fn count(&self) -> f64 {
        self.events.iter().sum()
    }

    fn valid(&self) -> bool {
        let ok = |v: &[f64]| {
            v.len() == BINS
                && v.iter()
                    .all(|x| x.is_finite() && (0.0..=MAX_VALUE).contains(x))
        };
        ok(&self.events) && ok(&self.exposure)
    }

    /// The hazard per bin (events per second at risk), given the exposure of waits still
    /// open. A bin with fewer than [`OWN_EVENTS`] events pools its neighbours, so one empty
    /// bin between two busy ones does not read as "nothing ever happens here"; a bin with
    /// enough keeps its own (pooling a busy bin with its quiet neighbours would spread its
    /// reads over ages four times as wide).
    pub fn hazard(&self, open: &[f64; BINS]) -> [f64; BINS] {
        let exposure: Vec<f64> = self.exposure.iter().zip(open).map(|(a, b)| a + b).collect();
        let mut h = [0.0; BINS];
        for (i, out) in h.iter_mut().enumerate() {
            let range = if self.events[i] >= OWN_EVENTS {
                i..i + 1
            } else {
                i.saturating_sub(1)..(i + 2).min(BINS)
            };
            let events: f64 = self.events[range.clone()].iter().sum();
            let at_risk: f64 = exposure[range].iter().sum();
            *out = if at_risk > 0.0 { events / at_risk } else { 0.0 };
        }
        h
    }
}

/// What is learned, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    pub version: u32,
    pub install: Finished,
    pub activation: Finished,
}

impl Default for Learned {
    fn default() -> Self {
        Self {
            version: VERSION,
            install: Finished::default(),
            activation: Finished::default(),
        }
    }
}

impl Learned {
    pub fn get(&self, wait: Wait) -> &Finished {
        match wait {
            Wait::Install => &self.install,
            Wait::Activation => &self.activation,
        }
    }

    pub fn get_mut(&mut self, wait: Wait) -> &mut Finished {
        match wait {
            Wait::Install => &mut self.install,
            Wait::Activation => &mut self.activation,
        }
    }

    /// A stored record, if it is one this version can trust.
    pub fn from_stored(bytes: &[u8]) -> Option<Self> {
        let l: Learned = serde_json::from_slice(bytes).ok()?;
        (l.version == VERSION && l.install.valid() && l.activation.valid()).then_some(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_fills_the_bins_below_the_age() {
        let mut e = [0.0; BINS];
        add_exposure(&mut e, 45.0);
        assert_eq!(&e[..4], &[15.0, 15.0, 15.0, 0.0]);
        add_exposure(&mut e, 2.0e6);
        assert_eq!(e[BINS - 1], 2.0e6 - EDGES[BINS - 1]);
        let before = e;
        add_exposure(&mut e, f64::NAN);
        add_exposure(&mut e, -5.0);
        assert_eq!(e, before);
        assert_eq!(bin(0.0), 0);
        assert_eq!(bin(15.0), 1);
        assert_eq!(bin(-1.0), 0);
        assert_eq!(bin(1e9), BINS - 1);
    }

    #[test]
    fn waiting_orders_lower_the_hazard_they_are_exposed_to() {
        // Ten installs at 100 s; without the open waits the hazard there is 10 / exposure.
        let mut f = Finished::default();
        for _ in 0..10 {
            f.event(100.0);
        }
        let closed = f.hazard(&[0.0; BINS]);
        let mut open = [0.0; BINS];
        for _ in 0..90 {
            add_exposure(&mut open, 10_000.0);
        }
        let with_open = f.hazard(&open);
        let b = bin(100.0);
        assert!(closed[b] > 0.0 && with_open[b] < closed[b] / 5.0);
        assert_eq!(with_open[BINS - 1], 0.0, "no event seen that late");
    }

    #[test]
    fn a_busy_bin_keeps_its_own_hazard_and_a_sparse_one_pools() {
        // Many installs at 100 s (bin 3), a few at 1,000 s (bin 6), none in between: the busy
        // bin's hazard is its own (pooled with its quiet neighbours it would be diluted and
        // its reads spread over ages where nothing happens); the sparse bin borrows.
        let mut f = Finished::default();
        for _ in 0..100 {
            f.event(100.0);
        }
        for _ in 0..3 {
            f.event(1_000.0);
        }
        let h = f.hazard(&[0.0; BINS]);
        let busy = bin(100.0);
        let own = f.events[busy] / f.exposure[busy];
        assert!((h[busy] - own).abs() <= own * 1e-12, "{} vs {own}", h[busy]);
        assert!(
            h[bin(200.0)] > 0.0,
            "the empty neighbour of a busy bin borrows from it"
        );
        let sparse = bin(1_000.0);
        assert!(h[sparse] < f.events[sparse] / f.exposure[sparse]);
    }

    #[test]
    fn a_stored_record_is_trusted_only_in_its_own_shape() {
        let mut l = Learned::default();
        l.install.event(30.0);
        let bytes = serde_json::to_vec(&l).unwrap();
        assert_eq!(Learned::from_stored(&bytes), Some(l.clone()));
        for bad in [
            r#"{"version":1,"install":{"events":[1],"exposure":[1]},"activation":{"events":[],"exposure":[]}}"#,
            r#"{"version":2,"install":{"events":[],"exposure":[]},"activation":{"events":[],"exposure":[]}}"#,
            "not json",
        ] {
            assert_eq!(Learned::from_stored(bad.as_bytes()), None, "{bad}");
        }
        let mut negative = l.clone();
        negative.activation.exposure[3] = -1.0;
        let bytes = serde_json::to_vec(&negative).unwrap();
        assert_eq!(Learned::from_stored(&bytes), None);
        // However long it runs, what it stores stays readable.
        let mut long = Learned::default();
        for _ in 0..2_000 {
            long.install.censored(90.0 * 86_400.0);
        }
        long.install.event(60.0);
        assert!(Learned::from_stored(&serde_json::to_vec(&long).unwrap()).is_some());
        let mut huge = l;
        huge.install.events[0] = 1e300;
        assert_eq!(
            Learned::from_stored(&serde_json::to_vec(&huge).unwrap()),
            None
        );
    }
}
