//! Validation of DestinationRules, as Istio's `ValidateDestinationRule` does it
//! (`pkg/config/validation/validation.go`, `agent.ValidateTLS`,
//! `agent.ValidateLocalityLbSetting`), plus the rules the v1 CRD schema enforces
//! (oneofs, enums, ranges, CEL duration rules).
//!
//! Messages are Istio's where Istio has one. Warnings (IST0133) are given where Istio
//! warns, and for settings Istio accepts but that cannot have an effect.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::common;
use super::net::is_prime;
use super::Report;
use crate::model::{
    ClientTLSSettings, ConnectionPoolSettings, ConsistentHashLB, DestinationRule,
    LoadBalancerSettings, LocalityFailover, LocalityLoadBalancerSetting, OptSliceExt,
    OutlierDetection, TrafficPolicy, ZoneAwareLoadBalancerSetting, CLIENT_TLS_MODES,
    H2_UPGRADE_POLICIES, PROXY_PROTOCOL_VERSIONS, SIMPLE_LB_ALGORITHMS,
};
use crate::yaml::{join_index, join_key};

/// Node labels that carry the locality; they conflict with explicit `failover`.
const TOPOLOGY_LABELS: &[&str] = &[
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
];

/// Maglev table sizes must stay below this (Envoy's limit).
const MAGLEV_MAX_TABLE_SIZE: u64 = 5_000_011;

pub(super) fn validate(spec: &DestinationRule, report: &mut Report<'_>) {
    let res = report.resource();
    let ns = res.namespace_or("default");

    let host = spec.host.as_deref().unwrap_or("");
    if let Err(e) = common::validate_wildcard_domain(host) {
        report.error("spec.host", e);
    }

    if let Some(tp) = &spec.traffic_policy {
        traffic_policy(tp, "spec.trafficPolicy", ns, report);
    }

    let mut names: HashSet<&str> = HashSet::new();
    for (i, subset) in spec.subsets.items().iter().enumerate() {
        let path = join_index("spec.subsets", i);
        let name = subset.name.as_deref().unwrap_or("");
        let name_path = join_key(&path, "name");
        if !names.insert(name) {
            report.error(&name_path, format!("duplicate subset names: {name}"));
        }
        if let Err(e) = common::validate_subset_name(name) {
            report.error(&name_path, e);
        }
        if let Some(labels) = &subset.labels {
            let labels_path = join_key(&path, "labels");
            for (key, msg) in common::validate_labels(labels) {
                report.error(join_key(&labels_path, &key), msg);
            }
        }
        if let Some(tp) = &subset.traffic_policy {
            traffic_policy(tp, &join_key(&path, "trafficPolicy"), ns, report);
        }
    }

    if let Some(export_to) = &spec.export_to {
        let has_selector = spec.workload_selector.is_some();
        for (idx, msg) in common::validate_export_to(ns, export_to, false, has_selector) {
            let path = idx.map_or_else(
                || "spec.exportTo".to_owned(),
                |i| join_index("spec.exportTo", i),
            );
            report.error(path, msg);
        }
    }

    if let Some(ws) = &spec.workload_selector {
        let base = "spec.workloadSelector";
        let labels_path = join_key(base, "matchLabels");
        let labels = ws.match_labels.as_ref();
        for (k, v) in labels.into_iter().flatten() {
            let path = join_key(&labels_path, k);
            if k.is_empty() {
                report.error(
                    &path,
                    format!(
                        "empty key is not supported in selector: {:?}",
                        format!("{k}={v}")
                    ),
                );
            }
            if k.contains('*') || v.contains('*') {
                report.error(
                    &path,
                    format!(
                        "wildcard is not supported in selector: {:?}",
                        format!("{k}={v}")
                    ),
                );
            }
            if v.len() > common::DNS1123_LABEL_MAX_LENGTH {
                report.error(
                    &path,
                    format!("label value {v:?} is longer than 63 characters"),
                );
            }
        }
        if labels.is_none_or(|l| l.is_empty()) {
            report.warning(base, "workload selector specified without labels");
        }
    }
}

/// The parts a `TrafficPolicy` and a `PortTrafficPolicy` share.
struct Parts<'a> {
    load_balancer: Option<&'a LoadBalancerSettings>,
    connection_pool: Option<&'a ConnectionPoolSettings>,
    outlier_detection: Option<&'a OutlierDetection>,
    tls: Option<&'a ClientTLSSettings>,
}

impl Parts<'_> {
    fn is_empty(&self) -> bool {
        self.load_balancer.is_none()
            && self.connection_pool.is_none()
            && self.outlier_detection.is_none()
            && self.tls.is_none()
    }

    fn validate(&self, path: &str, ns: &str, report: &mut Report<'_>) {
        if let Some(od) = self.outlier_detection {
            outlier_detection(od, &join_key(path, "outlierDetection"), report);
        }
        if let Some(cp) = self.connection_pool {
            connection_pool(cp, &join_key(path, "connectionPool"), report);
        }
        if let Some(lb) = self.load_balancer {
            load_balancer(
                lb,
                self.outlier_detection,
                &join_key(path, "loadBalancer"),
                report,
            );
        }
        if let Some(tls) = self.tls {
            client_tls(tls, &join_key(path, "tls"), ns, report);
        }
    }
}

