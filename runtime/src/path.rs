//! The `path` constraint kind: lexical normalization of POSIX, Windows and URI paths, and
//! segment-aware prefixes.
//!
//! A policy says, for example, "argument `path` must lie under `/workspace`". The gateway hands
//! the argument (already unescaped from JSON) to [`normalize`] with the options the policy
//! declared, then asks [`has_prefix`] whether the result lies under the policy's prefix (which
//! the compiler normalized with the same function and the same options). Both are pure
//! functions over bytes: no allocation, no file-system access.
//!
//! The goal is one spelling per path: an agent, or a prompt injection steering it, must not get
//! past a rule by writing the same dangerous path differently. Whatever could be read two ways
//! by the software downstream (a URL decoder, a Windows path parser, a Unicode normalizer) is
//! rejected rather than guessed at; the caller turns every error into a deny.
//!
//! # Options
//!
//! - [`PathOptions::style`]: [`Style::Posix`] (the default: `/` separates, `\` is rejected) or
//!   [`Style::Windows`] (`/` and `\` both separate; drives, device names and the other Win32
//!   rules below apply). The output always uses `/`.
//! - [`PathOptions::percent_decode`]: the value is a URI path (for example the path of a URL).
//!   `%XX` is decoded exactly once before anything else, and the decoded bytes are normalized.
//! - [`PathOptions::case_insensitive`]: ASCII letters are lowercased in the output. Windows style
//!   does not imply it: the caller decides.
//!
//! # Accepted
//!
//! A non-empty string of valid UTF-8 (after percent-decoding, if asked for) without the
//! characters, segments and forms listed under "Rejected". It is split on the separators;
//! empty segments (from `//` or a trailing `/`) and `.` segments are dropped, and each `..`
//! removes the segment before it. The result is, by root:
//!
//! - absolute (`/x`): one leading `/`, `/` for the root itself. In Windows style a leading
//!   separator without a drive is rooted at the current drive and also gives `/x`. POSIX leaves
//!   exactly two leading slashes implementation-defined; Linux and macOS read them as one, and
//!   so does this module (in POSIX style; in Windows style they start a UNC path).
//! - drive-absolute (Windows only, `C:\x` or `c:/x`): `c:/x`, the drive letter lowercased
//!   whatever the options; the drive is the root, so `c:/` for the drive itself.
//! - relative (`a/b`): no leading `/`, and `.` for a path that resolves to nothing (`a/..`).
//!
//! There is never a trailing `/` except in the roots `/` and `c:/`. In Windows style trailing
//! dots and spaces are stripped from every segment, as Win32 does (`secret.txt. .` gives
//! `secret.txt`). With `case_insensitive`, ASCII `A`–`Z` become `a`–`z`. The output is never
//! longer than the input and normalizing it again with the same options gives it back.
//!
//! # Rejected, and why
//!
//! Errors are reported in this order: [`PathError::Empty`]; then the first offending character
//! in input order (percent, UTF-8, NUL, control, confusable, backslash and the Windows
//! structure and character errors); then the first offending segment in input order (dot
//! segment, device name, short name), checked on every segment, including ones that a later
//! `..` removes; then [`PathError::EscapesRoot`]; then [`PathError::TooLong`].
//!
//! In every style:
//!
//! - `path.empty` ([`PathError::Empty`]): an empty path names nothing; some APIs read it as the
//!   current directory, so it is not a safe default.
//! - `path.nul` ([`PathError::Nul`]), also a decoded `%00`: a C file API stops at the first NUL,
//!   so `/workspace/x\0/../../etc` would be checked as one path and opened as another.
//! - `path.control` ([`PathError::Control`]): U+0001–U+001F, U+007F and the C1 controls
//!   U+0080–U+009F. No real file name needs them, and they are used to hide the real path from
//!   a human reviewer or a log (`\r`, ANSI escapes).
//! - `path.invalid_utf8` ([`PathError::InvalidUtf8`]): the bytes (after decoding) are not valid
//!   UTF-8. This rejects the overlong forms (`%c0%ae` is an overlong `.` that lax decoders
//!   accept), surrogates and truncated sequences. JSON text is UTF-8, so only a decoded or a
//!   malformed argument gets here.
//! - `path.confusable` ([`PathError::Confusable`]): a character that Unicode compatibility
//!   normalization (NFKC), Windows "best fit" code-page conversion or a human reader turns into
//!   `.`, `/`, `\` or `:`, or an invisible or bidirectional formatting character. Downstream
//!   software that normalizes `．．／` to `../` would see a traversal this module cannot. The
//!   list, in every style:
//!   - dots: U+2024 `․`, U+2025 `‥`, U+2026 `…`, U+FE19 `︙`, U+FE30 `︰`, U+FE52 `﹒`,
//!     U+FF0E `．`, U+3002 `。`, U+FF61 `｡`;
//!   - slashes: U+2215 `∕`, U+2044 `⁄`, U+FF0F `／`, U+29F8 `⧸`, and U+2100 `℀`, U+2101 `℁`,
//!     U+2105 `℅`, U+2106 `℆` (whose NFKC forms contain `/`);
//!   - backslashes: U+FF3C `＼`, U+2216 `∖`, U+29F5 `⧵`, U+29F9 `⧹`, U+FE68 `﹨`;
//!   - invisible or bidirectional: U+00AD, U+034F, U+061C, U+115F, U+1160, U+17B4, U+17B5,
//!     U+180B–U+180F, U+200B–U+200F, U+2028–U+202E, U+2060–U+206F, U+3164, U+FEFF, U+FFA0,
//!     U+FFF9–U+FFFB, U+1D173–U+1D17A, U+E0000–U+E007F (tag characters, used to smuggle
//!     invisible ASCII);
//!   - with `case_insensitive` only: U+0130 `İ`, U+0131 `ı`, U+017F `ſ`, U+212A `K` (Kelvin),
//!     the non-ASCII letters whose simple case mapping is an ASCII letter; see "Case" below;
//!   - in Windows style only: the colons U+FF1A `：`, U+FE55 `﹕`, U+FE13 `︓`, U+2236 `∶`,
//!     U+A789 `꞉`, and U+00A5 `¥` and U+20A9 `₩`, which the Japanese and Korean ANSI code pages
//!     map to `\` (so `..¥..¥x` is a traversal for a program using the ANSI file APIs).
//!
//!   Variation selectors (U+FE00–U+FE0F) are allowed: emoji in file names use them, and they
//!   cannot form a separator or a dot segment.
//! - `path.dot_segment` ([`PathError::DotSegment`]): a segment made only of three or more dots
//!   (`...`, `....`), the classic spelling that slips past filters which only look for `..`
//!   and that some software reads as "two levels up"; no legitimate path needs one. In Windows
//!   style also a segment that trailing dot and space stripping empties (`. `, `.. .`). With
//!   `percent_decode`, also a segment whose part before the first `;` is only dots (`..;`):
//!   servers such as Tomcat drop path parameters before resolving dots, so `/public/..;/admin`
//!   is `/admin` there.
//! - `path.escapes_root` ([`PathError::EscapesRoot`]): a `..` that climbs above the root
//!   (absolute or drive-absolute) or above the start of a relative path. The kernel would clamp
//!   `/..` to `/`, but a path written that way is an attempt to escape, and for relative paths
//!   the result would depend on the server's working directory, which the policy cannot know.
//! - `path.too_long` ([`PathError::TooLong`]): the caller's output buffer is shorter than the
//!   normalized path (which is never longer than the input, so a buffer as long as the input
//!   always suffices; intermediate states never need more than the result).
//!
//! With `percent_decode: true`:
//!
//! - `path.bad_percent` ([`PathError::BadPercent`]): a `%` not followed by two hex digits;
//!   decoders disagree about what it means.
//! - `path.double_encoded` ([`PathError::DoubleEncoded`]): a `%` survives decoding (it was
//!   written `%25`). `%252e%252e` decodes to `%2e%2e`, which a server that decodes twice reads
//!   as `..`. A literal `%` in a URI path is rejected as well, whatever follows it: the output
//!   must be stable under a second normalization, and a decoded `%` cannot be.
//!
//! With `percent_decode: false`:
//!
//! - `path.encoded_separator` ([`PathError::EncodedSeparator`]): `%2e`, `%2f`, `%5c`, `%00`,
//!   `%25` (an encoded `%`: layered encodings like `%252e`) or any `%80`–`%ff` (encoded
//!   non-ASCII, including overlong forms like `%c0%ae`), in any case. The policy says the value
//!   is a file path, but a server or a library downstream may still decode it (`..%2f..%2fetc`
//!   is a traversal there), and no real file name needs these sequences.
//!
//! In POSIX style:
//!
//! - `path.backslash` ([`PathError::Backslash`]), also a decoded `%5c`: a server on Windows may
//!   treat `\` as a separator, so `a\..\..\x` would climb out where this POSIX normalization
//!   sees one segment. Use Windows style for Windows servers.
//!
//! In Windows style:
//!
//! - `path.unc` ([`PathError::Unc`]): the path starts with two separators: a UNC path
//!   `\\server\share` (which reaches the network and leaks credentials), a device path
//!   `\\?\`, `\\.\` or the same with `/`. These bypass the Win32 normalization modeled here.
//! - `path.drive_relative` ([`PathError::DriveRelative`]): `C:x` or `C:` is relative to the
//!   current directory of drive `C`, which the policy cannot know.
//! - `path.colon` ([`PathError::Colon`]): a `:` anywhere but right after a leading drive letter.
//!   It selects an NTFS alternate data stream (`a.txt::$DATA` reads `a.txt`, `a.txt:x` is a
//!   hidden stream) or is invalid.
//! - `path.windows_char` ([`PathError::WindowsChar`]): `<`, `>`, `"`, `|`, `?` or `*`. They are
//!   invalid in Win32 file names, are wildcards for the APIs that take patterns, and `?`
//!   introduces NT object paths (`\??\UNC\server\share`, which would otherwise pass as a rooted
//!   path).
//! - `path.device_name` ([`PathError::DeviceName`]): a segment that names a reserved device, in
//!   any case, with or without an extension and trailing spaces (`CON`, `con.txt`, `nul .txt`):
//!   `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`, `COM¹`, `COM²`, `COM³`, `LPT¹`,
//!   `LPT²`, `LPT³`, `CONIN$`, `CONOUT$` and `CLOCK$`. Opening one reaches the device, not a
//!   file, in any directory.
//! - `path.short_name` ([`PathError::ShortName`]): a segment containing `~` followed by a digit,
//!   the shape of every generated 8.3 short name (`SECRET~1.TXT`). A short name is a second
//!   spelling of a long one, so it would slip past a rule that names the long one.
//!
//! # Case
//!
//! With `case_insensitive`, only ASCII is folded; other characters are compared exactly, so
//! `İ` (U+0130) and `i̇` (`i` + U+0307) stay different, as do `É` and `é`. Folding Unicode
//! properly needs tables this crate does not carry, and file systems disagree about it anyway
//! (NTFS uses its own upcase table, APFS and HFS+ also normalize).
//!
//! - For an allow list (a `path` prefix the argument must lie under) exact comparison is the
//!   safe direction: a non-ASCII spelling that the file system would fold into the allowed
//!   directory does not match, so it is denied, never wrongly allowed.
//! - For a deny list it is not safe by itself: a spelling that the file system folds onto the
//!   denied path but this module does not would not match the deny rule. The four non-ASCII
//!   letters whose simple case mapping is ASCII (`İ`, `ı`, `ſ`, Kelvin `K`: NTFS opens
//!   `ſecret` as `secret`) are therefore rejected as confusable when `case_insensitive` is set,
//!   which makes deny entries written in ASCII safe. Deny entries containing non-ASCII letters
//!   are not: on a case-insensitive or normalizing file system, write the policy as an allow
//!   list instead.
//!
//! # What this does NOT protect against
//!
//! - Symbolic links (and junctions, mount points, bind mounts, hard links, `/proc/self/root`).
//!   Normalization is lexical: `/workspace/link/../x` becomes `/workspace/x` although the kernel
//!   resolves `link/..` to the parent of the link's target, and `/workspace/link` may point
//!   anywhere. A pure evaluator cannot resolve links: it has no file system, and the answer
//!   could change between the check and the use. A host that needs the guarantee must enforce
//!   it where the file is opened: resolve the path (`realpath`, or better `openat2` with
//!   `RESOLVE_BENEATH` against a directory descriptor for the allowed root, or `O_NOFOLLOW` on
//!   every component) and check the resolved path again with this module; or run the server in
//!   a sandbox (container, chroot, Landlock) rooted at the allowed directory.
//! - Relative paths are resolved against a working directory the policy cannot know; they
//!   never match an absolute prefix, so a policy with absolute prefixes denies them. Likewise a
//!   Windows path rooted at the current drive (`\x`, giving `/x`) never matches `c:/x`.
//! - Windows strips trailing dots and spaces only from some components, depending on the API;
//!   this module strips them from all, so `dir.` is compared as `dir` even where a `\\?\` path
//!   could name a directory literally called `dir.`.
//! - With `percent_decode`, `%2f` and `%5c` decode to separators, as for a server that decodes
//!   before resolving (nginx does). A server that keeps them literal (Apache with
//!   `AllowEncodedSlashes NoDecode`, some routers) sees one segment where this module sees two,
//!   so the two can disagree about the directory: `/a/b/..%2fx` is `/a/x` here and a file
//!   inside `/a/b` there. A `..` that would climb above the root is still rejected either way.
//! - Unicode normalization forms (NFC/NFD) and non-ASCII case folding: see "Case" above.
//! - `~`, environment variables and globs: they are ordinary characters here, as they are for
//!   file APIs (except `~` followed by a digit in Windows style, and `*` and `?` in Windows
//!   style); a server that runs arguments through a shell is outside this model.

