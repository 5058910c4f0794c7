//! Policy lint: compile-time findings that make a policy not mean what it says.
//!
//! Codes (warnings; `--deny-warnings` turns them into a failure):
//!
//! | code  | finding |
//! |-------|---------|
//! | W0101 | a rule's condition can never hold |
//! | W0102 | a rule can never decide: earlier or stronger rules decide everything it matches |
//! | W0103 | a rule duplicates another (same tools, same condition, same effect) |
//! | W0104 | two rules have the same tools and condition but different effects |
//! | W0105 | a tool has a schema but no rule applies to it: every call gets the default |
//! | W0106 | an allow that is broader than it looks (every tool, every path, every host) |
//! | W0107 | the policy is not total in the safe direction: calls no rule decides are allowed |
//! | W0108 | the analysis ran out of budget: findings may be missing |
//!
//! "Can never" is proved on the decision DAG with [`crate::analysis`]: a rule is dead when no
//! feasible path reaches its decision. The proof is sound but not complete (numbers, URLs and
//! SQL are treated as unconstrained), so a dead rule may go unreported, never the reverse.

use crate::Compiled;
use crate::analysis::{self, Atoms, Dag, Step};
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::ir::{Atom, Cond, NameMatcher, PatternKind, Policy, Rule, Test};
use crate::resolve::Patterns;
use mcppol_runtime::{Effect, Program};
use std::collections::{BTreeSet, HashMap};

/// Rules above which W0102 stops naming the rules that shadow a dead rule (each name costs a
/// small recompile per earlier rule).
const NAME_SHADOWS_MAX_RULES: usize = 300;

fn warning(code: &'static str, message: String, at: Position) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(code, message, at);
    diagnostic.severity = Severity::Warning;
    diagnostic
}

fn rule_position(rule: &Rule) -> Position {
    Position { line: rule.line as usize, column: rule.column as usize, length: 1 }
}

/// Lints a compiled policy. `source` is its YAML text (for positions of tools and the
/// default). Findings come back in source order.
pub fn lint(compiled: &Compiled, source: &str, file: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let policy = &compiled.policy;
    let model = crate::parse(source, file).ok();

    // Duplicates and conflicts: the same tools and condition.
    let mut reported: BTreeSet<String> = BTreeSet::new();
    // Rules grouped by (tools, condition), so finding the earlier twins of a rule is a lookup,
    // not a comparison with every earlier rule (quadratic: seconds at 10,000 rules).
    let mut twins: HashMap<(&Option<NameMatcher>, &Cond), Vec<&Rule>> = HashMap::new();
    for later in &policy.rules {
        let group = twins.entry((&later.tools, &later.condition)).or_default();
        // A duplicate is the plainer finding; report a conflict only if there is none.
        let earlier = group
            .iter()
            .find(|earlier| earlier.verdict.effect == later.verdict.effect)
            .or_else(|| group.first())
            .copied();
        group.push(later);
        if let Some(earlier) = earlier {
            reported.insert(later.id.clone());
            let (code, message, help) = if earlier.verdict.effect == later.verdict.effect {
                (
                    "W0103",
                    format!("rule `{}` duplicates rule `{}`", later.id, earlier.id),
                    "remove one of them",
                )
            } else {
                (
                    "W0104",
                    format!(
                        "rules `{}` ({}) and `{}` ({}) match exactly the same calls: `{}` always wins",
                        earlier.id,
                        earlier.verdict.effect,
                        later.id,
                        later.verdict.effect,
                        earlier.id
                    ),
                    "the stronger effect wins (deny > require_approval > allow); narrow one rule or delete it",
                )
            };
            out.push(warning(code, message, rule_position(later)).with_help(help));
        }
    }

    // Dead rules, proved on the DAG.
    if let Some(found) = reach(&compiled.bytes, &compiled.source_map, &compiled.patterns) {
        let (program, reach) = found;
        if reach.incomplete {
            out.push(warning(
                "W0108",
                format!(
                    "the path analysis stopped after {} steps: rules it did not reach may still fire",
                    analysis::SEARCH_BUDGET
                ),
                Position { line: 1, column: 1, length: 1 },
            ).with_help("findings about rules that never fire are omitted; split the policy to analyse it fully"));
        } else {
            let fired = fired_rules(&program, &reach);
            for rule in &policy.rules {
                if fired.contains(&rule.id) || reported.contains(&rule.id) {
                    continue;
                }
                out.push(dead_rule(policy, &compiled.patterns, rule));
            }
        }
        if policy.default.effect == Effect::Allow {
            let at = model
                .as_ref()
                .and_then(|m| m.default.as_ref())
                .map_or(Position { line: 1, column: 1, length: 1 }, |d| {
                    Position::of(&d.referenced)
                });
            let example = default_witness(&program, compiled, &reach);
            out.push(
                warning(
                    "W0107",
                    format!(
                        "the default is `allow`: a call no rule decides is allowed{}",
                        example.map(|e| format!(", e.g. {e}")).unwrap_or_default()
                    ),
                    at,
                )
                .with_help("make the default `deny` and allow what is needed explicitly"),
            );
        }
    }

    // Tools with a schema but no rule.
    for schema in &policy.schemas {
        let applies = policy.rules.iter().any(|rule| match &rule.tools {
            None => true,
            Some(matcher) => {
                matcher.exact.contains(&schema.tool)
                    || matcher.globs.iter().any(|glob| {
                        compiled
                            .patterns
                            .get(&(PatternKind::NameGlob, vec![glob.clone()]))
                            .and_then(|blob| mcppol_runtime::dfa::Dfa::from_bytes(blob).ok())
                            .is_some_and(|dfa| dfa.is_match(schema.tool.as_bytes()))
                    })
            }
        });
        if !applies {
            let at = model
                .as_ref()
                .and_then(|m| m.tools.get(&schema.tool))
                .map_or(Position { line: 1, column: 1, length: 1 }, |t| {
                    Position::of(&t.referenced)
                });
            out.push(
                warning(
                    "W0105",
                    format!(
                        "tool `{}` has a schema but no rule: every call to it gets the default ({})",
                        schema.tool, policy.default.effect
                    ),
                    at,
                )
                .with_help("add a rule for it, or remove its schema if the default is intended"),
            );
        }
    }

    // Broad allows.
    for rule in policy.rules.iter().filter(|rule| rule.verdict.effect == Effect::Allow) {
        for finding in broad(rule) {
            out.push(
                warning(
                    "W0106",
                    format!("rule `{}` allows {finding}", rule.id),
                    rule_position(rule),
                )
                .with_help("narrow the allow to what the agent needs"),
            );
        }
    }

    for diagnostic in &mut out {
        diagnostic.file = file.to_owned();
    }
    out.sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    out
}

