//! Fuzz target: the `evaluate_call_body` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::evaluate_call_body(data));
