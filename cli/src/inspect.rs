//! `mcppol inspect`: a readable listing of an artifact (header, tools, nodes, predicates,
//! outcomes, rules, strings, DFAs), or a Graphviz picture of its DAG.

use crate::{Format, exit, hex};
use mcppol_compiler::ir::{PatternKind, Test};
use mcppol_compiler::lower::SourceMap;
use mcppol_runtime::Program;
use mcppol_runtime::format::{cmp, flag, op, outcome, subject};
use mcppol_runtime::inspect::{NodeView, PredicateView};
use std::fmt::Write as _;
use std::path::Path;

pub(crate) fn run(path: &Path, dot: bool) -> u8 {
    let Some(loaded) = crate::eval::load_with_source(path, Format::Human) else {
        return exit::ERROR;
    };
    let map = loaded.compiled.as_ref().map(|compiled| &compiled.source_map);
    let program = match Program::from_bytes(&loaded.bytes) {
        Ok(program) => program,
        Err(error) => {
            eprintln!(
                "error: `{}` is not a valid artifact: {error} [{}]",
                path.display(),
                error.code()
            );
            return exit::ERROR;
        }
    };
    print!("{}", if dot { render_dot(&program, map) } else { render_listing(&program, map) });
    exit::OK
}

/// A one-line description of predicate `index`, e.g. `args.path under {/workspace}`. With the
/// source map, patterns are shown as written instead of by DFA number.
pub(crate) fn describe(program: &Program<'_>, index: u32, map: Option<&SourceMap>) -> String {
    let Some(predicate) = program.predicate(index) else {
        return format!("<bad predicate {index}>");
    };
    let subject_text = match predicate.subject {
        subject::METHOD => "method".to_owned(),
        subject::SERVER => "server".to_owned(),
        subject::TOOL => "tool".to_owned(),
        subject::PRINCIPAL_ID => "principal.id".to_owned(),
        subject::PRINCIPAL_ROLES => "principal.roles".to_owned(),
        subject::ARG => format!("args.{}", predicate.path.replace('\0', ".")),
        _ => "args".to_owned(),
    };
    let missing =
        if predicate.flags & flag::MISSING_IS_FALSE != 0 { " (absent: false)" } else { "" };
    // A regex the compiler turned into a substring test is shown as the policy wrote it.
    let written = map.and_then(|map| map.predicate_atoms.get(index as usize)).and_then(|atom| {
        match &atom.test {
            Test::Matches(PatternKind::Regex, text) if predicate.op == op::STR_CONTAINS => {
                Some(format!("matches /{text}/"))
            }
            _ => None,
        }
    });
    let test = written.unwrap_or_else(|| describe_test(program, &predicate, map));
    format!("{subject_text} {test}{missing}")
}

/// The origins of node `index` (`rule `a`, rule `b``), or an empty string without a map.
pub(crate) fn origins(map: Option<&SourceMap>, index: u32) -> String {
    map.and_then(|map| map.node_origins.get(index as usize))
        .filter(|origins| !origins.is_empty())
        .map(|origins| {
            let names: Vec<String> = origins.iter().map(ToString::to_string).collect();
            names.join(", ")
        })
        .unwrap_or_default()
}

/// `{"a", "b"}`: each text quoted as a single pattern is.
fn quoted_list(texts: &[String]) -> String {
    let quoted: Vec<String> = texts.iter().map(|text| format!("{text:?}")).collect();
    format!("{{{}}}", quoted.join(", "))
}

