//! The size limits: E0104 and E0105 at their exact boundaries, and hostile inputs (100,000
//! levels of nesting) rejected by the pre-scan instead of overflowing the stack.

use mcppol_grammar::ast::{Expr, ExprKind};
use mcppol_grammar::{EXPR_BYTES_MAX, EXPR_DEPTH_MAX, parse, print, strip_spans};

fn codes(source: &str) -> Vec<&'static str> {
    match parse(source) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.code).collect(),
    }
}

/// Depth of the tree, counted without recursion so that the test itself cannot overflow.
fn tree_depth(expr: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(expr, 1)];
    while let Some((expr, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match &expr.kind {
            ExprKind::Or(l, r) | ExprKind::And(l, r) => {
                stack.push((l, depth + 1));
                stack.push((r, depth + 1));
            }
            ExprKind::Not(inner) => stack.push((inner, depth + 1)),
            _ => {}
        }
    }
    deepest
}

#[test]
fn limits_are_the_documented_values() {
    assert_eq!(EXPR_BYTES_MAX, 4096);
    assert_eq!(EXPR_DEPTH_MAX, 32);
}

#[test]
fn hundred_thousand_open_parentheses_is_e0104_not_a_crash() {
    let source = "(".repeat(100_000);
    let errors = parse(&source).unwrap_err();
    // Too long as well; both limits are reported, in source order.
    assert_eq!(errors.iter().map(|e| e.code).collect::<Vec<_>>(), ["E0105", "E0104"]);
    assert_eq!(errors[1].span.start, EXPR_DEPTH_MAX);
    let source = format!("{}true{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(codes(&source).contains(&"E0104"));
}

#[test]
fn hundred_thousand_negations_is_e0104_not_a_crash() {
    let source = format!("{}args.a", "!".repeat(100_000));
    assert_eq!(codes(&source), ["E0105", "E0104"]);
    let source = "!".repeat(100_000);
    assert_eq!(codes(&source), ["E0105", "E0104"]);
    let source = "[".repeat(100_000);
    assert_eq!(codes(&source), ["E0105", "E0104"]);
}

#[test]
fn depth_limit_is_exact() {
    let parens = |n: usize| format!("{}args.a{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(codes(&parens(EXPR_DEPTH_MAX)), Vec::<&str>::new());
    assert_eq!(codes(&parens(EXPR_DEPTH_MAX + 1)), ["E0104"]);
    let bangs = |n: usize| format!("{}args.a", "!".repeat(n));
    assert_eq!(codes(&bangs(EXPR_DEPTH_MAX)), Vec::<&str>::new());
    assert_eq!(codes(&bangs(EXPR_DEPTH_MAX + 1)), ["E0104"]);
    // Mixed: 16 `!(` pairs are 32 levels; one more `!` inside is 33.
    let mixed = |inner: &str| format!("{}{inner}args.a{}", "!(".repeat(16), ")".repeat(16));
    assert_eq!(codes(&mixed("")), Vec::<&str>::new());
    assert_eq!(codes(&mixed("!")), ["E0104"]);
    // A list inside 31 parentheses is at depth 32, `has(` inside 32 is at 33.
    let list = format!("{}tool in [\"a\"]{}", "(".repeat(31), ")".repeat(31));
    assert_eq!(codes(&list), Vec::<&str>::new());
    let has = format!("{}has(args.a){}", "(".repeat(32), ")".repeat(32));
    assert_eq!(codes(&has), ["E0104"]);
    // Negations side by side do not add up.
    let side_by_side = vec![format!("{}args.a", "!".repeat(32)); 20].join(" || ");
    assert_eq!(codes(&side_by_side), Vec::<&str>::new());
}

#[test]
fn length_limit_is_exact() {
    let exactly = |n: usize| format!("tool == \"{}\"", "x".repeat(n - 10));
    assert_eq!(exactly(EXPR_BYTES_MAX).len(), EXPR_BYTES_MAX);
    assert_eq!(codes(&exactly(EXPR_BYTES_MAX)), Vec::<&str>::new());
    assert_eq!(codes(&exactly(EXPR_BYTES_MAX + 1)), ["E0105"]);
    // Bytes, not characters: 2-byte `é`s.
    let accented = format!("tool == \"{}\"", "é".repeat(2044));
    assert_eq!(accented.len(), 4098);
    assert_eq!(codes(&accented), ["E0105"]);
}

#[test]
fn longest_chain_gives_a_shallow_enough_tree() {
    // The deepest tree within the limits: a left-deep `||` chain of the shortest operands.
    let count = (EXPR_BYTES_MAX + 2) / 8;
    let source = vec!["tool"; count].join(" || ");
    assert!(source.len() <= EXPR_BYTES_MAX);
    let expr = parse(&source).unwrap();
    let depth = tree_depth(&expr);
    assert_eq!(depth, count);
    let dense = vec!["tool"; (EXPR_BYTES_MAX + 2) / 6].join("||");
    assert!(dense.len() <= EXPR_BYTES_MAX);
    let expr = parse(&dense).unwrap();
    assert!(tree_depth(&expr) < 800, "GRAMMAR.md promises fewer than 800 levels");
    // The canonical text adds spaces, so it can exceed the limit that its source met.
    assert!(print(&expr).len() > EXPR_BYTES_MAX);
    // The recursive printer and span stripper cope with the deepest chain.
    let expr = parse(&source).unwrap();
    assert_eq!(print(&expr), source);
    assert_eq!(strip_spans(&parse(&print(&expr)).unwrap()), strip_spans(&expr));
}

#[test]
fn deepest_accepted_input_parses_on_a_small_stack() {
    // 16 `!(` pairs: 32 levels, the most the limits allow. The gateway may parse on a worker
    // thread; 256 KiB is well under the usual 2 MiB.
    let source = format!("{}args.a == 1{}", "!(".repeat(16), ")".repeat(16));
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || parse(&source).map(|expr| print(&expr)))
        .unwrap();
    let printed = handle.join().unwrap().unwrap();
    // The parentheses around each `!` are redundant, so the canonical form drops them.
    assert_eq!(printed, format!("{}(args.a == 1)", "!".repeat(16)));
}
