//! The signed webhook listener: verify on the raw bytes, normalise, publish, then answer.
//!
//! The answer is 200 only once JetStream has acknowledged every event the webhook implies
//! (or they were already stored); see [`error::WebhookError`] for every other answer.

pub mod error;
mod extract;
pub mod scrub;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use tracing::Instrument;

use crate::config::WebhookConfig;
use crate::publish::{Published, Publisher};
use error::WebhookError;
use esim_normalise::normalise::{self, Normalised};
use extract::VerifiedWebhook;
pub use verify::{standard_signature, Verifier};

/// What the webhook handler needs. The router holds it behind an `Arc`: axum hands every request
/// its own copy of the state, and a `Publisher` clone (NATS client handles, the prefix) cost
/// allocations and atomics per webhook.
pub struct WebhookState {
    verifier: Arc<Verifier>,
    publisher: Publisher,
    request_timeout: Duration,
}

impl WebhookState {
    pub fn new(cfg: &WebhookConfig, publisher: Publisher) -> Self {
        Self {
            verifier: Arc::new(Verifier::new(cfg)),
            publisher,
            request_timeout: cfg.request_timeout,
        }
    }
}

/// The webhook router: `POST <path>`; other methods 405, other paths 404. Concurrency,
/// deadlines and connection limits are the listener's ([`crate::http`]).
pub fn router(cfg: &WebhookConfig, state: WebhookState) -> Router {
    Router::new()
        .route(&cfg.path, post(receive))
        .with_state(Arc::new(state))
}

/// One webhook in a span of its own: the child of the request's `traceparent` when it has
/// one, else the root of a new trace ([`crate::trace`]); every event it stores carries it.
async fn receive(
    State(state): State<Arc<WebhookState>>,
    hook: VerifiedWebhook,
) -> Result<(StatusCode, &'static str), WebhookError> {
    let span = tracing::info_span!("webhook");
    crate::trace::continue_request(&span, &hook.headers);
    handle(&state, hook).instrument(span).await
}

async fn handle(
    state: &WebhookState,
    hook: VerifiedWebhook,
) -> Result<(StatusCode, &'static str), WebhookError> {
    let envelope = normalise::parse_envelope(&hook.body)
        .map_err(|e| WebhookError::Envelope(scrub::Rejection::of(&e)))?;
    // Every copy of a header must agree with the body (a repeated header is no loophole).
    let differs = |name: &str, body_value: &str| {
        let mut values = hook.headers.get_all(name).iter();
        values.any(|v| v.as_bytes() != body_value.as_bytes())
    };
    if differs("x-event-id", &envelope.id) || differs("x-event-type", &envelope.event_type) {
        return Err(WebhookError::BadRequest("header_body_mismatch"));
    }
    let events = match normalise::from_webhook(&envelope) {
        Ok(Normalised::Publish(events)) => events,
        Ok(Normalised::Ignored) => {
            tracing::debug!("acknowledged a webhook type the bridge does not publish");
            count("ignored");
            return Ok((StatusCode::OK, "ignored"));
        }
        Err(e) => {
            return Err(WebhookError::Event {
                rejection: scrub::Rejection::of(&e),
                body_len: hook.body.len(),
            })
        }
    };
    if let Some(last) = events.last() {
        let unknown = last.data.unknown_enums();
        if unknown > 0 {
            metrics::counter!("esim_bridge_unknown_enum_values_total").increment(unknown as u64);
        }
    }
    let published = tokio::time::timeout_at(hook.deadline, state.publisher.publish_all(&events))
        .await
        .map_err(|_| WebhookError::AckTimeout)??;
    let fresh = matches!(published.last(), Some(Published::Stored { .. }));
    count(if fresh { "published" } else { "duplicate" });
    Ok((StatusCode::OK, "ok"))
}

fn count(outcome: &'static str) {
    metrics::counter!("esim_bridge_webhooks_total", "outcome" => outcome, "reason" => "")
        .increment(1);
}
