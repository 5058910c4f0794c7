//! The artifact wire format, version 1: the normative specification of the `.mcpb` file.
//!
//! An artifact is a flat, little-endian byte string. Nothing in it is aligned, so the runtime
//! reads any `&[u8]` the host hands it, wherever it lives. Every integer is read with
//! `from_le_bytes` over a bounds-checked slice; there are no pointers, only indices that
//! [`crate::Program::from_bytes`] checks once, before any evaluation.
//!
//! # Layout
//!
//! ```text
//! Header (64 bytes)
//!   0  [u8; 8]   magic             b"MCPPOL\0\x1a"
//!   8  u16       format_major      FORMAT_MAJOR; a reader rejects any other major
//!   10 u16       format_minor      a reader rejects a minor greater than its own
//!   12 u32       header_len        64
//!   16 u32       total_len         length of the whole artifact; must equal the input length
//!   20 u32       section_count     SECTION_COUNT
//!   24 u32       checksum          CRC-32C of the whole artifact with this field read as 0
//!   28 u32       flags             0 (reserved)
//!   32 [u8; 32]  content_hash      SHA-256 of the whole artifact with `checksum` and
//!                                  `content_hash` read as zeros: the identity of the policy
//! Section table (SECTION_COUNT × 12 bytes), in kind order 1, 2, ..., SECTION_COUNT
//!   u32 kind, u32 offset, u32 len
//! Sections, contiguous and in table order: the first starts right after the table, each next
//! one where the previous ends, and the last ends at total_len.
//! ```
//!
//! | kind | section | contents |
//! |---|---|---|
//! | 1 | META | `name: StrId, source: StrId, default_outcome: u32, fallback_entry: NodeId, audit_args: u32, audit_redact: SetId` (24 bytes; 16 bytes, without the last two, in format 1.0 and 1.1) |
//! | 2 | STRINGS | `count: u32`, `count × (offset: u32, len: u32)` into the bytes that follow; each string is UTF-8 |
//! | 3 | SETS | `count: u32`, `count × (start: u32, len: u32)` into the `u32` StrId array that follows; each set's strings strictly increasing by bytes |
//! | 4 | DFAS | `count: u32`, `count × (offset: u32, len: u32)` into the blobs that follow; each blob in the [`crate::dfa`] format |
//! | 5 | RULES | `count × (id: StrId, line: u32, column: u32)` (12 bytes each); ids unique |
//! | 6 | OUTCOMES | `count × (kind: u8, effect: u8, risk: u8, 0: u8, rule: u32, reason: StrId, code: StrId)` (16 bytes) |
//! | 7 | PREDICATES | `count × (subject: u8, op: u8, flags: u8, 0: u8, path: StrId, a: u32, b: u32)` (16 bytes) |
//! | 8 | NODES | `count × (kind: u8, 0, 0, 0, a: u32, b: u32, c: u32)` (16 bytes) |
//! | 9 | TOOLS | `count: u32, seed: u32, bucket_count: u32, max_probe: u32`, `count × (name: StrId, entry: NodeId)` (8 bytes each; names strictly increasing by bytes), then the hashed index: `bucket_count × u32` tool indices or [`TOOL_EMPTY`] (see [Tool dispatch](#tool-dispatch)). Before format 1.3: only the `count × (name, entry)` records, the count being the section length over 8 |
//!
//! # The decision DAG
//!
//! A node is either `TEST` (`a` = predicate, `b` = node if true, `c` = node if false) or
//! `DECIDE` (`a` = outcome). **Every edge points to a strictly smaller node index**, so the
//! graph is acyclic and an evaluation starting at node `e` visits at most `e + 1` nodes.
//! A request for tool `t` starts at the entry of `t` in TOOLS, or at `fallback_entry` when `t`
//! is not listed.
//!
//! # Tool dispatch
//!
//! From format 1.3, TOOLS carries an open-addressing hash index over its records, so finding a
//! tool's entry costs the same at 10 tools and at a million:
//!
//! - `bucket_count` is 0 when `count` is 0, else a power of two at least `count` (the compiler
//!   writes at least `2 × count`, so most buckets of a miss are empty);
//! - each bucket holds a tool index (below `count`) or [`TOOL_EMPTY`], and each tool index is in
//!   exactly one bucket;
//! - `max_probe` is at most `bucket_count` and at most [`crate::limits::TOOL_PROBES_MAX`].
//!
//! The lookup of a name `t`: if `t` is longer than every tool name, `t` is not listed. Else start
//! at bucket `h = tool_hash(seed, t) & (bucket_count - 1)` ([`tool_hash`]) and look at buckets
//! `h`, `h + 1`, ... (wrapping) for at most `max_probe` buckets: an EMPTY bucket means `t` is
//! not listed; a bucket whose tool has the name `t` (same length, same bytes) gives its entry;
//! any other bucket moves on. After `max_probe` buckets, `t` is not listed. The verifier checks
//! that every tool is found this way, so the index answers exactly what a search of the sorted
//! records would, and never looks at more than `max_probe` buckets whatever `t` is.
//!
//! The `seed` is any `u32`; the compiler picks the first (from 0) that gives a short
//! `max_probe`, so compiling twice gives the same bytes. The records stay sorted so that names
//! are provably unique in one pass and listings need no sort.
//!
//! Artifacts before format 1.3 have no index: the runtime binary-searches their records.
//!
//! A predicate may also *fault* (malformed arguments, a value of the wrong type, a limit): the
//! evaluation then stops with a deny whose code names the fault. See `crate::eval`.
//!
//! # Compatibility
//!
//! A reader reads every minor up to its own and refuses newer ones (every byte is accounted
//! for, so an old reader cannot skip what it does not know). A new minor may change a section's
//! layout as long as a new reader still reads the older minors exactly as before: 1.1 added
//! ops, 1.2 lengthened META, 1.3 added the tool index to TOOLS. A change that breaks that
//! bumps `format_major`. Opcode, subject and outcome numbers are never reused.

