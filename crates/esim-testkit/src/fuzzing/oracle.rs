//! An independent detector of activation-code material in text the bridge emits.
//!
//! Deliberately separate from [`esim_normalise::redact`] (a redactor cannot check itself): the
//! text is looked at as written and after undoing the encodings a consumer might undo —
//! percent-encoding, HTML entities, JSON `\u` escapes, full-width forms, invisible characters,
//! base64 runs (every alignment), hex, base32, quoted-printable and `<~ascii85~>` (decoders
//! of its own, [`super::oracle_codecs`]) — nested up to [`DEPTH`] layers, at least as many as
//! the `redaction_encodings` target stacks, and then matched against the two shapes of a
//! code: `LPA:<digit>$...` and `[<digit>]$<host>$<id>`.

use std::sync::LazyLock;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use regex::Regex;

use super::oracle_codecs;
use super::oracle_text::normalise;

/// A code, once decoded: `LPA:` + format digit + `$`, or `[<digit>]$<host>[:port]$<id>` (a
/// host and matching id are a code with or without the digit: an escape can swallow it,
/// issue 21). An SM-DP+ address is a domain name (SGP.22), so the host holds a letter:
/// `8$888$8` in a reference is no code (an oracle false alarm found by the webhook_http
/// target), and of at least 4 characters before any port (`a.io` at the shortest: the
/// product's scan takes no shorter host either, `esim-normalise`'s `pattern`). A matching id is
/// a token of some length, so the id holds at least four characters: a base32 reading of junk
/// that gives `$I$4` is no code (an oracle false alarm found by the replay_guard target,
/// 2026-12-06); the targets plant ids of 19.
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    // A host: a letter among at least 4 characters (first, second, third, or later).
    let h = r"(?:[a-z][a-z0-9.\-]{3,}|[a-z0-9.\-][a-z][a-z0-9.\-]{2,}|[a-z0-9.\-]{2}[a-z][a-z0-9.\-]+|[a-z0-9.\-]{3,}[a-z][a-z0-9.\-]*)";
    // Built from literal pieces, exercised by the tests below, so it always compiles.
    Regex::new(&format!(
        r"(?i)lpa\s*:\s*\d?\s*\$|\${h}(?::\d+)?\$[a-z0-9_\-]{{4}}"
    ))
    .expect("static regex")
});

// Cannot fail: a literal pattern, compiled by the tests below.
/// Runs of base64 long enough to hold a code.
static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_\-]{8,}={0,2}").expect("static regex"));

/// Text layers the `redaction_encodings` target applies at most: the oracle is deep enough
/// for them ([`DEPTH`]), so the target must not stack more.
pub const MAX_LAYERS: usize = 4;
/// Binary-to-text layers that target applies at most, outside the text layers.
pub const MAX_BINARY: usize = 2;

/// Binary-to-text layers undone in a chain (base64, hex, base32, quoted-printable, ascii85):
/// at least the layers the `redaction_encodings` target stacks.
pub const DEPTH: usize = MAX_LAYERS + MAX_BINARY;

/// Most views built for one text (distinct decodings; far above what the targets' bounded
/// inputs reach).
const MAX_VIEWS: usize = 4096;

/// True if `text`, or any decoding of it, contains an activation code.
pub fn leaks(text: &str) -> bool {
    views(text).iter().any(|v| CODE.is_match(v))
}

/// True if `needle` (a matching id the caller planted) appears in `text` or a decoding of it.
pub fn contains_decoded(text: &str, needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    views(text)
        .iter()
        .any(|v| v.to_ascii_lowercase().contains(&needle))
}

/// [`leaks`] and [`contains_decoded`] at once, over one set of views.
pub fn code_and_needle(text: &str, needle: &str) -> (bool, bool) {
    let needle = needle.to_ascii_lowercase();
    let views = views(text);
    (
        views.iter().any(|v| CODE.is_match(v)),
        views
            .iter()
            .any(|v| v.to_ascii_lowercase().contains(&needle)),
    )
}

/// Panics if `text` leaks a code; `what` names the output for the crash report.
pub fn assert_clean(what: &str, text: &str) {
    assert!(
        !leaks(text),
        "activation code in {what}: {:?}",
        excerpt(text)
    );
}

/// The start of `text`, for a readable crash report.
pub fn excerpt(text: &str) -> String {
    const SHOWN: usize = 400;
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Panics if any string or key of a JSON document leaks a code (or the raw text does).
pub fn assert_clean_json(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert_clean(what, &text);
    if let Ok(tree) = serde_json::from_slice::<serde_json::Value>(bytes) {
        walk(&tree, &mut |s| assert_clean(what, s));
    }
}

/// Calls `f` on every string and key of `v`.
pub fn walk(v: &serde_json::Value, f: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, f)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, i)| {
            f(k);
            walk(i, f);
        }),
        _ => {}
    }
}

