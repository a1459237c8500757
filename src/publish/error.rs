//! Why a publish failed, and what the failure means: try again later, or never.
//!
//! async-nats reports most server refusals as one kind (`Other`) with the server's error as
//! its source; [`classify`] reads that source so a full stream and an oversized event are told
//! apart from a timeout: they are not retried for `nats.retry_for`, and they answer what they are.

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, ErrorCode};

use esim_events::schema::SchemaError;
use esim_normalise::PayloadError;

/// Why an event was not stored. [`PublishError::is_unavailable`] tells "try again later"
/// from "retrying will not help".
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No connection to NATS: try again later.
    #[error("NATS unavailable: not connected")]
    Disconnected,
    /// No ack came within `nats.retry_for` (timeouts, leader elections): try again later.
    #[error("NATS unavailable: no acknowledgement within nats.retry_for")]
    Unacknowledged(#[source] jetstream::context::PublishError),
    /// The stream is full (`discard: new` and `max_msgs`/`max_bytes` reached): try again once an
    /// operator has made room. Not retried here: holding the request would not free space.
    #[error("the events stream is full")]
    StreamFull(#[source] jetstream::context::PublishError),
    /// The event is larger than the server's `max_payload` or the stream's `max_msg_size`:
    /// retrying will never store it.
    #[error("the event is larger than NATS accepts")]
    TooLarge(#[source] jetstream::context::PublishError),
    /// The server refused the message for a reason retrying will not fix.
    #[error("NATS rejected the event")]
    Rejected(#[source] jetstream::context::PublishError),
    /// The event cannot be turned into a subject, headers or a payload free of activation-code
    /// material.
    #[error("the event cannot be published")]
    Event(#[from] PayloadError),
}

impl From<SchemaError> for PublishError {
    fn from(e: SchemaError) -> Self {
        Self::Event(PayloadError::Schema(e))
    }
}

impl PublishError {
    /// True if NATS is away, slow or full (answer 503, pause the poller), false if the event
    /// is refused for good.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Disconnected | Self::Unacknowledged(_) | Self::StreamFull(_)
        )
    }
}

/// What one failed attempt means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// Timeouts, leader elections, a lost write: retry with the same msg-id.
    Retry,
    /// See [`PublishError::StreamFull`].
    Full,
    /// See [`PublishError::TooLarge`].
    TooLarge,
    /// Anything else the server refused.
    Rejected,
}

/// Classifies one failed attempt, reading the server's error code where async-nats keeps it.
pub(super) fn classify(err: &jetstream::context::PublishError) -> Class {
    let server = std::error::Error::source(err).and_then(|s| s.downcast_ref::<jetstream::Error>());
    match (err.kind(), server) {
        (PublishErrorKind::MaxPayloadExceeded, _) => Class::TooLarge,
        (_, Some(e)) if e.error_code() == ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM => {
            Class::TooLarge
        }
        (_, Some(e)) if is_full(e) => Class::Full,
        (
            PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::StreamNotFound
            | PublishErrorKind::MaxAckPending
            | PublishErrorKind::Other,
            _,
        ) => Class::Retry,
        _ => Class::Rejected,
    }
}

/// The server's "store failed" answer for a stream at its `max_msgs` or `max_bytes` with
/// `discard: new` (nats-server `ErrMaxMsgs`, `ErrMaxBytes`); the text is the only tell.
fn is_full(e: &jetstream::Error) -> bool {
    let text = e.to_string();
    e.error_code() == ErrorCode::STREAM_STORE_FAILED
        && (text.starts_with("maximum messages exceeded")
            || text.starts_with("maximum bytes exceeded"))
}

/// The `reason` label of `esim_bridge_publish_errors_total` for one failed attempt.
pub(super) fn label(err: &jetstream::context::PublishError, class: Class) -> &'static str {
    match class {
        Class::Full => return "stream_full",
        Class::TooLarge => return "too_large",
        Class::Retry | Class::Rejected => {}
    }
    match err.kind() {
        PublishErrorKind::StreamNotFound => "no_stream",
        PublishErrorKind::TimedOut => "timeout",
        PublishErrorKind::BrokenPipe => "broken_pipe",
        PublishErrorKind::MaxPayloadExceeded => "too_large",
        PublishErrorKind::WrongLastMessageId | PublishErrorKind::WrongLastSequence => "conflict",
        PublishErrorKind::MaxAckPending => "max_ack_pending",
        PublishErrorKind::Other => "other",
    }
}
