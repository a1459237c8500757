//! One stored order: what the provider has recorded about it, and its JSON representation.
//!
//! The *stored* state is what the list endpoint returns. Status transitions are stored as soon
//! as they happen in sim time ([`OrderRecord::settle`]); install/activation fields are stored
//! only when a detail read refreshes them ([`OrderRecord::refresh_lifecycle`]).

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::catalog::Product;
use super::plan::{ActivationStatus, Failure, Lifecycle, OrderPlan, Outcome, Timeline};

/// Order status (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Being fulfilled; the provider retries behind the scenes.
    Pending,
    /// Fulfilled.
    Delivered,
    /// Failed and refunded.
    Failed,
    /// Cancelled administratively and refunded.
    Cancelled,
}

impl OrderStatus {
    /// The terminal status an outcome leads to.
    pub fn from_outcome(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Delivered => Self::Delivered,
            Outcome::Failed => Self::Failed,
            Outcome::Cancelled => Self::Cancelled,
        }
    }

    /// Parses the wire name (`PENDING`, …).
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Everything the simulated provider keeps about one order. `Debug` omits the activation code.
#[derive(Clone)]
pub struct OrderRecord {
    /// `id`.
    pub id: u64,
    /// `client_reference` (unique per account).
    pub client_reference: String,
    /// The product ordered.
    pub product: &'static Product,
    /// `amount` as exact decimal text (already validated as a JSON number).
    pub amount: Box<RawValue>,
    /// `transaction_id`.
    pub transaction_id: String,
    /// `created_at` (sim time).
    pub created_at: OffsetDateTime,
    /// ICCID reserved at creation; shown once the order resolved with an ICCID.
    pub iccid: Option<String>,
    /// Activation code; exists only for delivered orders. Never logged.
    pub activation_code: Option<String>,
    /// The scripted future and its anchored instants.
    pub plan: OrderPlan,
    /// `plan` anchored at `created_at`.
    pub timeline: Timeline,
    /// Stored `status`.
    pub status: OrderStatus,
    /// Stored lifecycle (refreshed by detail reads only).
    pub lifecycle: Lifecycle,
    /// Email attached with `PATCH …/notification-email`.
    pub notification_email: Option<String>,
}

impl std::fmt::Debug for OrderRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderRecord")
            .field("id", &self.id)
            .field("client_reference", &self.client_reference)
            .field("product", &self.product.id)
            .field("status", &self.status)
            .field("iccid", &self.iccid)
            .field("plan", &self.plan)
            .field("lifecycle", &self.lifecycle)
            .finish_non_exhaustive()
    }
}

impl OrderRecord {
    /// Stores the status transition if it has happened by `now`. Returns true if it changed.
    pub fn settle(&mut self, now: OffsetDateTime) -> bool {
        if self.status == OrderStatus::Pending && self.timeline.is_resolved(now) {
            self.status = OrderStatus::from_outcome(self.plan.outcome);
            return true;
        }
        false
    }

    /// What a detail read does: settle, then refresh lifecycle fields of a delivered order.
    pub fn refresh_lifecycle(&mut self, now: OffsetDateTime) {
        self.settle(now);
        if self.status == OrderStatus::Delivered {
            self.lifecycle = self.timeline.lifecycle_at(now);
        }
    }

    /// Failure fields, present once the order is FAILED or CANCELLED.
    pub fn failure(&self) -> Option<Failure> {
        match self.status {
            OrderStatus::Failed | OrderStatus::Cancelled => self.plan.failure_details(),
            _ => None,
        }
    }

    /// The ICCID as currently visible (not while PENDING).
    pub fn visible_iccid(&self) -> Option<&str> {
        match self.status {
            OrderStatus::Pending => None,
            _ => self.iccid.as_deref(),
        }
    }

    /// The JSON view. `detail` adds the activation code while delivered and not installed;
    /// `null_lifecycle` renders lifecycle fields as null until the order is delivered.
    pub fn view(&self, detail: bool, null_lifecycle: bool) -> OrderView<'_> {
        let failure = self.failure();
        let delivered = self.status == OrderStatus::Delivered;
        let code_visible = detail && delivered && !self.lifecycle.is_installed;
        let hide_lifecycle = null_lifecycle && !delivered;
        OrderView {
            id: self.id,
            client_reference: &self.client_reference,
            status: self.status,
            status_text: (self.status == OrderStatus::Pending)
                .then_some("Your order is being processed"),
            product_name: self.product.name,
            country_code: self.product.country_code,
            data_amount_gb: self.product.data_amount_gb,
            validity_days: self.product.validity_days,
            amount: &self.amount,
            currency: self.product.currency,
            activation_status: (!hide_lifecycle).then_some(self.lifecycle.activation_status),
            is_installed: (!hide_lifecycle).then_some(self.lifecycle.is_installed),
            installed_at: self.lifecycle.installed_at,
            activated_at: self.lifecycle.activated_at,
            transaction_id: &self.transaction_id,
            created_at: self.created_at,
            iccid: self.visible_iccid(),
            activation_code: self.activation_code.as_deref().filter(|_| code_visible),
            failure_code: failure.as_ref().map(|f| f.code.clone()),
            failure_reason: failure.as_ref().map(|f| f.reason.clone()),
            is_user_fixable: failure.as_ref().map(|f| f.user_fixable),
        }
    }
}

/// An order as the provider serialises it (fields in the documented order).
#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    id: u64,
    client_reference: &'a str,
    status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_text: Option<&'static str>,
    product_name: &'static str,
    country_code: &'static str,
    data_amount_gb: f64,
    validity_days: u32,
    amount: &'a RawValue,
    currency: &'static str,
    activation_status: Option<ActivationStatus>,
    is_installed: Option<bool>,
    #[serde(serialize_with = "ts_opt")]
    installed_at: Option<OffsetDateTime>,
    #[serde(serialize_with = "ts_opt")]
    activated_at: Option<OffsetDateTime>,
    transaction_id: &'a str,
    #[serde(serialize_with = "ts")]
    created_at: OffsetDateTime,
    iccid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_code: Option<&'a str>,
    failure_code: Option<String>,
    failure_reason: Option<String>,
    is_user_fixable: Option<bool>,
}

/// Serialises a timestamp as RFC 3339 UTC with whole seconds.
pub(crate) fn ts<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::clock::rfc3339(*t))
}

/// [`ts`] for optional timestamps (`null` when absent).
pub(crate) fn ts_opt<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ts(t, s),
        None => s.serialize_none(),
    }
}
