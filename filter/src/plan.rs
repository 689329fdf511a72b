//! The engine's [`Decision`] for one request → what the filter does ([`Plan`]): a pure
//! function, tested natively. The host adapter only executes plans.
//!
//! The mapping follows what istiod configures in Envoy for the same rule:
//!
//! | decision | plan |
//! |---|---|
//! | route | `<cluster_header>: outbound\|PORT\|SUBSET\|FQDN` (weighted: random per request, or sticky by a configured header/cookie), `:path`/`:authority` rewrites (+ `x-envoy-original-path`), request header operations (destination's, then the rule's: remove, set, add, like Envoy's `HeaderParser`), router headers for the timeout and for retries other than Istio's default (which is the rendered route's own policy) |
//! | redirect / direct response | a local reply (`location` / body) with the rule's response header operations |
//! | no route | 404, empty body (Envoy's `NR`) |
//! | fault delay / abort | sampled per request; delay first, then abort or go on (Envoy's fault filter order); abort body `fault filter abort`, gRPC aborts answer 200 with `grpc-status` |
//! | mirrors | sampled per request; never for local replies |

use std::borrow::Cow;
use std::time::Duration;

use meshroute_model::engine::{
    AbortError, Action as EngineAction, Decision, HeaderOpRef, HeaderOperations, RandomSource,
    Request, RetryPolicy,
};
use meshroute_model::envoy::filter_config::{
    HEADER_MAX_RETRIES, HEADER_NO_PREVIOUS_HOSTS, HEADER_PER_TRY_TIMEOUT_MS,
    HEADER_RETRIABLE_STATUS_CODES, HEADER_RETRY_ON, HEADER_TIMEOUT_MS, ROUTE_DEFAULT_NUM_RETRIES,
    ROUTE_DEFAULT_RETRIABLE_STATUS_CODES, ROUTE_DEFAULT_RETRY_ON,
};

use crate::config::Sticky;

/// Body of an injected abort, as Envoy's fault filter sends it.
pub const FAULT_ABORT_BODY: &str = "fault filter abort";

/// Header Envoy's router sets to the original path when it rewrites `:path`.
pub const ORIGINAL_PATH_HEADER: &str = "x-envoy-original-path";

/// Request headers a mirror copy never carries (hop-by-hop, or framing the host recomputes).
const NOT_MIRRORED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "te",
];

/// One header operation, applied in order. Names and values borrow from the compiled
/// configuration and the request where they can (no allocation on the common path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp<'a> {
    /// Replace every value (or add).
    Set(Cow<'a, str>, Cow<'a, str>),
    /// Append a value.
    Add(Cow<'a, str>, Cow<'a, str>),
    /// Remove every value.
    Remove(Cow<'a, str>),
}

impl HeaderOp<'_> {
    /// The same operation, owning its strings (to keep it past the request headers).
    pub fn into_owned(self) -> HeaderOp<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            HeaderOp::Set(k, v) => HeaderOp::Set(own(k), own(v)),
            HeaderOp::Add(k, v) => HeaderOp::Add(own(k), own(v)),
            HeaderOp::Remove(k) => HeaderOp::Remove(own(k)),
        }
    }
}

/// A response the filter sends itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// For gRPC aborts: Envoy answers gRPC requests with this `grpc-status`.
    pub grpc_status: Option<u32>,
}

/// What happens after the (optional) delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Continue to the router, which sends the request to the cluster the header names.
    Forward,
    /// Answer locally.
    Reply(LocalReply),
}

/// Identifies a request's metric labels ([`Labels`]) without their strings: the matched
/// rule ([`Decision::rule_key`]), the destination's position (or one of the `SLOT_*`
/// outcomes) and the port the decision used (cluster names of destinations without a port
/// depend on it). Equal keys have equal labels within one compiled configuration, so the
/// filter caches metric ids by key instead of formatting and hashing names per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricKey {
    pub rule: Option<(u32, u32)>,
    pub slot: u32,
    pub port: u32,
}

/// [`MetricKey::slot`] of a request that matched no rule (or an ignored one).
pub const SLOT_NO_ROUTE: u32 = u32::MAX;
/// [`MetricKey::slot`] of a redirect.
pub const SLOT_REDIRECT: u32 = u32::MAX - 1;
/// [`MetricKey::slot`] of a direct response.
pub const SLOT_DIRECT_RESPONSE: u32 = u32::MAX - 2;
/// [`MetricKey::slot`] of a route without a destination.
pub const SLOT_NO_DESTINATION: u32 = u32::MAX - 3;

