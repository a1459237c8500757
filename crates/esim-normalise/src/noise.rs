//! Is a base64 run noise to the activation-code scan? Decided on the bytes, without building
//! strings, with the same answer as the rule the scan states (kept as the reference in this
//! module's tests, which compare the two on random and adversarial input).
//!
//! A run is noise when none of its decodings (each of the four alignments, standard and URL
//! alphabet; and the hex and base32 decodings of its hex and base32 pieces, every alignment,
//! [`crate::codecs`]) gives the full scan ([`crate::scan::leaks`]) anything to act on. One
//! decoding is noise when:
//! - it is text (UTF-8 without control characters other than tab and line breaks): plain ASCII
//!   without `$`, `:`, `%`, `&`, `\`, `=` or `~`, without 5 base64 characters in a row once whitespace
//!   and control characters are removed (a piece that could join a neighbouring run), and
//!   without the letters `lpa` in any case once those are removed (the scan puts a text
//!   decoding back in place of its run, so a `:` after the run would complete `LPA:`);
//! - it is binary: its canonical form (NFKC, lossy UTF-8) holds no code as it stands, and every
//!   stretch of at least 8 characters between control and replacement characters is such text.
//!
//! This runs for every unique token of every event (event ids, references, timestamps), so it
//! decodes into one reused buffer and only builds the lossy text in the rare case where a `:` or
//! `$` could appear in it.

use base64::{DecodeSliceError, Engine};
use unicode_normalization::char::decompose_compatible;

use super::codecs;
use super::pattern::matches;
use super::text::{canonical, is_text, ENGINES, MIN_STRETCH};

/// Base64 characters in a row (whitespace ignored) that could join a neighbouring run.
const JOINABLE: usize = 5;

/// Shortest run that could be base64 of a code (`1$a$` encoded).
pub const MIN_RUN: usize = 8;

/// A byte of the base64 and base64url alphabets (padding aside).
pub fn is_base64(b: u8) -> bool {
    BASE64[usize::from(b)]
}

/// [`is_base64`] as a table: it runs for every byte of every payload.
static BASE64: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'_' | b'-');
        b += 1;
    }
    t
};

/// The maximal runs of at least [`MIN_RUN`] base64 bytes in `bytes`.
pub fn base64_runs(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| !is_base64(*b))
        .filter(|run| run.len() >= MIN_RUN)
}

/// True if every decoding of `run` (base64 bytes) is noise.
pub fn run_is_noise(run: &[u8]) -> bool {
    base64_is_noise(run) && codecs::sub_run_decodings(run, is_noise)
}

/// True if every base64 decoding of `run` is noise, the decodings of its single-alphabet
/// pieces included (a run mixing both alphabets decodes in neither as a whole).
fn base64_is_noise(run: &[u8]) -> bool {
    let mut buf = Vec::with_capacity(run.len() / 4 * 3 + 3);
    (0..4).all(|offset| {
        let mut seg = run.get(offset..).unwrap_or_default();
        if seg.len() % 4 == 1 {
            seg = &seg[..seg.len() - 1];
        }
        if seg.len() < 4 {
            return true;
        }
        // As `decode::decodings` reads this segment: its single-alphabet pieces too.
        let pieces = crate::alphabet::single_alphabet_pieces(seg);
        if !pieces.into_iter().all(base64_is_noise) {
            return false;
        }
        ENGINES.iter().all(|engine| {
            buf.clear();
            buf.resize(seg.len() / 4 * 3 + 3, 0);
            match engine.decode_slice(seg, &mut buf) {
                Ok(n) => is_noise(&buf[..n]),
                // Not valid in this alphabet: nothing to scan.
                Err(DecodeSliceError::DecodeError(_)) => true,
                Err(DecodeSliceError::OutputSliceTooSmall) => false,
            }
        })
    })
}

/// True if one decoding gives the full scan nothing to act on.
pub fn is_noise(decoded: &[u8]) -> bool {
    match std::str::from_utf8(decoded) {
        Ok(t) if is_text(t) => plain_noise(t.as_bytes()),
        _ => binary_noise(decoded),
    }
}

