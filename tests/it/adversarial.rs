//! The adversarial corpus: every `tests/corpus/default/*.jsonl` line is one request and the
//! decision the shipped production policy (`policies/default.mcpb`) must give it.
//!
//! The promise under test is that an agent, or a prompt injection steering it, cannot talk its
//! way past a rule by spelling the same dangerous argument differently, and that ordinary calls
//! still work. A line is
//!
//! ```text
//! {"tool": "fs.read", "args": {...}, "expect": "deny", "code": "path.nul", "rule": "fs-secrets",
//!  "note": "why this case exists"}
//! ```
//!
//! with `code` and `rule` optional (checked exactly when given), `note` required, and the
//! optional `method`, `server` and `principal: {"id", "roles"}` of `mcppol eval --requests`.
//! `args` is required and reaches the runtime as the raw bytes it has in the line (through
//! `RawValue`, as the CLI and a gateway pass it), so escapes, duplicate keys and odd numbers
//! arrive unchanged; `"args": null` is the JSON text `null`, not "no arguments".
//!
//! Every case is decided by the runtime on the artifact and by the reference evaluator on the
//! YAML (`support::decide` requires them to agree). The test fails with the list of every
//! mismatching case, never at the first one; a malformed line is a failure, never a skip.
//! A case expecting `deny` is an attack; any other is benign, and a benign case that is denied
//! is a false positive. `cargo test -p mcppol-tests adversarial -- --nocapture` prints the
//! counts per file.

use crate::support::{self, Outcome};
use mcppol_compiler::Compiled;
use mcppol_runtime::{Effect, Program, Request};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The corpus must keep at least this many cases ...
const MIN_CASES: usize = 300;
/// ... and at least this many benign ones, so that a policy that denies everything fails.
const MIN_BENIGN: usize = 60;
/// The families the corpus is organised in; each file must exist.
const FAMILIES: &[&str] = &["benign", "json", "paths", "sql", "urls"];

/// One corpus line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLine<'a> {
    tool: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    principal: Option<PrincipalLine>,
    #[serde(borrow)]
    args: &'a RawValue,
    expect: Expect,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    note: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalLine {
    #[serde(default)]
    id: String,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Allow,
    Deny,
    RequireApproval,
}

impl Expect {
    fn effect(self) -> Effect {
        match self {
            Expect::Allow => Effect::Allow,
            Expect::Deny => Effect::Deny,
            Expect::RequireApproval => Effect::RequireApproval,
        }
    }
}

/// The shipped default policy: the reference evaluator reads the YAML, the runtime the checked-in
/// artifact bytes. The second value says that the artifact is stale (the cases still run on it).
pub(crate) fn default_policy() -> (Compiled, Option<String>) {
    let yaml_path = support::root().join("policies").join("default.yaml");
    let source = std::fs::read_to_string(&yaml_path).expect("policies/default.yaml is readable");
    // The artifact records the policy's file name, so compile under the same one.
    let mut compiled = mcppol_compiler::compile(&source, "default.yaml").unwrap_or_else(|errors| {
        let text: String = errors.iter().map(|d| d.render(&source)).collect();
        panic!("policies/default.yaml does not compile:\n{text}")
    });
    let artifact = std::fs::read(yaml_path.with_extension("mcpb")).expect("default.mcpb exists");
    if let Err(error) = Program::from_bytes(&artifact) {
        panic!("policies/default.mcpb does not verify: {error} [{}]", error.code());
    }
    let stale = (artifact != compiled.bytes).then(|| {
        "policies/default.mcpb differs from compiling policies/default.yaml: the artifact is \
         stale (run `mcppol compile policies/default.yaml`); cases ran on the artifact"
            .to_owned()
    });
    compiled.bytes = artifact;
    (compiled, stale)
}

/// Counts for one file (or the total).
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    cases: usize,
    attacks: usize,
    attacks_denied: usize,
    benign: usize,
    benign_passed: usize,
    exact: usize,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.cases += other.cases;
        self.attacks += other.attacks;
        self.attacks_denied += other.attacks_denied;
        self.benign += other.benign;
        self.benign_passed += other.benign_passed;
        self.exact += other.exact;
    }

    fn row(&self, name: &str) -> String {
        format!(
            "{name:<14} {:>5} cases  {:>4}/{:<4} attacks denied  {:>4}/{:<4} benign allowed or \
             approved ({} false positives)  {:>4}/{:<4} exactly as expected",
            self.cases,
            self.attacks_denied,
            self.attacks,
            self.benign_passed,
            self.benign,
            self.benign - self.benign_passed,
            self.exact,
            self.cases,
        )
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = support::root().join("tests").join("corpus").join("default");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    files
}

fn describe(outcome: &Outcome) -> String {
    let mut text = outcome.effect.as_str().to_owned();
    if let Some(rule) = &outcome.rule {
        let _ = write!(text, " rule={rule}");
    }
    let _ = write!(text, " code={}", outcome.code);
    text
}

fn describe_expected(case: &CaseLine<'_>) -> String {
    let mut text = case.expect.effect().as_str().to_owned();
    if let Some(rule) = &case.rule {
        let _ = write!(text, " rule={rule}");
    }
    if let Some(code) = &case.code {
        let _ = write!(text, " code={code}");
    }
    text
}

