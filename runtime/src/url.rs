//! The `url` constraint kind: a strict parser for absolute hierarchical URLs and host patterns.
//!
//! A policy says, for example, "argument `url` must be `https` to `api.github.com` or
//! `*.example.com`". The gateway calls [`parse`] on the argument (already unescaped from JSON),
//! then checks [`Url::scheme_is`], [`host_matches`], [`is_ip_literal`] and
//! [`Url::effective_port`]. Everything here is a pure function over bytes.
//!
//! The parser is deliberately narrower than the WHATWG URL standard and RFC 3986: anything on
//! which real-world URL parsers (the fetching server's, curl's, a proxy's) could disagree is an
//! error, because a host this module reads differently from the fetcher is a policy bypass.
//!
//! # Accepted
//!
//! `scheme://host[:port][/path][?query][#fragment]`, where
//!
//! - the scheme is an ASCII letter followed by letters, digits, `+`, `-` and `.`, kept as
//!   written and compared case-insensitively ([`Url::scheme_is`]);
//! - the authority runs from after `//` to the first `/`, `?` or `#` (or the end);
//! - the host consists of non-empty dot-separated labels of ASCII letters, digits, `-` and `_`,
//!   with at most one trailing `.` (removed: `api.github.com.` gives `api.github.com`); its case
//!   is kept, and [`host_matches`] compares case-insensitively;
//! - the port, if there is a `:`, is 1 to 5 decimal digits without leading zero, 1 to 65535;
//! - the path runs to the first `?` or `#` and is returned raw (no percent-decoding, no dot
//!   segment removal; apply the `path` kind to it if needed); the query runs from after `?` to
//!   the first `#`; the fragment is dropped (it is never sent to the server).
//!
//! # Rejected, and why
//!
//! - Any byte ≤ 0x20 or ≥ 0x7F anywhere ([`UrlError::Whitespace`], [`UrlError::Control`],
//!   [`UrlError::NonAscii`]): WHATWG parsers silently strip tabs and newlines and trim spaces,
//!   others do not, so `ht\ttps://` or `https://a.com\n.evil.com` would be read two ways.
//!   Non-ASCII hosts would need IDNA mapping (which needs allocation and Unicode tables), so v1
//!   requires punycode A-labels (`xn--...`); non-ASCII in the path or query must be
//!   percent-encoded, as RFC 3986 requires anyway.
//! - A backslash anywhere ([`UrlError::Backslash`]): WHATWG treats `\` as `/` in special
//!   schemes, so `https://evil.com\@allowed.com/` has host `evil.com` there and something else
//!   elsewhere.
//! - Userinfo, i.e. `@` in the authority ([`UrlError::Userinfo`]):
//!   `https://allowed.com@evil.com/` goes to `evil.com`; credentials in URLs are not needed by
//!   an agent and are the classic way to disguise a host.
//! - IPv6 literals `[...]` ([`UrlError::Ipv6Literal`]), v1 only; a later issue adds them.
//! - `%` in the authority ([`UrlError::PercentInHost`]): some parsers percent-decode hosts
//!   (`%65vil.com`), some do not.
//! - Any other byte in the host outside letters, digits, `-`, `_` and `.`
//!   ([`UrlError::HostChar`]): such hosts are parsed inconsistently and never name a real DNS
//!   host that a policy would list.
//! - An empty host ([`UrlError::EmptyHost`], so `file:///etc/passwd` is rejected: there is no
//!   host to check) or an empty label such as `a..b`, `.a` or a second trailing dot
//!   ([`UrlError::EmptyLabel`]).
//! - A port that is empty, non-decimal, zero, above 65535 or has leading zeros
//!   ([`UrlError::Port`]).
//! - A missing or malformed scheme ([`UrlError::Scheme`]) or a scheme not followed by `//`
//!   ([`UrlError::MissingSlashes`]): `mailto:`, `data:`, `javascript:` and scheme-relative
//!   `//host` have no authority to check.
//!
//! # Not protected against
//!
//! - DNS: a permitted name may resolve to a private or loopback address (including DNS
//!   rebinding and wildcard services such as `127.0.0.1.nip.io`). The fetcher must check the
//!   address it actually connects to.
//! - Redirects: the server may follow a redirect from a permitted host to any other URL.
//! - SSRF by IP address: [`is_ip_literal`] only reports hosts that parsers would read as an
//!   IPv4 address in some notation; full range checks (loopback, private, link-local,
//!   metadata addresses) come in a later issue. A policy that lists only names should deny
//!   every host for which it returns true.
//! - Path and query contents, which are returned raw; and schemes with their own semantics for
//!   the authority (this module reads every scheme as `scheme://host:port/...`).

