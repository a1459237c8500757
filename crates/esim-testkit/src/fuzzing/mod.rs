//! Fuzz target bodies, shared by the cargo-fuzz targets in `fuzz/` (nightly, libFuzzer) and by
//! the corpus replay in `tests/fuzz_corpus.rs` (stable `cargo test`), so a crash once found
//! stays a regression test on every CI run.
//!
//! Each `run` takes what libFuzzer hands over and panics on a broken property: a panic in the
//! code under test, activation-code material in anything the bridge would emit (events,
//! subjects, headers, errors, replay lines; see [`oracle`]), or a secret in a config error or
//! listing. Allocation is bounded by the inputs' own limits and checked by libFuzzer's
//! `-rss_limit_mb` / `-malloc_limit_mb`.
//!
//! Not part of the bridge's interface: hidden from the docs, no stability promise.

pub mod binary_layers;
pub mod config;
pub mod encodings;
pub mod http;
pub mod oracle;
pub mod oracle_codecs;
mod oracle_text;
pub mod replay;
pub mod upstream;
pub mod webhook;

/// The fuzz targets, by the name of their `fuzz/fuzz_targets/<name>.rs` and corpus directory.
pub const TARGETS: [&str; 5] = [
    "webhook_http",
    "config_load",
    "replay_guard",
    "redaction_encodings",
    "upstream_responses",
];

/// Runs the named target on one input (the corpus replay's entry point).
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "webhook_http" => webhook::run(data),
        "config_load" => config::run(data),
        "replay_guard" => replay::run(data),
        "redaction_encodings" => encodings::run_bytes(data),
        "upstream_responses" => upstream::run(data),
        _ => return false,
    }
    true
}
