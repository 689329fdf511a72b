//! Which DestinationRule applies to a host, and the traffic policy in force for a
//! (host, port, subset) after Istio's merging (`util.GetPortLevelTrafficPolicy`,
//! `util.MergeSubsetTrafficPolicy`):
//!
//! - `portLevelSettings` for the port **replace** the whole top-level policy (fields they omit
//!   fall back to defaults, not to the top level);
//! - a subset's policy overrides the (port-resolved) top-level policy component by component
//!   (connectionPool, outlierDetection, loadBalancer, tls, tunnel, proxyProtocol); when the
//!   subset has port-level settings for the port, they replace all four of connectionPool,
//!   outlierDetection, loadBalancer and tls.

use crate::diag::{Diagnostic, Level};
use crate::load::Resource;
use crate::model::{
    ClientTLSSettings, ConnectionPoolSettings, ConsistentHashLB, DestinationRule,
    LoadBalancerSettings, OptSliceExt, OutlierDetection, PortTrafficPolicy, ProxyProtocol, Subset,
    TrafficPolicy, TunnelSettings,
};

use super::codes;

/// A policy component and the field path it came from.
pub(crate) type At<'a, T> = Option<(&'a T, String)>;

/// The traffic policy in force for one cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy<'a> {
    pub connection_pool: At<'a, ConnectionPoolSettings>,
    pub outlier: At<'a, OutlierDetection>,
    pub lb: At<'a, LoadBalancerSettings>,
    pub tls: At<'a, ClientTLSSettings>,
    pub proxy_protocol: At<'a, ProxyProtocol>,
    pub tunnel: At<'a, TunnelSettings>,
}

fn at<'a, T>(v: &'a Option<T>, path: &str, field: &str) -> At<'a, T> {
    v.as_ref().map(|t| (t, format!("{path}.{field}")))
}

impl<'a> Policy<'a> {
    fn from_top(tp: &'a TrafficPolicy, path: &str) -> Policy<'a> {
        Policy {
            connection_pool: at(&tp.connection_pool, path, "connectionPool"),
            outlier: at(&tp.outlier_detection, path, "outlierDetection"),
            lb: at(&tp.load_balancer, path, "loadBalancer"),
            tls: at(&tp.tls, path, "tls"),
            proxy_protocol: at(&tp.proxy_protocol, path, "proxyProtocol"),
            tunnel: at(&tp.tunnel, path, "tunnel"),
        }
    }

    fn from_port(p: &'a PortTrafficPolicy, path: &str) -> Policy<'a> {
        Policy {
            connection_pool: at(&p.connection_pool, path, "connectionPool"),
            outlier: at(&p.outlier_detection, path, "outlierDetection"),
            lb: at(&p.load_balancer, path, "loadBalancer"),
            tls: at(&p.tls, path, "tls"),
            proxy_protocol: None,
            tunnel: None,
        }
    }
}

/// `GetPortLevelTrafficPolicy`: the port-level settings for `port` replace the policy.
fn port_resolved<'a>(tp: &'a TrafficPolicy, path: &str, port: u32) -> (Policy<'a>, bool) {
    for (i, p) in tp.port_level_settings.items().iter().enumerate() {
        if p.port.as_ref().and_then(|s| s.number) == Some(port) {
            return (
                Policy::from_port(p, &format!("{path}.portLevelSettings[{i}]")),
                true,
            );
        }
    }
    (Policy::from_top(tp, path), false)
}

/// The merged policy for `port` of a DestinationRule, for the whole host (`subset: None`)
/// or one subset (`Some((index, subset))`).
pub(crate) fn effective<'a>(
    dr: &'a DestinationRule,
    port: u32,
    subset: Option<(usize, &'a Subset)>,
) -> Policy<'a> {
    let top = dr
        .traffic_policy
        .as_ref()
        .map(|tp| port_resolved(tp, "spec.trafficPolicy", port).0);
    let Some((i, subset)) = subset else {
        return top.unwrap_or_default();
    };
    let Some(stp) = subset.traffic_policy.as_ref() else {
        return top.unwrap_or_default();
    };
    let (sub, has_port_level) =
        port_resolved(stp, &format!("spec.subsets[{i}].trafficPolicy"), port);
    let Some(mut merged) = top else {
        return sub;
    };
    if sub.connection_pool.is_some() || has_port_level {
        merged.connection_pool = sub.connection_pool;
    }
    if sub.outlier.is_some() || has_port_level {
        merged.outlier = sub.outlier;
    }
    if sub.lb.is_some() || has_port_level {
        merged.lb = sub.lb;
    }
    if sub.tls.is_some() || has_port_level {
        merged.tls = sub.tls;
    }
    // Tunnel and proxyProtocol are not port-level fields: they come from the subset's top level.
    if let Some(t) = at(
        &stp.tunnel,
        &format!("spec.subsets[{i}].trafficPolicy"),
        "tunnel",
    ) {
        merged.tunnel = Some(t);
    }
    if let Some(p) = at(
        &stp.proxy_protocol,
        &format!("spec.subsets[{i}].trafficPolicy"),
        "proxyProtocol",
    ) {
        merged.proxy_protocol = Some(p);
    }
    merged
}

