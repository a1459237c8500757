//! The provider's API client: authenticated reads of the orders API within the account's read
//! budget, shared by the poller (`ingest::poller`) and the audit (`tools::audit`). Nothing here
//! knows about NATS or the schedule; its callers decide what to read and when.
//!
//! - [`client`]: the two reads (a list page, an order's detail), each spending one
//!   [`Slot`](budget::Slot) of the read [`budget`]; answers classified into [`ClientError`] kinds.
//! - [`auth`]: one login, access-token refresh ahead of expiry, rotating refresh tokens.
//! - [`transport`]: where a call goes ([`Transport`]): HTTP to the provider ([`Http`]), with
//!   bounded answer sizes, or an implementation of the tests' own.
//! - [`wire`]: the provider's JSON bodies and headers (bare or `{"data": ...}`, paging,
//!   `Retry-After`, error codes) decoded into the event core's types; [`sanity`]: what of it the
//!   bridge refuses.
//! - [`paging`]: where a paged list reading stops (last page, a repeat, the page cap).
//! - [`error`]: how a call failed, by what the caller should do about it.
//! - [`clock`]: the wall clock the reads are stamped with (virtual in tests); [`metrics`].

pub(crate) mod auth;
pub(crate) mod budget;
pub(crate) mod client;
pub(crate) mod clock;
pub(crate) mod error;
pub(crate) mod metrics;
pub(crate) mod paging;
pub mod sanity;
pub(crate) mod transport;
pub mod wire;

// The public surface, one path per name (`wire` and `sanity` are public modules: the fuzz
// targets drive their parsers directly).
pub use auth::{CanRead, Credentials};
pub use budget::{backoff, Budget};
pub use client::{ListPage, UpstreamClient};
pub use clock::{unix_ms, Clock};
pub use error::ClientError;
pub use paging::Paging;
pub use transport::{Answer, Call, Http, Transport};
