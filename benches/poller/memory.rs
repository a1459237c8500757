//! The poller's footprint with 100,000 tracked orders, and how long a restart needs to resume
//! them from the KV bucket (a real nats-server; real time).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use esim_bridge::config::{NatsConfig, Secret, UpstreamConfig};
use esim_bridge::ingest::poller::{Engine, NatsOutlet, Settings, StateStore, StoredOrder};
use esim_bridge::ingest::poller::{Phase, Tracked};
use esim_bridge::provider::Credentials;
use esim_bridge::provider::{Budget, Clock, Http, UpstreamClient};
use esim_bridge::publish::Publisher;
use esim_events::{EventType, OrderData};
use futures::StreamExt;

use crate::fixture::NatsServer;

/// The system allocator, counting live heap bytes: RSS alone would also count the transient
/// buffers of the load (NATS messages, JSON) that the allocator keeps after they are freed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to `System`, only adding bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What was measured.
pub struct MemoryResult {
    pub orders: usize,
    pub populate: Duration,
    pub resume: Duration,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Live heap bytes held after the resume minus before it.
    pub heap_delta: usize,
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

/// A realistic stored order, delivered an hour ago (activated for two thirds of them).
fn record(i: u64, now: time::OffsetDateTime) -> StoredOrder {
    let id = 9_300_001 + i;
    let delivered = now - time::Duration::hours(1);
    let activated = now - time::Duration::minutes(20);
    let ts = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    };
    let installed = i % 3 != 0;
    let snapshot: OrderData = serde_json::from_value(serde_json::json!({
        "id": id, "client_reference": format!("WL42-{i:06}"), "status": "DELIVERED",
        "product_name": "Japan eSIM", "country_code": "JPN", "data_amount_gb": 1.0,
        "validity_days": 7, "amount": 4.275, "currency": "USD",
        "iccid": format!("8910{:015}", id),
        "activation_status": if installed { "ACTIVE" } else { "NOT_INSTALLED" },
        "is_installed": installed,
        "installed_at": installed.then(|| ts(activated)),
        "activated_at": installed.then(|| ts(activated)),
        "created_at": ts(delivered),
    }))
    .expect("snapshot");
    let mut t = Tracked::new();
    t.step(EventType::Delivered, Some(delivered.unix_timestamp()));
    if installed {
        t.step(EventType::Activated, Some(activated.unix_timestamp()));
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
    let due = esim_bridge::provider::unix_ms(now) + i64::try_from(i % 21_600).unwrap_or(0) * 1000;
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
    let now = time::OffsetDateTime::now_utc();
    let saves = futures::stream::iter(0..orders as u64).map(|i| {
        let state = state.clone();
        async move { state.save(9_300_001 + i, &record(i, now)).await }
    });
    let mut saves = saves.buffer_unordered(256);
    while let Some(r) = saves.next().await {
        r.expect("save");
    }
    let populate = started.elapsed();
    let kv_bytes = match publisher.jetstream().get_stream("KV_bench_state").await {
        Ok(mut stream) => stream.info().await.map(|i| i.state.bytes).unwrap_or(0),
        Err(_) => 0,
    };

    // A restart: a fresh engine resumes every stored order.
    let cfg = UpstreamConfig::default();
    let transport = Http::new(
        "http://127.0.0.1:9",
        cfg.connect_timeout,
        cfg.request_timeout,
        cfg.max_response_bytes,
    )
    .expect("transport");
    let transport = std::sync::Arc::new(transport);
    let credentials = Credentials {
        api_key: Secret::new("unused"),
        api_secret: Secret::new("unused"),
    };
    let clock = Clock::new();
    let upstream = UpstreamClient::new(transport, credentials, Budget::new(240), clock, 100);
    let outlet = NatsOutlet::new(publisher.clone(), state.clone());
    let rss_before_kib = rss_kib();
    let heap_before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut engine = Engine::new(upstream, outlet, clock, Settings::from_config(&cfg));
    engine.set_cursor(state.discovery().await.expect("cursor"));
    let loaded = state
        .load(|id, stored| engine.restore(id, stored))
        .await
        .expect("load");
    let resume = started.elapsed();
    let rss_after_kib = rss_kib();
    // Let the client drain what the load left in flight, then count what stays.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let heap_delta = LIVE.load(Ordering::Relaxed).saturating_sub(heap_before);
    assert_eq!(loaded, orders);
    assert_eq!(engine.tracked(), orders);
    drop(engine);
    MemoryResult {
        orders,
        populate,
        resume,
        rss_before_kib,
        rss_after_kib,
        heap_delta,
        kv_bytes,
    }
}
