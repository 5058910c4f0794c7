//! The single cross-crate integration test binary: shipped policies, decision semantics,
//! differential testing against the reference evaluator, allocation counting, verification,
//! determinism and fuzz regression replay.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

mod adversarial;
mod alloc;
mod audit_allowance;
mod call;
mod constraints;
mod craft;
mod determinism;
mod differential;
mod docs;
mod fmt;
mod fuzz_regressions;
mod limits;
mod policies;
mod schema;
mod semantics;
mod support;
mod tool_index;
mod url_property;
mod verifier;
mod verifier_checks;
