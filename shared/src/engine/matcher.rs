//! Precompiled string matchers and HTTP match blocks, evaluated without allocating.
//!
//! A [`StrMatcher`] is Istio's `StringMatch` as istiod hands it to Envoy
//! (`pilot/pkg/networking/core/route/route.go`, `translateHeaderMatch`):
//! `exact`/`prefix`/`regex`, and "present" for an empty `StringMatch` `{}` or the
//! regex `*` (`canBeConvertedToPresentMatch`). Regexes are RE2 syntax compiled with
//! `regex-lite` and anchored at both ends, like Envoy's `safe_regex` full match.

use std::fmt::Write as _;

use regex_lite::Regex;

use super::request::Request;
use super::simple_re::SimpleRegex;

/// One precompiled `StringMatch`.
#[derive(Debug, Clone)]
pub(crate) enum StrMatcher {
    Exact(Box<str>),
    Prefix(Box<str>),
    /// A full-match regex.
    Regex(Box<RegexMatcher>),
    /// `{}` or `regex: "*"`: the header (query parameter) only has to be present.
    Present,
}

impl StrMatcher {
    /// Compiles a `StringMatch`. Two alternatives set at once is an error (a oneof).
    pub(crate) fn compile(m: &crate::model::StringMatch) -> Result<StrMatcher, String> {
        let set = [m.exact.is_some(), m.prefix.is_some(), m.regex.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if set > 1 {
            return Err(
                "StringMatch sets more than one of exact, prefix and regex (a oneof)".into(),
            );
        }
        if let Some(e) = &m.exact {
            return Ok(StrMatcher::Exact(e.as_str().into()));
        }
        if let Some(p) = &m.prefix {
            return Ok(StrMatcher::Prefix(p.as_str().into()));
        }
        if let Some(r) = &m.regex {
            // istiod turns the (non-RE2) regex `*` into a present match.
            if r == "*" {
                return Ok(StrMatcher::Present);
            }
            return Ok(StrMatcher::Regex(Box::new(RegexMatcher::new(r)?)));
        }
        Ok(StrMatcher::Present)
    }

    #[inline]
    pub(crate) fn matches(&self, v: &str) -> bool {
        match self {
            StrMatcher::Exact(e) => v == &**e,
            StrMatcher::Prefix(p) => v.starts_with(&**p),
            StrMatcher::Regex(re) => re.is_match(v),
            StrMatcher::Present => true,
        }
    }

    /// `exact "jason"`, `prefix "/api"`, `regex "v[0-9]+"`, `present`.
    pub(crate) fn describe(&self) -> String {
        match self {
            StrMatcher::Exact(e) => format!("exact {e:?}"),
            StrMatcher::Prefix(p) => format!("prefix {p:?}"),
            StrMatcher::Regex(r) => format!("regex {:?}", &*r.src),
            StrMatcher::Present => "present".into(),
        }
    }

    /// Why `v` does not match: `exact "jason" != "bob"`, `prefix "/api" does not match "/x"`.
    pub(crate) fn mismatch(&self, v: &str) -> String {
        match self {
            StrMatcher::Exact(e) => format!("exact {e:?} != {v:?}"),
            _ => format!("{} does not match {v:?}", self.describe()),
        }
    }
}

/// A regex matched against the whole value (Envoy's `safe_regex` is a full match):
/// `regex-lite` compiled with `^(?:…)$`, plus a fast path for simple patterns.
#[derive(Debug, Clone)]
pub(crate) struct RegexMatcher {
    re: Regex,
    fast: Option<SimpleRegex>,
    /// A literal every match contains: checked before running regex-lite.
    required: Option<Box<str>>,
    /// The pattern as written.
    pub(crate) src: Box<str>,
}

impl RegexMatcher {
    /// Compiles `pattern`; regex-lite decides validity (RE2 syntax, no Unicode classes).
    pub(crate) fn new(pattern: &str) -> Result<RegexMatcher, String> {
        let re = Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| format!("invalid regex {pattern:?}: {e}"))?;
        let fast = SimpleRegex::compile(pattern);
        let required = if fast.is_none() {
            required_literal(pattern).map(Into::into)
        } else {
            None
        };
        Ok(RegexMatcher {
            re,
            fast,
            required,
            src: pattern.into(),
        })
    }

