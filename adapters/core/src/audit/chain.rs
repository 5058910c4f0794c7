//! Chain verification, shared by every store: feed events in each log's order and the verifier
//! recomputes every hash, checks every link and sequence number, and stops at the first break.

use super::event::{AuditEvent, GENESIS_HASH, chain_hash};
use std::collections::BTreeMap;
use std::fmt;

/// Where a log's chain ends: the last event's position and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// The last `seq` (0 for an empty log).
    pub seq: u64,
    /// The last `hash` ([`GENESIS_HASH`] for an empty log).
    pub hash: String,
}

impl ChainHead {
    /// The head of an empty log.
    pub fn genesis() -> Self {
        ChainHead { seq: 0, hash: GENESIS_HASH.to_owned() }
    }
}

/// Why the chain is broken at an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakKind {
    /// The event's content does not hash to its stored `hash`: it was edited.
    HashMismatch {
        /// What the content hashes to.
        computed: String,
    },
    /// The event's `prev_hash` is not the previous event's hash: an event before it was
    /// removed, inserted or rewritten with a recomputed hash.
    PrevMismatch {
        /// The previous event's hash.
        expected: String,
    },
    /// The sequence number is not the previous one plus one: an event is missing or repeated.
    SeqGap {
        /// The expected `seq`.
        expected: u64,
    },
    /// The stored record could not be read as an event.
    Malformed(String),
}

/// The first broken event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Break {
    /// The log.
    pub log: String,
    /// The event's `seq` as stored (0 if unreadable).
    pub seq: u64,
    /// The event's id as stored (or where it is, for an unreadable record).
    pub id: String,
    /// Why.
    pub kind: BreakKind,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event `{}` (log `{}`, seq {}): ", self.id, self.log, self.seq)?;
        match &self.kind {
            BreakKind::HashMismatch { computed } => {
                write!(f, "its content hashes to {computed}, not to its stored hash: it was edited")
            }
            BreakKind::PrevMismatch { expected } => write!(
                f,
                "its prev_hash is not the previous event's hash {expected}: an event before it \
                 was removed, inserted or rewritten"
            ),
            BreakKind::SeqGap { expected } => {
                write!(f, "expected seq {expected}: an event is missing or repeated")
            }
            BreakKind::Malformed(why) => write!(f, "unreadable record: {why}"),
        }
    }
}

/// One log's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSummary {
    /// The log.
    pub log: String,
    /// Events checked.
    pub events: u64,
    /// The head: publish it elsewhere to detect truncation of the log's tail, which no chain
    /// can detect by itself.
    pub head: ChainHead,
}

/// The result of verifying a store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked before the first break (all of them when there is none).
    pub events: u64,
    /// Per log, in name order.
    pub logs: Vec<LogSummary>,
    /// The first broken event, if any.
    pub first_break: Option<Break>,
}

/// Incremental verifier.
#[derive(Debug, Default)]
pub struct Verifier {
    heads: BTreeMap<String, (u64, ChainHead)>,
    events: u64,
    first_break: Option<Break>,
}

impl Verifier {
    /// A verifier that has seen nothing.
    pub fn new() -> Self {
        Verifier::default()
    }

    /// Checks the next event of its log. Returns `false` once the chain is broken (the caller
    /// may stop reading).
    pub fn push(&mut self, event: &AuditEvent) -> bool {
        if self.first_break.is_some() {
            return false;
        }
        let (count, head) =
            self.heads.entry(event.log.clone()).or_insert_with(|| (0, ChainHead::genesis()));
        let broken =
            |kind| Break { log: event.log.clone(), seq: event.seq, id: event.id.clone(), kind };
        let expected_seq = head.seq.saturating_add(1);
        let computed = chain_hash(event);
        let fault = if event.seq != expected_seq {
            Some(broken(BreakKind::SeqGap { expected: expected_seq }))
        } else if event.prev_hash != head.hash {
            Some(broken(BreakKind::PrevMismatch { expected: head.hash.clone() }))
        } else if computed != event.hash {
            Some(broken(BreakKind::HashMismatch { computed }))
        } else {
            None
        };
        if let Some(fault) = fault {
            self.first_break = Some(fault);
            return false;
        }
        *count += 1;
        *head = ChainHead { seq: event.seq, hash: event.hash.clone() };
        self.events += 1;
        true
    }

    /// Records an unreadable record as the break.
    pub fn malformed(&mut self, log: &str, seq: u64, id: &str, why: String) {
        if self.first_break.is_none() {
            self.first_break = Some(Break {
                log: log.to_owned(),
                seq,
                id: id.to_owned(),
                kind: BreakKind::Malformed(why),
            });
        }
    }

    /// The report.
    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            events: self.events,
            logs: self
                .heads
                .into_iter()
                .map(|(log, (events, head))| LogSummary { log, events, head })
                .collect(),
            first_break: self.first_break,
        }
    }
}
