//! `parse`: expression text to AST, with the size limits checked before pest ever runs.
//!
//! Three stages: a linear pre-scan enforces [`EXPR_BYTES_MAX`] and [`EXPR_DEPTH_MAX`] (pest's
//! parser recurses once per nesting level, so a deep input must never reach it); pest checks the
//! syntax (its errors are translated in `expected.rs`); the builder below walks the pest tree
//! into the AST, decoding strings and integers and resolving path roots, which is where E0102,
//! E0103 and E0106 come from. The builder guards its own recursion depth too, so that the AST
//! construction stays bounded even if the pre-scan and the grammar ever disagree.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::{
    CompareOp, Expr, ExprKind, Literal, Operand, OperandKind, Path, PathRoot, Span, StrOp,
};
use crate::error::{
    E0101_UNEXPECTED, E0102_BAD_ESCAPE, E0103_INTEGER_RANGE, E0104_TOO_DEEP, E0105_TOO_LONG,
    E0106_UNKNOWN_ROOT, SyntaxError, snippet,
};
use crate::expected::translate_pest_error;
use crate::pest_parser::{ExpressionParser, Rule};

/// The longest expression accepted, in bytes of UTF-8 source text (error E0105).
///
/// A `when:` condition is a line or two; anything longer is almost certainly generated or a
/// mistake, and the bound keeps parsing and compiling cheap on a gateway's hot reload path.
pub const EXPR_BYTES_MAX: usize = 4096;

/// The deepest nesting accepted (error E0104): at no point in the text may the number of open
/// `(` and `[` plus the number of `!` whose operand is still running exceed this.
///
/// GRAMMAR.md defines the count exactly. The bound keeps every recursive walk over the text and
/// the tree (pest, the builder, the compiler) far from the end of the stack.
pub const EXPR_DEPTH_MAX: usize = 32;

/// Parses a `when:` expression into its syntax tree.
///
/// On failure returns every error found, in source order; there is always at least one. A
/// syntax error stops parsing at the first one (pest does not recover), while bad escapes,
/// out-of-range integers and unknown path roots in otherwise well-formed text are all reported.
pub fn parse(source: &str) -> Result<Expr, Vec<SyntaxError>> {
    let errors = prescan(source);
    if !errors.is_empty() {
        return Err(errors);
    }
    parse_prescanned(source, EXPR_DEPTH_MAX)
}

/// Everything after the pre-scan; `depth_max` is a parameter only so that a unit test can reach
/// the builder's own depth guard, which the pre-scan otherwise always pre-empts.
fn parse_prescanned(source: &str, depth_max: usize) -> Result<Expr, Vec<SyntaxError>> {
    if source.trim_matches(is_whitespace).is_empty() {
        let span = Span { start: 0, end: source.len() };
        return Err(vec![
            SyntaxError::new(E0101_UNEXPECTED, "empty expression".to_owned(), span)
                .with_help("write a condition, e.g. `tool == \"read_file\"`, or `true`"),
        ]);
    }
    let mut pairs = ExpressionParser::parse(Rule::expression, source)
        .map_err(|error| vec![translate_pest_error(source, &error)])?;
    let mut builder = Builder { errors: Vec::new(), depth_max };
    let whole = Span { start: 0, end: source.len() };
    let built = match pairs.next() {
        Some(expression) => match expression.into_inner().next() {
            Some(or_expr) => builder.or_expr(or_expr, 0),
            None => Err(builder.bug(whole)),
        },
        None => Err(builder.bug(whole)),
    };
    match built {
        Ok(expr) if builder.errors.is_empty() => Ok(expr),
        _ => {
            if builder.errors.is_empty() {
                // Every `Err(Stop)` pushes its reason first; this keeps the "at least one
                // error" promise even if a future change forgets to.
                builder.bug(whole);
            }
            let mut errors = builder.errors;
            errors.sort_by_key(|e| (e.span.start, e.span.end));
            Err(errors)
        }
    }
}

