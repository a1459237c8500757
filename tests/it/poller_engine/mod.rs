//! The engine against the in-process simulator under `tokio::time::pause()`: cadences,
//! priorities, stretch under overload, the read budget and 429 pauses, in virtual time and
//! without NATS (events are recorded in memory).

mod hostile;
mod iccid;
mod provider;
mod scheduling;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use esim_bridge::config::{Secret, UpstreamConfig};
use esim_bridge::ingest::poller::Cursor;
use esim_bridge::ingest::poller::Quarantined;
use esim_bridge::ingest::poller::{Engine, Outlet, OutletError, Settings, StoredOrder};
use esim_bridge::ingest::poller::{Figures, Stats};
use esim_bridge::provider::Credentials;
use esim_bridge::provider::{Budget, Clock, UpstreamClient};
use esim_events::Event;
use esim_sim::{OrderPlan, ScriptedOrder, SimConfig, SimState};
use esim_testkit::InProcess;

/// Events in memory, one per subject like the real stream.
#[derive(Clone, Default)]
pub(super) struct Memory {
    pub(super) events: Arc<Mutex<Vec<Event>>>,
    pub(super) quarantined: Arc<Mutex<Vec<(u64, Quarantined)>>>,
    /// The order id of every publish call, in order.
    pub(super) calls: Arc<Mutex<Vec<u64>>>,
}

impl Memory {
    /// Publish calls per order id, duplicates included.
    pub(super) fn calls_per_order(&self) -> HashMap<u64, usize> {
        let mut per: HashMap<u64, usize> = HashMap::new();
        for &id in self.calls.lock().unwrap().iter() {
            *per.entry(id).or_default() += 1;
        }
        per
    }
}

impl Outlet for Memory {
    async fn publish(&self, events: &[Event]) -> Result<Vec<bool>, OutletError> {
        if let Some(e) = events.first() {
            self.calls.lock().unwrap().push(e.data.id);
        }
        let mut stored = self.events.lock().unwrap();
        let mut seen: HashSet<String> = stored.iter().map(|e| e.id.clone()).collect();
        let mut fresh = Vec::new();
        for e in events {
            let new = seen.insert(e.id.clone());
            if new {
                stored.push(e.clone());
            }
            fresh.push(new);
        }
        Ok(fresh)
    }
    async fn save(&self, _: u64, _: &StoredOrder) -> Result<(), OutletError> {
        Ok(())
    }
    async fn forget(&self, _: u64) -> Result<(), OutletError> {
        Ok(())
    }
    async fn save_cursor(&self, _: &Cursor) -> Result<(), OutletError> {
        Ok(())
    }
    async fn quarantine(&self, id: u64, entry: &Quarantined) -> Result<(), OutletError> {
        self.quarantined.lock().unwrap().push((id, *entry));
        Ok(())
    }
}

