//! The `mcppol` command: compile policies, check artifacts in CI, evaluate requests, inspect
//! artifacts. The library crates own the logic; this file owns I/O, formats and exit codes.

mod approvals;
mod audit;
mod diff;
mod eval;
mod explain;
mod inspect;
mod lint;
mod test;

use clap::{Parser, Subcommand, ValueEnum};
use mcppol_compiler::Diagnostic;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes, a documented contract (also in `--help`).
pub(crate) mod exit {
    /// Success; for a single `eval`, the decision was allow.
    pub const OK: u8 = 0;
    /// An error: invalid policy, stale or unreadable artifact, I/O failure, malformed request.
    pub const ERROR: u8 = 1;
    /// A single `eval` decided deny.
    pub const DENY: u8 = 2;
    /// A single `eval` decided require_approval.
    pub const REQUIRE_APPROVAL: u8 = 3;
    /// The command line was malformed (sysexits EX_USAGE).
    pub const USAGE: u8 = 64;
}

const EXIT_CODES: &str = "\
Exit status:
  0   success; for a single `eval`, the decision is allow; for `test`, every case passed;
      for `lint`, no error (and no warning with --deny-warnings)
  1   error: invalid policy, missing or stale artifact, unreadable file, malformed request,
      a failed `test` case, a lint warning under --deny-warnings, or (with `diff
      --exit-code`) a changed decision
  2   a single `eval` (or `explain`) decided deny
  3   a single `eval` (or `explain`) decided require_approval
  64  usage error (bad flags or arguments)";

/// Compile MCP gateway policies into verified decision-DAG artifacts, and evaluate requests.
#[derive(Debug, Parser)]
#[command(name = "mcppol", version, after_help = EXIT_CODES, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Human,
    /// One JSON object per line, for machines.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a policy to an artifact (`POLICY.mcpb` next to it by default).
    #[command(after_help = EXIT_CODES)]
    Compile {
        /// The policy YAML file.
        policy: PathBuf,
        /// Where to write the artifact [default: the policy path with extension `.mcpb`].
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Do not write: fail if the artifact is missing or differs from a fresh compile.
        #[arg(long)]
        check: bool,
        /// Diagnostic format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Fail (exit 1, nothing written) when lint finds any warning.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Decide one request or a file of requests.
    #[command(after_help = EXIT_CODES)]
    Eval(eval::EvalArgs),
    /// Decide one request and show every test on the way, the decision and its YAML rule.
    #[command(after_help = EXIT_CODES)]
    Explain(explain::ExplainArgs),
    /// Show which requests change decision between two policies, with a witness for each.
    #[command(after_help = EXIT_CODES)]
    Diff(diff::DiffArgs),
    /// Find dead, duplicate and conflicting rules, broad allows and other policy smells.
    #[command(after_help = EXIT_CODES)]
    Lint(lint::LintArgs),
    /// Print the JSON Schema of the policy YAML (for editors: yaml-language-server).
    #[command(after_help = EXIT_CODES)]
    Schema,
    /// Rewrite `when:` conditions in canonical form, in place (or only check with --check).
    #[command(after_help = EXIT_CODES)]
    Fmt {
        /// Policy YAML files.
        #[arg(required = true)]
        policies: Vec<PathBuf>,
        /// Do not write: exit 1 if any file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Run policy fixture suites (`*.cases.yaml`): exit 0 when every case passes, 1 otherwise.
    #[command(after_help = EXIT_CODES)]
    Test(test::TestArgs),
    /// Verify, query and export audit logs (`mcppol eval --audit` writes them).
    Audit(audit::AuditArgs),
    /// List, show, approve and deny human approvals in Redis; open or use one for a call.
    Approvals(approvals::ApprovalsArgs),
    /// List an artifact's DAG, tables and hash, or draw it with `--dot`.
    #[command(after_help = EXIT_CODES)]
    Inspect {
        /// The artifact (`.mcpb`) or a policy YAML file (compiled in memory).
        artifact: PathBuf,
        /// Print a Graphviz picture of the DAG instead.
        #[arg(long)]
        dot: bool,
    },
}

fn main() -> ExitCode {
    // `mcppol ... | head` closes stdout early; like other Unix tools, stop quietly then
    // instead of reporting a panic (`println!` panics on a closed pipe).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(exit::ERROR));
        }
        default_hook(info);
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Compile { policy, out, check, format, deny_warnings } => {
            compile(&policy, out, check, format, deny_warnings)
        }
        Command::Lint(args) => lint::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Schema => {
            println!("{}", mcppol_compiler::POLICY_SCHEMA.trim_end());
            exit::OK
        }
        Command::Fmt { policies, check } => fmt(&policies, check),
        Command::Eval(args) => eval::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Inspect { artifact, dot } => inspect::run(&artifact, dot),
        Command::Audit(args) => audit::run(&args),
        Command::Approvals(args) => approvals::run(&args),
    };
    ExitCode::from(code)
}

