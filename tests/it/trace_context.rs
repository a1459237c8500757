//! Issue 19, item 4: a webhook's W3C trace continues through the bridge to a consumer. The
//! real binary serves with `OTEL_EXPORTER_OTLP_ENDPOINT` pointed at an OTLP/HTTP receiver in
//! this process (decoding the OTLP protobuf); a webhook sent with a `traceparent` is stored with
//! the `traceparent` of the bridge's child span, one without starts a trace of its own, and the
//! consumer examples (examples/consumer.rs, examples/python/consumer.py) each export a span in
//! the webhook's trace whose parent is the bridge's span (the Python one needs the example's
//! requirements, as tests/it/consumer_examples.rs says).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

use crate::consumer_examples::{build_rust_example, python_ready};
use crate::support::bridge::{esim_webhook, signed, stored, SECRET};
use crate::support::fixture::NatsServer;
use crate::support::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_esim-bridge");
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";
/// Hang guard only: spans normally arrive within a second.
const PATIENCE: Duration = Duration::from_secs(60);

/// One exported span: (service, trace id, span id, parent span id, name), ids in hex.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    trace: String,
    span: String,
    parent: String,
}

/// An OTLP/HTTP trace receiver on a free port, keeping every span it is sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Exported>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| async move {
            let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
            for resource in request.resource_spans {
                let service = resource
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|kv| kv.key == "service.name")
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                    kept.lock().expect("lock").push(Exported {
                        service: service.clone(),
                        trace: hex::encode(&span.trace_id),
                        span: hex::encode(&span.span_id),
                        parent: hex::encode(&span.parent_span_id),
                    });
                }
            }
            ([("content-type", "application/x-protobuf")], Vec::new())
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

/// Waits until a span matching `wanted` was exported.
async fn exported(spans: &Mutex<Vec<Exported>>, wanted: impl Fn(&Exported) -> bool) -> Exported {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(s) = spans.lock().expect("lock").iter().find(|s| wanted(s)) {
            return s.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never exported; got {:?}",
            spans.lock().expect("lock")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_webhooks_trace_reaches_the_consumers_span_through_the_stored_message() {
    let (otlp, spans) = receiver().await;
    let nats = NatsServer::start().await;
    let port = free_port();
    let mut bridge = tokio::process::Command::new(BIN)
        .env_clear()
        .env("ESIM_BRIDGE_UPSTREAM__ENABLED", "false")
        .env("ESIM_BRIDGE_NATS__URL", nats.url())
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
        .env("ESIM_BRIDGE_WEBHOOK__LISTEN", format!("127.0.0.1:{port}"))
        .env("ESIM_BRIDGE_ADMIN__LISTEN", "127.0.0.1:0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the bridge");
    let url = format!("http://127.0.0.1:{port}/webhooks/octopus");
    let http = reqwest::Client::new();
    let traced = esim_webhook(
        "evt_traced",
        "esim.delivered",
        71,
        Some("8944000000000000071"),
    );
    let fresh = esim_webhook(
        "evt_fresh",
        "esim.delivered",
        72,
        Some("8944000000000000072"),
    );
    let caller = format!("00-{TRACE}-{CALLER}-01");
    let mut status = 0;
    for _ in 0..100 {
        let request = signed(&http, &url, &traced).header("traceparent", &caller);
        match request.send().await {
            Ok(r) => {
                status = r.status().as_u16();
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(status, 200);
    let r = signed(&http, &url, &fresh).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);

    let messages = stored(&nats.url(), "ESIM_EVENTS").await;
    let traceparent = |iccid: &str| {
        let m = messages.iter().find(|m| m.subject.contains(iccid));
        let m = m.unwrap_or_else(|| panic!("no message for {iccid}: {messages:?}"));
        let value = m.headers.get("traceparent").expect("traceparent header");
        let parts: Vec<String> = value.as_str().split('-').map(str::to_owned).collect();
        assert_eq!(parts.len(), 4, "{value:?}");
        assert_eq!(
            (parts[0].as_str(), parts[3].as_str()),
            ("00", "01"),
            "{value:?}"
        );
        (parts[1].clone(), parts[2].clone())
    };
    let (trace, bridge_span) = traceparent("8944000000000000071");
    assert_eq!(trace, TRACE, "the webhook's trace is continued");
    assert_ne!(bridge_span, CALLER, "by a span of the bridge's own");
    let (other, _) = traceparent("8944000000000000072");
    assert!(other != TRACE && other != "0".repeat(32), "{other}");

    let span = exported(&spans, |s| s.span == bridge_span).await;
    assert_eq!(
        (
            span.service.as_str(),
            span.trace.as_str(),
            span.parent.as_str()
        ),
        ("esim-bridge", TRACE, CALLER)
    );

    let example = tokio::task::spawn_blocking(build_rust_example)
        .await
        .expect("build task");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python/consumer.py");
    let consumers = [
        (vec![example.display().to_string()], "esim-consumer-example"),
        (
            vec!["python3".to_owned(), script.display().to_string()],
            "esim-consumer-example-py",
        ),
    ];
    for (i, (command, service)) in consumers.iter().enumerate() {
        if command[0] == "python3" && !python_ready() {
            continue;
        }
        consume(command, &format!("tracing-{i}"), &nats.url(), &otlp).await;
        let consumer = exported(&spans, |s| s.service == *service && s.trace == TRACE).await;
        assert_eq!(
            consumer.parent, bridge_span,
            "{service}: the bridge's child"
        );
    }
    bridge.kill().await.expect("stop the bridge");
}

/// Runs a consumer example with its own durable until it has consumed everything, exporting
/// its spans to `otlp`.
async fn consume(command: &[String], durable: &str, nats: &str, otlp: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .env("NATS_URL", nats)
        .env("ESIM_DURABLE", durable)
        .env("ESIM_PROCESSED", dir.path().join("ids.txt"))
        .env("ESIM_EXIT_WHEN_DONE", "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PATIENCE * 3, out)
        .await
        .expect("the consumer ends")
        .expect("consumer output");
    assert_eq!(out.status.code(), Some(0), "{command:?}");
}
