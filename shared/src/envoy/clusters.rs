//! Clusters: one per (host, port) of every ServiceEntry and per DestinationRule subset, with
//! the DestinationRule's traffic policy applied like istiod's `cluster_builder.go` and
//! `cluster_traffic_policy.go`, plus endpoint-less clusters for destinations no ServiceEntry backs.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::cluster::cluster_name;
use crate::diag::Level;
use crate::load::Resource;
use crate::model::{
    ConnectionPoolSettings, LoadBalancerSettings, OptSliceExt, OutlierDetection, Subset,
};

use super::policy::{self, Policy};
use super::registry::{Endpoint, Resolution, SvcPort};
use super::{codes, duration, typed, Ctx};

/// Istio's mesh default `connectTimeout`.
const DEFAULT_CONNECT_TIMEOUT: &str = "10s";
/// Istio's mesh default `dnsRefreshRate`.
const DEFAULT_DNS_REFRESH_RATE: &str = "60s";
const HTTP_PROTOCOL_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// Upstream protocol selection of `HttpProtocolOptions`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum UpstreamProtocol {
    /// Not chosen yet: HTTP/1.1 if the options exist at all.
    #[default]
    Unset,
    /// `explicit_http_config.http2_protocol_options`.
    H2 { max_concurrent_streams: Option<u32> },
    /// `use_downstream_protocol_config`.
    Downstream,
}

/// The cluster's `envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, built up the way
/// istiod's `clusterWrapper.httpProtocolOptions` is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hpo {
    pub exists: bool,
    pub protocol: UpstreamProtocol,
    pub idle_timeout: Option<String>,
    pub max_requests_per_connection: Option<u32>,
    pub max_connection_duration: Option<String>,
    pub auto_sni: bool,
    pub auto_san_validation: bool,
}

impl Hpo {
    pub(crate) fn is_h2(&self) -> bool {
        matches!(self.protocol, UpstreamProtocol::H2 { .. })
    }

    fn set_h2(&mut self) {
        self.exists = true;
        self.protocol = UpstreamProtocol::H2 {
            max_concurrent_streams: None,
        };
    }

    fn to_value(&self) -> Option<Value> {
        if !(self.exists || self.auto_sni || self.auto_san_validation) {
            return None;
        }
        let mut m = Map::new();
        let mut common = Map::new();
        if let Some(t) = &self.idle_timeout {
            common.insert("idle_timeout".into(), json!(t));
        }
        if let Some(n) = self.max_requests_per_connection {
            common.insert("max_requests_per_connection".into(), json!(n));
        }
        if let Some(d) = &self.max_connection_duration {
            common.insert("max_connection_duration".into(), json!(d));
        }
        if !common.is_empty() {
            m.insert("common_http_protocol_options".into(), Value::Object(common));
        }
        if self.auto_sni || self.auto_san_validation {
            let mut u = Map::new();
            if self.auto_sni {
                u.insert("auto_sni".into(), json!(true));
            }
            if self.auto_san_validation {
                u.insert("auto_san_validation".into(), json!(true));
            }
            m.insert("upstream_http_protocol_options".into(), Value::Object(u));
        }
        match &self.protocol {
            UpstreamProtocol::Unset => {
                m.insert(
                    "explicit_http_config".into(),
                    json!({"http_protocol_options": {}}),
                );
            }
            UpstreamProtocol::H2 {
                max_concurrent_streams,
            } => {
                let h2 = match max_concurrent_streams {
                    Some(n) => json!({"max_concurrent_streams": n}),
                    None => json!({}),
                };
                m.insert(
                    "explicit_http_config".into(),
                    json!({"http2_protocol_options": h2}),
                );
            }
            UpstreamProtocol::Downstream => {
                m.insert(
                    "use_downstream_protocol_config".into(),
                    json!({"http_protocol_options": {}, "http2_protocol_options": {}}),
                );
            }
        }
        Some(json!({ HTTP_PROTOCOL_OPTIONS: typed(HTTP_PROTOCOL_OPTIONS, Value::Object(m)) }))
    }
}

