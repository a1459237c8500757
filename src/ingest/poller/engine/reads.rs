//! Reads: starting the most urgent due job when the budget admits it, and what a finished
//! read leads to (its page or snapshot handled, or its failure turned into a pause or backoff).

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use time::OffsetDateTime;
use tokio::time::Instant;
use tracing::Instrument;

use super::outlet::Outlet;
use super::schedule::{Class, Pick, Ready};
use super::Engine;
use crate::ingest::poller::metrics;
use crate::provider::budget::{self, Lane, Slot};
use crate::provider::client::ListPage;
use crate::provider::error::ClientError;
use crate::provider::sanity::Reason;
use esim_events::OrderData;

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

/// The budget lane a read uses.
fn lane(ready: &Ready<Job>) -> Lane {
    match (ready.pick, ready.class) {
        (Pick::Early, _) => Lane::Spare,
        (_, Class::Fulfilment | Class::Discovery) => Lane::Urgent,
        _ => Lane::Regular,
    }
}

/// A finished read.
pub(super) struct Done {
    pub job: Job,
    pub class: Class,
    pub due: Instant,
    pub observed_at: OffsetDateTime,
    pub result: Result<Fetched, ClientError>,
}

pub(super) enum Fetched {
    Page(ListPage),
    Order(Box<OrderData>),
}

impl<O: Outlet> Engine<O> {
    /// Starts as many reads as the budget and the concurrency limit allow: due work first
    /// (fulfilment and discovery in the urgent lane, the rest in the regular one), then, when
    /// nothing is due and the budget has spare room, early checks.
    pub(super) fn start_ready(&mut self) {
        let now = Instant::now();
        if self.outlet_resume_at.is_some_and(|r| r > now) {
            return;
        }
        let budget = self.client.budget().clone();
        let admits = |lane| budget.available_at_for(now, lane) <= now;
        while self.in_flight.len() < self.settings.concurrency {
            let lowest = if admits(Lane::Regular) {
                Class::Lifecycle
            } else if admits(Lane::Urgent) {
                Class::Discovery
            } else {
                return;
            };
            let ready = match self.queue.pop_ready(now, lowest) {
                Some(ready) => ready,
                None if admits(Lane::Spare) => match self.queue.pop_early(now) {
                    Some(ready) => ready,
                    None => return,
                },
                None => return,
            };
            let Some(slot) = budget.try_start_for(now, lane(&ready)) else {
                self.queue.put_back(ready);
                return;
            };
            self.stats.served(&ready);
            metrics::picked(ready.pick.label());
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
            Job::PendingList => self.pending_scan.as_ref().map_or(1, |s| s.paging.page()),
            Job::Discovery => self.discovery.as_ref().map_or(1, |p| p.paging.page()),
            Job::Order(_) => 0,
        };
        self.in_flight_jobs.insert(job);
        let span = tracing::debug_span!("upstream_read", ?job, class = class.label(), page);
        let read = async move {
            let fetch = async {
                match job {
                    Job::PendingList => client
                        .list(slot, Some("PENDING"), page)
                        .await
                        .map(Fetched::Page),
                    Job::Discovery => client.list(slot, None, page).await.map(Fetched::Page),
                    Job::Order(id) => client
                        .detail(slot, id)
                        .await
                        .map(|o| Fetched::Order(Box::new(o))),
                }
            };
            // A panic while reading or parsing an answer is a bug meeting odd provider data:
            // it must not take the engine down (see `on_error`).
            let result = AssertUnwindSafe(fetch)
                .catch_unwind()
                .await
                .unwrap_or(Err(ClientError::Panicked));
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

    pub(super) async fn on_done(&mut self, done: Done) {
        self.in_flight_jobs.remove(&done.job);
        let fetched = match done.result {
            Ok(f) => f,
            Err(e) => return self.on_error(done.job, done.class, done.due, e).await,
        };
        self.failures.remove(&done.job);
        if let Job::Order(id) = done.job {
            self.suspects.clear(id);
        }
        let at = done.observed_at;
        match (done.job, fetched) {
            (Job::Order(id), Fetched::Order(order)) => self.observe(id, *order, at).await,
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
            match e {
                ClientError::Panicked => return self.quarantine(id, Reason::Panicked).await,
                ClientError::Unfit { reason, .. } => return self.quarantine(id, reason).await,
                _ => {}
            }
            if e.is_not_found() {
                return self.on_not_found(id, class).await;
            }
        }
        match e {
            ClientError::RateLimited { retry_after } => {
                tracing::warn!(?retry_after, "provider answered 429; pausing every read");
                let now = Instant::now();
                let until = now.checked_add(retry_after).unwrap_or(now);
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
        let now = Instant::now();
        let due = now.checked_add(budget::backoff(*n)).unwrap_or(now);
        self.queue.schedule(job, class, due);
    }
}
