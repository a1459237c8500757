//! The provider client's metrics: reads, logins, the read budget and what was refused of the
//! provider's answers. Labels are fixed vocabularies, never anything the provider sent.
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

/// A list reading ended before the provider's last page (`list`: `discovery`, `pending`;
/// `end`: `repeated` for a page with nothing new, `capped` at the page limit of a pass).
pub fn list_cut(list: &'static str, end: super::paging::End) {
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
