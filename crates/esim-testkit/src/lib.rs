//! Test support for esim-bridge, never part of its production build (a dev-dependency of the
//! bridge and the dependency of `fuzz/`):
//!
//! - [`fuzzing`]: the fuzz target bodies, shared by the cargo-fuzz targets in `fuzz/` (nightly,
//!   libFuzzer) and the stable corpus replay (`tests/fuzz_corpus.rs`).
//! - [`in_process`]: the provider transport that calls the simulator's router in this process,
//!   for the engine tests and the poller benchmark in virtual time.
#![forbid(unsafe_code)]

pub mod fuzzing;
pub mod in_process;

pub use in_process::InProcess;
