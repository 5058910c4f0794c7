//! Path analysis over decision DAGs: which nodes, branches and decisions some request can
//! reach, and a concrete request that reaches them. `lint`, `diff` and coverage build on it.
//!
//! A path through the DAG is a conjunction of *literals* (an atom and the branch taken). A
//! path is feasible when some request makes every literal on it true. Feasibility is decided
//! per subject (one argument, the method, the roles, ...):
//!
//! - the same atom must take the same branch everywhere on a path;
//! - an argument that an `exists` test said is absent cannot take any other test's branch
//!   (every other test faults or is false on an absent value), and the other way round;
//! - string tests (equality, sets, prefixes, suffixes, `contains`, regexes, globs, and path
//!   prefixes and globs on the normalised path) are regular languages: the intersection of the
//!   languages the path demands, minus those it refuses, must not be empty. This is decided
//!   exactly with a product of the tests' DFAs, which also yields a shortest witness string;
//! - a value a string test looked at is a string, so a type test saying otherwise conflicts;
//! - booleans take one value; role tests need a role nobody refused.
//!
//! Everything else (numbers, lengths, URLs, SQL, arrays) is treated as independent: any
//! outcome is assumed possible. So "infeasible" is always a proof, and "feasible" may be an
//! over-approximation; witnesses are therefore checked by evaluating them with the runtime
//! before anyone shows them. The search is bounded by a budget; when it runs out, the result
//! says so and claims nothing is unreachable.

use crate::dfa;
use crate::ir::PatternKind;
use crate::ir::{Atom, Subject, Test};
use crate::lower::SourceMap;
use crate::resolve::Patterns;
use mcppol_runtime::format::{json_type, path_option};
use mcppol_runtime::inspect::NodeView;
use mcppol_runtime::{Program, Request, Scratch};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// States explored by one product emptiness check before it gives up (and says "feasible").
const PRODUCT_STATES_MAX: usize = 20_000;

/// String tests on one value intersected at most at once; past this a group is assumed
/// feasible, which keeps a policy with thousands of rules on one argument linear to analyse.
const PRODUCT_AUTOMATA_MAX: usize = 48;

/// An interned atom.
pub type AtomId = usize;

/// One branch taken: the atom and its outcome.
pub type Literal = (AtomId, bool);

/// How a string test sees its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum View {
    /// The string itself.
    Raw,
    /// The normalised path, with these POSIX-only option bits (0).
    Path,
}

/// What an atom constrains, for the feasibility check.
#[derive(Clone, Debug)]
enum Kind {
    /// The value (in this view) is in a regular language, given as a DFA blob.
    Regular(View, Vec<u8>),
    /// Like `Regular`, but only approximately what the runtime checks (a path test with
    /// normalisation options the analysis does not model): it shapes witnesses, never a claim
    /// that something is infeasible.
    Hint(View, Vec<u8>),
    /// `has(...)`.
    Exists,
    /// JSON type in mask.
    Type(u32),
    /// Boolean equals.
    Bool(bool),
    /// Principal has one of these roles.
    Roles(BTreeSet<String>),
    /// Anything else: independent of every other atom.
    Opaque,
}

/// Every atom seen, with what it constrains.
#[derive(Debug, Default)]
pub struct Atoms {
    atoms: Vec<Atom>,
    ids: HashMap<Atom, AtomId>,
    kinds: Vec<Kind>,
}

impl Atoms {
    /// The id of `atom`, interning it.
    pub fn intern(&mut self, atom: &Atom, patterns: &Patterns) -> AtomId {
        if let Some(&id) = self.ids.get(atom) {
            return id;
        }
        let id = self.atoms.len();
        self.atoms.push(atom.clone());
        self.kinds.push(kind(atom, patterns));
        self.ids.insert(atom.clone(), id);
        id
    }

    /// The atom behind `id`.
    pub fn atom(&self, id: AtomId) -> Option<&Atom> {
        self.atoms.get(id)
    }
}

