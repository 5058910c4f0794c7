//! The `sql` constraint kind: a PostgreSQL tokenizer that classifies the statements in a string.
//!
//! A policy says, for example, "argument `query` may contain only `select` statements, at most
//! one". The gateway calls [`analyze`] on the argument (already unescaped from JSON) and checks
//! [`SqlSummary::statement_count`] and [`KindSet::is_subset_of`].
//!
//! **This is a classifier for policy, not a parser, and not a security boundary on its own.**
//! It finds statement boundaries as the PostgreSQL lexer would (for any input that this module
//! accepts; anything else is an error) and reads each statement's verb; it does not know what functions, triggers, rules or views do. The real
//! defence is a database role that cannot do what the policy forbids (for example a read-only
//! role, or `default_transaction_read_only`); this module lets the gateway refuse early and
//! explain why.
//!
//! # Dialect
//!
//! Modelled on PostgreSQL's lexer (`scan.l`), with `client_encoding` UTF-8:
//!
//! - whitespace: space, tab, LF, CR, FF, VT;
//! - `--` comments to the end of the line (LF or CR); `/* */` comments, which nest;
//! - `'...'` strings with `''`; `E'...'` strings, where `\` also escapes any byte; `U&'...'`
//!   strings; `N'`, `B'` and `X'` prefixes lex as a word followed by a `'...'` string, which
//!   gives the same boundaries;
//! - `"..."` and `U&"..."` quoted identifiers with `""`;
//! - dollar quotes `$$...$$` and `$tag$...$tag$` (tag: ASCII letter or `_`, then letters,
//!   digits, `_`), closed by the first later occurrence of the same delimiter;
//! - positional parameters `$1`; numbers (decimal, `1.5e-3`, `.5`, `0x1F`, `0o17`, `0b101`,
//!   with `_` separators);
//! - words: ASCII letter or `_`, then letters, digits, `_` **and `$`** (so `a$$b` is one word,
//!   as in PostgreSQL, not a word and a dollar quote); keywords are words compared without
//!   regard to ASCII case;
//! - punctuation: `(`, `)`, `[`, `]`, `,`, `.`, `;`, `:` and the operator bytes
//!   `+ - * / % ^ < > = ~ ! @ # & | ?` and `` ` ``.
//!
//! # Statements and kinds
//!
//! Statements are separated by `;` outside literals and comments, at any parenthesis depth.
//! Statements with no token (`;;`, a trailing `;`, only comments) are not counted. The kind of
//! a statement is its first keyword ([`StatementKind`]), where `VALUES` and `TABLE` are
//! [`StatementKind::Select`] (they are queries), `START` is `Begin`, `END` is `Commit`, `ABORT`
//! is `Rollback`, `ANALYSE` is `Analyze`, and any other first token is `Other`. Refinements,
//! each of which can only add kinds:
//!
//! - A statement starting with `(` takes the first keyword after the parentheses.
//! - `WITH`: the main verb is the first `SELECT`, `VALUES`, `TABLE`, `INSERT`, `UPDATE`,
//!   `DELETE`, `MERGE` or `(` at the depth of the `WITH` that directly follows a `)` (that is,
//!   follows the last CTE body); none found gives `Other`.
//! - Data-modifying CTEs: `INSERT`, `UPDATE`, `DELETE` or `MERGE` directly after a `(` or a
//!   `)`, at any depth and in any statement, adds its kind. Directly after a parenthesis,
//!   PostgreSQL reads these verbs as verbs only where a statement starts: a CTE body, after
//!   the CTE list of a (nested) `WITH`, `COPY (...)`, or a rule action. So
//!   `WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x` is {Select, Delete}, and a CTE
//!   merely *named* `delete` adds nothing; a column named like a verb right after a
//!   parenthesis (`max(delete)`) over-reports, which is the safe side.
//! - `INTO` adds [`StatementKind::Create`] unless it directly follows `INSERT` or `MERGE`:
//!   `SELECT ... INTO t` creates a table.
//! - `EXPLAIN`: with `ANALYZE`/`ANALYSE` (`EXPLAIN ANALYZE stmt` or in the option list
//!   `EXPLAIN (ANALYZE, ...) stmt`) the inner statement runs, so its kinds are added; plain
//!   `EXPLAIN stmt` gives only `Explain`. Any quoted identifier in the option list counts as
//!   `ANALYZE`, because option names are identifiers and `("analyze")` names the same option.
//!
//! [`SqlSummary::functions_flagged`] is a best-effort hint: it is set when a function whose
//! name starts like a known dangerous built-in (file access, `dblink`, large objects, sleeping,
//! advisory locks, backend control, sequences, `set_config`, `query_to_xml`, ...) is called,
//! or when any `U&"..."` name is called (it could spell one). False does not mean safe.
//!
//! # Rejected, and why
//!
//! Everything the classifier cannot read with certainty is an error ([`SqlError`]):
//!
//! - NUL anywhere: a C client stops at NUL, so the server would see a different text.
//! - Invalid UTF-8 anywhere; non-ASCII outside literals, quoted identifiers and comments
//!   (PostgreSQL would read such bytes as identifier characters).
//! - Unterminated strings, quoted identifiers, dollar quotes and comments.
//! - A `'...'` string whose end depends on `standard_conforming_strings`, which this module
//!   cannot see: `'\'; DROP TABLE t; --'` is one string with the setting off and a string, a
//!   `DROP` and a comment with it on. Strings with backslashes are accepted when both readings
//!   end at the same quote (`'C:\dir'`, `'\\'`); use `E'...'` for anything else.
//! - Bytes that start no PostgreSQL token (`\`, `{`, `}`, control bytes, `$` that starts
//!   neither a parameter nor a dollar quote); a number or parameter directly followed by a
//!   letter, digit, `_` or `$` (`1INTO`, `$1abc`), which PostgreSQL 15 and later reject and
//!   older versions split into two tokens.
//! - Unbalanced parentheses within a statement (so `CREATE RULE` with several actions in
//!   parentheses is rejected: its `;` splits it).
//! - `SEARCH` or `CYCLE` directly after `)` (the `WITH RECURSIVE` search and cycle clauses),
//!   whose column lists could hide where the main statement starts.
//!
//! # Not protected against
//!
//! - What functions, procedures, triggers, rules, views and `DO` blocks do: `SELECT f()` can
//!   write, `INSERT` can fire a trigger that deletes. Code inside dollar quotes is opaque.
//! - `EXECUTE` of a prepared statement (its text is not here), `SET ROLE`, `SELECT ... FOR
//!   UPDATE` row locks, `COPY ... PROGRAM`, `LOAD`: they are classified by verb only.
//! - SQL-standard function bodies (`BEGIN ATOMIC ... END`) are split at their `;`, which gives
//!   more statements and kinds than really run (safe, but may deny).
//! - Other dialects: MySQL (`#` comments, backticks, `\'` in strings), SQL Server and SQLite
//!   lex differently; do not use this module for them. psql meta-commands and `:variables`
//!   are client-side and not understood.

use core::fmt;

/// The kind of one SQL statement, from its first keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum StatementKind {
    /// `SELECT`, `VALUES`, `TABLE`.
    Select = 0,
    /// `INSERT`.
    Insert = 1,
    /// `UPDATE`.
    Update = 2,
    /// `DELETE`.
    Delete = 3,
    /// `MERGE`.
    Merge = 4,
    /// `CREATE`, and `SELECT ... INTO`.
    Create = 5,
    /// `ALTER`.
    Alter = 6,
    /// `DROP`.
    Drop = 7,
    /// `TRUNCATE`.
    Truncate = 8,
    /// `GRANT`.
    Grant = 9,
    /// `REVOKE`.
    Revoke = 10,
    /// `COPY`.
    Copy = 11,
    /// `CALL`.
    Call = 12,
    /// `DO`.
    Do = 13,
    /// `EXECUTE`.
    Execute = 14,
    /// `SET`.
    Set = 15,
    /// `SHOW`.
    Show = 16,
    /// `EXPLAIN`.
    Explain = 17,
    /// `BEGIN`, `START`.
    Begin = 18,
    /// `COMMIT`, `END`.
    Commit = 19,
    /// `ROLLBACK`, `ABORT`.
    Rollback = 20,
    /// `VACUUM`.
    Vacuum = 21,
    /// `ANALYZE`, `ANALYSE`.
    Analyze = 22,
    /// `LOCK`.
    Lock = 23,
    /// `LISTEN`.
    Listen = 24,
    /// `NOTIFY`.
    Notify = 25,
    /// Any other first keyword or token.
    Other = 26,
}

impl StatementKind {
    /// Every kind, in discriminant (and bit) order.
    pub const ALL: [Self; 27] = [
        Self::Select,
        Self::Insert,
        Self::Update,
        Self::Delete,
        Self::Merge,
        Self::Create,
        Self::Alter,
        Self::Drop,
        Self::Truncate,
        Self::Grant,
        Self::Revoke,
        Self::Copy,
        Self::Call,
        Self::Do,
        Self::Execute,
        Self::Set,
        Self::Show,
        Self::Explain,
        Self::Begin,
        Self::Commit,
        Self::Rollback,
        Self::Vacuum,
        Self::Analyze,
        Self::Lock,
        Self::Listen,
        Self::Notify,
        Self::Other,
    ];

