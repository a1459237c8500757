//! Tests of the learned read rates ([`super`]).

use super::*;

const BOUNDS: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(6 * 3600));

fn learned(install_ages: &[f64], n: usize) -> Learned {
    let mut l = Learned::default();
    for _ in 0..n {
        for a in install_ages {
            l.install.event(*a);
        }
    }
    l
}

#[test]
fn too_few_events_keep_the_ladder() {
    let l = learned(&[60.0], 10);
    let r = Rates::compute(&l, [&[30.0], &[]], 3.0, |_, _| 0.1, BOUNDS);
    assert_eq!(r.interval(Wait::Install, 30.0), None);
    assert!(!r.learned(Wait::Activation));
}

#[test]
fn likely_ages_are_read_often_and_the_reads_fit_the_budget() {
    // Installs at one minute; ages 50 s (likely) and 3 h (nothing was ever seen there).
    let l = learned(&[60.0, 70.0], 100);
    let open = vec![50.0; 10];
    let r = Rates::compute(&l, [&open, &[]], 1.0, |_, _| 0.0, BOUNDS);
    let soon = r.interval(Wait::Install, 50.0).unwrap();
    assert_eq!(r.interval(Wait::Install, 3.0 * 3600.0), Some(BOUNDS.1));
    // Ten orders at the same age share one read per second: one read each 10 s.
    assert!((soon.as_secs_f64() - 10.0).abs() < 1e-6, "{soon:?}");
    // A fresh order is read when installs become likely, not at its first seconds' rate.
    let fresh = r.interval(Wait::Install, 0.0).unwrap();
    assert!(fresh < Duration::from_secs(60), "{fresh:?}");
    let fewer = Rates::compute(&l, [&open, &[]], 0.5, |_, _| 0.0, BOUNDS);
    assert!(fewer.interval(Wait::Install, 50.0).unwrap() > soon);
}

#[test]
fn the_ladder_s_reads_are_left_to_it_and_intervals_stay_in_bounds() {
    let l = learned(&[60.0], 100);
    let open = vec![50.0; 10];
    let alone = Rates::compute(&l, [&open, &[]], 0.5, |_, _| 0.0, BOUNDS);
    let beside = Rates::compute(&l, [&open, &[1.0; 10]], 0.5, |_, _| 0.1, BOUNDS);
    let (a, b) = (
        alone.interval(Wait::Install, 50.0).unwrap(),
        beside.interval(Wait::Install, 50.0).unwrap(),
    );
    assert!(b > a, "{a:?} {b:?}");
    let starved = Rates::compute(&l, [&open, &[1.0; 10]], 2.0, |_, _| 100.0, BOUNDS);
    assert!(starved.interval(Wait::Install, 50.0).unwrap() <= BOUNDS.1);
    let flood = Rates::compute(&l, [&open, &[]], 1e9, |_, _| 0.0, BOUNDS);
    assert_eq!(flood.interval(Wait::Install, 50.0), Some(BOUNDS.0));
    let none = Rates::compute(&l, [&[], &[]], f64::NAN, |_, _| 0.0, BOUNDS);
    assert_eq!(none.interval(Wait::Install, 50.0), Some(BOUNDS.1));
}

