//! An independent reference for the redaction tests: does a text, or any decoding of it, hold
//! an activation code or a value a test planted?
//!
//! It shares no code with the crate it checks: no `decode`, `scan`, `noise` or `precheck`, and
//! not the base64 or percent-encoding crates they use. Its decoders are written here from the
//! encodings' definitions (percent, HTML character references, JSON/JavaScript escapes,
//! base64 in either alphabet, whitespace skipped or not, in place and on its own, at every
//! alignment; full-width forms and invisible characters folded), and so is its pattern (the
//! two shapes docs/events.md documents). A miss in the scanner is then not a miss in the check.
//!
//! Decodings are followed to [`DEPTH`] steps, more than the four stacked encodings the
//! property tests generate; running out of [`MAX_VIEWS`] panics rather than answering "clean".

use std::collections::HashSet;

use serde_json::Value;

mod decode;

use decode::{fold, one_step};

/// Decoding steps followed from the text as given (the tests stack at most 4 encodings).
pub const DEPTH: usize = 6;
/// Most texts looked at for one input: past this the oracle refuses to answer.
const MAX_VIEWS: usize = 50_000;

/// Every string and key in `v`.
pub fn strings(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                out.extend(map.keys().cloned());
                stack.extend(map.values());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    out
}

/// True if `needle` (compared without case) is in `text` or in any decoding of it.
pub fn reveals(text: &str, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    views(text)
        .iter()
        .any(|v| v.to_lowercase().contains(&needle))
}

/// True if `text` or any decoding of it holds an activation code.
pub fn has_code(text: &str) -> bool {
    views(text)
        .iter()
        .any(|v| code_as_is(v) || code_squeezed(v))
}

/// True if `text` as it stands (nothing decoded) holds an activation code.
pub fn code_as_written(text: &str) -> bool {
    let t = fold(text);
    code_as_is(&t) || code_squeezed(&t)
}

/// `text`, and every text reachable from it by up to [`DEPTH`] decoding steps, each as
/// decoded and folded (folding first could merge two layers: a full-width `＼` before an
/// escape that decodes to `ｕ`).
pub fn views(text: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut level = Vec::new();
    for t in [text.to_owned(), fold(text)] {
        if seen.insert(t.clone()) {
            level.push(t);
        }
    }
    let mut all = level.clone();
    for _ in 0..DEPTH {
        let mut next = Vec::new();
        for v in &level {
            for d in one_step(v) {
                let folded = fold(&d);
                for t in [d, folded] {
                    if seen.insert(t.clone()) {
                        next.push(t);
                    }
                }
            }
        }
        assert!(seen.len() <= MAX_VIEWS, "oracle out of budget on {text:?}");
        all.extend(next.iter().cloned());
        level = next;
    }
    all
}

/// A character of a code's host: letters, digits, `.`, `-`, `_` and `:` (for a port).
fn host_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')
}

/// As written: `lpa` then `:` then a format digit or `$` (whitespace between allowed: what
/// a consumer could use; the scan's own rule, any `LPA:`, is stricter), or `<digit>$<host>$` with a
/// letter in the host and at least 4 characters (an SM-DP+ address is a domain name, `a.io` at
/// the shortest).
fn code_as_is(v: &str) -> bool {
    let c: Vec<char> = v.to_lowercase().chars().collect();
    let lpa = (0..c.len()).any(|i| {
        let mut rest = c[i..].iter().filter(|x| !x.is_whitespace());
        c[i..].starts_with(&['l', 'p', 'a'])
            && rest.nth(3) == Some(&':')
            && matches!(rest.next(), Some('$') | Some('0'..='9'))
    });
    lpa || (0..c.len()).any(|i| {
        if !(c[i].is_numeric() && c.get(i + 1) == Some(&'$')) {
            return false;
        }
        let host: Vec<char> = c[i + 2..]
            .iter()
            .copied()
            .take_while(|&x| host_char(x))
            .collect();
        c.get(i + 2 + host.len()) == Some(&'$')
            && host.len() >= 4
            && host.iter().any(|x| x.is_alphabetic())
    })
}

/// Whitespace and control characters removed: `lpa:` and a digit or `$`, not inside a word, or `<digit>$` then a
/// dotted host (optionally `:port`) then `$`.
fn code_squeezed(v: &str) -> bool {
    let c: Vec<char> = v
        .to_lowercase()
        .chars()
        .filter(|x| !x.is_whitespace() && !x.is_control())
        .collect();
    let lpa = (0..c.len()).any(|i| {
        c[i..].starts_with(&['l', 'p', 'a', ':'])
            && (i == 0 || !c[i - 1].is_alphabetic())
            && matches!(c.get(i + 4), Some('$') | Some('0'..='9'))
    });
    lpa || (0..c.len()).any(|i| {
        if !(c[i].is_numeric() && c.get(i + 1) == Some(&'$')) {
            return false;
        }
        let label = |x: &char| x.is_alphanumeric() || matches!(x, '-' | '_');
        let host: String = c[i + 2..]
            .iter()
            .take_while(|x| label(x) || **x == '.')
            .collect();
        let mut at = i + 2 + host.len();
        if c.get(at) == Some(&':') {
            let port = c[at + 1..].iter().take_while(|x| x.is_numeric()).count();
            at += 1 + port;
            if port == 0 {
                return false;
            }
        }
        let labels: Vec<&str> = host.split('.').collect();
        c.get(at) == Some(&'$') && labels.len() >= 2 && labels.iter().all(|l| !l.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_codes_through_stacked_encodings_it_decodes_itself() {
        for text in [
            "LPA:1$smdp.example.com$ID",
            "LPA%3A1%24smdp.example.com%24ID",
            "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRNQVRDSElORw==",
            "TFBBOjEkc21kcC5l\neGFtcGxlLmNvbSRNQVRDSElORw",
            "&#76;&#x50;A&colon;1&dollar;h&period;io$x",
            "ＬＰＡ：１＄ｈ＄ｉ",
            r"\u004c\u0050\u0041\u003a1\u0024h\u0024i",
            "L\u{200B}PA:1$h$i",
            "REF_1$host:8443$ID",
            "l p a : 1 $ smdp . example . com $ x",
            "%254C%2550A%253A1%2524h%2524i",
            "eHguTFBB:1$h",
        ] {
            assert!(has_code(text), "{text}");
        }
        assert!(reveals("TUFUQ0hJTkctNDI=", "matching-42"));
    }

    #[test]
    fn ordinary_text_is_clean() {
        for text in [
            "Japan eSIM 1GB $5",
            "US$5 plan, 2$ extra $",
            "Alpaca $5 eSIM",
            "100% data & more",
            "evt_esim_8910300000123456789_delivered",
            "Help a: b",
            "",
        ] {
            assert!(!has_code(text), "{text}");
        }
    }
}
