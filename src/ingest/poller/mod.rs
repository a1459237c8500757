//! The upstream poller: synthesises `esim.*` events from the provider's orders API, within the
//! account's read budget, for as long as eSIM webhooks have not shipped.
//!
//! - [`client`] (with [`auth`], [`wire`], [`transport`]): authenticated reads; one login, token
//!   refresh ahead of expiry, bare or `{"data": ...}` bodies, 429/5xx/4xx classified.
//! - [`budget`]: at most `reads_per_minute` reads start in any rolling minute; a 429 pauses all.
//! - [`schedule`] + [`cadence`]: the due queue and the per-phase cadences; fulfilment >
//!   discovery > install-fast > install-slow > lifecycle, lower classes stretch under load.
//! - [`engine`] (with `apply`, `scan`): the loop that spends the budget; every observation goes
//!   diff → publish (acked) → KV state → reschedule, so state never runs ahead of the stream.
//! - [`state`]: the KV bucket (cursor, one key per tracked order); [`tracked`] keeps memory small.
//! - [`lease`]: one active poller across replicas; [`follow`]: webhook-sourced events update
//!   the poll state (an install seen by webhook ends install polling).
//! - [`outlet`]: the seam to NATS (the benchmark records in memory instead).
//!
//! [`run`] ties them together for `serve`.

mod apply;
pub mod auth;
pub mod budget;
pub mod cadence;
pub mod client;
pub mod clock;
pub mod cursor;
pub mod engine;
pub mod error;
pub mod follow;
pub mod health;
pub mod lease;
pub mod metrics;
pub mod outlet;
pub mod quarantine;
mod reads;
pub mod sanity;
mod scan;
pub mod schedule;
pub mod state;
pub mod stats;
pub mod supervisor;
pub mod tracked;
pub mod transport;
pub mod wire;

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod iccid_tests;
#[cfg(test)]
mod scheduling_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use budget::Budget;
pub use client::UpstreamClient;
pub use clock::Clock;
pub use engine::{Engine, Settings};
pub use error::ClientError;
pub use health::{PollerHealth, Status};
pub use outlet::{NatsOutlet, Outlet, OutletError};
pub use reads::Job;
pub use state::{StateError, StateStore, StoredOrder};

use crate::config::Config;
use crate::publish::Publisher;
use follow::{FollowError, Follower};
use lease::Lease;

/// Webhook events waiting for the engine; the follower waits when it is full.
const FACTS_BUFFER: usize = 1024;

/// Why the poller stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollerError {
    #[error("upstream client: {0}")]
    Client(#[from] ClientError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Follow(#[from] FollowError),
}

/// Runs the poller until `shutdown`: waits for the lease, then polls (with the events
/// follower) until the lease is lost or shutdown; a lost lease means standing by again, a
/// dead engine means releasing the lease and restarting it (see [`supervisor`]).
pub async fn run(
    cfg: &Config,
    publisher: Publisher,
    shutdown: CancellationToken,
    health: PollerHealth,
) -> Result<(), PollerError> {
    let clock = Clock::new();
    let budget = Budget::new(cfg.upstream.reads_per_minute);
    let client = UpstreamClient::from_config(&cfg.upstream, budget, clock)?;
    health.set(Status::Starting);
    let Some(state) = open_state(&publisher, cfg, &shutdown).await else {
        return Ok(());
    };
    let lease = Arc::new(Lease::new(
        state.kv().clone(),
        holder_id(),
        cfg.upstream.lease_ttl,
    ));
    let outlet = NatsOutlet::new(publisher.clone(), state.clone());
    let tasks = TaskTracker::new();
    let cfg = Arc::new(cfg.clone());
    let term = {
        let tasks = tasks.clone();
        move |token: CancellationToken| {
            let (cfg, publisher, state) = (cfg.clone(), publisher.clone(), state.clone());
            let (client, outlet, tasks) = (client.clone(), outlet.clone(), tasks.clone());
            async move {
                let term = Term {
                    cfg: &cfg,
                    publisher: &publisher,
                    state: &state,
                    client: &client,
                    outlet: &outlet,
                    clock,
                    tasks: &tasks,
                };
                term.serve(&token).await
            }
        }
    };
    supervisor::supervise(lease, health, shutdown, term).await;
    tasks.close();
    tasks.wait().await;
    Ok(())
}

/// What one leadership term needs.
struct Term<'a> {
    cfg: &'a Config,
    publisher: &'a Publisher,
    state: &'a StateStore,
    client: &'a UpstreamClient,
    outlet: &'a NatsOutlet,
    clock: Clock,
    tasks: &'a TaskTracker,
}

impl Term<'_> {
    /// One leadership term: follow new events, resume the stored state, poll until `term`
    /// ends.
    async fn serve(&self, term: &CancellationToken) -> Result<(), PollerError> {
        let Term {
            cfg,
            publisher,
            state,
            client,
            outlet,
            clock,
            tasks,
        } = *self;
        let js = publisher.jetstream().clone();
        let follower = Follower::subscribe(js, &cfg.nats.stream, &cfg.nats.subject_prefix).await?;
        let (facts, facts_rx) = mpsc::channel(FACTS_BUFFER);
        let forward = follower.forward(facts, term.clone());
        tasks.spawn(forward.instrument(tracing::info_span!("poller_follow")));
        let settings = Settings::from_config(&cfg.upstream);
        let mut engine = Engine::new(client.clone(), outlet.clone(), clock, settings);
        engine.set_cursor(state.discovery().await?);
        let started = Instant::now();
        let loaded = state.load(|id, stored| engine.restore(id, stored)).await?;
        let (now, keep) = (clock.now(), cfg.upstream.cadence.give_up_after);
        let mut expired = Vec::new();
        let quarantined = state
            .load_quarantined(|id, q| match q.expired(now, keep) {
                true => expired.push(id),
                false => engine.restore_quarantined(id),
            })
            .await?;
        for id in expired {
            if let Err(e) = state.forget_quarantine(id).await {
                tracing::debug!(order_id = id, error = %e, "expired quarantine entry not removed");
            }
        }
        tracing::info!(orders = loaded, quarantined, took = ?started.elapsed(), "poll state resumed");
        engine.run(facts_rx, term.clone()).await;
        Ok(())
    }
}

/// Opens the state bucket, retrying while NATS is unreachable; `None` on shutdown.
async fn open_state(
    publisher: &Publisher,
    cfg: &Config,
    shutdown: &CancellationToken,
) -> Option<StateStore> {
    let mut failures = 0;
    loop {
        match StateStore::open(publisher.jetstream(), &cfg.nats).await {
            Ok(state) => return Some(state),
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(error = %e, "waiting for the poller's state bucket");
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(budget::backoff(failures).max(Duration::from_millis(500))) => {}
        }
    }
}

/// This replica's lease holder name: the host name plus a random suffix.
fn holder_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "esim-bridge".into());
    format!("{host}-{:08x}", rand::random::<u32>())
}
