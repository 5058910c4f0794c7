//! Resolution: the parsed YAML model becomes the resolved policy ([`crate::ir`]), with every
//! error in the file reported at once.
//!
//! This is where meaning is checked: rule ids unique, names well formed, `when:` expressions
//! type-correct, regexes and globs compilable (their DFAs are built here and kept for
//! emission), path prefixes absolute and normal, SQL kinds known.

use crate::dfa::{self, GlobStyle};
use crate::diagnostic::{Diagnostic, Position};
use crate::ir::{
    Atom, CmpOp, Cond, NameMatcher, PatternKind, Policy, Rule, Schema, Subject, Test, Verdict,
};
use crate::model::{
    ArgSpec, AuditArgsName, AuditSpec, DefaultSpec, EffectName, Number, PolicyFile, RiskName,
    RuleSpec, Scalar, ToolSpec, TypeName, Types, UnknownArgs,
};
use mcppol_grammar::ast::{self, ExprKind, Literal, OperandKind, PathRoot};
use mcppol_runtime::format::{json_type, path_option};
use mcppol_runtime::limits::KEY_BYTES_MAX;
use mcppol_runtime::{Effect, Risk};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet};

/// What a DFA blob matches: strings matching at least one of these patterns of this kind. Every
/// pattern of a policy has its own entry (one text); a rule's list of two or more path globs
/// also has one for their union (sorted texts), which is the DFA the artifact carries for it.
pub type PatternKey = (PatternKind, Vec<String>);

/// Compiled DFA blobs, keyed by what they match.
pub type Patterns = BTreeMap<PatternKey, Vec<u8>>;

/// The methods a rule applies to when it names none.
pub const DEFAULT_METHOD: &str = "tools/call";

struct Resolver<'s> {
    source: &'s str,
    diagnostics: Vec<Diagnostic>,
    patterns: Patterns,
}

/// Resolves a parsed policy. `source` is the YAML text (for positions inside `when:` strings)
/// and `file_name` the name recorded in the artifact.
///
/// # Errors
///
/// Every problem found, in source order.
pub fn resolve(
    file: &PolicyFile,
    source: &str,
    file_name: &str,
) -> Result<(Policy, Patterns), Vec<Diagnostic>> {
    let mut resolver = Resolver { source, diagnostics: Vec::new(), patterns: Patterns::new() };
    if file.version.value != 1 {
        resolver.error(
            Diagnostic::error(
                "E0203",
                format!("unsupported policy version `{}`", file.version.value),
                Position::of(&file.version.referenced),
            )
            .with_help("this mcppol reads `version: 1`"),
        );
    }
    if file.name.value.trim().is_empty() {
        resolver.error(Diagnostic::error(
            "E0205",
            "the policy name is empty",
            Position::of(&file.name.referenced),
        ));
    }
    let default = resolver.default_verdict(file.default.as_ref());
    let schemas =
        file.tools.iter().map(|(tool, spec)| resolver.schema(tool, spec)).collect::<Vec<Schema>>();
    let mut rules = Vec::new();
    let mut seen: BTreeMap<String, Position> = BTreeMap::new();
    for rule in &file.rules {
        let at = Position::of(&rule.value.id.referenced);
        if let Some(first) = seen.get(&rule.value.id.value) {
            resolver.error(
                Diagnostic::error(
                    "E0204",
                    format!("duplicate rule id `{}`", rule.value.id.value),
                    at,
                )
                .with_help(format!("the first rule with this id is on line {}", first.line)),
            );
        }
        seen.insert(rule.value.id.value.clone(), at);
        if let Some(rule) = resolver.rule(rule) {
            rules.push(rule);
        }
    }
    // Canonical order: strongest effect first, then id. This makes the decision independent
    // of the order rules appear in the file.
    rules.sort_by(|a, b| b.verdict.effect.cmp(&a.verdict.effect).then_with(|| a.id.cmp(&b.id)));
    let audit = resolver.audit(file.audit.as_ref());
    if resolver.diagnostics.is_empty() {
        let policy = Policy {
            name: file.name.value.clone(),
            source: file_name.to_owned(),
            default,
            schemas,
            audit,
            rules,
        };
        Ok((policy, resolver.patterns))
    } else {
        Err(resolver.diagnostics)
    }
}

fn effect(name: EffectName) -> Effect {
    match name {
        EffectName::Allow => Effect::Allow,
        EffectName::Deny => Effect::Deny,
        EffectName::RequireApproval => Effect::RequireApproval,
    }
}

fn risk(name: Option<RiskName>, effect: Effect) -> Risk {
    match name {
        Some(RiskName::Low) => Risk::Low,
        Some(RiskName::Medium) => Risk::Medium,
        Some(RiskName::High) => Risk::High,
        Some(RiskName::Critical) => Risk::Critical,
        None => match effect {
            Effect::Allow => Risk::Low,
            Effect::RequireApproval => Risk::Medium,
            Effect::Deny => Risk::High,
        },
    }
}

fn arg_atom(path: &[String], test: Test, missing_is_false: bool) -> Cond {
    Cond::Atom(Atom { subject: Subject::Arg(path.to_vec()), test, missing_is_false })
}

fn type_mask(types: &Types) -> u32 {
    let list = match types {
        Types::One(one) => vec![*one],
        Types::Many(many) => many.clone(),
    };
    list.iter().fold(0, |mask, name| {
        mask | match name {
            TypeName::String => json_type::STRING,
            TypeName::Integer => json_type::INTEGER,
            TypeName::Number => json_type::NUMBER | json_type::INTEGER,
            TypeName::Boolean => json_type::BOOLEAN,
            TypeName::Array => json_type::ARRAY,
            TypeName::Object => json_type::OBJECT,
            TypeName::Null => json_type::NULL,
        }
    })
}

fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

