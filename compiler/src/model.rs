//! The policy YAML schema, version 1, as serde types with source spans.
//!
//! This is a boundary: `docs/policy-schema.md` documents it for authors, and any change that
//! makes an old policy mean something else needs a new `version`. Unknown fields are errors so
//! that a typo (`efect:`) never silently drops a rule's meaning.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// Deserialises an optional field that, when written, must hold a value: an explicit YAML
/// `null` (`tool: null`, `type: null`, `pattern: ~`) is an error instead of "absent", because
/// silently dropping a constraint or a match can only widen what a rule allows.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Schema version; must be 1.
    pub version: Spanned<u32>,
    /// The policy's name, recorded in the artifact and in audit records.
    pub name: Spanned<String>,
    /// Free text for people.
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    /// What happens when no rule matches. Omitted means deny.
    #[serde(default, deserialize_with = "present")]
    pub default: Option<Spanned<DefaultSpec>>,
    /// Argument schemas per exact tool name.
    #[serde(default)]
    pub tools: BTreeMap<String, Spanned<ToolSpec>>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<Spanned<RuleSpec>>,
    /// What audit logs may keep of each call's arguments.
    #[serde(default, deserialize_with = "present")]
    pub audit: Option<Spanned<AuditSpec>>,
}

/// `audit:`: the most of a call's arguments an audit log may keep.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    /// `none`, `digest`, `redacted` or `full`.
    pub args: AuditArgsName,
    /// With `redacted`: the argument members (dotted paths) replaced in the log.
    #[serde(default)]
    pub redact: Vec<String>,
}

/// Audit argument allowances as written in YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditArgsName {
    /// Nothing, not even a digest.
    None,
    /// A digest of the canonical arguments.
    Digest,
    /// The arguments with `redact` members replaced.
    Redacted,
    /// The full arguments.
    Full,
}

/// `default: deny` or `default: {effect: deny, reason: ..., risk: ...}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DefaultSpec {
    /// Just the effect.
    Effect(EffectName),
    /// Effect with reason and risk.
    Full(DefaultFull),
}

/// The long form of `default`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultFull {
    /// The effect.
    pub effect: EffectName,
    /// The human reason.
    #[serde(default, deserialize_with = "present")]
    pub reason: Option<String>,
    /// The risk.
    #[serde(default, deserialize_with = "present")]
    pub risk: Option<RiskName>,
}

/// Effects as written in YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectName {
    /// `allow`
    Allow,
    /// `deny`
    Deny,
    /// `require_approval`
    RequireApproval,
}

/// Risks as written in YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskName {
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
    /// `critical`
    Critical,
}

/// A string or a list of strings.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => vec![value.clone()],
            OneOrMany::Many(values) => values.clone(),
        }
    }
}

/// One rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, used in decisions and audit records.
    pub id: Spanned<String>,
    /// What the rule decides when it matches.
    pub effect: Spanned<EffectName>,
    /// Why, for people.
    pub reason: Spanned<String>,
    /// Risk; defaults by effect (allow: low, require_approval: medium, deny: high).
    #[serde(default, deserialize_with = "present")]
    pub risk: Option<RiskName>,
    /// MCP methods; defaults to `tools/call`; `"*"` for any.
    #[serde(default, deserialize_with = "present")]
    pub method: Option<Spanned<OneOrMany>>,
    /// Upstream server names or globs; any when omitted.
    #[serde(default, deserialize_with = "present")]
    pub server: Option<Spanned<OneOrMany>>,
    /// Tool names or globs; any when omitted.
    #[serde(default, deserialize_with = "present")]
    pub tool: Option<Spanned<OneOrMany>>,
    /// Who may (or may not) make the call.
    #[serde(default, deserialize_with = "present")]
    pub principal: Option<Spanned<PrincipalSpec>>,
    /// Constraints on named arguments: each listed argument must be present and satisfy
    /// every constraint for the rule to match.
    #[serde(default)]
    pub args: BTreeMap<String, Spanned<ArgSpec>>,
    /// A condition in the expression language (`grammar/GRAMMAR.md`).
    #[serde(default, deserialize_with = "present")]
    pub when: Option<Spanned<String>>,
}