/// The 8 magic bytes every artifact starts with. The `0x1a` stops `type` on old consoles and
/// makes accidental text-mode transfers fail loudly.
pub const MAGIC: [u8; 8] = *b"MCPPOL\0\x1a";
/// The major format version this runtime reads.
pub const FORMAT_MAJOR: u16 = 1;
/// The minor format version this runtime reads (and anything older). Minor 1 added the
/// hardened constraint ops (byte lengths, decimal bounds, URL port/path/SSRF, SQL functions and
/// tables, array quantifiers, path options); a minor-0 reader refuses such artifacts. Minor 2
/// added the policy's audit argument allowance to META (24 bytes instead of 16); this runtime
/// still reads 1.0 and 1.1 artifacts, whose allowance is [`audit_args::UNSTATED`]. Minor 3
/// added the hashed tool index to TOOLS (see [Tool dispatch](self#tool-dispatch)); this
/// runtime binary-searches the records of older artifacts.
pub const FORMAT_MINOR: u16 = 3;
/// The first minor whose TOOLS section carries the hashed index.
pub const TOOL_INDEX_MINOR: u16 = 3;
/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = 64;
/// Number of sections in a version 1 artifact.
pub const SECTION_COUNT: usize = 9;
/// Length of one section table entry in bytes.
pub const SECTION_ENTRY_LEN: usize = 12;
/// Byte offset of the checksum field in the header.
pub const CHECKSUM_OFFSET: usize = 24;
/// Byte offset of the content hash in the header.
pub const CONTENT_HASH_OFFSET: usize = 32;

/// Section kinds, in the order they appear.
pub mod section {
    /// Policy metadata.
    pub const META: u32 = 1;
    /// The string table.
    pub const STRINGS: u32 = 2;
    /// Sorted string sets.
    pub const SETS: u32 = 3;
    /// DFA blobs.
    pub const DFAS: u32 = 4;
    /// Rule metadata (id and source position).
    pub const RULES: u32 = 5;
    /// Outcomes: what a `DECIDE` node returns.
    pub const OUTCOMES: u32 = 6;
    /// Predicates tested by `TEST` nodes.
    pub const PREDICATES: u32 = 7;
    /// The decision DAG.
    pub const NODES: u32 = 8;
    /// Tool-name dispatch table.
    pub const TOOLS: u32 = 9;
}

