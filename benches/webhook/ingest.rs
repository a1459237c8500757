//! The bridge under test as a child process, and one ingest run against it: wrk over prepared
//! requests (or, without wrk, the in-process client), timed by what the stream stored.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::fixture;
use super::load::{self, percentile};
use super::procfs::{self, Sample};

pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("no free local port")?;
    Ok(l.local_addr().context("local address")?.port())
}

/// The bridge under test, as a child process.
pub struct Bridge {
    child: Child,
    pub port: u16,
}

impl Bridge {
    pub async fn start(nats_url: &str) -> anyhow::Result<Bridge> {
        let (port, admin_port) = (free_port()?, free_port()?);
        // BENCH_BRIDGE_BIN: another build of the bridge (to compare two builds in turns).
        let bin = std::env::var_os("BENCH_BRIDGE_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_esim-bridge").into());
        let child = Command::new(&bin)
            .arg("serve")
            .env("ESIM_BRIDGE_NATS__URL", nats_url)
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", load::SECRET)
            .env("ESIM_BRIDGE_WEBHOOK__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "ESIM_BRIDGE_ADMIN__LISTEN",
                format!("127.0.0.1:{admin_port}"),
            )
            .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false")
            .env("ESIM_BRIDGE_LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("start the bridge ({})", bin.to_string_lossy()))?;
        let bridge = Bridge { child, port };
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if http.get(bridge.url()).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(bridge)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks/octopus", self.port)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One ingest run's figures.
#[derive(Default)]
pub struct Ingest {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// CPU µs per webhook: bridge, nats-server, load generator.
    pub cpu: (f64, f64, f64),
    pub errors: u64,
    pub stored: u64,
}

async fn stored(stream: &mut async_nats::jetstream::stream::Stream) -> u64 {
    stream.info().await.map(|i| i.state.messages).unwrap_or(0)
}

/// `n` webhooks from wrk; timed from the first to the last event stored.
pub async fn ingest_wrk(
    wrk: &std::path::Path,
    bridge: &Bridge,
    nats: &fixture::NatsServer,
    n: usize,
    c: usize,
    threads: usize,
) -> anyhow::Result<Ingest> {
    let dir = tempfile::tempdir().context("temp dir")?;
    let host = format!("127.0.0.1:{}", bridge.port);
    load::write_requests(dir.path(), 1_000, n, threads, &host, "/webhooks/octopus")?;
    let js = fixture::jetstream(&nats.url()).await;
    let mut stream = js
        .get_stream("ESIM_EVENTS")
        .await
        .context("the bridge's events stream")?;
    let base = stored(&mut stream).await;
    let perf = std::env::var_os("BENCH_PERF_DATA").map(|out| {
        Command::new("perf")
            .args([
                "record",
                "-e",
                "cpu-clock",
                "-F",
                "499",
                "--call-graph",
                "dwarf,32768",
                "-p",
            ])
            .arg(bridge.pid().to_string())
            .arg("-o")
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start perf record (BENCH_PERF_DATA)")
    });
    let perf = perf.transpose()?;
    let before = Sample::take(bridge.pid(), nats.pid());
    let child = load::spawn_prepared(wrk, threads, c, &bridge.url(), dir.path())?;
    let wrk_pid = child.id();
    // Until every webhook is stored, or nothing more is stored for 5 s (a failed request).
    let (mut first, mut last, mut seen) = (None, None, 0);
    let mut progress = Instant::now();
    while progress.elapsed() < Duration::from_secs(5) {
        let now = stored(&mut stream).await - base;
        if now > seen {
            (seen, progress) = (now, Instant::now());
            last = Some((progress, now));
        }
        if first.is_none() && now > 0 {
            first = Some((Instant::now(), now, procfs::cpu_time(wrk_pid)));
        }
        if now >= n as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let after = Sample::take(bridge.pid(), nats.pid());
    let wrk_cpu = procfs::cpu_time(wrk_pid);
    if let Some(mut p) = perf {
        let _ = Command::new("kill")
            .args(["-INT", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
    let result = load::finish_prepared(child)?;
    let stored_n = stored(&mut stream).await - base;
    let (rate, gen_us) = match (first, last) {
        (Some((t0, m0, wrk0)), Some((t1, m1))) if m1 > m0 => {
            let timed = (m1 - m0) as usize;
            let gen = wrk_cpu.saturating_sub(wrk0).as_micros() as f64 / timed as f64;
            (timed as f64 / (t1 - t0).as_secs_f64(), gen)
        }
        _ => (0.0, 0.0),
    };
    let (bridge_us, nats_us, _) = after.per(&before, stored_n.max(1) as usize);
    Ok(Ingest {
        rate,
        p50: result.p50,
        p99: result.p99,
        cpu: (bridge_us, nats_us, gen_us),
        errors: result.errors,
        stored: stored_n,
    })
}

/// Without wrk: the in-process reqwest client (heavier than the bridge).
pub async fn ingest_reqwest(
    bridge: &Bridge,
    nats: &fixture::NatsServer,
    n: usize,
    c: usize,
) -> anyhow::Result<Ingest> {
    let before = Sample::take(bridge.pid(), nats.pid());
    let started = Instant::now();
    let (lat, failed) = load::closed_loop(&bridge.url(), 1_000, n, c).await?;
    let took = started.elapsed();
    let (bridge_us, nats_us, own_us) = Sample::take(bridge.pid(), nats.pid()).per(&before, n);
    Ok(Ingest {
        rate: n as f64 / took.as_secs_f64(),
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
        cpu: (bridge_us, nats_us, own_us),
        errors: failed as u64,
        stored: n as u64,
    })
}
