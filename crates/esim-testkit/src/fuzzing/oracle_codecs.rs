//! The fuzz oracle's own decoders for hex, base32, quoted-printable and ascii85: written apart
//! from `esim_normalise::codecs` (a different method, no shared code), so a mistake in the
//! scan's decoders is not repeated in the check of it.

/// Shortest run decoded (hex or base32 of a 4-byte code piece).
const MIN_RUN: usize = 8;

/// Maximal runs of `alphabet` characters in `text`, at least [`MIN_RUN`] long.
fn runs(text: &str, alphabet: fn(char) -> bool) -> Vec<&str> {
    text.split(|c: char| !alphabet(c))
        .filter(|r| r.len() >= MIN_RUN)
        .collect()
}

/// Hex runs decoded at both alignments.
pub fn hex_runs(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for run in runs(text, |c| c.is_ascii_hexdigit()) {
        for start in 0..2 {
            let digits: Vec<u32> = run[start..]
                .chars()
                .filter_map(|c| c.to_digit(16))
                .collect();
            out.push(
                digits
                    .chunks_exact(2)
                    .map(|p| (p[0] << 4 | p[1]) as u8)
                    .collect(),
            );
        }
    }
    out
}

/// Base32 (RFC 4648, either case) runs decoded at each of the eight alignments, as a bit
/// stream (leftover bits dropped).
pub fn base32_runs(text: &str) -> Vec<Vec<u8>> {
    fn value(c: char) -> Option<u32> {
        match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => Some(u as u32 - 'A' as u32),
            d @ '2'..='7' => Some(d as u32 - '2' as u32 + 26),
            _ => None,
        }
    }
    let mut out = Vec::new();
    for run in runs(text, |c| value(c).is_some()) {
        for start in 0..8.min(run.len()) {
            let (mut acc, mut bits, mut bytes) = (0u32, 0u32, Vec::new());
            for v in run[start..].chars().filter_map(value) {
                acc = (acc << 5 | v) & 0x1fff;
                bits += 5;
                if bits >= 8 {
                    bits -= 8;
                    bytes.push((acc >> bits) as u8);
                }
            }
            out.push(bytes);
        }
    }
    out
}

/// The whole text read as quoted-printable, if it has an `=XX` or a soft line break.
pub fn quoted_printable(text: &str) -> Option<Vec<u8>> {
    if !text.contains('=') {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let hi = chars.get(i + 1).and_then(|c| c.to_digit(16));
        let lo = chars.get(i + 2).and_then(|c| c.to_digit(16));
        if let (true, Some(hi), Some(lo)) = (c == '=', hi, lo) {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else if c == '=' && chars.get(i + 1) == Some(&'\n') {
            i += 2;
        } else if c == '=' && chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n') {
            i += 3;
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
        }
    }
    Some(out)
}

/// Every `<~...~>` block decoded as ascii85.
pub fn ascii85(text: &str) -> Vec<Vec<u8>> {
    text.split("<~")
        .skip(1)
        .map(|rest| {
            let body = rest.split("~>").next().unwrap_or_default();
            let mut out = Vec::new();
            let mut group: Vec<u64> = Vec::new();
            for c in body.chars().filter(|c| !c.is_whitespace()) {
                if c == 'z' && group.is_empty() {
                    out.extend([0u8; 4]);
                    continue;
                }
                if !('!'..='u').contains(&c) {
                    break;
                }
                group.push(c as u64 - 33);
                if group.len() == 5 {
                    out.extend(ascii85_group(&group, 4));
                    group.clear();
                }
            }
            if group.len() > 1 {
                let n = group.len() - 1;
                group.resize(5, 84);
                out.extend(ascii85_group(&group, n));
            }
            out
        })
        .collect()
}

/// One group of five digits as its first `n` bytes.
fn ascii85_group(digits: &[u64], n: usize) -> Vec<u8> {
    let v = digits.iter().fold(0u64, |acc, d| acc * 85 + d);
    (0..n).map(|i| (v >> (24 - 8 * i)) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_vectors() {
        // Python: bytes.hex, base64.b32encode, quopri, base64.a85encode(adobe=True).
        assert!(hex_runs("x312468244944").contains(&b"1$h$ID".to_vec()));
        assert!(base32_runs("MZXW6YTBOI").contains(&b"foobar".to_vec()));
        assert_eq!(
            quoted_printable("1=24h=\r\n=24ID"),
            Some(b"1$h$ID".to_vec())
        );
        assert_eq!(ascii85("<~0dLEX8ON~>"), [b"1$h$ID".to_vec()]);
    }
}
