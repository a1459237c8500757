//! The provider's order table: creation, status settling, list pages, detail refresh, and the
//! queue of planned webhook events.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::catalog::Product;
use super::events::{self, ScheduledEvent};
use super::ids;
use super::order::{OrderRecord, OrderStatus};
use super::plan::{Lifecycle, OrderPlan, Timeline};

/// Why an order could not be stored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// The account already has an order with this `client_reference`.
    #[error("Duplicate client_reference")]
    DuplicateReference,
    /// The amount text is not a valid JSON number.
    #[error("amount is not a valid number")]
    InvalidAmount,
}

/// A request to create an order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Client's reference; generated (`SIM-<id>`) when absent.
    pub client_reference: Option<String>,
    /// What is bought.
    pub product: &'static Product,
    /// Exact amount text; the product price when absent.
    pub amount: Option<String>,
    /// The order's scripted future.
    pub plan: OrderPlan,
}

/// List filters (`status`, `client_reference`).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only orders with this stored status.
    pub status: Option<OrderStatus>,
    /// Only the order with this reference.
    pub client_reference: Option<String>,
}

/// One page of a newest-first listing.
#[derive(Debug)]
pub struct Page<'a> {
    /// Orders on this page, newest first.
    pub items: Vec<&'a OrderRecord>,
    /// Orders matching the filter across all pages.
    pub total: usize,
}

/// The order table.
#[derive(Debug)]
pub struct Store {
    orders: BTreeMap<u64, OrderRecord>,
    by_reference: HashMap<String, u64>,
    iccids: HashSet<String>,
    /// Orders still stored as PENDING, so settling does not scan everything.
    pending: BTreeSet<u64>,
    next_id: u64,
    /// Seeded, so identifiers are reproducible for a given seed and call sequence.
    rng: StdRng,
    /// Planned webhook events, earliest first; `None` when no webhook sender runs.
    events: Option<BinaryHeap<Reverse<ScheduledEvent>>>,
    event_seq: u64,
}

impl Store {
    /// An empty table whose first order gets `first_id`.
    pub fn new(first_id: u64, seed: u64, track_events: bool) -> Self {
        Self {
            orders: BTreeMap::new(),
            by_reference: HashMap::new(),
            iccids: HashSet::new(),
            pending: BTreeSet::new(),
            next_id: first_id,
            rng: StdRng::seed_from_u64(seed ^ 0x5EED_0001),
            events: track_events.then(BinaryHeap::new),
            event_seq: 0,
        }
    }

    /// Creates an order at sim time `now`; synchronous outcomes are settled at once.
    pub fn insert(
        &mut self,
        new: NewOrder,
        now: OffsetDateTime,
    ) -> Result<&OrderRecord, StoreError> {
        let id = self.next_id;
        let client_reference = new.client_reference.unwrap_or_else(|| format!("SIM-{id}"));
        if self.by_reference.contains_key(&client_reference) {
            return Err(StoreError::DuplicateReference);
        }
        let amount_text = new.amount.unwrap_or_else(|| new.product.price.to_owned());
        let amount = RawValue::from_string(amount_text).map_err(|_| StoreError::InvalidAmount)?;
        self.next_id += 1;
        let iccid = new.plan.has_iccid().then(|| self.unique_iccid());
        let activation_code = (new.plan.outcome == super::plan::Outcome::Delivered)
            .then(|| ids::activation_code(&mut self.rng));
        let timeline = Timeline::new(&new.plan, now, new.product.validity_days);
        let mut record = OrderRecord {
            id,
            client_reference: client_reference.clone(),
            product: new.product,
            amount,
            transaction_id: ids::transaction_id(&mut self.rng),
            created_at: now,
            iccid,
            activation_code,
            plan: new.plan,
            timeline,
            status: OrderStatus::Pending,
            lifecycle: Lifecycle::default(),
            notification_email: None,
        };
        record.refresh_lifecycle(now);
        if record.status == OrderStatus::Pending {
            self.pending.insert(id);
        }
        self.schedule_events(&record);
        self.by_reference.insert(client_reference, id);
        Ok(self.orders.entry(id).or_insert(record))
    }

    fn unique_iccid(&mut self) -> String {
        loop {
            let candidate = ids::iccid(&mut self.rng);
            if self.iccids.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    fn schedule_events(&mut self, record: &OrderRecord) {
        let Some(queue) = self.events.as_mut() else {
            return;
        };
        for (at, kind) in events::planned(record) {
            self.event_seq += 1;
            queue.push(Reverse(ScheduledEvent {
                at,
                seq: self.event_seq,
                order_id: record.id,
                kind,
            }));
        }
    }

    /// Stores every status transition that has happened by `now`.
    pub fn settle_all(&mut self, now: OffsetDateTime) {
        let orders = &mut self.orders;
        self.pending.retain(|id| match orders.get_mut(id) {
            Some(order) => {
                order.settle(now);
                order.status == OrderStatus::Pending
            }
            None => false,
        });
    }

    /// A newest-first page (1-based) of stored state. Call [`Store::settle_all`] first.
    pub fn page(&self, filter: &ListFilter, page: usize, per_page: usize) -> Page<'_> {
        let matches = |o: &&OrderRecord| {
            filter.status.is_none_or(|s| o.status == s)
                && filter
                    .client_reference
                    .as_deref()
                    .is_none_or(|r| o.client_reference == r)
        };
        let total = self.orders.values().filter(matches).count();
        let skip = page.saturating_sub(1).saturating_mul(per_page);
        let items = self
            .orders
            .values()
            .rev()
            .filter(matches)
            .skip(skip)
            .take(per_page)
            .collect();
        Page { items, total }
    }

    /// What a detail read does: settle and refresh the order's lifecycle at `now`.
    pub fn refresh(&mut self, id: u64, now: OffsetDateTime) -> Option<&OrderRecord> {
        let order = self.orders.get_mut(&id)?;
        order.refresh_lifecycle(now);
        if order.status != OrderStatus::Pending {
            self.pending.remove(&id);
        }
        Some(order)
    }

    /// The stored record without refreshing anything.
    pub fn get(&self, id: u64) -> Option<&OrderRecord> {
        self.orders.get(&id)
    }

    /// Mutable access (e.g. to attach a notification email).
    pub fn get_mut(&mut self, id: u64) -> Option<&mut OrderRecord> {
        self.orders.get_mut(&id)
    }

    /// Every order, by id.
    pub fn orders(&self) -> impl Iterator<Item = &OrderRecord> {
        self.orders.values()
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Removes and returns planned events due by `now`, earliest first.
    pub fn pop_due_events(&mut self, now: OffsetDateTime) -> Vec<ScheduledEvent> {
        let mut due = Vec::new();
        if let Some(queue) = self.events.as_mut() {
            while queue.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(e)) = queue.pop() {
                    due.push(e);
                }
            }
        }
        due
    }

    /// When the next planned event is due.
    pub fn next_event_at(&self) -> Option<OffsetDateTime> {
        self.events
            .as_ref()
            .and_then(|q| q.peek().map(|Reverse(e)| e.at))
    }
}