/// Verifies `bytes` and searches its DAG.
fn reach<'b>(
    bytes: &'b [u8],
    map: &crate::lower::SourceMap,
    patterns: &Patterns,
) -> Option<(Program<'b>, analysis::Reach)> {
    Some((Program::from_bytes(bytes).ok()?, analysis::reach_of(bytes, map, patterns)?))
}

/// Ids of the rules whose decision some feasible path reaches.
fn fired_rules(program: &Program<'_>, reach: &analysis::Reach) -> BTreeSet<String> {
    reach
        .decisions
        .keys()
        .filter_map(|&node| match program.node(node) {
            Some(mcppol_runtime::inspect::NodeView::Decide { outcome }) => program
                .outcome_view(outcome)
                .and_then(|view| view.rule)
                .and_then(|rule| program.rule(rule))
                .map(|rule| rule.id.to_owned()),
            _ => None,
        })
        .collect()
}

/// Whether `rule` decides some request in a policy made of `rules` only: `None` if unknown.
fn fires_in(policy: &Policy, patterns: &Patterns, rules: Vec<Rule>, rule: &str) -> Option<bool> {
    let mut sub = policy.clone();
    sub.rules = rules;
    let mut tables = crate::lower::lower(&sub, patterns);
    let bytes = crate::emit::emit(&tables);
    let map = std::mem::take(&mut tables.source_map);
    let (program, reach) = reach(&bytes, &map, patterns)?;
    if reach.incomplete {
        return None;
    }
    Some(fired_rules(&program, &reach).contains(rule))
}

fn dead_rule(policy: &Policy, patterns: &Patterns, rule: &Rule) -> Diagnostic {
    let alone = fires_in(policy, patterns, vec![rule.clone()], &rule.id);
    if alone == Some(false) {
        return warning(
            "W0101",
            format!("rule `{}` can never fire: its conditions contradict each other", rule.id),
            rule_position(rule),
        )
        .with_help("no request satisfies every condition of this rule; fix or delete it");
    }
    let mut shadows = Vec::new();
    if policy.rules.len() <= NAME_SHADOWS_MAX_RULES {
        for earlier in policy.rules.iter().take_while(|other| other.id != rule.id) {
            let pair = vec![earlier.clone(), rule.clone()];
            if fires_in(policy, patterns, pair, &rule.id) == Some(false) {
                shadows.push(format!("`{}` ({})", earlier.id, earlier.verdict.effect));
            }
        }
    }
    let by = match shadows.len() {
        0 => "the rules before it, together, decide".to_owned(),
        1 => format!("rule {} decides", shadows.join("")),
        _ => format!("each of rules {} decides", shadows.join(", ")),
    };
    warning(
        "W0102",
        format!(
            "rule `{}` ({}) can never fire: {by} every call it matches",
            rule.id, rule.verdict.effect
        ),
        rule_position(rule),
    )
    .with_help(
        "rules are tried deny first, then require_approval, then allow, ties by id; narrow the earlier rule or delete this one",
    )
}

