//! The request the engine decides on: borrowed, so the filter can pass Envoy's
//! header map and the CLI its parsed flags without copying.

use std::borrow::Cow;

use serde::Serialize;

/// Request headers, borrowed in whichever form the host has them.
///
/// Names are compared ASCII case-insensitively; a header given several times is
/// matched on its values joined with `,` (as Envoy does).
#[derive(Debug, Clone, Copy)]
pub enum HeaderList<'a> {
    /// `(name, value)` string slices.
    Borrowed(&'a [(&'a str, &'a str)]),
    /// `(name, value)` owned strings (proxy-wasm's `get_http_request_headers()`).
    Owned(&'a [(String, String)]),
}

impl Default for HeaderList<'_> {
    fn default() -> Self {
        HeaderList::Borrowed(&[])
    }
}

impl<'a> From<&'a [(&'a str, &'a str)]> for HeaderList<'a> {
    fn from(h: &'a [(&'a str, &'a str)]) -> Self {
        HeaderList::Borrowed(h)
    }
}

impl<'a, const N: usize> From<&'a [(&'a str, &'a str); N]> for HeaderList<'a> {
    fn from(h: &'a [(&'a str, &'a str); N]) -> Self {
        HeaderList::Borrowed(h)
    }
}

impl<'a> From<&'a Vec<(&'a str, &'a str)>> for HeaderList<'a> {
    fn from(h: &'a Vec<(&'a str, &'a str)>) -> Self {
        HeaderList::Borrowed(h)
    }
}

impl<'a> From<&'a [(String, String)]> for HeaderList<'a> {
    fn from(h: &'a [(String, String)]) -> Self {
        HeaderList::Owned(h)
    }
}

impl<'a> From<&'a Vec<(String, String)>> for HeaderList<'a> {
    fn from(h: &'a Vec<(String, String)>) -> Self {
        HeaderList::Owned(h)
    }
}

impl<'a> HeaderList<'a> {
    /// Every `(name, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        type Halves<'a> = (&'a [(&'a str, &'a str)], &'a [(String, String)]);
        let (b, o): Halves<'a> = match *self {
            HeaderList::Borrowed(b) => (b, &[]),
            HeaderList::Owned(o) => (&[], o),
        };
        b.iter()
            .map(|(k, v)| (*k, *v))
            .chain(o.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The value of header `name` (values of repeated headers joined with `,`);
    /// allocates only for a repeated header.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        let mut it = self
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v);
        let first = it.next()?;
        match it.next() {
            None => Some(Cow::Borrowed(first)),
            Some(second) => {
                let mut s = String::with_capacity(first.len() + second.len() + 1);
                s.push_str(first);
                s.push(',');
                s.push_str(second);
                for v in it {
                    s.push(',');
                    s.push_str(v);
                }
                Some(Cow::Owned(s))
            }
        }
    }
}

/// An HTTP request as the engine sees it.
///
/// `path` is Envoy's `:path` (with query string). `port` is the listener port
/// (the service port a sidecar intercepted, or the gateway server port); when
/// `None` it is taken from `authority`, else 80 (`http`) or 443 (`https`).
///
/// `source_labels` / `source_namespace` describe the workload that sends the
/// request (in the filter: the proxy's own workload; at a gateway: the gateway
/// pod) and are what `sourceLabels` / `sourceNamespace` match on. Short host names
/// in `authority` (`reviews`) are resolved in `source_namespace`, else the
/// engine's default namespace.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// `http` or `https` (`:scheme`).
    pub scheme: &'a str,
    /// `:authority` / `Host`, possibly with a port.
    pub authority: &'a str,
    /// `:path`, including any query string.
    pub path: &'a str,
    pub port: Option<u32>,
    pub headers: HeaderList<'a>,
    pub source_labels: &'a [(&'a str, &'a str)],
    pub source_namespace: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with scheme `http`, no headers, no port and no source metadata.
    pub fn new(method: &'a str, authority: &'a str, path: &'a str) -> Request<'a> {
        Request {
            method,
            scheme: "http",
            authority,
            path,
            port: None,
            headers: HeaderList::default(),
            source_labels: &[],
            source_namespace: None,
        }
    }

    /// Builds a request from a header list that holds Envoy's pseudo-headers
    /// (`:method`, `:authority` or `host`, `:path`, `:scheme`), as proxy-wasm
    /// returns them. Missing pseudo-headers read as `GET`, `""`, `/`, `http`.
    pub fn from_headers(headers: impl Into<HeaderList<'a>>) -> Request<'a> {
        let headers = headers.into();
        let mut r = Request::new("GET", "", "/");
        r.headers = headers;
        let mut host = None;
        for (k, v) in headers.iter() {
            match k {
                ":method" => r.method = v,
                ":authority" => r.authority = v,
                ":path" => r.path = v,
                ":scheme" => r.scheme = v,
                _ if host.is_none() && k.eq_ignore_ascii_case("host") => host = Some(v),
                _ => {}
            }
        }
        if r.authority.is_empty() {
            if let Some(h) = host {
                r.authority = h;
            }
        }
        r
    }

    /// Sets the headers.
    pub fn with_headers(mut self, headers: impl Into<HeaderList<'a>>) -> Self {
        self.headers = headers.into();
        self
    }

    /// Sets the listener port.
    pub fn with_port(mut self, port: u32) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the scheme.
    pub fn with_scheme(mut self, scheme: &'a str) -> Self {
        self.scheme = scheme;
        self
    }

    /// Sets the source workload's labels and namespace.
    pub fn with_source(
        mut self,
        labels: &'a [(&'a str, &'a str)],
        namespace: Option<&'a str>,
    ) -> Self {
        self.source_labels = labels;
        self.source_namespace = namespace;
        self
    }

    /// A header's value; pseudo-headers `:method`, `:authority`, `:scheme`,
    /// `:path` come from the request fields. `name` must be lowercase.
    pub fn header(&self, name: &str) -> Option<Cow<'a, str>> {
        if let Some(pseudo) = name.strip_prefix(':') {
            let v = match pseudo {
                "method" => self.method,
                "authority" => self.authority,
                "scheme" => self.scheme,
                "path" => self.path,
                _ => return self.headers.get(name),
            };
            return Some(Cow::Borrowed(v));
        }
        self.headers.get(name)
    }

    /// The listener port: `port`, else the `:authority` port, else 80/443 by scheme.
    pub fn effective_port(&self) -> u32 {
        self.port_with(split_host_port(self.authority).1)
    }

    /// `effective_port` with the authority's port already parsed.
    #[inline]
    pub(crate) fn port_with(&self, authority_port: Option<u32>) -> u32 {
        if let Some(p) = self.port.or(authority_port) {
            return p;
        }
        if self.scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        }
    }

    /// The path without query string and fragment (what Envoy matches URIs on).
    pub fn path_only(&self) -> &'a str {
        split_path(self.path).0
    }
}

