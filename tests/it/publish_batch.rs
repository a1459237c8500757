//! Publishes from many tasks at once go through the batcher (`publish/batch.rs`): every one is
//! stored once under its own subject and answered with its own sequence, and publishing them all
//! again, at once, stores nothing more.

use std::collections::HashSet;

use esim_bridge::publish::Published;

use crate::support::fixture::NatsServer;
use crate::support::replay::{events, nats_config, publisher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_are_each_stored_once_with_their_own_ack() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let all = events(700);
    let n = all.len();

    let publish_all = |events: Vec<esim_events::Event>| {
        let publisher = publisher.clone();
        async move {
            let mut tasks = tokio::task::JoinSet::new();
            for e in events {
                let publisher = publisher.clone();
                tasks.spawn(async move { publisher.publish(&e).await.expect("published") });
            }
            let mut out = Vec::new();
            while let Some(r) = tasks.join_next().await {
                out.push(r.expect("task"));
            }
            out
        }
    };

    let first = publish_all(all.clone()).await;
    let sequences: HashSet<u64> = first
        .iter()
        .map(|p| match p {
            Published::Stored { sequence } => *sequence,
            Published::Duplicate => panic!("a first publish was answered as a duplicate"),
        })
        .collect();
    assert_eq!(sequences.len(), n, "every publish got its own sequence");
    assert_eq!(sequences.iter().max(), Some(&(n as u64)));

    let again = publish_all(all).await;
    assert!(
        again.iter().all(|p| *p == Published::Duplicate),
        "a second publish of the same events stored something"
    );
    let mut stream = publisher
        .jetstream()
        .get_stream(&cfg.stream)
        .await
        .expect("stream");
    let info = stream.info().await.expect("stream info");
    assert_eq!(info.state.messages, n as u64);
}
