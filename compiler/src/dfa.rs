//! Compiles policy regexes and globs into DFA blobs in the runtime's portable format.
//!
//! Pipeline for [`build_regex`]:
//!
//! 1. Parse with `regex-syntax` exactly as `regex::bytes::Regex::new` does (Unicode mode on,
//!    patterns may match invalid UTF-8, e.g. `(?-u:\xFF)`).
//! 2. Reject what a DFA cannot do exactly: Unicode word boundaries (`\b`, `\B`, `\<`, `\>`,
//!    `\b{start}`, ...) would need `regex-automata` quit bytes, i.e. a DFA that gives up on
//!    non-ASCII input. We never approximate: the error says to write `(?-u:\b)` instead.
//! 3. Compile a Thompson NFA and determinize it into a `regex-automata` dense DFA with an
//!    unanchored start state, byte classes, no quit bytes and bounded size.
//! 4. Walk that DFA breadth-first from its unanchored start state for the beginning-of-text
//!    configuration (no look-behind byte), one representative byte per class. Every match state
//!    becomes one absorbing *match sink*, because the runtime stops at the first match and never
//!    looks past it; the dead state is state 0.
//! 5. Fold every state from which every continuation matches into the match sink too (see
//!    `fold_universal`), minimize (Hopcroft; `regex-automata`'s own minimizer is far slower
//!    and would be redundant), recompute the coarsest byte classes, renumber states in
//!    breadth-first order from the start state (dead = 0, start = 1) and classes in order of
//!    their smallest byte, and encode. After the fold, two states give the same `is_match`
//!    answers exactly when the minimizer merges them, so the output is the unique minimal table
//!    for what the pattern matches: `a|a` and `a` give the same bytes, so do `(?-u:\b)` and
//!    `(?-u:\w)`, and so do any two builds of the same pattern on any machine.
//! 6. Verify the encoded blob with the runtime's own [`format::Dfa::from_bytes`].
//!
//! # Match kind
//!
//! The runtime's walk (see the runtime `dfa` module) stops at the first match state. Any match
//! kind whose DFA enters a match state as soon as *some* match ends is correct for that; both
//! `MatchKind::All` and `MatchKind::LeftmostFirst` do. `LeftmostFirst` only drops lower-priority
//! NFA threads *after* a match state has been seen, and before the first match no thread has
//! reached a match, so no thread (the unanchored prefix loop included) is ever dropped on the
//! path the runtime walks. We use `LeftmostFirst`, as the `regex` crate does (its `is_match`
//! runs a leftmost-first search that stops at the earliest match). Since the output is the
//! canonical minimal table, the choice only affects build time, not the bytes: the unit tests
//! check that `MatchKind::All` and `regex-automata`'s own minimization give identical output.
//!
//! Every format constant comes from the runtime module through the one `use` line below.

use mcppol_runtime::dfa as format;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use regex_automata::{
    Anchored, MatchKind,
    dfa::{Automaton, StartKind, dense},
    nfa::thompson::{self, WhichCaptures},
    util::{primitives::StateID, start},
};
use regex_syntax::hir::Hir;

/// Limit on the Thompson NFA's heap size (the `regex` crate's default `size_limit`).
const NFA_SIZE_LIMIT: usize = 10 << 20;
/// Limit on `regex-automata`'s determinization working memory.
const DETERMINIZE_SIZE_LIMIT: usize = 4 << 20;
/// Limit on the `regex-automata` dense DFA's size (before our pruning and minimization).
const RA_DFA_SIZE_LIMIT: usize = 4 << 20;

/// What kind of failure a [`BuildError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildErrorKind {
    /// The regex does not parse.
    Syntax,
    /// The regex uses a feature a DFA cannot implement exactly.
    Unsupported,
    /// The regex or glob needs a DFA over the size limits.
    TooLarge,
    /// The glob is malformed.
    InvalidGlob,
    /// A bug in this builder (its own output failed verification, and so on).
    Internal,
}

/// Why a regex or glob could not be compiled into a DFA blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// What kind of failure this is.
    pub kind: BuildErrorKind,
    /// What went wrong: lowercase, no final period, user input in backticks.
    pub message: String,
    /// What to write instead, if there is something to suggest.
    pub help: Option<String>,
}

impl BuildError {
    fn new(kind: BuildErrorKind, message: String, help: Option<String>) -> Self {
        BuildError { kind, message, help }
    }

