//! Webhook sender scenarios against a real receiving socket.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::config;
use crate::{
    spawn, OrderPlan, Outcome, ScriptedOrder, Secret, SimConfig, SimHandle, WebhookConfig,
};

const SECRET: &str = "whsec-test-secret";

/// HMAC-SHA256 written out from RFC 2104, independent of the simulator's signer.
fn reference_hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key); // keys used here are shorter than a block
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

type Shared = (mpsc::UnboundedSender<Received>, Arc<Mutex<VecDeque<u16>>>);

async fn hook(State((tx, plan)): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = tx.send(Received { headers, body });
    let next = plan
        .lock()
        .map(|mut p| p.pop_front())
        .ok()
        .flatten()
        .unwrap_or(200);
    StatusCode::from_u16(next).unwrap_or(StatusCode::OK)
}

/// A receiver answering `statuses` in turn, then 200; and a simulator posting to it.
async fn setup(
    statuses: &[u16],
    shutdown: &CancellationToken,
) -> (SimHandle, mpsc::UnboundedReceiver<Received>) {
    setup_with(statuses, shutdown, WebhookConfig::default()).await
}

/// [`setup`] with extra sender knobs (`url`, `secret` and `initial_backoff` are filled in).
async fn setup_with(
    statuses: &[u16],
    shutdown: &CancellationToken,
    knobs: WebhookConfig,
) -> (SimHandle, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let plan = Arc::new(Mutex::new(statuses.iter().copied().collect()));
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state((tx, plan));
    let receiver = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", receiver.local_addr().expect("addr"));
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(receiver, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    });
    let cfg = SimConfig {
        webhook: WebhookConfig {
            url: Some(url),
            secret: Secret::new(SECRET),
            initial_backoff: Duration::from_millis(10),
            ..knobs
        },
        ..config()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    (
        spawn(cfg, listener, shutdown.clone()).await.expect("spawn"),
        rx,
    )
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a webhook within 5 s")
        .expect("receiver alive")
}

/// The receiver sees a request before the sender records its answer: wait for the counter.
async fn wait_for_acks(sim: &SimHandle, acked: u64) {
    for _ in 0..250 {
        if sim.counters().webhooks.acked >= acked {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn delivered_then_installed_webhooks_are_signed_like_the_provider() {
    let shutdown = CancellationToken::new();
    let (sim, mut rx) = setup(&[], &shutdown).await;
    let plan = OrderPlan::delivered(Some(Duration::from_secs(60)), None);
    let order = sim
        .create_order(ScriptedOrder {
            client_reference: Some("HOOK-1".into()),
            plan,
            ..Default::default()
        })
        .expect("created");

    let delivered = next(&mut rx).await;
    let expected = reference_hmac_hex(SECRET.as_bytes(), &delivered.body);
    assert_eq!(delivered.header("x-signature"), expected);
    assert_eq!(delivered.header("x-octopus-webhook-token"), SECRET);
    assert_eq!(delivered.header("content-type"), "application/json");
    assert_eq!(
        delivered.header("user-agent"),
        "octopusrewards.com/webhook-agent"
    );
    assert_eq!(delivered.header("x-webhook-id"), "wh_sim_1");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamped: u64 = delivered
        .header("x-timestamp")
        .parse()
        .expect("unix seconds");
    assert!(now.abs_diff(stamped) < 60);
    let body = delivered.json();
    assert_eq!(
        delivered.header("x-event-id"),
        body["id"].as_str().unwrap_or("?")
    );
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("evt_")));
    assert_eq!(
        (delivered.header("x-event-type"), body["type"].as_str()),
        ("esim.delivered", Some("esim.delivered"))
    );
    assert_eq!(body["created_at"], "2026-05-15T12:00:00Z");
    assert_eq!(body["data"]["id"].as_u64(), Some(order.id));
    assert_eq!(body["data"]["iccid"].as_str(), order.iccid.as_deref());
    assert!(String::from_utf8_lossy(&delivered.body).contains(r#""amount":4.275,"#));
    assert!(
        body["data"].get("is_installed").is_none(),
        "delivered carries no lifecycle fields"
    );
    let code = order.activation_code.expect("code");
    assert!(!String::from_utf8_lossy(&delivered.body).contains(&code));

    sim.advance(Duration::from_secs(60));
    let installed = next(&mut rx).await.json();
    assert_eq!(installed["type"], "esim.installed");
    assert_eq!(installed["created_at"], "2026-05-15T12:01:00Z");
    assert_eq!(installed["data"]["is_installed"], true);
    assert_eq!(installed["data"]["activation_status"], "NOT_INSTALLED");
    assert_eq!(installed["data"]["installed_at"], "2026-05-15T12:01:00Z");
    assert_eq!(installed["data"]["activated_at"], Value::Null);
    assert_ne!(installed["id"], body["id"]);

    wait_for_acks(&sim, 2).await;
    let hooks = sim.counters().webhooks;
    assert_eq!(
        (hooks.events, hooks.acked, hooks.failed_attempts),
        (2, 2, 0)
    );
    shutdown.cancel();
}

#[tokio::test]
async fn failed_webhook_is_retried_with_the_same_id_until_acknowledged() {
    let shutdown = CancellationToken::new();
    let (sim, mut rx) = setup(&[500, 503], &shutdown).await;
    let plan = OrderPlan {
        outcome: Outcome::Failed,
        ..OrderPlan::default()
    };
    sim.create_order(ScriptedOrder {
        plan,
        ..Default::default()
    })
    .expect("created");
    let attempts: Vec<Value> = vec![
        next(&mut rx).await.json(),
        next(&mut rx).await.json(),
        next(&mut rx).await.json(),
    ];
    assert!(attempts
        .iter()
        .all(|a| a["id"] == attempts[0]["id"] && a["type"] == "esim.failed"));
    assert_eq!(attempts[0]["data"]["failure_code"], "PROVIDER_ERROR");
    assert_eq!(attempts[0]["data"]["iccid"], Value::Null);
    wait_for_acks(&sim, 1).await;
    let hooks = sim.counters().webhooks;
    assert_eq!(
        (
            hooks.attempts,
            hooks.failed_attempts,
            hooks.acked,
            hooks.gave_up
        ),
        (3, 2, 1, 0)
    );
    shutdown.cancel();
}

#[tokio::test]
async fn duplicated_and_reordered_batches_deliver_every_event_twice() {
    let shutdown = CancellationToken::new();
    let knobs = WebhookConfig {
        duplicate_probability: 1.0,
        reorder_batch: 3,
        reorder_hold: Duration::from_millis(50),
        ..WebhookConfig::default()
    };
    let (sim, mut rx) = setup_with(&[], &shutdown, knobs).await;
    for _ in 0..3 {
        sim.create_order(ScriptedOrder::default()).expect("created");
    }
    let mut seen = std::collections::HashMap::<String, (u32, u64)>::new();
    for _ in 0..6 {
        let body = next(&mut rx).await.json();
        let key = body["id"].as_str().unwrap_or_default().to_owned();
        let order = body["data"]["id"].as_u64().unwrap_or_default();
        let entry = seen.entry(key).or_insert((0, order));
        entry.0 += 1;
        assert_eq!(
            entry.1, order,
            "a duplicate carries the same event for the same order"
        );
    }
    assert_eq!(seen.len(), 3);
    assert!(seen.values().all(|(copies, _)| *copies == 2));
    wait_for_acks(&sim, 6).await;
    let hooks = sim.counters().webhooks;
    assert_eq!((hooks.events, hooks.duplicates, hooks.acked), (3, 3, 6));
    shutdown.cancel();
}
