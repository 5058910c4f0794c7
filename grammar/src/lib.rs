//! The mcppol condition-expression language: the `when:` conditions of policy rules.
//!
//! This crate knows only expression text: no YAML, no bytecode. The normative definition is
//! `grammar/GRAMMAR.md`; the pest grammar in `expression.pest` implements it.
//!
//! ```
//! use mcppol_grammar::{parse, print};
//!
//! let expr = parse(r#"tool == "write_file" && !(args.path starts_with "/tmp/")"#).unwrap();
//! assert_eq!(print(&expr), r#"tool == "write_file" && !(args.path starts_with "/tmp/")"#);
//!
//! let errors = parse("arg.path == 1").unwrap_err();
//! assert_eq!(errors[0].code, "E0106");
//! assert_eq!(errors[0].help.as_deref(), Some("did you mean `args`?"));
//! ```

pub mod ast;
mod error;
mod expected;
mod parse;
mod pest_parser;
mod print;
mod spans;

pub use error::{
    E0101_UNEXPECTED, E0102_BAD_ESCAPE, E0103_INTEGER_RANGE, E0104_TOO_DEEP, E0105_TOO_LONG,
    E0106_UNKNOWN_ROOT, SyntaxError,
};
pub use parse::{EXPR_BYTES_MAX, EXPR_DEPTH_MAX, parse};
pub use print::{compare_op_text, path_text, print, root_text, str_op_text, string_literal_text};
pub use spans::{eq_ignoring_spans, strip_spans};
