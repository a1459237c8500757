//! Small shared helpers: poison-tolerant locking and RFC 3339 timestamps as the provider writes them.

use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

/// Locks a mutex, recovering the data if a previous holder panicked: every critical section in
/// the simulator leaves its data consistent between statements, so a poisoned lock is still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Truncates to whole seconds in UTC, the precision the provider's timestamps carry.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.replace_nanosecond(0).unwrap_or(utc)
}

/// Formats as RFC 3339 UTC with whole seconds (`2026-05-15T14:30:32Z`).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    whole_seconds(t)
        .format(&time::format_description::well_known::Rfc3339)
        // Only years outside 0..=9999 fail to format; the simulator never produces them.
        .unwrap_or_default()
}
