//! Poller benchmark: the budgeted scheduler against the provider docs' naive per-order loops,
//! over a simulated day in virtual time, plus the poller's memory with 100,000 tracked orders
//! and the time a restart needs to resume them from KV.
//!
//! `cargo bench --bench poller`. Env: `POLLER_BENCH_HOURS` (arrivals, default 24),
//! `POLLER_BENCH_DRAIN` (hours polled after the last arrival, default 6),
//! `POLLER_BENCH_WARMUP` (hours of arrivals before the measured ones, default 0: the day starts
//! from nothing; `24` starts it with the day before's orders still waiting and its eSIMs in
//! use, as the poller's days do, in about twice the time; then every wait on in the day is
//! the bounds' to read, and every event in it is measured, whichever day's order it is),
//! `POLLER_BENCH_RATES` (orders/h, default `600,2000`), `POLLER_BENCH_TRACKED` (default 100000),
//! `POLLER_BENCH_RESERVED_SHARE` (overrides `upstream.reserved_share` for the scheduler),
//! `POLLER_BENCH_SHAPES` (default `today,slow,bimodal`), `POLLER_BENCH_PLOTS` (where the two
//! SVG plots of delay against age go, default `target/poller-bench`), `POLLER_BENCH_DUMP`
//! (appends each day's waits and budgets to a file, one JSON line per shape and rate),
//! `POLLER_BENCH_DUMP_ONLY` (runs only the ladder's day: enough for a dump),
//! `POLLER_BENCH_LOAD` (runs only the learned rule and the whole-read plans on dumped days, in
//! seconds; see
//! `poller/offline.rs`).
//!
//! Virtual time: the simulator runs in-process (its router called directly, no socket), with
//! 150–400 ms per answer and a 240 reads/min provider limit; the scheduler spends a 240/min
//! budget. Latency = first detection minus the simulator's ground-truth transition time.
//! Installs are also split into those within 10 minutes of delivery (`<=10m`, the ones the
//! 60 s target is about) and `later` ones.

#[path = "../tests/it/support/fixture/mod.rs"]
mod fixture;
#[path = "poller/bound.rs"]
mod poller_bound;
#[path = "poller/day.rs"]
mod poller_day;
#[path = "poller/detect.rs"]
mod poller_detect;
#[path = "poller/histogram.rs"]
mod poller_histogram;
#[path = "poller/memory.rs"]
mod poller_memory;
#[path = "poller/naive.rs"]
mod poller_naive;
#[path = "poller/offline.rs"]
mod poller_offline;
#[path = "poller/planned.rs"]
mod poller_planned;
#[path = "poller/plot.rs"]
mod poller_plot;
#[path = "poller/report.rs"]
mod poller_report;
#[path = "poller/rule.rs"]
mod poller_rule;
#[path = "poller/shape.rs"]
mod poller_shape;
#[path = "poller/versus.rs"]
mod poller_versus;
#[path = "poller/whole.rs"]
mod poller_whole;

use std::time::Instant;

use poller_day::Watcher;
use poller_report::{report, summary_table};
use poller_shape::Shape;

const LIMIT: u32 = 240;

fn env_f64(key: &str, default: f64) -> f64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    Some(sorted[((sorted.len() as f64 - 1.0) * p).round() as usize])
}

fn fmt_secs(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s >= 3600.0 => format!("{:.1}h", s / 3600.0),
        Some(s) if s >= 120.0 => format!("{:.1}m", s / 60.0),
        Some(s) => format!("{s:.1}s"),
    }
}

fn virtual_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        // Fails only if the OS refuses the runtime's timer or I/O driver: a bench can only stop.
        .expect("runtime")
}

/// Writes the install and activation plots.
fn plot(panels: &[Vec<poller_plot::Panel>; 2], columns: usize) {
    let dir = std::env::var("POLLER_BENCH_PLOTS").unwrap_or_else(|_| "target/poller-bench".into());
    let dir = std::path::Path::new(&dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        println!("\nplots not written: {}: {e}", dir.display());
        return;
    }
    let titles = [
        (
            "installs.svg",
            "Install detection delay against age since delivery",
        ),
        (
            "activations.svg",
            "Activation detection delay against age since install",
        ),
    ];
    for ((file, title), panels) in titles.iter().zip(panels) {
        let path = dir.join(file);
        match poller_plot::draw(&path, title, panels, columns) {
            Ok(()) => println!("\nplot: {}", path.display()),
            Err(e) => println!("\nplot {} not written: {e}", path.display()),
        }
    }
}

