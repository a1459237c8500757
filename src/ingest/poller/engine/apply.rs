//! Turning what a read (or a webhook) revealed about one order into published events and the
//! next look at it.
//!
//! Always in this order: sanity check → diff → publish and await every ack → write the order's
//! KV state → update memory and reschedule. If the publish fails, nothing advances and the read
//! is retried; if the KV write fails, the events are already safe and the next observation
//! rewrites the state. An order that fails the check, cannot become events, is refused for
//! good, or panics on the way is quarantined (see `quarantine`), never retried forever.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::cadence::Next;
use super::outlet::Outlet;
use super::reads::Job;
use super::schedule::Class;
use super::Engine;
use crate::ingest::poller::metrics;
use crate::ingest::poller::nats::state::StoredOrder;
use crate::ingest::poller::tracked::{unix_secs, Tracked};
use crate::provider::budget;
use crate::provider::clock;
use crate::provider::sanity::{self, Reason};
use crate::telemetry::ErrorChain;
use esim_events::{Event, OrderData};
use esim_normalise::normalise::from_snapshots;

/// What became of an order's events.
pub(super) enum Emit {
    /// Every event is in the stream.
    Done(Vec<Event>),
    /// A step needs the ICCID and the snapshot lacks it: nothing published, read again.
    MissingIccid,
    /// NATS unavailable: try again later, state unchanged.
    Retry,
    /// The order cannot be processed: set it aside.
    Quarantine(Reason),
}

/// What became of a publish.
pub(super) enum Publish {
    /// Every event is in the stream.
    Done,
    /// NATS unavailable: try again later, state unchanged.
    Retry,
    /// Refused for good: the order cannot be published.
    Never,
}

impl<O: Outlet> Engine<O> {
    /// A detail read of a tracked order.
    pub(super) async fn observe(&mut self, id: u64, order: OrderData, at: OffsetDateTime) {
        let Some(&before) = self.orders.get(&id) else {
            return;
        };
        if before.iccid_changed(&order) {
            return self.quarantine(id, Reason::IccidChanged).await;
        }
        let events = match self.emit(Some(&before.previous(id)), &order, at).await {
            Emit::Done(events) => events,
            Emit::MissingIccid => {
                // Never published under a second key: read the order again later.
                tracing::warn!(
                    order_id = id,
                    "detail read lacks the ICCID its step needs; retrying"
                );
                return self.retry(Job::Order(id), self.class_of(&before));
            }
            Emit::Retry => return self.retry(Job::Order(id), self.class_of(&before)),
            Emit::Quarantine(reason) => return self.quarantine(id, reason).await,
        };
        let mut after = before;
        after.apply(&events, &order);
        if after == before && self.pending.contains(&id) {
            return; // Still PENDING: the list keeps watching it, nothing to store.
        }
        self.settle(id, after, order, at, true).await;
    }

    /// An order discovery has not seen before. False if its events could not be published
    /// yet (the discovery pass is retried).
    pub(super) async fn admit(&mut self, order: OrderData, at: OffsetDateTime) -> bool {
        let id = order.id;
        let events = match self.emit(None, &order, at).await {
            Emit::Done(events) => events,
            Emit::MissingIccid => {
                // A list entry without the ICCID: track it as not yet published, so the
                // pending list's next pass gives it a detail read, which carries the ICCID.
                tracing::debug!(
                    order_id = id,
                    "listed without its ICCID; resolving by a detail read"
                );
                self.settle(id, Tracked::new(), order, at, false).await;
                return true;
            }
            Emit::Retry => return false,
            Emit::Quarantine(reason) => {
                self.quarantine(id, reason).await;
                return true;
            }
        };
        let mut t = Tracked::new();
        t.apply(&events, &order);
        self.settle(id, t, order, at, false).await;
        true
    }

    /// Checks, diffs and publishes one order's snapshot. A panic anywhere on the way (a bug
    /// meeting odd provider data) is caught here and quarantines the order, so the same order
    /// cannot take the poller down again after a restart.
    async fn emit(
        &mut self,
        previous: Option<&OrderData>,
        order: &OrderData,
        at: OffsetDateTime,
    ) -> Emit {
        if let Err(reason) = sanity::check(order) {
            return Emit::Quarantine(reason);
        }
        crate::provider::metrics::unknown_enums(order.unknown_enums());
        let diff = std::panic::catch_unwind(|| from_snapshots(previous, order, at));
        let events = match diff {
            Ok(Ok(events)) => events,
            Ok(Err(e)) if e.is_missing_iccid() => return Emit::MissingIccid,
            Ok(Err(_)) => return Emit::Quarantine(Reason::Unpublishable),
            Err(_) => return Emit::Quarantine(Reason::Panicked),
        };
        match AssertUnwindSafe(self.publish(&events, at))
            .catch_unwind()
            .await
        {
            Ok(Publish::Done) => Emit::Done(events),
            Ok(Publish::Retry) => Emit::Retry,
            Ok(Publish::Never) => Emit::Quarantine(Reason::Unpublishable),
            Err(_) => Emit::Quarantine(Reason::Panicked),
        }
    }

