//! Envoy configuration rendering (`meshroute render`): a complete Envoy v3 bootstrap
//! (`serde_json::Value`) from VirtualServices, DestinationRules, Gateways, ServiceEntries and
//! WorkloadEntries. Pure functions, no I/O: the CLI writes the result, the editor can show it.
//!
//! # Two modes
//!
//! - **wasm** (default): one HTTP listener (or, with a Gateway, one per Gateway server port)
//!   whose HTTP filters are the meshroute proxy-wasm filter, a header-controlled fault filter and
//!   the router; every route sends the request to the cluster named in the request header the
//!   filter sets. The filter gets the Istio resources in its plugin configuration
//!   ([`mod@filter_config`], which also documents the headers contract).
//! - **native** (`--native`): the same VirtualServices translated to Envoy's own route
//!   configuration the way istiod does (`pilot/pkg/networking/core/route/route.go`), no Wasm.
//!   This is the oracle the filter is tested against, so it follows Istio field by field.
//!
//! Both modes render the same clusters: one per (host, port) of every ServiceEntry, one per
//! (host, port, subset) of its DestinationRule, each named by [`crate::cluster::cluster_name`],
//! plus an endpoint-less cluster for every destination or mirror a rule names that no
//! ServiceEntry backs (Envoy answers 503 for those, as Istio does for unknown clusters).
//!
//! # Mapping
//!
//! | Istio | Envoy |
//! |---|---|
//! | ServiceEntry `resolution: STATIC` / `DNS` / `DNS_ROUND_ROBIN` | cluster `STATIC` / `STRICT_DNS` / `LOGICAL_DNS` with `load_assignment` from `endpoints` and selected WorkloadEntries (`ports` by port name, then `targetPort`, then port; `weight`, `locality`) |
//! | DestinationRule subsets | cluster per subset, endpoints whose labels ⊇ the subset's labels |
//! | `loadBalancer.simple` | `lb_policy` ROUND_ROBIN / LEAST_REQUEST (default, also LEAST_CONN) / RANDOM; `warmupDurationSecs` → `slow_start_config` |
//! | `loadBalancer.consistentHash` | `RING_HASH` (`minimumRingSize`, default 1024) or `MAGLEV` (`tableSize`) + route `hash_policy` (header, cookie with ttl/path, source IP, query parameter) |
//! | `connectionPool` | `circuit_breakers` (max_connections/pending/requests/retries, default 2³²−1, `track_remaining`), `connect_timeout` (default 10s), `HttpProtocolOptions` (idle timeout, max requests per connection, max connection duration, h2 for HTTP2/GRPC ports and `h2UpgradePolicy: UPGRADE`, `useClientProtocol`), TCP keepalive |
//! | `outlierDetection` | `outlier_detection` (consecutive 5xx / gateway errors enforced at 100%, success rate off, interval, base ejection time, max ejection percent, local-origin split) + `healthy_panic_threshold` = `minHealthPercent` |
//! | `tls` SIMPLE / MUTUAL | `UpstreamTlsContext` with files (`caCertificates` default: the system bundle), SNI (or `auto_sni`), SANs (or `auto_san_validation`), `caCrl`, `insecureSkipVerify` |
//! | `proxyProtocol` | `upstream_proxy_protocol` transport socket |
//! | `portLevelSettings`, subset `trafficPolicy` | merged like Istio (`policy.rs`) |
//! | HTTPRoute (native) | route per match block, in rule order; see `routes.rs`; `delegate` rules merged with the delegate VirtualService's like istiod (`delegate.rs`) |
//! | Gateway servers | listener per port on the `--listen` host; HTTP servers share one route config, HTTPS servers (SIMPLE/MUTUAL/OPTIONAL_MUTUAL with certificate files) get a TLS filter chain per server with SNI; virtual hosts limited to the hosts shared by the server and the VirtualService; `httpsRedirect` → `require_tls: ALL` |
//!
//! Relative certificate paths are resolved against the directory of the YAML file that names
//! them (Istio has no such notion: in a pod every path is absolute).
//!
//! # Not rendered (diagnostic MR203 says where)
//!
//! - ISTIO_MUTUAL and `credentialName`: there is no Istio CA and no Kubernetes secret store;
//!   ISTIO_MUTUAL is rendered as plaintext.
//! - `loadBalancer.simple: PASSTHROUGH` and `resolution: NONE`/`DYNAMIC_DNS`: they forward to
//!   the address the client dialled, which a standalone Envoy listener does not have.
//! - `localityLbSetting`, `warmup`, `tunnel`, `retryBudget`, `http2KeepAlive`,
//!   `outlierDetectionHttpErrorCodes`, deprecated `consecutiveErrors` (ignored by Istio too):
//!   no Istio locality / translation to reproduce here.
//! - Native routes: `sourceLabels` (the rendered Envoy
//!   has no workload labels, so such blocks never apply, as in Istio for an unlabeled proxy),
//!   JWT claim matches (`@request.auth.claims`, no authentication filter), `exponentialDelay`
//!   and `http2Error` faults (Istio drops them too), TCP and TLS routes, Gateway TLS
//!   passthrough and TCP servers.
//! - `exportTo` visibility: every resource given is visible.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{json, Value};

