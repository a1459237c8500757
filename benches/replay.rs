//! Replay throughput benchmark: `replay` (NDJSON to a discarding sink) next to a raw ordered
//! consumer reading the same stream, on the same nats-server in the same run, and the ratio.
//!
//! `cargo bench --bench replay` (env: BENCH_N events, default 100000; BENCH_ROUNDS, default 3).
//! Each round times, in turn: the raw read, replay to NDJSON, replay to a file, and a dry run;
//! the best round of each is reported (the least disturbed by the rest of the machine).

#[path = "../tests/it/fixture.rs"]
mod fixture;
#[allow(dead_code)] // Shared with the tests; the bench uses a few helpers.
#[path = "../tests/it/replay_support.rs"]
mod replay_support;

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull::OrderedConfig};
use esim_bridge::config::NatsConfig;
use esim_bridge::replay::{self, Plan, Sinks};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

fn env_or(key: &str, default: usize) -> usize {
    let value = std::env::var(key).ok().and_then(|v| v.parse().ok());
    value.unwrap_or(default)
}

/// Reads every message of the stream with a bare ordered consumer: the ceiling.
async fn raw_read(client: &async_nats::Client, cfg: &NatsConfig, n: u64) -> (Duration, u64) {
    let js = jetstream::new(client.clone());
    let started = Instant::now();
    let stream = js.get_stream(&cfg.stream).await.expect("stream");
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: format!("{}.events.>", cfg.subject_prefix),
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let (mut count, mut bytes) = (0u64, 0u64);
    while count < n {
        let message = messages.next().await.expect("open").expect("message");
        bytes += message.payload.len() as u64;
        count += 1;
    }
    (started.elapsed(), bytes)
}

async fn replay_into(
    client: &async_nats::Client,
    cfg: &NatsConfig,
    sinks: Sinks,
) -> (Duration, u64) {
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let summary = replay::replay(client, cfg, Plan::everything(), sinks, &shutdown)
        .await
        .expect("replay");
    (started.elapsed(), summary.matched)
}

fn per_second(n: u64, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n = env_or("BENCH_N", 100_000);
    let rounds = env_or("BENCH_ROUNDS", 3);
    let server = fixture::NatsServer::start().await;
    let cfg = replay_support::nats_config(&server.url());
    let publisher = replay_support::publisher(&cfg).await;
    let events = replay_support::events(n);
    let started = Instant::now();
    let (stored, _) = replay_support::publish_batches(&publisher, vec![events]).await;
    let publish = started.elapsed();
    let bytes: usize = stored.iter().map(|s| s.payload.len()).sum();
    println!(
        "published {n} events ({} bytes avg) in {:.2?} ({:.0} events/s)",
        bytes / n.max(1),
        publish,
        per_second(n as u64, publish)
    );
    let client = publisher.client();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("replay.ndjson");

    let mut best = [Duration::MAX; 4];
    for round in 1..=rounds {
        let (raw, _) = raw_read(client, &cfg, n as u64).await;
        let sink = Sinks {
            output: Some(Box::new(tokio::io::sink())),
            ..Sinks::default()
        };
        let (ndjson, matched) = replay_into(client, &cfg, sink).await;
        assert_eq!(matched, n as u64);
        let out = replay::output::open(&file).await.expect("file");
        let to_file = Sinks {
            output: Some(out),
            ..Sinks::default()
        };
        let (to_file, _) = replay_into(client, &cfg, to_file).await;
        let dry = Sinks {
            dry_run: true,
            ..Sinks::default()
        };
        let (dry, _) = replay_into(client, &cfg, dry).await;
        let took = [raw, ndjson, to_file, dry];
        println!(
            "round {round}: raw {:.0}/s, replay {:.0}/s, to file {:.0}/s, dry run {:.0}/s",
            per_second(n as u64, raw),
            per_second(n as u64, ndjson),
            per_second(n as u64, to_file),
            per_second(n as u64, dry)
        );
        for (b, t) in best.iter_mut().zip(took) {
            *b = (*b).min(t);
        }
    }
    let [raw, ndjson, to_file, dry] = best.map(|t| per_second(n as u64, t));
    println!("best of {rounds} rounds, {n} events:");
    println!("  raw ordered consumer     {raw:>10.0} events/s");
    println!(
        "  replay -> NDJSON (sink)  {ndjson:>10.0} events/s  ratio {:.2}x",
        ndjson / raw
    );
    println!(
        "  replay -> NDJSON (file)  {to_file:>10.0} events/s  ratio {:.2}x",
        to_file / raw
    );
    println!(
        "  replay --dry-run         {dry:>10.0} events/s  ratio {:.2}x",
        dry / raw
    );
}
