//! The service registry `render` builds clusters from: ServiceEntries, their `endpoints`,
//! and the WorkloadEntries their `workloadSelector` picks (same namespace, labels ⊇ selector),
//! as Istio's ServiceEntry controller sees them.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Level};
use crate::load::Resource;
use crate::model::{OptSliceExt, ServiceEntry, WorkloadEntry};

use super::codes;

/// How Envoy finds a service's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// `STATIC`: IP endpoints → Envoy `STATIC`.
    Static,
    /// `DNS`: every endpoint (or host) resolved → `STRICT_DNS`.
    Dns,
    /// `DNS_ROUND_ROBIN`: one name, first address → `LOGICAL_DNS`.
    DnsRoundRobin,
}

impl Resolution {
    pub(crate) fn envoy_type(self) -> &'static str {
        match self {
            Resolution::Static => "STATIC",
            Resolution::Dns => "STRICT_DNS",
            Resolution::DnsRoundRobin => "LOGICAL_DNS",
        }
    }
}

/// A port of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SvcPort {
    pub number: u32,
    pub name: String,
    /// Upper-cased protocol as written (`HTTP`, `GRPC`, …); empty when not given.
    pub protocol: String,
    pub target_port: Option<u32>,
}

impl SvcPort {
    /// Istio's `IsHTTPOrSniffed`: HTTP protocols, and unknown/missing ones (sniffed).
    pub(crate) fn is_http_or_sniffed(&self) -> bool {
        !matches!(
            self.protocol.as_str(),
            "HTTPS" | "TCP" | "TLS" | "MONGO" | "REDIS" | "MYSQL" | "UDP"
        )
    }
    /// Istio's `IsHTTP2`: HTTP2, GRPC, GRPC-WEB.
    pub(crate) fn is_http2(&self) -> bool {
        matches!(self.protocol.as_str(), "HTTP2" | "GRPC" | "GRPC-WEB")
    }
}

/// One endpoint (a ServiceEntry `endpoints` item or a selected WorkloadEntry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub address: String,
    pub ports: BTreeMap<String, u32>,
    pub labels: BTreeMap<String, String>,
    pub weight: Option<u32>,
    pub locality: Option<String>,
}

impl Endpoint {
    fn from_workload(we: &WorkloadEntry) -> Endpoint {
        Endpoint {
            address: we.address.clone().unwrap_or_default(),
            ports: we.ports.clone().unwrap_or_default(),
            labels: we.labels.clone().unwrap_or_default(),
            weight: we.weight,
            locality: we.locality.clone().filter(|l| !l.is_empty()),
        }
    }

    /// Istio: the endpoint's port named like the service port, else the target port, else the port.
    pub(crate) fn port_for(&self, port: &SvcPort) -> u32 {
        self.ports
            .get(&port.name)
            .copied()
            .filter(|p| *p > 0)
            .or(port.target_port)
            .unwrap_or(port.number)
    }

    /// True when every label of `selector` is on this endpoint.
    pub(crate) fn selected_by(&self, selector: &BTreeMap<String, String>) -> bool {
        selector.iter().all(|(k, v)| self.labels.get(k) == Some(v))
    }
}

/// A service of the registry: one host of a ServiceEntry.
#[derive(Debug, Clone)]
pub(crate) struct Service<'a> {
    pub hostname: String,
    pub namespace: String,
    pub ports: Vec<SvcPort>,
    /// `None` when the resolution cannot be rendered (NONE, DYNAMIC_DNS, unknown).
    pub resolution: Option<Resolution>,
    pub endpoints: Vec<Endpoint>,
    /// `addresses` of the ServiceEntry that are single IPs (VIPs clients may use as Host).
    pub addresses: Vec<String>,
    pub resource: &'a Resource,
}

impl Service<'_> {
    pub(crate) fn port(&self, number: u32) -> Option<&SvcPort> {
        self.ports.iter().find(|p| p.number == number)
    }
    pub(crate) fn http_ports(&self) -> impl Iterator<Item = &SvcPort> {
        self.ports.iter().filter(|p| p.is_http_or_sniffed())
    }
}

