//! The `VerifiedWebhook` extractor: content type → signature, so a handler can only ever see a
//! body whose signature was checked. The body size limit has one owner, the listener
//! ([`crate::http`]): it reads the body under `webhook.max_body_bytes` (413 beyond) before the
//! router runs, so what reaches this extractor is already in memory.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};

use tokio::time::Instant;

use super::error::WebhookError;
use super::WebhookState;
use crate::http::Deadline;

/// A request body whose signature and timestamp have been verified.
pub struct VerifiedWebhook {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the answer is due: the listener's [`Deadline`], else `request_timeout` from now.
    pub deadline: Instant,
}

impl FromRequest<Arc<WebhookState>> for VerifiedWebhook {
    type Rejection = WebhookError;

    async fn from_request(
        req: Request,
        state: &Arc<WebhookState>,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let deadline = parts
            .extensions
            .get::<Deadline>()
            .map_or_else(|| Instant::now() + state.request_timeout, |d| d.0);
        if !is_json(&parts.headers) {
            return Err(WebhookError::ContentType);
        }
        // Already buffered by the listener, within its limit: this moves bytes, it reads nothing.
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| WebhookError::BodyRead)?;
        state
            .verifier
            .verify(&parts.headers, &body, SystemTime::now())?;
        Ok(Self {
            headers: parts.headers,
            body,
            deadline,
        })
    }
}

/// Exactly one `application/json` content type, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}
