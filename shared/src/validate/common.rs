//! Generic validators shared by every per-kind validator, with Istio's rules and
//! Istio's wording (`pkg/config/validation`, `pkg/config/validation/agent`,
//! `pkg/config/labels`, `pkg/config/visibility`).
//!
//! Every function is pure: it returns `Ok(())` or the message(s) Istio would give,
//! and the caller reports them at the right field path (`Report::error`). Functions
//! that can find several problems return a `Vec` (empty = valid).
//!
//! Regexes: Istio compiles with Go's `regexp` (RE2 syntax); we compile with
//! `regex-lite`, which shares the RE2 syntax family. Before compiling, Go-only
//! syntax is rewritten into what `regex-lite` accepts, and Go-only rules are
//! checked by hand:
//! * Unicode classes (`\pL`, `\p{Greek}`, `\PN`) become `\w`/`\W`: accepted, but an
//!   unknown class name (`\p{Nope}`, refused by Go) is accepted too.
//! * `\Q…\E` quoting, octal escapes (`\0`, `\012`) and a `{` that does not start a
//!   counted repetition (`a{,5}`, a literal in Go) are rewritten to equivalents.
//! * Go refuses stacked repetitions (`a**`, `a{2}{3}`) and counts above 1000: checked
//!   by hand, since `regex-lite` accepts them.
//! * Istio's only size limit is the pattern length (1024 bytes), checked as Istio does.
//! * Remaining gaps: nesting-depth and program-size limits differ (`regex-lite` may
//!   refuse a huge pattern Go accepts); `\C` and `\Z` are refused by both.

use std::collections::BTreeMap;
use std::time::Duration;

/// The result of one check: `Err` carries Istio's message.
pub type Check = Result<(), String>;

/// Longest DNS-1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Longest DNS name.
pub const DNS_NAME_MAX_LENGTH: usize = 255;
/// Longest DNS prefix of a label key (`example.com/` in `example.com/name`).
const DNS_PREFIX_MAX_LENGTH: usize = 253;
/// Istio's regex length cap (its stand-in for Envoy's RE2 program size limit).
pub const REGEX_MAX_LENGTH: usize = 1024;

/// The JWT claim pseudo-header used for routing on claims in gateways.
pub const HEADER_JWT_CLAIM: &str = "@request.auth.claims";

// ---------------------------------------------------------------------------
// DNS names and hosts
// ---------------------------------------------------------------------------

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Istio's `labels.IsDNS1123Label`: `[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?`, at most
/// 63 characters (Istio's pattern allows upper case).
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            b.len() <= DNS1123_LABEL_MAX_LENGTH
                && is_alnum(first)
                && is_alnum(last)
                && b.iter().all(|&c| is_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// Istio's `labels.IsWildcardDNS1123Label`: a DNS-1123 label, `*`, or a label with a
/// leading `*` or `*-` (`*foo`, `*-foo`).
pub fn is_wildcard_dns1123_label(s: &str) -> bool {
    if s.len() > DNS1123_LABEL_MAX_LENGTH {
        return false;
    }
    if s == "*" {
        return true;
    }
    let rest = s
        .strip_prefix("*-")
        .or_else(|| s.strip_prefix('*'))
        .unwrap_or(s);
    is_dns1123_label(rest)
}

/// Istio's `CheckDNS1123Preconditions`: not empty, at most 255 characters.
fn check_dns_preconditions(name: &str) -> Check {
    if name.len() > DNS_NAME_MAX_LENGTH {
        return Err(format!("domain name {name:?} too long (max 255)"));
    }
    if name.is_empty() {
        return Err("empty domain name not allowed".to_owned());
    }
    Ok(())
}

/// Istio's `ValidateDNS1123Labels`: every dot-separated label is a DNS-1123 label (a
/// trailing dot is allowed) and the top-level label is not all-numeric.
pub fn validate_dns1123_labels(domain: &str) -> Check {
    let parts: Vec<&str> = domain.split('.').collect();
    let tld = parts.last().copied().unwrap_or("");
    if !tld.is_empty() && tld.parse::<i64>().is_ok() {
        return Err(format!(
            "domain name {domain:?} invalid (top level domain {tld:?} cannot be all-numeric)"
        ));
    }
    let n = parts.len();
    for (i, label) in parts.iter().enumerate() {
        if i + 1 == n && label.is_empty() {
            return Ok(());
        }
        if !is_dns1123_label(label) {
            return Err(format!(
                "domain name {domain:?} invalid (label {label:?} invalid)"
            ));
        }
    }
    Ok(())
}

/// Istio's `ValidateFQDN`.
pub fn validate_fqdn(fqdn: &str) -> Check {
    check_dns_preconditions(fqdn)?;
    validate_dns1123_labels(fqdn)
}

/// Istio's `ValidateWildcardDomain`: an FQDN whose first label may be a wildcard
/// (`*`, `*.example.com`, `*-foo.example.com`). Short names (`reviews`) are valid.
pub fn validate_wildcard_domain(domain: &str) -> Check {
    check_dns_preconditions(domain)?;
    let (first, rest) = match domain.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (domain, None),
    };
    if !is_wildcard_dns1123_label(first) {
        return Err(format!(
            "domain name {domain:?} invalid (label {first:?} invalid)"
        ));
    }
    match rest {
        Some(rest) => validate_dns1123_labels(rest),
        None => Ok(()),
    }
}

