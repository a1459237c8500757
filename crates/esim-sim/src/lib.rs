//! The upstream simulator: an in-process, real-HTTP model of the eSIM provider's documented API
//! (see `upstream-api.md`), used by tests, the demo and benchmarks.
//!
//! - [`clock`]: simulated time (tokio time × speed + manual advances; virtual under `pause()`).
//! - [`plan`], [`order`], [`store`]: orders and their scripted lifecycles. Status transitions are
//!   stored as they happen; install/activation state only when a detail GET refreshes it.
//! - [`auth`], [`ratelimit`], [`faults`], [`garbage`]: login with rotating refresh tokens, the
//!   shared rolling read budget answering 429 + `Retry-After`, and injected 5xx/latency/429
//!   storms and garbage answers (malformed, absurd, huge).
//! - [`api`]: the provider routes; [`control`]: the `/_sim/` control surface (also available
//!   in-process on [`SimState`]); [`counters`]: what tests assert the bridge's behaviour with.
//! - [`transitions`]: every transition the simulator made so far (what chaos tests count).
//! - [`workload`]: seeded random lifecycles; [`webhook`] + [`sign`]: the signed `esim.*` sender.
//! - [`args`]: `esim-bridge simulate`.
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

pub mod api;
pub mod args;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod control;
pub mod counters;
mod error;
pub mod events;
pub mod faults;
pub mod garbage;
pub mod ids;
pub mod order;
pub mod plan;
pub mod ratelimit;
pub mod sign;
pub mod state;
pub mod store;
pub mod transitions;
mod util;
pub mod webhook;
pub mod workload;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use args::{run, SimulateArgs};
pub use clock::SimClock;
pub use config::{Envelope, Secret, SimConfig};
pub use counters::{CountersSnapshot, WebhookCounters};
pub use error::SimError;
pub use faults::FaultConfig;
pub use garbage::GarbageKind;
pub use order::OrderStatus;
pub use plan::{ActivationStatus, Failure, OrderPlan, Outcome};
pub use sign::{octopus_signature, signed_headers};
pub use state::{CreateError, OrderTruth, ScriptedOrder, SimState};
pub use transitions::Transition;
pub use webhook::WebhookConfig;
pub use workload::WorkloadConfig;

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
        workload::run(state.clone(), shutdown.clone())
            .instrument(tracing::info_span!("sim_workload")),
    );
    if let Some(sender) = sender {
        tasks.spawn(sender.run().instrument(tracing::info_span!("sim_webhooks")));
    }
}
