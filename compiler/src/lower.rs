//! Lowering: the resolved policy becomes the decision DAG and the tables it refers to.
//!
//! Each exactly named tool gets its own entry: its schema checks, then every rule that can
//! apply to it in canonical order, then the default. Tool tests are decided here, at compile
//! time, so evaluation cost depends on the rules for one tool, not on the size of the policy.
//! Tools not named anywhere share the fallback entry, which tests tool globs at run time.
//!
//! Nodes are hash-consed: a node is created only after its targets, and an identical
//! `(predicate, true, false)` triple reuses the existing node. So every edge points to a
//! smaller index (the verifier's forward-edge rule) and shared tails (the default, rules that
//! apply to every tool) are stored once.

use crate::ir::{Atom, CmpOp, Cond, PatternKind, Policy, Subject, Test, Verdict};
use crate::resolve::{PatternKey, Patterns};
use mcppol_runtime::dfa::Dfa;
use mcppol_runtime::format::{self, cmp, flag, node, op, outcome, subject};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A 16-byte wire record.
pub type Record = [u8; 16];

/// The tables of an artifact, before serialisation.
#[derive(Debug, Default)]
pub struct Tables {
    /// Strings, in first-use order.
    pub strings: Vec<String>,
    /// Sets of string ids, each sorted by string bytes.
    pub sets: Vec<Vec<u32>>,
    /// DFA blobs.
    pub dfas: Vec<Vec<u8>>,
    /// `(id string, line, column)` per rule, sorted by id.
    pub rules: Vec<(u32, u32, u32)>,
    /// Outcome records.
    pub outcomes: Vec<Record>,
    /// Predicate records.
    pub predicates: Vec<Record>,
    /// Node records.
    pub nodes: Vec<Record>,
    /// `(name string, entry node)`, sorted by name.
    pub tools: Vec<(u32, u32)>,
    /// Policy name string.
    pub name: u32,
    /// Source file name string.
    pub source: u32,
    /// The default outcome.
    pub default_outcome: u32,
    /// Entry node for tools not in `tools`.
    pub fallback_entry: u32,
    /// The audit argument allowance and its redaction set (`format::NO_SET` if none).
    pub audit: (u32, u32),
    /// Where each node, predicate and DFA came from (not serialised).
    pub source_map: SourceMap,
}

/// Where the parts of a DAG came from, for explain, coverage, lint and diff. It is not part
/// of the artifact: the runtime needs none of it, and a tool that has the YAML can rebuild it
/// byte for byte by compiling again.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// Per node: the rules or schema checks whose conditions created or reused it.
    pub node_origins: Vec<BTreeSet<Origin>>,
    /// Per predicate: the atom it tests.
    pub predicate_atoms: Vec<Atom>,
    /// Per DFA: the pattern it was built from (several path globs for the DFA of their union).
    pub dfa_patterns: Vec<PatternKey>,
}

/// What a node was built for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A rule's tool match or condition, or its decision leaf.
    Rule(String),
    /// An argument schema check of this tool.
    Schema(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Rule(id) => write!(f, "rule `{id}`"),
            Origin::Schema(tool) => write!(f, "schema of `{tool}`"),
        }
    }
}

struct Builder<'p> {
    patterns: &'p Patterns,
    tables: Tables,
    string_ids: HashMap<String, u32>,
    set_ids: HashMap<Vec<u32>, u32>,
    dfa_ids: HashMap<PatternKey, u32>,
    predicate_ids: HashMap<Record, u32>,
    node_ids: HashMap<Record, u32>,
    outcome_ids: HashMap<Record, u32>,
    rule_index: BTreeMap<String, u32>,
    /// The rule or schema being lowered, recorded on every node it creates or reuses.
    origin: Option<Origin>,
}

