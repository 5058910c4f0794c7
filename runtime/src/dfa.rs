//! Portable DFA tables: the wire format, its verifier and the matcher.
//!
//! Every regex and glob in a policy is compiled offline (by the compiler's DFA builder, which uses
//! `regex-automata`) into one *DFA blob* in the format below. The runtime never runs a regex
//! engine: it verifies each blob once with [`Dfa::from_bytes`] and then answers
//! [`Dfa::is_match`] by walking the table, one table look-up per haystack byte.
//!
//! This module is `no_std`, allocation-free and `unsafe`-free, and nothing in it can panic on
//! any input: a blob is any `&[u8]` (no alignment is assumed, hostile bytes are expected), and
//! once verification succeeds every id stored in the blob is proven to be in range.
//!
//! # Wire format (version 1)
//!
//! All integers are little-endian and unaligned. With `S` = `state_count` and
//! `C` = `class_count`:
//!
//! | offset               | type                | field                                        |
//! |----------------------|---------------------|----------------------------------------------|
//! | 0                    | `u32`               | `state_count` `S`, `2 ..= DFA_STATES_MAX`    |
//! | 4                    | `u32`               | `class_count` `C`, `1 ..= 256`               |
//! | 8                    | `u32`               | `start_state`, `< S`                         |
//! | 12                   | `[u8; 256]`         | class map: byte `b` belongs to class `map[b]`, every entry `< C` |
//! | 268                  | `[u16; S * C]`      | transitions, row-major by state: the successor of state `s` on class `c` is entry `s * C + c`; every entry `< S` |
//! | `268 + 2*S*C`        | `[u8; S]`           | state flags                                  |
//!
//! The total length must be exactly [`encoded_len`]`(S, C)` = `268 + 2*S*C + S` bytes, and at
//! most [`DFA_BYTES_MAX`]. Nothing may follow the flags.
//!
//! State `0` is the *dead* state: its row is all zeros (dead stays dead) and its flags are `0`.
//! Other states may also have an all-zero row (a never-matching start state does).
//!
//! Flags (all other bits must be zero):
//!
//! - [`FLAG_MATCH`] (bit 0): entering this state means the haystack matches, whatever follows.
//!   The builder sets it on `regex-automata`'s *delayed* match states (a match ended just before
//!   the byte whose transition led here), and folds into them every state from which each
//!   continuation matches (so a match may be reported a byte before `regex-automata` would). The
//!   matcher stops at the first such state, so the row of a `MATCH` state is never read (the
//!   builder makes it a self-loop) and neither is its `EOI_MATCH` bit (the builder sets it). The
//!   start state's `MATCH` bit is never read either (the builder never sets it).
//! - [`FLAG_EOI_MATCH`] (bit 1): if the haystack ends while in this state, there is a match
//!   ending at the end of the haystack (the end-of-input transition of `regex-automata` leads to
//!   a match state).
//!
//! # Matching
//!
//! [`Dfa::is_match`] has *unanchored* search semantics: it answers whether the regex the blob
//! was built from matches anywhere in the haystack (anchors such as `^`, `$`, `\A`, `\z` and
//! ASCII word boundaries are already encoded in the table by the builder). It runs:
//!
//! ```text
//! s = start_state
//! for b in haystack:
//!     s = transitions[s * C + class_map[b]]
//!     if flags[s] & MATCH: return true
//!     if s == 0: return false          // dead: no match can follow
//! return flags[s] & EOI_MATCH != 0
//! ```
//!
//! # Verification
//!
//! [`Dfa::from_bytes`] checks, in this order: the length is at least [`HEADER_LEN`]
//! ([`DfaError::Truncated`]) and at most [`DFA_BYTES_MAX`] ([`DfaError::TooLarge`]);
//! `state_count` ([`DfaError::BadStateCount`], [`DfaError::TooManyStates`]); `class_count`
//! ([`DfaError::BadClassCount`]); `start_state` ([`DfaError::BadStart`]); the exact total length
//! ([`DfaError::LengthMismatch`]); the class map ([`DfaError::BadClass`]); the transitions
//! ([`DfaError::DeadStateNotDead`] for row 0, [`DfaError::BadTransition`] for the others); the
//! flags ([`DfaError::DeadStateNotDead`] for state 0, [`DfaError::BadFlags`] for the others).
//! The first failing check is reported.
#![deny(clippy::indexing_slicing, clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

