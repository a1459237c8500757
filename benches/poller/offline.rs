//! The offline loop for trying a change to the learned rule: `POLLER_BENCH_DUMP=file` appends
//! each day's waits and budgets to `file` (one JSON line per shape and rate), and
//! `POLLER_BENCH_LOAD=file` runs only the rule on them (`rule, truth`), next to the bound' and
//! the whole-read bound", and the whole-read plan in four variants
//! ([`crate::poller_planned`]), in seconds instead of a day's simulation.

use crate::poller_bound::{Bound, Waits};
use crate::poller_planned::{planned, Variant};
use crate::poller_versus::RULE_BOUNDS;

/// Appends the day's waits and budgets to `$POLLER_BENCH_DUMP`, if it is set.
pub fn dump(waits: &[Waits; 2], budget: f64, watched: f64) {
    let Ok(path) = std::env::var("POLLER_BENCH_DUMP") else {
        return;
    };
    let line = serde_json::json!({
        "budget": budget,
        "watched": watched,
        "install": waits[0].members,
        "activation": waits[1].members,
    });
    use std::io::Write;
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        eprintln!("POLLER_BENCH_DUMP={path}: {e}");
    }
}

/// The mean delay of the events of the first ten minutes: where whole reads cost most.
fn early(curve: &[(f64, f64)]) -> String {
    let e: Vec<f64> = curve
        .iter()
        .filter(|(a, _)| *a <= 600.0)
        .map(|x| x.1)
        .collect();
    match e.len() {
        0 => "-".into(),
        n => format!("{:.1} s", e.iter().sum::<f64>() / n as f64),
    }
}

/// Runs the rule and the plans on every day in `$POLLER_BENCH_LOAD` and prints their ratios
/// to the bound' (false if the variable is not set).
pub fn load() -> bool {
    let Ok(path) = std::env::var("POLLER_BENCH_LOAD") else {
        return false;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("POLLER_BENCH_LOAD={path}: {e}");
        String::new()
    });
    for (day, line) in text.lines().enumerate() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            eprintln!("day {day}: not a dumped day");
            continue;
        };
        let members =
            |k: &str| serde_json::from_value(v[k].clone()).map(|members| Waits { members });
        let (install, activation) = match (members("install"), members("activation")) {
            (Ok(i), Ok(a)) => (i, a),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("day {day}: its waits do not read as this bench's members: {e}");
                continue;
            }
        };
        let classes = [&install, &activation];
        let watched = v["watched"].as_f64().unwrap_or(0.0);
        let (bounds, _) = crate::poller_bound::bound(&classes, watched);
        let mut rows: Vec<(String, Vec<Option<Bound>>)> = vec![
            (
                "bound\"".into(),
                crate::poller_whole::whole(&classes, watched),
            ),
            (
                "rule, truth".into(),
                crate::poller_rule::rule(classes, watched, RULE_BOUNDS),
            ),
        ];
        for fine in [false, true] {
            for bounds in [Some(RULE_BOUNDS), None] {
                let variant = Variant { fine, bounds };
                rows.push((variant.label(), planned(classes, watched, variant)));
            }
        }
        for (i, name) in ["installed", "activated"].iter().enumerate() {
            let Some(b) = &bounds[i] else { continue };
            println!(
                "day {day} {name}: bound' mean {:.1} s, p99 {:.1} s; events in their first 10 min {}",
                b.mean,
                b.p99,
                early(&b.curve)
            );
            for (label, r) in &rows {
                if let Some(r) = &r[i] {
                    println!(
                        "  {label:<28} x' mean {:>5.2}, x' p99 {:>5.2}; first 10 min {}",
                        r.mean / b.mean,
                        r.p99 / b.p99,
                        early(&r.curve)
                    );
                }
            }
        }
    }
    true
}
