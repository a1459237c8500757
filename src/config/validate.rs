//! Typed checks that serde cannot express; each failure names its key.

use std::time::Duration;

use super::secret::non_empty;
use super::{Config, ConfigError};
use crate::event::key::validate_token;

/// Checks the whole configuration (webhook keys are decoded, and so checked, by the loader).
pub fn validate(c: &Config) -> Result<(), ConfigError> {
    nats(c)?;
    webhook(c)?;
    upstream(c)?;
    Ok(())
}

fn bad(key: &str, reason: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::invalid(key, reason))
}

fn positive(key: &str, d: Duration) -> Result<(), ConfigError> {
    if d.is_zero() {
        return bad(key, "must be greater than zero");
    }
    Ok(())
}

/// Checks `nats.*` only (what the operator tools need).
pub(super) fn nats(c: &Config) -> Result<(), ConfigError> {
    let n = &c.nats;
    if n.url.split(',').all(|u| u.trim().is_empty()) {
        return bad("nats.url", "at least one server URL is required");
    }
    if n.subject_prefix
        .split('.')
        .any(|t| validate_token(t).is_err())
    {
        return bad(
            "nats.subject_prefix",
            "dot-separated tokens of [0-9A-Za-z_-] expected",
        );
    }
    if validate_token(&n.stream).is_err() {
        return bad("nats.stream", "a stream name of [0-9A-Za-z_-] expected");
    }
    if validate_token(&n.state_bucket).is_err() {
        return bad(
            "nats.state_bucket",
            "a bucket name of [0-9A-Za-z_-] expected",
        );
    }
    if !(1..=5).contains(&n.replicas) {
        return bad("nats.replicas", "must be between 1 and 5");
    }
    positive("nats.max_age", n.max_age)?;
    positive("nats.duplicate_window", n.duplicate_window)?;
    positive("nats.ack_timeout", n.ack_timeout)?;
    non_empty("nats.password", &n.password)?;
    non_empty("nats.token", &n.token)?;
    if n.user.is_some() != n.password.is_some() {
        return bad("nats.password", "nats.user and nats.password go together");
    }
    Ok(())
}

fn webhook(c: &Config) -> Result<(), ConfigError> {
    let w = &c.webhook;
    if !w.enabled {
        return Ok(());
    }
    if !w.path.starts_with('/') {
        return bad("webhook.path", "must start with `/`");
    }
    if w.secrets.is_empty() || w.secrets.iter().any(|s| s.expose().is_empty()) {
        return bad(
            "webhook.secrets",
            "at least one non-empty signing secret is required when webhook.enabled",
        );
    }
    positive("webhook.tolerance", w.tolerance)?;
    listener_limits(w)
}

/// The provider gives up on a webhook after this long.
const PROVIDER_WAIT: Duration = Duration::from_secs(30);

/// Deadlines under the provider's wait, and request buffers within `webhook.max_buffered_bytes`.
fn listener_limits(w: &super::WebhookConfig) -> Result<(), ConfigError> {
    positive("webhook.request_timeout", w.request_timeout)?;
    positive("webhook.header_timeout", w.header_timeout)?;
    if w.header_timeout.saturating_add(w.request_timeout) >= PROVIDER_WAIT {
        return bad(
            "webhook.request_timeout",
            "webhook.header_timeout + webhook.request_timeout must stay below 30s (the provider's wait)",
        );
    }
    if w.max_body_bytes == 0 {
        return bad("webhook.max_body_bytes", "must be greater than zero");
    }
    if w.max_concurrency == 0 {
        return bad("webhook.max_concurrency", "must be greater than zero");
    }
    if w.max_connections <= w.max_concurrency || w.max_connections > MAX_CONNECTIONS {
        return bad(
            "webhook.max_connections",
            format!("must be above webhook.max_concurrency and at most {MAX_CONNECTIONS}"),
        );
    }
    let worst =
        crate::server::worst_case_buffered(w.max_concurrency, w.max_body_bytes, w.max_connections);
    match worst {
        Some(bytes) if bytes <= w.max_buffered_bytes => Ok(()),
        _ => bad(
            "webhook.max_buffered_bytes",
            format!(
                "webhook.max_concurrency ({}) × webhook.max_body_bytes ({}) + webhook.max_connections ({}) × {} bytes = {} exceeds it ({}); lower one of them or raise it (and the memory limit)",
                w.max_concurrency,
                w.max_body_bytes,
                w.max_connections,
                crate::server::CONNECTION_BUFFER_BYTES,
                worst.map_or_else(|| "overflow".to_owned(), |b| b.to_string()),
                w.max_buffered_bytes
            ),
        ),
    }
}

