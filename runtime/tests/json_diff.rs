//! Differential tests of the JSON scanner against serde_json.
//!
//! serde_json is the reference for what is JSON and what it means; the scanner may reject more
//! (duplicate keys, limits, a root that is not an object) but must never accept what serde_json
//! rejects, nor read an accepted document differently. The one documented exception is a number
//! beyond the range of `f64`, which serde_json rejects and the scanner keeps as exact text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

use core::cmp::Ordering;

use mcppol_runtime::json::{
    Entry, JSON_DEPTH_MAX, JSON_VALUES_MAX, Kind, OBJECT_KEYS_MAX, Value, parse,
};
use proptest::prelude::*;
use serde_json::{Map, Number, Value as SValue};

// ---------------------------------------------------------------------------------------------
// Generators

/// Characters that exercise escaping: quotes, backslashes, controls, slashes, non-ASCII of every
/// UTF-8 length, and the code points around the surrogate range.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'e'),
        2 => prop::sample::select(vec![
            '"', '\\', '/', '\u{0}', '\u{8}', '\u{c}', '\n', '\r', '\t', '\u{1f}', '\u{7f}', ' ',
            'é', '\u{7ff}', '\u{800}', '€', '\u{d7ff}', '\u{e000}', '\u{fffd}', '\u{ffff}',
            '\u{10000}', '😀', '\u{10ffff}',
        ]),
        1 => any::<char>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..10).prop_map(|cs| cs.into_iter().collect())
}

fn key() -> impl Strategy<Value = String> {
    // Short keys from a small alphabet collide often, so maps dedupe them and lookups of
    // near-miss keys are exercised.
    prop_oneof![
        3 => proptest::string::string_regex("[a-c]{0,3}").unwrap(),
        1 => text(),
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        (-1000i64..1000).prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        (-1.0e6f64..1.0e6).prop_filter_map("finite", |f| Number::from_f64((f * 4.0).round() / 4.0)),
    ]
}

fn leaf() -> impl Strategy<Value = SValue> {
    prop_oneof![
        Just(SValue::Null),
        any::<bool>().prop_map(SValue::Bool),
        number().prop_map(SValue::Number),
        text().prop_map(SValue::String),
    ]
}

fn object_of(inner: impl Strategy<Value = SValue>, max: usize) -> impl Strategy<Value = SValue> {
    // `Map` keeps one value per key: the generated documents have no duplicates.
    prop::collection::vec((key(), inner), 0..max)
        .prop_map(|members| SValue::Object(members.into_iter().collect::<Map<_, _>>()))
}

fn document() -> impl Strategy<Value = SValue> {
    let value = leaf().prop_recursive(6, 80, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(SValue::Array),
            object_of(inner, 8),
        ]
    });
    object_of(value, 10)
}

// ---------------------------------------------------------------------------------------------
// A serialiser with freedom serde_json does not use: any character may be written as `\uXXXX`
// (astral ones as surrogate pairs), `/` as `\/`, and whitespace may appear between tokens.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

fn write_ws(out: &mut String, rng: &mut Rng) {
    while rng.one_in(4) {
        out.push([' ', '\t', '\n', '\r'][(rng.next() % 4) as usize]);
    }
}

fn write_str(out: &mut String, s: &str, rng: &mut Rng) {
    out.push('"');
    for c in s.chars() {
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '/' if rng.one_in(2) => Some("\\/"),
            _ => None,
        };
        let must_escape = (c as u32) < 0x20 || c == '"' || c == '\\';
        if let (Some(esc), true) = (short, must_escape || rng.one_in(2)) {
            out.push_str(esc);
        } else if must_escape || rng.one_in(3) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                if rng.one_in(2) {
                    out.push_str(&format!("\\u{u:04x}"));
                } else {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

fn write_value(out: &mut String, v: &SValue, rng: &mut Rng) {
    write_ws(out, rng);
    match v {
        SValue::String(s) => write_str(out, s, rng),
        SValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, rng);
            }
            write_ws(out, rng);
            out.push(']');
        }
        SValue::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_ws(out, rng);
                write_str(out, k, rng);
                write_ws(out, rng);
                out.push(':');
                write_value(out, item, rng);
            }
            write_ws(out, rng);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
    write_ws(out, rng);
}

