//! VirtualService HTTP rules → Envoy routes, as istiod's `route.go` translates them
//! (`BuildHTTPRoutesForVirtualService`, `translateRoute`, `TranslateRouteMatch`,
//! `applyHTTPRouteDestination`, `retry.ConvertPolicy`, `TranslateFault`,
//! `TranslateCORSPolicy`, `ApplyRedirect`, `ApplyDirectResponse`), and the virtual hosts of
//! the mesh listener and of Gateway servers.
//!
//! Per rule and match block, in order (a block that matches everything ends the list):
//! `uri` exact/prefix/regex → `path`/`prefix`/`safe_regex`, `ignoreUriCase` →
//! `case_sensitive: false`; `headers` and `withoutHeaders` (`invert_match`,
//! `treat_missing_header_as_empty`) sorted by name, then `method`/`authority`/`scheme` as
//! `:method`/`:authority`/`:scheme` headers; `{}` and regex `*` → `present_match`;
//! `queryParams`; `port` (rule kept only on that listener port); `gateways`, `sourceNamespace`.
//! Actions: one destination → `cluster`, several → `weighted_clusters` (weight 0 dropped);
//! `timeout` (default `0s`: none, and `max_grpc_timeout` alike); `retries` (Istio's default
//! policy when omitted: 2 retries on `connect-failure,refused-stream,unavailable,cancelled,
//! retriable-status-codes` + 503, previous-hosts predicate, 5 host selection attempts; none
//! for `attempts: 0`); `mirror`/`mirrors` → `request_mirror_policies` with `runtime_fraction`;
//! `rewrite` → `prefix_rewrite`/`regex_rewrite`/`host_rewrite_literal`; `redirect`,
//! `directResponse`; `headers` → request/response headers to add (set = overwrite, add =
//! append) and remove, `:authority`/`host` set → host rewrite; `fault` and `corsPolicy` →
//! `typed_per_filter_config`; consistent-hash DestinationRules → `hash_policy`.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use crate::diag::{Diagnostic, Level};
use crate::load::Resource;
use crate::model::{
    ConsistentHashLB, CorsPolicy, HTTPFaultInjection, HTTPMatchRequest, HTTPRedirect, HTTPRetry,
    HTTPRoute, HeaderOperations, Headers, OptSliceExt, StringMatch, VirtualService,
};

use super::filter_config::{
    HEADER_MAX_RETRIES, HEADER_NO_PREVIOUS_HOSTS, ROUTE_DEFAULT_NUM_RETRIES,
    ROUTE_DEFAULT_RETRIABLE_STATUS_CODES, ROUTE_DEFAULT_RETRY_ON,
};
use super::{
    codes, duration, fractional_percent_hundred, fractional_percent_million, policy, typed,
    ClusterRef, Ctx,
};

/// Istio's default `retryOn`.
pub(crate) const DEFAULT_RETRY_ON: &str = ROUTE_DEFAULT_RETRY_ON;
const PREVIOUS_HOSTS: &str = "envoy.retry_host_predicates.previous_hosts";
const FAULT_FILTER: &str = "envoy.filters.http.fault";
const CORS_FILTER: &str = "envoy.filters.http.cors";
/// Istio's `DefaultMaxDirectResponseBodySizeBytes`.
pub(crate) const MAX_DIRECT_RESPONSE_BODY: u32 = 1024 * 1024;

/// The listener a VirtualService's routes are built for.
pub(crate) struct RouteOpts<'s> {
    pub listen_port: u32,
    /// `["mesh"]` or `["namespace/name"]`.
    pub gateway_names: &'s [String],
    pub is_tls: bool,
}

/// Does the VirtualService apply to `gateway` (`mesh` or `namespace/name`)?
pub(crate) fn bound_to(vs: &VirtualService, vs_ns: &str, gateway: &str) -> bool {
    let gws = vs.gateways.items();
    if gws.is_empty() {
        return gateway == "mesh";
    }
    gws.iter()
        .any(|g| crate::host::resolve_gateway_name(g, vs_ns) == gateway)
}

/// `BuildHTTPRoutesForVirtualService`: the routes of one VirtualService on one listener port.
pub(crate) fn vs_routes<'a>(
    ctx: &mut Ctx<'a>,
    vs_res: &'a Resource,
    vs: &'a VirtualService,
    o: &RouteOpts<'_>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (http, path) in super::delegate::effective_rules(ctx, vs_res, vs) {
        let http: &HTTPRoute = &http;
        let path = path.as_str();
        let mut catch_all = false;
        let matches = http.r#match.items();
        if matches.is_empty() {
            if let Some(r) = translate_route(ctx, vs_res, vs, http, path, None, o) {
                out.push(r);
            }
            catch_all = true;
        } else {
            for (j, m) in matches.iter().enumerate() {
                if let Some(r) = translate_route(ctx, vs_res, vs, http, path, Some((j, m)), o) {
                    let all = is_catch_all(&r);
                    out.push(r);
                    if all {
                        catch_all = true;
                        break;
                    }
                }
            }
        }
        if catch_all {
            break;
        }
    }
    out
}

/// Istio's `IsCatchAllRoute`: prefix `/` (or regex `.*`) with no header or query matcher.
pub(crate) fn is_catch_all(route: &Value) -> bool {
    let Some(m) = route.get("match") else {
        return false;
    };
    let path_all = m.get("prefix").and_then(Value::as_str) == Some("/")
        || m.get("path_separated_prefix").and_then(Value::as_str) == Some("/")
        || m.pointer("/safe_regex/regex").and_then(Value::as_str) == Some(".*");
    let empty = |k: &str| m.get(k).and_then(Value::as_array).is_none_or(Vec::is_empty);
    path_all && empty("headers") && empty("query_parameters")
}

/// `SortVHostRoutes`: catch-all routes move to the end, the rest keep their order.
pub(crate) fn sort_vhost_routes(routes: Vec<Value>) -> Vec<Value> {
    let (all, rest): (Vec<Value>, Vec<Value>) = routes.into_iter().partition(is_catch_all);
    rest.into_iter().chain(all).collect()
}

