//! The scanner as it was before the instruction-count work, kept verbatim (apart from this
//! header, its docs, and the limits and value types it takes from `json.rs`) as the oracle of the
//! differential tests in `json.rs`: the optimised scanner must accept, reject and record exactly
//! what this one does.
#![allow(dead_code, missing_docs, clippy::all, reason = "a test-only copy of the old scanner")]

// The limits are the scanner's own, so the two can never disagree about them; so are the
// error, kind, string and number types: only the scanning is the old code's, which is what
// the differential tests compare (the readers of strings and numbers did not change).
use super::{
    ARGS_BYTES_MAX, BODY_BYTES_MAX, BODY_DEPTH_MAX, BODY_VALUES_MAX, JSON_DEPTH_MAX,
    JSON_VALUES_MAX, JsonError, JsonNumber, JsonStr, KEY_BYTES_MAX, Kind, OBJECT_KEYS_MAX,
};

// Every offset, and one past the last byte, must fit in the entry's `u32` fields.
const _: () = assert!(BODY_BYTES_MAX < u32::MAX as usize);
// The next-sibling index can be one past the last entry.
const _: () = assert!(BODY_VALUES_MAX <= u16::MAX as usize);
const _: () = assert!(OBJECT_KEYS_MAX <= u32::MAX as usize);
// A tape of `JSON_VALUES_MAX` entries is meant to live on the caller's stack.
const _: () = assert!(size_of::<Entry>() <= 24);

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
    /// One past the last entry of this value's subtree. While a container is open and one of
    /// its children is a container, its member count ([`build`] keeps its open containers in
    /// the tape rather than on a stack).
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

/// A hash of a key's unescaped bytes: only a filter before comparing bytes, so it need not
/// resist collisions (the duplicate check is bounded without it; see the module docs). It reads
/// eight bytes at a time, since keys are hashed on every scan and most are under eight bytes.
#[inline(always)]
fn key_hash(key: &[u8]) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(31);
    let mut h = (key.len() as u64).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        h = mix(h, u64::from_le_bytes(bytes));
    }
    let tail = chunks.remainder();
    let byte = |i: usize| u64::from(tail.get(i).copied().unwrap_or(0));
    let word = |i: usize| {
        let bytes = tail.get(i..i + 4).and_then(|b| <[u8; 4]>::try_from(b).ok());
        u64::from(u32::from_le_bytes(bytes.unwrap_or([0; 4])))
    };
    // With the length mixed in, these words determine the tail's bytes: 1-3 bytes by the
    // first, middle and last; 4-7 by two overlapping four-byte words.
    let len = tail.len();
    h = match len {
        0 => h,
        1..=3 => mix(h, byte(0) | byte(len / 2) << 8 | byte(len - 1) << 16),
        _ => mix(h, word(0) | word(len - 4) << 32),
    };
    (h ^ (h >> 32)) as u32
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

/// The length of the run of plain string bytes at the start of `s`, eight bytes at a time.
#[inline(always)]
fn plain_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Marks the bytes of `x` that are zero. A borrow can also mark bytes above a marked one, but
    // never below it, so the lowest mark is always right; the same holds for `ctrl` below.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut chunks = s.chunks_exact(8);
    let mut run = 0;
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        let w = u64::from_le_bytes(bytes);
        let quote = zero(w ^ (ONES * u64::from(b'"')));
        let backslash = zero(w ^ (ONES * u64::from(b'\\')));
        let ctrl = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let stop = quote | backslash | ctrl | (w & HIGH);
        if stop != 0 {
            return run + (stop.trailing_zeros() / 8) as usize;
        }
        run += 8;
    }
    let tail = chunks.remainder();
    run + tail.iter().position(|&b| string_stop(b)).unwrap_or(tail.len())
}

#[inline(always)]
fn skip_ws(input: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = input.get(pos) {
        pos += 1;
    }
    pos
}

/// The innermost open container: its tape index, members so far, and whether it is an object.
#[derive(Clone, Copy)]
struct Frame {
    idx: u32,
    count: u32,
    object: bool,
}

impl Frame {
    const EMPTY: Frame = Frame { idx: 0, count: 0, object: false };
}

/// Marks the root's parent in an open container's `end` field.
const NO_PARENT: u32 = u32::MAX;

/// The key of the member whose value comes next.
#[derive(Clone, Copy)]
struct Key {
    start: u32,
    end: u32,
    hash: u32,
    flags: u8,
}

// An open container's member count is parked in its `u16` next-sibling field.
const _: () = assert!(OBJECT_KEYS_MAX <= u16::MAX as usize);

impl Key {
    const NONE: Key = Key { start: 0, end: 0, hash: 0, flags: 0 };
}

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
    let count = build::<false>(input, entries)?;
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
    let count = build::<true>(input, entries)?;
    let entries: &'a [Entry] = entries;
    Ok(Tape { input, entries: entries.get(..count).unwrap_or(&[]) })
}

