//! Audit numbers on the local PostgreSQL (`cargo bench -p mcppol-audit-postgres`): sustained
//! batched insert rate, hot-path enqueue latency (p50/p99/p99.9/max) and verify speed, plus the
//! JSON-lines file sink for comparison. `MCPPOL_BENCH_EVENTS` sets the event count (default
//! 200000). A plain binary (`harness = false`): the quantities are rates over a whole run and
//! a latency distribution, which criterion's per-iteration model does not fit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark code: a failure aborts the run with its message"
)]

use mcppol_adapters_core::audit::{
    ArgsPolicy, AuditReader, AuditSink, EventKind, FileReader, FullPolicy, QueuedSink, Record,
    SinkOptions, file_sink,
};
use mcppol_audit_postgres::testing::TestSchema;
use mcppol_audit_postgres::{PgReader, postgres_sink};
use std::time::{Duration, Instant};

fn record(i: usize) -> Record {
    Record {
        kind: EventKind::Decision,
        policy_hash: [3; 32],
        method: "tools/call".into(),
        server: "files".into(),
        tool: ["fs.read", "fs.write", "sql.query"][i % 3].into(),
        principal: format!("agent-{}", i % 16),
        roles: vec!["dev".into()],
        decision: ["allow", "deny", "require_approval"][i % 3].into(),
        rule: Some(format!("rule-{}", i % 7)),
        code: "policy.rule".into(),
        reason: "reads inside the workspace are fine".into(),
        risk: "low".into(),
        latency_ns: 850,
        approval_id: None,
        args: format!(r#"{{"path":"/workspace/src/module_{i}.rs","offset":{i},"limit":4096}}"#)
            .into_bytes(),
    }
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

/// Records `count` events as fast as one thread can, then waits for the writer to finish.
fn run(label: &str, sink: &QueuedSink, count: usize) {
    let records: Vec<Record> = (0..count).map(record).collect();
    let mut latencies = Vec::with_capacity(count);
    let start = Instant::now();
    for record in records {
        let before = Instant::now();
        sink.record(record).unwrap();
        latencies.push(before.elapsed());
    }
    let enqueued = start.elapsed();
    let report = sink.close().unwrap();
    let total = start.elapsed();
    assert_eq!(report.pending, 0, "{report:?}");
    assert_eq!(report.written, count as u64);
    latencies.sort();
    #[expect(clippy::cast_precision_loss, reason = "a rate for people")]
    let rate = count as f64 / total.as_secs_f64();
    println!(
        "{label}: {count} events written in {total:.2?} = {rate:.0} events/s (enqueueing took {enqueued:.2?})"
    );
    println!(
        "{label}: enqueue latency p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies[latencies.len() - 1]
    );
}

fn verify_rate(label: &str, reader: &mut dyn AuditReader) {
    let start = Instant::now();
    let report = reader.verify().unwrap();
    let elapsed = start.elapsed();
    assert_eq!(report.first_break, None);
    #[expect(clippy::cast_precision_loss, reason = "a rate for people")]
    let rate = report.events as f64 / elapsed.as_secs_f64();
    println!("{label}: verified {} events in {elapsed:.2?} = {rate:.0} events/s", report.events);
}

fn main() {
    let count: usize = std::env::var("MCPPOL_BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200_000);
    // The queue holds the whole run, so enqueue latency is the hot path's own cost, never a
    // wait for the writer; the rate is end to end (first enqueue to last row committed).
    let options = SinkOptions {
        capacity: count,
        batch_max: 2_000,
        full_policy: FullPolicy::FailClosed,
        args: ArgsPolicy::Digest,
        ..SinkOptions::default()
    };

    let dir = std::env::temp_dir().join(format!("mcppol-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    run("file", &file_sink(&path, options.clone()).unwrap(), count);
    verify_rate("file", &mut FileReader::new(&path));
    let _ = std::fs::remove_dir_all(&dir);

    match TestSchema::acquire("audit bench") {
        Ok(Some(db)) => {
            let config = db.config();
            run("postgres", &postgres_sink(config.clone(), options).unwrap(), count);
            verify_rate("postgres", &mut PgReader::connect(&config).unwrap());
        }
        Ok(None) => {}
        Err(message) => panic!("{message}"),
    }
}