/// Everything needed to build one cluster, owned so that building can report into `Ctx`.
struct Job<'a> {
    name: String,
    /// `None` for an endpoint-less cluster.
    resolution: Option<Resolution>,
    port: Option<SvcPort>,
    endpoints: Vec<Endpoint>,
    policy: Policy<'a>,
    dr: Option<&'a Resource>,
}

/// Builds every cluster, sorted by name.
pub(crate) fn build_clusters(ctx: &mut Ctx<'_>) -> Vec<Value> {
    let mut jobs: BTreeMap<String, Job<'_>> = BTreeMap::new();
    let proxy_ns = ctx.proxy_ns();
    let mut empty_subsets = Vec::new();
    for svc in &ctx.registry.services {
        let dr = ctx
            .drs
            .for_host(&svc.hostname, proxy_ns, Some(&svc.namespace));
        for port in &svc.ports {
            let name = cluster_name(port.number, None, &svc.hostname);
            let policy = dr
                .map(|(_, d)| policy::effective(d, port.number, None))
                .unwrap_or_default();
            jobs.entry(name.clone()).or_insert(Job {
                name,
                resolution: svc.resolution,
                port: Some(port.clone()),
                endpoints: svc.endpoints.clone(),
                policy,
                dr: dr.map(|(r, _)| r),
            });
            let Some((dr_res, d)) = dr else { continue };
            for (i, subset) in d.subsets.items().iter().enumerate() {
                let Some(sname) = subset.name.as_deref().filter(|n| !n.is_empty()) else {
                    continue;
                };
                let labels = subset.labels.clone().unwrap_or_default();
                let endpoints: Vec<Endpoint> = svc
                    .endpoints
                    .iter()
                    .filter(|e| e.selected_by(&labels))
                    .cloned()
                    .collect();
                if endpoints.is_empty() && !svc.endpoints.is_empty() {
                    empty_subsets.push((dr_res, i, sname.to_owned(), svc.hostname.clone()));
                }
                let name = cluster_name(port.number, Some(sname), &svc.hostname);
                jobs.entry(name.clone()).or_insert(Job {
                    name,
                    resolution: svc.resolution,
                    port: Some(port.clone()),
                    endpoints,
                    policy: policy::effective(d, port.number, Some((i, subset))),
                    dr: Some(dr_res),
                });
            }
        }
    }
    for (dr_res, i, sname, host) in empty_subsets {
        ctx.diag(
            dr_res,
            codes::MR202,
            Level::Warning,
            format!("spec.subsets[{i}].labels"),
            format!("subset {sname} selects no endpoint of {host}: its clusters have no endpoints (503)"),
        );
    }
    // Clusters rules name that no ServiceEntry provides.
    let refs: Vec<_> = ctx
        .refs
        .iter()
        .map(|(k, (r, p))| (k.clone(), *r, p.clone()))
        .collect();
    for (cref, r, path) in refs {
        let name = cref.name();
        if jobs.contains_key(&name) {
            continue;
        }
        let why = match ctx.registry.get(&cref.host) {
            None => {
                let short = cref.host.split('.').next().unwrap_or("");
                if short != cref.host && ctx.registry.get(short).is_some() {
                    format!(
                        "no ServiceEntry declares host {} (one declares {short}, but ServiceEntry hosts are taken as written: declare the FQDN)",
                        cref.host
                    )
                } else {
                    format!("no ServiceEntry declares host {}", cref.host)
                }
            }
            Some(svc) if svc.port(cref.port).is_none() => {
                format!("ServiceEntry for {} has no port {}", cref.host, cref.port)
            }
            Some(_) => format!(
                "no DestinationRule for {} defines subset {}",
                cref.host,
                cref.subset.as_deref().unwrap_or("")
            ),
        };
        ctx.diag(
            r,
            codes::MR202,
            Level::Warning,
            path,
            format!("{why}: cluster {name} is rendered without endpoints (Envoy answers 503)"),
        );
        let dr = ctx.drs.for_host(&cref.host, proxy_ns, None);
        let policy = match dr {
            Some((_, d)) => {
                let subset = cref.subset.as_deref().and_then(|s| {
                    d.subsets
                        .items()
                        .iter()
                        .enumerate()
                        .find(|(_, x): &(usize, &Subset)| x.name.as_deref() == Some(s))
                });
                policy::effective(d, cref.port, subset)
            }
            None => Policy::default(),
        };
        jobs.insert(
            name.clone(),
            Job {
                name,
                resolution: None,
                port: None,
                endpoints: Vec::new(),
                policy,
                dr: dr.map(|(r, _)| r),
            },
        );
    }
    jobs.into_values().map(|job| build(ctx, job)).collect()
}

