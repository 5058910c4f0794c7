//! The `sql` constraint kind: a PostgreSQL tokenizer that classifies the statements in a string
//! and reports the functions it calls and the tables it names.
//!
//! A policy says, for example, "argument `query` may contain only `select` statements, at most
//! one, touching only tables `orders` and `customers`". The gateway calls [`analyze`] (or
//! [`analyze_with`], to see names) on the argument (already unescaped from JSON) and checks
//! [`SqlSummary::statement_count`], [`KindSet::is_subset_of`] and the [`SqlEvent`]s.
//!
//! **This is a classifier for policy, not a parser, and not a security boundary on its own.**
//! It finds statement boundaries as the PostgreSQL lexer would (for any input that this module
//! accepts; anything else is an error), reads each statement's verb, and finds names in the
//! positions listed below; it does not know what functions, triggers, rules or views do. The
//! real defence is a database role that cannot do what the policy forbids (for example a
//! read-only role, or `default_transaction_read_only`, with only the tables it needs granted);
//! this module lets the gateway refuse early and explain why.
//!
//! # Dialect
//!
//! Modelled on PostgreSQL's lexer (`scan.l`), with `client_encoding` UTF-8:
//!
//! - whitespace: space, tab, LF, CR, FF, VT;
//! - `--` comments to the end of the line (LF or CR); `/* */` comments, which nest;
//! - `'...'` strings with `''`; `E'...'` strings, where `\` also escapes any byte; `N'`, `B'`
//!   and `X'` prefixes lex as a word followed by a `'...'` string, which gives the same
//!   boundaries;
//! - `"..."` quoted identifiers with `""`;
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
//! # Names: functions and tables
//!
//! [`analyze_with`] reports, in source order, each [`SqlEvent::Function`] and
//! [`SqlEvent::Table`] as a [`SqlName`]: one to three dot-separated parts
//! (`catalog.schema.name`; of a longer name, the last three), each the raw input bytes and
//! whether it was quoted. Whitespace and comments between the parts and the `.` are allowed, as
//! in PostgreSQL. A name is compared with [`SqlName::last_eq`] (functions),
//! [`SqlName::eq_qualified`] or [`SqlName::may_be`] (deny lists: could it be that object?) and
//! [`SqlName::surely_is`] (allow lists: is it surely that object?) by PostgreSQL's rules:
//! unquoted parts fold to lowercase, quoted parts are exact (`"PG_SLEEP"` is not `pg_sleep`),
//! and both are truncated to 63 bytes as PostgreSQL truncates identifiers; a pattern part may
//! end in `*` (a prefix).
//! Names are reported even where nothing runs now (plain `EXPLAIN`, a column `DEFAULT`, a
//! `CREATE FUNCTION ... RETURN` body, the new function's own name in `CREATE FUNCTION f(...)`):
//! over-reporting can only deny.
//!
//! The rules work on tokens, one parenthesis level at a time; each level remembers which clause
//! it is in (a `FROM` list, a table target, a CTE list, an expression), restored when a nested
//! parenthesis closes. Keywords are unquoted one-part words; `"from"` or `t.from` is a name.
//!
//! **Function**: a name directly followed by `(` (comments and whitespace between are allowed),
//! except:
//!
//! - unquoted PostgreSQL *reserved* keywords (`IN (`, `ANY (`, `AS (`, `ON (`, `USING (`,
//!   `CAST (`, `CHECK (`, `UNIQUE (`, `DISTINCT ON (`, `ARRAY (`, `CURRENT_TIMESTAMP (3)`...),
//!   which PostgreSQL never reads as function names;
//! - unquoted column-name keywords that are syntax, not calls: `EXISTS (`, `VALUES (`,
//!   `ROW (`, `SETOF`, `BETWEEN`, and type names with a modifier (`varchar(10)`,
//!   `numeric(10, 2)`, `timestamp(3)`, `interval(6)`, `char`, `bit`, `float`, ...);
//! - the first word of a statement (`EXPLAIN (`, `VACUUM (`, `COPY (`): a statement cannot
//!   start with a call;
//! - a name directly after `AS` or `::` (a type modifier, `CAST(x AS vector(3))`, or an
//!   alias), or after `PREPARE`/`EXECUTE` (a prepared statement's name);
//! - `FILTER (` and `OVER (` directly after `)`; `ON CONFLICT (` (outside a `FROM` clause);
//!   `PRIMARY KEY (` and `FOREIGN KEY (`; `GROUP BY (`, `ORDER BY (`, `PARTITION BY (`;
//!   `AT TIME ZONE (`; `UPDATE SET (` and `UPDATE t [AS] x SET (`; `THEN INSERT (` in a
//!   `MERGE`; `REPEATABLE (` after a `FROM` item; `JOIN (` directly after a `FROM` item;
//!   anything at the top level of `GRANT` and `REVOKE`, which hold no expressions
//!   (`GRANT UPDATE (a)`, `ON FUNCTION f(int)`);
//! - column lists: `INSERT INTO t (a, b)`, `COPY t (a)`, `CREATE TABLE t (...)`,
//!   `REFERENCES t (a)` (the name is a Table), an alias's column list (`FROM f() AS g(a, b)`,
//!   `FROM t x(a)`, `INSERT INTO t AS x (a)`), a CTE's column list (`WITH x(a) AS (...)`);
//!   `WITH x AS [NOT] MATERIALIZED (`.
//!
//! The parentheses' contents are read as usual, so calls inside any of these are reported.
//! SQL-syntax functions are reported under their keyword (`coalesce`, `extract`,
//! `substring`, `trim`, `overlay`, `position`, `xmlelement`, `json_object`, `grouping`...),
//! and so are some words that introduce a list but are not calls (`GROUPING SETS (`,
//! `CUBE (`, `ROLLUP (`, `a LIKE (b)`, `x OVERLAPS (y)`, `PARTITION BY RANGE (a)`,
//! `INCLUDE (a)`, `CREATE INDEX i ON t (a)`, `USING btree (a)`, `ON CONFLICT (a)` after
//! `INSERT ... SELECT ... FROM t`, `JOIN (` inside an `ON` condition (also a join), a
//! non-keyword type with a modifier outside `AS`/`::`): these false positives can only deny.
//!
//! **Table**: the name in a table position:
//!
//! - `FROM` and every join (`[NATURAL] [INNER | CROSS | {LEFT | RIGHT | FULL} [OUTER]] JOIN`),
//!   and the comma-separated list after `FROM` at the same depth, until a clause keyword at
//!   that depth (`WHERE`, `GROUP`, `HAVING`, `WINDOW`, `ORDER`, `LIMIT`, `OFFSET`, `FETCH`,
//!   `FOR`, `UNION`, `INTERSECT`, `EXCEPT`, `RETURNING`, `INTO`, `DO`, and `WHEN` outside a
//!   `CASE`); `ON` conditions and `USING (columns)` stay in the list, so `FROM a JOIN b ON
//!   c, d` names `d`; `ONLY`, `LATERAL`, `ROWS FROM` and a trailing `*` are skipped, and so is
//!   one alias (`[AS] x`, with an optional column list);
//! - `FROM (` opens a nested level that is a table list too (`FROM (a JOIN b ON ...)`,
//!   `FROM ONLY (t)`) until `SELECT`, `VALUES`, `WITH` or `TABLE` makes it a subquery: a
//!   `FROM (subquery)` is not a table, the tables inside it are;
//! - a name followed by `(` in a table list is a Function (`FROM generate_series(1, 3)`,
//!   `JOIN LATERAL f(x)`, the `TABLESAMPLE` method), not a Table;
//! - `USING` after `DELETE FROM t` or `MERGE INTO t` starts a table list; after a join it is a
//!   column list;
//! - single targets, with an optional alias where PostgreSQL allows one: `UPDATE [ONLY] t`
//!   (where `UPDATE` is a statement verb, including after a CTE list or `(`, or a rule action
//!   after `DO`, `INSTEAD` or `ALSO` in `CREATE RULE`; not `FOR UPDATE`, `ON CONFLICT DO
//!   UPDATE`, `THEN UPDATE`, `ON UPDATE`), `INSERT INTO t`, `MERGE INTO [ONLY] t`,
//!   `SELECT ... INTO [TEMP | TEMPORARY | UNLOGGED | LOCAL | GLOBAL] [TABLE] t` (a modifier
//!   only if a name follows it: `INTO temp FROM` creates `temp`), `COPY [BINARY] t`,
//!   `REFERENCES t`;
//! - lists: `TABLE t` and every `... TABLE [IF [NOT] EXISTS] [ONLY] a, b` (`CREATE TABLE`,
//!   `ALTER TABLE`, `DROP TABLE`, `LOCK TABLE`, `TRUNCATE TABLE`, `GRANT ... ON TABLE`,
//!   `COMMENT ON TABLE`...), `TRUNCATE a, b` and `LOCK a, b` (as statement verbs): a `,`
//!   directly after a target name continues the list;
//! - `FROM` is not a table position in `IS [NOT] DISTINCT FROM`, inside the parentheses of
//!   `EXTRACT`, `SUBSTRING`, `TRIM` and `OVERLAY`, and at the top level of `COPY`, `REVOKE`,
//!   `FETCH` and `MOVE` statements (a file, role or cursor follows).
//!
//! **CTE names are reported as tables when referenced**: in
//! `WITH x AS (SELECT * FROM orders) SELECT * FROM x`, the events are `Table(orders)` and
//! `Table(x)` (the definition `WITH x` is not reported). This module does not resolve scopes,
//! and a policy cannot tell a CTE from a table of the same name. For a table *deny* list this
//! is exact or safe; for a table *allow* list it fails closed: a query using CTEs is denied
//! unless the policy also lists the CTE names (`x` above) as tables, so policy authors either
//! add the CTE names their agents use to the allow list or ask for queries without `WITH`.
//!
//! Not reported as tables (combine a table list with a statement-kind allow list, which
//! these statements do not pass unless allowed): `VACUUM`, `ANALYZE`, `CLUSTER`, `REINDEX`
//! without `TABLE`, `CREATE INDEX ... ON t`, `CREATE TRIGGER ... ON t`, `GRANT ... ON t`
//! without `TABLE`, `REFRESH MATERIALIZED VIEW`, views and sequences named by `CREATE VIEW`,
//! `DROP VIEW`, `ALTER SEQUENCE`, ..., `LIKE t`, `INHERITS (t)` and `PARTITION OF t` in
//! `CREATE TABLE`. Names inside string arguments (`'t'::regclass`, `table_to_xml('t', ...)`)
//! are not names; the functions that read tables named in strings are on
//! [`DANGEROUS_FUNCTIONS`].
//!
//! **Hiding**: comments and literals hide names, exactly as PostgreSQL reads them.
//! `SELECT 'pg_sleep(1)'` and `SELECT $$pg_sleep(1)$$` call nothing. `SELECT pg_/**/sleep(1)`
//! is the two words `pg_` and `sleep` (PostgreSQL too would not read `pg_sleep`): it reports
//! `Function(sleep)`, and PostgreSQL rejects the statement. `SELECT "pg_sleep"(1)` is the
//! function `pg_sleep`; `SELECT "PG_SLEEP"(1)` is a function named `PG_SLEEP`, which is not
//! `pg_sleep` (PostgreSQL would not find it either); `SELECT PG_SLEEP(1)` is `pg_sleep`.
//! `U&"..."` and `U&'...'` can spell any name or string with escapes and are rejected
//! ([`SqlError::UnicodeEscape`]).
//!
//! # Dangerous functions
//!
//! [`DANGEROUS_FUNCTIONS`] is a built-in deny list of PostgreSQL functions with effects outside
//! the query (server files, large objects, other servers, other sessions, configuration,
//! replication, sequences, sleeping, locks) or that run SQL or read tables named in a string,
//! out of sight of this classifier. [`SqlSummary::functions_flagged`] is true when a reported
//! [`SqlEvent::Function`]'s last part matches an entry ([`SqlName::is_dangerous`]), in any
//! schema: `pg_catalog.pg_sleep`, `PG_SLEEP`, `"pg_sleep"` and `myschema.pg_sleep` are
//! flagged, `"PG_SLEEP"` and `my_pg_sleep` are not. False does not mean safe: user-defined
//! functions, procedures, triggers and `DO` blocks can do anything.
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
//! - `U&"..."` identifiers and `U&'...'` strings (any case of `u`): their escapes can spell any
//!   name, so names could not be checked.
//! - Bytes that start no PostgreSQL token (`\`, `{`, `}`, control bytes, `$` that starts
//!   neither a parameter nor a dollar quote); a number or parameter directly followed by a
//!   letter, digit, `_` or `$` (`1INTO`, `$1abc`), which PostgreSQL 15 and later reject and
//!   older versions split into two tokens.
//! - Unbalanced parentheses within a statement (so `CREATE RULE` with several actions in
//!   parentheses is rejected: its `;` splits it).
//! - `SEARCH` or `CYCLE` directly after `)` (the `WITH RECURSIVE` search and cycle clauses),
//!   whose column lists could hide where the main statement starts.
//! - More than [`MAX_CONTEXT_DEPTH`] nested parentheses that each interrupt a clause whose
//!   state must be restored (subqueries in `FROM`, CTE bodies, calls in `FROM`, `ON (...)`):
//!   [`SqlError::TooDeep`]. Plain nested expressions (`((((1))))`) cost nothing.
//!
//! [`analyze_with`] may have delivered events before it returns an error; the error is the
//! answer, and the caller must deny.
//!
//! # Not protected against
//!
//! - What functions, procedures, triggers, rules, views and `DO` blocks do: `SELECT f()` can
//!   write, `INSERT` can fire a trigger that deletes, a view can read any table. Code inside
//!   dollar quotes is opaque.
//! - `EXECUTE` of a prepared statement (its text is not here), `SET ROLE`, `SELECT ... FOR
//!   UPDATE` row locks, `COPY ... PROGRAM`, `LOAD`: they are classified by verb only.
//! - Name resolution: `search_path` decides which schema an unqualified name means (see
//!   [`SqlName::eq_qualified`]), and only the database knows whether a name is a table, a
//!   view or a CTE.
//! - SQL-standard function bodies (`BEGIN ATOMIC ... END`) are split at their `;`, which gives
//!   more statements and kinds than really run (safe, but may deny).
//! - Commas inside `[...]` at the depth of a `FROM` clause (`ON a.x = ARRAY[1, b.y]`) are read
//!   as list separators, so the next name is over-reported as a table (safe, but may deny).
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
    /// A function on [`DANGEROUS_FUNCTIONS`] is called (see [`SqlName::is_dangerous`]); false
    /// does not mean that no function with side effects is called.
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
    /// A `U&"..."` identifier or `U&'...'` string: its escapes can spell any name.
    UnicodeEscape,
    /// More than [`MAX_CONTEXT_DEPTH`] nested parentheses interrupt a clause whose state must
    /// be restored (subqueries in `FROM`, CTE bodies, ...).
    TooDeep,
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
            Self::TooDeep => "sql.too_deep",
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
            Self::UnicodeEscape => "sql uses a u& unicode escape, which can hide names",
            Self::TooDeep => "sql nests subqueries or clauses too deeply to read its names",
        })
    }
}

