//! Shared helpers: compile policy text, evaluate requests, compare with the reference.

use mcppol_compiler::Compiled;
use mcppol_compiler::reference::{self, ReferenceDecision};
use mcppol_runtime::{Effect, Program, Request, Scratch};

/// Compiles `yaml` or panics with the rendered diagnostics.
#[track_caller]
pub fn compile(yaml: &str) -> Compiled {
    match mcppol_compiler::compile(yaml, "test.yaml") {
        Ok(compiled) => compiled,
        Err(diagnostics) => {
            let text: String = diagnostics.iter().map(|d| d.render(yaml)).collect();
            panic!("policy did not compile:\n{text}");
        }
    }
}

/// Diagnostics codes of a policy that must not compile.
#[track_caller]
pub fn compile_error_codes(yaml: &str) -> Vec<&'static str> {
    match mcppol_compiler::compile(yaml, "test.yaml") {
        Ok(_) => panic!("policy compiled but should not have"),
        Err(diagnostics) => diagnostics.iter().map(|d| d.code).collect(),
    }
}

/// A decision with owned strings, comparable across runtime and reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub effect: Effect,
    pub code: String,
    pub rule: Option<String>,
}

impl From<ReferenceDecision> for Outcome {
    fn from(decision: ReferenceDecision) -> Self {
        Outcome { effect: decision.effect, code: decision.code, rule: decision.rule }
    }
}

/// Evaluates `request` with the runtime on the compiled artifact.
pub fn runtime(compiled: &Compiled, request: &Request<'_>) -> Outcome {
    let program = Program::from_bytes(&compiled.bytes).expect("compiled artifacts verify");
    let mut scratch = Box::new(Scratch::new());
    let decision = program.evaluate(request, &mut scratch);
    Outcome {
        effect: decision.effect,
        code: decision.code.to_owned(),
        rule: decision.rule.map(str::to_owned),
    }
}

/// Evaluates `request` with the reference evaluator.
pub fn reference(compiled: &Compiled, request: &Request<'_>) -> Outcome {
    reference::evaluate(&compiled.policy, &compiled.patterns, request).into()
}

/// Evaluates with both and asserts they agree; returns the runtime's outcome.
#[track_caller]
pub fn decide(compiled: &Compiled, request: &Request<'_>) -> Outcome {
    let fast = runtime(compiled, request);
    let slow = reference(compiled, request);
    assert_eq!(fast, slow, "runtime and reference disagree on {request:?}");
    fast
}

/// A `tools/call` request.
pub fn call<'a>(tool: &'a str, args: &'a str) -> Request<'a> {
    Request::tool_call(tool, args.as_bytes())
}

/// The repository root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
