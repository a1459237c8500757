//! The learned rule on the day's own delays ("rule, truth"): the product's [`Rates`] built
//! from every wait of the day (each ended in its event, or censored when the window ends),
//! with `c` bisected so the reads the day's orders take fit the bound' budget (the expiry
//! watch paid first). Reads are whole and follow `Rates::interval`; an activation wait is
//! walked from when its install was found, and an activation before that is found with the
//! install, as in the poller. So this is the schedule the poller would follow with a perfect
//! estimate and no other traffic: the gap between it and the bound is the rule's (whole reads,
//! and the install that hides an activation), the gap between it and the learned runs is the
//! estimate's and the runtime's.
//!
//! `crate::poller_offline` runs it on dumped days, in seconds instead of a day's simulation:
//! the loop for trying a change to the rule.

use std::time::Duration;

use esim_bridge::ingest::poller::{Learned, Rates, Wait};

use crate::poller_bound::{Bound, Waits};

/// Halvings of the bisection for `c` (over twelve decades).
const HALVINGS: usize = 50;
const C_RANGE: (f64, f64) = (1e-6, 1e6);

/// One class walked under `rates`: its reads in the window, each event's (age, delay), and
/// per member the age its event was found at. Each member is walked from its `start` age (0
/// without `starts`; `None`: not walked); an event before the start is found at it.
struct Walked {
    reads: f64,
    events: Vec<(f64, f64)>,
    found: Vec<Option<f64>>,
}

fn walk(
    interval: impl Fn(f64) -> Option<f64>,
    waits: &Waits,
    starts: Option<&[Option<f64>]>,
) -> Walked {
    let mut out = Walked {
        reads: 0.0,
        events: Vec::new(),
        found: Vec::new(),
    };
    for (k, m) in waits.members.iter().enumerate() {
        let event = m.before_end();
        let start = starts.map_or(Some(0.0), |s| s.get(k).copied().flatten());
        let mut found = None;
        let mut age = start.unwrap_or(f64::INFINITY);
        while let Some(step) = start.and_then(|_| interval(age)) {
            if let Some(d) = event.filter(|d| *d <= age) {
                // Only events inside the window are measured (a wait of the day before is
                // walked from its start all the same, for when its event is found).
                if m.event().is_some() {
                    out.events.push((d, age - d));
                }
                found = Some(age);
                break;
            }
            age += step;
            // Past the window its reads are not counted, but an event in it is still found
            // (the learned runs drain after the window too); before it (the warm-up) neither.
            if age > m.to && event.is_none() {
                break;
            }
            if m.from <= age && age <= m.to {
                out.reads += 1.0;
            }
        }
        out.found.push(found);
    }
    out
}

/// Both classes under `rates`: the reads, and each class's (age, delay) per event.
fn walk_both(rates: &Rates, classes: [&Waits; 2]) -> (f64, [Vec<(f64, f64)>; 2]) {
    let interval = |wait| move |age| rates.interval(wait, age).map(|d| d.as_secs_f64());
    walk_with(
        [interval(Wait::Install), interval(Wait::Activation)],
        classes,
    )
}

/// Both classes, each read at the intervals its function gives at an age: the reads, and
/// each class's (age, delay) per event.
pub fn walk_with(
    [install_at, activation_at]: [impl Fn(f64) -> Option<f64>; 2],
    [install, activation]: [&Waits; 2],
) -> (f64, [Vec<(f64, f64)>; 2]) {
    let installs = walk(install_at, install, None);
    // An activation wait (one per install inside the window, in the same order) starts at its
    // install's age when that install was found.
    let starts: Vec<Option<f64>> = install
        .members
        .iter()
        .zip(&installs.found)
        .filter_map(|(m, found)| {
            let d = m.delay.filter(|d| *d < m.to)?;
            Some(found.map(|f| (f - d).max(0.0)))
        })
        .collect();
    let activations = walk(activation_at, activation, Some(&starts));
    (
        installs.reads + activations.reads,
        [installs.events, activations.events],
    )
}

/// The day's waits as the poller would have learned them, every one ended.
pub fn learned(classes: [&Waits; 2]) -> Learned {
    let mut learned = Learned::default();
    for (wait, waits) in Wait::ALL.into_iter().zip(classes) {
        for m in &waits.members {
            match m.before_end() {
                Some(d) => learned.get_mut(wait).event(d),
                None => learned.get_mut(wait).censored(m.to),
            }
        }
    }
    learned
}

/// The rule's delays for installs and activations with `budget` reads for both, intervals
/// within `bounds` (`install_fast`, `install_tail`).
pub fn rule(classes: [&Waits; 2], budget: f64, bounds: (Duration, Duration)) -> Vec<Option<Bound>> {
    rule_on(&learned(classes), classes, budget, bounds)
}

/// The same with the hazards of `learned` (a learned run's own estimate, "rule, learnt"): the
/// gap from `rule, truth` to it is the estimate's, from it to the learned run the runtime's.
pub fn rule_on(
    learned: &Learned,
    classes: [&Waits; 2],
    budget: f64,
    bounds: (Duration, Duration),
) -> Vec<Option<Bound>> {
    let reads = |c: f64| walk_both(&Rates::at(learned, c, bounds), classes).0;
    let (mut cheap, mut dear) = (C_RANGE.0.ln(), C_RANGE.1.ln());
    for _ in 0..HALVINGS {
        let mid = (cheap + dear) / 2.0;
        if reads(mid.exp()) > budget {
            dear = mid;
        } else {
            cheap = mid;
        }
    }
    let (_, both) = walk_both(&Rates::at(learned, cheap.exp(), bounds), classes);
    both.into_iter().map(Bound::of_events).collect()
}
