//! The provider's HTTP API as an axum `Router`: auth routes, order routes, and the two layers
//! every provider request passes — `observe` (counting, latency, `X-Request-Id`, outcome
//! counters) and, for `/api/v1`, `gate` (faults → bearer auth → shared read budget).

mod auth;
mod error;
mod orders;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;

pub use error::ApiError;

use super::config::Envelope;
use super::faults::Injected;
use super::lock::lock;
use super::state::SimState;

/// The provider's routes (auth and orders) with their layers, as a stateless-looking router.
pub fn provider_routes(state: SimState) -> Router {
    let api = Router::new()
        .route(
            "/api/v1/esim/orders",
            get(orders::list).post(orders::create),
        )
        .route("/api/v1/esim/orders/{id}", get(orders::detail))
        .route(
            "/api/v1/esim/orders/{id}/notification-email",
            patch(orders::notification_email),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), gate));
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .merge(api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Route not found".into())
}

/// Counts arrivals per route, adds configured latency, echoes `X-Request-Id` and records
/// 401/429/5xx outcomes (a 429 also starts the announced `Retry-After` pause).
async fn observe(
    State(state): State<SimState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = format!(
        "{} {}",
        req.method(),
        matched.as_ref().map_or("unmatched", MatchedPath::as_str)
    );
    let counters = &state.shared.counters;
    counters.arrival(&route, Instant::now());
    let request_id = req.headers().get("x-request-id").cloned();
    let latency = state.shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = next.run(req).await;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        counters.bump(|c| c.unauthorized += 1);
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        let secs = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0);
        counters.throttled(Instant::now(), secs);
    } else if status.is_server_error() {
        counters.bump(|c| c.server_errors += 1);
    }
    if let Some(id) = request_id {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// For `/api/v1`: injected faults (reads only), then bearer auth, then the shared read budget.
async fn gate(State(state): State<SimState>, req: Request, next: Next) -> Response {
    let now = Instant::now();
    let shared = &state.shared;
    let is_read = req.method() == Method::GET;
    if is_read {
        match shared.faults.on_read(now) {
            Some(Injected::ServerError(code)) => return ApiError::Server(code).into_response(),
            Some(Injected::Throttle(secs)) => {
                return ApiError::TooManyRequests(secs).into_response()
            }
            Some(Injected::Garbage(kind, n)) => {
                shared.counters.bump(|c| c.garbage_answers += 1);
                let list = req.uri().path().trim_end_matches('/') == "/api/v1/esim/orders";
                return super::garbage::response(kind, list, n);
            }
            None => {}
        }
    }
    let authorised = bearer(req.headers()).is_some_and(|t| shared.auth.check_access(t, now));
    if !authorised {
        return ApiError::Unauthorized("Missing, invalid or expired access token").into_response();
    }
    if is_read {
        let admitted = lock(&shared.reads).try_admit(now);
        match admitted {
            Ok(()) => shared.counters.read_served(now),
            Err(secs) => return ApiError::TooManyRequests(secs).into_response(),
        }
    }
    next.run(req).await
}

/// The bearer token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Parses a JSON body, answering `VALIDATION_FAILURE` when it does not fit.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Validation(format!("invalid body: {e}")))
}

#[derive(Serialize)]
struct Wrapped<'a, T> {
    data: &'a T,
}

/// A JSON answer shaped per `envelope` (bare, or `{"data": ...}`).
pub(crate) struct JsonBody(Vec<u8>);

impl IntoResponse for JsonBody {
    fn into_response(self) -> Response {
        let ct = HeaderValue::from_static("application/json");
        ([(header::CONTENT_TYPE, ct)], self.0).into_response()
    }
}

/// Serialises `value` per `envelope`.
pub(crate) fn json_body<T: Serialize>(envelope: Envelope, value: &T) -> Result<JsonBody, ApiError> {
    let bytes = match envelope {
        Envelope::Bare => serde_json::to_vec(value),
        Envelope::Wrapped => serde_json::to_vec(&Wrapped { data: value }),
    };
    bytes.map(JsonBody).map_err(|_| ApiError::Server(500))
}
