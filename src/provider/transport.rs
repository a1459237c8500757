//! Moving one request to the provider and its answer back. [`Transport`] is the seam: the
//! product has one implementation, [`Http`] (reqwest); the tests and benchmarks add an
//! in-process one (`esim-testkit`) that calls the simulator's router directly, where no socket
//! may sit between two tasks of a paused tokio clock.
//!
//! Over HTTP: redirects are never followed (a `3xx` is an answer like any other, so a login
//! can never be re-sent to another origin), and the body is read chunk by chunk up to
//! `upstream.max_response_bytes`; a larger answer (announced or actual) is abandoned at the
//! limit, counted (`esim_bridge_upstream_oversized_total`) and reported as
//! [`ClientError::TooLarge`], which backs off like a 5xx.

use std::time::Duration;

use axum::http::{header, HeaderMap, Method, StatusCode};
use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;

use super::error::ClientError;
use super::metrics;

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

/// Where calls go. Network failures and timeouts are [`ClientError::Transient`]; an answer
/// over the size limit is [`ClientError::TooLarge`].
pub trait Transport: Send + Sync {
    /// Sends one call and reads its whole answer.
    fn send<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Answer, ClientError>>;
}

/// The provider (or a simulator) over HTTP.
pub struct Http {
    client: reqwest::Client,
    base_url: String,
    /// `upstream.max_response_bytes`.
    max_body: usize,
}

impl Http {
    /// An HTTP transport with the configured timeouts and answer size limit; it never
    /// follows a redirect.
    pub fn new(
        base_url: &str,
        connect_timeout: Duration,
        timeout: Duration,
        max_body: u64,
    ) -> Result<Self, ClientError> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("esim-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Malformed(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            max_body: usize::try_from(max_body).unwrap_or(usize::MAX),
        })
    }
}

impl Transport for Http {
    fn send<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Answer, ClientError>> {
        Box::pin(http(&self.client, &self.base_url, self.max_body, call))
    }
}

async fn http(
    client: &reqwest::Client,
    base: &str,
    max_body: usize,
    call: Call<'_>,
) -> Result<Answer, ClientError> {
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
    let mut res = req.send().await.map_err(network)?;
    let status = res.status();
    let headers = res.headers().clone();
    let too_large = || {
        metrics::oversized();
        ClientError::TooLarge { limit: max_body }
    };
    let announced = res.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |n| n > max_body) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = res.chunk().await.map_err(network)? {
        if chunk.len() > max_body.saturating_sub(body.len()) {
            return Err(too_large()); // dropping `res` closes the connection mid-body
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    Ok(Answer {
        status,
        headers,
        body,
    })
}
