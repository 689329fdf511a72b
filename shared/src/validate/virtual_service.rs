//! Validation of VirtualServices, as Istio's `ValidateVirtualService`
//! (`pkg/config/validation/validation.go` and `virtualservice.go`) does it: every
//! error Istio's webhook would reject the resource for (IST0106), every warning it
//! would accept it with (IST0133), and the unreachable-rule / ineffective-match
//! analysis (`analyzeUnreachableHTTPRules` & co.) reported as IST0130 / IST0131.
//!
//! Differences from Istio, all deliberate:
//! * Istio stops at the first problem in a few places (`validateHTTPRedirect`);
//!   we report every problem, each at its own field path.
//! * Oneofs that Istio's proto decoder refuses (two of `exact`/`prefix`/`regex`,
//!   `port` and `derivePort`, …) and unknown enum values are reported here as
//!   errors, since the model loads them.
//! * Header names in `match.headers`/`withoutHeaders` may be the request
//!   pseudo-headers (`:authority`, `:method`, `:path`, `:scheme`), as in current Istio.

use std::collections::BTreeMap;

use super::common::{self as c, Check};
use super::Report;
use crate::diag::{codes, Level};
use crate::model::encode::ToValue;
use crate::model::{
    Abort, CorsPolicy, Delay, Destination, HTTPDirectResponse, HTTPFaultInjection,
    HTTPMatchRequest, HTTPMirrorPolicy, HTTPRedirect, HTTPRetry, HTTPRewrite, HTTPRoute,
    HTTPRouteDestination, Headers, L4MatchAttributes, OptSliceExt, RouteDestination, StringMatch,
    TCPRoute, TLSMatchAttributes, TLSRoute, VirtualService, CORS_UNMATCHED_PREFLIGHTS,
    REDIRECT_DERIVE_PORTS,
};
use crate::yaml::{join_index, join_key};

/// The implicit gateway of sidecars.
const MESH_GATEWAY: &str = "mesh";
/// Annotation Istio sets on VirtualServices converted from Gateway API routes.
const ROUTE_SEMANTICS_ANNOTATION: &str = "internal.istio.io/route-semantics";
/// Annotation that makes Istio's webhook reject any resource (used in tests).
const ALWAYS_REJECT_ANNOTATION: &str = "internal.istio.io/webhook-always-reject";
/// Only AuthorizationPolicies may carry it.
const DRY_RUN_ANNOTATION: &str = "istio.io/dry-run";

const KB: usize = 1024;
const MB: usize = 1024 * KB;

/// `retryOn` policies Envoy supports (besides HTTP status codes).
const RETRY_ON_POLICIES: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// gRPC status names Istio accepts in `fault.abort.grpcStatus`.
const GRPC_STATUSES: &[&str] = &[
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

/// Where an HTTP route sits: a plain route, a root route (has `delegate`), or a
/// route of a delegate VirtualService (no hosts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteType {
    Independent,
    Root,
    Delegate,
}

/// Reports `check` as an error at `path`.
fn err(report: &mut Report<'_>, path: &str, check: Check) {
    if let Err(msg) = check {
        report.error(path, msg);
    }
}

