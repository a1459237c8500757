//! The provider docs' naive per-order loops, as the ordering client would run them: the
//! benchmark's baseline for the scheduler.

use std::time::Duration;

use esim_bridge::provider::{ClientError, UpstreamClient};
use esim_events::order::{ActivationStatus, OrderStatus};
use esim_events::{EventType, OrderData};
use esim_sim::OrderTruth;
use tokio_util::sync::CancellationToken;

use crate::poller_day::Recorder;

/// The docs' loops for one order: fulfilment every 5 s for a minute then every 30 s; install
/// every 30 s for 10 minutes. The creator knows synchronous outcomes from the create answer.
pub async fn naive_order(
    client: UpstreamClient,
    truth: OrderTruth,
    rec: Recorder,
    stop: CancellationToken,
) {
    let id = truth.id;
    let created = tokio::time::Instant::now();
    let mut status = match truth.stored_status {
        esim_sim::OrderStatus::Pending => None,
        esim_sim::OrderStatus::Delivered => Some(OrderStatus::Delivered),
        esim_sim::OrderStatus::Failed => Some(OrderStatus::Failed),
        esim_sim::OrderStatus::Cancelled => Some(OrderStatus::Cancelled),
    };
    while status.is_none() {
        let every = if created.elapsed() < Duration::from_secs(60) {
            5
        } else {
            30
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(every)) => {}
        }
        let Some(order) = read(&client, id, &stop).await else {
            return;
        };
        status = order.status.filter(|s| *s != OrderStatus::Pending);
    }
    let event = match status {
        Some(OrderStatus::Failed) => EventType::Failed,
        Some(OrderStatus::Cancelled) => EventType::Cancelled,
        _ => EventType::Delivered,
    };
    rec.saw(id, event);
    if event != EventType::Delivered {
        return;
    }
    let delivered = tokio::time::Instant::now();
    while delivered.elapsed() < Duration::from_secs(600) {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
        let Some(order) = read(&client, id, &stop).await else {
            return;
        };
        if order.is_installed == Some(true) {
            rec.saw(id, EventType::Installed);
            if order.activation_status == Some(ActivationStatus::Active) {
                rec.saw(id, EventType::Activated);
            }
            return;
        }
    }
}

/// One detail read, retried after a 429's Retry-After or a 5xx backoff (per request).
async fn read(client: &UpstreamClient, id: u64, stop: &CancellationToken) -> Option<OrderData> {
    let mut failures = 0;
    loop {
        let slot = client.budget().start().await;
        let wait = match client.detail(slot, id).await {
            Ok(order) => return Some(order),
            Err(ClientError::RateLimited { retry_after }) => retry_after,
            Err(_) => {
                failures += 1;
                esim_bridge::provider::backoff(failures)
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return None,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