/// Istio's `hashForHTTPDestination`: the consistent-hash settings for a route destination,
/// by priority subset port-level > subset > port-level > top level. Port-level settings only
/// count when the destination names its port.
pub(crate) fn consistent_hash_for<'a>(
    dr: &'a DestinationRule,
    dest_port: Option<u32>,
    subset: Option<&str>,
) -> Option<&'a ConsistentHashLB> {
    fn pls_hash(tp: Option<&TrafficPolicy>, port: Option<u32>) -> Option<&ConsistentHashLB> {
        let port = port?;
        tp?.port_level_settings
            .items()
            .iter()
            .find(|p| p.port.as_ref().and_then(|s| s.number) == Some(port))
            .and_then(|p| p.load_balancer.as_ref())
            .and_then(|lb| lb.consistent_hash.as_ref())
    }
    let tp = dr.traffic_policy.as_ref();
    let top = tp
        .and_then(|t| t.load_balancer.as_ref())
        .and_then(|lb| lb.consistent_hash.as_ref());
    let pls = pls_hash(tp, dest_port);
    let wanted = subset.unwrap_or("");
    let mut subset_hash = None;
    let mut subset_pls = None;
    if let Some(s) = dr
        .subsets
        .items()
        .iter()
        .find(|s| s.name.as_deref().unwrap_or("") == wanted)
    {
        let stp = s.traffic_policy.as_ref();
        subset_hash = stp
            .and_then(|t| t.load_balancer.as_ref())
            .and_then(|lb| lb.consistent_hash.as_ref());
        subset_pls = pls_hash(stp, dest_port);
    }
    subset_pls.or(subset_hash).or(pls).or(top)
}

/// DestinationRules by the FQDN of their host.
#[derive(Debug, Default)]
pub(crate) struct DestRules<'a> {
    rules: Vec<(String, &'a Resource, &'a DestinationRule, String)>,
}

