//! Field rules: how each order field is read from the provider, and what is kept.
//!
//! | field | kept when | otherwise |
//! |---|---|---|
//! | `currency`, `country_code` | exactly three upper-case letters (`USD`, `JPN`, `GLO`) | dropped, recorded |
//! | `failure_code` | 1-64 of `A-Z`, `0-9`, `_`, no activation-code material (hex, base32) | dropped, recorded |
//! | `client_reference`, `product_name` | at most 256 characters, no control character, no activation-code material in any encoding (percent, HTML, escapes, base64, hex, base32, quoted-printable, ascii85) | dropped, recorded |
//! | `failure_reason` | the same, at most 1024 characters | dropped, recorded |
//! | `iccid` | an [`Iccid`] | the whole order fails (a webhook gets 400) |
//! | enums | a known value | `UNKNOWN`, counted by the caller |
//! | `amount`, `data_amount_gb` | a number of at most [`MAX_NUMBER_TEXT`] characters and magnitude below [`MAX_MAGNITUDE`] | a number beyond either: the whole order fails (a webhook gets 400); another type: absent |
//! | `validity_days` | a `u32` | a number of more than [`MAX_NUMBER_TEXT`] characters: the whole order fails; otherwise absent |
//! | numbers, booleans, timestamps | the right type (timestamps normalised to UTC) | absent |
//!
//! "Recorded" means the field's name is in [`OrderData::rejected`], so the caller can count it
//! (`esim_bridge_event_fields_dropped_total{field}`); the value itself is never kept or logged.
//! A free-text value is dropped as a whole: nothing is cut out of it, so no part of a code can
//! survive next to the cut.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::redact;
use esim_events::iccid::Iccid;
use esim_events::order::{ActivationStatus, Decimal, OrderData, OrderStatus, Rejected};
use esim_events::timestamp::Timestamp;

/// Longest `client_reference` and `product_name` kept, in characters.
pub const MAX_SHORT_TEXT: usize = 256;
/// Longest `failure_reason` kept, in characters.
pub const MAX_LONG_TEXT: usize = 1024;
/// Longest `failure_code` kept.
pub const MAX_CODE: usize = 64;
/// Longest number text accepted (`amount`, `data_amount_gb`, `validity_days`): ample for any
/// price or volume, and an absurd one (a 500 KB decimal fits the webhook body limit) is
/// refused as invalid rather than kept whole and published.
pub const MAX_NUMBER_TEXT: usize = 32;
/// Magnitude an `amount` or `data_amount_gb` must stay below (a trillion units or GB).
pub const MAX_MAGNITUDE: f64 = 1e12;

/// What a value of one field must look like.
#[derive(Clone, Copy)]
enum Rule {
    /// Exactly three `A-Z`.
    Iso3,
    /// 1-[`MAX_CODE`] of `A-Z0-9_`.
    Code,
    /// Free text of at most this many characters.
    Text(usize),
}

fn keep(rule: Rule, s: &str) -> bool {
    match rule {
        Rule::Iso3 => s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()),
        // `A-Z0-9_` fits hex and base32: a code's format does not keep an encoded code out.
        Rule::Code => {
            (1..=MAX_CODE).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && redact::clean_text(s).is_some()
        }
        Rule::Text(max) => {
            s.chars().count() <= max
                && !s.chars().any(char::is_control)
                && redact::clean_text(s).is_some()
        }
    }
}

/// The order as the provider sends it: every field raw until checked.
#[derive(Deserialize)]
pub struct Wire {
    id: u64,
    #[serde(default)]
    client_reference: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "lenient")]
    status: Option<OrderStatus>,
    #[serde(default)]
    product_name: Option<Box<RawValue>>,
    #[serde(default)]
    country_code: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "bounded_decimal")]
    data_amount_gb: Option<Decimal>,
    #[serde(default, deserialize_with = "bounded_count")]
    validity_days: Option<u32>,
    #[serde(default, deserialize_with = "bounded_decimal")]
    amount: Option<Decimal>,
    #[serde(default)]
    currency: Option<Box<RawValue>>,
    #[serde(default)]
    iccid: Option<Iccid>,
    #[serde(default)]
    failure_code: Option<Box<RawValue>>,
    #[serde(default)]
    failure_reason: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "lenient")]
    is_user_fixable: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    activation_status: Option<ActivationStatus>,
    #[serde(default, deserialize_with = "lenient")]
    is_installed: Option<bool>,
    #[serde(default, deserialize_with = "timestamp")]
    installed_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "timestamp")]
    activated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "timestamp")]
    created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient")]
    inferred: Option<bool>,
}

