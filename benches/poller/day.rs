//! One simulated day (or `POLLER_BENCH_HOURS`) of order traffic in virtual time, watched by
//! this crate's scheduler and, on an identical simulator, by the provider docs' naive
//! per-order loops; both under the same provider read limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use esim_bridge::config::{Secret, UpstreamConfig};
use esim_bridge::ingest::poller::Cursor;
use esim_bridge::ingest::poller::Learned;
use esim_bridge::ingest::poller::Quarantined;
use esim_bridge::ingest::poller::{Engine, Outlet, OutletError, Settings, StoredOrder};
use esim_bridge::ingest::poller::{Figures, Stats};
use esim_bridge::provider::Credentials;
use esim_bridge::provider::{Budget, Clock, UpstreamClient};
use esim_events::{Event, EventType};
use esim_sim::Arrivals;
use esim_sim::{FaultConfig, ScriptedOrder, SimConfig, SimState};
use esim_testkit::InProcess;
use rand::rngs::StdRng;
use rand::SeedableRng;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::poller_shape::Shape;

/// What one run produced.
pub struct DayResult {
    /// Per event type: detection latencies (seconds) of transitions inside the window.
    pub latencies: HashMap<EventType, Vec<f64>>,
    /// Per event type: transitions inside the window never detected.
    pub missed: HashMap<EventType, usize>,
    /// Installs split by how soon after delivery they happened: `[within, after]`
    /// [`QUICK_INSTALL`], as (latencies, missed).
    pub install_split: [(Vec<f64>, usize); 2],
    /// (age at the event, detection delay) of every install (from delivery) and activation
    /// (from install) detected, in seconds: the plot's points.
    pub points: [Vec<(f64, f64)>; 2],
    pub reads_in_window: u64,
    pub window_minutes: f64,
    pub max_reads_any_minute: u64,
    pub throttled: u64,
    pub orders: usize,
    pub figures: Option<Figures>,
    /// The scheduler's figures when arrivals stopped (the bound's budget is the window's).
    pub figures_at_window_end: Option<Figures>,
    /// Install and activation waits of the day, for the bound.
    pub waits: [crate::poller_bound::Waits; 2],
    /// What the learned schedule stored last (to start another day from).
    pub learned: Option<Learned>,
    /// The reads the expiry watch of every eSIM active in the window would take in it at the
    /// default `upstream.cadence.lifecycle` (those of orders from the warm-up included).
    pub expiry_watch: f64,
}

/// Installs this soon after delivery are the ones the 60 s target is about.
pub const QUICK_INSTALL: Duration = Duration::from_secs(600);

/// First detection time of each (order, type), in sim time.
#[derive(Clone)]
pub struct Recorder {
    seen: Arc<Mutex<HashMap<(u64, EventType), OffsetDateTime>>>,
    sim: SimState,
    /// What the learned schedule stored last.
    learned: Arc<Mutex<Option<Learned>>>,
}

impl Recorder {
    fn new(sim: SimState) -> Self {
        Self {
            seen: Arc::default(),
            sim,
            learned: Arc::default(),
        }
    }

    /// The first detection time of every (order, type) so far.
    pub fn seen(&self) -> HashMap<(u64, EventType), OffsetDateTime> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records a detection; true if it is the first for this (order, type).
    pub fn saw(&self, id: u64, t: EventType) -> bool {
        let now = self.sim.clock().now();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = !seen.contains_key(&(id, t));
        seen.entry((id, t)).or_insert(now);
        fresh
    }
}

