//! Replay output and `--to-subject` copies never carry an activation code, whatever encoding a
//! message someone else put in the stream uses (issue 7, finding 7).

use std::time::Duration;

use async_nats::jetstream;
use async_nats::HeaderMap;
use esim_bridge::tools::{self, Plan, Sinks, Target};
use esim_testkit::fuzzing::oracle;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::support::fixture::NatsServer;
use crate::support::replay::{nats_config, publisher, replay_to_vec};

const KEY: &str = "8910300000123456789";

/// The encoded codes the hostile payloads carry, each with a matching id `SECRET-<n>`.
const ESCAPED: &str = r"\\u004c\\u0050\\u0041\\u003a1\\u0024smdp.example.com\\u0024SECRET-2";
const BASE64: &str = "TFBBOjEkc21kcC5leGFtcGxlLmNvbSRTRUNSRVQtMw";
const PERCENT: &str = "LPA%3A1%24smdp.example.com%24SECRET-4";
/// The code every stored message also carries in an `Esim-Note` header.
const HEADER_CODE: &str = "LPA%3A1%24smdp.example.com%24SECRET-H";

/// Payloads with a code in some encoding, as a foreign publisher could store them.
fn hostile() -> Vec<(String, Vec<u8>)> {
    let escaped = r#"{"id":"evt_x","data":{"id":1,"product_name":"\u004c\u0050\u0041\u003a1\u0024smdp.example.com\u0024SECRET-1"}}"#;
    let double = format!(r#"{{"id":"evt_y","data":{{"id":2,"failure_reason":"{ESCAPED}"}}}}"#);
    let base64 = format!(r#"{{"id":"evt_z","data":{{"id":3,"client_reference":"{BASE64}"}}}}"#);
    let percent = format!(r#"{{"id":"evt_w","data":{{"id":4,"note":"{PERCENT}"}}}}"#);
    [
        ("delivered", escaped.to_owned()),
        ("installed", double),
        ("activated", base64),
        ("depleted", percent),
    ]
    .into_iter()
    .map(|(t, p)| (format!("esim.events.{KEY}.{t}"), p.into_bytes()))
    .collect()
}

/// Stores the hostile payloads, each with a code in an `Esim-*` header too.
async fn store_hostile(client: &async_nats::Client) -> usize {
    let js = jetstream::new(client.clone());
    let all = hostile();
    for (subject, payload) in &all {
        let mut h = HeaderMap::new();
        h.insert("Esim-Event-Type", "esim.delivered");
        h.insert("Esim-Note", HEADER_CODE);
        let ack = js
            .publish_with_headers(subject.clone(), h, payload.clone().into())
            .await
            .expect("publish");
        ack.await.expect("ack");
    }
    all.len()
}

/// Checked without the bridge's scanner: none of the planted matching ids or encoded values
/// is in `text` literally, and the fuzz oracle (its own decoders) finds neither a planted id
/// in any decoding nor a code.
fn assert_no_code(what: &str, text: &str) {
    for planted in ["SECRET", "smdp.example.com", BASE64, PERCENT, HEADER_CODE] {
        assert!(!text.contains(planted), "{what} keeps {planted:?}: {text}");
    }
    assert!(
        !text.contains(r"\u0024"),
        "{what} keeps an escaped code: {text}"
    );
    assert!(!oracle::contains_decoded(text, "SECRET"), "{what}: {text}");
    assert!(!oracle::leaks(text), "{what}: {text}");
}

#[tokio::test]
async fn replay_output_redacts_codes_in_any_encoding() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let n = store_hostile(publisher.client()).await;
    let (out, summary) = replay_to_vec(publisher.client(), &cfg, Plan::everything()).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.lines().count(), n);
    for line in text.lines() {
        assert_no_code("replay line", line);
        serde_json::from_str::<serde_json::Value>(line).expect("still one JSON document");
    }
    assert_eq!(summary.redacted, n as u64);
}

#[tokio::test]
async fn to_subject_copies_redact_payloads_and_headers() {
    let server = NatsServer::start().await;
    let cfg = nats_config(&server.url());
    let publisher = publisher(&cfg).await;
    let client = publisher.client();
    let n = store_hostile(client).await;
    let mut sub = client.subscribe("copy.esim.events.>").await.unwrap();
    client.flush().await.unwrap();

    let target = Target::new("copy.esim", "esim", false).unwrap();
    let sinks = Sinks {
        republish: Some(target),
        ..Sinks::default()
    };
    let shutdown = CancellationToken::new();
    let summary = tools::replay(client, &cfg, Plan::everything(), sinks, &shutdown)
        .await
        .unwrap();
    assert_eq!((summary.matched, summary.redacted), (n as u64, n as u64));
    for _ in 0..n {
        let m = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .expect("a copy")
            .expect("subscription open");
        assert_no_code("copied payload", &String::from_utf8_lossy(&m.payload));
        let headers = m.headers.expect("headers");
        for (name, values) in headers.iter() {
            for v in values {
                assert_no_code(name.as_ref(), v.as_str());
            }
        }
        assert!(
            headers.get("Esim-Event-Type").is_some(),
            "clean headers stay"
        );
    }
}