/// The whitespace of the language: GRAMMAR.md's `WS`, the same set as `WHITESPACE` in
/// `expression.pest`.
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Checks both limits in one linear pass that does not recurse. Both errors are reported if both
/// apply, the length one first since it starts at byte 0.
fn prescan(source: &str) -> Vec<SyntaxError> {
    let mut errors = Vec::new();
    if source.len() > EXPR_BYTES_MAX {
        errors.push(
            SyntaxError::new(
                E0105_TOO_LONG,
                format!(
                    "expression too long: {} bytes, the limit is {EXPR_BYTES_MAX}",
                    source.len()
                ),
                Span { start: 0, end: source.len() },
            )
            .with_help(
                "split the condition across several rules, or replace long chains of `||` \
                 with `in [...]` or `matches`",
            ),
        );
    }
    if let Some(error) = depth_scan(source) {
        errors.push(error);
    }
    errors
}

/// Finds the first byte at which the nesting depth exceeds [`EXPR_DEPTH_MAX`].
///
/// The depth is lexical so that it can be computed without parsing: open `(` and `[` outside
/// strings, plus the `!` (not `!=`) whose operand has not ended yet. An operand of `!` ends at the
/// next `&&` or `||` of the same group, or when that group closes, because `!` binds tighter than
/// both. This is an upper bound of the nesting pest and the builder see.
fn depth_scan(source: &str) -> Option<SyntaxError> {
    let bytes = source.as_bytes();
    // Pending `!` count per open group, top level first; the stack never grows past the limit
    // because the scan stops there.
    let mut bangs: Vec<usize> = vec![0];
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        match byte {
            b'"' => {
                // Skip the string: brackets and `!` in it are text. An unterminated string runs
                // to the end, which pest reports.
                i += 1;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'(' | b'[' => {
                depth += 1;
                bangs.push(0);
            }
            // An unmatched closer at the top level is pest's to report.
            b')' | b']' if bangs.len() > 1 => {
                let closed = bangs.pop().unwrap_or(0);
                depth = depth.saturating_sub(closed + 1);
            }
            b'!' if next != Some(b'=') => {
                depth += 1;
                if let Some(pending) = bangs.last_mut() {
                    *pending += 1;
                }
            }
            b'&' | b'|' if next == Some(byte) => {
                if let Some(pending) = bangs.last_mut() {
                    depth = depth.saturating_sub(*pending);
                    *pending = 0;
                }
                i += 1;
            }
            _ => {}
        }
        if depth > EXPR_DEPTH_MAX {
            return Some(too_deep(Span { start: i, end: i + 1 }));
        }
        i += 1;
    }
    None
}

fn too_deep(span: Span) -> SyntaxError {
    SyntaxError::new(
        E0104_TOO_DEEP,
        format!(
            "expression nested too deeply: more than {EXPR_DEPTH_MAX} levels of parentheses, \
             brackets and `!`"
        ),
        span,
    )
    .with_help("remove redundant parentheses and double negations (`!!a` is `a`)")
}

/// Building cannot go on; the reason has been pushed to [`Builder::errors`].
struct Stop;

type Built<T> = Result<T, Stop>;

/// Walks the pest tree into the AST. Errors in leaves (strings, integers, roots) are collected
/// and a placeholder is returned so that one parse reports all of them; only a depth overrun or
/// a tree that does not match the grammar stops the walk.
struct Builder {
    errors: Vec<SyntaxError>,
    depth_max: usize,
}

/// The span of a pair without surrounding whitespace. pest includes the whitespace it skipped
/// before an optional repetition that then matched nothing (`tool ` in `tool matches "x"` is
/// the span of the path `tool`), and AST spans must be exactly the node's text.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let text = pair.as_str();
    let start =
        pair.as_span().start() + (text.len() - text.trim_start_matches(is_whitespace).len());
    let end = pair.as_span().end() - (text.len() - text.trim_end_matches(is_whitespace).len());
    Span { start, end: end.max(start) }
}

impl Builder {
    /// The pest tree does not have the shape `expression.pest` promises. Unreachable unless the
    /// grammar and this file drift apart; reported rather than panicking, as library code must.
    fn bug(&mut self, span: Span) -> Stop {
        self.errors.push(SyntaxError::new(
            E0101_UNEXPECTED,
            "internal error: the parse tree does not match the grammar".to_owned(),
            span,
        ));
        Stop
    }

