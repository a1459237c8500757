//! The NATS side of the poller: where its results go and what it shares with other replicas.
//!
//! - [`outlet`]: the engine's `Outlet` port filled with NATS (events to JetStream, awaiting every
//!   ack, then state to KV).
//! - [`state`]: the KV bucket: the discovery cursor and one key per tracked order.
//! - [`quarantine`]: orders set aside for good, stored in the same bucket.
//! - [`lease`]: exactly one active poller across replicas (a compare-and-set key).
//! - [`follow`]: the events stream followed, so webhook-sourced events reach the engine.

pub mod follow;
pub mod lease;
pub mod outlet;
pub mod quarantine;
pub mod state;

pub use outlet::NatsOutlet;
pub use state::{StateError, StateStore, StoredOrder};
