//! Compiling VirtualServices (+ DestinationRules, ServiceEntries, Services) into
//! route tables: regexes, durations and Istio's defaults are all resolved here,
//! once, so that deciding a request only evaluates precompiled matchers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use super::decision::{
    AbortError, Fault, FaultAbort, FaultDelay, HeaderOperations, HeaderOps, Percentage, RetryPolicy,
};
use super::index::UriIndex;
use super::matcher::{Cond, MatchBlock, NamedMatcher, StrMatcher, UriMatcher};
use super::rewrite::{self, RedirectPort, RedirectSpec, RewriteSpec};
use super::{codes, Engine, EngineOptions};
use crate::diag::{Diagnostic, Level};
use crate::host;
use crate::load::{Kind, Resource};
use crate::model::{
    self, CorsPolicy, DestinationRule, HTTPMatchRequest, HTTPRoute, OptSliceExt, StringMatch,
};
use crate::yaml::{join_index, join_key};

/// The entry of a rule without `match` (it matches every request).
pub(crate) const NO_MATCH: u32 = u32::MAX;

/// A compiled route destination.
#[derive(Debug, Clone)]
pub(crate) struct CDest {
    pub(crate) host: Box<str>,
    pub(crate) subset: Option<Box<str>>,
    /// `destination.port`, else the service's only declared port.
    pub(crate) port: Option<u32>,
    /// `destination.port` as written (istiod reads port-level load balancer settings
    /// only for it, `portLevelSettingsConsistentHash`).
    pub(crate) named_port: Option<u32>,
    pub(crate) weight: u32,
    /// Precomputed cluster name when the port is known.
    pub(crate) cluster: Option<Box<str>>,
    pub(crate) headers: HeaderOps,
    pub(crate) subset_defined: Option<bool>,
}

/// A compiled mirror.
#[derive(Debug, Clone)]
pub(crate) struct CMirror {
    pub(crate) dest: CDest,
    pub(crate) percentage: Percentage,
}

/// What a rule does.
#[derive(Debug, Clone)]
pub(crate) enum ActionKind {
    Route { dests: Vec<CDest>, total: u64 },
    Redirect(RedirectSpec),
    Direct { status: u32, body: Option<Vec<u8>> },
}

/// Everything a matched rule applies.
#[derive(Debug, Clone)]
pub(crate) struct RuleAction {
    pub(crate) kind: ActionKind,
    pub(crate) rewrite: Option<RewriteSpec>,
    pub(crate) headers: HeaderOps,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: Option<RetryPolicy>,
    pub(crate) fault: Option<Fault>,
    pub(crate) mirrors: Vec<CMirror>,
    pub(crate) cors: Option<CorsPolicy>,
}

#[derive(Debug, Clone)]
pub(crate) enum RuleBody {
    Active(Box<RuleAction>),
    /// Istio drops the rule (e.g. its delegate is missing); the reason.
    Ignored(String),
}

/// One HTTP rule (a delegating rule becomes one rule per delegate rule).
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// The (root) VirtualService; `None` for a service's default route.
    pub(crate) vs: Option<u32>,
    /// Index in the root VirtualService's `http`.
    pub(crate) index: u32,
    pub(crate) name: Option<Box<str>>,
    /// `spec.http[i]` in the VirtualService that defines the rule body.
    pub(crate) path: Box<str>,
    /// The delegate VirtualService and its rule index, for delegated rules.
    pub(crate) delegate: Option<(u32, u32)>,
    pub(crate) matches: Vec<MatchBlock>,
    pub(crate) body: RuleBody,
}

impl Rule {
    pub(crate) fn action(&self) -> Option<&RuleAction> {
        match &self.body {
            RuleBody::Active(a) => Some(a),
            RuleBody::Ignored(_) => None,
        }
    }
}

/// The `guard` of an [`Entry`] that has none.
pub(crate) const NO_GUARD: u32 = u32::MAX;

/// One `(rule, match block)` in evaluation order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// Index into `Engine::rule_sets`.
    pub(crate) set: u32,
    pub(crate) rule: u32,
    /// Match block index, or [`NO_MATCH`].
    pub(crate) m: u32,
    /// Index into [`Table::guards`], or [`NO_GUARD`].
    pub(crate) guard: u32,
}

/// The routes of one virtual host (one or, at a gateway, several VirtualServices).
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) sets: Vec<u32>,
    pub(crate) entries: Vec<Entry>,
    /// Ignored rules, placed before entry `.0` in explanations.
    pub(crate) ignored: Vec<(u32, u32, u32)>,
    /// Gateways only: catch-all entries that exist only for some listener ports or
    /// sources (`port`, `sourceLabels`, `sourceNamespace`). When one of an entry's
    /// guards matches the request, istiod ended that VirtualService's routes at the
    /// guard (`BuildHTTPRoutesForVirtualService`) and the entry does not exist.
    pub(crate) guards: Vec<Box<[Entry]>>,
    pub(crate) index: UriIndex,
}

/// Where a domain leads.
#[derive(Debug, Clone)]
pub(crate) struct DomainTarget {
    pub(crate) table: u32,
    /// The host (VirtualService host, or service) the domain belongs to.
    pub(crate) host: Box<str>,
}

struct DrInfo<'r> {
    host: String,
    dr: &'r DestinationRule,
}

struct RouteLayer<'r> {
    vs: u32,
    http: &'r HTTPRoute,
    path: String,
}

struct MatchLayer<'r> {
    vs: u32,
    m: &'r HTTPMatchRequest,
    path: String,
}

struct Builder<'r> {
    gateway: String,
    mesh: bool,
    default_ns: String,
    vs_res: Vec<&'r Resource>,
    vs_specs: Vec<&'r model::VirtualService>,
    vs_ns: Vec<String>,
    delegates: HashMap<(String, String), u32>,
    drs: Vec<DrInfo<'r>>,
    /// Declared services (ServiceEntry hosts, Kubernetes Services): FQDN → ports.
    services: Vec<(String, Vec<u32>)>,
    service_ports: HashMap<String, Vec<u32>>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// istiod `isInternalHeader`.
fn is_internal_header(k: &str) -> bool {
    k.starts_with(':') || k.eq_ignore_ascii_case("host")
}

/// istiod `isAuthorityHeader`.
fn is_authority_header(k: &str) -> bool {
    k.eq_ignore_ascii_case(":authority") || k.eq_ignore_ascii_case("host")
}

/// istiod `TranslateHeadersOperations`.
fn header_ops(h: Option<&model::Headers>) -> HeaderOps {
    let Some(h) = h else {
        return HeaderOps::default();
    };
    let ops = |o: Option<&model::HeaderOperations>| -> (HeaderOperations, Option<String>, Option<String>) {
        let Some(o) = o else {
            return (HeaderOperations::default(), None, None);
        };
        let mut set_auth = None;
        let mut add_auth = None;
        let list = |m: &Option<BTreeMap<String, String>>, auth: &mut Option<String>| {
            let mut v = Vec::new();
            for (k, val) in m.iter().flatten() {
                if is_authority_header(k) {
                    *auth = Some(val.clone());
                }
                if !is_internal_header(k) {
                    v.push((k.clone(), val.clone()));
                }
            }
            v
        };
        let set = list(&o.set, &mut set_auth);
        let add = list(&o.add, &mut add_auth);
        let remove = o
            .remove
            .items()
            .iter()
            .filter(|k| !is_internal_header(k))
            .cloned()
            .collect();
        (HeaderOperations { set, add, remove }, set_auth, add_auth)
    };
    let (request, set_auth, add_auth) = ops(h.request.as_ref());
    let (response, _, _) = ops(h.response.as_ref());
    HeaderOps {
        request,
        response,
        authority: set_auth.or(add_auth),
    }
}

