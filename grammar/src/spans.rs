//! Comparing trees regardless of where they came from: `strip_spans` zeroes every span.
//!
//! `parse(&print(e))` gives `e` back with different spans (the printed text is laid out
//! differently), so round-trip checks compare span-stripped trees.

use crate::ast::{Expr, ExprKind, Operand, OperandKind, Path, Span};

/// A copy of `expr` with every span, at every level, set to `Span::default()` (`0..0`).
pub fn strip_spans(expr: &Expr) -> Expr {
    let kind = match &expr.kind {
        ExprKind::Or(lhs, rhs) => {
            ExprKind::Or(Box::new(strip_spans(lhs)), Box::new(strip_spans(rhs)))
        }
        ExprKind::And(lhs, rhs) => {
            ExprKind::And(Box::new(strip_spans(lhs)), Box::new(strip_spans(rhs)))
        }
        ExprKind::Not(inner) => ExprKind::Not(Box::new(strip_spans(inner))),
        ExprKind::Bool(value) => ExprKind::Bool(*value),
        ExprKind::Has(path) => ExprKind::Has(strip_path(path)),
        ExprKind::Truthy(path) => ExprKind::Truthy(strip_path(path)),
        ExprKind::Compare { lhs, op, rhs } => {
            ExprKind::Compare { lhs: strip_operand(lhs), op: *op, rhs: strip_operand(rhs) }
        }
        ExprKind::In { value, list } => {
            ExprKind::In { value: strip_operand(value), list: strip_operand(list) }
        }
        ExprKind::StrPredicate { subject, op, pattern } => ExprKind::StrPredicate {
            subject: strip_operand(subject),
            op: *op,
            pattern: strip_operand(pattern),
        },
        ExprKind::Matches { subject, regex, .. } => ExprKind::Matches {
            subject: strip_operand(subject),
            regex: regex.clone(),
            regex_span: Span::default(),
        },
    };
    Expr { kind, span: Span::default() }
}

/// Whether two trees are equal but for their spans.
pub fn eq_ignoring_spans(a: &Expr, b: &Expr) -> bool {
    strip_spans(a) == strip_spans(b)
}

fn strip_operand(operand: &Operand) -> Operand {
    let kind = match &operand.kind {
        OperandKind::Path(path) => OperandKind::Path(strip_path(path)),
        OperandKind::Len(path) => OperandKind::Len(strip_path(path)),
        OperandKind::Literal(literal) => OperandKind::Literal(literal.clone()),
        OperandKind::List(items) => OperandKind::List(items.clone()),
    };
    Operand { kind, span: Span::default() }
}

fn strip_path(path: &Path) -> Path {
    Path { root: path.root, segments: path.segments.clone(), span: Span::default() }
}