use core::fmt;

/// Largest allowed `state_count` (state ids are `u16`, so the largest id is `65_534`).
pub const DFA_STATES_MAX: usize = 65_535;
/// Largest allowed blob length in bytes.
pub const DFA_BYTES_MAX: usize = 1 << 20;
/// Largest allowed `class_count`.
pub const DFA_CLASSES_MAX: usize = 256;
/// Byte offset of the `state_count` field.
pub const STATE_COUNT_OFFSET: usize = 0;
/// Byte offset of the `class_count` field.
pub const CLASS_COUNT_OFFSET: usize = 4;
/// Byte offset of the `start_state` field.
pub const START_STATE_OFFSET: usize = 8;
/// Byte offset of the 256-entry class map.
pub const CLASS_MAP_OFFSET: usize = 12;
/// Length of the fixed header (three `u32` fields and the class map); the transitions start here.
pub const HEADER_LEN: usize = 268;
/// Id of the dead state.
pub const DEAD_STATE: u16 = 0;
/// State flag: entering this state means a match was found (delayed by one byte).
pub const FLAG_MATCH: u8 = 1 << 0;
/// State flag: the haystack ending in this state means a match ending at the end.
pub const FLAG_EOI_MATCH: u8 = 1 << 1;
/// All defined state flag bits; any other bit makes a blob invalid.
pub const FLAGS_ALL: u8 = FLAG_MATCH | FLAG_EOI_MATCH;

/// The exact blob length for `state_count` states and `class_count` classes:
/// `HEADER_LEN + 2 * state_count * class_count + state_count`, or `None` on overflow.
///
/// This does not check the ranges of its arguments.
#[must_use]
pub const fn encoded_len(state_count: usize, class_count: usize) -> Option<usize> {
    let Some(cells) = state_count.checked_mul(class_count) else { return None };
    let Some(trans) = cells.checked_mul(2) else { return None };
    let Some(with_header) = trans.checked_add(HEADER_LEN) else { return None };
    with_header.checked_add(state_count)
}

/// Why a DFA blob was rejected by [`Dfa::from_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DfaError {
    /// The blob is shorter than the fixed header ([`HEADER_LEN`] bytes).
    Truncated,
    /// The blob is longer than [`DFA_BYTES_MAX`].
    TooLarge,
    /// `state_count` is below 2 (a DFA has at least a dead state and a start state).
    BadStateCount,
    /// `state_count` is above [`DFA_STATES_MAX`].
    TooManyStates,
    /// `class_count` is 0 or above 256.
    BadClassCount,
    /// `start_state` is not below `state_count`.
    BadStart,
    /// The blob length is not exactly [`encoded_len`] of its header.
    LengthMismatch,
    /// The class map sends `byte` to a class not below `class_count`.
    BadClass {
        /// The byte whose class is out of range.
        byte: u8,
    },
    /// A transition of `state` leads to a state not below `state_count`.
    BadTransition {
        /// The state whose row holds the bad transition.
        state: u32,
    },
    /// The flags of `state` have a bit outside [`FLAGS_ALL`] set.
    BadFlags {
        /// The state with the bad flags.
        state: u32,
    },
    /// State 0 has a transition to another state, or non-zero flags.
    DeadStateNotDead,
}

