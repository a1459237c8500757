//! Tests of the activation-code scan and of the payload pre-check.

use std::sync::LazyLock;

use super::*;
use proptest::prelude::*;

/// The encodings issue 7 reported as stored verbatim (also checked in events).
pub(crate) const REPORTED: [&str; 7] = [
    "LPA%3A1%24smdp.example.com%24MATCHING",
    "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw==",
    "&#76;&#80;&#65;&#58;1&#36;smdp.example.com&#36;ID",
    "ＬＰＡ：１＄ｓｍｄｐ．ｅｘａｍｐｌｅ．ｃｏｍ＄ＩＤ",
    "1$host:8443$ID",
    "REF_1$host$ID",
    "LPA:1$host$ MATCHING",
];

#[test]
fn the_reported_encodings_are_hits() {
    for s in REPORTED.into_iter().chain([
        "LPA:1$smdp.example.com$MATCHING",
        r"\u004c\u0050\u0041\u003a1\u0024h\u0024i",
        "l p a : 1 $ smdp . example . com $ x",
        "%254C%2550A%253A1%2524h%2524i",
    ]) {
        assert!(leaks(s), "{s}");
    }
}

#[test]
fn ordinary_values_are_not() {
    for s in [
        "TRIP_TOKYO_OCT",
        "Japan eSIM 1GB $5",
        "Alpaca $5 eSIM",
        "US$5 plan, 2$ extra $",
        "100% data, 50% off",
        "Fish & Chips &amp; more",
        "Supplier has no profiles left",
        "OUT_OF_STOCK",
        "Help a: b",
        "Café — 東京 eSIM 🎌",
        "8910300000123456789",
        "evt_esim_8910300000123456789_delivered",
        "C:\\path\\to\\file",
    ] {
        assert!(!leaks(s), "{s}");
    }
}

#[test]
fn deep_stacks_are_followed_and_deeper_ones_are_hits() {
    let mut s = "LPA%3A1%24h%24i".to_owned();
    for layers in 1..40 {
        s = s.replace('%', "%25");
        assert!(leaks(&s), "{layers} layers of percent-encoding");
    }
}

/// `plainly_clean` as it was before its one-pass rewrite (the reference).
fn reference_plainly_clean(payload: &[u8]) -> bool {
    static NEEDLES: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"lpa|activationcode|qrcode|smdpaddress|matchingid").unwrap()
    });
    if !payload.is_ascii()
        || payload.iter().any(|b| {
            matches!(b, b'\\' | b'%' | b'&' | b'$' | b'=' | b'~') || is_squeezed_control(*b)
        })
    {
        return false;
    }
    let folded: Vec<u8> = payload
        .iter()
        .filter(|b| !matches!(b, b'_' | b'-') && !b.is_ascii_whitespace())
        .map(u8::to_ascii_lowercase)
        .collect();
    if NEEDLES.is_match(&folded) || !base64_runs_are_noise(payload) {
        return false;
    }
    let joined: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64_runs_are_noise(&joined)
}

/// Control characters the scan's squeezed reading removes and whitespace folding does not
/// cover (everything but tab and form feed).
fn is_squeezed_control(b: u8) -> bool {
    b.is_ascii_control() && !matches!(b, b'\t' | 0x0c)
}

/// Payload-like text: JSON punctuation, words, whitespace of every kind, base64 of code
/// pieces split by whitespace, key names spelled with separators, and the refused bytes.
pub(crate) fn payload_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{\"id\":\"".to_owned()),
        Just("\",\"".to_owned()),
        Just("evt_esim_8910300000123456789_delivered".to_owned()),
        Just("Japan eSIM".to_owned()),
        Just("TFBBOjEk".to_owned()),
        Just("c21kcC5leGFtcGxlLmNvbSRNQVRDSElORw".to_owned()),
        Just("Activation-Code".to_owned()),
        Just("l p a".to_owned()),
        // Decodes to `xx.LPA`: a `:` after it completes `LPA:` where the decoding is put back.
        Just("eHguTFBB".to_owned()),
        Just("eHgu".to_owned()),
        "[\x7f\x0b\x01]",
        Just("matching_ID".to_owned()),
        "[ \t\x0c]{1,3}",
        "[A-Za-z0-9+/_-]{1,12}",
        "[\\\\%&$\n\r:é]",
        "[ -~]{1,6}",
        split_code(),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

