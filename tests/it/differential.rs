//! Differential tests: the runtime, walking the compiled decision DAG, must decide every
//! generated request exactly as the reference evaluator does from the resolved policy.
//!
//! The policies are generated as YAML *text*, so every stage runs (parse, resolve, lower, emit,
//! verify), and requests carry raw JSON argument text written by hand, so escapes, duplicate
//! keys and malformed documents reach both evaluators exactly as a gateway would pass them.
//! Alphabets are small on purpose: tools, argument names and values are drawn so that rules
//! overlap, constraints are sometimes met and sometimes not, and faults (wrong types, absent
//! arguments, unsafe paths and URLs) are frequent.
//!
//! Besides agreement, the module checks that well-typed policies compile, that compilation is
//! deterministic, that the file order of rules never matters, that the strongest matching effect
//! wins and that rules apply to exactly the tools, methods, servers and principals they name
//! (both against oracles of its own over the generated structure, since the reference shares
//! the resolved policy with the compiler), and that ill-typed `when:` conditions are compile
//! errors in the E03xx range.
//!
//! Each property is one `proptest!` test named after it; the plain tests at the end are
//! minimised disagreements the properties found, kept until the code is fixed.

use crate::support::{self, Outcome};
use mcppol_compiler::Compiled;
use mcppol_runtime::{Effect, Request};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use std::collections::BTreeSet;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Alphabets

/// Tools that rules and schemas name exactly.
const TOOLS: &[&str] = &["fs.read", "fs.write", "sql.query", "http.fetch", "x"];
/// Tool globs: they decide at compile time for named tools and at run time for the others.
const TOOL_GLOBS: &[&str] = &["fs.*", "*.query", "?", "[fh]*", "*", "fs.rea?", "*e*"];
/// Both, for lists that mix them.
const TOOLS_AND_GLOBS: &[&str] = &[
    "fs.read",
    "fs.write",
    "sql.query",
    "http.fetch",
    "x",
    "fs.*",
    "*.query",
    "?",
    "[fh]*",
    "*",
    "fs.rea?",
    "*e*",
];
/// Tools requests call: the named ones, tools only a glob can match, and near misses.
const REQUEST_TOOLS: &[&str] = &[
    "fs.read",
    "fs.write",
    "sql.query",
    "http.fetch",
    "x",
    "fs.delete",
    "y",
    "",
    "fs.",
    "FS.READ",
    "fs.read.x",
    "sql.query ",
];
/// Rule ids. Byte order differs from a natural reading (`r10` < `r2`, `Z` < `_x` < `a`).
const IDS: &[&str] =
    &["a", "b", "c", "d", "e", "f", "r1", "r10", "r2", "Z", "_x", "a-b", "\u{e9}", "deny"];
/// Argument names rules and schemas constrain.
const RULE_ARGS: &[&str] = &["path", "mode", "n", "q", "url", "nested"];
/// A request key with a NUL (`"nul\u0000k"`). The artifact joins argument paths with NUL, so it
/// must never be read as `nul` then `k`; requests carry both. (The compiler refuses NUL in
/// argument names, E0216, so policies cannot name it.)
const NUL_ARG: &str = "nul\0k";

/// Valid regexes (as the regex text, before any quoting).
const PATTERNS: &[&str] = &[
    "^/workspace/",
    r"\.env$",
    "^[a-z]+$",
    "(?i)select",
    r"^\d+$",
    r"(?-u:\b)drop(?-u:\b)",
    "\u{e9}",
    "^$",
    "a|b",
    "^.{3}$",
    "[^/]*$",
    r"\x00",
];
/// Path prefixes and path globs; all valid.
const PATH_ENTRIES: &[&str] = &[
    "/workspace",
    "/tmp",
    "/",
    "/workspace/sub/",
    "/workspace/a",
    "/a/b",
    "**/.env",
    "**/*.pem",
    "/workspace/**",
    "*.md",
    "**/.ssh/**",
    "/etc/*",
    "**/.git/**",
    "/workspace/*.txt",
    "/work space",
    "/workspace/[a-c]*",
];
const URL_SCHEMES: &[&str] = &["https", "http", "HTTP", "ftp"];
const URL_HOSTS: &[&str] =
    &["docs.rs", "*.github.com", "github.com", "localhost", "DOCS.RS", "127.0.0.1"];
/// SQL statement kinds to try; only those the runtime knows are used (see [`sql_kinds`]).
const SQL_KIND_NAMES: &[&str] =
    &["select", "SELECT", "insert", "update", "delete", "explain", "create", "drop", "alter"];
/// Strings for `enum:` lists; several would be a non-string if YAML read them unquoted.
const ENUM_STRINGS: &[&str] = &[
    "r", "rw", "w", "1", "true", "", "R", "null", "yes", "~", "x", "\u{e9}", "a\u{0}b", "SELECT 1",
];
const ENUM_INTS: &[i64] = &[-1, 0, 1, 3, 10, i64::MAX, i64::MIN];

/// `when:` string subjects (any of them may be absent or of another type in a request).
const STR_SUBJECTS: &[&str] = &[
    "tool",
    "method",
    "server",
    "principal.id",
    "args.q",
    "args.path",
    "args.mode",
    "args.url",
    "args.nested.k",
    r#"args["nested"]["k"]"#,
    "args.nested.m.k",
];
/// `when:` string literals, as expression source text.
const STR_LITS: &[&str] = &[
    r#""fs.read""#,
    r#""x""#,
    r#""""#,
    r#""tools/call""#,
    r#""s1""#,
    r#""alice""#,
    r#""r""#,
    r#""rw""#,
    r#""/workspace/""#,
    r#""\u002e\u002e/""#,
    r#""\/etc""#,
    r#""a\"b""#,
    r#""\\""#,
    "\"\u{e9}\"",
    r#""\ud83d\ude00""#,
    r#"".env""#,
    r#""select""#,
    r#""a\u0000b""#,
    r#""https://""#,
    r#""1""#,
];
const INT_SUBJECTS: &[&str] = &["args.n", "args.nested.k", "args.mode", r#"args["n"]"#];
const INT_LITS: &[&str] =
    &["0", "1", "-1", "3", "10", "007", "-0", "9223372036854775807", "-9223372036854775808"];
const LEN_SUBJECTS: &[&str] =
    &["len(args.q)", "len(args.path)", "len(args.nested.m)", "len(args.n)"];
const LEN_LITS: &[&str] = &["0", "1", "2", "3", "5", "4294967295"];
const BOOL_SUBJECTS: &[&str] = &["args.nested.b", "args.mode", "args.n"];
const HAS_PATHS: &[&str] = &[
    "args.path",
    "args.mode",
    "args.n",
    "args.q",
    "args.url",
    "args.nested",
    "args.nested.k",
    "args.nested.m.k",
    r#"args["nul"]"#,
    "args.nul.k",
];
/// Regex literals for `matches`, as expression source text (backslashes doubled).
const REGEX_LITS: &[&str] = &[
    r#""^/workspace/""#,
    r#""\\.env$""#,
    r#""^[a-z]+$""#,
    r#""(?i)^select""#,
    r#""^\\d+$""#,
    r#""(?-u:\\b)drop(?-u:\\b)""#,
    "\"\u{e9}\"",
    r#""^$""#,
    r#""a|b""#,
    r#""^fs\\.""#,
    r#""[^/]*$""#,
    r#""\\x00""#,
];
const ROLES: &[&str] = &["admin", "dev", "ops"];

/// A policy with one allow rule `r`, to which a test appends the rule's `when:`.
const ONE_RULE: &str = "version: 1\nname: p\nrules:\n  - id: r\n    effect: allow\n    reason: r\n";

/// Ill-typed conditions: each must be rejected by the compiler with an E03xx code.
const ILL_TYPED: &[&str] = &[
    r#"args.n < "x""#,
    r#"tool == 1"#,
    r#"len(tool) > 1"#,
    r#"has(tool)"#,
    r#"tool"#,
    r#"principal.email == "x""#,
    r#"principal.roles == "a""#,
    r#"args.a in [1, "x"]"#,
    r#"1 == 1"#,
    r#"args.path matches "(""#,
    r#"args.q starts_with 1"#,
    r#"len(args.q) == "x""#,
    r#"args.q > "a""#,
    r#"principal.roles starts_with "a""#,
    r#""a" in tool"#,
    r#"args.b < true"#,
    r#"args.x matches "\\bfoo""#,
    r#"len(args.q) > -1"#,
    r#"principal.roles in []"#,
    r#"server"#,
    r#"method < "x""#,
    r#"principal.id == true"#,
    r#"args == 1"#,
    r#"principal == "x""#,
    r#"args["a\u0000b"] == 1"#,
    r#"args[""] == 1"#,
    r#"principal.roles matches "a""#,
    r#"args.q in [true]"#,
];

// Request alphabets.

const PATHS: &[&str] = &[
    "/workspace/a.txt",
    "/workspace",
    "/workspace/",
    "/workspacefoo/x",
    "/workspace/../etc/passwd",
    "/workspace/sub/../b",
    "/workspace//x/./y",
    "/tmp/x",
    "/tmp",
    "relative/x",
    "..",
    "/..",
    "/",
    "",
    "/workspace/.env",
    "/workspace/.env.local",
    "/workspace/.ssh/id_rsa",
    "/workspace/a\u{0}b",
    "/workspace\\x",
    "/workspace/x.pem",
    "/etc/passwd",
    "//workspace/a",
    "/./workspace/k.key",
    "/workspace/.git/hooks/pre-commit",
    "a.md",
    "/workspace/README.md",
    "/workspace/\u{e9}.txt",
    "/work space/x",
    "/workspace/b.txt",
    "/a/b",
];
const URLS: &[&str] = &[
    "https://docs.rs/x",
    "https://user@docs.rs/",
    "http://127.0.0.1:8080/",
    "https://api.github.com:443/a?b#c",
    "HTTPS://DOCS.RS",
    "https://2130706433/",
    "ftp://example.com/",
    "https://evil.com\\@docs.rs",
    "https://docs.rs./",
    "https://a..b/",
    "mailto:x@y",
    "https://xn--e1a.com/",
    "https://docs.rs:0/",
    "https://[::1]/",
    "https://%65vil.com/",
    "http://localhost/",
    "https://github.com",
    "https://sub.github.com/x",
    "https://docs.rs:65536/",
    "https:docs.rs",
    "https://docs.rs\t/",
    "https://0x7f.1/",
    "https://docs.rs/a b",
    "https://Docs.RS/",
];
const SQLS: &[&str] = &[
    "SELECT 1",
    "select * from t; drop table t",
    "SELECT '--;' FROM t -- c",
    "/* x */ DELETE FROM t",
    "",
    "insert into t values(1)",
    "SELECT 1;",
    "select $$a;b$$",
    "SELECT * FROM pg_catalog.pg_user",
    "DROP TABLE t",
    "select 1; select 2",
    "EXPLAIN SELECT 1",
    "select \"a;b\" from t",
];
const MODES: &[&str] = &["r", "rw", "w", "1", "true", "", "R", "null", "yes", "~"];
const GENERIC: &[&str] = &[
    "x",
    "a\"b",
    "a\\b",
    "\u{e9}",
    "\u{1F600}",
    "a\u{0}b",
    "tab\there",
    "line\nbreak",
    "fs.read",
    "admin",
    "drop",
    "a|b",
    "abc",
    "123",
    "a\u{1}b",
    "s1",
    ".env",
];
/// Number texts, exactly as they appear in the JSON: exponents, fractions, `-0`, values at and
/// beyond the `i64` range, and ones that no `f64` holds exactly.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "7",
    "10",
    "-0",
    "1.0",
    "1.5",
    "1e2",
    "2E+1",
    "0.5e1",
    "-9223372036854775808",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "12345678901234567890123",
    "1e400",
    "1e-400",
    "0.1",
    "100",
    "1.0000000000000001",
    "-1.5",
    "5e-1",
    "4294967296",
];
/// Malformed or non-object argument documents.
const RAW_ARGS: &[&str] = &[
    "",
    " ",
    "[]",
    "null",
    "\"x\"",
    "{",
    "{\"path\":}",
    "{\"a\":1,}",
    "{\"a\":1}x",
    "\u{feff}{}",
    "{\"mode\":\"r\",\"mode\":\"w\"}",
    "{\"mode\":1,\"m\\u006fde\":2}",
    "{\"nested\":{\"k\":1,\"k\":2}}",
    "{\"q\":\"\\ud800\"}",
    "{\"q\":\"a\tb\"}",
    "{\"q\":\"\\x\"}",
    "{\"n\":01}",
    "{\"n\":+1}",
    "{\"n\":NaN}",
    "{'a':1}",
    "{\"n\":1.}",
    " {\"mode\" : \"r\" } ",
    "{\"path\":\"/workspace/a\"}\n",
];

