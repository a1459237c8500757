//! The bridge and the simulator, in-process, started and stopped in the order that loses
//! nothing and logs nothing alarming.
//!
//! Start: the simulator's port is bound first (so the poller knows its base URL), then the
//! bridge starts (stream provisioned, webhook listener bound), then the simulator is served
//! with its webhook sender pointed at the bridge. Requests the poller sends in between wait in
//! the listen backlog. Stop: the simulator first (no new webhooks), then the bridge (in-flight
//! requests finish within its shutdown grace). Either is also cancelled if the stack is dropped
//! early, on an error path.

use std::net::SocketAddr;
use std::time::Duration;

use async_nats::jetstream::Context;
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::setup::{self, Knobs};
use super::DemoError;
use crate::app::{self, Running};
use crate::config::NatsConfig;
use esim_sim::{CountersSnapshot, SimError, SimHandle};

/// How long the simulator's in-flight webhooks may take to finish.
const SIM_STOP_WAIT: Duration = Duration::from_secs(5);

/// A running bridge, and the simulator once [`Stack::start_sim`] ran.
pub struct Stack {
    pub sim_addr: SocketAddr,
    pub webhook_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub nats: NatsConfig,
    pub reads_per_minute: u32,
    running: Running,
    sim_listener: Option<TcpListener>,
    sim: Option<SimHandle>,
    bridge_stop: DropGuard,
    sim_stop: DropGuard,
}

impl Stack {
    /// Binds the simulator's port and starts the bridge against `nats_url`.
    pub async fn start_bridge(nats_url: &str) -> Result<Self, DemoError> {
        let sim_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(DemoError::Bind)?;
        let sim_addr = sim_listener.local_addr().map_err(DemoError::Bind)?;
        let config = setup::bridge_config(nats_url, sim_addr);
        let (nats, reads_per_minute) = (config.nats.clone(), config.upstream.reads_per_minute);
        let bridge_stop = CancellationToken::new();
        let bridge_guard = bridge_stop.clone().drop_guard();
        let running = app::start(config, bridge_stop).await?;
        Ok(Self {
            sim_addr,
            webhook_addr: running.webhook_addr.ok_or(DemoError::NoWebhook)?,
            admin_addr: running.admin_addr,
            nats,
            reads_per_minute,
            running,
            sim_listener: Some(sim_listener),
            sim: None,
            bridge_stop: bridge_guard,
            sim_stop: CancellationToken::new().drop_guard(),
        })
    }

    /// The bridge's JetStream context (the printer reads through the same connection).
    pub fn jetstream(&self) -> &Context {
        self.running.publisher.jetstream()
    }

    /// `http://<addr>/webhooks/octopus`.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/webhooks/octopus", self.webhook_addr)
    }

    /// Serves the simulator with its workload and webhooks, and creates the showcase orders.
    pub async fn start_sim(&mut self, knobs: Knobs) -> Result<(), SimError> {
        let Some(listener) = self.sim_listener.take() else {
            return Ok(()); // already started
        };
        let sim_stop = CancellationToken::new();
        self.sim_stop = sim_stop.clone().drop_guard();
        let cfg = setup::sim_config(knobs, self.webhook_url());
        let sim = esim_sim::spawn(cfg, listener, sim_stop).await?;
        setup::showcase(&sim);
        self.sim = Some(sim);
        Ok(())
    }

    /// Stops the simulator, then the bridge; returns the simulator's final counters.
    pub async fn stop(self) -> CountersSnapshot {
        let Self {
            running,
            sim,
            bridge_stop,
            sim_stop,
            ..
        } = self;
        drop(sim_stop); // cancels
        let counters = match sim {
            Some(sim) => {
                let _ = tokio::time::timeout(SIM_STOP_WAIT, sim.stopped()).await;
                sim.counters()
            }
            None => CountersSnapshot::default(),
        };
        drop(bridge_stop); // cancels
        running.wait().await; // bounded by the bridge's shutdown grace
        counters
    }
}
