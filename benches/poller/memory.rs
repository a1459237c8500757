//! The poller's footprint with 100,000 tracked orders, and how long a restart needs to resume
//! them from the KV bucket (a real nats-server; real time).

use std::time::{Duration, Instant};

use esim_bridge::config::{NatsConfig, Secret, UpstreamConfig};
use esim_bridge::event::OrderData;
use esim_bridge::ingest::poller::auth::Credentials;
use esim_bridge::ingest::poller::tracked::{Phase, Tracked};
use esim_bridge::ingest::poller::transport::Transport;
use esim_bridge::ingest::poller::{
    Budget, Clock, Engine, NatsOutlet, Settings, StateStore, StoredOrder, UpstreamClient,
};
use esim_bridge::publish::Publisher;
use futures::StreamExt;

use crate::fixture::NatsServer;

/// What was measured.
pub struct MemoryResult {
    pub orders: usize,
    pub populate: Duration,
    pub resume: Duration,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kv_bytes: u64,
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A realistic stored order: delivered, installed for two thirds of them.
fn record(i: u64) -> StoredOrder {
    let id = 9_300_001 + i;
    let installed = i % 3 != 0;
    let snapshot: OrderData = serde_json::from_value(serde_json::json!({
        "id": id, "client_reference": format!("WL42-{i:06}"), "status": "DELIVERED",
        "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
        "validity_days": 7, "amount": 4.275, "currency": "USD",
        "iccid": format!("8910{:015}", id),
        "activation_status": if installed { "ACTIVE" } else { "NOT_INSTALLED" },
        "is_installed": installed,
        "installed_at": installed.then_some("2026-05-15T14:35:00Z"),
        "activated_at": installed.then_some("2026-05-15T15:10:00Z"),
        "created_at": "2026-05-15T14:30:32Z",
    }))
    .expect("snapshot");
    let mut t = Tracked::new();
    t.step(
        esim_bridge::event::EventType::Delivered,
        Some(1_778_855_432),
    );
    if installed {
        t.step(
            esim_bridge::event::EventType::Activated,
            Some(1_778_859_000),
        );
    }
    t.learn(&snapshot);
    debug_assert_eq!(
        t.phase,
        if installed {
            Phase::Lifecycle
        } else {
            Phase::Install
        }
    );
    let due = esim_bridge::ingest::poller::clock::unix_ms(time::OffsetDateTime::now_utc())
        + i64::try_from(i % 21_600).unwrap_or(0) * 1000;
    StoredOrder::new(&t, snapshot, Some(due))
}

pub async fn run(orders: usize) -> MemoryResult {
    let nats = NatsServer::start().await;
    let nats_cfg = NatsConfig {
        url: nats.url(),
        state_bucket: "bench_state".into(),
        ..NatsConfig::default()
    };
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let publisher = Publisher::new(client, &nats_cfg);
    let state = StateStore::open(publisher.jetstream(), &nats_cfg)
        .await
        .expect("bucket");

    let started = Instant::now();
    let saves = futures::stream::iter(0..orders as u64).map(|i| {
        let state = state.clone();
        async move { state.save(9_300_001 + i, &record(i)).await }
    });
    let mut saves = saves.buffer_unordered(256);
    while let Some(r) = saves.next().await {
        r.expect("save");
    }
    let populate = started.elapsed();
    if let Ok(Some(v)) = state.kv().get("order.9300001").await {
        eprintln!("DEBUG {}", String::from_utf8_lossy(&v));
        eprintln!("DEBUG parse {:?}", serde_json::from_slice::<StoredOrder>(&v).map(|_| ()));
    }
    eprintln!("DEBUG stream {:?}", state.kv().status().await.map(|s| s.info.state.messages));
    let kv_bytes = state
        .kv()
        .status()
        .await
        .map(|s| s.info.state.bytes)
        .unwrap_or(0);

    // A restart: a fresh engine resumes every stored order.
    let cfg = UpstreamConfig::default();
    let transport = Transport::http(
        "http://127.0.0.1:9",
        cfg.connect_timeout,
        cfg.request_timeout,
    )
    .expect("transport");
    let credentials = Credentials {
        api_key: Secret::new("unused"),
        api_secret: Secret::new("unused"),
    };
    let clock = Clock::new();
    let upstream = UpstreamClient::new(transport, credentials, Budget::new(240), clock, 100);
    let outlet = NatsOutlet::new(publisher.clone(), state.clone());
    let rss_before_kib = rss_kib();
    let started = Instant::now();
    let mut engine = Engine::new(upstream, outlet, clock, Settings::from_config(&cfg));
    engine.set_cursor(state.cursor().await.expect("cursor"));
    let loaded = state
        .load(|id, stored| engine.restore(id, stored))
        .await
        .expect("load");
    let resume = started.elapsed();
    let rss_after_kib = rss_kib();
    assert_eq!(loaded, orders);
    assert_eq!(engine.tracked(), orders);
    drop(engine);
    MemoryResult {
        orders,
        populate,
        resume,
        rss_before_kib,
        rss_after_kib,
        kv_bytes,
    }
}
