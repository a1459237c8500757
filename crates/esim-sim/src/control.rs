//! The HTTP control surface under `/_sim/` (JSON): scripted orders, clock, faults (5xx, 429
//! storms, garbage answers), counters.
//! It mirrors the in-process methods of [`SimState`] and is neither authenticated nor counted.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::api::{parse_json, ApiError};
use super::clock::rfc3339;
use super::faults::FaultConfig;
use super::garbage::GarbageKind;
use super::plan::OrderPlan;
use super::state::{CreateError, ScriptedOrder, SimState};
use super::store::StoreError;

/// Routes under `/_sim/`.
pub fn control_routes(state: SimState) -> Router {
    Router::new()
        .route("/_sim/counters", get(counters))
        .route("/_sim/counters/reset", post(reset_counters))
        .route("/_sim/orders", post(create_order))
        .route("/_sim/orders/{id}", get(truth))
        .route("/_sim/transitions", get(transitions))
        .route("/_sim/script", post(script))
        .route("/_sim/clock", get(clock))
        .route("/_sim/clock/advance", post(advance))
        .route("/_sim/faults", get(faults).put(set_faults))
        .route("/_sim/faults/fail-next", post(fail_next))
        .route("/_sim/faults/throttle", post(throttle))
        .route("/_sim/faults/garbage", post(garbage))
        .route("/_sim/faults/clear", post(clear_faults))
        .route("/_sim/auth/revoke-access", post(revoke_access))
        .route("/_sim/rate-limit", put(rate_limit))
        .with_state(state)
}

async fn counters(
    State(state): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let with_times = q.get("times").is_some_and(|v| v == "true" || v == "1");
    Json(state.shared.counters.snapshot(with_times)).into_response()
}

async fn reset_counters(State(state): State<SimState>) -> StatusCode {
    state.reset_counters();
    StatusCode::NO_CONTENT
}

async fn create_order(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let order: ScriptedOrder = parse_json(&body)?;
    match state.create_order(order) {
        Ok(truth) => Ok(Json(truth).into_response()),
        Err(CreateError::Store(StoreError::DuplicateReference)) => {
            Err(ApiError::BadRequest("Duplicate client_reference".into()))
        }
        Err(e) => Err(ApiError::Validation(e.to_string())),
    }
}

async fn truth(State(state): State<SimState>, Path(id): Path<u64>) -> Result<Response, ApiError> {
    state
        .truth(id)
        .map(|t| Json(t).into_response())
        .ok_or_else(|| ApiError::NotFound(format!("Order {id} not found")))
}

/// `{"transitions": [...], "all_done": bool}`: what the simulator did by sim now.
async fn transitions(State(state): State<SimState>) -> Response {
    let (made, all_done) = state.transitions();
    Json(json!({"transitions": made, "all_done": all_done})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptBody {
    /// Applies to the API order with this reference; to the next API order when absent.
    #[serde(default)]
    client_reference: Option<String>,
    plan: OrderPlan,
}

async fn script(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let body: ScriptBody = parse_json(&body)?;
    match body.client_reference {
        Some(r) => state.script_for(r, body.plan),
        None => state.script_next(body.plan),
    }
    Ok(StatusCode::NO_CONTENT)
}

fn clock_json(state: &SimState) -> Response {
    let clock = state.clock();
    Json(json!({
        "now": rfc3339(clock.now()),
        "wall_now": rfc3339(clock.wall_now()),
        "speed": clock.speed(),
    }))
    .into_response()
}

async fn clock(State(state): State<SimState>) -> Response {
    clock_json(&state)
}

#[derive(Deserialize)]
struct AdvanceBody {
    #[serde(with = "humantime_serde")]
    by: Duration,
}

async fn advance(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let body: AdvanceBody = parse_json(&body)?;
    state.advance(body.by);
    Ok(clock_json(&state))
}

async fn faults(State(state): State<SimState>) -> Response {
    Json(state.shared.faults.config()).into_response()
}

async fn set_faults(State(state): State<SimState>, body: Bytes) -> Result<Response, ApiError> {
    let cfg: FaultConfig = parse_json(&body)?;
    if !(0.0..=1.0).contains(&cfg.error_rate) {
        return Err(ApiError::Validation(
            "error_rate must be within 0..=1".into(),
        ));
    }
    state.set_faults(cfg.clone());
    Ok(Json(cfg).into_response())
}

#[derive(Deserialize)]
struct FailNextBody {
    count: u64,
    #[serde(default = "default_fail_status")]
    status: u16,
}

fn default_fail_status() -> u16 {
    503
}

async fn fail_next(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let body: FailNextBody = parse_json(&body)?;
    if !(500..=599).contains(&body.status) {
        return Err(ApiError::Validation("status must be a 5xx".into()));
    }
    state.fail_next_reads(body.count, body.status);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ThrottleBody {
    #[serde(with = "humantime_serde")]
    duration: Duration,
}

async fn throttle(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let body: ThrottleBody = parse_json(&body)?;
    state.throttle_for(body.duration);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GarbageBody {
    count: u64,
    #[serde(default = "default_garbage_kind")]
    kind: GarbageKind,
}

fn default_garbage_kind() -> GarbageKind {
    GarbageKind::Mixed
}

async fn garbage(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let body: GarbageBody = parse_json(&body)?;
    state.garbage_next_reads(body.count, body.kind);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(state): State<SimState>) -> StatusCode {
    state.clear_faults();
    StatusCode::NO_CONTENT
}

async fn revoke_access(State(state): State<SimState>) -> StatusCode {
    state.revoke_access_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct RateLimitBody {
    reads_per_minute: u32,
}

async fn rate_limit(State(state): State<SimState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let body: RateLimitBody = parse_json(&body)?;
    state.set_reads_per_minute(body.reads_per_minute);
    Ok(StatusCode::NO_CONTENT)
}