use crate::diag::{Diagnostic, Level};
use crate::load::Resource;
use crate::model::Destination;

pub mod filter_config;

mod clusters;
mod delegate;
mod listeners;
mod policy;
mod registry;
mod routes;
mod tls;

#[cfg(test)]
mod tests;

pub use filter_config::{FilterConfig, FilterSettings};

/// Diagnostic codes `render` reports.
pub mod codes {
    /// A ServiceEntry's endpoints cannot be rendered as given (resolution NONE/DYNAMIC_DNS,
    /// hostname in a STATIC entry, several DNS_ROUND_ROBIN endpoints, …).
    pub const MR201: &str = "MR201";
    /// A cluster has no endpoints (no ServiceEntry for the host, or no endpoint carries the
    /// subset's labels): Envoy answers 503.
    pub const MR202: &str = "MR202";
    /// A field is not rendered (or rendered differently) because it needs something a
    /// standalone Envoy does not have; the message says what happens instead.
    pub const MR203: &str = "MR203";
    /// A host, route or server is skipped because another one already claims it.
    pub const MR204: &str = "MR204";
    /// The render options are unusable (gateway not found, bad address).
    pub const MR205: &str = "MR205";
}

/// Default `--listen`.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:10000";
/// Default `--admin`.
pub const DEFAULT_ADMIN: &str = "127.0.0.1:9901";
/// Default `--wasm` (relative to the workspace).
pub const DEFAULT_WASM: &str = "target/wasm32-wasip1/release/meshroute_filter.wasm";
/// CA bundle used for `tls.caCertificates` left empty (Istio's "system" roots).
pub const DEFAULT_SYSTEM_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What to render.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Address the listener(s) bind to.
    pub listen_address: String,
    /// Port of the mesh listener (Gateway listeners use their server ports).
    pub listen_port: u32,
    pub admin_address: String,
    pub admin_port: u32,
    /// Path of the filter's `.wasm` (wasm mode).
    pub wasm_path: String,
    /// `namespace/name` (or `name` in [`Self::namespace`]) of the Gateway to play; `None`: mesh.
    pub gateway: Option<String>,
    /// Native Envoy routes instead of the Wasm filter.
    pub native: bool,
    /// Namespace of resources that name none, and the proxy's namespace.
    pub namespace: String,
    /// CA bundle for upstream TLS without `caCertificates`.
    pub system_ca: String,
    /// Request header carrying the cluster (wasm mode).
    pub cluster_header: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            listen_address: "0.0.0.0".into(),
            listen_port: 10000,
            admin_address: "127.0.0.1".into(),
            admin_port: 9901,
            wasm_path: DEFAULT_WASM.into(),
            gateway: None,
            native: false,
            namespace: filter_config::DEFAULT_NAMESPACE.into(),
            system_ca: DEFAULT_SYSTEM_CA.into(),
            cluster_header: filter_config::DEFAULT_CLUSTER_HEADER.into(),
        }
    }
}

