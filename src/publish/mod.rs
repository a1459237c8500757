//! Publishing events to JetStream with exactly-once emission per subject.
//!
//! Every event goes to its own subject (`<prefix>.events.<key>.<event>`) with
//! `Nats-Msg-Id` = the event id and `Nats-Expected-Last-Subject-Sequence: 0`. The server stores
//! the first and answers every later attempt with "wrong last sequence" (or a duplicate ack
//! inside the msg-id window), which [`Publisher::publish`] reports as
//! [`Published::Duplicate`]: already emitted, success. So retries, both sources and several
//! bridge replicas can all publish freely, with no dedupe store of our own.

mod batch;
mod connect;
mod error;
mod full;
mod stream;
mod stream_check;

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_nats::header::{HeaderMap, HeaderName, HeaderValue};

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, Context};
use async_nats::Client;
use bytes::Bytes;

pub use connect::{connect, is_connected, ConnectError};
pub use error::PublishError;
pub use stream::{
    covers, desired_stream, ensure_stream, events_subject, inspect_stream, is_stream_not_found,
    StreamError, StreamFound,
};
pub use stream_check::UnsafeStreamSetting;

use crate::config::NatsConfig;
use esim_events::schema::header::TRACEPARENT;
use esim_events::schema::SchemaError;
use esim_events::Event;

/// What happened to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Newly stored at this stream sequence.
    Stored { sequence: u64 },
    /// Already in the stream (same subject): nothing new was stored.
    Duplicate,
}

/// Publishes events; cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    client: Client,
    js: Context,
    prefix: String,
    retry_for: Duration,
    /// Whether the stream was last found full (said once per state).
    full: full::FullState,
    /// The batcher's queue (`batch`); `None` outside a runtime.
    batcher: Option<tokio::sync::mpsc::Sender<batch::Job>>,
}

impl Publisher {
    pub fn new(client: Client, cfg: &NatsConfig) -> Self {
        let mut js = jetstream::new(client.clone());
        js.set_timeout(cfg.ack_timeout);
        Self {
            client,
            batcher: batch::spawn(js.clone()),
            js,
            prefix: cfg.subject_prefix.clone(),
            retry_for: cfg.retry_for,
            full: full::FullState::default(),
        }
    }

