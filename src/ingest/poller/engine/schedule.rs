//! The due queue: what to read next, by priority class, and how late each class runs.
//!
//! Pure data structure on tokio `Instant`s, no I/O. The engine asks for the most urgent ready
//! item ([`DueQueue::pop_ready`]) whenever the budget admits a read, so when demand exceeds the
//! budget the lower classes run late; [`DueQueue::stretch`] measures by how much.
//!
//! Two deliberate exceptions to strict priority, both explicit and small:
//! - **Reserved share** (`upstream.reserved_share`): when install-fast and a lower class
//!   (install-slow, lifecycle) are both due, that share of such picks goes to the
//!   longest-waiting lower item, so the lower classes slow down under load instead of
//!   starving. Fulfilment and discovery always come first.
//! - **Early checks** ([`DueQueue::allow_early`], [`DueQueue::pop_early`]): an item may be
//!   marked as worth reading before its due time; the engine asks for one only when nothing
//!   is due and the budget has spare room, least recently marked first.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// Priority classes, most urgent first (design.md, "Poller model").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// The `status=PENDING` list, and the one detail read of an order that left it.
    Fulfilment,
    /// Newest-first list pages down to the cursor.
    Discovery,
    /// Install checks in the first minutes after delivery.
    InstallFast,
    /// Later install checks (the slow and the tail cadence).
    InstallSlow,
    /// Activation and expiry checks of installed eSIMs.
    Lifecycle,
}

impl Class {
    /// Every class, most urgent first.
    pub const ALL: [Class; 5] = [
        Self::Fulfilment,
        Self::Discovery,
        Self::InstallFast,
        Self::InstallSlow,
        Self::Lifecycle,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Fulfilment => "fulfilment",
            Self::Discovery => "discovery",
            Self::InstallFast => "install_fast",
            Self::InstallSlow => "install_slow",
            Self::Lifecycle => "lifecycle",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How an item came to be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The most urgent due item, by strict priority.
    Due,
    /// A lower-class item given a read by the reserved share.
    Reserved,
    /// Read before its due time, on spare budget.
    Early,
}

impl Pick {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Reserved => "reserved",
            Self::Early => "early",
        }
    }
}

/// An item handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready<K> {
    pub key: K,
    pub class: Class,
    /// When it was due.
    pub due: Instant,
    /// How late it is being served (zero for early reads).
    pub late: Duration,
    pub pick: Pick,
    /// From when it could have been read early, if it could ([`DueQueue::put_back`] keeps it).
    pub early_from: Option<Instant>,
}

/// Every `1 / share`-th contested pick goes to the lower classes (integer credit, per mille).
#[derive(Debug, Default)]
struct Share {
    per_mille: u32,
    credit: u32,
}

impl Share {
    fn take(&mut self) -> bool {
        self.credit += self.per_mille;
        if self.credit >= 1000 {
            self.credit -= 1000;
            return true;
        }
        false
    }
}

/// Scheduled items, at most one entry per key.
#[derive(Debug)]
pub struct DueQueue<K> {
    by_class: [BTreeSet<(Instant, K)>; 5],
    index: HashMap<K, (Class, Instant)>,
    /// Items that may be read early, by the instant from which they may.
    early: BTreeSet<(Instant, K)>,
    early_index: HashMap<K, Instant>,
    share: Share,
}

impl<K: Copy + Ord + Hash> Default for DueQueue<K> {
    fn default() -> Self {
        Self {
            by_class: Default::default(),
            index: HashMap::new(),
            early: BTreeSet::new(),
            early_index: HashMap::new(),
            share: Share::default(),
        }
    }
}

impl<K: Copy + Ord + Hash> DueQueue<K> {
    /// A queue giving `share` (0 to 1) of the contested picks to the lower classes.
    pub fn with_reserved_share(share: f64) -> Self {
        let mut q = Self::default();
        // In range by construction: clamped to 0..=1000 before the cast.
        q.share.per_mille = (share.clamp(0.0, 1.0) * 1000.0).round() as u32;
        q
    }

    /// Schedules `key` (replacing any earlier entry for it, and its early mark).
    pub fn schedule(&mut self, key: K, class: Class, due: Instant) {
        self.remove(key);
        self.by_class[class.index()].insert((due, key));
        self.index.insert(key, (class, due));
    }

    /// Schedules `key` unless it is already scheduled at or before `due`.
    pub fn schedule_by(&mut self, key: K, class: Class, due: Instant) {
        match self.index.get(&key) {
            Some(&(c, d)) if d <= due && c <= class => {}
            _ => self.schedule(key, class, due),
        }
    }