/// The result of [`render`].
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The Envoy v3 bootstrap.
    pub bootstrap: Value,
    /// What could not be rendered faithfully, and why.
    pub diagnostics: Vec<Diagnostic>,
}

impl Rendered {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses `ADDR:PORT` (`0.0.0.0:10000`, `[::1]:9901`, `localhost:80`).
pub fn parse_address(s: &str) -> Result<(String, u32), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?} is not ADDR:PORT"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(format!("{s:?} has no address"));
    }
    let port: u32 = port
        .parse()
        .ok()
        .filter(|p| *p <= 65535)
        .ok_or_else(|| format!("{s:?}: port must be a number from 0 to 65535"))?;
    Ok((host.to_owned(), port))
}

/// A cluster some rule sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ClusterRef {
    pub host: String,
    pub port: u32,
    pub subset: Option<String>,
}

impl ClusterRef {
    pub(crate) fn name(&self) -> String {
        crate::cluster::cluster_name(self.port, self.subset.as_deref(), &self.host)
    }
}

/// Shared state of one render.
pub(crate) struct Ctx<'a> {
    pub opts: &'a RenderOptions,
    pub resources: Vec<&'a Resource>,
    pub registry: registry::Registry<'a>,
    pub drs: policy::DestRules<'a>,
    pub diags: Vec<Diagnostic>,
    /// Clusters named by rules (destinations and mirrors), with the resource that names them first.
    pub refs: BTreeMap<ClusterRef, (&'a Resource, String)>,
}

impl<'a> Ctx<'a> {
    fn new(mut resources: Vec<&'a Resource>, opts: &'a RenderOptions) -> Ctx<'a> {
        // istiod binds hosts, merges gateway routes and picks DestinationRules in its own order.
        crate::load::order_like_istio(&mut resources, &opts.namespace);
        let mut diags = Vec::new();
        let registry = registry::Registry::build(&resources, &opts.namespace, &mut diags);
        let drs = policy::DestRules::build(&resources, &opts.namespace, &mut diags);
        Ctx {
            opts,
            resources,
            registry,
            drs,
            diags,
            refs: BTreeMap::new(),
        }
    }

    pub(crate) fn proxy_ns(&self) -> &'a str {
        self.opts.namespace.as_str()
    }

    /// Istio's `GetDestinationCluster`: the destination's port if given, else the service's only
    /// port, else the port of the listener (virtual host) the route is built for. Records the
    /// reference so the cluster exists.
    pub(crate) fn destination_cluster(
        &mut self,
        dest: &Destination,
        vs: &'a Resource,
        path: &str,
        listen_port: u32,
    ) -> ClusterRef {
        let ns = vs.namespace_or(&self.opts.namespace);
        let host =
            crate::host::to_fqdn(&dest.host.as_deref().unwrap_or("").to_ascii_lowercase(), ns);
        let port = match &dest.port {
            Some(p) => p.number.unwrap_or(0),
            None => match self.registry.get(&host) {
                Some(svc) if svc.ports.len() == 1 => {
                    svc.ports.first().map_or(listen_port, |p| p.number)
                }
                _ => listen_port,
            },
        };
        let r = ClusterRef {
            host,
            port,
            subset: dest.subset.clone().filter(|s| !s.is_empty()),
        };
        self.refs
            .entry(r.clone())
            .or_insert_with(|| (vs, path.to_owned()));
        r
    }

    pub(crate) fn diag(
        &mut self,
        r: &Resource,
        code: &str,
        level: Level,
        path: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.diags.push(r.diag(code, level, path, msg));
    }

    pub(crate) fn error(&mut self, code: &str, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, msg));
    }
}

/// Renders the bootstrap for `resources` (kinds other than the Istio networking ones are
/// ignored). Never fails: problems are diagnostics, and the bootstrap is still complete.
pub fn render<'a>(
    resources: impl IntoIterator<Item = &'a Resource>,
    opts: &RenderOptions,
) -> Rendered {
    let resources: Vec<&Resource> = resources.into_iter().collect();
    let mut ctx = Ctx::new(resources, opts);
    let listeners = listeners::build_listeners(&mut ctx);
    let clusters = clusters::build_clusters(&mut ctx);
    let bootstrap = json!({
        "node": {"id": "meshroute", "cluster": "meshroute"},
        "admin": {
            "address": socket_address(&opts.admin_address, opts.admin_port),
        },
        "static_resources": {
            "listeners": listeners,
            "clusters": clusters,
        },
        // Labels for the filter's per-rule metrics (harmless without the filter).
        "stats_config": crate::stats::stats_config(),
    });
    Rendered {
        bootstrap,
        diagnostics: dedup(ctx.diags),
    }
}

