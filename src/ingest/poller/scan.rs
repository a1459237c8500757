//! The two list jobs: the `status=PENDING` scan and the discovery pass.
//!
//! - Pending: one list call (more pages only if needed) covers every PENDING order; an order
//!   that is tracked as PENDING but missing from a complete scan gets one detail read.
//! - Discovery: newest-first pages until an order at or below the cursor (or, on the very
//!   first run, older than `upstream.backfill`); new orders are published and tracked, and the
//!   cursor advances only once the whole pass is published and stored.

use std::collections::HashSet;

use time::OffsetDateTime;
use tokio::time::Instant;

use super::client::ListPage;
use super::engine::Engine;
use super::outlet::Outlet;
use super::reads::Job;
use super::schedule::Class;

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
    max_seen: u64,
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
            max_seen: 0,
        });
        let horizon = self.cursor.is_none().then(|| {
            time::Duration::try_from(self.settings.backfill)
                .ok()
                .and_then(|b| at.checked_sub(b))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        });
        let mut reached_known = false;
        let more = page.has_more && !(page.orders.is_empty() && page.unfit.is_empty());
        for (id, reason) in page.unfit {
            if !(self.quarantined.contains(&id) || self.cursor.is_some_and(|c| id <= c)) {
                self.quarantine(id, reason).await;
            }
        }
        for order in page.orders {
            pass.max_seen = pass.max_seen.max(order.id);
            let known = self.cursor.is_some_and(|c| order.id <= c);
            let too_old = match (horizon, created(order.created_at.as_deref())) {
                (Some(horizon), Some(created)) => created < horizon,
                _ => false,
            };
            if known || too_old {
                reached_known = true;
                continue;
            }
            if self.orders.contains_key(&order.id) || self.quarantined.contains(&order.id) {
                continue;
            }
            if !self.admit(order, at).await {
                self.discovery = Some(pass);
                self.retry(Job::Discovery, Class::Discovery);
                return;
            }
        }
        let now = Instant::now();
        if more && !reached_known {
            pass.page += 1;
            self.discovery = Some(pass);
            self.queue.schedule(Job::Discovery, Class::Discovery, now);
            return;
        }
        let cursor = self.cursor.unwrap_or(0).max(pass.max_seen);
        if self.cursor != Some(cursor) {
            match self.outlet.save_cursor(cursor).await {
                Ok(()) => self.cursor = Some(cursor),
                Err(e) => {
                    tracing::warn!(error = %e, "discovery cursor not stored; the next pass re-reads")
                }
            }
        }
        let due = now + self.settings.cadence.config().discovery;
        self.queue.schedule(Job::Discovery, Class::Discovery, due);
    }
}

fn created(at: Option<&str>) -> Option<OffsetDateTime> {
    at.and_then(super::sanity::date)
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
}
