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

use super::decode::{is_inert, is_plain, layers, Layer};
use super::noise;
use super::noise::known_noise;
use super::pattern::matches;
pub use super::precheck::plainly_clean;
use super::text::{canonical, squeezed};

/// Deepest chain of decodings followed.
const MAX_DEPTH: usize = 16;
/// Most texts visited for one value.
const MAX_TEXTS: usize = 512;
/// Bytes that may be visited per byte of input, plus a fixed allowance.
const BYTES_PER_INPUT_BYTE: usize = 32;
const BYTES_BASE: usize = 64 * 1024;

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
/// the full scan could act on ([`crate::noise`] says what that means).
pub fn base64_runs_are_noise(bytes: &[u8]) -> bool {
    noise::base64_runs(bytes).all(known_noise)
}

#[cfg(test)]
#[path = "scan_tests.rs"]
pub(crate) mod tests;
