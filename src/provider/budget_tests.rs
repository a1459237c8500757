//! The budget in virtual time: the rolling window, pacing, lanes, 429 pauses, backoff.

use super::*;

#[tokio::test(start_paused = true)]
async fn never_more_than_the_limit_start_in_any_window() {
    let budget = Budget::new(3);
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(budget.try_start(Instant::now()).is_some());
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    assert!(budget.try_start(Instant::now()).is_none());
    assert_eq!(budget.available_at(Instant::now()), t0 + WINDOW + SLACK);
    let mut starts = Vec::new();
    for _ in 0..6 {
        budget.start().await;
        starts.push(Instant::now());
    }
    for pair in starts.windows(4) {
        assert!(pair[3] - pair[0] >= WINDOW, "{pair:?}");
    }
    assert_eq!(budget.used(Instant::now()), 3);
}

#[tokio::test(start_paused = true)]
async fn reads_are_paced_after_a_short_burst() {
    let budget = Budget::new(240);
    let t0 = Instant::now();
    let mut starts = Vec::new();
    for _ in 0..(BURST + 8) {
        budget.start().await;
        starts.push(Instant::now() - t0);
    }
    let burst = usize::try_from(BURST).unwrap();
    assert!(starts[..burst].iter().all(|s| s.is_zero()), "{starts:?}");
    for pair in starts[burst..].windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::from_millis(250));
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_pause_holds_every_read() {
    let budget = Budget::new(100);
    let now = Instant::now();
    budget.pause_until(now + Duration::from_secs(7));
    budget.pause_until(now + Duration::from_secs(3));
    assert!(budget.try_start(now).is_none());
    assert_eq!(budget.paused_until(now), Some(now + Duration::from_secs(7)));
    budget.start().await;
    assert_eq!(Instant::now() - now, Duration::from_secs(7));
}

/// Regular reads saturate the budget for ten minutes; an urgent read never waits, and
/// early (spare) reads get nothing.
#[tokio::test(start_paused = true)]
async fn urgent_reads_find_room_in_a_budget_saturated_by_regular_reads() {
    let budget = Budget::new(240);
    let t0 = Instant::now();
    let mut urgent = 0;
    let mut regular = 0;
    let mut next_urgent = t0 + Duration::from_millis(3_700);
    while Instant::now() - t0 < Duration::from_secs(600) {
        let now = Instant::now();
        while budget.try_start_for(now, Lane::Regular).is_some() {
            regular += 1;
        }
        assert!(budget.available_at_for(now, Lane::Spare) > now);
        if now >= next_urgent {
            assert!(
                budget.try_start(now).is_some(),
                "urgent waited at {:?}",
                now - t0
            );
            urgent += 1;
            next_urgent = now + Duration::from_millis(3_700);
        }
        tokio::time::advance(Duration::from_millis(50)).await;
    }
    assert!(urgent >= 160, "{urgent}");
    // Regular reads still get nearly all of the budget (236 per 61 s window, less the
    // urgent ones that took their place), and no window ever holds more than the limit.
    let per_minute = regular as f64 / 10.0;
    assert!((205.0..=233.0).contains(&per_minute), "{per_minute}");
    assert!(budget.used(Instant::now()) <= 240);
}

#[tokio::test(start_paused = true)]
async fn spare_reads_leave_room_and_the_burst_to_the_other_lanes() {
    let budget = Budget::new(100);
    let now = Instant::now();
    assert!(budget.try_start_for(now, Lane::Spare).is_some());
    assert!(budget.try_start_for(now, Lane::Spare).is_none(), "no burst");
    assert!(
        budget.try_start_for(now, Lane::Regular).is_none(),
        "no burst"
    );
    assert!(budget.try_start(now).is_some(), "urgent reads may burst");
    let mut spare = 1;
    while Instant::now() - now < WINDOW {
        tokio::time::advance(Duration::from_millis(100)).await;
        spare += usize::from(budget.try_start_for(Instant::now(), Lane::Spare).is_some());
    }
    assert_eq!(spare, 89, "90 of 100 in the window, one of them urgent");
    assert!(budget
        .try_start_for(Instant::now(), Lane::Regular)
        .is_some());
}

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    for attempt in 1..=20 {
        let full = BACKOFF_START
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(BACKOFF_CAP);
        let b = backoff(attempt);
        assert!(b >= full / 2 && b <= full, "attempt {attempt}: {b:?}");
    }
    assert!(backoff(30) <= BACKOFF_CAP);
}
