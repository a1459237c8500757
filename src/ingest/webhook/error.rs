//! Every way a webhook request can fail, mapped to its HTTP answer in one place.
//!
//! Bodies are short, fixed strings: they never echo the request, a header or a secret.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::verify::VerifyError;

pub use crate::server::RETRY_AFTER_SECS;

/// A webhook request that was not (or not yet) accepted.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("unsupported content type")]
    ContentType,
    #[error("body too large")]
    TooLarge,
    #[error("body could not be read")]
    BodyRead,
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] VerifyError),
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("event store unavailable")]
    Unavailable,
}

impl WebhookError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Metric label for the reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ContentType => "content_type",
            Self::TooLarge => "too_large",
            Self::BodyRead => "body_read",
            Self::Unauthorized(v) => v.reason(),
            Self::BadRequest(r) => r,
            Self::Unavailable => "nats_unavailable",
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = self.status();
        metrics::counter!("esim_bridge_webhooks_total", "outcome" => "rejected", "reason" => self.reason())
            .increment(1);
        if status.is_server_error() {
            tracing::warn!(
                reason = self.reason(),
                "webhook not stored; asked the sender to retry"
            );
        } else {
            tracing::info!(
                reason = self.reason(),
                status = status.as_u16(),
                "webhook rejected"
            );
        }
        let mut response = (status, self.to_string()).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        response
    }
}
