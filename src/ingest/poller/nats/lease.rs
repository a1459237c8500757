//! Exactly one active poller across replicas: a lease key in the state bucket.
//!
//! The holder renews `poller.lease` every `lease_ttl / 3` with a compare-and-set on its
//! revision. A standby watches the revision on its own monotonic clock: when it has not changed
//! for `lease_ttl` (or the value says "released"), it takes the key with a compare-and-set, so
//! clock skew between replicas does not matter. The holder stops polling as soon as a renewal
//! is refused, or when it could not renew for `lease_ttl` minus half a renew interval — before
//! any standby may take over. With the 6 s default, takeover after a crash is at most
//! ttl + one renew interval = 8 s; after a clean shutdown, or when the engine of this replica
//! dies (see `supervisor`), the lease is released at once.

use std::time::Duration;

use async_nats::jetstream::kv::{self, CreateErrorKind, UpdateErrorKind};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::state::is_live;
use crate::telemetry::ErrorChain;

/// The lease's key in the state bucket (`status` reads it too).
pub const KEY: &str = "poller.lease";

/// Why a look at the lease failed (NATS away or slow); the standby looks again next interval.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease not read")]
    Read(#[from] kv::EntryError),
    #[error("lease not created")]
    Create(#[from] kv::CreateError),
    #[error("lease not taken over")]
    Update(#[from] kv::UpdateError),
}

#[derive(Serialize, Deserialize)]
struct Value {
    /// The replica holding the lease; `None` once released.
    holder: Option<String>,
}

/// One replica's view of the lease.
pub struct Lease {
    kv: kv::Store,
    holder: String,
    ttl: Duration,
}

/// A held lease: renewed until shutdown or loss.
pub struct Held {
    revision: u64,
    renewed_at: Instant,
}

impl Lease {
    /// `holder` names this replica (random per process).
    pub fn new(kv: kv::Store, holder: String, ttl: Duration) -> Self {
        Self { kv, holder, ttl }
    }

    fn renew_every(&self) -> Duration {
        self.ttl / 3
    }

    /// How long a replica that just released the lease after a failure stays away from it:
    /// one and a half standby check intervals, so a healthy standby takes it first.
    pub fn standby_grace(&self) -> Duration {
        self.renew_every() * 3 / 2
    }

    fn value(&self, holder: Option<&str>) -> Bytes {
        let v = Value {
            holder: holder.map(str::to_owned),
        };
        Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
    }

    /// Waits until this replica holds the lease; `None` on shutdown.
    pub async fn acquire(&self, shutdown: &CancellationToken) -> Option<Held> {
        let mut seen: Option<(u64, Instant)> = None;
        loop {
            if shutdown.is_cancelled() {
                return None;
            }
            let sent = Instant::now();
            match self.try_take(&mut seen).await {
                Ok(Some(revision)) => {
                    return Some(Held {
                        revision,
                        renewed_at: sent,
                    })
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %ErrorChain(&e), "lease check failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                _ = tokio::time::sleep(self.renew_every()) => {}
            }
        }
    }

    async fn try_take(&self, seen: &mut Option<(u64, Instant)>) -> Result<Option<u64>, LeaseError> {
        let entry = self.kv.entry(KEY).await?;
        let Some(entry) = entry.filter(is_live) else {
            return match self.kv.create(KEY, self.value(Some(&self.holder))).await {
                Ok(revision) => Ok(Some(revision)),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(e.into()),
            };
        };
        let holder = serde_json::from_slice::<Value>(&entry.value)
            .ok()
            .and_then(|v| v.holder);
        // Released, or ours from an earlier term of this process (ids are per process).
        let released = holder.as_deref().is_none_or(|h| h == self.holder);
        let now = Instant::now();
        let expired = match *seen {
            Some((revision, since)) if revision == entry.revision => now - since >= self.ttl,
            _ => {
                *seen = Some((entry.revision, now));
                false
            }
        };
        if !(released || expired) {
            return Ok(None);
        }
        match self
            .kv
            .update(KEY, self.value(Some(&self.holder)), entry.revision)
            .await
        {
            Ok(revision) => Ok(Some(revision)),
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Renews until `shutdown` or `term` ends (then releases) or until the lease is lost;
    /// cancels `term` either way, so the engine stops polling at once. A supervisor ends
    /// `term` when its engine dies, which hands the lease back at once.
    pub async fn hold(&self, mut held: Held, term: CancellationToken, shutdown: CancellationToken) {
        let margin = self.renew_every() / 2;
        loop {
            let deadline = held.renewed_at + self.ttl - margin;
            let next = (Instant::now() + self.renew_every()).min(deadline);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    self.release(held.revision).await;
                    term.cancel();
                    return;
                }
                _ = term.cancelled() => {
                    self.release(held.revision).await;
                    return;
                }
                _ = tokio::time::sleep_until(next) => {}
            }
            let sent = Instant::now();
            if sent >= deadline {
                tracing::warn!("lease not renewed in time; stopping the poller");
                term.cancel();
                return;
            }
            let renewal = self
                .kv
                .update(KEY, self.value(Some(&self.holder)), held.revision);
            match tokio::time::timeout(deadline - sent, renewal).await {
                Ok(Ok(revision)) => {
                    held = Held {
                        revision,
                        renewed_at: sent,
                    }
                }
                Ok(Err(e)) if e.kind() == UpdateErrorKind::WrongLastRevision => {
                    tracing::warn!("lease taken over by another replica; stopping the poller");
                    term.cancel();
                    return;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "lease renewal failed; retrying"),
                Err(_) => {}
            }
        }
    }

    /// Hands the lease back so a standby takes over at its next check.
    async fn release(&self, revision: u64) {
        if let Err(e) = self.kv.update(KEY, self.value(None), revision).await {
            tracing::debug!(error = %e, "lease not released; it expires on its own");
        }
    }
}
