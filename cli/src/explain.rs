//! `mcppol explain`: decide one request and show the walk through the decision DAG, each test
//! with what it looked at and its outcome, then the decision and the YAML rule behind it.

use crate::{exit, inspect};
use mcppol_runtime::{Program, Request, Scratch, Trace};

/// Arguments of `mcppol explain`: one call, as on the command line of `eval`.
pub(crate) use crate::eval::CallArgs as ExplainArgs;

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

/// The request value predicate `index` looks at, as compact JSON (shortened when long).
fn looked_at(
    program: &Program<'_>,
    index: u32,
    request: &Request<'_>,
    args: Option<&serde_json::Value>,
) -> String {
    use mcppol_runtime::format::subject;
    let Some(predicate) = program.predicate(index) else {
        return "?".to_owned();
    };
    let text = match predicate.subject {
        subject::METHOD => format!("{:?}", request.method),
        subject::SERVER => format!("{:?}", request.server),
        subject::TOOL => format!("{:?}", request.tool),
        subject::PRINCIPAL_ID => format!("{:?}", request.principal_id),
        subject::PRINCIPAL_ROLES => format!("{:?}", request.principal_roles),
        subject::ARG => {
            let value = predicate
                .path
                .split('\0')
                .try_fold(args, |value, key| value.and_then(|v| v.get(key)).map(Some))
                .flatten();
            value.map_or_else(|| "(absent)".to_owned(), ToString::to_string)
        }
        subject::ARGS => args.map_or_else(|| "(not JSON)".to_owned(), ToString::to_string),
        _ => "(element)".to_owned(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

pub(crate) fn run(args: &ExplainArgs) -> u8 {
    let Some(loaded) = crate::eval::load_with_source(&args.policy, crate::Format::Human) else {
        return exit::ERROR;
    };
    let map = loaded.compiled.as_ref().map(|compiled| &compiled.source_map);
    let program = match Program::from_bytes(&loaded.bytes) {
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
    if map.is_none() {
        println!(
            "         (no source map: `{}` is not beside the artifact or does not compile to it, so steps are not mapped to rules)",
            program.source()
        );
    }
    if steps.0.is_empty() {
        println!("         (no test ran: the arguments were refused before any rule)");
    }
    let parsed_args: Option<serde_json::Value> = serde_json::from_str(&args.args).ok();
    let positions = loaded.compiled.as_ref().map(|compiled| {
        compiled
            .policy
            .rules
            .iter()
            .map(|rule| (rule.id.clone(), (rule.line, rule.column)))
            .collect::<std::collections::BTreeMap<_, _>>()
    });
    for step in &steps.0 {
        match step {
            Step::Test { node, predicate, outcome } => {
                let result = match outcome {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "FAULT",
                };
                let looked_at = looked_at(&program, *predicate, &request, parsed_args.as_ref());
                println!(
                    "  n{node:<5} {:<60} {result:<5} value {looked_at}",
                    inspect::describe(&program, *predicate, map)
                );
            }
            Step::Decide { node } => println!("  n{node:<5} decide"),
        }
        let node = match step {
            Step::Test { node, .. } | Step::Decide { node } => *node,
        };
        let from = map.and_then(|map| map.node_origins.get(node as usize));
        for origin in from.into_iter().flatten() {
            let at = match (origin, &positions) {
                (mcppol_compiler::lower::Origin::Rule(id), Some(positions)) => positions
                    .get(id)
                    .map(|(line, column)| format!(" at {}:{line}:{column}", program.source()))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            println!("         from {origin}{at}");
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
