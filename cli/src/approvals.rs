//! `mcppol approvals list|show|approve|deny|request|consume|sweep`: the approvers' side of
//! human approvals against Redis, plus `request` and `consume`, which evaluate a call exactly as
//! a gateway would and open or use an approval, so the whole flow runs without a gateway. The
//! adapter crates own the semantics; this file owns flags, output and exit codes.

use crate::eval::CallArgs;
use crate::{Format, exit};
use clap::{Args, Subcommand};
use mcppol_adapters_core::approval::{
    ApprovalError, ApprovalRequest, ApprovalStore, Call, Hooks, PayloadFormat, SystemClock,
    WebhookConfig, WebhookNotifier, format_ms,
};
use mcppol_adapters_core::audit::{ArgsPolicy, AuditSink, QueuedSink, SinkOptions, file_sink};
use mcppol_approvals_redis::{RedisConfig, RedisStore};
use mcppol_audit_postgres::{PgConfig, postgres_sink};
use mcppol_runtime::{Effect, Program, Request, Scratch};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const APPROVALS_EXIT_CODES: &str = "\
Exit status:
  0   success; for `consume`, the call is allowed (approval used, or none needed)
  1   error: Redis unreachable or too slow (admin commands), unknown id, a request no longer
      pending, an unreadable policy, an event the audit log did not take
  2   `consume`: the call is denied (the reason code says why, `approval.unavailable`
      included); `request`: the policy denies the call outright
  3   `request`: the policy requires approval and a request was opened
  64  usage error (bad flags or arguments)";

/// Arguments of `mcppol approvals`.
#[derive(Debug, Args)]
#[command(after_help = APPROVALS_EXIT_CODES)]
pub(crate) struct ApprovalsArgs {
    #[command(subcommand)]
    command: ApprovalsCommand,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where the approvals are, and where their events go.
#[derive(Debug, Args)]
struct StoreArgs {
    /// The Redis URL [default: `MCPPOL_REDIS_URL`, else redis://127.0.0.1:6379/].
    #[arg(long, global = true, value_name = "URL")]
    redis: Option<String>,
    /// The key prefix.
    #[arg(long, global = true, default_value = mcppol_approvals_redis::DEFAULT_PREFIX)]
    prefix: String,
    /// How long one store call may take, in milliseconds.
    #[arg(long, global = true, default_value_t = 1000)]
    timeout_ms: u64,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Record every state change in an audit log: a `postgres://` URL or a JSON-lines file.
    #[arg(long, global = true, value_name = "FILE_OR_POSTGRES_URL")]
    audit: Option<String>,
    /// The audit log (hash chain) to append to.
    #[arg(long, global = true, value_name = "NAME", default_value = "default")]
    audit_log: String,
}

#[derive(Debug, Subcommand)]
enum ApprovalsCommand {
    /// List open (pending or approved) requests, soonest expiry first; expires overdue ones.
    #[command(after_help = APPROVALS_EXIT_CODES)]
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show one request: the call, who asked, why, its state and history.
    #[command(after_help = APPROVALS_EXIT_CODES)]
    Show {
        /// The approval id.
        id: String,
    },
    /// Approve a pending request: its token then lifts the requirement once, for that call.
    #[command(after_help = APPROVALS_EXIT_CODES)]
    Approve {
        /// The approval id.
        id: String,
        /// Who approves [default: `$USER`].
        #[arg(long)]
        by: Option<String>,
    },
    /// Deny a pending request.
    #[command(after_help = APPROVALS_EXIT_CODES)]
    Deny {
        /// The approval id.
        id: String,
        /// Why (shown to the caller and recorded).
        #[arg(long)]
        reason: String,
        /// Who denies [default: `$USER`].
        #[arg(long)]
        by: Option<String>,
    },
    /// Evaluate a call; when the policy requires approval, open a request and print its id
    /// and token (the token is shown once).
    #[command(after_help = APPROVALS_EXIT_CODES)]
    Request {
        #[command(flatten)]
        call: CallArgs,
        /// How long the request stays open, in seconds.
        #[arg(long, default_value_t = 900)]
        ttl: u64,
        /// POST the new request to this webhook (secret from `MCPPOL_WEBHOOK_SECRET`).
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// Send a Slack-compatible payload.
        #[arg(long, requires = "webhook")]
        slack: bool,
        /// Base URL of the approve/deny links in the webhook payload.
        #[arg(long, value_name = "URL", requires = "webhook")]
        links_base: Option<String>,
    },
    /// Evaluate a call and, when the policy requires approval, use TOKEN for it: allow (exit 0)
    /// or deny with the reason code (exit 2).
    #[command(after_help = APPROVALS_EXIT_CODES)]
    Consume {
        /// The token `request` printed.
        #[arg(long)]
        token: String,
        #[command(flatten)]
        call: CallArgs,
    },
    /// Expire every overdue open request (recording each), and say how many.
    #[command(after_help = APPROVALS_EXIT_CODES)]
    Sweep,
}

fn fail(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    exit::ERROR
}

fn approver(by: Option<&String>) -> String {
    by.cloned()
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "cli".to_owned())
}

