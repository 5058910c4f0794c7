//! Properties shared by the fuzz targets (`fuzz/`, nightly) and the regression replay in
//! `it/fuzz_regressions.rs` (stable): each function panics exactly when its property fails.

use mcppol_runtime::{Caller, Decision, Program, Request, Scratch, Trace};

/// Requests that exercise every subject kind, used against arbitrary artifacts.
const REQUESTS: [(&str, &[u8]); 4] = [
    ("fs.read", br#"{"path":"/workspace/a"}"#),
    ("sql.query", br#"{"query":"SELECT 1"}"#),
    ("http.fetch", br#"{"url":"https://docs.rs/"}"#),
    ("x", b"{}"),
];

/// Loading arbitrary bytes never panics, and anything that loads evaluates every request
/// without panicking. The bytes are tried as they are and again with a correct checksum, so
/// mutations reach the checks behind the CRC instead of all stopping at it.
pub fn artifact_from_bytes(data: &[u8]) {
    load_and_evaluate(data);
    let at = mcppol_runtime::format::CHECKSUM_OFFSET;
    if data.len() >= at + 4 {
        let mut resealed = data.to_vec();
        let crc = mcppol_runtime::format::checksum(&resealed);
        resealed[at..at + 4].copy_from_slice(&crc.to_le_bytes());
        load_and_evaluate(&resealed);
    }
}

fn load_and_evaluate(data: &[u8]) {
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

/// The compiler never panics on arbitrary text, every artifact it returns verifies, and
/// compiling the same text twice gives the same bytes.
pub fn compile_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(compiled) = mcppol_compiler::compile(text, "fuzz.yaml") {
        assert!(
            Program::from_bytes(&compiled.bytes).is_ok(),
            "compiler emitted an invalid artifact"
        );
        let again = mcppol_compiler::compile(text, "fuzz.yaml").map(|c| c.bytes);
        assert!(again.as_ref() == Ok(&compiled.bytes), "two compilations differ");
    }
}

/// The shipped artifacts, for targets that fuzz requests rather than artifacts.
const SHIPPED: [&[u8]; 2] =
    [include_bytes!("../policies/default.mcpb"), include_bytes!("../policies/dev.mcpb")];

/// Counts the steps of a walk.
struct Steps(u64);

impl Trace for Steps {
    fn test(&mut self, _node: u32, _predicate: u32, _outcome: Option<bool>) {
        self.0 += 1;
    }
    fn decide(&mut self, _node: u32, _outcome: u32) {
        self.0 += 1;
    }
}

/// Any request evaluated against a valid artifact decides without panicking, in at most one
/// step per node (edges only go forward). Input: a selector byte, a tool-name length byte,
/// the tool name, then the raw argument bytes. Selector values of 128 and above evaluate the
/// request against the artifact found after the first `0xFF` in the arguments instead (when
/// it loads), so arbitrary artifacts meet arbitrary requests too.
pub fn evaluate_any_request(data: &[u8]) {
    let [selector, tool_len, rest @ ..] = data else { return };
    let (tool, args) = rest.split_at(usize::from(*tool_len).min(rest.len()));
    let tool = String::from_utf8_lossy(tool);
    let (artifact, args): (&[u8], &[u8]) =
        match (selector >= &128, args.iter().position(|&b| b == 0xFF)) {
            (true, Some(at)) => (&args[at + 1..], &args[..at]),
            _ => (SHIPPED[usize::from(*selector) % SHIPPED.len()], args),
        };
    let Ok(program) = Program::from_bytes(artifact) else { return };
    let roles = ["admin", "dev"];
    let request = Request {
        principal_roles: &roles[..usize::from(selector % 3).min(2)],
        ..Request::tool_call(&tool, args)
    };
    let mut scratch = Box::new(Scratch::new());
    let mut steps = Steps(0);
    let traced = program.evaluate_traced(&request, &mut scratch, &mut steps);
    assert!(
        steps.0 <= u64::from(program.node_count()) + 1,
        "{} steps through {} nodes",
        steps.0,
        program.node_count()
    );
    let plain = program.evaluate(&request, &mut scratch);
    assert_eq!(traced, plain, "tracing changed the decision");
}

/// The raw-body entry point: `evaluate_call` never panics on any body, and a body whose
/// arguments are a valid object decides as `evaluate` on the request split out of it (for a
/// JSON fault, only the human reason may differ). Input: a selector byte (artifact and tool),
/// then the bytes, used both as a whole body and as the arguments inside a `tools/call` body.
pub fn evaluate_call_body(data: &[u8]) {
    const TOOLS: [&str; 5] = ["fs.read", "fs.write", "sql.query", "http.fetch", "shell.exec"];
    let [selector, rest @ ..] = data else { return };
    let Ok(program) = Program::from_bytes(SHIPPED[usize::from(*selector) % SHIPPED.len()]) else {
        return;
    };
    let tool = TOOLS[usize::from(*selector / 2) % TOOLS.len()];
    let mut scratch = Box::new(Scratch::new());
    let caller = Caller::default();
    let _ = program.evaluate_call(rest, &caller, &mut scratch);
    // Arguments that do not scan on their own could change the body around them (`{},"x":1`
    // is a valid tail), so only valid ones are compared.
    let mut tape = vec![mcppol_runtime::json::Entry::EMPTY; mcppol_runtime::json::JSON_VALUES_MAX];
    if mcppol_runtime::json::parse(rest, &mut tape).is_err() {
        return;
    }
    let mut body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":"#
    )
    .into_bytes();
    body.extend_from_slice(rest);
    body.extend_from_slice(b"}}");
    let split = program.evaluate(&Request::tool_call(tool, rest), &mut scratch);
    let whole = program.evaluate_call(&body, &caller, &mut scratch);
    let whole = if split.code.starts_with("json.") {
        Decision { reason: split.reason, ..whole }
    } else {
        whole
    };
    assert_eq!(whole, split, "the body and the split request decide differently");
}

/// The path normaliser never panics; what it accepts is no longer than its input and
/// normalises to itself. Input: an option-bits byte, then the path.
pub fn path_normalize(data: &[u8]) {
    let [bits, input @ ..] = data else { return };
    let options = mcppol_runtime::format::path_option::options(u32::from(*bits) & 7);
    let mut out = vec![0u8; input.len()];
    if let Ok(normal) = mcppol_runtime::path::normalize(input, options, &mut out) {
        assert!(normal.len() <= input.len(), "normalising made the path longer");
        let normal = normal.to_vec();
        let mut again = vec![0u8; normal.len()];
        // Percent-decoding is applied once by design, so only check idempotence without it.
        if u32::from(*bits) & mcppol_runtime::format::path_option::PERCENT_DECODE == 0 {
            let twice = mcppol_runtime::path::normalize(&normal, options, &mut again);
            assert_eq!(twice.ok(), Some(&normal[..]), "normalisation is not idempotent");
        }
        let _ = mcppol_runtime::path::has_prefix(&normal, b"/workspace");
    }
}

/// The URL parser, host classifier and SSRF classifier never panic.
pub fn url_parse(data: &[u8]) {
    if let Ok(url) = mcppol_runtime::url::parse(data) {
        let _ = url.effective_port();
        let _ = url.scheme_is(b"https");
        if let Ok(host) = mcppol_runtime::url::classify_host(url.host) {
            let _ = mcppol_runtime::url::ssrf_class(&host, url.host);
        }
        let _ = mcppol_runtime::url::host_matches(url.host, b"*.example.com");
    }
}

/// The SQL tokenizer and analyser never panic, and the summary does not depend on whether
/// events are observed.
pub fn sql_analyze(data: &[u8]) {
    let mut events = 0usize;
    let observed = mcppol_runtime::sql::analyze_with(data, &mut |_| events += 1);
    let plain = mcppol_runtime::sql::analyze(data);
    assert_eq!(observed.is_ok(), plain.is_ok(), "observing events changed the outcome");
}

/// The runtime decides exactly as the reference evaluator. Input: policy YAML, a newline,
/// then one line of raw argument bytes (the last line), evaluated for every tool the policy
/// names and one it does not.
pub fn policy_differential(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some((yaml, args)) = text.rsplit_once('\n') else { return };
    let Ok(compiled) = mcppol_compiler::compile(yaml, "fuzz.yaml") else { return };
    let program = Program::from_bytes(&compiled.bytes);
    assert!(program.is_ok(), "compiler emitted an invalid artifact");
    let Ok(program) = program else { return };
    let mut tools: Vec<String> = program.tools().map(|(name, _)| name.to_owned()).collect();
    tools.push("fuzz.unlisted".to_owned());
    let mut scratch = Box::new(Scratch::new());
    for tool in &tools {
        let request =
            Request { principal_roles: &["admin"], ..Request::tool_call(tool, args.as_bytes()) };
        let fast = program.evaluate(&request, &mut scratch);
        let slow =
            mcppol_compiler::reference::evaluate(&compiled.policy, &compiled.patterns, &request);
        assert_eq!(
            (fast.effect, fast.code, fast.rule),
            (slow.effect, slow.code.as_str(), slow.rule.as_deref()),
            "runtime and reference disagree on {request:?}"
        );
    }
}
