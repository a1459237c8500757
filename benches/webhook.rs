//! Webhook ingest benchmark: what one webhook costs the bridge and nats-server, measured with a
//! load generator that is not the bottleneck.
//!
//! `cargo bench --bench webhook` (about a minute). In one run, against a real
//! `esim-bridge serve` child process (release build) and one nats-server:
//! 1. the raw JetStream async-publish ceiling for event-sized messages, three ways: no headers;
//!    the bridge's exactly-once headers (`Nats-Msg-Id`, expected last subject sequence 0); and a
//!    stream that itself keeps one message per subject (no msg-id);
//! 2. ingest: BENCH_N (200,000) unique signed webhooks over BENCH_C (64) keep-alive connections
//!    from `wrk` (BENCH_WRK_THREADS threads) with `webhook/prepared.lua`; the rate is timed from
//!    the first to the last event stored in the stream;
//! 3. the HTTP floor: wrk's GETs of the webhook path for BENCH_FLOOR_SECS (5 s), answered 405 by
//!    the same listener and router with no body, verification or publish;
//! 4. an open-loop run at BENCH_RATE (1,000) req/s for BENCH_RATE_SECS (10 s); RSS from `/proc`.
//!
//! CPU per webhook is utime + stime from `/proc/<pid>/stat` over each phase, for the bridge,
//! nats-server and the load generator (wrk; for the raw runs, this process). The bridge runs as
//! a child process so its `/proc` figures hold nothing but the bridge. Without `wrk`, an
//! in-process reqwest client is used instead, and the run says so: it costs more CPU per
//! request than the bridge, so rates are then the client's, but CPU per webhook is still right.
//!
//! BENCH_BRIDGE_BIN=<path>: run that bridge binary instead of this build's (compare two builds by
//! running the bench in turns against each). BENCH_PERF_DATA=<file>: record the bridge with
//! `perf` during the ingest phase (`benches/profile/record.sh` makes a flame graph of it).

#[path = "../tests/it/support/fixture/mod.rs"]
mod fixture;
#[path = "webhook/ingest.rs"]
mod ingest;
#[path = "webhook/load.rs"]
mod load;
#[path = "webhook/procfs.rs"]
mod procfs;
#[path = "webhook/raw.rs"]
mod raw;

use std::time::{Duration, Instant};

use anyhow::Context as _;

use ingest::{ingest_reqwest, ingest_wrk, Bridge};
use load::percentile;
use procfs::Sample;

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info.lines().find_map(|l| l.strip_prefix("model name"));
    model.map_or("unknown CPU".into(), |m| {
        m.trim_start_matches([' ', '\t', ':']).to_owned()
    })
}

