//! `mcppol lint`: compile policies and report what the path analysis finds (dead, duplicate and
//! conflicting rules, broad allows, tools without rules, a permissive default), for people,
//! machines (JSON lines) or code-scanning tools (SARIF 2.1.0).

use crate::exit;
use clap::{Args, ValueEnum};
use mcppol_compiler::{Diagnostic, Severity};
use std::path::PathBuf;

/// Arguments of `mcppol lint`.
#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Policy YAML files.
    #[arg(required = true)]
    policies: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    format: LintFormat,
    /// Exit 1 when there is any warning, not only on errors (for CI).
    #[arg(long)]
    deny_warnings: bool,
}

/// Output formats of `mcppol lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    /// For people, with source snippets, on stderr.
    Human,
    /// One JSON object per finding, on stdout.
    Json,
    /// One SARIF 2.1.0 log for all files, on stdout.
    Sarif,
}

/// Compiles `policy` and lints it: all diagnostics (errors, or warnings) and the source text.
pub(crate) fn findings(policy: &std::path::Path) -> Result<(Vec<Diagnostic>, String), String> {
    let display = policy.display().to_string();
    let source = std::fs::read_to_string(policy)
        .map_err(|error| format!("cannot read policy `{display}`: {error}"))?;
    let diagnostics = match mcppol_compiler::compile(&source, &display) {
        Ok(compiled) => mcppol_compiler::lint::lint(&compiled, &source, &display),
        Err(errors) => errors,
    };
    Ok((diagnostics, source))
}

pub(crate) fn run(args: &LintArgs) -> u8 {
    let mut all = Vec::new();
    for policy in &args.policies {
        match findings(policy) {
            Ok((diagnostics, source)) => {
                if args.format == LintFormat::Human {
                    for diagnostic in &diagnostics {
                        eprint!("{}", diagnostic.render(&source));
                    }
                }
                all.extend(diagnostics);
            }
            Err(error) => {
                eprintln!("error: {error}");
                return exit::ERROR;
            }
        }
    }
    let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = all.len() - errors;
    match args.format {
        LintFormat::Human => {
            eprintln!(
                "lint: {} file{}, {errors} error{}, {warnings} warning{}",
                args.policies.len(),
                plural(args.policies.len()),
                plural(errors),
                plural(warnings)
            );
        }
        LintFormat::Json => {
            for diagnostic in &all {
                match serde_json::to_string(diagnostic) {
                    Ok(line) => println!("{line}"),
                    Err(error) => eprintln!("error: cannot serialise a diagnostic: {error}"),
                }
            }
        }
        LintFormat::Sarif => println!("{:#}", sarif(&all)),
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) { exit::ERROR } else { exit::OK }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The findings as a SARIF 2.1.0 log, as GitHub code scanning and other tools read it.
fn sarif(diagnostics: &[Diagnostic]) -> serde_json::Value {
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|code| serde_json::json!({ "id": code, "help": { "text": "see docs/assurance.md (lint codes)" } }))
        .collect();
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text = format!("{text} (help: {help})");
            }
            serde_json::json!({
                "ruleId": d.code,
                "level": if d.severity == Severity::Error { "error" } else { "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": d.file },
                        "region": { "startLine": d.line.max(1), "startColumn": d.column.max(1) },
                    }
                }],
            })
        })
        .collect();
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": {
                "name": "mcppol",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
