//! Typed checks that serde cannot express; each failure names its key, and every failure of
//! a pass is reported ([`Refusals`]), not only the first.

use std::time::Duration;

use super::refuse::{bad, positive, Refusals};
use super::secret::non_empty;
use super::{Config, ConfigError};
use esim_events::key::validate_token;

/// Checks the whole configuration (webhook keys are decoded, and so checked, by the loader).
pub fn validate(c: &Config) -> Result<(), ConfigError> {
    let mut r = Refusals::default();
    r.check(nats(c));
    if let Err(why) = super::log_filter::log_filter(&c.log.level) {
        r.check(bad("log.level", why));
    }
    r.check(webhook(c));
    r.check(super::validate_upstream::upstream(c));
    r.into_result()
}

/// Checks `nats.*` only (what the operator tools need).
pub(super) fn nats(c: &Config) -> Result<(), ConfigError> {
    let n = &c.nats;
    let mut r = Refusals::default();
    if let Err(why) = super::nats_url::check_servers(&n.url) {
        r.check(bad("nats.url", why));
    }
    let token = |t: &str| validate_token(t).is_ok();
    if !n.subject_prefix.split('.').all(token) {
        r.check(bad(
            "nats.subject_prefix",
            "dot-separated tokens of [0-9A-Za-z_-] expected",
        ));
    }
    if !token(&n.stream) {
        r.check(bad(
            "nats.stream",
            "a stream name of [0-9A-Za-z_-] expected",
        ));
    }
    if !token(&n.state_bucket) {
        r.check(bad(
            "nats.state_bucket",
            "a bucket name of [0-9A-Za-z_-] expected",
        ));
    }
    if !(1..=5).contains(&n.replicas) {
        r.check(bad("nats.replicas", "must be between 1 and 5"));
    }
    r.check(positive("nats.max_age", n.max_age));
    r.check(positive("nats.duplicate_window", n.duplicate_window));
    if n.duplicate_window > n.max_age {
        r.check(bad(
            "nats.duplicate_window",
            "must not exceed nats.max_age (NATS refuses such a stream)",
        ));
    }
    r.check(positive("nats.ack_timeout", n.ack_timeout));
    r.check(non_empty("nats.password", &n.password));
    r.check(non_empty("nats.token", &n.token));
    if n.user.is_some() != n.password.is_some() {
        r.check(bad(
            "nats.password",
            "nats.user and nats.password go together",
        ));
    }
    r.into_result()
}

fn webhook(c: &Config) -> Result<(), ConfigError> {
    let w = &c.webhook;
    if !w.enabled {
        return Ok(());
    }
    let mut r = Refusals::default();
    r.check(literal_path(&w.path));
    if w.secrets.is_empty() || w.secrets.iter().any(|s| s.expose().is_empty()) {
        r.check(bad(
            "webhook.secrets",
            "at least one non-empty signing secret is required when webhook.enabled",
        ));
    } else {
        // Every secret must decode into a key (the verifier decodes them the same way).
        r.check(super::signing::decode_all(w.scheme, &w.secrets).map(drop));
    }
    r.check(positive("webhook.tolerance", w.tolerance));
    listener_limits(w, &mut r);
    r.into_result()
}

/// Longest `webhook.path` accepted.
const MAX_PATH: usize = 256;