fn kind(atom: &Atom, patterns: &Patterns) -> Kind {
    let exact = |members: &mut dyn Iterator<Item = &String>| {
        let alternatives: Vec<String> = members.map(|m| regex_syntax::escape(m)).collect();
        regular(View::Raw, &format!("\\A(?:{})\\z", alternatives.join("|")))
    };
    match &atom.test {
        Test::StrEq(text) => exact(&mut std::iter::once(text)),
        Test::StrIn(set) => exact(&mut set.iter()),
        Test::Prefix(text) => regular(View::Raw, &format!("\\A{}", regex_syntax::escape(text))),
        Test::Suffix(text) => regular(View::Raw, &format!("{}\\z", regex_syntax::escape(text))),
        Test::Contains(text) => regular(View::Raw, &regex_syntax::escape(text)),
        Test::Matches(kind, pattern) => patterns
            .get(&(*kind, vec![pattern.clone()]))
            .map_or(Kind::Opaque, |blob| Kind::Regular(View::Raw, blob.clone())),
        // Path tests are modelled exactly only for plain POSIX options; with other options
        // (case folding, Windows, percent-decoding) they only shape witnesses.
        // The DFA the artifact carries: the glob's, or the union's for a list.
        Test::PathGlob(globs, 0) => patterns
            .get(&(PatternKind::PathGlob, globs.iter().cloned().collect()))
            .map_or(Kind::Opaque, |blob| Kind::Regular(View::Path, blob.clone())),
        Test::PathGlob(globs, options) => {
            // Case folding: any spelling of the glob's letters reaches it, so the hint must
            // accept them all for a witness such as `/workspace/.ENV` to be found.
            let fold = if options & path_option::CASE_INSENSITIVE != 0 { "(?i)" } else { "" };
            let regexes: Result<Vec<String>, _> =
                globs.iter().map(|glob| dfa::glob_to_regex(glob, dfa::GlobStyle::Path)).collect();
            regexes.map_or(Kind::Opaque, |regexes| {
                hint(regular(View::Path, &format!("{fold}(?:{})", regexes.join("|"))))
            })
        }
        Test::PathPrefix(prefixes, options) => {
            // On a normalised absolute path, "segments of the prefix lead the path" is exactly
            // "starts with the prefix, then `/` or the end" (no `//`, `.` or `..` remain).
            let alternatives: Vec<String> = prefixes
                .iter()
                .map(|prefix| {
                    let trimmed = prefix.trim_end_matches('/');
                    if trimmed.is_empty() {
                        "/".to_owned()
                    } else {
                        format!("{}(?:/|\\z)", regex_syntax::escape(trimmed))
                    }
                })
                .collect();
            let fold = if options & path_option::CASE_INSENSITIVE != 0 { "(?i)" } else { "" };
            let kind = regular(View::Path, &format!("{fold}\\A(?:{})", alternatives.join("|")));
            let exact = *options == 0 && prefixes.iter().all(|p| p.starts_with('/'));
            if exact { kind } else { hint(kind) }
        }
        Test::Exists => Kind::Exists,
        Test::Type(mask) => Kind::Type(*mask),
        Test::Bool(value) => Kind::Bool(*value),
        Test::RoleHas(role) => Kind::Roles(std::iter::once(role.clone()).collect()),
        Test::RoleAny(roles) => Kind::Roles(roles.clone()),
        _ => Kind::Opaque,
    }
}

fn hint(kind: Kind) -> Kind {
    match kind {
        Kind::Regular(view, blob) => Kind::Hint(view, blob),
        other => other,
    }
}

fn regular(view: View, regex: &str) -> Kind {
    dfa::build_regex(regex).map_or(Kind::Opaque, |blob| Kind::Regular(view, blob))
}

/// A DFA blob read back for walking (the runtime's wire format, see `runtime/src/dfa.rs`).
#[derive(Debug)]
struct Automaton {
    classes: usize,
    start: usize,
    class_map: [u8; 256],
    transitions: Vec<u16>,
    flags: Vec<u8>,
}

impl Automaton {
    fn read(blob: &[u8]) -> Option<Automaton> {
        mcppol_runtime::dfa::Dfa::from_bytes(blob).ok()?;
        let word = |at: usize| -> Option<usize> {
            let bytes: [u8; 4] = blob.get(at..at + 4)?.try_into().ok()?;
            usize::try_from(u32::from_le_bytes(bytes)).ok()
        };
        let (states, classes, start) = (word(0)?, word(4)?, word(8)?);
        let class_map: [u8; 256] = blob.get(12..268)?.try_into().ok()?;
        let table_end = 268 + 2 * states * classes;
        let transitions = blob
            .get(268..table_end)?
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        let flags = blob.get(table_end..table_end + states)?.to_vec();
        Some(Automaton { classes, start, class_map, transitions, flags })
    }

    fn step(&self, state: usize, byte: u8) -> usize {
        let class = usize::from(self.class_map[usize::from(byte)]);
        if self.flags.get(state).is_some_and(|f| f & mcppol_runtime::dfa::FLAG_MATCH != 0)
            && state != self.start
        {
            return state;
        }
        self.transitions.get(state * self.classes + class).map_or(0, |&next| usize::from(next))
    }

    fn stuck_matching(&self, state: usize) -> bool {
        state != self.start
            && self.flags.get(state).is_some_and(|f| f & mcppol_runtime::dfa::FLAG_MATCH != 0)
    }

    fn accepts(&self, state: usize) -> bool {
        let flags = self.flags.get(state).copied().unwrap_or(0);
        let matched = state != self.start && flags & mcppol_runtime::dfa::FLAG_MATCH != 0;
        matched || flags & mcppol_runtime::dfa::FLAG_EOI_MATCH != 0
    }
}