use core::fmt;

/// Why a URL was rejected; the caller turns any of these into a deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// The input is empty.
    Empty,
    /// A space, tab, line feed, vertical tab, form feed or carriage return.
    Whitespace,
    /// Another ASCII control byte (0x00–0x1F) or DEL (0x7F).
    Control,
    /// A byte ≥ 0x80: IDNA is not supported, hosts must be punycode A-labels.
    NonAscii,
    /// A backslash, which WHATWG parsers treat as `/` in special schemes.
    Backslash,
    /// No scheme, or a scheme that does not start with a letter or has other bytes.
    Scheme,
    /// The scheme is not followed by `//`, so there is no authority to check.
    MissingSlashes,
    /// The authority contains `@` (userinfo), which disguises the real host.
    Userinfo,
    /// The authority contains `[` or `]` (IPv6 literal), not supported in v1.
    Ipv6Literal,
    /// The authority contains `%`: some parsers percent-decode hosts, some do not.
    PercentInHost,
    /// The host is empty.
    EmptyHost,
    /// The host has an empty label (`a..b`, `.a`, or two trailing dots).
    EmptyLabel,
    /// The host contains a byte other than ASCII letters, digits, `-`, `_` and `.`.
    HostChar,
    /// The port is empty, not decimal, zero, above 65535 or has leading zeros.
    Port,
}

impl UrlError {
    /// A stable, machine-readable code for logs and decision records, e.g. `"url.userinfo"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "url.empty",
            Self::Whitespace => "url.whitespace",
            Self::Control => "url.control",
            Self::NonAscii => "url.non_ascii",
            Self::Backslash => "url.backslash",
            Self::Scheme => "url.scheme",
            Self::MissingSlashes => "url.missing_slashes",
            Self::Userinfo => "url.userinfo",
            Self::Ipv6Literal => "url.ipv6_literal",
            Self::PercentInHost => "url.percent_in_host",
            Self::EmptyHost => "url.empty_host",
            Self::EmptyLabel => "url.empty_label",
            Self::HostChar => "url.host_char",
            Self::Port => "url.port",
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "url is empty",
            Self::Whitespace => "url contains whitespace",
            Self::Control => "url contains a control byte",
            Self::NonAscii => "url contains a non-ascii byte (hosts must be punycode)",
            Self::Backslash => "url contains a backslash",
            Self::Scheme => "url has no valid scheme",
            Self::MissingSlashes => "url scheme is not followed by '//'",
            Self::Userinfo => "url has userinfo ('@' before the host)",
            Self::Ipv6Literal => "url host is an ipv6 literal, which is not supported",
            Self::PercentInHost => "url host contains '%'",
            Self::EmptyHost => "url host is empty",
            Self::EmptyLabel => "url host has an empty label",
            Self::HostChar => "url host contains a byte other than letters, digits, '-', '_', '.'",
            Self::Port => "url port is not a decimal number from 1 to 65535",
        })
    }
}

