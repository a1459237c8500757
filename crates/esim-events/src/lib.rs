#![doc = include_str!("../README.md")]
//!
//! ## Inside the bridge
//!
//! Both ingest adapters (webhook and poller) turn what they observed into [`Event`]s here, so
//! the same lifecycle transition gets the same id, subject and payload whichever source saw it:
//! [`normalise`] (webhook envelopes and snapshot diffs to events, predecessors inferred),
//! [`order`] and [`fields`] (the allowlisted, validated order snapshot), [`redact`], [`scan`],
//! [`decode`] and [`codecs`] (activation-code removal and detection), [`schema`] (the event, its
//! id and headers), [`cloudevents`] (its CloudEvents attributes as `ce-*` headers), [`key`],
//! [`iccid`] and [`subject`] (subject tokens), [`lifecycle`] (the types and their causal order).
//! Pure functions, no I/O.

mod alphabet;
pub mod cloudevents;
pub mod codecs;
pub mod decode;
pub mod fields;
pub mod iccid;
pub mod json_fault;
pub mod key;
pub mod lifecycle;
pub mod noise;
pub mod normalise;
pub mod order;
mod pattern;
mod precheck;
pub mod redact;
pub mod scan;
pub mod schema;
pub mod subject;
pub mod text;
pub mod timestamp;

pub use iccid::{Iccid, IccidError};
pub use json_fault::JsonFault;
pub use key::{EventKey, KeyError};
pub use lifecycle::EventType;
pub use order::{Decimal, OrderData};
pub use schema::{Event, Source, SCHEMA_VERSION};
pub use subject::{Prefix, Subject, SubjectError};
pub use timestamp::Timestamp;

#[cfg(test)]
mod redact_tests;
#[cfg(test)]
mod scan_oracle_tests;
#[cfg(test)]
mod schema_compat_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod test_branches;
#[cfg(test)]
mod test_oracle;
#[cfg(test)]
pub(crate) mod tests;
