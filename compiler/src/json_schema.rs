//! Translation of an MCP tool's `inputSchema` (JSON Schema) into the argument specs a `tools:`
//! entry would declare, so that a policy can paste the schema a server publishes in
//! `tools/list` (`tools: { fs.read: { input_schema: {...} } }`) and have calls checked against
//! it before any rule.
//!
//! Only a subset of JSON Schema is translated: the keywords MCP servers publish and mcppol can
//! check. This list is normative.
//!
//! # The root
//!
//! The root must be an object schema: `"type": "object"` (or `["object"]`), or no `type` but
//! `properties`. At the root only `type`, `properties`, `required`, `additionalProperties` and
//! the ignored annotations below may appear. `additionalProperties: false` at the root becomes
//! `unknown_args: deny` (and `true` becomes `unknown_args: allow`).
//!
//! # Supported keywords (below the root)
//!
//! | keyword | becomes |
//! | --- | --- |
//! | `type` (a name or an array of names: `string`, `integer`, `number`, `boolean`, `array`, `object`, `null`) | `type` |
//! | `properties` (a schema per name) | `properties`, recursively (and the top-level arguments at the root) |
//! | `required` (an array of property names) | `required: true` on those properties; a name missing from `properties` gets a spec with only `required` |
//! | `enum` (strings, integers, booleans) | `enum` |
//! | `const` (a string, integer or boolean) | a one-element `enum` (with `enum` too: the one value, if `enum` lists it) |
//! | `minLength`, `maxLength` | `min_length`, `max_length` |
//! | `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (integers or decimals) | the same bounds, as [`Number`] |
//! | `pattern` | `pattern` |
//! | `items` (one schema) | `items` |
//! | `minItems`, `maxItems` | `min_items`, `max_items` |
//! | `contains` | `contains` |
//! | `additionalProperties` (a boolean) | `additional_properties` (`unknown_args` at the root) |
//!
//! A subschema may also be `true` (any value, the same as `{}`).
//! Schemas nest at most [`DEPTH_MAX`] levels below the root, counting each step through
//! `properties`, `items` or `contains`; a deeper schema is an error.
//!
//! # Ignored keywords
//!
//! These are annotations, with no effect on validation, and are ignored wherever they appear:
//! `title`, `description`, `default`, `examples`, `$schema`, `$id`, `$comment`, `deprecated`,
//! `readOnly`, `writeOnly`, `format`, and extension keys starting with `x-` (such as
//! `x-mcp-header`).
//!
//! `format` is ignored because JSON Schema itself treats it as an annotation by default (the
//! 2019-09 and 2020-12 drafts' format-annotation vocabulary; validators assert it only when
//! configured to). A server whose validator does assert it may reject a value mcppol lets
//! through; add a `pattern` or a rule where that matters.
//!
//! # Refused keywords
//!
//! Every other keyword is an error naming it and its JSON Pointer: among them `$ref`, `$defs`,
//! `definitions`, `$anchor`, `oneOf`, `anyOf`, `allOf`, `not`, `if`/`then`/`else`,
//! `patternProperties`, `propertyNames`, `dependentRequired`, `dependentSchemas`,
//! `dependencies`, `minProperties`, `maxProperties`, `uniqueItems`, `multipleOf`, `prefixItems`,
//! `minContains`, `maxContains`, `unevaluatedProperties`, `unevaluatedItems`, `nullable`,
//! `contentMediaType`, and unknown keys. So are the tuple form of `items` (an array), a
//! schema-valued `additionalProperties`, the schema `false`, `null` or fractional `enum` and
//! `const` values, a supported keyword whose value has the wrong type (`"minLength": "3"`,
//! `"required": "path"`), and a keyword that applies only to types the schema's `type`
//! excludes (`"type": "integer", "maxLength": 5`): JSON Schema ignores it for those values,
//! but mcppol would check it and deny the call. So is a name in `required` that `properties`
//! does not declare when `additionalProperties` is false (no call could satisfy the schema).
//! A validation keyword is never dropped, since that would accept calls the server's schema
//! rejects. All errors are reported, not only the first.
//!
//! # Where mcppol and JSON Schema differ
//!
//! A JSON Schema keyword constrains only values of the types it applies to (`minLength` only
//! strings, `minimum` only numbers), while an mcppol constraint applied to a value of another
//! type is a fault, a deny. With one declared `type` the two agree, because the `type` check
//! runs first. With several types or none, mcppol denies what JSON Schema accepts: a `null`
//! under `"type": ["string", "null"], "maxLength": 10`, or an array under a type-less
//! `minLength` (where mcppol counts elements).
//!
//! `pattern` is read with mcppol's regex syntax (the `regex` crate's), not ECMA-262's; most
//! patterns mean the same, and one that does not compile is an error from resolution. Unicode
//! classes differ, and there mcppol is looser: `\d` matches every Unicode digit here but only
//! `0-9` in ECMA-262 (write `[0-9]` where it matters).
//!
//! The translation is pure and deterministic: every map is a `BTreeMap`, and the errors come
//! in the order of the schema's keys.

use crate::model::{ArgSpec, Number, Scalar, TypeName, Types, UnknownArgs};
use serde_json::{Map, Value};
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;

/// How many levels a schema may nest below the root, through `properties`, `items` or
/// `contains`: the deepest argument path a `tools:` entry accepts
/// ([`crate::resolve::ARG_DEPTH_MAX`]), and a bound on the translation's recursion.
pub const DEPTH_MAX: usize = 8;

/// The help given for a keyword outside the supported subset.
pub const UNSUPPORTED_HELP: &str =
    "mcppol checks a subset of JSON Schema; express this with rules, or remove it";

/// Keywords that never affect validation.
const ANNOTATIONS: [&str; 11] = [
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "format",
];

/// What a tool's `inputSchema` declares, in the terms of a `tools:` entry.
#[derive(Debug)]
pub struct Translated {
    /// The declared arguments (the root's `properties` and `required`), each spanned at the
    /// `input_schema` key.
    pub args: BTreeMap<String, Spanned<ArgSpec>>,
    /// `Some(Deny)` for `"additionalProperties": false` at the root, `Some(Allow)` for `true`,
    /// `None` when the schema does not say.
    pub unknown_args: Option<UnknownArgs>,
}

/// One part of an input schema that cannot be translated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON Pointer (RFC 6901) to the offending keyword or value, e.g.
    /// `/properties/path/pattern`; empty for the schema itself.
    pub pointer: String,
    /// What is wrong: lowercase, no final period, names in backticks.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// Translates an MCP tool `inputSchema` into the argument specs and unknown-argument rule a
/// `tools:` entry would declare. `at` is the location of the `input_schema` key; every spec
/// (and `pattern`) produced is spanned there.
///
/// # Errors
///
/// Every part of the schema outside the supported subset (see the module documentation), in
/// the order of the schema's keys.
pub fn translate(schema: &Value, at: Location) -> Result<Translated, Vec<SchemaError>> {
    let mut translator = Translator { at, errors: Vec::new() };
    let translated = translator.root(schema);
    if translator.errors.is_empty() { Ok(translated) } else { Err(translator.errors) }
}

