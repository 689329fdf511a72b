//! Lints on one DestinationRule's traffic policies: locality failover (MR108),
//! outlier detection (MR110, MR111), TLS (MR118), subsets (MR119) and
//! connection pools (MR120).
//!
//! A DestinationRule has up to four levels of policy: the top-level
//! `trafficPolicy`, its `portLevelSettings`, each subset's `trafficPolicy` and
//! that one's `portLevelSettings`. Istio merges them field by field (a level
//! inherits what it does not set), which is how "is outlier detection in effect
//! here" is answered.

use super::index::is_cluster_local;
use super::{emit, Lint};
use crate::diag::Diagnostic;
use crate::host;
use crate::load::Resource;
use crate::model::{
    ClientTLSSettings, ConnectionPoolSettings, DestinationRule, LoadBalancerSettings, OptSliceExt,
    OutlierDetection, PortTrafficPolicy, TrafficPolicy,
};
use crate::yaml::{join_index, join_key};

/// One level of policy, with what it inherits.
struct Level<'a> {
    path: String,
    load_balancer: Option<&'a LoadBalancerSettings>,
    connection_pool: Option<&'a ConnectionPoolSettings>,
    outlier_detection: Option<&'a OutlierDetection>,
    tls: Option<&'a ClientTLSSettings>,
    /// Outlier detection set by an enclosing level that applies here.
    inherits_outlier_detection: bool,
}

impl<'a> Level<'a> {
    fn of_policy(path: String, tp: &'a TrafficPolicy, inherits: bool) -> Self {
        Level {
            path,
            load_balancer: tp.load_balancer.as_ref(),
            connection_pool: tp.connection_pool.as_ref(),
            outlier_detection: tp.outlier_detection.as_ref(),
            tls: tp.tls.as_ref(),
            inherits_outlier_detection: inherits,
        }
    }
    fn of_port(path: String, p: &'a PortTrafficPolicy, inherits: bool) -> Self {
        Level {
            path,
            load_balancer: p.load_balancer.as_ref(),
            connection_pool: p.connection_pool.as_ref(),
            outlier_detection: p.outlier_detection.as_ref(),
            tls: p.tls.as_ref(),
            inherits_outlier_detection: inherits,
        }
    }
}

fn port_has_od(ports: &[PortTrafficPolicy], port: Option<u32>) -> bool {
    ports.iter().any(|p| {
        p.outlier_detection.is_some()
            && port.is_some()
            && p.port.as_ref().and_then(|s| s.number) == port
    })
}

fn levels(dr: &DestinationRule) -> Vec<Level<'_>> {
    let mut out = Vec::new();
    let top = dr.traffic_policy.as_ref();
    let top_od = top.is_some_and(|t| t.outlier_detection.is_some());
    let top_ports = top.map(|t| t.port_level_settings.items()).unwrap_or(&[]);
    if let Some(tp) = top {
        let path = "spec.trafficPolicy".to_owned();
        for (k, p) in top_ports.iter().enumerate() {
            let ppath = join_index(&join_key(&path, "portLevelSettings"), k);
            out.push(Level::of_port(ppath, p, top_od));
        }
        out.insert(0, Level::of_policy(path, tp, false));
    }
    for (j, s) in dr.subsets.items().iter().enumerate() {
        let Some(tp) = &s.traffic_policy else {
            continue;
        };
        let path = join_key(&join_index("spec.subsets", j), "trafficPolicy");
        out.push(Level::of_policy(path.clone(), tp, top_od));
        let sub_od = top_od || tp.outlier_detection.is_some();
        for (k, p) in tp.port_level_settings.items().iter().enumerate() {
            let ppath = join_index(&join_key(&path, "portLevelSettings"), k);
            let port = p.port.as_ref().and_then(|s| s.number);
            out.push(Level::of_port(
                ppath,
                p,
                sub_od || port_has_od(top_ports, port),
            ));
        }
    }
    out
}

pub(super) fn check(r: &Resource, dr: &DestinationRule, ns: &str, out: &mut Vec<Diagnostic>) {
    let fqdn = host::to_fqdn(dr.host.as_deref().unwrap_or(""), ns);
    for level in levels(dr) {
        locality(r, &level, out);
        if let Some(od) = level.outlier_detection {
            outlier(r, od, &join_key(&level.path, "outlierDetection"), out);
        }
        if let Some(tls) = level.tls {
            tls_disabled(r, tls, &join_key(&level.path, "tls"), &fqdn, out);
        }
        if let Some(pool) = level.connection_pool {
            tiny_pool(r, pool, &join_key(&level.path, "connectionPool"), out);
        }
    }
    for (j, s) in dr.subsets.items().iter().enumerate() {
        if s.labels.as_ref().is_none_or(|l| l.is_empty()) {
            let name = s.name.as_deref().unwrap_or("");
            let h = dr.host.as_deref().unwrap_or("");
            emit(
                out,
                r,
                Lint::MR119,
                join_index("spec.subsets", j),
                format!(
                    "subset {name:?} has no labels: it selects every endpoint of {h}, so routing to it is the same as routing to the host"
                ),
            );
        }
    }
}