/// Length of the META section (format 1.2 on).
pub const META_LEN: usize = 24;

/// Length of the META section in format 1.0 and 1.1 (no audit fields), which this runtime
/// still reads.
pub const META_LEN_1_1: usize = 16;

/// How much of a call's arguments an audit log may keep (META `audit_args`, format 1.2): the
/// most the policy allows. A sink may keep less, never more.
pub mod audit_args {
    /// The policy says nothing: the host decides.
    pub const UNSTATED: u32 = 0;
    /// Nothing, not even a digest.
    pub const NONE: u32 = 1;
    /// Only a digest of the canonical arguments.
    pub const DIGEST: u32 = 2;
    /// The arguments with the members named by the META `audit_redact` set replaced.
    pub const REDACTED: u32 = 3;
    /// The full arguments.
    pub const FULL: u32 = 4;
}

/// `audit_redact` when the policy names no fields to redact.
pub const NO_SET: u32 = u32::MAX;
/// Length of one RULES record.
pub const RULE_LEN: usize = 12;
/// Length of one OUTCOMES record.
pub const OUTCOME_LEN: usize = 16;
/// Length of one PREDICATES record.
pub const PREDICATE_LEN: usize = 16;
/// Length of one NODES record.
pub const NODE_LEN: usize = 16;
/// Length of one TOOLS record.
pub const TOOL_LEN: usize = 8;
/// Length of the TOOLS header (`count, seed, bucket_count, max_probe`), format 1.3 on.
pub const TOOLS_HEADER_LEN: usize = 16;
/// An empty bucket of the tool index.
pub const TOOL_EMPTY: u32 = u32::MAX;
/// The odd multiplier of [`tool_hash`] (2⁶⁴ divided by the golden ratio).
pub const TOOL_HASH_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// The tool index's hash of `name` with `seed` (normative: the compiler and every runtime must
/// compute the same value).
///
/// The state starts as `((seed << 32) ^ len) × M` (`M` = [`TOOL_HASH_MULTIPLIER`], all
/// arithmetic wrapping on `u64`, words read little-endian) and absorbs words `w` by
/// `state = rotate_left((state ^ w) × M, 32)`:
///
/// - length 0: no word;
/// - 1 to 3: one word, `name[0] | name[len / 2] << 8 | name[len - 1] << 16`;
/// - 4 to 7: one word, the first four bytes as a `u32` in the low half and the last four in the
///   high half (they overlap);
/// - 8 or more: each whole 8-byte chunk in order, then, if `len` is not a multiple of 8, the
///   last 8 bytes (overlapping the previous chunk).
///
/// Every byte of the name is in some word and the length is in the state, so names of the
/// same length that differ give different word sequences. The result is the high half of
/// `(state ^ (state >> 32)) × M`.
pub fn tool_hash(seed: u32, name: &[u8]) -> u32 {
    let len = name.len();
    let mut state = ((u64::from(seed) << 32) ^ len as u64).wrapping_mul(TOOL_HASH_MULTIPLIER);
    if len >= 8 {
        // The whole chunks but the last, then the last 8 bytes: the same words as "each whole
        // chunk, then the last 8 bytes if the length is not a multiple of 8", in one loop.
        let mut at = 0;
        while at + 8 < len {
            state = absorb(state, word_le(name.get(at..at + 8).unwrap_or(&[])));
            at += 8;
        }
        state = absorb(state, word_le(name.get(len - 8..).unwrap_or(&[])));
    } else if len >= 4 {
        let first = word_le(name.get(..4).unwrap_or(&[]));
        let last = word_le(name.get(len.saturating_sub(4)..).unwrap_or(&[]));
        state = absorb(state, first | last << 32);
    } else if let (Some(&first), Some(&middle), Some(&last)) =
        (name.first(), name.get(len / 2), name.last())
    {
        let word = u64::from(first) | u64::from(middle) << 8 | u64::from(last) << 16;
        state = absorb(state, word);
    }
    ((state ^ (state >> 32)).wrapping_mul(TOOL_HASH_MULTIPLIER) >> 32) as u32
}

