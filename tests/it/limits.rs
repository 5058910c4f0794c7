//! Every limit of `docs/limits.md`, at the limit (accepted) and one past it (rejected with its
//! error or code), in the runtime and, where the limit applies there, in the compiler.
//!
//! Artifact limits are tested on crafted artifacts (`craft::Parts::minimal` plus records):
//! compiling a policy with a million rules would take minutes. The compiler side of those
//! limits is `mcppol_compiler::verify_artifact`, the function `compile` runs on every artifact
//! it emits, shown to give `E0401` exactly where the runtime says `LimitExceeded`.

use crate::craft::{self, DFAS, NODES, OUTCOMES, PREDICATES, Parts, RULES, SETS, STRINGS, TOOLS};
use crate::support::{call, compile, compile_error_codes, decide};
use mcppol_runtime::dfa::{self, DFA_BYTES_MAX, DFA_STATES_MAX, Dfa, DfaError};
use mcppol_runtime::format::{self, op, subject};
use mcppol_runtime::json::{self, JsonError};
use mcppol_runtime::{Effect, FormatErrorKind as K, Program, limits};

/// Above this size an accepted artifact is verified by the runtime only: each verification of
/// a 64 MiB artifact is about two seconds in a debug build (mostly the CRC), and
/// `verify_artifact` is that same verification plus the mapping of its error to a code, which
/// the smaller artifacts at the limit and every artifact past a limit exercise.
const COMPILER_CHECK_BYTES_MAX: usize = 16 << 20;

#[track_caller]
fn loads(bytes: &[u8]) {
    if let Err(error) = Program::from_bytes(bytes) {
        panic!("rejected an artifact at the limit: {error}");
    }
    if bytes.len() <= COMPILER_CHECK_BYTES_MAX {
        assert!(mcppol_compiler::verify_artifact(bytes).is_ok());
    }
}

#[track_caller]
fn over_limit(bytes: &[u8], kind: K, offset: u32) {
    let error = Program::from_bytes(bytes).map(|_| ()).unwrap_err();
    assert_eq!((error.kind(), error.offset()), (kind, offset), "{error}");
    let diagnostic = mcppol_compiler::verify_artifact(bytes).unwrap_err();
    assert_eq!(diagnostic.code, "E0401", "{}", diagnostic.message);
}

/// `count` records of `record`, as one section body.
fn repeat(record: &[u8], count: usize) -> Vec<u8> {
    record.repeat(count)
}

/// The bytes of every section but NODES (or PREDICATES) of the minimal artifact, plus its
/// header and table: what a record count has to share `ARTIFACT_BYTES_MAX` with.
fn overhead(parts: &Parts, section: usize) -> usize {
    craft::FIRST_SECTION
        + parts
            .sections
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != section)
            .map(|(_, s)| s.len())
            .sum::<usize>()
}

/// `ARTIFACT_BYTES_MAX` and `NODE_COUNT_MAX`: an artifact of exactly the size limit, made of
/// DECIDE nodes, loads; one node more is over the size limit. `2²² + 1` nodes are 64 MiB of
/// records alone, so `NODE_COUNT_MAX` is never the limit that fires: the size check (V01)
/// rejects first, and the effective node maximum is what fits in 64 MiB.
#[test]
fn artifact_bytes_and_node_count() {
    let mut parts = Parts::minimal();
    let node = craft::record([format::node::DECIDE, 0, 0], [0, 0, 0]);
    // Whole records must fill the room exactly: one-byte strings (9 bytes each with their
    // index entry, coprime to 16) pad the rest of the artifact until they do.
    while !(limits::ARTIFACT_BYTES_MAX - overhead(&parts, NODES)).is_multiple_of(format::NODE_LEN) {
        parts.add_string(b"x");
    }
    let room = limits::ARTIFACT_BYTES_MAX - overhead(&parts, NODES);
    let fit = room / format::NODE_LEN;
    assert!(fit < limits::NODE_COUNT_MAX);
    parts.sections[NODES] = repeat(&node, fit);
    let bytes = parts.build();
    assert_eq!(bytes.len(), limits::ARTIFACT_BYTES_MAX);
    match Program::from_bytes(&bytes) {
        Ok(program) => assert_eq!(program.node_count() as usize, fit),
        Err(error) => panic!("rejected an artifact at the limit: {error}"),
    }
    // V01 runs before the checksum, so these need no valid CRC (computing one over 64 MiB
    // costs seconds in a debug build).
    parts.sections[NODES].extend_from_slice(&node);
    over_limit(&parts.build_unsealed(), K::LimitExceeded, 0);
    parts.sections[NODES] = repeat(&node, limits::NODE_COUNT_MAX + 1);
    over_limit(&parts.build_unsealed(), K::LimitExceeded, 0);
}

