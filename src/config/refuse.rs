//! How a validation rule refuses a value: [`bad`] names the key and says why; [`positive`] is
//! the common rule for durations; [`Refusals`] keeps every refusal of a pass, so the operator
//! sees all of them at once. Shared by every `validate*` module.

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

/// Every refusal of one validation pass.
#[derive(Default)]
pub(super) struct Refusals(Vec<ConfigError>);

impl Refusals {
    /// Keeps `r`'s refusal, if any; validation goes on with the next rule.
    pub(super) fn check(&mut self, r: Result<(), ConfigError>) {
        if let Err(e) = r {
            self.0.push(e);
        }
    }

    /// `Ok` if nothing was refused, else one error holding every refusal.
    pub(super) fn into_result(self) -> Result<(), ConfigError> {
        ConfigError::all(self.0)
    }
}
