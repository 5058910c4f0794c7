//! The mcppol runtime: verify a compiled policy artifact once, then decide MCP requests.
//!
//! A gateway links this crate, loads the artifact that `mcppol compile` produced with
//! [`Program::from_bytes`], and calls [`Program::evaluate`] for every request. The answer is a
//! [`Decision`]: allow, deny or require approval, with the rule, a stable reason code, a human
//! reason and a risk level.
//!
//! # Two entry points
//!
//! - [`Program::evaluate`] takes a [`Request`]: the method, tool and principal the gateway
//!   already extracted, and the raw bytes of the `arguments` object, which the runtime scans
//!   strictly itself.
//! - [`Program::evaluate_call`] takes the raw JSON-RPC `tools/call` body as it arrived
//!   (`{"jsonrpc":"2.0","id":..,"method":"tools/call","params":{"name":..,"arguments":{..}}}`)
//!   and a [`Caller`]. It scans the body once, by the same strict rules (duplicate keys at every
//!   depth, UTF-8, escapes, limits), takes `method`, `params.name` and `params.arguments` from
//!   that one scan and evaluates on it, so a proxy neither splits the envelope itself nor has
//!   the arguments read twice. Its decision is the one [`Program::evaluate`] gives the same
//!   call split out of the body; a malformed envelope denies, risk high, with its own code:
//!
//!   | code | when |
//!   |---|---|
//!   | `json.*` | the body is not strict JSON (as for arguments: `json.duplicate_key`, ...) |
//!   | `request.method` | `method` is absent, not a string, or not `tools/call` |
//!   | `request.params` | `params` is absent or not an object |
//!   | `request.name` | `params.name` is absent or not a string |
//!   | `json.not_an_object` | `params.arguments` is present and not an object (as [`Program::evaluate`] says of such arguments); absent means `{}`, as in MCP |
//!
//!   The arguments keep their own limits inside the body: [`json::JSON_DEPTH_MAX`] levels
//!   below `arguments`, [`json::JSON_VALUES_MAX`] values and [`json::ARGS_BYTES_MAX`] bytes;
//!   the envelope around them may add [`json::ENVELOPE_VALUES_MAX`] values and
//!   [`json::ENVELOPE_BYTES_MAX`] bytes. Other members (`jsonrpc`, `id`, `params._meta`) are
//!   scanned strictly but not interpreted. When a body has several faults, the code is that of
//!   the first in body order, so it can differ from what split-then-evaluate reports first;
//!   the effect is deny either way.
//!
//! # Guarantees
//!
//! - `#![no_std]`, no `alloc`, no `unsafe`, no dependencies, no clock, no randomness, no
//!   floating point: the same artifact and request give the same decision on every machine.
//! - Loading verifies every byte (see [`program`]); it never panics, whatever the bytes.
//! - Evaluation allocates nothing, never panics, and visits each DAG node at most once
//!   (edges only point to smaller indices).
//! - Fail closed: malformed arguments, a value of the wrong type, a missing argument that a
//!   condition reads, or a limit exceeded all give [`Effect::Deny`] with a distinct code.
//!
//! # Example
//!
//! ```no_run
//! use mcppol_runtime::{Program, Request, Scratch, Effect};
//! # fn artifact_bytes() -> &'static [u8] { &[] }
//! let program = Program::from_bytes(artifact_bytes()).expect("a valid artifact");
//! let mut scratch = Scratch::new(); // reuse it: it is large, and creating it is the only cost
//! let request = Request::tool_call("fs.read", br#"{"path":"/workspace/README.md"}"#);
//! let decision = program.evaluate(&request, &mut scratch);
//! assert_eq!(decision.effect, Effect::Allow);
//!
//! // Or straight from the JSON-RPC body a proxy received:
//! let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call",
//!     "params":{"name":"fs.read","arguments":{"path":"/workspace/README.md"}}}"#;
//! let decision = program.evaluate_call(body, &mcppol_runtime::Caller::default(), &mut scratch);
//! assert_eq!(decision.effect, Effect::Allow);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core,
    clippy::float_arithmetic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::large_stack_arrays,
    missing_docs
)]

pub mod dfa;
mod eval;
pub mod format;
pub mod inspect;
pub mod json;
pub mod limits;
pub mod number;
pub mod path;
pub mod program;
pub mod sql;
mod swar;
pub mod url;

pub use eval::{NoTrace, Trace};
pub use program::{AuditArgs, FormatError, FormatErrorKind, Program, RedactList};

use core::fmt;

/// What the gateway must do with the request.
///
/// Ordered by strength: when several rules match, the strongest effect wins
/// (`Deny > RequireApproval > Allow`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Effect {
    /// Forward the request.
    Allow = 0,
    /// Hold the request until a human approves this exact call.
    RequireApproval = 1,
    /// Refuse the request.
    Deny = 2,
}

