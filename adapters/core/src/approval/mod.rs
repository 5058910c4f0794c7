//! Human approvals: what lifts a `require_approval` decision, once, for one exact call.
//! `docs/approvals.md` specifies the semantics, the reason codes and the stores.
//!
//! A gateway that gets `require_approval` from the runtime opens a request with
//! [`ApprovalStore::create`] (built from the [`Call`]); the store hands back an id (for
//! approvers) and a [`Token`] (for whoever makes the call again). A human approves or denies by
//! id. The repeated call presents the token and its own [`Binding`] to
//! [`ApprovalStore::consume`], which succeeds exactly once, and only when the binding matches
//! in every field; every other outcome is an [`ApprovalError`] whose code the gateway denies
//! with. A store that cannot answer says `approval.unavailable`: fail closed.
//!
//! Every state change is recorded through the audit trail's [`AuditSink`] (kinds
//! `approval.created`, `approval.approved`, `approval.denied`, `approval.consumed`,
//! `approval.expired`), and a [`Notifier`] (the [`WebhookNotifier`]) tells approvers about new
//! requests. [`MemoryStore`] is the embedded store; `mcppol-approvals-redis` shares one store
//! between gateways.

mod error;
mod memory;
mod model;
mod webhook;

pub use error::{ApprovalError, ErrorKind};
pub use memory::MemoryStore;
pub use model::{
    ApprovalRequest, Binding, Call, Clock, ManualClock, NewApproval, State, SystemClock,
    TOKEN_PREFIX, Token, canonical_args, format_ms, new_id, token_hash,
};
pub use webhook::{
    DELIVERY_HEADER, Delivery, IN_FLIGHT_MAX, PayloadFormat, SIGNATURE_HEADER, TIMESTAMP_HEADER,
    WebhookConfig, WebhookNotifier, sign, verify_signature,
};

use crate::audit::{AuditSink, EventKind, Record};
use std::sync::Arc;
use std::time::Duration;

/// A new request and its token. The token is shown once: stores keep only its hash.
#[derive(Debug)]
pub struct Created {
    /// The stored request.
    pub request: ApprovalRequest,
    /// The bearer secret for the approved call.
    pub token: Token,
}

/// Where approvals live. Every method is atomic: concurrent callers (threads, gateways) never
/// see a half-made change, and a token is consumed at most once.
pub trait ApprovalStore: Send + Sync {
    /// Opens a pending request for one exact call.
    ///
    /// # Errors
    /// `approval.unavailable` (store down or slow), `approval.invalid`,
    /// `approval.audit_unavailable` (the request exists but its event was refused).
    fn create(&self, request: NewApproval) -> Result<Created, ApprovalError>;

    /// The request with this id, as stored (an overdue open request reads as it is until the
    /// next state change or sweep expires it).
    ///
    /// # Errors
    /// `approval.not_found`, `approval.unavailable`, `approval.malformed`.
    fn get(&self, id: &str) -> Result<ApprovalRequest, ApprovalError>;

    /// Open (pending or approved) requests, soonest expiry first, after expiring the overdue
    /// ones ([`ApprovalStore::expire_overdue`]).
    ///
    /// # Errors
    /// `approval.unavailable`, `approval.malformed`, `approval.audit_unavailable`.
    fn open(&self, limit: usize) -> Result<Vec<ApprovalRequest>, ApprovalError>;

    /// A human approves a pending request.
    ///
    /// # Errors
    /// `approval.not_found`, `approval.not_pending`, `approval.expired` (it just expired),
    /// `approval.unavailable`, `approval.audit_unavailable`.
    fn approve(&self, id: &str, approver: &str) -> Result<ApprovalRequest, ApprovalError>;

    /// A human denies a pending request, saying why.
    ///
    /// # Errors
    /// As [`ApprovalStore::approve`].
    fn deny(
        &self,
        id: &str,
        approver: &str,
        reason: &str,
    ) -> Result<ApprovalRequest, ApprovalError>;

    /// Uses the approval `token` for the call `binding` describes: succeeds once, only for an
    /// approved, unexpired request whose binding equals `binding` in every field.
    ///
    /// # Errors
    /// The reason to deny the call with: `approval.unknown_token`, `approval.pending`,
    /// `approval.denied`, `approval.expired`, `approval.consumed`,
    /// `approval.policy_changed`, `approval.principal_mismatch`, `approval.tool_mismatch`,
    /// `approval.args_changed`, `approval.binding_mismatch`, `approval.unavailable`,
    /// `approval.audit_unavailable`.
    fn consume(&self, token: &str, binding: &Binding) -> Result<ApprovalRequest, ApprovalError>;

