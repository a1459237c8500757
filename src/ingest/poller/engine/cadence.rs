//! When to look at a tracked order next, and at which priority (`upstream.cadence.*`).
//!
//! | phase | cadence |
//! |---|---|
//! | pending | none of its own: the `status=PENDING` list covers it |
//! | install | `install_fast` until `install_fast_for` after delivery, `install_slow` until `install_slow_until`, then `install_tail` until the validity would end |
//! | lifecycle | `lifecycle`, plus one check `after_expiry` past the expected expiry (first use + validity) |
//!
//! Anything delivered more than `give_up_after` ago is no longer tracked.
//!
//! On top of that, [`Cadence::early`]: orders waiting for something the slow cadences would
//! find hours late (an install after `install_fast_for`, an activation) may be read
//! `early_check` (or a quarter of their age, if longer) after their last read when the budget
//! has spare room.
//!
//! All date arithmetic is checked ([`later`], `checked_*`): stored or provider dates far in the
//! future make a check due "much later", never an overflow.

use std::time::Duration;

use time::OffsetDateTime;

use super::schedule::Class;
use crate::config::CadenceConfig;
use crate::ingest::poller::tracked::{Phase, Tracked};
use crate::provider::clock::later;
use esim_events::EventType;

const DAY: i64 = 86_400;

/// What to do with an order after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Still PENDING: the pending list watches it.
    List,
    /// Read its detail at this time and priority.
    At(Class, OffsetDateTime),
    /// Nothing more to watch.
    Stop,
}

/// The configured cadences.
#[derive(Debug, Clone)]
pub struct Cadence {
    c: CadenceConfig,
}

impl Cadence {
    pub fn new(c: CadenceConfig) -> Self {
        Self { c }
    }

    pub fn config(&self) -> &CadenceConfig {
        &self.c
    }

    /// The next look at `t`, decided at `now`.
    pub fn next(&self, t: &Tracked, now: OffsetDateTime) -> Next {
        if t.is_done() {
            return Next::Stop;
        }
        let now_s = now.unix_timestamp();
        let delivered = t.delivered_at.unwrap_or(now_s);
        let age = Duration::from_secs(u64::try_from(now_s.saturating_sub(delivered)).unwrap_or(0));
        if t.phase != Phase::Pending && age >= self.c.give_up_after {
            return Next::Stop;
        }
        match t.phase {
            Phase::Pending => Next::List,
            Phase::Install => self.install(t, age, now),
            Phase::Lifecycle => self.lifecycle(t, now),
        }
    }

    /// From when `t`, just read at `now` and next due per `next`, is worth an early read on
    /// spare budget: only while it waits for a late install or for its activation, spaced by
    /// `early_check` or a quarter of its age since delivery, whichever is longer (transitions
    /// grow unlikely with age, so spare reads go to fresh orders first), and only if that
    /// comes before its regular next read.
    pub fn early(&self, t: &Tracked, next: Next, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let Next::At(class, due) = next else {
            return None;
        };
        let waiting = match t.phase {
            Phase::Install => class == Class::InstallSlow,
            Phase::Lifecycle => t.latest == Some(EventType::Installed),
            Phase::Pending => false,
        };
        let age = t.delivered_at.map_or(Duration::ZERO, |d| {
            Duration::from_secs(u64::try_from(now.unix_timestamp().saturating_sub(d)).unwrap_or(0))
        });
        let from = later(now, self.c.early_check.max(age / 4));
        (waiting && !self.c.early_check.is_zero() && from < due).then_some(from)
    }

    /// The ladder's install cadence at `age` since delivery, and its class (validity aside).
    pub fn install_ladder(&self, age: Duration) -> (Class, Duration) {
        let c = &self.c;
        if age < c.install_fast_for {
            (Class::InstallFast, c.install_fast)
        } else if age < c.install_slow_until {
            (Class::InstallSlow, c.install_slow)
        } else {
            (Class::InstallSlow, c.install_tail)
        }
    }

    fn install(&self, t: &Tracked, age: Duration, now: OffsetDateTime) -> Next {
        let c = &self.c;
        if age < c.install_slow_until {
            let (class, every) = self.install_ladder(age);
            return Next::At(class, later(now, every));
        }
        let validity = t
            .validity_days
            .map(|d| Duration::from_secs(u64::from(d) * DAY as u64));
        if validity.is_some_and(|v| age >= v) {
            return Next::Stop;
        }
        Next::At(Class::InstallSlow, later(now, c.install_tail))
    }

    fn lifecycle(&self, t: &Tracked, now: OffsetDateTime) -> Next {
        self.watch(t, now, self.c.lifecycle)
    }

