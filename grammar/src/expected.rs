//! Translation of pest's errors ("expected one of these rules") into E0101 messages in plain
//! words, naming what may come next and the token actually found, never a pest rule name.

use pest::error::{Error, ErrorVariant, InputLocation};

use crate::ast::Span;
use crate::error::{E0101_UNEXPECTED, SyntaxError, snippet};
use crate::parse::is_whitespace;
use crate::pest_parser::Rule;

/// What may come next, in the order messages list it. Several rules map to one entry (all the
/// operators are "a comparison operator") so that the message stays short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Expected {
    Expression,
    Value,
    Path,
    Literal,
    String,
    FieldName,
    Operator,
    LeftParen,
    Comma,
    And,
    Or,
    RightParen,
    RightBracket,
    PathContinuation,
    End,
}

impl Expected {
    fn words(self) -> &'static str {
        match self {
            Self::Expression => "an expression",
            Self::Value => "a path, a literal or a list",
            Self::Path => "a path",
            Self::Literal => "a literal",
            Self::String => "a string",
            Self::FieldName => "a field name",
            Self::Operator => "a comparison operator",
            Self::LeftParen => "`(`",
            Self::Comma => "`,`",
            Self::And => "`&&`",
            Self::Or => "`||`",
            Self::RightParen => "`)`",
            Self::RightBracket => "`]`",
            Self::PathContinuation => "`.` or `[`",
            Self::End => "the end of the expression",
        }
    }
}

/// Groups the rules pest says it tried at the failure position.
fn expected_set(positives: &[Rule]) -> Vec<Expected> {
    let has = |rule: Rule| positives.contains(&rule);
    let mut set = Vec::new();
    let expression = positives.iter().any(|rule| {
        matches!(
            rule,
            Rule::expression
                | Rule::or_expr
                | Rule::and_expr
                | Rule::unary
                | Rule::paren
                | Rule::has_call
                | Rule::test
                | Rule::bool_expr
                | Rule::truthy
                | Rule::not_op
                | Rule::kw_has
        )
    });
    let literal = has(Rule::string) || has(Rule::integer) || has(Rule::kw_true);
    if expression {
        set.push(Expected::Expression);
    } else if has(Rule::root) && (literal || has(Rule::lbracket) || has(Rule::kw_len)) {
        set.push(Expected::Value);
    } else if has(Rule::root) {
        set.push(Expected::Path);
    } else if has(Rule::integer) || has(Rule::kw_true) {
        set.push(Expected::Literal);
    } else if has(Rule::string) {
        set.push(Expected::String);
    }
    let operator = [Rule::cmp_op, Rule::in_op, Rule::str_op, Rule::matches_op];
    if operator.iter().any(|rule| has(*rule)) {
        set.push(Expected::Operator);
    }
    for (rule, expected) in [
        (Rule::ident, Expected::FieldName),
        (Rule::comma, Expected::Comma),
        (Rule::and_op, Expected::And),
        (Rule::or_op, Expected::Or),
        (Rule::rparen, Expected::RightParen),
        (Rule::rbracket, Expected::RightBracket),
        (Rule::EOI, Expected::End),
    ] {
        if has(rule) {
            set.push(expected);
        }
    }
    if has(Rule::lparen) && !expression {
        set.push(Expected::LeftParen);
    }
    // After a complete path pest also tries `.field` and `["key"]`; worth naming only when
    // nothing else could come (so far it never is, but the message must not be empty).
    if set.is_empty() && (has(Rule::dot) || has(Rule::lbracket)) {
        set.push(Expected::PathContinuation);
    }
    set.sort();
    set.dedup();
    set
}

/// "a, b or c".
fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `pos`, as pest's failure position points at one: its span and how a message
/// shows it (`foo`, `==`, "the end of the expression").
struct Found {
    span: Span,
    shown: String,
    text: String,
}

