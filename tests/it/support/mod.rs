//! What the scenarios share; no test lives here. The scenario files are the siblings of this
//! folder (`tests/it/<area>.rs`); anything two of them (or a bench) need goes here.
//!
//! - [`fixture`]: real `nats-server` processes (one, or a routed cluster), built on the bridge's
//!   own launcher `local_nats` (the one the demo uses).
//! - [`bridge`]: an in-process bridge, a signer that signs like the provider, a log capture, and
//!   a reader of the events stream.
//! - [`poller`]: the simulator on a real port, a poller config in milliseconds, and positive
//!   markers to wait on (the stream reached a state, the poller read again, webhooks settled).
//! - [`hostile`]: a scripted provider on a real port that misbehaves on purpose (404s,
//!   endless or oversized pages, unsendable tokens).
//! - [`replay`]: a deterministic event mix published in batches, replays into memory.
//! - [`slow`]: the bridge binary as a child process, raw-TCP clients for slow-client attacks.
//! - [`chaos`], [`chaos_load`], [`chaos_watch`], [`chaos_report`]: bridge replicas as processes,
//!   the load and feeder they face, what is watched from outside, and the verdict.
//! - [`cluster_load`]: an open-loop webhook load that proves nothing was lost across failures.
//! - [`deploy_nats`]: the shipped `deploy/nats/` configs run as real servers.
//! - [`container_stack`]: the containerised pipeline (images built from this repo).
//! - [`python`]: whether a Python program's modules are there (skip, or fail when required).
//! - [`prometheus`]: a real Prometheus loaded with the project's rules.
//! - [`schema`]: the strict, published and frozen-v1 event schemas every stored event must pass.
//! - [`audit`]: an in-process audit into memory, and gaps made on purpose (purge, inject).
pub mod audit;
pub mod bridge;
pub mod chaos;
pub mod chaos_load;
pub mod chaos_report;
pub mod chaos_watch;
pub mod cluster_load;
pub mod container_stack;
pub mod deploy_nats;
pub mod fixture;
pub mod hostile;
pub mod poller;
pub mod prometheus;
pub mod python;
pub mod replay;
pub mod schema;
pub mod slow;

/// A loopback port free right now (for a listener the test starts itself).
pub fn free_port() -> u16 {
    local_nats::free_ports(1).expect("a free loopback port")[0]
}