/// Classifies every statement in `input`; see the module documentation for the rules.
///
/// Runs in time linear in `input.len()`, with no allocation and no recursion.
///
/// # Errors
///
/// Any [`SqlError`]: the input cannot be classified with certainty, and the caller must deny.
pub fn analyze(input: &[u8]) -> Result<SqlSummary, SqlError> {
    analyze_with(input, &mut |_| {})
}

/// Like [`analyze`], and calls `visit` with every function call and table name, in source
/// order (see "Names" in the module documentation for the rules).
///
/// The names borrow from `input`, so `visit` may keep them. Runs in time linear in
/// `input.len()` (plus what `visit` costs), with no allocation and no recursion.
///
/// # Errors
///
/// The same as [`analyze`]. `visit` may have been called before an error is found; the error
/// is the answer and the caller must deny, whatever the events said.
pub fn analyze_with<'a>(
    input: &'a [u8],
    visit: &mut dyn FnMut(SqlEvent<'a>),
) -> Result<SqlSummary, SqlError> {
    if input.contains(&0) {
        return Err(SqlError::Nul);
    }
    if core::str::from_utf8(input).is_err() {
        return Err(SqlError::InvalidUtf8);
    }
    let mut summary =
        SqlSummary { statement_count: 0, kinds: KindSet::EMPTY, functions_flagged: false };
    let mut sink = Sink { visit, dangerous: false };
    let mut lexer = Lexer { src: input, pos: 0 };
    let mut stmt = Stmt::new();
    // Terminates: every token consumes at least one byte.
    while let Some(tok) = lexer.next_token()? {
        if let Tok::Semi = tok {
            stmt.finish(&mut summary, &mut sink)?;
            stmt = Stmt::new();
        } else {
            stmt.feed(tok, &mut sink)?;
        }
    }
    stmt.finish(&mut summary, &mut sink)?;
    summary.functions_flagged = sink.dangerous;
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
    /// A quoted identifier: the raw text between the quotes, `""` not unescaped.
    QuotedIdent(&'a [u8]),
    /// A string, dollar-quoted string, number or parameter.
    Value,
    Open,
    Close,
    Semi,
    /// `.`, which joins name parts (`schema.table`).
    Dot,
    /// Any other punctuation byte.
    Punct(u8),
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
                b'"' => Tok::QuotedIdent(self.quoted_ident()?),
                // Only at the start of a token: inside a word, `e'` is the word then a string.
                b'e' | b'E' if next == Some(b'\'') => {
                    self.pos += 1;
                    self.pos =
                        scan_quoted(self.src, self.pos + 1, true).ok_or(SqlError::Unterminated)?;
                    Tok::Value
                }
                // `U&'...'` and `U&"..."`: escapes can spell any name or string.
                b'u' | b'U'
                    if next == Some(b'&')
                        && matches!(self.at(self.pos + 2), Some(b'\'' | b'"')) =>
                {
                    return Err(SqlError::UnicodeEscape);
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
                    Tok::Punct(b)
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

    /// A `'...'` string (also the body of `N'...'`, `B'...'`, `X'...'`).
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
    /// The current word is a statement verb (the first keyword, the main verb after a `WITH`,
    /// or a data-modifying verb after a parenthesis).
    verb: bool,
    names: Names<'a>,
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
            verb: false,
            names: Names::new(),
        }
    }

    fn add(&mut self, kind: StatementKind) {
        if self.executing {
            self.kinds.insert(kind);
        }
    }

    fn feed(&mut self, tok: Tok<'a>, sink: &mut Sink<'_, 'a>) -> Result<(), SqlError> {
        self.seen = true;
        self.verb = false;
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
                self.verb = true;
            }
            let after_insert_or_merge = matches!(self.prev,
                Some(Tok::Word(p)) if is_kw(p, b"insert") || is_kw(p, b"merge"));
            if is_kw(w, b"into") && !after_insert_or_merge {
                self.add(StatementKind::Create);
            }
        }
        self.names.feed(tok, self.verb, sink)?;
        if let Tok::Open = tok {
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
                                self.verb = true;
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
                    || matches!(tok, Tok::QuotedIdent(_));
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
                    self.verb = true;
                }
            },
            _ => {
                self.add(StatementKind::Other);
                self.head = Head::Done;
            }
        }
    }

    fn finish(mut self, summary: &mut SqlSummary, sink: &mut Sink<'_, 'a>) -> Result<(), SqlError> {
        if !self.seen {
            return Ok(());
        }
        self.names.finish(sink);
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
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Names: functions called and tables named
// ---------------------------------------------------------------------------------------------

/// PostgreSQL functions that a query tool should not call, checked by the last name part
/// ([`SqlName::is_dangerous`]); all lowercase. Each has effects outside the query or reads
/// data that the statement and table checks cannot see. See the module documentation.
pub const DANGEROUS_FUNCTIONS: &[&str] = &[
    // Server files: read, list and write the database server's file system.
    "pg_read_file",            // reads any server file the server user can read
    "pg_read_binary_file",     // the same, as bytea
    "pg_ls_dir",               // lists any server directory
    "pg_stat_file",            // size and times of any server file: probes the file system
    "pg_ls_logdir",            // lists the server log directory (log file names, activity)
    "pg_ls_waldir",            // lists the WAL directory
    "pg_ls_tmpdir",            // lists temporary files of other sessions
    "pg_ls_archive_statusdir", // lists the WAL archive status directory
    "pg_ls_logicalsnapdir",    // lists logical decoding snapshots
    "pg_ls_logicalmapdir",     // lists logical decoding mappings
    "pg_ls_replslotdir",       // lists a replication slot's directory
    "pg_file_write",           // adminpack: writes any server file
    "pg_file_rename",          // adminpack: renames server files
    "pg_file_unlink",          // adminpack: deletes server files
    "pg_file_sync",            // adminpack: fsyncs server files
    "pg_logdir_ls",            // adminpack: lists the log directory
    // Large objects: stored outside tables, so table lists do not see them.
    "lo_import",     // reads a server file into a large object
    "lo_export",     // writes a large object to a server file
    "lo_get",        // reads a large object's contents
    "lo_put",        // writes into a large object
    "lo_from_bytea", // creates a large object
    "lo_unlink",     // deletes a large object
    "lo_create",     // creates a large object
    "lo_creat",      // creates a large object (old form)
    "lo_open",       // opens a large object for reading or writing
    "loread",        // reads from an open large object
    "lowrite",       // writes to an open large object
    "lo_truncate",   // truncates a large object
    "lo_truncate64", // the same, 64-bit length
    // Other servers: dblink runs arbitrary SQL elsewhere (or here, as another role).
    "dblink",            // runs a query on another connection
    "dblink_exec",       // runs a command on another connection
    "dblink_connect",    // opens a connection to any server
    "dblink_connect_u",  // the same, without password checks (superuser's)
    "dblink_send_query", // runs a query asynchronously
    "dblink_open",       // opens a cursor for a query on another connection
    "dblink_fetch",      // reads rows of such a cursor
    "dblink_get_result", // reads the result of an asynchronous query
    // Time: hold a connection (and its locks) for as long as asked.
    "pg_sleep",       // sleeps for seconds
    "pg_sleep_for",   // sleeps for an interval
    "pg_sleep_until", // sleeps until a time
    // Other sessions and the server process.
    "pg_terminate_backend",           // kills another session
    "pg_cancel_backend",              // cancels another session's query
    "pg_reload_conf",                 // reloads the server configuration
    "pg_rotate_logfile",              // rotates the server log
    "pg_promote",                     // promotes a standby to primary
    "pg_switch_wal",                  // forces a WAL segment switch
    "pg_create_restore_point",        // writes a named restore point into WAL
    "pg_log_backend_memory_contexts", // makes a backend write its memory contexts to the log
    "pg_wal_replay_pause",            // pauses recovery on a standby
    "pg_wal_replay_resume",           // resumes recovery on a standby
    "pg_backup_start",                // starts an online backup
    "pg_backup_stop",                 // stops an online backup
    "pg_start_backup",                // starts an online backup (before PostgreSQL 15)
    "pg_stop_backup",                 // stops an online backup (before PostgreSQL 15)
    "pg_notify",                      // sends a notification to other sessions
    "pg_import_system_collations",    // creates collations in a schema
    // Replication: slots retain WAL (disk) and stream every change in the database.
    "pg_create_physical_replication_slot", // creates a slot
    "pg_create_logical_replication_slot",  // creates a slot
    "pg_drop_replication_slot",            // drops a slot, breaking a replica
    "pg_copy_physical_replication_slot",   // creates a slot
    "pg_copy_logical_replication_slot",    // creates a slot
    "pg_replication_slot_advance",         // consumes a slot's changes
    "pg_logical_slot_get_changes",         // reads and consumes every change, any table
    "pg_logical_slot_get_binary_changes",  // the same, binary
    "pg_logical_slot_peek_changes",        // reads every change, any table
    "pg_logical_slot_peek_binary_changes", // the same, binary
    "pg_logical_emit_message",             // writes a message into WAL
    "pg_replication_origin_create",        // creates a replication origin
    "pg_replication_origin_drop",          // drops a replication origin
    "pg_replication_origin_advance",       // moves a replication origin
    "pg_replication_origin_session_setup", // marks this session as replaying an origin
    // Statistics: resetting hides activity from monitoring.
    "pg_stat_reset",                          // resets this database's statistics
    "pg_stat_reset_shared",                   // resets cluster-wide statistics
    "pg_stat_reset_single_table_counters",    // resets a table's statistics
    "pg_stat_reset_single_function_counters", // resets a function's statistics
    "pg_stat_reset_slru",                     // resets SLRU statistics
    "pg_stat_reset_replication_slot",         // resets replication slot statistics
    "pg_stat_reset_subscription_stats",       // resets subscription statistics
    // Configuration.
    "set_config", // changes a setting (role, search_path, ...) like SET
    // Advisory locks: held across statements, can block other sessions.
    "pg_advisory_lock",                 // session-level exclusive lock
    "pg_advisory_lock_shared",          // session-level shared lock
    "pg_advisory_xact_lock",            // transaction-level exclusive lock
    "pg_advisory_xact_lock_shared",     // transaction-level shared lock
    "pg_try_advisory_lock",             // session-level exclusive lock, no wait
    "pg_try_advisory_lock_shared",      // session-level shared lock, no wait
    "pg_try_advisory_xact_lock",        // transaction-level exclusive lock, no wait
    "pg_try_advisory_xact_lock_shared", // transaction-level shared lock, no wait
    "pg_advisory_unlock",               // releases a lock that a pooled session's owner relies on
    "pg_advisory_unlock_shared",        // the same, shared
    "pg_advisory_unlock_all",           // releases all of this session's advisory locks
    // Sequences: writes that a `select` allow list would not show, and not rolled back.
    "nextval", // advances a sequence
    "setval",  // sets a sequence
    // SQL given as a string runs out of sight of this classifier.
    "query_to_xml",               // runs any query
    "query_to_xmlschema",         // runs (plans) any query
    "query_to_xml_and_xmlschema", // runs any query
    "cursor_to_xml",              // reads a cursor declared elsewhere
    "cursor_to_xmlschema",        // describes a cursor declared elsewhere
    "ts_stat",                    // runs the query given as its first argument
    "ts_rewrite",                 // with a text argument, runs it as a query
    // Tables, schemas and databases named in a string: read without a Table event.
    "table_to_xml",                  // reads a whole table
    "table_to_xmlschema",            // describes a table
    "table_to_xml_and_xmlschema",    // reads a whole table
    "schema_to_xml",                 // reads every table of a schema
    "schema_to_xmlschema",           // describes every table of a schema
    "schema_to_xml_and_xmlschema",   // reads every table of a schema
    "database_to_xml",               // reads every table of the database
    "database_to_xmlschema",         // describes every table of the database
    "database_to_xml_and_xmlschema", // reads every table of the database
    // Not a built-in function: the predefined role that allows `COPY ... PROGRAM` (shell
    // commands on the server). Listed so that a function given that name is refused too.
    "pg_execute_server_program",
];

/// PostgreSQL's `NAMEDATALEN - 1`: identifiers are truncated to this many bytes (at a
/// character boundary), so a longer name means the same object as its first 63 bytes.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// How many parentheses that interrupt a clause (a subquery in `FROM`, a CTE body, a call in
/// `FROM`, ...) may be open at once; more is [`SqlError::TooDeep`].
pub const MAX_CONTEXT_DEPTH: usize = 64;

/// One part of a [`SqlName`], as written in the input. `Display` and `Debug` show it as
/// written (`Users`, `"My ""x"""`).
#[derive(Clone, Copy)]
pub struct SqlIdent<'a> {
    raw: &'a [u8],
    quoted: bool,
}

