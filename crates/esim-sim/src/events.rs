//! The planned `esim.*` event types and when each fires for an order's timeline.

use std::cmp::Ordering;

use time::OffsetDateTime;

use super::order::OrderRecord;
use super::plan::Outcome;

/// One planned webhook event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// `esim.delivered`: the order became DELIVERED.
    Delivered,
    /// `esim.failed`: the order became FAILED.
    Failed,
    /// `esim.cancelled`: the order was cancelled.
    Cancelled,
    /// `esim.installed`: the device downloaded the profile.
    Installed,
    /// `esim.activated`: first data use.
    Activated,
    /// `esim.depleted`: validity over.
    Depleted,
}

impl EventKind {
    /// The wire `type`.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Delivered => "esim.delivered",
            Self::Failed => "esim.failed",
            Self::Cancelled => "esim.cancelled",
            Self::Installed => "esim.installed",
            Self::Activated => "esim.activated",
            Self::Depleted => "esim.depleted",
        }
    }

    /// Lifecycle events carry install/activation fields.
    pub fn is_lifecycle(self) -> bool {
        matches!(self, Self::Installed | Self::Activated | Self::Depleted)
    }
}

/// An event due at a sim instant. Ordered by time, then by insertion sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledEvent {
    /// Sim time of the transition (the event's `created_at`).
    pub at: OffsetDateTime,
    /// Tie-breaker keeping insertion order for simultaneous events.
    pub seq: u64,
    /// The order concerned.
    pub order_id: u64,
    /// What happened.
    pub kind: EventKind,
}

impl Ord for ScheduledEvent {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl PartialOrd for ScheduledEvent {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// All events an order will produce, with their instants, in causal order.
pub fn planned(order: &OrderRecord) -> Vec<(OffsetDateTime, EventKind)> {
    let tl = &order.timeline;
    let terminal = match order.plan.outcome {
        Outcome::Delivered => EventKind::Delivered,
        Outcome::Failed => EventKind::Failed,
        Outcome::Cancelled => EventKind::Cancelled,
    };
    let mut out = vec![(tl.resolved_at, terminal)];
    out.extend(tl.installed_at.map(|t| (t, EventKind::Installed)));
    out.extend(tl.activated_at.map(|t| (t, EventKind::Activated)));
    out.extend(tl.expires_at.map(|t| (t, EventKind::Depleted)));
    out
}
