//! The upstream poller: synthesises `esim.*` events from the provider's orders API, within the
//! account's read budget, for as long as eSIM webhooks have not shipped.
//!
//! Three parts, each a folder, and the glue beside them:
//! - [`upstream`]: the provider side: authenticated reads (login, token refresh), the HTTP or
//!   in-process transport, the wire format, and [`ClientError`] classifying failures.
//! - [`engine`]: the loop that spends the read budget. [`Engine`]'s fields are private to the
//!   folder; its reads, list scans, diff-and-apply and quarantine are files there, next to the
//!   policy it applies (due queue, cadences, read budget). Every observation goes diff →
//!   publish (acked) → KV state → reschedule, so state never runs ahead of the stream.
//! - [`nats`]: the NATS side: the [`Outlet`] the engine publishes and stores through, the KV
//!   state and quarantine records, the lease (one active poller across replicas) and the
//!   follower (webhook-sourced events update the poll state).
//! - Shared vocabulary: [`tracked`] (what is remembered per order, a few dozen bytes),
//!   [`cursor`] (where discovery stops), [`sanity`] (provider data the poller refuses),
//!   [`clock`], [`metrics`].
//! - [`supervisor`] keeps exactly one engine polling and restarts a dead one; each time this
//!   replica holds the lease it runs one [`leadership`] term; [`health`] reports the state.
//!
//! [`keep_polling`] ties them together for `serve`.

pub(crate) mod cursor;
pub(crate) mod engine;
pub(crate) mod health;
mod leadership;
pub(crate) mod metrics;
pub(crate) mod nats;
pub(crate) mod supervisor;
pub(crate) mod tracked;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

// The poller's public surface, one path per name: what `app`, the tools, the tests, the
// benchmark and the fuzz targets use. Everything else stays inside the crate.
pub use cursor::Cursor;
pub use engine::cadence::Cadence;
pub use engine::learn::{wait_of, WATCH_SHARE};
pub use engine::learned::{Learned, Wait, BINS, EDGES};
pub use engine::plan::{Grid, Plan};
pub use engine::rates::Rates;
pub use engine::schedule::Class;
pub use engine::stats::{Figures, Stats};
pub use engine::vanish::{Suspects, Suspicion, CONFIRM_OVER, CONFIRM_READS, RECHECK};
pub use engine::{Engine, Job, Outlet, OutletError, Settings, PAGES_PER_TURN};
pub use health::{PollerHealth, Status};
pub use nats::lease::Lease;
pub use nats::quarantine::Quarantined;
pub use nats::{NatsOutlet, StateError, StateStore, StoredOrder};
pub use supervisor::supervise;
pub use tracked::{Phase, Tracked};

use crate::config::{Config, PollerConfig};
use crate::provider::{budget, Budget, ClientError, Clock, UpstreamClient};
use crate::publish::Publisher;
use crate::telemetry::ErrorChain;
use leadership::LeadershipTerm;
use nats::follow::FollowError;

/// Why the poller stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollerError {
    #[error("upstream client cannot be set up")]
    Client(#[from] ClientError),
    #[error("poll state unavailable")]
    State(#[from] StateError),
    #[error("events stream cannot be followed")]
    Follow(#[from] FollowError),
}

/// Runs the poller until `shutdown`: waits for the lease, then runs one leadership term after
/// another (see [`leadership`]): a lost lease means standing by again, a dead engine means
/// releasing the lease and restarting it (see [`supervisor`]).
pub async fn keep_polling(
    cfg: &Config,
    upstream: PollerConfig,
    publisher: Publisher,
    shutdown: CancellationToken,
    health: PollerHealth,
) -> Result<(), PollerError> {
    let clock = Clock::new();
    let budget = Budget::new(upstream.settings.reads_per_minute);
    let client = UpstreamClient::from_config(&upstream, budget, clock)?;
    health.watch_reads(client.can_read());
    health.set(Status::Starting);
    let Some(state) = open_state(&publisher, cfg, &shutdown).await else {
        return Ok(());
    };
    let lease = Arc::new(Lease::new(
        state.kv().clone(),
        holder_id(),
        cfg.upstream.lease_ttl,
    ));
    let tasks = TaskTracker::new();
    let term = LeadershipTerm {
        cfg: Arc::new(cfg.clone()),
        outlet: NatsOutlet::new(publisher.clone(), state.clone()),
        publisher,
        state,
        client,
        clock,
        tasks: tasks.clone(),
    };
    supervisor::supervise(lease, health, shutdown, move |ends| term.clone().hold(ends)).await;
    tasks.close();
    tasks.wait().await;
    Ok(())
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
                    tracing::warn!(error = %ErrorChain(&e), "waiting for the poller's state bucket");
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
