//! The poller under provider trouble: 429 storms, 5xx bursts, and short-lived tokens that
//! rotate during the run. The simulator's counters are the witness.

use std::time::Duration;

use crate::support::bridge::Bridge;
use crate::support::fixture::NatsServer;
use crate::support::poller::*;

const CHAIN: [&str; 4] = ["delivered", "installed", "activated", "depleted"];

#[tokio::test]
async fn storms_and_5xx_bursts_neither_break_the_budget_nor_lose_an_event() {
    let nats = NatsServer::start().await;
    let limit = 300;
    let sim = start_sim(esim_sim::SimConfig {
        reads_per_minute: limit,
        ..sim_config()
    })
    .await;
    let bridge = Bridge::start(&nats.url(), |c| {
        with_poller(c, &sim.base_url());
        c.upstream.reads_per_minute = limit;
        // One read at a time: no read can be on its way while a 429 is being answered.
        c.upstream.concurrency = 1;
    })
    .await;

    let mut keys = Vec::new();
    for step_ms in [700, 1100] {
        let truth = sim
            .create_order(order(full_lifecycle(Duration::from_millis(step_ms))))
            .expect("order");
        keys.push(truth.iccid.expect("iccid"));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    sim.throttle_for(Duration::from_millis(1500));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    sim.fail_next_reads(8, 503);
    eventually("the first 5xx burst is spent", || {
        sim.counters().server_errors >= 8
    })
    .await;
    sim.fail_next_reads(5, 502);

    let stored = wait_for(&nats.url(), |s| {
        keys.iter().all(|k| types_for(s, k).len() == 4)
    })
    .await;
    for k in &keys {
        assert_eq!(types_for(&stored, k), CHAIN);
    }
    let counters = sim.counters();
    assert!(counters.throttled >= 1, "{counters:?}");
    assert!(counters.server_errors >= 13, "{counters:?}");
    assert_eq!(counters.requests_during_retry_after, 0, "{counters:?}");
    assert!(
        counters.max_reads_in_window <= u64::from(limit),
        "{counters:?}"
    );
    bridge.stop().await;
}

#[tokio::test]
async fn tokens_expiring_and_rotating_during_a_run_fail_no_read() {
    let nats = NatsServer::start().await;
    let sim = start_sim(esim_sim::SimConfig {
        access_token_ttl: Duration::from_secs(2),
        refresh_token_ttl: Duration::from_secs(4),
        ..sim_config()
    })
    .await;
    let bridge = Bridge::start(&nats.url(), |c| with_poller(c, &sim.base_url())).await;
    let truth = sim
        .create_order(order(full_lifecycle(Duration::from_millis(1500))))
        .expect("order");
    let iccid = truth.iccid.expect("iccid");
    let stored = wait_for(&nats.url(), |s| types_for(s, &iccid).len() == 4).await;
    assert_eq!(types_for(&stored, &iccid), CHAIN);
    // Keep polling across a few more token lifetimes (discovery keeps reading).
    eventually("three refreshes", || sim.counters().refreshes >= 3).await;

    let counters = sim.counters();
    assert_eq!(
        counters.logins, 1,
        "one login, then refreshes: {counters:?}"
    );
    assert!(counters.refreshes >= 3, "{counters:?}");
    assert_eq!(
        counters.unauthorized, 0,
        "no read was refused: {counters:?}"
    );
    assert_eq!(counters.logouts, 0);
    bridge.stop().await;
}
