//! Audit errors: each has a stable code (printed in brackets by the CLI) so operators and
//! gateways can react to the kind of failure, not to its wording.

use std::fmt;

/// What went wrong, as a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bounded queue is full and the policy is fail-closed: the call must be denied.
    QueueFull,
    /// Records cannot be kept (store and spool both failing): the call must be denied.
    Unavailable,
    /// The sink was closed.
    Closed,
    /// A file (log or spool) could not be read or written.
    Io,
    /// The database refused or failed.
    Database,
    /// A stored record could not be read back as an event.
    Malformed,
    /// A setting is invalid (URL, schema name, cursor, time).
    Config,
    /// The store's schema is newer than this build understands.
    SchemaVersion,
}

impl ErrorKind {
    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::QueueFull => "audit.queue_full",
            ErrorKind::Unavailable => "audit.unavailable",
            ErrorKind::Closed => "audit.closed",
            ErrorKind::Io => "audit.io",
            ErrorKind::Database => "audit.database",
            ErrorKind::Malformed => "audit.malformed",
            ErrorKind::Config => "audit.config",
            ErrorKind::SchemaVersion => "audit.schema_version",
        }
    }
}

/// An audit failure: a kind with a stable code, a message, and an optional hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditError {
    /// The kind, which gives the code.
    pub kind: ErrorKind,
    /// What happened (lowercase, no final period).
    pub message: String,
    /// What to do about it, if anything useful can be said.
    pub hint: Option<String>,
}

impl AuditError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AuditError { kind, message: message.into(), hint: None }
    }

    /// The same error with a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The stable code.
    pub const fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code())?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  = help: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AuditError {}
