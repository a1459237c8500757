//! Target `webhook_http`: a webhook request as raw HTTP bytes through verify → normalise →
//! redact → publish encoding (subject, payload, headers), as the listener runs them.
//!
//! The first input byte picks the scheme (bit 1) and whether the request is signed with the
//! test secret before verification (bit 0), so most inputs get past the signature and reach
//! the parsers; unsigned ones exercise the verifier itself. Properties: no panic, and no
//! activation code in any subject, payload, header or error text (finding 3's log lines carry
//! the error text).

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue};

use super::{http, oracle};
use esim_bridge::config::{Scheme, Secret, WebhookConfig};
use esim_bridge::ingest::webhook::{standard_signature, Verifier};
use esim_events::Event;
use esim_normalise::normalise::{self, Normalised};

/// The octopus-scheme test secret (corpus files are signed with it).
pub const OCTOPUS_SECRET: &str = "fuzz-octopus-secret";
/// The standard-webhooks test key: 32 bytes, base64.
pub const STANDARD_SECRET: &str = "whsec_ZnV6ei1zdGFuZGFyZC13ZWJob29rcy1rZXktMzI=";
/// The verifier's clock: signed timestamps near this pass.
pub const NOW: u64 = 1_790_000_000;
/// The subject prefix events are built with.
const PREFIX: &str = "esim";

fn verifier(scheme: Scheme) -> &'static Verifier {
    fn build(scheme: Scheme, secret: &str) -> Verifier {
        Verifier::new(&WebhookConfig {
            scheme,
            secrets: vec![Secret::new(secret)],
            ..WebhookConfig::default()
        })
    }
    static OCTOPUS: LazyLock<Verifier> = LazyLock::new(|| build(Scheme::Octopus, OCTOPUS_SECRET));
    static STANDARD: LazyLock<Verifier> =
        LazyLock::new(|| build(Scheme::StandardWebhooks, STANDARD_SECRET));
    match scheme {
        Scheme::Octopus => &OCTOPUS,
        Scheme::StandardWebhooks => &STANDARD,
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Some((&mode, raw)) = data.split_first() else {
        return;
    };
    let Some(mut req) = http::parse(raw) else {
        return;
    };
    let scheme = if mode & 2 == 0 {
        Scheme::Octopus
    } else {
        Scheme::StandardWebhooks
    };
    if mode & 1 == 1 {
        sign(scheme, &mut req.headers, &req.body);
    }
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    if let Err(e) = verifier(scheme).verify(&req.headers, &req.body, now) {
        oracle::assert_clean("verify error", &e.to_string());
        return;
    }
    handle(&req.body);
}

/// What the handler does with a verified body.
pub fn handle(body: &[u8]) {
    let envelope = match normalise::parse_envelope(body) {
        Ok(e) => e,
        Err(e) => return oracle::assert_clean("envelope error", &e.to_string()),
    };
    match normalise::from_webhook(&envelope) {
        Ok(Normalised::Publish(events)) => check_events(&events),
        Ok(Normalised::Ignored) => {}
        Err(e) => oracle::assert_clean("normalise error", &e.to_string()),
    }
}

/// Signs the request as the provider would, keeping any timestamp or id it already has.
fn sign(scheme: Scheme, headers: &mut HeaderMap, body: &[u8]) {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let set = |h: &mut HeaderMap, name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    match scheme {
        Scheme::Octopus => {
            if text("x-timestamp").is_none() {
                set(headers, "x-timestamp", NOW.to_string());
            }
            let sig = esim_sim::octopus_signature(OCTOPUS_SECRET, body);
            set(headers, "x-signature", sig);
        }
        Scheme::StandardWebhooks => {
            let id = text("webhook-id").unwrap_or("msg_fuzz").to_owned();
            let ts = text("webhook-timestamp").and_then(|t| t.trim().parse().ok());
            let ts = ts.unwrap_or(NOW);
            set(headers, "webhook-id", id.clone());
            set(headers, "webhook-timestamp", ts.to_string());
            let sig = standard_signature(STANDARD_SECRET, &id, ts, body);
            set(headers, "webhook-signature", sig);
        }
    }
}

/// Builds everything the publisher would send for `events` and checks it for codes.
pub fn check_events(events: &[Event]) {
    for event in events {
        match event.subject(PREFIX) {
            Ok(subject) => oracle::assert_clean("subject", &subject),
            Err(e) => oracle::assert_clean("subject error", &e.to_string()),
        }
        match event.to_payload() {
            Ok(payload) => oracle::assert_clean_json("payload", &payload),
            Err(e) => oracle::assert_clean("payload error", &e.to_string()),
        }
        match esim_bridge::publish::headers(event) {
            Ok(headers) => {
                for (name, values) in headers.iter() {
                    for v in values {
                        oracle::assert_clean(name.as_ref(), v.as_str());
                    }
                }
            }
            Err(e) => oracle::assert_clean("header error", &e.to_string()),
        }
    }
}

/// Seconds since the epoch of `t` (for corpus tools).
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
