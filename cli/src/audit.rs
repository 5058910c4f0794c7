//! `mcppol audit verify|query|export`, and the recorder behind `mcppol eval --audit`: the
//! command line's side of the audit trail. The adapter crates own records, chains and stores;
//! this file owns flags, output and exit codes.

use crate::exit;
use clap::{Args, Subcommand, ValueEnum};
use mcppol_adapters_core::audit::{
    ArgsPolicy, AuditError, AuditEvent, AuditReader, AuditSink, Cursor, EventKind, FileReader,
    Query, QueuedSink, Record, SinkOptions, Timestamp, file_sink,
};
use mcppol_adapters_core::canonical;
use mcppol_audit_postgres::{PgConfig, PgReader, postgres_sink};
use mcppol_runtime::{Decision, Request};
use serde::Serialize;
use serde_json::value::RawValue;
use std::path::PathBuf;
use std::time::Duration;

/// Exit codes of `mcppol audit`.
const AUDIT_EXIT_CODES: &str = "\
Exit status:
  0   success: the chain is intact, the query or export is complete
  1   error: a broken chain (the first broken event is named), an unreachable or unreadable
      store, or an export that skipped events whose arguments were not recorded in full
  64  usage error (bad flags or arguments)";

/// Arguments of `mcppol audit`.
#[derive(Debug, Args)]
#[command(after_help = AUDIT_EXIT_CODES)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute every log's hash chain; name the first broken event and exit 1 if there is one.
    #[command(after_help = AUDIT_EXIT_CODES)]
    Verify {
        #[command(flatten)]
        store: Store,
        /// The PostgreSQL schema of the audit table.
        #[arg(long, default_value = "mcppol_audit")]
        schema: String,
    },
    /// List matching events, oldest first (by time, then id), one page at a time.
    #[command(after_help = AUDIT_EXIT_CODES)]
    Query {
        #[command(flatten)]
        store: Store,
        #[command(flatten)]
        filters: Filters,
        /// At most this many events; the cursor of the next page goes to stderr.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = QueryFormat::Human)]
        format: QueryFormat,
    },
    /// Print recorded calls as `mcppol eval --requests` lines, to replay them under a policy.
    /// Only events whose arguments were recorded in full (`--audit-args full`) can be
    /// replayed; the others are counted on stderr and make the exit status 1.
    #[command(after_help = AUDIT_EXIT_CODES)]
    Export {
        #[command(flatten)]
        store: Store,
        #[command(flatten)]
        filters: Filters,
        /// At most this many events [default: all].
        #[arg(long)]
        limit: Option<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
}