/// Returns the number of entries written. `BODY` selects the limits of [`parse_body`].
fn build<const BODY: bool>(input: &[u8], tape: &mut [Entry]) -> Result<usize, JsonError> {
    let (bytes_max, values_max, depth_max) = if BODY {
        (BODY_BYTES_MAX, BODY_VALUES_MAX, BODY_DEPTH_MAX)
    } else {
        (ARGS_BYTES_MAX, JSON_VALUES_MAX, JSON_DEPTH_MAX)
    };
    if input.len() > bytes_max {
        return Err(JsonError::TooLarge);
    }
    let mut pos = skip_ws(input, 0);
    if input.get(pos) != Some(&b'{') {
        return Err(JsonError::NotAnObject);
    }
    // `top` is the innermost open container, kept in registers because every value and key
    // touches it. The outer open containers live in the tape itself, not on a stack that would
    // have to be cleared on every call: while open, a container's `end` holds its parent's
    // index, and its `next` its member count, saved when a child container opens. Both get
    // their real values when it closes.
    let mut top = Frame::EMPTY;
    let mut depth = 0usize;
    let mut n = 0usize;
    let mut key = Key::NONE;
    loop {
        // `pos` is at the first byte of a value, after whitespace.
        let start = pos;
        let Some(&b) = input.get(pos) else {
            return Err(syntax(pos));
        };
        let Some(slot) = tape.get_mut(n).filter(|_| n < values_max) else {
            return Err(JsonError::TooManyValues);
        };
        let mut entry = Entry {
            start: at(start),
            end: 0,
            key_start: key.start,
            key_end: key.end,
            key_hash: key.hash,
            next: (n + 1) as u16,
            kind: Kind::Null,
            flags: key.flags,
        };
        match b {
            b'{' | b'[' => {
                if depth >= depth_max {
                    return Err(JsonError::DepthExceeded { offset: at(pos) });
                }
                let object = b == b'{';
                entry.kind = if object { Kind::Object } else { Kind::Array };
                entry.end = if depth == 0 { NO_PARENT } else { top.idx };
                *slot = entry;
                if depth > 0
                    && let Some(parent) = tape.get_mut(top.idx as usize)
                {
                    // At most OBJECT_KEYS_MAX, asserted above to fit.
                    parent.next = top.count as u16;
                }
                top = Frame { idx: at(n), count: 0, object };
                depth += 1;
                n += 1;
                pos = skip_ws(input, pos + 1);
                let close = if object { b'}' } else { b']' };
                if input.get(pos) != Some(&close) {
                    if object {
                        (key, pos) = member_key(input, tape, &mut top, n, pos)?;
                    } else {
                        key = Key::NONE;
                    }
                    continue;
                }
                // An empty container: the loop below closes it.
            }
            b'"' => {
                let (end, escaped) = scan_string(input, pos)?;
                entry.kind = Kind::String;
                entry.end = at(end);
                if escaped {
                    entry.flags |= ESCAPED;
                }
                *slot = entry;
                n += 1;
                pos = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = scan_number(input, pos)?;
                entry.kind = Kind::Number;
                entry.end = at(end);
                *slot = entry;
                n += 1;
                pos = end;
            }
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
                entry.kind = kind;
                entry.end = at(end);
                *slot = entry;
                n += 1;
                pos = end;
            }
            _ => return Err(syntax(pos)),
        }
        // A value is complete: read separators and closing brackets up to the next value.
        loop {
            pos = skip_ws(input, pos);
            match input.get(pos) {
                Some(b',') => {
                    pos = skip_ws(input, pos + 1);
                    if top.object {
                        (key, pos) = member_key(input, tape, &mut top, n, pos)?;
                    } else {
                        key = Key::NONE;
                    }
                    break;
                }
                Some(b'}') if top.object => {}
                Some(b']') if !top.object => {}
                _ => return Err(syntax(pos)),
            }
            pos += 1;
            let mut parent = NO_PARENT;
            if let Some(container) = tape.get_mut(top.idx as usize) {
                parent = container.end;
                container.end = at(pos);
                container.next = n as u16;
            }
            depth -= 1;
            if depth == 0 {
                pos = skip_ws(input, pos);
                return if pos == input.len() { Ok(n) } else { Err(syntax(pos)) };
            }
            top = match tape.get(parent as usize) {
                Some(open) => Frame {
                    idx: parent,
                    count: u32::from(open.next),
                    object: open.kind == Kind::Object,
                },
                // Unreachable: every container below the root recorded its parent.
                None => return Err(syntax(pos)),
            };
        }
    }
}

/// Reads `"key"` and the colon after it at `pos`, and rejects a repeated key. `n` is the index
/// the member's value will take. Returns the key and the position of the value.
#[inline(always)]
fn member_key(
    input: &[u8],
    tape: &[Entry],
    top: &mut Frame,
    n: usize,
    pos: usize,
) -> Result<(Key, usize), JsonError> {
    if input.get(pos) != Some(&b'"') {
        return Err(syntax(pos));
    }
    if top.count as usize >= OBJECT_KEYS_MAX {
        return Err(JsonError::TooManyKeys { offset: at(pos) });
    }
    top.count += 1;
    let (end, escaped) = scan_string(input, pos)?;
    if end - pos - 2 > KEY_BYTES_MAX {
        return Err(JsonError::KeyTooLong { offset: at(pos) });
    }
    let (start, stop) = (at(pos + 1), at(end - 1));
    let new = key_str(input, start, stop, if escaped { KEY_ESCAPED } else { 0 });
    let hash = if escaped { escaped_key_hash(&new) } else { key_hash(new.raw) };
    let key = Key { start, end: stop, hash, flags: if escaped { KEY_ESCAPED } else { 0 } };
    // Earlier siblings are complete, so their next-sibling links are set.
    let mut i = top.idx as usize + 1;
    while i < n {
        let Some(sibling) = tape.get(i) else { break };
        if sibling.key_hash == hash && member_key_str(input, sibling).eq_str(&new) {
            return Err(JsonError::DuplicateKey { offset: at(pos) });
        }
        i = usize::from(sibling.next).max(i + 1);
    }
    let colon = skip_ws(input, end);
    if input.get(colon) != Some(&b':') {
        return Err(syntax(colon));
    }
    Ok((key, skip_ws(input, colon + 1)))
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
    let mut i = pos + 1;
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
        let e = self.entry();
        let mut children = self.children(e);
        if e.kind != Kind::Object {
            children.end = 0;
        }
        Members { children }
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