use core::fmt;

/// Which operating system's path syntax the argument follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Style {
    /// POSIX: `/` separates, `\` is rejected.
    #[default]
    Posix,
    /// Win32: `/` and `\` both separate; drives, UNC paths, device names, streams and trailing
    /// dots and spaces follow the Windows rules in the module documentation.
    Windows,
}

/// How [`normalize`] reads a path; a policy declares these per constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PathOptions {
    /// The path syntax.
    pub style: Style,
    /// Lowercase ASCII letters in the output (non-ASCII is compared exactly).
    pub case_insensitive: bool,
    /// The value is a URI path: decode `%XX` exactly once before normalizing.
    pub percent_decode: bool,
}

/// Why a path was rejected; the caller turns any of these into a deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// The input was empty.
    Empty,
    /// The input contains a NUL byte (or, when decoding, `%00`).
    Nul,
    /// POSIX style: the input contains a backslash, which a Windows server treats as a separator.
    Backslash,
    /// A `..` segment climbs above the root (absolute) or the start (relative).
    EscapesRoot,
    /// The output buffer is shorter than the normalized path.
    TooLong,
    /// Decoding: a `%` is not followed by two hex digits.
    BadPercent,
    /// Decoding: a `%` is still present after decoding once (double encoding).
    DoubleEncoded,
    /// The (decoded) bytes are not valid UTF-8, for example an overlong `%c0%ae`.
    InvalidUtf8,
    /// Not decoding: `%2e`, `%2f`, `%5c` or `%00`, which a server downstream may decode.
    EncodedSeparator,
    /// A control character: U+0001–U+001F, U+007F–U+009F.
    Control,
    /// A look-alike of `.`, `/`, `\` or `:`, or an invisible or bidirectional character.
    Confusable,
    /// A segment of three or more dots, one that Windows trailing-dot stripping empties, or
    /// (decoding) one whose part before `;` is only dots.
    DotSegment,
    /// Windows: `C:x` or `C:`, relative to a drive's current directory.
    DriveRelative,
    /// Windows: a UNC path (`\\server\share`) or a device path (`\\?\`, `\\.\`).
    Unc,
    /// Windows: a `:` other than the drive colon (alternate data streams).
    Colon,
    /// Windows: a segment names a reserved device (`CON`, `nul.txt`, `COM1`, ...).
    DeviceName,
    /// Windows: `<`, `>`, `"`, `|`, `?` or `*`.
    WindowsChar,
    /// Windows: a segment contains `~` followed by a digit, like an 8.3 short name.
    ShortName,
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
            Self::BadPercent => "path.bad_percent",
            Self::DoubleEncoded => "path.double_encoded",
            Self::InvalidUtf8 => "path.invalid_utf8",
            Self::EncodedSeparator => "path.encoded_separator",
            Self::Control => "path.control",
            Self::Confusable => "path.confusable",
            Self::DotSegment => "path.dot_segment",
            Self::DriveRelative => "path.drive_relative",
            Self::Unc => "path.unc",
            Self::Colon => "path.colon",
            Self::DeviceName => "path.device_name",
            Self::WindowsChar => "path.windows_char",
            Self::ShortName => "path.short_name",
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
            Self::BadPercent => "path contains a '%' not followed by two hex digits",
            Self::DoubleEncoded => "path still contains a '%' after percent-decoding",
            Self::InvalidUtf8 => "path is not valid utf-8",
            Self::EncodedSeparator => {
                "path contains an encoded '.', '/', '\\', '%', nul or non-ascii byte"
            }
            Self::Control => "path contains a control character",
            Self::Confusable => {
                "path contains a look-alike of '.', '/', '\\' or ':', or an invisible character"
            }
            Self::DotSegment => "path has a dot segment other than '.' and '..' (such as '...')",
            Self::DriveRelative => "path is relative to the current directory of a drive",
            Self::Unc => "path is a unc or device path",
            Self::Colon => "path contains ':' other than after a drive letter",
            Self::DeviceName => "path names a reserved windows device",
            Self::WindowsChar => "path contains a character that windows reserves",
            Self::ShortName => "path contains '~' followed by a digit, like a windows short name",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Decoded bytes. Every later pass reads the input through these helpers, so that percent
// decoding never needs a buffer: a segment is a sub-slice of the raw input, and its decoded
// bytes are produced on the fly. They assume the input passed `scan`, which rejects every `%`
// that does not start a valid escape; on other input they read such a `%` literally.
// ---------------------------------------------------------------------------------------------

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte that `%` `hi` `lo` encodes, if both are hex digits.
fn unhex(hi: u8, lo: u8) -> Option<u8> {
    // At most 15 * 16 + 15 = 255: no overflow.
    Some(hex_value(hi)? * 16 + hex_value(lo)?)
}

/// The first decoded byte of `raw` and the number of raw bytes it takes.
fn first_decoded(raw: &[u8], decode: bool) -> Option<(u8, usize)> {
    if decode
        && let [b'%', hi, lo, ..] = raw
        && let Some(b) = unhex(*hi, *lo)
    {
        return Some((b, 3));
    }
    raw.first().map(|&b| (b, 1))
}

/// The last decoded byte of `raw` and the number of raw bytes it takes.
///
/// Reading backwards is unambiguous on scanned input: every `%` starts an escape and the two
/// hex digits after it are never `%`, so the last byte belongs to an escape exactly when the
/// byte two places before it is `%`.
fn last_decoded(raw: &[u8], decode: bool) -> Option<(u8, usize)> {
    if decode
        && let [.., b'%', hi, lo] = raw
        && let Some(b) = unhex(*hi, *lo)
    {
        return Some((b, 3));
    }
    raw.last().map(|&b| (b, 1))
}

/// The decoded bytes of a raw slice, front to back.
#[derive(Clone)]
struct Decoded<'a> {
    raw: &'a [u8],
    decode: bool,
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (b, n) = first_decoded(self.raw, self.decode)?;
        self.raw = self.raw.get(n..).unwrap_or_default();
        Some(b)
    }
}

fn is_separator(b: u8, windows: bool) -> bool {
    b == b'/' || (windows && b == b'\\')
}

/// Splits a raw slice on decoded separators, like `slice::split`: `a//b` gives `a`, ``, `b`, a
/// leading separator gives an empty first segment, and an empty slice gives one empty segment.
struct Split<'a> {
    rest: &'a [u8],
    decode: bool,
    windows: bool,
    done: bool,
}

impl<'a> Split<'a> {
    fn new(raw: &'a [u8], options: PathOptions) -> Self {
        Self {
            rest: raw,
            decode: options.percent_decode,
            windows: options.style == Style::Windows,
            done: false,
        }
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let mut at = 0usize;
        // Each round advances `at` by 1 or 3 within `rest`: bounded by its length.
        loop {
            let tail = self.rest.get(at..).unwrap_or_default();
            match first_decoded(tail, self.decode) {
                None => {
                    self.done = true;
                    return Some(self.rest);
                }
                Some((b, n)) if is_separator(b, self.windows) => {
                    let segment = self.rest.get(..at).unwrap_or_default();
                    self.rest = tail.get(n..).unwrap_or_default();
                    return Some(segment);
                }
                // Cannot overflow: `at + n` is at most `rest.len()`.
                Some((_, n)) => at += n,
            }
        }
    }
}

impl DoubleEndedIterator for Split<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut cut = self.rest.len();
        loop {
            let head = self.rest.get(..cut).unwrap_or_default();
            match last_decoded(head, self.decode) {
                None => {
                    self.done = true;
                    return Some(self.rest);
                }
                Some((b, n)) if is_separator(b, self.windows) => {
                    let segment = self.rest.get(cut..).unwrap_or_default();
                    self.rest = head.get(..cut.saturating_sub(n)).unwrap_or_default();
                    return Some(segment);
                }
                Some((_, n)) => cut = cut.saturating_sub(n),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 1: characters and the root.
// ---------------------------------------------------------------------------------------------

/// The root of a path, which `..` cannot remove.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    Relative,
    /// `/x`, and in Windows style `\x` (the current drive).
    Slash,
    /// Windows `c:/x`, with the lowercase drive letter.
    Drive(u8),
}

/// Reads decoded bytes from the raw input, reporting percent errors where they occur.
struct Scan<'a> {
    raw: &'a [u8],
    decode: bool,
}

impl Scan<'_> {
    fn byte(&mut self) -> Result<Option<u8>, PathError> {
        let Some(&b) = self.raw.first() else {
            return Ok(None);
        };
        let mut width = 1;
        let mut value = b;
        if b == b'%' {
            let escaped = match self.raw {
                [_, hi, lo, ..] => unhex(*hi, *lo),
                _ => None,
            };
            if self.decode {
                value = escaped.ok_or(PathError::BadPercent)?;
                if value == b'%' {
                    return Err(PathError::DoubleEncoded);
                }
                width = 3;
            } else if matches!(escaped, Some(b'.' | b'/' | b'\\' | 0 | b'%' | 0x80..=0xff)) {
                return Err(PathError::EncodedSeparator);
            }
        }
        self.raw = self.raw.get(width..).unwrap_or_default();
        Ok(Some(value))
    }

    /// The next decoded character, validating UTF-8 strictly (no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    fn char(&mut self) -> Result<Option<u32>, PathError> {
        let Some(lead) = self.byte()? else {
            return Ok(None);
        };
        // (total length, range of the second byte), per the table in RFC 3629, section 4.
        let (width, low, high): (u32, u8, u8) = match lead {
            0x00..=0x7f => return Ok(Some(u32::from(lead))),
            0xc2..=0xdf => (2, 0x80, 0xbf),
            0xe0 => (3, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (3, 0x80, 0xbf),
            0xed => (3, 0x80, 0x9f),
            0xf0 => (4, 0x90, 0xbf),
            0xf1..=0xf3 => (4, 0x80, 0xbf),
            0xf4 => (4, 0x80, 0x8f),
            _ => return Err(PathError::InvalidUtf8),
        };
        let mut c = u32::from(lead & (0x7f >> width));
        for i in 1..width {
            let b = self.byte()?.ok_or(PathError::InvalidUtf8)?;
            let (lo, hi) = if i == 1 { (low, high) } else { (0x80, 0xbf) };
            if b < lo || b > hi {
                return Err(PathError::InvalidUtf8);
            }
            // At most 21 bits: no overflow.
            c = (c << 6) | u32::from(b & 0x3f);
        }
        Ok(Some(c))
    }
}