    /// A stable machine-readable code for this error, e.g. `"dfa.unsupported"`.
    pub const fn code(&self) -> &'static str {
        match self.kind {
            BuildErrorKind::Syntax => "dfa.syntax",
            BuildErrorKind::Unsupported => "dfa.unsupported",
            BuildErrorKind::TooLarge => "dfa.too_large",
            BuildErrorKind::InvalidGlob => "dfa.invalid_glob",
            BuildErrorKind::Internal => "dfa.internal",
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// What is being compiled, for error messages.
#[derive(Clone, Copy, Debug)]
enum Source<'a> {
    Regex(&'a str),
    Glob(&'a str),
    /// Several globs compiled into one DFA of their union.
    Globs(&'a [String]),
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Regex(p) => write!(f, "regex `{p}`"),
            Source::Glob(g) => write!(f, "glob `{g}`"),
            Source::Globs(globs) => {
                f.write_str("union of globs ")?;
                for (index, glob) in globs.iter().enumerate() {
                    let separator = if index == 0 { "" } else { ", " };
                    write!(f, "{separator}`{glob}`")?;
                }
                Ok(())
            }
        }
    }
}

fn internal(source: Source<'_>, what: impl fmt::Display) -> BuildError {
    BuildError::new(
        BuildErrorKind::Internal,
        format!("internal error compiling {source}: {what}"),
        Some("this is a bug in mcppol, please report it with the pattern".to_owned()),
    )
}

fn too_large(source: Source<'_>, detail: impl fmt::Display) -> BuildError {
    BuildError::new(
        BuildErrorKind::TooLarge,
        format!("{source} is too large to compile to a DFA: {detail}"),
        Some(
            "simplify the pattern: avoid large counted repetitions such as `{1000}` and nested \
             repetitions, and prefer ASCII classes such as `(?-u:\\w)` or `[0-9]` to Unicode \
             ones such as `\\w` or `\\d` where ASCII input is enough"
                .to_owned(),
        ),
    )
}

/// Compiles a regex into a verified DFA blob.
///
/// `pattern` uses the `regex` crate's syntax with the same defaults (Unicode mode on; `(?-u)`
/// allowed, including classes that match invalid UTF-8 such as `(?-u:\xFF)`). The blob's
/// [`format::Dfa::is_match`] gives exactly `regex::bytes::Regex::new(pattern)?.is_match(h)` for
/// every haystack `h`: unanchored search, with `^`/`$` (or `\A`/`\z`) anchoring to the ends of
/// the haystack, and `(?m)` line anchors and ASCII word boundaries supported.
///
/// Fails with [`BuildErrorKind::Syntax`] for an invalid regex, [`BuildErrorKind::Unsupported`]
/// for Unicode word boundaries (write `(?-u:\b)`), and [`BuildErrorKind::TooLarge`] when the
/// DFA would be over [`format::DFA_STATES_MAX`] states or [`format::DFA_BYTES_MAX`] bytes (or
/// its construction over its memory limits).
///
/// # Errors
///
/// A [`BuildError`] as described above; [`BuildErrorKind::Internal`] means a bug here.
pub fn build_regex(pattern: &str) -> Result<Vec<u8>, BuildError> {
    compile(pattern, Source::Regex(pattern), Tuning::DEFAULT)
}

/// The bytes of `pattern` if it is one plain literal, like `\.\.` or `DROP TABLE`: such an
/// unanchored regex matches exactly the strings that contain those bytes, which the runtime's
/// substring test decides several times faster than a DFA walk. `None` for anything else
/// (classes, repetition, anchors, flags such as `(?i)`, the empty pattern) and for patterns that
/// do not parse.
pub fn regex_literal(pattern: &str) -> Option<Vec<u8>> {
    let hir = parse(pattern, Source::Regex(pattern)).ok()?;
    match hir.kind() {
        regex_syntax::hir::HirKind::Literal(literal) if !literal.0.is_empty() => {
            Some(literal.0.to_vec())
        }
        _ => None,
    }
}

/// How a glob treats `/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobStyle {
    /// Names such as tool names: `/` is an ordinary character, `**` is the same as `*`.
    Name,
    /// Paths: `*`, `?` and classes never match `/`; `**` is a whole segment matching any depth.
    Path,
}

/// Compiles a glob into a verified DFA blob matching whole strings.
///
/// The glob must match the whole haystack (it is anchored at both ends). Haystacks are meant to
/// be UTF-8 text, where `?` and classes match one whole character (Unicode scalar value) and
/// `*` and `**` any run of characters. `*` and `**` are compiled to match runs of *bytes*,
/// which on valid UTF-8 is the same thing (a run that ended inside a character could not be
/// followed by anything the glob can match) and gives much smaller DFAs; it also means that
/// they match invalid UTF-8, so that `/secret/**` still matches `/secret/\xFF`. `?`, classes
/// and literals never match a byte of invalid UTF-8.
///
/// Syntax:
///
/// | glob      | matches                                                               |
/// |-----------|-----------------------------------------------------------------------|
/// | `*`       | any run of characters (bytes, see above), empty included; in [`GlobStyle::Path`] not `/` |
/// | `?`       | one character; in [`GlobStyle::Path`] not `/`                         |
/// | `**`      | [`GlobStyle::Path`] only, as a whole segment: any number of segments  |
/// | `[abc]`   | one of `a`, `b`, `c`                                                   |
/// | `[a-z]`   | one character from `a` to `z` (Unicode scalar order)                  |
/// | `[!a-z]`  | one character not in the class; in [`GlobStyle::Path`] not `/` either  |
/// | `\c`      | the character `c` literally, e.g. `\*`, `\[`, `\\`                     |
/// | other     | itself                                                                |
///
/// Classes: a `]` right after `[` or `[!` is literal (`[]a]`, `[!]]`); `-` first or last is
/// literal; `\` escapes inside classes too; `[^...]` is rejected (write `[!...]`). In
/// [`GlobStyle::Path`] a class never matches `/` (a range spanning it skips it) and `/` may not
/// be written inside one.
///
/// `**` in [`GlobStyle::Path`] must be a whole segment (between slashes or the ends):
/// `dir/**` matches `dir` and everything below it, `**/x` matches `x` at any depth including
/// the top (`x`, `/x`, `a/b/x`), `a/**/b` matches `a/b`, `a/x/b`, `a/x/y/b`, and `**` alone
/// matches everything. Consecutive `**` segments act as one. Anything else (`a**`, `**.md`)
/// is an error: write `*` to match within a segment.
///
/// Examples (each row is checked by a unit test):
///
/// | style  | glob            | matches                                   | does not match             |
/// |--------|-----------------|-------------------------------------------|----------------------------|
/// | `Name` | `fs.*`          | `fs.read`, `fs.`, `fs.a/b`                | `fs`, `xfs.read`           |
/// | `Path` | `/workspace/**` | `/workspace`, `/workspace/`, `/workspace/a/b` | `/workspaces`, `/`     |
/// | `Path` | `**/.env`       | `.env`, `/.env`, `/a/.env`, `a/b/.env`     | `x.env`, `/a/.env/x`       |
/// | `Path` | `*.md`          | `b.md`, `.md`                             | `a/b.md`                   |
/// | `Path` | `a/**/b`        | `a/b`, `a/x/b`, `a/x/y/b`                 | `ab`, `a/xb`               |
/// | `Name` | `[!a-c]?`       | `d1`, `/x`, `éé`                          | `a1`, `d`                  |
///
/// # Errors
///
/// [`BuildErrorKind::InvalidGlob`] for an unclosed `[`, a trailing `\`, `[^`, a reversed range,
/// `**` not a whole segment or `/` in a class (both [`GlobStyle::Path`] only);
/// [`BuildErrorKind::TooLarge`] if the DFA would be over the size limits.
pub fn build_glob(glob: &str, style: GlobStyle) -> Result<Vec<u8>, BuildError> {
    let regex = glob_to_regex(glob, style)?;
    compile(&regex, Source::Glob(glob), Tuning::DEFAULT)
}

/// Compiles several globs into one verified DFA blob that matches a whole string exactly when
/// at least one of them does, as [`build_glob`] would for each.
///
/// A rule's list of path globs is tested with one walk of this DFA instead of one walk per
/// glob. Each glob is translated on its own (so each is anchored at both ends) and the
/// translations are alternatives of one regex; the result is the canonical minimal table, so
/// the order and repetition of `globs` do not change the bytes.
///
/// # Errors
///
/// [`BuildErrorKind::InvalidGlob`] for the first invalid glob, as [`build_glob`] reports it;
/// [`BuildErrorKind::TooLarge`] if the union's DFA would be over the size limits even though
/// each glob's is not (the caller can then test the globs one by one).
pub fn build_glob_union(globs: &[String], style: GlobStyle) -> Result<Vec<u8>, BuildError> {
    let mut alternatives = Vec::with_capacity(globs.len());
    for glob in globs {
        alternatives.push(format!("(?:{})", glob_to_regex(glob, style)?));
    }
    compile(&alternatives.join("|"), Source::Globs(globs), Tuning::DEFAULT)
}

fn invalid_glob(glob: &str, what: &str, help: &str) -> BuildError {
    BuildError::new(
        BuildErrorKind::InvalidGlob,
        format!("invalid glob `{glob}`: {what}"),
        Some(help.to_owned()),
    )
}

/// Translates a glob into the equivalent anchored regex (see [`build_glob`] for the syntax).
///
/// The result has the form `^(?s:...)$`, uses Unicode mode except for `*` and `**` (which match
/// bytes, see [`build_glob`]) and escapes every literal with `regex_syntax::escape`.
///
/// # Errors
///
/// [`BuildErrorKind::InvalidGlob`], as for [`build_glob`].
pub fn glob_to_regex(glob: &str, style: GlobStyle) -> Result<String, BuildError> {
    let path = style == GlobStyle::Path;
    let chars: Vec<char> = glob.chars().collect();
    let mut re = String::from("^(?s:");
    let mut rest: &[char] = &chars;
    // At the start of a path segment: at the start of the glob or right after a `/`.
    let mut seg_start = true;
    // Where the `/` just emitted for a separator starts in `re`, if the last thing emitted was a
    // separator (a trailing `/**` replaces it).
    let mut sep_at: Option<usize> = None;
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        let emitted_sep = sep_at;
        sep_at = None;
        match c {
            '*' if path && rest.first() == Some(&'*') => {
                let mut after = rest.get(1..).unwrap_or_default();
                if !seg_start || !matches!(after.first(), None | Some('/')) {
                    return Err(invalid_glob(
                        glob,
                        "`**` must be a whole path segment",
                        "write `*` to match within one segment, or put `**` between slashes as \
                         in `a/**/b`",
                    ));
                }
                // `**/**` is `**`.
                while let ['/', '*', '*', more @ ..] = after {
                    if !matches!(more.first(), None | Some('/')) {
                        break;
                    }
                    after = more;
                }
                rest = after;
                match after.split_first() {
                    None => match emitted_sep {
                        // `dir/**`: `dir` itself, or `dir/` followed by anything.
                        Some(at) => {
                            re.truncate(at);
                            re.push_str("(?-u:(?:/.*)?)");
                        }
                        None => re.push_str("(?-u:.*)"),
                    },
                    // `**/`: nothing, or anything ending with `/`.
                    Some((_slash, more)) => {
                        re.push_str("(?-u:(?:.*/)?)");
                        rest = more;
                    }
                }
                seg_start = true;
                continue;
            }
            '*' => re.push_str(if path { "(?-u:[^/]*)" } else { "(?-u:.*)" }),
            '?' => re.push_str(if path { "[^/]" } else { "." }),
            '[' => rest = push_class(glob, rest, path, &mut re)?,
            '\\' => {
                let Some((&escaped, tail)) = rest.split_first() else {
                    return Err(invalid_glob(
                        glob,
                        "trailing `\\` escapes nothing",
                        "write `\\\\` to match a backslash",
                    ));
                };
                rest = tail;
                if path && escaped == '/' {
                    sep_at = Some(re.len());
                    re.push('/');
                    seg_start = true;
                    continue;
                }
                re.push_str(&regex_syntax::escape(escaped.encode_utf8(&mut [0; 4])));
            }
            '/' if path => {
                sep_at = Some(re.len());
                re.push('/');
                seg_start = true;
                continue;
            }
            other => re.push_str(&regex_syntax::escape(other.encode_utf8(&mut [0; 4]))),
        }
        seg_start = false;
    }
    re.push_str(")$");
    Ok(re)
}