/// A bench has nothing to do when its environment is missing (no port, no bridge binary, no
/// nats-server): it says why and exits 1 instead of panicking.
fn main() -> std::process::ExitCode {
    let done = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run()));
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webhook bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    let n = env_or("BENCH_N", 200_000);
    let c = env_or("BENCH_C", 64);
    let threads = env_or("BENCH_WRK_THREADS", 2);
    let rate = env_or("BENCH_RATE", 1000);
    let rate_secs = env_or("BENCH_RATE_SECS", 10);
    let floor_secs = env_or("BENCH_FLOOR_SECS", 5);
    procfs::self_check()?;
    let load_at_start = procfs::load();
    let wrk = load::wrk();
    if wrk.is_none() {
        eprintln!("webhook bench: wrk not found ($WRK or `wrk` on PATH; Debian: apt-get install wrk): falling back to the in-process reqwest client, which costs more CPU per request than the bridge");
    }

    let nats = fixture::NatsServer::start().await;
    let bridge = Bridge::start(&nats.url()).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = procfs::rss_kib(bridge.pid());

    let size = {
        use esim_normalise::normalise::{from_webhook, parse_envelope, Normalised};
        let e = parse_envelope(load::body(0).as_bytes()).context("the bench's webhook body")?;
        match from_webhook(&e).context("the bench's webhook body")? {
            Normalised::Publish(ev) => match ev.first() {
                Some(event) => event
                    .to_payload()
                    .context("the bench's event payload")?
                    .len(),
                None => 0,
            },
            Normalised::Ignored => 0,
        }
    };

    eprintln!("webhook bench: raw publish baselines ({n} messages each)");
    let js = fixture::jetstream(&nats.url()).await;
    let mut raws = Vec::new();
    for variant in [
        raw::Variant::Plain,
        raw::Variant::ExactlyOnce,
        raw::Variant::PerSubjectLimit,
    ] {
        let before = Sample::take(bridge.pid(), nats.pid());
        let run = raw::run(&js, variant, n, size, 256).await?;
        let (_, nats_us, own_us) = Sample::take(bridge.pid(), nats.pid()).per(&before, n);
        raws.push((run, nats_us, own_us));
    }

    eprintln!("webhook bench: warm-up, then ingest of {n} webhooks");
    let _warmup = load::closed_loop(&bridge.url(), 0, 500, c).await?;
    let load_at_ingest = procfs::load();
    let ingest = match &wrk {
        Some(wrk) => ingest_wrk(wrk, &bridge, &nats, n, c, threads).await?,
        None => ingest_reqwest(&bridge, &nats, n, c).await?,
    };
    let rss_after = procfs::rss_kib(bridge.pid());

    eprintln!("webhook bench: HTTP floor, then the paced run");
    let before = Sample::take(bridge.pid(), nats.pid());
    let (floor_n, floor) = match &wrk {
        Some(wrk) => load::wrk_get(wrk, threads, c, floor_secs as u64, &bridge.url())?,
        None => (0, 0.0),
    };
    let (floor_bridge_us, _, _) =
        Sample::take(bridge.pid(), nats.pid()).per(&before, floor_n as usize);
    let (paced_lat, paced_failed) =
        load::paced(&bridge.url(), 1_000 + n + 1, rate, rate_secs).await?;
    let rss_sustained = procfs::rss_kib(bridge.pid());
    let load_at_end = procfs::load();
    drop(bridge);

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("esim-bridge webhook ingest benchmark");
    println!("  machine            {} x {} (load avg at start / ingest / end: {load_at_start} / {load_at_ingest} / {load_at_end})", cores, cpu_model());
    match &wrk {
        Some(w) => println!("  load generator     {} -t{threads} -c{c}, {n} prepared unique signed webhooks (benches/webhook/prepared.lua)", w.display()),
        None => println!("  load generator     NO wrk: in-process reqwest client, {c} connections (heavier than the bridge: rates are the client's)"),
    }
    println!("  event payload      {size} B stored");
    println!("  raw JetStream async publish, 256 acks in flight, {n} msgs each (CPU per msg: nats-server / publisher):");
    for (run, nats_us, own_us) in &raws {
        println!(
            "    {:<55} {:>8.0} msg/s  nats {nats_us:>5.1} µs  publisher {own_us:>5.1} µs  (2nd publish to a subject: {})",
            run.variant.label(),
            run.rate,
            run.second
        );
    }
    let raw_plain = raws[0].0.rate;
    let raw_headers = raws[1].0.rate;
    println!(
        "  bridge ingest      {:>8.0} req/s  p50 {:?}  p99 {:?}  stored {}/{n}, errors {}",
        ingest.rate, ingest.p50, ingest.p99, ingest.stored, ingest.errors
    );
    println!(
        "  CPU per webhook    bridge {:.1} µs, nats-server {:.1} µs, load generator {:.1} µs",
        ingest.cpu.0, ingest.cpu.1, ingest.cpu.2
    );
    if ingest.cpu.2 > 0.0 {
        // The generator's work per request is the same whatever the bridge build, so this
        // ratio cancels out how fast the machine happens to be during the run (KVM guests here
        // vary by half between runs).
        println!(
            "  bridge ÷ generator {:>8.2}x  CPU per webhook, in units of the load generator's (nats-server: {:.2}x)",
            ingest.cpu.0 / ingest.cpu.2,
            ingest.cpu.1 / ingest.cpu.2
        );
    }
    if floor > 0.0 {
        let composed = 1.0 / (1.0 / floor + 1.0 / raw_plain);
        let composed_headers = 1.0 / (1.0 / floor + 1.0 / raw_headers);
        println!("  HTTP floor         {floor:>8.0} req/s  (GET of the webhook path, 405: same listener and router; bridge CPU {floor_bridge_us:.1} µs/request)");
        println!("  composed floor     {composed:>8.0} req/s  1/(1/HTTP floor + 1/raw no headers); with the bridge's headers {composed_headers:.0}");
        println!(
            "  ingest / composed  {:>8.2}x  (target >= 0.8x; with headers {:.2}x)",
            ingest.rate / composed,
            ingest.rate / composed_headers
        );
    } else {
        println!("  HTTP floor         not measured (needs wrk)");
    }
    println!(
        "  ingest / raw       {:>8.2}x  (raw with the bridge's headers: {:.2}x)",
        ingest.rate / raw_plain,
        ingest.rate / raw_headers
    );
    println!(
        "  paced {rate} req/s {rate_secs}s  p50 {:?}  p99 {:?}  (target p99 <= 5ms), not 200: {paced_failed}",
        percentile(&paced_lat, 0.5),
        percentile(&paced_lat, 0.99)
    );
    println!("  bridge RSS         idle {rss_idle} KiB, after ingest {rss_after} KiB, after the paced run {rss_sustained} KiB");
    println!(
        "  bench took         {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
