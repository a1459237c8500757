//! Undoing what an activation code could be wrapped in, one layer at a time, so the scan sees
//! what a consumer (a browser, a URL or JSON decoder, a base64 decoder, a font) would show.
//!
//! - [`canonical`](super::text::canonical) (in `text`): Unicode compatibility forms folded
//!   (NFKC: full-width `ＬＰＡ：１＄` becomes `LPA:1$`) and invisible characters removed
//!   (zero-width, joiners, bidi controls, soft hyphen, combining marks, fillers);
//!   [`squeezed`](super::text::squeezed): without any whitespace (`L P A : 1 $ …`).
//! - [`layers`]: every text one decoding step further: percent-decoding, HTML character
//!   references (named, decimal, hex, with or without `;`), JSON/JavaScript escapes
//!   (`\u004c`, `\u{4c}`, `\x4c`), base64/base64url segments (standard or URL alphabet,
//!   padded or not, at each of the four alignments), hex and base32 segments (every
//!   alignment), all both in place and on their own, and quoted-printable and ascii85
//!   ([`super::codecs`]).
//!
//! Every decoding step shrinks the text, so repeated application ends; [`super::scan`] bounds
//! the total work and treats running out of it as a hit.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;

use super::alphabet::single_alphabet_pieces;
use super::codecs;
use super::noise::known_noise;
use super::text::{is_text, ENGINES, MIN_STRETCH};

// The `expect`s below cannot fail: literal patterns, compiled by every scan and decode test.
/// A numeric character reference whose `;` may be missing (browsers decode it anyway).
static NUMERIC_REF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&#([xX][0-9a-fA-F]{1,6}|[0-9]{1,7});?").expect("static regex"));
static ESCAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\\(?:u\{([0-9a-fA-F]{1,6})\}|[uU]([0-9a-fA-F]{4})|[xX]([0-9a-fA-F]{2})|([\\/"'$:]))"#,
    )
    .expect("static regex")
});
/// A run that could be base64 or base64url (at least 8 characters: `1$a$` encoded).
static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_\-]{8,}").expect("static regex"));
/// Runs that could be hex or base32 ([`codecs::MIN_RUN`] characters at least).
static HEX_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9A-Fa-f]{8,}").expect("static regex"));
static BASE32_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z2-7]{8,}").expect("static regex"));

/// True if `s` is ASCII without `%`, `&`, `\`, `=` (quoted-printable) or `~` (ascii85):
/// nothing but base64, hex and base32 runs can be decoded in it.
pub fn is_plain(s: &str) -> bool {
    s.is_ascii() && !s.contains(['%', '&', '\\', '=', '~'])
}

/// True if nothing in `s` can be decoded or folded: [`is_plain`] and without a run that could
/// be base64, hex or base32, but digits whose hex decodings are noise.
pub fn is_inert(s: &str) -> bool {
    is_plain(s)
        && !BASE64_RUN.find_iter(s).any(|run| {
            let run = run.as_str().as_bytes();
            !run.iter().all(u8::is_ascii_digit) || !known_noise(run)
        })
}

/// One decoding step further.
#[derive(Debug, PartialEq, Eq)]
pub enum Layer {
    /// Text to canonicalise, scan and decode further.
    Text(String),
    /// Bytes that are not text (base64 of binary): scanned as they are, not decoded further.
    Opaque(String),
}

/// Every text one decoding step away from `s` (which should be [`canonical`](crate::text::canonical)).
pub fn layers(s: &str) -> Vec<Layer> {
    let mut out = Vec::new();
    let mut text = |t: Cow<'_, str>| {
        if let Cow::Owned(t) = t {
            if t != s {
                out.push(Layer::Text(t));
            }
        }
    };
    if s.contains('%') {
        text(percent_encoding::percent_decode_str(s).decode_utf8_lossy());
    }
    if s.contains('&') {
        text(html(s));
        // A digit right after an unterminated `&#7` is read into the reference by a browser
        // (`&#71` is `G`), which can eat the `1` of `1$host$id`; the reading that only takes
        // terminated references keeps it (found by the redaction_encodings fuzz target).
        text(html_escape::decode_html_entities(s));
    }
    if s.contains('\\') {
        text(escapes(s));
    }
    if s.contains('=') {
        if let Some(decoded) = codecs::quoted_printable(s) {
            decoded_layer(decoded, &mut out);
        }
    }
    if s.contains("<~") {
        for block in codecs::ascii85_blocks(s) {
            decoded_layer(block, &mut out);
        }
    }
    run_layers(s, &BASE64_RUN, base64_decodings, &mut out);
    run_layers(
        s,
        &HEX_RUN,
        |seg| codecs::hex_decodings(seg).collect(),
        &mut out,
    );
    run_layers(
        s,
        &BASE32_RUN,
        |seg| codecs::base32_decodings(seg).collect(),
        &mut out,
    );
    out
}

