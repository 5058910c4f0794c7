//! The audit trail: every decision leaves a chained, append-only record that an auditor can
//! query and verify. `docs/audit.md` specifies the record, its canonical form and the chain.
//!
//! A gateway builds a [`Record`] per decision and calls [`AuditSink::record`], which enqueues
//! without blocking; a writer thread chains events and writes them in batches to a
//! [`Backend`]. [`file_sink`] is the embedded default (JSON lines); `mcppol-audit-postgres`
//! provides PostgreSQL. Stores are read through [`AuditReader`].

mod chain;
mod error;
mod event;
mod file;
mod query;
mod sink;
mod time;

pub use chain::{Break, BreakKind, ChainHead, LogSummary, Verifier, VerifyReport};
pub use error::{AuditError, ErrorKind};
pub use event::{ArgsPolicy, AuditEvent, EventKind, GENESIS_HASH, REDACTED, Record, chain_hash};
pub use file::{FileBackend, FileReader, file_sink};
pub use query::{AuditReader, Cursor, Page, Query};
pub use sink::{AuditSink, Backend, FlushReport, FullPolicy, QueuedSink, SinkOptions};
pub use time::Timestamp;
