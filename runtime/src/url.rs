//! The `url` constraint kind: a strict parser for absolute hierarchical URLs, host patterns,
//! and the classification of hosts for SSRF protection.
//!
//! A policy says, for example, "argument `url` must be `https` to `api.github.com` or
//! `*.example.com`", or "argument `url` must not point at an internal address". The gateway
//! calls [`parse`] on the argument (already unescaped from JSON), then checks
//! [`Url::scheme_is`], [`host_matches`], [`Url::effective_port`], and [`classify_host`] with
//! [`ssrf_class`]. Everything here is a pure function over bytes: no allocation, no DNS.
//!
//! The parser is deliberately narrower than the WHATWG URL standard and RFC 3986: anything on
//! which real-world URL parsers (the fetching server's, curl's, a proxy's) could disagree is an
//! error, because a host this module reads differently from the fetcher is a policy bypass.
//! Where it accepts a host, it reads it as the WHATWG URL standard's host parser does (the
//! tests check this against the `url` crate, which implements WHATWG): in particular every
//! numeric spelling of an IPv4 address is decoded to the address it means.
//!
//! # Accepted
//!
//! `scheme://host[:port][/path][?query][#fragment]`, where
//!
//! - the scheme is an ASCII letter followed by letters, digits, `+`, `-` and `.`, kept as
//!   written and compared case-insensitively ([`Url::scheme_is`]);
//! - the authority runs from after `//` to the first `/`, `?` or `#` (or the end);
//! - the host is either
//!   - a name or IPv4 address: non-empty dot-separated labels of ASCII letters, digits, `-` and
//!     `_`, with at most one trailing `.` (removed: `api.github.com.` gives `api.github.com`);
//!     its case is kept, and [`host_matches`] compares case-insensitively. If the last label is
//!     a number (decimal, `0x` hex or leading-`0` octal, as WHATWG defines it) the host is an
//!     IPv4 address in one to four parts: `127.0.0.1`, `127.1`, `2130706433`, `0x7f.1`,
//!     `017700000001`, `0x7f.0.0.1` and `127.0.0.1.` are all 127.0.0.1; or
//!   - an IPv6 literal in brackets, in any RFC 4291 text form: `[::1]`, `[0:0:0:0:0:0:0:1]`,
//!     `[::ffff:127.0.0.1]`, `[2001:DB8::1]` (hex digits in either case, `::` compression,
//!     a dotted IPv4 tail). The host text keeps the brackets;
//! - the port, if there is a `:`, is 1 to 5 decimal digits without leading zero, 1 to 65535;
//! - the path runs to the first `?` or `#` and is returned raw (no percent-decoding, no dot
//!   segment removal; apply the `path` kind with `percent_decode` to it); the query runs from
//!   after `?` to the first `#`; the fragment is dropped (it is never sent to the server).
//!
//! A host that [`parse`] returns is always accepted by [`classify_host`].
//!
//! Hosts are read by the WHATWG rules for special schemes (`http`, `https`, `ws`, `wss`,
//! `ftp`) whatever the scheme: for other schemes WHATWG keeps the host opaque, but the program
//! that finally connects (curl, a socket library calling `inet_aton`) reads `127.1` as an
//! address, so treating it as one is the safe direction.
//!
//! # Rejected, and why
//!
//! - Any byte ≤ 0x20 or ≥ 0x7F anywhere (`url.whitespace` [`UrlError::Whitespace`],
//!   `url.control` [`UrlError::Control`], `url.non_ascii` [`UrlError::NonAscii`]): WHATWG
//!   parsers silently strip tabs and newlines and trim spaces, others do not, so `ht\ttps://`
//!   or `https://a.com\n.evil.com` would be read two ways. Non-ASCII hosts would need IDNA
//!   mapping (which needs allocation and Unicode tables), so hosts must be punycode A-labels
//!   (`xn--...`, which are plain ASCII and pass); non-ASCII in the path or query must be
//!   percent-encoded, as RFC 3986 requires anyway.
//! - A backslash anywhere (`url.backslash` [`UrlError::Backslash`]): WHATWG treats `\` as `/` in
//!   special schemes, so `https://evil.com\@allowed.com/` has host `evil.com` there and
//!   something else elsewhere.
//! - Userinfo, i.e. `@` in the authority (`url.userinfo` [`UrlError::Userinfo`]):
//!   `https://allowed.com@evil.com/` goes to `evil.com`; credentials in URLs are not needed by
//!   an agent and are the classic way to disguise a host.
//! - An IPv6 literal with a zone id, `[fe80::1%25eth0]` (`url.ipv6_zone`
//!   [`UrlError::Ipv6Zone`]): WHATWG rejects zones, other parsers accept them, and a zone only
//!   makes sense for link-local addresses on the gateway's own machine.
//! - A malformed IPv6 literal, a `[` or `]` anywhere but around a whole host, or anything but
//!   `:port` after the `]` (`url.bad_ipv6` [`UrlError::BadIpv6`]).
//! - A host whose last label is a number but which is not a valid IPv4 address
//!   (`url.bad_ipv4` [`UrlError::BadIpv4`]): `1.2.3.256`, `1.2.3.4.5`, `example.123`, `09`,
//!   `0x1.0x100.1`. WHATWG rejects these, and resolvers that accept them disagree about what
//!   they mean.
//! - `%` in the authority outside brackets (`url.percent_in_host`
//!   [`UrlError::PercentInHost`]): WHATWG percent-decodes hosts (`%65vil.com`), others do not.
//! - Any other byte in a name outside letters, digits, `-`, `_` and `.` (`url.host_char`
//!   [`UrlError::HostChar`]): such hosts are parsed inconsistently and never name a real DNS
//!   host that a policy would list.
//! - An empty host (`url.empty_host` [`UrlError::EmptyHost`], so `file:///etc/passwd` is
//!   rejected: there is no host to check) or an empty label such as `a..b`, `.a` or a second
//!   trailing dot (`url.empty_label` [`UrlError::EmptyLabel`]).
//! - A port that is empty, non-decimal, zero, above 65535 or has leading zeros (`url.port`
//!   [`UrlError::Port`]).
//! - A missing or malformed scheme (`url.scheme` [`UrlError::Scheme`]) or a scheme not followed
//!   by `//` (`url.missing_slashes` [`UrlError::MissingSlashes`]): `mailto:`, `data:`,
//!   `javascript:` and scheme-relative `//host` have no authority to check.
//! - `url.empty` ([`UrlError::Empty`]): the empty string.
//!
//! # SSRF classes
//!
//! [`ssrf_class`] says whether a host is internal, and how; `None` means a public address or an
//! ordinary name. Each class has a code ([`SsrfClass::code`]) for the decision record.
//!
//! IPv4:
//!
//! - `url.ssrf_unspecified`: 0.0.0.0/8 ("this network"; connecting to 0.0.0.0 reaches the
//!   local host);
//! - `url.ssrf_loopback`: 127.0.0.0/8;
//! - `url.ssrf_private`: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16;
//! - `url.ssrf_link_local`: 169.254.0.0/16 (cloud metadata at 169.254.169.254);
//! - `url.ssrf_cgnat`: 100.64.0.0/10;
//! - `url.ssrf_multicast`: 224.0.0.0/4;
//! - `url.ssrf_broadcast`: 255.255.255.255;
//! - `url.ssrf_reserved`: 240.0.0.0/4 (but for the broadcast address), 192.0.0.0/24,
//!   192.0.2.0/24, 192.88.99.0/24, 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24.
//!
//! IPv6:
//!
//! - `url.ssrf_unspecified`: `::`;
//! - `url.ssrf_loopback`: `::1`;
//! - `url.ssrf_private`: fc00::/7 (unique local), fec0::/10 (deprecated site-local);
//! - `url.ssrf_link_local`: fe80::/10;
//! - `url.ssrf_multicast`: ff00::/8;
//! - `url.ssrf_reserved`: 2001:db8::/32 and 3fff::/20 (documentation), 2001:2::/48
//!   (benchmarking), 100::/64 (discard), 64:ff9b:1::/48 (local-use NAT64, whose embedding the
//!   policy cannot know), and everything outside 2000::/3 that is not listed here (all of it
//!   unassigned or special-purpose).
//!
//! IPv6 addresses that carry an IPv4 address are classified by that address, with the IPv4
//! table (a public embedded address gives `None`):
//!
//! - IPv4-mapped `::ffff:a.b.c.d` (the last 32 bits), which dual-stack sockets connect to
//!   over IPv4;
//! - IPv4-compatible `::a.b.c.d` (deprecated; the last 32 bits, other than `::` and `::1`);
//! - IPv4-translated `::ffff:0:a.b.c.d` (RFC 2765, the last 32 bits);
//! - NAT64 `64:ff9b::a.b.c.d` (RFC 6052 well-known prefix, the last 32 bits);
//! - 6to4 `2002:AABB:CCDD::/48` (bits 16–47 are the IPv4 address `AA.BB.CC.DD`);
//! - Teredo `2001:0:SSSS:SSSS:flags:port:CCCC:CCCC` (2001::/32): the client address, the last
//!   32 bits inverted, and the server address, bits 32–63; the first that is not public
//!   decides.
//!
//! Names (compared ignoring ASCII case, without the trailing dot) are `url.ssrf_local_name`
//! when they are `localhost` or end in `.localhost` (RFC 6761), are `localhost.localdomain`,
//! `localhost6`, `localhost6.localdomain6`, `ip6-localhost` or `ip6-loopback` (the usual
//! `/etc/hosts` aliases), have a single label (`http://intranet/`, resolved through the
//! resolver's search domains, i.e. inside the network; GCP's metadata server answers to
//! `metadata`), or lie under a top-level name reserved or commonly used for private networks:
//! `local` (mDNS), `internal` (reserved by ICANN; GCP's `metadata.google.internal`),
//! `localdomain`, `home.arpa` (RFC 8375), `lan`, `home`, `corp`, `intranet`, `private`
//! (not delegated in the public DNS).
//!
//! # What this does NOT protect against
//!
//! - DNS. A name is classified by its text only: a permitted name may resolve to a private or
//!   loopback address (wildcard services such as `127.0.0.1.nip.io`, a hostile zone, or DNS
//!   rebinding, where the name resolves to a public address when checked and to a private one
//!   when used). A host with SSRF concerns must resolve the name itself, check every address
//!   with [`ssrf_class`] on the [`Host::V4`] or [`Host::V6`] it got, and connect to exactly
//!   that address (not resolve again), or send the request through an egress proxy that does.
//! - Redirects: the server may follow a redirect from a permitted host to any other URL,
//!   including an internal one; redirects must be checked the same way or not followed.
//! - Allow lists by address: [`host_matches`] compares host text, so an allow list entry
//!   `127.0.0.1` does not match `127.1` or `[::ffff:127.0.0.1]`. That only ever denies more;
//!   write address entries in the canonical form, or compare [`classify_host`] results.
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
    /// A malformed IPv6 literal, or a `[` or `]` that does not enclose the whole host.
    BadIpv6,
    /// An IPv6 literal with a zone id (`%25eth0`).
    Ipv6Zone,
    /// The host ends in a number but is not a valid IPv4 address.
    BadIpv4,
    /// The authority contains `%` outside brackets: some parsers percent-decode hosts.
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
            Self::BadIpv6 => "url.bad_ipv6",
            Self::Ipv6Zone => "url.ipv6_zone",
            Self::BadIpv4 => "url.bad_ipv4",
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
            Self::BadIpv6 => "url host is not a valid ipv6 literal",
            Self::Ipv6Zone => "url host is an ipv6 literal with a zone id",
            Self::BadIpv4 => "url host ends in a number but is not a valid ipv4 address",
            Self::PercentInHost => "url host contains '%'",
            Self::EmptyHost => "url host is empty",
            Self::EmptyLabel => "url host has an empty label",
            Self::HostChar => "url host contains a byte other than letters, digits, '-', '_', '.'",
            Self::Port => "url port is not a decimal number from 1 to 65535",
        })
    }
}