/// Inclusive ranges of confusable characters, and whether each applies only in Windows style
/// (`Some(true)`), only with `case_insensitive` (`Some(false)`) or always (`None`).
const CONFUSABLES: &[(u32, u32, Option<bool>)] = &[
    // Invisible or bidirectional formatting.
    (0x00ad, 0x00ad, None),
    (0x034f, 0x034f, None),
    (0x061c, 0x061c, None),
    (0x115f, 0x1160, None),
    (0x17b4, 0x17b5, None),
    (0x180b, 0x180f, None),
    (0x200b, 0x200f, None),
    (0x2028, 0x202e, None),
    (0x2060, 0x206f, None),
    (0x3164, 0x3164, None),
    (0xfeff, 0xfeff, None),
    (0xffa0, 0xffa0, None),
    (0xfff9, 0xfffb, None),
    (0x1d173, 0x1d17a, None),
    (0xe0000, 0xe007f, None),
    // Dots.
    (0x2024, 0x2026, None),
    (0x3002, 0x3002, None),
    (0xfe19, 0xfe19, None),
    (0xfe30, 0xfe30, None),
    (0xfe52, 0xfe52, None),
    (0xff0e, 0xff0e, None),
    (0xff61, 0xff61, None),
    // Slashes.
    (0x2044, 0x2044, None),
    (0x2100, 0x2101, None),
    (0x2105, 0x2106, None),
    (0x2215, 0x2215, None),
    (0x29f8, 0x29f8, None),
    (0xff0f, 0xff0f, None),
    // Backslashes.
    (0x2216, 0x2216, None),
    (0x29f5, 0x29f5, None),
    (0x29f9, 0x29f9, None),
    (0xfe68, 0xfe68, None),
    (0xff3c, 0xff3c, None),
    // Non-ASCII letters whose simple case mapping is ASCII.
    (0x0130, 0x0131, Some(false)),
    (0x017f, 0x017f, Some(false)),
    (0x212a, 0x212a, Some(false)),
    // Colons, and the characters ANSI code pages map to `\`.
    (0x00a5, 0x00a5, Some(true)),
    (0x20a9, 0x20a9, Some(true)),
    (0x2236, 0x2236, Some(true)),
    (0xa789, 0xa789, Some(true)),
    (0xfe13, 0xfe13, Some(true)),
    (0xfe55, 0xfe55, Some(true)),
    (0xff1a, 0xff1a, Some(true)),
];

fn is_confusable(c: u32, options: PathOptions) -> bool {
    // Every entry is above ASCII (a test holds this), and nearly every character of a real
    // path is ASCII: skip the table walk, which was most of the cost of normalising.
    if c < 0x80 {
        return false;
    }
    let windows = options.style == Style::Windows;
    CONFUSABLES.iter().any(|&(lo, hi, only)| {
        lo <= c
            && c <= hi
            && match only {
                None => true,
                Some(true) => windows,
                Some(false) => options.case_insensitive,
            }
    })
}

/// The character-level checks that do not depend on position.
fn check_char(c: u32, options: PathOptions) -> Result<(), PathError> {
    let windows = options.style == Style::Windows;
    match c {
        0 => Err(PathError::Nul),
        0x01..=0x1f | 0x7f..=0x9f => Err(PathError::Control),
        _ if is_confusable(c, options) => Err(PathError::Confusable),
        0x5c if !windows => Err(PathError::Backslash),
        0x22 | 0x2a | 0x3c | 0x3e | 0x3f | 0x7c if windows => Err(PathError::WindowsChar),
        _ => Ok(()),
    }
}

/// Pass 1: checks every character and finds the root. Returns the root and the raw bytes after
/// it that hold the segments (for a drive, everything after `C:`).
fn scan(input: &[u8], options: PathOptions) -> Result<(Root, &[u8]), PathError> {
    let windows = options.style == Style::Windows;
    let is_sep = |c: u32| c == u32::from(b'/') || (windows && c == u32::from(b'\\'));
    let mut scan = Scan { raw: input, decode: options.percent_decode };
    let mut first = None;
    let mut drive = None;
    let mut after_drive: &[u8] = &[];
    let mut index = 0usize;
    while let Some(c) = scan.char()? {
        check_char(c, options)?;
        if windows {
            match (index, first) {
                (1, Some(f)) if is_sep(f) && is_sep(c) => return Err(PathError::Unc),
                (1, Some(f)) if c == u32::from(b':') => {
                    let letter = u8::try_from(f).ok().filter(u8::is_ascii_alphabetic);
                    drive = Some(letter.ok_or(PathError::Colon)?.to_ascii_lowercase());
                    after_drive = scan.raw;
                }
                (2, _) if drive.is_some() && !is_sep(c) => return Err(PathError::DriveRelative),
                _ if c == u32::from(b':') => return Err(PathError::Colon),
                _ => {}
            }
        }
        if index == 0 {
            first = Some(c);
        }
        // Cannot overflow: at most one increment per input byte.
        index += 1;
    }
    if index == 0 {
        return Err(PathError::Empty);
    }
    if let Some(letter) = drive {
        if index == 2 {
            return Err(PathError::DriveRelative);
        }
        return Ok((Root::Drive(letter), after_drive));
    }
    let root = if first.is_some_and(is_sep) { Root::Slash } else { Root::Relative };
    Ok((root, input))
}

// ---------------------------------------------------------------------------------------------
// Pass 2: segments.
// ---------------------------------------------------------------------------------------------

/// What a segment does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Empty or `.`: nothing.
    Skip,
    /// `..`: remove the previous kept segment.
    Up,
    /// A name, written with this many decoded bytes (after Windows stripping).
    Keep(usize),
}

/// Classifies one raw segment, rejecting the segment-level errors.
fn classify(segment: &[u8], options: PathOptions) -> Result<Step, PathError> {
    let windows = options.style == Style::Windows;
    let bytes = Decoded { raw: segment, decode: options.percent_decode };
    let mut len = 0usize;
    let mut dots = 0usize;
    let mut keep = 0usize;
    let mut before_param = None;
    let mut tilde = false;
    let mut last = 0u8;
    for b in bytes.clone() {
        // Cannot overflow: each counts at most the segment's bytes.
        len += 1;
        last = b;
        if b == b'.' {
            dots += 1;
        }
        if !(windows && matches!(b, b'.' | b' ')) {
            keep = len;
        }
        if b == b';' && before_param.is_none() {
            before_param = Some(len - 1);
        }
        if windows && tilde && b.is_ascii_digit() {
            return Err(PathError::ShortName);
        }
        tilde = b == b'~';
    }
    if len == 0 {
        return Ok(Step::Skip);
    }
    if dots == len {
        return match len {
            1 => Ok(Step::Skip),
            2 => Ok(Step::Up),
            _ => Err(PathError::DotSegment),
        };
    }
    // A name ending in a dot or a space is the same file as the name without it on Windows
    // (`.git.`, `.. `), and no POSIX file needs it: refused in every style, fail closed.
    if !windows && matches!(last, b'.' | b' ') {
        return Err(PathError::DotSegment);
    }
    if options.percent_decode
        && let Some(n) = before_param
        && n > 0
        && bytes.clone().take(n).all(|b| b == b'.')
    {
        return Err(PathError::DotSegment);
    }
    if windows {
        if keep == 0 {
            return Err(PathError::DotSegment);
        }
        if is_device(bytes.take(keep)) {
            return Err(PathError::DeviceName);
        }
    }
    Ok(Step::Keep(keep))
}

/// True if a (stripped) Windows segment names a reserved device: its part before the first `.`,
/// without surrounding spaces, is one of the names in the module documentation.
fn is_device(bytes: impl Iterator<Item = u8>) -> bool {
    // The longest name, `CONOUT$`, has 7 bytes; a longer base name is not a device.
    let mut name = [0u8; 8];
    let mut len = 0usize;
    for b in bytes.take_while(|&b| b != b'.') {
        match name.get_mut(len) {
            Some(slot) => *slot = b.to_ascii_lowercase(),
            None => return false,
        }
        len += 1;
    }
    let mut name = name.get(..len).unwrap_or_default();
    while let [b' ', rest @ ..] = name {
        name = rest;
    }
    while let [rest @ .., b' '] = name {
        name = rest;
    }
    match name {
        b"con" | b"prn" | b"aux" | b"nul" | b"conin$" | b"conout$" | b"clock$" => true,
        [b'c', b'o', b'm', digit @ ..] | [b'l', b'p', b't', digit @ ..] => {
            matches!(digit, [b'0'..=b'9'] | [0xc2, 0xb2 | 0xb3 | 0xb9])
        }
        _ => false,
    }
}

/// The segments that survive normalization, from last to first, with their output lengths.
///
/// Walking right to left, a `..` only increments a counter of segments still to skip, and a
/// name either consumes one of those skips or is kept. This needs no stack (so no allocation)
/// and gives the same result as the usual left-to-right stack: matching each `..` to the
/// nearest unmatched name on its left is the same pairing in either direction, like matching
/// parentheses. For the same reason, `pending` left over at the end is exactly the number of
/// `..` that would have popped an empty stack, i.e. non-zero iff the path escapes.
struct Kept<'a> {
    segments: Split<'a>,
    options: PathOptions,
    pending: usize,
    /// Set if a segment failed classification; `validate` rules that out beforehand.
    fault: Option<PathError>,
}

impl<'a> Kept<'a> {
    fn new(body: &'a [u8], options: PathOptions) -> Self {
        Self { segments: Split::new(body, options), options, pending: 0, fault: None }
    }
}

impl<'a> Iterator for Kept<'a> {
    type Item = (&'a [u8], usize);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(segment) = self.segments.next_back() {
            match classify(segment, self.options) {
                Err(error) => {
                    self.fault = Some(error);
                    return None;
                }
                Ok(Step::Skip) => {}
                // Cannot overflow: at most one increment per segment.
                Ok(Step::Up) => self.pending += 1,
                Ok(Step::Keep(_)) if self.pending > 0 => self.pending -= 1,
                Ok(Step::Keep(len)) => return Some((segment, len)),
            }
        }
        None
    }
}

/// Normalizes `input` lexically into `out` and returns the normalized prefix of `out`.
///
/// See the module documentation for the exact rules and the order in which errors are
/// reported. The result is never longer than `input`, so an `out` as long as `input` always
/// suffices; if `out` is shorter than the result, the error is [`PathError::TooLong`].
pub fn normalize<'o>(
    input: &[u8],
    options: PathOptions,
    out: &'o mut [u8],
) -> Result<&'o [u8], PathError> {
    if input.is_empty() {
        return Err(PathError::Empty);
    }
    if options.style == Style::Posix && !options.percent_decode && is_canonical(input) {
        // Already normal (nearly every real path is): the result is the input itself.
        let slots = out.get_mut(..input.len()).ok_or(PathError::TooLong)?;
        slots.copy_from_slice(input);
        if options.case_insensitive {
            slots.make_ascii_lowercase();
        }
        return Ok(slots);
    }
    if is_plain_case(input, options, out.len()) {
        return normalize_plain(input, options, out);
    }
    normalize_general(input, options, out)
}

/// Whether [`normalize`] would return `input` unchanged: the cheap test it starts with, for
/// callers that can then use `input` where it is instead of a copy.
#[inline]
pub(crate) fn is_normal(input: &[u8], options: PathOptions) -> bool {
    options.style == Style::Posix
        && !options.percent_decode
        && !options.case_insensitive
        && is_canonical(input)
}

/// True for the bytes a plain POSIX path is made of: printable ASCII except `%` (which may
/// start an encoded separator) and `\` (rejected in POSIX style), plus the space.
fn is_plain(b: u8) -> bool {
    matches!(b, b' '..=b'~') && b != b'%' && b != b'\\'
}

/// The common case: POSIX style, no percent-decoding, every byte [`is_plain`], and an output
/// buffer at least as long as `input`.
fn is_plain_case(input: &[u8], options: PathOptions, out_len: usize) -> bool {
    options.style == Style::Posix
        && !options.percent_decode
        && out_len >= input.len()
        && input.iter().all(|&b| is_plain(b))
}