    /// The lowercase name used in policies, e.g. `"select"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Select => "select",
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Merge => "merge",
            Self::Create => "create",
            Self::Alter => "alter",
            Self::Drop => "drop",
            Self::Truncate => "truncate",
            Self::Grant => "grant",
            Self::Revoke => "revoke",
            Self::Copy => "copy",
            Self::Call => "call",
            Self::Do => "do",
            Self::Execute => "execute",
            Self::Set => "set",
            Self::Show => "show",
            Self::Explain => "explain",
            Self::Begin => "begin",
            Self::Commit => "commit",
            Self::Rollback => "rollback",
            Self::Vacuum => "vacuum",
            Self::Analyze => "analyze",
            Self::Lock => "lock",
            Self::Listen => "listen",
            Self::Notify => "notify",
            Self::Other => "other",
        }
    }

    /// The kind with this exact lowercase [`name`](Self::name); anything else is `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    const fn bit(self) -> u32 {
        1 << self as u8
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`StatementKind`]s, as a `u32` bitset (bit `k as u8` for kind `k`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u32);

impl fmt::Debug for KindSet {
    /// Lists the kinds by name (`{select, drop}`), which is what a log reader needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(StatementKind::name)).finish()
    }
}

impl KindSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);
    /// Every kind.
    pub const FULL: Self = Self((1 << StatementKind::ALL.len()) - 1);

    /// True if `kind` is in the set.
    pub const fn contains(self, kind: StatementKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Adds `kind` to the set.
    pub const fn insert(&mut self, kind: StatementKind) {
        self.0 |= kind.bit();
    }

    /// The set with `kind` added.
    pub const fn with(self, kind: StatementKind) -> Self {
        Self(self.0 | kind.bit())
    }

    /// The kinds in either set.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// True if every kind in `self` is in `other` (the policy check: found ⊆ allowed).
    pub const fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// True if the set has no kind.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of kinds in the set.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The raw bits, for storing the set in an artifact.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The set with these raw bits, or `None` if a bit names no kind (fail closed on a corrupt
    /// or newer artifact).
    pub const fn from_bits(bits: u32) -> Option<Self> {
        if bits & !Self::FULL.0 == 0 { Some(Self(bits)) } else { None }
    }

    /// The kinds in the set, in discriminant order.
    pub const fn iter(self) -> KindIter {
        KindIter(self.0)
    }
}

impl IntoIterator for KindSet {
    type Item = StatementKind;
    type IntoIter = KindIter;

    fn into_iter(self) -> KindIter {
        self.iter()
    }
}

impl FromIterator<StatementKind> for KindSet {
    fn from_iter<I: IntoIterator<Item = StatementKind>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

/// Iterator over the kinds of a [`KindSet`], in discriminant order.
#[derive(Clone, Debug)]
pub struct KindIter(u32);

impl Iterator for KindIter {
    type Item = StatementKind;

    fn next(&mut self) -> Option<StatementKind> {
        if self.0 == 0 {
            return None;
        }
        let index = usize::try_from(self.0.trailing_zeros()).ok()?;
        // Clears the lowest set bit; self.0 != 0, so the subtraction cannot underflow.
        self.0 &= self.0 - 1;
        StatementKind::ALL.get(index).copied()
    }
}

/// What [`analyze`] found in a SQL string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlSummary {
    /// Statements with at least one token (empty statements are not counted).
    pub statement_count: u32,
    /// The union of the kinds of all statements.
    pub kinds: KindSet,
    /// A best-effort hint that a known dangerous built-in function is called; false does not
    /// mean that no function with side effects is called.
    pub functions_flagged: bool,
}

/// Why a SQL string could not be classified; the caller turns any of these into a deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlError {
    /// A NUL byte, anywhere.
    Nul,
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// A non-ASCII character outside literals, quoted identifiers and comments.
    NonAscii,
    /// A byte that starts no PostgreSQL token.
    UnexpectedByte,
    /// A string, quoted identifier, dollar quote or block comment is not closed.
    Unterminated,
    /// A `'...'` string ends at different places depending on `standard_conforming_strings`.
    AmbiguousBackslash,
    /// A number or parameter directly followed by a letter, digit, `_` or `$`.
    BadNumber,
    /// Parentheses do not balance within a statement.
    Unbalanced,
    /// A construct v1 does not classify (`SEARCH`/`CYCLE` clauses of `WITH RECURSIVE`).
    Unsupported,
    /// More than `u32::MAX` statements.
    TooManyStatements,
    /// A `U&"..."` identifier: its escapes can spell any name, so names cannot be checked.
    UnicodeEscape,
}

impl SqlError {
    /// A stable, machine-readable code for logs and decision records, e.g. `"sql.unterminated"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Nul => "sql.nul",
            Self::InvalidUtf8 => "sql.invalid_utf8",
            Self::NonAscii => "sql.non_ascii",
            Self::UnexpectedByte => "sql.unexpected_byte",
            Self::Unterminated => "sql.unterminated",
            Self::AmbiguousBackslash => "sql.ambiguous_backslash",
            Self::BadNumber => "sql.bad_number",
            Self::Unbalanced => "sql.unbalanced_parens",
            Self::Unsupported => "sql.unsupported",
            Self::TooManyStatements => "sql.too_many_statements",
            Self::UnicodeEscape => "sql.unicode_escape",
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Nul => "sql contains a nul byte",
            Self::InvalidUtf8 => "sql is not valid utf-8",
            Self::NonAscii => {
                "sql has a non-ascii character outside literals, quoted identifiers and comments"
            }
            Self::UnexpectedByte => "sql contains a byte that starts no postgresql token",
            Self::Unterminated => "sql has an unterminated string, identifier or comment",
            Self::AmbiguousBackslash => {
                "sql string ends differently depending on standard_conforming_strings (use e'...')"
            }
            Self::BadNumber => "sql number or parameter is directly followed by other characters",
            Self::Unbalanced => "sql parentheses do not balance within a statement",
            Self::Unsupported => "sql uses a construct that is not classified (search/cycle)",
            Self::TooManyStatements => "sql has too many statements",
            Self::UnicodeEscape => "sql uses a U& unicode-escaped identifier",
        })
    }
}

