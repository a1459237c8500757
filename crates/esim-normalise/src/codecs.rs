//! The binary-to-text encodings besides base64 that an activation code could be wrapped in
//! (issue 16, row 12): hex and base32 (runs of their alphabets, decoded with `data-encoding`
//! at every alignment), quoted-printable (`=24` for `$`, `=` line breaks) and Adobe ascii85
//! (`<~...~>`).
//!
//! Hex and base32 alphabets are subsets of the base64 alphabet, so their runs sit inside the
//! base64 runs the fast paths already look at: [`sub_run_decodings`] gives what a base64 run's
//! hex and base32 pieces decode to, for [`crate::noise`] to judge. Quoted-printable and
//! ascii85 need `=` and `<~`, which the fast paths send to the full scan.
//!
//! Quoted-printable and ascii85 are decoded here by hand: each is a few lines of arithmetic
//! with no option worth a dependency, and the decoders must be lenient (a hostile sender does
//! not follow RFC 2045's line lengths), which the crates for them are not.
//!
//! Not covered: ascii85 without its `<~ ~>` frame (and other base85 alphabets). Every run of 5
//! printable characters decodes to 4 bytes in them, so reading all text that way would cost
//! a decoding per word on every event and find "codes" in ordinary text.

use std::sync::LazyLock;

use data_encoding::{Encoding, Specification, HEXLOWER_PERMISSIVE};

/// Shortest hex or base32 run decoded: `1$a$X`, the shortest code with an id, is 10 hex or 8
/// base32 characters.
pub const MIN_RUN: usize = 8;

/// RFC 4648 base32 in either case, unpadded, trailing bits ignored.
static BASE32: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.translate.from.push_str("abcdefghijklmnopqrstuvwxyz");
    spec.translate.to.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    spec.check_trailing_bits = false;
    // A constant, valid specification (the tests decode with it).
    spec.encoding().expect("static base32 specification")
});

/// A byte of the hex alphabet.
pub fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// A byte of the base32 alphabet, in either case.
pub fn is_base32(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'2'..=b'7')
}

/// `run` (hex) decoded at both alignments, with the offset each starts at.
pub fn hex_decodings(run: &[u8]) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..2).filter_map(move |offset| {
        let seg = run.get(offset..)?;
        let seg = &seg[..seg.len() & !1];
        let decoded = (seg.len() >= MIN_RUN).then(|| HEXLOWER_PERMISSIVE.decode(seg).ok());
        Some((offset, decoded.flatten()?))
    })
}

/// `run` (base32, padding removed) decoded at each of the eight alignments, with the offset
/// each starts at.
pub fn base32_decodings(run: &[u8]) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..8).filter_map(move |offset| {
        let seg = run.get(offset..)?;
        // Unpadded base32 ends after 0, 2, 4, 5 or 7 characters of a quantum.
        let len = (0..=seg.len())
            .rev()
            .find(|n| matches!(n % 8, 0 | 2 | 4 | 5 | 7))?;
        let seg = &seg[..len];
        let decoded = (seg.len() >= MIN_RUN).then(|| BASE32.decode(seg).ok());
        Some((offset, decoded.flatten()?))
    })
}

/// Every hex and base32 decoding of the maximal hex and base32 pieces (at least [`MIN_RUN`])
/// of `bytes`; false at the first one `ok` refuses.
pub fn sub_run_decodings(bytes: &[u8], mut ok: impl FnMut(&[u8]) -> bool) -> bool {
    let pieces = |class: fn(u8) -> bool| {
        bytes
            .split(move |b| !class(*b))
            .filter(|p| p.len() >= MIN_RUN)
    };
    pieces(is_hex).all(|p| hex_decodings(p).all(|(_, d)| ok(&d)))
        && pieces(is_base32).all(|p| base32_decodings(p).all(|(_, d)| ok(&d)))
}

/// Quoted-printable decoded leniently: `=XX` (either case) is that byte, `=` before a line
/// break is nothing, any other `=` stays; `None` if nothing was decoded.
pub fn quoted_printable(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        let hex = |at: usize| b.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'=', Some(hi), Some(lo)) => {
                // Two hex digits: at most 0xFF.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                (i, changed) = (i + 3, true);
            }
            (b'=', _, _) if b.get(i + 1) == Some(&b'\n') => (i, changed) = (i + 2, true),
            (b'=', _, _) if b.get(i + 1..i + 3) == Some(b"\r\n") => (i, changed) = (i + 3, true),
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// The `<~...~>` blocks of `s`, each decoded as Adobe ascii85 (whitespace ignored, `z` for
/// four zero bytes, a short last group padded); a block with a byte outside the alphabet ends
/// where it is; an empty one is left out.
///
/// Every `<~` starts a block, also one inside another block's body, so text before a code
/// cannot open a broken block that swallows the code's own start. A body ends at its first
/// `~` (outside the alphabet): the frame's `~>`, or the `~` of a next `<~`. `<~>` is both, the
/// start of a block whose body begins with `>` and the end of a body whose last byte is `<`,
/// so both readings are taken (fuzz findings, 2026-12-06). Each `~` ends at most one body, so
/// the text is read in one pass whatever it holds.
pub fn ascii85_blocks(s: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut keep = |body: &str| {
        let decoded = ascii85(body);
        if !decoded.is_empty() {
            out.push(decoded);
        }
    };
    let mut pos = 0;
    while let Some(found) = s[pos..].find("<~") {
        let body = pos + found + 2;
        let end = s[body..].find('~').map_or(s.len(), |at| body + at);
        keep(&s[body..end]);
        // The `<` of a next `<~` just before the `~` that ends this body: read the body
        // without it too, and look for the next start from it.
        let next_starts_at_lt = end > body && s.as_bytes()[end - 1] == b'<';
        if next_starts_at_lt {
            keep(&s[body..end - 1]);
        }
        pos = if next_starts_at_lt { end - 1 } else { end };
    }
    out
}

