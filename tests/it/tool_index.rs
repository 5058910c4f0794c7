//! The hashed tool index (format 1.3): every listed tool is found at its entry at any tool
//! count and for any kind of name; unlisted and adversarial names get the fallback entry, as
//! the binary search of format 1.2 artifacts gives; and a 1.2 artifact still loads and decides
//! the same.

use crate::craft::Parts;
use crate::support::compile;
use mcppol_compiler::Compiled;
use mcppol_runtime::{Decision, Effect, Program, Request, Scratch, format, limits};

/// A policy with one allow rule per name (rule `rNNNNN` for `names[N]`); anything else denies.
fn policy(names: &[String]) -> Compiled {
    let mut yaml = String::from("version: 1\nname: tools\ndefault: deny\nrules:\n");
    for (index, name) in names.iter().enumerate() {
        let quoted = serde_json::to_string(name).unwrap();
        yaml.push_str(&format!(
            "  - {{id: r{index:05}, effect: allow, reason: listed, tool: {quoted}}}\n"
        ));
    }
    compile(&yaml)
}

fn decide<'p>(program: &Program<'p>, scratch: &mut Scratch, tool: &str) -> Decision<'p> {
    program.evaluate(&Request::tool_call(tool, b"{}"), scratch)
}

/// Every name is found (its own rule allows) and each of `unlisted` falls back (denies).
#[track_caller]
fn check(names: &[String], unlisted: &[String]) {
    let compiled = policy(names);
    let program = Program::from_bytes(&compiled.bytes).unwrap();
    let (_, buckets, max_probe) = program.tool_index().expect("format 1.3 has an index");
    assert!(buckets as usize >= 2 * names.len() && max_probe as usize <= limits::TOOL_PROBES_MAX);
    let mut scratch = Box::new(Scratch::new());
    for (index, name) in names.iter().enumerate() {
        let decision = decide(&program, &mut scratch, name);
        assert_eq!(decision.effect, Effect::Allow, "{name:?} not found");
        assert_eq!(decision.rule, Some(format!("r{index:05}").as_str()), "{name:?}");
    }
    for name in unlisted {
        assert!(!names.contains(name));
        let decision = decide(&program, &mut scratch, name);
        assert_eq!((decision.effect, decision.rule), (Effect::Deny, None), "{name:?} was found");
    }
}

