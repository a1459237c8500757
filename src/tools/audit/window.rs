//! Which orders the audit looks at: the provider's newest-first list, paged down to the first
//! order placed before `--since` (list reads only: one read serves a page of orders), or
//! exactly the `--order` ids (one detail read each). Paging ends at the first of: an order
//! placed before `--since`, or where the poller's list rule ends it ([`Paging`]: the
//! provider's last page, or a page with no order not seen before).

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::upstream::{Provider, ReadError};
use crate::provider::paging::Paging;
use esim_events::{OrderData, Timestamp};

/// The orders selected, each with whether its snapshot is fresh (from a detail read).
#[derive(Debug, Default)]
pub struct Selected {
    pub orders: Vec<(OrderData, bool)>,
    /// Listed orders the list could not parse (counted, not compared).
    pub unfit: u64,
    /// Ordered ids the provider does not know (or cannot be processed).
    pub unknown: Vec<u64>,
    pub interrupted: bool,
}

/// The time range of the audit, by the provider's `created_at`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl Window {
    fn placed(order: &OrderData) -> Option<OffsetDateTime> {
        order.created_at.map(Timestamp::datetime)
    }

    /// True if the order was placed before the window (an order without a readable
    /// `created_at` is taken to be inside it).
    fn before(&self, order: &OrderData) -> bool {
        matches!((self.since, Self::placed(order)), (Some(s), Some(t)) if t < s)
    }

    fn after(&self, order: &OrderData) -> bool {
        matches!((self.until, Self::placed(order)), (Some(u), Some(t)) if t > u)
    }
}

/// Lists the window's orders, newest first; stops after the page reaching past `since`.
pub async fn list(
    provider: &mut Provider,
    window: Window,
    shutdown: &CancellationToken,
) -> Result<Selected, ReadError> {
    let mut selected = Selected::default();
    // No page cap: the window bounds the audit; a repeating list still ends it.
    let mut paging = Paging::new(u32::MAX);
    loop {
        let page = paging.page();
        let Some(got) = shutdown.run_until_cancelled(provider.list(page)).await else {
            selected.interrupted = true;
            break;
        };
        let got = got?;
        let mut reached_start = false;
        for id in got.unfit {
            if paging.see(id) {
                selected.unfit = selected.unfit.saturating_add(1);
            }
        }
        for order in got.orders {
            reached_start |= window.before(&order);
            // A new order shifts the list while it is paged: an order seen twice counts once.
            let new = paging.see(order.id);
            if window.before(&order) || window.after(&order) || !new {
                continue;
            }
            selected.orders.push((order, false));
        }
        // A page with nothing new ends the list too: a provider that ignores `page` (or
        // claims more forever) cannot keep the audit reading.
        if reached_start || paging.turn(got.has_more).is_err() {
            break;
        }
    }
    Ok(selected)
}

/// Reads exactly these orders by detail.
pub async fn exactly(
    provider: &mut Provider,
    ids: &[u64],
    shutdown: &CancellationToken,
) -> Result<Selected, ReadError> {
    let mut selected = Selected::default();
    for &id in ids {
        let Some(got) = shutdown.run_until_cancelled(provider.detail(id)).await else {
            selected.interrupted = true;
            break;
        };
        match got? {
            Some(order) => selected.orders.push((order, true)),
            None => selected.unknown.push(id),
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn orders_are_placed_by_created_at_and_unreadable_times_count_as_inside() {
        let w = Window {
            since: Some(datetime!(2026-05-10 0:00 UTC)),
            until: Some(datetime!(2026-05-12 0:00 UTC)),
        };
        let at = |t: Option<&str>| {
            let mut o = OrderData::new(1);
            o.created_at = t.and_then(Timestamp::parse);
            o
        };
        assert!(w.before(&at(Some("2026-05-09T23:59:59Z"))));
        assert!(!w.before(&at(Some("2026-05-10T00:00:00Z"))));
        assert!(w.after(&at(Some("2026-05-12T00:00:01Z"))));
        assert!(!w.before(&at(None)) && !w.after(&at(None)));
    }
}
