//! Approval errors. Each has a stable reason code: a gateway denies the call with it, so an
//! agent, an operator and an auditor can tell *why* a token did not lift the requirement
//! (changed arguments are a different story from an expired approval).

use std::fmt;

/// Why an approval operation did not succeed, as a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// The request is still waiting for a human.
    Pending,
    /// A human denied the request.
    Denied,
    /// Nobody decided (or the approved call was not made) before the expiry.
    Expired,
    /// The approval was already used: approvals are single-use.
    Consumed,
    /// The call is evaluated under another policy version than the one approved.
    PolicyChanged,
    /// The call comes from another principal than the one approved.
    PrincipalMismatch,
    /// The call is to another server or tool than the one approved.
    ToolMismatch,
    /// The call's canonical arguments differ from the approved ones.
    ArgsChanged,
    /// The call matched another rule than the one approved (e.g. the principal's roles
    /// changed).
    BindingMismatch,
    /// No approval has this token.
    UnknownToken,
    /// No approval has this id.
    NotFound,
    /// Approve or deny on a request that is no longer pending.
    NotPending,
    /// The store is unreachable, too slow or failing: fail closed, deny the call.
    Unavailable,
    /// The input cannot make an approval (arguments without a canonical form, a bad setting).
    Invalid,
    /// A stored approval could not be read back.
    Malformed,
    /// The state changed but the audit sink refused the event: deny the call.
    AuditUnavailable,
    /// The webhook could not be delivered.
    NotifyFailed,
}

impl ErrorKind {
    /// Every kind, for parsing and documentation tests.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Pending,
        ErrorKind::Denied,
        ErrorKind::Expired,
        ErrorKind::Consumed,
        ErrorKind::PolicyChanged,
        ErrorKind::PrincipalMismatch,
        ErrorKind::ToolMismatch,
        ErrorKind::ArgsChanged,
        ErrorKind::BindingMismatch,
        ErrorKind::UnknownToken,
        ErrorKind::NotFound,
        ErrorKind::NotPending,
        ErrorKind::Unavailable,
        ErrorKind::Invalid,
        ErrorKind::Malformed,
        ErrorKind::AuditUnavailable,
        ErrorKind::NotifyFailed,
    ];

    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::Pending => "approval.pending",
            ErrorKind::Denied => "approval.denied",
            ErrorKind::Expired => "approval.expired",
            ErrorKind::Consumed => "approval.consumed",
            ErrorKind::PolicyChanged => "approval.policy_changed",
            ErrorKind::PrincipalMismatch => "approval.principal_mismatch",
            ErrorKind::ToolMismatch => "approval.tool_mismatch",
            ErrorKind::ArgsChanged => "approval.args_changed",
            ErrorKind::BindingMismatch => "approval.binding_mismatch",
            ErrorKind::UnknownToken => "approval.unknown_token",
            ErrorKind::NotFound => "approval.not_found",
            ErrorKind::NotPending => "approval.not_pending",
            ErrorKind::Unavailable => "approval.unavailable",
            ErrorKind::Invalid => "approval.invalid",
            ErrorKind::Malformed => "approval.malformed",
            ErrorKind::AuditUnavailable => "approval.audit_unavailable",
            ErrorKind::NotifyFailed => "approval.notify_failed",
        }
    }

    /// The kind whose code is `code`.
    pub fn parse(code: &str) -> Option<Self> {
        ErrorKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// What the code means, for messages.
    pub const fn describe(self) -> &'static str {
        match self {
            ErrorKind::Pending => "the approval is still pending",
            ErrorKind::Denied => "the approval was denied",
            ErrorKind::Expired => "the approval expired",
            ErrorKind::Consumed => "the approval was already used",
            ErrorKind::PolicyChanged => "the call is evaluated under another policy version",
            ErrorKind::PrincipalMismatch => "the call comes from another principal",
            ErrorKind::ToolMismatch => "the call is to another server or tool",
            ErrorKind::ArgsChanged => "the call's arguments differ from the approved ones",
            ErrorKind::BindingMismatch => "the call matched another rule",
            ErrorKind::UnknownToken => "no approval has this token",
            ErrorKind::NotFound => "no approval has this id",
            ErrorKind::NotPending => "the approval is no longer pending",
            ErrorKind::Unavailable => "the approval store is unavailable",
            ErrorKind::Invalid => "invalid approval input",
            ErrorKind::Malformed => "a stored approval is malformed",
            ErrorKind::AuditUnavailable => "the audit sink refused the approval event",
            ErrorKind::NotifyFailed => "the approvers could not be notified",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An approval failure: a kind with a stable code, and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalError {
    /// The kind, which gives the code.
    pub kind: ErrorKind,
    /// What happened (lowercase, no final period).
    pub message: String,
}

impl ApprovalError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApprovalError { kind, message: message.into() }
    }

    /// An error of `kind` with its standard description, naming the approval `id`.
    pub fn about(kind: ErrorKind, id: &str) -> Self {
        ApprovalError::new(kind, format!("{} (approval `{id}`)", kind.describe()))
    }

    /// The stable code.
    pub const fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for ApprovalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code())
    }
}

impl std::error::Error for ApprovalError {}