/// Names identifying a request's rule in metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// `namespace/name` of the VirtualService, or `none`.
    pub virtual_service: String,
    /// The rule's name, else its index in `http`, or `none`.
    pub rule: String,
    /// The chosen cluster, or `redirect`, `direct_response`, `no_route`.
    pub destination: String,
}

/// Everything the filter does for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    /// The `destination` label: the chosen cluster, or `redirect`, `direct_response`,
    /// `no_route`, `no_destination` ([`labels`] gives all three labels).
    pub destination: Cow<'a, str>,
    /// Identifies the labels for metric-id caches.
    pub key: MetricKey,
    /// Request header changes (after the client's control headers were stripped).
    pub request_ops: Vec<HeaderOp<'a>>,
    /// Response header changes for upstream responses.
    pub response_ops: Vec<HeaderOp<'a>>,
    /// Fault delay before the outcome.
    pub delay: Option<Duration>,
    pub outcome: Outcome,
    /// True when the outcome is an injected abort.
    pub aborted: bool,
    /// Clusters that get a shadow copy (sampled already).
    pub mirrors: Vec<Cow<'a, str>>,
    /// The route timeout, if any (also bounds mirror calls).
    pub timeout: Option<Duration>,
}

/// Filter settings the plan needs.
#[derive(Debug, Clone, Copy)]
pub struct PlanSettings<'a> {
    pub cluster_header: &'a str,
    pub sticky: Option<&'a Sticky>,
}

/// True for request headers only the filter may set: the cluster header, the route-selector
/// header and Envoy's fault/retry/timeout control headers. Client-sent copies are stripped
/// before routing, so a client cannot pick its own subset, retries or faults.
pub fn is_control_header(name: &str, cluster_header: &str) -> bool {
    // Case-insensitive without allocating (Envoy hands names in lower case; the checks do
    // not rely on it).
    let starts = |prefix: &str| {
        name.as_bytes()
            .get(..prefix.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    name.eq_ignore_ascii_case(cluster_header)
        || (starts("x-")
            && (name.eq_ignore_ascii_case(HEADER_NO_PREVIOUS_HOSTS)
                || name.eq_ignore_ascii_case(HEADER_MAX_RETRIES)
                || name.eq_ignore_ascii_case("x-envoy-hedge-on-per-try-timeout")
                || starts("x-envoy-fault-")
                || starts("x-envoy-retry-")
                || starts("x-envoy-retriable-")
                || starts("x-envoy-upstream-rq-")))
}

/// Control headers present in `headers` (each name once, in order, lower case).
pub fn control_headers<K: AsRef<str>, V>(headers: &[(K, V)], cluster_header: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, _) in headers {
        let k = k.as_ref();
        if is_control_header(k, cluster_header) && !out.iter().any(|o| o.eq_ignore_ascii_case(k)) {
            out.push(k.to_ascii_lowercase());
        }
    }
    out
}

/// Applies `ops` to a header list the way Envoy's header map does.
pub fn apply_ops(headers: &mut Vec<(String, String)>, ops: &[HeaderOp<'_>]) {
    for op in ops {
        match op {
            HeaderOp::Set(k, v) => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                headers.push((k.to_string(), v.to_string()));
            }
            HeaderOp::Add(k, v) => headers.push((k.to_string(), v.to_string())),
            HeaderOp::Remove(k) => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k)),
        }
    }
}

/// Envoy's shadow host: `-shadow` appended to the host, before any port.
pub fn shadow_host(authority: &str) -> String {
    if let Some((host, port)) = authority.rsplit_once(':') {
        let port_ok = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        let host_ok = !host.is_empty() && (!host.contains(':') || host.ends_with(']'));
        if port_ok && host_ok {
            return format!("{host}-shadow:{port}");
        }
    }
    format!("{authority}-shadow")
}

/// The headers of a mirror copy: the request as forwarded (after `ops`), without control and
/// hop-by-hop headers, `:authority` with the `-shadow` suffix.
pub fn shadow_headers(
    request: &[(String, String)],
    ops: &[HeaderOp<'_>],
    cluster_header: &str,
) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = request.to_vec();
    apply_ops(&mut h, ops);
    h.retain(|(k, _)| {
        !is_control_header(k, cluster_header)
            && !NOT_MIRRORED.iter().any(|n| k.eq_ignore_ascii_case(n))
    });
    let mut has_authority = false;
    for (k, v) in h.iter_mut() {
        if k == ":authority" {
            *v = shadow_host(v);
            has_authority = true;
        }
    }
    if !has_authority {
        if let Some(host) = h.iter().position(|(k, _)| k.eq_ignore_ascii_case("host")) {
            let v = shadow_host(&h[host].1);
            h.remove(host);
            h.push((":authority".into(), v));
        }
    }
    h
}

