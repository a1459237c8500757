//! Tests of the event core as a whole: recorded payloads in, schema-valid, code-free events out.

use proptest::prelude::*;
use serde_json::{json, Value};
use time::macros::datetime;

use super::normalise::{from_snapshots, from_webhook, parse_envelope, Normalised};
use super::redact::{find_leak, redact_value};
use super::test_oracle;
use esim_events::{Event, EventType, OrderData};

fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!(
        "../../../schema/esim-event.strict.schema.json"
    ))
    .expect("schema file is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Serialises events and checks each against the shipped JSON Schema.
pub(crate) fn assert_schema_valid(events: &[Event]) {
    let validator = schema_validator();
    for e in events {
        let v: Value = serde_json::from_slice(&e.to_payload().expect("payload")).expect("json");
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{} invalid: {errors:?}\n{v}", e.id);
    }
}

fn webhook(file: &str) -> Normalised {
    let path = format!("{}/../../tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(path).expect("test data");
    from_webhook(&parse_envelope(&body).expect("envelope")).expect("normalise")
}

fn published(n: Normalised) -> Vec<Event> {
    match n {
        Normalised::Publish(events) => events,
        Normalised::Ignored => panic!("expected events"),
    }
}

#[test]
fn delivered_webhook_drops_smuggled_codes_and_keeps_exact_amounts() {
    let events = published(webhook("webhook_esim_delivered.json"));
    assert_schema_valid(&events);
    let text = String::from_utf8(events[0].to_payload().unwrap()).unwrap();
    assert!(!text.contains("SMUGGLED"), "{text}");
    assert!(text.contains(r#""amount":4.275"#) && text.contains(r#""data_amount_gb":1.0"#));
    insta::assert_snapshot!(text);
}

#[test]
fn failed_webhook_without_iccid_keys_by_order_and_keeps_failure_fields() {
    let events = published(webhook("webhook_esim_failed.json"));
    assert_schema_valid(&events);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].subject("esim").unwrap(),
        "esim.events.order-9302500.failed"
    );
    assert_eq!(events[0].created_at, "2026-05-15T12:31:00Z");
    insta::assert_snapshot!(String::from_utf8(events[0].to_payload().unwrap()).unwrap());
}

#[test]
fn activated_webhook_emits_inferred_predecessors_first() {
    let events = published(webhook("webhook_esim_activated.json"));
    assert_schema_valid(&events);
    let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::Delivered,
            EventType::Installed,
            EventType::Activated
        ]
    );
    assert_eq!(events[0].data.inferred, Some(true));
    assert_eq!(events[1].created_at, "2026-05-15T15:02:10Z");
    assert_eq!(events[2].data.inferred, None);
}

#[test]
fn other_event_families_are_ignored_not_rejected() {
    assert!(matches!(
        webhook("webhook_voucher_delivered.json"),
        Normalised::Ignored
    ));
}

