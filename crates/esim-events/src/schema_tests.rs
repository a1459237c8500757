//! The shipped JSON Schema (`schema/esim-event.strict.schema.json`) checked both ways against the
//! types: every field the types serialise is in the schema and every property of the schema is
//! a field of the types; the fields always present are exactly the schema's `required`; each
//! enum lists exactly the values the types produce; and the schema rejects what it does not name.
//!
//! The examples are built with exhaustive struct literals and `match`es, so adding a field or
//! a variant to the types does not compile until it is added here, and then fails until it is
//! in the schema.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::lifecycle::EventType;
use super::order::{ActivationStatus, OrderData, OrderStatus};
use super::schema::{Event, Source};

pub(crate) fn schema() -> Value {
    serde_json::from_str(include_str!(
        "../../../schema/esim-event.strict.schema.json"
    ))
    .expect("schema file is JSON")
}

/// The names of an object schema's `properties`.
fn properties(object_schema: &Value) -> BTreeSet<String> {
    object_schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect()
}

/// An object schema's `required`.
fn required(object_schema: &Value) -> BTreeSet<String> {
    let names = object_schema["required"].as_array().expect("required");
    names
        .iter()
        .map(|n| n.as_str().expect("name").to_owned())
        .collect()
}

/// A value's object keys.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

/// Keeps a field of the full example, which must be present in it.
fn present<T: Clone>(name: &str, v: &Option<T>) -> Option<T> {
    assert!(v.is_some(), "the full example lacks {name}");
    v.clone()
}

/// An order with every field set; the literal names each field, so a new one must be added.
fn full_order() -> OrderData {
    let p: OrderData = serde_json::from_value(json!({
        "id": 9302481, "client_reference": "TRIP_TOKYO_OCT", "status": "DELIVERED",
        "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
        "validity_days": 7, "amount": 4.275, "currency": "USD",
        "iccid": "8910300000123456789", "failure_code": "NONE", "failure_reason": "none",
        "is_user_fixable": false, "activation_status": "ACTIVE", "is_installed": true,
        "installed_at": "2026-05-15T15:02:10Z", "activated_at": "2026-05-15T16:00:00Z",
        "created_at": "2026-05-15T14:30:00Z", "inferred": true
    }))
    .expect("full order");
    assert!(p.rejected.is_empty());
    OrderData {
        id: p.id,
        client_reference: present("client_reference", &p.client_reference),
        status: present("status", &p.status),
        product_name: present("product_name", &p.product_name),
        country_code: present("country_code", &p.country_code),
        data_amount_gb: present("data_amount_gb", &p.data_amount_gb),
        validity_days: present("validity_days", &p.validity_days),
        amount: present("amount", &p.amount),
        currency: present("currency", &p.currency),
        iccid: present("iccid", &p.iccid),
        failure_code: present("failure_code", &p.failure_code),
        failure_reason: present("failure_reason", &p.failure_reason),
        is_user_fixable: present("is_user_fixable", &p.is_user_fixable),
        activation_status: present("activation_status", &p.activation_status),
        is_installed: present("is_installed", &p.is_installed),
        installed_at: present("installed_at", &p.installed_at),
        activated_at: present("activated_at", &p.activated_at),
        created_at: present("created_at", &p.created_at),
        inferred: present("inferred", &p.inferred),
        rejected: p.rejected,
    }
}

fn event(data: OrderData) -> Event {
    Event {
        id: "evt_esim_8910300000123456789_activated".to_owned(),
        event_type: EventType::Activated,
        created_at: crate::Timestamp::parse("2026-05-15T16:00:00Z").unwrap(),
        source: Source::Poll,
        repaired_at: None,
        data,
    }
}

/// The event as `audit --repair` writes it: the one optional envelope field set.
fn repaired(e: Event) -> Event {
    e.repaired(crate::Timestamp::parse("2026-05-16T09:00:00Z").unwrap())
}

fn to_json(e: &Event) -> Value {
    serde_json::from_slice(&e.to_payload().expect("payload")).expect("json")
}