/// Whether some string is accepted by every `positive` automaton and by no `negative` one:
/// `Some(witness)` if so (the shortest, preferring readable bytes), `Some(None)`... never; the
/// outer `None` means provably empty. A search that runs out of budget answers "non-empty,
/// no witness".
fn product(automata: &[(&Automaton, bool)]) -> Option<Option<Vec<u8>>> {
    if automata.is_empty() {
        return Some(Some(b"x".to_vec()));
    }
    // Bytes that every automaton puts in the same class behave alike: one representative each,
    // the most readable one (letters and digits first, then other printable ASCII).
    let rank = |byte: u8| match byte {
        b'a'..=b'z' | b'0'..=b'9' => 0,
        b'A'..=b'Z' => 1,
        0x21..=0x7e => 2,
        b' ' => 3,
        _ => 4,
    };
    let mut representatives: BTreeMap<Vec<u8>, u8> = BTreeMap::new();
    for byte in 0..=255u8 {
        let signature: Vec<u8> =
            automata.iter().map(|(a, _)| a.class_map[usize::from(byte)]).collect();
        representatives
            .entry(signature)
            .and_modify(|best| {
                if rank(byte) < rank(*best) {
                    *best = byte;
                }
            })
            .or_insert(byte);
    }
    let mut bytes: Vec<u8> = representatives.into_values().collect();
    bytes.sort_by_key(|&byte| (rank(byte), byte));
    let start: Vec<usize> = automata.iter().map(|(a, _)| a.start).collect();
    let accepted = |states: &[usize]| {
        automata.iter().zip(states).all(|((a, positive), &s)| a.accepts(s) == *positive)
    };
    let mut parents: HashMap<Vec<usize>, Option<(Vec<usize>, u8)>> = HashMap::new();
    parents.insert(start.clone(), None);
    let mut queue = VecDeque::from([start]);
    while let Some(states) = queue.pop_front() {
        if accepted(&states) {
            let mut out = Vec::new();
            let mut at = states;
            while let Some(Some((parent, byte))) = parents.get(&at) {
                out.push(*byte);
                at = parent.clone();
            }
            out.reverse();
            return Some(Some(out));
        }
        if parents.len() > PRODUCT_STATES_MAX {
            return Some(None);
        }
        for &byte in &bytes {
            let next: Vec<usize> =
                automata.iter().zip(&states).map(|((a, _), &s)| a.step(s, byte)).collect();
            // A positive automaton in its dead state can never accept again, nor can a negative
            // one leave a match state: prune both.
            let dead = automata
                .iter()
                .zip(&next)
                .any(|((a, positive), &s)| if *positive { s == 0 } else { a.stuck_matching(s) });
            if dead || parents.contains_key(&next) {
                continue;
            }
            parents.insert(next.clone(), Some((states.clone(), byte)));
            queue.push_back(next);
        }
    }
    None
}

/// The subjects a request has, as the analysis groups atoms.
fn group(atom: &Atom) -> &Subject {
    &atom.subject
}

/// The classes of JSON value (one bit each, named by their `json_type` bit: `INTEGER` for
/// integral numbers, `NUMBER` for the others) whose type bits do (`holds`) or do not meet
/// `mask`. The runtime gives an integral number both `INTEGER` and `NUMBER`, so a type test is
/// a test on the class, not on one bit.
fn classes_where(mask: u32, holds: bool) -> u32 {
    let classes = [
        (json_type::NULL, json_type::NULL),
        (json_type::BOOLEAN, json_type::BOOLEAN),
        (json_type::INTEGER, json_type::INTEGER | json_type::NUMBER),
        (json_type::NUMBER, json_type::NUMBER),
        (json_type::STRING, json_type::STRING),
        (json_type::ARRAY, json_type::ARRAY),
        (json_type::OBJECT, json_type::OBJECT),
    ];
    classes
        .iter()
        .filter(|(_, bits)| (bits & mask != 0) == holds)
        .fold(0, |set, (class, _)| set | class)
}

/// Decides feasibility of literal sets, with a cache.
#[derive(Debug)]
pub struct Solver<'a> {
    atoms: &'a Atoms,
    automata: HashMap<AtomId, Option<Automaton>>,
    cache: HashMap<Vec<Literal>, bool>,
}

/// What a feasible group of literals says about its subject, for building a witness.
#[derive(Debug, Default)]
struct Facts {
    absent: bool,
    raw: Option<Vec<u8>>,
    path: Option<Vec<u8>>,
    boolean: Option<bool>,
    roles: Option<Vec<String>>,
    types: Option<u32>,
}

impl<'a> Solver<'a> {
    /// A solver over `atoms`.
    pub fn new(atoms: &'a Atoms) -> Self {
        Solver { atoms, automata: HashMap::new(), cache: HashMap::new() }
    }

    fn automaton(&mut self, id: AtomId) {
        if !self.automata.contains_key(&id) {
            let automaton = match self.atoms.kinds.get(id) {
                Some(Kind::Regular(_, blob) | Kind::Hint(_, blob)) => Automaton::read(blob),
                _ => None,
            };
            self.automata.insert(id, automaton);
        }
    }

