//! Property tests: generated trees survive `parse(print(tree))`, every node's span is its exact
//! text, and no input, arbitrary or built from the language's own tokens, panics the parser.

use mcppol_grammar::ast::{
    CompareOp, Expr, ExprKind, Literal, Operand, OperandKind, Path, PathRoot, Span, StrOp,
};
use mcppol_grammar::{EXPR_BYTES_MAX, parse, print, strip_spans};
use proptest::prelude::*;

fn any_text() -> impl Strategy<Value = String> {
    // Any characters, controls and quotes included, so that escaping is exercised; short,
    // so that a tree stays under the length limit.
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..6).prop_map(String::from_iter),
        "[a-z/._\\\\\"-]{0,6}",
    ]
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,5}",
        Just("in".to_owned()),
        Just("matches".to_owned()),
        Just("true".to_owned()),
        any_text(),
    ]
}

fn root() -> impl Strategy<Value = PathRoot> {
    prop_oneof![
        Just(PathRoot::Args),
        Just(PathRoot::Principal),
        Just(PathRoot::Method),
        Just(PathRoot::Server),
        Just(PathRoot::Tool),
    ]
}

fn path() -> impl Strategy<Value = Path> {
    (root(), proptest::collection::vec(segment(), 0..3)).prop_map(|(root, segments)| Path {
        root,
        segments,
        span: Span::default(),
    })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any_text().prop_map(Literal::String),
        any::<i64>().prop_map(Literal::Integer),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        path().prop_map(OperandKind::Path),
        path().prop_map(OperandKind::Len),
        literal().prop_map(OperandKind::Literal),
        proptest::collection::vec(literal(), 0..4).prop_map(OperandKind::List),
    ]
    .prop_map(|kind| Operand { kind, span: Span::default() })
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
    ]
}

fn str_op() -> impl Strategy<Value = StrOp> {
    prop_oneof![Just(StrOp::StartsWith), Just(StrOp::EndsWith), Just(StrOp::Contains)]
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

/// Trees as the parser could produce them, spans zeroed.
fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(ExprKind::Bool),
        path().prop_map(ExprKind::Has),
        path().prop_map(ExprKind::Truthy),
        (operand(), compare_op(), operand()).prop_map(|(lhs, op, rhs)| ExprKind::Compare {
            lhs,
            op,
            rhs
        }),
        (operand(), operand()).prop_map(|(value, list)| ExprKind::In { value, list }),
        (operand(), str_op(), operand())
            .prop_map(|(subject, op, pattern)| ExprKind::StrPredicate { subject, op, pattern }),
        (operand(), any_text()).prop_map(|(subject, regex)| ExprKind::Matches {
            subject,
            regex,
            regex_span: Span::default()
        }),
    ]
    .prop_map(e);
    leaf.prop_recursive(8, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|x| e(ExprKind::Not(Box::new(x)))),
            (inner.clone(), inner.clone())
                .prop_map(|(l, r)| e(ExprKind::And(Box::new(l), Box::new(r)))),
            (inner.clone(), inner).prop_map(|(l, r)| e(ExprKind::Or(Box::new(l), Box::new(r)))),
        ]
    })
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Every expression node with the text its span covers must parse, alone, to that node; every
/// path likewise to a `Truthy` of it. This is what "a span is exactly the node's text" means.
fn check_spans(source: &str, expr: &Expr) -> Result<(), TestCaseError> {
    let mut stack = vec![expr];
    while let Some(node) = stack.pop() {
        let text = source.get(node.span.start..node.span.end);
        let text = text.ok_or_else(|| TestCaseError::fail(format!("bad span {:?}", node.span)))?;
        prop_assert_eq!(text.trim_matches(is_space), text, "span with spaces");
        let alone = parse(text).map_err(|errors| {
            TestCaseError::fail(format!("span text {text:?} fails: {errors:?}"))
        })?;
        prop_assert_eq!(strip_spans(&alone), strip_spans(node), "span text {:?}", text);
        let mut paths = Vec::new();
        match &node.kind {
            ExprKind::Or(l, r) | ExprKind::And(l, r) => {
                stack.push(l);
                stack.push(r);
            }
            ExprKind::Not(inner) => stack.push(inner),
            ExprKind::Has(p) | ExprKind::Truthy(p) => paths.push(p),
            ExprKind::Compare { lhs, rhs: other, .. }
            | ExprKind::In { value: lhs, list: other }
            | ExprKind::StrPredicate { subject: lhs, pattern: other, .. } => {
                for operand in [lhs, other] {
                    if let OperandKind::Path(p) | OperandKind::Len(p) = &operand.kind {
                        paths.push(p);
                    }
                }
            }
            ExprKind::Matches { subject, regex_span, .. } => {
                if let OperandKind::Path(p) | OperandKind::Len(p) = &subject.kind {
                    paths.push(p);
                }
                let quoted = source.get(regex_span.start..regex_span.end).unwrap_or("");
                prop_assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{:?}", quoted);
            }
            ExprKind::Bool(_) => {}
        }
        for p in paths {
            let text = source.get(p.span.start..p.span.end).unwrap_or("");
            prop_assert_eq!(text.trim_matches(is_space), text, "path span with spaces");
            let alone = parse(text).map_err(|errors| {
                TestCaseError::fail(format!("path text {text:?} fails: {errors:?}"))
            })?;
            let stripped = Path { span: Span::default(), ..p.clone() };
            prop_assert_eq!(strip_spans(&alone).kind, ExprKind::Truthy(stripped));
        }
    }
    Ok(())
}

