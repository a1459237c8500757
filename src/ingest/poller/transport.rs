//! Moving one request to the provider and its answer back: over HTTP (reqwest), or straight
//! into an in-process `axum::Router` (the simulator) for the benchmark and virtual-time runs,
//! where no socket may sit between two tasks of a paused tokio clock.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use bytes::Bytes;
use tower::ServiceExt;

use super::error::ClientError;

/// Largest provider answer accepted (a page of 500 orders is ~500 kB).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One outgoing call.
pub struct Call<'a> {
    pub method: Method,
    /// Path and query, e.g. `/api/v1/esim/orders?page=1`.
    pub path: &'a str,
    pub bearer: Option<&'a str>,
    pub json: Option<Vec<u8>>,
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Where calls go.
#[derive(Clone)]
pub enum Transport {
    /// The provider (or a simulator) over HTTP.
    Http {
        client: reqwest::Client,
        base_url: String,
    },
    /// A router in this process; `timeout` plays the request timeout.
    InProcess {
        router: axum::Router,
        timeout: Duration,
    },
}

impl Transport {
    /// An HTTP transport with the configured timeouts.
    pub fn http(
        base_url: &str,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .user_agent(concat!("esim-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Malformed(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self::Http {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends one call; network failures and timeouts are [`ClientError::Transient`].
    pub async fn send(&self, call: Call<'_>) -> Result<Answer, ClientError> {
        match self {
            Self::Http { client, base_url } => http(client, base_url, call).await,
            Self::InProcess { router, timeout } => {
                tokio::time::timeout(*timeout, in_process(router, call))
                    .await
                    .map_err(|_| ClientError::Transient("request timed out".into()))?
            }
        }
    }
}

async fn http(client: &reqwest::Client, base: &str, call: Call<'_>) -> Result<Answer, ClientError> {
    let mut req = client.request(call.method, format!("{base}{}", call.path));
    if let Some(token) = call.bearer {
        req = req.bearer_auth(token);
    }
    if let Some(json) = call.json {
        req = req
            .header(header::CONTENT_TYPE, "application/json")
            .body(json);
    }
    // The error text names the URL and the kind of failure, never headers or tokens.
    let network = |e: reqwest::Error| ClientError::Transient(e.without_url().to_string());
    let res = req.send().await.map_err(network)?;
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.bytes().await.map_err(network)?;
    Ok(Answer {
        status,
        headers,
        body,
    })
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
