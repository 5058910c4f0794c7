//! The resolved policy: every name checked, every constraint turned into boolean conditions
//! over atomic tests, rules in canonical order. Both the DAG lowering and the reference
//! evaluator read this; it is not a stable boundary.

use mcppol_runtime::{Effect, Risk};
use std::collections::BTreeSet;

/// A resolved policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name.
    pub name: String,
    /// The source file name (no directories).
    pub source: String,
    /// What happens when no rule matches.
    pub default: Verdict,
    /// Argument schemas of exactly named tools, sorted by tool name.
    pub schemas: Vec<Schema>,
    /// The most of a call's arguments an audit log may keep (`format::audit_args`), and the
    /// members to redact when that is `REDACTED`.
    pub audit: (u32, BTreeSet<String>),
    /// The rules in canonical evaluation order: deny, then require_approval, then allow;
    /// within one effect, by id. The first rule in this order whose condition holds decides,
    /// which is exactly "strongest effect wins, ties broken by id", whatever the file order.
    pub rules: Vec<Rule>,
}

/// Effect, risk, reason and code of an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// What to do.
    pub effect: Effect,
    /// The declared risk.
    pub risk: Risk,
    /// Why, for people.
    pub reason: String,
    /// Stable machine code.
    pub code: String,
}

/// The argument schema of one tool: checks that run before any rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The exact tool name.
    pub tool: String,
    /// In order: each condition must hold, or the call is denied with the check's verdict.
    pub checks: Vec<(Cond, Verdict)>,
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// What it decides.
    pub verdict: Verdict,
    /// 1-based line of the rule in the policy file.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Which tools it applies to: `None` for every tool.
    pub tools: Option<NameMatcher>,
    /// Everything else that must hold, tool aside: method, server, principal, arguments,
    /// `when`, in that order.
    pub condition: Cond,
}

/// A set of exact names plus globs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct NameMatcher {
    /// Exact names.
    pub exact: BTreeSet<String>,
    /// Glob patterns (`fs.*`), in source order.
    pub globs: Vec<String>,
}

/// A boolean condition over atoms, evaluated left to right with short-circuit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// Always holds.
    True,
    /// Never holds.
    False,
    /// One test.
    Atom(Atom),
    /// Negation.
    Not(Box<Cond>),
    /// All of, left to right.
    And(Vec<Cond>),
    /// Any of, left to right.
    Or(Vec<Cond>),
}

impl Cond {
    /// `a && b && ...`, flattening trivial cases.
    pub fn all(parts: Vec<Cond>) -> Cond {
        let parts: Vec<Cond> = parts.into_iter().filter(|part| *part != Cond::True).collect();
        match parts.len() {
            0 => Cond::True,
            1 => parts.into_iter().next().unwrap_or(Cond::True),
            _ => Cond::And(parts),
        }
    }

    /// `a || b || ...`, flattening trivial cases.
    pub fn any(parts: Vec<Cond>) -> Cond {
        let parts: Vec<Cond> = parts.into_iter().filter(|part| *part != Cond::False).collect();
        match parts.len() {
            0 => Cond::False,
            1 => parts.into_iter().next().unwrap_or(Cond::False),
            _ => Cond::Or(parts),
        }
    }
}

/// An atomic test: a subject, a test, and what an absent argument means.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom {
    /// What is tested.
    pub subject: Subject,
    /// The test.
    pub test: Test,
    /// An absent argument makes the atom false (rule argument constraints) instead of a fault
    /// (`when:` conditions).
    pub missing_is_false: bool,
}

/// What an atom looks at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// The MCP method.
    Method,
    /// The upstream server.
    Server,
    /// The tool name.
    Tool,
    /// The principal's id.
    PrincipalId,
    /// The principal's roles.
    PrincipalRoles,
    /// An argument, by path segments.
    Arg(Vec<String>),
    /// The arguments object.
    Args,
    /// The array element an `All`/`Any` test is looking at.
    Element,
}

/// Comparison operators for integers and lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Glob flavours (see the DFA builder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternKind {
    /// An unanchored regular expression.
    Regex,
    /// A whole-string glob over names (`*` crosses everything).
    NameGlob,
    /// A whole-string glob over paths (`*` stops at `/`, `**` crosses it).
    PathGlob,
}

/// The tests an atom can make. They map one to one onto runtime predicate ops.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Test {
    /// String equals.
    StrEq(String),
    /// String in set.
    StrIn(BTreeSet<String>),
    /// String starts with.
    Prefix(String),
    /// String ends with.
    Suffix(String),
    /// String contains.
    Contains(String),
    /// String matches a regex or glob.
    Matches(PatternKind, String),
    /// Length (characters or elements) compared with a constant.
    Len(CmpOp, u32),
    /// Normalised path (with these `path_option` bits) under one of these prefixes.
    PathPrefix(BTreeSet<String>, u32),
    /// Normalised path (with these `path_option` bits) matches one of these path globs. A
    /// rule's glob list is one test, not one per glob, so that the runtime walks one DFA (of
    /// the globs' union) over the path instead of one per glob; sorted and deduplicated like
    /// `PathPrefix`, so that lists with the same globs share a predicate.
    PathGlob(BTreeSet<String>, u32),
    /// Byte length compared with a constant.
    Bytes(CmpOp, u32),
    /// Number compared exactly with a decimal (canonical text).
    Decimal(CmpOp, String),
    /// URL effective port in set (decimal text).
    UrlPort(BTreeSet<String>),
    /// URL path, decoded and normalised, under one of these prefixes.
    UrlPath(BTreeSet<String>),
    /// URL host is not an internal destination (a fault naming the class if it is).
    UrlSsrf,
    /// SQL calls none of these functions (a fault if it does).
    SqlDenyFunctions(BTreeSet<String>),
    /// Every table the SQL references is in the set.
    SqlTablesIn(BTreeSet<String>),
    /// No table the SQL references is in the set.
    SqlTablesNotIn(BTreeSet<String>),
    /// The value is an array and every element passes the element test.
    All(Box<Atom>),
    /// The value is an array and some element passes the element test.
    Any(Box<Atom>),
    /// URL scheme in set (lowercase).
    UrlScheme(BTreeSet<String>),
    /// URL host matches one of these patterns (lowercase).
    UrlHost(BTreeSet<String>),
    /// URL host is a name, not an IP literal.
    UrlNamedHost,
    /// SQL statement kinds within a bit set, between 1 and this many statements, and (when
    /// set) no call to a built-in dangerous function.
    SqlAllow(u32, u32, bool),
    /// Number compared with an integer.
    Int(CmpOp, i64),
    /// Boolean equals.
    Bool(bool),
    /// Present.
    Exists,
    /// JSON type in mask.
    Type(u32),
    /// Every top-level argument key in set.
    OnlyKeys(BTreeSet<String>),
    /// Principal has the role.
    RoleHas(String),
    /// Principal has one of the roles.
    RoleAny(BTreeSet<String>),
}
