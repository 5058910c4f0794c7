//! Differential tests: the DFA blobs against the `regex` crate and a reference glob matcher,
//! and robustness of the verifier and matcher against corrupted blobs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

use mcppol_compiler::dfa::{BuildErrorKind, GlobStyle, build_glob, build_regex};
use mcppol_runtime::dfa::{DFA_BYTES_MAX, Dfa};
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------------------------
// Regexes
// ---------------------------------------------------------------------------------------------

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vec!["a", "b", "c", "é", "k", "s", "\\.", "/", " ", "\\n", "ab", "1"]),
        3 => select(vec![
            "[a-c]", "[^a]", "[ab]", "[é-ë]", "\\d", "(?-u:\\w)", "\\s", "[[:alpha:]]", "[^\\n]",
            "(?-u:[^a])", "(?-u:\\xC3)", "(?-u:\\xFF)", "\\w", "[^é]",
        ]),
        2 => select(vec![".", "(?-u:.)", "(?s:.)"]),
        2 => select(vec![
            "^", "$", "(?m:^)", "(?m:$)", "(?-u:\\b)", "(?-u:\\B)", "\\A", "\\z", "",
            "(?R:$)", "(?-u:\\b{start})", "(?-u:\\b{end})",
        ]),
    ]
    .prop_map(String::from)
}

