//! The provider side: authenticated, budgeted reads of the orders API, and nothing else.
//!
//! - [`client`]: the two reads the poller makes (a list page, an order's detail), each spending
//!   one [`Slot`](crate::ingest::poller::engine::budget::Slot) of the read budget; answers
//!   classified into [`ClientError`] kinds.
//! - [`auth`]: one login, access-token refresh ahead of expiry, rotating refresh tokens.
//! - [`transport`]: HTTP to the provider, or in-process to a router (tests and the benchmark),
//!   with bounded answer sizes.
//! - [`wire`]: the provider's JSON bodies and headers (bare or `{"data": ...}`, paging,
//!   `Retry-After`, error codes) decoded into the event core's types.
//! - [`error`]: how a call failed, by what the caller should do about it.
//! - [`paging`]: where a paged list reading stops (last page, a repeat, the page cap).
//!
//! Nothing here knows about NATS or the schedule; the engine decides what to read and when.

pub mod auth;
pub mod client;
pub mod error;
pub mod paging;
pub mod transport;
pub mod wire;

pub use client::{ListPage, UpstreamClient};
pub use error::ClientError;