/// Principal match.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSpec {
    /// Principal ids (any of).
    #[serde(default, deserialize_with = "present")]
    pub id: Option<OneOrMany>,
    /// Roles (the principal must have at least one).
    #[serde(default, deserialize_with = "present")]
    pub roles: Option<OneOrMany>,
}

/// A tool's argument schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// Declared arguments.
    #[serde(default)]
    pub args: BTreeMap<String, Spanned<ArgSpec>>,
    /// `deny` to refuse calls with arguments not declared in `args`.
    #[serde(default, deserialize_with = "present")]
    pub unknown_args: Option<UnknownArgs>,
    /// The tool's `inputSchema` as its MCP server publishes it (a JSON Schema subset), checked
    /// like `args` (see `crate::json_schema`).
    #[serde(default, deserialize_with = "present")]
    pub input_schema: Option<Spanned<serde_json::Value>>,
}

/// What to do with undeclared arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownArgs {
    /// Accept them.
    Allow,
    /// Deny the call.
    Deny,
}

/// JSON types as written in YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeName {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `boolean`
    Boolean,
    /// `array`
    Array,
    /// `object`
    Object,
    /// `null`
    Null,
}

/// One type or several.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Types {
    /// One type.
    One(TypeName),
    /// Any of several.
    Many(Vec<TypeName>),
}

/// A numeric bound: an integer, or a decimal written in the policy (compared exactly, as the
/// shortest decimal that reads back as the same double).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Number {
    /// An integer.
    Integer(i64),
    /// A decimal.
    Decimal(f64),
}

/// A scalar in an `enum` list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A string.
    String(String),
}

/// Constraints on one argument.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    /// JSON type(s).
    #[serde(default, deserialize_with = "present", rename = "type")]
    pub types: Option<Types>,
    /// Tool schemas only: the argument must be present.
    #[serde(default, deserialize_with = "present")]
    pub required: Option<bool>,
    /// Allowed values.
    #[serde(default, deserialize_with = "present", rename = "enum")]
    pub values: Option<Vec<Scalar>>,
    /// Minimum length in characters (strings) or elements (arrays).
    #[serde(default, deserialize_with = "present")]
    pub min_length: Option<u32>,
    /// Maximum length in characters (strings) or elements (arrays).
    #[serde(default, deserialize_with = "present")]
    pub max_length: Option<u32>,
    /// Minimum value (inclusive, integers).
    #[serde(default, deserialize_with = "present")]
    pub minimum: Option<Number>,
    /// Maximum value (inclusive, integers).
    #[serde(default, deserialize_with = "present")]
    pub maximum: Option<Number>,
    /// Exclusive lower bound.
    #[serde(default, deserialize_with = "present")]
    pub exclusive_minimum: Option<Number>,
    /// Exclusive upper bound.
    #[serde(default, deserialize_with = "present")]
    pub exclusive_maximum: Option<Number>,
    /// Minimum length in UTF-8 bytes (strings).
    #[serde(default, deserialize_with = "present")]
    pub min_bytes: Option<u32>,
    /// Maximum length in UTF-8 bytes (strings).
    #[serde(default, deserialize_with = "present")]
    pub max_bytes: Option<u32>,
    /// Fewest array elements.
    #[serde(default, deserialize_with = "present")]
    pub min_items: Option<u32>,
    /// Most array elements.
    #[serde(default, deserialize_with = "present")]
    pub max_items: Option<u32>,
    /// Every array element satisfies these constraints (scalar constraints only).
    #[serde(default, deserialize_with = "present")]
    pub items: Option<Box<Spanned<ArgSpec>>>,
    /// At least one array element satisfies this constraint (one constraint kind).
    #[serde(default, deserialize_with = "present")]
    pub contains: Option<Box<Spanned<ArgSpec>>>,
    /// Constraints on the fields of an object argument, by name.
    #[serde(default)]
    pub properties: BTreeMap<String, Spanned<ArgSpec>>,
    /// `false`: the object may have no fields besides `properties`.
    #[serde(default, deserialize_with = "present")]
    pub additional_properties: Option<bool>,
    /// A regular expression the string must match somewhere (anchor with `^...$`).
    #[serde(default, deserialize_with = "present")]
    pub pattern: Option<Spanned<String>>,
    /// Filesystem path constraint.
    #[serde(default, deserialize_with = "present")]
    pub path: Option<Spanned<PathSpec>>,
    /// URL constraint.
    #[serde(default, deserialize_with = "present")]
    pub url: Option<Spanned<UrlSpec>>,
    /// SQL constraint.
    #[serde(default, deserialize_with = "present")]
    pub sql: Option<Spanned<SqlSpec>>,
}

