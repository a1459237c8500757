//! Reading the provider within a budget: the poller's own client (auth, token refresh,
//! transport, answer parsing), behind a budget of its own sized for the audit.
//!
//! This file is the audit's whole coupling to the poller: [`UpstreamClient::from_config`],
//! its `list` and `detail` calls, [`Budget`] and [`ClientError`]. A 429 pauses every read
//! for its `Retry-After` (the client caps it); 5xx and network failures back off, doubling
//! from 200 ms up to 10 s; after [`MAX_ATTEMPTS`] consecutive failures of one read the audit
//! gives up rather than report on half the data.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::{ConfigError, UpstreamConfig};
use crate::provider::{Budget, ClientError, Clock, UpstreamClient};
use esim_events::OrderData;

/// Consecutive failures of one read before the audit gives up.
pub const MAX_ATTEMPTS: u32 = 8;
/// First backoff after a 5xx or network failure.
const BACKOFF_START: Duration = Duration::from_millis(200);
/// Longest backoff.
const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// Why the provider could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// `[upstream]` lacks the base URL or the credentials.
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("cannot set up the provider client: {0}")]
    Setup(#[source] ClientError),
    #[error("{what} failed {attempts} times in a row; last: {source}")]
    GaveUp {
        what: String,
        attempts: u32,
        #[source]
        source: ClientError,
    },
    #[error("{what}: {source}")]
    Refused {
        what: String,
        #[source]
        source: ClientError,
    },
}

/// One list page: the orders that parsed, and the ids of listed orders that did not.
pub struct Page {
    pub orders: Vec<OrderData>,
    pub unfit: Vec<u64>,
    pub has_more: bool,
}

/// Reads spent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    pub list: u64,
    pub detail: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// 5xx and network failures retried.
    pub retried: u64,
}

/// The budgeted reader.
pub struct Provider {
    client: UpstreamClient,
    budget: Budget,
    pub reads: Reads,
}

impl Provider {
    /// A reader of `cfg.base_url` spending at most `reads_per_minute`.
    pub fn new(cfg: &UpstreamConfig, reads_per_minute: u32) -> Result<Self, ReadError> {
        let cfg = cfg.poller()?;
        let budget = Budget::new(reads_per_minute);
        let client = UpstreamClient::from_config(&cfg, budget.clone(), Clock::new())
            .map_err(ReadError::Setup)?;
        Ok(Self {
            client,
            budget,
            reads: Reads::default(),
        })
    }

    /// One page (1-based) of the newest-first list.
    pub async fn list(&mut self, page: u32) -> Result<Page, ReadError> {
        let (client, budget) = (self.client.clone(), self.budget.clone());
        let what = format!("listing page {page}");
        let got = self
            .retry(&what, || {
                let (client, budget) = (client.clone(), budget.clone());
                async move { client.list(budget.start().await, None, page).await }
            })
            .await?;
        self.reads.list += 1;
        Ok(Page {
            orders: got.orders,
            unfit: got.unfit.into_iter().map(|(id, _)| id).collect(),
            has_more: got.has_more,
        })
    }

    /// The detail of one order (refreshes install state); `None` if the provider no longer
    /// has it or answers with an order this version cannot process.
    pub async fn detail(&mut self, id: u64) -> Result<Option<OrderData>, ReadError> {
        let (client, budget) = (self.client.clone(), self.budget.clone());
        let what = format!("reading order {id}");
        let got = self
            .retry(&what, || {
                let (client, budget) = (client.clone(), budget.clone());
                async move { client.detail(budget.start().await, id).await }
            })
            .await;
        self.reads.detail += 1;
        match got {
            Ok(order) => Ok(Some(order)),
            Err(ReadError::Refused { source, .. })
                if source.is_not_found() || matches!(source, ClientError::Unfit { .. }) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn retry<T, F, Fut>(&mut self, what: &str, mut call: F) -> Result<T, ReadError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let mut failures = 0u32;
        loop {
            // Each call waits for its own slot of the budget (and for any 429 pause).
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            failures = failures.saturating_add(1);
            let wait = match &error {
                ClientError::RateLimited { retry_after } => {
                    self.reads.throttled += 1;
                    let until = Instant::now().checked_add(*retry_after);
                    self.budget.pause_until(until.unwrap_or_else(Instant::now));
                    Duration::ZERO
                }
                ClientError::Transient(_) | ClientError::TooLarge { .. } => {
                    self.reads.retried += 1;
                    backoff(failures)
                }
                _ => {
                    return Err(ReadError::Refused {
                        what: what.to_owned(),
                        source: error,
                    })
                }
            };
            if failures >= MAX_ATTEMPTS {
                return Err(ReadError::GaveUp {
                    what: what.to_owned(),
                    attempts: failures,
                    source: error,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// 200 ms doubling per consecutive failure, capped at 10 s.
fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BACKOFF_START.saturating_mul(1 << exp).min(BACKOFF_CAP)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(super::backoff(1).as_millis(), 200);
        assert_eq!(super::backoff(3).as_millis(), 800);
        assert_eq!(super::backoff(40).as_secs(), 10);
    }
}
