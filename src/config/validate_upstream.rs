//! Checks of `[upstream]` that serde cannot express; each failure names its key.

use std::time::Duration;

use super::poller;
use super::refuse::{bad, positive, Refusals};
use super::secret::non_empty;
use super::{Config, ConfigError};

/// Bounds of `upstream.max_response_bytes`.
const MIN_RESPONSE_BYTES: u64 = 64 * 1024;
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

pub(super) fn upstream(c: &Config) -> Result<(), ConfigError> {
    let u = &c.upstream;
    let mut r = Refusals::default();
    r.check(non_empty("upstream.api_key", &u.api_key));
    r.check(non_empty("upstream.api_secret", &u.api_secret));
    if !u.enabled {
        return r.into_result();
    }
    r.check(poller::base_url(u).map(drop));
    if u.discovery_overlap.is_zero() || u.discovery_overlap > Duration::from_secs(7 * 86_400) {
        r.check(bad(
            "upstream.discovery_overlap",
            "must be greater than zero and at most 7d",
        ));
    }
    if !(MIN_RESPONSE_BYTES..=MAX_RESPONSE_BYTES).contains(&u.max_response_bytes) {
        r.check(bad(
            "upstream.max_response_bytes",
            "must be between 65536 (64 KiB) and 268435456 (256 MiB)",
        ));
    }
    r.check(poller::required("upstream.api_key", &u.api_key).map(drop));
    r.check(poller::required("upstream.api_secret", &u.api_secret).map(drop));
    for (key, n, range) in [
        ("upstream.reads_per_minute", u.reads_per_minute, 1..=600),
        ("upstream.page_size", u.page_size, 1..=500),
        ("upstream.concurrency", u.concurrency, 1..=64),
    ] {
        if !range.contains(&n) {
            let why = format!("must be between {} and {}", range.start(), range.end());
            r.check(bad(key, why));
        }
    }
    if !(0.0..=0.5).contains(&u.reserved_share) {
        r.check(bad("upstream.reserved_share", "must be between 0 and 0.5"));
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
        r.check(positive(key, d));
    }
    if cad.install_tail < cad.install_fast {
        let why = "must not be shorter than upstream.cadence.install_fast (the learned schedule reads between the two)";
        r.check(bad("upstream.cadence.install_tail", why));
    }
    r.into_result()
}

#[cfg(test)]
mod tests {
    use super::super::tests::example_with;
    use super::*;

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
}
