//! The provider's orders API as the poller uses it: budgeted, authenticated reads.
//!
//! Every read needs a [`Slot`] from the [`Budget`]; the one retry after a 401 (with a
//! refreshed token) takes another. Answers are classified into [`ClientError`] so the
//! scheduler knows whether to pause everything (429), back off one request (5xx, network),
//! or give up on it (other 4xx).

use std::sync::Arc;

use axum::http::Method;

use super::auth::{Auth, CanRead, Credentials};
use super::budget::{Budget, Slot};
use super::clock::Clock;
use super::error::ClientError;
use super::metrics;
use super::sanity::Reason;
use super::transport::{Answer, Call, Http, Transport};
use super::wire;
use crate::config::PollerConfig;
use esim_events::OrderData;

/// The orders API path.
const ORDERS: &str = "/api/v1/esim/orders";

/// One page of a newest-first order list.
#[derive(Debug)]
pub struct ListPage {
    pub orders: Vec<OrderData>,
    /// Listed orders that cannot be processed (see `quarantine`).
    pub unfit: Vec<(u64, Reason)>,
    pub has_more: bool,
}

/// The budgeted, authenticated client; cheap to clone.
#[derive(Clone)]
pub struct UpstreamClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    auth: Auth,
    budget: Budget,
    per_page: u32,
}

impl UpstreamClient {
    /// An HTTP client for `upstream.base_url` with the configured timeouts and credentials.
    pub fn from_config(
        cfg: &PollerConfig,
        budget: Budget,
        clock: Clock,
    ) -> Result<Self, ClientError> {
        let credentials = Credentials {
            api_key: cfg.api_key.clone(),
            api_secret: cfg.api_secret.clone(),
        };
        let u = &cfg.settings;
        let transport = Http::new(
            cfg.base_url.as_str(),
            u.connect_timeout,
            u.request_timeout,
            u.max_response_bytes,
        )?;
        Ok(Self::new(
            Arc::new(transport),
            credentials,
            budget,
            clock,
            u.page_size,
        ))
    }

    /// A client over any transport (the tests and the benchmark call the simulator's router).
    pub fn new(
        transport: Arc<dyn Transport>,
        credentials: Credentials,
        budget: Budget,
        clock: Clock,
        per_page: u32,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                auth: Auth::new(credentials, clock),
                budget,
                per_page: per_page.max(1),
            }),
        }
    }

    /// Logs in once (no read budget spent): `check-config --connect`'s provider check.
    pub async fn login(&self) -> Result<(), ClientError> {
        let inner = &*self.inner;
        inner.auth.bearer(inner.transport.as_ref()).await.map(drop)
    }

    /// Whether the provider can be read right now (no usable login: not).
    pub fn can_read(&self) -> CanRead {
        self.inner.auth.can_read()
    }

    /// The budget every read goes through.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// One page (1-based) of the newest-first list, optionally filtered by status.
    pub async fn list(
        &self,
        slot: Slot,
        status: Option<&str>,
        page: u32,
    ) -> Result<ListPage, ClientError> {
        let per_page = self.inner.per_page;
        let mut path = format!("{ORDERS}?page={page}&per_page={per_page}");
        if let Some(status) = status {
            path.push_str("&status=");
            path.push_str(status);
        }
        let endpoint = if status.is_some() {
            "list_pending"
        } else {
            "list"
        };
        let answer = self.get(slot, endpoint, &path).await?;
        let (items, has_more) = wire::list_page(&answer.headers, &answer.body, page, per_page)
            .inspect_err(|e| {
                if matches!(e, ClientError::OversizedPage { .. }) {
                    metrics::oversized_page();
                }
            })?;
        for _ in 0..items.skipped + items.unfit.len() {
            metrics::unparsed_order();
        }
        Ok(ListPage {
            orders: items.orders,
            unfit: items.unfit,
            has_more,
        })
    }

    /// The detail of one order (refreshes install state at the provider).
    pub async fn detail(&self, slot: Slot, id: u64) -> Result<OrderData, ClientError> {
        let answer = self.get(slot, "detail", &format!("{ORDERS}/{id}")).await?;
        let order = match wire::order(&answer.body) {
            Err(ClientError::Unfit { id: other, .. }) if other != id => {
                return Err(ClientError::Malformed(format!(
                    "asked for order {id}, got {other}"
                )))
            }
            result => result?,
        };
        if order.id != id {
            return Err(ClientError::Malformed(format!(
                "asked for order {id}, got {}",
                order.id
            )));
        }
        Ok(order)
    }

    /// A GET with a bearer token; on 401, one retry with a refreshed token (and another slot).
    async fn get(
        &self,
        slot: Slot,
        endpoint: &'static str,
        path: &str,
    ) -> Result<Answer, ClientError> {
        let inner = &*self.inner;
        let mut slot = Some(slot);
        let mut retried = false;
        loop {
            let _slot = match slot.take() {
                Some(s) => s,
                None => inner.budget.start().await,
            };
            let token = inner.auth.bearer(inner.transport.as_ref()).await?;
            let call = Call {
                method: Method::GET,
                path,
                bearer: Some(token.expose()),
                json: None,
            };
            let answer = match inner.transport.send(call).await {
                Ok(a) => a,
                Err(e) => {
                    let outcome = match e {
                        ClientError::Transient(_) => "network",
                        ref e => e.outcome(),
                    };
                    metrics::read(endpoint, outcome);
                    return Err(e);
                }
            };
            let status = answer.status.as_u16();
            let error = match status {
                200..=299 => {
                    metrics::read(endpoint, "ok");
                    return Ok(answer);
                }
                401 if !retried => {
                    metrics::read(endpoint, "unauthorized");
                    inner.auth.reject(&token).await;
                    retried = true;
                    continue;
                }
                401 => ClientError::Unauthorized,
                429 => ClientError::RateLimited {
                    retry_after: wire::retry_after(&answer.headers, &answer.body),
                },
                500..=599 => ClientError::Transient(format!("{endpoint} answered {status}")),
                _ => ClientError::Fatal {
                    status,
                    code: wire::error_code(&answer.body),
                },
            };
            metrics::read(endpoint, error.outcome());
            return Err(error);
        }
    }
}
