//! Read-only views of a verified program's tables, for tools that list or draw it
//! (`mcppol inspect`, explain, lint). Nothing here is on the evaluation path.

use crate::format::{read_u8, read_u32};
use crate::{Effect, Program, Risk};

/// A decision-DAG node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeView {
    /// Test predicate `predicate`; go to `if_true` or `if_false`.
    Test {
        /// Predicate index.
        predicate: u32,
        /// Next node when the predicate holds.
        if_true: u32,
        /// Next node when it does not.
        if_false: u32,
    },
    /// Return outcome `outcome`.
    Decide {
        /// Outcome index.
        outcome: u32,
    },
}

/// A predicate record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PredicateView<'a> {
    /// Subject code (see [`crate::format::subject`]).
    pub subject: u8,
    /// Operation code (see [`crate::format::op`]).
    pub op: u8,
    /// Flag bits (see [`crate::format::flag`]).
    pub flags: u8,
    /// The argument path segments joined by NUL, for argument subjects; empty otherwise.
    pub path: &'a str,
    /// First operand.
    pub a: u32,
    /// Second operand.
    pub b: u32,
}

/// An outcome record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeView<'a> {
    /// Outcome kind (see [`crate::format::outcome`]).
    pub kind: u8,
    /// The effect.
    pub effect: Effect,
    /// The risk.
    pub risk: Risk,
    /// Rule index, if a rule outcome.
    pub rule: Option<u32>,
    /// Human reason.
    pub reason: &'a str,
    /// Reason code.
    pub code: &'a str,
}

/// A rule record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleView<'a> {
    /// The rule id.
    pub id: &'a str,
    /// 1-based line in the policy file.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl<'a> Program<'a> {
    /// Node `index`, if it exists.
    pub fn node(&self, index: u32) -> Option<NodeView> {
        let record = self.nodes.get(index);
        let a = read_u32(record, 4)?;
        match read_u8(record, 0)? {
            crate::format::node::TEST => Some(NodeView::Test {
                predicate: a,
                if_true: read_u32(record, 8)?,
                if_false: read_u32(record, 12)?,
            }),
            _ => Some(NodeView::Decide { outcome: a }),
        }
    }

    /// Predicate `index`, if it exists.
    pub fn predicate(&self, index: u32) -> Option<PredicateView<'a>> {
        if index >= self.predicates.count {
            return None;
        }
        let record = self.predicates.get(index);
        let subject = read_u8(record, 0)?;
        let path = if subject == crate::format::subject::ARG {
            self.string(read_u32(record, 4)?)?
        } else {
            ""
        };
        Some(PredicateView {
            subject,
            op: read_u8(record, 1)?,
            flags: read_u8(record, 2)?,
            path,
            a: read_u32(record, 8)?,
            b: read_u32(record, 12)?,
        })
    }

    /// Outcome `index`, if it exists.
    pub fn outcome_view(&self, index: u32) -> Option<OutcomeView<'a>> {
        if index >= self.outcomes.count {
            return None;
        }
        let record = self.outcomes.get(index);
        let rule = read_u32(record, 4)?;
        Some(OutcomeView {
            kind: read_u8(record, 0)?,
            effect: Effect::from_u8(read_u8(record, 1)?)?,
            risk: Risk::from_u8(read_u8(record, 2)?)?,
            rule: (rule != crate::format::NO_RULE).then_some(rule),
            reason: self.string(read_u32(record, 8)?)?,
            code: self.string(read_u32(record, 12)?)?,
        })
    }

    /// Rule `index`, if it exists.
    pub fn rule(&self, index: u32) -> Option<RuleView<'a>> {
        if index >= self.rules.count {
            return None;
        }
        let record = self.rules.get(index);
        Some(RuleView {
            id: self.string(read_u32(record, 0)?)?,
            line: read_u32(record, 4)?,
            column: read_u32(record, 8)?,
        })
    }

    /// String `id`, if it exists.
    pub fn string_at(&self, id: u32) -> Option<&'a str> {
        self.string(id)
    }

    /// The strings of set `id`, in their (sorted) order.
    pub fn set_members(&self, id: u32) -> impl Iterator<Item = &'a str> + '_ {
        self.set(id).chunks_exact(4).filter_map(move |chunk| self.string(read_u32(chunk, 0)?))
    }

    /// `(states, classes, bytes)` of DFA `id`, if it exists.
    pub fn dfa_shape(&self, id: u32) -> Option<(usize, usize, usize)> {
        let dfa = self.dfa(id)?;
        Some((dfa.state_count(), dfa.class_count(), dfa.len()))
    }

    /// Tool dispatch entries `(name, entry node)`, sorted by name.
    pub fn tools(&self) -> impl Iterator<Item = (&'a str, u32)> + '_ {
        (0..self.tools.count).filter_map(move |index| {
            let record = self.tools.get(index);
            Some((self.string(read_u32(record, 0)?)?, read_u32(record, 4)?))
        })
    }

    /// The hashed tool index as `(seed, bucket_count, max_probe)` (format 1.3 on); `None` for
    /// older artifacts, whose tool table is binary-searched.
    pub fn tool_index(&self) -> Option<(u32, u32, u32)> {
        self.tool_index.map(|index| (index.seed, index.bucket_count, index.max_probe))
    }

    /// The artifact's `(format_major, format_minor)`, as its header states them.
    pub fn format_version(&self) -> (u16, u16) {
        let field = |at| crate::format::read_u16(self.bytes, at).unwrap_or(0);
        (field(8), field(10))
    }

    /// The entry node for tools not in the dispatch table.
    pub fn fallback_entry(&self) -> u32 {
        self.fallback_entry
    }

    /// The default outcome's index.
    pub fn default_outcome(&self) -> u32 {
        self.default_outcome
    }

    /// Counts of `(strings, sets, dfas, outcomes, predicates)`.
    pub fn table_counts(&self) -> (u32, u32, u32, u32, u32) {
        (
            self.strings.count,
            self.sets.count,
            self.dfas.count,
            self.outcomes.count,
            self.predicates.count,
        )
    }
}
