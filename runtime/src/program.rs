//! A verified artifact: [`Program::from_bytes`] checks every byte once, so evaluation can trust
//! every index it reads.
//!
//! # What verification checks, in order
//!
//! Each check has a stable number, the error kind it fails with and the offset it reports.
//! `tests/it/verifier_checks.rs` holds one crafted artifact per number that only that check
//! rejects, and fails when a number here has no such case (so a new check needs a test).
//! "Section offset" is the artifact offset of the section's first byte; "id" and "index" are
//! reported as the offset for per-record checks.
//!
//! Header:
//!
//! - V01: at most [`limits::ARTIFACT_BYTES_MAX`] bytes; `LimitExceeded` at 0.
//! - V02: at least the 64-byte header; `Truncated` at 0.
//! - V03: magic bytes; `BadMagic` at 0.
//! - V04: `format_major` is [`format::FORMAT_MAJOR`]; `UnsupportedVersion` at 8.
//! - V05: `format_minor` at most [`format::FORMAT_MINOR`]; `UnsupportedVersion` at 8.
//! - V06: `header_len` is 64; `BadLayout` at 12.
//! - V07: `total_len` equals the input length; `LengthMismatch` at 16.
//! - V08: `section_count` is [`format::SECTION_COUNT`]; `BadLayout` at 20.
//! - V09: reserved `flags` zero; `BadLayout` at 28.
//! - V10: CRC-32C checksum; `BadChecksum` at 24.
//!
//! Section table and section shapes:
//!
//! - V11: the section table fits in the input; `Truncated` at 64.
//! - V12: entry `i` has kind `i + 1`; `BadLayout` at the entry.
//! - V13: each section starts where the previous one (or the table) ends; `BadLayout` at the
//!   entry.
//! - V14: each section ends within the input; `Truncated` at the entry.
//! - V15: the last section ends at `total_len`; `BadLayout` at 64.
//! - V16: META is exactly [`format::META_LEN`] bytes (format 1.2 on; [`format::META_LEN_1_1`]
//!   before); `BadLayout` at its section offset.
//! - V17: STRINGS, SETS and DFAS start with a `u32` count; `Truncated` at the section offset.
//! - V18: their `count × 8`-byte index table fits in the section; `Truncated` at the section
//!   offset.
//! - V19: RULES, OUTCOMES, PREDICATES, NODES and (before format 1.3) TOOLS are a whole
//!   number of records; `BadLayout` at the section offset. (TOOLS from 1.3: V109, V110.)
//! - V20: at most [`limits::RULE_COUNT_MAX`] rules; `LimitExceeded` at the section offset.
//! - V21: at most [`limits::OUTCOME_COUNT_MAX`] outcomes; `LimitExceeded` at the section offset.
//! - V22: at most [`limits::TOOL_COUNT_MAX`] tools (from format 1.3, the header's `count`,
//!   checked between V109 and V110); `LimitExceeded` at the section offset.
//! - V23: at most [`limits::STRING_COUNT_MAX`] strings; `LimitExceeded` at 0.
//! - V24: at most [`limits::SET_COUNT_MAX`] sets; `LimitExceeded` at 0.
//! - V25: at most [`limits::DFA_COUNT_MAX`] DFAs; `LimitExceeded` at 0.
//!
//! STRINGS (`BadString` at the string id):
//!
//! - V26: the string's span lies in the payload.
//! - V27: it is at most [`limits::STRING_BYTES_MAX`] bytes.
//! - V28: it is valid UTF-8.
//!
//! SETS (`BadSet` at the set id, V29 at 0):
//!
//! - V29: the member array is a whole number of `u32` string ids.
//! - V30: the set's span lies in the member array.
//! - V31: every member is a valid string id.
//! - V32: members are strictly increasing by bytes (so binary search is exact and a set has no
//!   duplicates).
//!
//! DFAS (V33 `BadLayout` at the DFA id; V34 to V44 `BadDfa` with the [`crate::dfa::DfaError`],
//! at the blob's offset in the DFA payload), in the order [`crate::dfa::Dfa::from_bytes`]
//! checks them:
//!
//! - V33: the blob's span lies in the payload.
//! - V34: `Truncated`: at least the DFA header.
//! - V35: `TooLarge`: at most [`crate::dfa::DFA_BYTES_MAX`] bytes.
//! - V36: `BadStateCount`: at least 2 states.
//! - V37: `TooManyStates`: at most [`crate::dfa::DFA_STATES_MAX`] states.
//! - V38: `BadClassCount`: 1 to 256 byte classes.
//! - V39: `BadStart`: the start state exists.
//! - V40: `LengthMismatch`: the blob is exactly as long as its header says.
//! - V41: `BadClass`: every byte maps to an existing class.
//! - V42: `DeadStateNotDead`: state 0 only leads to itself and has no flags.
//! - V43: `BadTransition`: every transition leads to an existing state.
//! - V44: `BadFlags`: no unknown state flag bits.
//!
//! RULES (`BadRule` at the rule index):
//!
//! - V45: the id is a valid string id.
//! - V46: ids are strictly increasing by bytes, hence unique.
//!
//! OUTCOMES (`BadOutcome` at the outcome index):
//!
//! - V47: known effect.
//! - V48: known risk.
//! - V49: byte 3 is zero.
//! - V50: known kind (RULE, DEFAULT, SCHEMA).
//! - V51: a RULE outcome names a valid rule index.
//! - V52: a DEFAULT or SCHEMA outcome has `rule` = [`format::NO_RULE`].
//! - V53: the reason is a valid string id.
//! - V54: the code is a valid string id.
//!
//! PREDICATES (`BadPredicate` at the predicate index):
//!
//! - V55: no flag bits outside [`format::flag::ALL`].
//! - V56: byte 3 is zero.
//! - V57: `path` is a valid string id for subject ARG, and 0 for every other subject.
//! - V58: the op is known (1 to 30); an unknown subject fails the op's subject rule.
//! - V59: `SQL_DANGEROUS` is set only on `SQL_ALLOW`.
//! - V60: comparison bits are zero except on the comparing ops (`INT_CMP`, `LEN_CMP`,
//!   `BYTES_CMP`, `NUM_CMP`), where they are at most `GE`.
//!
//! Then one operand rule per op, numbered V(60 + op code). "Text" subjects are METHOD, SERVER,
//! TOOL, PRINCIPAL_ID, ARG and ELEMENT; "value" subjects are ARG and ELEMENT:
//!
//! - V61: `STR_EQ`: text subject, `a` a string id, `b` 0.
//! - V62: `STR_IN`: text subject, `a` a set id, `b` 0.
//! - V63: `STR_PREFIX`: text subject, `a` a string id, `b` 0.
//! - V64: `STR_SUFFIX`: text subject, `a` a string id, `b` 0.
//! - V65: `STR_CONTAINS`: text subject, `a` a string id, `b` 0.
//! - V66: `STR_MATCHES`: text subject, `a` a DFA id, `b` 0.
//! - V67: `LEN_CMP`: value subject, comparison at most `GE`, `b` 0.
//! - V68: `PATH_PREFIX`: value subject, `a` a set id, `b` only known path option bits.
//! - V69: `PATH_GLOB`: value subject, `a` a DFA id, `b` only known path option bits.
//! - V70: `URL_SCHEME`: value subject, `a` a set id, `b` 0.
//! - V71: `URL_HOST`: value subject, `a` a set id, `b` 0.
//! - V72: `SQL_ALLOW`: value subject, `a` only known statement kind bits, `b` at least 1.
//! - V73: `INT_CMP`: value subject, comparison at most `GE` (`a`, `b` are the i64 bound).
//! - V74: `BOOL_EQ`: value subject, `a` 0 or 1, `b` 0.
//! - V75: `EXISTS`: subject ARG, `a` and `b` 0.
//! - V76: `TYPE_IS`: value subject, `a` a non-empty mask of known type bits, `b` 0.
//! - V77: `ONLY_KEYS`: subject ARGS or ARG, `a` a set id, `b` 0.
//! - V78: `ROLE_HAS`: subject PRINCIPAL_ROLES, `a` a string id, `b` 0.
//! - V79: `ROLE_ANY`: subject PRINCIPAL_ROLES, `a` a set id, `b` 0.
//! - V80: `URL_NAMED_HOST`: value subject, `a` and `b` 0.
//! - V81: `BYTES_CMP`: value subject, comparison at most `GE`, `b` 0.
//! - V82: `NUM_CMP`: value subject, comparison at most `GE`, `a` a string holding a decimal,
//!   `b` 0.
//! - V83: `URL_PORT`: value subject, `a` a set id, `b` 0.
//! - V84: `URL_PATH_PREFIX`: value subject, `a` a set id, `b` 0.
//! - V85: `URL_SSRF`: value subject, `a` and `b` 0.
//! - V86: `SQL_FUNCTIONS_DENY`: value subject, `a` a set id, `b` 0.
//! - V87: `SQL_TABLES_IN`: value subject, `a` a set id, `b` 0.
//! - V88: `SQL_TABLES_NOT_IN`: value subject, `a` a set id, `b` 0.
//! - V89: `ARRAY_ALL`: subject ARG, `a` a predicate whose subject is ELEMENT (so quantifiers
//!   never nest), `b` 0.
//! - V90: `ARRAY_ANY`: as V89.
//!
//! NODES (`BadNode` at the node index):
//!
//! - V91: bytes 1 to 3 are zero.
//! - V92: the kind is TEST or DECIDE.
//! - V93: a TEST names a valid predicate.
//! - V94: that predicate does not read an ELEMENT.
//! - V95: the TEST's true target is a strictly smaller index.
//! - V96: the TEST's false target is a strictly smaller index.
//! - V97: a DECIDE names a valid outcome.
//! - V98: a DECIDE has `b` and `c` zero.
//!
//! TOOLS (`BadTool` at the tool index):
//!
//! - V99: the name is a valid string id.
//! - V100: the entry is a valid node.
//! - V101: names are strictly increasing by bytes.
//!
//! META (`BadLayout`, at the field's offset):
//!
//! - V102: the policy name is a valid string id.
//! - V103: the source file name is a valid string id.
//! - V104: the default outcome is a valid outcome index.
//! - V105: the default outcome has kind DEFAULT.
//! - V106: the fallback entry is a valid node.
//! - V107: (format 1.2 on) `audit_args` is a known allowance ([`format::audit_args`]).
//! - V108: (format 1.2 on) `audit_redact` is a valid set id when `audit_args` is `REDACTED`,
//!   and [`format::NO_SET`] otherwise.
//!
//! TOOLS index (format 1.3 on; see [`format`], "Tool dispatch"). V109 and V110 run with the
//! section shapes (V11 to V25), the others after V101, so names are known to be unique:
//!
//! - V109: TOOLS holds its 16-byte header; `Truncated` at the section offset.
//! - V110: TOOLS is exactly `16 + 8 × count + 4 × bucket_count` bytes; `BadLayout` at the
//!   section offset.
//! - V111: `bucket_count` is 0 when `count` is 0, else a power of two at least `count`;
//!   `BadTool` at the section offset + 8.
//! - V112: `max_probe` is at most [`limits::TOOL_PROBES_MAX`]; `LimitExceeded` at the section
//!   offset + 12.
//! - V113: `max_probe` is at most `bucket_count`; `BadTool` at the section offset + 12.
//! - V114: every bucket is [`format::TOOL_EMPTY`] or a tool index below `count`; `BadTool` at
//!   the bucket index.
//! - V115: exactly `count` buckets are not EMPTY; `BadTool` at the section offset.
//! - V116: every tool is found by the lookup of its own name: a bucket holding its index comes
//!   within `max_probe` buckets of its home bucket, with no EMPTY bucket before it; `BadTool`
//!   at the tool index. Names being unique (V101), that bucket is the one the runtime's name
//!   comparison stops at, and with V115 every tool is in exactly one bucket. The check costs at
//!   most [`limits::TOOL_PROBES_MAX`] bucket reads per tool, so loading stays linear.
//!
//! # Guards no artifact reaches
//!
//! Some fallible steps are not numbered checks, because an earlier check already rules their
//! failure out; they stay so that the code needs no unchecked arithmetic or indexing:
//!
//! - The predicate and node count limits ([`limits::PREDICATE_COUNT_MAX`],
//!   [`limits::NODE_COUNT_MAX`]): at 16 bytes a record, `2²² + 1` records alone are larger than
//!   [`limits::ARTIFACT_BYTES_MAX`], so V01 rejects any such artifact first. The effective
//!   maximum is what fits in the artifact-size limit; `tests/it/limits.rs` shows both.
//! - A section's `offset + len` overflowing (`BadLayout`): both are `u32`, so the sum cannot
//!   overflow a 64-bit `usize`; V14 rejects a too-long section instead.
//! - The section, index table and payload slices after V11 to V18, and the u32 reads inside
//!   records after V19: the lengths are already proven.
//!
//! # Not checked, by design
//!
//! - The content hash is not recomputed: SHA-256 would dominate load time, and the hash is an
//!   identity for audit records, not an integrity check. The CRC covers accidental corruption;
//!   authenticity is the host's job (compare the hash with one it trusts).
//! - Unreachable nodes, predicates and strings are allowed; they cost bytes, not safety.
//! - Whether the DAG means what the YAML said: that is the compiler's reference evaluator and
//!   the differential tests' job.