#[allow(clippy::too_many_arguments)]
fn translate_route<'a>(
    ctx: &mut Ctx<'a>,
    vs_res: &'a Resource,
    vs: &'a VirtualService,
    http: &HTTPRoute,
    path: &str,
    m: Option<(usize, &HTTPMatchRequest)>,
    o: &RouteOpts<'_>,
) -> Option<Value> {
    let vs_ns = vs_res.namespace_or(&ctx.opts.namespace).to_owned();
    if let Some((j, mr)) = m {
        let mpath = format!("{path}.match[{j}]");
        if let Some(p) = mr.port.filter(|p| *p != 0) {
            if p != o.listen_port {
                return None;
            }
        }
        // sourceMatchHTTP
        let gws = mr.gateways.items();
        if !gws.is_empty() {
            if !gws.iter().any(|g| {
                o.gateway_names
                    .contains(&crate::host::resolve_gateway_name(g, &vs_ns))
            }) {
                return None;
            }
        } else if mr.source_labels.as_ref().is_some_and(|l| !l.is_empty()) {
            ctx.diag(
                vs_res,
                codes::MR203,
                Level::Info,
                format!("{mpath}.sourceLabels"),
                "sourceLabels never match the rendered Envoy (it has no workload labels): this match block is skipped, as Istio does for an unlabeled proxy",
            );
            return None;
        } else if let Some(sn) = mr.source_namespace.as_deref().filter(|s| !s.is_empty()) {
            if sn != ctx.proxy_ns() {
                return None;
            }
        }
    }
    let mut name = http.name.clone().unwrap_or_default();
    if let Some(mn) = m
        .and_then(|(_, mr)| mr.name.as_deref())
        .filter(|n| !n.is_empty())
    {
        name = format!("{name}.{mn}");
    }
    let route_match = translate_match(ctx, vs_res, path, m)?;

    let mut route = Map::new();
    if !name.is_empty() {
        route.insert("name".into(), json!(name));
    }
    route.insert("match".into(), route_match);

    let mut ops = HeaderOpsOut::default();
    let mut authority = None;
    if let Some(h) = &http.headers {
        authority = ops.add(h);
    }

    let mut single_cluster: Option<String> = None;
    if let Some(r) = &http.redirect {
        let redirect = translate_redirect(ctx, vs_res, &format!("{path}.redirect"), r, o)?;
        route.insert("redirect".into(), redirect);
    } else if let Some(d) = &http.direct_response {
        let mut dr = Map::new();
        dr.insert("status".into(), json!(d.status.unwrap_or(0)));
        if let Some(body) = &d.body {
            if let Some(s) = &body.string {
                dr.insert("body".into(), json!({"inline_string": s}));
            } else if let Some(b) = &body.bytes {
                dr.insert("body".into(), json!({"inline_bytes": b}));
            }
        }
        route.insert("direct_response".into(), Value::Object(dr));
    } else {
        let action = route_action(
            ctx,
            vs_res,
            http,
            path,
            o,
            authority,
            &mut ops,
            &mut single_cluster,
        )?;
        route.insert("route".into(), action);
    }

    route.insert(
        "decorator".into(),
        json!({"operation": route_operation(&route, single_cluster.as_deref(), vs_res.name(), o.listen_port)}),
    );
    let mut per_filter = Map::new();
    if let Some(f) = &http.fault {
        if let Some(v) = translate_fault(ctx, vs_res, &format!("{path}.fault"), f) {
            per_filter.insert(FAULT_FILTER.into(), v);
        }
    }
    if let Some(c) = &http.cors_policy {
        per_filter.insert(CORS_FILTER.into(), translate_cors(c));
    }
    if !per_filter.is_empty() {
        route.insert("typed_per_filter_config".into(), Value::Object(per_filter));
    }
    ops.write(&mut route);
    route.insert(
        "metadata".into(),
        json!({"filter_metadata": {"istio": {"config": format!(
            "/apis/{}/namespaces/{}/virtual-service/{}",
            vs_res.api_version, vs_ns, vs_res.name()
        )}}}),
    );
    let _ = vs;
    Some(Value::Object(route))
}

/// `GetRouteOperation`.
fn route_operation(
    route: &Map<String, Value>,
    cluster: Option<&str>,
    vs_name: &str,
    port: u32,
) -> String {
    let m = route.get("match");
    let path = if let Some(p) = m.and_then(|m| m.get("prefix")).and_then(Value::as_str) {
        format!("{p}*")
    } else if let Some(p) = m.and_then(|m| m.get("path")).and_then(Value::as_str) {
        p.to_owned()
    } else if let Some(p) = m
        .and_then(|m| m.pointer("/safe_regex/regex"))
        .and_then(Value::as_str)
    {
        p.to_owned()
    } else {
        "/*".to_owned()
    };
    if let Some((p, _, host)) = cluster.and_then(crate::cluster::parse_cluster_name) {
        return format!("{host}:{p}{path}");
    }
    format!("{vs_name}:{port}{path}")
}

// ---------------------------------------------------------------------------------------
// Matches

fn string_matcher(m: &StringMatch) -> Option<Value> {
    if let Some(e) = &m.exact {
        Some(json!({"exact": e}))
    } else if let Some(p) = &m.prefix {
        Some(json!({"prefix": p}))
    } else {
        m.regex
            .as_ref()
            .map(|r| json!({"safe_regex": {"regex": r}}))
    }
}

/// `canBeConvertedToPresentMatch`: `{}` or regex `*`.
fn is_present_match(m: &StringMatch) -> bool {
    match (&m.exact, &m.prefix, &m.regex) {
        (None, None, None) => true,
        (None, None, Some(r)) => r == "*",
        _ => false,
    }
}

/// `translateHeaderMatch`.
fn header_matcher(name: &str, m: &StringMatch) -> Map<String, Value> {
    let mut h = Map::new();
    h.insert("name".into(), json!(name));
    if is_present_match(m) {
        h.insert("present_match".into(), json!(true));
    } else if let Some(sm) = string_matcher(m) {
        h.insert("string_match".into(), sm);
    }
    h
}

/// `TranslateRouteMatch`. None when the block cannot match in a standalone Envoy (JWT claims).
fn translate_match(
    ctx: &mut Ctx<'_>,
    vs_res: &Resource,
    path: &str,
    m: Option<(usize, &HTTPMatchRequest)>,
) -> Option<Value> {
    let Some((j, m)) = m else {
        return Some(json!({"prefix": "/"}));
    };
    let mpath = format!("{path}.match[{j}]");
    let mut out = Map::new();
    let mut headers: Vec<(String, Map<String, Value>)> = Vec::new();
    for (field, map, invert) in [
        ("headers", &m.headers, false),
        ("withoutHeaders", &m.without_headers, true),
    ] {
        for (name, sm) in map.iter().flatten() {
            if name.starts_with("@request.auth.claims") {
                ctx.diag(
                    vs_res,
                    codes::MR203,
                    Level::Info,
                    format!("{mpath}.{field}"),
                    "JWT claim matches need Istio's authentication filter: this match block is skipped",
                );
                return None;
            }
            let mut h = header_matcher(name, sm);
            if invert {
                h.insert("invert_match".into(), json!(true));
                if !is_present_match(sm) {
                    h.insert("treat_missing_header_as_empty".into(), json!(true));
                }
            }
            headers.push((name.clone(), h));
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut headers: Vec<Value> = headers.into_iter().map(|(_, h)| Value::Object(h)).collect();

    match m.uri.as_ref().and_then(|u| {
        u.exact
            .as_ref()
            .map(|e| ("path", json!(e)))
            .or_else(|| u.prefix.as_ref().map(|p| ("prefix", json!(p))))
            .or_else(|| {
                u.regex
                    .as_ref()
                    .map(|r| ("safe_regex", json!({"regex": r})))
            })
    }) {
        Some((k, v)) => {
            out.insert(k.into(), v);
        }
        None => {
            out.insert("prefix".into(), json!("/"));
        }
    }
    out.insert(
        "case_sensitive".into(),
        json!(!m.ignore_uri_case.unwrap_or(false)),
    );
    for (name, sm) in [
        (":method", &m.method),
        (":authority", &m.authority),
        (":scheme", &m.scheme),
    ] {
        if let Some(sm) = sm {
            headers.push(Value::Object(header_matcher(name, sm)));
        }
    }
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Array(headers));
    }
    let mut qps = Vec::new();
    for (name, sm) in m.query_params.iter().flatten() {
        let mut q = Map::new();
        q.insert("name".into(), json!(name));
        if is_present_match(sm) {
            q.insert("present_match".into(), json!(true));
        } else if let Some(v) = string_matcher(sm) {
            q.insert("string_match".into(), v);
        }
        qps.push(Value::Object(q));
    }
    if !qps.is_empty() {
        out.insert("query_parameters".into(), Value::Array(qps));
    }
    Some(Value::Object(out))
}

