//! The scheduling engine: one loop that spends the read budget on the most urgent due work.
//!
//! Each turn it either starts a read (when a job is due, or an early check may use spare
//! budget, the budget's lane for it admits one and fewer than `upstream.concurrency` reads are
//! in flight; see `reads`), handles a finished read (diff → publish → save → reschedule, see
//! `apply` and `scan`), folds in a webhook-sourced event, or refreshes the gauges. Reads run as
//! tasks; everything else, including all state, belongs to this loop.
//!
//! [`Engine`]'s fields are private to this folder: its `impl` is spread over
//! - this file: construction, resuming stored state, the loop, the gauges;
//! - `reads`: starting reads when the [`budget`] admits them, handling their results;
//! - `scan`: the `status=PENDING` list and the discovery pass;
//! - `apply`: one order's observation → events published → state stored → next look;
//! - `quarantine`: setting an unprocessable order aside;
//! - `vanish`: a 404 suspects an order gone; only a confirmed one is dropped;
//!
//! and the policy it applies lives beside it: [`schedule`] (the due queue by class),
//! [`cadence`] (when each phase looks again), the provider client's budget (reads per rolling
//! minute, by lane),
//! [`stats`] (figures for tests and the benchmark).

mod apply;
pub mod cadence;
pub mod learn;
pub mod learned;
mod outlet;
pub mod plan;
mod quarantine;
pub mod rates;
mod reads;
mod scan;
pub mod schedule;
pub mod stats;
pub mod vanish;

pub use outlet::{Outlet, OutletError};
pub use scan::PAGES_PER_TURN;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::cadence::{Cadence, Next};
use self::reads::Done;
pub use self::reads::Job;
use self::scan::{DiscoveryPass, PendingScan};
use self::schedule::{Class, DueQueue};
use self::stats::Stats;
use crate::config::UpstreamConfig;
use crate::ingest::poller::cursor::Cursor;
use crate::ingest::poller::metrics;
use crate::ingest::poller::nats::state::StoredOrder;
use crate::ingest::poller::tracked::{Phase, Tracked};
use crate::provider::budget::Lane;
use crate::provider::client::UpstreamClient;
use crate::provider::clock::{self, Clock};
use crate::telemetry::ErrorChain;
use esim_events::Event;

/// How often gauges are refreshed.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// The knobs the engine needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cadence: Cadence,
    pub concurrency: usize,
    pub backfill: Duration,
    /// `upstream.discovery_overlap`.
    pub discovery_overlap: Duration,
    /// `upstream.reserved_share`.
    pub reserved_share: f64,
}

impl Settings {
    pub fn from_config(cfg: &UpstreamConfig) -> Self {
        Self {
            cadence: Cadence::new(cfg.cadence.clone()),
            concurrency: usize::try_from(cfg.concurrency.max(1)).unwrap_or(1),
            backfill: cfg.backfill,
            discovery_overlap: cfg.discovery_overlap,
            reserved_share: cfg.reserved_share,
        }
    }
}

/// The engine; owns every tracked order.
pub struct Engine<O> {
    client: UpstreamClient,
    outlet: O,
    clock: Clock,
    settings: Settings,
    orders: HashMap<u64, Tracked>,
    /// Ids of tracked PENDING orders.
    pending: BTreeSet<u64>,
    queue: DueQueue<Job>,
    cursor: Cursor,
    discovery: Option<DiscoveryPass>,
    pending_scan: Option<PendingScan>,
    /// Consecutive failures per job (5xx, network), for its backoff.
    failures: HashMap<Job, u32>,
    /// Consecutive outlet (NATS) failures, and until when no read starts.
    outlet_failures: u32,
    outlet_resume_at: Option<Instant>,
    /// Orders whose stored state is stale and must be removed.
    stale: Vec<u64>,
    in_flight: JoinSet<Done>,
    in_flight_jobs: HashSet<Job>,
    stats: Stats,
    /// Orders set aside for good (see `quarantine`): never read or admitted again.
    quarantined: HashSet<u64>,
    /// Orders the provider answered 404 for lately (see `vanish`).
    suspects: vanish::Suspects,
    /// The learned schedule (see `learn`).
    learning: learn::Learning,
}

impl<O: Outlet> Engine<O> {
    /// An engine with nothing tracked yet; [`Engine::restore`] and [`Engine::set_cursor`]
    /// add what a previous run stored.
    pub fn new(client: UpstreamClient, outlet: O, clock: Clock, settings: Settings) -> Self {
        let queue = DueQueue::with_reserved_share(settings.reserved_share);
        Self {
            client,
            outlet,
            clock,
            settings,
            orders: HashMap::new(),
            pending: BTreeSet::new(),
            queue,
            cursor: Cursor::default(),
            discovery: None,
            pending_scan: None,
            failures: HashMap::new(),
            outlet_failures: 0,
            outlet_resume_at: None,
            stale: Vec::new(),
            in_flight: JoinSet::new(),
            in_flight_jobs: HashSet::new(),
            stats: Stats::default(),
            quarantined: HashSet::new(),
            suspects: vanish::Suspects::default(),
            learning: learn::Learning::default(),
        }
    }

    /// Sets the discovery cursor a previous run stored (`None`: a first start, back-fill).
    pub fn set_cursor(&mut self, cursor: Option<Cursor>) {
        self.cursor = cursor.unwrap_or_default();
    }