    #[inline]
    pub(crate) fn is_match(&self, v: &str) -> bool {
        if let Some(f) = &self.fast {
            return f.is_match(v);
        }
        if let Some(lit) = &self.required {
            if !v.contains(&**lit) {
                return false;
            }
        }
        self.re.is_match(v)
    }
}

/// The longest literal (2+ characters) outside groups and classes that every
/// match of `pattern` contains, for regexes the fast path does not handle:
/// `(/v1|/v2)/svc/.*` → `/svc/`. `None` with top-level alternation or flags.
pub(crate) fn required_literal(pattern: &str) -> Option<String> {
    if pattern.contains("(?") {
        return None;
    }
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut chars = pattern.chars().peekable();
    let end_run = |run: &mut String, runs: &mut Vec<String>| {
        if !run.is_empty() {
            runs.push(std::mem::take(run));
        }
    };
    while let Some(c) = chars.next() {
        if depth > 0 {
            match c {
                '\\' => {
                    chars.next();
                }
                '(' => depth += 1,
                ')' => depth -= 1,
                '[' => skip_class(&mut chars),
                _ => {}
            }
            continue;
        }
        let lit = match c {
            '|' => return None,
            '(' => {
                end_run(&mut run, &mut runs);
                depth = 1;
                continue;
            }
            '[' => {
                end_run(&mut run, &mut runs);
                skip_class(&mut chars);
                continue;
            }
            '\\' => match chars.next() {
                Some(n) if n.is_ascii_punctuation() => n,
                _ => {
                    end_run(&mut run, &mut runs);
                    continue;
                }
            },
            '.' | '+' | '*' | '?' | '{' | '}' | '^' | '$' | ')' | ']' => {
                end_run(&mut run, &mut runs);
                continue;
            }
            other => other,
        };
        match chars.peek() {
            Some('?') | Some('*') | Some('{') => end_run(&mut run, &mut runs),
            Some('+') => {
                run.push(lit);
                end_run(&mut run, &mut runs);
            }
            _ => run.push(lit),
        }
    }
    end_run(&mut run, &mut runs);
    runs.into_iter()
        .filter(|r| r.chars().count() >= 2)
        .max_by_key(|r| r.len())
}

/// Skips a `[...]` class (after its `[`).
fn skip_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            ']' if !first => return,
            '[' if chars.peek() == Some(&':') => {
                // POSIX class `[:alpha:]`
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                }
            }
            _ => {}
        }
        first = false;
    }
}

/// The literal text every full match of `pattern` must start with, or `""` when
/// none can be proven (alternation, groups, classes or flags before any literal).
/// Used only to index regex URI matches; the regex itself is still evaluated.
pub(crate) fn literal_prefix(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        let lit = match c {
            '\\' => match chars.next() {
                Some(n) if n.is_ascii_punctuation() => n,
                _ => break,
            },
            '.' | '+' | '*' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '^' | '$' => break,
            other => other,
        };
        match chars.peek() {
            // The literal may be absent: it is not part of the prefix.
            Some('?') | Some('*') | Some('{') => break,
            // At least once: keep it, but what follows is repeated.
            Some('+') => {
                out.push(lit);
                break;
            }
            _ => out.push(lit),
        }
    }
    out
}

/// The URI condition of a match block: Envoy's `prefix` / `path` / `safe_regex`
/// path specifier with `case_sensitive: !ignoreUriCase`. Case is ignored only for
/// exact and prefix (Istio docs, `ignore_uri_case`).
#[derive(Debug, Clone)]
pub(crate) struct UriMatcher {
    pub(crate) m: StrMatcher,
    pub(crate) ignore_case: bool,
}

