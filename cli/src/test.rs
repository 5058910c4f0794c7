//! `mcppol test`: run policy fixture suites (`*.cases.yaml`) and report per case, with rule,
//! node and branch coverage, for people (human), machines (json lines) or CI systems (JUnit XML).
//!
//! A suite names the policy it tests (relative to the suite file) and lists cases; each case is
//! a request, as in `mcppol eval --requests`, and the expected decision, optionally pinned to a
//! rule id, a reason code and the failed check. A malformed suite or a missing policy is an
//! error, never a skipped suite.

use crate::{Format as OutputFormat, exit};
use clap::{Args, ValueEnum};
use mcppol_compiler::lower::SourceMap;
use mcppol_runtime::inspect::NodeView;
use mcppol_runtime::{Decision, Program, Request, Scratch, Trace};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `mcppol test`.
#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Suite files (`*.cases.yaml`) or directories to search for them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Report which rules, DAG nodes and branch outcomes the cases exercised, and list the
    /// rules never hit, decisions never reached and branches never taken.
    #[arg(long)]
    coverage: bool,
    /// Fail unless at least this percentage of each policy's rules decided some case.
    #[arg(long, value_name = "PERCENT")]
    min_coverage: Option<u32>,
    /// Fail unless at least this percentage of each policy's branch outcomes (every test's
    /// yes and no) was taken by some case.
    #[arg(long, value_name = "PERCENT")]
    min_branch_coverage: Option<u32>,
}

/// Output formats of `mcppol test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    /// For people.
    Human,
    /// One JSON object per case, then a summary object.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

