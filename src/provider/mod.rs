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

pub mod auth;
pub mod budget;
pub mod client;
pub mod clock;
pub mod error;
pub mod metrics;
pub mod paging;
pub mod sanity;
pub mod transport;
pub mod wire;

pub use auth::Credentials;
pub use budget::Budget;
pub use client::{ListPage, UpstreamClient};
pub use clock::Clock;
pub use error::ClientError;
pub use transport::{Answer, Call, Http, Transport};
