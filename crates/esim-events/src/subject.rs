//! Subjects: `<prefix>.events.<key>.<event>`, built and parsed, and the filters a consumer
//! subscribes with.
//!
//! A subject is three validated parts: a [`Prefix`] (one or more dot-separated tokens, `esim`
//! by default), an [`EventKey`] (the ICCID, or `order-<id>`) and an [`EventType`] (its subject
//! token, `delivered`). Because the key and the event are single tokens, a subject parses
//! without knowing the prefix: the last three tokens are `events`, the key and the event.
//!
//! ```
//! use esim_events::{EventType, Iccid, Prefix, Subject};
//!
//! let prefix = Prefix::default();
//! let iccid = Iccid::parse("8910300000123456789")?;
//! assert_eq!(prefix.all_events(), "esim.events.>");
//! assert_eq!(prefix.events_of_type(EventType::Activated), "esim.events.*.activated");
//! assert_eq!(prefix.events_of_iccid(&iccid), "esim.events.8910300000123456789.*");
//!
//! let s = Subject::parse("esim.events.8910300000123456789.activated")?;
//! assert_eq!((s.key().as_str(), s.event_type()), ("8910300000123456789", EventType::Activated));
//! assert_eq!(s.to_string(), "esim.events.8910300000123456789.activated");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use super::iccid::Iccid;
use super::key::{validate_token, EventKey, KeyError};
use super::lifecycle::EventType;

/// The token between the prefix and the key.
const EVENTS: &str = "events";

/// Why a string is not an event subject or a subject prefix. The value itself is never shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Not `<prefix>.events.<key>.<event>` (too few tokens, or no `events` before the key).
    #[error("subject is not <prefix>.events.<key>.<event>")]
    Shape,
    /// The prefix is not dot-separated tokens of `[0-9A-Za-z_-]`.
    #[error("subject prefix token {position} is invalid")]
    Prefix {
        position: usize,
        #[source]
        source: KeyError,
    },
    /// The key token is not a valid subject token.
    #[error("subject key is invalid")]
    Key(#[source] KeyError),
    /// The last token is not one of the six event types.
    #[error("subject's last token is not an esim event type")]
    EventType,
}

/// The validated subject prefix (`nats.subject_prefix`): one or more tokens of `[0-9A-Za-z_-]`
/// joined by dots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prefix(String);

impl Prefix {
    /// The bridge's default prefix.
    pub const DEFAULT: &'static str = "esim";

