//! The raw JetStream ceiling: async publishes of event-sized messages with a window of acks in
//! flight, on streams configured like the bridge's, in three variants (what the exactly-once
//! design costs nats-server, and the alternative where the server enforces one message per
//! subject by itself).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use async_nats::header::HeaderMap;
use async_nats::jetstream::stream::{Config, DiscardPolicy};
use async_nats::jetstream::Context;
use bytes::Bytes;
use tokio::sync::Semaphore;

/// How the messages are published and what the stream enforces.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// No headers, a stream like the bridge's.
    Plain,
    /// The bridge's headers (`Nats-Msg-Id`, `Nats-Expected-Last-Subject-Sequence: 0`, `Esim-*`),
    /// a stream like the bridge's (duplicate window 2 min).
    ExactlyOnce,
    /// Only the `Esim-*` headers, on a stream that keeps one message per subject and refuses a
    /// second (`max_msgs_per_subject: 1`, `discard: new`, `discard_new_per_subject`).
    PerSubjectLimit,
}

impl Variant {
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain => "no headers",
            Self::ExactlyOnce => "bridge headers (msg-id + expected-last-subject-seq 0)",
            Self::PerSubjectLimit => "one msg per subject by stream limit, no msg-id",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Plain => "RAW_PLAIN",
            Self::ExactlyOnce => "RAW_EXACTLY_ONCE",
            Self::PerSubjectLimit => "RAW_PER_SUBJECT",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::Plain => "rawa",
            Self::ExactlyOnce => "rawb",
            Self::PerSubjectLimit => "rawc",
        }
    }
}

/// A stream configured like the bridge's, for one variant.
fn stream(variant: Variant) -> Config {
    let nats = esim_bridge::config::NatsConfig {
        stream: variant.name().into(),
        subject_prefix: variant.prefix().into(),
        ..Default::default()
    };
    let mut cfg = esim_bridge::publish::desired_stream(&nats);
    if variant == Variant::PerSubjectLimit {
        cfg.max_messages_per_subject = 1;
        cfg.discard = DiscardPolicy::New;
        cfg.discard_new_per_subject = true;
    }
    cfg
}

fn headers(variant: Variant, iccid: &str, i: usize) -> HeaderMap {
    let mut h = HeaderMap::new();
    if variant == Variant::Plain {
        return h;
    }
    if variant == Variant::ExactlyOnce {
        h.insert(
            "Nats-Msg-Id",
            format!("evt_esim_{iccid}_delivered").as_str(),
        );
        h.insert("Nats-Expected-Last-Subject-Sequence", "0");
    }
    h.insert("Esim-Event-Type", "esim.delivered");
    h.insert("Esim-Order-Id", (1_000_000 + i).to_string().as_str());
    h.insert("Esim-Iccid", iccid);
    h.insert("Esim-Source", "webhook");
    h.insert("Esim-Schema", "1");
    h
}

/// One variant's run: `n` publishes of `size` bytes, `window` acks in flight.
pub struct RawRun {
    pub variant: Variant,
    pub rate: f64,
    /// What a second publish to an already used subject got.
    pub second: String,
}

pub async fn run(
    js: &Context,
    variant: Variant,
    n: usize,
    size: usize,
    window: usize,
) -> anyhow::Result<RawRun> {
    js.create_stream(stream(variant))
        .await
        .context("create the raw run's stream")?;
    let payload = Bytes::from(vec![b'x'; size]);
    let permits = Arc::new(Semaphore::new(window));
    let subject = |iccid: &str| format!("{}.events.{iccid}.delivered", variant.prefix());
    // Acks are awaited in order by one task, which frees a window slot per ack.
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(_, tokio::sync::OwnedSemaphorePermit)>();
    let drain = tokio::spawn(async move {
        let mut ok = true;
        while let Some((ack, permit)) = rx.recv().await {
            let ack: async_nats::jetstream::context::PublishAckFuture = ack;
            ok &= ack.await.is_ok();
            drop(permit);
        }
        ok
    });
    let started = Instant::now();
    for i in 0..n {
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .context("ack window closed")?;
        let iccid = format!("89{i:017}");
        let ack = js
            .publish_with_headers(
                subject(&iccid),
                headers(variant, &iccid, i),
                payload.clone(),
            )
            .await
            .context("raw publish")?;
        if tx.send((ack, permit)).is_err() {
            anyhow::bail!("the ack task stopped");
        }
    }
    drop(tx);
    if !drain.await.context("the ack task panicked")? {
        anyhow::bail!("a raw publish was not acknowledged");
    }
    let took = started.elapsed();

    let iccid = format!("89{:017}", 0);
    let again = js
        .publish_with_headers(subject(&iccid), headers(variant, &iccid, 0), payload)
        .await
        .context("second raw publish")?;
    let second = match again.await {
        Ok(ack) if ack.duplicate => "acked as duplicate".to_owned(),
        Ok(ack) => format!("stored again (seq {})", ack.sequence),
        Err(e) => format!("refused: {e}"),
    };
    Ok(RawRun {
        variant,
        rate: n as f64 / took.as_secs_f64(),
        second,
    })
}