// ---------------------------------------------------------------------------------------
// Header operations

#[derive(Default)]
struct HeaderOpsOut {
    req_add: Vec<Value>,
    req_rm: Vec<String>,
    resp_add: Vec<Value>,
    resp_rm: Vec<String>,
}

fn is_internal_header(k: &str) -> bool {
    k.starts_with(':') || k.eq_ignore_ascii_case("host")
}

fn is_authority_header(k: &str) -> bool {
    k.eq_ignore_ascii_case(":authority") || k.eq_ignore_ascii_case("host")
}

/// `translateAppendHeaders`: sorted by name; the authority (if set) is returned apart.
fn append_headers(
    map: Option<&BTreeMap<String, String>>,
    append: bool,
) -> (Vec<Value>, Option<String>) {
    let mut authority = None;
    let mut out = Vec::new();
    for (k, v) in map.into_iter().flatten() {
        if is_authority_header(k) {
            authority = Some(v.clone());
        }
        if is_internal_header(k) {
            continue;
        }
        let action = if append {
            "APPEND_IF_EXISTS_OR_ADD"
        } else {
            "OVERWRITE_IF_EXISTS_OR_ADD"
        };
        out.push(json!({"header": {"key": k, "value": v}, "append_action": action}));
    }
    (out, authority)
}

/// `TranslateHeadersOperations`.
struct TranslatedOps {
    req_add: Vec<Value>,
    req_rm: Vec<String>,
    resp_add: Vec<Value>,
    resp_rm: Vec<String>,
    authority: Option<String>,
}

fn translate_headers(h: &Headers) -> TranslatedOps {
    let req = h.request.as_ref();
    let resp = h.response.as_ref();
    let (mut req_add, set_auth) = append_headers(req.and_then(|r| r.set.as_ref()), false);
    let (add, add_auth) = append_headers(req.and_then(|r| r.add.as_ref()), true);
    req_add.extend(add);
    let (mut resp_add, _) = append_headers(resp.and_then(|r| r.set.as_ref()), false);
    resp_add.extend(append_headers(resp.and_then(|r| r.add.as_ref()), true).0);
    let remove = |ops: Option<&HeaderOperations>| -> Vec<String> {
        ops.map(|o| o.remove.items())
            .unwrap_or(&[])
            .iter()
            .filter(|k| !is_internal_header(k))
            .cloned()
            .collect()
    };
    TranslatedOps {
        req_add,
        req_rm: remove(req),
        resp_add,
        resp_rm: remove(resp),
        authority: set_auth.or(add_auth),
    }
}

impl HeaderOpsOut {
    /// Appends the operations; returns the authority rewrite, if any.
    fn add(&mut self, h: &Headers) -> Option<String> {
        let t = translate_headers(h);
        self.req_add.extend(t.req_add);
        self.req_rm.extend(t.req_rm);
        self.resp_add.extend(t.resp_add);
        self.resp_rm.extend(t.resp_rm);
        t.authority
    }

