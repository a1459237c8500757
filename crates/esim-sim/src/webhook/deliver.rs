//! Sends one webhook like the provider: optional random delay, signed headers stamped at send
//! time, and bounded exponential-backoff retries on non-2xx answers and network errors.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use super::payload::Delivery;
use super::WebhookConfig;
use crate::counters::Counters;
use crate::sign;

/// Delivers `d` to `url` after `delay`, retrying per `cfg`, until acked, exhausted or shutdown.
pub async fn deliver(
    client: reqwest::Client,
    cfg: WebhookConfig,
    url: String,
    d: Delivery,
    delay: std::time::Duration,
    counters: &Counters,
    shutdown: CancellationToken,
) {
    if !delay.is_zero()
        && shutdown
            .run_until_cancelled(tokio::time::sleep(delay))
            .await
            .is_none()
    {
        return;
    }
    for attempt in 1..=cfg.max_attempts {
        counters.bump(|c| c.webhooks.attempts += 1);
        let outcome = shutdown
            .run_until_cancelled(send_once(&client, &cfg, &url, &d))
            .await;
        match outcome {
            None => return,
            Some(Ok(())) => {
                counters.bump(|c| c.webhooks.acked += 1);
                tracing::debug!(event_id = %d.event_id, order_id = d.order_id, attempt, "webhook acked");
                return;
            }
            Some(Err(reason)) => {
                counters.bump(|c| c.webhooks.failed_attempts += 1);
                tracing::debug!(event_id = %d.event_id, attempt, %reason, "webhook attempt failed");
            }
        }
        if attempt < cfg.max_attempts {
            let wait = cfg.backoff(attempt);
            if shutdown
                .run_until_cancelled(tokio::time::sleep(wait))
                .await
                .is_none()
            {
                return;
            }
        }
    }
    counters.bump(|c| c.webhooks.gave_up += 1);
    tracing::debug!(event_id = %d.event_id, "webhook delivery abandoned");
}

/// One signed POST; `Err` carries a loggable reason (never the secret).
async fn send_once(
    client: &reqwest::Client,
    cfg: &WebhookConfig,
    url: &str,
    d: &Delivery,
) -> Result<(), String> {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |t| t.as_secs() as i64);
    let headers = sign::signed_headers(
        cfg.secret.expose(),
        &cfg.webhook_id,
        &d.event_id,
        d.event_type,
        timestamp,
        &d.body,
    );
    let mut request = client.post(url).timeout(cfg.timeout).body(d.body.clone());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => Err(format!("status {}", resp.status().as_u16())),
        Err(e) => Err(format!("network: {}", e.without_url())),
    }
}
