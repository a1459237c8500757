//! Known answers for the tolerant readers of provider bodies and headers.

use super::*;
use axum::http::HeaderValue;

const ORDER: &str = r#"{"id": 7, "status": "DELIVERED", "amount": 4.275,
    "iccid": "8910300000123456789", "activation_code": "LPA:1$smdp.example$SECRET"}"#;

#[test]
fn detail_bodies_bare_or_wrapped_keep_exact_amounts_and_drop_codes() {
    for body in [ORDER.to_owned(), format!(r#"{{"data": {ORDER}}}"#)] {
        let o = order(body.as_bytes()).unwrap();
        assert_eq!(o.id, 7);
        assert_eq!(o.amount.as_ref().map(|a| a.as_str()), Some("4.275"));
        assert!(!serde_json::to_string(&o).unwrap().contains("LPA:"));
    }
}

#[test]
fn list_bodies_bare_or_wrapped_skip_unparseable_items() {
    let bad = r#"{"id": 8, "iccid": "8910300000123456789\n"}"#;
    let items = format!(r#"[{ORDER}, {{"no_id": true}}, {bad}]"#);
    for body in [items.clone(), format!(r#"{{"data": {items}}}"#)] {
        let items = orders(body.as_bytes()).unwrap();
        assert_eq!((items.orders.len(), items.skipped), (1, 1));
        assert_eq!(items.unfit, [(8, Reason::InvalidIccid)]);
    }
    let e = order(bad.as_bytes()).unwrap_err();
    assert_eq!(
        e,
        ClientError::Unfit {
            id: 8,
            reason: Reason::InvalidIccid
        }
    );
    assert!(orders(b"{\"error\": 1}").is_err());
}

#[test]
fn errors_describe_positions_never_values() {
    for body in [
        r#"{"id": "LPA:1$smdp.example$SECRET"}"#,
        r#"[{"id": 1, "client_reference": ["LPA:1$smdp.example$SECRET"]}"#,
        r#"{"data": "LPA:1$smdp.example$SECRET"}"#,
    ] {
        let errors = [order(body.as_bytes()).err(), orders(body.as_bytes()).err()];
        for e in errors.into_iter().flatten() {
            assert!(!e.to_string().contains("LPA"), "{e}");
        }
    }
}

#[test]
fn pagination_and_retry_after_fall_back_sensibly() {
    let mut h = HeaderMap::new();
    assert!(has_more(&h, 1, 50, 50));
    assert!(!has_more(&h, 1, 49, 50));
    h.insert("x-total-pages", HeaderValue::from_static("3"));
    assert!(has_more(&h, 2, 0, 50));
    h.insert("x-has-more", HeaderValue::from_static("false"));
    assert!(!has_more(&h, 2, 50, 50));

    let body = br#"{"error": {"code": "TOO_MANY_REQUESTS", "message": "Retry after 12 seconds"}}"#;
    assert_eq!(
        retry_after(&HeaderMap::new(), body),
        Duration::from_secs(12)
    );
    assert_eq!(error_code(body), "TOO_MANY_REQUESTS");
    assert_eq!(error_code(br#"{"error": {"code": "LPA:1$a$b"}}"#), "");
    h.insert("retry-after", HeaderValue::from_static("3"));
    assert_eq!(retry_after(&h, body), Duration::from_secs(3));
    assert_eq!(retry_after(&HeaderMap::new(), b"{}"), DEFAULT_RETRY_AFTER);
}

#[test]
fn grants_parse_from_the_login_envelope() {
    let body = br#"{"success": true, "data": {"access_token": "a", "refresh_token": "r",
        "access_expires_at": "2026-05-15T13:00:00Z", "client_id": "c"}}"#;
    let g = grant(body).unwrap();
    assert_eq!((g.access.expose(), g.refresh.expose()), ("a", "r"));
    assert!(g
        .access_expires_at
        .is_some_and(|t| t == "2026-05-15T13:00:00Z"));
}

#[test]
fn a_page_larger_than_asked_for_is_refused_whole() {
    let page = |n: usize| format!("[{}]", vec![r#"{"id": 1}"#; n].join(","));
    let h = HeaderMap::new();
    assert_eq!(
        list_page(&h, page(3).as_bytes(), 1, 3).map(|p| p.0.len()),
        Ok(3)
    );
    assert_eq!(
        list_page(&h, page(4).as_bytes(), 1, 3).err(),
        Some(ClientError::OversizedPage {
            items: 4,
            per_page: 3
        })
    );
    assert_eq!(orders(page(4).as_bytes()).map(|i| i.len()), Ok(4));
}

#[test]
fn a_token_that_cannot_be_a_header_value_is_refused_at_login() {
    let body = |token: &str| {
        let pair = serde_json::json!({"access_token": token, "refresh_token": "r",
            "access_expires_at": "2026-05-15T13:00:00Z"});
        serde_json::to_vec(&pair).unwrap()
    };
    assert!(grant(&body("eyJ.abc-_~+/=")).is_ok());
    for bad in [r"a\nb", "a b", "", r"a\u007fb", r"\u00e9t\u00e9"] {
        let raw = format!(
            r#"{{"access_token": "{bad}", "refresh_token": "r", "access_expires_at": "x"}}"#
        );
        assert_eq!(
            grant(raw.as_bytes()).err(),
            Some(ClientError::UnsendableToken),
            "{bad}"
        );
    }
    assert!(grant(&body("ok")).is_ok());
}
