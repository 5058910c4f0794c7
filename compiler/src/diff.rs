//! Semantic diff of two policies: which requests change decision, with a witness request for
//! each changed region.
//!
//! The two DAGs are walked together over one shared set of atoms (the product of the two
//! DAGs): at each step the first DAG that still has a test branches on it, and a path ends
//! when both have decided. A path where the two decisions differ is a *changed region*: every
//! request that takes it changes decision. Feasibility is [`crate::analysis`]'s, so a region
//! reported is feasible as far as the analysis can tell, and a witness is shown only after
//! evaluating it with both artifacts and seeing exactly the two decisions the region claims.

use crate::Compiled;
use crate::analysis::{self, Atoms, Dag, Literal, OwnedRequest, Solver, Step};
use mcppol_runtime::Program;
use std::collections::{BTreeMap, BTreeSet};

/// Paths kept per changed region to search a witness in.
const PATHS_PER_REGION: usize = 16;

/// What a policy decided, as far as a reviewer cares.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Verdict {
    /// `allow`, `deny` or `require_approval`.
    pub effect: String,
    /// The deciding rule, if any.
    pub rule: Option<String>,
    /// The reason code.
    pub code: String,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.effect)?;
        match &self.rule {
            Some(rule) => write!(f, " (rule {rule})"),
            None => write!(f, " ({})", self.code),
        }
    }
}

/// One changed region: requests to `tool` that went `old` and now go `new`.
#[derive(Clone, Debug)]
pub struct Change {
    /// The tool, or `None` for tools neither policy names.
    pub tool: Option<String>,
    /// The old decision.
    pub old: Verdict,
    /// The new decision.
    pub new: Verdict,
    /// A request checked to go `old` under the old artifact and `new` under the new one.
    pub witness: Option<OwnedRequest>,
    /// Feasible paths found in this region.
    pub paths: usize,
}

impl Change {
    /// Whether the effect changed (not just the deciding rule or code).
    pub fn effect_changed(&self) -> bool {
        self.old.effect != self.new.effect
    }
}

/// The result of a diff.
#[derive(Debug, Default)]
pub struct Report {
    /// Changed regions, by tool, then old and new decision.
    pub changes: Vec<Change>,
    /// The search ran out of budget: there may be more changes.
    pub incomplete: bool,
}

fn verdict(program: &Program<'_>, outcome: u32) -> Option<Verdict> {
    let view = program.outcome_view(outcome)?;
    Some(Verdict {
        effect: view.effect.as_str().to_owned(),
        rule: view.rule.and_then(|rule| program.rule(rule)).map(|rule| rule.id.to_owned()),
        code: view.code.to_owned(),
    })
}

fn decided(decision: &mcppol_runtime::Decision<'_>) -> Verdict {
    Verdict {
        effect: decision.effect.as_str().to_owned(),
        rule: decision.rule.map(str::to_owned),
        code: decision.code.to_owned(),
    }
}