/// Parses a class after its `[` from `rest`, appends its regex to `re` and returns what follows
/// the closing `]`.
fn push_class<'c>(
    glob: &str,
    mut rest: &'c [char],
    path: bool,
    re: &mut String,
) -> Result<&'c [char], BuildError> {
    let unclosed = || {
        invalid_glob(
            glob,
            "unclosed `[`",
            "close the class with `]`, or write `\\[` for a literal `[`",
        )
    };
    let negated = rest.first() == Some(&'!');
    if negated {
        rest = rest.get(1..).unwrap_or_default();
    }
    if rest.first() == Some(&'^') {
        return Err(invalid_glob(
            glob,
            "`[^` is not a glob class negation",
            "write `[!...]` to negate a class, or `[\\^...]` for a literal `^`",
        ));
    }
    // Reads one class character (after an optional `\`).
    let read = |rest: &'c [char]| -> Result<(char, &'c [char]), BuildError> {
        match rest {
            ['\\', c, more @ ..] => Ok((*c, more)),
            ['\\'] | [] => Err(unclosed()),
            [c, more @ ..] => Ok((*c, more)),
        }
    };
    let mut items = String::new();
    let mut first = true;
    loop {
        if let [']', more @ ..] = rest
            && !first
        {
            rest = more;
            break;
        }
        first = false;
        let (lo, more) = read(rest)?;
        rest = more;
        let mut hi = lo;
        if let ['-', after @ ..] = rest
            && !matches!(after.first(), None | Some(']'))
        {
            let (h, more) = read(after)?;
            hi = h;
            rest = more;
        }
        if lo > hi {
            return Err(invalid_glob(
                glob,
                &format!("class range `{lo}-{hi}` is out of order"),
                &format!("write `{hi}-{lo}`"),
            ));
        }
        if path && (lo == '/' || hi == '/') {
            return Err(invalid_glob(
                glob,
                "a class cannot match `/` in a path glob",
                "write the `/` outside the class, as a separator",
            ));
        }
        items.push_str(&regex_syntax::escape(lo.encode_utf8(&mut [0; 4])));
        if hi != lo {
            items.push('-');
            items.push_str(&regex_syntax::escape(hi.encode_utf8(&mut [0; 4])));
        }
    }
    match (negated, path) {
        (false, false) => {
            re.push('[');
            re.push_str(&items);
            re.push(']');
        }
        (false, true) => {
            re.push_str("[[");
            re.push_str(&items);
            re.push_str("]&&[^/]]");
        }
        (true, _) => {
            re.push_str("[^");
            re.push_str(&items);
            if path {
                re.push('/');
            }
            re.push(']');
        }
    }
    Ok(rest)
}