impl UriMatcher {
    /// Length of the matched prefix of `path` (the path without query), for
    /// Envoy's `prefix_rewrite`: the prefix for prefix matches, the whole path
    /// for exact and regex matches.
    #[inline]
    pub(crate) fn matched_len(&self, path: &str) -> Option<usize> {
        match &self.m {
            StrMatcher::Exact(e) => {
                let ok = if self.ignore_case {
                    path.eq_ignore_ascii_case(e)
                } else {
                    path == &**e
                };
                ok.then_some(path.len())
            }
            StrMatcher::Prefix(p) => {
                let ok = if self.ignore_case {
                    path.len() >= p.len()
                        && path
                            .as_bytes()
                            .get(..p.len())
                            .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
                } else {
                    path.starts_with(&**p)
                };
                ok.then_some(p.len())
            }
            StrMatcher::Regex(re) => re.is_match(path).then_some(path.len()),
            StrMatcher::Present => Some(0),
        }
    }

    fn describe(&self) -> String {
        let mut s = self.m.describe();
        if self.ignore_case && !matches!(self.m, StrMatcher::Regex(_)) {
            s.push_str(" (ignoreUriCase)");
        }
        s
    }
}

/// A condition with the field path it came from (for explanations).
#[derive(Debug, Clone)]
pub(crate) struct Cond<T> {
    pub(crate) c: T,
    /// Full field path inside its resource, e.g. `spec.http[0].match[0].headers.end-user`.
    pub(crate) path: Box<str>,
    /// Index of the resource (VirtualService) that holds `path`.
    pub(crate) vs: u32,
}

/// A header (or query parameter) condition.
#[derive(Debug, Clone)]
pub(crate) struct NamedMatcher {
    /// Lowercase for headers; as written for query parameters.
    pub(crate) name: Box<str>,
    pub(crate) m: StrMatcher,
}

/// One compiled `HTTPMatchRequest`: all conditions AND.
#[derive(Debug, Clone, Default)]
pub(crate) struct MatchBlock {
    pub(crate) name: Option<Box<str>>,
    /// `spec.http[i].match[j]` in the VirtualService that defines it.
    pub(crate) path: Box<str>,
    pub(crate) vs: u32,
    pub(crate) port: Option<Cond<u32>>,
    /// Resolved gateway names (`ns/name` or `mesh`).
    pub(crate) gateways: Option<Cond<Vec<String>>>,
    pub(crate) source_labels: Option<Cond<Vec<(String, String)>>>,
    pub(crate) source_namespace: Option<Cond<String>>,
    pub(crate) method: Option<Cond<StrMatcher>>,
    pub(crate) scheme: Option<Cond<StrMatcher>>,
    pub(crate) authority: Option<Cond<StrMatcher>>,
    pub(crate) uri: Option<Cond<UriMatcher>>,
    pub(crate) headers: Vec<Cond<NamedMatcher>>,
    pub(crate) without_headers: Vec<Cond<NamedMatcher>>,
    pub(crate) query_params: Vec<Cond<NamedMatcher>>,
}

/// Receives failed conditions. The hot path uses [`Silent`], which stops at the
/// first failure and compiles to nothing; explanations collect every failure.
pub(crate) trait Report {
    /// Stop at the first failure?
    const SHORT_CIRCUIT: bool;
    /// `path` is the condition's full field path; `msg` builds the explanation.
    fn fail(&mut self, vs: u32, path: &str, msg: impl FnOnce() -> String);
}

/// No reporting: evaluation stops at the first failed condition.
pub(crate) struct Silent;

impl Report for Silent {
    const SHORT_CIRCUIT: bool = true;
    #[inline(always)]
    fn fail(&mut self, _vs: u32, _path: &str, _msg: impl FnOnce() -> String) {}
}

/// A failed condition, for explanations.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) vs: u32,
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Collects every failed condition.
#[derive(Default)]
pub(crate) struct Collect(pub(crate) Vec<Failure>);

