//! `--to-subject`: copies replay to the same payloads, carry `Esim-Replayed-From` and the
//! original `Esim-*` headers, go out without a stream as core messages, and a forced replay
//! into the live prefix keeps one message per subject.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use esim_bridge::tools::{self, Filter, Plan, Sinks, Target, REPLAYED_FROM};
use esim_events::EventType;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::support::fixture::NatsServer;
use crate::support::replay::{
    events, nats_config, ndjson, publish_batches, publisher, replay_to_vec,
};

const EVENTS: usize = 300;

fn to(target: Target) -> Sinks {
    Sinks {
        republish: Some(target),
        ..Sinks::default()
    }
}

#[tokio::test]
async fn copies_replay_identically_and_say_where_they_came_from() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let (stored, _) = publish_batches(&publisher, vec![events(EVENTS)]).await;
    let (client, js) = (
        publisher.client(),
        jetstream::new(publisher.client().clone()),
    );
    let shutdown = CancellationToken::new();

    let copy_stream = js
        .create_stream(stream::Config {
            name: "ESIM_COPY".into(),
            subjects: vec!["copy.esim.events.>".into()],
            allow_direct: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let target = Target::new("copy.esim", "esim", false).unwrap();
    let summary = tools::replay(client, &cfg, Plan::everything(), to(target), &shutdown)
        .await
        .unwrap();
    assert_eq!(
        (summary.matched, summary.already_present),
        (EVENTS as u64, 0)
    );

    let copy_cfg = esim_bridge::config::NatsConfig {
        stream: "ESIM_COPY".into(),
        subject_prefix: "copy.esim".into(),
        ..cfg.clone()
    };
    let (copy, _) = replay_to_vec(client, &copy_cfg, Plan::everything()).await;
    assert!(
        copy == ndjson(&stored),
        "the copy replays to the same payloads"
    );

    let original: HashMap<String, u64> = stored
        .iter()
        .map(|s| {
            (
                format!("esim.events.{}.{}", s.key, s.event.event_type.token()),
                s.sequence,
            )
        })
        .collect();
    for seq in 1..=EVENTS as u64 {
        let m = copy_stream.direct_get(seq).await.unwrap();
        let tail = m
            .subject
            .strip_prefix("copy.")
            .expect("under the target prefix");
        let from = m
            .headers
            .get(REPLAYED_FROM)
            .expect("Esim-Replayed-From")
            .as_str();
        assert_eq!(
            from.parse::<u64>().ok(),
            original.get(tail).copied(),
            "{}",
            m.subject
        );
        for header in [
            "Esim-Event-Type",
            "Esim-Order-Id",
            "Esim-Source",
            "Esim-Schema",
        ] {
            assert!(m.headers.get(header).is_some(), "{header} on {}", m.subject);
        }
        assert!(m
            .headers
            .get("Nats-Expected-Last-Subject-Sequence")
            .is_none());
    }
}

#[tokio::test]
async fn without_a_stream_copies_go_out_as_core_messages_in_order() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let (stored, _) = publish_batches(&publisher, vec![events(EVENTS)]).await;
    let client = publisher.client();
    let mut sub = client.subscribe("plain.esim.events.>").await.unwrap();
    client.flush().await.unwrap();

    let plan = Plan {
        filter: Filter::all().event_type(EventType::Failed),
        ..Plan::everything()
    };
    let target = Target::new("plain.esim", "esim", false).unwrap();
    let shutdown = CancellationToken::new();
    let summary = tools::replay(client, &cfg, plan, to(target), &shutdown)
        .await
        .unwrap();
    let failed: Vec<_> = stored
        .iter()
        .filter(|s| s.event.event_type == EventType::Failed)
        .collect();
    assert_eq!(summary.matched, failed.len() as u64);
    for s in failed {
        let m = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.payload.as_ref(), s.payload.as_slice());
        let from = m
            .headers
            .as_ref()
            .and_then(|h| h.get(REPLAYED_FROM))
            .unwrap();
        assert_eq!(from.as_str(), s.sequence.to_string());
    }
}

#[tokio::test]
async fn a_forced_replay_into_the_live_prefix_keeps_one_message_per_subject() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    publish_batches(&publisher, vec![events(EVENTS)]).await;
    let client = publisher.client();
    assert!(Target::new("esim", "esim", false).is_err());

    let target = Target::new("esim", "esim", true).unwrap();
    let shutdown = CancellationToken::new();
    let summary = tools::replay(client, &cfg, Plan::everything(), to(target), &shutdown)
        .await
        .unwrap();
    assert_eq!(
        (summary.matched, summary.already_present),
        (EVENTS as u64, EVENTS as u64)
    );
    let js = jetstream::new(client.clone());
    let mut stream = js.get_stream(&cfg.stream).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, EVENTS as u64);
}
