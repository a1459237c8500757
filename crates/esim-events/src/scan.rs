//! The activation-code scan: is there LPA-like text in any decoding of this value?
//!
//! A value is scanned as given, and then every text reachable from it by the decodings in
//! [`super::decode`], each folded to its canonical form and scanned with and without its
//! whitespace. Two patterns count as a code:
//! - `LPA:` in any case (so `LPA:1$host$ MATCHING` is a hit as a whole, not just its first
//!   word);
//! - a bare code `<digit>$<host>$`, the host with letters, digits, `.`, `-`, `_` and a `:port`
//!   (`1$host:8443$ID`, `REF_1$host$ID`);
//! - a host and a matching id together, `$<host>$<id>`, with or without the format digit: a
//!   reading in which an escape swallows that digit (`%0` before `1$` reads as `%01`, `&#x`
//!   as `&#x1`, `\u000` as `\u0001`) must still find the code (issue 21).
//!
//! The work is bounded (texts visited, bytes decoded, depth); a value that exhausts the bound is
//! reported as a hit, so nesting more encodings than the bound allows cannot hide a code.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::codecs;
use super::decode::{canonical, is_inert, is_plain, layers, squeezed, Layer};
use super::noise;
pub use super::precheck::plainly_clean;

/// `LPA:` (spaces allowed before the colon), a bare `<digit>$<host>$`, or `$<host>$<id>`.
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    // Literal patterns covered by the tests below, so they always compile.
    Regex::new(
        r"(?i)lpa\s*:|(?:\p{Nd}\$[\p{L}\p{N}.\-:_]*\p{L}[\p{L}\p{N}.\-:_]*\$)|\$[\p{L}\p{N}.\-:_]*\p{L}[\p{L}\p{N}.\-:_]*\$[\p{L}\p{N}_\-]",
    )
    .expect("static regex")
});
// Cannot fail: a literal pattern, compiled by the tests below.
/// On text without whitespace: `LPA:` not inside a word, or a bare code with a dotted host,
/// with its digit or followed by an id (whitespace removed, `2$ extra $` must not become a
/// code).
static SQUEEZED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^\p{L}])lpa:|\p{Nd}\$[\p{L}\p{N}\-_]+(?:\.[\p{L}\p{N}\-_]+)+(?::\p{Nd}+)?\$|\$[\p{L}\p{N}\-_]+(?:\.[\p{L}\p{N}\-_]+)+(?::\p{Nd}+)?\$[\p{L}\p{N}_\-]",
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
    // Printable ASCII without `"` or `\` is its own JSON string text, and what the payload
    // pre-check clears holds no code (the publisher relies on that for every payload): most
    // field values stop here, before any regex runs.
    let bare = s
        .bytes()
        .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\');
    if bare && plainly_clean(s.as_bytes()) {
        return false;
    }
    full_scan(s)
}

/// [`leaks`] without the pre-check.
fn full_scan(s: &str) -> bool {
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
/// the full scan could act on ([`noise`](crate::noise) says what that means).
pub fn base64_runs_are_noise(bytes: &[u8]) -> bool {
    noise::base64_runs(bytes).all(known_noise)
}

/// [`noise::run_is_noise`], with the runs already found to be noise remembered per thread
/// (bounded), as keys and common values repeat in every event. The set hashes with foldhash
/// under a per-process random seed: cheaper than SipHash for these short keys, and still not
/// a hash a sender can aim collisions at.
pub(crate) fn known_noise(run: &[u8]) -> bool {
    type Known = std::collections::HashSet<Box<[u8]>, foldhash::fast::RandomState>;
    thread_local! {
        static KNOWN: std::cell::RefCell<Known> = std::cell::RefCell::new(Known::default());
    }
    const KNOWN_MAX: usize = 4096;
    if KNOWN.with(|k| k.borrow().contains(run)) {
        return true;
    }
    // Digits are no base64 of text (every third decoded byte is >= 0xD0), but they are hex.
    let noise = match run.iter().all(u8::is_ascii_digit) {
        true => codecs::hex_decodings(run).all(|(_, d)| noise::is_noise(&d)),
        false => noise::run_is_noise(run),
    };
    if noise {
        KNOWN.with(|k| {
            let mut k = k.borrow_mut();
            if k.len() >= KNOWN_MAX {
                k.clear();
            }
            k.insert(run.into());
        });
    }
    noise
}

#[cfg(test)]
#[path = "scan_tests.rs"]
pub(crate) mod tests;