// ---------------------------------------------------------------------------------------------
// YAML rendering helpers

/// A YAML double-quoted scalar: every string stays a string, NUL and controls included.
fn yq(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML single-quoted scalar (no escapes except `''`); only for printable text.
fn ysq(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A YAML flow sequence of double-quoted strings.
fn ylist(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|item| yq(item)).collect();
    format!("[{}]", items.join(", "))
}

/// A string or a list of strings, as `tool:`, `method:`, `server:` and `principal:` accept.
#[derive(Clone, Debug)]
struct Names {
    items: Vec<&'static str>,
    as_list: bool,
}

impl Names {
    fn one(item: &'static str) -> Self {
        Names { items: vec![item], as_list: false }
    }

    fn many(items: Vec<&'static str>) -> Self {
        Names { items, as_list: true }
    }

    fn yaml(&self) -> String {
        match (self.as_list, self.items.as_slice()) {
            (false, [one]) => yq(one),
            (_, items) => ylist(items),
        }
    }
}

fn names(singles: &'static [&'static str], max: usize) -> impl Strategy<Value = Names> {
    prop_oneof![
        2 => select(singles).prop_map(Names::one),
        1 => prop::collection::vec(select(singles), 1..=max).prop_map(Names::many),
    ]
}

// ---------------------------------------------------------------------------------------------
// Policy structure
//
// The larger strategies return `BoxedStrategy`: unboxed, their value trees nest so deeply that
// generating one overflows a test thread's stack in debug builds.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Eff {
    Allow,
    Deny,
    RequireApproval,
}

impl Eff {
    fn yaml(self) -> &'static str {
        match self {
            Eff::Allow => "allow",
            Eff::Deny => "deny",
            Eff::RequireApproval => "require_approval",
        }
    }

    fn effect(self) -> Effect {
        match self {
            Eff::Allow => Effect::Allow,
            Eff::Deny => Effect::Deny,
            Eff::RequireApproval => Effect::RequireApproval,
        }
    }

    /// Strength for the conflict oracle, written out here rather than read from `Effect`'s
    /// `Ord`, so the oracle does not share an assumption with the code under test.
    fn strength(self) -> u8 {
        match self {
            Eff::Allow => 0,
            Eff::RequireApproval => 1,
            Eff::Deny => 2,
        }
    }
}

fn eff() -> impl Strategy<Value = Eff> {
    prop_oneof![Just(Eff::Allow), Just(Eff::Deny), Just(Eff::RequireApproval)]
}

/// A scalar of an `enum:` list.
#[derive(Clone, Debug)]
enum ScalarG {
    Str(&'static str, bool),
    Int(i64),
    Bool(bool),
}

impl ScalarG {
    fn yaml(&self) -> String {
        match self {
            // Single quotes cannot hold a NUL; use them only for printable text.
            ScalarG::Str(text, single) if *single && !text.contains('\0') => ysq(text),
            ScalarG::Str(text, _) => yq(text),
            ScalarG::Int(n) => n.to_string(),
            ScalarG::Bool(b) => b.to_string(),
        }
    }
}

fn enum_string() -> impl Strategy<Value = ScalarG> {
    (select(ENUM_STRINGS), any::<bool>()).prop_map(|(s, single)| ScalarG::Str(s, single))
}

fn enum_int() -> impl Strategy<Value = ScalarG> {
    prop_oneof![select(ENUM_INTS).prop_map(ScalarG::Int), (-4i64..12).prop_map(ScalarG::Int)]
}

fn enum_values() -> BoxedStrategy<Vec<ScalarG>> {
    prop_oneof![
        3 => prop::collection::vec(enum_string(), 1..4),
        1 => prop::collection::vec(enum_int(), 1..3),
        1 => prop::collection::vec(any::<bool>().prop_map(ScalarG::Bool), 1..3),
        2 => prop::collection::vec(
            prop_oneof![enum_string(), enum_int(), any::<bool>().prop_map(ScalarG::Bool)],
            2..5,
        ),
    ]
    .boxed()
}

/// The constraints of one argument (in a rule or a tool schema).
#[derive(Clone, Debug, Default)]
struct ArgSpecG {
    types: Option<Names>,
    values: Option<Vec<ScalarG>>,
    min_length: Option<u32>,
    max_length: Option<u32>,
    minimum: Option<i64>,
    maximum: Option<i64>,
    pattern: Option<&'static str>,
    path: Option<(Vec<&'static str>, Vec<&'static str>)>,
    url: Option<(Vec<&'static str>, Vec<&'static str>, Option<bool>)>,
    sql: Option<(Vec<&'static str>, Option<u32>)>,
    required: Option<bool>,
}

impl ArgSpecG {
    fn yaml(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(types) = &self.types {
            // Type names are YAML plain scalars, as authors write them, except `null`, which
            // plain would be YAML's null rather than the type name.
            let plain = |name: &&str| if *name == "null" { yq(name) } else { (*name).to_owned() };
            let text = match (types.as_list, types.items.as_slice()) {
                (false, [one]) => plain(one),
                (_, items) => {
                    format!("[{}]", items.iter().map(plain).collect::<Vec<_>>().join(", "))
                }
            };
            parts.push(format!("type: {text}"));
        }
        if let Some(required) = self.required {
            parts.push(format!("required: {required}"));
        }
        if let Some(values) = &self.values {
            let values: Vec<String> = values.iter().map(ScalarG::yaml).collect();
            parts.push(format!("enum: [{}]", values.join(", ")));
        }
        if let Some(n) = self.min_length {
            parts.push(format!("min_length: {n}"));
        }
        if let Some(n) = self.max_length {
            parts.push(format!("max_length: {n}"));
        }
        if let Some(n) = self.minimum {
            parts.push(format!("minimum: {n}"));
        }
        if let Some(n) = self.maximum {
            parts.push(format!("maximum: {n}"));
        }
        if let Some(pattern) = self.pattern {
            parts.push(format!("pattern: {}", yq(pattern)));
        }
        if let Some((within, not_in)) = &self.path {
            let mut fields = Vec::new();
            if !within.is_empty() {
                fields.push(format!("in: {}", ylist(within)));
            }
            if !not_in.is_empty() {
                fields.push(format!("not_in: {}", ylist(not_in)));
            }
            parts.push(format!("path: {{ {} }}", fields.join(", ")));
        }
        if let Some((schemes, hosts, allow_ip)) = &self.url {
            let mut fields = Vec::new();
            if !schemes.is_empty() {
                fields.push(format!("schemes: {}", ylist(schemes)));
            }
            if !hosts.is_empty() {
                fields.push(format!("hosts: {}", ylist(hosts)));
            }
            if let Some(allow_ip) = allow_ip {
                fields.push(format!("allow_ip_hosts: {allow_ip}"));
            }
            parts.push(format!("url: {{ {} }}", fields.join(", ")));
        }
        if let Some((allow, max)) = &self.sql {
            let mut fields = vec![format!("allow: {}", ylist(allow))];
            if let Some(max) = max {
                fields.push(format!("max_statements: {max}"));
            }
            parts.push(format!("sql: {{ {} }}", fields.join(", ")));
        }
        format!("{{ {} }}", parts.join(", "))
    }
}

/// The SQL statement kinds the runtime currently knows, from [`SQL_KIND_NAMES`]. Asking the
/// runtime keeps the generator valid while the SQL module grows.
fn sql_kinds() -> Vec<&'static str> {
    SQL_KIND_NAMES
        .iter()
        .copied()
        .filter(|name| {
            mcppol_runtime::sql::StatementKind::from_name(&name.to_ascii_lowercase()).is_some()
        })
        .collect()
}

/// Which constraints an argument name invites: `path` a path constraint, `n` bounds, and so
/// on. Others are still drawn, less often, so that a constraint meets values of other types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hint {
    Path,
    Url,
    Sql,
    Number,
    Enum,
    Any,
}

