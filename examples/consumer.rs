//! A durable consumer of the bridge's `esim.*` events, as an analytics or CRM service would
//! write one: `esim-events` to read the events and build the subject filter, async-nats for
//! JetStream.
//!
//! - **Durable pull consumer** on the events stream: the server remembers what was acked, so a
//!   restarted consumer goes on where it stopped.
//! - **Ack after processing**: an event is acked only once its effect is stored; a crash
//!   before the ack makes the server redeliver it (after the consumer's `ack_wait`).
//! - **Dedupe by event id**: redelivery means an event can arrive twice. The id is the same for
//!   the same transition whichever way it came, so "already processed" is a lookup of the id in
//!   the consumer's own store, written together with the effect. Here the store is a file of
//!   ids; in a real service it is a table, updated in the same transaction as the effect.
//!
//! ```text
//! cargo run --example consumer                                    # every event
//! ESIM_TYPE=activated cargo run --example consumer                # one type
//! ESIM_ICCID=8910300000123456789 cargo run --example consumer     # one eSIM
//! ```
//!
//! Settings (environment): `NATS_URL` (`nats://127.0.0.1:4222`), `ESIM_STREAM` (`ESIM_EVENTS`),
//! `ESIM_SUBJECT_PREFIX` (`esim`), `ESIM_DURABLE` (`example-consumer`), `ESIM_TYPE` or
//! `ESIM_ICCID` (a filter), `ESIM_PROCESSED` (the processed-ids file; default
//! `processed-ids-<durable>.txt`, so each durable, each consuming service, has its own),
//! `ESIM_ACK_WAIT_SECS` (30). For tests: `ESIM_EXIT_WHEN_DONE=1` stops once nothing is pending
//! or unacked, and `ESIM_CRASH_AFTER=n` exits (status 3) right after processing the n-th event,
//! before acking it, as a crash between the write and the ack would.
//!
//! Prints one line per message: `processed <id> <type> <key>[ inferred]` or `duplicate <id>`.
//!
//! **Trace context**: each message carries the `traceparent` of the bridge's span that stored
//! it (a webhook's own trace, continued). The example processes each event in a span that
//! continues that trace, and exports its spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! is set (service name `esim-consumer-example` unless `OTEL_SERVICE_NAME` says otherwise).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, AckKind};
use esim_events::schema::header::TRACEPARENT;
use esim_events::{Event, EventType, Iccid, Prefix, Subject};
use futures::StreamExt;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let setting = |name: &str, default: &str| std::env::var(name).unwrap_or(default.to_owned());
    let prefix = Prefix::new(&setting("ESIM_SUBJECT_PREFIX", Prefix::DEFAULT))?;
    let filter = filter(&prefix)?;
    let crash_after: Option<usize> = std::env::var("ESIM_CRASH_AFTER")
        .ok()
        .and_then(|n| n.parse().ok());
    let exit_when_done = std::env::var_os("ESIM_EXIT_WHEN_DONE").is_some();
    let ack_wait = Duration::from_secs(setting("ESIM_ACK_WAIT_SECS", "30").parse()?);

    let client = async_nats::connect(setting("NATS_URL", "nats://127.0.0.1:4222")).await?;
    let js = jetstream::new(client);
    let stream = js.get_stream(setting("ESIM_STREAM", "ESIM_EVENTS")).await?;
    let durable = setting("ESIM_DURABLE", "example-consumer");
    // Created on first start; later starts attach to it and resume after the last ack.
    let consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            &durable,
            pull::Config {
                durable_name: Some(durable.clone()),
                filter_subject: filter,
                ack_policy: AckPolicy::Explicit,
                ack_wait,
                ..Default::default()
            },
        )
        .await?;
    // Each durable (each consuming service) keeps its own store unless told otherwise.
    let store = setting("ESIM_PROCESSED", &format!("processed-ids-{durable}.txt"));
    let mut processed = Processed::open(Path::new(&store))?;
    let spans = spans()?;
    let tracer = spans.tracer("esim-consumer-example");

    loop {
        let mut batch = consumer
            .batch()
            .max_messages(100)
            .expires(Duration::from_secs(1))
            .messages()
            .await?;
        let mut received = 0;
        while let Some(msg) = batch.next().await {
            let msg = msg.map_err(anyhow::Error::msg)?;
            received += 1;
            let event: Event = match serde_json::from_slice(&msg.payload) {
                Ok(event) => event,
                Err(e) => {
                    // Not an event this version understands: retrying cannot help.
                    eprintln!("skipping a message on {}: {e}", msg.subject);
                    msg.ack_with(AckKind::Term)
                        .await
                        .map_err(anyhow::Error::msg)?;
                    continue;
                }
            };
            // This event's work, in the trace the bridge stored it in.
            let parent = TraceContextPropagator::new().extract(&Stored(&msg));
            let mut span = tracer.start_with_context("process esim event", &parent);
            if processed.contains(&event.id) {
                println!("duplicate {}", event.id);
            } else {
                let subject = Subject::parse(&msg.subject)?;
                handle(&event, &subject);
                processed.record(&event.id)?;
                if crash_after == Some(processed.count_this_run) {
                    std::process::exit(3);
                }
            }
            // Only now: the effect and the id are stored.
            msg.double_ack().await.map_err(anyhow::Error::msg)?;
            span.end();
        }
        if received == 0 && exit_when_done {
            let info = consumer.get_info().await?;
            if info.num_pending == 0 && info.num_ack_pending == 0 {
                // Sends the spans still batched.
                spans.shutdown()?;
                return Ok(());
            }
        }
    }
}

