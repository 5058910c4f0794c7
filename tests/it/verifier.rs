//! The verifier rejects every kind of malformed artifact with the matching error, and no
//! single-byte change of a valid artifact makes loading or evaluation panic.

use crate::support::compile;
use mcppol_runtime::format::{self, section};
use mcppol_runtime::{FormatErrorKind as K, Program, Request, Scratch, Trace};

/// The policy both verifier test modules start from: every section non-empty.
pub(crate) const POLICY: &str = r#"
version: 1
name: verifier
tools:
  t: { args: { p: { type: string, required: true } } }
rules:
  - {id: a, effect: allow, reason: ok, tool: t, when: 'args.p matches "^/w/" && args.p != "/w/x"'}
  - {id: b, effect: deny, reason: no, tool: ['u.*', v], args: {p: {path: {in: [/etc]}}}}
  - {id: c, effect: require_approval, reason: ask, tool: w, principal: {roles: [x, y]}}
"#;

fn artifact() -> Vec<u8> {
    compile(POLICY).bytes
}

/// `(offset, len)` of section `kind`.
fn section_span(bytes: &[u8], kind: u32) -> (usize, usize) {
    let entry = format::HEADER_LEN + (kind as usize - 1) * format::SECTION_ENTRY_LEN;
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    (word(entry + 4), word(entry + 8))
}

/// Recomputes the checksum so a test reaches the check it targets.
fn reseal(bytes: &mut [u8]) {
    let checksum = format::checksum(bytes);
    bytes[format::CHECKSUM_OFFSET..format::CHECKSUM_OFFSET + 4]
        .copy_from_slice(&checksum.to_le_bytes());
}

#[track_caller]
fn rejects(bytes: &[u8], expected: K) {
    match Program::from_bytes(bytes) {
        Ok(_) => panic!("accepted an artifact that should fail with {expected:?}"),
        Err(error) => assert_eq!(error.kind(), expected, "{error}"),
    }
}

#[test]
fn a_valid_artifact_loads() {
    let bytes = artifact();
    let program = Program::from_bytes(&bytes).unwrap();
    assert_eq!(program.name(), "verifier");
    assert_eq!(program.rule_count(), 3);
}

#[test]
fn header_checks() {
    let bytes = artifact();
    rejects(&bytes[..10], K::Truncated);
    let mut magic = bytes.clone();
    magic[0] = b'X';
    rejects(&magic, K::BadMagic);
    let mut version = bytes.clone();
    version[8] = 2;
    rejects(&version, K::UnsupportedVersion { major: 2, minor: format::FORMAT_MINOR });
    let mut minor = bytes.clone();
    let newer = format::FORMAT_MINOR + 1;
    minor[10..12].copy_from_slice(&newer.to_le_bytes());
    rejects(&minor, K::UnsupportedVersion { major: format::FORMAT_MAJOR, minor: newer });
    let mut longer = bytes.clone();
    longer.push(0);
    rejects(&longer, K::LengthMismatch);
    let mut corrupt = bytes.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    rejects(&corrupt, K::BadChecksum);
    let mut flags = bytes.clone();
    flags[28] = 1;
    reseal(&mut flags);
    rejects(&flags, K::BadLayout);
}

#[test]
fn section_table_checks() {
    let mut bytes = artifact();
    // Swap the kinds of the first two sections.
    bytes[format::HEADER_LEN] = 2;
    reseal(&mut bytes);
    rejects(&bytes, K::BadLayout);
    let mut bytes = artifact();
    let entry = format::HEADER_LEN + 4;
    bytes[entry] = bytes[entry].wrapping_add(4); // META offset no longer follows the table
    reseal(&mut bytes);
    rejects(&bytes, K::BadLayout);
}

#[test]
fn string_checks() {
    let mut bytes = artifact();
    let (offset, _) = section_span(&bytes, section::STRINGS);
    let count = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
    let first_string = offset + 4 + count * 8;
    bytes[first_string] = 0xFF; // not UTF-8
    reseal(&mut bytes);
    rejects(&bytes, K::BadString);
}

#[test]
fn dfa_checks() {
    let mut bytes = artifact();
    let (offset, _) = section_span(&bytes, section::DFAS);
    let count = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
    assert!(count > 0);
    let blob = offset + 4 + count * 8;
    bytes[blob + 4] = 0; // class_count 0 is invalid
    reseal(&mut bytes);
    assert!(matches!(Program::from_bytes(&bytes).map(|_| ()).unwrap_err().kind(), K::BadDfa(_)));
}

#[test]
fn node_checks() {
    let bytes = artifact();
    let (offset, len) = section_span(&bytes, section::NODES);
    let test_node = (0..len / format::NODE_LEN)
        .find(|index| bytes[offset + index * format::NODE_LEN] == format::node::TEST)
        .unwrap();
    let at = offset + test_node * format::NODE_LEN;
    // A true edge to itself would make a cycle: the forward-edge rule must reject it.
    let mut cycle = bytes.clone();
    cycle[at + 8..at + 12].copy_from_slice(&(test_node as u32).to_le_bytes());
    reseal(&mut cycle);
    rejects(&cycle, K::BadNode);
    let mut opcode = bytes.clone();
    opcode[at] = 99;
    reseal(&mut opcode);
    rejects(&opcode, K::BadNode);
    let mut padding = bytes.clone();
    padding[at + 1] = 1;
    reseal(&mut padding);
    rejects(&padding, K::BadNode);
}

