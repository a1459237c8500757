//! The ICCID: one validated value used for the subject key, the `Esim-Iccid` header and the
//! event's `data.iccid`, so the three can never disagree.
//!
//! An ICCID (ITU-T E.118) is 18 to 22 characters: decimal digits, optionally ending in the `F`
//! filler some systems pad odd-length ICCIDs with. The value is taken exactly as received:
//! nothing is trimmed or case-folded, so `"8910…\n"` is refused rather than silently becoming a
//! different string in one place than in another. Errors name the position of the first bad
//! character and the length, never the value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Shortest ICCID accepted.
pub const MIN_LEN: usize = 18;
/// Longest ICCID accepted (E.118 allows 19 digits plus check digit; some issuers pad to 22).
pub const MAX_LEN: usize = 22;

/// Why a value is not an ICCID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IccidError {
    #[error("ICCID has {len} characters; {MIN_LEN} to {MAX_LEN} expected")]
    Length { len: usize },
    #[error("ICCID has a character other than a digit at position {position}")]
    BadChar { position: usize },
}

/// A validated ICCID: `[0-9]{17,21}[0-9F]`, 18 to 22 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iccid(String);

impl Iccid {
    /// Validates `s` as an ICCID, exactly as given.
    pub fn parse(s: &str) -> Result<Self, IccidError> {
        let len = s.chars().count();
        if let Some(position) = s
            .char_indices()
            .position(|(i, c)| !(c.is_ascii_digit() || (c == 'F' && i + 1 == s.len())))
        {
            return Err(IccidError::BadChar { position });
        }
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(IccidError::Length { len });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Iccid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Iccid {
    type Err = IccidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Iccid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Iccid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_iccids_are_accepted_as_given() {
        for ok in [
            "8910300000123456789",
            "894400000000000004",
            "8910300000123456789F",
            "8949123456789012345678",
        ] {
            assert_eq!(Iccid::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn control_characters_and_junk_are_refused_not_trimmed() {
        for (bad, position) in [
            ("8910300000123456789\n", 19),
            (" 8910300000123456789", 0),
            ("8910300000123456789\r", 19),
            ("891030000012345678\u{0}9", 18),
            ("89103000001234F56789", 14),
            ("8910300000123456789f", 19),
            ("891030000012345678.>", 18),
            ("８910300000123456789", 0),
        ] {
            assert_eq!(
                Iccid::parse(bad),
                Err(IccidError::BadChar { position }),
                "{bad:?}"
            );
        }
        for bad in ["", "8910", "89103000001234567", "89491234567890123456789"] {
            assert!(
                matches!(Iccid::parse(bad), Err(IccidError::Length { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors_do_not_carry_the_value() {
        let e = Iccid::parse("LPA:1$smdp.example$SECRET").unwrap_err();
        assert!(!e.to_string().contains("SECRET"));
        let json = serde_json::from_str::<Iccid>(r#""8910\n""#).unwrap_err();
        assert!(!json.to_string().contains("8910"));
    }

    /// The rule as the module doc states it, written apart from [`Iccid::parse`]: 18 to 22
    /// characters, ASCII digits, the last one may be `F`.
    fn reference(s: &str) -> bool {
        let b = s.as_bytes();
        (MIN_LEN..=MAX_LEN).contains(&b.len())
            && b[..b.len() - 1].iter().all(u8::is_ascii_digit)
            && (b[b.len() - 1].is_ascii_digit() || b[b.len() - 1] == b'F')
    }

    /// Valid ICCIDs, and valid ICCIDs with one mutation: a character replaced, inserted or
    /// removed, or the `F` filler moved, lower-cased or doubled.
    fn arb_candidate() -> impl Strategy<Value = String> {
        let valid = "[0-9]{17,21}[0-9F]";
        let junk = prop_oneof![
            Just('F'),
            Just('f'),
            Just('\n'),
            Just(' '),
            Just('８'),
            any::<char>(),
            proptest::char::range('0', '9'),
        ];
        crate::test_branches::mutated(valid.boxed(), junk.boxed())
    }

    #[test]
    fn parse_accepts_exactly_the_stated_rule_and_both_outcomes_occur() {
        let branches = crate::test_branches::Branches::new();
        crate::test_branches::runner(2000)
            .run(&arb_candidate(), |s| {
                let parsed = Iccid::parse(&s);
                prop_assert_eq!(parsed.is_ok(), reference(&s), "{:?}", s);
                match parsed {
                    Ok(iccid) => {
                        branches.count(true);
                        prop_assert!(super::super::key::validate_token(iccid.as_str()).is_ok());
                        prop_assert!(iccid.as_str().bytes().all(|b| b.is_ascii_graphic()));
                        prop_assert_eq!(iccid.as_str(), s.as_str());
                    }
                    Err(e) => {
                        branches.count(false);
                        prop_assert!(!e.to_string().contains(&s) || s.is_empty());
                    }
                }
                Ok(())
            })
            .unwrap();
        // Each outcome is about a third or more of the cases; a generator that lost one fails.
        branches.require_both("accepted", 200);
    }
}