/// Plain ASCII without `$ : % & \ = ~`, without a joinable run and without `lpa`.
fn plain_noise(t: &[u8]) -> bool {
    t.is_ascii()
        && !t
            .iter()
            .any(|b| matches!(b, b'$' | b':' | b'%' | b'&' | b'\\' | b'=' | b'~'))
        && !joinable(t)
        && !spells_lpa(t)
}

/// `lpa` in any case, skipping what `squeezed` removes.
fn spells_lpa(t: &[u8]) -> bool {
    let mut matched = 0;
    for b in t.iter().copied().filter(|&b| !squeezed_out(b)) {
        matched = match (matched, b.to_ascii_lowercase()) {
            (_, b'l') => 1,
            (1, b'p') => 2,
            (2, b'a') => return true,
            _ => 0,
        };
    }
    false
}

/// What `squeezed` removes from ASCII: whitespace and control characters (everything up to
/// the space, and DEL).
fn squeezed_out(b: u8) -> bool {
    b <= b' ' || b == 0x7f
}

/// [`JOINABLE`] base64 bytes in a row, skipping what `squeezed` removes.
fn joinable(t: &[u8]) -> bool {
    let mut run = 0;
    for b in t.iter().copied().filter(|&b| !squeezed_out(b)) {
        run = if is_base64(b) { run + 1 } else { 0 };
        if run >= JOINABLE {
            return true;
        }
    }
    false
}

/// Binary: no code in the canonical lossy text, and every long stretch is plain noise.
fn binary_noise(decoded: &[u8]) -> bool {
    let mut has_syntax = false;
    for chunk in decoded.utf8_chunks() {
        // Invalid bytes become replacement characters: they end a stretch, as do these.
        let splits = |c: char| c.is_control() || c == char::REPLACEMENT_CHARACTER;
        for stretch in chunk.valid().split(splits) {
            has_syntax |= stretch.chars().any(folds_to_code_syntax);
            if stretch.chars().count() >= MIN_STRETCH && !plain_noise(stretch.as_bytes()) {
                return false;
            }
        }
    }
    // Only text that could hold a code is built and scanned: a `:` or `$` first (cheap, and
    // rare), then what the code patterns need.
    !has_syntax
        || !Syntax::of(decoded).may_match()
        || !matches(&canonical(&String::from_utf8_lossy(decoded)))
}

/// True if `c`'s compatibility decomposition has a `:` or `$` (NFKC composes nothing into
/// either, so the canonical text has one only if some character decomposes to it).
fn folds_to_code_syntax(c: char) -> bool {
    if c.is_ascii() {
        return c == ':' || c == '$';
    }
    let mut found = false;
    decompose_compatible(c, |d| found |= d == ':' || d == '$');
    found
}

/// What the canonical text could spell, counted over the characters' compatibility
/// decompositions (NFKC composes nothing into these ASCII characters, so the canonical text
/// has one only where some character decomposes to it). Both code patterns of
/// [`super::scan`] need two `$` (a bare code) or a `:` after the letters `lpa` in any case.
#[derive(Default)]
struct Syntax {
    dollars: usize,
    colon: bool,
    /// `l`, `p`, `a` seen, in either case.
    letters: [bool; 3],
}

impl Syntax {
    /// Counted over the valid characters of `decoded` (invalid bytes add nothing).
    fn of(decoded: &[u8]) -> Self {
        let mut syntax = Self::default();
        for chunk in decoded.utf8_chunks() {
            chunk.valid().chars().for_each(|c| syntax.add(c));
        }
        syntax
    }

    fn add(&mut self, c: char) {
        if c.is_ascii() {
            self.add_ascii(c);
        } else {
            decompose_compatible(c, |d| self.add_ascii(d));
        }
    }

    fn add_ascii(&mut self, c: char) {
        match c.to_ascii_lowercase() {
            '$' => self.dollars += 1,
            ':' => self.colon = true,
            'l' => self.letters[0] = true,
            'p' => self.letters[1] = true,
            'a' => self.letters[2] = true,
            _ => {}
        }
    }

    fn may_match(&self) -> bool {
        self.dollars >= 2 || (self.colon && self.letters.iter().all(|&seen| seen))
    }
}

/// [`run_is_noise`], with the runs already found to be noise remembered per thread
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
        true => codecs::hex_decodings(run).all(|(_, d)| is_noise(&d)),
        false => run_is_noise(run),
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
#[path = "noise_tests.rs"]
mod tests;
