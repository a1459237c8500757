//! The poller's metrics, in one place so names and labels stay consistent (the provider
//! client's own are in [`crate::provider::metrics`]).
//!
//! Labels are fixed vocabularies (endpoint, outcome, phase, event type): never an order id,
//! an ICCID, a token or anything the provider sent.

use std::time::Duration;

use esim_events::EventType;

use crate::provider::sanity::Reason;

/// Tracked orders per phase (`pending`, `install_fast`, `install_slow`, `lifecycle`).
pub fn tracked(phase: &'static str, n: usize) {
    metrics::gauge!("esim_bridge_poller_tracked_orders", "phase" => phase).set(n as f64);
}

/// How overdue the oldest waiting item of a class is.
pub fn stretch(phase: &'static str, late: Duration) {
    metrics::gauge!("esim_bridge_poller_stretch_seconds", "phase" => phase).set(late.as_secs_f64());
}

/// One read the scheduler started, by why (`pick`: `due` by strict priority, `reserved` by
/// the lower classes' share, `early` on spare budget).
pub fn picked(pick: &'static str) {
    metrics::counter!("esim_bridge_poller_picks_total", "pick" => pick).increment(1);
}

/// How often an active eSIM is read for an early expiry: `upstream.cadence.lifecycle`, or
/// longer while the learned schedule spreads the expiry watch over its share of the reads.
pub fn expiry_watch(every: Duration) {
    metrics::gauge!("esim_bridge_poller_expiry_watch_seconds").set(every.as_secs_f64());
}

/// Orders marked for an early check on spare budget.
pub fn early_candidates(n: usize) {
    metrics::gauge!("esim_bridge_poller_early_candidates").set(n as f64);
}

/// Observed-at minus the event's `created_at`, for events this poller stored first.
pub fn detection_lag(t: EventType, lag: Duration) {
    metrics::histogram!("esim_bridge_detection_lag_seconds", "type" => t.token())
        .record(lag.as_secs_f64());
}

/// 1 while this replica holds the lease and polls.
pub fn leader(active: bool) {
    metrics::gauge!("esim_bridge_poller_leader").set(if active { 1.0 } else { 0.0 });
    if active {
        metrics::gauge!("esim_bridge_poller_consecutive_failures").set(0.0);
    }
}

/// An order set aside for good (`reason`: `date_out_of_range`, `invalid_iccid`,
/// `unpublishable`, `panicked`).
pub fn quarantined(reason: Reason) {
    metrics::counter!("esim_bridge_poller_quarantined_total", "reason" => reason.label())
        .increment(1);
}

/// Orders currently quarantined (this run and before).
pub fn quarantined_orders(n: usize) {
    metrics::gauge!("esim_bridge_poller_quarantined_orders").set(n as f64);
}

/// The engine stopped early and will be restarted (`reason`: `exited`, `error`, `panic`);
/// `consecutive`: failures in a row.
pub fn restarted(reason: &'static str, consecutive: u32) {
    metrics::counter!("esim_bridge_poller_restarts_total", "reason" => reason).increment(1);
    metrics::gauge!("esim_bridge_poller_consecutive_failures").set(f64::from(consecutive));
}
