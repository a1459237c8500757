//! Webhook ingest benchmark: N unique signed webhooks with C concurrent connections against
//! the real `esim-bridge serve` process, next to the raw JetStream async-publish ceiling for
//! same-size messages on the same nats-server in the same run.
//!
//! `cargo bench --bench webhook` (env: BENCH_N, BENCH_C, BENCH_RATE, BENCH_RATE_SECS).
//! Prints requests/s, p50/p99 latency, the ratio to the raw ceiling, a paced run at BENCH_RATE
//! req/s, and the bridge's resident memory idle, after load and after a sustained run.

#[path = "../tests/it/support/fixture/mod.rs"]
mod fixture;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use esim_bridge::sim::octopus_signature;
use tokio::sync::Semaphore;

const SECRET: &str = "bench-secret";

fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn body(i: usize) -> String {
    serde_json::json!({
        "id": format!("evt_bench_{i}"), "type": "esim.delivered", "created_at": "2026-05-15T14:30:32Z",
        "data": {"id": 1_000_000 + i, "client_reference": format!("BENCH_{i}"), "status": "DELIVERED",
            "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
            "validity_days": 7, "amount": 4.275, "currency": "USD",
            "iccid": format!("89{:017}", i)}
    })
    .to_string()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) a process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th there.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A request prepared ahead (body and signature), so the timed loop measures the bridge.
#[derive(Clone)]
struct Prepared {
    id: String,
    body: Bytes,
    signature: String,
}

fn prepare(i: usize) -> Prepared {
    let b = body(i);
    Prepared {
        id: format!("evt_bench_{i}"),
        signature: octopus_signature(SECRET, b.as_bytes()),
        body: Bytes::from(b),
    }
}

fn unix_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.unwrap_or_default().as_secs().to_string()
}

async fn send(http: &reqwest::Client, url: &str, p: Prepared, ts: &str) -> Duration {
    let started = Instant::now();
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-event-id", p.id)
        .header("x-event-type", "esim.delivered")
        .header("x-timestamp", ts)
        .header("x-signature", p.signature)
        .body(p.body)
        .send()
        .await;
    assert!(
        matches!(res, Ok(ref r) if r.status() == 200),
        "webhook failed: {res:?}"
    );
    started.elapsed()
}

