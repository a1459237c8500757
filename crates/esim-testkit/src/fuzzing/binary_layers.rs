//! The `redaction_encodings` target's binary-to-text layers (issue 16, row 12): hex, spaced
//! hex, base32, quoted-printable and ascii85, written here by hand (the scan decodes with
//! `data-encoding` and decoders of its own; the oracle with its own).

use arbitrary::Arbitrary;

/// One binary-to-text layer.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Binary {
    HexUpper,
    HexLower,
    HexSpaced,
    Base32,
    QuotedPrintable,
    Ascii85,
}

/// `bytes` with one binary-to-text layer applied.
pub fn apply_binary(layer: Binary, bytes: &[u8]) -> String {
    const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    match layer {
        Binary::HexUpper => bytes.iter().map(|b| format!("{b:02X}")).collect(),
        Binary::HexLower => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Binary::HexSpaced => bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
        Binary::Base32 => bytes
            .chunks(5)
            .flat_map(|chunk| {
                let mut block = [0u8; 5];
                block[..chunk.len()].copy_from_slice(chunk);
                let n = block.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
                let chars = (chunk.len() * 8).div_ceil(5);
                (0..chars).map(move |i| char::from(B32[((n >> (35 - 5 * i)) & 31) as usize]))
            })
            .collect(),
        Binary::QuotedPrintable => bytes.iter().map(|b| format!("={b:02X}")).collect(),
        Binary::Ascii85 => {
            let mut out = String::from("<~");
            for chunk in bytes.chunks(4) {
                let mut block = [0u8; 4];
                block[..chunk.len()].copy_from_slice(chunk);
                let mut n = u32::from_be_bytes(block);
                let mut digits = [0u8; 5];
                for d in digits.iter_mut().rev() {
                    *d = (n % 85) as u8 + b'!';
                    n /= 85;
                }
                out.extend(digits[..chunk.len() + 1].iter().map(|&d| char::from(d)));
            }
            out.push_str("~>");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_layers_match_outside_vectors() {
        // Python: bytes.hex, base64.b32encode (unpadded), quopri, base64.a85encode(adobe=True).
        let code = b"1$h$ID";
        assert_eq!(apply_binary(Binary::HexUpper, code), "312468244944");
        assert_eq!(apply_binary(Binary::Base32, b"foobar"), "MZXW6YTBOI");
        assert_eq!(apply_binary(Binary::QuotedPrintable, b"1$"), "=31=24");
        assert_eq!(apply_binary(Binary::Ascii85, code), "<~0dLEX8ON~>");
    }
}
