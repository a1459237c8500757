//! The provider's response bodies and headers, read tolerantly.
//!
//! Detail and list bodies come bare or wrapped in `{"data": ...}` (the docs disagree); both are
//! accepted. Orders are kept as raw JSON until parsed into [`OrderData`], so amounts keep their
//! exact decimal text, and everything `OrderData` does not allowlist (`activation_code`
//! included) is dropped right there.

use std::time::Duration;

use axum::http::HeaderMap;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::ClientError;
use super::sanity::{self, Reason};
use crate::config::Secret;
use esim_events::{OrderData, Timestamp};

/// Used when a 429 names no wait at all.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// The longest wait a 429 can impose: a provider asking for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Tells a wrapped body from a bare object: a bare order has an `id`.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    id: Option<IgnoredAny>,
}

fn unwrap_envelope(raw: &RawValue) -> &RawValue {
    if !raw.get().trim_start().starts_with('{') {
        return raw;
    }
    match serde_json::from_str::<Probe>(raw.get()) {
        Ok(Probe {
            data: Some(inner),
            id: None,
        }) => inner,
        _ => raw,
    }
}

/// A body that is not what the API documents, described by position and category only:
/// serde's own message quotes the offending value, which may be anything the provider sent.
fn malformed(e: serde_json::Error) -> ClientError {
    let category = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Eof => "cut off",
    };
    ClientError::Malformed(format!(
        "{category} at line {} column {}",
        e.line(),
        e.column()
    ))
}

/// A detail body (bare or wrapped) as an order snapshot. A JSON order whose fields do not
/// parse is [`ClientError::Unfit`] (its id and why), not a transient failure: the same answer
/// would come again.
pub fn order(body: &[u8]) -> Result<OrderData, ClientError> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    let raw = unwrap_envelope(raw).get();
    esim_normalise::parse_order(raw).map_err(|e| match sanity::unfit(raw) {
        Some((id, reason)) => ClientError::Unfit { id, reason },
        None => malformed(e),
    })
}

/// The items of one list page.
#[derive(Debug, Default)]
pub struct Items {
    /// The orders that parse.
    pub orders: Vec<OrderData>,
    /// Orders with an id whose other fields do not parse, and why.
    pub unfit: Vec<(u64, Reason)>,
    /// Items without even a readable id.
    pub skipped: usize,
}

impl Items {
    /// Every item of the page, parsed or not.
    pub fn len(&self) -> usize {
        self.orders.len() + self.unfit.len() + self.skipped
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A list body (bare array or `{"data": [...]}`), item by item.
pub fn orders(body: &[u8]) -> Result<Items, ClientError> {
    orders_at_most(body, usize::MAX)
}

/// [`orders`], refusing a body of more than `max` items before parsing any
/// ([`ClientError::OversizedPage`]).
fn orders_at_most(body: &[u8], max: usize) -> Result<Items, ClientError> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    let items: Vec<&RawValue> =
        serde_json::from_str(unwrap_envelope(raw).get()).map_err(malformed)?;
    if items.len() > max {
        return Err(ClientError::OversizedPage {
            items: items.len(),
            per_page: u32::try_from(max).unwrap_or(u32::MAX),
        });
    }
    let mut out = Items {
        orders: Vec::with_capacity(items.len()),
        ..Items::default()
    };
    for item in items {
        match esim_normalise::parse_order(item.get()) {
            Ok(o) => out.orders.push(o),
            Err(_) => match sanity::unfit(item.get()) {
                Some(unfit) => out.unfit.push(unfit),
                None => out.skipped += 1,
            },
        }
    }
    Ok(out)
}

/// One list page with its pagination headers, as the poller reads it: the items and whether
/// pages follow; a page of more than `per_page` items is refused whole
/// ([`ClientError::OversizedPage`]). A pure entry point for fuzzing (bytes + headers in, no I/O).
pub fn list_page(
    headers: &HeaderMap,
    body: &[u8],
    page: u32,
    per_page: u32,
) -> Result<(Items, bool), ClientError> {
    let items = orders_at_most(body, usize::try_from(per_page).unwrap_or(usize::MAX))?;
    let more = has_more(headers, page, items.len(), per_page);
    Ok((items, more))
}

/// Whether a list has pages after `page`: `X-Has-More`, else `X-Total-Pages`, else a full page.
pub fn has_more(headers: &HeaderMap, page: u32, items: usize, per_page: u32) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(v) = header("x-has-more") {
        return v.trim().eq_ignore_ascii_case("true");
    }
    if let Some(total) = header("x-total-pages").and_then(|v| v.trim().parse::<u32>().ok()) {
        return page < total;
    }
    items >= usize::try_from(per_page).unwrap_or(usize::MAX)
}

