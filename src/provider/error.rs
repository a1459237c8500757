//! How a provider call failed, classified by what the caller should do about it.

use std::time::Duration;

use super::sanity::Reason;

/// Why a provider call failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ClientError {
    /// 429: every read waits `retry_after` (from `Retry-After`, or the message's
    /// "Retry after N seconds").
    #[error("rate limited by the provider; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// 5xx, timeout or network failure: retry this request with backoff.
    #[error("transient provider failure: {0}")]
    Transient(String),
    /// The answer is larger than `upstream.max_response_bytes`: backed off like a 5xx.
    #[error("provider answer larger than {limit} bytes; abandoned")]
    TooLarge { limit: usize },
    /// 401 even after a fresh token, or the credentials were refused.
    #[error("the provider refused our credentials")]
    Unauthorized,
    /// Any other 4xx (bad request, forbidden, not found): retrying will not fix it.
    #[error("provider answered {status} {code}")]
    Fatal { status: u16, code: String },
    /// A 2xx whose body is not what the API documents.
    #[error("unexpected provider response: {0}")]
    Malformed(String),
    /// A list page with more items than the `per_page` asked for: garbage, refused whole
    /// (admitting it would cost a state write and a detail read per item); backed off like a 5xx.
    #[error("provider list page of {items} items when {per_page} were asked for; refused")]
    OversizedPage { items: usize, per_page: u32 },
    /// The login or refresh answer's token cannot be sent as a header value (a control
    /// character): refused at once, and logged in again after a backoff.
    #[error("provider token cannot be sent as a header value; refused")]
    UnsendableToken,
    /// No usable session: the last login was refused and the next waits for its backoff.
    #[error("no provider session; the next login waits for its backoff")]
    LoginBackoff,
    /// A well-formed answer carrying an order (`id`) the bridge cannot process: the same
    /// answer would come again, so the order is quarantined rather than retried.
    #[error("order {id} cannot be processed: {}", reason.label())]
    Unfit { id: u64, reason: Reason },
    /// Reading or parsing the answer panicked (a bug meeting odd data; caught, never fatal).
    #[error("reading the provider's answer failed unexpectedly")]
    Panicked,
}

impl ClientError {
    /// The metric outcome label.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "throttled",
            Self::Transient(_) => "server_error",
            Self::TooLarge { .. } => "too_large",
            Self::Unauthorized => "unauthorized",
            Self::Fatal { .. } => "client_error",
            Self::Malformed(_) => "malformed",
            Self::OversizedPage { .. } => "oversized_page",
            Self::UnsendableToken => "unsendable_token",
            Self::LoginBackoff => "login_backoff",
            Self::Unfit { .. } => "unfit",
            Self::Panicked => "panicked",
        }
    }

    /// True for a 404: the order does not exist (any more).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Fatal { status: 404, .. })
    }
}