/// Classifies every statement in `input`; see the module documentation for the rules.
///
/// Runs in time linear in `input.len()`, with no allocation and no recursion.
pub fn analyze(input: &[u8]) -> Result<SqlSummary, SqlError> {
    if input.contains(&0) {
        return Err(SqlError::Nul);
    }
    if core::str::from_utf8(input).is_err() {
        return Err(SqlError::InvalidUtf8);
    }
    let mut summary =
        SqlSummary { statement_count: 0, kinds: KindSet::EMPTY, functions_flagged: false };
    let mut lexer = Lexer { src: input, pos: 0 };
    let mut stmt = Stmt::new();
    // Terminates: every token consumes at least one byte.
    while let Some(tok) = lexer.next_token()? {
        if let Tok::Semi = tok {
            stmt.finish(&mut summary)?;
            stmt = Stmt::new();
        } else {
            stmt.feed(tok)?;
        }
    }
    stmt.finish(&mut summary)?;
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

/// A significant token; whitespace and comments are skipped by the lexer.
#[derive(Clone, Copy, Debug)]
enum Tok<'a> {
    /// An unquoted identifier or keyword.
    Word(&'a [u8]),
    /// A quoted identifier; `body` is the raw text between the quotes.
    QuotedIdent {
        body: &'a [u8],
        unicode: bool,
    },
    /// A string, dollar-quoted string, number or parameter.
    Value,
    Open,
    Close,
    Semi,
    /// A `.` between name parts (`schema.table`).
    Dot,
    /// Any other punctuation.
    Punct,
}

/// Positions are always ≤ `src.len()` + 2, and `src.len()` ≤ `isize::MAX`, so adding small
/// constants to them cannot overflow.
struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn is_digit_or_underscore(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

impl<'a> Lexer<'a> {
    fn at(&self, i: usize) -> Option<u8> {
        self.src.get(i).copied()
    }

    fn next_token(&mut self) -> Result<Option<Tok<'a>>, SqlError> {
        loop {
            let Some(b) = self.at(self.pos) else { return Ok(None) };
            let next = self.at(self.pos + 1);
            let tok = match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                    self.pos += 1;
                    continue;
                }
                b'-' if next == Some(b'-') => {
                    // The line break itself is left for the whitespace arm.
                    let rest = self.src.get(self.pos..).unwrap_or_default();
                    self.pos +=
                        rest.iter().position(|&c| c == b'\n' || c == b'\r').unwrap_or(rest.len());
                    continue;
                }
                b'/' if next == Some(b'*') => {
                    self.block_comment()?;
                    continue;
                }
                b';' => {
                    self.pos += 1;
                    Tok::Semi
                }
                b'(' => {
                    self.pos += 1;
                    Tok::Open
                }
                b')' => {
                    self.pos += 1;
                    Tok::Close
                }
                b'\'' => {
                    self.standard_string()?;
                    Tok::Value
                }
                b'"' => Tok::QuotedIdent { body: self.quoted_ident()?, unicode: false },
                // Only at the start of a token: inside a word, `e'` is the word then a string.
                b'e' | b'E' if next == Some(b'\'') => {
                    self.pos += 1;
                    self.pos =
                        scan_quoted(self.src, self.pos + 1, true).ok_or(SqlError::Unterminated)?;
                    Tok::Value
                }
                b'u' | b'U' if next == Some(b'&') && self.at(self.pos + 2) == Some(b'\'') => {
                    self.pos += 2;
                    self.standard_string()?;
                    Tok::Value
                }
                b'u' | b'U' if next == Some(b'&') && self.at(self.pos + 2) == Some(b'"') => {
                    self.pos += 2;
                    Tok::QuotedIdent { body: self.quoted_ident()?, unicode: true }
                }
                b'$' => {
                    self.dollar()?;
                    Tok::Value
                }
                b'0'..=b'9' => {
                    self.number()?;
                    Tok::Value
                }
                b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
                    self.number()?;
                    Tok::Value
                }
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => Tok::Word(self.word()?),
                b'.' => {
                    self.pos += 1;
                    Tok::Dot
                }
                b',' | b'[' | b']' | b':' | b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'<'
                | b'>' | b'=' | b'~' | b'!' | b'@' | b'#' | b'&' | b'|' | b'`' | b'?' => {
                    // Operators are emitted one byte at a time. That is enough for boundaries:
                    // PostgreSQL also ends an operator where `--` or `/*` begins, which the
                    // arms above catch first.
                    self.pos += 1;
                    Tok::Punct
                }
                0x80..=0xff => return Err(SqlError::NonAscii),
                _ => return Err(SqlError::UnexpectedByte),
            };
            return Ok(Some(tok));
        }
    }

    /// `/* ... */`, nested as in PostgreSQL (unlike the SQL standard's reading in some
    /// databases): `/* a /* b */ c */` is one comment.
    fn block_comment(&mut self) -> Result<(), SqlError> {
        let mut depth: usize = 0;
        let mut i = self.pos;
        loop {
            match (self.at(i), self.at(i + 1)) {
                (None, _) => return Err(SqlError::Unterminated),
                (Some(b'/'), Some(b'*')) => {
                    // At most one increment per two bytes: cannot overflow.
                    depth += 1;
                    i += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    i += 2;
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos = i;
                        return Ok(());
                    }
                }
                _ => i += 1,
            }
        }
    }

    /// A `'...'` string (also the body of `U&'...'`, `N'...'`, `B'...'`, `X'...'`).
    ///
    /// With `standard_conforming_strings` on (the default since 9.1) a backslash is an ordinary
    /// byte; with it off, a backslash escapes the next byte. The setting is not visible here,
    /// so the string is scanned both ways and must end at the same quote.
    fn standard_string(&mut self) -> Result<(), SqlError> {
        let body = self.pos + 1;
        match (scan_quoted(self.src, body, false), scan_quoted(self.src, body, true)) {
            (Some(on), Some(off)) if on == off => {
                self.pos = on;
                Ok(())
            }
            (None, None) => Err(SqlError::Unterminated),
            _ => Err(SqlError::AmbiguousBackslash),
        }
    }

    /// `"..."` with `""`; returns the raw body between the quotes.
    fn quoted_ident(&mut self) -> Result<&'a [u8], SqlError> {
        let body = self.pos + 1;
        let mut i = body;
        loop {
            match self.at(i) {
                None => return Err(SqlError::Unterminated),
                Some(b'"') if self.at(i + 1) == Some(b'"') => i += 2,
                Some(b'"') => {
                    self.pos = i + 1;
                    return self.src.get(body..i).ok_or(SqlError::Unterminated);
                }
                Some(_) => i += 1,
            }
        }
    }

    /// `$1` (parameter) or `$tag$ ... $tag$` (dollar quote).
    fn dollar(&mut self) -> Result<(), SqlError> {
        let start = self.pos;
        let mut i = start + 1;
        if self.at(i).is_some_and(|c| c.is_ascii_digit()) {
            while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            self.pos = i;
            return self.reject_junk();
        }
        if self.at(i).is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
            while self.at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                i += 1;
            }
        }
        match self.at(i) {
            Some(b'$') => {}
            // PostgreSQL allows non-ASCII tags; v1 does not, like non-ASCII words.
            Some(c) if c >= 0x80 => return Err(SqlError::NonAscii),
            _ => return Err(SqlError::UnexpectedByte),
        }
        let body = i + 1;
        let delim = self.src.get(start..body).ok_or(SqlError::UnexpectedByte)?;
        let close = find_delimiter(self.src, body, delim).ok_or(SqlError::Unterminated)?;
        self.pos = close + delim.len();
        Ok(())
    }

    fn number(&mut self) -> Result<(), SqlError> {
        let mut i = self.pos;
        let radix: Option<fn(u8) -> bool> = match (self.at(i), self.at(i + 1)) {
            (Some(b'0'), Some(b'x' | b'X')) => Some(|c| c.is_ascii_hexdigit() || c == b'_'),
            (Some(b'0'), Some(b'o' | b'O')) => Some(|c| matches!(c, b'0'..=b'7' | b'_')),
            (Some(b'0'), Some(b'b' | b'B')) => Some(|c| matches!(c, b'0' | b'1' | b'_')),
            _ => None,
        };
        if let Some(is_digit) = radix {
            i += 2;
            let digits = i;
            while self.at(i).is_some_and(is_digit) {
                i += 1;
            }
            if i == digits {
                return Err(SqlError::BadNumber);
            }
        } else {
            while self.at(i).is_some_and(is_digit_or_underscore) {
                i += 1;
            }
            // `1..2` is the integer 1 followed by `..`, as in PostgreSQL.
            if self.at(i) == Some(b'.') && self.at(i + 1) != Some(b'.') {
                i += 1;
                while self.at(i).is_some_and(is_digit_or_underscore) {
                    i += 1;
                }
            }
            if matches!(self.at(i), Some(b'e' | b'E')) {
                let mut j = i + 1;
                if matches!(self.at(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                // Without exponent digits the `e` stays, and reject_junk refuses it.
                if self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                    i = j;
                    while self.at(i).is_some_and(is_digit_or_underscore) {
                        i += 1;
                    }
                }
            }
        }
        self.pos = i;
        self.reject_junk()
    }

    /// PostgreSQL 15+ rejects `123abc` and `$1abc`; older versions read two tokens, so
    /// `SELECT 1INTO t` would create a table. Either way, refuse.
    fn reject_junk(&self) -> Result<(), SqlError> {
        match self.at(self.pos) {
            Some(c) if is_word_byte(c) => Err(SqlError::BadNumber),
            // PostgreSQL would read these as identifier bytes, like a letter.
            Some(c) if c >= 0x80 => Err(SqlError::NonAscii),
            _ => Ok(()),
        }
    }

    fn word(&mut self) -> Result<&'a [u8], SqlError> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match self.at(i) {
                Some(c) if is_word_byte(c) => i += 1,
                // PostgreSQL would continue the identifier with these bytes.
                Some(c) if c >= 0x80 => return Err(SqlError::NonAscii),
                _ => break,
            }
        }
        self.pos = i;
        self.src.get(start..i).ok_or(SqlError::UnexpectedByte)
    }
}

/// Scans a quoted body from `i` (just after the opening `'`) and returns the index just after
/// the closing `'`, or `None` if there is none. `''` is a quote in both modes; with
/// `backslash_escapes`, `\` also escapes the next byte (any byte: in UTF-8 no continuation
/// byte is a quote or a backslash).
fn scan_quoted(src: &[u8], mut i: usize, backslash_escapes: bool) -> Option<usize> {
    loop {
        match *src.get(i)? {
            b'\'' if src.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            b'\\' if backslash_escapes => i += 2,
            _ => i += 1,
        }
    }
}