/// The tracer provider: spans exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
fn spans() -> anyhow::Result<SdkTracerProvider> {
    let mut builder = SdkTracerProvider::builder();
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        let mut resource = opentelemetry_sdk::Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("esim-consumer-example");
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        builder = builder
            .with_resource(resource.build())
            .with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// A stored message's headers, as the trace-context propagator reads them.
struct Stored<'a>(&'a async_nats::jetstream::Message);

impl Extractor for Stored<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        // The bridge sets one header, `traceparent`; nothing else is read.
        (key == TRACEPARENT)
            .then(|| self.0.headers.as_ref()?.get(TRACEPARENT))
            .flatten()
            .map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

/// The subject filter: one ICCID, one event type, or everything.
fn filter(prefix: &Prefix) -> anyhow::Result<String> {
    if let Ok(iccid) = std::env::var("ESIM_ICCID") {
        return Ok(prefix.events_of_iccid(&Iccid::parse(&iccid)?));
    }
    if let Ok(name) = std::env::var("ESIM_TYPE") {
        let t = EventType::parse_loose(&name).context("ESIM_TYPE is not an esim event type")?;
        return Ok(prefix.events_of_type(t));
    }
    Ok(prefix.all_events())
}

/// The consumer's business: here, print what happened to which eSIM. The activation code is
/// never in an event; a service that needs it fetches it from the provider's authenticated API.
fn handle(event: &Event, subject: &Subject) {
    let inferred = match event.data.inferred {
        Some(true) => " inferred",
        _ => "",
    };
    let (id, kind, key) = (&event.id, event.event_type, subject.key());
    println!("processed {id} {kind} {key}{inferred}");
}

/// The ids of processed events: the consumer's own dedupe store.
struct Processed {
    ids: HashSet<String>,
    file: File,
    count_this_run: usize,
}

impl Processed {
    fn open(path: &Path) -> anyhow::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        let ids = BufReader::new(&file).lines().collect::<Result<_, _>>()?;
        Ok(Self {
            ids,
            file,
            count_this_run: 0,
        })
    }

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Stores the id durably before the event is acked.
    fn record(&mut self, id: &str) -> anyhow::Result<()> {
        writeln!(self.file, "{id}")?;
        self.file.sync_data()?;
        self.ids.insert(id.to_owned());
        self.count_this_run += 1;
        Ok(())
    }
}
