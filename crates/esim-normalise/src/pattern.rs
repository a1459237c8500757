//! What an activation code looks like in canonical text: `LPA:`, a bare `<digit>$<host>$`, or
//! `$<host>$<id>` ([`matches`]). The one pattern the scan, the noise rule and the redactor share.

use std::sync::LazyLock;

use regex::Regex;

use super::text::squeezed;

/// `LPA:` (spaces allowed before the colon), a bare `<digit>$<host>$`, or `$<host>$<id>`.
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    // A literal pattern, compiled by every scan test, so it always compiles.
    Regex::new(
        r"(?i)lpa\s*:|(?:\p{Nd}\$[\p{L}\p{N}.\-:_]*\p{L}[\p{L}\p{N}.\-:_]*\$)|\$[\p{L}\p{N}.\-:_]*\p{L}[\p{L}\p{N}.\-:_]*\$[\p{L}\p{N}_\-]",
    )
    .expect("static regex")
});
// Cannot fail: a literal pattern, compiled by every scan test.
/// On text without whitespace: `LPA:` not inside a word, or a bare code with a dotted host,
/// with its digit or followed by an id (whitespace removed, `2$ extra $` must not become a
/// code).
static SQUEEZED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^\p{L}])lpa:|\p{Nd}\$[\p{L}\p{N}\-_]+(?:\.[\p{L}\p{N}\-_]+)+(?::\p{Nd}+)?\$|\$[\p{L}\p{N}\-_]+(?:\.[\p{L}\p{N}\-_]+)+(?::\p{Nd}+)?\$[\p{L}\p{N}_\-]",
    )
    .expect("static regex")
});

/// True if canonical text `c` holds a code as it stands. Both patterns need a literal `:` or
/// `$`, so text without either is skipped without running them.
pub(crate) fn matches(c: &str) -> bool {
    c.contains([':', '$']) && (CODE.is_match(c) || SQUEEZED_CODE.is_match(&squeezed(c)))
}