/// `PREDICATE_COUNT_MAX`: as for nodes, the size limit is the one that binds. The artifact at
/// the size limit is in the test above; here, the predicates that fit in half of it load (a
/// second 64 MiB artifact would double the time for nothing new: predicates and nodes are
/// counted by the same code), and `PREDICATE_COUNT_MAX + 1` predicates are over the size
/// limit.
#[test]
fn predicate_count() {
    let mut parts = Parts::minimal();
    let predicate = craft::record([subject::METHOD, op::STR_EQ, 0], [0, 0, 0]);
    let fit = (limits::ARTIFACT_BYTES_MAX - overhead(&parts, PREDICATES)) / format::PREDICATE_LEN;
    assert!(fit < limits::PREDICATE_COUNT_MAX);
    parts.sections[PREDICATES] = repeat(&predicate, fit / 2);
    loads(&parts.build());
    parts.sections[PREDICATES] = repeat(&predicate, limits::PREDICATE_COUNT_MAX + 1);
    over_limit(&parts.build_unsealed(), K::LimitExceeded, 0);
}

/// `count` distinct strings in increasing byte order (fixed-width decimal), after the minimal
/// artifact's empty string; their ids start at 1.
fn sorted_strings(parts: &mut Parts, count: usize) {
    let mut table = parts.table(STRINGS);
    for i in 0..count {
        let offset = table.payload.len() as u32;
        table.payload.extend_from_slice(format!("{i:07}").as_bytes());
        table.entries.push((offset, 7));
    }
    parts.set_table(STRINGS, &table);
}

/// `RULE_COUNT_MAX` rules with unique ids load; one more is over the limit.
#[test]
fn rule_count() {
    let max = limits::RULE_COUNT_MAX;
    let mut parts = Parts::minimal();
    sorted_strings(&mut parts, max + 1);
    let rules = |count: usize| -> Vec<u8> {
        (1..=count as u32).flat_map(|id| [id, 1, 1]).flat_map(u32::to_le_bytes).collect()
    };
    parts.sections[RULES] = rules(max);
    loads(&parts.build());
    parts.sections[RULES] = rules(max + 1);
    let at = parts.offset_of(RULES);
    over_limit(&parts.build(), K::LimitExceeded, at);
}

/// `TOOL_COUNT_MAX` tools with sorted names load; one more is over the limit.
#[test]
fn tool_count() {
    let max = limits::TOOL_COUNT_MAX;
    let mut parts = Parts::minimal();
    sorted_strings(&mut parts, max + 1);
    let tools =
        |count: usize| -> Vec<(u32, u32)> { (1..=count as u32).map(|name| (name, 0)).collect() };
    parts.set_tools(&tools(max));
    loads(&parts.build());
    // The count is checked before the index is read: no index needed to be over the limit.
    parts.set_tool_section(max as u32 + 1, (0, 0, 0), &tools(max + 1), &[]);
    let at = parts.offset_of(TOOLS);
    over_limit(&parts.build(), K::LimitExceeded, at);
    // Before format 1.3, the count is the number of records.
    parts.downgrade_to_1_2();
    over_limit(&parts.build(), K::LimitExceeded, at);
}