/// Closed loop: `c` workers, `n` requests in all. Returns (req/s, sorted latencies).
async fn closed_loop(url: &str, start: usize, n: usize, c: usize) -> (f64, Vec<Duration>) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(c)
        .build()
        .expect("client");
    let requests: Arc<Vec<Prepared>> = Arc::new((start..start + n).map(prepare).collect());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ts = unix_now();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..c {
        let (http, url, next, requests, ts) = (
            http.clone(),
            url.to_owned(),
            next.clone(),
            requests.clone(),
            ts.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(p) = requests.get(i) else {
                    return lat;
                };
                lat.push(send(&http, &url, p.clone(), &ts).await);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// The HTTP floor: `n` GETs of the bridge's `/healthz` with `c` workers (same process, same
/// server stack, no verification and no publish), to show what HTTP alone costs here.
async fn http_floor(url: &str, n: usize, c: usize) -> f64 {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(c)
        .build()
        .expect("client");
    let left = Arc::new(std::sync::atomic::AtomicIsize::new(n as isize));
    let started = Instant::now();
    let workers: Vec<_> = (0..c)
        .map(|_| {
            let (http, url, left) = (http.clone(), url.to_owned(), left.clone());
            tokio::spawn(async move {
                while left.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) > 0 {
                    let r = http.get(&url).send().await;
                    assert!(
                        matches!(r, Ok(ref r) if r.status() == 200),
                        "healthz: {r:?}"
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Open loop at `rate` req/s for `secs`: latency as a sender at that rate sees it.
async fn paced(url: &str, start: usize, rate: usize, secs: usize) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let requests: Vec<Prepared> = (start..start + rate * secs).map(prepare).collect();
    let ts = unix_now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut handles = Vec::with_capacity(rate * secs);
    for p in requests {
        tick.tick().await;
        let (http, url, ts) = (http.clone(), url.to_owned(), ts.clone());
        handles.push(tokio::spawn(async move { send(&http, &url, p, &ts).await }));
    }
    let mut lat = Vec::with_capacity(handles.len());
    for h in handles {
        lat.push(h.await.expect("request"));
    }
    lat.sort();
    lat
}

/// The raw ceiling: async JetStream publishes of same-size messages, `window` acks in flight.
async fn raw_ceiling(nats_url: &str, n: usize, size: usize, window: usize) -> f64 {
    let js = fixture::jetstream(nats_url).await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "RAW_CEILING".into(),
        subjects: vec!["raw.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream");
    let payload = Bytes::from(vec![b'x'; size]);
    let permits = Arc::new(Semaphore::new(window));
    let started = Instant::now();
    let mut acks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let ack = js
            .publish(format!("raw.{i}"), payload.clone())
            .await
            .expect("publish");
        acks.push(tokio::spawn(async move {
            let r = ack.await;
            drop(permit);
            r.is_ok()
        }));
    }
    for a in acks {
        assert!(a.await.expect("ack task"), "raw publish not acked");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let n = env_or("BENCH_N", 20_000);
    let c = env_or("BENCH_C", 64);
    let rate = env_or("BENCH_RATE", 1000);
    let rate_secs = env_or("BENCH_RATE_SECS", 10);
    let nats = fixture::NatsServer::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let admin_port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut bridge = std::process::Command::new(env!("CARGO_BIN_EXE_esim-bridge"))
        .arg("serve")
        .env("ESIM_BRIDGE_NATS__URL", nats.url())
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .env("ESIM_BRIDGE_WEBHOOK__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "ESIM_BRIDGE_ADMIN__LISTEN",
            format!("127.0.0.1:{admin_port}"),
        )
        .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false")
        .env("ESIM_BRIDGE_LOG__LEVEL", "warn")
        .spawn()
        .expect("spawn bridge");
    let url = format!("http://127.0.0.1:{port}/webhooks/octopus");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(&url).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = bridge.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kib(pid);

    let size = {
        let e =
            esim_bridge::event::normalise::parse_envelope(body(0).as_bytes()).expect("envelope");
        match esim_bridge::event::normalise::from_webhook(&e).expect("event") {
            esim_bridge::event::normalise::Normalised::Publish(ev) => {
                ev[0].to_payload().expect("payload").len()
            }
            esim_bridge::event::normalise::Normalised::Ignored => 0,
        }
    };
    let _warmup = closed_loop(&url, 0, 500, c).await;
    let raw = raw_ceiling(&nats.url(), n, size, 256).await;
    let (bridge_cpu, nats_cpu) = (cpu_time(pid), cpu_time(nats.pid()));
    let (rps, lat) = closed_loop(&url, 1_000, n, c).await;
    let bridge_us = (cpu_time(pid) - bridge_cpu).as_micros() as f64 / n as f64;
    let nats_us = (cpu_time(nats.pid()) - nats_cpu).as_micros() as f64 / n as f64;
    let floor = http_floor(&format!("http://127.0.0.1:{admin_port}/healthz"), n, c).await;
    let rss_after = rss_kib(pid);
    let paced_lat = paced(&url, 1_000 + n, rate, rate_secs).await;
    let rss_sustained = rss_kib(pid);
    let _ = bridge.kill();
    let _ = bridge.wait();

    println!(
        "esim-bridge webhook ingest benchmark ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("  payload size              {size} B (stored event)");
    println!("  raw JetStream async publish {raw:>9.0} msg/s  (baseline: 256 acks in flight, same server, same run)");
    println!(
        "  bridge ingest ({c} conns)    {rps:>9.0} req/s  p50 {:?}  p99 {:?}  (N={n})",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    println!("  CPU per webhook             bridge {bridge_us:.0} µs, nats-server {nats_us:.0} µs (the load generator uses the rest of the 2 cores)");
    println!("  HTTP floor (GET /healthz)   {floor:>9.0} req/s  (same process and client, no verify, no publish)");
    println!("  ratio ingest / HTTP floor   {:>9.2}x", rps / floor);
    println!(
        "  ratio ingest / raw          {:>9.2}x  (target >= 0.5x)",
        rps / raw
    );
    println!(
        "  paced {rate} req/s for {rate_secs}s      p50 {:?}  p99 {:?}  (target p99 <= 5ms)",
        percentile(&paced_lat, 0.5),
        percentile(&paced_lat, 0.99)
    );
    println!("  bridge RSS idle {} KiB, after {n} requests {} KiB, after the paced run {} KiB (target <= 30 MB idle, flat)", rss_idle, rss_after, rss_sustained);
}
