//! The scheduling engine: one loop that spends the read budget on the most urgent due work.
//!
//! Each turn it either starts a read (when the budget admits one, a job is due and fewer than
//! `upstream.concurrency` reads are in flight), handles a finished read (diff → publish → save
//! → reschedule, see `apply` and `scan`), folds in a webhook-sourced event, or refreshes the
//! gauges. Reads run as tasks; everything else, including all state, belongs to this loop.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::budget::{self, Slot};
use super::cadence::{Cadence, Next};
use super::client::{ListPage, UpstreamClient};
use super::clock::{self, Clock};
use super::error::ClientError;
use super::metrics;
use super::outlet::Outlet;
use super::scan::{DiscoveryPass, PendingScan};
use super::schedule::{Class, DueQueue, Ready};
use super::state::StoredOrder;
use super::tracked::{Phase, Tracked};
use crate::config::UpstreamConfig;
use crate::event::{Event, OrderData};

/// How often gauges are refreshed.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// A unit of scheduled work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// The `status=PENDING` list (all its pages).
    PendingList,
    /// Newest-first list pages down to the cursor.
    Discovery,
    /// The detail of one order.
    Order(u64),
}

/// The knobs the engine needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cadence: Cadence,
    pub concurrency: usize,
    pub backfill: Duration,
}

impl Settings {
    pub fn from_config(cfg: &UpstreamConfig) -> Self {
        Self {
            cadence: Cadence::new(cfg.cadence.clone()),
            concurrency: usize::try_from(cfg.concurrency.max(1)).unwrap_or(1),
            backfill: cfg.backfill,
        }
    }
}

/// A finished read.
pub(super) struct Done {
    job: Job,
    class: Class,
    due: Instant,
    observed_at: OffsetDateTime,
    result: Result<Fetched, ClientError>,
}

pub(super) enum Fetched {
    Page(ListPage),
    Order(OrderData),
}

/// The engine; owns every tracked order.
pub struct Engine<O> {
    pub(super) client: UpstreamClient,
    pub(super) outlet: O,
    pub(super) clock: Clock,
    pub(super) settings: Settings,
    pub(super) orders: HashMap<u64, Tracked>,
    /// Ids of tracked PENDING orders.
    pub(super) pending: BTreeSet<u64>,
    pub(super) queue: DueQueue<Job>,
    pub(super) cursor: Option<u64>,
    pub(super) discovery: Option<DiscoveryPass>,
    pub(super) pending_scan: Option<PendingScan>,
    /// Consecutive failures per job (5xx, network), for its backoff.
    pub(super) failures: HashMap<Job, u32>,
    /// Consecutive outlet (NATS) failures, and until when no read starts.
    pub(super) outlet_failures: u32,
    pub(super) outlet_resume_at: Option<Instant>,
    /// Orders whose stored state is stale and must be removed.
    pub(super) stale: Vec<u64>,
    in_flight: JoinSet<Done>,
    pub(super) in_flight_jobs: HashSet<Job>,
}

impl<O: Outlet> Engine<O> {
    /// An engine with nothing tracked yet; [`Engine::restore`] and [`Engine::set_cursor`]
    /// add what a previous run stored.
    pub fn new(client: UpstreamClient, outlet: O, clock: Clock, settings: Settings) -> Self {
        Self {
            client,
            outlet,
            clock,
            settings,
            orders: HashMap::new(),
            pending: BTreeSet::new(),
            queue: DueQueue::default(),
            cursor: None,
            discovery: None,
            pending_scan: None,
            failures: HashMap::new(),
            outlet_failures: 0,
            outlet_resume_at: None,
            stale: Vec::new(),
            in_flight: JoinSet::new(),
            in_flight_jobs: HashSet::new(),
        }
    }

    /// Sets the discovery cursor (the newest order id already seen).
    pub fn set_cursor(&mut self, cursor: Option<u64>) {
        self.cursor = cursor;
    }