/// `TOOL_PROBES_MAX`: an index that says a lookup may take that many probes loads; one more is
/// over the limit.
#[test]
fn tool_probes() {
    let max = limits::TOOL_PROBES_MAX as u32;
    let mut parts = Parts::minimal();
    sorted_strings(&mut parts, 3);
    let tools = [(1, 0), (2, 0), (3, 0)];
    let names: Vec<Vec<u8>> = tools.iter().map(|&(name, _)| parts.string(name)).collect();
    let (buckets, _) = craft::place_tools(&names, 0, 32);
    parts.set_tool_section(3, (0, 32, max), &tools, &buckets);
    loads(&parts.build());
    parts.set_tool_section(3, (0, 32, max + 1), &tools, &buckets);
    let at = parts.offset_of(TOOLS) + 12;
    over_limit(&parts.build(), K::LimitExceeded, at);
}

/// `OUTCOME_COUNT_MAX` outcomes load; one more is over the limit.
#[test]
fn outcome_count() {
    let max = limits::OUTCOME_COUNT_MAX;
    let mut parts = Parts::minimal();
    let default = craft::outcome(format::outcome::DEFAULT, 2, 1, format::NO_RULE, 0, 0);
    parts.sections[OUTCOMES] = repeat(&default, max);
    loads(&parts.build());
    parts.sections[OUTCOMES].extend_from_slice(&default);
    let at = parts.offset_of(OUTCOMES);
    over_limit(&parts.build(), K::LimitExceeded, at);
}

/// `STRING_COUNT_MAX`, `SET_COUNT_MAX`, `DFA_COUNT_MAX`: that many entries (empty strings,
/// empty sets, one shared DFA blob) load; one more is over the limit.
#[test]
fn string_set_and_dfa_counts() {
    let blob = craft::minimal_dfa();
    for (section, max, entry, payload) in [
        (STRINGS, limits::STRING_COUNT_MAX, (0, 0), Vec::new()),
        (SETS, limits::SET_COUNT_MAX, (0, 0), Vec::new()),
        (DFAS, limits::DFA_COUNT_MAX, (0, blob.len() as u32), blob.clone()),
    ] {
        let mut parts = Parts::minimal();
        let mut table = craft::Indexed { entries: vec![entry; max], payload };
        parts.set_table(section, &table);
        loads(&parts.build());
        table.entries.push(entry);
        parts.set_table(section, &table);
        over_limit(&parts.build(), K::LimitExceeded, 0);
    }
}

/// `STRING_BYTES_MAX` in the artifact: a string of exactly the limit loads, one byte more is
/// rejected; the compiler reports a policy string that long as E0401.
#[test]
fn string_bytes_in_the_artifact() {
    let mut parts = Parts::minimal();
    parts.add_string(&vec![b'a'; limits::STRING_BYTES_MAX]);
    loads(&parts.build());
    let mut parts = Parts::minimal();
    let id = parts.add_string(&vec![b'a'; limits::STRING_BYTES_MAX + 1]);
    over_limit(&parts.build(), K::BadString, id);

    let policy = |reason_len: usize| {
        format!(
            "version: 1\nname: long\nrules:\n  - {{id: a, effect: allow, tool: t, reason: {}}}\n",
            "r".repeat(reason_len)
        )
    };
    let compiled = compile(&policy(limits::STRING_BYTES_MAX));
    assert_eq!(decide(&compiled, &call("t", "{}")).effect, Effect::Allow);
    assert_eq!(compile_error_codes(&policy(limits::STRING_BYTES_MAX + 1)), ["E0401"]);
}

/// `DFA_STATES_MAX`: a blob with that many states loads, in the DFA verifier and in an
/// artifact; one more state is `TooManyStates`.
#[test]
fn dfa_states() {
    let states = DFA_STATES_MAX as u32;
    let blob = craft::dfa_blob(states, 1);
    assert!(Dfa::from_bytes(&blob).is_ok());
    let mut parts = Parts::minimal();
    parts.add_dfa(&blob);
    loads(&parts.build());
    let over = craft::dfa_blob(states + 1, 1);
    assert_eq!(Dfa::from_bytes(&over).map(|_| ()), Err(DfaError::TooManyStates));
    let mut parts = Parts::minimal();
    parts.add_dfa(&over);
    let error = Program::from_bytes(&parts.build()).map(|_| ()).unwrap_err();
    assert_eq!(error.kind(), K::BadDfa(DfaError::TooManyStates));
}