#[test]
fn predicate_outcome_rule_and_tool_checks() {
    let bytes = artifact();
    let (predicates, _) = section_span(&bytes, section::PREDICATES);
    let mut op = bytes.clone();
    op[predicates + 1] = 200;
    reseal(&mut op);
    rejects(&op, K::BadPredicate);
    let (outcomes, _) = section_span(&bytes, section::OUTCOMES);
    let mut effect = bytes.clone();
    effect[outcomes + 1] = 7;
    reseal(&mut effect);
    rejects(&effect, K::BadOutcome);
    let (rules, len) = section_span(&bytes, section::RULES);
    assert!(len >= 2 * format::RULE_LEN);
    let mut order = bytes.clone();
    let (first, second) = (rules, rules + format::RULE_LEN);
    let first_id: [u8; 4] = order[first..first + 4].try_into().unwrap();
    let second_id: [u8; 4] = order[second..second + 4].try_into().unwrap();
    order[first..first + 4].copy_from_slice(&second_id);
    order[second..second + 4].copy_from_slice(&first_id);
    reseal(&mut order);
    rejects(&order, K::BadRule);
    let (tools, len) = section_span(&bytes, section::TOOLS);
    let tools = tools + format::TOOLS_HEADER_LEN;
    assert!(len >= format::TOOLS_HEADER_LEN + 2 * format::TOOL_LEN);
    let mut unsorted = bytes.clone();
    let name_a: [u8; 4] = unsorted[tools..tools + 4].try_into().unwrap();
    let name_b: [u8; 4] = unsorted[tools + 8..tools + 12].try_into().unwrap();
    unsorted[tools..tools + 4].copy_from_slice(&name_b);
    unsorted[tools + 8..tools + 12].copy_from_slice(&name_a);
    reseal(&mut unsorted);
    rejects(&unsorted, K::BadTool);
}

/// Counts the steps of a walk.
struct Steps(u64);

impl Trace for Steps {
    fn test(&mut self, _node: u32, _predicate: u32, _outcome: Option<bool>) {
        self.0 += 1;
    }
    fn decide(&mut self, _node: u32, _outcome: u32) {
        self.0 += 1;
    }
}

/// Every byte of a real artifact, each changed with several XOR masks (one bit low and high,
/// two bits, a nibble, all bits): without resealing the checksum, every change is rejected;
/// resealed, so that the change reaches the structural checks, it is either rejected or loads
/// as an artifact on which every request decides, without panicking, in at most one step per
/// node (the forward-edge bound), never with the evaluator's "corrupt program" fallback, and
/// the same with and without tracing.
#[test]
fn every_single_byte_change_is_rejected_or_evaluates_safely() {
    let bytes = artifact();
    let roles: &[&str] = &["y"];
    let requests = [
        Request::tool_call("t", br#"{"p":"/w/a"}"#),
        Request::tool_call("t", br#"{"p":"/w/x"}"#),
        Request::tool_call("t", br#"{"p":5}"#),
        Request::tool_call("t", b"{}"),
        Request::tool_call("t", b"not json"),
        Request::tool_call("u.x", br#"{"p":"/etc/x"}"#),
        Request::tool_call("v", br#"{"p":"/etc/../etc/x"}"#),
        Request { principal_roles: roles, ..Request::tool_call("w", b"{}") },
        Request::tool_call("w", b"{}"),
        Request::tool_call("zz", b"{}"),
    ];
    let masks = [0x01u8, 0x80, 0x03, 0x0F, 0xF0, 0xFF];
    let mut scratch = Box::new(Scratch::new());
    let (mut rejected, mut loaded, mut changed) = (0u32, 0u32, 0u32);
    for position in 0..bytes.len() {
        for mask in masks {
            let mut mutated = bytes.clone();
            mutated[position] ^= mask;
            changed += 1;
            assert!(
                Program::from_bytes(&mutated).is_err(),
                "unsealed change {mask:#04x} at byte {position} loaded"
            );
            // Reseal, so the mutation reaches the structural checks instead of the checksum.
            if !(format::CHECKSUM_OFFSET..format::CHECKSUM_OFFSET + 4).contains(&position) {
                reseal(&mut mutated);
            }
            let Ok(program) = Program::from_bytes(&mutated) else {
                rejected += 1;
                continue;
            };
            loaded += 1;
            for request in &requests {
                let mut steps = Steps(0);
                let traced = program.evaluate_traced(request, &mut scratch, &mut steps);
                assert!(
                    steps.0 <= u64::from(program.node_count()),
                    "change {mask:#04x} at byte {position}: {} steps through {} nodes",
                    steps.0,
                    program.node_count()
                );
                assert_ne!(
                    traced.code, "internal.corrupt_program",
                    "change {mask:#04x} at byte {position}: a verified program broke an invariant"
                );
                assert_eq!(traced, program.evaluate(request, &mut scratch));
            }
        }
    }
    assert_eq!(changed as usize, bytes.len() * masks.len());
    // Both outcomes occur: the test would prove nothing if every change were rejected.
    assert!(rejected > 0 && loaded > 0, "rejected {rejected}, loaded {loaded}");
}
