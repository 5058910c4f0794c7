//! `docs/policy-schema.md` is tested: every policy in it compiles (or fails with the code it
//! claims), every rendered diagnostic is what the compiler prints, and every example decision is
//! what the runtime decides, with the reference evaluator agreeing.
//!
//! The conventions, which the document also states in its introduction:
//!
//! - A fenced block tagged `yaml` whose first line is `version: 1` is a policy and must compile.
//!   A block tagged `yaml fails=CODE` (whatever its first line) must fail to compile instead,
//!   with exactly that one diagnostic code.
//! - A fenced block tagged `diagnostics` right after a failing policy is the exact rendered
//!   output of its diagnostics when the file is called `policy.yaml`.
//! - A fenced block tagged `requests` holds example decisions for the latest policy above it,
//!   one per line: `[method=M] [server=S] [principal=ID] [roles=R1,R2] TOOL ARGS -> EFFECT
//!   (rule=ID | code=CODE) [risk=RISK]`, where `ARGS` is the raw JSON text of the arguments,
//!   exactly as a gateway would pass it on. Blank lines and lines starting with `#` are skipped.

use crate::support;
use mcppol_compiler::Compiled;
use mcppol_runtime::{Effect, Program, Request, Scratch};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The document under test, relative to the repository root.
const DOC: &str = "docs/policy-schema.md";

/// One fenced code block.
#[derive(Debug)]
pub(crate) struct Block {
    /// The info string after the opening fence, trimmed.
    pub(crate) info: String,
    /// 1-based line number of the opening fence.
    pub(crate) line: usize,
    /// 1-based line number of the first line of the body.
    body_line: usize,
    /// The lines between the fences, joined with `\n` and ending with one.
    pub(crate) body: String,
}

impl Block {
    pub(crate) fn tag(&self) -> &str {
        self.info.split_whitespace().next().unwrap_or("")
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.info
            .split_whitespace()
            .skip(1)
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
    }
}

/// The fenced code blocks of `text` (fences of three backticks at the start of a line).
pub(crate) fn blocks(text: &str) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        match open.take() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some(Block {
                        info: info.trim().to_owned(),
                        line: number,
                        body_line: number + 1,
                        body: String::new(),
                    });
                }
            }
            Some(mut block) => {
                if line.trim_end() == "```" {
                    out.push(block);
                } else {
                    block.body.push_str(line);
                    block.body.push('\n');
                    open = Some(block);
                }
            }
        }
    }
    match open {
        Some(block) => Err(format!("{DOC}:{}: the code block is never closed", block.line)),
        None => Ok(out),
    }
}

/// One example request and the decision the document claims for it.
#[derive(Debug)]
struct Example {
    method: String,
    server: String,
    principal: String,
    roles: Vec<String>,
    tool: String,
    args: String,
    effect: Effect,
    rule: Option<String>,
    code: String,
    risk: Option<String>,
}

fn parse_effect(text: &str) -> Result<Effect, String> {
    match text {
        "allow" => Ok(Effect::Allow),
        "deny" => Ok(Effect::Deny),
        "require_approval" => Ok(Effect::RequireApproval),
        other => Err(format!("unknown effect `{other}`")),
    }
}

/// Parses `[key=value ...] TOOL ARGS -> EFFECT (rule=ID | code=CODE) [risk=RISK]`.
fn parse_example(line: &str) -> Result<Example, String> {
    let (request, expected) =
        line.rsplit_once(" -> ").ok_or("a request line needs ` -> ` before its decision")?;
    let mut example = Example {
        method: "tools/call".to_owned(),
        server: String::new(),
        principal: String::new(),
        roles: Vec::new(),
        tool: String::new(),
        args: String::new(),
        effect: Effect::Deny,
        rule: None,
        code: String::new(),
        risk: None,
    };
    let mut rest = request.trim();
    loop {
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let Some((key, value)) = word.split_once('=') else {
            example.tool = word.to_owned();
            example.args = after.trim().to_owned();
            break;
        };
        match key {
            "method" => example.method = value.to_owned(),
            "server" => example.server = value.to_owned(),
            "principal" => example.principal = value.to_owned(),
            "roles" => {
                example.roles =
                    value.split(',').filter(|r| !r.is_empty()).map(str::to_owned).collect();
            }
            other => return Err(format!("unknown request attribute `{other}`")),
        }
        rest = after.trim_start();
    }
    if example.tool.is_empty() || example.args.is_empty() {
        return Err("a request line needs a tool name and a JSON arguments text".to_owned());
    }
    let words: Vec<&str> = expected.split_whitespace().collect();
    let [effect, who, more @ ..] = words.as_slice() else {
        return Err("the decision needs an effect and `rule=ID` or `code=CODE`".to_owned());
    };
    example.effect = parse_effect(effect)?;
    if let Some(rule) = who.strip_prefix("rule=") {
        example.rule = Some(rule.to_owned());
        "policy.rule".clone_into(&mut example.code);
    } else if let Some(code) = who.strip_prefix("code=") {
        code.clone_into(&mut example.code);
    } else {
        return Err(format!("expected `rule=ID` or `code=CODE`, found `{who}`"));
    }
    match more {
        [] => {}
        [risk] => {
            let risk = risk
                .strip_prefix("risk=")
                .ok_or(format!("expected `risk=RISK`, found `{risk}`"))?;
            example.risk = Some(risk.to_owned());
        }
        _ => return Err(format!("unexpected text after the decision: `{}`", more.join(" "))),
    }
    Ok(example)
}