/// The sticky key of a request, if it carries one.
pub fn sticky_key<'a>(req: &Request<'a>, sticky: &Sticky) -> Option<Cow<'a, str>> {
    match sticky {
        Sticky::Header(name) => req.headers.get(name).filter(|v| !v.is_empty()),
        Sticky::Cookie(name) => req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| Cow::Borrowed(v.trim()))
            .filter(|v| !v.is_empty()),
    }
}

impl<'a> From<HeaderOpRef<'a>> for HeaderOp<'a> {
    fn from(op: HeaderOpRef<'a>) -> Self {
        match op {
            HeaderOpRef::Remove(k) => HeaderOp::Remove(Cow::Borrowed(k)),
            HeaderOpRef::Set(k, v) => HeaderOp::Set(Cow::Borrowed(k), Cow::Borrowed(v)),
            HeaderOpRef::Add(k, v) => HeaderOp::Add(Cow::Borrowed(k), Cow::Borrowed(v)),
        }
    }
}

fn ops_from<'a>(h: &'a HeaderOperations, out: &mut Vec<HeaderOp<'a>>) {
    out.extend(h.remove.iter().map(|k| HeaderOp::Remove(Cow::Borrowed(k))));
    out.extend(
        h.set
            .iter()
            .map(|(k, v)| HeaderOp::Set(Cow::Borrowed(k), Cow::Borrowed(v))),
    );
    out.extend(
        h.add
            .iter()
            .map(|(k, v)| HeaderOp::Add(Cow::Borrowed(k), Cow::Borrowed(v))),
    );
}

/// True when `r` is the retry policy the rendered routes carry (Istio's default,
/// `filter_config::ROUTE_DEFAULT_*`): the filter then sets no retry header. The
/// previous-hosts predicate is chosen separately (`HEADER_NO_PREVIOUS_HOSTS`); back-off and
/// remote localities are not conveyed by headers either way.
pub fn is_route_default(r: &RetryPolicy) -> bool {
    r.attempts == ROUTE_DEFAULT_NUM_RETRIES
        && r.retry_on == ROUTE_DEFAULT_RETRY_ON
        && r.retriable_status_codes == ROUTE_DEFAULT_RETRIABLE_STATUS_CODES
        && r.per_try_timeout.is_none()
}

/// Router headers for the effective retry policy (`None`: retries disabled). Istio's default
/// policy is the route's own: no header. Any other policy sets `x-envoy-max-retries` (`0`
/// when disabled), which selects a rendered route without a `retry_on` of its own, so the
/// headers are the whole policy (see `filter_config`).
fn retry_ops<'a>(retries: Option<&'a RetryPolicy>, ops: &mut Vec<HeaderOp<'a>>) {
    let Some(r) = retries else {
        ops.push(HeaderOp::Set(HEADER_MAX_RETRIES.into(), "0".into()));
        return;
    };
    if !r.retry_previous_hosts {
        ops.push(HeaderOp::Set(HEADER_NO_PREVIOUS_HOSTS.into(), "1".into()));
    }
    if is_route_default(r) {
        return;
    }
    ops.push(HeaderOp::Set(
        HEADER_MAX_RETRIES.into(),
        r.attempts.to_string().into(),
    ));
    if !r.retry_on.is_empty() {
        ops.push(HeaderOp::Set(
            HEADER_RETRY_ON.into(),
            Cow::Borrowed(&r.retry_on),
        ));
    }
    if !r.retriable_status_codes.is_empty() {
        let codes: Vec<String> = r
            .retriable_status_codes
            .iter()
            .map(u32::to_string)
            .collect();
        ops.push(HeaderOp::Set(
            HEADER_RETRIABLE_STATUS_CODES.into(),
            codes.join(",").into(),
        ));
    }
    if let Some(t) = r.per_try_timeout {
        ops.push(HeaderOp::Set(
            HEADER_PER_TRY_TIMEOUT_MS.into(),
            millis(t).into(),
        ));
    }
}

fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}

/// The metric labels of a request: its decision and the plan's [`Plan::destination`].
pub fn labels(d: &Decision<'_>, destination: &str) -> Labels {
    let virtual_service = d
        .virtual_service()
        .map(|v| v.strip_prefix("VirtualService ").unwrap_or(v).to_owned())
        .unwrap_or_else(|| "none".into());
    let rule = match (d.rule_name(), d.rule_index()) {
        (Some(n), _) => n.to_owned(),
        (None, Some(i)) => i.to_string(),
        (None, None) => "none".into(),
    };
    Labels {
        virtual_service,
        rule,
        destination: destination.to_owned(),
    }
}

