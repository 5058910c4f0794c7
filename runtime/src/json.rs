//! Strict JSON scanner for the `arguments` object of an MCP tool call.
//!
//! A policy judges what this scanner reads while the tool acts on what its own parser reads. The
//! scanner therefore accepts only documents whose meaning no conforming parser can dispute, and
//! rejects the rest instead of guessing. It never allocates, recurses or panics, on any input,
//! and it reads the input once, forward; only the duplicate check looks back, at earlier keys
//! of the same object whose hashes are equal.
//!
//! # Accepted
//!
//! Exactly RFC 8259 JSON text whose root is an object:
//! - whitespace is space, tab, LF and CR only, before and after the root and between tokens;
//!   nothing else may follow the root (a byte-order mark is not whitespace, so it is rejected);
//! - literals are `true`, `false` and `null`, lowercase;
//! - numbers follow the RFC grammar exactly, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`,
//!   so `+1`, `01`, `.5`, `1.`, `1e`, `NaN` and `Infinity` are syntax errors. Any magnitude and
//!   precision is accepted (`1e999999999999`, forty-digit integers) and kept as text:
//!   [`JsonNumber`] compares it exactly in decimal, never through a float, so it means the same
//!   number to the policy whatever the tool's parser rounds it to;
//! - strings are valid UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing above
//!   U+10FFFF) with the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`; a high surrogate escape must be
//!   followed at once by a low one and the pair stands for one scalar value. `\u0000` is
//!   accepted: it is a valid scalar value, and the unescaped bytes then contain a NUL.
//!
//! Unescaped strings are therefore always valid UTF-8, and two strings are the same key or the
//! same value exactly when their unescaped bytes are equal.
//!
//! # Rejected, and why
//!
//! Each rule has its own [`JsonError`]; offsets count bytes from the start of the input.
//! - [`JsonError::TooLarge`]: more than [`ARGS_BYTES_MAX`] bytes. Checked before anything else,
//!   so the cost of every other check is bounded by it, and every offset fits in a `u32`.
//! - [`JsonError::NotAnObject`]: the first byte after leading whitespace is not `{` (including
//!   an empty input). MCP tool arguments are an object; nothing after that byte is read.
//! - [`JsonError::Syntax`]: anything else outside the grammar, at the offending byte, or at the
//!   input length when the input ends early (an unterminated string included).
//! - [`JsonError::DuplicateKey`]: two members of one object, at any depth, with equal unescaped
//!   keys (`{"a":1,"\u0061":2}`), at the second key's opening quote. Parsers disagree on which
//!   member wins, so a policy could check one value while the tool receives the other.
//! - [`JsonError::DepthExceeded`]: an array or object opened at depth [`JSON_DEPTH_MAX`] + 1
//!   (the root object is depth 1), at its opening bracket.
//! - [`JsonError::TooManyValues`]: more than [`JSON_VALUES_MAX`] values, or more than the caller's
//!   tape holds. Every value, containers and the root included, is one tape entry.
//! - [`JsonError::TooManyKeys`]: an object with more than [`OBJECT_KEYS_MAX`] members, at the
//!   opening quote of the first key too many. This bounds the duplicate check (below).
//! - [`JsonError::KeyTooLong`]: an object key longer than [`KEY_BYTES_MAX`] raw bytes, at its
//!   opening quote. This bounds the duplicate check too.
//! - [`JsonError::InvalidUtf8`]: a string holds a byte sequence that is not UTF-8, at its first
//!   byte. Parsers that replace such bytes with U+FFFD would otherwise see another string.
//!   Non-ASCII bytes outside strings are syntax errors.
//! - [`JsonError::InvalidEscape`]: a backslash not followed by one of the escapes above, or `\u`
//!   not followed by four hex digits, at the backslash.
//! - [`JsonError::LoneSurrogate`]: a `\uD800`–`\uDBFF` escape not followed by a `\uDC00`–`\uDFFF`
//!   escape, or a `\uDC00`–`\uDFFF` escape not preceded by one, at the offending escape. Such a
//!   string has no UTF-8 form, and parsers replace, keep or reject it differently.
//! - [`JsonError::ControlCharacter`]: a raw byte 0x00–0x1F inside a string, at that byte. The RFC
//!   forbids it, and lenient parsers accept it.
//!
//! Apart from the duplicate check and the member count, the work is linear in the input. The
//! duplicate check compares each key's hash with those of its earlier siblings (unless a 64-bit
//! filter of the object's hashes shows the key's is new), so it is quadratic in
//! [`OBJECT_KEYS_MAX`] at most, and compares bytes only when two hashes are equal. Members are
//! counted, by walking the earlier siblings, only in an object that already spans
//! [`OBJECT_KEYS_MAX`] entries, at most [`OBJECT_KEYS_MAX`] steps per key. The hash is
//! not collision resistant, so crafted input can force a byte comparison for every pair of keys; the
//! total is bounded by `OBJECT_KEYS_MAX² / 2` comparisons of at most [`KEY_BYTES_MAX`] bytes
//! each (about 8 MiB of byte comparisons per object in the very worst case), independent of the
//! input length.
//!
//! # Tape
//!
//! [`parse`] writes one [`Entry`] per value into the caller's slice, in document order (pre-order:
//! a container comes before its children) and returns a [`Tape`] over them; the root object is
//! entry 0. An entry records its [`Kind`], the byte span of the value's raw text (strings with
//! their quotes, containers with their brackets), and, for a member of an object, the byte span
//! of its key between the quotes and a 32-bit hash of the key's unescaped bytes. Strings
//! and keys have a flag that says whether they contain a backslash, so that the common case,
//! no escapes, reads the input bytes directly. Each entry also holds the index of its next
//! sibling, that is one past the last entry of its subtree: the children of a container at index
//! `i` are `i + 1`, then each child's next-sibling index in turn, until the container's own
//! next-sibling index. Lookups and iteration follow these links and never rescan bytes.
//!
//! Offsets are `u32` because the input is at most [`ARGS_BYTES_MAX`] bytes; the next-sibling
//! index is a `u16` because a tape has at most [`JSON_VALUES_MAX`] entries, which keeps an
//! entry at 24 bytes.

use core::cmp::Ordering;
use core::fmt;

/// Deepest nesting of arrays and objects; the root object is depth 1.
pub const JSON_DEPTH_MAX: usize = 32;
/// Most values in one document; every value, containers and the root included, counts one.
pub const JSON_VALUES_MAX: usize = 1024;
/// Most members in one object.
pub const OBJECT_KEYS_MAX: usize = 256;

/// Longest object key in raw (escaped) bytes. Argument names are short; the cap bounds the
/// duplicate check, which may compare every pair of keys in an object byte by byte when their
/// (non-cryptographic) hashes collide: at most `OBJECT_KEYS_MAX² / 2 × KEY_BYTES_MAX` bytes.
pub const KEY_BYTES_MAX: usize = 256;
/// Largest input, in bytes.
pub const ARGS_BYTES_MAX: usize = 1 << 20;

/// What a whole `tools/call` body ([`parse_body`]) may add to the limits of its `arguments`:
/// bytes of envelope around them. The arguments themselves keep every limit above.
pub const ENVELOPE_BYTES_MAX: usize = 64 << 10;
/// Values of the envelope around the arguments (`jsonrpc`, `id`, `method`, `params`, `name`,
/// `_meta`, ...), beyond the arguments' own [`JSON_VALUES_MAX`].
pub const ENVELOPE_VALUES_MAX: usize = 64;
/// Levels of the envelope above the arguments: the root and `params`. The arguments object
/// sits at depth 3 of the body, so its own depth limit stays [`JSON_DEPTH_MAX`].
pub const ENVELOPE_DEPTH: usize = 2;
/// Largest body [`parse_body`] reads.
pub const BODY_BYTES_MAX: usize = ARGS_BYTES_MAX + ENVELOPE_BYTES_MAX;
/// Most values [`parse_body`] reads; a tape of this many entries fits any accepted body.
pub const BODY_VALUES_MAX: usize = JSON_VALUES_MAX + ENVELOPE_VALUES_MAX;
/// Deepest nesting [`parse_body`] accepts.
pub const BODY_DEPTH_MAX: usize = JSON_DEPTH_MAX + ENVELOPE_DEPTH;

// Every offset, and one past the last byte, must fit in the entry's `u32` fields.
const _: () = assert!(BODY_BYTES_MAX < u32::MAX as usize);
// The next-sibling index can be one past the last entry.
const _: () = assert!(BODY_VALUES_MAX <= u16::MAX as usize);
const _: () = assert!(OBJECT_KEYS_MAX <= u32::MAX as usize);
// A tape of `JSON_VALUES_MAX` entries is meant to live on the caller's stack.
const _: () = assert!(size_of::<Entry>() <= 24);

/// The kind of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// Why an input was rejected. See the module documentation for each rule and its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The input is not JSON text.
    Syntax {
        /// The unexpected byte, or the input length when the input ended early.
        offset: u32,
    },
    /// An object has two members with equal unescaped keys.
    DuplicateKey {
        /// The opening quote of the second key.
        offset: u32,
    },
    /// Arrays and objects are nested deeper than [`JSON_DEPTH_MAX`].
    DepthExceeded {
        /// The bracket that opens the container one level too deep.
        offset: u32,
    },
    /// More than [`JSON_VALUES_MAX`] values, or more than the tape can hold.
    TooManyValues,
    /// An object has more than [`OBJECT_KEYS_MAX`] members.
    TooManyKeys {
        /// The opening quote of the first key too many.
        offset: u32,
    },
    /// The input is longer than [`ARGS_BYTES_MAX`] bytes.
    TooLarge,
    /// An object key is longer than [`KEY_BYTES_MAX`] raw bytes.
    KeyTooLong {
        /// The opening quote of the key.
        offset: u32,
    },
    /// A string holds bytes that are not UTF-8.
    InvalidUtf8 {
        /// The first byte of the invalid sequence.
        offset: u32,
    },
    /// A backslash does not start a valid escape.
    InvalidEscape {
        /// The backslash.
        offset: u32,
    },
    /// A UTF-16 surrogate escape is not part of a high-low pair.
    LoneSurrogate {
        /// The backslash of the unpaired escape.
        offset: u32,
    },
    /// A string holds a raw byte 0x00–0x1F.
    ControlCharacter {
        /// The control byte.
        offset: u32,
    },
    /// The root value is not an object.
    NotAnObject,
}

impl JsonError {
    /// A stable machine-readable code, such as `"json.syntax"`.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::Syntax { .. } => "json.syntax",
            JsonError::DuplicateKey { .. } => "json.duplicate_key",
            JsonError::DepthExceeded { .. } => "json.depth_exceeded",
            JsonError::TooManyValues => "json.too_many_values",
            JsonError::TooManyKeys { .. } => "json.too_many_keys",
            JsonError::TooLarge => "json.too_large",
            JsonError::KeyTooLong { .. } => "json.key_too_long",
            JsonError::InvalidUtf8 { .. } => "json.invalid_utf8",
            JsonError::InvalidEscape { .. } => "json.invalid_escape",
            JsonError::LoneSurrogate { .. } => "json.lone_surrogate",
            JsonError::ControlCharacter { .. } => "json.control_character",
            JsonError::NotAnObject => "json.not_an_object",
        }
    }

    /// The byte offset the error points at, for the errors that have one.
    pub fn offset(&self) -> Option<u32> {
        match *self {
            JsonError::Syntax { offset }
            | JsonError::DuplicateKey { offset }
            | JsonError::DepthExceeded { offset }
            | JsonError::TooManyKeys { offset }
            | JsonError::KeyTooLong { offset }
            | JsonError::InvalidUtf8 { offset }
            | JsonError::InvalidEscape { offset }
            | JsonError::LoneSurrogate { offset }
            | JsonError::ControlCharacter { offset } => Some(offset),
            JsonError::TooManyValues | JsonError::TooLarge | JsonError::NotAnObject => None,
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JsonError::Syntax { offset } => write!(f, "json syntax error at byte {offset}"),
            JsonError::DuplicateKey { offset } => {
                write!(f, "duplicate object key at byte {offset}")
            }
            JsonError::DepthExceeded { offset } => {
                write!(f, "json nested deeper than {JSON_DEPTH_MAX} at byte {offset}")
            }
            JsonError::TooManyValues => write!(f, "json has more than {JSON_VALUES_MAX} values"),
            JsonError::TooManyKeys { offset } => {
                write!(f, "object has more than {OBJECT_KEYS_MAX} keys at byte {offset}")
            }
            JsonError::TooLarge => write!(f, "json is larger than {ARGS_BYTES_MAX} bytes"),
            JsonError::KeyTooLong { offset } => {
                write!(f, "object key longer than {KEY_BYTES_MAX} bytes at byte {offset}")
            }
            JsonError::InvalidUtf8 { offset } => write!(f, "invalid utf-8 at byte {offset}"),
            JsonError::InvalidEscape { offset } => {
                write!(f, "invalid escape sequence at byte {offset}")
            }
            JsonError::LoneSurrogate { offset } => {
                write!(f, "unpaired utf-16 surrogate escape at byte {offset}")
            }
            JsonError::ControlCharacter { offset } => {
                write!(f, "unescaped control character in string at byte {offset}")
            }
            JsonError::NotAnObject => write!(f, "json root is not an object"),
        }
    }
}

impl core::error::Error for JsonError {}

/// One value on the tape. Opaque: read it through [`Tape`] and [`Value`].
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// First byte of the value's raw text.
    start: u32,
    /// One past its last byte.
    end: u32,
    /// The member key between its quotes; empty when the value is not a member.
    key_start: u32,
    key_end: u32,
    /// [`key_hash`] of the unescaped key; 0 when the value is not a member.
    key_hash: u32,
    /// One past the last entry of this value's subtree, once the value is complete.
    next: u16,
    kind: Kind,
    /// `ESCAPED` and `KEY_ESCAPED`.
    flags: u8,
}

/// The string value contains a backslash.
const ESCAPED: u8 = 1;
/// The member key contains a backslash.
const KEY_ESCAPED: u8 = 2;

impl Entry {
    /// A placeholder to fill a tape with before [`parse`].
    pub const EMPTY: Entry = Entry {
        start: 0,
        end: 0,
        key_start: 0,
        key_end: 0,
        key_hash: 0,
        next: 0,
        kind: Kind::Null,
        flags: 0,
    };
}

/// Multiplier of [`key_hash`]'s mixing step (the 64-bit golden ratio).
const HASH_K: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(HASH_K).rotate_left(31)
}

