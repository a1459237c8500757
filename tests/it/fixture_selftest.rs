//! Scenarios proving the `nats-server` fixture does what the other tests rely on: a stopped server
//! refuses clients, a restarted one still has its JetStream store, and a 3-node cluster elects a
//! new stream leader after the leader is killed, and takes the killed node back.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::support::fixture::{jetstream, NatsCluster, NatsServer};

/// A stream name no other test (or earlier run against the same store) uses.
fn unique_stream() -> String {
    format!("SELFTEST_{:016x}", rand::random::<u64>())
}

async fn create_stream(js: &jetstream::Context, name: &str, replicas: usize) {
    let config = stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{name}.>")],
        num_replicas: replicas,
        ..Default::default()
    };
    js.create_stream(config).await.expect("create stream");
}

/// Publishes and waits for the JetStream ack; returns the stored sequence.
async fn publish(js: &jetstream::Context, subject: String, payload: &'static str) -> u64 {
    let ack = js.publish(subject, payload.into()).await.expect("publish");
    ack.await.expect("publish ack").sequence
}

#[tokio::test]
async fn given_a_restarted_server_a_message_published_before_the_stop_is_still_stored() {
    let server = NatsServer::start().await;
    let name = unique_stream();
    let js = jetstream(&server.url()).await;
    create_stream(&js, &name, 1).await;
    assert_eq!(publish(&js, format!("{name}.order"), "kept").await, 1);

    server.stop();
    assert!(!server.is_running());
    let refused = tokio::time::timeout(Duration::from_secs(5), async_nats::connect(server.url()));
    assert!(
        !matches!(refused.await, Ok(Ok(_))),
        "a stopped server must refuse clients"
    );

    server.restart().await;
    assert!(server.is_running());
    assert!(server.store_dir().join("jetstream").is_dir());
    let js = jetstream(&server.url()).await;
    let stream = js.get_stream(&name).await.expect("stream survives restart");
    let message = stream.get_raw_message(1).await.expect("message 1");
    assert_eq!(message.payload, "kept");
}

#[tokio::test]
async fn given_a_cluster_killing_the_stream_leader_elects_another_and_publish_works_again() {
    let cluster = NatsCluster::start(3).await;
    let name = unique_stream();
    let js = jetstream(&cluster.urls()).await;
    create_stream(&js, &name, 3).await;
    assert_eq!(publish(&js, format!("{name}.a"), "before").await, 1);
    let old_leader = cluster.await_stream_leader(&name, None).await;

    cluster.kill(old_leader);
    assert!(!cluster.node(old_leader).is_running());
    let new_leader = cluster.await_stream_leader(&name, Some(old_leader)).await;

    assert_ne!(new_leader, old_leader);
    assert_eq!(cluster.stream_leader(&name).await, Some(new_leader));
    assert_eq!(publish(&js, format!("{name}.b"), "after").await, 2);

    cluster.restart(old_leader).await;
    assert!(cluster.node(old_leader).is_running());
    assert_eq!(publish(&js, format!("{name}.c"), "rejoined").await, 3);
}
