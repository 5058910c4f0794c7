//! The syntax tree of a `when:` expression, with byte spans into the expression text.
//!
//! The tree is what the grammar accepts, not what the compiler can lower: type checks (is
//! `args.n < "x"` meaningful?) belong to the compiler, which owns the argument schema.

/// A half-open byte range `start..end` into the expression source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the construct.
    pub start: usize,
    /// One past the last byte of the construct.
    pub end: usize,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is in the source text.
    pub span: Span,
}

/// The kinds of boolean expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// `a || b` (short-circuit, left to right).
    Or(Box<Expr>, Box<Expr>),
    /// `a && b` (short-circuit, left to right).
    And(Box<Expr>, Box<Expr>),
    /// `!a`.
    Not(Box<Expr>),
    /// `true` or `false`.
    Bool(bool),
    /// `has(args.x)`: the value at the path is present. Never a fault.
    Has(Path),
    /// A boolean-valued path used on its own, e.g. `args.recursive`.
    Truthy(Path),
    /// `lhs OP rhs` where one side is a path (or `len(path)`) and the other a literal.
    Compare {
        /// Left operand.
        lhs: Operand,
        /// The comparison operator.
        op: CompareOp,
        /// Right operand.
        rhs: Operand,
    },
    /// `value in [lit, ...]` or `"lit" in principal.roles`.
    In {
        /// The needle.
        value: Operand,
        /// The haystack: a literal list or a path to a list (only `principal.roles` today).
        list: Operand,
    },
    /// `subject starts_with "x"`, `ends_with`, `contains`.
    StrPredicate {
        /// The string being tested.
        subject: Operand,
        /// Which predicate.
        op: StrOp,
        /// The literal string argument.
        pattern: Operand,
    },
    /// `subject matches "regex"`.
    Matches {
        /// The string being tested.
        subject: Operand,
        /// The regular expression (Rust `regex` syntax), already unescaped.
        regex: String,
        /// Span of the regex string literal, quotes included.
        regex_span: Span,
    },
}

/// A value-producing operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    /// What the operand is.
    pub kind: OperandKind,
    /// Where it is in the source text.
    pub span: Span,
}

/// The kinds of operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperandKind {
    /// A path into the request: `args.a.b`, `args["odd key"]`, `principal.id`, `tool`.
    Path(Path),
    /// `len(path)`: length in characters of a string, or elements of an array.
    Len(Path),
    /// A literal value.
    Literal(Literal),
    /// `[lit, lit, ...]`.
    List(Vec<Literal>),
}

/// A literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    /// A string, already unescaped.
    String(String),
    /// A signed 64-bit integer (the language has no floats).
    Integer(i64),
    /// `true` or `false`.
    Bool(bool),
}

/// A path into the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The root the path starts from.
    pub root: PathRoot,
    /// Field names after the root, already unescaped (`args.a["b.c"]` is `["a", "b.c"]`).
    pub segments: Vec<String>,
    /// Where the path is in the source text.
    pub span: Span,
}

/// The roots a path may start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathRoot {
    /// `args`: the tool-call arguments object.
    Args,
    /// `principal`: `principal.id` or `principal.roles`.
    Principal,
    /// `method`: the MCP method, e.g. `tools/call`.
    Method,
    /// `server`: the upstream server name.
    Server,
    /// `tool`: the tool name (or prompt name, or resource URI).
    Tool,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// String predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrOp {
    /// `starts_with`
    StartsWith,
    /// `ends_with`
    EndsWith,
    /// `contains`
    Contains,
}
