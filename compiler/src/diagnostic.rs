//! Compiler diagnostics: a stable code, a position, a message and help, rendered for people
//! (rustc style, with a source snippet) or serialised for machines.
//!
//! Codes are grouped by stage and never reused: E01xx expression syntax (from
//! `mcppol-grammar`), E02xx YAML and schema, E03xx meaning and types, E04xx limits, E05xx the
//! compiler's own output failing verification (a bug). Warnings use W-codes.

use serde::Serialize;
use std::fmt::Write as _;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Compilation cannot produce an artifact.
    Error,
    /// The artifact is produced, but the policy probably does not mean what it says.
    Warning,
}

/// One problem in a policy file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code, e.g. `E0301`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong: lowercase, no final period, user input in backticks.
    pub message: String,
    /// The policy file as given on the command line.
    pub file: String,
    /// 1-based line; 0 when the problem has no position (e.g. an empty file).
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// How many characters to underline (at least 1).
    pub length: usize,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `line:column`.
    pub fn error(code: &'static str, message: impl Into<String>, at: Position) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: String::new(),
            line: at.line,
            column: at.column,
            length: at.length.max(1),
            help: None,
        }
    }

    /// Adds help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic for a terminal, with the offending source line and a caret.
    pub fn render(&self, source: &str) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{severity}[{}]: {}\n", self.code, self.message);
        let _ = writeln!(out, "  --> {}:{}:{}", self.file, self.line, self.column);
        if let Some(text) = self.line.checked_sub(1).and_then(|index| source.lines().nth(index)) {
            let gutter = self.line.to_string().len();
            let pad = " ".repeat(gutter);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{} | {}", self.line, text);
            let available = text.chars().count().saturating_sub(self.column.saturating_sub(1));
            let carets = "^".repeat(self.length.min(available.max(1)));
            let indent = " ".repeat(self.column.saturating_sub(1));
            let _ = writeln!(out, "{pad} | {indent}{carets}");
        }
        if let Some(help) = &self.help {
            let pad = " ".repeat(self.line.to_string().len());
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// A position in the policy file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// Characters to underline.
    pub length: usize,
}

impl Position {
    /// A position from a serde-saphyr location.
    pub(crate) fn of(location: &serde_saphyr::Location) -> Self {
        Position {
            line: usize::try_from(location.line()).unwrap_or(0),
            column: usize::try_from(location.column()).unwrap_or(0),
            length: usize::try_from(location.span().len()).unwrap_or(1).max(1),
        }
    }
}
