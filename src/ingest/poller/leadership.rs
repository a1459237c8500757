//! One leadership term: what the replica holding the lease does until the term ends.
//!
//! A term starts when the [`supervisor`](super::supervisor) has taken the lease and ends when
//! the lease is lost, handed back or the bridge shuts down (the term token is cancelled). In
//! it: subscribe to new events first (so nothing published while the state loads is missed),
//! resume the stored state (cursor, tracked orders, quarantine), then run the engine.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::engine::{Engine, Settings};
use super::nats::follow::Follower;
use super::nats::{NatsOutlet, StateError, StateStore};
use super::PollerError;
use crate::config::Config;
use crate::provider::clock::Clock;
use crate::provider::UpstreamClient;
use crate::publish::Publisher;
use crate::telemetry::ErrorChain;

/// Webhook events waiting for the engine; the follower waits when it is full.
const FACTS_BUFFER: usize = 1024;

/// Everything a term needs; cloned for each term.
#[derive(Clone)]
pub(super) struct LeadershipTerm {
    pub cfg: Arc<Config>,
    pub publisher: Publisher,
    pub state: StateStore,
    pub client: UpstreamClient,
    pub outlet: NatsOutlet,
    pub clock: Clock,
    /// Where the follower task is tracked, so shutdown waits for it.
    pub tasks: TaskTracker,
}

impl LeadershipTerm {
    /// Follows new events, resumes the stored state and polls until `ends` is cancelled.
    ///
    /// The term stops the moment `ends` is cancelled, whatever it is awaiting: a publish
    /// retrying through a stream-leader election or a state write can take seconds, and a
    /// replica whose lease is gone must not go on acting as the poller meanwhile (the chaos
    /// suite saw 4.4 s of two replicas polling at once). Dropping the term mid-step is safe:
    /// events are published before the state that records them is saved, and the next term
    /// re-derives the same events, which the stream suppresses by id.
    pub(super) async fn hold(self, ends: CancellationToken) -> Result<(), PollerError> {
        match ends
            .clone()
            .run_until_cancelled_owned(self.poll(ends))
            .await
        {
            Some(outcome) => outcome,
            None => {
                tracing::info!("poller stopped");
                Ok(())
            }
        }
    }

    async fn poll(self, ends: CancellationToken) -> Result<(), PollerError> {
        let (cfg, js) = (&self.cfg, self.publisher.jetstream().clone());
        let follower = Follower::subscribe(js, &cfg.nats.stream, &cfg.nats.subject_prefix).await?;
        let (facts, facts_rx) = mpsc::channel(FACTS_BUFFER);
        let forward = follower.forward(facts, ends.clone());
        self.tasks
            .spawn(forward.instrument(tracing::info_span!("poller_follow")));
        let settings = Settings::from_config(&cfg.upstream);
        let mut engine = Engine::new(
            self.client.clone(),
            self.outlet.clone(),
            self.clock,
            settings,
        );
        self.resume(&mut engine).await?;
        engine.poll(facts_rx, ends).await;
        Ok(())
    }

    /// Loads what the previous leader stored into `engine`; drops expired quarantine entries.
    async fn resume(&self, engine: &mut Engine<NatsOutlet>) -> Result<(), StateError> {
        let state = &self.state;
        engine.set_cursor(state.discovery().await?);
        engine.set_learned(state.learned().await?);
        let started = Instant::now();
        let loaded = state.load(|id, stored| engine.restore(id, stored)).await?;
        let (now, keep) = (self.clock.now(), self.cfg.upstream.cadence.give_up_after);
        let mut expired = Vec::new();
        let quarantined = state
            .load_quarantined(|id, q| match q.expired(now, keep) {
                true => expired.push(id),
                false => engine.restore_quarantined(id),
            })
            .await?;
        for id in expired {
            if let Err(e) = state.forget_quarantine(id).await {
                tracing::debug!(order_id = id, error = %ErrorChain(&e), "expired quarantine entry not removed");
            }
        }
        tracing::info!(orders = loaded, quarantined, took = ?started.elapsed(), "poll state resumed");
        Ok(())
    }
}