fn build(ctx: &mut Ctx<'_>, job: Job<'_>) -> Value {
    let mut c = Map::new();
    c.insert("name".into(), json!(job.name));
    let resolution = job.resolution.filter(|_| !job.endpoints.is_empty());
    let cluster_type = resolution.map_or("STATIC", Resolution::envoy_type);
    c.insert("type".into(), json!(cluster_type));
    c.insert("connect_timeout".into(), json!(DEFAULT_CONNECT_TIMEOUT));

    let mut hpo = Hpo::default();
    // setUpstreamProtocol: HTTP2/GRPC ports talk h2.
    if job.port.as_ref().is_some_and(SvcPort::is_http2) {
        hpo.set_h2();
    }
    let dr = job.dr;

    // Connection pool (always applied, defaults when absent).
    let mut thresholds = Map::new();
    let max = u32::MAX;
    let (mut max_conn, mut max_pending, mut max_req, mut max_retries) = (max, max, max, max);
    let mut keepalive: Option<Value> = None;
    if let (Some((cp, path)), Some(dr)) = (&job.policy.connection_pool, dr) {
        apply_connection_pool(
            ctx,
            dr,
            cp,
            path,
            &mut c,
            &mut hpo,
            &mut keepalive,
            &mut [
                &mut max_conn,
                &mut max_pending,
                &mut max_req,
                &mut max_retries,
            ],
        );
    }
    thresholds.insert("max_connections".into(), json!(max_conn));
    thresholds.insert("max_pending_requests".into(), json!(max_pending));
    thresholds.insert("max_requests".into(), json!(max_req));
    thresholds.insert("max_retries".into(), json!(max_retries));
    thresholds.insert("track_remaining".into(), json!(true));

    // applyH2Upgrade: only an explicit UPGRADE (the mesh default is DO_NOT_UPGRADE).
    let upgrade = job
        .policy
        .connection_pool
        .as_ref()
        .and_then(|(cp, _)| cp.http.as_ref())
        .and_then(|h| h.h2_upgrade_policy.as_deref())
        == Some("UPGRADE");
    if upgrade {
        hpo.set_h2();
    }

    // Outlier detection.
    let mut common_lb = Map::new();
    let mut outlier = None;
    if let (Some((od, path)), Some(dr)) = (&job.policy.outlier, dr) {
        outlier = Some(outlier_detection(ctx, dr, od, path, &mut common_lb));
    }

    // Load balancer.
    let mut lb_policy = "LEAST_REQUEST";
    let mut lb_config: Option<(&str, Value)> = None;
    if let (Some((lb, path)), Some(dr)) = (&job.policy.lb, dr) {
        load_balancer(ctx, dr, lb, path, &mut lb_policy, &mut lb_config);
    }
    c.insert("lb_policy".into(), json!(lb_policy));
    if let Some((k, v)) = lb_config {
        c.insert(k.into(), v);
    }

    // Endpoints.
    c.insert(
        "load_assignment".into(),
        load_assignment(&job.name, job.port.as_ref(), &job.endpoints),
    );
    if matches!(
        resolution,
        Some(Resolution::Dns) | Some(Resolution::DnsRoundRobin)
    ) {
        c.insert("dns_lookup_family".into(), json!("V4_ONLY"));
        c.insert("dns_refresh_rate".into(), json!(DEFAULT_DNS_REFRESH_RATE));
        c.insert("respect_dns_ttl".into(), json!(true));
    }
    c.insert(
        "circuit_breakers".into(),
        json!({"thresholds": [Value::Object(thresholds)]}),
    );
    if let Some(od) = outlier {
        c.insert("outlier_detection".into(), od);
    }
    if !common_lb.is_empty() {
        c.insert("common_lb_config".into(), Value::Object(common_lb));
    }
    if let Some(ka) = keepalive {
        c.insert(
            "upstream_connection_options".into(),
            json!({"tcp_keepalive": ka}),
        );
    }

    // TLS (after the protocol is known: h2 clusters advertise ALPN h2).
    let mut socket = None;
    if let (Some((tls, path)), Some(dr)) = (&job.policy.tls, dr) {
        socket = super::tls::upstream(ctx, dr, tls, path, &mut hpo);
    }
    if let (Some((pp, path)), Some(dr)) = (&job.policy.proxy_protocol, dr) {
        let version = match pp.version.as_deref() {
            None | Some("V1") => "V1",
            Some("V2") => "V2",
            Some(other) => {
                ctx.diag(
                    dr,
                    codes::MR203,
                    Level::Warning,
                    format!("{path}.version"),
                    format!("unknown PROXY protocol version {other}: V1 used"),
                );
                "V1"
            }
        };
        let inner = socket.take().unwrap_or_else(|| {
            json!({"name": "envoy.transport_sockets.raw_buffer",
                   "typed_config": typed("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer", json!({}))})
        });
        socket = Some(json!({
            "name": "envoy.transport_sockets.upstream_proxy_protocol",
            "typed_config": typed(
                "envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
                json!({"config": {"version": version}, "transport_socket": inner})
            ),
        }));
    }
    if let (Some((_, path)), Some(dr)) = (&job.policy.tunnel, dr) {
        ctx.diag(
            dr,
            codes::MR203,
            Level::Info,
            path.clone(),
            "tunnel settings (HTTP CONNECT origination) are not rendered",
        );
    }
    if let Some(opts) = hpo.to_value() {
        c.insert("typed_extension_protocol_options".into(), opts);
    }
    if let Some(s) = socket {
        c.insert("transport_socket".into(), s);
    }
    Value::Object(c)
}