/// Where the audit log is.
#[derive(Debug, Args)]
#[group(id = "store", required = true, multiple = false)]
struct Store {
    /// A PostgreSQL URL (`postgres://USER@HOST:PORT/DATABASE`).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// A JSON-lines audit file.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

/// Which events.
#[derive(Debug, Args)]
struct Filters {
    /// The PostgreSQL schema of the audit table.
    #[arg(long, default_value = "mcppol_audit")]
    schema: String,
    /// Events at or after this time (`2026-11-24T10:00:00Z`, `2026-11-24`, or microseconds).
    #[arg(long, value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Events before this time.
    #[arg(long, value_parser = parse_time)]
    until: Option<Timestamp>,
    /// Only this tool.
    #[arg(long)]
    tool: Option<String>,
    /// Only this server.
    #[arg(long)]
    server: Option<String>,
    /// Only this decision.
    #[arg(long, value_parser = ["allow", "deny", "require_approval"])]
    decision: Option<String>,
    /// Only this principal id.
    #[arg(long)]
    principal: Option<String>,
    /// Only this rule id.
    #[arg(long)]
    rule: Option<String>,
    /// Only this risk level.
    #[arg(long, value_parser = ["low", "medium", "high", "critical"])]
    risk: Option<String>,
    /// Only this log (hash chain).
    #[arg(long)]
    log: Option<String>,
    /// Start after this cursor (printed by the previous page).
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum QueryFormat {
    /// A table for people.
    Human,
    /// One event per line, exactly as chained.
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// `mcppol eval --requests` lines.
    Jsonl,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).ok_or_else(|| {
        format!("`{text}` is not a time: write 2026-11-24T10:00:00Z, 2026-11-24 or microseconds")
    })
}

fn fail(error: &AuditError) -> u8 {
    eprintln!("error: {error}");
    exit::ERROR
}

fn open(store: &Store, schema: &str) -> Result<Box<dyn AuditReader>, AuditError> {
    match (&store.postgres, &store.file) {
        (Some(url), _) => {
            let mut config = PgConfig::new(url.clone());
            schema.clone_into(&mut config.schema);
            Ok(Box::new(PgReader::connect(&config)?))
        }
        (None, Some(path)) => Ok(Box::new(FileReader::new(path.clone()))),
        (None, None) => Err(AuditError::new(
            mcppol_adapters_core::audit::ErrorKind::Config,
            "name a store with --postgres or --file",
        )),
    }
}

fn query_of(filters: &Filters, limit: usize) -> Result<Query, AuditError> {
    Ok(Query {
        since: filters.since,
        until: filters.until,
        tool: filters.tool.clone(),
        server: filters.server.clone(),
        decision: filters.decision.clone(),
        principal: filters.principal.clone(),
        rule: filters.rule.clone(),
        risk: filters.risk.clone(),
        kind: None,
        log: filters.log.clone(),
        limit,
        after: filters.after.as_deref().map(Cursor::parse).transpose()?,
    })
}

pub(crate) fn run(args: &AuditArgs) -> u8 {
    let result = match &args.command {
        AuditCommand::Verify { store, schema } => verify(store, schema),
        AuditCommand::Query { store, filters, limit, format } => {
            query(store, filters, *limit, *format)
        }
        AuditCommand::Export { store, filters, limit, format: ExportFormat::Jsonl } => {
            export(store, filters, *limit)
        }
    };
    result.unwrap_or_else(|error| fail(&error))
}

fn verify(store: &Store, schema: &str) -> Result<u8, AuditError> {
    let report = open(store, schema)?.verify()?;
    if let Some(broken) = &report.first_break {
        eprintln!(
            "error: audit chain broken at {broken} [audit.chain_broken]\n  = help: the {} events \
             before it verified; everything from this event on is suspect",
            report.events
        );
        return Ok(exit::ERROR);
    }
    let logs = report.logs.len();
    println!(
        "ok: {} events in {logs} log{} verified, chains intact",
        report.events,
        if logs == 1 { "" } else { "s" }
    );
    for log in &report.logs {
        // The head is what to publish elsewhere: a chain cannot reveal a truncated tail.
        println!(
            "  log `{}`: {} events, head seq {} hash {}",
            log.log, log.events, log.head.seq, log.head.hash
        );
    }
    Ok(exit::OK)
}

fn query(
    store: &Store,
    filters: &Filters,
    limit: usize,
    format: QueryFormat,
) -> Result<u8, AuditError> {
    let page = open(store, &filters.schema)?.query(&query_of(filters, limit)?)?;
    match format {
        QueryFormat::Jsonl => {
            for event in &page.events {
                println!("{}", serde_json::to_string(event).unwrap_or_default());
            }
        }
        QueryFormat::Human => print_table(&page.events),
    }
    if let Some(next) = &page.next {
        eprintln!("next page: --after {next}");
    }
    Ok(exit::OK)
}

fn print_table(events: &[AuditEvent]) {
    let header = [
        "TIME",
        "LOG:SEQ",
        "DECISION",
        "RISK",
        "SERVER",
        "TOOL",
        "PRINCIPAL",
        "RULE",
        "CODE",
        "ID",
    ];
    let rows: Vec<[String; 10]> = events
        .iter()
        .map(|event| {
            [
                event.ts.to_string(),
                format!("{}:{}", event.log, event.seq),
                event.decision.clone(),
                event.risk.clone(),
                event.server.clone(),
                event.tool.clone(),
                event.principal.clone(),
                event.rule.clone().unwrap_or_else(|| "-".to_owned()),
                event.code.clone(),
                event.id.clone(),
            ]
        })
        .collect();
    crate::print_table(&header, &rows, "(no events)");
}

/// One `mcppol eval --requests` line; the field names are that format's.
#[derive(Serialize)]
struct RequestLine<'a> {
    method: &'a str,
    server: &'a str,
    tool: &'a str,
    args: &'a RawValue,
    principal: PrincipalLine<'a>,
}

#[derive(Serialize)]
struct PrincipalLine<'a> {
    id: &'a str,
    roles: &'a [String],
}