/// `DFA_BYTES_MAX`: no state and class count encodes to exactly 1 MiB, so "at the limit" is
/// the largest blob that does (within 3 bytes of it) loading, and a blob of exactly
/// `DFA_BYTES_MAX` bytes passing the size check (it then fails the exact-length check, which
/// runs later); one byte more is `TooLarge`, before anything else is read.
#[test]
fn dfa_bytes() {
    let (len, states, classes) = (2..=DFA_STATES_MAX)
        .flat_map(|s| (1..=256usize).map(move |c| (s, c)))
        .filter_map(|(s, c)| Some((dfa::encoded_len(s, c)?, s, c)))
        .filter(|&(len, ..)| len <= DFA_BYTES_MAX)
        .max()
        .unwrap();
    assert!(DFA_BYTES_MAX - len < 4, "largest encodable blob is {len} bytes");
    let blob = craft::dfa_blob(states as u32, classes as u32);
    assert_eq!(blob.len(), len);
    assert!(Dfa::from_bytes(&blob).is_ok());
    let mut parts = Parts::minimal();
    parts.add_dfa(&blob);
    loads(&parts.build());
    let mut exact = blob.clone();
    exact.resize(DFA_BYTES_MAX, 0);
    assert_eq!(Dfa::from_bytes(&exact).map(|_| ()), Err(DfaError::LengthMismatch));
    let mut over = blob;
    over.resize(DFA_BYTES_MAX + 1, 0);
    assert_eq!(Dfa::from_bytes(&over).map(|_| ()), Err(DfaError::TooLarge));
}

/// The compiler's side of both DFA limits: a regex needing more than `DFA_STATES_MAX` states
/// is E0301 (a glob would be E0302). In practice `regex-automata`'s own determinization budget
/// (4 MiB) stops such a regex before the state count does, with the same code; hitting
/// exactly 65,535 states with a regex is not practical, so "at the limit" is a regex of over 2¹⁰
/// states that compiles and matches, and the runtime side is tested on crafted blobs above.
#[test]
fn dfa_limits_in_the_compiler() {
    let policy = |repeat: usize| {
        format!(
            "version: 1\nname: d\nrules:\n  - {{id: a, effect: allow, reason: r, tool: t, when: 'args.p matches \"(?-u)a[ab]{{{repeat}}}$\"'}}\n"
        )
    };
    let compiled = compile(&policy(10));
    let states: Vec<u32> = compiled
        .patterns
        .values()
        .map(|blob| u32::from_le_bytes(blob[..4].try_into().unwrap()))
        .collect();
    assert!(states.iter().any(|&n| n >= 1 << 10), "{states:?}");
    let matching = format!("{{\"p\":\"a{}\"}}", "b".repeat(10));
    assert_eq!(decide(&compiled, &call("t", &matching)).effect, Effect::Allow);
    let errors = mcppol_compiler::compile(&policy(16), "test.yaml").unwrap_err();
    assert_eq!(errors.iter().map(|d| d.code).collect::<Vec<_>>(), ["E0301"]);
    assert!(errors[0].message.contains("too large"), "{}", errors[0].message);
}

/// Parses `input` with a full tape.
fn parse(input: &[u8]) -> Result<(), JsonError> {
    let mut tape = vec![json::Entry::EMPTY; json::JSON_VALUES_MAX];
    json::parse(input, &mut tape).map(|_| ())
}

