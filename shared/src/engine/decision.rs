//! What the engine decides for one request: [`Decision`] (borrowed, allocation-free
//! to produce) and its owned, serializable [`DecisionReport`].

use std::borrow::Cow;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::compile::{ActionKind, CDest, CMirror, Rule, RuleAction, Table};
use super::request::{split_path, Request, RequestSummary};
use super::rewrite;
use super::Engine;
use crate::model::CorsPolicy;

/// A source of random numbers for weighted choices and fault/mirror sampling.
///
/// The engine never draws randomness itself (the editor runs on
/// `wasm32-unknown-unknown` without `getrandom`): the filter passes one backed by
/// the host, tests and the editor a seeded [`SplitMix64`].
pub trait RandomSource {
    /// A uniformly distributed 32-bit value.
    fn next_u32(&mut self) -> u32;
}

/// A small deterministic [`RandomSource`] (SplitMix64), for tests, simulations
/// and the editor.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl RandomSource for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::duration::to_envoy(*d))
}

fn ser_opt_duration<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&crate::duration::to_envoy(*d)),
        None => s.serialize_none(),
    }
}

/// A percentage with Envoy's `FractionalPercent` resolution (per million).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentage {
    per_million: u32,
}

impl Serialize for Percentage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.percent())
    }
}

impl Percentage {
    /// 100%.
    pub const ALL: Percentage = Percentage {
        per_million: 1_000_000,
    };
    /// 0%.
    pub const NONE: Percentage = Percentage { per_million: 0 };

    /// istiod `translatePercentToFractionalPercent`: `uint32(value * 10000)` per million.
    pub fn from_percent(value: f64) -> Percentage {
        let n = (value * 10_000.0) as u32; // saturating; NaN and negatives → 0
        Percentage {
            per_million: n.min(1_000_000),
        }
    }

    /// The integer form (deprecated `percent`, `mirror_percent`): `n / 100`.
    pub fn from_int_percent(value: i64) -> Percentage {
        Percentage {
            per_million: (value.clamp(0, 100) as u32) * 10_000,
        }
    }

    /// The numerator over one million.
    pub fn per_million(self) -> u32 {
        self.per_million
    }

    /// The value in percent (0–100).
    pub fn percent(self) -> f64 {
        f64::from(self.per_million) / 10_000.0
    }

    /// Draws once: true with this probability (Envoy's `featureEnabled` on a
    /// random value modulo one million).
    pub fn sample<R: RandomSource + ?Sized>(self, rng: &mut R) -> bool {
        if self.per_million == 0 {
            return false;
        }
        if self.per_million >= 1_000_000 {
            return true;
        }
        rng.next_u32() % 1_000_000 < self.per_million
    }
}

/// `set` / `add` / `remove` for requests or responses, as Envoy applies them:
/// `set` overwrites (`OVERWRITE_IF_EXISTS_OR_ADD`), `add` appends
/// (`APPEND_IF_EXISTS_OR_ADD`). Pseudo-headers and `host` are dropped (istiod
/// `isInternalHeader`); an `:authority`/`host` entry becomes [`HeaderOps::authority`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeaderOperations {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl HeaderOperations {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// One header operation, borrowed from the configuration, in the order Envoy applies it
/// (see [`Decision::header_ops`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderOpRef<'a> {
    Remove(&'a str),
    /// Overwrite (`OVERWRITE_IF_EXISTS_OR_ADD`).
    Set(&'a str, &'a str),
    /// Append (`APPEND_IF_EXISTS_OR_ADD`).
    Add(&'a str, &'a str),
}

impl HeaderOperations {
    fn push_removes<'a>(&'a self, out: &mut Vec<HeaderOpRef<'a>>) {
        out.extend(self.remove.iter().map(|k| HeaderOpRef::Remove(k)));
    }

    fn push_sets_and_adds<'a>(&'a self, out: &mut Vec<HeaderOpRef<'a>>) {
        out.extend(self.set.iter().map(|(k, v)| HeaderOpRef::Set(k, v)));
        out.extend(self.add.iter().map(|(k, v)| HeaderOpRef::Add(k, v)));
    }

    /// One Envoy `HeaderParser` level: removals first, then sets and adds in order.
    fn push_level<'a>(levels: &[&'a HeaderOperations], out: &mut Vec<HeaderOpRef<'a>>) {
        for l in levels {
            l.push_removes(out);
        }
        for l in levels {
            l.push_sets_and_adds(out);
        }
    }
}

