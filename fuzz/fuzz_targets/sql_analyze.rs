//! Fuzz target: the `sql_analyze` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::sql_analyze(data));