/// The index of the first occurrence of `delim` (`$tag$`) in `src` at or after `from`.
///
/// This equals where PostgreSQL's lexer closes the dollar quote: it starts a token at every
/// `$` in the body, and one followed by the tag and `$` is the delimiter. Linear time: a
/// candidate at `$` is compared byte by byte and stops at the first mismatch; the bytes that
/// matched are tag bytes, which contain no `$`, so the next candidate lies beyond them and no
/// byte is compared for more than two candidates.
fn find_delimiter(src: &[u8], from: usize, delim: &[u8]) -> Option<usize> {
    let mut i = from;
    loop {
        let p = i + src.get(i..)?.iter().position(|&b| b == b'$')?;
        // If the rest is shorter than the delimiter, no later position can hold it either.
        let candidate = src.get(p..p + delim.len())?;
        if candidate.iter().zip(delim).all(|(a, b)| a == b) {
            return Some(p);
        }
        i = p + 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Classifier
// ---------------------------------------------------------------------------------------------

fn is_kw(word: &[u8], lowercase: &[u8]) -> bool {
    word.eq_ignore_ascii_case(lowercase)
}

/// What the first keyword of a statement means.
enum Verb {
    Kind(StatementKind),
    With,
    Explain,
}

fn first_keyword(word: &[u8]) -> Verb {
    use StatementKind::*;
    const TABLE: &[(&[u8], StatementKind)] = &[
        (b"select", Select),
        (b"values", Select),
        (b"table", Select),
        (b"insert", Insert),
        (b"update", Update),
        (b"delete", Delete),
        (b"merge", Merge),
        (b"create", Create),
        (b"alter", Alter),
        (b"drop", Drop),
        (b"truncate", Truncate),
        (b"grant", Grant),
        (b"revoke", Revoke),
        (b"copy", Copy),
        (b"call", Call),
        (b"do", Do),
        (b"execute", Execute),
        (b"set", Set),
        (b"show", Show),
        (b"begin", Begin),
        (b"start", Begin),
        (b"commit", Commit),
        (b"end", Commit),
        (b"rollback", Rollback),
        (b"abort", Rollback),
        (b"vacuum", Vacuum),
        (b"analyze", Analyze),
        (b"analyse", Analyze),
        (b"lock", Lock),
        (b"listen", Listen),
        (b"notify", Notify),
    ];
    if is_kw(word, b"with") {
        return Verb::With;
    }
    if is_kw(word, b"explain") {
        return Verb::Explain;
    }
    Verb::Kind(TABLE.iter().find(|(kw, _)| is_kw(word, kw)).map_or(Other, |&(_, kind)| kind))
}

/// The data-modifying verbs that can form a CTE body.
fn dml_kind(word: &[u8]) -> Option<StatementKind> {
    [
        (&b"insert"[..], StatementKind::Insert),
        (b"update", StatementKind::Update),
        (b"delete", StatementKind::Delete),
        (b"merge", StatementKind::Merge),
    ]
    .into_iter()
    .find(|(kw, _)| is_kw(word, kw))
    .map(|(_, kind)| kind)
}

/// The verbs that can follow the CTE list of a `WITH`.
fn with_main_kind(word: &[u8]) -> Option<StatementKind> {
    if is_kw(word, b"select") || is_kw(word, b"values") || is_kw(word, b"table") {
        Some(StatementKind::Select)
    } else {
        dml_kind(word)
    }
}

fn is_analyze(word: &[u8]) -> bool {
    is_kw(word, b"analyze") || is_kw(word, b"analyse")
}

/// Name prefixes of built-in functions with effects outside the query (files, other servers,
/// other sessions, configuration, sequences, time) or that run SQL given as a string.
const FLAGGED_FUNCTION_PREFIXES: &[&[u8]] = &[
    b"pg_read_",
    b"pg_ls_",
    b"pg_stat_file",
    b"pg_file_",
    b"lo_",
    b"dblink",
    b"pg_sleep",
    b"pg_advisory",
    b"pg_try_advisory",
    b"pg_terminate_backend",
    b"pg_cancel_backend",
    b"pg_reload_conf",
    b"pg_rotate_logfile",
    b"pg_promote",
    b"pg_switch_wal",
    b"pg_create_",
    b"pg_drop_replication_slot",
    b"pg_copy_",
    b"pg_replication_",
    b"pg_logical_",
    b"pg_wal_replay_",
    b"pg_backup_",
    b"pg_start_backup",
    b"pg_stop_backup",
    b"pg_stat_reset",
    b"pg_import_system_collations",
    b"pg_log_backend_memory_contexts",
    b"pg_notify",
    b"set_config",
    b"nextval",
    b"setval",
    b"query_to_xml",
    b"cursor_to_xml",
];

fn is_flagged_function(name: &[u8]) -> bool {
    FLAGGED_FUNCTION_PREFIXES
        .iter()
        .any(|p| name.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)))
}

/// Where the classifier is in determining a statement's kind.
#[derive(Clone, Copy)]
enum Head {
    /// Before the first keyword (leading `(` are skipped).
    Start,
    /// After `WITH` at this depth, until the main verb.
    With { depth: usize },
    /// After `EXPLAIN`, reading `ANALYZE`/`VERBOSE` or an option list.
    ExplainOpts { analyze: bool },
    /// Inside `EXPLAIN (` opened at this depth; `first` for the first token inside.
    ExplainList { analyze: bool, depth: usize, first: bool },
    /// After the option list's `)`: the next token starts the explained statement.
    ExplainAfterList { analyze: bool },
    /// The kind is decided; the rest only matters to the other rules.
    Done,
}

/// The classification state of the statement being read.
struct Stmt<'a> {
    seen: bool,
    depth: usize,
    head: Head,
    /// False inside a plain `EXPLAIN`, whose statement is planned but not run.
    executing: bool,
    prev: Option<Tok<'a>>,
    kinds: KindSet,
    flagged: bool,
}

impl<'a> Stmt<'a> {
    fn new() -> Self {
        Self {
            seen: false,
            depth: 0,
            head: Head::Start,
            executing: true,
            prev: None,
            kinds: KindSet::EMPTY,
            flagged: false,
        }
    }

    fn add(&mut self, kind: StatementKind) {
        if self.executing {
            self.kinds.insert(kind);
        }
    }

    fn feed(&mut self, tok: Tok<'a>) -> Result<(), SqlError> {
        self.seen = true;
        // A `)` sits at the depth outside it, a `(` too (incremented below), so that the token
        // after a CTE body's `)` is at the depth of its `WITH`.
        if let Tok::Close = tok {
            self.depth = self.depth.checked_sub(1).ok_or(SqlError::Unbalanced)?;
        }
        let after_close = matches!(self.prev, Some(Tok::Close));
        let after_paren = after_close || matches!(self.prev, Some(Tok::Open));
        if let Tok::Word(w) = tok
            && after_close
            && (is_kw(w, b"search") || is_kw(w, b"cycle"))
        {
            return Err(SqlError::Unsupported);
        }
        self.step_head(tok);
        if let Tok::Word(w) = tok {
            if after_paren && let Some(kind) = dml_kind(w) {
                self.add(kind);
            }
            let after_insert_or_merge = matches!(self.prev,
                Some(Tok::Word(p)) if is_kw(p, b"insert") || is_kw(p, b"merge"));
            if is_kw(w, b"into") && !after_insert_or_merge {
                self.add(StatementKind::Create);
            }
        }
        if let Tok::Open = tok {
            match self.prev {
                Some(Tok::Word(name)) if is_flagged_function(name) => self.flagged = true,
                // U&"..." can spell any name with escapes; not decoded in v1.
                Some(Tok::QuotedIdent { unicode: true, .. }) => self.flagged = true,
                Some(Tok::QuotedIdent { body, .. }) if is_flagged_function(body) => {
                    self.flagged = true;
                }
                _ => {}
            }
            // Cannot overflow: at most one increment per input byte.
            self.depth = self.depth.checked_add(1).ok_or(SqlError::Unbalanced)?;
        }
        self.prev = Some(tok);
        Ok(())
    }

    fn step_head(&mut self, tok: Tok<'a>) {
        match self.head {
            Head::Start => self.start(tok),
            Head::With { depth } => {
                if self.depth == depth && matches!(self.prev, Some(Tok::Close)) {
                    match tok {
                        Tok::Word(w) => {
                            if let Some(kind) = with_main_kind(w) {
                                self.add(kind);
                                self.head = Head::Done;
                            }
                        }
                        // `WITH ... (SELECT ...)`: only a query can be parenthesized here.
                        Tok::Open => {
                            self.add(StatementKind::Select);
                            self.head = Head::Done;
                        }
                        _ => {}
                    }
                }
            }
            Head::ExplainOpts { analyze } => match tok {
                Tok::Word(w) if is_analyze(w) => self.head = Head::ExplainOpts { analyze: true },
                Tok::Word(w) if is_kw(w, b"verbose") => {}
                Tok::Open => {
                    self.head = Head::ExplainList { analyze, depth: self.depth, first: true };
                }
                _ => self.begin_explained(analyze, tok),
            },
            Head::ExplainList { analyze, depth, first } => {
                let starts_query = match tok {
                    Tok::Open => true,
                    Tok::Word(w) => {
                        is_kw(w, b"select")
                            || is_kw(w, b"values")
                            || is_kw(w, b"table")
                            || is_kw(w, b"with")
                    }
                    _ => false,
                };
                if first && starts_query {
                    // `EXPLAIN (SELECT ...)`: the `(` was the query's, not an option list.
                    self.begin_explained(analyze, tok);
                    return;
                }
                let analyze = analyze
                    || matches!(tok, Tok::Word(w) if is_analyze(w))
                    || matches!(tok, Tok::QuotedIdent { .. });
                self.head = if matches!(tok, Tok::Close) && self.depth == depth {
                    Head::ExplainAfterList { analyze }
                } else {
                    Head::ExplainList { analyze, depth, first: false }
                };
            }
            Head::ExplainAfterList { analyze } => self.begin_explained(analyze, tok),
            Head::Done => {}
        }
    }

    /// The statement after `EXPLAIN [options]` begins with `tok`.
    fn begin_explained(&mut self, analyze: bool, tok: Tok<'a>) {
        self.executing = self.executing && analyze;
        self.head = Head::Start;
        self.start(tok);
    }

    fn start(&mut self, tok: Tok<'a>) {
        match tok {
            // A parenthesized statement: its kind is its first keyword.
            Tok::Open => {}
            Tok::Word(w) => match first_keyword(w) {
                Verb::With => self.head = Head::With { depth: self.depth },
                Verb::Explain => {
                    self.add(StatementKind::Explain);
                    self.head = Head::ExplainOpts { analyze: false };
                }
                Verb::Kind(kind) => {
                    self.add(kind);
                    self.head = Head::Done;
                }
            },
            _ => {
                self.add(StatementKind::Other);
                self.head = Head::Done;
            }
        }
    }