fn hint(name: &str) -> Hint {
    match name {
        "path" => Hint::Path,
        "url" => Hint::Url,
        "q" => Hint::Sql,
        "n" => Hint::Number,
        "mode" => Hint::Enum,
        _ => Hint::Any,
    }
}

/// An argument name and its constraints.
fn named_arg_spec(schema: bool) -> BoxedStrategy<(&'static str, ArgSpecG)> {
    select(RULE_ARGS).prop_flat_map(move |name| (Just(name), arg_spec(schema, hint(name)))).boxed()
}

fn arg_spec(schema: bool, hint: Hint) -> BoxedStrategy<ArgSpecG> {
    const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object", "null"];
    let p = |wanted: Hint| if hint == wanted { 0.6 } else { 0.1 };
    let types = prop::option::weighted(0.2, names(TYPES, 3));
    let values = prop::option::weighted(p(Hint::Enum), enum_values());
    let lengths = (prop::option::weighted(0.1, 0u32..4), prop::option::weighted(0.1, 0u32..7));
    let bounds = (
        prop::option::weighted(p(Hint::Number), prop_oneof![select(ENUM_INTS), -5i64..5]),
        prop::option::weighted(p(Hint::Number), prop_oneof![select(ENUM_INTS), -5i64..12]),
    );
    let pattern = prop::option::weighted(0.1, select(PATTERNS));
    let path = prop::option::weighted(
        p(Hint::Path),
        (
            prop::collection::vec(select(PATH_ENTRIES), 0..3),
            prop::collection::vec(select(PATH_ENTRIES), 0..3),
        ),
    );
    let url = prop::option::weighted(
        p(Hint::Url),
        (
            prop::collection::vec(select(URL_SCHEMES), 0..3),
            prop::collection::vec(select(URL_HOSTS), 0..3),
            prop::option::of(any::<bool>()),
        ),
    );
    let kinds = sql_kinds();
    let sql = prop::option::weighted(
        p(Hint::Sql),
        (subsequence(kinds.clone(), 0..=kinds.len()), prop::option::of(1u32..4)),
    );
    let required =
        if schema { prop::option::of(any::<bool>()).boxed() } else { Just(None).boxed() };
    (types, values, lengths, bounds, pattern, path, url, sql, required)
        .prop_map(
            |(
                types,
                values,
                (min_length, max_length),
                (minimum, maximum),
                pattern,
                path,
                url,
                sql,
                required,
            )| {
                // `path` must list something and `url` must constrain something (E0210, E0212).
                let path = path.map(|(within, not_in)| {
                    if within.is_empty() && not_in.is_empty() {
                        (vec!["/workspace"], not_in)
                    } else {
                        (within, not_in)
                    }
                });
                let url = url.map(|(schemes, hosts, allow_ip)| {
                    if schemes.is_empty() && hosts.is_empty() && allow_ip == Some(true) {
                        (schemes, hosts, None)
                    } else {
                        (schemes, hosts, allow_ip)
                    }
                });
                ArgSpecG {
                    types,
                    values,
                    min_length,
                    max_length,
                    minimum,
                    maximum,
                    pattern,
                    path,
                    url,
                    sql,
                    required,
                }
            },
        )
        .boxed()
}

/// `tool:` of a rule.
#[derive(Clone, Debug)]
enum ToolSel {
    Absent,
    Names(Names),
}

fn tool_sel() -> BoxedStrategy<ToolSel> {
    prop_oneof![
        1 => Just(ToolSel::Absent),
        4 => select(TOOLS).prop_map(|t| ToolSel::Names(Names::one(t))),
        2 => select(TOOL_GLOBS).prop_map(|t| ToolSel::Names(Names::one(t))),
        2 => prop::collection::vec(select(TOOLS_AND_GLOBS), 1..4)
            .prop_map(|t| ToolSel::Names(Names::many(t))),
    ]
    .boxed()
}

