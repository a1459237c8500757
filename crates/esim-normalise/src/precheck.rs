//! The payload pre-check: can these bytes plainly hold no activation-code material, decided in
//! one pass without parsing them? Every event payload takes it before it leaves, so it is
//! written for speed; what it cannot clear goes to the full scan ([`crate::redact::find_leak`]
//! on the parsed document), so a "no" costs time, never safety.

use std::sync::LazyLock;

use super::noise::known_noise;
use super::noise::MIN_RUN;

/// True if `payload` cannot hold activation-code material: ASCII without control characters
/// other than tab and form feed (the scan's squeezed reading removes them, joining what they
/// split), `\\`, `%`, `&`, `$`, `=` (quoted-printable) or `~` (ascii85); no `lpa` and no secret key name (case, `_`, `-` and whitespace ignored);
/// and every base64 run decodes to noise, also where whitespace is taken out (base64 decoders
/// that skip it would join the runs on either side). A bridge event usually passes: its
/// strings are plain words and numbers.
///
/// One pass over the bytes: each is refused, folded for the key-name check, and counted into
/// the base64 run it belongs to, read both with whitespace as a separator and with whitespace
/// taken out; a run is checked as soon as it ends.
pub fn plainly_clean(payload: &[u8]) -> bool {
    /// `lpa` or a secret key name, on text folded to lower case without `_`, `-`, whitespace.
    // Cannot fail: a literal pattern, compiled by the tests.
    static NEEDLES: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"lpa|activationcode|qrcode|smdpaddress|matchingid")
            .expect("static regex")
    });
    let mut folded = Vec::with_capacity(payload.len());
    let mut runs = Runs::default();
    for (i, &b) in payload.iter().enumerate() {
        let class = CLASS[usize::from(b)];
        if class & REFUSE != 0 {
            return false;
        }
        if class & (SPACE | FOLDED_OUT) == 0 {
            folded.push(b.to_ascii_lowercase());
        }
        if !runs.step(payload, i, class) {
            return false;
        }
    }
    runs.end(payload, payload.len()) && !NEEDLES.is_match(&folded)
}

/// The base64 runs being read: `raw` ends at any other byte, whitespace included; `joined`
/// skips whitespace (as a decoder that ignores it would) and ends at any other byte.
#[derive(Default)]
struct Runs {
    /// Start and length of the current whitespace-separated run.
    raw_start: usize,
    raw_len: usize,
    /// Start (a byte index into the payload) and base64 length of the current joined run.
    joined_start: usize,
    joined_len: usize,
    /// Whitespace seen since the joined run's last base64 byte.
    pending_space: bool,
    /// The joined run crosses whitespace (between two of its base64 bytes).
    spans_space: bool,
}

impl Runs {
    /// Takes byte `i` (of class `class`); false once a run that ended is not noise.
    fn step(&mut self, payload: &[u8], i: usize, class: u8) -> bool {
        if class & BASE64 != 0 {
            if self.raw_len == 0 {
                self.raw_start = i;
            }
            self.raw_len += 1;
            if self.joined_len == 0 {
                self.joined_start = i;
            } else if self.pending_space {
                self.spans_space = true;
            }
            self.pending_space = false;
            self.joined_len += 1;
            return true;
        }
        let raw_ok = self.end_raw(payload, i);
        if class & SPACE != 0 {
            self.pending_space |= self.joined_len > 0;
            return raw_ok;
        }
        raw_ok && self.end_joined(payload, i)
    }

    /// Ends both runs at byte index `end` (the end of the payload).
    fn end(&mut self, payload: &[u8], end: usize) -> bool {
        self.end_raw(payload, end) && self.end_joined(payload, end)
    }

    fn end_raw(&mut self, payload: &[u8], end: usize) -> bool {
        let len = std::mem::take(&mut self.raw_len);
        len < MIN_RUN || known_noise(&payload[self.raw_start..end])
    }

    /// A joined run is checked only if it crosses whitespace: otherwise it is one raw run,
    /// already checked.
    fn end_joined(&mut self, payload: &[u8], end: usize) -> bool {
        let (len, spans) = (self.joined_len, self.spans_space);
        (self.joined_len, self.pending_space, self.spans_space) = (0, false, false);
        if len < MIN_RUN || !spans {
            return true;
        }
        let joined: Vec<u8> = payload[self.joined_start..end]
            .iter()
            .copied()
            .filter(|&b| CLASS[usize::from(b)] & SPACE == 0)
            .collect();
        known_noise(&joined)
    }
}

/// Byte classes: a byte that sends the payload to the full scan (non-ASCII, `\\`, `%`, `&`,
/// `$`, `=`, `~`, control characters other than tab and form feed), whitespace (ASCII, as `is_ascii_whitespace`), the separators the folding
/// drops (`_`, `-`), and the base64 and base64url alphabets (padding aside).
const REFUSE: u8 = 1;
const SPACE: u8 = 2;
const FOLDED_OUT: u8 = 4;
const BASE64: u8 = 8;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'\\' | b'%' | b'&' | b'$' | b'=' | b'~' => REFUSE,
            _ if !c.is_ascii() => REFUSE,
            b'\t' | b' ' | 0x0c => SPACE,
            _ if c.is_ascii_control() => REFUSE,
            b'_' | b'-' => FOLDED_OUT | BASE64,
            b'+' | b'/' => BASE64,
            _ if c.is_ascii_alphanumeric() => BASE64,
            _ => 0,
        };
        b += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_classes_agree_with_the_base64_alphabet() {
        for b in 0..=255u8 {
            let class = CLASS[usize::from(b)];
            assert_eq!(class & BASE64 != 0, crate::noise::is_base64(b), "{b:#x}");
            assert_eq!(
                class & SPACE != 0,
                b.is_ascii_whitespace() && !matches!(b, b'\n' | b'\r'),
                "{b:#x}"
            );
        }
    }
}