    /// Whether `literals` (all on one subject, sorted) can hold together.
    fn group_feasible(&mut self, literals: &[Literal]) -> bool {
        if let Some(&known) = self.cache.get(literals) {
            return known;
        }
        let feasible = self.facts(literals).is_some();
        self.cache.insert(literals.to_vec(), feasible);
        feasible
    }

    /// The facts of a feasible group, or `None` when it is provably infeasible.
    fn facts(&mut self, literals: &[Literal]) -> Option<Facts> {
        let mut facts = Facts::default();
        // The same atom on both branches.
        for pair in literals.windows(2) {
            if pair[0].0 == pair[1].0 && pair[0].1 != pair[1].1 {
                return None;
            }
        }
        let Some(subject) = literals.first().and_then(|(id, _)| self.atoms.atom(*id)).map(group)
        else {
            return Some(facts);
        };
        let is_argument = matches!(subject, Subject::Arg(_));
        let mut present = !is_argument;
        let mut absent = false;
        for &(id, value) in literals {
            let (Some(atom), Some(kind)) = (self.atoms.atom(id), self.atoms.kinds.get(id)) else {
                continue;
            };
            match kind {
                Kind::Exists => {
                    if value {
                        present = true;
                    } else {
                        absent = true;
                    }
                }
                // Any other test either faults on an absent value or is false there: taking
                // its true branch, or any branch of a test that faults when absent, means the
                // value was there.
                _ if value || !atom.missing_is_false => present = true,
                _ => {}
            }
        }
        if present && absent {
            return None;
        }
        if !present {
            // Absent satisfies everything left: only `missing_is_false` tests on the false
            // branch, and `exists` on the false branch.
            facts.absent = absent;
            return Some(facts);
        }
        // Present: every test that took a branch looked at the value.
        let mut by_view: BTreeMap<View, Vec<(AtomId, bool, bool)>> = BTreeMap::new();
        let mut roles_needed: Vec<&BTreeSet<String>> = Vec::new();
        let mut roles_refused: BTreeSet<String> = BTreeSet::new();
        for &(id, value) in literals {
            let Some(kind) = self.atoms.kinds.get(id) else { continue };
            match kind {
                Kind::Regular(view, _) => {
                    by_view.entry(*view).or_default().push((id, value, false));
                }
                Kind::Hint(view, _) => by_view.entry(*view).or_default().push((id, value, true)),
                Kind::Bool(expected) => {
                    let holds = if value { *expected } else { !*expected };
                    if facts.boolean.is_some_and(|known| known != holds) {
                        return None;
                    }
                    facts.boolean = Some(holds);
                }
                Kind::Type(mask) => {
                    let allowed = facts.types.unwrap_or(json_type::ALL);
                    facts.types = Some(allowed & classes_where(*mask, value));
                }
                Kind::Roles(roles) => {
                    if value {
                        roles_needed.push(roles);
                    } else {
                        roles_refused.extend(roles.iter().cloned());
                    }
                }
                Kind::Exists | Kind::Opaque => {}
            }
        }
        if !by_view.is_empty() {
            // A string test looked at it, so it is a string.
            let types = facts.types.unwrap_or(json_type::ALL) & json_type::STRING;
            facts.types = Some(types);
        }
        if facts.boolean.is_some() {
            let types = facts.types.unwrap_or(json_type::ALL) & json_type::BOOLEAN;
            facts.types = Some(types);
        }
        if facts.types == Some(0) {
            return None;
        }
        for (view, members) in by_view {
            if members.len() > PRODUCT_AUTOMATA_MAX {
                // Too many to intersect cheaply: assume feasible (claims nothing), no witness.
                continue;
            }
            for (id, _, _) in &members {
                self.automaton(*id);
            }
            let automata = |with_hints: bool| -> Vec<(&Automaton, bool)> {
                members
                    .iter()
                    .filter(|(_, _, hint)| with_hints || !hint)
                    .filter_map(|(id, value, _)| {
                        self.automata.get(id).and_then(Option::as_ref).map(|a| (a, *value))
                    })
                    .collect()
            };
            // Exact tests decide feasibility; hints only pick a better witness when they can.
            let exact = product(&automata(false))?;
            let witness = match product(&automata(true)) {
                Some(Some(better)) => Some(better),
                _ => exact,
            };
            match view {
                View::Raw => facts.raw = witness,
                View::Path => facts.path = witness,
            }
        }
        let mut roles = Vec::new();
        for needed in roles_needed {
            let choice = needed.iter().find(|role| !roles_refused.contains(*role))?;
            roles.push(choice.clone());
        }
        facts.roles = Some(roles);
        Some(facts)
    }