/// Prints diagnostics in the chosen format to stderr (human) or stdout (json).
pub(crate) fn report(diagnostics: &[Diagnostic], source: &str, format: Format) {
    for diagnostic in diagnostics {
        match format {
            Format::Human => eprint!("{}", diagnostic.render(source)),
            Format::Json => match serde_json::to_string(diagnostic) {
                Ok(line) => println!("{line}"),
                Err(error) => eprintln!("error: cannot serialise a diagnostic: {error}"),
            },
        }
    }
}

/// Reads and compiles a policy, reporting diagnostics. `None` after reporting an error.
pub(crate) fn compile_file(policy: &Path, format: Format) -> Option<mcppol_compiler::Compiled> {
    let display = policy.display().to_string();
    let source = match std::fs::read_to_string(policy) {
        Ok(source) => source,
        Err(error) => {
            eprintln!("error: cannot read policy `{display}`: {error}");
            return None;
        }
    };
    match mcppol_compiler::compile(&source, &display) {
        Ok(compiled) => Some(compiled),
        Err(diagnostics) => {
            report(&diagnostics, &source, format);
            let errors = diagnostics.len();
            eprintln!(
                "error: `{display}` has {errors} error{}",
                if errors == 1 { "" } else { "s" }
            );
            None
        }
    }
}

fn compile(
    policy: &Path,
    out: Option<PathBuf>,
    check: bool,
    format: Format,
    deny_warnings: bool,
) -> u8 {
    let Some(compiled) = compile_file(policy, format) else {
        return exit::ERROR;
    };
    // Lint runs on every compile: warnings never block unless asked to.
    let source = std::fs::read_to_string(policy).unwrap_or_default();
    let warnings = mcppol_compiler::lint::lint(&compiled, &source, &policy.display().to_string());
    report(&warnings, &source, format);
    if deny_warnings && !warnings.is_empty() {
        eprintln!(
            "error: `{}` has {} lint warning{} and --deny-warnings is set",
            policy.display(),
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" }
        );
        return exit::ERROR;
    }
    let out = out.unwrap_or_else(|| policy.with_extension("mcpb"));
    if check {
        return match std::fs::read(&out) {
            Ok(existing) if existing == compiled.bytes => {
                eprintln!("ok: `{}` is up to date with `{}`", out.display(), policy.display());
                exit::OK
            }
            Ok(_) => {
                eprintln!(
                    "error: `{}` is stale: it differs from a fresh compile of `{}`\n  = help: run `mcppol compile {}` and commit the result",
                    out.display(),
                    policy.display(),
                    policy.display()
                );
                exit::ERROR
            }
            Err(error) => {
                eprintln!(
                    "error: cannot read artifact `{}`: {error}\n  = help: run `mcppol compile {}` and commit the result",
                    out.display(),
                    policy.display()
                );
                exit::ERROR
            }
        };
    }
    // Write to a temporary file and rename, so a reader never sees half an artifact.
    let temporary = out.with_extension("mcpb.tmp");
    let written = std::fs::write(&temporary, &compiled.bytes)
        .and_then(|()| std::fs::rename(&temporary, &out));
    match written {
        Ok(()) => {
            let hash = hex(&mcppol_runtime::Program::from_bytes(&compiled.bytes)
                .map_or([0; 32], |p| p.content_hash()));
            eprintln!(
                "compiled `{}` -> `{}` ({} bytes, {} rules, sha256 {})",
                policy.display(),
                out.display(),
                compiled.bytes.len(),
                compiled.policy.rules.len(),
                hash
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("error: cannot write `{}`: {error}", out.display());
            exit::ERROR
        }
    }
}

fn fmt(policies: &[PathBuf], check: bool) -> u8 {
    let mut code = exit::OK;
    for policy in policies {
        let display = policy.display().to_string();
        let source = match std::fs::read_to_string(policy) {
            Ok(source) => source,
            Err(error) => {
                eprintln!("error: cannot read `{display}`: {error}");
                code = exit::ERROR;
                continue;
            }
        };
        let formatted = match mcppol_compiler::fmt::format(&source, &display) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                report(&diagnostics, &source, Format::Human);
                code = exit::ERROR;
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        if check {
            eprintln!("error: `{display}` is not formatted\n  = help: run `mcppol fmt {display}`");
            code = exit::ERROR;
            continue;
        }
        let temporary = policy.with_extension("yaml.tmp");
        let written = std::fs::write(&temporary, &formatted)
            .and_then(|()| std::fs::rename(&temporary, policy));
        match written {
            Ok(()) => eprintln!("formatted `{display}`"),
            Err(error) => {
                eprintln!("error: cannot write `{display}`: {error}");
                code = exit::ERROR;
            }
        }
    }
    code
}

/// Prints `rows` under `header` in left-aligned columns two spaces apart (`empty` when there
/// are no rows): the human table of `audit query` and `approvals list`.
pub(crate) fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]], empty: &str) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> =
            cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(&header.map(str::to_owned));
    for row in rows {
        line(row);
    }
    if rows.is_empty() {
        println!("{empty}");
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
