//! The poller's metrics, in one place so names and labels stay consistent.
//!
//! Labels are fixed vocabularies (endpoint, outcome, phase, event type): never an order id,
//! an ICCID, a token or anything the provider sent.

use std::time::Duration;

use crate::event::EventType;

use super::engine::schedule::{Class, Pick};
use super::sanity::Reason;

/// One upstream read and how it ended (`endpoint`: `list`, `list_pending`, `detail`;
/// `outcome`: `ok`, `unauthorized`, `throttled`, `server_error`, `network`, `client_error`).
pub fn read(endpoint: &'static str, outcome: &'static str) {
    metrics::counter!("esim_bridge_upstream_reads_total", "endpoint" => endpoint, "outcome" => outcome)
        .increment(1);
    if outcome == "throttled" {
        metrics::counter!("esim_bridge_upstream_429_total").increment(1);
    }
}

/// One login or refresh call (`call`: `login`, `refresh`).
pub fn auth(call: &'static str, outcome: &'static str) {
    metrics::counter!("esim_bridge_upstream_auth_total", "call" => call, "outcome" => outcome)
        .increment(1);
    if outcome == "throttled" {
        metrics::counter!("esim_bridge_upstream_429_total").increment(1);
    }
}

/// Reads started in the current rolling minute, and the limit.
pub fn budget(used: usize, limit: usize) {
    metrics::gauge!("esim_bridge_upstream_budget_used").set(used as f64);
    metrics::gauge!("esim_bridge_upstream_budget_limit").set(limit as f64);
}

/// Tracked orders per phase (`pending`, `install_fast`, `install_slow`, `lifecycle`).
pub fn tracked(phase: &'static str, n: usize) {
    metrics::gauge!("esim_bridge_poller_tracked_orders", "phase" => phase).set(n as f64);
}

/// How overdue the oldest waiting item of a class is.
pub fn stretch(class: Class, late: Duration) {
    metrics::gauge!("esim_bridge_poller_stretch_seconds", "phase" => class.label())
        .set(late.as_secs_f64());
}

/// One read the scheduler started, by why (`pick`: `due` by strict priority, `reserved` by
/// the lower classes' share, `early` on spare budget).
pub fn picked(pick: Pick) {
    let pick = match pick {
        Pick::Due => "due",
        Pick::Reserved => "reserved",
        Pick::Early => "early",
    };
    metrics::counter!("esim_bridge_poller_picks_total", "pick" => pick).increment(1);
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

/// A provider order that could not be parsed, or carried an unknown enum value.
pub fn unparsed_order() {
    metrics::counter!("esim_bridge_upstream_unparsed_orders_total").increment(1);
}

/// Unknown enum values seen in provider orders.
pub fn unknown_enums(n: usize) {
    if n > 0 {
        metrics::counter!("esim_bridge_unknown_enum_values_total").increment(n as u64);
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

/// A list reading ended before the provider's last page (`list`: `discovery`, `pending`;
/// `end`: `repeated` for a page with nothing new, `capped` at the page limit of a pass).
pub fn list_cut(list: &'static str, end: super::upstream::paging::End) {
    metrics::counter!("esim_bridge_upstream_list_cut_total", "list" => list, "end" => end.label())
        .increment(1);
}

/// A list page with more items than the `per_page` asked for: refused whole.
pub fn oversized_page() {
    metrics::counter!("esim_bridge_upstream_oversized_pages_total").increment(1);
}

/// 1 while the provider cannot be read at all (its logins give no usable token), else 0.
pub fn cannot_read(blocked: bool) {
    metrics::gauge!("esim_bridge_upstream_cannot_read").set(if blocked { 1.0 } else { 0.0 });
}

/// A provider answer abandoned at `upstream.max_response_bytes`.
pub fn oversized() {
    metrics::counter!("esim_bridge_upstream_oversized_total").increment(1);
}
