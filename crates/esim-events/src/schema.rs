//! The normalised `esim.*` event: payload shape, deterministic id, subject and headers.
//!
//! The id and the subject are functions of (key, type) only, so the same transition seen by the
//! webhook and by the poller, or twice by either, maps to the same JetStream subject and
//! `Nats-Msg-Id`. The JSON Schema in `schema/esim-event.schema.json` describes [`Event`].

use serde::{Deserialize, Serialize};

use super::cloudevents;
use super::key::{EventKey, KeyError};
use super::lifecycle::EventType;
use super::order::OrderData;
use super::timestamp::Timestamp;

/// Value of the `Esim-Schema` header; bumped only for incompatible payload changes.
pub const SCHEMA_VERSION: &str = "1";

/// Which adapter observed the transition first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Webhook,
    Poll,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Poll => "poll",
        }
    }
}

/// One lifecycle transition, as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_esim_<key>_<event>`: the same for a transition whichever source saw it.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the transition happened, as best known (RFC 3339 UTC in the payload).
    pub created_at: Timestamp,
    pub source: Source,
    /// Set only on an event published late by `esim-bridge audit --repair`: when the repair
    /// wrote it (RFC 3339 UTC). Absent on everything the adapters publish, so a consumer can
    /// tell a repaired event from one emitted as the transition was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repaired_at: Option<Timestamp>,
    pub data: OrderData,
}