/// `webhook.path` is one literal path: `/` then segments of `A-Z a-z 0-9 - . _ ~`, none empty,
/// `.` or `..`. The router would read `*rest`, `:id` or `{id}` as patterns (matching any
/// request, or refusing to start), and a client never sends an empty or dot segment.
fn literal_path(path: &str) -> Result<(), ConfigError> {
    let literal = |seg: &str| {
        !matches!(seg, "" | "." | "..")
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    match path.strip_prefix('/') {
        Some("") => Ok(()),
        Some(rest) if path.len() <= MAX_PATH && rest.split('/').all(literal) => Ok(()),
        _ => bad(
            "webhook.path",
            format!(
                "must be a literal path of at most {MAX_PATH} bytes: `/` then segments of \
                 A-Z a-z 0-9 - . _ ~ (no `*`, `:`, `{{`, `}}`, empty or dot segments)"
            ),
        ),
    }
}

/// The provider gives up on a webhook after this long.
const PROVIDER_WAIT: Duration = Duration::from_secs(30);

/// Deadlines under the provider's wait, and request buffers within `webhook.max_buffered_bytes`.
fn listener_limits(w: &super::WebhookConfig, r: &mut Refusals) {
    r.check(positive("webhook.request_timeout", w.request_timeout));
    r.check(positive("webhook.header_timeout", w.header_timeout));
    if w.header_timeout.saturating_add(w.request_timeout) >= PROVIDER_WAIT {
        r.check(bad(
            "webhook.request_timeout",
            "webhook.header_timeout + webhook.request_timeout must stay below 30s (the provider's wait)",
        ));
    }
    if w.max_body_bytes == 0 {
        r.check(bad("webhook.max_body_bytes", "must be greater than zero"));
    }
    if w.max_concurrency == 0 {
        r.check(bad("webhook.max_concurrency", "must be greater than zero"));
    }
    if w.max_connections <= w.max_concurrency || w.max_connections > MAX_CONNECTIONS {
        r.check(bad(
            "webhook.max_connections",
            format!("must be above webhook.max_concurrency and at most {MAX_CONNECTIONS}"),
        ));
    }
    let worst = w.limits().worst_case_buffered();
    if worst.is_none_or(|bytes| bytes > w.max_buffered_bytes) {
        r.check(bad(
            "webhook.max_buffered_bytes",
            format!(
                "webhook.max_concurrency ({}) × webhook.max_body_bytes ({}) + webhook.max_connections ({}) × {} bytes = {} exceeds it ({}); lower one of them or raise it (and the memory limit)",
                w.max_concurrency,
                w.max_body_bytes,
                w.max_connections,
                crate::http::CONNECTION_BUFFER_BYTES,
                worst.map_or_else(|| "overflow".to_owned(), |b| b.to_string()),
                w.max_buffered_bytes
            ),
        ));
    }
}

/// Far above any sensible setting; keeps the accounting arithmetic small.
const MAX_CONNECTIONS: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::super::tests::example_with;
    use super::super::CadenceConfig;
    use super::*;

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
        // The learned intervals lie between install_fast and install_tail.
        let e = example_with(&[
            ("ESIM_BRIDGE_UPSTREAM__CADENCE__INSTALL_FAST", "10m"),
            ("ESIM_BRIDGE_UPSTREAM__CADENCE__INSTALL_TAIL", "5m"),
        ]);
        let key = e
            .expect_err("tail under fast")
            .key()
            .unwrap_or("")
            .to_owned();
        assert_eq!(key, "upstream.cadence.install_tail");
    }

    #[test]
    fn the_webhook_path_is_one_literal_path() {
        let path = |p: &str| example_with(&[("ESIM_BRIDGE_WEBHOOK__PATH", p)]);
        for ok in ["/", "/webhooks/octopus", "/a/b-c_d.e~f", "/v1.2/hook"] {
            assert!(path(ok).is_ok(), "{ok}");
        }
        let long = format!("/{}", "a".repeat(MAX_PATH));
        for no in [
            "/a/*rest",
            "/a/:id",
            "/a/{id}",
            "/a/{*rest}",
            "/a/}",
            "a",
            "",
            "/a//b",
            "/a/",
            "/a/../b",
            "/a/./b",
            "/a b",
            "/a?x=1",
            "/a#f",
            "/a%20b",
            "/é",
            &long,
        ] {
            let key = path(no).expect_err(no).key().unwrap_or("").to_owned();
            assert_eq!(key, "webhook.path", "{no:?}");
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
        let worst = d.limits().worst_case_buffered();
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