fn regex_pattern() -> impl Strategy<Value = String> {
    let tree = leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(?:{a}|{b})")),
            (inner.clone(), select(vec!["*", "+", "?", "{1,3}", "{2}", "*?", "??", "{0,2}"]))
                .prop_map(|(a, op)| format!("(?:{a}){op}")),
            inner.clone().prop_map(|a| format!("(?i:{a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    });
    (prop::bool::weighted(0.2), tree).prop_map(|(i, r)| if i { format!("(?i){r}") } else { r })
}

fn haystack() -> impl Strategy<Value = Vec<u8>> {
    let piece = select(vec![
        &b"a"[..],
        b"b",
        b"c",
        b"A",
        b"B",
        "é".as_bytes(),
        "É".as_bytes(),
        "ë".as_bytes(),
        b"k",
        b"K",
        "\u{212a}".as_bytes(), // Kelvin sign: (?i)k
        b"s",
        "ſ".as_bytes(), // long s: (?i)s
        b" ",
        b"/",
        b"\n",
        b"\r",
        b"1",
        b"_",
        b".",
        "\u{1F600}".as_bytes(),
        b"\xff",
        b"\xc3",
        b"\x80",
    ]);
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// Checks one pattern against the `regex` crate on `hays`.
fn check_pattern(pattern: &str, hays: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let reference = regex::bytes::Regex::new(pattern);
    let built = build_regex(pattern);
    match (reference, built) {
        (Ok(re), Ok(blob)) => {
            let dfa = Dfa::from_bytes(&blob).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(dfa.as_bytes(), &blob[..]);
            for h in hays {
                prop_assert_eq!(
                    dfa.is_match(h),
                    re.is_match(h),
                    "pattern {:?} haystack {:?}",
                    pattern,
                    String::from_utf8_lossy(h)
                );
            }
            let again = build_regex(pattern).ok();
            prop_assert_eq!(again.as_ref(), Some(&blob), "non-deterministic build");
            // Canonical output: an equivalent but differently written pattern gives the same bytes.
            if let Ok(doubled) = build_regex(&format!("(?:{pattern})|(?:{pattern})")) {
                prop_assert_eq!(doubled, blob, "`p|p` differs from `p`");
            }
        }
        // Only size limits may stop a valid regex (no Unicode `\b` is generated).
        (Ok(_), Err(err)) => prop_assert_eq!(err.kind, BuildErrorKind::TooLarge, "{}", err),
        (Err(_), Err(err)) => prop_assert_eq!(err.kind, BuildErrorKind::Syntax, "{}", err),
        (Err(e), Ok(_)) => prop_assert!(false, "regex rejects {pattern:?} ({e}) but we built it"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn regex_agrees_with_regex_crate(
        pattern in regex_pattern(),
        hays in prop::collection::vec(haystack(), 1..24),
    ) {
        check_pattern(&pattern, &hays)?;
    }
}

/// Hand-picked patterns, including policy-like ones, on a fixed haystack set.
#[test]
fn regex_corpus_agrees_with_regex_crate() {
    let patterns = [
        "^/workspace/",
        "^/workspace/[^/]+\\.md$",
        "fs\\.(read|write)",
        "(?i)^(select|insert)(?-u:\\b)",
        "(?i)drop\\s+table",
        "^(?:https?://)?(?:[a-z0-9-]+\\.)*example\\.com(?::[0-9]+)?(?:/|$)",
        "\\.\\./",
        "(?m)^rm -rf",
        "[\\x00-\\x1f]",
        "^$",
        "",
        "a|",
        "(?-u:\\xff)",
        "(?-u:[\\x80-\\xff])",
        "\\p{Greek}+",
        "(?i)straße",
        "[[:^alnum:]]",
        "(?-u:\\b)é",
        "x(?-u:\\B)",
        "(?i)ǅ",
        "\\d{3}-\\d{4}",
        "a{3,}b?$",
        "(?U)a+",
        "(?x) a b # comment",
    ];
    let hays: Vec<Vec<u8>> = [
        "",
        "/workspace/",
        "/workspace/README.md",
        "/workspace/a/b.md",
        "fs.read",
        "fsxwrite",
        "SELECT * FROM t",
        "selected",
        "Drop   TABLE x",
        "https://api.example.com:8443/v1",
        "example.com",
        "badexample.community",
        "../etc/passwd",
        "ok\nrm -rf /",
        "tab\there",
        "aaab",
        "aaa",
        "αβγ",
        "STRASSE straße",
        "éa",
        "aé",
        "xé",
        "x_",
        "ǆ",
        "555-1234",
        "ab",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([b"\xff".to_vec(), b"a\x80b".to_vec(), b"\xc3".to_vec()])
    .collect();
    for pattern in patterns {
        check_pattern(pattern, &hays).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Globs
// ---------------------------------------------------------------------------------------------

/// One token of a glob segment, for the reference matcher.
#[derive(Debug)]
enum Tok {
    Lit(char),
    Star,
    Quest,
    Class { negated: bool, ranges: Vec<(char, char)> },
}

/// Parses the tokens of a (valid) glob without `**` handling.
fn tokens(glob: &str) -> Vec<Tok> {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::Quest),
            '\\' => {
                i += 1;
                out.push(Tok::Lit(chars[i]));
            }
            '[' => {
                i += 1;
                let negated = chars[i] == '!';
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                while first || chars[i] != ']' {
                    first = false;
                    let lo = if chars[i] == '\\' {
                        i += 1;
                        chars[i]
                    } else {
                        chars[i]
                    };
                    i += 1;
                    let mut hi = lo;
                    if chars[i] == '-' && chars[i + 1] != ']' {
                        i += 1;
                        hi = if chars[i] == '\\' {
                            i += 1;
                            chars[i]
                        } else {
                            chars[i]
                        };
                        i += 1;
                    }
                    ranges.push((lo, hi));
                }
                out.push(Tok::Class { negated, ranges });
            }
            c => out.push(Tok::Lit(c)),
        }
        i += 1;
    }
    out
}

/// Backtracking match of `toks` against the whole of `text`; in path mode nothing but a literal
/// matches `/`.
fn match_tokens(toks: &[Tok], text: &[char], path: bool) -> bool {
    let Some((tok, rest)) = toks.split_first() else { return text.is_empty() };
    let one = |c: char| match tok {
        Tok::Lit(l) => *l == c,
        Tok::Quest => !(path && c == '/'),
        Tok::Class { negated, ranges } => {
            !(path && c == '/') && (ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
        }
        Tok::Star => unreachable!(),
    };
    match tok {
        Tok::Star => (0..=text.len()).any(|n| {
            text[..n].iter().all(|&c| !(path && c == '/')) && match_tokens(rest, &text[n..], path)
        }),
        _ => text.first().is_some_and(|&c| one(c)) && match_tokens(rest, &text[1..], path),
    }
}

/// Segment-wise path glob matching: `**` matches any number of whole segments.
fn match_segments(globs: &[&str], parts: &[&str]) -> bool {
    match globs.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) => (0..=parts.len()).any(|n| match_segments(rest, &parts[n..])),
        Some((g, rest)) => parts.split_first().is_some_and(|(p, more)| {
            let text: Vec<char> = p.chars().collect();
            match_tokens(&tokens(g), &text, true) && match_segments(rest, more)
        }),
    }
}

/// The reference glob matcher.
fn reference_glob(glob: &str, style: GlobStyle, text: &str) -> bool {
    match style {
        GlobStyle::Name => {
            let chars: Vec<char> = text.chars().collect();
            match_tokens(&tokens(glob), &chars, false)
        }
        GlobStyle::Path => {
            let globs: Vec<&str> = glob.split('/').collect();
            let parts: Vec<&str> = text.split('/').collect();
            match_segments(&globs, &parts)
        }
    }
}

fn glob_token() -> impl Strategy<Value = &'static str> {
    select(vec![
        "a", "b", ".", "*", "?", "[ab]", "[!a]", "[a-c]", "\\*", "é", "[]a]", "[!é]", "-", "x",
    ])
}

/// A path segment: `**`, or tokens with no run of `*`.
fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("**".to_owned()),
        4 => prop::collection::vec(glob_token(), 0..4).prop_map(|v| {
            let mut s = v.concat();
            while s.contains("**") {
                s = s.replace("**", "*");
            }
            s
        }),
    ]
}

fn path_glob() -> impl Strategy<Value = String> {
    prop::collection::vec(path_segment(), 1..5).prop_map(|v| v.join("/"))
}

fn name_glob() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![glob_token(), Just("/"), Just("**")], 0..6)
        .prop_map(|v| v.concat())
}

