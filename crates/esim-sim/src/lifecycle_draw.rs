//! Random but realistic order lifecycles ([`random_plan`]), reproducible from the caller's RNG.
//!
//! Distribution: ~85% delivered at once; ~10% PENDING for minutes to hours (log-normal) then
//! mostly delivered, some failed or cancelled; ~4% failed at once; ~1% cancelled. Installs: ~65%
//! within minutes of delivery, ~25% hours later, ~10% never. Activation minutes to hours after
//! install (5% never); expiry `validity_days` after activation.

use std::time::Duration;

use rand::Rng;

use super::plan::{Failure, OrderPlan, Outcome};

/// Failure codes drawn for failed orders: (code, reason, user fixable).
const FAILURES: &[(&str, &str, bool)] = &[
    ("PROVIDER_ERROR", "The carrier rejected the order", false),
    (
        "OUT_OF_STOCK",
        "No eSIM profiles left for this product",
        false,
    ),
    (
        "INSUFFICIENT_BALANCE",
        "Wallet balance too low for this order",
        true,
    ),
    (
        "REGION_UNAVAILABLE",
        "Product not available in the buyer's region",
        false,
    ),
];

/// A log-normal duration with the given median (seconds), clamped to `[min, max]` seconds.
pub fn lognormal(rng: &mut impl Rng, median_secs: f64, sigma: f64, min: f64, max: f64) -> Duration {
    // Box–Muller: a standard normal from two uniforms (u1 in (0, 1] so ln is finite).
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let secs = (median_secs.ln() + sigma * z).exp().clamp(min, max);
    Duration::from_secs_f64(secs)
}

fn random_failure(rng: &mut impl Rng) -> Failure {
    let (code, reason, fixable) = FAILURES[rng.random_range(0..FAILURES.len())];
    Failure {
        code: code.into(),
        reason: reason.into(),
        user_fixable: fixable,
    }
}

/// Draws one lifecycle plan.
pub fn random_plan(rng: &mut impl Rng) -> OrderPlan {
    let u: f64 = rng.random();
    let mut plan = OrderPlan::default();
    if u < 0.85 {
        // Delivered synchronously.
    } else if u < 0.95 {
        plan.pending_for = lognormal(rng, 480.0, 1.3, 30.0, 12.0 * 3600.0);
        let v: f64 = rng.random();
        if v >= 0.97 {
            plan.outcome = Outcome::Cancelled;
        } else if v >= 0.88 {
            plan.outcome = Outcome::Failed;
            plan.with_iccid = rng.random_bool(0.3);
        }
    } else if u < 0.99 {
        plan.outcome = Outcome::Failed;
        plan.with_iccid = rng.random_bool(0.15);
    } else {
        plan.outcome = Outcome::Cancelled;
        plan.pending_for = lognormal(rng, 1200.0, 1.0, 60.0, 6.0 * 3600.0);
        plan.with_iccid = rng.random_bool(0.3);
    }
    match plan.outcome {
        Outcome::Failed => plan.failure = Some(random_failure(rng)),
        Outcome::Cancelled => plan.failure = Some(Failure::default_cancelled()),
        Outcome::Delivered => add_lifecycle(rng, &mut plan),
    }
    plan
}

fn add_lifecycle(rng: &mut impl Rng, plan: &mut OrderPlan) {
    let w: f64 = rng.random();
    plan.install_after = if w < 0.10 {
        None
    } else if w < 0.75 {
        Some(lognormal(rng, 180.0, 0.9, 20.0, 45.0 * 60.0))
    } else {
        Some(lognormal(
            rng,
            3.0 * 3600.0,
            0.8,
            45.0 * 60.0,
            3.0 * 86_400.0,
        ))
    };
    plan.activate_after = rng
        .random_bool(0.95)
        .then(|| lognormal(rng, 45.0 * 60.0, 1.1, 60.0, 3.0 * 86_400.0));
}
