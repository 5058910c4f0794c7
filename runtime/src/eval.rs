//! Evaluation: walk the decision DAG for one request, with no allocation and bounded steps.
//!
//! # Semantics
//!
//! 1. The arguments are parsed strictly (see [`crate::json`]); any problem denies with the
//!    JSON error's code before any rule is looked at.
//! 2. The walk starts at the tool's entry node (or the fallback entry for unlisted tools) and
//!    follows `TEST` nodes until a `DECIDE` node names the outcome.
//! 3. A predicate that reads an absent argument is false when its `MISSING_IS_FALSE` flag is
//!    set (argument constraints of a rule: the rule does not match) and otherwise a fault
//!    (`args.missing`): conditions never silently treat "absent" as "anything".
//! 4. A predicate applied to a value of the wrong JSON type faults with `args.type`.
//! 5. A fault ends the walk with a deny, risk high, no rule, and the fault's code.

use crate::format::{self, cmp, json_type, op, path_option, read_u8, read_u32, subject};
use crate::json::{self, JsonStr, Kind, Value};
use crate::{Caller, Decision, Effect, Program, Request, Risk, Scratch, limits, path, sql, url};
use core::cmp::Ordering;

/// Why evaluation stopped early. Always becomes a deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) code: &'static str,
    pub(crate) reason: &'static str,
}

const ARG_MISSING: Fault =
    Fault { code: "args.missing", reason: "a condition reads an argument that is absent" };
const ARG_TYPE: Fault =
    Fault { code: "args.type", reason: "an argument has a JSON type the policy does not accept" };
const STRING_TOO_LONG: Fault = Fault {
    code: "limit.string_too_long",
    reason: "an argument string the policy inspects exceeds the runtime limit",
};
const REQUEST_METHOD: Fault = Fault {
    code: "request.method",
    reason: "the request body's method is absent, not a string, or not tools/call",
};
const REQUEST_PARAMS: Fault = Fault {
    code: "request.params",
    reason: "the request body's params is absent or not an object",
};
const REQUEST_NAME: Fault = Fault {
    code: "request.name",
    reason: "the request body's params.name is absent or not a string",
};
const ARGS_INVALID: &str = "the arguments are not a valid JSON object";
const CORRUPT: Fault = Fault {
    code: "internal.corrupt_program",
    reason: "the program broke an invariant its verifier should have proved",
};

impl Fault {
    fn decision<'p>(self) -> Decision<'p> {
        Decision {
            effect: Effect::Deny,
            risk: Risk::High,
            code: self.code,
            reason: self.reason,
            rule: None,
            check: None,
        }
    }
}

impl<'a> Program<'a> {
    /// Decides `request`.
    ///
    /// Allocates nothing and takes at most one step per DAG node. The decision depends only on
    /// the artifact bytes and the request.
    ///
    /// # Panics
    ///
    /// Never, for any request.
    pub fn evaluate(&self, request: &Request<'_>, scratch: &mut Scratch) -> Decision<'a> {
        self.evaluate_traced(request, scratch, &mut NoTrace)
    }

    /// Decides `request` like [`Program::evaluate`], reporting every step of the walk to
    /// `trace`: each test with the node, predicate and outcome, then the deciding node. The
    /// decision is the same; with [`NoTrace`] this is exactly `evaluate` (monomorphised, so the
    /// hooks cost nothing there).
    ///
    /// # Panics
    ///
    /// Never, for any request (whatever `trace` does, short of panicking itself).
    pub fn evaluate_traced(
        &self,
        request: &Request<'_>,
        scratch: &mut Scratch,
        trace: &mut impl Trace,
    ) -> Decision<'a> {
        let Scratch { tape, text, path, .. } = scratch;
        // Only the arguments' share of the tape: `parse` enforces the arguments' own limits.
        let tape = tape.get_mut(..json::JSON_VALUES_MAX).unwrap_or(&mut []);
        let args = match json::parse(request.args, tape) {
            Ok(args) => args,
            Err(error) => return Fault { code: error.code(), reason: ARGS_INVALID }.decision(),
        };
        let (entry, _) = self.entry(request.tool.as_bytes());
        self.walk(request, entry, args.root(), text, path, trace)
    }

