//! The provider's error envelope: `{"error": {"name", "code", "message"}}`, one mapping from
//! every failure the API answers with to its HTTP status and headers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer of the simulated provider.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    /// 400 `BAD_REQUEST`.
    #[error("{0}")]
    BadRequest(String),
    /// 400 `VALIDATION_FAILURE`.
    #[error("{0}")]
    Validation(String),
    /// 401 `UNAUTHORIZED`.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404 `NOT_FOUND`.
    #[error("{0}")]
    NotFound(String),
    /// 429 `TOO_MANY_REQUESTS` with `Retry-After` seconds.
    #[error("Retry after {0} seconds")]
    TooManyRequests(u64),
    /// An injected 5xx.
    #[error("upstream failure")]
    Server(u16),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequestError", "BAD_REQUEST"),
            Self::Validation(_) => (
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "VALIDATION_FAILURE",
            ),
            Self::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                "UNAUTHORIZED",
            ),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError", "NOT_FOUND"),
            Self::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsError",
                "TOO_MANY_REQUESTS",
            ),
            Self::Server(502) => (StatusCode::BAD_GATEWAY, "BadGatewayError", "BAD_GATEWAY"),
            Self::Server(503) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableError",
                "SERVICE_UNAVAILABLE",
            ),
            Self::Server(504) => (
                StatusCode::GATEWAY_TIMEOUT,
                "GatewayTimeoutError",
                "GATEWAY_TIMEOUT",
            ),
            Self::Server(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "INTERNAL_SERVER_ERROR",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, name, code) = self.parts();
        let body = json!({"error": {"name": name, "code": code, "message": self.to_string()}});
        let mut response = (status, Json(body)).into_response();
        if let Self::TooManyRequests(secs) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