/// Istio's `validateTrafficPolicy`.
fn traffic_policy(tp: &TrafficPolicy, path: &str, ns: &str, report: &mut Report<'_>) {
    let parts = Parts {
        load_balancer: tp.load_balancer.as_ref(),
        connection_pool: tp.connection_pool.as_ref(),
        outlier_detection: tp.outlier_detection.as_ref(),
        tls: tp.tls.as_ref(),
    };
    let port_level = tp.port_level_settings.items();
    if parts.is_empty()
        && port_level.is_empty()
        && tp.tunnel.is_none()
        && tp.proxy_protocol.is_none()
        && tp.retry_budget.is_none()
    {
        report.error(path, "traffic policy must have at least one field");
        return;
    }
    if tp.tunnel.is_some() && tp.proxy_protocol.is_some() {
        report.error(path, "tunnel and proxyProtocol must not be set together");
    }
    parts.validate(path, ns, report);

    let pls_path = join_key(path, "portLevelSettings");
    let mut seen_ports: BTreeMap<u32, usize> = BTreeMap::new();
    for (j, p) in port_level.iter().enumerate() {
        let pp = join_index(&pls_path, j);
        match p.port.as_ref().map(|port| port.number) {
            None => report.error(&pp, "portTrafficPolicy must have valid port"),
            Some(None) | Some(Some(0)) => report.warning(
                join_key(&pp, "port"),
                "port number is not set: this setting applies to no port",
            ),
            Some(Some(n)) => {
                let number_path = join_key(&join_key(&pp, "port"), "number");
                if n > 65535 {
                    report.warning(
                        &number_path,
                        format!(
                            "port number {n} is outside 1..65535: this setting applies to no port"
                        ),
                    );
                }
                if let Some(first) = seen_ports.get(&n) {
                    report.warning(
                        &number_path,
                        format!(
                            "duplicate port number {n} in portLevelSettings (also portLevelSettings[{first}]): only one of them applies"
                        ),
                    );
                } else {
                    seen_ports.insert(n, j);
                }
            }
        }
        let parts = Parts {
            load_balancer: p.load_balancer.as_ref(),
            connection_pool: p.connection_pool.as_ref(),
            outlier_detection: p.outlier_detection.as_ref(),
            tls: p.tls.as_ref(),
        };
        if parts.is_empty() {
            report.error(&pp, "port traffic policy must have at least one field");
        } else {
            parts.validate(&pp, ns, report);
        }
    }

    if let Some(tunnel) = &tp.tunnel {
        let tpath = join_key(path, "tunnel");
        if let Some(proto) = tunnel.protocol.as_deref() {
            if !proto.is_empty() && proto != "CONNECT" && proto != "POST" {
                report.error(
                    join_key(&tpath, "protocol"),
                    "tunnel protocol must be \"CONNECT\" or \"POST\"",
                );
            }
        }
        let target = tunnel.target_host.as_deref().unwrap_or("");
        if let (Err(fqdn), Err(ip)) = (
            common::validate_fqdn(target),
            common::validate_ip_address(target),
        ) {
            report.error(
                join_key(&tpath, "targetHost"),
                format!("tunnel target host must be valid FQDN or IP address: {fqdn}; {ip}"),
            );
        }
        let port = tunnel.target_port.unwrap_or(0);
        if let Err(e) = common::validate_port(i64::from(port)) {
            report.error(
                join_key(&tpath, "targetPort"),
                format!("tunnel target port is invalid: {e}"),
            );
        }
    }

    if let Some(pp) = &tp.proxy_protocol {
        if let Some(v) = pp.version.as_deref() {
            if !PROXY_PROTOCOL_VERSIONS.contains(&v) {
                report.error(
                    join_key(&join_key(path, "proxyProtocol"), "version"),
                    format!("proxy protocol version is invalid: {v:?}; valid versions are V1, V2"),
                );
            }
        }
    }

    if let Some(rb) = &tp.retry_budget {
        let rpath = join_key(path, "retryBudget");
        if let Some(p) = rb.percent {
            if !(0.0..=100.0).contains(&p) {
                report.error(
                    join_key(&rpath, "percent"),
                    format!(
                        "retry budget percent {} is not in range 0..100",
                        common::go_float(p)
                    ),
                );
            }
        }
        duration(
            &rb.budget_interval,
            &join_key(&rpath, "budgetInterval"),
            report,
        );
    }
}

/// Reports Istio's `ValidateDuration` problems (at least 1ms, ms precision).
fn duration(value: &Option<String>, path: &str, report: &mut Report<'_>) {
    if let Some(s) = value {
        if let Err(e) = common::validate_duration(s) {
            report.error(path, e);
        }
    }
}

/// Reports a negative count.
fn non_negative(value: Option<i32>, path: &str, what: &str, report: &mut Report<'_>) {
    if value.is_some_and(|v| v < 0) {
        report.error(path, format!("{what} must be non-negative"));
    }
}

/// Istio's `validateOutlierDetection`.
fn outlier_detection(od: &OutlierDetection, path: &str, report: &mut Report<'_>) {
    duration(
        &od.base_ejection_time,
        &join_key(path, "baseEjectionTime"),
        report,
    );
    if od.consecutive_errors.is_some_and(|n| n != 0) {
        report.warning(
            join_key(path, "consecutiveErrors"),
            "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead",
        );
    }
    if !od.split_external_local_origin_errors.unwrap_or(false)
        && od.consecutive_local_origin_failures.unwrap_or(0) > 0
    {
        report.error(
            join_key(path, "consecutiveLocalOriginFailures"),
            "outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false",
        );
    }
    duration(&od.interval, &join_key(path, "interval"), report);
    for (value, key) in [
        (od.max_ejection_percent, "maxEjectionPercent"),
        (od.min_health_percent, "minHealthPercent"),
    ] {
        if let Some(v) = value {
            if let Err(e) = common::validate_percent(i64::from(v)) {
                report.error(join_key(path, key), e);
            }
        }
    }
    let codes_path = join_key(path, "outlierDetectionHttpErrorCodes");
    for (k, code) in od
        .outlier_detection_http_error_codes
        .items()
        .iter()
        .enumerate()
    {
        if !(100..=599).contains(code) {
            report.error(
                join_index(&codes_path, k),
                format!("HTTP status code {code} must be in the range 100..599"),
            );
        }
    }
}

