//! Table tests of `parse`: the tree of every construct, precedence, spans, keywords, escapes,
//! and every error code with its exact message, span and help.

// clippy's `allow-panic-in-tests` covers `#[test]` functions, not the helpers they share.
#![allow(clippy::panic, reason = "test helpers fail the test by panicking")]

use mcppol_grammar::ast::{
    CompareOp, Expr, ExprKind, Literal, Operand, OperandKind, Path, PathRoot, Span, StrOp,
};
use mcppol_grammar::{SyntaxError, parse, print, strip_spans};

// Builders of span-less expected trees, compared against `strip_spans(parse(..))`.

fn path(root: PathRoot, segments: &[&str]) -> Path {
    Path {
        root,
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
        span: Span::default(),
    }
}

fn args(segments: &[&str]) -> Path {
    path(PathRoot::Args, segments)
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

fn o(kind: OperandKind) -> Operand {
    Operand { kind, span: Span::default() }
}

fn truthy(p: Path) -> Expr {
    e(ExprKind::Truthy(p))
}

fn a(segment: &str) -> Expr {
    truthy(args(&[segment]))
}

fn or(l: Expr, r: Expr) -> Expr {
    e(ExprKind::Or(Box::new(l), Box::new(r)))
}

fn and(l: Expr, r: Expr) -> Expr {
    e(ExprKind::And(Box::new(l), Box::new(r)))
}

fn not(x: Expr) -> Expr {
    e(ExprKind::Not(Box::new(x)))
}

fn pth(p: Path) -> Operand {
    o(OperandKind::Path(p))
}

fn len(p: Path) -> Operand {
    o(OperandKind::Len(p))
}

fn s(value: &str) -> Operand {
    o(OperandKind::Literal(Literal::String(value.to_owned())))
}

fn int(value: i64) -> Operand {
    o(OperandKind::Literal(Literal::Integer(value)))
}

fn boolean(value: bool) -> Operand {
    o(OperandKind::Literal(Literal::Bool(value)))
}

fn list(items: Vec<Literal>) -> Operand {
    o(OperandKind::List(items))
}

fn cmp(lhs: Operand, op: CompareOp, rhs: Operand) -> Expr {
    e(ExprKind::Compare { lhs, op, rhs })
}

fn is_in(value: Operand, list: Operand) -> Expr {
    e(ExprKind::In { value, list })
}

fn pred(subject: Operand, op: StrOp, pattern: Operand) -> Expr {
    e(ExprKind::StrPredicate { subject, op, pattern })
}

fn matches(subject: Operand, regex: &str) -> Expr {
    e(ExprKind::Matches { subject, regex: regex.to_owned(), regex_span: Span::default() })
}

fn parsed(source: &str) -> Expr {
    match parse(source) {
        Ok(expr) => strip_spans(&expr),
        Err(errors) => panic!("{source:?} did not parse: {errors:?}"),
    }
}

fn errors(source: &str) -> Vec<SyntaxError> {
    match parse(source) {
        Ok(expr) => panic!("{source:?} parsed as {expr:?}"),
        Err(errors) => errors,
    }
}

fn sp(start: usize, end: usize) -> Span {
    Span { start, end }
}

#[test]
fn every_construct_parses_to_its_tree() {
    use CompareOp::*;
    let cases: Vec<(&str, Expr)> = vec![
        ("true", e(ExprKind::Bool(true))),
        ("false", e(ExprKind::Bool(false))),
        ("args.recursive", a("recursive")),
        ("args", truthy(args(&[]))),
        ("principal.id", truthy(path(PathRoot::Principal, &["id"]))),
        ("method", truthy(path(PathRoot::Method, &[]))),
        ("server", truthy(path(PathRoot::Server, &[]))),
        ("tool", truthy(path(PathRoot::Tool, &[]))),
        ("args.a.b.c", truthy(args(&["a", "b", "c"]))),
        ("has(args.x)", e(ExprKind::Has(args(&["x"])))),
        ("has ( args . x )", e(ExprKind::Has(args(&["x"])))),
        ("tool == \"read_file\"", cmp(pth(path(PathRoot::Tool, &[])), Eq, s("read_file"))),
        ("args.n != 1", cmp(pth(args(&["n"])), Ne, int(1))),
        ("args.n < -1", cmp(pth(args(&["n"])), Lt, int(-1))),
        ("args.n <= 0", cmp(pth(args(&["n"])), Le, int(0))),
        ("args.n > 007", cmp(pth(args(&["n"])), Gt, int(7))),
        ("args.n >= 9223372036854775807", cmp(pth(args(&["n"])), Ge, int(i64::MAX))),
        ("args.n >= -9223372036854775808", cmp(pth(args(&["n"])), Ge, int(i64::MIN))),
        ("true == args.f", cmp(boolean(true), Eq, pth(args(&["f"])))),
        ("args.f == false", cmp(pth(args(&["f"])), Eq, boolean(false))),
        ("1 == 2", cmp(int(1), Eq, int(2))),
        ("len(args.p) > 255", cmp(len(args(&["p"])), Gt, int(255))),
        ("args.n==-5", cmp(pth(args(&["n"])), Eq, int(-5))),
        (
            "tool in [\"a\", 1, true,]",
            is_in(
                pth(path(PathRoot::Tool, &[])),
                list(vec![
                    Literal::String("a".to_owned()),
                    Literal::Integer(1),
                    Literal::Bool(true),
                ]),
            ),
        ),
        ("tool in []", is_in(pth(path(PathRoot::Tool, &[])), list(vec![]))),
        (
            "\"admin\" in principal.roles",
            is_in(s("admin"), pth(path(PathRoot::Principal, &["roles"]))),
        ),
        ("args.p starts_with \"/tmp/\"", pred(pth(args(&["p"])), StrOp::StartsWith, s("/tmp/"))),
        ("args.p ends_with \".env\"", pred(pth(args(&["p"])), StrOp::EndsWith, s(".env"))),
        ("args.c contains \"rm\"", pred(pth(args(&["c"])), StrOp::Contains, s("rm"))),
        ("args.p matches \"^\\\\d+$\"", matches(pth(args(&["p"])), "^\\d+$")),
        ("len(args.x) matches \"a\"", matches(len(args(&["x"])), "a")),
        ("!args.a", not(a("a"))),
        ("!!args.a", not(not(a("a")))),
        ("args.a && args.b", and(a("a"), a("b"))),
        ("args.a || args.b", or(a("a"), a("b"))),
        ("(args.a)", a("a")),
        ("((true))", e(ExprKind::Bool(true))),
        ("\n\t args.a \r\n", a("a")),
    ];
    for (source, expected) in cases {
        assert_eq!(parsed(source), expected, "{source}");
    }
}

#[test]
fn precedence_and_associativity() {
    let cases: Vec<(&str, Expr)> = vec![
        ("args.a || args.b && !args.c", or(a("a"), and(a("b"), not(a("c"))))),
        ("args.a && args.b || args.c", or(and(a("a"), a("b")), a("c"))),
        ("args.a || args.b || args.c", or(or(a("a"), a("b")), a("c"))),
        ("args.a && args.b && args.c", and(and(a("a"), a("b")), a("c"))),
        ("args.a || (args.b || args.c)", or(a("a"), or(a("b"), a("c")))),
        ("(args.a || args.b) && args.c", and(or(a("a"), a("b")), a("c"))),
        ("!args.a && args.b", and(not(a("a")), a("b"))),
        ("!(args.a && args.b)", not(and(a("a"), a("b")))),
        // `!` takes the whole test, not the path.
        ("!args.n == 1", not(cmp(pth(args(&["n"])), CompareOp::Eq, int(1)))),
        (
            "!args.p starts_with \"/\" || args.q",
            or(not(pred(pth(args(&["p"])), StrOp::StartsWith, s("/"))), a("q")),
        ),
    ];
    for (source, expected) in cases {
        assert_eq!(parsed(source), expected, "{source}");
    }
}

#[test]
fn spans_cover_exactly_the_source_of_each_node() {
    let source = "args.a || (args.b && !has(args.c))";
    let expr = parse(source).unwrap();
    assert_eq!(expr.span, sp(0, 34));
    let ExprKind::Or(lhs, rhs) = &expr.kind else { panic!("{expr:?}") };
    assert_eq!(lhs.span, sp(0, 6));
    let ExprKind::Truthy(p) = &lhs.kind else { panic!("{lhs:?}") };
    assert_eq!(p.span, sp(0, 6));
    // The parenthesised `&&` spans its parentheses.
    assert_eq!(rhs.span, sp(10, 34));
    let ExprKind::And(b, not_c) = &rhs.kind else { panic!("{rhs:?}") };
    assert_eq!(b.span, sp(11, 17));
    assert_eq!(not_c.span, sp(21, 33));
    let ExprKind::Not(has) = &not_c.kind else { panic!("{not_c:?}") };
    assert_eq!(has.span, sp(22, 33));
    let ExprKind::Has(p) = &has.kind else { panic!("{has:?}") };
    assert_eq!(p.span, sp(26, 32));

    let source = "  len(args[\"a b\"]) <= 3 ";
    let expr = parse(source).unwrap();
    assert_eq!(expr.span, sp(2, 23));
    let ExprKind::Compare { lhs, rhs, .. } = &expr.kind else { panic!("{expr:?}") };
    assert_eq!(lhs.span, sp(2, 18));
    let OperandKind::Len(p) = &lhs.kind else { panic!("{lhs:?}") };
    assert_eq!(p.span, sp(6, 17));
    assert_eq!(&source[6..17], "args[\"a b\"]");
    assert_eq!(rhs.span, sp(22, 23));

    let source = "tool matches \"^r.*\" && tool in [\"x\", \"y\"]";
    let expr = parse(source).unwrap();
    let ExprKind::And(m, i) = &expr.kind else { panic!("{expr:?}") };
    let ExprKind::Matches { subject, regex_span, .. } = &m.kind else { panic!("{m:?}") };
    assert_eq!(subject.span, sp(0, 4));
    assert_eq!(*regex_span, sp(13, 19));
    assert_eq!(&source[13..19], "\"^r.*\"");
    assert_eq!(m.span, sp(0, 19));
    let ExprKind::In { list, .. } = &i.kind else { panic!("{i:?}") };
    assert_eq!(list.span, sp(31, 41));
    assert_eq!(i.span, sp(23, 41));

    // Offsets are bytes, not characters.
    let source = "args.é == \"é\" || args[\"é\"]";
    assert!(parse(source).is_err(), "a field name is ASCII");
    let source = "tool == \"éé\" || args.b";
    let expr = parse(source).unwrap();
    let ExprKind::Or(_, rhs) = &expr.kind else { panic!("{expr:?}") };
    assert_eq!(rhs.span, sp(18, 24));
}

#[test]
fn keywords_are_whole_words() {
    // After a dot every identifier is a field name, keywords included.
    for keyword in
        ["in", "true", "false", "has", "len", "starts_with", "ends_with", "contains", "matches"]
    {
        assert_eq!(parsed(&format!("args.{keyword}")), a(keyword));
    }
    assert_eq!(parsed("args.intent"), a("intent"));
    // Keyword-prefixed names are names, not keywords.
    assert_eq!(errors("trueish")[0].code, "E0106");
    assert_eq!(errors("intent")[0].code, "E0106");
    assert_eq!(errors("args_x")[0].code, "E0106");
    assert_eq!(errors("toolbox == 1")[0].code, "E0106");
    for source in [
        "args.x intent [1]",
        "args.x inx [1]",
        "args.x starts_withx \"a\"",
        "args.x containsx \"a\"",
        "args.x matches_ \"a\"",
        "hasx(args.a)",
        "lenx(args.a) > 1",
        "args.a == truex",
    ] {
        let errs = errors(source);
        assert!(errs.iter().any(|e| e.code == "E0101" || e.code == "E0106"), "{source}: {errs:?}");
    }
    // A keyword followed by a non-word character is still the keyword.
    assert_eq!(parsed("args.x in[1]"), is_in(pth(args(&["x"])), list(vec![Literal::Integer(1)])));
    assert_eq!(parsed("!true"), not(e(ExprKind::Bool(true))));
}

#[test]
fn bracketed_segments() {
    assert_eq!(parsed("args[\"a.b\"]"), truthy(args(&["a.b"])));
    assert_eq!(parsed("args.a[\"b.c\"].d"), truthy(args(&["a", "b.c", "d"])));
    assert_eq!(parsed("args[\"\"]"), truthy(args(&[""])));
    assert_eq!(parsed("args[\"0\"][\"x y\"]"), truthy(args(&["0", "x y"])));
    assert_eq!(parsed("principal[\"id\"]"), truthy(path(PathRoot::Principal, &["id"])));
    assert_eq!(parsed("args[\"\\u002e\"]"), truthy(args(&["."])));
    assert_eq!(errors("args[0]")[0].message, "expected a string, found `0`");
    assert_eq!(errors("args[a]")[0].message, "expected a string, found `a`");
}

#[test]
fn string_escapes_decode_as_json() {
    let value = |source: &str| match parsed(&format!("tool == {source}")).kind {
        ExprKind::Compare {
            rhs: Operand { kind: OperandKind::Literal(Literal::String(v)), .. },
            ..
        } => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(value(r#""\u002e\u002e/""#), "../");
    assert_eq!(value(r#""\"\\\/\b\f\n\r\t""#), "\"\\/\u{8}\u{c}\n\r\t");
    assert_eq!(value(r#""\u00E9\u00e9é""#), "ééé");
    assert_eq!(value(r#""\ud83d\ude00""#), "😀");
    assert_eq!(value(r#""\uD83D\uDE00x""#), "😀x");
    assert_eq!(value(r#""\u0000""#), "\0");
    assert_eq!(value(r#""""#), "");
    assert_eq!(value("\"\u{7f}\u{2028}\""), "\u{7f}\u{2028}");
}

/// One error case: source, code, message, span, help.
type ErrorCase = (&'static str, &'static str, &'static str, (usize, usize), Option<&'static str>);

#[test]
fn every_error_code_with_exact_message_and_span() {
    let operators = "write an operator between two operands (`==` `!=` `<` `<=` `>` `>=` `in` \
                     `starts_with` `ends_with` `contains` `matches`), and `&&` or `||` between \
                     two conditions";
    let cases: Vec<ErrorCase> = vec![
        (
            "(args.a == 1",
            "E0101",
            "expected `&&`, `||` or `)`, found the end of the expression",
            (12, 12),
            None,
        ),
        (
            "(args.a ]",
            "E0101",
            "expected a comparison operator, `&&`, `||` or `)`, found `]`",
            (8, 9),
            None,
        ),
        (
            "args.path = \"/etc/passwd\"",
            "E0101",
            "expected a comparison operator, `&&`, `||` or the end of the expression, found `=`",
            (10, 11),
            Some("compare with `==`"),
        ),
        (
            "args.x intent 5",
            "E0101",
            "expected a comparison operator, `&&`, `||` or the end of the expression, found \
             `intent`",
            (7, 13),
            Some(operators),
        ),
        (
            "args.a == 1 and args.b",
            "E0101",
            "expected `&&`, `||` or the end of the expression, found `and`",
            (12, 15),
            Some("write `&&` for \"and\""),
        ),
        (
            "args.a ==",
            "E0101",
            "expected a path, a literal or a list, found the end of the expression",
            (9, 9),
            None,
        ),
        (
            "args.a == 'x'",
            "E0101",
            "expected a path, a literal or a list, found `'`",
            (10, 11),
            Some("strings are written in double quotes: `\"...\"`"),
        ),
        (
            "args.a &&",
            "E0101",
            "expected an expression, found the end of the expression",
            (9, 9),
            None,
        ),
        ("has(1)", "E0101", "expected a path, found `1`", (4, 5), None),
        (
            "args.a.",
            "E0101",
            "expected a field name, found the end of the expression",
            (7, 7),
            None,
        ),
        ("tool in [1 2]", "E0101", "expected `,` or `]`, found `2`", (11, 12), None),
        (
            "5",
            "E0101",
            "expected a comparison operator, found the end of the expression",
            (1, 1),
            Some(
                "only a path can stand alone as a condition; compare a literal, a list or \
                 `len(...)` with something, e.g. `len(args.items) > 0`",
            ),
        ),
        (
            "hass(args.a)",
            "E0101",
            "expected a comparison operator, `&&`, `||` or the end of the expression, found `(`",
            (4, 5),
            Some("`hass` is not a function: the functions are `has(path)` and `len(path)`"),
        ),
        (
            "args.n > 1.5",
            "E0101",
            "expected `&&`, `||` or the end of the expression, found `.`",
            (10, 11),
            Some("the language has integers only, no fractional numbers"),
        ),
        (
            " \n ",
            "E0101",
            "empty expression",
            (0, 3),
            Some("write a condition, e.g. `tool == \"read_file\"`, or `true`"),
        ),
        (
            "tool == \"abc",
            "E0101",
            "unterminated string",
            (8, 12),
            Some("end the string with `\"`; a `\"` inside a string is written `\\\"`"),
        ),
        (
            "tool == \"a\nb\"",
            "E0101",
            "unexpected control character U+000A in a string",
            (10, 11),
            Some("write it as the escape `\\n`"),
        ),
        (
            "tool == \"\u{1}\"",
            "E0101",
            "unexpected control character U+0001 in a string",
            (9, 10),
            Some("write it as the escape `\\u0001`"),
        ),
        (
            "args.id matches \"^\\d+$\"",
            "E0102",
            "invalid escape `\\d` in a string",
            (18, 20),
            Some(
                "the escapes are `\\\"` `\\\\` `\\/` `\\b` `\\f` `\\n` `\\r` `\\t` and \
                 `\\uXXXX`; to keep the backslash, write `\\\\d`",
            ),
        ),
        (
            "tool == \"\\u12\"",
            "E0102",
            "invalid unicode escape `\\u12`",
            (9, 13),
            Some("a unicode escape is `\\u` and exactly four hex digits, e.g. `\\u002e`"),
        ),
        (
            "tool == \"\\ud800\\u0041\"",
            "E0102",
            "unpaired surrogate `\\ud800` in a unicode escape",
            (9, 15),
            Some(
                "a character above U+FFFF is a high surrogate followed by a low one, e.g. \
                 `\\ud83d\\ude00`, or the character itself",
            ),
        ),
        (
            "tool == \"\\udc00\"",
            "E0102",
            "unpaired surrogate `\\udc00` in a unicode escape",
            (9, 15),
            Some(
                "a character above U+FFFF is a high surrogate followed by a low one, e.g. \
                 `\\ud83d\\ude00`, or the character itself",
            ),
        ),
        (
            "args.n > 9223372036854775808",
            "E0103",
            "integer `9223372036854775808` is out of range",
            (9, 28),
            Some("integers must be between -9223372036854775808 and 9223372036854775807"),
        ),
        (
            "args.n > -9223372036854775809",
            "E0103",
            "integer `-9223372036854775809` is out of range",
            (9, 29),
            Some("integers must be between -9223372036854775808 and 9223372036854775807"),
        ),
        (
            "arg.path == \"x\"",
            "E0106",
            "unknown path root `arg`",
            (0, 3),
            Some("did you mean `args`?"),
        ),
        (
            "has(principl.id)",
            "E0106",
            "unknown path root `principl`",
            (4, 12),
            Some("did you mean `principal`?"),
        ),
        (
            "user.id == \"a\"",
            "E0106",
            "unknown path root `user`",
            (0, 4),
            Some("did you mean `principal`?"),
        ),
        ("params.a", "E0106", "unknown path root `params`", (0, 6), Some("did you mean `args`?")),
        (
            "tool == read_file",
            "E0106",
            "unknown path root `read_file`",
            (8, 17),
            Some(
                "a path starts with `args`, `principal`, `method`, `server` or `tool`; a string \
                 literal is written in double quotes",
            ),
        ),
    ];
    for (source, code, message, (start, end), help) in cases {
        let errs = errors(source);
        let expected = SyntaxError {
            code,
            message: message.to_owned(),
            span: sp(start, end),
            help: help.map(str::to_owned),
        };
        assert_eq!(errs, vec![expected], "{source}");
    }
}

#[test]
fn limit_errors_have_exact_messages() {
    let deep = format!("{}args.a", "!".repeat(33));
    assert_eq!(
        errors(&deep),
        vec![SyntaxError {
            code: "E0104",
            message: "expression nested too deeply: more than 32 levels of parentheses, \
                      brackets and `!`"
                .to_owned(),
            span: sp(32, 33),
            help: Some(
                "remove redundant parentheses and double negations (`!!a` is `a`)".to_owned()
            ),
        }]
    );
    let long = format!("tool == \"{}\"", "x".repeat(4090));
    assert_eq!(
        errors(&long),
        vec![SyntaxError {
            code: "E0105",
            message: "expression too long: 4100 bytes, the limit is 4096".to_owned(),
            span: sp(0, 4100),
            help: Some(
                "split the condition across several rules, or replace long chains of `||` with \
                 `in [...]` or `matches`"
                    .to_owned()
            ),
        }]
    );
}

#[test]
fn all_leaf_errors_are_reported_in_source_order() {
    let errs = errors("foo == \"\\q\" || args.n > 99999999999999999999 && bar");
    let codes: Vec<&str> = errs.iter().map(|e| e.code).collect();
    assert_eq!(codes, ["E0106", "E0102", "E0103", "E0106"]);
    let starts: Vec<usize> = errs.iter().map(|e| e.span.start).collect();
    assert_eq!(starts, [0, 8, 24, 48]);
}

#[test]
fn render_points_at_the_error() {
    let source = "tool == \"x\" &&\n  arg.path == 1";
    let errs = errors(source);
    assert_eq!(
        errs[0].render(source),
        "error[E0106]: unknown path root `arg`\n \
         --> 2:3\n  \
         |\n\
         2 |   arg.path == 1\n  \
         |   ^^^\n  \
         = help: did you mean `args`?\n"
    );
    assert_eq!(errs[0].to_string(), "E0106: unknown path root `arg` (help: did you mean `args`?)");
    let source = "args.a &&";
    assert_eq!(
        errors(source)[0].render(source),
        "error[E0101]: expected an expression, found the end of the expression\n \
         --> 1:10\n  |\n1 | args.a &&\n  |          ^\n"
    );
}

#[test]
fn printed_text_is_canonical() {
    let cases = [
        ("args.a||(args.b&&!args.c)", "args.a || args.b && !args.c"),
        ("(args.a||args.b)&&args.c", "(args.a || args.b) && args.c"),
        ("args.a||(args.b||args.c)", "args.a || (args.b || args.c)"),
        ("((args.a||args.b)||args.c)", "args.a || args.b || args.c"),
        ("!(args.a)", "!args.a"),
        ("!args.n==1", "!(args.n == 1)"),
        ("!(!(has(args.a)))", "!!has(args.a)"),
        ("args[\"a\"][\"b-c\"][\"in\"]", "args.a[\"b-c\"].in"),
        ("tool in[ \"a\" ,1,true, ]", "tool in [\"a\", 1, true]"),
        ("args.n>=007", "args.n >= 7"),
        ("args.n==-0", "args.n == 0"),
        (
            "tool==\"\\/\\u00e9\\u0007\\u001F\\b\\ud83d\\ude00\"",
            "tool == \"/é\\u0007\\u001f\\b😀\"",
        ),
        ("len( args.a )<1", "len(args.a) < 1"),
        ("tool matches \"a\\\\.b\"", "tool matches \"a\\\\.b\""),
    ];
    for (source, canonical) in cases {
        let expr = parse(source).unwrap();
        assert_eq!(print(&expr), canonical, "{source}");
        assert_eq!(strip_spans(&parse(canonical).unwrap()), strip_spans(&expr), "{source}");
    }
}

#[test]
fn claims_made_in_grammar_md() {
    // Whitespace between symbols is optional, but words must not run together.
    assert_eq!(
        parsed("args.a in[\"x\"]"),
        is_in(pth(args(&["a"])), list(vec![Literal::String("x".to_owned())]))
    );
    assert_eq!(errors("\"a\"inprincipal.roles")[0].code, "E0101");
    // Any operand on either side; one operator per test.
    assert_eq!(parsed("1 == 1"), cmp(int(1), CompareOp::Eq, int(1)));
    assert_eq!(
        parsed("[1] in [2]"),
        is_in(list(vec![Literal::Integer(1)]), list(vec![Literal::Integer(2)]))
    );
    assert_eq!(errors("args.a == 1 == 2")[0].code, "E0101");
    // `- 1` is not an integer.
    assert_eq!(errors("args.a == - 1")[0].code, "E0101");
    // The E0105 example: the line repeated 300 times.
    let errs = errors(&"(tool == \"x\") ||".repeat(300));
    assert_eq!(errs[0].message, "expression too long: 4800 bytes, the limit is 4096");
    // The E0101 example's message.
    assert_eq!(
        errors("args.path = \"/etc/passwd\"")[0].message,
        "expected a comparison operator, `&&`, `||` or the end of the expression, found `=`"
    );
}

#[test]
fn display_is_the_canonical_text() {
    let expr = parse("len( args[\"a\"] )>=1&&tool in[\"x\" ,2]").unwrap();
    assert_eq!(expr.to_string(), "len(args.a) >= 1 && tool in [\"x\", 2]");
    let ExprKind::And(lhs, rhs) = &expr.kind else { panic!("{expr:?}") };
    let ExprKind::Compare { lhs: len, .. } = &lhs.kind else { panic!("{lhs:?}") };
    assert_eq!(len.to_string(), "len(args.a)");
    let ExprKind::In { value, list } = &rhs.kind else { panic!("{rhs:?}") };
    assert_eq!(value.to_string(), "tool");
    assert_eq!(list.to_string(), "[\"x\", 2]");
    assert_eq!(Literal::String("a\"b".to_owned()).to_string(), "\"a\\\"b\"");
    assert_eq!(args(&["a b", "c"]).to_string(), "args[\"a b\"].c");
}