// ---------------------------------------------------------------------------------------------
// Agreement

fn unescaped(v: Value<'_>) -> Vec<u8> {
    let s = v.string().unwrap();
    s.bytes().collect()
}

/// `ours` means exactly what `theirs` means. `exact_floats` says the document's float text
/// round-trips to `theirs` exactly (true for serde_json's own output).
fn agree(ours: Value<'_>, theirs: &SValue, exact_floats: bool) {
    match theirs {
        SValue::Null => assert_eq!(ours.kind(), Kind::Null),
        SValue::Bool(b) => {
            assert_eq!(ours.kind(), Kind::Bool);
            assert_eq!(ours.as_bool(), Some(*b));
        }
        SValue::Number(n) => {
            assert_eq!(ours.kind(), Kind::Number);
            agree_number(ours, n, exact_floats);
        }
        SValue::String(s) => {
            assert_eq!(ours.kind(), Kind::String);
            let js = ours.string().unwrap();
            assert_eq!(unescaped(ours), s.as_bytes());
            assert!(js.eq_bytes(s.as_bytes()));
            assert_eq!(js.unescaped_len(), s.len());
            assert_eq!(js.char_count(), s.chars().count());
            let mut buf = vec![0u8; s.len()];
            assert_eq!(js.unescape_into(&mut buf), Some(s.as_bytes()));
            if !s.is_empty() {
                assert_eq!(js.unescape_into(&mut buf[..s.len() - 1]), None);
                let mut longer = s.as_bytes().to_vec();
                longer.push(b'x');
                assert!(!js.eq_bytes(&longer));
                assert!(!js.eq_bytes(&s.as_bytes()[..s.len() - 1]));
            }
        }
        SValue::Array(items) => {
            assert_eq!(ours.kind(), Kind::Array);
            assert_eq!(ours.len(), items.len());
            assert_eq!(ours.elements().count(), items.len());
            assert_eq!(ours.members().count(), 0);
            for (o, t) in ours.elements().zip(items) {
                agree(o, t, exact_floats);
            }
        }
        SValue::Object(map) => {
            assert_eq!(ours.kind(), Kind::Object);
            assert_eq!(ours.len(), map.len());
            assert_eq!(ours.elements().count(), 0);
            let mut seen = 0;
            for (k, o) in ours.members() {
                let k: Vec<u8> = k.bytes().collect();
                let k = String::from_utf8(k).expect("keys unescape to UTF-8");
                agree(o, &map[&k], exact_floats);
                seen += 1;
            }
            assert_eq!(seen, map.len());
            for (k, t) in map {
                let o = ours.get(k.as_bytes()).unwrap_or_else(|| panic!("no key {k:?}"));
                agree(o, t, exact_floats);
                let mut near = k.clone().into_bytes();
                near.push(b'!');
                if !map.contains_key(std::str::from_utf8(&near).unwrap()) {
                    assert!(ours.get(&near).is_none());
                }
            }
        }
    }
}

