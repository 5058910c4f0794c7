//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): one byte string per JSON
//! value, so the digest of the same call's arguments is the same in every gateway, language and
//! database. `docs/audit.md` specifies it; the test vectors below are the RFC's own.
//!
//! Rules: object members sorted by the UTF-16 code units of their names; no whitespace;
//! strings escaped minimally (`\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, other C0 controls as
//! `\u00xx`, everything else as literal UTF-8); numbers as IEEE 754 doubles printed the way
//! ECMAScript's `Number.prototype.toString` prints them (shortest round-trip digits, `-0` is
//! `0`, exponent form outside 1e-6 ≤ |x| < 1e21).
//!
//! Input text is parsed strictly first: a duplicate object member, invalid UTF-8 or a lone
//! surrogate escape is an error, never silently resolved (a gateway's JSON scanner denies the
//! same inputs, and "last member wins" would make two different calls share a digest).

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};
use std::fmt::{self, Write as _};

/// Why a JSON text has no canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalError(pub String);

impl fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanonicalError {}

/// Parses JSON text strictly: duplicate object members are an error.
///
/// # Errors
/// Malformed JSON, invalid UTF-8, lone surrogates, or a duplicate member name.
pub fn parse_strict(text: &[u8]) -> Result<Value, CanonicalError> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = StrictValue
        .deserialize(&mut deserializer)
        .map_err(|error| CanonicalError(error.to_string()))?;
    deserializer.end().map_err(|error| CanonicalError(error.to_string()))?;
    Ok(value)
}

/// The canonical text of JSON input bytes.
///
/// # Errors
/// As [`parse_strict`].
pub fn canonicalize(text: &[u8]) -> Result<String, CanonicalError> {
    parse_strict(text).map(|value| to_canonical(&value))
}