impl DfaError {
    /// A stable machine-readable code for this error, e.g. `"dfa.bad_transition"`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Truncated => "dfa.truncated",
            Self::TooLarge => "dfa.too_large",
            Self::BadStateCount => "dfa.bad_state_count",
            Self::TooManyStates => "dfa.too_many_states",
            Self::BadClassCount => "dfa.bad_class_count",
            Self::BadStart => "dfa.bad_start",
            Self::LengthMismatch => "dfa.length_mismatch",
            Self::BadClass { .. } => "dfa.bad_class",
            Self::BadTransition { .. } => "dfa.bad_transition",
            Self::BadFlags { .. } => "dfa.bad_flags",
            Self::DeadStateNotDead => "dfa.dead_state_not_dead",
        }
    }
}

impl fmt::Display for DfaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "dfa is shorter than its {HEADER_LEN}-byte header"),
            Self::TooLarge => write!(f, "dfa is longer than {DFA_BYTES_MAX} bytes"),
            Self::BadStateCount => f.write_str("dfa has fewer than 2 states"),
            Self::TooManyStates => write!(f, "dfa has more than {DFA_STATES_MAX} states"),
            Self::BadClassCount => {
                write!(f, "dfa class count is not between 1 and {DFA_CLASSES_MAX}")
            }
            Self::BadStart => f.write_str("dfa start state is out of range"),
            Self::LengthMismatch => f.write_str("dfa length does not match its header"),
            Self::BadClass { byte } => write!(f, "dfa class of byte 0x{byte:02x} is out of range"),
            Self::BadTransition { state } => {
                write!(f, "dfa state {state} has a transition out of range")
            }
            Self::BadFlags { state } => write!(f, "dfa state {state} has undefined flag bits"),
            Self::DeadStateNotDead => f.write_str("dfa state 0 is not a dead state"),
        }
    }
}

impl core::error::Error for DfaError {}

/// A verified DFA blob: a zero-copy view of the bytes given to [`Dfa::from_bytes`].
#[derive(Clone, Copy, Debug)]
pub struct Dfa<'a> {
    /// The whole blob.
    bytes: &'a [u8],
    /// The class map.
    classes: &'a [u8; 256],
    /// The transition table: `2 * state_count * class_count` bytes.
    trans: &'a [u8],
    /// The state flags: `state_count` bytes.
    flags: &'a [u8],
    /// Number of states, `2 ..= DFA_STATES_MAX`.
    state_count: usize,
    /// Number of classes, `1 ..= 256`.
    class_count: usize,
    /// Start state, `< state_count`.
    start: usize,
}