/// Lowers `policy` to artifact tables. `patterns` holds every DFA the policy uses.
pub fn lower(policy: &Policy, patterns: &Patterns) -> Tables {
    let mut builder = Builder {
        patterns,
        tables: Tables::default(),
        string_ids: HashMap::new(),
        set_ids: HashMap::new(),
        dfa_ids: HashMap::new(),
        predicate_ids: HashMap::new(),
        node_ids: HashMap::new(),
        outcome_ids: HashMap::new(),
        rule_index: BTreeMap::new(),
        origin: None,
    };
    // String 0 is the policy name, so a zero `path` operand is always a valid id.
    builder.tables.name = builder.string(&policy.name);
    builder.tables.source = builder.string(&policy.source);
    let mut by_id: Vec<&crate::ir::Rule> = policy.rules.iter().collect();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    for (index, rule) in by_id.into_iter().enumerate() {
        let id = builder.string(&rule.id);
        builder.tables.rules.push((id, rule.line, rule.column));
        builder.rule_index.insert(rule.id.clone(), u32::try_from(index).unwrap_or(u32::MAX));
    }
    builder.tables.default_outcome = builder.outcome(outcome::DEFAULT, &policy.default, None);

    let mut names: BTreeSet<&str> = policy.schemas.iter().map(|s| s.tool.as_str()).collect();
    for rule in &policy.rules {
        if let Some(tools) = &rule.tools {
            names.extend(tools.exact.iter().map(String::as_str));
        }
    }
    // The rules that can apply to each named tool: those naming it exactly, plus those with no
    // tool list or with globs (decided per tool in `chain`). Building each tool's chain from
    // its own short list, instead of testing every rule against every tool, keeps compilation
    // linear in the number of rules when each rule names its own tool.
    let mut applicable: BTreeMap<&str, Vec<usize>> =
        names.iter().map(|&name| (name, Vec::new())).collect();
    let mut everywhere = Vec::new();
    for (index, rule) in policy.rules.iter().enumerate() {
        match &rule.tools {
            None => everywhere.push(index),
            Some(matcher) => {
                for name in &matcher.exact {
                    if let Some(list) = applicable.get_mut(name.as_str()) {
                        list.push(index);
                    }
                }
                if !matcher.globs.is_empty() {
                    everywhere.push(index);
                }
            }
        }
    }
    for (name, mut candidates) in applicable {
        candidates.extend_from_slice(&everywhere);
        candidates.sort_unstable();
        candidates.dedup();
        let entry = builder.chain(policy, Some(name), &candidates);
        let name = builder.string(name);
        builder.tables.tools.push((name, entry));
    }
    let all: Vec<usize> = (0..policy.rules.len()).collect();
    builder.tables.fallback_entry = builder.chain(policy, None, &all);
    let redact =
        if policy.audit.1.is_empty() { format::NO_SET } else { builder.set(&policy.audit.1) };
    builder.tables.audit = (policy.audit.0, redact);
    // The TOOLS table is sorted by name bytes (BTreeSet order of `&str` is byte order).
    builder.tables
}