#[derive(Clone, Debug)]
struct RuleG {
    effect: Eff,
    risk: Option<&'static str>,
    tool: ToolSel,
    method: Option<Names>,
    server: Option<Names>,
    principal: Option<(Option<Names>, Option<Names>)>,
    args: Vec<(&'static str, ArgSpecG)>,
    /// The condition text and whether YAML writes it single-quoted.
    when: Option<(String, bool)>,
}

fn rule() -> BoxedStrategy<RuleG> {
    // Each part is optional and mostly absent, so that rules match often enough for the
    // conflicts between them to matter.
    let method = prop::option::weighted(
        0.2,
        prop_oneof![
            Just(Names::one("tools/call")),
            Just(Names::one("*")),
            Just(Names::one("resources/read")),
            Just(Names::many(vec!["tools/call", "resources/read"])),
            Just(Names::one("tools/*")),
            Just(Names::one("*/read")),
        ],
    );
    let server = prop::option::weighted(0.15, names(&["s1", "s2", "s*", "*", "S1", "s?"], 2));
    let principal = prop::option::weighted(
        0.15,
        (prop::option::of(names(&["alice", "bob", ""], 2)), prop::option::of(names(ROLES, 2))),
    );
    let args = prop::collection::vec(named_arg_spec(false), 0..3);
    let when = prop::option::weighted(0.5, (when_expr(), any::<bool>()));
    (
        eff(),
        prop::option::of(select(&["low", "medium", "high", "critical"][..])),
        tool_sel(),
        method,
        server,
        principal,
        args,
        when,
    )
        .prop_map(|(effect, risk, tool, method, server, principal, mut args, when)| {
            // A YAML mapping has each key once.
            let mut seen = BTreeSet::new();
            args.retain(|(name, _)| seen.insert(*name));
            RuleG { effect, risk, tool, method, server, principal, args, when }
        })
        .boxed()
}

#[derive(Clone, Debug)]
enum DefaultG {
    Absent,
    Short(Eff),
    Full(Eff, Option<&'static str>),
}

fn default_g() -> impl Strategy<Value = DefaultG> {
    prop_oneof![
        Just(DefaultG::Absent),
        eff().prop_map(DefaultG::Short),
        (eff(), prop::option::of(select(&["low", "critical"][..])))
            .prop_map(|(e, risk)| DefaultG::Full(e, risk)),
    ]
}

#[derive(Clone, Debug)]
struct SchemaG {
    tool: &'static str,
    unknown_args: Option<bool>,
    args: Vec<(&'static str, ArgSpecG)>,
}

fn schemas() -> BoxedStrategy<Vec<SchemaG>> {
    let schema =
        (prop::option::of(any::<bool>()), prop::collection::vec(named_arg_spec(true), 0..3));
    (subsequence(TOOLS, 0..3), prop::collection::vec(schema, 3))
        .prop_map(|(tools, specs)| {
            tools
                .into_iter()
                .zip(specs)
                .map(|(tool, (unknown_args, mut args))| {
                    let mut seen = BTreeSet::new();
                    args.retain(|(name, _)| seen.insert(*name));
                    SchemaG { tool, unknown_args, args }
                })
                .collect()
        })
        .boxed()
}

#[derive(Clone, Debug)]
struct PolicyG {
    default: DefaultG,
    schemas: Vec<SchemaG>,
    /// Rules with their ids, in file order.
    rules: Vec<(&'static str, RuleG)>,
}

impl PolicyG {
    /// The policy text with the rules in `order` (indices into `rules`).
    fn yaml_in(&self, order: &[usize]) -> String {
        let mut out = String::from("version: 1\nname: \"generated\"\n");
        match &self.default {
            DefaultG::Absent => {}
            DefaultG::Short(e) => {
                let _ = writeln!(out, "default: {}", e.yaml());
            }
            DefaultG::Full(e, risk) => {
                let _ =
                    write!(out, "default:\n  effect: {}\n  reason: \"the default\"\n", e.yaml());
                if let Some(risk) = risk {
                    let _ = writeln!(out, "  risk: {risk}");
                }
            }
        }
        if !self.schemas.is_empty() {
            out.push_str("tools:\n");
            for schema in &self.schemas {
                if schema.unknown_args.is_none() && schema.args.is_empty() {
                    // An empty block would be YAML null; a schema that declares nothing is `{}`.
                    let _ = writeln!(out, "  {}: {{}}", yq(schema.tool));
                    continue;
                }
                let _ = writeln!(out, "  {}:", yq(schema.tool));
                if let Some(deny) = schema.unknown_args {
                    let _ =
                        writeln!(out, "    unknown_args: {}", if deny { "deny" } else { "allow" });
                }
                if !schema.args.is_empty() {
                    out.push_str("    args:\n");
                    for (name, spec) in &schema.args {
                        let _ = writeln!(out, "      {}: {}", yq(name), spec.yaml());
                    }
                }
            }
        }
        out.push_str("rules:\n");
        for &index in order {
            let (id, rule) = &self.rules[index];
            let _ = writeln!(out, "  - id: {}", yq(id));
            let _ = writeln!(out, "    effect: {}", rule.effect.yaml());
            let _ = writeln!(out, "    reason: {}", yq(&format!("rule {id}")));
            if let Some(risk) = rule.risk {
                let _ = writeln!(out, "    risk: {risk}");
            }
            if let ToolSel::Names(tools) = &rule.tool {
                let _ = writeln!(out, "    tool: {}", tools.yaml());
            }
            if let Some(method) = &rule.method {
                let _ = writeln!(out, "    method: {}", method.yaml());
            }
            if let Some(server) = &rule.server {
                let _ = writeln!(out, "    server: {}", server.yaml());
            }
            if let Some((ids, roles)) = &rule.principal {
                let mut fields = Vec::new();
                if let Some(ids) = ids {
                    fields.push(format!("id: {}", ids.yaml()));
                }
                if let Some(roles) = roles {
                    fields.push(format!("roles: {}", roles.yaml()));
                }
                let _ = writeln!(out, "    principal: {{ {} }}", fields.join(", "));
            }
            if !rule.args.is_empty() {
                out.push_str("    args:\n");
                for (name, spec) in &rule.args {
                    let _ = writeln!(out, "      {}: {}", yq(name), spec.yaml());
                }
            }
            if let Some((when, single)) = &rule.when {
                let text = if *single { ysq(when) } else { yq(when) };
                let _ = writeln!(out, "    when: {text}");
            }
        }
        out
    }

    fn yaml(&self) -> String {
        let order: Vec<usize> = (0..self.rules.len()).collect();
        self.yaml_in(&order)
    }
}

fn policy() -> BoxedStrategy<PolicyG> {
    // Eight distinct ids in random order: file order and canonical (effect, id) order differ.
    let ids = subsequence(IDS, 8).prop_shuffle();
    (default_g(), schemas(), prop::collection::vec(rule(), 1..=8), ids)
        .prop_map(|(default, schemas, rules, ids)| PolicyG {
            default,
            schemas,
            rules: ids.into_iter().zip(rules).collect(),
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// `when:` expressions

fn cmp_op() -> impl Strategy<Value = &'static str> {
    select(&["==", "!=", "<", "<=", ">", ">="][..])
}

/// `subject op literal`, or `literal flipped(op) subject` (which means the same).
fn comparison(subject: &str, op: &str, literal: &str, flipped: bool) -> String {
    if flipped {
        let op = match op {
            "<" => ">",
            "<=" => ">=",
            ">" => "<",
            ">=" => "<=",
            other => other,
        };
        format!("{literal} {op} {subject}")
    } else {
        format!("{subject} {op} {literal}")
    }
}

fn literal_list(items: &[&str], trailing: bool) -> String {
    let comma = if trailing && !items.is_empty() { "," } else { "" };
    format!("[{}{comma}]", items.join(", "))
}

/// One well-typed test.
fn when_atom() -> BoxedStrategy<String> {
    let eq_ne = select(&["==", "!="][..]);
    prop_oneof![
        1 => select(&["true", "false"][..]).prop_map(str::to_owned),
        4 => (select(STR_SUBJECTS), eq_ne.clone(), select(STR_LITS), any::<bool>())
            .prop_map(|(s, op, l, f)| comparison(s, op, l, f)),
        3 => (select(INT_SUBJECTS), cmp_op(), select(INT_LITS), any::<bool>())
            .prop_map(|(s, op, l, f)| comparison(s, op, l, f)),
        2 => (select(LEN_SUBJECTS), cmp_op(), select(LEN_LITS), any::<bool>())
            .prop_map(|(s, op, l, f)| comparison(s, op, l, f)),
        1 => (select(BOOL_SUBJECTS), eq_ne, select(&["true", "false"][..]), any::<bool>())
            .prop_map(|(s, op, l, f)| comparison(s, op, l, f)),
        1 => select(BOOL_SUBJECTS).prop_map(str::to_owned),
        2 => (select(STR_SUBJECTS), prop::collection::vec(select(STR_LITS), 0..4), any::<bool>())
            .prop_map(|(s, items, t)| format!("{s} in {}", literal_list(&items, t))),
        1 => (select(INT_SUBJECTS), prop::collection::vec(select(INT_LITS), 0..3), any::<bool>())
            .prop_map(|(s, items, t)| format!("{s} in {}", literal_list(&items, t))),
        3 => (
            select(STR_SUBJECTS),
            select(&["starts_with", "ends_with", "contains"][..]),
            select(STR_LITS),
        )
            .prop_map(|(s, op, l)| format!("{s} {op} {l}")),
        2 => (select(STR_SUBJECTS), select(REGEX_LITS))
            .prop_map(|(s, r)| format!("{s} matches {r}")),
        3 => select(HAS_PATHS).prop_map(|p| format!("has({p})")),
        1 => select(ROLES).prop_map(|r| format!("principal.roles contains \"{r}\"")),
        1 => select(ROLES).prop_map(|r| format!("\"{r}\" in principal.roles")),
        1 => prop::collection::vec(select(ROLES), 1..4).prop_map(|roles| {
            let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
            format!("principal.roles in [{}]", roles.join(", "))
        }),
    ]
    .boxed()
}

/// Parenthesised or not: either way the text parses; without parentheses precedence may
/// regroup it, which only changes which well-typed tree is tested.
fn group(text: &str, parens: bool) -> String {
    if parens { format!("({text})") } else { text.to_owned() }
}

/// A well-typed condition: tests combined with `&&`, `||`, `!` and parentheses.
fn when_expr() -> impl Strategy<Value = String> {
    when_atom().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), any::<bool>(), any::<bool>())
                .prop_map(|(a, b, pa, pb)| format!("{} && {}", group(&a, pa), group(&b, pb))),
            (inner.clone(), inner.clone(), any::<bool>(), any::<bool>())
                .prop_map(|(a, b, pa, pb)| format!("{}||{}", group(&a, pa), group(&b, pb))),
            (inner, any::<bool>()).prop_map(|(a, p)| format!("!{}", group(&a, p))),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Requests

/// How a string is escaped in the JSON text.
#[derive(Clone, Copy, Debug)]
enum Esc {
    /// Only what JSON requires.
    Plain,
    /// Dots as `\u002e` and slashes as `\/`, as an attacker would write `..` to hide it.
    Dots,
    /// Every character as `\uXXXX` (surrogate pairs above U+FFFF).
    All,
}

fn esc() -> impl Strategy<Value = Esc> {
    prop_oneof![6 => Just(Esc::Plain), 1 => Just(Esc::Dots), 1 => Just(Esc::All)]
}

/// A JSON value, written as text by [`Json::render`].
#[derive(Clone, Debug)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(&'static str, Esc),
    /// A string over the runtime's 32 KiB string limit, escaped or not.
    Long(Esc),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Esc, Json)>),
}

fn render_str(text: &str, esc: Esc, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match (esc, c) {
            (Esc::All, c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            (Esc::Dots, '.') => out.push_str("\\u002e"),
            (Esc::Dots, '/') => out.push_str("\\/"),
            (_, '"') => out.push_str("\\\""),
            (_, '\\') => out.push_str("\\\\"),
            (_, '\n') => out.push_str("\\n"),
            (_, c) if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            (_, c) => out.push(c),
        }
    }
    out.push('"');
}

impl Json {
    fn render(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(text) => out.push_str(text),
            Json::Str(text, esc) => render_str(text, *esc, out),
            Json::Long(esc) => {
                let text = format!("/workspace/{}", "a".repeat(33 * 1024));
                match esc {
                    // One escape is enough to make the runtime unescape the string.
                    Esc::Plain => render_str(&text, Esc::Plain, out),
                    _ => {
                        out.push_str("\"\\/");
                        out.push_str(&text[1..]);
                        out.push('"');
                    }
                }
            }
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(out);
                }
                out.push(']');
            }
            Json::Obj(members) => render_members(members, out),
        }
    }
}

