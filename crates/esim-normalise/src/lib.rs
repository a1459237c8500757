//! The producer side of the `esim.*` events, the bridge's own: what the provider sent turned
//! into [`esim_events::Event`]s, with activation codes removed. Both ingest adapters (webhook
//! and poller) go through here, so the same lifecycle transition gets the same id, subject and
//! payload whichever source saw it. Consumers depend on `esim-events` alone.
//!
//! - [`normalise`]: webhook envelopes and snapshot diffs to events, predecessors inferred.
//! - [`fields`]: the allowlisted, validated order snapshot ([`parse_order`]).
//! - [`redact`], [`scan`], [`decode`], [`codecs`], [`noise`], [`text`]: activation-code removal
//!   and detection in any encoding; [`checked_payload`]: an event's payload, scanned once more
//!   before it leaves.
//!
//! Pure functions, no I/O.

mod alphabet;
pub mod codecs;
pub mod decode;
pub mod fields;
pub mod noise;
pub mod normalise;
mod pattern;
mod payload;
mod precheck;
pub mod redact;
pub mod scan;
pub mod text;

pub use fields::parse_order;
pub use payload::{checked_payload, PayloadError};

#[cfg(test)]
mod ordinary_tests;
#[cfg(test)]
mod redact_tests;
#[cfg(test)]
mod scan_oracle_tests;
#[cfg(test)]
mod test_oracle;
#[cfg(test)]
pub(crate) mod tests;