/// Istio's `validateConnectionPool`.
fn connection_pool(cp: &ConnectionPoolSettings, path: &str, report: &mut Report<'_>) {
    if cp.http.is_none() && cp.tcp.is_none() {
        report.error(path, "connection pool must have at least one field");
        return;
    }
    if let Some(h) = &cp.http {
        let hp = join_key(path, "http");
        let at = |key: &str| join_key(&hp, key);
        non_negative(
            h.http1_max_pending_requests,
            &at("http1MaxPendingRequests"),
            "http1 max pending requests",
            report,
        );
        non_negative(
            h.http2_max_requests,
            &at("http2MaxRequests"),
            "http2 max requests",
            report,
        );
        non_negative(
            h.max_requests_per_connection,
            &at("maxRequestsPerConnection"),
            "max requests per connection",
            report,
        );
        non_negative(h.max_retries, &at("maxRetries"), "max retries", report);
        duration(&h.idle_timeout, &at("idleTimeout"), report);
        if let Some(policy) = h.h2_upgrade_policy.as_deref() {
            if !H2_UPGRADE_POLICIES.contains(&policy) {
                report.error(
                    at("h2UpgradePolicy"),
                    format!(
                        "unsupported h2UpgradePolicy {policy:?}; valid values are {}",
                        H2_UPGRADE_POLICIES.join(", ")
                    ),
                );
            }
            if policy == "UPGRADE" && h.use_client_protocol == Some(true) {
                report.error(
                    at("useClientProtocol"),
                    "use client protocol must not be true when H2UpgradePolicy is UPGRADE",
                );
            }
        }
        non_negative(
            h.max_concurrent_streams,
            &at("maxConcurrentStreams"),
            "max concurrent streams",
            report,
        );
        if let Some(ka) = &h.http2_keep_alive {
            let kp = at("http2KeepAlive");
            for (value, key) in [(&ka.interval, "interval"), (&ka.timeout, "timeout")] {
                match value {
                    None => report.error(&kp, format!("http2KeepAlive {key} is required")),
                    Some(_) => duration(value, &join_key(&kp, key), report),
                }
            }
        }
    }
    if let Some(t) = &cp.tcp {
        let tp = join_key(path, "tcp");
        let at = |key: &str| join_key(&tp, key);
        non_negative(
            t.max_connections,
            &at("maxConnections"),
            "max connections",
            report,
        );
        duration(&t.connect_timeout, &at("connectTimeout"), report);
        duration(
            &t.max_connection_duration,
            &at("maxConnectionDuration"),
            report,
        );
        if let Some(idle) = &t.idle_timeout {
            // 0s (below 1ms once truncated) disables the timeout and is not checked.
            match common::parse_duration(idle) {
                Err(e) => report.error(at("idleTimeout"), e),
                Ok(d) if d.as_millis() == 0 => {}
                Ok(_) => duration(&t.idle_timeout, &at("idleTimeout"), report),
            }
        }
        if let Some(ka) = &t.tcp_keepalive {
            let kp = at("tcpKeepalive");
            duration(&ka.time, &join_key(&kp, "time"), report);
            duration(&ka.interval, &join_key(&kp, "interval"), report);
        }
    }
}

/// Names of the oneof alternatives that are set.
fn set_fields<'a>(fields: &[(&'a str, bool)]) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect()
}

/// Istio's `validateLoadBalancer`, plus the CRD's oneof rules.
fn load_balancer(
    lb: &LoadBalancerSettings,
    outlier: Option<&OutlierDetection>,
    path: &str,
    report: &mut Report<'_>,
) {
    let algorithms = set_fields(&[
        ("simple", lb.simple.is_some()),
        ("consistentHash", lb.consistent_hash.is_some()),
        ("backendUtilization", lb.backend_utilization.is_some()),
    ]);
    if algorithms.len() > 1 {
        report.error(
            path,
            format!(
                "only one of simple, consistentHash or backendUtilization can be set, found {}",
                algorithms.join(", ")
            ),
        );
    }
    if let Some(simple) = lb.simple.as_deref() {
        if !SIMPLE_LB_ALGORITHMS.contains(&simple) {
            report.error(
                join_key(path, "simple"),
                format!(
                    "unsupported load balancer algorithm {simple:?}; valid values are {}",
                    SIMPLE_LB_ALGORITHMS.join(", ")
                ),
            );
        }
    }
    if let Some(ch) = &lb.consistent_hash {
        consistent_hash(ch, &join_key(path, "consistentHash"), report);
    }
    if let Some(bu) = &lb.backend_utilization {
        let bp = join_key(path, "backendUtilization");
        for (value, key) in [
            (&bu.weight_expiration_period, "weightExpirationPeriod"),
            (&bu.weight_update_period, "weightUpdatePeriod"),
            (&bu.weight_stabilization_period, "weightStabilizationPeriod"),
        ] {
            if let Some(s) = value {
                if let Err(e) = common::parse_duration(s) {
                    report.error(join_key(&bp, key), e);
                }
            }
        }
    }

    if lb.locality_lb_setting.is_some() && lb.zone_aware_lb_setting.is_some() {
        report.error(
            path,
            "only one of localityLbSetting or zoneAwareLbSetting can be set",
        );
    }
    if let Some(l) = &lb.locality_lb_setting {
        locality_lb(l, outlier, &join_key(path, "localityLbSetting"), report);
    }
    if let Some(z) = &lb.zone_aware_lb_setting {
        zone_aware_lb(z, outlier, &join_key(path, "zoneAwareLbSetting"), report);
    }

    if let Some(s) = &lb.warmup_duration_secs {
        let wp = join_key(path, "warmupDurationSecs");
        match common::parse_duration(s) {
            Err(e) => report.error(wp, e),
            Ok(d) if d < std::time::Duration::from_millis(1) => {
                report.error(wp, "must be a valid duration greater than 1ms")
            }
            Ok(_) => {}
        }
    }
    if let Some(warm) = &lb.warmup {
        let wp = join_key(path, "warmup");
        match &warm.duration {
            None => report.error(&wp, "duration is required"),
            Some(_) => duration(&warm.duration, &join_key(&wp, "duration"), report),
        }
        if let Some(p) = warm.minimum_percent {
            if p > 100.0 {
                report.error(
                    join_key(&wp, "minimumPercent"),
                    "minimumPercent value should be less than or equal to 100",
                );
            } else if p < 0.0 {
                report.error(
                    join_key(&wp, "minimumPercent"),
                    "minimumPercent value should be greater than or equal to 0",
                );
            }
        }
        if warm.aggression.is_some_and(|a| a < 1.0) {
            report.error(
                join_key(&wp, "aggression"),
                "aggression should be greater than or equal to 1",
            );
        }
    }
}

