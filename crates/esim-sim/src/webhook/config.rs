//! Webhook sender settings: target, secret and the misbehaviour knobs (duplicates, delay,
//! reordering, retries).

use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;

/// Where and how the simulator delivers `esim.*` webhooks.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Target URL; no webhooks are sent when absent.
    pub url: Option<String>,
    /// Shared signing secret.
    pub secret: Secret,
    /// Subscription id sent as `X-Webhook-ID`.
    pub webhook_id: String,
    /// Probability (0..=1) that an event is delivered twice.
    pub duplicate_probability: f64,
    /// Each delivery waits a uniformly random delay up to this (real time).
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
    /// Hold events until this many are due, then send them shuffled (0 or 1: no reordering).
    pub reorder_batch: usize,
    /// Longest a partial reorder batch is held before it is sent anyway.
    #[serde(with = "humantime_serde")]
    pub reorder_hold: Duration,
    /// Attempts per delivery, including the first (non-2xx and network errors retry).
    pub max_attempts: u32,
    /// Wait before the first retry; doubles each attempt.
    #[serde(with = "humantime_serde")]
    pub initial_backoff: Duration,
    /// Cap of the retry wait.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// Per-attempt HTTP timeout.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: None,
            secret: Secret::new("demo-webhook-secret"),
            webhook_id: "wh_sim_1".into(),
            duplicate_probability: 0.0,
            max_delay: Duration::ZERO,
            reorder_batch: 0,
            reorder_hold: Duration::from_secs(2),
            max_attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

impl WebhookConfig {
    /// Rejects an unusable target or out-of-range knobs.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.url {
            reqwest::Url::parse(url).map_err(|e| format!("webhook.url: {e}"))?;
            if self.secret.expose().is_empty() {
                return Err("webhook.secret must not be empty".into());
            }
        }
        if !(0.0..=1.0).contains(&self.duplicate_probability) {
            return Err("webhook.duplicate_probability must be within 0..=1".into());
        }
        if self.max_attempts == 0 {
            return Err("webhook.max_attempts must be at least 1".into());
        }
        Ok(())
    }

    /// Wait before retry number `retry` (1-based): doubling from `initial_backoff`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}
