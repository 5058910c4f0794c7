//! `mcppol fmt`: rewrites every `when:` condition of a policy in canonical expression form
//! (`mcppol_grammar::print`), leaving every other byte of the file as it was.
//!
//! Only the condition's scalar is replaced, in the quoting style it had (plain scalars that
//! would no longer read back as the same string become single-quoted). Block scalars (`|`,
//! `>`) are left alone: re-indenting them is not worth the risk of changing the file's other
//! lines. The result is checked before it is returned: it must parse as the same policy, and
//! every rewritten condition must read back as the same expression tree.

use crate::diagnostic::{Diagnostic, Position};
use serde_saphyr::Spanned;

/// How a YAML scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Block,
}

fn style(text: &str) -> Style {
    match text.as_bytes().first() {
        Some(b'\'') => Style::Single,
        Some(b'"') => Style::Double,
        Some(b'|' | b'>') => Style::Block,
        _ => Style::Plain,
    }
}

/// `value` as a YAML scalar in `style` (single-quoted where a plain scalar would not do).
fn scalar(value: &str, style: Style) -> String {
    let single = || format!("'{}'", value.replace('\'', "''"));
    match style {
        Style::Double => serde_json::to_string(value).unwrap_or_else(|_| single()),
        Style::Plain => {
            let options = serde_saphyr::options! { strict_booleans: true };
            let reads_back = serde_saphyr::from_str_with_options::<String>(value, options)
                .is_ok_and(|read| read == value);
            // A plain scalar inside a flow mapping must also avoid `,`, `{`, `}`, `[`, `]`.
            if reads_back && !value.contains([',', '{', '}', '[', ']', '#', ':']) {
                value.to_owned()
            } else {
                single()
            }
        }
        Style::Single | Style::Block => single(),
    }
}

/// The canonical text of `source`: every `when:` in canonical form. `Ok(source)` unchanged when
/// it already is.
///
/// # Errors
///
/// The diagnostics of a file that does not parse, or whose conditions do not.
pub fn format(source: &str, file: &str) -> Result<String, Vec<Diagnostic>> {
    let model = crate::parse(source, file)?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut errors = Vec::new();
    for rule in &model.rules {
        let Some(when) = &rule.value.when else { continue };
        let Some(edit) = edit(source, when, &mut errors) else { continue };
        edits.push(edit);
    }
    if !errors.is_empty() {
        for error in &mut errors {
            error.file = file.to_owned();
        }
        return Err(errors);
    }
    let mut out = source.to_owned();
    // Back to front, so earlier offsets stay valid.
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    for (start, end, text) in &edits {
        out.replace_range(*start..*end, text);
    }
    check(source, &out, file)?;
    Ok(out)
}

/// The replacement for one condition, if it is not canonical already.
fn edit(
    source: &str,
    when: &Spanned<String>,
    errors: &mut Vec<Diagnostic>,
) -> Option<(usize, usize, String)> {
    let expr = match mcppol_grammar::parse(&when.value) {
        Ok(expr) => expr,
        Err(syntax) => {
            let at = Position::of(&when.referenced);
            // The compiler reports these with exact positions; fmt only needs the code.
            errors.extend(syntax.iter().map(|e| {
                let diagnostic = Diagnostic::error(e.code, format!("`when:` {}", e.message), at);
                match &e.help {
                    Some(help) => diagnostic.with_help(help.clone()),
                    None => diagnostic,
                }
            }));
            return None;
        }
    };
    let canonical = mcppol_grammar::print(&expr);
    if canonical == when.value {
        return None;
    }
    let span = when.referenced.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let end = start.checked_add(usize::try_from(span.byte_len()?).ok()?)?;
    let written = source.get(start..end)?;
    let written_style = style(written);
    if written_style == Style::Block {
        return None;
    }
    Some((start, end, scalar(&canonical, written_style)))
}

/// The formatted text must be the same policy: same model shape, conditions that read back as
/// the same trees.
fn check(before: &str, after: &str, file: &str) -> Result<(), Vec<Diagnostic>> {
    let internal = |message: String| {
        let mut diagnostic = Diagnostic::error("E0502", message, Position::default())
            .with_help("this is a bug in `mcppol fmt`; the file was not changed");
        diagnostic.file = file.to_owned();
        vec![diagnostic]
    };
    let old = crate::parse(before, file)?;
    let new = crate::parse(after, file)
        .map_err(|_| internal("formatting produced YAML that does not parse".to_owned()))?;
    if old.rules.len() != new.rules.len() {
        return Err(internal("formatting changed the number of rules".to_owned()));
    }
    for (a, b) in old.rules.iter().zip(&new.rules) {
        let same = match (&a.value.when, &b.value.when) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                match (mcppol_grammar::parse(&a.value), mcppol_grammar::parse(&b.value)) {
                    (Ok(x), Ok(y)) => mcppol_grammar::eq_ignoring_spans(&x, &y),
                    _ => false,
                }
            }
            _ => false,
        };
        if !same || a.value.id.value != b.value.id.value {
            return Err(internal(format!(
                "formatting changed the condition of rule `{}`",
                a.value.id.value
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_conditions_in_their_own_quoting_and_nothing_else() {
        let source = "version: 1\nname: p\n# keep me\nrules:\n  - id: a\n    effect: allow\n    reason: r\n    when: 'args.n>1&&(args.m==2)'\n  - id: b\n    effect: deny\n    reason: r\n    when: \"args.s  ==  \\\"x\\\"\"\n  - {id: c, effect: deny, reason: r, when: args.n == 1}\n";
        let out = format(source, "p.yaml").unwrap();
        assert_eq!(
            out,
            "version: 1\nname: p\n# keep me\nrules:\n  - id: a\n    effect: allow\n    reason: r\n    when: 'args.n > 1 && args.m == 2'\n  - id: b\n    effect: deny\n    reason: r\n    when: \"args.s == \\\"x\\\"\"\n  - {id: c, effect: deny, reason: r, when: args.n == 1}\n"
        );
        // Idempotent, and the policy compiles to the same conditions.
        assert_eq!(format(&out, "p.yaml").unwrap(), out);
        let (x, y) =
            (crate::compile(source, "p.yaml").unwrap(), crate::compile(&out, "p.yaml").unwrap());
        let conditions = |c: &crate::Compiled| {
            c.policy.rules.iter().map(|r| r.condition.clone()).collect::<Vec<_>>()
        };
        assert_eq!(conditions(&x), conditions(&y));
    }

    #[test]
    fn a_plain_scalar_that_would_not_read_back_is_quoted() {
        let source =
            "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, when: args.n==1}\n";
        let out = format(source, "p.yaml").unwrap();
        assert!(out.contains("when: args.n == 1}"), "{out}");
        let source = "version: 1\nname: p\nrules:\n  - id: a\n    effect: allow\n    reason: r\n    when: args.s in [\"a\",\"b\"]\n";
        let out = format(source, "p.yaml").unwrap();
        assert!(out.contains("when: 'args.s in [\"a\", \"b\"]'"), "{out}");
    }

    #[test]
    fn conditions_that_do_not_parse_are_errors() {
        let source = "version: 1\nname: p\nrules:\n  - {id: a, effect: allow, reason: r, when: 'args.n =='}\n";
        let errors = format(source, "p.yaml").unwrap_err();
        assert_eq!(errors[0].code, "E0101");
    }
}