use crate::dfa::Dfa;
use crate::format::{self, read_u8, read_u16, read_u32};
use crate::limits;
use crate::{Effect, Risk};
use core::fmt;

/// A verified artifact, borrowing the bytes it was loaded from.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) strings: Table<'a>,
    pub(crate) string_bytes: &'a [u8],
    /// `string_bytes` as text when the whole region is UTF-8 (the compiler writes the strings
    /// back to back, each valid, so it always is), else empty. A string is then a sub-slice at
    /// char boundaries, which `str::get` checks in O(1): decisions need no UTF-8 pass.
    pub(crate) string_text: &'a str,
    pub(crate) sets: Table<'a>,
    pub(crate) set_members: &'a [u8],
    pub(crate) dfas: Table<'a>,
    pub(crate) dfa_bytes: &'a [u8],
    pub(crate) rules: Records<'a>,
    pub(crate) outcomes: Records<'a>,
    pub(crate) predicates: Records<'a>,
    pub(crate) nodes: Records<'a>,
    pub(crate) tools: Records<'a>,
    /// The hashed index over `tools` (format 1.3 on); `None` for older artifacts, whose
    /// records are binary-searched.
    pub(crate) tool_index: Option<ToolIndex<'a>>,
    pub(crate) name: u32,
    pub(crate) source: u32,
    pub(crate) default_outcome: u32,
    pub(crate) fallback_entry: u32,
    pub(crate) audit_args: u32,
    pub(crate) audit_redact: u32,
}