pub(super) struct Run {
    pub(super) sim: SimState,
    memory: Memory,
    stats: Stats,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Run {
    /// Starts the engine against a fresh simulator with `sim_cfg`, budget `budget`/min.
    pub(super) fn start(
        sim_cfg: SimConfig,
        budget: u32,
        tweak: impl FnOnce(&mut UpstreamConfig),
    ) -> Run {
        Self::start_wrapped(sim_cfg, budget, tweak, |router| router)
    }

    /// [`Run::start`] with the simulator's router wrapped (to alter its answers).
    pub(super) fn start_wrapped(
        sim_cfg: SimConfig,
        budget: u32,
        tweak: impl FnOnce(&mut UpstreamConfig),
        wrap: impl FnOnce(axum::Router) -> axum::Router,
    ) -> Run {
        let sim = SimState::new(sim_cfg).unwrap();
        let mut cfg = UpstreamConfig {
            reads_per_minute: budget,
            ..UpstreamConfig::default()
        };
        tweak(&mut cfg);
        let transport = std::sync::Arc::new(InProcess {
            router: wrap(esim_sim::router(sim.clone())),
            timeout: cfg.request_timeout,
        });
        let credentials = Credentials {
            api_key: Secret::new("demo-key"),
            api_secret: Secret::new("demo-secret"),
        };
        let clock = Clock::starting_at(sim.clock().now());
        let budget = Budget::new(cfg.reads_per_minute);
        let client = UpstreamClient::new(transport, credentials, budget, clock, cfg.page_size);
        let memory = Memory::default();
        let engine = Engine::new(client, memory.clone(), clock, Settings::from_config(&cfg));
        let stats = engine.stats();
        let stop = CancellationToken::new();
        let (_facts, facts_rx) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(engine.poll(facts_rx, stop.clone()));
        Run {
            sim,
            memory,
            stats,
            stop,
            task,
        }
    }

    /// The events published so far.
    pub(super) fn memory_events(&self) -> Vec<Event> {
        self.memory.events.lock().unwrap().clone()
    }

    pub(super) async fn finish(self) -> (SimState, Vec<Event>, Figures) {
        self.stop.cancel();
        self.task.await.unwrap();
        let events = self.memory.events.lock().unwrap().clone();
        (self.sim, events, self.stats.figures())
    }
}

pub(super) fn order(plan: OrderPlan) -> ScriptedOrder {
    ScriptedOrder {
        plan,
        ..ScriptedOrder::default()
    }
}

pub(super) fn never_installs() -> OrderPlan {
    OrderPlan::delivered(None, None)
}

pub(super) fn reads(sim: &SimState, route: &str) -> u64 {
    sim.counters().requests.get(route).copied().unwrap_or(0)
}

pub(super) const DETAIL: &str = "GET /api/v1/esim/orders/{id}";
pub(super) const LIST: &str = "GET /api/v1/esim/orders";

#[tokio::test(start_paused = true)]
async fn install_checks_follow_the_configured_cadences() {
    let run = Run::start(SimConfig::default(), 240, |c| {
        c.cadence.early_check = Duration::ZERO;
    });
    run.sim.create_order(order(never_installs())).unwrap();
    tokio::time::sleep(Duration::from_secs(80 * 60)).await;
    let (sim, events, _) = run.finish().await;
    // 30 s for 10 min (20 reads), then 5 min until 70 min (12 reads), then 6 h.
    let details = reads(&sim, DETAIL);
    assert!((31..=33).contains(&details), "{details} detail reads");
    // Discovery every 5 s, and no pending list while nothing is PENDING.
    let lists = reads(&sim, LIST);
    assert!((958..=962).contains(&lists), "{lists} list reads");
    let types: Vec<_> = events.iter().map(|e| e.event_type.token()).collect();
    assert_eq!(types, ["delivered"]);
}

#[tokio::test(start_paused = true)]
async fn under_overload_the_budget_holds_and_only_low_classes_run_late() {
    let run = Run::start(SimConfig::default(), 60, |_| {});
    for _ in 0..60 {
        run.sim.create_order(order(never_installs())).unwrap();
    }
    let long_pending = OrderPlan {
        pending_for: Duration::from_secs(3600),
        ..never_installs()
    };
    for _ in 0..3 {
        run.sim.create_order(order(long_pending.clone())).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(5 * 60)).await;
    let memory = run.memory.clone();
    let (sim, events, figures) = run.finish().await;
    let calls = memory.calls_per_order();
    let counters = sim.counters();
    assert_eq!(counters.throttled, 0);
    assert!(counters.max_reads_in_any(Duration::from_secs(60)) <= 60);
    // Counted on the outlet's calls, not on what it stored (which keeps one per subject, so a
    // second publish of the same event would not show there).
    let delivered: HashSet<u64> = events.iter().map(|e| e.data.id).collect();
    assert_eq!(delivered.len(), 60, "every delivered order published");
    for id in &delivered {
        assert_eq!(
            calls.get(id),
            Some(&1),
            "order {id} published once: {calls:?}"
        );
    }
    assert_eq!(calls.len(), 60, "nothing else published: {calls:?}");
    let [fulfilment, discovery, install_fast, ..] = figures.max_late;
    assert!(fulfilment <= Duration::from_secs(2), "{figures:?}");
    assert!(discovery <= Duration::from_secs(2), "{figures:?}");
    assert!(install_fast >= Duration::from_secs(30), "{figures:?}");
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_every_read_and_no_event_is_lost() {
    let run = Run::start(SimConfig::default(), 240, |c| {
        c.concurrency = 1;
        c.cadence.lifecycle = Duration::from_secs(60);
    });
    let quick = OrderPlan {
        pending_for: Duration::from_secs(20),
        ..OrderPlan::delivered(Some(Duration::from_secs(40)), Some(Duration::from_secs(60)))
    };
    let first = run.sim.create_order(order(quick.clone())).unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    run.sim.throttle_for(Duration::from_secs(45));
    let second = run.sim.create_order(order(quick)).unwrap();
    tokio::time::sleep(Duration::from_secs(10 * 60)).await;
    let (sim, events, _) = run.finish().await;
    let counters = sim.counters();
    assert!(counters.throttled >= 1);
    assert_eq!(counters.requests_during_retry_after, 0, "{counters:?}");
    for truth in [first, second] {
        let iccid = truth.iccid.unwrap();
        let mine: Vec<_> = events
            .iter()
            .filter(|e| e.data.iccid.as_ref().map(|i| i.as_str()) == Some(iccid.as_str()))
            .map(|e| e.event_type.token())
            .collect();
        assert_eq!(mine, ["delivered", "installed", "activated"]);
    }
}

#[tokio::test(start_paused = true)]
async fn a_first_start_backfills_every_page_of_wrapped_lists_then_follows_the_cursor() {
    // Wrapped bodies and null lifecycle fields: the other shapes the docs allow.
    let sim_cfg = SimConfig {
        envelope: esim_sim::Envelope::Wrapped,
        null_lifecycle_until_delivered: true,
        ..SimConfig::default()
    };
    let run = Run::start(sim_cfg, 240, |c| c.page_size = 100);
    for _ in 0..250 {
        run.sim.create_order(order(never_installs())).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pages = reads(&run.sim, LIST);
    assert!(pages >= 3, "{pages}");
    // While the 250 lie inside the overlap window (10 min), each pass re-reads their pages.
    tokio::time::sleep(Duration::from_secs(11 * 60)).await;
    run.sim.create_order(order(never_installs())).unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let before = reads(&run.sim, LIST);
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (sim, events, _) = run.finish().await;
    assert_eq!(events.len(), 251);
    // Once the window has moved past them, one page per discovery tick (every 5 s).
    assert!(reads(&sim, LIST) - before <= 3);
}