    /// Expires every open request past its expiry (recording each), and returns them. Listing
    /// does this; a gateway also calls it now and then so expiries reach the audit trail.
    ///
    /// # Errors
    /// `approval.unavailable`, `approval.malformed`, `approval.audit_unavailable`.
    fn expire_overdue(&self) -> Result<Vec<ApprovalRequest>, ApprovalError>;
}

/// Tells approvers about a new request. Must not block the caller for long: a webhook delivers
/// in the background.
pub trait Notifier: Send + Sync {
    /// A request was created.
    fn notify(&self, request: &ApprovalRequest);
}

/// Settings every store shares.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// How long a request is kept after its expiry, whatever its state, so that a late or
    /// repeated use of its token still gets the precise reason (`approval.consumed`, ...)
    /// rather than `approval.unknown_token`, and `show` can still display it.
    pub retention: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { retention: Duration::from_secs(3600) }
    }
}

/// What a store does beside changing state: record each change in the audit trail, tell
/// approvers about new requests.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Where state changes are recorded.
    pub audit: Option<Arc<dyn AuditSink>>,
    /// Who hears about new requests.
    pub notifier: Option<Arc<dyn Notifier>>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("audit", &self.audit.is_some())
            .field("notifier", &self.notifier.is_some())
            .finish()
    }
}

impl Hooks {
    /// Records the state change `kind` of `request`.
    ///
    /// # Errors
    /// `approval.audit_unavailable` when the sink refuses the event (the change has happened;
    /// a gateway denies the call, so nothing unrecorded is ever allowed).
    pub fn record(&self, kind: EventKind, request: &ApprovalRequest) -> Result<(), ApprovalError> {
        let Some(audit) = &self.audit else { return Ok(()) };
        audit.record(event(kind, request)).map(|_| ()).map_err(|error| {
            ApprovalError::new(
                ErrorKind::AuditUnavailable,
                format!("`{kind}` of approval `{}` could not be recorded: {error}", request.id),
            )
        })
    }

    /// Records the creation of `request` and tells the notifier.
    ///
    /// # Errors
    /// As [`Hooks::record`].
    pub fn created(&self, request: &ApprovalRequest) -> Result<(), ApprovalError> {
        self.record(EventKind::ApprovalCreated, request)?;
        if let Some(notifier) = &self.notifier {
            notifier.notify(request);
        }
        Ok(())
    }

    /// Records each expiry in `expired`, reporting the first refusal after trying them all.
    ///
    /// # Errors
    /// As [`Hooks::record`].
    pub fn expired(&self, expired: &[ApprovalRequest]) -> Result<(), ApprovalError> {
        let mut first = Ok(());
        for request in expired {
            let outcome = self.record(EventKind::ApprovalExpired, request);
            if first.is_ok() {
                first = outcome;
            }
        }
        first
    }
}

/// The audit record of a state change: the call it is about (policy, principal, tool, the
/// canonical arguments: the sink's argument mode decides what is kept, and its digest equals
/// the binding's), the decision the change amounts to, and the approval id.
pub fn event(kind: EventKind, request: &ApprovalRequest) -> Record {
    let binding = &request.binding;
    let (decision, reason) = match kind {
        EventKind::ApprovalApproved => (
            "allow",
            format!("approved by {}", request.decided_by.as_deref().unwrap_or("(unknown)")),
        ),
        EventKind::ApprovalDenied => (
            "deny",
            format!(
                "denied by {}: {}",
                request.decided_by.as_deref().unwrap_or("(unknown)"),
                request.note.as_deref().unwrap_or("")
            ),
        ),
        EventKind::ApprovalConsumed => ("allow", "the approved call was made".to_owned()),
        EventKind::ApprovalExpired => (
            "deny",
            format!(
                "expired while {}",
                if request.decided_at.is_some() { "unused" } else { "pending" }
            ),
        ),
        EventKind::ApprovalCreated | EventKind::Decision => {
            ("require_approval", request.reason.clone())
        }
    };
    Record {
        kind,
        policy_hash: decode_hash(&binding.policy_hash),
        method: request.method.clone(),
        server: binding.server.clone(),
        tool: binding.tool.clone(),
        principal: binding.principal.clone(),
        roles: request.roles.clone(),
        decision: decision.to_owned(),
        rule: Some(binding.rule.clone()),
        code: kind.as_str().to_owned(),
        reason,
        risk: request.risk.clone(),
        latency_ns: 0,
        approval_id: Some(request.id.clone()),
        args: request.args.clone().into_bytes(),
    }
}

/// The 32 bytes a lowercase hex policy hash spells; zeros for anything else (stores only keep
/// hashes they were given by [`Call`], which are always 64 hex digits).
fn decode_hash(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return out;
    }
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let digits = std::str::from_utf8(pair).ok().and_then(|d| u8::from_str_radix(d, 16).ok());
        let Some(value) = digits else { return [0; 32] };
        *byte = value;
    }
    out
}
