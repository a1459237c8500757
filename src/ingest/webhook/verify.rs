//! Signature and timestamp verification on the raw body, before anything is parsed.
//!
//! Two schemes:
//! - `octopus` (the provider's): `X-Signature` = lowercase hex HMAC-SHA256 of the raw body,
//!   keyed with the secret's plain bytes; `X-Timestamp` = Unix seconds (not signed, so the
//!   event-id/subject de-duplication is the real replay defence).
//! - `standard-webhooks`: `webhook-signature` = space-separated `v1,<base64>` HMAC-SHA256 of
//!   `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64 key after `whsec_`.
//!
//! Every configured secret is tried (rotation); comparison is constant-time (`hmac`'s
//! `verify_slice`). The `X-OCTOPUS-WEBHOOK-TOKEN` header is never consulted: it carries the
//! secret itself and is not a signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Scheme, SigningKey, WebhookConfig};

type HmacSha256 = Hmac<Sha256>;

/// Why a request is not authentic (all answered 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("signature missing")]
    MissingSignature,
    #[error("signature does not match")]
    BadSignature,
    #[error("timestamp missing or not a number")]
    BadTimestamp,
    #[error("timestamp too old")]
    StaleTimestamp,
    #[error("timestamp too far in the future")]
    FutureTimestamp,
}

impl VerifyError {
    /// Metric label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissingSignature => "signature_missing",
            Self::BadSignature => "signature_mismatch",
            Self::BadTimestamp => "timestamp_missing",
            Self::StaleTimestamp => "timestamp_stale",
            Self::FutureTimestamp => "timestamp_future",
        }
    }
}

/// Verifies requests for one scheme with a set of secrets.
#[derive(Clone)]
pub struct Verifier {
    scheme: Scheme,
    /// One HMAC per secret, keyed once here (a request clones it instead of hashing the key
    /// into the inner and outer pads again).
    macs: Vec<HmacSha256>,
    tolerance: Duration,
    future_skew: Duration,
}

impl Verifier {
    /// Builds the verifier; secrets were validated by the config loader.
    pub fn new(cfg: &WebhookConfig) -> Self {
        // Decoded (and for a loaded config, validated) once by the config: never empty.
        let macs = cfg.signing_keys().iter().filter_map(keyed).collect();
        Self {
            scheme: cfg.scheme,
            macs,
            tolerance: cfg.tolerance,
            future_skew: cfg.future_skew,
        }
    }

    /// Checks the signature, then the timestamp, against `now`.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let timestamp = match self.scheme {
            Scheme::Octopus => {
                let sig = header("x-signature").ok_or(VerifyError::MissingSignature)?;
                // An HMAC-SHA256 is 32 bytes: any other length cannot match.
                let mut decoded = [0u8; 32];
                hex::decode_to_slice(sig.trim(), &mut decoded)
                    .map_err(|_| VerifyError::BadSignature)?;
                self.check_any(&[body], &[decoded])?;
                header("x-timestamp")
            }
            Scheme::StandardWebhooks => {
                let sigs = header("webhook-signature").ok_or(VerifyError::MissingSignature)?;
                let sigs: Vec<Vec<u8>> = sigs
                    .split(' ')
                    .filter_map(|s| s.strip_prefix("v1,"))
                    .filter_map(|s| B64.decode(s).ok())
                    .collect();
                let id = header("webhook-id").ok_or(VerifyError::MissingSignature)?;
                let ts = header("webhook-timestamp").ok_or(VerifyError::BadTimestamp)?;
                self.check_any(&[id.as_bytes(), b".", ts.as_bytes(), b".", body], &sigs)?;
                Some(ts)
            }
        };
        self.check_time(timestamp, now)
    }

    /// Succeeds if any signature matches the MAC of `parts` under any key.
    fn check_any(&self, parts: &[&[u8]], sigs: &[impl AsRef<[u8]>]) -> Result<(), VerifyError> {
        for keyed in &self.macs {
            let mut mac = keyed.clone();
            parts.iter().for_each(|p| mac.update(p));
            if sigs
                .iter()
                .any(|sig| mac.clone().verify_slice(sig.as_ref()).is_ok())
            {
                return Ok(());
            }
        }
        Err(VerifyError::BadSignature)
    }

    fn check_time(&self, ts: Option<&str>, now: SystemTime) -> Result<(), VerifyError> {
        let ts: u64 = ts
            .and_then(|t| t.trim().parse().ok())
            .ok_or(VerifyError::BadTimestamp)?;
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        // The timestamp is the sender's: saturating, so `u64::MAX` is "future", not a panic.
        if ts.saturating_add(self.tolerance.as_secs()) < now {
            return Err(VerifyError::StaleTimestamp);
        }
        if ts > now.saturating_add(self.future_skew.as_secs()) {
            return Err(VerifyError::FutureTimestamp);
        }
        Ok(())
    }
}

/// The HMAC keyed with `key`; HMAC accepts keys of any length, so this is never `None`.
fn keyed(key: &SigningKey) -> Option<HmacSha256> {
    HmacSha256::new_from_slice(key.expose()).ok()
}

/// Signs like a Standard Webhooks sender (`v1,<base64>`), for tests.
pub fn standard_signature(whsec: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let key = B64
        .decode(whsec.strip_prefix("whsec_").unwrap_or(whsec))
        .unwrap_or_default();
    // Cannot fail: HMAC takes a key of any length (longer keys are hashed, RFC 2104).
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