/// What a host is, as [`classify_host`] reads it.
///
/// The name itself is not copied: a name's bytes are the host text the caller already has
/// ([`Url::host`]), which is what [`ssrf_class`] and [`host_matches`] take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name (not an address in any notation).
    Name,
    /// An IPv4 address, as a big-endian number (`127.0.0.1` is `0x7f00_0001`).
    V4(u32),
    /// An IPv6 address, in network byte order.
    V6([u8; 16]),
}

/// Why a host counts as internal for SSRF protection; see the module documentation for the
/// exact ranges and names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SsrfClass {
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10.
    Private,
    /// 169.254/16 (cloud metadata), fe80::/10.
    LinkLocal,
    /// 100.64/10, carrier-grade NAT.
    Cgnat,
    /// 224/4, ff00::/8.
    Multicast,
    /// 0/8, `::`.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// Reserved, documentation, benchmarking and unassigned ranges.
    Reserved,
    /// `localhost` and the other names that resolve inside the host or its network.
    LocalName,
}

impl SsrfClass {
    /// A stable, machine-readable code for logs and decision records, e.g.
    /// `"url.ssrf_loopback"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Loopback => "url.ssrf_loopback",
            Self::Private => "url.ssrf_private",
            Self::LinkLocal => "url.ssrf_link_local",
            Self::Cgnat => "url.ssrf_cgnat",
            Self::Multicast => "url.ssrf_multicast",
            Self::Unspecified => "url.ssrf_unspecified",
            Self::Broadcast => "url.ssrf_broadcast",
            Self::Reserved => "url.ssrf_reserved",
            Self::LocalName => "url.ssrf_local_name",
        }
    }
}

impl fmt::Display for SsrfClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Loopback => "url host is a loopback address",
            Self::Private => "url host is a private-network address",
            Self::LinkLocal => "url host is a link-local address (cloud metadata lives here)",
            Self::Cgnat => "url host is a carrier-grade nat address",
            Self::Multicast => "url host is a multicast address",
            Self::Unspecified => "url host is an unspecified (0.0.0.0 or ::) address",
            Self::Broadcast => "url host is the broadcast address",
            Self::Reserved => "url host is a reserved or documentation address",
            Self::LocalName => "url host is a name for the local machine or network",
        })
    }
}

/// A parsed URL; every slice borrows from the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// The scheme as written (case kept); compare with [`Url::scheme_is`].
    pub scheme: &'a [u8],
    /// The host as written (case kept), without its one optional trailing `.`; an IPv6
    /// literal keeps its brackets (`[::1]`).
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

/// Checks a name (trailing dot already removed): non-empty dot-separated labels of letters,
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

/// Splits the authority into the host text and the port, checking brackets, `%` and the port.
fn split_authority(authority: &[u8]) -> Result<(&[u8], Option<u16>), UrlError> {
    let (host, port) = if authority.first() == Some(&b'[') {
        let close = authority.iter().position(|&b| b == b']').ok_or(UrlError::BadIpv6)?;
        let (host, after) = authority.split_at_checked(close + 1).ok_or(UrlError::BadIpv6)?;
        if host.contains(&b'%') {
            return Err(UrlError::Ipv6Zone);
        }
        match after {
            [] => (host, None),
            [b':', digits @ ..] => (host, Some(digits)),
            _ => return Err(UrlError::BadIpv6),
        }
    } else {
        if authority.iter().any(|&b| b == b'[' || b == b']') {
            return Err(UrlError::BadIpv6);
        }
        split_at_first(authority, |b| b == b':')
    };
    if authority.contains(&b'%') {
        return Err(UrlError::PercentInHost);
    }
    Ok((host, port.map(parse_port).transpose()?))
}