/// A parsed URL; every slice borrows from the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// The scheme as written (case kept); compare with [`Url::scheme_is`].
    pub scheme: &'a [u8],
    /// The host as written (case kept), without its one optional trailing `.`.
    pub host: &'a [u8],
    /// The explicit port, if the authority had one.
    pub port: Option<u16>,
    /// The raw path, possibly empty; not percent-decoded, dot segments not removed.
    pub path: &'a [u8],
    /// The raw query after `?` (possibly empty), or `None` if there was no `?`.
    pub query: Option<&'a [u8]>,
}

impl Url<'_> {
    /// The explicit port, else 443 for `https`, 80 for `http`, else `None`.
    pub fn effective_port(&self) -> Option<u16> {
        match self.port {
            Some(port) => Some(port),
            None if self.scheme_is(b"https") => Some(443),
            None if self.scheme_is(b"http") => Some(80),
            None => None,
        }
    }

    /// True if the scheme equals `lowercase` ignoring ASCII case (`HTTPS` is `https`).
    ///
    /// Pass the scheme name in lowercase; a name with uppercase letters never matches, so a
    /// mistake in the caller fails closed.
    pub fn scheme_is(&self, lowercase: &[u8]) -> bool {
        !lowercase.iter().any(u8::is_ascii_uppercase) && self.scheme.eq_ignore_ascii_case(lowercase)
    }
}

impl fmt::Debug for Url<'_> {
    /// Shows the parts as text rather than byte lists (they are printable ASCII after parsing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Url")
            .field("scheme", &Text(self.scheme))
            .field("host", &Text(self.host))
            .field("port", &self.port)
            .field("path", &Text(self.path))
            .field("query", &self.query.map(Text))
            .finish()
    }
}

/// Debug-formats bytes as a string literal when they are UTF-8, else as a byte list.
struct Text<'a>(&'a [u8]);

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.0) {
            Ok(s) => fmt::Debug::fmt(s, f),
            Err(_) => fmt::Debug::fmt(self.0, f),
        }
    }
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

/// Splits at the first byte for which `is_end` holds: (before, Some(after that byte)), or
/// (all, None) if there is none.
fn split_at_first(s: &[u8], is_end: impl Fn(u8) -> bool) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&b| is_end(b)) {
        Some(i) => (s.get(..i).unwrap_or_default(), s.get(i + 1..)),
        None => (s, None),
    }
}

/// Checks a host (trailing dot already removed): non-empty dot-separated labels of letters,
/// digits, `-` and `_`.
fn check_host(host: &[u8]) -> Result<(), UrlError> {
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    for label in host.split(|&b| b == b'.') {
        if label.is_empty() {
            return Err(UrlError::EmptyLabel);
        }
        if !label.iter().all(|&b| is_host_byte(b)) {
            return Err(UrlError::HostChar);
        }
    }
    Ok(())
}

/// Parses 1 to 5 decimal digits without leading zero into 1..=65535.
fn parse_port(digits: &[u8]) -> Result<u16, UrlError> {
    // Leading zeros are rejected rather than read as decimal: nothing legitimate needs them,
    // and rejecting them keeps one spelling per port.
    if digits.is_empty() || digits.len() > 5 || digits.first() == Some(&b'0') {
        return Err(UrlError::Port);
    }
    let mut value: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(UrlError::Port);
        }
        // At most 5 digits, so value stays below 100_000: no overflow.
        value = value * 10 + u32::from(d - b'0');
    }
    u16::try_from(value).map_err(|_| UrlError::Port)
}