fn found_at(source: &str, pos: usize) -> Found {
    let rest = source.get(pos..).unwrap_or("");
    let skipped = rest.len() - rest.trim_start_matches(is_whitespace).len();
    let start = pos + skipped;
    let rest = source.get(start..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return Found {
            span: Span { start: source.len(), end: source.len() },
            shown: "the end of the expression".to_owned(),
            text: String::new(),
        };
    };
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let is_digit = |c: char| c.is_ascii_digit();
    let after_first = rest.get(first.len_utf8()..).unwrap_or("");
    let len = if first == '"' {
        string_token_len(rest).unwrap_or(rest.len())
    } else if first.is_ascii_alphabetic() || first == '_' {
        rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())
    } else if first.is_ascii_digit() || (first == '-' && after_first.starts_with(is_digit)) {
        1 + after_first.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_first.len())
    } else if ["==", "!=", "<=", ">=", "&&", "||"].iter().any(|op| rest.starts_with(op)) {
        2
    } else {
        first.len_utf8()
    };
    let text = rest.get(..len).unwrap_or(rest).to_owned();
    let shown = if first.is_control() {
        format!("U+{:04X}", u32::from(first))
    } else {
        format!("`{}`", snippet(&text))
    };
    Found { span: Span { start, end: start + len }, shown, text }
}

/// Length in bytes of the string literal at the start of `text`, or `None` if it is not closed.
fn string_token_len(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(at + 1),
            _ => {}
        }
    }
    None
}

/// The identifier that ends right before `pos` (spaces between allowed), if any.
fn word_before(source: &str, pos: usize) -> Option<&str> {
    let before = source.get(..pos)?.trim_end_matches(is_whitespace);
    let start =
        before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let word = before.get(start..)?;
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_').then_some(word)
}

/// A hint for the common slips, keyed on the token found and what was expected.
fn help_for(source: &str, found: &Found, expected: &[Expected]) -> Option<String> {
    let text = found.text.as_str();
    let operators = "write an operator between two operands (`==` `!=` `<` `<=` `>` `>=` `in` \
                     `starts_with` `ends_with` `contains` `matches`), and `&&` or `||` \
                     between two conditions";
    match text {
        "=" => return Some("compare with `==`".to_owned()),
        "&" => return Some("write `&&` for \"and\"".to_owned()),
        "|" => return Some("write `||` for \"or\"".to_owned()),
        "and" | "AND" => return Some("write `&&` for \"and\"".to_owned()),
        "or" | "OR" => return Some("write `||` for \"or\"".to_owned()),
        "not" | "NOT" => return Some("write `!` for \"not\"".to_owned()),
        "'" => return Some("strings are written in double quotes: `\"...\"`".to_owned()),
        "." if source
            .get(..found.span.start)
            .is_some_and(|s| s.ends_with(|c: char| c.is_ascii_digit())) =>
        {
            return Some("the language has integers only, no fractional numbers".to_owned());
        }
        "(" => {
            if let Some(word) = word_before(source, found.span.start) {
                return Some(format!(
                    "`{}` is not a function: the functions are `has(path)` and `len(path)`",
                    snippet(word)
                ));
            }
        }
        _ => {}
    }
    if expected == [Expected::Operator] {
        // Only a test could still complete here: a literal, list or `len(...)` was written where
        // a condition was expected.
        return Some(
            "only a path can stand alone as a condition; compare a literal, a list or `len(...)` \
             with something, e.g. `len(args.items) > 0`"
                .to_owned(),
        );
    }
    let found_word = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    if found_word && expected.contains(&Expected::Operator) {
        return Some(operators.to_owned());
    }
    None
}

/// Turns a pest error into one E0101 error.
pub(crate) fn translate_pest_error(source: &str, error: &Error<Rule>) -> SyntaxError {
    let pos = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let found = found_at(source, pos);
    if found.text.starts_with('"') && string_token_len(&found.text).is_none() {
        return SyntaxError::new(
            E0101_UNEXPECTED,
            "unterminated string".to_owned(),
            Span { start: found.span.start, end: source.len() },
        )
        .with_help("end the string with `\"`; a `\"` inside a string is written `\\\"`");
    }
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => expected_set(positives),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let message = if expected.is_empty() {
        format!("unexpected {}", found.shown)
    } else {
        let words: Vec<&str> = expected.iter().map(|e| e.words()).collect();
        format!("expected {}, found {}", join_or(&words), found.shown)
    };
    let syntax_error = SyntaxError::new(E0101_UNEXPECTED, message, found.span);
    match help_for(source, &found, &expected) {
        Some(help) => syntax_error.with_help(help),
        None => syntax_error,
    }
}