const NO_IDENT: SqlIdent<'static> = SqlIdent { raw: b"", quoted: false };

impl<'a> SqlIdent<'a> {
    /// The bytes as written, always a sub-slice of the analysed input: an unquoted part in its
    /// original case, a quoted part without its quotes and with `""` still doubled.
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True if the part was written in double quotes.
    pub const fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// True if this part means `name` to PostgreSQL, where `name` is spelled as PostgreSQL
    /// stores it (unquoted names are stored in lowercase): an unquoted part is compared after
    /// folding ASCII letters to lowercase, a quoted part exactly after undoubling `""`. Both
    /// sides are truncated to 63 bytes first, as PostgreSQL truncates identifiers.
    ///
    /// A `name` ending in `*` is a prefix: `pg_*` matches every part that starts with `pg_`
    /// (after folding), and `*` matches every part.
    pub fn eq_name(&self, name: &[u8]) -> bool {
        let ours = IdentBytes { rest: self.raw, quoted: self.quoted };
        let our_len = clipped_len(ours.clone());
        if let Some(prefix) = name.strip_suffix(b"*") {
            let want = prefix.iter().copied();
            let want_len = clipped_len(want.clone());
            return want_len <= our_len && ours.take(want_len).eq(want.take(want_len));
        }
        let theirs = name.iter().copied();
        ours.take(our_len).eq(theirs.clone().take(clipped_len(theirs)))
    }
}

impl fmt::Display for SqlIdent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The input is valid UTF-8 and a part is a whole word or a whole quoted body.
        let text = core::str::from_utf8(self.raw).unwrap_or("\u{fffd}");
        if self.quoted { write!(f, "\"{text}\"") } else { f.write_str(text) }
    }
}

impl fmt::Debug for SqlIdent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The bytes of an identifier as PostgreSQL stores it: lowercased if unquoted, `""` undoubled
/// if quoted (no truncation).
#[derive(Clone)]
struct IdentBytes<'a> {
    rest: &'a [u8],
    quoted: bool,
}

impl Iterator for IdentBytes<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        if !self.quoted {
            return Some(b.to_ascii_lowercase());
        }
        // The lexer only lets `"` into a quoted body as `""`.
        if b == b'"'
            && let Some((b'"', rest)) = self.rest.split_first()
        {
            self.rest = rest;
        }
        Some(b)
    }
}

/// The length PostgreSQL truncates these bytes to: all of them if at most 63, else the longest
/// prefix of at most 63 bytes that ends at a UTF-8 character boundary.
fn clipped_len(bytes: impl Iterator<Item = u8>) -> usize {
    let mut len = 0;
    let mut last_start = 0;
    for (i, b) in bytes.enumerate() {
        if b & 0xc0 != 0x80 {
            last_start = i;
        }
        if i == MAX_IDENTIFIER_BYTES {
            // A 64th byte exists: cut before the character that holds byte 63 unless it starts
            // there.
            return last_start;
        }
        len = i + 1;
    }
    len
}

/// A possibly qualified name as written: one to three parts (`name`, `schema.name`,
/// `catalog.schema.name`; of a longer name, its last three). `Display` shows the parts as
/// written, joined by `.` (`public."Users"`); `Debug` wraps that in `SqlName(...)`.
#[derive(Clone, Copy)]
pub struct SqlName<'a> {
    parts: [SqlIdent<'a>; 3],
    /// 1 to 3.
    len: u8,
}

impl<'a> SqlName<'a> {
    const fn one(part: SqlIdent<'a>) -> Self {
        Self { parts: [part, NO_IDENT, NO_IDENT], len: 1 }
    }

    fn push(&mut self, part: SqlIdent<'a>) {
        let [a, b, c] = self.parts;
        (self.parts, self.len) = match self.len {
            1 => ([a, part, NO_IDENT], 2),
            2 => ([a, b, part], 3),
            // Keep the last three: they are what a function or table name can be.
            _ => ([b, c, part], 3),
        };
    }

    /// The parts, first to last (one to three of them).
    pub fn parts(&self) -> &[SqlIdent<'a>] {
        self.parts.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The last part: the function or table name itself.
    pub fn last(&self) -> SqlIdent<'a> {
        self.parts().last().copied().unwrap_or(NO_IDENT)
    }

    /// True if the last part means `name` ([`SqlIdent::eq_name`]), whatever the schema:
    /// `pg_catalog.pg_sleep`, `PG_SLEEP` and `"pg_sleep"` all match `b"pg_sleep"`.
    pub fn last_eq(&self, name: &[u8]) -> bool {
        self.last().eq_name(name)
    }

    /// True if this name may denote the object `qualified`, a dotted name spelled as
    /// PostgreSQL stores it (lowercase unless it was created quoted): `b"users"`,
    /// `b"public.users"`, `b"db.public.users"`; the same as [`SqlName::may_be`].
    ///
    /// The parts are compared from the last one backwards ([`SqlIdent::eq_name`], so a part
    /// may end in `*`) for as many parts as both have: a pattern part the name leaves out
    /// matches, and so does a name part the pattern leaves out. So `users` (pattern) matches
    /// `users`, `public.users` and `other.users`; `public.users` matches `users`,
    /// `public.users` and `"public".USERS`, but not `other.users`. A name without a schema is
    /// resolved by the database through its `search_path`, which this module cannot see, so
    /// it counts as possibly matching: right for deny lists, too generous for allow lists
    /// (use [`SqlName::surely_is`] there). An empty pattern or one with an empty part
    /// (`a..b`) matches nothing.
    pub fn eq_qualified(&self, qualified: &[u8]) -> bool {
        self.may_be(qualified)
    }

    /// True if this name may denote `entry` ([`SqlName::eq_qualified`]): for deny lists,
    /// where a possible match must deny.
    pub fn may_be(&self, entry: &[u8]) -> bool {
        if entry.is_empty() {
            return false;
        }
        let mut pattern = entry.rsplit(|&b| b == b'.');
        let mut ours = self.parts().iter().rev();
        // Ends: both iterators are finite and each turn takes one pattern part.
        loop {
            match (pattern.next(), ours.next()) {
                (None, _) => return true,
                (Some([]), _) => return false,
                (Some(want), Some(part)) if !part.eq_name(want) => return false,
                (Some(_), _) => {}
            }
        }
    }

    /// True if this name surely denotes `entry` (a dotted name as for
    /// [`SqlName::may_be`]): for allow lists, where only a sure match may allow.
    ///
    /// The name must have as many parts as `entry`, all matching, with one exception: an
    /// unqualified `entry` stands for the `public` schema too, so `users` is surely
    /// `public.users`. So the entry `users` admits `users`, `USERS`, `"users"` and
    /// `public.users` but not `other.users`; the entry `public.users` admits `public.users`
    /// but not `users`, which the `search_path` could resolve elsewhere. (An unqualified name
    /// in the query is trusted to mean what an unqualified entry means: the role's
    /// `search_path` should not put another schema with a same-named table before `public`.)
    pub fn surely_is(&self, entry: &[u8]) -> bool {
        let entry_parts = entry.split(|&b| b == b'.').count();
        match (self.parts(), entry_parts) {
            ([schema, _], 1) => schema.eq_name(b"public") && self.may_be(entry),
            (parts, n) => parts.len() == n && self.may_be(entry),
        }
    }

    /// True if the last part is on [`DANGEROUS_FUNCTIONS`] ([`SqlName::last_eq`]).
    pub fn is_dangerous(&self) -> bool {
        DANGEROUS_FUNCTIONS.iter().any(|f| self.last_eq(f.as_bytes()))
    }
}

impl fmt::Display for SqlName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts().iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            fmt::Display::fmt(part, f)?;
        }
        Ok(())
    }
}

impl fmt::Debug for SqlName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SqlName({self})")
    }
}

/// A name found by [`analyze_with`]; see "Names" in the module documentation for the rules.
#[derive(Clone, Copy, Debug)]
pub enum SqlEvent<'a> {
    /// A function (or procedure) called: a name directly followed by `(` that is not syntax.
    Function(SqlName<'a>),
    /// A table (or view, or CTE) named where a table is read or written.
    Table(SqlName<'a>),
}

/// Delivers events to the caller and remembers whether a dangerous function was called.
struct Sink<'v, 'a> {
    visit: &'v mut dyn FnMut(SqlEvent<'a>),
    dangerous: bool,
}

impl<'a> Sink<'_, 'a> {
    fn function(&mut self, name: SqlName<'a>) {
        self.dangerous |= name.is_dangerous();
        (self.visit)(SqlEvent::Function(name));
    }

    fn table(&mut self, name: SqlName<'a>) {
        (self.visit)(SqlEvent::Table(name));
    }
}

fn in_list(word: &[u8], list: &[&[u8]]) -> bool {
    list.iter().any(|k| is_kw(word, k))
}

/// PostgreSQL's reserved keywords (`RESERVED_KEYWORD` in `kwlist.h`): never an unquoted
/// function, table or alias name.
const RESERVED: &[&[u8]] = &[
    b"all",
    b"analyse",
    b"analyze",
    b"and",
    b"any",
    b"array",
    b"as",
    b"asc",
    b"asymmetric",
    b"both",
    b"case",
    b"cast",
    b"check",
    b"collate",
    b"column",
    b"constraint",
    b"create",
    b"current_catalog",
    b"current_date",
    b"current_role",
    b"current_time",
    b"current_timestamp",
    b"current_user",
    b"default",
    b"deferrable",
    b"desc",
    b"distinct",
    b"do",
    b"else",
    b"end",
    b"except",
    b"false",
    b"fetch",
    b"for",
    b"foreign",
    b"from",
    b"grant",
    b"group",
    b"having",
    b"in",
    b"initially",
    b"intersect",
    b"into",
    b"lateral",
    b"leading",
    b"limit",
    b"localtime",
    b"localtimestamp",
    b"not",
    b"null",
    b"offset",
    b"on",
    b"only",
    b"or",
    b"order",
    b"placing",
    b"primary",
    b"references",
    b"returning",
    b"select",
    b"session_user",
    b"some",
    b"symmetric",
    b"system_user",
    b"table",
    b"then",
    b"to",
    b"trailing",
    b"true",
    b"union",
    b"unique",
    b"user",
    b"using",
    b"variadic",
    b"when",
    b"where",
    b"window",
    b"with",
];

/// `TYPE_FUNC_NAME_KEYWORD`s: may name functions and types, never an unquoted table or alias.
const TYPE_FUNC_NAME: &[&[u8]] = &[
    b"authorization",
    b"binary",
    b"collation",
    b"concurrently",
    b"cross",
    b"current_schema",
    b"freeze",
    b"full",
    b"ilike",
    b"inner",
    b"is",
    b"isnull",
    b"join",
    b"left",
    b"like",
    b"natural",
    b"notnull",
    b"outer",
    b"overlaps",
    b"right",
    b"similar",
    b"tablesample",
    b"verbose",
];

/// `COL_NAME_KEYWORD`s that cannot name a function and, followed by `(`, are syntax: type
/// names with a modifier, `EXISTS (`, `VALUES (`, `ROW (`, ...
const NOT_CALLS: &[&[u8]] = &[
    b"between",
    b"bigint",
    b"bit",
    b"boolean",
    b"char",
    b"character",
    b"dec",
    b"decimal",
    b"exists",
    b"float",
    b"inout",
    b"int",
    b"integer",
    b"interval",
    b"national",
    b"nchar",
    b"none",
    b"numeric",
    b"out",
    b"precision",
    b"real",
    b"row",
    b"setof",
    b"smallint",
    b"time",
    b"timestamp",
    b"values",
    b"varchar",
];

/// Words that end a `FROM` clause at its own depth.
const FROM_ENDS: &[&[u8]] = &[
    b"where",
    b"group",
    b"having",
    b"window",
    b"order",
    b"limit",
    b"offset",
    b"fetch",
    b"for",
    b"union",
    b"intersect",
    b"except",
    b"returning",
    b"into",
    b"do",
];