/// One step of [`tool_hash`].
#[inline(always)]
fn absorb(state: u64, word: u64) -> u64 {
    (state ^ word).wrapping_mul(TOOL_HASH_MULTIPLIER).rotate_left(32)
}

/// Up to 8 bytes as a little-endian integer (missing high bytes are zero).
#[inline(always)]
fn word_le(bytes: &[u8]) -> u64 {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return u64::from_le_bytes(word);
    }
    if let Ok(word) = <[u8; 4]>::try_from(bytes) {
        return u64::from(u32::from_le_bytes(word));
    }
    bytes.iter().rev().fold(0, |word, &byte| word << 8 | u64::from(byte))
}

/// The "no rule" marker in an outcome's `rule` field.
pub const NO_RULE: u32 = u32::MAX;

/// Node kinds.
pub mod node {
    /// Test a predicate: `a` = predicate, `b` = next if true, `c` = next if false.
    pub const TEST: u8 = 1;
    /// Return an outcome: `a` = outcome index; `b` and `c` are 0.
    pub const DECIDE: u8 = 2;
}

/// Outcome kinds.
pub mod outcome {
    /// A rule matched: `rule` is its index.
    pub const RULE: u8 = 1;
    /// No rule matched: the policy's default decision.
    pub const DEFAULT: u8 = 2;
    /// The arguments broke the tool's declared argument schema.
    pub const SCHEMA: u8 = 3;
}

/// What a predicate looks at.
pub mod subject {
    /// The MCP method, e.g. `tools/call`.
    pub const METHOD: u8 = 1;
    /// The upstream server name.
    pub const SERVER: u8 = 2;
    /// The tool name (prompt name or resource URI for other methods).
    pub const TOOL: u8 = 3;
    /// The principal's id.
    pub const PRINCIPAL_ID: u8 = 4;
    /// The principal's roles (a list of strings).
    pub const PRINCIPAL_ROLES: u8 = 5;
    /// The argument at `path` (segments joined by NUL) in the arguments object.
    pub const ARG: u8 = 6;
    /// The arguments object itself.
    pub const ARGS: u8 = 7;
    /// The array element being tested by an `ARRAY_ALL`/`ARRAY_ANY` predicate; only such a
    /// predicate may refer to a predicate with this subject.
    pub const ELEMENT: u8 = 8;
}

