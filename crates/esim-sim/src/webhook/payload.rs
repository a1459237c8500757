//! Builds the body of one planned `esim.*` webhook, as of the transition's sim time.

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::events::{EventKind, ScheduledEvent};
use crate::order::{ts, ts_opt, OrderRecord, OrderStatus};
use crate::plan::ActivationStatus;

/// One event ready to send (shared by retries and duplicates: same id, same bytes).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Body `id` and `X-Event-ID`.
    pub event_id: String,
    /// Body `type` and `X-Event-Type`.
    pub event_type: &'static str,
    /// The order concerned (for logs).
    pub order_id: u64,
    /// The exact bytes that are signed and sent.
    pub body: Bytes,
}

#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(serialize_with = "ts")]
    created_at: OffsetDateTime,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    id: u64,
    client_reference: &'a str,
    status: OrderStatus,
    product_name: &'static str,
    country_code: &'static str,
    data_amount_gb: f64,
    validity_days: u32,
    amount: &'a RawValue,
    currency: &'static str,
    iccid: Option<&'a str>,
    #[serde(flatten)]
    failure: Option<FailureFields>,
    #[serde(flatten)]
    lifecycle: Option<LifecycleFields>,
}

#[derive(Serialize)]
struct FailureFields {
    failure_code: String,
    failure_reason: String,
    is_user_fixable: bool,
}

#[derive(Serialize)]
struct LifecycleFields {
    activation_status: ActivationStatus,
    is_installed: bool,
    #[serde(serialize_with = "ts_opt")]
    installed_at: Option<OffsetDateTime>,
    #[serde(serialize_with = "ts_opt")]
    activated_at: Option<OffsetDateTime>,
}

/// Serialises `event` for `order` with id `event_id`.
pub fn build(
    event: &ScheduledEvent,
    order: &OrderRecord,
    event_id: String,
) -> Result<Delivery, serde_json::Error> {
    let failure = match event.kind {
        EventKind::Failed | EventKind::Cancelled => {
            order.plan.failure_details().map(|f| FailureFields {
                failure_code: f.code,
                failure_reason: f.reason,
                is_user_fixable: f.user_fixable,
            })
        }
        _ => None,
    };
    let lifecycle = event.kind.is_lifecycle().then(|| {
        let l = order.timeline.lifecycle_at(event.at);
        LifecycleFields {
            activation_status: l.activation_status,
            is_installed: l.is_installed,
            installed_at: l.installed_at,
            activated_at: l.activated_at,
        }
    });
    let envelope = Envelope {
        id: &event_id,
        kind: event.kind.type_name(),
        created_at: event.at,
        data: Data {
            id: order.id,
            client_reference: &order.client_reference,
            status: OrderStatus::from_outcome(order.plan.outcome),
            product_name: order.product.name,
            country_code: order.product.country_code,
            data_amount_gb: order.product.data_amount_gb,
            validity_days: order.product.validity_days,
            amount: &order.amount,
            currency: order.product.currency,
            iccid: order.iccid.as_deref(),
            failure,
            lifecycle,
        },
    };
    let body = serde_json::to_vec(&envelope)?;
    Ok(Delivery {
        event_type: event.kind.type_name(),
        order_id: order.id,
        body: Bytes::from(body),
        event_id,
    })
}
