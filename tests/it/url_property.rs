//! Property: whenever the shipped default policy (`policies/default.mcpb`) allows `http.fetch`
//! for a URL, the WHATWG parser of the `url` crate, which is what real fetchers implement, reads
//! that URL as going where the policy meant: it parses, its scheme is `https`, it carries no
//! credentials, its port is 443 and its host is `api.github.com` or `docs.rs`.
//!
//! The generated URLs mix allowed hosts with look-alikes, userinfo, IP spellings of internal
//! addresses, ports, paths that smuggle `@` and `\`, case changes and trailing dots, and then
//! maybe insert one separator-like character anywhere. Each component is drawn from its good
//! values three times in four, so that a fair share of the URLs is allowed and the property is
//! tested on them, not only on denials.
//!
//! The host comparison ignores one trailing dot: `docs.rs.` is the fully-qualified spelling of
//! `docs.rs` (the same DNS name), which the policy allows on purpose and which the `url` crate
//! keeps in `host_str`.

use crate::adversarial::default_policy;
use crate::support;
use mcppol_runtime::{Effect, Request};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::Cell;

/// Generated URLs per run: about 2 s in a debug build.
const CASES: u32 = 3000;

const SCHEMES_GOOD: &[&str] = &["https", "HTTPS", "Https", "hTTps"];
const SCHEMES_BAD: &[&str] =
    &["http", "wss", "ftp", "file", "gopher", "javascript", "data", "", "https+http", "httpss"];
const SEPARATORS_GOOD: &[&str] = &["://"];
const SEPARATORS_BAD: &[&str] = &[":/", ":", ":///", ":\\\\", "//", ":\\/", ":/\\", "://\\"];
const USERINFO_GOOD: &[&str] = &[""];
const USERINFO_BAD: &[&str] = &[
    "user@",
    "api.github.com@",
    "docs.rs@",
    "evil.com@",
    "u:p@",
    ":@",
    "@",
    "api.github.com:443@",
    "evil.com\\@",
    "evil.com%40",
];
const HOSTS_GOOD: &[&str] = &[
    "api.github.com",
    "docs.rs",
    "API.GITHUB.COM",
    "Docs.Rs",
    "api.github.com.",
    "docs.rs.",
    "DOCS.RS.",
];
const HOSTS_BAD: &[&str] = &[
    "docs.rs..",
    ".docs.rs",
    "api.github.com.evil.com",
    "evil.com",
    "github.com",
    "api-github.com",
    "docs.rs.evil.com",
    "xn--docs-rs.com",
    "xn--80ak6aa92e.com",
    "127.0.0.1",
    "2130706433",
    "0x7f.1",
    "017700000001",
    "127.1",
    "0x7f.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "169.254.169.254",
    "[fe80::1]",
    "10.0.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "0",
    "localhost",
    "LOCALHOST.",
    "foo.localhost",
    "",
    "d%6fcs.rs",
    "api.github.com%2e",
    "\u{430}pi.github.com",
    "docs\u{3002}rs",
    "\u{ff41}pi.github.com",
    "docs.rs\t",
    "docs.rs\\",
    "docs.rs\u{0}",
    "api.github.com\n.evil.com",
];
const PORTS_GOOD: &[&str] = &["", ":443"];
const PORTS_BAD: &[&str] =
    &[":80", ":8443", ":0", ":65536", ":", ":0443", ":443:443", ":+443", ":443.evil.com", ":66979"];
const TAILS_GOOD: &[&str] =
    &["", "/", "/repos/o/r/issues?state=open", "/serde/latest/serde/", "?q=1", "#frag", "/a%20b"];
const TAILS_BAD: &[&str] = &[
    "#@evil.com",
    "/@evil.com",
    "?@evil.com",
    "\\@evil.com",
    "/../..",
    "/%2e%2e/",
    " /x",
    "\t",
    "/a b",
    "/\u{e9}",
    "\r\nHost: evil.com",
];
/// Characters the mutation step may insert anywhere.
const INSERTS: &[char] =
    &['@', '.', ':', '/', '\\', '#', '?', '%', '[', ']', '\t', ' ', 'A', '0', '\u{ff0e}'];

fn part(good: &'static [&'static str], bad: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(good).prop_map(str::to_owned),
        1 => select(bad).prop_map(str::to_owned),
    ]
    .boxed()
}

/// How the assembled URL's letters are cased.
#[derive(Clone, Copy, Debug)]
enum Case {
    AsIs,
    Upper,
    Lower,
    /// Flip the letters whose index has this bit set in the mask.
    Flip(u64),
}