/// The request text for messages, cut to a readable length.
fn shorten(text: &str) -> String {
    const MAX: usize = 160;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX).collect();
    format!("{head}... ({} bytes)", text.len())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Decides one parsed line; `Err` when evaluation panicked (for example because the runtime
/// and the reference evaluator disagree).
fn decide(compiled: &Compiled, case: &CaseLine<'_>) -> Result<Outcome, String> {
    let principal = case.principal.as_ref();
    let roles: Vec<&str> =
        principal.map(|p| p.roles.iter().map(String::as_str).collect()).unwrap_or_default();
    let request = Request {
        method: case.method.as_deref().unwrap_or("tools/call"),
        server: case.server.as_deref().unwrap_or(""),
        tool: &case.tool,
        principal_id: principal.map_or("", |p| p.id.as_str()),
        principal_roles: &roles,
        args: case.args.get().as_bytes(),
    };
    catch_unwind(AssertUnwindSafe(|| support::decide(compiled, &request)))
        .map_err(|payload| format!("evaluation failed: {}", panic_message(payload.as_ref())))
}

/// True if `outcome` is what the line expects: the effect, and the code and rule when given.
fn matches(case: &CaseLine<'_>, outcome: &Outcome) -> bool {
    outcome.effect == case.expect.effect()
        && case.code.as_ref().is_none_or(|code| *code == outcome.code)
        && (case.rule.is_none() || case.rule == outcome.rule)
}

/// Parses a line strictly; `Err` says why it is malformed.
fn parse_line(line: &str) -> Result<CaseLine<'_>, String> {
    let case: CaseLine<'_> = serde_json::from_str(line).map_err(|error| error.to_string())?;
    if case.note.trim().is_empty() {
        return Err("`note` is empty: say why the case exists".to_owned());
    }
    if case.tool.is_empty() {
        return Err("`tool` is empty".to_owned());
    }
    if case.rule.is_some() && case.code.as_deref().is_some_and(|code| code != "policy.rule") {
        return Err("a case naming a `rule` can only have code `policy.rule`".to_owned());
    }
    Ok(case)
}

#[test]
fn default_policy_holds_against_the_adversarial_corpus() {
    let (compiled, stale) = default_policy();
    let files = corpus_files();
    let mut problems: Vec<String> = stale.into_iter().collect();
    for family in FAMILIES {
        let name = format!("{family}.jsonl");
        if !files.iter().any(|path| path.file_name().is_some_and(|file| file == name.as_str())) {
            problems.push(format!("tests/corpus/default/{name} is missing"));
        }
    }

    let mut rows = Vec::new();
    let mut total = Tally::default();
    let mut seen = BTreeMap::new();
    for path in &files {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("?").to_owned();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", path.display()));
        let mut tally = Tally::default();
        for (index, line) in text.lines().enumerate() {
            let at = format!("{name}:{}", index + 1);
            let case = match parse_line(line) {
                Ok(case) => case,
                Err(why) => {
                    problems.push(format!("{at}: malformed corpus line: {why}"));
                    continue;
                }
            };
            let identity = (
                case.tool.clone(),
                case.method.clone(),
                case.server.clone(),
                case.principal.as_ref().map(|p| (p.id.clone(), p.roles.clone())),
                case.args.get().to_owned(),
            );
            if let Some(first) = seen.get(&identity) {
                problems.push(format!("{at}: malformed corpus line: the same request as {first}"));
                continue;
            }
            seen.insert(identity, at.clone());

            tally.cases += 1;
            let attack = case.expect == Expect::Deny;
            if attack {
                tally.attacks += 1;
            } else {
                tally.benign += 1;
            }
            // The tool is shown escaped: it may hold control characters; the args are JSON text.
            let request = format!(
                "{} {}",
                shorten(&case.tool.escape_debug().to_string()),
                shorten(case.args.get())
            );
            let outcome = match decide(&compiled, &case) {
                Ok(outcome) => outcome,
                Err(failure) => {
                    problems
                        .push(format!("{at}: {request}\n    note: {}\n    {failure}", case.note));
                    continue;
                }
            };
            if matches(&case, &outcome) {
                tally.exact += 1;
            } else {
                problems.push(format!(
                    "{at}: {request}\n    note: {}\n    expected {}, got {}",
                    case.note,
                    describe_expected(&case),
                    describe(&outcome)
                ));
            }
            match (attack, outcome.effect) {
                (true, Effect::Deny) => tally.attacks_denied += 1,
                (false, Effect::Allow | Effect::RequireApproval) => tally.benign_passed += 1,
                _ => {}
            }
        }
        rows.push(tally.row(&name));
        total.add(tally);
    }
    rows.push(total.row("total"));

    eprintln!("adversarial corpus against policies/default.mcpb:");
    for row in &rows {
        eprintln!("  {row}");
    }
    eprintln!(
        "  attacks denied: {}/{}; benign allowed or approved: {}/{}; false positives: {}",
        total.attacks_denied,
        total.attacks,
        total.benign_passed,
        total.benign,
        total.benign - total.benign_passed
    );

    if total.cases < MIN_CASES {
        problems.push(format!("the corpus has {} cases, fewer than {MIN_CASES}", total.cases));
    }
    if total.benign < MIN_BENIGN {
        problems
            .push(format!("the corpus has {} benign cases, fewer than {MIN_BENIGN}", total.benign));
    }
    if !problems.is_empty() {
        panic!(
            "{} problem(s) with the adversarial corpus (tests/corpus/default):\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}

/// The corpus directory holds only `.jsonl` files, so a misnamed file cannot be silently skipped.
#[test]
fn corpus_directory_holds_only_jsonl_files() {
    let dir = support::root().join("tests").join("corpus").join("default");
    let strays: Vec<String> = std::fs::read_dir(&dir)
        .expect("the corpus directory is readable")
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path: &PathBuf| path.extension().is_none_or(|ext| ext != "jsonl"))
        .map(|path| display_relative(&path))
        .collect();
    assert!(strays.is_empty(), "files the corpus test would not read: {strays:?}");
}

fn display_relative(path: &Path) -> String {
    path.strip_prefix(support::root()).unwrap_or(path).display().to_string()
}