fn describe_test(
    program: &Program<'_>,
    predicate: &PredicateView<'_>,
    map: Option<&SourceMap>,
) -> String {
    let pattern = |id: u32| match map.and_then(|map| map.dfa_patterns.get(id as usize)) {
        Some((PatternKind::Regex, texts)) => format!("/{}/", texts.join("|")),
        Some((_, texts)) => match texts.as_slice() {
            [text] => format!("glob {text:?}"),
            // The one DFA of a rule's glob list: show the list, not a regex of the union.
            _ => format!("any glob of {}", quoted_list(texts)),
        },
        None => format!("dfa#{id}"),
    };
    let string = |id| format!("{:?}", program.string_at(id).unwrap_or("?"));
    let set = |id| format!("{{{}}}", program.set_members(id).collect::<Vec<_>>().join(", "));
    let comparison = match (predicate.flags & flag::CMP_MASK) >> flag::CMP_SHIFT {
        cmp::EQ => "==",
        cmp::NE => "!=",
        cmp::LT => "<",
        cmp::LE => "<=",
        cmp::GT => ">",
        _ => ">=",
    };
    let (a, b) = (predicate.a, predicate.b);
    match predicate.op {
        op::STR_EQ => format!("== {}", string(a)),
        op::STR_IN => format!("in {}", set(a)),
        op::STR_PREFIX => format!("starts_with {}", string(a)),
        op::STR_SUFFIX => format!("ends_with {}", string(a)),
        op::STR_CONTAINS => format!("contains {}", string(a)),
        op::STR_MATCHES => format!("matches {}", pattern(a)),
        op::LEN_CMP => format!("len {comparison} {a}"),
        op::PATH_PREFIX => format!("path under {}", set(a)),
        op::PATH_GLOB => format!("path matches {}", pattern(a)),
        op::URL_SCHEME => format!("url scheme in {}", set(a)),
        op::URL_HOST => format!("url host in {}", set(a)),
        op::URL_NAMED_HOST => "url host is a name (not an IP literal)".to_owned(),
        op::SQL_ALLOW => {
            let kinds: Vec<&str> = mcppol_runtime::sql::KindSet::from_bits(a)
                .unwrap_or(mcppol_runtime::sql::KindSet::EMPTY)
                .iter()
                .map(|k| k.name())
                .collect();
            format!("sql kinds within {{{}}}, at most {b} statement(s)", kinds.join(", "))
        }
        op::INT_CMP => {
            let mut wide = [0u8; 8];
            wide[..4].copy_from_slice(&a.to_le_bytes());
            wide[4..].copy_from_slice(&b.to_le_bytes());
            format!("{comparison} {}", i64::from_le_bytes(wide))
        }
        op::BOOL_EQ => format!("== {}", a == 1),
        op::EXISTS => "exists".to_owned(),
        op::TYPE_IS => {
            use mcppol_runtime::format::json_type;
            let names: Vec<&str> = [
                (json_type::NULL, "null"),
                (json_type::BOOLEAN, "boolean"),
                (json_type::INTEGER, "integer"),
                (json_type::NUMBER, "number"),
                (json_type::STRING, "string"),
                (json_type::ARRAY, "array"),
                (json_type::OBJECT, "object"),
            ]
            .iter()
            .filter(|(bit, _)| a & bit != 0)
            .map(|(_, name)| *name)
            .collect();
            format!("type is {}", names.join(" or "))
        }
        op::BYTES_CMP => format!("byte length {comparison} {a}"),
        op::NUM_CMP => format!("{comparison} {}", string(a).trim_matches('"')),
        op::URL_PORT => format!("url port in {}", set(a)),
        op::URL_PATH_PREFIX => format!("url path under {}", set(a)),
        op::URL_SSRF => "url host is not internal (ssrf check)".to_owned(),
        op::SQL_FUNCTIONS_DENY => format!("sql calls none of {}", set(a)),
        op::SQL_TABLES_IN => format!("sql tables within {}", set(a)),
        op::SQL_TABLES_NOT_IN => format!("sql tables none of {}", set(a)),
        op::ARRAY_ALL => format!("every element: {}", describe(program, a, map)),
        op::ARRAY_ANY => format!("some element: {}", describe(program, a, map)),
        op::ONLY_KEYS => format!("keys within {}", set(a)),
        op::ROLE_HAS => format!("has role {}", string(a)),
        op::ROLE_ANY => format!("has a role in {}", set(a)),
        other => format!("op#{other}"),
    }
}

fn describe_outcome(program: &Program<'_>, index: u32) -> String {
    let Some(view) = program.outcome_view(index) else {
        return format!("<bad outcome {index}>");
    };
    let kind = match view.kind {
        outcome::RULE => "rule",
        outcome::DEFAULT => "default",
        _ => "schema",
    };
    let rule = view
        .rule
        .and_then(|rule| program.rule(rule))
        .map(|r| format!(" {}", r.id))
        .unwrap_or_default();
    format!("{} ({kind}{rule}, risk {}, code {})", view.effect, view.risk, view.code)
}

