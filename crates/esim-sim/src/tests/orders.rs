//! Order scenarios: create, list pages and filters, stale list vs refreshing detail, envelope.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{config, Client};
use crate::{Envelope, OrderPlan, Outcome, ScriptedOrder, SimConfig};

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

async fn logged_in(cfg: SimConfig) -> Client {
    let mut c = Client::new(cfg);
    c.login().await;
    c
}

fn scripted(reference: &str, plan: OrderPlan) -> ScriptedOrder {
    ScriptedOrder {
        client_reference: Some(reference.into()),
        plan,
        ..ScriptedOrder::default()
    }
}

#[tokio::test]
async fn create_returns_a_delivered_order_with_exact_amount_and_code_and_rejects_duplicates() {
    let c = logged_in(config()).await;
    let body = json!({"product_id": "jpn-1gb-7d", "amount": 4.275, "quantity": 1,
                      "client_reference": "TRIP_TOKYO_OCT"});
    c.state.script_next(OrderPlan::default());
    let a = c.post("/api/v1/esim/orders", body.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    assert!(a.raw.contains(r#""amount":4.275,"#), "{}", a.raw);
    let o = &a.json;
    assert_eq!(o["status"], "DELIVERED");
    assert_eq!(
        (o["product_name"].as_str(), o["country_code"].as_str()),
        (Some("Japan eSIM"), Some("JPN"))
    );
    assert_eq!(o["data_amount_gb"], 1.0);
    assert_eq!(o["validity_days"], 7);
    assert_eq!(o["activation_status"], "NOT_INSTALLED");
    assert_eq!(o["is_installed"], false);
    assert_eq!(o["created_at"], "2026-05-15T12:00:00Z");
    let iccid = o["iccid"].as_str().unwrap_or_default();
    assert!(iccid.len() == 19 && iccid.starts_with("89"), "{iccid}");
    assert!(o["activation_code"]
        .as_str()
        .is_some_and(|s| s.starts_with("LPA:1$smdp.sim.example$")));
    assert_eq!(o["failure_code"], Value::Null);

    let dup = c.post("/api/v1/esim/orders", body).await;
    assert_eq!(
        (dup.status, dup.error_code()),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    assert_eq!(dup.json["error"]["message"], "Duplicate client_reference");
}

#[tokio::test]
async fn list_is_newest_first_with_pagination_headers_and_status_filter() {
    let c = logged_in(config()).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let plan = OrderPlan {
            outcome: if i % 3 == 0 {
                Outcome::Failed
            } else {
                Outcome::Delivered
            },
            ..OrderPlan::default()
        };
        ids.push(
            c.state
                .create_order(scripted(&format!("R{i}"), plan))
                .map(|o| o.id),
        );
    }
    let ids: Vec<u64> = ids.into_iter().collect::<Result<_, _>>().expect("created");
    let a = c.get("/api/v1/esim/orders?page=2&per_page=3").await;
    assert_eq!(a.status, StatusCode::OK);
    let got: Vec<u64> = a
        .json
        .as_array()
        .expect("bare array")
        .iter()
        .filter_map(|o| o["id"].as_u64())
        .collect();
    assert_eq!(got, vec![ids[3], ids[2], ids[1]]);
    let headers: Vec<&str> = [
        "x-page",
        "x-per-page",
        "x-total-count",
        "x-total-pages",
        "x-page-size",
        "x-has-more",
    ]
    .iter()
    .map(|h| a.header(h))
    .collect();
    assert_eq!(headers, ["2", "3", "7", "3", "3", "true"]);
    let last = c.get("/api/v1/esim/orders?page=3&per_page=3").await;
    assert_eq!(
        (last.header("x-page-size"), last.header("x-has-more")),
        ("1", "false")
    );

    let failed = c.get("/api/v1/esim/orders?status=FAILED").await;
    let statuses: Vec<&str> = failed
        .json
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["status"].as_str())
        .collect();
    assert_eq!(statuses, ["FAILED"; 3]);
    assert_eq!(failed.header("x-total-count"), "3");
    let one = c.get("/api/v1/esim/orders?client_reference=R4").await;
    assert_eq!(one.json[0]["id"].as_u64(), Some(ids[4]));
    let bad = c.get("/api/v1/esim/orders?page=0").await;
    assert_eq!(bad.error_code(), "VALIDATION_FAILURE");
}

#[tokio::test]
async fn list_shows_stale_install_state_until_a_detail_read_refreshes_it() {
    let c = logged_in(config()).await;
    let plan = OrderPlan::delivered(Some(minutes(5)), Some(minutes(60)));
    let order = c
        .state
        .create_order(scripted("STALE", plan))
        .expect("created");
    let code = order
        .activation_code
        .clone()
        .expect("delivered orders have a code");
    let uri = format!("/api/v1/esim/orders/{}", order.id);

    let before = c.get(&uri).await;
    assert_eq!(before.json["activation_code"].as_str(), Some(code.as_str()));
    c.state.advance(minutes(6));
    let list = c.get("/api/v1/esim/orders").await;
    assert!(!list.raw.contains("activation_code") && !list.raw.contains(&code));
    assert_eq!(list.json[0]["is_installed"], false, "list must not refresh");

    let detail = c.get(&uri).await;
    assert_eq!(detail.json["is_installed"], true);
    assert_eq!(detail.json["installed_at"], "2026-05-15T12:05:00Z");
    assert!(
        detail.json.get("activation_code").is_none(),
        "code only while not installed"
    );
    assert_eq!(
        c.get("/api/v1/esim/orders").await.json[0]["is_installed"],
        true
    );

    c.state.advance(minutes(60));
    assert_eq!(
        c.get("/api/v1/esim/orders").await.json[0]["activation_status"],
        "NOT_INSTALLED"
    );
    let active = c.get(&uri).await;
    assert_eq!(active.json["activation_status"], "ACTIVE");
    assert_eq!(active.json["activated_at"], "2026-05-15T13:05:00Z");
    c.state.advance(Duration::from_secs(7 * 86_400));
    assert_eq!(c.get(&uri).await.json["activation_status"], "EXPIRED");
}

#[tokio::test]
async fn pending_transitions_are_stored_and_seen_by_the_list_without_detail_reads() {
    let c = logged_in(config()).await;
    let plan = OrderPlan {
        outcome: Outcome::Failed,
        pending_for: minutes(10),
        ..OrderPlan::default()
    };
    c.state
        .create_order(scripted("SLOW", plan))
        .expect("created");
    let pending = c.get("/api/v1/esim/orders?status=PENDING").await;
    assert_eq!(pending.json[0]["iccid"], Value::Null);
    assert_eq!(pending.json[0]["client_reference"], "SLOW");
    c.state.advance(minutes(10));
    assert_eq!(
        c.get("/api/v1/esim/orders?status=PENDING")
            .await
            .header("x-total-count"),
        "0"
    );
    let failed = c.get("/api/v1/esim/orders?status=FAILED").await;
    assert_eq!(failed.json[0]["failure_code"], "PROVIDER_ERROR");
    assert_eq!(failed.json[0]["is_user_fixable"], false);
}

#[tokio::test]
async fn wrapped_envelope_wraps_detail_and_list_and_unknown_ids_are_404() {
    let c = logged_in(SimConfig {
        envelope: Envelope::Wrapped,
        ..config()
    })
    .await;
    let order = c
        .state
        .create_order(ScriptedOrder::default())
        .expect("created");
    let detail = c.get(&format!("/api/v1/esim/orders/{}", order.id)).await;
    assert_eq!(detail.json["data"]["id"].as_u64(), Some(order.id));
    let list = c.get("/api/v1/esim/orders").await;
    assert_eq!(list.json["data"][0]["id"].as_u64(), Some(order.id));
    let missing = c.get("/api/v1/esim/orders/42").await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
}

#[tokio::test]
async fn request_id_is_echoed() {
    let c = logged_in(config()).await;
    let req = axum::http::Request::builder()
        .uri("/api/v1/esim/orders")
        .header(
            "authorization",
            format!("Bearer {}", c.token.clone().unwrap_or_default()),
        )
        .header("x-request-id", "req-123")
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(crate::router(c.state.clone()), req)
        .await
        .expect("ok");
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-123")
    );
}
