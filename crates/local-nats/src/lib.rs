//! The one `nats-server` launcher of the project, shared by the demo (`esim-bridge demo`), the
//! integration tests (`tests/it/support/fixture`) and the benchmarks: find and check the binary,
//! start it with JetStream on free loopback ports and a temp store, wait until it serves, kill
//! and clean up on drop. Not part of the bridge: the production build (without the `demo`
//! feature) does not link it, and the bridge itself only ever connects to a server an operator
//! runs.
//!
//! - [`binary`]: `$NATS_SERVER_BIN` or `nats-server` on `PATH`, its `--version` checked (>= 2.11).
//! - [`process`]: one spawned `nats-server` process (any arguments, e.g. `-c <conf>`), SIGKILLed
//!   and reaped on drop.
//! - [`probe`]: readiness checks against a server's client and monitoring ports, run on the
//!   blocking pool with wall-clock deadlines (so they also work under `tokio::time::pause()`).
//! - [`server`]: [`NatsServer`], a server with JetStream in its own temp directory: start (fresh
//!   ports, retried if one was taken), stop, restart on the same ports and store.

pub mod binary;
pub mod probe;
pub mod process;
pub mod server;
mod store;

pub use binary::{NatsBinary, INSTALL_HINT};
pub use probe::{wait_until, Probe, WaitError};
pub use process::{NatsProcess, Output};
pub use server::{free_ports, Launch, NatsServer};

/// Why a server could not be found, started or made ready.
#[derive(Debug, thiserror::Error)]
pub enum NatsServerError {
    #[error("nats-server (>= 2.11) not found on PATH; {INSTALL_HINT}")]
    NotFound,
    #[error("{path} is not usable ({reason}); nats-server >= 2.11 is needed; {INSTALL_HINT}")]
    Unusable { path: String, reason: String },
    #[error("cannot prepare the store directory {path}: {source}")]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot find free loopback ports: {0}")]
    Ports(#[source] std::io::Error),
    #[error("cannot start {path}: {source}")]
    Spawn {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("nats-server {name} did not start: {reason}\n{log}")]
    NotReady {
        name: String,
        reason: String,
        log: String,
    },
    #[error("interrupted while nats-server was starting")]
    Cancelled,
}