/// Words before `JOIN`.
const JOIN_WORDS: &[&[u8]] =
    &[b"cross", b"natural", b"left", b"right", b"full", b"inner", b"outer"];

/// `SELECT ... INTO` modifiers before the table name.
const TEMP_WORDS: &[&[u8]] = &[b"temp", b"temporary", b"unlogged", b"local", b"global"];

/// Statements whose top-level `FROM` names a file, role or cursor.
const FROM_NOT_TABLE: &[&[u8]] = &[b"copy", b"revoke", b"fetch", b"move"];

/// SQL-syntax functions whose parentheses hold a `FROM` that is an argument separator.
const FROM_IN_ARGS: &[&[u8]] = &[b"extract", b"substring", b"trim", b"overlay"];

fn cannot_alias(word: &[u8]) -> bool {
    in_list(word, RESERVED) || in_list(word, TYPE_FUNC_NAME)
}

/// Whether an alias may follow a table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Alias {
    /// Directly after the table: a word that is not a keyword here is an alias.
    Open,
    /// After `AS`: the next name is the alias.
    Pending,
    /// Taken, or not allowed.
    Closed,
}

/// A table target and what may follow it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Target {
    /// `t (` is a column list (`INSERT INTO t (a)`), not a call.
    cols: bool,
    /// An alias may follow (`UPDATE t AS x`).
    alias: bool,
    /// `, u` directly after the name is another target (`TRUNCATE t, u`).
    list: bool,
    /// `TEMP`, `UNLOGGED`, ... may come first (`SELECT ... INTO TEMP t`).
    temp: bool,
}

impl Target {
    const INSERT: Self = Self { cols: true, alias: true, list: false, temp: false };
    const MERGE_OR_UPDATE: Self = Self { cols: false, alias: true, list: false, temp: false };
    const SELECT_INTO: Self = Self { cols: false, alias: false, list: false, temp: true };
    const TABLE: Self = Self { cols: true, alias: false, list: true, temp: false };
    const LIST: Self = Self { cols: false, alias: false, list: true, temp: false };
    const COLUMNS: Self = Self { cols: true, alias: false, list: false, temp: false };
    const SINGLE: Self = Self { cols: false, alias: false, list: false, temp: false };
}

/// The clause one parenthesis level is in, as far as names are concerned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    /// Anything else: names are functions if `(` follows.
    Expr,
    /// Inside `EXTRACT(`, `SUBSTRING(`, `TRIM(`, `OVERLAY(`: `FROM` separates arguments.
    Special,
    /// After `WITH [RECURSIVE]` or a `,` in a CTE list: a CTE name.
    CteName,
    /// After a CTE name: `AS [NOT] MATERIALIZED (` opens its body.
    CteAfterName,
    /// After a CTE body: `,` starts another CTE.
    CteList,
    /// A table (or a function, or `(`) is expected in a `FROM` list.
    FromItem { joined: bool },
    /// After an item of a `FROM` list; `joined` if it followed `JOIN` (so `USING (` lists
    /// columns).
    FromAfter { joined: bool, alias: Alias },
    /// In an `ON` condition of a `FROM` list; `cases` counts open `CASE`s at this depth.
    FromOn { cases: usize },
    /// A table target is expected.
    Target(Target),
    /// After a table target.
    TargetAfter(Target, Alias),
}

/// The token before, as far as the name rules care.
#[derive(Clone, Copy)]
enum Prev<'a> {
    None,
    Word(&'a [u8]),
    Close,
    Colon,
    Other,
}

fn prev_is(prev: Prev<'_>, keyword: &[u8]) -> bool {
    matches!(prev, Prev::Word(w) if is_kw(w, keyword))
}

/// A name being read: its meaning depends on the token after it.
#[derive(Clone, Copy)]
struct Pending<'a> {
    name: SqlName<'a>,
    /// A `.` followed the last part.
    dot: bool,
    /// The first part is a statement verb ([`Stmt::verb`]).
    verb: bool,
    /// The first part is the first token of the statement.
    first: bool,
    /// The two tokens before the name (`before2` is the earlier).
    before: Prev<'a>,
    before2: Prev<'a>,
}

impl<'a> Pending<'a> {
    /// The word if the name is one unquoted part: only such a name can be a keyword.
    fn word(&self) -> Option<&'a [u8]> {
        match self.name.parts() {
            [one] if !one.quoted => Some(one.raw),
            _ => None,
        }
    }

    fn is(&self, keyword: &[u8]) -> bool {
        self.word().is_some_and(|w| is_kw(w, keyword))
    }
}

/// Finds the functions and tables of one statement (see "Names" in the module documentation).
struct Names<'a> {
    ctx: Ctx,
    depth: usize,
    /// The contexts to restore when the parenthesis opened at that depth closes; only those
    /// that are not `Expr` are kept, so plain nesting costs nothing.
    saved: [(usize, Ctx); MAX_CONTEXT_DEPTH],
    saved_len: usize,
    pending: Option<Pending<'a>>,
    /// What the next `(` is, decided by the name before it: (inside, after its `)`).
    plan: Option<(Ctx, Ctx)>,
    prev: Prev<'a>,
    prev2: Prev<'a>,
    seen: bool,
    /// The statement's first token, if a word.
    first_word: Option<&'a [u8]>,
    /// A `MERGE` verb was seen (so `THEN INSERT (` is its column list).
    merge: bool,
}

impl<'a> Names<'a> {
    fn new() -> Self {
        Self {
            ctx: Ctx::Expr,
            depth: 0,
            saved: [(0, Ctx::Expr); MAX_CONTEXT_DEPTH],
            saved_len: 0,
            pending: None,
            plan: None,
            prev: Prev::None,
            prev2: Prev::None,
            seen: false,
            first_word: None,
            merge: false,
        }
    }

    fn feed(&mut self, tok: Tok<'a>, verb: bool, sink: &mut Sink<'_, 'a>) -> Result<(), SqlError> {
        let first = !self.seen;
        self.seen = true;
        match tok {
            Tok::Word(raw) | Tok::QuotedIdent(raw) => {
                let part = SqlIdent { raw, quoted: matches!(tok, Tok::QuotedIdent(_)) };
                if let Tok::Word(w) = tok {
                    if first {
                        self.first_word = Some(w);
                    }
                    self.merge |= verb && is_kw(w, b"merge");
                }
                match &mut self.pending {
                    Some(p) if p.dot => {
                        p.name.push(part);
                        p.dot = false;
                    }
                    _ => {
                        if let Some(p) = self.pending.take() {
                            self.finalize(p, Some(tok), sink);
                        }
                        self.pending = Some(Pending {
                            name: SqlName::one(part),
                            dot: false,
                            verb: verb && matches!(tok, Tok::Word(_)),
                            first,
                            before: self.prev,
                            before2: self.prev2,
                        });
                    }
                }
            }
            Tok::Dot if self.pending.is_some_and(|p| !p.dot) => {
                if let Some(p) = &mut self.pending {
                    p.dot = true;
                }
            }
            _ => {
                if let Some(p) = self.pending.take() {
                    // `t.*`, `t.(`: a `.` follows the name, not this token.
                    self.finalize(p, Some(if p.dot { Tok::Dot } else { tok }), sink);
                }
                self.token(tok)?;
            }
        }
        self.prev2 = self.prev;
        self.prev = match tok {
            Tok::Word(w) => Prev::Word(w),
            Tok::Close => Prev::Close,
            Tok::Punct(b':') => Prev::Colon,
            _ => Prev::Other,
        };
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink<'_, 'a>) {
        if let Some(p) = self.pending.take() {
            self.finalize(p, None, sink);
        }
    }

    /// A token that is not part of a name.
    fn token(&mut self, tok: Tok<'a>) -> Result<(), SqlError> {
        let plan = self.plan.take();
        match tok {
            Tok::Open => {
                let (inside, after) = plan.unwrap_or_else(|| self.bare_paren());
                if after != Ctx::Expr {
                    let slot = self.saved.get_mut(self.saved_len).ok_or(SqlError::TooDeep)?;
                    *slot = (self.depth, after);
                    // Below MAX_CONTEXT_DEPTH: the slot existed.
                    self.saved_len += 1;
                }
                self.depth = self.depth.checked_add(1).ok_or(SqlError::Unbalanced)?;
                self.ctx = inside;
            }
            Tok::Close => {
                self.depth = self.depth.checked_sub(1).ok_or(SqlError::Unbalanced)?;
                self.ctx = Ctx::Expr;
                if let Some(top) = self.saved_len.checked_sub(1)
                    && let Some(&(depth, ctx)) = self.saved.get(top)
                    && depth == self.depth
                {
                    self.saved_len = top;
                    self.ctx = ctx;
                }
            }
            Tok::Punct(b',') => {
                self.ctx = match self.ctx {
                    Ctx::FromAfter { .. } | Ctx::FromOn { .. } => Ctx::FromItem { joined: false },
                    Ctx::TargetAfter(t, _) if t.list => Ctx::Target(t),
                    Ctx::CteList => Ctx::CteName,
                    Ctx::TargetAfter(..) | Ctx::CteName | Ctx::CteAfterName => Ctx::Expr,
                    ctx @ (Ctx::Expr | Ctx::Special | Ctx::FromItem { .. } | Ctx::Target(_)) => ctx,
                };
            }
            // `TRUNCATE t *, u`: `*` asks for inheritance children.
            Tok::Punct(b'*')
                if matches!(self.ctx, Ctx::FromAfter { .. } | Ctx::TargetAfter(..)) => {}
            _ => {
                self.ctx = match self.ctx {
                    Ctx::FromItem { joined } => Ctx::FromAfter { joined, alias: Alias::Closed },
                    Ctx::Target(_)
                    | Ctx::TargetAfter(..)
                    | Ctx::CteName
                    | Ctx::CteAfterName
                    | Ctx::CteList => Ctx::Expr,
                    ctx => ctx,
                };
            }
        }
        Ok(())
    }

    /// What a `(` not directly after a name means here: (inside, after its `)`).
    fn bare_paren(&self) -> (Ctx, Ctx) {
        match self.ctx {
            // `FROM (SELECT ...) s`, `FROM (a JOIN b ON ...)`, `FROM ONLY (t)`.
            Ctx::FromItem { joined } => {
                (Ctx::FromItem { joined: false }, Ctx::FromAfter { joined, alias: Alias::Open })
            }
            // `JOIN b USING (a)`, `TABLESAMPLE m (1) REPEATABLE (2)`.
            Ctx::FromAfter { joined, .. } => {
                (Ctx::Expr, Ctx::FromAfter { joined, alias: Alias::Closed })
            }
            Ctx::FromOn { .. } | Ctx::Special => (Ctx::Expr, self.ctx),
            Ctx::CteAfterName => (Ctx::Expr, Ctx::CteList),
            // `COPY (query)`, `RETURNS TABLE (...)`, `WITH (options)`.
            Ctx::Target(_) | Ctx::TargetAfter(..) | Ctx::CteName | Ctx::CteList | Ctx::Expr => {
                (Ctx::Expr, Ctx::Expr)
            }
        }
    }

