//! The queued sink's contract, over an in-memory backend whose failures the test controls:
//! fail-closed and blocking full-queue policies, spool replay that stays exactly-once when a
//! "failed" write had in fact committed, and the unavailable state when nothing can keep
//! records. (PostgreSQL itself is tested for real in `mcppol-audit-postgres`.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

use mcppol_adapters_core::audit::{
    AuditError, AuditEvent, AuditSink, Backend, ChainHead, ErrorKind, EventKind, FullPolicy,
    QueuedSink, Record, SinkOptions, Verifier,
};
use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
struct State {
    events: Vec<AuditEvent>,
    /// Appends wait while this is true.
    gate_closed: bool,
    /// Appends fail while this is true.
    down: bool,
    /// The next append commits and then reports failure (a lost COMMIT acknowledgement).
    lose_ack: bool,
}

#[derive(Clone, Default)]
struct Memory(Arc<(Mutex<State>, Condvar)>);

impl Memory {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let result = f(&mut self.0.0.lock().unwrap());
        self.0.1.notify_all();
        result
    }
}

fn unreachable() -> AuditError {
    AuditError::new(ErrorKind::Database, "down")
}

impl Backend for Memory {
    fn head(&mut self, log: &str) -> Result<ChainHead, AuditError> {
        self.with(|state| {
            if state.down {
                return Err(unreachable());
            }
            Ok(state.events.iter().rev().find(|event| event.log == log).map_or_else(
                ChainHead::genesis,
                |event| ChainHead { seq: event.seq, hash: event.hash.clone() },
            ))
        })
    }

    fn stored(&mut self, ids: &[&str]) -> Result<BTreeSet<String>, AuditError> {
        self.with(|state| {
            Ok(state
                .events
                .iter()
                .filter(|e| ids.contains(&e.id.as_str()))
                .map(|e| e.id.clone())
                .collect())
        })
    }

    fn append(&mut self, events: &[AuditEvent]) -> Result<(), AuditError> {
        let (lock, condvar) = &*self.0;
        let mut state =
            condvar.wait_while(lock.lock().unwrap(), |state| state.gate_closed).unwrap();
        if state.down {
            return Err(unreachable());
        }
        for event in events {
            if !state.events.iter().any(|stored| stored.id == event.id) {
                state.events.push(event.clone());
            }
        }
        if state.lose_ack {
            state.lose_ack = false;
            return Err(AuditError::new(ErrorKind::Database, "connection lost during commit"));
        }
        Ok(())
    }

    fn reset(&mut self) {}
}

fn record(i: usize) -> Record {
    Record {
        kind: EventKind::Decision,
        policy_hash: [0; 32],
        method: "tools/call".into(),
        server: String::new(),
        tool: "t".into(),
        principal: format!("p{i}"),
        roles: vec![],
        decision: "allow".into(),
        rule: None,
        code: "policy.default".into(),
        reason: String::new(),
        risk: "low".into(),
        latency_ns: 1,
        approval_id: None,
        args: b"{}".to_vec(),
    }
}

fn options(policy: FullPolicy, capacity: usize, spool: Option<std::path::PathBuf>) -> SinkOptions {
    SinkOptions {
        full_policy: policy,
        capacity,
        batch_max: 3,
        spool,
        retry_interval: Duration::from_millis(20),
        ..SinkOptions::default()
    }
}

/// Stored ids in chain order, after checking the chain.
fn stored_ids(memory: &Memory) -> Vec<String> {
    memory.with(|state| {
        let mut verifier = Verifier::new();
        for event in &state.events {
            assert!(verifier.push(event), "{:?}", verifier);
        }
        state.events.iter().map(|event| event.id.clone()).collect()
    })
}

#[test]
fn fail_closed_refuses_at_once_when_the_queue_is_full() {
    let memory = Memory::default();
    memory.with(|state| state.gate_closed = true);
    let sink = QueuedSink::start(memory.clone(), options(FullPolicy::FailClosed, 4, None)).unwrap();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..50 {
        match sink.record(record(i)) {
            Ok(id) => accepted.push(id),
            Err(error) => {
                assert_eq!(error.kind, ErrorKind::QueueFull);
                assert_eq!(error.code(), "audit.queue_full");
                refused += 1;
            }
        }
    }
    assert!(refused > 0 && accepted.len() < 50, "{refused} refused");
    memory.with(|state| state.gate_closed = false);
    sink.close().unwrap();
    assert_eq!(stored_ids(&memory), accepted, "every accepted record, in order");
}

#[test]
fn block_waits_for_room_and_loses_nothing() {
    let memory = Memory::default();
    memory.with(|state| state.gate_closed = true);
    let sink =
        Arc::new(QueuedSink::start(memory.clone(), options(FullPolicy::Block, 2, None)).unwrap());
    let producer = {
        let sink = Arc::clone(&sink);
        std::thread::spawn(move || {
            (0..20).map(|i| sink.record(record(i)).unwrap()).collect::<Vec<_>>()
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!producer.is_finished(), "the producer waits while the store is stalled");
    memory.with(|state| state.gate_closed = false);
    let ids = producer.join().unwrap();
    sink.close().unwrap();
    assert_eq!(stored_ids(&memory), ids);
}

#[test]
fn replay_is_exactly_once_even_when_a_failed_write_had_committed() {
    let dir = std::env::temp_dir().join(format!("mcppol-queue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let memory = Memory::default();
    let sink =
        QueuedSink::start(memory.clone(), options(FullPolicy::Block, 64, Some(dir.join("spool"))))
            .unwrap();
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(sink.record(record(i)).unwrap());
    }
    sink.flush().unwrap();
    memory.with(|state| state.lose_ack = true);
    for i in 10..20 {
        ids.push(sink.record(record(i)).unwrap());
    }
    sink.flush().unwrap();
    memory.with(|state| state.down = true);
    for i in 20..30 {
        ids.push(sink.record(record(i)).unwrap());
    }
    let report = sink.flush().unwrap();
    assert!(report.pending > 0, "{report:?}");
    assert!(report.failures >= 1);
    memory.with(|state| state.down = false);
    let report = sink.close().unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
    assert_eq!(stored_ids(&memory), ids);
}

#[test]
fn without_a_spool_the_sink_reports_records_cannot_be_kept() {
    let memory = Memory::default();
    memory.with(|state| state.down = true);
    let sink =
        QueuedSink::start(memory.clone(), options(FullPolicy::FailClosed, 16, None)).unwrap();
    let first = sink.record(record(0)).unwrap();
    let report = sink.flush().unwrap();
    assert_eq!(report.pending, 1);
    let error = sink.record(record(1)).unwrap_err();
    assert_eq!((error.kind, error.code()), (ErrorKind::Unavailable, "audit.unavailable"));
    memory.with(|state| state.down = false);
    assert_eq!(sink.flush().unwrap().pending, 0);
    let second = sink.record(record(2)).unwrap();
    sink.close().unwrap();
    assert_eq!(stored_ids(&memory), [first, second]);
    assert_eq!(sink.record(record(3)).unwrap_err().kind, ErrorKind::Closed);
}