/// Predicate operations. The table says which operands they use and when they fault.
pub mod op {
    /// String equals `a` (StrId).
    pub const STR_EQ: u8 = 1;
    /// String is in set `a`.
    pub const STR_IN: u8 = 2;
    /// String starts with `a` (StrId).
    pub const STR_PREFIX: u8 = 3;
    /// String ends with `a` (StrId).
    pub const STR_SUFFIX: u8 = 4;
    /// String contains `a` (StrId).
    pub const STR_CONTAINS: u8 = 5;
    /// String matches DFA `a` (unanchored regex or anchored glob, as compiled).
    pub const STR_MATCHES: u8 = 6;
    /// Character count `c` of the string, or element count of an array, compared: see flags.
    pub const LEN_CMP: u8 = 7;
    /// The normalised path (see `crate::path`) has one of the prefixes in set `a`.
    pub const PATH_PREFIX: u8 = 8;
    /// The normalised path matches DFA `a` (a path glob).
    pub const PATH_GLOB: u8 = 9;
    /// The URL's scheme (ASCII lowercase) is in set `a`.
    pub const URL_SCHEME: u8 = 10;
    /// The URL's host matches one of the host patterns in set `a` (see `crate::url`).
    pub const URL_HOST: u8 = 11;
    /// The SQL text's statement kinds are all in bit set `a` and it has between 1 and `b`
    /// statements.
    pub const SQL_ALLOW: u8 = 12;
    /// The number compared with the i64 `a | b << 32`: see flags.
    pub const INT_CMP: u8 = 13;
    /// The boolean equals `a != 0`.
    pub const BOOL_EQ: u8 = 14;
    /// The value is present (never faults).
    pub const EXISTS: u8 = 15;
    /// The JSON type of the value is in type mask `a` (see [`super::json_type`]).
    pub const TYPE_IS: u8 = 16;
    /// Every top-level key of the arguments object is in set `a`.
    pub const ONLY_KEYS: u8 = 17;
    /// The principal has role `a` (StrId).
    pub const ROLE_HAS: u8 = 18;
    /// The principal has at least one role in set `a`.
    pub const ROLE_ANY: u8 = 19;
    /// The URL has no IP-literal host (decimal, octal, hex or dotted forms).
    pub const URL_NAMED_HOST: u8 = 20;
    /// Byte length of the string compared with `a`: see flags.
    pub const BYTES_CMP: u8 = 21;
    /// The number compared exactly with the decimal text of string `a`: see flags.
    pub const NUM_CMP: u8 = 22;
    /// The URL's effective port, in decimal, is in set `a`.
    pub const URL_PORT: u8 = 23;
    /// The URL's path, percent-decoded and normalised, is under one of the prefixes in set `a`.
    pub const URL_PATH_PREFIX: u8 = 24;
    /// The URL's host is not an internal destination; a deny with a `url.ssrf_*` code if it is.
    pub const URL_SSRF: u8 = 25;
    /// The SQL text calls none of the functions in set `a`; a deny with `sql.function_denied`
    /// if it does.
    pub const SQL_FUNCTIONS_DENY: u8 = 26;
    /// Every table the SQL text references is in set `a`.
    pub const SQL_TABLES_IN: u8 = 27;
    /// No table the SQL text references is in set `a`.
    pub const SQL_TABLES_NOT_IN: u8 = 28;
    /// The value is an array and every element satisfies predicate `a` (subject `ELEMENT`).
    pub const ARRAY_ALL: u8 = 29;
    /// The value is an array and some element satisfies predicate `a` (subject `ELEMENT`).
    pub const ARRAY_ANY: u8 = 30;
}

/// Predicate flag bits.
pub mod flag {
    /// An absent argument makes the predicate false instead of a fault.
    pub const MISSING_IS_FALSE: u8 = 1;
    /// Mask of the comparison operator of `INT_CMP` and `LEN_CMP` (bits 1..=3).
    pub const CMP_MASK: u8 = 0b1110;
    /// Shift of the comparison operator.
    pub const CMP_SHIFT: u8 = 1;
    /// `SQL_ALLOW` also denies (with `sql.dangerous_function`) any call to a function in the
    /// runtime's built-in dangerous list.
    pub const SQL_DANGEROUS: u8 = 16;
    /// Every flag bit a version 1 reader understands.
    pub const ALL: u8 = MISSING_IS_FALSE | CMP_MASK | SQL_DANGEROUS;
}

/// Comparison operators stored in the flags of `INT_CMP` and `LEN_CMP`.
pub mod cmp {
    /// `==`
    pub const EQ: u8 = 0;
    /// `!=`
    pub const NE: u8 = 1;
    /// `<`
    pub const LT: u8 = 2;
    /// `<=`
    pub const LE: u8 = 3;
    /// `>`
    pub const GT: u8 = 4;
    /// `>=`
    pub const GE: u8 = 5;
}

/// Path option bits, in operand `b` of `PATH_PREFIX` and `PATH_GLOB` (see `crate::path`).
pub mod path_option {
    /// Windows style (`\` separates, drive letters, Windows name rules).
    pub const WINDOWS: u32 = 1;
    /// ASCII case folding.
    pub const CASE_INSENSITIVE: u32 = 2;
    /// The value is a URI path: percent-decode once first.
    pub const PERCENT_DECODE: u32 = 4;
    /// Every bit a reader understands.
    pub const ALL: u32 = 7;

