//! Keeps exactly one engine polling across replicas, and never a dead one holding the lease.
//!
//! Each term: wait for the lease, then run the engine as its own task next to the lease
//! renewal. Whichever ends first ends the term:
//! - the renewal (lease lost, or shutdown): the term token is cancelled, the engine stops;
//! - the engine (it returned, failed to start, or panicked — caught through its
//!   `JoinHandle`): the term token is cancelled at once, which makes the renewal hand the lease
//!   back (a standby takes it at its next check, well within `upstream.lease_ttl`), the leader
//!   gauge drops to 0, `esim_bridge_poller_restarts_total{reason}` counts it, and the engine is
//!   started again after an exponential backoff (1 s doubling, capped at 1 min; the count
//!   resets after a term that ran [`HEALTHY_TERM`]), but never before half a lease TTL has
//!   passed, so a healthy standby takes the released lease first.
//!
//! The renewal runs inside this future, not as a detached task: if this future itself is ever
//! dropped, the renewals stop with it and the lease expires on its own.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::health::{PollerHealth, Status};
use super::metrics;
use super::nats::lease::{Held, Lease};
use super::PollerError;
use crate::telemetry::ErrorChain;

/// First wait before restarting a failed engine ...
const RESTART_START: Duration = Duration::from_secs(1);
/// ... doubling up to this.
const RESTART_CAP: Duration = Duration::from_secs(60);
/// A term that ran this long resets the backoff.
pub const HEALTHY_TERM: Duration = Duration::from_secs(120);
/// How long a stopping engine may take before it is aborted.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// Why an engine term ended early (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The engine returned while it still held the lease.
    Exited,
    /// The engine could not start or run its term (NATS state, follower).
    Error,
    /// The engine panicked.
    Panic,
}

impl Failure {
    pub fn label(self) -> &'static str {
        match self {
            Failure::Exited => "exited",
            Failure::Error => "error",
            Failure::Panic => "panic",
        }
    }
}

/// The wait before restart number `failures` (1-based).
pub fn restart_backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    RESTART_START.saturating_mul(1 << exp).min(RESTART_CAP)
}

/// Runs terms until `shutdown`. `term` starts one engine term: given the term token, it polls
/// until the token is cancelled.
pub async fn supervise<F, Fut>(
    lease: Arc<Lease>,
    health: PollerHealth,
    shutdown: CancellationToken,
    mut term: F,
) where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), PollerError>> + Send + 'static,
{
    let mut failures = 0u32;
    metrics::leader(false);
    health.set(Status::Standby);
    while let Some(held) = lease.acquire(&shutdown).await {
        tracing::info!("poller lease acquired: this replica polls");
        metrics::leader(true);
        health.set(Status::Polling);
        let started = Instant::now();
        let failure = one_term(&lease, held, &shutdown, &mut term).await;
        metrics::leader(false);
        let Some(failure) = failure else {
            failures = 0;
            health.healthy();
            health.set(Status::Standby);
            if !shutdown.is_cancelled() {
                tracing::warn!("poller lease lost: standing by");
            }
            continue;
        };
        failures = match started.elapsed() >= HEALTHY_TERM {
            true => 1,
            false => failures + 1,
        };
        if !back_off(&lease, &health, &shutdown, failure, failures).await {
            break;
        }
    }
    metrics::leader(false);
}

/// One term: the engine as its own task next to the lease renewal, whichever ends first ends
/// the term. `None` if the engine stopped because the term ended (lease lost, shutdown).
async fn one_term<F, Fut>(
    lease: &Lease,
    held: Held,
    shutdown: &CancellationToken,
    term: &mut F,
) -> Option<Failure>
where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), PollerError>> + Send + 'static,
{
    let token = shutdown.child_token();
    let mut engine =
        tokio::spawn(term(token.clone()).instrument(tracing::info_span!("poller_engine")));
    let hold = lease.hold(held, token.clone(), shutdown.clone());
    tokio::pin!(hold);
    tokio::select! {
        () = &mut hold => {
            if tokio::time::timeout(STOP_WAIT, &mut engine).await.is_err() {
                tracing::warn!("poller engine did not stop in time; aborted");
                engine.abort();
            }
            None
        }
        joined = &mut engine => {
            let failure = failure(joined, token.is_cancelled());
            token.cancel();
            hold.await; // hands the lease back
            failure
        }
    }
}

/// Counts and logs an engine that stopped (its lease is already handed back), then waits
/// before the next term; false if shutdown came first.
async fn back_off(
    lease: &Lease,
    health: &PollerHealth,
    shutdown: &CancellationToken,
    failure: Failure,
    failures: u32,
) -> bool {
    metrics::restarted(failure.label(), failures);
    health.failed(failures);
    let wait = restart_backoff(failures).max(lease.standby_grace());
    tracing::error!(
        reason = failure.label(),
        failures,
        ?wait,
        "poller engine stopped; lease released, restarting after a backoff"
    );
    tokio::select! {
        _ = shutdown.cancelled() => return false,
        _ = tokio::time::sleep(wait) => {}
    }
    health.set(Status::Standby);
    true
}

/// How a finished engine task ended; `None` if it ended because its term did.
fn failure(joined: Result<Result<(), PollerError>, JoinError>, term_over: bool) -> Option<Failure> {
    match joined {
        Ok(Ok(())) if term_over => None,
        Ok(Ok(())) => Some(Failure::Exited),
        Ok(Err(e)) => {
            tracing::warn!(error = %ErrorChain(&e), "poller engine could not run its term");
            Some(Failure::Error)
        }
        Err(e) if e.is_panic() => Some(Failure::Panic),
        Err(_) => Some(Failure::Exited),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_back_off_from_a_second_to_a_minute() {
        let waits: Vec<u64> = (1..=8).map(|n| restart_backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(restart_backoff(u32::MAX), RESTART_CAP);
    }
}
