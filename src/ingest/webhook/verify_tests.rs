//! Signature schemes against independently computed signatures and the clock edges.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;

use super::*;
use crate::config::{Secret, WebhookConfig};
use esim_sim::octopus_signature;

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

/// The Standard Webhooks specification's published known-answer vector: the "sign function
/// works" test of standard-webhooks/standard-webhooks, `libraries/javascript/src/webhook.test.ts`
/// (the same values appear in its other libraries' tests). Rechecked outside the crate with:
/// `python3 -c 'import hmac,hashlib,base64; k=base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
/// print(base64.b64encode(hmac.new(k,b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}",
/// hashlib.sha256).digest()))'`.
mod standard_kat {
    pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    pub const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    pub const TIMESTAMP: u64 = 1_614_265_330;
    pub const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    pub const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    /// The vector's three headers.
    pub fn headers() -> super::HeaderMap {
        let mut h = super::HeaderMap::new();
        h.insert("webhook-id", MSG_ID.parse().unwrap());
        h.insert("webhook-timestamp", TIMESTAMP.to_string().parse().unwrap());
        h.insert("webhook-signature", SIGNATURE.parse().unwrap());
        h
    }
}

/// A provider (`octopus`) vector computed outside the crate, with:
/// `printf '%s' '{"id":"evt_kat_1","type":"esim.delivered","data":{"id":9302481}}' |
///  openssl dgst -sha256 -hmac 'octopus-kat-secret'` (python3's `hmac.new(key, body,
/// hashlib.sha256).hexdigest()` gives the same).
mod octopus_kat {
    pub const SECRET: &str = "octopus-kat-secret";
    pub const BODY: &[u8] = br#"{"id":"evt_kat_1","type":"esim.delivered","data":{"id":9302481}}"#;
    pub const SIGNATURE: &str = "58e90184ae543ada69db741d1ca10389cfc0305c93190d137d3af42b31e03377";
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A verifier whose keys come from the config loader (`whsec_` decoded at load), as in `serve`.
fn loaded_verifier(scheme: &str, secret: &str) -> Verifier {
    let toml = format!(
        "[webhook]\nscheme = {scheme:?}\nsecrets = [{secret:?}]\n[upstream]\nenabled = false\n"
    );
    let config = crate::config::Config::load_from_text(Some(&toml), Vec::new()).expect("config");
    Verifier::new(&config.webhook)
}

#[test]
fn standard_webhooks_matches_the_specifications_known_answer() {
    use standard_kat::*;
    let v = loaded_verifier("standard-webhooks", SECRET);
    let h = headers();
    assert_eq!(v.verify(&h, PAYLOAD, at(TIMESTAMP)), Ok(()));
    assert_eq!(
        v.verify(&h, br#"{"test": 2432232315}"#, at(TIMESTAMP)),
        Err(VerifyError::BadSignature)
    );
    // The test signer (used by the integration tests and the simulator) signs the same way.
    assert_eq!(
        standard_signature(SECRET, MSG_ID, TIMESTAMP, PAYLOAD),
        SIGNATURE
    );
}

/// The negative and edge cases of the specification's own library tests (same repository and
/// file as the vector), applied to the vector's headers: one row each, header change → result.
#[test]
fn standard_webhooks_answers_the_specifications_edge_cases() {
    use standard_kat::*;
    type Change = fn(&mut HeaderMap);
    fn set(h: &mut HeaderMap, k: &'static str, v: &str) {
        h.insert(k, v.parse().unwrap());
    }
    let rows: &[(&str, Change, Result<(), VerifyError>)] = &[
        ("unchanged", |_| {}, Ok(())),
        (
            "missing id",
            |h| drop(h.remove("webhook-id")),
            Err(VerifyError::MissingSignature),
        ),
        (
            "another message id (signed over)",
            |h| set(h, "webhook-id", "msg_2"),
            Err(VerifyError::BadSignature),
        ),
        (
            "missing timestamp",
            |h| drop(h.remove("webhook-timestamp")),
            Err(VerifyError::BadTimestamp),
        ),
        (
            "timestamp not a number (signed over, so the MAC differs)",
            |h| set(h, "webhook-timestamp", "hello"),
            Err(VerifyError::BadSignature),
        ),
        (
            "missing signature",
            |h| drop(h.remove("webhook-signature")),
            Err(VerifyError::MissingSignature),
        ),
        (
            "invalid signature",
            |h| set(h, "webhook-signature", "v1,dawfeoifkpqwoekfpqoekf"),
            Err(VerifyError::BadSignature),
        ),
        (
            "partial signature",
            |h| set(h, "webhook-signature", &SIGNATURE[..8]),
            Err(VerifyError::BadSignature),
        ),
        (
            "empty v1 signature",
            |h| set(h, "webhook-signature", "v1,"),
            Err(VerifyError::BadSignature),
        ),
        (
            "the right MAC under another version",
            |h| set(h, "webhook-signature", &SIGNATURE.replacen("v1,", "v2,", 1)),
            Err(VerifyError::BadSignature),
        ),
        (
            "several signatures, one valid",
            |h| {
                let other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
                let v2 = "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
                set(
                    h,
                    "webhook-signature",
                    &format!("{other} {v2} {SIGNATURE} {other}"),
                )
            },
            Ok(()),
        ),
    ];
    for secret in [SECRET, SECRET.trim_start_matches("whsec_")] {
        let v = loaded_verifier("standard-webhooks", secret);
        for (what, change, expected) in rows {
            let mut h = standard_kat::headers();
            change(&mut h);
            assert_eq!(&v.verify(&h, PAYLOAD, at(TIMESTAMP)), expected, "{what}");
        }
        let signed_at = |now| v.verify(&headers(), PAYLOAD, at(now));
        assert_eq!(signed_at(TIMESTAMP + 301), Err(VerifyError::StaleTimestamp));
        assert_eq!(signed_at(TIMESTAMP - 61), Err(VerifyError::FutureTimestamp));
    }
}

#[test]
fn octopus_matches_a_signature_computed_with_openssl() {
    use octopus_kat::*;
    let v = loaded_verifier("octopus", SECRET);
    assert_eq!(
        v.verify(&octopus_headers(SIGNATURE, NOW), BODY, now()),
        Ok(())
    );
    let mut body = BODY.to_vec();
    body.push(b' ');
    assert_eq!(
        v.verify(&octopus_headers(SIGNATURE, NOW), &body, now()),
        Err(VerifyError::BadSignature),
        "the raw bytes are signed, not the JSON value"
    );
    // The simulator signs the provider's way.
    assert_eq!(octopus_signature(SECRET, BODY), SIGNATURE);
}

#[test]
fn any_configured_secret_may_match() {
    let v = verifier(
        Scheme::Octopus,
        &["old-secret-0123456789", "new-secret-0123456789"],
    );
    let sig = octopus_signature("new-secret-0123456789", BODY);
    assert_eq!(v.verify(&octopus_headers(&sig, NOW), BODY, now()), Ok(()));
}

#[test]
fn wrong_or_missing_signature_is_rejected() {
    let v = verifier(Scheme::Octopus, &["s3cret-0123456789abc"]);
    let wrong = octopus_signature("other", BODY);
    assert_eq!(
        v.verify(&octopus_headers(&wrong, NOW), BODY, now()),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        v.verify(&octopus_headers("zz", NOW), BODY, now()),
        Err(VerifyError::BadSignature)
    );
    let tampered = octopus_signature("s3cret-0123456789abc", b"{}");
    assert_eq!(
        v.verify(&octopus_headers(&tampered, NOW), BODY, now()),
        Err(VerifyError::BadSignature)
    );
    let mut only_token = HeaderMap::new();
    only_token.insert(
        "x-octopus-webhook-token",
        "s3cret-0123456789abc".parse().unwrap(),
    );
    only_token.insert("x-timestamp", NOW.to_string().parse().unwrap());
    assert_eq!(
        v.verify(&only_token, BODY, now()),
        Err(VerifyError::MissingSignature)
    );
}

#[test]
fn timestamp_window_is_tolerance_back_and_skew_forward() {
    let v = verifier(Scheme::Octopus, &["s-secret-0123456789"]);
    let sig = octopus_signature("s-secret-0123456789", BODY);
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
