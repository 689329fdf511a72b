//! The matching engine: VirtualServices (+ DestinationRules, ServiceEntries and
//! Services for ports and subsets) compiled once into route tables, then evaluated
//! per request with Istio's semantics. Shared by the Envoy filter (compile at
//! `on_configure`, decide per request), `meshroute simulate` and the editor.
//!
//! ```
//! use meshroute_model::engine::{Engine, EngineOptions, Request, SplitMix64};
//! let loaded = meshroute_model::load_str(r#"
//! apiVersion: networking.istio.io/v1
//! kind: VirtualService
//! metadata: {name: reviews, namespace: default}
//! spec:
//!   hosts: [reviews]
//!   http:
//!   - match: [{headers: {end-user: {exact: jason}}}]
//!     route: [{destination: {host: reviews, subset: v2}}]
//!   - route: [{destination: {host: reviews, subset: v3}}]
//! "#, None);
//! let engine = Engine::compile(loaded.resources(), &EngineOptions::default()).unwrap();
//! let headers = [("end-user", "jason")];
//! let req = Request::new("GET", "reviews:9080", "/").with_headers(&headers);
//! let decision = engine.decide(&req);
//! assert_eq!(decision.rule_index(), Some(0));
//! let dest = decision.choose(&mut SplitMix64(1)).unwrap();
//! assert_eq!(dest.cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
//! ```
//!
//! # Semantics (Istio's, as istiod translates them for Envoy)
//!
//! * **Host selection** (Envoy virtual hosts): the request `:authority` without
//!   port, case-insensitive, against the VirtualService `hosts` (short names
//!   resolved in the VirtualService's namespace). An exact host wins, then the
//!   longest `*.suffix` wildcard, then `*`. On sidecars a Kubernetes host
//!   `name.ns.svc.cluster.local` is also reachable as `name.ns.svc`, `name.ns`, and
//!   `name` from a client in `ns` (the request's `source_namespace`, else the
//!   default namespace). Sidecars use the first VirtualService for a host; gateways
//!   merge all of them, each cut after its first catch-all route (istiod
//!   `BuildHTTPRoutesForVirtualService`), and move catch-all routes last
//!   (`SortVHostRoutes`).
//!   A declared service (ServiceEntry, Kubernetes Service) without VirtualService
//!   gets Istio's default route on sidecars.
//! * **Gateway binding**: a VirtualService applies where its `gateways` (default
//!   `mesh`) include [`EngineOptions::gateway`]; a match block's own `gateways`
//!   override that and, when set, replace the `sourceLabels`/`sourceNamespace`
//!   checks (istiod `sourceMatchHTTP`).
//! * **Rules** in order, first match wins; match blocks OR, fields in a block AND; a
//!   rule without `match` matches everything. `uri`, `scheme`, `method`,
//!   `authority`, `headers` (exact/prefix/regex; `{}` or regex `*` = present),
//!   `withoutHeaders` (a missing header reads as `""`, `{}` = absent), `queryParams`
//!   (first value, raw; exact/prefix/regex/present), `ignoreUriCase` (exact and
//!   prefix only), `port` (the listener port), `gateways`, `sourceLabels` ⊆ the
//!   request's source labels, `sourceNamespace` = the request's source namespace.
//!   Regexes are RE2 syntax (via `regex-lite`: no Unicode classes) and must match
//!   the whole value, like Envoy's `safe_regex`. Header names `@request.auth.claims…`
//!   (JWT claims) are looked up in the request headers under that name.
//! * **Delegates** are merged at compile time like istiod `mergeHTTPRoutes`; short
//!   names (destinations, mirrors, match gateways) resolve in the namespace of the
//!   VirtualService that wrote them, the delegate's or the root's.
//! * **Defaults**: see [`decision`] types: retries ([`RetryPolicy`]), fault and
//!   mirror percentages ([`Percentage`]), timeout (none), weights.
//!
//! Not modelled: path normalization (the filter sees Envoy's normalized path),
//! `exportTo` of VirtualServices, Gateway server host filtering, mesh-wide
//! `defaultHttpRetryPolicy`, TCP/TLS routes.

mod compile;
pub mod decision;
mod explain;
mod index;
mod matcher;
mod request;
mod rewrite;
mod simple_re;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::load::Resource;

pub use decision::{
    AbortError, Action, Decision, DecisionReport, Destination, Fault, FaultAbort, FaultDelay,
    HeaderOpRef, HeaderOperations, HeaderOps, HostMatch, Mirror, NoRouteReason, Percentage,
    RandomSource, Redirect, RetryPolicy, RouteAction, SplitMix64,
};
pub use explain::{Explanation, HostSelection, MatchTrace, Mismatch, RuleTrace};
pub use request::{HeaderList, Request, RequestSummary};

use compile::{DomainTarget, Entry, Rule, Table, NO_GUARD, NO_MATCH};
use matcher::{Ctx, Silent};
use request::split_path;

