//! What the poller scenarios share: a simulator on a real port, a bridge config with the
//! poller on and cadences in milliseconds, and waiting for the events stream to fill.
#![allow(dead_code)] // Shared by several scenario files; not all use every helper.

use std::time::{Duration, Instant};

use esim_bridge::config::{Config, Secret};
use esim_sim::{OrderPlan, ScriptedOrder, SimConfig, SimHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::bridge::{stored, Stored};

pub const STREAM: &str = "ESIM_EVENTS";
/// How long a scenario may wait for the stream to reach the expected state.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A simulator serving on 127.0.0.1, stopped on drop.
pub struct Sim {
    pub handle: SimHandle,
    stop: CancellationToken,
}

impl std::ops::Deref for Sim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A listener for a simulator that must be addressed before it starts (webhook tests).
pub async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

/// A simulator config that never throttles a test unless told to.
pub fn sim_config() -> SimConfig {
    SimConfig {
        reads_per_minute: 100_000,
        ..SimConfig::default()
    }
}

pub async fn start_sim(cfg: SimConfig) -> Sim {
    start_sim_on(bind().await, cfg).await
}

pub async fn start_sim_on(listener: TcpListener, cfg: SimConfig) -> Sim {
    let stop = CancellationToken::new();
    let handle = esim_sim::spawn(cfg, listener, stop.clone())
        .await
        .expect("simulator starts");
    Sim { handle, stop }
}

/// Turns the poller on against `sim_url`, with cadences in milliseconds.
pub fn with_poller(c: &mut Config, sim_url: &str) {
    let u = &mut c.upstream;
    u.enabled = true;
    u.base_url = Some(sim_url.to_owned());
    u.api_key = Some(Secret::new("demo-key"));
    u.api_secret = Some(Secret::new("demo-secret"));
    u.reads_per_minute = 600;
    u.lease_ttl = Duration::from_millis(600);
    u.backfill = Duration::from_secs(3600);
    let cad = &mut u.cadence;
    cad.discovery = Duration::from_millis(250);
    cad.pending = Duration::from_millis(250);
    cad.install_fast = Duration::from_millis(200);
    cad.install_fast_for = Duration::from_secs(60);
    cad.install_slow = Duration::from_millis(500);
    cad.install_slow_until = Duration::from_secs(120);
    cad.install_tail = Duration::from_secs(1);
    cad.lifecycle = Duration::from_millis(250);
    cad.after_expiry = Duration::from_millis(10);
}

pub fn order(plan: OrderPlan) -> ScriptedOrder {
    ScriptedOrder {
        plan,
        ..ScriptedOrder::default()
    }
}

/// Delivered after `step`, then installed, activated and expired `step` apart.
pub fn full_lifecycle(step: Duration) -> OrderPlan {
    OrderPlan {
        pending_for: step,
        install_after: Some(step),
        activate_after: Some(step),
        expire_after: Some(step),
        ..OrderPlan::default()
    }
}

/// The event tokens stored for subject key `key`, in stream order.
pub fn types_for(stored: &[Stored], key: &str) -> Vec<String> {
    let prefix = format!("esim.events.{key}.");
    stored
        .iter()
        .filter_map(|m| m.subject.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// Polls the stream until `done` holds; panics with what it holds after [`PATIENCE`].
pub async fn wait_for(nats_url: &str, done: impl Fn(&[Stored]) -> bool) -> Vec<Stored> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = stored(nats_url, STREAM).await;
        if done(&now) {
            return now;
        }
        if Instant::now() > deadline {
            let subjects: Vec<&str> = now.iter().map(|m| m.subject.as_str()).collect();
            panic!("stream never reached the expected state; it holds {subjects:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` until it holds; panics after [`PATIENCE`].
pub async fn eventually(what: &str, check: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < PATIENCE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// Waits until the upstream served `reads` more reads than it had when called: the positive
/// marker that the poller looked again (a discovery or pending pass is one read each), after
/// which a stream that did not grow has nothing more coming from polling.
pub async fn polled_again(sim: &Sim, reads: u64) {
    let from = sim.counters().reads_served;
    let target = from.saturating_add(reads);
    eventually("the poller read the upstream again", || {
        sim.counters().reads_served >= target
    })
    .await;
}

/// Waits until every webhook copy the simulator produced (events and injected duplicates) was
/// acknowledged or given up: no delivery is still on its way to the bridge.
pub async fn webhooks_settled(sim: &Sim) {
    eventually("every simulated webhook was answered", || {
        let w = sim.counters().webhooks;
        w.acked.saturating_add(w.gave_up) >= w.events.saturating_add(w.duplicates)
    })
    .await;
}

/// Asserts no payload or header of the stream carries an activation code.
pub fn assert_code_free(stored: &[Stored]) {
    for m in stored {
        assert!(
            !m.payload.to_ascii_uppercase().contains("LPA:"),
            "{}",
            m.subject
        );
        for (name, values) in m.headers.iter() {
            for v in values {
                let v = v.as_str().to_ascii_uppercase();
                assert!(!v.contains("LPA:"), "header {name} of {}", m.subject);
            }
        }
    }
}

/// Every value of the poller's state bucket, as text.
pub async fn state_values(nats_url: &str) -> Vec<(String, String)> {
    use futures::StreamExt;
    let js = async_nats::jetstream::new(async_nats::connect(nats_url).await.expect("connect"));
    let kv = js.get_key_value("esim_bridge_state").await.expect("bucket");
    let mut keys = kv.keys().await.expect("keys");
    let mut out = Vec::new();
    while let Some(key) = keys.next().await {
        let key = key.expect("key");
        if let Some(v) = kv.get(&key).await.expect("get") {
            out.push((key, String::from_utf8_lossy(&v).into_owned()));
        }
    }
    out
}
