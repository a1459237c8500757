//! Every way a webhook request can fail, mapped to its HTTP answer and logged in one place.
//!
//! Bodies are short, fixed strings: they never echo the request, a header or a secret. Each
//! rejection is logged once, by [`IntoResponse`]: its reason, and for a body that is not a valid
//! event where in the body (a [`Rejection`], never a value); a 503 with its cause's chain.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::scrub::Rejection;
use super::verify::VerifyError;
use crate::publish::PublishError;
use crate::telemetry::ErrorChain;

use crate::http::RETRY_AFTER_SECS;

/// A webhook request that was not (or not yet) accepted.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("unsupported content type")]
    ContentType,
    #[error("body could not be read")]
    BodyRead,
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] VerifyError),
    /// A verified body that breaks a rule of its own (e.g. header and body disagree).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A verified body that is not an event envelope.
    #[error("bad request: malformed_envelope")]
    Envelope(Rejection),
    /// A verified envelope whose event is not valid.
    #[error("bad request: invalid_event")]
    Event {
        rejection: Rejection,
        body_len: usize,
    },
    /// A valid event that cannot become a subject, header or payload.
    #[error("bad request: invalid_event")]
    Unpublishable(#[source] PublishError),
    /// A valid event larger than NATS stores (server `max_payload`, stream `max_msg_size`):
    /// refused for good, so the sender stops retrying what can never be stored.
    #[error("event too large for the event store")]
    EventTooLarge(#[source] PublishError),
    /// The events stream is full: the sender retries; the cause is logged once by the publisher.
    #[error("event store full")]
    StreamFull(#[source] PublishError),
    /// NATS is away or slow, or refused the event: the sender retries.
    #[error("event store unavailable")]
    Unavailable(#[source] PublishError),
    /// No acknowledgement before the request's deadline: the sender retries.
    #[error("event store unavailable")]
    AckTimeout,
}

impl From<PublishError> for WebhookError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Event(_) => Self::Unpublishable(e),
            PublishError::TooLarge(_) => Self::EventTooLarge(e),
            PublishError::StreamFull(_) => Self::StreamFull(e),
            _ => Self::Unavailable(e),
        }
    }
}

impl WebhookError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyRead
            | Self::BadRequest(_)
            | Self::Envelope(_)
            | Self::Event { .. }
            | Self::Unpublishable(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::EventTooLarge(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::StreamFull(_) | Self::Unavailable(_) | Self::AckTimeout => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// Metric label for the reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ContentType => "content_type",
            Self::BodyRead => "body_read",
            Self::Unauthorized(v) => v.reason(),
            Self::BadRequest(r) => r,
            Self::Envelope(_) => "malformed_envelope",
            Self::Event { .. } | Self::Unpublishable(_) => "invalid_event",
            Self::EventTooLarge(_) => "event_too_large",
            Self::StreamFull(_) => "stream_full",
            Self::Unavailable(_) | Self::AckTimeout => "nats_unavailable",
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = self.status();
        metrics::counter!("esim_bridge_webhooks_total", "outcome" => "rejected", "reason" => self.reason())
            .increment(1);
        self.log(status);
        let mut response = (status, self.to_string()).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        response
    }
}

impl WebhookError {
    /// The one log line of a rejection: what was wrong and where, never a value.
    fn log(&self, status: StatusCode) {
        let reason = self.reason();
        let (rejection, body_len) = match self {
            Self::Envelope(r) => (Some(r), None),
            Self::Event {
                rejection,
                body_len,
            } => (Some(rejection), Some(*body_len)),
            _ => (None, None),
        };
        if let Self::StreamFull(_) = self {
            // Said once per state by the publisher; here only that this request was refused.
            tracing::debug!(reason, "webhook not stored; asked the sender to retry");
        } else if status.is_server_error() {
            let cause = std::error::Error::source(self);
            tracing::warn!(
                reason,
                error = cause.map(ErrorChain).map(tracing::field::display),
                "webhook not stored; asked the sender to retry"
            );
        } else if let Self::EventTooLarge(e) = self {
            tracing::warn!(reason, status = status.as_u16(), error = %ErrorChain(e), "webhook rejected");
        } else {
            tracing::info!(
                reason,
                status = status.as_u16(),
                step = rejection.map(|r| r.step),
                json = rejection.and_then(|r| r.json),
                line = rejection.map(|r| r.line),
                column = rejection.map(|r| r.column),
                body_len,
                "webhook rejected"
            );
        }
    }
}