/// The consistent-hash part of `validateLoadBalancer`, plus the CRD's oneofs.
fn consistent_hash(ch: &ConsistentHashLB, path: &str, report: &mut Report<'_>) {
    let keys = set_fields(&[
        ("httpHeaderName", ch.http_header_name.is_some()),
        ("httpCookie", ch.http_cookie.is_some()),
        ("useSourceIp", ch.use_source_ip.is_some()),
        (
            "httpQueryParameterName",
            ch.http_query_parameter_name.is_some(),
        ),
    ]);
    if keys.len() > 1 {
        report.error(
            path,
            format!(
                "only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName can be set, found {}",
                keys.join(", ")
            ),
        );
    }
    if ch.ring_hash.is_some() && ch.maglev.is_some() {
        report.error(path, "only one of ringHash or maglev can be set");
    }
    for (value, key) in [
        (&ch.http_header_name, "httpHeaderName"),
        (&ch.http_query_parameter_name, "httpQueryParameterName"),
    ] {
        if value.as_deref() == Some("") {
            report.warning(
                join_key(path, key),
                format!("{key} is empty: Envoy rejects an empty hash key name"),
            );
        }
    }
    if let Some(cookie) = &ch.http_cookie {
        let cp = join_key(path, "httpCookie");
        if cookie.name.as_deref().unwrap_or("").is_empty() {
            report.error(join_key(&cp, "name"), "name required for HttpCookie");
        }
        if let Some(ttl) = &cookie.ttl {
            if let Err(e) = common::parse_duration(ttl) {
                report.error(join_key(&cp, "ttl"), e);
            }
        }
        let ap = join_key(&cp, "attributes");
        for (k, attr) in cookie.attributes.items().iter().enumerate() {
            if attr.name.as_deref().unwrap_or("").is_empty() {
                report.error(
                    join_key(&join_index(&ap, k), "name"),
                    "name required for HttpCookie attribute",
                );
            }
        }
    }
    if ch.minimum_ring_size.is_some_and(|n| n != 0) {
        let mp = join_key(path, "minimumRingSize");
        report.warning(
            &mp,
            "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
        );
        if ch.ring_hash.is_some() || ch.maglev.is_some() {
            report.error(
                &mp,
                "only one of MinimumRingSize or Maglev/Ringhash can be specified",
            );
        }
    }
    if let Some(ml) = &ch.maglev {
        let tp = join_key(&join_key(path, "maglev"), "tableSize");
        let size = ml.table_size.unwrap_or(0);
        if size == 0 {
            report.error(&tp, "tableSize must be set for maglev");
        } else {
            if size >= MAGLEV_MAX_TABLE_SIZE {
                report.error(&tp, "tableSize must be less than 5000011 for maglev");
            }
            if !is_prime(size) {
                report.error(&tp, "tableSize must be a prime number for maglev");
            }
        }
    }
}

/// Istio's `ValidateLocalityLbSetting` (it stops at the first structural problem).
fn locality_lb(
    l: &LocalityLoadBalancerSetting,
    outlier: Option<&OutlierDetection>,
    path: &str,
    report: &mut Report<'_>,
) {
    let distribute = l.distribute.items();
    let failover = l.failover.items();
    let priority = l.failover_priority.items();
    if !distribute.is_empty() && !failover.is_empty() {
        report.error(
            path,
            "can not simultaneously specify 'distribute' and 'failover'",
        );
        return;
    }
    if topology_conflict(failover, priority, path, report) {
        return;
    }

    let dpath = join_key(path, "distribute");
    let mut sources: Vec<&str> = Vec::new();
    for (d, dist) in distribute.iter().enumerate() {
        let dp = join_index(&dpath, d);
        sources.push(dist.from.as_deref().unwrap_or(""));
        let to_path = join_key(&dp, "to");
        let to = dist.to.as_ref();
        let mut total: u64 = 0;
        for (loc, weight) in to.into_iter().flatten() {
            if *weight == 0 || *weight > 100 {
                report.error(
                    join_key(&to_path, loc),
                    "locality weight must be in range [1, 100]",
                );
                return;
            }
            total += u64::from(*weight);
        }
        if total != 100 {
            report.error(&to_path, format!("total locality weight {total} != 100"));
            return;
        }
        let dests: Vec<&str> = to.into_iter().flatten().map(|(k, _)| k.as_str()).collect();
        if let Err(e) = validate_localities(&dests) {
            report.error(&to_path, e);
        }
    }
    if let Err(e) = validate_localities(&sources) {
        report.error(&dpath, e);
    }

    failover_needs_outlier(failover, priority, outlier, path, report);
    failover_entries(failover, &join_key(path, "failover"), report);
}

/// The zone-aware settings follow the locality failover rules; `minClusterSize` is at
/// least 1 (CRD).
fn zone_aware_lb(
    z: &ZoneAwareLoadBalancerSetting,
    outlier: Option<&OutlierDetection>,
    path: &str,
    report: &mut Report<'_>,
) {
    let failover = z.failover.items();
    let priority = z.failover_priority.items();
    if z.min_cluster_size == Some(0) {
        report.error(
            join_key(path, "minClusterSize"),
            "minClusterSize must be at least 1",
        );
    }
    if topology_conflict(failover, priority, path, report) {
        return;
    }
    failover_needs_outlier(failover, priority, outlier, path, report);
    failover_entries(failover, &join_key(path, "failover"), report);
}

/// Explicit `failover` conflicts with a topology label in `failoverPriority`.
fn topology_conflict(
    failover: &[LocalityFailover],
    priority: &[String],
    path: &str,
    report: &mut Report<'_>,
) -> bool {
    if failover.is_empty() {
        return false;
    }
    let ppath = join_key(path, "failoverPriority");
    for (k, label) in priority.iter().enumerate() {
        if TOPOLOGY_LABELS.contains(&label.as_str()) {
            report.error(
                join_index(&ppath, k),
                format!(
                    "can not simultaneously set 'failover' and topology label '{label}' in 'failover_priority'"
                ),
            );
            return true;
        }
    }
    false
}

