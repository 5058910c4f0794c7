//! `Program::evaluate_call`, the entry point that takes the raw JSON-RPC `tools/call` body: it
//! must decide exactly as `Program::evaluate` on the request split out of the body, deny every
//! malformed envelope with its own code, and allocate nothing.
//!
//! The corpus is every request the repository ships: `tests/corpus/default/*.jsonl` and
//! `policies/*.requests.jsonl`, each wrapped in a body with its raw argument bytes unchanged.

use crate::support::root;
use mcppol_runtime::{Caller, Decision, Effect, Program, Request, Risk, Scratch};
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Debug, Deserialize)]
struct Line<'a> {
    tool: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    principal: Option<Principal>,
    #[serde(borrow, default)]
    args: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
struct Principal {
    #[serde(default)]
    id: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// A `tools/call` body around `args` (raw JSON text), or without `arguments` when `None`.
fn body(method: &str, tool: &str, args: Option<&str>) -> String {
    let method = serde_json::to_string(method).unwrap();
    let name = serde_json::to_string(tool).unwrap();
    match args {
        Some(args) => format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":{method},"params":{{"name":{name},"arguments":{args}}}}}"#
        ),
        None => {
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":{method},"params":{{"name":{name}}}}}"#)
        }
    }
}

fn deny(code: &str) -> impl Fn(&Decision<'_>) -> bool + '_ {
    move |d| d.effect == Effect::Deny && d.risk == Risk::High && d.code == code && d.rule.is_none()
}

/// Equal decisions; for a JSON fault only the human reason may differ: the body's scan cannot
/// tell whether the fault lay inside the arguments, so it says "the request body".
fn same(whole: &Decision<'_>, split: &Decision<'_>) -> bool {
    if split.code.starts_with("json.") {
        Decision { reason: split.reason, ..*whole } == *split
    } else {
        whole == split
    }
}

fn request_files() -> Vec<(&'static str, std::path::PathBuf)> {
    let mut files = Vec::new();
    let corpus = root().join("tests").join("corpus").join("default");
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "jsonl") {
            files.push(("default", path));
        }
    }
    for name in ["default", "dev"] {
        files.push((name, root().join("policies").join(format!("{name}.requests.jsonl"))));
    }
    files.sort();
    files
}