/// Go's `http.StatusText(code) != ""`: the status codes istiod's `parseRetryOn`
/// moves from `retryOn` into `retriable_status_codes`.
fn known_http_status(c: i64) -> bool {
    matches!(c,
        100..=103 | 200..=208 | 226 | 300..=305 | 307 | 308 | 400..=418 | 421..=426
        | 428 | 429 | 431 | 451 | 500..=508 | 510 | 511)
}

/// istio `grpc.SupportedGRPCStatus`.
fn grpc_code(name: &str) -> Option<u32> {
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

/// istiod's default retry policy (`pilot/pkg/networking/core/route/retry/retry.go`,
/// `DefaultPolicy`): 2 retries on
/// `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`
/// with 503 retriable, host-selection attempts 5, and the previous-hosts predicate
/// (left out when the destination uses consistent hashing).
pub(crate) fn default_retry_policy(consistent_hash: bool) -> RetryPolicy {
    RetryPolicy {
        attempts: 2,
        retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
            .into(),
        retriable_status_codes: vec![503],
        per_try_timeout: None,
        backoff: None,
        retry_remote_localities: false,
        retry_previous_hosts: !consistent_hash,
        host_selection_retry_max_attempts: 5,
        istio_default: true,
    }
}

fn fqdn(h: &str, ns: &str) -> String {
    host::to_fqdn(&h.to_ascii_lowercase(), ns)
}

fn exported_to(vs: &model::VirtualService, vs_ns: &str, ns: &str) -> bool {
    let e = vs.export_to.items();
    e.is_empty()
        || e.iter()
            .any(|x| x == "*" || x == ns || (x == "." && vs_ns == ns))
}

/// istiod `stringMatchConflict` (delegate match conditions must be a subset of the root's).
fn string_match_conflict(root: Option<&StringMatch>, leaf: Option<&StringMatch>) -> bool {
    let (Some(root), Some(leaf)) = (root, leaf) else {
        return false;
    };
    fn nz(o: &Option<String>) -> Option<&str> {
        o.as_deref().filter(|s| !s.is_empty())
    }
    if nz(&root.regex).is_some()
        && (nz(&leaf.regex).or(nz(&leaf.prefix)).or(nz(&leaf.exact))).is_some()
    {
        return true;
    }
    if nz(&leaf.regex).is_some()
        && (nz(&root.regex).or(nz(&root.prefix)).or(nz(&root.exact))).is_some()
    {
        return true;
    }
    if let Some(exact) = nz(&root.exact) {
        if nz(&leaf.prefix).is_some() {
            return true;
        }
        return nz(&leaf.exact) != Some(exact);
    }
    if let Some(prefix) = nz(&root.prefix) {
        if let Some(p) = nz(&leaf.prefix) {
            return !p.starts_with(prefix);
        }
        if let Some(e) = nz(&leaf.exact) {
            return !e.starts_with(prefix);
        }
    }
    true
}

/// istiod `hasConflict(root, leaf)`. Gateway names are compared resolved, each in
/// its VirtualService's namespace (`root_ns`, `leaf_ns`), as istiod resolves them
/// before merging.
fn has_conflict(
    root: &HTTPMatchRequest,
    leaf: &HTTPMatchRequest,
    root_ns: &str,
    leaf_ns: &str,
) -> bool {
    let pairs = [
        (&root.uri, &leaf.uri),
        (&root.scheme, &leaf.scheme),
        (&root.method, &leaf.method),
        (&root.authority, &leaf.authority),
    ];
    if pairs
        .iter()
        .any(|(r, l)| string_match_conflict(r.as_ref(), l.as_ref()))
    {
        return true;
    }
    let map_conflict = |r: &Option<BTreeMap<String, StringMatch>>,
                        l: &Option<BTreeMap<String, StringMatch>>| {
        l.iter()
            .flatten()
            .any(|(k, lv)| string_match_conflict(r.as_ref().and_then(|r| r.get(k)), Some(lv)))
    };
    if map_conflict(&root.headers, &leaf.headers)
        || map_conflict(&root.without_headers, &leaf.without_headers)
        || map_conflict(&root.query_params, &leaf.query_params)
    {
        return true;
    }
    if root.ignore_uri_case.unwrap_or(false) != leaf.ignore_uri_case.unwrap_or(false) {
        return true;
    }
    let (rp, lp) = (root.port.unwrap_or(0), leaf.port.unwrap_or(0));
    if rp > 0 && lp > 0 && rp != lp {
        return true;
    }
    if let Some(rns) = root.source_namespace.as_deref().filter(|s| !s.is_empty()) {
        if leaf.source_namespace.as_deref() != Some(rns) {
            return true;
        }
    }
    for (k, lv) in leaf.source_labels.iter().flatten() {
        if let Some(v) = root.source_labels.as_ref().and_then(|r| r.get(k)) {
            if v != lv {
                return true;
            }
        }
    }
    let resolve = |gs: &[String], ns: &str| -> Vec<String> {
        gs.iter()
            .map(|g| host::resolve_gateway_name(g, ns))
            .collect()
    };
    let rg = resolve(root.gateways.items(), root_ns);
    let lg = resolve(leaf.gateways.items(), leaf_ns);
    if !rg.is_empty() && !lg.is_empty() {
        if rg.len() < lg.len() {
            return true;
        }
        if lg.iter().any(|g| !rg.contains(g)) {
            return true;
        }
    }
    false
}

/// Istio's merged name: `root-leaf`, or whichever is set.
fn merge_names<'a>(names: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut out: Option<String> = None;
    for n in names {
        let Some(n) = n.filter(|s| !s.is_empty()) else {
            continue;
        };
        out = Some(match out {
            Some(o) => format!("{o}-{n}"),
            None => n.to_owned(),
        });
    }
    out
}