/// Istio's `ValidateVirtualService`.
pub(super) fn validate(vs: &VirtualService, report: &mut Report<'_>) {
    let meta = &report.resource().metadata;
    let annotations = meta.annotations.clone().unwrap_or_default();
    let resource_ns = report
        .resource()
        .namespace()
        .unwrap_or("default")
        .to_owned();
    let resource_name = report.resource().name().to_owned();
    if annotations.contains_key(ALWAYS_REJECT_ANNOTATION) {
        report.error(
            join_key("metadata.annotations", ALWAYS_REJECT_ANNOTATION),
            format!("{ALWAYS_REJECT_ANNOTATION:?} annotation found, rejecting"),
        );
    }
    if annotations.contains_key(DRY_RUN_ANNOTATION) {
        report.error(
            join_key("metadata.annotations", DRY_RUN_ANNOTATION),
            format!(
                "{resource_ns}/{resource_name} has unsupported annotation {DRY_RUN_ANNOTATION}, please remove the annotation"
            ),
        );
    }
    let gateway_semantics = annotations
        .get(ROUTE_SEMANTICS_ANNOTATION)
        .is_some_and(|v| v == "gateway");

    let hosts = vs.hosts.items();
    let gateways = vs.gateways.items();
    let is_delegate = hosts.is_empty();
    if is_delegate {
        if !gateways.is_empty() {
            report.error(
                "spec.gateways",
                "delegate virtual service must have no gateways specified",
            );
        }
        if !vs.tls.items().is_empty() {
            report.error(
                "spec.tls",
                "delegate virtual service must have no tls route specified",
            );
        }
        if !vs.tcp.items().is_empty() {
            report.error(
                "spec.tcp",
                "delegate virtual service must have no tcp route specified",
            );
        }
    }

    let (applies_to_mesh, applies_to_gateway) = if gateways.is_empty() {
        (true, false)
    } else {
        validate_gateway_names(gateways, "spec.gateways", gateway_semantics, report);
        let gw = is_gateway(vs);
        (!gw, gw)
    };

    if !applies_to_gateway {
        for (i, http) in vs.http.items().iter().enumerate() {
            for (j, m) in http.r#match.items().iter().enumerate() {
                let mpath = join_index(&join_key(&join_index("spec.http", i), "match"), j);
                for (field, map) in [
                    ("headers", &m.headers),
                    ("withoutHeaders", &m.without_headers),
                ] {
                    for key in map.iter().flat_map(|m| m.keys()) {
                        if c::is_jwt_claim_route(key) {
                            report.error(
                                join_key(&join_key(&mpath, field), key),
                                format!(
                                    "JWT claim based routing (key: {key}) is only supported for gateway, found no gateways: {}",
                                    go_list(gateways)
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    let sni = is_sni_host(vs);
    let mut all_hosts_valid = true;
    for (i, h) in hosts.iter().enumerate() {
        let path = join_index("spec.hosts", i);
        let check = if applies_to_gateway {
            c::validate_wildcard_domain_for_gateway_vs(sni, h)
        } else {
            c::validate_wildcard_domain(h)
        };
        match check {
            Err(msg) => {
                if !c::is_ip(h) {
                    report.error(path, msg);
                    all_hosts_valid = false;
                }
            }
            Ok(()) => {
                if applies_to_mesh && h == "*" {
                    report.error(
                        path,
                        "wildcard host * is not allowed for virtual services bound to the mesh gateway",
                    );
                    all_hosts_valid = false;
                }
            }
        }
    }
    if all_hosts_valid {
        for (i, a) in hosts.iter().enumerate() {
            for (j, b) in hosts.iter().enumerate().skip(i + 1) {
                if crate::host::matches(a, b) {
                    report.error(
                        join_index("spec.hosts", j),
                        format!("duplicate hosts in virtual service: {a} & {b}"),
                    );
                }
            }
        }
    }

    if vs.http.items().is_empty() && vs.tcp.items().is_empty() && vs.tls.items().is_empty() {
        report.error(
            "spec",
            "http, tcp or tls must be provided in virtual service",
        );
    }
    for (i, route) in vs.http.items().iter().enumerate() {
        validate_http_route(
            route,
            &join_index("spec.http", i),
            is_delegate,
            gateway_semantics,
            report,
        );
    }
    for (i, route) in vs.tls.items().iter().enumerate() {
        validate_tls_route(
            route,
            &join_index("spec.tls", i),
            vs,
            gateway_semantics,
            report,
        );
    }
    for (i, route) in vs.tcp.items().iter().enumerate() {
        validate_tcp_route(route, &join_index("spec.tcp", i), gateway_semantics, report);
    }

    for (index, msg) in c::validate_export_to(&resource_ns, vs.export_to.items(), false, false) {
        let path = match index {
            Some(i) => join_index("spec.exportTo", i),
            None => "spec.exportTo".to_owned(),
        };
        report.error(path, msg);
    }

    analyze_unreachable_http_rules(vs.http.items(), report);
    analyze_unreachable_l4_rules(
        "spec.tcp",
        vs.tcp
            .items()
            .iter()
            .map(|r| r.r#match.items().iter().map(tcp_match_key).collect())
            .collect(),
        report,
    );
    analyze_unreachable_l4_rules(
        "spec.tls",
        vs.tls
            .items()
            .iter()
            .map(|r| r.r#match.items().iter().map(tls_match_key).collect())
            .collect(),
        report,
    );
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Istio's `isGateway`: false when the gateways list names `mesh` (true for an empty list).
fn is_gateway(vs: &VirtualService) -> bool {
    !vs.gateways.items().iter().any(|g| g == MESH_GATEWAY)
}

/// Istio's `isSniHost`: some TLS match lists SNI hosts.
fn is_sni_host(vs: &VirtualService) -> bool {
    vs.tls.items().iter().any(|t| {
        t.r#match
            .items()
            .iter()
            .any(|m| !m.sni_hosts.items().is_empty())
    })
}

/// Istio's `validateGatewayNames`: `namespace/name` references (or legacy names).
/// Like Istio, the check stops after the first reference without a `/`.
fn validate_gateway_names(
    names: &[String],
    base: &str,
    gateway_semantics: bool,
    report: &mut Report<'_>,
) {
    for (i, name) in names.iter().enumerate() {
        let path = join_index(base, i);
        let Some((ns, gw)) = name.split_once('/') else {
            if name.contains('.') {
                let mut parts = name.split('.');
                let first = parts.next().unwrap_or("");
                let second = parts.next().unwrap_or("");
                report.warning(
                    &path,
                    format!(
                        "using legacy gatewayName format {name:?}; prefer the <namespace>/<name> format: \"{second}/{first}\""
                    ),
                );
            }
            err(report, &path, c::validate_fqdn(name));
            return;
        };
        if ns.is_empty() || gw.is_empty() {
            report.error(&path, "config namespace and gateway name cannot be empty");
        }
        if !c::is_dns1123_label(ns) {
            report.error(&path, format!("invalid value for namespace: {ns:?}"));
        }
        if !c::is_dns1123_label(gw) && !gateway_semantics {
            report.error(&path, format!("invalid value for gateway name: {gw:?}"));
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP routes
// ---------------------------------------------------------------------------

/// Istio's `validateHTTPRoute`.
fn validate_http_route(
    http: &HTTPRoute,
    path: &str,
    in_delegate_vs: bool,
    gateway_semantics: bool,
    report: &mut Report<'_>,
) {
    let route_type = if in_delegate_vs {
        RouteType::Delegate
    } else if http.delegate.is_some() {
        RouteType::Root
    } else {
        RouteType::Independent
    };
    validate_http_route_conflict(http, path, route_type, report);
    validate_http_match_requests(http, path, report);
    validate_headers(http.headers.as_ref(), &join_key(path, "headers"), report);
    if let Some(cors) = &http.cors_policy {
        validate_cors_policy(cors, &join_key(path, "corsPolicy"), report);
    }
    if let Some(fault) = &http.fault {
        validate_fault(fault, &join_key(path, "fault"), report);
    }

    for (field, value) in [
        ("mirrorPercent", http.mirror_percent),
        ("mirror_percent", http.mirror_percent_legacy),
    ] {
        if let Some(v) = value {
            let p = join_key(path, field);
            if v > 100 {
                report.error(
                    &p,
                    format!("mirror_percent must have a max value of 100 (it has {v})"),
                );
            }
            report.warning(
                &p,
                r#"using deprecated setting "mirrorPercent", use "mirrorPercentage" instead"#,
            );
        }
    }
    if let Some(pct) = &http.mirror_percentage {
        let v = pct.value.unwrap_or(0.0);
        let p = join_key(&join_key(path, "mirrorPercentage"), "value");
        if v > 100.0 {
            report.error(
                &p,
                format!("mirror_percentage must have a max value of 100 (it has {v:.6})"),
            );
        }
        if v < 0.0 {
            report.error(
                &p,
                format!("mirror_percentage must have a min value of 0 (it has {v:.6})"),
            );
        }
    }
    if let Some(mirror) = &http.mirror {
        validate_destination(mirror, &join_key(path, "mirror"), report);
    }
    validate_mirrors(http.mirrors.items(), &join_key(path, "mirrors"), report);
    if let Some(redirect) = &http.redirect {
        validate_redirect(redirect, http, &join_key(path, "redirect"), report);
    }
    if let Some(dr) = &http.direct_response {
        validate_direct_response(dr, &join_key(path, "directResponse"), report);
    }
    if let Some(retries) = &http.retries {
        validate_retry(retries, &join_key(path, "retries"), report);
    }
    if let Some(rewrite) = &http.rewrite {
        validate_rewrite(rewrite, &join_key(path, "rewrite"), report);
    }
    validate_authority_rewrite(http, path, report);
    validate_http_route_destinations(
        http.route.items(),
        &join_key(path, "route"),
        gateway_semantics,
        report,
    );
    if let Some(t) = &http.timeout {
        err(
            report,
            &join_key(path, "timeout"),
            c::validate_duration(t).map(|_| ()),
        );
    }
}

/// Istio's `validateHTTPRouteConflict`: which actions may be combined.
fn validate_http_route_conflict(
    http: &HTTPRoute,
    path: &str,
    route_type: RouteType,
    report: &mut Report<'_>,
) {
    // Istio prints the name even when empty ("root HTTP route  must …"); we skip it.
    let name = match http.name.as_deref() {
        Some(n) if !n.is_empty() => format!(" {n}"),
        _ => String::new(),
    };
    let has_route = !http.route.items().is_empty();
    if route_type == RouteType::Root {
        if http.redirect.is_some() {
            report.error(
                join_key(path, "redirect"),
                format!("root HTTP route{name} must not specify redirect"),
            );
        }
        if has_route {
            report.error(
                join_key(path, "route"),
                format!("root HTTP route{name} must not specify route"),
            );
        }
        return;
    }
    if route_type == RouteType::Delegate && http.delegate.is_some() {
        report.error(
            join_key(path, "delegate"),
            "delegate HTTP route cannot contain delegate",
        );
    }
    if http.redirect.is_some() {
        let p = join_key(path, "redirect");
        if has_route {
            report.error(&p, "HTTP route cannot contain both route and redirect");
        }
        if http.fault.is_some() {
            report.error(&p, "HTTP route cannot contain both fault and redirect");
        }
        if http.rewrite.is_some() {
            report.error(
                &p,
                "HTTP route rule cannot contain both rewrite and redirect",
            );
        }
        if http.direct_response.is_some() {
            report.error(
                &p,
                "HTTP route rule cannot contain both direct_response and redirect",
            );
        }
    } else if http.direct_response.is_some() {
        let p = join_key(path, "directResponse");
        if has_route {
            report.error(
                &p,
                "HTTP route cannot contain both route and direct_response",
            );
        }
        if http.fault.is_some() {
            report.error(
                &p,
                "HTTP route cannot contain both fault and direct_response",
            );
        }
        if http.rewrite.is_some() {
            report.error(
                &p,
                "HTTP route rule cannot contain both rewrite and direct_response",
            );
        }
    } else if !has_route {
        report.error(path, "HTTP route, redirect or direct_response is required");
    }
    if http.mirror.is_some() && !http.mirrors.items().is_empty() {
        report.error(
            join_key(path, "mirrors"),
            "HTTP route cannot contain both mirror and mirrors",
        );
    }
}

/// How a string match is checked: Istio lets `uri` have an empty prefix (Envoy
/// allows it for paths) and only checks its regex.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StringMatchRule {
    /// `validateStringMatchRegexp`: only the regex is checked.
    RegexOnly,
    /// `validateStringMatch`: no empty prefix, valid regex.
    Full,
}

/// The alternatives set in a `StringMatch`, in proto order.
fn string_match_alternatives(sm: &StringMatch) -> Vec<&'static str> {
    let mut set = Vec::new();
    if sm.exact.is_some() {
        set.push("exact");
    }
    if sm.prefix.is_some() {
        set.push("prefix");
    }
    if sm.regex.is_some() {
        set.push("regex");
    }
    set
}

/// Istio's `validateStringMatch` / `validateStringMatchRegexp`, plus the oneof rule.
fn validate_string_match(
    sm: &StringMatch,
    path: &str,
    place: &str,
    rule: StringMatchRule,
    report: &mut Report<'_>,
) {
    let set = string_match_alternatives(sm);
    if set.len() > 1 {
        report.error(
            path,
            format!(
                "{place:?}: a string match sets only one of exact, prefix or regex (found {})",
                set.join(" and ")
            ),
        );
        return;
    }
    if rule == StringMatchRule::Full && sm.prefix.as_deref() == Some("") {
        report.error(
            join_key(path, "prefix"),
            format!("{place:?}: prefix string match should not be empty"),
        );
    }
    if let Some(re) = &sm.regex {
        let p = join_key(path, "regex");
        if re.is_empty() {
            report.error(
                p,
                format!("{place:?}: regex string match should not be empty"),
            );
        } else {
            err(report, &p, c::validate_regex(re, place));
        }
    }
}

/// Request pseudo-headers Envoy can match on.
const MATCHABLE_PSEUDO_HEADERS: &[&str] = &[":authority", ":method", ":path", ":scheme"];

/// Header names of `match.headers` / `withoutHeaders`.
fn validate_match_header_name(name: &str) -> Check {
    if MATCHABLE_PSEUDO_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    c::validate_header_name_or_jwt_claim(name)
}

/// Istio's `validateHTTPRouteMatchRequest`.
fn validate_http_match_requests(http: &HTTPRoute, path: &str, report: &mut Report<'_>) {
    let base = join_key(path, "match");
    for (j, m) in http.r#match.items().iter().enumerate() {
        let mpath = join_index(&base, j);
        validate_http_match_request(m, &mpath, report);
    }
}

fn validate_http_match_request(m: &HTTPMatchRequest, mpath: &str, report: &mut Report<'_>) {
    let headers_path = join_key(mpath, "headers");
    for (name, sm) in m.headers.iter().flatten() {
        let p = join_key(&headers_path, name);
        err(report, &p, validate_match_header_name(name));
        validate_string_match(sm, &p, "headers", StringMatchRule::Full, report);
    }
    let without_path = join_key(mpath, "withoutHeaders");
    for (name, sm) in m.without_headers.iter().flatten() {
        let p = join_key(&without_path, name);
        err(report, &p, validate_match_header_name(name));
        // `*` is not a regex here: it means "header present".
        if sm.regex.as_deref() != Some("*") {
            validate_string_match(sm, &p, "withoutHeaders", StringMatchRule::Full, report);
        }
    }
    if let Some(uri) = &m.uri {
        validate_string_match(
            uri,
            &join_key(mpath, "uri"),
            "uri",
            StringMatchRule::RegexOnly,
            report,
        );
    }
    for (field, sm) in [
        ("scheme", &m.scheme),
        ("method", &m.method),
        ("authority", &m.authority),
    ] {
        if let Some(sm) = sm {
            validate_string_match(
                sm,
                &join_key(mpath, field),
                field,
                StringMatchRule::Full,
                report,
            );
        }
    }
    let qp_path = join_key(mpath, "queryParams");
    for (name, sm) in m.query_params.iter().flatten() {
        validate_string_match(
            sm,
            &join_key(&qp_path, name),
            "queryParams",
            StringMatchRule::Full,
            report,
        );
    }
    if let Some(port) = m.port {
        if port != 0 {
            err(
                report,
                &join_key(mpath, "port"),
                c::validate_port(i64::from(port)),
            );
        }
    }
    validate_source_labels(
        m.source_labels.as_ref(),
        &join_key(mpath, "sourceLabels"),
        report,
    );
    validate_gateway_names(
        m.gateways.items(),
        &join_key(mpath, "gateways"),
        false,
        report,
    );
    if let Some(ns) = m.source_namespace.as_deref() {
        if !ns.is_empty() && !c::is_dns1123_label(ns) {
            report.error(
                join_key(mpath, "sourceNamespace"),
                format!("sourceNamespace match {ns} is invalid"),
            );
        }
    }
}

fn validate_source_labels(
    labels: Option<&BTreeMap<String, String>>,
    path: &str,
    report: &mut Report<'_>,
) {
    if let Some(labels) = labels {
        for (key, msg) in c::validate_labels(labels) {
            report.error(join_key(path, &key), msg);
        }
    }
}

/// Header manipulation of a route or a route destination.
fn validate_headers(headers: Option<&Headers>, path: &str, report: &mut Report<'_>) {
    let Some(h) = headers else { return };
    if let Some(req) = &h.request {
        let rp = join_key(path, "request");
        for op in ["add", "set"] {
            let map = if op == "add" { &req.add } else { &req.set };
            for (name, value) in map.iter().flatten() {
                let p = join_key(&join_key(&rp, op), name);
                err(report, &p, c::validate_header_op_name_with_authority(name));
                err(report, &p, c::validate_header_value(value));
            }
        }
        for (i, name) in req.remove.items().iter().enumerate() {
            let p = join_index(&join_key(&rp, "remove"), i);
            err(report, &p, c::validate_header_op_name(name));
        }
    }
    if let Some(resp) = &h.response {
        let rp = join_key(path, "response");
        for op in ["add", "set"] {
            let map = if op == "add" { &resp.add } else { &resp.set };
            for (name, value) in map.iter().flatten() {
                let p = join_key(&join_key(&rp, op), name);
                err(report, &p, c::validate_header_op_name(name));
                err(report, &p, c::validate_header_value(value));
            }
        }
        for (i, name) in resp.remove.items().iter().enumerate() {
            let p = join_index(&join_key(&rp, "remove"), i);
            err(report, &p, c::validate_header_op_name(name));
        }
    }
}

/// Istio's `validateAuthorityRewrite`: the authority is rewritten in one place only.
fn validate_authority_rewrite(http: &HTTPRoute, path: &str, report: &mut Report<'_>) {
    let mut current = http
        .rewrite
        .as_ref()
        .and_then(|r| r.authority.clone())
        .unwrap_or_default();
    let Some(req) = http.headers.as_ref().and_then(|h| h.request.as_ref()) else {
        return;
    };
    for op in ["set", "add"] {
        let map = if op == "set" { &req.set } else { &req.add };
        for (k, v) in map.iter().flatten() {
            if !c::is_authority_header(k) {
                continue;
            }
            if !current.is_empty() {
                report.error(
                    join_key(&join_key(&join_key(&join_key(path, "headers"), "request"), op), k),
                    format!(
                        "authority header cannot be set multiple times: have {current:?}, attempting to set {v:?}"
                    ),
                );
                return;
            }
            current = v.clone();
        }
    }
}

/// Istio's `validateCORSPolicy`.
fn validate_cors_policy(policy: &CorsPolicy, path: &str, report: &mut Report<'_>) {
    let origins = join_key(path, "allowOrigins");
    for (i, origin) in policy.allow_origins.items().iter().enumerate() {
        let p = join_index(&origins, i);
        let value = origin
            .exact
            .as_deref()
            .or(origin.prefix.as_deref())
            .or(origin.regex.as_deref())
            .unwrap_or("");
        if value.is_empty() {
            report.error(
                &p,
                format!("'{value}' is not a valid match type for CORS allow origins"),
            );
            continue;
        }
        validate_string_match(
            origin,
            &p,
            "corsPolicy.allowOrigins",
            StringMatchRule::RegexOnly,
            report,
        );
    }
    for (i, m) in policy.allow_methods.items().iter().enumerate() {
        err(
            report,
            &join_index(&join_key(path, "allowMethods"), i),
            c::validate_http_method(m),
        );
    }
    for (field, list) in [
        ("allowHeaders", &policy.allow_headers),
        ("exposeHeaders", &policy.expose_headers),
    ] {
        for (i, name) in list.items().iter().enumerate() {
            err(
                report,
                &join_index(&join_key(path, field), i),
                c::validate_cors_header_name(name),
            );
        }
    }
    if let Some(max_age) = &policy.max_age {
        let p = join_key(path, "maxAge");
        match c::validate_duration(max_age) {
            Err(msg) => {
                report.error(&p, msg);
                // Istio also flags a sub-second part it could parse.
                if c::parse_duration(max_age).is_ok_and(|d| d.subsec_nanos() > 0) {
                    report.error(&p, "max_age duration is accurate only to seconds precision");
                }
            }
            Ok(d) => {
                if d.subsec_nanos() > 0 {
                    report.error(&p, "max_age duration is accurate only to seconds precision");
                }
            }
        }
    }
    if let Some(v) = &policy.unmatched_preflights {
        if !CORS_UNMATCHED_PREFLIGHTS.contains(&v.as_str()) {
            report.error(
                join_key(path, "unmatchedPreflights"),
                format!(
                    "invalid unmatchedPreflights {v:?}: must be one of {}",
                    CORS_UNMATCHED_PREFLIGHTS.join(", ")
                ),
            );
        }
    }
}

/// Istio's `validateHTTPFaultInjection`.
fn validate_fault(fault: &HTTPFaultInjection, path: &str, report: &mut Report<'_>) {
    if fault.abort.is_none() && fault.delay.is_none() {
        report.error(
            path,
            "HTTP fault injection must have an abort and/or a delay",
        );
    }
    if let Some(abort) = &fault.abort {
        validate_abort(abort, &join_key(path, "abort"), report);
    }
    if let Some(delay) = &fault.delay {
        validate_delay(delay, &join_key(path, "delay"), report);
    }
}

fn validate_percentage_at(
    pct: Option<&crate::model::Percent>,
    path: &str,
    report: &mut Report<'_>,
) {
    if let Some(p) = pct {
        err(
            report,
            &join_key(&join_key(path, "percentage"), "value"),
            c::validate_percentage(p.value.unwrap_or(0.0)),
        );
    }
}

/// Istio's `validateHTTPFaultInjectionAbort`.
fn validate_abort(abort: &Abort, path: &str, report: &mut Report<'_>) {
    validate_percentage_at(abort.percentage.as_ref(), path, report);
    let mut set = Vec::new();
    if abort.http_status.is_some() {
        set.push("httpStatus");
    }
    if abort.grpc_status.is_some() {
        set.push("grpcStatus");
    }
    if abort.http2_error.is_some() {
        set.push("http2Error");
    }
    if set.len() > 1 {
        report.error(
            path,
            format!(
                "abort sets only one of httpStatus, grpcStatus or http2Error (found {})",
                set.join(" and ")
            ),
        );
        return;
    }
    if let Some(status) = &abort.grpc_status {
        if !GRPC_STATUSES.contains(&status.as_str()) {
            report.error(
                join_key(path, "grpcStatus"),
                format!(
                    "gRPC status {status:?} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'"
                ),
            );
        }
    } else if abort.http2_error.is_some() {
        report.error(
            join_key(path, "http2Error"),
            "HTTP/2 abort fault injection not supported yet",
        );
    } else if let Some(status) = abort.http_status {
        err(
            report,
            &join_key(path, "httpStatus"),
            validate_http_status(i64::from(status)),
        );
    } else {
        report.warning(path, "abort configured, but error type not set");
    }
}

/// Istio's `validateHTTPStatus` (200..=600, as Istio checks it).
fn validate_http_status(status: i64) -> Check {
    if !(200..=600).contains(&status) {
        return Err(format!("HTTP status {status} is not in range 200-599"));
    }
    Ok(())
}

/// Istio's `validateHTTPFaultInjectionDelay`.
fn validate_delay(delay: &Delay, path: &str, report: &mut Report<'_>) {
    validate_percentage_at(delay.percentage.as_ref(), path, report);
    if let Some(pct) = delay.percent {
        err(
            report,
            &join_key(path, "percent"),
            c::validate_percent(i64::from(pct)),
        );
    }
    match (&delay.fixed_delay, &delay.exponential_delay) {
        (Some(_), Some(_)) => report.error(
            path,
            "delay sets only one of fixedDelay or exponentialDelay",
        ),
        (Some(d), None) => err(
            report,
            &join_key(path, "fixedDelay"),
            c::validate_duration(d).map(|_| ()),
        ),
        (None, Some(d)) => {
            let p = join_key(path, "exponentialDelay");
            err(report, &p, c::validate_duration(d).map(|_| ()));
            report.error(&p, "exponentialDelay not supported yet");
        }
        (None, None) => {}
    }
}

/// Istio's `validateDestination`.
fn validate_destination(d: &Destination, path: &str, report: &mut Report<'_>) {
    let host = d.host.as_deref().unwrap_or("");
    let hp = join_key(path, "host");
    if host == "*" {
        report.error(&hp, format!("invalid destination host {host}"));
    } else {
        err(report, &hp, c::validate_wildcard_domain(host));
    }
    if let Some(subset) = d.subset.as_deref() {
        if !subset.is_empty() {
            err(
                report,
                &join_key(path, "subset"),
                c::validate_subset_name(subset),
            );
        }
    }
    if let Some(port) = &d.port {
        err(
            report,
            &join_key(&join_key(path, "port"), "number"),
            c::validate_port(i64::from(port.number.unwrap_or(0))),
        );
    }
}

/// Istio's `validateHTTPMirrors`.
fn validate_mirrors(mirrors: &[HTTPMirrorPolicy], path: &str, report: &mut Report<'_>) {
    for (i, m) in mirrors.iter().enumerate() {
        let p = join_index(path, i);
        let Some(dest) = &m.destination else {
            report.error(&p, "destination is required for mirrors");
            continue;
        };
        validate_destination(dest, &join_key(&p, "destination"), report);
        if let Some(pct) = &m.percentage {
            let v = pct.value.unwrap_or(0.0);
            let vp = join_key(&join_key(&p, "percentage"), "value");
            if v > 100.0 {
                report.error(
                    &vp,
                    format!("mirror percentage must have a max value of 100 (it has {v:.6})"),
                );
            }
            if v < 0.0 {
                report.error(
                    &vp,
                    format!("mirror percentage must have a min value of 0 (it has {v:.6})"),
                );
            }
        }
    }
}

/// Istio's `validateHTTPRedirect`, with `prefixRewrite` (which needs prefix URI
/// matches: Envoy's `prefix_rewrite` rewrites the matched prefix).
fn validate_redirect(r: &HTTPRedirect, http: &HTTPRoute, path: &str, report: &mut Report<'_>) {
    let nonempty = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    let has_port = r.port.is_some() || r.derive_port.is_some();
    if !nonempty(&r.uri)
        && !nonempty(&r.prefix_rewrite)
        && !nonempty(&r.authority)
        && !has_port
        && !nonempty(&r.scheme)
    {
        report.error(
            path,
            "redirect must specify URI, prefixRewrite, authority, scheme, or port",
        );
    }
    if nonempty(&r.uri) && nonempty(&r.prefix_rewrite) {
        report.error(
            join_key(path, "prefixRewrite"),
            "redirect may only contain one of URI or prefixRewrite",
        );
    }
    if nonempty(&r.prefix_rewrite) {
        for (j, m) in http.r#match.items().iter().enumerate() {
            let Some(uri) = &m.uri else { continue };
            let kind = if uri.exact.is_some() {
                "exact"
            } else if uri.regex.is_some() {
                "regex"
            } else {
                continue;
            };
            report.error(
                join_key(path, "prefixRewrite"),
                format!(
                    "redirect prefixRewrite requires prefix URI matches, but match {j} has a {kind} URI match"
                ),
            );
        }
    }
    if let Some(code) = r.redirect_code {
        if code != 0 && !(300..=399).contains(&code) {
            report.error(
                join_key(path, "redirectCode"),
                format!("{code} is not a valid redirect code, must be 3xx"),
            );
        }
    }
    if let Some(scheme) = r.scheme.as_deref() {
        if !scheme.is_empty() && scheme != "http" && scheme != "https" {
            report.error(
                join_key(path, "scheme"),
                r#"invalid redirect scheme, must be "http" or "https""#,
            );
        }
    }
    if r.port.is_some() && r.derive_port.is_some() {
        report.error(path, "redirect sets only one of port or derivePort");
    }
    if let Some(port) = r.port {
        if port > 0 {
            err(
                report,
                &join_key(path, "port"),
                c::validate_port(i64::from(port)),
            );
        }
    }
    if let Some(dp) = &r.derive_port {
        if !REDIRECT_DERIVE_PORTS.contains(&dp.as_str()) {
            report.error(
                join_key(path, "derivePort"),
                format!(
                    "invalid derivePort {dp:?}: must be one of {}",
                    REDIRECT_DERIVE_PORTS.join(", ")
                ),
            );
        }
    }
}

/// Decoded length of a base64 string (standard or URL alphabet, padded or not).
fn base64_decoded_len(s: &str) -> usize {
    let n = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .count();
    n / 4 * 3
        + match n % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        }
}

/// Istio's `validateHTTPDirectResponse`.
fn validate_direct_response(dr: &HTTPDirectResponse, path: &str, report: &mut Report<'_>) {
    if let Some(body) = &dr.body {
        let bp = join_key(path, "body");
        if body.string.is_some() && body.bytes.is_some() {
            report.error(&bp, "body sets only one of string or bytes");
        }
        let size = match (&body.string, &body.bytes) {
            (Some(s), _) => s.len(),
            (None, Some(b)) => base64_decoded_len(b),
            (None, None) => 0,
        };
        if size > MB {
            report.error(
                &bp,
                "large direct_responses may impact control plane performance, must be less than 1MB",
            );
        } else if size > 100 * KB {
            report.warning(
                &bp,
                "large direct_responses may impact control plane performance",
            );
        }
    }
    err(
        report,
        &join_key(path, "status"),
        validate_http_status(i64::from(dr.status.unwrap_or(0))),
    );
}

/// Istio's `validateHTTPRetry`.
fn validate_retry(r: &HTTPRetry, path: &str, report: &mut Report<'_>) {
    let attempts = r.attempts.unwrap_or(0);
    if attempts < 0 {
        report.error(join_key(path, "attempts"), "attempts cannot be negative");
    }
    let retry_on = r.retry_on.as_deref().unwrap_or("");
    if attempts == 0
        && (r.per_try_timeout.is_some()
            || !retry_on.is_empty()
            || r.retry_remote_localities.is_some())
    {
        report.error(
            join_key(path, "attempts"),
            "http retry policy configured when attempts are set to 0 (disabled)",
        );
    }
    if let Some(t) = &r.per_try_timeout {
        err(
            report,
            &join_key(path, "perTryTimeout"),
            c::validate_duration(t).map(|_| ()),
        );
    }
    if let Some(b) = &r.backoff {
        err(
            report,
            &join_key(path, "backoff"),
            c::validate_duration(b).map(|_| ()),
        );
    }
    if !retry_on.is_empty() {
        for policy in retry_on.split(',') {
            let status = policy.parse::<i64>().unwrap_or(0);
            if !c::is_known_http_status(status) && !RETRY_ON_POLICIES.contains(&policy) {
                report.error(
                    join_key(path, "retryOn"),
                    format!("{policy:?} is not a valid retryOn policy"),
                );
            }
        }
    }
}

/// Istio's `validateHTTPRewrite` and `validateURIRegexRewrite`.
fn validate_rewrite(r: &HTTPRewrite, path: &str, report: &mut Report<'_>) {
    let has_uri = r.uri.as_deref().is_some_and(|s| !s.is_empty());
    let has_authority = r.authority.as_deref().is_some_and(|s| !s.is_empty());
    if has_uri && r.uri_regex_rewrite.is_some() {
        report.error(
            path,
            "rewrite may only contain one of URI or UriRegexRewrite",
        );
        return;
    }
    if !has_uri && r.uri_regex_rewrite.is_none() && !has_authority {
        report.error(
            path,
            "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified",
        );
        return;
    }
    if let Some(rr) = &r.uri_regex_rewrite {
        let p = join_key(path, "uriRegexRewrite");
        let m = rr.r#match.as_deref().unwrap_or("");
        let w = rr.rewrite.as_deref().unwrap_or("");
        if m.is_empty() || w.is_empty() {
            report.error(
                &p,
                "UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and Match fields to be specified",
            );
            return;
        }
        if let Err(e) = c::validate_regex(m, "HTTPRewrite.UriRegexRewrite.Match") {
            report.error(
                join_key(&p, "match"),
                format!("UriRegexRewrite has errors: {e}"),
            );
        }
    }
}

/// Istio's `validateHTTPRouteDestinations`.
fn validate_http_route_destinations(
    routes: &[HTTPRouteDestination],
    path: &str,
    gateway_semantics: bool,
    report: &mut Report<'_>,
) {
    let mut total: i64 = 0;
    for (i, rd) in routes.iter().enumerate() {
        let p = join_index(path, i);
        match &rd.destination {
            None => report.error(&p, "destination is required"),
            Some(d) if !gateway_semantics => {
                validate_destination(d, &join_key(&p, "destination"), report);
            }
            Some(_) => {}
        }
        validate_headers(rd.headers.as_ref(), &join_key(&p, "headers"), report);
        let w = i64::from(rd.weight.unwrap_or(0));
        err(report, &join_key(&p, "weight"), c::validate_weight(w));
        total += w;
    }
    if routes.len() > 1 && total == 0 {
        report.error(path, "total destination weight = 0");
    }
}

/// Istio's `validateRouteDestinations` (TCP and TLS routes).
fn validate_route_destinations(
    routes: &[RouteDestination],
    path: &str,
    gateway_semantics: bool,
    report: &mut Report<'_>,
) {
    let mut total: i64 = 0;
    for (i, rd) in routes.iter().enumerate() {
        let p = join_index(path, i);
        match &rd.destination {
            None => report.error(&p, "destination is required"),
            Some(d) if !gateway_semantics => {
                validate_destination(d, &join_key(&p, "destination"), report);
            }
            Some(_) => {}
        }
        let w = i64::from(rd.weight.unwrap_or(0));
        err(report, &join_key(&p, "weight"), c::validate_weight(w));
        total += w;
    }
    if routes.len() > 1 && total == 0 {
        report.error(path, "total destination weight = 0");
    }
}

// ---------------------------------------------------------------------------
// TLS and TCP routes
// ---------------------------------------------------------------------------

/// Istio's `validateTLSRoute`.
fn validate_tls_route(
    tls: &TLSRoute,
    path: &str,
    vs: &VirtualService,
    gateway_semantics: bool,
    report: &mut Report<'_>,
) {
    if tls.r#match.items().is_empty() {
        report.error(path, "TLS route must have at least one match condition");
    }
    for (j, m) in tls.r#match.items().iter().enumerate() {
        validate_tls_match(m, &join_index(&join_key(path, "match"), j), vs, report);
    }
    if tls.route.items().is_empty() {
        report.error(path, "TLS route is required");
    }
    validate_route_destinations(
        tls.route.items(),
        &join_key(path, "route"),
        gateway_semantics,
        report,
    );
}

/// Istio's `validateTLSMatch`.
fn validate_tls_match(
    m: &TLSMatchAttributes,
    path: &str,
    vs: &VirtualService,
    report: &mut Report<'_>,
) {
    let sni = m.sni_hosts.items();
    if sni.is_empty() {
        report.error(path, "TLS match must have at least one SNI host");
    }
    for (i, h) in sni.iter().enumerate() {
        validate_sni_host(h, &join_index(&join_key(path, "sniHosts"), i), vs, report);
    }
    validate_l4_common(
        m.destination_subnets.items(),
        m.port,
        m.source_labels.as_ref(),
        m.gateways.items(),
        path,
        report,
    );
}

/// Istio's `validateSniHost`: a (wildcard) domain, subset of one of the VS hosts.
fn validate_sni_host(sni: &str, path: &str, vs: &VirtualService, report: &mut Report<'_>) {
    let check = if is_gateway(vs) {
        c::validate_wildcard_domain_for_gateway_vs(true, sni)
    } else {
        c::validate_wildcard_domain(sni)
    };
    if let Err(msg) = check {
        if c::is_ip(sni) {
            report.warning(
                path,
                format!(
                    "using an IP address ({sni:?}) goes against SNI spec and most clients do not support this"
                ),
            );
        } else {
            report.error(path, msg);
        }
        return;
    }
    let hosts = vs.hosts.items();
    if hosts.iter().any(|h| crate::host::subset_of(sni, h)) {
        return;
    }
    report.error(
        path,
        format!(
            "SNI host {sni:?} is not a compatible subset of any of the virtual service hosts: [{}]",
            hosts.join(", ")
        ),
    );
}

/// Istio's `validateTCPRoute`.
fn validate_tcp_route(
    tcp: &TCPRoute,
    path: &str,
    gateway_semantics: bool,
    report: &mut Report<'_>,
) {
    for (j, m) in tcp.r#match.items().iter().enumerate() {
        validate_tcp_match(m, &join_index(&join_key(path, "match"), j), report);
    }
    if tcp.route.items().is_empty() {
        report.error(path, "TCP route is required");
    }
    validate_route_destinations(
        tcp.route.items(),
        &join_key(path, "route"),
        gateway_semantics,
        report,
    );
}

/// Istio's `validateTCPMatch`.
fn validate_tcp_match(m: &L4MatchAttributes, path: &str, report: &mut Report<'_>) {
    validate_l4_common(
        m.destination_subnets.items(),
        m.port,
        m.source_labels.as_ref(),
        m.gateways.items(),
        path,
        report,
    );
}

fn validate_l4_common(
    subnets: &[String],
    port: Option<u32>,
    source_labels: Option<&BTreeMap<String, String>>,
    gateways: &[String],
    path: &str,
    report: &mut Report<'_>,
) {
    for (i, s) in subnets.iter().enumerate() {
        err(
            report,
            &join_index(&join_key(path, "destinationSubnets"), i),
            c::validate_ip_subnet(s),
        );
    }
    if let Some(port) = port {
        if port != 0 {
            err(
                report,
                &join_key(path, "port"),
                c::validate_port(i64::from(port)),
            );
        }
    }
    validate_source_labels(source_labels, &join_key(path, "sourceLabels"), report);
    validate_gateway_names(gateways, &join_key(path, "gateways"), false, report);
}

// ---------------------------------------------------------------------------
// Unreachable rules and ineffective matches (IST0130 / IST0131)
// ---------------------------------------------------------------------------

/// IST0130: a rule no request can reach.
fn report_unreachable(report: &mut Report<'_>, path: &str, ruleno: &str, reason: &str) {
    report.push(
        codes::IST0130,
        Level::Warning,
        path,
        format!("VirtualService rule {ruleno} not used ({reason})"),
    );
}

/// IST0131: a match no request can use, because an earlier one catches its requests.
fn report_ineffective(
    report: &mut Report<'_>,
    path: &str,
    ruleno: &str,
    matchno: &str,
    dupno: &str,
) {
    report.push(
        codes::IST0131,
        Level::Warning,
        path,
        format!(
            "VirtualService rule {ruleno} match {matchno} is not used (duplicate/overlapping match in rule {dupno})"
        ),
    );
}

/// Istio's `routeName`: `"name"` or `#index`.
fn route_name(name: Option<&str>, index: usize) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("{n:?}"),
        _ => format!("#{index}"),
    }
}

/// A comparison key for a match: its JSON with Go's `omitempty` rules (zero values,
/// empty lists and empty maps dropped), name removed.
fn canonical_json(v: serde_json::Value, map_fields: &[&str]) -> String {
    fn prune(v: serde_json::Value, map_fields: &[&str], top: bool) -> Option<serde_json::Value> {
        use serde_json::Value;
        match v {
            Value::Null | Value::Bool(false) => None,
            Value::String(s) if s.is_empty() => None,
            Value::Number(n) if n.as_f64() == Some(0.0) => None,
            Value::Array(a) => {
                let a: Vec<Value> = a
                    .into_iter()
                    .filter_map(|x| prune(x, map_fields, false))
                    .collect();
                (!a.is_empty()).then_some(Value::Array(a))
            }
            Value::Object(o) => {
                let mut out = serde_json::Map::new();
                for (k, x) in o {
                    let is_map = top && map_fields.contains(&k.as_str());
                    match x {
                        Value::Object(inner) if is_map => {
                            if !inner.is_empty() {
                                let mut m = serde_json::Map::new();
                                for (ik, iv) in inner {
                                    // Map values are kept even when empty (`{}`).
                                    let iv =
                                        prune(iv.clone(), map_fields, false).unwrap_or(match iv {
                                            Value::Object(_) => Value::Object(Default::default()),
                                            other => other,
                                        });
                                    m.insert(ik, iv);
                                }
                                out.insert(k, Value::Object(m));
                            }
                        }
                        // A set message field (`uri: {}`) stays, even when empty.
                        Value::Object(inner) => {
                            let pruned = prune(Value::Object(inner), map_fields, false)
                                .unwrap_or(Value::Object(Default::default()));
                            out.insert(k, pruned);
                        }
                        other => {
                            if let Some(p) = prune(other, map_fields, false) {
                                out.insert(k, p);
                            }
                        }
                    }
                }
                if top || !out.is_empty() {
                    Some(Value::Object(out))
                } else {
                    None
                }
            }
            other => Some(other),
        }
    }
    prune(v, map_fields, true)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn http_match_key(m: &HTTPMatchRequest) -> String {
    let mut m = m.clone();
    m.name = None;
    let v = crate::model::without_extra(|| m.to_value());
    canonical_json(
        v,
        &["headers", "queryParams", "withoutHeaders", "sourceLabels"],
    )
}

fn tcp_match_key(m: &L4MatchAttributes) -> String {
    let v = crate::model::without_extra(|| m.to_value());
    canonical_json(v, &["sourceLabels"])
}

fn tls_match_key(m: &TLSMatchAttributes) -> String {
    let v = crate::model::without_extra(|| m.to_value());
    canonical_json(v, &["sourceLabels"])
}

/// One prefix-URI match, summarized for the overlap check (Istio's
/// `OverlappingMatchValidationForHTTPRoute`).
struct PrefixMatch {
    route_str: String,
    match_str: String,
    rule: usize,
    index: usize,
    prefix: String,
    port: u32,
    method: String,
    authority: String,
    headers: BTreeMap<String, String>,
    query_params: BTreeMap<String, String>,
    without_headers: BTreeMap<String, String>,
}

/// Istio's `assignExactOrPrefix`.
fn exact_or_prefix(sm: Option<&StringMatch>) -> String {
    match sm {
        Some(StringMatch { exact: Some(e), .. }) if !e.is_empty() => format!("exact:{e}"),
        Some(StringMatch {
            prefix: Some(p), ..
        }) if !p.is_empty() => format!("prefix:{p}"),
        _ => String::new(),
    }
}

fn exact_or_prefix_map(m: Option<&BTreeMap<String, StringMatch>>) -> BTreeMap<String, String> {
    m.iter()
        .flat_map(|m| m.iter())
        .map(|(k, v)| (k.clone(), exact_or_prefix(Some(v))))
        .collect()
}

/// Istio's `genMatchHTTPRoutes`: only matches with a non-empty URI prefix.
fn prefix_match(
    route: &HTTPRoute,
    m: &HTTPMatchRequest,
    rule: usize,
    index: usize,
) -> Option<PrefixMatch> {
    let prefix = m
        .uri
        .as_ref()?
        .prefix
        .as_deref()
        .filter(|p| !p.is_empty())?;
    let mut method = exact_or_prefix(m.method.as_ref());
    if method.is_empty() {
        method = "exact:GET".to_owned();
    }
    Some(PrefixMatch {
        route_str: route_name(route.name.as_deref(), rule),
        match_str: route_name(m.name.as_deref(), index),
        rule,
        index,
        prefix: prefix.to_owned(),
        port: m.port.unwrap_or(0),
        method,
        authority: exact_or_prefix(m.authority.as_ref()),
        headers: exact_or_prefix_map(m.headers.as_ref()),
        query_params: exact_or_prefix_map(m.query_params.as_ref()),
        without_headers: exact_or_prefix_map(m.without_headers.as_ref()),
    })
}

/// Istio's `coveredValidation`: whether `a` (earlier) catches every request `b` would.
fn covered(a: &PrefixMatch, b: &PrefixMatch) -> bool {
    if !b.prefix.starts_with(&a.prefix) || a.port != b.port {
        return false;
    }
    let value_covers = |va: &str, vb: &str| va == vb || va.starts_with(vb);
    if !value_covers(&a.method, &b.method) || !value_covers(&a.authority, &b.authority) {
        return false;
    }
    let maps_cover = |ma: &BTreeMap<String, String>, mb: &BTreeMap<String, String>| {
        ma.len() == mb.len()
            && ma
                .iter()
                .all(|(k, va)| mb.get(k).is_some_and(|vb| value_covers(va, vb)))
    };
    maps_cover(&a.headers, &b.headers)
        && maps_cover(&a.query_params, &b.query_params)
        && maps_cover(&a.without_headers, &b.without_headers)
}

/// Istio's `analyzeUnreachableHTTPRules`.
fn analyze_unreachable_http_rules(routes: &[HTTPRoute], report: &mut Report<'_>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // The first rule without matches: it catches every request.
    let mut catch_all: Option<String> = None;
    let mut prefixes: Vec<PrefixMatch> = Vec::new();
    for (rule, route) in routes.iter().enumerate() {
        let rpath = join_index("spec.http", rule);
        let rname = route_name(route.name.as_deref(), rule);
        let matches = route.r#match.items();
        if matches.is_empty() {
            if catch_all.is_some() {
                report_unreachable(
                    report,
                    &rpath,
                    &rname,
                    "only the last rule can have no matches",
                );
            } else {
                catch_all = Some(rname);
            }
            continue;
        }
        let mut duplicates = 0;
        for (j, m) in matches.iter().enumerate() {
            let key = http_match_key(m);
            if let Some(&dup) = seen.get(&key) {
                let dupname = route_name(routes.get(dup).and_then(|r| r.name.as_deref()), dup);
                report_ineffective(
                    report,
                    &join_index(&join_key(&rpath, "match"), j),
                    &rname,
                    &route_name(m.name.as_deref(), j),
                    &dupname,
                );
                duplicates += 1;
                continue;
            }
            seen.insert(key, rule);
            if let Some(pm) = prefix_match(route, m, rule, j) {
                prefixes.push(pm);
            }
        }
        if duplicates == matches.len() {
            report_unreachable(report, &rpath, &rname, "all matches used by prior rules");
        } else if let Some(all) = &catch_all {
            report_unreachable(report, &rpath, &rname, &after_catch_all(all));
        }
    }
    for (i, a) in prefixes.iter().enumerate() {
        for b in prefixes.iter().skip(i + 1) {
            if a.prefix == b.prefix {
                continue;
            }
            if covered(a, b) {
                let bpath = join_index(
                    &join_key(&join_index("spec.http", b.rule), "match"),
                    b.index,
                );
                report_ineffective(
                    report,
                    &bpath,
                    &b.route_str,
                    &format!("{} of prefix {}", b.match_str, b.prefix),
                    &format!("{} of prefix {} on {}", a.match_str, a.prefix, a.route_str),
                );
            }
        }
    }
}

/// Istio's `analyzeUnreachableTCPRules` / `analyzeUnreachableTLSRules`, over the
/// comparison keys of each rule's matches.
fn analyze_unreachable_l4_rules(base: &str, rules: Vec<Vec<String>>, report: &mut Report<'_>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut catch_all: Option<String> = None;
    for (rule, keys) in rules.into_iter().enumerate() {
        let rpath = join_index(base, rule);
        let rname = format!("#{rule}");
        if keys.is_empty() {
            if catch_all.is_some() {
                report_unreachable(
                    report,
                    &rpath,
                    &rname,
                    "only the last rule can have no matches",
                );
            } else {
                catch_all = Some(rname);
            }
            continue;
        }
        let mut duplicates = 0;
        let n = keys.len();
        for (j, key) in keys.into_iter().enumerate() {
            if let Some(&dup) = seen.get(&key) {
                report_ineffective(
                    report,
                    &join_index(&join_key(&rpath, "match"), j),
                    &rname,
                    &format!("#{j}"),
                    &format!("#{dup}"),
                );
                duplicates += 1;
            } else {
                seen.insert(key, rule);
            }
        }
        if duplicates == n {
            report_unreachable(report, &rpath, &rname, "all matches used by prior rules");
        } else if let Some(all) = &catch_all {
            report_unreachable(report, &rpath, &rname, &after_catch_all(all));
        }
    }
}

/// Reason for a rule placed after a rule without matches. Istio only reports a
/// second rule without matches ("only the last rule can have no matches"); a rule
/// with matches after a catch-all is just as unreachable, so we report it too.
fn after_catch_all(catch_all: &str) -> String {
    format!("prior rule {catch_all} has no matches and catches every request")
}

#[cfg(test)]
mod tests {
    use crate::diag::Diagnostic;
    use crate::load::load_str;

    /// Validates a VirtualService whose `spec` is `spec` (YAML, indented by 2).
    fn run(spec: &str) -> Vec<Diagnostic> {
        let text = format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs\n  namespace: default\nspec:\n{spec}"
        );
        let loaded = load_str(&text, Some("vs.yaml"));
        let r = loaded.resources().next().expect("one resource");
        crate::validate::validate_resource(r)
    }

    /// Indents a block so it sits under `spec:`.
    fn spec(s: &str) -> String {
        s.lines().map(|l| format!("  {l}\n")).collect()
    }

    /// (scenario, spec, expected diagnostics as (code, path)). An empty list means
    /// no diagnostic at all.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    fn check(cases: &[Case]) {
        for (name, body, expected) in cases {
            let diags = run(&spec(body));
            let got: Vec<(String, String)> = diags
                .iter()
                .map(|d| (d.code.clone(), d.path.clone()))
                .collect();
            for (code, path) in expected.iter() {
                assert!(
                    got.iter().any(|(c, p)| c == code && p == path),
                    "{name}: expected {code} at {path}, got {diags:#?}"
                );
            }
            assert_eq!(
                got.len(),
                expected.len(),
                "{name}: unexpected diagnostics {diags:#?}"
            );
        }
    }

    #[test]
    fn top_level_rules() {
        check(&[
            (
                "simple_is_valid",
                "hosts: [foo.bar]\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[],
            ),
            (
                "overlapping_wildcard_hosts",
                "hosts: ['*.foo.bar', '*.bar']\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.hosts[1]")],
            ),
            (
                "bad_host",
                "hosts: ['foo.ba!r']\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.hosts[0]")],
            ),
            (
                "ip_host_is_accepted",
                "hosts: ['10.0.0.1']\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[],
            ),
            ("no_routes", "hosts: [foo.bar]", &[("IST0106", "spec")]),
            (
                "star_host_for_mesh",
                "hosts: ['*']\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.hosts[0]")],
            ),
            (
                "star_host_for_gateway",
                "hosts: ['*']\ngateways: [ns/gw]\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[],
            ),
            (
                "legacy_gateway_name_warns",
                "hosts: [foo.bar]\ngateways: [gateway.example.com]\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0133", "spec.gateways[0]")],
            ),
            (
                "bad_gateway_names",
                "hosts: [foo.bar]\ngateways: ['ns1/*', '*/gw']\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.gateways[0]"), ("IST0106", "spec.gateways[1]")],
            ),
            (
                "delegate_vs_with_gateways_and_tcp",
                "gateways: [gw]\ntcp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.gateways"), ("IST0106", "spec.tcp")],
            ),
            (
                "export_to_duplicates_and_bad_values",
                "hosts: [foo.bar]\nexportTo: ['.', default, 'bad_ns']\nhttp:\n- route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.exportTo[1]"), ("IST0106", "spec.exportTo[2]")],
            ),
            (
                "jwt_claim_route_needs_gateway",
                "hosts: [foo.bar]\nhttp:\n- match:\n  - headers:\n      '@request.auth.claims.foo':\n        exact: bar\n  route:\n  - destination:\n      host: foo.baz",
                &[("IST0106", "spec.http[0].match[0].headers[\"@request.auth.claims.foo\"]")],
            ),
        ]);
    }

    #[test]
    fn http_route_actions() {
        check(&[
            ("empty_route", "hosts: [r]\nhttp:\n- {}", &[("IST0106", "spec.http[0]")]),
            (
                "route_and_redirect",
                "hosts: [r]\nhttp:\n- redirect:\n    uri: /x\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].redirect")],
            ),
            (
                "root_route_with_route",
                "hosts: [r]\nhttp:\n- delegate:\n    name: d\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].route")],
            ),
            (
                "delegate_route_with_delegate",
                "http:\n- delegate:\n    name: d",
                &[("IST0106", "spec.http[0].delegate"), ("IST0106", "spec.http[0]")],
            ),
            (
                "mirror_and_mirrors",
                "hosts: [r]\nhttp:\n- mirror:\n    host: m\n  mirrors:\n  - destination:\n      host: m2\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].mirrors")],
            ),
            (
                "deprecated_mirror_percent",
                "hosts: [r]\nhttp:\n- mirrorPercent: 101\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].mirrorPercent"), ("IST0133", "spec.http[0].mirrorPercent")],
            ),
            (
                "mirror_percentage_out_of_range",
                "hosts: [r]\nhttp:\n- mirrorPercentage:\n    value: -1\n  mirrors:\n  - percentage:\n      value: 101\n    destination:\n      host: m\n  - percentage:\n      value: 5\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].mirrorPercentage.value"),
                    ("IST0106", "spec.http[0].mirrors[0].percentage.value"),
                    ("IST0106", "spec.http[0].mirrors[1]"),
                ],
            ),
            (
                "negative_weight_and_zero_total",
                "hosts: [r]\nhttp:\n- route:\n  - destination:\n      host: a\n    weight: -10\n  - destination:\n      host: b\n    weight: 10",
                &[("IST0106", "spec.http[0].route[0].weight"), ("IST0106", "spec.http[0].route")],
            ),
            (
                "weights_need_not_sum_to_100",
                "hosts: [r]\nhttp:\n- route:\n  - destination:\n      host: a\n    weight: 550\n  - destination:\n      host: b\n    weight: 10",
                &[],
            ),
            (
                "destination_problems",
                "hosts: [r]\nhttp:\n- route:\n  - destination:\n      host: '*'\n      subset: v1.0\n      port: {}",
                &[
                    ("IST0106", "spec.http[0].route[0].destination.host"),
                    ("IST0106", "spec.http[0].route[0].destination.subset"),
                    ("IST0106", "spec.http[0].route[0].destination.port.number"),
                ],
            ),
            (
                "missing_destination",
                "hosts: [r]\nhttp:\n- route:\n  - weight: 1",
                &[("IST0106", "spec.http[0].route[0]")],
            ),
            (
                "bad_timeout",
                "hosts: [r]\nhttp:\n- timeout: 0.5ms\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].timeout")],
            ),
            (
                "authority_set_twice",
                "hosts: [r]\nhttp:\n- headers:\n    request:\n      set:\n        ':authority': foo\n  rewrite:\n    authority: bar\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].headers.request.set[\":authority\"]")],
            ),
            (
                "header_operations",
                "hosts: [r]\nhttp:\n- headers:\n    request:\n      add:\n        ':path': x\n      remove: [Host]\n    response:\n      set:\n        x-ok: 'abc%123'\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].headers.request.add[\":path\"]"),
                    ("IST0106", "spec.http[0].headers.request.remove[0]"),
                    ("IST0106", "spec.http[0].headers.response.set.x-ok"),
                ],
            ),
        ]);
    }

    #[test]
    fn http_matches() {
        check(&[
            (
                "empty_prefix_header_and_method",
                "hosts: [r]\nhttp:\n- match:\n  - headers:\n      h:\n        prefix: ''\n    method:\n      prefix: ''\n    uri:\n      prefix: ''\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].match[0].headers.h.prefix"),
                    ("IST0106", "spec.http[0].match[0].method.prefix"),
                ],
            ),
            (
                "bad_regexes",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      regex: '['\n    withoutHeaders:\n      a:\n        regex: '?'\n      b:\n        regex: '*'\n    queryParams:\n      q:\n        regex: ''\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].match[0].uri.regex"),
                    ("IST0106", "spec.http[0].match[0].withoutHeaders.a.regex"),
                    ("IST0106", "spec.http[0].match[0].queryParams.q.regex"),
                ],
            ),
            (
                "header_names",
                "hosts: [r]\nhttp:\n- match:\n  - headers:\n      ':authority':\n        exact: a\n      '::':\n        exact: a\n      'x\"y':\n        exact: a\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].match[0].headers[\"::\"]"),
                    ("IST0106", "spec.http[0].match[0].headers[\"x\\\"y\"]"),
                ],
            ),
            (
                "two_string_match_alternatives",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      exact: /a\n      prefix: /b\n  route:\n  - destination:\n      host: a",
                &[("IST0106", "spec.http[0].match[0].uri")],
            ),
            (
                "port_labels_namespace",
                "hosts: [r]\nhttp:\n- match:\n  - port: 70000\n    sourceLabels:\n      'bad key': v\n    sourceNamespace: Bad_NS\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].match[0].port"),
                    ("IST0106", "spec.http[0].match[0].sourceLabels[\"bad key\"]"),
                    ("IST0106", "spec.http[0].match[0].sourceNamespace"),
                ],
            ),
        ]);
    }

    #[test]
    fn http_policies() {
        check(&[
            (
                "cors",
                "hosts: [r]\nhttp:\n- corsPolicy:\n    allowOrigins:\n    - exact: ''\n    - regex: '('\n    allowMethods: [GET, BREW]\n    exposeHeaders: ['']\n    allowHeaders: ['*']\n    maxAge: 2.5s\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].corsPolicy.allowOrigins[0]"),
                    ("IST0106", "spec.http[0].corsPolicy.allowOrigins[1].regex"),
                    ("IST0106", "spec.http[0].corsPolicy.allowMethods[1]"),
                    ("IST0106", "spec.http[0].corsPolicy.exposeHeaders[0]"),
                    ("IST0106", "spec.http[0].corsPolicy.maxAge"),
                ],
            ),
            (
                "fault_abort_and_delay",
                "hosts: [r]\nhttp:\n- fault:\n    abort:\n      httpStatus: 601\n      percentage:\n        value: -10\n    delay:\n      fixedDelay: 3.000000042s\n      percentage:\n        value: 101\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].fault.abort.httpStatus"),
                    ("IST0106", "spec.http[0].fault.abort.percentage.value"),
                    ("IST0106", "spec.http[0].fault.delay.fixedDelay"),
                    ("IST0106", "spec.http[0].fault.delay.percentage.value"),
                ],
            ),
            (
                "abort_without_error_type_warns",
                "hosts: [r]\nhttp:\n- fault:\n    abort:\n      percentage:\n        value: 10\n  route:\n  - destination:\n      host: a",
                &[("IST0133", "spec.http[0].fault.abort")],
            ),
            (
                "grpc_status_and_empty_fault",
                "hosts: [r]\nhttp:\n- fault:\n    abort:\n      grpcStatus: BAD_STATUS\n  route:\n  - destination:\n      host: a\n- fault: {}\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].fault.abort.grpcStatus"),
                    ("IST0106", "spec.http[1].fault"),
                    ("IST0130", "spec.http[1]"),
                ],
            ),
            (
                "retries",
                "hosts: [r]\nhttp:\n- retries:\n    attempts: 0\n    perTryTimeout: 2.000000001s\n    retryOn: 5xx,600,invalid policy,503\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].retries.attempts"),
                    ("IST0106", "spec.http[0].retries.perTryTimeout"),
                    ("IST0106", "spec.http[0].retries.retryOn"),
                    ("IST0106", "spec.http[0].retries.retryOn"),
                ],
            ),
            (
                "redirect",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      exact: /foo\n  redirect:\n    prefixRewrite: /bar\n    redirectCode: 299\n    scheme: ftp\n    derivePort: SOMEWHERE",
                &[
                    ("IST0106", "spec.http[0].redirect.prefixRewrite"),
                    ("IST0106", "spec.http[0].redirect.redirectCode"),
                    ("IST0106", "spec.http[0].redirect.scheme"),
                    ("IST0106", "spec.http[0].redirect.derivePort"),
                ],
            ),
            (
                "redirect_with_nothing",
                "hosts: [r]\nhttp:\n- redirect:\n    uri: ''\n    authority: ''",
                &[("IST0106", "spec.http[0].redirect")],
            ),
            (
                "rewrites",
                "hosts: [r]\nhttp:\n- rewrite: {}\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /x\n  rewrite:\n    uriRegexRewrite:\n      match: '['\n      rewrite: x\n  route:\n  - destination:\n      host: a",
                &[
                    ("IST0106", "spec.http[0].rewrite"),
                    ("IST0106", "spec.http[1].rewrite.uriRegexRewrite.match"),
                    ("IST0130", "spec.http[1]"),
                ],
            ),
            (
                "direct_response_status",
                "hosts: [r]\nhttp:\n- directResponse:\n    status: 199\n    body:\n      bytes: aGVsbG8=",
                &[("IST0106", "spec.http[0].directResponse.status")],
            ),
        ]);
    }

    #[test]
    fn tls_and_tcp_routes() {
        check(&[
            (
                "sni_ip_warns",
                "hosts: [foo.bar]\ntls:\n- match:\n  - port: 999\n    sniHosts: [1.1.1.1]\n  route:\n  - destination:\n      host: foo.baz",
                &[("IST0133", "spec.tls[0].match[0].sniHosts[0]")],
            ),
            (
                "sni_not_subset_of_hosts",
                "hosts: [foo.bar]\ntls:\n- match:\n  - sniHosts: [other.com, '*.bar']\n  route:\n  - destination:\n      host: foo.baz",
                &[
                    ("IST0106", "spec.tls[0].match[0].sniHosts[0]"),
                    ("IST0106", "spec.tls[0].match[0].sniHosts[1]"),
                ],
            ),
            (
                "tls_without_match_or_route",
                "hosts: [foo.bar]\ntls:\n- {}",
                &[("IST0106", "spec.tls[0]"), ("IST0106", "spec.tls[0]")],
            ),
            (
                "tcp_match_and_route",
                "hosts: [foo.bar]\ntcp:\n- match:\n  - destinationSubnets: [10.0.0.0/33]\n    port: 999\n",
                &[
                    ("IST0106", "spec.tcp[0].match[0].destinationSubnets[0]"),
                    ("IST0106", "spec.tcp[0]"),
                ],
            ),
            (
                "tcp_destination_wildcards",
                "hosts: [foo.bar]\ntcp:\n- route:\n  - destination:\n      host: '*.foo.bar'\n    weight: 0\n  - destination:\n      host: 'foo.*.bar'\n    weight: 0",
                &[
                    ("IST0106", "spec.tcp[0].route[1].destination.host"),
                    ("IST0106", "spec.tcp[0].route"),
                ],
            ),
        ]);
    }

    #[test]
    fn unreachable_rules() {
        check(&[
            (
                "two_catch_all_rules",
                "hosts: [r]\nhttp:\n- route:\n  - destination:\n      host: a\n- route:\n  - destination:\n      host: b",
                &[("IST0130", "spec.http[1]")],
            ),
            (
                "matched_rule_after_catch_all",
                "hosts: [r]\nhttp:\n- route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /x\n  route:\n  - destination:\n      host: b",
                &[("IST0130", "spec.http[1]")],
            ),
            (
                "tcp_rule_after_catch_all",
                "hosts: [r]\ntcp:\n- route:\n  - destination:\n      host: a\n- match:\n  - port: 80\n  route:\n  - destination:\n      host: b",
                &[("IST0130", "spec.tcp[1]")],
            ),
            (
                "duplicate_match_ignores_names",
                "hosts: [r]\nhttp:\n- match:\n  - name: one\n    uri:\n      prefix: /api\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /api\n  route:\n  - destination:\n      host: b",
                &[("IST0131", "spec.http[1].match[0]"), ("IST0130", "spec.http[1]")],
            ),
            (
                "partly_duplicate_rule",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      prefix: /api\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /api\n  - uri:\n      prefix: /potato\n  route:\n  - destination:\n      host: b",
                &[("IST0131", "spec.http[1].match[0]")],
            ),
            (
                "overlapping_prefix",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      prefix: /debug\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /debugs\n  route:\n  - destination:\n      host: b",
                &[("IST0131", "spec.http[1].match[0]")],
            ),
            (
                "longer_prefix_first_is_fine",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      prefix: /debugs\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /debug\n  route:\n  - destination:\n      host: b",
                &[],
            ),
            (
                "overlap_needs_same_headers",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      prefix: /debug\n    headers:\n      x:\n        exact: a\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      prefix: /debugs\n  route:\n  - destination:\n      host: b",
                &[],
            ),
            (
                "default_values_compare_equal",
                "hosts: [r]\nhttp:\n- match:\n  - uri:\n      exact: /a\n    ignoreUriCase: false\n    sourceLabels: {}\n  route:\n  - destination:\n      host: a\n- match:\n  - uri:\n      exact: /a\n  route:\n  - destination:\n      host: b",
                &[("IST0131", "spec.http[1].match[0]"), ("IST0130", "spec.http[1]")],
            ),
            (
                "tcp_duplicates",
                "hosts: ['*']\ngateways: [gw]\ntcp:\n- match:\n  - port: 31400\n  route:\n  - destination:\n      host: a\n- match:\n  - port: 31400\n  - port: 31401\n  route:\n  - destination:\n      host: b\n- route:\n  - destination:\n      host: c\n- route:\n  - destination:\n      host: d",
                &[("IST0131", "spec.tcp[1].match[0]"), ("IST0130", "spec.tcp[3]")],
            ),
            (
                "tls_duplicates",
                "hosts: [a.com]\ntls:\n- match:\n  - port: 2443\n    sniHosts: [a.com]\n  route:\n  - destination:\n      host: a\n- match:\n  - port: 2443\n    sniHosts: [a.com]\n  route:\n  - destination:\n      host: b",
                &[("IST0131", "spec.tls[1].match[0]"), ("IST0130", "spec.tls[1]")],
            ),
        ]);
    }

    #[test]
    fn messages_read_like_istio() {
        let d = run(&spec(
            "hosts: [r]\nhttp:\n- route:\n  - destination:\n      host: a\n    weight: -10\n- name: second\n  route:\n  - destination:\n      host: b",
        ));
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs.contains(&"weight -10 < 0"), "{msgs:?}");
        assert!(
            msgs.contains(
                &"VirtualService rule \"second\" not used (only the last rule can have no matches)"
            ),
            "{msgs:?}"
        );
        let line = d
            .iter()
            .find(|d| d.message == "weight -10 < 0")
            .and_then(|d| d.line);
        assert_eq!(line, Some(12), "weight is on line 12 of the document");
    }

    #[test]
    fn base64_lengths() {
        for (s, n) in [
            ("", 0),
            ("aGVsbG8=", 5),
            ("aGVsbG8", 5),
            ("aGVsbA==", 4),
            ("YWJj", 3),
        ] {
            assert_eq!(super::base64_decoded_len(s), n, "{s}");
        }
    }
}
