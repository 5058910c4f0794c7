//! Fuzz target: the `artifact_from_bytes` property of `mcppol_tests` (see tests/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mcppol_tests::artifact_from_bytes(data));