#[test]
fn envelope_without_required_fields_is_an_error() {
    assert!(parse_envelope(br#"{"id":"x","type":"esim.delivered"}"#).is_err());
    assert!(parse_envelope(b"not json").is_err());
    let env = parse_envelope(
        br#"{"id":"x","type":"esim.delivered","created_at":"yesterday","data":{"id":1}}"#,
    )
    .unwrap();
    assert!(from_webhook(&env).is_err());
}

#[test]
fn unknown_enum_values_map_to_unknown() {
    let body = json!({"id": 1, "status": "REFUNDING", "activation_status": 5});
    let o: OrderData = crate::parse_order(&body.to_string()).unwrap();
    assert_eq!(o.unknown_enums(), 1);
    assert_eq!(
        serde_json::to_value(&o).unwrap(),
        json!({"id": 1, "status": "UNKNOWN"})
    );
}

fn order(v: Value) -> OrderData {
    crate::parse_order(&v.to_string()).expect("order")
}

#[test]
fn snapshot_diff_emits_only_new_steps_in_causal_order() {
    let at = datetime!(2026-05-15 15:00 UTC);
    let pending = order(json!({"id": 5, "status": "PENDING"}));
    let delivered = order(
        json!({"id": 5, "status": "DELIVERED", "iccid": "8944000000000000005",
        "activation_status": "NOT_INSTALLED", "is_installed": false}),
    );
    let active = order(
        json!({"id": 5, "status": "DELIVERED", "iccid": "8944000000000000005",
        "activation_status": "ACTIVE", "activated_at": "2026-05-15T16:00:00Z"}),
    );
    assert!(from_snapshots(None, &pending, at).unwrap().is_empty());
    let first = from_snapshots(Some(&pending), &delivered, at).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].created_at, "2026-05-15T15:00:00Z");
    let next = from_snapshots(Some(&delivered), &active, at).unwrap();
    let types: Vec<_> = next
        .iter()
        .map(|e| (e.event_type, e.data.inferred))
        .collect();
    assert_eq!(
        types,
        [
            (EventType::Installed, Some(true)),
            (EventType::Activated, None)
        ]
    );
    assert!(from_snapshots(Some(&active), &active, at)
        .unwrap()
        .is_empty());
    assert_schema_valid(&next);
}

/// Marks every planted code's matching id: the independent oracle looks for it, literally, in
/// every decoding of what is left (7 characters the other generated text cannot spell).
const PLANTED: &str = "MID7Q9X";

/// Arbitrary JSON trees, with LPA codes (matching ids starting [`PLANTED`]) and secret keys
/// planted at random depths.
fn arb_tree() -> impl Strategy<Value = Value> {
    let lpa = "[a-z0-9]{0,6}(LPA|lpa|Lpa):1\\$[a-z.]{1,12}\\$MID7Q9X[A-Z0-9-]{0,9}[ a-z]{0,4}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        lpa.prop_map(Value::from),
    ];
    let key = prop_oneof![
        "[a-z_]{1,10}",
        Just("activation_code".to_owned()),
        Just("QR_CODE".to_owned()),
        Just("Lpa".to_owned()),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Asserts, with the independent oracle, that no string or key of `v` holds a planted
/// matching id or an activation code, as written or in any decoding.
fn assert_nothing_planted_left(v: &Value) -> Result<(), TestCaseError> {
    for s in test_oracle::strings(v) {
        prop_assert!(
            !test_oracle::reveals(&s, PLANTED),
            "planted id kept: {:?}",
            s
        );
        prop_assert!(!test_oracle::has_code(&s), "code kept: {:?}", s);
    }
    Ok(())
}

proptest! {
    #[test]
    fn no_lpa_survives_redaction_whatever_the_shape(mut tree in arb_tree()) {
        redact_value(&mut tree);
        assert_nothing_planted_left(&tree)?;
        prop_assert!(!tree.to_string().contains(PLANTED));
        // What redaction leaves also passes the publisher's own check.
        prop_assert_eq!(find_leak(&tree), None);
    }

    #[test]
    fn no_lpa_survives_normalisation_whatever_the_data(extra in arb_tree(), reference in "[ -~]{0,8}LPA:1\\$h\\$MID7Q9X[A-Z]{3}") {
        let mut data = json!({"id": 1, "status": "DELIVERED", "iccid": "8901000000000000001", "client_reference": reference});
        if let (Value::Object(d), Value::Object(more)) = (&mut data, &extra) {
            for (k, v) in more { d.entry(k.clone()).or_insert(v.clone()); }
        }
        let body = json!({"id": "e", "type": "esim.delivered", "created_at": "2026-01-01T00:00:00Z", "data": data});
        let normalised = from_webhook(&parse_envelope(body.to_string().as_bytes()).unwrap());
        let events = match normalised {
            Ok(Normalised::Publish(events)) => events,
            other => return Err(TestCaseError::fail(format!("expected a publish: {other:?}"))),
        };
        prop_assert_eq!(events.len(), 1);
        for e in events {
            let payload = String::from_utf8(e.to_payload().unwrap()).unwrap();
            let v: Value = serde_json::from_str(&payload).unwrap();
            prop_assert!(v["data"].get("client_reference").is_none(), "{}", payload);
            prop_assert!(e.data.rejected.fields().any(|f| f == "client_reference"), "{}", payload);
            prop_assert!(!payload.contains(PLANTED), "{}", payload);
            assert_nothing_planted_left(&v)?;
        }
    }
}

#[test]
fn a_snapshot_without_its_iccid_never_moves_an_esim_to_a_second_key() {
    let at = datetime!(2026-05-15 15:00 UTC);
    const ICCID: &str = "8944000000000000005";
    let pending = order(json!({"id": 5, "status": "PENDING"}));
    let delivered = order(json!({"id": 5, "status": "DELIVERED", "iccid": ICCID}));
    let installed_bare = order(json!({"id": 5, "status": "DELIVERED", "is_installed": true}));
    // Listed without its ICCID: refused (the poller resolves it by a detail read).
    let e = from_snapshots(Some(&pending), &installed_bare, at).unwrap_err();
    assert!(e.is_missing_iccid(), "{e}");
    assert!(from_snapshots(None, &installed_bare, at)
        .unwrap_err()
        .is_missing_iccid());
    // Known from before: the ICCID carries over; the key stays the ICCID.
    let next = from_snapshots(Some(&delivered), &installed_bare, at).unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        next[0].subject("esim").unwrap(),
        format!("esim.events.{ICCID}.installed")
    );
    assert_schema_valid(&next);
    // Cancelled after a published delivery, without the ICCID: refused, not `order-5`.
    let issued = order(json!({"id": 5, "status": "DELIVERED"}));
    let cancelled = order(json!({"id": 5, "status": "CANCELLED"}));
    assert!(from_snapshots(Some(&issued), &cancelled, at)
        .unwrap_err()
        .is_missing_iccid());
    // Failed before issue: keyed by the order, as documented.
    let failed = order(json!({"id": 5, "status": "FAILED"}));
    let events = from_snapshots(Some(&pending), &failed, at).unwrap();
    assert_eq!(
        events[0].subject("esim").unwrap(),
        "esim.events.order-5.failed"
    );
}