#[test]
fn the_floor_s_reads_come_out_of_the_budget() {
    // A hundred installs at 100 s and one at two days: a hundred young orders at a busy
    // age and a hundred thousand old ones whose rate would fall below one read per `max`.
    // Those are read every `max` all the same (or less often if that would take over a
    // quarter of the reads, as here), so the young ones get what is left of the 5
    // reads/s, and the plan adds up to the budget instead of spending the young ones'
    // share on top of the floor.
    let mut l = learned(&[100.0], 100);
    l.install.event(200_000.0);
    let mut open = vec![100.0; 100];
    open.extend(std::iter::repeat_n(300_000.0, 100_000));
    let planned = |r: &Rates| -> f64 {
        open.iter()
            .map(|a| 1.0 / r.interval(Wait::Install, *a).unwrap().as_secs_f64())
            .sum()
    };
    let r = Rates::compute(&l, [&open, &[]], 5.0, |_, _| 0.0, BOUNDS);
    assert!(r.interval(Wait::Install, 300_000.0).unwrap() >= BOUNDS.1);
    assert!((planned(&r) - 5.0).abs() < 1e-6, "{}", planned(&r));
    // When the floor, even stretched, takes more than the budget, the learned rates keep
    // a tenth of it: the young orders are still read more often than every `max`.
    let r = Rates::compute(&l, [&open, &[]], 1.0, |_, _| 0.0, BOUNDS);
    assert!(r.interval(Wait::Install, 100.0).unwrap() < BOUNDS.1 / 4);
}

#[test]
fn a_crowded_floor_is_spread_to_its_share() {
    // 100,000 orders that never install (tracked until their validity ends, at an age
    // where no install was ever seen), read every `max` (6 h), would take 4.6 of 5
    // reads/s: the floor is stretched so they take a quarter, and the young orders keep
    // the rest.
    let l = learned(&[100.0], 100);
    let mut open = vec![100.0; 100];
    open.extend(std::iter::repeat_n(300_000.0, 100_000));
    let r = Rates::compute(&l, [&open, &[]], 5.0, |_, _| 0.0, BOUNDS);
    let old = r.interval(Wait::Install, 300_000.0).unwrap();
    assert!(
        (old.as_secs_f64() - 100_100.0 / 1.25).abs() < 1.0,
        "{old:?}"
    );
    let young = r.interval(Wait::Install, 100.0).unwrap().as_secs_f64();
    assert!((100.0 / young - 3.75).abs() < 1e-2, "{young}");
    // However crowded, the floor is stretched at most eightfold.
    let r = Rates::compute(&l, [&open, &[]], 0.01, |_, _| 0.0, BOUNDS);
    let old = r.interval(Wait::Install, 300_000.0).unwrap();
    assert_eq!(old, BOUNDS.1 * STRETCH);
}

/// Provider dates make the ages: whole seconds (so many on a bin's edge, where the event
/// counts in a bin its own wait never reached), zero, negative, huge or not a number. A
/// busy bin keeps its own hazard, so one with many events and almost no exposure is
/// steep; whatever the ages and the budget, every hazard stays finite and every interval
/// within `install_fast` and eight `install_tail`s.
mod hostile {
    use super::*;
    use crate::ingest::poller::engine::learned::EDGES;
    use proptest::prelude::*;

    fn age() -> impl Strategy<Value = f64> {
        prop_oneof![
            prop::sample::select(EDGES.to_vec()),
            0.0..2.0e6f64,
            prop::sample::select(vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e300]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn intervals_stay_in_bounds(
            events in prop::collection::vec((age(), 1usize..200), 0..6),
            open in prop::collection::vec(age(), 0..40),
            reads in prop::sample::select(vec![0.0, 1e-9, 0.5, 4.0, 1e12, f64::NAN]),
            probe in age(),
        ) {
            let mut l = Learned::default();
            for (a, n) in &events {
                for _ in 0..*n {
                    l.install.event(*a);
                    l.activation.event(*a);
                }
            }
            let r = Rates::compute(&l, [&open, &open], reads, |_, _| 0.01, BOUNDS);
            for wait in Wait::ALL {
                let mut exposure = [0.0; BINS];
                for a in &open {
                    add_exposure(&mut exposure, *a);
                }
                let h = l.get(wait).hazard(&exposure);
                prop_assert!(h.iter().all(|x| x.is_finite() && *x >= 0.0), "{h:?}");
                if let Some(i) = r.interval(wait, probe) {
                    let longest = BOUNDS.1 * STRETCH;
                    prop_assert!((BOUNDS.0..=longest).contains(&i), "{i:?}");
                }
            }
        }
    }
}
