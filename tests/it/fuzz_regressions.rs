//! Replays every file in `fuzz/regressions/<target>/` through the target's property, so CI
//! guards every past fuzzer finding without a fuzzer.

use crate::support::root;

fn replay(target: &str, property: fn(&[u8])) -> usize {
    let dir = root().join("fuzz/regressions").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        property(&std::fs::read(&path).unwrap());
        count += 1;
    }
    count
}

#[test]
fn artifact_from_bytes_regressions() {
    assert!(replay("artifact_from_bytes", mcppol_tests::artifact_from_bytes) > 0);
}

#[test]
fn json_parse_regressions() {
    assert!(replay("json_parse", mcppol_tests::json_parse) > 0);
}

#[test]
fn compile_yaml_regressions() {
    assert!(replay("compile_yaml", mcppol_tests::compile_yaml) > 0);
}

#[test]
fn evaluate_any_request_regressions() {
    assert!(replay("evaluate_any_request", mcppol_tests::evaluate_any_request) > 0);
}

#[test]
fn evaluate_call_body_regressions() {
    assert!(replay("evaluate_call_body", mcppol_tests::evaluate_call_body) > 0);
}

#[test]
fn path_normalize_regressions() {
    assert!(replay("path_normalize", mcppol_tests::path_normalize) > 0);
}

#[test]
fn url_parse_regressions() {
    assert!(replay("url_parse", mcppol_tests::url_parse) > 0);
}

#[test]
fn sql_analyze_regressions() {
    assert!(replay("sql_analyze", mcppol_tests::sql_analyze) > 0);
}

#[test]
fn policy_differential_regressions() {
    assert!(replay("policy_differential", mcppol_tests::policy_differential) > 0);
}