fn main() {
    if poller_offline::load() {
        return;
    }
    let hours = env_f64("POLLER_BENCH_HOURS", 24.0);
    let drain = env_f64("POLLER_BENCH_DRAIN", 6.0);
    let warmup = env_f64("POLLER_BENCH_WARMUP", 0.0);
    let tracked = env_f64("POLLER_BENCH_TRACKED", 100_000.0) as usize;
    let rates: Vec<f64> = std::env::var("POLLER_BENCH_RATES")
        .unwrap_or_else(|_| "600,2000".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    println!(
        "# poller benchmark: {hours} h of arrivals + {drain} h drain, virtual time, measured \
         after {warmup} h of arrivals before them"
    );
    if hours < 24.0 {
        println!("(scaled down from a full day: POLLER_BENCH_HOURS={hours})");
    }
    println!(
        "naive = the docs' per-order loops run by the ordering client (it learns synchronous \
         outcomes from the create answer, and never looks for activation or expiry)"
    );
    let shapes: Vec<Shape> = std::env::var("POLLER_BENCH_SHAPES")
        .unwrap_or_else(|_| "today,slow,bimodal".into())
        .split(',')
        .filter_map(Shape::parse)
        .collect();
    let mut versus = Vec::new();
    let mut panels: [Vec<poller_plot::Panel>; 2] = Default::default();
    for &shape in &shapes {
        println!("\n# {} installs: {}", shape.label(), shape.describe());
        for &per_hour in &rates {
            let window = (warmup, hours, drain);
            let wall = Instant::now();
            let run = poller_day::run((Watcher::Ladder, None), shape, per_hour, window, LIMIT);
            let ladder = virtual_runtime().block_on(run);
            if std::env::var("POLLER_BENCH_DUMP_ONLY").is_ok() {
                poller_versus::report(&[("ladder", &ladder)], LIMIT, fmt_secs);
                continue;
            }
            let run = poller_day::run((Watcher::Learned, None), shape, per_hour, window, LIMIT);
            let ours = virtual_runtime().block_on(run);
            // The same day again, starting from what the first one stored (a restarted or
            // new leader does the same): the schedule after its first day.
            // (None if it stored nothing: then the next day learns from nothing too.)
            let stored = (Watcher::Learned, ours.learned.clone());
            let run = poller_day::run(stored, shape, per_hour, window, LIMIT);
            let warm = virtual_runtime().block_on(run);
            let ours_wall = wall.elapsed();
            let wall = Instant::now();
            let run = poller_day::run((Watcher::Naive, None), shape, per_hour, window, LIMIT);
            let naive = virtual_runtime().block_on(run);
            println!("\n(ladder: the fixed cadences, upstream.cadence.learned = false)");
            report(shape, per_hour, &ladder, &naive);
            println!("\n(learned, first day: the schedule as shipped, learning from nothing)");
            report(shape, per_hour, &ours, &naive);
            println!("\n(learned, next day: starting from the first day's stored estimate)");
            report(shape, per_hour, &warm, &naive);
            let policies = [
                ("ladder", &ladder),
                ("learned 1st", &ours),
                ("learned next", &warm),
            ];
            let day = poller_versus::report(&policies, LIMIT, fmt_secs);
            for (class, panels) in panels.iter_mut().enumerate() {
                let mut lines: Vec<_> = policies
                    .iter()
                    .map(|(name, r)| (name.to_string(), poller_plot::curve(&r.points[class])))
                    .collect();
                lines.push(("bound".into(), poller_plot::curve(&day.curves[class])));
                let title = format!("{} shape, {per_hour:.0} orders/h", shape.label());
                panels.push(poller_plot::Panel { title, lines });
            }
            versus.push((shape, per_hour, day.ratios));
            println!(
                "wall time: ladder + learned {:.1}s, naive {:.1}s",
                ours_wall.as_secs_f64(),
                wall.elapsed().as_secs_f64()
            );
        }
    }
    summary_table(&versus);
    plot(&panels, rates.len());

    if tracked > 0 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            // As above: only an OS refusal, and the bench can only stop then.
            .expect("runtime");
        let m = rt.block_on(poller_memory::run(tracked));
        println!("\n## {} tracked orders", m.orders);
        println!(
            "KV: populated in {:.1}s, {:.1} MB stored; restart resume (load + rebuild schedule): {:.2}s",
            m.populate.as_secs_f64(),
            m.kv_bytes as f64 / 1e6,
            m.resume.as_secs_f64()
        );
        println!(
            "poller heap held for them: {:.1} MB ({:.0} bytes/order); process RSS {:.1} -> {:.1} MB \
             (includes load buffers the allocator keeps)",
            m.heap_delta as f64 / 1e6,
            m.heap_delta as f64 / m.orders as f64,
            m.rss_before_kib as f64 / 1024.0,
            m.rss_after_kib as f64 / 1024.0,
        );
    }
}