    fn finish(self, summary: &mut SqlSummary) -> Result<(), SqlError> {
        if !self.seen {
            return Ok(());
        }
        if self.depth != 0 {
            return Err(SqlError::Unbalanced);
        }
        let mut kinds = self.kinds;
        // A WITH whose main verb was not found is not understood: the catch-all kind.
        if matches!(self.head, Head::Start | Head::With { .. }) && self.executing {
            kinds.insert(StatementKind::Other);
        }
        summary.statement_count =
            summary.statement_count.checked_add(1).ok_or(SqlError::TooManyStatements)?;
        summary.kinds = summary.kinds.union(kinds);
        summary.functions_flagged |= self.flagged;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::StatementKind::*;
    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    fn set(kinds: &[StatementKind]) -> KindSet {
        kinds.iter().copied().collect()
    }

    fn ok(input: &str) -> (u32, KindSet) {
        let s = analyze(input.as_bytes()).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
        (s.statement_count, s.kinds)
    }

    #[test]
    fn statements_table() {
        let cases: &[(&str, u32, &[StatementKind])] = &[
            ("SELECT 1; DROP TABLE x", 2, &[Select, Drop]),
            ("SELECT 'a;b'' ; x'", 1, &[Select]),
            ("SELECT 1 /* outer /* nested ; */ still */;", 1, &[Select]),
            ("SELECT $fn$ ; DROP TABLE x; $fn$", 1, &[Select]),
            ("-- c; DROP\nSELECT 1", 1, &[Select]),
            ("-- c; DROP\rSELECT 1", 1, &[Select]),
            ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", 1, &[Select, Delete]),
            ("select * into t2 from t", 1, &[Select, Create]),
            // Empty statements.
            ("", 0, &[]),
            ("  ;; ; ", 0, &[]),
            ("/* only */ -- comments", 0, &[]),
            ("SELECT 1;", 1, &[Select]),
            ("SELECT 1;;SELECT 2;", 2, &[Select]),
            // Literals, identifiers and comments hide keywords and semicolons.
            ("SELECT 'DROP TABLE x; DELETE'", 1, &[Select]),
            ("SELECT \"a;b\"\"; DROP\" FROM t", 1, &[Select]),
            ("SELECT E'it\\'s; DROP TABLE x'", 1, &[Select]),
            ("SELECT e'\\\\'; DROP TABLE x", 2, &[Select, Drop]),
            ("SELECT E'a''b; c'", 1, &[Select]),
            ("SELECT $$ ; DROP $$", 1, &[Select]),
            ("SELECT $a$ $b$ ; $a $$ $a$", 1, &[Select]),
            ("SELECT $a_1$ x $a_1$, $_$y$_$", 1, &[Select]),
            ("SELECT U&'d\\0061t' ; DELETE FROM t", 2, &[Select, Delete]),
            ("SELECT U&\"d\\0061t\" FROM t", 1, &[Select]),
            ("SELECT B'0101', X'ff', N'x;y'", 1, &[Select]),
            ("SELECT 'C:\\dir'", 1, &[Select]),
            ("SELECT '\\\\'", 1, &[Select]),
            ("SELECT 'caf\u{e9}' /* \u{2603} */ -- \u{1f600}\n, \"\u{e9}\"", 1, &[Select]),
            ("SELECT 1 /* a */* 2", 1, &[Select]),
            ("SELECT 1 /**/; DROP x", 2, &[Select, Drop]),
            ("SELECT 1 /*/ x */; DROP x", 2, &[Select, Drop]),
            ("SELECT 1 +-- c\n2", 1, &[Select]),
            // `$` continues a word, so these `$$` start no dollar quote.
            ("SELECT a$$ ; DROP TABLE x; SELECT b$$", 3, &[Select, Drop]),
            ("SELECT \"a\"$$ ; DROP TABLE x; $$", 1, &[Select]),
            ("SELECT $1, $2::int, 1.5e-3, .5, 0x1F, 0o17, 0b101, 1_000, 1..2", 1, &[Select]),
            // First keywords.
            ("insert into t values (1)", 1, &[Insert]),
            ("INSERT INTO t (a) SELECT 1", 1, &[Insert]),
            ("UPDATE t SET a = 1", 1, &[Update]),
            ("DELETE FROM t", 1, &[Delete]),
            ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", 1, &[Merge]),
            ("CREATE TABLE t (a int)", 1, &[Create]),
            ("ALTER TABLE t ADD b int", 1, &[Alter]),
            ("DROP TABLE t", 1, &[Drop]),
            ("TRUNCATE t", 1, &[Truncate]),
            ("GRANT SELECT ON t TO r", 1, &[Grant]),
            ("REVOKE ALL ON t FROM r", 1, &[Revoke]),
            ("COPY t TO STDOUT", 1, &[Copy]),
            ("CALL p()", 1, &[Call]),
            ("DO $$BEGIN DELETE FROM t; END$$", 1, &[Do]),
            ("EXECUTE p(1)", 1, &[Execute]),
            ("SET ROLE postgres", 1, &[Set]),
            ("SHOW ALL", 1, &[Show]),
            ("EXPLAIN SELECT 1", 1, &[Explain]),
            ("BEGIN; START TRANSACTION", 2, &[Begin]),
            ("COMMIT; END", 2, &[Commit]),
            ("ROLLBACK; ABORT", 2, &[Rollback]),
            ("VACUUM t", 1, &[Vacuum]),
            ("ANALYZE t; ANALYSE t", 2, &[Analyze]),
            ("LOCK TABLE t", 1, &[Lock]),
            ("LISTEN c", 1, &[Listen]),
            ("NOTIFY c", 1, &[Notify]),
            ("VALUES (1), (2)", 1, &[Select]),
            ("TABLE t", 1, &[Select]),
            ("REINDEX TABLE t", 1, &[Other]),
            ("PREPARE p AS DELETE FROM t", 1, &[Other]),
            ("'x'", 1, &[Other]),
            ("\"select\" 1", 1, &[Other]),
            ("sElEcT 1", 1, &[Select]),
            ("selectx 1", 1, &[Other]),
            // Leading parentheses.
            ("(SELECT 1) UNION (SELECT 2)", 1, &[Select]),
            ("((VALUES (1)))", 1, &[Select]),
            ("(WITH x AS (DELETE FROM t RETURNING 1) SELECT * FROM x)", 1, &[Select, Delete]),
            ("()", 1, &[Other]),
            // WITH.
            ("WITH x AS (SELECT 1) SELECT * FROM x", 1, &[Select]),
            ("with x as (select 1) insert into t select * from x", 1, &[Insert]),
            ("WITH x AS (SELECT 1) UPDATE t SET a = 1", 1, &[Update]),
            ("WITH x AS (SELECT 1) DELETE FROM t", 1, &[Delete]),
            (
                "WITH x AS (SELECT 1) MERGE INTO t USING x ON true WHEN MATCHED THEN DELETE",
                1,
                &[Merge],
            ),
            ("WITH x AS (SELECT 1) VALUES (1)", 1, &[Select]),
            ("WITH x AS (SELECT 1) TABLE x", 1, &[Select]),
            ("WITH x AS (SELECT 1) (SELECT * FROM x)", 1, &[Select]),
            ("WITH x (a, b) AS (SELECT 1, 2), y AS (SELECT 3) SELECT * FROM x, y", 1, &[Select]),
            (
                "WITH x AS MATERIALIZED (SELECT 1), y AS NOT MATERIALIZED (SELECT 2) SELECT 1",
                1,
                &[Select],
            ),
            (
                "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n+1 FROM t WHERE n < 5) \
                 SELECT sum(n) FROM t",
                1,
                &[Select],
            ),
            (
                "WITH x AS (INSERT INTO a VALUES (1) RETURNING *) SELECT * FROM x",
                1,
                &[Select, Insert],
            ),
            ("WITH x AS (UPDATE a SET b = 1 RETURNING *) SELECT 1", 1, &[Select, Update]),
            (
                "WITH x AS (MERGE INTO a USING b ON true WHEN MATCHED THEN DELETE RETURNING *) \
                 SELECT 1",
                1,
                &[Select, Merge],
            ),
            (
                "WITH x AS (SELECT 1), y AS (DELETE FROM t RETURNING 1) SELECT 1",
                1,
                &[Select, Delete],
            ),
            ("WITH x AS ((SELECT 1)) SELECT 1", 1, &[Select]),
            // A CTE named like a verb adds nothing; the real main verb still counts.
            ("WITH delete AS (SELECT 1) SELECT * FROM delete", 1, &[Select]),
            ("WITH x AS (SELECT 1), insert AS (SELECT 2) DELETE FROM t", 1, &[Delete]),
            // Nested WITH in a CTE body: its main verb follows the inner `)`.
            (
                "WITH a AS (WITH b AS (SELECT 1) DELETE FROM t RETURNING *) SELECT * FROM a",
                1,
                &[Select, Delete],
            ),
            ("WITH x AS (SELECT 1)", 1, &[Other]),
            ("WITH x AS (SELECT 1) SELECT 1 INTO t", 1, &[Select, Create]),
            // SELECT INTO and other INTO.
            ("SELECT a INTO TEMP t FROM b", 1, &[Select, Create]),
            ("SELECT 1 UNION SELECT 2 INTO t", 1, &[Select, Create]),
            ("INSERT /* c */ INTO t VALUES (1)", 1, &[Insert]),
            ("SELECT 'into' FROM \"into\"", 1, &[Select]),
            // EXPLAIN.
            ("EXPLAIN ANALYZE DELETE FROM t", 1, &[Explain, Delete]),
            ("EXPLAIN ANALYSE VERBOSE UPDATE t SET a = 1", 1, &[Explain, Update]),
            ("EXPLAIN VERBOSE DELETE FROM t", 1, &[Explain]),
            ("EXPLAIN DELETE FROM t", 1, &[Explain]),
            ("EXPLAIN (ANALYZE, FORMAT JSON) DELETE FROM t", 1, &[Explain, Delete]),
            ("EXPLAIN (FORMAT JSON, analyze true) DELETE FROM t", 1, &[Explain, Delete]),
            ("EXPLAIN (FORMAT JSON) DELETE FROM t", 1, &[Explain]),
            ("EXPLAIN (\"analyze\") DELETE FROM t", 1, &[Explain, Delete]),
            ("EXPLAIN (U&\"\\0061nalyze\") DELETE FROM t", 1, &[Explain, Delete]),
            ("EXPLAIN ANALYZE SELECT * INTO t FROM x", 1, &[Explain, Select, Create]),
            ("EXPLAIN SELECT * INTO t FROM x", 1, &[Explain]),
            (
                "EXPLAIN ANALYZE WITH x AS (DELETE FROM t RETURNING 1) SELECT 1",
                1,
                &[Explain, Select, Delete],
            ),
            ("EXPLAIN WITH x AS (DELETE FROM t RETURNING 1) SELECT 1", 1, &[Explain]),
            ("EXPLAIN (SELECT 1)", 1, &[Explain]),
            ("EXPLAIN ANALYZE (SELECT 1)", 1, &[Explain, Select]),
            ("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", 1, &[Explain, Create]),
            ("EXPLAIN ANALYZE EXECUTE p", 1, &[Explain, Execute]),
            // DML after a parenthesis.
            ("COPY (DELETE FROM t RETURNING *) TO STDOUT", 1, &[Copy, Delete]),
            ("INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 1", 1, &[Insert]),
            ("GRANT SELECT (a), UPDATE (b) ON t TO r", 1, &[Grant]),
            ("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (b) ON DELETE CASCADE", 1, &[Alter]),
            ("SELECT * FROM t WHERE (a) FOR UPDATE", 1, &[Select]),
        ];
        for (input, count, kinds) in cases {
            assert_eq!(ok(input), (*count, set(kinds)), "input {input:?}");
        }
    }

    #[test]
    fn errors_table() {
        use SqlError::*;
        let cases: &[(&[u8], SqlError)] = &[
            (b"SELECT 'unterminated", Unterminated),
            (b"SELECT 'a''", Unterminated),
            (b"SELECT E'x\\'", Unterminated),
            (b"SELECT \"x", Unterminated),
            (b"SELECT \"x\"\"", Unterminated),
            (b"SELECT 1 /* c", Unterminated),
            (b"SELECT 1 /* a /* b */", Unterminated),
            (b"SELECT $$ x", Unterminated),
            (b"SELECT $a$ x $b$", Unterminated),
            (b"SELECT $a$ x $A$", Unterminated),
            (b"SELECT U&\"x", Unterminated),
            (b"SELECT 'a\\", Unterminated),
            (b"SELECT 1\0", Nul),
            (b"SELECT '\0'", Nul),
            (b"-- \0\nSELECT 1", Nul),
            (b"SELECT '\xff'", InvalidUtf8),
            (b"SELECT '\xc3'", InvalidUtf8),
            (b"SELECT \xc3\xa9", NonAscii),
            (b"SELECT a\xc3\xa9", NonAscii),
            (b"SELECT 1\xc2\xa0FROM t", NonAscii),
            (b"SELECT $\xc3\xa9$ x $\xc3\xa9$", NonAscii),
            (b"SELECT 'x' \\g", UnexpectedByte),
            (b"SELECT {}", UnexpectedByte),
            (b"SELECT 1\x01", UnexpectedByte),
            (b"SELECT 1\x7f", UnexpectedByte),
            (b"SELECT $a", UnexpectedByte),
            (b"SELECT $ 1", UnexpectedByte),
            (b"SELECT $", UnexpectedByte),
            (b"SELECT '\\'; DROP TABLE t; --'", AmbiguousBackslash),
            (b"SELECT 'x\\'' ; DROP TABLE t; -- '", AmbiguousBackslash),
            (b"SELECT U&'\\'", AmbiguousBackslash),
            (b"SELECT 1INTO t", BadNumber),
            (b"SELECT 1e", BadNumber),
            (b"SELECT 1e+", BadNumber),
            (b"SELECT 0x", BadNumber),
            (b"SELECT 0xg", BadNumber),
            (b"SELECT 1.5x", BadNumber),
            (b"SELECT $1abc", BadNumber),
            (b"SELECT $1$", BadNumber),
            (b"SELECT 1$a$ x $a$", BadNumber),
            (b"SELECT (1", Unbalanced),
            (b"SELECT 1)", Unbalanced),
            (b"SELECT (1; SELECT 1)", Unbalanced),
            (b")(", Unbalanced),
            (
                b"WITH RECURSIVE t AS (SELECT 1) SEARCH DEPTH FIRST BY a SET o SELECT * FROM t",
                Unsupported,
            ),
            (b"WITH RECURSIVE t AS (SELECT 1) CYCLE a SET c USING p DELETE FROM t", Unsupported),
        ];
        for (input, want) in cases {
            assert_eq!(analyze(input), Err(*want), "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn functions_flagged() {
        let cases: &[(&str, bool)] = &[
            ("SELECT pg_read_file('/etc/passwd')", true),
            ("SELECT PG_CATALOG.PG_SLEEP (10)", true),
            ("SELECT pg_sleep_for('1 hour')", true),
            ("SELECT \"pg_read_binary_file\"('x')", true),
            ("SELECT U&\"\\0070g_read_file\"('x')", true),
            ("SELECT * FROM dblink('host=x', 'DELETE FROM t')", true),
            ("SELECT lo_import('/etc/passwd')", true),
            ("SELECT nextval('s')", true),
            ("SELECT set_config('role', 'postgres', false)", true),
            ("SELECT query_to_xml('DELETE FROM t', true, true, '')", true),
            ("SELECT 1; SELECT pg_terminate_backend(1)", true),
            ("SELECT count(*), now() FROM t", false),
            ("SELECT 'pg_read_file(x)'", false),
            ("SELECT pg_read_file", false),
            ("SELECT my_pg_sleep(1)", false),
            ("-- pg_sleep(1)\nSELECT 1", false),
        ];
        for (input, want) in cases {
            let s = analyze(input.as_bytes()).unwrap();
            assert_eq!(s.functions_flagged, *want, "input {input:?}");
        }
    }

    #[test]
    fn kind_names_and_sets() {
        assert_eq!(StatementKind::ALL.len(), 27);
        for (i, k) in StatementKind::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i);
            assert_eq!(StatementKind::from_name(k.name()), Some(k));
            assert_eq!(k.name(), k.name().to_lowercase());
            assert_eq!(std::format!("{k}"), k.name());
        }
        assert_eq!(StatementKind::from_name("SELECT"), None);
        assert_eq!(StatementKind::from_name("with"), None);
        assert_eq!(StatementKind::from_name(""), None);

        let mut s = KindSet::EMPTY;
        assert!(s.is_empty() && s.iter().next().is_none());
        assert_eq!(s.len(), 0);
        s.insert(Drop);
        s.insert(Select);
        s.insert(Select);
        assert!(s.contains(Select) && s.contains(Drop) && !s.contains(Delete));
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), [Select, Drop]);
        assert!(KindSet::EMPTY.is_subset_of(s));
        assert!(s.is_subset_of(s));
        assert!(s.is_subset_of(KindSet::FULL));
        assert!(!s.is_subset_of(set(&[Select])));
        assert!(set(&[Select]).is_subset_of(s));
        assert_eq!(KindSet::FULL.iter().collect::<Vec<_>>(), StatementKind::ALL);
        assert_eq!(KindSet::FULL.len(), 27);
        assert_eq!(KindSet::from_bits(s.bits()), Some(s));
        assert_eq!(KindSet::from_bits(1 << 27), None);
        assert_eq!(KindSet::from_bits(u32::MAX), None);
        assert_eq!(set(&[Other]).bits(), 1 << 26);
        assert_eq!(set(&[Select, Drop]).union(set(&[Other])), set(&[Select, Drop, Other]));
        assert_eq!(std::format!("{:?}", set(&[Drop, Select])), r#"{"select", "drop"}"#);
    }