/// The hash of the mixed words: the low half, which the rotation in [`mix`] fills with the
/// product's high bits, the ones that depend on every bit of the input.
#[inline(always)]
fn fold(h: u64) -> u32 {
    h as u32
}

/// A hash of a key's unescaped bytes: only a filter before comparing bytes, so it need not
/// resist collisions (the duplicate check is bounded without it; see the module docs). It mixes
/// the key eight bytes at a time, then the last zero to seven bytes padded with zeros to a word:
/// the scanner computes the same value from the words it loads to find the key's closing quote
/// ([`member_key`]), so a plain key is never read twice. Keys that differ only by trailing NULs
/// (which only escapes can write) collide, which costs a byte comparison and nothing else.
#[inline(always)]
fn key_hash(key: &[u8]) -> u32 {
    let mut h = 0;
    let mut rest = key;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        h = mix(h, u64::from_le_bytes(*word));
        rest = tail;
    }
    fold(mix(h, padded_word(rest)))
}

/// The bytes of `s`, at most seven, as a little-endian word padded with zeros.
#[inline(always)]
fn padded_word(s: &[u8]) -> u64 {
    let len = s.len();
    let byte = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
    let word = |i: usize| {
        let bytes = s.get(i..).and_then(<[u8]>::first_chunk::<4>).copied();
        u64::from(u32::from_le_bytes(bytes.unwrap_or([0; 4])))
    };
    // Overlapping reads put a byte at the same place each time, so OR-ing them is exact.
    match len {
        0 => 0,
        1..=3 => byte(0) | byte(len / 2) << (8 * (len / 2)) | byte(len - 1) << (8 * (len - 1)),
        _ => word(0) | word(len - 4) << (8 * (len - 4)),
    }
}

/// Offsets are below `BODY_BYTES_MAX`, checked before any offset exists, so this never truncates.
#[inline(always)]
fn at(pos: usize) -> u32 {
    pos as u32
}

#[inline(always)]
fn syntax(pos: usize) -> JsonError {
    JsonError::Syntax { offset: at(pos) }
}

/// Bytes that end the plain run inside a string: the quote, the backslash, control characters
/// and the start of any multi-byte UTF-8 sequence.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut rest: &mut [bool] = &mut table;
    let mut b = 0u32;
    while let [stop, tail @ ..] = rest {
        *stop = b < 0x20 || b >= 0x80 || b == b'"' as u32 || b == b'\\' as u32;
        rest = tail;
        b += 1;
    }
    table
};

#[inline(always)]
fn string_stop(b: u8) -> bool {
    // The index is a `u8`, so the check cannot fail and compiles away.
    STRING_STOP.get(usize::from(b)).copied().unwrap_or(true)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Marks, with its high bit, each byte of the little-endian word `w` that [`string_stop`]
/// holds. Flipping bit 1 maps the quote to 0x20 and keeps control bytes below 0x20, so one
/// subtraction of 0x21 from each byte catches both: it takes exactly those bytes under zero. A
/// backslash becomes 0 and then 0xff; a non-ASCII byte has its high bit set. A plain byte is
/// 0x20–0x7f and neither quote nor backslash, so it neither borrows nor is marked. A borrow can
/// also mark bytes above a stop, but never below the lowest one, so the lowest mark is always
/// right.
#[inline(always)]
fn stops(w: u64) -> u64 {
    let quote_or_ctrl = (w ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
    let backslash = (w ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    (quote_or_ctrl | backslash | w) & HIGH
}

/// The first eight bytes of `s` as a little-endian word, and the bytes after them, if `s` has
/// eight: the word loops walk a shrinking slice, so each word costs one bounds check.
#[inline(always)]
fn split_word(s: &[u8]) -> Option<(u64, &[u8])> {
    let (word, rest) = s.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*word), rest))
}

/// The length of the run of plain string bytes at the start of `s`, eight bytes at a time.
#[inline(always)]
fn plain_run(s: &[u8]) -> usize {
    let mut rest = s;
    while let Some((w, tail)) = split_word(rest) {
        let stop = stops(w);
        if stop != 0 {
            return s.len() - rest.len() + (stop.trailing_zeros() / 8) as usize;
        }
        rest = tail;
    }
    s.len() - rest.len() + rest.iter().position(|&b| string_stop(b)).unwrap_or(rest.len())
}

/// The byte at `pos`, or 0 past the end. 0 is never valid outside a string, so the end of the
/// input fails where a NUL would, with a syntax error at `pos`, which is then the input length
/// (the one place where the two differ, a value that would not fit the tape, tells them apart).
#[inline(always)]
fn byte_at(input: &[u8], pos: usize) -> u8 {
    input.get(pos).copied().unwrap_or(0)
}

/// Skips whitespace from `pos`: the position of the next token and its first byte (0 past the
/// end). Compact JSON has no whitespace, so the first byte is tested before any loop.
#[inline(always)]
fn token(input: &[u8], pos: usize) -> (usize, u8) {
    let b = byte_at(input, pos);
    if b > b' ' { (pos, b) } else { token_after_ws(input, pos, b) }
}

#[inline]
fn token_after_ws(input: &[u8], mut pos: usize, mut b: u8) -> (usize, u8) {
    while let b' ' | b'\t' | b'\n' | b'\r' = b {
        pos += 1;
        b = byte_at(input, pos);
    }
    (pos, b)
}

/// The innermost open container: its tape index, its closing bracket and what the checks of its
/// keys need.
#[derive(Clone, Copy)]
struct Frame {
    idx: u32,
    /// The first entry index at which the object could have OBJECT_KEYS_MAX members: every
    /// member takes at least one entry, so before it they need no counting.
    count_from: usize,
    close: u8,
    /// Bit `hash % 64` of each key of the object so far, or all ones when unknown (once a child
    /// container has closed: the filter is not saved with the rest of the frame). A key whose
    /// bit is clear equals no earlier key, so the duplicate check need not walk the siblings,
    /// which it would otherwise do for every key of every object.
    seen: u64,
}

impl Frame {
    /// The frame of the container at entry `idx`, which `close` ends, with no keys yet.
    #[inline(always)]
    fn open(idx: usize, close: u8) -> Frame {
        Frame { idx: at(idx), count_from: idx + 1 + OBJECT_KEYS_MAX, close, seen: 0 }
    }
}

/// Marks the root's parent in an open container's `end` field.
const NO_PARENT: u32 = u32::MAX;

/// Parses `input` into `entries` and returns the tape over the entries it wrote.
///
/// `entries` needs one entry per value; [`JSON_VALUES_MAX`] entries fit any accepted input, and
/// a shorter slice makes a larger document fail with [`JsonError::TooManyValues`]. Entries past
/// the returned tape's end may have been overwritten.
///
/// # Errors
///
/// The first rule the input breaks, in input order, as described in the module documentation.
pub fn parse<'a>(input: &'a [u8], entries: &'a mut [Entry]) -> Result<Tape<'a>, JsonError> {
    let mut unused = Envelope::NONE;
    let count = build::<false, false>(input, entries, &mut unused)?;
    let entries: &'a [Entry] = entries;
    Ok(Tape { input, entries: entries.get(..count).unwrap_or(&[]) })
}

/// Parses a whole JSON-RPC body like [`parse`], by the same rules, with the limits widened by
/// the envelope's allowance: at most [`BODY_BYTES_MAX`] bytes, [`BODY_VALUES_MAX`] values and
/// [`BODY_DEPTH_MAX`] levels. So the `arguments` object at depth 3 may nest exactly as deep as
/// [`parse`] allows; its byte and value counts are checked by the caller
/// ([`Value::raw`], [`Value::subtree_len`]).
///
/// # Errors
///
/// As [`parse`], against the body's limits.
pub fn parse_body<'a>(input: &'a [u8], entries: &'a mut [Entry]) -> Result<Tape<'a>, JsonError> {
    let mut unused = Envelope::NONE;
    let count = build::<true, false>(input, entries, &mut unused)?;
    let entries: &'a [Entry] = entries;
    Ok(Tape { input, entries: entries.get(..count).unwrap_or(&[]) })
}

/// Where a `tools/call` body keeps what [`Program::evaluate_call`](crate::Program) reads: the
/// tape indices of the root's members `method` and `params` and, when `params` is an object, of
/// its members `name` and `arguments`; [`Envelope::ABSENT`] for a member that is absent. Keys
/// are matched by their unescaped bytes, as [`Value::get`] matches them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub method: usize,
    pub params: usize,
    pub name: usize,
    pub arguments: usize,
}

impl Envelope {
    /// The index of an absent member: past any tape, so [`Tape::member`] needs one check.
    pub const ABSENT: usize = usize::MAX;
    /// No member found yet.
    const NONE: Envelope = Envelope {
        method: Envelope::ABSENT,
        params: Envelope::ABSENT,
        name: Envelope::ABSENT,
        arguments: Envelope::ABSENT,
    };
}

/// Parses a body exactly as [`parse_body`] does, same tape and same errors, and finds the
/// envelope's members on the way, so that the caller does not walk the members again.
pub(crate) fn parse_call<'a>(
    input: &'a [u8],
    entries: &'a mut [Entry],
) -> Result<(Tape<'a>, Envelope), JsonError> {
    let mut envelope = Envelope::NONE;
    let count = build::<true, true>(input, entries, &mut envelope)?;
    let entries: &'a [Entry] = entries;
    Ok((Tape { input, entries: entries.get(..count).unwrap_or(&[]) }, envelope))
}

/// The key of the value being read, as its entry records it: the key's span between its
/// quotes, its hash and its flag. Kept until the value is read, so that the entry is written
/// once, whole.
#[derive(Clone, Copy)]
struct Key {
    start: u32,
    end: u32,
    hash: u32,
    flags: u8,
}

impl Key {
    /// The key of a value that is not a member: an array element or the root.
    const NONE: Key = Key { start: 0, end: 0, hash: 0, flags: 0 };
}

/// The entry of a value with `key`, spanning `start..end`, that is not a container.
#[inline(always)]
fn entry(key: Key, start: usize, end: u32, next: usize, kind: Kind, flags: u8) -> Entry {
    Entry {
        start: at(start),
        end,
        key_start: key.start,
        key_end: key.end,
        key_hash: key.hash,
        // `next` is at most the tape length, at most BODY_VALUES_MAX, asserted above to fit.
        next: next as u16,
        kind,
        flags: key.flags | flags,
    }
}

/// Where a run of children ([`object_run`], [`array_run`]) stopped: at a bracket that opens a
/// child container (the value of `key`), or at the bracket that closes the current one.
#[derive(Clone, Copy)]
enum Step {
    Open { pos: usize, object: bool, key: Key },
    Close { pos: usize },
}

/// Returns the number of entries written. `BODY` selects the limits of [`parse_body`]; `ENV`
/// fills `envelope` ([`parse_call`]).
fn build<const BODY: bool, const ENV: bool>(
    input: &[u8],
    tape: &mut [Entry],
    envelope: &mut Envelope,
) -> Result<usize, JsonError> {
    let (bytes_max, values_max, depth_max) = if BODY {
        (BODY_BYTES_MAX, BODY_VALUES_MAX, BODY_DEPTH_MAX)
    } else {
        (ARGS_BYTES_MAX, JSON_VALUES_MAX, JSON_DEPTH_MAX)
    };
    if input.len() > bytes_max {
        return Err(JsonError::TooLarge);
    }
    let (pos, b) = token(input, 0);
    if b != b'{' {
        return Err(JsonError::NotAnObject);
    }
    // The part of the tape this document may fill, so one bounds check enforces both limits.
    let tape_len = tape.len().min(values_max);
    let tape = tape.get_mut(..tape_len).unwrap_or(&mut []);
    if tape.is_empty() {
        return Err(JsonError::TooManyValues);
    }
    // The root: entry 0, without a key or a parent.
    if let Some(root) = tape.get_mut(0) {
        *root = entry(Key::NONE, pos, NO_PARENT, 1, Kind::Object, 0);
    }
    // `top` is the innermost open container, kept in registers because every value and key
    // touches it. The outer open containers live in the tape itself, not on a stack that would
    // have to be cleared on every call: while open, a container's `end` holds its parent's
    // index, which gets its real value when it closes.
    //
    // The hot work, scalar members and elements one after another, happens in the runs; this
    // loop only opens and closes containers, so the runs keep their few values in registers.
    let mut top = Frame::open(0, b'}');
    let mut depth = 1usize;
    let mut n = 1usize;
    let mut pos = pos + 1;
    // Whether the run starts after a child of `top` rather than after its opening bracket.
    let mut more = false;
    loop {
        let step = if top.close != b'}' {
            array_run(input, tape, &mut n, pos, more)?
        } else if ENV && top.idx == 0 {
            object_run::<ROOT>(input, tape, &mut top, &mut n, pos, more, envelope)?
        } else if ENV && top.idx as usize == envelope.params {
            // The value of the root's `params` (entry 0 is the root, never a member).
            object_run::<PARAMS>(input, tape, &mut top, &mut n, pos, more, envelope)?
        } else {
            object_run::<PLAIN>(input, tape, &mut top, &mut n, pos, more, envelope)?
        };
        match step {
            Step::Open { pos: open, object, key } => {
                // Entry `n` is in the tape: the run checked.
                if depth >= depth_max {
                    return Err(JsonError::DepthExceeded { offset: at(open) });
                }
                if let Some(slot) = tape.get_mut(n) {
                    let kind = if object { Kind::Object } else { Kind::Array };
                    *slot = entry(key, open, top.idx, n + 1, kind, 0);
                }
                let close = if object { b'}' } else { b']' };
                top = Frame::open(n, close);
                depth += 1;
                n += 1;
                pos = open + 1;
                more = false;
            }
            Step::Close { pos: close } => {
                pos = close + 1;
                let mut parent = NO_PARENT;
                if let Some(container) = tape.get_mut(top.idx as usize) {
                    parent = container.end;
                    container.end = at(pos);
                    container.next = n as u16;
                }
                depth -= 1;
                if depth == 0 {
                    let (end, _) = token(input, pos);
                    return if end == input.len() { Ok(n) } else { Err(syntax(end)) };
                }
                top = match tape.get(parent as usize) {
                    Some(open) => Frame {
                        seen: u64::MAX,
                        ..Frame::open(
                            parent as usize,
                            if open.kind == Kind::Object { b'}' } else { b']' },
                        )
                    },
                    // Unreachable: every container below the root recorded its parent.
                    None => return Err(syntax(pos)),
                };
                more = true;
            }
        }
    }
}