/// The provider's error code (`{"error": {"code": ...}}`), if the body has a code-shaped one.
pub fn error_code(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        #[serde(default)]
        code: String,
    }
    // Only a code-shaped value is kept (`NOT_FOUND`): it ends up in errors and logs.
    serde_json::from_slice::<Body>(body)
        .map(|b| b.error.code)
        .ok()
        .filter(|c| {
            (1..=64).contains(&c.len())
                && c.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .unwrap_or_default()
}

/// How long a 429 asks to wait: `Retry-After` seconds, else "Retry after N seconds" in the
/// error message, else a default; never more than [`MAX_RETRY_AFTER`] (an hour), however
/// large the number (`10000000000000000000` included).
pub fn retry_after(headers: &HeaderMap, body: &[u8]) -> Duration {
    let from_header = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| seconds(v.trim()));
    let secs = from_header.or_else(|| retry_after_in_message(body));
    secs.map_or(DEFAULT_RETRY_AFTER, |s| {
        Duration::from_secs(s).min(MAX_RETRY_AFTER)
    })
}

/// A run of ASCII digits as seconds, saturating instead of failing on huge numbers.
fn seconds(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

fn retry_after_in_message(body: &[u8]) -> Option<u64> {
    const NEEDLE: &[u8] = b"retry after ";
    let start = body
        .windows(NEEDLE.len())
        .position(|w| w.eq_ignore_ascii_case(NEEDLE))?
        + NEEDLE.len();
    let rest = body.get(start..)?;
    let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    seconds(std::str::from_utf8(rest.get(..len)?).ok()?)
}

/// A login or refresh answer: the token pair and when the access token expires.
pub struct Grant {
    pub access: Secret,
    pub refresh: Secret,
    /// When the access token expires; `None` if the (required) field is not RFC 3339.
    pub access_expires_at: Option<Timestamp>,
    /// When the refresh token expires, if the answer says so in RFC 3339.
    pub refresh_expires_at: Option<Timestamp>,
}

/// Parses `{"success": true, "data": {...}}` (or the bare pair).
pub fn grant(body: &[u8]) -> Result<Grant, ClientError> {
    #[derive(Deserialize)]
    struct Pair {
        access_token: Secret,
        refresh_token: Secret,
        access_expires_at: String,
        #[serde(default)]
        refresh_expires_at: Option<String>,
    }
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    // Neither token nor body text goes into the error: only serde's position message.
    let pair: Pair = serde_json::from_str(unwrap_envelope(raw).get())
        .map_err(|e| ClientError::Malformed(format!("token answer: line {}", e.line())))?;
    // The access token goes into `Authorization: Bearer <token>` on every read, and the
    // refresh token into a JSON body (any text is fine there).
    if !sendable(pair.access_token.expose()) {
        return Err(ClientError::UnsendableToken);
    }
    Ok(Grant {
        access: pair.access_token,
        refresh: pair.refresh_token,
        access_expires_at: Timestamp::parse(&pair.access_expires_at),
        refresh_expires_at: pair
            .refresh_expires_at
            .as_deref()
            .and_then(Timestamp::parse),
    })
}

/// Whether `token` can be sent as `Authorization: Bearer <token>`: visible ASCII only (no
/// control character, no space, nothing a header value cannot carry), and not empty.
pub fn sendable(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
