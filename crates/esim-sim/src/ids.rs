//! Generators for provider-shaped identifiers: ICCIDs, LPA activation codes, transaction, event
//! and token ids.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::Rng;

/// SM-DP+ host in generated activation codes.
pub const SMDP_HOST: &str = "smdp.sim.example";

/// A 19-digit ICCID: `89` (telecom), 16 random digits, and a Luhn check digit.
pub fn iccid(rng: &mut impl Rng) -> String {
    let mut digits: Vec<u8> = vec![8, 9];
    digits.extend((0..16).map(|_| rng.random_range(0..10u8)));
    digits.push(luhn_check_digit(&digits));
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// The digit that makes `digits` + it pass the Luhn check.
fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    // `sum % 10` is < 10, so the result is a single digit.
    ((10 - sum % 10) % 10) as u8
}

/// `LPA:1$smdp.sim.example$<matching id>` with a random matching id like `K2-4F7Q-…`.
pub fn activation_code(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let group = |rng: &mut dyn rand::RngCore| -> String {
        (0..5)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect()
    };
    let groups: Vec<String> = (0..4).map(|_| group(rng)).collect();
    format!("LPA:1${SMDP_HOST}${}", groups.join("-"))
}

/// Lowercase hex of `bytes` random bytes.
pub fn random_hex(rng: &mut impl Rng, bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(buf)
}

/// Provider transaction id (`TXN-` + 12 uppercase hex).
pub fn transaction_id(rng: &mut impl Rng) -> String {
    format!("TXN-{}", random_hex(rng, 6).to_uppercase())
}

/// Webhook event id (`evt_esim_` + 24 hex).
pub fn event_id(rng: &mut impl Rng) -> String {
    format!("evt_esim_{}", random_hex(rng, 12))
}

/// An opaque JWT-looking token (header.payload.signature); clients must not parse it.
pub fn token(rng: &mut impl Rng, kind: &str, client_id: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = format!(
        r#"{{"sub":"{client_id}","typ":"{kind}","jti":"{}"}}"#,
        random_hex(rng, 16)
    );
    let payload = URL_SAFE_NO_PAD.encode(claims.as_bytes());
    let sig: Vec<u8> = (0..32).map(|_| rng.random()).collect();
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn luhn_ok(s: &str) -> bool {
        let digits: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        luhn_check_digit(body) == check[0]
    }

    #[test]
    fn iccids_are_19_digits_starting_89_with_luhn_digit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let id = iccid(&mut rng);
            assert_eq!(id.len(), 19);
            assert!(id.starts_with("89") && id.bytes().all(|b| b.is_ascii_digit()));
            assert!(luhn_ok(&id), "{id}");
        }
        // Known Luhn example: 7992739871 -> 3.
        assert_eq!(luhn_check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
    }

    #[test]
    fn activation_codes_look_like_lpa_strings() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let code = activation_code(&mut rng);
        let parts: Vec<&str> = code.split('$').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "LPA:1");
        assert_eq!(parts[1], SMDP_HOST);
        assert_eq!(parts[2].len(), 23);
    }
}
