//! The load: prepared, unique, signed webhooks, sent by `wrk` (C and LuaJIT: it costs less CPU
//! per request than the bridge, so the bridge is what the run measures) or, where `wrk` is
//! missing, by an in-process reqwest client (heavier; the run says so).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use esim_sim::octopus_signature;

pub const SECRET: &str = "bench-secret-0123456789";

#[path = "../../crates/esim-normalise/benches/support/bodies.rs"]
mod bodies;
pub use bodies::body;

/// A request prepared ahead (body and signature), so the timed loop measures the bridge.
#[derive(Clone)]
pub struct Prepared {
    pub id: String,
    pub body: Bytes,
    pub signature: String,
}

pub fn prepare(i: usize) -> Prepared {
    let b = body(i);
    Prepared {
        id: format!("evt_esim_89{i:017}_delivered"),
        signature: octopus_signature(SECRET, b.as_bytes()),
        body: Bytes::from(b),
    }
}

pub fn unix_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.unwrap_or_default().as_secs().to_string()
}

/// The complete HTTP/1.1 request for `p`.
fn raw_request(p: &Prepared, host: &str, path: &str, ts: &str) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         X-Event-Id: {}\r\nX-Event-Type: esim.delivered\r\nX-Timestamp: {ts}\r\n\
         X-Signature: {}\r\nContent-Length: {}\r\n\r\n",
        p.id,
        p.signature,
        p.body.len()
    )
    .into_bytes();
    r.extend_from_slice(&p.body);
    r
}

/// `wrk` if it runs (`$WRK`, else `wrk` on `PATH`).
pub fn wrk() -> Option<PathBuf> {
    let bin = PathBuf::from(std::env::var_os("WRK").unwrap_or_else(|| "wrk".into()));
    let out = Command::new(&bin).arg("-v").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.contains("wrk").then_some(bin)
}

/// Writes requests `start..start + n` for `threads` wrk threads (`requests-<k>.bin`, each
/// request followed by a NUL), as `prepared.lua` reads them.
pub fn write_requests(
    dir: &Path,
    start: usize,
    n: usize,
    threads: usize,
    host: &str,
    path: &str,
) -> anyhow::Result<()> {
    let ts = unix_now();
    let mut files = Vec::with_capacity(threads);
    for k in 0..threads {
        let path = dir.join(format!("requests-{k}.bin"));
        let f =
            std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))?;
        files.push(std::io::BufWriter::new(f));
    }
    for i in start..start + n {
        let f = &mut files[i % threads];
        f.write_all(&raw_request(&prepare(i), host, path, &ts))
            .and_then(|()| f.write_all(b"\0"))
            .context("write the prepared requests")?;
    }
    for mut f in files {
        f.flush().context("write the prepared requests")?;
    }
    Ok(())
}

/// Starts wrk over the prepared requests in `dir`.
pub fn spawn_prepared(
    wrk: &Path,
    threads: usize,
    conns: usize,
    url: &str,
    dir: &Path,
) -> anyhow::Result<Child> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/webhook/prepared.lua");
    Command::new(wrk)
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &conns.to_string(),
            "-d",
            "600s",
        ])
        .args(["--timeout", "10s", "-s", script, url, "--"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("start {}", wrk.display()))
}

/// What wrk reported for the requests it saw answered.
#[derive(Debug, Default)]
pub struct WrkResult {
    pub p50: Duration,
    pub p99: Duration,
    pub errors: u64,
}

/// Interrupts wrk (its threads have stopped; it would otherwise sleep out `-d`) and reads its
/// summary.
pub fn finish_prepared(child: Child) -> anyhow::Result<WrkResult> {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().context("read wrk's summary")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("WRK_RESULT"))
        .unwrap_or("");
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or(0)
    };
    Ok(WrkResult {
        p50: Duration::from_micros(field("p50_us")),
        p99: Duration::from_micros(field("p99_us")),
        errors: field("status_errors") + field("timeouts") + field("socket_errors"),
    })
}

/// A fixed-length wrk run of plain GETs: (requests answered, requests/s).
pub fn wrk_get(
    wrk: &Path,
    threads: usize,
    conns: usize,
    secs: u64,
    url: &str,
) -> anyhow::Result<(u64, f64)> {
    let out = Command::new(wrk)
        .args(["-t", &threads.to_string(), "-c", &conns.to_string()])
        .args(["-d", &format!("{secs}s"), url])
        .output()
        .with_context(|| format!("run {}", wrk.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "  123456 requests in 5.00s, 9.1MB read" and "Requests/sec:  24691.20"
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    Ok((requests, rate))
}

/// The latency of one webhook, or `None` if it was not answered 200 (a shed request on a busy
/// machine: counted, not fatal).
async fn send(http: &reqwest::Client, url: &str, p: Prepared, ts: &str) -> Option<Duration> {
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
    matches!(res, Ok(ref r) if r.status() == 200).then(|| started.elapsed())
}

/// Without wrk: `c` reqwest workers, `n` requests in all. Returns sorted latencies and the
/// number of failed requests.
pub async fn closed_loop(
    url: &str,
    start: usize,
    n: usize,
    c: usize,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(c)
        .build()
        .context("HTTP client")?;
    let requests: Arc<Vec<Prepared>> = Arc::new((start..start + n).map(prepare).collect());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ts = unix_now();
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
        all.extend(w.await.context("a client worker panicked")?);
    }
    Ok(failures(all))
}

fn failures(all: Vec<Option<Duration>>) -> (Vec<Duration>, usize) {
    let mut ok: Vec<Duration> = all.iter().flatten().copied().collect();
    ok.sort();
    let failed = all.len() - ok.len();
    (ok, failed)
}

/// Open loop at `rate` req/s for `secs`: latency as a sender at that rate sees it, and the
/// number of failed requests.
pub async fn paced(
    url: &str,
    start: usize,
    rate: usize,
    secs: usize,
) -> anyhow::Result<(Vec<Duration>, usize)> {
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
        lat.push(h.await.context("a paced request panicked")?);
    }
    Ok(failures(lat))
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