    fn write(self, out: &mut Map<String, Value>) {
        if !self.req_add.is_empty() {
            out.insert("request_headers_to_add".into(), Value::Array(self.req_add));
        }
        if !self.req_rm.is_empty() {
            out.insert("request_headers_to_remove".into(), json!(self.req_rm));
        }
        if !self.resp_add.is_empty() {
            out.insert(
                "response_headers_to_add".into(),
                Value::Array(self.resp_add),
            );
        }
        if !self.resp_rm.is_empty() {
            out.insert("response_headers_to_remove".into(), json!(self.resp_rm));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Route action

#[allow(clippy::too_many_arguments)]
fn route_action<'a>(
    ctx: &mut Ctx<'a>,
    vs_res: &'a Resource,
    http: &HTTPRoute,
    path: &str,
    o: &RouteOpts<'_>,
    mut authority: Option<String>,
    ops: &mut HeaderOpsOut,
    single_cluster: &mut Option<String>,
) -> Option<Value> {
    let dests = http.route.items();
    if dests.is_empty() {
        ctx.diag(
            vs_res,
            codes::MR203,
            Level::Warning,
            path.to_owned(),
            "rule has no route, redirect or directResponse: skipped",
        );
        return None;
    }
    if let Some((i, _)) = dests.iter().enumerate().find(|(_, d)| {
        d.destination
            .as_ref()
            .and_then(|d| d.host.as_deref())
            .is_none_or(str::is_empty)
    }) {
        ctx.diag(
            vs_res,
            codes::MR203,
            Level::Warning,
            format!("{path}.route[{i}].destination.host"),
            "destination without host: rule skipped",
        );
        return None;
    }
    let mut a = Map::new();
    // setTimeout
    let timeout = match &http.timeout {
        Some(t) => {
            duration(ctx, vs_res, &format!("{path}.timeout"), t).unwrap_or_else(|| "0s".into())
        }
        None => "0s".into(),
    };
    a.insert("timeout".into(), json!(timeout));
    a.insert("max_grpc_timeout".into(), json!(timeout));

    if let Some(rw) = &http.rewrite {
        if let Some(rr) = &rw.uri_regex_rewrite {
            a.insert(
                "regex_rewrite".into(),
                json!({"pattern": {"regex": rr.r#match.clone().unwrap_or_default()},
                       "substitution": rr.rewrite.clone().unwrap_or_default()}),
            );
        } else if let Some(uri) = rw.uri.as_deref().filter(|u| !u.is_empty()) {
            a.insert("prefix_rewrite".into(), json!(uri));
        }
        if let Some(auth) = rw.authority.as_deref().filter(|s| !s.is_empty()) {
            authority = Some(auth.to_owned());
        }
    }
    if let Some(auth) = authority.as_deref().filter(|s| !s.is_empty()) {
        a.insert("host_rewrite_literal".into(), json!(auth));
    }

    // Mirrors.
    let mut mirrors = Vec::new();
    if let Some(m) = &http.mirror {
        if let Some(fraction) = mirror_percent(http) {
            let c = ctx.destination_cluster(m, vs_res, &format!("{path}.mirror"), o.listen_port);
            mirrors.push(mirror_policy(&c, fraction));
        }
    }
    for (i, mp) in http.mirrors.items().iter().enumerate() {
        let Some(dest) = &mp.destination else {
            continue;
        };
        let fraction = match &mp.percentage {
            Some(p) if p.value.unwrap_or(0.0) > 0.0 => {
                fractional_percent_million(p.value.unwrap_or(0.0))
            }
            Some(_) => continue,
            None => fractional_percent_hundred(100),
        };
        let c = ctx.destination_cluster(
            dest,
            vs_res,
            &format!("{path}.mirrors[{i}].destination"),
            o.listen_port,
        );
        mirrors.push(mirror_policy(&c, fraction));
    }
    if !mirrors.is_empty() {
        a.insert("request_mirror_policies".into(), Value::Array(mirrors));
    }

    // Destinations.
    let mut hash_policies = Vec::new();
    let mut consistent_hash = false;
    if let [dst] = dests {
        let dest = dst.destination.as_ref()?;
        let c = ctx.destination_cluster(
            dest,
            vs_res,
            &format!("{path}.route[0].destination"),
            o.listen_port,
        );
        let name = c.name();
        a.insert("cluster".into(), json!(name));
        *single_cluster = Some(name);
        if let Some(h) = &dst.headers {
            let t = translate_headers(h);
            ops.req_add.extend(t.req_add);
            ops.req_rm.extend(t.req_rm);
            ops.resp_add.extend(t.resp_add);
            ops.resp_rm.extend(t.resp_rm);
            if let Some(auth) = t.authority.filter(|s| !s.is_empty()) {
                if !a.contains_key("host_rewrite_literal") {
                    a.insert("host_rewrite_literal".into(), json!(auth));
                }
            }
        }
        if let Some(ch) = hash_for(ctx, &c, dest.port.as_ref().and_then(|p| p.number)) {
            consistent_hash = true;
            if let Some(hp) = hash_policy(ch) {
                hash_policies.push(hp);
            }
        }
    } else {
        let mut weighted = Vec::new();
        for (i, dst) in dests.iter().enumerate() {
            let w = dst.weight.unwrap_or(0);
            if w == 0 {
                continue;
            }
            if w < 0 {
                ctx.diag(
                    vs_res,
                    codes::MR203,
                    Level::Warning,
                    format!("{path}.route[{i}].weight"),
                    "negative weight: destination skipped",
                );
                continue;
            }
            let Some(dest) = dst.destination.as_ref() else {
                continue;
            };
            let c = ctx.destination_cluster(
                dest,
                vs_res,
                &format!("{path}.route[{i}].destination"),
                o.listen_port,
            );
            let mut cw = Map::new();
            cw.insert("name".into(), json!(c.name()));
            cw.insert("weight".into(), json!(w));
            if let Some(h) = &dst.headers {
                let t = translate_headers(h);
                if !t.req_add.is_empty() {
                    cw.insert("request_headers_to_add".into(), Value::Array(t.req_add));
                }
                if !t.req_rm.is_empty() {
                    cw.insert("request_headers_to_remove".into(), json!(t.req_rm));
                }
                if !t.resp_add.is_empty() {
                    cw.insert("response_headers_to_add".into(), Value::Array(t.resp_add));
                }
                if !t.resp_rm.is_empty() {
                    cw.insert("response_headers_to_remove".into(), json!(t.resp_rm));
                }
                if let Some(auth) = t.authority.filter(|s| !s.is_empty()) {
                    cw.insert("host_rewrite_literal".into(), json!(auth));
                }
            }
            if let Some(hp) =
                hash_for(ctx, &c, dest.port.as_ref().and_then(|p| p.number)).and_then(hash_policy)
            {
                hash_policies.push(hp);
            }
            weighted.push(Value::Object(cw));
        }
        if weighted.is_empty() {
            ctx.diag(
                vs_res,
                codes::MR203,
                Level::Warning,
                format!("{path}.route"),
                "every destination has weight 0 (or none): Istio drops them all; rule skipped",
            );
            return None;
        }
        a.insert("weighted_clusters".into(), json!({"clusters": weighted}));
    }
    if !hash_policies.is_empty() {
        a.insert("hash_policy".into(), Value::Array(hash_policies));
    }
    if let Some(rp) = retry_policy(
        ctx,
        vs_res,
        &format!("{path}.retries"),
        http.retries.as_ref(),
        consistent_hash,
    ) {
        a.insert("retry_policy".into(), rp);
    }
    Some(Value::Object(a))
}

/// The consistent-hash settings of the DestinationRule for a destination, if any.
fn hash_for<'a>(
    ctx: &Ctx<'a>,
    c: &ClusterRef,
    dest_port: Option<u32>,
) -> Option<&'a ConsistentHashLB> {
    let svc_ns = ctx.registry.get(&c.host).map(|s| s.namespace.clone());
    let (_, dr) = ctx
        .drs
        .for_host(&c.host, ctx.proxy_ns(), svc_ns.as_deref())?;
    policy::consistent_hash_for(dr, dest_port, c.subset.as_deref())
}

/// `consistentHashToHashPolicy`.
pub(crate) fn hash_policy(ch: &ConsistentHashLB) -> Option<Value> {
    if let Some(h) = ch.http_header_name.as_deref() {
        return Some(json!({"header": {"header_name": h}}));
    }
    if let Some(c) = &ch.http_cookie {
        let mut cookie = Map::new();
        cookie.insert("name".into(), json!(c.name.clone().unwrap_or_default()));
        if let Some(ttl) = c
            .ttl
            .as_deref()
            .and_then(|t| crate::duration::parse_duration(t).ok())
        {
            cookie.insert("ttl".into(), json!(crate::duration::to_envoy(ttl)));
        }
        if let Some(p) = c.path.as_deref().filter(|p| !p.is_empty()) {
            cookie.insert("path".into(), json!(p));
        }
        return Some(json!({"cookie": cookie}));
    }
    if ch.use_source_ip == Some(true) {
        return Some(json!({"connection_properties": {"source_ip": true}}));
    }
    if let Some(q) = ch.http_query_parameter_name.as_deref() {
        return Some(json!({"query_parameter": {"name": q}}));
    }
    None
}

/// `MirrorPercent`: `mirrorPercentage`, else the deprecated integer `mirrorPercent`, else 100%.
fn mirror_percent(http: &HTTPRoute) -> Option<Value> {
    if let Some(p) = &http.mirror_percentage {
        let v = p.value.unwrap_or(0.0);
        return (v > 0.0).then(|| fractional_percent_million(v));
    }
    if let Some(n) = http.mirror_percent.or(http.mirror_percent_legacy) {
        return (n > 0).then(|| fractional_percent_hundred(i64::from(n)));
    }
    Some(fractional_percent_hundred(100))
}

fn mirror_policy(c: &ClusterRef, fraction: Value) -> Value {
    json!({"cluster": c.name(), "runtime_fraction": {"default_value": fraction}, "trace_sampled": false})
}

/// Go's `http.StatusText(code) != ""`: the status codes Istio's retryOn treats as codes.
fn is_known_status(code: u32) -> bool {
    matches!(code,
        100..=103 | 200..=208 | 226 | 300..=305 | 307 | 308 | 400..=418 | 421..=426 | 428 | 429 | 431 | 451
        | 500..=508 | 510 | 511)
}

/// `retry.ConvertPolicy`.
pub(crate) fn retry_policy(
    ctx: &mut Ctx<'_>,
    vs_res: &Resource,
    path: &str,
    retries: Option<&HTTPRetry>,
    consistent_hash: bool,
) -> Option<Value> {
    let mut p = default_retry_policy(!consistent_hash);
    let Some(r) = retries else {
        return Some(Value::Object(p));
    };
    let attempts = r.attempts.unwrap_or(0);
    if attempts <= 0 {
        return None;
    }
    p.insert("num_retries".into(), json!(attempts));
    if let Some(on) = r.retry_on.as_deref().filter(|s| !s.is_empty()) {
        let mut parts = Vec::new();
        let mut status_codes = Vec::new();
        for part in on.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match part.parse::<u32>() {
                Ok(code) if is_known_status(code) => status_codes.push(code),
                _ => parts.push(part),
            }
        }
        let mut retry_on = parts.join(",");
        if !status_codes.is_empty() && !retry_on.contains("retriable-status-codes") {
            retry_on.push_str(",retriable-status-codes");
        }
        p.insert("retry_on".into(), json!(retry_on));
        if status_codes.is_empty() {
            p.remove("retriable_status_codes");
        } else {
            p.insert("retriable_status_codes".into(), json!(status_codes));
        }
    }
    if let Some(t) = &r.per_try_timeout {
        if let Some(d) = duration(ctx, vs_res, &format!("{path}.perTryTimeout"), t) {
            p.insert("per_try_timeout".into(), json!(d));
        }
    }
    match r.retry_ignore_previous_hosts {
        Some(true) => {
            p.insert("retry_host_predicate".into(), previous_hosts_predicate());
        }
        Some(false) => {
            p.remove("retry_host_predicate");
        }
        None => {}
    }
    if r.retry_remote_localities == Some(true) {
        p.insert(
            "retry_priority".into(),
            json!({"name": "envoy.retry_priorities.previous_priorities",
                   "typed_config": typed("envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
                                         json!({"update_frequency": 2}))}),
        );
    }
    if let Some(b) = &r.backoff {
        if let Some(d) = duration(ctx, vs_res, &format!("{path}.backoff"), b) {
            p.insert("retry_back_off".into(), json!({"base_interval": d}));
        }
    }
    Some(Value::Object(p))
}

