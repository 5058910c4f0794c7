//! The reference evaluator: decides a request straight from the resolved policy, with no DAG,
//! no dispatch table and no hash-consing, reading arguments through `serde_json`.
//!
//! It exists to be obviously right, not fast. Differential tests check that the runtime, which
//! walks the compiled DAG, agrees with it on every request. Where both must apply the same
//! domain function (path normalisation, URL parsing, SQL classification, DFA matching, strict
//! JSON validation) it calls the runtime's; those have their own tests.

use crate::ir::{Atom, CmpOp, Cond, NameMatcher, PatternKind, Policy, Subject, Test, Verdict};
use crate::resolve::Patterns;
use mcppol_runtime::dfa::Dfa;
use mcppol_runtime::format::json_type;
use mcppol_runtime::{Effect, Request, Risk, json, limits, path, sql, url};
use serde_json::Value;
use std::cmp::Ordering;

/// A decision with owned strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceDecision {
    /// What to do.
    pub effect: Effect,
    /// The risk.
    pub risk: Risk,
    /// The reason code.
    pub code: String,
    /// The human reason; for faults only the code is compared, so this is the code too.
    pub reason: String,
    /// The deciding rule.
    pub rule: Option<String>,
}

type Fault = &'static str;

fn fault(code: &str) -> ReferenceDecision {
    ReferenceDecision {
        effect: Effect::Deny,
        risk: Risk::High,
        code: code.to_owned(),
        reason: code.to_owned(),
        rule: None,
    }
}

fn verdict(verdict: &Verdict, rule: Option<&str>) -> ReferenceDecision {
    ReferenceDecision {
        effect: verdict.effect,
        risk: verdict.risk,
        code: verdict.code.clone(),
        reason: verdict.reason.clone(),
        rule: rule.map(str::to_owned),
    }
}

/// Decides `request` under `policy`.
pub fn evaluate(policy: &Policy, patterns: &Patterns, request: &Request<'_>) -> ReferenceDecision {
    let mut tape = vec![json::Entry::EMPTY; json::JSON_VALUES_MAX];
    if let Err(error) = json::parse(request.args, &mut tape) {
        return fault(error.code());
    }
    let Ok(args) = serde_json::from_slice::<Value>(request.args) else {
        return fault("json.syntax");
    };
    let context = Context { patterns, request, args: &args };
    if let Some(schema) = policy.schemas.iter().find(|schema| schema.tool == request.tool) {
        for (check, failure) in &schema.checks {
            match context.cond(check) {
                Err(code) => return fault(code),
                Ok(false) => return verdict(failure, None),
                Ok(true) => {}
            }
        }
    }
    for rule in &policy.rules {
        if !rule.tools.as_ref().is_none_or(|tools| context.tool_matches(tools)) {
            continue;
        }
        match context.cond(&rule.condition) {
            Err(code) => return fault(code),
            Ok(true) => return verdict(&rule.verdict, Some(&rule.id)),
            Ok(false) => {}
        }
    }
    verdict(&policy.default, None)
}

struct Context<'a> {
    patterns: &'a Patterns,
    request: &'a Request<'a>,
    args: &'a Value,
}

