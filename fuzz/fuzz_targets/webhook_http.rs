//! `webhook_http`: see `esim_testkit::fuzzing::webhook` for the input format and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esim_testkit::fuzzing::webhook::run(data));
