//! `mcppol schema`'s JSON Schema agrees with the compiler: every shipped and documented policy
//! that compiles validates against it, and the policies the compiler rejects for their shape
//! (unknown fields, wrong types, bad enum values) the schema rejects too.

use crate::docs;
use crate::support;

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(mcppol_compiler::POLICY_SCHEMA).expect("the schema is JSON");
    jsonschema::draft7::new(&schema).expect("the schema is a valid draft-07 schema")
}

/// The YAML text as JSON, as yaml-language-server (YAML 1.2: `no` is a string) sees it.
fn as_json(yaml: &str) -> serde_json::Value {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(yaml, options).expect("the policy is YAML")
}

fn errors(validator: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    validator
        .iter_errors(&as_json(yaml))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn shipped_policies_validate() {
    let validator = validator();
    let mut checked = 0;
    for entry in std::fs::read_dir(support::root().join("policies")).expect("policies/") {
        let path = entry.expect("entry").path();
        let name = path.to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name.ends_with(".cases.yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(errors(&validator, &text), Vec::<String>::new(), "{name}");
        checked += 1;
    }
    assert!(checked >= 2, "expected the shipped policies, found {checked}");
}

#[test]
fn documented_policies_validate_and_shape_errors_are_rejected() {
    let validator = validator();
    let text = std::fs::read_to_string(support::root().join("docs/policy-schema.md")).expect("doc");
    let (mut valid, mut rejected) = (0, 0);
    for block in docs::blocks(&text).expect("blocks") {
        if block.tag() != "yaml" {
            continue;
        }
        let fails = block.info.split_whitespace().find_map(|w| w.strip_prefix("fails="));
        match fails {
            None if block.body.starts_with("version: 1") => {
                assert_eq!(
                    errors(&validator, &block.body),
                    Vec::<String>::new(),
                    "docs/policy-schema.md:{}",
                    block.line
                );
                valid += 1;
            }
            // E0202: a field the schema does not know or a value of the wrong type.
            Some("E0202") => {
                assert!(
                    !errors(&validator, &block.body).is_empty(),
                    "docs/policy-schema.md:{}: the compiler rejects this policy's shape but the schema accepts it",
                    block.line
                );
                rejected += 1;
            }
            _ => {}
        }
    }
    assert!(valid >= 10 && rejected >= 1, "valid {valid}, rejected {rejected}");
}

#[test]
fn the_schema_rejects_what_the_compiler_rejects_for_shape() {
    let validator = validator();
    let cases = [
        "version: 1\nname: p\nrulez: []\n",
        "version: 2\nname: p\n",
        "version: 1\nname: p\ndefault: maybe\n",
        "version: 1\nname: p\nrules:\n  - {id: a, effect: permit, reason: r}\n",
        "version: 1\nname: p\nrules:\n  - {id: a, effect: allow}\n",
        "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, args: {x: {typo: 1}}}\n",
        "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, args: {x: {path: {in: [/w], case: upper}}}}\n",
        "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, args: {x: {sql: {allow: [selekt]}}}}\n",
        "version: 1\nname: p\ntools:\n  t: {unknown_args: maybe}\n",
    ];
    for yaml in cases {
        assert!(mcppol_compiler::compile(yaml, "p.yaml").is_err(), "the compiler accepts:\n{yaml}");
        assert!(!errors(&validator, yaml).is_empty(), "the schema accepts:\n{yaml}");
    }
}