pub(crate) fn run(args: &ApprovalsArgs) -> u8 {
    let sink = match open_audit(&args.store) {
        Ok(sink) => sink,
        Err(code) => return code,
    };
    let notifier = match &args.command {
        ApprovalsCommand::Request { webhook: Some(url), slack, links_base, .. } => {
            match webhook(url, *slack, links_base.clone()) {
                Ok(notifier) => Some(notifier),
                Err(error) => return fail(&error),
            }
        }
        _ => None,
    };
    let hooks =
        Hooks { audit: sink.clone().map(|sink| sink as Arc<dyn AuditSink>), notifier: None };
    let url = args.store.redis.clone().unwrap_or_else(|| {
        std::env::var("MCPPOL_REDIS_URL")
            .unwrap_or_else(|_| mcppol_approvals_redis::testing::DEFAULT_URL.to_owned())
    });
    let mut config = RedisConfig::new(url);
    config.prefix.clone_from(&args.store.prefix);
    config.timeout = Duration::from_millis(args.store.timeout_ms.max(1));
    let store = match RedisStore::new(config, Arc::new(SystemClock), hooks) {
        Ok(store) => store,
        Err(error) => return fail(&error),
    };
    let format = args.store.format;
    let code = match &args.command {
        ApprovalsCommand::List { limit } => store.open(*limit).map(|open| list(&open, format)),
        ApprovalsCommand::Show { id } => store.get(id).map(|request| show(&request, format)),
        ApprovalsCommand::Approve { id, by } => {
            store.approve(id, &approver(by.as_ref())).map(|request| decided(&request, format))
        }
        ApprovalsCommand::Deny { id, reason, by } => {
            store.deny(id, &approver(by.as_ref()), reason).map(|request| decided(&request, format))
        }
        ApprovalsCommand::Request { call, ttl, .. } => {
            request(&store, call, Duration::from_secs(*ttl), notifier.as_deref(), format)
        }
        ApprovalsCommand::Consume { token, call } => Ok(consume(&store, token, call, format)),
        ApprovalsCommand::Sweep => store.expire_overdue().map(|expired| {
            println!(
                "expired {} request{}",
                expired.len(),
                if expired.len() == 1 { "" } else { "s" }
            );
            exit::OK
        }),
    };
    let code = code.unwrap_or_else(|error| fail(&error));
    // A state change the audit log did not take is an error, whatever else happened.
    match sink.map(|sink| sink.close()) {
        Some(Ok(report)) if report.pending > 0 => fail(&format!(
            "{} approval events were not recorded: {}",
            report.pending,
            report.last_error.map(|error| error.to_string()).unwrap_or_default()
        )),
        Some(Err(error)) => fail(&error),
        _ => code,
    }
}

fn open_audit(store: &StoreArgs) -> Result<Option<Arc<QueuedSink>>, u8> {
    let Some(target) = &store.audit else { return Ok(None) };
    let options = SinkOptions {
        log: store.audit_log.clone(),
        args: ArgsPolicy::Digest,
        retry_interval: Duration::from_millis(200),
        ..SinkOptions::default()
    };
    let sink = if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        let mut config = PgConfig::new(target.clone());
        config.application_name = "mcppol-approvals".to_owned();
        postgres_sink(config, options)
    } else {
        file_sink(target, options)
    };
    sink.map(|sink| Some(Arc::new(sink))).map_err(|error| fail(&error))
}