fn previous_hosts_predicate() -> Value {
    json!([{"name": PREVIOUS_HOSTS,
            "typed_config": typed("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate", json!({}))}])
}

/// Istio's `DefaultPolicy` (with the previous-hosts predicate) or `DefaultConsistentHashPolicy`.
fn default_retry_policy(previous_hosts: bool) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("retry_on".into(), json!(DEFAULT_RETRY_ON));
    p.insert("num_retries".into(), json!(ROUTE_DEFAULT_NUM_RETRIES));
    p.insert("host_selection_retry_max_attempts".into(), json!(5));
    p.insert(
        "retriable_status_codes".into(),
        json!(ROUTE_DEFAULT_RETRIABLE_STATUS_CODES),
    );
    if previous_hosts {
        p.insert("retry_host_predicate".into(), previous_hosts_predicate());
    }
    p
}

/// The route of a virtual host for a service without VirtualService (`BuildDefaultHTTPOutboundRoute`).
pub(crate) fn default_route(cluster: &str, hash: Option<&ConsistentHashLB>) -> Value {
    let mut a = Map::new();
    a.insert("cluster".into(), json!(cluster));
    a.insert("timeout".into(), json!("0s"));
    a.insert("max_grpc_timeout".into(), json!("0s"));
    a.insert(
        "retry_policy".into(),
        Value::Object(default_retry_policy(true)),
    );
    if let Some(hp) = hash.and_then(hash_policy) {
        a.insert("hash_policy".into(), json!([hp]));
    }
    let op = match crate::cluster::parse_cluster_name(cluster) {
        Some((p, _, h)) => format!("{h}:{p}/*"),
        None => "/*".to_owned(),
    };
    json!({"name": "default", "match": {"prefix": "/"}, "route": a, "decorator": {"operation": op}})
}

// ---------------------------------------------------------------------------------------
// Redirect, fault, CORS

fn translate_redirect(
    ctx: &mut Ctx<'_>,
    vs_res: &Resource,
    path: &str,
    r: &HTTPRedirect,
    o: &RouteOpts<'_>,
) -> Option<Value> {
    let mut out = Map::new();
    if let Some(a) = r.authority.as_deref().filter(|s| !s.is_empty()) {
        out.insert("host_redirect".into(), json!(a));
    }
    if let Some(u) = r.uri.as_deref().filter(|s| !s.is_empty()) {
        out.insert("path_redirect".into(), json!(u));
    } else if let Some(p) = r.prefix_rewrite.as_deref().filter(|s| !s.is_empty()) {
        out.insert("prefix_rewrite".into(), json!(p));
    }
    if let Some(s) = r.scheme.as_deref().filter(|s| !s.is_empty()) {
        out.insert("scheme_redirect".into(), json!(s));
    }
    if r.port.is_some() || r.derive_port.is_some() {
        let mut port = match (r.port, r.derive_port.as_deref()) {
            (Some(p), _) => p,
            (None, Some("FROM_REQUEST_PORT")) => o.listen_port,
            _ => 0,
        };
        let scheme = r
            .scheme
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(if o.is_tls { "https" } else { "http" });
        if (port == 80 && scheme == "http") || (port == 443 && scheme == "https") {
            port = 0;
        }
        if port != 0 {
            out.insert("port_redirect".into(), json!(port));
        }
    }
    let code = match r.redirect_code.unwrap_or(0) {
        0 | 301 => "MOVED_PERMANENTLY",
        302 => "FOUND",
        303 => "SEE_OTHER",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        other => {
            ctx.diag(
                vs_res,
                codes::MR203,
                Level::Warning,
                format!("{path}.redirectCode"),
                format!("redirect code {other} is not supported by Envoy (Istio drops the action): rule skipped"),
            );
            return None;
        }
    };
    out.insert("response_code".into(), json!(code));
    Some(Value::Object(out))
}

