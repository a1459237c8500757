//! The admin listener: `/healthz` (process alive), `/readyz` (NATS connected and the events
//! stream present), `/metrics` (Prometheus text format, with `esim_bridge_nats_connected` read
//! from the NATS client at each scrape).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::publish::{is_connected, is_stream_not_found as is_not_found, Publisher};

/// What readiness is checked against.
#[derive(Clone)]
pub struct AdminState {
    pub publisher: Publisher,
    pub stream: String,
}

/// The admin router.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<AdminState>) -> impl IntoResponse {
    if !is_connected(state.publisher.client()) {
        return (StatusCode::SERVICE_UNAVAILABLE, "nats: not connected");
    }
    let lookup = state.publisher.jetstream().get_stream(&state.stream);
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        Ok(Err(e)) if is_not_found(&e) => (StatusCode::SERVICE_UNAVAILABLE, "stream: not found"),
        Ok(Err(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "nats: stream lookup failed",
        ),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "nats: no answer"),
    }
}

async fn metrics(State(state): State<AdminState>) -> impl IntoResponse {
    // Read at scrape time, so the value is the client's state now (what /readyz checks first).
    let connected = is_connected(state.publisher.client());
    metrics::gauge!("esim_bridge_nats_connected").set(if connected { 1.0 } else { 0.0 });
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::metrics().render(),
    )
}
