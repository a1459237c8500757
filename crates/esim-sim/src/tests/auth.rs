//! Auth scenarios: login, refresh rotation, expiry, logout, auth rate limits.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;

use super::{config, Client};
use crate::SimConfig;

#[tokio::test]
async fn wrong_credentials_get_a_401_error_envelope() {
    let c = Client::new(config());
    let a = c
        .post(
            "/auth/login",
            json!({"username": "demo-key", "password": "nope"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.error_code(), "UNAUTHORIZED");
    assert_eq!(a.json["error"]["name"], "UnauthorizedError");
    assert!(a.json["error"]["message"].is_string());
    assert_eq!(c.state.counters().unauthorized, 1);
}

#[tokio::test]
async fn login_returns_the_documented_pair_and_the_token_opens_the_api() {
    let mut c = Client::new(config());
    let data = c.login().await;
    for key in [
        "access_token",
        "refresh_token",
        "access_expires_at",
        "refresh_expires_at",
    ] {
        assert!(data[key].is_string(), "{key} missing in {data}");
    }
    assert_eq!(data["client_id"], "sim-client-1");
    assert_eq!(data["access_expires_at"], "2026-05-15T13:00:00Z");
    assert_eq!(data["refresh_expires_at"], "2026-05-22T12:00:00Z");
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);
    c.token = Some("not-a-token".into());
    let a = c.get("/api/v1/esim/orders").await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_is_rejected() {
    let mut c = Client::new(config());
    let first = c.login().await;
    let old = first["refresh_token"].clone();
    let a = c.post("/auth/refresh", json!({"refresh_token": old})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.raw);
    let new = &a.json["data"];
    assert_ne!(new["refresh_token"], old);
    assert_ne!(new["access_token"], first["access_token"]);
    c.token = new["access_token"].as_str().map(str::to_owned);
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);

    let reuse = c.post("/auth/refresh", json!({"refresh_token": old})).await;
    assert_eq!(
        (reuse.status, reuse.error_code()),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
    let again = c
        .post(
            "/auth/refresh",
            json!({"refresh_token": new["refresh_token"]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let counters = c.state.counters();
    assert_eq!((counters.logins, counters.refreshes), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn access_and_refresh_tokens_expire_on_tokio_time() {
    let mut c = Client::new(SimConfig {
        access_token_ttl: Duration::from_secs(30),
        refresh_token_ttl: Duration::from_secs(120),
        ..config()
    });
    let pair = c.login().await;
    tokio::time::advance(Duration::from_secs(29)).await;
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        c.get("/api/v1/esim/orders").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The refresh token still works and yields a working access token.
    let a = c
        .post(
            "/auth/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    c.token = a.json["data"]["access_token"].as_str().map(str::to_owned);
    assert_eq!(c.get("/api/v1/esim/orders").await.status, StatusCode::OK);
    // A refresh token left unused past its lifetime is dead.
    tokio::time::advance(Duration::from_secs(121)).await;
    let late = c
        .post(
            "/auth/refresh",
            json!({"refresh_token": a.json["data"]["refresh_token"]}),
        )
        .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_revokes_everything_and_is_counted() {
    let mut c = Client::new(config());
    let pair = c.login().await;
    assert_eq!(
        c.post("/auth/logout", json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        c.get("/api/v1/esim/orders").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = c
        .post(
            "/auth/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.state.counters().logouts, 1);
}

#[tokio::test(start_paused = true)]
async fn the_eleventh_login_in_a_minute_is_throttled() {
    let mut c = Client::new(config());
    for _ in 0..10 {
        c.login().await;
    }
    let a = c
        .post(
            "/auth/login",
            json!({"username": "demo-key", "password": "demo-secret"}),
        )
        .await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS")
    );
    assert_eq!(a.header("retry-after"), "60");
    tokio::time::advance(Duration::from_secs(60)).await;
    c.login().await;
}