/// gRPC status names Istio accepts for `abort.grpcStatus`.
fn grpc_status_code(name: &str) -> Option<u32> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

/// `TranslateFault`.
fn translate_fault(
    ctx: &mut Ctx<'_>,
    vs_res: &Resource,
    path: &str,
    f: &HTTPFaultInjection,
) -> Option<Value> {
    let mut out = Map::new();
    if let Some(d) = &f.delay {
        let percentage = match &d.percentage {
            Some(p) => fractional_percent_million(p.value.unwrap_or(0.0)),
            None => fractional_percent_hundred(i64::from(d.percent.unwrap_or(0))),
        };
        match &d.fixed_delay {
            Some(fd) => {
                if let Some(dur) = duration(ctx, vs_res, &format!("{path}.delay.fixedDelay"), fd) {
                    out.insert(
                        "delay".into(),
                        json!({"fixed_delay": dur, "percentage": percentage}),
                    );
                }
            }
            None => ctx.diag(
                vs_res,
                codes::MR203,
                Level::Warning,
                format!("{path}.delay"),
                "only fixedDelay is supported (Istio drops exponentialDelay): delay not rendered",
            ),
        }
    }
    if let Some(a) = &f.abort {
        let mut abort = Map::new();
        if let Some(s) = a.http_status {
            abort.insert("http_status".into(), json!(s));
        } else if let Some(g) = &a.grpc_status {
            abort.insert(
                "grpc_status".into(),
                json!(grpc_status_code(g).unwrap_or(0)),
            );
        } else {
            ctx.diag(
                vs_res,
                codes::MR203,
                Level::Warning,
                format!("{path}.abort"),
                "only httpStatus and grpcStatus aborts are supported (Istio drops http2Error): abort not rendered",
            );
        }
        if !abort.is_empty() {
            if let Some(p) = &a.percentage {
                abort.insert(
                    "percentage".into(),
                    fractional_percent_million(p.value.unwrap_or(0.0)),
                );
            }
            out.insert("abort".into(), Value::Object(abort));
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(typed(
        "envoy.extensions.filters.http.fault.v3.HTTPFault",
        Value::Object(out),
    ))
}

/// `TranslateCORSPolicy`.
fn translate_cors(c: &CorsPolicy) -> Value {
    let mut out = Map::new();
    out.insert(
        "forward_not_matching_preflights".into(),
        json!(c.unmatched_preflights.as_deref() != Some("IGNORE")),
    );
    if let Some(origins) = &c.allow_origins {
        let m: Vec<Value> = origins.iter().filter_map(string_matcher).collect();
        out.insert("allow_origin_string_match".into(), Value::Array(m));
    } else if let Some(origins) = &c.allow_origin {
        let m: Vec<Value> = origins.iter().map(|o| json!({"exact": o})).collect();
        out.insert("allow_origin_string_match".into(), Value::Array(m));
    }
    out.insert(
        "filter_enabled".into(),
        json!({"default_value": {"numerator": 100, "denominator": "HUNDRED"}}),
    );
    if let Some(b) = c.allow_credentials {
        out.insert("allow_credentials".into(), json!(b));
    }
    for (k, v) in [
        ("allow_headers", &c.allow_headers),
        ("allow_methods", &c.allow_methods),
        ("expose_headers", &c.expose_headers),
    ] {
        let joined = v.items().join(",");
        if !joined.is_empty() {
            out.insert(k.into(), json!(joined));
        }
    }
    if let Some(d) = c
        .max_age
        .as_deref()
        .and_then(|m| crate::duration::parse_duration(m).ok())
    {
        out.insert("max_age".into(), json!(d.as_secs().to_string()));
    }
    typed(
        "envoy.extensions.filters.http.cors.v3.CorsPolicy",
        Value::Object(out),
    )
}

// ---------------------------------------------------------------------------------------
// Virtual hosts

/// A virtual host being assembled.
pub(crate) struct VHost {
    pub name: String,
    pub domains: Vec<String>,
    pub routes: Vec<Value>,
    pub require_tls: bool,
}

impl VHost {
    pub(crate) fn to_value(&self) -> Value {
        let mut v = Map::new();
        v.insert("name".into(), json!(self.name));
        v.insert("domains".into(), json!(self.domains));
        v.insert("routes".into(), Value::Array(self.routes.clone()));
        if self.require_tls {
            v.insert("require_tls".into(), json!("ALL"));
        }
        v.insert("include_request_attempt_count".into(), json!(true));
        Value::Object(v)
    }
}

fn with_port(domain: &str, port: u32) -> String {
    if domain.contains(':') && crate::host::is_ip(domain) {
        format!("[{domain}]:{port}")
    } else {
        format!("{domain}:{port}")
    }
}

/// `generateVirtualHostDomains` for the mesh listener: the host, its Kubernetes short forms
/// when it is a `*.svc.cluster.local` name (`reviews`, `reviews.default`,
/// `reviews.default.svc` in the proxy's namespace; `reviews.other`, `reviews.other.svc`
/// elsewhere), and the ServiceEntry's IP addresses, each with `:port` and, when `portless`,
/// without it.
pub(crate) fn service_domains(
    hostname: &str,
    addresses: &[String],
    port: u32,
    proxy_ns: &str,
    portless: bool,
) -> Vec<String> {
    let mut names = vec![hostname.to_owned()];
    let suffix = format!(".svc.{}", crate::host::DEFAULT_DOMAIN);
    if let (Some(ih), Some(dot)) = (hostname.find(".svc."), hostname.find('.')) {
        if hostname.ends_with(&suffix) && dot < ih {
            let (name, ns) = (&hostname[..dot], &hostname[dot + 1..ih]);
            if ns == proxy_ns {
                names.push(name.to_owned());
            }
            names.push(format!("{name}.{ns}"));
            names.push(format!("{name}.{ns}.svc"));
        }
    }
    names.extend(addresses.iter().cloned());
    let mut out = Vec::new();
    for n in names {
        if portless {
            out.push(if n.contains(':') {
                format!("[{n}]")
            } else {
                n.clone()
            });
        }
        out.push(with_port(&n, port));
    }
    out
}

/// The port whose virtual host also answers Host headers without a port: 80 if the service
/// has it, else its first HTTP port.
fn portless_port(ports: &[u32]) -> Option<u32> {
    if ports.contains(&80) {
        Some(80)
    } else {
        ports.first().copied()
    }
}

/// Virtual hosts of the mesh listener (sidecar semantics on one listener): per service host
/// and HTTP port, the routes of the first VirtualService binding it, else Istio's default route.
pub(crate) fn mesh_virtual_hosts(ctx: &mut Ctx<'_>) -> Vec<VHost> {
    let resources = ctx.resources.clone();
    let proxy_ns = ctx.proxy_ns();
    let mut vhosts: BTreeMap<(String, u32), VHost> = BTreeMap::new();
    // Which VirtualService (by position) owns each (host, port).
    let mut owner: BTreeMap<(String, u32), usize> = BTreeMap::new();
    let mesh = vec!["mesh".to_owned()];
    for (vs_index, vs_res) in resources.into_iter().enumerate() {
        let Some(vs) = vs_res.virtual_service() else {
            continue;
        };
        let vs_ns = vs_res.namespace_or(&ctx.opts.namespace).to_owned();
        if !bound_to(vs, &vs_ns, "mesh") {
            continue;
        }
        note_l4_routes(ctx, vs_res, vs);
        let mut route_cache: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for (hi, h) in vs.hosts.items().iter().enumerate() {
            let fqdn = crate::host::to_fqdn(&h.to_ascii_lowercase(), &vs_ns);
            let services = ctx.registry.matching(&fqdn);
            let targets: Vec<(String, u32, Vec<String>)> = if services.is_empty() {
                // Not in the registry: Istio binds such hosts on port 80 only.
                vec![(fqdn.clone(), 80, vec![fqdn.clone(), with_port(&fqdn, 80)])]
            } else {
                let mut t = Vec::new();
                for svc in services {
                    let http_ports: Vec<u32> = svc.http_ports().map(|p| p.number).collect();
                    let portless = portless_port(&http_ports);
                    for p in &http_ports {
                        let domains = service_domains(
                            &svc.hostname,
                            &svc.addresses,
                            *p,
                            proxy_ns,
                            portless == Some(*p),
                        );
                        t.push((svc.hostname.clone(), *p, domains));
                    }
                }
                t
            };
            for (host, port, domains) in targets {
                if let Some(first) = owner.get(&(host.clone(), port)) {
                    if *first == vs_index {
                        // The same VirtualService names the host twice (e.g. short and FQDN).
                        continue;
                    }
                    ctx.diag(
                        vs_res,
                        codes::MR204,
                        Level::Warning,
                        format!("spec.hosts[{hi}]"),
                        format!("{host}:{port} is already routed by a VirtualService that comes first in Istio's order (oldest creationTimestamp, then name, then namespace): this one is not rendered for it (Istio: IST0109)"),
                    );
                    continue;
                }
                let routes = match route_cache.get(&port) {
                    Some(r) => r.clone(),
                    None => {
                        let o = RouteOpts {
                            listen_port: port,
                            gateway_names: &mesh,
                            is_tls: false,
                        };
                        let r = vs_routes(ctx, vs_res, vs, &o);
                        route_cache.insert(port, r.clone());
                        r
                    }
                };
                if routes.is_empty() {
                    continue;
                }
                owner.insert((host.clone(), port), vs_index);
                vhosts.insert(
                    (host.clone(), port),
                    VHost {
                        name: format!("{host}:{port}"),
                        domains,
                        routes,
                        require_tls: false,
                    },
                );
            }
        }
    }
    // Services without a VirtualService: Istio's default route.
    let mut defaults = Vec::new();
    for svc in &ctx.registry.services {
        let http_ports: Vec<u32> = svc.http_ports().map(|p| p.number).collect();
        let portless = portless_port(&http_ports);
        for p in &http_ports {
            if vhosts.contains_key(&(svc.hostname.clone(), *p)) {
                continue;
            }
            let cluster = crate::cluster::cluster_name(*p, None, &svc.hostname);
            let hash = ctx
                .drs
                .for_host(&svc.hostname, proxy_ns, Some(&svc.namespace))
                .and_then(|(_, dr)| service_hash(dr, *p));
            defaults.push((
                (svc.hostname.clone(), *p),
                VHost {
                    name: format!("{}:{p}", svc.hostname),
                    domains: service_domains(
                        &svc.hostname,
                        &svc.addresses,
                        *p,
                        proxy_ns,
                        portless == Some(*p),
                    ),
                    routes: vec![default_route(&cluster, hash)],
                    require_tls: false,
                },
            ));
        }
    }
    vhosts.extend(defaults);
    unique_domains(ctx, vhosts.into_values().collect())
}

/// `hashForService`: top-level consistent hash, overridden by the port's level settings.
fn service_hash(dr: &crate::model::DestinationRule, port: u32) -> Option<&ConsistentHashLB> {
    let tp = dr.traffic_policy.as_ref()?;
    let mut ch = tp
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.consistent_hash.as_ref());
    if let Some(pls) = tp
        .port_level_settings
        .items()
        .iter()
        .find(|p| p.port.as_ref().and_then(|s| s.number) == Some(port))
    {
        if let Some(h) = pls
            .load_balancer
            .as_ref()
            .and_then(|lb| lb.consistent_hash.as_ref())
        {
            ch = Some(h);
        }
    }
    ch
}

/// Envoy refuses a domain in two virtual hosts: the first keeps it.
fn unique_domains(ctx: &mut Ctx<'_>, mut vhosts: Vec<VHost>) -> Vec<VHost> {
    let mut used = HashSet::new();
    for vh in &mut vhosts {
        let before = vh.domains.len();
        let mut dropped = Vec::new();
        vh.domains.retain(|d| {
            let keep = used.insert(d.to_ascii_lowercase());
            if !keep {
                dropped.push(d.clone());
            }
            keep
        });
        if !dropped.is_empty() && before > 0 {
            ctx.diags.push(Diagnostic::info(
                codes::MR204,
                format!(
                    "virtual host {}: domains {} already belong to another virtual host",
                    vh.name,
                    dropped.join(", ")
                ),
            ));
        }
    }
    vhosts.retain(|v| !v.domains.is_empty());
    vhosts
}

fn note_l4_routes(ctx: &mut Ctx<'_>, vs_res: &Resource, vs: &VirtualService) {
    if !vs.tcp.items().is_empty() {
        ctx.diag(
            vs_res,
            codes::MR203,
            Level::Info,
            "spec.tcp",
            "TCP routes are not rendered (HTTP only)",
        );
    }
    if !vs.tls.items().is_empty() {
        ctx.diag(
            vs_res,
            codes::MR203,
            Level::Info,
            "spec.tls",
            "TLS routes are not rendered (HTTP only)",
        );
    }
}

/// Splits a Gateway server host `ns/host` (`*/host` when no namespace is given; `.` is the
/// Gateway's namespace).
fn split_server_host<'h>(h: &'h str, gw_ns: &'h str) -> (&'h str, &'h str) {
    match h.split_once('/') {
        Some((".", host)) => (gw_ns, host),
        Some((ns, host)) => (ns, host),
        None => ("*", h),
    }
}

