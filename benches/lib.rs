//! Benchmarks live in `benches/`; this library is intentionally empty. Run them with
//! `cargo bench -p mcppol-benches`.