#[test]
fn a_webhook_of_a_step_that_needs_an_iccid_but_lacks_it_is_an_error() {
    for t in [
        "esim.delivered",
        "esim.installed",
        "esim.activated",
        "esim.depleted",
    ] {
        let body = json!({"id": "e", "type": t, "created_at": "2026-01-01T00:00:00Z",
            "data": {"id": 9, "status": "DELIVERED", "iccid": null}});
        let env = parse_envelope(body.to_string().as_bytes()).unwrap();
        assert!(from_webhook(&env).is_err(), "{t}");
    }
}

#[test]
fn the_schema_states_the_field_rules() {
    let validator = schema_validator();
    let event = |data: Value| {
        json!({"id": "evt_esim_order-1_failed", "type": "esim.failed",
            "created_at": "2026-01-01T00:00:00Z", "source": "poll", "data": data})
    };
    assert!(validator.is_valid(&event(json!({"id": 1, "currency": "USD",
        "failure_code": "OUT_OF_STOCK", "product_name": "Japan eSIM $5"}))));
    for bad in [
        json!({"id": 1, "currency": "usd"}),
        json!({"id": 1, "country_code": "JP"}),
        json!({"id": 1, "failure_code": "out of stock"}),
        json!({"id": 1, "product_name": "a\nb"}),
        json!({"id": 1, "failure_reason": "lpa:x"}),
        json!({"id": 1, "iccid": "8910"}),
    ] {
        assert!(!validator.is_valid(&event(bad.clone())), "{bad}");
    }
}
