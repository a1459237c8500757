//! Webhook signing exactly as the provider does it, usable by tests to forge valid deliveries.
//!
//! `X-Signature` = lowercase hex HMAC-SHA256 over the raw body bytes, keyed with the secret's
//! plain bytes. `X-OCTOPUS-WEBHOOK-TOKEN` carries the secret itself (the provider's choice).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The provider's webhook `User-Agent`.
pub const USER_AGENT: &str = "octopusrewards.com/webhook-agent";

/// Lowercase hex HMAC-SHA256 of `body` keyed with `secret`'s bytes.
pub fn octopus_signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length (long keys are hashed), so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Every header the provider sends with a webhook, in send order: `Content-Type`,
/// `User-Agent`, `X-Webhook-ID`, `X-Event-ID`, `X-Event-Type`, `X-Timestamp` (unix seconds),
/// `X-Signature`, `X-OCTOPUS-WEBHOOK-TOKEN`.
pub fn signed_headers(
    secret: &str,
    webhook_id: &str,
    event_id: &str,
    event_type: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "application/json".to_owned()),
        ("User-Agent", USER_AGENT.to_owned()),
        ("X-Webhook-ID", webhook_id.to_owned()),
        ("X-Event-ID", event_id.to_owned()),
        ("X-Event-Type", event_type.to_owned()),
        ("X-Timestamp", timestamp.to_string()),
        ("X-Signature", octopus_signature(secret, body)),
        ("X-OCTOPUS-WEBHOOK-TOKEN", secret.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc4231_test_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            octopus_signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn headers_carry_ids_timestamp_signature_and_token() {
        let body = br#"{"id":"evt_1","type":"esim.delivered"}"#;
        let h = signed_headers(
            "s3cret",
            "wh_1",
            "evt_1",
            "esim.delivered",
            1_700_000_000,
            body,
        );
        let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("X-Event-ID"), Some("evt_1"));
        assert_eq!(get("X-Timestamp"), Some("1700000000"));
        assert_eq!(get("X-Signature").map(str::len), Some(64));
        assert_eq!(get("X-OCTOPUS-WEBHOOK-TOKEN"), Some("s3cret"));
    }
}