#[allow(clippy::too_many_arguments)]
fn apply_connection_pool(
    ctx: &mut Ctx<'_>,
    dr: &Resource,
    cp: &ConnectionPoolSettings,
    path: &str,
    c: &mut Map<String, Value>,
    hpo: &mut Hpo,
    keepalive: &mut Option<Value>,
    limits: &mut [&mut u32; 4],
) {
    let positive = |v: Option<i32>| v.filter(|n| *n > 0).map(|n| n as u32);
    let mut idle = None;
    let mut max_per_conn = None;
    let mut max_streams = None;
    let mut max_duration = None;
    if let Some(http) = &cp.http {
        let hp = format!("{path}.http");
        if let Some(n) = positive(http.http2_max_requests) {
            *limits[2] = n;
        }
        if let Some(n) = positive(http.http1_max_pending_requests) {
            *limits[1] = n;
        }
        if let Some(n) = positive(http.max_retries) {
            *limits[3] = n;
        }
        if let Some(t) = &http.idle_timeout {
            idle = duration(ctx, dr, &format!("{hp}.idleTimeout"), t);
        }
        max_per_conn = positive(http.max_requests_per_connection);
        max_streams = positive(http.max_concurrent_streams);
        if http.http2_keep_alive.is_some() {
            ctx.diag(
                dr,
                codes::MR203,
                Level::Info,
                format!("{hp}.http2KeepAlive"),
                "http2KeepAlive is not rendered",
            );
        }
    }
    if let Some(tcp) = &cp.tcp {
        let tp = format!("{path}.tcp");
        if let Some(t) = &tcp.connect_timeout {
            if let Some(d) = duration(ctx, dr, &format!("{tp}.connectTimeout"), t) {
                c.insert("connect_timeout".into(), json!(d));
            }
        }
        if let Some(n) = positive(tcp.max_connections) {
            *limits[0] = n;
        }
        if let Some(t) = &tcp.max_connection_duration {
            max_duration = duration(ctx, dr, &format!("{tp}.maxConnectionDuration"), t);
        }
        if idle.is_none() {
            if let Some(t) = &tcp.idle_timeout {
                idle = duration(ctx, dr, &format!("{tp}.idleTimeout"), t);
            }
        }
        if let Some(ka) = &tcp.tcp_keepalive {
            let mut k = Map::new();
            if let Some(p) = ka.probes.filter(|p| *p > 0) {
                k.insert("keepalive_probes".into(), json!(p));
            }
            if let Some(t) = &ka.time {
                if let Ok(d) = crate::duration::parse_duration(t) {
                    k.insert("keepalive_time".into(), json!(d.as_secs()));
                }
            }
            if let Some(t) = &ka.interval {
                if let Ok(d) = crate::duration::parse_duration(t) {
                    k.insert("keepalive_interval".into(), json!(d.as_secs()));
                }
            }
            *keepalive = Some(Value::Object(k));
        }
    }
    if idle.is_some() || max_per_conn.is_some() || max_streams.is_some() || max_duration.is_some() {
        hpo.exists = true;
        hpo.idle_timeout = idle;
        hpo.max_requests_per_connection = max_per_conn;
        hpo.max_connection_duration = max_duration;
        if let UpstreamProtocol::H2 {
            max_concurrent_streams,
        } = &mut hpo.protocol
        {
            if max_streams.is_some() {
                *max_concurrent_streams = max_streams;
            }
        }
    }
    if cp.http.as_ref().and_then(|h| h.use_client_protocol) == Some(true) {
        hpo.exists = true;
        hpo.protocol = UpstreamProtocol::Downstream;
    }
}

