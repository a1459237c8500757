//! Shared by the replay tests: a deterministic mix of events, concurrent publishing in batches
//! with recorded time boundaries, and replays into memory.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use esim_bridge::config::NatsConfig;
use esim_bridge::publish::{self, Published, Publisher};
use esim_bridge::tools::{self, Plan, Sinks, Summary};
use esim_events::{Event, EventType, OrderData, Source};
use futures::StreamExt;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// Publishes in flight at once: async acks make 10k events take well under a second.
const IN_FLIGHT: usize = 256;

/// One published event and where the stream stored it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event: Event,
    pub sequence: u64,
    pub batch: usize,
    /// The subject key (ICCID or `order-<id>`).
    pub key: String,
    pub payload: Vec<u8>,
}

impl Stored {
    pub fn order(&self) -> u64 {
        self.event.data.id
    }
}

pub fn nats_config(url: &str) -> NatsConfig {
    NatsConfig {
        url: url.to_owned(),
        ..NatsConfig::default()
    }
}

/// A connected publisher with the events stream in place.
pub async fn publisher(cfg: &NatsConfig) -> Publisher {
    let client = publish::connect(cfg, true).await.expect("connect");
    let publisher = Publisher::new(client, cfg);
    publish::ensure_stream(publisher.jetstream(), cfg)
        .await
        .expect("stream");
    publisher
}

/// Splits `events` near `at`, inside one key's lifecycle (so that key straddles the split).
pub fn split_inside_a_lifecycle(events: &mut Vec<Event>, at: usize) -> Vec<Event> {
    let key = |e: &Event| e.key().unwrap();
    let i = (at..events.len())
        .find(|&i| key(&events[i - 1]) == key(&events[i]))
        .expect("a lifecycle to split");
    events.split_off(i)
}

/// `n` events over many orders: ICCID-keyed lifecycles of varying length, cancellations, and
/// orders that failed before an ICCID existed (keyed `order-<id>`); `created_at` spread over
/// days.
pub fn events(n: usize) -> Vec<Event> {
    let base = time::macros::datetime!(2026-05-01 00:00 UTC);
    let mut out = Vec::with_capacity(n);
    for i in 0u64.. {
        let id = 9_000_000 + i;
        let iccid = format!("8910{i:015}");
        let (iccid, steps): (Option<&str>, &[EventType]) = match i % 7 {
            0 => (None, &[EventType::Failed]),
            1 => (Some(&iccid), &[EventType::Delivered, EventType::Cancelled]),
            2 | 3 => (Some(&iccid), &[EventType::Delivered]),
            4 => (Some(&iccid), &[EventType::Delivered, EventType::Installed]),
            _ => (Some(&iccid), &EventType::ALL[..4]),
        };
        for (step, t) in steps.iter().enumerate() {
            if out.len() == n {
                return out;
            }
            let at = base + time::Duration::minutes(i as i64) + time::Duration::hours(step as i64);
            let data = serde_json::json!({
                "id": id, "iccid": iccid, "status": "DELIVERED", "product_name": "Japan eSIM",
                "amount": 4.275, "currency": "USD", "client_reference": format!("REF_{i}"),
            });
            let data: OrderData = serde_json::from_value(data).unwrap();
            let created = esim_events::Timestamp::from_datetime(at).unwrap();
            let source = if i % 2 == 0 {
                Source::Poll
            } else {
                Source::Webhook
            };
            out.push(Event::new(*t, data, created, source).unwrap());
        }
    }
    unreachable!()
}

/// Publishes `batches` one after the other (each concurrently); returns what was stored, in
/// stream order, and the time after each batch was acknowledged (the window boundaries).
pub async fn publish_batches(
    publisher: &Publisher,
    batches: Vec<Vec<Event>>,
) -> (Vec<Stored>, Vec<OffsetDateTime>) {
    let mut stored = Vec::new();
    let mut boundaries = Vec::new();
    for (batch, events) in batches.into_iter().enumerate() {
        let acks = futures::stream::iter(events)
            .map(|event| async move {
                let outcome = publisher.publish(&event).await.expect("publish");
                (event, outcome)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;
        for (event, outcome) in acks {
            let Published::Stored { sequence } = outcome else {
                panic!("{} was a duplicate", event.id)
            };
            stored.push(Stored {
                key: event.key().unwrap().to_string(),
                payload: event.to_payload().unwrap(),
                event,
                sequence,
                batch,
            });
        }
        // Clear of the stream's timestamp granularity on both sides of the boundary.
        tokio::time::sleep(Duration::from_millis(20)).await;
        boundaries.push(OffsetDateTime::now_utc());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stored.sort_by_key(|s| s.sequence);
    (stored, boundaries)
}

/// The NDJSON a replay of `selected` must produce: stored payloads in stream order.
pub fn ndjson<'a>(selected: impl IntoIterator<Item = &'a Stored>) -> Vec<u8> {
    let mut out = Vec::new();
    for s in selected {
        out.extend_from_slice(&s.payload);
        out.push(b'\n');
    }
    out
}

/// Replays into memory.
pub async fn replay_to_vec(
    client: &async_nats::Client,
    cfg: &NatsConfig,
    plan: Plan,
) -> (Vec<u8>, Summary) {
    let buf = SharedBuf::default();
    let sinks = Sinks {
        output: Some(Box::new(buf.clone())),
        ..Sinks::default()
    };
    let shutdown = CancellationToken::new();
    let summary = tools::replay(client, cfg, plan, sinks, &shutdown)
        .await
        .expect("replay");
    (buf.take(), summary)
}

/// Asserts that no activation-code material is in `out`.
pub fn assert_no_codes(out: &[u8]) {
    let text = String::from_utf8_lossy(out).to_ascii_uppercase();
    assert!(!text.contains("LPA:"), "activation code in replay output");
}

/// An in-memory `AsyncWrite` whose bytes stay readable after the writer is gone.
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl tokio::io::AsyncWrite for SharedBuf {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().extend_from_slice(b);
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
