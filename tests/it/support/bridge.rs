//! An in-process bridge for scenario tests, plus what they need around it: a log capture that
//! can be scanned for secrets, a webhook signer that signs the way the provider does, and a
//! reader of what the events stream holds.
#![allow(dead_code)] // Shared by several scenario files; not all use every helper.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use esim_bridge::app;
use esim_bridge::config::{Config, Secret};
use esim_sim::octopus_signature;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;

/// The signing secret every test bridge uses; log scans look for it.
pub const SECRET: &str = "whk-secret-9f3a1c";

/// A bridge running inside the test's runtime.
pub struct Bridge {
    pub webhook: SocketAddr,
    pub admin: SocketAddr,
    pub shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Bridge {
    /// Starts webhook + admin (poller off) against `nats_url`, on port 0.
    pub async fn start(nats_url: &str, tweak: impl FnOnce(&mut Config)) -> Bridge {
        let mut config = test_config(nats_url);
        tweak(&mut config);
        let shutdown = CancellationToken::new();
        let running = app::start(config, shutdown.clone())
            .await
            .expect("bridge starts");
        let webhook = running.webhook_addr.expect("webhook enabled");
        let admin = running.admin_addr;
        let task = tokio::spawn(running.wait());
        Bridge {
            webhook,
            admin,
            shutdown,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/webhooks/octopus", self.webhook)
    }

    /// Cancels and waits for a graceful stop.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// A config for tests: webhook on 127.0.0.1:0, admin on 127.0.0.1:0, poller off.
pub fn test_config(nats_url: &str) -> Config {
    let mut c = Config::default();
    c.nats.url = nats_url.to_owned();
    c.nats.retry_for = std::time::Duration::from_secs(2);
    c.nats.ack_timeout = std::time::Duration::from_secs(1);
    c.webhook.listen = "127.0.0.1:0".parse().expect("addr");
    c.webhook.secrets = vec![Secret::new(SECRET)];
    c.admin.listen = "127.0.0.1:0".parse().expect("addr");
    c.upstream.enabled = false;
    c
}

/// Unix seconds now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A webhook request signed like the provider signs it (all provider headers set).
pub fn signed(client: &reqwest::Client, url: &str, body: &str) -> reqwest::RequestBuilder {
    signed_at(client, url, body, SECRET, now_secs())
}

pub fn signed_at(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    secret: &str,
    ts: u64,
) -> reqwest::RequestBuilder {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "octopusrewards.com/webhook-agent")
        .header("x-webhook-id", "wh_test")
        .header("x-event-id", text("id"))
        .header("x-event-type", text("type"))
        .header("x-timestamp", ts.to_string())
        .header("x-signature", octopus_signature(secret, body.as_bytes()))
        .header("x-octopus-webhook-token", secret)
        .body(body.to_owned())
}

/// A provider-shaped `esim.*` webhook body.
pub fn esim_webhook(
    event_id: &str,
    event_type: &str,
    order_id: u64,
    iccid: Option<&str>,
) -> String {
    serde_json::json!({
        "id": event_id,
        "type": event_type,
        "created_at": "2026-05-15T14:30:32Z",
        "data": {
            "id": order_id, "client_reference": format!("REF_{order_id}"), "status": "DELIVERED",
            "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
            "validity_days": 7, "amount": 4.275, "currency": "USD", "iccid": iccid,
        }
    })
    .to_string()
}

/// One stored message.
#[derive(Debug)]
pub struct Stored {
    pub subject: String,
    pub headers: HeaderMap,
    pub payload: String,
}

/// Everything the stream holds, in order (an empty Vec if it holds nothing). A sequence that
/// is gone (deleted or purged) is skipped; any other read error fails the test, and so does a
/// count that differs from the stream's own message count: an exactly-once count over what
/// this returns cannot miss a message (a duplicate among them) it failed to read.
pub async fn stored(nats_url: &str, stream: &str) -> Vec<Stored> {
    use async_nats::jetstream::stream::RawMessageErrorKind;
    let js = async_nats::jetstream::new(async_nats::connect(nats_url).await.expect("connect"));
    let mut s = js.get_stream(stream).await.expect("stream exists");
    let state = s.info().await.expect("info").state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        match s.get_raw_message(seq).await {
            Ok(m) => out.push(Stored {
                subject: m.subject.to_string(),
                headers: m.headers,
                payload: String::from_utf8_lossy(&m.payload).into_owned(),
            }),
            Err(e) if matches!(e.kind(), RawMessageErrorKind::NoMessageFound) => {}
            Err(e) => panic!("reading sequence {seq} of stream {stream}: {e}"),
        }
    }
    assert_eq!(
        u64::try_from(out.len()).expect("small"),
        state.messages,
        "read a different number of messages than stream {stream} holds"
    );
    out
}

/// Captures every log line emitted while the guard lives (tests run on a current-thread
/// runtime, so every task of the bridge logs on this thread).
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        // With the bridge's spans, as `serve` has them: every stored message carries the
        // `traceparent` of the span that stored it.
        let spans = tracing_opentelemetry::layer().with_tracer(esim_bridge::otlp::tracer());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish()
            .with(spans);
        (Logs(buf), tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }

    /// Asserts nothing secret was logged: no signing secret, no LPA code.
    pub fn assert_clean(&self, secrets: &[&str]) {
        let text = self.text();
        assert!(
            !text.is_empty(),
            "the bridge logged nothing: the scan would prove nothing"
        );
        for s in secrets.iter().chain([&SECRET]) {
            assert!(!text.contains(s), "a secret leaked into the logs");
        }
        assert!(
            !text.to_ascii_uppercase().contains("LPA:"),
            "an activation code leaked into the logs"
        );
    }
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The usual scenario: logs captured, a fresh nats-server, a bridge on it, an HTTP client.
/// [`Scenario::finish`] stops the bridge and scans everything it logged.
pub struct Scenario {
    pub logs: Logs,
    _guard: tracing::subscriber::DefaultGuard,
    pub nats: crate::support::fixture::NatsServer,
    pub bridge: Bridge,
    pub http: reqwest::Client,
}

impl Scenario {
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Scenario {
        let (logs, guard) = Logs::capture();
        let nats = crate::support::fixture::NatsServer::start().await;
        let bridge = Bridge::start(&nats.url(), tweak).await;
        Scenario {
            logs,
            _guard: guard,
            nats,
            bridge,
            http: reqwest::Client::new(),
        }
    }

    /// Everything the events stream holds.
    pub async fn stored(&self) -> Vec<Stored> {
        stored(&self.nats.url(), "ESIM_EVENTS").await
    }

    pub async fn finish(self) {
        self.bridge.stop().await;
        self.logs.assert_clean(&[]);
    }
}