    /// Whether adding `literal` to the feasible `path` keeps it feasible.
    pub fn extend_feasible(&mut self, path: &[Literal], literal: Literal) -> bool {
        let Some(subject) = self.atoms.atom(literal.0).map(group) else { return false };
        let mut same: Vec<Literal> = path
            .iter()
            .copied()
            .filter(|(id, _)| self.atoms.atom(*id).map(group) == Some(subject))
            .collect();
        same.push(literal);
        same.sort_unstable();
        same.dedup();
        self.group_feasible(&same)
    }

    /// Candidate requests that make every literal of `path` true, most specific first. Not
    /// guaranteed: callers evaluate them and keep one that does what they need.
    pub fn witnesses(&mut self, path: &[Literal], tool: &str) -> Vec<OwnedRequest> {
        let mut groups: BTreeMap<Subject, Vec<Literal>> = BTreeMap::new();
        for &(id, value) in path {
            if let Some(atom) = self.atoms.atom(id) {
                groups.entry(group(atom).clone()).or_default().push((id, value));
            }
        }
        let mut base = OwnedRequest {
            method: "tools/call".to_owned(),
            server: String::new(),
            tool: tool.to_owned(),
            principal_id: String::new(),
            principal_roles: Vec::new(),
            args: Value::Object(serde_json::Map::new()),
        };
        // Each argument gets a list of candidate values; the rest are fixed.
        let mut choices: Vec<(Vec<String>, Vec<Value>)> = Vec::new();
        let mut extra_key = false;
        for (subject, mut literals) in groups {
            literals.sort_unstable();
            literals.dedup();
            let Some(facts) = self.facts(&literals) else { return Vec::new() };
            let text = facts
                .raw
                .clone()
                .or_else(|| facts.path.clone())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            match subject {
                Subject::Method => base.method = text.unwrap_or_default(),
                Subject::Server => base.server = text.unwrap_or_default(),
                Subject::Tool => base.tool = text.unwrap_or_else(|| tool.to_owned()),
                Subject::PrincipalId => base.principal_id = text.unwrap_or_default(),
                Subject::PrincipalRoles => base.principal_roles = facts.roles.unwrap_or_default(),
                Subject::Arg(segments) if !facts.absent => {
                    let opaque: Vec<(&Test, bool)> = literals
                        .iter()
                        .filter_map(|(id, value)| self.atoms.atom(*id).map(|a| (&a.test, *value)))
                        .collect();
                    choices.push((segments, candidates(&facts, text, &opaque)));
                }
                Subject::Args => {
                    // `args` keys within a set, refused: one key the set does not list.
                    let refused = literals.iter().any(|(id, value)| {
                        !value
                            && self
                                .atoms
                                .atom(*id)
                                .is_some_and(|atom| matches!(atom.test, Test::OnlyKeys(_)))
                    });
                    if refused {
                        extra_key = true;
                    }
                }
                Subject::Arg(_) | Subject::Element => {}
            }
        }
        if extra_key {
            choices.push((vec!["mcppol_unlisted_argument".to_owned()], vec![Value::from(1)]));
        }
        let mut out = Vec::new();
        let mut indices = vec![0usize; choices.len()];
        // Odometer over the candidate lists, at most 256 combinations.
        for _ in 0..256 {
            let mut request = base.clone();
            for ((segments, values), &index) in choices.iter().zip(&indices) {
                if let Some(value) = values.get(index) {
                    set_path(&mut request.args, segments, value.clone());
                }
            }
            out.push(request);
            let mut position = 0;
            loop {
                let Some(index) = indices.get_mut(position) else { return out };
                *index += 1;
                if *index < choices.get(position).map_or(0, |(_, values)| values.len()) {
                    break;
                }
                *index = 0;
                position += 1;
            }
        }
        out
    }
}

