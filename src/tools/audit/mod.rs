//! `esim-bridge audit`: did the stream miss or mangle anything? Reads the provider's orders
//! for a window and compares each with what the events stream holds for it, by the bridge's
//! own rules; reports findings as NDJSON and a table; with `--repair`, publishes the missing
//! transitions through the bridge's publish core, marked `repaired_at`.
//!
//! - [`args`]: the flags and their checks (bad usage names the flag, exit 64).
//! - [`upstream`]: budgeted provider reads through the poller's client (429, backoff).
//! - [`window`]: which orders — list pages down to `--since`, or exactly `--order` ids.
//! - [`held`]: what the stream holds for those orders (one ordered read, kept per key).
//! - [`compare`]: the pure judgement; [`finding`]: the classes and the NDJSON line.
//! - [`repair`]: publishing what is missing, never a duplicate.
//! - [`run`]: the sequence (with progress and Ctrl-C); [`report`]: the table and exit code;
//!   [`command`]: the CLI glue.

pub(crate) mod args;
mod check;
pub(crate) mod command;
pub(crate) mod compare;
pub(crate) mod finding;
pub(crate) mod held;
pub(crate) mod repair;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod upstream;
pub(crate) mod window;

pub use args::{AuditArgs, DEFAULT_READS_PER_MINUTE};
pub use command::command;
pub use finding::{Class, Finding, Repair};
pub use report::Report;
pub use run::{audit, AuditError, Failed, Plan};
pub use window::Window;