fn outlier_detection(
    ctx: &mut Ctx<'_>,
    dr: &Resource,
    od: &OutlierDetection,
    path: &str,
    common_lb: &mut Map<String, Value>,
) -> Value {
    let mut o = Map::new();
    // Success-rate ejection is off in Istio.
    o.insert("enforcing_success_rate".into(), json!(0));
    if let Some(v) = od.consecutive_5xx_errors {
        o.insert("consecutive_5xx".into(), json!(v));
        o.insert(
            "enforcing_consecutive_5xx".into(),
            json!(if v > 0 { 100 } else { 0 }),
        );
    }
    if let Some(v) = od.consecutive_gateway_errors {
        o.insert("consecutive_gateway_failure".into(), json!(v));
        o.insert(
            "enforcing_consecutive_gateway_failure".into(),
            json!(if v > 0 { 100 } else { 0 }),
        );
    }
    if let Some(t) = &od.interval {
        if let Some(d) = duration(ctx, dr, &format!("{path}.interval"), t) {
            o.insert("interval".into(), json!(d));
        }
    }
    if let Some(t) = &od.base_ejection_time {
        if let Some(d) = duration(ctx, dr, &format!("{path}.baseEjectionTime"), t) {
            o.insert("base_ejection_time".into(), json!(d));
        }
    }
    if let Some(p) = od.max_ejection_percent.filter(|p| *p > 0) {
        o.insert("max_ejection_percent".into(), json!(p));
    }
    if od.split_external_local_origin_errors == Some(true) {
        o.insert("split_external_local_origin_errors".into(), json!(true));
        if let Some(n) = od.consecutive_local_origin_failures.filter(|n| *n > 0) {
            o.insert("consecutive_local_origin_failure".into(), json!(n));
            o.insert(
                "enforcing_consecutive_local_origin_failure".into(),
                json!(100),
            );
        }
        o.insert("enforcing_local_origin_success_rate".into(), json!(0));
    }
    if od.consecutive_errors.is_some() {
        ctx.diag(
            dr,
            codes::MR203,
            Level::Info,
            format!("{path}.consecutiveErrors"),
            "deprecated consecutiveErrors is ignored (as by current Istio): use consecutive5xxErrors or consecutiveGatewayErrors",
        );
    }
    if od.outlier_detection_http_error_codes.is_some() {
        ctx.diag(
            dr,
            codes::MR203,
            Level::Info,
            format!("{path}.outlierDetectionHttpErrorCodes"),
            "outlierDetectionHttpErrorCodes is not rendered",
        );
    }
    // Istio disables the panic threshold unless minHealthPercent says otherwise.
    let min_health = od.min_health_percent.unwrap_or(0);
    if min_health >= 0 {
        common_lb.insert(
            "healthy_panic_threshold".into(),
            json!({"value": min_health}),
        );
    }
    Value::Object(o)
}

