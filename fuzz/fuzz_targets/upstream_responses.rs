//! `upstream_responses`: see `esim_bridge::fuzzing::upstream` for the input format and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esim_bridge::fuzzing::upstream::run(data));