/// Parses an absolute hierarchical URL `scheme://host[:port][/path][?query][#fragment]`.
///
/// See the module documentation for exactly what is accepted and rejected. Byte-level errors
/// (whitespace, control, non-ASCII, backslash) are checked first over the whole input and the
/// first offending byte decides; then scheme, `//`, and within the authority: userinfo,
/// brackets (`url.bad_ipv6`), a zone id, `%`, port, host. The host of a returned URL is always
/// accepted by [`classify_host`].
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
    // Userinfo is checked before anything else in the authority because it changes what the
    // host is (`user:pass@host`), and a port or bracket error would hide the real reason.
    if authority.contains(&b'@') {
        return Err(UrlError::Userinfo);
    }
    let (host, port) = split_authority(authority)?;
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    // One trailing dot is the fully-qualified spelling of the same name; a second one (or any
    // other empty label) is caught by check_host. IPv6 literals end in `]`.
    let host = host.strip_suffix(b".").unwrap_or(host);
    classify_exact(host)?;

    let (before_fragment, _fragment) = split_at_first(tail, |b| b == b'#');
    let (path, query) = split_at_first(before_fragment, |b| b == b'?');
    Ok(Url { scheme, host, port, path, query })
}

/// Reads a host as the WHATWG URL standard's host parser does for ASCII input: an IPv6
/// literal in brackets, an IPv4 address if the last label is a number, else a name.
///
/// One trailing `.` is ignored (hosts from [`parse`] have none). Errors: `url.bad_ipv6`,
/// `url.ipv6_zone`, `url.bad_ipv4`, and for names `url.empty_host`, `url.empty_label` and
/// `url.host_char` (this module's stricter name syntax, see the module documentation).
pub fn classify_host(host: &[u8]) -> Result<Host, UrlError> {
    match host.strip_prefix(b"[") {
        Some(_) => classify_exact(host),
        None => classify_exact(host.strip_suffix(b".").unwrap_or(host)),
    }
}

/// [`classify_host`] without the trailing-dot allowance.
fn classify_exact(host: &[u8]) -> Result<Host, UrlError> {
    if let Some(inner) = host.strip_prefix(b"[") {
        let inner = inner.strip_suffix(b"]").ok_or(UrlError::BadIpv6)?;
        if inner.contains(&b'%') {
            return Err(UrlError::Ipv6Zone);
        }
        return parse_ipv6(inner).map(Host::V6).ok_or(UrlError::BadIpv6);
    }
    check_host(host)?;
    if ends_in_number(host) {
        return parse_ipv4(host).map(Host::V4).ok_or(UrlError::BadIpv4);
    }
    Ok(Host::Name)
}

/// WHATWG "ends in a number": the last label is all decimal digits, or parses as an IPv4
/// number (so `0x`, `0x7f` and `0` count, `0x7g` does not).
fn ends_in_number(name: &[u8]) -> bool {
    let last = name.rsplit(|&b| b == b'.').next().unwrap_or_default();
    (!last.is_empty() && last.iter().all(u8::is_ascii_digit)) || ipv4_number(last).is_some()
}

/// WHATWG "IPv4 number parser": `0x`/`0X` hex, a leading `0` octal, else decimal; `0x` alone
/// is 0. Values too large for `u64` saturate, which every caller then rejects as too large.
fn ipv4_number(part: &[u8]) -> Option<u64> {
    let (digits, radix) = match part {
        [] => return None,
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', rest @ ..] if !rest.is_empty() => (rest, 8),
        _ => (part, 10),
    };
    let mut value: u64 = 0;
    for &d in digits {
        let digit = char::from(d).to_digit(radix)?;
        value = value.saturating_mul(u64::from(radix)).saturating_add(u64::from(digit));
    }
    Some(value)
}

/// WHATWG "IPv4 parser" on a name without trailing dot: one to four numbers; every number but
/// the last is at most 255, and the last fills the remaining bytes.
fn parse_ipv4(name: &[u8]) -> Option<u32> {
    let mut numbers = [0u64; 4];
    let mut count = 0usize;
    for part in name.split(|&b| b == b'.') {
        *numbers.get_mut(count)? = ipv4_number(part)?;
        count += 1;
    }
    let (&last, init) = numbers.get(..count)?.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    // count is 1 to 4 here, so the shift is 32, 24, 16 or 8.
    let limit = 1u64 << (8 * (5 - count));
    if last >= limit {
        return None;
    }
    let mut value = last;
    for (i, &n) in init.iter().enumerate() {
        // i is at most 2 and n at most 255: no overflow, and the sum stays below 2^32.
        value += n << (8 * (3 - i));
    }
    u32::try_from(value).ok()
}

/// WHATWG "IPv6 parser" (the text between the brackets). It accepts exactly the RFC 4291 text
/// forms: up to eight groups of one to four hex digits, one `::`, and a dotted IPv4 address
/// (decimal, no leading zeros) in place of the last two groups.
fn parse_ipv6(input: &[u8]) -> Option<[u8; 16]> {
    let at = |i: usize| input.get(i).copied();
    let mut pieces = [0u16; 8];
    let mut index = 0usize;
    let mut compress: Option<usize> = None;
    let mut p = 0usize;
    if at(p) == Some(b':') {
        if at(p + 1) != Some(b':') {
            return None;
        }
        p += 2;
        index += 1;
        compress = Some(index);
    }
    // Every round consumes at least one byte or returns, and `index` is checked against 8.
    while at(p).is_some() {
        if index == 8 {
            return None;
        }
        if at(p) == Some(b':') {
            if compress.is_some() {
                return None;
            }
            p += 1;
            index += 1;
            compress = Some(index);
            continue;
        }
        let mut value = 0u16;
        let mut length = 0usize;
        while length < 4 {
            let Some(digit) = at(p).and_then(|b| char::from(b).to_digit(16)) else {
                break;
            };
            // At most four hex digits: at most 0xffff.
            value = value * 16 + u16::try_from(digit).ok()?;
            p += 1;
            length += 1;
        }
        match at(p) {
            Some(b'.') => {
                if length == 0 || index > 6 {
                    return None;
                }
                p = p.checked_sub(length)?;
                let mut seen = 0usize;
                while at(p).is_some() {
                    if seen > 0 {
                        if at(p) == Some(b'.') && seen < 4 {
                            p += 1;
                        } else {
                            return None;
                        }
                    }
                    let mut octet: Option<u16> = None;
                    while let Some(d) = at(p).filter(u8::is_ascii_digit) {
                        let n = u16::from(d - b'0');
                        octet = match octet {
                            None => Some(n),
                            Some(0) => return None,
                            // At most 255 * 10 + 9: no overflow.
                            Some(v) => Some(v * 10 + n),
                        };
                        if octet > Some(255) {
                            return None;
                        }
                        p += 1;
                    }
                    let slot = pieces.get_mut(index)?;
                    // The slot is 0 or one octet: at most 255 * 256 + 255.
                    *slot = *slot * 0x100 + octet?;
                    seen += 1;
                    if seen == 2 || seen == 4 {
                        index += 1;
                    }
                }
                if seen != 4 {
                    return None;
                }
                break;
            }
            Some(b':') => {
                p += 1;
                at(p)?;
            }
            Some(_) => return None,
            None => {}
        }
        *pieces.get_mut(index)? = value;
        index += 1;
    }
    match compress {
        Some(start) => {
            // Move the groups after `::` to the end.
            let mut swaps = index.checked_sub(start)?;
            let mut to = 7usize;
            while to != 0 && swaps > 0 {
                let from = (start + swaps).checked_sub(1)?;
                let (a, b) = (*pieces.get(to)?, *pieces.get(from)?);
                *pieces.get_mut(to)? = b;
                *pieces.get_mut(from)? = a;
                to -= 1;
                swaps -= 1;
            }
        }
        None if index != 8 => return None,
        None => {}
    }
    let mut bytes = [0u8; 16];
    for (pair, piece) in bytes.chunks_exact_mut(2).zip(pieces) {
        pair.copy_from_slice(&piece.to_be_bytes());
    }
    Some(bytes)
}

