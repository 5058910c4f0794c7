//! The hardened constraint kinds of policy language v1.1: decimal bounds, byte lengths, array
//! quantifiers, nested fields, URL ports/paths/SSRF, SQL tables and functions, path options,
//! and tool input schemas. Every case runs through the runtime and the reference evaluator.

use crate::support::{call, compile, compile_error_codes, decide};
use mcppol_runtime::Effect::{self, Allow, Deny};

fn policy(tool: &str, args: &str) -> String {
    format!(
        "version: 1\nname: c\nrules:\n  - id: r\n    effect: allow\n    reason: ok\n    tool: {tool}\n    args:\n{args}"
    )
}

#[track_caller]
fn check(yaml: &str, cases: &[(&str, &str, Effect, &str)]) {
    let compiled = compile(yaml);
    for (tool, args, effect, code) in cases {
        let outcome = decide(&compiled, &call(tool, args));
        assert_eq!((outcome.effect, outcome.code.as_str()), (*effect, *code), "{tool} {args}");
    }
}

#[test]
fn decimal_bounds_are_exact() {
    let yaml = policy("t", "      n: { minimum: 0.1, exclusive_maximum: 99.5 }\n");
    check(
        &yaml,
        &[
            ("t", r#"{"n":0.1}"#, Allow, "policy.rule"),
            ("t", r#"{"n":0.09999999999999999999}"#, Deny, "policy.default"),
            ("t", r#"{"n":99.49999999999999999}"#, Allow, "policy.rule"),
            ("t", r#"{"n":99.5}"#, Deny, "policy.default"),
            ("t", r#"{"n":995e-1}"#, Deny, "policy.default"),
            ("t", r#"{"n":1e400}"#, Deny, "policy.default"),
            ("t", r#"{"n":"5"}"#, Deny, "args.type"),
        ],
    );
}

#[test]
fn byte_and_character_lengths_differ() {
    let yaml = policy("t", "      s: { max_bytes: 4, max_length: 4 }\n");
    check(
        &yaml,
        &[
            ("t", r#"{"s":"abcd"}"#, Allow, "policy.rule"),
            // Two characters, four bytes: within both limits.
            ("t", r#"{"s":"éé"}"#, Allow, "policy.rule"),
            // Three characters, six bytes.
            ("t", r#"{"s":"ééé"}"#, Deny, "policy.default"),
            ("t", r#"{"s":"\u00e9\u00e9\u00e9"}"#, Deny, "policy.default"),
        ],
    );
}

#[test]
fn array_quantifiers_and_counts() {
    let yaml = policy(
        "t",
        "      labels:\n        max_items: 3\n        items: { type: string, pattern: '^[a-z]+$' }\n        contains: { enum: [bug] }\n",
    );
    check(
        &yaml,
        &[
            ("t", r#"{"labels":["bug","ui"]}"#, Allow, "policy.rule"),
            ("t", r#"{"labels":["ui"]}"#, Deny, "policy.default"),
            ("t", r#"{"labels":["bug","UI"]}"#, Deny, "policy.default"),
            ("t", r#"{"labels":["bug",7]}"#, Deny, "policy.default"),
            ("t", r#"{"labels":["bug","a","b","c"]}"#, Deny, "policy.default"),
            ("t", r#"{"labels":"bug"}"#, Deny, "policy.default"),
        ],
    );
    assert_eq!(
        compile_error_codes(&policy(
            "t",
            "      l: { items: { properties: { a: { type: string } } } }\n"
        )),
        vec!["E0217"]
    );
}

#[test]
fn nested_fields_by_path() {
    let yaml = policy(
        "t",
        "      options:\n        additional_properties: false\n        properties:\n          recursive: { enum: [false] }\n          depth: { maximum: 3 }\n",
    );
    check(
        &yaml,
        &[
            ("t", r#"{"options":{"recursive":false,"depth":2}}"#, Allow, "policy.rule"),
            ("t", r#"{"options":{"recursive":true,"depth":2}}"#, Deny, "policy.default"),
            ("t", r#"{"options":{"recursive":false}}"#, Deny, "policy.default"),
            (
                "t",
                r#"{"options":{"recursive":false,"depth":2,"force":true}}"#,
                Deny,
                "policy.default",
            ),
            (
                "t",
                r#"{"options":{"recursive":false,"depth":2,"recursive":true}}"#,
                Deny,
                "json.duplicate_key",
            ),
        ],
    );
}

#[test]
fn url_ports_paths_and_ssrf() {
    let yaml = policy(
        "http.fetch",
        "      url:\n        url: { schemes: [https], hosts: [api.github.com], ports: [443], paths: [/repos], ssrf: true }\n",
    );
    check(
        &yaml,
        &[
            ("http.fetch", r#"{"url":"https://api.github.com/repos/a/b"}"#, Allow, "policy.rule"),
            ("http.fetch", r#"{"url":"https://api.github.com:443/repos"}"#, Allow, "policy.rule"),
            (
                "http.fetch",
                r#"{"url":"https://api.github.com:8443/repos"}"#,
                Deny,
                "policy.default",
            ),
            ("http.fetch", r#"{"url":"https://api.github.com/user"}"#, Deny, "policy.default"),
            (
                "http.fetch",
                r#"{"url":"https://api.github.com/repos/../user"}"#,
                Deny,
                "policy.default",
            ),
            ("http.fetch", r#"{"url":"https://api.github.com/reposx"}"#, Deny, "policy.default"),
            ("http.fetch", r#"{"url":"https://localhost/repos"}"#, Deny, "url.ssrf_local_name"),
        ],
    );
}

#[test]
fn sql_tables_and_functions() {
    let yaml = policy(
        "q",
        "      sql:\n        sql: { allow: [select], tables: { in: [users, orders], not_in: [secrets] }, deny_functions: [crypt] }\n",
    );
    check(
        &yaml,
        &[
            ("q", r#"{"sql":"SELECT id FROM users JOIN orders ON true"}"#, Allow, "policy.rule"),
            ("q", r#"{"sql":"SELECT * FROM secrets"}"#, Deny, "policy.default"),
            ("q", r#"{"sql":"SELECT * FROM audit"}"#, Deny, "policy.default"),
            ("q", r#"{"sql":"SELECT crypt(name) FROM users"}"#, Deny, "sql.function_denied"),
            ("q", r#"{"sql":"SELECT pg_sleep(10) FROM users"}"#, Deny, "sql.dangerous_function"),
            (
                "q",
                r#"{"sql":"SELECT pg_catalog.pg_read_file('/etc/passwd')"}"#,
                Deny,
                "sql.dangerous_function",
            ),
        ],
    );
}

#[test]
fn tool_input_schemas_from_mcp_servers_are_enforced() {
    let yaml = r#"version: 1
name: schema
default: allow
tools:
  fs.read:
    input_schema:
      type: object
      properties:
        path: { type: string, description: "file to read", minLength: 1 }
        tail: { type: integer, minimum: 1, maximum: 1000 }
        options:
          type: object
          properties:
            encoding: { type: string, enum: [utf8, base64] }
          additionalProperties: false
      required: [path]
      additionalProperties: false
"#;
    check(
        yaml,
        &[
            ("fs.read", r#"{"path":"/a","tail":10}"#, Allow, "policy.default"),
            ("fs.read", r#"{}"#, Deny, "args.schema.required"),
            ("fs.read", r#"{"path":"/a","x":1}"#, Deny, "args.schema.unknown"),
            ("fs.read", r#"{"path":"/a","tail":0}"#, Deny, "args.schema.constraint"),
            ("fs.read", r#"{"path":"/a","tail":"10"}"#, Deny, "args.schema.type"),
            (
                "fs.read",
                r#"{"path":"/a","options":{"encoding":"hex"}}"#,
                Deny,
                "args.schema.constraint",
            ),
            (
                "fs.read",
                r#"{"path":"/a","options":{"encoding":"utf8","z":1}}"#,
                Deny,
                "args.schema.unknown",
            ),
            ("fs.read", r#"{"path":""}"#, Deny, "args.schema.constraint"),
        ],
    );
    // A validation keyword mcppol cannot check is an error, never silently dropped.
    let unsupported = "version: 1\nname: s\ntools:\n  t:\n    input_schema: { type: object, properties: { a: { anyOf: [{type: string}, {type: integer}] } } }\n";
    assert_eq!(compile_error_codes(unsupported), vec!["E0219"]);
}

#[test]
fn a_default_deny_names_the_check_that_failed() {
    let artifact = std::fs::read(crate::support::root().join("policies/default.mcpb")).unwrap();
    let program = mcppol_runtime::Program::from_bytes(&artifact).unwrap();
    let mut scratch = Box::new(mcppol_runtime::Scratch::new());
    let cases = [
        ("http.fetch", r#"{"url":"https://evil.com/"}"#, Some("url.host")),
        ("http.fetch", r#"{"url":"http://api.github.com/"}"#, Some("url.scheme")),
        ("http.fetch", r#"{"url":"https://api.github.com:8443/"}"#, Some("url.port")),
        ("fs.read", r#"{"path":"/etc/passwd"}"#, Some("path.not_allowed")),
        ("sql.query", r#"{"query":"DROP TABLE users"}"#, Some("sql.statement")),
        ("sql.query", r#"{"query":"SELECT * FROM pg_roles"}"#, Some("sql.table")),
        // A rule decided, or a fault: no check to report.
        ("fs.read", r#"{"path":"/workspace/a"}"#, None),
        ("fs.read", r#"{"path":"/workspace/%2e%2e/x"}"#, None),
    ];
    for (tool, args, check) in cases {
        let decision = program.evaluate(&call(tool, args), &mut scratch);
        assert_eq!(decision.check, check, "{tool} {args}");
    }
}

#[test]
fn path_tests_on_different_arguments_never_share_a_normalisation() {
    // Both arguments are unescaped into the same scratch buffer and normalised with the same
    // options: the evaluator's per-request normalisation cache must still tell them apart.
    let yaml =
        policy("copy", "      src: { path: { in: [/a] } }\n      dst: { path: { in: [/b] } }\n");
    check(
        &yaml,
        &[
            ("copy", r#"{"src":"/a/x","dst":"/b/y"}"#, Allow, "policy.rule"),
            ("copy", r#"{"src":"/a/x","dst":"/a/y"}"#, Deny, "policy.default"),
            ("copy", r#"{"src":"\u002fa/x","dst":"\u002fa/y"}"#, Deny, "policy.default"),
            ("copy", r#"{"src":"\u002fa/x","dst":"\u002fb/y"}"#, Allow, "policy.rule"),
            ("copy", r#"{"src":"/b/x","dst":"/b/y"}"#, Deny, "policy.default"),
        ],
    );
}

/// The `Test::PathGlob` atoms the compiled policy tests, as their glob lists.
fn glob_tests(compiled: &mcppol_compiler::Compiled) -> Vec<Vec<String>> {
    compiled
        .source_map
        .predicate_atoms
        .iter()
        .filter_map(|atom| match &atom.test {
            mcppol_compiler::ir::Test::PathGlob(globs, _) => Some(globs.iter().cloned().collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_glob_list_is_one_test_that_decides_like_its_globs() {
    // The runtime walks the union's DFA; the reference tests each glob's own DFA, so `decide`
    // checks on every path that the one test decides like the list of globs.
    let yaml = policy(
        "fs.read",
        "      path:\n        path:\n          in: [/srv, \"**/.env\", \"**/.env.*\", \"**/.ssh/**\", \"**/*.PEM\", \"/etc/?ost[s]\"]\n          case: insensitive\n",
    );
    let compiled = compile(&yaml);
    assert_eq!(
        glob_tests(&compiled),
        [["**/*.pem", "**/.env", "**/.env.*", "**/.ssh/**", "/etc/?ost[s]"]],
        "one glob test for the whole list, in lowercase"
    );
    let mut allowed = 0;
    let paths = [
        "/srv/x",
        "/SRV",
        "/a/.env",
        "/a/.ENV",
        "/a/.env.local",
        "/a/.envx",
        "/a/.env/x",
        "/home/u/.ssh",
        "/home/u/.SSH/id_rsa",
        "/home/u/.sshx/id",
        "/k.pem",
        "/k.Pem",
        "/k.pem/x",
        "/etc/hosts",
        "/etc/Posts",
        "/etc/hostx",
        "/workspace/README.md",
        "/workspace/../etc/hosts",
        "/workspace/./a/../.env",
        "relative/.env",
        "/",
    ];
    for path in paths {
        let args = format!("{{\"path\":{path:?}}}");
        let outcome = decide(&compiled, &call("fs.read", &args));
        allowed += usize::from(outcome.effect == Allow);
    }
    // Both answers occur, so the agreement above is checked both ways.
    assert!((5..paths.len() - 5).contains(&allowed), "{allowed} of {} allowed", paths.len());
}

#[test]
fn a_glob_list_whose_union_is_too_large_still_compiles_as_one_test_per_glob() {
    // Each glob remembers where the last `a` (or `b`) of the last 11 characters was, which
    // fits in a DFA; their union would have to remember both, which does not (the compiler's
    // unit tests check that). The policy compiled before lists were unioned, so it still must.
    let yaml = policy(
        "fs.read",
        "      path: { path: { in: [\"/x/*a??????????\", \"/x/*b??????????\", \"**/.env\"] } }\n",
    );
    let compiled = compile(&yaml);
    // Predicates are numbered children first, so sort before comparing.
    let mut tests = glob_tests(&compiled);
    tests.sort();
    assert_eq!(
        tests,
        [["**/.env"], ["/x/*a??????????"], ["/x/*b??????????"]],
        "one glob test per glob"
    );
    for (path, effect) in [
        ("/x/a0123456789", Allow),
        ("/x/b0123456789", Allow),
        ("/x/0123456789ab", Deny),
        ("/x/cccab0123456789", Allow),
        ("/x/y/a0123456789", Deny),
        ("/y/.env", Allow),
        ("/y/env", Deny),
    ] {
        let args = format!("{{\"path\":{path:?}}}");
        assert_eq!(decide(&compiled, &call("fs.read", &args)).effect, effect, "{path}");
    }
}