/// Splits `:path` into (path, query) at `?`, dropping any `#fragment` (one scan).
#[inline]
pub(crate) fn split_path(p: &str) -> (&str, Option<&str>) {
    let b = p.as_bytes();
    let Some(i) = b.iter().position(|&c| c == b'?' || c == b'#') else {
        return (p, None);
    };
    let path = p.get(..i).unwrap_or(p);
    if b.get(i) == Some(&b'#') {
        return (path, None);
    }
    let rest = p.get(i + 1..).unwrap_or("");
    let query = match rest.as_bytes().iter().position(|&c| c == b'#') {
        Some(j) => rest.get(..j).unwrap_or(rest),
        None => rest,
    };
    (path, Some(query))
}

/// Splits an authority into host and port (`reviews:9080` → (`reviews`, 9080),
/// `[::1]:80` → (`[::1]`, 80)); one backward scan, no allocation.
#[inline]
pub(crate) fn split_host_port(authority: &str) -> (&str, Option<u32>) {
    let b = authority.as_bytes();
    let mut i = b.len();
    let mut port: u32 = 0;
    let mut scale: u32 = 1;
    while i > 0 {
        match b.get(i - 1) {
            Some(d) if d.is_ascii_digit() && scale <= 10_000 => {
                port += u32::from(d - b'0') * scale;
                scale *= 10;
                i -= 1;
            }
            _ => break,
        }
    }
    if i == 0 || i == b.len() || b.get(i - 1) != Some(&b':') {
        return (authority, None);
    }
    let host = authority.get(..i - 1).unwrap_or(authority);
    // An unbracketed IPv6 address has no port.
    if !host.starts_with('[') && host.as_bytes().contains(&b':') {
        return (authority, None);
    }
    if scale > 100_000 || port > 65_535 {
        return (host, None);
    }
    (host, Some(port))
}

/// A serializable copy of the request, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestSummary {
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub path: String,
    pub port: u32,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_namespace: Option<String>,
}

impl From<&Request<'_>> for RequestSummary {
    fn from(r: &Request<'_>) -> Self {
        RequestSummary {
            method: r.method.into(),
            scheme: r.scheme.into(),
            authority: r.authority.into(),
            path: r.path.into(),
            port: r.effective_port(),
            headers: r
                .headers
                .iter()
                .filter(|(k, _)| !k.starts_with(':'))
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            source_labels: r
                .source_labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            source_namespace: r.source_namespace.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive_and_joins_repeats() {
        let h = [("End-User", "jason"), ("x", "1"), ("X", "2")];
        let r = Request::new("GET", "reviews", "/").with_headers(&h);
        assert_eq!(r.header("end-user").as_deref(), Some("jason"));
        assert_eq!(r.header("x").as_deref(), Some("1,2"));
        assert_eq!(r.header("y"), None);
        assert_eq!(r.header(":method").as_deref(), Some("GET"));
    }

    #[test]
    fn from_pseudo_headers() {
        let h = vec![
            (":method".to_string(), "POST".to_string()),
            (":authority".to_string(), "reviews:9080".to_string()),
            (":path".to_string(), "/a?b=1".to_string()),
            ("end-user".to_string(), "jason".to_string()),
        ];
        let r = Request::from_headers(&h);
        assert_eq!(
            (r.method, r.authority, r.path),
            ("POST", "reviews:9080", "/a?b=1")
        );
        assert_eq!(r.effective_port(), 9080);
        assert_eq!(r.path_only(), "/a");
        let h2 = [("host", "example.com")];
        assert_eq!(Request::from_headers(&h2).authority, "example.com");
    }

    #[test]
    fn ports_and_paths() {
        assert_eq!(Request::new("GET", "a", "/").effective_port(), 80);
        assert_eq!(
            Request::new("GET", "a", "/")
                .with_scheme("https")
                .effective_port(),
            443
        );
        assert_eq!(
            Request::new("GET", "[::1]:8080", "/").effective_port(),
            8080
        );
        assert_eq!(split_path("/a?x=1#f"), ("/a", Some("x=1")));
        assert_eq!(split_path("/a#f?x"), ("/a", None));
        assert_eq!(split_path("/a?"), ("/a", Some("")));
        assert_eq!(split_host_port("a:80"), ("a", Some(80)));
        assert_eq!(split_host_port("a"), ("a", None));
        assert_eq!(split_host_port("a:"), ("a:", None));
        assert_eq!(split_host_port("[::1]:8080"), ("[::1]", Some(8080)));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(split_host_port("a:99999"), ("a", None));
    }
}
