//! Replay throughput benchmark: `replay` (NDJSON to a discarding sink) next to a raw ordered
//! consumer reading the same stream, on the same nats-server in the same run, and the ratio.
//!
//! `cargo bench --bench replay` (env: BENCH_N events, default 100000; BENCH_ROUNDS, default 5).
//! Each round times the raw read, replay to NDJSON (discarding sink), replay to a file and a
//! dry run, in an order rotated per round; medians are reported, and the ratio to the raw read
//! is the median of per-round ratios (so a busy machine slows both sides of each ratio).

#[path = "../tests/it/support/fixture/mod.rs"]
mod fixture;
#[allow(dead_code)] // Shared with the tests; the bench uses a few helpers.
#[path = "../tests/it/support/replay.rs"]
mod replay_support;

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull::OrderedConfig};
use esim_bridge::config::NatsConfig;
use esim_bridge::tools::{self, Plan, Sinks};
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
    n: usize,
    sinks: Sinks,
) -> Duration {
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let summary = tools::replay(client, cfg, Plan::everything(), sinks, &shutdown)
        .await
        .expect("replay");
    assert_eq!(summary.matched, n as u64);
    started.elapsed()
}

/// One timed read of the whole stream.
#[derive(Clone, Copy)]
enum Kind {
    Raw,
    Sink,
    File,
    DryRun,
}

const KINDS: [Kind; 4] = [Kind::Raw, Kind::Sink, Kind::File, Kind::DryRun];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Raw => "raw ordered consumer",
            Kind::Sink => "replay -> NDJSON (sink)",
            Kind::File => "replay -> NDJSON (file)",
            Kind::DryRun => "replay --dry-run",
        }
    }
}

async fn time(
    kind: Kind,
    client: &async_nats::Client,
    cfg: &NatsConfig,
    n: usize,
    file: &std::path::Path,
) -> Duration {
    let sinks = match kind {
        Kind::Raw => return raw_read(client, cfg, n as u64).await.0,
        Kind::Sink => Sinks {
            output: Some(Box::new(tokio::io::sink())),
            ..Sinks::default()
        },
        Kind::File => Sinks {
            output: Some(tools::output::open(file).await.expect("file")),
            ..Sinks::default()
        },
        Kind::DryRun => Sinks {
            dry_run: true,
            ..Sinks::default()
        },
    };
    replay_into(client, cfg, n, sinks).await
}

fn per_second(n: u64, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n = env_or("BENCH_N", 100_000);
    let rounds = env_or("BENCH_ROUNDS", 5).max(1);
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

    let mut took: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
    for round in 0..rounds {
        // Rotate the order each round so no kind always runs first (cold) or after another.
        for k in (0..KINDS.len()).map(|i| (i + round) % KINDS.len()) {
            took[k].push(time(KINDS[k], client, &cfg, n, &file).await);
        }
        let rates: Vec<String> = took
            .iter()
            .map(|t| format!("{:.0}/s", per_second(n as u64, t[round])))
            .collect();
        println!("round {}: {}", round + 1, rates.join(", "));
    }
    let raw = &took[0];
    println!("median of {rounds} rounds, {n} events (ratio = median of per-round ratios to raw):");
    for (kind, t) in KINDS.iter().zip(&took) {
        let ratios: Vec<f64> = t
            .iter()
            .zip(raw)
            .map(|(t, r)| r.as_secs_f64() / t.as_secs_f64())
            .collect();
        println!(
            "  {:<24} {:>9.0} events/s  ratio {:.2}x",
            kind.label(),
            per_second(n as u64, median(t.clone())),
            median(ratios)
        );
    }
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}