impl Builder<'_> {
    fn string(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.tables.strings.len()).unwrap_or(u32::MAX);
        self.tables.strings.push(text.to_owned());
        self.string_ids.insert(text.to_owned(), id);
        id
    }

    fn set(&mut self, members: &BTreeSet<String>) -> u32 {
        // BTreeSet<String> iterates in byte order, which is the order the runtime searches.
        let ids: Vec<u32> = members.iter().map(|member| self.string(member)).collect();
        if let Some(&id) = self.set_ids.get(&ids) {
            return id;
        }
        let id = u32::try_from(self.tables.sets.len()).unwrap_or(u32::MAX);
        self.tables.sets.push(ids.clone());
        self.set_ids.insert(ids, id);
        id
    }

    fn dfa(&mut self, key: PatternKey) -> u32 {
        if let Some(&id) = self.dfa_ids.get(&key) {
            return id;
        }
        let id = u32::try_from(self.tables.dfas.len()).unwrap_or(u32::MAX);
        // Resolution built every pattern it accepted; a missing one yields an empty blob,
        // which the verifier rejects, so the bug cannot reach an artifact.
        self.tables.dfas.push(self.patterns.get(&key).cloned().unwrap_or_default());
        self.tables.source_map.dfa_patterns.push(key.clone());
        self.dfa_ids.insert(key, id);
        id
    }

    fn outcome(&mut self, kind: u8, verdict: &Verdict, rule: Option<&str>) -> u32 {
        let rule = rule.and_then(|id| self.rule_index.get(id).copied()).unwrap_or(format::NO_RULE);
        let reason = self.string(&verdict.reason);
        let code = self.string(&verdict.code);
        let record =
            record([kind, verdict.effect as u8, verdict.risk as u8, 0], [rule, reason, code]);
        intern(&mut self.tables.outcomes, &mut self.outcome_ids, record)
    }

    fn leaf(&mut self, outcome: u32) -> u32 {
        let record = record([node::DECIDE, 0, 0, 0], [outcome, 0, 0]);
        self.node(record)
    }

    /// Interns a node record and notes the current origin on it.
    fn node(&mut self, record: Record) -> u32 {
        let id = intern(&mut self.tables.nodes, &mut self.node_ids, record);
        let origins = &mut self.tables.source_map.node_origins;
        origins.resize_with(self.tables.nodes.len(), BTreeSet::new);
        if let (Some(origin), Some(slot)) = (&self.origin, origins.get_mut(id as usize)) {
            slot.insert(origin.clone());
        }
        id
    }

    fn predicate(&mut self, atom: &Atom) -> u32 {
        let (subject_code, path) = match &atom.subject {
            Subject::Method => (subject::METHOD, 0),
            Subject::Server => (subject::SERVER, 0),
            Subject::Tool => (subject::TOOL, 0),
            Subject::PrincipalId => (subject::PRINCIPAL_ID, 0),
            Subject::PrincipalRoles => (subject::PRINCIPAL_ROLES, 0),
            Subject::Arg(segments) => (subject::ARG, self.string(&segments.join("\0"))),
            Subject::Args => (subject::ARGS, 0),
            Subject::Element => (subject::ELEMENT, 0),
        };
        let mut flags = if atom.missing_is_false { flag::MISSING_IS_FALSE } else { 0 };
        let (operation, a, b) = match &atom.test {
            Test::StrEq(s) => (op::STR_EQ, self.string(s), 0),
            Test::StrIn(set) => (op::STR_IN, self.set(set), 0),
            Test::Prefix(s) => (op::STR_PREFIX, self.string(s), 0),
            Test::Suffix(s) => (op::STR_SUFFIX, self.string(s), 0),
            Test::Contains(s) => (op::STR_CONTAINS, self.string(s), 0),
            Test::Matches(kind, pattern) => {
                // A regex that is one literal is a substring test (the same strings match; the
                // differential tests hold the runtime to the reference's regex semantics).
                let literal = (*kind == PatternKind::Regex)
                    .then(|| crate::dfa::regex_literal(pattern))
                    .flatten()
                    .and_then(|bytes| String::from_utf8(bytes).ok());
                match literal {
                    Some(text) => (op::STR_CONTAINS, self.string(&text), 0),
                    None => (op::STR_MATCHES, self.dfa((*kind, vec![pattern.clone()])), 0),
                }
            }
            Test::Len(cmp_op, n) => {
                flags |= cmp_bits(*cmp_op);
                (op::LEN_CMP, *n, 0)
            }
            Test::PathPrefix(set, options) => (op::PATH_PREFIX, self.set(set), *options),
            Test::PathGlob(globs, options) => {
                let key = (PatternKind::PathGlob, globs.iter().cloned().collect());
                (op::PATH_GLOB, self.dfa(key), *options)
            }
            Test::Bytes(cmp_op, n) => {
                flags |= cmp_bits(*cmp_op);
                (op::BYTES_CMP, *n, 0)
            }
            Test::Decimal(cmp_op, text) => {
                flags |= cmp_bits(*cmp_op);
                (op::NUM_CMP, self.string(text), 0)
            }
            Test::UrlPort(set) => (op::URL_PORT, self.set(set), 0),
            Test::UrlPath(set) => (op::URL_PATH_PREFIX, self.set(set), 0),
            Test::UrlSsrf => (op::URL_SSRF, 0, 0),
            Test::SqlDenyFunctions(set) => (op::SQL_FUNCTIONS_DENY, self.set(set), 0),
            Test::SqlTablesIn(set) => (op::SQL_TABLES_IN, self.set(set), 0),
            Test::SqlTablesNotIn(set) => (op::SQL_TABLES_NOT_IN, self.set(set), 0),
            Test::All(element) => (op::ARRAY_ALL, self.predicate(element), 0),
            Test::Any(element) => (op::ARRAY_ANY, self.predicate(element), 0),
            Test::UrlScheme(set) => (op::URL_SCHEME, self.set(set), 0),
            Test::UrlHost(set) => (op::URL_HOST, self.set(set), 0),
            Test::UrlNamedHost => (op::URL_NAMED_HOST, 0, 0),
            Test::SqlAllow(kinds, max, dangerous) => {
                if *dangerous {
                    flags |= flag::SQL_DANGEROUS;
                }
                (op::SQL_ALLOW, *kinds, *max)
            }
            Test::Int(cmp_op, n) => {
                flags |= cmp_bits(*cmp_op);
                let bytes = n.to_le_bytes();
                let low = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let high = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                (op::INT_CMP, low, high)
            }
            Test::Bool(value) => (op::BOOL_EQ, u32::from(*value), 0),
            Test::Exists => (op::EXISTS, 0, 0),
            Test::Type(mask) => (op::TYPE_IS, *mask, 0),
            Test::OnlyKeys(set) => (op::ONLY_KEYS, self.set(set), 0),
            Test::RoleHas(role) => (op::ROLE_HAS, self.string(role), 0),
            Test::RoleAny(set) => (op::ROLE_ANY, self.set(set), 0),
        };
        let record = record([subject_code, operation, flags, 0], [path, a, b]);
        let id = intern(&mut self.tables.predicates, &mut self.predicate_ids, record);
        if id as usize == self.tables.source_map.predicate_atoms.len() {
            self.tables.source_map.predicate_atoms.push(atom.clone());
        }
        id
    }

    fn test(&mut self, atom: &Atom, if_true: u32, if_false: u32) -> u32 {
        // Skipping a test whose branches agree is sound only if the test cannot fault:
        // otherwise the DAG would silently drop a deny that the policy's meaning requires.
        if if_true == if_false && cannot_fault(atom) {
            return if_true;
        }
        let predicate = self.predicate(atom);
        let record = record([node::TEST, 0, 0, 0], [predicate, if_true, if_false]);
        self.node(record)
    }

    /// The node that evaluates `cond`, continuing at `if_true` or `if_false`.
    fn lower(&mut self, cond: &Cond, if_true: u32, if_false: u32) -> u32 {
        match cond {
            Cond::True => if_true,
            Cond::False => if_false,
            Cond::Atom(atom) => self.test(atom, if_true, if_false),
            Cond::Not(inner) => self.lower(inner, if_false, if_true),
            Cond::And(parts) => {
                parts.iter().rev().fold(if_true, |next, part| self.lower(part, next, if_false))
            }
            Cond::Or(parts) => {
                parts.iter().rev().fold(if_false, |next, part| self.lower(part, if_true, next))
            }
        }
    }

    /// The entry node for `tool` (`None`: tools named nowhere in the policy). `candidates` are
    /// the indices, ascending, of every rule that may apply to it; the others are skipped, as
    /// the tool test below would skip them.
    fn chain(&mut self, policy: &Policy, tool: Option<&str>, candidates: &[usize]) -> u32 {
        let default = self.tables.default_outcome;
        self.origin = None;
        let mut next = self.leaf(default);
        for rule in candidates.iter().rev().filter_map(|&index| policy.rules.get(index)) {
            let tool_cond = match (&rule.tools, tool) {
                (None, _) => Cond::True,
                (Some(matcher), Some(name)) => {
                    let hit = matcher.exact.contains(name)
                        || matcher.globs.iter().any(|glob| self.glob_matches(glob, name));
                    if hit { Cond::True } else { Cond::False }
                }
                (Some(matcher), None) => Cond::any(
                    matcher
                        .globs
                        .iter()
                        .map(|glob| {
                            Cond::Atom(Atom {
                                subject: Subject::Tool,
                                test: Test::Matches(PatternKind::NameGlob, glob.clone()),
                                missing_is_false: false,
                            })
                        })
                        .collect(),
                ),
            };
            if tool_cond == Cond::False {
                continue;
            }
            self.origin = Some(Origin::Rule(rule.id.clone()));
            let outcome = self.outcome(outcome::RULE, &rule.verdict, Some(&rule.id));
            let leaf = self.leaf(outcome);
            let cond = Cond::all(vec![tool_cond, rule.condition.clone()]);
            next = self.lower(&cond, leaf, next);
        }
        if let Some(schema) = tool.and_then(|name| policy.schemas.iter().find(|s| s.tool == name)) {
            self.origin = Some(Origin::Schema(schema.tool.clone()));
            for (check, verdict) in schema.checks.iter().rev() {
                let outcome = self.outcome(outcome::SCHEMA, verdict, None);
                let leaf = self.leaf(outcome);
                next = self.lower(check, next, leaf);
            }
        }
        self.origin = None;
        next
    }

    fn glob_matches(&self, glob: &str, name: &str) -> bool {
        self.patterns
            .get(&(PatternKind::NameGlob, vec![glob.to_owned()]))
            .and_then(|bytes| Dfa::from_bytes(bytes).ok())
            .is_some_and(|dfa| dfa.is_match(name.as_bytes()))
    }
}

