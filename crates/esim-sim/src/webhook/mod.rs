//! The signed webhook sender: fires each planned `esim.*` event when its transition happens in
//! sim time, optionally duplicated, delayed and reordered, with retries (see [`WebhookConfig`]).

mod config;
mod deliver;
mod payload;

use std::pin::pin;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::WebhookConfig;
pub use payload::Delivery;

use super::ids;
use super::lock::lock;
use super::state::SimState;
use super::SimError;

/// The sender task's state.
pub struct Sender {
    state: SimState,
    cfg: WebhookConfig,
    url: String,
    client: reqwest::Client,
    /// Event ids and misbehaviour decisions (seeded: reproducible).
    rng: StdRng,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    /// Events held back for reordering, and when the batch must go anyway.
    held: Vec<Delivery>,
    hold_deadline: Option<Instant>,
}

impl Sender {
    /// A sender for `state`'s webhook config; `None` when no URL is configured.
    pub fn new(
        state: SimState,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Option<Self>, SimError> {
        let cfg = state.config().webhook.clone();
        let Some(url) = cfg.url.clone() else {
            return Ok(None);
        };
        // The simulator posts straight to the bridge it feeds (tests, demo, compose); an
        // `HTTP_PROXY` meant for real outbound traffic must not capture those requests.
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()?;
        let rng = StdRng::seed_from_u64(state.config().seed ^ 0xE7E7);
        Ok(Some(Self {
            state,
            cfg,
            url,
            client,
            rng,
            tracker,
            shutdown,
            held: Vec::new(),
            hold_deadline: None,
        }))
    }

    /// Runs until shutdown: waits for the next due transition (or a new order, or a clock
    /// jump), builds its events and hands them to delivery tasks.
    pub async fn deliver(mut self) {
        let clock = self.state.clock();
        let shared = self.state.shared.clone();
        loop {
            let mut changed = pin!(shared.events_changed.notified());
            changed.as_mut().enable();
            for d in self.due_deliveries() {
                self.accept(d);
            }
            let hold_expired = self.hold_deadline.is_some_and(|t| Instant::now() >= t);
            if self.held.len() >= self.cfg.reorder_batch.max(1) || hold_expired {
                self.flush();
            }
            let next = lock(&shared.store).next_event_at();
            let hold = self.hold_deadline;
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = changed => {}
                _ = async {
                    match next {
                        Some(t) => clock.sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => {}
                _ = async {
                    match hold {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => {}
            }
        }
    }

    /// Pops due events and serialises them (as of each transition's sim time).
    fn due_deliveries(&mut self) -> Vec<Delivery> {
        let now = self.state.clock().now();
        let mut store = lock(&self.state.shared.store);
        let due = store.pop_due_events(now);
        let mut out = Vec::with_capacity(due.len());
        for event in due {
            let Some(order) = store.get(event.order_id) else {
                continue;
            };
            match payload::build(&event, order, ids::event_id(&mut self.rng)) {
                Ok(d) => out.push(d),
                Err(e) => tracing::warn!(order_id = event.order_id, error = %e, "webhook body"),
            }
        }
        out
    }

    /// Queues a new event: straight to delivery, or into the reorder batch.
    fn accept(&mut self, d: Delivery) {
        self.state.shared.counters.bump(|c| c.webhooks.events += 1);
        if self.cfg.reorder_batch > 1 {
            self.hold_deadline
                .get_or_insert_with(|| Instant::now() + self.cfg.reorder_hold);
            self.held.push(d);
        } else {
            self.dispatch(d);
        }
    }

    /// Sends the held batch in random order.
    fn flush(&mut self) {
        let mut batch = std::mem::take(&mut self.held);
        self.hold_deadline = None;
        batch.shuffle(&mut self.rng);
        for d in batch {
            self.dispatch(d);
        }
    }

    /// Spawns the delivery (and maybe a duplicate) with a random delay each.
    fn dispatch(&mut self, d: Delivery) {
        let copies = if self.rng.random_bool(self.cfg.duplicate_probability) {
            self.state
                .shared
                .counters
                .bump(|c| c.webhooks.duplicates += 1);
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.cfg.max_delay.mul_f64(self.rng.random::<f64>());
            let (state, cfg, url, client) = (
                self.state.clone(),
                self.cfg.clone(),
                self.url.clone(),
                self.client.clone(),
            );
            let (d, shutdown) = (d.clone(), self.shutdown.clone());
            tracing::debug!(event_id = %d.event_id, event_type = d.event_type, order_id = d.order_id, "webhook queued");
            self.tracker.spawn(async move {
                let counters = &state.shared.counters;
                deliver::deliver(client, cfg, url, d, delay, counters, shutdown).await;
            });
        }
    }
}