/// Diagnostic codes the engine reports when compiling.
pub mod codes {
    /// Invalid regex (error).
    pub const MR301: &str = "MR301";
    /// Invalid duration (error).
    pub const MR302: &str = "MR302";
    /// Configuration Envoy would reject or Istio ignores (error, or warning when ignored).
    pub const MR303: &str = "MR303";
    /// Delegate not found, not exported, nested or conflicting: rule ignored (warning).
    pub const MR304: &str = "MR304";
    /// Subset not defined by any DestinationRule: 503 at request time (warning).
    pub const MR305: &str = "MR305";
    /// Host already routed by an earlier VirtualService on sidecars (warning).
    pub const MR306: &str = "MR306";
}

/// How to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Namespace of resources that name none, and of clients that give none (`default`).
    pub default_namespace: String,
    /// The gateway the routes are for, `ns/name` (a bare name is in
    /// `default_namespace`); `None` or `mesh` for sidecars.
    pub gateway: Option<String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            default_namespace: "default".into(),
            gateway: None,
        }
    }
}

/// Compiled routes. Immutable and cheap to query; build once per configuration.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) gateway: String,
    pub(crate) mesh: bool,
    pub(crate) default_ns: String,
    pub(crate) vs_names: Vec<String>,
    pub(crate) rule_sets: Vec<Vec<Rule>>,
    pub(crate) tables: Vec<Table>,
    pub(crate) exact: HostMap<DomainTarget>,
    /// Sidecars only: `name` → the target of `name.<default_ns>.svc.cluster.local` in
    /// `exact`, so a short `:authority` from the default namespace (the filter's case) is
    /// one lookup, not a second lookup of a lowercased FQDN built per request.
    pub(crate) short: HostMap<DomainTarget>,
    /// `(suffix, target)`, longest suffix first.
    pub(crate) wildcards: Vec<(String, DomainTarget)>,
    pub(crate) catch_all: Option<DomainTarget>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// FNV-1a: domain lookups hash short strings; the keys come from the configuration,
/// so there is no untrusted insertion to defend against. Also the filter's per-request
/// maps (keys it makes itself: context ids, metric keys), where SipHash cost ≈ 180–380
/// instructions per lookup.
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

/// `BuildHasher` of [`Fnv`], for `HashMap::with_hasher` / `HashMap<K, V, FnvBuild>`.
pub type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Host name → target.
pub(crate) type HostMap<V> = HashMap<String, V, FnvBuild>;

/// Route tables with at most this many entries are scanned without the index.
const SMALL_TABLE: usize = 4;

/// Host names up to this length are lowercased on the stack.
const HOST_BUF: usize = 256;

/// Lowercases the concatenation of `parts` into a stack buffer (or a `String`
/// when too long) and calls `f` with it. A single lowercase part is used as is.
fn with_lower<R>(parts: &[&str], f: impl FnOnce(&str) -> R) -> R {
    if let [one] = parts {
        if !one.bytes().any(|b| b.is_ascii_uppercase()) {
            return f(one);
        }
    }
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len <= HOST_BUF {
        let mut buf = [0u8; HOST_BUF];
        let mut n = 0;
        for p in parts {
            for &b in p.as_bytes() {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = b.to_ascii_lowercase();
                }
                n += 1;
            }
        }
        let s = buf
            .get(..n)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("");
        f(s)
    } else {
        let s: String = parts.concat().to_ascii_lowercase();
        f(&s)
    }
}