fn load_balancer<'v>(
    ctx: &mut Ctx<'_>,
    dr: &Resource,
    lb: &LoadBalancerSettings,
    path: &str,
    lb_policy: &mut &'v str,
    lb_config: &mut Option<(&'v str, Value)>,
) {
    let slow_start = |ctx: &mut Ctx<'_>| -> Option<Value> {
        let w = lb.warmup_duration_secs.as_deref()?;
        let d = duration(ctx, dr, &format!("{path}.warmupDurationSecs"), w)?;
        Some(json!({"slow_start_config": {"slow_start_window": d}}))
    };
    match lb.simple.as_deref() {
        Some("RANDOM") => *lb_policy = "RANDOM",
        Some("ROUND_ROBIN") => {
            *lb_policy = "ROUND_ROBIN";
            *lb_config = slow_start(ctx).map(|v| ("round_robin_lb_config", v));
        }
        Some("PASSTHROUGH") => {
            ctx.diag(
                dr,
                codes::MR203,
                Level::Warning,
                format!("{path}.simple"),
                "PASSTHROUGH forwards to the address the client dialled (an ORIGINAL_DST cluster), which a standalone Envoy listener does not have: LEAST_REQUEST over the endpoints is rendered instead",
            );
            *lb_policy = "LEAST_REQUEST";
        }
        _ => {
            // LEAST_REQUEST, LEAST_CONN, UNSPECIFIED and Istio's default.
            *lb_policy = "LEAST_REQUEST";
            *lb_config = slow_start(ctx).map(|v| ("least_request_lb_config", v));
        }
    }
    if let Some(ch) = &lb.consistent_hash {
        if let Some(m) = &ch.maglev {
            *lb_policy = "MAGLEV";
            *lb_config = m
                .table_size
                .filter(|t| *t != 0)
                .map(|t| ("maglev_lb_config", json!({"table_size": t})));
        } else if let Some(r) = &ch.ring_hash {
            *lb_policy = "RING_HASH";
            *lb_config = r
                .minimum_ring_size
                .filter(|t| *t != 0)
                .map(|t| ("ring_hash_lb_config", json!({"minimum_ring_size": t})));
        } else {
            *lb_policy = "RING_HASH";
            let size = ch.minimum_ring_size.filter(|t| *t != 0).unwrap_or(1024);
            *lb_config = Some(("ring_hash_lb_config", json!({"minimum_ring_size": size})));
        }
    }
    for (field, set) in [
        ("localityLbSetting", lb.locality_lb_setting.is_some()),
        ("warmup", lb.warmup.is_some()),
        ("backendUtilization", lb.backend_utilization.is_some()),
        ("zoneAwareLbSetting", lb.zone_aware_lb_setting.is_some()),
    ] {
        if set {
            ctx.diag(
                dr,
                codes::MR203,
                Level::Info,
                format!("{path}.{field}"),
                format!("{field} is not rendered (the rendered Envoy has no locality of its own)"),
            );
        }
    }
}

fn load_assignment(name: &str, port: Option<&SvcPort>, endpoints: &[Endpoint]) -> Value {
    let mut by_locality: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    if let Some(port) = port {
        for ep in endpoints {
            let address = match ep.address.strip_prefix("unix://") {
                Some(path) => json!({"pipe": {"path": path}}),
                None => super::socket_address(&ep.address, ep.port_for(port)),
            };
            let mut lb = Map::new();
            lb.insert("endpoint".into(), json!({"address": address}));
            if let Some(w) = ep.weight.filter(|w| *w > 0) {
                lb.insert("load_balancing_weight".into(), json!(w));
            }
            by_locality
                .entry(ep.locality.clone().unwrap_or_default())
                .or_default()
                .push(Value::Object(lb));
        }
    }
    let groups: Vec<Value> = by_locality
        .into_iter()
        .map(|(loc, lbs)| {
            let mut g = Map::new();
            if !loc.is_empty() {
                let mut parts = loc.splitn(3, '/');
                let mut l = Map::new();
                for key in ["region", "zone", "sub_zone"] {
                    if let Some(p) = parts.next().filter(|p| !p.is_empty()) {
                        l.insert(key.into(), json!(p));
                    }
                }
                g.insert("locality".into(), Value::Object(l));
            }
            g.insert("lb_endpoints".into(), Value::Array(lbs));
            Value::Object(g)
        })
        .collect();
    json!({"cluster_name": name, "endpoints": groups})
}