/// Reads the members of the object `top` from `pos`, which is after its opening bracket or,
/// if `more`, after one of its values, up to a member whose value is a container or the
/// object's closing bracket. Writes an entry for every scalar value.
///
/// `LEVEL` says which envelope members to note ([`parse_call`]): [`PLAIN`] none, [`ROOT`]
/// `method` and `params`, [`PARAMS`] `name` and `arguments`. A separate copy per level, so the
/// arguments' objects pay nothing for it.
#[inline(always)]
fn object_run<const LEVEL: u8>(
    input: &[u8],
    tape: &mut [Entry],
    top: &mut Frame,
    n: &mut usize,
    pos: usize,
    more: bool,
    envelope: &mut Envelope,
) -> Result<Step, JsonError> {
    let (mut at_key, mut c) = token(input, pos);
    if more {
        if c != b',' {
            return if c == b'}' { Ok(Step::Close { pos: at_key }) } else { Err(syntax(at_key)) };
        }
        (at_key, c) = token(input, at_key + 1);
    } else if c == b'}' {
        return Ok(Step::Close { pos: at_key });
    }
    loop {
        let (key, word, at_value, b) = member_key(input, tape, top, *n, at_key, c)?;
        if LEVEL != PLAIN {
            let (a, b, slot_a, slot_b) = if LEVEL == ROOT {
                (&b"method"[..], &b"params"[..], &mut envelope.method, &mut envelope.params)
            } else {
                (&b"name"[..], &b"arguments"[..], &mut envelope.name, &mut envelope.arguments)
            };
            if word != 0 {
                // A plain key: its first word decides, and for a long key its length and the
                // bytes after that word.
                if plain_key_is(input, key, word, a) {
                    *slot_a = *n;
                } else if plain_key_is(input, key, word, b) {
                    *slot_b = *n;
                }
            } else if key.hash == key_hash(a) && key_is(input, key, a) {
                // Any other key: the hashes of constant keys are constants; the bytes decide.
                *slot_a = *n;
            } else if key.hash == key_hash(b) && key_is(input, key, b) {
                *slot_b = *n;
            }
        }
        let Some(end) = value(input, tape, *n, key, at_value, b)? else {
            return Ok(Step::Open { pos: at_value, object: b == b'{', key });
        };
        *n += 1;
        // The same separator test as above, repeated so that the loop needs no `more`.
        let (sep, d) = token(input, end);
        if d != b',' {
            return if d == b'}' { Ok(Step::Close { pos: sep }) } else { Err(syntax(sep)) };
        }
        (at_key, c) = token(input, sep + 1);
    }
}

/// [`object_run`] notes no envelope member.
const PLAIN: u8 = 0;
/// [`object_run`] notes the root's `method` and `params`.
const ROOT: u8 = 1;
/// [`object_run`] notes the `name` and `arguments` of `params`.
const PARAMS: u8 = 2;

/// Whether the plain `key`, whose first word ([`member_key`]) is `word`, is `want`. A key
/// shorter than a word is its word padded with zeros: no plain key holds a NUL, so equal words
/// are equal keys, and the word of a longer key, all eight bytes plain, equals none of them.
/// A longer `want` needs its first word, its length and the bytes after that word.
#[inline(always)]
fn plain_key_is(input: &[u8], key: Key, word: u64, want: &[u8]) -> bool {
    match want.split_first_chunk::<8>() {
        None => word == padded_word(want),
        Some((head, tail)) => {
            word == u64::from_le_bytes(*head)
                && key.end as usize == key.start as usize + want.len()
                && input.get(key.start as usize + 8..key.end as usize) == Some(tail)
        }
    }
}

/// Whether `key`, whose hash equals that of `want`, is `want`: a hash is only a filter.
#[inline(always)]
fn key_is(input: &[u8], key: Key, want: &[u8]) -> bool {
    key_str(input, key.start, key.end, key.flags).eq_bytes(want)
}

/// Reads the elements of an array from `pos`, as [`object_run`] reads members.
#[inline(always)]
fn array_run(
    input: &[u8],
    tape: &mut [Entry],
    n: &mut usize,
    pos: usize,
    more: bool,
) -> Result<Step, JsonError> {
    let (mut at_value, mut b) = token(input, pos);
    if more {
        if b != b',' {
            return if b == b']' {
                Ok(Step::Close { pos: at_value })
            } else {
                Err(syntax(at_value))
            };
        }
        (at_value, b) = token(input, at_value + 1);
    } else if b == b']' {
        return Ok(Step::Close { pos: at_value });
    }
    loop {
        let Some(end) = value(input, tape, *n, Key::NONE, at_value, b)? else {
            return Ok(Step::Open { pos: at_value, object: b == b'{', key: Key::NONE });
        };
        *n += 1;
        let (sep, d) = token(input, end);
        if d != b',' {
            return if d == b']' { Ok(Step::Close { pos: sep }) } else { Err(syntax(sep)) };
        }
        (at_value, b) = token(input, sep + 1);
    }
}

/// Reads the value of `key` at `pos`, whose first byte is `b`, into entry `n`. Returns the
/// position after a scalar, or `None` at the bracket of a container, which the caller opens.
#[inline(always)]
fn value(
    input: &[u8],
    tape: &mut [Entry],
    n: usize,
    key: Key,
    pos: usize,
    b: u8,
) -> Result<Option<usize>, JsonError> {
    if n >= tape.len() {
        // The input ending before the value is the earlier error.
        return Err(if pos >= input.len() { syntax(pos) } else { JsonError::TooManyValues });
    }
    let (kind, end, flags) = match b {
        b'"' => {
            let (end, escaped) = scan_string(input, pos)?;
            (Kind::String, end, if escaped { ESCAPED } else { 0 })
        }
        b'{' | b'[' => return Ok(None),
        b'-' | b'0'..=b'9' => (Kind::Number, scan_number(input, pos)?, 0),
        b't' | b'f' | b'n' => {
            let (word, kind): (&[u8], Kind) = match b {
                b't' => (b"true", Kind::Bool),
                b'f' => (b"false", Kind::Bool),
                _ => (b"null", Kind::Null),
            };
            let end = pos + word.len();
            if input.get(pos..end) != Some(word) {
                return Err(syntax(pos));
            }
            (kind, end, 0)
        }
        _ => return Err(syntax(pos)),
    };
    if let Some(slot) = tape.get_mut(n) {
        *slot = entry(key, pos, at(end), n + 1, kind, flags);
    }
    Ok(Some(end))
}

/// Reads `"key"` and the colon after it at `pos`, whose byte is `b`, and rejects a repeated key
/// (its value will take entry `n`). Returns the key, its first word, the position of the value
/// and its first byte. The first word of a plain key is its bytes as a little-endian word padded
/// with zeros if it is shorter than a word, else its first eight bytes; it is 0 for a key that
/// is not plain, and for the empty key (the only plain key whose word is 0), so that 0 means
/// "compare otherwise" ([`object_run`]).
#[inline(always)]
fn member_key(
    input: &[u8],
    tape: &mut [Entry],
    top: &mut Frame,
    n: usize,
    pos: usize,
    b: u8,
) -> Result<(Key, u64, usize, u8), JsonError> {
    if b != b'"' {
        return Err(syntax(pos));
    }
    if n >= top.count_from && members_between(tape, top.idx as usize + 1, n) >= OBJECT_KEYS_MAX {
        return Err(JsonError::TooManyKeys { offset: at(pos) });
    }
    // The common key is plain ASCII: scan it a word at a time and hash the words on the way
    // ([`key_hash`] is defined to match). The scan stops after KEY_BYTES_MAX bytes, so a key it
    // finds is within the limit. Anything else goes through the general scan, which checks
    // the length. `pos` holds the opening quote, so the input goes on after it.
    let Some(body) = input.get(pos + 1..) else { return Err(syntax(pos)) };
    let (end, hash, flags, word) = 'scan: {
        // Most keys are shorter than a word: their quote is in the first one, which needs neither
        // the length cap nor a loop ([`key_hash`] of one short word is its one mixing step).
        let mut first = None;
        if let Some((w, _)) = split_word(body) {
            let stop = stops(w);
            if stop == 0 {
                // A first word of plain bytes is hashed once; the loop goes on after it.
                first = Some(w);
            } else {
                let shift = stop.trailing_zeros() & 56;
                if (w >> shift) as u8 == b'"' {
                    let end = pos + 2 + (shift / 8) as usize;
                    let word = w & !(u64::MAX << shift);
                    break 'scan (end, fold(mix(0, word)), 0, word);
                }
            }
        }
        let body = body.get(..KEY_BYTES_MAX).unwrap_or(body);
        let (mut rest, mut h) = match first {
            Some(w) => (body.get(8..).unwrap_or(&[]), mix(0, w)),
            None => (body, 0),
        };
        let plain = loop {
            let Some((w, tail)) = split_word(rest) else { break None };
            let stop = stops(w);
            if stop == 0 {
                h = mix(h, w);
                rest = tail;
                continue;
            }
            let shift = stop.trailing_zeros() & 56;
            if (w >> shift) as u8 != b'"' {
                break None;
            }
            break Some(((shift / 8) as usize, fold(mix(h, w & !(u64::MAX << shift)))));
        };
        // Where the word scan stopped: the plain bytes before it need no second look.
        let scanned = pos + 1 + body.len() - rest.len();
        match plain {
            Some((len, hash)) => (scanned + len + 1, hash, 0, first.unwrap_or(0)),
            None => {
                let (end, hash, flags) = general_key(input, pos, scanned)?;
                (end, hash, flags, 0)
            }
        }
    };
    let key = Key { start: at(pos + 1), end: at(end - 1), hash, flags };
    let bit = 1 << (hash % 64);
    let seen = top.seen;
    top.seen = seen | bit;
    if seen & bit != 0 && repeated(input, tape, top.idx as usize + 1, n, key) {
        return Err(JsonError::DuplicateKey { offset: at(pos) });
    }
    // Compact JSON, `"key":value`, needs no whitespace skipping.
    if let Some(&[b':', v]) = input.get(end..).and_then(<[u8]>::first_chunk::<2>)
        && v > b' '
    {
        return Ok((key, word, end + 1, v));
    }
    let (colon, c) = token(input, end);
    if c != b':' {
        return Err(syntax(colon));
    }
    let (at_value, v) = token(input, colon + 1);
    Ok((key, word, at_value, v))
}

/// Whether an earlier sibling, from entry `first` up to entry `n`, has `key`. Asked only when
/// the object's filter says some earlier key may have the same hash, so kept out of the scan's
/// way.
#[cold]
#[inline(never)]
fn repeated(input: &[u8], tape: &[Entry], first: usize, n: usize, key: Key) -> bool {
    // Earlier siblings are complete, so their next-sibling links are set.
    let mut i = first;
    while i < n {
        let Some(sibling) = tape.get(i) else { break };
        if sibling.key_hash == key.hash && same_key(input, sibling, key) {
            return true;
        }
        i = usize::from(sibling.next).max(i + 1);
    }
    false
}

/// The number of members from entry `first` up to entry `end`, which are complete: rare (see
/// [`member_key`]), so kept out of line.
#[cold]
#[inline(never)]
fn members_between(tape: &[Entry], first: usize, end: usize) -> usize {
    let mut count = 0;
    let mut i = first;
    while i < end {
        let Some(member) = tape.get(i) else { break };
        count += 1;
        i = usize::from(member.next).max(i + 1);
    }
    count
}

/// Scans a key that is not short plain ASCII from `i`, where the word scan of [`member_key`]
/// stopped, checks its length and hashes it. Returns the position after its closing quote, its
/// hash and its flags.
#[inline(never)]
fn general_key(input: &[u8], pos: usize, i: usize) -> Result<(usize, u32, u8), JsonError> {
    let (end, escaped) = scan_string_from(input, i)?;
    if end - pos - 2 > KEY_BYTES_MAX {
        return Err(JsonError::KeyTooLong { offset: at(pos) });
    }
    let raw = input.get(pos + 1..end - 1).unwrap_or(&[]);
    Ok(if escaped {
        (end, escaped_key_hash(&JsonStr { raw, escaped }), KEY_ESCAPED)
    } else {
        (end, key_hash(raw), 0)
    })
}

/// Whether the key of `sibling` equals `key`: only asked when their hashes are equal, so kept
/// out of line.
#[cold]
#[inline(never)]
fn same_key(input: &[u8], sibling: &Entry, key: Key) -> bool {
    let new = key_str(input, key.start, key.end, key.flags);
    member_key_str(input, sibling).eq_str(&new)
}

/// The [`key_hash`] of an escaped key, which the scanner has validated: rare, so kept out of
/// line with its buffer (a key unescapes to at most its raw length, [`KEY_BYTES_MAX`]).
#[cold]
#[inline(never)]
fn escaped_key_hash(key: &JsonStr<'_>) -> u32 {
    let mut buffer = [0u8; KEY_BYTES_MAX];
    key.unescape_into(&mut buffer).map_or(0, key_hash)
}

/// Validates the string whose opening quote is at `pos`. Returns the position after the closing
/// quote and whether it has escapes.
#[inline(always)]
fn scan_string(input: &[u8], pos: usize) -> Result<(usize, bool), JsonError> {
    // Most strings are plain ASCII: find the closing quote a word at a time, and leave anything
    // else, and the last few bytes of the input, to the general loop.
    // `pos` holds the opening quote, so the input goes on after it.
    let Some(mut rest) = input.get(pos + 1..) else { return Err(syntax(pos)) };
    while let Some((w, tail)) = split_word(rest) {
        let stop = stops(w);
        if stop != 0 {
            let shift = stop.trailing_zeros() & 56;
            let i = input.len() - rest.len() + (shift / 8) as usize;
            if (w >> shift) as u8 == b'"' {
                return Ok((i + 1, false));
            }
            return scan_string_from(input, i);
        }
        rest = tail;
    }
    scan_string_from(input, input.len() - rest.len())
}

