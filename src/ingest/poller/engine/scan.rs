//! The two list jobs: the `status=PENDING` scan and the discovery pass.
//!
//! - Pending: one list call (more pages only if needed) covers every PENDING order; an order
//!   that is tracked as PENDING but missing from a complete scan gets one detail read.
//! - Discovery: newest-first pages until an order created before the window of the cursor
//!   (see [`crate::ingest::poller::cursor`]: the newest creation seen minus `upstream.discovery_overlap`; on
//!   the very first run, `upstream.backfill` ago). Orders in the window that were not seen
//!   before are published and tracked, whatever their id; the cursor advances once the whole
//!   pass is published.
//!
//! Both read pages by the one list rule ([`Paging`]): a list ends at its last page, at a page
//! with nothing new (a provider ignoring `page` repeats itself) or after [`MAX_PAGES`] pages
//! (counted in `esim_bridge_upstream_list_cut_total`). And neither may starve the reads below
//! it: after [`PAGES_PER_TURN`] pages in a row, the next page waits one cadence, leaving the
//! budget in between to install and lifecycle checks.

use time::OffsetDateTime;
use tokio::time::Instant;

use super::outlet::Outlet;
use super::reads::Job;
use super::schedule::Class;
use super::Engine;
use crate::ingest::poller::cursor::{Cursor, Listed, Pass};
use crate::provider::client::ListPage;
use crate::provider::clock;
use crate::provider::paging::{End, Paging};
use crate::telemetry::ErrorChain;
use esim_events::{OrderData, Timestamp};

/// Pages one pass of a list reads at most (50,000 orders at the default page size): enough
/// for a day's back-fill of a busy account, and a bound on what a provider that invents new
/// pages forever can make the poller read (and remember) in one pass.
pub const MAX_PAGES: u32 = 500;
/// Pages read back to back before the next one waits a cadence (discovery's or the pending
/// list's): 10 pages per 5 s is at most 120 of the budget's reads per minute, the rest is
/// left to install and lifecycle checks however long the list.
pub const PAGES_PER_TURN: u32 = 10;

/// When the next page of a list that goes on is due: now, or one `cadence` later after
/// every [`PAGES_PER_TURN`] pages.
fn next_page_due(page: u32, cadence: std::time::Duration) -> Instant {
    let now = Instant::now();
    match (page - 1) % PAGES_PER_TURN {
        0 => now + cadence,
        _ => now,
    }
}

/// Logs and counts a list cut short by the list rule.
fn cut(list: &'static str, end: End) {
    if end != End::Last {
        crate::provider::metrics::list_cut(list, end);
        tracing::warn!(
            list,
            end = end.label(),
            "provider list cut short; the pass ends here"
        );
    }
}

/// A pending scan in progress.
#[derive(Debug)]
pub(super) struct PendingScan {
    pub paging: Paging,
}

/// A discovery pass in progress.
#[derive(Debug)]
pub(super) struct DiscoveryPass {
    pub paging: Paging,
    pass: Pass,
}

impl<O: Outlet> Engine<O> {
    pub(super) async fn on_pending_page(&mut self, page: ListPage) {
        let mut scan = self.pending_scan.take().unwrap_or(PendingScan {
            paging: Paging::new(MAX_PAGES),
        });
        let now = Instant::now();
        for order in &page.orders {
            scan.paging.see(order.id);
        }
        match scan.paging.turn(page.has_more) {
            Ok(next) => {
                let due = next_page_due(next, self.settings.cadence.config().pending);
                self.pending_scan = Some(scan);
                self.queue
                    .schedule(Job::PendingList, Class::Fulfilment, due);
                return;
            }
            Err(end) => cut("pending", end),
        }
        let left: Vec<u64> = self
            .pending
            .iter()
            .filter(|&&id| !scan.paging.saw(id))
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
            paging: Paging::new(MAX_PAGES),
            pass: Pass::default(),
        });
        let ids = page.orders.iter().map(|o| o.id);
        let seen: Vec<u64> = ids.chain(page.unfit.iter().map(|u| u.0)).collect();
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
        for id in seen {
            pass.paging.see(id);
        }
        if !reached_known {
            match pass.paging.turn(page.has_more) {
                Ok(next) => {
                    let due = next_page_due(next, self.settings.cadence.config().discovery);
                    self.discovery = Some(pass);
                    self.queue.schedule(Job::Discovery, Class::Discovery, due);
                    return;
                }
                Err(end) => cut("discovery", end),
            }
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
    at.and_then(crate::provider::sanity::date)
        .map(|s| s.saturating_mul(1000))
}