/// `path:` constraint: prefixes (`/workspace`) or globs (`**/.env`), matched against the
/// normalised path. `in` and `not_in` read the same in allow and deny rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    /// The normalised path must be under one of these prefixes or match one of these globs.
    #[serde(default, rename = "in")]
    pub within: Vec<String>,
    /// The normalised path must be under none of these and match none of these.
    #[serde(default)]
    pub not_in: Vec<String>,
    /// `posix` (default) or `windows` separators, drives and name rules.
    #[serde(default, deserialize_with = "present")]
    pub style: Option<PathStyle>,
    /// `sensitive` (default) or `insensitive` (ASCII case folding).
    #[serde(default, deserialize_with = "present")]
    pub case: Option<PathCase>,
    /// `none` (default) or `uri`: the value is a URI path, percent-decoded once.
    #[serde(default, deserialize_with = "present")]
    pub encoding: Option<PathEncoding>,
}

/// Path styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStyle {
    /// `/` separates; `\` is refused.
    Posix,
    /// `\` and `/` separate; drive letters; Windows name rules.
    Windows,
}

/// Path case handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathCase {
    /// Bytes compare exactly.
    Sensitive,
    /// ASCII letters compare case-insensitively.
    Insensitive,
}

/// Path encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathEncoding {
    /// A plain path; encoded separators (`%2f`, `%2e`) are refused.
    None,
    /// A URI path: percent-decoded once; double encoding is refused.
    Uri,
}

/// `url:` constraint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlSpec {
    /// Allowed schemes (any when empty).
    #[serde(default)]
    pub schemes: Vec<String>,
    /// Allowed hosts: exact names or `*.suffix` (any when empty).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Accept hosts written as IP addresses (`127.0.0.1`, `2130706433`); off by default.
    #[serde(default)]
    pub allow_ip_hosts: bool,
    /// Allowed ports, after defaulting (443 for https, 80 for http); any when empty.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Allowed path prefixes (segment-aware, after percent-decoding and dot removal).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Deny loopback, private, link-local, CGNAT, multicast, unspecified and reserved
    /// destinations, in every spelling (a deny with a `url.ssrf_*` code).
    #[serde(default)]
    pub ssrf: bool,
}

/// `sql:` constraint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlSpec {
    /// Allowed statement kinds (`select`, `insert`, ...).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Most statements in one argument (default 1: stacked queries deny).
    #[serde(default, deserialize_with = "present")]
    pub max_statements: Option<u32>,
    /// Tables the statements may (`in`) or may not (`not_in`) reference.
    #[serde(default, deserialize_with = "present")]
    pub tables: Option<NameLists>,
    /// Functions the statements may not call, besides the built-in dangerous list.
    #[serde(default)]
    pub deny_functions: Vec<String>,
    /// `deny` (default): calling a built-in dangerous function (`pg_read_file`, `pg_sleep`,
    /// `lo_import`, `dblink`, ...) denies; `allow` turns that list off.
    #[serde(default, deserialize_with = "present")]
    pub dangerous_functions: Option<UnknownArgs>,
}

/// `in` / `not_in` name lists.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameLists {
    /// Every name must be one of these.
    #[serde(default, rename = "in")]
    pub within: Vec<String>,
    /// No name may be one of these.
    #[serde(default)]
    pub not_in: Vec<String>,
}
