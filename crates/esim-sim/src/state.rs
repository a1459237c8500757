//! The simulator's shared state and its in-process control surface (`SimState` methods).
//!
//! HTTP handlers, the workload task, the webhook sender and tests all hold a cheap clone.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::auth::{Auth, AuthSettings};
use super::catalog;
use super::clock::whole_seconds;
use super::clock::SimClock;
use super::counters::{Counters, CountersSnapshot};
use super::faults::{FaultConfig, Faults};
use super::lock::lock;
use super::order::{OrderRecord, OrderStatus};
use super::plan::OrderPlan;
use super::ratelimit::{RollingWindow, MINUTE};
use super::store::{NewOrder, Store, StoreError};
use super::{lifecycle_draw, SimConfig, SimError};

/// Why a control-surface order could not be created.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CreateError {
    /// `product_id` is not in the catalogue.
    #[error("unknown product_id {0:?}")]
    UnknownProduct(String),
    /// The store refused (duplicate reference, bad amount).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An order to create with a scripted plan.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptedOrder {
    /// Unique reference (generated when absent).
    pub client_reference: Option<String>,
    /// Catalogue product (`jpn-1gb-7d` when absent).
    pub product_id: Option<String>,
    /// Exact amount text such as `"4.275"` (the product price when absent).
    pub amount: Option<String>,
    /// The lifecycle to follow.
    pub plan: OrderPlan,
}

/// The simulator's ground truth about one order (control surface only; includes the code).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrderTruth {
    /// Order id.
    pub id: u64,
    /// Client reference.
    pub client_reference: String,
    /// Status as stored (what the list shows).
    pub stored_status: OrderStatus,
    /// Terminal status the plan leads to.
    pub final_status: OrderStatus,
    /// ICCID once issued (also for failed/cancelled plans `with_iccid`).
    pub iccid: Option<String>,
    /// Activation code of a delivered order (a secret: never log it).
    pub activation_code: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the order leaves PENDING.
    #[serde(with = "time::serde::rfc3339")]
    pub resolved_at: OffsetDateTime,
    /// Planned install time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub installed_at: Option<OffsetDateTime>,
    /// Planned first use.
    #[serde(with = "time::serde::rfc3339::option")]
    pub activated_at: Option<OffsetDateTime>,
    /// Planned expiry.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl OrderTruth {
    fn of(o: &OrderRecord) -> Self {
        let tl = &o.timeline;
        Self {
            id: o.id,
            client_reference: o.client_reference.clone(),
            stored_status: o.status,
            final_status: OrderStatus::from_outcome(o.plan.outcome),
            iccid: o.iccid.clone(),
            activation_code: o.activation_code.clone(),
            created_at: whole_seconds(o.created_at),
            resolved_at: whole_seconds(tl.resolved_at),
            installed_at: tl.installed_at.map(whole_seconds),
            activated_at: tl.activated_at.map(whole_seconds),
            expires_at: tl.expires_at.map(whole_seconds),
        }
    }
}

/// Plans waiting for API-created orders.
#[derive(Debug, Default)]
struct Scripts {
    next: VecDeque<OrderPlan>,
    by_reference: HashMap<String, OrderPlan>,
}

/// Everything shared by the simulator's tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) clock: SimClock,
    pub(crate) store: Mutex<Store>,
    pub(crate) auth: Auth,
    pub(crate) reads: Mutex<RollingWindow>,
    pub(crate) counters: Counters,
    pub(crate) faults: Faults,
    scripts: Mutex<Scripts>,
    /// Draws plans for API-created orders that were not scripted.
    plan_rng: Mutex<StdRng>,
    /// Signalled when new events were scheduled (wakes the webhook sender).
    pub(crate) events_changed: Notify,
}

/// A cloneable handle on one simulated provider account.
#[derive(Debug, Clone)]
pub struct SimState {
    pub(crate) shared: Arc<Shared>,
}