    /// Validates `s` as a prefix.
    pub fn new(s: &str) -> Result<Self, SubjectError> {
        for (position, token) in s.split('.').enumerate() {
            validate_token(token).map_err(|source| SubjectError::Prefix { position, source })?;
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The subject of one transition of one key.
    pub fn subject(&self, key: &EventKey, event_type: EventType) -> Subject {
        Subject {
            prefix: self.clone(),
            key: key.clone(),
            event_type,
        }
    }

    /// Every event: `<prefix>.events.>` (also the stream's subject).
    pub fn all_events(&self) -> String {
        format!("{}.{EVENTS}.>", self.0)
    }

    /// Every event of one type, any key: `<prefix>.events.*.<event>`.
    pub fn events_of_type(&self, event_type: EventType) -> String {
        format!("{}.{EVENTS}.*.{}", self.0, event_type.token())
    }

    /// Every event of one eSIM: `<prefix>.events.<iccid>.*`.
    pub fn events_of_iccid(&self, iccid: &Iccid) -> String {
        format!("{}.{EVENTS}.{}.*", self.0, iccid.as_str())
    }

    /// Every event of one key (an ICCID or `order-<id>`): `<prefix>.events.<key>.*`.
    pub fn events_of_key(&self, key: &EventKey) -> String {
        format!("{}.{EVENTS}.{key}.*", self.0)
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One event subject, `<prefix>.events.<key>.<event>`; [`Display`](fmt::Display) builds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    prefix: Prefix,
    key: EventKey,
    event_type: EventType,
}

impl Subject {
    /// Parses a subject as the bridge publishes it (for example a message's `subject`).
    pub fn parse(s: &str) -> Result<Self, SubjectError> {
        let mut tokens = s.rsplitn(4, '.');
        let (Some(event), Some(key), Some(events), Some(prefix)) =
            (tokens.next(), tokens.next(), tokens.next(), tokens.next())
        else {
            return Err(SubjectError::Shape);
        };
        if events != EVENTS {
            return Err(SubjectError::Shape);
        }
        let prefix = Prefix::new(prefix)?;
        let key = EventKey::token(key).map_err(SubjectError::Key)?;
        let event_type = EventType::ALL
            .into_iter()
            .find(|t| t.token() == event)
            .ok_or(SubjectError::EventType)?;
        Ok(Self {
            prefix,
            key,
            event_type,
        })
    }

    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// The ICCID, or `order-<id>` for an order that failed or was cancelled without one.
    pub fn key(&self) -> &EventKey {
        &self.key
    }

    /// The ICCID when the key is one (every step but an early failure or cancellation).
    pub fn iccid(&self) -> Option<Iccid> {
        Iccid::parse(self.key.as_str()).ok()
    }

    pub fn event_type(&self) -> EventType {
        self.event_type
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, key, event) = (&self.prefix, &self.key, self.event_type.token());
        write!(f, "{prefix}.{EVENTS}.{key}.{event}")
    }
}

impl std::str::FromStr for Subject {
    type Err = SubjectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_event_type() -> impl Strategy<Value = EventType> {
        prop::sample::select(EventType::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn parse_inverts_build(
            prefix in "[0-9A-Za-z_-]{1,8}(\\.[0-9A-Za-z_-]{1,8}){0,3}",
            key in "[0-9A-Za-z_-]{1,64}",
            event_type in arb_event_type(),
        ) {
            let prefix = Prefix::new(&prefix).unwrap();
            let key = EventKey::token(&key).unwrap();
            let built = prefix.subject(&key, event_type);
            let parsed = Subject::parse(&built.to_string()).unwrap();
            prop_assert_eq!(&parsed, &built);
            prop_assert_eq!(parsed.to_string(), built.to_string());
        }

    }

    /// Valid subjects, and valid subjects with one mutation: a character replaced, inserted
    /// or removed (dots, wildcards, spaces, `events` and event-type letters among them).
    fn arb_subject_like() -> impl Strategy<Value = String> {
        let valid = (
            "[0-9A-Za-z_-]{1,8}(\\.[0-9A-Za-z_-]{1,8}){0,2}",
            "[0-9A-Za-z_-]{1,24}",
            arb_event_type(),
        )
            .prop_map(|(p, k, t)| format!("{p}.events.{k}.{}", t.token()));
        let junk = prop_oneof![
            Just('.'),
            Just('*'),
            Just('>'),
            Just(' '),
            Just('\n'),
            Just('e'),
            Just('d'),
            any::<char>(),
        ];
        crate::test_branches::mutated(valid.boxed(), junk.boxed())
    }

    #[test]
    fn what_parses_rebuilds_exactly_and_both_outcomes_occur() {
        let branches = crate::test_branches::Branches::new();
        let strategy = prop_oneof![1 => "\\PC{0,40}", 6 => arb_subject_like()];
        crate::test_branches::runner(2000)
            .run(&strategy, |s| {
                match Subject::parse(&s) {
                    Ok(subject) => {
                        branches.count(true);
                        prop_assert_eq!(subject.to_string(), s.clone());
                        // Every token of what parses is a valid NATS subject token.
                        for token in s.split('.') {
                            prop_assert!(validate_token(token).is_ok(), "{:?} in {:?}", token, s);
                        }
                    }
                    Err(_) => {
                        branches.count(false);
                    }
                }
                Ok(())
            })
            .unwrap();
        branches.require_both("parsed", 200);
    }

    #[test]
    fn an_events_subject_matches_the_events_own_subject() {
        let data = serde_json::json!({"id": 9302500, "iccid": null});
        let data = serde_json::from_value(data).unwrap();
        let at = crate::Timestamp::parse("2026-05-15T14:30:32Z").unwrap();
        let e = crate::Event::new(EventType::Failed, data, at, crate::Source::Poll).unwrap();
        let s = Subject::parse(&e.subject("x.y").unwrap()).unwrap();
        assert_eq!(s.prefix().as_str(), "x.y");
        assert_eq!(s.key(), &e.key().unwrap());
        assert_eq!(s.iccid(), None);
        assert_eq!(s.event_type(), EventType::Failed);
    }

    #[test]
    fn malformed_subjects_name_what_is_wrong() {
        use SubjectError::*;
        for (bad, why) in [
            ("", Shape),
            ("esim.events.8910", Shape),
            ("esim.other.8910.delivered", Shape),
            ("events.8910.delivered", Shape),
            ("esim.events.8910.esim", EventType),
            ("esim.events.8910.*", EventType),
            ("esim.events.8910.Delivered", EventType),
        ] {
            assert_eq!(Subject::parse(bad), Err(why), "{bad:?}");
        }
        for bad in ["esim.events.*.delivered", "esim.events..delivered"] {
            assert!(matches!(Subject::parse(bad), Err(Key(_))), "{bad:?}");
        }
        for bad in [
            ".events.1.failed",
            "a..b.events.1.failed",
            "a*.events.1.failed",
        ] {
            assert!(matches!(Subject::parse(bad), Err(Prefix { .. })), "{bad:?}");
        }
    }

    #[test]
    fn filters_cover_exactly_what_they_name() {
        let p = Prefix::new("acme.esim").unwrap();
        let iccid = Iccid::parse("8944000000000000005").unwrap();
        let order = EventKey::token("order-7").unwrap();
        assert_eq!(p.all_events(), "acme.esim.events.>");
        assert_eq!(
            p.events_of_type(EventType::Depleted),
            "acme.esim.events.*.depleted"
        );
        assert_eq!(
            p.events_of_iccid(&iccid),
            "acme.esim.events.8944000000000000005.*"
        );
        assert_eq!(p.events_of_key(&order), "acme.esim.events.order-7.*");
        assert!(Prefix::new("").is_err() && Prefix::new("a.>").is_err());
    }
}
