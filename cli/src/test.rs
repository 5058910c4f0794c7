//! `mcppol test`: run policy fixture suites (`*.cases.yaml`) and report per case, with rule
//! coverage, for people (human), machines (json lines) or CI systems (JUnit XML).
//!
//! A suite names the policy it tests (relative to the suite file) and lists cases; each case is
//! a request, as in `mcppol eval --requests`, and the expected decision, optionally pinned to a
//! rule id, a reason code and the failed check. A malformed suite or a missing policy is an
//! error, never a skipped suite.

use crate::{Format as OutputFormat, exit};
use clap::{Args, ValueEnum};
use mcppol_runtime::{Decision, Program, Request, Scratch};
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
    /// Report which rules the cases exercised, and which they never reached.
    #[arg(long)]
    coverage: bool,
    /// Fail unless at least this percentage of each policy's rules decided some case.
    #[arg(long, value_name = "PERCENT")]
    min_coverage: Option<u32>,
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
    for file in &files {
        match run_suite(file) {
            Ok((mut suite_outcomes, rules, hit)) => {
                let total = rules.len();
                let covered = rules.iter().filter(|rule| hit.contains(*rule)).count();
                let percent = (covered * 100).checked_div(total).unwrap_or(100);
                if args.coverage {
                    let _ = writeln!(
                        coverage_report,
                        "coverage {}: {covered}/{total} rules decided a case ({percent}%)",
                        file.display()
                    );
                    for rule in rules.iter().filter(|rule| !hit.contains(*rule)) {
                        let _ = writeln!(coverage_report, "  never decided: {rule}");
                    }
                }
                if args.min_coverage.is_some_and(|min| percent < min as usize) {
                    coverage_failed = true;
                    let _ = writeln!(
                        coverage_report,
                        "error: {} covers {percent}% of its rules, below --min-coverage {}",
                        file.display(),
                        args.min_coverage.unwrap_or(0)
                    );
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
        TestFormat::Json => print_json(&outcomes, passed, failed),
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

type SuiteResult = (Vec<Outcome>, Vec<String>, BTreeSet<String>);

fn run_suite(file: &Path) -> Result<SuiteResult, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let options = serde_saphyr::options! { strict_booleans: true };
    let suite: Suite = serde_saphyr::from_str_with_options(&text, options)
        .map_err(|e| format!("malformed suite: {}", e.without_snippet()))?;
    if suite.cases.is_empty() {
        return Err("the suite has no cases".to_owned());
    }
    let policy_path = file.parent().unwrap_or(Path::new(".")).join(&suite.policy);
    let bytes = crate::eval::load(&policy_path, OutputFormat::Human)
        .ok_or_else(|| format!("cannot load policy `{}`", policy_path.display()))?;
    let program = Program::from_bytes(&bytes)
        .map_err(|e| format!("`{}` is not a valid artifact: {e}", policy_path.display()))?;
    let rules: Vec<String> = (0..program.rule_count())
        .filter_map(|index| program.rule(index).map(|rule| rule.id.to_owned()))
        .collect();
    let mut hit = BTreeSet::new();
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
        let decision = program.evaluate(&request, &mut scratch);
        if let Some(rule) = decision.rule {
            hit.insert(rule.to_owned());
        }
        outcomes.push(Outcome {
            suite: suite_name.clone(),
            name: case.name.clone(),
            line,
            failures: compare(&case.expect, &decision)?,
            actual: describe(&decision),
        });
    }
    Ok((outcomes, rules, hit))
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
