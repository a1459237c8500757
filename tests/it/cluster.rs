//! A 3-node JetStream cluster on loopback under a steady webhook load: the R3 events stream
//! loses its leader (SIGKILL) and the bridge must never have answered 2xx for an event that is
//! not stored, nor store anything twice. The unavailability window is measured and printed,
//! never asserted (it depends on the machine).

use std::time::{Duration, Instant};

use crate::support::bridge::Bridge;
use crate::support::cluster_load::{self, Load};
use crate::support::fixture::NatsCluster;

/// Offered load, webhooks per second (each a new event).
const RATE: u32 = 200;
/// Load before the kill, so the stream has a history and the pipeline is warm.
const BEFORE: Duration = Duration::from_secs(3);
/// Load after the first 2xx following the kill, to see the cluster settle.
const AFTER: Duration = Duration::from_secs(3);
/// Upper bound on waiting for recovery; the scenario fails if the bridge never recovers.
const RECOVERY_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_an_r3_stream_killing_its_leader_under_load_loses_and_duplicates_nothing() {
    let cluster = NatsCluster::start(3).await;
    let bridge = Bridge::start(&cluster.urls(), |c| {
        c.nats.replicas = 3;
        c.nats.ack_timeout = Duration::from_secs(1);
        c.nats.retry_for = Duration::from_secs(2);
    })
    .await;
    let leader = cluster.await_stream_leader("ESIM_EVENTS", None).await;

    let load = Load::start(bridge.url(), RATE, 1);
    tokio::time::sleep(BEFORE).await;
    let killed_at = Instant::now();
    cluster.kill(leader);
    let recovered = load.await_success_after(killed_at, RECOVERY_LIMIT).await;
    tokio::time::sleep(AFTER).await;
    let outcomes = load.stop().await;
    assert!(
        recovered,
        "no webhook sent after the leader kill was answered 2xx within {RECOVERY_LIMIT:?}"
    );
    let new_leader = cluster
        .await_stream_leader("ESIM_EVENTS", Some(leader))
        .await;

    let w = cluster_load::window(&outcomes);
    assert!(
        w.other.is_empty(),
        "answers other than 2xx/503: {:?}",
        w.other
    );
    // The provider retries what was not answered 2xx; after that, everything is stored once.
    let resent = cluster_load::resend_failed(&bridge.url(), &outcomes, 20).await;
    let survivor = cluster.node(new_leader).url();
    let subjects: Vec<String> = crate::support::bridge::stored(&survivor, "ESIM_EVENTS")
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    cluster_load::assert_each_stored_once(&outcomes, &subjects, 1);

    eprintln!(
        "cluster failover: n{} killed, n{} leads; {} webhooks at {RATE}/s: {} answered 2xx, {} 503, \
         {resent} re-sent; unavailability (first 503 -> first 2xx after): {}; slowest 2xx: {:?}; \
         stream holds {} events, each once",
        leader + 1,
        new_leader + 1,
        w.sent,
        w.ok,
        w.unavailable,
        w.outage.map_or("none (retries hid the election)".into(), |d| format!("{d:?}")),
        w.max_ok_latency,
        subjects.len(),
    );
    bridge.stop().await;
}
