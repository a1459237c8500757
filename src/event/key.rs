//! Subject keys: the ICCID, or `order-<id>` for orders that never got one.
//!
//! Keys become NATS subject tokens, so they are validated to `[0-9A-Za-z_-]` and never
//! interpolated raw: a payload cannot redirect an event to another subject.

use std::fmt;

/// Why a value cannot be used as a subject token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("subject token is empty")]
    Empty,
    #[error("subject token is longer than {max} characters")]
    TooLong { max: usize },
    #[error("subject token has a character outside [0-9A-Za-z_-]")]
    BadChar,
}

/// Longest key accepted; ICCIDs are at most 22 characters, order keys far shorter.
const MAX_KEY_LEN: usize = 64;

/// A validated subject token identifying one eSIM (or one order without an eSIM).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey(String);

impl EventKey {
    /// The key for an order: its ICCID when known, otherwise `order-<id>`.
    pub fn for_order(order_id: u64, iccid: Option<&str>) -> Result<Self, KeyError> {
        match iccid.map(str::trim).filter(|s| !s.is_empty()) {
            Some(iccid) => Self::token(iccid),
            None => Ok(Self(format!("order-{order_id}"))),
        }
    }

    /// Validates an arbitrary string as a subject token.
    pub fn token(s: &str) -> Result<Self, KeyError> {
        validate_token(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that `s` is a non-empty `[0-9A-Za-z_-]` token of bounded length.
pub fn validate_token(s: &str) -> Result<(), KeyError> {
    if s.is_empty() {
        return Err(KeyError::Empty);
    }
    if s.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong { max: MAX_KEY_LEN });
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(KeyError::BadChar);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iccid_is_the_key_when_present() {
        let k = EventKey::for_order(7, Some("8910300000123456789")).unwrap();
        assert_eq!(k.as_str(), "8910300000123456789");
    }

    #[test]
    fn orders_without_iccid_use_order_id() {
        assert_eq!(EventKey::for_order(42, None).unwrap().as_str(), "order-42");
        assert_eq!(
            EventKey::for_order(42, Some(" ")).unwrap().as_str(),
            "order-42"
        );
    }

    #[test]
    fn hostile_tokens_are_rejected() {
        for bad in ["a.b", "a*", ">", "a b", "x\n", "é"] {
            assert_eq!(EventKey::token(bad), Err(KeyError::BadChar), "{bad:?}");
        }
        assert_eq!(EventKey::token(""), Err(KeyError::Empty));
        assert!(matches!(
            EventKey::token(&"9".repeat(65)),
            Err(KeyError::TooLong { .. })
        ));
    }
}
