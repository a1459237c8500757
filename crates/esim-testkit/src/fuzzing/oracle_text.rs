//! The fuzz oracle's text decoders: percent-encoding, HTML references, JSON and C-style
//! escapes and full-width / invisible folding, undone round after round ([`normalise`]).
//! Written apart from the bridge's own decoders (a redactor cannot check itself).

/// How many times the textual decodings are re-applied (nested encodings).
const ROUNDS: usize = 6;

/// Undoes the textual encodings until nothing changes (at most [`ROUNDS`] times).
pub(super) fn normalise(text: &str) -> String {
    let mut s = fold(text);
    for _ in 0..ROUNDS {
        let next = fold(&json_unescape(&html_decode(&percent_decode(&s))));
        if next == s {
            break;
        }
        s = next;
    }
    s
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Full-width and small forms to ASCII; invisible and formatting characters removed.
fn fold(s: &str) -> String {
    // Every character folded or removed below is outside ASCII.
    if s.is_ascii() {
        return s.to_owned();
    }
    s.chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3000}' => Some(' '),
            '\u{FE69}' => Some('$'),
            '\u{FE55}' | '\u{FE13}' | '\u{2236}' | '\u{A789}' => Some(':'),
            '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0000}'..='\u{E007F}' => None,
            c => Some(c),
        })
        .collect()
}

/// `&#36;`, `&#x24;`, `&dollar;` and a few other named entities.
fn html_decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        match entity(tail) {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity body (after `&`) stands for, and the bytes it used.
fn entity(tail: &str) -> Option<(char, usize)> {
    let end = tail
        .char_indices()
        .take(12)
        .find(|(_, c)| !c.is_ascii_alphanumeric() && *c != '#');
    let end = end.map_or(tail.len().min(12), |(i, _)| i);
    let name = tail.get(..end)?;
    let used = if tail[end..].starts_with(';') {
        end + 1
    } else {
        end
    };
    let c = if let Some(num) = name.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(n)?
    } else {
        match name.to_ascii_lowercase().as_str() {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "dollar" => '$',
            "colon" => ':',
            "percnt" => '%',
            "num" => '#',
            "nbsp" => ' ',
            _ => return None,
        }
    };
    Some((c, used))
}

/// `\u0024` and `\x24` escapes written into text (JSON-escaped codes stored as literal text).
fn json_unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let (digits, skip) = if let Some(h) = tail.strip_prefix(['u', 'U']) {
            (h.get(..4), 5)
        } else if let Some(h) = tail.strip_prefix('x') {
            (h.get(..2), 3)
        } else {
            (None, 0)
        };
        match digits
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(c);
                rest = &tail[skip..];
            }
            None => {
                out.push('\\');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}