#[test]
fn the_body_entry_point_decides_as_split_then_evaluate_on_every_shipped_request() {
    let mut scratch = Box::new(Scratch::new());
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for (policy, file) in request_files() {
        let artifact =
            std::fs::read(root().join("policies").join(format!("{policy}.mcpb"))).unwrap();
        let program = Program::from_bytes(&artifact).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let case: Line<'_> = serde_json::from_str(line).unwrap();
            let principal = case.principal.unwrap_or_default();
            let roles: Vec<&str> = principal.roles.iter().map(String::as_str).collect();
            let method = case.method.as_deref().unwrap_or("tools/call");
            let server = case.server.as_deref().unwrap_or("");
            let args = case.args.map(RawValue::get);
            let request = Request {
                method,
                server,
                tool: &case.tool,
                principal_id: &principal.id,
                principal_roles: &roles,
                args: args.unwrap_or("{}").as_bytes(),
            };
            let caller = Caller { server, principal_id: &principal.id, principal_roles: &roles };
            let split = program.evaluate(&request, &mut scratch);
            let whole = program.evaluate_call(
                body(method, &case.tool, args).as_bytes(),
                &caller,
                &mut scratch,
            );
            let agrees = if method == "tools/call" {
                same(&whole, &split)
            } else {
                deny("request.method")(&whole)
            };
            if !agrees {
                failures.push(format!(
                    "{}:{}: split {split:?}, body {whole:?}",
                    file.display(),
                    number + 1
                ));
            }
            // The same call with its arguments' whitespace and an escaped name decides the same.
            if method == "tools/call" && case.tool.contains('.') {
                // The JSON text of the name, with every `.` spelled `\u002e`.
                let escaped = serde_json::to_string(&case.tool).unwrap().replace('.', "\\u002e");
                let body = body(method, "@", args).replace("\"@\"", &escaped);
                let again = program.evaluate_call(body.as_bytes(), &caller, &mut scratch);
                if !same(&again, &split) {
                    failures.push(format!(
                        "{}:{}: escaped name gave {again:?}",
                        file.display(),
                        number + 1
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} requests");
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn malformed_envelopes_deny_with_their_own_codes() {
    let artifact = std::fs::read(root().join("policies").join("default.mcpb")).unwrap();
    let program = Program::from_bytes(&artifact).unwrap();
    let mut scratch = Box::new(Scratch::new());
    let args = r#"{"path":"/workspace/README.md"}"#;
    let good = body("tools/call", "fs.read", Some(args));
    let caller = Caller::default();
    let decide = |body: &str, scratch: &mut Scratch| {
        let d = program.evaluate_call(body.as_bytes(), &caller, scratch);
        (d.effect, d.code.to_owned(), d.risk, d.rule.map(str::to_owned))
    };
    assert_eq!(decide(&good, &mut scratch).0, Effect::Allow);
    let cases: &[(&str, &str)] = &[
        // Not strict JSON: the scanner's own codes, anywhere in the body.
        ("", "json.not_an_object"),
        ("[]", "json.not_an_object"),
        (r#"{"method":"tools/call""#, "json.syntax"),
        (
            r#"{"method":"tools/call","method":"tools/call","params":{"name":"fs.read","arguments":{}}}"#,
            "json.duplicate_key",
        ),
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","name":"fs.write","arguments":{}}}"#,
            "json.duplicate_key",
        ),
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","arguments":{},"arguments":{}}}"#,
            "json.duplicate_key",
        ),
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","arguments":{"path":"/workspace/a","path":"/etc/passwd"}}}"#,
            "json.duplicate_key",
        ),
        (
            r#"{"id":{"a":1,"a":2},"method":"tools/call","params":{"name":"fs.read","arguments":{}}}"#,
            "json.duplicate_key",
        ),
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","arguments":{"path":"\ud800"}}}"#,
            "json.lone_surrogate",
        ),
        // The method.
        (r#"{"params":{"name":"fs.read","arguments":{}}}"#, "request.method"),
        (r#"{"method":7,"params":{"name":"fs.read","arguments":{}}}"#, "request.method"),
        (r#"{"method":"tools/list","params":{"name":"fs.read","arguments":{}}}"#, "request.method"),
        (
            r#"{"method":"tools/call ","params":{"name":"fs.read","arguments":{}}}"#,
            "request.method",
        ),
        (r#"{"method":"TOOLS/CALL","params":{"name":"fs.read","arguments":{}}}"#, "request.method"),
        (r#"{"params":{"method":"tools/call","name":"fs.read","arguments":{}}}"#, "request.method"),
        // The params.
        (r#"{"method":"tools/call"}"#, "request.params"),
        (r#"{"method":"tools/call","params":null}"#, "request.params"),
        (r#"{"method":"tools/call","params":[{"name":"fs.read"}]}"#, "request.params"),
        (r#"{"method":"tools/call","name":"fs.read","arguments":{}}"#, "request.params"),
        // The name.
        (r#"{"method":"tools/call","params":{"arguments":{}}}"#, "request.name"),
        (r#"{"method":"tools/call","params":{"name":null,"arguments":{}}}"#, "request.name"),
        (r#"{"method":"tools/call","params":{"name":["fs.read"],"arguments":{}}}"#, "request.name"),
        (r#"{"method":"tools/call","params":{"arguments":{"name":"fs.read"}}}"#, "request.name"),
        // The arguments: present means an object, as `evaluate` requires of them.
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","arguments":null}}"#,
            "json.not_an_object",
        ),
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","arguments":"{}"}}"#,
            "json.not_an_object",
        ),
        (
            r#"{"method":"tools/call","params":{"name":"fs.read","arguments":[]}}"#,
            "json.not_an_object",
        ),
    ];
    for (body, code) in cases {
        let (effect, got, risk, rule) = decide(body, &mut scratch);
        assert_eq!(
            (effect, got.as_str(), risk, rule),
            (Effect::Deny, *code, Risk::High, None),
            "body {body}"
        );
    }
    let invalid =
        b"{\"method\":\"tools/call\",\"params\":{\"name\":\"fs.read\xff\",\"arguments\":{}}}";
    assert!(deny("json.invalid_utf8")(&program.evaluate_call(invalid, &caller, &mut scratch)));
    // Absent arguments are `{}`: fs.read then lacks its required path.
    let absent = body("tools/call", "fs.read", None);
    let empty = body("tools/call", "fs.read", Some("{}"));
    assert_eq!(decide(&absent, &mut scratch), decide(&empty, &mut scratch));
    // Members the entry point does not read are allowed, in any order.
    let reordered = format!(
        r#"{{"params":{{"_meta":{{"progressToken":1}},"arguments":{args},"name":"fs.read"}},"id":"x","method":"tools/call","jsonrpc":"2.0"}}"#
    );
    assert_eq!(decide(&reordered, &mut scratch).0, Effect::Allow);
    // An escaped method means tools/call to every JSON parser.
    let escaped = good.replace("tools/call", "tools\\/call");
    assert_eq!(decide(&escaped, &mut scratch).0, Effect::Allow);
}

#[test]
fn the_arguments_keep_their_own_limits_inside_the_body() {
    use mcppol_runtime::limits::{ARGS_BYTES_MAX, JSON_DEPTH_MAX, JSON_VALUES_MAX};
    let yaml = "version: 1\nname: t\ndefault: allow\nrules: []\n";
    let compiled = crate::support::compile(yaml);
    let program = Program::from_bytes(&compiled.bytes).unwrap();
    let mut scratch = Box::new(Scratch::new());
    let caller = Caller::default();
    let both = |args: &str, scratch: &mut Scratch| {
        let split = program.evaluate(&Request::tool_call("t", args.as_bytes()), scratch);
        let split = (split.effect, split.code.to_owned());
        let body = body("tools/call", "t", Some(args));
        let whole = program.evaluate_call(body.as_bytes(), &caller, scratch);
        assert_eq!(split, (whole.effect, whole.code.to_owned()), "arguments {:.80}", args);
        split.1
    };
    // Depth: the arguments object is depth 1 of the arguments, depth 3 of the body.
    let nested =
        |levels: usize| format!("{{\"x\":{}1{}}}", "[".repeat(levels - 1), "]".repeat(levels - 1));
    assert_eq!(both(&nested(JSON_DEPTH_MAX), &mut scratch), "policy.default");
    assert_eq!(both(&nested(JSON_DEPTH_MAX + 1), &mut scratch), "json.depth_exceeded");
    // Values: the root object plus members.
    let values = |count: usize| {
        let members: Vec<String> = (0..count - 1).map(|i| format!("\"k{i}\":{i}")).collect();
        format!("{{{}}}", members.join(","))
    };
    // Objects hold at most OBJECT_KEYS_MAX members, so spread them over arrays.
    let spread = |count: usize| format!("{{\"a\":[{}]}}", vec!["0"; count - 2].join(","));
    assert_eq!(both(&values(3), &mut scratch), "policy.default");
    assert_eq!(both(&spread(JSON_VALUES_MAX), &mut scratch), "policy.default");
    assert_eq!(both(&spread(JSON_VALUES_MAX + 1), &mut scratch), "json.too_many_values");
    // Bytes.
    let padded = |len: usize| {
        let fill = len - r#"{"a":""}"#.len();
        format!("{{\"a\":\"{}\"}}", "x".repeat(fill))
    };
    assert_eq!(both(&padded(ARGS_BYTES_MAX), &mut scratch), "policy.default");
    assert_eq!(both(&padded(ARGS_BYTES_MAX + 1), &mut scratch), "json.too_large");
}
