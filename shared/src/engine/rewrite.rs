//! URI rewrites and redirects, with Envoy's semantics (what istiod configures:
//! `prefix_rewrite`, `regex_rewrite`, `RedirectAction`).

use regex_lite::Regex;

use super::decision::Redirect;
use super::request::Request;

/// `rewrite` of a rule, compiled.
#[derive(Debug, Clone)]
pub(crate) struct RewriteSpec {
    /// `rewrite.uri` (Envoy `prefix_rewrite`).
    pub(crate) uri: Option<String>,
    /// `rewrite.uriRegexRewrite`: the pattern and the substitution in regex-lite syntax.
    pub(crate) regex: Option<(Box<Regex>, String)>,
    pub(crate) authority: Option<String>,
}

/// Where the redirect port comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedirectPort {
    /// Keep the request's (Envoy default, `FROM_PROTOCOL_DEFAULT`).
    Keep,
    Fixed(u32),
    /// `FROM_REQUEST_PORT`: the listener port.
    FromRequest,
}

/// `redirect` of a rule, compiled.
#[derive(Debug, Clone)]
pub(crate) struct RedirectSpec {
    pub(crate) uri: Option<String>,
    pub(crate) authority: Option<String>,
    pub(crate) scheme: Option<String>,
    pub(crate) port: RedirectPort,
    pub(crate) status: u32,
}

/// Envoy `prefix_rewrite`: the first `matched_len` bytes of `:path` (the matched
/// prefix, or the whole path without query for exact and regex matches) are
/// replaced by `replacement`; the rest, including the query, is kept.
/// So prefix `/api/` + rewrite `/` turns `/api/x` into `/x`, but prefix `/api` +
/// rewrite `/` turns `/api/x` into `//x`.
pub(crate) fn prefix_rewrite(full_path: &str, matched_len: usize, replacement: &str) -> String {
    let rest = full_path.get(matched_len..).unwrap_or("");
    let mut s = String::with_capacity(replacement.len() + rest.len());
    s.push_str(replacement);
    s.push_str(rest);
    s
}

/// Envoy `regex_rewrite`: every match of the pattern in the path (without query)
/// is substituted; the query is kept.
pub(crate) fn regex_rewrite(path: &str, query: Option<&str>, re: &Regex, sub: &str) -> String {
    let mut s = re.replace_all(path, sub).into_owned();
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

/// Converts an RE2 substitution (`\1` backreferences, as Envoy takes them) to
/// regex-lite's syntax (`${1}`, `$$` for a literal `$`).
pub(crate) fn convert_substitution(sub: &str) -> Result<String, String> {
    let mut out = String::with_capacity(sub.len() + 8);
    let mut chars = sub.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    out.push_str("${");
                    out.push(d);
                    out.push('}');
                }
                Some('\\') => out.push('\\'),
                Some(o) => {
                    return Err(format!(
                        "invalid rewrite {sub:?}: \\{o} (only \\0-\\9 and \\\\ are allowed)"
                    ))
                }
                None => return Err(format!("invalid rewrite {sub:?}: trailing \\")),
            },
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The redirect for `req`, as Envoy builds the `location` (`RouteEntryImplBase::newUri`)
/// from what istiod configured (`ApplyRedirect`).
pub(crate) fn redirect(spec: &RedirectSpec, req: &Request<'_>, listener_port: u32) -> Redirect {
    let scheme = spec
        .scheme
        .clone()
        .unwrap_or_else(|| req.scheme.to_ascii_lowercase());
    // istiod: the port is set only from `port`/`derivePort`, and dropped when it is
    // the scheme's default.
    let port = match spec.port {
        RedirectPort::Keep => None,
        RedirectPort::Fixed(p) => Some(p),
        RedirectPort::FromRequest => Some(listener_port),
    }
    .filter(|p| !((*p == 80 && scheme == "http") || (*p == 443 && scheme == "https")));
    let authority = match (&spec.authority, port) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.clone(),
        (None, p) => {
            // Envoy `processRequestHost`: the request host, its port replaced by a
            // redirect port, or dropped when the scheme changes away from its default.
            let host = crate::host::strip_port(req.authority);
            let req_port = req.authority.get(host.len()..).unwrap_or("");
            let from = req.scheme.to_ascii_lowercase();
            let drop = p.is_some()
                || (scheme != from
                    && ((from == "https" && req_port == ":443")
                        || (from == "http" && req_port == ":80")));
            let base = if drop { host } else { req.authority };
            match p {
                Some(p) => format!("{base}:{p}"),
                None => base.to_owned(),
            }
        }
    };
    let path = match spec.uri.as_deref().filter(|u| !u.is_empty()) {
        // Envoy `path_redirect`: a query in it replaces the request's, else the
        // request's query is kept.
        Some(u) if u.contains('?') => u.to_owned(),
        Some(u) => match req.path.split_once('?') {
            Some((_, q)) => format!("{u}?{q}"),
            None => u.to_owned(),
        },
        None => req.path.to_owned(),
    };
    // Envoy `newUri`: a path that does not start with `/` gets one.
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let location = format!("{scheme}://{authority}{path}");
    Redirect {
        status: spec.status,
        scheme,
        authority,
        path,
        location,
    }
}