/// Parses an absolute hierarchical URL `scheme://host[:port][/path][?query][#fragment]`.
///
/// See the module documentation for exactly what is accepted and rejected. Byte-level errors
/// (whitespace, control, non-ASCII, backslash) are checked first over the whole input and the
/// first offending byte decides; then scheme, `//`, and within the authority: userinfo, IPv6,
/// `%`, port, host.
pub fn parse(input: &[u8]) -> Result<Url<'_>, UrlError> {
    if input.is_empty() {
        return Err(UrlError::Empty);
    }
    for &b in input {
        match b {
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => return Err(UrlError::Whitespace),
            0x00..=0x1f | 0x7f => return Err(UrlError::Control),
            0x80..=0xff => return Err(UrlError::NonAscii),
            b'\\' => return Err(UrlError::Backslash),
            _ => {}
        }
    }

    let scheme_len = input.iter().position(|&b| !is_scheme_byte(b)).ok_or(UrlError::Scheme)?;
    let (scheme, rest) = input.split_at_checked(scheme_len).ok_or(UrlError::Scheme)?;
    if !scheme.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(UrlError::Scheme);
    }
    let rest = rest.strip_prefix(b":").ok_or(UrlError::Scheme)?;
    let rest = rest.strip_prefix(b"//").ok_or(UrlError::MissingSlashes)?;

    let auth_len = rest.iter().position(|&b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at_checked(auth_len).ok_or(UrlError::EmptyHost)?;
    // These are checked before splitting off the port because each changes what the host is
    // (`user:pass@host`, `[::1]:80`), and a port error would hide the real reason.
    if authority.contains(&b'@') {
        return Err(UrlError::Userinfo);
    }
    if authority.iter().any(|&b| b == b'[' || b == b']') {
        return Err(UrlError::Ipv6Literal);
    }
    if authority.contains(&b'%') {
        return Err(UrlError::PercentInHost);
    }
    let (host, port) = match split_at_first(authority, |b| b == b':') {
        (host, None) => (host, None),
        (host, Some(digits)) => (host, Some(parse_port(digits)?)),
    };
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    // One trailing dot is the fully-qualified spelling of the same name; a second one (or any
    // other empty label) is caught by check_host.
    let host = host.strip_suffix(b".").unwrap_or(host);
    check_host(host)?;

    let (before_fragment, _fragment) = split_at_first(tail, |b| b == b'#');
    let (path, query) = split_at_first(before_fragment, |b| b == b'?');
    Ok(Url { scheme, host, port, path, query })
}

/// True if `host` matches `pattern`, ignoring ASCII case.
///
/// - `api.github.com` matches exactly that host.
/// - `*.example.com` matches any host ending in `.example.com` with at least one more label
///   (`a.example.com`, `a.b.example.com`), not `example.com` itself and not `badexample.com`.
///
/// Fails closed (returns false) if the host is not a valid host as [`parse`] returns it (so
/// pass it without trailing dot), if the pattern is not a valid host or `*.` followed by one
/// (a `*` anywhere else, a bare `*` and a trailing dot never match), or if a wildcard would
/// match a host that [`is_ip_literal`] reports: `*.0.0.1` must not admit `127.0.0.1`.
pub fn host_matches(host: &[u8], pattern: &[u8]) -> bool {
    if check_host(host).is_err() {
        return false;
    }
    match pattern.strip_prefix(b"*") {
        None => check_host(pattern).is_ok() && host.eq_ignore_ascii_case(pattern),
        Some(dot_suffix) => {
            let Some(suffix) = dot_suffix.strip_prefix(b".") else {
                return false;
            };
            if check_host(suffix).is_err() || is_ip_literal(host) {
                return false;
            }
            // host = <one or more labels> "." suffix. The part before must be non-empty (the
            // `cut > 0` guard is redundant with check_host, which never lets a host start with
            // '.', but this function should not depend on that), and because `host` passed
            // check_host it then consists of whole non-empty labels.
            match host.len().checked_sub(dot_suffix.len()) {
                Some(cut) if cut > 0 => {
                    host.get(cut..).is_some_and(|tail| tail.eq_ignore_ascii_case(dot_suffix))
                }
                _ => false,
            }
        }
    }
}