/// Validates the rest of a string from `i`, a position inside it with only plain bytes before
/// it. Returns the position after the closing quote and whether it has escapes.
#[inline(never)]
fn scan_string_from(input: &[u8], mut i: usize) -> Result<(usize, bool), JsonError> {
    let mut escaped = false;
    loop {
        let rest = input.get(i..).unwrap_or(&[]);
        let run = plain_run(rest);
        let Some(&b) = rest.get(run) else {
            return Err(syntax(input.len()));
        };
        i += run;
        match b {
            b'"' => return Ok((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                let (_, len) = escape(input, i)?;
                i += len;
            }
            0x80..=0xff => {
                let len = utf8_sequence(input, i)?;
                i += len;
            }
            _ => return Err(JsonError::ControlCharacter { offset: at(i) }),
        }
    }
}

/// Decodes the escape whose backslash is at `i`. Returns the scalar value and the escape's
/// length in bytes (12 for a surrogate pair).
#[inline]
fn escape(s: &[u8], i: usize) -> Result<(u32, usize), JsonError> {
    let c = match s.get(i + 1) {
        Some(b'"') => b'"',
        Some(b'\\') => b'\\',
        Some(b'/') => b'/',
        Some(b'b') => 0x08,
        Some(b'f') => 0x0c,
        Some(b'n') => b'\n',
        Some(b'r') => b'\r',
        Some(b't') => b'\t',
        Some(b'u') => {
            let Some(hi) = hex4(s, i + 2) else {
                return Err(JsonError::InvalidEscape { offset: at(i) });
            };
            return match hi {
                0xd800..=0xdbff => {
                    if s.get(i + 6..i + 8) != Some(b"\\u") {
                        return Err(JsonError::LoneSurrogate { offset: at(i) });
                    }
                    match hex4(s, i + 8) {
                        None => Err(JsonError::InvalidEscape { offset: at(i + 6) }),
                        Some(lo @ 0xdc00..=0xdfff) => {
                            Ok((0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00), 12))
                        }
                        Some(_) => Err(JsonError::LoneSurrogate { offset: at(i) }),
                    }
                }
                0xdc00..=0xdfff => Err(JsonError::LoneSurrogate { offset: at(i) }),
                _ => Ok((hi, 6)),
            };
        }
        _ => return Err(JsonError::InvalidEscape { offset: at(i) }),
    };
    Ok((u32::from(c), 2))
}

#[inline]
fn hex4(s: &[u8], i: usize) -> Option<u32> {
    let mut v = 0u32;
    for &b in s.get(i..i + 4)? {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u32::from(d);
    }
    Some(v)
}

/// Encodes a scalar value (or, defensively, any value below 0x110000) as UTF-8.
#[inline]
fn encode_utf8(c: u32) -> ([u8; 4], usize) {
    // Each byte is masked to its payload first, so the casts never truncate meaningful bits.
    let cont = |shift: u32| 0x80 | ((c >> shift) & 0x3f) as u8;
    if c < 0x80 {
        ([c as u8, 0, 0, 0], 1)
    } else if c < 0x800 {
        ([0xc0 | (c >> 6) as u8, cont(0), 0, 0], 2)
    } else if c < 0x10000 {
        ([0xe0 | (c >> 12) as u8, cont(6), cont(0), 0], 3)
    } else {
        ([0xf0 | ((c >> 18) & 0x07) as u8, cont(12), cont(6), cont(0)], 4)
    }
}

/// Validates the multi-byte UTF-8 sequence starting at `i` (RFC 3629, Table 3-7 of Unicode)
/// and returns its length.
#[inline]
fn utf8_sequence(input: &[u8], i: usize) -> Result<usize, JsonError> {
    let err = JsonError::InvalidUtf8 { offset: at(i) };
    let (len, lo, hi) = match input.get(i) {
        Some(0xc2..=0xdf) => (2, 0x80, 0xbf),
        Some(0xe0) => (3, 0xa0, 0xbf),
        Some(0xe1..=0xec | 0xee..=0xef) => (3, 0x80, 0xbf),
        Some(0xed) => (3, 0x80, 0x9f),
        Some(0xf0) => (4, 0x90, 0xbf),
        Some(0xf1..=0xf3) => (4, 0x80, 0xbf),
        Some(0xf4) => (4, 0x80, 0x8f),
        _ => return Err(err),
    };
    match input.get(i + 1) {
        Some(&b) if (lo..=hi).contains(&b) => {}
        _ => return Err(err),
    }
    for k in 2..len {
        match input.get(i + k) {
            Some(0x80..=0xbf) => {}
            _ => return Err(err),
        }
    }
    Ok(len)
}

/// Validates the number starting at `pos` and returns the position after it. What follows is
/// checked by the caller, so `01` fails there, at the `1`.
#[inline]
fn scan_number(input: &[u8], mut pos: usize) -> Result<usize, JsonError> {
    let digits = |mut p: usize| {
        while let Some(b'0'..=b'9') = input.get(p) {
            p += 1;
        }
        p
    };
    if input.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match input.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits(pos + 1),
        _ => return Err(syntax(pos)),
    }
    if input.get(pos) == Some(&b'.') {
        pos += 1;
        if !matches!(input.get(pos), Some(b'0'..=b'9')) {
            return Err(syntax(pos));
        }
        pos = digits(pos);
    }
    if let Some(b'e' | b'E') = input.get(pos) {
        pos += 1;
        if let Some(b'+' | b'-') = input.get(pos) {
            pos += 1;
        }
        if !matches!(input.get(pos), Some(b'0'..=b'9')) {
            return Err(syntax(pos));
        }
        pos = digits(pos);
    }
    Ok(pos)
}

#[inline]
fn key_str(input: &[u8], start: u32, end: u32, flags: u8) -> JsonStr<'_> {
    JsonStr {
        raw: input.get(start as usize..end as usize).unwrap_or(&[]),
        escaped: flags & KEY_ESCAPED != 0,
    }
}

#[inline]
fn member_key_str<'t>(input: &'t [u8], e: &Entry) -> JsonStr<'t> {
    key_str(input, e.key_start, e.key_end, e.flags)
}

/// A parsed document: the input and its entries.
#[derive(Clone, Copy, Debug)]
pub struct Tape<'a> {
    input: &'a [u8],
    entries: &'a [Entry],
}

impl<'a> Tape<'a> {
    /// The root object.
    pub fn root(&self) -> Value<'_> {
        Value { tape: self, idx: 0 }
    }

    /// How many values the document has, the root included.
    pub fn value_count(&self) -> usize {
        self.entries.len()
    }

    /// The input the tape was parsed from.
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    /// The value at entry `idx`, an index from [`Envelope`]; `None` past the tape, which is
    /// where [`Envelope::ABSENT`] points.
    #[inline(always)]
    pub(crate) fn member(&self, idx: usize) -> Option<Value<'_>> {
        if idx >= self.entries.len() {
            return None;
        }
        Some(Value { tape: self, idx })
    }
}

/// A value in a parsed document.
#[derive(Clone, Copy, Debug)]
pub struct Value<'t> {
    tape: &'t Tape<'t>,
    idx: usize,
}

impl<'t> Value<'t> {
    #[inline]
    fn entry(&self) -> Entry {
        self.tape.entries.get(self.idx).copied().unwrap_or(Entry::EMPTY)
    }

    /// The kind of the value.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.entry().kind
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.kind() {
            Kind::Bool => Some(self.raw().first() == Some(&b't')),
            _ => None,
        }
    }

    /// The member with this unescaped key, if the value is an object that has one.
    pub fn get(&self, key: &[u8]) -> Option<Value<'t>> {
        let e = self.entry();
        if e.kind != Kind::Object {
            return None;
        }
        let hash = key_hash(key);
        let end = usize::from(e.next);
        let mut i = self.idx + 1;
        while i < end {
            let child = self.tape.entries.get(i)?;
            if child.key_hash == hash && member_key_str(self.tape.input, child).eq_bytes(key) {
                return Some(Value { tape: self.tape, idx: i });
            }
            i = usize::from(child.next).max(i + 1);
        }
        None
    }

    /// The members' indices and entries; nothing for a value that is not an object.
    #[inline(always)]
    fn members_raw(&self) -> Children<'t> {
        let e = self.entry();
        let mut children = self.children(e);
        if e.kind != Kind::Object {
            children.end = 0;
        }
        children
    }

    /// The number of members of an object or elements of an array; 0 for other values. Counted
    /// by following the next-sibling links, so it costs one step per child.
    pub fn len(&self) -> usize {
        let e = self.entry();
        match e.kind {
            Kind::Object | Kind::Array => self.children(e).count(),
            _ => 0,
        }
    }

    /// The number of values in this value's subtree, itself included (1 for a scalar).
    pub fn subtree_len(&self) -> usize {
        usize::from(self.entry().next).saturating_sub(self.idx)
    }

    /// Whether [`Value::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn children(&self, e: Entry) -> Children<'t> {
        Children { tape: self.tape, next: self.idx + 1, end: usize::from(e.next) }
    }

    /// The members of an object in document order, keys unescaped on demand; nothing for other
    /// values.
    pub fn members(&self) -> Members<'t> {
        Members { children: self.members_raw() }
    }

    /// The elements of an array in order; nothing for other values.
    pub fn elements(&self) -> Elements<'t> {
        let e = self.entry();
        let mut children = self.children(e);
        if e.kind != Kind::Array {
            children.end = 0;
        }
        Elements { children }
    }

    /// The raw text of the value: strings with their quotes and escapes, containers with their
    /// brackets and inner whitespace.
    pub fn raw(&self) -> &'t [u8] {
        let e = self.entry();
        self.tape.input.get(e.start as usize..e.end as usize).unwrap_or(&[])
    }

    /// The string, if the value is one.
    pub fn string(&self) -> Option<JsonStr<'t>> {
        let e = self.entry();
        if e.kind != Kind::String {
            return None;
        }
        let raw = self.tape.input.get(e.start as usize + 1..(e.end as usize).saturating_sub(1))?;
        Some(JsonStr { raw, escaped: e.flags & ESCAPED != 0 })
    }

    /// The number, if the value is one.
    pub fn number(&self) -> Option<JsonNumber<'t>> {
        match self.kind() {
            Kind::Number => Some(JsonNumber { raw: self.raw() }),
            _ => None,
        }
    }
}

/// Walks the next-sibling links from `next` up to `end`.
#[derive(Clone, Debug)]
struct Children<'t> {
    tape: &'t Tape<'t>,
    next: usize,
    end: usize,
}

impl<'t> Iterator for Children<'t> {
    type Item = (usize, &'t Entry);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let idx = self.next;
        let e = self.tape.entries.get(idx)?;
        // Links always point forward; `max` keeps even a corrupt one from looping.
        self.next = usize::from(e.next).max(idx + 1);
        Some((idx, e))
    }
}

/// The members of an object, from [`Value::members`].
#[derive(Clone, Debug)]
pub struct Members<'t> {
    children: Children<'t>,
}

impl<'t> Iterator for Members<'t> {
    type Item = (JsonStr<'t>, Value<'t>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (idx, e) = self.children.next()?;
        let tape = self.children.tape;
        Some((member_key_str(tape.input, e), Value { tape, idx }))
    }
}

impl core::iter::FusedIterator for Members<'_> {}

/// The elements of an array, from [`Value::elements`].
#[derive(Clone, Debug)]
pub struct Elements<'t> {
    children: Children<'t>,
}

impl<'t> Iterator for Elements<'t> {
    type Item = Value<'t>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (idx, _) = self.children.next()?;
        Some(Value { tape: self.children.tape, idx })
    }
}

impl core::iter::FusedIterator for Elements<'_> {}

/// A string or key as it appears between its quotes, unescaped on demand.
#[derive(Clone, Copy, Debug)]
pub struct JsonStr<'t> {
    raw: &'t [u8],
    escaped: bool,
}

impl<'t> JsonStr<'t> {
    /// The unescaped UTF-8 bytes, one at a time.
    pub fn bytes(&self) -> StrBytes<'t> {
        StrBytes { raw: self.raw, pos: 0, buf: [0; 4], buf_pos: 0, buf_len: 0 }
    }

    /// Whether the unescaped string is exactly `other`.
    #[inline]
    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        if self.escaped { self.eq_escaped(other) } else { crate::swar::same_bytes(self.raw, other) }
    }

    #[inline(never)]
    fn eq_escaped(&self, other: &[u8]) -> bool {
        // An escape is never shorter than what it stands for.
        other.len() <= self.raw.len() && self.bytes().eq(other.iter().copied())
    }

    fn eq_str(&self, other: &JsonStr<'_>) -> bool {
        match (self.escaped, other.escaped) {
            (false, false) => self.raw == other.raw,
            (true, false) => self.eq_bytes(other.raw),
            (false, true) => other.eq_bytes(self.raw),
            (true, true) => self.bytes().eq(other.bytes()),
        }
    }

    /// The length of the unescaped string in bytes.
    pub fn unescaped_len(&self) -> usize {
        if !self.escaped {
            return self.raw.len();
        }
        let mut len = 0;
        let mut i = 0;
        while let Some(&b) = self.raw.get(i) {
            if b == b'\\' {
                let (c, n) = escape(self.raw, i).unwrap_or((u32::from(b), 1));
                len += encode_utf8(c).1;
                i += n;
            } else {
                len += 1;
                i += 1;
            }
        }
        len
    }

    /// The number of Unicode scalar values in the unescaped string.
    pub fn char_count(&self) -> usize {
        // Valid UTF-8 has one non-continuation byte per scalar value; an escape is one value.
        let starts = |s: &[u8]| s.iter().filter(|&&b| b & 0xc0 != 0x80).count();
        if !self.escaped {
            return starts(self.raw);
        }
        let mut count = 0;
        let mut i = 0;
        while let Some(&b) = self.raw.get(i) {
            if b == b'\\' {
                i += escape(self.raw, i).map_or(1, |(_, n)| n);
                count += 1;
            } else {
                let run = self.raw.get(i..).unwrap_or(&[]);
                let len = run.iter().position(|&b| b == b'\\').unwrap_or(run.len());
                count += starts(run.get(..len).unwrap_or(&[]));
                i += len;
            }
        }
        count
    }

    /// Writes the unescaped string to the front of `out` and returns that part, or `None` if
    /// `out` is too small.
    pub fn unescape_into<'o>(&self, out: &'o mut [u8]) -> Option<&'o [u8]> {
        if !self.escaped {
            let dst = out.get_mut(..self.raw.len())?;
            dst.copy_from_slice(self.raw);
            return Some(dst);
        }
        let mut n = 0;
        let mut i = 0;
        while let Some(&b) = self.raw.get(i) {
            if b == b'\\' {
                let (c, len) = escape(self.raw, i).unwrap_or((u32::from(b), 1));
                let (buf, k) = encode_utf8(c);
                out.get_mut(n..n + k)?.copy_from_slice(buf.get(..k)?);
                n += k;
                i += len;
            } else {
                let run = self.raw.get(i..).unwrap_or(&[]);
                let len = run.iter().position(|&b| b == b'\\').unwrap_or(run.len());
                out.get_mut(n..n + len)?.copy_from_slice(run.get(..len)?);
                n += len;
                i += len;
            }
        }
        let out: &'o [u8] = out;
        out.get(..n)
    }

    /// The text between the quotes, escapes included.
    pub fn raw(&self) -> &'t [u8] {
        self.raw
    }

    /// Whether the raw text has escapes (a backslash), so that [`JsonStr::raw`] differs from
    /// the unescaped string. Known from the scan; costs nothing.
    pub fn is_escaped(&self) -> bool {
        self.escaped
    }
}

