//! The `path` constraint kind: lexical normalization of POSIX paths and segment-aware prefixes.
//!
//! A policy says, for example, "argument `path` must lie under `/workspace`". The gateway hands
//! the argument (already unescaped from JSON) to [`normalize`], then asks [`has_prefix`] whether
//! the result lies under the policy's prefix (which the compiler normalized with the same
//! function). Both are pure functions over bytes: no allocation, no file-system access.
//!
//! # Accepted
//!
//! Any non-empty byte string without NUL and without backslash. It is split on `/`; empty
//! segments (from `//` or a trailing `/`) and `.` segments are dropped and each `..` removes the
//! segment before it. The result keeps one leading `/` if the input had one (absolute), has no
//! trailing `/` except for the root `/` itself, and is `.` for a relative path that resolves to
//! nothing (`a/..`). Relative inputs stay relative (`a/./b` gives `a/b`). Every other byte,
//! including non-UTF-8 bytes, is an ordinary segment byte: POSIX file names are byte strings.
//! A leading `//` is treated like `/` (POSIX leaves exactly two leading slashes
//! implementation-defined; Linux and macOS treat them as `/`).
//!
//! # Rejected, and why
//!
//! - [`PathError::Empty`]: an empty path names nothing; some APIs read it as the current
//!   directory, so it is not a safe default.
//! - [`PathError::Nul`]: a C file API stops at the first NUL, so `/workspace/x\0/../../etc`
//!   would be checked as one path and opened as another.
//! - [`PathError::Backslash`]: a Windows server may treat `\` as a separator, so `a\..\..\x`
//!   would climb out of a directory that this POSIX normalization cannot see.
//! - [`PathError::EscapesRoot`]: a `..` that climbs above `/` (absolute) or above the start of
//!   a relative path. The kernel would clamp `/..` to `/`, but a path written that way is an
//!   attempt to escape, and for relative paths the result would depend on the server's working
//!   directory, which the policy cannot know.
//! - [`PathError::TooLong`]: the caller's output buffer is shorter than the normalized path
//!   (which is never longer than the input).
//!
//! # Not protected against
//!
//! - Symbolic links. Normalization is lexical: `/workspace/link/../x` becomes `/workspace/x`
//!   although the kernel resolves `link/..` to the parent of the link's *target*, and
//!   `/workspace/link` may point anywhere. The server must still confine itself (for example
//!   `openat2` with `RESOLVE_BENEATH`, or a chroot or container).
//! - Percent-encoding. `%2e%2e` is not special in v1 because POSIX file APIs do not decode it:
//!   `/workspace/%2e%2e/etc` names a directory literally called `%2e%2e`. A server that decodes
//!   URI paths itself must decode before asking; decoding for URI paths comes in a later issue.
//! - `~`, environment variables and globs: they are ordinary bytes here, as they are for file
//!   APIs; a server that runs arguments through a shell is outside this model.
//! - Case-insensitive or Unicode-normalizing file systems. Comparison is byte-exact, so there a
//!   path spelled differently from the prefix is denied (fail closed), never wrongly allowed.
//! - Relative paths are resolved against an unknown working directory; they never match an
//!   absolute prefix, so a policy with absolute prefixes denies them.
//! - Hard links, bind mounts, `/proc/self/root` and similar aliases of the same file.

use core::fmt;
use core::slice::RSplit;

/// Why a path was rejected; the caller turns any of these into a deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// The input was empty.
    Empty,
    /// The input contains a NUL byte.
    Nul,
    /// The input contains a backslash, which a Windows server may treat as a separator.
    Backslash,
    /// A `..` segment climbs above the root (absolute) or the start (relative).
    EscapesRoot,
    /// The output buffer is shorter than the normalized path.
    TooLong,
}

impl PathError {
    /// A stable, machine-readable code for logs and decision records, e.g. `"path.nul"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "path.empty",
            Self::Nul => "path.nul",
            Self::Backslash => "path.backslash",
            Self::EscapesRoot => "path.escapes_root",
            Self::TooLong => "path.too_long",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "path is empty",
            Self::Nul => "path contains a nul byte",
            Self::Backslash => "path contains a backslash",
            Self::EscapesRoot => "path climbs above its root with '..'",
            Self::TooLong => "normalized path does not fit in the output buffer",
        })
    }
}

