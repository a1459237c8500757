//! When NATS itself says no: an event larger than the server accepts is a permanent refusal
//! (422, the sender stops retrying), and a full stream (`discard: new`) is a prompt 503 whose
//! cause is logged once, not per request, until an operator makes room.

use async_nats::jetstream::stream::{Config, DiscardPolicy};

use crate::support::bridge::{esim_webhook, signed, stored, Bridge, Logs};
use crate::support::fixture::{jetstream, NatsServer};

/// A provider-shaped `esim.failed` webhook whose `failure_reason` is `reason`.
fn failed_webhook(event_id: &str, order_id: u64, reason: &str) -> String {
    serde_json::json!({
        "id": event_id,
        "type": "esim.failed",
        "created_at": "2026-05-15T14:30:32Z",
        "data": {
            "id": order_id, "client_reference": format!("REF_{order_id}"), "status": "FAILED",
            "product_name": "Japan eSIM", "failure_code": "PROVIDER_ERROR",
            "failure_reason": reason, "is_user_fixable": false,
        }
    })
    .to_string()
}

async fn metrics(bridge: &Bridge) -> String {
    let url = format!("http://{}/metrics", bridge.admin);
    reqwest::get(url)
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn an_event_larger_than_the_servers_max_payload_is_refused_for_good_with_422() {
    let (logs, _guard) = Logs::capture();
    let nats = NatsServer::start_with_config("max_payload: 1024\n").await;
    let bridge = Bridge::start(&nats.url(), |_| {}).await;
    let http = reqwest::Client::new();

    let honest = esim_webhook("evt_fits", "esim.delivered", 1, Some("8910300000000000011"));
    let answer = signed(&http, &bridge.url(), &honest)
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 200, "an ordinary event fits in 1 KiB");

    // Within every field rule (failure_reason keeps up to 1024 characters), too large for
    // this server once it is an event with headers.
    let sentence = "The issuing network declined the profile download for this order. ";
    let reason: String = sentence.repeat(14);
    assert!(reason.len() <= 1024);
    let big = failed_webhook("evt_too_big", 2, &reason);
    let answer = signed(&http, &bridge.url(), &big)
        .send()
        .await
        .expect("send");
    let status = answer.status().as_u16();
    let retry_after = answer.headers().get("retry-after").cloned();
    let text = answer.text().await.expect("body");
    assert_eq!(
        (status, text.as_str()),
        (422, "event too large for the event store")
    );
    assert_eq!(retry_after, None, "nothing to retry");
    assert_eq!(stored(&nats.url(), "ESIM_EVENTS").await.len(), 1);
    let m = metrics(&bridge).await;
    assert!(m.contains(r#"reason="event_too_large""#), "{m}");
    assert!(logs.text().contains("max payload"), "the cause is logged");
    bridge.stop().await;
    logs.assert_clean(&[]);
}

#[tokio::test]
async fn an_event_larger_than_the_streams_max_msg_size_is_refused_for_good_with_422() {
    let (logs, _guard) = Logs::capture();
    let nats = NatsServer::start().await;
    let js = jetstream(&nats.url()).await;
    let small_messages = Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        max_message_size: 1024,
        ..Default::default()
    };
    js.create_stream(small_messages).await.expect("create");
    let bridge = Bridge::start(&nats.url(), |_| {}).await;
    let http = reqwest::Client::new();
    let reason = "The issuing network declined the profile download. ".repeat(19);
    let big = failed_webhook("evt_too_big", 2, &reason);
    let answer = signed(&http, &bridge.url(), &big)
        .send()
        .await
        .expect("send");
    let status = answer.status().as_u16();
    assert_eq!(status, 422, "{}", answer.text().await.unwrap_or_default());
    assert_eq!(stored(&nats.url(), "ESIM_EVENTS").await.len(), 0);
    bridge.stop().await;
    logs.assert_clean(&[]);
}

#[tokio::test]
async fn a_full_stream_answers_503_says_why_once_and_takes_events_again_once_there_is_room() {
    let (logs, _guard) = Logs::capture();
    let nats = NatsServer::start().await;
    let js = jetstream(&nats.url()).await;
    let full_at_two = Config {
        name: "ESIM_EVENTS".into(),
        subjects: vec!["esim.events.>".into()],
        max_messages: 2,
        discard: DiscardPolicy::New,
        ..Default::default()
    };
    js.create_stream(full_at_two.clone()).await.expect("create");
    let bridge = Bridge::start(&nats.url(), |_| {}).await;
    let http = reqwest::Client::new();
    let body = |n: u64| {
        let iccid = format!("89103000000000000{n:02}");
        esim_webhook(&format!("evt_{n}"), "esim.delivered", n, Some(&iccid))
    };
    for n in 1..=2 {
        let answer = signed(&http, &bridge.url(), &body(n))
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status(), 200);
    }
    let mut answers = Vec::new();
    for n in 3..=5 {
        let answer = signed(&http, &bridge.url(), &body(n))
            .send()
            .await
            .expect("send");
        let retry_after = answer.headers().contains_key("retry-after");
        answers.push((
            answer.status().as_u16(),
            retry_after,
            answer.text().await.expect("body"),
        ));
    }
    let text = logs.text();
    assert_eq!(
        text.matches("maximum messages exceeded").count(),
        1,
        "the server's cause is logged once, not per request: {text}"
    );
    assert!(
        !text.contains("retrying with the same msg-id"),
        "a full stream is not retried while the request waits: {text}"
    );
    for answer in answers {
        let full = (503, true, "event store full".to_owned());
        assert_eq!(answer, full, "full: the sender retries later");
    }
    let m = metrics(&bridge).await;
    assert!(m.contains(r#"reason="stream_full""#), "{m}");

    // The operator makes room; the provider's retry is stored.
    js.update_stream(Config {
        max_messages: 10,
        ..full_at_two
    })
    .await
    .expect("raise the limit");
    let answer = signed(&http, &bridge.url(), &body(3))
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 200);
    assert_eq!(stored(&nats.url(), "ESIM_EVENTS").await.len(), 3);
    assert!(logs.text().contains("events stream accepts events again"));
    bridge.stop().await;
    logs.assert_clean(&[]);
}
