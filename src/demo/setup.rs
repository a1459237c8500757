//! What the demo runs: the bridge's configuration, the simulator's, and a few scripted
//! showcase orders on top of the random workload.
//!
//! The simulator's clock runs fast (default 1440×: a simulated day per real minute), so
//! installs, first use and the expiry of 1- and 3-day plans all happen within a minute or
//! three. Its webhook sender duplicates, delays and reorders a little, so the exactly-once
//! publishing and the inferred earlier steps show. The poller runs against the same simulator
//! with cadences of seconds (the bridge's defaults are tuned for the real provider).
//!
//! Failures and cancellations are rare in the random mix (~5% and ~1%), and expiry takes at
//! least a simulated day, so three showcase orders make sure every event type shows up within
//! the first seconds: one failing at once, one cancelled after a while PENDING, and one whose
//! data runs out a few simulated hours after first use.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::{self, Config};
use esim_sim::{
    self, Failure, OrderPlan, Outcome, ScriptedOrder, SimConfig, SimHandle, WebhookConfig,
    WorkloadConfig,
};

/// The login the simulator accepts and the poller uses (local only, nothing to protect).
pub(super) const API_KEY: &str = "demo-key";
pub(super) const API_SECRET: &str = "demo-secret";
/// The webhook signing secret shared by the simulator's sender and the bridge.
const WEBHOOK_SECRET: &str = "demo-webhook-secret";

/// Seed of the simulator's random choices. Every run shows the same orders (only the timing of
/// webhooks and polls differs); this seed's first random orders arrive within the first second
/// and keep coming at about the average rate, where some seeds start with a lull.
const SEED: u64 = 5;

/// What the user chose (validated by the caller).
#[derive(Debug, Clone, Copy)]
pub struct Knobs {
    /// Random orders per *simulated* hour (the demo's flag is per real hour).
    pub sim_orders_per_hour: f64,
    pub speed: f64,
}

/// The bridge: webhook and admin on free loopback ports, the poller against `sim_addr`.
pub fn bridge_config(nats_url: &str, sim_addr: SocketAddr) -> Config {
    let mut c = Config::default();
    c.nats.url = nats_url.to_owned();
    c.nats.retry_for = Duration::from_secs(5);
    c.webhook.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    c.webhook.secrets = vec![config::Secret::new(WEBHOOK_SECRET)];
    c.admin.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    c.shutdown_grace = Duration::from_secs(3);
    let u = &mut c.upstream;
    u.enabled = true;
    u.base_url = Some(format!("http://{sim_addr}"));
    u.api_key = Some(config::Secret::new(API_KEY));
    u.api_secret = Some(config::Secret::new(API_SECRET));
    u.reads_per_minute = 600; // the provider's sandbox limit; the simulator enforces the same
    u.request_timeout = Duration::from_secs(5);
    u.lease_ttl = Duration::from_secs(3);
    let cad = &mut u.cadence;
    cad.discovery = Duration::from_secs(1);
    cad.pending = Duration::from_secs(1);
    cad.install_fast = Duration::from_secs(2);
    cad.install_slow = Duration::from_secs(10);
    cad.install_tail = Duration::from_secs(30);
    cad.lifecycle = Duration::from_secs(5);
    cad.after_expiry = Duration::from_secs(1);
    c
}

/// The simulator: random workload at `knobs`, webhooks to `webhook_url`, a little misbehaviour.
pub fn sim_config(knobs: Knobs, webhook_url: String) -> SimConfig {
    SimConfig {
        api_key: API_KEY.into(),
        api_secret: esim_sim::Secret::new(API_SECRET),
        reads_per_minute: 600,
        speed: knobs.speed,
        seed: SEED,
        workload: WorkloadConfig {
            orders_per_hour: knobs.sim_orders_per_hour,
            seed: None,
        },
        webhook: WebhookConfig {
            url: Some(webhook_url),
            secret: esim_sim::Secret::new(WEBHOOK_SECRET),
            duplicate_probability: 0.15,
            max_delay: Duration::from_millis(1500),
            reorder_batch: 3,
            reorder_hold: Duration::from_millis(500),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            ..WebhookConfig::default()
        },
        ..SimConfig::default()
    }
}

/// Creates the showcase orders (see the module doc). A refusal is logged, never fatal.
pub fn showcase(sim: &SimHandle) {
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let orders = [
        ScriptedOrder {
            product_id: Some("glo-1gb-3d".into()),
            plan: OrderPlan {
                outcome: Outcome::Failed,
                failure: Some(Failure {
                    code: "OUT_OF_STOCK".into(),
                    reason: "No eSIM profiles left for this product".into(),
                    user_fixable: false,
                }),
                ..OrderPlan::default()
            },
            ..ScriptedOrder::default()
        },
        ScriptedOrder {
            product_id: Some("tha-3gb-15d".into()),
            plan: OrderPlan {
                outcome: Outcome::Cancelled,
                pending_for: minutes(40),
                ..OrderPlan::default()
            },
            ..ScriptedOrder::default()
        },
        ScriptedOrder {
            product_id: Some("kor-0.5gb-3d".into()),
            plan: OrderPlan {
                expire_after: Some(minutes(3 * 60)),
                ..OrderPlan::delivered(Some(minutes(3)), Some(minutes(20)))
            },
            ..ScriptedOrder::default()
        },
    ];
    for order in orders {
        if let Err(e) = sim.create_order(order) {
            tracing::warn!(error = %e, "demo: showcase order refused");
        }
    }
}

/// A warning when a proxy from the environment would capture the demo's loopback HTTP (the
/// poller's and the webhook sender's clients honour `HTTP_PROXY`/`ALL_PROXY` and `NO_PROXY`).
pub fn proxy_warning(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let proxy = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .find(|name| set(name).is_some())?;
    let exempt = ["NO_PROXY", "no_proxy"]
        .into_iter()
        .filter_map(set)
        .any(|list| {
            list.split(',')
                .any(|h| matches!(h.trim(), "*" | "127.0.0.1"))
        });
    (!exempt).then(|| {
        format!(
            "esim-bridge demo: {proxy} is set, so the poller's and the simulator's requests to \
             127.0.0.1 would go through the proxy; run it as `NO_PROXY=127.0.0.1 esim-bridge demo`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_without_a_loopback_exemption_gets_a_warning() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(proxy_warning(env(&[])), None);
        let warned = proxy_warning(env(&[("http_proxy", "http://proxy:3128")]));
        assert!(warned.is_some_and(|w| w.contains("NO_PROXY=127.0.0.1")));
        let exempt = &[
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "localhost, 127.0.0.1"),
        ];
        assert_eq!(proxy_warning(env(exempt)), None);
    }
}