fn apply_case(text: &str, case: Case) -> String {
    match case {
        Case::AsIs => text.to_owned(),
        Case::Upper => text.to_ascii_uppercase(),
        Case::Lower => text.to_ascii_lowercase(),
        Case::Flip(mask) => text
            .chars()
            .enumerate()
            .map(|(index, c)| {
                if mask >> (index % 64) & 1 == 1 {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                } else {
                    c
                }
            })
            .collect(),
    }
}

fn url_text() -> impl Strategy<Value = String> {
    let case = prop_oneof![
        4 => Just(Case::AsIs),
        1 => Just(Case::Upper),
        1 => Just(Case::Lower),
        2 => any::<u64>().prop_map(Case::Flip),
    ];
    let mutation = prop_oneof![
        3 => Just(None),
        1 => (any::<usize>(), select(INSERTS)).prop_map(Some),
    ];
    (
        part(SCHEMES_GOOD, SCHEMES_BAD),
        part(SEPARATORS_GOOD, SEPARATORS_BAD),
        part(USERINFO_GOOD, USERINFO_BAD),
        part(HOSTS_GOOD, HOSTS_BAD),
        part(PORTS_GOOD, PORTS_BAD),
        part(TAILS_GOOD, TAILS_BAD),
        case,
        mutation,
    )
        .prop_map(|(scheme, separator, userinfo, host, port, tail, case, mutation)| {
            let text =
                apply_case(&format!("{scheme}{separator}{userinfo}{host}{port}{tail}"), case);
            match mutation {
                None => text,
                Some((at, inserted)) => {
                    let boundaries: Vec<usize> =
                        text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                    let at = boundaries.get(at % boundaries.len()).copied().unwrap_or(0);
                    let mut mutated = text;
                    mutated.insert(at, inserted);
                    mutated
                }
            }
        })
}

/// Checks the property for one URL; `Ok(true)` when the policy allowed it.
fn check(compiled: &mcppol_compiler::Compiled, text: &str) -> Result<bool, TestCaseError> {
    let args = serde_json::json!({ "url": text }).to_string();
    let outcome = support::decide(compiled, &Request::tool_call("http.fetch", args.as_bytes()));
    if outcome.effect != Effect::Allow {
        return Ok(false);
    }
    let parsed = url::Url::parse(text).map_err(|error| {
        TestCaseError::fail(format!(
            "the policy allows {text:?}, which the url crate rejects: {error}"
        ))
    })?;
    prop_assert_eq!(parsed.scheme(), "https", "allowed {:?}", text);
    prop_assert!(
        parsed.username().is_empty() && parsed.password().is_none(),
        "allowed {:?}, which carries credentials",
        text
    );
    prop_assert_eq!(parsed.port_or_known_default(), Some(443), "allowed {:?}", text);
    let host = parsed.host_str().unwrap_or_default();
    let host = host.strip_suffix('.').unwrap_or(host);
    prop_assert!(
        host == "api.github.com" || host == "docs.rs",
        "allowed {:?}, whose host is {:?} for the url crate",
        text,
        parsed.host_str()
    );
    Ok(true)
}

#[test]
fn every_url_the_default_policy_allows_goes_to_an_allowed_host_on_443() {
    let (compiled, _stale) = default_policy();
    let allowed = Cell::new(0u32);
    let mut runner =
        TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let result = runner.run(&url_text(), |text| {
        if check(&compiled, &text)? {
            allowed.set(allowed.get() + 1);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let allowed = allowed.get();
    eprintln!("url property: {allowed} of {CASES} generated URLs were allowed, all as intended");
    // The generator must reach the allow path, or the property says nothing.
    assert!(allowed >= CASES / 50, "only {allowed} of {CASES} generated URLs were allowed");
}

/// The property on fixed URLs that parsers famously read differently, whatever the generator
/// happens to draw.
#[test]
fn famous_url_confusions_are_never_allowed_wrongly() {
    let (compiled, _stale) = default_policy();
    for text in [
        "https://api.github.com@evil.com/",
        "https://evil.com@api.github.com/",
        "https://evil.com\\@api.github.com/",
        "https://api.github.com\\@evil.com/",
        "https:api.github.com/",
        "https:///api.github.com/",
        " https://api.github.com/",
        "https://api.github.com\t.evil.com/",
        "https://evil.com#@api.github.com",
        "https://evil.com?@api.github.com",
        "https://api.github.com#@evil.com",
        "https://docs.rs./",
        "https://DOCS.RS:443/",
        "https://\u{ff41}pi.github.com/",
        "https://api\u{3002}github\u{3002}com/",
        "https://[::ffff:127.0.0.1]/",
        "https://0x7f.1/",
    ] {
        if let Err(error) = check(&compiled, text) {
            panic!("{error}");
        }
    }
}