/// Failover only happens when outlier detection ejects unhealthy endpoints.
fn failover_needs_outlier(
    failover: &[LocalityFailover],
    priority: &[String],
    outlier: Option<&OutlierDetection>,
    path: &str,
    report: &mut Report<'_>,
) {
    if (!failover.is_empty() || !priority.is_empty()) && outlier.is_none() {
        report.warning(
            path,
            "outlier detection policy must be provided for failover",
        );
    }
}

fn failover_entries(failover: &[LocalityFailover], path: &str, report: &mut Report<'_>) {
    for (f, fo) in failover.iter().enumerate() {
        let fp = join_index(path, f);
        let from = fo.from.as_deref().unwrap_or("");
        let to = fo.to.as_deref().unwrap_or("");
        if from == to {
            report.error(
                &fp,
                "locality lb failover settings must specify different regions",
            );
        }
        if from.contains('/') || to.contains('/') {
            report.error(&fp, "locality lb failover only specify region");
        }
        if from.contains('*') || to.contains('*') {
            report.error(
                &fp,
                "locality lb failover region should not contain '*' wildcard",
            );
        }
    }
}

/// Istio's `validateLocalities`: `region[/zone[/subzone]]`, at most one trailing `*`,
/// no empty part, no locality covered by an earlier one.
fn validate_localities(localities: &[&str]) -> Result<(), String> {
    type Zones = BTreeMap<String, BTreeSet<String>>;
    let mut regions: BTreeMap<String, Zones> = BTreeMap::new();
    let star = || "*".to_owned();
    for &locality in localities {
        let overlap = || {
            Err(format!(
                "locality {locality} overlap with previous specified ones"
            ))
        };
        let stars = locality.matches('*').count();
        if stars > 1 || (stars == 1 && !locality.ends_with('*')) {
            return Err(format!(
                "locality {locality} wildcard '*' number can not exceed 1 and must be in the end"
            ));
        }
        if regions.contains_key("*") {
            return overlap();
        }
        let items: Vec<&str> = locality.splitn(3, '/').collect();
        if items.iter().any(|s| s.is_empty()) {
            return Err(format!(
                "locality {locality} must not contain empty region/zone/subzone info"
            ));
        }
        let region = items.first().copied().unwrap_or("").to_owned();
        let zone = items.get(1).copied().unwrap_or("").to_owned();
        let subzone = items.get(2).copied().unwrap_or("").to_owned();
        match items.len() {
            1 => {
                if regions.contains_key(&region) {
                    return overlap();
                }
                let zones = Zones::from([(star(), BTreeSet::from([star()]))]);
                regions.insert(region, zones);
            }
            2 => match regions.get_mut(&region) {
                Some(zones) => {
                    if zones.contains_key("*") || zones.contains_key(&zone) {
                        return overlap();
                    }
                    zones.insert(zone, BTreeSet::from([star()]));
                }
                None => {
                    regions.insert(region, Zones::from([(zone, BTreeSet::from([star()]))]));
                }
            },
            _ => match regions.get_mut(&region) {
                Some(zones) => {
                    if zones.contains_key("*") {
                        return overlap();
                    }
                    match zones.get_mut(&zone) {
                        Some(subzones) => {
                            if subzones.contains("*") || subzones.contains(&subzone) {
                                return overlap();
                            }
                            subzones.insert(subzone);
                        }
                        None => {
                            zones.insert(zone, BTreeSet::from([subzone]));
                        }
                    }
                }
                None => {
                    regions.insert(region, Zones::from([(zone, BTreeSet::from([subzone]))]));
                }
            },
        }
    }
    Ok(())
}

