#![doc = include_str!("../README.md")]
//!
//! ## Inside the crate
//!
//! What a consumer needs to read the stream, and nothing of how the bridge builds it:
//! [`schema`] (the event, its id, subject and headers), [`cloudevents`] (its CloudEvents
//! attributes as `ce-*` headers), [`order`] (the order snapshot in `data`), [`key`], [`iccid`]
//! and [`subject`] (subject tokens, subjects and filters), [`lifecycle`] (the types and their
//! causal order), [`timestamp`], [`json_fault`]. Pure functions, no I/O. The producer side
//! (normalisation of the provider's data, activation-code redaction) is the bridge's own crate
//! `esim-normalise`.

pub mod cloudevents;
pub mod iccid;
pub mod json_fault;
pub mod key;
pub mod lifecycle;
pub mod order;
pub mod schema;
pub mod subject;
pub mod timestamp;

pub use iccid::{Iccid, IccidError};
pub use json_fault::JsonFault;
pub use key::{EventKey, KeyError};
pub use lifecycle::EventType;
pub use order::{Decimal, OrderData, Rejected};
pub use schema::{Event, Source, SCHEMA_VERSION};
pub use subject::{Prefix, Subject, SubjectError};
pub use timestamp::Timestamp;

#[cfg(test)]
mod schema_compat_tests;
#[cfg(test)]
mod schema_tests;
/// Property-test helpers (both sides of a branch counted), shared with `esim-normalise`'s tests
/// through the `test-support` feature; not part of the consumer's interface.
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod test_branches;