/// The request-side JSON limits, each at the limit and one past it: in the scanner, and in a
/// full evaluation by the runtime and by the compiler's reference evaluator (which must agree),
/// where going past the limit denies with the limit's code.
#[test]
fn json_limits() {
    let compiled =
        compile("version: 1\nname: j\nrules:\n  - {id: a, effect: allow, reason: r, tool: t}\n");
    let check = |at: String, past: String, error: &dyn Fn(&JsonError) -> bool, code: &str| {
        assert_eq!(parse(at.as_bytes()), Ok(()), "at the limit: {code}");
        assert!(parse(past.as_bytes()).is_err_and(|e| error(&e)), "past the limit: {code}");
        assert_eq!(decide(&compiled, &call("t", &at)).effect, Effect::Allow, "{code}");
        let denied = decide(&compiled, &call("t", &past));
        assert_eq!((denied.effect, denied.code.as_str()), (Effect::Deny, code));
    };

    // ARGS_BYTES_MAX: `{"a":"…"}` of exactly 1 MiB.
    let sized = |len: usize| format!("{{\"a\":\"{}\"}}", "x".repeat(len - 8));
    assert_eq!(sized(json::ARGS_BYTES_MAX).len(), json::ARGS_BYTES_MAX);
    check(
        sized(json::ARGS_BYTES_MAX),
        sized(json::ARGS_BYTES_MAX + 1),
        &|e| matches!(e, JsonError::TooLarge),
        "json.too_large",
    );
    // JSON_DEPTH_MAX: the root object is level 1, each array one more.
    let nested =
        |depth: usize| format!("{{\"a\":{}{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
    check(
        nested(json::JSON_DEPTH_MAX),
        nested(json::JSON_DEPTH_MAX + 1),
        &|e| matches!(e, JsonError::DepthExceeded { .. }),
        "json.depth_exceeded",
    );
    // JSON_VALUES_MAX: the root, the array and its elements are all values.
    let values = |count: usize| format!("{{\"a\":[{}]}}", vec!["0"; count - 2].join(","));
    check(
        values(json::JSON_VALUES_MAX),
        values(json::JSON_VALUES_MAX + 1),
        &|e| matches!(e, JsonError::TooManyValues),
        "json.too_many_values",
    );
    // OBJECT_KEYS_MAX.
    let keys = |count: usize| {
        let members: Vec<String> = (0..count).map(|i| format!("\"k{i}\":0")).collect();
        format!("{{{}}}", members.join(","))
    };
    check(
        keys(json::OBJECT_KEYS_MAX),
        keys(json::OBJECT_KEYS_MAX + 1),
        &|e| matches!(e, JsonError::TooManyKeys { .. }),
        "json.too_many_keys",
    );
    // KEY_BYTES_MAX, in raw bytes as written.
    let key = |len: usize| format!("{{\"{}\":0}}", "k".repeat(len));
    check(
        key(json::KEY_BYTES_MAX),
        key(json::KEY_BYTES_MAX + 1),
        &|e| matches!(e, JsonError::KeyTooLong { .. }),
        "json.key_too_long",
    );
}

/// `STRING_BYTES_MAX` on the request side: an argument string a test reads may be that long,
/// one byte more denies with `limit.string_too_long`.
#[test]
fn argument_string_bytes() {
    let compiled = compile(
        "version: 1\nname: s\nrules:\n  - {id: a, effect: allow, reason: r, tool: t, when: 'args.p starts_with \"a\"'}\n",
    );
    let args = |len: usize| format!("{{\"p\":\"{}\"}}", "a".repeat(len));
    let at = decide(&compiled, &call("t", &args(limits::STRING_BYTES_MAX)));
    assert_eq!(at.effect, Effect::Allow);
    let past = decide(&compiled, &call("t", &args(limits::STRING_BYTES_MAX + 1)));
    assert_eq!((past.effect, past.code.as_str()), (Effect::Deny, "limit.string_too_long"));
}

fn when_policy(when: &str) -> String {
    format!(
        "version: 1\nname: w\nrules:\n  - id: a\n    effect: allow\n    reason: r\n    tool: t\n    when: '{when}'\n"
    )
}

/// `EXPR_BYTES_MAX` and `EXPR_DEPTH_MAX` (the grammar's, reported by the compiler).
#[test]
fn expression_bytes_and_depth() {
    let sized = |len: usize| {
        let head = "args.p == \"";
        format!("{head}{}\"", "x".repeat(len - head.len() - 1))
    };
    let at = sized(mcppol_grammar::EXPR_BYTES_MAX);
    assert_eq!(at.len(), mcppol_grammar::EXPR_BYTES_MAX);
    compile(&when_policy(&at));
    assert_eq!(
        compile_error_codes(&when_policy(&sized(mcppol_grammar::EXPR_BYTES_MAX + 1))),
        ["E0105"]
    );

    let nested =
        |depth: usize| format!("{}args.p == \"x\"{}", "(".repeat(depth), ")".repeat(depth));
    let compiled = compile(&when_policy(&nested(mcppol_grammar::EXPR_DEPTH_MAX)));
    assert_eq!(decide(&compiled, &call("t", r#"{"p":"x"}"#)).effect, Effect::Allow);
    assert_eq!(
        compile_error_codes(&when_policy(&nested(mcppol_grammar::EXPR_DEPTH_MAX + 1))),
        ["E0104"]
    );
    let negated = |depth: usize| format!("{}args.p != \"x\"", "!".repeat(depth));
    compile(&when_policy(&negated(mcppol_grammar::EXPR_DEPTH_MAX)));
    assert_eq!(
        compile_error_codes(&when_policy(&negated(mcppol_grammar::EXPR_DEPTH_MAX + 1))),
        ["E0104"]
    );
}

/// `ARG_DEPTH_MAX`: an argument path of that many segments compiles and is read, in an
/// `args:` spec and in a `when:` condition; one more is E0402.
#[test]
fn argument_path_depth() {
    use mcppol_compiler::resolve::ARG_DEPTH_MAX;
    let spec = |depth: usize| {
        let mut spec = "{enum: [x]}".to_owned();
        for level in (1..depth).rev() {
            spec = format!("{{properties: {{s{level}: {spec}}}}}");
        }
        format!(
            "version: 1\nname: p\nrules:\n  - {{id: a, effect: allow, reason: r, tool: t, args: {{s0: {spec}}}}}\n"
        )
    };
    let deep_args = |depth: usize| {
        let mut value = "\"x\"".to_owned();
        for level in (0..depth).rev() {
            value = format!("{{\"s{level}\":{value}}}");
        }
        value
    };
    let compiled = compile(&spec(ARG_DEPTH_MAX));
    assert_eq!(decide(&compiled, &call("t", &deep_args(ARG_DEPTH_MAX))).effect, Effect::Allow);
    assert_eq!(compile_error_codes(&spec(ARG_DEPTH_MAX + 1)), ["E0402"]);

    let path = |depth: usize| {
        let segments: Vec<String> = (0..depth).map(|level| format!("s{level}")).collect();
        format!("args.{} == \"x\"", segments.join("."))
    };
    let compiled = compile(&when_policy(&path(ARG_DEPTH_MAX)));
    assert_eq!(decide(&compiled, &call("t", &deep_args(ARG_DEPTH_MAX))).effect, Effect::Allow);
    assert_eq!(compile_error_codes(&when_policy(&path(ARG_DEPTH_MAX + 1))), ["E0402"]);
}

/// `KEY_BYTES_MAX` in the compiler: an argument name the runtime could ever see (at most 256
/// bytes as a JSON key) compiles and matches; a longer one, counting the escapes JSON needs,
/// is E0403 in an `args:` spec and in a `when:` condition.
#[test]
fn argument_name_bytes() {
    let max = json::KEY_BYTES_MAX;
    let spec = |name: &str| {
        format!(
            "version: 1\nname: k\nrules:\n  - {{id: a, effect: allow, reason: r, tool: t, args: {{'{name}': {{enum: [x]}}}}}}\n"
        )
    };
    let name = "k".repeat(max);
    let compiled = compile(&spec(&name));
    let args = format!("{{\"{name}\":\"x\"}}");
    assert_eq!(decide(&compiled, &call("t", &args)).effect, Effect::Allow);
    assert_eq!(compile_error_codes(&spec(&"k".repeat(max + 1))), ["E0403"]);
    // `"` is written `\"`: 255 bytes of text need 256 as a key, 256 need 257.
    let quoted = |len: usize| format!("\"{}", "k".repeat(len - 1));
    compile(&spec(&quoted(max - 1)));
    assert_eq!(compile_error_codes(&spec(&quoted(max))), ["E0403"]);

    let when = |len: usize| when_policy(&format!("args.{} == \"x\"", "k".repeat(len)));
    let compiled = compile(&when(max));
    assert_eq!(decide(&compiled, &call("t", &args)).effect, Effect::Allow);
    assert_eq!(compile_error_codes(&when(max + 1)), ["E0403"]);
}
