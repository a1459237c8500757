//! Following the events stream, so webhook-sourced events update the poll state.
//!
//! The active poller reads `<prefix>.events.>` through an ordered consumer from the moment it
//! takes the lease (subscribed before the stored state is loaded, so nothing falls in between)
//! and hands every event with `Esim-Source: webhook` to the engine. Events the poller itself
//! published are skipped: the engine already knows them.

use std::time::Duration;

use async_nats::jetstream::consumer::{self, push, DeliverPolicy, ReplayPolicy};
use async_nats::jetstream::context::GetStreamError;
use async_nats::jetstream::stream::ConsumerError;
use async_nats::jetstream::Context;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::telemetry::ErrorChain;
use esim_events::{Event, Source};

/// Pause before re-subscribing after the consumer ended.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// Why the events stream cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("cannot follow stream {stream}: stream not readable")]
    Stream {
        stream: String,
        #[source]
        source: GetStreamError,
    },
    #[error("cannot follow stream {stream}: consumer not created")]
    Consumer {
        stream: String,
        #[source]
        source: ConsumerError,
    },
    #[error("cannot follow stream {stream}: no messages")]
    Messages {
        stream: String,
        #[source]
        source: consumer::StreamError,
    },
}

/// A subscription to new events.
pub struct Follower {
    js: Context,
    stream: String,
    subject: String,
    messages: push::Ordered,
}

impl Follower {
    /// Subscribes to events published from now on.
    pub async fn subscribe(js: Context, stream: &str, prefix: &str) -> Result<Self, FollowError> {
        let subject = format!("{prefix}.events.>");
        let messages = ordered(&js, stream, &subject).await?;
        Ok(Self {
            js,
            stream: stream.to_owned(),
            subject,
            messages,
        })
    }

    /// Forwards webhook-sourced events to `facts` until `shutdown` (or the engine is gone).
    pub async fn forward(mut self, facts: mpsc::Sender<Event>, shutdown: CancellationToken) {
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => return,
                m = self.messages.next() => m,
            };
            match message {
                Some(Ok(m)) => {
                    let from_webhook = m
                        .headers
                        .as_ref()
                        .and_then(|h| h.get("Esim-Source"))
                        .is_some_and(|s| s.as_str() == Source::Webhook.as_str());
                    if !from_webhook {
                        continue;
                    }
                    match serde_json::from_slice::<Event>(&m.payload) {
                        Ok(event) => {
                            if facts.send(event).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "unreadable event skipped"),
                    }
                }
                Some(Err(e)) => tracing::debug!(error = %e, "events consumer hiccup"),
                None => {
                    tracing::info!("events consumer ended; subscribing again");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(RESUBSCRIBE_AFTER) => {}
                    }
                    match ordered(&self.js, &self.stream, &self.subject).await {
                        Ok(m) => self.messages = m,
                        Err(e) => {
                            tracing::warn!(error = %ErrorChain(&e), "cannot follow the events stream")
                        }
                    }
                }
            }
        }
    }
}

async fn ordered(js: &Context, stream: &str, subject: &str) -> Result<push::Ordered, FollowError> {
    let stream_name = || stream.to_owned();
    let handle = js
        .get_stream(stream)
        .await
        .map_err(|source| FollowError::Stream {
            stream: stream_name(),
            source,
        })?;
    let consumer = handle
        .create_consumer(push::OrderedConfig {
            deliver_subject: js.client().new_inbox(),
            filter_subject: subject.to_owned(),
            deliver_policy: DeliverPolicy::New,
            replay_policy: ReplayPolicy::Instant,
            ..Default::default()
        })
        .await
        .map_err(|source| FollowError::Consumer {
            stream: stream_name(),
            source,
        })?;
    consumer
        .messages()
        .await
        .map_err(|source| FollowError::Messages {
            stream: stream_name(),
            source,
        })
}
