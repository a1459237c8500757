//! Where discovery stops: a creation-time high-water mark with an overlap window, and the ids
//! recently seen inside that window.
//!
//! Order ids need not follow creation order, and an order may appear in the list after newer
//! ones were already seen, so "the highest id seen" cannot be the cursor. Each pass reads the
//! newest-first list down to the first order created before `high-water mark - overlap`;
//! every order in between that is not among the recently seen ids is new (admitted), however
//! low its id. Re-seen orders cost nothing: their ids are remembered (at most [`MAX_RECENT`],
//! newest first) as long as they lie inside the window.
//!
//! Stored as the KV key `cursor`: `{"last_id", "created_ms", "recent": [[id, created_ms]...]}`.
//! A record from an older version (`{"last_id"}` only) is read as a legacy cursor: its first
//! pass treats ids up to `last_id` as known (the old rule), then writes the new form.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Most recently seen ids remembered (a page of 500 is 1/40 of it).
pub const MAX_RECENT: usize = 20_000;

/// The discovery cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The highest order id seen (shown by `status`; the only field of the legacy form).
    #[serde(default)]
    pub last_id: u64,
    /// Newest `created_at` seen (unix ms); `None` in a legacy record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ms: Option<i64>,
    /// Ids seen with their `created_at` (unix ms) inside the overlap window.
    #[serde(default)]
    pub recent: Vec<(u64, i64)>,
}

/// One discovery pass in progress: what it has seen so far.
#[derive(Debug, Default)]
pub struct Pass {
    seen: HashMap<u64, i64>,
    max_id: u64,
    /// A first run's back-fill limit (whole seconds, unix ms): where the next window starts
    /// even if this pass saw no order at all.
    floor: Option<i64>,
}

impl Pass {
    /// Records a first run's back-fill limit (the first one a pass is given), even for a
    /// page that lists no order. Discovery calls it for every page, before classifying.
    pub fn limit(&mut self, horizon_ms: Option<i64>) {
        if self.floor.is_none() {
            self.floor = horizon_ms.map(whole_second);
        }
    }
}

/// `ms` rounded down to a whole second: the provider's `created_at` has second resolution, so
/// an order made 0.5 s after a millisecond limit reads as made before it.
fn whole_second(ms: i64) -> i64 {
    ms - ms.rem_euclid(1000)
}

/// What a pass makes of one listed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Not seen before: admit it.
    New,
    /// Seen before (recently, or known by the legacy rule): nothing to do.
    Seen,
    /// Created before the window: nothing to do, and the pass may stop after this page.
    Older,
}