    fn enter(&mut self, depth: usize, span: Span) -> Built<()> {
        if depth > self.depth_max {
            self.errors.push(too_deep(span));
            return Err(Stop);
        }
        Ok(())
    }

    fn or_expr(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Built<Expr> {
        let span = span_of(&pair);
        // Left-associative fold over the flat `a || b || c` list: a loop, not a recursion.
        let mut operands = pair.into_inner().filter(|p| p.as_rule() != Rule::or_op);
        let Some(first) = operands.next() else { return Err(self.bug(span)) };
        let mut acc = self.and_expr(first, depth)?;
        for next in operands {
            let rhs = self.and_expr(next, depth)?;
            let span = Span { start: acc.span.start, end: rhs.span.end };
            acc = Expr { kind: ExprKind::Or(Box::new(acc), Box::new(rhs)), span };
        }
        Ok(acc)
    }

    fn and_expr(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Built<Expr> {
        let span = span_of(&pair);
        let mut operands = pair.into_inner().filter(|p| p.as_rule() != Rule::and_op);
        let Some(first) = operands.next() else { return Err(self.bug(span)) };
        let mut acc = self.unary(first, depth)?;
        for next in operands {
            let rhs = self.unary(next, depth)?;
            let span = Span { start: acc.span.start, end: rhs.span.end };
            acc = Expr { kind: ExprKind::And(Box::new(acc), Box::new(rhs)), span };
        }
        Ok(acc)
    }

    fn unary(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Built<Expr> {
        let span = span_of(&pair);
        let mut bangs = Vec::new();
        let mut primary = None;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::not_op {
                let bang = span_of(&child);
                self.enter(depth + bangs.len() + 1, bang)?;
                bangs.push(bang.start);
            } else {
                primary = Some(child);
            }
        }
        let Some(primary) = primary else { return Err(self.bug(span)) };
        let mut expr = self.primary(primary, depth + bangs.len())?;
        for start in bangs.into_iter().rev() {
            let span = Span { start, end: expr.span.end };
            expr = Expr { kind: ExprKind::Not(Box::new(expr)), span };
        }
        Ok(expr)
    }

    fn primary(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Built<Expr> {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::paren => {
                self.enter(depth + 1, span)?;
                let Some(inner) = pair.into_inner().find(|p| p.as_rule() == Rule::or_expr) else {
                    return Err(self.bug(span));
                };
                // The span of a parenthesised expression includes its parentheses, so that every
                // node's span is exactly the text it was parsed from.
                let expr = self.or_expr(inner, depth + 1)?;
                Ok(Expr { kind: expr.kind, span })
            }
            Rule::has_call => {
                let Some(path) = pair.into_inner().find(|p| p.as_rule() == Rule::path) else {
                    return Err(self.bug(span));
                };
                Ok(Expr { kind: ExprKind::Has(self.path(path)?), span })
            }
            Rule::bool_expr => {
                let value = pair.into_inner().next().map(|p| p.as_rule() == Rule::kw_true);
                let Some(value) = value else { return Err(self.bug(span)) };
                Ok(Expr { kind: ExprKind::Bool(value), span })
            }
            Rule::truthy => {
                let Some(path) = pair.into_inner().next() else { return Err(self.bug(span)) };
                Ok(Expr { kind: ExprKind::Truthy(self.path(path)?), span })
            }
            Rule::test => self.test(pair, depth),
            _ => Err(self.bug(span)),
        }
    }

    fn test(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Built<Expr> {
        let span = span_of(&pair);
        let mut children = pair.into_inner();
        let (Some(lhs), Some(op), Some(rhs)) = (children.next(), children.next(), children.next())
        else {
            return Err(self.bug(span));
        };
        let subject = self.operand(lhs, depth)?;
        let kind = match op.as_rule() {
            Rule::cmp_op => {
                let op = match op.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    _ => return Err(self.bug(span_of(&op))),
                };
                ExprKind::Compare { lhs: subject, op, rhs: self.operand(rhs, depth)? }
            }
            Rule::in_op => ExprKind::In { value: subject, list: self.operand(rhs, depth)? },
            Rule::str_op => {
                let op = match op.as_str() {
                    "starts_with" => StrOp::StartsWith,
                    "ends_with" => StrOp::EndsWith,
                    "contains" => StrOp::Contains,
                    _ => return Err(self.bug(span_of(&op))),
                };
                ExprKind::StrPredicate { subject, op, pattern: self.operand(rhs, depth)? }
            }
            Rule::matches_op => {
                let regex_span = span_of(&rhs);
                let regex = self.string(&rhs);
                ExprKind::Matches { subject, regex, regex_span }
            }
            _ => return Err(self.bug(span_of(&op))),
        };
        Ok(Expr { kind, span })
    }

    fn operand(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Built<Operand> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::path => OperandKind::Path(self.path(pair)?),
            Rule::len_call => {
                let Some(path) = pair.into_inner().find(|p| p.as_rule() == Rule::path) else {
                    return Err(self.bug(span));
                };
                OperandKind::Len(self.path(path)?)
            }
            Rule::list => {
                self.enter(depth + 1, span)?;
                let mut items = Vec::new();
                for child in pair.into_inner() {
                    match child.as_rule() {
                        Rule::lbracket | Rule::rbracket | Rule::comma => {}
                        _ => items.push(self.literal(child)?),
                    }
                }
                OperandKind::List(items)
            }
            _ => OperandKind::Literal(self.literal(pair)?),
        };
        Ok(Operand { kind, span })
    }

    fn literal(&mut self, pair: Pair<'_, Rule>) -> Built<Literal> {
        match pair.as_rule() {
            Rule::string => Ok(Literal::String(self.string(&pair))),
            Rule::integer => Ok(Literal::Integer(self.integer(&pair))),
            Rule::kw_true => Ok(Literal::Bool(true)),
            Rule::kw_false => Ok(Literal::Bool(false)),
            _ => Err(self.bug(span_of(&pair))),
        }
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>) -> i64 {
        let text = pair.as_str();
        match text.parse::<i64>() {
            Ok(value) => value,
            Err(_) => {
                self.errors.push(
                    SyntaxError::new(
                        E0103_INTEGER_RANGE,
                        format!("integer `{}` is out of range", snippet(text)),
                        span_of(pair),
                    )
                    .with_help(format!(
                        "integers must be between {} and {}",
                        i64::MIN,
                        i64::MAX
                    )),
                );
                0
            }
        }
    }

    fn path(&mut self, pair: Pair<'_, Rule>) -> Built<Path> {
        let span = span_of(&pair);
        let mut children = pair.into_inner();
        let Some(root) = children.next() else { return Err(self.bug(span)) };
        let root = self.root(&root);
        let mut segments = Vec::new();
        for child in children {
            match child.as_rule() {
                Rule::ident => segments.push(child.as_str().to_owned()),
                Rule::string => segments.push(self.string(&child)),
                _ => {}
            }
        }
        Ok(Path { root, segments, span })
    }

    fn root(&mut self, pair: &Pair<'_, Rule>) -> PathRoot {
        match pair.as_str() {
            "args" => PathRoot::Args,
            "principal" => PathRoot::Principal,
            "method" => PathRoot::Method,
            "server" => PathRoot::Server,
            "tool" => PathRoot::Tool,
            name => {
                self.errors.push(unknown_root(name, span_of(pair)));
                // A placeholder: the error stops the parse from succeeding, and building on
                // finds any further errors.
                PathRoot::Args
            }
        }
    }

    /// Decodes a string literal token (quotes included), reporting every bad escape and raw
    /// control character in it.
    fn string(&mut self, pair: &Pair<'_, Rule>) -> String {
        let (value, errors) = decode_string(pair.as_str(), pair.as_span().start());
        self.errors.extend(errors);
        value
    }
}

const ROOTS: [&str; 5] = ["args", "principal", "method", "server", "tool"];

fn unknown_root(name: &str, span: Span) -> SyntaxError {
    let error = SyntaxError::new(
        E0106_UNKNOWN_ROOT,
        format!("unknown path root `{}`", snippet(name)),
        span,
    );
    match suggest_root(name) {
        Some(root) => error.with_help(format!("did you mean `{root}`?")),
        None => error.with_help(
            "a path starts with `args`, `principal`, `method`, `server` or `tool`; a string \
             literal is written in double quotes",
        ),
    }
}

/// The root a mistyped or guessed name most likely meant: a close spelling, or a name other
/// tools use for the same thing.
fn suggest_root(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "arguments" | "argument" | "params" | "parameters" | "input" | "inputs" => Some("args"),
        "user" | "caller" | "identity" | "subject" | "client" => Some("principal"),
        "tool_name" | "toolname" | "name" => Some("tool"),
        "server_name" | "upstream" => Some("server"),
        _ => None,
    };
    alias.or_else(|| {
        ROOTS
            .iter()
            .map(|root| (edit_distance(&lower, root), *root))
            // One slip in a short name, two in a long one: `foo` is not a typo of `tool`.
            .filter(|(distance, _)| *distance <= if lower.len() >= 6 { 2 } else { 1 })
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, root)| root)
    })
}