/// The hashed tool index of a format 1.3 TOOLS section (see [`format`], "Tool dispatch").
#[derive(Clone, Copy, Debug)]
pub(crate) struct ToolIndex<'a> {
    pub(crate) seed: u32,
    pub(crate) bucket_count: u32,
    pub(crate) max_probe: u32,
    /// `bucket_count` little-endian `u32` tool indices or [`format::TOOL_EMPTY`].
    pub(crate) buckets: &'a [u8],
    /// The longest tool name in bytes (set by verification): a longer name is not listed, and
    /// is not even hashed.
    pub(crate) name_max: usize,
    /// Artifact offset of the TOOLS section, for errors.
    at: usize,
}

impl ToolIndex<'_> {
    /// The lookup of `name`: probes from its home bucket, stopping at an EMPTY bucket or after
    /// `max_probe` buckets; `accept` says whether the tool in a bucket is the one sought
    /// (`Some`) or not (`None`, probe on). Verification and evaluation share it, so what the
    /// verifier proves about a tool's lookup is what evaluation does.
    #[inline(always)]
    pub(crate) fn find<T>(
        &self,
        name: &[u8],
        mut accept: impl FnMut(u32) -> Option<T>,
    ) -> Option<T> {
        let mask = self.bucket_count.wrapping_sub(1);
        let mut bucket = format::tool_hash(self.seed, name);
        // Bounded by the verified `max_probe` (at most `limits::TOOL_PROBES_MAX`), whatever
        // the name.
        for _ in 0..self.max_probe {
            let tool = read_u32(self.buckets, ((bucket & mask) as usize).checked_mul(4)?)?;
            if tool == format::TOOL_EMPTY {
                return None;
            }
            if let Some(found) = accept(tool) {
                return Some(found);
            }
            bucket = bucket.wrapping_add(1);
        }
        None
    }

    /// The entry node of the tool named `name` and the artifact's string id of that name, or
    /// `None` if no tool has that name.
    #[inline(always)]
    pub(crate) fn entry(&self, program: &Program<'_>, name: &[u8]) -> Option<(u32, u32)> {
        if name.len() > self.name_max {
            return None;
        }
        let records = program.tools.bytes;
        self.find(name, |tool| {
            // The record `(name, entry)` in one read.
            let at = (tool as usize).checked_mul(format::TOOL_LEN)?;
            let record = records.get(at..at.checked_add(format::TOOL_LEN)?)?;
            let [a, b, c, d, e, f, g, h] = <[u8; 8]>::try_from(record).ok()?;
            let name_id = u32::from_le_bytes([a, b, c, d]);
            let candidate = program.string_bytes(name_id);
            crate::swar::same_bytes(candidate, name)
                .then_some((u32::from_le_bytes([e, f, g, h]), name_id))
        })
    }
}

/// An index table of `(offset, len)` pairs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table<'a> {
    pub(crate) entries: &'a [u8],
    pub(crate) count: u32,
}

/// The string table: its index and the bytes it points into.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strings<'a> {
    index: Table<'a>,
    bytes: &'a [u8],
}

impl<'a> Strings<'a> {
    /// String `id` as bytes (see [`Program::string_bytes`]).
    #[inline(always)]
    pub(crate) fn get(&self, id: u32) -> &'a [u8] {
        self.index
            .span(id)
            .and_then(|(offset, len)| self.bytes.get(offset..offset.checked_add(len)?))
            .unwrap_or(&[])
    }
}

/// Fixed-size records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Records<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) len: usize,
    pub(crate) count: u32,
}

impl<'a> Records<'a> {
    /// The record at `index`, or an empty slice when out of range (callers treat a short
    /// record as corrupt; verification makes that impossible).
    pub(crate) fn get(&self, index: u32) -> &'a [u8] {
        let start = (index as usize).saturating_mul(self.len);
        self.bytes.get(start..start.saturating_add(self.len)).unwrap_or(&[])
    }

    /// A 16-byte record (nodes, predicates, outcomes) split into its 4 head bytes and 3 words,
    /// with one bounds check instead of one per field; `None` when out of range or the table's
    /// records are not 16 bytes long (verification makes both impossible).
    #[inline(always)]
    pub(crate) fn record16(&self, index: u32) -> Option<([u8; 4], u32, u32, u32)> {
        let start = (index as usize).checked_mul(16)?;
        let bytes = self.bytes.get(start..start.checked_add(16)?)?;
        let [h0, h1, h2, h3, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3] =
            <[u8; 16]>::try_from(bytes).ok()?;
        (self.len == 16).then_some((
            [h0, h1, h2, h3],
            u32::from_le_bytes([a0, a1, a2, a3]),
            u32::from_le_bytes([b0, b1, b2, b3]),
            u32::from_le_bytes([c0, c1, c2, c3]),
        ))
    }
}

