//! The oracle's decoders, written from the encodings' definitions: percent, HTML character
//! references, JSON/JavaScript escapes, base64 (each alphabet, whitespace skipped or not,
//! every alignment, on its own and in place), and the folding of full-width and invisible
//! characters.

/// Shortest base64 run decoded on its own or in place (`1$a$` is 8 characters encoded).
const MIN_RUN: usize = 8;

/// Every text one decoding further than `v` (only those that differ from it).
pub(super) fn one_step(v: &str) -> Vec<String> {
    let mut out: Vec<String> = [percent(v), html(v), escapes(v)]
        .into_iter()
        .flatten()
        .collect();
    let bytes = v.as_bytes();
    // The whole text, whitespace skipped (MIME-wrapped base64).
    let joined: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let unpadded = trim_padding(&joined);
    if unpadded.len() >= MIN_RUN && unpadded.iter().all(|&b| sextet(b).is_some()) {
        out.extend(base64_text(unpadded));
    }
    // Each run on its own, and all runs put back in place, at each alignment.
    let runs = runs(bytes);
    for skip in 0..4 {
        let (mut in_place, mut last) = (String::new(), 0);
        for &(start, end) in &runs {
            let Some(text) = bytes.get(start + skip..end).and_then(base64_text) else {
                continue;
            };
            // Binary (not UTF-8, or control characters other than tab and line breaks) is
            // looked at on its own only, as the rule in docs/events.md says.
            let binary = text.chars().any(|c| {
                c == char::REPLACEMENT_CHARACTER || (c.is_control() && !"\t\n\r".contains(c))
            });
            if !binary {
                in_place.push_str(&v[last..start]);
                in_place.push_str(&text);
                last = end;
            }
            out.push(text);
        }
        if last > 0 {
            in_place.push_str(&v[last..]);
            out.push(in_place);
        }
    }
    out.retain(|d| d != v);
    out
}

/// Start and end of each maximal run of base64 characters (either alphabet) of [`MIN_RUN`]+.
fn runs(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=bytes.len() {
        match (bytes.get(i).and_then(|&b| sextet(b)), start) {
            (Some(_), None) => start = Some(i),
            (None, Some(s)) => {
                if i - s >= MIN_RUN {
                    out.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn trim_padding(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && b[end - 1] == b'=' {
        end -= 1;
    }
    &b[..end]
}

/// The two base64 alphabets: standard (`+`, `/`) and URL (`-`, `_`).
const ALPHABETS: [[u8; 2]; 2] = [[b'+', b'/'], [b'-', b'_']];

/// The value of a base64 character in `alphabet`.
fn sextet_in(b: u8, alphabet: [u8; 2]) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        _ if b == alphabet[0] => Some(62),
        _ if b == alphabet[1] => Some(63),
        _ => None,
    }
}

/// The value of a base64 character of either alphabet (for finding runs).
fn sextet(b: u8) -> Option<u32> {
    ALPHABETS.iter().find_map(|&a| sextet_in(b, a))
}

/// Base64 `run` decoded in whichever alphabet holds all of it (leftover bits dropped), as
/// lossy UTF-8.
fn base64_text(run: &[u8]) -> Option<String> {
    ALPHABETS.iter().find_map(|&alphabet| {
        let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
        for &b in run {
            acc = (acc << 6) | sextet_in(b, alphabet)?;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        (out.len() >= 4).then(|| String::from_utf8_lossy(&out).into_owned())
    })
}

/// `%XX` (hex in either case) to its byte.
fn percent(v: &str) -> Option<String> {
    let b = v.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let (mut out, mut i) = (Vec::with_capacity(b.len()), 0);
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    (out != b).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// HTML references: `&#NN;`, `&#xHH;` (`;` optional) and the named ones a code needs.
fn html(v: &str) -> Option<String> {
    let (mut out, mut rest) = (String::new(), v);
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(tail.len());
        let body = &tail[..end];
        let decoded = match body.strip_prefix('#') {
            Some(n) => match n.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok().and_then(char::from_u32),
                None => n.parse().ok().and_then(char::from_u32),
            },
            None => match body {
                "amp" => Some('&'),
                "colon" => Some(':'),
                "dollar" => Some('$'),
                "period" => Some('.'),
                "quot" => Some('"'),
                "num" => Some('#'),
                "percnt" => Some('%'),
                _ => None,
            },
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = tail[end..].strip_prefix(';').unwrap_or(&tail[end..]);
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    (out != v).then_some(out)
}

/// `\uXXXX`, `\xHH` and `\\` escapes written into text.
fn escapes(v: &str) -> Option<String> {
    let (mut out, mut rest) = (String::new(), v);
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let (width, skip) = match tail.as_bytes().first() {
            Some(b'u' | b'U') => (4, 1),
            Some(b'x') => (2, 1),
            _ => (0, 0),
        };
        let c = tail
            .get(skip..skip + width)
            .filter(|_| width > 0)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match (c, tail.starts_with('\\')) {
            (Some(c), _) => {
                out.push(c);
                rest = &tail[skip + width..];
            }
            (None, true) => {
                out.push('\\');
                rest = &tail[1..];
            }
            (None, false) => {
                out.push('\\');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    (out != v).then_some(out)
}

/// Full-width forms to ASCII, the ideographic space to a space, invisible characters removed.
pub(super) fn fold(v: &str) -> String {
    v.chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0),
            '\u{3000}' => Some(' '),
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' => None,
            '\u{2060}'..='\u{2064}' | '\u{FEFF}' => None,
            c => Some(c),
        })
        .collect()
}
