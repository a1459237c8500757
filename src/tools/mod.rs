//! Operator tools over the events stream: `replay`, `tail`, `status` and `audit`.
//!
//! - [`run`] replays history (by time window, ICCID, type, order) as NDJSON to a file or
//!   stdout, republishes it under another subject prefix ([`republish`]), or only counts it
//!   (`--dry-run`). It reads one ephemeral ordered consumer ([`source`]) and streams, so memory
//!   stays flat whatever the history size, and it ends at the stream's last message as of the
//!   start.
//! - [`tail`] follows new events live with the same filters.
//! - [`status`] reports the stream and the poller's state bucket, from NATS alone.
//! - [`audit`] compares the provider's orders with what the stream holds for them, and can
//!   publish what is missing.
//!
//! Every line written passes [`guard`]: one JSON document per line, and never an activation
//! code; everything written to a terminal (lines and reports) passes [`visible`]: no control
//! character, terminal sequence or bidi override from stored data. [`command`] is the CLI glue (arguments → config → connect → run → exit code); the
//! rest is a library the tests and the bench drive directly.

mod args;
pub mod audit;
pub mod command;
pub(crate) mod event_line;
pub(crate) mod filter;
pub mod guard;
pub mod lines;
pub mod output;
pub(crate) mod pace;
pub mod parse;
pub(crate) mod poller_state;
pub(crate) mod progress;
pub(crate) mod republish;
pub(crate) mod run;
pub(crate) mod source;
pub mod status;
pub(crate) mod summary;
pub(crate) mod tail;
pub(crate) mod visible;

pub use args::{FilterArgs, Format, FormatArgs, ReplayArgs, StatusArgs, TailArgs, ToolConfigArg};
pub use filter::Filter;
pub use lines::Lines;
pub use progress::ProgressMode;
pub use republish::{Target, REPLAYED_FROM};
pub use run::{replay, Plan, ReplayError, Sinks};
pub use source::Start;
pub use summary::Summary;
