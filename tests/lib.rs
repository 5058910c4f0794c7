//! Properties shared by the fuzz targets (`fuzz/`, nightly) and the regression replay in
//! `it/fuzz_regressions.rs` (stable): each function panics exactly when its property fails.

use mcppol_runtime::{Program, Request, Scratch};

/// Requests that exercise every subject kind, used against arbitrary artifacts.
const REQUESTS: [(&str, &[u8]); 4] = [
    ("fs.read", br#"{"path":"/workspace/a"}"#),
    ("sql.query", br#"{"query":"SELECT 1"}"#),
    ("http.fetch", br#"{"url":"https://docs.rs/"}"#),
    ("x", b"{}"),
];

/// Loading arbitrary bytes never panics, and anything that loads evaluates every request
/// without panicking.
pub fn artifact_from_bytes(data: &[u8]) {
    if let Ok(program) = Program::from_bytes(data) {
        let mut scratch = Box::new(Scratch::new());
        for (tool, args) in REQUESTS {
            let request = Request { principal_roles: &["admin"], ..Request::tool_call(tool, args) };
            let _ = program.evaluate(&request, &mut scratch);
        }
    }
}

/// The strict JSON scanner never panics on arbitrary bytes.
pub fn json_parse(data: &[u8]) {
    let mut tape = vec![mcppol_runtime::json::Entry::EMPTY; mcppol_runtime::json::JSON_VALUES_MAX];
    let _ = mcppol_runtime::json::parse(data, &mut tape);
}

/// The compiler never panics on arbitrary text, and every artifact it returns verifies.
pub fn compile_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(compiled) = mcppol_compiler::compile(text, "fuzz.yaml") {
        assert!(
            Program::from_bytes(&compiled.bytes).is_ok(),
            "compiler emitted an invalid artifact"
        );
    }
}