fn agree_number(ours: Value<'_>, n: &Number, exact_floats: bool) {
    let num = ours.number().unwrap();
    if let Some(i) = n.as_i64() {
        assert_eq!(num.as_i64(), Some(i), "{}", String::from_utf8_lossy(num.raw()));
        assert!(num.is_integer());
        assert_eq!(num.cmp_i64(i), Ordering::Equal);
        if let Some(j) = i.checked_add(1) {
            assert_eq!(num.cmp_i64(j), Ordering::Less);
        }
        if let Some(j) = i.checked_sub(1) {
            assert_eq!(num.cmp_i64(j), Ordering::Greater);
        }
    } else if n.as_u64().is_some() {
        // Above `i64::MAX`.
        assert_eq!(num.as_i64(), None);
        assert!(num.is_integer());
        assert_eq!(num.cmp_i64(i64::MAX), Ordering::Greater);
    } else {
        // Beyond f64 (`1e400`): only possible when serde_json's `arbitrary_precision` feature is
        // on (the compiler's reference evaluator enables it in workspace builds); serde_json
        // then has no float to compare with, and `numbers_are_exact` covers such values.
        let Some(f) = n.as_f64() else { return };
        let exact = 2f64.powi(53);
        if let Some(v) = num.as_i64() {
            // The text is exactly `v`, and `f` is the nearest double to the text.
            let tolerance = if exact_floats { 0.0 } else { f.abs() * 1e-15 };
            assert!((v as f64 - f).abs() <= tolerance, "{v} vs {f}");
        }
        if exact_floats && f.fract() == 0.0 && f.abs() < exact {
            assert_eq!(num.as_i64(), Some(f as i64), "{}", String::from_utf8_lossy(num.raw()));
        }
        if exact_floats && f.fract() != 0.0 {
            assert!(!num.is_integer());
        }
        for r in [0, 1, -1, f as i64, (f as i64).saturating_add(1), (f as i64).saturating_sub(1)] {
            let rf = r as f64;
            if r.unsigned_abs() < (1 << 53) && (f - rf).abs() > f.abs() * 1e-14 {
                let want = f.partial_cmp(&rf).unwrap();
                assert_eq!(num.cmp_i64(r), want, "{} vs {r}", String::from_utf8_lossy(num.raw()));
            }
        }
        let limit = 2f64.powi(63);
        if (f - limit).abs() > limit * 1e-14 {
            let want = if f > limit { Ordering::Greater } else { Ordering::Less };
            assert_eq!(num.cmp_i64(i64::MAX), want);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The properties

fn tape() -> Vec<Entry> {
    vec![Entry::EMPTY; JSON_VALUES_MAX]
}

/// Parses `doc` with both parsers and checks that our verdict is allowed by serde_json's.
fn differential(doc: &[u8]) {
    let mut entries = tape();
    let ours = parse(doc, &mut entries);
    let theirs = serde_json::from_slice::<SValue>(doc);
    match (ours, theirs) {
        (Ok(tape), Ok(t)) => agree(tape.root(), &t, false),
        (Ok(_), Err(e)) => {
            // serde_json turns numbers beyond f64 into an error; the scanner keeps them exact.
            assert!(
                e.to_string().starts_with("number out of range"),
                "we accept what serde_json rejects ({e}): {}",
                String::from_utf8_lossy(doc)
            );
        }
        (Err(_), _) => {}
    }
}

/// `cases` unless `PROPTEST_CASES` says otherwise, so that a slow (debug) run can use fewer.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn serde_output_agrees(doc: &SValue) {
    let texts = [serde_json::to_string(doc).unwrap(), serde_json::to_string_pretty(doc).unwrap()];
    for text in texts {
        let mut entries = tape();
        let t = parse(text.as_bytes(), &mut entries)
            .unwrap_or_else(|e| panic!("rejected {text}: {e:?}"));
        agree(t.root(), doc, true);
    }
}

fn escaped_output_agrees(doc: &SValue, seed: u64) {
    let mut text = String::new();
    write_value(&mut text, doc, &mut Rng(seed | 1));
    let mut entries = tape();
    let t =
        parse(text.as_bytes(), &mut entries).unwrap_or_else(|e| panic!("rejected {text}: {e:?}"));
    agree(t.root(), doc, true);
    // serde_json reads it the same way (its float parsing is not always exact, hence `false`).
    let back: SValue = serde_json::from_str(&text).unwrap();
    agree(t.root(), &back, false);
}

fn wrapped_differential(doc: &[u8]) {
    differential(doc);
    for (open, close) in [(&b"{\"k\":"[..], &b"}"[..]), (b"{\"k\":\"", b"\"}"), (b"{\"k\":", b"")] {
        let mut wrapped = open.to_vec();
        wrapped.extend_from_slice(doc);
        wrapped.extend_from_slice(close);
        differential(&wrapped);
    }
}

/// Bytes from JSON's own alphabet, to reach deeper into the grammar than random bytes.
const JSONISH: &[u8] = b"{}[]\",:\\/u0123456789abcdefABCDEF-+.eEtrunls \t\n\r\
    \x00\x1f\x7f\xc3\xa9\xed\xa0\xf0\x9f\x98\x80";

/// Bytes that a one-byte mutation most often turns into something interesting.
const MUTATIONS: &[u8] = b"{}[]\",:\\/u0-+.eE9 \x00\x1f\x80\xbf\xc3\xed\xf4\xff";

const UTF8_PARTS: &[&[u8]] = &[
    b"a",
    b"\x7f",
    b"\x80",
    b"\x8f",
    b"\x90",
    b"\x9f",
    b"\xa0",
    b"\xbf",
    b"\xc0",
    b"\xc1",
    b"\xc2",
    b"\xdf",
    b"\xe0",
    b"\xe1",
    b"\xec",
    b"\xed",
    b"\xee",
    b"\xef",
    b"\xf0",
    b"\xf1",
    b"\xf3",
    b"\xf4",
    b"\xf5",
    b"\xf8",
    b"\xff",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xed\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98\x80",
    b"\xf4\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\\u00e9",
    b"\\ud800",
    b"\\udc00",
];

fn mutated_document(doc: &SValue, seed: u64, at: prop::sample::Index, byte: u8, op: u8) {
    let mut text = String::new();
    write_value(&mut text, doc, &mut Rng(seed | 1));
    let mut bytes = text.into_bytes();
    let i = at.index(bytes.len() + 1);
    match op {
        0 if i < bytes.len() => bytes[i] = byte,
        1 => bytes.insert(i, byte),
        _ if i < bytes.len() => {
            bytes.remove(i);
        }
        _ => bytes.push(byte),
    }
    differential(&bytes);
}

proptest! {
    #![proptest_config(config(1000))]

    /// serde_json's own output, compact and pretty, parses and reads the same.
    #[test]
    fn serde_output(doc in document()) {
        serde_output_agrees(&doc);
    }

    /// The same documents written with arbitrary escapes and whitespace.
    #[test]
    fn escaped_output(doc in document(), seed in any::<u64>()) {
        escaped_output_agrees(&doc, seed);
    }

    /// Arbitrary bytes never make us accept what serde_json rejects.
    #[test]
    fn arbitrary_bytes(doc in prop::collection::vec(any::<u8>(), 0..64)) {
        wrapped_differential(&doc);
    }

    #[test]
    fn jsonish_bytes(doc in prop::collection::vec(prop::sample::select(JSONISH), 0..48)) {
        wrapped_differential(&doc);
    }

    /// Strings and keys built from the edges of UTF-8: every lead byte class, continuation
    /// bytes at the ends of their ranges, overlongs, surrogates and truncations.
    #[test]
    fn utf8_edges(parts in prop::collection::vec(prop::sample::select(UTF8_PARTS), 0..8)) {
        let text = parts.concat();
        let mut value = b"{\"k\":\"".to_vec();
        value.extend_from_slice(&text);
        value.extend_from_slice(b"\"}");
        differential(&value);
        let mut key = b"{\"".to_vec();
        key.extend_from_slice(&text);
        key.extend_from_slice(b"\":0}");
        differential(&key);
    }

    /// One byte replaced, inserted or removed in a valid document.
    #[test]
    fn mutated_documents(
        doc in document(),
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
        byte in prop_oneof![any::<u8>(), prop::sample::select(MUTATIONS)],
        op in 0..3u8,
    ) {
        mutated_document(&doc, seed, at, byte, op);
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers against an exact oracle: shift the decimal point in the digit string itself.

/// The exact value as (negative, integer digits, fraction digits), without leading zeros in the
/// integer part or trailing zeros in the fraction; zero is (false, "", "").
fn canonical(neg: bool, int: &str, frac: &str, exp: i64) -> (bool, String, String) {
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + exp;
    let (i, f) = if point <= 0 {
        (String::new(), format!("{}{digits}", "0".repeat((-point) as usize)))
    } else if point as usize >= digits.len() {
        (format!("{digits}{}", "0".repeat(point as usize - digits.len())), String::new())
    } else {
        (digits[..point as usize].to_string(), digits[point as usize..].to_string())
    };
    let i = i.trim_start_matches('0').to_string();
    let f = f.trim_end_matches('0').to_string();
    let zero = i.is_empty() && f.is_empty();
    (neg && !zero, i, f)
}

fn cmp_canonical(a: &(bool, String, String), b: &(bool, String, String)) -> Ordering {
    let mag = |x: &(bool, String, String)| (x.1.len(), x.1.clone(), x.2.clone());
    match (a.0, b.0) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => mag(a).cmp(&mag(b)),
        (true, true) => mag(b).cmp(&mag(a)),
    }
}

fn number_text() -> impl Strategy<Value = NumberText> {
    let int = prop_oneof![
        Just("0".to_string()),
        proptest::string::string_regex("[1-9][0-9]{0,3}").unwrap(),
        proptest::string::string_regex("[1-9][0-9]{15,22}").unwrap(),
        proptest::string::string_regex("[1-9]0{0,25}").unwrap(),
        proptest::string::string_regex("9{17,20}").unwrap(),
        Just("9223372036854775807".to_string()),
        Just("9223372036854775808".to_string()),
    ];
    let frac = prop_oneof![
        Just(String::new()),
        proptest::string::string_regex("[0-9]{1,4}").unwrap(),
        proptest::string::string_regex("0{1,25}").unwrap(),
        proptest::string::string_regex("[0-9]{1,3}0{0,20}").unwrap(),
        proptest::string::string_regex("0{0,20}[1-9]").unwrap(),
    ];
    let exp = prop_oneof![
        Just(None),
        (prop::sample::select(vec!["e", "E", "e+", "E-", "e-"]), 0i64..45)
            .prop_map(|(m, e)| Some((m.to_string(), e))),
    ];
    (any::<bool>(), int, frac, exp)
}

type NumberText = (bool, String, String, Option<(String, i64)>);

fn number_is_exact((neg, int, frac, exp): NumberText, rhs: i64, delta: i64) {
    let mut text = String::new();
    if neg {
        text.push('-');
    }
    text.push_str(&int);
    if !frac.is_empty() {
        text.push('.');
        text.push_str(&frac);
    }
    let mut e = 0;
    if let Some((marker, value)) = &exp {
        text.push_str(marker);
        text.push_str(&value.to_string());
        e = if marker.ends_with('-') { -value } else { *value };
    }
    let doc = format!("{{\"n\":{text}}}");
    let mut entries = tape();
    let t = parse(doc.as_bytes(), &mut entries).unwrap();
    let n = t.root().get(b"n").unwrap().number().unwrap();
    let exact = canonical(neg, &int, &frac, e);
    let integer = exact.2.is_empty();
    assert_eq!(n.is_integer(), integer, "{}", text);
    let as_i128 = if integer && exact.1.len() <= 20 {
        let m: i128 = if exact.1.is_empty() { 0 } else { exact.1.parse().unwrap() };
        Some(if exact.0 { -m } else { m })
    } else {
        None
    };
    let want = as_i128.and_then(|v| i64::try_from(v).ok());
    assert_eq!(n.as_i64(), want, "{}", text);
    // Compare with values on both sides of the number and with a random one.
    let near = as_i128
        .or_else(|| exact.1.parse::<i128>().ok().map(|m| if exact.0 { -m } else { m }))
        .unwrap_or(0);
    let saturated = if exact.0 { i64::MIN } else { i64::MAX };
    let near = i64::try_from(near.saturating_add(i128::from(delta))).unwrap_or(saturated);
    for r in [rhs, near, 0, 1, -1, i64::MAX, i64::MIN] {
        let r_exact = canonical(r < 0, &r.unsigned_abs().to_string(), "", 0);
        assert_eq!(n.cmp_i64(r), cmp_canonical(&exact, &r_exact), "{} vs {}", text, r);
    }
}

proptest! {
    #![proptest_config(config(800))]

    #[test]
    fn numbers_are_exact(text in number_text(), rhs in any::<i64>(), delta in -2i64..=2) {
        number_is_exact(text, rhs, delta);
    }
}

// ---------------------------------------------------------------------------------------------
// Limits against serde_json: documents at a limit are read the same way.

#[test]
fn limits_agree_with_serde() {
    let mut doc = String::from("{\"a\":");
    doc.push_str(&"[".repeat(JSON_DEPTH_MAX - 1));
    doc.push_str(&"]".repeat(JSON_DEPTH_MAX - 1));
    doc.push('}');
    let mut entries = tape();
    let t = parse(doc.as_bytes(), &mut entries).unwrap();
    agree(t.root(), &serde_json::from_str(&doc).unwrap(), true);

    let members: Vec<String> = (0..OBJECT_KEYS_MAX).map(|i| format!("\"k{i}\":[{i}]")).collect();
    let doc = format!("{{{}}}", members.join(","));
    let mut entries = tape();
    let t = parse(doc.as_bytes(), &mut entries).unwrap();
    agree(t.root(), &serde_json::from_str(&doc).unwrap(), true);
}
