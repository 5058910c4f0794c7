//! What a gateway needs around the policy runtime that touches the outside world, as traits
//! with an embedded default that needs no server: the audit trail (`audit`: the record, its
//! hash chain, a non-blocking queued sink and an append-only JSON-lines file) and the canonical
//! JSON both use (`canonical`), and human approvals (`approval`: the store trait, an in-memory
//! store, tokens, and the webhook that tells approvers). Server-backed implementations live in
//! their own crates (`mcppol-audit-postgres`, `mcppol-approvals-redis`).

pub mod approval;
pub mod audit;
pub mod canonical;
