//! Container scenarios with testcontainers: the locally built images (`deploy/build-images.sh`)
//! run as NATS, bridge and simulator containers on a user-defined network, as an integration
//! test of a consumer would run them.
//!
//! Without Docker or without the images every test here prints `SKIPPED: ...` and returns;
//! with `ESIM_CONTAINER_TESTS=required` (CI) that is a failure instead.

use std::time::{Duration, Instant};

use esim_sim::CountersSnapshot;

use crate::container_docker::{docker, gate, unique, Network, BRIDGE_IMAGE, NATS_IMAGE, SIM_IMAGE};
use crate::support::bridge::{esim_webhook, signed};
use crate::support::container_stack::{self, consumer_client, stored_subjects};

/// How long the simulator's own webhooks and the poller get to show up in the stream.
const PIPELINE_DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_containers_a_signed_webhook_is_stored_and_the_simulator_feeds_both_adapters() {
    let Some(()) = gate("container::pipeline") else {
        return;
    };
    let net = Network::create(unique("esim-it"));
    let nats = container_stack::nats(&net.0).await;
    // The bridge polls the simulator and the simulator sends webhooks to the bridge: start the
    // bridge first (its poller retries until the simulator answers), then the simulator.
    let sim_name = unique("esim-sim");
    let upstream = format!("http://{sim_name}:8081");
    let bridge = container_stack::bridge(&net.0, &nats.name, Some(&upstream), true).await;
    let webhook_url = format!("http://{}:8080/webhooks/octopus", bridge.name);
    let sim = container_stack::simulator(&net.0, sim_name, &webhook_url).await;

    // Given a webhook the test signs itself, when it is POSTed to the bridge's published port,
    // then it is answered 200 and stored under its ICCID.
    let http = reqwest::Client::new();
    let url = format!("http://{}/webhooks/octopus", bridge.local(8080).await);
    let body = esim_webhook(
        "evt_c1",
        "esim.delivered",
        7_700_001,
        Some("8910300000077000011"),
    );
    let answer = signed(&http, &url, &body)
        .send()
        .await
        .expect("POST webhook");
    assert_eq!(
        answer.status(),
        200,
        "bridge logs:\n{}",
        bridge.logs().await
    );
    let consumer = consumer_client(&nats).await;
    let subjects = stored_subjects(&consumer).await;
    let mine = "esim.events.8910300000077000011.delivered";
    assert_eq!(
        subjects.iter().filter(|s| *s == mine).count(),
        1,
        "{subjects:?}"
    );

    // And the simulator's own traffic arrives through both adapters: its signed webhooks (it
    // counts the 2xx answers) and the poller (events with `Esim-Source: poll`).
    let sim_url = format!("http://{}/_sim/counters", sim.local(8081).await);
    let deadline = Instant::now() + PIPELINE_DEADLINE;
    let (mut delivered, mut polled) = (0, 0);
    while Instant::now() < deadline && (delivered == 0 || polled == 0) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let counters: CountersSnapshot = match http.get(&sim_url).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => continue,
        };
        delivered = counters.webhooks.acked;
        polled = count_by_source(&consumer, "poll").await;
    }
    let logs = format!(
        "bridge:\n{}\nsim:\n{}",
        bridge.logs().await,
        sim.logs().await
    );
    assert!(
        delivered > 0,
        "no simulator webhook was answered 2xx\n{logs}"
    );
    assert!(polled > 0, "no event came from the poller\n{logs}");
    eprintln!("container pipeline: {delivered} simulator webhooks answered 2xx, {polled} polled events stored");
}

#[tokio::test]
async fn the_images_run_as_an_unprivileged_user_and_carry_a_healthcheck() {
    let Some(()) = gate("container::images") else {
        return;
    };
    for (name, tag) in [BRIDGE_IMAGE, NATS_IMAGE, SIM_IMAGE] {
        let image = format!("{name}:{tag}");
        let user = docker(&["image", "inspect", "--format", "{{.Config.User}}", &image]);
        assert_eq!(user.as_deref(), Ok("65532:65532"), "{image} user");
        let health = docker(&[
            "image",
            "inspect",
            "--format",
            "{{json .Config.Healthcheck.Test}}",
            &image,
        ])
        .expect("inspect healthcheck");
        assert!(
            health.contains("healthcheck"),
            "{image} healthcheck: {health}"
        );
    }
}

/// Stored events whose `Esim-Source` header is `source`.
async fn count_by_source(client: &async_nats::Client, source: &str) -> usize {
    let js = async_nats::jetstream::new(client.clone());
    let Ok(mut stream) = js.get_stream("ESIM_EVENTS").await else {
        return 0;
    };
    let Ok(info) = stream.info().await else {
        return 0;
    };
    let state = info.state.clone();
    let mut n = 0;
    for seq in state.first_sequence..=state.last_sequence.min(state.first_sequence + 2_000) {
        if let Ok(m) = stream.get_raw_message(seq).await {
            n += usize::from(
                m.headers
                    .get("Esim-Source")
                    .is_some_and(|v| v.as_str() == source),
            );
        }
    }
    n
}