/// A suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    /// The policy under test, relative to the suite file: YAML or an artifact.
    policy: String,
    /// The cases.
    cases: Vec<Spanned<Case>>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    server: Option<String>,
    tool: String,
    /// Arguments as YAML (serialised to JSON for the runtime).
    #[serde(default)]
    args: Option<serde_json::Value>,
    /// Arguments as raw JSON text, byte for byte (for escapes and duplicate keys).
    #[serde(default)]
    args_json: Option<String>,
    #[serde(default)]
    principal: Option<Principal>,
    expect: Expectation,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Principal {
    #[serde(default)]
    id: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// `expect: deny` or `expect: {decision: deny, rule: ..., code: ..., check: ...}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Expectation {
    Decision(String),
    Full(ExpectFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFull {
    decision: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    check: Option<String>,
}

/// The result of one case.
struct Outcome {
    suite: String,
    name: String,
    line: usize,
    failures: Vec<String>,
    actual: String,
}

pub(crate) fn run(args: &TestArgs) -> u8 {
    let mut files = Vec::new();
    for path in &args.paths {
        if let Err(error) = collect(path, &mut files) {
            eprintln!("error: {error}");
            return exit::ERROR;
        }
    }
    files.sort();
    if files.is_empty() {
        eprintln!("error: no `*.cases.yaml` suite found in the given paths");
        return exit::ERROR;
    }
    let mut outcomes = Vec::new();
    let mut coverage_failed = false;
    let mut coverage_report = String::new();
    let mut coverage_json = Vec::new();
    for file in &files {
        match run_suite(file) {
            Ok((mut suite_outcomes, coverage)) => {
                let (rules, rules_total) = coverage.rules();
                let (branches, branches_total) = coverage.branches();
                let rule_percent = percent(rules, rules_total);
                let branch_percent = percent(branches, branches_total);
                if args.coverage {
                    coverage.report(&file.display().to_string(), &mut coverage_report);
                    coverage_json.push(coverage.json(&file.display().to_string()));
                }
                for (minimum, actual, what) in [
                    (args.min_coverage, rule_percent, "rules"),
                    (args.min_branch_coverage, branch_percent, "branch outcomes"),
                ] {
                    if let Some(minimum) = minimum.filter(|&minimum| actual < minimum as usize) {
                        coverage_failed = true;
                        let _ = writeln!(
                            coverage_report,
                            "error: {} covers {actual}% of its {what}, below the required {minimum}%",
                            file.display(),
                        );
                    }
                }
                outcomes.append(&mut suite_outcomes);
            }
            Err(error) => {
                eprintln!("error: {}: {error}", file.display());
                return exit::ERROR;
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.failures.is_empty()).count();
    let passed = outcomes.len() - failed;
    match args.format {
        TestFormat::Human => print_human(&outcomes, passed, failed),
        TestFormat::Json => {
            print_json(&outcomes, passed, failed);
            for line in &coverage_json {
                println!("{line}");
            }
        }
        TestFormat::Junit => print!("{}", junit(&outcomes, failed)),
    }
    eprint!("{coverage_report}");
    if failed == 0 && !coverage_failed { exit::OK } else { exit::ERROR }
}

/// Adds `path` (a suite) or the suites below it (a directory) to `files`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    for entry in entries {
        let entry_path = entry.map_err(|e| e.to_string())?.path();
        if entry_path.is_dir() {
            collect(&entry_path, files)?;
        } else if entry_path.to_string_lossy().ends_with(".cases.yaml") {
            files.push(entry_path);
        }
    }
    Ok(())
}

type SuiteResult = (Vec<Outcome>, Coverage);

/// `part` of `total` as a whole percentage, rounded down; an empty total is fully covered.
fn percent(part: usize, total: usize) -> usize {
    (part * 100).checked_div(total).unwrap_or(100)
}

/// What one walk through the DAG did, in order.
#[derive(Default)]
struct Walk(Vec<(u32, Option<bool>)>);

impl Trace for Walk {
    fn test(&mut self, node: u32, _predicate: u32, outcome: Option<bool>) {
        self.0.push((node, outcome));
    }
    fn decide(&mut self, _node: u32, _outcome: u32) {}
}

/// What the cases of one suite exercised in its policy's DAG.
struct Coverage {
    /// Every rule id, in artifact order.
    rules: Vec<String>,
    /// Rules that decided some case.
    hit_rules: BTreeSet<String>,
    /// Every test node and every decision node, with a description of each.
    tests: Vec<(u32, String)>,
    decisions: Vec<(u32, String)>,
    /// Branch outcomes the path analysis proved no request can take (when the policy's
    /// source is at hand); they are left out of the branch total.
    infeasible: BTreeSet<(u32, bool)>,
    /// Nodes visited, branch outcomes taken, and tests that faulted.
    seen: BTreeSet<u32>,
    taken: BTreeSet<(u32, bool)>,
    faulted: BTreeSet<u32>,
}

impl Coverage {
    fn new(program: &Program<'_>, compiled: Option<&mcppol_compiler::Compiled>) -> Self {
        let map = compiled.map(|compiled| &compiled.source_map);
        // Only a complete search proves a branch infeasible.
        let infeasible = compiled
            .and_then(|c| mcppol_compiler::analysis::reach_of(&c.bytes, &c.source_map, &c.patterns))
            .filter(|reach| !reach.incomplete)
            .map(|reach| {
                (0..program.node_count())
                    .filter(|&node| matches!(program.node(node), Some(NodeView::Test { .. })))
                    .flat_map(|node| [(node, true), (node, false)])
                    .filter(|branch| !reach.branches.contains(branch))
                    .collect()
            })
            .unwrap_or_default();
        let rules = (0..program.rule_count())
            .filter_map(|index| program.rule(index).map(|rule| rule.id.to_owned()))
            .collect();
        let (mut tests, mut decisions) = (Vec::new(), Vec::new());
        for index in 0..program.node_count() {
            let from = crate::inspect::origins(map, index);
            let from = if from.is_empty() { from } else { format!(" [{from}]") };
            match program.node(index) {
                Some(NodeView::Test { predicate, .. }) => tests.push((
                    index,
                    format!("{}{from}", crate::inspect::describe(program, predicate, map)),
                )),
                Some(NodeView::Decide { outcome }) => decisions.push((
                    index,
                    program.outcome_view(outcome).map_or_else(String::new, |view| {
                        let rule = view
                            .rule
                            .and_then(|rule| program.rule(rule))
                            .map(|rule| format!(" rule={}", rule.id))
                            .unwrap_or_default();
                        format!("{} code={}{rule}", view.effect, view.code)
                    }),
                )),
                None => {}
            }
        }
        Coverage {
            rules,
            hit_rules: BTreeSet::new(),
            tests,
            decisions,
            infeasible,
            seen: BTreeSet::new(),
            taken: BTreeSet::new(),
            faulted: BTreeSet::new(),
        }
    }

    fn record(&mut self, program: &Program<'_>, walk: &Walk, decision: &Decision<'_>) {
        for &(node, outcome) in &walk.0 {
            self.seen.insert(node);
            match outcome {
                Some(branch) => {
                    self.taken.insert((node, branch));
                }
                None => {
                    self.faulted.insert(node);
                }
            }
        }
        // The decision node is the target of the last test's branch (or the entry itself).
        let last = walk.0.last().and_then(|&(node, outcome)| match program.node(node) {
            Some(NodeView::Test { if_true, if_false, .. }) => match outcome {
                Some(true) => Some(if_true),
                Some(false) => Some(if_false),
                None => None,
            },
            _ => None,
        });
        if let Some(node) = last {
            self.seen.insert(node);
        }
        if let Some(rule) = decision.rule {
            self.hit_rules.insert(rule.to_owned());
        }
    }

    fn rules(&self) -> (usize, usize) {
        (self.rules.iter().filter(|rule| self.hit_rules.contains(*rule)).count(), self.rules.len())
    }

    /// Branch outcomes taken, of those some request can take.
    fn branches(&self) -> (usize, usize) {
        (self.taken.len(), (self.tests.len() * 2).saturating_sub(self.infeasible.len()))
    }

    fn nodes(&self) -> (usize, usize) {
        let all = self.tests.iter().chain(&self.decisions);
        (
            all.filter(|(node, _)| self.seen.contains(node)).count(),
            self.tests.len() + self.decisions.len(),
        )
    }

    fn report(&self, suite: &str, out: &mut String) {
        let (rules, rules_total) = self.rules();
        let (nodes, nodes_total) = self.nodes();
        let (branches, branches_total) = self.branches();
        let _ = writeln!(out, "coverage {suite}:");
        let _ = writeln!(
            out,
            "  rules     {rules}/{rules_total} decided a case ({}%)",
            percent(rules, rules_total)
        );
        let _ = writeln!(
            out,
            "  nodes     {nodes}/{nodes_total} visited ({}%)",
            percent(nodes, nodes_total)
        );
        let _ = writeln!(
            out,
            "  branches  {branches}/{branches_total} feasible outcomes taken ({}%); {} proven infeasible; {} test(s) faulted",
            percent(branches, branches_total),
            self.infeasible.len(),
            self.faulted.len()
        );
        for rule in self.rules.iter().filter(|rule| !self.hit_rules.contains(*rule)) {
            let _ = writeln!(out, "  rule never hit: {rule}");
        }
        for (node, text) in self.decisions.iter().filter(|(node, _)| !self.seen.contains(node)) {
            let _ = writeln!(out, "  decision never reached: n{node} {text}");
        }
        for (node, text) in &self.tests {
            let missing: Vec<&str> = [(true, "yes"), (false, "no")]
                .iter()
                .filter(|(branch, _)| !self.taken.contains(&(*node, *branch)))
                .filter(|(branch, _)| !self.infeasible.contains(&(*node, *branch)))
                .map(|(_, name)| *name)
                .collect();
            if !missing.is_empty() {
                let _ =
                    writeln!(out, "  branch never taken: n{node} {} -> {text}", missing.join("+"));
            }
        }
    }

    fn json(&self, suite: &str) -> serde_json::Value {
        let (rules, rules_total) = self.rules();
        let (nodes, nodes_total) = self.nodes();
        let (branches, branches_total) = self.branches();
        let untaken: Vec<serde_json::Value> = self
            .tests
            .iter()
            .flat_map(|(node, text)| {
                [true, false]
                    .into_iter()
                    .filter(|branch| !self.taken.contains(&(*node, *branch)))
                    .filter(|branch| !self.infeasible.contains(&(*node, *branch)))
                    .map(move |branch| serde_json::json!({"node": node, "branch": branch, "test": text}))
            })
            .collect();
        serde_json::json!({
            "coverage": suite,
            "rules": {"covered": rules, "total": rules_total},
            "nodes": {"covered": nodes, "total": nodes_total},
            "branches": {"covered": branches, "total": branches_total, "infeasible": self.infeasible.len()},
            "rules_never_hit": self.rules.iter().filter(|rule| !self.hit_rules.contains(*rule)).collect::<Vec<_>>(),
            "decisions_never_reached": self.decisions.iter().filter(|(node, _)| !self.seen.contains(node)).map(|(node, text)| serde_json::json!({"node": node, "decision": text})).collect::<Vec<_>>(),
            "branches_never_taken": untaken,
        })
    }
}

fn run_suite(file: &Path) -> Result<SuiteResult, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let options = serde_saphyr::options! { strict_booleans: true };
    let suite: Suite = serde_saphyr::from_str_with_options(&text, options)
        .map_err(|e| format!("malformed suite: {}", e.without_snippet()))?;
    if suite.cases.is_empty() {
        return Err("the suite has no cases".to_owned());
    }
    let policy_path = file.parent().unwrap_or(Path::new(".")).join(&suite.policy);
    let loaded = crate::eval::load_with_source(&policy_path, OutputFormat::Human)
        .ok_or_else(|| format!("cannot load policy `{}`", policy_path.display()))?;
    let map = loaded.compiled.as_ref().map(|compiled| &compiled.source_map);
    let program = Program::from_bytes(&loaded.bytes)
        .map_err(|e| format!("`{}` is not a valid artifact: {e}", policy_path.display()))?;
    let mut coverage = Coverage::new(&program, loaded.compiled.as_ref());
    let mut scratch = Box::new(Scratch::new());
    let mut outcomes = Vec::new();
    let suite_name = file.display().to_string();
    for case in &suite.cases {
        let line = usize::try_from(case.referenced.line()).unwrap_or(0);
        let case = &case.value;
        let args_text = match (&case.args, &case.args_json) {
            (Some(_), Some(_)) => {
                return Err(format!("case `{}` has both `args` and `args_json`", case.name));
            }
            (Some(value), None) => value.to_string(),
            (None, Some(raw)) => raw.clone(),
            (None, None) => "{}".to_owned(),
        };
        let principal = case.principal.as_ref();
        let roles: Vec<&str> =
            principal.map(|p| p.roles.iter().map(String::as_str).collect()).unwrap_or_default();
        let request = Request {
            method: case.method.as_deref().unwrap_or("tools/call"),
            server: case.server.as_deref().unwrap_or(""),
            tool: &case.tool,
            principal_id: principal.map_or("", |p| p.id.as_str()),
            principal_roles: &roles,
            args: args_text.as_bytes(),
        };
        let mut walk = Walk::default();
        let decision = program.evaluate_traced(&request, &mut scratch, &mut walk);
        coverage.record(&program, &walk, &decision);
        let mut failures = compare(&case.expect, &decision)?;
        if !failures.is_empty() {
            failures.push(format!("path: {}", path_text(&walk, map)));
        }
        outcomes.push(Outcome {
            suite: suite_name.clone(),
            name: case.name.clone(),
            line,
            failures,
            actual: describe(&decision),
        });
    }
    Ok((outcomes, coverage))
}

/// The walk as `n26 yes, n24 no [rule `x`], ...`, for a failed case.
fn path_text(walk: &Walk, map: Option<&SourceMap>) -> String {
    if walk.0.is_empty() {
        return "(no test ran: the request was refused before any rule)".to_owned();
    }
    let steps: Vec<String> = walk
        .0
        .iter()
        .map(|&(node, outcome)| {
            let result = match outcome {
                Some(true) => "yes",
                Some(false) => "no",
                None => "FAULT",
            };
            let from = crate::inspect::origins(map, node);
            if from.is_empty() {
                format!("n{node} {result}")
            } else {
                format!("n{node} {result} [{from}]")
            }
        })
        .collect();
    steps.join(", ")
}

fn describe(decision: &Decision<'_>) -> String {
    let mut text = format!("{} code={}", decision.effect, decision.code);
    if let Some(rule) = decision.rule {
        let _ = write!(text, " rule={rule}");
    }
    if let Some(check) = decision.check {
        let _ = write!(text, " check={check}");
    }
    text
}

/// What differs between the expectation and the decision; empty when the case passes.
fn compare(expect: &Expectation, decision: &Decision<'_>) -> Result<Vec<String>, String> {
    let (effect, rule, code, check) = match expect {
        Expectation::Decision(effect) => (effect.as_str(), None, None, None),
        Expectation::Full(full) => (
            full.decision.as_str(),
            full.rule.as_deref(),
            full.code.as_deref(),
            full.check.as_deref(),
        ),
    };
    if !["allow", "deny", "require_approval"].contains(&effect) {
        return Err(format!(
            "unknown decision `{effect}` (expected `allow`, `deny` or `require_approval`)"
        ));
    }
    let mut failures = Vec::new();
    if effect != decision.effect.as_str() {
        failures.push(format!("decision: expected {effect}, got {}", decision.effect));
    }
    if let Some(rule) = rule
        && Some(rule) != decision.rule
    {
        failures.push(format!("rule: expected {rule}, got {}", decision.rule.unwrap_or("none")));
    }
    if let Some(code) = code
        && code != decision.code
    {
        failures.push(format!("code: expected {code}, got {}", decision.code));
    }
    if let Some(check) = check
        && Some(check) != decision.check
    {
        failures.push(format!("check: expected {check}, got {}", decision.check.unwrap_or("none")));
    }
    Ok(failures)
}

fn print_human(outcomes: &[Outcome], passed: usize, failed: usize) {
    for outcome in outcomes {
        if outcome.failures.is_empty() {
            println!("PASS {}:{} {}", outcome.suite, outcome.line, outcome.name);
        } else {
            println!("FAIL {}:{} {}", outcome.suite, outcome.line, outcome.name);
            for failure in &outcome.failures {
                println!("     {failure}");
            }
            println!("     actual: {}", outcome.actual);
        }
    }
    println!("result: {passed} passed, {failed} failed");
}

fn print_json(outcomes: &[Outcome], passed: usize, failed: usize) {
    for outcome in outcomes {
        let line = serde_json::json!({
            "suite": outcome.suite,
            "line": outcome.line,
            "name": outcome.name,
            "passed": outcome.failures.is_empty(),
            "failures": outcome.failures,
            "actual": outcome.actual,
        });
        println!("{line}");
    }
    println!("{}", serde_json::json!({ "passed": passed, "failed": failed }));
}

fn junit(outcomes: &[Outcome], failed: usize) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"mcppol\" tests=\"{}\" failures=\"{failed}\">",
        outcomes.len()
    );
    let mut suites: Vec<&str> = outcomes.iter().map(|o| o.suite.as_str()).collect();
    suites.dedup();
    for suite in suites {
        let cases: Vec<&Outcome> = outcomes.iter().filter(|o| o.suite == suite).collect();
        let suite_failed = cases.iter().filter(|o| !o.failures.is_empty()).count();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failed}\">",
            escape(suite),
            cases.len()
        );
        for case in cases {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(suite),
                escape(&case.name)
            );
            if case.failures.is_empty() {
                xml.push_str("/>\n");
            } else {
                let message = case.failures.join("; ");
                let _ = writeln!(
                    xml,
                    ">\n      <failure message=\"{}\">actual: {}</failure>\n    </testcase>",
                    escape(&message),
                    escape(&case.actual)
                );
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