/// True if resolvers or URL parsers could read `host` as an IPv4 address in some notation.
///
/// This follows the WHATWG "ends in a number" rule: the host is treated as an address if its
/// last label (ignoring one trailing dot) is all decimal digits or `0x`/`0X` followed by hex
/// digits (possibly none). That covers dotted quads (`127.0.0.1`), the `inet_aton` short forms
/// (`127.1`, `0x7f.1`), a single number in decimal, octal or hex (`2130706433`,
/// `017700000001`, `0x7f000001`) and also invalid ones (`example.123`), which is the safe
/// side. IPv6 literals never get here because [`parse`] rejects them.
///
/// v1 only reports the notation, so that the caller can deny when the policy lists only names;
/// range checks for SSRF (loopback, private, link-local, metadata) come in a later issue.
pub fn is_ip_literal(host: &[u8]) -> bool {
    let host = host.strip_suffix(b".").unwrap_or(host);
    let last = host.rsplit(|&b| b == b'.').next().unwrap_or_default();
    if !last.is_empty() && last.iter().all(u8::is_ascii_digit) {
        return true;
    }
    match last.strip_prefix(b"0x").or_else(|| last.strip_prefix(b"0X")) {
        Some(hex) => hex.iter().all(u8::is_ascii_hexdigit),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    type Parts<'a> = (&'a [u8], &'a [u8], Option<u16>, &'a [u8], Option<&'a [u8]>);

    fn parts<'a>(u: &Url<'a>) -> Parts<'a> {
        (u.scheme, u.host, u.port, u.path, u.query)
    }

    #[test]
    fn parse_ok_table() {
        let cases: &[(&[u8], Parts<'_>)] = &[
            (
                b"https://API.GitHub.com./repos",
                (b"https", b"API.GitHub.com", None, b"/repos", None),
            ),
            (b"https://api.github.com", (b"https", b"api.github.com", None, b"", None)),
            (b"https://api.github.com/", (b"https", b"api.github.com", None, b"/", None)),
            (
                b"HTTP://a.b:8080/x/y?q=1&r=2#frag",
                (b"HTTP", b"a.b", Some(8080), b"/x/y", Some(b"q=1&r=2")),
            ),
            (b"http://a.b?", (b"http", b"a.b", None, b"", Some(b""))),
            (b"http://a.b?x#y", (b"http", b"a.b", None, b"", Some(b"x"))),
            (b"http://a.b#x?y", (b"http", b"a.b", None, b"", None)),
            (b"http://a.b/p#x?y", (b"http", b"a.b", None, b"/p", None)),
            (b"http://a.b/p?x?y", (b"http", b"a.b", None, b"/p", Some(b"x?y"))),
            (b"https://evil.com#@allowed.com", (b"https", b"evil.com", None, b"", None)),
            (
                b"https://evil.com?@allowed.com",
                (b"https", b"evil.com", None, b"", Some(b"@allowed.com")),
            ),
            (
                b"https://evil.com/@allowed.com",
                (b"https", b"evil.com", None, b"/@allowed.com", None),
            ),
            (b"http://127.1/", (b"http", b"127.1", None, b"/", None)),
            (b"http://localhost:1", (b"http", b"localhost", Some(1), b"", None)),
            (b"http://localhost:65535/", (b"http", b"localhost", Some(65535), b"/", None)),
            (
                b"git+ssh://xn--bcher-kva.example/%2e%2e/",
                (b"git+ssh", b"xn--bcher-kva.example", None, b"/%2e%2e/", None),
            ),
            (b"ws://my_host-1.a", (b"ws", b"my_host-1.a", None, b"", None)),
            (b"a.b-c+d://h", (b"a.b-c+d", b"h", None, b"", None)),
        ];
        for (input, want) in cases {
            let got = parse(input).map(|u| parts(&u));
            assert_eq!(got, Ok(*want), "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn parse_err_table() {
        use UrlError::*;
        let cases: &[(&[u8], UrlError)] = &[
            (b"", Empty),
            (b"https://allowed.com@evil.com/", Userinfo),
            (b"https://user:pass@evil.com/", Userinfo),
            (b"https://@evil.com/", Userinfo),
            (b"https://a.com\\@evil.com/", Backslash),
            (b"https:\\\\evil.com", Backslash),
            (b"https://a.com/\\", Backslash),
            (b"https://a.com /", Whitespace),
            (b" https://a.com/", Whitespace),
            (b"https://a.com/\t", Whitespace),
            (b"ht\ntps://a.com", Whitespace),
            (b"https://a.com\r\n", Whitespace),
            (b"https://a.com/\0", Control),
            (b"https://a.com/\x1b", Control),
            (b"https://a.com/\x7f", Control),
            (b"https://b\xc3\xbccher.de/", NonAscii),
            (b"https://a.com/\xff", NonAscii),
            (b"https://a.com/\xc3\xa9", NonAscii),
            (b"https:/a.com", MissingSlashes),
            (b"https:a.com", MissingSlashes),
            (b"javascript:alert(1)", MissingSlashes),
            (b"mailto:a@b.c", MissingSlashes),
            (b"//a.com/", Scheme),
            (b"a.com", Scheme),
            (b"https", Scheme),
            (b"1http://a.com", Scheme),
            (b"://a.com", Scheme),
            (b"ht_tp://a.com", Scheme),
            (b"https://", EmptyHost),
            (b"https:///etc/passwd", EmptyHost),
            (b"file:///etc/passwd", EmptyHost),
            (b"https://:443/", EmptyHost),
            (b"https://?x", EmptyHost),
            (b"https://.", EmptyHost),
            (b"https://a.com../", EmptyLabel),
            (b"https://a..com/", EmptyLabel),
            (b"https://.a.com/", EmptyLabel),
            (b"https://../", EmptyLabel),
            (b"https://[::1]/", Ipv6Literal),
            (b"https://[::1]:80/", Ipv6Literal),
            (b"https://a]b/", Ipv6Literal),
            (b"https://%65vil.com/", PercentInHost),
            (b"https://a.com:%38%30/", PercentInHost),
            (b"https://a.com:", Port),
            (b"https://a.com:/", Port),
            (b"https://a.com:0/", Port),
            (b"https://a.com:00080/", Port),
            (b"https://a.com:080/", Port),
            (b"https://a.com:65536/", Port),
            (b"https://a.com:99999/", Port),
            (b"https://a.com:123456/", Port),
            (b"https://a.com:+80/", Port),
            (b"https://a.com:8o/", Port),
            (b"https://a.com:80:80/", Port),
            (b"https://a.com:0x50/", Port),
            (b"https://a*.com/", HostChar),
            (b"https://a,b.com/", HostChar),
            (b"https://a;b.com/", HostChar),
            (b"https://a\"b.com/", HostChar),
            (b"https://a{b}.com/", HostChar),
            (b"https://a.com!/", HostChar),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Err(*want), "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn effective_port_and_scheme() {
        let port = |s: &[u8]| parse(s).unwrap().effective_port();
        assert_eq!(port(b"https://a"), Some(443));
        assert_eq!(port(b"HTTPS://a"), Some(443));
        assert_eq!(port(b"http://a"), Some(80));
        assert_eq!(port(b"HtTp://a"), Some(80));
        assert_eq!(port(b"https://a:8443"), Some(8443));
        assert_eq!(port(b"http://a:443"), Some(443));
        assert_eq!(port(b"ftp://a"), None);
        assert_eq!(port(b"ftp://a:21"), Some(21));
        assert_eq!(port(b"httpss://a"), None);
        let u = parse(b"HTTPS://a").unwrap();
        assert!(u.scheme_is(b"https"));
        assert!(!u.scheme_is(b"HTTPS"), "the expected name must be lowercase");
        assert!(!u.scheme_is(b"http"));
        assert!(!u.scheme_is(b"https+x"));
        assert_eq!(
            std::format!("{:?}", parse(b"https://a.b:8/p?q").unwrap()),
            r#"Url { scheme: "https", host: "a.b", port: Some(8), path: "/p", query: Some("q") }"#
        );
    }

    #[test]
    fn host_matches_table() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"api.github.com", b"api.github.com", true),
            (b"API.GitHub.com", b"api.github.com", true),
            (b"api.github.com", b"API.GITHUB.COM", true),
            (b"api.github.com.evil", b"api.github.com", false),
            (b"xapi.github.com", b"api.github.com", false),
            (b"github.com", b"api.github.com", false),
            (b"a.example.com", b"*.example.com", true),
            (b"A.Example.COM", b"*.example.com", true),
            (b"a.b.example.com", b"*.example.com", true),
            (b"example.com", b"*.example.com", false),
            (b"badexample.com", b"*.example.com", false),
            (b"a.badexample.com", b"*.example.com", false),
            (b"example.com.evil", b"*.example.com", false),
            (b"a.example.com", b"*example.com", false),
            (b"a.example.com", b"*", false),
            (b"a.example.com", b"*.", false),
            (b"a.example.com", b"a.*.com", false),
            (b"a.example.com", b"*.*.com", false),
            (b"a.example.com", b"**.example.com", false),
            (b"a.example.com", b"*.example.com.", false),
            (b"a.example.com", b"a.example.com.", false),
            (b"a.example.com", b"", false),
            (b"", b"", false),
            (b"", b"*.example.com", false),
            (b".example.com", b"*.example.com", false),
            (b"a..example.com", b"*.example.com", false),
            (b"a/.example.com", b"*.example.com", false),
            (b"a@b.example.com", b"*.example.com", false),
            (b"127.0.0.1", b"*.0.0.1", false),
            (b"127.0.0.1", b"127.0.0.1", true),
            (b"10.0.0.0x1", b"*.0.0x1", false),
        ];
        for (host, pattern, want) in cases {
            assert_eq!(
                host_matches(host, pattern),
                *want,
                "host {:?} pattern {:?}",
                String::from_utf8_lossy(host),
                String::from_utf8_lossy(pattern)
            );
        }
    }

    #[test]
    fn ip_literal_table() {
        let cases: &[(&[u8], bool)] = &[
            (b"127.0.0.1", true),
            (b"127.1", true),
            (b"2130706433", true),
            (b"0x7f.1", true),
            (b"0x7f000001", true),
            (b"0X7F000001", true),
            (b"017700000001", true),
            (b"0177.0.0.1", true),
            (b"127.0.0.1.", true),
            (b"0x", true),
            (b"example.123", true),
            (b"169.254.169.254", true),
            (b"localhost", false),
            (b"api.github.com", false),
            (b"127.0.0.1.nip.io", false),
            (b"1.2.3.4x", false),
            (b"0x7g", false),
            (b"0xx1", false),
            (b"7f.0.0.ff", false),
            (b"x0", false),
            (b"", false),
        ];
        for (host, want) in cases {
            assert_eq!(is_ip_literal(host), *want, "host {:?}", String::from_utf8_lossy(host));
        }
        assert!(is_ip_literal(parse(b"http://127.1/").unwrap().host));
        assert!(is_ip_literal(parse(b"http://0x7f.1/").unwrap().host));
        assert!(!is_ip_literal(parse(b"https://api.github.com/").unwrap().host));
    }

    #[test]
    fn error_codes_and_messages() {
        use UrlError::*;
        let all = [
            Empty,
            Whitespace,
            Control,
            NonAscii,
            Backslash,
            Scheme,
            MissingSlashes,
            Userinfo,
            Ipv6Literal,
            PercentInHost,
            EmptyHost,
            EmptyLabel,
            HostChar,
            Port,
        ];
        let mut codes: Vec<&str> = all.iter().map(|e| e.code()).collect();
        assert!(codes.iter().all(|c| c.starts_with("url.")));
        assert!(codes.contains(&"url.userinfo") && codes.contains(&"url.non_ascii"));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
        for e in all {
            let msg = std::format!("{e}");
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase());
        }
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_-]{1,6}"
    }

    fn host() -> impl Strategy<Value = String> {
        proptest::collection::vec(label(), 1..4).prop_map(|ls| ls.join("."))
    }

    proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(u) = parse(&input) {
                prop_assert!(!u.host.is_empty());
                let bad = |b: &u8| matches!(b, b'@' | b'%' | b':' | b'/' | b'[');
                prop_assert!(!u.host.iter().any(bad));
                let _ = u.effective_port();
                let _ = is_ip_literal(u.host);
            }
            let _ = host_matches(&input, b"*.example.com");
            let _ = host_matches(b"a.example.com", &input);
            let _ = is_ip_literal(&input);
        }

        #[test]
        fn never_panics_url_shaped(
            input in "[a-zA-Z+.-]{0,4}:?/{0,3}[a-z0-9.:@%\\[\\]_-]{0,12}[/?#]?[ -~]{0,8}",
        ) {
            let _ = parse(input.as_bytes()).map(|u| u.effective_port());
        }

        #[test]
        fn round_trip(
            scheme in "[a-zA-Z][a-zA-Z0-9+.-]{0,5}",
            host in host(),
            dot in any::<bool>(),
            port in proptest::option::of(1u16..),
            path in "(/[a-zA-Z0-9._~%!$&'()*+,;=:@-]{0,6}){0,3}",
            query in proptest::option::of("[a-zA-Z0-9/?=&%@:-]{0,8}"),
            fragment in proptest::option::of("[ -~&&[^ \\\\]]{0,8}"),
        ) {
            let mut s = std::format!("{scheme}://{host}");
            if dot { s.push('.'); }
            if let Some(p) = port { s.push_str(&std::format!(":{p}")); }
            s.push_str(&path);
            if let Some(q) = &query { s.push('?'); s.push_str(q); }
            if let Some(f) = &fragment { s.push('#'); s.push_str(f); }
            let u = parse(s.as_bytes()).unwrap();
            prop_assert_eq!(u.scheme, scheme.as_bytes());
            prop_assert_eq!(u.host, host.as_bytes());
            prop_assert_eq!(u.port, port);
            prop_assert_eq!(u.path, path.as_bytes());
            prop_assert_eq!(u.query, query.as_deref().map(str::as_bytes));
            prop_assert!(host_matches(u.host, &host.to_ascii_uppercase().into_bytes()));
        }

        #[test]
        fn userinfo_is_always_rejected(user in "[a-z:.]{0,8}", host in host()) {
            let s = std::format!("https://{user}@{host}/");
            prop_assert_eq!(parse(s.as_bytes()), Err(UrlError::Userinfo));
        }

        #[test]
        fn wildcard_agrees_with_labels(
            extra in proptest::collection::vec("[aA1]{1,2}", 0..3),
            base in proptest::collection::vec("[aA1]{1,2}", 1..3),
            other in proptest::collection::vec("[aA1]{1,2}", 1..3),
            same in any::<bool>(),
        ) {
            // A tiny alphabet, and half the time the same base, so that matches are common.
            let pattern_base = if same { base.clone() } else { other };
            let host = extra.iter().chain(base.iter()).cloned().collect::<Vec<_>>().join(".");
            let pattern = std::format!("*.{}", pattern_base.join("."));
            // Reference: the host's labels end with the pattern's labels, with at least one more,
            // compared case-insensitively, and the host is not read as an IP address.
            let hl: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
            let pl: Vec<String> = pattern_base.iter().map(|l| l.to_ascii_lowercase()).collect();
            let want = hl.len() > pl.len()
                && hl[hl.len() - pl.len()..] == pl[..]
                && !is_ip_literal(host.as_bytes());
            prop_assert_eq!(host_matches(host.as_bytes(), pattern.as_bytes()), want);
        }
    }
}
