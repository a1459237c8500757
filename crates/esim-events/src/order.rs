//! The order snapshot carried in every event's `data`.
//!
//! It is an allowlist: only the fields below exist, so anything else the provider sends
//! (including `activation_code` and whatever a future API adds) is dropped when the bridge
//! reads it. The bridge validates every field as it reads the provider's data
//! (`esim_normalise::fields`): codes by their format, free text by the activation-code scan;
//! an invalid value is dropped and recorded in [`OrderData::rejected`]. Unknown enum values map
//! to `UNKNOWN` instead of failing; [`OrderData::unknown_enums`] counts them.

use crate::timestamp::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::iccid::Iccid;

/// Order status (`PENDING` → `DELIVERED` | `FAILED` | `CANCELLED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Delivered,
    Failed,
    Cancelled,
    /// A value this version does not know; the provider may add enum values at any time.
    #[serde(other)]
    Unknown,
}

/// eSIM activation status (`NOT_INSTALLED` → `ACTIVE` → `EXPIRED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivationStatus {
    NotInstalled,
    Active,
    Expired,
    #[serde(other)]
    Unknown,
}

/// A JSON number kept as the exact decimal text received (`4.275` stays `4.275`, `10.00`
/// stays `10.00`): money must not pass through a float.
#[derive(Debug, Clone)]
pub struct Decimal(Box<RawValue>);

impl Decimal {
    /// The number's text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Parses decimal text; `None` unless it is a JSON number.
    pub fn parse(text: &str) -> Option<Self> {
        let raw = RawValue::from_string(text.trim().to_owned()).ok()?;
        is_json_number(raw.get()).then_some(Self(raw))
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

fn is_json_number(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b'-' | b'0'..=b'9'))
        && serde_json::from_str::<serde_json::Number>(text).is_ok()
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        if is_json_number(raw.get()) {
            Ok(Self(raw))
        } else {
            Err(serde::de::Error::custom("expected a number"))
        }
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The fields that can be dropped as invalid, as a small set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected(u8);

/// Field names in bit order.
const NAMES: [&str; 6] = [
    "client_reference",
    "product_name",
    "country_code",
    "currency",
    "failure_code",
    "failure_reason",
];

impl Rejected {
    /// Records that `field` was dropped (the bridge does, as it reads the provider's data).
    pub fn add(&mut self, field: &str) {
        if let Some(bit) = NAMES.iter().position(|n| *n == field) {
            self.0 |= 1 << bit;
        }
    }

    /// The names of the dropped fields.
    pub fn fields(self) -> impl Iterator<Item = &'static str> {
        NAMES
            .into_iter()
            .enumerate()
            .filter(move |(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, name)| name)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The normalised order snapshot: the `data` of every `esim.*` event and the poller's stored
/// snapshot. Every field is optional except the order id, because the provider's nullability
/// is undocumented. `Deserialize` reads what the bridge wrote (an event's `data`); the bridge
/// reads the provider's orders with `esim_normalise::parse_order`, which validates every field
/// and drops what it does not allow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderData {
    pub id: u64,
    /// Free text (the bridge keeps only values free of activation-code material).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_amount_gb: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Validated as it is parsed: a value that is not an ICCID fails the whole order (a
    /// webhook gets 400); it is never trimmed, guessed at or dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iccid: Option<Iccid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_user_fixable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_status: Option<ActivationStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_installed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<Timestamp>,
    /// When the order was placed (provider's `created_at`); kept for event timing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Set only on events the bridge emitted because a later step implied them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inferred: Option<bool>,
    /// Fields the provider sent that were dropped as invalid (never serialised).
    #[serde(skip)]
    pub rejected: Rejected,
}

impl OrderData {
    /// An order nothing is known about but its id.
    pub fn new(id: u64) -> Self {
        Self {
            id,
            ..Self::default()
        }
    }

    /// How many enum fields carried a value this version does not know.
    pub fn unknown_enums(&self) -> usize {
        usize::from(self.status == Some(OrderStatus::Unknown))
            + usize::from(self.activation_status == Some(ActivationStatus::Unknown))
    }
}