fn webhook(
    url: &str,
    slack: bool,
    links_base: Option<String>,
) -> Result<Arc<WebhookNotifier>, ApprovalError> {
    let secret = std::env::var("MCPPOL_WEBHOOK_SECRET").unwrap_or_default();
    let mut config = WebhookConfig::new(url, secret.into_bytes());
    config.format = if slack { PayloadFormat::Slack } else { PayloadFormat::Mcppol };
    config.links_base = links_base;
    WebhookNotifier::new(config).map(Arc::new).map_err(|mut error| {
        if error.message.contains("secret") {
            error.message.push_str(": set MCPPOL_WEBHOOK_SECRET");
        }
        error
    })
}

/// The policy, the decision and its parts, for one call.
struct Evaluated {
    policy_hash: [u8; 32],
    effect: Effect,
    rule: String,
    code: String,
    reason: String,
    risk: String,
}

fn evaluate(call: &CallArgs) -> Result<Evaluated, u8> {
    let bytes = crate::eval::load(&call.policy, Format::Human).ok_or(exit::ERROR)?;
    let program = Program::from_bytes(&bytes).map_err(|error| {
        fail(&format!(
            "`{}` is not a valid artifact: {error} [{}]",
            call.policy.display(),
            error.code()
        ))
    })?;
    let roles: Vec<&str> = call.roles.iter().map(String::as_str).collect();
    let request = Request {
        method: &call.method,
        server: &call.server,
        tool: &call.tool,
        principal_id: &call.principal,
        principal_roles: &roles,
        args: call.args.as_bytes(),
    };
    let mut scratch = Box::new(Scratch::new());
    let decision = program.evaluate(&request, &mut scratch);
    Ok(Evaluated {
        policy_hash: program.content_hash(),
        effect: decision.effect,
        rule: decision.rule.unwrap_or_default().to_owned(),
        code: decision.code.to_owned(),
        reason: decision.reason.to_owned(),
        risk: decision.risk.as_str().to_owned(),
    })
}

fn the_call<'a>(call: &'a CallArgs, policy_hash: [u8; 32], roles: &'a [&'a str]) -> Call<'a> {
    Call {
        policy_hash,
        method: &call.method,
        server: &call.server,
        tool: &call.tool,
        principal: &call.principal,
        roles,
        args: call.args.as_bytes(),
    }
}

fn request(
    store: &RedisStore,
    call: &CallArgs,
    ttl: Duration,
    notifier: Option<&WebhookNotifier>,
    format: Format,
) -> Result<u8, ApprovalError> {
    let evaluated = match evaluate(call) {
        Ok(evaluated) => evaluated,
        Err(code) => return Ok(code),
    };
    if evaluated.effect != Effect::RequireApproval {
        print_outcome(format, evaluated.effect.as_str(), &evaluated.code, &evaluated.reason, None);
        return Ok(if evaluated.effect == Effect::Allow { exit::OK } else { exit::DENY });
    }
    let roles: Vec<&str> = call.roles.iter().map(String::as_str).collect();
    let new = the_call(call, evaluated.policy_hash, &roles).request(
        &evaluated.rule,
        &evaluated.reason,
        &evaluated.risk,
        ttl,
    )?;
    let created = store.create(new)?;
    let request = &created.request;
    match format {
        Format::Json => println!(
            "{}",
            json!({ "decision": "require_approval", "id": request.id, "token": created.token.as_str(),
                    "rule": request.binding.rule, "expires_at": format_ms(request.expires_at) })
        ),
        Format::Human => {
            println!("require_approval rule={} risk={}", request.binding.rule, request.risk);
            println!("  reason: {}", request.reason);
            println!("approval {} pending until {}", request.id, format_ms(request.expires_at));
            println!("token {}", created.token.as_str());
            eprintln!(
                "the token is shown once; approve with `mcppol approvals approve {}`",
                request.id
            );
        }
    }
    if let Some(notifier) = notifier {
        // Here, unlike in a gateway, wait for the delivery, so its outcome is reported.
        match notifier.deliver(request) {
            Ok(delivery) => eprintln!(
                "notified the webhook (HTTP {}, {} attempt{})",
                delivery.status,
                delivery.attempts,
                if delivery.attempts == 1 { "" } else { "s" }
            ),
            Err(error) => return Err(error),
        }
    }
    Ok(exit::REQUIRE_APPROVAL)
}

