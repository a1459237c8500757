//! The scheduler's install and activation delays next to the bound ([`crate::poller_bound`])
//! on the same day: mean and p99, and their ratio to the bound's.

use esim_bridge::ingest::poller::{Class, WATCH_SHARE};
use esim_events::EventType;

use crate::poller_bound::bound;
use crate::poller_day::DayResult;
use crate::poller_planned::Variant;
use crate::poller_whole::whole;

/// The mean and p99 of `v` (seconds).
fn mean_p99(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p99 = crate::percentile(&sorted, 0.99)?;
    Some((v.iter().sum::<f64>() / v.len() as f64, p99))
}

/// Reads the bound may spend: the limit over the arrival window, less what fulfilment and
/// discovery read in it.
fn budget(ours: &DayResult, limit: u32) -> f64 {
    let total = f64::from(limit) * ours.window_minutes;
    let first = ours
        .figures_at_window_end
        .as_ref()
        .map_or(0, |f| f.reads(&[Class::Fulfilment, Class::Discovery]));
    (total - first as f64).max(0.0)
}

/// `install_fast` and `install_tail` as configured by default: the learned intervals' bounds.
pub const RULE_BOUNDS: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_secs(30),
    std::time::Duration::from_secs(6 * 3600),
);

/// The ratios (mean, p99) to a bound per policy (in the order given) and class (installs
/// first).
pub type Ratios = Vec<[Option<(f64, f64)>; 2]>;

/// `plan*`: the whole-read plan on the day's true hazard (the bounds' bins), free of the
/// interval bounds, each activation watched from its install's detection.
const PLAN_STAR: Variant = Variant {
    fine: true,
    bounds: None,
};

/// The references a day is measured against, in [`Versus::ratios`] order.
pub const BOUNDS: [&str; 4] = [
    "bound",
    "bound' (the expiry watch paid first)",
    "bound\" (whole reads, the expiry watch paid first)",
    "plan* (bound\"'s plan, each activation watched from its install's detection)",
];

/// One day's policies against its bounds.
#[derive(Default)]
pub struct Versus {
    /// Per bound of [`BOUNDS`]: the policies' ratios to it.
    pub ratios: [Ratios; 4],
    /// The bound's (age at the event, expected delay) per class.
    pub curves: [Vec<(f64, f64)>; 2],
}

