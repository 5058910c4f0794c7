//! One crafted artifact per numbered verifier check (V01 to V116 in the module docs of
//! `runtime/src/program.rs`), each rejected with that check's exact error kind and offset, and a
//! test that every number in those docs has a case here.
//!
//! Every case starts from a real compiled artifact (or, for the section layout, its bytes),
//! changes one thing, and rebuilds the section table, `total_len` and checksum, so that the
//! targeted check fires and not an earlier one. Where a check has a valid counterpart (a
//! predicate, outcome, node or tool record), that counterpart is appended too and must load:
//! otherwise a case could pass because of some other fault in the crafted bytes.

use crate::craft::{
    self, DFAS, FIRST_SECTION, META, NODES, OUTCOMES, PREDICATES, Parts, RULES, SETS, STRINGS,
    TOOLS, record, reseal, set_word,
};
use crate::support::compile;
use crate::verifier::POLICY;
use mcppol_runtime::dfa::{DFA_BYTES_MAX, DfaError};
use mcppol_runtime::format::{self, flag, op, outcome, subject};
use mcppol_runtime::{FormatErrorKind as K, Program, limits};
use std::collections::BTreeSet;
use std::rc::Rc;

type Make = Box<dyn Fn() -> Vec<u8>>;

/// A valid record and invalid variants of it.
type Row = (Vec<u8>, Vec<Vec<u8>>);

struct Case {
    id: u32,
    kind: K,
    offset: u32,
    make: Make,
}

/// Ids in the base artifact that the cases use.
#[derive(Clone, Copy)]
struct Ids {
    /// A string used as an argument path.
    path: u32,
    /// A string holding a decimal.
    decimal: u32,
    /// A string that is not a decimal.
    word: u32,
    /// Strings `m1` and `m2` (in byte order), for set ordering.
    m1: u32,
    m2: u32,
    set: u32,
    dfa: u32,
    strings: u32,
    sets: u32,
    dfas: u32,
    rules: u32,
    outcomes: u32,
    predicates: u32,
    nodes: u32,
    /// A predicate of the base artifact that does not read an ELEMENT.
    plain_predicate: u32,
    /// An outcome of kind RULE.
    rule_outcome: u32,
}

fn base() -> (Rc<Parts>, Ids) {
    let mut parts = Parts::split(&compile(POLICY).bytes);
    let path = parts.add_string(b"p");
    let decimal = parts.add_string(b"1.5");
    let word = parts.add_string(b"abc");
    let m1 = parts.add_string(b"m1");
    let m2 = parts.add_string(b"m2");
    let set = parts.add_set(&[m1, m2]);
    let dfa = parts.add_dfa(&craft::minimal_dfa());
    let find = |section: usize, len: usize, pick: &dyn Fn(&[u8]) -> bool| {
        parts.sections[section].chunks(len).position(pick).unwrap() as u32
    };
    let plain_predicate = find(PREDICATES, 16, &|r| r[0] != subject::ELEMENT);
    let rule_outcome = find(OUTCOMES, 16, &|r| r[0] == outcome::RULE);
    let ids = Ids {
        path,
        decimal,
        word,
        m1,
        m2,
        set,
        dfa,
        strings: parts.count(STRINGS),
        sets: parts.count(SETS),
        dfas: parts.count(DFAS),
        rules: parts.count(RULES),
        outcomes: parts.count(OUTCOMES),
        predicates: parts.count(PREDICATES),
        nodes: parts.count(NODES),
        plain_predicate,
        rule_outcome,
    };
    assert!(ids.rules >= 2 && parts.count(TOOLS) >= 2 && ids.nodes >= 2);
    (Rc::new(parts), ids)
}

/// Collects cases and the valid counterparts that must load.
struct Table {
    base: Rc<Parts>,
    cases: Vec<Case>,
    controls: Vec<(u32, Make)>,
}

impl Table {
    /// A case made by editing the parts.
    fn parts(&mut self, id: u32, kind: K, offset: u32, edit: impl Fn(&mut Parts) + 'static) {
        let base = Rc::clone(&self.base);
        let make = Box::new(move || {
            let mut parts = (*base).clone();
            edit(&mut parts);
            parts.build()
        });
        self.cases.push(Case { id, kind, offset, make });
    }

    /// A case made by editing the built bytes; resealed afterwards when `seal`.
    fn bytes(
        &mut self,
        id: u32,
        kind: K,
        offset: u32,
        seal: bool,
        edit: impl Fn(&mut Vec<u8>) + 'static,
    ) {
        let base = Rc::clone(&self.base);
        let make = Box::new(move || {
            let mut bytes = base.build();
            edit(&mut bytes);
            if seal {
                reseal(&mut bytes);
            }
            bytes
        });
        self.cases.push(Case { id, kind, offset, make });
    }

    fn control(&mut self, id: u32, edit: impl Fn(&mut Parts) + 'static) {
        let base = Rc::clone(&self.base);
        self.controls.push((
            id,
            Box::new(move || {
                let mut parts = (*base).clone();
                edit(&mut parts);
                parts.build()
            }),
        ));
    }