impl<'a> Table<'a> {
    /// `(offset, len)` of entry `index`.
    #[inline(always)]
    pub(crate) fn span(&self, index: u32) -> Option<(usize, usize)> {
        // One bounds check for both words: every string, set and DFA lookup goes through here.
        let at = (index as usize).checked_mul(8)?;
        let entry = self.entries.get(at..at.checked_add(8)?)?;
        let [o0, o1, o2, o3, l0, l1, l2, l3] = <[u8; 8]>::try_from(entry).ok()?;
        Some((
            u32::from_le_bytes([o0, o1, o2, o3]) as usize,
            u32::from_le_bytes([l0, l1, l2, l3]) as usize,
        ))
    }
}

/// Why an artifact was rejected. Small and `Copy`; see [`FormatError::code`] and `Display`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatError {
    kind: FormatErrorKind,
    /// Byte offset in the artifact where the problem was found.
    offset: u32,
}

/// The kinds of [`FormatError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatErrorKind {
    /// Shorter than its header or than the lengths it declares.
    Truncated,
    /// The first 8 bytes are not [`format::MAGIC`].
    BadMagic,
    /// A format major this runtime cannot read, or a newer minor.
    UnsupportedVersion {
        /// The major version found.
        major: u16,
        /// The minor version found.
        minor: u16,
    },
    /// `total_len` differs from the input length (trailing or missing bytes).
    LengthMismatch,
    /// The checksum does not match the bytes.
    BadChecksum,
    /// A header field, section table entry or section layout is inconsistent.
    BadLayout,
    /// A count exceeds its documented limit in [`crate::limits`].
    LimitExceeded,
    /// A string is out of bounds or not UTF-8.
    BadString,
    /// A string set is out of bounds or not strictly sorted.
    BadSet,
    /// A DFA blob is out of bounds or malformed.
    BadDfa(crate::dfa::DfaError),
    /// A rule record is malformed or its id is duplicated.
    BadRule,
    /// An outcome record is malformed.
    BadOutcome,
    /// A predicate record is malformed.
    BadPredicate,
    /// A node record is malformed, or an edge does not point to a smaller index.
    BadNode,
    /// The tool table is malformed or not strictly sorted.
    BadTool,
}

impl FormatError {
    const fn new(kind: FormatErrorKind, offset: usize) -> Self {
        let offset = if offset > u32::MAX as usize { u32::MAX } else { offset as u32 };
        Self { kind, offset }
    }

    /// What is wrong.
    pub fn kind(&self) -> FormatErrorKind {
        self.kind
    }