/// Reads the little-endian `u32` at `offset`, if the slice is long enough.
fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    match bytes.get(offset..offset.checked_add(4)?) {
        Some(&[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
        _ => None,
    }
}

impl<'a> Dfa<'a> {
    /// Verifies `bytes` as a DFA blob (see the [module documentation](self) for the format
    /// and the order of the checks) and returns a view of it.
    ///
    /// Runs in time linear in the blob length; never panics.
    ///
    /// # Errors
    ///
    /// The first [`DfaError`] found, in the order of the module documentation.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Dfa<'a>, DfaError> {
        let dfa = Self::layout(bytes)?;
        dfa.verify_tables()?;
        Ok(dfa)
    }

    /// A view of a blob that [`Dfa::from_bytes`] already accepted, without re-checking the
    /// tables: O(1), for the evaluator, which meets the same verified blob on every request.
    /// Reads stay bounds-checked, so even a wrong blob could not cause a panic.
    pub(crate) fn from_verified(bytes: &'a [u8]) -> Option<Dfa<'a>> {
        Self::layout(bytes).ok()
    }

    /// Checks the header and lengths and splits the blob; O(1).
    fn layout(bytes: &'a [u8]) -> Result<Dfa<'a>, DfaError> {
        if bytes.len() < HEADER_LEN {
            return Err(DfaError::Truncated);
        }
        if bytes.len() > DFA_BYTES_MAX {
            return Err(DfaError::TooLarge);
        }
        let field = |offset| read_u32(bytes, offset).ok_or(DfaError::Truncated);
        let state_count = field(STATE_COUNT_OFFSET)?;
        let class_count = field(CLASS_COUNT_OFFSET)?;
        let start = field(START_STATE_OFFSET)?;
        if state_count < 2 {
            return Err(DfaError::BadStateCount);
        }
        let state_count = usize::try_from(state_count).map_err(|_| DfaError::TooManyStates)?;
        if state_count > DFA_STATES_MAX {
            return Err(DfaError::TooManyStates);
        }
        let class_count = usize::try_from(class_count).map_err(|_| DfaError::BadClassCount)?;
        if class_count == 0 || class_count > DFA_CLASSES_MAX {
            return Err(DfaError::BadClassCount);
        }
        let start = usize::try_from(start).map_err(|_| DfaError::BadStart)?;
        if start >= state_count {
            return Err(DfaError::BadStart);
        }
        if encoded_len(state_count, class_count) != Some(bytes.len()) {
            return Err(DfaError::LengthMismatch);
        }
        // The length matched, so these splits cannot fail; map failure to the same error anyway.
        let (header, rest) = bytes.split_at_checked(HEADER_LEN).ok_or(DfaError::LengthMismatch)?;
        let classes: &'a [u8; 256] = header
            .get(CLASS_MAP_OFFSET..HEADER_LEN)
            .and_then(|map| map.try_into().ok())
            .ok_or(DfaError::Truncated)?;
        let row_len = class_count.checked_mul(2).ok_or(DfaError::LengthMismatch)?;
        let trans_len = row_len.checked_mul(state_count).ok_or(DfaError::LengthMismatch)?;
        let (trans, flags) = rest.split_at_checked(trans_len).ok_or(DfaError::LengthMismatch)?;
        if flags.len() != state_count {
            return Err(DfaError::LengthMismatch);
        }
        Ok(Dfa { bytes, classes, trans, flags, state_count, class_count, start })
    }

    /// Checks every class, transition and flag; linear in the blob length.
    fn verify_tables(&self) -> Result<(), DfaError> {
        let Dfa { classes, trans, flags, state_count, class_count, .. } = *self;
        let row_len = class_count.checked_mul(2).ok_or(DfaError::LengthMismatch)?;
        // Each check is a maximum (or an OR) over a whole table or row, which the compiler can
        // do many bytes at a time; the offending entry is looked up only on failure.
        if classes.iter().copied().max().is_some_and(|max| usize::from(max) >= class_count) {
            let byte = (0..=u8::MAX)
                .zip(classes.iter())
                .find(|&(_, &class)| usize::from(class) >= class_count)
                .map_or(0, |(byte, _)| byte);
            return Err(DfaError::BadClass { byte });
        }
        // `state_count <= DFA_STATES_MAX < u32::MAX`, so the `u32` range is exact.
        for (state, row) in (0..u32::MAX).zip(trans.chunks_exact(row_len)) {
            let (max, any) = row.chunks_exact(2).fold((0u16, 0u16), |(max, any), cell| {
                let next = match *cell {
                    [lo, hi] => u16::from_le_bytes([lo, hi]),
                    _ => u16::MAX,
                };
                (max.max(next), any | next)
            });
            // The dead state only goes to itself (state 0).
            if state == 0 && any != 0 {
                return Err(DfaError::DeadStateNotDead);
            }
            if usize::from(max) >= state_count {
                return Err(DfaError::BadTransition { state });
            }
        }
        for (state, &flag) in (0..u32::MAX).zip(flags.iter()) {
            if state == 0 && flag != 0 {
                return Err(DfaError::DeadStateNotDead);
            }
            if flag & !FLAGS_ALL != 0 {
                return Err(DfaError::BadFlags { state });
            }
        }
        Ok(())
    }

    /// Whether the regex this DFA was built from matches anywhere in `haystack` (unanchored
    /// search, like `regex::bytes::Regex::is_match`; anchors are part of the table).
    ///
    /// Reads at most every byte of `haystack` once and stops early at the first match or when
    /// no match is possible any more. Never panics: every table read is checked, and a failed
    /// read returns `false`, but [`Dfa::from_bytes`] proved every read in range, so that
    /// branch is unreachable.
    #[inline]
    #[must_use]
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        let classes = self.classes;
        let trans = self.trans;
        let flags = self.flags;
        // Bytes per row. Verification proved `2 * state_count * class_count` fits in `usize`
        // (it is part of the blob length), and every state id is `< state_count`, so none of
        // the wrapping operations below ever wraps.
        let row_len = self.class_count.wrapping_mul(2);
        let mut state = self.start;
        for &byte in haystack {
            let Some(&class) = classes.get(usize::from(byte)) else { return false };
            let cell = state.wrapping_mul(row_len).wrapping_add(usize::from(class).wrapping_mul(2));
            state = match trans.get(cell..cell.wrapping_add(2)) {
                Some(&[lo, hi]) => usize::from(u16::from_le_bytes([lo, hi])),
                _ => return false,
            };
            let Some(&flag) = flags.get(state) else { return false };
            if flag & FLAG_MATCH != 0 {
                return true;
            }
            if state == usize::from(DEAD_STATE) {
                return false;
            }
        }
        flags.get(state).is_some_and(|&flag| flag & FLAG_EOI_MATCH != 0)
    }

    /// Number of states, dead state included.
    #[must_use]
    pub const fn state_count(&self) -> usize {
        self.state_count
    }

    /// Number of byte classes.
    #[must_use]
    pub const fn class_count(&self) -> usize {
        self.class_count
    }

    /// Length of the blob in bytes.
    #[allow(clippy::len_without_is_empty, reason = "a verified blob is never empty")]
    #[must_use]
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The verified blob.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    // Needed in the `no_std` runtime crate; redundant (and so linted) in a `std` crate.
    #[allow(unused_extern_crates, reason = "the runtime crate is no_std")]
    extern crate std;

    use super::*;
    use std::vec::Vec;

    /// Encodes a blob from its parts, without checking anything.
    fn encode(
        header: [u32; 3],
        class_map: &dyn Fn(u8) -> u8,
        trans: &[u16],
        flags: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        for field in header {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend((0..=255u8).map(class_map));
        for &t in trans {
            out.extend_from_slice(&t.to_le_bytes());
        }
        out.extend_from_slice(flags);
        out
    }

    /// The unanchored DFA for `a`: 0 dead, 1 start, 2 after `a` (match pending), 3 match.
    fn dfa_a() -> Vec<u8> {
        encode(
            [4, 2, 1],
            &|b| u8::from(b == b'a'),
            &[0, 0, 1, 2, 3, 3, 3, 3],
            &[0, 0, FLAG_EOI_MATCH, FLAG_MATCH | FLAG_EOI_MATCH],
        )
    }

    /// Byte offset of transition `(state, class)` in a blob with `classes` classes.
    fn cell(classes: usize, state: usize, class: usize) -> usize {
        HEADER_LEN + 2 * (state * classes + class)
    }

    #[test]
    fn valid_blob_round_trip_and_matching() {
        let blob = dfa_a();
        assert_eq!(blob.len(), encoded_len(4, 2).unwrap());
        let dfa = Dfa::from_bytes(&blob).unwrap();
        assert_eq!((dfa.state_count(), dfa.class_count(), dfa.len()), (4, 2, blob.len()));
        assert_eq!(dfa.as_bytes(), &blob[..]);
        for (hay, want) in [
            (&b""[..], false),
            (b"b", false),
            (b"bbb", false),
            (b"a", true),
            (b"ba", true),
            (b"ab", true),
            (b"xxxaxxx", true),
            (b"\xff\x00a", true),
        ] {
            assert_eq!(dfa.is_match(hay), want, "{hay:?}");
        }
    }

    #[test]
    fn dead_state_stops_the_scan() {
        // `^a` anchored: 0 dead, 1 start, 2 after `a`, 3 match.
        let blob = encode(
            [4, 2, 1],
            &|b| u8::from(b == b'a'),
            &[0, 0, 0, 2, 3, 3, 3, 3],
            &[0, 0, FLAG_EOI_MATCH, FLAG_MATCH | FLAG_EOI_MATCH],
        );
        let dfa = Dfa::from_bytes(&blob).unwrap();
        assert!(dfa.is_match(b"a"));
        assert!(dfa.is_match(b"ab"));
        assert!(!dfa.is_match(b"ba"));
        assert!(!dfa.is_match(b""));
    }

    #[test]
    fn never_matching_and_always_matching() {
        let never = encode([2, 1, 1], &|_| 0, &[0, 0], &[0, 0]);
        let dfa = Dfa::from_bytes(&never).unwrap();
        assert!(!dfa.is_match(b""));
        assert!(!dfa.is_match(b"anything"));
        // The empty regex: matches at the end of every haystack and before every byte.
        let always = encode([3, 1, 1], &|_| 0, &[0, 2, 2], &[0, FLAG_EOI_MATCH, FLAGS_ALL]);
        let dfa = Dfa::from_bytes(&always).unwrap();
        assert!(dfa.is_match(b""));
        assert!(dfa.is_match(b"x"));
    }

    fn reject(blob: &[u8]) -> DfaError {
        Dfa::from_bytes(blob).unwrap_err()
    }

    fn with_u32(mut blob: Vec<u8>, offset: usize, value: u32) -> Vec<u8> {
        blob[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        blob
    }

    #[test]
    fn rejects_truncated() {
        assert_eq!(reject(&[]), DfaError::Truncated);
        assert_eq!(reject(&dfa_a()[..HEADER_LEN - 1]), DfaError::Truncated);
    }

    #[test]
    fn rejects_too_large() {
        let mut blob = dfa_a();
        blob.resize(DFA_BYTES_MAX + 1, 0);
        assert_eq!(reject(&blob), DfaError::TooLarge);
    }

    #[test]
    fn rejects_bad_state_count() {
        assert_eq!(reject(&with_u32(dfa_a(), 0, 0)), DfaError::BadStateCount);
        assert_eq!(reject(&with_u32(dfa_a(), 0, 1)), DfaError::BadStateCount);
    }

    #[test]
    fn rejects_too_many_states() {
        assert_eq!(reject(&with_u32(dfa_a(), 0, 65_536)), DfaError::TooManyStates);
        assert_eq!(reject(&with_u32(dfa_a(), 0, u32::MAX)), DfaError::TooManyStates);
    }

    #[test]
    fn rejects_bad_class_count() {
        assert_eq!(reject(&with_u32(dfa_a(), 4, 0)), DfaError::BadClassCount);
        assert_eq!(reject(&with_u32(dfa_a(), 4, 257)), DfaError::BadClassCount);
        assert_eq!(reject(&with_u32(dfa_a(), 4, u32::MAX)), DfaError::BadClassCount);
    }

    #[test]
    fn rejects_bad_start() {
        assert_eq!(reject(&with_u32(dfa_a(), 8, 4)), DfaError::BadStart);
        assert_eq!(reject(&with_u32(dfa_a(), 8, u32::MAX)), DfaError::BadStart);
    }

    #[test]
    fn rejects_length_mismatch() {
        let mut longer = dfa_a();
        longer.push(0);
        assert_eq!(reject(&longer), DfaError::LengthMismatch);
        let blob = dfa_a();
        assert_eq!(reject(&blob[..blob.len() - 1]), DfaError::LengthMismatch);
        // A header claiming 3 states over a 4-state body.
        assert_eq!(reject(&with_u32(dfa_a(), 0, 3)), DfaError::LengthMismatch);
        // The largest header: far longer than the blob.
        let huge = with_u32(with_u32(dfa_a(), 0, 65_535), 4, 256);
        assert_eq!(reject(&huge), DfaError::LengthMismatch);
    }

    #[test]
    fn rejects_bad_class() {
        let mut blob = dfa_a();
        blob[CLASS_MAP_OFFSET + 0x7f] = 2;
        assert_eq!(reject(&blob), DfaError::BadClass { byte: 0x7f });
        blob[CLASS_MAP_OFFSET + 0x7f] = 0xff;
        assert_eq!(reject(&blob), DfaError::BadClass { byte: 0x7f });
    }

    #[test]
    fn rejects_bad_transition() {
        let mut blob = dfa_a();
        blob[cell(2, 2, 1)] = 4;
        assert_eq!(reject(&blob), DfaError::BadTransition { state: 2 });
        let mut blob = dfa_a();
        blob[cell(2, 3, 0) + 1] = 0x01; // 3 + 256
        assert_eq!(reject(&blob), DfaError::BadTransition { state: 3 });
    }

    #[test]
    fn rejects_dead_state_not_dead() {
        let mut blob = dfa_a();
        blob[cell(2, 0, 1)] = 1;
        assert_eq!(reject(&blob), DfaError::DeadStateNotDead);
        let mut blob = dfa_a();
        blob[cell(2, 0, 0) + 1] = 0xff;
        assert_eq!(reject(&blob), DfaError::DeadStateNotDead);
        let mut blob = dfa_a();
        let flags = blob.len() - 4;
        blob[flags] = FLAG_EOI_MATCH;
        assert_eq!(reject(&blob), DfaError::DeadStateNotDead);
    }

    #[test]
    fn rejects_bad_flags() {
        let mut blob = dfa_a();
        let last = blob.len() - 1;
        blob[last] |= 0x04;
        assert_eq!(reject(&blob), DfaError::BadFlags { state: 3 });
        blob[last] = 0x80;
        assert_eq!(reject(&blob), DfaError::BadFlags { state: 3 });
    }

    #[test]
    fn error_codes_and_messages() {
        let all = [
            DfaError::Truncated,
            DfaError::TooLarge,
            DfaError::BadStateCount,
            DfaError::TooManyStates,
            DfaError::BadClassCount,
            DfaError::BadStart,
            DfaError::LengthMismatch,
            DfaError::BadClass { byte: 0x41 },
            DfaError::BadTransition { state: 7 },
            DfaError::BadFlags { state: 7 },
            DfaError::DeadStateNotDead,
        ];
        let mut codes: Vec<&str> = all.iter().map(DfaError::code).collect();
        for code in &codes {
            assert!(
                code.starts_with("dfa.")
                    && code.bytes().all(|b| b == b'.' || b == b'_' || b.is_ascii_lowercase())
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for err in all {
            let msg = std::format!("{err}");
            assert!(msg.starts_with("dfa "), "{msg}");
            assert!(!msg.ends_with('.'), "{msg}");
        }
        assert_eq!(
            std::format!("{}", DfaError::BadClass { byte: 0x41 }),
            "dfa class of byte 0x41 is out of range"
        );
    }

    #[test]
    fn every_mutation_and_truncation_is_safe() {
        let blob = dfa_a();
        let hays: [&[u8]; 4] = [b"", b"a", b"ba", b"\xff\xfea\x00"];
        for len in 0..blob.len() {
            assert!(Dfa::from_bytes(&blob[..len]).is_err());
        }
        let mut accepted = 0;
        for pos in 0..blob.len() {
            for value in 0..=255u8 {
                let mut mutated = blob.clone();
                mutated[pos] = value;
                if let Ok(dfa) = Dfa::from_bytes(&mutated) {
                    accepted += 1;
                    for hay in hays {
                        let _ = dfa.is_match(hay);
                    }
                }
            }
        }
        // Class map entries 0/1 and in-range transitions/flags stay valid.
        assert!(accepted > blob.len());
    }
}
