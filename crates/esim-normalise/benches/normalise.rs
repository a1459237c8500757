//! CPU per webhook of the event core alone: parse + normalise (with the field scans), build the
//! payload (with its final scan), the payload scan on its own, and the headers, over unique
//! events (so no cache helps more than it would in production).
//!
//! `cargo bench -p esim-events --bench normalise` (env: BENCH_N, default 100000).

#[path = "support/bodies.rs"]
mod bodies;

use std::hint::black_box;

use esim_normalise::normalise::{from_webhook, parse_envelope, Normalised};
use esim_normalise::scan::plainly_clean;

/// CPU time of this thread so far, in ns (`/proc/thread-self/schedstat`): wall time would count
/// the time other processes of a busy machine took.
fn cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Start(u64);

impl Start {
    fn now() -> Self {
        Self(cpu_ns())
    }
}

fn per(n: usize, start: Start) -> f64 {
    cpu_ns().saturating_sub(start.0) as f64 / n as f64 / 1000.0
}

fn main() {
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let webhooks: Vec<String> = (0..n).map(bodies::body).collect();
    let t = Start::now();
    let events: Vec<_> = webhooks
        .iter()
        .map(|b| {
            let env = parse_envelope(b.as_bytes()).expect("envelope");
            match from_webhook(&env).expect("event") {
                Normalised::Publish(mut e) => e.pop().expect("one"),
                Normalised::Ignored => panic!("ignored"),
            }
        })
        .collect();
    let normalise = per(n, t);
    let t = Start::now();
    let payloads: Vec<Vec<u8>> = events
        .iter()
        .map(|e| e.to_payload().expect("payload"))
        .collect();
    let payload = per(n, t);
    let t = Start::now();
    let clean = payloads
        .iter()
        .filter(|p| plainly_clean(black_box(p)))
        .count();
    let scan = per(n, t);
    let t = Start::now();
    for e in &events {
        black_box(e.headers().expect("headers"));
        black_box(e.subject("esim").expect("subject"));
    }
    let headers = per(n, t);
    println!("event core, {n} unique webhooks, µs of CPU each:");
    println!("  parse + normalise        {normalise:.2}");
    println!("  to_payload (with scan)   {payload:.2}");
    println!("  plainly_clean again      {scan:.2}  ({clean}/{n} plainly clean)");
    println!("  headers + subject        {headers:.2}");
}
