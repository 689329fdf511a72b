//! VirtualService delegation, merged the way istiod merges it before translating routes
//! (`mergeHTTPRoutes`, `mergeHTTPRoute`, `mergeHTTPMatchRequests`, `hasConflict`,
//! `stringMatchConflict`): a root rule with `delegate` is replaced by the rules of the
//! delegate VirtualService (one without hosts), each with the root's match conditions merged
//! into its own and the root's rewrite, directResponse, timeout, retries, fault, mirrors, CORS
//! policy and headers filling in what it leaves unset. A delegate rule whose match conflicts
//! with the root's is dropped. Like istiod (`initVirtualServices` resolves every
//! VirtualService's short names before `mergeVirtualServicesIfNeeded`; istio/istio#30387),
//! destination hosts and match gateways resolve in the namespace of the VirtualService
//! that wrote them: the delegate's for its own fields, the root's for inherited ones.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::diag::Level;
use crate::load::Resource;
use crate::model::{
    Destination, HTTPMatchRequest, HTTPRoute, OptSliceExt, StringMatch, VirtualService,
};

use super::{codes, Ctx};

/// The HTTP rules of `vs` with delegation resolved, each with the field path of the root rule.
pub(crate) fn effective_rules<'a>(
    ctx: &mut Ctx<'a>,
    vs_res: &'a Resource,
    vs: &'a VirtualService,
) -> Vec<(Cow<'a, HTTPRoute>, String)> {
    let mut out = Vec::new();
    let root_ns = vs_res.namespace_or(&ctx.opts.namespace).to_owned();
    for (i, http) in vs.http.items().iter().enumerate() {
        let path = format!("spec.http[{i}]");
        let Some(d) = &http.delegate else {
            out.push((Cow::Borrowed(http), path));
            continue;
        };
        let name = d.name.as_deref().unwrap_or("");
        let ns = d
            .namespace
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&root_ns)
            .to_owned();
        let default_ns = ctx.opts.namespace.clone();
        let child = ctx.resources.iter().copied().find(|r| {
            r.virtual_service()
                .is_some_and(|c| c.hosts.items().is_empty())
                && r.name() == name
                && r.namespace_or(&default_ns) == ns
        });
        let Some(child_vs) = child.and_then(Resource::virtual_service) else {
            ctx.diag(
                vs_res,
                codes::MR204,
                Level::Warning,
                format!("{path}.delegate"),
                format!("delegate VirtualService {ns}/{name} (one without hosts) not found: this rule is skipped, as by Istio"),
            );
            continue;
        };
        for (j, sub) in child_vs.http.items().iter().enumerate() {
            if sub.delegate.is_some() {
                ctx.diag(
                    vs_res,
                    codes::MR204,
                    Level::Warning,
                    format!("{path}.delegate"),
                    format!("rule {j} of delegate {ns}/{name} delegates again, which Istio does not support: skipped"),
                );
                continue;
            }
            let root_rule = resolve_short_names(http, &root_ns);
            let sub = resolve_short_names(sub, &ns);
            match merge_route(&root_rule, &sub) {
                Some(merged) => out.push((Cow::Owned(merged), path.clone())),
                None => ctx.diag(
                    vs_res,
                    codes::MR204,
                    Level::Warning,
                    format!("{path}.match"),
                    format!(
                        "rule {j} of delegate {ns}/{name} has match conditions outside this rule's: Istio ignores it, and so does render"
                    ),
                ),
            }
        }
    }
    out
}

/// istiod `resolveVirtualServiceShortnames` for one HTTP rule of a VirtualService in
/// namespace `ns`: route, `mirror` and `mirrors` hosts to FQDNs, match gateways to `ns/name`.
fn resolve_short_names(http: &HTTPRoute, ns: &str) -> HTTPRoute {
    let mut out = http.clone();
    let fqdn = |d: &mut Destination| {
        if let Some(h) = &d.host {
            d.host = Some(crate::host::to_fqdn(h, ns));
        }
    };
    for m in out.r#match.iter_mut().flatten() {
        for g in m.gateways.iter_mut().flatten() {
            *g = crate::host::resolve_gateway_name(g, ns);
        }
    }
    for rd in out.route.iter_mut().flatten() {
        if let Some(d) = &mut rd.destination {
            fqdn(d);
        }
    }
    if let Some(d) = &mut out.mirror {
        fqdn(d);
    }
    for m in out.mirrors.iter_mut().flatten() {
        if let Some(d) = &mut m.destination {
            fqdn(d);
        }
    }
    out
}

/// `mergeHTTPRoute`: None on a match conflict.
fn merge_route(root: &HTTPRoute, delegate: &HTTPRoute) -> Option<HTTPRoute> {
    let matches = merge_matches(root.r#match.items(), delegate.r#match.items())?;
    let mut out = delegate.clone();
    out.r#match = if matches.is_empty() {
        None
    } else {
        Some(matches)
    };
    out.name = join_names(root.name.as_deref(), delegate.name.as_deref());
    macro_rules! inherit {
        ($($f:ident),*) => {$(
            if out.$f.is_none() {
                out.$f = root.$f.clone();
            }
        )*};
    }
    inherit!(
        rewrite,
        direct_response,
        timeout,
        retries,
        fault,
        mirror,
        mirror_percent,
        mirror_percentage,
        cors_policy,
        mirrors,
        headers
    );
    Some(out)
}

/// Istio's name joining: the delegate's name, prefixed by the root's when both are set.
fn join_names(root: Option<&str>, delegate: Option<&str>) -> Option<String> {
    let root = root.filter(|s| !s.is_empty());
    match delegate.filter(|s| !s.is_empty()) {
        None => root.map(str::to_owned),
        Some(d) => Some(match root {
            Some(r) => format!("{r}-{d}"),
            None => d.to_owned(),
        }),
    }
}

