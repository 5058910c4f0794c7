//! The approval data: the exact call an approval is for ([`Binding`]), what a gateway hands the
//! store to open a request ([`NewApproval`], usually built from a [`Call`]), the stored request
//! ([`ApprovalRequest`]) and its [`State`], the bearer [`Token`], and the [`Clock`] that decides
//! expiry (injectable, so expiry is tested without sleeping).

use super::{ApprovalError, ErrorKind};
use crate::audit::Timestamp;
use crate::canonical::{self, hex};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where an approval request is in its life.
///
/// ```text
/// pending ──approve──▶ approved ──consume──▶ consumed
///    │                    │
///    ├──deny──▶ denied    └──(expiry)──▶ expired
///    └──(expiry)──▶ expired
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for a human.
    Pending,
    /// A human approved; the token lifts the requirement once, for the bound call.
    Approved,
    /// A human denied.
    Denied,
    /// Nobody decided, or the approved call was not made, before the expiry.
    Expired,
    /// The approved call was made.
    Consumed,
}

impl State {
    /// The stable name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Approved => "approved",
            State::Denied => "denied",
            State::Expired => "expired",
            State::Consumed => "consumed",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [State::Pending, State::Approved, State::Denied, State::Expired, State::Consumed]
            .into_iter()
            .find(|state| state.as_str() == name)
    }

    /// The audit event that records a change into this state.
    pub const fn event_kind(self) -> crate::audit::EventKind {
        use crate::audit::EventKind;
        match self {
            State::Pending => EventKind::ApprovalCreated,
            State::Approved => EventKind::ApprovalApproved,
            State::Denied => EventKind::ApprovalDenied,
            State::Expired => EventKind::ApprovalExpired,
            State::Consumed => EventKind::ApprovalConsumed,
        }
    }

    /// Pending or approved: the request can still change, and it is listed.
    pub const fn is_open(self) -> bool {
        matches!(self, State::Pending | State::Approved)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The exact call an approval is for. A token lifts the requirement only for a call whose
/// binding equals this one in every field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The policy's content hash (`Program::content_hash`), lowercase hex.
    pub policy_hash: String,
    /// The principal id.
    pub principal: String,
    /// The upstream server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// `sha256:HEX` of the canonical (RFC 8785) arguments: the audit trail's `args_digest`.
    pub args_digest: String,
    /// The id of the rule that required approval.
    pub rule: String,
}

impl Binding {
    /// The first field in which `presented` differs from this (approved) binding, as the
    /// reason code to deny with; `None` when they are equal. Checked in a fixed order so a
    /// call that differs in several fields always gets the same code.
    pub fn mismatch(&self, presented: &Binding) -> Option<ErrorKind> {
        if self.policy_hash != presented.policy_hash {
            Some(ErrorKind::PolicyChanged)
        } else if self.principal != presented.principal {
            Some(ErrorKind::PrincipalMismatch)
        } else if self.server != presented.server || self.tool != presented.tool {
            Some(ErrorKind::ToolMismatch)
        } else if self.args_digest != presented.args_digest {
            Some(ErrorKind::ArgsChanged)
        } else if self.rule != presented.rule {
            Some(ErrorKind::BindingMismatch)
        } else {
            None
        }
    }
}

/// A call as a gateway sees it: what the runtime evaluated, plus the policy's hash.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The policy's content hash (`Program::content_hash`).
    pub policy_hash: [u8; 32],
    /// The MCP method (`tools/call`).
    pub method: &'a str,
    /// The upstream server.
    pub server: &'a str,
    /// The tool.
    pub tool: &'a str,
    /// The principal id.
    pub principal: &'a str,
    /// The principal's roles (shown to approvers; not part of the binding, but a change of
    /// roles that changes the deciding rule is a [`ErrorKind::BindingMismatch`]).
    pub roles: &'a [&'a str],
    /// The raw argument bytes, exactly as the runtime saw them.
    pub args: &'a [u8],
}

impl Call<'_> {
    /// The binding of this call to `rule`.
    ///
    /// # Errors
    /// `approval.invalid` when the arguments have no canonical form (the runtime denies such
    /// calls, so they never reach an approval).
    pub fn binding(&self, rule: &str) -> Result<Binding, ApprovalError> {
        let (_, args_digest) = canonical_args(self.args)?;
        Ok(self.binding_with(rule, args_digest))
    }

    fn binding_with(&self, rule: &str, args_digest: String) -> Binding {
        Binding {
            policy_hash: hex(&self.policy_hash),
            principal: self.principal.to_owned(),
            server: self.server.to_owned(),
            tool: self.tool.to_owned(),
            args_digest,
            rule: rule.to_owned(),
        }
    }

    /// A request for approval of this call, which `rule` required (with its human `reason` and
    /// `risk`), open for `ttl`.
    ///
    /// # Errors
    /// `approval.invalid` when the arguments have no canonical form or `ttl` is zero.
    pub fn request(
        &self,
        rule: &str,
        reason: &str,
        risk: &str,
        ttl: Duration,
    ) -> Result<NewApproval, ApprovalError> {
        let (args, args_digest) = canonical_args(self.args)?;
        if ttl.is_zero() {
            return Err(ApprovalError::new(ErrorKind::Invalid, "an approval needs a non-zero ttl"));
        }
        Ok(NewApproval {
            binding: self.binding_with(rule, args_digest),
            method: self.method.to_owned(),
            roles: self.roles.iter().map(|role| (*role).to_owned()).collect(),
            args,
            reason: reason.to_owned(),
            risk: risk.to_owned(),
            ttl,
        })
    }
}