/// Tokens of the language (and near misses), to reach deep into the grammar more often than
/// random characters do.
const TOKENS: &[&str] = &[
    "args",
    "principal",
    "tool",
    "method",
    "server",
    "arg",
    "foo",
    ".",
    "x",
    "in",
    "[",
    "]",
    "(",
    ")",
    ",",
    "\"a\"",
    "\"\\q\"",
    "\"\\u12\"",
    "\"",
    "\\",
    "1",
    "-5",
    "99999999999999999999",
    "true",
    "false",
    "has",
    "len",
    "starts_with",
    "ends_with",
    "contains",
    "matches",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    "&&",
    "||",
    "&",
    "|",
    "é",
    "\n",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec((proptest::sample::select(TOKENS), prop_oneof!["", " ", "\t"]), 0..40)
        .prop_map(|parts| parts.into_iter().map(|(t, ws)| format!("{t}{ws}")).collect())
}

/// Whatever the input, parsing returns, and what it returns is well formed.
fn check_any_input(source: &str) -> Result<(), TestCaseError> {
    match parse(source) {
        Ok(expr) => {
            check_spans(source, &expr)?;
            let printed = print(&expr);
            if printed.len() <= EXPR_BYTES_MAX {
                let reparsed = parse(&printed).map_err(|errors| {
                    TestCaseError::fail(format!("canonical {printed:?} fails: {errors:?}"))
                })?;
                prop_assert_eq!(strip_spans(&reparsed), strip_spans(&expr));
            }
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            for error in errors {
                prop_assert!(
                    ["E0101", "E0102", "E0103", "E0104", "E0105", "E0106"].contains(&error.code)
                );
                prop_assert!(error.span.start <= error.span.end);
                prop_assert!(source.get(error.span.start..error.span.end).is_some());
                prop_assert!(!error.message.contains("internal error"), "{}", error.message);
                prop_assert!(!error.message.ends_with('.'));
                let rendered = error.render(source);
                prop_assert!(rendered.contains(error.code));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn printed_trees_parse_back(tree in expr()) {
        let text = print(&tree);
        prop_assume!(text.len() <= EXPR_BYTES_MAX);
        let parsed = parse(&text).map_err(|errors| {
            TestCaseError::fail(format!("{text:?} fails: {errors:?}"))
        })?;
        prop_assert_eq!(strip_spans(&parsed), tree);
        // Printing is canonical: the text of a parsed canonical text is itself.
        prop_assert_eq!(print(&parsed), text.clone());
        check_spans(&text, &parsed)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(source in any::<String>()) {
        check_any_input(&source)?;
    }

    #[test]
    fn token_soup_never_panics(source in token_soup()) {
        check_any_input(&source)?;
    }

    #[test]
    fn mangled_valid_text_never_panics(
        tree in expr(),
        cut in any::<proptest::sample::Index>(),
        insert in proptest::sample::select(TOKENS),
    ) {
        // A valid text with a token spliced in at a random character boundary.
        let text = print(&tree);
        let boundaries: Vec<usize> =
            text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let at = boundaries[cut.index(boundaries.len())];
        let mangled = format!("{}{insert}{}", &text[..at], &text[at..]);
        check_any_input(&mangled)?;
    }
}