impl Report for Collect {
    const SHORT_CIRCUIT: bool = false;
    fn fail(&mut self, vs: u32, path: &str, msg: impl FnOnce() -> String) {
        self.0.push(Failure {
            vs,
            path: path.to_owned(),
            message: msg(),
        });
    }
}

/// The per-request facts a match block is evaluated against.
pub(crate) struct Ctx<'r, 'a> {
    pub(crate) req: &'r Request<'a>,
    /// The path without query string and fragment.
    pub(crate) path: &'a str,
    /// The query string (after `?`, without fragment), if any.
    pub(crate) query: Option<&'a str>,
    /// The listener port (explicit, from `:authority`, or the scheme's default).
    pub(crate) port: u32,
    /// `mesh` or `ns/name`.
    pub(crate) gateway: &'r str,
}

macro_rules! check {
    ($r:expr, $failed:ident, $ok:expr, $cond:expr, $msg:expr) => {
        if !$ok {
            $r.fail($cond.vs, &$cond.path, $msg);
            if R::SHORT_CIRCUIT {
                return None;
            }
            $failed = true;
        }
    };
}

impl MatchBlock {
    /// Evaluates every condition (AND). Returns the matched URI prefix length
    /// (for `prefix_rewrite`) when the block matches.
    pub(crate) fn eval<R: Report>(&self, cx: &Ctx<'_, '_>, r: &mut R) -> Option<usize> {
        let mut failed = false;
        if let Some(p) = &self.port {
            check!(r, failed, p.c == cx.port, p, || format!(
                "port {} != request port {}",
                p.c, cx.port
            ));
        }
        // istiod `sourceMatchHTTP`: match-level gateways, when given, replace the
        // source checks; otherwise sourceLabels ⊆ proxy labels and sourceNamespace.
        if let Some(g) = &self.gateways {
            let ok = g.c.iter().any(|n| n == cx.gateway);
            check!(r, failed, ok, g, || format!(
                "gateways {:?} do not include {:?}",
                g.c, cx.gateway
            ));
        } else {
            if let Some(l) = &self.source_labels {
                let labels = cx.req.source_labels;
                let ok =
                    l.c.iter()
                        .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v));
                check!(r, failed, ok, l, || {
                    let want: Vec<String> = l.c.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let have: Vec<String> =
                        labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!(
                        "sourceLabels {{{}}} not all in the source workload's labels {{{}}}",
                        want.join(","),
                        have.join(",")
                    )
                });
            }
            if let Some(ns) = &self.source_namespace {
                let ok = cx.req.source_namespace == Some(&*ns.c);
                check!(r, failed, ok, ns, || format!(
                    "sourceNamespace {:?} != {}",
                    ns.c,
                    match cx.req.source_namespace {
                        Some(s) => format!("{s:?}"),
                        None => "(none given)".into(),
                    }
                ));
            }
        }
        if let Some(m) = &self.method {
            check!(r, failed, m.c.matches(cx.req.method), m, || m
                .c
                .mismatch(cx.req.method));
        }
        if let Some(m) = &self.scheme {
            check!(r, failed, m.c.matches(cx.req.scheme), m, || m
                .c
                .mismatch(cx.req.scheme));
        }
        if let Some(m) = &self.authority {
            check!(r, failed, m.c.matches(cx.req.authority), m, || m
                .c
                .mismatch(cx.req.authority));
        }
        let mut matched = 1; // no uri: Envoy's prefix "/"
        if let Some(u) = &self.uri {
            match u.c.matched_len(cx.path) {
                Some(n) => matched = n,
                None => {
                    check!(r, failed, false, u, || {
                        let d = u.c.describe();
                        match &u.c.m {
                            StrMatcher::Exact(e) if !u.c.ignore_case => {
                                format!("exact {e:?} != {:?}", cx.path)
                            }
                            _ => format!("{d} does not match {:?}", cx.path),
                        }
                    });
                }
            }
        }
        for h in &self.headers {
            let v = cx.req.header(&h.c.name);
            let ok = match &v {
                Some(v) => h.c.m.matches(v),
                None => false,
            };
            check!(r, failed, ok, h, || match &v {
                Some(v) => h.c.m.mismatch(v),
                None => format!("header {:?} is absent ({})", &*h.c.name, h.c.m.describe()),
            });
        }
        for h in &self.without_headers {
            // Envoy `invert_match`, with `treat_missing_header_as_empty` unless present-match.
            let v = cx.req.header(&h.c.name);
            let hit = match (&h.c.m, &v) {
                (StrMatcher::Present, v) => v.is_some(),
                (m, Some(v)) => m.matches(v),
                (m, None) => m.matches(""),
            };
            check!(r, failed, !hit, h, || match &v {
                Some(v) => format!(
                    "{} matches {v:?} (withoutHeaders excludes it)",
                    h.c.m.describe()
                ),
                None => format!(
                    "{} matches the absent header (read as \"\"; withoutHeaders excludes it)",
                    h.c.m.describe()
                ),
            });
        }
        for q in &self.query_params {
            let v = query_param(cx.query, &q.c.name);
            let ok = match v {
                Some(v) => q.c.m.matches(v),
                None => false,
            };
            check!(r, failed, ok, q, || match v {
                Some(v) => q.c.m.mismatch(v),
                None => format!(
                    "query parameter {:?} is absent ({})",
                    &*q.c.name,
                    q.c.m.describe()
                ),
            });
        }
        if failed {
            None
        } else {
            Some(matched)
        }
    }

    /// Envoy/istiod `IsCatchAllRoute`: URI `/` prefix (or none) or regex `.*`, no
    /// header or query conditions. Used to sort gateway routes.
    pub(crate) fn is_catch_all(&self) -> bool {
        let uri_all = match &self.uri {
            None => true,
            Some(u) => match &u.c.m {
                StrMatcher::Prefix(p) => &**p == "/",
                StrMatcher::Regex(r) => &*r.src == ".*",
                StrMatcher::Present => true,
                StrMatcher::Exact(_) => false,
            },
        };
        uri_all
            && self.headers.is_empty()
            && self.without_headers.is_empty()
            && self.query_params.is_empty()
            && self.method.is_none()
            && self.scheme.is_none()
            && self.authority.is_none()
    }

    /// A one-line summary of the conditions (for explanations).
    pub(crate) fn summary(&self) -> String {
        let mut s = String::new();
        let sep = |s: &mut String| {
            if !s.is_empty() {
                s.push_str(", ");
            }
        };
        if let Some(u) = &self.uri {
            sep(&mut s);
            let _ = write!(s, "uri {}", u.c.describe());
        }
        for (label, m) in [
            ("method", &self.method),
            ("scheme", &self.scheme),
            ("authority", &self.authority),
        ] {
            if let Some(m) = m {
                sep(&mut s);
                let _ = write!(s, "{label} {}", m.c.describe());
            }
        }
        for h in &self.headers {
            sep(&mut s);
            let _ = write!(s, "header {} {}", h.c.name, h.c.m.describe());
        }
        for h in &self.without_headers {
            sep(&mut s);
            let _ = write!(s, "without header {} {}", h.c.name, h.c.m.describe());
        }
        for q in &self.query_params {
            sep(&mut s);
            let _ = write!(s, "query {} {}", q.c.name, q.c.m.describe());
        }
        if let Some(p) = &self.port {
            sep(&mut s);
            let _ = write!(s, "port {}", p.c);
        }
        if let Some(g) = &self.gateways {
            sep(&mut s);
            let _ = write!(s, "gateways {:?}", g.c);
        }
        if s.is_empty() {
            s.push_str("any request");
        }
        s
    }
}

