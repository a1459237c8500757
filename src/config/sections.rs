//! The configuration sections and their defaults (docs/configuration.md mirrors this file).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::{one_or_many, Secret};
use super::signing::{self, SigningKey};

/// `[nats]`: where events go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL(s), comma-separated.
    pub url: String,
    /// Events go to `<subject_prefix>.events.<key>.<event>`.
    pub subject_prefix: String,
    /// Stream name; created if missing, verified (never overwritten) if present.
    pub stream: String,
    /// Stream replicas when the bridge creates it (3 in a cluster).
    pub replicas: usize,
    /// History kept for replay.
    #[serde(with = "super::duration")]
    pub max_age: Duration,
    /// JetStream `Nats-Msg-Id` de-duplication window.
    #[serde(with = "super::duration")]
    pub duplicate_window: Duration,
    /// How long one publish waits for its PubAck before retrying with the same msg-id.
    #[serde(with = "super::duration")]
    pub ack_timeout: Duration,
    /// How long a publish keeps retrying (timeouts, leader elections) before giving up.
    #[serde(with = "super::duration")]
    pub retry_for: Duration,
    /// JetStream KV bucket holding the poller's state and lease.
    pub state_bucket: String,
    pub creds_file: Option<PathBuf>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub nkey_seed_file: Option<PathBuf>,
    pub tls: TlsConfig,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            subject_prefix: "esim".into(),
            stream: "ESIM_EVENTS".into(),
            replicas: 1,
            max_age: Duration::from_secs(90 * 86_400),
            duplicate_window: Duration::from_secs(120),
            ack_timeout: Duration::from_secs(5),
            retry_for: Duration::from_secs(30),
            state_bucket: "esim_bridge_state".into(),
            creds_file: None,
            user: None,
            password: None,
            password_file: None,
            token: None,
            token_file: None,
            nkey_seed_file: None,
            tls: TlsConfig::default(),
        }
    }
}

/// `[nats.tls]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Require TLS even if the URL says `nats://`.
    pub required: bool,
    /// Extra root certificate(s) to trust (PEM).
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key for mutual TLS (PEM).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// Webhook signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// The provider's: hex HMAC-SHA256 of the raw body in `X-Signature`, `X-Timestamp`.
    Octopus,
    /// <https://www.standardwebhooks.com>: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    StandardWebhooks,
}

/// `[webhook]`: the signed webhook listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    pub path: String,
    /// Signing secrets; any may match, so a rotation can overlap old and new.
    #[serde(deserialize_with = "one_or_many")]
    pub secrets: Vec<Secret>,
    /// A file with one secret per line (alternative to `secrets`).
    pub secrets_file: Option<PathBuf>,
    pub scheme: Scheme,
    /// Maximum age of the signed timestamp.
    #[serde(with = "super::duration")]
    pub tolerance: Duration,
    /// How far in the future a timestamp may be (clock skew).
    #[serde(with = "super::duration")]
    pub future_skew: Duration,
    /// Larger bodies are answered 413 without being read further.
    pub max_body_bytes: usize,
    /// One deadline per request, from its headers to the answer: body read, verification and
    /// publish (the provider waits 30 s at most). A body not read in time gets 408, a webhook
    /// not stored in time 503.
    #[serde(with = "super::duration")]
    pub request_timeout: Duration,
    /// The request line and headers must arrive within this (slowloris), on a new connection
    /// and again on a kept-alive one; else the connection is closed.
    #[serde(with = "super::duration")]
    pub header_timeout: Duration,
    /// Requests handled at once. Past it, the oldest request still sending its body gives way
    /// (503); if none does, the new one gets 503 + `Retry-After` at once. Nothing queues.
    pub max_concurrency: usize,
    /// Open connections. Past it, the connection idle the longest (no request in progress)
    /// is closed to make room; if none is idle, the new connection is refused.
    pub max_connections: usize,
    /// The memory bound for request buffers: `max_concurrency × max_body_bytes +
    /// max_connections × 32 KiB` must not exceed it (checked at startup).
    pub max_buffered_bytes: u64,
}

impl WebhookConfig {
    /// The keys signatures are checked with: `secrets` decoded by the one rule
    /// ([`signing::decode`]) that validation at load also applies (so for a loaded config none
    /// is left out); for a config built in code, unusable ones are left out, so an empty or
    /// undecodable secret never becomes a key that accepts anything.
    pub fn signing_keys(&self) -> Vec<SigningKey> {
        let decoded = self.secrets.iter().map(|s| signing::decode(self.scheme, s));
        decoded.filter_map(Result::ok).collect()
    }

    /// The limits the webhook listener enforces.
    pub fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            header_timeout: self.header_timeout,
            request_timeout: self.request_timeout,
            max_body_bytes: self.max_body_bytes,
            max_concurrency: self.max_concurrency,
            max_connections: self.max_connections,
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            path: "/webhooks/octopus".into(),
            secrets: Vec::new(),
            secrets_file: None,
            scheme: Scheme::Octopus,
            tolerance: Duration::from_secs(300),
            future_skew: Duration::from_secs(60),
            max_body_bytes: 1_048_576,
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(5),
            max_concurrency: 64,
            max_connections: 1024,
            max_buffered_bytes: 96 * 1_048_576,
        }
    }
}

/// `[admin]`: health and metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter (`info`, `esim_bridge=debug`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}
