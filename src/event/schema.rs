//! The normalised `esim.*` event: payload shape, deterministic id, subject and headers.
//!
//! The id and the subject are functions of (key, type) only, so the same transition seen by the
//! webhook and by the poller, or twice by either, maps to the same JetStream subject and
//! `Nats-Msg-Id`. The JSON Schema in `schema/esim-event.schema.json` describes [`Event`].

use serde::{Deserialize, Serialize};

use super::key::{EventKey, KeyError};
use super::lifecycle::EventType;
use super::order::OrderData;
use super::redact::{self, Leak};

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
    /// When the transition happened, as best known (RFC 3339 UTC).
    pub created_at: String,
    pub source: Source,
    pub data: OrderData,
}

/// Why an event could not be built or serialised.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("invalid subject key: {0}")]
    Key(#[from] KeyError),
    #[error("payload would carry {0}")]
    Leak(#[from] Leak),
    #[error("payload serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
}

impl Event {
    /// Builds the event for `event_type` on this order snapshot.
    pub fn new(
        event_type: EventType,
        data: OrderData,
        created_at: String,
        source: Source,
    ) -> Result<Self, SchemaError> {
        let key = EventKey::for_order(data.id, data.iccid.as_deref())?;
        Ok(Self {
            id: event_id(&key, event_type),
            event_type,
            created_at,
            source,
            data,
        })
    }

    /// The subject key (ICCID or `order-<id>`).
    pub fn key(&self) -> Result<EventKey, KeyError> {
        EventKey::for_order(self.data.id, self.data.iccid.as_deref())
    }

    /// `<prefix>.events.<key>.<event>`.
    pub fn subject(&self, prefix: &str) -> Result<String, KeyError> {
        Ok(subject(prefix, &self.key()?, self.event_type))
    }

    /// The JSON payload, checked once more for activation-code material before it leaves.
    ///
    /// Keys are fixed by [`OrderData`] (no secret key can appear) and serde_json writes strings
    /// unescaped apart from quotes, backslashes and control characters, so a scan of the text
    /// finds any LPA-looking value without parsing it again.
    pub fn to_payload(&self) -> Result<Vec<u8>, SchemaError> {
        let bytes = serde_json::to_vec(self)?;
        if redact::looks_like_lpa(&String::from_utf8_lossy(&bytes)) {
            return Err(Leak {
                pointer: "/data".into(),
            }
            .into());
        }
        Ok(bytes)
    }
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

    fn data(iccid: Option<&str>) -> OrderData {
        serde_json::from_value(serde_json::json!({"id": 9302481, "iccid": iccid})).unwrap()
    }

    #[test]
    fn id_and_subject_depend_only_on_key_and_type() {
        let at = "2026-05-15T14:30:32Z".to_owned();
        let a = Event::new(
            EventType::Installed,
            data(Some("8910")),
            at.clone(),
            Source::Poll,
        );
        let b = Event::new(
            EventType::Installed,
            data(Some("8910")),
            at,
            Source::Webhook,
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.id, "evt_esim_8910_installed");
        assert_eq!(a.id, b.id);
        assert_eq!(a.subject("esim").unwrap(), "esim.events.8910.installed");
    }

    #[test]
    fn failed_orders_without_iccid_key_by_order() {
        let e = Event::new(EventType::Failed, data(None), String::new(), Source::Poll).unwrap();
        assert_eq!(e.subject("x").unwrap(), "x.events.order-9302481.failed");
    }

    #[test]
    fn an_iccid_that_is_not_a_token_is_refused() {
        let e = Event::new(
            EventType::Failed,
            data(Some("89.>")),
            String::new(),
            Source::Poll,
        );
        assert!(matches!(e, Err(SchemaError::Key(KeyError::BadChar))));
    }
}
