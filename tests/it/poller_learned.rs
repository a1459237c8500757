//! The learned read schedule's estimate survives a leader change and a restart: the next
//! poller starts from what the previous one stored under the state bucket's `learned` key
//! and adds to it, instead of learning the account again from nothing.

use std::time::Duration;

use esim_bridge::config::Config;
use esim_sim::OrderPlan;

use crate::support::bridge::Bridge;
use crate::support::fixture::NatsServer;
use crate::support::poller::*;

/// Installs counted in the stored estimate (0 while none is stored).
async fn stored_installs(nats_url: &str) -> f64 {
    let state = state_values(nats_url).await;
    let Some((_, value)) = state.iter().find(|(k, _)| k == "learned") else {
        return 0.0;
    };
    let v: serde_json::Value = serde_json::from_str(value).expect("learned is JSON");
    let events = v["install"]["events"].as_array().expect("install events");
    events.iter().filter_map(serde_json::Value::as_f64).sum()
}

/// Waits until the stored estimate counts at least `n` installs.
async fn until_stored(nats_url: &str, n: f64, what: &str) -> f64 {
    for _ in 0..600 {
        let count = stored_installs(nats_url).await;
        if count >= n {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let count = stored_installs(nats_url).await;
    panic!("{what}: the stored estimate counts {count} installs, not {n}");
}

fn installing_orders(sim: &Sim, n: usize) {
    for _ in 0..n {
        let plan = OrderPlan::delivered(Some(Duration::from_millis(300)), None);
        sim.create_order(order(plan)).expect("order");
    }
}

#[tokio::test]
async fn the_learned_estimate_survives_a_leader_change_and_a_restart() {
    let nats = NatsServer::start().await;
    let sim = start_sim(sim_config()).await;
    let configure = |c: &mut Config| with_poller(c, &sim.base_url());
    let logins = || sim.counters().logins;

    let first = Bridge::start(&nats.url(), configure).await;
    eventually("the first replica polls", || logins() == 1).await;
    let standby = Bridge::start(&nats.url(), configure).await;
    installing_orders(&sim, 60);
    let learned = until_stored(&nats.url(), 60.0, "the first leader").await;

    // A leader change: the standby takes the lease and must go on from the stored estimate.
    first.stop().await;
    eventually("the standby polls", || logins() == 2).await;
    installing_orders(&sim, 20);
    let learned = until_stored(&nats.url(), learned + 20.0, "after the leader change").await;

    // A restart of the only replica.
    standby.stop().await;
    let restarted = Bridge::start(&nats.url(), configure).await;
    eventually("the restarted replica polls", || logins() == 3).await;
    installing_orders(&sim, 20);
    until_stored(&nats.url(), learned + 20.0, "after the restart").await;
    restarted.stop().await;
}
