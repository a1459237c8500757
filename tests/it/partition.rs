//! A network partition between the bridge container and NATS, under a steady webhook load:
//! while `docker network disconnect` cuts the bridge off NATS's network, webhooks get 503 (never
//! a 2xx for an unstored event); after `docker network connect` the bridge recovers, and once
//! the failed webhooks are re-sent (as the provider does) every event is stored exactly once.
//!
//! Two networks, so the test keeps reaching the bridge while it is cut off from NATS: the
//! bridge's published ports live on its "front" network (`esim-pa-*`, which sorts first and so
//! carries the container's gateway and port mappings), NATS lives on `esim-pb-*` alone.
//! Skipped (visibly) without Docker or the images, like `container.rs`.

use std::time::{Duration, Instant};

use crate::container_docker::{docker, gate, unique, Network};
use crate::support::cluster_load::{self, Load};
use crate::support::container_stack::{self, consumer_client, stored_subjects};

/// Offered load, webhooks per second.
const RATE: u32 = 100;
/// How long the partition lasts: longer than the bridge's `nats.retry_for` (3 s here), so
/// publishes must give up and answer 503 while it lasts.
const PARTITION: Duration = Duration::from_secs(8);
/// Upper bound on waiting for readiness and recovery.
const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_partition_from_nats_webhooks_get_503_and_nothing_is_lost_after_it_heals() {
    let Some(()) = gate("partition::bridge_cut_off_from_nats") else {
        return;
    };
    let front = Network::create(unique("esim-pa"));
    let back = Network::create(unique("esim-pb"));
    let nats = container_stack::nats(&back.0).await;
    let bridge = container_stack::bridge(&front.0, &nats.name, None, false).await;
    docker(&["network", "connect", &back.0, bridge.id()]).expect("connect bridge to NATS");
    let admin = format!("http://{}/readyz", bridge.local(9090).await);
    assert!(
        await_ready(&admin).await,
        "bridge not ready\n{}",
        bridge.logs().await
    );

    let url = format!("http://{}/webhooks/octopus", bridge.local(8080).await);
    let load = Load::start(url.clone(), RATE, 2);
    tokio::time::sleep(Duration::from_secs(2)).await;
    docker(&["network", "disconnect", &back.0, bridge.id()]).expect("partition");
    let cut_at = Instant::now();
    tokio::time::sleep(PARTITION).await;
    docker(&["network", "connect", &back.0, bridge.id()]).expect("heal");
    let healed_at = Instant::now();
    let recovered = load.await_success_after(healed_at, LIMIT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outcomes = load.stop().await;
    assert!(
        recovered,
        "no 2xx after the partition healed\n{}",
        bridge.logs().await
    );

    let w = cluster_load::window(&outcomes);
    assert!(
        w.other.is_empty(),
        "answers other than 2xx/503: {:?}",
        w.other
    );
    let during = outcomes
        .iter()
        .filter(|o| o.sent > cut_at && o.answered < healed_at);
    let during: Vec<u16> = during.map(|o| o.status).collect();
    // Sent after the cut and answered before the heal: no publish can be acknowledged, so
    // every one is a 503 (one 503 among 2xx answers would be unstored events acknowledged).
    assert!(
        !during.is_empty() && during.iter().all(|s| *s == 503),
        "answers other than 503 while cut off from NATS: {during:?}"
    );
    let resent = cluster_load::resend_failed(&url, &outcomes, 20).await;
    let consumer = consumer_client(&nats).await;
    let subjects = stored_subjects(&consumer).await;
    cluster_load::assert_each_stored_once(&outcomes, &subjects, 2);

    eprintln!(
        "partition: {} webhooks at {RATE}/s, cut off for {PARTITION:?}: {} answered 2xx, {} 503, \
         {resent} re-sent; first 503 -> first 2xx after: {:?}; stream holds {} events, each once",
        w.sent,
        w.ok,
        w.unavailable,
        w.outage,
        subjects.len(),
    );
}

/// Polls the bridge's `/readyz` from the host until it answers 200 or [`LIMIT`] passes.
async fn await_ready(url: &str) -> bool {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + LIMIT;
    while Instant::now() < deadline {
        if let Ok(r) = http.get(url).send().await {
            if r.status() == 200 {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}