fn export(store: &Store, filters: &Filters, limit: Option<usize>) -> Result<u8, AuditError> {
    let mut reader = open(store, &filters.schema)?;
    let mut query = query_of(filters, 1000)?;
    query.kind = Some(EventKind::Decision.as_str().to_owned());
    let (mut exported, mut skipped) = (0usize, 0usize);
    'pages: loop {
        let page = reader.query(&query)?;
        for event in &page.events {
            if limit.is_some_and(|limit| exported + skipped >= limit) {
                break 'pages;
            }
            // The request-line reader takes `args` as raw JSON text, so calls whose bytes were
            // not strict JSON (`raw`, e.g. a duplicate member) replay byte for byte.
            let args = match (&event.args, event.args_mode.as_str()) {
                (Some(args), "full") => RawValue::from_string(canonical::to_canonical(args)).ok(),
                (Some(serde_json::Value::String(text)), "raw") => {
                    RawValue::from_string(text.clone()).ok()
                }
                _ => None,
            };
            let Some(args) = args else {
                skipped += 1;
                continue;
            };
            let line = RequestLine {
                method: &event.method,
                server: &event.server,
                tool: &event.tool,
                args: &args,
                principal: PrincipalLine { id: &event.principal, roles: &event.roles },
            };
            println!("{}", serde_json::to_string(&line).unwrap_or_default());
            exported += 1;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    if skipped > 0 {
        eprintln!(
            "error: {skipped} of {} events not exported: their arguments were not recorded in \
             full [audit.args_not_recorded]\n  = help: record with `--audit-args full` to make \
             calls replayable",
            exported + skipped
        );
        return Ok(exit::ERROR);
    }
    eprintln!("exported {exported} events");
    Ok(exit::OK)
}

/// Flags of `mcppol eval` that record its decisions.
#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// Record every decision in an audit log: a `postgres://` or `postgresql://` URL, or a
    /// JSON-lines file (created if missing, appended to otherwise). A decision that cannot be
    /// recorded makes the exit status 1, whatever was decided.
    #[arg(long, value_name = "FILE_OR_POSTGRES_URL")]
    audit: Option<String>,
    /// How much of each call's arguments to record: `none`, `digest`, `full` (replayable by
    /// `mcppol audit export`), or `redacted:NAME[,NAME…]` (dotted paths replaced). Default:
    /// what the policy's `audit:` section allows, else `digest`. Asking for more than the
    /// policy allows is an error.
    #[arg(long, value_name = "MODE", value_parser = parse_args_policy)]
    audit_args: Option<ArgsPolicy>,
    /// The log (hash chain) to append to.
    #[arg(long, value_name = "NAME", default_value = "default")]
    audit_log: String,
    /// The PostgreSQL schema of the audit table.
    #[arg(long, value_name = "NAME", default_value = "mcppol_audit")]
    audit_schema: String,
    /// A spool file that keeps records while PostgreSQL is unreachable, replayed on the next
    /// run. Without it, records PostgreSQL did not take are reported and the exit status is 1.
    #[arg(long, value_name = "PATH")]
    audit_spool: Option<PathBuf>,
}

/// The argument mode to record with: the one asked for, if the policy allows that much;
/// otherwise the policy's own allowance (or `digest` when the policy does not say).
fn allowed_args(
    asked: Option<&ArgsPolicy>,
    policy: mcppol_runtime::AuditArgs<'_>,
) -> Result<ArgsPolicy, String> {
    use mcppol_runtime::AuditArgs;
    let allowed = match policy {
        AuditArgs::Unstated => return Ok(asked.cloned().unwrap_or_default()),
        AuditArgs::None => ArgsPolicy::None,
        AuditArgs::Digest => ArgsPolicy::Digest,
        AuditArgs::Redacted(list) => ArgsPolicy::Redacted(list.iter().map(str::to_owned).collect()),
        AuditArgs::Full => ArgsPolicy::Full,
    };
    let Some(asked) = asked else { return Ok(allowed) };
    let rank = |mode: &ArgsPolicy| match mode {
        ArgsPolicy::None => 0,
        ArgsPolicy::Digest => 1,
        ArgsPolicy::Redacted(_) => 2,
        ArgsPolicy::Full => 3,
    };
    // Redacting is within the allowance only if it hides at least what the policy hides.
    let hides_enough = match (asked, &allowed) {
        (ArgsPolicy::Redacted(mine), ArgsPolicy::Redacted(theirs)) => {
            theirs.iter().all(|name| mine.contains(name))
        }
        _ => true,
    };
    if rank(asked) <= rank(&allowed) && hides_enough {
        Ok(asked.clone())
    } else {
        Err(format!(
            "the policy lets audit logs keep at most `{}` of the arguments; `--audit-args {}` asks for more",
            describe_args(&allowed),
            describe_args(asked)
        ))
    }
}