/// Candidate values for an argument with these facts.
fn candidates(facts: &Facts, text: Option<String>, literals: &[(&Test, bool)]) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(value) = facts.boolean {
        return vec![Value::Bool(value)];
    }
    let tests: Vec<&Test> = literals.iter().map(|(test, _)| *test).collect();
    // The shortest length the length tests on the path demand (characters and bytes alike for
    // the ASCII padding used below).
    let mut shortest = 0u64;
    for (test, value) in literals {
        if let Test::Len(op, n) | Test::Bytes(op, n) = test {
            let n = u64::from(*n);
            let at_least = match (op, value) {
                (crate::ir::CmpOp::Gt, true) | (crate::ir::CmpOp::Le, false) => n + 1,
                (crate::ir::CmpOp::Ge, true) | (crate::ir::CmpOp::Lt, false) => n,
                (crate::ir::CmpOp::Eq, true) => n,
                _ => 0,
            };
            shortest = shortest.max(at_least);
        }
    }
    // Length tests with no string test still need a long enough string.
    let text = text.or_else(|| (shortest > 0).then(|| "x".to_owned()));
    let text = text.map(|text| {
        let missing = usize::try_from(shortest).unwrap_or(0).saturating_sub(text.len());
        // Past the runtime's input limit no request could carry the string anyway.
        if missing == 0 || missing > mcppol_runtime::json::ARGS_BYTES_MAX {
            return vec![text];
        }
        let pad = "a".repeat(missing);
        vec![format!("{text}/{pad}"), format!("{pad}{text}"), format!("{text}{pad}")]
    });
    let tests = &tests;
    let sql = tests.iter().any(|test| {
        matches!(
            test,
            Test::SqlAllow(..)
                | Test::SqlDenyFunctions(_)
                | Test::SqlTablesIn(_)
                | Test::SqlTablesNotIn(_)
        )
    });
    let url = tests.iter().any(|test| {
        matches!(
            test,
            Test::UrlScheme(_)
                | Test::UrlHost(_)
                | Test::UrlNamedHost
                | Test::UrlPort(_)
                | Test::UrlPath(_)
                | Test::UrlSsrf
        )
    });
    for text in text.into_iter().flatten() {
        out.push(Value::String(text));
    }
    if sql {
        // The text a regex or string test asked for, inside statements of each kind.
        if let Some(Value::String(text)) = out.first().cloned() {
            let quoted = text.replace('\'', "''");
            out.push(Value::String(format!("SELECT '{quoted}'")));
            out.push(Value::String(format!("SELECT 1 AS {text}")));
            out.push(Value::String(format!("DELETE FROM {text}")));
        }
        for statement in [
            "SELECT 1",
            "SELECT * FROM orders",
            "INSERT INTO orders VALUES (1)",
            "UPDATE orders SET a = 1",
            "DELETE FROM orders",
            "CREATE TABLE t (a int)",
            "DROP TABLE orders",
            "TRUNCATE orders",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT * FROM pg_shadow",
            "GRANT ALL ON orders TO public",
        ] {
            out.push(Value::String(statement.to_owned()));
        }
    }
    if url {
        let mut hosts: Vec<String> = Vec::new();
        let mut schemes: Vec<String> = vec!["https".to_owned()];
        let mut ports: Vec<String> = Vec::new();
        let mut paths: Vec<String> = vec!["/".to_owned()];
        for test in tests {
            match test {
                Test::UrlHost(set) => hosts.extend(set.iter().map(|h| h.replace("*.", "www."))),
                Test::UrlScheme(set) => schemes.extend(set.iter().cloned()),
                Test::UrlPort(set) => ports.extend(set.iter().cloned()),
                Test::UrlPath(set) => paths.extend(set.iter().cloned()),
                _ => {}
            }
        }
        hosts.extend(["example.com".to_owned(), "127.0.0.1".to_owned()]);
        schemes.push("http".to_owned());
        for scheme in &schemes {
            for host in &hosts {
                for path in &paths {
                    out.push(Value::String(format!("{scheme}://{host}{path}")));
                    for port in &ports {
                        out.push(Value::String(format!("{scheme}://{host}:{port}{path}")));
                    }
                }
            }
        }
    }
    let types = facts.types.unwrap_or(json_type::ALL);
    // Numbers the path compares against, and their neighbours.
    if types & (json_type::INTEGER | json_type::NUMBER) != 0 {
        for (test, _) in literals {
            match test {
                Test::Int(_, n) => {
                    for m in [Some(*n), n.checked_add(1), n.checked_sub(1)].into_iter().flatten() {
                        out.push(Value::from(m));
                    }
                }
                Test::Decimal(_, text) => {
                    if let Ok(number) = serde_json::from_str::<Value>(text) {
                        out.push(number);
                    }
                }
                _ => {}
            }
        }
    }
    let mut typed = |bit: u32, values: &[Value]| {
        if types & bit != 0 {
            out.extend_from_slice(values);
        }
    };
    typed(json_type::STRING, &[Value::String("x".to_owned()), Value::String(String::new())]);
    typed(
        json_type::INTEGER,
        &[Value::from(0), Value::from(1), Value::from(-1), Value::from(100), Value::from(10_000)],
    );
    typed(json_type::NUMBER, &[serde_json::json!(0.5), serde_json::json!(-2.5)]);
    typed(json_type::BOOLEAN, &[Value::Bool(true), Value::Bool(false)]);
    typed(json_type::ARRAY, &[Value::Array(Vec::new()), serde_json::json!(["x"])]);
    typed(json_type::OBJECT, &[Value::Object(serde_json::Map::new())]);
    typed(json_type::NULL, &[Value::Null]);
    out.dedup();
    out
}

fn set_path(args: &mut Value, segments: &[String], value: Value) {
    let Some((last, parents)) = segments.split_last() else { return };
    let mut at = args;
    for segment in parents {
        let Value::Object(map) = at else { return };
        at = map.entry(segment.clone()).or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    if let Value::Object(map) = at {
        map.insert(last.clone(), value);
    }
}

/// A request that owns its parts, for witnesses.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedRequest {
    /// MCP method.
    pub method: String,
    /// Upstream server.
    pub server: String,
    /// Tool name.
    pub tool: String,
    /// Principal id.
    pub principal_id: String,
    /// Principal roles.
    pub principal_roles: Vec<String>,
    /// Arguments object.
    pub args: Value,
}

