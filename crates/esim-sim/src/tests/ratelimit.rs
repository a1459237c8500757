//! Read budget scenarios: 429 with `Retry-After`, recovery, counters, injected faults.

use std::time::Duration;

use axum::http::StatusCode;

use super::{config, Client};
use crate::ratelimit::MINUTE;
use crate::SimConfig;

async fn client(reads_per_minute: u32) -> Client {
    let mut c = Client::new(SimConfig {
        reads_per_minute,
        ..config()
    });
    c.login().await;
    c
}

#[tokio::test(start_paused = true)]
async fn the_n_plus_first_read_gets_429_with_integer_retry_after_and_then_reads_resume() {
    let c = client(5).await;
    for _ in 0..3 {
        assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);
    }
    tokio::time::advance(Duration::from_millis(20_400)).await;
    for _ in 0..2 {
        assert_eq!(
            c.get("/api/v1/esim/orders/1").await.status,
            StatusCode::NOT_FOUND
        );
    }
    let a = c.get("/api/v1/esim/orders").await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS")
    );
    // The oldest read frees its slot 39.6 s from now: announced as 40.
    assert_eq!(a.header("retry-after"), "40");
    assert_eq!(a.json["error"]["message"], "Retry after 40 seconds");

    // A client ignoring the pause is caught by the counters (and gets another 429).
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(
        c.get("/api/v1/esim/orders").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);

    let counters = c.state.counters();
    assert_eq!(counters.throttled, 2);
    assert_eq!(counters.reads_served, 6);
    assert_eq!(counters.requests_during_retry_after, 1);
    assert_eq!(counters.max_reads_in_window, 5);
    assert_eq!(counters.max_reads_in_any(MINUTE), 5);
    assert_eq!(counters.requests["GET /api/v1/esim/orders"], 6);
    assert_eq!(counters.requests["GET /api/v1/esim/orders/{id}"], 2);
}

#[tokio::test(start_paused = true)]
async fn writes_and_auth_do_not_spend_the_read_budget() {
    let c = client(1).await;
    let body = serde_json::json!({"product_id": "jpn-1gb-7d", "client_reference": "W1"});
    assert_eq!(
        c.post("/api/v1/esim/orders", body).await.status,
        StatusCode::OK
    );
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);
    assert_eq!(
        c.get("/api/v1/esim/orders").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(c.state.counters().reads_in_window, 1);
}

#[tokio::test(start_paused = true)]
async fn injected_failures_and_storms_answer_without_spending_budget() {
    let c = client(100).await;
    c.state.fail_next_reads(2, 503);
    let a = c.get("/api/v1/esim/orders").await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
    );
    assert_eq!(
        c.get("/api/v1/esim/orders").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);

    c.state.throttle_for(Duration::from_secs(30));
    let storm = c.get("/api/v1/esim/orders").await;
    assert_eq!(
        (storm.status, storm.header("retry-after")),
        (StatusCode::TOO_MANY_REQUESTS, "30")
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);

    let counters = c.state.counters();
    assert_eq!((counters.server_errors, counters.throttled), (2, 1));
    assert_eq!(counters.reads_served, 2);
    assert_eq!(counters.requests_during_retry_after, 0);
}