fn glob_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(vec!["a", "b", "c", ".", "/", "é", "*", "x", "ab", "-", "]"]),
        0..8,
    )
    .prop_map(|v| v.concat())
}

/// A text made from `glob` by replacing wildcards and classes with picks from a fixed list,
/// so that many generated texts match (and many almost match).
fn instantiate(glob: &str, picks: &[u8]) -> String {
    const FILLS: [&str; 10] = ["", "a", "b", "ab", "é", "/", "a/b", "-", "]", "."];
    let mut picks = picks.iter().cycle();
    let mut pick = || FILLS[usize::from(*picks.next().unwrap_or(&0)) % FILLS.len()];
    let mut out = String::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => out.push_str(pick()),
            '\\' => out.extend(chars.next()),
            '[' => {
                chars.next_if_eq(&'!');
                let mut first = true;
                while let Some(n) = chars.next() {
                    match n {
                        ']' if !first => break,
                        '\\' => {
                            chars.next();
                        }
                        _ => {}
                    }
                    first = false;
                }
                out.push_str(pick());
            }
            c => out.push(c),
        }
    }
    out
}

fn with_instances(glob: &str, mut texts: Vec<String>, picks: &[u8]) -> Vec<String> {
    for i in 0..picks.len() {
        texts.push(instantiate(glob, &picks[i..]));
    }
    texts
}

fn check_glob(glob: &str, style: GlobStyle, texts: &[String]) -> Result<(), TestCaseError> {
    let blob = build_glob(glob, style).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let dfa = Dfa::from_bytes(&blob).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for text in texts {
        prop_assert_eq!(
            dfa.is_match(text.as_bytes()),
            reference_glob(glob, style, text),
            "glob {:?} ({:?}) text {:?}",
            glob,
            style,
            text
        );
    }
    prop_assert_eq!(build_glob(glob, style).ok(), Some(blob), "non-deterministic build");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn path_glob_agrees_with_reference(
        glob in path_glob(),
        texts in prop::collection::vec(glob_text(), 1..16),
        picks in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        check_glob(&glob, GlobStyle::Path, &with_instances(&glob, texts, &picks))?;
    }

    #[test]
    fn name_glob_agrees_with_reference(
        glob in name_glob(),
        texts in prop::collection::vec(glob_text(), 1..16),
        picks in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        check_glob(&glob, GlobStyle::Name, &with_instances(&glob, texts, &picks))?;
    }
}

