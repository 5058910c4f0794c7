//! Syntax errors: the stable E01xx codes, their constructors, and a rustc-style rendering.
//!
//! The constructors live here, next to the code list, so that every message of a code is
//! written in one place and GRAMMAR.md can be checked against this file by eye.

use std::fmt;

use crate::ast::Span;

/// Unexpected token: the parser expected something else at this place.
pub const E0101_UNEXPECTED: &str = "E0101";
/// Invalid escape sequence in a string literal.
pub const E0102_BAD_ESCAPE: &str = "E0102";
/// Integer literal outside the signed 64-bit range.
pub const E0103_INTEGER_RANGE: &str = "E0103";
/// Expression nested more than [`crate::EXPR_DEPTH_MAX`] levels deep.
pub const E0104_TOO_DEEP: &str = "E0104";
/// Expression longer than [`crate::EXPR_BYTES_MAX`] bytes.
pub const E0105_TOO_LONG: &str = "E0105";
/// A path starts with a name that is not one of the roots.
pub const E0106_UNKNOWN_ROOT: &str = "E0106";

/// A syntax error in an expression, with a stable code and the byte span it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Stable code, `E0101` to `E0106`; GRAMMAR.md lists them with an example each.
    pub code: &'static str,
    /// What is wrong: lowercase, no final period, user input in backticks.
    pub message: String,
    /// The bytes of the expression the error is about (empty at the end of the input).
    pub span: Span,
    /// How to fix it, when there is something more useful to say than the message.
    pub help: Option<String>,
}

impl SyntaxError {
    pub(crate) fn new(code: &'static str, message: String, span: Span) -> Self {
        Self { code, message, span, help: None }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the error against its source text the way rustc does, for terminals and logs:
    ///
    /// ```text
    /// error[E0106]: unknown path root `arg`
    ///  --> 1:1
    ///   |
    /// 1 | arg.path == "x"
    ///   | ^^^
    ///   = help: did you mean `args`?
    /// ```
    ///
    /// Line and column are 1-based; the column counts characters. A span that is not inside
    /// `source` (an error rendered against the wrong text) is clamped rather than trusted.
    pub fn render(&self, source: &str) -> String {
        let start = clamp_to_char_boundary(source, self.span.start);
        let end = clamp_to_char_boundary(source, self.span.end.max(start));
        let line_start = source.get(..start).and_then(|s| s.rfind('\n')).map_or(0, |i| i + 1);
        let line_end =
            source.get(start..).and_then(|s| s.find('\n')).map_or(source.len(), |i| start + i);
        let line_text = source.get(line_start..line_end).unwrap_or("").trim_end_matches('\r');
        let line_no = source.get(..start).map_or(0, |s| s.matches('\n').count()) + 1;
        let column = source.get(line_start..start).map_or(0, |s| s.chars().count()) + 1;
        // Underline to the end of the span or of the line, whichever comes first, and at least
        // one caret so that an error at the end of the input still points somewhere.
        let underlined_end = end.min(line_end);
        let width = source.get(start..underlined_end).map_or(0, |s| s.chars().count()).max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        let mut out = format!("error[{}]: {}\n", self.code, self.message);
        out.push_str(&format!("{gutter}--> {line_no}:{column}\n"));
        out.push_str(&format!("{gutter} |\n"));
        out.push_str(&format!("{line_no} | {line_text}\n"));
        out.push_str(&format!("{gutter} | {}{}\n", " ".repeat(column - 1), "^".repeat(width)));
        if let Some(help) = &self.help {
            out.push_str(&format!("{gutter} = help: {help}\n"));
        }
        out
    }
}

fn clamp_to_char_boundary(source: &str, index: usize) -> usize {
    let mut index = index.min(source.len());
    while !source.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for SyntaxError {
    /// `E0106: unknown path root `arg` (help: did you mean `args`?)`, on one line: for logs and
    /// test failures; [`SyntaxError::render`] is the form for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for SyntaxError {}

/// Shortens user text quoted in a message so that one long string does not flood the output.
pub(crate) fn snippet(text: &str) -> String {
    const CHARS_MAX: usize = 40;
    if text.chars().count() <= CHARS_MAX {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(CHARS_MAX).collect();
    short.push('…');
    short
}
