//! Helpers for property tests with a branch: a property with an `if` proves something only if
//! both sides ran, so these tests count each side and require a floor for both, and generate
//! near-valid input (valid values, and valid values with one mutation) so both sides do run.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// How often each side of a property's branch ran.
#[derive(Default)]
pub struct Branches {
    taken: AtomicUsize,
    other: AtomicUsize,
}

impl Branches {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one case: `taken` or the other side.
    pub fn count(&self, taken: bool) {
        let c = if taken { &self.taken } else { &self.other };
        c.fetch_add(1, Relaxed);
    }

    /// Panics unless each side ran at least `at_least` times.
    pub fn require_both(self, what: &str, at_least: usize) {
        let (t, o) = (self.taken.into_inner(), self.other.into_inner());
        assert!(t >= at_least && o >= at_least, "{what}: {t} taken, {o} not");
    }
}

/// A runner for a counted property (`proptest!` cannot report across cases).
pub fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config::with_cases(cases))
}

/// `valid` as generated (two cases in five), or with one mutation: a character replaced by,
/// or inserted as, one from `junk`, or removed.
pub fn mutated(
    valid: BoxedStrategy<String>,
    junk: BoxedStrategy<char>,
) -> impl Strategy<Value = String> {
    (valid, 0..5u8, any::<prop::sample::Index>(), junk).prop_map(|(v, how, at, c)| {
        let mut chars: Vec<char> = v.chars().collect();
        let i = at.index(chars.len().max(1));
        match how {
            0 | 1 => {}
            2 if !chars.is_empty() => chars[i] = c,
            3 => chars.insert(i.min(chars.len()), c),
            _ if !chars.is_empty() => {
                chars.remove(i);
            }
            _ => chars.push(c),
        }
        chars.into_iter().collect()
    })
}