/// Whether `host` is internal, and how; `None` for public addresses and ordinary names.
///
/// `name` is the host text (as [`parse`] returns it in [`Url::host`]); it is only read for
/// [`Host::Name`]. See the module documentation for the ranges, the embedded IPv4 addresses
/// that are decoded, and the names. A name that is not local can still resolve to an internal
/// address: see "What this does NOT protect against".
pub fn ssrf_class(host: &Host, name: &[u8]) -> Option<SsrfClass> {
    match *host {
        Host::Name => local_name(name).then_some(SsrfClass::LocalName),
        Host::V4(address) => ipv4_class(address),
        Host::V6(bytes) => ipv6_class(bytes),
    }
}

fn ipv4_class(address: u32) -> Option<SsrfClass> {
    use SsrfClass::*;
    let [a, b, c, _] = address.to_be_bytes();
    match (a, b, c) {
        (0, ..) => Some(Unspecified),
        (10, ..) => Some(Private),
        (100, 64..=127, _) => Some(Cgnat),
        (127, ..) => Some(Loopback),
        (169, 254, _) => Some(LinkLocal),
        (172, 16..=31, _) => Some(Private),
        (192, 0, 0 | 2) | (192, 88, 99) => Some(Reserved),
        (192, 168, _) => Some(Private),
        (198, 18..=19, _) | (198, 51, 100) | (203, 0, 113) => Some(Reserved),
        (224..=239, ..) => Some(Multicast),
        _ if address == u32::MAX => Some(Broadcast),
        (240..=255, ..) => Some(Reserved),
        _ => None,
    }
}

fn ipv6_class(bytes: [u8; 16]) -> Option<SsrfClass> {
    use SsrfClass::*;
    let u = u128::from_be_bytes(bytes);
    // Truncation intended: the low 32 bits.
    let low32 = (u & 0xffff_ffff) as u32;
    let top = |bits: u32| u >> (128 - bits);
    match u {
        0 => return Some(Unspecified),
        1 => return Some(Loopback),
        _ => {}
    }
    // IPv4-compatible ::/96, IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96 and
    // NAT64 64:ff9b::/96 carry the IPv4 address in the low 32 bits.
    if matches!(top(96), 0 | 0xffff | 0xffff_0000 | 0x0064_ff9b_0000_0000_0000_0000) {
        return ipv4_class(low32);
    }
    if top(16) == 0x2002 {
        // 6to4: the IPv4 address is in bits 16 to 47.
        return ipv4_class(((u >> 80) & 0xffff_ffff) as u32);
    }
    if top(32) == 0x2001_0000 {
        // Teredo: the client's address inverted in the low 32 bits, the server's in bits 32
        // to 63 (counted from the top).
        return ipv4_class(!low32).or_else(|| ipv4_class(((u >> 64) & 0xffff_ffff) as u32));
    }
    let reserved = top(32) == 0x2001_0db8
        || top(20) == 0x3fff0
        || top(48) == 0x2001_0002_0000
        || top(64) == 0x0100_0000_0000_0000
        || top(48) == 0x0064_ff9b_0001;
    match bytes {
        _ if reserved => Some(Reserved),
        [0xfc | 0xfd, ..] => Some(Private),
        [0xfe, 0x80..=0xbf, ..] => Some(LinkLocal),
        [0xfe, 0xc0..=0xff, ..] => Some(Private),
        [0xff, ..] => Some(Multicast),
        [0x20..=0x3f, ..] => None,
        _ => Some(Reserved),
    }
}

/// Top-level names under which every name is local; see the module documentation.
const LOCAL_SUFFIXES: &[&[u8]] = &[
    b"localhost",
    b"local",
    b"internal",
    b"localdomain",
    b"home.arpa",
    b"lan",
    b"home",
    b"corp",
    b"intranet",
    b"private",
];

/// Names that are local as a whole.
const LOCAL_NAMES: &[&[u8]] =
    &[b"localhost6", b"localhost6.localdomain6", b"ip6-localhost", b"ip6-loopback"];

fn local_name(name: &[u8]) -> bool {
    let name = name.strip_suffix(b".").unwrap_or(name);
    if !name.contains(&b'.') {
        // A single label, including `localhost`: resolved through the search domains.
        return true;
    }
    if LOCAL_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)) {
        return true;
    }
    LOCAL_SUFFIXES.iter().any(|suffix| {
        name.eq_ignore_ascii_case(suffix)
            || name.len().checked_sub(suffix.len()).is_some_and(|cut| {
                cut > 0
                    && name.get(cut - 1) == Some(&b'.')
                    && name.get(cut..).is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
            })
    })
}

