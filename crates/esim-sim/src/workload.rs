//! The random workload: orders arriving as simulated time passes (Poisson arrivals at
//! `orders_per_hour`, products by weight), each with a lifecycle drawn by
//! [`random_plan`](super::lifecycle_draw::random_plan), reproducible from a seed.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::catalog::{self, Product};
use super::lifecycle_draw::random_plan;
use super::plan::OrderPlan;
use super::state::SimState;
use super::store::NewOrder;

/// Random workload settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadConfig {
    /// Random orders per simulated hour; 0 disables the workload task.
    pub orders_per_hour: f64,
    /// Seed for arrivals and plans (the simulator's `seed` when absent).
    pub seed: Option<u64>,
}

impl WorkloadConfig {
    /// Rejects negative or non-finite rates.
    pub fn validate(&self) -> Result<(), String> {
        if self.orders_per_hour.is_finite() && self.orders_per_hour >= 0.0 {
            Ok(())
        } else {
            Err("workload.orders_per_hour must be >= 0".into())
        }
    }
}

/// One random order arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// Sim time since the previous arrival.
    pub after: Duration,
    /// What is bought.
    pub product: &'static Product,
    /// Its lifecycle.
    pub plan: OrderPlan,
}

/// A seeded stream of arrivals.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    mean_gap_secs: f64,
}

impl Generator {
    /// Arrivals at `orders_per_hour` (must be > 0) from `seed`.
    pub fn new(seed: u64, orders_per_hour: f64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            mean_gap_secs: 3600.0 / orders_per_hour.max(f64::MIN_POSITIVE),
        }
    }

    /// The next arrival (exponential gap, weighted product, random plan).
    pub fn next_arrival(&mut self) -> Arrival {
        let u: f64 = 1.0 - self.rng.random::<f64>();
        let gap = (-u.ln() * self.mean_gap_secs).min(86_400.0 * 365.0);
        Arrival {
            after: Duration::from_secs_f64(gap),
            product: catalog::pick(&mut self.rng),
            plan: random_plan(&mut self.rng),
        }
    }
}

/// Creates random orders as simulated time passes, until `shutdown`.
pub async fn create_orders(state: SimState, shutdown: CancellationToken) {
    let cfg = state.config().workload.clone();
    if cfg.orders_per_hour <= 0.0 {
        return;
    }
    let seed = cfg.seed.unwrap_or(state.config().seed);
    let mut generator = Generator::new(seed, cfg.orders_per_hour);
    let clock = state.clock();
    let mut next_at = clock.now();
    for n in 1u64.. {
        let arrival = generator.next_arrival();
        next_at += arrival.after;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = clock.sleep_until(next_at) => {}
        }
        let new = NewOrder {
            client_reference: Some(format!("WL{seed}-{n:06}")),
            product: arrival.product,
            amount: None,
            plan: arrival.plan,
        };
        if let Err(e) = state.insert(new) {
            tracing::warn!(error = %e, "workload order rejected");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Outcome;

    #[test]
    fn same_seed_same_arrivals_and_realistic_mix() {
        let mut a = Generator::new(42, 60.0);
        let mut b = Generator::new(42, 60.0);
        let xs: Vec<Arrival> = (0..2000).map(|_| a.next_arrival()).collect();
        let ys: Vec<Arrival> = (0..2000).map(|_| b.next_arrival()).collect();
        assert_eq!(xs, ys);
        let mut c = Generator::new(43, 60.0);
        assert_ne!(
            xs[..20],
            (0..20).map(|_| c.next_arrival()).collect::<Vec<_>>()[..]
        );

        let share = |f: &dyn Fn(&Arrival) -> bool| {
            xs.iter().filter(|a| f(a)).count() as f64 / xs.len() as f64
        };
        let sync_delivered =
            share(&|a| a.plan.outcome == Outcome::Delivered && a.plan.pending_for.is_zero());
        assert!((0.80..0.90).contains(&sync_delivered), "{sync_delivered}");
        let pending = share(&|a| !a.plan.pending_for.is_zero());
        assert!((0.07..0.14).contains(&pending), "{pending}");
        let cancelled = share(&|a| a.plan.outcome == Outcome::Cancelled);
        assert!(cancelled > 0.0 && cancelled < 0.03, "{cancelled}");
        let delivered: Vec<_> = xs
            .iter()
            .filter(|a| a.plan.outcome == Outcome::Delivered)
            .collect();
        let never = delivered
            .iter()
            .filter(|a| a.plan.install_after.is_none())
            .count() as f64
            / delivered.len() as f64;
        assert!((0.06..0.14).contains(&never), "{never}");
        let mean_gap: f64 = xs.iter().map(|a| a.after.as_secs_f64()).sum::<f64>() / 2000.0;
        assert!((50.0..70.0).contains(&mean_gap), "{mean_gap}");
    }
}