    /// Marks a scheduled `key` as worth an early read from `from` on (see [`Self::pop_early`]).
    pub fn allow_early(&mut self, key: K, from: Instant) {
        if !self.index.contains_key(&key) {
            return;
        }
        self.forbid_early(key);
        self.early.insert((from, key));
        self.early_index.insert(key, from);
    }

    fn forbid_early(&mut self, key: K) -> Option<Instant> {
        let from = self.early_index.remove(&key)?;
        self.early.remove(&(from, key));
        Some(from)
    }

    /// Unschedules `key`; true if it was scheduled.
    pub fn remove(&mut self, key: K) -> bool {
        self.forbid_early(key);
        match self.index.remove(&key) {
            Some((class, due)) => self.by_class[class.index()].remove(&(due, key)),
            None => false,
        }
    }

    /// Whether `key` is scheduled, and how.
    pub fn get(&self, key: K) -> Option<(Class, Instant)> {
        self.index.get(&key).copied()
    }

    fn due_by(&self, class: Class, now: Instant) -> Option<Instant> {
        self.by_class[class.index()]
            .first()
            .map(|&(due, _)| due)
            .filter(|&due| due <= now)
    }

    /// The item to read next among classes up to `lowest` that are due by `now`: strict
    /// priority, earliest first, except that the reserved share of the picks contested
    /// between install-fast and the lower classes goes to the longest-waiting lower item.
    pub fn pop_ready(&mut self, now: Instant, lowest: Class) -> Option<Ready<K>> {
        let mut ready = Class::ALL
            .into_iter()
            .filter(|&c| c <= lowest && self.due_by(c, now).is_some());
        let first = ready.next()?;
        if first != Class::InstallFast {
            return self.pop(first, now, Pick::Due);
        }
        let lower = ready.min_by_key(|&c| self.due_by(c, now));
        match lower {
            Some(c) if self.share.take() => self.pop(c, now, Pick::Reserved),
            _ => self.pop(first, now, Pick::Due),
        }
    }

    /// The item marked early the longest ago, if its mark has come (`from <= now`).
    pub fn pop_early(&mut self, now: Instant) -> Option<Ready<K>> {
        let &(from, key) = self.early.first().filter(|&&(from, _)| from <= now)?;
        let (class, due) = self.get(key)?;
        self.remove(key);
        Some(Ready {
            key,
            class,
            due,
            late: Duration::ZERO,
            pick: Pick::Early,
            early_from: Some(from),
        })
    }

    fn pop(&mut self, class: Class, now: Instant, pick: Pick) -> Option<Ready<K>> {
        let (due, key) = self.by_class[class.index()].pop_first()?;
        self.index.remove(&key);
        let early_from = self.forbid_early(key);
        Some(Ready {
            key,
            class,
            due,
            late: now.saturating_duration_since(due),
            pick,
            early_from,
        })
    }

    /// Undoes a pop whose read could not start.
    pub fn put_back(&mut self, r: Ready<K>) {
        self.schedule(r.key, r.class, r.due);
        if let Some(from) = r.early_from {
            self.allow_early(r.key, from);
        }
    }

    /// The earliest due time in `class`.
    pub fn next_due_in(&self, class: Class) -> Option<Instant> {
        self.by_class[class.index()].first().map(|&(due, _)| due)
    }

    /// The earliest due time of any item (the tests' view of the queue).
    #[cfg(test)]
    pub fn next_due(&self) -> Option<Instant> {
        Class::ALL
            .into_iter()
            .filter_map(|c| self.next_due_in(c))
            .min()
    }

    /// From when the next early read may be made, if any item is marked.
    pub fn next_early(&self) -> Option<Instant> {
        self.early.first().map(|&(from, _)| from)
    }

    /// Per class (in [`Class::ALL`] order), how overdue its oldest waiting item is at `now`.
    pub fn stretch(&self, now: Instant) -> [Duration; 5] {
        self.by_class.each_ref().map(|set| {
            set.first().map_or(Duration::ZERO, |&(due, _)| {
                now.saturating_duration_since(due)
            })
        })
    }

    /// Items scheduled in `class`.
    pub fn len(&self, class: Class) -> usize {
        self.by_class[class.index()].len()
    }

    /// Items marked for an early read.
    pub fn early_len(&self) -> usize {
        self.early_index.len()
    }

    /// Items scheduled in all classes.
    #[cfg(test)]
    pub fn total(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is scheduled.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