impl Outlet for Recorder {
    async fn publish(&self, events: &[Event]) -> Result<Vec<bool>, OutletError> {
        Ok(events
            .iter()
            .map(|e| self.saw(e.data.id, e.event_type))
            .collect())
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
    async fn quarantine(&self, _: u64, _: &Quarantined) -> Result<(), OutletError> {
        Ok(())
    }
    async fn save_learned(&self, learned: &Learned) -> Result<(), OutletError> {
        *self.learned.lock().unwrap_or_else(PoisonError::into_inner) = Some(learned.clone());
        Ok(())
    }
}

/// The bench's provider: the given read limit, 150–400 ms per answer.
fn sim_config(limit: u32) -> SimConfig {
    SimConfig {
        reads_per_minute: limit,
        faults: FaultConfig {
            latency: Duration::from_millis(150),
            latency_jitter: Duration::from_millis(250),
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    }
}

fn client(sim: &SimState, budget: Budget) -> UpstreamClient {
    let transport = std::sync::Arc::new(InProcess {
        router: esim_sim::router(sim.clone()),
        timeout: Duration::from_secs(30),
    });
    let credentials = Credentials {
        api_key: Secret::new("demo-key"),
        api_secret: Secret::new("demo-secret"),
    };
    let clock = Clock::starting_at(sim.clock().now());
    UpstreamClient::new(transport, credentials, budget, clock, 100)
}

/// Which watcher runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Watcher {
    /// The scheduler with `upstream.cadence.learned = false`: the fixed cadences.
    Ladder,
    /// The scheduler as shipped: the learned schedule once enough was seen.
    Learned,
    Naive,
}

/// Runs `warmup + hours` of arrivals at `per_hour`, their installs drawn to `shape`, then
/// `drain` more hours without arrivals; measured are the `hours` after the warm-up (their
/// reads, and every transition in them, the day before's orders' included), so with a warm-up
/// the day starts with the orders of the day before still waiting, as the poller's days do.
/// The learned schedule starts from `warm` (a previous day's stored estimate, as a restarted
/// leader does) if given.
pub async fn run(
    (watcher, warm): (Watcher, Option<Learned>),
    shape: Shape,
    per_hour: f64,
    (warmup, hours, drain): (f64, f64, f64),
    limit: u32,
) -> DayResult {
    // A fixed configuration (the default with a limit and latency): valid by construction.
    let sim = SimState::new(sim_config(limit)).expect("sim config");
    let recorder = Recorder::new(sim.clone());
    let stop = CancellationToken::new();
    let mut figures = None;
    let naive_client = client(&sim, Budget::new(u32::MAX));
    let stats = match watcher {
        Watcher::Ladder | Watcher::Learned => {
            let mut cfg = UpstreamConfig {
                reads_per_minute: limit,
                ..UpstreamConfig::default()
            };
            cfg.cadence.learned = watcher == Watcher::Learned;
            if let Some(share) = std::env::var("POLLER_BENCH_RESERVED_SHARE")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                cfg.reserved_share = share;
            }
            let client = client(&sim, Budget::new(cfg.reads_per_minute));
            let clock = Clock::starting_at(sim.clock().now());
            let mut engine =
                Engine::new(client, recorder.clone(), clock, Settings::from_config(&cfg));
            engine.set_learned(warm);
            let stats = engine.stats();
            // No webhooks in this benchmark: the facts channel starts closed.
            let (_, facts_rx) = tokio::sync::mpsc::channel(1);
            tokio::spawn(engine.poll(facts_rx, stop.clone()));
            Some(stats)
        }
        Watcher::Naive => None,
    };
    let opens = Duration::from_secs_f64(warmup * 3600.0);
    let window = opens + Duration::from_secs_f64(hours * 3600.0);
    let start = tokio::time::Instant::now();
    let mut at_window_start = None;
    let mut generator = Arrivals::new(42, per_hour);
    let mut shaping = StdRng::seed_from_u64(7);
    let (mut orders, mut all) = (0, Vec::new());
    let mut next = start;
    loop {
        let arrival = generator.next_arrival();
        next += arrival.after;
        if next - start >= window {
            break;
        }
        let measured = next - start >= opens;
        if measured && at_window_start.is_none() {
            tokio::time::sleep_until(start + opens).await;
            at_window_start = Some(opened(&sim, stats.as_ref()));
        }
        tokio::time::sleep_until(next).await;
        let mut plan = arrival.plan;
        shape.apply(&mut plan, &mut shaping);
        let order = ScriptedOrder {
            product_id: Some(arrival.product.id.to_owned()),
            plan,
            ..ScriptedOrder::default()
        };
        // A product from the simulator's own catalogue, no client reference to collide and no
        // amount: none of create_order's refusals can apply.
        let truth = sim.create_order(order).expect("order");
        if watcher == Watcher::Naive {
            let (c, r, s) = (naive_client.clone(), recorder.clone(), stop.clone());
            tokio::spawn(crate::poller_naive::naive_order(c, truth.clone(), r, s));
        }
        if measured {
            orders += 1;
        }
        all.push(truth);
    }
    if at_window_start.is_none() {
        // No arrival in the measured window: it still opens after the warm-up.
        tokio::time::sleep_until(start + opens).await;
        at_window_start = Some(opened(&sim, stats.as_ref()));
    }
    tokio::time::sleep_until(start + window).await;
    let (reads_at_start, figures_at_start) = at_window_start.unwrap_or_default();
    let at_window_end = sim.counters();
    let figures_at_window_end = stats
        .as_ref()
        .map(|s| since(s.figures(), figures_at_start.unwrap_or_default()));
    tokio::time::sleep(Duration::from_secs_f64(drain * 3600.0)).await;
    if let Some(stats) = &stats {
        figures = Some(stats.figures());
    }
    stop.cancel();
    let end = sim.clock().now();
    let window_end = end - Duration::from_secs_f64(drain * 3600.0);
    let window_start = window_end - Duration::from_secs_f64(hours * 3600.0);
    let seen = recorder.seen();
    let measured = (window_start, window_end);
    let detected = crate::poller_detect::detected(&sim, &all, &seen, measured, watcher);
    let counters = sim.counters();
    let waits = crate::poller_bound::waits(&sim, &all, measured);
    let lifecycle = UpstreamConfig::default().cadence.lifecycle.as_secs_f64();
    let expiry_watch = crate::poller_bound::expiry_watch_reads(&sim, &all, measured, lifecycle);
    let learned = recorder
        .learned
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    DayResult {
        latencies: detected.latencies,
        missed: detected.missed,
        install_split: detected.install_split,
        points: detected.points,
        reads_in_window: at_window_end.reads_served.saturating_sub(reads_at_start),
        window_minutes: hours * 60.0,
        max_reads_any_minute: counters.max_reads_in_window,
        throttled: counters.throttled,
        orders,
        figures,
        figures_at_window_end,
        waits,
        learned,
        expiry_watch,
    }
}

/// The reads served so far and the scheduler's figures: taken when the measured window opens.
fn opened(sim: &SimState, stats: Option<&Stats>) -> (u64, Option<Figures>) {
    (sim.counters().reads_served, stats.map(Stats::figures))
}

/// `end`'s read counts less `start`'s: the reads of the measured window.
fn since(mut end: Figures, start: Figures) -> Figures {
    for i in 0..end.served.len() {
        end.served[i] = end.served[i].saturating_sub(start.served[i]);
        end.early[i] = end.early[i].saturating_sub(start.early[i]);
    }
    end.reserved = end.reserved.saturating_sub(start.reserved);
    end
}