/// MR108: failover configured (or left to Istio's default) without outlier detection.
fn locality(r: &Resource, level: &Level<'_>, out: &mut Vec<Diagnostic>) {
    let Some(l) = level
        .load_balancer
        .and_then(|lb| lb.locality_lb_setting.as_ref())
    else {
        return;
    };
    // Disabled, or `distribute` (weights, which Istio applies without outlier detection).
    if l.enabled == Some(false) || !l.distribute.items().is_empty() {
        return;
    }
    if level.outlier_detection.is_some() || level.inherits_outlier_detection {
        return;
    }
    let what = if l.failover.items().is_empty() && l.failover_priority.items().is_empty() {
        "locality failover"
    } else {
        "the failover configured here"
    };
    emit(
        out,
        r,
        Lint::MR108,
        join_key(&join_key(&level.path, "loadBalancer"), "localityLbSetting"),
        format!(
            "localityLbSetting without outlierDetection: Istio only enables {what} when outlier detection is set, so Envoy never leaves the local locality while it has endpoints, healthy or not"
        ),
    );
}

/// MR110 and MR111.
fn outlier(r: &Resource, od: &OutlierDetection, path: &str, out: &mut Vec<Diagnostic>) {
    if od.max_ejection_percent.is_some_and(|p| p >= 100) && od.min_health_percent.unwrap_or(0) <= 0
    {
        emit(
            out,
            r,
            Lint::MR110,
            join_key(path, "maxEjectionPercent"),
            "maxEjectionPercent 100 with minHealthPercent 0 lets Envoy eject every host: when all are ejected, requests fail with 503 UH (no healthy upstream)".to_owned(),
        );
    }
    let thresholds = [
        (
            "consecutive5xxErrors",
            od.consecutive_5xx_errors.map(i64::from),
        ),
        (
            "consecutiveGatewayErrors",
            od.consecutive_gateway_errors.map(i64::from),
        ),
        ("consecutiveErrors", od.consecutive_errors.map(i64::from)),
    ];
    for (field, v) in thresholds {
        if let Some(n @ 1..=2) = v {
            emit(
                out,
                r,
                Lint::MR111,
                join_key(path, field),
                format!(
                    "{field}: {n} ejects a host after {n} consecutive error(s): ordinary blips eject healthy hosts and the pool flaps"
                ),
            );
        }
    }
}

/// MR118: tls.mode DISABLE to a host inside the cluster.
fn tls_disabled(
    r: &Resource,
    tls: &ClientTLSSettings,
    path: &str,
    fqdn: &str,
    out: &mut Vec<Diagnostic>,
) {
    if tls.mode.as_deref() != Some("DISABLE") || !is_cluster_local(fqdn) {
        return;
    }
    emit(
        out,
        r,
        Lint::MR118,
        join_key(path, "mode"),
        format!(
            "tls.mode DISABLE turns off Istio's automatic mTLS to {fqdn}: traffic is plaintext, and every request fails if a STRICT PeerAuthentication covers the destination (meshroute cannot see PeerAuthentications)"
        ),
    );
}

/// MR120: a connection pool limit of 1.
fn tiny_pool(r: &Resource, pool: &ConnectionPoolSettings, path: &str, out: &mut Vec<Diagnostic>) {
    let http = pool.http.as_ref();
    let limits = [
        (
            join_key(&join_key(path, "http"), "http1MaxPendingRequests"),
            "http1MaxPendingRequests",
            http.and_then(|h| h.http1_max_pending_requests),
            "only one request may wait for a connection",
        ),
        (
            join_key(&join_key(path, "http"), "http2MaxRequests"),
            "http2MaxRequests",
            http.and_then(|h| h.http2_max_requests),
            "only one request may be in flight to the whole host",
        ),
        (
            join_key(&join_key(path, "tcp"), "maxConnections"),
            "maxConnections",
            pool.tcp.as_ref().and_then(|t| t.max_connections),
            "only one connection may be open to the whole host",
        ),
    ];
    for (at, field, v, meaning) in limits {
        if v == Some(1) {
            emit(
                out,
                r,
                Lint::MR120,
                at,
                format!(
                    "{field}: 1 means {meaning}: the next concurrent request is rejected with 503 UO (overflow)"
                ),
            );
        }
    }
}