/// Istio's `ValidateWildcardDomainForVirtualServiceBoundToGateway`: like
/// [`validate_wildcard_domain`], but when `sni` is set a first label `outbound_`
/// (auto-generated SNI names such as `outbound_.80_._.e2e.foobar.mesh`) is accepted
/// when the name matches `outbound_.([0-8].*).*`.
pub fn validate_wildcard_domain_for_gateway_vs(sni: bool, domain: &str) -> Check {
    check_dns_preconditions(domain)?;
    let (first, rest) = match domain.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (domain, None),
    };
    if sni && first == "outbound_" {
        // Go: regexp.MatchString("outbound_.([0-8].*).*", domain), unanchored: some
        // "outbound_" followed by any one character then a digit 0-8.
        let b = domain.as_bytes();
        let matched = domain.match_indices("outbound_").any(|(i, _)| {
            let after = i + "outbound_".len();
            // any single character (UTF-8 aware), then [0-8]
            domain
                .get(after..)
                .and_then(|s| s.chars().next())
                .map(|c| after + c.len_utf8())
                .and_then(|j| b.get(j))
                .is_some_and(|d| (b'0'..=b'8').contains(d))
        });
        if !matched {
            return Err(format!(
                "domain name {domain:?} invalid (label {first:?} invalid)"
            ));
        }
        return Ok(());
    }
    if !is_wildcard_dns1123_label(first) {
        return Err(format!(
            "domain name {domain:?} invalid (label {first:?} invalid)"
        ));
    }
    match rest {
        Some(rest) => validate_dns1123_labels(rest),
        None => Ok(()),
    }
}

/// Istio's `ValidatePartialWildCard`: `*` only as the whole name or a `*.` prefix.
pub fn validate_partial_wildcard(host: &str) -> Check {
    if host.contains('*') && host.len() != 1 && !host.starts_with("*.") {
        return Err(format!("partial wildcard {host:?} not allowed"));
    }
    Ok(())
}

/// Istio's `validateSidecarOrGatewayHostnamePart`.
fn validate_sidecar_or_gateway_hostname_part(hostname: &str, is_gateway: bool) -> Vec<String> {
    let mut errs = Vec::new();
    if hostname != "*" && !hostname.contains('.') {
        errs.push("short names (non FQDN) are not allowed".to_owned());
    }
    if let Err(e) = validate_wildcard_domain(hostname) {
        if !is_gateway {
            errs.push(e.clone());
        }
        // Gateways also allow an IP address as the host.
        if !is_ip(hostname) {
            errs.push(e);
        }
    }
    if let Err(e) = validate_partial_wildcard(hostname) {
        errs.push(e);
    }
    errs
}

/// Istio's `ValidateNamespaceSlashWildcardHostname`: `namespace/dnsName` hosts of
/// Gateway servers (`is_gateway`) and Sidecar egress listeners. Gateways also accept
/// the old form without a namespace. `gateway_semantics` (Gateway API conversions)
/// allows `~` as the namespace of a gateway host.
pub fn validate_namespace_slash_wildcard_hostname(
    hostname: &str,
    is_gateway: bool,
    gateway_semantics: bool,
) -> Vec<String> {
    let Some((ns, name)) = hostname.split_once('/') else {
        if is_gateway {
            return validate_sidecar_or_gateway_hostname_part(hostname, true);
        }
        return vec!["host must be of form namespace/dnsName".to_owned()];
    };
    let mut errs = Vec::new();
    if ns.is_empty() || name.is_empty() {
        errs.push("config namespace and dnsName in host entry cannot be empty".to_owned());
    }
    if !is_gateway {
        if ns != "*" && ns != "." && ns != "~" && !is_dns1123_label(ns) {
            errs.push(format!("invalid namespace value {ns:?} in sidecar"));
        }
    } else if ns != "*" && ns != "." && (ns != "~" || !gateway_semantics) && !is_dns1123_label(ns) {
        errs.push(format!("invalid namespace value {ns:?} in gateway"));
    }
    errs.extend(validate_sidecar_or_gateway_hostname_part(name, is_gateway));
    errs
}

// ---------------------------------------------------------------------------
// IP addresses, ports
// ---------------------------------------------------------------------------

/// True for an IPv4 or IPv6 address literal (Istio's `netutil.IsValidIPAddress`).
pub fn is_ip(s: &str) -> bool {
    crate::host::is_ip(s)
}

/// Istio's `ValidateIPAddress`.
pub fn validate_ip_address(addr: &str) -> Check {
    if is_ip(addr) {
        Ok(())
    } else {
        Err(format!("{addr} is not a valid IP"))
    }
}

/// Istio's `ValidateIPSubnet`: `a.b.c.d/xx`, `2001:1::1/64` or a plain address.
pub fn validate_ip_subnet(subnet: &str) -> Check {
    if subnet.matches('/').count() == 1 {
        if is_cidr(subnet) {
            return Ok(());
        }
        return Err(format!("{subnet} is not a valid CIDR block"));
    }
    validate_ip_address(subnet)
}

/// True for `address/bits` with bits in range for the address family (Go's
/// `netip.ParsePrefix`: no leading zeros or sign in the bit count).
pub fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    if bits.is_empty()
        || !bits.bytes().all(|b| b.is_ascii_digit())
        || (bits.len() > 1 && bits.starts_with('0'))
    {
        return false;
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    bits.parse::<u32>().is_ok_and(|b| b <= max)
}

/// Istio's `ValidatePort`: 1..65535.
pub fn validate_port(port: i64) -> Check {
    if (1..=65535).contains(&port) {
        Ok(())
    } else {
        Err(format!("port number {port} must be in the range 1..65535"))
    }
}

