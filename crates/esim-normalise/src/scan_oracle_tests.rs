//! The scan's fast paths checked for safety against the independent oracle
//! ([`crate::test_oracle`], its own decoders and pattern): what the payload pre-check, the
//! plain-ASCII shortcut and the base64 noise rule clear holds no code the oracle can find.
//! (The scan's own tests prove the fast paths agree with the slow ones; these prove the rule
//! they share is safe.)

use proptest::prelude::*;

use crate::scan::tests::payload_like;
use crate::scan::{leaks, plainly_clean};
use esim_events::test_branches::{runner, Branches};

/// Text near a code: a short mix of code syntax and the letters of `lpa`, words ending in
/// `lpa` (after a control byte or not), a bare code, or an encoded code after a control byte; mostly as base64 (either alphabet,
/// shifted by 0 to 2 leading bytes), sometimes as written; with a context on either side that
/// may complete a code with what the run decodes to (without `$`, which the pre-check refuses
/// and the scan's shortcut excludes).
fn near_code() -> impl Strategy<Value = String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let text = prop_oneof![
        "[lpaLPA:$1. hox\x01]{2,12}",
        "(\x01)?[a-z .]{3,8}(lpa|LPA|Lpa)",
        "1\\$[a-z]{1,3}\\.io\\$[a-z]?",
        // A code in a further encoding inside a binary decoding.
        "\x01[a-z ]{0,3}(LPA%3A1%24h.io%24x|TFBBOjEkaC5pbyR4|lpa&#58;1&#36;h.io&#36;x)",
    ];
    (
        text,
        0..3usize,
        0..4u8,
        prop::sample::select(vec!["", ":", " :", "1", "x.", "ab "]),
        prop::sample::select(vec!["", ":", " :", ":1", " : 1x", "x:", ".io", " x"]),
    )
        .prop_map(|(text, shift, how, pre, post)| {
            let text = format!("{}{text}", &"ab"[..shift]);
            let run = match how {
                0 => text,
                1 => URL_SAFE_NO_PAD.encode(text),
                _ => STANDARD_NO_PAD.encode(text),
            };
            format!("{pre}{run}{post}")
        })
}

/// What the scan calls clean, the independent oracle (its own decoders and pattern) finds no
/// code in: the pre-check, the plain-ASCII shortcut and the noise rule are checked for
/// safety, not just for agreeing with one another.
#[test]
fn what_the_scan_clears_the_independent_oracle_clears() {
    let branches = Branches::new();
    let strategy = prop_oneof![near_code(), payload_like()];
    runner(1500)
        .run(&strategy, |s| {
            let value: String = s.chars().filter(|c| *c != '"' && *c != '\\').collect();
            let clean = !leaks(&value);
            branches.count(clean);
            if clean {
                prop_assert!(!crate::test_oracle::has_code(&value), "{:?}", value);
            }
            Ok(())
        })
        .unwrap();
    branches.require_both("clean", 100);
}

/// What the payload pre-check clears, the independent oracle finds no code in.
#[test]
fn what_the_precheck_clears_the_independent_oracle_clears() {
    let branches = Branches::new();
    let strategy = prop_oneof![near_code(), payload_like()];
    runner(1500)
        .run(&strategy, |p| {
            let clear = plainly_clean(p.as_bytes());
            branches.count(clear);
            if clear {
                prop_assert!(!crate::test_oracle::has_code(&p), "{:?}", p);
            }
            Ok(())
        })
        .unwrap();
    branches.require_both("cleared", 100);
}

/// A run the noise rule calls noise completes no code with the context around it (where the
/// context and the run as written hold none), as the independent oracle decodes it.
#[test]
fn a_noise_run_completes_no_code_in_its_context() {
    let branches = Branches::new();
    runner(1500)
        .run(&near_code(), |s| {
            let Some(run) = crate::noise::base64_runs(s.as_bytes()).max_by_key(|r| r.len()) else {
                return Ok(());
            };
            let noise = crate::noise::run_is_noise(run);
            branches.count(noise);
            if noise && !crate::test_oracle::code_as_written(&s) {
                prop_assert!(!crate::test_oracle::has_code(&s), "{:?}", s);
            }
            Ok(())
        })
        .unwrap();
    branches.require_both("noise", 40);
}

/// Found by the independent oracle: a base64 run that mixes the two alphabets (`-+` after a
/// code's base64) decoded in neither, so the code in its valid prefix was not seen. The scan
/// and the noise rule now decode the single-alphabet pieces of such a run; the pre-check's
/// joined reading (tab-separated pieces glued to the other alphabet) goes through the same rule.
#[test]
fn a_code_in_base64_followed_by_the_other_alphabets_characters_is_a_hit() {
    for s in [
        "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw-+",
        "x TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw+_ y",
        "T\tF\tB\tB\tO\tj\tE\tk\tc\t2\t1\tk\tc\tC\t5\tl\te\tG\tF\tt\tc\tG\tx\tl\tL\tm\tN\tv\tb\tS\tR\tN\tQ\tV\tR\tD\tS\tE\tl\tO\tR\twJapan eSIMg0-A\u{c}+{id:",
    ] {
        assert!(leaks(s), "{s:?}");
        assert!(!plainly_clean(s.as_bytes()), "{s:?}");
    }
}
