//! What a watcher detected of a simulated day, against the simulator's ground truth: the
//! detection delay of every transition inside the window, the ones never detected, and the
//! (age at the event, delay) points the plot draws.

use std::collections::HashMap;

use esim_events::EventType;
use esim_sim::{OrderStatus, OrderTruth, SimState};
use time::OffsetDateTime;

use crate::poller_day::{Watcher, QUICK_INSTALL};

/// The detections of one run.
#[derive(Default)]
pub struct Detected {
    /// Per event type: detection delays (seconds) of transitions inside the window.
    pub latencies: HashMap<EventType, Vec<f64>>,
    /// Per event type: transitions inside the window never detected.
    pub missed: HashMap<EventType, usize>,
    /// Installs within and after `QUICK_INSTALL` of delivery, as (delays, missed).
    pub install_split: [(Vec<f64>, usize); 2],
    /// (age at the event, delay) of installs (age from delivery) and activations (age from
    /// install), in seconds.
    pub points: [Vec<(f64, f64)>; 2],
}

/// Every transition of `truths` (every order of the run) that happened in the window
/// `[start, end]`, matched with its first detection in `seen`: with a warm-up, the day
/// before's orders' transitions in the window count, and the window's orders' after it do not.
pub fn detected(
    sim: &SimState,
    truths: &[OrderTruth],
    seen: &HashMap<(u64, EventType), OffsetDateTime>,
    (start, end): (OffsetDateTime, OffsetDateTime),
    watcher: Watcher,
) -> Detected {
    let mut out = Detected::default();
    for t in truths {
        let Some(t) = sim.truth(t.id) else { continue };
        let terminal = match t.final_status {
            OrderStatus::Delivered => EventType::Delivered,
            OrderStatus::Failed => EventType::Failed,
            OrderStatus::Cancelled => EventType::Cancelled,
            OrderStatus::Pending => continue,
        };
        let mut steps = vec![(terminal, Some(t.resolved_at), None)];
        if terminal == EventType::Delivered {
            steps.push((EventType::Installed, t.installed_at, Some(t.resolved_at)));
            steps.push((EventType::Activated, t.activated_at, t.installed_at));
            steps.push((EventType::Depleted, t.expires_at, None));
        }
        for (ty, at, since) in steps {
            let Some(at) = at.filter(|at| start <= *at && *at <= end) else {
                continue;
            };
            // The naive loops never look for activation or expiry.
            let watched = watcher != Watcher::Naive
                || !matches!(ty, EventType::Activated | EventType::Depleted);
            let quick = at - t.resolved_at <= QUICK_INSTALL;
            let bucket = (ty == EventType::Installed).then_some(usize::from(!quick));
            match seen.get(&(t.id, ty)) {
                Some(found) => {
                    let secs = (*found - at).as_seconds_f64().max(0.0);
                    out.latencies.entry(ty).or_default().push(secs);
                    if let Some(b) = bucket {
                        out.install_split[b].0.push(secs);
                    }
                    let class = match ty {
                        EventType::Installed => Some(0),
                        EventType::Activated => Some(1),
                        _ => None,
                    };
                    if let (Some(class), Some(since)) = (class, since) {
                        let age = (at - since).as_seconds_f64();
                        out.points[class].push((age, secs));
                    }
                }
                None if watched => {
                    *out.missed.entry(ty).or_default() += 1;
                    if let Some(b) = bucket {
                        out.install_split[b].1 += 1;
                    }
                }
                None => {}
            }
        }
    }
    out
}