/// The canonical text of raw argument bytes and its digest, computed exactly as the audit
/// trail computes `args_digest` (parse strictly, canonicalise, re-read, digest), so an approval
/// and the audit events of its call name the same digest.
///
/// # Errors
/// `approval.invalid` when the bytes have no canonical form.
pub fn canonical_args(raw: &[u8]) -> Result<(String, String), ApprovalError> {
    let invalid = |error: canonical::CanonicalError| {
        ApprovalError::new(
            ErrorKind::Invalid,
            format!("the arguments have no canonical JSON form: {error}"),
        )
    };
    let value = canonical::parse_strict(raw).map_err(invalid)?;
    let value =
        canonical::parse_strict(canonical::to_canonical(&value).as_bytes()).map_err(invalid)?;
    Ok((canonical::to_canonical(&value), canonical::digest(&value)))
}

/// What a gateway hands [`super::ApprovalStore::create`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApproval {
    /// The exact call.
    pub binding: Binding,
    /// The MCP method.
    pub method: String,
    /// The principal's roles.
    pub roles: Vec<String>,
    /// The canonical argument text, shown to approvers (they must see what they approve).
    pub args: String,
    /// The rule's human reason.
    pub reason: String,
    /// The rule's risk: `low`, `medium`, `high` or `critical`.
    pub risk: String,
    /// How long the request stays open: undecided, or approved and unused, it then expires.
    pub ttl: Duration,
}

/// A stored approval request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// The id approvers use (not a secret: it cannot lift anything).
    pub id: String,
    /// Where it is in its life.
    pub state: State,
    /// The exact call.
    pub binding: Binding,
    /// The MCP method.
    pub method: String,
    /// The principal's roles.
    pub roles: Vec<String>,
    /// The canonical argument text.
    pub args: String,
    /// The rule's human reason.
    pub reason: String,
    /// The rule's risk.
    pub risk: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at: u64,
    /// When it expires if still open, in milliseconds since the Unix epoch.
    pub expires_at: u64,
    /// When a human approved or denied it.
    pub decided_at: Option<u64>,
    /// Who approved or denied it.
    pub decided_by: Option<String>,
    /// Why it was denied (the approver's words).
    pub note: Option<String>,
    /// When the approved call was made.
    pub consumed_at: Option<u64>,
    /// When it expired.
    pub expired_at: Option<u64>,
}

impl ApprovalRequest {
    /// The request as opened by `create`.
    pub fn open(id: String, new: NewApproval, now_ms: u64) -> Self {
        let ttl_ms = u64::try_from(new.ttl.as_millis()).unwrap_or(u64::MAX);
        ApprovalRequest {
            id,
            state: State::Pending,
            binding: new.binding,
            method: new.method,
            roles: new.roles,
            args: new.args,
            reason: new.reason,
            risk: new.risk,
            created_at: now_ms,
            expires_at: now_ms.saturating_add(ttl_ms.max(1)),
            decided_at: None,
            decided_by: None,
            note: None,
            consumed_at: None,
            expired_at: None,
        }
    }

    /// Open and past its expiry at `now_ms`: the next look at it makes it expired.
    pub const fn is_overdue(&self, now_ms: u64) -> bool {
        self.state.is_open() && now_ms >= self.expires_at
    }
}

/// Milliseconds since the epoch as an RFC 3339 time, for people.
pub fn format_ms(ms: u64) -> String {
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX / 1000).saturating_mul(1000)).to_string()
}

/// A fresh approval id: a UUIDv7 (ordered by time, so listings read in creation order).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The bearer secret that lifts one approved requirement once. 256 bits from the operating
/// system's random source; stores keep only its SHA-256 ([`Token::hash`]). `Debug` does not
/// print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// The prefix of every token, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "mcpa_";

impl Token {
    /// A fresh token from the OS random source.
    ///
    /// # Errors
    /// `approval.unavailable` when the OS random source fails (no token is ever made from a
    /// weaker source).
    pub fn generate() -> Result<Self, ApprovalError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| {
            ApprovalError::new(
                ErrorKind::Unavailable,
                format!("the OS random source failed: {error}"),
            )
        })?;
        Ok(Token(format!("{TOKEN_PREFIX}{}", hex(&bytes))))
    }

    /// The secret text, to hand to whoever may make the approved call.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What stores keep: lowercase hex SHA-256 of the token text.
    pub fn hash(&self) -> String {
        token_hash(&self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// Lowercase hex SHA-256 of a presented token's text: the only form a store keeps or looks up.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// What a store decides expiry by: milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told: for tests of expiry.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock reading `ms`.
    pub fn new(ms: u64) -> Self {
        ManualClock(AtomicU64::new(ms))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.0.fetch_add(by, Ordering::AcqRel);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}