    /// The normalisation options these bits stand for.
    pub const fn options(bits: u32) -> crate::path::PathOptions {
        crate::path::PathOptions {
            style: if bits & WINDOWS != 0 {
                crate::path::Style::Windows
            } else {
                crate::path::Style::Posix
            },
            case_insensitive: bits & CASE_INSENSITIVE != 0,
            percent_decode: bits & PERCENT_DECODE != 0,
        }
    }
}

/// JSON type bits for `TYPE_IS`.
pub mod json_type {
    /// `null`
    pub const NULL: u32 = 1;
    /// `true` or `false`
    pub const BOOLEAN: u32 = 2;
    /// A number with no fractional part (`5`, `5.0`, `5e0`).
    pub const INTEGER: u32 = 4;
    /// Any number (includes integers).
    pub const NUMBER: u32 = 8;
    /// A string.
    pub const STRING: u32 = 16;
    /// An array.
    pub const ARRAY: u32 = 32;
    /// An object.
    pub const OBJECT: u32 = 64;
    /// Every bit a version 1 reader understands.
    pub const ALL: u32 = 127;
}

/// CRC-32C (Castagnoli) of `bytes`, treating the 4 bytes at [`CHECKSUM_OFFSET`] as zero.
///
/// The checksum catches corruption (a truncated download, a bad disk); it is not an
/// authenticity check. Hosts that need authenticity compare [`crate::Program::content_hash`]
/// with a value they trust.
pub fn checksum(bytes: &[u8]) -> u32 {
    // The header, which holds the checksum field, byte by byte; the rest sixteen bytes at a
    // time (slice-by-16: one table lookup per byte, but sixteen independent ones per step
    // instead of a chain; loading is linear in the artifact and this is a third of it).
    let head_len = bytes.len().min(CHECKSUM_OFFSET + 4);
    let (head, body) = bytes.split_at(head_len);
    let mut crc = !0u32;
    for (index, &byte) in head.iter().enumerate() {
        let byte = if index >= CHECKSUM_OFFSET { 0 } else { byte };
        crc = crc_byte(crc, byte);
    }
    let mut chunks = body.chunks_exact(16);
    for chunk in chunks.by_ref() {
        let Ok([a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p]) = <[u8; 16]>::try_from(chunk)
        else {
            break;
        };
        let low = crc ^ u32::from_le_bytes([a, b, c, d]);
        let [l0, l1, l2, l3] = low.to_le_bytes();
        crc = (crc_table(15, l0) ^ crc_table(14, l1) ^ crc_table(13, l2) ^ crc_table(12, l3))
            ^ (crc_table(11, e) ^ crc_table(10, f) ^ crc_table(9, g) ^ crc_table(8, h))
            ^ (crc_table(7, i) ^ crc_table(6, j) ^ crc_table(5, k) ^ crc_table(4, l))
            ^ (crc_table(3, m) ^ crc_table(2, n) ^ crc_table(1, o) ^ crc_table(0, p));
    }
    for &byte in chunks.remainder() {
        crc = crc_byte(crc, byte);
    }
    !crc
}

/// One byte of CRC-32C.
fn crc_byte(crc: u32, byte: u8) -> u32 {
    (crc >> 8) ^ crc_table(0, (crc as u8) ^ byte)
}

/// Entry `index` of slice-by-16 table `table` (every `index` exists; `table` is below 16).
#[inline(always)]
fn crc_table(table: usize, index: u8) -> u32 {
    CRC32C_TABLES.get(table).and_then(|t| t.get(usize::from(index))).copied().unwrap_or(0)
}