/// A call that reaches the default, checked with the runtime, as JSON text.
fn default_witness(
    program: &Program<'_>,
    compiled: &Compiled,
    reach: &analysis::Reach,
) -> Option<String> {
    let mut atoms = Atoms::default();
    let dag = Dag::new(program, &compiled.source_map, &mut atoms, &compiled.patterns);
    let mut solver = analysis::Solver::new(&atoms);
    for (&node, (path, tool)) in &reach.decisions {
        let Some(Step::Decide(outcome)) = dag.node(node) else { continue };
        let is_default = program
            .outcome_view(outcome)
            .is_some_and(|view| view.kind == mcppol_runtime::format::outcome::DEFAULT);
        if !is_default {
            continue;
        }
        let tool = tool.clone().unwrap_or_else(|| "some.unlisted.tool".to_owned());
        for candidate in solver.witnesses(path, &tool) {
            let hits_default = candidate.decide(program, |decision| {
                decision.rule.is_none() && decision.code == compiled.policy.default.code
            });
            if hits_default {
                return Some(candidate.to_json().to_string());
            }
        }
    }
    None
}

/// What is overly broad about an allow rule.
fn broad(rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    let every_tool = match &rule.tools {
        None => true,
        Some(matcher) => matcher.globs.iter().any(|glob| glob == "*" || glob == "**"),
    };
    let mut atoms = Vec::new();
    collect_atoms(&rule.condition, &mut atoms);
    let constrains_more_than_method =
        atoms.iter().any(|atom| !matches!(atom.subject, crate::ir::Subject::Method));
    if every_tool && !constrains_more_than_method {
        out.push("every call to every tool".to_owned());
    }
    for atom in atoms {
        match &atom.test {
            Test::PathPrefix(prefixes, _)
                if prefixes.iter().any(|p| p.trim_end_matches('/').is_empty()) =>
            {
                out.push("every absolute path (prefix `/`)".to_owned());
            }
            Test::PathGlob(globs, _) => {
                if let Some(glob) = globs.iter().find(|glob| *glob == "/**" || *glob == "**") {
                    out.push(format!("every path (glob `{glob}`)"));
                }
            }
            Test::Matches(PatternKind::PathGlob, glob) if glob == "/**" || glob == "**" => {
                out.push(format!("every path (glob `{glob}`)"));
            }
            Test::UrlHost(hosts)
                if hosts
                    .iter()
                    .any(|h| h == "*" || h.starts_with("*.") && h.matches('.').count() < 2) =>
            {
                out.push("any host of a top-level domain".to_owned());
            }
            _ => {}
        }
    }
    out.dedup();
    out
}

