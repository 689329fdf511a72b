//! What the cross-resource lints look up, built once per run: DestinationRules by
//! host, and the hosts each gateway receives from VirtualServices.

use crate::analyze::{Context, DestinationRuleIndex, RuleRef};
use crate::host::{self, DEFAULT_DOMAIN};
use crate::load::{Kind, Resource};
use crate::model::OptSliceExt;
use std::collections::BTreeMap;

/// A DestinationRule as the shared index holds it (resource, spec, effective namespace).
pub(super) type DrRef<'a> = RuleRef<'a>;

/// True when the rule defines subset `subset`.
pub(super) fn defines_subset(d: &DrRef<'_>, subset: &str) -> bool {
    d.rule
        .subsets
        .items()
        .iter()
        .any(|s| s.name.as_deref() == Some(subset))
}

/// True when the rule applies only to the workloads its workloadSelector picks.
pub(super) fn is_selective(d: &DrRef<'_>) -> bool {
    d.rule.workload_selector.is_some()
}

/// A VirtualService host on a gateway: which resource, and where the host is written.
#[derive(Debug, Clone, Copy)]
pub(super) struct GatewayHost<'a> {
    pub r: &'a Resource,
    /// Index in `spec.hosts`.
    pub host_index: usize,
}

pub(super) struct Index<'c, 'a> {
    /// DestinationRules by FQDN host: the index shared with the analyzers.
    drs: &'c DestinationRuleIndex<'a>,
    /// DestinationRules whose host is a wildcard, with the resolved host.
    wildcard_drs: Vec<(String, DrRef<'a>)>,
    /// (gateway `ns/name`, FQDN host) → VirtualServices with HTTP routes binding that host
    /// to that gateway (the mesh gateway excluded: that is IST0109's case).
    pub gateway_hosts: BTreeMap<(String, String), Vec<GatewayHost<'a>>>,
}

impl<'c, 'a> Index<'c, 'a> {
    pub fn build(ctx: &'c Context<'a>) -> Self {
        let mut wildcard_drs = Vec::new();
        for r in ctx.of_kind(Kind::DestinationRule) {
            let Some(rule) = r.destination_rule() else {
                continue;
            };
            let Some(h) = rule.host.as_deref().filter(|h| host::is_wildcard(h)) else {
                continue;
            };
            let namespace = ctx.namespace_of(r);
            wildcard_drs.push((
                host::to_fqdn(h, namespace),
                DrRef {
                    resource: r,
                    rule,
                    namespace,
                },
            ));
        }

        let mut gateway_hosts: BTreeMap<(String, String), Vec<GatewayHost<'a>>> = BTreeMap::new();
        for r in ctx.of_kind(Kind::VirtualService) {
            let Some(vs) = r.virtual_service() else {
                continue;
            };
            if vs.http.items().is_empty() {
                continue;
            }
            let ns = ctx.namespace_of(r);
            let mut gateways: Vec<String> = vs
                .gateways
                .items()
                .iter()
                .map(|g| normalize_gateway(g, ns))
                .filter(|g| g != "mesh")
                .collect();
            gateways.sort();
            gateways.dedup();
            for (k, h) in vs.hosts.items().iter().enumerate() {
                let fqdn = host::to_fqdn(h, ns);
                for g in &gateways {
                    let list = gateway_hosts.entry((g.clone(), fqdn.clone())).or_default();
                    // One entry per resource and gateway (a host listed twice counts once).
                    if !list.iter().any(|e| std::ptr::eq(e.r, r)) {
                        list.push(GatewayHost { r, host_index: k });
                    }
                }
            }
        }

        Index {
            drs: ctx.destination_rules(),
            wildcard_drs,
            gateway_hosts,
        }
    }

    /// DestinationRules whose host is exactly `fqdn`.
    pub fn drs_for(&self, fqdn: &str) -> &[DrRef<'a>] {
        self.drs.for_host(fqdn)
    }

    /// The DestinationRule a sidecar in `client_ns` most likely uses for `fqdn`:
    /// Istio looks in the client's namespace, then the service's, then the root
    /// namespace; a wildcard host is used only when no exact host matches (the
    /// most specific wildcard wins). Rules with a workloadSelector are skipped.
    pub fn effective_dr(&self, fqdn: &str, client_ns: &str) -> Option<DrRef<'a>> {
        let exact: Vec<DrRef<'a>> = self
            .drs_for(fqdn)
            .iter()
            .copied()
            .filter(|d| !is_selective(d))
            .collect();
        if !exact.is_empty() {
            let service_ns = service_namespace(fqdn);
            return exact
                .iter()
                .find(|d| d.namespace == client_ns)
                .or_else(|| exact.iter().find(|d| Some(d.namespace) == service_ns))
                .or_else(|| exact.first())
                .copied();
        }
        self.wildcard_drs
            .iter()
            .filter(|(h, d)| !is_selective(d) && host::subset_of(fqdn, h))
            .max_by_key(|(h, _)| h.len())
            .map(|(_, d)| *d)
    }
}

/// `name` → `ns/name`; `ns/name` and `mesh` unchanged.
pub(super) fn normalize_gateway(gateway: &str, ns: &str) -> String {
    if gateway == "mesh" || gateway.contains('/') {
        gateway.to_owned()
    } else if let Some((name, gw_ns)) = gateway.split_once('.') {
        // Legacy `name.namespace[.svc.cluster.local]` form.
        let gw_ns = gw_ns.split('.').next().unwrap_or(gw_ns);
        format!("{gw_ns}/{name}")
    } else {
        format!("{ns}/{gateway}")
    }
}

/// The namespace of a Kubernetes service FQDN (`reviews.prod.svc.cluster.local` → `prod`).
fn service_namespace(fqdn: &str) -> Option<&str> {
    let suffix = format!(".svc.{DEFAULT_DOMAIN}");
    let stem = fqdn.strip_suffix(suffix.as_str())?;
    stem.rsplit_once('.').map(|(_, ns)| ns)
}

/// True for a host inside the cluster (`*.svc.cluster.local`).
pub(super) fn is_cluster_local(fqdn: &str) -> bool {
    fqdn.ends_with(&format!(".svc.{DEFAULT_DOMAIN}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_names_normalize() {
        assert_eq!(normalize_gateway("mesh", "default"), "mesh");
        assert_eq!(normalize_gateway("gw", "default"), "default/gw");
        assert_eq!(
            normalize_gateway("istio-system/gw", "default"),
            "istio-system/gw"
        );
        assert_eq!(
            normalize_gateway("gw.istio-system.svc.cluster.local", "default"),
            "istio-system/gw"
        );
    }

    #[test]
    fn service_namespace_of_fqdn() {
        assert_eq!(
            service_namespace("reviews.prod.svc.cluster.local"),
            Some("prod")
        );
        assert_eq!(service_namespace("api.example.com"), None);
        assert!(is_cluster_local("reviews.prod.svc.cluster.local"));
        assert!(!is_cluster_local("api.example.com"));
    }
}