impl<'r> Builder<'r> {
    fn res(&self, vs: u32) -> Option<&'r Resource> {
        self.vs_res.get(vs as usize).copied()
    }

    fn ns(&self, vs: u32) -> &str {
        self.vs_ns
            .get(vs as usize)
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    fn diag(
        &self,
        vs: u32,
        code: &str,
        level: Level,
        path: &str,
        msg: impl Into<String>,
    ) -> Diagnostic {
        match self.res(vs) {
            Some(r) => r.diag(code, level, path, msg),
            None => Diagnostic::new(code, level, msg).with_path(path),
        }
    }

    fn error(&mut self, vs: u32, code: &str, path: &str, msg: impl Into<String>) {
        let d = self.diag(vs, code, Level::Error, path, msg);
        self.errors.push(d);
    }

    fn warn(&mut self, vs: u32, code: &str, path: &str, msg: impl Into<String>) {
        let d = self.diag(vs, code, Level::Warning, path, msg);
        self.warnings.push(d);
    }

    fn duration(&mut self, vs: u32, path: &str, s: &str) -> Option<Duration> {
        match crate::duration::parse_duration(s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(vs, codes::MR302, path, e.to_string());
                None
            }
        }
    }

    fn str_matcher(&mut self, vs: u32, path: &str, m: &StringMatch) -> Option<StrMatcher> {
        match StrMatcher::compile(m) {
            Ok(m) => Some(m),
            Err(e) => {
                let code = if e.starts_with("invalid regex") {
                    codes::MR301
                } else {
                    codes::MR303
                };
                self.error(vs, code, path, e);
                None
            }
        }
    }

    /// The DestinationRule for `host`: exact host first, else the most specific wildcard.
    fn dr_for(&self, host: &str) -> Option<&DestinationRule> {
        if let Some(d) = self.drs.iter().find(|d| d.host == host) {
            return Some(d.dr);
        }
        self.drs
            .iter()
            .filter(|d| host::is_wildcard(&d.host) && host::subset_of(host, &d.host))
            .max_by_key(|d| d.host.len())
            .map(|d| d.dr)
    }

    /// Whether the destination's load balancer uses consistent hashing (istiod
    /// `hashForHTTPDestination`: subset port-level > subset > port-level > top-level;
    /// port-level settings only for a `port` the destination names).
    fn consistent_hash(&self, host: &str, subset: Option<&str>, port: Option<u32>) -> bool {
        let Some(dr) = self.dr_for(host) else {
            return false;
        };
        let has = |tp: Option<&model::TrafficPolicy>| -> (bool, bool) {
            let Some(tp) = tp else {
                return (false, false);
            };
            let top = tp
                .load_balancer
                .as_ref()
                .is_some_and(|lb| lb.consistent_hash.is_some());
            let pls = port.is_some_and(|p| {
                tp.port_level_settings.items().iter().any(|s| {
                    s.port.as_ref().and_then(|x| x.number) == Some(p)
                        && s.load_balancer
                            .as_ref()
                            .is_some_and(|lb| lb.consistent_hash.is_some())
                })
            });
            (top, pls)
        };
        let (top, pls) = has(dr.traffic_policy.as_ref());
        let (sub, sub_pls) = match subset {
            Some(s) => dr
                .subsets
                .items()
                .iter()
                .find(|x| x.name.as_deref() == Some(s))
                .map(|x| has(x.traffic_policy.as_ref()))
                .unwrap_or((false, false)),
            None => (false, false),
        };
        sub_pls || sub || pls || top
    }

    fn dest(
        &mut self,
        vs: u32,
        path: &str,
        d: &model::Destination,
        weight: u32,
        headers: HeaderOps,
    ) -> Option<CDest> {
        let Some(h) = d.host.as_deref().filter(|h| !h.is_empty()) else {
            self.error(
                vs,
                codes::MR303,
                &join_key(path, "host"),
                "destination.host is required",
            );
            return None;
        };
        // istiod resolves each VirtualService's short names in its own namespace
        // before merging delegates (`initVirtualServices`, istio/istio#30387): `vs`
        // is the one that wrote this destination (root or delegate).
        let host = fqdn(h, self.ns(vs));
        let subset = d.subset.as_deref().filter(|s| !s.is_empty());
        let named_port = d.port.as_ref().and_then(|p| p.number).filter(|p| *p != 0);
        let port =
            named_port.or_else(
                || match self.service_ports.get(&host).map(|v| v.as_slice()) {
                    Some([only]) => Some(*only),
                    _ => None,
                },
            );
        let cluster =
            port.map(|p| super::decision::cluster_name(p, subset, &host).into_boxed_str());
        let subset_defined = subset.map(|s| {
            self.dr_for(&host).is_some_and(|dr| {
                dr.subsets
                    .items()
                    .iter()
                    .any(|x| x.name.as_deref() == Some(s))
            })
        });
        if subset_defined == Some(false) {
            let s = subset.unwrap_or_default();
            self.warn(
                vs,
                codes::MR305,
                &join_key(path, "subset"),
                format!(
                    "subset {s:?} of {host} is not defined by any loaded DestinationRule: Envoy has no cluster for it and answers 503 (NC)"
                ),
            );
        }
        Some(CDest {
            host: host.into_boxed_str(),
            subset: subset.map(Into::into),
            port,
            named_port,
            weight,
            cluster,
            headers,
            subset_defined,
        })
    }

    /// Compiles one match block from its layers (root then delegate; later wins).
    fn match_block(&mut self, layers: &[MatchLayer<'r>]) -> MatchBlock {
        let Some(last) = layers.last() else {
            return MatchBlock::default();
        };
        let mut mb = MatchBlock {
            name: merge_names(layers.iter().map(|l| l.m.name.as_deref())).map(Into::into),
            path: last.path.as_str().into(),
            vs: last.vs,
            ..Default::default()
        };
        // The last layer that sets a field provides it.
        fn pick<'a, 'r, T>(
            layers: &'a [MatchLayer<'r>],
            f: impl Fn(&'r HTTPMatchRequest) -> Option<T>,
        ) -> Option<(T, &'a MatchLayer<'r>)> {
            layers.iter().rev().find_map(|l| f(l.m).map(|v| (v, l)))
        }
        let ignore_case = last.m.ignore_uri_case.unwrap_or(false);
        if let Some((u, l)) = pick(layers, |m| m.uri.as_ref()) {
            let path = join_key(&l.path, "uri");
            if let Some(m) = self.str_matcher(l.vs, &path, u) {
                // `uri: {}` leaves Envoy's default prefix `/`: no condition.
                if !matches!(m, StrMatcher::Present) {
                    mb.uri = Some(Cond {
                        c: UriMatcher { m, ignore_case },
                        path: path.into(),
                        vs: l.vs,
                    });
                }
            }
        }
        for (field, slot) in [("scheme", 0usize), ("method", 1), ("authority", 2)] {
            let got = pick(layers, |m| match slot {
                0 => m.scheme.as_ref(),
                1 => m.method.as_ref(),
                _ => m.authority.as_ref(),
            });
            if let Some((sm, l)) = got {
                let path = join_key(&l.path, field);
                if let Some(m) = self.str_matcher(l.vs, &path, sm) {
                    let c = Some(Cond {
                        c: m,
                        path: path.into(),
                        vs: l.vs,
                    });
                    match slot {
                        0 => mb.scheme = c,
                        1 => mb.method = c,
                        _ => mb.authority = c,
                    }
                }
            }
        }
        type MapOf = fn(&HTTPMatchRequest) -> &Option<BTreeMap<String, StringMatch>>;
        let maps: [(&str, MapOf, bool); 3] = [
            ("headers", |m| &m.headers, true),
            ("withoutHeaders", |m| &m.without_headers, true),
            ("queryParams", |m| &m.query_params, false),
        ];
        for (which, (field, get, lower)) in maps.into_iter().enumerate() {
            let mut merged: BTreeMap<String, (&'r StringMatch, u32, String)> = BTreeMap::new();
            for l in layers {
                for (k, v) in get(l.m).iter().flatten() {
                    let key = if lower {
                        k.to_ascii_lowercase()
                    } else {
                        k.clone()
                    };
                    let path = join_key(&join_key(&l.path, field), k);
                    merged.insert(key, (v, l.vs, path));
                }
            }
            for (name, (sm, vs, path)) in merged {
                if let Some(m) = self.str_matcher(vs, &path, sm) {
                    let c = Cond {
                        c: NamedMatcher {
                            name: name.into(),
                            m,
                        },
                        path: path.into(),
                        vs,
                    };
                    match which {
                        0 => mb.headers.push(c),
                        1 => mb.without_headers.push(c),
                        _ => mb.query_params.push(c),
                    }
                }
            }
        }
        if let Some((p, l)) = pick(layers, |m| m.port.filter(|p| *p != 0)) {
            mb.port = Some(Cond {
                c: p,
                path: join_key(&l.path, "port").into(),
                vs: l.vs,
            });
        }
        if let Some((g, l)) = pick(layers, |m| {
            Some(m.gateways.items()).filter(|g| !g.is_empty())
        }) {
            let ns = self.ns(l.vs).to_owned();
            mb.gateways = Some(Cond {
                c: g.iter()
                    .map(|x| host::resolve_gateway_name(x, &ns))
                    .collect(),
                path: join_key(&l.path, "gateways").into(),
                vs: l.vs,
            });
        }
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let mut labels_at: Option<&MatchLayer<'r>> = None;
        for l in layers {
            if let Some(sl) = l.m.source_labels.as_ref().filter(|m| !m.is_empty()) {
                labels.extend(sl.iter().map(|(k, v)| (k.clone(), v.clone())));
                labels_at = Some(l);
            }
        }
        if let Some(l) = labels_at {
            mb.source_labels = Some(Cond {
                c: labels.into_iter().collect(),
                path: join_key(&l.path, "sourceLabels").into(),
                vs: l.vs,
            });
        }
        if let Some((ns, l)) = pick(layers, |m| {
            m.source_namespace.as_deref().filter(|s| !s.is_empty())
        }) {
            mb.source_namespace = Some(Cond {
                c: ns.to_owned(),
                path: join_key(&l.path, "sourceNamespace").into(),
                vs: l.vs,
            });
        }
        mb
    }

    /// Compiles a rule from its layers (root then delegate rule; later wins, as
    /// istiod `mergeHTTPRoute`), with already merged match layers.
    fn rule(
        &mut self,
        root_vs: u32,
        index: usize,
        delegate: Option<(u32, u32)>,
        layers: &[RouteLayer<'r>],
        match_layers: Vec<Vec<MatchLayer<'r>>>,
    ) -> Option<Rule> {
        let last = layers.last()?;
        let matches: Vec<MatchBlock> = match_layers.iter().map(|ls| self.match_block(ls)).collect();
        let name = merge_names(layers.iter().map(|l| l.http.name.as_deref()));
        fn pick<'a, 'r, T: ?Sized>(
            layers: &'a [RouteLayer<'r>],
            f: impl Fn(&'r HTTPRoute) -> Option<&'r T>,
        ) -> Option<(&'r T, &'a RouteLayer<'r>)> {
            layers.iter().rev().find_map(|l| f(l.http).map(|v| (v, l)))
        }
        let vs = last.vs;
        let path = last.path.clone();

        let headers = header_ops(pick(layers, |h| h.headers.as_ref()).map(|(h, _)| h));
        // virtual_service.proto, HTTPRoute.timeout: "Timeout for HTTP requests,
        // default is disabled" (istiod `setTimeout` writes 0s).
        let timeout = match pick(layers, |h| h.timeout.as_deref()) {
            Some((t, l)) => {
                let p = join_key(&l.path, "timeout");
                self.duration(l.vs, &p, t).filter(|d| !d.is_zero())
            }
            None => None,
        };

        // The action: redirect, else directResponse, else route (istiod `translateRoute`).
        let kind = if let Some(r) = &last.http.redirect {
            let p = join_key(&path, "redirect");
            let status = match r.redirect_code.unwrap_or(0) {
                0 | 301 => 301,
                c @ (302 | 303 | 307 | 308) => c,
                c => {
                    self.error(
                        vs,
                        codes::MR303,
                        &join_key(&p, "redirectCode"),
                        format!(
                            "redirect code {c} is not supported by Istio (301, 302, 303, 307, 308)"
                        ),
                    );
                    301
                }
            };
            let port = match (r.port, r.derive_port.as_deref()) {
                (Some(p), _) if p != 0 => RedirectPort::Fixed(p),
                (_, Some("FROM_REQUEST_PORT")) => RedirectPort::FromRequest,
                _ => RedirectPort::Keep,
            };
            Some(ActionKind::Redirect(RedirectSpec {
                uri: r.uri.clone().filter(|u| !u.is_empty()),
                authority: r.authority.clone().filter(|a| !a.is_empty()),
                scheme: r.scheme.clone().filter(|s| !s.is_empty()),
                port,
                status,
            }))
        } else if let Some((d, l)) = pick(layers, |h| h.direct_response.as_ref()) {
            let p = join_key(&l.path, "directResponse");
            let status = d.status.unwrap_or(0);
            if !(200..600).contains(&status) {
                self.error(
                    l.vs,
                    codes::MR303,
                    &join_key(&p, "status"),
                    format!("directResponse.status {status} is not an HTTP status Envoy accepts (200-599)"),
                );
            }
            let body = match &d.body {
                Some(b) if b.string.is_some() => b.string.clone().map(String::into_bytes),
                Some(b) => match b.bytes.as_deref().map(rewrite::decode_base64) {
                    Some(Ok(v)) => Some(v),
                    Some(Err(e)) => {
                        self.error(
                            l.vs,
                            codes::MR303,
                            &join_key(&join_key(&p, "body"), "bytes"),
                            e,
                        );
                        None
                    }
                    None => None,
                },
                None => None,
            };
            Some(ActionKind::Direct { status, body })
        } else if !last.http.route.items().is_empty() {
            let items = last.http.route.items();
            let single = items.len() == 1;
            let mut dests = Vec::new();
            for (i, rd) in items.iter().enumerate() {
                let rp = join_index(&join_key(&path, "route"), i);
                // virtual_service.proto, HTTPRouteDestination.weight: "If there is only
                // one destination in a rule, the weight value is assumed to be 100."
                // Several: zero weights are dropped (istiod `applyHTTPRouteDestination`)
                // and Envoy splits by weight / sum of weights.
                let weight = if single {
                    100
                } else {
                    match rd.weight {
                        Some(w) if w > 0 => w as u32,
                        _ => continue,
                    }
                };
                let Some(d) = &rd.destination else {
                    self.error(
                        vs,
                        codes::MR303,
                        &join_key(&rp, "destination"),
                        "destination is required",
                    );
                    continue;
                };
                let h = header_ops(rd.headers.as_ref());
                if let Some(cd) = self.dest(vs, &join_key(&rp, "destination"), d, weight, h) {
                    dests.push(cd);
                }
            }
            if dests.is_empty() {
                self.error(
                    vs,
                    codes::MR303,
                    &join_key(&path, "route"),
                    "every destination has weight 0: Envoy rejects a weighted cluster without clusters",
                );
                None
            } else {
                let total = dests.iter().map(|d| u64::from(d.weight)).sum();
                Some(ActionKind::Route { dests, total })
            }
        } else {
            self.error(
                vs,
                codes::MR303,
                &path,
                "rule has no route, redirect, directResponse or delegate",
            );
            None
        };

        let rewrite = match pick(layers, |h| h.rewrite.as_ref()) {
            Some((rw, l)) => {
                let p = join_key(&l.path, "rewrite");
                let regex = match &rw.uri_regex_rewrite {
                    Some(rr) => {
                        let rp = join_key(&p, "uriRegexRewrite");
                        let pat = rr.r#match.as_deref().unwrap_or("");
                        match regex_lite::Regex::new(pat) {
                            Ok(re) => match rewrite::convert_substitution(
                                rr.rewrite.as_deref().unwrap_or(""),
                            ) {
                                Ok(sub) => Some((Box::new(re), sub)),
                                Err(e) => {
                                    self.error(l.vs, codes::MR303, &join_key(&rp, "rewrite"), e);
                                    None
                                }
                            },
                            Err(e) => {
                                self.error(
                                    l.vs,
                                    codes::MR301,
                                    &join_key(&rp, "match"),
                                    format!("invalid regex {pat:?}: {e}"),
                                );
                                None
                            }
                        }
                    }
                    None => None,
                };
                Some(RewriteSpec {
                    uri: rw.uri.clone().filter(|u| !u.is_empty()),
                    regex,
                    authority: rw.authority.clone().filter(|a| !a.is_empty()),
                })
            }
            None => None,
        };

        // Retries (istiod `retry.ConvertPolicy`): unset → default; attempts <= 0 → none.
        let consistent = match &kind {
            Some(ActionKind::Route { dests, .. }) => match dests.as_slice() {
                [d] => self.consistent_hash(&d.host, d.subset.as_deref(), d.named_port),
                _ => false,
            },
            _ => false,
        };
        let retries = match pick(layers, |h| h.retries.as_ref()) {
            None => Some(default_retry_policy(consistent)),
            Some((r, l)) => {
                let p = join_key(&l.path, "retries");
                let attempts = r.attempts.unwrap_or(0);
                if attempts <= 0 {
                    None
                } else {
                    let mut out = default_retry_policy(consistent);
                    out.istio_default = false;
                    out.attempts = attempts as u32;
                    if let Some(on) = r.retry_on.as_deref().filter(|s| !s.is_empty()) {
                        let mut codes_ = Vec::new();
                        let mut parts = Vec::new();
                        for part in on.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                            match part.parse::<i64>() {
                                Ok(c) if known_http_status(c) => codes_.push(c as u32),
                                _ => parts.push(part),
                            }
                        }
                        let mut retry_on = parts.join(",");
                        if !codes_.is_empty() && !retry_on.contains("retriable-status-codes") {
                            retry_on.push_str(",retriable-status-codes");
                        }
                        out.retry_on = retry_on;
                        out.retriable_status_codes = codes_;
                    }
                    if let Some(t) = r.per_try_timeout.as_deref() {
                        out.per_try_timeout =
                            self.duration(l.vs, &join_key(&p, "perTryTimeout"), t);
                    }
                    if let Some(b) = r.retry_ignore_previous_hosts {
                        out.retry_previous_hosts = b;
                    }
                    out.retry_remote_localities = r.retry_remote_localities.unwrap_or(false);
                    if let Some(b) = r.backoff.as_deref() {
                        out.backoff = self.duration(l.vs, &join_key(&p, "backoff"), b);
                    }
                    Some(out)
                }
            }
        };

        let fault = match pick(layers, |h| h.fault.as_ref()) {
            Some((f, l)) => self.fault(l.vs, &join_key(&l.path, "fault"), f),
            None => None,
        };

        // Mirrors (istiod `MirrorPercent` / `MirrorPercentByPolicy`): an absent
        // percentage mirrors 100% (virtual_service.proto, mirror_percentage: "If this
        // field is absent, all the traffic (100%) will be mirrored"), an explicit 0
        // mirrors nothing.
        let mut mirrors = Vec::new();
        if let Some((m, l)) = pick(layers, |h| h.mirror.as_ref()) {
            let pct = if let Some((p, _)) = pick(layers, |h| h.mirror_percentage.as_ref()) {
                let v = p.value.unwrap_or(0.0);
                (v > 0.0).then(|| Percentage::from_percent(v))
            } else if let Some((p, _)) = pick(layers, |h| {
                h.mirror_percent
                    .as_ref()
                    .or(h.mirror_percent_legacy.as_ref())
            }) {
                (*p > 0).then(|| Percentage::from_int_percent(i64::from(*p)))
            } else {
                Some(Percentage::ALL)
            };
            if let Some(percentage) = pct {
                let mp = join_key(&l.path, "mirror");
                if let Some(dest) = self.dest(l.vs, &mp, m, 100, HeaderOps::default()) {
                    mirrors.push(CMirror { dest, percentage });
                }
            }
        }
        if let Some((ms, l)) = pick(layers, |h| h.mirrors.as_ref()) {
            for (i, m) in ms.iter().enumerate() {
                let Some(d) = &m.destination else {
                    continue;
                };
                let pct = match &m.percentage {
                    Some(p) => {
                        let v = p.value.unwrap_or(0.0);
                        (v > 0.0).then(|| Percentage::from_percent(v))
                    }
                    None => Some(Percentage::ALL),
                };
                if let Some(percentage) = pct {
                    let mp = join_key(&join_index(&join_key(&l.path, "mirrors"), i), "destination");
                    if let Some(dest) = self.dest(l.vs, &mp, d, 100, HeaderOps::default()) {
                        mirrors.push(CMirror { dest, percentage });
                    }
                }
            }
        }

        let cors = pick(layers, |h| h.cors_policy.as_ref()).map(|(c, _)| c.clone());
        let body = match kind {
            Some(kind) => RuleBody::Active(Box::new(RuleAction {
                kind,
                rewrite,
                headers,
                timeout,
                retries,
                fault,
                mirrors,
                cors,
            })),
            None => RuleBody::Ignored("the rule is invalid (see the errors)".into()),
        };
        Some(Rule {
            vs: Some(root_vs),
            index: index as u32,
            name: name.map(Into::into),
            path: path.into(),
            delegate,
            matches,
            body,
        })
    }

    /// istiod `TranslateFault`.
    fn fault(&mut self, vs: u32, path: &str, f: &model::HTTPFaultInjection) -> Option<Fault> {
        let delay = match &f.delay {
            Some(d) => {
                let dp = join_key(path, "delay");
                // virtual_service.proto says "If left unspecified, all request will be
                // delayed", but istiod `TranslateFault` falls back to the deprecated
                // integer `percent` (0 when unset): Envoy gets numerator 0 and delays
                // nothing. We follow what istiod does (istio/istio#36303).
                let percentage = match &d.percentage {
                    Some(p) => Percentage::from_percent(p.value.unwrap_or(0.0)),
                    None => Percentage::from_int_percent(i64::from(d.percent.unwrap_or(0))),
                };
                match d.fixed_delay.as_deref() {
                    Some(s) => {
                        self.duration(vs, &join_key(&dp, "fixedDelay"), s)
                            .map(|fixed_delay| FaultDelay {
                                fixed_delay,
                                percentage,
                            })
                    }
                    None => {
                        self.warn(
                            vs,
                            codes::MR303,
                            &dp,
                            "only fixedDelay is implemented by Istio: this delay is ignored",
                        );
                        None
                    }
                }
            }
            None => None,
        };
        let abort = match &f.abort {
            Some(a) => {
                let ap = join_key(path, "abort");
                // virtual_service.proto says "If not specified, all requests are
                // aborted", but istiod leaves Envoy's FaultAbort.percentage unset, which
                // Envoy reads as 0%: nothing is aborted (istio/istio#36303, #39969).
                // We follow what istiod does.
                let percentage = a
                    .percentage
                    .as_ref()
                    .map(|p| Percentage::from_percent(p.value.unwrap_or(0.0)))
                    .unwrap_or(Percentage::NONE);
                let error = if let Some(s) = a.http_status {
                    if !(200..600).contains(&s) {
                        self.error(
                            vs,
                            codes::MR303,
                            &join_key(&ap, "httpStatus"),
                            format!("abort httpStatus {s} is not an HTTP status Envoy accepts (200-599)"),
                        );
                    }
                    Some(AbortError::Http(s.max(0) as u32))
                } else if let Some(g) = a.grpc_status.as_deref() {
                    match grpc_code(g) {
                        Some(code) => Some(AbortError::Grpc {
                            name: g.to_owned(),
                            code,
                        }),
                        None => {
                            self.error(
                                vs,
                                codes::MR303,
                                &join_key(&ap, "grpcStatus"),
                                format!("unknown gRPC status {g:?}"),
                            );
                            None
                        }
                    }
                } else {
                    self.warn(
                        vs,
                        codes::MR303,
                        &ap,
                        "only httpStatus and grpcStatus aborts are implemented by Istio: this abort is ignored",
                    );
                    None
                };
                error.map(|error| FaultAbort { error, percentage })
            }
            None => None,
        };
        (delay.is_some() || abort.is_some()).then_some(Fault { delay, abort })
    }

    /// The rules of root VirtualService `vs` (delegates merged in).
    fn vs_rules(&mut self, vs: u32) -> Vec<Rule> {
        let Some(spec) = self.vs_specs.get(vs as usize).copied() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, http) in spec.http.items().iter().enumerate() {
            let path = join_index("spec.http", i);
            let root = RouteLayer { vs, http, path };
            match &http.delegate {
                None => {
                    let ml = http
                        .r#match
                        .items()
                        .iter()
                        .enumerate()
                        .map(|(j, m)| {
                            vec![MatchLayer {
                                vs,
                                m,
                                path: join_index(&join_key(&root.path, "match"), j),
                            }]
                        })
                        .collect();
                    if let Some(r) = self.rule(vs, i, None, std::slice::from_ref(&root), ml) {
                        out.push(r);
                    }
                }
                Some(d) => out.extend(self.delegated(vs, i, &root, d)),
            }
        }
        out
    }

    fn ignored(&self, vs: u32, i: usize, path: &str, name: Option<&str>, reason: String) -> Rule {
        Rule {
            vs: Some(vs),
            index: i as u32,
            name: name.map(Into::into),
            path: path.into(),
            delegate: None,
            matches: Vec::new(),
            body: RuleBody::Ignored(reason),
        }
    }

    /// istiod `mergeHTTPRoutes`: one rule per delegate rule without conflict.
    fn delegated(
        &mut self,
        vs: u32,
        i: usize,
        root: &RouteLayer<'r>,
        d: &model::Delegate,
    ) -> Vec<Rule> {
        let root_ns = self.ns(vs).to_owned();
        let name = d.name.clone().unwrap_or_default();
        let ns = d
            .namespace
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or(root_ns.clone());
        let dpath = join_key(&root.path, "delegate");
        let found = self.delegates.get(&(ns.clone(), name.clone())).copied();
        let Some(dvs) = found else {
            let msg = format!(
                "delegate VirtualService {ns}/{name} not found (a delegate has no hosts): Istio ignores this rule"
            );
            self.warn(vs, codes::MR304, &dpath, msg.clone());
            return vec![self.ignored(vs, i, &root.path, root.http.name.as_deref(), msg)];
        };
        let Some(dspec) = self.vs_specs.get(dvs as usize).copied() else {
            return Vec::new();
        };
        let dns = self.ns(dvs).to_owned();
        if !exported_to(dspec, &ns, &root_ns) {
            let msg = format!(
                "delegate VirtualService {ns}/{name} is not exported to namespace {root_ns}: Istio ignores this rule"
            );
            self.warn(vs, codes::MR304, &dpath, msg.clone());
            return vec![self.ignored(vs, i, &root.path, root.http.name.as_deref(), msg)];
        }
        let mut out = Vec::new();
        for (j, http) in dspec.http.items().iter().enumerate() {
            let leaf = RouteLayer {
                vs: dvs,
                http,
                path: join_index("spec.http", j),
            };
            if http.delegate.is_some() {
                let msg = "a delegate VirtualService cannot delegate again (one level only): Istio ignores this rule".to_string();
                self.warn(
                    dvs,
                    codes::MR304,
                    &join_key(&leaf.path, "delegate"),
                    msg.clone(),
                );
                out.push(self.ignored(vs, i, &leaf.path, http.name.as_deref(), msg));
                continue;
            }
            let rm = root.http.r#match.items();
            let lm = http.r#match.items();
            let mk = |layer: &RouteLayer<'r>, j: usize, m: &'r HTTPMatchRequest| MatchLayer {
                vs: layer.vs,
                m,
                path: join_index(&join_key(&layer.path, "match"), j),
            };
            let merged: Option<Vec<Vec<MatchLayer<'r>>>> = if rm.is_empty() {
                Some(
                    lm.iter()
                        .enumerate()
                        .map(|(k, m)| vec![mk(&leaf, k, m)])
                        .collect(),
                )
            } else if lm.is_empty() {
                Some(
                    rm.iter()
                        .enumerate()
                        .map(|(k, m)| vec![mk(root, k, m)])
                        .collect(),
                )
            } else {
                let mut v = Vec::new();
                let mut ok = true;
                for (lk, sub) in lm.iter().enumerate() {
                    let mut found = false;
                    for (rk, rmatch) in rm.iter().enumerate() {
                        if has_conflict(rmatch, sub, &root_ns, &dns) {
                            continue;
                        }
                        v.push(vec![mk(root, rk, rmatch), mk(&leaf, lk, sub)]);
                        found = true;
                    }
                    if !found {
                        ok = false;
                        break;
                    }
                }
                (ok && !v.is_empty()).then_some(v)
            };
            let Some(ml) = merged else {
                let msg = format!(
                    "the match of delegate rule {}/{name} http[{j}] is not a subset of the root rule's: Istio ignores it",
                    ns
                );
                self.warn(
                    dvs,
                    codes::MR304,
                    &join_key(&leaf.path, "match"),
                    msg.clone(),
                );
                out.push(self.ignored(vs, i, &leaf.path, http.name.as_deref(), msg));
                continue;
            };
            let layers = [
                RouteLayer {
                    vs: root.vs,
                    http: root.http,
                    path: root.path.clone(),
                },
                leaf,
            ];
            if let Some(r) = self.rule(vs, i, Some((dvs, j as u32)), &layers, ml) {
                out.push(r);
            }
        }
        out
    }
}