fn render_members(members: &[(&str, Esc, Json)], out: &mut String) {
    out.push('{');
    for (i, (key, esc, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        render_str(key, *esc, out);
        out.push(':');
        value.render(out);
    }
    out.push('}');
}

fn number() -> BoxedStrategy<Json> {
    prop_oneof![
        select(NUMBERS).prop_map(|n| Json::Num(n.to_owned())),
        (-12i64..12).prop_map(|n| Json::Num(n.to_string())),
    ]
    .boxed()
}

fn string_from(alphabet: &'static [&'static str]) -> impl Strategy<Value = Json> {
    (select(alphabet), esc()).prop_map(|(s, e)| Json::Str(s, e))
}

fn scalar() -> BoxedStrategy<Json> {
    prop_oneof![
        1 => Just(Json::Null),
        1 => any::<bool>().prop_map(Json::Bool),
        2 => number(),
        2 => string_from(GENERIC),
    ]
    .boxed()
}

fn array() -> BoxedStrategy<Json> {
    prop::collection::vec(scalar(), 0..4).prop_map(Json::Arr).boxed()
}

/// The value of `nested`: an object whose `k`, `m` and `b` the conditions read, or not.
fn nested_value() -> BoxedStrategy<Json> {
    let inner = prop::collection::vec(
        (select(&["k", "j"][..]), esc(), prop_oneof![scalar(), string_from(STR_VALUES_K)]),
        0..3,
    )
    .prop_map(|members| Json::Obj(dedup(members)));
    let member = prop_oneof![
        3 => (Just("k"), esc(), prop_oneof![scalar(), string_from(STR_VALUES_K), number()]),
        2 => (Just("m"), esc(), prop_oneof![2 => inner, 1 => array(), 1 => scalar()]),
        2 => (Just("b"), esc(), prop_oneof![
            3 => any::<bool>().prop_map(Json::Bool),
            1 => scalar(),
        ]),
        1 => (Just("path"), esc(), string_from(PATHS)),
    ];
    prop_oneof![
        6 => prop::collection::vec(member, 0..4).prop_map(|members| Json::Obj(dedup(members))),
        1 => scalar(),
        1 => array(),
    ]
    .boxed()
}

/// Strings `args.nested.k` is compared with in conditions.
const STR_VALUES_K: &[&str] = &["fs.read", "x", "", "a\"b", "\\", "\u{e9}", "a\u{0}b", "1", "r"];

