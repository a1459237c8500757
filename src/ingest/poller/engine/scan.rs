//! The two list jobs: the `status=PENDING` scan and the discovery pass.
//!
//! - Pending: one list call (more pages only if needed) covers every PENDING order; an order
//!   that is tracked as PENDING but missing from a complete scan gets one detail read.
//! - Discovery: newest-first pages until an order created before the window of the cursor
//!   (see [`crate::ingest::poller::cursor`]: the newest creation seen minus `upstream.discovery_overlap`; on
//!   the very first run, `upstream.backfill` ago). Orders in the window that were not seen
//!   before are published and tracked, whatever their id; the cursor advances once the whole
//!   pass is published.

use std::collections::HashSet;

use time::OffsetDateTime;
use tokio::time::Instant;

use super::reads::Job;
use super::schedule::Class;
use super::Engine;
use crate::event::{OrderData, Timestamp};
use crate::ingest::poller::clock;
use crate::ingest::poller::cursor::{Cursor, Listed, Pass};
use crate::ingest::poller::nats::outlet::Outlet;
use crate::ingest::poller::upstream::client::ListPage;
use crate::telemetry::ErrorChain;

/// A pending scan in progress.
#[derive(Debug)]
pub(super) struct PendingScan {
    /// The page to read next (1-based).
    pub page: u32,
    seen: HashSet<u64>,
}

/// A discovery pass in progress.
#[derive(Debug)]
pub(super) struct DiscoveryPass {
    /// The page to read next (1-based).
    pub page: u32,
    pass: Pass,
}

impl<O: Outlet> Engine<O> {
    pub(super) async fn on_pending_page(&mut self, page: ListPage) {
        let mut scan = self.pending_scan.take().unwrap_or(PendingScan {
            page: 1,
            seen: HashSet::new(),
        });
        let now = Instant::now();
        scan.seen.extend(page.orders.iter().map(|o| o.id));
        if page.has_more && !page.orders.is_empty() {
            scan.page += 1;
            self.pending_scan = Some(scan);
            self.queue
                .schedule(Job::PendingList, Class::Fulfilment, now);
            return;
        }
        let left: Vec<u64> = self
            .pending
            .iter()
            .filter(|id| !scan.seen.contains(id))
            .copied()
            .collect();
        for id in left {
            let job = Job::Order(id);
            if !self.in_flight_jobs.contains(&job) {
                self.queue.schedule_by(job, Class::Fulfilment, now);
            }
        }
        if !self.pending.is_empty() {
            let due = now + self.settings.cadence.config().pending;
            self.queue
                .schedule(Job::PendingList, Class::Fulfilment, due);
        }
    }

    pub(super) async fn on_discovery_page(&mut self, page: ListPage, at: OffsetDateTime) {
        let mut pass = self.discovery.take().unwrap_or(DiscoveryPass {
            page: 1,
            pass: Pass::default(),
        });
        let more = page.has_more && !(page.orders.is_empty() && page.unfit.is_empty());
        for (id, reason) in page.unfit {
            if !self.quarantined.contains(&id) {
                self.quarantine(id, reason).await;
            }
        }
        let Some(reached_known) = self.admit_listed(&mut pass.pass, page.orders, at).await else {
            self.discovery = Some(pass);
            self.retry(Job::Discovery, Class::Discovery);
            return;
        };
        if more && !reached_known {
            pass.page += 1;
            self.discovery = Some(pass);
            let now = Instant::now();
            self.queue.schedule(Job::Discovery, Class::Discovery, now);
            return;
        }
        self.finish_discovery(pass.pass).await;
    }

    /// Publishes and tracks the listed orders that are new in the window. Whether the page
    /// reached orders older than the window; `None` if an order's events could not be
    /// published yet (the pass is retried from this page).
    async fn admit_listed(
        &mut self,
        pass: &mut Pass,
        orders: Vec<OrderData>,
        at: OffsetDateTime,
    ) -> Option<bool> {
        let overlap = self.settings.discovery_overlap;
        let horizon_ms = self.backfill_horizon_ms(at);
        pass.limit(horizon_ms);
        let at_ms = clock::unix_ms(at);
        let mut reached_known = false;
        for order in orders {
            // An order without a creation time counts as created now: remembered, not re-admitted.
            let created = created(order.created_at).unwrap_or(at_ms);
            match self
                .cursor
                .classify(pass, order.id, Some(created), overlap, horizon_ms)
            {
                Listed::Older => {
                    reached_known = true;
                    continue;
                }
                Listed::Seen => continue,
                Listed::New => {}
            }
            if self.orders.contains_key(&order.id) || self.quarantined.contains(&order.id) {
                continue;
            }
            if !self.admit(order, at).await {
                return None;
            }
        }
        Some(reached_known)
    }

    /// On the very first run (no cursor yet), how far back discovery imports: `upstream.backfill`
    /// before `at`, in unix ms.
    fn backfill_horizon_ms(&self, at: OffsetDateTime) -> Option<i64> {
        let first_run = self.cursor == Cursor::default();
        first_run.then(|| {
            let backfill = time::Duration::try_from(self.settings.backfill).ok();
            let horizon = backfill.and_then(|b| at.checked_sub(b));
            clock::unix_ms(horizon.unwrap_or(OffsetDateTime::UNIX_EPOCH))
        })
    }

    /// A whole pass is published: the cursor advances (and is stored), the next pass is due
    /// after `upstream.cadence.discovery`.
    async fn finish_discovery(&mut self, pass: Pass) {
        let now = Instant::now();
        let next = self.cursor.advance(pass, self.settings.discovery_overlap);
        if next != self.cursor {
            if let Err(e) = self.outlet.save_cursor(&next).await {
                tracing::warn!(error = %ErrorChain(&e), "discovery cursor not stored; a restart re-reads the window");
            }
            self.cursor = next;
        }
        let due = now + self.settings.cadence.config().discovery;
        self.queue.schedule(Job::Discovery, Class::Discovery, due);
    }
}

/// Unix ms of a sane `created_at`.
fn created(at: Option<Timestamp>) -> Option<i64> {
    at.and_then(crate::ingest::poller::sanity::date)
        .map(|s| s.saturating_mul(1000))
}
