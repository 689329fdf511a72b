//! MR112: a `regex` StringMatch that is really an `exact` or `prefix` match.
//!
//! Envoy's `safe_regex` matches the whole value (RE2 full match), so `^` and `$`
//! around a pattern are redundant, a pattern of literal characters is an exact
//! match, and literal characters followed by a final `.*` are a prefix match.

use super::{emit, Lint};
use crate::diag::Diagnostic;
use crate::load::Resource;
use crate::model::{HTTPMatchRequest, OptSliceExt, StringMatch, VirtualService};
use crate::yaml::{join_index, join_key};
use std::collections::BTreeMap;

type NamedMatches = BTreeMap<String, StringMatch>;

/// What a regex is equivalent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Simpler {
    Exact(String),
    Prefix(String),
}

/// The exact or prefix match equivalent to `re` under full-match semantics, if any.
pub(crate) fn simplify(re: &str) -> Option<Simpler> {
    let body = re.strip_prefix('^').unwrap_or(re);
    let mut literal = String::new();
    let mut chars = body.chars().peekable();
    let mut prefix = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                // `\.` `\/` `\-` …: an escaped punctuation character is itself.
                // `\d` `\w` `\b` `\A` `\Q` …: a class or assertion, not a literal.
                let next = chars.next()?;
                if next.is_ascii_alphanumeric() || next == '_' {
                    return None;
                }
                literal.push(next);
            }
            '.' => {
                // Only a final `.*` (optionally followed by `$`) is allowed.
                if chars.next() != Some('*') {
                    return None;
                }
                let rest: String = chars.by_ref().collect();
                if !(rest.is_empty() || rest == "$") {
                    return None;
                }
                prefix = true;
            }
            '$' => {
                if chars.peek().is_some() {
                    return None;
                }
            }
            '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' => return None,
            _ => {
                // A quantifier right after a literal (`/ab*`) changes its meaning.
                if matches!(chars.peek(), Some('*' | '+' | '?' | '{')) {
                    return None;
                }
                literal.push(c);
            }
        }
    }
    if literal.is_empty() {
        return None;
    }
    Some(if prefix {
        Simpler::Prefix(literal)
    } else {
        Simpler::Exact(literal)
    })
}

/// Checks every regex of every HTTP match of `vs`.
pub(super) fn check(r: &Resource, vs: &VirtualService, out: &mut Vec<Diagnostic>) {
    for (i, rule) in vs.http.items().iter().enumerate() {
        let rule_path = join_index("spec.http", i);
        for (j, m) in rule.r#match.items().iter().enumerate() {
            let mpath = join_index(&join_key(&rule_path, "match"), j);
            check_match(r, m, &mpath, out);
        }
    }
}

fn check_match(r: &Resource, m: &HTTPMatchRequest, mpath: &str, out: &mut Vec<Diagnostic>) {
    let single = [
        ("uri", m.uri.as_ref(), true),
        ("scheme", m.scheme.as_ref(), true),
        ("method", m.method.as_ref(), true),
        ("authority", m.authority.as_ref(), true),
    ];
    for (field, sm, prefix_ok) in single {
        if let Some(sm) = sm {
            check_one(r, sm, &join_key(mpath, field), field, prefix_ok, out);
        }
    }
    // Istio supports only `exact` and `regex` for query parameters.
    let maps: [(&str, &Option<NamedMatches>, bool); 3] = [
        ("headers", &m.headers, true),
        ("queryParams", &m.query_params, false),
        ("withoutHeaders", &m.without_headers, true),
    ];
    for (field, map, prefix_ok) in maps {
        for (name, sm) in map.iter().flatten() {
            let path = join_key(&join_key(mpath, field), name);
            check_one(r, sm, &path, &format!("{field} {name}"), prefix_ok, out);
        }
    }
}

fn check_one(
    r: &Resource,
    sm: &StringMatch,
    path: &str,
    what: &str,
    prefix_ok: bool,
    out: &mut Vec<Diagnostic>,
) {
    let Some(re) = sm.regex.as_deref() else {
        return;
    };
    let suggestion = match simplify(re) {
        Some(Simpler::Exact(s)) => format!("exact: {s:?}"),
        Some(Simpler::Prefix(s)) if prefix_ok => format!("prefix: {s:?}"),
        _ => return,
    };
    emit(
        out,
        r,
        Lint::MR112,
        join_key(path, "regex"),
        format!(
            "{what} regex {re:?} matches the same requests as `{suggestion}` \
             (Envoy regexes match the whole value); use `{suggestion}`"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplifies_literals_and_trailing_wildcards() {
        let e = |s: &str| Some(Simpler::Exact(s.to_owned()));
        let p = |s: &str| Some(Simpler::Prefix(s.to_owned()));
        let cases: &[(&str, Option<Simpler>)] = &[
            ("^/api/.*", p("/api/")),
            ("/api/.*$", p("/api/")),
            ("^/api/.*$", p("/api/")),
            ("/api", e("/api")),
            ("^/api$", e("/api")),
            ("/v1\\.0/.*", p("/v1.0/")),
            ("GET", e("GET")),
            ("^/a\\-b$", e("/a-b")),
            // Not simplifiable.
            ("/api/.+", None),
            ("/ap*", None),
            ("/a.*/b", None),
            ("/api/v[12]", None),
            ("GET|POST", None),
            ("(?i)/api", None),
            ("\\d+", None),
            (".*", None),
            ("^$", None),
            ("/a.b", None),
            ("/a\\.*", None),
            ("/a.*?", None),
            ("/a$b", None),
        ];
        for (re, want) in cases {
            assert_eq!(&simplify(re), want, "{re}");
        }
    }
}
