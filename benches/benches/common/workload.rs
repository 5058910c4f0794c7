//! MCP-shaped workload families, generated at any rule count, written out once per engine.
//!
//! A workload is an abstract rule set (one allow rule per tool, each with one argument or
//! principal condition, plus an optional forbid rule) and a corpus of calls with their expected
//! decisions. Every engine's policy text is generated from the same abstract rules, so the
//! engines cannot drift apart, and every engine must reproduce every expected decision before
//! anything is timed (see `engines::check_agreement`).
//!
//! The peers have no path normaliser, URL parser or SQL classifier, so their conditions are the
//! usual idioms (prefix and `like` tests). Those are weaker than mcppol's; the corpus keeps to
//! requests where weak and strong agree, and the comparison favours the peers, never mcppol.

use std::fmt::Write as _;

/// The shipped default policy, the realistic part of the `mixed` family.
const DEFAULT_POLICY: &str = include_str!("../../../policies/default.yaml");

/// A family of workloads; each is generated at any rule count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Tool-name dispatch only: `allow tool_i`.
    Tool,
    /// Tool + path under `/workspace/`, and one forbid rule on `..` (the peers.md anchor).
    Path,
    /// Tool + URL host allowlist (`https://h<i>.example.com/`).
    Url,
    /// Tool + SQL statement kind (a single SELECT).
    Sql,
    /// Tool + principal role `role_<i>`.
    Role,
    /// The five kinds above interleaved, plus the forbid rule; for mcppol also the whole
    /// shipped default policy (its schemas and rules apply to tools no call here names, so its
    /// cost is the larger policy, as in a real deployment).
    Mixed,
}

impl Family {
    /// Every family, in report order.
    pub const ALL: [Family; 6] =
        [Family::Tool, Family::Path, Family::Url, Family::Sql, Family::Role, Family::Mixed];

    /// The family's short name, used in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Family::Tool => "tool",
            Family::Path => "path",
            Family::Url => "url",
            Family::Sql => "sql",
            Family::Role => "role",
            Family::Mixed => "mixed",
        }
    }

    /// The family called `name`.
    pub fn from_name(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|family| family.name() == name)
    }
}

/// The rule counts every family is generated at.
pub const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// The condition an allow rule puts on its tool's call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// Nothing besides the tool name.
    Any,
    /// `args.path` is under `/workspace/`.
    PathUnder,
    /// `args.url` is `https://` on this host.
    UrlHost(String),
    /// `args.query` is a single SELECT statement.
    SqlSelect,
    /// The principal has this role.
    Role(String),
}

/// One allow rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The tool it applies to.
    pub tool: String,
    /// What else must hold.
    pub cond: Cond,
}

/// One call of the corpus.
#[derive(Clone, Debug)]
pub struct Call {
    /// The tool name.
    pub tool: String,
    /// The principal's roles (from the gateway's authentication, not from the body).
    pub roles: Vec<String>,
    /// The raw JSON text of the `arguments` object.
    pub args: String,
    /// Whether every engine must allow it.
    pub allow: bool,
    /// The `tools/call` JSON-RPC body as the proxy receives it.
    pub body: String,
}

impl Call {
    fn new(tool: &str, roles: &[&str], args: &str, allow: bool) -> Call {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{tool}","arguments":{args}}}}}"#
        );
        Call {
            tool: tool.to_owned(),
            roles: roles.iter().map(|&role| role.to_owned()).collect(),
            args: args.to_owned(),
            allow,
            body,
        }
    }
}

/// A generated workload: rules, the forbid rule, and the corpus. `calls[0]` is the timed call:
/// allowed by the last rule, the worst case for engines that scan rules in order.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The family.
    pub family: Family,
    /// The number of allow rules.
    pub n: usize,
    /// The allow rules, in order.
    pub rules: Vec<Rule>,
    /// Whether the forbid rule (deny when `args.path` contains `..`) is present.
    pub forbid: bool,
    /// The corpus; every engine must decide each call as it says.
    pub calls: Vec<Call>,
}

/// The shape of rule `index` of `n` in `family`.
fn cond_for(family: Family, index: usize, n: usize) -> Cond {
    let kind = match family {
        // Counted from the end so that the last rule, the one the timed call matches, is a
        // path rule at every `n`.
        Family::Mixed => [Family::Path, Family::Tool, Family::Url, Family::Sql, Family::Role]
            [(n - 1 - index) % 5],
        other => other,
    };
    match kind {
        Family::Tool | Family::Mixed => Cond::Any,
        Family::Path => Cond::PathUnder,
        Family::Url => Cond::UrlHost(format!("h{index}.example.com")),
        Family::Sql => Cond::SqlSelect,
        Family::Role => Cond::Role(format!("role_{index}")),
    }
}

