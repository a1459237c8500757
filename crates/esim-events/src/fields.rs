//! Field rules: how each order field is read from the provider, and what is kept.
//!
//! | field | kept when | otherwise |
//! |---|---|---|
//! | `currency`, `country_code` | exactly three upper-case letters (`USD`, `JPN`, `GLO`) | dropped, recorded |
//! | `failure_code` | 1-64 of `A-Z`, `0-9`, `_` | dropped, recorded |
//! | `client_reference`, `product_name` | at most 256 characters, no control character, no activation-code material in any encoding | dropped, recorded |
//! | `failure_reason` | the same, at most 1024 characters | dropped, recorded |
//! | `iccid` | an [`Iccid`] | the whole order fails (a webhook gets 400) |
//! | enums | a known value | `UNKNOWN`, counted by the caller |
//! | numbers, booleans, timestamps | the right type (timestamps normalised to UTC) | absent |
//!
//! "Recorded" means the field's name is in [`OrderData::rejected`], so the caller can count it
//! (`esim_bridge_event_fields_dropped_total{field}`); the value itself is never kept or logged.
//! A free-text value is dropped as a whole: nothing is cut out of it, so no part of a code can
//! survive next to the cut.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::iccid::Iccid;
use super::order::{ActivationStatus, Decimal, OrderData, OrderStatus};
use super::redact;
use super::timestamp::Timestamp;

/// Longest `client_reference` and `product_name` kept, in characters.
pub const MAX_SHORT_TEXT: usize = 256;
/// Longest `failure_reason` kept, in characters.
pub const MAX_LONG_TEXT: usize = 1024;
/// Longest `failure_code` kept.
pub const MAX_CODE: usize = 64;

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
    fn add(&mut self, field: &str) {
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
        Rule::Code => {
            (1..=MAX_CODE).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
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
    #[serde(default, deserialize_with = "lenient")]
    data_amount_gb: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient")]
    validity_days: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
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

/// Reads an optional RFC 3339 timestamp (in UTC from then on); anything unparseable is
/// treated as absent.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s: Option<String> = lenient(d)?;
    Ok(s.and_then(|s| Timestamp::parse(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> OrderData {
        serde_json::from_value(v).expect("order")
    }

    #[test]
    fn codes_are_kept_only_in_their_format() {
        let ok = parse(json!({"id": 1, "currency": "USD", "country_code": "GLO",
            "failure_code": "OUT_OF_STOCK_2"}));
        assert_eq!(ok.currency.as_deref(), Some("USD"));
        assert_eq!(ok.country_code.as_deref(), Some("GLO"));
        assert_eq!(ok.failure_code.as_deref(), Some("OUT_OF_STOCK_2"));
        assert!(ok.rejected.is_empty());
        let bad = parse(json!({"id": 1, "currency": "usd", "country_code": "1$h$",
            "failure_code": "LPA:1$h$i", "product_name": 7}));
        assert_eq!(
            (bad.currency, bad.country_code, bad.failure_code),
            (None, None, None)
        );
        let dropped: Vec<_> = bad.rejected.fields().collect();
        assert_eq!(
            dropped,
            ["product_name", "country_code", "currency", "failure_code"]
        );
    }

    #[test]
    fn free_text_is_kept_whole_or_dropped_whole() {
        let o = parse(json!({"id": 1, "client_reference": "TRIP_TOKYO_OCT",
            "product_name": "Japan eSIM $5 (100% data)",
            "failure_reason": "LPA:1$host$ MATCHING"}));
        assert_eq!(o.client_reference.as_deref(), Some("TRIP_TOKYO_OCT"));
        assert_eq!(o.product_name.as_deref(), Some("Japan eSIM $5 (100% data)"));
        assert_eq!(o.failure_reason, None);
        assert_eq!(o.rejected.fields().collect::<Vec<_>>(), ["failure_reason"]);
        let long = parse(
            json!({"id": 1, "product_name": "x".repeat(MAX_SHORT_TEXT + 1),
            "client_reference": "a\nb"}),
        );
        assert_eq!((long.product_name, long.client_reference), (None, None));
    }

    #[test]
    fn null_is_absent_not_rejected() {
        let o = parse(json!({"id": 1, "currency": null, "failure_reason": null}));
        assert!(o.rejected.is_empty());
    }
}