/// The filter's plugin configuration for `resources` (wasm mode).
pub fn filter_config<'a>(
    resources: impl IntoIterator<Item = &'a Resource>,
    opts: &RenderOptions,
) -> FilterConfig {
    let gateway = match &opts.gateway {
        None => filter_config::MESH_GATEWAY.to_owned(),
        Some(g) if g.contains('/') => g.clone(),
        Some(g) => format!("{}/{g}", opts.namespace),
    };
    // What the filter's engine reads (it sets other kinds aside undecoded). Kubernetes
    // Services are left out: the bootstrap has no clusters for them (endpoints come from
    // ServiceEntries and WorkloadEntries), so the filter must not pick one by their ports.
    let resources = resources
        .into_iter()
        .filter(|r| {
            matches!(
                r.spec,
                crate::load::Spec::VirtualService(_)
                    | crate::load::Spec::DestinationRule(_)
                    | crate::load::Spec::ServiceEntry(_)
            )
        })
        .map(Resource::to_value)
        .collect();
    FilterConfig {
        settings: FilterSettings {
            gateway,
            namespace: opts.namespace.clone(),
            cluster_header: opts.cluster_header.clone(),
        },
        resources,
    }
}

pub(crate) fn socket_address(address: &str, port: u32) -> Value {
    json!({"socket_address": {"address": address, "port_value": port}})
}

/// An Envoy `Duration` from an Istio duration string, or a diagnostic.
pub(crate) fn duration(ctx: &mut Ctx<'_>, r: &Resource, path: &str, s: &str) -> Option<String> {
    match crate::duration::parse_duration(s) {
        Ok(d) => Some(crate::duration::to_envoy(d)),
        Err(e) => {
            ctx.diag(
                r,
                codes::MR203,
                Level::Warning,
                path,
                format!("{e}: field not rendered"),
            );
            None
        }
    }
}

/// `type.googleapis.com/<name>` typed config.
pub(crate) fn typed(type_name: &str, mut body: Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(
        "@type".into(),
        Value::String(format!("type.googleapis.com/{type_name}")),
    );
    if let Value::Object(m) = &mut body {
        out.append(m);
    }
    Value::Object(out)
}

/// Istio's `translatePercentToFractionalPercent`: value × 10⁴ per million (truncated).
pub(crate) fn fractional_percent_million(value: f64) -> Value {
    let n = (value * 10000.0).clamp(0.0, u32::MAX as f64) as u32;
    json!({"numerator": n, "denominator": "MILLION"})
}

/// Istio's `translateIntegerToFractionalPercent`: an integer per hundred.
pub(crate) fn fractional_percent_hundred(value: i64) -> Value {
    let n = value.clamp(0, u32::MAX as i64);
    json!({"numerator": n, "denominator": "HUNDRED"})
}

/// Resolves a certificate path: relative paths are relative to the YAML file naming them.
pub(crate) fn resolve_file(r: &Resource, path: &str) -> String {
    let p = std::path::Path::new(path);
    if p.is_absolute() || path.is_empty() {
        return path.to_owned();
    }
    match r
        .source
        .file
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|f| f.parent())
    {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p).to_string_lossy().into_owned(),
        _ => path.to_owned(),
    }
}

fn dedup(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(diags.len());
    for d in diags {
        let key = (
            d.code.clone(),
            d.resource.clone(),
            d.path.clone(),
            d.message.clone(),
        );
        if seen.insert(key) {
            out.push(d);
        }
    }
    out
}

/// Sorted, de-duplicated strings.
pub(crate) fn sorted_set<I: IntoIterator<Item = String>>(it: I) -> Vec<String> {
    it.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
