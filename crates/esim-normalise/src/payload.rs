//! An event's payload as it may leave the bridge: serialised by `esim-events`, then checked
//! once more for activation-code material (every key and string, through every decoding the
//! scan knows), so no code reaches the stream whatever the normalisation missed.

use esim_events::schema::SchemaError;
use esim_events::Event;

use super::redact::{self, Leak};
use super::scan;

/// Why an event's payload may not leave.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Leak(#[from] Leak),
}

/// The JSON payload of `event`, refused if it holds an activation code.
pub fn checked_payload(event: &Event) -> Result<Vec<u8>, PayloadError> {
    let bytes = event.to_payload()?;
    if !scan::plainly_clean(&bytes) {
        let value = serde_json::to_value(event).map_err(SchemaError::from)?;
        if let Some(leak) = redact::find_leak(&value) {
            return Err(leak.into());
        }
    }
    Ok(bytes)
}
