//! `replay_guard`: see `esim_testkit::fuzzing::replay` for the input format and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esim_testkit::fuzzing::replay::run(data));
