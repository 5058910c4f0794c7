//! The `mcppol` command end to end: exit codes, output formats, `compile --check`, raw
//! argument bytes in `eval --requests`, `inspect`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

mod common;

use common::{mcppol, scratch_dir, text};

#[test]
fn eval_exit_codes_follow_the_decision() {
    let policy = "policies/default.mcpb";
    let allow = mcppol(&[
        "eval",
        "--policy",
        policy,
        "--tool",
        "fs.read",
        "--args",
        r#"{"path":"/workspace/a"}"#,
    ]);
    assert_eq!(allow.status.code(), Some(0), "{}", text(&allow.stderr));
    let deny = mcppol(&[
        "eval",
        "--policy",
        policy,
        "--tool",
        "fs.read",
        "--args",
        r#"{"path":"/etc/passwd"}"#,
    ]);
    assert_eq!(deny.status.code(), Some(2));
    let approval = mcppol(&[
        "eval",
        "--policy",
        policy,
        "--tool",
        "fs.write",
        "--args",
        r#"{"path":"/workspace/a","content":""}"#,
    ]);
    assert_eq!(approval.status.code(), Some(3));
    let missing = mcppol(&["eval", "--policy", "no/such/file.mcpb", "--tool", "x"]);
    assert_eq!(missing.status.code(), Some(1));
    let usage = mcppol(&["eval", "--policy", policy]);
    assert_eq!(usage.status.code(), Some(64), "{}", text(&usage.stderr));
    let help = mcppol(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Exit status"));
}

#[test]
fn eval_accepts_yaml_and_prints_json_lines() {
    let out = mcppol(&[
        "eval",
        "--policy",
        "policies/default.yaml",
        "--tool",
        "sql.query",
        "--args",
        r#"{"query":"SELECT id FROM users"}"#,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["decision"], "allow");
    assert_eq!(line["rule"], "sql-read-only");
    assert_eq!(line["risk"], "low");
    assert_eq!(line["code"], "policy.rule");
    assert!(line["reason"].as_str().unwrap().contains("SELECT"));
}

#[test]
fn eval_requests_pass_raw_argument_bytes() {
    let dir = scratch_dir("requests");
    let requests = dir.join("requests.jsonl");
    std::fs::write(
        &requests,
        concat!(
            r#"{"tool":"fs.read","args":{"path":"/workspace/a"}}"#, "\n",
            r#"{"tool":"fs.read","args":{"path":"/workspace/a","path":"/etc/passwd"}}"#, "\n",
            r#"{"tool":"fs.read","args":{"path":"/workspace/\u002e\u002e/etc/passwd"}}"#, "\n",
            r#"{"tool":"sql.query","args":{"query":"SELECT 1"},"principal":{"id":"ana","roles":["dev"]}}"#, "\n",
            r#"{"tool":"fs.read","args":null}"#, "\n",
        ),
    )
    .unwrap();
    let out = mcppol(&[
        "eval",
        "--policy",
        "policies/default.yaml",
        "--requests",
        requests.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["decision"].as_str().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("allow", "policy.rule"),
            ("deny", "json.duplicate_key"),
            ("deny", "policy.default"),
            ("allow", "policy.rule"),
            // `null` reaches the runtime as written, not as "no arguments".
            ("deny", "json.not_an_object"),
        ]
    );
    // A malformed line is reported, the rest still evaluated, and the exit code says so.
    std::fs::write(&requests, "{\"tool\":\"fs.read\"}\nnot json\n").unwrap();
    let out = mcppol(&[
        "eval",
        "--policy",
        "policies/default.mcpb",
        "--requests",
        requests.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(":2: malformed request"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().filter(|l| l.starts_with("1: ")).count(), 1);
}

#[test]
fn compile_writes_next_to_the_policy_and_check_detects_staleness() {
    let dir = scratch_dir("compile");
    let policy = dir.join("p.yaml");
    std::fs::write(
        &policy,
        "version: 1\nname: p\nrules:\n  - {id: r, effect: allow, reason: ok, tool: t}\n",
    )
    .unwrap();
    let policy_arg = policy.to_str().unwrap();
    let missing = mcppol(&["compile", "--check", policy_arg]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot read artifact"));
    let out = mcppol(&["compile", policy_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.join("p.mcpb").exists());
    assert_eq!(mcppol(&["compile", "--check", policy_arg]).status.code(), Some(0));
    std::fs::write(
        &policy,
        "version: 1\nname: p\nrules:\n  - {id: r, effect: deny, reason: no, tool: t}\n",
    )
    .unwrap();
    let stale = mcppol(&["compile", "--check", policy_arg]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(text(&stale.stderr).contains("is stale"), "{}", text(&stale.stderr));
    let other = dir.join("elsewhere.mcpb");
    assert_eq!(
        mcppol(&["compile", policy_arg, "-o", other.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert!(other.exists());
}

#[test]
fn compile_errors_have_codes_positions_snippets_and_json() {
    let dir = scratch_dir("errors");
    let policy = dir.join("bad.yaml");
    std::fs::write(&policy, "version: 1\nname: bad\nrules:\n  - id: a\n    effect: allow\n    reason: x\n    when: 'args.n < \"x\"'\n").unwrap();
    let out = mcppol(&["compile", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error[E0311]"), "{stderr}");
    assert!(stderr.contains("bad.yaml:7:12"), "{stderr}");
    assert!(stderr.contains("^^^^"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
    let json = mcppol(&["compile", policy.to_str().unwrap(), "--format", "json"]);
    let line: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (line["code"].as_str(), line["line"].as_u64(), line["column"].as_u64()),
        (Some("E0311"), Some(7), Some(12))
    );
}

#[test]
fn inspect_lists_and_draws_the_dag() {
    let listing = mcppol(&["inspect", "policies/default.mcpb"]);
    assert_eq!(listing.status.code(), Some(0));
    let stdout = text(&listing.stdout);
    assert!(stdout.contains("sha256"));
    assert!(stdout.contains("fs-read-workspace"));
    assert!(stdout.contains("<any other tool>"));
    let dot = mcppol(&["inspect", "--dot", "policies/default.mcpb"]);
    let stdout = text(&dot.stdout);
    assert!(stdout.starts_with("digraph mcppol {"));
    assert!(stdout.trim_end().ends_with('}'));
    let garbage = scratch_dir("inspect").join("x.mcpb");
    std::fs::write(&garbage, b"MCPPOL\0\x1agarbage").unwrap();
    let bad = mcppol(&["inspect", garbage.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("artifact."), "{}", text(&bad.stderr));
}

#[test]
fn test_runs_suites_reports_diffs_and_coverage() {
    let shipped = mcppol(&["test", "policies", "--coverage", "--min-coverage", "100"]);
    assert_eq!(
        shipped.status.code(),
        Some(0),
        "{}{}",
        text(&shipped.stdout),
        text(&shipped.stderr)
    );
    assert!(text(&shipped.stdout).contains(" passed, 0 failed"));
    assert!(text(&shipped.stderr).contains("(100%)"));

    let dir = scratch_dir("suites");
    std::fs::write(
        dir.join("p.yaml"),
        "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: ok, tool: t}\n  - {id: b, effect: deny, reason: no, tool: u}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("p.cases.yaml"),
        "policy: p.yaml\ncases:\n  - {name: ok, tool: t, expect: allow}\n  - {name: wrong, tool: t, expect: {decision: deny, rule: b}}\n",
    )
    .unwrap();
    let dir_arg = dir.to_str().unwrap();
    let out = mcppol(&["test", dir_arg]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("FAIL") && stdout.contains("decision: expected deny, got allow"),
        "{stdout}"
    );
    assert!(stdout.contains("rule: expected b, got a"), "{stdout}");
    // A failure shows the path the request took, mapped to rules.
    assert!(stdout.contains("path: n2 yes [rule `a`]"), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");

    let junit = mcppol(&["test", dir_arg, "--format", "junit"]);
    let xml = text(&junit.stdout);
    assert!(xml.contains("<testsuites name=\"mcppol\" tests=\"2\" failures=\"1\">"), "{xml}");
    assert!(xml.contains("<failure message="), "{xml}");

    let json = mcppol(&["test", dir_arg, "--format", "json"]);
    let last: serde_json::Value =
        serde_json::from_str(text(&json.stdout).lines().last().unwrap()).unwrap();
    assert_eq!((last["passed"].as_u64(), last["failed"].as_u64()), (Some(1), Some(1)));

    // Rule `b` never decides a case: coverage 50% fails a 100% floor even when cases pass.
    std::fs::write(
        dir.join("p.cases.yaml"),
        "policy: p.yaml\ncases:\n  - {name: ok, tool: t, expect: allow}\n",
    )
    .unwrap();
    let floor = mcppol(&["test", dir_arg, "--coverage", "--min-coverage", "100"]);
    assert_eq!(floor.status.code(), Some(1));
    let report = text(&floor.stderr);
    assert!(report.contains("rule never hit: b"), "{report}");
    assert!(report.contains("decision never reached: n3 deny code=policy.rule rule=b"), "{report}");
    assert!(
        report.contains("branch never taken: n2 no -> method == \"tools/call\" [rule `a`]"),
        "{report}"
    );
    // A branch floor fails on its own too, and JSON carries the same numbers.
    let branch_floor = mcppol(&["test", dir_arg, "--min-branch-coverage", "50"]);
    assert_eq!(branch_floor.status.code(), Some(1), "{}", text(&branch_floor.stderr));
    let json = mcppol(&["test", dir_arg, "--coverage", "--format", "json"]);
    let coverage: serde_json::Value =
        serde_json::from_str(text(&json.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(coverage["rules"]["covered"], 1);
    assert_eq!(coverage["branches"]["total"], 4);
    assert_eq!(coverage["rules_never_hit"][0], "b");

    // A suite naming a missing policy is an error, not a skip.
    std::fs::write(
        dir.join("p.cases.yaml"),
        "policy: missing.yaml\ncases:\n  - {name: ok, tool: t, expect: allow}\n",
    )
    .unwrap();
    let missing = mcppol(&["test", dir_arg]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot"), "{}", text(&missing.stderr));
}

#[test]
fn explain_shows_the_walk_and_the_rule_behind_the_decision() {
    let denied = mcppol(&[
        "explain",
        "--policy",
        "policies/default.yaml",
        "--tool",
        "fs.read",
        "--args",
        r#"{"path":"/workspace/../etc/passwd"}"#,
    ]);
    assert_eq!(denied.status.code(), Some(2));
    let stdout = text(&denied.stdout);
    assert!(stdout.contains("args.path path under {/workspace}"), "{stdout}");
    assert!(stdout.contains(" no    value \"/workspace/../etc/passwd\""), "{stdout}");
    assert!(stdout.contains("from rule `fs-read-workspace` at default.yaml:"), "{stdout}");
    // The rule's six globs are one test of their union, shown as the list.
    assert!(
        stdout.contains(
            r#"path matches any glob of {"**/*.key", "**/*.pem", "**/.env", "**/.env.*", "**/.env:*", "**/.ssh/**"}"#
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("path matches glob"), "{stdout}");
    assert!(stdout.contains("check=path.not_allowed"), "{stdout}");
    let allowed = mcppol(&[
        "explain",
        "--policy",
        "policies/default.mcpb",
        "--tool",
        "sql.query",
        "--args",
        r#"{"query":"SELECT 1"}"#,
    ]);
    assert_eq!(allowed.status.code(), Some(0));
    // The deciding rule is mapped back to its place in the YAML.
    assert!(text(&allowed.stdout).contains("rule=sql-read-only"), "{}", text(&allowed.stdout));
    assert!(text(&allowed.stdout).contains("(default.yaml:"), "{}", text(&allowed.stdout));
}

#[test]
fn lint_reports_findings_in_every_format_and_deny_warnings_fails() {
    let dir = scratch_dir("lint");
    let policy = dir.join("p.yaml");
    std::fs::write(
        &policy,
        "version: 1\nname: p\nrules:\n  - {id: no-etc, effect: deny, reason: r, tool: fs.read, args: {path: {path: {in: [/etc]}}}}\n  - {id: passwd, effect: allow, reason: r, tool: fs.read, args: {path: {path: {in: [/etc/passwd]}}}}\n",
    )
    .unwrap();
    let path = policy.to_str().unwrap();
    let human = mcppol(&["lint", path]);
    assert_eq!(human.status.code(), Some(0), "warnings alone do not fail");
    let stderr = text(&human.stderr);
    assert!(stderr.contains("warning[W0102]: rule `passwd` (allow) can never fire"), "{stderr}");
    assert!(stderr.contains("p.yaml:5:10"), "{stderr}");
    assert_eq!(mcppol(&["lint", path, "--deny-warnings"]).status.code(), Some(1));
    let json = mcppol(&["lint", path, "--format", "json"]);
    let line: serde_json::Value =
        serde_json::from_str(text(&json.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(
        (line["code"].as_str(), line["severity"].as_str(), line["line"].as_u64()),
        (Some("W0102"), Some("warning"), Some(5))
    );
    let sarif = mcppol(&["lint", path, "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&text(&sarif.stdout)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "W0102");
    assert_eq!(
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
    // `compile` lints too, and --deny-warnings stops it before writing.
    let compile = mcppol(&["compile", path, "--deny-warnings"]);
    assert_eq!(compile.status.code(), Some(1));
    assert!(!dir.join("p.mcpb").exists());
    // The shipped policies are clean.
    assert_eq!(
        mcppol(&["lint", "policies/default.yaml", "policies/dev.yaml", "--deny-warnings"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn diff_shows_changed_regions_with_witnesses_and_replays_requests() {
    let dir = scratch_dir("diff");
    let old = dir.join("old.yaml");
    let new = dir.join("new.yaml");
    std::fs::write(&old, "version: 1\nname: p\nrules:\n  - {id: read, effect: allow, reason: r, tool: fs.read, args: {path: {path: {in: [/workspace]}}}}\n").unwrap();
    std::fs::write(&new, "version: 1\nname: p\nrules:\n  - {id: read, effect: allow, reason: r, tool: fs.read, args: {path: {path: {in: [/workspace, /tmp]}}}}\n").unwrap();
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let out = mcppol(&["diff", old, new]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("~ fs.read: deny (policy.default) -> allow (rule read)"), "{stdout}");
    assert!(stdout.contains(r#"e.g. {"args":{"path":"/tmp"},"tool":"fs.read"}"#), "{stdout}");
    assert_eq!(mcppol(&["diff", old, new, "--exit-code"]).status.code(), Some(1));
    assert_eq!(mcppol(&["diff", old, old, "--exit-code"]).status.code(), Some(0));
    // Replay: only the request whose decision changes is listed.
    let log = dir.join("log.jsonl");
    std::fs::write(&log, "{\"tool\":\"fs.read\",\"args\":{\"path\":\"/tmp/a\"}}\n{\"tool\":\"fs.read\",\"args\":{\"path\":\"/workspace/a\"}}\n").unwrap();
    let replay =
        mcppol(&["diff", old, new, "--requests", log.to_str().unwrap(), "--format", "json"]);
    let lines: Vec<serde_json::Value> =
        text(&replay.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let changed: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l.get("line").is_some()).collect();
    assert_eq!(changed.len(), 1, "{lines:?}");
    assert_eq!(changed[0]["line"], 1);
    assert_eq!(changed[0]["new"]["decision"], "allow");
    assert_eq!(lines.last().unwrap()["changed"], 1);
}

#[test]
fn schema_prints_json_schema_and_fmt_canonicalises_conditions() {
    let schema = mcppol(&["schema"]);
    assert_eq!(schema.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_str(&text(&schema.stdout)).unwrap();
    assert_eq!(value["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(value["properties"]["rules"].is_object());

    let dir = scratch_dir("fmt");
    let policy = dir.join("p.yaml");
    std::fs::write(
        &policy,
        "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, when: 'args.n>1'}\n",
    )
    .unwrap();
    let path = policy.to_str().unwrap();
    let check = mcppol(&["fmt", "--check", path]);
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check.stderr).contains("is not formatted"), "{}", text(&check.stderr));
    assert_eq!(mcppol(&["fmt", path]).status.code(), Some(0));
    assert!(std::fs::read_to_string(&policy).unwrap().contains("when: 'args.n > 1'"));
    assert_eq!(mcppol(&["fmt", "--check", path]).status.code(), Some(0));
}
