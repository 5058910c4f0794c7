//! `print`: the canonical text of an expression, which parses back to the same tree.
//!
//! Canonical means: one space around binary operators and after list commas, none inside
//! parentheses or brackets; parentheses only where precedence or left-associativity needs them,
//! plus around a negated test (`!(args.n == 1)`); strings re-escaped the one way listed in
//! GRAMMAR.md; path segments as `.name` when they are identifiers, else `["key"]`.

use std::fmt;

use crate::ast::{CompareOp, Expr, ExprKind, Literal, Operand, OperandKind, Path, PathRoot, StrOp};
use crate::parse::escape_char;

/// Binding strength, loosest first; a subexpression weaker than its context is parenthesised.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Unary,
}

/// Prints `expr` as canonical expression text: `parse(&print(e))` equals `e` but for spans.
pub fn print(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr, Precedence::Or);
    out
}

fn precedence(expr: &Expr) -> Precedence {
    match expr.kind {
        ExprKind::Or(..) => Precedence::Or,
        ExprKind::And(..) => Precedence::And,
        _ => Precedence::Unary,
    }
}

fn write_expr(out: &mut String, expr: &Expr, context: Precedence) {
    if precedence(expr) < context {
        out.push('(');
        write_expr(out, expr, Precedence::Or);
        out.push(')');
        return;
    }
    match &expr.kind {
        // Left-associative: a left operand of the same operator needs no parentheses, a right
        // one does (`a || (b || c)` is a different tree from `a || b || c`).
        ExprKind::Or(lhs, rhs) => {
            write_expr(out, lhs, Precedence::Or);
            out.push_str(" || ");
            write_expr(out, rhs, Precedence::And);
        }
        ExprKind::And(lhs, rhs) => {
            write_expr(out, lhs, Precedence::And);
            out.push_str(" && ");
            write_expr(out, rhs, Precedence::Unary);
        }
        ExprKind::Not(inner) => {
            out.push('!');
            // `!args.n == 1` already means `!(args.n == 1)`, but reads as `(!args.n) == 1` in
            // most languages, so the canonical form spells the parentheses out.
            let is_test = matches!(
                inner.kind,
                ExprKind::Compare { .. }
                    | ExprKind::In { .. }
                    | ExprKind::StrPredicate { .. }
                    | ExprKind::Matches { .. }
            );
            if is_test {
                out.push('(');
                write_expr(out, inner, Precedence::Or);
                out.push(')');
            } else {
                write_expr(out, inner, Precedence::Unary);
            }
        }
        ExprKind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        ExprKind::Has(path) => {
            out.push_str("has(");
            write_path(out, path);
            out.push(')');
        }
        ExprKind::Truthy(path) => write_path(out, path),
        ExprKind::Compare { lhs, op, rhs } => {
            write_operand(out, lhs);
            out.push(' ');
            out.push_str(compare_op_text(*op));
            out.push(' ');
            write_operand(out, rhs);
        }
        ExprKind::In { value, list } => {
            write_operand(out, value);
            out.push_str(" in ");
            write_operand(out, list);
        }
        ExprKind::StrPredicate { subject, op, pattern } => {
            write_operand(out, subject);
            out.push(' ');
            out.push_str(str_op_text(*op));
            out.push(' ');
            write_operand(out, pattern);
        }
        ExprKind::Matches { subject, regex, .. } => {
            write_operand(out, subject);
            out.push_str(" matches ");
            write_string(out, regex);
        }
    }
}

/// The source text of a comparison operator.
pub fn compare_op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "==",
        CompareOp::Ne => "!=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
    }
}

/// The source text of a string predicate.
pub fn str_op_text(op: StrOp) -> &'static str {
    match op {
        StrOp::StartsWith => "starts_with",
        StrOp::EndsWith => "ends_with",
        StrOp::Contains => "contains",
    }
}

/// The source text of a path root.
pub fn root_text(root: PathRoot) -> &'static str {
    match root {
        PathRoot::Args => "args",
        PathRoot::Principal => "principal",
        PathRoot::Method => "method",
        PathRoot::Server => "server",
        PathRoot::Tool => "tool",
    }
}

fn write_operand(out: &mut String, operand: &Operand) {
    match &operand.kind {
        OperandKind::Path(path) => write_path(out, path),
        OperandKind::Len(path) => {
            out.push_str("len(");
            write_path(out, path);
            out.push(')');
        }
        OperandKind::Literal(literal) => write_literal(out, literal),
        OperandKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, item);
            }
            out.push(']');
        }
    }
}

fn write_literal(out: &mut String, literal: &Literal) {
    match literal {
        Literal::String(value) => write_string(out, value),
        Literal::Integer(value) => out.push_str(&value.to_string()),
        Literal::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
    }
}

/// Prints a path; a segment is written `.name` when it lexes as an identifier (keywords
/// included, they are not reserved after a dot) and `["..."]` otherwise.
pub fn path_text(path: &Path) -> String {
    let mut out = String::new();
    write_path(&mut out, path);
    out
}

fn write_path(out: &mut String, path: &Path) {
    out.push_str(root_text(path.root));
    for segment in &path.segments {
        if is_identifier(segment) {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push('[');
            write_string(out, segment);
            out.push(']');
        }
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Writes a string literal with the canonical escapes: `\"`, `\\`, the short escapes for the
/// control characters that have one, `\u00XX` for the other controls; everything else as is.
fn write_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&escape_char(c)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The canonical text of a string literal, quotes included.
pub fn string_literal_text(value: &str) -> String {
    let mut out = String::new();
    write_string(&mut out, value);
    out
}

// `Display` is the canonical text, so that the compiler can quote a node in a message with `{}`.

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&print(self))
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_operand(&mut out, self);
        f.write_str(&out)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_literal(&mut out, self);
        f.write_str(&out)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&path_text(self))
    }
}
