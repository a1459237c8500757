//! esim-bridge turns an eSIM provider's order and lifecycle changes into one normalised,
//! replayable stream of `esim.*` events on NATS JetStream, keyed by ICCID, with activation
//! codes stripped.
//!
//! The data flow reads top-down:
//!
//! - [`config`]: defaults < TOML file < `ESIM_BRIDGE_*` environment, validated, secrets masked.
//! - [`ingest`]: the adapters that own I/O towards the provider. [`ingest::webhook`] verifies
//!   signed webhooks on their raw bytes; the poller reads the orders API within a read budget.
//! - [`event`] (the `esim-events` crate, re-exported): pure functions, no I/O. Normalises what an adapter saw into [`event::Event`]s
//!   with deterministic ids and subjects, emits implied earlier steps first (causal order per
//!   ICCID), and strips activation codes by key and by LPA pattern.
//! - [`publish`]: the one way out. One message per subject ever (`Nats-Msg-Id` +
//!   expected-last-subject-sequence 0), so both adapters, retries and replicas are safe.
//! - [`admin`] and [`telemetry`]: health, readiness, Prometheus metrics, logs.
//! - [`server`]: HTTP/1 under hard limits (header timeout, request deadline, connection cap,
//!   load shedding, bounded buffers) for the webhook and admin listeners.
//! - [`app`]: wires the above for `serve`, under one shutdown token.
//! - [`tools`]: operator tools over the stream (`replay`, `tail`, `status`), NATS only.
//! - [`demo`]: `esim-bridge demo`, a throw-away nats-server + [`sim`] + [`app`], printing events.
//!   The nats-server launcher it uses (`nats_server`, hidden) is also the tests' and benches'.
//! - [`sim`] (the `esim-sim` crate, re-exported): the provider simulator behind `simulate`, the
//!   demo, the tests and the benchmarks.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod cli;
pub mod cli_docs;
pub mod config;
pub mod demo;
pub use esim_events as event;
#[doc(hidden)]
pub mod fuzzing;
pub mod healthcheck;
pub mod ingest;
#[doc(hidden)]
pub mod nats_server;
pub mod publish;
pub mod server;
pub mod tools;
pub use esim_sim as sim;
pub mod telemetry;
