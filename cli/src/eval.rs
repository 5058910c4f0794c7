//! `mcppol eval`: decide one request from flags, or every line of a JSON-lines file, exactly as
//! a gateway would: the `args` object reaches the runtime as the raw bytes it had in the input.

use crate::{Format, exit};
use clap::Args;
use mcppol_runtime::{Decision, Effect, Program, Request, Scratch};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `mcppol eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The policy: YAML (compiled in memory) or a compiled artifact (`.mcpb`).
    #[arg(long)]
    policy: PathBuf,
    /// The tool name of a single request.
    #[arg(long, required_unless_present = "requests", conflicts_with = "requests")]
    tool: Option<String>,
    /// The arguments object of a single request, as JSON text.
    #[arg(long, default_value = "{}", conflicts_with = "requests")]
    args: String,
    /// The MCP method of a single request.
    #[arg(long, default_value = "tools/call", conflicts_with = "requests")]
    method: String,
    /// The upstream server of a single request.
    #[arg(long, default_value = "", conflicts_with = "requests")]
    server: String,
    /// The principal id of a single request.
    #[arg(long, default_value = "", conflicts_with = "requests")]
    principal: String,
    /// A role of the principal (repeatable).
    #[arg(long = "role", conflicts_with = "requests")]
    roles: Vec<String>,
    /// A JSON-lines file of requests: `{"method","server","tool","args","principal":{"id","roles"}}`
    /// per line, all but `tool` optional. Use `-` for standard input. Exits 0 when every line
    /// was evaluated, 1 when any line was malformed.
    #[arg(long)]
    requests: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(flatten)]
    audit: crate::audit::RecordArgs,
}

/// One call given on the command line (`explain`, `approvals request|consume`).
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The policy: YAML (compiled in memory) or a compiled artifact (`.mcpb`).
    #[arg(long)]
    pub(crate) policy: PathBuf,
    /// The tool.
    #[arg(long)]
    pub(crate) tool: String,
    /// The arguments object, as JSON text.
    #[arg(long, default_value = "{}")]
    pub(crate) args: String,
    /// The MCP method.
    #[arg(long, default_value = "tools/call")]
    pub(crate) method: String,
    /// The upstream server.
    #[arg(long, default_value = "")]
    pub(crate) server: String,
    /// The principal id.
    #[arg(long, default_value = "")]
    pub(crate) principal: String,
    /// A role of the principal (repeatable).
    #[arg(long = "role")]
    pub(crate) roles: Vec<String>,
}

/// One line of a requests file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestLine<'a> {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    server: Option<String>,
    tool: String,
    // `null` must reach the runtime as `null` (and deny), not read as "no arguments".
    #[serde(default, borrow, deserialize_with = "present_raw")]
    args: Option<&'a RawValue>,
    #[serde(default)]
    principal: Option<PrincipalLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalLine {
    #[serde(default)]
    id: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// An `args` field that is present, whatever its value: `null` included.
fn present_raw<'de, D>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// Loads a policy file as artifact bytes: artifacts as they are, YAML compiled in memory.
pub(crate) fn load(policy: &std::path::Path, format: Format) -> Option<Vec<u8>> {
    load_with_source(policy, format).map(|loaded| loaded.bytes)
}

/// An artifact and, when the YAML it was compiled from is at hand, that compilation.
pub(crate) struct Loaded {
    /// The artifact bytes (not yet verified when read from a `.mcpb` file).
    pub bytes: Vec<u8>,
    /// The compilation these bytes came from: the YAML given, or the artifact's recorded
    /// source beside it when compiling that gives exactly these bytes. `None` otherwise, so a
    /// stale YAML can never describe an artifact it did not produce.
    pub compiled: Option<mcppol_compiler::Compiled>,
}

/// Loads a policy (YAML, compiled in memory) or an artifact, with its source when available.
pub(crate) fn load_with_source(policy: &std::path::Path, format: Format) -> Option<Loaded> {
    let bytes = match std::fs::read(policy) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read `{}`: {error}", policy.display());
            return None;
        }
    };
    if bytes.starts_with(&mcppol_runtime::format::MAGIC) {
        let compiled = Program::from_bytes(&bytes).ok().and_then(|program| {
            let yaml = policy.with_file_name(program.source());
            let text = std::fs::read_to_string(&yaml).ok()?;
            let compiled = mcppol_compiler::compile(&text, &yaml.display().to_string()).ok()?;
            (compiled.bytes == bytes).then_some(compiled)
        });
        return Some(Loaded { bytes, compiled });
    }
    crate::compile_file(policy, format)
        .map(|compiled| Loaded { bytes: compiled.bytes.clone(), compiled: Some(compiled) })
}

pub(crate) fn run(args: &EvalArgs) -> u8 {
    let Some(bytes) = load(&args.policy, args.format) else {
        return exit::ERROR;
    };
    let program = match Program::from_bytes(&bytes) {
        Ok(program) => program,
        Err(error) => {
            eprintln!(
                "error: `{}` is not a valid artifact: {error} [{}]",
                args.policy.display(),
                error.code()
            );
            return exit::ERROR;
        }
    };
    let recorder = match crate::audit::Recorder::open(&args.audit, &program) {
        Ok(recorder) => recorder,
        Err(code) => return code,
    };
    let mut scratch = Box::new(Scratch::new());
    let code = decide(args, &program, &mut scratch, recorder.as_ref());
    // A decision that could not be recorded is an error, whatever was decided.
    match &recorder {
        Some(recorder) if !recorder.finish() => exit::ERROR,
        _ => code,
    }
}

fn decide(
    args: &EvalArgs,
    program: &Program<'_>,
    scratch: &mut Scratch,
    recorder: Option<&crate::audit::Recorder>,
) -> u8 {
    match &args.requests {
        None => {
            let tool = args.tool.clone().unwrap_or_default();
            let roles: Vec<&str> = args.roles.iter().map(String::as_str).collect();
            let request = Request {
                method: &args.method,
                server: &args.server,
                tool: &tool,
                principal_id: &args.principal,
                principal_roles: &roles,
                args: args.args.as_bytes(),
            };
            let started = Instant::now();
            let decision = program.evaluate(&request, scratch);
            let latency = started.elapsed();
            print_decision(&decision, args.format, None);
            if recorder.is_some_and(|recorder| !recorder.record(&request, &decision, latency)) {
                return exit::ERROR;
            }
            match decision.effect {
                Effect::Allow => exit::OK,
                Effect::Deny => exit::DENY,
                Effect::RequireApproval => exit::REQUIRE_APPROVAL,
            }
        }
        Some(path) => run_file(program, path, args.format, scratch, recorder),
    }
}

fn run_file(
    program: &Program<'_>,
    path: &std::path::Path,
    format: Format,
    scratch: &mut Scratch,
    recorder: Option<&crate::audit::Recorder>,
) -> u8 {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(path) {
            Ok(file) => Box::new(std::io::BufReader::new(file)),
            Err(error) => {
                eprintln!("error: cannot read `{}`: {error}", path.display());
                return exit::ERROR;
            }
        }
    };
    let mut code = exit::OK;
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                eprintln!("error: {}:{number}: cannot read: {error}", path.display());
                return exit::ERROR;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let parsed: RequestLine<'_> = match serde_json::from_str(&line) {
            Ok(parsed) => parsed,
            Err(error) => {
                eprintln!("error: {}:{number}: malformed request: {error}", path.display());
                code = exit::ERROR;
                continue;
            }
        };
        let principal = parsed.principal.unwrap_or_default();
        let roles: Vec<&str> = principal.roles.iter().map(String::as_str).collect();
        let request = Request {
            method: parsed.method.as_deref().unwrap_or("tools/call"),
            server: parsed.server.as_deref().unwrap_or(""),
            tool: &parsed.tool,
            principal_id: &principal.id,
            principal_roles: &roles,
            args: parsed.args.map_or(&b"{}"[..], |raw| raw.get().as_bytes()),
        };
        let started = Instant::now();
        let decision = program.evaluate(&request, scratch);
        let latency = started.elapsed();
        print_decision(&decision, format, Some((number, &parsed.tool)));
        if recorder.is_some_and(|recorder| !recorder.record(&request, &decision, latency)) {
            return exit::ERROR;
        }
    }
    code
}

/// One decision as a JSON line; field order is part of the output format.
#[derive(Serialize)]
struct DecisionLine<'a> {
    decision: &'a str,
    rule: Option<&'a str>,
    reason: &'a str,
    code: &'a str,
    risk: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'a str>,
}

fn print_decision(decision: &Decision<'_>, format: Format, line: Option<(usize, &str)>) {
    match format {
        Format::Json => {
            let line = DecisionLine {
                decision: decision.effect.as_str(),
                rule: decision.rule,
                reason: decision.reason,
                code: decision.code,
                risk: decision.risk.as_str(),
                check: decision.check,
            };
            match serde_json::to_string(&line) {
                Ok(text) => println!("{text}"),
                Err(error) => eprintln!("error: cannot serialise a decision: {error}"),
            }
        }
        Format::Human => {
            let prefix =
                line.map(|(number, tool)| format!("{number}: {tool}: ")).unwrap_or_default();
            let mut rule = decision.rule.map(|rule| format!(" rule={rule}")).unwrap_or_default();
            if let Some(check) = decision.check {
                rule.push_str(&format!(" check={check}"));
            }
            println!(
                "{prefix}{}{rule} risk={} code={}\n  reason: {}",
                decision.effect, decision.risk, decision.code, decision.reason
            );
        }
    }
}

/// A request line read into owned parts, for commands that decide it more than once.
pub(crate) struct OwnedLine {
    /// The tool name.
    pub tool: String,
    method: String,
    server: String,
    principal_id: String,
    roles: Vec<String>,
    args: String,
}

/// Parses one line of a requests file (the format `--requests` documents).
pub(crate) fn parse_request_line(line: &str) -> Result<OwnedLine, String> {
    let parsed: RequestLine<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let principal = parsed.principal.unwrap_or_default();
    Ok(OwnedLine {
        tool: parsed.tool,
        method: parsed.method.unwrap_or_else(|| "tools/call".to_owned()),
        server: parsed.server.unwrap_or_default(),
        principal_id: principal.id,
        roles: principal.roles,
        args: parsed.args.map_or_else(|| "{}".to_owned(), |raw| raw.get().to_owned()),
    })
}

impl OwnedLine {
    /// Decides the request with `program`.
    pub(crate) fn decide(
        &self,
        program: &Program<'_>,
        scratch: &mut Scratch,
    ) -> mcppol_compiler::diff::Verdict {
        let roles: Vec<&str> = self.roles.iter().map(String::as_str).collect();
        let request = Request {
            method: &self.method,
            server: &self.server,
            tool: &self.tool,
            principal_id: &self.principal_id,
            principal_roles: &roles,
            args: self.args.as_bytes(),
        };
        let decision = program.evaluate(&request, scratch);
        mcppol_compiler::diff::Verdict {
            effect: decision.effect.as_str().to_owned(),
            rule: decision.rule.map(str::to_owned),
            code: decision.code.to_owned(),
        }
    }
}