    /// Byte offset in the artifact where the problem was found.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// A stable machine-readable code, e.g. `artifact.bad_checksum`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            FormatErrorKind::Truncated => "artifact.truncated",
            FormatErrorKind::BadMagic => "artifact.bad_magic",
            FormatErrorKind::UnsupportedVersion { .. } => "artifact.unsupported_version",
            FormatErrorKind::LengthMismatch => "artifact.length_mismatch",
            FormatErrorKind::BadChecksum => "artifact.bad_checksum",
            FormatErrorKind::BadLayout => "artifact.bad_layout",
            FormatErrorKind::LimitExceeded => "artifact.limit_exceeded",
            FormatErrorKind::BadString => "artifact.bad_string",
            FormatErrorKind::BadSet => "artifact.bad_set",
            FormatErrorKind::BadDfa(_) => "artifact.bad_dfa",
            FormatErrorKind::BadRule => "artifact.bad_rule",
            FormatErrorKind::BadOutcome => "artifact.bad_outcome",
            FormatErrorKind::BadPredicate => "artifact.bad_predicate",
            FormatErrorKind::BadNode => "artifact.bad_node",
            FormatErrorKind::BadTool => "artifact.bad_tool",
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FormatErrorKind::Truncated => f.write_str("artifact is truncated")?,
            FormatErrorKind::BadMagic => f.write_str("not an mcppol artifact (bad magic bytes)")?,
            FormatErrorKind::UnsupportedVersion { major, minor } => write!(
                f,
                "artifact format {major}.{minor} is not supported by this runtime (reads {}.0 to {}.{}); recompile the policy with a matching mcppol",
                format::FORMAT_MAJOR,
                format::FORMAT_MAJOR,
                format::FORMAT_MINOR
            )?,
            FormatErrorKind::LengthMismatch => {
                f.write_str("artifact length differs from its header (truncated or padded file)")?;
            }
            FormatErrorKind::BadChecksum => {
                f.write_str("artifact checksum mismatch (the file is corrupt)")?;
            }
            FormatErrorKind::BadLayout => f.write_str("artifact section layout is invalid")?,
            FormatErrorKind::LimitExceeded => f.write_str("artifact exceeds a runtime limit")?,
            FormatErrorKind::BadString => f.write_str("artifact string table is invalid")?,
            FormatErrorKind::BadSet => f.write_str("artifact string set is invalid")?,
            FormatErrorKind::BadDfa(error) => write!(f, "artifact DFA is invalid: {error}")?,
            FormatErrorKind::BadRule => f.write_str("artifact rule table is invalid")?,
            FormatErrorKind::BadOutcome => f.write_str("artifact outcome table is invalid")?,
            FormatErrorKind::BadPredicate => f.write_str("artifact predicate is invalid")?,
            FormatErrorKind::BadNode => f.write_str("artifact decision node is invalid")?,
            FormatErrorKind::BadTool => f.write_str("artifact tool table is invalid")?,
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl core::error::Error for FormatError {}

use FormatErrorKind as K;

/// The bytes of section `index` (0-based in table order), after the layout check.
fn section(bytes: &[u8], index: usize) -> Option<(usize, &[u8])> {
    let entry = format::HEADER_LEN + index * format::SECTION_ENTRY_LEN;
    let offset = read_u32(bytes, entry + 4)? as usize;
    let len = read_u32(bytes, entry + 8)? as usize;
    Some((offset, bytes.get(offset..offset.checked_add(len)?)?))
}

fn check(ok: bool, kind: FormatErrorKind, offset: usize) -> Result<(), FormatError> {
    if ok { Ok(()) } else { Err(FormatError::new(kind, offset)) }
}

impl<'a> Program<'a> {
    /// Verifies `bytes` as an artifact and returns a program that evaluates requests.
    ///
    /// Runs in time linear in the artifact size (DFA verification included). The bytes may
    /// live anywhere: no alignment is required.
    ///
    /// # Errors
    ///
    /// A [`FormatError`] naming the first problem found, with its byte offset.
    ///
    /// # Panics
    ///
    /// Never, for any input.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Program<'a>, FormatError> {
        check(bytes.len() <= limits::ARTIFACT_BYTES_MAX, K::LimitExceeded, 0)?;
        check(bytes.len() >= format::HEADER_LEN, K::Truncated, 0)?;
        check(bytes.get(..8) == Some(&format::MAGIC[..]), K::BadMagic, 0)?;
        let major = read_u16(bytes, 8).unwrap_or(0);
        let minor = read_u16(bytes, 10).unwrap_or(0);
        #[allow(
            clippy::absurd_extreme_comparisons,
            reason = "FORMAT_MINOR is 0 today; the comparison is right for every future minor"
        )]
        let readable = major == format::FORMAT_MAJOR && minor <= format::FORMAT_MINOR;
        check(readable, K::UnsupportedVersion { major, minor }, 8)?;
        let field = |offset| read_u32(bytes, offset).unwrap_or(u32::MAX) as usize;
        check(field(12) == format::HEADER_LEN, K::BadLayout, 12)?;
        check(field(16) == bytes.len(), K::LengthMismatch, 16)?;
        check(field(20) == format::SECTION_COUNT, K::BadLayout, 20)?;
        check(field(28) == 0, K::BadLayout, 28)?;
        check(
            field(format::CHECKSUM_OFFSET) == format::checksum(bytes) as usize,
            K::BadChecksum,
            format::CHECKSUM_OFFSET,
        )?;
        verify_section_table(bytes)?;

        let meta = section(bytes, 0).ok_or(FormatError::new(K::BadLayout, 0))?;
        let meta_len = if minor >= 2 { format::META_LEN } else { format::META_LEN_1_1 };
        check(meta.1.len() == meta_len, K::BadLayout, meta.0)?;
        let (strings, string_bytes) = table_section(bytes, 1)?;
        let (sets, set_members) = table_section(bytes, 2)?;
        let (dfas, dfa_bytes) = table_section(bytes, 3)?;
        let rules = records(bytes, 4, format::RULE_LEN, limits::RULE_COUNT_MAX)?;
        let outcomes = records(bytes, 5, format::OUTCOME_LEN, limits::OUTCOME_COUNT_MAX)?;
        let predicates = records(bytes, 6, format::PREDICATE_LEN, limits::PREDICATE_COUNT_MAX)?;
        let nodes = records(bytes, 7, format::NODE_LEN, limits::NODE_COUNT_MAX)?;
        let (tools, tool_index) = tool_section(bytes, minor)?;
        let mut program = Program {
            bytes,
            strings,
            string_bytes,
            // One pass over the region at load, instead of one per string per decision.
            string_text: core::str::from_utf8(string_bytes).unwrap_or(""),
            sets,
            set_members,
            dfas,
            dfa_bytes,
            rules,
            outcomes,
            predicates,
            nodes,
            tools,
            tool_index,
            name: 0,
            source: 0,
            default_outcome: 0,
            fallback_entry: 0,
            audit_args: format::audit_args::UNSTATED,
            audit_redact: format::NO_SET,
        };
        check(strings.count as usize <= limits::STRING_COUNT_MAX, K::LimitExceeded, 0)?;
        check(sets.count as usize <= limits::SET_COUNT_MAX, K::LimitExceeded, 0)?;
        check(dfas.count as usize <= limits::DFA_COUNT_MAX, K::LimitExceeded, 0)?;
        program.verify_strings()?;
        program.verify_sets()?;
        program.verify_dfas()?;
        program.verify_rules()?;
        program.verify_outcomes()?;
        program.verify_predicates()?;
        program.verify_nodes()?;
        program.verify_tools()?;
        program.verify_tool_index()?;
        let meta_field = |at| read_u32(meta.1, at).unwrap_or(u32::MAX);
        program.name = meta_field(0);
        program.source = meta_field(4);
        program.default_outcome = meta_field(8);
        program.fallback_entry = meta_field(12);
        check(program.string(program.name).is_some(), K::BadLayout, meta.0)?;
        check(program.string(program.source).is_some(), K::BadLayout, meta.0 + 4)?;
        check(
            program.default_outcome < program.outcomes.count
                && read_u8(program.outcomes.get(program.default_outcome), 0)
                    == Some(format::outcome::DEFAULT),
            K::BadLayout,
            meta.0 + 8,
        )?;
        check(program.fallback_entry < program.nodes.count, K::BadLayout, meta.0 + 12)?;
        if minor >= 2 {
            program.audit_args = meta_field(16);
            program.audit_redact = meta_field(20);
            let redacted = program.audit_args == format::audit_args::REDACTED;
            check(program.audit_args <= format::audit_args::FULL, K::BadLayout, meta.0 + 16)?;
            let redact_ok = if redacted {
                program.audit_redact < program.sets.count
            } else {
                program.audit_redact == format::NO_SET
            };
            check(redact_ok, K::BadLayout, meta.0 + 20)?;
        }
        Ok(program)
    }

    /// String `id` from the string table, or `None` if out of range or not UTF-8.
    ///
    /// A sub-slice of valid UTF-8 is valid UTF-8 exactly when it starts and ends at char
    /// boundaries (a valid string cannot start with a continuation byte nor end inside a
    /// sequence), which is what `str::get` checks; so when the region is text this is the same
    /// answer as `from_utf8` on the string's bytes, in O(1). Otherwise it falls back to that.
    pub(crate) fn string(&self, id: u32) -> Option<&'a str> {
        let (offset, len) = self.strings.span(id)?;
        let end = offset.checked_add(len)?;
        if let Some(text) = self.string_text.get(offset..end) {
            return Some(text);
        }
        core::str::from_utf8(self.string_bytes.get(offset..end)?).ok()
    }

    /// String `id` as bytes, without the UTF-8 check (verification did it once). Empty if out
    /// of range, which verification rules out.
    pub(crate) fn string_bytes(&self, id: u32) -> &'a [u8] {
        self.strings().get(id)
    }

    /// The string table alone, for iterators that must not hold a copy of the whole program.
    #[inline(always)]
    pub(crate) fn strings(&self) -> Strings<'a> {
        Strings { index: self.strings, bytes: self.string_bytes }
    }

    /// Members of set `id` as a slice of little-endian `u32` string ids.
    #[inline]
    pub(crate) fn set(&self, id: u32) -> &'a [u8] {
        self.sets
            .span(id)
            .and_then(|(start, len)| {
                let begin = start.checked_mul(4)?;
                self.set_members.get(begin..begin.checked_add(len.checked_mul(4)?)?)
            })
            .unwrap_or(&[])
    }

    /// Whether set `id` contains `needle` (binary search; sets are strictly sorted).
    pub(crate) fn set_contains(&self, id: u32, needle: &[u8]) -> bool {
        let members = self.set(id);
        let mut low = 0usize;
        let mut high = members.len() / 4;
        while low < high {
            let middle = low + (high - low) / 2;
            let member = self.string_bytes(read_u32(members, middle * 4).unwrap_or(u32::MAX));
            match member.cmp(needle) {
                core::cmp::Ordering::Less => low = middle + 1,
                core::cmp::Ordering::Greater => high = middle,
                core::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// DFA `id`, without re-verifying its tables (loading did that once). `None` only if the
    /// program broke its verified invariants; callers turn that into a deny.
    pub(crate) fn dfa(&self, id: u32) -> Option<Dfa<'a>> {
        let (offset, len) = self.dfas.span(id)?;
        Dfa::from_verified(self.dfa_bytes.get(offset..offset.checked_add(len)?)?)
    }

    fn verify_strings(&self) -> Result<(), FormatError> {
        for id in 0..self.strings.count {
            let ok = self.strings.span(id).is_some_and(|(_, len)| {
                len <= limits::STRING_BYTES_MAX && self.string(id).is_some()
            });
            check(ok, K::BadString, id as usize)?;
        }
        Ok(())
    }

    fn verify_sets(&self) -> Result<(), FormatError> {
        let total = self.set_members.len() / 4;
        check(self.set_members.len().is_multiple_of(4), K::BadSet, 0)?;
        for id in 0..self.sets.count {
            let (start, len) = self.sets.span(id).unwrap_or((usize::MAX, 0));
            check(start.checked_add(len).is_some_and(|end| end <= total), K::BadSet, id as usize)?;
            let members = self.set(id);
            let mut previous: Option<&[u8]> = None;
            for index in 0..len {
                let member = read_u32(members, index * 4).unwrap_or(u32::MAX);
                check(member < self.strings.count, K::BadSet, id as usize)?;
                let bytes = self.string_bytes(member);
                check(previous.is_none_or(|p| p < bytes), K::BadSet, id as usize)?;
                previous = Some(bytes);
            }
        }
        Ok(())
    }

    fn verify_dfas(&self) -> Result<(), FormatError> {
        for id in 0..self.dfas.count {
            let (offset, len) = self.dfas.span(id).unwrap_or((usize::MAX, 0));
            let blob = offset
                .checked_add(len)
                .and_then(|end| self.dfa_bytes.get(offset..end))
                .ok_or(FormatError::new(K::BadLayout, id as usize))?;
            Dfa::from_bytes(blob).map_err(|error| FormatError::new(K::BadDfa(error), offset))?;
        }
        Ok(())
    }

    fn verify_rules(&self) -> Result<(), FormatError> {
        // Ids are unique: the compiler sorts rules by id, so a strict order proves it in the
        // same pass that checks each id is a string.
        let mut previous: Option<&[u8]> = None;
        for index in 0..self.rules.count {
            let id = read_u32(self.rules.get(index), 0).unwrap_or(u32::MAX);
            let current = self.string(id).map(str::as_bytes);
            let ok = current.is_some_and(|current| previous.is_none_or(|p| p < current));
            check(ok, K::BadRule, index as usize)?;
            previous = current;
        }
        Ok(())
    }

    fn verify_outcomes(&self) -> Result<(), FormatError> {
        for index in 0..self.outcomes.count {
            // A missing record (impossible: the section length was checked) reads as kind 0,
            // which is rejected.
            let ([kind, effect, risk, padding], rule, reason, code) =
                self.outcomes.record16(index).unwrap_or_default();
            let ok = Effect::from_u8(effect).is_some()
                && Risk::from_u8(risk).is_some()
                && padding == 0
                && match kind {
                    format::outcome::RULE => rule < self.rules.count,
                    format::outcome::DEFAULT | format::outcome::SCHEMA => rule == format::NO_RULE,
                    _ => false,
                }
                && self.string(reason).is_some()
                && self.string(code).is_some();
            check(ok, K::BadOutcome, index as usize)?;
        }
        Ok(())
    }

    fn verify_predicates(&self) -> Result<(), FormatError> {
        for index in 0..self.predicates.count {
            let record = self.predicates.get(index);
            let ok = self.predicate_is_valid(record);
            check(ok, K::BadPredicate, index as usize)?;
        }
        Ok(())
    }

    fn predicate_is_valid(&self, record: &[u8]) -> bool {
        use format::{op, subject};
        let subject = read_u8(record, 0).unwrap_or(0);
        let operation = read_u8(record, 1).unwrap_or(0);
        let flags = read_u8(record, 2).unwrap_or(u8::MAX);
        let path = read_u32(record, 4).unwrap_or(u32::MAX);
        let a = read_u32(record, 8).unwrap_or(u32::MAX);
        let b = read_u32(record, 12).unwrap_or(u32::MAX);
        let comparison = (flags & format::flag::CMP_MASK) >> format::flag::CMP_SHIFT;
        let string = |id: u32| id < self.strings.count;
        let set = |id: u32| id < self.sets.count;
        let dfa = |id: u32| id < self.dfas.count;
        if flags & !format::flag::ALL != 0 || read_u8(record, 3) != Some(0) {
            return false;
        }
        // The subject's path operand: only ARG uses it, as a NUL-joined argument path.
        let path_ok = if subject == subject::ARG { string(path) } else { path == 0 };
        // Value ops read an argument, or the element an array quantifier is looking at.
        let value = subject == subject::ARG || subject == subject::ELEMENT;
        let is_text = value
            || matches!(
                subject,
                subject::METHOD | subject::SERVER | subject::TOOL | subject::PRINCIPAL_ID
            );
        let uses_cmp = matches!(operation, op::INT_CMP | op::LEN_CMP | op::BYTES_CMP | op::NUM_CMP);
        let decimal = |id: u32| {
            self.string(id)
                .is_some_and(|text| crate::number::compare(text.as_bytes(), b"0").is_some())
        };
        let path_options = b & !format::path_option::ALL == 0;
        let operands_ok = match operation {
            op::STR_EQ | op::STR_PREFIX | op::STR_SUFFIX | op::STR_CONTAINS => {
                is_text && string(a) && b == 0
            }
            op::STR_IN => is_text && set(a) && b == 0,
            op::STR_MATCHES => is_text && dfa(a) && b == 0,
            op::PATH_PREFIX => value && set(a) && path_options,
            op::PATH_GLOB => value && dfa(a) && path_options,
            op::URL_SCHEME
            | op::URL_HOST
            | op::URL_PORT
            | op::URL_PATH_PREFIX
            | op::SQL_FUNCTIONS_DENY
            | op::SQL_TABLES_IN
            | op::SQL_TABLES_NOT_IN => value && set(a) && b == 0,
            op::URL_NAMED_HOST | op::URL_SSRF => value && a == 0 && b == 0,
            op::SQL_ALLOW => value && crate::sql::KindSet::from_bits(a).is_some() && b > 0,
            op::INT_CMP => value && comparison <= format::cmp::GE,
            op::LEN_CMP | op::BYTES_CMP => value && comparison <= format::cmp::GE && b == 0,
            op::NUM_CMP => value && comparison <= format::cmp::GE && decimal(a) && b == 0,
            op::BOOL_EQ => value && a <= 1 && b == 0,
            op::EXISTS => subject == subject::ARG && a == 0 && b == 0,
            op::TYPE_IS => value && a & !format::json_type::ALL == 0 && a != 0 && b == 0,
            op::ONLY_KEYS => {
                (subject == subject::ARGS || subject == subject::ARG) && set(a) && b == 0
            }
            op::ROLE_HAS => subject == subject::PRINCIPAL_ROLES && string(a) && b == 0,
            op::ROLE_ANY => subject == subject::PRINCIPAL_ROLES && set(a) && b == 0,
            // INVARIANT (no-nesting): a quantifier's sub-predicate reads an ELEMENT, and an
            // ELEMENT predicate is never a quantifier, so evaluation never nests deeper than one.
            op::ARRAY_ALL | op::ARRAY_ANY => {
                subject == subject::ARG
                    && a < self.predicates.count
                    && read_u8(self.predicates.get(a), 0) == Some(subject::ELEMENT)
                    && b == 0
            }
            _ => false,
        };
        let sql_flag_ok = flags & format::flag::SQL_DANGEROUS == 0 || operation == op::SQL_ALLOW;
        // Comparison bits are meaningful only for the comparing ops.
        path_ok && operands_ok && sql_flag_ok && (uses_cmp || comparison == 0)
    }

    fn verify_nodes(&self) -> Result<(), FormatError> {
        for index in 0..self.nodes.count {
            // A missing record (impossible: the section length was checked) reads as kind 0,
            // which is rejected.
            let ([kind, p1, p2, p3], a, b, c) = self.nodes.record16(index).unwrap_or_default();
            let padding = [p1, p2, p3] == [0, 0, 0];
            // INVARIANT (forward-edges): every TEST target is a strictly smaller index, so
            // evaluation from node e takes at most e + 1 steps and cannot cycle.
            let ok = padding
                && match kind {
                    format::node::TEST => {
                        a < self.predicates.count
                            && self.predicates.record16(a).is_some_and(|([subject, ..], ..)| {
                                subject != format::subject::ELEMENT
                            })
                            && b < index
                            && c < index
                    }
                    format::node::DECIDE => a < self.outcomes.count && b == 0 && c == 0,
                    _ => false,
                };
            check(ok, K::BadNode, index as usize)?;
        }
        Ok(())
    }

    fn verify_tools(&self) -> Result<(), FormatError> {
        let mut previous: Option<&[u8]> = None;
        for index in 0..self.tools.count {
            let record = self.tools.get(index);
            let name = read_u32(record, 0).unwrap_or(u32::MAX);
            let entry = read_u32(record, 4).unwrap_or(u32::MAX);
            let bytes = self.string_bytes(name);
            let ok = name < self.strings.count
                && entry < self.nodes.count
                && previous.is_none_or(|p| p < bytes);
            check(ok, K::BadTool, index as usize)?;
            previous = Some(bytes);
        }
        Ok(())
    }

    /// V111 to V116 (format 1.3 on). Runs after [`Program::verify_tools`]: names are unique.
    fn verify_tool_index(&mut self) -> Result<(), FormatError> {
        let Some(mut index) = self.tool_index else {
            return Ok(());
        };
        let (at, count, buckets) = (index.at, self.tools.count, index.bucket_count);
        let shape_ok =
            if count == 0 { buckets == 0 } else { buckets.is_power_of_two() && buckets >= count };
        check(shape_ok, K::BadTool, at + 8)?;
        check(index.max_probe as usize <= limits::TOOL_PROBES_MAX, K::LimitExceeded, at + 12)?;
        check(index.max_probe <= buckets, K::BadTool, at + 12)?;
        let mut used = 0u32;
        for bucket in 0..buckets {
            let tool = read_u32(index.buckets, (bucket as usize).saturating_mul(4))
                .unwrap_or(format::TOOL_EMPTY);
            if tool != format::TOOL_EMPTY {
                check(tool < count, K::BadTool, bucket as usize)?;
                used += 1;
            }
        }
        check(used == count, K::BadTool, at)?;
        let mut name_max = 0;
        for tool in 0..count {
            let name = self.string_bytes(read_u32(self.tools.get(tool), 0).unwrap_or(u32::MAX));
            name_max = name_max.max(name.len());
            let found = index.find(name, |candidate| (candidate == tool).then_some(()));
            check(found.is_some(), K::BadTool, tool as usize)?;
        }
        index.name_max = name_max;
        self.tool_index = Some(index);
        Ok(())
    }

    /// The SHA-256 content hash recorded by the compiler: the policy's identity in audit
    /// records and approvals. Not recomputed at load (see the module docs).
    pub fn content_hash(&self) -> [u8; 32] {
        let mut hash = [0u8; 32];
        if let Some(bytes) = self.bytes.get(format::CONTENT_HASH_OFFSET..format::HEADER_LEN) {
            hash.copy_from_slice(bytes);
        }
        hash
    }

    /// The policy's name.
    pub fn name(&self) -> &'a str {
        self.string(self.name).unwrap_or("")
    }

    /// The file name the policy was compiled from (no directories).
    pub fn source(&self) -> &'a str {
        self.string(self.source).unwrap_or("")
    }

    /// The artifact bytes this program reads.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of rules.
    pub fn rule_count(&self) -> u32 {
        self.rules.count
    }

    /// Number of DAG nodes.
    pub fn node_count(&self) -> u32 {
        self.nodes.count
    }

    /// The most of a call's arguments an audit log may keep, as the policy states it. A sink
    /// keeps at most this much (it may keep less).
    pub fn audit_args(&self) -> AuditArgs<'_> {
        match self.audit_args {
            format::audit_args::NONE => AuditArgs::None,
            format::audit_args::DIGEST => AuditArgs::Digest,
            format::audit_args::REDACTED => {
                AuditArgs::Redacted(RedactList { program: self, set: self.audit_redact })
            }
            format::audit_args::FULL => AuditArgs::Full,
            _ => AuditArgs::Unstated,
        }
    }
}

