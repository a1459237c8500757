//! How a validation rule refuses a value: [`bad`] names the key and says why; [`positive`] is
//! the common rule for durations. Shared by every `validate*` module.

use std::time::Duration;

use super::ConfigError;

/// Refuses `key` with `reason` (the message names the key, never its value).
pub(super) fn bad(key: &str, reason: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::invalid(key, reason))
}

pub(super) fn positive(key: &str, d: Duration) -> Result<(), ConfigError> {
    if d.is_zero() {
        return bad(key, "must be greater than zero");
    }
    Ok(())
}