/// [`normalize`] in one left-to-right pass, for inputs [`is_plain_case`] accepts. The result is the general algorithm's, error order
/// included (a test compares the two exhaustively on short paths): no character error can
/// occur in plain bytes; a dot segment is reported at the first offending segment even after
/// an escape, because an escape is only remembered; and `TooLong` cannot occur, since the
/// output, like every intermediate state of it, is no longer than the input.
fn normalize_plain<'o>(
    input: &[u8],
    options: PathOptions,
    out: &'o mut [u8],
) -> Result<&'o [u8], PathError> {
    let slash = input.first() == Some(&b'/');
    let mut len = 0usize;
    let mut kept = 0usize;
    let mut escaped = false;
    for segment in input.split(|&b| b == b'/') {
        let dots = segment.iter().take_while(|&&b| b == b'.').count();
        if dots == segment.len() {
            match dots {
                0 | 1 => continue,
                2 => {
                    if kept == 0 {
                        escaped = true;
                    } else {
                        kept -= 1;
                        // Back to the separator before the last kept segment (none before the
                        // first segment of a relative path).
                        let written = out.get(..len).ok_or(PathError::TooLong)?;
                        len = written.iter().rposition(|&b| b == b'/').unwrap_or(0);
                    }
                    continue;
                }
                _ => return Err(PathError::DotSegment),
            }
        }
        if matches!(segment.last(), Some(b'.' | b' ')) {
            return Err(PathError::DotSegment);
        }
        if escaped {
            // Only the remaining segment errors matter now.
            continue;
        }
        if slash || kept > 0 {
            *out.get_mut(len).ok_or(PathError::TooLong)? = b'/';
            len += 1;
        }
        let end = len.checked_add(segment.len()).ok_or(PathError::TooLong)?;
        let slots = out.get_mut(len..end).ok_or(PathError::TooLong)?;
        for (slot, &b) in slots.iter_mut().zip(segment) {
            *slot = if options.case_insensitive { b.to_ascii_lowercase() } else { b };
        }
        len = end;
        kept += 1;
    }
    if escaped {
        return Err(PathError::EscapesRoot);
    }
    if kept == 0 {
        let root = if slash { b'/' } else { b'.' };
        *out.get_mut(0).ok_or(PathError::TooLong)? = root;
        len = 1;
    }
    out.get(..len).ok_or(PathError::TooLong)
}

/// What [`is_canonical`] needs to know of a byte.
const OTHER: u8 = 0;
const SLASH: u8 = 1;
/// `.` or space: a segment must not end in one (it is a dot segment or an error).
const BAD_END: u8 = 2;
/// Not [`is_plain`].
const NOT_PLAIN: u8 = 3;

static CANONICAL_CLASS: [u8; 256] = {
    let mut table = [NOT_PLAIN; 256];
    let mut rest: &mut [u8] = &mut table;
    let mut b = 0u32;
    while let [class, tail @ ..] = rest {
        *class = match b {
            0x2f => SLASH,
            0x2e | 0x20 => BAD_END,
            0x25 | 0x5c => NOT_PLAIN,
            0x20..=0x7e => OTHER,
            _ => NOT_PLAIN,
        };
        rest = tail;
        b += 1;
    }
    table
};

use crate::swar::{HIGH, ONES, eq_mask};

/// True if `input` is a plain POSIX path that is already what [`normalize_plain`] makes of it
/// (before lowercasing): absolute, every byte [`is_plain`], and every segment non-empty and not
/// ending in `.` or a space, which also excludes `.`, `..` and the segments that are errors.
/// Nearly every real path is, and this pass, eight bytes at a time, is much cheaper than the
/// segment walk. A test compares [`normalize`] with the general algorithm exhaustively.
#[inline]
fn is_canonical(input: &[u8]) -> bool {
    let Some((&b'/', rest)) = input.split_first() else { return false };
    if rest.len() < 8 {
        let mut previous = SLASH;
        for &b in rest {
            let class = CANONICAL_CLASS.get(usize::from(b)).copied().unwrap_or(NOT_PLAIN);
            if class == NOT_PLAIN || (class == SLASH && previous != OTHER) {
                return false;
            }
            previous = class;
        }
        // `/` alone is canonical; otherwise the last segment must end well.
        return rest.is_empty() || previous == OTHER;
    }
    // A segment ends badly where a slash or the end follows a slash (an empty segment), a `.`
    // or a space. `carry` is that mark for the byte before the current word, at bit 7.
    let mut carry = 0x80u64;
    let mut base = 0;
    loop {
        let Some(bytes) = rest.get(base..base + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) else {
            return false;
        };
        let w = u64::from_le_bytes(bytes);
        // Not plain: below 0x20, above 0x7e, `%` or `\`. Each term only has to say whether
        // some byte is (any mark rejects the word): a borrow or carry may mark a byte above
        // one that is, never a word without one. Cheaper than exact masks.
        let (percent, backslash) = (w ^ (ONES * u64::from(b'%')), w ^ (ONES * u64::from(b'\\')));
        let not_plain = (w.wrapping_sub(ONES * 0x20) & !w)
            | w.wrapping_add(ONES)
            | w
            | (percent.wrapping_sub(ONES) & !percent)
            | (backslash.wrapping_sub(ONES) & !backslash);
        let slash = eq_mask(w, b'/');
        // `.` and `/` differ only in bit 0.
        let bad_end = eq_mask(w | ONES, b'/') | eq_mask(w, b' ');
        if (not_plain & HIGH) | (slash & ((bad_end << 8) | carry)) != 0 {
            return false;
        }
        if base + 8 >= rest.len() {
            // The last segment must end well.
            return bad_end >> 56 == 0;
        }
        base += 8;
        carry = (bad_end >> 56) & 0x80;
        if base + 8 > rest.len() {
            // The last word overlaps bytes already accepted instead of a byte loop: they pass
            // again, and each new byte's predecessor is inside the word, so no carry is needed.
            base = rest.len() - 8;
            carry = 0;
        }
    }
}

/// [`normalize`] for every input: characters, then segments, then the walk that writes.
fn normalize_general<'o>(
    input: &[u8],
    options: PathOptions,
    out: &'o mut [u8],
) -> Result<&'o [u8], PathError> {
    let (root, body) = scan(input, options)?;
    // Segment errors are reported for the first offending segment in input order.
    for segment in Split::new(body, options) {
        classify(segment, options)?;
    }

    // Measure, so that the escape check wins over the length check and TooLong means exactly
    // "the result does not fit", not "an intermediate state did not".
    let mut kept = Kept::new(body, options);
    let mut bytes = 0usize;
    let mut count = 0usize;
    for (_, len) in kept.by_ref() {
        // Cannot overflow: the kept segments are disjoint parts of `input`.
        bytes += len;
        count += 1;
    }
    if let Some(error) = kept.fault {
        return Err(error);
    }
    if kept.pending > 0 {
        return Err(PathError::EscapesRoot);
    }
    // Relative: segments joined by '/', or "." if none. Slash: "/" before every segment, or
    // "/". Drive: "c:" and "/" before every segment, or "c:/". Never longer than the input:
    // every kept segment and the separator before it occur in the input, and so do the drive
    // and the byte or three bytes of an empty result.
    let head = match root {
        Root::Relative => 0,
        Root::Slash => 1,
        Root::Drive(_) => 3,
    };
    let total = match count.checked_sub(1) {
        None => head.max(1),
        Some(between) => bytes + between + head,
    };
    let dst = out.get_mut(..total).ok_or(PathError::TooLong)?;

    // Write: the same deterministic walk, each kept segment right to left.
    let mut end = total;
    let mut written = 0usize;
    for (segment, len) in Kept::new(body, options) {
        // The checked operations cannot fail, because the first walk measured exactly these
        // segments; if they somehow did, failing is the closed direction.
        let start = end.checked_sub(len).ok_or(PathError::TooLong)?;
        let slots = dst.get_mut(start..end).ok_or(PathError::TooLong)?;
        let decoded = Decoded { raw: segment, decode: options.percent_decode };
        for (slot, b) in slots.iter_mut().zip(decoded) {
            *slot = if options.case_insensitive { b.to_ascii_lowercase() } else { b };
        }
        written += 1;
        end = start;
        if root != Root::Relative || written < count {
            end = end.checked_sub(1).ok_or(PathError::TooLong)?;
            *dst.get_mut(end).ok_or(PathError::TooLong)? = b'/';
        }
    }
    let head_bytes: &[u8] = match root {
        Root::Relative if count == 0 => b".",
        Root::Slash if count == 0 => b"/",
        Root::Relative | Root::Slash => b"",
        Root::Drive(letter) if count == 0 => &[letter, b':', b'/'],
        Root::Drive(letter) => &[letter, b':'],
    };
    if end != head_bytes.len() {
        return Err(PathError::TooLong);
    }
    dst.get_mut(..end).ok_or(PathError::TooLong)?.copy_from_slice(head_bytes);
    Ok(dst)
}

/// True if every segment of `prefix` equals, in order, the leading segments of `normalized`,
/// and both have the same kind of root.
///
/// Segment-aware: `/workspace` and `/workspace/` both match `/workspace` and `/workspace/a` but
/// not `/workspaces`; `/` matches every absolute path; `c:/` every path on drive `c`; `.` every
/// relative path. A relative path never matches an absolute prefix, nor the other way round,
/// and neither matches a drive prefix (`/x`, rooted at the current drive, does not match
/// `c:/`). A path that starts with an ASCII letter and `:` followed by `/` or the end counts as
/// drive-rooted here whatever the style, so a POSIX relative path `c:/x` does not match `.`
/// (the closed direction). Comparison is byte-exact; [`normalize`] already lowercased both if
/// the policy is case-insensitive.
///
/// Both arguments must come from [`normalize`] with the same options. As a guard against a
/// caller that forgot to normalize, this returns false (deny) if either is empty or contains
/// NUL, a backslash or a `..` segment, so `/workspace/../etc` never matches `/workspace`.
pub fn has_prefix(normalized: &[u8], prefix: &[u8]) -> bool {
    let (Some(path_clean), Some(prefix_clean)) = (guard(normalized), guard(prefix)) else {
        return false;
    };
    if root_kind(normalized) != root_kind(prefix) {
        return false;
    }
    if path_clean && prefix_clean {
        // Both are `/` then `/`-separated segments, none empty or `.`: the segments are exactly
        // the tokens between slashes, so "the prefix's segments lead the path's" is "the prefix
        // is a byte prefix that ends where a token of the path ends".
        return prefix == b"/"
            || (normalized.starts_with(prefix)
                && matches!(normalized.get(prefix.len()), None | Some(b'/')));
    }
    let mut have = segments(normalized);
    segments(prefix).all(|want| have.next() == Some(want))
}

/// [`has_prefix`] for a `normalized` path that [`normalize`] returned, which needs no guard:
/// its output is never empty and has no NUL, backslash, `..`, `.` or empty segment, so it is
/// clean exactly when it is absolute. `prefix` is still guarded. Same answer as [`has_prefix`]
/// on every output of [`normalize`] (a test holds this).
#[inline]
pub fn has_prefix_of_normalized(normalized: &[u8], prefix: &[u8]) -> bool {
    // The common allow: a non-empty byte prefix of an absolute normalized path that ends where
    // one of its segments ends is itself clean (`/` and whole segments of the path), so the
    // guard would pass it and the answer is yes without reading it twice. Inlined, with a word
    // compare instead of a library call: a path-under test makes it once per prefix.
    if !prefix.is_empty()
        && normalized.first() == Some(&b'/')
        && normalized.get(..prefix.len()).is_some_and(|head| crate::swar::same_bytes(head, prefix))
        && matches!(normalized.get(prefix.len()), None | Some(b'/'))
    {
        return true;
    }
    has_prefix_of_normalized_slow(normalized, prefix)
}

/// The rest of [`has_prefix_of_normalized`], when the byte prefix did not settle it: out of
/// line, so that the common case inlines small.
#[inline(never)]
fn has_prefix_of_normalized_slow(normalized: &[u8], prefix: &[u8]) -> bool {
    let Some(prefix_clean) = guard(prefix) else { return false };
    if normalized.is_empty() || root_kind(normalized) != root_kind(prefix) {
        return false;
    }
    if prefix_clean && normalized.first() == Some(&b'/') {
        return prefix == b"/"
            || (normalized.starts_with(prefix)
                && matches!(normalized.get(prefix.len()), None | Some(b'/')));
    }
    let mut have = segments(normalized);
    segments(prefix).all(|want| have.next() == Some(want))
}

/// 0 relative, 1 absolute (`/`), 2 drive (`c:/` or `c:`).
fn root_kind(path: &[u8]) -> u8 {
    match path {
        [b'/', ..] => 1,
        [letter, b':'] | [letter, b':', b'/', ..] if letter.is_ascii_alphabetic() => 2,
        _ => 0,
    }
}