impl Resolver<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Argument names are path segments in the artifact, joined by NUL: a NUL inside a name
    /// would read as two segments, so it is refused (no MCP tool names an argument so).
    fn check_arg_name(&mut self, name: &str, at: Position) {
        if name.is_empty() || name.contains('\0') {
            self.error(
                Diagnostic::error(
                    "E0216",
                    format!("argument name {name:?} is empty or contains NUL"),
                    at,
                )
                .with_help("argument names are non-empty and contain no NUL character"),
            );
        }
        // The runtime rejects any arguments object with a key longer than `KEY_BYTES_MAX` raw
        // bytes (`json.key_too_long`), so a longer name could never be present: a rule on it
        // would never see a value, and a required one would deny every call.
        let shortest = json_key_len(name);
        if shortest > KEY_BYTES_MAX {
            self.error(
                Diagnostic::error(
                    "E0403",
                    format!(
                        "argument name `{}…` needs {shortest} bytes as a JSON key, over the \
                         runtime limit of {KEY_BYTES_MAX}",
                        name.chars().take(16).collect::<String>()
                    ),
                    at,
                )
                .with_help(
                    "the runtime denies any arguments object with such a key (`json.key_too_long`)",
                ),
            );
        }
    }

    /// The `audit:` allowance: `redact` goes with `redacted` and only with it.
    fn audit(&mut self, spec: Option<&Spanned<AuditSpec>>) -> (u32, BTreeSet<String>) {
        use mcppol_runtime::format::audit_args;
        let Some(spec) = spec else { return (audit_args::UNSTATED, BTreeSet::new()) };
        let at = Position::of(&spec.referenced);
        let mode = match spec.value.args {
            AuditArgsName::None => audit_args::NONE,
            AuditArgsName::Digest => audit_args::DIGEST,
            AuditArgsName::Redacted => audit_args::REDACTED,
            AuditArgsName::Full => audit_args::FULL,
        };
        let redact: BTreeSet<String> = spec.value.redact.iter().cloned().collect();
        let bad_name =
            redact.iter().find(|name| name.is_empty() || name.split('.').any(str::is_empty));
        if mode == audit_args::REDACTED && redact.is_empty() {
            self.error(
                Diagnostic::error("E0221", "`audit: {args: redacted}` needs a `redact` list", at)
                    .with_help("name the argument members to replace, e.g. `redact: [password, auth.token]`"),
            );
        } else if mode != audit_args::REDACTED && !redact.is_empty() {
            self.error(
                Diagnostic::error("E0221", "`redact` only goes with `args: redacted`", at)
                    .with_help("write `args: redacted`, or remove `redact`"),
            );
        } else if let Some(name) = bad_name {
            self.error(
                Diagnostic::error("E0221", format!("`{name}` is not a dotted argument path"), at)
                    .with_help("write member names separated by dots, e.g. `auth.token`"),
            );
        }
        (mode, redact)
    }

    fn default_verdict(&mut self, spec: Option<&Spanned<DefaultSpec>>) -> Verdict {
        let (effect_name, reason, risk_name) = match spec.map(|spec| &spec.value) {
            None => (EffectName::Deny, None, None),
            Some(DefaultSpec::Effect(name)) => (*name, None, None),
            Some(DefaultSpec::Full(full)) => (full.effect, full.reason.clone(), full.risk),
        };
        let effect = effect(effect_name);
        Verdict {
            effect,
            risk: risk(risk_name.or(Some(RiskName::Medium)), effect),
            reason: reason.unwrap_or_else(|| match effect {
                Effect::Deny => "no rule allows this call".to_owned(),
                Effect::Allow => "no rule matched; the policy allows by default".to_owned(),
                Effect::RequireApproval => {
                    "no rule matched; the policy requires approval by default".to_owned()
                }
            }),
            code: "policy.default".to_owned(),
        }
    }

    fn pattern(&mut self, kind: PatternKind, text: &str, at: Position) -> bool {
        if self.patterns.contains_key(&(kind, vec![text.to_owned()])) {
            return true;
        }
        let built = match kind {
            PatternKind::Regex => dfa::build_regex(text),
            PatternKind::NameGlob => dfa::build_glob(text, GlobStyle::Name),
            PatternKind::PathGlob => dfa::build_glob(text, GlobStyle::Path),
        };
        match built {
            Ok(bytes) => {
                self.patterns.insert((kind, vec![text.to_owned()]), bytes);
                true
            }
            Err(error) => {
                let code = match kind {
                    PatternKind::Regex => "E0301",
                    _ => "E0302",
                };
                // The builder's message already names the pattern and what is wrong with it.
                let mut diagnostic = Diagnostic::error(code, error.message, at);
                if let Some(help) = error.help {
                    diagnostic = diagnostic.with_help(help);
                }
                self.error(diagnostic);
                false
            }
        }
    }

    fn names(&mut self, values: &[String], kind: PatternKind, at: Position) -> NameMatcher {
        let mut matcher = NameMatcher::default();
        for value in values {
            if value.is_empty() {
                self.error(Diagnostic::error("E0206", "empty name in a match list", at));
            } else if is_glob(value) {
                if self.pattern(kind, value, at) && !matcher.globs.contains(value) {
                    matcher.globs.push(value.clone());
                }
            } else {
                matcher.exact.insert(value.clone());
            }
        }
        matcher
    }

    fn matcher_cond(&self, subject: &Subject, matcher: &NameMatcher, kind: PatternKind) -> Cond {
        let mut parts = Vec::new();
        if !matcher.exact.is_empty() {
            let test = if matcher.exact.len() == 1 {
                Test::StrEq(matcher.exact.iter().next().cloned().unwrap_or_default())
            } else {
                Test::StrIn(matcher.exact.clone())
            };
            parts.push(Cond::Atom(Atom {
                subject: subject.clone(),
                test,
                missing_is_false: false,
            }));
        }
        for glob in &matcher.globs {
            parts.push(Cond::Atom(Atom {
                subject: subject.clone(),
                test: Test::Matches(kind, glob.clone()),
                missing_is_false: false,
            }));
        }
        Cond::any(parts)
    }

    fn rule(&mut self, spanned: &Spanned<RuleSpec>) -> Option<Rule> {
        let spec = &spanned.value;
        let at = Position::of(&spec.id.referenced);
        let errors_before = self.diagnostics.len();
        if spec.id.value.trim().is_empty() {
            self.error(Diagnostic::error("E0205", "the rule id is empty", at));
        }
        let effect = effect(spec.effect.value);
        let mut parts = Vec::new();
        // Method: default `tools/call`; `*` means any.
        let methods = spec
            .method
            .as_ref()
            .map_or_else(|| vec![DEFAULT_METHOD.to_owned()], |m| m.value.to_vec());
        if !methods.iter().any(|m| m == "*") {
            let method_at = spec.method.as_ref().map_or(at, |m| Position::of(&m.referenced));
            let matcher = self.names(&methods, PatternKind::NameGlob, method_at);
            parts.push(self.matcher_cond(&Subject::Method, &matcher, PatternKind::NameGlob));
        }
        if let Some(servers) = &spec.server {
            let matcher = self.names(
                &servers.value.to_vec(),
                PatternKind::NameGlob,
                Position::of(&servers.referenced),
            );
            parts.push(self.matcher_cond(&Subject::Server, &matcher, PatternKind::NameGlob));
        }
        let tools = spec.tool.as_ref().and_then(|tools| {
            let values = tools.value.to_vec();
            if values.iter().any(|t| t == "*") {
                return None;
            }
            Some(self.names(&values, PatternKind::NameGlob, Position::of(&tools.referenced)))
        });
        if let Some(principal) = &spec.principal {
            if let Some(ids) = &principal.value.id {
                let ids: BTreeSet<String> = ids.to_vec().into_iter().collect();
                let test = if ids.len() == 1 {
                    Test::StrEq(ids.iter().next().cloned().unwrap_or_default())
                } else {
                    Test::StrIn(ids)
                };
                parts.push(Cond::Atom(Atom {
                    subject: Subject::PrincipalId,
                    test,
                    missing_is_false: false,
                }));
            }
            if let Some(roles) = &principal.value.roles {
                let roles: BTreeSet<String> = roles.to_vec().into_iter().collect();
                let test = if roles.len() == 1 {
                    Test::RoleHas(roles.iter().next().cloned().unwrap_or_default())
                } else {
                    Test::RoleAny(roles)
                };
                parts.push(Cond::Atom(Atom {
                    subject: Subject::PrincipalRoles,
                    test,
                    missing_is_false: false,
                }));
            }
        }
        for (name, arg) in &spec.args {
            let arg_at = Position::of(&arg.referenced);
            if arg.value.required.is_some() {
                self.error(
                    Diagnostic::error("E0207", format!("`required` is not allowed in a rule's argument `{name}`"), arg_at)
                        .with_help("a rule's listed arguments must be present for it to match; declare required arguments under `tools:`"),
                );
            }
            let conditions = self.rule_arg(std::slice::from_ref(name), &arg.value, arg_at);
            parts.extend(conditions);
        }
        if let Some(cond) = spec.when.as_ref().and_then(|when| self.when(when)) {
            parts.push(cond);
        }
        if self.diagnostics.len() > errors_before {
            return None;
        }
        Some(Rule {
            id: spec.id.value.clone(),
            verdict: Verdict {
                effect,
                risk: risk(spec.risk, effect),
                reason: spec.reason.value.clone(),
                code: "policy.rule".to_owned(),
            },
            line: u32::try_from(at.line).unwrap_or(u32::MAX),
            column: u32::try_from(at.column).unwrap_or(u32::MAX),
            tools,
            condition: Cond::all(parts),
        })
    }

    fn schema(&mut self, tool: &str, spanned: &Spanned<ToolSpec>) -> Schema {
        let at = Position::of(&spanned.referenced);
        if is_glob(tool) || tool.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0208",
                    format!("tool schema key `{tool}` must be an exact tool name"),
                    at,
                )
                .with_help("schemas apply to one tool each; globs are allowed only in rules"),
            );
        }
        let spec = &spanned.value;
        let mut checks = Vec::new();
        let deny = |code: &str, reason: String| Verdict {
            effect: Effect::Deny,
            risk: Risk::High,
            reason,
            code: code.to_owned(),
        };
        if spec.unknown_args == Some(UnknownArgs::Deny) {
            let keys: BTreeSet<String> = spec.args.keys().cloned().collect();
            checks.push((
                Cond::Atom(Atom {
                    subject: Subject::Args,
                    test: Test::OnlyKeys(keys),
                    missing_is_false: false,
                }),
                deny(
                    "args.schema.unknown",
                    format!(
                        "tool `{tool}` was called with an argument its schema does not declare"
                    ),
                ),
            ));
        }
        let mut args = spec.args.iter().map(|(n, a)| (n.clone(), a)).collect::<Vec<_>>();
        let translated;
        if let Some(input_schema) = &spec.input_schema {
            if !spec.args.is_empty() || spec.unknown_args.is_some() {
                self.error(
                    Diagnostic::error(
                        "E0218",
                        format!("tool `{tool}` has both `input_schema` and `args`/`unknown_args`"),
                        Position::of(&input_schema.referenced),
                    )
                    .with_help("use one: paste the server's `inputSchema`, or write `args`"),
                );
            }
            match crate::json_schema::translate(&input_schema.value, input_schema.referenced) {
                Ok(result) => {
                    translated = result;
                    if translated.unknown_args == Some(UnknownArgs::Deny) {
                        let keys: BTreeSet<String> = translated.args.keys().cloned().collect();
                        checks.push((
                            Cond::Atom(Atom { subject: Subject::Args, test: Test::OnlyKeys(keys), missing_is_false: false }),
                            deny("args.schema.unknown", format!("tool `{tool}` was called with an argument its schema does not declare")),
                        ));
                    }
                    args = translated.args.iter().map(|(n, a)| (n.clone(), a)).collect();
                }
                Err(errors) => {
                    for error in errors {
                        let mut diagnostic = Diagnostic::error(
                            "E0219",
                            format!(
                                "`input_schema` of tool `{tool}` at `{}`: {}",
                                error.pointer, error.message
                            ),
                            Position::of(&input_schema.referenced),
                        );
                        if let Some(help) = error.help {
                            diagnostic = diagnostic.with_help(help);
                        }
                        self.error(diagnostic);
                    }
                }
            }
        }
        for (name, arg) in args {
            let mut found = Vec::new();
            self.schema_arg(
                std::slice::from_ref(&name),
                &arg.value,
                Position::of(&arg.referenced),
                &mut found,
            );
            for (cond, what, shown) in found {
                let (code, reason) = match what {
                    "required" => (
                        "args.schema.required",
                        format!("tool `{tool}` requires argument `{shown}`"),
                    ),
                    "unknown" => (
                        "args.schema.unknown",
                        format!(
                            "argument `{shown}` of tool `{tool}` has a field its schema does not declare"
                        ),
                    ),
                    "type" => (
                        "args.schema.type",
                        format!("argument `{shown}` of tool `{tool}` breaks its schema (type)"),
                    ),
                    _ => (
                        "args.schema.constraint",
                        format!("argument `{shown}` of tool `{tool}` breaks its schema ({what})"),
                    ),
                };
                checks.push((cond, deny(code, reason)));
            }
        }
        Schema { tool: tool.to_owned(), checks }
    }

    /// The per-element tests of an `items` or `contains` spec: each constraint must lower to a
    /// single test on the element.
    fn element_atoms(
        &mut self,
        _parent: &Subject,
        spec: &ArgSpec,
        at: Position,
        within: &str,
    ) -> Vec<(Atom, &'static str)> {
        let structural = !spec.properties.is_empty()
            || spec.items.is_some()
            || spec.contains.is_some()
            || spec.additional_properties.is_some()
            || spec.min_items.is_some()
            || spec.max_items.is_some()
            || spec.required.is_some();
        if structural {
            self.error(
                Diagnostic::error(
                    "E0217",
                    format!("`{within}` supports scalar constraints only"),
                    at,
                )
                .with_help(
                    "arrays of objects or of arrays cannot be checked element by element yet",
                ),
            );
            return Vec::new();
        }
        let mut atoms = Vec::new();
        for (cond, what) in self.constraints(&Subject::Element, spec, at, false) {
            match cond {
                Cond::Atom(atom) => atoms.push((atom, what)),
                _ => self.error(
                    Diagnostic::error("E0217", format!("`{what}` inside `{within}` cannot be checked per element"), at)
                        .with_help("use one kind of value per constraint (e.g. an `enum` of strings only, or `path` prefixes without globs)"),
                ),
            }
        }
        atoms
    }

    /// A rule's argument: present, then every constraint, then nested properties (each of
    /// which must be present too). Presence first, so that a negated constraint (`not_in`)
    /// can never match an absent argument.
    fn rule_arg(&mut self, path: &[String], spec: &ArgSpec, at: Position) -> Vec<Cond> {
        self.check_arg_path(path, at);
        let mut parts = vec![arg_atom(path, Test::Exists, false)];
        let subject = Subject::Arg(path.to_vec());
        parts.extend(self.constraints(&subject, spec, at, true).into_iter().map(|(c, _)| c));
        for (name, field) in &spec.properties {
            let mut child = path.to_vec();
            child.push(name.clone());
            let field_at = Position::of(&field.referenced);
            if field.value.required.is_some() {
                self.error(Diagnostic::error(
                    "E0207",
                    format!("`required` is not allowed in a rule's argument `{}`", child.join(".")),
                    field_at,
                ));
            }
            parts.extend(self.rule_arg(&child, &field.value, field_at));
        }
        parts
    }

    /// A schema argument: `(condition that must hold, constraint name, shown path)` triples.
    /// Schemas bind only present arguments; `required` covers absence.
    fn schema_arg(
        &mut self,
        path: &[String],
        spec: &ArgSpec,
        at: Position,
        out: &mut Vec<(Cond, &'static str, String)>,
    ) {
        self.check_arg_path(path, at);
        let shown = path.join(".");
        let present = arg_atom(path, Test::Exists, false);
        if spec.required == Some(true) {
            // A nested field is required only when its parent object is there.
            let guard = match path.split_last() {
                Some((_, parent)) if !parent.is_empty() => {
                    Cond::Not(Box::new(arg_atom(parent, Test::Exists, false)))
                }
                _ => Cond::False,
            };
            out.push((Cond::any(vec![guard, present.clone()]), "required", shown.clone()));
        }
        let subject = Subject::Arg(path.to_vec());
        for (cond, what) in self.constraints(&subject, spec, at, true) {
            let absent = Cond::Not(Box::new(present.clone()));
            out.push((Cond::any(vec![absent, cond]), what, shown.clone()));
        }
        for (name, field) in &spec.properties {
            let mut child = path.to_vec();
            child.push(name.clone());
            self.schema_arg(&child, &field.value, Position::of(&field.referenced), out);
        }
    }

    /// Argument names are path segments in the artifact, joined by NUL, and nesting is
    /// bounded so that lookups stay cheap.
    fn check_arg_path(&mut self, path: &[String], at: Position) {
        if let Some(name) = path.last() {
            self.check_arg_name(name, at);
        }
        if path.len() > ARG_DEPTH_MAX {
            self.error(Diagnostic::error(
                "E0402",
                format!("argument path `{}` is nested deeper than {ARG_DEPTH_MAX}", path.join(".")),
                at,
            ));
        }
    }

    /// The conditions an argument spec imposes on `subject` (an argument, or an array element),
    /// each with a short name of the constraint.
    fn constraints(
        &mut self,
        subject: &Subject,
        spec: &ArgSpec,
        at: Position,
        missing_is_false: bool,
    ) -> Vec<(Cond, &'static str)> {
        let mut out = Vec::new();
        let atom = |test| Cond::Atom(Atom { subject: subject.clone(), test, missing_is_false });
        if let Some(types) = &spec.types {
            out.push((atom(Test::Type(type_mask(types))), "type"));
        }
        if let Some(values) = &spec.values {
            if values.is_empty() {
                self.error(Diagnostic::error("E0209", "`enum` lists no values", at));
            }
            let strings: BTreeSet<String> = values
                .iter()
                .filter_map(|v| if let Scalar::String(s) = v { Some(s.clone()) } else { None })
                .collect();
            let mut alternatives = Vec::new();
            if !strings.is_empty() {
                alternatives.push(atom(Test::StrIn(strings)));
            }
            for value in values {
                match value {
                    Scalar::Integer(n) => alternatives.push(atom(Test::Int(CmpOp::Eq, *n))),
                    Scalar::Bool(b) => alternatives.push(atom(Test::Bool(*b))),
                    Scalar::String(_) => {}
                }
            }
            // Values of several types: guard each alternative by its type so a string enum
            // member never faults on an integer value and vice versa.
            let mixed = values.iter().map(std::mem::discriminant).collect::<Vec<_>>();
            let mixed = mixed.windows(2).any(|pair| pair.first() != pair.get(1));
            if mixed {
                alternatives = alternatives
                    .into_iter()
                    .map(|alternative| {
                        let mask = match &alternative {
                            Cond::Atom(Atom { test: Test::StrIn(_), .. }) => json_type::STRING,
                            Cond::Atom(Atom { test: Test::Int(..), .. }) => json_type::NUMBER,
                            _ => json_type::BOOLEAN,
                        };
                        Cond::all(vec![atom(Test::Type(mask)), alternative])
                    })
                    .collect();
            }
            out.push((Cond::any(alternatives), "enum"));
        }
        if let Some(min) = spec.min_length {
            out.push((atom(Test::Len(CmpOp::Ge, min)), "min_length"));
        }
        if let Some(max) = spec.max_length {
            out.push((atom(Test::Len(CmpOp::Le, max)), "max_length"));
        }
        for (bound, op, what) in [
            (spec.minimum, CmpOp::Ge, "minimum"),
            (spec.maximum, CmpOp::Le, "maximum"),
            (spec.exclusive_minimum, CmpOp::Gt, "exclusive_minimum"),
            (spec.exclusive_maximum, CmpOp::Lt, "exclusive_maximum"),
        ] {
            match bound {
                Some(Number::Integer(n)) => out.push((atom(Test::Int(op, n)), what)),
                Some(Number::Decimal(d)) if d.is_finite() => {
                    // Rust prints the shortest decimal that reads back as this double: the
                    // number the author wrote, for any decimal with 15 significant digits.
                    out.push((atom(Test::Decimal(op, format!("{d:?}"))), what));
                }
                Some(Number::Decimal(_)) => self.error(Diagnostic::error(
                    "E0220",
                    format!("`{what}` must be a finite number"),
                    at,
                )),
                None => {}
            }
        }
        if let Some(min) = spec.min_bytes {
            out.push((atom(Test::Bytes(CmpOp::Ge, min)), "min_bytes"));
        }
        if let Some(max) = spec.max_bytes {
            out.push((atom(Test::Bytes(CmpOp::Le, max)), "max_bytes"));
        }
        if spec.min_items.is_some()
            || spec.max_items.is_some()
            || spec.items.is_some()
            || spec.contains.is_some()
        {
            // Item counts and quantifiers apply to arrays; `len` would count a string's
            // characters, so the type is checked first.
            let arrays = atom(Test::Type(json_type::ARRAY));
            if let Some(min) = spec.min_items {
                out.push((
                    Cond::all(vec![arrays.clone(), atom(Test::Len(CmpOp::Ge, min))]),
                    "min_items",
                ));
            }
            if let Some(max) = spec.max_items {
                out.push((
                    Cond::all(vec![arrays.clone(), atom(Test::Len(CmpOp::Le, max))]),
                    "max_items",
                ));
            }
        }
        if let Some(items) = &spec.items {
            for (cond, what) in
                self.element_atoms(subject, &items.value, Position::of(&items.referenced), "items")
            {
                out.push((atom(Test::All(Box::new(cond))), what));
            }
        }
        if let Some(contains) = &spec.contains {
            let contains_at = Position::of(&contains.referenced);
            let mut atoms = self.element_atoms(subject, &contains.value, contains_at, "contains");
            // Every other test already requires its type, so a `type` beside them adds nothing.
            if atoms.len() > 1 {
                atoms.retain(|(_, what)| *what != "type");
            }
            if atoms.len() > 1 {
                self.error(Diagnostic::error("E0217", "`contains` supports one constraint (plus `type`)", contains_at)
                    .with_help("an element must satisfy it; split the condition into several rules or use `when:`"));
            }
            if let Some((cond, what)) = atoms.into_iter().next() {
                out.push((atom(Test::Any(Box::new(cond))), what));
            }
        }
        if let (Some(false), Subject::Arg(_)) = (spec.additional_properties, subject) {
            let keys: BTreeSet<String> = spec.properties.keys().cloned().collect();
            out.push((
                Cond::all(vec![atom(Test::Type(json_type::OBJECT)), atom(Test::OnlyKeys(keys))]),
                "unknown",
            ));
        }
        if let Some(pattern) = &spec.pattern {
            let pattern_at = Position::of(&pattern.referenced);
            if self.pattern(PatternKind::Regex, &pattern.value, pattern_at) {
                out.push((
                    atom(Test::Matches(PatternKind::Regex, pattern.value.clone())),
                    "pattern",
                ));
            }
        }
        if let Some(paths) = &spec.path {
            let path_at = Position::of(&paths.referenced);
            if paths.value.within.is_empty() && paths.value.not_in.is_empty() {
                self.error(Diagnostic::error(
                    "E0210",
                    "`path` lists neither `in` nor `not_in`",
                    path_at,
                ));
            }
            let options = path_options(&paths.value);
            if !paths.value.within.is_empty() {
                let allowed = self.path_list(
                    subject,
                    &paths.value.within,
                    options,
                    path_at,
                    missing_is_false,
                );
                out.push((allowed, "path"));
            }
            if !paths.value.not_in.is_empty() {
                let denied = self.path_list(
                    subject,
                    &paths.value.not_in,
                    options,
                    path_at,
                    missing_is_false,
                );
                out.push((Cond::Not(Box::new(denied)), "path"));
            }
        }
        if let Some(url) = &spec.url {
            let url_at = Position::of(&url.referenced);
            let url = &url.value;
            // SSRF first: an internal destination denies with its own code, whatever else the
            // rule says. Parsing alone rejects userinfo, whitespace and other tricks.
            if url.ssrf {
                out.push((atom(Test::UrlSsrf), "url"));
            }
            if !url.allow_ip_hosts {
                out.push((atom(Test::UrlNamedHost), "url"));
            }
            if !url.schemes.is_empty() {
                let schemes = url.schemes.iter().map(|s| s.to_ascii_lowercase()).collect();
                out.push((atom(Test::UrlScheme(schemes)), "url"));
            }
            if !url.hosts.is_empty() {
                for host in &url.hosts {
                    let bare = host.strip_prefix("*.").unwrap_or(host);
                    // Labels of letters, digits, `-` and `_`: the only hosts the runtime's URL
                    // parser accepts, so any other pattern could never match.
                    let label_ok = |label: &str| {
                        !label.is_empty()
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    };
                    if !bare.split('.').all(label_ok) {
                        self.error(
                            Diagnostic::error("E0211", format!("invalid host pattern `{host}`"), url_at)
                                .with_help("write an exact host (`api.github.com`) or `*.` followed by a domain (`*.docs.rs`)"),
                        );
                    }
                }
                let hosts = url.hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
                out.push((atom(Test::UrlHost(hosts)), "url"));
            }
            if !url.ports.is_empty() {
                let ports = url.ports.iter().map(u16::to_string).collect();
                out.push((atom(Test::UrlPort(ports)), "url"));
            }
            if !url.paths.is_empty() {
                let mut prefixes = BTreeSet::new();
                for entry in &url.paths {
                    match normal_prefix(
                        entry,
                        mcppol_runtime::path::PathOptions {
                            percent_decode: true,
                            ..Default::default()
                        },
                    ) {
                        Some(normal) => {
                            prefixes.insert(normal);
                        }
                        None => self.error(
                            Diagnostic::error(
                                "E0215",
                                format!(
                                    "URL path prefix `{entry}` is not an absolute, normal path"
                                ),
                                url_at,
                            )
                            .with_help("write prefixes like `/repos` (no `..`, no `%2e`)"),
                        ),
                    }
                }
                out.push((atom(Test::UrlPath(prefixes)), "url"));
            }
            if url.schemes.is_empty()
                && url.hosts.is_empty()
                && url.allow_ip_hosts
                && !url.ssrf
                && url.ports.is_empty()
                && url.paths.is_empty()
            {
                out.push((atom(Test::UrlScheme(BTreeSet::new())), "url"));
                self.error(
                    Diagnostic::error("E0212", "`url` constrains nothing", url_at)
                        .with_help("list `schemes` or `hosts`"),
                );
            }
        }
        if let Some(sql) = &spec.sql {
            let sql_at = Position::of(&sql.referenced);
            let mut kinds = mcppol_runtime::sql::KindSet::EMPTY;
            for name in &sql.value.allow {
                match mcppol_runtime::sql::StatementKind::from_name(&name.to_ascii_lowercase()) {
                    Some(kind) => kinds.insert(kind),
                    None => self.error(
                        Diagnostic::error("E0213", format!("unknown SQL statement kind `{name}`"), sql_at)
                            .with_help("see docs/policy-schema.md for the list (select, insert, update, delete, ...)"),
                    ),
                }
            }
            let max = sql.value.max_statements.unwrap_or(1);
            if max == 0 {
                self.error(Diagnostic::error(
                    "E0214",
                    "`max_statements` must be at least 1",
                    sql_at,
                ));
            }
            let dangerous = sql.value.dangerous_functions != Some(UnknownArgs::Allow);
            out.push((atom(Test::SqlAllow(kinds.bits(), max.max(1), dangerous)), "sql"));
            if !sql.value.deny_functions.is_empty() {
                let names =
                    sql.value.deny_functions.iter().map(|n| n.to_ascii_lowercase()).collect();
                out.push((atom(Test::SqlDenyFunctions(names)), "sql"));
            }
            if let Some(tables) = &sql.value.tables {
                if !tables.within.is_empty() {
                    let names = tables.within.iter().map(|n| n.to_ascii_lowercase()).collect();
                    out.push((atom(Test::SqlTablesIn(names)), "sql"));
                }
                if !tables.not_in.is_empty() {
                    let names = tables.not_in.iter().map(|n| n.to_ascii_lowercase()).collect();
                    out.push((atom(Test::SqlTablesNotIn(names)), "sql"));
                }
            }
        }
        out
    }

    fn path_list(
        &mut self,
        subject: &Subject,
        entries: &[String],
        options: u32,
        at: Position,
        missing_is_false: bool,
    ) -> Cond {
        let atom = |test| Cond::Atom(Atom { subject: subject.clone(), test, missing_is_false });
        let mut prefixes = BTreeSet::new();
        let mut globs = BTreeSet::new();
        for entry in entries {
            if is_glob(entry) {
                // Globs match the normalised path, so they are written in normalised form:
                // case-insensitive paths are matched in lowercase. Each glob is built on its
                // own first, so that an invalid one is reported as it always was.
                let glob = if options & path_option::CASE_INSENSITIVE != 0 {
                    entry.to_ascii_lowercase()
                } else {
                    entry.clone()
                };
                if self.pattern(PatternKind::PathGlob, &glob, at) {
                    globs.insert(glob);
                }
                continue;
            }
            match normal_prefix(entry, path_option::options(options)) {
                Some(normal) => {
                    prefixes.insert(normal);
                }
                None => self.error(
                    Diagnostic::error(
                        "E0215",
                        format!("path prefix `{entry}` is not an absolute, normal path"),
                        at,
                    )
                    .with_help("write prefixes like `/workspace` (no `..`, no NUL, no backslash)"),
                ),
            }
        }
        let mut alternatives = Vec::new();
        if !prefixes.is_empty() {
            alternatives.push(atom(Test::PathPrefix(prefixes, options)));
        }
        if self.glob_union(&globs) {
            // One test of the union: the runtime walks one DFA over the path, not one per glob.
            alternatives.push(atom(Test::PathGlob(globs, options)));
        } else {
            // The union's DFA is over the size limits although each glob's is not: test the
            // globs one by one, as a list compiled before unions existed, rather than refuse a
            // policy that used to compile.
            alternatives.extend(
                globs.into_iter().map(|glob| atom(Test::PathGlob(BTreeSet::from([glob]), options))),
            );
        }
        Cond::any(alternatives)
    }

    /// Whether `globs` (each already built) can be tested as one: a single glob can, and two or
    /// more can when the DFA of their union is within the limits, which this builds and keeps.
    fn glob_union(&mut self, globs: &BTreeSet<String>) -> bool {
        if globs.len() < 2 {
            return !globs.is_empty();
        }
        let key = (PatternKind::PathGlob, globs.iter().cloned().collect::<Vec<_>>());
        if self.patterns.contains_key(&key) {
            return true;
        }
        match dfa::build_glob_union(&key.1, GlobStyle::Path) {
            Ok(bytes) => {
                self.patterns.insert(key, bytes);
                true
            }
            // Every glob built on its own, so only the union's size can stop it; any other
            // failure would be a builder bug, and testing the globs one by one, each with a
            // DFA that did build, still decides exactly what the policy says.
            Err(_) => false,
        }
    }

    /// Where byte `offset` of a `when:` expression is in the file. Exact for single-line
    /// plain and quoted scalars without escapes before the offset; otherwise the scalar start.
    fn expression_position(&self, when: &Spanned<String>, span: ast::Span) -> Position {
        let start = Position::of(&when.referenced);
        let line_text = self.source.lines().nth(start.line.saturating_sub(1)).unwrap_or("");
        let scalar: String = line_text.chars().skip(start.column.saturating_sub(1)).collect();
        let quoted = scalar.starts_with(['\'', '"']);
        let body = if quoted { scalar.get(1..).unwrap_or("") } else { scalar.as_str() };
        let prefix = when.value.get(..span.start).unwrap_or("");
        let length = when.value.get(span.start..span.end).map_or(1, |s| s.chars().count().max(1));
        if body.starts_with(prefix) {
            Position {
                line: start.line,
                column: start.column + usize::from(quoted) + prefix.chars().count(),
                length,
            }
        } else {
            start
        }
    }

    fn when(&mut self, when: &Spanned<String>) -> Option<Cond> {
        match mcppol_grammar::parse(&when.value) {
            Ok(expr) => {
                let mut lowering = WhenLowering { resolver: self, when, failed: false };
                let cond = lowering.expr(&expr);
                if lowering.failed { None } else { Some(cond) }
            }
            Err(errors) => {
                for error in errors {
                    let at = self.expression_position(when, error.span);
                    let mut diagnostic = Diagnostic::error(error.code, error.message, at);
                    if let Some(help) = error.help {
                        diagnostic = diagnostic.with_help(help);
                    }
                    self.error(diagnostic);
                }
                None
            }
        }
    }
}

