//! Jump threading: edges skip tests whose outcome the path to them has already decided.
//!
//! Rules are lowered one after another, and each states its whole condition, so a tool's chain
//! often tests the same predicate twice on one path: every rule on `tools/call` arguments tests
//! `method == "tools/call"`, and two rules on one argument both test that it exists. Hash-consing
//! makes the repeated test the *same predicate* (the same record interns to one id), so a walk
//! that reaches it again would get the same answer: evaluation is a pure function of the request,
//! and a predicate that faulted would have ended the walk the first time.
//!
//! The pass computes, for every node, the predicate outcomes known on *every* path from an entry
//! to it (a forward data-flow over the DAG, meet = intersection), and redirects each edge past
//! the tests those facts, plus the edge's own outcome, decide. Nodes no edge reaches any more are
//! dropped and the rest are hash-consed again, bottom-up, in their old relative order, so every
//! edge still points to a smaller index (the verifier's forward-edge rule) and the DAG only ever
//! gets smaller. Decisions are unchanged, and so is [`mcppol_runtime::Decision::check`]: an edge
//! that would thread all the way to the default outcome stops at the last test it skips, so the
//! last predicate evaluated before the default is the one it always was.
//!
//! Two facts about arguments come from elsewhere: a test of an argument that answered without
//! faulting found it, so that argument's `has()` tests are known true after it; and a `has()`
//! test followed by a test of the same one-segment argument that treats absence as false, with
//! the same false branch, is skipped outright (unless that branch is the default leaf).
//! Property 2b of `tests/it/differential.rs` holds the threaded artifact to the unthreaded one,
//! `check` included, on generated policies and requests.
//!
//! Facts are kept per node as at most [`FACTS_MAX`] `(predicate, outcome)` pairs, the most recent
//! on the path; forgetting facts only threads less, never wrongly, and keeps the pass linear in
//! the number of nodes.

use crate::lower::{Record, Tables};
use mcppol_runtime::format::{flag, node, op, subject};
use std::collections::{BTreeSet, HashMap};

/// The most facts kept per node.
const FACTS_MAX: usize = 32;

/// `(predicate, outcome)` pairs known on every path to a node, oldest first.
type Facts = Vec<(u32, bool)>;

fn word(record: &Record, index: usize) -> u32 {
    let start = 4 + index * 4;
    u32::from_le_bytes([record[start], record[start + 1], record[start + 2], record[start + 3]])
}

fn set_word(record: &mut Record, index: usize, value: u32) {
    let start = 4 + index * 4;
    record[start..start + 4].copy_from_slice(&value.to_le_bytes());
}

fn known(facts: &Facts, predicate: u32) -> Option<bool> {
    facts.iter().find(|&&(p, _)| p == predicate).map(|&(_, outcome)| outcome)
}

/// Merges what one more incoming edge knows into a node's facts.
fn meet(slot: &mut Option<Facts>, incoming: Facts) {
    match slot {
        None => *slot = Some(incoming),
        Some(facts) => facts.retain(|fact| incoming.contains(fact)),
    }
}