/// A representative allowed call for `rule`, and calls that must be denied.
fn calls_for(rule: &Rule, forbid: bool, out: &mut Vec<Call>) {
    let tool = rule.tool.as_str();
    match &rule.cond {
        Cond::Any => {
            out.push(Call::new(tool, &[], r#"{"verbose":true}"#, true));
        }
        Cond::PathUnder => {
            out.push(Call::new(tool, &[], r#"{"path":"/workspace/src/main.rs"}"#, true));
            out.push(Call::new(tool, &[], r#"{"path":"/etc/passwd"}"#, false));
            out.push(Call::new(tool, &[], r#"{"path":"/workspace/a/../../etc/shadow"}"#, false));
            if forbid {
                out.push(Call::new(tool, &[], r#"{"path":"/workspace/../workspace/x"}"#, false));
            }
        }
        Cond::UrlHost(host) => {
            let allowed = format!(r#"{{"url":"https://{host}/v1/items?page=2"}}"#);
            out.push(Call::new(tool, &[], &allowed, true));
            let evil = format!(r#"{{"url":"https://{host}.evil.example.net/x"}}"#);
            out.push(Call::new(tool, &[], &evil, false));
            let plain = format!(r#"{{"url":"http://{host}/v1/items"}}"#);
            out.push(Call::new(tool, &[], &plain, false));
            out.push(Call::new(tool, &[], r#"{"url":"https://other.example.org/"}"#, false));
        }
        Cond::SqlSelect => {
            let select = r#"{"query":"SELECT id, name FROM users WHERE id = 42"}"#;
            out.push(Call::new(tool, &[], select, true));
            out.push(Call::new(tool, &[], r#"{"query":"DELETE FROM users"}"#, false));
            out.push(Call::new(tool, &[], r#"{"query":"SELECT 1; DROP TABLE users"}"#, false));
        }
        Cond::Role(role) => {
            out.push(Call::new(tool, &["viewer", role], "{}", true));
            out.push(Call::new(tool, &["viewer"], "{}", false));
            out.push(Call::new(tool, &[], "{}", false));
        }
    }
}

impl Workload {
    /// The workload of `family` with `n` allow rules (`n >= 1`).
    pub fn new(family: Family, n: usize) -> Workload {
        let n = n.max(1);
        let rules: Vec<Rule> = (0..n)
            .map(|index| Rule { tool: format!("tool_{index}"), cond: cond_for(family, index, n) })
            .collect();
        let forbid = matches!(family, Family::Path | Family::Mixed);
        let mut calls = Vec::new();
        // The last rule first: `calls[0]` is the timed call.
        for rule in rules.iter().rev().take(5) {
            calls_for(rule, forbid, &mut calls);
        }
        if let Some(first) = rules.first() {
            calls_for(first, forbid, &mut calls);
        }
        // A tool no rule names, with each kind of argument.
        calls.push(Call::new("unknown_tool", &[], r#"{"path":"/workspace/a"}"#, false));
        calls.push(Call::new("unknown_tool", &["role_0"], "{}", false));
        // A call to one tool with the arguments another tool's rule wants.
        if rules.len() >= 2
            && let (Some(last), Some(first)) = (rules.last(), rules.first())
        {
            let mut mismatched = Vec::new();
            calls_for(first, forbid, &mut mismatched);
            for call in mismatched.into_iter().filter(|call| call.allow) {
                let tool_differs = last.tool != first.tool;
                // Only when the last rule does not also allow these arguments by itself.
                if tool_differs && last.cond != first.cond {
                    let roles: Vec<&str> = call.roles.iter().map(String::as_str).collect();
                    calls.push(Call::new(&last.tool, &roles, &call.args, false));
                }
            }
        }
        Workload { family, n, rules, forbid, calls }
    }

    /// A label such as `path/100`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.family.name(), self.n)
    }

    /// The policy as mcppol YAML.
    pub fn mcppol_yaml(&self) -> String {
        let mut out = String::with_capacity(self.n * 96 + DEFAULT_POLICY.len());
        if self.family == Family::Mixed {
            // `rules:` is the last key of the shipped policy, so appending list items extends it.
            out.push_str(DEFAULT_POLICY);
            out.push('\n');
        } else {
            out.push_str("version: 1\nname: bench\ndefault: deny\nrules:\n");
        }
        if self.forbid {
            out.push_str(
                "  - id: forbid-dotdot\n    effect: deny\n    reason: no parent segments\n    \
                 args: { path: { type: string, pattern: '\\.\\.' } }\n",
            );
        }
        for (index, rule) in self.rules.iter().enumerate() {
            let _ = write!(
                out,
                "  - id: r{index:05}\n    effect: allow\n    reason: generated\n    tool: {}\n",
                rule.tool
            );
            let _ = match &rule.cond {
                Cond::Any => Ok(()),
                Cond::PathUnder => {
                    writeln!(out, "    args: {{ path: {{ path: {{ in: [/workspace] }} }} }}")
                }
                Cond::UrlHost(host) => writeln!(
                    out,
                    "    args: {{ url: {{ url: {{ schemes: [https], hosts: [{host}] }} }} }}"
                ),
                Cond::SqlSelect => writeln!(
                    out,
                    "    args: {{ query: {{ sql: {{ allow: [select], max_statements: 1 }} }} }}"
                ),
                Cond::Role(role) => writeln!(out, "    principal: {{ roles: [{role}] }}"),
            };
        }
        out
    }

    /// The policy as Cedar: one `permit` per rule, `forbid` for the forbid rule.
    pub fn cedar(&self) -> String {
        let mut out = String::with_capacity(self.n * 128);
        if self.forbid {
            out.push_str(
                "forbid(principal, action, resource) when { context.args.path like \"*..*\" };\n",
            );
        }
        for rule in &self.rules {
            let tool = &rule.tool;
            let _ = match &rule.cond {
                Cond::Any => writeln!(
                    out,
                    "permit(principal, action == Action::\"call\", resource == Tool::\"{tool}\");"
                ),
                Cond::PathUnder => writeln!(
                    out,
                    "permit(principal, action == Action::\"call\", resource == Tool::\"{tool}\") \
                     when {{ context.args.path like \"/workspace/*\" }};"
                ),
                Cond::UrlHost(host) => writeln!(
                    out,
                    "permit(principal, action == Action::\"call\", resource == Tool::\"{tool}\") \
                     when {{ context.args.url like \"https://{host}/*\" }};"
                ),
                Cond::SqlSelect => writeln!(
                    out,
                    "permit(principal, action == Action::\"call\", resource == Tool::\"{tool}\") \
                     when {{ context.args.query like \"SELECT *\" && \
                     !(context.args.query like \"*;*\") }};"
                ),
                Cond::Role(role) => writeln!(
                    out,
                    "permit(principal in Role::\"{role}\", action == Action::\"call\", \
                     resource == Tool::\"{tool}\");"
                ),
            };
        }
        out
    }

    /// The policy as Rego v1 (`data.mcp.allow`): one `allow if` per rule.
    pub fn rego(&self) -> String {
        let mut out = String::with_capacity(self.n * 128);
        out.push_str("package mcp\n\ndefault allow := false\n\n");
        if self.forbid {
            out.push_str("forbidden if contains(input.args.path, \"..\")\n\n");
        }
        let not_forbidden = if self.forbid { "; not forbidden" } else { "" };
        for rule in &self.rules {
            let tool = &rule.tool;
            let cond = match &rule.cond {
                Cond::Any => String::new(),
                Cond::PathUnder => "; startswith(input.args.path, \"/workspace/\")".to_owned(),
                Cond::UrlHost(host) => {
                    format!("; startswith(input.args.url, \"https://{host}/\")")
                }
                Cond::SqlSelect => "; startswith(input.args.query, \"SELECT \"); \
                                    not contains(input.args.query, \";\")"
                    .to_owned(),
                Cond::Role(role) => format!("; \"{role}\" in input.roles"),
            };
            let _ = writeln!(out, "allow if {{ input.tool == \"{tool}\"{cond}{not_forbidden} }}");
        }
        out
    }

    /// The policy as one CEL expression over `tool`, `roles` and `args`: an OR of one clause
    /// per rule, guarded by the forbid rule.
    pub fn cel(&self) -> String {
        let mut out = String::with_capacity(self.n * 96);
        if self.forbid {
            out.push_str("!(has(args.path) && args.path.contains('..')) && (");
        } else {
            out.push('(');
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if index > 0 {
                out.push_str(" || ");
            }
            let tool = &rule.tool;
            let _ = match &rule.cond {
                Cond::Any => write!(out, "tool == '{tool}'"),
                Cond::PathUnder => {
                    write!(
                        out,
                        "(tool == '{tool}' && has(args.path) && args.path.startsWith('/workspace/'))"
                    )
                }
                Cond::UrlHost(host) => {
                    write!(
                        out,
                        "(tool == '{tool}' && has(args.url) && args.url.startsWith('https://{host}/'))"
                    )
                }
                Cond::SqlSelect => write!(
                    out,
                    "(tool == '{tool}' && has(args.query) && args.query.startsWith('SELECT ') && \
                     !args.query.contains(';'))"
                ),
                Cond::Role(role) => write!(out, "(tool == '{tool}' && '{role}' in roles)"),
            };
        }
        out.push(')');
        out
    }
}
