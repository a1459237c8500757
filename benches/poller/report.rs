//! The poller bench's tables: each policy's day next to the naive loops' (percentiles per
//! event type, reads per minute, 429s, lateness and reads by class), and the closing tables
//! of every shape and rate against the references of [`crate::poller_versus`].

use esim_bridge::ingest::poller::Class;
use esim_events::EventType;

use crate::poller_day::DayResult;
use crate::poller_shape::Shape;
use crate::{fmt_secs, percentile, LIMIT};

type Summary = (Option<f64>, Option<f64>, usize, usize);

fn summarise(mut v: Vec<f64>, missed: usize) -> Summary {
    v.sort_by(f64::total_cmp);
    (percentile(&v, 0.5), percentile(&v, 0.99), v.len(), missed)
}

fn summary(r: &DayResult, t: EventType) -> Summary {
    let v = r.latencies.get(&t).cloned().unwrap_or_default();
    summarise(v, r.missed.get(&t).copied().unwrap_or(0))
}

/// The installs within (`0`) or after (`1`) ten minutes of delivery.
fn install_part(r: &DayResult, part: usize) -> Summary {
    let (v, missed) = &r.install_split[part];
    summarise(v.clone(), *missed)
}

fn row(label: &str, (a50, a99, an, am): Summary, (b50, b99, bn, bm): Summary) {
    println!(
        "{:<10} | {:>8} {:>8} {:>7} {:>7} | {:>8} {:>8} {:>7} {:>7} | {:>7} {:>7}",
        label,
        fmt_secs(a50),
        fmt_secs(a99),
        an,
        am,
        fmt_secs(b50),
        fmt_secs(b99),
        bn,
        bm,
        ratio(b50, a50),
        ratio(b99, a99)
    );
}

fn ratio(naive: Option<f64>, ours: Option<f64>) -> String {
    match (naive, ours) {
        (Some(b), Some(a)) if a > 0.0 && b / a < 0.1 => format!("{:.4}", b / a),
        (Some(b), Some(a)) if a > 0.0 => format!("{:.2}", b / a),
        _ => "-".into(),
    }
}

pub fn report(shape: Shape, per_hour: f64, ours: &DayResult, naive: &DayResult) {
    println!(
        "\n## {} installs, {per_hour:.0} orders/h: {} orders in {:.1} h ({LIMIT} reads/min limit; \
         events seen: every transition in the hours, a warm-up's orders' included)",
        shape.label(),
        ours.orders,
        ours.window_minutes / 60.0,
    );
    println!(
        "{:<10} | {:>8} {:>8} {:>7} {:>7} | {:>8} {:>8} {:>7} {:>7} | {:>7} {:>7}",
        "event",
        "p50",
        "p99",
        "seen",
        "missed",
        "naive50",
        "naive99",
        "seen",
        "missed",
        "x p50",
        "x p99"
    );
    for t in EventType::ALL {
        row(t.token(), summary(ours, t), summary(naive, t));
        if t == EventType::Installed {
            row(" <=10m", install_part(ours, 0), install_part(naive, 0));
            row(" later", install_part(ours, 1), install_part(naive, 1));
        }
    }
    let rpm = |r: &DayResult| r.reads_in_window as f64 / r.window_minutes;
    println!(
        "reads/min (arrival window): scheduler {:.1}, naive {:.1} (naive/scheduler {:.2}); \
         max in any 60 s: {} vs {}; 429s: {} vs {}",
        rpm(ours),
        rpm(naive),
        rpm(naive) / rpm(ours).max(f64::MIN_POSITIVE),
        ours.max_reads_any_minute,
        naive.max_reads_any_minute,
        ours.throttled,
        naive.throttled
    );
    if let Some(f) = &ours.figures {
        let mut line = String::from("scheduler lateness by class (mean / max):");
        for c in Class::ALL {
            let i = c as usize;
            let mean = f.total_late[i].as_secs_f64() / f.served[i].max(1) as f64;
            let max = f.max_late[i].as_secs_f64();
            line.push_str(&format!(
                " {} {} / {};",
                c.label(),
                fmt_secs(Some(mean)),
                fmt_secs(Some(max))
            ));
        }
        println!("{line} tracked at end: {}", f.tracked);
        let mut line = String::from("scheduler reads by class (due / early on spare budget):");
        for c in Class::ALL {
            let i = c as usize;
            line.push_str(&format!(" {} {} / {};", c.label(), f.served[i], f.early[i]));
        }
        println!("{line} reserved-share reads: {}", f.reserved);
    }
}

/// The closing tables: mean / p99 over each bound of [`crate::poller_versus::BOUNDS`], per shape
/// and rate.
pub fn summary_table(versus: &[(Shape, f64, [crate::poller_versus::Ratios; 4])]) {
    let cell = |r: Option<(f64, f64)>| r.map_or("-".into(), |(m, p)| format!("{m:.2}/{p:.2}"));
    for (k, title) in crate::poller_versus::BOUNDS.into_iter().enumerate() {
        println!("\n## mean / p99 as a multiple of the {title}, per shape and rate");
        println!(
            "{:<8} {:>5} | {:<35} | {:<35}",
            "shape",
            "per h",
            "installs: ladder, learned 1st, next",
            "activations: ladder, 1st, next"
        );
        for (shape, per_hour, all) in versus {
            let ratios = &all[k];
            let class = |i: usize| {
                let cells: Vec<String> = ratios.iter().map(|r| cell(r[i])).collect();
                cells.join("  ")
            };
            println!(
                "{:<8} {:>5.0} | {:<35} | {:<35}",
                shape.label(),
                per_hour,
                class(0),
                class(1)
            );
        }
    }
}