impl Engine {
    /// Compiles VirtualServices, DestinationRules, ServiceEntries and Services
    /// (other kinds are ignored). Every regex and duration is compiled here; errors
    /// (with resource, field path, file and line) reject the whole configuration.
    pub fn compile<'r>(
        resources: impl IntoIterator<Item = &'r Resource>,
        opts: &EngineOptions,
    ) -> Result<Engine, Vec<Diagnostic>> {
        compile::compile(resources.into_iter().collect(), opts)
    }

    /// Warnings found while compiling (ignored rules, undefined subsets, hosts
    /// routed twice): the configuration works, but maybe not as intended.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// `mesh` or the gateway (`ns/name`) the engine was compiled for.
    pub fn gateway(&self) -> &str {
        &self.gateway
    }

    /// Envoy virtual host selection for `req`.
    fn select(&self, req: &Request<'_>, host: &str) -> Option<(&DomainTarget, HostMatch)> {
        let host = host.strip_suffix('.').unwrap_or(host);
        let short = self.mesh && !host.is_empty() && !host.bytes().any(|b| b == b'.' || b == b':');
        let ns = req.source_namespace.unwrap_or(&self.default_ns);
        let suffix = [".", ns, ".svc.", crate::host::DEFAULT_DOMAIN];
        let wild = |name: &str| -> Option<&DomainTarget> {
            self.wildcards
                .iter()
                .find(|(s, _)| name.len() > s.len() && name.ends_with(s.as_str()))
                .map(|(_, t)| t)
        };
        let found = with_lower(&[host], |h| {
            if let Some(t) = self.exact.get(h) {
                return Some((t, HostMatch::Exact));
            }
            if short {
                let t = if ns == self.default_ns {
                    self.short.get(h)
                } else {
                    let parts = [h, suffix[0], suffix[1], suffix[2], suffix[3]];
                    with_lower(&parts, |f| self.exact.get(f))
                };
                return t.map(|t| (t, HostMatch::Exact));
            }
            None
        });
        if found.is_some() {
            return found;
        }
        let w = with_lower(&[host], |h| {
            let mut best = wild(h);
            if short {
                let parts = [h, suffix[0], suffix[1], suffix[2], suffix[3]];
                let f = with_lower(&parts, wild);
                if let (Some(b), Some(fb)) = (best, f) {
                    // Envoy prefers the longest suffix.
                    let len = |t: &DomainTarget| t.host.len();
                    if len(fb) > len(b) {
                        best = Some(fb);
                    }
                } else if best.is_none() {
                    best = f;
                }
            }
            best
        });
        if let Some(t) = w {
            return Some((t, HostMatch::Wildcard));
        }
        self.catch_all.as_ref().map(|t| (t, HostMatch::CatchAll))
    }

    fn rule_of(&self, set: u32, rule: u32) -> Option<&Rule> {
        self.rule_sets.get(set as usize)?.get(rule as usize)
    }

    /// True when one of `e`'s guards (a catch-all of the same VirtualService that exists
    /// only for some ports or sources) matches: istiod ended the VirtualService's
    /// routes there, so at this gateway `e` does not exist for this request.
    fn guarded(&self, table: &Table, e: &Entry, cx: &Ctx<'_, '_>) -> bool {
        if e.guard == NO_GUARD {
            return false;
        }
        let Some(guards) = table.guards.get(e.guard as usize) else {
            return false;
        };
        guards.iter().any(|g| {
            self.rule_of(g.set, g.rule)
                .and_then(|r| r.matches.get(g.m as usize))
                .is_some_and(|m| m.eval(cx, &mut Silent).is_some())
        })
    }

    /// Decides `req`: the first matching rule of the selected VirtualService and
    /// what it does. Evaluates only the rules the URI index cannot exclude;
    /// allocates nothing (except to join a repeated header a rule matches on).
    pub fn decide<'a>(&'a self, req: &Request<'a>) -> Decision<'a> {
        self.decide_with(req, false)
    }

    /// [`Engine::decide`] without the URI index: every rule in order. Same result,
    /// slower; for benchmarks and tests.
    #[doc(hidden)]
    pub fn decide_unindexed<'a>(&'a self, req: &Request<'a>) -> Decision<'a> {
        self.decide_with(req, true)
    }

    /// `decide` with the index, or (for tests) a linear scan of every entry.
    pub(crate) fn decide_with<'a>(&'a self, req: &Request<'a>, linear: bool) -> Decision<'a> {
        let (host, authority_port) = request::split_host_port(req.authority);
        let port = req.port_with(authority_port);
        let mut d = Decision {
            engine: self,
            table: None,
            host: None,
            rule: None,
            rule_key: None,
            match_index: None,
            no_route: Some(NoRouteReason::NoVirtualHost),
            request: *req,
            matched_len: 0,
            port,
        };
        let Some((target, kind)) = self.select(req, host) else {
            return d;
        };
        let Some(table) = self.tables.get(target.table as usize) else {
            return d;
        };
        d.table = Some(table);
        d.host = Some((&target.host, kind));
        d.no_route = Some(NoRouteReason::NoMatchingRule);
        let (path, query) = split_path(req.path);
        let cx = Ctx {
            req,
            path,
            query,
            port,
            gateway: &self.gateway,
        };
        let mut try_entry = |e: u32| -> bool {
            let Some(entry) = table.entries.get(e as usize) else {
                return false;
            };
            let Some(rule) = self.rule_of(entry.set, entry.rule) else {
                return false;
            };
            if self.guarded(table, entry, &cx) {
                return false;
            }
            let res = if entry.m == NO_MATCH {
                Some(1)
            } else {
                rule.matches
                    .get(entry.m as usize)
                    .and_then(|m| m.eval(&cx, &mut Silent))
            };
            match res {
                Some(len) => {
                    d.rule = Some(rule);
                    d.rule_key = Some((entry.set, entry.rule));
                    d.match_index = (entry.m != NO_MATCH).then_some(entry.m as usize);
                    d.matched_len = len;
                    d.no_route = None;
                    true
                }
                None => false,
            }
        };
        // A handful of entries: scanning them is cheaper than walking the index.
        if linear || table.entries.len() <= SMALL_TABLE {
            for e in 0..table.entries.len() as u32 {
                if try_entry(e) {
                    break;
                }
            }
        } else {
            for e in table.index.candidates(path) {
                if try_entry(e) {
                    break;
                }
            }
        }
        d
    }
}
