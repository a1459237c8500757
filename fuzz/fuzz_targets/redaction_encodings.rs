//! `redaction_encodings`: see `esim_testkit::fuzzing::encodings` for the generated cases and
//! the properties checked. The input is decoded with `arbitrary`, as the stable replay does.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| esim_testkit::fuzzing::encodings::run_bytes(data));