    /// A webhook-sourced event (already in the stream) for a tracked order: e.g. an install
    /// seen by webhook moves the order from install polling to lifecycle polling.
    pub(super) async fn fold(&mut self, event: Event) {
        let id = event.data.id;
        let Some(&before) = self.orders.get(&id) else {
            return;
        };
        if before.iccid_changed(&event.data) {
            // Stored by its sender already; the poller stops publishing for this order.
            return self.quarantine(id, Reason::IccidChanged).await;
        }
        let mut after = before;
        after.step(event.event_type, unix_secs(event.created_at));
        after.learn(&event.data);
        if after == before {
            return;
        }
        tracing::debug!(order_id = id, event_type = %event.event_type, "webhook event folded into the poll state");
        let now = self.clock.now();
        self.settle(id, after, event.data, now, true).await;
    }

    /// Stores `t` and schedules its next look (or forgets it). `stored`: whether KV may hold
    /// a previous state of this order.
    async fn settle(
        &mut self,
        id: u64,
        t: Tracked,
        snapshot: OrderData,
        now: OffsetDateTime,
        stored: bool,
    ) {
        let before = self.orders.insert(id, t);
        if let Some(before) = &before {
            self.learn(before, Some(&t), now);
        }
        let next = self.next_look(&t, now);
        match next {
            // `untrack` counts the end of a wait `t` is still in, if it was watched.
            Next::Stop => {
                if before.is_none() {
                    self.orders.remove(&id);
                }
                self.untrack(id, stored).await;
            }
            Next::List => {
                self.save(id, &t, snapshot, None).await;
                self.pending.insert(id);
                self.queue.remove(Job::Order(id));
                self.ensure_pending_list();
            }
            Next::At(class, due) => {
                self.save(id, &t, snapshot, Some(clock::unix_ms(due))).await;
                self.pending.remove(&id);
                let due = self.clock.instant_at(due);
                self.queue.schedule(Job::Order(id), class, due);
                self.allow_early(id, &t, next, now);
            }
        }
    }

    /// Stops tracking an order (terminal, gone, or unpublishable).
    pub(super) async fn untrack(&mut self, id: u64, stored: bool) {
        if let Some(t) = self.orders.remove(&id) {
            self.learn(&t, None, self.clock.now());
        }
        self.pending.remove(&id);
        self.queue.remove(Job::Order(id));
        self.failures.remove(&Job::Order(id));
        self.suspects.clear(id);
        if stored {
            if let Err(e) = self.outlet.forget(id).await {
                tracing::warn!(order_id = id, error = %ErrorChain(&e), "finished order's state not removed");
            }
        }
    }

    async fn save(&mut self, id: u64, t: &Tracked, snapshot: OrderData, due_ms: Option<i64>) {
        let record = StoredOrder::new(t, snapshot, due_ms);
        if let Err(e) = self.outlet.save(id, &record).await {
            tracing::warn!(order_id = id, error = %ErrorChain(&e), "poll state not stored; it is rewritten on the next read");
            self.pause_for_outlet();
        }
    }

    /// Makes sure the pending list runs while anything is PENDING.
    fn ensure_pending_list(&mut self) {
        let job = Job::PendingList;
        if self.pending.is_empty() || self.in_flight_jobs.contains(&job) {
            return;
        }
        let due = Instant::now() + self.settings.cadence.config().pending;
        self.queue.schedule_by(job, Class::Fulfilment, due);
    }

    /// Publishes and waits for the acks; records detection lag of events stored now.
    pub(super) async fn publish(&mut self, events: &[Event], at: OffsetDateTime) -> Publish {
        if events.is_empty() {
            return Publish::Done;
        }
        match self.outlet.publish(events).await {
            Ok(stored) => {
                self.outlet_failures = 0;
                self.outlet_resume_at = None;
                for (event, fresh) in events.iter().zip(stored) {
                    let created = unix_secs(event.created_at)
                        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
                    let lag = created.and_then(|c| std::time::Duration::try_from(at - c).ok());
                    if let (true, Some(lag)) = (fresh, lag) {
                        metrics::detection_lag(event.event_type, lag);
                    }
                }
                Publish::Done
            }
            Err(e) if e.is_permanent() => Publish::Never,
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "events not acknowledged; the poller pauses and keeps its state");
                self.pause_for_outlet();
                Publish::Retry
            }
        }
    }

    fn pause_for_outlet(&mut self) {
        self.outlet_failures += 1;
        let wait = budget::backoff(self.outlet_failures);
        self.outlet_resume_at = Some(Instant::now() + wait);
    }
}