fn collect_atoms<'c>(cond: &'c Cond, out: &mut Vec<&'c Atom>) {
    match cond {
        Cond::True | Cond::False => {}
        Cond::Atom(atom) => out.push(atom),
        Cond::Not(inner) => collect_atoms(inner, out),
        Cond::And(parts) | Cond::Or(parts) => {
            parts.iter().for_each(|part| collect_atoms(part, out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(yaml: &str) -> Vec<(&'static str, String)> {
        let compiled = crate::compile(yaml, "p.yaml").unwrap();
        lint(&compiled, yaml, "p.yaml").into_iter().map(|d| (d.code, d.message)).collect()
    }

    fn has(found: &[(&'static str, String)], code: &str, needle: &str) -> bool {
        found.iter().any(|(c, message)| *c == code && message.contains(needle))
    }

    const HEAD: &str = "version: 1\nname: p\nrules:\n";

    #[test]
    fn a_clean_policy_has_no_findings() {
        let yaml = format!(
            "{HEAD}  - {{id: read, effect: allow, reason: r, tool: fs.read, args: {{path: {{path: {{in: [/w]}}}}}}}}\n  - {{id: secrets, effect: deny, reason: r, tool: fs.read, args: {{path: {{path: {{in: ['**/.env']}}}}}}}}\n"
        );
        assert_eq!(codes(&yaml), vec![]);
    }

    #[test]
    fn contradictions_are_unsatisfiable() {
        // Two different equalities, disjoint regexes, and `exists` against a test needing it.
        let yaml = format!(
            "{HEAD}  - {{id: eq, effect: allow, reason: r, tool: t, when: 'args.a == \"x\" && args.a == \"y\"'}}\n  - {{id: re, effect: allow, reason: r, tool: t, when: 'args.a matches \"^/x/\" && args.a matches \"^/y/\"'}}\n  - {{id: ok, effect: allow, reason: r, tool: t, when: 'args.a matches \"^/x/\" && args.a matches \"z$\"'}}\n"
        );
        let found = codes(&yaml);
        assert!(has(&found, "W0101", "rule `eq`"), "{found:?}");
        assert!(has(&found, "W0101", "rule `re`"), "{found:?}");
        assert!(!found.iter().any(|(_, m)| m.contains("`ok`")), "{found:?}");
    }

    #[test]
    fn shadowed_rules_name_the_rule_that_shadows_them() {
        let yaml = format!(
            "{HEAD}  - {{id: no-etc, effect: deny, reason: r, tool: fs.read, args: {{path: {{path: {{in: [/etc]}}}}}}}}\n  - {{id: passwd, effect: allow, reason: r, tool: fs.read, args: {{path: {{path: {{in: [/etc/passwd]}}}}}}}}\n  - {{id: tmp, effect: allow, reason: r, tool: fs.read, args: {{path: {{path: {{in: [/tmp]}}}}}}}}\n"
        );
        let found = codes(&yaml);
        assert!(
            has(&found, "W0102", "rule `passwd` (allow) can never fire: rule `no-etc` (deny)"),
            "{found:?}"
        );
        assert!(!found.iter().any(|(_, m)| m.contains("`tmp`")), "{found:?}");
    }

    #[test]
    fn duplicates_and_conflicts() {
        let yaml = format!(
            "{HEAD}  - {{id: a, effect: allow, reason: r, tool: t, when: 'args.n > 1'}}\n  - {{id: b, effect: allow, reason: r, tool: t, when: 'args.n > 1'}}\n  - {{id: c, effect: deny, reason: r, tool: u, when: 'args.n > 1'}}\n  - {{id: d, effect: allow, reason: r, tool: u, when: 'args.n > 1'}}\n"
        );
        let found = codes(&yaml);
        assert!(has(&found, "W0103", "rule `b` duplicates rule `a`"), "{found:?}");
        assert!(has(&found, "W0104", "rules `c` (deny) and `d` (allow)"), "{found:?}");
    }

    #[test]
    fn tools_without_rules_broad_allows_and_an_allow_default() {
        let yaml = "version: 1\nname: p\ndefault: allow\ntools:\n  lonely:\n    args:\n      a: {type: string}\nrules:\n  - {id: all, effect: allow, reason: r, tool: '*'}\n  - {id: root, effect: allow, reason: r, tool: fs.list, args: {path: {path: {in: ['/']}}}}\n  - {id: no, effect: deny, reason: r, tool: other}\n";
        let found = codes(yaml);
        assert!(has(&found, "W0107", "the default is `allow`"), "{found:?}");
        assert!(has(&found, "W0106", "rule `all` allows every call to every tool"), "{found:?}");
        assert!(has(&found, "W0106", "rule `root` allows every absolute path"), "{found:?}");
        // `all` applies to `lonely`, so W0105 must not fire here...
        assert!(!found.iter().any(|(code, _)| *code == "W0105"), "{found:?}");
        // ...but does once no rule applies to it.
        let yaml = "version: 1\nname: p\ntools:\n  lonely:\n    args:\n      a: {type: string}\nrules:\n  - {id: no, effect: deny, reason: r, tool: other}\n";
        let found = codes(yaml);
        assert!(has(&found, "W0105", "tool `lonely` has a schema but no rule"), "{found:?}");
    }

    #[test]
    fn the_allow_default_warning_carries_a_checked_example() {
        let yaml = "version: 1\nname: p\ndefault: allow\nrules:\n  - {id: no, effect: deny, reason: r, tool: t, when: 'args.a == \"x\"'}\n";
        let found = codes(yaml);
        let message = &found.iter().find(|(code, _)| *code == "W0107").unwrap().1;
        assert!(message.contains("e.g. {"), "{message}");
    }

    #[test]
    fn an_exhausted_budget_is_reported_and_claims_nothing() {
        // Number tests are not modelled, and every rule tests the same four arguments, so no
        // literal ever stops mattering and paths never merge: each rule fails in four ways,
        // and 18 rules make 4^18 paths, far past the budget.
        let mut yaml = String::from(HEAD);
        for i in 0..18 {
            yaml.push_str(&format!(
                "  - {{id: r{i:02}, effect: allow, reason: r, tool: t, when: 'args.a > {i} && args.b > {i} && args.c > {i} && args.d > {i}'}}\n"
            ));
        }
        let found = codes(&yaml);
        assert!(found.iter().any(|(code, _)| *code == "W0108"), "{found:?}");
        assert!(!found.iter().any(|(code, _)| *code == "W0101" || *code == "W0102"), "{found:?}");
    }
}
