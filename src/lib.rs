//! esim-bridge turns an eSIM provider's order and lifecycle changes into one normalised,
//! replayable stream of `esim.*` events on NATS JetStream, keyed by ICCID, with activation
//! codes stripped.
//!
//! The data flow reads top-down:
//!
//! - [`config`]: defaults < TOML file < `ESIM_BRIDGE_*` environment, validated, secrets masked.
//! - [`ingest`]: the two adapters. [`ingest::webhook`] verifies signed webhooks on their raw
//!   bytes; [`ingest::poller`] decides what to read within the read budget and turns what it
//!   saw into events.
//! - [`provider`]: the provider's API client (auth, transport, wire format, read budget), used
//!   by the poller and the audit.
//! - `esim_events` (its own crate): pure functions, no I/O. Normalises what an adapter saw into
//!   events with deterministic ids and subjects, emits implied earlier steps first (causal
//!   order per ICCID), and strips activation codes by key and by LPA pattern.
//! - [`publish`]: the one way out. One message per subject ever (`Nats-Msg-Id` +
//!   expected-last-subject-sequence 0), so both adapters, retries and replicas are safe.
//! - [`admin`] and [`telemetry`]: health, readiness, Prometheus metrics, logs; [`trace`] and
//!   [`otlp`]: W3C trace context on every stored message, spans exported over OTLP when asked.
//! - [`http`]: HTTP/1 under hard limits (header timeout, request deadline, connection cap,
//!   load shedding, bounded buffers) for the webhook and admin listeners.
//! - [`app`]: wires the above for `serve`, under one shutdown token.
//! - [`tools`]: operator tools over the stream (`replay`, `tail`, `status`, `audit`).
//! - [`cli`], [`exit`]: the command line and the one table of exit codes; [`reach`]:
//!   `check-config --connect`.
//! - `demo` (cargo feature `demo`, on by default, off in the production image):
//!   `esim-bridge demo` (a throw-away nats-server, the `esim-sim` simulator and [`app`]) and
//!   `esim-bridge simulate`.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod cli;
pub mod cli_docs;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exit;
pub mod healthcheck;
pub mod http;
pub mod ingest;
pub mod otlp;
pub mod provider;
pub mod publish;
pub mod reach;
pub mod telemetry;
pub mod tools;
pub mod trace;
