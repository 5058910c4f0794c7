//! Approval store scenarios shared by the in-memory store's tests (`tests/approvals.rs`) and the
//! Redis store's (`adapters/approvals-redis/tests/redis.rs`, which includes this file), so both
//! stores are held to exactly the same semantics by the same code.

#![allow(dead_code, reason = "each including test binary uses its own subset")]

use mcppol_adapters_core::approval::{
    ApprovalRequest, ApprovalStore, Binding, Call, Created, ErrorKind, ManualClock, State,
};
use mcppol_adapters_core::audit::{AuditError, AuditSink, EventKind, FlushReport, Record};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

/// An audit sink that keeps what it is given, to check which events a store emits.
#[derive(Debug, Default)]
pub struct Collect(pub Mutex<Vec<Record>>);

impl AuditSink for Collect {
    fn record(&self, record: Record) -> Result<String, AuditError> {
        self.0.lock().unwrap().push(record);
        Ok(String::new())
    }
    fn flush(&self) -> Result<FlushReport, AuditError> {
        Ok(FlushReport { written: 0, pending: 0, failures: 0, last_error: None })
    }
    fn close(&self) -> Result<FlushReport, AuditError> {
        self.flush()
    }
}

impl Collect {
    /// The kinds recorded for approval `id`, in order.
    pub fn kinds(&self, id: &str) -> Vec<EventKind> {
        let records = self.0.lock().unwrap();
        records
            .iter()
            .filter(|record| record.approval_id.as_deref() == Some(id))
            .map(|record| record.kind)
            .collect()
    }
}

/// A store under test with its clock and audit sink.
pub struct Fixture {
    pub store: Arc<dyn ApprovalStore>,
    pub clock: Arc<ManualClock>,
    pub audit: Arc<Collect>,
}

pub const POLICY: [u8; 32] = [7; 32];

pub fn call(args: &'static str) -> Call<'static> {
    Call {
        policy_hash: POLICY,
        method: "tools/call",
        server: "files",
        tool: "fs.write",
        principal: "ana",
        roles: &["dev"],
        args: args.as_bytes(),
    }
}

pub const ARGS: &str = r#"{"path":"/workspace/deploy.sh","mode":"0755"}"#;
pub const RULE: &str = "writes-need-approval";
pub const TTL: Duration = Duration::from_secs(600);

pub fn create(fixture: &Fixture, args: &'static str) -> Created {
    let new = call(args).request(RULE, "writes need a human", "high", TTL).unwrap();
    fixture.store.create(new).unwrap()
}

pub fn binding(args: &'static str) -> Binding {
    call(args).binding(RULE).unwrap()
}

fn code<T: std::fmt::Debug>(
    result: Result<T, mcppol_adapters_core::approval::ApprovalError>,
) -> &'static str {
    result.unwrap_err().code()
}

/// Create, approve, consume once; a second use is `approval.consumed`; every change recorded.
pub fn lifecycle(fixture: &Fixture) {
    let created = create(fixture, ARGS);
    let id = created.request.id.clone();
    assert_eq!(created.request.state, State::Pending);
    assert!(created.token.as_str().starts_with("mcpa_"));
    assert_eq!(created.token.as_str().len(), 5 + 64, "256 bits in hex");
    assert_eq!(fixture.store.get(&id).unwrap(), created.request);
    let open = fixture.store.open(100).unwrap();
    assert!(open.iter().any(|request| request.id == id));
    // Before anyone decides, the token lifts nothing.
    assert_eq!(
        code(fixture.store.consume(created.token.as_str(), &binding(ARGS))),
        "approval.pending"
    );
    let approved = fixture.store.approve(&id, "bob").unwrap();
    assert_eq!((approved.state, approved.decided_by.as_deref()), (State::Approved, Some("bob")));
    assert_eq!(code(fixture.store.approve(&id, "bob")), "approval.not_pending");
    assert_eq!(code(fixture.store.deny(&id, "eve", "no")), "approval.not_pending");
    // The same call with its members reordered and re-spaced is the same canonical call.
    let respelled = r#"{ "mode" : "0755", "path":"/workspace/deploy.sh" }"#;
    let consumed = fixture.store.consume(created.token.as_str(), &binding(respelled)).unwrap();
    assert_eq!(consumed.state, State::Consumed);
    assert!(consumed.consumed_at.is_some());
    assert_eq!(
        code(fixture.store.consume(created.token.as_str(), &binding(ARGS))),
        "approval.consumed"
    );
    assert_eq!(fixture.store.get(&id).unwrap().state, State::Consumed);
    assert!(!fixture.store.open(100).unwrap().iter().any(|request| request.id == id));
    assert_eq!(
        fixture.audit.kinds(&id),
        [EventKind::ApprovalCreated, EventKind::ApprovalApproved, EventKind::ApprovalConsumed]
    );
    let records = fixture.audit.0.lock().unwrap();
    let consumed_event = records.iter().rfind(|r| r.approval_id.as_deref() == Some(&*id)).unwrap();
    assert_eq!(
        (consumed_event.decision.as_str(), consumed_event.rule.as_deref()),
        ("allow", Some(RULE))
    );
    assert_eq!(consumed_event.policy_hash, POLICY);
}