/// `text` normalised, plus the normalised decodings of its binary-to-text runs, to [`DEPTH`]
/// levels, each distinct text once.
fn views(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut todo = vec![(text.to_owned(), 0usize)];
    while let Some((t, depth)) = todo.pop() {
        let plain = normalise(&t);
        if !seen.insert(plain.clone()) || out.len() >= MAX_VIEWS {
            continue;
        }
        if depth < DEPTH {
            for bytes in decodings(&plain) {
                todo.push((String::from_utf8_lossy(&bytes).into_owned(), depth + 1));
            }
        }
        out.push(plain);
    }
    out
}

/// Every binary-to-text decoding of runs in `plain`: base64 (both alphabets, every
/// alignment), hex and base32 (every alignment, also with whitespace taken out), and the
/// quoted-printable and ascii85 readings of the whole text.
fn decodings(plain: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for run in BASE64_RUN.find_iter(plain).take(16) {
        let run = run.as_str().trim_end_matches('=');
        for offset in 0..4 {
            let seg = &run[offset.min(run.len())..];
            let seg = &seg[..seg.len() - usize::from(seg.len() % 4 == 1)];
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                if let Ok(bytes) = engine.decode(seg) {
                    out.push(bytes);
                }
            }
        }
    }
    let joined: String = plain.split_whitespace().collect();
    for text in [plain, joined.as_str()] {
        out.extend(oracle_codecs::hex_runs(text));
        out.extend(oracle_codecs::base32_runs(text));
    }
    out.extend(oracle_codecs::quoted_printable(plain));
    out.extend(oracle_codecs::ascii85(plain));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn finds_codes_through_encodings() {
        let code = "LPA:1$smdp.example.com$MATCH-1234";
        let b64 = STANDARD.encode(code);
        for text in [
            code.to_owned(),
            "LPA%3A1%24smdp.example.com%24ID".to_owned(),
            "LPA&#58;1&#x24;smdp.example.com&dollar;ID".to_owned(),
            "ＬＰＡ：１＄smdp.example.com＄ID".to_owned(),
            "L\u{200B}PA:1$h$ID".to_owned(),
            "1$a.io$ID42".to_owned(),
            "\\u004c\\u0050\\u0041:1$h$ID".to_owned(),
            format!("ref {b64} end"),
            STANDARD.encode(format!("x {b64}")),
            "1$host:8443$ID42".to_owned(),
            "REF_1$host$ID42".to_owned(),
            "LPA%253A1%2524h%2524ID".to_owned(),
        ] {
            assert!(leaks(&text), "{text}");
        }
        assert!(contains_decoded(&b64, "match-1234"));
    }

    /// Issue 22, row 5: as deep as the target stacks, and the binary-to-text encodings.
    #[test]
    fn finds_codes_as_deep_as_the_target_stacks() {
        let mut s = "LPA:1$smdp.example.com$MATCH-1234".to_owned();
        for _ in 0..MAX_LAYERS + MAX_BINARY {
            s = STANDARD.encode(&s);
            assert!(leaks(&s), "{} bytes", s.len());
        }
        for text in [
            "4C50413A3124736D64702E6578616D706C652E636F6D244D41",
            "4c 50 41 3a 31 24 73 6d 64 70 2e 65 78 61",
            "JRIECORRERZW2ZDQFZSXQYLNOBWGKLTDN5WSITKBKRBUQLJR",
            "=4C=50=41=3A=31=24=68=24=49=44",
            "<~9Me#90dLgWA8j/4G[YH.Ch55/Df$ao5u^3B/MR~>",
            "\u{8}%01%24rsp.provider.io%3A58725%24MIDA5",
        ] {
            assert!(leaks(text), "{text}");
        }
    }

    #[test]
    fn ordinary_text_is_clean() {
        for text in [
            "Japan 10 GB eSIM",
            "$4.275",
            "order-8910 delivered",
            "{\"amount\":4.275,\"currency\":\"USD\"}",
            "esim.events.8944000000000000042.delivered",
            "a & b &amp; c",
            "ref 8$888888888888$8888 (no host name)",
            "$I$4 (no matching id: four characters at least)",
            "1$h$ID42 (no host name: four characters at least)",
            "",
        ] {
            assert!(!leaks(text), "{text}");
        }
    }
}
