//! What the poller remembers about one tracked order, in a few dozen bytes.
//!
//! The full snapshot lives in KV only. Diffs need just "which steps were already published":
//! the chain `delivered < installed < activated < depleted` is linear and `failed`/`cancelled`
//! are terminal, so the furthest published step ([`Tracked::latest`]) is enough, and
//! [`Tracked::previous`] rebuilds a minimal snapshot implying exactly those steps for
//! [`esim_normalise::normalise::from_snapshots`]. That keeps 100,000 tracked orders in a few MB.
//!
//! The ICCID an order's events went out under is remembered as an [`IccidPrint`], so a
//! provider answer naming another ICCID for the same order is recognised
//! ([`Tracked::iccid_changed`]) and quarantined instead of published under someone else's key.

use std::hash::{BuildHasher, RandomState};
use std::num::{NonZeroI64, NonZeroU64};
use std::sync::LazyLock;

use esim_events::order::{ActivationStatus, OrderStatus};
use esim_events::{Event, EventType, Iccid, OrderData, Timestamp};
use serde::{Deserialize, Serialize};

/// An order's ICCID in 8 bytes instead of a 22-character string: a SipHash keyed at random
/// per process (a provider cannot aim a changed ICCID at a colliding value; two different
/// ICCIDs read as equal with a chance of 2^-64). Never stored: rebuilt from the stored
/// snapshot's ICCID on restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IccidPrint(NonZeroU64);

impl IccidPrint {
    pub fn of(iccid: &Iccid) -> Self {
        static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
        Self(NonZeroU64::MIN | KEYS.hash_one(iccid.as_str()))
    }
}

/// How an order is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// PENDING: covered by the one `status=PENDING` list call.
    Pending,
    /// DELIVERED, not installed: detail reads (the only call that refreshes install state).
    Install,
    /// Installed: detail reads for activation and expiry.
    Lifecycle,
}

/// One tracked order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    pub phase: Phase,
    /// The furthest step already published (and so acknowledged).
    pub latest: Option<EventType>,
    /// When the order was delivered (unix seconds), for the install cadences.
    pub delivered_at: Option<i64>,
    /// Install (unix seconds), for the activation wait's age; 8 bytes, not 16 (dates before
    /// 2000 are unknown anyway, so zero is free), see [`Tracked::installed`].
    pub installed_at: Option<NonZeroI64>,
    /// First use (unix seconds), for the expected expiry.
    pub activated_at: Option<i64>,
    /// The product's validity after first use.
    pub validity_days: Option<u16>,
    /// The ICCID the provider first gave the order (an order's ICCID never changes).
    pub iccid: Option<IccidPrint>,
}

/// Position in the lifecycle; terminal steps rank highest.
pub fn rank(t: EventType) -> u8 {
    match t {
        EventType::Delivered => 1,
        EventType::Installed => 2,
        EventType::Activated => 3,
        EventType::Depleted => 4,
        EventType::Failed | EventType::Cancelled => 5,
    }
}

/// An event or snapshot time in unix seconds; dates outside 2000..2100 are treated as
/// unknown (see [`crate::provider::sanity::date`]).
pub fn unix_secs(t: Timestamp) -> Option<i64> {
    crate::provider::sanity::date(t)
}

impl Tracked {
    /// An order nothing has been published for yet.
    pub fn new() -> Self {
        Self {
            phase: Phase::Pending,
            latest: None,
            delivered_at: None,
            installed_at: None,
            activated_at: None,
            validity_days: None,
            iccid: None,
        }
    }

    /// When the order was installed (unix seconds), if known.
    pub fn installed(&self) -> Option<i64> {
        self.installed_at.map(NonZeroI64::get)
    }

    /// True if `snapshot` names another ICCID than the one known for the order (a snapshot
    /// without one changes nothing: the known one is kept).
    pub fn iccid_changed(&self, snapshot: &OrderData) -> bool {
        match (self.iccid, &snapshot.iccid) {
            (Some(known), Some(now)) => known != IccidPrint::of(now),
            _ => false,
        }
    }

    /// True once a terminal step (depleted, failed, cancelled) is published: nothing is left
    /// to watch.
    pub fn is_done(&self) -> bool {
        self.latest
            .is_some_and(|t| rank(t) >= rank(EventType::Depleted))
    }

