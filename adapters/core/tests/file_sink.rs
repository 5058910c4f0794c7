//! The embedded JSON-lines sink: chaining across restarts, tamper detection by verify, the
//! one-writer lock, a torn tail, and queries with keyset pagination.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

use mcppol_adapters_core::audit::{
    ArgsPolicy, AuditReader, AuditSink, BreakKind, ErrorKind, EventKind, FileReader, Query, Record,
    SinkOptions, file_sink,
};
use std::path::{Path, PathBuf};

fn record(i: usize) -> Record {
    Record {
        kind: EventKind::Decision,
        policy_hash: [1; 32],
        method: "tools/call".into(),
        server: "files".into(),
        tool: ["fs.read", "fs.write"][i % 2].into(),
        principal: format!("user{}", i % 3),
        roles: vec![],
        decision: ["allow", "deny"][i % 2].into(),
        rule: Some(format!("r{}", i % 4)),
        code: "policy.rule".into(),
        reason: "because".into(),
        risk: ["low", "high"][i % 2].into(),
        latency_ns: 500,
        approval_id: None,
        args: format!(r#"{{"path":"/workspace/{i}"}}"#).into_bytes(),
    }
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcppol-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options() -> SinkOptions {
    SinkOptions { args: ArgsPolicy::Full, ..SinkOptions::default() }
}

fn write(path: &Path, range: std::ops::Range<usize>) -> Vec<String> {
    let sink = file_sink(path, options()).unwrap();
    let ids = range.map(|i| sink.record(record(i)).unwrap()).collect();
    let report = sink.close().unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
    ids
}

#[test]
fn the_chain_continues_across_restarts_and_verifies() {
    let path = dir("restart").join("audit.jsonl");
    let mut ids = write(&path, 0..20);
    ids.extend(write(&path, 20..25));
    let report = FileReader::new(&path).verify().unwrap();
    assert_eq!(report.first_break, None);
    assert_eq!(report.events, 25);
    assert_eq!(report.logs[0].head.seq, 25);
    let text = std::fs::read_to_string(&path).unwrap();
    let stored: Vec<String> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(stored, ids);
}

fn edit_line(path: &Path, index: usize, edit: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| if i == index { edit(line) } else { line.to_owned() })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn verify_names_the_first_tampered_event() {
    let base = dir("tamper");
    let path = base.join("audit.jsonl");
    let ids = write(&path, 0..10);
    let pristine = std::fs::read_to_string(&path).unwrap();

    // An edited field: that event's hash no longer matches.
    edit_line(&path, 5, |line| line.replace(r#""decision":"deny""#, r#""decision":"allow""#));
    let broken = FileReader::new(&path).verify().unwrap().first_break.unwrap();
    assert_eq!((broken.seq, broken.id.as_str()), (6, ids[5].as_str()));
    assert!(matches!(broken.kind, BreakKind::HashMismatch { .. }));

    // A removed line: a gap at the next event.
    std::fs::write(&path, &pristine).unwrap();
    edit_line(&path, 2, |_| String::new());
    let broken = FileReader::new(&path).verify().unwrap().first_break.unwrap();
    assert_eq!(
        (broken.seq, broken.id.as_str(), broken.kind),
        (4, ids[3].as_str(), BreakKind::SeqGap { expected: 3 })
    );

    // Reordered lines.
    std::fs::write(&path, &pristine).unwrap();
    let mut lines: Vec<&str> = pristine.lines().collect();
    lines.swap(7, 8);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let broken = FileReader::new(&path).verify().unwrap().first_break.unwrap();
    assert_eq!(broken.id, ids[8]);

    // A line that is not an event.
    std::fs::write(&path, &pristine).unwrap();
    edit_line(&path, 9, |_| "{not json".to_owned());
    let report = FileReader::new(&path).verify().unwrap();
    let broken = report.first_break.unwrap();
    assert_eq!(broken.id, "line 10");
    assert!(matches!(broken.kind, BreakKind::Malformed(_)));
    assert_eq!(report.events, 9);
}

#[test]
fn a_second_writer_and_a_torn_tail_are_refused() {
    let base = dir("lock");
    let path = base.join("audit.jsonl");
    let first = file_sink(&path, options()).unwrap();
    first.record(record(0)).unwrap();
    assert_eq!(first.flush().unwrap().pending, 0);
    let second = file_sink(&path, options()).unwrap();
    second.record(record(1)).unwrap();
    let report = second.flush().unwrap();
    assert_eq!(report.pending, 1);
    assert!(report.last_error.unwrap().message.contains("in use"));
    drop(second);
    first.close().unwrap();

    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"id":"torn"#);
    std::fs::write(&path, text).unwrap();
    let sink = file_sink(&path, options()).unwrap();
    sink.record(record(2)).unwrap();
    let report = sink.flush().unwrap();
    assert_eq!(report.last_error.unwrap().kind, ErrorKind::Malformed);
    assert_eq!(report.pending, 1, "held, not appended after damage");
}

#[test]
fn queries_filter_and_page_without_skipping_or_repeating() {
    let path = dir("query").join("audit.jsonl");
    write(&path, 0..30);
    let mut reader = FileReader::new(&path);
    let all = reader.query(&Query { limit: 100, ..Query::default() }).unwrap();
    assert_eq!(all.events.len(), 30);
    let mut paged = Vec::new();
    let mut query = Query { limit: 4, ..Query::default() };
    loop {
        let page = reader.query(&query).unwrap();
        paged.extend(page.events);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, all.events);
    let denies = reader
        .query(&Query { decision: Some("deny".into()), limit: 100, ..Query::default() })
        .unwrap();
    assert_eq!(denies.events.len(), 15);
    assert!(denies.events.iter().all(|event| event.decision == "deny" && event.risk == "high"));
    let narrow = Query {
        tool: Some("fs.read".into()),
        principal: Some("user0".into()),
        rule: Some("r0".into()),
        limit: 100,
        ..Query::default()
    };
    let got = reader.query(&narrow).unwrap();
    let expected: Vec<_> = all
        .events
        .iter()
        .filter(|e| {
            e.tool == "fs.read" && e.principal == "user0" && e.rule.as_deref() == Some("r0")
        })
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got.events, expected);
}