/// The first value of query parameter `name` in `query` (raw, not URL-decoded, as
/// Envoy's route `query_parameters` matcher sees it). `?key` has the value `""`.
#[inline]
pub(crate) fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    let q = query?;
    for pair in q.split('&') {
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (k, v),
            None => (pair, ""),
        };
        if k == name {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StringMatch;

    fn sm(exact: Option<&str>, prefix: Option<&str>, regex: Option<&str>) -> StringMatch {
        StringMatch {
            exact: exact.map(Into::into),
            prefix: prefix.map(Into::into),
            regex: regex.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn string_matchers() {
        let e = StrMatcher::compile(&sm(Some("a"), None, None)).unwrap();
        assert!(e.matches("a") && !e.matches("ab"));
        let p = StrMatcher::compile(&sm(None, Some("a"), None)).unwrap();
        assert!(p.matches("ab") && !p.matches("ba"));
        let r = StrMatcher::compile(&sm(None, None, Some("v[0-9]"))).unwrap();
        assert!(r.matches("v1") && !r.matches("xv1") && !r.matches("v12"));
        let alt = StrMatcher::compile(&sm(None, None, Some("a|b"))).unwrap();
        assert!(alt.matches("a") && alt.matches("b") && !alt.matches("ab"));
        assert!(matches!(
            StrMatcher::compile(&sm(None, None, None)).unwrap(),
            StrMatcher::Present
        ));
        assert!(matches!(
            StrMatcher::compile(&sm(None, None, Some("*"))).unwrap(),
            StrMatcher::Present
        ));
        assert!(StrMatcher::compile(&sm(Some("a"), Some("b"), None)).is_err());
        assert!(StrMatcher::compile(&sm(None, None, Some("("))).is_err());
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(literal_prefix("/api/v[0-9]+/.*"), "/api/v");
        assert_eq!(literal_prefix("^/api$"), "/api");
        assert_eq!(literal_prefix("/a|/b"), "");
        assert_eq!(literal_prefix("/ab?c"), "/a");
        assert_eq!(literal_prefix("/ab*"), "/a");
        assert_eq!(literal_prefix("/ab+"), "/ab");
        assert_eq!(literal_prefix("/a{2}"), "/");
        assert_eq!(literal_prefix("\\/x\\.y\\d"), "/x.y");
        assert_eq!(literal_prefix("(?i)/api"), "");
        assert_eq!(literal_prefix(".*"), "");
    }

    #[test]
    fn required_literals() {
        assert_eq!(
            required_literal("(/v1|/v2)/svc9/.*").as_deref(),
            Some("/svc9/")
        );
        assert_eq!(required_literal("x(a|b)yz+").as_deref(), Some("yz"));
        assert_eq!(required_literal("a|b"), None);
        assert_eq!(required_literal("(?i)abc"), None);
        assert_eq!(required_literal("[ab]cd?(e)"), None);
        assert_eq!(
            required_literal("\\.json(\\?.*)?").as_deref(),
            Some(".json")
        );
        // The prefilter never changes the answer.
        let mut rng = crate::engine::decision::SplitMix64(9);
        use crate::engine::decision::RandomSource;
        let alphabet = ['/', 'v', '1', '2', 's', 'x', 'y', 'z', '.', 'j'];
        for p in [
            "(/v1|/v2)/sx/.*",
            "x(y|z)yz+",
            "(v|s)+xy[12]*",
            ".*\\.jx(/.*)?",
            "((1|2)x)+yy",
        ] {
            let m = RegexMatcher::new(p).unwrap();
            assert!(m.fast.is_none() && m.required.is_some(), "{p}");
            for _ in 0..3000 {
                let n = rng.next_u32() % 10;
                let hay: String = (0..n)
                    .map(|_| alphabet[(rng.next_u32() % 10) as usize])
                    .collect();
                assert_eq!(m.is_match(&hay), m.re.is_match(&hay), "{p} on {hay}");
            }
        }
    }

    #[test]
    fn query_params() {
        assert_eq!(query_param(Some("a=1&b=2&a=3"), "a"), Some("1"));
        assert_eq!(query_param(Some("flag&b=2"), "flag"), Some(""));
        assert_eq!(query_param(Some("b=2"), "a"), None);
        assert_eq!(query_param(None, "a"), None);
    }
}
