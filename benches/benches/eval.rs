//! Hot-path latency of the shipped default policy: one decision from raw JSON argument bytes,
//! and a cold load + verify of the artifact. The peer comparison (Cedar, Rego, CEL) and the
//! scaling families come with the performance issue.

#![expect(clippy::expect_used, reason = "a benchmark that cannot load its artifact must stop")]

use criterion::{Criterion, criterion_group, criterion_main};
use mcppol_runtime::{Effect, Program, Request, Scratch};
use std::hint::black_box;

const ARTIFACT: &[u8] = include_bytes!("../../policies/default.mcpb");

fn eval(c: &mut Criterion) {
    let program = Program::from_bytes(ARTIFACT).expect("the shipped artifact verifies");
    let mut scratch = Box::new(Scratch::new());
    let requests = [
        (
            "allow_fs_read",
            Request::tool_call("fs.read", br#"{"path":"/workspace/README.md"}"#),
            Effect::Allow,
        ),
        (
            "deny_traversal",
            Request::tool_call("fs.read", br#"{"path":"/workspace/../etc/passwd"}"#),
            Effect::Deny,
        ),
        (
            "allow_sql",
            Request::tool_call("sql.query", br#"{"query":"SELECT id FROM users"}"#),
            Effect::Allow,
        ),
        (
            "deny_unknown_tool",
            Request::tool_call("shell.exec", br#"{"cmd":"rm -rf /"}"#),
            Effect::Deny,
        ),
    ];
    let mut group = c.benchmark_group("eval/default");
    for (name, request, expected) in requests {
        // A benchmark of a wrong answer is worse than none.
        assert_eq!(program.evaluate(&request, &mut scratch).effect, expected, "{name}");
        group.bench_function(name, |b| {
            b.iter(|| program.evaluate(black_box(&request), &mut scratch).effect)
        });
    }
    group.finish();
    c.bench_function("load/default", |b| {
        b.iter(|| Program::from_bytes(black_box(ARTIFACT)).map(|p| p.node_count()))
    });
}

criterion_group!(benches, eval);
criterion_main!(benches);