/// A token lifts the requirement only for the exact call: each difference has its own code,
/// and none of them uses the token up.
pub fn mismatches(fixture: &Fixture) {
    let created = create(fixture, ARGS);
    fixture.store.approve(&created.request.id, "bob").unwrap();
    let token = created.token.as_str();
    let exact = binding(ARGS);
    let cases: Vec<(Binding, &str)> = vec![
        (binding(r#"{"path":"/workspace/deploy.sh","mode":"0777"}"#), "approval.args_changed"),
        (binding(r#"{"path":"/workspace/deploy.sh"}"#), "approval.args_changed"),
        (Binding { tool: "fs.delete".into(), ..exact.clone() }, "approval.tool_mismatch"),
        (Binding { server: "other".into(), ..exact.clone() }, "approval.tool_mismatch"),
        (Binding { principal: "mallory".into(), ..exact.clone() }, "approval.principal_mismatch"),
        (Binding { policy_hash: "ab".repeat(32), ..exact.clone() }, "approval.policy_changed"),
        (Binding { rule: "another-rule".into(), ..exact.clone() }, "approval.binding_mismatch"),
    ];
    for (presented, expected) in cases {
        assert_eq!(code(fixture.store.consume(token, &presented)), expected, "{presented:?}");
    }
    assert_eq!(code(fixture.store.consume("mcpa_guess", &exact)), "approval.unknown_token");
    assert_eq!(code(fixture.store.consume("", &exact)), "approval.unknown_token");
    // A token of a *different* approved call does not lift this one.
    let other = create(fixture, r#"{"path":"/workspace/other.sh"}"#);
    fixture.store.approve(&other.request.id, "bob").unwrap();
    assert_eq!(code(fixture.store.consume(other.token.as_str(), &exact)), "approval.args_changed");
    // None of the refusals used the token up.
    assert_eq!(fixture.store.consume(token, &exact).unwrap().state, State::Consumed);
}

/// Denied requests deny; unknown ids are named.
pub fn denial(fixture: &Fixture) {
    let created = create(fixture, ARGS);
    let id = created.request.id.clone();
    let denied = fixture.store.deny(&id, "bob", "not on a friday").unwrap();
    assert_eq!((denied.state, denied.note.as_deref()), (State::Denied, Some("not on a friday")));
    assert_eq!(
        code(fixture.store.consume(created.token.as_str(), &binding(ARGS))),
        "approval.denied"
    );
    assert_eq!(code(fixture.store.approve(&id, "bob")), "approval.not_pending");
    assert_eq!(code(fixture.store.approve("no-such-id", "bob")), "approval.not_found");
    assert_eq!(code(fixture.store.get("no-such-id")), "approval.not_found");
    assert_eq!(fixture.audit.kinds(&id), [EventKind::ApprovalCreated, EventKind::ApprovalDenied]);
    let records = fixture.audit.0.lock().unwrap();
    let event = records.iter().rfind(|r| r.approval_id.as_deref() == Some(&*id)).unwrap();
    assert_eq!(event.decision, "deny");
    assert!(event.reason.contains("bob") && event.reason.contains("not on a friday"));
}

/// Expiry by the injected clock: an undecided request, an approved but unused one, and a sweep;
/// each expiry is recorded exactly once.
pub fn expiry(fixture: &Fixture) {
    let pending = create(fixture, ARGS);
    let approved = create(fixture, ARGS);
    let swept = create(fixture, ARGS);
    fixture.store.approve(&approved.request.id, "bob").unwrap();
    fixture.clock.advance(TTL - Duration::from_millis(1));
    assert!(fixture.store.get(&pending.request.id).unwrap().state == State::Pending);
    fixture.clock.advance(Duration::from_millis(1));
    // Exactly at the expiry the request is over.
    assert_eq!(
        code(fixture.store.consume(approved.token.as_str(), &binding(ARGS))),
        "approval.expired"
    );
    assert_eq!(
        code(fixture.store.consume(approved.token.as_str(), &binding(ARGS))),
        "approval.expired"
    );
    assert_eq!(code(fixture.store.approve(&pending.request.id, "bob")), "approval.expired");
    assert_eq!(code(fixture.store.approve(&pending.request.id, "bob")), "approval.not_pending");
    let expired: Vec<ApprovalRequest> = fixture.store.expire_overdue().unwrap();
    assert_eq!(
        expired.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [swept.request.id.as_str()]
    );
    assert!(fixture.store.expire_overdue().unwrap().is_empty());
    assert!(fixture.store.open(100).unwrap().is_empty());
    for created in [&pending, &approved, &swept] {
        let request = fixture.store.get(&created.request.id).unwrap();
        assert_eq!(request.state, State::Expired);
        assert_eq!(
            fixture.audit.kinds(&created.request.id).last(),
            Some(&EventKind::ApprovalExpired)
        );
        let expiries = fixture
            .audit
            .kinds(&created.request.id)
            .into_iter()
            .filter(|kind| *kind == EventKind::ApprovalExpired)
            .count();
        assert_eq!(expiries, 1);
    }
}

/// `threads` consumers, each from `consumer()` (its own connection for Redis), race on one
/// approved token: exactly one wins, every other is told `approval.consumed`.
pub fn race(
    fixture: &Fixture,
    threads: usize,
    consumer: &(dyn Fn() -> Arc<dyn ApprovalStore> + Sync),
) {
    let created = create(fixture, ARGS);
    fixture.store.approve(&created.request.id, "bob").unwrap();
    let stores: Vec<Arc<dyn ApprovalStore>> = (0..threads).map(|_| consumer()).collect();
    let barrier = Barrier::new(threads);
    let wins = AtomicUsize::new(0);
    let refusals = Mutex::new(Vec::new());
    let exact = binding(ARGS);
    std::thread::scope(|scope| {
        for store in &stores {
            scope.spawn(|| {
                barrier.wait();
                match store.consume(created.token.as_str(), &exact) {
                    Ok(_) => {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(error) => refusals.lock().unwrap().push(error.code()),
                }
            });
        }
    });
    let refusals = refusals.into_inner().unwrap();
    assert_eq!(wins.load(Ordering::SeqCst), 1, "refusals: {refusals:?}");
    assert_eq!(refusals.len(), threads - 1);
    assert!(refusals.iter().all(|code| *code == "approval.consumed"), "{refusals:?}");
    let consumed = fixture
        .audit
        .kinds(&created.request.id)
        .into_iter()
        .filter(|kind| *kind == EventKind::ApprovalConsumed)
        .count();
    assert_eq!(consumed, 1, "one consumption, one event");
}

/// Arguments without a canonical form can never make or match an approval.
pub fn invalid_args() {
    let bad = Call { args: br#"{"a":1,"a":2}"#, ..call(ARGS) };
    assert_eq!(bad.binding(RULE).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(bad.request(RULE, "r", "high", TTL).unwrap_err().code(), "approval.invalid");
    assert_eq!(
        call(ARGS).request(RULE, "r", "high", Duration::ZERO).unwrap_err().code(),
        "approval.invalid"
    );
}
