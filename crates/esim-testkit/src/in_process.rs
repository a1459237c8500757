//! The provider transport the tests and benchmarks use: a call goes straight into an
//! `axum::Router` in this process (the simulator's), with no socket, so the poller runs in
//! virtual time (`tokio::time::pause()`) with the simulator's clock.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use esim_bridge::provider::{Answer, Call, ClientError, Transport};
use futures::future::BoxFuture;
use tower::ServiceExt;

/// Largest answer accepted from the router.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A router in this process; `timeout` plays the request timeout.
pub struct InProcess {
    pub router: axum::Router,
    pub timeout: Duration,
}

impl Transport for InProcess {
    fn send<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Answer, ClientError>> {
        Box::pin(async move {
            tokio::time::timeout(self.timeout, in_process(&self.router, call))
                .await
                .map_err(|_| ClientError::Transient("request timed out".into()))?
        })
    }
}

async fn in_process(router: &axum::Router, call: Call<'_>) -> Result<Answer, ClientError> {
    let mut req = Request::builder().method(call.method).uri(call.path);
    if let Some(token) = call.bearer {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientError::Malformed("token is not a valid header value".into()))?;
        req = req.header(header::AUTHORIZATION, value);
    }
    let body = match call.json {
        Some(json) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(json)
        }
        None => Body::empty(),
    };
    let req = req
        .body(body)
        .map_err(|e| ClientError::Malformed(e.to_string()))?;
    let res = match router.clone().oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    let (parts, body) = res.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| ClientError::Transient(e.to_string()))?;
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