/// `host.Names.Intersection`: for each overlapping pair, the more specific name.
fn intersect_hosts(server_hosts: &[String], vs_hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in server_hosts {
        for v in vs_hosts {
            let pick = if crate::host::subset_of(s, v) {
                Some(s)
            } else if crate::host::subset_of(v, s) {
                Some(v)
            } else {
                None
            };
            if let Some(p) = pick {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
    }
    out
}

/// Virtual hosts of one Gateway route configuration (`buildGatewayHTTPRouteConfig`):
/// `servers` share a port (all plain HTTP) or are one HTTPS server.
pub(crate) fn gateway_virtual_hosts<'a>(
    ctx: &mut Ctx<'a>,
    gw_res: &'a Resource,
    servers: &[&'a crate::model::Server],
    port: u32,
) -> Vec<VHost> {
    let gw_ns = gw_res.namespace_or(&ctx.opts.namespace).to_owned();
    let gw_name = format!("{gw_ns}/{}", gw_res.name());
    let names = vec![gw_name.clone()];
    let resources = ctx.resources.clone();
    let vss: Vec<(&'a Resource, &'a VirtualService)> = resources
        .iter()
        .filter_map(|r| r.virtual_service().map(|vs| (*r, vs)))
        .filter(|(r, vs)| bound_to(vs, r.namespace_or(&ctx.opts.namespace), &gw_name))
        .collect();
    let mut map: BTreeMap<String, VHost> = BTreeMap::new();
    for server in servers {
        let is_tls = server.tls.is_some();
        let https_redirect = server.tls.as_ref().and_then(|t| t.https_redirect) == Some(true);
        for (vs_res, vs) in &vss {
            let vs_ns = vs_res.namespace_or(&ctx.opts.namespace).to_owned();
            let server_hosts: Vec<String> = server
                .hosts
                .items()
                .iter()
                .map(|h| split_server_host(h, &gw_ns))
                .filter(|(ns, _)| *ns == "*" || *ns == vs_ns)
                .map(|(_, h)| h.to_ascii_lowercase())
                .collect();
            let vs_hosts: Vec<String> = vs
                .hosts
                .items()
                .iter()
                .map(|h| crate::host::to_fqdn(&h.to_ascii_lowercase(), &vs_ns))
                .collect();
            let hosts = intersect_hosts(&server_hosts, &vs_hosts);
            if hosts.is_empty() {
                continue;
            }
            note_l4_routes(ctx, vs_res, vs);
            let o = RouteOpts {
                listen_port: port,
                gateway_names: &names,
                is_tls,
            };
            let routes = vs_routes(ctx, vs_res, vs, &o);
            if routes.is_empty() {
                continue;
            }
            for h in hosts {
                let vh = map.entry(h.clone()).or_insert_with(|| VHost {
                    name: format!("{h}:{port}"),
                    domains: vec![h.clone()],
                    routes: Vec::new(),
                    require_tls: false,
                });
                vh.routes.extend(routes.iter().cloned());
                vh.require_tls |= https_redirect;
            }
        }
        if https_redirect {
            for h in server.hosts.items() {
                let (_, host) = split_server_host(h, &gw_ns);
                let host = host.to_ascii_lowercase();
                let vh = map.entry(host.clone()).or_insert_with(|| VHost {
                    name: format!("{host}:{port}"),
                    domains: vec![host.clone()],
                    routes: Vec::new(),
                    require_tls: true,
                });
                vh.require_tls = true;
            }
        }
    }
    if map.is_empty() {
        return vec![VHost {
            name: format!("blackhole:{port}"),
            domains: vec!["*".into()],
            routes: Vec::new(),
            require_tls: false,
        }];
    }
    let vhosts = map
        .into_values()
        .map(|mut v| {
            v.routes = sort_vhost_routes(std::mem::take(&mut v.routes));
            v
        })
        .collect();
    unique_domains(ctx, vhosts)
}

/// The routes of wasm mode: everything goes to the cluster the filter names in
/// `cluster_header` (404 when it names none). Istio's default retry policy is the routes' own
/// (the filter sets nothing for it); a request carrying `x-envoy-max-retries` (set by the
/// filter for any other policy, `0` for none) selects a route whose policy has no `retry_on`,
/// so the router's `x-envoy-*` headers alone decide. Timeouts come from the router headers.
/// The contract is in [`super::filter_config`].
pub(crate) fn wasm_routes(cluster_header: &str) -> Vec<Value> {
    let action = |default_policy: bool, predicate: bool| {
        let rp = if default_policy {
            default_retry_policy(predicate)
        } else {
            let mut rp = Map::new();
            if predicate {
                rp.insert("retry_host_predicate".into(), previous_hosts_predicate());
            }
            rp.insert("host_selection_retry_max_attempts".into(), json!(5));
            rp
        };
        json!({
            "cluster_header": cluster_header,
            "timeout": "0s",
            "max_grpc_timeout": "0s",
            "retry_policy": rp,
        })
    };
    let present = |name: &str| json!({"name": name, "present_match": true});
    let absent = |name: &str| json!({"name": name, "present_match": false});
    // First match wins, and Envoy matches twice per request (before the filter, and again
    // after it set the cluster header): the common case (no retry headers) comes right after
    // the 404, so the second match visits two routes, not five (about 1,900 fewer
    // instructions per request under callgrind; BENCHMARKS.md "Run 5").
    vec![
        // No cluster chosen (no rule matched): 404 like Istio's NR, not the router's 503.
        json!({
            "name": "meshroute-no-route",
            "match": {"prefix": "/", "headers": [absent(cluster_header)]},
            "direct_response": {"status": 404},
        }),
        json!({
            "name": "meshroute",
            "match": {"prefix": "/", "headers": [absent(HEADER_MAX_RETRIES), absent(HEADER_NO_PREVIOUS_HOSTS)]},
            "route": action(true, true),
        }),
        json!({
            "name": "meshroute-retry-headers-no-previous-hosts",
            "match": {"prefix": "/", "headers": [present(HEADER_MAX_RETRIES), present(HEADER_NO_PREVIOUS_HOSTS)]},
            "route": action(false, false),
        }),
        json!({
            "name": "meshroute-retry-headers",
            "match": {"prefix": "/", "headers": [present(HEADER_MAX_RETRIES)]},
            "route": action(false, true),
        }),
        json!({
            "name": "meshroute-no-previous-hosts",
            "match": {"prefix": "/", "headers": [present(HEADER_NO_PREVIOUS_HOSTS)]},
            "route": action(true, false),
        }),
    ]
}
