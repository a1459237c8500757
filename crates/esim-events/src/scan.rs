//! The activation-code scan: is there LPA-like text in any decoding of this value?
//!
//! A value is scanned as given, and then every text reachable from it by the decodings in
//! [`super::decode`], each folded to its canonical form and scanned with and without its
//! whitespace. Two patterns count as a code:
//! - `LPA:` in any case (so `LPA:1$host$ MATCHING` is a hit as a whole, not just its first
//!   word);
//! - a bare code `<digit>$<host>$`, the host with letters, digits, `.`, `-`, `_` and a `:port`
//!   (`1$host:8443$ID`, `REF_1$host$ID`).
//!
//! The work is bounded (texts visited, bytes decoded, depth); a value that exhausts the bound is
//! reported as a hit, so nesting more encodings than the bound allows cannot hide a code.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::decode::{canonical, is_inert, is_plain, layers, squeezed, Layer};
use super::noise;

/// `LPA:` (spaces allowed before the colon), or a bare `<digit>$<host>$`.
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    // Literal patterns covered by the tests below, so they always compile.
    Regex::new(r"(?i)lpa\s*:|\p{Nd}\$[\p{L}\p{N}.\-:_]*\p{L}[\p{L}\p{N}.\-:_]*\$")
        .expect("static regex")
});
// Cannot fail: a literal pattern, compiled by the tests below.
/// On text without whitespace: `LPA:` not inside a word, or a bare code with a dotted host
/// (whitespace removed, `2$ extra $` must not become a code).
static SQUEEZED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^\p{L}])lpa:|\p{Nd}\$[\p{L}\p{N}\-_]+(?:\.[\p{L}\p{N}\-_]+)+(?::\p{Nd}+)?\$",
    )
    .expect("static regex")
});

/// Deepest chain of decodings followed.
const MAX_DEPTH: usize = 16;
/// Most texts visited for one value.
const MAX_TEXTS: usize = 512;
/// Bytes that may be visited per byte of input, plus a fixed allowance.
const BYTES_PER_INPUT_BYTE: usize = 32;
const BYTES_BASE: usize = 64 * 1024;

/// True if canonical text `c` holds a code as it stands. Both patterns need a literal `:` or
/// `$`, so text without either is skipped without running them.
pub(crate) fn matches(c: &str) -> bool {
    c.contains([':', '$']) && (CODE.is_match(c) || SQUEEZED_CODE.is_match(&squeezed(c)))
}

/// True if `s`, or anything it decodes to, holds LPA-like text (or the scan ran out of work).
pub fn leaks(s: &str) -> bool {
    if matches(s) {
        return true;
    }
    // Plain ASCII with nothing to decode but base64 runs that decode to noise: no view can
    // hold a `:` or `$`, so no view can match.
    // (Base64 decoders that skip whitespace would join runs split by it: check them joined.)
    if is_inert(&squeezed(s))
        || (!s.contains([':', '$'])
            && is_plain(s)
            && base64_runs_are_noise(s.as_bytes())
            && base64_runs_are_noise(squeezed(s).as_bytes()))
    {
        return false;
    }
    let mut bytes_left = s
        .len()
        .saturating_mul(BYTES_PER_INPUT_BYTE)
        .saturating_add(BYTES_BASE);
    let mut spend = |n: usize| match bytes_left.checked_sub(n) {
        Some(left) => {
            bytes_left = left;
            true
        }
        None => false,
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut stack = vec![(s.to_owned(), 0usize)];
    while let Some((text, depth)) = stack.pop() {
        if depth > MAX_DEPTH || seen.len() >= MAX_TEXTS {
            return true;
        }
        let c = canonical(&text);
        if !spend(c.len().saturating_mul(2)) {
            return true;
        }
        if matches(&c) {
            return true;
        }
        // Decode the text as given and as folded: folding first can merge the syntax of two
        // layers (a full-width `＆＃ｘ６` next to an entity that decodes to `１；`).
        let mut next = layers(&c);
        if c != text.as_str() {
            next.extend(layers(&text));
        }
        let joined = squeezed(&c);
        if joined != c {
            next.extend(layers(&joined));
        }
        for layer in next {
            match layer {
                Layer::Text(t) => {
                    if !spend(t.len()) {
                        return true;
                    }
                    if seen.insert(t.clone()) {
                        stack.push((t, depth + 1));
                    }
                }
                Layer::Opaque(t) => {
                    if !spend(t.len()) {
                        return true;
                    }
                    if matches(&canonical(&t)) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// True if no base64 run in `bytes` decodes (at any alignment, in either alphabet) to anything
/// the full scan could act on ([`noise`](crate::noise) says what that means). Runs already found
/// to be noise are remembered per thread (bounded), as keys and common values repeat in every
/// event.
pub fn base64_runs_are_noise(bytes: &[u8]) -> bool {
    thread_local! {
        static KNOWN: std::cell::RefCell<HashSet<Vec<u8>>> = std::cell::RefCell::new(HashSet::new());
    }
    const KNOWN_MAX: usize = 4096;
    noise::base64_runs(bytes).all(|run| {
        if run.iter().all(u8::is_ascii_digit) || KNOWN.with(|k| k.borrow().contains(run)) {
            return true;
        }
        let noise = noise::run_is_noise(run);
        if noise {
            KNOWN.with(|k| {
                let mut k = k.borrow_mut();
                if k.len() >= KNOWN_MAX {
                    k.clear();
                }
                k.insert(run.to_vec());
            });
        }
        noise
    })
}

/// True if `payload` cannot hold activation-code material, decided without parsing it: ASCII
/// without line breaks, `\\`, `%`, `&` or `$`; no `lpa` and no secret key name (case, `_`,
/// `-` and whitespace ignored); and every base64 run decodes to noise. Everything else takes
/// the full scan ([`crate::redact::find_leak`] on the parsed document). A bridge event
/// usually passes: its strings are plain words and numbers.
pub fn plainly_clean(payload: &[u8]) -> bool {
    /// `lpa` or a secret key name, on text folded to lower case without `_`, `-`, whitespace.
    // Cannot fail: a literal pattern, compiled by the tests below.
    static NEEDLES: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"lpa|activationcode|qrcode|smdpaddress|matchingid")
            .expect("static regex")
    });
    if !payload.is_ascii()
        || payload
            .iter()
            .any(|b| matches!(b, b'\\' | b'%' | b'&' | b'$' | b'\n' | b'\r'))
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
    // Base64 decoders that skip whitespace would join runs split by it: check them joined.
    if !payload.iter().any(u8::is_ascii_whitespace) {
        return true;
    }
    let joined: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64_runs_are_noise(&joined)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
}
