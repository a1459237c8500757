//! The admin listener: `/healthz` (process alive), `/readyz` (NATS connected and the events
//! stream present), `/metrics` (Prometheus text format, with `esim_bridge_nats_connected` read
//! from the NATS client at each scrape). Both probes also fail (503 `poller: stopped`) if the
//! poller's supervisor is gone for good; `/readyz` names the poller's state (`poller: polling`,
//! `standby`, `restarting (engine restarts: N)`, ...).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::ingest::poller::PollerHealth;
use crate::publish::{is_connected, is_stream_not_found as is_not_found, Publisher};

/// What readiness is checked against.
#[derive(Clone)]
pub struct AdminState {
    pub publisher: Publisher,
    pub stream: String,
    pub poller: PollerHealth,
}

/// The admin router.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz(State(state): State<AdminState>) -> impl IntoResponse {
    match state.poller.problem() {
        Some(problem) => (StatusCode::SERVICE_UNAVAILABLE, problem),
        None => (StatusCode::OK, "ok"),
    }
}

async fn readyz(State(state): State<AdminState>) -> (StatusCode, String) {
    let unavailable = |why: &str| (StatusCode::SERVICE_UNAVAILABLE, why.to_owned());
    if let Some(problem) = state.poller.problem() {
        return unavailable(problem);
    }
    if !is_connected(state.publisher.client()) {
        return unavailable("nats: not connected");
    }
    let lookup = state.publisher.jetstream().get_stream(&state.stream);
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(_)) => (
            StatusCode::OK,
            format!("ready\n{}", state.poller.describe()),
        ),
        Ok(Err(e)) if is_not_found(&e) => unavailable("stream: not found"),
        Ok(Err(_)) => unavailable("nats: stream lookup failed"),
        Err(_) => unavailable("nats: no answer"),
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