/// The separator predicate, as a function pointer so that [`Kept`] can name its iterator type.
fn is_slash(b: &u8) -> bool {
    *b == b'/'
}

/// The segments that survive normalization, from last to first.
///
/// Walking right to left, a `..` only increments a counter of segments still to skip, and a
/// normal segment either consumes one of those skips or is kept. This needs no stack (so no
/// allocation) and gives the same result as the usual left-to-right stack: matching each `..`
/// to the nearest unmatched normal segment on its left is the same pairing in either direction,
/// like matching parentheses. For the same reason, `pending` left over at the end is exactly the
/// number of `..` that would have popped an empty stack, i.e. non-zero iff the path escapes.
struct Kept<'a> {
    segs: RSplit<'a, u8, fn(&u8) -> bool>,
    pending: usize,
}

impl<'a> Kept<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { segs: input.rsplit(is_slash as fn(&u8) -> bool), pending: 0 }
    }
}

impl<'a> Iterator for Kept<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        for seg in self.segs.by_ref() {
            match seg {
                b"" | b"." => {}
                // Cannot overflow: at most one increment per segment, and there are at most
                // input.len() + 1 segments.
                b".." => self.pending += 1,
                _ if self.pending > 0 => self.pending -= 1,
                _ => return Some(seg),
            }
        }
        None
    }
}

/// Normalizes `input` lexically into `out` and returns the normalized prefix of `out`.
///
/// See the module documentation for the exact rules. The result is never longer than `input`,
/// so an `out` as long as `input` always suffices; if `out` is shorter than the result, the
/// error is [`PathError::TooLong`]. Errors are checked in this order: empty, NUL or backslash
/// (whichever comes first in the input), escape, length.
pub fn normalize<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], PathError> {
    if input.is_empty() {
        return Err(PathError::Empty);
    }
    for &b in input {
        match b {
            0 => return Err(PathError::Nul),
            b'\\' => return Err(PathError::Backslash),
            _ => {}
        }
    }
    let absolute = input.first() == Some(&b'/');

    // Pass 1: validate and measure, so that the escape check wins over the length check and
    // TooLong means exactly "the result does not fit", not "an intermediate state did not".
    let mut kept = Kept::new(input);
    let mut bytes = 0usize;
    let mut count = 0usize;
    for seg in kept.by_ref() {
        // Cannot overflow: the kept segments are disjoint sub-slices of `input`.
        bytes += seg.len();
        count += 1;
    }
    if kept.pending > 0 {
        return Err(PathError::EscapesRoot);
    }
    // One '/' before every segment if absolute, between segments if relative; an empty result
    // is "/" or ".". Never longer than the input: every kept segment and the separator written
    // for it occur in the input, and an empty result needs one byte of a non-empty input.
    let total = match count.checked_sub(1) {
        None => 1,
        Some(between) => bytes + between + usize::from(absolute),
    };
    let dst = out.get_mut(..total).ok_or(PathError::TooLong)?;

    // Pass 2: the same deterministic walk, writing each kept segment right to left.
    if count == 0 {
        if let Some(first) = dst.first_mut() {
            *first = if absolute { b'/' } else { b'.' };
        }
        return Ok(dst);
    }
    let mut end = total;
    let mut written = 0usize;
    for seg in Kept::new(input) {
        // The checked operations cannot fail, because pass 1 measured exactly these segments;
        // if they somehow did, failing is the closed direction.
        let start = end.checked_sub(seg.len()).ok_or(PathError::TooLong)?;
        dst.get_mut(start..end).ok_or(PathError::TooLong)?.copy_from_slice(seg);
        written += 1;
        end = start;
        if absolute || written < count {
            end = end.checked_sub(1).ok_or(PathError::TooLong)?;
            *dst.get_mut(end).ok_or(PathError::TooLong)? = b'/';
        }
    }
    if end != 0 {
        return Err(PathError::TooLong);
    }
    Ok(dst)
}

