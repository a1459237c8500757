//! Ingest adapters: the two ways lifecycle changes reach the bridge.
//!
//! - [`webhook`]: the provider pushes signed webhooks; verified on the raw bytes, normalised,
//!   published, and only then answered 2xx.
//! - [`poller`]: the bridge polls the provider's orders API within a read budget and publishes
//!   the transitions it observes.
//!
//! Both hand [`esim_events::Event`]s to [`crate::publish::Publisher`]; neither knows the other.

pub mod poller;
pub mod webhook;
