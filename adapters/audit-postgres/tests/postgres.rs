//! The PostgreSQL audit adapter against the real server: append-only enforcement, tamper
//! detection, a killed connection mid-stream, spool replay, queries, migrations. Each test has
//! its own schema (dropped at the end), so tests run in parallel and leave no tables behind.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

use mcppol_adapters_core::audit::{
    ArgsPolicy, AuditReader, AuditSink, BreakKind, ErrorKind, EventKind, FullPolicy, Query,
    QueuedSink, Record, SinkOptions,
};
use mcppol_audit_postgres::testing::TestSchema;
use mcppol_audit_postgres::{PgConfig, PgReader, SCHEMA_VERSION, migrate, postgres_sink};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The test's schema, or `None` after a loud SKIPPED (never under `CI=true`, where an
/// unreachable server fails the test).
fn schema(test: &str) -> Option<TestSchema> {
    TestSchema::acquire(test).unwrap_or_else(|message| panic!("{message}"))
}

fn record(i: usize) -> Record {
    let decisions = ["allow", "deny", "require_approval"];
    Record {
        kind: EventKind::Decision,
        policy_hash: [9; 32],
        method: "tools/call".into(),
        server: ["files", "db"][i % 2].into(),
        tool: ["fs.read", "fs.write", "sql.query"][i % 3].into(),
        principal: format!("user{}", i % 4),
        roles: vec!["dev".into(), format!("team{}", i % 2)],
        decision: decisions[i % 3].into(),
        rule: (!i.is_multiple_of(5)).then(|| format!("rule-{}", i % 5)),
        code: "policy.rule".into(),
        reason: format!("reason {i} ✓"),
        risk: ["low", "medium", "high", "critical"][i % 4].into(),
        latency_ns: 1000 + i as u64,
        approval_id: None,
        args: format!(
            r#"{{"path":"/workspace/{i}","n":{i},"big":9007199254740993,"s":"é\u0000"}}"#
        )
        .into_bytes(),
    }
}

/// Which events a filter should select.
type Predicate = fn(&mcppol_adapters_core::audit::AuditEvent) -> bool;