/// True if every segment of `prefix` equals, in order, the leading segments of `normalized`.
///
/// Segment-aware: `/workspace` and `/workspace/` both match `/workspace` and `/workspace/a` but
/// not `/workspaces`; `/` matches every absolute path; `.` matches every relative path; a
/// relative path never matches an absolute prefix, nor the other way round. Comparison is
/// byte-exact (case-sensitive).
///
/// Both arguments are expected to come from [`normalize`]. As a guard against a caller that
/// forgot to normalize, this returns false (deny) if either is empty or contains NUL, a
/// backslash or a `..` segment, so `/workspace/../etc` never matches `/workspace`.
pub fn has_prefix(normalized: &[u8], prefix: &[u8]) -> bool {
    if !plausibly_normalized(normalized) || !plausibly_normalized(prefix) {
        return false;
    }
    if is_absolute(normalized) != is_absolute(prefix) {
        return false;
    }
    let mut have = segments(normalized);
    segments(prefix).all(|want| have.next() == Some(want))
}

fn is_absolute(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
}

/// The segments that carry meaning: empty and `.` segments are no-ops in POSIX resolution.
fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(is_slash).filter(|s| !s.is_empty() && *s != b".")
}

fn plausibly_normalized(path: &[u8]) -> bool {
    !path.is_empty()
        && !path.iter().any(|&b| b == 0 || b == b'\\')
        && !path.split(is_slash).any(|s| s == b"..")
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn norm(input: &[u8]) -> Result<Vec<u8>, PathError> {
        let mut buf = [0u8; 256];
        normalize(input, &mut buf).map(<[u8]>::to_vec)
    }

    #[test]
    fn normalize_table() {
        use PathError::*;
        type Case = (&'static [u8], Result<&'static [u8], PathError>);
        let cases: &[Case] = &[
            (b"/workspace/../etc/passwd", Ok(b"/etc/passwd")),
            (b"/../etc", Err(EscapesRoot)),
            (b"a/../../b", Err(EscapesRoot)),
            (b"//workspace//./a/", Ok(b"/workspace/a")),
            (b"/", Ok(b"/")),
            (b"//", Ok(b"/")),
            (b"///", Ok(b"/")),
            (b"/.", Ok(b"/")),
            (b"/./", Ok(b"/")),
            (b"/a/..", Ok(b"/")),
            (b"/a/../", Ok(b"/")),
            (b".", Ok(b".")),
            (b"./", Ok(b".")),
            (b"./.", Ok(b".")),
            (b"a/..", Ok(b".")),
            (b"a/b/../..", Ok(b".")),
            (b"a/./b", Ok(b"a/b")),
            (b"./a", Ok(b"a")),
            (b"a//b/", Ok(b"a/b")),
            (b"a", Ok(b"a")),
            (b"/a/b/", Ok(b"/a/b")),
            (b"a/b/../c", Ok(b"a/c")),
            (b"/a/b/c/../../d", Ok(b"/a/d")),
            (b"/a/b/c/../../d/..", Ok(b"/a")),
            (b"/a/../b/../c", Ok(b"/c")),
            (b"..", Err(EscapesRoot)),
            (b"../a", Err(EscapesRoot)),
            (b"/..", Err(EscapesRoot)),
            (b"/a/b/../../..", Err(EscapesRoot)),
            (b"a/b/../../../a/b", Err(EscapesRoot)),
            (b"/a/../../a", Err(EscapesRoot)),
            (b"...", Ok(b"...")),
            (b"/a/.../b", Ok(b"/a/.../b")),
            (b"..a/b..", Ok(b"..a/b..")),
            (b"/.hidden/.x", Ok(b"/.hidden/.x")),
            (b"/%2e%2e/etc", Ok(b"/%2e%2e/etc")),
            (b"/workspace/%2E%2E/%2e%2e/etc", Ok(b"/workspace/%2E%2E/%2e%2e/etc")),
            (b"~/x", Ok(b"~/x")),
            (b"/caf\xc3\xa9/\xff", Ok(b"/caf\xc3\xa9/\xff")),
            (b"", Err(Empty)),
            (b"/a\0b", Err(Nul)),
            (b"\0", Err(Nul)),
            (b"/a/../..\0", Err(Nul)),
            (b"a\\b", Err(Backslash)),
            (b"\\..\\..\\etc", Err(Backslash)),
            (b"/a\\\0", Err(Backslash)),
            (b"/a\0\\", Err(Nul)),
        ];
        for (input, want) in cases {
            let got = norm(input);
            assert_eq!(
                got.as_deref().map_err(|e| *e),
                *want,
                "input {:?}",
                std::string::String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn too_long_is_exact() {
        let mut buf = [0u8; 8];
        assert_eq!(normalize(b"/abc", buf.get_mut(..3).unwrap()), Err(PathError::TooLong));
        assert_eq!(normalize(b"/abc", buf.get_mut(..4).unwrap()), Ok(&b"/abc"[..]));
        assert_eq!(normalize(b"/abc/", buf.get_mut(..4).unwrap()), Ok(&b"/abc"[..]));
        // The intermediate "aaaa" does not fit, the result does: only the result counts.
        assert_eq!(normalize(b"aaaa/..", buf.get_mut(..1).unwrap()), Ok(&b"."[..]));
        assert_eq!(normalize(b"/aaaa/..", buf.get_mut(..1).unwrap()), Ok(&b"/"[..]));
        assert_eq!(normalize(b"/", &mut []), Err(PathError::TooLong));
        // The escape is reported even when the buffer is also too small.
        assert_eq!(normalize(b"/a/../..", &mut []), Err(PathError::EscapesRoot));
    }

    #[test]
    fn has_prefix_table() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"/workspace", b"/workspace", true),
            (b"/workspace/a", b"/workspace", true),
            (b"/workspace/a/b", b"/workspace", true),
            (b"/workspace", b"/workspace/", true),
            (b"/workspace/a", b"/workspace/", true),
            (b"/workspaces", b"/workspace", false),
            (b"/workspaces", b"/workspace/", false),
            (b"/work", b"/workspace", false),
            (b"/workspace", b"/workspace/a", false),
            (b"/etc/passwd", b"/workspace", false),
            (b"/Workspace/a", b"/workspace", false),
            (b"/anything", b"/", true),
            (b"/", b"/", true),
            (b"/a/b", b"/a/b", true),
            (b"/a/bc", b"/a/b", false),
            (b"a/b", b"/", false),
            (b"a/b", b"/a", false),
            (b"/a/b", b"a", false),
            (b"/a", b".", false),
            (b".", b"/", false),
            (b"a/b", b"a", true),
            (b"a/b", b".", true),
            (b".", b".", true),
            (b"a", b"a/b", false),
            (b"workspace/a", b"/workspace", false),
            // Not normalized: the guard denies.
            (b"/workspace/../etc", b"/workspace", false),
            (b"/workspace/a", b"/workspace/..", false),
            (b"", b"/", false),
            (b"/a", b"", false),
            (b"/w/a\\..", b"/w", false),
            (b"/w/a\0", b"/w", false),
        ];
        for (path, prefix, want) in cases {
            assert_eq!(
                has_prefix(path, prefix),
                *want,
                "path {:?} prefix {:?}",
                std::string::String::from_utf8_lossy(path),
                std::string::String::from_utf8_lossy(prefix)
            );
        }
    }

    #[test]
    fn traversal_does_not_match_workspace() {
        let mut buf = [0u8; 64];
        let p = normalize(b"/workspace/../etc/passwd", &mut buf).unwrap();
        assert_eq!(p, b"/etc/passwd");
        assert!(!has_prefix(p, b"/workspace"));
        let mut buf = [0u8; 64];
        let p = normalize(b"/workspace/./a/../b", &mut buf).unwrap();
        assert!(has_prefix(p, b"/workspace"));
    }

    #[test]
    fn error_codes_and_messages() {
        use PathError::*;
        let all = [Empty, Nul, Backslash, EscapesRoot, TooLong];
        let codes =
            ["path.empty", "path.nul", "path.backslash", "path.escapes_root", "path.too_long"];
        for (e, code) in all.iter().zip(codes) {
            assert_eq!(e.code(), code);
            let msg = std::format!("{e}");
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase());
        }
    }

    /// A straightforward left-to-right stack implementation, as a reference for `normalize`.
    fn reference(input: &[u8]) -> Result<Vec<u8>, PathError> {
        if input.is_empty() {
            return Err(PathError::Empty);
        }
        if let Some(&b) = input.iter().find(|&&b| b == 0 || b == b'\\') {
            return Err(if b == 0 { PathError::Nul } else { PathError::Backslash });
        }
        let mut stack: Vec<&[u8]> = Vec::new();
        for seg in input.split(|&b| b == b'/') {
            match seg {
                b"" | b"." => {}
                b".." => {
                    if stack.pop().is_none() {
                        return Err(PathError::EscapesRoot);
                    }
                }
                s => stack.push(s),
            }
        }
        let absolute = input[0] == b'/';
        let mut out = Vec::new();
        if absolute {
            out.push(b'/');
        }
        out.extend_from_slice(&stack.join(&b'/'));
        if out.is_empty() {
            out.push(b'.');
        }
        Ok(out)
    }

    fn path_strategy() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(&b"a"[..]),
            Just(&b"bc"[..]),
            Just(&b"."[..]),
            Just(&b".."[..]),
            Just(&b"..."[..]),
            Just(&b"/"[..]),
            Just(&b"/"[..]),
            Just(&b"//"[..]),
            Just(&b"\\"[..]),
            Just(&b"\0"[..]),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|ps| ps.concat())
    }

    fn segs_strategy() -> impl Strategy<Value = (bool, Vec<&'static [u8]>)> {
        let seg = prop_oneof![Just(&b"a"[..]), Just(&b"b"[..]), Just(&b"ab"[..]), Just(&b"a."[..])];
        (any::<bool>(), proptest::collection::vec(seg, 0..4))
    }

    fn render(absolute: bool, segs: &[&[u8]], trailing_slash: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if absolute {
            out.push(b'/');
        }
        out.extend_from_slice(&segs.join(&b'/'));
        if out.is_empty() {
            out.push(b'.');
        } else if trailing_slash && !segs.is_empty() {
            out.push(b'/');
        }
        out
    }

    proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..64), cap in 0usize..80) {
            let mut buf = [0u8; 80];
            let out = buf.get_mut(..cap).unwrap();
            if let Ok(p) = normalize(&input, out) {
                prop_assert!(p.len() <= input.len());
            }
            let _ = has_prefix(&input, b"/workspace");
            let _ = has_prefix(b"/workspace/a", &input);
        }

        #[test]
        fn matches_reference(input in path_strategy()) {
            prop_assert_eq!(norm(&input), reference(&input));
        }

        #[test]
        fn idempotent_and_clean(input in path_strategy()) {
            if let Ok(once) = norm(&input) {
                prop_assert!(once.len() <= input.len());
                prop_assert_eq!(norm(&once), Ok(once.clone()));
                let has = |needle: &[u8]| once.windows(needle.len()).any(|w| w == needle);
                prop_assert!(!has(b"//"));
                prop_assert!(!has(b"/./"));
                prop_assert!(!has(b"/../"));
                prop_assert!(!once.ends_with(b"/..") && !once.ends_with(b"/."));
                prop_assert!(!once.starts_with(b"./") && !once.starts_with(b"../"));
                prop_assert!(once != b".." && (once == b"/" || !once.ends_with(b"/")));
            }
        }

        #[test]
        fn has_prefix_agrees_with_segments(
            (pa, ps) in segs_strategy(),
            (qa, qs) in segs_strategy(),
            trailing in any::<bool>(),
        ) {
            let path = render(pa, &ps, false);
            let prefix = render(qa, &qs, trailing);
            let want = pa == qa && ps.len() >= qs.len() && ps[..qs.len()] == qs[..];
            prop_assert_eq!(has_prefix(&path, &prefix), want);
            // The rendered forms are already normalized.
            prop_assert_eq!(norm(&path), Ok(path.clone()));
        }

        #[test]
        fn prefix_after_normalize_agrees_with_reference(
            input in path_strategy(),
            (qa, qs) in segs_strategy(),
        ) {
            let prefix = render(qa, &qs, false);
            if let Ok(p) = norm(&input) {
                let absolute = p.first() == Some(&b'/');
                let have: Vec<&[u8]> =
                    p.split(|&b| b == b'/').filter(|s| !s.is_empty() && *s != b".").collect();
                let want = absolute == qa && have.len() >= qs.len() && have[..qs.len()] == qs[..];
                prop_assert_eq!(has_prefix(&p, &prefix), want);
            }
        }
    }
}
