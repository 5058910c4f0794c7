//! `mcppol fmt` round-trips: on every documented and shipped policy it is idempotent, and the
//! formatted policy compiles to exactly the same conditions as the original.

use crate::docs;
use crate::support;

fn policies() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let text = std::fs::read_to_string(support::root().join("docs/policy-schema.md")).expect("doc");
    for block in docs::blocks(&text).expect("blocks") {
        let fails = block.info.split_whitespace().any(|w| w.starts_with("fails="));
        if block.tag() == "yaml" && !fails && block.body.starts_with("version: 1") {
            out.push((format!("docs/policy-schema.md:{}", block.line), block.body));
        }
    }
    for entry in std::fs::read_dir(support::root().join("policies")).expect("policies/") {
        let path = entry.expect("entry").path();
        let name = path.to_string_lossy().into_owned();
        if name.ends_with(".yaml") && !name.ends_with(".cases.yaml") {
            out.push((name, std::fs::read_to_string(&path).expect("readable")));
        }
    }
    out
}

#[test]
fn fmt_is_idempotent_and_keeps_every_condition() {
    let all = policies();
    assert!(all.len() > 10, "{}", all.len());
    for (name, source) in all {
        let once = mcppol_compiler::fmt::format(&source, &name).expect("formats");
        let twice = mcppol_compiler::fmt::format(&once, &name).expect("formats again");
        assert_eq!(once, twice, "{name}: not idempotent");
        let before = mcppol_compiler::compile(&source, &name).expect("compiles");
        let after = mcppol_compiler::compile(&once, &name).expect("formatted compiles");
        let conditions = |c: &mcppol_compiler::Compiled| {
            c.policy.rules.iter().map(|r| (r.id.clone(), r.condition.clone())).collect::<Vec<_>>()
        };
        assert_eq!(conditions(&before), conditions(&after), "{name}");
    }
}
