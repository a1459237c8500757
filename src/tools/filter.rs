//! Which events a replay or tail selects.
//!
//! Keys (`--iccid`) and types (`--type`) become server-side subject filters
//! (`<prefix>.events.<key>.<event>`, every combination), built only from validated tokens so an
//! argument cannot widen the filter. Orders (`--order`) cannot be a subject filter (ICCID-keyed
//! events do not carry the order id in their subject), so they match the `Esim-Order-Id` header
//! on the client, falling back to the payload's `data.id` for a message without that header.

use std::collections::BTreeSet;

use async_nats::header::HeaderName;
use async_nats::HeaderMap;

use super::parse::{self, ArgError};
use super::FilterArgs;
use esim_events::key::validate_token;
use esim_events::EventType;

/// The header carrying the upstream order id.
const ORDER_HEADER: &str = "Esim-Order-Id";

/// A validated selection of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    keys: BTreeSet<String>,
    types: BTreeSet<EventType>,
    orders: BTreeSet<u64>,
}

impl Filter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Validates the `--iccid`, `--type` and `--order` values.
    pub fn from_args(args: &FilterArgs) -> Result<Self, ArgError> {
        let mut filter = Self::default();
        for key in &args.iccids {
            validate_token(key.trim())
                .map_err(|e| ArgError::new("iccid", format!("{key:?}: {e}")))?;
            filter.keys.insert(key.trim().to_owned());
        }
        for t in &args.types {
            filter.types.insert(parse::event_type(t)?);
        }
        for order in &args.orders {
            let id = order.trim().parse().map_err(|_| {
                ArgError::new("order", format!("{order:?} is not a numeric order id"))
            })?;
            filter.orders.insert(id);
        }
        Ok(filter)
    }

    /// Adds a subject key (ICCID or `order-<id>`); for library callers.
    pub fn key(mut self, key: &str) -> Result<Self, ArgError> {
        validate_token(key).map_err(|e| ArgError::new("iccid", format!("{key:?}: {e}")))?;
        self.keys.insert(key.to_owned());
        Ok(self)
    }

    /// Adds an event type; for library callers.
    pub fn event_type(mut self, t: EventType) -> Self {
        self.types.insert(t);
        self
    }

    /// Adds an order id; for library callers.
    pub fn order(mut self, id: u64) -> Self {
        self.orders.insert(id);
        self
    }

    /// The server-side subject filters: never empty, never overlapping.
    pub fn subjects(&self, prefix: &str) -> Vec<String> {
        let keys: Vec<&str> = match self.keys.is_empty() {
            true => vec!["*"],
            false => self.keys.iter().map(String::as_str).collect(),
        };
        let types: Vec<&str> = match self.types.is_empty() {
            true => vec!["*"],
            false => self.types.iter().map(|t| t.token()).collect(),
        };
        if self.keys.is_empty() && self.types.is_empty() {
            return vec![format!("{prefix}.events.>")];
        }
        let mut subjects = Vec::with_capacity(keys.len() * types.len());
        for k in &keys {
            subjects.extend(types.iter().map(|t| format!("{prefix}.events.{k}.{t}")));
        }
        subjects
    }

    /// The client-side part: does this message belong to one of the selected orders?
    pub fn accepts(&self, headers: Option<&HeaderMap>, payload: &[u8]) -> bool {
        if self.orders.is_empty() {
            return true;
        }
        order_id(headers, payload).is_some_and(|id| self.orders.contains(&id))
    }
}

/// The order id from the header, else from the payload's `data.id`.
fn order_id(headers: Option<&HeaderMap>, payload: &[u8]) -> Option<u64> {
    let name = HeaderName::from_static(ORDER_HEADER);
    if let Some(value) = headers.and_then(|h| h.get(name)) {
        return value.as_str().trim().parse().ok();
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        data: Data,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        id: u64,
    }
    let envelope: Envelope = serde_json::from_slice(payload).ok()?;
    Some(envelope.data.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(iccids: &[&str], types: &[&str], orders: &[&str]) -> FilterArgs {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        FilterArgs {
            iccids: own(iccids),
            types: own(types),
            orders: own(orders),
        }
    }

    #[test]
    fn subjects_are_every_key_type_combination() {
        let all = Filter::from_args(&args(&[], &[], &["7"])).unwrap();
        assert_eq!(all.subjects("esim"), ["esim.events.>"]);
        let f = Filter::from_args(&args(&["8910"], &[], &[])).unwrap();
        assert_eq!(f.subjects("esim"), ["esim.events.8910.*"]);
        let f = Filter::from_args(&args(&[], &["esim.failed", "delivered"], &[])).unwrap();
        assert_eq!(
            f.subjects("x.y"),
            ["x.y.events.*.delivered", "x.y.events.*.failed"]
        );
        let f = Filter::from_args(&args(&["a", "b", "a"], &["installed"], &[])).unwrap();
        assert_eq!(
            f.subjects("esim"),
            ["esim.events.a.installed", "esim.events.b.installed"]
        );
    }

    #[test]
    fn hostile_or_malformed_values_are_usage_errors() {
        for iccid in ["89.>", "*", "a b", ""] {
            let e = Filter::from_args(&args(&[iccid], &[], &[])).unwrap_err();
            assert_eq!(e.flag, "iccid");
        }
        assert_eq!(
            Filter::from_args(&args(&[], &["x"], &[])).unwrap_err().flag,
            "type"
        );
        assert_eq!(
            Filter::from_args(&args(&[], &[], &["12a"]))
                .unwrap_err()
                .flag,
            "order"
        );
    }

    #[test]
    fn orders_match_the_header_or_else_the_payload() {
        let f = Filter::all().order(42);
        let mut h = HeaderMap::new();
        h.insert(ORDER_HEADER, "42");
        assert!(f.accepts(Some(&h), b""));
        h.insert(ORDER_HEADER, "43");
        assert!(!f.accepts(Some(&h), br#"{"data":{"id":42}}"#));
        assert!(f.accepts(None, br#"{"id":"x","data":{"id":42,"iccid":"1"}}"#));
        assert!(!f.accepts(None, b"not json"));
        assert!(Filter::all().accepts(None, b""));
    }
}
