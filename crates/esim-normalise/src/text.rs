//! Text primitives the activation-code scan is built on, below everything else of it: the
//! canonical form of a text ([`canonical`]: NFKC, invisible characters removed), the form
//! without whitespace ([`squeezed`]), what counts as text (`is_text`, `MIN_STRETCH`) and the
//! lenient base64 decoders (`ENGINES`).

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Characters that render as nothing (or only modify their neighbour).
static INVISIBLE: LazyLock<Regex> = LazyLock::new(|| {
    // A literal pattern covered by the tests, so it always compiles.
    Regex::new(r"[\p{Cf}\p{Mn}\p{Me}\x{115F}\x{1160}\x{3164}\x{FFA0}\x{2800}]").expect("static")
});
// Cannot fail: a literal pattern, compiled by every decode and scan test.
static SPACE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\s\p{Z}\p{Cc}]+").expect("static regex"));
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
pub(crate) const ENGINES: [GeneralPurpose; 2] = [
    GeneralPurpose::new(&alphabet::STANDARD, LENIENT),
    GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT),
];

/// NFKC with invisible characters removed (ASCII text is already canonical).
pub fn canonical(s: &str) -> Cow<'_, str> {
    if s.chars()
        .all(|c| c.is_ascii() || c == char::REPLACEMENT_CHARACTER)
    {
        return Cow::Borrowed(s);
    }
    let folded: String = s.nfkc().collect();
    match INVISIBLE.replace_all(&folded, "") {
        Cow::Borrowed(_) => Cow::Owned(folded),
        Cow::Owned(clean) => Cow::Owned(clean),
    }
}

/// `s` without whitespace, separators or control characters.
pub fn squeezed(s: &str) -> Cow<'_, str> {
    SPACE.replace_all(s, "")
}

/// Shortest stretch of text inside binary that is decoded further: the shortest encoding of
/// the shortest code (`1$a$` in base64 or percent-encoding) has 8 characters.
pub(crate) const MIN_STRETCH: usize = 8;

/// Printable text: no control characters other than whitespace.
pub(crate) fn is_text(t: &str) -> bool {
    t.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}