/// Checks one example against `compiled`; `Err` says what differs.
fn check_example(compiled: &Compiled, example: &Example) -> Result<(), String> {
    let roles: Vec<&str> = example.roles.iter().map(String::as_str).collect();
    let request = Request {
        method: &example.method,
        server: &example.server,
        tool: &example.tool,
        principal_id: &example.principal,
        principal_roles: &roles,
        args: example.args.as_bytes(),
    };
    // `decide` asserts that the runtime and the reference evaluator agree; report a
    // disagreement as this example's failure instead of stopping at it.
    let outcome = catch_unwind(AssertUnwindSafe(|| support::decide(compiled, &request))).map_err(
        |panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            format!("runtime and reference evaluator disagree: {message}")
        },
    )?;
    let got = (outcome.effect, outcome.rule.as_deref(), outcome.code.as_str());
    let want = (example.effect, example.rule.as_deref(), example.code.as_str());
    if got != want {
        return Err(format!("expected {want:?}, got (effect, rule, code) = {got:?}"));
    }
    if let Some(risk) = &example.risk {
        let program = Program::from_bytes(&compiled.bytes).map_err(|e| e.to_string())?;
        let mut scratch = Box::new(Scratch::new());
        let decision = program.evaluate(&request, &mut scratch);
        if decision.risk.as_str() != risk {
            return Err(format!("expected risk `{risk}`, got `{}`", decision.risk));
        }
    }
    Ok(())
}

/// What the document's examples add up to.
#[derive(Debug, Default)]
struct Tally {
    policies: usize,
    failing: usize,
    renderings: usize,
    decisions: usize,
}

/// The latest policy above the current block.
enum Latest {
    /// None yet.
    Nothing,
    /// A policy that compiled.
    Compiled(Box<Compiled>),
    /// A policy marked `fails=CODE` that failed; its rendered diagnostics.
    Failed(String),
    /// A policy that did the opposite of what the document says; already reported.
    Broken,
}

