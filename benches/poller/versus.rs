//! The scheduler's install and activation delays next to the bound ([`crate::poller_bound`])
//! on the same day: mean and p99, and their ratio to the bound's.

use esim_bridge::ingest::poller::Class;
use esim_events::EventType;

use crate::poller_bound::{bound, Bound};
use crate::poller_day::DayResult;

/// The mean and p99 of `v` (seconds).
fn mean_p99(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p99 = sorted[((sorted.len() as f64 - 1.0) * 0.99).round() as usize];
    Some((v.iter().sum::<f64>() / v.len() as f64, p99))
}

/// Reads the bound may spend: the limit over the arrival window, less what fulfilment and
/// discovery read in it.
fn budget(ours: &DayResult, limit: u32) -> f64 {
    let total = f64::from(limit) * ours.window_minutes;
    let first = ours.figures_at_window_end.as_ref().map_or(0, |f| {
        [Class::Fulfilment, Class::Discovery]
            .iter()
            .map(|c| f.served[*c as usize] + f.early[*c as usize])
            .sum::<u64>()
    });
    (total - first as f64).max(0.0)
}

/// Prints the table; returns the ratios (mean, p99) to the bound per policy (in the order
/// given) and class (installs first). Every policy ran the same day (same arrivals, same
/// truths); the bound's budget is the last policy's.
pub fn report(
    policies: &[(&str, &DayResult)],
    limit: u32,
    fmt: impl Fn(Option<f64>) -> String,
) -> Vec<[Option<(f64, f64)>; 2]> {
    let Some((_, learned)) = policies.last() else {
        return Vec::new();
    };
    let budget = budget(learned, limit);
    let [install, activation] = &learned.waits;
    let (bounds, _) = bound(&[install, activation], budget);
    println!(
        "bound: square-root rule on the day's true delays, {:.1} reads/min left after fulfilment and discovery",
        budget / learned.window_minutes
    );
    println!(
        "{:<10} {:<12} | {:>8} {:>8} | {:>7} {:>7} | {:>6}",
        "event", "policy", "mean", "p99", "x mean", "x p99", "events"
    );
    let mut ratios = vec![[None, None]; policies.len()];
    for (i, (t, b)) in [EventType::Installed, EventType::Activated]
        .iter()
        .zip(&bounds)
        .enumerate()
    {
        let Some(Bound { mean, p99, events }) = *b else {
            println!("{:<10} (no events in the window)", t.token());
            continue;
        };
        let row = |policy: &str, m: f64, p: f64, n: usize| {
            println!(
                "{:<10} {:<12} | {:>8} {:>8} | {:>7.2} {:>7.2} | {:>6}",
                t.token(),
                policy,
                fmt(Some(m)),
                fmt(Some(p)),
                m / mean,
                p / p99,
                n
            );
        };
        row("bound", mean, p99, events);
        for (j, (policy, r)) in policies.iter().enumerate() {
            let v = r.latencies.get(t).map_or(&[][..], Vec::as_slice);
            if let Some((m, p)) = mean_p99(v) {
                row(policy, m, p, v.len());
                ratios[j][i] = Some((m / mean, p / p99));
            }
        }
    }
    ratios
}
