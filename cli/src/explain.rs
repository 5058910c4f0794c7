//! `mcppol explain`: decide one request and show the walk through the decision DAG, each test
//! with what it looked at and its outcome, then the decision and the YAML rule behind it.

use crate::{exit, inspect};
use clap::Args;
use mcppol_runtime::{Program, Request, Scratch, Trace};
use std::path::PathBuf;

/// Arguments of `mcppol explain`.
#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The policy: YAML (compiled in memory) or a compiled artifact (`.mcpb`).
    #[arg(long)]
    policy: PathBuf,
    /// The tool name.
    #[arg(long)]
    tool: String,
    /// The arguments object, as JSON text.
    #[arg(long, default_value = "{}")]
    args: String,
    /// The MCP method.
    #[arg(long, default_value = "tools/call")]
    method: String,
    /// The upstream server.
    #[arg(long, default_value = "")]
    server: String,
    /// The principal id.
    #[arg(long, default_value = "")]
    principal: String,
    /// A role of the principal (repeatable).
    #[arg(long = "role")]
    roles: Vec<String>,
}

/// The steps of one walk.
#[derive(Default)]
struct Steps(Vec<Step>);

enum Step {
    Test { node: u32, predicate: u32, outcome: Option<bool> },
    Decide { node: u32 },
}

impl Trace for Steps {
    fn test(&mut self, node: u32, predicate: u32, outcome: Option<bool>) {
        self.0.push(Step::Test { node, predicate, outcome });
    }
    fn decide(&mut self, node: u32, _outcome: u32) {
        self.0.push(Step::Decide { node });
    }
}

pub(crate) fn run(args: &ExplainArgs) -> u8 {
    let Some(bytes) = crate::eval::load(&args.policy, crate::Format::Human) else {
        return exit::ERROR;
    };
    let program = match Program::from_bytes(&bytes) {
        Ok(program) => program,
        Err(error) => {
            eprintln!("error: `{}` is not a valid artifact: {error}", args.policy.display());
            return exit::ERROR;
        }
    };
    let roles: Vec<&str> = args.roles.iter().map(String::as_str).collect();
    let request = Request {
        method: &args.method,
        server: &args.server,
        tool: &args.tool,
        principal_id: &args.principal,
        principal_roles: &roles,
        args: args.args.as_bytes(),
    };
    let mut steps = Steps::default();
    let mut scratch = Box::new(Scratch::new());
    let decision = program.evaluate_traced(&request, &mut scratch, &mut steps);
    println!("request  {} {} {}", args.method, args.tool, args.args);
    println!(
        "policy   {} ({}), sha256 {}",
        program.name(),
        program.source(),
        crate::hex(&program.content_hash())
    );
    if steps.0.is_empty() {
        println!("         (no test ran: the arguments were refused before any rule)");
    }
    for step in &steps.0 {
        match step {
            Step::Test { node, predicate, outcome } => {
                let result = match outcome {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "FAULT",
                };
                println!("  n{node:<5} {:<64} {result}", inspect::describe(&program, *predicate));
            }
            Step::Decide { node } => println!("  n{node:<5} decide"),
        }
    }
    let rule = decision.rule.and_then(|id| {
        (0..program.rule_count()).filter_map(|i| program.rule(i)).find(|rule| rule.id == id)
    });
    let source = rule
        .map(|rule| format!(" ({}:{}:{})", program.source(), rule.line, rule.column))
        .unwrap_or_default();
    let check = decision.check.map(|check| format!(" check={check}")).unwrap_or_default();
    println!(
        "decision {} code={}{}{check} risk={}{source}",
        decision.effect,
        decision.code,
        decision.rule.map(|rule| format!(" rule={rule}")).unwrap_or_default(),
        decision.risk
    );
    println!("reason   {}", decision.reason);
    match decision.effect {
        mcppol_runtime::Effect::Allow => exit::OK,
        mcppol_runtime::Effect::Deny => exit::DENY,
        mcppol_runtime::Effect::RequireApproval => exit::REQUIRE_APPROVAL,
    }
}
