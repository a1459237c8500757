//! Subject keys: one per eSIM for its whole life.
//!
//! The key is the [`Iccid`]. Only an order that failed or was cancelled before an ICCID was
//! issued is keyed `order-<id>`. The steps of an eSIM's life (`delivered`, `installed`,
//! `activated`, `depleted`) need the ICCID: an observation of one of them without it is refused
//! ([`KeyError::MissingIccid`]) instead of being stored under a second key, which would break
//! one-message-per-subject.
//!
//! Keys become NATS subject tokens, so they are validated to `[0-9A-Za-z_-]` and never
//! interpolated raw: a payload cannot redirect an event to another subject.

use std::fmt;

use super::iccid::Iccid;
use super::lifecycle::EventType;

/// Why a value cannot be used as a subject token.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("subject token is empty")]
    Empty,
    #[error("subject token is longer than {max} characters")]
    TooLong { max: usize },
    #[error("subject token has a character outside [0-9A-Za-z_-]")]
    BadChar,
    #[error("{event} needs the eSIM's ICCID and the observation has none")]
    MissingIccid { event: EventType },
}

/// Longest key accepted; ICCIDs are at most 22 characters, order keys far shorter.
const MAX_KEY_LEN: usize = 64;

/// A validated subject token identifying one eSIM (or one order without an eSIM).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey(String);

impl EventKey {
    /// The key of `event_type` for an order: its ICCID when known; `order-<id>` only for a
    /// failure or cancellation without one; [`KeyError::MissingIccid`] for any other step.
    pub fn for_event(
        event_type: EventType,
        order_id: u64,
        iccid: Option<&Iccid>,
    ) -> Result<Self, KeyError> {
        match iccid {
            // An `Iccid` is 18-22 digits (or a trailing F): always a valid token.
            Some(iccid) => Ok(Self(iccid.as_str().to_owned())),
            None if event_type.needs_iccid() => Err(KeyError::MissingIccid { event: event_type }),
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
    fn iccid_is_the_key_for_every_step_when_present() {
        let iccid = Iccid::parse("8910300000123456789").unwrap();
        for t in EventType::ALL {
            let k = EventKey::for_event(t, 7, Some(&iccid)).unwrap();
            assert_eq!(k.as_str(), "8910300000123456789");
        }
    }

    #[test]
    fn only_failures_and_cancellations_without_iccid_use_the_order_id() {
        for t in EventType::ALL {
            let k = EventKey::for_event(t, 42, None);
            if matches!(t, EventType::Failed | EventType::Cancelled) {
                assert_eq!(k.unwrap().as_str(), "order-42");
            } else {
                assert_eq!(k, Err(KeyError::MissingIccid { event: t }));
            }
        }
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
