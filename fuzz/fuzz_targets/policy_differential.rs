//! Fuzz target: the `policy_differential` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::policy_differential(data));
