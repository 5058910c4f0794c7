//! `mcppol diff OLD NEW`: which requests change decision between two policies, exactly where
//! the DAGs allow it (with a checked witness request per changed region), and, with
//! `--requests`, every recorded request whose decision changes.

use crate::{Format, exit};
use clap::Args;
use mcppol_compiler::diff::{self, Verdict};
use mcppol_runtime::{Program, Scratch};
use std::path::{Path, PathBuf};

/// Arguments of `mcppol diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The old policy: YAML, or an artifact with its YAML beside it.
    old: PathBuf,
    /// The new policy: YAML, or an artifact with its YAML beside it.
    new: PathBuf,
    /// Also replay a JSON-lines request log (as `mcppol eval --requests` reads, e.g. an audit
    /// export) against both and list every request whose decision changes.
    #[arg(long, value_name = "FILE.jsonl")]
    requests: Option<PathBuf>,
    /// Also list regions where only the deciding rule or reason code changed.
    #[arg(long)]
    all: bool,
    /// Exit 1 when any decision changes (like `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

fn compiled(path: &Path) -> Option<(Vec<u8>, Option<mcppol_compiler::Compiled>)> {
    let loaded = crate::eval::load_with_source(path, Format::Human)?;
    Some((loaded.bytes, loaded.compiled))
}

pub(crate) fn run(args: &DiffArgs) -> u8 {
    let (Some((old_bytes, old)), Some((new_bytes, new))) =
        (compiled(&args.old), compiled(&args.new))
    else {
        return exit::ERROR;
    };
    let (old_program, new_program) =
        match (Program::from_bytes(&old_bytes), Program::from_bytes(&new_bytes)) {
            (Ok(old), Ok(new)) => (old, new),
            (Err(error), _) | (_, Err(error)) => {
                eprintln!("error: not a valid artifact: {error} [{}]", error.code());
                return exit::ERROR;
            }
        };
    let mut changed = false;

    match (&old, &new) {
        (Some(old), Some(new)) => {
            let report = diff::diff(old, new);
            let shown: Vec<&diff::Change> =
                report.changes.iter().filter(|c| args.all || c.effect_changed()).collect();
            changed |= report.changes.iter().any(diff::Change::effect_changed);
            print_regions(&shown, report.incomplete, args.format);
        }
        _ => eprintln!(
            "note: the semantic diff needs each artifact's YAML beside it (the source it records); only --requests replay is possible"
        ),
    }

    if let Some(path) = &args.requests {
        match replay(&old_program, &new_program, path, args.format) {
            Ok(any) => changed |= any,
            Err(error) => {
                eprintln!("error: {error}");
                return exit::ERROR;
            }
        }
    }
    if args.exit_code && changed { exit::ERROR } else { exit::OK }
}

fn print_regions(changes: &[&diff::Change], incomplete: bool, format: Format) {
    for change in changes {
        let tool = change.tool.as_deref().unwrap_or("<any tool neither policy names>");
        let witness = change.witness.as_ref().map(|w| w.to_json());
        match format {
            Format::Human => {
                println!("~ {tool}: {} -> {}  ({} path(s))", change.old, change.new, change.paths);
                match &witness {
                    Some(witness) => println!("    e.g. {}", shorten(witness.clone())),
                    None => println!(
                        "    (no witness found: the analysis over-approximates, so the region may be empty, or it needs values it cannot build, such as particular SQL or URLs)"
                    ),
                }
            }
            Format::Json => println!(
                "{}",
                serde_json::json!({
                    "tool": change.tool,
                    "old": verdict_json(&change.old),
                    "new": verdict_json(&change.new),
                    "paths": change.paths,
                    "witness": witness,
                })
            ),
        }
    }
    let effects = changes.iter().filter(|c| c.effect_changed()).count();
    match format {
        Format::Human => {
            println!("{effects} region(s) change effect, {} shown", changes.len());
            if incomplete {
                println!("warning: the analysis stopped at its budget; there may be more changes");
            }
        }
        Format::Json => println!(
            "{}",
            serde_json::json!({"regions": changes.len(), "effect_changes": effects, "complete": !incomplete})
        ),
    }
}

fn verdict_json(verdict: &Verdict) -> serde_json::Value {
    serde_json::json!({"decision": verdict.effect, "rule": verdict.rule, "code": verdict.code})
}

/// Replays a request log against both programs; `Ok(true)` if any effect changed.
fn replay(
    old: &Program<'_>,
    new: &Program<'_>,
    path: &Path,
    format: Format,
) -> Result<bool, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    let mut scratch = Box::new(Scratch::new());
    let (mut total, mut changed) = (0usize, 0usize);
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let request = crate::eval::parse_request_line(line)
            .map_err(|error| format!("{}:{number}: malformed request: {error}", path.display()))?;
        total += 1;
        let before = request.decide(old, &mut scratch);
        let after = request.decide(new, &mut scratch);
        if before.effect != after.effect {
            changed += 1;
            match format {
                Format::Human => println!(
                    "{}:{number}: {}: {} -> {}",
                    path.display(),
                    request.tool,
                    before,
                    after
                ),
                Format::Json => println!(
                    "{}",
                    serde_json::json!({
                        "line": number,
                        "tool": request.tool,
                        "old": verdict_json(&before),
                        "new": verdict_json(&after),
                    })
                ),
            }
        }
    }
    match format {
        Format::Human => println!("replayed {total} request(s): {changed} change decision"),
        Format::Json => println!("{}", serde_json::json!({"replayed": total, "changed": changed})),
    }
    Ok(changed > 0)
}

/// The witness with long strings cut for people (`--format json` keeps them whole).
fn shorten(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::String(text) if text.chars().count() > 72 => {
            let head: String = text.chars().take(40).collect();
            serde_json::Value::String(format!("{head}… ({} characters)", text.chars().count()))
        }
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().map(|(k, v)| (k, shorten(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(shorten).collect())
        }
        other => other,
    }
}