fn describe_args(mode: &ArgsPolicy) -> String {
    match mode {
        ArgsPolicy::Redacted(names) => format!("redacted:{}", names.join(",")),
        other => other.mode().to_owned(),
    }
}

fn parse_args_policy(text: &str) -> Result<ArgsPolicy, String> {
    ArgsPolicy::parse(text).ok_or_else(|| {
        format!("`{text}` is not an argument mode: none, digest, full or redacted:NAME[,NAME…]")
    })
}

/// Records `mcppol eval`'s decisions.
#[derive(Debug)]
pub(crate) struct Recorder {
    sink: QueuedSink,
    policy_hash: [u8; 32],
    target: String,
    spool: Option<PathBuf>,
}

impl Recorder {
    /// The recorder the flags ask for, if any; `Err` with an exit code after printing why.
    pub(crate) fn open(
        args: &RecordArgs,
        program: &mcppol_runtime::Program<'_>,
    ) -> Result<Option<Self>, u8> {
        let Some(target) = &args.audit else { return Ok(None) };
        let policy_hash = program.content_hash();
        let args_policy = match allowed_args(args.audit_args.as_ref(), program.audit_args()) {
            Ok(policy) => policy,
            Err(message) => {
                eprintln!("error: {message} [audit.args_not_allowed]");
                return Err(exit::ERROR);
            }
        };
        let options = SinkOptions {
            log: args.audit_log.clone(),
            args: args_policy,
            spool: args.audit_spool.clone(),
            retry_interval: Duration::from_millis(200),
            ..SinkOptions::default()
        };
        let sink = if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            let mut config = PgConfig::new(target.clone());
            config.schema.clone_from(&args.audit_schema);
            config.application_name = "mcppol-eval".to_owned();
            postgres_sink(config, options)
        } else {
            file_sink(target, options)
        };
        let sink = sink.map_err(|error| fail(&error))?;
        let target =
            if target.contains("://") { "PostgreSQL".to_owned() } else { format!("`{target}`") };
        Ok(Some(Recorder { sink, policy_hash, target, spool: args.audit_spool.clone() }))
    }

    /// Enqueues one decision; `false` after printing why it could not be.
    pub(crate) fn record(
        &self,
        request: &Request<'_>,
        decision: &Decision<'_>,
        latency: Duration,
    ) -> bool {
        let record = Record {
            kind: EventKind::Decision,
            policy_hash: self.policy_hash,
            method: request.method.to_owned(),
            server: request.server.to_owned(),
            tool: request.tool.to_owned(),
            principal: request.principal_id.to_owned(),
            roles: request.principal_roles.iter().map(|role| (*role).to_owned()).collect(),
            decision: decision.effect.as_str().to_owned(),
            rule: decision.rule.map(str::to_owned),
            code: decision.code.to_owned(),
            reason: decision.reason.to_owned(),
            risk: decision.risk.as_str().to_owned(),
            latency_ns: u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX),
            approval_id: None,
            args: request.args.to_vec(),
        };
        match self.sink.record(record) {
            Ok(_) => true,
            Err(error) => {
                fail(&error);
                false
            }
        }
    }

    /// Writes everything out; `false` after printing what could not be recorded.
    pub(crate) fn finish(&self) -> bool {
        let report = match self.sink.close() {
            Ok(report) => report,
            Err(error) => {
                fail(&error);
                return false;
            }
        };
        if report.pending == 0 {
            return true;
        }
        let why = report.last_error.map(|error| error.to_string()).unwrap_or_default();
        let kept = match &self.spool {
            Some(spool) => format!(
                "they are kept in the spool `{}` and replayed the next time it is used",
                spool.display()
            ),
            None => "they are lost: pass --audit-spool PATH to keep them for replay".to_owned(),
        };
        eprintln!(
            "error: {} decisions were not recorded in {}: {why}\n  = help: {kept}",
            report.pending, self.target
        );
        false
    }
}
