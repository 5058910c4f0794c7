//! Fuzz target: the `path_normalize` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::path_normalize(data));