    #[test]
    fn error_codes_and_messages() {
        use SqlError::*;
        let all = [
            Nul,
            InvalidUtf8,
            NonAscii,
            UnexpectedByte,
            Unterminated,
            AmbiguousBackslash,
            BadNumber,
            Unbalanced,
            Unsupported,
            TooManyStatements,
        ];
        let mut codes: Vec<&str> = all.iter().map(|e| e.code()).collect();
        for c in ["sql.unterminated", "sql.nul", "sql.unexpected_byte"] {
            assert!(codes.contains(&c), "{c}");
        }
        assert!(codes.iter().all(|c| c.starts_with("sql.")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
        for e in all {
            let msg = std::format!("{e}");
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase());
        }
    }

    #[test]
    fn long_inputs_are_linear() {
        // Long near-miss delimiters and deep nesting: a large input, scanned in one pass.
        let tag = "a".repeat(100_000);
        let body = std::format!("${}b", &tag[1..]).repeat(9);
        let q = std::format!("SELECT ${tag}${body}${tag}$");
        assert_eq!(ok(&q), (1, set(&[Select])));
        let unterminated = std::format!("SELECT ${tag}${body}");
        assert_eq!(analyze(unterminated.as_bytes()), Err(SqlError::Unterminated));
        let deep = std::format!("SELECT {}1{}", "(".repeat(500_000), ")".repeat(500_000));
        assert_eq!(ok(&deep), (1, set(&[Select])));
        let comments = std::format!("SELECT 1 {} x", "/*".repeat(500_000));
        assert_eq!(analyze(comments.as_bytes()), Err(SqlError::Unterminated));
    }

    /// Fragments that exercise the tokenizer's and classifier's states when concatenated.
    const PIECES: &[&str] = &[
        "SELECT ", "WITH ", "x AS ", "(", ")", "DELETE ", "INTO ", "EXPLAIN ", "ANALYZE ", "; ",
        "'", "E'", "\\", "$$", "$a$", "--", "\n", "/*", "*/", "\"", "1", "e", "$1", ",", "U&",
        "pg_sleep", "SEARCH ", "é",
    ];

    proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..96)) {
            if let Ok(s) = analyze(&input) {
                prop_assert!(s.kinds.is_subset_of(KindSet::FULL));
                prop_assert!(s.statement_count as usize <= input.len());
            }
        }

        #[test]
        fn never_panics_sql_shaped(
            input in proptest::collection::vec(proptest::sample::select(PIECES), 0..24),
        ) {
            let _ = analyze(input.concat().as_bytes());
        }

        #[test]
        fn dollar_quote_hides_anything(
            body in "[ -~\n]{0,40}",
            kw in prop_oneof![Just("DROP"), Just("DELETE"), Just(";"), Just("$"), Just("'")],
        ) {
            let body = std::format!("{body}{kw}");
            prop_assume!(!body.contains("$q$"));
            let q = std::format!("SELECT $q${body}$q$");
            prop_assert_eq!(ok(&q), (1, set(&[Select])));
        }

        #[test]
        fn comment_hides_anything(body in "[ -~\t]{0,40}") {
            let q = std::format!("SELECT 1 -- {body}\n");
            prop_assert_eq!(ok(&q), (1, set(&[Select])));
            // Without `*` the body can neither open nor close a block comment.
            let body = body.replace('*', "+");
            let q = std::format!("SELECT 1 /* {body} */");
            prop_assert_eq!(ok(&q), (1, set(&[Select])));
        }

        #[test]
        fn string_hides_anything(body in "[ -~\n]{0,40}") {
            // Quotes doubled, backslashes avoided (they are checked separately).
            let body = body.replace('\\', "").replace('\'', "''");
            let q = std::format!("SELECT '{body}'");
            prop_assert_eq!(ok(&q), (1, set(&[Select])));
            let q = std::format!("SELECT E'{}'", body.replace('x', "\\'"));
            prop_assert_eq!(ok(&q), (1, set(&[Select])));
        }

        #[test]
        fn statements_are_counted(n in 1usize..20, trailing in any::<bool>()) {
            let mut q = core::iter::repeat_n("SELECT 1", n).collect::<Vec<_>>().join("; ");
            if trailing {
                q.push(';');
            }
            prop_assert_eq!(ok(&q), (u32::try_from(n).unwrap(), set(&[Select])));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Names: functions called and tables referenced
// ---------------------------------------------------------------------------------------------

/// Built-in deny list of PostgreSQL functions an agent should never call through a query tool,
/// checked by `sql:` constraints unless a policy says `dangerous_functions: allow`. Matched on
/// the last name part, so `pg_catalog.pg_sleep` is caught too.
pub const DANGEROUS_FUNCTIONS: &[&str] = &[
    // Read or write server files.
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_file_write",
    "pg_execute_server_program",
    // Large objects move data between the server's filesystem and the database.
    "lo_import",
    "lo_export",
    "lo_get",
    "lo_put",
    "lo_from_bytea",
    "lo_unlink",
    // Connections to other databases.
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_send_query",
    // Denial of service and server control.
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_advisory_lock",
    // Settings and sequences: writes hidden in a SELECT. (`current_setting` only reads, and
    // everyday queries use it, so it is not listed.)
    "set_config",
    "nextval",
    "setval",
    // Whole-database exports.
    "query_to_xml",
];

/// A possibly qualified name (`name`, `schema.name`, `catalog.schema.name`) as written.
#[derive(Clone, Copy, Debug)]
pub struct SqlName<'a> {
    /// Parts, first to last; `(raw body, quoted)`. Unused slots are empty.
    parts: [(&'a [u8], bool); 3],
    count: usize,
}

impl<'a> SqlName<'a> {
    fn part(&self, index: usize) -> Option<(&'a [u8], bool)> {
        if index < self.count { self.parts.get(index).copied() } else { None }
    }

    /// Whether the last part is `name` (lowercase): unquoted parts fold case as PostgreSQL
    /// does; quoted parts compare exactly.
    pub fn last_eq(&self, name: &[u8]) -> bool {
        self.count
            .checked_sub(1)
            .and_then(|last| self.part(last))
            .is_some_and(|(body, quoted)| part_eq(body, quoted, name))
    }

    /// Whether this name could denote the (lowercase, dotted) `entry`: the last parts are
    /// equal and any qualifiers written on both sides agree. `secrets` may be `public.secrets`
    /// and vice versa. For deny lists: a possible match denies.
    pub fn may_be(&self, entry: &[u8]) -> bool {
        let mut index = self.count;
        for expected in entry.rsplit(|&b| b == b'.') {
            let Some(next) = index.checked_sub(1) else { return true };
            index = next;
            match self.part(index) {
                Some((body, quoted)) if part_eq(body, quoted, expected) => {}
                _ => return false,
            }
        }
        true
    }

    /// Whether this name surely denotes `entry` (lowercase, dotted): the last parts are equal
    /// and every qualifier written in the query is written in `entry` too, where an unqualified
    /// `entry` stands for the `public` schema. For allow lists: only a sure match allows.
    pub fn surely_is(&self, entry: &[u8]) -> bool {
        let entry_parts = entry.split(|&b| b == b'.').count();
        if self.count > entry_parts {
            // `public.users` for the entry `users`: the default schema is named explicitly.
            let qualifier_is_public = self.count == 2
                && entry_parts == 1
                && self.part(0).is_some_and(|(body, quoted)| part_eq(body, quoted, b"public"));
            return qualifier_is_public && self.last_eq(entry);
        }
        self.count == entry_parts && self.may_be(entry)
    }
}

/// `body` (quoted or not) equals the lowercase `expected`; an `expected` ending in `*` is a
/// prefix (`pg_*` is every name starting with `pg_`).
fn part_eq(body: &[u8], quoted: bool, expected: &[u8]) -> bool {
    if let Some(prefix) = expected.strip_suffix(b"*") {
        let head = body.get(..prefix.len());
        // A quoted name with `""` inside cannot start with a plain prefix reliably; compare the
        // raw bytes, which only ever under-matches for names containing quotes.
        return head.is_some_and(|head| {
            if quoted { head == prefix } else { head.eq_ignore_ascii_case(prefix) }
        });
    }
    if !quoted {
        return body.eq_ignore_ascii_case(expected);
    }
    // A quoted body compares exactly, after turning each `""` back into `"`.
    let mut rest = body;
    let mut want = expected;
    while let Some((&byte, after)) = rest.split_first() {
        let after = if byte == b'"' { after.strip_prefix(b"\"").unwrap_or(after) } else { after };
        match want.split_first() {
            Some((&expected_byte, more)) if expected_byte == byte => want = more,
            _ => return false,
        }
        rest = after;
    }
    want.is_empty()
}

/// A function call or a table reference found in a query.
#[derive(Clone, Copy, Debug)]
pub enum SqlEvent<'a> {
    /// `name(`: a function call (or a type modifier like `varchar(10)`, which is harmless).
    Function(SqlName<'a>),
    /// A table after `FROM`, `JOIN`, `UPDATE`, `INTO`, `TABLE`, `USING`, `TRUNCATE`, `COPY`,
    /// `LOCK`, in comma-separated `FROM`/`TRUNCATE` lists too. CTE names are reported like
    /// tables: the classifier cannot tell them apart.
    Table(SqlName<'a>),
}

/// Keywords that take `(` without being a function call.
const NOT_FUNCTIONS: &[&[u8]] = &[
    b"in",
    b"values",
    b"exists",
    b"as",
    b"any",
    b"all",
    b"some",
    b"array",
    b"row",
    b"over",
    b"filter",
    b"within",
    b"on",
    b"and",
    b"or",
    b"not",
    b"where",
    b"select",
    b"from",
    b"join",
    b"returning",
    b"when",
    b"then",
    b"else",
    b"case",
    b"is",
    b"like",
    b"ilike",
    b"between",
    b"using",
    b"into",
    b"table",
    b"with",
    b"recursive",
    b"lateral",
    b"set",
    b"by",
    b"group",
    b"order",
    b"partition",
    b"having",
    b"limit",
    b"offset",
    b"union",
    b"intersect",
    b"except",
    b"distinct",
    b"explain",
    b"analyze",
    b"do",
    b"update",
    b"delete",
    b"insert",
    b"merge",
];

/// Keywords after which a name is a table.
fn table_keyword(word: &[u8]) -> Option<TableContext> {
    const LIST: &[&[u8]] = &[b"from", b"truncate"];
    const SINGLE: &[&[u8]] =
        &[b"join", b"update", b"into", b"table", b"using", b"copy", b"lock", b"only"];
    if LIST.iter().any(|k| is_kw(word, k)) {
        Some(TableContext::List)
    } else if SINGLE.iter().any(|k| is_kw(word, k)) {
        Some(TableContext::Single)
    } else {
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TableContext {
    /// One table follows.
    Single,
    /// A comma-separated list of tables follows (`FROM a, b`, `TRUNCATE a, b`).
    List,
}

/// Like [`analyze`], and reports every function call and table reference to `visit`.
///
/// # Errors
///
/// What [`analyze`] returns, and [`SqlError::UnicodeEscape`] for `U&"..."` identifiers.
pub fn analyze_with(
    input: &[u8],
    visit: &mut dyn FnMut(SqlEvent<'_>),
) -> Result<SqlSummary, SqlError> {
    let summary = analyze(input)?;
    let mut lexer = Lexer { src: input, pos: 0 };
    // The name being read, the table context before it, and the list context in force.
    let mut name: Option<SqlName<'_>> = None;
    let mut expect_part = false;
    let mut context: Option<TableContext> = None;
    let mut name_context: Option<TableContext> = None;
    let mut list: Option<u32> = None; // paren depth of an open FROM/TRUNCATE list
    let mut depth: u32 = 0;
    let mut after_comma_in_list = false;
    while let Some(tok) = lexer.next_token()? {
        // Name parts: Word or QuotedIdent, joined by Dot.
        let part = match tok {
            Tok::Word(w) => Some((w, false)),
            Tok::QuotedIdent { unicode: true, .. } => return Err(SqlError::UnicodeEscape),
            Tok::QuotedIdent { body, .. } => Some((body, true)),
            _ => None,
        };
        if let Some(part) = part {
            match (&mut name, expect_part) {
                (Some(current), true) if current.count < 3 => {
                    if let Some(slot) = current.parts.get_mut(current.count) {
                        *slot = part;
                    }
                    current.count += 1;
                    expect_part = false;
                    continue;
                }
                _ => {}
            }
            // A new word ends any name in progress (an alias, a keyword).
            if let Some(done) = name.take() {
                report(done, name_context, false, visit);
            }
            let (word, quoted) = part;
            if !quoted && let Some(next) = table_keyword(word) {
                // `FROM ONLY t`, `LOCK TABLE t`: the context carries over.
                context = Some(if context == Some(TableContext::List) {
                    TableContext::List
                } else {
                    next
                });
                if next == TableContext::List {
                    list = Some(depth);
                }
                after_comma_in_list = false;
                continue;
            }
            if !quoted
                && (is_kw(word, b"if") || is_kw(word, b"not") || is_kw(word, b"exists"))
                && context.is_some()
            {
                continue; // `DROP TABLE IF EXISTS t`
            }
            let table_here = context.is_some() || after_comma_in_list;
            name_context =
                if table_here { Some(context.unwrap_or(TableContext::List)) } else { None };
            name = Some(SqlName { parts: [part, (&[], false), (&[], false)], count: 1 });
            context = None;
            after_comma_in_list = false;
            // Clause keywords end a FROM list.
            if !quoted && list.is_some() && !table_here && is_clause_keyword(word) {
                list = None;
            }
            continue;
        }
        if let Tok::Dot = tok
            && name.is_some()
        {
            expect_part = true;
            continue;
        }
        if let Some(done) = name.take() {
            report(done, name_context, matches!(tok, Tok::Open), visit);
        }
        expect_part = false;
        context = None;
        match tok {
            Tok::Open => depth = depth.saturating_add(1),
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if list.is_some_and(|d| d > depth) {
                    list = None;
                }
            }
            Tok::Semi => {
                list = None;
                depth = 0;
            }
            Tok::Punct if list == Some(depth) => {
                // Only a comma continues a list; the lexer does not tell punctuation apart, so
                // read the byte before the current position.
                after_comma_in_list = lexer.src.get(lexer.pos.wrapping_sub(1)) == Some(&b',');
            }
            _ => {}
        }
    }
    if let Some(done) = name.take() {
        report(done, name_context, false, visit);
    }
    Ok(summary)
}

/// Clause keywords that end a `FROM` list.
fn is_clause_keyword(word: &[u8]) -> bool {
    const CLAUSES: &[&[u8]] = &[
        b"where",
        b"group",
        b"order",
        b"limit",
        b"offset",
        b"having",
        b"window",
        b"union",
        b"intersect",
        b"except",
        b"returning",
        b"on",
        b"set",
        b"values",
        b"select",
        b"fetch",
        b"for",
    ];
    CLAUSES.iter().any(|k| is_kw(word, k))
}

/// Reports a finished name: a function if `(` follows (unless it is a keyword, or a table
/// with a column list), else a table if it stands where a table does.
fn report(
    name: SqlName<'_>,
    context: Option<TableContext>,
    before_open: bool,
    visit: &mut dyn FnMut(SqlEvent<'_>),
) {
    let keyword = name.count == 1
        && name
            .part(0)
            .is_some_and(|(body, quoted)| !quoted && NOT_FUNCTIONS.iter().any(|k| is_kw(body, k)));
    if before_open {
        match context {
            // `INSERT INTO t (a, b)`, `CREATE TABLE t (...)`: a table with a column list.
            Some(TableContext::Single) if !keyword => visit(SqlEvent::Table(name)),
            // `FROM generate_series(1, 3)`: a function in FROM.
            _ if !keyword => visit(SqlEvent::Function(name)),
            _ => {}
        }
    } else if context.is_some() && !keyword {
        visit(SqlEvent::Table(name));
    }
}

#[cfg(test)]
mod name_tests {
    extern crate std;
    use super::{SqlError, SqlEvent, analyze_with};
    use std::string::String;
    use std::vec::Vec;

    fn events(sql: &str) -> Result<Vec<String>, SqlError> {
        let mut out = Vec::new();
        analyze_with(sql.as_bytes(), &mut |event| {
            let (tag, name) = match event {
                SqlEvent::Function(name) => ("f", name),
                SqlEvent::Table(name) => ("t", name),
            };
            let mut text = String::from(tag);
            text.push(':');
            for index in 0..name.count {
                if let Some((body, quoted)) = name.part(index) {
                    if index > 0 {
                        text.push('.');
                    }
                    if quoted {
                        text.push('"');
                    }
                    text.push_str(core::str::from_utf8(body).unwrap());
                }
            }
            out.push(text);
        })?;
        Ok(out)
    }

    #[test]
    fn functions_and_tables_are_reported() {
        let cases: &[(&str, &[&str])] = &[
            ("SELECT id FROM users", &["t:users"]),
            (
                "SELECT * FROM public.users u, orders o WHERE u.id = o.uid",
                &["t:public.users", "t:orders"],
            ),
            (
                "SELECT a FROM t1 JOIN t2 ON t1.id = t2.id LEFT JOIN t3 USING (id)",
                &["t:t1", "t:t2", "t:t3"],
            ),
            ("SELECT pg_sleep(1)", &["f:pg_sleep"]),
            ("SELECT pg_catalog.pg_sleep(1)", &["f:pg_catalog.pg_sleep"]),
            ("SELECT \"pg_sleep\"(1)", &["f:\"pg_sleep"]),
            ("SELECT 'pg_sleep(1)'", &[]),
            ("SELECT 1 -- pg_sleep(1)", &[]),
            ("SELECT x FROM generate_series(1, 3) x", &["f:generate_series"]),
            ("INSERT INTO logs (a, b) VALUES (1, 2)", &["t:logs"]),
            (
                "UPDATE accounts SET balance = 0 WHERE id IN (SELECT id FROM vip)",
                &["t:accounts", "t:vip"],
            ),
            ("DELETE FROM sessions", &["t:sessions"]),
            ("TRUNCATE a, b", &["t:a", "t:b"]),
            ("DROP TABLE IF EXISTS secrets", &["t:secrets"]),
            ("SELECT count(*) FROM (SELECT 1) s", &["f:count"]),
            ("COPY users TO STDOUT", &["t:users"]),
        ];
        for (sql, want) in cases {
            assert_eq!(events(sql).unwrap(), *want, "{sql}");
        }
    }

    #[test]
    fn unicode_escaped_identifiers_are_refused() {
        assert_eq!(events("SELECT U&\"\\0070g_sleep\"(1)"), Err(SqlError::UnicodeEscape));
    }

    #[test]
    fn names_compare_like_postgresql() {
        let mut seen = Vec::new();
        analyze_with(
            b"SELECT PG_SLEEP(1), \"PG_SLEEP\"(1), \"a\"\"b\"(1) FROM Public.Users",
            &mut |event| {
                let (SqlEvent::Function(name) | SqlEvent::Table(name)) = event;
                seen.push((
                    name.last_eq(b"pg_sleep"),
                    name.may_be(b"users"),
                    name.surely_is(b"users"),
                    name.last_eq(b"a\"b"),
                ));
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            [
                (true, false, false, false),
                (false, false, false, false),
                (false, false, false, true),
                (false, true, true, false),
            ]
        );
    }
}