/// Far above any sensible setting; keeps the accounting arithmetic small.
const MAX_CONNECTIONS: usize = 1 << 20;

/// Bounds of `upstream.max_response_bytes`.
const MIN_RESPONSE_BYTES: u64 = 64 * 1024;
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// `https://` always; plain `http://` only for a loopback host or when explicitly allowed.
fn base_url(url: &str, allow_http: bool) -> Result<(), ConfigError> {
    const KEY: &str = "upstream.base_url";
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return bad(KEY, "not a valid URL");
    };
    let Some(host) = parsed.host_str() else {
        return bad(KEY, "the URL names no host");
    };
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        "http" => bad(
            KEY,
            "must be https:// (plain http:// only for a loopback host, or with upstream.allow_insecure_http)",
        ),
        _ => bad(KEY, "must be an https:// URL"),
    }
}

fn upstream(c: &Config) -> Result<(), ConfigError> {
    let u = &c.upstream;
    non_empty("upstream.api_key", &u.api_key)?;
    non_empty("upstream.api_secret", &u.api_secret)?;
    if !u.enabled {
        return Ok(());
    }
    match u.base_url.as_deref() {
        None | Some("") => {
            return bad(
                "upstream.base_url",
                "required when upstream.enabled (or set it false)",
            )
        }
        Some(url) => base_url(url, u.allow_insecure_http)?,
    }
    if u.discovery_overlap.is_zero() || u.discovery_overlap > Duration::from_secs(7 * 86_400) {
        return bad(
            "upstream.discovery_overlap",
            "must be greater than zero and at most 7d",
        );
    }
    if !(MIN_RESPONSE_BYTES..=MAX_RESPONSE_BYTES).contains(&u.max_response_bytes) {
        return bad(
            "upstream.max_response_bytes",
            "must be between 65536 (64 KiB) and 268435456 (256 MiB)",
        );
    }
    if u.api_key.is_none() {
        return bad("upstream.api_key", "required when upstream.enabled");
    }
    if u.api_secret.is_none() {
        return bad("upstream.api_secret", "required when upstream.enabled");
    }
    if !(1..=600).contains(&u.reads_per_minute) {
        return bad("upstream.reads_per_minute", "must be between 1 and 600");
    }
    if !(1..=500).contains(&u.page_size) {
        return bad("upstream.page_size", "must be between 1 and 500");
    }
    if !(1..=64).contains(&u.concurrency) {
        return bad("upstream.concurrency", "must be between 1 and 64");
    }
    if !(0.0..=0.5).contains(&u.reserved_share) {
        return bad("upstream.reserved_share", "must be between 0 and 0.5");
    }
    let cad = &u.cadence;
    for (key, d) in [
        ("upstream.cadence.discovery", cad.discovery),
        ("upstream.cadence.pending", cad.pending),
        ("upstream.cadence.install_fast", cad.install_fast),
        ("upstream.cadence.install_slow", cad.install_slow),
        ("upstream.cadence.install_tail", cad.install_tail),
        ("upstream.cadence.lifecycle", cad.lifecycle),
        ("upstream.cadence.after_expiry", cad.after_expiry),
        ("upstream.cadence.give_up_after", cad.give_up_after),
        ("upstream.connect_timeout", u.connect_timeout),
        ("upstream.request_timeout", u.request_timeout),
        ("upstream.lease_ttl", u.lease_ttl),
    ] {
        positive(key, d)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::CadenceConfig;
    use super::*;

    fn example_with(env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/esim-bridge.example.toml");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load_with_env(Some(Path::new(path)), env)
    }

    #[test]
    fn the_provider_url_must_be_https_except_on_loopback() {
        let with = |url: &str, extra: &[(&str, &str)]| {
            let mut env = vec![("ESIM_BRIDGE_UPSTREAM__BASE_URL", url)];
            env.extend_from_slice(extra);
            example_with(&env)
                .err()
                .and_then(|e| e.key().map(str::to_owned))
        };
        for ok in [
            "https://sandbox-api.octopuscards.io",
            "http://127.0.0.1:8081",
            "http://127.9.9.9",
            "http://localhost:8081",
            "http://[::1]:8081",
        ] {
            assert_eq!(with(ok, &[]), None, "{ok}");
        }
        for bad in [
            "http://sandbox-api.octopuscards.io",
            "http://10.0.0.1:8081",
            "http://127.0.0.1.evil.example",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            assert_eq!(
                with(bad, &[]).as_deref(),
                Some("upstream.base_url"),
                "{bad}"
            );
        }
        let allowed = [("ESIM_BRIDGE_UPSTREAM__ALLOW_INSECURE_HTTP", "true")];
        assert_eq!(with("http://sim:8081", &allowed), None);
        let c = example_with(&[]).expect("example parses");
        assert_eq!(c.upstream.max_response_bytes, 4 * 1024 * 1024);
        assert_eq!(c.upstream.discovery_overlap, Duration::from_secs(600));
        for bad in ["0s", "8d"] {
            let e = example_with(&[("ESIM_BRIDGE_UPSTREAM__DISCOVERY_OVERLAP", bad)]);
            let key = e.err().and_then(|e| e.key().map(str::to_owned));
            assert_eq!(key.as_deref(), Some("upstream.discovery_overlap"), "{bad}");
        }
        for n in ["1024", "1000000000000"] {
            let e = example_with(&[("ESIM_BRIDGE_UPSTREAM__MAX_RESPONSE_BYTES", n)]);
            assert_eq!(
                e.err().and_then(|e| e.key().map(str::to_owned)).as_deref(),
                Some("upstream.max_response_bytes")
            );
        }
    }

    #[test]
    fn the_scheduler_keys_default_as_documented_and_the_share_is_bounded() {
        let c = example_with(&[]).expect("example parses");
        let defaults = CadenceConfig::default();
        assert_eq!(c.upstream.cadence.discovery, defaults.discovery);
        assert_eq!(c.upstream.cadence.discovery, Duration::from_secs(5));
        assert_eq!(c.upstream.cadence.early_check, defaults.early_check);
        assert_eq!(c.upstream.reserved_share, 0.2);
        let off = example_with(&[
            ("ESIM_BRIDGE_UPSTREAM__RESERVED_SHARE", "0"),
            ("ESIM_BRIDGE_UPSTREAM__CADENCE__EARLY_CHECK", "0s"),
        ])
        .expect("both may be switched off");
        assert_eq!(off.upstream.reserved_share, 0.0);
        assert!(off.upstream.cadence.early_check.is_zero());
        for bad in ["0.7", "-0.1", "NaN"] {
            let e = example_with(&[("ESIM_BRIDGE_UPSTREAM__RESERVED_SHARE", bad)]);
            let key = e.expect_err(bad).key().unwrap_or("").to_owned();
            assert_eq!(key, "upstream.reserved_share", "{bad}");
        }
    }

    #[test]
    fn the_listener_limits_default_within_the_memory_bound_and_bad_ones_name_their_key() {
        let c = example_with(&[]).expect("example parses");
        let (w, d) = (&c.webhook, super::super::WebhookConfig::default());
        assert_eq!(
            (w.request_timeout, w.header_timeout),
            (Duration::from_secs(10), Duration::from_secs(5))
        );
        assert_eq!(
            (w.max_concurrency, w.max_connections, w.max_buffered_bytes),
            (d.max_concurrency, d.max_connections, d.max_buffered_bytes)
        );
        let worst = crate::server::worst_case_buffered(
            d.max_concurrency,
            d.max_body_bytes,
            d.max_connections,
        );
        assert!(worst.is_some_and(|b| b <= d.max_buffered_bytes));
        assert!(
            d.max_buffered_bytes <= 128 * 1_048_576,
            "half the pod's 256Mi at most"
        );
        let key = |env: &[(&str, &str)]| {
            let e = example_with(env).expect_err("rejected");
            e.key().unwrap_or("").to_owned()
        };
        let too_much = [("ESIM_BRIDGE_WEBHOOK__MAX_CONCURRENCY", "512")];
        assert_eq!(key(&too_much), "webhook.max_buffered_bytes");
        let overflow = [
            (
                "ESIM_BRIDGE_WEBHOOK__MAX_BODY_BYTES",
                "18446744073709551615",
            ),
            ("ESIM_BRIDGE_WEBHOOK__MAX_CONCURRENCY", "1000"),
        ];
        assert_eq!(key(&overflow), "webhook.max_buffered_bytes");
        let few = [("ESIM_BRIDGE_WEBHOOK__MAX_CONNECTIONS", "64")];
        assert_eq!(key(&few), "webhook.max_connections");
        let slow = [("ESIM_BRIDGE_WEBHOOK__REQUEST_TIMEOUT", "26s")];
        assert_eq!(key(&slow), "webhook.request_timeout");
        let zero = [("ESIM_BRIDGE_WEBHOOK__HEADER_TIMEOUT", "0s")];
        assert_eq!(key(&zero), "webhook.header_timeout");
        let raised = example_with(&[
            ("ESIM_BRIDGE_WEBHOOK__MAX_CONCURRENCY", "512"),
            ("ESIM_BRIDGE_WEBHOOK__MAX_BUFFERED_BYTES", "600000000"),
        ]);
        assert!(raised.is_ok(), "a raised bound admits more");
    }
}
