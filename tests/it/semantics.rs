//! Decision semantics: deny beats require_approval beats allow, ties by rule id, independent of
//! rule order in the file; faults deny with distinct codes; absent arguments never match.

use crate::support::{call, compile, compile_error_codes, decide};
use mcppol_runtime::Effect;

const RULES: [&str; 3] = [
    "  - {id: b-allow, effect: allow, reason: ok, tool: t}\n",
    "  - {id: c-approve, effect: require_approval, reason: ask, tool: t, when: 'args.n > 1'}\n",
    "  - {id: a-deny, effect: deny, reason: no, tool: t, when: 'args.n > 2'}\n",
];

fn policy(order: &[usize]) -> String {
    let mut text = String::from("version: 1\nname: conflicts\nrules:\n");
    for &index in order {
        text.push_str(RULES[index]);
    }
    text
}

#[test]
fn strongest_effect_wins_whatever_the_rule_order() {
    let orders: [[usize; 3]; 6] =
        [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for order in orders {
        let compiled = compile(&policy(&order));
        let cases = [
            (r#"{"n":1}"#, Effect::Allow, "b-allow"),
            (r#"{"n":2}"#, Effect::RequireApproval, "c-approve"),
            (r#"{"n":3}"#, Effect::Deny, "a-deny"),
        ];
        for (args, effect, rule) in cases {
            let outcome = decide(&compiled, &call("t", args));
            assert_eq!(
                (outcome.effect, outcome.rule.as_deref()),
                (effect, Some(rule)),
                "order {order:?}, args {args}"
            );
        }
    }
}

#[test]
fn ties_between_equal_effects_go_to_the_smallest_rule_id() {
    for yaml in [
        "version: 1\nname: t\nrules:\n  - {id: zeta, effect: deny, reason: z, tool: t}\n  - {id: alpha, effect: deny, reason: a, tool: t}\n",
        "version: 1\nname: t\nrules:\n  - {id: alpha, effect: deny, reason: a, tool: t}\n  - {id: zeta, effect: deny, reason: z, tool: t}\n",
    ] {
        let outcome = decide(&compile(yaml), &call("t", "{}"));
        assert_eq!(outcome.rule.as_deref(), Some("alpha"));
    }
}

#[test]
fn the_default_applies_when_no_rule_matches_and_is_deny_when_omitted() {
    let omitted =
        compile("version: 1\nname: t\nrules:\n  - {id: r, effect: allow, reason: ok, tool: t}\n");
    assert_eq!(decide(&omitted, &call("other", "{}")).effect, Effect::Deny);
    let approval = compile("version: 1\nname: t\ndefault: require_approval\n");
    let outcome = decide(&approval, &call("anything", "{}"));
    assert_eq!(
        (outcome.effect, outcome.code.as_str()),
        (Effect::RequireApproval, "policy.default")
    );
}

#[test]
fn a_condition_reading_an_absent_argument_denies_unless_guarded() {
    let compiled = compile(
        "version: 1\nname: t\ndefault: allow\nrules:\n  - {id: r, effect: deny, reason: no, tool: t, when: '!(args.mode == \"ro\")'}\n  - {id: g, effect: deny, reason: no, tool: u, when: 'has(args.mode) && args.mode == \"rw\"'}\n",
    );
    // `!(absent == "ro")` must not become true: the absent argument is a fault, hence deny.
    let outcome = decide(&compiled, &call("t", "{}"));
    assert_eq!((outcome.effect, outcome.code.as_str()), (Effect::Deny, "args.missing"));
    assert_eq!(decide(&compiled, &call("t", r#"{"mode":"ro"}"#)).effect, Effect::Allow);
    assert_eq!(decide(&compiled, &call("u", "{}")).effect, Effect::Allow);
    assert_eq!(decide(&compiled, &call("u", r#"{"mode":"rw"}"#)).effect, Effect::Deny);
}

#[test]
fn wrong_types_deny_with_their_own_code() {
    let compiled = compile(
        "version: 1\nname: t\nrules:\n  - {id: r, effect: allow, reason: ok, tool: t, when: 'args.n <= 10'}\n",
    );
    assert_eq!(decide(&compiled, &call("t", r#"{"n":10}"#)).effect, Effect::Allow);
    assert_eq!(decide(&compiled, &call("t", r#"{"n":10.5}"#)).effect, Effect::Deny);
    assert_eq!(decide(&compiled, &call("t", r#"{"n":"10"}"#)).code, "args.type");
}

#[test]
fn a_negated_constraint_never_matches_an_absent_argument() {
    let compiled = compile(
        "version: 1\nname: t\nrules:\n  - id: r\n    effect: allow\n    reason: ok\n    tool: t\n    args:\n      path: { path: { not_in: [/etc] } }\n",
    );
    assert_eq!(decide(&compiled, &call("t", r#"{"path":"/home/a"}"#)).effect, Effect::Allow);
    assert_eq!(decide(&compiled, &call("t", r#"{"path":"/etc/passwd"}"#)).effect, Effect::Deny);
    assert_eq!(decide(&compiled, &call("t", "{}")).effect, Effect::Deny);
}

#[test]
fn globs_and_methods_select_rules() {
    let compiled = compile(
        "version: 1\nname: t\nrules:\n  - {id: fs, effect: allow, reason: ok, tool: 'fs.*'}\n  - {id: res, effect: allow, reason: ok, method: resources/read, tool: 'file:///workspace/*'}\n",
    );
    assert_eq!(decide(&compiled, &call("fs.read", "{}")).rule.as_deref(), Some("fs"));
    assert_eq!(decide(&compiled, &call("fsx", "{}")).effect, Effect::Deny);
    let resource = mcppol_runtime::Request {
        method: "resources/read",
        ..call("file:///workspace/a.txt", "{}")
    };
    assert_eq!(decide(&compiled, &resource).rule.as_deref(), Some("res"));
    // A glob rule for tools/call does not match the same name under another method.
    let other = mcppol_runtime::Request { method: "prompts/get", ..call("fs.read", "{}") };
    assert_eq!(decide(&compiled, &other).effect, Effect::Deny);
}

#[test]
fn principals_and_roles_select_rules() {
    let compiled = compile(
        "version: 1\nname: t\nrules:\n  - {id: r, effect: allow, reason: ok, tool: t, principal: {roles: [admin, ops]}}\n  - {id: i, effect: allow, reason: ok, tool: u, principal: {id: ana}, when: '\"audit\" in principal.roles'}\n",
    );
    let base = call("t", "{}");
    assert_eq!(
        decide(&compiled, &mcppol_runtime::Request { principal_roles: &["ops"], ..base }).effect,
        Effect::Allow
    );
    assert_eq!(
        decide(&compiled, &mcppol_runtime::Request { principal_roles: &["dev"], ..base }).effect,
        Effect::Deny
    );
    let user = call("u", "{}");
    assert_eq!(
        decide(
            &compiled,
            &mcppol_runtime::Request { principal_id: "ana", principal_roles: &["audit"], ..user }
        )
        .effect,
        Effect::Allow
    );
    assert_eq!(
        decide(
            &compiled,
            &mcppol_runtime::Request { principal_id: "bob", principal_roles: &["audit"], ..user }
        )
        .effect,
        Effect::Deny
    );
}

#[test]
fn invalid_policies_report_every_error_with_its_code() {
    let codes = compile_error_codes(
        "version: 1\nname: t\nrules:\n  - {id: a, effect: allow, reason: x, when: 'args.p matches \"(\"'}\n  - {id: a, effect: deny, reason: y, when: 'args.n < \"x\"'}\n  - {id: c, effect: deny, reason: y, args: {p: {path: {in: [relative]}}}}\n",
    );
    assert_eq!(codes, vec!["E0301", "E0204", "E0311", "E0215"]);
    assert_eq!(compile_error_codes("version: 2\nname: t\n"), vec!["E0203"]);
    assert_eq!(
        compile_error_codes("version: 1\nname: t\nrules:\n  - {id: a, efect: allow}\n"),
        vec!["E0202"]
    );
    assert_eq!(compile_error_codes("version: 1\nname: 'unterminated\n"), vec!["E0201"]);
    assert_eq!(compile_error_codes("version: 1\nname: [\n"), vec!["E0202"]);
    // An explicit null must never drop a match or a constraint: that would widen an allow.
    for field in ["tool: null", "when: ~", "args: {p: {type: null}}", "args: {p: {pattern: null}}"]
    {
        let yaml = format!(
            "version: 1\nname: t\nrules:\n  - {{id: a, effect: allow, reason: r, {field}}}\n"
        );
        assert_eq!(compile_error_codes(&yaml), vec!["E0202"], "{field}");
    }
}