/// Header manipulation of a rule or of one destination (`headers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeaderOps {
    pub request: HeaderOperations,
    pub response: HeaderOperations,
    /// Authority rewrite from `headers.request.set/add` `:authority` or `host`
    /// (`set` wins over `add`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

impl HeaderOps {
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty() && self.authority.is_none()
    }
}

/// The effective retry policy of a route (istiod `retry.ConvertPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// Envoy `num_retries`.
    pub attempts: u32,
    /// Envoy `retry_on` (status codes moved to `retriable_status_codes`).
    pub retry_on: String,
    pub retriable_status_codes: Vec<u32>,
    #[serde(
        serialize_with = "ser_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub per_try_timeout: Option<Duration>,
    /// Envoy `retry_back_off.base_interval` (Envoy's default is 25ms).
    #[serde(
        serialize_with = "ser_opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub backoff: Option<Duration>,
    /// `envoy.retry_priorities.previous_priorities` (retry other localities).
    pub retry_remote_localities: bool,
    /// `envoy.retry_host_predicates.previous_hosts` (retry on another host).
    pub retry_previous_hosts: bool,
    /// Envoy `host_selection_retry_max_attempts` (istiod always sets 5).
    pub host_selection_retry_max_attempts: u32,
    /// True when `retries` was not set and this is Istio's default policy.
    pub istio_default: bool,
}

/// `fault.delay`: a fixed delay injected into a share of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultDelay {
    #[serde(serialize_with = "ser_duration")]
    pub fixed_delay: Duration,
    pub percentage: Percentage,
}

/// The error an aborted request gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortError {
    /// `httpStatus`.
    Http(u32),
    /// `grpcStatus`, by name and code.
    Grpc { name: String, code: u32 },
}

/// `fault.abort`: an error returned for a share of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultAbort {
    pub error: AbortError,
    pub percentage: Percentage,
}

/// Fault injection of a rule (Envoy's fault filter; delay and abort sampled independently).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<FaultDelay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<FaultAbort>,
}

impl Fault {
    /// Samples the delay: `Some(duration)` when this request is delayed.
    pub fn sample_delay<R: RandomSource + ?Sized>(&self, rng: &mut R) -> Option<Duration> {
        let d = self.delay.as_ref()?;
        d.percentage.sample(rng).then_some(d.fixed_delay)
    }

    /// Samples the abort: `Some(error)` when this request is aborted.
    pub fn sample_abort<R: RandomSource + ?Sized>(&self, rng: &mut R) -> Option<&AbortError> {
        let a = self.abort.as_ref()?;
        a.percentage.sample(rng).then_some(&a.error)
    }
}

/// One destination of a route, with its Envoy cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination<'a> {
    /// FQDN (short names resolved in the VirtualService's namespace).
    pub host: &'a str,
    pub subset: Option<&'a str>,
    /// `destination.port`, else the service's only declared port, else the listener port.
    pub port: u32,
    /// Relative weight (100 for a single destination).
    pub weight: u32,
    /// Istio's cluster name `outbound|PORT|SUBSET|FQDN`.
    pub cluster: Cow<'a, str>,
    /// Per-destination header operations.
    pub headers: &'a HeaderOps,
    /// `Some(false)` when `subset` is set but no loaded DestinationRule defines it:
    /// Envoy has no such cluster and answers 503 (`NC`).
    pub subset_defined: Option<bool>,
    /// Position in the rule's destinations (or mirrors): with [`Decision::rule_key`] and
    /// `port` it identifies the destination without comparing strings.
    #[serde(skip)]
    pub index: u32,
}

