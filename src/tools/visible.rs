//! What the tools write to a terminal: stored data with every character a terminal would act
//! on, rather than show, escaped visibly (issue 16, row 10).
//!
//! A message someone else published into the stream, a stream or key someone else created, or
//! a quarantine reason can carry ESC/CSI/OSC sequences (set the title, clear the screen, fake
//! coloured text), C1 controls (`U+0080`-`U+009F`, a single-byte CSI for some terminals), DEL
//! and bidi overrides or isolates (text shown in another order than stored). `replay`, `tail`,
//! `status` and `audit` write all their output through this module: such a character becomes
//! `\u001b` (a JSON escape, so an NDJSON line stays the same JSON document), a byte that is
//! not UTF-8 becomes `\xff`. Tabs stay, and line breaks stay where the caller lays out lines.

use std::borrow::Cow;
use std::fmt::Write;

/// True if `c` would be acted on by a terminal or reorder the text around it.
fn unsafe_char(c: char, keep_line_breaks: bool) -> bool {
    match c {
        '\t' => false,
        '\n' => !keep_line_breaks,
        // C0, DEL, C1 (CR included: it moves the cursor to the start of the line).
        c if c.is_control() => true,
        // Bidi marks, embeddings, overrides and isolates; line and paragraph separators.
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => true,
        '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

/// True if `bytes` can be written as they are: printable ASCII and tabs only (every event the
/// bridge writes), or UTF-8 without a character [`escaped`] would change.
pub fn is_safe(bytes: &[u8], keep_line_breaks: bool) -> bool {
    if bytes
        .iter()
        .all(|&b| matches!(b, b' '..=b'~' | b'\t') || (keep_line_breaks && b == b'\n'))
    {
        return true;
    }
    std::str::from_utf8(bytes).is_ok_and(|s| !s.chars().any(|c| unsafe_char(c, keep_line_breaks)))
}

/// `bytes` with every unsafe character written as `\uXXXX` and every byte that is not UTF-8
/// as `\xNN`; line breaks kept if `keep_line_breaks`.
pub fn escaped(bytes: &[u8], keep_line_breaks: bool) -> Cow<'_, [u8]> {
    if is_safe(bytes, keep_line_breaks) {
        return Cow::Borrowed(bytes);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if unsafe_char(c, keep_line_breaks) {
                // Every unsafe character is in the Basic Multilingual Plane: four digits.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out.into_bytes())
}

/// Report text (several lines) made safe for a terminal: line breaks kept, all else escaped.
pub fn text(report: &str) -> Cow<'_, str> {
    match escaped(report.as_bytes(), true) {
        Cow::Borrowed(_) => Cow::Borrowed(report),
        // `escaped` of valid UTF-8 is valid UTF-8 (only ASCII escapes are added).
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_and_bidi_are_escaped_visibly() {
        let hostile = "a\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{7f}\r\u{202e}gnp.exe\u{2066}x";
        let out = escaped(hostile.as_bytes(), false);
        let out = std::str::from_utf8(&out).unwrap();
        assert_eq!(
            out,
            "a\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u007f\\u000d\\u202egnp.exe\\u2066x"
        );
        assert_eq!(&*escaped(b"ok \xff\x9b", false), b"ok \\xff\\x9b");
        assert_eq!(
            text("line 1\nline\u{1b}[2J 2\n"),
            "line 1\nline\\u001b[2J 2\n"
        );
    }

    #[test]
    fn printable_text_is_left_alone() {
        for s in ["{\"a\":1}", "Japan eSIM 日本 \t€", "αβγ — ok"] {
            assert!(
                matches!(escaped(s.as_bytes(), false), Cow::Borrowed(_)),
                "{s}"
            );
        }
        let json = "{\"x\":\"\u{202e}\u{85}\"}";
        let out = escaped(json.as_bytes(), false);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["x"], "\u{202e}\u{85}",
            "an escaped JSON line is the same document"
        );
    }
}
