//! Fuzz target: the `url_parse` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::url_parse(data));