/// Lowers one `when:` expression to a condition, reporting type errors.
struct WhenLowering<'r, 's, 'w> {
    resolver: &'r mut Resolver<'s>,
    when: &'w Spanned<String>,
    failed: bool,
}

/// What a path denotes, for type checking.
enum Target {
    Text(Subject),
    Roles,
    Arg(Vec<String>),
}

impl WhenLowering<'_, '_, '_> {
    fn fail(&mut self, code: &'static str, message: String, span: ast::Span, help: &str) -> Cond {
        let at = self.resolver.expression_position(self.when, span);
        let mut diagnostic = Diagnostic::error(code, message, at);
        if !help.is_empty() {
            diagnostic = diagnostic.with_help(help.to_owned());
        }
        self.resolver.error(diagnostic);
        self.failed = true;
        Cond::False
    }

    fn text(&self, span: ast::Span) -> String {
        self.when.value.get(span.start..span.end).unwrap_or("").to_owned()
    }

    fn target(&mut self, path: &ast::Path) -> Option<Target> {
        let segments = &path.segments;
        let target = match path.root {
            PathRoot::Args if !segments.is_empty() => Target::Arg(segments.clone()),
            PathRoot::Method if segments.is_empty() => Target::Text(Subject::Method),
            PathRoot::Server if segments.is_empty() => Target::Text(Subject::Server),
            PathRoot::Tool if segments.is_empty() => Target::Text(Subject::Tool),
            PathRoot::Principal
                if segments.len() == 1 && segments.first().is_some_and(|s| s == "id") =>
            {
                Target::Text(Subject::PrincipalId)
            }
            PathRoot::Principal
                if segments.len() == 1 && segments.first().is_some_and(|s| s == "roles") =>
            {
                Target::Roles
            }
            _ => {
                let text = self.text(path.span);
                self.fail(
                    "E0303",
                    format!("`{text}` is not something a condition can read"),
                    path.span,
                    "use `args.NAME...`, `principal.id`, `principal.roles`, `method`, `server` or `tool`",
                );
                return None;
            }
        };
        if let Target::Arg(segments) = &target
            && segments.iter().any(|s| s.contains('\0') || s.is_empty())
        {
            self.fail(
                "E0303",
                "argument names must be non-empty and contain no NUL".to_owned(),
                path.span,
                "",
            );
            return None;
        }
        // The limits an `args:` spec gets from `check_arg_path` and `check_arg_name`.
        if let Target::Arg(segments) = &target {
            if segments.len() > ARG_DEPTH_MAX {
                let text = self.text(path.span);
                self.fail(
                    "E0402",
                    format!("argument path `{text}` is nested deeper than {ARG_DEPTH_MAX}"),
                    path.span,
                    "",
                );
                return None;
            }
            if let Some(long) = segments.iter().find(|s| json_key_len(s) > KEY_BYTES_MAX) {
                self.fail(
                    "E0403",
                    format!(
                        "argument name `{}…` needs {} bytes as a JSON key, over the runtime \
                         limit of {KEY_BYTES_MAX}",
                        long.chars().take(16).collect::<String>(),
                        json_key_len(long)
                    ),
                    path.span,
                    "the runtime denies any arguments object with such a key (`json.key_too_long`)",
                );
                return None;
            }
        }
        Some(target)
    }

    fn atom(&self, target: Target, test: Test) -> Cond {
        let subject = match target {
            Target::Text(subject) => subject,
            Target::Roles => Subject::PrincipalRoles,
            Target::Arg(path) => Subject::Arg(path),
        };
        Cond::Atom(Atom { subject, test, missing_is_false: false })
    }

    fn expr(&mut self, expr: &ast::Expr) -> Cond {
        match &expr.kind {
            ExprKind::Or(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Cond::Or(vec![a, b])
            }
            ExprKind::And(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Cond::And(vec![a, b])
            }
            ExprKind::Not(inner) => Cond::Not(Box::new(self.expr(inner))),
            ExprKind::Bool(true) => Cond::True,
            ExprKind::Bool(false) => Cond::False,
            ExprKind::Has(path) => match self.target(path) {
                Some(Target::Arg(segments)) => self.atom(Target::Arg(segments), Test::Exists),
                Some(_) => self.fail(
                    "E0304",
                    "`has` applies only to `args` paths".to_owned(),
                    path.span,
                    "method, server, tool and principal are always present",
                ),
                None => Cond::False,
            },
            ExprKind::Truthy(path) => match self.target(path) {
                Some(Target::Arg(segments)) => self.atom(Target::Arg(segments), Test::Bool(true)),
                Some(_) => self.fail(
                    "E0305",
                    format!("`{}` is not a boolean", self.text(path.span)),
                    path.span,
                    "compare it, e.g. `tool == \"fs.read\"`",
                ),
                None => Cond::False,
            },
            ExprKind::Compare { lhs, op, rhs } => self.compare(lhs, *op, rhs, expr.span),
            ExprKind::In { value, list } => self.membership(value, list, expr.span),
            ExprKind::StrPredicate { subject, op, pattern } => {
                let Some(literal) = string_literal(pattern) else {
                    return self.fail(
                        "E0306",
                        "the right side of a string predicate must be a string literal".to_owned(),
                        pattern.span,
                        "",
                    );
                };
                let OperandKind::Path(path) = &subject.kind else {
                    return self.fail(
                        "E0306",
                        "the left side of a string predicate must be a path".to_owned(),
                        subject.span,
                        "",
                    );
                };
                let Some(target) = self.target(path) else { return Cond::False };
                match (target, op) {
                    (Target::Roles, ast::StrOp::Contains) => {
                        self.atom(Target::Roles, Test::RoleHas(literal))
                    }
                    (Target::Roles, _) => self.fail(
                        "E0307",
                        "`principal.roles` is a list; use `principal.roles contains \"ROLE\"`"
                            .to_owned(),
                        expr.span,
                        "",
                    ),
                    (target, ast::StrOp::StartsWith) => self.atom(target, Test::Prefix(literal)),
                    (target, ast::StrOp::EndsWith) => self.atom(target, Test::Suffix(literal)),
                    (target, ast::StrOp::Contains) => self.atom(target, Test::Contains(literal)),
                }
            }
            ExprKind::Matches { subject, regex, regex_span } => {
                let OperandKind::Path(path) = &subject.kind else {
                    return self.fail(
                        "E0306",
                        "the left side of `matches` must be a path".to_owned(),
                        subject.span,
                        "",
                    );
                };
                let Some(target) = self.target(path) else { return Cond::False };
                if matches!(target, Target::Roles) {
                    return self.fail(
                        "E0307",
                        "`principal.roles` is a list and cannot be matched".to_owned(),
                        expr.span,
                        "",
                    );
                }
                let at = self.resolver.expression_position(self.when, *regex_span);
                if self.resolver.pattern(PatternKind::Regex, regex, at) {
                    self.atom(target, Test::Matches(PatternKind::Regex, regex.clone()))
                } else {
                    self.failed = true;
                    Cond::False
                }
            }
        }
    }

    fn compare(
        &mut self,
        lhs: &ast::Operand,
        op: ast::CompareOp,
        rhs: &ast::Operand,
        span: ast::Span,
    ) -> Cond {
        // Normalise to `path OP literal`.
        let (subject, op, literal) = match (&lhs.kind, &rhs.kind) {
            (OperandKind::Path(_) | OperandKind::Len(_), OperandKind::Literal(lit)) => {
                (lhs, op, lit.clone())
            }
            (OperandKind::Literal(lit), OperandKind::Path(_) | OperandKind::Len(_)) => {
                (rhs, flip(op), lit.clone())
            }
            _ => {
                return self.fail(
                    "E0308",
                    "a comparison needs a path on one side and a literal on the other".to_owned(),
                    span,
                    "e.g. `args.limit <= 100` or `tool == \"fs.read\"`",
                );
            }
        };
        let cmp = cmp_op(op);
        match &subject.kind {
            OperandKind::Len(path) => {
                let Some(target) = self.target(path) else { return Cond::False };
                let Target::Arg(segments) = target else {
                    return self.fail(
                        "E0309",
                        "`len` applies only to `args` paths".to_owned(),
                        path.span,
                        "",
                    );
                };
                let Literal::Integer(n) = literal else {
                    return self.fail(
                        "E0310",
                        "`len(...)` compares with an integer".to_owned(),
                        span,
                        "",
                    );
                };
                match u32::try_from(n) {
                    Ok(n) => self.atom(Target::Arg(segments), Test::Len(cmp, n)),
                    Err(_) => self.fail(
                        "E0310",
                        format!("length bound `{n}` is out of range"),
                        span,
                        "lengths are between 0 and 4294967295",
                    ),
                }
            }
            OperandKind::Path(path) => {
                let Some(target) = self.target(path) else { return Cond::False };
                match (target, literal) {
                    (Target::Roles, _) => self.fail(
                        "E0307",
                        "`principal.roles` is a list; use `principal.roles contains \"ROLE\"`"
                            .to_owned(),
                        span,
                        "",
                    ),
                    (target, Literal::String(s)) => match cmp {
                        CmpOp::Eq => self.atom(target, Test::StrEq(s)),
                        CmpOp::Ne => Cond::Not(Box::new(self.atom(target, Test::StrEq(s)))),
                        _ => self.fail(
                            "E0311",
                            "strings compare only with `==` and `!=`".to_owned(),
                            span,
                            "use `starts_with`, `ends_with`, `contains` or `matches`",
                        ),
                    },
                    (Target::Arg(segments), Literal::Integer(n)) => {
                        self.atom(Target::Arg(segments), Test::Int(cmp, n))
                    }
                    (Target::Arg(segments), Literal::Bool(b)) => match cmp {
                        CmpOp::Eq => self.atom(Target::Arg(segments), Test::Bool(b)),
                        CmpOp::Ne => self.atom(Target::Arg(segments), Test::Bool(!b)),
                        _ => self.fail(
                            "E0311",
                            "booleans compare only with `==` and `!=`".to_owned(),
                            span,
                            "",
                        ),
                    },
                    (Target::Text(_), _) => self.fail(
                        "E0312",
                        format!("`{}` is a string", self.text(path.span)),
                        span,
                        "compare it with a string literal",
                    ),
                }
            }
            _ => self.fail("E0308", "a comparison needs a path on one side".to_owned(), span, ""),
        }
    }

    fn membership(&mut self, value: &ast::Operand, list: &ast::Operand, span: ast::Span) -> Cond {
        match (&value.kind, &list.kind) {
            (OperandKind::Literal(Literal::String(role)), OperandKind::Path(path)) => {
                match self.target(path) {
                    Some(Target::Roles) => self.atom(Target::Roles, Test::RoleHas(role.clone())),
                    Some(_) => self.fail(
                        "E0313",
                        "`in` with a path on the right needs `principal.roles`".to_owned(),
                        list.span,
                        "",
                    ),
                    None => Cond::False,
                }
            }
            (OperandKind::Path(path), OperandKind::List(items)) => {
                let Some(target) = self.target(path) else { return Cond::False };
                if matches!(target, Target::Roles) {
                    let roles: BTreeSet<String> = items
                        .iter()
                        .filter_map(
                            |l| if let Literal::String(s) = l { Some(s.clone()) } else { None },
                        )
                        .collect();
                    let all_strings = items.iter().all(|l| matches!(l, Literal::String(_)));
                    if !all_strings || roles.is_empty() {
                        return self.fail(
                            "E0313",
                            "role lists hold strings".to_owned(),
                            list.span,
                            "",
                        );
                    }
                    // `principal.roles in [...]` reads as "has any of".
                    return self.atom(Target::Roles, Test::RoleAny(roles));
                }
                let strings: BTreeSet<String> = items
                    .iter()
                    .filter_map(|l| if let Literal::String(s) = l { Some(s.clone()) } else { None })
                    .collect();
                let integers: Vec<i64> = items
                    .iter()
                    .filter_map(|l| if let Literal::Integer(n) = l { Some(*n) } else { None })
                    .collect();
                if items.is_empty() {
                    return Cond::False;
                }
                let all_strings = items.iter().all(|l| matches!(l, Literal::String(_)));
                let all_integers = items.iter().all(|l| matches!(l, Literal::Integer(_)));
                if !all_strings && !all_integers {
                    return self.fail(
                        "E0313",
                        "an `in` list must hold only strings or only integers".to_owned(),
                        list.span,
                        "",
                    );
                }
                if !strings.is_empty() {
                    return self.atom(target, Test::StrIn(strings));
                }
                let Target::Arg(segments) = target else {
                    return self.fail(
                        "E0312",
                        format!("`{}` is a string", self.text(path.span)),
                        span,
                        "",
                    );
                };
                Cond::Or(
                    integers
                        .into_iter()
                        .map(|n| self.atom(Target::Arg(segments.clone()), Test::Int(CmpOp::Eq, n)))
                        .collect(),
                )
            }
            _ => self.fail(
                "E0313",
                "`in` needs a path and a literal list, or a string and `principal.roles`"
                    .to_owned(),
                span,
                "e.g. `args.mode in [\"r\", \"rw\"]` or `\"admin\" in principal.roles`",
            ),
        }
    }
}