    pub fn jetstream(&self) -> &Context {
        &self.js
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Publishes events in order, stopping at the first failure (so a later step is never
    /// stored before an earlier one).
    pub async fn publish_all(&self, events: &[Event]) -> Result<Vec<Published>, PublishError> {
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            out.push(self.publish(e).await?);
        }
        Ok(out)
    }

    /// Publishes one event and waits for JetStream's answer; retries with the same msg-id on
    /// timeouts and leader elections for up to `nats.retry_for`.
    pub async fn publish(&self, event: &Event) -> Result<Published, PublishError> {
        let subject = event.subject(&self.prefix).map_err(SchemaError::from)?;
        let payload = Bytes::from(esim_normalise::checked_payload(event)?);
        // The first attempt takes the headers; a retry builds them again (async-nats takes
        // them by value, and a copy per webhook cost more than building them). The span the
        // caller publishes in names the trace (`crate::trace`).
        let traceparent = crate::trace::traceparent(&tracing::Span::current());
        let build = || {
            let mut h = headers(event)?;
            if let Some(tp) = &traceparent {
                h.insert(HeaderName::from_static(TRACEPARENT), tp.as_str());
            }
            Ok::<_, PublishError>(h)
        };
        let mut headers = Some(build()?);
        let started = Instant::now();
        let mut backoff = Duration::from_millis(50);
        loop {
            if !is_connected(&self.client) {
                metrics::counter!("esim_bridge_publish_errors_total", "reason" => "disconnected")
                    .increment(1);
                return Err(PublishError::Disconnected);
            }
            let headers = match headers.take() {
                Some(h) => h,
                None => build()?,
            };
            let message = batch::Message {
                subject: subject.clone(),
                headers,
                payload: payload.clone(),
            };
            let err = match self.attempt(message).await {
                Ok(outcome) => {
                    if let Published::Stored { .. } = outcome {
                        self.full.accepted();
                    }
                    record(event, outcome, started.elapsed());
                    return Ok(outcome);
                }
                Err(e) => e,
            };
            let class = error::classify(&err);
            let reason = error::label(&err, class);
            metrics::counter!("esim_bridge_publish_errors_total", "reason" => reason).increment(1);
            match class {
                error::Class::Retry => {}
                error::Class::Full => {
                    self.full.refused(&err);
                    return Err(PublishError::StreamFull(err));
                }
                error::Class::TooLarge => return Err(PublishError::TooLarge(err)),
                error::Class::Rejected => return Err(PublishError::Rejected(err)),
            }
            if started.elapsed() + backoff > self.retry_for {
                return Err(PublishError::Unacknowledged(err));
            }
            tracing::debug!(%subject, error = %err, "publish not acknowledged; retrying with the same msg-id");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    async fn attempt(
        &self,
        message: batch::Message,
    ) -> Result<Published, jetstream::context::PublishError> {
        let ack = self.send(message).await?;
        match ack.await {
            Ok(ack) if ack.duplicate => Ok(Published::Duplicate),
            Ok(ack) => Ok(Published::Stored {
                sequence: ack.sequence,
            }),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Ok(Published::Duplicate),
            Err(e) => Err(e),
        }
    }

    /// Passes one publish to the NATS client, through the batcher while it runs.
    async fn send(
        &self,
        message: batch::Message,
    ) -> Result<async_nats::jetstream::context::PublishAckFuture, jetstream::context::PublishError>
    {
        let Some(batcher) = &self.batcher else {
            return message.publish(&self.js).await;
        };
        match batch::submit(batcher, message).await {
            Ok(sent) => sent,
            Err(batch::Stopped(message)) => {
                // Only if its task panicked: say so once, publish directly from now on.
                static SAID: std::sync::atomic::AtomicBool =
                    std::sync::atomic::AtomicBool::new(false);
                if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::error!("publish batcher stopped; publishing directly from now on");
                }
                match message {
                    Some(message) => message.publish(&self.js).await,
                    // Lost with the batcher's task: a broken pipe, retried with the same msg-id.
                    None => Err(PublishErrorKind::BrokenPipe.into()),
                }
            }
        }
    }
}

/// The headers every event carries (design.md, "Subjects and messages"), built fallibly: a
/// value that is not a valid header is [`PublishError::Event`], never a panic inside async-nats.
pub fn headers(event: &Event) -> Result<HeaderMap, PublishError> {
    let mut h = HeaderMap::new();
    for (name, value) in event.headers()? {
        let value = HeaderValue::from_str(&value).map_err(|_| SchemaError::Header { name })?;
        // The names are esim-events' constants (`header::*`), checked valid by the tests
        // below; from a `&'static str` the name is not copied.
        h.insert(HeaderName::from_static(name), value);
    }
    Ok(h)
}

fn record(event: &Event, outcome: Published, took: Duration) {
    let labels = [
        ("type", event.event_type.token()),
        ("source", event.source.as_str()),
    ];
    match outcome {
        Published::Stored { .. } => {
            metrics::counter!("esim_bridge_events_published_total", &labels).increment(1);
            for field in event.data.rejected.fields() {
                metrics::counter!("esim_bridge_event_fields_dropped_total", "field" => field)
                    .increment(1);
            }
        }
        Published::Duplicate => {
            metrics::counter!("esim_bridge_events_duplicate_total", &labels).increment(1);
        }
    }
    metrics::histogram!("esim_bridge_publish_duration_seconds").record(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;
    use esim_events::{EventType, OrderData, Source};
    use esim_normalise::PayloadError;

    fn event(iccid: Option<&str>) -> Event {
        let data: OrderData =
            serde_json::from_value(serde_json::json!({"id": 7, "iccid": iccid})).unwrap();
        let at = esim_events::Timestamp::parse("2026-05-15T14:30:32Z").unwrap();
        Event::new(EventType::Failed, data, at, Source::Webhook).unwrap()
    }

    #[test]
    fn headers_carry_the_validated_iccid() {
        let h = headers(&event(Some("8910300000123456789"))).unwrap();
        let iccid = h.get("Esim-Iccid").map(|v| v.as_str());
        assert_eq!(iccid, Some("8910300000123456789"));
        assert_eq!(h.get("Esim-Order-Id").map(|v| v.as_str()), Some("7"));
        assert!(headers(&event(None)).unwrap().get("Esim-Iccid").is_none());
    }

    #[test]
    fn every_header_name_is_a_valid_nats_header_name() {
        let mut e = event(Some("8910300000123456789"));
        e.repaired_at = Some(esim_events::Timestamp::parse("2026-05-16T00:00:00Z").unwrap());
        let names: Vec<&str> = e.headers().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 15, "every optional header present: {names:?}");
        for name in names {
            assert!(HeaderName::from_str(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_value_that_cannot_be_a_header_is_an_event_error_not_a_panic() {
        for id in ["evt\n", "evt\r", "evt\u{0}", ""] {
            let mut e = event(None);
            e.id = id.to_owned();
            assert!(
                matches!(
                    headers(&e),
                    Err(PublishError::Event(PayloadError::Schema(
                        SchemaError::Header { .. }
                    )))
                ),
                "{id:?}"
            );
        }
    }
}
