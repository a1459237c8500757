//! The simulator's configuration (`SimConfig`): account, limits, envelope, clock, workload,
//! webhook sender and faults. Deserialisable (unknown keys rejected) with realistic defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::faults::FaultConfig;
use super::webhook::WebhookConfig;
use super::workload::WorkloadConfig;
use super::SimError;

/// A secret string that never shows itself in `Debug` output.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret text (for comparing and signing only; never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How detail and list bodies are shaped (the docs disagree: both exist in the wild).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Envelope {
    /// A bare object / bare array.
    #[default]
    Bare,
    /// `{"data": ...}`.
    Wrapped,
}

/// Everything the simulator can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Expected login `username`.
    pub api_key: String,
    /// Expected login `password`.
    pub api_secret: Secret,
    /// `client_id` returned at login.
    pub client_id: String,
    /// Shared budget of all GETs per rolling minute (production 300, sandbox 600).
    pub reads_per_minute: u32,
    /// Login calls per rolling minute.
    pub logins_per_minute: u32,
    /// Refresh calls per rolling minute.
    pub refreshes_per_minute: u32,
    /// Access token lifetime.
    #[serde(with = "humantime_serde")]
    pub access_token_ttl: Duration,
    /// Refresh token lifetime.
    #[serde(with = "humantime_serde")]
    pub refresh_token_ttl: Duration,
    /// Bare or wrapped detail/list/create bodies.
    pub envelope: Envelope,
    /// Render `activation_status`/`is_installed` as null until delivered (a documented gap).
    pub null_lifecycle_until_delivered: bool,
    /// `per_page` when the client sends none.
    pub default_per_page: u32,
    /// Largest `per_page` honoured (larger values are clamped).
    pub max_per_page: u32,
    /// A create call waits up to this much sim time for a PENDING order to resolve.
    #[serde(with = "humantime_serde")]
    pub create_hold: Duration,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Simulated time at start (now when absent).
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_time: Option<OffsetDateTime>,
    /// Id of the first order.
    pub first_order_id: u64,
    /// Seed for every random choice (workload, ids, faults).
    pub seed: u64,
    /// Random order arrivals.
    pub workload: WorkloadConfig,
    /// Signed webhook sender.
    pub webhook: WebhookConfig,
    /// Standing fault injection.
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            api_key: "demo-key".into(),
            api_secret: Secret::new("demo-secret"),
            client_id: "sim-client-1".into(),
            reads_per_minute: 300,
            logins_per_minute: 10,
            refreshes_per_minute: 20,
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(7 * 86_400),
            envelope: Envelope::Bare,
            null_lifecycle_until_delivered: false,
            default_per_page: 50,
            max_per_page: 500,
            create_hold: Duration::ZERO,
            speed: 1.0,
            start_time: None,
            first_order_id: 9_300_001,
            seed: 1,
            workload: WorkloadConfig::default(),
            webhook: WebhookConfig::default(),
            faults: FaultConfig::default(),
        }
    }
}

impl SimConfig {
    /// Rejects values the simulator cannot honour.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |msg: &str| Err(SimError::Config(msg.to_owned()));
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return bad("speed must be a positive number");
        }
        if self.reads_per_minute == 0 || self.logins_per_minute == 0 {
            return bad("rate limits must be at least 1 per minute");
        }
        if self.refreshes_per_minute == 0 {
            return bad("refreshes_per_minute must be at least 1");
        }
        if self.default_per_page == 0 || self.default_per_page > self.max_per_page {
            return bad("need 1 <= default_per_page <= max_per_page");
        }
        if !(0.0..=1.0).contains(&self.faults.error_rate) {
            return bad("faults.error_rate must be within 0..=1");
        }
        if self.access_token_ttl.is_zero() || self.refresh_token_ttl.is_zero() {
            return bad("token lifetimes must be positive");
        }
        self.workload.validate().map_err(SimError::Config)?;
        self.webhook.validate().map_err(SimError::Config)
    }
}
