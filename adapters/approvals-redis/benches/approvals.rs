//! Approval numbers on the local Redis (`cargo bench -p mcppol-approvals-redis`): the
//! create + approve + consume round trip (p50/p99/p99.9/max, and each step), consumptions per
//! second with many threads racing on many tokens, and memory per pending request.
//! `MCPPOL_BENCH_ROUNDS` (default 5000), `MCPPOL_BENCH_TOKENS` (default 20000) and
//! `MCPPOL_BENCH_THREADS` (default 8) size the runs. A plain binary (`harness = false`): the
//! quantities are a latency distribution and rates over a run, which criterion's per-iteration
//! model does not fit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark code: a failure aborts the run with its message"
)]

use mcppol_adapters_core::approval::{ApprovalStore, Call, Hooks, NewApproval, SystemClock};
use mcppol_approvals_redis::RedisStore;
use mcppol_approvals_redis::testing::TestRedis;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn variable(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn new_approval(i: usize) -> NewApproval {
    let args = format!(r#"{{"path":"/workspace/src/module_{i}.rs","content":"fn main() {{}}"}}"#);
    let call = Call {
        policy_hash: [5; 32],
        method: "tools/call",
        server: "files",
        tool: "fs.write",
        principal: "agent-7",
        roles: &["dev"],
        args: args.as_bytes(),
    };
    call.request(
        "fs-write-workspace",
        "writing files changes the workspace; a human approves each write",
        "medium",
        Duration::from_secs(900),
    )
    .unwrap()
}

fn store(test: &TestRedis) -> RedisStore {
    let mut config = test.config();
    config.timeout = Duration::from_secs(2);
    RedisStore::new(config, Arc::new(SystemClock), Hooks::default()).unwrap()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a sorted sample"
    )]
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn summary(label: &str, mut sample: Vec<Duration>) {
    sample.sort();
    println!(
        "{label:<28} p50 {:>8.1} µs   p99 {:>8.1} µs   p99.9 {:>8.1} µs   max {:>8.1} µs",
        percentile(&sample, 0.50).as_secs_f64() * 1e6,
        percentile(&sample, 0.99).as_secs_f64() * 1e6,
        percentile(&sample, 0.999).as_secs_f64() * 1e6,
        sample.last().unwrap().as_secs_f64() * 1e6,
    );
}

fn round_trip(test: &TestRedis, rounds: usize) {
    let store = store(test);
    let approvals: Vec<NewApproval> = (0..rounds + 200).map(new_approval).collect();
    let mut total = Vec::with_capacity(rounds);
    let (mut create, mut approve, mut consume) = (Vec::new(), Vec::new(), Vec::new());
    for (i, new) in approvals.into_iter().enumerate() {
        let binding = new.binding.clone();
        let start = Instant::now();
        let created = store.create(new).unwrap();
        let created_at = Instant::now();
        store.approve(&created.request.id, "bench").unwrap();
        let approved_at = Instant::now();
        store.consume(created.token.as_str(), &binding).unwrap();
        let end = Instant::now();
        // The first 200 warm the connection, the script cache and the allocator.
        if i >= 200 {
            total.push(end - start);
            create.push(created_at - start);
            approve.push(approved_at - created_at);
            consume.push(end - approved_at);
        }
    }
    println!("round trip on loopback Redis, {rounds} rounds, one connection:");
    summary("  create+approve+consume", total);
    summary("  create", create);
    summary("  approve", approve);
    summary("  consume", consume);
}

fn contention(test: &TestRedis, tokens: usize, threads: usize) {
    let setup = store(test);
    let mut approved = Vec::with_capacity(tokens);
    for i in 0..tokens {
        let new = new_approval(i);
        let binding = new.binding.clone();
        let created = setup.create(new).unwrap();
        setup.approve(&created.request.id, "bench").unwrap();
        approved.push((created.token, binding));
    }
    let stores: Vec<RedisStore> = (0..threads).map(|_| store(test)).collect();
    let wins = AtomicUsize::new(0);
    let attempts = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (n, store) in stores.iter().enumerate() {
            let (approved, wins, attempts) = (&approved, &wins, &attempts);
            scope.spawn(move || {
                // Every thread tries every token, starting at a different place, so each token
                // is raced by all threads (the first few by all at once).
                for k in 0..approved.len() {
                    let (token, binding) = &approved[(k + n * 7) % approved.len()];
                    attempts.fetch_add(1, Ordering::Relaxed);
                    match store.consume(token.as_str(), binding) {
                        Ok(_) => {
                            wins.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => assert_eq!(error.code(), "approval.consumed"),
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let (wins, attempts) = (wins.into_inner(), attempts.into_inner());
    assert_eq!(wins, tokens, "exactly one consumption per token");
    #[expect(clippy::cast_precision_loss, reason = "a rate for people")]
    let (attempt_rate, win_rate) = (attempts as f64 / elapsed, wins as f64 / elapsed);
    println!(
        "contention: {threads} threads (own connections) x {tokens} approved tokens: {attempts} consume calls in {elapsed:.2} s = {attempt_rate:.0} calls/s; {wins} successful consumptions = {win_rate:.0}/s, exactly one per token"
    );
}

fn memory(test: &mut TestRedis, pending: usize) {
    let info = |admin: &mut redis::Connection| -> i64 {
        let text: String = redis::cmd("INFO").arg("memory").query(admin).unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let store = store(test);
    let before = info(test.admin());
    let mut last = None;
    for i in 0..pending {
        last = Some(store.create(new_approval(i)).unwrap());
    }
    let after = info(test.admin());
    let last = last.unwrap();
    let prefix = test.prefix.clone();
    let usage = |key: String, admin: &mut redis::Connection| -> i64 {
        redis::cmd("MEMORY").arg("USAGE").arg(key).arg("SAMPLES").arg(0).query(admin).unwrap()
    };
    let request = usage(format!("{prefix}req:{}", last.request.id), test.admin());
    let token = usage(format!("{prefix}token:{}", last.token.hash()), test.admin());
    let open = usage(format!("{prefix}open"), test.admin());
    #[expect(clippy::cast_precision_loss, reason = "bytes for people")]
    let per = (after - before) as f64 / pending as f64;
    println!(
        "memory: {pending} pending requests raised used_memory by {} B = {per:.0} B per request (MEMORY USAGE: request hash {request} B, token key {token} B, open set {open} B in all)",
        after - before
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a `--no-run` build never gets here.
    let Some(test) = TestRedis::acquire("approvals bench").unwrap() else { return };
    let rounds = variable("MCPPOL_BENCH_ROUNDS", 5000);
    let tokens = variable("MCPPOL_BENCH_TOKENS", 20_000);
    let threads = variable("MCPPOL_BENCH_THREADS", 8);
    round_trip(&test, rounds);
    contention(&test, tokens, threads);
    drop(test);
    let Some(mut test) = TestRedis::acquire("approvals bench memory").unwrap() else { return };
    memory(&mut test, 10_000);
}
