//! A model of the eSIM provider, for esim-bridge's demo, tests and benchmarks: an in-process
//! HTTP server that answers the provider's documented API (see `upstream-api.md`) the way the
//! provider does, and sends its signed `esim.*` webhooks.
//!
//! What it models:
//! - **Orders and their lives**: each order follows a scripted or seeded-random plan
//!   ([`OrderPlan`], [`Outcome`]): pending, then delivered, failed or cancelled; then installed,
//!   activated and expired. Status transitions are stored as they happen; install and activation
//!   state only when a detail `GET /orders/:id` refreshes it, as the provider's does. The list
//!   endpoint never refreshes, sorts newest first, filters by status and pages with headers.
//! - **Auth**: login with 1 h access tokens and rotating 7-day refresh tokens.
//! - **The read budget**: one rolling window shared by all reads, answering 429 with
//!   `Retry-After` in seconds.
//! - **Faults**: injected 5xx, latency and 429 storms ([`FaultConfig`]), and garbage answers
//!   (malformed, absurd, huge: [`GarbageKind`]).
//! - **Time**: a [`SimClock`] that runs faster than the wall clock, can be advanced by hand, and
//!   is virtual under `tokio::time::pause()`.
//! - **Webhooks**: the signed `esim.*` sender ([`WebhookConfig`], [`octopus_signature`]).
//!
//! The surface is [`spawn`] (or [`router`] on a [`SimState`] for a test's own listener), its
//! [`SimConfig`], the in-process control surface on [`SimState`] (the same operations the
//! `/_sim/` HTTP routes offer: script orders, inject faults, read [`CountersSnapshot`] and the
//! [`Transition`]s made so far), and [`simulate`] for `esim-bridge simulate` and `esim-sim`. Everything else is
//! private to the crate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), esim_sim::SimError> {
//! use esim_sim::{spawn, OrderPlan, ScriptedOrder, SimConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let sim = spawn(SimConfig::default(), listener, shutdown.clone()).await?;
//! let order = sim.create_order(ScriptedOrder { plan: OrderPlan::default(), ..Default::default() });
//! println!("{} {:?}", sim.base_url(), order.map(|o| o.id));
//! shutdown.cancel();
//! # Ok(()) }
//! ```

mod api;
mod args;
mod auth;
mod catalog;
mod clock;
mod config;
mod control;
mod counters;
mod error;
mod events;
mod faults;
mod garbage;
mod ids;
mod lifecycle_draw;
mod lock;
mod order;
mod plan;
mod ratelimit;
mod sign;
mod state;
mod store;
mod transitions;
mod webhook;
mod workload;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use args::{simulate, SimulateArgs};
pub use catalog::Product;
pub use clock::SimClock;
pub use config::{Envelope, Secret, SimConfig};
pub use counters::{CountersSnapshot, WebhookCounters};
pub use error::SimError;
pub use faults::FaultConfig;
pub use garbage::GarbageKind;
pub use lifecycle_draw::lognormal;
pub use order::OrderStatus;
pub use plan::{ActivationStatus, Failure, OrderPlan, Outcome};
pub use sign::octopus_signature;
pub use state::{CreateError, OrderTruth, ScriptedOrder, SimState};
pub use store::StoreError;
pub use transitions::Transition;
pub use webhook::WebhookConfig;
pub use workload::WorkloadConfig;
pub use workload::{Arrival, Generator as Arrivals};

/// The full HTTP surface: provider API plus `/_sim/` control routes.
pub fn router(state: SimState) -> Router {
    control::control_routes(state.clone()).merge(api::provider_routes(state))
}

/// A running simulator. Dereferences to [`SimState`] for the in-process control surface.
#[derive(Debug, Clone)]
pub struct SimHandle {
    addr: SocketAddr,
    state: SimState,
    tasks: TaskTracker,
}

impl SimHandle {
    /// Where the API listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the `upstream.base_url` a bridge should use.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Waits until the server and background tasks have stopped (after shutdown).
    pub async fn stopped(&self) {
        self.tasks.wait().await;
    }
}

impl std::ops::Deref for SimHandle {
    type Target = SimState;

    fn deref(&self) -> &SimState {
        &self.state
    }
}

/// Starts serving `cfg` on `listener` plus the workload and webhook tasks, until `shutdown`.
pub async fn spawn(
    cfg: SimConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<SimHandle, SimError> {
    let state = SimState::new(cfg)?;
    let addr = listener.local_addr()?;
    let tasks = TaskTracker::new();
    let sender = webhook::Sender::new(state.clone(), tasks.clone(), shutdown.clone())?;
    start_background(&state, &tasks, &shutdown, sender);
    let app = router(state.clone());
    let stop = shutdown.clone();
    tasks.spawn(
        async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "simulator server stopped");
            }
        }
        .instrument(tracing::info_span!("sim_server", %addr)),
    );
    tasks.close();
    tracing::info!(%addr, "upstream simulator listening");
    Ok(SimHandle { addr, state, tasks })
}

/// Spawns the workload and (when configured) webhook tasks for `state` on `tasks`.
fn start_background(
    state: &SimState,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
    sender: Option<webhook::Sender>,
) {
    tasks.spawn(
        workload::create_orders(state.clone(), shutdown.clone())
            .instrument(tracing::info_span!("sim_workload")),
    );
    if let Some(sender) = sender {
        tasks.spawn(
            sender
                .deliver()
                .instrument(tracing::info_span!("sim_webhooks")),
        );
    }
}