    /// Resumes one stored order at its stored due time.
    pub fn restore(&mut self, id: u64, stored: StoredOrder) {
        let t = stored.tracked();
        match self.settings.cadence.next(&t, self.clock.now()) {
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
                self.queue
                    .schedule(Job::Order(id), class, self.clock.instant_at(due));
            }
        }
    }

    /// Tracked orders.
    pub fn tracked(&self) -> usize {
        self.orders.len()
    }

    /// Runs until `shutdown`. `facts` carries webhook-sourced events to fold into the state.
    pub async fn run(mut self, mut facts: mpsc::Receiver<Event>, shutdown: CancellationToken) {
        for id in std::mem::take(&mut self.stale) {
            if let Err(e) = self.outlet.forget(id).await {
                tracing::debug!(order_id = id, error = %e, "stale state not removed");
            }
        }
        let now = Instant::now();
        self.queue.schedule(Job::Discovery, Class::Discovery, now);
        if !self.pending.is_empty() {
            self.queue
                .schedule(Job::PendingList, Class::Fulfilment, now);
        }
        tracing::info!(tracked = self.orders.len(), cursor = ?self.cursor, "poller running");
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
                _ = report.tick() => self.report(),
            }
        }
        self.in_flight.shutdown().await;
        tracing::info!(tracked = self.orders.len(), "poller stopped");
    }

    /// When the next read could start, if anything is scheduled and a read may be in flight.
    fn next_start(&self) -> Option<Instant> {
        if self.in_flight.len() >= self.settings.concurrency {
            return None;
        }
        let due = self.queue.next_due()?;
        let mut at = due.max(self.client.budget().available_at(Instant::now()));
        if let Some(resume) = self.outlet_resume_at {
            at = at.max(resume);
        }
        Some(at)
    }

    /// Starts as many due reads as the budget and the concurrency limit allow.
    fn start_ready(&mut self) {
        let now = Instant::now();
        if self.outlet_resume_at.is_some_and(|r| r > now) {
            return;
        }
        while self.in_flight.len() < self.settings.concurrency {
            let Some(ready) = self.queue.pop_ready(now) else {
                return;
            };
            let Some(slot) = self.client.budget().try_start(now) else {
                self.queue.schedule(ready.key, ready.class, ready.due);
                return;
            };
            self.spawn_read(ready, slot);
        }
    }

    fn spawn_read(&mut self, ready: Ready<Job>, slot: Slot) {
        let Ready {
            key: job,
            class,
            due,
            ..
        } = ready;
        let client = self.client.clone();
        let clock = self.clock;
        let page = match job {
            Job::PendingList => self.pending_scan.as_ref().map_or(1, |s| s.page),
            Job::Discovery => self.discovery.as_ref().map_or(1, |p| p.page),
            Job::Order(_) => 0,
        };
        self.in_flight_jobs.insert(job);
        let span = tracing::debug_span!("upstream_read", ?job, class = class.label(), page);
        let read = async move {
            let result = match job {
                Job::PendingList => client
                    .list(slot, Some("PENDING"), page)
                    .await
                    .map(Fetched::Page),
                Job::Discovery => client.list(slot, None, page).await.map(Fetched::Page),
                Job::Order(id) => client.detail(slot, id).await.map(Fetched::Order),
            };
            Done {
                job,
                class,
                due,
                observed_at: clock.now(),
                result,
            }
        };
        self.in_flight.spawn(read.instrument(span));
    }

    async fn on_done(&mut self, done: Done) {
        self.in_flight_jobs.remove(&done.job);
        let fetched = match done.result {
            Ok(f) => f,
            Err(e) => return self.on_error(done.job, done.class, done.due, e).await,
        };
        self.failures.remove(&done.job);
        let at = done.observed_at;
        match (done.job, fetched) {
            (Job::Order(id), Fetched::Order(order)) => self.observe(id, order, at).await,
            (Job::PendingList, Fetched::Page(page)) => self.on_pending_page(page).await,
            (Job::Discovery, Fetched::Page(page)) => self.on_discovery_page(page, at).await,
            (job, _) => tracing::error!(?job, "read answered with the wrong shape; ignored"),
        }
    }

    async fn on_error(&mut self, job: Job, class: Class, due: Instant, e: ClientError) {
        if let Job::Order(id) = job {
            if !self.orders.contains_key(&id) {
                return;
            }
            if e.is_not_found() {
                tracing::warn!(
                    order_id = id,
                    "order no longer exists at the provider; not tracked any more"
                );
                return self.untrack(id, true).await;
            }
        }
        match e {
            ClientError::RateLimited { retry_after } => {
                tracing::warn!(?retry_after, "provider answered 429; pausing every read");
                let until = Instant::now() + retry_after;
                self.client.budget().pause_until(until);
                self.queue.schedule(job, class, due);
            }
            e => {
                let n = self.failures.get(&job).copied().unwrap_or(0) + 1;
                if n == 5 {
                    tracing::warn!(?job, error = %e, "upstream read keeps failing; backing off");
                } else {
                    tracing::debug!(?job, error = %e, attempt = n, "upstream read failed; backing off");
                }
                self.retry(job, class);
            }
        }
    }

    /// Reschedules a job after a failure, with its backoff.
    pub(super) fn retry(&mut self, job: Job, class: Class) {
        let n = self.failures.entry(job).or_insert(0);
        *n += 1;
        let due = Instant::now() + budget::backoff(*n);
        self.queue.schedule(job, class, due);
    }

    fn report(&self) {
        let now = Instant::now();
        let budget = self.client.budget();
        metrics::budget(budget.used(now), budget.limit());
        metrics::tracked("pending", self.pending.len());
        for class in [Class::InstallFast, Class::InstallSlow, Class::Lifecycle] {
            metrics::tracked(class.label(), self.queue.len(class));
        }
        for (class, late) in Class::ALL.into_iter().zip(self.queue.stretch(now)) {
            metrics::stretch(class, late);
        }
    }

    /// The class an order's reads belong to right now.
    pub(super) fn class_of(&self, t: &Tracked) -> Class {
        match (t.phase, self.settings.cadence.next(t, self.clock.now())) {
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