/// Levenshtein distance over characters; inputs here are short identifiers.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.get(j).copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

const ESCAPES_HELP: &str =
    "the escapes are `\\\"` `\\\\` `\\/` `\\b` `\\f` `\\n` `\\r` `\\t` and `\\uXXXX`";

/// Decodes a JSON-style string literal, `token` being its text with the quotes and `offset`
/// the byte offset of its opening quote. Returns the value (with bad escapes dropped) and the
/// errors, whose spans cover exactly the offending escape or character.
pub(crate) fn decode_string(token: &str, offset: usize) -> (String, Vec<SyntaxError>) {
    let mut value = String::new();
    let mut errors = Vec::new();
    let inner = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(token);
    // Offsets below are relative to `inner`, which starts one byte after the opening quote.
    let base = offset + 1;
    let mut chars = inner.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            if u32::from(c) < 0x20 {
                errors.push(
                    SyntaxError::new(
                        E0101_UNEXPECTED,
                        format!("unexpected control character {} in a string", code_point(c)),
                        Span { start: base + at, end: base + at + c.len_utf8() },
                    )
                    .with_help(format!("write it as the escape `{}`", escape_char(c))),
                );
            } else {
                value.push(c);
            }
            continue;
        }
        let Some((_, kind)) = chars.next() else {
            // The grammar never ends a string token on a lone backslash; nothing to decode.
            break;
        };
        let simple = match kind {
            '"' => Some('"'),
            '\\' => Some('\\'),
            '/' => Some('/'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            _ => None,
        };
        if let Some(decoded) = simple {
            value.push(decoded);
            continue;
        }
        if kind != 'u' {
            let end = at + 1 + kind.len_utf8();
            let shown = if kind.is_control() { code_point(kind) } else { format!("`\\{kind}`") };
            let mut help = format!("{ESCAPES_HELP}; ");
            if kind.is_control() {
                help.push_str("a backslash is written `\\\\`");
            } else {
                // The usual cause is a regular expression such as `\d`, which needs its
                // backslash escaped in the string.
                help.push_str(&format!("to keep the backslash, write `\\\\{kind}`"));
            }
            errors.push(
                SyntaxError::new(
                    E0102_BAD_ESCAPE,
                    format!("invalid escape {shown} in a string"),
                    Span { start: base + at, end: base + end },
                )
                .with_help(help),
            );
            continue;
        }
        let Some(first) = hex4(inner, at + 2) else {
            let end =
                inner.get(at + 2..).map_or(at + 2, |rest| at + 2 + hex_prefix_len(rest).min(4));
            errors.push(
                SyntaxError::new(
                    E0102_BAD_ESCAPE,
                    format!("invalid unicode escape `{}`", inner.get(at..end).unwrap_or("\\u")),
                    Span { start: base + at, end: base + end },
                )
                .with_help("a unicode escape is `\\u` and exactly four hex digits, e.g. `\\u002e`"),
            );
            continue;
        };
        skip_chars(&mut chars, 4);
        let escape_end = at + 6;
        let decoded = if (0xD800..0xDC00).contains(&first) {
            // A high surrogate must be followed at once by a low one; together they are one
            // character above U+FFFF, as in JSON.
            let low = if inner.get(escape_end..escape_end + 2) == Some("\\u") {
                hex4(inner, escape_end + 2).filter(|low| (0xDC00..0xE000).contains(low))
            } else {
                None
            };
            match low {
                Some(low) => {
                    skip_chars(&mut chars, 6);
                    char::from_u32(0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))
                }
                None => None,
            }
        } else {
            char::from_u32(first)
        };
        match decoded {
            Some(c) => value.push(c),
            None => errors.push(
                SyntaxError::new(
                    E0102_BAD_ESCAPE,
                    format!(
                        "unpaired surrogate `{}` in a unicode escape",
                        inner.get(at..escape_end).unwrap_or("\\u")
                    ),
                    Span { start: base + at, end: base + escape_end },
                )
                .with_help(
                    "a character above U+FFFF is a high surrogate followed by a low one, e.g. \
                     `\\ud83d\\ude00`, or the character itself",
                ),
            ),
        }
    }
    (value, errors)
}