/// All services, by FQDN. The first ServiceEntry (input order) that declares a host owns it.
#[derive(Debug, Default)]
pub(crate) struct Registry<'a> {
    pub services: Vec<Service<'a>>,
    by_host: BTreeMap<String, usize>,
}

impl<'a> Registry<'a> {
    pub(crate) fn build(
        resources: &[&'a Resource],
        default_ns: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Registry<'a> {
        let workloads: Vec<&Resource> = resources
            .iter()
            .copied()
            .filter(|r| r.workload_entry().is_some())
            .collect();
        let mut reg = Registry::default();
        for r in resources {
            let Some(se) = r.service_entry() else {
                continue;
            };
            reg.add_service_entry(r, se, &workloads, default_ns, diags);
        }
        reg
    }

    fn add_service_entry(
        &mut self,
        r: &'a Resource,
        se: &ServiceEntry,
        workloads: &[&Resource],
        default_ns: &str,
        diags: &mut Vec<Diagnostic>,
    ) {
        let ns = r.namespace_or(default_ns).to_owned();
        let resolution_name = se.resolution.as_deref().unwrap_or("NONE");
        let resolution = match resolution_name {
            "STATIC" => Some(Resolution::Static),
            "DNS" => Some(Resolution::Dns),
            "DNS_ROUND_ROBIN" => Some(Resolution::DnsRoundRobin),
            other => {
                let why = match other {
                    "NONE" => "resolution NONE forwards to the address the client connected to (an ORIGINAL_DST cluster), which a standalone Envoy cannot know",
                    "DYNAMIC_DNS" => "resolution DYNAMIC_DNS (a dynamic forward proxy cluster) is not rendered",
                    _ => "unknown resolution",
                };
                diags.push(r.diag(
                    codes::MR201,
                    Level::Warning,
                    "spec.resolution",
                    format!(
                        "{why}; its clusters get no endpoints (requests to them fail with 503). Use resolution STATIC or DNS with endpoints"
                    ),
                ));
                None
            }
        };
        let ports: Vec<SvcPort> = se
            .ports
            .items()
            .iter()
            .filter_map(|p| {
                Some(SvcPort {
                    number: p.number?,
                    name: p.name.clone().unwrap_or_default(),
                    protocol: p.protocol.as_deref().unwrap_or("").to_ascii_uppercase(),
                    target_port: p.target_port.filter(|t| *t != 0),
                })
            })
            .collect();

        // Istio: with a workloadSelector the endpoints are the selected WorkloadEntries of the
        // namespace (their metadata labels merged over their spec labels) and `endpoints` is
        // not used; without one, `endpoints`.
        let selector = se
            .workload_selector
            .as_ref()
            .map(|s| s.labels.clone().unwrap_or_default());
        let endpoints: Vec<Endpoint> = match &selector {
            None => se
                .endpoints
                .items()
                .iter()
                .map(Endpoint::from_workload)
                .collect(),
            Some(selector) => {
                if !se.endpoints.items().is_empty() {
                    diags.push(r.diag(
                        codes::MR201,
                        Level::Warning,
                        "spec.endpoints",
                        "endpoints are ignored when a workloadSelector is set (Istio uses the selected WorkloadEntries)",
                    ));
                }
                let mut out = Vec::new();
                if !selector.is_empty() {
                    for w in workloads {
                        let Some(we) = w.workload_entry() else {
                            continue;
                        };
                        if w.namespace_or(default_ns) != ns {
                            continue;
                        }
                        let mut ep = Endpoint::from_workload(we);
                        if let Some(meta) = w.labels() {
                            ep.labels
                                .extend(meta.iter().map(|(k, v)| (k.clone(), v.clone())));
                        }
                        if ep.selected_by(selector) {
                            out.push(ep);
                        }
                    }
                }
                out
            }
        };
        let addresses: Vec<String> = se
            .addresses
            .items()
            .iter()
            .filter(|a| crate::host::is_ip(a))
            .cloned()
            .collect();

        for (i, host) in se.hosts.items().iter().enumerate() {
            let hostname = host.to_ascii_lowercase();
            if hostname.is_empty() {
                continue;
            }
            if let Some(&owner) = self.by_host.get(&hostname) {
                let first = self
                    .services
                    .get(owner)
                    .map(|s| s.resource.display_name())
                    .unwrap_or_default();
                diags.push(r.diag(
                    codes::MR204,
                    Level::Warning,
                    format!("spec.hosts[{i}]"),
                    format!("host {hostname} is already declared by {first}; this ServiceEntry's endpoints for it are not rendered"),
                ));
                continue;
            }
            let mut svc_endpoints = endpoints.clone();
            let dns = matches!(
                resolution,
                Some(Resolution::Dns) | Some(Resolution::DnsRoundRobin)
            );
            if dns && svc_endpoints.is_empty() && selector.is_none() {
                // Istio resolves the host itself when a DNS ServiceEntry lists no endpoints.
                if crate::host::is_wildcard(&hostname) {
                    diags.push(r.diag(
                        codes::MR201,
                        Level::Warning,
                        format!("spec.hosts[{i}]"),
                        format!("wildcard host {hostname} cannot be resolved with DNS: its clusters get no endpoints"),
                    ));
                } else {
                    svc_endpoints.push(Endpoint {
                        address: hostname.clone(),
                        ports: BTreeMap::new(),
                        labels: BTreeMap::new(),
                        weight: None,
                        locality: None,
                    });
                }
            }
            let svc_endpoints = if resolution.is_some() {
                check_endpoints(r, resolution, svc_endpoints, diags)
            } else {
                Vec::new()
            };
            self.by_host.insert(hostname.clone(), self.services.len());
            self.services.push(Service {
                hostname,
                namespace: ns.clone(),
                ports: ports.clone(),
                resolution,
                endpoints: svc_endpoints,
                addresses: addresses.clone(),
                resource: r,
            });
        }
    }

    /// The service for an FQDN, exact match only.
    pub(crate) fn get(&self, fqdn: &str) -> Option<&Service<'a>> {
        self.by_host.get(fqdn).and_then(|i| self.services.get(*i))
    }

