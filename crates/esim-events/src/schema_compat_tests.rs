//! The published consumer schema (`schema/esim-event.schema.json`) and its frozen v1 copy
//! (`schema/compat/v1.json`) hold the compatibility promise of `schema/README.md`: every event
//! this build writes passes both, and so do the additions the policy calls additive (an unknown
//! field at the top level or in `data`, a new event type, a new status value), while what the
//! policy calls breaking (a missing required field, a wrong type, a code-like text) still fails.

use serde_json::{json, Value};

use super::lifecycle::EventType;
use super::schema::{Event, Source};
use super::OrderData;

/// (file, compiled schema) for the published and the frozen consumer schema.
fn consumer_schemas() -> Vec<(&'static str, jsonschema::Validator)> {
    let files = [
        (
            "esim-event.schema.json",
            include_str!("../../../schema/esim-event.schema.json"),
        ),
        (
            "compat/v1.json",
            include_str!("../../../schema/compat/v1.json"),
        ),
    ];
    files
        .into_iter()
        .map(|(name, text)| {
            let v: Value = serde_json::from_str(text).expect("schema file is JSON");
            (
                name,
                jsonschema::validator_for(&v).expect("schema compiles"),
            )
        })
        .collect()
}

fn event_json(event_type: EventType) -> Value {
    let data: OrderData = serde_json::from_value(json!({
        "id": 9302481, "status": "DELIVERED", "iccid": "8910300000123456789",
        "amount": 4.275, "currency": "USD", "activation_status": "ACTIVE"
    }))
    .expect("order");
    let at = crate::Timestamp::parse("2026-05-15T14:30:32Z").expect("time");
    let e = Event::new(event_type, data, at, Source::Webhook).expect("event");
    serde_json::from_slice(&e.to_payload().expect("payload")).expect("json")
}

fn assert_all_accept(v: &Value) {
    for (name, s) in consumer_schemas() {
        let errors: Vec<String> = s.iter_errors(v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name} refused {v}: {errors:?}");
    }
}

fn assert_all_refuse(v: &Value) {
    for (name, s) in consumer_schemas() {
        assert!(!s.is_valid(v), "{name} accepted {v}");
    }
}

#[test]
fn every_event_type_this_build_writes_passes_the_published_and_the_frozen_schema() {
    for t in EventType::ALL {
        assert_all_accept(&event_json(t));
    }
}

#[test]
fn additive_changes_pass_the_published_and_the_frozen_schema() {
    let mut extra_top = event_json(EventType::Delivered);
    extra_top["trace_id"] = json!("4bf92f3577b34da6a3ce929d0e0e4736");
    assert_all_accept(&extra_top);

    let mut extra_data = event_json(EventType::Delivered);
    extra_data["data"]["status_text"] = json!("Delivered to device");
    extra_data["data"]["plan"] = json!({"name": "Japan 1 GB"});
    assert_all_accept(&extra_data);

    let mut new_values = event_json(EventType::Delivered);
    new_values["type"] = json!("esim.suspended");
    new_values["id"] = json!("evt_esim_8910300000123456789_suspended");
    new_values["data"]["status"] = json!("ON_HOLD");
    new_values["data"]["activation_status"] = json!("SUSPENDED");
    assert_all_accept(&new_values);
}

#[test]
fn breaking_changes_still_fail_the_published_and_the_frozen_schema() {
    let mut missing = event_json(EventType::Delivered);
    missing
        .as_object_mut()
        .expect("object")
        .remove("created_at");
    assert_all_refuse(&missing);

    let mut retyped = event_json(EventType::Delivered);
    retyped["data"]["id"] = json!("9302481");
    assert_all_refuse(&retyped);

    let mut code = event_json(EventType::Delivered);
    code["data"]["product_name"] = json!("LPA:1$smdp.example$X");
    assert_all_refuse(&code);

    let mut bad_source = event_json(EventType::Delivered);
    bad_source["source"] = json!("carrier-pigeon");
    assert_all_refuse(&bad_source);
}
