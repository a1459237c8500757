//! The engine's departures from strict priority, against the in-process simulator in virtual
//! time: the reserved share keeps lower classes moving under overload, and early checks on
//! spare budget find activations long before the lifecycle cadence would.

use std::time::Duration;

use super::{never_installs, order, reads, Run, DETAIL};
use esim_events::EventType;
use esim_sim::{OrderPlan, SimConfig};

const MIN: u64 = 60;

/// Installs at once and activates 30 min later; what has been published after 50 min, and
/// the early reads made.
async fn activation_seen(early_check: Duration) -> (Vec<EventType>, u64, u64) {
    let run = Run::start(SimConfig::default(), 240, |c| {
        c.cadence.early_check = early_check;
    });
    let activates = OrderPlan::delivered(
        Some(Duration::from_secs(30)),
        Some(Duration::from_secs(30 * MIN)),
    );
    run.sim.create_order(order(activates)).unwrap();
    tokio::time::sleep(Duration::from_secs(50 * MIN)).await;
    let (sim, events, figures) = run.finish().await;
    let types = events.iter().map(|e| e.event_type).collect();
    (types, figures.early.iter().sum(), reads(&sim, DETAIL))
}

#[tokio::test(start_paused = true)]
async fn spare_budget_finds_an_activation_hours_before_the_lifecycle_cadence() {
    use EventType::{Activated, Delivered, Installed};
    let (types, early, details) = activation_seen(Duration::from_secs(10 * MIN)).await;
    assert_eq!(types, [Delivered, Installed, Activated]);
    // One early read every 10 min after the install, until the activation is seen.
    assert!((2..=4).contains(&early), "{early} early reads");
    assert!(details <= 2 + early, "{details} detail reads");
    let (types, early, _) = activation_seen(Duration::ZERO).await;
    assert_eq!(
        types,
        [Delivered, Installed],
        "lifecycle alone looks after 6 h"
    );
    assert_eq!(early, 0);
}

/// 40 orders that never install overload install-fast (80 reads/min wanted of a 60/min
/// budget) for 10 minutes; 5 others install at once and want a lifecycle check every minute.
async fn overloaded(share: f64) -> esim_bridge::ingest::poller::Figures {
    let run = Run::start(SimConfig::default(), 60, |c| {
        c.reserved_share = share;
        c.cadence.lifecycle = Duration::from_secs(MIN);
        c.cadence.early_check = Duration::ZERO;
    });
    for _ in 0..5 {
        let installs = OrderPlan::delivered(Some(Duration::from_secs(1)), None);
        run.sim.create_order(order(installs)).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for _ in 0..40 {
        run.sim.create_order(order(never_installs())).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(9 * MIN)).await;
    let (sim, _, figures) = run.finish().await;
    assert_eq!(sim.counters().throttled, 0);
    let [fulfilment, discovery, ..] = figures.max_late;
    assert!(fulfilment <= Duration::from_secs(1), "{figures:?}");
    assert!(discovery <= Duration::from_secs(1), "{figures:?}");
    figures
}

#[tokio::test(start_paused = true)]
async fn a_reserved_share_keeps_lifecycle_checks_moving_while_install_fast_is_overloaded() {
    let lifecycle = 4; // Class::Lifecycle
    let strict = overloaded(0.0).await;
    let shared = overloaded(0.25).await;
    assert_eq!(strict.reserved, 0);
    assert!(strict.served[lifecycle] <= 5, "{strict:?}");
    assert!(shared.reserved >= 30, "{shared:?}");
    assert!(shared.served[lifecycle] >= 30, "{shared:?}");
    assert!(
        shared.max_late[lifecycle] < strict.stretch[lifecycle],
        "{shared:?}"
    );
}

/// 100 eSIMs in use, their expiry watch every minute, on a 60 reads/min budget (36 once the
/// lists have theirs): the lifecycle class's mean lateness, how late it is at the end, and
/// the detail reads, in 30 minutes.
async fn watched(learned: bool) -> (Duration, Duration, u64) {
    let run = Run::start(SimConfig::default(), 60, |c| {
        c.cadence.lifecycle = Duration::from_secs(MIN);
        c.cadence.early_check = Duration::ZERO;
        c.cadence.learned = learned;
    });
    for _ in 0..100 {
        let in_use =
            OrderPlan::delivered(Some(Duration::from_secs(1)), Some(Duration::from_secs(2)));
        run.sim.create_order(order(in_use)).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(30 * MIN)).await;
    let (sim, events, figures) = run.finish().await;
    assert_eq!(sim.counters().throttled, 0);
    let activated = events
        .iter()
        .filter(|e| e.event_type == EventType::Activated);
    assert_eq!(activated.count(), 100, "every activation found");
    let lifecycle = 4; // Class::Lifecycle
    let mean = figures.total_late[lifecycle] / figures.served[lifecycle].max(1) as u32;
    (mean, figures.stretch[lifecycle], reads(&sim, DETAIL))
}

#[tokio::test(start_paused = true)]
async fn an_expiry_watch_past_its_share_is_spread_out_instead_of_running_late() {
    // The fixed cadences want 100 reads a minute for the watch alone: every read of the
    // lifecycle class (the activation waits' too) queues behind it.
    let (ladder_mean, ladder_end, ladder_reads) = watched(false).await;
    assert!(ladder_mean >= Duration::from_secs(30), "{ladder_mean:?}");
    assert!(ladder_end >= Duration::from_secs(30), "{ladder_end:?}");
    // The learned schedule gives the watch a quarter of the reads and spaces it to fit.
    let (mean, end, details) = watched(true).await;
    assert!(mean <= Duration::from_secs(10), "{mean:?}");
    assert!(end <= Duration::from_secs(5), "{end:?}");
    assert!(details < ladder_reads / 2, "{details} vs {ladder_reads}");
}