/// A code's base64 cut into pieces of 1 to 8 characters by whitespace: each piece is too
/// short to be a base64 run on its own, so only the joined reading finds the code.
fn split_code() -> impl Strategy<Value = String> {
    const B64: &str = "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw";
    (1..9usize, "[ \t\x0c]{1,2}").prop_map(|(k, ws)| {
        let pieces: Vec<&str> = B64
            .as_bytes()
            .chunks(k)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        pieces.join(&ws)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn plainly_clean_agrees_with_its_reference(p in payload_like()) {
        prop_assert_eq!(plainly_clean(p.as_bytes()), reference_plainly_clean(p.as_bytes()), "{:?}", p);
    }

    /// `leaks` stops early on a value the payload pre-check clears: that must never hide what
    /// the full scan finds.
    #[test]
    fn what_the_precheck_clears_the_full_scan_clears(p in payload_like()) {
        let value: String = p.chars().filter(|c| *c != '"' && *c != '\\').collect();
        prop_assert_eq!(leaks(&value), full_scan(&value), "{:?}", value);
        if plainly_clean(value.as_bytes()) {
            prop_assert!(!full_scan(&value), "{:?}", value);
        }
    }
}

#[test]
fn codes_in_field_values_are_hits_with_or_without_the_precheck() {
    for value in [
        "LPA:1$smdp.example.com$MATCHING",
        "lpa : 1$smdp.example.com$ID",
        "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw",
        "TFBBOjEkc21kcC5l eGFtcGxlLmNvbSRNQVRDSElORw",
        "TFBBOjEk\tc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw",
    ] {
        assert!(leaks(value) && full_scan(value), "{value}");
    }
    // Base64 of `xx.LPA`, then a plain `:`: the decoding put back in place reads `xx.LPA:`.
    for value in ["eHguTFBB:", "eHgu TFBB :", "eHguTFBB\u{7f}:"] {
        assert!(leaks(value) && full_scan(value), "{value:?}");
        let payload = format!("{{\"n\":{}}}", serde_json::to_string(value).unwrap());
        assert!(!plainly_clean(payload.as_bytes()), "{payload}");
    }
    for value in [
        "Japan eSIM",
        "BENCH_123456",
        "evt_esim_8910300000123456789_delivered",
    ] {
        assert!(!leaks(value) && !full_scan(value), "{value}");
    }
}

#[test]
fn base64_split_by_control_characters_is_not_plainly_clean() {
    // The scan's squeezed reading removes DEL and other controls, joining the pieces.
    for sep in ["\u{7f}", "\u{b}", "\u{1}"] {
        let code = "TFBB OjEk c21k cC5l eGFt cGxl LmNv bSRN QVRD SElO Rw".replace(' ', sep);
        assert!(full_scan(&code), "{code:?}");
        assert!(!plainly_clean(code.as_bytes()), "{code:?}");
    }
}

#[test]
fn base64_split_by_whitespace_is_not_plainly_clean() {
    // "LPA:1$smdp.example.com$MATCHING" in base64, split where a decoder would skip.
    let p = br#"{"note":"TFBBOjEkc21kcC5l eGFtcGxlLmNvbSRNQVRDSElORw"}"#;
    assert!(!plainly_clean(p));
    assert!(plainly_clean(
        br#"{"note":"Japan eSIM 1GB","id":"evt_esim_8910300000123456789_delivered"}"#
    ));
}

#[test]
fn the_depth_bound_follows_sixteen_layers_and_calls_a_seventeenth_a_hit() {
    // An ordinary value under k percent-encodings takes k decodings to read: 16 are followed
    // (MAX_DEPTH) and it is clean; a 17th layer exhausts the bound, which counts as a hit.
    let mut s = "Japan eSIM".to_owned();
    for layers in 1..=17 {
        s = s.replace('%', "%25").replace(' ', "%20");
        assert_eq!(leaks(&s), layers > 16, "{layers} layers: {s}");
    }
}