/// One provider order (JSON text) read through [`Wire`], which validates every field: the one
/// way the bridge reads an order it did not write.
pub fn parse_order(raw: &str) -> serde_json::Result<OrderData> {
    serde_json::from_str::<Wire>(raw).map(OrderData::from)
}

impl From<Wire> for OrderData {
    fn from(w: Wire) -> Self {
        let mut rejected = Rejected::default();
        let mut field = |name: &str, raw: Option<Box<RawValue>>, rule: Rule| {
            let raw = raw?;
            let value = serde_json::from_str::<Option<String>>(raw.get());
            match value {
                Ok(None) => None,
                Ok(Some(s)) if keep(rule, &s) => Some(s),
                _ => {
                    rejected.add(name);
                    None
                }
            }
        };
        let client_reference = field(
            "client_reference",
            w.client_reference,
            Rule::Text(MAX_SHORT_TEXT),
        );
        let product_name = field("product_name", w.product_name, Rule::Text(MAX_SHORT_TEXT));
        let country_code = field("country_code", w.country_code, Rule::Iso3);
        let currency = field("currency", w.currency, Rule::Iso3);
        let failure_code = field("failure_code", w.failure_code, Rule::Code);
        let failure_reason = field(
            "failure_reason",
            w.failure_reason,
            Rule::Text(MAX_LONG_TEXT),
        );
        Self {
            id: w.id,
            client_reference,
            status: w.status,
            product_name,
            country_code,
            data_amount_gb: w.data_amount_gb,
            validity_days: w.validity_days,
            amount: w.amount,
            currency,
            iccid: w.iccid,
            failure_code,
            failure_reason,
            is_user_fixable: w.is_user_fixable,
            activation_status: w.activation_status,
            is_installed: w.is_installed,
            installed_at: w.installed_at,
            activated_at: w.activated_at,
            created_at: w.created_at,
            inferred: w.inferred.filter(|i| *i),
            rejected,
        }
    }
}

/// Reads an optional typed field; a value of the wrong type is treated as absent rather than
/// failing the whole order (the provider's types are loosely documented).
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw.and_then(|r| serde_json::from_str(r.get()).ok()))
}

/// Reads an optional decimal: a number beyond [`MAX_NUMBER_TEXT`] characters or
/// [`MAX_MAGNITUDE`] fails the order (an absurd value, not a loosely typed one); any other
/// type is absent, as [`lenient`] reads it.
fn bounded_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let Some(raw) = Option::<Box<RawValue>>::deserialize(d)? else {
        return Ok(None);
    };
    if !is_number(&raw) {
        return Ok(None);
    }
    let text = raw.get();
    let magnitude = text.parse::<f64>().map(f64::abs).unwrap_or(f64::INFINITY);
    if text.len() > MAX_NUMBER_TEXT || magnitude >= MAX_MAGNITUDE {
        return Err(serde::de::Error::custom("a number out of bounds"));
    }
    Ok(serde_json::from_str(text).ok())
}

/// Reads an optional count: a number beyond [`MAX_NUMBER_TEXT`] characters fails the order;
/// anything else that is not a `u32` is absent.
fn bounded_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(raw) = Option::<Box<RawValue>>::deserialize(d)? else {
        return Ok(None);
    };
    if is_number(&raw) && raw.get().len() > MAX_NUMBER_TEXT {
        return Err(serde::de::Error::custom("a number out of bounds"));
    }
    Ok(serde_json::from_str(raw.get()).ok())
}

/// True if a raw JSON value is a number (it is valid JSON: the first byte says its type).
fn is_number(raw: &RawValue) -> bool {
    matches!(raw.get().as_bytes().first(), Some(b'-' | b'0'..=b'9'))
}

/// Reads an optional RFC 3339 timestamp (in UTC from then on); anything unparseable is
/// treated as absent.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s: Option<String> = lenient(d)?;
    Ok(s.and_then(|s| Timestamp::parse(&s)))
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