/// Decodes standard base64 (with or without padding); `HTTPBody.bytes` is a proto
/// `bytes` field, base64 in YAML/JSON.
pub(crate) fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="))
        .unwrap_or(&clean);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in body {
        let v = val(c).ok_or_else(|| format!("invalid base64 in body.bytes: {:?}", c as char))?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("invalid base64 length in body.bytes".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_rewrite_semantics() {
        // Envoy replaces exactly the matched prefix.
        assert_eq!(prefix_rewrite("/api/x?q=1", 5, "/"), "/x?q=1");
        assert_eq!(prefix_rewrite("/api/x", 4, "/"), "//x");
        assert_eq!(prefix_rewrite("/api", 4, "/"), "/");
        assert_eq!(prefix_rewrite("/api", 4, "/v2"), "/v2");
        assert_eq!(prefix_rewrite("/x", 1, "/v1/"), "/v1/x");
        assert_eq!(prefix_rewrite("/x", 1, "/v1"), "/v1x");
    }

    #[test]
    fn substitutions() {
        assert_eq!(convert_substitution(r"/v2/\1").unwrap(), "/v2/${1}");
        assert_eq!(convert_substitution("$x").unwrap(), "$$x");
        assert!(convert_substitution(r"\q").is_err());
        let re = Regex::new("^/service/([^/]+)(/.*)$").unwrap();
        let sub = convert_substitution(r"\2/instance/\1").unwrap();
        assert_eq!(
            regex_rewrite("/service/foo/v1/api", Some("a=1"), &re, &sub),
            "/v1/api/instance/foo?a=1"
        );
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("dGVh").unwrap(), b"tea");
        assert_eq!(decode_base64("dGVhcG90").unwrap(), b"teapot");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert!(decode_base64("a").is_err());
        assert!(decode_base64("a*b=").is_err());
    }

    #[test]
    fn redirects() {
        let spec = RedirectSpec {
            uri: Some("/new".into()),
            authority: None,
            scheme: Some("https".into()),
            port: RedirectPort::Keep,
            status: 301,
        };
        let r = Request::new("GET", "example.com:80", "/old?a=1");
        let out = redirect(&spec, &r, 80);
        assert_eq!(out.location, "https://example.com/new?a=1");
        let spec2 = RedirectSpec {
            uri: None,
            authority: Some("other.com".into()),
            scheme: None,
            port: RedirectPort::FromRequest,
            status: 302,
        };
        let out = redirect(&spec2, &r, 8080);
        assert_eq!(out.location, "http://other.com:8080/old?a=1");
        let out = redirect(&spec2, &r, 80);
        assert_eq!(out.location, "http://other.com/old?a=1");
    }
}