fn dedup<V>(members: Vec<(&'static str, Esc, V)>) -> Vec<(&'static str, Esc, V)> {
    let mut seen = BTreeSet::new();
    members.into_iter().filter(|(key, _, _)| seen.insert(*key)).collect()
}

fn key_esc() -> impl Strategy<Value = Esc> {
    prop_oneof![8 => Just(Esc::Plain), 1 => Just(Esc::All)]
}

/// A member named `key`, its value drawn for what that name usually holds. The names rules
/// constrain are present more often than not; the others less often.
fn maybe_member(
    key: &'static str,
    value: impl Strategy<Value = Json> + 'static,
) -> BoxedStrategy<Option<(&'static str, Esc, Json)>> {
    let p = if RULE_ARGS.contains(&key) { 0.6 } else { 0.3 };
    prop::option::weighted(p, (Just(key), key_esc(), value)).boxed()
}

/// The value of `nul`: mostly an object with a member `k`, the path the artifact would read
/// for an argument named `nul\0k` if it confused the two.
fn nul_value() -> BoxedStrategy<Json> {
    prop_oneof![
        3 => (esc(), prop_oneof![string_from(MODES), scalar()])
            .prop_map(|(e, v)| Json::Obj(vec![("k", e, v)])),
        1 => scalar(),
    ]
    .boxed()
}

/// The members of an arguments object, each name present or not, in random order.
fn members() -> BoxedStrategy<Vec<(&'static str, Esc, Json)>> {
    (
        maybe_member(
            "path",
            prop_oneof![
                16 => string_from(PATHS),
                2 => scalar(),
                1 => array(),
                1 => esc().prop_map(Json::Long),
            ],
        ),
        maybe_member(
            "mode",
            prop_oneof![
                4 => string_from(MODES),
                1 => any::<bool>().prop_map(Json::Bool),
                1 => number(),
                1 => scalar(),
            ],
        ),
        maybe_member("n", prop_oneof![4 => number(), 1 => scalar(), 1 => array()]),
        maybe_member(
            "q",
            prop_oneof![
                6 => string_from(SQLS),
                4 => string_from(GENERIC),
                2 => array(),
                2 => scalar(),
                1 => esc().prop_map(Json::Long),
            ],
        ),
        maybe_member("url", prop_oneof![4 => string_from(URLS), 1 => scalar()]),
        maybe_member("nested", nested_value()),
        (
            maybe_member(NUL_ARG, prop_oneof![string_from(MODES), scalar()]),
            maybe_member("nul", nul_value()),
            maybe_member("other", scalar()),
        ),
    )
        .prop_map(|(path, mode, n, q, url, nested, (nul_arg, nul, other))| {
            let all = [path, mode, n, q, url, nested, nul_arg, nul, other];
            all.into_iter().flatten().collect::<Vec<_>>()
        })
        .prop_shuffle()
        .boxed()
}

/// The arguments of a request.
#[derive(Clone, Debug)]
enum ArgsG {
    /// An object; with `dupes`, its first key appears a second time.
    Members { members: Vec<(&'static str, Esc, Json)>, dupes: bool },
    /// A malformed or non-object document.
    Raw(&'static str),
    /// Objects nested this deep (the root is depth 1).
    Deep(usize),
    /// An object with this many members.
    ManyKeys(usize),
    /// An object with a key over the runtime's 32 KiB string limit, escaped or not.
    LongKey(Esc),
}

impl ArgsG {
    fn render(&self) -> String {
        match self {
            ArgsG::Members { members, dupes } => {
                let mut members = dedup(members.clone());
                if *dupes {
                    // The same key again, spelled with escapes: equal only once unescaped.
                    if let Some((key, _, value)) = members.first().cloned() {
                        members.push((key, Esc::All, value));
                    }
                }
                let mut out = String::new();
                render_members(&members, &mut out);
                out
            }
            ArgsG::Raw(text) => (*text).to_owned(),
            ArgsG::Deep(depth) => {
                let open = "{\"nested\":".repeat(depth - 1);
                format!("{open}{{}}{}", "}".repeat(depth - 1))
            }
            ArgsG::LongKey(esc) => {
                let mut out = String::new();
                let long = Json::Long(*esc);
                long.render(&mut out);
                format!("{{\"mode\":\"r\",{out}:1}}")
            }
            ArgsG::ManyKeys(count) => {
                let members: Vec<String> = (0..*count).map(|i| format!("\"k{i}\":{i}")).collect();
                format!("{{{}}}", members.join(","))
            }
        }
    }
}

fn args_g() -> BoxedStrategy<ArgsG> {
    prop_oneof![
        60 => (members(), prop::bool::weighted(0.04))
            .prop_map(|(members, dupes)| ArgsG::Members { members, dupes }),
        3 => select(RAW_ARGS).prop_map(ArgsG::Raw),
        1 => select(&[32usize, 33][..]).prop_map(ArgsG::Deep),
        1 => select(&[256usize, 257][..]).prop_map(ArgsG::ManyKeys),
        1 => esc().prop_map(ArgsG::LongKey),
    ]
    .boxed()
}

#[derive(Clone, Debug)]
struct RequestG {
    method: &'static str,
    server: &'static str,
    tool: &'static str,
    principal: &'static str,
    roles: Vec<&'static str>,
    args: ArgsG,
}

fn request() -> BoxedStrategy<RequestG> {
    (
        prop_oneof![
            12 => Just("tools/call"),
            2 => Just("resources/read"),
            1 => Just("prompts/get"),
            1 => Just(""),
        ],
        select(&["", "s1", "s2", "S1", "s10"][..]),
        prop_oneof![3 => select(TOOLS), 1 => select(REQUEST_TOOLS)],
        select(&["", "alice", "bob", "Alice"][..]),
        subsequence(&["admin", "dev", "ops", "", "Admin"][..], 0..3),
        args_g(),
    )
        .prop_map(|(method, server, tool, principal, roles, args)| RequestG {
            method,
            server,
            tool,
            principal,
            roles,
            args,
        })
        .boxed()
}

/// Evaluates `request` with both evaluators on `compiled`, returning both outcomes.
fn both(compiled: &Compiled, request: &RequestG, args: &str) -> (Outcome, Outcome) {
    let request = runtime_request(request, &request.roles, args);
    (support::runtime(compiled, &request), support::reference(compiled, &request))
}

/// Shortens a long argument text for failure messages.
fn shown(args: &str) -> String {
    if args.len() > 300 {
        format!("{}... ({} bytes)", &args[..200], args.len())
    } else {
        args.to_owned()
    }
}

fn try_compile(yaml: &str) -> Result<Compiled, String> {
    mcppol_compiler::compile(yaml, "generated.yaml")
        .map_err(|diagnostics| diagnostics.iter().map(|d| d.render(yaml)).collect::<String>())
}

/// Compiles a generated policy for a property other than property 1. A policy that does not
/// compile is property 1's failure, reported there; here it is set aside, so that each test
/// fails only for the property it is named after. (Proptest still fails a test that has to
/// set aside too many cases, so a compiler that rejects everything cannot pass unnoticed.)
fn compile_or_reject(yaml: &str) -> Result<Compiled, TestCaseError> {
    try_compile(yaml).map_err(|diagnostics| {
        TestCaseError::reject(format!("does not compile (property 1): {diagnostics}"))
    })
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 1: every policy the generator produces is well-typed, so it must compile.
    #[test]
    fn every_generated_policy_compiles(policy in policy()) {
        let yaml = policy.yaml();
        if let Err(diagnostics) = try_compile(&yaml) {
            prop_assert!(false, "policy did not compile:\n{yaml}\n{diagnostics}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 900,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 2: the runtime and the reference decide every request alike (effect, code and
    /// rule).
    #[test]
    fn runtime_agrees_with_reference(
        policy in policy(),
        requests in prop::collection::vec(request(), 8..16),
    ) {
        let yaml = policy.yaml();
        let compiled = compile_or_reject(&yaml)?;
        for request in &requests {
            let args = request.args.render();
            let (fast, slow) = both(&compiled, request, &args);
            prop_assert_eq!(
                &fast, &slow,
                "runtime (left) and reference (right) disagree\n\
                 policy:\n{}\nrequest: {:?}\nargs: {}",
                yaml, request, shown(&args)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 2b: jump threading (`mcppol_compiler::thread`) changes no decision, not even
    /// the default's `check`, and never adds a node: the artifact `compile` returns against
    /// the same policy lowered without the pass.
    #[test]
    fn threading_changes_no_decision(
        policy in policy(),
        requests in prop::collection::vec(request(), 8..16),
    ) {
        let yaml = policy.yaml();
        let compiled = compile_or_reject(&yaml)?;
        let plain = mcppol_compiler::emit::emit(&mcppol_compiler::lower::lower(
            &compiled.policy,
            &compiled.patterns,
        ));
        let threaded = mcppol_runtime::Program::from_bytes(&compiled.bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let unthreaded = mcppol_runtime::Program::from_bytes(&plain)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(threaded.node_count() <= unthreaded.node_count());
        let mut scratch = Box::new(mcppol_runtime::Scratch::new());
        for request in &requests {
            let args = request.args.render();
            let request = runtime_request(request, &request.roles, &args);
            let fast = threaded.evaluate(&request, &mut scratch);
            let slow = unthreaded.evaluate(&request, &mut scratch);
            prop_assert_eq!(
                fast, slow,
                "threaded (left) and unthreaded (right) disagree\npolicy:\n{}\nrequest: {:?}",
                yaml, request
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 150,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 3: compiling the same text twice gives the same bytes.
    #[test]
    fn compiling_twice_gives_identical_bytes(policy in policy()) {
        let yaml = policy.yaml();
        let first = compile_or_reject(&yaml)?;
        let second = try_compile(&yaml).map_err(TestCaseError::fail)?;
        prop_assert!(first.bytes == second.bytes, "two compilations differ:\n{}", yaml);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 4: the order of rules in the file never changes a decision.
    #[test]
    fn rule_order_never_changes_decisions(
        policy in policy(),
        keys in prop::collection::vec(any::<u32>(), 8),
        requests in prop::collection::vec(request(), 8..16),
    ) {
        let mut order: Vec<usize> = (0..policy.rules.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        let yaml = policy.yaml();
        let shuffled_yaml = policy.yaml_in(&order);
        let compiled = compile_or_reject(&yaml)?;
        // Once the file order compiles, every other order must too.
        let shuffled = try_compile(&shuffled_yaml).map_err(TestCaseError::fail)?;
        for request in &requests {
            let args = request.args.render();
            let (fast, slow) = both(&compiled, request, &args);
            let (shuffled_fast, shuffled_slow) = both(&shuffled, request, &args);
            prop_assert_eq!(
                &fast, &shuffled_fast,
                "rule order changed the runtime's decision\n\
                 policy:\n{}\nreordered:\n{}\nrequest: {:?}\nargs: {}",
                yaml, shuffled_yaml, request, shown(&args)
            );
            prop_assert_eq!(
                &slow, &shuffled_slow,
                "rule order changed the reference's decision\n\
                 policy:\n{}\nreordered:\n{}\nrequest: {:?}\nargs: {}",
                yaml, shuffled_yaml, request, shown(&args)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 5: conflict resolution against an independent oracle

/// A rule of the simple fragment: one exact tool, at most one `enum` of strings on one
/// argument, nothing else.
#[derive(Clone, Debug)]
struct SimpleRule {
    effect: Eff,
    tool: &'static str,
    constraint: Option<(&'static str, Vec<&'static str>)>,
    single_quotes: bool,
}

#[derive(Clone, Debug)]
struct SimplePolicy {
    default: Eff,
    rules: Vec<(&'static str, SimpleRule)>,
}

impl SimplePolicy {
    fn yaml(&self) -> String {
        let mut out =
            format!("version: 1\nname: simple\ndefault: {}\nrules:\n", self.default.yaml());
        for (id, rule) in &self.rules {
            let _ = write!(
                out,
                "  - id: {}\n    effect: {}\n    reason: \"r\"\n    tool: {}\n",
                yq(id),
                rule.effect.yaml(),
                yq(rule.tool)
            );
            if let Some((arg, values)) = &rule.constraint {
                let values: Vec<String> = values
                    .iter()
                    .map(|v| if rule.single_quotes && !v.contains('\0') { ysq(v) } else { yq(v) })
                    .collect();
                let _ = writeln!(
                    out,
                    "    args:\n      {}: {{ enum: [{}] }}",
                    yq(arg),
                    values.join(", ")
                );
            }
        }
        out
    }

    /// The expected outcome of a call to `tool` with string arguments `args`.
    fn oracle(&self, tool: &str, args: &[(&'static str, &'static str)]) -> Outcome {
        let matching = self.rules.iter().filter(|(_, rule)| {
            rule.tool == tool
                && rule.constraint.as_ref().is_none_or(|(arg, values)| {
                    args.iter().any(|(key, value)| key == arg && values.contains(value))
                })
        });
        resolve_conflict(matching.map(|(id, rule)| (*id, rule.effect)), self.default)
    }
}

/// Among the rules that match, the strongest effect; among those, the smallest id (byte
/// order); the default when none matches.
fn resolve_conflict(matching: impl Iterator<Item = (&'static str, Eff)>, default: Eff) -> Outcome {
    let best = matching.min_by(|(a_id, a), (b_id, b)| {
        b.strength().cmp(&a.strength()).then_with(|| a_id.as_bytes().cmp(b_id.as_bytes()))
    });
    match best {
        Some((id, effect)) => Outcome {
            effect: effect.effect(),
            code: "policy.rule".to_owned(),
            rule: Some(id.to_owned()),
        },
        None => Outcome { effect: default.effect(), code: "policy.default".to_owned(), rule: None },
    }
}

const SIMPLE_ARGS: &[&str] = &["mode", "q"];

fn simple_policy() -> BoxedStrategy<SimplePolicy> {
    let rule = (
        eff(),
        select(TOOLS),
        prop::option::weighted(
            0.7,
            (select(SIMPLE_ARGS), prop::collection::vec(select(ENUM_STRINGS), 1..4)),
        ),
        any::<bool>(),
    )
        .prop_map(|(effect, tool, constraint, single_quotes)| SimpleRule {
            effect,
            tool,
            constraint,
            single_quotes,
        });
    (eff(), prop::collection::vec(rule, 1..=8), subsequence(IDS, 8).prop_shuffle())
        .prop_map(|(default, rules, ids)| SimplePolicy {
            default,
            rules: ids.into_iter().zip(rules).collect(),
        })
        .boxed()
}

/// A request of the simple fragment: string values only, so no rule can fault.
fn simple_request() -> BoxedStrategy<(&'static str, Vec<(&'static str, &'static str)>)> {
    (
        prop_oneof![4 => select(TOOLS), 1 => select(REQUEST_TOOLS)],
        prop::collection::vec((select(&["mode", "q", "other"][..]), select(ENUM_STRINGS)), 0..3),
    )
        .prop_map(|(tool, args)| (tool, dedup_pairs(args)))
        .boxed()
}

fn dedup_pairs(pairs: Vec<(&'static str, &'static str)>) -> Vec<(&'static str, &'static str)> {
    let mut seen = BTreeSet::new();
    pairs.into_iter().filter(|(key, _)| seen.insert(*key)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 5: when several rules match, the strongest effect wins (deny, then
    /// require_approval, then allow), ties broken by id; checked against an oracle over the
    /// generated rules, not the reference evaluator.
    #[test]
    fn strongest_matching_effect_wins(
        policy in simple_policy(),
        requests in prop::collection::vec(simple_request(), 8..16),
    ) {
        let yaml = policy.yaml();
        let compiled = try_compile(&yaml).map_err(TestCaseError::fail)?;
        for (tool, args) in &requests {
            let mut text = String::new();
            let members: Vec<(&str, Esc, Json)> =
                args.iter().map(|(k, v)| (*k, Esc::Plain, Json::Str(v, Esc::Plain))).collect();
            render_members(&members, &mut text);
            let decision = support::runtime(&compiled, &support::call(tool, &text));
            let expected = policy.oracle(tool, args);
            prop_assert_eq!(
                &decision, &expected,
                "runtime (left) and the oracle (right) disagree\npolicy:\n{}\ntool: {:?}\nargs: {}",
                yaml, tool, text
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Ill-typed conditions are compile errors with E03xx codes, wherever they sit inside an
    /// otherwise well-typed condition.
    #[test]
    fn ill_typed_conditions_fail_with_e03xx(
        good in when_expr(),
        bad in select(ILL_TYPED),
        shape in 0..4u8,
    ) {
        let when = match shape {
            0 => bad.to_owned(),
            1 => format!("({good}) && ({bad})"),
            2 => format!("({bad}) || ({good})"),
            _ => format!("!({bad})"),
        };
        let yaml = format!("{ONE_RULE}    when: {}\n", ysq(&when));
        match mcppol_compiler::compile(&yaml, "bad.yaml") {
            Ok(_) => prop_assert!(false, "ill-typed condition compiled: {}", when),
            Err(diagnostics) => {
                let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
                prop_assert!(
                    !codes.is_empty() && codes.iter().all(|code| code.starts_with("E03")),
                    "expected E03xx codes for {}, got {:?}", when, codes
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 6: what a rule targets (tool, method, server, principal), against an oracle

/// Whole-string name glob: `*` any run, `?` one character, `[...]` a class (`!` negates,
/// `a-z` ranges). Written here from the documented glob syntax, independent of the compiler's
/// DFA builder.
fn glob_matches(glob: &[char], text: &[char]) -> bool {
    match glob.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| glob_matches(rest, &text[skip..])),
        Some(('?', rest)) => text.split_first().is_some_and(|(_, tail)| glob_matches(rest, tail)),
        Some(('[', rest)) => {
            let Some(close) = rest.iter().skip(1).position(|&c| c == ']').map(|at| at + 1) else {
                return false;
            };
            let (class, rest) = (&rest[..close], &rest[close + 1..]);
            let (negated, class) = match class.split_first() {
                Some(('!', class)) => (true, class),
                _ => (false, class),
            };
            text.split_first().is_some_and(|(&c, tail)| {
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negated && glob_matches(rest, tail)
            })
        }
        Some((&literal, rest)) => {
            text.split_first().is_some_and(|(&c, tail)| c == literal && glob_matches(rest, tail))
        }
    }
}

fn name_matches(names: &Names, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    names.items.iter().any(|item| glob_matches(&item.chars().collect::<Vec<_>>(), &text))
}

/// A rule of the targeting fragment: no arguments, no condition.
#[derive(Clone, Debug)]
struct TargetRule {
    effect: Eff,
    tool: Option<Names>,
    method: Option<Names>,
    server: Option<Names>,
    principal: (Option<Names>, Option<Names>),
}

#[derive(Clone, Debug)]
struct TargetPolicy {
    default: Eff,
    rules: Vec<(&'static str, TargetRule)>,
}

impl TargetPolicy {
    fn yaml(&self) -> String {
        let mut out =
            format!("version: 1\nname: targets\ndefault: {}\nrules:\n", self.default.yaml());
        for (id, rule) in &self.rules {
            let _ = write!(
                out,
                "  - id: {}\n    effect: {}\n    reason: \"r\"\n",
                yq(id),
                rule.effect.yaml()
            );
            for (key, names) in
                [("tool", &rule.tool), ("method", &rule.method), ("server", &rule.server)]
            {
                if let Some(names) = names {
                    let _ = writeln!(out, "    {key}: {}", names.yaml());
                }
            }
            let (ids, roles) = &rule.principal;
            if ids.is_some() || roles.is_some() {
                let mut fields = Vec::new();
                if let Some(ids) = ids {
                    fields.push(format!("id: {}", ids.yaml()));
                }
                if let Some(roles) = roles {
                    fields.push(format!("roles: {}", roles.yaml()));
                }
                let _ = writeln!(out, "    principal: {{ {} }}", fields.join(", "));
            }
        }
        out
    }

    /// The documented meaning: any tool when `tool` is absent; only `tools/call` when `method`
    /// is absent; any server when `server` is absent; principal ids are exact (any of), and
    /// the principal needs one of the roles.
    fn oracle(&self, request: &TargetRequest) -> Outcome {
        let matching = self.rules.iter().filter(|(_, rule)| {
            rule.tool.as_ref().is_none_or(|tools| name_matches(tools, request.tool))
                && rule.method.as_ref().map_or(request.method == "tools/call", |methods| {
                    name_matches(methods, request.method)
                })
                && rule.server.as_ref().is_none_or(|servers| name_matches(servers, request.server))
                && rule
                    .principal
                    .0
                    .as_ref()
                    .is_none_or(|ids| ids.items.contains(&request.principal))
                && rule
                    .principal
                    .1
                    .as_ref()
                    .is_none_or(|roles| roles.items.iter().any(|r| request.roles.contains(r)))
        });
        resolve_conflict(matching.map(|(id, rule)| (*id, rule.effect)), self.default)
    }
}

#[derive(Clone, Debug)]
struct TargetRequest {
    method: &'static str,
    server: &'static str,
    tool: &'static str,
    principal: &'static str,
    roles: Vec<&'static str>,
}

const TARGET_METHODS: &[&str] =
    &["tools/call", "resources/read", "prompts/get", "*", "tools/*", "*/read"];
const TARGET_SERVERS: &[&str] = &["s1", "s2", "s*", "*", "S1", "s?", "[a-s]1", "[!s]*"];

fn target_policy() -> BoxedStrategy<TargetPolicy> {
    let rule = (
        eff(),
        prop::option::weighted(0.7, names(TOOLS_AND_GLOBS, 3)),
        prop::option::weighted(0.4, names(TARGET_METHODS, 2)),
        prop::option::weighted(0.4, names(TARGET_SERVERS, 2)),
        prop::option::weighted(0.3, names(&["alice", "bob", ""], 2)),
        prop::option::weighted(0.3, names(ROLES, 2)),
    )
        .prop_map(|(effect, tool, method, server, ids, roles)| TargetRule {
            effect,
            tool,
            method,
            server,
            principal: (ids, roles),
        });
    (eff(), prop::collection::vec(rule, 1..=8), subsequence(IDS, 8).prop_shuffle())
        .prop_map(|(default, rules, ids)| TargetPolicy {
            default,
            rules: ids.into_iter().zip(rules).collect(),
        })
        .boxed()
}

fn target_request() -> BoxedStrategy<TargetRequest> {
    (
        prop_oneof![
            4 => Just("tools/call"),
            1 => select(&["resources/read", "prompts/get", "", "tools/list"][..]),
        ],
        select(&["", "s1", "s2", "S1", "s10", "a1", "t"][..]),
        select(REQUEST_TOOLS),
        select(&["", "alice", "bob", "Alice"][..]),
        subsequence(&["admin", "dev", "ops", "", "Admin"][..], 0..3),
    )
        .prop_map(|(method, server, tool, principal, roles)| TargetRequest {
            method,
            server,
            tool,
            principal,
            roles,
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 6: a rule applies exactly to the tools, methods, servers and principals it
    /// names (exact names, lists and globs), checked against an oracle over the generated
    /// rules; with several matches the strongest effect wins as in property 5.
    #[test]
    fn rules_apply_to_what_they_name(
        policy in target_policy(),
        requests in prop::collection::vec(target_request(), 8..16),
    ) {
        let yaml = policy.yaml();
        let compiled = try_compile(&yaml).map_err(TestCaseError::fail)?;
        for request in &requests {
            let roles = request.roles.clone();
            let wire = Request {
                method: request.method,
                server: request.server,
                tool: request.tool,
                principal_id: request.principal,
                principal_roles: &roles,
                args: b"{}",
            };
            let decision = support::runtime(&compiled, &wire);
            let expected = policy.oracle(request);
            prop_assert_eq!(
                &decision, &expected,
                "runtime (left) and the oracle (right) disagree\npolicy:\n{}\nrequest: {:?}",
                yaml, request
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Minimised disagreements found by the properties above. Each is named after its property.

/// Property 1: an `in` list that repeats a string is well-typed, but the compiler counted the
/// distinct strings against all items and reported E0313 ("must hold only strings or only
/// integers"); for `principal.roles in [...]` it reported "role lists hold strings".
#[test]
fn every_generated_policy_compiles_with_repeated_in_list_items() {
    for when in [r#"tool in ["x", "x"]"#, r#"principal.roles in ["admin", "admin"]"#] {
        let yaml = format!("{ONE_RULE}    when: {}\n", ysq(when));
        let compiled = support::compile(&yaml);
        let request = Request { principal_roles: &["admin"], ..support::call("x", "{}") };
        let decision = support::decide(&compiled, &request);
        assert_eq!(decision.effect, Effect::Allow, "{when}");
    }
}

/// Property 2: the reference compared numbers through `f64`, so a number no `f64` holds was
/// rounded or lost: `1.0000000000000001` became 1, `1e-400` became 0, `-9223372036854775809`
/// became `i64::MIN`, and `1e400` failed to parse. The runtime compares the decimal text
/// exactly, and the reference must too.
#[test]
fn runtime_agrees_with_reference_on_numbers_no_f64_holds() {
    let yaml = r#"version: 1
name: p
rules:
  - id: integer
    effect: allow
    reason: r
    tool: t1
    args:
      n: { type: integer }
  - id: above-one
    effect: allow
    reason: r
    tool: t2
    when: 'args.n > 1'
  - id: at-least-min
    effect: allow
    reason: r
    tool: t3
    args:
      n: { minimum: -9223372036854775808 }
  - id: zero
    effect: allow
    reason: r
    tool: t4
    args:
      n: { enum: [0] }
"#;
    let compiled = support::compile(yaml);
    let disagreements: Vec<String> = [
        ("t1", r#"{"n":1e-400}"#),
        ("t1", r#"{"n":1.0000000000000001}"#),
        ("t2", r#"{"n":1.0000000000000001}"#),
        ("t2", r#"{"n":1e400}"#),
        ("t3", r#"{"n":-9223372036854775809}"#),
        ("t4", r#"{"n":1e-400}"#),
    ]
    .into_iter()
    .filter_map(|(tool, args)| {
        let fast = support::runtime(&compiled, &support::call(tool, args));
        let slow = support::reference(&compiled, &support::call(tool, args));
        (fast != slow).then(|| format!("{tool} {args}: runtime {fast:?}, reference {slow:?}"))
    })
    .collect();
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Property 2: an argument name containing NUL (`"nul\0k"` in YAML, `"nul\u0000k"` in JSON)
/// was accepted under `args:` of rules and tool schemas, but the artifact joins argument paths
/// with NUL, so the runtime read `args.nul.k` instead: it denied a call that had the argument
/// and checked the nested value of another one. Such a policy must now be refused, or else
/// decided alike by both evaluators.
#[test]
fn runtime_agrees_with_reference_on_argument_names_with_nul() {
    let yaml = r#"version: 1
name: p
default: allow
tools:
  t:
    args:
      "nul\0k": { required: true }
rules:
  - id: r
    effect: deny
    reason: r
    tool: u
    args:
      "nul\0k": { enum: ["x"] }
"#;
    let Ok(compiled) = mcppol_compiler::compile(yaml, "test.yaml") else { return };
    for (tool, args) in [
        ("t", r#"{"nul\u0000k":"x"}"#),
        ("u", r#"{"nul\u0000k":"x"}"#),
        ("u", r#"{"nul":{"k":"x"}}"#),
    ] {
        let fast = support::runtime(&compiled, &support::call(tool, args));
        let slow = support::reference(&compiled, &support::call(tool, args));
        assert_eq!(fast, slow, "runtime (left) and reference (right) disagree on {tool} {args}");
    }
}

/// Records the branches one evaluation takes.
#[derive(Default)]
struct Branches(Vec<(u32, bool)>);

impl mcppol_runtime::Trace for Branches {
    fn test(&mut self, node: u32, _predicate: u32, outcome: Option<bool>) {
        if let Some(value) = outcome {
            self.0.push((node, value));
        }
    }
    fn decide(&mut self, _node: u32, _outcome: u32) {}
}

/// `request` as the runtime reads it, with `roles` and `args` as its roles and argument text.
fn runtime_request<'r>(request: &'r RequestG, roles: &'r [&'r str], args: &'r str) -> Request<'r> {
    Request {
        method: request.method,
        server: request.server,
        tool: request.tool,
        principal_id: request.principal,
        principal_roles: roles,
        args: args.as_bytes(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 8: the path analysis behind lint, coverage and diff is sound: every branch a
    /// real request takes is one it calls feasible (unless it says it ran out of budget), so
    /// "can never fire" and "proven infeasible" are never wrong.
    #[test]
    fn path_analysis_never_calls_a_taken_branch_infeasible(
        policy in policy(),
        requests in prop::collection::vec(request(), 8..16),
    ) {
        let yaml = policy.yaml();
        let compiled = compile_or_reject(&yaml)?;
        let reach = mcppol_compiler::analysis::reach_of(
            &compiled.bytes, &compiled.source_map, &compiled.patterns,
        ).expect("verified bytes");
        prop_assume!(!reach.incomplete);
        let program = mcppol_runtime::Program::from_bytes(&compiled.bytes).expect("verified");
        let mut scratch = Box::new(mcppol_runtime::Scratch::new());
        for request in &requests {
            let args = request.args.render();
            let roles = request.roles.clone();
            let mut taken = Branches::default();
            program.evaluate_traced(&runtime_request(request, &roles, &args), &mut scratch, &mut taken);
            for branch in &taken.0 {
                prop_assert!(
                    reach.branches.contains(branch),
                    "branch {:?} taken but called infeasible\npolicy:\n{}\nrequest: {:?}\nargs: {}",
                    branch, yaml, request, shown(&args)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 100,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Property 9: the semantic diff misses no change: every request whose decision differs
    /// between two policies falls in a region the diff reports (same tool, same old and new
    /// decision), and every witness it shows really moves between exactly those decisions.
    #[test]
    fn diff_reports_every_changed_request_and_only_true_witnesses(
        old in policy(),
        new in policy(),
        requests in prop::collection::vec(request(), 8..16),
    ) {
        let (old_yaml, new_yaml) = (old.yaml(), new.yaml());
        let (old_compiled, new_compiled) = (compile_or_reject(&old_yaml)?, compile_or_reject(&new_yaml)?);
        let report = mcppol_compiler::diff::diff(&old_compiled, &new_compiled);
        prop_assume!(!report.incomplete);
        let old_program = mcppol_runtime::Program::from_bytes(&old_compiled.bytes).expect("verified");
        let new_program = mcppol_runtime::Program::from_bytes(&new_compiled.bytes).expect("verified");
        let verdict = |d: &mcppol_runtime::Decision<'_>| mcppol_compiler::diff::Verdict {
            effect: d.effect.as_str().to_owned(),
            rule: d.rule.map(str::to_owned),
            code: d.code.to_owned(),
        };
        for change in &report.changes {
            if let Some(witness) = &change.witness {
                prop_assert_eq!(witness.decide(&old_program, verdict), change.old.clone());
                prop_assert_eq!(witness.decide(&new_program, verdict), change.new.clone());
            }
        }
        let named: BTreeSet<&str> = old_program.tools().chain(new_program.tools()).map(|(n, _)| n).collect();
        let mut scratch = Box::new(mcppol_runtime::Scratch::new());
        for request in &requests {
            let args = request.args.render();
            let roles = request.roles.clone();
            let runtime = runtime_request(request, &roles, &args);
            let before = verdict(&old_program.evaluate(&runtime, &mut scratch));
            let after = verdict(&new_program.evaluate(&runtime, &mut scratch));
            // A fault (a value a test cannot judge: wrong type, unsafe path, bad JSON) denies
            // outside the DAG's branches; the product does not model it (documented), and
            // `--requests` replay is how such changes are found.
            let fault = |v: &mcppol_compiler::diff::Verdict| {
                v.rule.is_none() && !v.code.starts_with("policy.") && !v.code.starts_with("args.schema.")
            };
            if before == after || fault(&before) || fault(&after) {
                continue;
            }
            let tool = named.contains(request.tool).then(|| request.tool.to_owned());
            let found = report.changes.iter().any(|c| c.tool == tool && c.old == before && c.new == after);
            prop_assert!(
                found,
                "change {} -> {} not reported\nold:\n{}\nnew:\n{}\nrequest: {:?}\nargs: {}",
                before, after, old_yaml, new_yaml, request, shown(&args)
            );
        }
    }
}