/// Rewrites `tables` in place: nodes, tool entries, the fallback entry and the source map's
/// node origins.
pub fn thread(tables: &mut Tables) {
    let nodes = &tables.nodes;
    let count = nodes.len();
    let is_default_leaf = |index: u32| {
        nodes.get(index as usize).is_some_and(|record| {
            record[0] == node::DECIDE && word(record, 0) == tables.default_outcome
        })
    };
    // The outcome `record` decides if `facts` know its predicate.
    let decided = |facts: &Facts, record: &Record| {
        (record[0] == node::TEST)
            .then(|| known(facts, word(record, 0)))
            .flatten()
            .map(|outcome| if outcome { word(record, 1) } else { word(record, 2) })
    };

    // `has(args.x)` right before a test of the same one-segment argument that treats absence
    // as false, with the same false branch, adds nothing: when `x` is absent the next test is
    // false too, and it cannot fault (a one-segment path never crosses a non-object). Such a
    // node is skipped like a decided one; never when its false branch is the default leaf,
    // whose `check` would then name the next test instead of `args.absent`.
    let predicates = &tables.predicates;
    let one_segment_arg = |predicate: &Record| {
        predicate[0] == subject::ARG
            && tables.strings.get(word(predicate, 0) as usize).is_some_and(|p| !p.contains('\0'))
    };
    let subsumed: Vec<Option<u32>> = nodes
        .iter()
        .map(|record| {
            let exists = predicates.get(word(record, 0) as usize)?;
            let next = nodes.get(word(record, 1) as usize)?;
            let tested = predicates.get(word(next, 0) as usize)?;
            let qualifies = record[0] == node::TEST
                && next[0] == node::TEST
                && exists[1] == op::EXISTS
                && one_segment_arg(exists)
                && tested[0] == subject::ARG
                && word(tested, 0) == word(exists, 0)
                && tested[2] & flag::MISSING_IS_FALSE != 0
                && word(next, 2) == word(record, 2)
                && !is_default_leaf(word(record, 2));
            qualifies.then(|| word(record, 1))
        })
        .collect();

    // The `has()` predicates of each argument path.
    let mut exists_tests: HashMap<u32, Vec<u32>> = HashMap::new();
    for (id, predicate) in predicates.iter().enumerate() {
        if predicate[0] == subject::ARG && predicate[1] == op::EXISTS {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            exists_tests.entry(word(predicate, 0)).or_default().push(id);
        }
    }

    let mut facts: Vec<Option<Facts>> = vec![None; count];
    let entries = tables.tools.iter().map(|&(_, entry)| entry).chain([tables.fallback_entry]);
    for entry in entries {
        if let Some(slot) = facts.get_mut(entry as usize) {
            meet(slot, Vec::new());
        }
    }
    let mut rewritten: Vec<Record> = nodes.clone();
    // Nodes are processed from the highest index down: every edge points down, so all of a
    // node's predecessors are done before it.
    for index in (0..count).rev() {
        let Some(here) = facts[index].take() else { continue };
        let record = nodes[index];
        if record[0] == node::TEST {
            let predicate = word(&record, 0);
            // A test that every path to it has already made (one kept to preserve the
            // default's `check`): only its known branch is ever taken; the other edge is dead
            // and is pointed at the same target.
            let dead = known(&here, predicate).map(|outcome| if outcome { 2 } else { 1 });
            for (slot, outcome) in [(1, true), (2, false)] {
                if Some(slot) == dead {
                    continue;
                }
                let mut along = here.clone();
                along.push((predicate, outcome));
                // An argument test that answered without faulting (true, or false where
                // absence is a fault) found the argument: its `has()` tests are true too.
                if let Some(tested) = predicates.get(predicate as usize)
                    && tested[0] == subject::ARG
                    && tested[1] != op::EXISTS
                    && (outcome || tested[2] & flag::MISSING_IS_FALSE == 0)
                {
                    for &exists in exists_tests.get(&word(tested, 0)).into_iter().flatten() {
                        if known(&along, exists).is_none() {
                            along.push((exists, true));
                        }
                    }
                }
                while along.len() > FACTS_MAX {
                    along.remove(0);
                }
                let mut target = word(&record, slot);
                let mut skipped = None;
                loop {
                    if let Some(next) = nodes.get(target as usize).and_then(|r| decided(&along, r))
                    {
                        skipped = Some(target);
                        target = next;
                    } else if let Some(&Some(next)) = subsumed.get(target as usize) {
                        target = next;
                    } else {
                        break;
                    }
                }
                if let Some(last) = skipped
                    && is_default_leaf(target)
                {
                    // Keep the default's `check`: the last test before it must still run.
                    target = last;
                }
                set_word(&mut rewritten[index], slot, target);
                if let Some(next_facts) = facts.get_mut(target as usize) {
                    meet(next_facts, along);
                }
            }
            if let Some(slot) = dead {
                let live = word(&rewritten[index], 3 - slot);
                set_word(&mut rewritten[index], slot, live);
            }
        }
        // Reached: keep it (facts are only needed until the node is processed).
        facts[index] = Some(here);
    }

    // Keep the reached nodes, in order, and hash-cons them again bottom-up: a node whose
    // rewritten record equals an earlier one becomes that one.
    let mut new_index: Vec<Option<u32>> = vec![None; count];
    let mut kept: Vec<Record> = Vec::new();
    let mut ids: HashMap<Record, u32> = HashMap::new();
    let mut origins: Vec<BTreeSet<crate::lower::Origin>> = Vec::new();
    let old_origins = std::mem::take(&mut tables.source_map.node_origins);
    for index in 0..count {
        if facts[index].is_none() {
            continue;
        }
        let mut record = rewritten[index];
        if record[0] == node::TEST {
            for slot in [1, 2] {
                let target = new_index[word(&record, slot) as usize].unwrap_or(u32::MAX);
                set_word(&mut record, slot, target);
            }
        }
        let id = *ids.entry(record).or_insert_with(|| {
            kept.push(record);
            origins.push(BTreeSet::new());
            u32::try_from(kept.len() - 1).unwrap_or(u32::MAX)
        });
        if let (Some(slot), Some(from)) = (origins.get_mut(id as usize), old_origins.get(index)) {
            slot.extend(from.iter().cloned());
        }
        new_index[index] = Some(id);
    }
    let remap = |entry: u32| new_index.get(entry as usize).copied().flatten().unwrap_or(u32::MAX);
    for tool in &mut tables.tools {
        tool.1 = remap(tool.1);
    }
    tables.fallback_entry = remap(tables.fallback_entry);
    tables.nodes = kept;
    tables.source_map.node_origins = origins;
}