/// True if `host` matches `pattern`, ignoring ASCII case.
///
/// - `api.github.com` matches exactly that host; `[::1]` exactly that IPv6 text (`[0::1]` is
///   different text and does not match: address entries must be written as the URL writes
///   them, and a mismatch only ever denies).
/// - `*.example.com` matches any name ending in `.example.com` with at least one more label
///   (`a.example.com`, `a.b.example.com`), not `example.com` itself and not `badexample.com`.
///
/// Fails closed (returns false) if the host is not a valid host as [`parse`] returns it (so
/// pass it without trailing dot), if the pattern is not a valid host or `*.` followed by a
/// valid name (a `*` anywhere else, a bare `*` and a trailing dot never match), or if a
/// wildcard would match a host that is an address: `*.0.0.1` must not admit `127.0.0.1`.
pub fn host_matches(host: &[u8], pattern: &[u8]) -> bool {
    if host.last() == Some(&b'.') || pattern.last() == Some(&b'.') {
        return false;
    }
    let Ok(kind) = classify_host(host) else {
        return false;
    };
    match pattern.strip_prefix(b"*") {
        None => classify_host(pattern).is_ok() && host.eq_ignore_ascii_case(pattern),
        Some(dot_suffix) => {
            let Some(suffix) = dot_suffix.strip_prefix(b".") else {
                return false;
            };
            if check_host(suffix).is_err() || kind != Host::Name {
                return false;
            }
            // host = <one or more labels> "." suffix. The part before must be non-empty (the
            // `cut > 0` guard is redundant with check_host, which never lets a name start with
            // '.', but this function should not depend on that), and because `host` is a valid
            // name it then consists of whole non-empty labels.
            match host.len().checked_sub(dot_suffix.len()) {
                Some(cut) if cut > 0 => {
                    host.get(cut..).is_some_and(|tail| tail.eq_ignore_ascii_case(dot_suffix))
                }
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
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
            (b"http://127.0.0.1./", (b"http", b"127.0.0.1", None, b"/", None)),
            (b"http://localhost:1", (b"http", b"localhost", Some(1), b"", None)),
            (b"http://localhost:65535/", (b"http", b"localhost", Some(65535), b"/", None)),
            (
                b"git+ssh://xn--bcher-kva.example/%2e%2e/",
                (b"git+ssh", b"xn--bcher-kva.example", None, b"/%2e%2e/", None),
            ),
            (b"ws://my_host-1.a", (b"ws", b"my_host-1.a", None, b"", None)),
            (b"a.b-c+d://h", (b"a.b-c+d", b"h", None, b"", None)),
            (b"http://[::1]/", (b"http", b"[::1]", None, b"/", None)),
            (b"http://[::1]:8080", (b"http", b"[::1]", Some(8080), b"", None)),
            (b"http://[2001:DB8::1]?q", (b"http", b"[2001:DB8::1]", None, b"", Some(b"q"))),
            (b"http://[::ffff:127.0.0.1]/x", (b"http", b"[::ffff:127.0.0.1]", None, b"/x", None)),
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
            (b"https://[::1]@evil.com/", Userinfo),
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
            (b"http://127.0.0.1../", EmptyLabel),
            // IPv6.
            (b"https://[fe80::1%25eth0]/", Ipv6Zone),
            (b"https://[fe80::1%eth0]/", Ipv6Zone),
            (b"https://[::1%]:80/", Ipv6Zone),
            (b"https://a]b/", BadIpv6),
            (b"https://a[::1]/", BadIpv6),
            (b"https://[::1/", BadIpv6),
            (b"https://[::1]x/", BadIpv6),
            (b"https://[::1].com/", BadIpv6),
            (b"https://[::1]]/", BadIpv6),
            (b"https://[]/", BadIpv6),
            (b"https://[:]/", BadIpv6),
            (b"https://[:::]/", BadIpv6),
            (b"https://[::1::]/", BadIpv6),
            (b"https://[1:2:3:4:5:6:7:8:9]/", BadIpv6),
            (b"https://[1:2:3:4:5:6:7]/", BadIpv6),
            (b"https://[12345::]/", BadIpv6),
            (b"https://[g::]/", BadIpv6),
            (b"https://[::1.2.3]/", BadIpv6),
            (b"https://[::1.2.3.4.5]/", BadIpv6),
            (b"https://[::01.2.3.4]/", BadIpv6),
            (b"https://[::1.2.3.256]/", BadIpv6),
            (b"https://[1:2:3:4:5:6:7:1.2.3.4]/", BadIpv6),
            (b"https://[127.0.0.1]/", BadIpv6),
            (b"https://[::1]:/", Port),
            (b"https://[::1]:0/", Port),
            // IPv4 that WHATWG rejects.
            (b"http://1.2.3.256/", BadIpv4),
            (b"http://256.1.1.1/", BadIpv4),
            (b"http://1.2.3.4.5/", BadIpv4),
            (b"http://example.123/", BadIpv4),
            (b"http://example.0x1/", BadIpv4),
            (b"http://09/", BadIpv4),
            (b"http://0x1.0x100.1/", BadIpv4),
            (b"http://4294967296/", BadIpv4),
            (b"http://0x100000000/", BadIpv4),
            (b"http://1.16777216/", BadIpv4),
            (b"http://1.1.65536/", BadIpv4),
            (b"http://99999999999999999999999999/", BadIpv4),
            (b"http://1.2.3.08/", BadIpv4),
            (b"https://%65vil.com/", PercentInHost),
            (b"https://a.com:%38%30/", PercentInHost),
            (b"https://[::1]:%38%30/", PercentInHost),
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
        assert_eq!(port(b"http://[::1]:443"), Some(443));
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
            (b"a.example.com.", b"a.example.com", false),
            (b"a.example.com", b"", false),
            (b"", b"", false),
            (b"", b"*.example.com", false),
            (b".example.com", b"*.example.com", false),
            (b"a..example.com", b"*.example.com", false),
            (b"a/.example.com", b"*.example.com", false),
            (b"a@b.example.com", b"*.example.com", false),
            (b"127.0.0.1", b"*.0.0.1", false),
            (b"127.0.0.1", b"127.0.0.1", true),
            (b"127.1", b"127.0.0.1", false),
            (b"10.0.0.0x1", b"*.0.0x1", false),
            (b"1.2.3.256", b"1.2.3.256", false),
            (b"[::1]", b"[::1]", true),
            (b"[2001:DB8::1]", b"[2001:db8::1]", true),
            (b"[::1]", b"[0::1]", false),
            (b"[::1]", b"*.1]", false),
            (b"[::1]", b"*.1", false),
            (b"[::1%25eth0]", b"[::1%25eth0]", false),
            (b"[::g]", b"[::g]", false),
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

    fn v6(text: &str) -> Host {
        Host::V6(text.parse::<core::net::Ipv6Addr>().unwrap().octets())
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> Host {
        Host::V4(u32::from_be_bytes([a, b, c, d]))
    }

    #[test]
    fn classify_host_table() {
        use UrlError::*;
        let cases: &[(&str, Result<Host, UrlError>)] = &[
            ("127.0.0.1", Ok(v4(127, 0, 0, 1))),
            ("127.1", Ok(v4(127, 0, 0, 1))),
            ("127.0.1", Ok(v4(127, 0, 0, 1))),
            ("2130706433", Ok(v4(127, 0, 0, 1))),
            ("0x7f000001", Ok(v4(127, 0, 0, 1))),
            ("0X7F000001", Ok(v4(127, 0, 0, 1))),
            ("0x7f.1", Ok(v4(127, 0, 0, 1))),
            ("0x7f.0.0.1", Ok(v4(127, 0, 0, 1))),
            ("017700000001", Ok(v4(127, 0, 0, 1))),
            ("0177.0.0.1", Ok(v4(127, 0, 0, 1))),
            ("0177.0.0.01", Ok(v4(127, 0, 0, 1))),
            ("000000000000000000000177.1", Ok(v4(127, 0, 0, 1))),
            ("0x000000000000000000007f.1", Ok(v4(127, 0, 0, 1))),
            ("127.0.0.1.", Ok(v4(127, 0, 0, 1))),
            ("0", Ok(v4(0, 0, 0, 0))),
            ("0x", Ok(v4(0, 0, 0, 0))),
            ("0x.0x.0x.0x", Ok(v4(0, 0, 0, 0))),
            ("1.0x", Ok(v4(1, 0, 0, 0))),
            ("4294967295", Ok(v4(255, 255, 255, 255))),
            ("169.254.169.254", Ok(v4(169, 254, 169, 254))),
            ("169.16689662", Ok(v4(169, 254, 169, 254))),
            ("0xa9fea9fe", Ok(v4(169, 254, 169, 254))),
            ("8.8.8.8", Ok(v4(8, 8, 8, 8))),
            ("[::1]", Ok(v6("::1"))),
            ("[::]", Ok(v6("::"))),
            ("[0:0:0:0:0:0:0:1]", Ok(v6("::1"))),
            ("[0000:0000:0000:0000:0000:0000:0000:0001]", Ok(v6("::1"))),
            ("[::ffff:127.0.0.1]", Ok(v6("::ffff:7f00:1"))),
            ("[::FFFF:7F00:1]", Ok(v6("::ffff:7f00:1"))),
            ("[::127.0.0.1]", Ok(v6("::7f00:1"))),
            ("[1:2:3:4:5:6:7:8]", Ok(v6("1:2:3:4:5:6:7:8"))),
            ("[1::]", Ok(v6("1::"))),
            ("[1::8]", Ok(v6("1::8"))),
            ("[1:2:3:4:5:6::8]", Ok(v6("1:2:3:4:5:6:0:8"))),
            ("[1:2:3:4:5:6:1.2.3.4]", Ok(v6("1:2:3:4:5:6:102:304"))),
            ("[fe80::1]", Ok(v6("fe80::1"))),
            ("[2001:db8::]", Ok(v6("2001:db8::"))),
            ("localhost", Ok(Host::Name)),
            ("localhost.", Ok(Host::Name)),
            ("api.github.com", Ok(Host::Name)),
            ("127.0.0.1.nip.io", Ok(Host::Name)),
            ("0x7g", Ok(Host::Name)),
            ("0xx1", Ok(Host::Name)),
            ("1.2.3.4x", Ok(Host::Name)),
            ("7f.0.0.ff", Ok(Host::Name)),
            ("1.2.3.0xg", Ok(Host::Name)),
            ("x0", Ok(Host::Name)),
            ("xn--bcher-kva.example", Ok(Host::Name)),
            ("example.123", Err(BadIpv4)),
            ("1.2.3.4.5", Err(BadIpv4)),
            ("256.0.0.1", Err(BadIpv4)),
            ("09", Err(BadIpv4)),
            ("0x100000000", Err(BadIpv4)),
            ("[fe80::1%25eth0]", Err(Ipv6Zone)),
            ("[::1", Err(BadIpv6)),
            ("[::1]x", Err(BadIpv6)),
            ("[1::2::3]", Err(BadIpv6)),
            ("", Err(EmptyHost)),
            (".", Err(EmptyHost)),
            ("a..b", Err(EmptyLabel)),
            ("a b", Err(HostChar)),
            ("a:80", Err(HostChar)),
            ("::1", Err(HostChar)),
        ];
        for (host, want) in cases {
            assert_eq!(classify_host(host.as_bytes()), *want, "host {host:?}");
        }
    }

    /// The class of a URL's host, through the same steps the evaluator takes.
    fn class_of(url: &str) -> Result<Option<SsrfClass>, UrlError> {
        let u = parse(url.as_bytes())?;
        let host = classify_host(u.host)?;
        Ok(ssrf_class(&host, u.host))
    }

    #[test]
    fn ssrf_table() {
        use SsrfClass::*;
        let cases: &[(&str, Result<Option<SsrfClass>, UrlError>)] = &[
            // The spellings of 127.0.0.1 and friends.
            ("http://2130706433/", Ok(Some(Loopback))),
            ("http://0x7f.1/", Ok(Some(Loopback))),
            ("http://017700000001/", Ok(Some(Loopback))),
            ("http://127.1/", Ok(Some(Loopback))),
            ("http://127.0.0.1./", Ok(Some(Loopback))),
            ("http://0x7f.0.0.1/", Ok(Some(Loopback))),
            ("http://127.255.255.254:8080/", Ok(Some(Loopback))),
            ("http://[::1]/", Ok(Some(Loopback))),
            ("http://[0:0:0:0:0:0:0:1]/", Ok(Some(Loopback))),
            ("http://[::ffff:127.0.0.1]/", Ok(Some(Loopback))),
            ("http://[::ffff:7f00:1]/", Ok(Some(Loopback))),
            ("http://[::127.0.0.1]/", Ok(Some(Loopback))),
            ("http://[::ffff:0:127.0.0.1]/", Ok(Some(Loopback))),
            ("http://[64:ff9b::127.0.0.1]/", Ok(Some(Loopback))),
            ("http://[2002:7f00:1::]/", Ok(Some(Loopback))),
            // Teredo: client 127.0.0.1 inverted is 80ff:fffe; server 8.8.8.8.
            ("http://[2001:0:808:808::80ff:fffe]/", Ok(Some(Loopback))),
            // Teredo: public client 8.8.8.8 (f7f7:f7f7), server 10.0.0.1.
            ("http://[2001:0:a00:1::f7f7:f7f7]/", Ok(Some(Private))),
            ("http://[2001:0:808:808::f7f7:f7f7]/", Ok(None)),
            ("http://LOCALHOST./", Ok(Some(LocalName))),
            ("http://localhost/", Ok(Some(LocalName))),
            ("http://a.b.LocalHost/", Ok(Some(LocalName))),
            ("http://localhost.localdomain/", Ok(Some(LocalName))),
            ("http://ip6-localhost/", Ok(Some(LocalName))),
            ("http://ip6-loopback/", Ok(Some(LocalName))),
            ("http://localhost6.localdomain6/", Ok(Some(LocalName))),
            ("http://metadata.google.internal/", Ok(Some(LocalName))),
            ("http://printer.local/", Ok(Some(LocalName))),
            ("http://router.home.arpa/", Ok(Some(LocalName))),
            ("http://jenkins.corp/", Ok(Some(LocalName))),
            ("http://intranet/", Ok(Some(LocalName))),
            ("http://metadata/", Ok(Some(LocalName))),
            ("http://localhost.com/", Ok(None)),
            ("http://notlocalhost.com/", Ok(None)),
            ("http://mylocal/", Ok(Some(LocalName))),
            ("http://api.github.com/", Ok(None)),
            ("http://internal.example.com/", Ok(None)),
            ("http://127.0.0.1.nip.io/", Ok(None)),
            // Private and link-local.
            ("http://10.0.0.1/", Ok(Some(Private))),
            ("http://10.1/", Ok(Some(Private))),
            ("http://167772161/", Ok(Some(Private))),
            ("http://172.16.0.1/", Ok(Some(Private))),
            ("http://172.31.255.255/", Ok(Some(Private))),
            ("http://172.15.255.255/", Ok(None)),
            ("http://172.32.0.0/", Ok(None)),
            ("http://192.168.1.1/", Ok(Some(Private))),
            ("http://0xc0a80101/", Ok(Some(Private))),
            ("http://[fc00::1]/", Ok(Some(Private))),
            ("http://[fd12:3456::1]/", Ok(Some(Private))),
            ("http://[fec0::1]/", Ok(Some(Private))),
            ("http://[::ffff:10.0.0.1]/", Ok(Some(Private))),
            ("http://169.254.169.254/latest/meta-data", Ok(Some(LinkLocal))),
            ("http://169.254.43518/", Ok(Some(LinkLocal))),
            ("http://[fe80::1]/", Ok(Some(LinkLocal))),
            ("http://[febf::1]/", Ok(Some(LinkLocal))),
            ("http://[::ffff:169.254.169.254]/", Ok(Some(LinkLocal))),
            ("http://[fe80::1%25eth0]/", Err(UrlError::Ipv6Zone)),
            // The rest of the IPv4 table.
            ("http://100.64.0.1/", Ok(Some(Cgnat))),
            ("http://100.127.255.255/", Ok(Some(Cgnat))),
            ("http://100.63.255.255/", Ok(None)),
            ("http://100.128.0.0/", Ok(None)),
            ("http://224.0.0.1/", Ok(Some(Multicast))),
            ("http://239.255.255.255/", Ok(Some(Multicast))),
            ("http://[ff02::1]/", Ok(Some(Multicast))),
            ("http://0/", Ok(Some(Unspecified))),
            ("http://0.0.0.0/", Ok(Some(Unspecified))),
            ("http://0.1.2.3/", Ok(Some(Unspecified))),
            ("http://[::]/", Ok(Some(Unspecified))),
            ("http://[::ffff:0.0.0.0]/", Ok(Some(Unspecified))),
            ("http://255.255.255.255/", Ok(Some(Broadcast))),
            ("http://4294967295/", Ok(Some(Broadcast))),
            ("http://240.0.0.1/", Ok(Some(Reserved))),
            ("http://255.255.255.254/", Ok(Some(Reserved))),
            ("http://192.0.0.8/", Ok(Some(Reserved))),
            ("http://192.0.2.1/", Ok(Some(Reserved))),
            ("http://192.88.99.1/", Ok(Some(Reserved))),
            ("http://198.18.0.1/", Ok(Some(Reserved))),
            ("http://198.19.255.255/", Ok(Some(Reserved))),
            ("http://198.20.0.0/", Ok(None)),
            ("http://198.51.100.7/", Ok(Some(Reserved))),
            ("http://203.0.113.9/", Ok(Some(Reserved))),
            ("http://192.0.1.1/", Ok(None)),
            ("http://192.169.0.1/", Ok(None)),
            ("http://8.8.8.8/", Ok(None)),
            ("http://1.1/", Ok(None)),
            ("http://223.255.255.255/", Ok(None)),
            // The rest of the IPv6 table.
            ("http://[2001:db8::1]/", Ok(Some(Reserved))),
            ("http://[3fff::1]/", Ok(Some(Reserved))),
            ("http://[3fff:fff::1]/", Ok(Some(Reserved))),
            ("http://[3fff:1000::1]/", Ok(None)),
            ("http://[2001:2::1]/", Ok(Some(Reserved))),
            ("http://[100::1]/", Ok(Some(Reserved))),
            ("http://[64:ff9b:1::1]/", Ok(Some(Reserved))),
            ("http://[1::]/", Ok(Some(Reserved))),
            ("http://[4000::1]/", Ok(Some(Reserved))),
            ("http://[::1:0:0:0]/", Ok(Some(Reserved))),
            ("http://[2606:4700::1111]/", Ok(None)),
            ("http://[2001:4860:4860::8888]/", Ok(None)),
            ("http://[::ffff:8.8.8.8]/", Ok(None)),
            ("http://[64:ff9b::8.8.8.8]/", Ok(None)),
            ("http://[2002:808:808::1]/", Ok(None)),
            ("http://[2002:a00:1::1]/", Ok(Some(Private))),
        ];
        for (url, want) in cases {
            assert_eq!(class_of(url), *want, "url {url:?}");
        }
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
            BadIpv6,
            Ipv6Zone,
            BadIpv4,
            PercentInHost,
            EmptyHost,
            EmptyLabel,
            HostChar,
            Port,
        ];
        let mut codes: Vec<&str> = all.iter().map(|e| e.code()).collect();
        assert!(codes.iter().all(|c| c.starts_with("url.")));
        for code in
            ["url.userinfo", "url.non_ascii", "url.bad_ipv4", "url.bad_ipv6", "url.ipv6_zone"]
        {
            assert!(codes.contains(&code), "{code}");
        }
        for e in all {
            let msg = std::format!("{e}");
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase());
        }
        use SsrfClass::*;
        let classes = [
            (Loopback, "url.ssrf_loopback"),
            (Private, "url.ssrf_private"),
            (LinkLocal, "url.ssrf_link_local"),
            (Cgnat, "url.ssrf_cgnat"),
            (Multicast, "url.ssrf_multicast"),
            (Unspecified, "url.ssrf_unspecified"),
            (Broadcast, "url.ssrf_broadcast"),
            (Reserved, "url.ssrf_reserved"),
            (LocalName, "url.ssrf_local_name"),
        ];
        for (class, code) in classes {
            assert_eq!(class.code(), code);
            codes.push(class.code());
            let msg = std::format!("{class}");
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase());
        }
        let count = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count, "codes are distinct");
    }

    // -----------------------------------------------------------------------------------------
    // Differential tests against the `url` crate, which implements the WHATWG URL standard.
    // -----------------------------------------------------------------------------------------

    /// Checks that if we accept `input`, the `url` crate reads the same host. (Where the `url`
    /// crate rejects, we must therefore reject too.)
    fn agrees_with_whatwg(input: &str) -> Result<(), String> {
        let Ok(ours) = parse(input.as_bytes()) else { return Ok(()) };
        let kind = classify_host(ours.host).map_err(|e| std::format!("parse ok, classify {e}"))?;
        let theirs = ::url::Url::parse(input).map_err(|e| std::format!("url crate: {e}"))?;
        let same = match (kind, theirs.host()) {
            (Host::V4(a), Some(::url::Host::Ipv4(b))) => a == u32::from(b),
            (Host::V6(a), Some(::url::Host::Ipv6(b))) => a == b.octets(),
            (Host::Name, Some(::url::Host::Domain(d))) => {
                let ours = core::str::from_utf8(ours.host).unwrap().to_ascii_lowercase();
                d.strip_suffix('.').unwrap_or(d) == ours
            }
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(std::format!("ours {kind:?} {:?}, url crate {:?}", ours, theirs.host()))
        }
    }

    const REQUIRED: &[&str] = &[
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1%25eth0]/",
        "http://LOCALHOST./",
        "http://100.64.0.1/",
        "http://0/",
        "http://127.0.0.1./",
        "http://0x7f.0.0.1/",
        "http://0X7F000001/",
        "http://0177.0.0.01/",
        "http://0x.0x.0x.0x/",
        "http://1.0x/",
        "http://4294967295/",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::127.0.0.1]/",
        "http://[1:2:3:4:5:6:1.2.3.4]/",
        "http://[2001:DB8::1]/",
        "http://example.123/",
        "http://1.2.3.256/",
        "http://09/",
        "http://xn--bcher-kva.example/",
        "http://my_host-1.a/",
        "http://1.2.3.0xg/",
    ];

    #[test]
    fn required_spellings_agree_with_whatwg() {
        for input in REQUIRED {
            assert_eq!(agrees_with_whatwg(input), Ok(()), "{input}");
        }
        // And where the url crate rejects, so do we.
        for input in ["http://[fe80::1%25eth0]/", "http://example.123/", "http://1.2.3.256/"] {
            assert!(::url::Url::parse(input).is_err(), "{input}");
            assert!(class_of(input).is_err(), "{input}");
        }
    }

    /// An IPv4 address spelled in 1 to 4 parts, each in decimal, hex or octal.
    fn ipv4_spelling() -> impl Strategy<Value = String> {
        let interesting = prop_oneof![
            Just(0x7f00_0001u32),
            Just(0),
            Just(u32::MAX),
            Just(0xa9fe_a9fe),
            Just(0x0a00_0001),
            any::<u32>(),
        ];
        let radix = proptest::sample::select(&["d", "x", "X", "o", "xU"]);
        (interesting, 1usize..=4, proptest::collection::vec(radix, 4), any::<bool>()).prop_map(
            |(address, parts, radixes, dot)| {
                let bytes = address.to_be_bytes();
                let mut values: Vec<u64> =
                    bytes[..parts - 1].iter().map(|&b| u64::from(b)).collect();
                let rest = bytes[parts - 1..].iter().fold(0u64, |v, &b| v << 8 | u64::from(b));
                values.push(rest);
                let text: Vec<String> = values
                    .iter()
                    .zip(&radixes)
                    .map(|(v, r)| match *r {
                        "x" => std::format!("0x{v:x}"),
                        "X" => std::format!("0X{v:X}"),
                        "xU" => std::format!("0x{v:X}"),
                        "o" => std::format!("0{v:o}"),
                        _ => v.to_string(),
                    })
                    .collect();
                let mut s = text.join(".");
                if dot {
                    s.push('.');
                }
                s
            },
        )
    }

    /// Numeric-looking hosts, mostly invalid.
    fn ipv4_junk() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            "[0-9]{1,3}",
            "0[0-9]{1,4}",
            "0[xX][0-9a-fA-F]{0,9}",
            "[0-9]{4,12}",
            "[0-9a-gx]{1,4}",
        ];
        proptest::collection::vec(part, 1..6).prop_map(|ps| ps.join("."))
    }

    /// An IPv6 address in one of the RFC 4291 text forms, in brackets.
    fn ipv6_spelling() -> impl Strategy<Value = String> {
        let interesting = prop_oneof![
            Just([0u8; 16]),
            Just(core::net::Ipv6Addr::LOCALHOST.octets()),
            any::<[u8; 4]>()
                .prop_map(|v| { core::net::Ipv4Addr::from(v).to_ipv6_mapped().octets() }),
            any::<[u8; 16]>(),
            (any::<[u8; 2]>(), 0usize..8).prop_map(|(v, at)| {
                let mut b = [0u8; 16];
                b[2 * at..2 * at + 2].copy_from_slice(&v);
                b
            }),
        ];
        (interesting, 0u8..5, any::<bool>(), any::<bool>()).prop_map(
            |(bytes, form, upper, leading)| {
                let addr = core::net::Ipv6Addr::from(bytes);
                let groups = addr.segments();
                let full =
                    |gs: &[u16]| -> Vec<String> {
                        gs.iter()
                            .map(|g| {
                                if leading {
                                    std::format!("{g:04x}")
                                } else {
                                    std::format!("{g:x}")
                                }
                            })
                            .collect()
                    };
                let text = match form {
                    // std's canonical form (compressed, maybe with a dotted tail).
                    0 => addr.to_string(),
                    // All eight groups.
                    1 => full(&groups).join(":"),
                    // Six groups and a dotted IPv4 tail.
                    2 => {
                        let [.., a, b, c, d] = bytes;
                        std::format!("{}:{a}.{b}.{c}.{d}", full(&groups[..6]).join(":"))
                    }
                    // `::` replacing the first run of zero groups, however short.
                    _ => match groups.iter().position(|&g| g == 0) {
                        Some(start) => {
                            let end = groups[start..]
                                .iter()
                                .position(|&g| g != 0)
                                .map_or(8, |n| start + n);
                            let end = if form == 3 { end } else { start + 1 };
                            std::format!(
                                "{}::{}",
                                full(&groups[..start]).join(":"),
                                full(&groups[end..]).join(":")
                            )
                        }
                        None => full(&groups).join(":"),
                    },
                };
                let text = if upper { text.to_uppercase() } else { text };
                std::format!("[{text}]")
            },
        )
    }

    fn ipv6_junk() -> impl Strategy<Value = String> {
        "\\[[0-9a-fA-F:.%]{0,24}\\]"
    }

    fn name() -> impl Strategy<Value = String> {
        let label = "[a-zA-Z0-9_][a-zA-Z0-9_-]{0,6}";
        prop_oneof![
            proptest::collection::vec(label, 1..4).prop_map(|ls| ls.join(".")),
            Just(String::from("LOCALHOST.")),
            Just(String::from("localhost")),
            Just(String::from("a.localhost")),
            Just(String::from("xn--bcher-kva.example")),
            Just(String::from("127.0.0.1.nip.io")),
            (proptest::collection::vec(label, 1..3), "[0-9]{1,3}")
                .prop_map(|(ls, n)| std::format!("{}.{n}", ls.join("."))),
        ]
    }

    fn url_string() -> impl Strategy<Value = String> {
        let scheme = proptest::sample::select(&["http", "https", "ws", "wss", "ftp", "HTTP"]);
        let host = prop_oneof![
            3 => ipv4_spelling(),
            2 => ipv4_junk(),
            3 => ipv6_spelling(),
            2 => ipv6_junk(),
            3 => name(),
            1 => Just(String::from("[fe80::1%25eth0]")),
        ];
        let port = proptest::option::of(1u16..);
        let path = "(/[a-z0-9.%]{0,5}){0,2}";
        (scheme, host, port, path).prop_map(|(scheme, host, port, path)| {
            let port = port.map(|p| std::format!(":{p}")).unwrap_or_default();
            std::format!("{scheme}://{host}{port}{path}")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn agrees_with_url_crate(input in url_string()) {
            prop_assert_eq!(agrees_with_whatwg(&input), Ok(()), "{}", input);
        }

        /// Every spelling of an IPv4 address decodes to it, and the SSRF class follows.
        #[test]
        fn ipv4_spellings_decode(host in ipv4_spelling()) {
            let want = ::url::Url::parse(&std::format!("http://{host}/"))
                .ok()
                .and_then(|u| match u.host() {
                    Some(::url::Host::Ipv4(a)) => Some(a),
                    _ => None,
                })
                .unwrap();
            prop_assert_eq!(classify_host(host.as_bytes()), Ok(Host::V4(u32::from(want))));
        }

        /// IPv6 parsing agrees with the WHATWG parser exactly, both ways, on arbitrary text.
        #[test]
        fn ipv6_agrees_exactly(host in prop_oneof![ipv6_spelling(), ipv6_junk()]) {
            let input = std::format!("http://{host}/");
            let theirs = ::url::Url::parse(&input).ok().and_then(|u| match u.host() {
                Some(::url::Host::Ipv6(a)) => Some(a.octets()),
                _ => None,
            });
            let ours = match classify_host(host.as_bytes()) {
                Ok(Host::V6(b)) => Some(b),
                _ => None,
            };
            prop_assert_eq!(ours, theirs, "{}", host);
        }

        /// An IPv6 address that embeds an IPv4 address is classified like it.
        #[test]
        fn embedded_ipv4_classified_like_ipv4(a in any::<u32>()) {
            let v4 = core::net::Ipv4Addr::from(a);
            let class = ipv4_class(a);
            let [p, q, r, s] = v4.octets();
            for embedded in [
                std::format!("[::ffff:{v4}]"),
                std::format!("[64:ff9b::{v4}]"),
                std::format!(
                    "[2002:{:x}:{:x}::1]",
                    u16::from_be_bytes([p, q]),
                    u16::from_be_bytes([r, s])
                ),
            ] {
                let host = classify_host(embedded.as_bytes()).unwrap();
                prop_assert_eq!(ssrf_class(&host, embedded.as_bytes()), class, "{}", embedded);
            }
            if a > 1 {
                let compat = std::format!("[::{v4}]");
                let host = classify_host(compat.as_bytes()).unwrap();
                prop_assert_eq!(ssrf_class(&host, compat.as_bytes()), class, "{}", compat);
            }
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(u) = parse(&input) {
                prop_assert!(!u.host.is_empty());
                let bad = |b: &u8| matches!(b, b'@' | b'%' | b'/');
                prop_assert!(!u.host.iter().any(bad));
                let host = classify_host(u.host);
                prop_assert!(host.is_ok());
                let _ = ssrf_class(&host.unwrap(), u.host);
                let _ = u.effective_port();
            }
            let _ = host_matches(&input, b"*.example.com");
            let _ = host_matches(b"a.example.com", &input);
            if let Ok(h) = classify_host(&input) {
                let _ = ssrf_class(&h, &input);
            }
            let _ = ssrf_class(&Host::Name, &input);
        }

        /// Free-form authorities over the characters that matter for hosts.
        #[test]
        fn agrees_with_url_crate_free_form(
            input in "(http|https|ws|wss|ftp)://[a-fA-F0-9xX.:%\\[\\]_l-]{0,24}[/?#]?[!-~]{0,6}",
        ) {
            prop_assert_eq!(agrees_with_whatwg(&input), Ok(()), "{}", input);
        }

        #[test]
        fn never_panics_url_shaped(
            input in "[a-zA-Z+.-]{0,4}:?/{0,3}[a-z0-9.:@%\\[\\]_-]{0,12}[/?#]?[ -~]{0,8}",
        ) {
            let _ = parse(input.as_bytes()).map(|u| u.effective_port());
        }

        #[test]
        fn never_panics_ipv6_shaped(input in "\\[[0-9a-fA-F:.]{0,48}\\]") {
            if let Ok(h) = classify_host(input.as_bytes()) {
                let _ = ssrf_class(&h, input.as_bytes());
            }
        }

        #[test]
        fn round_trip(
            scheme in "[a-zA-Z][a-zA-Z0-9+.-]{0,5}",
            // The last label ends in a letter past `f` other than `x`, so it is never a number.
            host in "([a-zA-Z0-9_-]{1,6}\\.){0,3}[a-zA-Z0-9_-]{0,5}[g-wyzG-WYZ_-]",
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
            prop_assert_eq!(classify_host(u.host), Ok(Host::Name));
            prop_assert!(host_matches(u.host, &host.to_ascii_uppercase().into_bytes()));
        }

        #[test]
        fn userinfo_is_always_rejected(
            user in "[a-z:.]{0,8}",
            host in "[a-z]{1,5}(\\.[a-z]{1,5}){0,2}",
        ) {
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
            // compared case-insensitively, and the host is a name (not an address, valid or not).
            let hl: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
            let pl: Vec<String> = pattern_base.iter().map(|l| l.to_ascii_lowercase()).collect();
            let want = hl.len() > pl.len()
                && hl[hl.len() - pl.len()..] == pl[..]
                && classify_host(host.as_bytes()) == Ok(Host::Name);
            prop_assert_eq!(host_matches(host.as_bytes(), pattern.as_bytes()), want);
        }
    }
}