/// Compares two compiled policies.
pub fn diff(old: &Compiled, new: &Compiled) -> Report {
    let mut report = Report::default();
    let (Ok(old_program), Ok(new_program)) =
        (Program::from_bytes(&old.bytes), Program::from_bytes(&new.bytes))
    else {
        report.incomplete = true;
        return report;
    };
    // Both sides' patterns, so atoms from either can be built.
    let mut patterns = old.patterns.clone();
    patterns.extend(new.patterns.iter().map(|(key, blob)| (key.clone(), blob.clone())));
    let mut atoms = Atoms::default();
    let old_dag = Dag::new(&old_program, &old.source_map, &mut atoms, &patterns);
    let new_dag = Dag::new(&new_program, &new.source_map, &mut atoms, &patterns);

    let named: BTreeSet<String> = old_dag
        .entries()
        .into_iter()
        .chain(new_dag.entries())
        .filter_map(|(name, _)| name)
        .collect();
    let mut starts: Vec<(Option<String>, u32, u32, Option<Literal>)> = named
        .iter()
        .map(|name| {
            let pin = analysis::tool_atom(
                &mut atoms,
                &std::iter::once(name.clone()).collect(),
                &patterns,
            );
            (
                Some(name.clone()),
                old_dag.entry_for(name),
                new_dag.entry_for(name),
                Some((pin, true)),
            )
        })
        .collect();
    let other =
        (!named.is_empty()).then(|| (analysis::tool_atom(&mut atoms, &named, &patterns), false));
    starts.push((None, old_program.fallback_entry(), new_program.fallback_entry(), other));

    // Subjects an atom of the other DAG tests are unknown to each DAG's own relevance map;
    // keeping a literal that matters to either side is what the memo needs.
    let old_relevance = analysis::Relevance::new(&old_dag, &atoms);
    let new_relevance = analysis::Relevance::new(&new_dag, &atoms);
    let mut solver = Solver::new(&atoms);
    let mut regions: BTreeMap<(Option<String>, Verdict, Verdict), Vec<Vec<Literal>>> =
        BTreeMap::new();
    let mut counts: BTreeMap<(Option<String>, Verdict, Verdict), usize> = BTreeMap::new();
    let mut budget = analysis::SEARCH_BUDGET;
    for (tool, old_entry, new_entry, pin) in starts {
        let mut seen: BTreeSet<(u32, u32, Vec<Literal>)> = BTreeSet::new();
        let mut stack = vec![(old_entry, new_entry, pin.into_iter().collect::<Vec<_>>())];
        while let Some((a, b, path)) = stack.pop() {
            if budget == 0 {
                report.incomplete = true;
                break;
            }
            budget -= 1;
            let mut key = old_relevance.project(&[a], &path);
            key.extend(new_relevance.project(&[b], &path));
            key.sort_unstable();
            key.dedup();
            if !seen.insert((a, b, key)) {
                continue;
            }
            let (step_a, step_b) = (old_dag.node(a), new_dag.node(b));
            let (atom, targets) = match (step_a, step_b) {
                (Some(Step::Test(atom, t, f)), _) => (atom, [(true, t, b), (false, f, b)]),
                (_, Some(Step::Test(atom, t, f))) => (atom, [(true, a, t), (false, a, f)]),
                (Some(Step::Decide(x)), Some(Step::Decide(y))) => {
                    if let (Some(before), Some(after)) =
                        (verdict(&old_program, x), verdict(&new_program, y))
                        && before != after
                    {
                        let key = (tool.clone(), before, after);
                        *counts.entry(key.clone()).or_default() += 1;
                        let paths = regions.entry(key).or_default();
                        if paths.len() < PATHS_PER_REGION {
                            paths.push(path);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            for (value, next_a, next_b) in targets {
                let known = path.iter().find(|(id, _)| *id == atom).map(|(_, v)| *v);
                let feasible = match known {
                    Some(previous) => previous == value,
                    None => solver.extend_feasible(&path, (atom, value)),
                };
                if feasible {
                    let mut next = path.clone();
                    if known.is_none() {
                        next.push((atom, value));
                        next.sort_unstable();
                    }
                    stack.push((next_a, next_b, next));
                }
            }
        }
    }

    for ((tool, before, after), paths) in regions {
        let name = tool.clone().unwrap_or_else(|| "some.unlisted.tool".to_owned());
        let witness = paths.iter().find_map(|path| {
            solver.witnesses(path, &name).into_iter().find(|candidate| {
                candidate.decide(&old_program, decided) == before
                    && candidate.decide(&new_program, decided) == after
            })
        });
        let count =
            counts.get(&(tool.clone(), before.clone(), after.clone())).copied().unwrap_or(0);
        report.changes.push(Change { tool, old: before, new: after, witness, paths: count });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> Compiled {
        crate::compile(yaml, "p.yaml").unwrap()
    }

    const OLD: &str = "version: 1\nname: p\nrules:\n  - {id: read, effect: allow, reason: r, tool: fs.read, args: {path: {path: {in: [/workspace]}}}}\n  - {id: secrets, effect: deny, reason: r, tool: fs.read, args: {path: {path: {in: ['**/.env']}}}}\n";

    #[test]
    fn identical_policies_have_no_changes() {
        let report = diff(&compile(OLD), &compile(OLD));
        assert!(report.changes.is_empty(), "{report:?}");
        assert!(!report.incomplete);
    }

    #[test]
    fn a_widened_prefix_is_one_region_with_a_checked_witness() {
        let new = OLD.replace("[/workspace]", "[/workspace, /tmp]");
        let (old, new) = (compile(OLD), compile(&new));
        let report = diff(&old, &new);
        let effects: Vec<&Change> = report.changes.iter().filter(|c| c.effect_changed()).collect();
        assert_eq!(effects.len(), 1, "{report:?}");
        let change = effects[0];
        assert_eq!(change.tool.as_deref(), Some("fs.read"));
        assert_eq!((change.old.effect.as_str(), change.new.effect.as_str()), ("deny", "allow"));
        assert_eq!(change.new.rule.as_deref(), Some("read"));
        // The witness really changes decision: evaluate it with both artifacts here too.
        let witness = change.witness.as_ref().expect("a witness");
        let old_program = Program::from_bytes(&old.bytes).unwrap();
        let new_program = Program::from_bytes(&new.bytes).unwrap();
        assert_eq!(witness.decide(&old_program, |d| d.effect.as_str().to_owned()), "deny");
        assert_eq!(witness.decide(&new_program, |d| d.effect.as_str().to_owned()), "allow");
        let path = witness.args["path"].as_str().unwrap();
        assert!(path == "/tmp" || path.starts_with("/tmp/"), "{path}");
    }

    #[test]
    fn a_case_insensitive_deny_finds_the_spelling_that_changes() {
        let new = OLD.replace("in: ['**/.env']", "in: ['**/.env'], case: insensitive");
        let report = diff(&compile(OLD), &compile(&new));
        let change = report
            .changes
            .iter()
            .find(|c| c.old.effect == "allow" && c.new.effect == "deny")
            .expect("allow -> deny region");
        let witness = change.witness.as_ref().expect("a witness");
        let path = witness.args["path"].as_str().unwrap();
        assert!(path.starts_with("/workspace") && path.to_lowercase().ends_with("/.env"), "{path}");
        assert_ne!(path, path.to_lowercase(), "only a different spelling changes decision");
    }

    #[test]
    fn tools_only_one_policy_names_and_unlisted_tools_are_compared() {
        let new = format!(
            "{OLD}  - {{id: fetch, effect: require_approval, reason: r, tool: http.fetch}}\n"
        );
        let report = diff(&compile(OLD), &compile(&new));
        let change = report
            .changes
            .iter()
            .find(|c| c.tool.as_deref() == Some("http.fetch"))
            .expect("http.fetch changes");
        assert_eq!(
            (change.old.effect.as_str(), change.new.effect.as_str()),
            ("deny", "require_approval")
        );
        assert!(change.witness.is_some());
        // A glob rule changes tools neither policy names: the region is the unlisted tools.
        let glob = format!("{OLD}  - {{id: any-git, effect: allow, reason: r, tool: 'git.*'}}\n");
        let report = diff(&compile(OLD), &compile(&glob));
        let change =
            report.changes.iter().find(|c| c.tool.is_none()).expect("unlisted tools change");
        let witness = change.witness.as_ref().expect("a witness");
        assert!(witness.tool.starts_with("git."), "{}", witness.tool);
    }
}
