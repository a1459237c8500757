//! The workload task end to end: same seed, same orders (ids, products, plans, ICCIDs).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config;
use crate::{workload, OrderTruth, SimConfig, SimState, WorkloadConfig};

/// Runs a workload of 120 orders/hour at 3600× speed for 2 s of (virtual) time.
async fn run_workload(seed: u64) -> Vec<OrderTruth> {
    let cfg = SimConfig {
        speed: 3600.0,
        seed,
        workload: WorkloadConfig {
            orders_per_hour: 120.0,
            seed: None,
        },
        ..config()
    };
    let state = SimState::new(cfg).expect("valid");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(workload::create_orders(state.clone(), shutdown.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    shutdown.cancel();
    task.await.expect("workload task");
    let first = state.config().first_order_id;
    (first..first + state.order_count() as u64)
        .filter_map(|id| state.truth(id))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn same_seed_reproduces_the_same_orders() {
    let a = run_workload(7).await;
    let b = run_workload(7).await;
    // Two simulated hours at 120/h: a few hundred orders, not a handful.
    assert!((180..=300).contains(&a.len()), "{}", a.len());
    assert_eq!(a, b);
    let c = run_workload(8).await;
    assert_ne!(a, c);
    assert!(a.iter().all(|o| o.client_reference.starts_with("WL7-")));
}