/// Istio's `agent.ValidateTLS` for client TLS settings, plus the CRD's mode enum.
fn client_tls(tls: &ClientTLSSettings, path: &str, ns: &str, report: &mut Report<'_>) {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let mode = tls.mode.as_deref().unwrap_or("DISABLE");
    if !CLIENT_TLS_MODES.contains(&mode) {
        report.error(
            join_key(path, "mode"),
            format!(
                "unsupported TLS mode {mode:?}; valid modes are {}",
                CLIENT_TLS_MODES.join(", ")
            ),
        );
    }
    let credential = tls.credential_name.as_deref().unwrap_or("");
    if let Some(rest) = credential.strip_prefix("configmap://") {
        let cpath = join_key(path, "credentialName");
        let (cm_ns, name) = rest.split_once('/').unwrap_or((ns, rest));
        if name.is_empty() || cm_ns.is_empty() || name.contains('/') {
            report.error(
                &cpath,
                format!(
                    "invalid configmap:// credentialName: invalid resource name {credential:?}"
                ),
            );
        } else if cm_ns != ns {
            report.error(
                &cpath,
                format!(
                    "invalid configmap:// credentialName: namespace must match the configuration namespace {ns:?}"
                ),
            );
        }
    }
    let sans = !tls.subject_alt_names.items().is_empty();
    if tls.insecure_skip_verify == Some(true) {
        let ip = join_key(path, "insecureSkipVerify");
        if mode == "SIMPLE" && (set(&tls.ca_certificates) || !credential.is_empty() || sans) {
            report.error(
                &ip,
                "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true",
            );
        }
        if mode == "MUTUAL" && (set(&tls.ca_certificates) || sans) {
            report.error(
                &ip,
                "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true",
            );
        }
    }
    if (mode == "SIMPLE" || mode == "MUTUAL") && !credential.is_empty() {
        if set(&tls.client_certificate)
            || set(&tls.ca_certificates)
            || set(&tls.private_key)
            || set(&tls.ca_crl)
        {
            report.error(
                join_key(path, "credentialName"),
                "cannot specify client certificates or CA certificate or CA CRL If credentialName is set",
            );
        }
        return;
    }
    if mode == "MUTUAL" {
        if !set(&tls.client_certificate) {
            report.error(
                join_key(path, "clientCertificate"),
                "client certificate required for mutual tls",
            );
        }
        if !set(&tls.private_key) {
            report.error(
                join_key(path, "privateKey"),
                "private key required for mutual tls",
            );
        }
    }
    if mode == "ISTIO_MUTUAL" {
        let ignored: Vec<&str> = [
            ("clientCertificate", &tls.client_certificate),
            ("privateKey", &tls.private_key),
            ("caCertificates", &tls.ca_certificates),
            ("credentialName", &tls.credential_name),
            ("caCrl", &tls.ca_crl),
        ]
        .into_iter()
        .filter(|(_, v)| set(v))
        .map(|(k, _)| k)
        .collect();
        if !ignored.is_empty() {
            report.warning(
                path,
                format!(
                    "ISTIO_MUTUAL mode uses Istio's own certificates: {} will be ignored",
                    ignored.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Level;

    /// Validates a DestinationRule whose `spec` is `spec` (YAML, indented by two) and
    /// returns (level, path) of every IST0106/IST0133.
    fn run(spec: &str) -> Vec<(Level, String)> {
        let text = format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: dr\n  namespace: ns1\nspec:\n{spec}"
        );
        let loaded = crate::load_str(&text, None);
        let r = loaded.resources().next().expect("a resource");
        crate::validate::validate_resource(r)
            .into_iter()
            .filter(|d| d.code == "IST0106" || d.code == "IST0133")
            .map(|d| (d.level, d.path))
            .collect()
    }

    fn errors(diags: &[(Level, String)]) -> Vec<&str> {
        diags
            .iter()
            .filter(|(l, _)| *l == Level::Error)
            .map(|(_, p)| p.as_str())
            .collect()
    }

    fn warnings(diags: &[(Level, String)]) -> Vec<&str> {
        diags
            .iter()
            .filter(|(l, _)| *l == Level::Warning)
            .map(|(_, p)| p.as_str())
            .collect()
    }

    /// (scenario, spec, error paths, warning paths)
    type Case = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    );

    fn check(cases: &[Case]) {
        for (name, spec, want_errors, want_warnings) in cases {
            let got = run(spec);
            assert_eq!(errors(&got), *want_errors, "{name}: errors");
            assert_eq!(warnings(&got), *want_warnings, "{name}: warnings");
        }
    }

    #[test]
    fn host_and_subsets() {
        check(&[
            (
                "valid bookinfo rule",
                "  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v2\n    labels: {version: v2}\n",
                &[],
                &[],
            ),
            ("empty host", "  host: ''\n", &["spec.host"], &[]),
            ("missing host", "  subsets: []\n", &["spec.host"], &[]),
            ("wildcard host", "  host: '*.example.com'\n", &[], &[]),
            ("bad host label", "  host: foo.*.com\n", &["spec.host"], &[]),
            (
                "duplicate subset names",
                "  host: r\n  subsets:\n  - name: foo\n  - name: foo\n",
                &["spec.subsets[1].name"],
                &[],
            ),
            (
                "empty and invalid subset names",
                "  host: r\n  subsets:\n  - name: ''\n  - name: v_1\n",
                &["spec.subsets[0].name", "spec.subsets[1].name"],
                &[],
            ),
            (
                "bad subset label",
                "  host: r\n  subsets:\n  - name: v1\n    labels: {'bad key!': v1}\n",
                &["spec.subsets[0].labels[\"bad key!\"]"],
                &[],
            ),
            (
                "empty subset traffic policy",
                "  host: r\n  subsets:\n  - name: v1\n    trafficPolicy: {}\n",
                &["spec.subsets[0].trafficPolicy"],
                &[],
            ),
        ]);
    }

    #[test]
    fn export_to_and_workload_selector() {
        check(&[
            ("public export", "  host: r\n  exportTo: ['*']\n", &[], &[]),
            (
                "duplicate export of own namespace",
                "  host: r\n  exportTo: ['.', ns1]\n",
                &["spec.exportTo[1]"],
                &[],
            ),
            (
                "public and private export",
                "  host: r\n  exportTo: ['*', '.']\n",
                &["spec.exportTo"],
                &[],
            ),
            (
                "empty selector warns",
                "  host: r\n  workloadSelector: {}\n",
                &[],
                &["spec.workloadSelector"],
            ),
            (
                "wildcard selector value",
                "  host: r\n  workloadSelector:\n    matchLabels: {app: 'a*'}\n",
                &["spec.workloadSelector.matchLabels.app"],
                &[],
            ),
            (
                "selector with export beyond namespace",
                "  host: r\n  workloadSelector:\n    matchLabels: {app: a}\n  exportTo: [other]\n",
                &["spec.exportTo"],
                &[],
            ),
        ]);
    }

    #[test]
    fn connection_pool() {
        let base = "  host: r\n  trafficPolicy:\n    connectionPool:\n";
        let cases: &[(&str, &str, &[&str])] = &[
            ("tcp and http", "      tcp: {maxConnections: 7, connectTimeout: 2s}\n      http: {http2MaxRequests: 11, idleTimeout: 30s}\n", &[]),
            ("empty pool", "      {}\n", &["spec.trafficPolicy.connectionPool"]),
            ("negative connections", "      tcp: {maxConnections: -1}\n", &["spec.trafficPolicy.connectionPool.tcp.maxConnections"]),
            ("negative retries", "      http: {maxRetries: -1}\n", &["spec.trafficPolicy.connectionPool.http.maxRetries"]),
            ("sub-ms idle timeout", "      http: {idleTimeout: 30.000000005s}\n", &["spec.trafficPolicy.connectionPool.http.idleTimeout"]),
            ("tcp idle timeout disabled", "      tcp: {idleTimeout: 0s}\n", &[]),
            ("connect timeout below 1ms", "      tcp: {connectTimeout: 0.5ms}\n", &["spec.trafficPolicy.connectionPool.tcp.connectTimeout"]),
            ("unparsable duration", "      tcp: {maxConnectionDuration: soon}\n", &["spec.trafficPolicy.connectionPool.tcp.maxConnectionDuration"]),
            ("keepalive time", "      tcp:\n        tcpKeepalive: {time: 0s, interval: 75s}\n", &["spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time"]),
            ("upgrade with client protocol", "      http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}\n", &["spec.trafficPolicy.connectionPool.http.useClientProtocol"]),
            ("unknown upgrade policy", "      http: {h2UpgradePolicy: SOMETIMES}\n", &["spec.trafficPolicy.connectionPool.http.h2UpgradePolicy"]),
            ("http2 keepalive without timeout", "      http:\n        http2KeepAlive: {interval: 15s}\n", &["spec.trafficPolicy.connectionPool.http.http2KeepAlive"]),
            ("http2 keepalive sub-ms", "      http:\n        http2KeepAlive: {interval: 15.000000005s, timeout: 5s}\n", &["spec.trafficPolicy.connectionPool.http.http2KeepAlive.interval"]),
        ];
        for (name, pool, want) in cases {
            let got = run(&format!("{base}{pool}"));
            assert_eq!(errors(&got), *want, "{name}");
        }
    }

    #[test]
    fn outlier_detection() {
        check(&[
            (
                "valid",
                "  host: r\n  trafficPolicy:\n    outlierDetection: {interval: 2s, baseEjectionTime: 2s, maxEjectionPercent: 50}\n",
                &[],
                &[],
            ),
            (
                "ejection percent above 100",
                "  host: r\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 105}\n",
                &["spec.trafficPolicy.outlierDetection.maxEjectionPercent"],
                &[],
            ),
            (
                "negative min health",
                "  host: r\n  trafficPolicy:\n    outlierDetection: {minHealthPercent: -1}\n",
                &["spec.trafficPolicy.outlierDetection.minHealthPercent"],
                &[],
            ),
            (
                "deprecated consecutive errors",
                "  host: r\n  trafficPolicy:\n    outlierDetection: {consecutiveErrors: 5}\n",
                &[],
                &["spec.trafficPolicy.outlierDetection.consecutiveErrors"],
            ),
            (
                "local origin failures without split",
                "  host: r\n  trafficPolicy:\n    outlierDetection: {consecutiveLocalOriginFailures: 3}\n",
                &["spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures"],
                &[],
            ),
            (
                "error code out of range",
                "  host: r\n  trafficPolicy:\n    outlierDetection: {outlierDetectionHttpErrorCodes: [503, 99]}\n",
                &["spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes[1]"],
                &[],
            ),
        ]);
    }

    #[test]
    fn load_balancer() {
        let base = "  host: r\n  trafficPolicy:\n    loadBalancer:\n";
        let lb = "spec.trafficPolicy.loadBalancer";
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            ("simple", "      simple: LEAST_REQUEST\n", &[], &[]),
            ("unknown simple", "      simple: FASTEST\n", &["spec.trafficPolicy.loadBalancer.simple"], &[]),
            ("simple and consistent hash", "      simple: RANDOM\n      consistentHash: {useSourceIp: true}\n", &[lb], &[]),
            ("two hash keys", "      consistentHash: {useSourceIp: true, httpHeaderName: x-user}\n", &["spec.trafficPolicy.loadBalancer.consistentHash"], &[]),
            ("cookie without name", "      consistentHash:\n        httpCookie: {ttl: 3600s}\n", &["spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name"], &[]),
            ("cookie attribute without name", "      consistentHash:\n        httpCookie:\n          name: c\n          attributes: [{name: SameSite, value: Strict}, {name: '', value: x}]\n", &["spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name"], &[]),
            ("deprecated ring size", "      consistentHash: {minimumRingSize: 1024, useSourceIp: true}\n", &[], &["spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize"]),
            ("ring size with maglev", "      consistentHash:\n        minimumRingSize: 1024\n        maglev: {tableSize: 65537}\n", &["spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize"], &["spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize"]),
            ("maglev not prime", "      consistentHash:\n        maglev: {tableSize: 1000}\n", &["spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize"], &[]),
            ("maglev prime", "      consistentHash:\n        maglev: {tableSize: 65537}\n", &[], &[]),
            ("maglev without size", "      consistentHash:\n        maglev: {}\n", &["spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize"], &[]),
            ("locality and zone aware", "      localityLbSetting: {}\n      zoneAwareLbSetting: {}\n", &[lb], &[]),
            ("zone aware failover needs outlier", "      zoneAwareLbSetting:\n        failover: [{from: us-east, to: eu-west}]\n", &[], &["spec.trafficPolicy.loadBalancer.zoneAwareLbSetting"]),
            ("warmup without duration", "      warmup: {minimumPercent: 10}\n", &["spec.trafficPolicy.loadBalancer.warmup"], &[]),
            ("warmup aggression below 1", "      warmup: {duration: 10s, aggression: 0.5}\n", &["spec.trafficPolicy.loadBalancer.warmup.aggression"], &[]),
            ("warmup percent above 100", "      warmup: {duration: 10s, minimumPercent: 101}\n", &["spec.trafficPolicy.loadBalancer.warmup.minimumPercent"], &[]),
        ];
        for (name, body, want_e, want_w) in cases {
            let got = run(&format!("{base}{body}"));
            assert_eq!(errors(&got), *want_e, "{name}: errors");
            assert_eq!(warnings(&got), *want_w, "{name}: warnings");
        }
    }

    #[test]
    fn locality_settings() {
        let base = "  host: r\n  trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 3}\n    loadBalancer:\n      localityLbSetting:\n";
        let ls = "spec.trafficPolicy.loadBalancer.localityLbSetting";
        let cases: &[(&str, &str, &[&str])] = &[
            ("distribute summing to 100", "        distribute:\n        - from: us-west/zone1/*\n          to: {'us-west/zone1/*': 80, 'us-west/zone2/*': 20}\n", &[]),
            ("weights not summing to 100", "        distribute:\n        - from: us-west/zone1/*\n          to: {'us-west/zone1/*': 80, 'us-west/zone2/*': 10}\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to"]),
            ("zero weight", "        distribute:\n        - from: a\n          to: {b: 0, c: 100}\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to.b"]),
            ("wildcard not last", "        distribute:\n        - from: us-west/*/zone1\n          to: {a: 100}\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.distribute"]),
            ("overlapping sources", "        distribute:\n        - from: us-west/*\n          to: {a: 100}\n        - from: us-west/zone1\n          to: {a: 100}\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.distribute"]),
            ("distribute and failover", "        distribute:\n        - from: a\n          to: {b: 100}\n        failover: [{from: a, to: b}]\n", &[ls]),
            ("failover to same region", "        failover: [{from: a, to: a}]\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]"]),
            ("failover with zone", "        failover: [{from: a/z, to: b}]\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]"]),
            ("failover and region priority", "        failover: [{from: a, to: b}]\n        failoverPriority: [topology.kubernetes.io/region]\n", &["spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority[0]"]),
            ("custom priority label", "        failoverPriority: [topology.istio.io/network]\n", &[]),
        ];
        for (name, body, want) in cases {
            let got = run(&format!("{base}{body}"));
            assert_eq!(errors(&got), *want, "{name}");
            assert!(warnings(&got).is_empty(), "{name}: {got:?}");
        }
        let no_outlier = run("  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: a, to: b}]\n");
        assert_eq!(
            warnings(&no_outlier),
            [ls],
            "failover without outlier detection"
        );
    }

    #[test]
    fn client_tls() {
        let base = "  host: r\n  trafficPolicy:\n    tls:\n";
        let tls = "spec.trafficPolicy.tls";
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            ("istio mutual", "      mode: ISTIO_MUTUAL\n", &[], &[]),
            ("simple with credential", "      {mode: SIMPLE, credentialName: c, subjectAltNames: [a]}\n", &[], &[]),
            ("simple skip verify with credential", "      {mode: SIMPLE, credentialName: c, insecureSkipVerify: true}\n", &["spec.trafficPolicy.tls.insecureSkipVerify"], &[]),
            ("simple skip verify with ca", "      {mode: SIMPLE, caCertificates: ca, insecureSkipVerify: true}\n", &["spec.trafficPolicy.tls.insecureSkipVerify"], &[]),
            ("mutual with files", "      {mode: MUTUAL, clientCertificate: c, privateKey: k, caCertificates: ca}\n", &[], &[]),
            ("mutual without key", "      {mode: MUTUAL, clientCertificate: c}\n", &["spec.trafficPolicy.tls.privateKey"], &[]),
            ("mutual without anything", "      {mode: MUTUAL}\n", &["spec.trafficPolicy.tls.clientCertificate", "spec.trafficPolicy.tls.privateKey"], &[]),
            ("mutual credential and skip verify", "      {mode: MUTUAL, credentialName: c, insecureSkipVerify: true}\n", &[], &[]),
            ("mutual skip verify with sans", "      {mode: MUTUAL, clientCertificate: c, privateKey: k, subjectAltNames: [a], insecureSkipVerify: true}\n", &["spec.trafficPolicy.tls.insecureSkipVerify"], &[]),
            ("credential with files", "      {mode: SIMPLE, credentialName: c, caCertificates: ca}\n", &["spec.trafficPolicy.tls.credentialName"], &[]),
            ("unknown mode", "      {mode: STRICT}\n", &["spec.trafficPolicy.tls.mode"], &[]),
            ("istio mutual with certs", "      {mode: ISTIO_MUTUAL, clientCertificate: c}\n", &[], &[tls]),
            ("configmap in other namespace", "      {mode: SIMPLE, credentialName: 'configmap://other/ca'}\n", &["spec.trafficPolicy.tls.credentialName"], &[]),
            ("configmap in own namespace", "      {mode: SIMPLE, credentialName: 'configmap://ca'}\n", &[], &[]),
        ];
        for (name, body, want_e, want_w) in cases {
            let got = run(&format!("{base}{body}"));
            assert_eq!(errors(&got), *want_e, "{name}: errors");
            assert_eq!(warnings(&got), *want_w, "{name}: warnings");
        }
    }

    #[test]
    fn port_level_tunnel_and_proxy_protocol() {
        check(&[
            (
                "port level without port",
                "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - loadBalancer: {simple: ROUND_ROBIN}\n",
                &["spec.trafficPolicy.portLevelSettings[0]"],
                &[],
            ),
            (
                "port level without settings",
                "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n",
                &["spec.trafficPolicy.portLevelSettings[0]"],
                &[],
            ),
            (
                "duplicate port level",
                "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n      tls: {mode: ISTIO_MUTUAL}\n    - port: {number: 80}\n      tls: {mode: DISABLE}\n",
                &[],
                &["spec.trafficPolicy.portLevelSettings[1].port.number"],
            ),
            (
                "port level nested error",
                "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n      connectionPool: {tcp: {maxConnections: -1}}\n",
                &["spec.trafficPolicy.portLevelSettings[0].connectionPool.tcp.maxConnections"],
                &[],
            ),
            (
                "tunnel",
                "  host: r\n  trafficPolicy:\n    tunnel: {protocol: CONNECT, targetHost: 10.0.0.1, targetPort: 8443}\n",
                &[],
                &[],
            ),
            (
                "bad tunnel",
                "  host: r\n  trafficPolicy:\n    tunnel: {protocol: GET, targetHost: 'a b', targetPort: 0}\n",
                &[
                    "spec.trafficPolicy.tunnel.protocol",
                    "spec.trafficPolicy.tunnel.targetHost",
                    "spec.trafficPolicy.tunnel.targetPort",
                ],
                &[],
            ),
            (
                "tunnel with proxy protocol",
                "  host: r\n  trafficPolicy:\n    tunnel: {targetHost: a.b, targetPort: 80}\n    proxyProtocol: {version: V1}\n",
                &["spec.trafficPolicy"],
                &[],
            ),
            (
                "bad proxy protocol",
                "  host: r\n  trafficPolicy:\n    proxyProtocol: {version: V3}\n",
                &["spec.trafficPolicy.proxyProtocol.version"],
                &[],
            ),
        ]);
    }

    #[test]
    fn localities() {
        use super::validate_localities;
        let cases: &[(&[&str], bool)] = &[
            (&["us-west", "us-east/zone1", "us-east/zone2/sub"], true),
            (&["*"], true),
            (&["*", "a"], false),
            (&["a/*", "a/b"], false),
            (&["a/b/*", "a/b/c"], false),
            (&["a//c"], false),
            (&["a/*/c"], false),
            (&["a", "a"], false),
        ];
        for (locs, ok) in cases {
            assert_eq!(validate_localities(locs).is_ok(), *ok, "{locs:?}");
        }
    }
}