    /// Services matching a (possibly wildcard) VirtualService host: the exact one, or every
    /// non-wildcard service host the wildcard covers.
    pub(crate) fn matching(&self, vs_host: &str) -> Vec<&Service<'a>> {
        if let Some(s) = self.get(vs_host) {
            return vec![s];
        }
        if !crate::host::is_wildcard(vs_host) {
            return Vec::new();
        }
        self.services
            .iter()
            .filter(|s| crate::host::subset_of(&s.hostname, vs_host))
            .collect()
    }
}

/// Drops endpoints Envoy would refuse for the cluster type, with a diagnostic each.
fn check_endpoints(
    r: &Resource,
    resolution: Option<Resolution>,
    endpoints: Vec<Endpoint>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Endpoint> {
    let mut out = Vec::with_capacity(endpoints.len());
    for ep in endpoints {
        let is_unix = ep.address.starts_with("unix://");
        let ok = match resolution {
            Some(Resolution::Static) => crate::host::is_ip(&ep.address) || is_unix,
            Some(Resolution::Dns) | Some(Resolution::DnsRoundRobin) => {
                !ep.address.is_empty() && !is_unix
            }
            None => false,
        };
        if ok {
            out.push(ep);
        } else {
            diags.push(r.diag(
                codes::MR201,
                Level::Warning,
                "spec.endpoints",
                format!(
                    "endpoint address {:?} cannot be used with resolution {}: skipped",
                    ep.address,
                    resolution.map(Resolution::envoy_type).unwrap_or("NONE")
                ),
            ));
        }
    }
    if resolution == Some(Resolution::DnsRoundRobin) && out.len() > 1 {
        diags.push(r.diag(
            codes::MR201,
            Level::Warning,
            "spec.endpoints",
            "resolution DNS_ROUND_ROBIN (Envoy LOGICAL_DNS) uses one endpoint: only the first is rendered",
        ));
        out.truncate(1);
    }
    out
}