impl Effect {
    /// The stable lowercase name: `allow`, `require_approval` or `deny`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::RequireApproval => "require_approval",
            Effect::Deny => "deny",
        }
    }

    /// The effect with wire number `value`, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Effect::Allow),
            1 => Some(Effect::RequireApproval),
            2 => Some(Effect::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How dangerous the call is judged to be, as the policy author declared it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Risk {
    /// Routine.
    Low = 0,
    /// Worth a look in review.
    Medium = 1,
    /// Should alert someone.
    High = 2,
    /// Should page someone.
    Critical = 3,
}

impl Risk {
    /// The stable lowercase name: `low`, `medium`, `high` or `critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    /// The risk with wire number `value`, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Risk::Low),
            1 => Some(Risk::Medium),
            2 => Some(Risk::High),
            3 => Some(Risk::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One MCP request, as the gateway sees it.
///
/// The strings are what the gateway derived from the JSON-RPC body (never from headers), already
/// unescaped. `args` is the raw JSON text of the `arguments` object exactly as it arrived on the
/// wire: the runtime parses it itself, strictly, so that what the policy judges is what the
/// tool will receive.
#[derive(Clone, Copy)]
pub struct Request<'r> {
    /// The MCP method: `tools/call`, `resources/read`, `prompts/get`.
    pub method: &'r str,
    /// The upstream server's name in the gateway's configuration; empty if unknown.
    pub server: &'r str,
    /// The tool name (`params.name`); for `prompts/get` the prompt name, for
    /// `resources/read` the resource URI.
    pub tool: &'r str,
    /// The authenticated principal's id; empty if anonymous.
    pub principal_id: &'r str,
    /// The principal's roles.
    pub principal_roles: &'r [&'r str],
    /// The raw JSON bytes of the arguments object (`{}` when there are none).
    pub args: &'r [u8],
}

impl<'r> Request<'r> {
    /// A `tools/call` request for `tool` with the raw JSON `args`, from an anonymous
    /// principal on an unnamed server.
    pub const fn tool_call(tool: &'r str, args: &'r [u8]) -> Self {
        Request {
            method: "tools/call",
            server: "",
            tool,
            principal_id: "",
            principal_roles: &[],
            args,
        }
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Show the arguments as text when they are UTF-8: that is how people read them.
        let mut out = f.debug_struct("Request");
        out.field("method", &self.method)
            .field("server", &self.server)
            .field("tool", &self.tool)
            .field("principal_id", &self.principal_id)
            .field("principal_roles", &self.principal_roles);
        match core::str::from_utf8(self.args) {
            Ok(text) => out.field("args", &text),
            Err(_) => out.field("args", &self.args),
        };
        out.finish()
    }
}

/// Who sends a request that [`Program::evaluate_call`] reads from its raw body: what the
/// gateway knows from its own configuration and authentication, never from the body.
#[derive(Clone, Copy, Debug, Default)]
pub struct Caller<'r> {
    /// The upstream server's name in the gateway's configuration; empty if unknown.
    pub server: &'r str,
    /// The authenticated principal's id; empty if anonymous.
    pub principal_id: &'r str,
    /// The principal's roles.
    pub principal_roles: &'r [&'r str],
}

/// The decision for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision<'p> {
    /// What to do.
    pub effect: Effect,
    /// The declared risk (faults are `High`).
    pub risk: Risk,
    /// A stable machine-readable reason code: `policy.rule` when a rule decided,
    /// `policy.default` when none matched, `args.schema.*` for schema violations, and a
    /// fault code such as `json.duplicate_key` or `args.type` when the request was malformed.
    pub code: &'p str,
    /// The human reason: the rule's `reason`, or a description of the fault.
    pub reason: &'p str,
    /// The id of the rule that decided, if a rule did.
    pub rule: Option<&'p str>,
    /// When the policy's default decided: the last check evaluated before it, which is why
    /// the last rule tried did not match (e.g. `url.host`: the host is not in the allowlist).
    /// `None` when a rule or a fault decided, or no check ran.
    pub check: Option<&'static str>,
}

/// Reusable working memory for [`Program::evaluate`], so evaluation never allocates.
///
/// It is large (tens of KiB); create it once per thread and reuse it. Its contents never carry
/// over between evaluations.
pub struct Scratch {
    /// Large enough for a whole body ([`Program::evaluate_call`]); [`Program::evaluate`] uses
    /// at most [`json::JSON_VALUES_MAX`] entries of it.
    pub(crate) tape: [json::Entry; json::BODY_VALUES_MAX],
    pub(crate) text: [u8; limits::STRING_BYTES_MAX],
    pub(crate) path: [u8; limits::STRING_BYTES_MAX],
    /// The unescaped tool name, when [`Program::evaluate_call`] finds escapes in it.
    pub(crate) name: [u8; limits::STRING_BYTES_MAX],
}

impl Scratch {
    /// Fresh scratch memory.
    #[allow(
        clippy::large_stack_arrays,
        reason = "the caller's working memory, created once per thread (in a Box, a static or a \
                  stack frame it sized), never per decision"
    )]
    pub const fn new() -> Self {
        Scratch {
            tape: [json::Entry::EMPTY; json::BODY_VALUES_MAX],
            text: [0; limits::STRING_BYTES_MAX],
            path: [0; limits::STRING_BYTES_MAX],
            name: [0; limits::STRING_BYTES_MAX],
        }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}