fn options(spool: Option<PathBuf>) -> SinkOptions {
    SinkOptions {
        log: "main".into(),
        args: ArgsPolicy::Full,
        spool,
        retry_interval: Duration::from_millis(50),
        batch_max: 64,
        ..SinkOptions::default()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcppol-pg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Flushes until nothing is pending, or fails after `limit`.
fn settle(sink: &QueuedSink, limit: Duration) {
    let start = Instant::now();
    loop {
        let report = sink.flush().unwrap();
        if report.pending == 0 {
            return;
        }
        assert!(start.elapsed() < limit, "still pending after {limit:?}: {report:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (id, seq) of every stored event of `log`, in chain order.
fn stored(db: &mut TestSchema, log: &str) -> Vec<(String, i64)> {
    let sql = format!("SELECT id, seq FROM {}.audit_events WHERE log = $1 ORDER BY seq", db.schema);
    db.admin().query(&sql, &[&log]).unwrap().iter().map(|row| (row.get(0), row.get(1))).collect()
}

fn verify(config: &PgConfig) -> mcppol_adapters_core::audit::VerifyReport {
    PgReader::connect(config).unwrap().verify().unwrap()
}

#[test]
fn the_database_refuses_update_delete_and_truncate() {
    let Some(mut db) = schema("the_database_refuses_update_delete_and_truncate") else { return };
    let sink = postgres_sink(db.config(), options(None)).unwrap();
    for i in 0..3 {
        sink.record(record(i)).unwrap();
    }
    assert_eq!(sink.close().unwrap().written, 3);
    let table = format!("{}.audit_events", db.schema);
    let admin = db.admin();

    // The writer role: INSERT and SELECT only, refused by privilege.
    let privileges = admin
        .query_one(
            "SELECT has_table_privilege('mcppol_audit_writer', $1, 'SELECT'), \
                    has_table_privilege('mcppol_audit_writer', $1, 'INSERT'), \
                    has_table_privilege('mcppol_audit_writer', $1, 'UPDATE'), \
                    has_table_privilege('mcppol_audit_writer', $1, 'DELETE'), \
                    has_table_privilege('mcppol_audit_writer', $1, 'TRUNCATE')",
            &[&table],
        )
        .unwrap();
    let granted: Vec<bool> = (0..5).map(|i| privileges.get(i)).collect();
    assert_eq!(granted, [true, true, false, false, false]);
    admin.batch_execute("SET ROLE mcppol_audit_writer").unwrap();
    assert_eq!(admin.query(&format!("SELECT id FROM {table}"), &[]).unwrap().len(), 3);
    for statement in [
        format!("UPDATE {table} SET decision = 'allow'"),
        format!("DELETE FROM {table}"),
        format!("TRUNCATE {table}"),
    ] {
        let error = admin.batch_execute(&statement).unwrap_err();
        let code = error.code().map(|code| code.code().to_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{statement}: {error}");
    }
    admin.batch_execute("RESET ROLE").unwrap();

    // The table owner and superusers: refused by the trigger.
    for statement in [
        format!("UPDATE {table} SET decision = 'allow'"),
        format!("DELETE FROM {table}"),
        format!("TRUNCATE {table}"),
    ] {
        let error = admin.batch_execute(&statement).unwrap_err();
        let message = error.as_db_error().map(|db| db.message().to_owned()).unwrap_or_default();
        assert!(message.contains("append-only"), "{statement}: {error}");
    }
    assert_eq!(admin.query(&format!("SELECT id FROM {table}"), &[]).unwrap().len(), 3);
}

#[test]
fn verify_names_the_first_event_a_superuser_edited() {
    let Some(mut db) = schema("verify_names_the_first_event_a_superuser_edited") else { return };
    let config = db.config();
    let sink = postgres_sink(config.clone(), options(None)).unwrap();
    for i in 0..10 {
        sink.record(record(i)).unwrap();
    }
    sink.close().unwrap();
    let clean = verify(&config);
    assert_eq!((clean.events, clean.first_break.clone()), (10, None));
    assert_eq!(clean.logs.len(), 1);
    assert_eq!(clean.logs[0].head.seq, 10);

    let rows = stored(&mut db, "main");
    let table = format!("{}.audit_events", db.schema);
    // A superuser can switch triggers off; the chain still shows what they did.
    let admin = db.admin();
    admin.batch_execute("SET session_replication_role = replica").unwrap();
    let original: String =
        admin.query_one(&format!("SELECT hash FROM {table} WHERE seq = 4"), &[]).unwrap().get(0);
    // Event 4 (record 3) was an allow; make it read as a deny.
    admin.execute(&format!("UPDATE {table} SET decision = 'deny' WHERE seq = 4"), &[]).unwrap();
    let report = verify(&config);
    let broken = report.first_break.expect("the edit is detected");
    assert_eq!((broken.seq, broken.id.as_str()), (4, rows[3].0.as_str()));
    let BreakKind::HashMismatch { computed } = broken.kind else { panic!("{broken}") };
    assert_eq!(report.events, 3, "events before the break were verified");

    // Recomputing the edited row's hash moves the break to the next event's link.
    let admin = db.admin();
    admin.execute(&format!("UPDATE {table} SET hash = $1 WHERE seq = 4"), &[&computed]).unwrap();
    let broken = verify(&config).first_break.expect("the rewrite is detected");
    assert_eq!((broken.seq, broken.id.as_str()), (5, rows[4].0.as_str()));
    assert!(matches!(broken.kind, BreakKind::PrevMismatch { .. }), "{broken}");

    // A deleted event is a gap.
    let admin = db.admin();
    admin
        .execute(
            &format!("UPDATE {table} SET decision = 'allow', hash = $1 WHERE seq = 4"),
            &[&original],
        )
        .unwrap();
    assert_eq!(verify(&config).first_break, None, "restored");
    admin.execute(&format!("DELETE FROM {table} WHERE seq = 7"), &[]).unwrap();
    let broken = verify(&config).first_break.expect("the deletion is detected");
    assert_eq!((broken.seq, broken.id.as_str()), (8, rows[7].0.as_str()));
    assert_eq!(broken.kind, BreakKind::SeqGap { expected: 7 });
}

#[test]
fn a_killed_connection_mid_stream_loses_and_repeats_nothing() {
    let Some(mut db) = schema("a_killed_connection_mid_stream_loses_and_repeats_nothing") else {
        return;
    };
    let dir = temp_dir("kill");
    let config = db.config();
    let sink = postgres_sink(config.clone(), options(Some(dir.join("spool.jsonl")))).unwrap();
    let kill = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = '{}' AND pid <> pg_backend_pid()",
        config.application_name
    );
    let total = 3000;
    let mut ids = Vec::new();
    let mut killed = 0;
    for i in 0..total {
        ids.push(sink.record(record(i)).unwrap());
        if i == 200 {
            // Make sure the writer has a session to lose.
            sink.flush().unwrap();
        }
        if i % 1000 == 500 {
            let row = db.admin().query_one(&kill, &[]).unwrap();
            killed += row.get::<_, i64>(0);
        }
    }
    assert!(killed >= 1, "the writer's session was terminated");
    settle(&sink, Duration::from_secs(60));
    let report = sink.close().unwrap();
    assert_eq!(report.pending, 0);
    assert!(report.failures >= 1, "the writer saw its session die: {report:?}");

    // A restarted writer continues the same chain from the database's head.
    let sink = postgres_sink(config.clone(), options(Some(dir.join("spool.jsonl")))).unwrap();
    for i in total..total + 10 {
        ids.push(sink.record(record(i)).unwrap());
    }
    sink.close().unwrap();

    let rows = stored(&mut db, "main");
    let stored_ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(stored_ids, expected, "every event exactly once, in recording order");
    let seqs: Vec<i64> = rows.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=i64::try_from(total + 10).unwrap()).collect::<Vec<_>>());
    let report = verify(&config);
    assert_eq!(report.first_break, None);
    assert_eq!(report.events, u64::try_from(total + 10).unwrap());
    assert_eq!(std::fs::metadata(dir.join("spool.jsonl")).unwrap().len(), 0);
}

#[test]
fn spooled_events_replay_in_order_once_postgres_is_reachable() {
    let Some(mut db) = schema("spooled_events_replay_in_order_once_postgres_is_reachable") else {
        return;
    };
    let dir = temp_dir("spool");
    let spool = dir.join("spool.jsonl");
    // Port 1 on loopback: nothing listens, connections are refused at once.
    let mut down = db.config();
    down.url = "postgres://postgres@127.0.0.1:1/test".into();
    let sink = postgres_sink(down, options(Some(spool.clone()))).unwrap();
    let ids: Vec<String> = (0..100).map(|i| sink.record(record(i)).unwrap()).collect();
    let report = sink.close().unwrap();
    assert_eq!((report.written, report.pending), (0, 100));
    assert_eq!(report.last_error.map(|error| error.kind), Some(ErrorKind::Database));
    let lines = std::fs::read_to_string(&spool).unwrap();
    assert_eq!(lines.lines().count(), 100, "every event is on disk");
    assert!(!lines.contains("/workspace/3\\"), "no raw argument bytes, canonical only");

    // The next start, pointed at the real server, replays the spool before anything else.
    let config = db.config();
    let sink = postgres_sink(config.clone(), options(Some(spool.clone()))).unwrap();
    let later = sink.record(record(100)).unwrap();
    settle(&sink, Duration::from_secs(30));
    sink.close().unwrap();
    let rows = stored(&mut db, "main");
    let stored_ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.push(&later);
    assert_eq!(stored_ids, expected);
    assert_eq!(std::fs::metadata(&spool).unwrap().len(), 0);
    assert_eq!(verify(&config).first_break, None);
}

#[test]
fn queries_filter_and_paginate_in_a_stable_order() {
    let Some(db) = schema("queries_filter_and_paginate_in_a_stable_order") else { return };
    let config = db.config();
    let sink = postgres_sink(config.clone(), options(None)).unwrap();
    let total = 60;
    for i in 0..total {
        sink.record(record(i)).unwrap();
    }
    sink.close().unwrap();
    let mut reader = PgReader::connect(&config).unwrap();
    let all = reader.query(&Query { limit: 1000, ..Query::default() }).unwrap();
    assert_eq!(all.events.len(), total);
    assert_eq!(all.next, None);
    let keys: Vec<_> = all.events.iter().map(|event| (event.ts, event.id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ordered by (ts, id)");
    // What was read back is what was chained: verify recomputes every hash from these rows.
    assert_eq!(all.events[3].args.as_ref().unwrap()["s"], "é\u{0}");
    assert_eq!(all.events[3].args.as_ref().unwrap()["big"], 9_007_199_254_740_992_u64);

    // Keyset pages: no event skipped or repeated.
    let mut paged = Vec::new();
    let mut query = Query { limit: 7, ..Query::default() };
    loop {
        let page = reader.query(&query).unwrap();
        assert!(page.events.len() <= 7);
        paged.extend(page.events.iter().map(|event| event.id.clone()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, all.events.iter().map(|event| event.id.clone()).collect::<Vec<_>>());

    // Each filter returns exactly the matching events.
    let filters: Vec<(Query, Predicate)> = vec![
        (Query { tool: Some("fs.write".into()), ..Query::default() }, |e| e.tool == "fs.write"),
        (Query { server: Some("db".into()), ..Query::default() }, |e| e.server == "db"),
        (Query { decision: Some("deny".into()), ..Query::default() }, |e| e.decision == "deny"),
        (Query { principal: Some("user2".into()), ..Query::default() }, |e| e.principal == "user2"),
        (Query { rule: Some("rule-3".into()), ..Query::default() }, |e| {
            e.rule.as_deref() == Some("rule-3")
        }),
        (Query { risk: Some("critical".into()), ..Query::default() }, |e| e.risk == "critical"),
        (
            Query { decision: Some("deny".into()), risk: Some("high".into()), ..Query::default() },
            |e| e.decision == "deny" && e.risk == "high",
        ),
    ];
    for (filter, predicate) in filters {
        let got = reader.query(&Query { limit: 1000, ..filter.clone() }).unwrap();
        let expected: Vec<_> = all.events.iter().filter(|e| predicate(e)).cloned().collect();
        assert!(!expected.is_empty(), "{filter:?}");
        assert_eq!(got.events, expected, "{filter:?}");
    }
    // Time range: since inclusive, until exclusive.
    let middle = all.events[30].ts;
    let since =
        reader.query(&Query { since: Some(middle), limit: 1000, ..Query::default() }).unwrap();
    let until =
        reader.query(&Query { until: Some(middle), limit: 1000, ..Query::default() }).unwrap();
    assert_eq!(since.events.len() + until.events.len(), total);
    assert!(since.events.iter().all(|e| e.ts >= middle));
    assert!(until.events.iter().all(|e| e.ts < middle));
}

#[test]
fn migrations_are_versioned_idempotent_and_refuse_a_newer_schema() {
    let Some(mut db) = schema("migrations_are_versioned_idempotent_and_refuse_a_newer_schema")
    else {
        return;
    };
    let config = db.config();
    let mut client = config.connect().unwrap();
    assert_eq!(migrate(&mut client, &config).unwrap(), 0);
    assert_eq!(migrate(&mut client, &config).unwrap(), SCHEMA_VERSION);
    let table = format!("{}.schema_version", db.schema);
    let versions = db.admin().query(&format!("SELECT version FROM {table}"), &[]).unwrap();
    assert_eq!(versions.len(), 1);
    db.admin()
        .execute(&format!("INSERT INTO {table} (version, description) VALUES (99, 'x')"), &[])
        .unwrap();
    let error = migrate(&mut client, &config).unwrap_err();
    assert_eq!(error.kind, ErrorKind::SchemaVersion);
    assert_eq!(PgReader::connect(&config).unwrap_err().kind, ErrorKind::SchemaVersion);
    // A sink on that schema refuses to write and, failing closed, keeps nothing it cannot store.
    let sink =
        postgres_sink(config, SinkOptions { full_policy: FullPolicy::FailClosed, ..options(None) })
            .unwrap();
    sink.record(record(0)).unwrap();
    let report = sink.flush().unwrap();
    assert_eq!(report.pending, 1);
    assert_eq!(report.last_error.map(|error| error.kind), Some(ErrorKind::SchemaVersion));
    assert_eq!(sink.record(record(1)).unwrap_err().kind, ErrorKind::Unavailable);
}

#[test]
fn invalid_names_are_refused_before_any_sql() {
    let mut config = PgConfig::new("postgres://postgres@127.0.0.1:5432/test");
    config.schema = "x; DROP TABLE y".into();
    assert_eq!(postgres_sink(config, SinkOptions::default()).unwrap_err().kind, ErrorKind::Config);
}
