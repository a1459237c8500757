//! What the poller accepts from the provider before any arithmetic or publishing touches it.
//!
//! Every provider value is hostile: dates are only believed within [`EARLIEST`]..[`LATEST`]
//! (2000..2100), an ICCID must be a subject token with no control character, and durations the
//! provider names (`Retry-After`, token lifetimes) are capped where they are read (see
//! `wire`, `auth`). An order that fails [`check`] is quarantined by the engine (see
//! `quarantine`): counted, logged by id and [`Reason`] only, skipped from then on.

use serde::Deserialize;

use esim_events::{Iccid, OrderData, Timestamp};

/// The range, owned by esim-events: webhooks are refused outside it too.
pub use esim_events::timestamp::{EARLIEST, LATEST};

/// Why an order is quarantined (the metric label and the log field; never its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A date outside 2000..2100.
    DateOutOfRange,
    /// An ICCID that is not one (control characters, letters, wrong length).
    InvalidIccid,
    /// An order object with an id whose other fields do not parse as an order.
    Unparsable,
    /// The order cannot become events, or the stream refused them for good.
    Unpublishable,
    /// Processing the order panicked (a bug; caught so the order cannot wedge the poller).
    Panicked,
    /// The provider answered 404 for the order again and again over minutes (see the
    /// engine's `vanish`): dropped, but kept on record instead of silently untracked.
    Vanished,
    /// The provider reports the order with another ICCID than the one already published for
    /// it: one eSIM's subjects must never hold another's events, so nothing more is published.
    IccidChanged,
    /// A reason written by a newer version.
    #[serde(other)]
    Other,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::DateOutOfRange,
        Reason::InvalidIccid,
        Reason::Unparsable,
        Reason::Unpublishable,
        Reason::Panicked,
        Reason::Vanished,
        Reason::IccidChanged,
        Reason::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Reason::DateOutOfRange => "date_out_of_range",
            Reason::InvalidIccid => "invalid_iccid",
            Reason::Unparsable => "unparsable",
            Reason::Unpublishable => "unpublishable",
            Reason::Panicked => "panicked",
            Reason::Vanished => "vanished",
            Reason::IccidChanged => "iccid_changed",
            Reason::Other => "other",
        }
    }
}

/// Unix seconds of a date, if it lies within 2000..2100.
pub fn date(t: Timestamp) -> Option<i64> {
    t.is_plausible().then(|| t.unix_seconds())
}

/// Whether the poller can process `order`: every date it carries lies within 2000..2100
/// (unparseable dates were dropped when the order was read, as before). The ICCID is already valid: an
/// [`OrderData`] cannot hold any other (see [`unfit`] for orders that did not parse).
pub fn check(order: &OrderData) -> Result<(), Reason> {
    let dates = [&order.created_at, &order.installed_at, &order.activated_at];
    if dates.into_iter().flatten().any(|&d| date(d).is_none()) {
        return Err(Reason::DateOutOfRange);
    }
    Ok(())
}

/// An order object that did not parse as an [`OrderData`]: its id, if it has one, and why
/// (an invalid ICCID, or anything else). `None` when not even the id can be read.
pub fn unfit(raw: &str) -> Option<(u64, Reason)> {
    #[derive(Deserialize)]
    struct Skeleton<'a> {
        id: u64,
        #[serde(default, borrow)]
        iccid: Option<std::borrow::Cow<'a, str>>,
    }
    let skeleton = serde_json::from_str::<Skeleton>(raw).ok()?;
    let bad_iccid = skeleton.iccid.is_some_and(|i| Iccid::parse(&i).is_err());
    let reason = match bad_iccid {
        true => Reason::InvalidIccid,
        false => Reason::Unparsable,
    };
    Some((skeleton.id, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(extra: &str) -> OrderData {
        let body = format!(r#"{{"id": 5, "status": "DELIVERED"{extra}}}"#);
        serde_json::from_str(&body).unwrap()
    }

    #[test]
    fn dates_outside_2000_to_2100_and_odd_iccids_are_refused_by_category() {
        assert_eq!(check(&order("")), Ok(()));
        let ok = r#", "activated_at": "2026-05-15T12:00:00Z", "iccid": "8910300000123456789""#;
        assert_eq!(check(&order(ok)), Ok(()));
        for bad in [
            r#", "activated_at": "9999-12-31T23:59:30Z""#,
            r#", "installed_at": "1970-01-01T00:00:00Z""#,
            r#", "created_at": "2100-01-01T00:00:00Z""#,
        ] {
            assert_eq!(check(&order(bad)), Err(Reason::DateOutOfRange), "{bad}");
        }
        for bad in ["8910300000123456789\\n", "89 10", "89$x", "8910.>"] {
            let raw = format!(r#"{{"id": 9, "iccid": "{bad}"}}"#);
            assert_eq!(unfit(&raw), Some((9, Reason::InvalidIccid)), "{bad}");
        }
        let raw = r#"{"id": 9, "iccid": "8910300000123456789", "validity_days": {"x": 1}}"#;
        assert_eq!(unfit(raw), Some((9, Reason::Unparsable)));
        assert_eq!(unfit(r#"{"iccid": "x"}"#), None);
        let at = |text| Timestamp::parse(text).expect("RFC 3339");
        assert_eq!(date(at("2026-05-15T12:00:00Z")), Some(1_778_846_400));
        assert_eq!(date(at("1999-12-31T23:59:59Z")), None);
        assert_eq!(Reason::DateOutOfRange.label(), "date_out_of_range");
    }
}