impl OwnedRequest {
    /// Decides this request with `program`; the closure sees the decision.
    pub fn decide<T>(
        &self,
        program: &Program<'_>,
        then: impl FnOnce(&mcppol_runtime::Decision<'_>) -> T,
    ) -> T {
        let args = self.args.to_string();
        let roles: Vec<&str> = self.principal_roles.iter().map(String::as_str).collect();
        let request = Request {
            method: &self.method,
            server: &self.server,
            tool: &self.tool,
            principal_id: &self.principal_id,
            principal_roles: &roles,
            args: args.as_bytes(),
        };
        let mut scratch = Box::new(Scratch::new());
        then(&program.evaluate(&request, &mut scratch))
    }

    /// The request as a line `mcppol eval --requests` reads.
    pub fn to_json(&self) -> Value {
        let mut line = serde_json::json!({ "tool": self.tool, "args": self.args });
        if self.method != "tools/call" {
            line["method"] = Value::String(self.method.clone());
        }
        if !self.server.is_empty() {
            line["server"] = Value::String(self.server.clone());
        }
        if !self.principal_id.is_empty() || !self.principal_roles.is_empty() {
            line["principal"] =
                serde_json::json!({ "id": self.principal_id, "roles": self.principal_roles });
        }
        line
    }
}

/// One artifact seen through its source map: nodes with their atoms.
#[derive(Debug)]
pub struct Dag<'p> {
    /// The verified program.
    pub program: &'p Program<'p>,
    /// Atom id per predicate.
    predicate_atoms: Vec<AtomId>,
}

impl<'p> Dag<'p> {
    /// Pairs `program` with its source map, interning atoms into `atoms`.
    pub fn new(
        program: &'p Program<'p>,
        map: &SourceMap,
        atoms: &mut Atoms,
        patterns: &Patterns,
    ) -> Self {
        let predicate_atoms =
            map.predicate_atoms.iter().map(|atom| atoms.intern(atom, patterns)).collect();
        Dag { program, predicate_atoms }
    }

    /// A node as a test (atom, true target, false target) or a decision (outcome index).
    pub fn node(&self, index: u32) -> Option<Step> {
        match self.program.node(index)? {
            NodeView::Test { predicate, if_true, if_false } => {
                Some(Step::Test(*self.predicate_atoms.get(predicate as usize)?, if_true, if_false))
            }
            NodeView::Decide { outcome } => Some(Step::Decide(outcome)),
        }
    }

    /// Entry points: `(tool name, entry node)` for named tools and `(None, fallback)`.
    pub fn entries(&self) -> Vec<(Option<String>, u32)> {
        let mut out: Vec<(Option<String>, u32)> =
            self.program.tools().map(|(name, entry)| (Some(name.to_owned()), entry)).collect();
        out.push((None, self.program.fallback_entry()));
        out
    }

    /// The entry for `tool`: its own, or the fallback.
    pub fn entry_for(&self, tool: &str) -> u32 {
        self.program
            .tools()
            .find(|(name, _)| *name == tool)
            .map_or(self.program.fallback_entry(), |(_, entry)| entry)
    }
}

/// A node, as the search sees it.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Test an atom; go to the first node if it holds, the second if not.
    Test(AtomId, u32, u32),
    /// Decide with this outcome index.
    Decide(u32),
}

/// Synthetic atoms that pin the tool name: equal to a name, or none of some names.
pub fn tool_atom(atoms: &mut Atoms, names: &BTreeSet<String>, patterns: &Patterns) -> AtomId {
    let test = if names.len() == 1 {
        Test::StrEq(names.iter().next().cloned().unwrap_or_default())
    } else {
        Test::StrIn(names.clone())
    };
    atoms.intern(&Atom { subject: Subject::Tool, test, missing_is_false: false }, patterns)
}

/// What a reachability search found in one DAG.
#[derive(Debug, Default)]
pub struct Reach {
    /// Nodes some feasible path visits.
    pub nodes: BTreeSet<u32>,
    /// Branches `(node, outcome)` some feasible path takes.
    pub branches: BTreeSet<(u32, bool)>,
    /// Per decision node, the literals of one feasible path to it and the entry's tool.
    pub decisions: BTreeMap<u32, (Vec<Literal>, Option<String>)>,
    /// The budget ran out: what is missing may still be reachable.
    pub incomplete: bool,
}

/// Path expansions one search may make before it stops and reports itself incomplete.
pub const SEARCH_BUDGET: usize = 200_000;