fn string_literal(operand: &ast::Operand) -> Option<String> {
    match &operand.kind {
        OperandKind::Literal(Literal::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn cmp_op(op: ast::CompareOp) -> CmpOp {
    match op {
        ast::CompareOp::Eq => CmpOp::Eq,
        ast::CompareOp::Ne => CmpOp::Ne,
        ast::CompareOp::Lt => CmpOp::Lt,
        ast::CompareOp::Le => CmpOp::Le,
        ast::CompareOp::Gt => CmpOp::Gt,
        ast::CompareOp::Ge => CmpOp::Ge,
    }
}

/// `lit OP path` is `path flip(OP) lit`.
fn flip(op: ast::CompareOp) -> ast::CompareOp {
    match op {
        ast::CompareOp::Lt => ast::CompareOp::Gt,
        ast::CompareOp::Le => ast::CompareOp::Ge,
        ast::CompareOp::Gt => ast::CompareOp::Lt,
        ast::CompareOp::Ge => ast::CompareOp::Le,
        other => other,
    }
}

/// Bytes of the shortest JSON spelling of `name` as an object key, without the quotes: what
/// the runtime's `KEY_BYTES_MAX` counts. `"` and `\\` and the control characters with a short
/// escape take two bytes, other control characters six (`\u0000`), anything else its UTF-8.
fn json_key_len(name: &str) -> usize {
    name.chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            '\0'..='\u{1f}' => 6,
            _ => c.len_utf8(),
        })
        .sum()
}

/// How deep `properties` may nest (an argument path has at most this many segments).
pub const ARG_DEPTH_MAX: usize = 8;

/// `path_option` bits for a `path:` constraint.
fn path_options(spec: &crate::model::PathSpec) -> u32 {
    use crate::model::{PathCase, PathEncoding, PathStyle};
    let mut bits = 0;
    if spec.style == Some(PathStyle::Windows) {
        bits |= path_option::WINDOWS;
    }
    if spec.case == Some(PathCase::Insensitive) {
        bits |= path_option::CASE_INSENSITIVE;
    }
    if spec.encoding == Some(PathEncoding::Uri) {
        bits |= path_option::PERCENT_DECODE;
    }
    bits
}

/// The normalised form of a policy's path prefix, if it is absolute and already written in
/// normal form (modulo a trailing `/` and, for case-insensitive paths, case): a prefix that
/// normalisation would change is a typo waiting to surprise its author.
fn normal_prefix(entry: &str, options: mcppol_runtime::path::PathOptions) -> Option<String> {
    let mut buffer = vec![0u8; entry.len().max(1)];
    let normal = mcppol_runtime::path::normalize(entry.as_bytes(), options, &mut buffer).ok()?;
    let text = String::from_utf8(normal.to_vec()).ok()?;
    let written =
        if options.case_insensitive { entry.to_ascii_lowercase() } else { entry.to_owned() };
    let written = if options.style == mcppol_runtime::path::Style::Windows {
        written.replace('\\', "/")
    } else {
        written
    };
    let absolute = text.starts_with('/') || text.as_bytes().get(1) == Some(&b':');
    let unchanged = text == written || written.strip_suffix('/') == Some(text.as_str());
    (absolute && unchanged).then_some(text)
}