/// Checks every example in `text`, returning the tally or every failure found.
fn check_document(text: &str) -> Result<Tally, Vec<String>> {
    let blocks = blocks(text).map_err(|error| vec![error])?;
    let mut failures = Vec::new();
    let mut tally = Tally::default();
    let mut latest = Latest::Nothing;
    for block in &blocks {
        match block.tag() {
            "yaml"
                if block.body.starts_with("version: 1\n") || block.attribute("fails").is_some() =>
            {
                tally.policies += 1;
                let result = mcppol_compiler::compile(&block.body, "policy.yaml");
                let render = |diagnostics: &[mcppol_compiler::Diagnostic]| -> String {
                    diagnostics.iter().map(|d| d.render(&block.body)).collect()
                };
                latest = match (block.attribute("fails"), result) {
                    (None, Ok(compiled)) => Latest::Compiled(Box::new(compiled)),
                    (None, Err(diagnostics)) => {
                        failures.push(format!(
                            "{DOC}:{}: the policy does not compile (its line 1 is {DOC}:{}):\n{}",
                            block.line,
                            block.body_line,
                            render(&diagnostics)
                        ));
                        Latest::Broken
                    }
                    (Some(code), Ok(_)) => {
                        failures.push(format!(
                            "{DOC}:{}: the policy compiles but should fail with {code}",
                            block.line
                        ));
                        Latest::Broken
                    }
                    (Some(code), Err(diagnostics)) => {
                        tally.failing += 1;
                        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
                        if codes != [code] {
                            failures.push(format!(
                                "{DOC}:{}: expected exactly {code}, got {codes:?}:\n{}",
                                block.line,
                                render(&diagnostics)
                            ));
                        }
                        Latest::Failed(render(&diagnostics))
                    }
                };
            }
            "diagnostics" => {
                tally.renderings += 1;
                match &latest {
                    Latest::Failed(rendered) => {
                        if rendered.trim_end() != block.body.trim_end() {
                            failures.push(format!(
                                "{DOC}:{}: the compiler renders the diagnostics as:\n{rendered}",
                                block.line
                            ));
                        }
                    }
                    Latest::Broken => {}
                    _ => failures.push(format!(
                        "{DOC}:{}: a `diagnostics` block must follow a policy marked `fails=CODE`",
                        block.line
                    )),
                }
            }
            "requests" => {
                let compiled = match &latest {
                    Latest::Compiled(compiled) => compiled,
                    Latest::Broken => continue,
                    _ => {
                        failures.push(format!(
                            "{DOC}:{}: a `requests` block must follow a policy that compiles",
                            block.line
                        ));
                        continue;
                    }
                };
                for (offset, line) in block.body.lines().enumerate() {
                    let trimmed = line.trim();
                    if trimmed.is_empty() || trimmed.starts_with('#') {
                        continue;
                    }
                    tally.decisions += 1;
                    let number = block.body_line + offset;
                    let result = parse_example(trimmed)
                        .and_then(|example| check_example(compiled, &example));
                    if let Err(error) = result {
                        failures.push(format!("{DOC}:{number}: `{trimmed}`: {error}"));
                    }
                }
            }
            _ => {}
        }
    }
    if failures.is_empty() { Ok(tally) } else { Err(failures) }
}

#[test]
fn every_policy_and_decision_in_the_schema_reference_holds() {
    let path = support::root().join(DOC);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match check_document(&text) {
        Ok(tally) => {
            eprintln!("{DOC}: {tally:?}");
            // Guards against a change in the conventions that would make the test vacuous.
            assert!(tally.policies >= 20, "only {} policies found: {tally:?}", tally.policies);
            assert!(tally.decisions >= 100, "only {} decisions found: {tally:?}", tally.decisions);
            assert!(
                tally.failing >= 10,
                "only {} failing examples found: {tally:?}",
                tally.failing
            );
            assert!(tally.renderings >= 1, "no rendered diagnostics found: {tally:?}");
        }
        Err(failures) => {
            panic!("{} problem(s) in {DOC}:\n\n{}", failures.len(), failures.join("\n\n"));
        }
    }
}

#[test]
fn the_example_conventions_parse_as_documented() {
    let text = [
        "intro",
        "```yaml",
        "version: 1",
        "name: t",
        "rules:",
        "  - {id: r, effect: allow, reason: ok, tool: t}",
        "```",
        "```requests",
        "# a comment",
        "t {} -> allow rule=r risk=low",
        "method=prompts/get server=s principal=p roles=a,b u {} -> deny code=policy.default",
        "```",
        "```yaml fails=E0204",
        "version: 1",
        "name: t",
        "rules:",
        "  - {id: r, effect: allow, reason: ok}",
        "  - {id: r, effect: deny, reason: no}",
        "```",
        "",
    ]
    .join("\n");
    let text = text.as_str();
    let tally = check_document(text).unwrap_or_else(|failures| panic!("{failures:#?}"));
    assert_eq!((tally.policies, tally.failing, tally.decisions), (2, 1, 2));

    let wrong = text.replace("allow rule=r risk=low", "deny rule=r");
    let failures = check_document(&wrong).err().unwrap_or_default();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].starts_with(&format!("{DOC}:10:")), "{failures:?}");

    let example = parse_example("t {\"a\": \"x -> y\"} -> deny code=args.missing")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (example.args.as_str(), example.code.as_str()),
        ("{\"a\": \"x -> y\"}", "args.missing")
    );
    assert!(parse_example("t {} -> maybe rule=r").is_err());
    assert!(parse_example("t -> deny rule=r").is_err());
    assert!(parse_example("t {} -> deny r").is_err());
    assert!(parse_example("colour=red t {} -> deny rule=r").is_err());
}
