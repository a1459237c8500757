//! The consumer contract, checked with a consumer's tools against what a real nats-server
//! stores: given signed webhooks of every event type (keyed by ICCID and by order), the stored
//! messages are dumped and `schema/check.py` reads them with the AsyncAPI document (every header
//! documented and set, no other, `traceparent` included), the published and frozen-v1 JSON Schemas (Python's
//! jsonschema), and the CloudEvents Python SDK (binary mode; attributes equal to the payload's).
//!
//! Needs `python3 -m pip install -r schema/requirements.txt`; skipped with a message without it,
//! unless `ESIM_PYTHON_TESTS=required` (CI).

use std::path::Path;

use esim_events::{Event, EventType, OrderData, Source, Timestamp};

use crate::support::bridge::{esim_webhook, signed, Scenario};
use crate::support::python::modules_ready;

const ICCID: &str = "8910300000123456789";

#[tokio::test]
async fn stored_events_match_the_asyncapi_document_the_schemas_and_a_cloudevents_sdk() {
    if !modules_ready(
        "cloudevents, pydantic_asyncapi, jsonschema, yaml",
        "schema/requirements.txt",
        "the consumer contract check",
    ) {
        return;
    }
    let s = Scenario::start(|_| {}).await;
    let mut bodies: Vec<String> = EventType::ALL
        .iter()
        .filter(|t| !matches!(t, EventType::Failed | EventType::Cancelled))
        .enumerate()
        .map(|(i, t)| esim_webhook(&format!("wh_{i}"), t.as_str(), 1, Some(ICCID)))
        .collect();
    bodies.push(esim_webhook("wh_f", "esim.failed", 2, None));
    bodies.push(esim_webhook("wh_c", "esim.cancelled", 3, None));
    for body in &bodies {
        let answer = signed(&s.http, &s.bridge.url(), body).send().await;
        assert_eq!(answer.expect("send").status(), 200, "{body}");
    }
    let stored = s.stored().await;
    assert_eq!(stored.len(), EventType::ALL.len(), "one event per type");

    let messages: Vec<serde_json::Value> = stored
        .iter()
        .map(|m| {
            let headers: serde_json::Map<String, serde_json::Value> = m
                .headers
                .iter()
                .map(|(name, values)| {
                    let v: Vec<&str> = values.iter().map(|v| v.as_str()).collect();
                    (name.to_string(), serde_json::json!(v))
                })
                .collect();
            serde_json::json!({"subject": m.subject, "headers": headers, "payload": m.payload})
        })
        .collect();
    let dump = serde_json::json!({
        "messages": messages,
        // Only `audit --repair` sets Esim-Repaired-At: the names the publisher sets for a
        // repaired event, from the same function the publisher calls.
        "publisher_headers": repaired_event_header_names(),
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("messages.json");
    std::fs::write(&file, dump.to_string()).expect("write dump");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/check.py");
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg("--messages")
        .arg(&file)
        .output()
        .await
        .expect("run schema/check.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked = format!("{} stored messages", EventType::ALL.len());
    assert!(text.contains(&checked), "{text}");
    s.finish().await;
}

fn repaired_event_header_names() -> Vec<&'static str> {
    let data: OrderData =
        serde_json::from_value(serde_json::json!({"id": 1, "iccid": ICCID})).expect("order");
    let at = Timestamp::parse("2026-05-15T14:30:32Z").expect("time");
    let event = Event::new(EventType::Installed, data, at, Source::Poll)
        .expect("event")
        .repaired(at);
    let names = event
        .headers()
        .expect("headers")
        .into_iter()
        .map(|(n, _)| n);
    names.collect()
}