impl<'a> Destination<'a> {
    pub(crate) fn view(d: &'a CDest, listener_port: u32, index: usize) -> Destination<'a> {
        let port = d.port.unwrap_or(listener_port);
        let cluster = match &d.cluster {
            Some(c) => Cow::Borrowed(&**c),
            None => Cow::Owned(cluster_name(port, d.subset.as_deref(), &d.host)),
        };
        Destination {
            host: &d.host,
            subset: d.subset.as_deref(),
            port,
            weight: d.weight,
            cluster,
            headers: &d.headers,
            subset_defined: d.subset_defined,
            index: index as u32,
        }
    }
}

/// Istio's `BuildSubsetKey(TrafficDirectionOutbound, subset, host, port)`.
pub fn cluster_name(port: u32, subset: Option<&str>, host: &str) -> String {
    format!("outbound|{port}|{}|{host}", subset.unwrap_or(""))
}

/// A mirror (`mirror` + `mirrorPercentage`, or one of `mirrors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mirror<'a> {
    pub destination: Destination<'a>,
    pub percentage: Percentage,
}

/// Why no route was found (Envoy answers 404 with response flag `NR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoRouteReason {
    /// No VirtualService (or declared service) for the request's host on this gateway.
    NoVirtualHost,
    /// A VirtualService applies but none of its rules matches.
    NoMatchingRule,
}

impl NoRouteReason {
    pub fn describe(self) -> &'static str {
        match self {
            NoRouteReason::NoVirtualHost => "no VirtualService or service for this host",
            NoRouteReason::NoMatchingRule => "no rule of the VirtualService matches",
        }
    }
}

/// A redirect response, computed like Envoy's `RedirectAction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// 301 (default), 302, 303, 307 or 308.
    pub status: u32,
    pub scheme: String,
    /// Host, with a port when one is kept or set.
    pub authority: String,
    /// Path and query.
    pub path: String,
    /// The full `location` header.
    pub location: String,
}

/// The routes a request can take: weighted destinations.
#[derive(Debug, Clone, Copy)]
pub struct RouteAction<'a> {
    dests: &'a [CDest],
    total: u64,
    listener_port: u32,
}

impl<'a> RouteAction<'a> {
    /// The destinations, in rule order (zero-weight ones left out, as istiod does).
    pub fn destinations(&self) -> impl Iterator<Item = Destination<'a>> + 'a {
        let port = self.listener_port;
        self.dests
            .iter()
            .enumerate()
            .map(move |(i, d)| Destination::view(d, port, i))
    }

    /// Number of destinations.
    pub fn len(&self) -> usize {
        self.dests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dests.is_empty()
    }

    /// Sum of the weights (Envoy normalizes by it).
    pub fn total_weight(&self) -> u64 {
        self.total
    }

    /// Each destination with its share of traffic (0.0–1.0).
    pub fn probabilities(&self) -> Vec<(Destination<'a>, f64)> {
        let total = self.total.max(1) as f64;
        self.destinations()
            .map(|d| {
                let p = f64::from(d.weight) / total;
                (d, p)
            })
            .collect()
    }

    /// Picks a destination by weight, like Envoy's weighted clusters: a random
    /// value modulo the total weight, then the first destination whose running
    /// sum exceeds it. A single destination draws nothing.
    pub fn choose<R: RandomSource + ?Sized>(&self, rng: &mut R) -> Option<Destination<'a>> {
        if self.dests.len() <= 1 {
            return self
                .dests
                .first()
                .map(|d| Destination::view(d, self.listener_port, 0));
        }
        let v = u64::from(rng.next_u32()) % self.total.max(1);
        self.pick(v)
    }

    /// meshroute extension: a stable choice from a key (a header or cookie value),
    /// so one client keeps its destination. The hash is FNV-1a 64 with a SplitMix
    /// finalizer: the same on every platform and release.
    pub fn choose_sticky(&self, key: &[u8]) -> Option<Destination<'a>> {
        if self.dests.len() <= 1 {
            return self
                .dests
                .first()
                .map(|d| Destination::view(d, self.listener_port, 0));
        }
        self.pick(stable_hash(key) % self.total.max(1))
    }

    fn pick(&self, v: u64) -> Option<Destination<'a>> {
        let mut acc = 0u64;
        for (i, d) in self.dests.iter().enumerate() {
            acc += u64::from(d.weight);
            if v < acc {
                return Some(Destination::view(d, self.listener_port, i));
            }
        }
        let last = self.dests.len().saturating_sub(1);
        self.dests
            .last()
            .map(|d| Destination::view(d, self.listener_port, last))
    }
}