/// Names that are not listed but look like listed ones: prefixes, extensions, one byte
/// changed, the empty name, a name longer than any listed one.
fn near_misses(names: &[String]) -> Vec<String> {
    let mut out = vec![String::new(), "x".repeat(300), "tool_".to_owned()];
    for name in names.iter().take(50) {
        out.push(format!("{name}_"));
        out.push(format!("_{name}"));
        out.push(format!("{name}\0"));
        if name.len() > 1 {
            out.push(name[..name.len() - 1].to_owned());
        }
        let mut changed = name.clone().into_bytes();
        if let Some(last) = changed.last_mut() {
            *last = if *last == b'z' { b'y' } else { b'z' };
        }
        out.push(String::from_utf8_lossy(&changed).into_owned());
    }
    out.retain(|name| !names.contains(name));
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_tool_is_found_at_any_count() {
    for count in [1, 2, 3, 7, 8, 9, 64, 100, 1000] {
        let names: Vec<String> = (0..count).map(|i| format!("tool_{i}")).collect();
        check(&names, &near_misses(&names));
    }
}

#[test]
fn names_of_every_length_and_kind_are_found() {
    let long = "a_very_long_common_prefix_shared_by_many_tools.".repeat(4);
    let mut names: Vec<String> = Vec::new();
    // Every length from 1 to 40 (the hash reads short names, 4 to 7 bytes and 8 or more
    // differently; the comparison too).
    for len in 1..=40 {
        names.push("n".repeat(len));
        names.push(format!("{}{}", "m".repeat(len - 1), "z"));
    }
    // Long shared prefixes, differing only in the last byte, or only in the middle.
    for i in 0..20 {
        names.push(format!("{long}{i:02}"));
        names.push(format!("{long}{i}{long}"));
    }
    // Unicode, and bytes the JSON-RPC envelope would escape.
    for name in
        ["fs.read", "ファイル読み込み", "ü", "😀", "😀😀", "t\"q", "t\\b", "tab\tname", "é.x"]
    {
        names.push(name.to_owned());
    }
    names.sort();
    names.dedup();
    check(&names, &near_misses(&names));
}

#[test]
fn the_empty_tool_name_is_not_listable() {
    // The compiler refuses an empty tool name, so the empty request name always falls back.
    let yaml = "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, tool: ''}\n";
    assert!(mcppol_compiler::compile(yaml, "p.yaml").is_err());
}

/// Names chosen to collide with listed ones in the index (same home bucket as a listed name),
/// and very long names: all fall back, and a lookup never looks at more than `max_probe`
/// buckets (the verifier bounds it; here, the answer is what matters).
#[test]
fn adversarial_request_names_fall_back() {
    let names: Vec<String> = (0..100).map(|i| format!("tool_{i}")).collect();
    let compiled = policy(&names);
    let program = Program::from_bytes(&compiled.bytes).unwrap();
    let (seed, buckets, _) = program.tool_index().unwrap();
    let mask = buckets - 1;
    let homes: Vec<u32> =
        names.iter().map(|name| format::tool_hash(seed, name.as_bytes()) & mask).collect();
    let mut colliding = Vec::new();
    for i in 0.. {
        let candidate = format!("tool_{}", 1000 + i);
        if homes.contains(&(format::tool_hash(seed, candidate.as_bytes()) & mask)) {
            colliding.push(candidate);
        }
        if colliding.len() == 200 {
            break;
        }
    }
    let mut scratch = Box::new(Scratch::new());
    for name in &colliding {
        let decision = decide(&program, &mut scratch, name);
        assert_eq!((decision.effect, decision.rule), (Effect::Deny, None), "{name}");
    }
    for name in ["tool_1".repeat(100_000), "\u{0}".repeat(9), "tool_99\u{0}".to_owned()] {
        let decision = decide(&program, &mut scratch, &name);
        assert_eq!((decision.effect, decision.rule), (Effect::Deny, None));
    }
}

/// A format 1.2 artifact (records only) still loads, has no index, and decides every request
/// as the 1.3 artifact of the same policy does.
#[test]
fn format_1_2_artifacts_load_and_decide_the_same() {
    let mut names: Vec<String> = (0..300).map(|i| format!("tool_{i}")).collect();
    names.extend(["fs.read", "ファイル", "a"].map(str::to_owned));
    names.sort();
    let compiled = policy(&names);
    let mut parts = Parts::split(&compiled.bytes);
    parts.downgrade_to_1_2();
    let old_bytes = parts.build();
    let old = Program::from_bytes(&old_bytes).expect("a 1.2 artifact loads");
    let new = Program::from_bytes(&compiled.bytes).unwrap();
    assert_eq!(old.format_version(), (1, 2));
    assert_eq!(new.format_version(), (1, format::FORMAT_MINOR));
    assert!(old.tool_index().is_none() && new.tool_index().is_some());
    assert!(old.tools().eq(new.tools()));
    let mut scratch = Box::new(Scratch::new());
    let mut requests = names.clone();
    requests.extend(near_misses(&names));
    for tool in &requests {
        let (a, b) = (decide(&old, &mut scratch, tool), decide(&new, &mut scratch, tool));
        assert_eq!((a.effect, a.rule, a.code), (b.effect, b.rule, b.code), "{tool:?}");
    }
    // A 1.3 TOOLS section in a 1.2 artifact is not records: it is rejected.
    let mut mixed = Parts::split(&compiled.bytes);
    mixed.header[10..12].copy_from_slice(&2u16.to_le_bytes());
    assert!(Program::from_bytes(&mixed.build()).is_err());
}

/// The index is part of the compiled bytes: compiling twice gives the same seed and buckets.
#[test]
fn the_index_is_deterministic() {
    let names: Vec<String> = (0..2000).map(|i| format!("tool_{i}")).collect();
    assert_eq!(policy(&names).bytes, policy(&names).bytes);
}
