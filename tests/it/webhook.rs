//! Scenarios of the signed webhook path against a real nats-server and real HTTP.

use crate::support::bridge::{esim_webhook, now_secs, signed, stored, Bridge, Scenario, SECRET};
use crate::support::fixture::NatsServer;

const ICCID: &str = "8910300000123456789";
const STREAM: &str = "ESIM_EVENTS";

/// Strict, published and frozen v1 schemas (tests/it/support/schema.rs).
use crate::support::schema::event_schemas as schema;

#[tokio::test]
async fn a_signed_delivery_is_stored_once_code_free_and_schema_valid() {
    let s = Scenario::start(|_| {}).await;
    let (nats, bridge, http) = (&s.nats, &s.bridge, &s.http);
    let body = serde_json::json!({
        "id": "evt_esim_abc123", "type": "esim.delivered", "created_at": "2026-05-15T14:30:32Z",
        "data": {
            "id": 9302481, "client_reference": "TRIP_TOKYO_OCT", "status": "DELIVERED",
            "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
            "validity_days": 7, "amount": 4.275, "currency": "USD", "iccid": ICCID,
            "activation_code": "LPA:1$smdp.example.com$SMUGGLED-ONE",
            "device_notes": {"hint": "scan LPA:1$smdp.example.com$SMUGGLED-TWO"}
        }
    })
    .to_string();
    let res = signed(http, &bridge.url(), &body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);

    let msgs = stored(&nats.url(), STREAM).await;
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.subject, format!("esim.events.{ICCID}.delivered"));
    let h = |k: &str| m.headers.get(k).map(|v| v.as_str().to_owned());
    assert_eq!(
        h("Nats-Msg-Id").as_deref(),
        Some(format!("evt_esim_{ICCID}_delivered").as_str())
    );
    assert_eq!(h("Esim-Event-Type").as_deref(), Some("esim.delivered"));
    assert_eq!(h("Esim-Order-Id").as_deref(), Some("9302481"));
    assert_eq!(h("Esim-Iccid").as_deref(), Some(ICCID));
    assert_eq!(h("Esim-Source").as_deref(), Some("webhook"));
    assert_eq!(h("Esim-Schema").as_deref(), Some("1"));
    assert!(h("X-OCTOPUS-WEBHOOK-TOKEN").is_none());
    let payload: serde_json::Value = serde_json::from_str(&m.payload).expect("json");
    assert!(schema().is_valid(&payload), "{payload}");
    assert_eq!(payload["data"]["amount"].to_string(), "4.275");
    let everything = format!("{} {:?} {}", m.subject, m.headers, m.payload);
    assert!(
        !everything.to_ascii_uppercase().contains("LPA:"),
        "{everything}"
    );
    assert!(!everything.contains("SMUGGLED") && !everything.contains(SECRET));

    s.finish().await;
}

#[tokio::test]
async fn redelivery_and_a_second_event_id_for_the_same_transition_store_one_message() {
    let s = Scenario::start(|_| {}).await;
    let (nats, bridge, http) = (&s.nats, &s.bridge, &s.http);
    let body = esim_webhook("evt_1", "esim.installed", 7, Some(ICCID));
    for _ in 0..3 {
        let res = signed(http, &bridge.url(), &body)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), 200);
    }
    let other_id = esim_webhook("evt_2", "esim.installed", 7, Some(ICCID));
    assert_eq!(
        signed(http, &bridge.url(), &other_id)
            .send()
            .await
            .expect("send")
            .status(),
        200
    );

    let subjects: Vec<String> = stored(&nats.url(), STREAM)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    // installed implies delivered: the inferred predecessor comes first, each exactly once.
    assert_eq!(
        subjects,
        [
            format!("esim.events.{ICCID}.delivered"),
            format!("esim.events.{ICCID}.installed")
        ]
    );
    s.finish().await;
}

#[tokio::test]
async fn with_nats_down_the_sender_is_told_to_retry_and_the_retry_is_stored_once() {
    let s = Scenario::start(|_| {}).await;
    let (nats, bridge, http) = (&s.nats, &s.bridge, &s.http);
    let admin = format!("http://{}", bridge.admin);
    let body = esim_webhook("evt_down", "esim.delivered", 11, Some(ICCID));
    assert_eq!(get_status(http, &format!("{admin}/readyz")).await, 200);

    nats.stop();
    let res = signed(http, &bridge.url(), &body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 503);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(get_status(http, &format!("{admin}/readyz")).await, 503);
    assert_eq!(get_status(http, &format!("{admin}/healthz")).await, 200);

    nats.restart().await;
    let mut answer = 0;
    for _ in 0..100 {
        answer = signed(http, &bridge.url(), &body)
            .send()
            .await
            .expect("send")
            .status()
            .as_u16();
        if answer == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answer, 200, "accepted once NATS is back");
    let msgs = stored(&nats.url(), STREAM).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].subject, format!("esim.events.{ICCID}.delivered"));

    let metrics = http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("esim_bridge_webhooks_total"), "{metrics}");
    assert!(
        metrics.contains("esim_bridge_publish_duration_seconds"),
        "{metrics}"
    );
    assert!(!metrics.contains(SECRET));
    s.finish().await;
}

#[tokio::test]
async fn standard_webhooks_scheme_verifies_its_own_headers() {
    let nats = NatsServer::start().await;
    let key = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let bridge = Bridge::start(&nats.url(), |c| {
        c.webhook.scheme = esim_bridge::config::Scheme::StandardWebhooks;
        c.webhook.secrets = vec![esim_bridge::config::Secret::new(key)];
    })
    .await;
    let http = reqwest::Client::new();
    let body = esim_webhook("msg_1", "esim.delivered", 5, Some(ICCID));
    let ts = now_secs();
    let sig = esim_bridge::ingest::webhook::standard_signature(key, "msg_1", ts, body.as_bytes());
    let send = |sig: String| {
        http.post(bridge.url())
            .header("content-type", "application/json")
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body.clone())
            .send()
    };
    assert_eq!(
        send("v1,bm90IGl0".into()).await.expect("send").status(),
        401
    );
    assert_eq!(
        send(format!("v1,bm90IGl0 {sig}"))
            .await
            .expect("send")
            .status(),
        200
    );
    assert_eq!(stored(&nats.url(), STREAM).await.len(), 1);
    bridge.stop().await;
}

/// The status of a GET (admin endpoints).
async fn get_status(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url).send().await.expect("GET").status().as_u16()
}
