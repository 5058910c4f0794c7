//! `mcppol approvals` end to end against the real Redis: request (evaluating the shipped
//! policy), list, approve, consume once, a changed argument and a reuse denied with their
//! codes, every state change in an audit file; and a Redis that is down denies the call.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

mod common;

use common::{mcppol, text};
use mcppol_approvals_redis::testing::TestRedis;
use std::path::Path;
use std::process::Output;

const POLICY: &str = "policies/default.mcpb";
const ARGS: &str = r#"{"path":"/workspace/notes.md","content":"hello"}"#;

/// `mcppol approvals --redis URL --prefix P --audit FILE` followed by `rest`.
fn approvals(test: &TestRedis, audit: &Path, rest: &[&str]) -> Output {
    let mut args = vec![
        "approvals",
        "--redis",
        &test.url,
        "--prefix",
        &test.prefix,
        "--audit",
        audit.to_str().unwrap(),
    ];
    args.extend_from_slice(rest);
    mcppol(&args)
}

fn call(args: &'static str) -> Vec<&'static str> {
    vec![
        "--policy",
        POLICY,
        "--tool",
        "fs.write",
        "--server",
        "files",
        "--principal",
        "ana",
        "--args",
        args,
    ]
}

#[test]
fn request_approve_consume_once_with_every_change_audited() {
    let Some(test) = TestRedis::acquire("cli request_approve_consume_once")
        .unwrap_or_else(|message| panic!("{message}"))
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("mcppol-cli-approvals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let audit = dir.join("audit.jsonl");

    let mut request = vec!["request", "--format", "json"];
    request.extend(call(ARGS));
    let out = approvals(&test, &audit, &request);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["rule"], "fs-write-workspace");

    let listed = approvals(&test, &audit, &["list"]);
    assert!(text(&listed.stdout).contains(&id), "{}", text(&listed.stdout));

    let consume = |args: &'static str| {
        let mut consume = vec!["consume", "--token", token.as_str(), "--format", "json"];
        consume.extend(call(args));
        let out = approvals(&test, &audit, &consume);
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), line["code"].as_str().unwrap().to_owned())
    };
    assert_eq!(consume(ARGS), (Some(2), "approval.pending".to_owned()));
    let approved = approvals(&test, &audit, &["approve", &id, "--by", "bob"]);
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved.stderr));
    assert_eq!(
        consume(r#"{"path":"/workspace/notes.md","content":"rm -rf"}"#),
        (Some(2), "approval.args_changed".to_owned())
    );
    // Same call, members in another order: the canonical arguments are the same.
    assert_eq!(
        consume(r#"{"content":"hello","path":"/workspace/notes.md"}"#),
        (Some(0), "approval.ok".to_owned())
    );
    assert_eq!(consume(ARGS), (Some(2), "approval.consumed".to_owned()));
    let again = approvals(&test, &audit, &["deny", &id, "--reason", "too late"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("[approval.not_pending]"));

    let shown = approvals(&test, &audit, &["show", &id]);
    assert!(text(&shown.stdout).contains("state:       consumed"), "{}", text(&shown.stdout));

    let kinds: Vec<String> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["approval.created", "approval.approved", "approval.consumed"]);
    let verified = mcppol(&["audit", "verify", "--file", audit.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_down_denies_the_call_and_fails_admin_commands() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", closed.local_addr().unwrap());
    drop(closed);
    let mut consume = vec!["approvals", "--redis", &url, "consume", "--token", "mcpa_x"];
    consume.extend(call(ARGS));
    let out = mcppol(&consume);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("deny code=approval.unavailable"), "{}", text(&out.stdout));
    let list = mcppol(&["approvals", "--redis", &url, "list"]);
    assert_eq!(list.status.code(), Some(1));
    assert!(text(&list.stderr).contains("[approval.unavailable]"));
    let usage = mcppol(&["approvals", "deny", "some-id"]);
    assert_eq!(usage.status.code(), Some(64), "--reason is required");
}