impl<'a> DestRules<'a> {
    pub(crate) fn build(
        resources: &[&'a Resource],
        default_ns: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> DestRules<'a> {
        let mut rules = Vec::new();
        for r in resources {
            let Some(dr) = r.destination_rule() else {
                continue;
            };
            let ns = r.namespace_or(default_ns).to_owned();
            let Some(host) = dr.host.as_deref().filter(|h| !h.is_empty()) else {
                continue;
            };
            let selector = dr
                .workload_selector
                .as_ref()
                .and_then(|s| s.match_labels.as_ref())
                .is_some_and(|m| !m.is_empty());
            if selector {
                diags.push(r.diag(
                    codes::MR203,
                    Level::Info,
                    "spec.workloadSelector",
                    "DestinationRule with a workloadSelector applies to selected workloads only; the rendered Envoy has no labels, so it is not applied",
                ));
                continue;
            }
            let fqdn = crate::host::to_fqdn(&host.to_ascii_lowercase(), &ns);
            rules.push((fqdn, *r, dr, ns));
        }
        DestRules { rules }
    }

    /// The DestinationRule for `fqdn` as Istio picks it for a proxy in `proxy_ns`: rules in the
    /// proxy's namespace first, then the service's namespace, then `istio-system`, then any;
    /// within those, an exact host before the most specific wildcard.
    pub(crate) fn for_host(
        &self,
        fqdn: &str,
        proxy_ns: &str,
        svc_ns: Option<&str>,
    ) -> Option<(&'a Resource, &'a DestinationRule)> {
        let mut best: Option<((u8, usize, usize), &'a Resource, &'a DestinationRule)> = None;
        for (i, (host, r, dr, ns)) in self.rules.iter().enumerate() {
            let specificity = if host == fqdn {
                0
            } else if crate::host::is_wildcard(host) && crate::host::subset_of(fqdn, host) {
                // Longer suffix = more specific; invert for "smaller is better".
                usize::MAX - host.len()
            } else {
                continue;
            };
            let ns_rank = if ns == proxy_ns {
                0
            } else if Some(ns.as_str()) == svc_ns {
                1
            } else if ns == "istio-system" {
                2
            } else {
                3
            };
            let key = (ns_rank, specificity, i);
            if best.as_ref().is_none_or(|(k, _, _)| key < *k) {
                best = Some((key, *r, *dr));
            }
        }
        best.map(|(_, r, dr)| (r, dr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dr(v: serde_json::Value) -> DestinationRule {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn port_level_settings_replace_the_top_level_policy() {
        let d = dr(json!({
            "host": "reviews",
            "trafficPolicy": {
                "loadBalancer": {"simple": "RANDOM"},
                "outlierDetection": {"consecutive5xxErrors": 3},
                "portLevelSettings": [{"port": {"number": 9080}, "loadBalancer": {"simple": "ROUND_ROBIN"}}]
            }
        }));
        let p = effective(&d, 9080, None);
        assert_eq!(
            p.lb.as_ref().unwrap().0.simple.as_deref(),
            Some("ROUND_ROBIN")
        );
        assert_eq!(
            p.lb.as_ref().unwrap().1,
            "spec.trafficPolicy.portLevelSettings[0].loadBalancer"
        );
        assert!(
            p.outlier.is_none(),
            "port-level settings do not inherit the top level"
        );
        let other = effective(&d, 8080, None);
        assert_eq!(other.lb.unwrap().0.simple.as_deref(), Some("RANDOM"));
        assert!(other.outlier.is_some());
    }

    #[test]
    fn subset_policy_overrides_component_by_component() {
        let d = dr(json!({
            "host": "reviews",
            "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}, "outlierDetection": {"consecutive5xxErrors": 3}},
            "subsets": [
                {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}}},
                {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {
                    "portLevelSettings": [{"port": {"number": 9080}, "connectionPool": {"tcp": {"maxConnections": 1}}}]
                }}
            ]
        }));
        let subsets = d.subsets.items();
        let v1 = effective(&d, 9080, Some((0, &subsets[0])));
        assert_eq!(
            v1.lb.as_ref().unwrap().0.simple.as_deref(),
            Some("ROUND_ROBIN")
        );
        assert_eq!(
            v1.outlier.as_ref().unwrap().1,
            "spec.trafficPolicy.outlierDetection"
        );
        let v2 = effective(&d, 9080, Some((1, &subsets[1])));
        assert!(
            v2.lb.is_none() && v2.outlier.is_none(),
            "subset port-level replaces all four"
        );
        assert!(v2.connection_pool.is_some());
        let v2_other_port = effective(&d, 8080, Some((1, &subsets[1])));
        assert_eq!(
            v2_other_port.lb.unwrap().0.simple.as_deref(),
            Some("RANDOM")
        );
    }

    #[test]
    fn consistent_hash_priority() {
        let d = dr(json!({
            "host": "r",
            "trafficPolicy": {
                "loadBalancer": {"consistentHash": {"httpHeaderName": "top"}},
                "portLevelSettings": [{"port": {"number": 80}, "loadBalancer": {"consistentHash": {"httpHeaderName": "pls"}}}]
            },
            "subsets": [{"name": "v1", "trafficPolicy": {"loadBalancer": {"consistentHash": {"httpHeaderName": "subset"}}}}]
        }));
        let name = |p, s| consistent_hash_for(&d, p, s).and_then(|c| c.http_header_name.clone());
        assert_eq!(name(None, None).as_deref(), Some("top"));
        assert_eq!(name(Some(80), None).as_deref(), Some("pls"));
        assert_eq!(name(Some(80), Some("v1")).as_deref(), Some("subset"));
    }
}
