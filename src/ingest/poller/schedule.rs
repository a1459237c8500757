//! The due queue: what to read next, by priority class, and how late each class runs.
//!
//! Pure data structure on tokio `Instant`s, no I/O. The engine asks for the most urgent ready
//! item ([`DueQueue::pop_ready`]) whenever the budget admits a read, so when demand exceeds the
//! budget the lower classes run late; [`DueQueue::stretch`] measures by how much.

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

/// An item that was due and is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready<K> {
    pub key: K,
    pub class: Class,
    /// When it was due.
    pub due: Instant,
    /// How late it is being served.
    pub late: Duration,
}

/// Scheduled items, at most one entry per key.
#[derive(Debug)]
pub struct DueQueue<K> {
    by_class: [BTreeSet<(Instant, K)>; 5],
    index: HashMap<K, (Class, Instant)>,
}

impl<K: Copy + Ord + Hash> Default for DueQueue<K> {
    fn default() -> Self {
        Self {
            by_class: Default::default(),
            index: HashMap::new(),
        }
    }
}

impl<K: Copy + Ord + Hash> DueQueue<K> {
    /// Schedules `key` (replacing any earlier entry for it).
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

    /// Unschedules `key`; true if it was scheduled.
    pub fn remove(&mut self, key: K) -> bool {
        match self.index.remove(&key) {
            Some((class, due)) => self.by_class[class.index()].remove(&(due, key)),
            None => false,
        }
    }

    /// Whether `key` is scheduled, and how.
    pub fn get(&self, key: K) -> Option<(Class, Instant)> {
        self.index.get(&key).copied()
    }

    /// The most urgent item due by `now`: the highest class with a due item, earliest first.
    pub fn pop_ready(&mut self, now: Instant) -> Option<Ready<K>> {
        let class = Class::ALL.into_iter().find(|c| {
            self.by_class[c.index()]
                .first()
                .is_some_and(|&(due, _)| due <= now)
        })?;
        let (due, key) = self.by_class[class.index()].pop_first()?;
        self.index.remove(&key);
        Some(Ready {
            key,
            class,
            due,
            late: now.saturating_duration_since(due),
        })
    }

    /// The earliest due time of any item.
    pub fn next_due(&self) -> Option<Instant> {
        self.by_class
            .iter()
            .filter_map(|set| set.first().map(|&(due, _)| due))
            .min()
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

    /// Items scheduled in all classes.
    pub fn total(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test(start_paused = true)]
    async fn higher_classes_first_then_earliest_due() {
        let t0 = Instant::now();
        let mut q = DueQueue::default();
        q.schedule(1u64, Class::Lifecycle, t0);
        q.schedule(2, Class::InstallFast, t0 + secs(2));
        q.schedule(3, Class::InstallFast, t0 + secs(1));
        q.schedule(4, Class::Fulfilment, t0 + secs(10));
        assert_eq!(q.next_due(), Some(t0));
        let now = t0 + secs(5);
        let order: Vec<u64> = std::iter::from_fn(|| q.pop_ready(now).map(|r| r.key)).collect();
        assert_eq!(order, vec![3, 2, 1], "4 is not due yet");
        let r = q.pop_ready(t0 + secs(12)).map(|r| (r.key, r.late));
        assert_eq!(r, Some((4, secs(2))));
        assert!(q.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn rescheduling_replaces_and_stretch_reports_the_oldest_waiting_item() {
        let t0 = Instant::now();
        let mut q = DueQueue::default();
        q.schedule(7u64, Class::InstallSlow, t0);
        q.schedule(7, Class::Lifecycle, t0 + secs(3));
        assert_eq!(q.total(), 1);
        assert_eq!(q.len(Class::InstallSlow), 0);
        q.schedule_by(7, Class::Lifecycle, t0 + secs(9));
        assert_eq!(q.get(7), Some((Class::Lifecycle, t0 + secs(3))));
        q.schedule_by(7, Class::Fulfilment, t0 + secs(9));
        assert_eq!(q.get(7), Some((Class::Fulfilment, t0 + secs(9))));
        q.schedule(8, Class::Lifecycle, t0 + secs(1));
        let stretch = q.stretch(t0 + secs(4));
        assert_eq!(stretch[Class::Lifecycle as usize], secs(3));
        assert_eq!(stretch[Class::Fulfilment as usize], Duration::ZERO);
        assert!(q.remove(8));
        assert!(!q.remove(8));
    }
}