/// The unescaped bytes of a [`JsonStr`], from [`JsonStr::bytes`].
#[derive(Clone, Debug)]
pub struct StrBytes<'t> {
    raw: &'t [u8],
    pos: usize,
    /// The rest of an escape's UTF-8 encoding.
    buf: [u8; 4],
    buf_pos: u8,
    buf_len: u8,
}

impl Iterator for StrBytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        if self.buf_pos < self.buf_len {
            let b = self.buf.get(usize::from(self.buf_pos)).copied();
            self.buf_pos += 1;
            return b;
        }
        let b = *self.raw.get(self.pos)?;
        if b != b'\\' {
            self.pos += 1;
            return Some(b);
        }
        // The tape was validated, so the fallback is never taken; it only keeps this total.
        let (c, len) = escape(self.raw, self.pos).unwrap_or((u32::from(b), 1));
        self.pos += len;
        let (buf, n) = encode_utf8(c);
        self.buf = buf;
        self.buf_pos = 1;
        self.buf_len = n as u8;
        buf.first().copied()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = usize::from(self.buf_len.saturating_sub(self.buf_pos));
        let rest = self.raw.len().saturating_sub(self.pos);
        // An escape of 6 bytes yields at least 1; 12 bytes yield 4 and 2 bytes yield 1.
        (buffered + rest.div_ceil(6), Some(buffered + rest))
    }
}

impl core::iter::FusedIterator for StrBytes<'_> {}

/// A number as written, compared exactly in decimal.
#[derive(Clone, Copy, Debug)]
pub struct JsonNumber<'t> {
    raw: &'t [u8],
}

/// Exponents beyond this saturate: with at most `ARGS_BYTES_MAX` digits, the value is then
/// either far above any `i64` or strictly between -1 and 1, as it would be without the cap.
const EXP_CAP: i64 = 1_000_000_000_000_000;

/// A number split at its parts: `-int.frac e exp`.
struct Decimal<'t> {
    neg: bool,
    int: &'t [u8],
    frac: &'t [u8],
    exp: i64,
}

/// The significant digits of a nonzero number: `digits` is the digit string without leading
/// and trailing zeros, and the value is `0.digits * 10^magnitude`, i.e. `digits * 10^scale`.
struct Significand<'t> {
    decimal: Decimal<'t>,
    first: usize,
    count: usize,
    magnitude: i64,
    scale: i64,
}

impl<'t> Significand<'t> {
    fn digits(&self) -> impl Iterator<Item = u8> + use<'t> {
        self.decimal
            .int
            .iter()
            .chain(self.decimal.frac.iter())
            .skip(self.first)
            .take(self.count)
            .map(|d| d.wrapping_sub(b'0'))
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let len = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    s.split_at_checked(len).unwrap_or((s, &[]))
}

fn decimal(raw: &[u8]) -> Decimal<'_> {
    let (neg, rest) = match raw.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, raw),
    };
    let (int, rest) = split_digits(rest);
    let (frac, rest) = match rest.split_first() {
        Some((b'.', rest)) => split_digits(rest),
        _ => (&[][..], rest),
    };
    let exp = match rest.split_first() {
        Some((b'e' | b'E', rest)) => {
            let (exp_neg, digits) = match rest.split_first() {
                Some((b'-', digits)) => (true, digits),
                Some((b'+', digits)) => (false, digits),
                _ => (false, rest),
            };
            let mut exp = 0i64;
            for &d in split_digits(digits).0 {
                if exp < EXP_CAP {
                    exp = exp * 10 + i64::from(d.wrapping_sub(b'0'));
                }
            }
            if exp_neg { -exp } else { exp }
        }
        _ => 0,
    };
    Decimal { neg, int, frac, exp }
}

impl<'t> Decimal<'t> {
    /// `None` when the number is zero.
    fn significand(self) -> Option<Significand<'t>> {
        let digits = || self.int.iter().chain(self.frac.iter());
        let first = digits().position(|&d| d != b'0')?;
        let trailing = digits().rev().position(|&d| d != b'0').unwrap_or(0);
        let total = self.int.len() + self.frac.len();
        let count = total.saturating_sub(first + trailing);
        // Lengths are at most `ARGS_BYTES_MAX` and `|exp| <= EXP_CAP`: no overflow.
        let magnitude = self.exp + self.int.len() as i64 - first as i64;
        let scale = self.exp - self.frac.len() as i64 + trailing as i64;
        Some(Significand { decimal: self, first, count, magnitude, scale })
    }
}

/// Number of decimal digits of `r`.
fn decimal_len(mut r: u64) -> i64 {
    let mut len = 1;
    while r >= 10 {
        r /= 10;
        len += 1;
    }
    len
}

/// Compares a nonzero magnitude with `r >= 1`.
fn cmp_magnitude(s: &Significand<'_>, r: u64) -> Ordering {
    let r_len = decimal_len(r);
    if s.magnitude != r_len {
        return s.magnitude.cmp(&r_len);
    }
    // Same number of integer digits: compare digit by digit from the most significant.
    // `unit` is the place value of the digit of `r` being compared; `r_len <= 20`, so the
    // power fits.
    let mut unit = 10u64.checked_pow((r_len - 1) as u32).unwrap_or(0);
    for d in s.digits() {
        let Some(r_digit) = r.checked_div(unit) else {
            // `r` is out of digits and the significand's last digit is nonzero.
            return Ordering::Greater;
        };
        match u64::from(d).cmp(&(r_digit % 10)) {
            Ordering::Equal => unit /= 10,
            other => return other,
        }
    }
    // The significand is out of digits; `r` is larger if any digit it has left is nonzero.
    match unit.checked_mul(10).and_then(|modulus| r.checked_rem(modulus)) {
        Some(rest) if rest != 0 => Ordering::Less,
        _ => Ordering::Equal,
    }
}

/// Parses a plain integer of at most 18 digits, the common case, without splitting it.
#[inline]
fn small_int(raw: &[u8]) -> Option<i64> {
    let (neg, digits) = match raw.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, raw),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(if neg { -v } else { v })
}

impl<'t> JsonNumber<'t> {
    /// Compares the exact value of the number with `rhs`.
    pub fn cmp_i64(&self, rhs: i64) -> Ordering {
        if let Some(v) = small_int(self.raw) {
            return v.cmp(&rhs);
        }
        let d = decimal(self.raw);
        let neg = d.neg;
        let Some(s) = d.significand() else {
            return 0.cmp(&rhs);
        };
        match (neg, rhs.cmp(&0)) {
            (false, Ordering::Less | Ordering::Equal) => Ordering::Greater,
            (true, Ordering::Greater | Ordering::Equal) => Ordering::Less,
            (false, Ordering::Greater) => cmp_magnitude(&s, rhs.unsigned_abs()),
            (true, Ordering::Less) => cmp_magnitude(&s, rhs.unsigned_abs()).reverse(),
        }
    }

    /// Whether the number is mathematically an integer: `5`, `5.0`, `5e0` and `50e-1` are,
    /// `5.5` is not.
    pub fn is_integer(&self) -> bool {
        if small_int(self.raw).is_some() {
            return true;
        }
        decimal(self.raw).significand().is_none_or(|s| s.scale >= 0)
    }

    /// The number as an `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        if let Some(v) = small_int(self.raw) {
            return Some(v);
        }
        let d = decimal(self.raw);
        let neg = d.neg;
        let Some(s) = d.significand() else {
            return Some(0);
        };
        if s.scale < 0 || s.magnitude > 19 {
            return None;
        }
        // At most 19 digits in all: the magnitude fits a `u64`.
        let mut v = 0u64;
        for d in s.digits() {
            v = v.checked_mul(10)?.checked_add(u64::from(d))?;
        }
        for _ in 0..s.scale {
            v = v.checked_mul(10)?;
        }
        if neg { 0i64.checked_sub_unsigned(v) } else { i64::try_from(v).ok() }
    }

    /// The number as written.
    pub fn raw(&self) -> &'t [u8] {
        self.raw
    }
}