fn render_listing(program: &Program<'_>, map: Option<&SourceMap>) -> String {
    let mut out = String::new();
    let (strings, sets, dfas, outcomes, predicates) = program.table_counts();
    let _ = writeln!(out, "policy      {}", program.name());
    let _ = writeln!(out, "source      {}", program.source());
    let (major, minor) = program.format_version();
    let _ = writeln!(out, "format      {major}.{minor}");
    let _ = writeln!(out, "sha256      {}", hex(&program.content_hash()));
    let _ = writeln!(out, "size        {} bytes", program.as_bytes().len());
    let _ = writeln!(
        out,
        "counts      {} rules, {} nodes, {predicates} predicates, {outcomes} outcomes, {strings} strings, {sets} sets, {dfas} dfas",
        program.rule_count(),
        program.node_count()
    );
    match program.tool_index() {
        Some((seed, buckets, max_probe)) => {
            let _ = writeln!(
                out,
                "\ntools (entry node; hashed: {buckets} buckets, seed {seed}, at most {max_probe} probes)"
            );
        }
        None => {
            let _ = writeln!(out, "\ntools (entry node; binary search)");
        }
    }
    for (name, entry) in program.tools() {
        let _ = writeln!(out, "  {name:<32} n{entry}");
    }
    let _ = writeln!(out, "  {:<32} n{}", "<any other tool>", program.fallback_entry());
    let _ = writeln!(out, "\nnodes (every edge points to a smaller index)");
    for index in 0..program.node_count() {
        match program.node(index) {
            Some(NodeView::Test { predicate, if_true, if_false }) => {
                let from = origins(map, index);
                let from = if from.is_empty() { from } else { format!("  [{from}]") };
                let _ = writeln!(
                    out,
                    "  n{index:<5} if {} then n{if_true} else n{if_false}{from}",
                    describe(program, predicate, map)
                );
            }
            Some(NodeView::Decide { outcome }) => {
                let _ =
                    writeln!(out, "  n{index:<5} decide {}", describe_outcome(program, outcome));
            }
            None => {}
        }
    }
    let _ = writeln!(out, "\nrules (id, source position)");
    for index in 0..program.rule_count() {
        if let Some(rule) = program.rule(index) {
            let _ = writeln!(
                out,
                "  r{index:<4} {:<32} {}:{}:{}",
                rule.id,
                program.source(),
                rule.line,
                rule.column
            );
        }
    }
    let _ = writeln!(out, "\noutcomes");
    for index in 0..outcomes {
        let reason = program.outcome_view(index).map(|v| v.reason).unwrap_or("");
        let _ = writeln!(
            out,
            "  o{index:<4} {}\n         reason: {reason}",
            describe_outcome(program, index)
        );
    }
    let _ = writeln!(out, "\ndfas (states, byte classes, bytes)");
    for index in 0..dfas {
        if let Some((states, classes, len)) = program.dfa_shape(index) {
            let source = map
                .and_then(|map| map.dfa_patterns.get(index as usize))
                .map(|(kind, texts)| match texts.as_slice() {
                    [text] => format!("  {kind:?} {text:?}"),
                    _ => format!("  {kind:?} union {}", quoted_list(texts)),
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  dfa#{index:<3} {states} states, {classes} classes, {len} bytes{source}"
            );
        }
    }
    let _ = writeln!(out, "\nstrings");
    for index in 0..strings {
        let _ = writeln!(out, "  s{index:<4} {:?}", program.string_at(index).unwrap_or(""));
    }
    out
}

fn render_dot(program: &Program<'_>, map: Option<&SourceMap>) -> String {
    let mut out = String::from(
        "digraph mcppol {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n",
    );
    let _ = writeln!(out, "  label={:?};", format!("{} ({})", program.name(), program.source()));
    for (name, entry) in program.tools() {
        let _ = writeln!(
            out,
            "  {:?} [shape=cds, style=filled, fillcolor=\"#dde8f5\"];",
            format!("tool {name}")
        );
        let _ = writeln!(out, "  {:?} -> n{entry};", format!("tool {name}"));
    }
    let _ = writeln!(out, "  \"any other tool\" [shape=cds, style=filled, fillcolor=\"#eeeeee\"];");
    let _ = writeln!(out, "  \"any other tool\" -> n{};", program.fallback_entry());
    for index in 0..program.node_count() {
        match program.node(index) {
            Some(NodeView::Test { predicate, if_true, if_false }) => {
                let _ = writeln!(
                    out,
                    "  n{index} [shape=box, label={:?}];",
                    describe(program, predicate, map)
                );
                let _ =
                    writeln!(out, "  n{index} -> n{if_true} [label=\"yes\", color=\"#22aa77\"];");
                let _ = writeln!(
                    out,
                    "  n{index} -> n{if_false} [label=\"no\", color=\"#cc3333\", style=dashed];"
                );
            }
            Some(NodeView::Decide { outcome }) => {
                let color = match program.outcome_view(outcome).map(|v| v.effect) {
                    Some(mcppol_runtime::Effect::Allow) => "#c8f0c8",
                    Some(mcppol_runtime::Effect::RequireApproval) => "#fbe7a1",
                    _ => "#f5c2c2",
                };
                let _ = writeln!(
                    out,
                    "  n{index} [shape=ellipse, style=filled, fillcolor=\"{color}\", label={:?}];",
                    describe_outcome(program, outcome)
                );
            }
            None => {}
        }
    }
    out.push_str("}\n");
    out
}
