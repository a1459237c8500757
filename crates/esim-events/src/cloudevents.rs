//! CloudEvents attributes of an event, for the NATS protocol binding in binary content mode.
//!
//! Each attribute travels as its own message header named `ce-<attribute>` beside the bridge's
//! own headers; the payload is the event JSON (the CloudEvents `data`), unchanged. The values
//! are percent-encoded as the binding prescribes (HTTP's rule: space, `"`, `%` and anything
//! outside printable ASCII), so an off-the-shelf CloudEvents SDK reads a stored message as a
//! CloudEvent without code of ours. The additions are additive: the `Esim-*` headers and the
//! payload are as before.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// CloudEvents specification version the attributes follow.
pub const SPEC_VERSION: &str = "1.0";

/// `ce-source` of every event. The same for both adapters on purpose: CloudEvents treats two
/// events with the same source and id as duplicates, and a transition seen by the webhook and
/// by the poller is one event with one id.
pub const SOURCE: &str = "esim-bridge";

/// `ce-datacontenttype`: the payload is the event JSON.
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// Header names of the CloudEvents attributes (NATS binding, binary mode).
pub mod header {
    pub const SPECVERSION: &str = "ce-specversion";
    /// The event id, the same as `Nats-Msg-Id`.
    pub const ID: &str = "ce-id";
    pub const SOURCE: &str = "ce-source";
    /// `esim.delivered`, ... (the payload's `type`).
    pub const TYPE: &str = "ce-type";
    /// When the transition happened (the payload's `created_at`), RFC 3339.
    pub const TIME: &str = "ce-time";
    /// The subject key: the ICCID, or `order-<id>`.
    pub const SUBJECT: &str = "ce-subject";
    pub const DATACONTENTTYPE: &str = "ce-datacontenttype";
}

/// What the binding percent-encodes in a header value (its section 3.1.3.2, HTTP's rule).
const ENCODED: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'%').add(0x7f);

/// `value` as the binding writes it into a header.
pub fn encode(value: &str) -> Cow<'_, str> {
    utf8_percent_encode(value, ENCODED).into()
}

/// What an event's CloudEvents attributes are made of (the event builds it; this module knows
/// nothing of the event type, so neither imports the other).
pub struct Attributes<'a> {
    /// The event id.
    pub id: &'a str,
    /// `esim.delivered`, ...
    pub event_type: &'a str,
    /// When the transition happened, RFC 3339.
    pub time: &'a str,
    /// The subject key: the ICCID, or `order-<id>`.
    pub subject: &'a str,
}

/// The CloudEvents attribute headers for `a`.
pub fn headers(a: &Attributes<'_>) -> [(&'static str, String); 7] {
    let enc = |v: &str| encode(v).into_owned();
    [
        (header::SPECVERSION, SPEC_VERSION.to_owned()),
        (header::ID, enc(a.id)),
        (header::SOURCE, SOURCE.to_owned()),
        (header::TYPE, enc(a.event_type)),
        (header::TIME, enc(a.time)),
        (header::SUBJECT, enc(a.subject)),
        (header::DATACONTENTTYPE, DATA_CONTENT_TYPE.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_encodes_space_quote_percent_and_non_ascii_and_nothing_else() {
        assert_eq!(encode("2026-05-15T14:30:32Z"), "2026-05-15T14:30:32Z");
        assert_eq!(encode("esim.delivered"), "esim.delivered");
        assert_eq!(encode("a b\"c%d"), "a%20b%22c%25d");
        assert_eq!(encode("\u{e9}\n"), "%C3%A9%0A");
    }
}
