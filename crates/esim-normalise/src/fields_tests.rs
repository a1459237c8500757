//! Field rules: what is kept, dropped or refused.

use super::*;
use serde_json::json;

fn parse(v: serde_json::Value) -> OrderData {
    crate::parse_order(&v.to_string()).expect("order")
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

/// Issue 16, row 13: an absurd number is refused with the order, never kept whole; a
/// number of another type stays absent, and ordinary values are kept as received.
#[test]
fn absurd_numbers_fail_the_order() {
    let long_fraction = format!("0.{}1", "0".repeat(500 * 1024));
    for (field, value) in [
        ("amount", long_fraction.as_str()),
        ("data_amount_gb", long_fraction.as_str()),
        ("amount", "1e300"),
        ("amount", "-1000000000000"),
        ("data_amount_gb", "99999999999999999999"),
        ("validity_days", "100000000000000000000000000000000000"),
    ] {
        let body = format!("{{\"id\":1,\"{field}\":{value}}}");
        assert!(crate::parse_order(&body).is_err(), "{field} {:.40}", value);
    }
    // A webhook carrying one is an invalid event (the listener answers 400 invalid_event).
    let body = format!(
        "{{\"id\":\"evt_1\",\"type\":\"esim.delivered\",\"created_at\":\"2026-05-15T14:30:32Z\",\
         \"data\":{{\"id\":1,\"iccid\":\"8944000000000000042\",\"amount\":{long_fraction}}}}}"
    );
    let env = crate::normalise::parse_envelope(body.as_bytes()).expect("envelope");
    assert!(matches!(
        crate::normalise::from_webhook(&env),
        Err(crate::normalise::NormaliseError::Data(_))
    ));
    let ok: OrderData = crate::parse_order(
        r#"{"id":1,"amount":4.275,"data_amount_gb":"ten","validity_days":4294967296}"#,
    )
    .expect("order");
    assert_eq!(ok.amount.as_ref().map(Decimal::as_str), Some("4.275"));
    assert_eq!((ok.data_amount_gb, ok.validity_days), (None, None));
    let big: OrderData =
        crate::parse_order(r#"{"id":1,"amount":999999999999.99,"data_amount_gb":-0.0}"#)
            .expect("order");
    assert_eq!(
        big.amount.as_ref().map(Decimal::as_str),
        Some("999999999999.99")
    );
}

#[test]
fn null_is_absent_not_rejected() {
    let o = parse(json!({"id": 1, "currency": null, "failure_reason": null}));
    assert!(o.rejected.is_empty());
}

/// Issue 16, row 12: a code in hex or base32 fits `failure_code`'s `A-Z0-9_`; in free text it
/// may also be quoted-printable or ascii85. Every form is dropped, in every field that keeps
/// text (vectors made with Python's `bytes.hex`, `base64.b32encode`, `base64.a85encode`).
#[test]
fn codes_in_binary_to_text_encodings_are_dropped() {
    let hex = "4C50413A3124736D64702E6578616D706C652E636F6D244D415443482D31";
    let base32 = "JRIECORRERZW2ZDQFZSXQYLNOBWGKLTDN5WSITKBKRBUQLJR";
    let bare_hex = "31247273702E70726F76696465722E696F244D49443432";
    for code in [hex, base32, bare_hex] {
        let o = parse(json!({"id": 1, "failure_code": code}));
        assert_eq!(o.failure_code, None, "{code}");
    }
    let spaced_hex = "4c 50 41 3a 31 24 73 6d 64 70 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d 24 4d 41";
    for text in [
        format!("ref {}", hex.to_lowercase()),
        format!("see {spaced_hex} ok"),
        format!("x {}", base32.to_lowercase()),
        "=4C=50=41=3A=31=24=73=6D=64=70=2E=65=78=61=6D=70=6C=65=2E=63=6F=6D=24=4D=41".into(),
        "LPA=3A1=24smdp.ex=\r\nample.com=24MATCH-1".into(),
        "note <~9Me#90dLgWA8j/4G[YH.Ch55/Df$ao5u^3B/MR~> end".into(),
    ] {
        for field in ["client_reference", "product_name", "failure_reason"] {
            let o = parse(json!({"id": 1, field: text}));
            assert_eq!(o.rejected.fields().collect::<Vec<_>>(), [field], "{text}");
        }
    }
    let clean = parse(json!({"id": 1, "failure_code": "DEADBEEF_CAFE_2026",
        "product_name": "Japan eSIM 10GB = best", "failure_reason": "MZXW6YTBOI"}));
    assert!(clean.rejected.is_empty());
}

#[test]
fn inferred_false_is_read_as_absent() {
    let order = crate::parse_order(r#"{"id": 1, "inferred": false}"#).expect("order");
    assert_eq!(order.inferred, None);
    let order = crate::parse_order(r#"{"id": 1, "inferred": true}"#).expect("order");
    assert_eq!(order.inferred, Some(true));
}
