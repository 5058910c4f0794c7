//! `mcppol eval --audit` and `mcppol audit verify|query|export` end to end, with a file and with
//! the real PostgreSQL: recorded decisions verify, a tampered record is named, exports replay
//! through `eval --requests` to the same decisions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

mod common;

use common::{mcppol, root, scratch_dir, text};
use mcppol_audit_postgres::testing::TestSchema;

const POLICY: &str = "policies/default.mcpb";
const REQUESTS: &str = "policies/default.requests.jsonl";

fn request_count() -> usize {
    std::fs::read_to_string(root().join(REQUESTS))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// `eval --requests` with `extra` flags; returns the JSON decision lines.
fn eval_requests(requests: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["eval", "--policy", POLICY, "--requests", requests, "--format", "json"];
    args.extend_from_slice(extra);
    let out = mcppol(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn recorded_decisions_verify_and_an_edit_is_named() {
    let dir = scratch_dir("file");
    let log = dir.join("audit.jsonl");
    let log_arg = log.to_str().unwrap();
    let decisions = eval_requests(REQUESTS, &["--audit", log_arg, "--audit-args", "full"]);
    let lines: Vec<String> =
        std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), request_count());
    assert_eq!(decisions.len(), lines.len());

    let ok = mcppol(&["audit", "verify", "--file", log_arg]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains(&format!("ok: {} events in 1 log verified", lines.len())));

    // Turn the first deny into an allow.
    let index = lines.iter().position(|line| line.contains(r#""decision":"deny""#)).unwrap();
    let event: serde_json::Value = serde_json::from_str(&lines[index]).unwrap();
    let mut edited = lines.clone();
    edited[index] = lines[index].replace(r#""decision":"deny""#, r#""decision":"allow""#);
    std::fs::write(&log, edited.join("\n") + "\n").unwrap();
    let broken = mcppol(&["audit", "verify", "--file", log_arg]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = text(&broken.stderr);
    assert!(stderr.contains(event["id"].as_str().unwrap()), "{stderr}");
    assert!(stderr.contains(&format!("seq {}", index + 1)), "{stderr}");
    assert!(stderr.contains("[audit.chain_broken]"), "{stderr}");
}

#[test]
fn an_export_replays_to_the_same_decisions() {
    let dir = scratch_dir("export");
    let log = dir.join("audit.jsonl");
    let log_arg = log.to_str().unwrap();
    let original = eval_requests(REQUESTS, &["--audit", log_arg, "--audit-args", "full"]);
    let export = mcppol(&["audit", "export", "--file", log_arg, "--format", "jsonl"]);
    assert_eq!(export.status.code(), Some(0), "{}", text(&export.stderr));
    let exported = dir.join("replay.jsonl");
    std::fs::write(&exported, &export.stdout).unwrap();
    let replayed = eval_requests(exported.to_str().unwrap(), &[]);
    assert_eq!(replayed, original);
}

#[test]
fn an_export_of_unreplayable_events_says_so() {
    let dir = scratch_dir("digest");
    let log = dir.join("audit.jsonl");
    let log_arg = log.to_str().unwrap();
    eval_requests(REQUESTS, &["--audit", log_arg]);
    let content = std::fs::read_to_string(&log).unwrap();
    assert!(!content.contains("/etc/passwd"), "the default keeps a digest, not the arguments");
    let export = mcppol(&["audit", "export", "--file", log_arg]);
    assert_eq!(export.status.code(), Some(1));
    assert!(text(&export.stderr).contains("[audit.args_not_recorded]"));
    assert!(export.stdout.is_empty());
}

#[test]
fn query_filters_pages_and_formats() {
    let dir = scratch_dir("query");
    let log = dir.join("audit.jsonl");
    let log_arg = log.to_str().unwrap();
    let decisions = eval_requests(REQUESTS, &["--audit", log_arg]);
    let denies = decisions.iter().filter(|line| line.contains(r#""decision":"deny""#)).count();
    assert!(denies > 1);

    let out =
        mcppol(&["audit", "query", "--file", log_arg, "--decision", "deny", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), denies);
    assert!(lines.iter().all(|event| event["decision"] == "deny"));

    // Pages of 2, following the printed cursor, cover everything once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args =
            vec!["audit", "query", "--file", log_arg, "--limit", "2", "--format", "jsonl"];
        if let Some(cursor) = &after {
            args.extend(["--after", cursor.as_str()]);
        }
        let out = mcppol(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        seen.extend(text(&out.stdout).lines().map(str::to_owned));
        match text(&out.stderr).lines().find_map(|line| line.strip_prefix("next page: --after ")) {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), request_count());
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());

    let table = mcppol(&["audit", "query", "--file", log_arg, "--tool", "fs.read"]);
    assert_eq!(table.status.code(), Some(0));
    let table = text(&table.stdout);
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table.lines().skip(1).all(|line| line.contains("fs.read")), "{table}");

    let bad = mcppol(&["audit", "query", "--file", log_arg, "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(64));
    let bad = mcppol(&["audit", "query", "--file", log_arg, "--after", "nope"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("[audit.config]"));
    let neither = mcppol(&["audit", "verify"]);
    assert_eq!(neither.status.code(), Some(64));
}

#[test]
fn eval_records_to_postgres_and_audit_reads_it_back() {
    let Some(mut db) = TestSchema::acquire("eval_records_to_postgres_and_audit_reads_it_back")
        .unwrap_or_else(|message| panic!("{message}"))
    else {
        return;
    };
    let url = db.url.clone();
    let schema = db.schema.clone();
    let (url, schema) = (url.as_str(), schema.as_str());
    let audit = ["--audit", url, "--audit-schema", schema, "--audit-args", "full"];
    let original = eval_requests(REQUESTS, &audit);
    let mut single = vec![
        "eval",
        "--policy",
        POLICY,
        "--tool",
        "fs.read",
        "--args",
        r#"{"path":"/etc/shadow"}"#,
    ];
    single.extend_from_slice(&audit);
    assert_eq!(mcppol(&single).status.code(), Some(2), "a deny, recorded");

    let verify = mcppol(&["audit", "verify", "--postgres", url, "--schema", schema]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stderr));
    let total = request_count() + 1;
    assert!(
        text(&verify.stdout).contains(&format!("ok: {total} events")),
        "{}",
        text(&verify.stdout)
    );

    let query = mcppol(&[
        "audit",
        "query",
        "--postgres",
        url,
        "--schema",
        schema,
        "--tool",
        "fs.read",
        "--format",
        "jsonl",
    ]);
    assert_eq!(query.status.code(), Some(0), "{}", text(&query.stderr));
    assert!(text(&query.stdout).contains("/etc/shadow"));

    let export = mcppol(&[
        "audit",
        "export",
        "--postgres",
        url,
        "--schema",
        schema,
        "--limit",
        &request_count().to_string(),
    ]);
    assert_eq!(export.status.code(), Some(0), "{}", text(&export.stderr));
    let dir = scratch_dir("pg");
    let exported = dir.join("replay.jsonl");
    std::fs::write(&exported, &export.stdout).unwrap();
    assert_eq!(eval_requests(exported.to_str().unwrap(), &[]), original);

    // A superuser edit (triggers off) is named by verify.
    db.admin().batch_execute("SET session_replication_role = replica").unwrap();
    let row = db
        .admin()
        .query_one(
            &format!(
                "UPDATE {schema}.audit_events SET decision = 'allow' WHERE seq = 2 RETURNING id"
            ),
            &[],
        )
        .unwrap();
    let id: String = row.get(0);
    let broken = mcppol(&["audit", "verify", "--postgres", url, "--schema", schema]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = text(&broken.stderr);
    assert!(stderr.contains(&id) && stderr.contains("seq 2"), "{stderr}");
}

#[test]
fn an_unreachable_postgres_is_an_error_and_the_spool_keeps_the_records() {
    let dir = scratch_dir("down");
    let spool = dir.join("spool.jsonl");
    let down = "postgres://postgres@127.0.0.1:1/test";
    let mut args = vec![
        "eval",
        "--policy",
        POLICY,
        "--requests",
        REQUESTS,
        "--format",
        "json",
        "--audit",
        down,
    ];
    let lost = mcppol(&args);
    assert_eq!(lost.status.code(), Some(1));
    assert!(text(&lost.stderr).contains("were not recorded"), "{}", text(&lost.stderr));
    args.extend(["--audit-spool", spool.to_str().unwrap()]);
    let kept = mcppol(&args);
    assert_eq!(kept.status.code(), Some(1));
    assert!(text(&kept.stderr).contains("kept in the spool"), "{}", text(&kept.stderr));
    assert_eq!(std::fs::read_to_string(&spool).unwrap().lines().count(), request_count());
}

#[test]
fn the_policy_decides_how_much_of_the_arguments_a_log_keeps() {
    let dir = scratch_dir("allowance");
    let policy = dir.join("p.yaml");
    std::fs::write(
        &policy,
        "version: 1\nname: p\naudit:\n  args: redacted\n  redact: [password, auth.token]\nrules:\n  - {id: login, effect: allow, reason: ok, tool: auth.login}\n",
    )
    .unwrap();
    let log = dir.join("audit.jsonl");
    let (policy, log_arg) = (policy.to_str().unwrap(), log.to_str().unwrap());
    let args = r#"{"user":"ada","password":"hunter2","auth":{"token":"t0k","kind":"bearer"}}"#;
    let base =
        ["eval", "--policy", policy, "--tool", "auth.login", "--args", args, "--audit", log_arg];
    // Without --audit-args the policy's allowance applies: the named members are redacted.
    assert_eq!(mcppol(&base).status.code(), Some(0));
    let line = std::fs::read_to_string(&log).unwrap();
    let event: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(event["args_mode"], "redacted");
    assert_eq!(event["args"]["password"], "[REDACTED]");
    assert_eq!(event["args"]["auth"]["token"], "[REDACTED]");
    assert_eq!(event["args"]["auth"]["kind"], "bearer");
    assert!(!line.contains("hunter2") && !line.contains("t0k"), "{line}");
    // Asking for more than the policy allows is refused, and nothing is recorded.
    for more in ["full", "redacted:password"] {
        let refused = mcppol(&[&base[..], &["--audit-args", more]].concat());
        assert_eq!(refused.status.code(), Some(1), "{more}");
        assert!(
            text(&refused.stderr).contains("[audit.args_not_allowed]"),
            "{}",
            text(&refused.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    // Less is fine.
    assert_eq!(mcppol(&[&base[..], &["--audit-args", "digest"]].concat()).status.code(), Some(0));
    let last = std::fs::read_to_string(&log).unwrap();
    let event: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!((event["args_mode"].as_str(), event["args"].is_null()), (Some("digest"), true));
}