/// One ascii85 body decoded.
fn ascii85(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 5 * 4 + 4);
    let mut group = [0u8; 5];
    let mut n = 0;
    let flush = |group: &[u8; 5], n: usize, out: &mut Vec<u8>| {
        let mut padded = *group;
        padded[n..].fill(84);
        let value = padded.iter().fold(0u64, |acc, &d| acc * 85 + u64::from(d));
        // Five base-85 digits are below 85^5 < 2^33: the low 32 bits are the group.
        let bytes = (value as u32).to_be_bytes();
        out.extend_from_slice(&bytes[..n.saturating_sub(1)]);
    };
    for b in body.bytes().filter(|b| !b.is_ascii_whitespace()) {
        match b {
            b'z' if n == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group[n] = b - b'!';
                n += 1;
                if n == 5 {
                    flush(&group, 5, &mut out);
                    n = 0;
                }
            }
            _ => break,
        }
    }
    if n > 1 {
        flush(&group, n, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // Vectors from outside the crate: RFC 4648 section 10 and Python's
        // `base64.a85encode(b"1$h$ID", adobe=True)` / `quopri.encodestring`.
        assert_eq!(BASE32.decode(b"MZXW6YQ").unwrap(), b"foob");
        assert_eq!(BASE32.decode(b"mzxw6ytb").unwrap(), b"fooba");
        assert!(base32_decodings(b"MZXW6YTBOI").any(|(_, d)| d == b"foobar"));
        assert!(hex_decodings(b"x312468244944").any(|(at, d)| at == 1 && d == b"1$h$ID"));
        assert_eq!(ascii85_blocks("a <~0dLEX8ON~> b"), [b"1$h$ID".to_vec()]);
        assert_eq!(
            quoted_printable("1=24h=\r\n=24ID =3d").as_deref(),
            Some(&b"1$h$ID ="[..])
        );
        assert_eq!(quoted_printable("a = b"), None);
    }

    #[test]
    fn a_frame_start_inside_a_broken_block_starts_a_block_of_its_own() {
        // Fuzz finding (redaction_encodings, 2026-12-06): text placed before the code opened
        // a block (`<~` then a byte outside the alphabet) that reached to the code's own `~>`,
        // so the code's `<~` was never read as a start.
        let blocks = ascii85_blocks("<~4FT@]:F9C\u{FFFD}$N=73u+<~0dLEX8ON~>");
        assert!(blocks.contains(&b"1$h$ID".to_vec()), "{blocks:?}");
        let blocks = ascii85_blocks("<~<~<~0dLEX8ON~>");
        assert!(blocks.contains(&b"1$h$ID".to_vec()), "{blocks:?}");
        // Many starts and no end, read in one pass (a quadratic reading of a 1 MiB body would
        // not finish); empty blocks decode to nothing.
        let many = "<~".repeat(1 << 19) + "<~0dLEX8ON";
        assert_eq!(ascii85_blocks(&many), [b"1$h$ID".to_vec()]);
    }

    #[test]
    fn a_frame_start_whose_tilde_could_end_the_block_before_still_starts_one() {
        // Fuzz finding (redaction_encodings, 2026-12-06, second): a code's ascii85 that begins
        // with `>` makes its frame `<~>...`; the broken block before it took that `~>` as its
        // own end, and the code's block was never read. Both readings of `<~>` now count.
        // `[1$h$ID` is `>;7C:,Y:B` (Python's a85encode).
        for text in [
            "<~4FT@]:F9C\u{FF7D}$N=73u+e9<~>;7C:,Y:B~>",
            "x<~>;7C:,Y:B~>",
            "<~<~>;7C:,Y:B~>",
            "<~abc<~>;7C:,Y:B",
        ] {
            let blocks = ascii85_blocks(text);
            assert!(blocks.contains(&b"[1$h$ID".to_vec()), "{text}: {blocks:?}");
        }
        // And a body whose last byte is `<` before its `~>` is still read whole.
        assert!(ascii85_blocks("<~0dLEX8ON<~>").contains(&b"1$h$ID".to_vec()));
        let many = "<~>".repeat(1 << 18) + "<~0dLEX8ON";
        assert!(ascii85_blocks(&many).contains(&b"1$h$ID".to_vec()));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for s in [
            "<~",
            "<~~>",
            "<~z~>",
            "<~uuuuu~>",
            "<~!~>",
            "<~\u{e9}~>",
            "=",
            "=F",
            "=\r",
        ] {
            let _ = ascii85_blocks(s);
            let _ = quoted_printable(s);
        }
    }
}