impl Context<'_> {
    fn tool_matches(&self, tools: &NameMatcher) -> bool {
        tools.exact.contains(self.request.tool)
            || tools
                .globs
                .iter()
                .any(|glob| self.matches(PatternKind::NameGlob, glob, self.request.tool.as_bytes()))
    }

    fn matches(&self, kind: PatternKind, pattern: &str, text: &[u8]) -> bool {
        self.patterns
            .get(&(kind, vec![pattern.to_owned()]))
            .and_then(|bytes| Dfa::from_bytes(bytes).ok())
            .is_some_and(|dfa| dfa.is_match(text))
    }

    fn cond(&self, cond: &Cond) -> Result<bool, Fault> {
        Ok(match cond {
            Cond::True => true,
            Cond::False => false,
            Cond::Atom(atom) => self.atom(atom)?,
            Cond::Not(inner) => !self.cond(inner)?,
            Cond::And(parts) => {
                for part in parts {
                    if !self.cond(part)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Or(parts) => {
                for part in parts {
                    if self.cond(part)? {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    fn atom(&self, atom: &Atom) -> Result<bool, Fault> {
        let request = self.request;
        match &atom.subject {
            Subject::Method => self.text(&atom.test, request.method),
            Subject::Server => self.text(&atom.test, request.server),
            Subject::Tool => self.text(&atom.test, request.tool),
            Subject::PrincipalId => self.text(&atom.test, request.principal_id),
            Subject::PrincipalRoles => Ok(match &atom.test {
                Test::RoleHas(role) => request.principal_roles.contains(&role.as_str()),
                Test::RoleAny(roles) => request.principal_roles.iter().any(|r| roles.contains(*r)),
                _ => false,
            }),
            // Element tests run only inside `All`/`Any`, through `value`.
            Subject::Element => Ok(false),
            Subject::Args => match &atom.test {
                Test::OnlyKeys(keys) => {
                    let object = self.args.as_object().ok_or("args.type")?;
                    for key in object.keys() {
                        if key.len() > limits::STRING_BYTES_MAX {
                            return Err("limit.string_too_long");
                        }
                    }
                    Ok(object.keys().all(|key| keys.contains(key)))
                }
                _ => Ok(false),
            },
            Subject::Arg(segments) => {
                let mut value = self.args;
                for segment in segments {
                    let Some(object) = value.as_object() else {
                        return if atom.test == Test::Exists {
                            Ok(false)
                        } else {
                            Err("args.type")
                        };
                    };
                    match object.get(segment) {
                        Some(child) => value = child,
                        None if atom.test == Test::Exists || atom.missing_is_false => {
                            return Ok(false);
                        }
                        None => return Err("args.missing"),
                    }
                }
                self.value(&atom.test, value)
            }
        }
    }

    fn value(&self, test: &Test, value: &Value) -> Result<bool, Fault> {
        match test {
            Test::Exists => Ok(true),
            Test::Type(mask) => Ok(type_bits(value) & mask != 0),
            Test::Bool(expected) => Ok(value.as_bool().ok_or("args.type")? == *expected),
            Test::Int(op, bound) => {
                let ordering = compare_number(value.as_number().ok_or("args.type")?, *bound);
                Ok(holds(ordering, *op))
            }
            Test::Len(op, bound) => {
                let len = match value {
                    Value::String(s) => s.chars().count(),
                    Value::Array(items) => items.len(),
                    _ => return Err("args.type"),
                };
                Ok(holds(len.cmp(&(*bound as usize)), *op))
            }
            Test::Bytes(op, bound) => {
                let len = value.as_str().ok_or("args.type")?.len();
                Ok(holds(len.cmp(&(*bound as usize)), *op))
            }
            Test::Decimal(op, bound) => {
                let number = value.as_number().ok_or("args.type")?.to_string();
                // The runtime's exact decimal comparison (tested on its own in `number.rs`).
                let ordering = mcppol_runtime::number::compare(number.as_bytes(), bound.as_bytes())
                    .ok_or("args.type")?;
                Ok(holds(ordering, *op))
            }
            Test::OnlyKeys(keys) => {
                let object = value.as_object().ok_or("args.type")?;
                if object.keys().any(|key| key.len() > limits::STRING_BYTES_MAX) {
                    return Err("limit.string_too_long");
                }
                Ok(object.keys().all(|key| keys.contains(key)))
            }
            Test::All(element) | Test::Any(element) => {
                let items = value.as_array().ok_or("args.type")?;
                // An element the test cannot apply to does not satisfy it.
                let mut results =
                    items.iter().map(|item| self.value(&element.test, item).unwrap_or(false));
                Ok(if matches!(test, Test::All(_)) {
                    results.all(|ok| ok)
                } else {
                    results.any(|ok| ok)
                })
            }
            _ => {
                let text = value.as_str().ok_or("args.type")?;
                if text.len() > limits::STRING_BYTES_MAX {
                    return Err("limit.string_too_long");
                }
                self.text(test, text)
            }
        }
    }

    fn text(&self, test: &Test, text: &str) -> Result<bool, Fault> {
        let bytes = text.as_bytes();
        Ok(match test {
            Test::StrEq(s) => text == s,
            Test::StrIn(set) => set.contains(text),
            Test::Prefix(s) => text.starts_with(s.as_str()),
            Test::Suffix(s) => text.ends_with(s.as_str()),
            Test::Contains(s) => text.contains(s.as_str()),
            Test::Matches(kind, pattern) => self.matches(*kind, pattern, bytes),
            Test::PathPrefix(_, options) | Test::PathGlob(_, options) => {
                let mut buffer = vec![0u8; limits::STRING_BYTES_MAX];
                let options = mcppol_runtime::format::path_option::options(*options);
                let normal = path::normalize(bytes, options, &mut buffer).map_err(|e| e.code())?;
                match test {
                    Test::PathPrefix(prefixes, _) => {
                        prefixes.iter().any(|prefix| path::has_prefix(normal, prefix.as_bytes()))
                    }
                    // Each glob's own DFA, not the union's that the artifact carries: the
                    // differential tests then check that the union decides like the list.
                    Test::PathGlob(globs, _) => {
                        globs.iter().any(|glob| self.matches(PatternKind::PathGlob, glob, normal))
                    }
                    _ => false,
                }
            }
            Test::UrlScheme(_)
            | Test::UrlHost(_)
            | Test::UrlNamedHost
            | Test::UrlPort(_)
            | Test::UrlPath(_)
            | Test::UrlSsrf => {
                let parsed = url::parse(bytes).map_err(|e| e.code())?;
                let host = url::classify_host(parsed.host).map_err(|e| e.code())?;
                match test {
                    Test::UrlScheme(schemes) => schemes
                        .iter()
                        .any(|scheme| parsed.scheme.eq_ignore_ascii_case(scheme.as_bytes())),
                    Test::UrlHost(hosts) => {
                        hosts.iter().any(|host| url::host_matches(parsed.host, host.as_bytes()))
                    }
                    Test::UrlNamedHost => matches!(host, url::Host::Name),
                    Test::UrlPort(ports) => parsed
                        .effective_port()
                        .is_some_and(|port| ports.contains(&port.to_string())),
                    Test::UrlPath(prefixes) => {
                        let mut buffer = vec![0u8; limits::STRING_BYTES_MAX];
                        let options = path::PathOptions {
                            percent_decode: true,
                            ..path::PathOptions::default()
                        };
                        let raw = if parsed.path.is_empty() { &b"/"[..] } else { parsed.path };
                        let normal =
                            path::normalize(raw, options, &mut buffer).map_err(|e| e.code())?;
                        prefixes.iter().any(|prefix| path::has_prefix(normal, prefix.as_bytes()))
                    }
                    _ => match url::ssrf_class(&host, parsed.host) {
                        Some(class) => return Err(class.code()),
                        None => true,
                    },
                }
            }
            Test::SqlAllow(..)
            | Test::SqlDenyFunctions(_)
            | Test::SqlTablesIn(_)
            | Test::SqlTablesNotIn(_) => {
                // Events borrow the input only inside the callback: decide there.
                let dangerous_on = matches!(test, Test::SqlAllow(_, _, true));
                let (mut dangerous, mut denied_function) = (false, false);
                let (mut all_listed, mut any_listed) = (true, false);
                let summary = sql::analyze_with(bytes, &mut |event| match event {
                    sql::SqlEvent::Function(name) => {
                        dangerous |= dangerous_on
                            && sql::DANGEROUS_FUNCTIONS.iter().any(|f| name.last_eq(f.as_bytes()));
                        if let Test::SqlDenyFunctions(denied) = test {
                            denied_function |= denied.iter().any(|d| name.may_be(d.as_bytes()));
                        }
                    }
                    sql::SqlEvent::Table(name) => {
                        if let Test::SqlTablesIn(set) = test {
                            all_listed &= set.iter().any(|t| name.surely_is(t.as_bytes()));
                        }
                        if let Test::SqlTablesNotIn(set) = test {
                            any_listed |= set.iter().any(|t| name.may_be(t.as_bytes()));
                        }
                    }
                })
                .map_err(|e| e.code())?;
                if dangerous {
                    return Err("sql.dangerous_function");
                }
                if denied_function {
                    return Err("sql.function_denied");
                }
                match test {
                    Test::SqlAllow(kinds, max, _) => {
                        sql::KindSet::from_bits(*kinds)
                            .is_some_and(|allowed| summary.kinds.is_subset_of(allowed))
                            && (1..=*max).contains(&summary.statement_count)
                    }
                    Test::SqlTablesIn(_) => all_listed,
                    Test::SqlTablesNotIn(_) => !any_listed,
                    _ => true,
                }
            }
            Test::Int(..)
            | Test::Len(..)
            | Test::Bool(_)
            | Test::Bytes(..)
            | Test::Decimal(..)
            | Test::All(_)
            | Test::Any(_) => return Err("args.type"),
            Test::Exists | Test::Type(_) => true,
            Test::OnlyKeys(_) | Test::RoleHas(_) | Test::RoleAny(_) => false,
        })
    }
}

fn type_bits(value: &Value) -> u32 {
    match value {
        Value::Null => json_type::NULL,
        Value::Bool(_) => json_type::BOOLEAN,
        Value::Number(number) => {
            let integral = is_integral(&number.to_string());
            json_type::NUMBER | if integral { json_type::INTEGER } else { 0 }
        }
        Value::String(_) => json_type::STRING,
        Value::Array(_) => json_type::ARRAY,
        Value::Object(_) => json_type::OBJECT,
    }
}

/// Whether the JSON number `text` is mathematically an integer (`5`, `5.0`, `50e-1`, `1e400`),
/// by decimal digits, as the runtime decides it.
fn is_integral(text: &str) -> bool {
    let text = text.trim_start_matches('-');
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, "0"),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    if digits.iter().all(|&d| d == b'0') {
        return true;
    }
    // Huge exponents saturate; the sign decides which way.
    let exponent: i128 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
        i128::MIN / 2
    } else {
        i128::MAX / 2
    });
    let point = i128::try_from(int_part.len()).unwrap_or(0) + exponent;
    digits
        .iter()
        .enumerate()
        .all(|(index, &digit)| i128::try_from(index).unwrap_or(0) < point || digit == b'0')
}

fn compare_number(number: &serde_json::Number, bound: i64) -> Ordering {
    if let Some(value) = number.as_i64() {
        return value.cmp(&bound);
    }
    compare_decimal(&number.to_string(), bound)
}

/// Compares the JSON number `text` with `bound` exactly, as decimal digits: both are written
/// as `0.DIGITS × 10^point` and compared by sign, then point, then digits. No floats, so
/// `1.0000000000000001 > 1` and `1e-400 > 0` hold. (serde_json's `arbitrary_precision` keeps
/// the text of numbers that do not fit an i64.)
fn compare_decimal(text: &str, bound: i64) -> Ordering {
    let negative = text.starts_with('-');
    let text = text.trim_start_matches('-');
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, "0"),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent: i128 = exponent
        .trim_start_matches('+')
        .parse()
        .unwrap_or(if exponent.starts_with('-') { i128::MIN / 4 } else { i128::MAX / 4 });
    let all = format!("{int_part}{frac_part}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0');
    let point = i128::try_from(int_part.len()).unwrap_or(0) + exponent
        - i128::try_from(leading).unwrap_or(0);
    let value_sign: i64 = if digits.is_empty() {
        0
    } else if negative {
        -1
    } else {
        1
    };
    let bound_sign = bound.signum();
    if value_sign != bound_sign {
        return value_sign.cmp(&bound_sign);
    }
    if value_sign == 0 {
        return Ordering::Equal;
    }
    let bound_text = bound.unsigned_abs().to_string();
    let bound_point = i128::try_from(bound_text.len()).unwrap_or(0);
    let bound_digits = bound_text.trim_end_matches('0');
    let magnitude = point.cmp(&bound_point).then_with(|| digits.cmp(bound_digits));
    if negative { magnitude.reverse() } else { magnitude }
}

fn holds(ordering: Ordering, op: CmpOp) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}