/// Prints the table and returns what it showed. Every policy ran the same day (same
/// arrivals, same truths); the bound's budget is the last policy's. Four references: the
/// issue's (every read left after fulfilment and discovery goes to installs and
/// activations, at the square-root rule's fractional rates), one that also leaves the expiry
/// watch of active eSIMs its reads, at most the learned schedule's share of them (`x' mean`,
/// `x' p99`), and that budget spent in whole reads ([`crate::poller_whole`]: `x" mean`,
/// `x" p99`): the one a schedule of whole reads that keeps the expiry watch can reach; and
/// `plan*` (`x* mean`, `x* p99`), that schedule with the poller's own blind spot: an
/// activation cannot be watched for before its install has been read.
pub fn report(
    policies: &[(&str, &DayResult)],
    limit: u32,
    fmt: impl Fn(Option<f64>) -> String,
) -> Versus {
    let Some((_, learned)) = policies.last() else {
        return Versus::default();
    };
    let budget = budget(learned, limit);
    // The learned schedule spreads the watch thinner past its share of the reads.
    let watch = learned.expiry_watch.min(budget * WATCH_SHARE);
    let watched = (budget - watch).max(0.0);
    let [install, activation] = &learned.waits;
    let (bounds, reads) = bound(&[install, activation], budget);
    let (bounds_watched, _) = bound(&[install, activation], watched);
    // Whole reads on bound' budget: the least any schedule that reads in whole reads and
    // keeps the expiry watch could reach.
    let bounds_whole = whole(&[install, activation], watched);
    let rule = crate::poller_rule::rule([install, activation], watched, RULE_BOUNDS);
    let plan = crate::poller_planned::planned([install, activation], watched, PLAN_STAR);
    let classes = [install, activation];
    let rule_learned = learned
        .learned
        .as_ref()
        .map(|l| crate::poller_rule::rule_on(l, classes, watched, RULE_BOUNDS));
    crate::poller_offline::dump(&learned.waits, budget, watched);
    let per_minute = |reads: f64| reads / learned.window_minutes;
    println!(
        "bound: square-root rule on the day's true delays, {:.1} reads/min left after fulfilment \
         and discovery; bound': {:.1} reads/min once the expiry watch of active eSIMs has its {:.1}",
        per_minute(budget),
        per_minute(watched),
        per_minute(watch),
    );
    if watch < learned.expiry_watch {
        println!(
            "(the watch of every eSIM active in the window every upstream.cadence.lifecycle \
             would take {:.1} reads/min: more than the learned schedule's share of them)",
            per_minute(learned.expiry_watch)
        );
    }
    println!(
        "the bound's reads/min: installs {:.1}, activations {:.1}",
        per_minute(reads[0]),
        per_minute(reads[1]),
    );
    println!(
        "{:<10} {:<12} | {:>8} {:>8} | {:>7} {:>7} | {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} | {:>6}",
        "event",
        "policy",
        "mean",
        "p99",
        "x mean",
        "x p99",
        "x' mean",
        "x' p99",
        "x\" mean",
        "x\" p99",
        "x* mean",
        "x* p99",
        "events"
    );
    for (policy, r) in policies {
        if let Some(f) = &r.figures_at_window_end {
            println!(
                "{policy} reads/min in the window: install classes {:.1}, lifecycle {:.1}",
                per_minute(f.reads(&[Class::InstallFast, Class::InstallSlow]) as f64),
                per_minute(f.reads(&[Class::Lifecycle]) as f64),
            );
        }
    }
    let mut out = Versus {
        ratios: std::array::from_fn(|_| vec![[None, None]; policies.len()]),
        curves: Default::default(),
    };
    let classes = [EventType::Installed, EventType::Activated];
    for (i, t) in classes.iter().enumerate() {
        let refs = [&bounds[i], &bounds_watched[i], &bounds_whole[i]];
        let [Some(b), Some(w), Some(x)] = refs else {
            println!("{:<10} (no events in the window)", t.token());
            continue;
        };
        out.curves[i].clone_from(&b.curve);
        // plan* without events (it never reads after one) leaves its columns NaN, not the row.
        let y = plan[i].as_ref();
        let all = [Some(b), Some(w), Some(x), y];
        let row = |policy: &str, m: f64, p: f64, n: usize| {
            let ratios = all.map(|b| b.map_or((f64::NAN, f64::NAN), |b| (m / b.mean, p / b.p99)));
            println!(
                "{:<10} {:<12} | {:>8} {:>8} | {:>7.2} {:>7.2} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} | {:>6}",
                t.token(),
                policy,
                fmt(Some(m)),
                fmt(Some(p)),
                ratios[0].0,
                ratios[0].1,
                ratios[1].0,
                ratios[1].1,
                ratios[2].0,
                ratios[2].1,
                ratios[3].0,
                ratios[3].1,
                n
            );
            ratios
        };
        row("bound", b.mean, b.p99, b.events);
        row("bound'", w.mean, w.p99, w.events);
        row("bound\"", x.mean, x.p99, x.events);
        if let Some(y) = y {
            row("plan*", y.mean, y.p99, y.events);
        }
        if let Some(r) = &rule[i] {
            row("rule, truth", r.mean, r.p99, r.events);
        }
        if let Some(Some(r)) = rule_learned.as_ref().map(|r| &r[i]) {
            row("rule, learnt", r.mean, r.p99, r.events);
        }
        for (j, (policy, r)) in policies.iter().enumerate() {
            let v = r.latencies.get(t).map_or(&[][..], Vec::as_slice);
            if let Some((m, p)) = mean_p99(v) {
                for (k, ratio) in row(policy, m, p, v.len()).into_iter().enumerate() {
                    out.ratios[k][j][i] = Some(ratio);
                }
            }
        }
    }
    out
}