/// How much of a call's arguments an audit log may keep, from the policy's `audit:` section.
#[derive(Clone, Copy, Debug)]
pub enum AuditArgs<'a> {
    /// The policy does not say (artifacts before format 1.2, or no `audit:` section): the host
    /// decides.
    Unstated,
    /// Nothing, not even a digest.
    None,
    /// Only a digest of the canonical arguments.
    Digest,
    /// The arguments with these members (dotted paths) replaced.
    Redacted(RedactList<'a>),
    /// The full arguments.
    Full,
}

/// The argument members (dotted paths, e.g. `auth.token`) an audit log must redact.
#[derive(Clone, Copy, Debug)]
pub struct RedactList<'p> {
    program: &'p Program<'p>,
    set: u32,
}

impl<'p> RedactList<'p> {
    /// The member paths, in byte order.
    pub fn iter(&self) -> impl Iterator<Item = &'p str> + use<'p> {
        let program = self.program;
        let members = program.set(self.set);
        (0..members.len() / 4)
            .filter_map(move |index| program.string(read_u32(members, index * 4)?))
    }
}

fn verify_section_table(bytes: &[u8]) -> Result<(), FormatError> {
    let mut expected_offset =
        format::HEADER_LEN + format::SECTION_COUNT * format::SECTION_ENTRY_LEN;
    check(bytes.len() >= expected_offset, K::Truncated, format::HEADER_LEN)?;
    for index in 0..format::SECTION_COUNT {
        let entry = format::HEADER_LEN + index * format::SECTION_ENTRY_LEN;
        let kind = read_u32(bytes, entry).unwrap_or(0) as usize;
        let offset = read_u32(bytes, entry + 4).unwrap_or(u32::MAX) as usize;
        let len = read_u32(bytes, entry + 8).unwrap_or(u32::MAX) as usize;
        check(kind == index + 1 && offset == expected_offset, K::BadLayout, entry)?;
        expected_offset = offset.checked_add(len).ok_or(FormatError::new(K::BadLayout, entry))?;
        check(expected_offset <= bytes.len(), K::Truncated, entry)?;
    }
    check(expected_offset == bytes.len(), K::BadLayout, format::HEADER_LEN)
}