/// Parses `pattern` like `regex::bytes::Regex::new` does.
fn parse(pattern: &str, source: Source<'_>) -> Result<Hir, BuildError> {
    regex_syntax::ParserBuilder::new().utf8(false).build().parse(pattern).map_err(|err| {
        let (what, offset) = match &err {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), e.span().start.offset),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), e.span().start.offset),
            other => (other.to_string(), 0),
        };
        match source {
            Source::Regex(_) => BuildError::new(
                BuildErrorKind::Syntax,
                format!("invalid {source}: {what} at byte {offset}"),
                None,
            ),
            Source::Glob(_) | Source::Globs(_) => {
                internal(source, format_args!("translated regex `{pattern}`: {what}"))
            }
        }
    })
}

/// `regex-automata` settings that change how much work a build does but, since the output is
/// canonical, never its result (the unit tests check this).
#[derive(Clone, Copy, Debug)]
struct Tuning {
    match_kind: MatchKind,
    ra_minimize: bool,
}

impl Tuning {
    const DEFAULT: Tuning = Tuning { match_kind: MatchKind::LeftmostFirst, ra_minimize: false };
}

/// The whole pipeline: parse, check, determinize, walk, minimize, encode, verify.
fn compile(pattern: &str, source: Source<'_>, tuning: Tuning) -> Result<Vec<u8>, BuildError> {
    let hir = parse(pattern, source)?;
    if hir.properties().look_set().contains_word_unicode() {
        return Err(BuildError::new(
            BuildErrorKind::Unsupported,
            format!(
                "{source} uses a Unicode word boundary (`\\b`, `\\B`, `\\<`, `\\>` or \
                 `\\b{{...}}`), which a DFA cannot match exactly on non-ASCII text"
            ),
            Some(
                "use an ASCII word boundary such as `(?-u:\\b)` or `(?-u:\\B)` instead; it \
                 treats only `[0-9A-Za-z_]` as word characters"
                    .to_owned(),
            ),
        ));
    }
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
        )
        .build_from_hir(&hir)
        .map_err(|err| match err.size_limit() {
            Some(limit) => too_large(source, format_args!("its NFA exceeds {limit} bytes")),
            None => internal(source, err),
        })?;
    let dfa = dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(tuning.match_kind)
                .start_kind(StartKind::Unanchored)
                .starts_for_each_pattern(false)
                .byte_classes(true)
                .unicode_word_boundary(false)
                .accelerate(false)
                .specialize_start_states(false)
                .minimize(tuning.ra_minimize)
                .dfa_size_limit(Some(RA_DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DETERMINIZE_SIZE_LIMIT)),
        )
        .build_from_nfa(&nfa)
        .map_err(|err| {
            if err.is_size_limit_exceeded() {
                too_large(source, err)
            } else {
                internal(source, err)
            }
        })?;
    let mut table = walk(&dfa, source)?;
    fold_universal(&mut table);
    let (block_of, blocks) = minimize(&table);
    let blob = encode(&table, &block_of, blocks, source)?;
    format::Dfa::from_bytes(&blob).map_err(|err| internal(source, err))?;
    Ok(blob)
}

/// A DFA table over `regex-automata`'s byte classes, as produced by [`walk`].
#[derive(Debug)]
struct Table {
    /// Column of each byte: the index of its `regex-automata` class in first-byte order.
    column_of: [u8; 256],
    /// Number of columns.
    columns: usize,
    /// Transitions, `columns` per state.
    rows: Vec<u32>,
    /// Flags per state ([`format::FLAG_MATCH`], [`format::FLAG_EOI_MATCH`]).
    flags: Vec<u8>,
    /// Start state.
    start: u32,
}

/// The walk's state 0: the dead state.
const DEAD: u32 = 0;
/// The walk's state 1: the match sink that every match state becomes.
const MATCH_SINK: u32 = 1;

/// Interns `regex-automata` states as walk states, queueing new ones.
struct Interner {
    ids: BTreeMap<StateID, u32>,
    queue: VecDeque<(StateID, u32)>,
    next: u32,
}

impl Interner {
    fn intern(
        &mut self,
        dfa: &dense::DFA<Vec<u32>>,
        sid: StateID,
        source: Source<'_>,
    ) -> Result<u32, BuildError> {
        if dfa.is_quit_state(sid) {
            return Err(BuildError::new(
                BuildErrorKind::Unsupported,
                format!("{source} needs a DFA that gives up on some input bytes"),
                Some("use ASCII word boundaries such as `(?-u:\\b)`".to_owned()),
            ));
        }
        if dfa.is_dead_state(sid) {
            return Ok(DEAD);
        }
        if dfa.is_match_state(sid) {
            return Ok(MATCH_SINK);
        }
        if let Some(&id) = self.ids.get(&sid) {
            return Ok(id);
        }
        let id = self.next;
        if id as usize > 4 * format::DFA_STATES_MAX {
            return Err(too_large(
                source,
                format_args!("more than {} states", 4 * format::DFA_STATES_MAX),
            ));
        }
        self.next = id + 1;
        self.ids.insert(sid, id);
        self.queue.push_back((sid, id));
        Ok(id)
    }
}