/// The abort reply, as Envoy's fault filter sends it.
pub fn abort_reply(err: &AbortError) -> LocalReply {
    let (status, grpc_status) = match err {
        AbortError::Http(s) => (*s, None),
        AbortError::Grpc { code, .. } => (200, Some(*code)),
    };
    LocalReply {
        status,
        headers: Vec::new(),
        body: Some(FAULT_ABORT_BODY.as_bytes().to_vec()),
        grpc_status,
    }
}

/// Decides what the filter does for `req` given the engine's decision.
pub fn plan<'a, R: RandomSource + ?Sized>(
    d: &Decision<'a>,
    req: &Request<'a>,
    s: &PlanSettings<'a>,
    rng: &mut R,
) -> Plan<'a> {
    let mut p = Plan {
        destination: Cow::Borrowed(""),
        key: MetricKey {
            rule: d.rule_key(),
            slot: SLOT_NO_ROUTE,
            port: d.port(),
        },
        request_ops: Vec::new(),
        response_ops: Vec::new(),
        delay: None,
        outcome: Outcome::Forward,
        aborted: false,
        mirrors: Vec::new(),
        timeout: None,
    };
    let action = d.action();
    if let EngineAction::NoRoute(_) = action {
        p.destination = "no_route".into();
        p.outcome = Outcome::Reply(LocalReply {
            status: 404,
            headers: Vec::new(),
            body: None,
            grpc_status: None,
        });
        return p;
    }
    // Envoy's fault filter runs before the router, whatever the route does.
    let mut abort = None;
    if let Some(f) = d.fault() {
        p.delay = f.sample_delay(rng).filter(|d| !d.is_zero());
        abort = f.sample_abort(rng).map(abort_reply);
    }
    let mut rule_response = Vec::new();
    if let Some(h) = d.headers() {
        ops_from(&h.response, &mut rule_response);
    }
    match action {
        EngineAction::NoRoute(_) => {}
        EngineAction::Redirect(r) => {
            p.destination = "redirect".into();
            p.key.slot = SLOT_REDIRECT;
            let mut headers = vec![("location".to_owned(), r.location.clone())];
            apply_ops(&mut headers, &rule_response);
            p.outcome = Outcome::Reply(LocalReply {
                status: r.status,
                headers,
                body: None,
                grpc_status: None,
            });
        }
        EngineAction::DirectResponse { status, body } => {
            p.destination = "direct_response".into();
            p.key.slot = SLOT_DIRECT_RESPONSE;
            let mut headers = Vec::new();
            apply_ops(&mut headers, &rule_response);
            p.outcome = Outcome::Reply(LocalReply {
                status,
                headers,
                body: body.map(<[u8]>::to_vec),
                grpc_status: None,
            });
        }
        EngineAction::Route(route) => {
            let key = s.sticky.and_then(|st| sticky_key(req, st));
            let dest = match &key {
                Some(k) => route.choose_sticky(k.as_bytes()),
                None => route.choose(rng),
            };
            let Some(dest) = dest else {
                p.destination = "no_destination".into();
                p.key.slot = SLOT_NO_DESTINATION;
                p.outcome = Outcome::Reply(LocalReply {
                    status: 503,
                    headers: Vec::new(),
                    body: None,
                    grpc_status: None,
                });
                return p;
            };
            p.key.slot = dest.index;
            p.destination = dest.cluster.clone();
            // The rule's and the destination's operations in Envoy's order (the engine
            // knows where istiod puts them: route level or weighted cluster).
            // Most rules have none: then skip the ordering work on the request path.
            let any_ops = !dest.headers.is_empty() || d.headers().is_some_and(|h| !h.is_empty());
            let mut engine_ops = Vec::new();
            let mut response_ops = Vec::new();
            if any_ops {
                d.header_ops(&dest, false, &mut engine_ops);
                d.header_ops(&dest, true, &mut response_ops);
            }
            let authority = d.authority_for(&dest);
            let ops = &mut p.request_ops;
            ops.push(HeaderOp::Set(s.cluster_header.into(), dest.cluster));
            ops.extend(engine_ops.into_iter().map(HeaderOp::from));
            if let Some(a) = authority {
                ops.push(HeaderOp::Set(":authority".into(), a.into()));
            }
            if let Some(path) = d.rewritten_path() {
                ops.push(HeaderOp::Set(ORIGINAL_PATH_HEADER.into(), req.path.into()));
                ops.push(HeaderOp::Set(":path".into(), path.into()));
            }
            p.timeout = d.timeout();
            if let Some(t) = p.timeout {
                ops.push(HeaderOp::Set(HEADER_TIMEOUT_MS.into(), millis(t).into()));
            }
            retry_ops(d.retries(), ops);
            p.response_ops
                .extend(response_ops.into_iter().map(HeaderOp::from));
            for m in d.mirrors() {
                if m.percentage.sample(rng) {
                    p.mirrors.push(m.destination.cluster);
                }
            }
        }
    }
    if let Some(reply) = abort {
        p.outcome = Outcome::Reply(reply);
        p.aborted = true;
        p.request_ops.clear();
        p.response_ops.clear();
        p.mirrors.clear();
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshroute_model::engine::{Engine, EngineOptions, SplitMix64};

    const CH: &str = "x-meshroute-cluster";

    fn engine(yaml: &str) -> Engine {
        let loaded = meshroute_model::load_str(yaml, None);
        Engine::compile(loaded.resources(), &EngineOptions::default()).unwrap()
    }

    fn plan_for<'a>(e: &'a Engine, headers: &'a [(&'a str, &'a str)], seed: u64) -> Plan<'a> {
        let req = Request::from_headers(headers);
        let d = e.decide(&req);
        let s = PlanSettings {
            cluster_header: CH,
            sticky: None,
        };
        plan(&d, &req, &s, &mut SplitMix64(seed))
    }

    fn labels_for(e: &Engine, headers: &[(&str, &str)], seed: u64) -> Labels {
        let req = Request::from_headers(headers);
        let d = e.decide(&req);
        labels(&d, &plan_for(e, headers, seed).destination)
    }

    fn cluster<'p>(p: &'p Plan<'_>) -> Option<&'p str> {
        p.request_ops.iter().find_map(|op| match op {
            HeaderOp::Set(k, v) if k == CH => Some(v.as_ref()),
            _ => None,
        })
    }

    fn set(p: &Plan<'_>, name: &str) -> Option<String> {
        p.request_ops.iter().find_map(|op| match op {
            HeaderOp::Set(k, v) if k == name => Some(v.to_string()),
            _ => None,
        })
    }

    const BOOKINFO: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1, port: {number: 9080}}}]
