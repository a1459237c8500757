//! When to look at a tracked order next, and at which priority (`upstream.cadence.*`).
//!
//! | phase | cadence |
//! |---|---|
//! | pending | none of its own: the `status=PENDING` list covers it |
//! | install | `install_fast` until `install_fast_for` after delivery, `install_slow` until `install_slow_until`, then `install_tail` until the validity would end |
//! | lifecycle | `lifecycle`, plus one check `after_expiry` past the expected expiry (first use + validity) |
//!
//! Anything delivered more than `give_up_after` ago is no longer tracked.

use std::time::Duration;

use time::OffsetDateTime;

use super::schedule::Class;
use super::tracked::{Phase, Tracked};
use crate::config::CadenceConfig;

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
        let age = Duration::from_secs(u64::try_from(now_s - delivered).unwrap_or(0));
        if t.phase != Phase::Pending && age >= self.c.give_up_after {
            return Next::Stop;
        }
        match t.phase {
            Phase::Pending => Next::List,
            Phase::Install => self.install(t, age, now),
            Phase::Lifecycle => self.lifecycle(t, now),
        }
    }

    fn install(&self, t: &Tracked, age: Duration, now: OffsetDateTime) -> Next {
        let c = &self.c;
        if age < c.install_fast_for {
            return Next::At(Class::InstallFast, now + c.install_fast);
        }
        if age < c.install_slow_until {
            return Next::At(Class::InstallSlow, now + c.install_slow);
        }
        let validity = t
            .validity_days
            .map(|d| Duration::from_secs(u64::from(d) * DAY as u64));
        if validity.is_some_and(|v| age >= v) {
            return Next::Stop;
        }
        Next::At(Class::InstallSlow, now + c.install_tail)
    }

    fn lifecycle(&self, t: &Tracked, now: OffsetDateTime) -> Next {
        let regular = now + self.c.lifecycle;
        let expiry_check = match (t.activated_at, t.validity_days) {
            (Some(at), Some(days)) => {
                OffsetDateTime::from_unix_timestamp(at + i64::from(days) * DAY)
                    .ok()
                    .map(|expiry| expiry + self.c.after_expiry)
            }
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
    use crate::event::EventType;
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
}