/// Walks `dfa` breadth-first from its unanchored beginning-of-text start state, folding every
/// match state into the match sink.
fn walk(dfa: &dense::DFA<Vec<u32>>, source: Source<'_>) -> Result<Table, BuildError> {
    let ra = dfa.byte_classes();
    // One representative byte per class, classes in order of their smallest byte.
    let mut column_of_class: Vec<Option<u8>> = vec![None; 256];
    let mut reps: Vec<u8> = Vec::new();
    let mut column_of = [0u8; 256];
    for (b, column) in (0..=u8::MAX).zip(column_of.iter_mut()) {
        let class = usize::from(ra.get(b));
        let slot =
            column_of_class.get_mut(class).ok_or_else(|| internal(source, "class out of range"))?;
        *column = match *slot {
            Some(col) => col,
            None => {
                let col =
                    u8::try_from(reps.len()).map_err(|_| internal(source, "too many classes"))?;
                reps.push(b);
                *slot = Some(col);
                col
            }
        };
    }
    let columns = reps.len();
    let start_sid = dfa
        .start_state(&start::Config::new().anchored(Anchored::No))
        .map_err(|err| internal(source, err))?;
    if dfa.is_match_state(start_sid) {
        return Err(internal(source, "the start state is a match state"));
    }
    let mut interner = Interner { ids: BTreeMap::new(), queue: VecDeque::new(), next: 2 };
    let mut rows: Vec<u32> = vec![DEAD; columns];
    rows.extend(std::iter::repeat_n(MATCH_SINK, columns));
    let mut flags = vec![0, format::FLAG_MATCH | format::FLAG_EOI_MATCH];
    let start = interner.intern(dfa, start_sid, source)?;
    while let Some((sid, id)) = interner.queue.pop_front() {
        debug_assert_eq!(usize::try_from(id).ok(), Some(flags.len()));
        for &b in &reps {
            let next = interner.intern(dfa, dfa.next_state(sid, b), source)?;
            rows.push(next);
        }
        let eoi = dfa.next_eoi_state(sid);
        if dfa.is_quit_state(eoi) {
            return Err(internal(source, "end-of-input transition to the quit state"));
        }
        flags.push(if dfa.is_match_state(eoi) { format::FLAG_EOI_MATCH } else { 0 });
    }
    Ok(Table { column_of, columns, rows, flags, start })
}