/// The slice-by-16 CRC-32C tables (16 KiB), computed at compile time: table 0 is the
/// byte-at-a-time table, and table `k` is the CRC of a byte followed by `k` zero bytes.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated by the compiler: an out-of-range index would fail the build, not panic"
)]
static CRC32C_TABLES: [[u32; 256]; 16] = {
    let mut tables = [[0u32; 256]; 16];
    let mut index = 0;
    while index < 256 {
        let mut crc = index as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
            bit += 1;
        }
        tables[0][index] = crc;
        index += 1;
    }
    let mut table = 1;
    while table < 16 {
        let mut index = 0;
        while index < 256 {
            let previous = tables[table - 1][index];
            tables[table][index] = (previous >> 8) ^ tables[0][(previous & 0xff) as usize];
            index += 1;
        }
        table += 1;
    }
    tables
};

/// Reads a little-endian `u32` at `offset`, or `None` past the end.
#[inline(always)]
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    Some(u32::from_le_bytes(<[u8; 4]>::try_from(bytes.get(offset..end)?).ok()?))
}

/// Reads a little-endian `u16` at `offset`, or `None` past the end.
pub(crate) fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let end = offset.checked_add(2)?;
    let slice = bytes.get(offset..end)?;
    Some(u16::from_le_bytes([*slice.first()?, *slice.get(1)?]))
}

/// Reads the byte at `offset`, or `None` past the end.
pub(crate) fn read_u8(bytes: &[u8], offset: usize) -> Option<u8> {
    bytes.get(offset).copied()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // The CRC-32C check value of "123456789" is 0xE3069283 (RFC 3720, appendix B.4).
        // Our checksum zeroes bytes 24..28, which this 9-byte input does not reach.
        assert_eq!(checksum(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn slice_by_8_matches_byte_at_a_time() {
        // The reference: the plain bitwise definition, byte by byte.
        fn reference(bytes: &[u8]) -> u32 {
            let mut crc = !0u32;
            for (index, &byte) in bytes.iter().enumerate() {
                let byte =
                    if (CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4).contains(&index) { 0 } else { byte };
                crc ^= u32::from(byte);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
                }
            }
            !crc
        }
        let data: Vec<u8> =
            (0u32..300).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(checksum(&data[..len]), reference(&data[..len]), "length {len}");
        }
    }

    /// Pinned values, computed by an independent implementation of the documented definition:
    /// the hash is part of the format, so changing it breaks every 1.3 artifact.
    #[test]
    fn tool_hash_matches_its_definition() {
        let cases: [(u32, &[u8], u32); 8] = [
            (0, b"", 0x0000_0000),
            (0, b"a", 0xabc6_269d),
            (1, b"a", 0x063d_3c3f),
            (0, b"abc", 0x0aaa_863e),
            (0, b"fs.read", 0x7259_7d5b),
            (7, b"tool_9999", 0x53d8_d558),
            (0, b"sixteen_bytes_ab", 0x2cfe_a5ab),
            (u32::MAX, "\u{30d5}\u{30a1}\u{30a4}\u{30eb}".as_bytes(), 0x7fa7_9cec),
        ];
        for (seed, name, expected) in cases {
            assert_eq!(tool_hash(seed, name), expected, "{seed} {name:?}");
        }
    }

    /// Every byte of a name reaches the hash: changing any one byte of names of every length
    /// up to 40 changes it (for these inputs; a 32-bit hash can collide in general, which only
    /// costs a probe).
    #[test]
    fn tool_hash_reads_every_byte() {
        for len in 1..=40usize {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let hash = tool_hash(3, &name);
            for at in 0..len {
                let mut changed = name.clone();
                changed[at] ^= 0x20;
                assert_ne!(tool_hash(3, &changed), hash, "length {len}, byte {at}");
            }
            assert_ne!(tool_hash(3, &name[..len - 1]), hash, "length {len}, truncated");
        }
    }

    #[test]
    fn checksum_ignores_its_own_field() {
        let mut bytes = [7u8; 40];
        let before = checksum(&bytes);
        bytes[CHECKSUM_OFFSET] = 0xAA;
        bytes[CHECKSUM_OFFSET + 3] = 0x55;
        assert_eq!(checksum(&bytes), before);
        bytes[0] = 0;
        assert_ne!(checksum(&bytes), before);
    }
}