/// The canonical text of a parsed value.
pub fn to_canonical(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// `sha256:` and the lowercase hex SHA-256 of the value's canonical text.
pub fn digest(value: &Value) -> String {
    let hash = Sha256::digest(to_canonical(value).as_bytes());
    format!("sha256:{}", hex(&hash))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            // RFC 8785 §3.2.3: compare names as arrays of UTF-16 code units.
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (index, (name, item)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            control if u32::from(control) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, number: &Number) {
    // RFC 8785 §3.2.2.3: every number is an IEEE 754 double. Integers beyond 2^53 therefore
    // round, exactly as they would in a JavaScript or Go implementation of the RFC.
    #[expect(clippy::cast_precision_loss, reason = "RFC 8785 numbers are doubles by definition")]
    let value = match (number.as_u64(), number.as_i64()) {
        (Some(unsigned), _) => unsigned as f64,
        (None, Some(signed)) => signed as f64,
        (None, None) => number.as_f64().unwrap_or(0.0),
    };
    write_double(out, value);
}

/// ECMAScript `Number::toString(x)` for a finite double (ECMA-262 §6.1.6.1.20).
pub(crate) fn write_double(out: &mut String, value: f64) {
    if value == 0.0 || !value.is_finite() {
        // `-0` prints as `0`; JSON has no NaN or infinity, so they cannot reach here.
        out.push('0');
        return;
    }
    let magnitude = if value < 0.0 {
        out.push('-');
        -value
    } else {
        value
    };
    // Rust's `{:e}` prints the shortest digit string that reads back as the same double,
    // which is the `s` of the ECMAScript algorithm; only the layout differs.
    let shortest = format!("{magnitude:e}");
    let length = shortest
        .split_once('e')
        .map_or(1, |(mantissa, _)| mantissa.bytes().filter(u8::is_ascii_digit).count());
    // Among digit strings of that length, ECMAScript wants the one closest to the exact value
    // (ties to even, as V8 prints); `{:e}` may pick another that also reads back. Exact-precision
    // formatting rounds the exact value half to even, which is that one.
    let scientific = format!("{magnitude:.*e}", length.saturating_sub(1));
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let n = exponent + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', usize::try_from(n - k).unwrap_or(0)));
    } else if 0 < n && n <= 21 {
        let (whole, fraction) = digits.split_at(usize::try_from(n).unwrap_or(0));
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', usize::try_from(-n).unwrap_or(0)));
        out.push_str(&digits);
    } else {
        let mut characters = digits.chars();
        if let Some(first) = characters.next() {
            out.push(first);
        }
        let rest: String = characters.collect();
        if !rest.is_empty() {
            out.push('.');
            out.push_str(&rest);
        }
        let _ = write!(out, "e{}{}", if n - 1 < 0 { '-' } else { '+' }, (n - 1).abs());
    }
}

/// The member name serde_json uses to pass a number through `visit_map` when its
/// `arbitrary_precision` feature is on (`serde_json::number::TOKEN`, not public).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Builds a [`Value`] like serde_json does, but refuses duplicate member names.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value).map(Value::Number).ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.is_empty() && name == NUMBER_TOKEN {
                // serde_json's `arbitrary_precision` feature (which another crate in the same
                // build may switch on) hands every number over as this one-member map.
                let text: String = map.next_value()?;
                let number: Number = text.parse().map_err(de::Error::custom)?;
                // Without the feature, serde_json refuses numbers beyond the double range;
                // refuse them here too, so the digest does not depend on the build.
                if !number.as_f64().is_some_and(f64::is_finite) {
                    return Err(de::Error::custom("number out of range"));
                }
                return Ok(Value::Number(number));
            }
            let item = map.next_value_seed(StrictValue)?;
            if members.contains_key(&name) {
                return Err(de::Error::custom(format_args!("duplicate member `{name}`")));
            }
            members.insert(name, item);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        canonicalize(text.as_bytes()).unwrap()
    }

    fn double(value: f64) -> String {
        let mut out = String::new();
        write_double(&mut out, value);
        out
    }

    #[test]
    fn rfc8785_number_vectors() {
        // RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
        let vectors: &[(u64, &str)] = &[
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
            (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
            (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
            (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
            (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"),
            (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"),
            (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"),
            (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ];
        for &(bits, expected) in vectors {
            assert_eq!(double(f64::from_bits(bits)), expected, "bits {bits:#018x}");
        }
    }

    #[test]
    fn rfc8785_structure_vectors() {
        // RFC 8785 §3.2.2 example.
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        // RFC 8785 §3.2.3 sorting example: UTF-16 code unit order, not UTF-8 byte order.
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn whitespace_order_and_spelling_do_not_change_the_digest() {
        let a = parse_strict(br#"{"b": [1, 2.0, 3e0], "a": {"y": "\u0041", "x": null}}"#).unwrap();
        let b = parse_strict(br#"{"a":{"x":null,"y":"A"},"b":[1,2,3]}"#).unwrap();
        assert_eq!(to_canonical(&a), r#"{"a":{"x":null,"y":"A"},"b":[1,2,3]}"#);
        assert_eq!(digest(&a), digest(&b));
        assert_eq!(
            digest(&b),
            format!("sha256:{}", hex(&Sha256::digest(br#"{"a":{"x":null,"y":"A"},"b":[1,2,3]}"#)))
        );
    }

    #[test]
    fn strict_parsing_refuses_what_has_no_single_meaning() {
        for bad in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"x":{"a":1,"a":1}}"#,
            br#""\ud800""#,
            b"\"\xff\"",
            b"{} {}",
            b"",
            b"[1,]",
            b"1e400",
            b"[-1e400]",
        ] {
            assert!(parse_strict(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn controls_escape_and_everything_else_is_literal() {
        assert_eq!(canon("\"\\u0000\\u001f\\u007f\\u2028/\""), "\"\\u0000\\u001f\u{7f}\u{2028}/\"");
        assert_eq!(canon("-0"), "0");
        assert_eq!(
            canon("[1e21, 1e-7, 123456789012345678901234]"),
            "[1e+21,1e-7,1.2345678901234569e+23]"
        );
    }
}