    /// A name is complete; `follow` is the token after it (`None` at the end of the statement).
    fn finalize(&mut self, p: Pending<'a>, follow: Option<Tok<'a>>, sink: &mut Sink<'_, 'a>) {
        let open = matches!(follow, Some(Tok::Open));
        let word = p.word();
        let follow_is = |k: &[u8]| matches!(follow, Some(Tok::Word(w)) if is_kw(w, k));
        match self.ctx {
            Ctx::CteName => {
                if word.is_some_and(|w| in_list(w, RESERVED)) {
                    // `WITH CHECK OPTION`, `WITH GRANT OPTION`: not a CTE list.
                    self.ctx = Ctx::Expr;
                    self.expr_name(&p, open, sink);
                } else if p.is(b"recursive")
                    && matches!(follow, Some(Tok::Word(_) | Tok::QuotedIdent(_)))
                {
                } else {
                    self.ctx = Ctx::CteAfterName;
                    if open {
                        // `WITH x(a, b) AS`: a column list.
                        self.plan = Some((Ctx::Expr, Ctx::CteAfterName));
                    }
                }
            }
            Ctx::CteAfterName => {
                if p.is(b"as") || p.is(b"not") || p.is(b"materialized") {
                    if open {
                        self.plan = Some((Ctx::Expr, Ctx::CteList));
                    }
                } else {
                    self.ctx = Ctx::Expr;
                    self.expr_name(&p, open, sink);
                }
            }
            Ctx::CteList => {
                self.ctx = Ctx::Expr;
                self.expr_name(&p, open, sink);
            }
            Ctx::FromItem { joined } => {
                if p.is(b"only") || p.is(b"lateral") || (p.is(b"rows") && follow_is(b"from")) {
                } else if word
                    .is_some_and(|w| in_list(w, RESERVED) || (open && in_list(w, NOT_CALLS)))
                {
                    // `SELECT`, `WITH`, `TABLE`, `VALUES (`: a subquery, not a table.
                    self.ctx = Ctx::Expr;
                    self.expr_name(&p, open, sink);
                } else {
                    let after = Ctx::FromAfter { joined, alias: Alias::Open };
                    self.ctx = after;
                    if open {
                        sink.function(p.name);
                        self.plan = Some((args_ctx(word), after));
                    } else {
                        sink.table(p.name);
                    }
                }
            }
            Ctx::FromAfter { joined, alias } => {
                self.after_from_item(&p, joined, alias, follow, sink)
            }
            Ctx::FromOn { cases } => {
                if p.is(b"join") {
                    if open {
                        // `ON a = b JOIN (c ...)` or `ON join(x)`: cannot tell here, so both.
                        sink.function(p.name);
                    }
                    self.ctx = Ctx::FromItem { joined: true };
                } else if p.is(b"case") {
                    self.ctx = Ctx::FromOn { cases: cases.saturating_add(1) };
                } else if p.is(b"end") {
                    self.ctx = Ctx::FromOn { cases: cases.saturating_sub(1) };
                } else if word.is_some_and(|w| in_list(w, FROM_ENDS))
                    || (cases == 0 && p.is(b"when"))
                {
                    // `WHEN` outside a `CASE`: `MERGE ... ON cond WHEN MATCHED`.
                    self.ctx = Ctx::Expr;
                    self.expr_name(&p, open, sink);
                } else {
                    self.expr_name(&p, open, sink);
                }
            }
            Ctx::Target(t) => {
                let modifier = (p.is(b"if") && (follow_is(b"not") || follow_is(b"exists")))
                    || (p.is(b"exists") && (prev_is(p.before, b"if") || prev_is(p.before, b"not")))
                    || (t.temp
                        && word.is_some_and(|w| in_list(w, TEMP_WORDS))
                        && match follow {
                            // `INTO TEMP t`, `INTO TEMP TABLE t`; `INTO temp FROM` makes `temp`.
                            Some(Tok::Word(w)) => is_kw(w, b"table") || !in_list(w, RESERVED),
                            Some(Tok::QuotedIdent(_)) => true,
                            _ => false,
                        });
                if p.is(b"table") {
                    self.ctx = Ctx::Target(Target::TABLE);
                } else if p.is(b"only") {
                    if open {
                        // `UPDATE ONLY (t)`.
                        self.plan = Some((
                            Ctx::Target(Target::SINGLE),
                            Ctx::TargetAfter(Target::SINGLE, Alias::Closed),
                        ));
                    }
                } else if modifier || word.is_some_and(cannot_alias) {
                    // `IF NOT EXISTS`, `TEMP`, `BINARY`, ...: the table is still to come.
                } else {
                    sink.table(p.name);
                    let alias = if t.alias { Alias::Open } else { Alias::Closed };
                    self.ctx = Ctx::TargetAfter(t, alias);
                    if open {
                        if !t.cols {
                            // Not valid SQL (`TRUNCATE t(1)`): report the call too.
                            sink.function(p.name);
                        }
                        self.plan = Some((Ctx::Expr, Ctx::TargetAfter(t, Alias::Closed)));
                    }
                }
            }
            Ctx::TargetAfter(t, alias) => {
                let one_part = p.name.len == 1 && !word.is_some_and(cannot_alias);
                if t.alias && p.is(b"as") {
                    self.ctx = Ctx::TargetAfter(t, Alias::Pending);
                } else if t.alias && p.is(b"using") {
                    // `MERGE INTO t USING s` (not `CREATE TABLE t (...) USING heap`).
                    self.ctx = Ctx::FromItem { joined: false };
                } else if p.is(b"set") && open {
                    // `UPDATE t x SET (a, b) = ...`.
                    self.ctx = Ctx::Expr;
                } else if alias != Alias::Closed && one_part {
                    self.ctx = Ctx::TargetAfter(t, Alias::Closed);
                    if open {
                        self.plan = Some((Ctx::Expr, Ctx::TargetAfter(t, Alias::Closed)));
                    }
                } else {
                    self.ctx = Ctx::Expr;
                    self.expr_name(&p, open, sink);
                }
            }
            Ctx::Expr | Ctx::Special => self.expr_name(&p, open, sink),
        }
    }

    /// A name after an item of a `FROM` list.
    fn after_from_item(
        &mut self,
        p: &Pending<'a>,
        joined: bool,
        alias: Alias,
        follow: Option<Tok<'a>>,
        sink: &mut Sink<'_, 'a>,
    ) {
        let open = matches!(follow, Some(Tok::Open));
        let closed = Ctx::FromAfter { joined, alias: Alias::Closed };
        let one_part = p.name.len == 1 && !p.word().is_some_and(cannot_alias);
        if p.is(b"as") {
            self.ctx = Ctx::FromAfter { joined, alias: Alias::Pending };
            return;
        }
        if alias == Alias::Pending {
            self.ctx = closed;
            if one_part {
                if open {
                    self.plan = Some((Ctx::Expr, closed));
                }
            } else {
                self.expr_name(p, open, sink);
            }
            return;
        }
        let Some(w) = p.word() else {
            // Quoted: an alias if the slot is open. Qualified: not valid here; read it as an
            // expression.
            if alias == Alias::Open && p.name.len == 1 {
                self.ctx = closed;
                if open {
                    self.plan = Some((Ctx::Expr, closed));
                }
            } else {
                self.expr_name(p, open, sink);
            }
            return;
        };
        if is_kw(w, b"join") {
            // Directly after an item, `JOIN (` is a join: no alias or call can be `JOIN`.
            self.ctx = Ctx::FromItem { joined: true };
        } else if is_kw(w, b"on") {
            self.ctx = Ctx::FromOn { cases: 0 };
        } else if is_kw(w, b"using") {
            // After a join, a column list; after `DELETE FROM t` or `MERGE INTO t`, tables.
            self.ctx = if joined { closed } else { Ctx::FromItem { joined: false } };
        } else if is_kw(w, b"with") || is_kw(w, b"ordinality") {
            // `f() WITH ORDINALITY [AS] x`: the alias may still follow.
        } else if is_kw(w, b"tablesample") || (in_list(w, JOIN_WORDS) && !open) {
            self.ctx = closed;
        } else if is_kw(w, b"repeatable") && open {
            // `TABLESAMPLE m (1) REPEATABLE (2)`.
        } else if in_list(w, FROM_ENDS) {
            self.ctx = Ctx::Expr;
            self.expr_name(p, open, sink);
        } else if alias == Alias::Open && one_part {
            self.ctx = closed;
            if open {
                self.plan = Some((Ctx::Expr, closed));
            }
        } else {
            self.ctx = closed;
            self.expr_name(p, open, sink);
        }
    }

    /// A name in an expression: a keyword that starts a table position, a call, or nothing.
    fn expr_name(&mut self, p: &Pending<'a>, open: bool, sink: &mut Sink<'_, 'a>) {
        if let Some(w) = p.word()
            && let Some(ctx) = self.keyword(p, w, open)
        {
            self.ctx = ctx;
            return;
        }
        if open && self.is_call(p) {
            sink.function(p.name);
            self.plan = Some((args_ctx(p.word()), self.ctx));
        }
    }

    /// The context a keyword starts, if it starts one.
    fn keyword(&self, p: &Pending<'a>, w: &[u8], open: bool) -> Option<Ctx> {
        // Rule actions: `CREATE RULE ... DO [INSTEAD | ALSO] UPDATE t` (but not `ON CONFLICT DO
        // UPDATE SET`, which no `CREATE` statement has).
        let verb = p.verb
            || prev_is(p.before, b"instead")
            || prev_is(p.before, b"also")
            || (prev_is(p.before, b"do") && self.first_word.is_some_and(|f| is_kw(f, b"create")));
        if is_kw(w, b"from") {
            let not_table = self.ctx == Ctx::Special
                || (prev_is(p.before, b"distinct")
                    && (prev_is(p.before2, b"is") || prev_is(p.before2, b"not")))
                || (self.depth == 0 && self.first_word.is_some_and(|f| in_list(f, FROM_NOT_TABLE)));
            (!not_table).then_some(Ctx::FromItem { joined: false })
        } else if is_kw(w, b"join") && !open {
            Some(Ctx::FromItem { joined: true })
        } else if is_kw(w, b"table") {
            Some(Ctx::Target(Target::TABLE))
        } else if is_kw(w, b"into") {
            Some(Ctx::Target(if prev_is(p.before, b"insert") {
                Target::INSERT
            } else if prev_is(p.before, b"merge") {
                Target::MERGE_OR_UPDATE
            } else {
                Target::SELECT_INTO
            }))
        } else if is_kw(w, b"references") {
            Some(Ctx::Target(Target::COLUMNS))
        } else if is_kw(w, b"with") {
            Some(Ctx::CteName)
        } else if verb && is_kw(w, b"update") {
            Some(Ctx::Target(Target::MERGE_OR_UPDATE))
        } else if verb && (is_kw(w, b"truncate") || is_kw(w, b"lock")) {
            Some(Ctx::Target(Target::LIST))
        } else if verb && is_kw(w, b"copy") {
            Some(Ctx::Target(Target::COLUMNS))
        } else {
            None
        }
    }

    /// Whether a name followed by `(` in an expression is a call.
    fn is_call(&self, p: &Pending<'a>) -> bool {
        let before = p.before;
        // A type (`CAST(x AS vector(3))`, `x::vector(3)`), an alias, a prepared statement.
        if prev_is(before, b"as")
            || prev_is(before, b"prepare")
            || prev_is(before, b"execute")
            || matches!((p.before2, before), (Prev::Colon, Prev::Colon))
        {
            return false;
        }
        let Some(w) = p.word() else { return true };
        let syntax = in_list(w, RESERVED)
            || in_list(w, NOT_CALLS)
            // `EXPLAIN (`, `VACUUM (`: no statement starts with a call.
            || p.first
            || (matches!(before, Prev::Close) && (is_kw(w, b"filter") || is_kw(w, b"over")))
            || (is_kw(w, b"conflict") && prev_is(before, b"on") && self.ctx == Ctx::Expr)
            || (is_kw(w, b"key") && (prev_is(before, b"primary") || prev_is(before, b"foreign")))
            || (is_kw(w, b"insert") && prev_is(before, b"then") && self.merge)
            || (is_kw(w, b"set") && prev_is(before, b"update"))
            || (is_kw(w, b"by")
                && (prev_is(before, b"group")
                    || prev_is(before, b"order")
                    || prev_is(before, b"partition")))
            || (is_kw(w, b"zone") && prev_is(before, b"time"))
            // No expression in `GRANT` and `REVOKE`: `UPDATE (col)`, `FUNCTION f(int)`.
            || (self.depth == 0
                && self.first_word.is_some_and(|f| is_kw(f, b"grant") || is_kw(f, b"revoke")));
        !syntax
    }
}