/// Whether evaluating `atom` can never fault, whatever the request.
pub(crate) fn cannot_fault(atom: &Atom) -> bool {
    match &atom.subject {
        Subject::Method
        | Subject::Server
        | Subject::Tool
        | Subject::PrincipalId
        | Subject::PrincipalRoles => true,
        // `has(...)` never faults; a one-segment path never crosses a non-object (the root is
        // an object), so a type test that treats absence as false cannot fault either.
        Subject::Arg(path) => {
            atom.test == Test::Exists
                || (path.len() == 1 && atom.missing_is_false && matches!(atom.test, Test::Type(_)))
        }
        Subject::Args | Subject::Element => false,
    }
}

fn cmp_bits(cmp_op: CmpOp) -> u8 {
    let code = match cmp_op {
        CmpOp::Eq => cmp::EQ,
        CmpOp::Ne => cmp::NE,
        CmpOp::Lt => cmp::LT,
        CmpOp::Le => cmp::LE,
        CmpOp::Gt => cmp::GT,
        CmpOp::Ge => cmp::GE,
    };
    code << flag::CMP_SHIFT
}

fn record(head: [u8; 4], words: [u32; 3]) -> Record {
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&head);
    for (index, word) in words.iter().enumerate() {
        let start = 4 + index * 4;
        out[start..start + 4].copy_from_slice(&word.to_le_bytes());
    }
    out
}

fn intern(records: &mut Vec<Record>, ids: &mut HashMap<Record, u32>, record: Record) -> u32 {
    if let Some(&id) = ids.get(&record) {
        return id;
    }
    let id = u32::try_from(records.len()).unwrap_or(u32::MAX);
    records.push(record);
    ids.insert(record, id);
    id
}
