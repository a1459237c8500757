//! The last check on every line a replay or tail writes: one JSON document per line, and no
//! activation code, ever.
//!
//! Stored events are redacted before they are published, so the fast path writes the stored
//! bytes unchanged. A cheap byte scan for anything that could be a secret (`lpa`, `$`, the
//! secret key names) or a line break sends the rare suspicious payload down the slow path,
//! which parses it and applies [`crate::event::redact`] (a message someone else put in the
//! stream cannot smuggle a code into an operator's file).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::event::redact;

/// Anything the slow path must look at; matches a superset of what redaction removes.
static SUSPECT: LazyLock<Regex> = LazyLock::new(|| {
    // A literal pattern, exercised by the tests below, so it always compiles.
    Regex::new(r"(?i)lpa|\$|activation|qr.?code|smdp|matching|[\r\n]").expect("static regex")
});

/// A payload made safe to write as one NDJSON line.
pub enum Line<'a> {
    /// The stored bytes, unchanged.
    Stored(&'a [u8]),
    /// Rewritten: activation-code material removed, or line breaks turned into spaces.
    Rewritten { bytes: Vec<u8>, redacted: bool },
}

impl Line<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Self::Stored(b) => b,
            Self::Rewritten { bytes, .. } => bytes,
        }
    }

    /// True if activation-code material was removed.
    pub fn redacted(&self) -> bool {
        matches!(self, Self::Rewritten { redacted: true, .. })
    }
}

/// Checks one payload.
pub fn line(payload: &[u8]) -> Line<'_> {
    if !SUSPECT.is_match(payload) {
        return Line::Stored(payload);
    }
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(mut tree) if redact::find_leak(&tree).is_some() => {
            redact::redact_value(&mut tree);
            // Serialising a `Value` cannot fail (string keys, finite numbers).
            let bytes = serde_json::to_vec(&tree).unwrap_or_default();
            Line::Rewritten {
                bytes,
                redacted: true,
            }
        }
        // Valid JSON has line breaks only as whitespace: a space means the same.
        Ok(_) => single_line(payload, false),
        Err(_) => {
            let text = String::from_utf8_lossy(payload);
            let clean = redact::scrub_str(&text);
            let redacted = matches!(clean, Cow::Owned(_));
            single_line(clean.as_bytes(), redacted)
        }
    }
}

fn single_line(bytes: &[u8], redacted: bool) -> Line<'static> {
    let bytes = bytes
        .iter()
        .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
        .collect();
    Line::Rewritten { bytes, redacted }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_events_pass_byte_for_byte() {
        let stored = br#"{"id":"evt_esim_8910_delivered","data":{"id":1,"amount":4.275}}"#;
        assert!(matches!(line(stored), Line::Stored(b) if b == stored));
    }

    #[test]
    fn suspicious_but_clean_events_keep_their_bytes() {
        let stored = br#"{"data":{"product_name":"Alpaca $5 eSIM"}}"#;
        assert_eq!(line(stored).bytes(), stored);
        assert!(!line(stored).redacted());
    }

    #[test]
    fn activation_codes_never_pass() {
        for stored in [
            &br#"{"data":{"note":"LPA:1$smdp.example$MATCH-1"}}"#[..],
            br#"{"data":{"Activation-Code":"x"}}"#,
            br#"{"data":{"x":"1$smdp.example$ID"}}"#,
            b"not json lpa:1$smdp.example$ID",
        ] {
            let out = line(stored);
            assert!(out.redacted());
            let text = String::from_utf8_lossy(out.bytes()).to_lowercase();
            assert!(
                !text.contains("lpa:") && !text.contains("smdp.example$"),
                "{text}"
            );
        }
    }

    #[test]
    fn pretty_printed_json_becomes_one_line() {
        let stored = b"{\n  \"id\": \"x\",\r\n  \"n\": 1\n}";
        let out = line(stored);
        assert!(!out.bytes().contains(&b'\n') && !out.bytes().contains(&b'\r'));
        let v: serde_json::Value = serde_json::from_slice(out.bytes()).unwrap();
        assert_eq!(v["n"], 1);
    }
}