#[cfg(test)]
mod reference;

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test"
)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn err(doc: &[u8]) -> JsonError {
        let mut tape = vec![Entry::EMPTY; JSON_VALUES_MAX];
        parse(doc, &mut tape).unwrap_err()
    }

    fn ok(doc: &[u8]) -> usize {
        let mut tape = vec![Entry::EMPTY; JSON_VALUES_MAX];
        match parse(doc, &mut tape) {
            Ok(t) => t.value_count(),
            Err(e) => panic!("{} rejected: {e:?}", String::from_utf8_lossy(doc)),
        }
    }

    fn with<R>(doc: &[u8], f: impl for<'t> FnOnce(Value<'t>) -> R) -> R {
        let mut tape = vec![Entry::EMPTY; JSON_VALUES_MAX];
        let t = parse(doc, &mut tape).unwrap();
        f(t.root())
    }

    fn num<R>(text: &str, f: impl FnOnce(JsonNumber<'_>) -> R) -> R {
        let doc = std::format!("{{\"n\":{text}}}");
        with(doc.as_bytes(), |root| f(root.get(b"n").unwrap().number().unwrap()))
    }

    fn unescaped(doc: &[u8], key: &[u8]) -> Vec<u8> {
        with(doc, |root| {
            let s = root.get(key).unwrap().string().unwrap();
            let mut buf = [0u8; 256];
            let out = s.unescape_into(&mut buf).unwrap().to_vec();
            assert_eq!(s.bytes().collect::<Vec<u8>>(), out);
            assert_eq!(s.unescaped_len(), out.len());
            assert!(s.eq_bytes(&out));
            let text = core::str::from_utf8(&out).unwrap();
            assert_eq!(s.char_count(), text.chars().count());
            out
        })
    }

    fn syn(offset: u32) -> JsonError {
        JsonError::Syntax { offset }
    }

    #[test]
    fn entry_is_small() {
        assert_eq!(size_of::<Entry>(), 24);
    }

    #[test]
    fn accepts_rfc_documents() {
        assert_eq!(ok(b"{}"), 1);
        assert_eq!(ok(b" \t\r\n{ \t\r\n} \t\r\n"), 1);
        assert_eq!(ok(br#"{"a":[1,-0,0.5,1e5,1E+5,-1.25e-3,true,false,null,"s",{},[]]}"#), 14);
        assert_eq!(ok(br#"{ "a" : [ 1 , { "b" : null } ] , "c" : "" }"#), 6);
        assert_eq!(ok("{\"é\":\"日本\u{1F600}\"}".as_bytes()), 2);
        assert_eq!(ok(br#"{"":0}"#), 2);
    }

    #[test]
    fn rejects_non_objects() {
        for doc in [&b""[..], b"   ", b"[]", b"1", b"\"a\"", b"null", b"\xef\xbb\xbf{}", b"}"] {
            assert_eq!(err(doc), JsonError::NotAnObject, "{doc:?}");
        }
    }

    #[test]
    fn syntax_errors_point_at_the_byte() {
        let cases: &[(&[u8], u32)] = &[
            (b"{", 1),
            (b"{\"a\"", 4),
            (b"{\"a\":", 5),
            (b"{\"a\":1", 6),
            (b"{\"a\":1,}", 7),
            (b"{\"a\" 1}", 5),
            (b"{\"a\":1 \"b\":2}", 7),
            (b"{a:1}", 1),
            (b"{'a':1}", 1),
            (b"{\"a\":[1,]}", 8),
            (b"{\"a\":[1 2]}", 8),
            (b"{\"a\":[}", 6),
            (b"{\"a\":{]}", 6),
            (b"{\"a\":tru}", 5),
            (b"{\"a\":True}", 5),
            (b"{\"a\":nul}", 5),
            (b"{\"a\":01}", 6),
            (b"{\"a\":-01}", 7),
            (b"{\"a\":+1}", 5),
            (b"{\"a\":.5}", 5),
            (b"{\"a\":1.}", 7),
            (b"{\"a\":1.e5}", 7),
            (b"{\"a\":1e}", 7),
            (b"{\"a\":1e+}", 8),
            (b"{\"a\":-}", 6),
            (b"{\"a\":NaN}", 5),
            (b"{\"a\":Infinity}", 5),
            (b"{\"a\":-Infinity}", 6),
            (b"{\"a\":0x10}", 6),
            (b"{\"a\":\"x}", 8),
            (b"{}{}", 2),
            (b"{} x", 3),
            (b"{}\x00", 2),
            (b"{}\x0c", 2),
            (b"{\"a\":1}\xc3\xa9", 7),
            (b"{\"a\":\xc3\xa9}", 5),
            (b"{\"a\"\x0b:1}", 4),
        ];
        for &(doc, offset) in cases {
            assert_eq!(err(doc), syn(offset), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn control_characters() {
        assert_eq!(err(b"{\"a\":\"x\x01\"}"), JsonError::ControlCharacter { offset: 7 });
        assert_eq!(err(b"{\"a\x00\":1}"), JsonError::ControlCharacter { offset: 3 });
        assert_eq!(err(b"{\"a\":\"\n\"}"), JsonError::ControlCharacter { offset: 6 });
        assert_eq!(err(b"{\"a\":\"\t\"}"), JsonError::ControlCharacter { offset: 6 });
        assert_eq!(err(b"{\"a\":\"\x1f\"}"), JsonError::ControlCharacter { offset: 6 });
        // DEL is not a control character for JSON.
        assert_eq!(unescaped(b"{\"a\":\"\x7f\"}", b"a"), b"\x7f");
    }

    #[test]
    fn invalid_utf8() {
        let cases: &[&[u8]] = &[
            b"\x80",             // lone continuation byte
            b"\xbf",             // lone continuation byte
            b"\xc0\x80",         // overlong NUL
            b"\xc1\xbf",         // overlong
            b"\xc3",             // truncated before the quote
            b"\xc3\x28",         // bad continuation
            b"\xe0\x80\x80",     // overlong 3-byte
            b"\xe0\x9f\xbf",     // overlong 3-byte
            b"\xed\xa0\x80",     // encoded surrogate U+D800
            b"\xed\xbf\xbf",     // encoded surrogate U+DFFF
            b"\xe2\x82",         // truncated 3-byte
            b"\xf0\x80\x80\x80", // overlong 4-byte
            b"\xf0\x8f\xbf\xbf", // overlong 4-byte
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xf5\x80\x80\x80", // invalid lead byte
            b"\xf8\x88\x80\x80\x80",
            b"\xff",
            b"\xf0\x9f\x98", // truncated 4-byte
        ];
        for &bad in cases {
            let mut doc = b"{\"a\":\"x".to_vec();
            doc.extend_from_slice(bad);
            doc.extend_from_slice(b"\"}");
            assert_eq!(err(&doc), JsonError::InvalidUtf8 { offset: 7 }, "{bad:?}");
            let mut doc = b"{\"ab".to_vec();
            doc.extend_from_slice(bad);
            doc.extend_from_slice(b"\":1}");
            assert_eq!(err(&doc), JsonError::InvalidUtf8 { offset: 4 }, "{bad:?}");
        }
        // Truncated at the end of the input.
        assert_eq!(err(b"{\"a\":\"\xe2\x82"), JsonError::InvalidUtf8 { offset: 6 });
        // The extremes of each valid range are accepted.
        for good in ["\u{80}", "\u{7ff}", "\u{800}", "\u{d7ff}", "\u{e000}", "\u{ffff}"] {
            let doc = std::format!("{{\"a\":\"{good}\"}}");
            assert_eq!(unescaped(doc.as_bytes(), b"a"), good.as_bytes());
        }
        for good in ["\u{10000}", "\u{10ffff}"] {
            let doc = std::format!("{{\"a\":\"{good}\"}}");
            assert_eq!(unescaped(doc.as_bytes(), b"a"), good.as_bytes());
        }
    }

    #[test]
    fn invalid_escapes() {
        let cases: &[(&[u8], u32)] = &[
            (br#"{"a":"\x"}"#, 6),
            (br#"{"a":"ab\'"}"#, 8),
            (br#"{"a":"\U0041"}"#, 6),
            (br#"{"a":"\u12G4"}"#, 6),
            (br#"{"a":"\u004"}"#, 6),
            (br#"{"a":"\u"}"#, 6),
            (br#"{"a":"\ "}"#, 6),
            (br#"{"\a":1}"#, 2),
            (b"{\"a\":\"\\", 6),
            (b"{\"a\":\"\\\x01\"}", 6),
            (br#"{"a":"\ud800\uZZZZ"}"#, 12),
        ];
        for &(doc, offset) in cases {
            let e = err(doc);
            assert_eq!(e, JsonError::InvalidEscape { offset }, "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn lone_surrogates() {
        let cases: &[(&[u8], u32)] = &[
            (br#"{"a":"\ud800"}"#, 6),
            (br#"{"a":"x\udbff"}"#, 7),
            (br#"{"a":"\udc00"}"#, 6),
            (br#"{"a":"\udfff\ud800"}"#, 6),
            (br#"{"a":"\ud800\u0041"}"#, 6),
            (br#"{"a":"\ud800\ud800"}"#, 6),
            (br#"{"a":"\ud800\n"}"#, 6),
            (br#"{"a":"\ud800x\udc00"}"#, 6),
            (br#"{"a":"\ud83d\ude00\ude00"}"#, 18),
            (br#"{"\ud800":1}"#, 2),
        ];
        for &(doc, offset) in cases {
            let e = err(doc);
            assert_eq!(e, JsonError::LoneSurrogate { offset }, "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn escapes_unescape() {
        assert_eq!(unescaped(br#"{"p":"\u002e\u002e/"}"#, b"p"), b"../");
        assert_eq!(unescaped(br#"{"p":"\"\\\/\b\f\n\r\t"}"#, b"p"), b"\"\\/\x08\x0c\n\r\t");
        assert_eq!(unescaped(br#"{"p":"\u00e9\u20AC\ud83d\ude00"}"#, b"p"), "é€😀".as_bytes());
        assert_eq!(unescaped(br#"{"p":"a\u0000b"}"#, b"p"), b"a\0b");
        assert_eq!(unescaped(br#"{"p":"\uDBFF\uDFFF"}"#, b"p"), "\u{10ffff}".as_bytes());
        assert_eq!(unescaped("{\"p\":\"é\\u00e9x\"}".as_bytes(), b"p"), "ééx".as_bytes());
        assert_eq!(unescaped(br#"{"p":"plain"}"#, b"p"), b"plain");
        assert_eq!(unescaped(br#"{"p":""}"#, b"p"), b"");
        // Keys are looked up unescaped.
        with(br#"{"\u002e\u002e/":1,"a\/b":2}"#, |root| {
            assert_eq!(root.get(b"../").unwrap().number().unwrap().as_i64(), Some(1));
            assert_eq!(root.get(b"a/b").unwrap().number().unwrap().as_i64(), Some(2));
            assert!(root.get(br"a\/b").is_none());
            let (k, _) = root.members().next().unwrap();
            assert_eq!(k.raw(), br"\u002e\u002e/");
            assert!(k.eq_bytes(b"../"));
            assert!(!k.eq_bytes(b"../x"));
            assert!(!k.eq_bytes(b".."));
        });
    }

    #[test]
    fn unescape_into_needs_room() {
        with(br#"{"a":"\u00e9x","b":"plain"}"#, |root| {
            let a = root.get(b"a").unwrap().string().unwrap();
            let b = root.get(b"b").unwrap().string().unwrap();
            let mut buf = [0u8; 3];
            assert_eq!(a.unescape_into(&mut buf), Some("éx".as_bytes()));
            assert_eq!(a.unescape_into(&mut buf[..2]), None);
            assert_eq!(b.unescape_into(&mut buf), None);
            let mut big = [0u8; 8];
            assert_eq!(b.unescape_into(&mut big), Some(&b"plain"[..]));
            assert_eq!(b.char_count(), 5);
            assert_eq!(a.char_count(), 2);
            assert_eq!(a.unescaped_len(), 3);
        });
    }

    #[test]
    fn duplicate_keys() {
        let cases: &[(&[u8], u32)] = &[
            (br#"{"a":1,"a":2}"#, 7),
            (br#"{"a":1,"\u0061":2}"#, 7),
            (br#"{"\u0061":1,"a":2}"#, 12),
            (br#"{"\u0061":1,"\u0061":2}"#, 12),
            (br#"{"/":1,"\/":2}"#, 7),
            ("{\"😀\":1,\"\\ud83d\\ude00\":2}".as_bytes(), 10),
            (br#"{"a":{"x":[1,2]},"b":1,"a":2}"#, 23),
            (br#"{"x":{"a":1,"b":2,"a":3}}"#, 18),
            (br#"{"x":[{"a":1},{"a":1,"a":2}]}"#, 21),
            (br#"{"x":[[{"y":{"z":0,"z":0}}]]}"#, 19),
            (br#"{"":1,"":2}"#, 6),
        ];
        for &(doc, offset) in cases {
            let e = err(doc);
            assert_eq!(e, JsonError::DuplicateKey { offset }, "{}", String::from_utf8_lossy(doc));
        }
        // The same key in different objects, and keys that differ only after unescaping.
        ok(br#"{"a":{"a":{"a":1}},"b":{"a":1},"c":[{"a":1},{"a":2}]}"#);
        ok(br#"{"a":1,"\u0062":2,"A":3,"a ":4,"\u0000":5,"":6}"#);
    }

    /// Two distinct keys, `prefix` and six pseudo-random characters, with equal hashes: a
    /// birthday search over random keys, since the multiplicative hash spreads `k0`, `k1`, ...
    /// too evenly for them to collide soon.
    fn colliding_keys(prefix: &str) -> (String, String) {
        const CHARS: &[u8; 64] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut seen = std::collections::BTreeMap::new();
        loop {
            let bits = rng.next();
            let tail: String =
                (0..6).map(|i| char::from(CHARS[(bits >> (6 * i)) as usize % 64])).collect();
            let key = std::format!("{prefix}{tail}");
            if let Some(other) = seen.insert(key_hash(key.as_bytes()), key.clone())
                && other != key
            {
                return (other, key);
            }
        }
    }

    #[test]
    fn hash_collisions_compare_bytes() {
        let (a, b) = colliding_keys("k");
        assert_ne!(a, b);
        let doc = std::format!("{{\"{a}\":1,\"{b}\":2}}");
        with(doc.as_bytes(), |root| {
            assert_eq!(root.get(a.as_bytes()).unwrap().number().unwrap().as_i64(), Some(1));
            assert_eq!(root.get(b.as_bytes()).unwrap().number().unwrap().as_i64(), Some(2));
        });
        let doc = std::format!("{{\"{a}\":1,\"{b}\":2,\"{a}\":3}}");
        assert_eq!(
            err(doc.as_bytes()),
            JsonError::DuplicateKey { offset: (doc.len() - 5 - a.len()) as u32 }
        );
        // Escaped the same way, the colliding keys must still differ.
        let esc = |s: &str| s.bytes().map(|b| std::format!("\\u{b:04x}")).collect::<String>();
        let doc = std::format!("{{\"{}\":1,\"{}\":2}}", esc(&a), esc(&b));
        ok(doc.as_bytes());
    }

    fn nested(depth: usize) -> Vec<u8> {
        // The root object plus `depth - 1` arrays.
        let mut doc = b"{\"a\":".to_vec();
        doc.extend(core::iter::repeat_n(b'[', depth - 1));
        doc.extend(core::iter::repeat_n(b']', depth - 1));
        doc.push(b'}');
        doc
    }

    #[test]
    fn depth_limit() {
        assert_eq!(ok(&nested(JSON_DEPTH_MAX)), JSON_DEPTH_MAX);
        let offset = (5 + JSON_DEPTH_MAX - 1) as u32;
        assert_eq!(err(&nested(JSON_DEPTH_MAX + 1)), JsonError::DepthExceeded { offset });
        // Objects count the same as arrays.
        let mut doc = Vec::new();
        for _ in 0..JSON_DEPTH_MAX {
            doc.extend_from_slice(b"{\"a\":");
        }
        doc.push(b'1');
        doc.extend(core::iter::repeat_n(b'}', JSON_DEPTH_MAX));
        assert_eq!(ok(&doc), JSON_DEPTH_MAX + 1);
        doc.splice(doc.len() - JSON_DEPTH_MAX - 1..doc.len() - JSON_DEPTH_MAX, *b"{}");
        assert_eq!(err(&doc), JsonError::DepthExceeded { offset: (5 * JSON_DEPTH_MAX) as u32 });
        // A deep document far beyond the limit fails fast, without recursion.
        let deep = nested(100_000);
        assert_eq!(err(&deep), JsonError::DepthExceeded { offset });
    }

    fn array_of(values: usize) -> Vec<u8> {
        // The root, the array, and `values - 2` elements.
        let mut doc = b"{\"a\":[".to_vec();
        for i in 0..values - 2 {
            if i > 0 {
                doc.push(b',');
            }
            doc.push(b'0');
        }
        doc.extend_from_slice(b"]}");
        doc
    }

    #[test]
    fn value_limit() {
        assert_eq!(ok(&array_of(JSON_VALUES_MAX)), JSON_VALUES_MAX);
        assert_eq!(err(&array_of(JSON_VALUES_MAX + 1)), JsonError::TooManyValues);
        // A larger tape does not raise the limit.
        let mut tape = vec![Entry::EMPTY; 2 * JSON_VALUES_MAX];
        assert_eq!(
            parse(&array_of(JSON_VALUES_MAX + 1), &mut tape).unwrap_err(),
            JsonError::TooManyValues
        );
        // A shorter tape lowers it.
        let mut tape = [Entry::EMPTY; 4];
        assert_eq!(parse(&array_of(4), &mut tape).unwrap().value_count(), 4);
        assert_eq!(parse(&array_of(5), &mut tape).unwrap_err(), JsonError::TooManyValues);
        assert_eq!(parse(b"{}", &mut []).unwrap_err(), JsonError::TooManyValues);
        let mut one = [Entry::EMPTY; 1];
        assert_eq!(parse(b"{}", &mut one).unwrap().value_count(), 1);
        assert_eq!(parse(br#"{"a":{}}"#, &mut one).unwrap_err(), JsonError::TooManyValues);
    }

    fn object_of(keys: usize) -> Vec<u8> {
        let mut doc = b"{\"o\":{".to_vec();
        for i in 0..keys {
            if i > 0 {
                doc.push(b',');
            }
            doc.extend_from_slice(std::format!("\"k{i}\":{i}").as_bytes());
        }
        doc.extend_from_slice(b"}}");
        doc
    }

    #[test]
    fn key_limit() {
        assert_eq!(ok(&object_of(OBJECT_KEYS_MAX)), OBJECT_KEYS_MAX + 2);
        let doc = object_of(OBJECT_KEYS_MAX + 1);
        let offset = doc.windows(6).position(|w| w == b"\"k256\"").unwrap() as u32;
        assert_eq!(err(&doc), JsonError::TooManyKeys { offset });
        // Members whose values take several entries (and close containers before the next key):
        // the limit counts members, not entries.
        let nested = |keys: usize| {
            let mut doc = b"{".to_vec();
            for i in 0..keys {
                if i > 0 {
                    doc.push(b',');
                }
                doc.extend_from_slice(std::format!("\"k{i}\":[1,{{}}]").as_bytes());
            }
            doc.push(b'}');
            doc
        };
        assert_eq!(ok(&nested(OBJECT_KEYS_MAX)), 3 * OBJECT_KEYS_MAX + 1);
        let doc = nested(OBJECT_KEYS_MAX + 1);
        let offset = doc.windows(6).position(|w| w == b"\"k256\"").unwrap() as u32;
        assert_eq!(err(&doc), JsonError::TooManyKeys { offset });
        // Key length: at the limit accepted, one past it rejected at the key's quote.
        let at_limit = std::format!("{{\"{}\":1}}", "k".repeat(KEY_BYTES_MAX));
        assert_eq!(ok(at_limit.as_bytes()), 2);
        let past = std::format!("{{\"{}\":1}}", "k".repeat(KEY_BYTES_MAX + 1));
        assert_eq!(err(past.as_bytes()), JsonError::KeyTooLong { offset: 1 });
        with(&object_of(OBJECT_KEYS_MAX), |root| {
            let o = root.get(b"o").unwrap();
            assert_eq!(o.len(), OBJECT_KEYS_MAX);
            for i in 0..OBJECT_KEYS_MAX {
                let key = std::format!("k{i}");
                let v = o.get(key.as_bytes()).unwrap().number().unwrap();
                assert_eq!(v.as_i64(), Some(i as i64));
            }
            assert!(o.get(b"k256").is_none());
        });
    }

    #[test]
    fn size_limit() {
        let mut doc = vec![b' '; ARGS_BYTES_MAX];
        doc[0] = b'{';
        doc[1] = b'}';
        assert_eq!(ok(&doc), 1);
        doc.push(b' ');
        assert_eq!(err(&doc), JsonError::TooLarge);
        // A string filling the whole input.
        let mut doc = vec![b'x'; ARGS_BYTES_MAX];
        doc[..6].copy_from_slice(b"{\"a\":\"");
        let n = doc.len();
        doc[n - 2..].copy_from_slice(b"\"}");
        with(&doc, |root| {
            assert_eq!(root.get(b"a").unwrap().string().unwrap().unescaped_len(), n - 8);
        });
    }

    #[test]
    fn reading_api() {
        let doc = br#" {"b":1, "a":[true,null,{"c":"x"},[]], "s":"h\u0069", "e":{}} "#;
        with(doc, |root| {
            assert_eq!(root.kind(), Kind::Object);
            assert_eq!(root.raw(), &doc[1..doc.len() - 1]);
            assert_eq!(root.len(), 4);
            let keys: Vec<Vec<u8>> = root.members().map(|(k, _)| k.bytes().collect()).collect();
            assert_eq!(keys, [&b"b"[..], b"a", b"s", b"e"]);
            let kinds: Vec<Kind> = root.members().map(|(_, v)| v.kind()).collect();
            assert_eq!(kinds, [Kind::Number, Kind::Array, Kind::String, Kind::Object]);
            let a = root.get(b"a").unwrap();
            assert_eq!(a.raw(), br#"[true,null,{"c":"x"},[]]"#);
            assert_eq!(a.len(), 4);
            let kinds: Vec<Kind> = a.elements().map(|v| v.kind()).collect();
            assert_eq!(kinds, [Kind::Bool, Kind::Null, Kind::Object, Kind::Array]);
            let e: Vec<Value<'_>> = a.elements().collect();
            assert_eq!(e[0].as_bool(), Some(true));
            assert_eq!(e[1].as_bool(), None);
            assert_eq!(e[2].get(b"c").unwrap().string().unwrap().raw(), b"x");
            assert_eq!(e[2].get(b"c").unwrap().raw(), b"\"x\"");
            assert!(e[3].is_empty());
            assert_eq!(a.members().count(), 0);
            assert_eq!(root.elements().count(), 0);
            assert!(a.get(b"0").is_none());
            assert!(root.get(b"missing").is_none());
            assert!(root.get(b"c").is_none());
            let s = root.get(b"s").unwrap();
            assert_eq!(s.raw(), br#""h\u0069""#);
            assert!(s.string().unwrap().eq_bytes(b"hi"));
            assert!(s.number().is_none());
            assert!(root.string().is_none());
            assert_eq!(s.len(), 0);
            assert_eq!(root.get(b"e").unwrap().len(), 0);
            assert_eq!(root.get(b"b").unwrap().raw(), b"1");
        });
        with(br#"{"t":true,"f":false,"n":null}"#, |root| {
            assert_eq!(root.get(b"t").unwrap().as_bool(), Some(true));
            assert_eq!(root.get(b"f").unwrap().as_bool(), Some(false));
            assert_eq!(root.get(b"n").unwrap().kind(), Kind::Null);
            assert_eq!(root.get(b"n").unwrap().as_bool(), None);
        });
        // Siblings after deep subtrees are found through the next-sibling links.
        with(br#"{"a":[[1,[2,{"x":[3]}]],4],"b":{"c":{"d":[]}},"z":5}"#, |root| {
            let a: Vec<&[u8]> = root.get(b"a").unwrap().elements().map(|v| v.raw()).collect();
            assert_eq!(a, [&br#"[1,[2,{"x":[3]}]]"#[..], b"4"]);
            assert_eq!(root.get(b"z").unwrap().raw(), b"5");
            let d = root.get(b"b").and_then(|b| b.get(b"c")).and_then(|c| c.get(b"d")).unwrap();
            assert_eq!(d.kind(), Kind::Array);
            assert_eq!(root.len(), 3);
        });
    }

    #[test]
    fn numbers() {
        use Ordering::{Equal, Greater, Less};
        let cmp: &[(&str, i64, Ordering)] = &[
            ("0", 0, Equal),
            ("-0", 0, Equal),
            ("-0.0", 0, Equal),
            ("-0.0", -1, Greater),
            ("0.000e5", 1, Less),
            ("0e999999999999", 0, Equal),
            ("12.50", 12, Greater),
            ("12.50", 13, Less),
            ("1.5e1", 15, Equal),
            ("150e-1", 15, Equal),
            ("1e2", 100, Equal),
            ("10e1", 100, Equal),
            ("1000e-1", 100, Equal),
            ("1e+2", 101, Less),
            ("1e400", i64::MAX, Greater),
            ("-1e400", i64::MIN, Less),
            ("1e999999999999", i64::MAX, Greater),
            ("1e-999999999999", 0, Greater),
            ("1e-999999999999", 1, Less),
            ("-1e-999999999999", 0, Less),
            ("-1e-999999999999", -1, Greater),
            ("1e99999999999999999999999999", i64::MAX, Greater),
            ("1e-99999999999999999999999999", 1, Less),
            ("123456789012345678901234567890", i64::MAX, Greater),
            ("-123456789012345678901234567890", i64::MIN, Less),
            ("9223372036854775807", i64::MAX, Equal),
            ("9223372036854775808", i64::MAX, Greater),
            ("9223372036854775807.5", i64::MAX, Greater),
            ("9223372036854775806.9", i64::MAX, Less),
            ("92233720368547758.07e2", i64::MAX, Equal),
            ("-9223372036854775808", i64::MIN, Equal),
            ("-9223372036854775809", i64::MIN, Less),
            ("-9223372036854775807.5", i64::MIN, Greater),
            ("9999999999999999999", i64::MAX, Greater),
            ("1000000000000000000", 1_000_000_000_000_000_000, Equal),
            ("1.0000000000000000000000001", 1, Greater),
            ("1.0000000000000000000000001", 2, Less),
            ("0.99999999999999999999", 1, Less),
            ("0.99999999999999999999", 0, Greater),
            ("-1.0", -1, Equal),
            ("-5.5", -5, Less),
            ("-5.5", -6, Greater),
            ("5", -5, Greater),
            ("-5", 5, Less),
            ("1e-5", 0, Greater),
            ("-1e-5", 0, Less),
            ("123", i64::MIN, Greater),
            ("-123", i64::MAX, Less),
            ("10", 9, Greater),
            ("10", 11, Less),
            ("100.0", 100, Equal),
            ("0.01e2", 1, Equal),
            ("20e-1", 2, Equal),
            ("19e-1", 2, Less),
            ("21e-1", 2, Greater),
            ("1E3", 999, Greater),
        ];
        for &(text, rhs, want) in cmp {
            assert_eq!(num(text, |n| n.cmp_i64(rhs)), want, "{text} vs {rhs}");
        }
        let int: &[(&str, bool, Option<i64>)] = &[
            ("5", true, Some(5)),
            ("5.0", true, Some(5)),
            ("5e0", true, Some(5)),
            ("50e-1", true, Some(5)),
            ("0.5e1", true, Some(5)),
            ("500e-2", true, Some(5)),
            ("5.5", false, None),
            ("-5.5", false, None),
            ("0.000", true, Some(0)),
            ("-0", true, Some(0)),
            ("-0.0e-7", true, Some(0)),
            ("0e999999999999", true, Some(0)),
            ("1e18", true, Some(1_000_000_000_000_000_000)),
            ("-1e18", true, Some(-1_000_000_000_000_000_000)),
            ("1e19", true, None),
            ("10000000000000000000e-1", true, Some(1_000_000_000_000_000_000)),
            ("9223372036854775807", true, Some(i64::MAX)),
            ("9223372036854775808", true, None),
            ("-9223372036854775808", true, Some(i64::MIN)),
            ("-9223372036854775809", true, None),
            ("-92233720368547758.08e2", true, Some(i64::MIN)),
            ("123456789012345678901234567890", true, None),
            ("1e999999999999", true, None),
            ("1e-999999999999", false, None),
            ("1.0000000000000000000000001", false, None),
            ("12.50", false, None),
            ("1.5e1", true, Some(15)),
            ("1.55e1", false, None),
            ("999999999999999999", true, Some(999_999_999_999_999_999)),
            ("-999999999999999999", true, Some(-999_999_999_999_999_999)),
        ];
        for &(text, integer, value) in int {
            assert_eq!(num(text, |n| n.is_integer()), integer, "{text}");
            assert_eq!(num(text, |n| n.as_i64()), value, "{text}");
            assert_eq!(num(text, |n| n.raw().len()), text.len());
        }
    }

    #[test]
    fn errors_have_codes_and_messages() {
        let all = [
            JsonError::Syntax { offset: 1 },
            JsonError::DuplicateKey { offset: 2 },
            JsonError::DepthExceeded { offset: 3 },
            JsonError::TooManyValues,
            JsonError::TooManyKeys { offset: 4 },
            JsonError::TooLarge,
            JsonError::InvalidUtf8 { offset: 5 },
            JsonError::InvalidEscape { offset: 6 },
            JsonError::LoneSurrogate { offset: 7 },
            JsonError::ControlCharacter { offset: 8 },
            JsonError::NotAnObject,
        ];
        let mut codes: Vec<&str> = all.iter().map(JsonError::code).collect();
        for (e, code) in all.iter().zip(&codes) {
            assert!(
                code.starts_with("json.")
                    && code.bytes().all(|b| b == b'.'
                        || b == b'_'
                        || b.is_ascii_lowercase()
                        || b.is_ascii_digit()),
                "{code}"
            );
            let msg = std::format!("{e}");
            assert!(!msg.ends_with('.') && !msg.is_empty(), "{msg}");
            assert_eq!(msg, msg.to_lowercase(), "{msg}");
            if let Some(offset) = e.offset() {
                assert!(msg.ends_with(&std::format!("at byte {offset}")), "{msg}");
            }
        }
        assert_eq!(codes[0], "json.syntax");
        assert_eq!(codes[1], "json.duplicate_key");
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }

    /// Asserts that the two scanners' results look the same through every public reader.
    fn same_value(v: Value<'_>, r: reference::Value<'_>, doc: &[u8]) {
        let ctx = || String::from_utf8_lossy(doc).into_owned();
        assert_eq!(v.kind(), r.kind(), "{}", ctx());
        assert_eq!(v.raw(), r.raw(), "{}", ctx());
        assert_eq!(v.len(), r.len(), "{}", ctx());
        assert_eq!(v.subtree_len(), r.subtree_len(), "{}", ctx());
        assert_eq!(v.as_bool(), r.as_bool(), "{}", ctx());
        match (v.string(), r.string()) {
            (Some(s), Some(t)) => {
                assert_eq!((s.raw(), s.is_escaped()), (t.raw(), t.is_escaped()), "{}", ctx());
            }
            (None, None) => {}
            _ => panic!("string differs: {}", ctx()),
        }
        assert_eq!(v.number().map(|x| x.raw()), r.number().map(|x| x.raw()), "{}", ctx());
        let mut count = 0;
        for ((k, m), (rk, rm)) in v.members().zip(r.members()) {
            assert_eq!((k.raw(), k.is_escaped()), (rk.raw(), rk.is_escaped()), "{}", ctx());
            same_value(m, rm, doc);
            // Lookup by the unescaped key finds the same member (first of its name).
            let mut buf = [0u8; KEY_BYTES_MAX];
            let key = k.unescape_into(&mut buf).unwrap();
            assert_eq!(v.get(key).map(|x| x.raw()), r.get(key).map(|x| x.raw()), "{}", ctx());
            assert_eq!(v.get(key).unwrap().raw(), m.raw(), "{}", ctx());
            count += 1;
        }
        assert_eq!(count, r.members().count(), "{}", ctx());
        assert_eq!(v.elements().count(), r.elements().count(), "{}", ctx());
        for (e, re) in v.elements().zip(r.elements()) {
            same_value(e, re, doc);
        }
    }

    /// The envelope that [`parse_call`] must find in `tape`, by lookups: `name` and
    /// `arguments` only in a `params` that is an object.
    fn expected_envelope(tape: &Tape<'_>) -> Envelope {
        let idx = |v: Option<Value<'_>>| v.map_or(Envelope::ABSENT, |v| v.idx);
        let root = tape.root();
        let params = root.get(b"params");
        let object = params.filter(|p| p.kind() == Kind::Object);
        Envelope {
            method: idx(root.get(b"method")),
            params: idx(params),
            name: idx(object.and_then(|p| p.get(b"name"))),
            arguments: idx(object.and_then(|p| p.get(b"arguments"))),
        }
    }

    /// Asserts that [`parse_call`] accepts `doc`, which [`parse_body`] read into `body`, with
    /// the same tape, and finds the envelope that lookups find.
    fn same_call(doc: &[u8], body: &Tape<'_>) -> Envelope {
        let mut ctape = vec![Entry::EMPTY; body.value_count()];
        let (call, envelope) = parse_call(doc, &mut ctape).expect("parse_body accepted it");
        let ctx = || String::from_utf8_lossy(doc).into_owned();
        assert_eq!(
            std::format!("{:?}", call.entries),
            std::format!("{:?}", body.entries),
            "{}",
            ctx()
        );
        assert_eq!(envelope, expected_envelope(body), "{}", ctx());
        envelope
    }

    /// The envelope [`parse_call`] finds in `doc`, which it must accept.
    fn envelope_of(doc: &[u8]) -> Envelope {
        let mut tape = vec![Entry::EMPTY; BODY_VALUES_MAX];
        let body = parse_body(doc, &mut tape).unwrap();
        same_call(doc, &body)
    }

    #[test]
    fn the_envelope_is_found_while_scanning() {
        // 0, the root's index, stands for an absent member: the root is never one.
        let or_absent = |i| if i == 0 { Envelope::ABSENT } else { i };
        let found = |m, p, n, a| Envelope {
            method: or_absent(m),
            params: or_absent(p),
            name: or_absent(n),
            arguments: or_absent(a),
        };
        let cases: &[(&[u8], Envelope)] = &[
            (
                br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","arguments":{"path":"/"}}}"#,
                found(3, 4, 5, 6),
            ),
            // Any order, any value kinds: the caller judges the values.
            (br#"{"params":{"arguments":1,"name":[]},"method":null}"#, found(4, 1, 3, 2)),
            // `name` and `arguments` count only inside a `params` that is an object.
            (br#"{"params":[{"name":"t","arguments":{}}],"name":"u"}"#, found(0, 1, 0, 0)),
            (br#"{"params":"x","arguments":{},"name":"t"}"#, found(0, 1, 0, 0)),
            (br#"{"name":"t","arguments":{},"method":"tools/call"}"#, found(3, 0, 0, 0)),
            // Not at another depth, nor in a nested object named `params`.
            (br#"{"a":{"method":"tools/call","params":{"name":"t"}}}"#, found(0, 0, 0, 0)),
            (
                br#"{"params":{"params":{"name":"t","arguments":{}},"x":{"name":"u"}}}"#,
                found(0, 1, 0, 0),
            ),
            (br#"{"params":{"arguments":{"method":"m","name":"n"}}}"#, found(0, 1, 0, 2)),
            // Keys match unescaped, whatever their escapes.
            (
                br#"{"method":"tools/call","params":{"name":"t","arguments":{}}}"#,
                found(1, 2, 3, 4),
            ),
            // A trailing NUL leaves a key's hash unchanged: the bytes decide, not the hash.
            (
                br#"{"method\u0000":1,"params\u0000":{"name":1},"params":{"name\u0000":1,"arguments\u0000":2}}"#,
                found(0, 4, 0, 0),
            ),
            (br#"{"Method":1,"params ":{},"metho":2,"paramsx":{}}"#, found(0, 0, 0, 0)),
            // Keys of one word are matched by their word, longer and escaped ones by hash and
            // bytes, the empty key (whose word is 0) too.
            (
                br#"{"":1,"method":"m","params":{"":2,"name":"n","argument":3,"arguments":{}}}"#,
                found(2, 3, 5, 7),
            ),
            (
                br#"{"methodx":1,"parameters":2,"params":{"names":1,"argumentsx":2,"argumentz":3}}"#,
                found(0, 3, 0, 0),
            ),
            (br#"{}"#, found(0, 0, 0, 0)),
        ];
        for &(doc, want) in cases {
            assert_eq!(envelope_of(doc), want, "{}", String::from_utf8_lossy(doc));
        }
        // A repeated member is refused before any caller reads the envelope.
        let mut tape = vec![Entry::EMPTY; 16];
        for (doc, offset) in [
            (&br#"{"method":"tools/call","method":"x"}"#[..], 23),
            (br#"{"method":"a","method":"b"}"#, 14),
            (br#"{"params":{"name":"a","name":"b"}}"#, 22),
        ] {
            let error = parse_call(doc, &mut tape).map(|_| ()).unwrap_err();
            assert_eq!(error, JsonError::DuplicateKey { offset });
        }
        // Tape entries past a failed scan do not leak into the next scan's envelope.
        let doc = br#"{"params":{"name":"t","arguments":{}}}"#;
        assert_eq!(parse_call(b"{\"params\":{\"name\":1", &mut tape).map(|_| ()), Err(syntax(19)));
        assert_eq!(parse_call(doc, &mut tape).unwrap().1, found(0, 1, 2, 3));
    }

    /// Parses `doc` with both scanners, both entry points and a tape of `cap` entries, and
    /// asserts the same outcome: the same error with the same offset, or the same tape.
    fn same_as_reference(doc: &[u8], cap: usize) -> bool {
        let mut tape = vec![Entry::EMPTY; cap];
        let mut rtape = vec![reference::Entry::EMPTY; cap];
        let mut accepted = false;
        for body in [false, true] {
            let (got, want) = if body {
                (parse_body(doc, &mut tape), reference::parse_body(doc, &mut rtape))
            } else {
                (parse(doc, &mut tape), reference::parse(doc, &mut rtape))
            };
            match (got, want) {
                (Ok(t), Ok(r)) => {
                    assert_eq!(t.value_count(), r.value_count());
                    same_value(t.root(), r.root(), doc);
                    accepted = true;
                    if body {
                        same_call(doc, &t);
                    }
                }
                (Err(e), Err(r)) => {
                    assert_eq!(e, r, "{}", String::from_utf8_lossy(doc));
                    if body {
                        let mut ctape = vec![Entry::EMPTY; cap];
                        let call = parse_call(doc, &mut ctape).map(|_| ());
                        assert_eq!(call, Err(e), "{}", String::from_utf8_lossy(doc));
                    }
                }
                (got, want) => panic!(
                    "{}: {:?} vs {:?}",
                    String::from_utf8_lossy(doc),
                    got.map(|t| t.value_count()),
                    want.map(|t| t.value_count())
                ),
            }
        }
        accepted
    }

    /// A small deterministic generator (xorshift64*), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len())]
        }
    }

    const KEY_PIECES: &[&[u8]] = &[
        b"a",
        b"b",
        b"id",
        b"path",
        b"name",
        b"jsonrpc",
        b"arguments",
        b"\\u0061",
        b"\\n",
        b"\\ud83d\\ude00",
        b"\xc3\xa9",
        b"\xf0\x9f\x98\x80",
        b"abcdefg",
        b"abcdefgh",
        b"\\\"",
        b"\\u0000",
        b"x",
        b"method",
        b"params",
        b"name",
        b"\\u006e",
    ];
    const STRING_PIECES: &[&[u8]] = &[
        b"",
        b"a",
        b"/workspace/src/main.rs",
        b"2.0",
        b"tools/call",
        b"\\u00e9",
        b"\\t",
        b"\\/",
        b"\xe2\x82\xac",
        b"\xed\x9f\xbf",
        b"\\uD800\\uDC00",
        b"\\\\",
        b"0123456789abcdef",
        b" ",
    ];
    const NUMBERS: &[&[u8]] = &[
        b"0",
        b"1",
        b"-1",
        b"12",
        b"-0",
        b"1.5",
        b"1e5",
        b"1E-5",
        b"0.0e+0",
        b"123456789012",
        b"-9.75e300",
    ];
    const WS: &[&[u8]] = &[b"", b"", b"", b"", b" ", b"\n", b"\t ", b"\r\n  "];

    fn gen_key(rng: &mut Rng, out: &mut Vec<u8>) {
        match rng.below(40) {
            0 => out.extend(core::iter::repeat_n(b'k', KEY_BYTES_MAX - 1 + rng.below(4))),
            1 => out.extend(core::iter::repeat_n(b'k', 5 + rng.below(20))),
            _ => {
                for _ in 0..1 + rng.below(2) {
                    out.extend_from_slice(rng.pick(KEY_PIECES));
                }
            }
        }
    }

    fn gen_value(rng: &mut Rng, out: &mut Vec<u8>, depth: usize) {
        let ws = |rng: &mut Rng, out: &mut Vec<u8>| out.extend_from_slice(rng.pick(WS));
        match rng.below(if depth > 5 { 5 } else { 8 }) {
            0 => out.extend_from_slice(rng.pick(&[&b"true"[..], b"false", b"null"])),
            1 | 2 => out.extend_from_slice(rng.pick(NUMBERS)),
            3 | 4 => {
                out.push(b'"');
                for _ in 0..rng.below(4) {
                    out.extend_from_slice(rng.pick(STRING_PIECES));
                }
                out.push(b'"');
            }
            5 | 6 => {
                out.push(b'{');
                for i in 0..rng.below(6) {
                    if i > 0 {
                        out.push(b',');
                    }
                    ws(rng, out);
                    out.push(b'"');
                    gen_key(rng, out);
                    out.push(b'"');
                    ws(rng, out);
                    out.push(b':');
                    ws(rng, out);
                    gen_value(rng, out, depth + 1);
                    ws(rng, out);
                }
                out.push(b'}');
            }
            _ => {
                out.push(b'[');
                for i in 0..rng.below(5) {
                    if i > 0 {
                        out.push(b',');
                    }
                    ws(rng, out);
                    gen_value(rng, out, depth + 1);
                    ws(rng, out);
                }
                out.push(b']');
            }
        }
    }

    #[test]
    fn same_as_the_reference_scanner() {
        let interesting = b"{}[]\",:\\u0e1-.tfnE+ \t\n\xc3\xa9\xed\xa0\xf0\x80\x01\x00\x7f\xffa";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        let runs = if cfg!(debug_assertions) { 300_000 } else { 1_000_000 };
        for _ in 0..runs {
            let mut doc = Vec::new();
            doc.extend_from_slice(rng.pick(WS));
            doc.push(b'{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    doc.push(b',');
                }
                doc.push(b'"');
                gen_key(&mut rng, &mut doc);
                doc.extend_from_slice(b"\":");
                gen_value(&mut rng, &mut doc, 1);
            }
            doc.push(b'}');
            doc.extend_from_slice(rng.pick(WS));
            // Most documents get a few mutations; a quarter stay valid (or nearly).
            for _ in 0..rng.below(4) {
                if doc.is_empty() {
                    break;
                }
                let at = rng.below(doc.len() + 1);
                match rng.below(5) {
                    0 => doc.insert(at, rng.pick(interesting)),
                    1 if at < doc.len() => {
                        doc.remove(at);
                    }
                    2 if at < doc.len() => doc[at] = rng.pick(interesting),
                    3 if at < doc.len() => doc[at] = rng.next() as u8,
                    _ => doc.truncate(at),
                }
            }
            let cap = match rng.below(8) {
                0 => rng.below(12),
                _ => BODY_VALUES_MAX,
            };
            accepted += usize::from(same_as_reference(&doc, cap));
        }
        assert!(accepted > runs / 10, "{accepted}");
    }

    #[test]
    fn same_as_the_reference_on_fixed_documents() {
        let docs: &[&[u8]] = &[
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"tool_99","arguments":{"path":"/workspace/src/main.rs"}}}"#,
            br#"{"a":1,"a":2}"#,
            br#"{"abcdefgh":1,"abcdefgh":2}"#,
            br#"{"abcdefg":1,"abcdefg\u0000":2}"#,
            br#"{"abcdefgh":1,"abcdefgh\u0000":2,"abcdefgh\u0000":3}"#,
            br#"{"a\u0000":1,"a":2,"a\u0000\u0000":3,"a\u0000":4}"#,
            br#"{"":1,"\u0000":2,"":3}"#,
            b"{\"a\":\"abcdefg",
            b"{\"a\":\"abcdefgh",
            b"{\"abc",
            b"{\"abcdefghijklmnop",
            b"{\"a\":1,\"b\0\":2}",
            b"{\"a\":1\0}",
            b"{\"a\":[1,2,\0]}",
            b"{\"a\":",
            b"{\"a\":\0",
            b" \t\r\n{ \"a\" : [ 1 , { } , [ ] ] } \n",
        ];
        for doc in docs {
            for cap in [0, 1, 2, 3, 4, 7, BODY_VALUES_MAX] {
                same_as_reference(doc, cap);
            }
        }
        // Keys whose hashes collide, short and longer than a word, plain and escaped.
        for prefix in ["k", "a_longer_key_"] {
            let (a, b) = colliding_keys(prefix);
            let esc = |s: &str| s.bytes().map(|b| std::format!("\\u{b:04x}")).collect::<String>();
            for doc in [
                std::format!("{{\"{a}\":1,\"{b}\":2,\"{a}\":3}}"),
                std::format!("{{\"{a}\":1,\"{}\":2,\"{}\":3}}", esc(&b), esc(&a)),
            ] {
                same_as_reference(doc.as_bytes(), BODY_VALUES_MAX);
            }
        }
        // Keys of every length around the word size and the limit, equal and not.
        for len in (0..40).chain(KEY_BYTES_MAX - 10..KEY_BYTES_MAX + 10) {
            let k = "k".repeat(len);
            for doc in [
                std::format!("{{\"{k}\":1,\"{k}\":2}}"),
                std::format!("{{\"{k}\":1,\"{k}x\":2,\"x{k}\":3}}"),
                std::format!("{{\"{k}\":\"{k}\"}}"),
                std::format!("{{\"{k}\\u0041\":1,\"{k}A\":2}}"),
            ] {
                same_as_reference(doc.as_bytes(), BODY_VALUES_MAX);
                for cut in 0..doc.len() {
                    same_as_reference(&doc.as_bytes()[..cut], BODY_VALUES_MAX);
                }
            }
        }
    }

    #[test]
    fn plain_run_matches_the_table() {
        // Every pair of adjacent bytes at offsets around the 8-byte chunk edges.
        let naive = |s: &[u8]| s.iter().position(|&b| string_stop(b)).unwrap_or(s.len());
        let mut s = [b'a'; 19];
        for p in [0, 1, 6, 7, 8, 15, 16, 17] {
            for b1 in 0..=255u8 {
                for b2 in 0..=255u8 {
                    s[p] = b1;
                    s[p + 1] = b2;
                    assert_eq!(plain_run(&s), naive(&s), "{p} {b1:#x} {b2:#x}");
                    assert_eq!(plain_run(&s[..p + 1]), naive(&s[..p + 1]));
                }
            }
            s[p] = b'a';
            s[p + 1] = b'a';
        }
        assert_eq!(plain_run(b""), 0);
        assert_eq!(plain_run(b"aaaaaaaaaaaaaaaaaaaaaaaaaaa"), 27);
    }

    /// Reads every value of an accepted document through the whole API.
    fn read_all(v: Value<'_>) -> usize {
        let mut buf = [0u8; 64];
        let mut n = v.raw().len() + v.len() + usize::from(v.as_bool() == Some(true));
        if let Some(s) = v.string() {
            n += s.bytes().count() + s.char_count() + s.unescaped_len();
            n += s.unescape_into(&mut buf).map_or(0, <[u8]>::len);
        }
        if let Some(x) = v.number() {
            n += x.as_i64().is_some() as usize + x.is_integer() as usize;
            n += usize::from(x.cmp_i64(7) == Ordering::Less);
        }
        for (k, m) in v.members() {
            n += k.unescaped_len() + read_all(m);
            let len = k.unescape_into(&mut buf).unwrap().len();
            assert_eq!(v.get(&buf[..len]).unwrap().raw(), m.raw());
        }
        for e in v.elements() {
            n += read_all(e);
        }
        n
    }

    #[test]
    fn short_inputs_never_panic() {
        // Every input of up to four bytes from a JSON-ish alphabet, alone and as a member value.
        let alphabet = b"{}[]\",:\\u0e1-.tfn \xc3\xa9\xed\xa0\xf0\x80\x01";
        let k = alphabet.len();
        let mut tape = [Entry::EMPTY; 8];
        let mut accepted = 0;
        for mut i in 0..k.pow(4) {
            let mut doc = [0u8; 4];
            for slot in doc.iter_mut() {
                *slot = alphabet[i % k];
                i /= k;
            }
            for len in 0..=doc.len() {
                let mut wrapped = b"{\"a\":".to_vec();
                wrapped.extend_from_slice(&doc[..len]);
                wrapped.push(b'}');
                for input in [&doc[..len], &wrapped] {
                    if let Ok(t) = parse(input, &mut tape) {
                        read_all(t.root());
                        accepted += 1;
                    }
                }
            }
        }
        // The sweep reaches valid documents, not only errors.
        assert!(accepted > 1000, "{accepted}");
    }
}