/// A section made of `count`, `count × (offset, len)` and a payload; returns the table and
/// the payload.
fn table_section(bytes: &[u8], index: usize) -> Result<(Table<'_>, &[u8]), FormatError> {
    let (at, body) = section(bytes, index).ok_or(FormatError::new(K::BadLayout, 0))?;
    let count = read_u32(body, 0).ok_or(FormatError::new(K::Truncated, at))?;
    let table_len = (count as usize)
        .checked_mul(8)
        .and_then(|len| len.checked_add(4))
        .filter(|&end| end <= body.len())
        .ok_or(FormatError::new(K::Truncated, at))?;
    let entries = body.get(4..table_len).ok_or(FormatError::new(K::Truncated, at))?;
    let payload = body.get(table_len..).ok_or(FormatError::new(K::Truncated, at))?;
    Ok((Table { entries, count }, payload))
}

/// TOOLS: the records, and from format 1.3 the hashed index after them (V109, V22, V110).
fn tool_section(
    bytes: &[u8],
    minor: u16,
) -> Result<(Records<'_>, Option<ToolIndex<'_>>), FormatError> {
    if minor < format::TOOL_INDEX_MINOR {
        return Ok((records(bytes, 8, format::TOOL_LEN, limits::TOOL_COUNT_MAX)?, None));
    }
    let (at, body) = section(bytes, 8).ok_or(FormatError::new(K::BadLayout, 0))?;
    check(body.len() >= format::TOOLS_HEADER_LEN, K::Truncated, at)?;
    let field = |index: usize| read_u32(body, index * 4).unwrap_or(0);
    let (count, seed, bucket_count, max_probe) = (field(0), field(1), field(2), field(3));
    check(count as usize <= limits::TOOL_COUNT_MAX, K::LimitExceeded, at)?;
    let layout = FormatError::new(K::BadLayout, at);
    let records_end = (count as usize)
        .checked_mul(format::TOOL_LEN)
        .and_then(|len| len.checked_add(format::TOOLS_HEADER_LEN))
        .ok_or(layout)?;
    let total = (bucket_count as usize)
        .checked_mul(4)
        .and_then(|len| len.checked_add(records_end))
        .ok_or(layout)?;
    check(body.len() == total, K::BadLayout, at)?;
    let records = Records {
        bytes: body.get(format::TOOLS_HEADER_LEN..records_end).ok_or(layout)?,
        len: format::TOOL_LEN,
        count,
    };
    let buckets = body.get(records_end..).ok_or(layout)?;
    let index = ToolIndex { seed, bucket_count, max_probe, buckets, name_max: 0, at };
    Ok((records, Some(index)))
}

fn records(
    bytes: &[u8],
    index: usize,
    len: usize,
    count_max: usize,
) -> Result<Records<'_>, FormatError> {
    let (at, body) = section(bytes, index).ok_or(FormatError::new(K::BadLayout, 0))?;
    check(body.len().is_multiple_of(len), K::BadLayout, at)?;
    let count = body.len() / len;
    check(count <= count_max, K::LimitExceeded, at)?;
    Ok(Records { bytes: body, len, count: u32::try_from(count).unwrap_or(u32::MAX) })
}