/// FNV-1a 64 with a SplitMix64 finalizer (stable across platforms).
pub fn stable_hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// What happens to the request.
///
/// There is no "delegate" action: a rule that delegates is resolved at compile
/// time into the delegate VirtualService's rules (Istio merges them the same way),
/// and [`Decision::delegate`] tells which delegate rule matched.
#[derive(Debug, Clone)]
pub enum Action<'a> {
    /// Forward to one of the weighted destinations.
    Route(RouteAction<'a>),
    /// Answer with a redirect.
    Redirect(Redirect),
    /// Answer with a fixed status and body.
    DirectResponse { status: u32, body: Option<&'a [u8]> },
    /// 404 `NR`.
    NoRoute(NoRouteReason),
}

/// How the request's host selected the route table (Envoy virtual host selection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostMatch {
    /// An exact domain (a VirtualService host or one of its short forms).
    Exact,
    /// A `*.suffix` host (the longest matching suffix wins).
    Wildcard,
    /// The host `*`.
    CatchAll,
}

/// The decision for one request. Borrowed from the engine and the request;
/// producing it allocates nothing.
#[derive(Clone)]
pub struct Decision<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) table: Option<&'a Table>,
    pub(crate) host: Option<(&'a str, HostMatch)>,
    pub(crate) rule: Option<&'a Rule>,
    /// `(rule set, rule)` indices of `rule` in the engine.
    pub(crate) rule_key: Option<(u32, u32)>,
    pub(crate) match_index: Option<usize>,
    pub(crate) no_route: Option<NoRouteReason>,
    pub(crate) request: Request<'a>,
    pub(crate) matched_len: usize,
    pub(crate) port: u32,
}

impl std::fmt::Debug for Decision<'_> {
    /// The decision's outcome, not the whole engine it borrows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("virtual_service", &self.virtual_service())
            .field("host", &self.host)
            .field("rule_index", &self.rule_index())
            .field("match_index", &self.match_index)
            .field("delegate", &self.delegate())
            .field("action", &self.action())
            .finish()
    }
}