/// Whether an entry is a catch-all route at the engine's gateway (istiod `IsCatchAllRoute`
/// on what `translateRoute` returns for it).
enum CatchAll {
    No,
    /// Whatever the request: the VirtualService's later routes are dropped.
    Always,
    /// Only on one listener port or for some sources (the route exists only then).
    Sometimes,
}

fn catch_all_kind(rule: &Rule, m: u32, gateway: &str) -> CatchAll {
    if m == NO_MATCH {
        return CatchAll::Always;
    }
    let Some(mb) = rule.matches.get(m as usize) else {
        return CatchAll::No;
    };
    if !mb.is_catch_all() {
        return CatchAll::No;
    }
    // istiod `sourceMatchHTTP`: match gateways replace the source checks.
    let sourced = match &mb.gateways {
        Some(g) if !g.c.iter().any(|n| n == gateway) => return CatchAll::No,
        Some(_) => false,
        None => mb.source_labels.is_some() || mb.source_namespace.is_some(),
    };
    if sourced || mb.port.is_some() {
        CatchAll::Sometimes
    } else {
        CatchAll::Always
    }
}

/// Sorts a gateway table's entries like istiod `SortVHostRoutes`: catch-all routes
/// last, the rest in order.
fn sort_catch_all_last(entries: &mut [Entry], sets: &[Vec<Rule>]) {
    let is_catch_all = |e: &Entry| -> bool {
        let Some(rule) = sets
            .get(e.set as usize)
            .and_then(|s| s.get(e.rule as usize))
        else {
            return false;
        };
        if e.m == NO_MATCH {
            return true;
        }
        rule.matches
            .get(e.m as usize)
            .is_some_and(MatchBlock::is_catch_all)
    };
    entries.sort_by_key(|e| is_catch_all(e));
}