    /// The next look at an installed eSIM read every `every` (`lifecycle` unless the learned
    /// schedule stretched the expiry watch to fit its share, see `learn`), and once just
    /// after its expected expiry whatever `every` is.
    pub fn watch(&self, t: &Tracked, now: OffsetDateTime, every: Duration) -> Next {
        let regular = later(now, every);
        let expiry_check = match (t.activated_at, t.validity_days) {
            (Some(at), Some(days)) => at
                .checked_add(i64::from(days) * DAY)
                .and_then(|expiry| OffsetDateTime::from_unix_timestamp(expiry).ok())
                .map(|expiry| later(expiry, self.c.after_expiry)),
            _ => None,
        };
        let due = match expiry_check {
            Some(check) if check > now => regular.min(check),
            _ => regular,
        };
        Next::At(Class::Lifecycle, due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn delivered_at(t0: OffsetDateTime) -> Tracked {
        let mut t = Tracked::new();
        t.step(EventType::Delivered, Some(t0.unix_timestamp()));
        t.validity_days = Some(7);
        t
    }

    #[test]
    fn install_checks_slow_down_with_age_and_stop_when_validity_ends() {
        let cadence = Cadence::new(CadenceConfig::default());
        let t0 = datetime!(2026-05-15 12:00 UTC);
        let t = delivered_at(t0);
        let at = |mins: i64| cadence.next(&t, t0 + time::Duration::minutes(mins));
        let m = |mins: i64| t0 + time::Duration::minutes(mins);
        assert_eq!(
            at(0),
            Next::At(Class::InstallFast, t0 + time::Duration::seconds(30))
        );
        assert_eq!(at(10), Next::At(Class::InstallSlow, m(15)));
        assert_eq!(at(70), Next::At(Class::InstallSlow, m(70 + 360)));
        assert_eq!(at(7 * 24 * 60), Next::Stop);
        assert_eq!(cadence.next(&Tracked::new(), t0), Next::List);
    }

    #[test]
    fn lifecycle_adds_one_check_just_after_the_expected_expiry() {
        let cadence = Cadence::new(CadenceConfig::default());
        let t0 = datetime!(2026-05-15 12:00 UTC);
        let mut t = delivered_at(t0);
        t.step(EventType::Activated, Some(t0.unix_timestamp()));
        let expiry = t0 + time::Duration::days(7);
        let before = expiry - time::Duration::hours(1);
        let check = expiry + time::Duration::minutes(1);
        assert_eq!(cadence.next(&t, before), Next::At(Class::Lifecycle, check));
        let after = check + time::Duration::seconds(1);
        let regular = after + time::Duration::hours(6);
        assert_eq!(cadence.next(&t, after), Next::At(Class::Lifecycle, regular));
        assert_eq!(cadence.next(&t, t0 + time::Duration::days(91)), Next::Stop);
        t.step(EventType::Depleted, None);
        assert_eq!(cadence.next(&t, before), Next::Stop);
    }

    #[test]
    fn dates_at_the_end_of_time_schedule_late_checks_instead_of_overflowing() {
        let cadence = Cadence::new(CadenceConfig::default());
        let t0 = datetime!(2026-05-15 12:00 UTC);
        let mut t = delivered_at(t0);
        t.step(EventType::Activated, Some(t0.unix_timestamp()));
        t.validity_days = Some(0);
        t.activated_at = Some(datetime!(9999-12-31 23:59:30 UTC).unix_timestamp());
        let regular = t0 + time::Duration::hours(6);
        assert_eq!(cadence.next(&t, t0), Next::At(Class::Lifecycle, regular));
        t.activated_at = Some(i64::MAX);
        t.delivered_at = Some(i64::MIN);
        assert_eq!(cadence.next(&t, t0), Next::Stop);
        let huge = Cadence::new(CadenceConfig {
            lifecycle: Duration::MAX,
            ..CadenceConfig::default()
        });
        let mut t = delivered_at(t0);
        t.step(EventType::Activated, None);
        assert!(matches!(huge.next(&t, t0), Next::At(Class::Lifecycle, _)));
    }

    #[test]
    fn early_checks_only_for_late_installs_and_activations_before_the_next_read() {
        let cadence = Cadence::new(CadenceConfig::default());
        let t0 = datetime!(2026-05-15 12:00 UTC);
        let mut t = delivered_at(t0);
        let early = |t: &Tracked, mins: i64| {
            let now = t0 + time::Duration::minutes(mins);
            cadence.early(t, cadence.next(t, now), now)
        };
        let m = |mins: i64| Some(t0 + time::Duration::minutes(mins));
        assert_eq!(early(&t, 1), None, "install-fast: due in 30 s anyway");
        assert_eq!(early(&t, 20), None, "install-slow: due in 5 min anyway");
        assert_eq!(
            early(&t, 80),
            m(100),
            "install tail: a quarter of its age, not 6 h"
        );
        t.step(EventType::Installed, Some(t0.unix_timestamp()));
        assert_eq!(
            early(&t, 30),
            m(40),
            "waiting for activation: at least early_check"
        );
        assert_eq!(early(&t, 16 * 60), m(20 * 60));
        assert_eq!(
            early(&t, 24 * 60),
            None,
            "a quarter of a day is the lifecycle cadence"
        );
        t.step(EventType::Activated, Some(t0.unix_timestamp()));
        assert_eq!(early(&t, 100), None, "active: the expiry is predicted");
        assert_eq!(cadence.early(&Tracked::new(), Next::List, t0), None);
        let off = Cadence::new(CadenceConfig {
            early_check: Duration::ZERO,
            ..CadenceConfig::default()
        });
        let now = t0 + time::Duration::minutes(80);
        let mut waiting = delivered_at(t0);
        waiting.step(EventType::Installed, None);
        assert_eq!(off.early(&waiting, off.next(&waiting, now), now), None);
    }
}