/// Finds every node, branch and decision of `dag` that some request can reach.
pub fn reach(dag: &Dag<'_>, atoms: &mut Atoms, patterns: &Patterns) -> Reach {
    let mut result = Reach::default();
    let named: BTreeSet<String> = dag.entries().into_iter().filter_map(|(name, _)| name).collect();
    let entries = dag.entries();
    let mut pins = Vec::new();
    for (name, entry) in &entries {
        let pin = match name {
            Some(name) => {
                (tool_atom(atoms, &std::iter::once(name.clone()).collect(), patterns), true)
            }
            None if named.is_empty() => (usize::MAX, true),
            None => (tool_atom(atoms, &named, patterns), false),
        };
        pins.push((name.clone(), *entry, pin));
    }
    let relevance = Relevance::new(dag, atoms);
    let mut solver = Solver::new(atoms);
    let mut budget = SEARCH_BUDGET;
    let mut seen: BTreeSet<(u32, Vec<Literal>)> = BTreeSet::new();
    for (name, entry, pin) in pins {
        let mut path = Vec::new();
        if pin.0 != usize::MAX {
            path.push(pin);
        }
        let mut stack = vec![(entry, path)];
        while let Some((node, path)) = stack.pop() {
            if budget == 0 {
                result.incomplete = true;
                break;
            }
            budget -= 1;
            if !seen.insert((node, relevance.project(&[node], &path))) {
                continue;
            }
            result.nodes.insert(node);
            match dag.node(node) {
                Some(Step::Decide(_)) => {
                    result.decisions.entry(node).or_insert_with(|| (path.clone(), name.clone()));
                }
                Some(Step::Test(atom, if_true, if_false)) => {
                    for (value, target) in [(false, if_false), (true, if_true)] {
                        let known = path.iter().find(|(id, _)| *id == atom).map(|(_, v)| *v);
                        let feasible = match known {
                            Some(previous) => previous == value,
                            None => solver.extend_feasible(&path, (atom, value)),
                        };
                        if feasible {
                            result.branches.insert((node, value));
                            let mut next = path.clone();
                            if known.is_none() {
                                next.push((atom, value));
                                next.sort_unstable();
                            }
                            stack.push((target, next));
                        }
                    }
                }
                None => {}
            }
        }
    }
    result
}

/// [`reach`] for artifact bytes and their source map; `None` if the bytes do not verify.
pub fn reach_of(bytes: &[u8], map: &SourceMap, patterns: &Patterns) -> Option<Reach> {
    let program = Program::from_bytes(bytes).ok()?;
    let mut atoms = Atoms::default();
    let dag = Dag::new(&program, map, &mut atoms, patterns);
    Some(reach(&dag, &mut atoms, patterns))
}

/// Per node of a DAG, the subjects tested at or below it. A literal on any other subject
/// cannot change what happens below, so memo keys drop it and paths that differ only there
/// merge: without this, a chain of rules would be explored once per way each rule fails.
#[derive(Debug)]
pub struct Relevance {
    below: Vec<BTreeSet<usize>>,
    atom_subject: BTreeMap<AtomId, usize>,
}

impl Relevance {
    /// Computes the subjects below every node of `dag` (children have smaller indices, so
    /// one pass in index order sees every child first).
    pub fn new(dag: &Dag<'_>, atoms: &Atoms) -> Self {
        // Every atom known so far (the other DAG's too, in a diff) gets its subject's id, so a
        // literal from either side counts wherever its subject is tested.
        let mut subject_ids: BTreeMap<&Subject, usize> = BTreeMap::new();
        let mut atom_subject: BTreeMap<AtomId, usize> = BTreeMap::new();
        for (id, atom) in atoms.atoms.iter().enumerate() {
            let next = subject_ids.len();
            atom_subject.insert(id, *subject_ids.entry(&atom.subject).or_insert(next));
        }
        let mut below: Vec<BTreeSet<usize>> = Vec::new();
        for node in 0..dag.program.node_count() {
            let mut here = BTreeSet::new();
            if let Some(Step::Test(atom, if_true, if_false)) = dag.node(node) {
                if let Some(&id) = atom_subject.get(&atom) {
                    here.insert(id);
                }
                for target in [if_true, if_false] {
                    if let Some(set) = below.get(target as usize) {
                        here.extend(set.iter().copied());
                    }
                }
            }
            below.push(here);
        }
        Relevance { below, atom_subject }
    }

    /// Whether a literal on `atom` can matter at or below `node`.
    fn matters(&self, node: u32, atom: AtomId) -> bool {
        let (Some(set), Some(subject)) =
            (self.below.get(node as usize), self.atom_subject.get(&atom))
        else {
            return false;
        };
        set.contains(subject)
    }

    /// The literals of `path` that can matter below any of `nodes`.
    pub fn project(&self, nodes: &[u32], path: &[Literal]) -> Vec<Literal> {
        path.iter()
            .copied()
            .filter(|(atom, _)| nodes.iter().any(|&node| self.matters(node, *atom)))
            .collect()
    }
}
