//! Fuzz target: the `evaluate_any_request` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::evaluate_any_request(data));