    /// A record appended to record section `section` (`len` bytes each): `valid` must load,
    /// each of `invalid` must fail with `kind` at the appended record's index. `prefix` records
    /// are appended first (an ELEMENT predicate for the quantifiers).
    #[allow(clippy::too_many_arguments, reason = "a table row, spelled out at each use")]
    fn appended(
        &mut self,
        id: u32,
        section: usize,
        kind: K,
        index: u32,
        prefix: Vec<Vec<u8>>,
        valid: Vec<u8>,
        invalid: Vec<Vec<u8>>,
    ) {
        let with = move |record: Vec<u8>, prefix: Vec<Vec<u8>>| {
            move |parts: &mut Parts| {
                for extra in &prefix {
                    parts.push_record(section, extra);
                }
                parts.push_record(section, &record);
            }
        };
        self.control(id, with(valid, prefix.clone()));
        for record in invalid {
            self.parts(id, kind, index, with(record, prefix.clone()));
        }
    }
}

fn predicate(subject: u8, op: u8, flags: u8, path: u32, a: u32, b: u32) -> Vec<u8> {
    record([subject, op, flags], [path, a, b])
}

fn cmp(operator: u8) -> u8 {
    operator << flag::CMP_SHIFT
}

fn cases() -> (Vec<Case>, Vec<(u32, Make)>) {
    let (base, ids) = base();
    let mut t = Table { base: Rc::clone(&base), cases: Vec::new(), controls: Vec::new() };
    let section_entry = |index: usize| format::HEADER_LEN + index * format::SECTION_ENTRY_LEN;
    let meta = FIRST_SECTION as u32;

    // Header.
    t.bytes(1, K::LimitExceeded, 0, false, |bytes| bytes.resize(limits::ARTIFACT_BYTES_MAX + 1, 0));
    t.bytes(2, K::Truncated, 0, false, |bytes| bytes.truncate(format::HEADER_LEN - 1));
    t.bytes(3, K::BadMagic, 0, true, |bytes| bytes[7] = 0);
    let major = format::FORMAT_MAJOR + 1;
    let minor = format::FORMAT_MINOR + 1;
    let unsupported = |major, minor| K::UnsupportedVersion { major, minor };
    t.bytes(4, unsupported(major, format::FORMAT_MINOR), 8, true, move |bytes| {
        bytes[8..10].copy_from_slice(&major.to_le_bytes());
    });
    t.bytes(4, unsupported(0, format::FORMAT_MINOR), 8, true, |bytes| bytes[8..10].fill(0));
    t.bytes(5, unsupported(format::FORMAT_MAJOR, minor), 8, true, move |bytes| {
        bytes[10..12].copy_from_slice(&minor.to_le_bytes());
    });
    t.bytes(6, K::BadLayout, 12, true, |bytes| set_word(bytes, 12, 65));
    t.bytes(7, K::LengthMismatch, 16, true, |bytes| bytes.push(0));
    t.bytes(7, K::LengthMismatch, 16, true, |bytes| {
        let total = craft::word(bytes, 16);
        set_word(bytes, 16, total - 1);
    });
    t.bytes(8, K::BadLayout, 20, true, |bytes| set_word(bytes, 20, 8));
    t.bytes(9, K::BadLayout, 28, true, |bytes| bytes[31] = 0x80);
    t.bytes(10, K::BadChecksum, 24, false, |bytes| *bytes.last_mut().unwrap() ^= 1);
    t.bytes(10, K::BadChecksum, 24, false, |bytes| bytes[24] ^= 1);

    // Section table and section shapes.
    t.bytes(11, K::Truncated, 64, true, |bytes| {
        bytes.truncate(FIRST_SECTION - 1);
        set_word(bytes, 16, (FIRST_SECTION - 1) as u32);
    });
    t.bytes(12, K::BadLayout, section_entry(3) as u32, true, move |bytes| {
        set_word(bytes, section_entry(3), 5);
    });
    t.bytes(13, K::BadLayout, section_entry(0) as u32, true, move |bytes| {
        set_word(bytes, section_entry(0) + 4, FIRST_SECTION as u32 + 4);
    });
    t.bytes(13, K::BadLayout, section_entry(2) as u32, true, move |bytes| {
        let offset = craft::word(bytes, section_entry(2) + 4);
        set_word(bytes, section_entry(2) + 4, offset - 1);
    });
    t.bytes(14, K::Truncated, section_entry(8) as u32, true, move |bytes| {
        let len = craft::word(bytes, section_entry(8) + 8);
        set_word(bytes, section_entry(8) + 8, len + 1);
    });
    t.bytes(14, K::Truncated, section_entry(8) as u32, true, move |bytes| {
        set_word(bytes, section_entry(8) + 8, u32::MAX);
    });
    t.bytes(15, K::BadLayout, 64, true, move |bytes| {
        let len = craft::word(bytes, section_entry(8) + 8);
        set_word(bytes, section_entry(8) + 8, len - 1);
    });
    t.parts(16, K::BadLayout, meta, |parts| parts.sections[META].push(0));
    t.parts(16, K::BadLayout, meta, |parts| parts.sections[META].truncate(12));
    for section in [STRINGS, SETS, DFAS] {
        let at = base.offset_of(section);
        t.parts(17, K::Truncated, at, move |parts| parts.sections[section].truncate(3));
        t.parts(18, K::Truncated, at, move |parts| {
            let body = &mut parts.sections[section];
            let count = craft::word(body, 0);
            let fits = (body.len() as u32 - 4) / 8;
            set_word(body, 0, count.max(fits) + 1);
        });
    }
    for (section, len) in [
        (RULES, format::RULE_LEN),
        (OUTCOMES, format::OUTCOME_LEN),
        (PREDICATES, format::PREDICATE_LEN),
        (NODES, format::NODE_LEN),
        (TOOLS, format::TOOL_LEN),
    ] {
        // TOOLS is records only before format 1.3 (V109 and V110 check its 1.3 shape).
        let at = base.offset_of(section);
        let old = move |parts: &mut Parts| {
            if section == TOOLS {
                parts.downgrade_to_1_2();
            }
        };
        t.parts(19, K::BadLayout, at, move |parts| {
            old(parts);
            parts.sections[section].push(0);
        });
        t.parts(19, K::BadLayout, at, move |parts| {
            old(parts);
            parts.sections[section].truncate(len - 1);
        });
    }
    // The count checks run on the section sizes before any record is read, so records of
    // zeros are enough; the limits tests build valid artifacts at each limit.
    for (id, section, len, max) in [
        (20, RULES, format::RULE_LEN, limits::RULE_COUNT_MAX),
        (21, OUTCOMES, format::OUTCOME_LEN, limits::OUTCOME_COUNT_MAX),
        (22, TOOLS, format::TOOL_LEN, limits::TOOL_COUNT_MAX),
    ] {
        let at = base.offset_of(section);
        t.parts(id, K::LimitExceeded, at, move |parts| {
            if section == TOOLS {
                parts.downgrade_to_1_2();
            }
            parts.sections[section] = vec![0; (max + 1) * len];
        });
    }
    // From format 1.3 the count is in the TOOLS header; it is checked before the length.
    t.parts(22, K::LimitExceeded, base.offset_of(TOOLS), |parts| {
        let tools = vec![(0, 0); limits::TOOL_COUNT_MAX + 1];
        parts.set_tool_section(tools.len() as u32, (0, 0, 0), &tools, &[]);
    });
    for (id, section, max) in [
        (23, STRINGS, limits::STRING_COUNT_MAX),
        (24, SETS, limits::SET_COUNT_MAX),
        (25, DFAS, limits::DFA_COUNT_MAX),
    ] {
        t.parts(id, K::LimitExceeded, 0, move |parts| {
            let mut table = parts.table(section);
            table.entries.resize(max + 1, (0, 0));
            parts.set_table(section, &table);
        });
    }

    // STRINGS.
    let next = ids.strings;
    t.control(26, |parts| {
        parts.add_string(b"fine");
    });
    t.parts(26, K::BadString, next, |parts| {
        let mut table = parts.table(STRINGS);
        table.entries.push((table.payload.len() as u32 - 2, 3));
        parts.set_table(STRINGS, &table);
    });
    t.parts(26, K::BadString, next, |parts| {
        let mut table = parts.table(STRINGS);
        table.entries.push((u32::MAX, 1));
        parts.set_table(STRINGS, &table);
    });
    t.control(27, |parts| {
        parts.add_string(&vec![b'a'; limits::STRING_BYTES_MAX]);
    });
    t.parts(27, K::BadString, next, |parts| {
        parts.add_string(&vec![b'a'; limits::STRING_BYTES_MAX + 1]);
    });
    t.parts(28, K::BadString, next, |parts| {
        parts.add_string(&[b'a', 0xFF]);
    });
    t.parts(28, K::BadString, next, |parts| {
        parts.add_string("é".as_bytes().split_at(1).0);
    });

    // SETS.
    let next = ids.sets;
    t.parts(29, K::BadSet, 0, |parts| {
        let mut table = parts.table(SETS);
        table.payload.push(0);
        parts.set_table(SETS, &table);
    });
    t.parts(30, K::BadSet, next, |parts| {
        let mut table = parts.table(SETS);
        let members = table.payload.len() as u32 / 4;
        table.entries.push((members - 1, 2));
        parts.set_table(SETS, &table);
    });
    t.parts(31, K::BadSet, next, move |parts| {
        parts.add_set(&[ids.m1, ids.strings]);
    });
    t.control(32, move |parts| {
        parts.add_set(&[ids.m1, ids.m2]);
    });
    t.parts(32, K::BadSet, next, move |parts| {
        parts.add_set(&[ids.m2, ids.m1]);
    });
    t.parts(32, K::BadSet, next, move |parts| {
        parts.add_set(&[ids.m1, ids.m1]);
    });

    // DFAS: a blob appended after the base's; the error's offset is its payload offset.
    let next = ids.dfas;
    let blob_at = base.table(DFAS).payload.len() as u32;
    t.parts(33, K::BadLayout, next, |parts| {
        let mut table = parts.table(DFAS);
        table.entries.push((table.payload.len() as u32, 300));
        parts.set_table(DFAS, &table);
    });
    let dfa = |error| K::BadDfa(error);
    let blob_case = |t: &mut Table, id, error, edit: fn(&mut Vec<u8>)| {
        t.parts(id, dfa(error), blob_at, move |parts| {
            let mut blob = craft::minimal_dfa();
            edit(&mut blob);
            parts.add_dfa(&blob);
        });
    };
    t.control(34, |parts| {
        parts.add_dfa(&craft::minimal_dfa());
    });
    blob_case(&mut t, 34, DfaError::Truncated, |blob| blob.truncate(267));
    blob_case(&mut t, 35, DfaError::TooLarge, |blob| blob.resize(DFA_BYTES_MAX + 1, 0));
    blob_case(&mut t, 36, DfaError::BadStateCount, |blob| set_word(blob, 0, 1));
    blob_case(&mut t, 37, DfaError::TooManyStates, |blob| set_word(blob, 0, 65_536));
    blob_case(&mut t, 38, DfaError::BadClassCount, |blob| set_word(blob, 4, 0));
    blob_case(&mut t, 38, DfaError::BadClassCount, |blob| set_word(blob, 4, 257));
    blob_case(&mut t, 39, DfaError::BadStart, |blob| set_word(blob, 8, 2));
    blob_case(&mut t, 40, DfaError::LengthMismatch, |blob| blob.push(0));
    blob_case(&mut t, 40, DfaError::LengthMismatch, |blob| {
        blob.pop();
    });
    blob_case(&mut t, 41, DfaError::BadClass { byte: 5 }, |blob| blob[12 + 5] = 1);
    // Row 0 (bytes 268..270) is the dead state's; row 1 (270..272) the start state's; then the
    // flags of states 0 and 1.
    blob_case(&mut t, 42, DfaError::DeadStateNotDead, |blob| blob[268] = 1);
    blob_case(&mut t, 42, DfaError::DeadStateNotDead, |blob| blob[272] = 1);
    blob_case(&mut t, 43, DfaError::BadTransition { state: 1 }, |blob| blob[270] = 2);
    blob_case(&mut t, 44, DfaError::BadFlags { state: 1 }, |blob| blob[273] = 4);

    // RULES.
    t.parts(45, K::BadRule, 1, |parts| {
        set_word(parts.record_mut(RULES, 1, format::RULE_LEN), 0, u32::MAX);
    });
    t.parts(46, K::BadRule, 1, |parts| {
        let first = craft::word(parts.record_mut(RULES, 0, format::RULE_LEN), 0);
        let second = craft::word(parts.record_mut(RULES, 1, format::RULE_LEN), 0);
        set_word(parts.record_mut(RULES, 0, format::RULE_LEN), 0, second);
        set_word(parts.record_mut(RULES, 1, format::RULE_LEN), 0, first);
    });
    t.parts(46, K::BadRule, 1, |parts| {
        let first = craft::word(parts.record_mut(RULES, 0, format::RULE_LEN), 0);
        set_word(parts.record_mut(RULES, 1, format::RULE_LEN), 0, first);
    });

    // OUTCOMES, appended.
    let good = craft::outcome(outcome::RULE, 2, 3, ids.rules - 1, 0, 0);
    let out = |kind, effect, risk, rule, reason, code| {
        craft::outcome(kind, effect, risk, rule, reason, code)
    };
    let r = ids.rules - 1;
    let mut padded = good.clone();
    padded[3] = 1;
    let rows: [(u32, Vec<Vec<u8>>); 8] = [
        (47, vec![out(outcome::RULE, 3, 0, r, 0, 0), out(outcome::RULE, 0xFF, 0, r, 0, 0)]),
        (48, vec![out(outcome::RULE, 0, 4, r, 0, 0)]),
        (49, vec![padded]),
        (50, vec![out(0, 0, 0, r, 0, 0), out(4, 0, 0, format::NO_RULE, 0, 0)]),
        (
            51,
            vec![
                out(outcome::RULE, 0, 0, ids.rules, 0, 0),
                out(outcome::RULE, 0, 0, u32::MAX, 0, 0),
            ],
        ),
        (52, vec![out(outcome::DEFAULT, 2, 0, 0, 0, 0), out(outcome::SCHEMA, 2, 0, 0, 0, 0)]),
        (53, vec![out(outcome::RULE, 0, 0, r, ids.strings, 0)]),
        (54, vec![out(outcome::RULE, 0, 0, r, 0, ids.strings)]),
    ];
    for (id, invalid) in rows {
        t.appended(id, OUTCOMES, K::BadOutcome, ids.outcomes, vec![], good.clone(), invalid);
    }
    t.control(52, |parts| {
        parts.push_record(OUTCOMES, &craft::outcome(outcome::SCHEMA, 2, 2, format::NO_RULE, 0, 0));
    });

    // PREDICATES: an ELEMENT predicate first (index `element`), then the case's record.
    let element = ids.predicates;
    let index = element + 1;
    let element_record = predicate(subject::ELEMENT, op::STR_EQ, 0, 0, ids.word, 0);
    let (arg, tool, roles, args) =
        (subject::ARG, subject::TOOL, subject::PRINCIPAL_ROLES, subject::ARGS);
    let (p, s, set, dfa_id) = (ids.path, ids.word, ids.set, ids.dfa);
    let str_eq = predicate(tool, op::STR_EQ, 0, 0, s, 0);
    let general: [(u32, Vec<u8>, Vec<Vec<u8>>); 6] = [
        (
            55,
            str_eq.clone(),
            vec![
                predicate(tool, op::STR_EQ, 0x20, 0, s, 0),
                predicate(tool, op::STR_EQ, 0x80, 0, s, 0),
            ],
        ),
        (
            56,
            str_eq.clone(),
            vec![{
                let mut r = str_eq.clone();
                r[3] = 1;
                r
            }],
        ),
        (
            57,
            predicate(arg, op::EXISTS, 0, p, 0, 0),
            vec![
                predicate(arg, op::EXISTS, 0, ids.strings, 0, 0),
                predicate(tool, op::STR_EQ, 0, p, s, 0),
                predicate(subject::ELEMENT, op::STR_EQ, 0, p, s, 0),
            ],
        ),
        (
            58,
            str_eq.clone(),
            vec![
                predicate(tool, 0, 0, 0, s, 0),
                predicate(tool, 31, 0, 0, s, 0),
                predicate(tool, 0xFF, 0, 0, s, 0),
                predicate(0, op::STR_EQ, 0, 0, s, 0),
                predicate(9, op::STR_EQ, 0, 0, s, 0),
            ],
        ),
        (
            59,
            predicate(arg, op::SQL_ALLOW, flag::SQL_DANGEROUS, p, 1, 1),
            vec![
                predicate(arg, op::URL_SCHEME, flag::SQL_DANGEROUS, p, set, 0),
                predicate(tool, op::STR_EQ, flag::SQL_DANGEROUS, 0, s, 0),
            ],
        ),
        (
            60,
            predicate(arg, op::INT_CMP, cmp(format::cmp::GE) | flag::MISSING_IS_FALSE, p, 5, 0),
            vec![
                predicate(tool, op::STR_EQ, cmp(format::cmp::NE), 0, s, 0),
                predicate(arg, op::BOOL_EQ, cmp(format::cmp::LT), p, 1, 0),
            ],
        ),
    ];
    for (id, valid, invalid) in general {
        t.appended(
            id,
            PREDICATES,
            K::BadPredicate,
            index,
            vec![element_record.clone()],
            valid,
            invalid,
        );
    }
    // One row per op: a valid record, then records that break its subject or operand rule.
    let set_op = |code: u8| {
        (
            predicate(arg, code, 0, p, set, 0),
            vec![
                predicate(arg, code, 0, p, ids.sets, 0),
                predicate(arg, code, 0, p, set, 1),
                predicate(tool, code, 0, 0, set, 0),
            ],
        )
    };
    let text_op = |code: u8, operand: u32, out_of_range: u32| {
        (
            predicate(tool, code, 0, 0, operand, 0),
            vec![
                predicate(roles, code, 0, 0, operand, 0),
                predicate(args, code, 0, 0, operand, 0),
                predicate(tool, code, 0, 0, out_of_range, 0),
                predicate(tool, code, 0, 0, operand, 1),
            ],
        )
    };
    let no_operand_op = |code: u8| {
        (
            predicate(arg, code, 0, p, 0, 0),
            vec![
                predicate(arg, code, 0, p, 1, 0),
                predicate(arg, code, 0, p, 0, 1),
                predicate(tool, code, 0, 0, 0, 0),
            ],
        )
    };
    let compare_op = |code: u8, a: u32| {
        (
            predicate(arg, code, cmp(format::cmp::GE), p, a, 0),
            vec![
                predicate(arg, code, cmp(6), p, a, 0),
                predicate(arg, code, cmp(7), p, a, 0),
                predicate(arg, code, cmp(format::cmp::GE), p, a, 1),
                predicate(tool, code, cmp(format::cmp::GE), 0, a, 0),
            ],
        )
    };
    let quantifier = |code: u8| {
        (
            predicate(arg, code, 0, p, element, 0),
            vec![
                predicate(arg, code, 0, p, ids.plain_predicate, 0),
                predicate(arg, code, 0, p, index, 0),
                predicate(arg, code, 0, p, index + 1, 0),
                predicate(subject::ELEMENT, code, 0, 0, element, 0),
                predicate(arg, code, 0, p, element, 1),
            ],
        )
    };
    let per_op: Vec<(u8, Row)> = vec![
        (op::STR_EQ, text_op(op::STR_EQ, s, ids.strings)),
        (op::STR_IN, text_op(op::STR_IN, set, ids.sets)),
        (op::STR_PREFIX, text_op(op::STR_PREFIX, s, ids.strings)),
        (op::STR_SUFFIX, text_op(op::STR_SUFFIX, s, ids.strings)),
        (op::STR_CONTAINS, text_op(op::STR_CONTAINS, s, ids.strings)),
        (op::STR_MATCHES, text_op(op::STR_MATCHES, dfa_id, ids.dfas)),
        (op::LEN_CMP, compare_op(op::LEN_CMP, 3)),
        (
            op::PATH_PREFIX,
            (
                predicate(arg, op::PATH_PREFIX, 0, p, set, 7),
                vec![
                    predicate(arg, op::PATH_PREFIX, 0, p, set, 8),
                    predicate(arg, op::PATH_PREFIX, 0, p, ids.sets, 0),
                    predicate(tool, op::PATH_PREFIX, 0, 0, set, 0),
                ],
            ),
        ),
        (
            op::PATH_GLOB,
            (
                predicate(arg, op::PATH_GLOB, 0, p, dfa_id, 5),
                vec![
                    predicate(arg, op::PATH_GLOB, 0, p, dfa_id, 8),
                    predicate(arg, op::PATH_GLOB, 0, p, ids.dfas, 0),
                    predicate(tool, op::PATH_GLOB, 0, 0, dfa_id, 0),
                ],
            ),
        ),
        (op::URL_SCHEME, set_op(op::URL_SCHEME)),
        (op::URL_HOST, set_op(op::URL_HOST)),
        (
            op::SQL_ALLOW,
            (
                predicate(arg, op::SQL_ALLOW, 0, p, 1, 1),
                vec![
                    predicate(arg, op::SQL_ALLOW, 0, p, 1, 0),
                    predicate(arg, op::SQL_ALLOW, 0, p, u32::MAX, 1),
                    predicate(tool, op::SQL_ALLOW, 0, 0, 1, 1),
                ],
            ),
        ),
        (
            op::INT_CMP,
            (
                predicate(arg, op::INT_CMP, cmp(format::cmp::LT), p, u32::MAX, u32::MAX),
                vec![
                    predicate(arg, op::INT_CMP, cmp(6), p, 5, 0),
                    predicate(arg, op::INT_CMP, cmp(7), p, 5, 0),
                    predicate(tool, op::INT_CMP, cmp(format::cmp::LT), 0, 5, 0),
                ],
            ),
        ),
        (
            op::BOOL_EQ,
            (
                predicate(arg, op::BOOL_EQ, 0, p, 1, 0),
                vec![
                    predicate(arg, op::BOOL_EQ, 0, p, 2, 0),
                    predicate(arg, op::BOOL_EQ, 0, p, 1, 1),
                    predicate(tool, op::BOOL_EQ, 0, 0, 1, 0),
                ],
            ),
        ),
        (
            op::EXISTS,
            (
                predicate(arg, op::EXISTS, 0, p, 0, 0),
                vec![
                    predicate(arg, op::EXISTS, 0, p, 1, 0),
                    predicate(arg, op::EXISTS, 0, p, 0, 1),
                    predicate(subject::ELEMENT, op::EXISTS, 0, 0, 0, 0),
                    predicate(args, op::EXISTS, 0, 0, 0, 0),
                ],
            ),
        ),
        (
            op::TYPE_IS,
            (
                predicate(arg, op::TYPE_IS, 0, p, format::json_type::ALL, 0),
                vec![
                    predicate(arg, op::TYPE_IS, 0, p, 0, 0),
                    predicate(arg, op::TYPE_IS, 0, p, 128, 0),
                    predicate(arg, op::TYPE_IS, 0, p, format::json_type::STRING, 1),
                    predicate(tool, op::TYPE_IS, 0, 0, format::json_type::STRING, 0),
                ],
            ),
        ),
        (
            op::ONLY_KEYS,
            (
                predicate(args, op::ONLY_KEYS, 0, 0, set, 0),
                vec![
                    predicate(args, op::ONLY_KEYS, 0, 0, ids.sets, 0),
                    predicate(args, op::ONLY_KEYS, 0, 0, set, 1),
                    predicate(tool, op::ONLY_KEYS, 0, 0, set, 0),
                    predicate(subject::ELEMENT, op::ONLY_KEYS, 0, 0, set, 0),
                ],
            ),
        ),
        (
            op::ROLE_HAS,
            (
                predicate(roles, op::ROLE_HAS, 0, 0, s, 0),
                vec![
                    predicate(roles, op::ROLE_HAS, 0, 0, ids.strings, 0),
                    predicate(roles, op::ROLE_HAS, 0, 0, s, 1),
                    predicate(subject::PRINCIPAL_ID, op::ROLE_HAS, 0, 0, s, 0),
                ],
            ),
        ),
        (
            op::ROLE_ANY,
            (
                predicate(roles, op::ROLE_ANY, 0, 0, set, 0),
                vec![
                    predicate(roles, op::ROLE_ANY, 0, 0, ids.sets, 0),
                    predicate(roles, op::ROLE_ANY, 0, 0, set, 1),
                    predicate(arg, op::ROLE_ANY, 0, p, set, 0),
                ],
            ),
        ),
        (op::URL_NAMED_HOST, no_operand_op(op::URL_NAMED_HOST)),
        (op::BYTES_CMP, compare_op(op::BYTES_CMP, 10)),
        (
            op::NUM_CMP,
            (
                predicate(arg, op::NUM_CMP, cmp(format::cmp::LE), p, ids.decimal, 0),
                vec![
                    predicate(arg, op::NUM_CMP, cmp(format::cmp::LE), p, ids.word, 0),
                    predicate(arg, op::NUM_CMP, cmp(format::cmp::LE), p, ids.strings, 0),
                    predicate(arg, op::NUM_CMP, cmp(6), p, ids.decimal, 0),
                    predicate(arg, op::NUM_CMP, cmp(format::cmp::LE), p, ids.decimal, 1),
                    predicate(tool, op::NUM_CMP, cmp(format::cmp::LE), 0, ids.decimal, 0),
                ],
            ),
        ),
        (op::URL_PORT, set_op(op::URL_PORT)),
        (op::URL_PATH_PREFIX, set_op(op::URL_PATH_PREFIX)),
        (op::URL_SSRF, no_operand_op(op::URL_SSRF)),
        (op::SQL_FUNCTIONS_DENY, set_op(op::SQL_FUNCTIONS_DENY)),
        (op::SQL_TABLES_IN, set_op(op::SQL_TABLES_IN)),
        (op::SQL_TABLES_NOT_IN, set_op(op::SQL_TABLES_NOT_IN)),
        (op::ARRAY_ALL, quantifier(op::ARRAY_ALL)),
        (op::ARRAY_ANY, quantifier(op::ARRAY_ANY)),
    ];
    assert_eq!(per_op.len(), 30);
    for (code, (valid, invalid)) in per_op {
        let id = 60 + u32::from(code);
        t.appended(
            id,
            PREDICATES,
            K::BadPredicate,
            index,
            vec![element_record.clone()],
            valid,
            invalid,
        );
    }
    // Element-subject records are valid predicates too (only TEST nodes may not name them).
    t.control(61, move |parts| {
        parts.push_record(PREDICATES, &predicate(subject::ELEMENT, op::STR_EQ, 0, 0, s, 0));
    });

    // NODES, appended at index `n` (> 0, so targets 0 are smaller).
    let n = ids.nodes;
    let test = |a, b, c| record([format::node::TEST, 0, 0], [a, b, c]);
    let decide = |a, b, c| record([format::node::DECIDE, 0, 0], [a, b, c]);
    let good_test = test(ids.plain_predicate, n - 1, 0);
    let mut padded = good_test.clone();
    padded[2] = 1;
    let mut padded_decide = decide(0, 0, 0);
    padded_decide[3] = 1;
    let node_rows: [(u32, Vec<u8>, Vec<Vec<u8>>); 8] = [
        (91, good_test.clone(), vec![padded, padded_decide]),
        (92, decide(0, 0, 0), vec![record([0, 0, 0], [0, 0, 0]), record([3, 0, 0], [0, 0, 0])]),
        (93, good_test.clone(), vec![test(ids.predicates, 0, 0), test(u32::MAX, 0, 0)]),
        (94, good_test.clone(), vec![]),
        (
            95,
            good_test.clone(),
            vec![test(ids.plain_predicate, n, 0), test(ids.plain_predicate, n + 1, 0)],
        ),
        (
            96,
            good_test.clone(),
            vec![test(ids.plain_predicate, 0, n), test(ids.plain_predicate, 0, u32::MAX)],
        ),
        (97, decide(ids.outcomes - 1, 0, 0), vec![decide(ids.outcomes, 0, 0)]),
        (98, decide(0, 0, 0), vec![decide(0, 1, 0), decide(0, 0, 1)]),
    ];
    for (id, valid, invalid) in node_rows {
        t.appended(id, NODES, K::BadNode, n, vec![], valid, invalid);
    }
    // V94 needs an ELEMENT predicate to name.
    t.parts(94, K::BadNode, n, move |parts| {
        let element = parts.push_record(PREDICATES, &element_record);
        parts.push_record(NODES, &test(element, 0, 0));
    });

    // TOOLS, appended: names must sort after every base tool name.
    let tools = base.count(TOOLS);
    let last_name = base.tools().last().unwrap().0;
    let tool_record = |name: u32, entry: u32| {
        let mut out = name.to_le_bytes().to_vec();
        out.extend_from_slice(&entry.to_le_bytes());
        out
    };
    t.control(99, move |parts| {
        let name = parts.add_string(b"zzz");
        parts.push_record(TOOLS, &tool_record(name, n - 1));
    });
    t.parts(99, K::BadTool, tools, move |parts| {
        parts.push_record(TOOLS, &tool_record(ids.strings, 0));
    });
    t.parts(100, K::BadTool, tools, move |parts| {
        let name = parts.add_string(b"zzz");
        parts.push_record(TOOLS, &tool_record(name, n));
    });
    t.parts(101, K::BadTool, tools, move |parts| {
        parts.push_record(TOOLS, &tool_record(last_name, 0));
    });
    t.parts(101, K::BadTool, tools, move |parts| {
        let name = parts.add_string(b"a");
        parts.push_record(TOOLS, &tool_record(name, 0));
    });

    // META.
    let meta_case = |t: &mut Table, id, field: usize, value: u32| {
        t.parts(id, K::BadLayout, meta + field as u32, move |parts| {
            set_word(&mut parts.sections[META], field, value);
        });
    };
    meta_case(&mut t, 102, 0, ids.strings);
    meta_case(&mut t, 103, 4, ids.strings);
    meta_case(&mut t, 104, 8, ids.outcomes);
    meta_case(&mut t, 105, 8, ids.rule_outcome);
    meta_case(&mut t, 106, 12, ids.nodes);
    meta_case(&mut t, 106, 12, u32::MAX);
    t.control(106, move |parts| set_word(&mut parts.sections[META], 12, n - 1));
    // Audit allowance (format 1.2): a known mode, and a redaction set exactly with REDACTED.
    let redacted = format::audit_args::REDACTED;
    meta_case(&mut t, 107, 16, format::audit_args::FULL + 1);
    t.control(107, move |parts| {
        set_word(&mut parts.sections[META], 16, format::audit_args::FULL);
    });
    meta_case(&mut t, 108, 20, ids.set);
    for redact in [format::NO_SET, ids.sets] {
        t.parts(108, K::BadLayout, meta + 20, move |parts| {
            set_word(&mut parts.sections[META], 16, redacted);
            set_word(&mut parts.sections[META], 20, redact);
        });
    }
    t.control(108, move |parts| {
        set_word(&mut parts.sections[META], 16, redacted);
        set_word(&mut parts.sections[META], 20, ids.set);
    });

    tool_index_cases(&mut t, &base);
    (t.cases, t.controls)
}