/// Istio's `ValidateUnixAddress`: an absolute file path, or an abstract socket `@name`.
pub fn validate_unix_address(addr: &str) -> Check {
    if addr.is_empty() {
        return Err("unix address must not be empty".to_owned());
    }
    if addr.starts_with('@') {
        return Ok(());
    }
    if !addr.starts_with('/') || addr.ends_with('/') {
        return Err(format!("{addr} is not an absolute path to a file"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Durations, percentages, weights
// ---------------------------------------------------------------------------

/// Parses a duration string (Go syntax, as the CRD accepts), with a message fit for a
/// diagnostic.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse_duration(s).map_err(|e| e.to_string())
}

/// Istio's `ValidateDuration`: parses `s` and requires at least 1ms, to ms precision.
pub fn validate_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(1) {
        return Err("duration must be greater than 1ms".to_owned());
    }
    if d.subsec_nanos() % 1_000_000 != 0 {
        return Err("only durations to ms precision are supported".to_owned());
    }
    Ok(d)
}

/// Istio's `ValidateDurationRange`: `min <= d <= max`.
pub fn validate_duration_range(d: Duration, min: Duration, max: Duration) -> Check {
    if d > max || d < min {
        return Err(format!(
            "time {} must be >{} and <{}",
            go_duration(d),
            go_duration(min),
            go_duration(max)
        ));
    }
    Ok(())
}

/// Formats a duration like Go's `time.Duration.String()` (`1h0m0s`, `1.5s`, `1ms`).
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let frac = |value: u128, unit: u128| {
        let whole = value / unit;
        let rest = value % unit;
        if rest == 0 {
            whole.to_string()
        } else {
            let width = unit.to_string().len() - 1;
            let s = format!("{whole}.{rest:0width$}");
            s.trim_end_matches('0').to_owned()
        }
    };
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", frac(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", frac(nanos, 1_000_000));
    }
    let secs = nanos / 1_000_000_000;
    let sub = nanos % 1_000_000_000;
    let h = secs / 3600;
    let m = (secs % 3600) / 60;
    let s = frac((secs % 60) * 1_000_000_000 + sub, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Istio's `ValidatePercent`: an integer percentage in 0..100.
pub fn validate_percent(val: i64) -> Check {
    if (0..=100).contains(&val) {
        Ok(())
    } else {
        Err(format!("percentage {val} is not in range 0..100"))
    }
}

/// Istio's `validatePercentage` (`Percent` message): 0, or within [0.0001, 100].
pub fn validate_percentage(value: f64) -> Check {
    if !(0.0..=100.0).contains(&value) || (value > 0.0 && value < 0.0001) || value.is_nan() {
        return Err(format!(
            "percentage {} is neither 0.0, nor in range [0.0001, 100.0]",
            go_float(value)
        ));
    }
    Ok(())
}

/// Formats a float like Go's `%v` (`50`, `0.5`, `1e-05`).
pub fn go_float(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e21) {
        let s = format!("{v:e}");
        // Rust: `1e-5`; Go: `1e-05`.
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = match e.strip_prefix('-') {
                    Some(d) => ("-", d),
                    None => ("+", e),
                };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{v}")
    }
}

