//! The last check on every payload a replay or tail writes or republishes: one JSON document
//! per line, and no activation code, ever, in any encoding.
//!
//! Every payload is parsed and every key and string goes through the same normalising scan as
//! event data ([`esim_normalise::redact::find_leak`]: percent-encoding, HTML references, JSON
//! escapes such as `\u004c\u0050\u0041`, base64, Unicode compatibility forms, invisible
//! characters). A clean payload keeps its stored bytes; a payload with a hit is rewritten with
//! every offending string replaced as a whole and every secret key removed (a message someone
//! else put in the stream cannot smuggle a code into an operator's file or a copy). A payload
//! that is not JSON is scanned as text and, on a hit, replaced by [`redact::REDACTED`].
//! Control characters, terminal sequences and bidi overrides are escaped visibly
//! ([`super::visible`]), as JSON escapes, so a JSON line stays the same document.

use std::borrow::Cow;

use serde_json::Value;

use super::visible;
use esim_normalise::{redact, scan};

/// A payload made safe to write as one NDJSON line.
pub enum Line<'a> {
    /// The stored bytes, unchanged.
    Stored(&'a [u8]),
    /// Rewritten: activation-code material removed, line breaks turned into spaces, or
    /// characters a terminal would act on escaped.
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

/// Checks one payload; the line is also safe to show on a terminal ([`visible`]).
pub fn line(payload: &[u8]) -> Line<'_> {
    if scan::plainly_clean(payload) && visible::is_safe(payload, false) {
        return Line::Stored(payload);
    }
    let redacted = match serde_json::from_slice::<Value>(payload) {
        Ok(mut tree) if redact::find_leak(&tree).is_some() => {
            redact::redact_value(&mut tree);
            // Serialising a `Value` cannot fail (string keys, finite numbers).
            Some(serde_json::to_vec(&tree).unwrap_or_default())
        }
        Ok(_) => None,
        Err(_) if text_leaks(payload) => Some(redact::REDACTED.as_bytes().to_vec()),
        Err(_) => None,
    };
    match redacted {
        Some(bytes) => Line::Rewritten {
            bytes: one_visible_line(&bytes).into_owned(),
            redacted: true,
        },
        None if visible::is_safe(payload, false) => Line::Stored(payload),
        None => Line::Rewritten {
            bytes: one_visible_line(payload).into_owned(),
            redacted: false,
        },
    }
}

/// True if a payload that is no JSON shows a code as text: read as UTF-8 (invalid bytes
/// replaced) and, when it is not UTF-8, also byte by byte as Latin-1, the way a terminal or
/// a consumer may show it (`smdp<0xAD>example`: 0xAD is Latin-1's invisible soft hyphen; a
/// replay_guard fuzz finding, 2026-12-06).
fn text_leaks(payload: &[u8]) -> bool {
    redact::looks_like_lpa(&String::from_utf8_lossy(payload))
        || (std::str::from_utf8(payload).is_err()
            && redact::looks_like_lpa(&payload.iter().map(|&b| char::from(b)).collect::<String>()))
}

/// True if a header value a replay would copy carries activation-code material.
pub fn header_leaks(value: &str) -> bool {
    redact::looks_like_lpa(value)
}

/// Line breaks turned into spaces (valid JSON has them only as whitespace: a space means the
/// same), everything else a terminal would act on escaped.
fn one_visible_line(bytes: &[u8]) -> Cow<'_, [u8]> {
    let spaced: Cow<'_, [u8]> = match bytes.iter().any(|&b| b == b'\n' || b == b'\r') {
        true => Cow::Owned(
            bytes
                .iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
                .collect(),
        ),
        false => Cow::Borrowed(bytes),
    };
    match visible::escaped(&spaced, false) {
        Cow::Borrowed(_) => spaced,
        Cow::Owned(escaped) => Cow::Owned(escaped),
    }
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
            b"not json 1$smdp\xadexample$IDlp",
            br#"{"data":{"x":"\u004c\u0050\u0041\u003a1\u0024smdp.example\u0024ID"}}"#,
            br#"{"data":{"x":"\\u004c\\u0050\\u0041\\u003a1\\u0024smdp.example\\u0024ID"}}"#,
            br#"{"data":{"x":"TFBBOjEkc21kcC5leGFtcGxlJElE"}}"#,
            br#"{"data":{"x":"LPA%3A1%24smdp.example%24ID"}}"#,
            b"not json TFBBOjEkc21kcC5leGFtcGxlJElE",
        ] {
            let out = line(stored);
            assert!(out.redacted());
            let text = String::from_utf8_lossy(out.bytes()).to_lowercase();
            assert!(
                !text.contains("lpa:") && !text.contains("smdp.example$"),
                "{text}"
            );
            assert!(!redact::looks_like_lpa(&text), "{text}");
        }
    }

    /// Issue 21: the text before a code ends in the start of an escape that swallows the
    /// code's format digit (`%0` + `1$` reads `%01`); the host and matching id stay readable
    /// and are a code without the digit. First the fuzz crash's replay line as found, then the
    /// class: each escape the scan decodes, with and without `LPA:` and a port.
    #[test]
    fn an_escape_that_swallows_the_digit_hides_no_code() {
        let found = br#"{"data":{"note":"\b%01%24rsp.provider.io%3A58725%24MIDA5000000003C2893"}}"#;
        let out = line(found);
        assert!(out.redacted());
        assert!(!String::from_utf8_lossy(out.bytes()).contains("MIDA5000000003C2893"));
        for swallow in ["%0", "&#x", "&#", "&#x0", "\\u000", "\\x0", "\\u{"] {
            for code in [
                "1$rsp.provider.io$MID42",
                "1$h:8443$MID42",
                "1%24rsp.provider.io%3A58725%24MID42",
                "1&#36;a.io&#36;MID42",
            ] {
                for prefix in ["", "x\u{8}", "REF_"] {
                    let text = format!("{prefix}{swallow}{code}");
                    let payload = serde_json::json!({"data": {"note": text}}).to_string();
                    let out = line(payload.as_bytes());
                    assert!(out.redacted(), "{payload}");
                    assert!(!String::from_utf8_lossy(out.bytes()).contains("MID42"));
                }
            }
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
