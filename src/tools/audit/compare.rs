//! The judgement, pure: one order as the provider shows it against the events the stream
//! holds for it, by the bridge's own rules ([`normalise::steps`]: which events a snapshot
//! implies; [`EventKey::for_event`]: which key each belongs under; the lifecycle chain
//! `delivered < installed < activated < depleted`).
//!
//! - **missing**: a step the snapshot implies that no key of the order holds. A step present
//!   under another of the order's keys is not missing (consumers have it); the second key is
//!   reported as split keys instead, and a repair never adds a third copy.
//! - **pending**: a step that would be missing, but may have happened within the settle
//!   window ([`Settle`]): the earliest it can have happened (its own timestamp, else the latest
//!   earlier one the snapshot gives) is less than the window ago. Not a finding.
//! - **contradicted**: a stored event, not marked inferred, that the snapshot does not imply.
//!   A list snapshot (not refreshed by a detail read) can lag on install state, so lifecycle
//!   events are judged only against a fresh one. `delivered` before a failure or cancellation
//!   is history, not a contradiction.
//! - **split keys**: the order's events sit under more than one key.
//! - **out of order**: under one key, a lifecycle step stored after a later step. Events
//!   written by a repair are late by definition (and say so), so they are left out.
//! - **iccid changed** ([`iccid_changed`], judged first and alone): the stream holds the
//!   order's events under another ICCID than the provider names now, or the provider's ICCID
//!   holds another order's events. An ICCID is never reassigned by the bridge, so nothing
//!   else is judged (a "missing" step would be repaired under the wrong eSIM's key).

use std::collections::BTreeSet;
use std::time::Duration;

use time::OffsetDateTime;

use super::finding::{Cited, Class, Finding};
use super::held::Held;
use esim_events::key::EventKey;
use esim_events::order::OrderStatus;
use esim_events::schema::subject;
use esim_events::{EventType, OrderData};
use esim_normalise::normalise;

/// The keys an order's events may be under: its ICCID (if known) and `order-<id>`.
pub fn keys_of(order: &OrderData) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(iccid) = &order.iccid {
        keys.push(iccid.as_str().to_owned());
    }
    keys.push(format!("order-{}", order.id));
    keys
}

/// When a step the stream lacks is still pending rather than missing: if it may have happened
/// less than `window` before `now`.
#[derive(Debug, Clone, Copy)]
pub struct Settle {
    pub now: OffsetDateTime,
    pub window: Duration,
}

impl Settle {
    /// No settle window: every absent step is missing.
    #[cfg(test)]
    pub fn none(now: OffsetDateTime) -> Self {
        Self {
            now,
            window: Duration::ZERO,
        }
    }

    /// True if a step that happened no earlier than `earliest` may be within the window.
    fn may_be_recent(&self, earliest: Option<OffsetDateTime>) -> bool {
        match earliest {
            Some(at) if !self.window.is_zero() => self.now - at < self.window,
            _ => false,
        }
    }
}

/// Every finding about one order; empty means ok.
pub fn compare(
    order: &OrderData,
    fresh: bool,
    held: &[&Held],
    prefix: &str,
    settle: Settle,
) -> Vec<Finding> {
    let mut out = missing(order, fresh, held, prefix, settle);
    out.extend(contradicted(order, fresh, held, prefix));
    let keys: BTreeSet<&str> = held.iter().map(|h| h.key.as_str()).collect();
    if keys.len() > 1 {
        let mut f = Finding::new(
            Class::SplitKeys,
            order,
            fresh,
            format!("the order's events are stored under {} keys", keys.len()),
        );
        f.keys = keys.iter().map(|k| (*k).to_owned()).collect();
        f.stored = held.iter().map(|h| cite(h)).collect();
        out.push(f);
    }
    for key in keys {
        let under: Vec<&Held> = held.iter().copied().filter(|h| h.key == key).collect();
        if let Some(f) = out_of_order(order, fresh, &under) {
            out.push(f);
        }
    }
    out
}