#[cfg(test)]
mod tests {
    use mcppol_runtime::{Program, Request, Scratch, Trace};

    /// Counts the tests a walk makes.
    struct Count(usize);

    impl Trace for Count {
        fn test(&mut self, _: u32, _: u32, _: Option<bool>) {
            self.0 += 1;
        }
        fn decide(&mut self, _: u32, _: u32) {}
    }

    #[test]
    fn a_test_made_on_the_way_is_not_made_again() {
        // A forbid rule and an allow rule on one argument: both state `method == tools/call`
        // and that `args.path` exists; the allow path used to test both twice.
        let yaml = "version: 1\nname: t\ndefault: deny\nrules:\n  - id: dots\n    effect: deny\n    reason: r\n    args: { path: { type: string, pattern: '\\.\\.' } }\n  - id: ws\n    effect: allow\n    reason: r\n    tool: t\n    args: { path: { path: { in: [/workspace] } } }\n";
        let compiled = crate::compile(yaml, "t.yaml").unwrap();
        let program = Program::from_bytes(&compiled.bytes).unwrap();
        let mut scratch = Box::new(Scratch::new());
        let request = |args: &'static str| Request {
            method: "tools/call",
            server: "",
            tool: "t",
            principal_id: "",
            principal_roles: &[],
            args: args.as_bytes(),
        };
        let walk = |args: &'static str, scratch: &mut Scratch| {
            let mut count = Count(0);
            let decision = program.evaluate_traced(&request(args), scratch, &mut count);
            (decision.rule, count.0)
        };
        // method, type, contains "..", path under: four tests, not seven (`exists` before a
        // type test that treats absence as false adds nothing, and is known after it).
        assert_eq!(walk(r#"{"path":"/workspace/a"}"#, &mut scratch), (Some("ws"), 4));
        assert_eq!(walk(r#"{"path":"/workspace/.."}"#, &mut scratch), (Some("dots"), 3));
        // Without the pass the allow path makes seven. (The skipped tests stay in the DAG here:
        // the edges that fail the forbid rule early still reach them on their way to the
        // default, which keeps the default's `check`.)
        let plain = crate::emit::emit(&crate::lower::lower(&compiled.policy, &compiled.patterns));
        let unthreaded = Program::from_bytes(&plain).unwrap();
        let mut count = Count(0);
        unthreaded.evaluate_traced(
            &request(r#"{"path":"/workspace/a"}"#),
            &mut scratch,
            &mut count,
        );
        assert_eq!(count.0, 7);
        assert!(program.node_count() <= unthreaded.node_count());
    }
}
