//! What an activation code looks like in canonical text: `LPA:`, a bare `<digit>$<host>$`, or
//! `$<host>$<id>` ([`matches`]). The one pattern the scan, the noise rule and the redactor share.
//!
//! The shapes are as narrow as a real code allows, because every decoding of every value is
//! held against them and random bytes take a loose shape now and then (before, `Starter eSIM
//! Japan` read `$I$1` at one base32 alignment and `3$I$3` at another, and the field was
//! dropped):
//! - `LPA:` in any case, spaces allowed before the colon;
//! - `<digit>$<host>$`, with or without a matching id after it;
//! - `$<host>$<id>` without the digit (an escape can swallow it: `%01$…`, issue 21), with a
//!   matching id of at least 4 characters (real ids are tokens of 10 or more).
//!
//! The host holds a letter and at least 4 characters: an SM-DP+ address is a domain name
//! (SGP.22), `a.io` at the shortest, a `:port` counted. The fuzz oracle (`esim-testkit`) calls
//! a code no less than this, so nothing it counts as a leak is let through.

use std::sync::LazyLock;

use regex::Regex;

use super::text::squeezed;

/// A character of a host (a `:port` included).
const H: &str = r"[\p{L}\p{N}.\-:_]";
/// A character of a matching id.
const ID: &str = r"[\p{L}\p{N}_\-]";

/// A host with a letter, of at least 4 characters (the letter first, second, third, or later).
fn long_host() -> String {
    format!(r"(?:\p{{L}}{H}{{3,}}|{H}\p{{L}}{H}{{2,}}|{H}{{2}}\p{{L}}{H}+|{H}{{3,}}\p{{L}}{H}*)")
}

static CODE: LazyLock<Regex> = LazyLock::new(|| {
    let long = long_host();
    // Built from the literal pieces above, compiled by every scan test, so it always compiles.
    Regex::new(&format!(
        r"(?i)lpa\s*:|\p{{Nd}}\${long}\$|\${long}\${ID}{{4}}"
    ))
    .expect("static regex")
});
/// A dotted host (`a.b`, a `:port` allowed), the only kind the squeezed form accepts.
const DOTTED: &str = r"[\p{L}\p{N}\-_]+(?:\.[\p{L}\p{N}\-_]+)+(?::\p{Nd}+)?";
// Cannot fail: built from literal pieces, compiled by every scan test.
/// On text without whitespace: `LPA:` not inside a word, or a code with a dotted host, with
/// its digit or followed by an id of 4 or more (whitespace removed, `2$ extra $` must not
/// become a code).
static SQUEEZED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:^|[^\p{{L}}])lpa:|\p{{Nd}}\${DOTTED}\$|\${DOTTED}\${ID}{{4}}"
    ))
    .expect("static regex")
});

/// True if canonical text `c` holds a code as it stands. Both patterns need a literal `:` or
/// `$`, so text without either is skipped without running them.
pub(crate) fn matches(c: &str) -> bool {
    c.contains([':', '$']) && (CODE.is_match(c) || SQUEEZED_CODE.is_match(&squeezed(c)))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn codes_of_every_shape_match() {
        for c in [
            "LPA:1$rsp.provider.io$MATCHING",
            "lpa :",
            "1$a.io$I",
            "1$host:8443$ID",
            "REF_1$host$ID",
            "1$a.io$",
            "1$smdp$",
            "x$rsp.provider.io$ABCD",
            "\u{1}$a.io$ABCD",
            "1$ rsp.provider.io $",
            "$ rsp.provider.io $ MIDA",
        ] {
            assert!(matches(c), "{c}");
        }
    }

    #[test]
    fn short_shapes_random_bytes_take_do_not() {
        // The readings of ordinary product names that were dropped (ordinary_tests.rs), and
        // the shapes one character short of a code.
        for c in [
            "Start$I$1 x",
            "Aaa#$1.A$5",
            "Aaaa0$3\u{19d}$",
            "x$host$ABC",
            "1$abc$",
            "1$h$ID",
            "Start$P-$1GB100%data",
            "x\u{1b})\u{fffd}3$I$3",
            "2$ extra $",
            "8$888$8",
        ] {
            assert!(!matches(c), "{c}");
        }
    }
}