    /// Decides the `tools/call` request whose raw JSON-RPC body is `body`, sent by `caller`.
    ///
    /// The body is scanned once, strictly, and the evaluation reads `method`, `params.name` and
    /// `params.arguments` from that scan: the same decision as [`Program::evaluate`] on the
    /// request split out of the body, without the proxy splitting it or the arguments being
    /// scanned twice. A malformed envelope denies with its own code; see the crate docs
    /// ("Two entry points") for the codes and how the limits apply.
    ///
    /// Allocates nothing and takes at most one step per DAG node.
    ///
    /// # Panics
    ///
    /// Never, for any body.
    pub fn evaluate_call(
        &self,
        body: &[u8],
        caller: &Caller<'_>,
        scratch: &mut Scratch,
    ) -> Decision<'a> {
        let Scratch { tape, text, path, name: name_buffer } = scratch;
        // The scan notes where the envelope's members are, so that they need no lookup here.
        let (body, envelope) = match json::parse_call(body, tape) {
            Ok(scan) => scan,
            Err(error) => {
                return Fault {
                    code: error.code(),
                    reason: "the request body is not valid JSON, or its arguments break a limit",
                }
                .decision();
            }
        };
        // The scanner refused duplicate keys, so the member found is the only one with its key.
        let method = body.member(envelope.method).and_then(|method| method.string());
        if !method.is_some_and(|method| method.eq_bytes(b"tools/call")) {
            return REQUEST_METHOD.decision();
        }
        if !body.member(envelope.params).is_some_and(|params| params.kind() == Kind::Object) {
            return REQUEST_PARAMS.decision();
        }
        // Found in `params` only, because it is an object.
        let arguments = body.member(envelope.arguments);
        let name = body.member(envelope.name).and_then(|name| name.string());
        let Some(name) = name else {
            return REQUEST_NAME.decision();
        };
        let name = if name.is_escaped() {
            let Some(unescaped) = name.unescape_into(name_buffer) else {
                return STRING_TOO_LONG.decision();
            };
            unescaped
        } else {
            name.raw()
        };
        // A listed tool's name is the artifact's own string, verified UTF-8 at load; only an
        // unlisted name needs `from_utf8` (the scanner proved it UTF-8 already, but the type
        // needs the proof again).
        let (entry, listed) = self.entry(name);
        let tool = match listed {
            Some(tool) => tool,
            None => match core::str::from_utf8(name) {
                Ok(tool) => tool,
                Err(_) => return REQUEST_NAME.decision(),
            },
        };
        // Absent arguments are `{}` (MCP makes them optional).
        let mut empty_entry = [json::Entry::EMPTY; 1];
        let empty;
        let args = match arguments {
            Some(args) if args.kind() == Kind::Object => args,
            Some(_) => {
                return Fault { code: json::JsonError::NotAnObject.code(), reason: ARGS_INVALID }
                    .decision();
            }
            None => match json::parse(b"{}", &mut empty_entry) {
                Ok(tape) => {
                    empty = tape;
                    empty.root()
                }
                Err(_) => return CORRUPT.decision(),
            },
        };
        // The arguments' own limits, which the body's wider ones do not imply.
        if args.raw().len() > json::ARGS_BYTES_MAX {
            return Fault { code: json::JsonError::TooLarge.code(), reason: ARGS_INVALID }
                .decision();
        }
        if args.subtree_len() > json::JSON_VALUES_MAX {
            return Fault { code: json::JsonError::TooManyValues.code(), reason: ARGS_INVALID }
                .decision();
        }
        let request = Request {
            method: "tools/call",
            server: caller.server,
            tool,
            principal_id: caller.principal_id,
            principal_roles: caller.principal_roles,
            args: args.raw(),
        };
        self.walk(&request, entry, args, text, path, &mut NoTrace)
    }

    /// Walks the DAG for `request` from node `entry` (its tool's), whose arguments object is
    /// already scanned into `args`.
    fn walk(
        &self,
        request: &Request<'_>,
        entry: u32,
        args: Value<'_>,
        text: &mut [u8],
        path: &mut [u8],
        trace: &mut impl Trace,
    ) -> Decision<'a> {
        let mut context =
            Context { request, args, text, path, path_key: None, normalized: None, lookup: None };
        let mut index = entry;
        // The last predicate tested: when the default decides, it names the check that sent
        // the walk there. One register; nothing else is recorded.
        let mut last_predicate = None;
        // INVARIANT (forward-edges): each step moves to a strictly smaller node index (checked
        // below, whatever the verifier said), so the loop ends within `entry + 1` steps.
        loop {
            let Some(([kind, ..], a, if_true, if_false)) = self.nodes.record16(index) else {
                return CORRUPT.decision();
            };
            match kind {
                format::node::DECIDE => {
                    trace.decide(index, a);
                    let mut decision = self.outcome(a);
                    if a == self.default_outcome {
                        decision.check = last_predicate.map(|p| self.check_name(p));
                    }
                    return decision;
                }
                format::node::TEST => {
                    last_predicate = Some(a);
                    let next = match self.test(a, &mut context) {
                        Ok(true) => {
                            trace.test(index, a, Some(true));
                            if_true
                        }
                        Ok(false) => {
                            trace.test(index, a, Some(false));
                            if_false
                        }
                        Err(fault) => {
                            trace.test(index, a, None);
                            return fault.decision();
                        }
                    };
                    if next >= index {
                        return CORRUPT.decision();
                    }
                    index = next;
                }
                _ => return CORRUPT.decision(),
            }
        }
    }

    /// The entry node for `tool`: the hashed index (format 1.3 on, a bounded number of probes
    /// at any tool count), or a binary search of the sorted tool table in older artifacts.
    /// The entry node for the tool named `tool`, and that name as the artifact's own string
    /// when the tool is listed (format 1.3; older artifacts give `None`).
    fn entry(&self, tool: &[u8]) -> (u32, Option<&'a str>) {
        match &self.tool_index {
            Some(index) => match index.entry(self, tool) {
                Some((entry, name)) => (entry, self.string(name)),
                None => (self.fallback_entry, None),
            },
            None => (self.entry_sorted(tool), None),
        }
    }

    /// The entry node for `needle` by binary search of the sorted tool table (artifacts before
    /// format 1.3). Out of line, so that the hashed lookup does not pay for its registers.
    #[inline(never)]
    fn entry_sorted(&self, needle: &[u8]) -> u32 {
        let (mut low, mut high) = (0u32, self.tools.count);
        while low < high {
            let middle = low + (high - low) / 2;
            let record = self.tools.get(middle);
            let name = self.string_bytes(read_u32(record, 0).unwrap_or(u32::MAX));
            match name.cmp(needle) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return read_u32(record, 4).unwrap_or(self.fallback_entry),
            }
        }
        self.fallback_entry
    }

    #[inline(always)]
    fn outcome(&self, index: u32) -> Decision<'a> {
        let Some(([_, effect, risk, _], rule, reason, code)) = self.outcomes.record16(index) else {
            return CORRUPT.decision();
        };
        let decision = Decision {
            effect: Effect::from_u8(effect).unwrap_or(Effect::Deny),
            risk: Risk::from_u8(risk).unwrap_or(Risk::High),
            reason: self.string(reason).unwrap_or(""),
            code: self.string(code).unwrap_or(""),
            rule: if rule == format::NO_RULE {
                None
            } else {
                self.string(read_u32(self.rules.get(rule), 0).unwrap_or(u32::MAX))
            },
            check: None,
        };
        // A corrupt record could only have come from a broken verifier; never let it allow.
        if decision.code.is_empty() { CORRUPT.decision() } else { decision }
    }

    /// A stable name for the check predicate `index` makes, for [`Decision::check`].
    fn check_name(&self, index: u32) -> &'static str {
        let record = self.predicates.get(index);
        match (read_u8(record, 0).unwrap_or(0), read_u8(record, 1).unwrap_or(0)) {
            (subject::METHOD, _) => "match.method",
            (subject::SERVER, _) => "match.server",
            (subject::TOOL, _) => "match.tool",
            (subject::PRINCIPAL_ID, _) => "match.principal_id",
            (subject::PRINCIPAL_ROLES, _) => "match.principal_roles",
            (_, op::EXISTS) => "args.absent",
            (_, op::TYPE_IS) => "args.type",
            (_, op::ONLY_KEYS) => "args.unknown",
            (_, op::STR_MATCHES) => "args.pattern",
            (_, op::LEN_CMP) => "args.length",
            (_, op::BYTES_CMP) => "args.bytes",
            (_, op::INT_CMP | op::NUM_CMP) => "args.range",
            (_, op::ARRAY_ALL | op::ARRAY_ANY) => "args.items",
            (_, op::PATH_PREFIX | op::PATH_GLOB) => "path.not_allowed",
            (_, op::URL_SCHEME) => "url.scheme",
            (_, op::URL_HOST) => "url.host",
            (_, op::URL_NAMED_HOST) => "url.ip_host",
            (_, op::URL_PORT) => "url.port",
            (_, op::URL_PATH_PREFIX) => "url.path",
            (_, op::URL_SSRF) => "url.ssrf",
            (_, op::SQL_ALLOW) => "sql.statement",
            (_, op::SQL_TABLES_IN | op::SQL_TABLES_NOT_IN) => "sql.table",
            (_, op::SQL_FUNCTIONS_DENY) => "sql.function",
            _ => "args.value",
        }
    }

    /// Evaluates predicate `index` against the request. Inlined into the walk: it runs once
    /// per step, and a call per step was a measurable share of a decision.
    #[inline(always)]
    fn test(&self, index: u32, context: &mut Context<'_, '_>) -> Result<bool, Fault> {
        let Some(([subject, operation, flags, _], path_id, a, b)) = self.predicates.record16(index)
        else {
            return Err(CORRUPT);
        };
        let request = context.request;
        match subject {
            // Nearly every rule tests `method == "tools/call"`: answered here, without the call
            // into the general text tests.
            subject::METHOD if operation == op::STR_EQ => {
                Ok(crate::swar::same_bytes(request.method.as_bytes(), self.string_bytes(a)))
            }
            subject::METHOD => self.test_text(operation, a, b, request.method.as_bytes(), context),
            subject::SERVER => self.test_text(operation, a, b, request.server.as_bytes(), context),
            subject::TOOL => self.test_text(operation, a, b, request.tool.as_bytes(), context),
            subject::PRINCIPAL_ID => {
                self.test_text(operation, a, b, request.principal_id.as_bytes(), context)
            }
            subject::PRINCIPAL_ROLES => Ok(match operation {
                op::ROLE_HAS => {
                    let role = self.string_bytes(a);
                    request.principal_roles.iter().any(|r| r.as_bytes() == role)
                }
                _ => request.principal_roles.iter().any(|r| self.set_contains(a, r.as_bytes())),
            }),
            subject::ARGS => self.test_only_keys(a, context.args, context),
            subject::ARG => {
                // Consecutive tests mostly read the same argument (exists, type, pattern, path
                // under): look it up once. The tape does not change during an evaluation, so
                // the same path gives the same answer.
                let result = match context.lookup {
                    Some((id, cached)) if id == path_id => Ok(cached),
                    _ => {
                        let result = lookup(context.args, self.string_bytes(path_id));
                        // Only answers are kept (a fault is rare, and recomputing it is exact).
                        if let Ok(found) = result {
                            context.lookup = Some((path_id, found));
                        }
                        result
                    }
                };
                // `has(...)` asks "is it there?": a non-object on the way means no, not a fault.
                let found = match result {
                    Err(_) if operation == op::EXISTS => return Ok(false),
                    other => other?,
                };
                match found {
                    None if operation == op::EXISTS => Ok(false),
                    None if flags & format::flag::MISSING_IS_FALSE != 0 => Ok(false),
                    None => Err(ARG_MISSING),
                    // The type test guards nearly every other argument test: answered here,
                    // without the call into the general value tests.
                    Some(value) if operation == op::TYPE_IS => Ok(type_bits(value) & a != 0),
                    // Path and string tests, the ones nearly every rule makes, go straight to
                    // their own functions: each saves fewer registers than the general one.
                    Some(value) if operation == op::PATH_PREFIX || operation == op::PATH_GLOB => {
                        self.test_path(operation, a, b, value, context)
                    }
                    Some(value) if (op::STR_EQ..=op::STR_MATCHES).contains(&operation) => {
                        self.test_string(operation, flags, a, b, value, context)
                    }
                    Some(value) => self.test_value(operation, flags, a, b, value, context),
                }
            }
            _ => Err(CORRUPT),
        }
    }

    fn test_value<'s>(
        &self,
        operation: u8,
        flags: u8,
        a: u32,
        b: u32,
        value: Value<'s>,
        context: &mut Context<'_, 's>,
    ) -> Result<bool, Fault> {
        match operation {
            op::EXISTS => Ok(true),
            op::TYPE_IS => Ok(type_bits(value) & a != 0),
            op::PATH_PREFIX | op::PATH_GLOB => self.test_path(operation, a, b, value, context),
            op::BOOL_EQ
            | op::INT_CMP
            | op::LEN_CMP
            | op::BYTES_CMP
            | op::NUM_CMP
            | op::ONLY_KEYS
            | op::ARRAY_ALL
            | op::ARRAY_ANY => self.test_structure(operation, flags, a, b, value, context),
            _ => self.test_string(operation, flags, a, b, value, context),
        }
    }

    /// A path test (`PATH_PREFIX`, `PATH_GLOB`) on an argument value: the value normalised once
    /// per argument (cached in `context`), then each prefix or the glob. Its own function:
    /// nearly every file-tool rule makes one.
    #[inline(never)]
    fn test_path<'s>(
        &self,
        operation: u8,
        a: u32,
        b: u32,
        value: Value<'s>,
        context: &mut Context<'_, 's>,
    ) -> Result<bool, Fault> {
        // The address of the value's raw text identifies it within this request.
        let key = (value.raw().as_ptr() as usize, b);
        if context.path_key != Some(key) {
            let string = value.string().ok_or(ARG_TYPE)?;
            let options = path_option::options(b);
            context.path_key = None;
            let raw = string.raw();
            context.normalized = if !string.is_escaped()
                && raw.len() <= limits::STRING_BYTES_MAX
                && path::is_normal(raw, options)
            {
                // Already in normal form (nearly every real path): use it where it is.
                Some(Normalized::Input(raw))
            } else {
                let text = unescaped(string, context.text)?;
                let len = path::normalize(text, options, context.path)
                    .map_err(|error| Fault {
                        code: error.code(),
                        reason: "the path argument cannot be normalised safely",
                    })?
                    .len();
                Some(Normalized::Buffer(len))
            };
            context.path_key = Some(key);
        }
        let normalized = match context.normalized {
            Some(Normalized::Input(raw)) => raw,
            Some(Normalized::Buffer(len)) => context.path.get(..len).ok_or(CORRUPT)?,
            None => return Err(CORRUPT),
        };
        if operation == op::PATH_GLOB {
            return Ok(self.dfa(a).ok_or(CORRUPT)?.is_match(normalized));
        }
        Ok(set_any(self, a, |prefix| path::has_prefix_of_normalized(normalized, prefix)))
    }

    /// A text test (`STR_*`, URL and SQL tests) on an argument value, which must be a string.
    #[inline(always)]
    fn test_string<'s>(
        &self,
        operation: u8,
        flags: u8,
        a: u32,
        b: u32,
        value: Value<'s>,
        context: &mut Context<'_, 's>,
    ) -> Result<bool, Fault> {
        let string = value.string().ok_or(ARG_TYPE)?;
        let text = unescaped(string, context.text)?;
        // INVARIANT (path-cache): the URL tests below may write `path`.
        context.path_key = None;
        if operation == op::STR_CONTAINS {
            // The forbid rules' test (`..`, `;`): a short loop, answered without the call.
            return Ok(crate::swar::contains(text, self.string_bytes(a)));
        }
        // `text` borrows the scratch text buffer; the path buffer is separate.
        test_text_with(self, operation, flags, a, b, text, &mut context.path[..])
    }

    /// The tests on booleans, numbers, lengths, objects and arrays: kept out of
    /// [`Program::test_value`] so that the string and path tests, which nearly every policy
    /// makes, run in a smaller function (fewer registers saved per call).
    #[inline(never)]
    fn test_structure<'s>(
        &self,
        operation: u8,
        flags: u8,
        a: u32,
        b: u32,
        value: Value<'s>,
        context: &mut Context<'_, 's>,
    ) -> Result<bool, Fault> {
        let comparison = (flags & format::flag::CMP_MASK) >> format::flag::CMP_SHIFT;
        match operation {
            op::BOOL_EQ => Ok(value.as_bool().ok_or(ARG_TYPE)? == (a == 1)),
            op::INT_CMP => {
                let number = value.number().ok_or(ARG_TYPE)?;
                let bound = i64::from_le_bytes(wide(a, b));
                Ok(compare(number.cmp_i64(bound), comparison))
            }
            op::LEN_CMP => {
                let len = match value.kind() {
                    Kind::String => value.string().ok_or(ARG_TYPE)?.char_count(),
                    Kind::Array => value.len(),
                    _ => return Err(ARG_TYPE),
                };
                Ok(compare(len.cmp(&(a as usize)), comparison))
            }
            op::BYTES_CMP => {
                let len = value.string().ok_or(ARG_TYPE)?.unescaped_len();
                Ok(compare(len.cmp(&(a as usize)), comparison))
            }
            op::NUM_CMP => {
                let number = value.number().ok_or(ARG_TYPE)?;
                let ordering = crate::number::compare(number.raw(), self.string_bytes(a));
                Ok(compare(ordering.ok_or(CORRUPT)?, comparison))
            }
            op::ONLY_KEYS => {
                if value.kind() != Kind::Object {
                    return Err(ARG_TYPE);
                }
                self.test_only_keys(a, value, context)
            }
            op::ARRAY_ALL | op::ARRAY_ANY => {
                if value.kind() != Kind::Array {
                    return Err(ARG_TYPE);
                }
                let Some(([_, sub_op, sub_flags, _], _, sub_a, sub_b)) =
                    self.predicates.record16(a)
                else {
                    return Err(CORRUPT);
                };
                let want_all = operation == op::ARRAY_ALL;
                for element in value.elements() {
                    // INVARIANT (no-nesting): the sub-predicate is not a quantifier, so this
                    // call does not come back here. An element the test cannot apply to (wrong
                    // type, unparsable) does not satisfy it; that is not a fault of the request.
                    let holds = self
                        .test_value(sub_op, sub_flags, sub_a, sub_b, element, context)
                        .unwrap_or(false);
                    if holds != want_all {
                        return Ok(!want_all);
                    }
                }
                Ok(want_all)
            }
            _ => Err(CORRUPT),
        }
    }

    fn test_text(
        &self,
        operation: u8,
        a: u32,
        b: u32,
        text: &[u8],
        context: &mut Context<'_, '_>,
    ) -> Result<bool, Fault> {
        // INVARIANT (path-cache): text tests on request fields may write `path` too. (Path tests
        // never get here: verification allows them only on argument values, which take the
        // cached branch in `test_value`.)
        context.path_key = None;
        test_text_with(self, operation, 0, a, b, text, &mut context.path[..])
    }

    fn test_only_keys(
        &self,
        set: u32,
        object: Value<'_>,
        context: &mut Context<'_, '_>,
    ) -> Result<bool, Fault> {
        for (key, _) in object.members() {
            if !self.set_contains(set, unescaped(key, context.text)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Observes an evaluation step by step (see [`Program::evaluate_traced`]). Implementations
/// must not allocate if the host needs the no-allocation guarantee; a fixed buffer will do.
pub trait Trace {
    /// Node `node` tested predicate `predicate`: `Some(outcome)`, or `None` if it faulted
    /// (the walk ends there with a deny).
    fn test(&mut self, node: u32, predicate: u32, outcome: Option<bool>);
    /// Node `node` decided with outcome `outcome`.
    fn decide(&mut self, node: u32, outcome: u32);
}

/// A [`Trace`] that records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl Trace for NoTrace {
    #[inline(always)]
    fn test(&mut self, _node: u32, _predicate: u32, _outcome: Option<bool>) {}
    #[inline(always)]
    fn decide(&mut self, _node: u32, _outcome: u32) {}
}

/// Working state for one evaluation.
struct Context<'r, 's> {
    request: &'r Request<'r>,
    args: Value<'s>,
    text: &'s mut [u8],
    path: &'s mut [u8],
    /// What `normalized` holds: the normalisation of the JSON value starting at this
    /// address of the arguments input, under these `path_option` bits. Several path tests in
    /// a row usually read the same argument; normalising it once saves most of their cost.
    /// INVARIANT (path-cache): cleared whenever anything else writes `path`.
    path_key: Option<(usize, u32)>,
    normalized: Option<Normalized<'s>>,
    /// The last argument lookup that answered: the path's string id and the value found.
    lookup: Option<(u32, Option<Value<'s>>)>,
}

/// Where the normalised path of [`Context::path_key`] is.
#[derive(Clone, Copy)]
enum Normalized<'s> {
    /// The argument's own bytes, already in normal form.
    Input(&'s [u8]),
    /// `path[..len]`.
    Buffer(usize),
}

fn test_text_with(
    program: &Program<'_>,
    operation: u8,
    flags: u8,
    a: u32,
    b: u32,
    text: &[u8],
    path_buffer: &mut [u8],
) -> Result<bool, Fault> {
    match operation {
        op::STR_EQ => Ok(crate::swar::same_bytes(text, program.string_bytes(a))),
        op::STR_IN => Ok(program.set_contains(a, text)),
        op::STR_PREFIX => Ok(text.starts_with(program.string_bytes(a))),
        op::STR_SUFFIX => Ok(text.ends_with(program.string_bytes(a))),
        op::STR_CONTAINS => Ok(crate::swar::contains(text, program.string_bytes(a))),
        op::STR_MATCHES => Ok(program.dfa(a).ok_or(CORRUPT)?.is_match(text)),
        op::URL_SCHEME
        | op::URL_HOST
        | op::URL_NAMED_HOST
        | op::URL_PORT
        | op::URL_PATH_PREFIX
        | op::URL_SSRF => test_url(program, operation, a, text, path_buffer),
        op::SQL_ALLOW | op::SQL_FUNCTIONS_DENY | op::SQL_TABLES_IN | op::SQL_TABLES_NOT_IN => {
            test_sql(program, operation, flags, a, b, text)
        }
        _ => Err(CORRUPT),
    }
}

const URL_INVALID: &str = "the URL argument cannot be parsed safely";

fn test_url(
    program: &Program<'_>,
    operation: u8,
    a: u32,
    text: &[u8],
    path_buffer: &mut [u8],
) -> Result<bool, Fault> {
    let parsed =
        url::parse(text).map_err(|error| Fault { code: error.code(), reason: URL_INVALID })?;
    let host = url::classify_host(parsed.host)
        .map_err(|error| Fault { code: error.code(), reason: URL_INVALID })?;
    Ok(match operation {
        op::URL_SCHEME => set_any(program, a, |scheme| parsed.scheme.eq_ignore_ascii_case(scheme)),
        op::URL_HOST => set_any(program, a, |pattern| url::host_matches(parsed.host, pattern)),
        op::URL_NAMED_HOST => matches!(host, url::Host::Name),
        op::URL_PORT => {
            let Some(port) = parsed.effective_port() else { return Ok(false) };
            let mut digits = [0u8; 5];
            set_any(program, a, |member| member == decimal(port, &mut digits))
        }
        op::URL_PATH_PREFIX => {
            // The path as a server would resolve it: percent-decoded once, dots removed.
            let options =
                path::PathOptions { percent_decode: true, ..path::PathOptions::default() };
            let raw = if parsed.path.is_empty() { &b"/"[..] } else { parsed.path };
            let normalized = path::normalize(raw, options, path_buffer).map_err(|error| Fault {
                code: error.code(),
                reason: "the URL path cannot be normalised safely",
            })?;
            set_any(program, a, |prefix| path::has_prefix_of_normalized(normalized, prefix))
        }
        _ => match url::ssrf_class(&host, parsed.host) {
            Some(class) => {
                return Err(Fault {
                    code: class.code(),
                    reason: "the URL points at an internal address (SSRF protection)",
                });
            }
            None => true,
        },
    })
}

fn test_sql(
    program: &Program<'_>,
    operation: u8,
    flags: u8,
    a: u32,
    b: u32,
    text: &[u8],
) -> Result<bool, Fault> {
    let mut dangerous = false;
    let mut denied_function = false;
    let mut tables_ok = true;
    let check_dangerous = flags & format::flag::SQL_DANGEROUS != 0;
    let summary = sql::analyze_with(text, &mut |event| match event {
        sql::SqlEvent::Function(name) => {
            if check_dangerous
                && sql::DANGEROUS_FUNCTIONS.iter().any(|f| name.last_eq(f.as_bytes()))
            {
                dangerous = true;
            }
            if operation == op::SQL_FUNCTIONS_DENY
                && set_any(program, a, |denied| name.may_be(denied))
            {
                denied_function = true;
            }
        }
        sql::SqlEvent::Table(name) => {
            // Allow lists need a sure match; deny lists deny on a possible one.
            match operation {
                op::SQL_TABLES_IN if !set_any(program, a, |t| name.surely_is(t)) => {
                    tables_ok = false;
                }
                op::SQL_TABLES_NOT_IN if set_any(program, a, |t| name.may_be(t)) => {
                    tables_ok = false;
                }
                _ => {}
            }
        }
    })
    .map_err(|error| Fault {
        code: error.code(),
        reason: "the SQL argument cannot be classified safely",
    })?;
    if dangerous {
        return Err(Fault {
            code: "sql.dangerous_function",
            reason: "the SQL calls a function on the built-in dangerous list",
        });
    }
    if denied_function {
        return Err(Fault {
            code: "sql.function_denied",
            reason: "the SQL calls a function the policy denies",
        });
    }
    Ok(match operation {
        op::SQL_ALLOW => {
            let allowed = sql::KindSet::from_bits(a).ok_or(CORRUPT)?;
            // An empty query is not a SELECT: at least one statement, at most `b`.
            summary.kinds.is_subset_of(allowed) && (1..=b).contains(&summary.statement_count)
        }
        op::SQL_FUNCTIONS_DENY => true,
        _ => tables_ok,
    })
}

/// `value` in decimal, written into `buffer`.
fn decimal(mut value: u16, buffer: &mut [u8; 5]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start = start.saturating_sub(1);
        if let Some(slot) = buffer.get_mut(start) {
            *slot = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    buffer.get(start..).unwrap_or(&[])
}

/// The unescaped bytes of `string`: borrowed from the input when it has no escapes, else
/// decoded into `buffer`. Either way, longer than [`limits::STRING_BYTES_MAX`] is a fault, so
/// the limit does not depend on how the string happened to be spelled.
#[inline]
fn unescaped<'t>(string: JsonStr<'t>, buffer: &'t mut [u8]) -> Result<&'t [u8], Fault> {
    let raw = string.raw();
    // The scanner recorded whether the string has a backslash; no need to search for one.
    if string.is_escaped() {
        unescape(string, buffer)
    } else if raw.len() > limits::STRING_BYTES_MAX {
        Err(STRING_TOO_LONG)
    } else {
        Ok(raw)
    }
}

/// The escaped case of [`unescaped`], out of line: rare, and its decoder is large.
#[inline(never)]
fn unescape<'t>(string: JsonStr<'t>, buffer: &'t mut [u8]) -> Result<&'t [u8], Fault> {
    string.unescape_into(buffer).ok_or(STRING_TOO_LONG)
}

/// Whether `test` holds for some string of set `id`, in order. A plain loop, inlined, rather
/// than an iterator: a set test runs on most steps, and the iterator's calls cost more than
/// the comparisons of a one- or two-member set.
#[inline(always)]
fn set_any(program: &Program<'_>, id: u32, mut test: impl FnMut(&[u8]) -> bool) -> bool {
    let strings = program.strings();
    let mut members = program.set(id);
    while let Some((member, rest)) = members.split_first_chunk::<4>() {
        if test(strings.get(u32::from_le_bytes(*member))) {
            return true;
        }
        members = rest;
    }
    false
}

/// Follows a NUL-joined argument path from the arguments object. `Ok(None)` when a segment is
/// absent; a fault when a segment is applied to something that is not an object.
fn lookup<'s>(root: Value<'s>, path: &[u8]) -> Result<Option<Value<'s>>, Fault> {
    let mut value = root;
    for segment in path.split(|&byte| byte == 0) {
        if value.kind() != Kind::Object {
            return Err(ARG_TYPE);
        }
        match value.get(segment) {
            Some(child) => value = child,
            None => return Ok(None),
        }
    }
    Ok(Some(value))
}

fn type_bits(value: Value<'_>) -> u32 {
    match value.kind() {
        Kind::Null => json_type::NULL,
        Kind::Bool => json_type::BOOLEAN,
        Kind::Number => {
            let integral = value.number().is_some_and(|number| number.is_integer());
            json_type::NUMBER | if integral { json_type::INTEGER } else { 0 }
        }
        Kind::String => json_type::STRING,
        Kind::Array => json_type::ARRAY,
        Kind::Object => json_type::OBJECT,
    }
}

fn compare(ordering: Ordering, comparison: u8) -> bool {
    match comparison {
        cmp::EQ => ordering == Ordering::Equal,
        cmp::NE => ordering != Ordering::Equal,
        cmp::LT => ordering == Ordering::Less,
        cmp::LE => ordering != Ordering::Greater,
        cmp::GT => ordering == Ordering::Greater,
        _ => ordering != Ordering::Less,
    }
}

fn wide(low: u32, high: u32) -> [u8; 8] {
    let [a, b, c, d] = low.to_le_bytes();
    let [e, f, g, h] = high.to_le_bytes();
    [a, b, c, d, e, f, g, h]
}