#[test]
fn every_field_of_the_types_is_in_the_schema_and_every_property_is_a_field() {
    let schema = schema();
    let full = to_json(&repaired(event(full_order())));
    assert_eq!(keys(&full), properties(&schema));
    assert_eq!(keys(&full["data"]), properties(&schema["$defs"]["order"]));
}

#[test]
fn the_fields_always_present_are_the_schemas_required() {
    let schema = schema();
    let minimal = to_json(&event(OrderData::new(1)));
    assert_eq!(keys(&minimal), required(&schema));
    assert_eq!(keys(&minimal["data"]), required(&schema["$defs"]["order"]));
}

#[test]
fn full_and_minimal_events_are_valid_and_round_trip() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    for e in [repaired(event(full_order())), event(OrderData::new(1))] {
        let v = to_json(&e);
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{v}");
        assert_eq!(serde_json::from_value::<Event>(v).expect("parses back"), e);
    }
}

#[test]
fn the_schema_rejects_properties_the_types_do_not_have() {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let mut top = to_json(&event(OrderData::new(1)));
    top["activation_code"] = json!("x");
    assert!(!validator.is_valid(&top));
    let mut nested = to_json(&event(OrderData::new(1)));
    nested["data"]["lpa"] = json!("x");
    assert!(!validator.is_valid(&nested));
}

/// The serialised forms of `values`, as the schema's `enum` would list them.
fn serialised<T: serde::Serialize>(values: &[T]) -> BTreeSet<String> {
    values.iter().map(|v| json!(v).to_string()).collect()
}

fn schema_enum(property_schema: &Value) -> BTreeSet<String> {
    let values = property_schema["enum"].as_array().expect("enum");
    values.iter().map(Value::to_string).collect()
}

#[test]
fn each_enum_lists_exactly_the_values_of_its_type() {
    // Exhaustive matches: a new variant fails to compile until it is listed here.
    let source = |s: Source| match s {
        Source::Webhook | Source::Poll => s,
    };
    let status = |s: OrderStatus| match s {
        OrderStatus::Pending
        | OrderStatus::Delivered
        | OrderStatus::Failed
        | OrderStatus::Cancelled
        | OrderStatus::Unknown => s,
    };
    let activation = |s: ActivationStatus| match s {
        ActivationStatus::NotInstalled
        | ActivationStatus::Active
        | ActivationStatus::Expired
        | ActivationStatus::Unknown => s,
    };
    let kind = |t: EventType| match t {
        EventType::Delivered
        | EventType::Installed
        | EventType::Activated
        | EventType::Depleted
        | EventType::Failed
        | EventType::Cancelled => t,
    };
    let schema = schema();
    let (top, order) = (
        &schema["properties"],
        &schema["$defs"]["order"]["properties"],
    );
    assert_eq!(
        schema_enum(&top["type"]),
        serialised(&EventType::ALL.map(kind))
    );
    assert_eq!(
        schema_enum(&top["source"]),
        serialised(&[Source::Webhook, Source::Poll].map(source))
    );
    use OrderStatus as S;
    let statuses = [
        S::Pending,
        S::Delivered,
        S::Failed,
        S::Cancelled,
        S::Unknown,
    ];
    assert_eq!(
        schema_enum(&order["status"]),
        serialised(&statuses.map(status))
    );
    use ActivationStatus as A;
    let activations = [A::NotInstalled, A::Active, A::Expired, A::Unknown];
    assert_eq!(
        schema_enum(&order["activation_status"]),
        serialised(&activations.map(activation))
    );
}

#[test]
fn inferred_is_either_true_or_absent_in_the_types_as_in_the_schema() {
    assert_eq!(
        schema()["$defs"]["order"]["properties"]["inferred"]["const"],
        json!(true)
    );
    // The bridge reads `inferred: false` as absent (esim-normalise's fields tests); absent is
    // not written.
    let not_inferred = OrderData::new(1);
    assert!(!keys(&json!(not_inferred)).contains("inferred"));
}

/// Serialises events and checks each against the strict schema (the producer's own tests).
pub(crate) fn assert_schema_valid(events: &[Event]) {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    for e in events {
        let v: Value = serde_json::from_slice(&e.to_payload().expect("payload")).expect("json");
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{} invalid: {errors:?}\n{v}", e.id);
    }
}
