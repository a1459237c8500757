//! The due queue: priority, the reserved share of contested picks, early marks.

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn drain(q: &mut DueQueue<u64>, now: Instant) -> Vec<(u64, Pick)> {
    std::iter::from_fn(|| q.pop_ready(now, Class::Lifecycle).map(|r| (r.key, r.pick))).collect()
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
    let order: Vec<u64> = drain(&mut q, t0 + secs(5))
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(order, vec![3, 2, 1], "4 is not due yet");
    let r = q
        .pop_ready(t0 + secs(12), Class::Lifecycle)
        .map(|r| (r.key, r.late));
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

#[tokio::test(start_paused = true)]
async fn the_reserved_share_goes_to_the_longest_waiting_lower_item_never_before_urgent_work() {
    let t0 = Instant::now();
    let mut q = DueQueue::with_reserved_share(0.25);
    for id in 0..6u64 {
        q.schedule(id, Class::InstallFast, t0 + secs(id));
    }
    q.schedule(100, Class::InstallSlow, t0 + secs(50));
    q.schedule(200, Class::Lifecycle, t0 + secs(20));
    q.schedule(300, Class::Discovery, t0 + secs(60));
    q.schedule(400, Class::Fulfilment, t0 + secs(99));
    let got = drain(&mut q, t0 + secs(60));
    use Pick::{Due, Reserved};
    assert_eq!(
        got,
        [
            (300, Due),
            (0, Due),
            (1, Due),
            (2, Due),
            (200, Reserved), // waited longest of the lower items
            (3, Due),
            (4, Due),
            (5, Due),
            // Nothing contested any more: strict order.
            (100, Due),
        ]
    );
    // Urgent work never waits for the share, and only classes up to `lowest` are served.
    q.schedule(1, Class::InstallFast, t0);
    assert!(q.pop_ready(t0 + secs(100), Class::Discovery).is_some());
    assert!(q.pop_ready(t0 + secs(100), Class::Discovery).is_none());
    assert_eq!(q.total(), 1);
}

#[tokio::test(start_paused = true)]
async fn without_a_share_priority_is_strict() {
    let t0 = Instant::now();
    let mut q = DueQueue::with_reserved_share(0.0);
    q.schedule(900u64, Class::Lifecycle, t0);
    for id in 0..50u64 {
        q.schedule(id, Class::InstallFast, t0 + secs(1));
    }
    let got = drain(&mut q, t0 + secs(1));
    assert_eq!(got.last(), Some(&(900, Pick::Due)));
    assert!(got.iter().all(|&(_, pick)| pick == Pick::Due));
}

#[tokio::test(start_paused = true)]
async fn early_marks_are_served_least_recent_first_and_cleared_by_any_reschedule() {
    let t0 = Instant::now();
    let mut q = DueQueue::default();
    let far = t0 + secs(6 * 3600);
    q.schedule(1u64, Class::Lifecycle, far);
    q.schedule(2, Class::InstallSlow, far);
    q.schedule(3, Class::Lifecycle, far);
    q.allow_early(1, t0 + secs(600));
    q.allow_early(2, t0 + secs(300));
    q.allow_early(3, t0 + secs(900));
    q.allow_early(4, t0); // not scheduled: ignored
    assert_eq!((q.early_len(), q.next_early()), (3, Some(t0 + secs(300))));
    let now = t0 + secs(700);
    assert!(
        q.pop_ready(now, Class::Lifecycle).is_none(),
        "nothing is due"
    );
    let first = q.pop_early(now).expect("2 may be read early");
    assert_eq!(
        (first.key, first.pick, first.late),
        (2, Pick::Early, Duration::ZERO)
    );
    assert_eq!((first.class, first.due), (Class::InstallSlow, far));
    // A read that could not start goes back with its mark.
    q.put_back(first);
    assert_eq!(q.pop_early(now).map(|r| r.key), Some(2));
    assert_eq!(q.pop_early(now).map(|r| r.key), Some(1));
    assert!(q.pop_early(now).is_none(), "3 only from 900 s");
    q.schedule(3, Class::Lifecycle, far);
    assert_eq!(q.early_len(), 0, "rescheduling clears the mark");
    assert!(q.pop_early(t0 + secs(1000)).is_none());
    assert_eq!(q.total(), 1);
}