fn consume(store: &RedisStore, token: &str, call: &CallArgs, format: Format) -> u8 {
    let evaluated = match evaluate(call) {
        Ok(evaluated) => evaluated,
        Err(code) => return code,
    };
    if evaluated.effect != Effect::RequireApproval {
        print_outcome(format, evaluated.effect.as_str(), &evaluated.code, &evaluated.reason, None);
        return if evaluated.effect == Effect::Allow { exit::OK } else { exit::DENY };
    }
    let roles: Vec<&str> = call.roles.iter().map(String::as_str).collect();
    let used = the_call(call, evaluated.policy_hash, &roles)
        .binding(&evaluated.rule)
        .and_then(|binding| store.consume(token, &binding));
    match used {
        Ok(request) => {
            let reason = format!("approved by {}", request.decided_by.as_deref().unwrap_or("?"));
            print_outcome(format, "allow", "approval.ok", &reason, Some(&request.id));
            exit::OK
        }
        Err(error) => {
            // Fail closed: whatever went wrong, Redis down included, the call is denied.
            print_outcome(format, "deny", error.code(), &error.message, None);
            exit::DENY
        }
    }
}

fn print_outcome(format: Format, decision: &str, code: &str, reason: &str, id: Option<&str>) {
    match format {
        Format::Json => println!(
            "{}",
            json!({ "decision": decision, "code": code, "reason": reason, "approval_id": id })
        ),
        Format::Human => println!("{decision} code={code}\n  reason: {reason}"),
    }
}

fn list(open: &[ApprovalRequest], format: Format) -> u8 {
    if format == Format::Json {
        for request in open {
            println!("{}", serde_json::to_string(request).unwrap_or_default());
        }
        return exit::OK;
    }
    let header = ["ID", "STATE", "RISK", "SERVER", "TOOL", "PRINCIPAL", "RULE", "EXPIRES"];
    let rows: Vec<[String; 8]> = open
        .iter()
        .map(|request| {
            let binding = &request.binding;
            [
                request.id.clone(),
                request.state.to_string(),
                request.risk.clone(),
                binding.server.clone(),
                binding.tool.clone(),
                binding.principal.clone(),
                binding.rule.clone(),
                format_ms(request.expires_at),
            ]
        })
        .collect();
    crate::print_table(&header, &rows, "(no open requests)");
    exit::OK
}

fn show(request: &ApprovalRequest, format: Format) -> u8 {
    if format == Format::Json {
        println!("{}", serde_json::to_string(request).unwrap_or_default());
        return exit::OK;
    }
    let binding = &request.binding;
    println!("approval {}", request.id);
    println!("  state:       {}", request.state);
    println!("  call:        {} {} on server `{}`", request.method, binding.tool, binding.server);
    println!("  args:        {}", request.args);
    println!("  args digest: {}", binding.args_digest);
    println!("  principal:   `{}` roles [{}]", binding.principal, request.roles.join(", "));
    println!("  rule:        {} ({} risk): {}", binding.rule, request.risk, request.reason);
    println!("  policy:      {}", binding.policy_hash);
    println!("  created:     {}", format_ms(request.created_at));
    println!("  expires:     {}", format_ms(request.expires_at));
    if let (Some(at), Some(by)) = (request.decided_at, &request.decided_by) {
        println!("  decided:     {} by {by}", format_ms(at));
    }
    if let Some(note) = &request.note {
        println!("  note:        {note}");
    }
    if let Some(at) = request.consumed_at {
        println!("  consumed:    {}", format_ms(at));
    }
    if let Some(at) = request.expired_at {
        println!("  expired:     {}", format_ms(at));
    }
    exit::OK
}

fn decided(request: &ApprovalRequest, format: Format) -> u8 {
    match format {
        Format::Json => println!("{}", serde_json::to_string(request).unwrap_or_default()),
        Format::Human => println!(
            "{} {} by {}{}",
            request.state,
            request.id,
            request.decided_by.as_deref().unwrap_or("?"),
            request.note.as_deref().map(|note| format!(": {note}")).unwrap_or_default()
        ),
    }
    exit::OK
}