impl SimState {
    /// Builds the state (no tasks, no listener). Serve it with [`super::router`].
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.validate()?;
        let clock = SimClock::new(config.start_time, config.speed);
        let auth = Auth::new(AuthSettings {
            api_key: config.api_key.clone(),
            api_secret: config.api_secret.expose().to_owned(),
            client_id: config.client_id.clone(),
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            logins_per_minute: config.logins_per_minute,
            refreshes_per_minute: config.refreshes_per_minute,
        });
        let shared = Shared {
            store: Mutex::new(Store::new(
                config.first_order_id,
                config.seed,
                config.webhook.url.is_some(),
            )),
            auth,
            reads: Mutex::new(RollingWindow::new(config.reads_per_minute, MINUTE)),
            counters: Counters::new(clock.started()),
            faults: Faults::new(config.faults.clone(), config.seed),
            scripts: Mutex::new(Scripts::default()),
            plan_rng: Mutex::new(StdRng::seed_from_u64(config.seed ^ 0x0A91)),
            events_changed: Notify::new(),
            clock,
            config,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The simulated clock.
    pub fn clock(&self) -> SimClock {
        self.shared.clock.clone()
    }

    /// Moves simulated time forward; returns the new sim now.
    pub fn advance(&self, by: Duration) -> OffsetDateTime {
        self.shared.clock.advance(by)
    }

    /// Creates an order following `order.plan` (as if a client had ordered it).
    pub fn create_order(&self, order: ScriptedOrder) -> Result<OrderTruth, CreateError> {
        let product_id = order.product_id.as_deref().unwrap_or("jpn-1gb-7d");
        let product = catalog::find(product_id)
            .ok_or_else(|| CreateError::UnknownProduct(product_id.to_owned()))?;
        let new = NewOrder {
            client_reference: order.client_reference,
            product,
            amount: order.amount,
            plan: order.plan,
        };
        self.insert(new).map(|o| OrderTruth::of(&o))
    }

    /// Stores `new` at sim now and schedules its webhook events.
    pub(crate) fn insert(&self, new: NewOrder) -> Result<OrderRecord, CreateError> {
        let now = self.shared.clock.now();
        let record = lock(&self.shared.store).insert(new, now)?.clone();
        self.shared.counters.bump(|c| c.orders_created += 1);
        self.shared.events_changed.notify_waiters();
        tracing::debug!(order_id = record.id, status = ?record.status, "sim order created");
        Ok(record)
    }

    /// The plan for an API-created order: scripted by reference, else queued, else random.
    pub(crate) fn plan_for(&self, client_reference: Option<&str>) -> OrderPlan {
        let mut scripts = lock(&self.shared.scripts);
        if let Some(plan) = client_reference.and_then(|r| scripts.by_reference.remove(r)) {
            return plan;
        }
        if let Some(plan) = scripts.next.pop_front() {
            return plan;
        }
        drop(scripts);
        lifecycle_draw::random_plan(&mut *lock(&self.shared.plan_rng))
    }

    /// The next API-created order (without a per-reference script) follows `plan`.
    pub fn script_next(&self, plan: OrderPlan) {
        lock(&self.shared.scripts).next.push_back(plan);
    }

    /// The API-created order with `client_reference` follows `plan`.
    pub fn script_for(&self, client_reference: impl Into<String>, plan: OrderPlan) {
        lock(&self.shared.scripts)
            .by_reference
            .insert(client_reference.into(), plan);
    }

    /// Ground truth about an order, without refreshing its stored state.
    pub fn truth(&self, id: u64) -> Option<OrderTruth> {
        let now = self.shared.clock.now();
        let mut store = lock(&self.shared.store);
        store.settle_all(now);
        store.get(id).map(OrderTruth::of)
    }

    /// Every order transition that has happened by sim now, and whether none is still to come.
    pub fn transitions(&self) -> (Vec<super::Transition>, bool) {
        let now = self.shared.clock.now();
        let store = lock(&self.shared.store);
        let done = super::transitions::all_done(&store, now);
        (super::transitions::made(&store, now), done)
    }

    /// Number of orders created so far.
    pub fn order_count(&self) -> usize {
        lock(&self.shared.store).len()
    }

    /// Replaces the standing faults.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.faults.set(faults);
    }

    /// The next `count` reads answer `status` (500, 502, 503 or 504).
    pub fn fail_next_reads(&self, count: u64, status: u16) {
        self.shared.faults.fail_next(count, status);
    }

    /// The next `count` reads answer `200 OK` with garbage of `kind` (see [`GarbageKind`](super::GarbageKind)).
    pub fn garbage_next_reads(&self, count: u64, kind: super::garbage::GarbageKind) {
        self.shared.faults.garbage_next(count, kind);
    }

    /// Every read answers 429 for `duration` (a storm), announcing the remaining time.
    pub fn throttle_for(&self, duration: Duration) {
        self.shared.faults.storm(Instant::now(), duration);
    }

    /// Ends storms and pending next-N failures.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Changes the shared read budget at runtime.
    pub fn set_reads_per_minute(&self, limit: u32) {
        lock(&self.shared.reads).set_limit(limit.max(1));
    }

    /// Revokes every access token (clients must refresh after their next 401).
    pub fn revoke_access_tokens(&self) {
        self.shared.auth.revoke_access();
    }

    /// Counter snapshot including served-read timestamps.
    pub fn counters(&self) -> CountersSnapshot {
        self.shared.counters.snapshot(true)
    }

    /// Zeroes the counters.
    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }
}
