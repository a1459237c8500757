//! Garbage answers: asked for over the control surface, served as `200 OK` instead of the
//! real list or detail, counted, spending no budget, and then the faithful model again.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{config, Client};
use crate::garbage::{HUGE_BODY_BYTES, PHANTOM_ID_FLOOR};
use crate::{OrderPlan, ScriptedOrder};

#[tokio::test]
async fn mixed_garbage_is_malformed_then_absurd_then_huge_then_the_truth_again() {
    let mut c = Client::new(config());
    c.login().await;
    let real = c.state.create_order(ScriptedOrder {
        plan: OrderPlan::default(),
        ..ScriptedOrder::default()
    });
    let real = real.expect("order");
    let asked = c
        .post("/_sim/faults/garbage", json!({"count": 3, "kind": "mixed"}))
        .await;
    assert_eq!(asked.status, StatusCode::NO_CONTENT, "{}", asked.raw);

    let malformed = c.get("/api/v1/esim/orders").await;
    assert_eq!(malformed.status, StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&malformed.raw).is_err());

    let absurd = c.get("/api/v1/esim/orders").await;
    assert_eq!(absurd.status, StatusCode::OK);
    assert_eq!(absurd.header("x-total-pages"), "18446744073709551615");
    let phantoms = absurd.json.as_array().expect("a JSON array");
    assert!(!phantoms.is_empty());
    for p in phantoms {
        assert!(p["id"].as_u64().expect("id") >= PHANTOM_ID_FLOOR, "{p}");
    }

    let huge = c.get(&format!("/api/v1/esim/orders/{}", real.id)).await;
    assert_eq!(huge.status, StatusCode::OK);
    assert!(huge.raw.len() > HUGE_BODY_BYTES);

    let truth = c.get(&format!("/api/v1/esim/orders/{}", real.id)).await;
    assert_eq!(truth.json["id"], real.id);
    let counters = c.state.counters();
    assert_eq!(counters.garbage_answers, 3);
    assert_eq!(counters.reads_served, 1, "garbage spends no budget");
    assert_eq!(c.state.order_count(), 1, "phantoms are never stored");
}