#[test]
fn glob_corpus_agrees_with_reference() {
    let texts: Vec<String> = [
        "",
        "/",
        "/workspace",
        "/workspace/",
        "/workspace/a/b",
        "/workspaces",
        ".env",
        "/a/.env",
        "a/b/.env",
        "a.md",
        "a/b.md",
        "fs.read",
        "fs.",
        "fs",
        "a//b",
        "a/b",
        "a/x/y/b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for glob in ["/workspace/**", "**/.env", "*.md", "a/**/b", "**", "/**", "**/", "a/**/**/b"] {
        check_glob(glob, GlobStyle::Path, &texts).unwrap();
    }
    for glob in ["fs.*", "*", "fs.?ead", "[!f]*", ""] {
        check_glob(glob, GlobStyle::Name, &texts).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Corrupted blobs
// ---------------------------------------------------------------------------------------------

fn sample_blobs() -> &'static [Vec<u8>] {
    static BLOBS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    BLOBS.get_or_init(|| {
        vec![
            build_regex("^/workspace/").unwrap(),
            build_regex("fs\\.(read|write)").unwrap(),
            build_regex("(?i)^(select|insert)(?-u:\\b)").unwrap(),
            build_glob("/workspace/**", GlobStyle::Path).unwrap(),
        ]
    })
}

const PROBES: [&[u8]; 6] = [
    b"",
    b"/workspace/x",
    b"fs.read",
    b"SELECT 1",
    b"\xff\x00\x80",
    b"aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

#[test]
fn every_single_byte_mutation_is_safe() {
    for blob in sample_blobs() {
        assert!(Dfa::from_bytes(blob).is_ok());
        let (mut accepted, mut rejected) = (0usize, 0usize);
        let mut mutated = blob.clone();
        let blob = &blob[..];
        for pos in 0..blob.len() {
            for value in 0..=255u8 {
                mutated[pos] = value;
                match Dfa::from_bytes(&mutated) {
                    Ok(dfa) => {
                        accepted += 1;
                        for probe in PROBES {
                            std::hint::black_box(dfa.is_match(probe));
                        }
                    }
                    Err(err) => {
                        rejected += 1;
                        assert!(err.code().starts_with("dfa."));
                    }
                }
            }
            mutated[pos] = blob[pos];
        }
        // Both outcomes occur: the verifier neither accepts nor rejects everything.
        assert!(accepted > blob.len() && rejected > blob.len(), "{accepted} {rejected}");
    }
}

#[test]
fn every_truncation_and_extension_is_rejected() {
    for blob in sample_blobs() {
        for len in 0..blob.len() {
            assert!(Dfa::from_bytes(&blob[..len]).is_err(), "prefix of {len} bytes accepted");
        }
        let mut longer = blob.clone();
        for extra in 1..=8 {
            longer.push(0);
            assert!(Dfa::from_bytes(&longer).is_err(), "{extra} extra bytes accepted");
        }
    }
    assert!(Dfa::from_bytes(&vec![0; DFA_BYTES_MAX + 1]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random multi-byte corruption and random garbage never panic.
    #[test]
    fn random_corruption_is_safe(
        which in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        garbage in prop::collection::vec(any::<u8>(), 0..600),
        hay in haystack(),
    ) {
        let mut blob = sample_blobs()[which].clone();
        for (at, value) in edits {
            let at = at.index(blob.len());
            blob[at] = value;
        }
        if let Ok(dfa) = Dfa::from_bytes(&blob) {
            std::hint::black_box(dfa.is_match(&hay));
        }
        if let Ok(dfa) = Dfa::from_bytes(&garbage) {
            std::hint::black_box(dfa.is_match(&hay));
        }
    }
}