/// Why an event could not be built or serialised.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("invalid subject key: {0}")]
    Key(#[from] KeyError),
    #[error("payload serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
    /// A header value would not be a single line of printable ASCII (the value is not shown).
    #[error("header {name} would carry a value that is not printable ASCII")]
    Header { name: &'static str },
    /// The time of the transition has no RFC 3339 form (a year outside 0000 to 9999).
    #[error("the event's time cannot be written as RFC 3339")]
    Time,
}

impl SchemaError {
    /// True if the observation lacks the ICCID its step needs: resolve it (a detail read) and
    /// try again rather than drop the order.
    pub fn is_missing_iccid(&self) -> bool {
        matches!(self, Self::Key(KeyError::MissingIccid { .. }))
    }
}

/// Header names every event carries (design.md, "Subjects and messages").
pub mod header {
    pub const MSG_ID: &str = "Nats-Msg-Id";
    pub const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
    pub const EVENT_TYPE: &str = "Esim-Event-Type";
    pub const ORDER_ID: &str = "Esim-Order-Id";
    pub const ICCID: &str = "Esim-Iccid";
    pub const SOURCE: &str = "Esim-Source";
    pub const SCHEMA: &str = "Esim-Schema";
    /// Only on events written by `audit --repair`: the payload's `repaired_at`.
    pub const REPAIRED_AT: &str = "Esim-Repaired-At";
    /// W3C trace context of the bridge's span that stored the event (`00-<trace>-<span>-<flags>`):
    /// a webhook's own trace continued, or a new trace per webhook without one and per poll
    /// observation. Set by the bridge when it publishes, not part of [`Event::headers`](crate::Event::headers).
    pub const TRACEPARENT: &str = "traceparent";
}

impl Event {
    /// Builds the event for `event_type` on this order snapshot.
    pub fn new(
        event_type: EventType,
        data: OrderData,
        created_at: Timestamp,
        source: Source,
    ) -> Result<Self, SchemaError> {
        let key = EventKey::for_event(event_type, data.id, data.iccid.as_ref())?;
        Ok(Self {
            id: event_id(&key, event_type),
            event_type,
            created_at,
            source,
            repaired_at: None,
            data,
        })
    }

    /// The same event marked as written late by a repair at `at` (RFC 3339 UTC): same id,
    /// subject and `Nats-Msg-Id`, so it can never duplicate the original.
    pub fn repaired(self, at: Timestamp) -> Self {
        Self {
            repaired_at: Some(at),
            ..self
        }
    }

    /// The subject key (ICCID or `order-<id>`).
    pub fn key(&self) -> Result<EventKey, KeyError> {
        EventKey::for_event(self.event_type, self.data.id, self.data.iccid.as_ref())
    }

    /// The headers this event is published with, each value checked to be one line of
    /// printable ASCII (so building the NATS header map cannot fail or panic). The ICCID comes
    /// from the same validated [`Iccid`](super::Iccid) as the subject key.
    pub fn headers(&self) -> Result<Vec<(&'static str, String)>, SchemaError> {
        let mut h = vec![
            (header::MSG_ID, self.id.clone()),
            (header::EXPECTED_LAST_SUBJECT_SEQUENCE, "0".to_owned()),
            (header::EVENT_TYPE, self.event_type.as_str().to_owned()),
            (header::ORDER_ID, self.data.id.to_string()),
        ];
        if let Some(iccid) = &self.data.iccid {
            h.push((header::ICCID, iccid.as_str().to_owned()));
        }
        h.push((header::SOURCE, self.source.as_str().to_owned()));
        h.push((header::SCHEMA, SCHEMA_VERSION.to_owned()));
        if let Some(at) = &self.repaired_at {
            h.push((header::REPAIRED_AT, at.to_string()));
        }
        let (key, time) = (self.key()?, self.created_at.to_string());
        h.extend(cloudevents::headers(&cloudevents::Attributes {
            id: &self.id,
            event_type: self.event_type.as_str(),
            time: &time,
            subject: key.as_str(),
        }));
        match h.iter().find(|(_, v)| !is_header_safe(v)) {
            Some(&(name, _)) => Err(SchemaError::Header { name }),
            None => Ok(h),
        }
    }

    /// `<prefix>.events.<key>.<event>`.
    pub fn subject(&self, prefix: &str) -> Result<String, KeyError> {
        Ok(subject(prefix, &self.key()?, self.event_type))
    }

    /// The JSON payload. (The bridge sends `esim_normalise::checked_payload`, which scans it
    /// once more for activation-code material before it leaves.)
    pub fn to_payload(&self) -> Result<Vec<u8>, SchemaError> {
        Ok(serde_json::to_vec(self)?)
    }
}

/// True if `v` is a non-empty line of printable ASCII, safe as a NATS header value.
pub fn is_header_safe(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// The deterministic event id (also the `Nats-Msg-Id`).
pub fn event_id(key: &EventKey, event_type: EventType) -> String {
    format!("evt_esim_{key}_{}", event_type.token())
}

/// The subject for one transition of one key.
pub fn subject(prefix: &str, key: &EventKey, event_type: EventType) -> String {
    format!("{prefix}.events.{key}.{}", event_type.token())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICCID: &str = "8910300000123456789";

    fn now() -> Timestamp {
        Timestamp::parse("2026-05-15T14:30:32Z").unwrap()
    }

    fn data(iccid: Option<&str>) -> OrderData {
        serde_json::from_value(serde_json::json!({"id": 9302481, "iccid": iccid})).unwrap()
    }

    #[test]
    fn id_and_subject_depend_only_on_key_and_type() {
        let at = now();
        let a = Event::new(EventType::Installed, data(Some(ICCID)), at, Source::Poll);
        let b = Event::new(EventType::Installed, data(Some(ICCID)), at, Source::Webhook);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.id, format!("evt_esim_{ICCID}_installed"));
        assert_eq!(a.id, b.id);
        assert_eq!(
            a.subject("esim").unwrap(),
            format!("esim.events.{ICCID}.installed")
        );
    }

    #[test]
    fn lifecycle_steps_without_iccid_are_refused_not_keyed_by_order() {
        for t in [
            EventType::Delivered,
            EventType::Installed,
            EventType::Activated,
            EventType::Depleted,
        ] {
            let e = Event::new(t, data(None), now(), Source::Webhook);
            assert!(
                matches!(e, Err(SchemaError::Key(KeyError::MissingIccid { event })) if event == t),
                "{t}"
            );
        }
    }

    #[test]
    fn headers_carry_the_same_iccid_as_the_subject() {
        let e = Event::new(EventType::Delivered, data(Some(ICCID)), now(), Source::Poll).unwrap();
        let h = e.headers().unwrap();
        let iccid = h.iter().find(|(n, _)| *n == header::ICCID).unwrap();
        assert_eq!(iccid.1, e.key().unwrap().as_str());
        assert!(h.iter().all(|(_, v)| is_header_safe(v)));
    }

    #[test]
    fn an_unsafe_header_value_is_an_error_not_a_panic() {
        let mut e = Event::new(EventType::Failed, data(None), now(), Source::Poll).unwrap();
        e.id = "evt_x\r\n".to_owned();
        assert!(matches!(
            e.headers(),
            Err(SchemaError::Header {
                name: header::MSG_ID
            })
        ));
    }

    #[test]
    fn a_repaired_event_keeps_its_identity_and_says_when_it_was_repaired() {
        let e = Event::new(EventType::Installed, data(Some(ICCID)), now(), Source::Poll).unwrap();
        let r = e
            .clone()
            .repaired(Timestamp::parse("2026-05-16T09:00:00Z").unwrap());
        assert_eq!((&r.id, r.subject("esim")), (&e.id, e.subject("esim")));
        let h = r.headers().unwrap();
        let marker = h.iter().find(|(n, _)| *n == header::REPAIRED_AT);
        assert_eq!(
            marker.map(|(_, v)| v.as_str()),
            Some("2026-05-16T09:00:00Z")
        );
        assert!(!e
            .headers()
            .unwrap()
            .iter()
            .any(|(n, _)| *n == header::REPAIRED_AT));
        let payload: serde_json::Value = serde_json::from_slice(&r.to_payload().unwrap()).unwrap();
        assert_eq!(payload["repaired_at"], "2026-05-16T09:00:00Z");
        crate::schema_tests::assert_schema_valid(&[r]);
        let plain = String::from_utf8(e.to_payload().unwrap()).unwrap();
        assert!(!plain.contains("repaired_at"), "{plain}");
    }

    #[test]
    fn failed_orders_without_iccid_key_by_order() {
        let e = Event::new(EventType::Failed, data(None), now(), Source::Poll).unwrap();
        assert_eq!(e.subject("x").unwrap(), "x.events.order-9302481.failed");
    }

    #[test]
    fn an_iccid_that_is_not_an_iccid_is_refused_at_parse_time() {
        for bad in ["89.>", "8910300000123456789\n", " 8910300000123456789"] {
            let v = serde_json::json!({"id": 1, "iccid": bad});
            assert!(serde_json::from_value::<OrderData>(v).is_err(), "{bad:?}");
        }
    }
}