fn is_slash(b: &u8) -> bool {
    *b == b'/'
}

/// The segments that carry meaning: empty and `.` segments are no-ops in resolution.
fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(is_slash).filter(|s| !s.is_empty() && *s != b".")
}

/// The guard of [`has_prefix`], in one pass: `None` when `path` is empty or contains NUL, a
/// backslash or a `..` segment; else whether it is clean: `/` alone, or `/` followed by
/// segments that are neither empty nor `.` (no `//`, no `/./`, no trailing `/` or `/.`).
fn guard(path: &[u8]) -> Option<bool> {
    if path.is_empty() {
        return None;
    }
    // The length of the current segment so far, and whether it is all dots (a `..` segment is
    // two bytes, both dots; a `.` segment one).
    let mut run = 0usize;
    let mut dots_only = true;
    let mut clean = path.first() == Some(&b'/');
    for (index, &b) in path.iter().enumerate() {
        match b {
            0 | b'\\' => return None,
            b'/' => {
                if run == 2 && dots_only {
                    return None;
                }
                // An empty segment (other than before the leading slash) or a `.` segment.
                if (run == 0 && index != 0) || (run == 1 && dots_only) {
                    clean = false;
                }
                run = 0;
                dots_only = true;
            }
            _ => {
                run = run.saturating_add(1);
                dots_only &= b == b'.';
            }
        }
    }
    if run == 2 && dots_only {
        return None;
    }
    // A trailing `/` (but `/` alone is clean) or a trailing `.` segment.
    if (run == 0 && path.len() != 1) || (run == 1 && dots_only) {
        clean = false;
    }
    Some(clean)
}
#[cfg(test)]
mod tests {
    extern crate std;