"#;

    #[test]
    fn routes_by_header_with_istio_default_retries() {
        let e = engine(BOOKINFO);
        let p = plan_for(
            &e,
            &[
                (":authority", "reviews:9080"),
                (":path", "/"),
                ("end-user", "jason"),
            ],
            1,
        );
        assert_eq!(
            cluster(&p),
            Some("outbound|9080|v2|reviews.default.svc.cluster.local")
        );
        let l = labels_for(
            &e,
            &[
                (":authority", "reviews:9080"),
                (":path", "/"),
                ("end-user", "jason"),
            ],
            1,
        );
        assert_eq!(l.virtual_service, "default/reviews");
        assert_eq!(l.rule, "jason");
        assert_eq!(l.destination, p.destination);
        assert_eq!(p.outcome, Outcome::Forward);
        // Istio's default retry policy is the rendered route's: no header for it.
        assert_eq!(
            p.request_ops,
            vec![HeaderOp::Set(
                CH.into(),
                "outbound|9080|v2|reviews.default.svc.cluster.local".into()
            )],
            "only the cluster header"
        );
        assert_eq!(
            set(&p, HEADER_TIMEOUT_MS),
            None,
            "Istio's default: no timeout"
        );

        let p = plan_for(&e, &[(":authority", "reviews:9080"), (":path", "/")], 1);
        assert_eq!(
            cluster(&p),
            Some("outbound|9080|v1|reviews.default.svc.cluster.local")
        );
        assert_eq!(
            labels_for(&e, &[(":authority", "reviews:9080"), (":path", "/")], 1).rule,
            "1"
        );
        assert_ne!(
            p.key,
            plan_for(
                &e,
                &[
                    (":authority", "reviews:9080"),
                    (":path", "/"),
                    ("end-user", "jason"),
                ],
                1
            )
            .key,
            "a metric key per rule"
        );
    }

    #[test]
    fn retry_headers_only_for_policies_other_than_the_routes_default() {
        let e = engine(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [r]
  http:
  - match: [{headers: {x: {exact: unset}}}]
    route: [{destination: {host: r}}]
  - match: [{headers: {x: {exact: same}}}]
    retries: {attempts: 2, retryOn: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes,503"}
    route: [{destination: {host: r}}]
  - match: [{headers: {x: {exact: zero}}}]
    retries: {attempts: 0}
    route: [{destination: {host: r}}]
  - match: [{headers: {x: {exact: three}}}]
    retries: {attempts: 3}
    route: [{destination: {host: r}}]
  - match: [{headers: {x: {exact: custom}}}]
    retries: {attempts: 1, retryOn: "5xx,429", perTryTimeout: 250ms, retryIgnorePreviousHosts: false}
    route: [{destination: {host: r}}]
  - match: [{headers: {x: {exact: hash}}}]
    route: [{destination: {host: hashed}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hashed, namespace: default}
spec:
  host: hashed
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
"#,
        );
        let retry_ops = |x: &str| -> Vec<HeaderOp<'static>> {
            let h = [(":authority", "r"), ("x", x)];
            let p = plan_for(&e, &h, 1);
            assert!(cluster(&p).is_some(), "{x}: {p:?}");
            p.request_ops
                .into_iter()
                .filter(|op| !matches!(op, HeaderOp::Set(k, _) if k == CH))
                .map(HeaderOp::into_owned)
                .collect()
        };
        let s = |k: &str, v: &str| HeaderOp::Set(k.to_owned().into(), v.to_owned().into());
        // The engine's default policy is the one the rendered routes carry.
        let req = Request::from_headers(&[(":authority", "r"), ("x", "unset")]);
        let d = e.decide(&req);
        assert!(d
            .retries()
            .is_some_and(|r| r.istio_default && is_route_default(r)));
        assert_eq!(retry_ops("unset"), []);
        assert_eq!(retry_ops("same"), [], "written out, but Istio's default");
        // attempts 0: x-envoy-max-retries selects the route without retry_on; no retry-on
        // header, so the router does not retry (as before: no retry header at all).
        assert_eq!(retry_ops("zero"), [s(HEADER_MAX_RETRIES, "0")]);
        assert_eq!(
            retry_ops("three"),
            [
                s(HEADER_MAX_RETRIES, "3"),
                s(HEADER_RETRY_ON, ROUTE_DEFAULT_RETRY_ON),
                s(HEADER_RETRIABLE_STATUS_CODES, "503"),
            ]
        );
        assert_eq!(
            retry_ops("custom"),
            [
                s(HEADER_NO_PREVIOUS_HOSTS, "1"),
                s(HEADER_MAX_RETRIES, "1"),
                s(HEADER_RETRY_ON, "5xx,retriable-status-codes"),
                s(HEADER_RETRIABLE_STATUS_CODES, "429"),
                s(HEADER_PER_TRY_TIMEOUT_MS, "250"),
            ]
        );
        // Consistent hash: Istio's default policy without the previous-hosts predicate.
        assert_eq!(retry_ops("hash"), [s(HEADER_NO_PREVIOUS_HOSTS, "1")]);
    }

    #[test]
    fn no_route_is_404() {
        let e = engine(BOOKINFO);
        let p = plan_for(&e, &[(":authority", "other"), (":path", "/")], 1);
        assert_eq!(p.destination, "no_route");
        assert_eq!(p.key.slot, SLOT_NO_ROUTE);
        assert!(matches!(
            p.outcome,
            Outcome::Reply(LocalReply { status: 404, .. })
        ));
        assert!(p.request_ops.is_empty());
    }

    const CHAOS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match: [{headers: {x-chaos: {exact: both}}}]
    fault:
      delay: {fixedDelay: 150ms, percentage: {value: 100}}
      abort: {httpStatus: 503, percentage: {value: 100}}
    route: [{destination: {host: ratings}}]
  - match: [{headers: {x-chaos: {exact: grpc}}}]
    fault:
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}
    route: [{destination: {host: ratings}}]
  - match: [{headers: {x-chaos: {exact: half}}}]
    fault:
      abort: {httpStatus: 500, percentage: {value: 50}}
    mirror: {host: ratings-shadow}
    route: [{destination: {host: ratings}}]
  - timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,503"}
    rewrite: {uri: /v2/, authority: ratings.internal}
    match: [{uri: {prefix: /v1/}}]
    headers:
      request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
      response: {set: {x-resp: "yes"}}
    mirror: {host: ratings-shadow}
    mirrorPercentage: {value: 100}
    route: [{destination: {host: ratings}}]
  - redirect: {uri: /moved, redirectCode: 302}