/// Predecessors of every state as `(column, source)` pairs, grouped by target: those of state
/// `t` are `preds[start[t]..start[t + 1]]`, in `(source, column)` order.
fn predecessors(table: &Table) -> (Vec<usize>, Vec<(u32, u32)>) {
    let k = table.columns;
    let n = table.flags.len();
    let mut start = vec![0usize; n + 1];
    for &t in &table.rows {
        start[t as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut preds = vec![(0u32, 0u32); table.rows.len()];
    for (cell, &t) in table.rows.iter().enumerate() {
        let slot = &mut fill[t as usize];
        preds[*slot] = ((cell % k) as u32, (cell / k) as u32);
        *slot += 1;
    }
    (start, preds)
}

/// Folds every *universal* state (one from which every continuation of the haystack, the empty
/// one included, gives a match) into the match sink: transitions into them go to the match sink
/// instead, and a universal start state keeps only its `EOI_MATCH` flag and sends every byte to
/// the match sink. The runtime result is unchanged (it would answer `true` after entering such a
/// state whatever follows), but two patterns that match the same haystacks now minimize to the
/// same table even when one of them reports its match one byte later than the other.
fn fold_universal(table: &mut Table) {
    let k = table.columns;
    let n = table.flags.len();
    // Greatest fixed point: start from every state with `EOI_MATCH` (the match sink included)
    // and drop states with a successor outside the set until nothing changes.
    let mut universal: Vec<bool> =
        table.flags.iter().map(|&f| f & format::FLAG_EOI_MATCH != 0).collect();
    let (pred_start, preds) = predecessors(table);
    let mut dropped: Vec<u32> = (0..n as u32).filter(|&s| !universal[s as usize]).collect();
    while let Some(t) = dropped.pop() {
        for &(_, s) in &preds[pred_start[t as usize]..pred_start[t as usize + 1]] {
            if std::mem::replace(&mut universal[s as usize], false) {
                dropped.push(s);
            }
        }
    }
    for cell in &mut table.rows {
        if universal[*cell as usize] {
            *cell = MATCH_SINK;
        }
    }
    if universal[table.start as usize] {
        let start = table.start as usize;
        table.rows[start * k..(start + 1) * k].fill(MATCH_SINK);
    }
}

/// Hopcroft's partition refinement over `table`, whose states are distinguished by their
/// flags. Returns the block of every state and the number of blocks. Deterministic.
fn minimize(table: &Table) -> (Vec<u32>, usize) {
    let n = table.flags.len();
    let (pred_start, preds) = predecessors(table);

    #[derive(Clone, Copy)]
    struct Block {
        start: usize,
        end: usize,
        /// `start..marked` are the states marked by the current splitter.
        marked: usize,
    }
    // Initial partition: by flags, in flag order; states in id order.
    let mut elems: Vec<u32> = (0..n as u32).collect();
    elems.sort_by_key(|&s| (table.flags[s as usize], s));
    let mut loc = vec![0usize; n];
    let mut block_of = vec![0u32; n];
    let mut blocks: Vec<Block> = Vec::new();
    for (i, &s) in elems.iter().enumerate() {
        loc[s as usize] = i;
        let new = match blocks.last() {
            Some(_) => table.flags[elems[i - 1] as usize] != table.flags[s as usize],
            None => true,
        };
        if new {
            if let Some(last) = blocks.last_mut() {
                last.end = i;
            }
            blocks.push(Block { start: i, end: n, marked: i });
        }
        block_of[s as usize] = (blocks.len() - 1) as u32;
    }
    let mut work: VecDeque<u32> = (0..blocks.len() as u32).collect();
    let mut in_work = vec![true; blocks.len()];
    let mut incoming: Vec<(u32, u32)> = Vec::new();
    let mut touched: Vec<u32> = Vec::new();
    while let Some(a) = work.pop_front() {
        in_work[a as usize] = false;
        let Block { start, end, .. } = blocks[a as usize];
        incoming.clear();
        for &t in &elems[start..end] {
            incoming.extend_from_slice(&preds[pred_start[t as usize]..pred_start[t as usize + 1]]);
        }
        incoming.sort_unstable();
        for group in incoming.chunk_by(|x, y| x.0 == y.0) {
            touched.clear();
            for &(_, s) in group {
                let b = block_of[s as usize] as usize;
                let blk = &mut blocks[b];
                if blk.marked == blk.start {
                    touched.push(b as u32);
                }
                let (pos, target) = (loc[s as usize], blk.marked);
                elems.swap(pos, target);
                loc[elems[pos] as usize] = pos;
                loc[elems[target] as usize] = target;
                blk.marked += 1;
            }
            for &b in &touched {
                let blk = blocks[b as usize];
                if blk.marked == blk.end {
                    blocks[b as usize].marked = blk.start;
                    continue;
                }
                let z = blocks.len() as u32;
                blocks.push(Block { start: blk.start, end: blk.marked, marked: blk.start });
                blocks[b as usize] = Block { start: blk.marked, end: blk.end, marked: blk.marked };
                for &s in &elems[blk.start..blk.marked] {
                    block_of[s as usize] = z;
                }
                in_work.push(false);
                let z_len = blk.marked - blk.start;
                let b_len = blk.end - blk.marked;
                let add = if in_work[b as usize] || z_len <= b_len { z } else { b };
                in_work[add as usize] = true;
                work.push_back(add);
            }
        }
    }
    (block_of, blocks.len())
}

/// Builds the quotient of `table` by `block_of`, renumbers it canonically and encodes it.
fn encode(
    table: &Table,
    block_of: &[u32],
    blocks: usize,
    source: Source<'_>,
) -> Result<Vec<u8>, BuildError> {
    let k = table.columns;
    // Quotient rows, one per block, from its smallest state (any member would do).
    let mut rep: Vec<Option<u32>> = vec![None; blocks];
    for (s, &b) in block_of.iter().enumerate() {
        let slot = &mut rep[b as usize];
        if slot.is_none() {
            *slot = Some(s as u32);
        }
    }
    let block = |s: u32| block_of[s as usize];
    let row = |b: u32| -> &[u32] {
        let s = rep[b as usize].unwrap_or(DEAD) as usize;
        &table.rows[s * k..(s + 1) * k]
    };
    let dead = block(DEAD);
    let start = block(table.start);

    // Final classes: columns whose successors agree in every block are merged; classes are
    // numbered in order of their smallest byte.
    let mut column_class: Vec<Option<u8>> = vec![None; k];
    let mut class_of_vector: BTreeMap<Vec<u32>, u8> = BTreeMap::new();
    let mut class_map = [0u8; 256];
    let mut class_columns: Vec<usize> = Vec::new();
    for (&col, class) in table.column_of.iter().zip(class_map.iter_mut()) {
        let col = usize::from(col);
        *class = match column_class[col] {
            Some(c) => c,
            None => {
                let vector: Vec<u32> = (0..blocks as u32).map(|b| block(row(b)[col])).collect();
                let next = class_of_vector.len();
                let c = *class_of_vector.entry(vector).or_insert_with(|| {
                    class_columns.push(col);
                    next as u8
                });
                column_class[col] = Some(c);
                c
            }
        };
    }
    let class_count = class_columns.len();

    // Breadth-first renumbering: dead = 0, start = 1, then in order of discovery.
    let mut new_id: Vec<Option<u16>> = vec![None; blocks];
    let mut order: Vec<Option<u32>> = vec![Some(dead)];
    new_id[dead as usize] = Some(0);
    let never_matches = start == dead;
    if never_matches {
        // A start state equal to the dead state still needs its own id: an all-dead row.
        order.push(None);
    } else {
        let mut queue = VecDeque::from([start]);
        new_id[start as usize] = Some(1);
        order.push(Some(start));
        while let Some(b) = queue.pop_front() {
            for &col in &class_columns {
                let next = block(row(b)[col]);
                if new_id[next as usize].is_none() {
                    if order.len() >= format::DFA_STATES_MAX {
                        return Err(too_large(
                            source,
                            format_args!("more than {} states", format::DFA_STATES_MAX),
                        ));
                    }
                    new_id[next as usize] = Some(order.len() as u16);
                    order.push(Some(next));
                    queue.push_back(next);
                }
            }
        }
    }
    let state_count = order.len();
    let len = format::encoded_len(state_count, class_count)
        .ok_or_else(|| too_large(source, "its size overflows"))?;
    if len > format::DFA_BYTES_MAX {
        return Err(too_large(
            source,
            format_args!(
                "{state_count} states and {class_count} byte classes need {len} bytes, over the \
                 limit of {}",
                format::DFA_BYTES_MAX
            ),
        ));
    }

    let mut out = Vec::with_capacity(len);
    for field in [state_count, class_count, 1] {
        let field = u32::try_from(field).map_err(|_| internal(source, "header field overflow"))?;
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&class_map);
    for &b in &order {
        for &col in &class_columns {
            let next = match b {
                Some(b) if b != dead => new_id[block(row(b)[col]) as usize],
                _ => Some(0),
            };
            let next = next.ok_or_else(|| internal(source, "unnumbered state"))?;
            out.extend_from_slice(&next.to_le_bytes());
        }
    }
    for &b in &order {
        let flags = match b {
            Some(b) if b != dead => table.flags[rep[b as usize].unwrap_or(DEAD) as usize],
            _ => 0,
        };
        out.push(flags);
    }
    if out.len() != len {
        return Err(internal(source, "encoded length mismatch"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dfa(blob: &[u8]) -> format::Dfa<'_> {
        format::Dfa::from_bytes(blob).unwrap()
    }

    fn check_regex(pattern: &str, yes: &[&str], no: &[&str]) {
        let blob = build_regex(pattern).unwrap();
        let d = dfa(&blob);
        for h in yes {
            assert!(d.is_match(h.as_bytes()), "{pattern} should match {h:?}");
        }
        for h in no {
            assert!(!d.is_match(h.as_bytes()), "{pattern} should not match {h:?}");
        }
    }

    fn check_glob(glob: &str, style: GlobStyle, yes: &[&str], no: &[&str]) {
        let blob = build_glob(glob, style).unwrap();
        let d = dfa(&blob);
        for h in yes {
            assert!(d.is_match(h.as_bytes()), "{glob} ({style:?}) should match {h:?}");
        }
        for h in no {
            assert!(!d.is_match(h.as_bytes()), "{glob} ({style:?}) should not match {h:?}");
        }
    }

    #[test]
    fn regex_semantics() {
        check_regex(
            "^/workspace/",
            &["/workspace/", "/workspace/a"],
            &["", "/workspace", "x/workspace/"],
        );
        check_regex("abc", &["abc", "xxabcxx"], &["", "ab", "acb"]);
        check_regex("a$", &["a", "ba"], &["ab", "a\n"]);
        check_regex("(?m)a$", &["a", "a\nb"], &["ab"]);
        check_regex("", &["", "x"], &[]);
        check_regex(
            "(?i)^(select|insert)(?-u:\\b)",
            &["SELECT *", "insert", "Select(1)"],
            &["selected", " select", "insertX"],
        );
        check_regex("é", &["café"], &["cafe", "caf\u{c8}"]);
        check_regex("(?i)k", &["K", "\u{212a}"], &["x"]);
        check_regex("(?-u:\\xff)", &[], &["\u{ff}"]);
        check_regex("[^a]", &["b", "é"], &["", "a", "aaa"]);
        let blob = build_regex("(?-u:\\xff)").unwrap();
        assert!(dfa(&blob).is_match(b"a\xffb"));
    }

    #[test]
    fn never_and_always() {
        for pattern in ["[a&&b]", "(?-u:[^\\x00-\\xff])", "^a\\Ab"] {
            let blob = build_regex(pattern).unwrap();
            let d = dfa(&blob);
            assert_eq!(d.state_count(), 2, "{pattern}");
            assert!(!d.is_match(b"") && !d.is_match(b"ab") && !d.is_match(b"a"), "{pattern}");
        }
        let blob = build_regex("").unwrap();
        assert_eq!(dfa(&blob).state_count(), 3);
    }

    #[test]
    fn output_is_canonical_and_deterministic() {
        for (a, b) in [
            ("a|a", "a"),
            ("[ab]", "a|b"),
            ("(?:a|ab)", "a"),
            ("x*", ""),
            ("^(?:a|b)", "^[ab]"),
            // The second ones report their match one byte later.
            ("a(?-u:\\b)", "a(?-u:\\W)|a\\z"),
            ("(?-u:\\b)", "(?-u:\\w)"),
        ] {
            assert_eq!(build_regex(a).unwrap(), build_regex(b).unwrap(), "{a} vs {b}");
        }
        for pattern in [
            "^/workspace/",
            "(?i)select",
            "\\w+@\\w+",
            "[a-z]{2,5}\\d",
            "a|ab|abc$",
            "(?m)^x(?-u:\\b)|y$",
            "(?:a|b)*?c{2,3}",
            "",
        ] {
            let once = build_regex(pattern).unwrap();
            assert_eq!(once, build_regex(pattern).unwrap());
            // Neither the match kind nor minimizing inside regex-automata changes anything.
            for (match_kind, ra_minimize) in
                [(MatchKind::LeftmostFirst, true), (MatchKind::All, false), (MatchKind::All, true)]
            {
                let tuning = Tuning { match_kind, ra_minimize };
                let other = compile(pattern, Source::Regex(pattern), tuning).unwrap();
                assert_eq!(once, other, "{pattern} {tuning:?}");
            }
        }
    }

    #[test]
    fn glob_semantics() {
        use GlobStyle::{Name, Path};
        check_glob("fs.*", Name, &["fs.read", "fs.", "fs.a/b"], &["fs", "fsxread", "xfs.read"]);
        check_glob("fs.?", Name, &["fs.a", "fs.é"], &["fs.", "fs.ab"]);
        check_glob(
            "/workspace/**",
            Path,
            &["/workspace", "/workspace/", "/workspace/a/b"],
            &["/workspaces", "/workspace2/a", "/"],
        );
        check_glob(
            "**/.env",
            Path,
            &["/a/.env", ".env", "a/b/.env", "/.env"],
            &["x.env", "/a/.envx", "/a/.env/x"],
        );
        check_glob("*.md", Path, &["b.md", ".md"], &["a/b.md", "b.mdx"]);
        check_glob("*.md", Name, &["a/b.md"], &["b.mdx"]);
        check_glob("a/**/b", Path, &["a/b", "a/x/b", "a/x/y/b"], &["ab", "a/xb", "b"]);
        check_glob("**", Path, &["", "a", "a/b/c"], &[]);
        check_glob("a/**/**", Path, &["a", "a/b"], &["ab"]);
        check_glob("src/*/mod.rs", Path, &["src/x/mod.rs"], &["src/mod.rs", "src/x/y/mod.rs"]);
        check_glob("[!a-c]?", Name, &["d1", "/x", "éé"], &["a1", "d"]);
        check_glob("[abc]?", Name, &["a1", "cc"], &["d1", "a"]);
        check_glob("[a-c]", Name, &["b"], &["d", "-"]);
        check_glob("[!a-c]", Name, &["d", "/", "é"], &["b", ""]);
        check_glob("[!a]", Path, &["b"], &["a", "/"]);
        check_glob("[+-0]", Path, &["+", "0", "."], &["/"]);
        check_glob("[]a]", Name, &["]", "a"], &["b"]);
        check_glob("[!]]", Name, &["a"], &["]"]);
        check_glob("[a-]", Name, &["a", "-"], &["b"]);
        check_glob("\\*\\?\\[x", Name, &["*?[x"], &["a?[x"]);
        check_glob("a.b+c(d)", Name, &["a.b+c(d)"], &["aXb+c(d)", "a.bbc(d)"]);
        check_glob("a\\/b", Path, &["a/b"], &["a\\/b"]);
        check_glob("", Path, &[""], &["a"]);
    }

    #[test]
    fn glob_union_matches_what_some_glob_matches() {
        let globs: Vec<String> = ["**/.env", "**/.env.*", "**/.ssh/**", "**/*.pem", "/etc/?ost[s]"]
            .map(str::to_owned)
            .to_vec();
        let union = build_glob_union(&globs, GlobStyle::Path).unwrap();
        let singles: Vec<Vec<u8>> =
            globs.iter().map(|glob| build_glob(glob, GlobStyle::Path).unwrap()).collect();
        let haystacks: [&[u8]; 16] = [
            b"/a/.env",
            b".env",
            b"/a/.env.local",
            b"/a/.envx",
            b"/a/.env/x",
            b"/home/u/.ssh",
            b"/home/u/.ssh/id",
            b"/home/u/.sshx/id",
            b"/k.pem",
            b"/k.pem/x",
            b"/etc/hosts",
            b"/etc/posts",
            b"/etc/hostx",
            b"/workspace/README.md",
            b"/\xff/.env",
            b"",
        ];
        let mut matched = 0;
        for hay in haystacks {
            let any = singles.iter().any(|blob| dfa(blob).is_match(hay));
            assert_eq!(dfa(&union).is_match(hay), any, "{hay:?}");
            matched += usize::from(any);
        }
        // Both answers occur, so the comparison above can fail either way.
        assert!(matched > 3 && matched < haystacks.len() - 3, "{matched}");
        // The table is canonical: order and repetition do not change it, and a list of one is
        // the glob's own table.
        let mut shuffled = globs.clone();
        shuffled.reverse();
        shuffled.push(globs[0].clone());
        assert_eq!(build_glob_union(&shuffled, GlobStyle::Path).unwrap(), union);
        assert_eq!(build_glob_union(&globs[..1], GlobStyle::Path).unwrap(), singles[0]);
    }

    #[test]
    fn glob_union_errors() {
        // Each glob remembers where the last `a` (or `b`) of the last 11 characters was, which
        // fits; the union must remember both at once, which does not.
        let globs = ["*a??????????".to_owned(), "*b??????????".to_owned()];
        for glob in &globs {
            build_glob(glob, GlobStyle::Path).unwrap();
        }
        let error = build_glob_union(&globs, GlobStyle::Path).unwrap_err();
        assert_eq!(error.kind, BuildErrorKind::TooLarge, "{error}");
        assert!(error.message.starts_with("union of globs `*a"), "{error}");
        let error =
            build_glob_union(&["*.md".to_owned(), "a**".to_owned()], GlobStyle::Path).unwrap_err();
        assert_eq!(error.kind, BuildErrorKind::InvalidGlob);
        assert!(error.message.contains("`a**`"), "{error}");
    }

    #[test]
    fn glob_invalid_utf8() {
        let cases: [(&str, GlobStyle, &[u8], bool); 8] = [
            ("/secret/**", GlobStyle::Path, b"/secret/\xff", true),
            ("/secret/**", GlobStyle::Path, b"/secret/a/\xc3", true),
            ("**/.env", GlobStyle::Path, b"/\xff/.env", true),
            ("fs.*", GlobStyle::Name, b"fs.\xff\n", true),
            ("*.md", GlobStyle::Path, b"\xff.md", true),
            ("*.md", GlobStyle::Path, b"\xff/.md", false),
            ("fs.?", GlobStyle::Name, b"fs.\xff", false),
            ("[!a]", GlobStyle::Name, b"\x80", false),
        ];
        for (glob, style, hay, want) in cases {
            let blob = build_glob(glob, style).unwrap();
            assert_eq!(dfa(&blob).is_match(hay), want, "{glob} {hay:?}");
        }
    }

    #[test]
    fn glob_translation() {
        assert_eq!(
            glob_to_regex("/workspace/**", GlobStyle::Path).unwrap(),
            "^(?s:/workspace(?-u:(?:/.*)?))$"
        );
        assert_eq!(
            glob_to_regex("**/.env", GlobStyle::Path).unwrap(),
            "^(?s:(?-u:(?:.*/)?)\\.env)$"
        );
        assert_eq!(glob_to_regex("fs.*", GlobStyle::Name).unwrap(), "^(?s:fs\\.(?-u:.*))$");
    }

    #[test]
    fn invalid_globs() {
        for (glob, style, needle) in [
            ("[abc", GlobStyle::Name, "unclosed `[`"),
            ("[", GlobStyle::Name, "unclosed `[`"),
            ("[]", GlobStyle::Name, "unclosed `[`"),
            ("[a\\", GlobStyle::Name, "unclosed `[`"),
            ("abc\\", GlobStyle::Name, "trailing `\\`"),
            ("a**", GlobStyle::Path, "whole path segment"),
            ("**a", GlobStyle::Path, "whole path segment"),
            ("a/***", GlobStyle::Path, "whole path segment"),
            ("[^a]", GlobStyle::Name, "`[^`"),
            ("[z-a]", GlobStyle::Name, "out of order"),
            ("[a/]", GlobStyle::Path, "cannot match `/`"),
        ] {
            let err = build_glob(glob, style).unwrap_err();
            assert_eq!(err.kind, BuildErrorKind::InvalidGlob, "{glob}");
            assert!(err.message.contains(needle), "{glob}: {}", err.message);
            assert!(err.message.contains(&format!("`{glob}`")), "{}", err.message);
            assert!(err.help.is_some());
            assert_eq!(err.code(), "dfa.invalid_glob");
        }
        // `**` is fine in name globs.
        check_glob("a**", GlobStyle::Name, &["a", "a/b"], &["b"]);
    }

    #[test]
    fn unsupported_and_invalid_regexes() {
        for pattern in ["\\bword\\b", "(?i)^(select|insert)\\b", "\\B", "\\<a", "\\b{end}"] {
            let err = build_regex(pattern).unwrap_err();
            assert_eq!(err.kind, BuildErrorKind::Unsupported, "{pattern}");
            assert!(err.help.as_deref().unwrap().contains("(?-u:\\b)"), "{err}");
            assert!(err.message.contains(&format!("`{pattern}`")), "{err}");
        }
        for pattern in ["(", "a{2,1}", "[z-a]", "\\p{Nope}", "(?<x>a)(?<x>b)"] {
            let err = build_regex(pattern).unwrap_err();
            assert_eq!(err.kind, BuildErrorKind::Syntax, "{pattern}");
            assert!(err.message.starts_with("invalid regex `"), "{err}");
            assert!(!err.message.ends_with('.'), "{err}");
        }
        // ASCII word boundaries are fine.
        check_regex("(?-u:\\b)ab(?-u:\\B)", &["ab_", "x ab1"], &["xab1", "ab", "ab "]);
    }

    #[test]
    fn too_large() {
        let started = std::time::Instant::now();
        for pattern in [
            "[01]*1[01]{24}$",
            "1[01]{24}",
            "\\w{200}",
            "(?:a|b|c|d)*a(?:a|b|c|d){16}$",
            "\\w{50}",
            "a{100000}",
        ] {
            let err = build_regex(pattern).unwrap_err();
            assert_eq!(err.kind, BuildErrorKind::TooLarge, "{pattern}: {err}");
            assert!(err.message.contains(&format!("`{pattern}`")), "{err}");
            assert!(err.help.is_some());
        }
        eprintln!("too-large rejections took {:?}", started.elapsed());
    }
}