fn html(s: &str) -> Cow<'_, str> {
    let terminated = NUMERIC_REF.replace_all(s, "&#$1;");
    match html_escape::decode_html_entities(&terminated) {
        Cow::Borrowed(_) if matches!(terminated, Cow::Borrowed(_)) => Cow::Borrowed(s),
        decoded => Cow::Owned(decoded.into_owned()),
    }
}

fn escapes(s: &str) -> Cow<'_, str> {
    ESCAPE.replace_all(s, |c: &regex::Captures<'_>| {
        let hex = c.get(1).or(c.get(2)).or(c.get(3));
        match hex {
            Some(h) => u32::from_str_radix(h.as_str(), 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}')
                .to_string(),
            None => c.get(4).map_or("", |m| m.as_str()).to_owned(),
        }
    })
}

/// A base64 segment's decodings at each alignment (none for all digits: they cannot encode
/// four consecutive ASCII bytes, every third decoded byte is >= 0xD0).
fn base64_decodings(seg: &[u8]) -> Vec<(usize, Vec<u8>)> {
    if seg.iter().all(u8::is_ascii_digit) {
        return Vec::new();
    }
    // `seg` is a match of an ASCII pattern: any offset is a character boundary.
    let seg = std::str::from_utf8(seg).unwrap_or_default();
    (0..4)
        .flat_map(|offset| {
            decodings(&seg[offset.min(seg.len())..])
                .into_iter()
                .map(move |d| (offset, d))
        })
        .collect()
}

/// Segments matching `runs` decoded: each decoding on its own (text or opaque), and the first
/// text one of every segment in place.
fn run_layers(
    s: &str,
    runs: &Regex,
    decode: impl Fn(&[u8]) -> Vec<(usize, Vec<u8>)>,
    out: &mut Vec<Layer>,
) {
    let mut in_place = String::with_capacity(s.len());
    let mut last = 0;
    let mut replaced = false;
    for run in runs.find_iter(s) {
        let mut first_text = None;
        for (offset, decoded) in decode(run.as_str().as_bytes()) {
            if let Some(t) = decoded_layer(decoded, out) {
                first_text.get_or_insert((offset, t));
            }
        }
        if let Some((offset, t)) = first_text {
            in_place.push_str(&s[last..run.start() + offset]);
            in_place.push_str(&t);
            last = run.end();
            replaced = true;
        }
    }
    if replaced {
        in_place.push_str(&s[last..]);
        out.push(Layer::Text(in_place));
    }
}

/// Pushes one decoding as a layer; returns it if it is text.
fn decoded_layer(decoded: Vec<u8>, out: &mut Vec<Layer>) -> Option<String> {
    match String::from_utf8(decoded) {
        Ok(t) if is_text(&t) => {
            out.push(Layer::Text(t.clone()));
            Some(t)
        }
        Ok(t) => {
            opaque(t, out);
            None
        }
        Err(e) => {
            opaque(String::from_utf8_lossy(e.as_bytes()).into_owned(), out);
            None
        }
    }
}

/// Bytes that are not text as a whole, scanned as they are, plus every stretch of text inside
/// them decoded further: base64 of a binary prefix glued to an encoded code decodes to junk
/// followed by that code's next layer.
fn opaque(t: String, out: &mut Vec<Layer>) {
    for stretch in text_stretches(&t) {
        out.push(Layer::Text(stretch.to_owned()));
    }
    out.push(Layer::Opaque(t));
}

/// The stretches of at least [`MIN_STRETCH`] characters between control characters and
/// replacement characters in a decoding that is not text as a whole.
pub(super) fn text_stretches(lossy: &str) -> impl Iterator<Item = &str> {
    lossy
        .split(|c: char| c.is_control() || c == char::REPLACEMENT_CHARACTER)
        .filter(|s| s.chars().count() >= MIN_STRETCH)
}

/// `seg` decoded with each alphabet (trailing characters that cannot end a quantum dropped).
pub(super) fn decodings(seg: &str) -> Vec<Vec<u8>> {
    let mut seg = seg.trim_end_matches('=');
    if seg.len() % 4 == 1 {
        seg = &seg[..seg.len() - 1];
    }
    if seg.len() < 4 {
        return Vec::new();
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for engine in &ENGINES {
        if let Ok(bytes) = engine.decode(seg) {
            if !out.contains(&bytes) {
                out.push(bytes);
            }
        }
    }
    // A run mixing both alphabets decodes in neither: its single-alphabet pieces, at every
    // alignment, are what a decoder of either alphabet would read.
    for piece in single_alphabet_pieces(seg.as_bytes()) {
        let piece = std::str::from_utf8(piece).unwrap_or_default();
        for offset in 0..4 {
            for bytes in decodings(piece.get(offset..).unwrap_or_default()) {
                if !out.contains(&bytes) {
                    out.push(bytes);
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