/// V109 to V116: the hashed index of a format 1.3 TOOLS section.
fn tool_index_cases(t: &mut Table, base: &Parts) {
    let at = base.offset_of(TOOLS);
    let tools = base.tools();
    let count = tools.len() as u32;
    let names: Vec<Vec<u8>> = tools.iter().map(|&(name, _)| base.string(name)).collect();
    let (seed, bucket_count, max_probe, buckets) = base.tool_index();
    assert!(count >= 2 && (2..16).contains(&bucket_count));
    let first_empty = buckets.iter().position(|&b| b == format::TOOL_EMPTY).unwrap() as u32;
    let holding = |tool: u32| buckets.iter().position(|&b| b == tool).unwrap();
    // An index case: TOOLS with the base's records and this index.
    let mut index = |id, kind, offset: u32, shape: (u32, u32, u32), slots: Vec<u32>| {
        let tools = tools.clone();
        let edit = move |parts: &mut Parts| parts.set_tool_section(count, shape, &tools, &slots);
        match kind {
            Some(kind) => t.parts(id, kind, offset, edit),
            None => t.control(id, edit),
        }
    };
    // A sparse table, 64 buckets: every tool at its home or close.
    let (sparse, sparse_probes) = craft::place_tools(&names, 7, 64);
    let sparse_max = *sparse_probes.iter().max().unwrap();

    index(111, Some(K::BadTool), at + 8, (seed, bucket_count + 1, max_probe), {
        let mut slots = buckets.clone();
        slots.push(format::TOOL_EMPTY);
        slots
    });
    index(111, Some(K::BadTool), at + 8, (seed, 1, 1), vec![0]);
    index(111, None, at + 8, (7, 64, sparse_max), sparse.clone());
    index(112, Some(K::LimitExceeded), at + 12, (7, 64, limits::TOOL_PROBES_MAX as u32 + 1), {
        sparse.clone()
    });
    index(112, None, at + 12, (7, 64, limits::TOOL_PROBES_MAX as u32), sparse.clone());
    index(113, Some(K::BadTool), at + 12, (seed, bucket_count, bucket_count + 1), buckets.clone());
    index(113, None, at + 12, (seed, bucket_count, bucket_count), buckets.clone());
    for bad in [count, u32::MAX - 1] {
        let mut slots = buckets.clone();
        slots[first_empty as usize] = bad;
        index(114, Some(K::BadTool), first_empty, (seed, bucket_count, max_probe), slots);
    }
    let mut twice = buckets.clone();
    twice[first_empty as usize] = 0;
    index(115, Some(K::BadTool), at, (seed, bucket_count, max_probe), twice);
    // Tool 1 twice and tool 0 nowhere: the right number of buckets, but 0 is not found.
    let mut missing = buckets.clone();
    missing[holding(0)] = 1;
    index(116, Some(K::BadTool), 0, (seed, bucket_count, max_probe), missing);
    // A `max_probe` one short of what a crowded table needs: the first tool that needs more
    // is not found.
    let crowded = count.next_power_of_two();
    let (seed_crowded, (slots, probes)) = (0..)
        .map(|seed| (seed, craft::place_tools(&names, seed, crowded)))
        .find(|(_, (_, probes))| probes.iter().any(|&p| p >= 2))
        .unwrap();
    let needed = *probes.iter().max().unwrap();
    let short = probes.iter().position(|&p| p == needed).unwrap() as u32;
    index(116, Some(K::BadTool), short, (seed_crowded, crowded, needed - 1), slots.clone());
    index(116, None, short, (seed_crowded, crowded, needed), slots);
    // An EMPTY bucket between a tool's home and its bucket ends the lookup before it.
    let (seed_gap, mut gap) = (0u32..)
        .map(|seed| (seed, craft::place_tools(&names, seed, 64)))
        .find_map(|(seed, (slots, probes))| {
            let home = (format::tool_hash(seed, &names[0]) & 63) as usize;
            (probes[0] == 1 && slots[(home + 1) & 63] == format::TOOL_EMPTY)
                .then_some((seed, slots))
        })
        .unwrap();
    let home = (format::tool_hash(seed_gap, &names[0]) & 63) as usize;
    gap[home] = format::TOOL_EMPTY;
    gap[(home + 1) & 63] = 0;
    index(116, Some(K::BadTool), 0, (seed_gap, 64, 2), gap);

    t.parts(109, K::Truncated, at, |parts| parts.sections[TOOLS].truncate(15));
    t.parts(109, K::Truncated, at, |parts| parts.sections[TOOLS].clear());
    t.parts(110, K::BadLayout, at, |parts| parts.sections[TOOLS].push(0));
    t.parts(110, K::BadLayout, at, |parts| {
        let len = parts.sections[TOOLS].len();
        parts.sections[TOOLS].truncate(len - 4);
    });
    t.parts(111, K::BadTool, at + 8, |parts| {
        parts.set_tool_section(0, (0, 1, 0), &[], &[format::TOOL_EMPTY]);
    });
    t.control(111, |parts| parts.set_tool_section(0, (0, 0, 0), &[], &[]));
}