/// Istio's `validateWeight`: no negative route weight.
pub fn validate_weight(weight: i64) -> Check {
    if weight < 0 {
        Err(format!("weight {weight} < 0"))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// HTTP headers
// ---------------------------------------------------------------------------

/// `^[-_A-Za-z0-9]+$`.
fn is_header_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Istio's `ValidateHTTPHeaderName`: letters, digits, `-` and `_`.
pub fn validate_http_header_name(name: &str) -> Check {
    if name.is_empty() {
        return Err("header name cannot be empty".to_owned());
    }
    if !is_header_token(name) {
        return Err(format!("header name {name} is not a valid header name"));
    }
    Ok(())
}

/// Istio's `ValidateCORSHTTPHeaderName`: a header name or `*`.
pub fn validate_cors_header_name(name: &str) -> Check {
    if name == "*" {
        return Ok(());
    }
    validate_http_header_name(name)
}

/// Istio's `jwt.ToRoutingClaim(name).Match`: `@request.auth.claims.a.b` or
/// `@request.auth.claims[a][b]` (prefix case-insensitive).
pub fn is_jwt_claim_route(name: &str) -> bool {
    let n = HEADER_JWT_CLAIM.len();
    let Some(prefix) = name.get(..n) else {
        return false;
    };
    if !prefix.eq_ignore_ascii_case(HEADER_JWT_CLAIM) {
        return false;
    }
    let rest = name.get(n..).unwrap_or("");
    (rest.starts_with('.') && rest.len() > 1)
        || (rest.starts_with('[') && rest.ends_with(']') && rest.len() > 2)
}

/// Istio's `ValidateHTTPHeaderNameOrJwtClaimRoute`: a header name, or a JWT claim route.
pub fn validate_header_name_or_jwt_claim(name: &str) -> Check {
    if name.is_empty() {
        return Err("header name cannot be empty".to_owned());
    }
    if is_jwt_claim_route(name) {
        return Ok(());
    }
    validate_http_header_name(name)
}

/// Istio's `isInternalHeader`: pseudo-headers (`:path`) and `host`.
pub fn is_internal_header(name: &str) -> bool {
    name.starts_with(':') || name.eq_ignore_ascii_case("host")
}

/// Istio's `isAuthorityHeader`: `:authority` or `host`.
pub fn is_authority_header(name: &str) -> bool {
    name.eq_ignore_ascii_case(":authority") || name.eq_ignore_ascii_case("host")
}

/// Istio's `ValidateHTTPHeaderWithAuthorityOperationName`: a header set/added on a
/// request; pseudo-headers are refused except `:authority` (and `host`).
pub fn validate_header_op_name_with_authority(name: &str) -> Check {
    if name.is_empty() {
        return Err("header name cannot be empty".to_owned());
    }
    if is_internal_header(name) && !is_authority_header(name) {
        return Err(format!(
            r#"invalid header {name:?}: header cannot have ":" prefix"#
        ));
    }
    Ok(())
}

/// Istio's `ValidateHTTPHeaderOperationName`: a header removed from a request or
/// changed on a response; `host` and pseudo-headers are refused.
pub fn validate_header_op_name(name: &str) -> Check {
    if name.is_empty() {
        return Err("header name cannot be empty".to_owned());
    }
    if name.eq_ignore_ascii_case("host") {
        return Err(format!("invalid header {name:?}: cannot set Host header"));
    }
    if is_internal_header(name) {
        return Err(format!(
            r#"invalid header {name:?}: header cannot have ":" prefix"#
        ));
    }
    Ok(())
}

/// Istio's `ValidateHTTPHeaderValue`: no control characters (other than tab), and
/// Envoy's `%VARIABLE%` syntax well formed (`100%%` escapes a percent sign).
pub fn validate_header_value(value: &str) -> Check {
    if value
        .chars()
        .any(|c| matches!(c, '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'))
    {
        return Err(format!("header value configuration {value} is invalid"));
    }
    envoy_header_format(value).map_err(|e| format!("header value configuration: {e}"))
}

/// Port of Envoy's header formatter parser (as Istio's `validateHeaderValue`).
fn envoy_header_format(v: &str) -> Check {
    #[derive(PartialEq)]
    enum S {
        Literal,
        VariableName,
        ExpectArray,
        ExpectString,
        String,
        ExpectArrayDelimiterOrEnd,
        ExpectArgsEnd,
        ExpectVariableEnd,
    }
    let b = v.as_bytes();
    let mut state = S::Literal;
    let mut pos = 0;
    while let Some(&ch) = b.get(pos) {
        let has_next = pos + 1 < b.len();
        match state {
            S::Literal => {
                if ch == b'%' {
                    if !has_next {
                        return Err("invalid header configuration. Un-escaped %".to_owned());
                    }
                    if b.get(pos + 1) == Some(&b'%') {
                        pos += 1;
                    } else {
                        state = S::VariableName;
                    }
                }
            }
            S::VariableName => {
                if ch == b'%' {
                    state = S::Literal;
                } else if ch == b'(' {
                    state = S::ExpectArray;
                }
            }
            S::ExpectArray => {
                if ch == b'[' {
                    state = S::ExpectString;
                } else if ch != b' ' {
                    state = S::String;
                }
            }
            S::ExpectArrayDelimiterOrEnd => {
                if ch == b',' {
                    state = S::ExpectString;
                } else if ch == b']' {
                    state = S::ExpectArgsEnd;
                } else if ch != b' ' {
                    return Err(
                        "invalid header configuration. Expecting ',', ']', or whitespace"
                            .to_owned(),
                    );
                }
            }
            S::ExpectString => {
                if ch == b'"' {
                    state = S::String;
                } else if ch != b' ' {
                    return Err("invalid header configuration. Expecting '\"'".to_owned());
                }
            }
            S::String => {
                if ch == b'\\' {
                    if !has_next {
                        return Err(
                            "invalid header configuration. Un-terminated backslash in JSON string"
                                .to_owned(),
                        );
                    }
                    pos += 1;
                } else if ch == b')' {
                    state = S::ExpectVariableEnd;
                } else if ch == b'"' {
                    state = S::ExpectArrayDelimiterOrEnd;
                }
            }
            S::ExpectArgsEnd => {
                if ch == b')' {
                    state = S::ExpectVariableEnd;
                } else if ch != b' ' {
                    return Err(
                        "invalid header configuration. Expecting ')' or whitespace".to_owned()
                    );
                }
            }
            S::ExpectVariableEnd => {
                if ch == b'%' {
                    state = S::Literal;
                } else if ch != b' ' {
                    return Err(
                        "invalid header configuration. Expecting '%' or whitespace after"
                            .to_owned(),
                    );
                }
            }
        }
        pos += 1;
    }
    if state != S::Literal {
        return Err(format!(
            "invalid header configuration. Un-terminated variable expression '{v}'"
        ));
    }
    Ok(())
}

/// The HTTP methods Istio accepts in CORS `allowMethods` (Go's `net/http` methods).
pub const HTTP_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
];

/// Istio's `validateHTTPMethod`.
pub fn validate_http_method(method: &str) -> Check {
    if HTTP_METHODS.contains(&method) {
        Ok(())
    } else {
        Err(format!("{method:?} is not a supported HTTP method"))
    }
}

/// True when Go's `http.StatusText(code)` knows the status code.
pub fn is_known_http_status(code: i64) -> bool {
    matches!(code,
        100..=103
        | 200..=208 | 226
        | 300..=305 | 307 | 308
        | 400..=418 | 421..=426 | 428 | 429 | 431 | 451
        | 500..=508 | 510 | 511)
}

// ---------------------------------------------------------------------------
// Regexes
// ---------------------------------------------------------------------------

/// Istio's `validateStringRegexp`: at most 1024 characters and valid RE2 syntax.
/// `place` names the field in the message (`"uri"`, `"headers"`, …), as Istio does.
pub fn validate_regex(re: &str, place: &str) -> Check {
    if re.len() > REGEX_MAX_LENGTH {
        return Err(format!(
            "{place:?}: regex is too large, max length allowed is {REGEX_MAX_LENGTH}"
        ));
    }
    compile_re2(re).map_err(|e| {
        format!(
            "{place:?}: {e}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"
        )
    })
}

/// Checks RE2 syntax with `regex-lite` (see the module docs for the differences).
pub fn compile_re2(re: &str) -> Check {
    let prepared = prepare_re2(re);
    go_repetition_rules(&prepared)?;
    regex_lite::Regex::new(&prepared)
        .map(|_| ())
        .map_err(|e| format!("error parsing regexp: {}", first_line(&e.to_string())))
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(s)
        .to_owned()
}

/// A counted repetition `{n}`, `{n,}` or `{n,m}` starting at byte `i` (which holds
/// `{`): its end (index after `}`) and bounds. Anything else is, in Go, a literal `{`.
fn brace_repeat(b: &[u8], i: usize) -> Option<(usize, u64, Option<u64>)> {
    let digits = |mut j: usize| {
        let start = j;
        let mut n: u64 = 0;
        while let Some(d) = b.get(j).filter(|d| d.is_ascii_digit()) {
            n = n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
            j += 1;
        }
        (j > start).then_some((j, n))
    };
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let (j, min) = digits(i + 1)?;
    match b.get(j) {
        Some(b'}') => Some((j + 1, min, Some(min))),
        Some(b',') => match digits(j + 1) {
            Some((k, max)) if b.get(k) == Some(&b'}') => Some((k + 1, min, Some(max))),
            None if b.get(j + 1) == Some(&b'}') => Some((j + 2, min, None)),
            _ => None,
        },
        _ => None,
    }
}

/// Rewrites RE2 constructs `regex-lite` lacks into equivalents it accepts:
/// Unicode classes become `\w`/`\W`, `\Q…\E` becomes the escaped literal, octal
/// escapes (`\0`, `\012`) become `\x{..}`, and a `{` that does not start a counted
/// repetition (a literal in Go) is escaped.
fn prepare_re2(re: &str) -> String {
    let mut out = String::with_capacity(re.len());
    let mut chars = re.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '{' {
            if let Some((end, _, _)) = brace_repeat(re.as_bytes(), i) {
                out.push_str(re.get(i..end).unwrap_or(""));
                while chars.peek().is_some_and(|&(k, _)| k < end) {
                    chars.next();
                }
            } else {
                out.push_str("\\{");
            }
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().map(|(_, ch)| ch) {
            Some(p @ ('p' | 'P')) => {
                // \pL or \p{Name}
                if chars.next().map(|(_, ch)| ch) == Some('{') {
                    for (_, n) in chars.by_ref() {
                        if n == '}' {
                            break;
                        }
                    }
                }
                out.push_str(if p == 'p' { "\\w" } else { "\\W" });
            }
            Some('Q') => {
                // literal until \E
                let mut lit = String::new();
                while let Some((_, n)) = chars.next() {
                    if n == '\\' && chars.peek().map(|&(_, ch)| ch) == Some('E') {
                        chars.next();
                        break;
                    }
                    lit.push(n);
                }
                out.push_str(&regex_lite::escape(&lit));
            }
            Some(d @ '0'..='7') => {
                // Go: `\0`, `\0dd` and `\ddd` (2-3 octal digits) are octal codes; a
                // single `\1`..`\7` is a backreference (refused by both).
                let mut digits = String::from(d);
                while digits.len() < 3 {
                    match chars.peek() {
                        Some(&(_, o @ '0'..='7')) => {
                            digits.push(o);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                if d != '0' && digits.len() == 1 {
                    out.push('\\');
                    out.push(d);
                } else {
                    let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                    out.push_str(&format!("\\x{{{code:X}}}"));
                }
            }
            Some('x') => {
                // keep `\x{...}` whole so the braces are not taken for a repetition
                out.push_str("\\x");
                if chars.peek().map(|&(_, ch)| ch) == Some('{') {
                    for (_, n) in chars.by_ref() {
                        out.push(n);
                        if n == '}' {
                            break;
                        }
                    }
                }
            }
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Go's repetition rules that `regex-lite` does not enforce: no repetition operator
/// directly applied to another (`a**`, `a+*`, `a{2}{3}`; `a*?` is one non-greedy
/// operator), and counts of at most 1000. Runs on [`prepare_re2`]'s output.
fn go_repetition_rules(re: &str) -> Check {
    let b = re.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    // The previous token was a complete repetition operator.
    let mut after_repeat = false;
    while let Some(&c) = b.get(i) {
        if in_class {
            match c {
                b'\\' => i += 1,
                b']' => in_class = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let op_end = match c {
            b'*' | b'+' | b'?' => Some(i + 1),
            b'{' => match brace_repeat(b, i) {
                Some((end, min, max)) => {
                    if min > 1000 || max.is_some_and(|m| m > 1000) {
                        let text = re.get(i..end).unwrap_or("");
                        return Err(format!(
                            "error parsing regexp: invalid repeat count: `{text}`"
                        ));
                    }
                    Some(end)
                }
                None => None,
            },
            _ => None,
        };
        if let Some(mut end) = op_end {
            if after_repeat {
                let start = i.saturating_sub(1);
                let text = re.get(start..end).unwrap_or("");
                return Err(format!(
                    "error parsing regexp: invalid nested repetition operator: `{text}`"
                ));
            }
            // A `?` right after an operator makes it non-greedy: same operator.
            if b.get(end) == Some(&b'?') {
                end += 1;
            }
            after_repeat = true;
            i = end;
            continue;
        }
        after_repeat = false;
        match c {
            b'\\' => {
                if b.get(i + 1) == Some(&b'x') && b.get(i + 2) == Some(&b'{') {
                    while b.get(i).is_some_and(|&x| x != b'}') {
                        i += 1;
                    }
                } else {
                    i += 1;
                }
            }
            b'[' => {
                in_class = true;
                // `[]a]` and `[^]a]`: a leading `]` is a literal.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Labels, names, exportTo
// ---------------------------------------------------------------------------

/// `(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` (a Kubernetes qualified name).
fn is_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_alnum(f)
                && is_alnum(l)
                && b.iter()
                    .all(|&c| is_alnum(c) || c == b'-' || c == b'_' || c == b'.')
        }
        _ => false,
    }
}

/// Istio's `validateTagKey`: `[dns.prefix/]name` like a Kubernetes label key.
pub fn validate_label_key(k: &str) -> Check {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let prefix_ok = prefix.is_none_or(|p| p.split('.').all(is_dns1123_label));
    if !prefix_ok || !is_qualified_name(name) {
        return Err(format!("invalid tag key: {k:?}"));
    }
    if prefix.is_some_and(|p| p.len() > DNS_PREFIX_MAX_LENGTH) {
        return Err(format!("invalid tag key: {k:?} (DNS prefix is too long)"));
    }
    if name.len() > DNS1123_LABEL_MAX_LENGTH {
        return Err(format!("invalid tag key: {k:?} (name is too long)"));
    }
    Ok(())
}

/// Istio's label value rule: empty or a qualified name (no length cap in Istio).
pub fn validate_label_value(v: &str) -> Check {
    if v.is_empty() || is_qualified_name(v) {
        Ok(())
    } else {
        Err(format!("invalid tag value: {v:?}"))
    }
}

/// Istio's `labels.Instance.Validate`: every problem as (key, message), keys in order.
pub fn validate_labels(labels: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in labels {
        if let Err(e) = validate_label_key(k) {
            out.push((k.clone(), e));
        }
        if let Err(e) = validate_label_value(v) {
            out.push((k.clone(), e));
        }
    }
    out
}

/// Istio's `validateSubsetName`.
pub fn validate_subset_name(name: &str) -> Check {
    if name.is_empty() {
        return Err("subset name cannot be empty".to_owned());
    }
    if !is_dns1123_label(name) {
        return Err(format!("subset name is invalid: {name}"));
    }
    Ok(())
}

/// Istio's `visibility.Instance.Validate`: `.`, `*` or a namespace name.
pub fn validate_visibility(v: &str) -> Check {
    match v {
        "." | "*" => Ok(()),
        "~" => Err("exportTo ~ (none) is not allowed for Istio configuration objects".to_owned()),
        _ if is_dns1123_label(v) => Ok(()),
        _ => Err("only .,*, or a valid DNS 1123 label is allowed as exportTo entry".to_owned()),
    }
}

/// Istio's `validateExportTo`: problems as (index of the entry if one is at fault,
/// message). `namespace` is the resource's namespace (for `.` duplicates);
/// `is_service_entry` allows `~`; `is_dr_with_selector` limits a DestinationRule with
/// a workload selector to its own namespace.
pub fn validate_export_to(
    namespace: &str,
    export_to: &[String],
    is_service_entry: bool,
    is_dr_with_selector: bool,
) -> Vec<(Option<usize>, String)> {
    let mut errs = Vec::new();
    if export_to.is_empty() {
        return errs;
    }
    let mut set: Vec<String> = Vec::new();
    for (i, e) in export_to.iter().enumerate() {
        let key = if e == "." {
            namespace.to_owned()
        } else {
            e.clone()
        };
        if set.contains(&key) {
            if &key != e {
                errs.push((
                    Some(i),
                    format!("duplicate entries in exportTo: . and current namespace {namespace}"),
                ));
            } else {
                errs.push((
                    Some(i),
                    format!("duplicate entries in exportTo for entry {e}"),
                ));
            }
        } else if is_service_entry && e == "~" {
            set.push(key);
        } else {
            match validate_visibility(&key) {
                Ok(()) => set.push(key),
                Err(msg) => errs.push((Some(i), msg)),
            }
        }
    }
    if is_dr_with_selector && !set.is_empty() {
        if set.iter().any(|s| s == namespace) {
            if set.len() > 1 {
                errs.push((
                    None,
                    "destination rule with workload selector cannot have multiple entries in exportTo"
                        .to_owned(),
                ));
            }
        } else {
            errs.push((
                None,
                "destination rule with workload selector cannot have exportTo beyond current namespace"
                    .to_owned(),
            ));
        }
    }
    if set.iter().any(|s| s == "*") && export_to.len() > 1 {
        errs.push((
            None,
            "cannot have both public (*) and non-public exportTo values for a resource".to_owned(),
        ));
    }
    if set.iter().any(|s| s == "~") && export_to.len() > 1 {
        errs.push((
            None,
            "cannot export service entry to no one (~) and someone".to_owned(),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        let cases: &[(&str, bool)] = &[
            ("a", true),
            ("reviews", true),
            ("Reviews-1", true),
            ("-a", false),
            ("a-", false),
            ("", false),
            ("a_b", false),
            (&"a".repeat(63), true),
            (&"a".repeat(64), false),
        ];
        for (s, ok) in cases {
            assert_eq!(is_dns1123_label(s), *ok, "{s}");
        }
        for (s, ok) in [
            ("*", true),
            ("*foo", true),
            ("*-foo", true),
            ("f*o", false),
            ("**", false),
        ] {
            assert_eq!(is_wildcard_dns1123_label(s), ok, "{s}");
        }
    }

    #[test]
    fn domains() {
        let cases: &[(&str, bool, bool)] = &[
            // (name, fqdn ok, wildcard ok)
            ("reviews", true, true),
            ("reviews.default.svc.cluster.local", true, true),
            ("istio.io.", true, true),
            ("*.example.com", false, true),
            ("*", false, true),
            ("*foo.example.com", false, true),
            ("foo.*.com", false, false),
            ("a.b.123", false, false),
            ("", false, false),
            ("a..b", false, false),
            ("under_score.com", false, false),
        ];
        for (name, fqdn, wild) in cases {
            assert_eq!(validate_fqdn(name).is_ok(), *fqdn, "fqdn {name}");
            assert_eq!(
                validate_wildcard_domain(name).is_ok(),
                *wild,
                "wildcard {name}"
            );
        }
        let long = format!("{}.com", "a.".repeat(130));
        assert!(validate_fqdn(&long).unwrap_err().contains("too long"));
        assert_eq!(
            validate_wildcard_domain("foo.*.com").unwrap_err(),
            r#"domain name "*.com" invalid (label "*" invalid)"#
        );
    }

    #[test]
    fn outbound_sni_names() {
        assert!(
            validate_wildcard_domain_for_gateway_vs(true, "outbound_.80_._.e2e.foobar.mesh")
                .is_ok()
        );
        assert!(
            validate_wildcard_domain_for_gateway_vs(true, "outbound_.x_._.e2e.foobar.mesh")
                .is_err()
        );
        assert!(
            validate_wildcard_domain_for_gateway_vs(false, "outbound_.80_._.e2e.foobar.mesh")
                .is_err()
        );
        assert!(validate_wildcard_domain_for_gateway_vs(false, "*.foo.com").is_ok());
    }

    #[test]
    fn namespace_slash_hosts() {
        let cases: &[(&str, bool, usize)] = &[
            ("ns/foo.com", true, 0),
            ("*/foo.com", true, 0),
            ("./*", true, 0),
            ("foo.com", true, 0),
            ("1.2.3.4", true, 0),
            ("ns/foo", true, 1),
            ("Bad_ns/foo.com", true, 1),
            ("foo.com", false, 1),
            ("ns/*bar.com", true, 1),
            ("~/foo.com", false, 0),
        ];
        for (h, gw, n) in cases {
            assert_eq!(
                validate_namespace_slash_wildcard_hostname(h, *gw, false).len(),
                *n,
                "{h} gateway={gw}"
            );
        }
        assert!(validate_namespace_slash_wildcard_hostname("~/foo.com", true, true).is_empty());
    }

    #[test]
    fn ips_and_ports() {
        assert!(validate_ip_subnet("10.0.0.0/8").is_ok());
        assert!(validate_ip_subnet("2001:1::1/64").is_ok());
        assert!(validate_ip_subnet("10.0.0.1").is_ok());
        assert!(validate_ip_subnet("10.0.0.0/33").is_err());
        assert!(validate_ip_subnet("10.0.0.0/a").is_err());
        assert!(validate_ip_subnet("foo").is_err());
        assert!(validate_port(1).is_ok());
        assert!(validate_port(65535).is_ok());
        assert_eq!(
            validate_port(0).unwrap_err(),
            "port number 0 must be in the range 1..65535"
        );
        assert!(validate_port(65536).is_err());
        assert!(validate_unix_address("/var/run/x.sock").is_ok());
        assert!(validate_unix_address("@abstract").is_ok());
        assert!(validate_unix_address("relative").is_err());
        assert!(validate_unix_address("/dir/").is_err());
    }

    #[test]
    fn durations() {
        let cases: &[(&str, bool)] = &[
            ("1s", true),
            ("1ms", true),
            ("1m", true),
            ("0s", false),
            ("0.0005s", false),
            ("1.0005s", false),
            ("bogus", false),
            ("-1s", false),
        ];
        for (s, ok) in cases {
            assert_eq!(validate_duration(s).is_ok(), *ok, "{s}");
        }
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(1)), "1ms");
        assert!(validate_duration_range(
            Duration::from_secs(2),
            Duration::from_millis(1),
            Duration::from_secs(1)
        )
        .is_err());
    }

    #[test]
    fn percentages() {
        for (v, ok) in [
            (0.0, true),
            (0.0001, true),
            (100.0, true),
            (0.00001, false),
            (-1.0, false),
            (100.1, false),
        ] {
            assert_eq!(validate_percentage(v).is_ok(), ok, "{v}");
        }
        assert_eq!(
            validate_percentage(-1.0).unwrap_err(),
            "percentage -1 is neither 0.0, nor in range [0.0001, 100.0]"
        );
        assert_eq!(go_float(1e-5), "1e-05");
        assert_eq!(go_float(0.5), "0.5");
        assert!(validate_percent(101).is_err());
        assert!(validate_percent(0).is_ok());
        assert_eq!(validate_weight(-10).unwrap_err(), "weight -10 < 0");
    }

    #[test]
    fn header_names() {
        for (n, ok) in [
            ("x-foo", true),
            ("X_Foo9", true),
            ("", false),
            ("x foo", false),
            (":path", false),
        ] {
            assert_eq!(validate_http_header_name(n).is_ok(), ok, "{n}");
        }
        assert!(validate_cors_header_name("*").is_ok());
        assert!(validate_header_name_or_jwt_claim("@request.auth.claims.sub").is_ok());
        assert!(validate_header_name_or_jwt_claim("@request.auth.claims[a][b]").is_ok());
        assert!(validate_header_name_or_jwt_claim("@request.auth.claims").is_err());
        assert!(validate_header_op_name_with_authority(":authority").is_ok());
        assert!(validate_header_op_name_with_authority("Host").is_ok());
        assert!(validate_header_op_name_with_authority(":path").is_err());
        assert!(validate_header_op_name("host").is_err());
        assert!(validate_header_op_name(":authority").is_err());
        assert!(validate_header_op_name("x-foo").is_ok());
    }

    #[test]
    fn header_values() {
        let cases: &[(&str, bool)] = &[
            ("foo", true),
            ("", true),
            ("%HOSTNAME%", true),
            ("100%%", true),
            ("prefix %HOSTNAME% suffix", true),
            ("%REQ(x-foo)%", true),
            (r#"%PER_REQUEST_STATE(["a", "b"])%"#, true),
            ("abc%123", false),
            ("%START_TIME%%", false),
            ("%", false),
            ("a\nb", false),
            ("tab\tok", true),
        ];
        for (v, ok) in cases {
            assert_eq!(validate_header_value(v).is_ok(), *ok, "{v:?}");
        }
    }

    #[test]
    fn regexes() {
        let cases: &[(&str, bool)] = &[
            ("^/foo.*", true),
            ("\\d+", true),
            ("\\p{Greek}+", true),
            ("[\\pL]", true),
            ("\\Q.*\\E", true),
            ("(?i)abc", true),
            ("[[:alpha:]]", true),
            ("(", false),
            ("*", false),
            ("a{1001}", false),
            ("a{2,1000}", true),
            ("(?=x)", false),
            ("\\1", false),
            // Go-only rules and Go-only syntax
            ("a**", false),
            ("a+*", false),
            ("a{2}{3}", false),
            ("a???", false),
            ("a*?", true),
            ("a??", true),
            ("a{,5}", true),
            ("a{", true),
            ("a{x}", true),
            ("\\0", true),
            ("\\012", true),
            ("\\x{41}{2}", true),
            ("[{]", true),
            ("[a*+]+", true),
            ("(?i)abc", true),
            ("(?:ab)+?", true),
        ];
        for (re, ok) in cases {
            assert_eq!(validate_regex(re, "uri").is_ok(), *ok, "{re}");
        }
        let long = "a".repeat(1025);
        assert!(validate_regex(&long, "uri")
            .unwrap_err()
            .contains("too large"));
        let msg = validate_regex("(", "headers").unwrap_err();
        assert!(
            msg.starts_with("\"headers\": error parsing regexp"),
            "{msg}"
        );
    }

    #[test]
    fn labels() {
        for (k, ok) in [
            ("app", true),
            ("app.kubernetes.io/name", true),
            ("a/b/c", false),
            ("-app", false),
            ("", false),
            ("ex.com/", false),
        ] {
            assert_eq!(validate_label_key(k).is_ok(), ok, "{k}");
        }
        assert!(validate_label_key(&"a".repeat(64))
            .unwrap_err()
            .contains("too long"));
        for (v, ok) in [
            ("", true),
            ("v1", true),
            ("a.b_c-d", true),
            ("-x", false),
            ("a b", false),
        ] {
            assert_eq!(validate_label_value(v).is_ok(), ok, "{v}");
        }
        let mut m = BTreeMap::new();
        m.insert("good".to_owned(), "bad value".to_owned());
        m.insert("bad key".to_owned(), "ok".to_owned());
        assert_eq!(validate_labels(&m).len(), 2);
        assert!(validate_subset_name("v1").is_ok());
        assert!(validate_subset_name("").is_err());
        assert!(validate_subset_name("v1.0").is_err());
    }

    #[test]
    fn export_to() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases: &[(&[&str], bool, usize)] = &[
            (&[], false, 0),
            (&["."], false, 0),
            (&["*"], false, 0),
            (&["ns1", "ns2"], false, 0),
            (&[".", "default"], false, 1),
            (&["ns1", "ns1"], false, 1),
            (&["*", "ns1"], false, 1),
            (&["~"], false, 1),
            (&["~"], true, 0),
            (&["~", "ns1"], true, 1),
            (&["bad_ns"], false, 1),
        ];
        for (list, se, n) in cases {
            assert_eq!(
                validate_export_to("default", &s(list), *se, false).len(),
                *n,
                "{list:?}"
            );
        }
        assert_eq!(
            validate_export_to("default", &s(&["ns1"]), false, true).len(),
            1
        );
        assert!(validate_export_to("default", &s(&["."]), false, true).is_empty());
    }

    #[test]
    fn misc() {
        assert!(validate_http_method("GET").is_ok());
        assert!(validate_http_method("get").is_err());
        assert!(is_known_http_status(503));
        assert!(!is_known_http_status(306));
        assert!(!is_known_http_status(0));
        assert!(validate_partial_wildcard("*.a.com").is_ok());
        assert!(validate_partial_wildcard("*a.com").is_err());
    }
}