/// The keywords describing an object's fields, read the same way at the root and below.
#[derive(Default)]
struct ObjectKeywords {
    properties: BTreeMap<String, Spanned<ArgSpec>>,
    /// Required names, each with the pointer of its entry in `required`.
    required: Vec<(String, String)>,
    additional: Option<bool>,
}

struct Translator {
    at: Location,
    errors: Vec<SchemaError>,
}

/// `pointer` extended by one reference token, escaped as RFC 6901 requires.
fn child(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

fn is_ignored(key: &str) -> bool {
    ANNOTATIONS.contains(&key) || key.starts_with("x-")
}

/// The JSON types a keyword applies to, and how to name them, for keywords that apply to
/// some types only.
fn applies_to(keyword: &str) -> Option<(&'static [TypeName], &'static str)> {
    match keyword {
        "minLength" | "maxLength" | "pattern" => Some((&[TypeName::String], "strings")),
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
            Some((&[TypeName::Integer, TypeName::Number], "numbers"))
        }
        "items" | "minItems" | "maxItems" | "contains" => Some((&[TypeName::Array], "arrays")),
        "properties" | "required" | "additionalProperties" => {
            Some((&[TypeName::Object], "objects"))
        }
        _ => None,
    }
}

/// "a string", "an array", ... for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "`null`",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Translator {
    fn error(&mut self, pointer: &str, message: String, help: Option<&str>) {
        self.errors.push(SchemaError {
            pointer: pointer.to_owned(),
            message,
            help: help.map(str::to_owned),
        });
    }

    fn spanned<T>(&self, value: T) -> Spanned<T> {
        Spanned::new(value, self.at, self.at)
    }

    fn unsupported(&mut self, key: &str, pointer: &str) {
        self.error(
            pointer,
            format!("JSON Schema keyword `{key}` is not supported"),
            Some(UNSUPPORTED_HELP),
        );
    }

    fn root(&mut self, schema: &Value) -> Translated {
        let mut translated = Translated { args: BTreeMap::new(), unknown_args: None };
        let Value::Object(map) = schema else {
            self.error(
                "",
                format!("the input schema must be a JSON object, not {}", describe(schema)),
                Some(
                    "paste the tool's `inputSchema` from the server's `tools/list` response, \
                     e.g. `{\"type\": \"object\", \"properties\": {...}}`",
                ),
            );
            return translated;
        };
        match map.get("type") {
            None if map.contains_key("properties") => {}
            None => self.error(
                "",
                "the input schema declares neither `\"type\": \"object\"` nor `properties`"
                    .to_owned(),
                Some("a tool's arguments are a JSON object: add `\"type\": \"object\"`"),
            ),
            Some(Value::String(name)) if name == "object" => {}
            Some(Value::Array(names))
                if !names.is_empty() && names.iter().all(|name| name == "object") => {}
            Some(other) => self.error(
                "/type",
                format!("the input schema's `type` must be `\"object\"`, not `{other}`"),
                Some("a tool's arguments are always a JSON object"),
            ),
        }
        let mut object = ObjectKeywords::default();
        for (key, value) in map {
            let pointer = child("", key);
            if key == "type" || is_ignored(key) {
                continue;
            }
            if self.object_keyword(key, value, &pointer, 0, &mut object) {
                continue;
            }
            if applies_to(key).is_some() || matches!(key.as_str(), "enum" | "const") {
                self.error(
                    &pointer,
                    format!("`{key}` cannot be checked on the arguments object"),
                    Some(
                        "at the root only `type`, `properties`, `required` and \
                         `additionalProperties` are checked; move it into a property, express \
                         it with rules, or remove it",
                    ),
                );
            } else {
                self.unsupported(key, &pointer);
            }
        }
        let (args, additional) = self.finish_object(object);
        translated.args = args;
        translated.unknown_args =
            additional.map(|allowed| if allowed { UnknownArgs::Allow } else { UnknownArgs::Deny });
        translated
    }

    /// Reads `properties`, `required` or `additionalProperties` into `object`; false for any
    /// other keyword. `depth` is the level of the schema holding the keyword (0 at the root).
    fn object_keyword(
        &mut self,
        key: &str,
        value: &Value,
        pointer: &str,
        depth: usize,
        object: &mut ObjectKeywords,
    ) -> bool {
        match key {
            "properties" => match value {
                Value::Object(properties) => {
                    for (name, schema) in properties {
                        let here = child(pointer, name);
                        if let Some(spec) = self.subschema(schema, &here, depth) {
                            object.properties.insert(name.clone(), spec);
                        }
                    }
                }
                other => self.error(
                    pointer,
                    format!(
                        "`properties` must be an object mapping names to schemas, not {}",
                        describe(other)
                    ),
                    None,
                ),
            },
            "required" => match value {
                Value::Array(names) => {
                    for (index, name) in names.iter().enumerate() {
                        let here = child(pointer, &index.to_string());
                        match name {
                            Value::String(name) => object.required.push((name.clone(), here)),
                            other => self.error(
                                &here,
                                format!(
                                    "`required` lists property names (strings), not {}",
                                    describe(other)
                                ),
                                None,
                            ),
                        }
                    }
                }
                Value::Bool(_) => self.error(
                    pointer,
                    "`required` must be an array of property names, not a boolean".to_owned(),
                    Some(
                        "`\"required\": true` on a property is JSON Schema draft 3; list the \
                         property's name in its parent's `required` array",
                    ),
                ),
                other => self.error(
                    pointer,
                    format!(
                        "`required` must be an array of property names, not {}",
                        describe(other)
                    ),
                    None,
                ),
            },
            "additionalProperties" => match value {
                Value::Bool(allowed) => object.additional = Some(*allowed),
                Value::Object(_) => self.error(
                    pointer,
                    "`additionalProperties` with a schema is not supported".to_owned(),
                    Some(
                        "mcppol checks `additionalProperties: false` or `true` only; express \
                         this with rules, or remove it",
                    ),
                ),
                other => self.error(
                    pointer,
                    format!("`additionalProperties` must be a boolean, not {}", describe(other)),
                    None,
                ),
            },
            _ => return false,
        }
        true
    }

    /// The properties with `required` applied, and `additionalProperties`.
    fn finish_object(
        &mut self,
        object: ObjectKeywords,
    ) -> (BTreeMap<String, Spanned<ArgSpec>>, Option<bool>) {
        let ObjectKeywords { mut properties, required, additional } = object;
        for (name, pointer) in required {
            if let Some(spec) = properties.get_mut(&name) {
                spec.value.required = Some(true);
                continue;
            }
            if additional == Some(false) {
                self.error(
                    &pointer,
                    format!(
                        "required property `{name}` is not in `properties`, and \
                         `additionalProperties` is false: no call can satisfy this schema"
                    ),
                    Some("declare the property under `properties`, or remove it from `required`"),
                );
            }
            let spec = ArgSpec { required: Some(true), ..ArgSpec::default() };
            properties.insert(name, self.spanned(spec));
        }
        (properties, additional)
    }

    /// A schema one level below the one at `depth`, or `None` past [`DEPTH_MAX`].
    fn subschema(
        &mut self,
        value: &Value,
        pointer: &str,
        depth: usize,
    ) -> Option<Spanned<ArgSpec>> {
        let depth = depth + 1;
        if depth > DEPTH_MAX {
            self.error(
                pointer,
                format!("the schema is nested deeper than {DEPTH_MAX} levels"),
                Some(&format!(
                    "mcppol checks arguments at most {DEPTH_MAX} levels deep; express this with \
                     rules, or remove it"
                )),
            );
            return None;
        }
        let spec = self.schema(value, pointer, depth);
        Some(self.spanned(spec))
    }

    /// A schema below the root, at `depth` (1 for a top-level argument).
    fn schema(&mut self, value: &Value, pointer: &str, depth: usize) -> ArgSpec {
        let mut spec = ArgSpec::default();
        let map = match value {
            Value::Object(map) => map,
            Value::Bool(true) => return spec,
            Value::Bool(false) => {
                self.error(
                    pointer,
                    "the schema `false` (no value is valid) is not supported".to_owned(),
                    Some(UNSUPPORTED_HELP),
                );
                return spec;
            }
            other => {
                self.error(
                    pointer,
                    format!("a schema must be an object or a boolean, not {}", describe(other)),
                    None,
                );
                return spec;
            }
        };
        let mut object = ObjectKeywords::default();
        let mut values = None;
        let mut constant = None;
        for (key, value) in map {
            let here = child(pointer, key);
            match key.as_str() {
                "type" => spec.types = self.types(value, &here),
                "enum" => values = self.enumeration(value, &here),
                "const" => constant = self.scalar("const", value, &here),
                "minLength" => spec.min_length = self.count(key, value, &here),
                "maxLength" => spec.max_length = self.count(key, value, &here),
                "minItems" => spec.min_items = self.count(key, value, &here),
                "maxItems" => spec.max_items = self.count(key, value, &here),
                "minimum" => spec.minimum = self.number(key, value, &here),
                "maximum" => spec.maximum = self.number(key, value, &here),
                "exclusiveMinimum" => spec.exclusive_minimum = self.number(key, value, &here),
                "exclusiveMaximum" => spec.exclusive_maximum = self.number(key, value, &here),
                "pattern" => spec.pattern = self.pattern(value, &here),
                "items" => {
                    if let Value::Array(_) = value {
                        self.error(
                            &here,
                            "the tuple form of `items` (an array of schemas) is not supported"
                                .to_owned(),
                            Some(UNSUPPORTED_HELP),
                        );
                    } else {
                        spec.items = self.subschema(value, &here, depth).map(Box::new);
                    }
                }
                "contains" => spec.contains = self.subschema(value, &here, depth).map(Box::new),
                _ if self.object_keyword(key, value, &here, depth, &mut object) => {}
                _ if is_ignored(key) => {}
                _ => self.unsupported(key, &here),
            }
        }
        spec.values = self.merge_enum(values, constant, pointer);
        let (properties, additional) = self.finish_object(object);
        spec.properties = properties;
        spec.additional_properties = additional;
        if let Some(types) = &spec.types {
            self.check_applicable(map, types, pointer);
        }
        spec
    }

    /// Refuses keywords that apply only to types `types` excludes.
    fn check_applicable(&mut self, map: &Map<String, Value>, types: &Types, pointer: &str) {
        let declared: &[TypeName] = match types {
            Types::One(one) => std::slice::from_ref(one),
            Types::Many(many) => many,
        };
        for key in map.keys() {
            let Some((accepted, what)) = applies_to(key) else { continue };
            if !declared.iter().any(|name| accepted.contains(name)) {
                self.error(
                    &child(pointer, key),
                    format!("`{key}` applies only to {what}, and `type` allows none"),
                    Some(
                        "JSON Schema ignores this keyword for the declared type, but mcppol \
                         would check it and deny the call; remove it",
                    ),
                );
            }
        }
    }

    fn types(&mut self, value: &Value, pointer: &str) -> Option<Types> {
        match value {
            Value::String(name) => self.type_name(name, pointer).map(Types::One),
            Value::Array(names) if names.is_empty() => {
                self.error(pointer, "`type` lists no types".to_owned(), None);
                None
            }
            Value::Array(names) => {
                let mut list = Vec::new();
                let mut ok = true;
                for (index, name) in names.iter().enumerate() {
                    let here = child(pointer, &index.to_string());
                    let parsed = match name {
                        Value::String(name) => self.type_name(name, &here),
                        other => {
                            self.error(
                                &here,
                                format!(
                                    "`type` lists type names (strings), not {}",
                                    describe(other)
                                ),
                                None,
                            );
                            None
                        }
                    };
                    match parsed {
                        Some(parsed) => list.push(parsed),
                        None => ok = false,
                    }
                }
                ok.then_some(Types::Many(list))
            }
            other => {
                self.error(
                    pointer,
                    format!(
                        "`type` must be a type name or an array of them, not {}",
                        describe(other)
                    ),
                    None,
                );
                None
            }
        }
    }

    fn type_name(&mut self, name: &str, pointer: &str) -> Option<TypeName> {
        let parsed = match name {
            "string" => TypeName::String,
            "integer" => TypeName::Integer,
            "number" => TypeName::Number,
            "boolean" => TypeName::Boolean,
            "array" => TypeName::Array,
            "object" => TypeName::Object,
            "null" => TypeName::Null,
            _ => {
                self.error(
                    pointer,
                    format!("unknown type `{name}`"),
                    Some(
                        "JSON Schema's types are `string`, `integer`, `number`, `boolean`, \
                         `array`, `object` and `null`",
                    ),
                );
                return None;
            }
        };
        Some(parsed)
    }

    fn enumeration(&mut self, value: &Value, pointer: &str) -> Option<Vec<Scalar>> {
        let Value::Array(items) = value else {
            self.error(
                pointer,
                format!("`enum` must be an array of values, not {}", describe(value)),
                None,
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                pointer,
                "`enum` lists no values".to_owned(),
                Some("no value can satisfy an empty `enum`; list the allowed values"),
            );
            return None;
        }
        let mut values = Vec::new();
        let mut ok = true;
        for (index, item) in items.iter().enumerate() {
            match self.scalar("enum", item, &child(pointer, &index.to_string())) {
                Some(scalar) => values.push(scalar),
                None => ok = false,
            }
        }
        ok.then_some(values)
    }

    /// An `enum` member or `const` value: a string, an integer or a boolean.
    fn scalar(&mut self, keyword: &str, value: &Value, pointer: &str) -> Option<Scalar> {
        match value {
            Value::String(text) => return Some(Scalar::String(text.clone())),
            Value::Bool(b) => return Some(Scalar::Bool(*b)),
            Value::Number(n) => {
                if let Some(n) = n.as_i64() {
                    return Some(Scalar::Integer(n));
                }
                self.error(
                    pointer,
                    format!(
                        "`{keyword}` value `{n}` is not supported: values are strings, \
                         integers (64-bit) and booleans"
                    ),
                    Some(UNSUPPORTED_HELP),
                );
            }
            other => self.error(
                pointer,
                format!(
                    "`{keyword}` value {} is not supported: values are strings, integers and \
                     booleans",
                    describe(other)
                ),
                Some(UNSUPPORTED_HELP),
            ),
        }
        None
    }

    /// `enum` and `const` together allow the values both allow.
    fn merge_enum(
        &mut self,
        values: Option<Vec<Scalar>>,
        constant: Option<Scalar>,
        pointer: &str,
    ) -> Option<Vec<Scalar>> {
        match (values, constant) {
            (values, None) => values,
            (None, Some(constant)) => Some(vec![constant]),
            (Some(values), Some(constant)) if values.contains(&constant) => Some(vec![constant]),
            (Some(_), Some(_)) => {
                self.error(
                    &child(pointer, "const"),
                    "`const` is not one of the `enum` values: no value can satisfy both".to_owned(),
                    Some("remove `const` or `enum`"),
                );
                None
            }
        }
    }

    /// A length or item count.
    fn count(&mut self, keyword: &str, value: &Value, pointer: &str) -> Option<u32> {
        if let Some(count) = value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            return Some(count);
        }
        self.error(
            pointer,
            format!("`{keyword}` must be an integer from 0 to 4294967295, not `{value}`"),
            None,
        );
        None
    }

    /// A numeric bound: an integer if it is one (within 64 bits), else a finite decimal.
    fn number(&mut self, keyword: &str, value: &Value, pointer: &str) -> Option<Number> {
        match value {
            Value::Number(n) => {
                if let Some(integer) = n.as_i64() {
                    return Some(Number::Integer(integer));
                }
                if n.is_f64()
                    && let Some(decimal) = n.as_f64().filter(|d| d.is_finite())
                {
                    return Some(Number::Decimal(decimal));
                }
                self.error(
                    pointer,
                    format!("`{keyword}` `{n}` is out of range"),
                    Some("integer bounds are 64-bit, and decimal bounds must be finite doubles"),
                );
            }
            Value::Bool(_) if keyword.starts_with("exclusive") => self.error(
                pointer,
                format!("`{keyword}` must be a number, not a boolean"),
                Some(
                    "a boolean `exclusiveMinimum` or `exclusiveMaximum` is JSON Schema draft 4; \
                     write the bound itself instead, e.g. `\"exclusiveMinimum\": 0`",
                ),
            ),
            other => self.error(
                pointer,
                format!("`{keyword}` must be a number, not {}", describe(other)),
                None,
            ),
        }
        None
    }

    fn pattern(&mut self, value: &Value, pointer: &str) -> Option<Spanned<String>> {
        if let Value::String(text) = value {
            return Some(self.spanned(text.clone()));
        }
        self.error(pointer, format!("`pattern` must be a string, not {}", describe(value)), None);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A real location (line 3), so that spans are seen to be `at`, not a default.
    fn at() -> Location {
        let spanned: Spanned<u32> = serde_saphyr::from_str("\n\n    7").unwrap();
        spanned.referenced
    }

    fn sp(spec: ArgSpec) -> Spanned<ArgSpec> {
        Spanned::new(spec, at(), at())
    }

    fn one(name: TypeName) -> Option<Types> {
        Some(Types::One(name))
    }

    fn ok(schema: &Value) -> Translated {
        translate(schema, at()).unwrap_or_else(|errors| panic!("{errors:#?}"))
    }

    fn errors_of(schema: &Value) -> Vec<SchemaError> {
        match translate(schema, at()) {
            Ok(translated) => panic!("expected errors, got {translated:#?}"),
            Err(errors) => errors,
        }
    }

    fn pointers(schema: &Value) -> Vec<String> {
        errors_of(schema).into_iter().map(|error| error.pointer).collect()
    }

    /// The spec of argument `a` declared with `schema`.
    fn arg(schema: Value) -> ArgSpec {
        let mut translated = ok(&json!({"type": "object", "properties": {"a": schema}}));
        translated.args.remove("a").unwrap().value
    }

    /// The errors of argument `a` declared with `schema`.
    fn arg_errors(schema: Value) -> Vec<SchemaError> {
        errors_of(&json!({"type": "object", "properties": {"a": schema}}))
    }

    fn assert_spec(actual: &ArgSpec, expected: &ArgSpec) {
        assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"));
    }

    fn assert_translated(
        actual: &Translated,
        args: Vec<(&str, ArgSpec)>,
        unknown_args: Option<UnknownArgs>,
    ) {
        let expected = Translated {
            args: args.into_iter().map(|(name, spec)| (name.to_owned(), sp(spec))).collect(),
            unknown_args,
        };
        assert_eq!(format!("{actual:#?}"), format!("{expected:#?}"));
    }

    fn string() -> ArgSpec {
        ArgSpec { types: one(TypeName::String), ..ArgSpec::default() }
    }

    fn required(spec: ArgSpec) -> ArgSpec {
        ArgSpec { required: Some(true), ..spec }
    }

    #[test]
    fn the_test_location_is_a_real_one() {
        assert_ne!(at(), Location::UNKNOWN);
        assert_eq!(at().line(), 3);
    }

    #[test]
    fn filesystem_server_read_text_file() {
        // As @modelcontextprotocol/server-filesystem publishes it (zod-to-json-schema output).
        let schema = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "tail": {"type": "number", "description": "If provided, returns only the last N lines of the file"},
                "head": {"type": "number", "description": "If provided, returns only the first N lines of the file"}
            },
            "required": ["path"],
            "additionalProperties": false,
            "$schema": "http://json-schema.org/draft-07/schema#"
        });
        let number = || ArgSpec { types: one(TypeName::Number), ..ArgSpec::default() };
        assert_translated(
            &ok(&schema),
            vec![("head", number()), ("path", required(string())), ("tail", number())],
            Some(UnknownArgs::Deny),
        );
    }

    #[test]
    fn filesystem_server_write_file() {
        let schema = json!({
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
            "additionalProperties": false,
            "$schema": "http://json-schema.org/draft-07/schema#"
        });
        assert_translated(
            &ok(&schema),
            vec![("content", required(string())), ("path", required(string()))],
            Some(UnknownArgs::Deny),
        );
    }

    #[test]
    fn filesystem_server_edit_file_with_an_array_of_objects() {
        // Translation keeps the element object; resolution decides what it can check.
        let schema = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "edits": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "oldText": {"type": "string", "description": "Text to search for - must match exactly"},
                            "newText": {"type": "string", "description": "Text to replace with"}
                        },
                        "required": ["oldText", "newText"],
                        "additionalProperties": false
                    }
                },
                "dryRun": {"type": "boolean", "default": false, "description": "Preview changes using git-style diff format"}
            },
            "required": ["path", "edits"],
            "additionalProperties": false,
            "$schema": "http://json-schema.org/draft-07/schema#"
        });
        let element = ArgSpec {
            types: one(TypeName::Object),
            properties: [("newText", required(string())), ("oldText", required(string()))]
                .into_iter()
                .map(|(name, spec)| (name.to_owned(), sp(spec)))
                .collect(),
            additional_properties: Some(false),
            ..ArgSpec::default()
        };
        let edits = ArgSpec {
            types: one(TypeName::Array),
            required: Some(true),
            items: Some(Box::new(sp(element))),
            ..ArgSpec::default()
        };
        assert_translated(
            &ok(&schema),
            vec![
                ("dryRun", ArgSpec { types: one(TypeName::Boolean), ..ArgSpec::default() }),
                ("edits", edits),
                ("path", required(string())),
            ],
            Some(UnknownArgs::Deny),
        );
    }

    #[test]
    fn github_create_issue_with_nested_objects_and_label_arrays() {
        let schema = json!({
            "type": "object",
            "properties": {
                "owner": {"type": "string", "description": "Repository owner (username or organization)"},
                "repo": {"type": "string", "description": "Repository name"},
                "title": {"type": "string", "minLength": 1, "maxLength": 256},
                "body": {"type": "string", "description": "Issue body content"},
                "assignees": {
                    "type": "array",
                    "items": {"type": "string"},
                    "maxItems": 10,
                    "description": "Usernames to assign to this issue"
                },
                "labels": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[^,]+$"},
                    "description": "Labels to apply to this issue"
                },
                "milestone": {"type": "integer", "exclusiveMinimum": 0},
                "type": {"type": "string", "enum": ["bug", "feature", "task"]},
                "project": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer", "minimum": 1},
                        "column": {"type": "string", "enum": ["todo", "in_progress", "done"], "default": "todo"}
                    },
                    "required": ["id"],
                    "additionalProperties": false
                }
            },
            "required": ["owner", "repo", "title"]
        });
        let project = ArgSpec {
            types: one(TypeName::Object),
            properties: [
                (
                    "column",
                    ArgSpec {
                        types: one(TypeName::String),
                        values: Some(vec![
                            Scalar::String("todo".to_owned()),
                            Scalar::String("in_progress".to_owned()),
                            Scalar::String("done".to_owned()),
                        ]),
                        ..ArgSpec::default()
                    },
                ),
                (
                    "id",
                    ArgSpec {
                        types: one(TypeName::Integer),
                        required: Some(true),
                        minimum: Some(Number::Integer(1)),
                        ..ArgSpec::default()
                    },
                ),
            ]
            .into_iter()
            .map(|(name, spec)| (name.to_owned(), sp(spec)))
            .collect(),
            additional_properties: Some(false),
            ..ArgSpec::default()
        };
        assert_translated(
            &ok(&schema),
            vec![
                (
                    "assignees",
                    ArgSpec {
                        types: one(TypeName::Array),
                        max_items: Some(10),
                        items: Some(Box::new(sp(string()))),
                        ..ArgSpec::default()
                    },
                ),
                ("body", string()),
                (
                    "labels",
                    ArgSpec {
                        types: one(TypeName::Array),
                        items: Some(Box::new(sp(ArgSpec {
                            types: one(TypeName::String),
                            pattern: Some(Spanned::new("^[^,]+$".to_owned(), at(), at())),
                            ..ArgSpec::default()
                        }))),
                        ..ArgSpec::default()
                    },
                ),
                (
                    "milestone",
                    ArgSpec {
                        types: one(TypeName::Integer),
                        exclusive_minimum: Some(Number::Integer(0)),
                        ..ArgSpec::default()
                    },
                ),
                ("owner", required(string())),
                ("project", project),
                ("repo", required(string())),
                (
                    "title",
                    ArgSpec {
                        types: one(TypeName::String),
                        required: Some(true),
                        min_length: Some(1),
                        max_length: Some(256),
                        ..ArgSpec::default()
                    },
                ),
                (
                    "type",
                    ArgSpec {
                        types: one(TypeName::String),
                        values: Some(vec![
                            Scalar::String("bug".to_owned()),
                            Scalar::String("feature".to_owned()),
                            Scalar::String("task".to_owned()),
                        ]),
                        ..ArgSpec::default()
                    },
                ),
            ],
            None,
        );
    }

    #[test]
    fn every_spec_is_spanned_at_the_input_schema_key() {
        let translated = ok(&json!({
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "array", "items": {"pattern": "x"}, "contains": {"const": 1}}}}
            },
            "required": ["a", "z"]
        }));
        let a = &translated.args["a"];
        let b = &a.value.properties["b"];
        let items = b.value.items.as_ref().unwrap();
        let contains = b.value.contains.as_ref().unwrap();
        let pattern = items.value.pattern.as_ref().unwrap();
        for (referenced, defined) in [
            (a.referenced, a.defined),
            (b.referenced, b.defined),
            (items.referenced, items.defined),
            (contains.referenced, contains.defined),
            (pattern.referenced, pattern.defined),
            (translated.args["z"].referenced, translated.args["z"].defined),
        ] {
            assert_eq!(referenced, at());
            assert_eq!(defined, at());
        }
    }

    #[test]
    fn type_names_and_lists() {
        for (name, parsed) in [
            ("string", TypeName::String),
            ("integer", TypeName::Integer),
            ("number", TypeName::Number),
            ("boolean", TypeName::Boolean),
            ("array", TypeName::Array),
            ("object", TypeName::Object),
            ("null", TypeName::Null),
        ] {
            assert_spec(
                &arg(json!({"type": name})),
                &ArgSpec { types: one(parsed), ..ArgSpec::default() },
            );
        }
        assert_spec(
            &arg(json!({"type": ["string", "null"]})),
            &ArgSpec {
                types: Some(Types::Many(vec![TypeName::String, TypeName::Null])),
                ..ArgSpec::default()
            },
        );
    }

    #[test]
    fn required_names_without_properties_get_a_required_only_spec() {
        let translated = ok(&json!({
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "required": ["b", "a", "b"]
        }));
        assert_translated(
            &translated,
            vec![("a", required(string())), ("b", required(ArgSpec::default()))],
            None,
        );
        // Nested objects too.
        assert_spec(
            &arg(json!({"type": "object", "required": ["x"]})),
            &ArgSpec {
                types: one(TypeName::Object),
                properties: [("x".to_owned(), sp(required(ArgSpec::default())))]
                    .into_iter()
                    .collect(),
                ..ArgSpec::default()
            },
        );
    }

    #[test]
    fn enum_and_const() {
        assert_spec(
            &arg(json!({"enum": ["r", 2, true, -7]})),
            &ArgSpec {
                values: Some(vec![
                    Scalar::String("r".to_owned()),
                    Scalar::Integer(2),
                    Scalar::Bool(true),
                    Scalar::Integer(-7),
                ]),
                ..ArgSpec::default()
            },
        );
        assert_spec(
            &arg(json!({"const": "only"})),
            &ArgSpec {
                values: Some(vec![Scalar::String("only".to_owned())]),
                ..ArgSpec::default()
            },
        );
        assert_spec(
            &arg(json!({"const": false})),
            &ArgSpec { values: Some(vec![Scalar::Bool(false)]), ..ArgSpec::default() },
        );
        // Both: the values both allow.
        assert_spec(
            &arg(json!({"enum": [1, 2, 3], "const": 2})),
            &ArgSpec { values: Some(vec![Scalar::Integer(2)]), ..ArgSpec::default() },
        );
        let errors = arg_errors(json!({"enum": [1, 2], "const": 3}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/properties/a/const");
    }

    #[test]
    fn enum_values_mcppol_cannot_compare_are_errors() {
        for (value, pointer) in [
            (json!({"enum": ["a", null]}), "/properties/a/enum/1"),
            (json!({"enum": [1.5]}), "/properties/a/enum/0"),
            (json!({"enum": [1, [1]]}), "/properties/a/enum/1"),
            (json!({"enum": [{"a": 1}]}), "/properties/a/enum/0"),
            (json!({"enum": [18_446_744_073_709_551_615_u64]}), "/properties/a/enum/0"),
            (json!({"const": null}), "/properties/a/const"),
            (json!({"const": 0.5}), "/properties/a/const"),
            (json!({"enum": []}), "/properties/a/enum"),
            (json!({"enum": "a"}), "/properties/a/enum"),
        ] {
            let errors = arg_errors(value.clone());
            assert_eq!(errors.len(), 1, "{value}: {errors:#?}");
            assert_eq!(errors[0].pointer, pointer, "{value}");
        }
    }

    #[test]
    fn lengths_and_item_counts() {
        assert_spec(
            &arg(json!({"type": "string", "minLength": 0, "maxLength": 4_294_967_295_u64})),
            &ArgSpec {
                types: one(TypeName::String),
                min_length: Some(0),
                max_length: Some(u32::MAX),
                ..ArgSpec::default()
            },
        );
        assert_spec(
            &arg(json!({"type": "array", "minItems": 1, "maxItems": 3})),
            &ArgSpec {
                types: one(TypeName::Array),
                min_items: Some(1),
                max_items: Some(3),
                ..ArgSpec::default()
            },
        );
    }

    #[test]
    fn numeric_bounds_integers_and_decimals() {
        assert_spec(
            &arg(json!({
                "type": "number",
                "minimum": -5,
                "maximum": 9_007_199_254_740_991_i64,
                "exclusiveMinimum": 0.25,
                "exclusiveMaximum": 1e3
            })),
            &ArgSpec {
                types: one(TypeName::Number),
                minimum: Some(Number::Integer(-5)),
                maximum: Some(Number::Integer(9_007_199_254_740_991)),
                exclusive_minimum: Some(Number::Decimal(0.25)),
                exclusive_maximum: Some(Number::Decimal(1000.0)),
                ..ArgSpec::default()
            },
        );
        // Written as a decimal, kept as one (compared exactly either way).
        assert_spec(
            &arg(json!({"minimum": 2.0})),
            &ArgSpec { minimum: Some(Number::Decimal(2.0)), ..ArgSpec::default() },
        );
    }

    #[test]
    fn pattern_items_and_contains() {
        assert_spec(
            &arg(json!({"type": "string", "pattern": "^[a-z]+$"})),
            &ArgSpec {
                types: one(TypeName::String),
                pattern: Some(Spanned::new("^[a-z]+$".to_owned(), at(), at())),
                ..ArgSpec::default()
            },
        );
        assert_spec(
            &arg(
                json!({"type": "array", "items": {"enum": ["a", "b"]}, "contains": {"const": "a"}}),
            ),
            &ArgSpec {
                types: one(TypeName::Array),
                items: Some(Box::new(sp(ArgSpec {
                    values: Some(vec![
                        Scalar::String("a".to_owned()),
                        Scalar::String("b".to_owned()),
                    ]),
                    ..ArgSpec::default()
                }))),
                contains: Some(Box::new(sp(ArgSpec {
                    values: Some(vec![Scalar::String("a".to_owned())]),
                    ..ArgSpec::default()
                }))),
                ..ArgSpec::default()
            },
        );
        // The schemas `true` and `{}` accept anything.
        assert_spec(
            &arg(json!({"type": "array", "items": true})),
            &ArgSpec {
                types: one(TypeName::Array),
                items: Some(Box::new(sp(ArgSpec::default()))),
                ..ArgSpec::default()
            },
        );
        assert_spec(&arg(json!(true)), &ArgSpec::default());
        assert_spec(&arg(json!({})), &ArgSpec::default());
    }

    #[test]
    fn additional_properties_at_the_root_and_nested() {
        let root = |value: Value| {
            ok(&json!({"type": "object", "properties": {}, "additionalProperties": value}))
                .unknown_args
        };
        assert_eq!(root(json!(false)), Some(UnknownArgs::Deny));
        assert_eq!(root(json!(true)), Some(UnknownArgs::Allow));
        assert_eq!(ok(&json!({"type": "object"})).unknown_args, None);

        let nested = arg(json!({
            "type": "object",
            "properties": {"x": {"type": "string"}},
            "additionalProperties": false
        }));
        assert_eq!(nested.additional_properties, Some(false));
        assert_eq!(nested.properties.keys().collect::<Vec<_>>(), ["x"]);
        assert_eq!(arg(json!({"additionalProperties": true})).additional_properties, Some(true));
        assert_eq!(arg(json!({"type": "object"})).additional_properties, None);

        // A schema as `additionalProperties` is refused, at the root and below.
        let errors =
            errors_of(&json!({"type": "object", "additionalProperties": {"type": "string"}}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/additionalProperties");
        assert_eq!(
            pointers(&json!({"properties": {"a": {"additionalProperties": {}}}})),
            ["/properties/a/additionalProperties"]
        );
    }

    #[test]
    fn required_but_undeclared_with_no_additional_properties_is_unsatisfiable() {
        assert_eq!(
            pointers(&json!({
                "type": "object",
                "properties": {"a": {}},
                "required": ["a", "b"],
                "additionalProperties": false
            })),
            ["/required/1"]
        );
        assert_eq!(
            pointers(
                &json!({"properties": {"o": {"required": ["q"], "additionalProperties": false}}})
            ),
            ["/properties/o/required/0"]
        );
    }

    #[test]
    fn annotations_are_ignored_everywhere() {
        let annotated = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:tool:read",
            "$comment": "root",
            "title": "Read",
            "description": "Reads a file",
            "default": {},
            "examples": [{"path": "/a"}],
            "deprecated": false,
            "readOnly": false,
            "writeOnly": false,
            "x-vendor": {"anything": ["at", "all"]},
            "type": "object",
            "properties": {
                "path": {
                    "type": "string",
                    "title": "Path",
                    "description": "File path",
                    "default": "/tmp",
                    "examples": ["/a", "/b"],
                    "$comment": "nested",
                    "$id": "#path",
                    "deprecated": true,
                    "readOnly": true,
                    "writeOnly": true,
                    "format": "uri-reference",
                    "x-mcp-header": "Path",
                    "$schema": "ignored here too"
                }
            }
        });
        assert_translated(&ok(&annotated), vec![("path", string())], None);
    }

    #[test]
    fn unsupported_keywords_are_errors_at_their_pointer() {
        let keywords = [
            ("$ref", json!("#/$defs/x")),
            ("$defs", json!({"x": {}})),
            ("definitions", json!({"x": {}})),
            ("$anchor", json!("x")),
            ("oneOf", json!([{}, {}])),
            ("anyOf", json!([{}, {}])),
            ("allOf", json!([{}])),
            ("not", json!({})),
            ("if", json!({})),
            ("then", json!({})),
            ("else", json!({})),
            ("patternProperties", json!({"^x": {}})),
            ("propertyNames", json!({"pattern": "^x"})),
            ("dependentRequired", json!({"a": ["b"]})),
            ("dependentSchemas", json!({"a": {}})),
            ("dependencies", json!({"a": ["b"]})),
            ("minProperties", json!(1)),
            ("maxProperties", json!(1)),
            ("uniqueItems", json!(true)),
            ("multipleOf", json!(2)),
            ("prefixItems", json!([{}])),
            ("minContains", json!(1)),
            ("maxContains", json!(1)),
            ("unevaluatedProperties", json!(false)),
            ("unevaluatedItems", json!(false)),
            ("nullable", json!(true)),
            ("contentMediaType", json!("text/plain")),
            ("additionalItems", json!(false)),
            ("typo", json!(1)),
        ];
        for (keyword, value) in keywords {
            // Nested in a property, and at the root.
            let mut nested = Map::new();
            nested.insert(keyword.to_owned(), value.clone());
            let errors = arg_errors(Value::Object(nested));
            assert_eq!(errors.len(), 1, "{keyword}: {errors:#?}");
            assert_eq!(errors[0].pointer, format!("/properties/a/{keyword}"));
            assert!(errors[0].message.contains(&format!("`{keyword}`")), "{keyword}");
            assert_eq!(errors[0].help.as_deref(), Some(UNSUPPORTED_HELP), "{keyword}");

            let mut root = Map::new();
            root.insert("type".to_owned(), json!("object"));
            root.insert(keyword.to_owned(), value);
            let errors = errors_of(&Value::Object(root));
            assert_eq!(errors.len(), 1, "{keyword}: {errors:#?}");
            assert_eq!(errors[0].pointer, format!("/{keyword}"));
            assert_eq!(errors[0].help.as_deref(), Some(UNSUPPORTED_HELP), "{keyword}");
        }
    }

    #[test]
    fn unsupported_forms_of_supported_keywords() {
        let errors = arg_errors(json!({"type": "array", "items": [{"type": "string"}]}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/properties/a/items");
        assert_eq!(errors[0].help.as_deref(), Some(UNSUPPORTED_HELP));
        assert_eq!(pointers(&json!({"properties": {"a": false}})), ["/properties/a"]);
        // Deep inside items and contains.
        assert_eq!(
            pointers(
                &json!({"properties": {"a": {"items": {"oneOf": []}, "contains": {"not": {}}}}})
            ),
            ["/properties/a/contains/not", "/properties/a/items/oneOf"]
        );
    }

    #[test]
    fn value_keywords_cannot_apply_to_the_root() {
        for keyword in ["enum", "const", "minLength", "pattern", "minimum", "items", "maxItems"] {
            let mut root = Map::new();
            root.insert("type".to_owned(), json!("object"));
            root.insert(keyword.to_owned(), json!(1));
            let errors = errors_of(&Value::Object(root));
            assert_eq!(errors.len(), 1, "{keyword}");
            assert_eq!(errors[0].pointer, format!("/{keyword}"));
            assert!(errors[0].message.contains("arguments object"), "{keyword}");
        }
    }

    #[test]
    fn the_root_must_be_an_object_schema() {
        assert_translated(&ok(&json!({"type": "object"})), vec![], None);
        assert_translated(&ok(&json!({"type": ["object"]})), vec![], None);
        assert_translated(
            &ok(&json!({"properties": {"a": {"type": "string"}}})),
            vec![("a", string())],
            None,
        );
        for (schema, pointer) in [
            (json!({}), ""),
            (json!({"required": ["a"]}), ""),
            (json!({"type": "string"}), "/type"),
            (json!({"type": ["object", "null"]}), "/type"),
            (json!({"type": [], "properties": {}}), "/type"),
            (json!([]), ""),
            (json!("object"), ""),
            (json!(true), ""),
            (json!(null), ""),
        ] {
            let errors = errors_of(&schema);
            assert_eq!(errors.len(), 1, "{schema}: {errors:#?}");
            assert_eq!(errors[0].pointer, pointer, "{schema}");
        }
    }

    #[test]
    fn keyword_values_of_the_wrong_type_are_errors() {
        for (schema, pointer) in [
            (json!({"minLength": "3"}), "/properties/a/minLength"),
            (json!({"maxLength": -1}), "/properties/a/maxLength"),
            (json!({"maxLength": 1.5}), "/properties/a/maxLength"),
            (json!({"maxLength": 4_294_967_296_u64}), "/properties/a/maxLength"),
            (json!({"minItems": null}), "/properties/a/minItems"),
            (json!({"maxItems": true}), "/properties/a/maxItems"),
            (json!({"minimum": "0"}), "/properties/a/minimum"),
            (json!({"maximum": [1]}), "/properties/a/maximum"),
            (json!({"exclusiveMinimum": true}), "/properties/a/exclusiveMinimum"),
            (json!({"exclusiveMaximum": false}), "/properties/a/exclusiveMaximum"),
            (json!({"minimum": 18_446_744_073_709_551_615_u64}), "/properties/a/minimum"),
            (json!({"pattern": 5}), "/properties/a/pattern"),
            (json!({"type": 5}), "/properties/a/type"),
            (json!({"type": "str"}), "/properties/a/type"),
            (json!({"type": ["string", 1]}), "/properties/a/type/1"),
            (json!({"type": ["string", "text"]}), "/properties/a/type/1"),
            (json!({"type": []}), "/properties/a/type"),
            (json!({"required": "path"}), "/properties/a/required"),
            (json!({"required": true}), "/properties/a/required"),
            (json!({"required": ["x", 1]}), "/properties/a/required/1"),
            (json!({"properties": ["x"]}), "/properties/a/properties"),
            (json!({"properties": {"x": 1}}), "/properties/a/properties/x"),
            (json!({"additionalProperties": "no"}), "/properties/a/additionalProperties"),
            (json!({"items": 1}), "/properties/a/items"),
            (json!({"contains": "x"}), "/properties/a/contains"),
            (json!(3), "/properties/a"),
        ] {
            let errors = arg_errors(schema.clone());
            assert_eq!(errors.len(), 1, "{schema}: {errors:#?}");
            assert_eq!(errors[0].pointer, pointer, "{schema}");
        }
        // The same at the root.
        assert_eq!(pointers(&json!({"type": "object", "required": "path"})), ["/required"]);
        assert_eq!(pointers(&json!({"type": "object", "properties": 1})), ["/properties"]);
    }

    #[test]
    fn draft_versions_forms_get_specific_help() {
        let errors = arg_errors(json!({"exclusiveMinimum": true, "minimum": 0}));
        assert!(errors[0].help.as_deref().unwrap().contains("draft 4"));
        let errors = arg_errors(json!({"type": "object", "properties": {"x": {"required": true}}}));
        assert_eq!(errors[0].pointer, "/properties/a/properties/x/required");
        assert!(errors[0].help.as_deref().unwrap().contains("draft 3"));
    }

    #[test]
    fn keywords_for_types_the_schema_excludes_are_errors() {
        for (schema, pointer) in [
            (json!({"type": "integer", "maxLength": 5}), "/properties/a/maxLength"),
            (json!({"type": "array", "minLength": 1}), "/properties/a/minLength"),
            (json!({"type": "number", "pattern": "x"}), "/properties/a/pattern"),
            (json!({"type": "string", "minimum": 0}), "/properties/a/minimum"),
            (
                json!({"type": ["string", "null"], "exclusiveMaximum": 0}),
                "/properties/a/exclusiveMaximum",
            ),
            (json!({"type": "string", "items": {}}), "/properties/a/items"),
            (json!({"type": "object", "minItems": 1}), "/properties/a/minItems"),
            (json!({"type": "boolean", "contains": {}}), "/properties/a/contains"),
            (json!({"type": "string", "properties": {}}), "/properties/a/properties"),
            (json!({"type": "array", "required": []}), "/properties/a/required"),
            (
                json!({"type": "null", "additionalProperties": false}),
                "/properties/a/additionalProperties",
            ),
        ] {
            let errors = arg_errors(schema.clone());
            assert_eq!(errors.len(), 1, "{schema}: {errors:#?}");
            assert_eq!(errors[0].pointer, pointer, "{schema}");
        }
        // Any declared type the keyword applies to is enough; no `type` at all is accepted.
        arg(json!({"type": ["string", "null"], "maxLength": 5}));
        arg(json!({"type": "integer", "minimum": 0}));
        arg(json!({"maxLength": 5, "minimum": 0, "items": {}, "required": []}));
    }

    #[test]
    fn depth_limit_matches_argument_paths() {
        assert_eq!(DEPTH_MAX, crate::resolve::ARG_DEPTH_MAX);
    }

    #[test]
    fn depth_limit() {
        /// A property `n` nested `levels` objects below argument `n`.
        fn nest(levels: usize) -> Value {
            let mut schema = json!({"type": "string"});
            for _ in 0..levels {
                schema = json!({"type": "object", "properties": {"n": schema}});
            }
            json!({"type": "object", "properties": {"n": schema}})
        }
        // Argument `n` is at depth 1; the innermost schema at depth `levels + 1`.
        let translated = ok(&nest(DEPTH_MAX - 1));
        let mut spec = &translated.args["n"];
        for _ in 0..DEPTH_MAX - 1 {
            spec = &spec.value.properties["n"];
        }
        assert_spec(&spec.value, &string());

        let errors = errors_of(&nest(DEPTH_MAX));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].pointer, "/properties/n".repeat(DEPTH_MAX + 1));

        // `items` and `contains` count too, so a self-nesting chain is bounded.
        let mut chain = json!({"type": "string"});
        for _ in 0..1000 {
            chain = json!({"type": "array", "items": chain});
        }
        let errors = errors_of(&json!({"type": "object", "properties": {"n": chain}}));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].pointer, format!("/properties/n{}", "/items".repeat(DEPTH_MAX)));
        let errors = arg_errors(json!({"contains": {"contains": {"contains": {"contains": {
            "contains": {"contains": {"contains": {"contains": {}}}}}}}}}));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].pointer, format!("/properties/a{}", "/contains".repeat(DEPTH_MAX)));
    }

    #[test]
    fn all_errors_are_collected_in_key_order() {
        let errors = errors_of(&json!({
            "type": "object",
            "$ref": "#/x",
            "properties": {
                "a": {"type": "string", "format": "uri", "minLength": "1", "oneOf": []},
                "b": {"enum": [null], "patternProperties": {}},
            },
            "required": "a",
            "allOf": []
        }));
        let pointers: Vec<&str> = errors.iter().map(|error| error.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/$ref",
                "/allOf",
                "/properties/a/minLength",
                "/properties/a/oneOf",
                "/properties/b/enum/0",
                "/properties/b/patternProperties",
                "/required",
            ]
        );
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        assert_eq!(
            pointers(&json!({"properties": {"a/b~c": {"not": {}}}})),
            ["/properties/a~1b~0c/not"]
        );
        assert_eq!(child("/x", "~/"), "/x/~0~1");
    }

    #[test]
    fn translation_is_deterministic() {
        let schema = json!({
            "properties": {
                "z": {"type": "string"}, "a": {"type": "integer"}, "m": {"enum": [3, 1, 2]},
                "bad": {"anyOf": [], "$ref": "#"}
            },
            "required": ["z", "q"]
        });
        let first = format!("{:?}", translate(&schema, at()));
        for _ in 0..5 {
            assert_eq!(format!("{:?}", translate(&schema, at())), first);
        }
    }

    #[test]
    fn schemas_pasted_into_policy_yaml() {
        // JSON pasted as a YAML flow mapping, and the same schema written as block YAML.
        let flow = r#"version: 1
name: pasted
tools:
  fs.read:
    input_schema: {"type": "object", "properties": {"path": {"type": "string", "maxLength": 4096}, "lines": {"type": ["integer", "null"], "minimum": 0.5, "maximum": 10}}, "required": ["path"], "additionalProperties": false}
"#;
        let block = r#"version: 1
name: pasted
tools:
  fs.read:
    input_schema:
      type: object
      properties:
        path: { type: string, maxLength: 4096 }
        lines:
          type: [integer, "null"]
          minimum: 0.5
          maximum: 10
      required: [path]
      additionalProperties: false
"#;
        for source in [flow, block] {
            let file = crate::parse(source, "pasted.yaml").unwrap();
            let schema = file.tools["fs.read"].value.input_schema.as_ref().unwrap();
            let translated = translate(&schema.value, schema.referenced).unwrap();
            assert_eq!(translated.unknown_args, Some(UnknownArgs::Deny));
            let expected = format!(
                "{:#?}",
                Translated {
                    args: [
                        (
                            "lines".to_owned(),
                            Spanned::new(
                                ArgSpec {
                                    types: Some(Types::Many(vec![
                                        TypeName::Integer,
                                        TypeName::Null
                                    ])),
                                    minimum: Some(Number::Decimal(0.5)),
                                    maximum: Some(Number::Integer(10)),
                                    ..ArgSpec::default()
                                },
                                schema.referenced,
                                schema.referenced,
                            ),
                        ),
                        (
                            "path".to_owned(),
                            Spanned::new(
                                ArgSpec {
                                    types: one(TypeName::String),
                                    required: Some(true),
                                    max_length: Some(4096),
                                    ..ArgSpec::default()
                                },
                                schema.referenced,
                                schema.referenced,
                            ),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                    unknown_args: Some(UnknownArgs::Deny),
                }
            );
            assert_eq!(format!("{translated:#?}"), expected);
        }
    }
}