impl Cursor {
    /// Where the window starts: the high-water mark minus `overlap`.
    fn window_start(&self, overlap: Duration) -> Option<i64> {
        let overlap = i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX);
        self.created_ms.map(|h| h.saturating_sub(overlap))
    }

    /// Classifies a listed order (`created_ms`: its sane `created_at`, if any) and records it
    /// in `pass`. `horizon_ms` is the back-fill limit of a first run.
    pub fn classify(
        &self,
        pass: &mut Pass,
        id: u64,
        created_ms: Option<i64>,
        overlap: Duration,
        horizon_ms: Option<i64>,
    ) -> Listed {
        pass.max_id = pass.max_id.max(id);
        let recent = self.recent.iter().any(|&(r, _)| r == id);
        let legacy_known = self.created_ms.is_none() && self.last_id > 0 && id <= self.last_id;
        let horizon_ms = horizon_ms.map(whole_second);
        let before = self.window_start(overlap).or(horizon_ms);
        if let Some(created) = created_ms {
            if before.is_some_and(|start| created < start) {
                return Listed::Older;
            }
            pass.seen.insert(id, created);
        }
        match (legacy_known, recent) {
            (true, _) => Listed::Older,
            (false, true) => Listed::Seen,
            (false, false) => Listed::New,
        }
    }

    /// The cursor after a complete pass: the mark moves to the newest creation seen, the
    /// window's ids are kept (newest first, at most [`MAX_RECENT`]).
    ///
    /// After a first run the window never starts before its back-fill limit, even when the
    /// pass saw no order: without a mark the next pass would be a first run again with a
    /// limit moved to its own time, and an order made between two passes would always be
    /// older than the limit (with `upstream.backfill = 0`, nothing was ever imported).
    pub fn advance(&self, pass: Pass, overlap: Duration) -> Cursor {
        let overlap_ms = i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX);
        let floor_mark = pass.floor.map(|f| f.saturating_add(overlap_ms));
        let created_ms = [
            self.created_ms,
            pass.seen.values().copied().max(),
            floor_mark,
        ]
        .into_iter()
        .flatten()
        .max();
        let mut next = Cursor {
            last_id: self.last_id.max(pass.max_id),
            created_ms,
            recent: Vec::new(),
        };
        let start = next.window_start(overlap).unwrap_or(i64::MIN);
        let mut recent: HashMap<u64, i64> = self.recent.iter().copied().collect();
        recent.extend(pass.seen);
        let mut recent: Vec<(u64, i64)> = recent.into_iter().filter(|&(_, c)| c >= start).collect();
        recent.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        recent.truncate(MAX_RECENT);
        next.recent = recent;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const OVERLAP: Duration = Duration::from_secs(600);

    #[test]
    fn a_late_order_with_a_lower_id_is_new_and_a_re_seen_one_is_not() {
        let first = Cursor::default();
        let mut pass = Pass::default();
        assert_eq!(
            first.classify(&mut pass, 20, Some(100 * MIN), OVERLAP, Some(0)),
            Listed::New
        );
        let cursor = first.advance(pass, OVERLAP);
        assert_eq!((cursor.last_id, cursor.created_ms), (20, Some(100 * MIN)));

        let mut pass = Pass::default();
        let late = cursor.classify(&mut pass, 10, Some(101 * MIN), OVERLAP, None);
        let older_but_in_window = cursor.classify(&mut pass, 5, Some(95 * MIN), OVERLAP, None);
        let again = cursor.classify(&mut pass, 20, Some(100 * MIN), OVERLAP, None);
        let old = cursor.classify(&mut pass, 3, Some(80 * MIN), OVERLAP, None);
        assert_eq!(
            [late, older_but_in_window, again, old],
            [Listed::New, Listed::New, Listed::Seen, Listed::Older]
        );
        let cursor = cursor.advance(pass, OVERLAP);
        assert_eq!((cursor.last_id, cursor.created_ms), (20, Some(101 * MIN)));
        assert_eq!(
            cursor.recent,
            [(10, 101 * MIN), (20, 100 * MIN), (5, 95 * MIN)]
        );
        // Once the mark moves past them, old ids leave the window (and the memory).
        let mut pass = Pass::default();
        cursor.classify(&mut pass, 30, Some(200 * MIN), OVERLAP, None);
        assert_eq!(cursor.advance(pass, OVERLAP).recent, [(30, 200 * MIN)]);
    }

    #[test]
    fn after_an_empty_first_pass_orders_made_since_its_limit_are_new() {
        // backfill = 0: the limit is the first pass's own time, 10.5 s; nothing listed yet.
        let first = Cursor::default();
        let mut pass = Pass::default();
        pass.limit(Some(10_500));
        let next = {
            assert_eq!(
                first.classify(&mut pass, 1, Some(9_000), OVERLAP, Some(10_500)),
                Listed::Older
            );
            first.advance(pass, OVERLAP)
        };
        assert_ne!(
            next,
            Cursor::default(),
            "the mark is set, so the next pass is no first run"
        );
        let mut pass = Pass::default();
        // Made at 10.7 s, listed as 10 s (whole seconds): after the limit, so new.
        assert_eq!(
            next.classify(&mut pass, 2, Some(10_000), OVERLAP, None),
            Listed::New
        );
        assert_eq!(
            next.classify(&mut pass, 1, Some(9_000), OVERLAP, None),
            Listed::Older
        );
    }

    #[test]
    fn a_legacy_cursor_reads_back_and_keeps_the_old_rule_for_one_pass() {
        let legacy: Cursor = serde_json::from_str(r#"{"last_id": 20}"#).unwrap();
        assert_eq!((legacy.last_id, legacy.created_ms), (20, None));
        let mut pass = Pass::default();
        assert_eq!(
            legacy.classify(&mut pass, 21, Some(100 * MIN), OVERLAP, None),
            Listed::New
        );
        assert_eq!(
            legacy.classify(&mut pass, 20, Some(99 * MIN), OVERLAP, None),
            Listed::Older
        );
        let next = legacy.advance(pass, OVERLAP);
        assert_eq!(next.created_ms, Some(100 * MIN));
        let json = serde_json::to_string(&next).unwrap();
        let back: Cursor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, next);
    }

    #[test]
    fn the_remembered_ids_are_bounded() {
        let mut pass = Pass::default();
        let cursor = Cursor::default();
        for id in 0..(MAX_RECENT as u64 + 500) {
            cursor.classify(&mut pass, id, Some(100 * MIN), OVERLAP, None);
        }
        assert_eq!(cursor.advance(pass, OVERLAP).recent.len(), MAX_RECENT);
    }
}
