//! Tests of the noise rule against a reference written as the scan first stated it.

use super::*;
use crate::decode::{decodings, text_stretches};
use crate::text::squeezed;
use proptest::prelude::*;
use regex::Regex;
use std::sync::LazyLock;

/// The rule as the scan first wrote it, on strings (the reference).
fn reference(decoded: &[u8]) -> bool {
    static JOINABLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_\-]{5,}").unwrap());
    let plain_noise = |t: &str| {
        crate::decode::is_plain(t)
            && !t.contains(['$', ':'])
            && !JOINABLE.is_match(&squeezed(t))
            && !squeezed(t).to_ascii_lowercase().contains("lpa")
    };
    match std::str::from_utf8(decoded) {
        Ok(t) if is_text(t) => plain_noise(t),
        _ => {
            let lossy = String::from_utf8_lossy(decoded);
            !crate::pattern::matches(&canonical(&lossy)) && text_stretches(&lossy).all(plain_noise)
        }
    }
}

fn reference_run(run: &str) -> bool {
    (0..4).all(|offset| {
        decodings(&run[offset.min(run.len())..])
            .iter()
            .all(|d| reference(d))
    }) && codecs::sub_run_decodings(run.as_bytes(), reference)
}

#[test]
fn agrees_with_the_reference_on_event_tokens() {
    for run in [
        "evt_esim_8910300000123456789_delivered",
        "evt_esim_order-1000042_failed",
        "2026-05-15T14",
        "client_reference",
        "BENCH_123456",
        "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw",
        "JDEkaG9zdCRJRA",
        "77yE77ya77yE",
    ] {
        assert_eq!(run_is_noise(run.as_bytes()), reference_run(run), "{run}");
    }
    assert!(!run_is_noise(b"TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw"));
}

#[test]
fn fullwidth_code_syntax_in_binary_is_seen() {
    // After a control byte (binary), full-width forms that fold to a code: `1$host$`,
    // `LPA:1$h`, and `lpa:` alone.
    for text in ["1＄ｈｏｓｔ＄", "ＬＰＡ：１＄ｈ", "ｌｐａ：x"] {
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(text.as_bytes());
        assert!(!is_noise(&bytes), "{text}");
        assert_eq!(is_noise(&bytes), reference(&bytes), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_the_reference_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        prop_assert_eq!(is_noise(&bytes), reference(&bytes));
    }

    #[test]
    fn agrees_with_the_reference_on_text_like_bytes(
        bytes in proptest::collection::vec(
            prop_oneof![
                4 => 0x20u8..0x7f,
                1 => Just(b'$'), 1 => Just(b':'), 1 => Just(0u8), 1 => Just(b'\n'),
                1 => 0x80u8..=0xff,
            ],
            0..48,
        ),
    ) {
        prop_assert_eq!(is_noise(&bytes), reference(&bytes));
    }

    #[test]
    fn agrees_with_the_reference_on_unicode_text(s in "[a-z0-9 :$\u{80}-\u{ffff}\u{0}-\u{1f}]{0,24}") {
        prop_assert_eq!(is_noise(s.as_bytes()), reference(s.as_bytes()));
    }

    #[test]
    fn whole_runs_agree_with_the_reference(run in "[A-Za-z0-9+/_-]{8,40}") {
        prop_assert_eq!(run_is_noise(run.as_bytes()), reference_run(&run));
    }
}