    /// Resumes one stored order at its stored due time.
    pub fn restore(&mut self, id: u64, stored: StoredOrder) {
        let t = stored.tracked();
        let now = self.clock.now();
        let next = self.next_look(&t, now);
        match next {
            Next::Stop => self.stale.push(id),
            Next::List => {
                self.orders.insert(id, t);
                self.pending.insert(id);
            }
            Next::At(class, due) => {
                let due = stored
                    .next_due_ms
                    .and_then(clock::from_unix_ms)
                    .map_or(due, |stored_due| stored_due.min(due));
                self.orders.insert(id, t);
                let due = self.clock.instant_at(due);
                self.queue.schedule(Job::Order(id), class, due);
                self.allow_early(id, &t, next, now);
            }
        }
    }

    /// Tracked orders.
    pub fn tracked(&self) -> usize {
        self.orders.len()
    }

    /// A live view of the engine's figures (for tests and the benchmark).
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Runs until `shutdown`. `facts` carries webhook-sourced events to fold into the state.
    pub async fn poll(mut self, mut facts: mpsc::Receiver<Event>, shutdown: CancellationToken) {
        for id in std::mem::take(&mut self.stale) {
            if let Err(e) = self.outlet.forget(id).await {
                tracing::debug!(order_id = id, error = %ErrorChain(&e), "stale state not removed");
            }
        }
        let now = Instant::now();
        self.queue.schedule(Job::Discovery, Class::Discovery, now);
        if !self.pending.is_empty() {
            self.queue
                .schedule(Job::PendingList, Class::Fulfilment, now);
        }
        let cursor = self.cursor.last_id;
        tracing::info!(tracked = self.orders.len(), cursor, "poller running");
        let mut report = tokio::time::interval(REPORT_EVERY);
        report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut facts_open = true;
        loop {
            let start_at = self.next_start();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(done) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {
                    match done {
                        Ok(done) => self.on_done(done).await,
                        Err(e) => tracing::error!(error = %e, "upstream read task failed"),
                    }
                }
                fact = facts.recv(), if facts_open => match fact {
                    Some(event) => self.fold(event).await,
                    None => facts_open = false,
                },
                _ = sleep_until(start_at), if start_at.is_some() => self.start_ready(),
                _ = report.tick() => {
                    self.report();
                    self.recompute().await;
                }
            }
        }
        self.in_flight.shutdown().await;
        self.store_learned().await;
        tracing::info!(tracked = self.orders.len(), "poller stopped");
    }

    /// When the next read could start, if anything is scheduled and a read may be in flight:
    /// the earliest of urgent work, routine checks and early checks, each once its budget
    /// lane admits it.
    fn next_start(&self) -> Option<Instant> {
        if self.in_flight.len() >= self.settings.concurrency {
            return None;
        }
        let now = Instant::now();
        let budget = self.client.budget();
        let due_in = |classes: &[Class]| {
            classes
                .iter()
                .filter_map(|&c| self.queue.next_due_in(c))
                .min()
        };
        let urgent = due_in(&[Class::Fulfilment, Class::Discovery])
            .map(|due| due.max(budget.available_at_for(now, Lane::Urgent)));
        let regular = due_in(&[Class::InstallFast, Class::InstallSlow, Class::Lifecycle])
            .map(|due| due.max(budget.available_at_for(now, Lane::Regular)));
        let early = self
            .queue
            .next_early()
            .map(|from| from.max(budget.available_at_for(now, Lane::Spare)));
        let mut at = [urgent, regular, early].into_iter().flatten().min()?;
        if let Some(resume) = self.outlet_resume_at {
            at = at.max(resume);
        }
        Some(at)
    }

    /// Marks a just scheduled order for an early read on spare budget, if it is worth one.
    fn allow_early(&mut self, id: u64, t: &Tracked, next: Next, now: OffsetDateTime) {
        if let Some(from) = self.settings.cadence.early(t, next, now) {
            let from = self.clock.instant_at(from);
            self.queue.allow_early(Job::Order(id), from);
        }
    }

    fn report(&self) {
        let now = Instant::now();
        let stretch = self.queue.stretch(now);
        self.stats
            .update(self.orders.len(), self.pending.len(), stretch);
        let budget = self.client.budget();
        crate::provider::metrics::budget(budget.used(now), budget.limit());
        metrics::tracked("pending", self.pending.len());
        for class in [Class::InstallFast, Class::InstallSlow, Class::Lifecycle] {
            metrics::tracked(class.label(), self.queue.len(class));
        }
        metrics::early_candidates(self.queue.early_len());
        let lifecycle = self.settings.cadence.config().lifecycle;
        metrics::expiry_watch(self.learning.watch.unwrap_or(lifecycle));
        metrics::quarantined_orders(self.quarantined.len());
        for (class, late) in Class::ALL.into_iter().zip(stretch) {
            metrics::stretch(class.label(), late);
        }
    }

    /// The class an order's reads belong to right now.
    fn class_of(&self, t: &Tracked) -> Class {
        match (t.phase, self.next_look(t, self.clock.now())) {
            (Phase::Pending, _) | (_, Next::List) => Class::Fulfilment,
            (_, Next::At(class, _)) => class,
            (_, Next::Stop) => Class::Lifecycle,
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