pub(crate) fn compile(
    mut resources: Vec<&Resource>,
    opts: &EngineOptions,
) -> Result<Engine, Vec<Diagnostic>> {
    let default_ns = if opts.default_namespace.is_empty() {
        "default".to_owned()
    } else {
        opts.default_namespace.clone()
    };
    // istiod binds hosts, merges gateway routes and picks DestinationRules in its own order.
    crate::load::order_like_istio(&mut resources, &default_ns);
    let gateway = match opts.gateway.as_deref().filter(|g| !g.is_empty()) {
        None => "mesh".to_owned(),
        Some(g) => host::resolve_gateway_name(g, &default_ns),
    };
    let mesh = gateway == "mesh";
    let mut b = Builder {
        gateway,
        mesh,
        default_ns: default_ns.clone(),
        vs_res: Vec::new(),
        vs_specs: Vec::new(),
        vs_ns: Vec::new(),
        delegates: HashMap::new(),
        drs: Vec::new(),
        services: Vec::new(),
        service_ports: HashMap::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };

    for r in &resources {
        let ns = r.namespace_or(&default_ns).to_owned();
        match r.kind {
            Kind::VirtualService => {
                if let Some(vs) = r.virtual_service() {
                    let idx = b.vs_res.len() as u32;
                    if vs.hosts.items().is_empty() {
                        b.delegates
                            .entry((ns.clone(), r.name().to_owned()))
                            .or_insert(idx);
                    }
                    b.vs_res.push(r);
                    b.vs_specs.push(vs);
                    b.vs_ns.push(ns);
                }
            }
            Kind::DestinationRule => {
                if let Some(dr) = r.destination_rule() {
                    if let Some(h) = dr.host.as_deref() {
                        b.drs.push(DrInfo {
                            host: fqdn(h, &ns),
                            dr,
                        });
                    }
                }
            }
            Kind::ServiceEntry => {
                if let Some(se) = r.service_entry() {
                    let ports: Vec<u32> =
                        se.ports.items().iter().filter_map(|p| p.number).collect();
                    for h in se.hosts.items() {
                        b.services.push((h.to_ascii_lowercase(), ports.clone()));
                    }
                }
            }
            Kind::Service => {
                if let Some(svc) = r.service() {
                    let ports: Vec<u32> = svc
                        .spec
                        .as_ref()
                        .map(|s| s.ports.items().iter().filter_map(|p| p.port).collect())
                        .unwrap_or_default();
                    let h = format!(
                        "{}.{}.svc.{}",
                        r.name().to_ascii_lowercase(),
                        ns,
                        host::DEFAULT_DOMAIN
                    );
                    b.services.push((h, ports));
                }
            }
            _ => {}
        }
    }
    for (h, ports) in &b.services {
        b.service_ports
            .entry(h.clone())
            .or_default()
            .extend(ports.iter().copied());
    }
    for ports in b.service_ports.values_mut() {
        ports.sort_unstable();
        ports.dedup();
    }

    // Compile every VirtualService (errors anywhere reject the configuration).
    let n = b.vs_specs.len() as u32;
    let mut rule_sets: Vec<Vec<Rule>> = Vec::with_capacity(n as usize);
    for vs in 0..n {
        let has_hosts = b
            .vs_specs
            .get(vs as usize)
            .is_some_and(|s| !s.hosts.items().is_empty());
        if has_hosts {
            let rules = b.vs_rules(vs);
            rule_sets.push(rules);
        } else {
            // A delegate: compiled on its own too, for its errors (its warnings come
            // from the merged rules, where hosts resolve as they will be used).
            let warnings = b.warnings.len();
            let _ = b.vs_rules(vs);
            b.warnings.truncate(warnings);
            rule_sets.push(Vec::new());
        }
    }

    // Bind hosts to route tables (Envoy virtual hosts).
    let mut domain_order: Vec<String> = Vec::new();
    let mut domains: HashMap<String, (Vec<u32>, String)> = HashMap::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    let mut dup_warned: HashSet<(u32, String)> = HashSet::new();
    for vs in 0..n {
        let Some(spec) = b.vs_specs.get(vs as usize).copied() else {
            continue;
        };
        if spec.hosts.items().is_empty() {
            continue;
        }
        let ns = b.ns(vs).to_owned();
        let gws: Vec<String> = if spec.gateways.items().is_empty() {
            vec!["mesh".to_owned()]
        } else {
            spec.gateways
                .items()
                .iter()
                .map(|g| host::resolve_gateway_name(g, &ns))
                .collect()
        };
        if !gws.contains(&b.gateway) {
            continue;
        }
        for (hi, h) in spec.hosts.items().iter().enumerate() {
            let host = fqdn(h, &ns);
            match domains.get_mut(&host) {
                Some((list, _)) => {
                    if b.mesh {
                        if list.first() != Some(&vs) && dup_warned.insert((vs, host.clone())) {
                            let owner = list
                                .first()
                                .and_then(|&o| b.vs_res.get(o as usize))
                                .map(|r| r.display_name())
                                .unwrap_or_default();
                            let path = join_index("spec.hosts", hi);
                            b.warn(
                                vs,
                                codes::MR306,
                                &path,
                                format!(
                                    "host {host} is already routed by VirtualService {owner}, which comes first in Istio's order (oldest creationTimestamp, then name, then namespace): sidecars use that one, this one is ignored for it"
                                ),
                            );
                        }
                    } else if !list.contains(&vs) {
                        list.push(vs);
                    }
                }
                None => {
                    domain_order.push(host.clone());
                    domains.insert(host.clone(), (vec![vs], host.clone()));
                }
            }
            if b.mesh {
                for a in k8s_aliases(&host) {
                    aliases.push((a, host.clone()));
                }
            }
        }
    }

    // Route tables, one per distinct list of VirtualServices.
    let mut tables: Vec<Table> = Vec::new();
    let mut table_of: HashMap<Vec<u32>, u32> = HashMap::new();
    let mesh_mode = b.mesh;
    let gateway_name = b.gateway.clone();
    let mut build_table =
        |sets: Vec<u32>, rule_sets: &[Vec<Rule>], tables: &mut Vec<Table>| -> u32 {
            if let Some(t) = table_of.get(&sets) {
                return *t;
            }
            let mut entries = Vec::new();
            let mut ignored = Vec::new();
            let mut guards: Vec<Box<[Entry]>> = Vec::new();
            for &s in &sets {
                // Gateways (istiod `BuildHTTPRoutesForVirtualService`): a VirtualService's
                // routes end at its first catch-all route, before `SortVHostRoutes`
                // moves catch-alls last. `open` is the catch-alls seen so far that only
                // exist for some ports or sources (they guard what follows).
                // `guard` is the index of `open`'s latest snapshot in `guards`, shared by
                // every entry that follows it until the next such catch-all.
                let mut open: Vec<Entry> = Vec::new();
                let mut guard = NO_GUARD;
                let mut ended = false;
                for (ri, rule) in rule_sets.get(s as usize).into_iter().flatten().enumerate() {
                    if ended {
                        break;
                    }
                    match rule.body {
                        RuleBody::Ignored(_) => ignored.push((entries.len() as u32, s, ri as u32)),
                        RuleBody::Active(_) => {
                            let blocks: Vec<u32> = if rule.matches.is_empty() {
                                vec![NO_MATCH]
                            } else {
                                (0..rule.matches.len() as u32).collect()
                            };
                            for m in blocks {
                                let e = Entry {
                                    set: s,
                                    rule: ri as u32,
                                    m,
                                    guard,
                                };
                                entries.push(e);
                                if mesh_mode {
                                    continue;
                                }
                                match catch_all_kind(rule, m, &gateway_name) {
                                    CatchAll::No => {}
                                    CatchAll::Always => {
                                        ended = true;
                                        break;
                                    }
                                    CatchAll::Sometimes => {
                                        open.push(e);
                                        guards.push(open.clone().into_boxed_slice());
                                        guard = guards.len() as u32 - 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if !mesh_mode {
                sort_catch_all_last(&mut entries, rule_sets);
            }
            let index = UriIndex::build(entries.iter().map(|e| {
                if e.m == NO_MATCH {
                    return None;
                }
                rule_sets
                    .get(e.set as usize)
                    .and_then(|s| s.get(e.rule as usize))
                    .and_then(|r| r.matches.get(e.m as usize))
                    .and_then(|m| m.uri.as_ref())
                    .map(|u| &u.c)
            }));
            let id = tables.len() as u32;
            tables.push(Table {
                sets: sets.clone(),
                entries,
                ignored,
                guards,
                index,
            });
            table_of.insert(sets, id);
            id
        };

    let mut exact: super::HostMap<DomainTarget> = super::HostMap::default();
    let mut wildcards: Vec<(String, DomainTarget)> = Vec::new();
    let mut catch_all: Option<DomainTarget> = None;
    for d in &domain_order {
        let Some((list, host)) = domains.get(d) else {
            continue;
        };
        let t = build_table(list.clone(), &rule_sets, &mut tables);
        let target = DomainTarget {
            table: t,
            host: host.as_str().into(),
        };
        if d == "*" {
            catch_all.get_or_insert(target);
        } else if let Some(suffix) = d.strip_prefix('*') {
            wildcards.push((suffix.to_owned(), target));
        } else {
            exact.insert(d.clone(), target);
        }
    }
    for (alias, host) in aliases {
        if exact.contains_key(&alias) {
            continue;
        }
        if let Some(t) = exact.get(&host).cloned() {
            exact.insert(alias, t);
        }
    }

    // Declared services without a VirtualService get Istio's default route
    // (sidecars only: a gateway routes nothing without a VirtualService).
    if b.mesh {
        let mut seen: HashSet<String> = HashSet::new();
        let services = b.services.clone();
        for (h, _) in services {
            if !seen.insert(h.clone()) || host::is_wildcard(&h) {
                continue;
            }
            let covered = exact.contains_key(&h)
                || catch_all.is_some()
                || wildcards
                    .iter()
                    .any(|(s, _)| h.len() > s.len() && h.ends_with(s.as_str()));
            if covered {
                continue;
            }
            let port = match b.service_ports.get(&h).map(|v| v.as_slice()) {
                Some([only]) => Some(*only),
                _ => None,
            };
            let dest = CDest {
                host: h.as_str().into(),
                subset: None,
                port,
                named_port: None,
                weight: 100,
                cluster: port.map(|p| super::decision::cluster_name(p, None, &h).into_boxed_str()),
                headers: HeaderOps::default(),
                subset_defined: None,
            };
            let rule = Rule {
                vs: None,
                index: 0,
                name: Some("default".into()),
                path: "".into(),
                delegate: None,
                matches: Vec::new(),
                body: RuleBody::Active(Box::new(RuleAction {
                    kind: ActionKind::Route {
                        dests: vec![dest],
                        total: 100,
                    },
                    rewrite: None,
                    headers: HeaderOps::default(),
                    timeout: None,
                    // `BuildDefaultHTTPOutboundRoute`: `retry.ConvertPolicy(mesh
                    // default, false)`, the previous-hosts predicate even when the
                    // DestinationRule hashes (the hash policy is set apart).
                    retries: Some(default_retry_policy(false)),
                    fault: None,
                    mirrors: Vec::new(),
                    cors: None,
                })),
            };
            let set = rule_sets.len() as u32;
            rule_sets.push(vec![rule]);
            let t = build_table(vec![set], &rule_sets, &mut tables);
            let target = DomainTarget {
                table: t,
                host: h.as_str().into(),
            };
            for a in k8s_aliases(&h) {
                exact.entry(a).or_insert_with(|| target.clone());
            }
            exact.insert(h.clone(), target);
        }
    }
    // Envoy: the longest wildcard suffix wins.
    wildcards.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
    let mut short: super::HostMap<DomainTarget> = super::HostMap::default();
    if b.mesh {
        let fqdn_suffix = format!(".{}.svc.{}", b.default_ns, host::DEFAULT_DOMAIN);
        for (h, t) in &exact {
            match h.strip_suffix(&fqdn_suffix) {
                Some(name) if !name.is_empty() && !name.contains(['.', ':']) => {
                    short.insert(name.to_owned(), t.clone());
                }
                _ => {}
            }
        }
    }

    let dedup = |v: Vec<Diagnostic>| -> Vec<Diagnostic> {
        let mut seen = HashSet::new();
        v.into_iter()
            .filter(|d| {
                seen.insert((
                    d.code.clone(),
                    d.resource.clone(),
                    d.path.clone(),
                    d.message.clone(),
                ))
            })
            .collect()
    };
    if !b.errors.is_empty() {
        return Err(dedup(b.errors));
    }
    let vs_names = b.vs_res.iter().map(|r| r.display_name()).collect();
    Ok(Engine {
        gateway: b.gateway,
        mesh: b.mesh,
        default_ns: b.default_ns,
        vs_names,
        rule_sets,
        tables,
        exact,
        short,
        wildcards,
        catch_all,
        warnings: dedup(b.warnings),
    })
}

/// The short forms Istio gives a Kubernetes service host on sidecars
/// (`generateVirtualHostDomains`): `name.ns.svc.cluster.local` is also reachable
/// as `name.ns.svc` and `name.ns` (and as `name` from its own namespace, which the
/// engine handles by resolving short request hosts in the client's namespace).
fn k8s_aliases(fqdn: &str) -> Vec<String> {
    let suffix = format!(".svc.{}", host::DEFAULT_DOMAIN);
    let Some(base) = fqdn.strip_suffix(&suffix) else {
        return Vec::new();
    };
    if host::is_wildcard(base) || base.split('.').count() != 2 {
        return Vec::new();
    }
    vec![format!("{base}.svc"), base.to_owned()]
}