impl<'a> Decision<'a> {
    /// The VirtualService whose rule matched (`"VirtualService ns/name"`, the root
    /// one for delegated rules); `None` for no route or a service's default route.
    pub fn virtual_service(&self) -> Option<&'a str> {
        let vs = self.rule?.vs?;
        self.engine.vs_names.get(vs as usize).map(|s| s.as_str())
    }

    /// The host (as resolved from the VirtualService or service) that selected
    /// the route table, and how.
    pub fn host(&self) -> Option<(&'a str, HostMatch)> {
        self.host
    }

    /// Index of the matched rule in the VirtualService's `http` list.
    pub fn rule_index(&self) -> Option<usize> {
        self.rule
            .filter(|r| r.vs.is_some())
            .map(|r| r.index as usize)
    }

    /// Identifies the matched rule within this engine (the same for every request that
    /// matches it, whichever match block); `None` when no rule matched. For per-rule caches
    /// (the filter's metric ids) that must not format or hash names per request.
    pub fn rule_key(&self) -> Option<(u32, u32)> {
        self.rule_key
    }

    /// Name of the matched rule (for delegated rules, Istio's `root-delegate` name).
    pub fn rule_name(&self) -> Option<&'a str> {
        self.rule?.name.as_deref()
    }

    /// Index of the matched match block (`None` for a rule without `match`).
    pub fn match_index(&self) -> Option<usize> {
        self.match_index
    }

    /// Name of the matched match block.
    pub fn match_name(&self) -> Option<&'a str> {
        let r = self.rule?;
        r.matches.get(self.match_index?)?.name.as_deref()
    }

    /// Envoy's route name: the rule name, `.` and the match name when both are set.
    pub fn route_name(&self) -> Option<String> {
        let rule = self.rule_name();
        match (rule, self.match_name()) {
            (Some(r), Some(m)) => Some(format!("{r}.{m}")),
            (None, Some(m)) => Some(format!(".{m}")),
            (Some(r), None) => Some(r.to_owned()),
            (None, None) => None,
        }
    }

    /// For a delegated rule: the delegate VirtualService and its rule index.
    pub fn delegate(&self) -> Option<(&'a str, usize)> {
        let (vs, idx) = self.rule?.delegate?;
        let name = self.engine.vs_names.get(vs as usize)?;
        Some((name.as_str(), idx as usize))
    }

    /// True when the request is routed, redirected or answered directly.
    pub fn is_match(&self) -> bool {
        self.no_route.is_none()
    }

    fn rule_action(&self) -> Option<&'a RuleAction> {
        self.rule?.action()
    }

    /// The action.
    pub fn action(&self) -> Action<'a> {
        if let Some(r) = self.no_route {
            return Action::NoRoute(r);
        }
        let Some(a) = self.rule_action() else {
            return Action::NoRoute(NoRouteReason::NoMatchingRule);
        };
        match &a.kind {
            ActionKind::Route { dests, total } => Action::Route(RouteAction {
                dests,
                total: *total,
                listener_port: self.port,
            }),
            ActionKind::Redirect(spec) => {
                Action::Redirect(rewrite::redirect(spec, &self.request, self.port))
            }
            ActionKind::Direct { status, body } => Action::DirectResponse {
                status: *status,
                body: body.as_deref(),
            },
        }
    }

    /// The route, when the action is [`Action::Route`].
    pub fn route(&self) -> Option<RouteAction<'a>> {
        match self.action() {
            Action::Route(r) => Some(r),
            _ => None,
        }
    }

    /// Weighted random choice of a destination ([`RouteAction::choose`]).
    pub fn choose<R: RandomSource + ?Sized>(&self, rng: &mut R) -> Option<Destination<'a>> {
        self.route()?.choose(rng)
    }

    /// Sticky choice by key ([`RouteAction::choose_sticky`]).
    pub fn choose_sticky(&self, key: &[u8]) -> Option<Destination<'a>> {
        self.route()?.choose_sticky(key)
    }

    /// Each destination's share of traffic; empty unless routed.
    pub fn probabilities(&self) -> Vec<(Destination<'a>, f64)> {
        self.route().map(|r| r.probabilities()).unwrap_or_default()
    }

    /// The new `:path` after `rewrite.uri` (Envoy `prefix_rewrite`: the matched
    /// prefix, or the whole path for exact/regex matches, is replaced; the query
    /// is kept) or `rewrite.uriRegexRewrite` (every match in the path replaced).
    /// `None` when the path is not rewritten. Allocates only when rewriting.
    pub fn rewritten_path(&self) -> Option<String> {
        let a = self.rule_action()?;
        if !matches!(a.kind, ActionKind::Route { .. }) {
            return None;
        }
        let rw = a.rewrite.as_ref()?;
        if let Some((re, sub)) = &rw.regex {
            let (path, query) = split_path(self.request.path);
            return Some(rewrite::regex_rewrite(path, query, re, sub));
        }
        let uri = rw.uri.as_deref()?;
        Some(rewrite::prefix_rewrite(
            self.request.path,
            self.matched_len,
            uri,
        ))
    }

    /// The authority the request is forwarded with, when rewritten: `rewrite.authority`,
    /// else an `:authority`/`host` header operation of the rule, else (single
    /// destination) of the destination. With weighted destinations, a destination's own
    /// authority operation applies only when the rule sets none: see
    /// [`Decision::authority_for`].
    pub fn rewritten_authority(&self) -> Option<&'a str> {
        let a = self.rule_action()?;
        let ActionKind::Route { dests, .. } = &a.kind else {
            return None;
        };
        if let Some(auth) = self.route_authority() {
            return Some(auth);
        }
        match dests.as_slice() {
            [single] => single.headers.authority.as_deref(),
            _ => None,
        }
    }

    /// The authority rewrite of the route itself: `rewrite.authority`, else the rule's
    /// `:authority`/`host` header operation (istiod's route-level `host_rewrite_literal`).
    fn route_authority(&self) -> Option<&'a str> {
        let a = self.rule_action()?;
        if !matches!(a.kind, ActionKind::Route { .. }) {
            return None;
        }
        a.rewrite
            .as_ref()
            .and_then(|rw| rw.authority.as_deref())
            .or(a.headers.authority.as_deref())
    }

    /// The authority `dest` (a destination of this decision's route) is forwarded with,
    /// when rewritten. The route's rewrite wins: with one destination istiod sets the
    /// destination's only when the rule has none (`processDestination`); with several it
    /// is the weighted cluster's `host_rewrite_literal`, which Envoy applies before the
    /// route's (`RouteEntryImplBase::finalizeRequestHeaders` runs after the cluster's).
    pub fn authority_for(&self, dest: &Destination<'a>) -> Option<&'a str> {
        self.route_authority().or(dest.headers.authority.as_deref())
    }

    /// The rule-level header operations (applied with each destination's own,
    /// see [`Destination::headers`] and [`Decision::header_ops`]).
    pub fn headers(&self) -> Option<&'a HeaderOps> {
        Some(&self.rule_action()?.headers)
    }

    /// Appends to `out` the request (or, with `response`, response) header operations for
    /// `dest` (a destination of this decision's route), in the order Envoy applies what
    /// istiod configures. With a single destination, istiod `processDestination` appends
    /// the destination's operations to the rule's at route level, and Envoy's
    /// `HeaderParser` removes first, then sets and adds in order: the destination's `set`
    /// wins. With several, they are on the weighted cluster
    /// (`processWeightedDestination`), which Envoy evaluates before the route: the rule's
    /// `set` wins. Pseudo-headers are not included (see [`Decision::rewritten_authority`]
    /// and [`Decision::rewritten_path`]).
    pub fn header_ops(
        &self,
        dest: &Destination<'a>,
        response: bool,
        out: &mut Vec<HeaderOpRef<'a>>,
    ) {
        let pick = |h: &'a HeaderOps| if response { &h.response } else { &h.request };
        let rule = self.headers().map(pick);
        let own = pick(dest.headers);
        let single = self.route().is_none_or(|r| r.len() <= 1);
        match (single, rule) {
            (true, Some(rule)) => HeaderOperations::push_level(&[rule, own], out),
            (true, None) => HeaderOperations::push_level(&[own], out),
            (false, rule) => {
                HeaderOperations::push_level(&[own], out);
                if let Some(rule) = rule {
                    HeaderOperations::push_level(&[rule], out);
                }
            }
        }
    }

    /// The route timeout; `None` means disabled, Istio's default (`timeout` unset: 0s).
    pub fn timeout(&self) -> Option<Duration> {
        match &self.rule_action()?.kind {
            ActionKind::Route { .. } => self.rule_action()?.timeout,
            _ => None,
        }
    }

    /// The effective retry policy; `None` when retries are disabled (`attempts: 0`)
    /// or the action is not a route.
    pub fn retries(&self) -> Option<&'a RetryPolicy> {
        let a = self.rule_action()?;
        match &a.kind {
            ActionKind::Route { .. } => a.retries.as_ref(),
            _ => None,
        }
    }

    /// Fault injection, if configured.
    pub fn fault(&self) -> Option<&'a Fault> {
        self.rule_action()?.fault.as_ref()
    }

    /// Mirrors (`mirror` first, then `mirrors`), with their percentages.
    pub fn mirrors(&self) -> impl Iterator<Item = Mirror<'a>> + 'a {
        let port = self.port;
        let list: &'a [CMirror] = match self.rule_action() {
            Some(a) if matches!(a.kind, ActionKind::Route { .. }) => &a.mirrors,
            _ => &[],
        };
        list.iter().enumerate().map(move |(i, m)| Mirror {
            destination: Destination::view(&m.dest, port, i),
            percentage: m.percentage,
        })
    }

    /// The CORS policy, passed through as written.
    pub fn cors(&self) -> Option<&'a CorsPolicy> {
        self.rule_action()?.cors.as_ref()
    }

    /// The listener port the decision used.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// An owned, serializable copy of everything above (for the CLI and the editor).
    pub fn report(&self) -> DecisionReport {
        let action = match self.action() {
            Action::Route(r) => ActionReport::Route {
                destinations: r
                    .probabilities()
                    .into_iter()
                    .map(|(d, p)| DestinationReport::new(&d, p))
                    .collect(),
            },
            Action::Redirect(r) => ActionReport::Redirect(r),
            Action::DirectResponse { status, body } => ActionReport::DirectResponse {
                status,
                body: body.map(|b| String::from_utf8_lossy(b).into_owned()),
            },
            Action::NoRoute(reason) => ActionReport::NoRoute {
                status: 404,
                flag: "NR",
                reason,
                detail: reason.describe(),
            },
        };
        DecisionReport {
            request: RequestSummary::from(&self.request),
            gateway: self.engine.gateway.clone(),
            virtual_service: self.virtual_service().map(Into::into),
            host: self.host.map(|(h, _)| h.to_owned()),
            host_match: self.host.map(|(_, k)| k),
            default_route: self.rule.is_some_and(|r| r.vs.is_none()),
            rule_index: self.rule_index(),
            rule_name: self.rule_name().map(Into::into),
            match_index: self.match_index,
            match_name: self.match_name().map(Into::into),
            route_name: self.route_name(),
            delegate: self.delegate().map(|(vs, i)| DelegateReport {
                virtual_service: vs.to_owned(),
                rule_index: i,
            }),
            action,
            rewrite: {
                let path = self.rewritten_path();
                let authority = self.rewritten_authority().map(str::to_owned);
                (path.is_some() || authority.is_some()).then_some(RewriteReport { path, authority })
            },
            headers: self.headers().filter(|h| !h.is_empty()).cloned(),
            timeout: self.timeout().map(crate::duration::to_envoy),
            retries: self.retries().cloned(),
            fault: self.fault().cloned(),
            mirrors: self
                .mirrors()
                .map(|m| MirrorReport {
                    host: m.destination.host.to_owned(),
                    subset: m.destination.subset.map(Into::into),
                    port: m.destination.port,
                    cluster: m.destination.cluster.into_owned(),
                    percentage: m.percentage,
                })
                .collect(),
            cors: self.cors().cloned(),
        }
    }
}