/// The context inside a call's parentheses.
fn args_ctx(word: Option<&[u8]>) -> Ctx {
    if word.is_some_and(|w| in_list(w, FROM_IN_ARGS)) { Ctx::Special } else { Ctx::Expr }
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
            // `U&` only where a token starts: inside a word it is the word, `&`, a literal.
            ("SELECT xu&'x', au&\"b\" FROM t", 1, &[Select]),
            ("SELECT u & 'x'", 1, &[Select]),
            ("SELECT 1 /* U&'x' */, 'U&\"x\"', \"U&\"\"x\"", 1, &[Select]),
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
            (b"SELECT U&\"x", UnicodeEscape),
            (b"SELECT U&\"d\\0061t\" FROM t", UnicodeEscape),
            (b"SELECT u&'d\\0061t' ; DELETE FROM t", UnicodeEscape),
            (b"EXPLAIN (U&\"\\0061nalyze\") DELETE FROM t", UnicodeEscape),
            (b"SELECT * FROM U&\"\\0070g_sleep\"(1)", UnicodeEscape),
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
            (b"SELECT U&'\\'", UnicodeEscape),
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
            ("SELECT \"PG_SLEEP\"(1)", false),
            ("SELECT \"pg_sleep\"(1)", true),
            ("SELECT pg_catalog.\"pg_sleep\"(1)", true),
            ("SELECT myschema.pg_sleep(1)", true),
            ("SELECT pg_ls_waldir()", true),
            ("SELECT table_to_xml('secret', true, true, '')", true),
            ("SELECT current_setting('data_directory')", false),
            ("SELECT pg_sleep", false),
            ("SELECT pg_/**/sleep(1)", false),
            ("SELECT pg_sleep_x(1)", false),
            ("SELECT x.pg_sleep FROM t", false),
            ("SELECT \"pg_sleep(1)\" FROM t", false),
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
            UnicodeEscape,
            TooDeep,
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
        // Many names, each compared with the keyword lists a bounded number of times.
        let list =
            std::format!("SELECT f(x) FROM {}t", "pg_catalog.t JOIN u ON true, ".repeat(50_000));
        let mut count = 0usize;
        analyze_with(list.as_bytes(), &mut |_| count += 1).unwrap();
        assert_eq!(count, 100_002);
        let deep_from =
            std::format!("SELECT * FROM {}t{}", "(".repeat(500_000), ")".repeat(500_000));
        assert_eq!(analyze(deep_from.as_bytes()), Err(SqlError::TooDeep));
    }

    // -----------------------------------------------------------------------------------------
    // Names
    // -----------------------------------------------------------------------------------------

    /// `f:name` for a function, `t:name` for a table; quoted parts in quotes.
    fn render(name: &SqlName<'_>) -> String {
        let parts: Vec<String> = name
            .parts()
            .iter()
            .map(|p| {
                let raw = String::from_utf8_lossy(p.raw());
                if p.is_quoted() { std::format!("\"{raw}\"") } else { raw.into_owned() }
            })
            .collect();
        let joined = parts.join(".");
        assert_eq!(std::format!("{name}"), joined);
        assert_eq!(std::format!("{name:?}"), std::format!("SqlName({joined})"));
        joined
    }

    fn events(input: &str) -> Result<Vec<String>, SqlError> {
        let mut out = Vec::new();
        analyze_with(input.as_bytes(), &mut |e| {
            out.push(match e {
                SqlEvent::Function(n) => std::format!("f:{}", render(&n)),
                SqlEvent::Table(n) => std::format!("t:{}", render(&n)),
            });
        })?;
        Ok(out)
    }

    fn check(cases: &[(&str, &[&str])]) {
        let mut failures = Vec::new();
        for (input, want) in cases {
            match events(input) {
                Ok(got) if got == *want => {}
                got => failures.push(std::format!("{input:?}\n   got {got:?}\n  want {want:?}")),
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn function_rules() {
        check(&[
            // A name directly followed by `(`, with anything between that the lexer skips.
            ("SELECT pg_sleep(1)", &["f:pg_sleep"]),
            ("SELECT pg_sleep (1)", &["f:pg_sleep"]),
            ("SELECT pg_sleep/* c */(1)", &["f:pg_sleep"]),
            ("SELECT pg_sleep -- c\n(1)", &["f:pg_sleep"]),
            ("SELECT count(*), max(a), now() FROM t", &["f:count", "f:max", "f:now", "t:t"]),
            ("SELECT f(g(h(1)))", &["f:f", "f:g", "f:h"]),
            ("SELECT a.b.c.d(1)", &["f:b.c.d"]),
            ("SELECT (x).f(1)", &["f:f"]),
            ("SELECT $1.f(1)", &["f:f"]),
            ("CALL p(1)", &["f:p"]),
            (
                "SELECT left('abc', 1), right('abc', 1), coalesce(a, b)",
                &["f:left", "f:right", "f:coalesce"],
            ),
            ("SELECT a LIKE ('x')", &["f:LIKE"]),
            // Schema-qualified and quoted.
            ("SELECT pg_catalog.pg_sleep(1)", &["f:pg_catalog.pg_sleep"]),
            ("SELECT pg_catalog . pg_sleep (1)", &["f:pg_catalog.pg_sleep"]),
            ("SELECT pg_catalog/**/./**/pg_sleep(1)", &["f:pg_catalog.pg_sleep"]),
            ("SELECT \"pg_catalog\".\"pg_sleep\"(1)", &["f:\"pg_catalog\".\"pg_sleep\""]),
            ("SELECT \"pg_sleep\"(1)", &["f:\"pg_sleep\""]),
            ("SELECT \"PG_SLEEP\"(1)", &["f:\"PG_SLEEP\""]),
            ("SELECT PG_SLEEP(1)", &["f:PG_SLEEP"]),
            ("SELECT \"in\"(1), \"exists\"(2)", &["f:\"in\"", "f:\"exists\""]),
            // Comments and literals hide names; a comment splits a word.
            ("SELECT 'pg_sleep(1)'", &[]),
            ("SELECT $$pg_sleep(1)$$, E'pg_sleep(1)'", &[]),
            ("SELECT \"pg_sleep(1)\"", &[]),
            ("SELECT 1 -- pg_sleep(1)", &[]),
            ("SELECT 1 /* pg_sleep(1) */", &[]),
            ("SELECT pg_/**/sleep(1)", &["f:sleep"]),
            ("SELECT pg_sleep", &[]),
            ("SELECT pg_sleep.x FROM pg_sleep", &["t:pg_sleep"]),
            // Reserved keywords and column-name keywords that are syntax.
            ("SELECT 1 WHERE a IN (1, 2) AND NOT (b) OR EXISTS (SELECT 1)", &[]),
            ("SELECT a = ANY (x), b = ALL (y), c = SOME (z)", &[]),
            ("SELECT ARRAY(SELECT 1), ROW(1, 2), CAST(1 AS int)", &[]),
            ("SELECT CASE WHEN (a) THEN (b) ELSE (c) END", &[]),
            ("SELECT DISTINCT ON (a) a FROM t ORDER BY (a) LIMIT (1) OFFSET (2)", &["t:t"]),
            ("SELECT a BETWEEN (1) AND (2)", &[]),
            ("SELECT CURRENT_TIMESTAMP(3), LOCALTIME(0)", &[]),
            ("SELECT 1::varchar(10), 2::numeric(10, 2), '1'::timestamp(3), '1'::interval(6)", &[]),
            ("SELECT x::char(2), y::bit(3), z::float(4), w::decimal(5)", &[]),
            ("SELECT CAST(x AS vector(3)), y::vector(3), z::public.vector(3)", &[]),
            ("VALUES (1), (pg_sleep(1))", &["f:pg_sleep"]),
            // The first word of a statement.
            ("EXPLAIN (ANALYZE, FORMAT JSON) SELECT f(1)", &["f:f"]),
            ("VACUUM (VERBOSE) t", &[]),
            ("ANALYZE (VERBOSE) t", &[]),
            ("COPY (SELECT f(1)) TO STDOUT", &["f:f"]),
            ("pg_sleep(1)", &[]),
            ("x.pg_sleep(1)", &["f:x.pg_sleep"]),
            // Prepared statements.
            ("PREPARE p(int) AS SELECT f($1)", &["f:f"]),
            ("EXECUTE p(g(1))", &["f:g"]),
            ("EXPLAIN ANALYZE EXECUTE p(1)", &[]),
            // Aggregates and windows.
            ("SELECT count(*) FILTER (WHERE a) OVER (PARTITION BY b)", &["f:count"]),
            ("SELECT sum(a) OVER w FROM t WINDOW w AS (ORDER BY b)", &["f:sum", "t:t"]),
            (
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a) FROM t",
                &["f:percentile_cont", "t:t"],
            ),
            ("SELECT filter(1), over(2)", &["f:filter", "f:over"]),
            // SQL-syntax functions keep their keyword; FROM in their parentheses is no table.
            ("SELECT extract(year FROM ts) FROM t", &["f:extract", "t:t"]),
            ("SELECT substring(s FROM 2 FOR 3), trim(BOTH 'x' FROM s)", &["f:substring", "f:trim"]),
            (
                "SELECT overlay(s PLACING 'x' FROM 2 FOR 1), position('a' IN s)",
                &["f:overlay", "f:position"],
            ),
            (
                "SELECT substring(s FROM (SELECT n FROM t) FOR (f(1)))",
                &["f:substring", "t:t", "f:f"],
            ),
            ("SELECT pg_catalog.substring(s FROM x)", &["f:pg_catalog.substring", "t:x"]),
            // CTEs: `AS (`, column lists, MATERIALIZED.
            ("WITH x AS (SELECT f(1)) SELECT 1", &["f:f"]),
            ("WITH x(a, b) AS (SELECT 1, 2) SELECT 1", &[]),
            ("WITH RECURSIVE x(n) AS (SELECT 1) SELECT 1", &[]),
            ("WITH x AS MATERIALIZED (SELECT 1), y AS NOT MATERIALIZED (SELECT 2) SELECT 1", &[]),
            ("WITH pg_sleep(a) AS (SELECT 1) SELECT 1", &[]),
            // Not valid SQL; after `AS` a name is a type or an alias, never a call.
            ("WITH x AS pg_sleep(1) SELECT 1", &[]),
            // INSERT, ON CONFLICT, MERGE actions, UPDATE SET lists.
            ("INSERT INTO t (a, b) VALUES (f(1), 2)", &["t:t", "f:f"]),
            ("INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET (b, c) = (1, 2)", &["t:t"]),
            ("INSERT INTO t VALUES (1) ON CONFLICT ON CONSTRAINT k DO NOTHING", &["t:t"]),
            ("SELECT * FROM a JOIN b ON conflict(a.x)", &["t:a", "t:b", "f:conflict"]),
            ("SELECT CASE WHEN a THEN insert(1) END", &["f:insert"]),
            // DDL.
            (
                "CREATE TABLE t (a varchar(10) CHECK (length(a) > 0), b int, PRIMARY KEY (a), \
                 FOREIGN KEY (b) REFERENCES u (c), UNIQUE (b))",
                &["t:t", "f:length", "t:u"],
            ),
            ("CREATE TABLE t (id int DEFAULT nextval('s'))", &["t:t", "f:nextval"]),
            ("CREATE TYPE e AS ENUM ('a'), r AS RANGE (subtype = int)", &[]),
            ("CREATE FUNCTION f(a int) RETURNS TABLE (b int) AS $$ SELECT 1 $$", &["f:f"]),
            ("CREATE INDEX i ON t (lower(a))", &["f:t", "f:lower"]),
            // A name after a `:` pair is a type; a single `:` is an array slice.
            ("SELECT a[1:f(2)]", &["f:f"]),
        ]);
    }

    #[test]
    fn table_rules() {
        check(&[
            // FROM and its lists.
            ("SELECT * FROM t", &["t:t"]),
            ("SELECT * FROM a, b, c", &["t:a", "t:b", "t:c"]),
            ("SELECT * FROM a x, b AS y, c \"z\"", &["t:a", "t:b", "t:c"]),
            ("SELECT * FROM public.users u WHERE u.id = 1", &["t:public.users"]),
            ("SELECT * FROM db.public.users", &["t:db.public.users"]),
            (
                "SELECT * FROM \"My Table\", \"public\".\"Users\"",
                &["t:\"My Table\"", "t:\"public\".\"Users\""],
            ),
            ("SELECT * FROM ONLY a, ONLY (b), c *", &["t:a", "t:b", "t:c"]),
            ("SELECT * FROM t AS x (a, b), u", &["t:t", "t:u"]),
            ("select * from T join U using (id)", &["t:T", "t:U"]),
            ("SELECT FROM t", &["t:t"]),
            ("SELECT DISTINCT FROM t", &["t:t"]),
            // Every join form; ON and USING stay in the list.
            (
                "SELECT * FROM a JOIN b ON a.id = b.id LEFT JOIN c USING (id) \
                 LEFT OUTER JOIN d ON true RIGHT JOIN e ON true FULL OUTER JOIN f ON true \
                 INNER JOIN g ON true CROSS JOIN h NATURAL JOIN i NATURAL LEFT JOIN j, k",
                &["t:a", "t:b", "t:c", "t:d", "t:e", "t:f", "t:g", "t:h", "t:i", "t:j", "t:k"],
            ),
            (
                "SELECT * FROM a JOIN b ON (a.x = b.x) JOIN c ON f(a.y), d WHERE g(1)",
                &["t:a", "t:b", "t:c", "f:f", "t:d", "f:g"],
            ),
            (
                "SELECT * FROM a JOIN b ON CASE WHEN x THEN true ELSE false END, c",
                &["t:a", "t:b", "t:c"],
            ),
            ("SELECT * FROM a JOIN b ON a.x IS DISTINCT FROM b.x, c", &["t:a", "t:b", "t:c"]),
            ("SELECT * FROM a JOIN b USING (id) AS j, c", &["t:a", "t:b", "t:c"]),
            ("SELECT * FROM a JOIN (b JOIN c ON true) ON true", &["t:a", "t:b", "t:c"]),
            ("SELECT * FROM (a CROSS JOIN b) AS j (x, y)", &["t:a", "t:b"]),
            ("SELECT * FROM a, LATERAL (SELECT * FROM b) AS s, c", &["t:a", "t:b", "t:c"]),
            // Clause keywords end the list.
            ("SELECT * FROM a WHERE x IN (1, 2) GROUP BY a, b ORDER BY c, d", &["t:a"]),
            ("SELECT * FROM a GROUP BY x, y HAVING count(*) > 1", &["t:a", "f:count"]),
            ("SELECT * FROM a ORDER BY b, c LIMIT 1 OFFSET 2", &["t:a"]),
            ("SELECT * FROM a FETCH FIRST 1 ROWS ONLY", &["t:a"]),
            ("SELECT * FROM a FOR UPDATE OF a SKIP LOCKED", &["t:a"]),
            (
                "SELECT * FROM a UNION SELECT * FROM b INTERSECT SELECT * FROM c",
                &["t:a", "t:b", "t:c"],
            ),
            ("SELECT * FROM a EXCEPT TABLE b", &["t:a", "t:b"]),
            ("SELECT * FROM a WINDOW w AS (ORDER BY x), v AS (ORDER BY y)", &["t:a"]),
            // Subqueries are not tables; the tables inside them are.
            ("SELECT * FROM (SELECT * FROM a) AS s, b", &["t:a", "t:b"]),
            ("SELECT * FROM (SELECT * FROM (SELECT * FROM a) x) y", &["t:a"]),
            ("SELECT * FROM (VALUES (1, 2)) AS v (a, b)", &[]),
            ("SELECT * FROM (TABLE a) s", &["t:a"]),
            ("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s", &["t:x"]),
            ("SELECT * FROM ((SELECT 1)) s, t", &["t:t"]),
            ("SELECT (SELECT max(a) FROM b), c FROM d", &["f:max", "t:b", "t:d"]),
            ("SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.x = a.x)", &["t:a", "t:b"]),
            // Functions in FROM are functions.
            ("SELECT * FROM generate_series(1, 3)", &["f:generate_series"]),
            ("SELECT * FROM generate_series(1, 3) AS g(i), t", &["f:generate_series", "t:t"]),
            ("SELECT * FROM generate_series(1, 3) g (i)", &["f:generate_series"]),
            ("SELECT * FROM unnest(a) WITH ORDINALITY AS u(x, n)", &["f:unnest"]),
            ("SELECT * FROM pg_catalog.pg_ls_dir('.')", &["f:pg_catalog.pg_ls_dir"]),
            ("SELECT * FROM a JOIN LATERAL f(a.x) AS g ON true", &["t:a", "f:f"]),
            ("SELECT * FROM ROWS FROM (f(1), g(2)) AS r", &["f:f", "f:g"]),
            ("SELECT * FROM left('abc', 1)", &["f:left"]),
            (
                "SELECT * FROM t TABLESAMPLE system (10) REPEATABLE (1), u",
                &["t:t", "f:system", "t:u"],
            ),
            ("SELECT * FROM t AS pg_sleep(a)", &["t:t"]),
            ("SELECT * FROM t pg_sleep(pg_sleep(1))", &["t:t", "f:pg_sleep"]),
            // IS DISTINCT FROM is not a FROM clause.
            ("SELECT a IS DISTINCT FROM b, c IS NOT DISTINCT FROM d", &[]),
            // UPDATE, INSERT, DELETE, MERGE.
            ("UPDATE t SET a = 1", &["t:t"]),
            (
                "UPDATE ONLY t AS x SET a = f(1) FROM u, v WHERE x.id = u.id",
                &["t:t", "f:f", "t:u", "t:v"],
            ),
            ("UPDATE t x SET (a, b) = (SELECT 1, 2 FROM u)", &["t:t", "t:u"]),
            ("INSERT INTO t VALUES (1)", &["t:t"]),
            ("INSERT INTO s.t AS x (a) SELECT a FROM u RETURNING *", &["t:s.t", "t:u"]),
            ("INSERT INTO t (SELECT * FROM u)", &["t:t", "t:u"]),
            ("INSERT INTO t DEFAULT VALUES", &["t:t"]),
            ("INSERT INTO t TABLE u", &["t:t", "t:u"]),
            ("DELETE FROM t WHERE a = 1", &["t:t"]),
            (
                "DELETE FROM ONLY t AS x USING u, v JOIN w USING (id) WHERE true",
                &["t:t", "t:u", "t:v", "t:w"],
            ),
            ("DELETE FROM t USING (SELECT * FROM u) s RETURNING f(1)", &["t:t", "t:u", "f:f"]),
            (
                "MERGE INTO t AS x USING u ON x.id = u.id \
                 WHEN MATCHED AND u.a > 1 THEN UPDATE SET a = u.a, b = 2 \
                 WHEN NOT MATCHED THEN INSERT (id, a) VALUES (u.id, u.a)",
                &["t:t", "t:u"],
            ),
            (
                "MERGE INTO ONLY t USING (SELECT * FROM u) s ON CASE WHEN a THEN b END WHEN \
              MATCHED THEN DELETE",
                &["t:t", "t:u"],
            ),
            // FOR UPDATE, ON UPDATE, DO UPDATE, THEN UPDATE are not UPDATE statements.
            ("SELECT 1 FROM t FOR UPDATE NOWAIT", &["t:t"]),
            ("INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET b = 1, c = 2", &["t:t"]),
            ("GRANT SELECT (a), UPDATE (b) ON t TO r", &[]),
            ("GRANT UPDATE ON TABLE t, u TO r", &["t:t", "t:u"]),
            // Data-modifying CTEs and WITH main verbs.
            ("WITH x AS (DELETE FROM a RETURNING *) UPDATE b SET c = 1", &["t:a", "t:b"]),
            ("WITH x AS (UPDATE a SET c = 1 RETURNING *) SELECT * FROM x", &["t:a", "t:x"]),
            (
                "WITH x AS (INSERT INTO a VALUES (1) RETURNING *) INSERT INTO b TABLE x",
                &["t:a", "t:b", "t:x"],
            ),
            ("EXPLAIN ANALYZE UPDATE t SET a = 1", &["t:t"]),
            ("EXPLAIN UPDATE t SET a = 1", &["t:t"]),
            ("CREATE RULE r AS ON UPDATE TO t DO INSTEAD UPDATE u SET a = 1", &["t:u"]),
            ("CREATE RULE r AS ON INSERT TO t DO UPDATE u SET a = 1", &["t:u"]),
            ("CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM u", &["t:u"]),
            // TRUNCATE, LOCK, COPY, TABLE.
            ("TRUNCATE a", &["t:a"]),
            ("TRUNCATE TABLE ONLY a, b *, c RESTART IDENTITY CASCADE", &["t:a", "t:b", "t:c"]),
            ("LOCK a, b IN ACCESS EXCLUSIVE MODE NOWAIT", &["t:a", "t:b"]),
            ("LOCK TABLE ONLY a", &["t:a"]),
            ("COPY t TO STDOUT", &["t:t"]),
            ("COPY t (a, b) FROM STDIN WITH (FORMAT csv)", &["t:t"]),
            ("COPY BINARY t FROM '/tmp/x'", &["t:t"]),
            ("COPY t FROM PROGRAM 'x' WHERE a IN (SELECT a FROM u)", &["t:t", "t:u"]),
            ("COPY (SELECT * FROM t) TO STDOUT", &["t:t"]),
            ("TABLE t", &["t:t"]),
            ("TABLE ONLY public.t", &["t:public.t"]),
            // ALTER, DROP, CREATE TABLE.
            ("ALTER TABLE t ADD COLUMN a int, ADD COLUMN b int", &["t:t"]),
            ("ALTER TABLE IF EXISTS ONLY t RENAME TO u", &["t:t"]),
            (
                "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (b) ON DELETE CASCADE",
                &["t:t", "t:u"],
            ),
            ("DROP TABLE t", &["t:t"]),
            ("DROP TABLE IF EXISTS a, b CASCADE", &["t:a", "t:b"]),
            ("DROP TABLE IF EXISTS exists", &["t:exists"]),
            ("CREATE TABLE t (a int)", &["t:t"]),
            ("CREATE TEMP TABLE IF NOT EXISTS t (a int)", &["t:t"]),
            ("CREATE TABLE if (a int)", &["t:if"]),
            ("CREATE TABLE t AS SELECT * FROM u", &["t:t", "t:u"]),
            ("CREATE TABLE t AS TABLE u", &["t:t", "t:u"]),
            ("CREATE TABLE t (a int) USING heap WITH (fillfactor = 70)", &["t:t"]),
            ("CREATE TABLE t (b int REFERENCES u, c int)", &["t:t", "t:u"]),
            // SELECT INTO.
            ("SELECT * INTO t FROM u", &["t:t", "t:u"]),
            ("SELECT a, b INTO TEMP TABLE t FROM u", &["t:t", "t:u"]),
            ("SELECT * INTO UNLOGGED t FROM u", &["t:t", "t:u"]),
            ("SELECT * INTO TABLE temp FROM u", &["t:temp", "t:u"]),
            ("SELECT 1 INTO LOCAL TEMPORARY t", &["t:t"]),
            ("SELECT 1 INTO temp", &["t:temp"]),
            ("SELECT 1 INTO temp FROM u", &["t:temp", "t:u"]),
            ("SELECT 1 INTO TEMP \"x\" FROM u", &["t:\"x\"", "t:u"]),
            // CTE names are tables when referenced, not where defined.
            ("WITH x AS (SELECT * FROM orders) SELECT * FROM x", &["t:orders", "t:x"]),
            (
                "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 5) \
              SELECT sum(n) FROM t",
                &["t:t", "f:sum", "t:t"],
            ),
            (
                "WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM a, b",
                &["t:a", "t:a", "t:b"],
            ),
            // FROM that names no table.
            ("REVOKE SELECT ON TABLE t FROM r", &["t:t"]),
            ("COMMENT ON TABLE t IS 'x'", &["t:t"]),
            // Not table positions (see the module documentation).
            ("GRANT SELECT ON t TO r", &[]),
            ("VACUUM t; ANALYZE t; CLUSTER t", &[]),
            ("CREATE TABLE t (LIKE u) INHERITS (v)", &["t:t", "f:INHERITS"]),
            ("FETCH 5 FROM c", &[]),
            ("MOVE NEXT FROM c", &[]),
            // Several statements.
            ("SELECT * FROM a; DELETE FROM b; TRUNCATE c", &["t:a", "t:b", "t:c"]),
            // Other constructs with WITH.
            ("SELECT '1'::timestamp WITH TIME ZONE FROM t", &["t:t"]),
            (
                "CREATE VIEW v WITH (security_barrier) AS SELECT * FROM t WITH CHECK OPTION",
                &["t:t"],
            ),
        ]);
    }

    #[test]
    fn hiding_and_case() {
        check(&[
            ("SELECT 'pg_sleep(1)'", &[]),
            ("SELECT E'pg_sleep(1)', $q$pg_sleep(1)$q$, B'0', X'00', N'pg_sleep(1)'", &[]),
            ("SELECT pg_sleep /* ( */ , f(1)", &["f:f"]),
            (
                "SELECT \"pg_sleep\"(1), \"PG_SLEEP\"(1), PG_SLEEP(1), Pg_Sleep(1)",
                &["f:\"pg_sleep\"", "f:\"PG_SLEEP\"", "f:PG_SLEEP", "f:Pg_Sleep"],
            ),
            ("SELECT \"a\"\"b\"(1) FROM \"x\"\"y\"", &["f:\"a\"\"b\"", "t:\"x\"\"y\""]),
            ("SELECT pg_/**/sleep(1)", &["f:sleep"]),
            ("SELECT pg_sleep--\n(1)", &["f:pg_sleep"]),
            ("SeLeCt * FrOm T jOiN u On TrUe", &["t:T", "t:u"]),
            (
                "SELECT * FROM \"from\", t.from, \"select\"",
                &["t:\"from\"", "t:t.from", "t:\"select\""],
            ),
        ]);
        // The three spellings that PostgreSQL resolves to pg_sleep are flagged; the quoted
        // upper-case one names another function.
        for (q, dangerous) in [
            ("SELECT pg_sleep(1)", true),
            ("SELECT PG_SLEEP(1)", true),
            ("SELECT \"pg_sleep\"(1)", true),
            ("SELECT pg_catalog.pg_sleep(1)", true),
            ("SELECT \"PG_SLEEP\"(1)", false),
            ("SELECT pg_/**/sleep(1)", false),
            ("SELECT 'pg_sleep(1)'", false),
        ] {
            assert_eq!(analyze(q.as_bytes()).unwrap().functions_flagged, dangerous, "{q}");
        }
    }

    #[test]
    fn errors_stop_names() {
        assert_eq!(events("SELECT U&\"\\0070g_sleep\"(1)"), Err(SqlError::UnicodeEscape));
        assert_eq!(events("SELECT u&'pg_sleep(1)'"), Err(SqlError::UnicodeEscape));
        assert_eq!(events("SELECT * FROM U&\"t\""), Err(SqlError::UnicodeEscape));
        // Events already delivered do not make an error less final.
        let mut seen = Vec::new();
        let r = analyze_with(b"SELECT f(1); SELECT (", &mut |e| seen.push(e));
        assert_eq!(r, Err(SqlError::Unbalanced));
        assert_eq!(seen.len(), 1);
    }

    fn name(input: &str) -> SqlName<'_> {
        let mut found = None;
        analyze_with(input.as_bytes(), &mut |e| {
            let (SqlEvent::Function(n) | SqlEvent::Table(n)) = e;
            found.get_or_insert(n);
        })
        .unwrap();
        found.unwrap()
    }

    #[test]
    fn name_parts() {
        let q = "SELECT * FROM db.\"Sch\"\"x\" . Tab";
        let n = name(q);
        assert_eq!(n.parts().len(), 3);
        let raw: Vec<(&[u8], bool)> = n.parts().iter().map(|p| (p.raw(), p.is_quoted())).collect();
        assert_eq!(raw, [(&b"db"[..], false), (&b"Sch\"\"x"[..], true), (&b"Tab"[..], false)]);
        assert_eq!(n.last().raw(), b"Tab");
        // Of a longer name, the last three parts.
        let n = name("SELECT a.b.c.d.e(1)");
        let raw: Vec<&[u8]> = n.parts().iter().map(SqlIdent::raw).collect();
        assert_eq!(raw, [&b"c"[..], b"d", b"e"]);
        // Names borrow from the input and can be kept.
        let input = String::from("SELECT * FROM a, b");
        let mut kept: Vec<SqlName<'_>> = Vec::new();
        analyze_with(input.as_bytes(), &mut |e| {
            if let SqlEvent::Table(n) = e {
                kept.push(n);
            }
        })
        .unwrap();
        assert!(kept[0].last_eq(b"a") && kept[1].last_eq(b"b"));
    }

    #[test]
    fn name_comparison() {
        // (SQL name, pattern, last_eq, eq_qualified = may_be, surely_is)
        let cases: &[(&str, &str, bool, bool, bool)] = &[
            ("users", "users", true, true, true),
            ("USERS", "users", true, true, true),
            ("\"users\"", "users", true, true, true),
            ("\"Users\"", "users", false, false, false),
            ("\"Users\"", "Users", true, true, true),
            ("Users", "Users", false, false, false),
            ("public.users", "users", true, true, true),
            ("\"public\".users", "users", true, true, true),
            ("PUBLIC.users", "users", true, true, true),
            ("\"PUBLIC\".users", "users", true, true, false),
            ("other.users", "users", true, true, false),
            ("public.users", "public.users", false, true, true),
            ("\"public\".USERS", "public.users", false, true, true),
            ("users", "public.users", false, true, false),
            ("other.users", "public.users", false, false, false),
            ("db.public.users", "public.users", false, true, false),
            ("db.public.users", "users", true, true, false),
            ("db.public.users", "db.public.users", false, true, true),
            ("db.other.users", "db.public.users", false, false, false),
            ("x.db.public.users", "db.public.users", false, true, true),
            ("public.users", "", false, false, false),
            ("public.users", "public..users", false, false, false),
            ("public.users", ".users", false, false, false),
            ("public.users", "users.", false, false, false),
            ("\"a\"\"b\"", "a\"b", true, true, true),
            ("\"a.b\"", "a.b", true, false, false),
            ("\"\"", "", true, false, false),
            // A pattern part ending in `*` is a prefix.
            ("pg_catalog.pg_class", "pg_*", true, true, false),
            ("pg_catalog.pg_class", "pg_catalog.*", false, true, true),
            ("public.users", "*", true, true, true),
            ("other.users", "*", true, true, false),
            ("\"PG_X\"", "pg_*", false, false, false),
            ("PG_X", "pg_*", true, true, true),
            ("pg", "pg_*", false, false, false),
            ("users", "public.*", false, true, false),
        ];
        for (sql, pattern, last, may, sure) in cases {
            let q = std::format!("SELECT * FROM {sql}");
            let n = name(&q);
            let p = pattern.as_bytes();
            assert_eq!(n.last_eq(p), *last, "{sql} last_eq {pattern}");
            assert_eq!(n.eq_qualified(p), *may, "{sql} eq_qualified {pattern}");
            assert_eq!(n.may_be(p), *may, "{sql} may_be {pattern}");
            assert_eq!(n.surely_is(p), *sure, "{sql} surely_is {pattern}");
            // A sure match is a possible match.
            assert!(!sure || *may);
        }
    }

    #[test]
    fn identifiers_truncate_at_63_bytes() {
        let long63 = "a".repeat(63);
        let long70 = "a".repeat(70);
        for (sql, pattern, want) in [
            (long70.clone(), long63.clone(), true),
            (long63.clone(), long70.clone(), true),
            (long70.to_uppercase(), long63.clone(), true),
            (std::format!("\"{long70}\""), long63.clone(), true),
            (std::format!("{long63}b"), long63.clone(), true),
            ("a".repeat(62), long63.clone(), false),
            // 62 ASCII bytes and a two-byte character: cut before the character.
            (std::format!("\"{}\u{e9}\"", "a".repeat(62)), "a".repeat(62), true),
            (
                std::format!("\"{}\u{e9}\"", "a".repeat(61)),
                std::format!("{}\u{e9}", "a".repeat(61)),
                true,
            ),
            // `""` counts as one byte.
            (
                std::format!("\"{}\"\"x\"", "a".repeat(62)),
                std::format!("{}\"", "a".repeat(62)),
                true,
            ),
        ] {
            let q = std::format!("SELECT * FROM {sql}");
            assert_eq!(name(&q).last_eq(pattern.as_bytes()), want, "{sql} vs {pattern}");
        }
        // Every dangerous name is shorter, so truncation cannot produce one.
        assert!(DANGEROUS_FUNCTIONS.iter().all(|f| f.len() < MAX_IDENTIFIER_BYTES));
    }

    #[test]
    fn dangerous_function_list() {
        let required = [
            "pg_read_file",
            "pg_read_binary_file",
            "pg_ls_dir",
            "pg_stat_file",
            "pg_file_write",
            "pg_sleep",
            "pg_sleep_for",
            "pg_sleep_until",
            "lo_import",
            "lo_export",
            "lo_get",
            "lo_put",
            "lo_from_bytea",
            "lo_unlink",
            "dblink",
            "dblink_exec",
            "dblink_connect",
            "dblink_send_query",
            "pg_terminate_backend",
            "pg_cancel_backend",
            "pg_reload_conf",
            "pg_rotate_logfile",
            "set_config",
            "pg_advisory_lock",
            "nextval",
            "setval",
            "query_to_xml",
            "pg_execute_server_program",
        ];
        // `current_setting` only reads, and everyday queries use it: deliberately not listed.
        assert!(!DANGEROUS_FUNCTIONS.contains(&"current_setting"));
        for f in required {
            assert!(DANGEROUS_FUNCTIONS.contains(&f), "{f}");
        }
        let mut sorted: Vec<&str> = DANGEROUS_FUNCTIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), DANGEROUS_FUNCTIONS.len(), "no duplicates");
        for f in DANGEROUS_FUNCTIONS {
            assert!(f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            // Each is recognised as written, upper-cased, quoted, qualified and in FROM.
            for q in [
                std::format!("SELECT {f}(1)"),
                std::format!("SELECT {}(1)", f.to_uppercase()),
                std::format!("SELECT \"{f}\"(1)"),
                std::format!("SELECT pg_catalog.{f}(1)"),
                std::format!("SELECT * FROM {f}(1) AS x(a)"),
            ] {
                assert!(analyze(q.as_bytes()).unwrap().functions_flagged, "{q}");
            }
            let q = std::format!("SELECT \"{}\"(1)", f.to_uppercase());
            assert!(!analyze(q.as_bytes()).unwrap().functions_flagged, "{q}");
        }
    }

    #[test]
    fn context_depth_limit() {
        // `n` parentheses, each directly after `FROM`.
        let nested = |n: usize| {
            std::format!(
                "SELECT * FROM {}(SELECT 1{}",
                "(SELECT * FROM ".repeat(n - 1),
                ") x".repeat(n)
            )
        };
        assert_eq!(analyze(nested(1).as_bytes()).unwrap().statement_count, 1);
        assert_eq!(events(&nested(MAX_CONTEXT_DEPTH)), Ok(Vec::new()));
        assert_eq!(analyze(nested(MAX_CONTEXT_DEPTH + 1).as_bytes()), Err(SqlError::TooDeep));
        // Plain nesting and nested calls in expressions cost nothing.
        let calls = std::format!("SELECT {}1{}", "f(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(events(&calls).unwrap().len(), 10_000);
        // Contexts are restored level by level.
        let q = "SELECT * FROM a JOIN (SELECT * FROM (b JOIN c ON (d(1))) x) y ON (true), e";
        assert_eq!(events(q).unwrap(), ["t:a", "t:b", "t:c", "f:d", "t:e"]);
    }

    /// Words and punctuation (no literals, comments or quotes) for the metamorphic tests.
    const NAME_PIECES: &[&str] = &[
        "SELECT",
        "FROM",
        "JOIN",
        "LEFT",
        "ON",
        "USING",
        "WHERE",
        "AS",
        "WITH",
        "INTO",
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "TABLE",
        "ONLY",
        "LATERAL",
        "VALUES",
        "SET",
        "TRUNCATE",
        "COPY",
        "LOCK",
        "CASE",
        "WHEN",
        "END",
        "UNION",
        "REFERENCES",
        "DISTINCT",
        "IS",
        "EXTRACT",
        "t",
        "u",
        "pg_sleep",
        "f",
        "x",
        "(",
        ")",
        ",",
        ".",
        "*",
        "=",
        "1",
        "::",
        "$1",
        ";",
    ];

    fn rendered(input: &str) -> Result<Vec<String>, SqlError> {
        events(input).map(|v| v.into_iter().map(|e| e.to_lowercase()).collect())
    }

    proptest! {
        #[test]
        fn names_are_in_the_input(input in proptest::collection::vec(any::<u8>(), 0..96)) {
            let mut names = Vec::new();
            let result = analyze_with(&input, &mut |e| names.push(e));
            if let Ok(summary) = result {
                prop_assert_eq!(Ok(summary), analyze(&input));
            }
            let range = input.as_ptr_range();
            for e in names {
                let (SqlEvent::Function(n) | SqlEvent::Table(n)) = e;
                prop_assert!((1..=3).contains(&n.parts().len()));
                for p in n.parts() {
                    let raw = p.raw();
                    prop_assert!(range.contains(&raw.as_ptr()) || raw.is_empty());
                    prop_assert!(input.windows(raw.len().max(1)).any(|w| w == raw) || raw.is_empty());
                }
            }
        }

        #[test]
        fn names_sql_shaped(
            words in proptest::collection::vec(proptest::sample::select(NAME_PIECES), 0..32),
        ) {
            let input = words.join(" ");
            let bytes = input.as_bytes();
            let mut names = Vec::new();
            let result = analyze_with(bytes, &mut |e| names.push(e));
            prop_assert_eq!(result.map(|s| s.statement_count), analyze(bytes).map(|s| s.statement_count));
            let base = bytes.as_ptr() as usize;
            for e in names {
                let (SqlEvent::Function(n) | SqlEvent::Table(n)) = e;
                let last = n.last().raw();
                let start = (last.as_ptr() as usize).checked_sub(base).unwrap();
                prop_assert_eq!(&bytes[start..start + last.len()], last);
                let rest = input[start + last.len()..].trim_start();
                match e {
                    // A function is always directly followed by `(`.
                    SqlEvent::Function(_) => prop_assert!(rest.starts_with('('), "{input}"),
                    // A table name is complete: no `.` and another part follow.
                    SqlEvent::Table(_) => {
                        let after_dot = rest.strip_prefix('.').map(str::trim_start);
                        prop_assert!(
                            !after_dot.is_some_and(|r| r.starts_with(|c: char| {
                                c.is_ascii_alphabetic() || c == '_' || c == '"'
                            })),
                            "{input}"
                        );
                    }
                }
            }
            // Comments, line breaks and case do not change what is found.
            let commented = input.replace(' ', " /* ( x */ ");
            prop_assert_eq!(rendered(&commented), rendered(&input));
            let broken = input.replace(' ', "--\n");
            prop_assert_eq!(rendered(&broken), rendered(&input));
            prop_assert_eq!(rendered(&input.to_uppercase()), rendered(&input));
        }

        #[test]
        fn sure_matches_are_possible_matches(
            name in "[a-cA-C\"]{1,3}(\\.[a-cA-C\"]{1,3}){0,3}",
            pattern in "[a-c*]{0,3}(\\.[a-c*]{0,3}){0,3}",
        ) {
            let q = std::format!("SELECT * FROM {name}");
            let mut names = Vec::new();
            if analyze_with(q.as_bytes(), &mut |e| names.push(e)).is_ok() {
                for e in names {
                    let (SqlEvent::Function(n) | SqlEvent::Table(n)) = e;
                    let p = pattern.as_bytes();
                    prop_assert!(!n.surely_is(p) || n.may_be(p), "{q} {pattern}");
                    prop_assert_eq!(n.may_be(p), n.eq_qualified(p));
                    // Unquoted names compare as their lowercase spelling.
                    let lower = std::format!("SELECT * FROM {}", name.to_lowercase());
                    if !name.contains('"') {
                        let m = self::name(&lower);
                        prop_assert_eq!(m.may_be(p), n.may_be(p));
                        prop_assert_eq!(m.surely_is(p), n.surely_is(p));
                    }
                }
            }
        }

        #[test]
        fn literals_hide_names(body in "[ -~\n]{0,40}") {
            let quoted = body.replace('\\', "").replace('\'', "''");
            let q = std::format!("SELECT f(1), '{quoted}' FROM t");
            prop_assert_eq!(events(&q).unwrap(), ["f:f", "t:t"]);
            prop_assume!(!body.contains("$q$"));
            let q = std::format!("SELECT $q${body}$q$ FROM t");
            prop_assert_eq!(events(&q).unwrap(), ["t:t"]);
            let q = std::format!("SELECT 1 FROM t -- {}\n", body.replace(['\n', '\r'], ""));
            prop_assert_eq!(events(&q).unwrap(), ["t:t"]);
            let q = std::format!("SELECT \"{}\" FROM t", body.replace('"', "\"\""));
            prop_assert_eq!(events(&q).unwrap(), ["t:t"]);
        }
    }

    /// Fragments that exercise the tokenizer's and classifier's states when concatenated.
    const PIECES: &[&str] = &[
        "SELECT ", "WITH ", "x AS ", "(", ")", "DELETE ", "INTO ", "EXPLAIN ", "ANALYZE ", "; ",
        "'", "E'", "\\", "$$", "$a$", "--", "\n", "/*", "*/", "\"", "1", "e", "$1", ",", "U&",
        "pg_sleep", "SEARCH ", "é", "FROM ", "JOIN ", "TABLE ", "INTO ", "ON ", "t", ".", "AS ",
        "USING ", "CASE ", "END ", "MERGE ", "UPDATE ", "ONLY ", "::",
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
            let input = input.concat();
            let range = input.as_bytes().as_ptr_range();
            let mut inside = true;
            let result = analyze_with(input.as_bytes(), &mut |e| {
                let (SqlEvent::Function(n) | SqlEvent::Table(n)) = e;
                inside &= n.parts().iter().all(|p| {
                    p.raw().is_empty() || range.contains(&p.raw().as_ptr())
                });
            });
            prop_assert!(inside);
            prop_assert_eq!(result, analyze(input.as_bytes()));
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
