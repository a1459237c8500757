//! `config_load`: see `esim_bridge::fuzzing::config` for the input format and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esim_bridge::fuzzing::config::run(data));