/// `mergeHTTPMatchRequests`: None on a conflict.
fn merge_matches(
    root: &[HTTPMatchRequest],
    delegate: &[HTTPMatchRequest],
) -> Option<Vec<HTTPMatchRequest>> {
    if root.is_empty() {
        return Some(delegate.to_vec());
    }
    if delegate.is_empty() {
        return Some(root.to_vec());
    }
    let mut out = Vec::new();
    for sub in delegate {
        let mut found = false;
        for r in root {
            if has_conflict(r, sub) {
                continue;
            }
            out.push(merge_match(r, sub));
            found = true;
        }
        if !found {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn merge_map<V: Clone>(
    root: &Option<BTreeMap<String, V>>,
    delegate: &Option<BTreeMap<String, V>>,
) -> Option<BTreeMap<String, V>> {
    if root.is_none() && delegate.is_none() {
        return None;
    }
    let mut m = root.clone().unwrap_or_default();
    m.extend(delegate.clone().unwrap_or_default());
    Some(m)
}

/// `mergeHTTPMatchRequest`.
fn merge_match(root: &HTTPMatchRequest, delegate: &HTTPMatchRequest) -> HTTPMatchRequest {
    let mut out = delegate.clone();
    out.name = join_names(root.name.as_deref(), delegate.name.as_deref());
    if out.uri.is_none() {
        out.uri = root.uri.clone();
    }
    if out.scheme.is_none() {
        out.scheme = root.scheme.clone();
    }
    if out.method.is_none() {
        out.method = root.method.clone();
    }
    if out.authority.is_none() {
        out.authority = root.authority.clone();
    }
    out.headers = merge_map(&root.headers, &delegate.headers);
    out.without_headers = merge_map(&root.without_headers, &delegate.without_headers);
    out.query_params = merge_map(&root.query_params, &delegate.query_params);
    if out.port.unwrap_or(0) == 0 {
        out.port = root.port;
    }
    out.source_labels = merge_map(&root.source_labels, &delegate.source_labels);
    if out.source_namespace.as_deref().unwrap_or("").is_empty() {
        out.source_namespace = root.source_namespace.clone();
    }
    if out.gateways.items().is_empty() {
        out.gateways = root.gateways.clone();
    }
    if out.stat_prefix.as_deref().unwrap_or("").is_empty() {
        out.stat_prefix = root.stat_prefix.clone();
    }
    out
}

/// `hasConflict`.
fn has_conflict(root: &HTTPMatchRequest, leaf: &HTTPMatchRequest) -> bool {
    for (r, l) in [
        (&root.uri, &leaf.uri),
        (&root.scheme, &leaf.scheme),
        (&root.method, &leaf.method),
        (&root.authority, &leaf.authority),
    ] {
        if string_match_conflict(r.as_ref(), l.as_ref()) {
            return true;
        }
    }
    for (r, l) in [
        (&root.headers, &leaf.headers),
        (&root.without_headers, &leaf.without_headers),
        (&root.query_params, &leaf.query_params),
    ] {
        for (k, lv) in l.iter().flatten() {
            if string_match_conflict(r.as_ref().and_then(|m| m.get(k)), Some(lv)) {
                return true;
            }
        }
    }
    if root.ignore_uri_case.unwrap_or(false) != leaf.ignore_uri_case.unwrap_or(false) {
        return true;
    }
    let (rp, lp) = (root.port.unwrap_or(0), leaf.port.unwrap_or(0));
    if rp > 0 && lp > 0 && rp != lp {
        return true;
    }
    let rns = root.source_namespace.as_deref().unwrap_or("");
    if !rns.is_empty() && leaf.source_namespace.as_deref().unwrap_or("") != rns {
        return true;
    }
    for (k, lv) in leaf.source_labels.iter().flatten() {
        if root
            .source_labels
            .as_ref()
            .and_then(|m| m.get(k))
            .is_some_and(|v| v != lv)
        {
            return true;
        }
    }
    let (rg, lg) = (root.gateways.items(), leaf.gateways.items());
    if !rg.is_empty()
        && !lg.is_empty()
        && (rg.len() < lg.len() || lg.iter().any(|g| !rg.contains(g)))
    {
        return true;
    }
    false
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// `stringMatchConflict`: the leaf must be a subset of the root.
fn string_match_conflict(root: Option<&StringMatch>, leaf: Option<&StringMatch>) -> bool {
    let (Some(root), Some(leaf)) = (root, leaf) else {
        return false;
    };
    let (r_exact, r_prefix, r_regex) = (
        nonempty(&root.exact),
        nonempty(&root.prefix),
        nonempty(&root.regex),
    );
    let (l_exact, l_prefix, l_regex) = (
        nonempty(&leaf.exact),
        nonempty(&leaf.prefix),
        nonempty(&leaf.regex),
    );
    if r_regex.is_some() && (l_regex.is_some() || l_prefix.is_some() || l_exact.is_some()) {
        return true;
    }
    if l_regex.is_some() && (r_regex.is_some() || r_prefix.is_some() || r_exact.is_some()) {
        return true;
    }
    if let Some(exact) = r_exact {
        if l_prefix.is_some() {
            return true;
        }
        return l_exact != Some(exact);
    }
    if let Some(prefix) = r_prefix {
        if let Some(lp) = l_prefix {
            return !lp.starts_with(prefix);
        }
        if let Some(le) = l_exact {
            return !le.starts_with(prefix);
        }
    }
    true
}
