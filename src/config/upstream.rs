//! `[upstream]`: the provider API the poller reads, its budget and its cadences.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// `[upstream]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Run the poller.
    pub enabled: bool,
    /// The provider's base URL (sandbox, production, or the simulator). `https://` is
    /// required, except for a loopback host or with `allow_insecure_http`.
    pub base_url: Option<String>,
    /// Allows a plain `http://` base URL on a non-loopback host (a simulator on a private
    /// network, as in deploy/compose.yaml). Never for the provider: the login carries the API
    /// secret.
    pub allow_insecure_http: bool,
    /// Largest provider answer read, in bytes (a page of 500 orders is about 0.5 MB); a larger
    /// one is abandoned, counted and backed off like a 5xx.
    pub max_response_bytes: u64,
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    pub api_secret: Option<Secret>,
    pub api_secret_file: Option<PathBuf>,
    /// Reads per minute the poller may spend (the provider allows 300 in production).
    pub reads_per_minute: u32,
    /// On first start, how far back to import existing orders.
    #[serde(with = "super::duration")]
    pub backfill: Duration,
    /// Discovery re-reads orders created this long before the newest one it has seen, so an
    /// order that appears in the list late (or with a lower id) is still found.
    #[serde(with = "super::duration")]
    pub discovery_overlap: Duration,
    /// Page size for list calls.
    pub page_size: u32,
    /// Connect timeout for provider requests.
    #[serde(with = "super::duration")]
    pub connect_timeout: Duration,
    /// Whole-request timeout for provider requests.
    #[serde(with = "super::duration")]
    pub request_timeout: Duration,
    /// Lease time-to-live: a standby takes over this long after the active poller dies.
    #[serde(with = "super::duration")]
    pub lease_ttl: Duration,
    /// Reads in flight at once. Requests take up to `request_timeout`, so a few in parallel
    /// keep the budget usable when the provider is slow; the budget still caps the rate.
    pub concurrency: u32,
    /// When install-fast checks and lower ones (install-slow, lifecycle) are both due, this
    /// share of those reads goes to the longest-waiting lower check, so that under load the
    /// lower classes slow down instead of starving. 0 = strict priority.
    pub reserved_share: f64,
    pub cadence: CadenceConfig,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: None,
            allow_insecure_http: false,
            max_response_bytes: 4 * 1024 * 1024,
            api_key: None,
            api_key_file: None,
            api_secret: None,
            api_secret_file: None,
            reads_per_minute: 240,
            backfill: Duration::from_secs(24 * 3600),
            discovery_overlap: Duration::from_secs(600),
            page_size: 100,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(6),
            concurrency: 4,
            reserved_share: 0.2,
            cadence: CadenceConfig::default(),
        }
    }
}

/// `[upstream.cadence]`: how often each phase is looked at (tests use milliseconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CadenceConfig {
    /// Newest-first list pages down to the last seen order.
    #[serde(with = "super::duration")]
    pub discovery: Duration,
    /// One `status=PENDING` list call covering every pending order.
    #[serde(with = "super::duration")]
    pub pending: Duration,
    /// Install check right after delivery ...
    #[serde(with = "super::duration")]
    pub install_fast: Duration,
    /// ... for this long after delivery,
    #[serde(with = "super::duration")]
    pub install_fast_for: Duration,
    /// then at this cadence ...
    #[serde(with = "super::duration")]
    pub install_slow: Duration,
    /// ... until this long after delivery,
    #[serde(with = "super::duration")]
    pub install_slow_until: Duration,
    /// then at this cadence until validity ends.
    #[serde(with = "super::duration")]
    pub install_tail: Duration,
    /// Activation and expiry checks of installed eSIMs.
    #[serde(with = "super::duration")]
    pub lifecycle: Duration,
    /// The one extra check of an active eSIM comes this long after its expected expiry
    /// (first use + `validity_days`).
    #[serde(with = "super::duration")]
    pub after_expiry: Duration,
    /// With spare budget, orders waiting for a late install (past `install_fast_for`) or for
    /// activation are also read this long after their last read, ahead of their cadence;
    /// `0s` disables these early checks.
    #[serde(with = "super::duration")]
    pub early_check: Duration,
    /// Orders delivered longer ago than this stop being tracked, whatever their state (an
    /// eSIM never used, or never reported expired); keep it near `nats.max_age`.
    #[serde(with = "super::duration")]
    pub give_up_after: Duration,
    /// Installs and activations are read on a schedule learned from this account's own
    /// delays (the square-root rule, see the poller docs) once 50 of each were seen; `false`
    /// keeps the fixed cadences above.
    pub learned: bool,
}

impl Default for CadenceConfig {
    fn default() -> Self {
        Self {
            discovery: Duration::from_secs(5),
            pending: Duration::from_secs(5),
            install_fast: Duration::from_secs(30),
            install_fast_for: Duration::from_secs(600),
            install_slow: Duration::from_secs(300),
            install_slow_until: Duration::from_secs(70 * 60),
            install_tail: Duration::from_secs(6 * 3600),
            lifecycle: Duration::from_secs(6 * 3600),
            after_expiry: Duration::from_secs(60),
            early_check: Duration::from_secs(10 * 60),
            give_up_after: Duration::from_secs(90 * 86_400),
            learned: true,
        }
    }
}