/// The four hex digits at `at`, as a number.
fn hex4(text: &str, at: usize) -> Option<u32> {
    let digits = text.get(at..at + 4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

fn hex_prefix_len(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_hexdigit).count()
}

fn skip_chars(chars: &mut impl Iterator<Item = (usize, char)>, count: usize) {
    for _ in 0..count {
        chars.next();
    }
}

fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The escape a control character is written as: the short form where JSON has one.
pub(crate) fn escape_char(c: char) -> String {
    match c {
        '\u{8}' => "\\b".to_owned(),
        '\u{c}' => "\\f".to_owned(),
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        _ => format!("\\u{:04x}", u32::from(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pre-scan always catches deep input first, so the builder's guard is reached only
    /// with a lowered limit; this proves the guard works on its own.
    #[test]
    fn builder_guards_its_own_depth() {
        let errors = parse_prescanned("((((true))))", 3).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, E0104_TOO_DEEP);
        assert_eq!(errors[0].span, Span { start: 3, end: 9 });
        let errors = parse_prescanned("!!!!true", 3).unwrap_err();
        assert_eq!(errors[0].code, E0104_TOO_DEEP);
        assert_eq!(errors[0].span, Span { start: 3, end: 4 });
        let errors = parse_prescanned("!!(tool in [\"a\"])", 3).unwrap_err();
        assert_eq!(errors[0].code, E0104_TOO_DEEP);
        assert_eq!(errors[0].span, Span { start: 11, end: 16 });
        assert!(parse_prescanned("!!(tool in [\"a\"])", 4).is_ok());
    }

    #[test]
    fn depth_scan_counts_as_documented() {
        let ok = |s: &str| assert!(depth_scan(s).is_none(), "{s}");
        let deep = |s: &str, at: usize| {
            let error = depth_scan(s).unwrap();
            assert_eq!(error.span.start, at, "{s}");
        };
        ok(&format!("{}true{}", "(".repeat(32), ")".repeat(32)));
        deep(&format!("{}true{}", "(".repeat(33), ")".repeat(33)), 32);
        ok(&format!("{}true", "!".repeat(32)));
        deep(&format!("{}true", "!".repeat(33)), 32);
        // `!` operands end at `&&` and `||`, so negations side by side do not add up.
        ok(&["!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!args.a"; 10].join(" && "));
        // ... but a `!` before a group stays pending for the whole group.
        deep(&format!("!{}true{}", "(!".repeat(16), ")".repeat(16)), 32);
        // `!=`, strings and escaped quotes in strings do not count.
        ok(&format!("args.a != \"{}\"", "(!\\\"[".repeat(100)));
    }

    #[test]
    fn edit_distance_is_levenshtein() {
        assert_eq!(edit_distance("arg", "args"), 1);
        assert_eq!(edit_distance("tools", "tool"), 1);
        assert_eq!(edit_distance("pricipal", "principal"), 1);
        assert_eq!(edit_distance("", "args"), 4);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
