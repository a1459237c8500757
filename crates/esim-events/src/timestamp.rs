//! A point in time as events carry it: RFC 3339 in UTC, decoded once where it is received.
//!
//! The provider sends times in any RFC 3339 offset; the events carry them in UTC with a `Z`
//! (`2026-05-15T14:30:32Z`, fractional seconds only when there are any). A [`Timestamp`] is
//! parsed once, at the edge (a webhook body, an API answer, a stored event) and is a time from
//! then on: code that needs seconds or a comparison asks it, instead of parsing text again.
//! Its text form is exactly the normalised string the events always had, so a payload is
//! byte-for-byte what it was when this was a string.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// 2000-01-01T00:00:00Z: no order predates it (see [`Timestamp::is_plausible`]).
pub const EARLIEST: i64 = 946_684_800;
/// 2100-01-01T00:00:00Z: no order outlives it (see [`Timestamp::is_plausible`]).
pub const LATEST: i64 = 4_102_444_800;

/// A time in UTC that has an RFC 3339 form (years 0000 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Parses RFC 3339 text in any offset; `None` if it is not RFC 3339 or has no RFC 3339
    /// form once in UTC.
    pub fn parse(text: &str) -> Option<Self> {
        let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        Self::from_datetime(t)
    }

    /// `t` in UTC; `None` if it has no RFC 3339 form (a year outside 0000 to 9999).
    pub fn from_datetime(t: OffsetDateTime) -> Option<Self> {
        let utc = t.to_offset(UtcOffset::UTC);
        (0..=9999).contains(&utc.year()).then_some(Self(utc))
    }

    /// The time (in UTC).
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// True within [`EARLIEST`]..[`LATEST`] (2000..2100): the only provider dates the bridge
    /// believes, by webhook or by poll. One owner of the range, so both sources refuse the same
    /// values (a webhook with 400, the poller by quarantine).
    pub fn is_plausible(self) -> bool {
        (EARLIEST..LATEST).contains(&self.unix_seconds())
    }
}

impl fmt::Display for Timestamp {
    /// The normalised RFC 3339 form, e.g. `2026-05-15T14:30:32Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// Compares the RFC 3339 text form (`event.created_at == "2026-05-15T14:30:32Z"`).
impl PartialEq<&str> for Timestamp {
    fn eq(&self, other: &&str) -> bool {
        self.0.format(&Rfc3339).is_ok_and(|text| text == *other)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_is_read_and_written_back_in_utc() {
        let t = Timestamp::parse("2026-05-15T16:30:32+02:00").expect("RFC 3339");
        assert_eq!(t.to_string(), "2026-05-15T14:30:32Z");
        assert_eq!(t.unix_seconds(), 1_778_855_432);
        let fraction = Timestamp::parse("2026-05-15T14:30:32.250Z").expect("RFC 3339");
        assert_eq!(fraction.to_string(), "2026-05-15T14:30:32.25Z");
        let json = serde_json::to_string(&t).expect("serialise");
        assert_eq!(json, r#""2026-05-15T14:30:32Z""#);
        let back: Timestamp = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, t);
    }

    #[test]
    fn text_that_is_not_a_time_is_refused() {
        for text in ["yesterday", "", "2026-05-15", "0000-01-01T00:30:00+01:00"] {
            assert_eq!(Timestamp::parse(text), None, "{text}");
        }
        assert!(serde_json::from_str::<Timestamp>(r#""soon""#).is_err());
    }

    #[test]
    fn only_the_years_2000_to_2100_are_plausible() {
        let plausible = |text: &str| Timestamp::parse(text).expect(text).is_plausible();
        assert!(plausible("2000-01-01T00:00:00Z"));
        assert!(plausible("2099-12-31T23:59:59Z"));
        assert!(!plausible("1999-12-31T23:59:59Z"));
        assert!(!plausible("2100-01-01T00:00:00Z"));
        assert!(!plausible("0001-01-01T00:00:00Z"));
        assert!(!plausible("9999-12-31T23:59:59Z"));
    }
}