    #[test]
    fn the_plain_fast_path_agrees_with_the_general_algorithm() {
        // Every path of up to 7 bytes over an alphabet that covers each case of the fast path.
        let alphabet = [b'/', b'.', b'a', b'B', b' '];
        let mut input = [0u8; 7];
        let (mut fast, mut general) = ([0u8; 16], [0u8; 16]);
        for len in 1..=input.len() {
            let count = alphabet.len().pow(u32::try_from(len).unwrap());
            for mut code in 0..count {
                for slot in input.iter_mut().take(len) {
                    *slot = alphabet[code % alphabet.len()];
                    code /= alphabet.len();
                }
                let path = &input[..len];
                for case_insensitive in [false, true] {
                    let options = PathOptions { case_insensitive, ..PathOptions::default() };
                    let expected =
                        normalize_general(path, options, &mut general).map(<[u8]>::to_vec);
                    assert!(is_plain_case(path, options, fast.len()));
                    let got = normalize_plain(path, options, &mut fast).map(<[u8]>::to_vec);
                    assert_eq!(got, expected, "{:?}", core::str::from_utf8(path));
                    // And through the dispatcher, which first tries `is_canonical`.
                    let got = normalize(path, options, &mut fast).map(<[u8]>::to_vec);
                    assert_eq!(got, expected, "{:?}", core::str::from_utf8(path));
                    // A path `is_normal` accepts is its own normal form.
                    if is_normal(path, options) {
                        assert_eq!(
                            expected.as_deref(),
                            Ok(path),
                            "{:?}",
                            core::str::from_utf8(path)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_canonical_shortcut_agrees_with_the_general_algorithm_on_long_paths() {
        // `is_canonical` reads eight bytes at a time, beyond the exhaustive test's 7 bytes: paths
        // of 8 to 40 bytes, mostly canonical with one or two odd bytes anywhere, so every byte
        // position of a word and the word boundaries meet every case.
        let alphabet = [b'/', b'.', b' ', b'%', b'\\', 0x7f, 0x1f, 0x80, b'~', b'a', b'B', 0];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut fast, mut general) = ([0u8; 64], [0u8; 64]);
        let mut canonical = 0;
        for _ in 0..200_000 {
            let len = 8 + (next() % 33) as usize;
            let mut path = [0u8; 40];
            for (i, slot) in path.iter_mut().enumerate().take(len) {
                *slot = if i % 5 == 0 { b'/' } else { b'a' + (i % 26) as u8 };
            }
            path[0] = b'/';
            for _ in 0..=(next() % 2) {
                let at = (next() % len as u64) as usize;
                path[at] = alphabet[(next() % alphabet.len() as u64) as usize];
            }
            let path = &path[..len];
            canonical += usize::from(is_canonical(path));
            for case_insensitive in [false, true] {
                let options = PathOptions { case_insensitive, ..PathOptions::default() };
                let expected = normalize_general(path, options, &mut general).map(<[u8]>::to_vec);
                let got = normalize(path, options, &mut fast).map(<[u8]>::to_vec);
                assert_eq!(got, expected, "{path:?}");
                if is_normal(path, options) {
                    assert_eq!(expected.as_deref(), Ok(path), "{path:?}");
                }
            }
        }
        // Both branches were taken often.
        assert!((20_000..180_000).contains(&canonical), "{canonical}");
    }

    #[test]
    fn the_prefix_test_without_the_guard_agrees_on_every_normalized_path() {
        // Every path of up to 5 bytes over an alphabet that reaches drives, escapes, percent
        // forms and both separators, under every option combination.
        let alphabet = [b'/', b'.', b'a', b'\\', b'%', b'2', b'5', b'0', b'c', b':'];
        let prefixes: [&[u8]; 12] = [
            b"/", b"/a", b"/a/", b"/a/c", b".", b"a", b"c:/", b"c:/a", b"/a/../c", b"", b"/a/.",
            b"//a",
        ];
        let mut input = [0u8; 5];
        let mut out = [0u8; 16];
        for len in 1..=input.len() {
            let count = alphabet.len().pow(u32::try_from(len).unwrap());
            for mut code in 0..count {
                for slot in input.iter_mut().take(len) {
                    *slot = alphabet[code % alphabet.len()];
                    code /= alphabet.len();
                }
                for style in [Style::Posix, Style::Windows] {
                    for case_insensitive in [false, true] {
                        for percent_decode in [false, true] {
                            let options = PathOptions { style, case_insensitive, percent_decode };
                            let Ok(normalized) = normalize(&input[..len], options, &mut out) else {
                                continue;
                            };
                            for prefix in prefixes {
                                assert_eq!(
                                    has_prefix_of_normalized(normalized, prefix),
                                    has_prefix(normalized, prefix),
                                    "{normalized:?} {prefix:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn no_confusable_is_ascii() {
        // `is_confusable` skips the table for ASCII characters.
        assert!(CONFUSABLES.iter().all(|&(lo, hi, _)| lo >= 0x80 && hi >= lo));
    }

    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    const POSIX: PathOptions = PathOptions { style: Style::Posix, ..DEFAULT };
    const DEFAULT: PathOptions =
        PathOptions { style: Style::Posix, case_insensitive: false, percent_decode: false };
    const DECODE: PathOptions = PathOptions { percent_decode: true, ..DEFAULT };
    const WINDOWS: PathOptions = PathOptions { style: Style::Windows, ..DEFAULT };
    const CI: PathOptions = PathOptions { case_insensitive: true, ..DEFAULT };
    const WINDOWS_CI: PathOptions = PathOptions { case_insensitive: true, ..WINDOWS };
    const WINDOWS_DECODE: PathOptions = PathOptions { percent_decode: true, ..WINDOWS };

    fn norm(input: &[u8], options: PathOptions) -> Result<Vec<u8>, PathError> {
        let mut buf = [0u8; 512];
        normalize(input, options, &mut buf).map(<[u8]>::to_vec)
    }

    type Case = (&'static str, Result<&'static str, PathError>);

    fn check_table(options: PathOptions, cases: &[Case]) {
        for (input, want) in cases {
            let got = norm(input.as_bytes(), options);
            let got = got.as_deref().map(|b| core::str::from_utf8(b).unwrap()).map_err(|e| *e);
            assert_eq!(got, *want, "input {input:?} options {options:?}");
        }
    }

    #[test]
    fn posix_table() {
        use PathError::*;
        check_table(
            POSIX,
            &[
                ("/workspace/../etc/passwd", Ok("/etc/passwd")),
                ("/../etc", Err(EscapesRoot)),
                ("a/../../b", Err(EscapesRoot)),
                ("//workspace//./a/", Ok("/workspace/a")),
                ("/", Ok("/")),
                ("//", Ok("/")),
                ("///", Ok("/")),
                ("/.", Ok("/")),
                ("/./", Ok("/")),
                ("/a/..", Ok("/")),
                ("/a/../", Ok("/")),
                (".", Ok(".")),
                ("./", Ok(".")),
                ("./.", Ok(".")),
                ("a/..", Ok(".")),
                ("a/b/../..", Ok(".")),
                ("a/./b", Ok("a/b")),
                ("./a", Ok("a")),
                ("a//b/", Ok("a/b")),
                ("a", Ok("a")),
                ("/a/b/", Ok("/a/b")),
                ("a/b/../c", Ok("a/c")),
                ("/a/b/c/../../d", Ok("/a/d")),
                ("/a/b/c/../../d/..", Ok("/a")),
                ("/a/../b/../c", Ok("/c")),
                ("..", Err(EscapesRoot)),
                ("../a", Err(EscapesRoot)),
                ("/..", Err(EscapesRoot)),
                ("/a/b/../../..", Err(EscapesRoot)),
                ("a/b/../../../a/b", Err(EscapesRoot)),
                ("/a/../../a", Err(EscapesRoot)),
                // Three or more dots.
                ("...", Err(DotSegment)),
                ("/a/.../b", Err(DotSegment)),
                ("....//", Err(DotSegment)),
                ("/a/..../", Err(DotSegment)),
                // A dot segment later removed by `..` is still rejected.
                ("/a/.../../b", Err(DotSegment)),
                ("..a/b..", Err(DotSegment)),
                ("/a./.b/a..b", Err(DotSegment)),
                ("/a/.b/a..b", Ok("/a/.b/a..b")),
                ("/.hidden/.x", Ok("/.hidden/.x")),
                // Encoded separators are rejected when not decoding; other escapes are names.
                ("/%2e%2e/etc", Err(EncodedSeparator)),
                ("/workspace/%2E%2E/%2e%2e/etc", Err(EncodedSeparator)),
                ("..%2f", Err(EncodedSeparator)),
                ("..%2F..%2Fetc", Err(EncodedSeparator)),
                ("%2e%2e/", Err(EncodedSeparator)),
                ("/a%5c..", Err(EncodedSeparator)),
                ("/a%5C", Err(EncodedSeparator)),
                ("/a%00", Err(EncodedSeparator)),
                ("%252e%252e", Err(EncodedSeparator)),
                ("%c0%ae%c0%ae", Err(EncodedSeparator)),
                ("/a%zz/%4/%", Ok("/a%zz/%4/%")),
                ("/100%25.txt", Err(EncodedSeparator)),
                ("/100%.txt", Ok("/100%.txt")),
                // Confusables and invisible characters.
                ("\u{ff0e}\u{ff0e}\u{ff0f}etc", Err(Confusable)),
                ("/a/\u{2024}\u{2024}/b", Err(Confusable)),
                ("/a/\u{2025}/b", Err(Confusable)),
                ("/a\u{2215}b", Err(Confusable)),
                ("/a\u{ff3c}b", Err(Confusable)),
                ("/a\u{200b}b", Err(Confusable)),
                ("/\u{202e}txt.exe", Err(Confusable)),
                ("\u{feff}/a", Err(Confusable)),
                ("/a\u{e0041}", Err(Confusable)),
                // Characters that only matter elsewhere are names here.
                ("/a:b/c::$DATA", Ok("/a:b/c::$DATA")),
                ("c:/x", Ok("c:/x")),
                ("/con/nul.txt/PROGRA~1", Ok("/con/nul.txt/PROGRA~1")),
                ("/a. /b ", Err(DotSegment)),
                ("/a?*<>|\"", Ok("/a?*<>|\"")),
                ("/x;/..;/y", Ok("/x;/..;/y")),
                ("/caf\u{e9}/\u{ff21}\u{a5}", Ok("/caf\u{e9}/\u{ff21}\u{a5}")),
                ("/\u{17f}ecret/\u{130}", Ok("/\u{17f}ecret/\u{130}")),
                ("/\u{1f600}\u{fe0f}", Ok("/\u{1f600}\u{fe0f}")),
                ("~/x", Ok("~/x")),
                ("/A/B", Ok("/A/B")),
                // Rejected bytes.
                ("", Err(Empty)),
                ("/a\0b", Err(Nul)),
                ("\0", Err(Nul)),
                ("/a/../..\0", Err(Nul)),
                ("/a\x01", Err(Control)),
                ("/a\tb", Err(Control)),
                ("/a\nb", Err(Control)),
                ("/a\x1b[2J", Err(Control)),
                ("/a\x7f", Err(Control)),
                ("/a\u{85}", Err(Control)),
                ("/a\u{9f}", Err(Control)),
                ("a\\b", Err(Backslash)),
                ("\\..\\..\\etc", Err(Backslash)),
                ("/a/b\\..//c", Err(Backslash)),
                ("C:\\x", Err(Backslash)),
                ("/a\\\0", Err(Backslash)),
                ("/a\0\\", Err(Nul)),
                // The first offending character decides.
                ("/a\u{200b}\0", Err(Confusable)),
                ("/..\x01/../..", Err(Control)),
                ("/.../%2e", Err(EncodedSeparator)),
            ],
        );
        assert_eq!(norm(b"/caf\xc3\xa9/\xff", POSIX), Err(InvalidUtf8));
        assert_eq!(norm(b"/\xc0\xae\xc0\xae", POSIX), Err(InvalidUtf8));
        assert_eq!(norm(b"/\xed\xa0\x80", POSIX), Err(InvalidUtf8));
        assert_eq!(norm(b"/\xf4\x90\x80\x80", POSIX), Err(InvalidUtf8));
        assert_eq!(norm(b"/\xe2\x80", POSIX), Err(InvalidUtf8));
        assert_eq!(norm(b"\xe2\x80/a", POSIX), Err(InvalidUtf8));
    }

    #[test]
    fn percent_decode_table() {
        use PathError::*;
        check_table(
            DECODE,
            &[
                ("/", Ok("/")),
                ("/a%2fb", Ok("/a/b")),
                ("/a%2Fb%2F", Ok("/a/b")),
                ("..%2f", Err(EscapesRoot)),
                ("/a/..%2f..%2fetc", Err(EscapesRoot)),
                ("%2e%2e/", Err(EscapesRoot)),
                ("/%2e%2e/etc", Err(EscapesRoot)),
                ("/x/%2e%2e/y", Ok("/y")),
                ("/x/%2E%2e%2fetc", Ok("/etc")),
                ("/x/%2e/y", Ok("/x/y")),
                ("/x/%2e%2e%2e/y", Err(DotSegment)),
                ("....//", Err(DotSegment)),
                ("%252e%252e", Err(DoubleEncoded)),
                ("/a/%252e%252e/etc", Err(DoubleEncoded)),
                ("/100%25.txt", Err(DoubleEncoded)),
                ("/a%2541", Err(DoubleEncoded)),
                ("%c0%ae%c0%ae", Err(InvalidUtf8)),
                ("/%c0%ae%c0%ae/etc", Err(InvalidUtf8)),
                ("/%e0%80%ae", Err(InvalidUtf8)),
                ("/%ed%a0%80", Err(InvalidUtf8)),
                ("/%ff", Err(InvalidUtf8)),
                ("/%c3", Err(InvalidUtf8)),
                ("/%c3/", Err(InvalidUtf8)),
                ("/caf%C3%A9", Ok("/caf\u{e9}")),
                ("/caf%c3\u{a9}", Err(InvalidUtf8)),
                ("/caf\u{e9}", Ok("/caf\u{e9}")),
                ("/%e2%80%ae", Err(Confusable)),
                ("/%ef%bc%8e%ef%bc%8e/", Err(Confusable)),
                ("\u{ff0e}\u{ff0e}\u{ff0f}", Err(Confusable)),
                ("/a%00", Err(Nul)),
                ("/a%0a", Err(Control)),
                ("/a%7F", Err(Control)),
                ("/a%", Err(BadPercent)),
                ("/a%4", Err(BadPercent)),
                ("/a%zz", Err(BadPercent)),
                ("/a%4g", Err(BadPercent)),
                ("/a%%41", Err(BadPercent)),
                ("/a%5cb", Err(Backslash)),
                ("/a/..;/b", Err(DotSegment)),
                ("/a/.;x/b", Err(DotSegment)),
                ("/a/...;/b", Err(DotSegment)),
                ("/a/%2e%2e%3b/b", Err(DotSegment)),
                ("/a;x/b;", Ok("/a;x/b;")),
                ("/a/;x", Ok("/a/;x")),
                ("/a%20b", Ok("/a b")),
                ("/%41%42c", Ok("/ABc")),
                ("/a:b", Ok("/a:b")),
            ],
        );
    }

    #[test]
    fn windows_table() {
        use PathError::*;
        check_table(
            WINDOWS,
            &[
                ("C:\\x", Ok("c:/x")),
                ("c:/x", Ok("c:/x")),
                ("C:\\", Ok("c:/")),
                ("C:/", Ok("c:/")),
                ("C:\\\\", Ok("c:/")),
                ("C:\\a\\..", Ok("c:/")),
                ("C:\\a\\..\\b", Ok("c:/b")),
                ("C:\\a/b\\c/", Ok("c:/a/b/c")),
                ("C:\\a\\\\b//c", Ok("c:/a/b/c")),
                ("Z:/Users/Bob", Ok("z:/Users/Bob")),
                ("C:\\Users\\..\\..\\x", Err(EscapesRoot)),
                ("C:\\..", Err(EscapesRoot)),
                ("C:/a/../..\\b", Err(EscapesRoot)),
                ("C:x", Err(DriveRelative)),
                ("C:", Err(DriveRelative)),
                ("C:..\\x", Err(DriveRelative)),
                ("C::", Err(DriveRelative)),
                ("\\\\server\\share\\x", Err(Unc)),
                ("//server/share", Err(Unc)),
                ("/\\server", Err(Unc)),
                ("\\/server", Err(Unc)),
                ("\\\\?\\C:\\x", Err(Unc)),
                ("\\\\.\\PhysicalDrive0", Err(Unc)),
                ("//?/c:/x", Err(Unc)),
                ("\\??\\UNC\\host\\share", Err(WindowsChar)),
                ("\\x", Ok("/x")),
                ("/x", Ok("/x")),
                ("\\", Ok("/")),
                ("/", Ok("/")),
                ("\\a\\..\\..", Err(EscapesRoot)),
                ("a\\b", Ok("a/b")),
                ("a/b\\c", Ok("a/b/c")),
                ("a\\..", Ok(".")),
                ("a/..\\..", Err(EscapesRoot)),
                ("..\\a", Err(EscapesRoot)),
                // Alternate data streams and other colons.
                ("a.txt::$DATA", Err(Colon)),
                ("C:\\a.txt:stream", Err(Colon)),
                ("C:\\a.txt::$DATA", Err(Colon)),
                (":x", Err(Colon)),
                ("1:\\x", Err(Colon)),
                ("\\C:\\x", Err(Colon)),
                ("a\\C:\\x", Err(Colon)),
                // Trailing dots and spaces.
                ("C:\\secret.txt. .", Ok("c:/secret.txt")),
                ("C:\\secret.txt...", Ok("c:/secret.txt")),
                ("C:\\dir. \\f", Ok("c:/dir/f")),
                ("C:\\ a \\ b", Ok("c:/ a/ b")),
                ("C:\\a\\. \\b", Err(DotSegment)),
                ("C:\\a\\.. \\b", Err(DotSegment)),
                ("C:\\a\\...\\b", Err(DotSegment)),
                ("C:\\ ", Err(DotSegment)),
                ("....//", Err(DotSegment)),
                // Devices.
                ("C:\\CON", Err(DeviceName)),
                ("C:\\con.txt", Err(DeviceName)),
                ("C:\\a\\nul .txt", Err(DeviceName)),
                ("C:\\nul.", Err(DeviceName)),
                ("C:\\Nul. .", Err(DeviceName)),
                ("COM1", Err(DeviceName)),
                ("x/com0", Err(DeviceName)),
                ("lpt9.log", Err(DeviceName)),
                ("C:\\COM\u{b9}", Err(DeviceName)),
                ("C:\\lpt\u{b3}.txt", Err(DeviceName)),
                ("C:\\CONOUT$", Err(DeviceName)),
                ("C:\\conin$.x", Err(DeviceName)),
                ("C:\\CLOCK$", Err(DeviceName)),
                ("AUX", Err(DeviceName)),
                ("prn.x.y", Err(DeviceName)),
                ("C:\\con\\..\\x", Err(DeviceName)),
                ("C:\\console", Ok("c:/console")),
                ("C:\\com10", Ok("c:/com10")),
                ("C:\\lpt", Ok("c:/lpt")),
                ("C:\\COM1x", Ok("c:/COM1x")),
                ("C:\\x.con", Ok("c:/x.con")),
                ("C:\\com\u{b4}", Ok("c:/com\u{b4}")),
                // Short names, reserved characters, look-alikes.
                ("C:\\PROGRA~1", Err(ShortName)),
                ("C:\\secret~1.txt", Err(ShortName)),
                ("C:\\a~b\\~", Ok("c:/a~b/~")),
                ("C:\\a?b", Err(WindowsChar)),
                ("C:\\a*", Err(WindowsChar)),
                ("C:\\a<b>", Err(WindowsChar)),
                ("C:\\a|b", Err(WindowsChar)),
                ("C:\\a\"b", Err(WindowsChar)),
                ("C:\\a\u{a5}..\u{a5}x", Err(Confusable)),
                ("C:\\a\u{20a9}x", Err(Confusable)),
                ("C:\\a\u{ff1a}b", Err(Confusable)),
                ("C:\\a\u{a789}b", Err(Confusable)),
                ("C:\\a\u{2236}b", Err(Confusable)),
                ("\u{ff0e}\u{ff0e}\u{ff3c}", Err(Confusable)),
                // Case is kept unless asked for; the drive letter is always lowercased.
                ("C:\\A\\B", Ok("c:/A/B")),
                ("C:\\%2e%2e", Err(EncodedSeparator)),
                ("C:\\a%5c..%5c..", Err(EncodedSeparator)),
                ("C:\\a%41", Ok("c:/a%41")),
                ("", Err(Empty)),
                ("C:\\a\0", Err(Nul)),
                ("C:\\a\x1f", Err(Control)),
            ],
        );
        check_table(
            WINDOWS_DECODE,
            &[
                ("C:%5cx", Ok("c:/x")),
                ("c%3a/x", Ok("c:/x")),
                ("C:/a%5c..%5c..", Err(EscapesRoot)),
                ("C:/a%3a%3a$DATA", Err(Colon)),
                ("%5c%5cserver", Err(Unc)),
                ("C:/%63on", Err(DeviceName)),
                ("C:/a%252e", Err(DoubleEncoded)),
                ("C:/a/..;/b", Err(DotSegment)),
            ],
        );
    }

    #[test]
    fn case_insensitive_table() {
        use PathError::*;
        check_table(
            CI,
            &[
                ("/Work/Space", Ok("/work/space")),
                ("/WORK/../ETC", Ok("/etc")),
                ("/\u{c9}COLE", Ok("/\u{c9}cole")),
                ("/\u{17f}ecret", Err(Confusable)),
                ("/\u{212a}ey", Err(Confusable)),
                ("/\u{130}stanbul", Err(Confusable)),
                ("/\u{131}", Err(Confusable)),
                ("/i\u{307}", Ok("/i\u{307}")),
                ("/\u{ff21}", Ok("/\u{ff21}")),
            ],
        );
        check_table(
            WINDOWS_CI,
            &[
                ("C:\\Users\\Bob", Ok("c:/users/bob")),
                ("\\Users\\BOB.TXT. ", Ok("/users/bob.txt")),
                ("C:\\\u{17f}ecret", Err(Confusable)),
            ],
        );
        // Without case folding the same characters are ordinary names.
        assert_eq!(norm("/\u{17f}ecret".as_bytes(), POSIX).unwrap(), "/\u{17f}ecret".as_bytes());
    }

    #[test]
    fn too_long_is_exact() {
        let mut buf = [0u8; 8];
        let o = DEFAULT;
        assert_eq!(normalize(b"/abc", o, buf.get_mut(..3).unwrap()), Err(PathError::TooLong));
        assert_eq!(normalize(b"/abc", o, buf.get_mut(..4).unwrap()), Ok(&b"/abc"[..]));
        assert_eq!(normalize(b"/abc/", o, buf.get_mut(..4).unwrap()), Ok(&b"/abc"[..]));
        // The intermediate "aaaa" does not fit, the result does: only the result counts.
        assert_eq!(normalize(b"aaaa/..", o, buf.get_mut(..1).unwrap()), Ok(&b"."[..]));
        assert_eq!(normalize(b"/aaaa/..", o, buf.get_mut(..1).unwrap()), Ok(&b"/"[..]));
        assert_eq!(normalize(b"/", o, &mut []), Err(PathError::TooLong));
        // The escape is reported even when the buffer is also too small.
        assert_eq!(normalize(b"/a/../..", o, &mut []), Err(PathError::EscapesRoot));
        // Decoded and stripped lengths count, not raw ones.
        let d = DECODE;
        assert_eq!(normalize(b"/%41%42", d, buf.get_mut(..3).unwrap()), Ok(&b"/AB"[..]));
        assert_eq!(normalize(b"/%41%42", d, buf.get_mut(..2).unwrap()), Err(PathError::TooLong));
        let w = WINDOWS;
        assert_eq!(normalize(b"C:\\a\\..", w, buf.get_mut(..3).unwrap()), Ok(&b"c:/"[..]));
        assert_eq!(normalize(b"C:\\a\\..", w, buf.get_mut(..2).unwrap()), Err(PathError::TooLong));
        assert_eq!(normalize(b"C:\\ab. . ", w, buf.get_mut(..5).unwrap()), Ok(&b"c:/ab"[..]));
        assert_eq!(normalize(b"C:\\ab. . ", w, buf.get_mut(..4).unwrap()), Err(PathError::TooLong));
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
            // Drives.
            (b"c:/work/a", b"c:/work", true),
            (b"c:/work", b"c:/work/", true),
            (b"c:/work", b"c:/", true),
            (b"c:/", b"c:/", true),
            (b"c:/workx", b"c:/work", false),
            (b"d:/work", b"c:/work", false),
            (b"d:/", b"c:/", false),
            (b"/work", b"c:/work", false),
            (b"c:/work", b"/work", false),
            (b"c:/work", b"/", false),
            (b"c:/a", b".", false),
            (b"c:/a", b"c:", true),
            (b"cc:/a", b".", true),
            // Not normalized: the guard denies.
            (b"/workspace/../etc", b"/workspace", false),
            (b"/workspace/a", b"/workspace/..", false),
            (b"c:/work/../x", b"c:/work", false),
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
                String::from_utf8_lossy(path),
                String::from_utf8_lossy(prefix)
            );
        }
    }

    #[test]
    fn traversal_does_not_match_workspace() {
        let cases: &[(&str, PathOptions, &str)] = &[
            ("/workspace/../etc/passwd", POSIX, "/workspace"),
            ("/workspace/%2e%2e/etc/passwd", DECODE, "/workspace"),
            ("/workspace/..%2fetc/passwd", DECODE, "/workspace"),
            ("C:\\work\\..\\secret", WINDOWS, "c:/work"),
            ("c:/work/..\\secret", WINDOWS, "c:/work"),
            ("C:\\WORK\\..\\Secret", WINDOWS_CI, "c:/work"),
        ];
        for (input, options, prefix) in cases {
            let p = norm(input.as_bytes(), *options).unwrap();
            assert!(!has_prefix(&p, prefix.as_bytes()), "{input}");
        }
        let p = norm(b"/workspace/./a/../b", POSIX).unwrap();
        assert!(has_prefix(&p, b"/workspace"));
        let p = norm(b"C:\\Work\\A", WINDOWS_CI).unwrap();
        assert!(has_prefix(&p, &norm(b"c:/WORK", WINDOWS_CI).unwrap()));
    }

    /// Every confusable listed in the module documentation, by the options it applies under.
    const LISTED_ALWAYS: &[u32] = &[
        0x2024, 0x2025, 0x2026, 0xfe19, 0xfe30, 0xfe52, 0xff0e, 0x3002, 0xff61, 0x2215, 0x2044,
        0xff0f, 0x29f8, 0x2100, 0x2101, 0x2105, 0x2106, 0xff3c, 0x2216, 0x29f5, 0x29f9, 0xfe68,
        0x00ad, 0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b, 0x180f, 0x200b, 0x200c,
        0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060,
        0x2061, 0x2062, 0x2063, 0x2064, 0x2066, 0x2069, 0x206f, 0x3164, 0xfeff, 0xffa0, 0xfff9,
        0xfffb, 0x1d173, 0x1d17a, 0xe0000, 0xe0001, 0xe0020, 0xe007f,
    ];
    const LISTED_CASE_INSENSITIVE: &[u32] = &[0x0130, 0x0131, 0x017f, 0x212a];
    const LISTED_WINDOWS: &[u32] = &[0xff1a, 0xfe55, 0xfe13, 0x2236, 0xa789, 0x00a5, 0x20a9];
    /// Neighbours and look-alikes that are deliberately allowed.
    const NOT_LISTED: &[u32] =
        &[0x00b7, 0x2027, 0x2023, 0x2043, 0x2213, 0x29f6, 0xfe0f, 0xfe00, 0x2070, 0x1d17b, 0xe0080];

    fn with_char(c: u32) -> Vec<u8> {
        let mut s = String::from("/a");
        s.push(char::from_u32(c).unwrap());
        s.push('b');
        s.into_bytes()
    }

    fn listed_for(options: PathOptions) -> Vec<u32> {
        let mut all = LISTED_ALWAYS.to_vec();
        if options.case_insensitive {
            all.extend_from_slice(LISTED_CASE_INSENSITIVE);
        }
        if options.style == Style::Windows {
            all.extend_from_slice(LISTED_WINDOWS);
        }
        all
    }

    #[test]
    fn confusables_table() {
        for options in [POSIX, DECODE, WINDOWS, CI, WINDOWS_CI] {
            let listed = listed_for(options);
            let unlisted = LISTED_ALWAYS
                .iter()
                .chain(LISTED_CASE_INSENSITIVE)
                .chain(LISTED_WINDOWS)
                .chain(NOT_LISTED)
                .filter(|c| !listed.contains(c));
            for &c in &listed {
                assert_eq!(norm(&with_char(c), options), Err(PathError::Confusable), "{c:x}");
            }
            for &c in unlisted {
                assert!(norm(&with_char(c), options).is_ok(), "{c:x} {options:?}");
            }
        }
    }

    #[test]
    fn error_codes_and_messages() {
        use PathError::*;
        let all = [
            (Empty, "path.empty"),
            (Nul, "path.nul"),
            (Backslash, "path.backslash"),
            (EscapesRoot, "path.escapes_root"),
            (TooLong, "path.too_long"),
            (BadPercent, "path.bad_percent"),
            (DoubleEncoded, "path.double_encoded"),
            (InvalidUtf8, "path.invalid_utf8"),
            (EncodedSeparator, "path.encoded_separator"),
            (Control, "path.control"),
            (Confusable, "path.confusable"),
            (DotSegment, "path.dot_segment"),
            (DriveRelative, "path.drive_relative"),
            (Unc, "path.unc"),
            (Colon, "path.colon"),
            (DeviceName, "path.device_name"),
            (WindowsChar, "path.windows_char"),
            (ShortName, "path.short_name"),
        ];
        let mut codes: Vec<&str> = all.iter().map(|(e, _)| e.code()).collect();
        for (e, code) in all {
            assert_eq!(e.code(), code);
            let msg = std::format!("{e}");
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase());
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
    }

    // -----------------------------------------------------------------------------------------
    // A straightforward reference with std: decode into a Vec, validate with std's UTF-8
    // decoder, split, and resolve with a stack. It returns the set of errors the input
    // contains at the first stage that has any; `normalize` must report one of them.
    // -----------------------------------------------------------------------------------------

    fn confusable_ref(c: char, options: PathOptions) -> bool {
        let c = u32::from(c);
        let in_ranges = |ranges: &[(u32, u32)]| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        in_ranges(&[
            (0x2024, 0x2026),
            (0xfe19, 0xfe19),
            (0xfe30, 0xfe30),
            (0xfe52, 0xfe52),
            (0xff0e, 0xff0e),
            (0x3002, 0x3002),
            (0xff61, 0xff61),
            (0x2215, 0x2215),
            (0x2044, 0x2044),
            (0xff0f, 0xff0f),
            (0x29f8, 0x29f9),
            (0x2100, 0x2101),
            (0x2105, 0x2106),
            (0xff3c, 0xff3c),
            (0x2216, 0x2216),
            (0x29f5, 0x29f5),
            (0xfe68, 0xfe68),
            (0x00ad, 0x00ad),
            (0x034f, 0x034f),
            (0x061c, 0x061c),
            (0x115f, 0x1160),
            (0x17b4, 0x17b5),
            (0x180b, 0x180f),
            (0x200b, 0x200f),
            (0x2028, 0x202e),
            (0x2060, 0x206f),
            (0x3164, 0x3164),
            (0xfeff, 0xfeff),
            (0xffa0, 0xffa0),
            (0xfff9, 0xfffb),
            (0x1d173, 0x1d17a),
            (0xe0000, 0xe007f),
        ]) || (options.case_insensitive && [0x130, 0x131, 0x17f, 0x212a].contains(&c))
            || (options.style == Style::Windows
                && [0xff1a, 0xfe55, 0xfe13, 0x2236, 0xa789, 0xa5, 0x20a9].contains(&c))
    }

    fn device_ref(stripped: &str) -> bool {
        let base = stripped.split('.').next().unwrap().trim_matches(' ').to_ascii_lowercase();
        let names = ["con", "prn", "aux", "nul", "conin$", "conout$", "clock$"];
        if names.contains(&base.as_str()) {
            return true;
        }
        let Some(rest) = base.strip_prefix("com").or_else(|| base.strip_prefix("lpt")) else {
            return false;
        };
        let mut chars = rest.chars();
        matches!(
            (chars.next(), chars.next()),
            (Some('0'..='9' | '\u{b9}' | '\u{b2}' | '\u{b3}'), None)
        )
    }

    fn reference(input: &[u8], options: PathOptions) -> Result<Vec<u8>, Vec<PathError>> {
        use PathError::*;
        let windows = options.style == Style::Windows;
        if input.is_empty() {
            return Err(std::vec![Empty]);
        }
        let mut errors = Vec::new();
        // Percent-decoding.
        let mut decoded = Vec::new();
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            let esc = (b == b'%')
                .then(|| {
                    let h = input.get(i + 1..i + 3)?;
                    let s = core::str::from_utf8(h).ok()?;
                    if s.bytes().all(|b| b.is_ascii_hexdigit()) {
                        u8::from_str_radix(s, 16).ok()
                    } else {
                        None
                    }
                })
                .flatten();
            if options.percent_decode && b == b'%' {
                match esc {
                    Some(v) => {
                        if v == b'%' {
                            errors.push(DoubleEncoded);
                        }
                        decoded.push(v);
                        i += 3;
                        continue;
                    }
                    None => errors.push(BadPercent),
                }
            } else if b == b'%' && matches!(esc, Some(b'.' | b'/' | b'\\' | 0 | b'%' | 0x80..=0xff))
            {
                errors.push(EncodedSeparator);
            }
            decoded.push(b);
            i += 1;
        }
        // UTF-8 and characters.
        let mut chars = Vec::new();
        for chunk in decoded.utf8_chunks() {
            chars.extend(chunk.valid().chars());
            if !chunk.invalid().is_empty() {
                errors.push(InvalidUtf8);
            }
        }
        let is_sep = |c: char| c == '/' || (windows && c == '\\');
        let drive =
            windows && chars.len() >= 2 && chars[0].is_ascii_alphabetic() && chars[1] == ':';
        for (k, &c) in chars.iter().enumerate() {
            let e = match c {
                '\0' => Some(Nul),
                '\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some(Control),
                _ if confusable_ref(c, options) => Some(Confusable),
                '\\' if !windows => Some(Backslash),
                '<' | '>' | '"' | '|' | '?' | '*' if windows => Some(WindowsChar),
                ':' if windows && !(drive && k == 1) => Some(Colon),
                _ => None,
            };
            errors.extend(e);
        }
        if windows && chars.len() >= 2 && is_sep(chars[0]) && is_sep(chars[1]) {
            errors.push(Unc);
        }
        if drive && chars.get(2).is_none_or(|&c| !is_sep(c)) {
            errors.push(DriveRelative);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let text = String::from_utf8(decoded).unwrap();
        let (head, body): (String, &str) = if drive {
            (std::format!("{}:", text[..1].to_ascii_lowercase()), &text[2..])
        } else if text.starts_with(is_sep) {
            (String::from(""), &text[..])
        } else {
            (String::new(), &text[..])
        };
        let rooted = drive || text.starts_with(is_sep);
        // Segments.
        let mut stack: Vec<String> = Vec::new();
        let mut escaped = false;
        for seg in body.split(is_sep) {
            let mut seg_errors = Vec::new();
            let all_dots = !seg.is_empty() && seg.bytes().all(|b| b == b'.');
            if all_dots && seg.len() >= 3 {
                seg_errors.push(DotSegment);
            }
            if !windows && !all_dots && (seg.ends_with('.') || seg.ends_with(' ')) {
                seg_errors.push(DotSegment);
            }
            if options.percent_decode
                && let Some((before, _)) = seg.split_once(';')
                && !before.is_empty()
                && before.bytes().all(|b| b == b'.')
            {
                seg_errors.push(DotSegment);
            }
            let mut name = String::from(seg);
            if windows && !all_dots && !seg.is_empty() {
                if seg.as_bytes().windows(2).any(|w| w[0] == b'~' && w[1].is_ascii_digit()) {
                    seg_errors.push(ShortName);
                }
                name = String::from(seg.trim_end_matches(['.', ' ']));
                if name.is_empty() {
                    seg_errors.push(DotSegment);
                } else if device_ref(&name) {
                    seg_errors.push(DeviceName);
                }
            }
            if !seg_errors.is_empty() {
                return Err(seg_errors);
            }
            match seg {
                "" | "." => {}
                ".." => {
                    if stack.pop().is_none() {
                        escaped = true;
                    }
                }
                _ => stack.push(name),
            }
        }
        if escaped {
            return Err(std::vec![EscapesRoot]);
        }
        let mut out = head;
        if rooted {
            out.push('/');
        }
        out.push_str(&stack.join("/"));
        if out.is_empty() {
            out.push('.');
        }
        if options.case_insensitive {
            out.make_ascii_lowercase();
        }
        Ok(out.into_bytes())
    }

    fn options_strategy() -> impl Strategy<Value = PathOptions> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(w, c, d)| PathOptions {
            style: if w { Style::Windows } else { Style::Posix },
            case_insensitive: c,
            percent_decode: d,
        })
    }

    /// Pieces of paths that exercise every rule.
    const PIECES: &[&str] = &[
        "a",
        "B",
        "c.txt",
        "Dir",
        ".",
        "..",
        "...",
        "/",
        "/",
        "/",
        "\\",
        "\\",
        "//",
        "%2e",
        "%2E",
        "%2f",
        "%5c",
        "%00",
        "%25",
        "%252e",
        "%c0%ae",
        "%",
        "%4",
        "%zz",
        "%41",
        "%C3%A9",
        ";",
        "..;",
        ":",
        "C:",
        "c:",
        "?",
        "*",
        "~1",
        "~",
        "con",
        "NUL.txt",
        "lpt\u{b9}",
        " ",
        ". ",
        "\u{ff0e}",
        "\u{ff0f}",
        "\u{ff3c}",
        "\u{2025}",
        "\u{200b}",
        "\u{202e}",
        "\u{e0041}",
        "\u{e9}",
        "\u{c9}",
        "\u{17f}",
        "\u{130}",
        "\u{a5}",
        "\u{ff1a}",
        "\u{1}",
        "\u{7f}",
        "\0",
        "\u{85}",
    ];

    fn path_strategy() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            8 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
            1 => Just(b"\xff".to_vec()),
            1 => Just(b"\xc3".to_vec()),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|ps| ps.concat())
    }

    /// Mostly-valid paths: names, dots and separators only, so that acceptance is common.
    /// `has_prefix` as it was before its fast path: guard, root, then segment by segment.
    fn has_prefix_by_segments(normalized: &[u8], prefix: &[u8]) -> bool {
        fn plausible(path: &[u8]) -> bool {
            !path.is_empty()
                && !path.contains(&0)
                && !path.contains(&b'\\')
                && !path.split(|&b| b == b'/').any(|segment| segment == b"..")
        }
        plausible(normalized)
            && plausible(prefix)
            && root_kind(normalized) == root_kind(prefix)
            && {
                let mut have = segments(normalized);
                segments(prefix).all(|want| have.next() == Some(want))
            }
    }

    #[test]
    fn has_prefix_fast_path_cases() {
        for (path, prefix) in [
            ("/workspace/a", "/workspace"),
            ("/workspace", "/workspace"),
            ("/workspaces", "/workspace"),
            ("/workspace/a", "/workspace/"),
            ("/workspace//a", "/workspace"),
            ("/workspace/./a", "/workspace/a"),
            ("/a", "/"),
            ("/", "/"),
            ("/", "/a"),
            ("/a/b", "/a/b/c"),
            ("/a/.", "/a"),
            ("/a/..b", "/a"),
            ("//a", "/a"),
            ("a/b", "/a"),
            ("c:/a", "/a"),
        ] {
            let (path, prefix) = (path.as_bytes(), prefix.as_bytes());
            assert_eq!(
                has_prefix(path, prefix),
                has_prefix_by_segments(path, prefix),
                "{path:?} {prefix:?}"
            );
        }
    }

    fn clean_path_strategy() -> impl Strategy<Value = Vec<u8>> {
        let piece = proptest::sample::select(&[
            "a", "b", "Ab", "a.", "a ", ".", "..", "/", "/", "\\", "C:\\", "c:/", "%2e", "%2f",
            "%41", "x;", "\u{e9}",
        ]);
        proptest::collection::vec(piece, 0..10).prop_map(|ps| ps.concat().into_bytes())
    }

    /// Prefixes a policy would write: a root and a few names.
    fn prefix_strategy() -> impl Strategy<Value = Vec<u8>> {
        let root = proptest::sample::select(&["/", "/", "C:\\", "c:/", "", "\\"]);
        let name = proptest::sample::select(&["a", "b", "Ab", "a.", "x;", "\u{e9}", "%41"]);
        let sep = proptest::sample::select(&["/", "\\"]);
        (root, proptest::collection::vec((name, sep), 0..4)).prop_map(|(root, names)| {
            let mut s = String::from(root);
            for (k, (name, sep)) in names.iter().enumerate() {
                if k > 0 {
                    s.push_str(sep);
                }
                s.push_str(name);
            }
            s.into_bytes()
        })
    }

    fn split_segments(p: &[u8]) -> Vec<&[u8]> {
        p.split(|&b| b == b'/').filter(|s| !s.is_empty() && *s != b".").collect()
    }

    fn root_of(p: &[u8]) -> u8 {
        match p {
            [b'/', ..] => 1,
            [l, b':', ..] if l.is_ascii_alphabetic() => 2,
            _ => 0,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn never_panics(
            input in proptest::collection::vec(any::<u8>(), 0..64),
            options in options_strategy(),
            cap in 0usize..80,
        ) {
            let mut buf = [0u8; 80];
            let out = buf.get_mut(..cap).unwrap();
            if let Ok(p) = normalize(&input, options, out) {
                prop_assert!(p.len() <= input.len());
            }
            let _ = has_prefix(&input, b"/workspace");
            let _ = has_prefix(b"/workspace/a", &input);
        }

        #[test]
        fn matches_reference(input in path_strategy(), options in options_strategy()) {
            let ours = norm(&input, options);
            match (ours, reference(&input, options)) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(e), Err(set)) => prop_assert!(set.contains(&e), "{:?} not in {:?}", e, set),
                (a, b) => prop_assert!(false, "ours {:?} reference {:?}", a, b),
            }
        }

        #[test]
        fn matches_reference_clean(input in clean_path_strategy(), options in options_strategy()) {
            let ours = norm(&input, options);
            match (ours, reference(&input, options)) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(e), Err(set)) => prop_assert!(set.contains(&e), "{:?} not in {:?}", e, set),
                (a, b) => prop_assert!(false, "ours {:?} reference {:?}", a, b),
            }
        }

        #[test]
        fn idempotent_and_clean(
            input in prop_oneof![path_strategy(), clean_path_strategy()],
            options in options_strategy(),
        ) {
            if let Ok(once) = norm(&input, options) {
                prop_assert!(once.len() <= input.len());
                prop_assert_eq!(norm(&once, options), Ok(once.clone()));
                let has = |needle: &[u8]| once.windows(needle.len()).any(|w| w == needle);
                prop_assert!(!has(b"//"));
                prop_assert!(!has(b"/./"));
                prop_assert!(!has(b"/../"));
                prop_assert!(!has(b"\\"));
                prop_assert!(!once.ends_with(b"/..") && !once.ends_with(b"/."));
                prop_assert!(!once.starts_with(b"./") && !once.starts_with(b"../"));
                prop_assert!(once != b"..");
                let root = once == b"/" || (once.len() == 3 && once.ends_with(b":/"));
                prop_assert!(root || !once.ends_with(b"/"));
                let text = core::str::from_utf8(&once).unwrap();
                for (k, c) in text.chars().enumerate() {
                    prop_assert!(!c.is_control(), "{:?}", text);
                    prop_assert!(!confusable_ref(c, options), "{:?}", text);
                    if options.style == Style::Windows && c == ':' {
                        prop_assert_eq!(k, 1);
                    }
                    if options.case_insensitive {
                        prop_assert!(!c.is_ascii_uppercase());
                    }
                }
                for seg in text.split('/') {
                    prop_assert!(seg.is_empty() || seg == "." || !seg.bytes().all(|b| b == b'.'));
                }
            }
        }

        /// A path accepted under a prefix never escapes it.
        #[test]
        fn accepted_under_prefix_never_escapes(
            prefix in prefix_strategy(),
            tail in prop_oneof![1 => path_strategy(), 3 => clean_path_strategy()],
            joiner in proptest::sample::select(&["/", "\\", "%2f", "", "/../", "/./"]),
            options in options_strategy(),
        ) {
            let Ok(p) = norm(&prefix, options) else { return Ok(()) };
            let input = [prefix.as_slice(), joiner.as_bytes(), tail.as_slice()].concat();
            let Ok(o) = norm(&input, options) else { return Ok(()) };
            if has_prefix(&o, &p) {
                let (ps, os) = (split_segments(&p), split_segments(&o));
                prop_assert!(os.len() >= ps.len() && os[..ps.len()] == ps[..]);
                prop_assert_eq!(root_of(&o), root_of(&p));
                prop_assert_eq!(norm(&o, options), Ok(o.clone()));
                // And the independent reference resolves the input under the prefix too.
                let r = reference(&input, options).unwrap();
                let rs = split_segments(&r);
                prop_assert!(rs.len() >= ps.len() && rs[..ps.len()] == ps[..]);
            }
        }

        /// The byte-prefix fast path of `has_prefix` gives the answer of the segment-wise
        /// definition it replaced, on any bytes (normalised or not).
        #[test]
        fn has_prefix_fast_path_is_the_segment_definition(
            path in prop_oneof![1 => path_strategy(), 2 => clean_path_strategy()],
            prefix in prop_oneof![1 => path_strategy(), 2 => clean_path_strategy()],
        ) {
            prop_assert_eq!(has_prefix(&path, &prefix), has_prefix_by_segments(&path, &prefix));
        }

        #[test]
        fn has_prefix_agrees_with_segments(
            path in clean_path_strategy(),
            prefix in clean_path_strategy(),
            options in options_strategy(),
        ) {
            let (Ok(o), Ok(p)) = (norm(&path, options), norm(&prefix, options)) else {
                return Ok(());
            };
            let (ps, os) = (split_segments(&p), split_segments(&o));
            let want =
                root_of(&o) == root_of(&p) && os.len() >= ps.len() && os[..ps.len()] == ps[..];
            prop_assert_eq!(has_prefix(&o, &p), want);
        }
    }
}
