//! Garbage answers for fault injection: what a broken provider (or a broken proxy in front of
//! it) might send with a `200 OK` instead of an order list or detail. Used only when a test
//! asks for it (`/_sim/faults/garbage`, [`super::SimState::garbage_next_reads`]); the orders a
//! garbage answer names are phantoms that the store never holds, so the simulator's own truth
//! (orders, transitions, webhooks) is unaffected.
//!
//! - [`GarbageKind::Malformed`]: not JSON, or JSON cut off mid-value.
//! - [`GarbageKind::Absurd`]: well-formed JSON whose values no sane provider sends: ids at
//!   `u64::MAX`, dates in year 9999 or year 1, an ICCID with a line break, `validity_days` past
//!   `u32`, amounts of `1e308`, and pagination headers that overflow. Every phantom is absurd in
//!   at least one way a bridge must reject, so nothing about it may ever be emitted.
//! - [`GarbageKind::Huge`]: a JSON array that never ends, [`HUGE_BODY_BYTES`] long, streamed in
//!   chunks (the simulator never holds it in memory).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Size of a [`GarbageKind::Huge`] answer.
pub const HUGE_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Size of each streamed chunk of a huge answer.
const CHUNK_BYTES: usize = 64 * 1024;
/// Phantom order ids start here (far above any id the store hands out).
pub const PHANTOM_ID_FLOOR: u64 = 9_000_000_000_000_000_000;

/// Which kind of garbage a read gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GarbageKind {
    /// Not JSON, or truncated JSON.
    Malformed,
    /// Well-formed JSON with absurd values (phantom orders only).
    Absurd,
    /// An endless JSON array, `HUGE_BODY_BYTES` (64 MiB) long.
    Huge,
    /// Malformed, absurd and huge in turn.
    Mixed,
}

impl GarbageKind {
    /// The concrete kind for the `n`-th garbage answer (0-based): itself, or the rotation.
    pub fn nth(self, n: u64) -> GarbageKind {
        match (self, n % 3) {
            (GarbageKind::Mixed, 0) => GarbageKind::Malformed,
            (GarbageKind::Mixed, 1) => GarbageKind::Absurd,
            (GarbageKind::Mixed, _) => GarbageKind::Huge,
            (kind, _) => kind,
        }
    }
}

/// The `200 OK` garbage answer of `kind` (already concrete) for a list (`list`) or detail read;
/// `variant` picks among the variants of a kind so repeated answers differ.
pub fn response(kind: GarbageKind, list: bool, variant: u64) -> Response {
    match kind {
        GarbageKind::Malformed => json_200(Body::from(malformed(variant))),
        GarbageKind::Absurd if list => {
            let items: Vec<_> = (0..3).map(|i| phantom(variant * 3 + i)).collect();
            let mut response = json_200(Body::from(json!(items).to_string()));
            let headers = response.headers_mut();
            for (name, value) in [
                ("x-page", "0"),
                ("x-per-page", "-1"),
                ("x-total-count", "18446744073709551616"),
                ("x-total-pages", "18446744073709551615"),
                ("x-page-size", "4294967296"),
                ("x-has-more", "maybe"),
            ] {
                headers.insert(name, HeaderValue::from_static(value));
            }
            response
        }
        GarbageKind::Absurd => json_200(Body::from(phantom(variant).to_string())),
        GarbageKind::Huge | GarbageKind::Mixed => json_200(huge()),
    }
}

fn json_200(body: Body) -> Response {
    let ct = HeaderValue::from_static("application/json");
    (StatusCode::OK, [(header::CONTENT_TYPE, ct)], body).into_response()
}

fn malformed(variant: u64) -> &'static str {
    const BODIES: [&str; 4] = [
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        r#"[{"id": 9300001, "client_reference": "REF", "status": "DELIV"#,
        r#"{"id": 9300001, "status": "DELIVERED", "iccid": "8910300000000000001", "#,
        "\u{0}\u{1}\u{2}not json at all\u{7f}",
    ];
    BODIES[(variant % BODIES.len() as u64) as usize]
}

/// A phantom order: valid JSON, absurd values, an id no real order has.
fn phantom(variant: u64) -> serde_json::Value {
    let id = match variant % 3 {
        0 => u64::MAX,
        n => PHANTOM_ID_FLOOR.saturating_add(variant).saturating_add(n),
    };
    let (created, activated) = match variant % 2 {
        0 => ("9999-12-31T23:59:59Z", "9999-12-31T23:59:30Z"),
        _ => ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    };
    json!({
        "id": id,
        "client_reference": format!("PHANTOM_{variant}\r\nX-Injected: 1"),
        "status": "DELIVERED",
        "product_name": "Absurd eSIM",
        "country_code": "JPN",
        "data_amount_gb": 1e308,
        "validity_days": 4_294_967_296u64,
        "amount": 1e308,
        "currency": "USD",
        "activation_status": "ACTIVE",
        "is_installed": true,
        "installed_at": created,
        "activated_at": activated,
        "transaction_id": "tx\u{0}",
        "created_at": created,
        "iccid": format!("8910{variant:015}\n"),
        "failure_code": null,
        "failure_reason": null,
        "is_user_fixable": null,
    })
}

/// `[` followed by spaces, never closed: [`HUGE_BODY_BYTES`] in [`CHUNK_BYTES`] chunks.
fn huge() -> Body {
    let chunk = Bytes::from(vec![b' '; CHUNK_BYTES]);
    let chunks = HUGE_BODY_BYTES / CHUNK_BYTES;
    let body = std::iter::once(Bytes::from_static(b"["))
        .chain(std::iter::repeat_n(chunk, chunks))
        .map(Ok::<_, std::convert::Infallible>);
    Body::from_stream(futures::stream::iter(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_rotates_and_concrete_kinds_stay() {
        let rotation: Vec<_> = (0..4).map(|n| GarbageKind::Mixed.nth(n)).collect();
        assert_eq!(
            rotation,
            [
                GarbageKind::Malformed,
                GarbageKind::Absurd,
                GarbageKind::Huge,
                GarbageKind::Malformed
            ]
        );
        assert_eq!(GarbageKind::Huge.nth(1), GarbageKind::Huge);
    }

    #[test]
    fn phantoms_are_absurd_and_never_real_ids() {
        for v in 0..6 {
            let p = phantom(v);
            assert!(p["id"].as_u64().expect("id") >= PHANTOM_ID_FLOOR);
            assert!(p["iccid"].as_str().expect("iccid").ends_with('\n'));
        }
    }

    #[test]
    fn malformed_bodies_do_not_parse() {
        for v in 0..4 {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(malformed(v));
            assert!(parsed.is_err(), "{}", malformed(v));
        }
    }
}