/// The order's ICCID changed: `held` (the order's own events) lie under another ICCID than
/// the order's, or `taken` (the order's ICCID holds another order's events).
pub fn iccid_changed(
    order: &OrderData,
    fresh: bool,
    held: &[&Held],
    taken: bool,
) -> Option<Finding> {
    let iccid = order.iccid.as_ref()?.as_str();
    let elsewhere: Vec<&Held> = held
        .iter()
        .copied()
        .filter(|h| !h.key.starts_with("order-") && h.key != iccid)
        .collect();
    if elsewhere.is_empty() && !taken {
        return None;
    }
    let detail = match elsewhere.is_empty() {
        false => "the provider names another ICCID than the stream holds the order's events under",
        true => "the provider's ICCID for the order holds another order's events",
    };
    let mut f = Finding::new(Class::IccidChanged, order, fresh, detail.to_owned());
    let keys: BTreeSet<&str> = held.iter().map(|h| h.key.as_str()).chain([iccid]).collect();
    f.keys = keys.into_iter().map(str::to_owned).collect();
    f.stored = elsewhere.iter().map(|h| cite(h)).collect();
    Some(f)
}

fn missing(
    order: &OrderData,
    fresh: bool,
    held: &[&Held],
    prefix: &str,
    settle: Settle,
) -> Vec<Finding> {
    let present: BTreeSet<EventType> = held.iter().map(|h| h.event).collect();
    normalise::steps(order)
        .into_iter()
        .filter(|t| !present.contains(t))
        .map(|t| {
            let key = EventKey::for_event(t, order.id, order.iccid.as_ref()).ok();
            let (class, detail) = match settle.may_be_recent(earliest(order, t)) {
                true => (
                    Class::Pending,
                    format!("the provider's state implies {t}, within the settle window; not stored yet"),
                ),
                false => (
                    Class::Missing,
                    format!("the provider's state implies {t}; no key of the order holds it"),
                ),
            };
            let mut f = Finding::new(class, order, fresh, detail);
            f.event = Some(t);
            f.subject = key.map(|k| subject(prefix, &k, t));
            f
        })
        .collect()
}

/// The earliest `t` can have happened by the snapshot: its own timestamp, else the latest of
/// the timestamps of the steps before it (and the order's creation).
fn earliest(order: &OrderData, t: EventType) -> Option<OffsetDateTime> {
    let own = match t {
        EventType::Installed => order.installed_at,
        EventType::Activated => order.activated_at,
        _ => None,
    };
    let before = match t {
        EventType::Activated => [order.created_at, order.installed_at, None],
        EventType::Depleted => [order.created_at, order.installed_at, order.activated_at],
        _ => [order.created_at, None, None],
    };
    own.or_else(|| before.into_iter().flatten().max())
        .map(|at| at.datetime())
}

fn contradicted(order: &OrderData, fresh: bool, held: &[&Held], prefix: &str) -> Vec<Finding> {
    let implied = normalise::steps(order);
    let terminal = matches!(
        order.status,
        Some(OrderStatus::Failed | OrderStatus::Cancelled)
    );
    let stale = !fresh && order.status == Some(OrderStatus::Delivered);
    let lifecycle = |t: EventType| {
        matches!(
            t,
            EventType::Installed | EventType::Activated | EventType::Depleted
        )
    };
    held.iter()
        .filter(|h| !h.inferred && !implied.contains(&h.event))
        .filter(|h| !(terminal && h.event == EventType::Delivered))
        .filter(|h| !(stale && lifecycle(h.event)))
        .map(|h| {
            let mut f = Finding::new(
                Class::Contradicted,
                order,
                fresh,
                format!(
                    "the stream holds {} but the provider's state does not imply it",
                    h.event
                ),
            );
            f.event = Some(h.event);
            f.subject = Some(format!("{prefix}.events.{}.{}", h.key, h.event.token()));
            f.stored = vec![cite(h)];
            f
        })
        .collect()
}

/// The position of a step in the chain; failures and cancellations are not ordered.
fn rank(t: EventType) -> Option<usize> {
    EventType::Depleted
        .predecessors()
        .iter()
        .chain([&EventType::Depleted])
        .position(|c| *c == t)
}

fn out_of_order(order: &OrderData, fresh: bool, under: &[&Held]) -> Option<Finding> {
    let ranked: Vec<&Held> = under
        .iter()
        .copied()
        .filter(|h| !h.repaired && rank(h.event).is_some())
        .collect();
    let sorted = ranked
        .windows(2)
        .all(|w| rank(w[0].event) <= rank(w[1].event));
    if sorted {
        return None;
    }
    let key = ranked.first().map_or("", |h| h.key.as_str());
    let mut f = Finding::new(
        Class::OutOfOrder,
        order,
        fresh,
        format!("under key {key}, stream order disagrees with lifecycle order"),
    );
    f.stored = ranked.iter().map(|h| cite(h)).collect();
    Some(f)
}

fn cite(h: &Held) -> Cited {
    Cited {
        sequence: h.sequence,
        key: h.key.clone(),
        event: h.event,
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