    /// A snapshot implying exactly the published steps (the "previous" side of a diff).
    pub fn previous(&self, id: u64) -> OrderData {
        let mut o = empty(id);
        o.status = Some(OrderStatus::Pending);
        match self.latest {
            None => {}
            Some(EventType::Failed) => o.status = Some(OrderStatus::Failed),
            Some(EventType::Cancelled) => o.status = Some(OrderStatus::Cancelled),
            Some(t) => {
                o.status = Some(OrderStatus::Delivered);
                if rank(t) >= rank(EventType::Installed) {
                    o.is_installed = Some(true);
                }
                if t == EventType::Activated {
                    o.activation_status = Some(ActivationStatus::Active);
                }
                if t == EventType::Depleted {
                    o.activation_status = Some(ActivationStatus::Expired);
                }
            }
        }
        o
    }

    /// Folds in acknowledged events and what the latest snapshot says.
    pub fn apply(&mut self, events: &[Event], snapshot: &OrderData) {
        for e in events {
            self.step(e.event_type, unix_secs(e.created_at));
        }
        self.learn(snapshot);
    }

    /// Folds in one acknowledged step that happened at `at` (unix seconds, if known).
    pub fn step(&mut self, t: EventType, at: Option<i64>) {
        if self.latest.is_some_and(|l| rank(l) >= rank(t)) {
            return;
        }
        self.latest = Some(t);
        if t == EventType::Delivered {
            self.delivered_at = self.delivered_at.or(at);
        }
        if t == EventType::Installed {
            self.installed_at = self.installed_at.or(at.and_then(NonZeroI64::new));
        }
        if t == EventType::Activated {
            self.activated_at = self.activated_at.or(at);
        }
        self.phase = match t {
            EventType::Delivered => Phase::Install,
            _ => Phase::Lifecycle,
        };
    }

    /// Takes what a snapshot dates better than the events do, and the ICCID if none is
    /// known yet (a changed one is refused before this, see [`Tracked::iccid_changed`]).
    pub fn learn(&mut self, snapshot: &OrderData) {
        if self.iccid.is_none() {
            self.iccid = snapshot.iccid.as_ref().map(IccidPrint::of);
        }
        if let Some(at) = installed_at(snapshot) {
            self.installed_at = Some(at);
        }
        if let Some(at) = snapshot.activated_at.and_then(unix_secs) {
            self.activated_at = Some(at);
        }
        if let Some(days) = snapshot.validity_days {
            self.validity_days = Some(u16::try_from(days).unwrap_or(u16::MAX));
        }
    }
}

/// A snapshot's install date as [`Tracked::installed_at`] keeps it.
pub fn installed_at(snapshot: &OrderData) -> Option<NonZeroI64> {
    snapshot
        .installed_at
        .and_then(unix_secs)
        .and_then(NonZeroI64::new)
}

impl Default for Tracked {
    fn default() -> Self {
        Self::new()
    }
}

fn empty(id: u64) -> OrderData {
    OrderData::new(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use esim_normalise::normalise::steps;

    #[test]
    fn previous_implies_exactly_the_published_steps() {
        assert!(steps(&Tracked::new().previous(1)).is_empty());
        for t in EventType::ALL {
            let tracked = Tracked {
                latest: Some(t),
                ..Tracked::new()
            };
            let expected: Vec<EventType> = t.predecessors().iter().copied().chain([t]).collect();
            assert_eq!(steps(&tracked.previous(1)), expected, "{t}");
        }
    }

    #[test]
    fn steps_only_move_forward_and_set_the_phase() {
        let mut t = Tracked::new();
        t.step(EventType::Delivered, Some(100));
        assert_eq!((t.phase, t.delivered_at), (Phase::Install, Some(100)));
        t.step(EventType::Activated, Some(200));
        t.step(EventType::Installed, Some(150));
        assert_eq!(t.latest, Some(EventType::Activated));
        assert_eq!((t.phase, t.activated_at), (Phase::Lifecycle, Some(200)));
        assert!(!t.is_done());
        t.step(EventType::Depleted, None);
        assert!(t.is_done());
        // 100,000 tracked orders: a few MB (the install date took it from 48 to 56 bytes).
        assert!(std::mem::size_of::<Tracked>() <= 56);
    }

    #[test]
    fn the_first_iccid_is_kept_and_another_one_is_a_change() {
        let order = |iccid: Option<&str>| {
            let mut o = OrderData::new(1);
            o.iccid = iccid.map(|i| Iccid::parse(i).unwrap());
            o
        };
        let (a, b) = (Some("8910300000000000001"), Some("8910300000000000002"));
        let mut t = Tracked::new();
        assert!(!t.iccid_changed(&order(b)), "nothing known yet");
        t.learn(&order(None));
        t.learn(&order(a));
        assert!(!t.iccid_changed(&order(a)) && !t.iccid_changed(&order(None)));
        assert!(t.iccid_changed(&order(b)));
        t.learn(&order(b));
        assert!(
            t.iccid_changed(&order(b)),
            "learning never replaces the known one"
        );
    }
}