#[test]
fn every_numbered_check_rejects_its_crafted_artifact() {
    let (base, _) = base();
    assert!(Program::from_bytes(&base.build()).is_ok(), "the base artifact must load");
    let (cases, controls) = cases();
    for (id, make) in &controls {
        let bytes = make();
        if let Err(error) = Program::from_bytes(&bytes) {
            panic!("V{id:02}: the valid counterpart was rejected: {error}");
        }
    }
    for case in &cases {
        let bytes = (case.make)();
        match Program::from_bytes(&bytes) {
            Ok(_) => panic!("V{:02}: accepted, expected {:?}", case.id, case.kind),
            Err(error) => {
                assert_eq!(
                    (error.kind(), error.offset()),
                    (case.kind, case.offset),
                    "V{:02}: {error}",
                    case.id
                );
            }
        }
    }
}

/// The numbers of the checks listed in `program.rs`'s module docs.
fn documented_checks() -> Vec<u32> {
    include_str!("../../runtime/src/program.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//! - V"))
        .map(|rest| rest.split(':').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn every_documented_check_has_a_case_and_every_case_a_documented_check() {
    let documented = documented_checks();
    assert!(documented.len() >= 100, "found only {} checks in the docs", documented.len());
    let expected: Vec<u32> = (1..=documented.len() as u32).collect();
    assert_eq!(documented, expected, "checks are numbered V01, V02, ... in order, once each");
    let (cases, _) = cases();
    let tested: BTreeSet<u32> = cases.iter().map(|case| case.id).collect();
    let documented: BTreeSet<u32> = documented.into_iter().collect();
    let untested: Vec<_> = documented.difference(&tested).collect();
    let undocumented: Vec<_> = tested.difference(&documented).collect();
    assert!(untested.is_empty(), "documented checks without a crafted artifact: {untested:?}");
    assert!(undocumented.is_empty(), "cases for checks not in the docs: {undocumented:?}");
}