"#;

    #[test]
    fn delay_then_abort() {
        let e = engine(CHAOS);
        let p = plan_for(&e, &[(":authority", "ratings"), ("x-chaos", "both")], 3);
        assert_eq!(p.delay, Some(Duration::from_millis(150)));
        assert!(p.aborted);
        let Outcome::Reply(r) = &p.outcome else {
            panic!("{p:?}")
        };
        assert_eq!(r.status, 503);
        assert_eq!(r.body.as_deref(), Some(FAULT_ABORT_BODY.as_bytes()));
        assert!(p.request_ops.is_empty() && p.mirrors.is_empty());
    }

    #[test]
    fn grpc_abort_answers_200_with_grpc_status() {
        let e = engine(CHAOS);
        let p = plan_for(&e, &[(":authority", "ratings"), ("x-chaos", "grpc")], 3);
        let Outcome::Reply(r) = &p.outcome else {
            panic!("{p:?}")
        };
        assert_eq!((r.status, r.grpc_status), (200, Some(14)));
        assert_eq!(p.delay, None);
    }

    #[test]
    fn abort_percentage_is_sampled() {
        let e = engine(CHAOS);
        let n = 4000;
        let aborted = (0..n)
            .filter(|i| plan_for(&e, &[(":authority", "ratings"), ("x-chaos", "half")], *i).aborted)
            .count();
        // Binomial(4000, 0.5): σ ≈ 31.6; ±5σ.
        assert!((1842..=2158).contains(&aborted), "{aborted}");
        // Mirror on a rule without mirrorPercentage: 100%, but never for aborted requests.
        for i in 0..50 {
            let p = plan_for(&e, &[(":authority", "ratings"), ("x-chaos", "half")], i);
            assert_eq!(p.mirrors.is_empty(), p.aborted, "{p:?}");
        }
    }

    #[test]
    fn rewrites_header_ops_timeout_retries_mirror() {
        let e = engine(CHAOS);
        let p = plan_for(&e, &[(":authority", "ratings"), (":path", "/v1/x?q=1")], 3);
        assert_eq!(set(&p, ":path").as_deref(), Some("/v2/x?q=1"));
        assert_eq!(set(&p, ORIGINAL_PATH_HEADER).as_deref(), Some("/v1/x?q=1"));
        assert_eq!(set(&p, ":authority").as_deref(), Some("ratings.internal"));
        assert_eq!(set(&p, HEADER_TIMEOUT_MS).as_deref(), Some("1500"));
        assert_eq!(set(&p, HEADER_MAX_RETRIES).as_deref(), Some("3"));
        assert_eq!(set(&p, HEADER_PER_TRY_TIMEOUT_MS).as_deref(), Some("500"));
        assert_eq!(
            set(&p, HEADER_RETRIABLE_STATUS_CODES).as_deref(),
            Some("503")
        );
        assert!(p.request_ops.contains(&HeaderOp::Remove("x-c".into())));
        assert!(p
            .request_ops
            .contains(&HeaderOp::Add("x-b".into(), "2".into())));
        assert_eq!(
            p.response_ops,
            vec![HeaderOp::Set("x-resp".into(), "yes".into())]
        );
        assert_eq!(
            p.mirrors,
            vec!["outbound|80||ratings-shadow.default.svc.cluster.local"]
        );

        let original = vec![
            (":authority".to_owned(), "ratings".to_owned()),
            (":path".to_owned(), "/v1/x?q=1".to_owned()),
            ("content-length".to_owned(), "3".to_owned()),
            ("x-c".to_owned(), "gone".to_owned()),
        ];
        let shadow = shadow_headers(&original, &p.request_ops, CH);
        let get = |n: &str| shadow.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get(":authority"), Some("ratings.internal-shadow"));
        assert_eq!(get(":path"), Some("/v2/x?q=1"));
        assert_eq!(get("x-a"), Some("1"));
        assert_eq!(get("x-c"), None);
        assert_eq!(get("content-length"), None);
        assert_eq!(get(CH), None);
        assert_eq!(get(HEADER_MAX_RETRIES), None);
    }

    /// istiod `processDestination` appends a single destination's `headers` to the rule's
    /// at route level, where Envoy removes first, then sets and adds in order.
    #[test]
    fn single_destination_header_ops_win_over_the_rules() {
        let e = engine(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: h, namespace: default}
spec:
  hosts: [h]
  http:
  - headers:
      request: {set: {x-a: rule}, remove: [x-b]}
      response: {set: {x-r: rule}}
    route:
    - destination: {host: h}
      headers:
        request: {set: {x-a: dest, x-b: dest}}
        response: {set: {x-r: dest}}
"#,
        );
        let p = plan_for(&e, &[(":authority", "h"), (":path", "/")], 1);
        let mut h = vec![("x-b".to_owned(), "client".to_owned())];
        apply_ops(&mut h, &p.request_ops);
        let get = |h: &[(String, String)], n: &str| {
            h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        };
        assert_eq!(get(&h, "x-a").as_deref(), Some("dest"));
        assert_eq!(get(&h, "x-b").as_deref(), Some("dest"));
        let mut r = Vec::new();
        apply_ops(&mut r, &p.response_ops);
        assert_eq!(get(&r, "x-r").as_deref(), Some("dest"));
    }

    /// Envoy applies a weighted cluster's `host_rewrite_literal` first, then the route's
    /// (`RouteEntryImplBase::finalizeRequestHeaders`): the rule's authority rewrite wins
    /// over a weighted destination's `:authority` header operation; the destination's
    /// applies only when the rule has none.
    #[test]
    fn weighted_destination_authority_yields_to_the_rules() {
        let e = engine(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: h, namespace: default}
spec:
  hosts: [h]
  http:
  - match: [{uri: {prefix: /rule}}]
    rewrite: {authority: rule.example}
    route:
    - destination: {host: h, subset: a}
      weight: 50
      headers: {request: {set: {":authority": a.example}}}
    - destination: {host: h, subset: b}
      weight: 50
      headers: {request: {set: {":authority": b.example}}}
  - route:
    - destination: {host: h, subset: a}
      weight: 50
      headers: {request: {set: {":authority": a.example}}}
    - destination: {host: h, subset: b}
      weight: 50
      headers: {request: {set: {":authority": b.example}}}
"#,
        );
        for seed in 0..8 {
            let p = plan_for(&e, &[(":authority", "h"), (":path", "/rule")], seed);
            assert_eq!(set(&p, ":authority").as_deref(), Some("rule.example"));
            let p = plan_for(&e, &[(":authority", "h"), (":path", "/")], seed);
            let want = match cluster(&p) {
                Some(c) if c.contains("|a|") => "a.example",
                _ => "b.example",
            };
            assert_eq!(set(&p, ":authority").as_deref(), Some(want));
        }
    }

    #[test]
    fn redirect_reply() {
        let e = engine(CHAOS);
        let p = plan_for(&e, &[(":authority", "ratings"), (":path", "/old")], 3);
        let Outcome::Reply(r) = &p.outcome else {
            panic!("{p:?}")
        };
        assert_eq!(r.status, 302);
        assert_eq!(
            r.headers,
            vec![("location".to_owned(), "http://ratings/moved".to_owned())]
        );
        assert_eq!(p.destination, "redirect");
    }

    #[test]
    fn weighted_and_sticky_choices() {
        let e = engine(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: canary, namespace: default}
spec:
  hosts: [web]
  http:
  - route:
    - {destination: {host: web, subset: stable}, weight: 90}
    - {destination: {host: web, subset: canary}, weight: 10}
"#,
        );
        let n = 10_000;
        let canary = (0..n)
            .filter(|i| {
                cluster(&plan_for(&e, &[(":authority", "web")], *i))
                    .is_some_and(|c| c.contains("|canary|"))
            })
            .count();
        // Binomial(10000, 0.1): σ = 30; ±5σ.
        assert!((850..=1150).contains(&canary), "{canary}");

        let sticky = Sticky::Cookie("session".into());
        let s = PlanSettings {
            cluster_header: CH,
            sticky: Some(&sticky),
        };
        let pick = |cookie: &str, seed: u64| {
            let h = [(":authority", "web"), ("cookie", cookie)];
            let req = Request::from_headers(&h);
            let d = e.decide(&req);
            cluster(&plan(&d, &req, &s, &mut SplitMix64(seed))).map(str::to_owned)
        };
        for user in ["a", "b", "c", "dave", "eve"] {
            let c = format!("x=1; session={user}");
            let first = pick(&c, 1);
            assert!(first.is_some());
            for seed in 2..20 {
                assert_eq!(pick(&c, seed), first, "sticky for {user}");
            }
        }
    }

    #[test]
    fn control_headers_are_recognised() {
        let h: Vec<(String, String)> = [
            ("X-Meshroute-Cluster", "x"),
            ("x-envoy-fault-delay-request", "1"),
            ("x-envoy-retry-on", "5xx"),
            ("x-envoy-retry-grpc-on", "cancelled"),
            ("x-envoy-max-retries", "9"),
            ("x-envoy-upstream-rq-timeout-ms", "1"),
            ("x-envoy-upstream-rq-per-try-timeout-ms", "1"),
            ("x-envoy-retriable-status-codes", "500"),
            ("x-meshroute-no-previous-hosts", "1"),
            ("x-envoy-original-path", "/kept"),
            ("end-user", "jason"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = control_headers(&h, CH);
        assert_eq!(c.len(), 9, "{c:?}");
        assert!(c.contains(&"x-meshroute-cluster".to_owned()));
    }

    #[test]
    fn shadow_host_suffix() {
        assert_eq!(shadow_host("reviews"), "reviews-shadow");
        assert_eq!(shadow_host("reviews:9080"), "reviews-shadow:9080");
        assert_eq!(shadow_host("[::1]:80"), "[::1]-shadow:80");
        assert_eq!(shadow_host("[::1]"), "[::1]-shadow");
    }
}
