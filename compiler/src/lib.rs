//! The mcppol compiler: a YAML policy becomes verified artifact bytes.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`parse`]: YAML text to the [`model`] (serde-saphyr, with source spans).
//! 2. [`resolve`]: model to the resolved policy in [`ir`]: names, types, `when:` expressions,
//!    regexes and globs (built into DFAs by [`dfa`]) are checked, and rules are put in
//!    canonical order.
//! 3. [`lower`]: resolved policy to the decision DAG and its tables, hash-consed.
//! 4. [`emit`]: tables to bytes, in the format `mcppol_runtime::format` specifies.
//! 5. Verification: the runtime's own verifier loads the bytes before they are returned.
//!
//! Compilation is deterministic: no clocks, no hash-map iteration order, no absolute paths in
//! the output. The same policy text and file name give the same bytes on every machine.

pub mod analysis;
pub mod dfa;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod fmt;
pub mod ir;
pub mod json_schema;
pub mod lint;
pub mod lower;
pub mod model;
pub mod reference;
pub mod resolve;
pub mod thread;

pub use diagnostic::{Diagnostic, Position, Severity};

/// The JSON Schema (draft-07) of the policy YAML, for editors (yaml-language-server) and CI.
/// `mcppol schema` prints it; `tests/it/schema.rs` validates every shipped and documented
/// policy against it and checks it rejects what the compiler rejects as schema errors.
pub const POLICY_SCHEMA: &str = include_str!("policy.schema.json");

use mcppol_runtime::Program;

/// A successful compilation.
#[derive(Debug)]
pub struct Compiled {
    /// The artifact bytes, already verified by the runtime.
    pub bytes: Vec<u8>,
    /// The resolved policy (for the reference evaluator, explain and lint).
    pub policy: ir::Policy,
    /// The DFAs the policy uses.
    pub patterns: resolve::Patterns,
    /// Where each node, predicate and DFA of the artifact came from.
    pub source_map: lower::SourceMap,
}

/// Parses policy YAML into the model.
///
/// # Errors
///
/// A diagnostic for malformed YAML or a schema mismatch (unknown field, wrong type).
pub fn parse(source: &str, file: &str) -> Result<model::PolicyFile, Vec<Diagnostic>> {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<model::PolicyFile>(source, options).map_err(|error| {
        let at =
            error.location().map_or_else(Position::default, |location| Position::of(&location));
        let message = yaml_message(&error);
        let code = if message.contains("unknown field")
            || message.contains("unknown variant")
            || message.contains("missing field")
            || message.contains("invalid type")
            || message.contains("did not match any variant")
            || message.starts_with("expected ")
            || message.starts_with("cannot deserialize null")
        {
            "E0202"
        } else {
            "E0201"
        };
        let mut diagnostic = Diagnostic::error(code, friendly(message), at);
        diagnostic.file = file.to_owned();
        if code == "E0202" {
            diagnostic = diagnostic.with_help(
                "see docs/policy-schema.md for the fields each part of a policy accepts",
            );
        }
        vec![diagnostic]
    })
}

/// Rewrites serde's untagged-enum message, which names a Rust type, into what the field
/// accepts.
fn friendly(mut message: String) -> String {
    if message.starts_with("cannot deserialize null") {
        return "this field needs a value: write one or remove the field (`null` is not allowed)"
            .to_owned();
    }
    // serde's untagged-enum message names a Rust type; say what the field accepts instead.
    let untagged = [
        ("enum OneOrMany", "expected a string or a list of strings"),
        (
            "enum Types",
            "expected a type name (`string`, `integer`, `number`, `boolean`, `array`, `object`, `null` quoted) or a list of them",
        ),
        ("enum Scalar", "expected a string, an integer or a boolean"),
        (
            "enum DefaultSpec",
            "expected `allow`, `deny`, `require_approval`, or a mapping with `effect`, `reason` and `risk`",
        ),
    ];
    if message.contains("did not match any variant")
        && let Some((_, text)) = untagged.iter().find(|(name, _)| message.contains(name))
    {
        message = (*text).to_owned();
    }
    message
}

/// The error's message without serde-saphyr's own location suffix and snippet.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let text = error.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    let first = first.split(" at line ").next().unwrap_or(first);
    let mut message = first.trim_end_matches('.').to_owned();
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_owned();
    }
    if message.is_empty() { "invalid YAML".to_owned() } else { message }
}

/// Compiles policy YAML `source`. `file` is the path as the user gave it; diagnostics show it,
/// and the artifact records only its final component, so the bytes do not depend on where the
/// policy was compiled.
///
/// # Errors
///
/// Every diagnostic found. No artifact is produced while any error exists.
pub fn compile(source: &str, file: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let with_file = |mut diagnostics: Vec<Diagnostic>| {
        for diagnostic in &mut diagnostics {
            diagnostic.file = file.to_owned();
        }
        diagnostics.sort_by_key(|d| (d.line, d.column));
        diagnostics
    };
    let model = parse(source, file)?;
    let base_name = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |name| name.to_string_lossy().into_owned());
    let (policy, patterns) = resolve::resolve(&model, source, &base_name).map_err(with_file)?;
    let mut tables = lower::lower(&policy, &patterns);
    thread::thread(&mut tables);
    let bytes = emit::emit(&tables);
    verify_artifact(&bytes).map_err(|diagnostic| with_file(vec![diagnostic]))?;
    let source_map = std::mem::take(&mut tables.source_map);
    Ok(Compiled { bytes, policy, patterns, source_map })
}

/// Loads `bytes` with the runtime's verifier, as [`compile`] does before returning an artifact.
///
/// A policy too large for a runtime limit (a count, the artifact size, a string's length) is
/// the user's to fix, so it is `E0401`; any other verification failure is a compiler bug
/// (`E0501`). Public so that the limit tests can show the mapping on artifacts at and past
/// each limit without compiling policies with millions of rules.
///
/// # Errors
///
/// The diagnostic for the first problem the verifier finds.
pub fn verify_artifact(bytes: &[u8]) -> Result<(), Diagnostic> {
    let Err(error) = Program::from_bytes(bytes) else { return Ok(()) };
    let (code, message, help) = match error.kind() {
        mcppol_runtime::FormatErrorKind::LimitExceeded
        | mcppol_runtime::FormatErrorKind::BadString => (
            "E0401",
            format!("the compiled policy exceeds a runtime limit: {error}"),
            "split the policy or simplify its patterns; see runtime/src/limits.rs",
        ),
        _ => (
            "E0501",
            format!("internal compiler error: the artifact failed verification: {error}"),
            "this is a bug in mcppol; please report it with the policy file",
        ),
    };
    Err(Diagnostic::error(code, message, Position::default()).with_help(help))
}