/// A destination in a [`DecisionReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestinationReport {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    pub port: u32,
    pub weight: u32,
    /// Share of traffic, 0.0–1.0.
    pub probability: f64,
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<HeaderOps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset_defined: Option<bool>,
}

impl DestinationReport {
    fn new(d: &Destination<'_>, p: f64) -> Self {
        DestinationReport {
            host: d.host.to_owned(),
            subset: d.subset.map(Into::into),
            port: d.port,
            weight: d.weight,
            probability: p,
            cluster: d.cluster.clone().into_owned(),
            headers: (!d.headers.is_empty()).then(|| d.headers.clone()),
            subset_defined: d.subset_defined,
        }
    }
}

/// The action in a [`DecisionReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionReport {
    Route {
        destinations: Vec<DestinationReport>,
    },
    Redirect(Redirect),
    DirectResponse {
        status: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    NoRoute {
        status: u32,
        /// Envoy's response flag.
        flag: &'static str,
        reason: NoRouteReason,
        detail: &'static str,
    },
}

/// The delegate hop in a [`DecisionReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegateReport {
    pub virtual_service: String,
    pub rule_index: usize,
}

/// Rewrites in a [`DecisionReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RewriteReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

/// A mirror in a [`DecisionReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MirrorReport {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    pub port: u32,
    pub cluster: String,
    pub percentage: Percentage,
}

/// An owned, serializable [`Decision`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionReport {
    pub request: RequestSummary,
    /// `mesh` or `ns/name`.
    pub gateway: String,
    pub virtual_service: Option<String>,
    pub host: Option<String>,
    pub host_match: Option<HostMatch>,
    /// True when a declared service without VirtualService routes by default.
    pub default_route: bool,
    pub rule_index: Option<usize>,
    pub rule_name: Option<String>,
    pub match_index: Option<usize>,
    pub match_name: Option<String>,
    pub route_name: Option<String>,
    pub delegate: Option<DelegateReport>,
    pub action: ActionReport,
    pub rewrite: Option<RewriteReport>,
    pub headers: Option<HeaderOps>,
    /// `None`: no timeout (Istio's default).
    pub timeout: Option<String>,
    /// `None`: no retries.
    pub retries: Option<RetryPolicy>,
    pub fault: Option<Fault>,
    pub mirrors: Vec<MirrorReport>,
    pub cors: Option<CorsPolicy>,
}

impl DecisionReport {
    /// True when the request is routed, redirected or answered directly.
    pub fn is_match(&self) -> bool {
        !matches!(self.action, ActionReport::NoRoute { .. })
    }
}
