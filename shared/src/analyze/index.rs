//! Indexes built once per analysis run and shared by every analyzer and lint:
//! the service registry (Services and ServiceEntries by scoped host, as Istio's
//! `InitServiceEntryHostMap`), DestinationRule subsets by host, workloads by label,
//! and gateways by name.
//!
//! Building each index is linear in the input; lookups are hash lookups (plus a
//! scan of the wildcard ServiceEntry hosts, which are few), so analysis stays
//! linear on large inputs.

use crate::host;
use crate::load::{Document, Kind, Resource};
use crate::model::{self, OptSliceExt};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::Context;

/// Istio's root ("istio system") namespace: where the default ingress gateway lives.
pub const ISTIO_SYSTEM: &str = "istio-system";
/// Name of the default ingress gateway Service (and prefix of its dummy pod).
pub const DEFAULT_INGRESS_SERVICE: &str = "istio-ingressgateway";
/// The `exportTo` value meaning every namespace.
pub const EXPORT_ALL: &str = "*";
/// The `exportTo` value meaning the resource's own namespace.
pub const EXPORT_LOCAL: &str = ".";
/// Annotation that sets a Kubernetes Service's visibility.
pub const EXPORT_TO_ANNOTATION: &str = "networking.istio.io/exportTo";

/// Labels Istio copies from a pod's node onto its endpoints.
const NODE_TOPOLOGY_LABELS: &[&str] = &[
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
];
/// Label Istio sets to the pod's node name.
const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Labels of the default ingress gateway pod (and selector of its Service).
fn default_ingress_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("istio".to_owned(), "ingressgateway".to_owned())])
}

/// Ports of the default ingress gateway Service Istio adds to file-only analysis.
const DEFAULT_INGRESS_PORTS: &[(u32, &str)] = &[
    (80, "http2"),
    (443, "https"),
    (31400, "tcp"),
    (15443, "tls"),
];

/// Everything the analyzers look up, built once per [`Context`].
pub struct Index<'a> {
    pub services: ServiceRegistry<'a>,
    pub destination_rules: DestinationRuleIndex<'a>,
    pub workloads: Workloads<'a>,
    pub gateways: GatewayIndex<'a>,
}

impl<'a> Index<'a> {
    pub fn build(ctx: &Context<'a>) -> Self {
        let nodes = node_labels(ctx);
        Index {
            services: ServiceRegistry::build(ctx),
            destination_rules: DestinationRuleIndex::build(ctx),
            workloads: Workloads::build(ctx, &nodes),
            gateways: GatewayIndex::build(ctx),
        }
    }
}

// ---------------------------------------------------------------------------
// Service registry
// ---------------------------------------------------------------------------

/// Where a registry entry comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ServiceOrigin<'a> {
    /// A Kubernetes Service.
    Service(&'a Resource),
    /// A ServiceEntry.
    ServiceEntry(&'a Resource),
    /// The `istio-ingressgateway` Service Istio assumes in `istio-system` when
    /// analyzing files (`AddDefaultResources`).
    DefaultIngress,
}

impl<'a> ServiceOrigin<'a> {
    pub fn resource(&self) -> Option<&'a Resource> {
        match self {
            ServiceOrigin::Service(r) | ServiceOrigin::ServiceEntry(r) => Some(r),
            ServiceOrigin::DefaultIngress => None,
        }
    }
}

/// One port of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    pub number: u32,
    pub name: Option<String>,
    /// As written (`TCP`, `HTTP`, …), if given.
    pub protocol: Option<String>,
    /// The numeric target port, if given as a number.
    pub target_port: Option<u32>,
}

/// A Service or ServiceEntry as the analyzers see it.
#[derive(Debug, Clone)]
pub struct ServiceInfo<'a> {
    pub origin: ServiceOrigin<'a>,
    /// The namespace the Service/ServiceEntry lives in.
    pub namespace: String,
    /// Its hosts as FQDNs (`name.ns.svc.cluster.local` for a Service).
    pub hosts: Vec<String>,
    pub ports: Vec<PortInfo>,
    /// Namespaces it is visible from: `*` or namespace names.
    pub visible_to: Vec<String>,
    /// A ServiceEntry's `workloadSelector.labels`.
    pub workload_selector: Option<&'a BTreeMap<String, String>>,
    /// A Kubernetes Service's `spec.selector` (`None`: selects every pod of its namespace).
    pub pod_selector: Option<BTreeMap<String, String>>,
}

impl ServiceInfo<'_> {
    pub fn port(&self, number: u32) -> Option<&PortInfo> {
        self.ports.iter().find(|p| p.number == number)
    }
    /// True when `ns` sees this service.
    pub fn visible_from(&self, ns: &str) -> bool {
        self.visible_to.iter().any(|s| s == EXPORT_ALL || s == ns)
    }
}

/// Services and ServiceEntries by (visibility scope, FQDN), with Istio's lookup rules.
pub struct ServiceRegistry<'a> {
    services: Vec<ServiceInfo<'a>>,
    /// (scope, fqdn) → service; the scope is `*` or a namespace. Later entries win,
    /// Services after ServiceEntries, as in Istio.
    exact: HashMap<(String, String), usize>,
    /// Wildcard hosts (`*.example.com`, `*`): (scope, host, service).
    wildcards: Vec<(String, String, usize)>,
    /// Namespace → Kubernetes Services (and the default ingress Service) in it.
    kube_by_namespace: HashMap<String, Vec<usize>>,
}

impl<'a> ServiceRegistry<'a> {
    fn build(ctx: &Context<'a>) -> Self {
        let mut reg = ServiceRegistry {
            services: Vec::new(),
            exact: HashMap::new(),
            wildcards: Vec::new(),
            kube_by_namespace: HashMap::new(),
        };
        for r in ctx.objects_of_kind(Kind::ServiceEntry) {
            let Some(se) = r.service_entry() else {
                continue;
            };
            let ns = ctx.namespace_of(r);
            let hosts: Vec<String> = se
                .hosts
                .items()
                .iter()
                .map(|h| host::to_fqdn(h, ns))
                .collect();
            let ports = se
                .ports
                .items()
                .iter()
                .map(|p| PortInfo {
                    number: p.number.unwrap_or(0),
                    name: p.name.clone(),
                    protocol: p.protocol.clone(),
                    target_port: p.target_port,
                })
                .collect();
            let visible_to = export_scopes(se.export_to.items(), ns);
            reg.add(ServiceInfo {
                origin: ServiceOrigin::ServiceEntry(r),
                namespace: ns.to_owned(),
                hosts,
                ports,
                visible_to,
                workload_selector: se
                    .workload_selector
                    .as_ref()
                    .and_then(|w| w.labels.as_ref()),
                pod_selector: None,
            });
        }
        for r in ctx.objects_of_kind(Kind::Service) {
            let Some(svc) = r.service() else { continue };
            let ns = ctx.namespace_of(r);
            let spec = svc.spec.as_ref();
            let ports = spec
                .map(|s| s.ports.items())
                .unwrap_or(&[])
                .iter()
                .map(|p| PortInfo {
                    number: p.port.unwrap_or(0),
                    name: p.name.clone(),
                    protocol: p.protocol.clone(),
                    target_port: match p.target_port {
                        Some(model::IntOrString::Int(n)) => u32::try_from(n).ok(),
                        _ => None,
                    },
                })
                .collect();
            let anno = r
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(EXPORT_TO_ANNOTATION))
                .map(String::as_str)
                .unwrap_or("");
            reg.add(ServiceInfo {
                origin: ServiceOrigin::Service(r),
                namespace: ns.to_owned(),
                hosts: vec![host::to_fqdn(r.name(), ns)],
                ports,
                visible_to: annotation_scopes(anno, ns),
                workload_selector: None,
                pod_selector: spec.and_then(|s| s.selector.clone()),
            });
        }
        reg.add(ServiceInfo {
            origin: ServiceOrigin::DefaultIngress,
            namespace: ISTIO_SYSTEM.to_owned(),
            hosts: vec![host::to_fqdn(DEFAULT_INGRESS_SERVICE, ISTIO_SYSTEM)],
            ports: DEFAULT_INGRESS_PORTS
                .iter()
                .map(|&(n, name)| PortInfo {
                    number: n,
                    name: Some(name.to_owned()),
                    protocol: Some("TCP".to_owned()),
                    target_port: Some(n),
                })
                .collect(),
            visible_to: vec![EXPORT_ALL.to_owned()],
            workload_selector: None,
            pod_selector: Some(default_ingress_labels()),
        });
        reg
    }

    fn add(&mut self, info: ServiceInfo<'a>) {
        let idx = self.services.len();
        if !matches!(info.origin, ServiceOrigin::ServiceEntry(_)) {
            self.kube_by_namespace
                .entry(info.namespace.clone())
                .or_default()
                .push(idx);
        }
        for h in &info.hosts {
            for scope in &info.visible_to {
                self.exact.insert((scope.clone(), h.clone()), idx);
                if host::is_wildcard(h) {
                    self.wildcards.push((scope.clone(), h.clone(), idx));
                }
            }
        }
        self.services.push(info);
    }

    /// Every Service and ServiceEntry (and the default ingress gateway Service).
    pub fn all(&self) -> &[ServiceInfo<'a>] {
        &self.services
    }

    /// The service `host` names when referenced from namespace `from_ns` by a
    /// resource without `exportTo` (Istio's `GetDestinationHost`).
    pub fn lookup(&self, host: &str, from_ns: &str) -> Option<&ServiceInfo<'a>> {
        self.lookup_exported(host, from_ns, &[])
    }

    /// Istio's `GetDestinationHost`: the service `host` names for a resource in
    /// `from_ns` whose own `exportTo` is `export_to`. Short names are resolved in
    /// `from_ns`; a service is found when it is exported to every namespace, to
    /// `from_ns` (no `exportTo`) or to one of the `export_to` namespaces; wildcard
    /// hosts (`*.example.com`) match hosts with their suffix.
    pub fn lookup_exported(
        &self,
        host: &str,
        from_ns: &str,
        export_to: &[String],
    ) -> Option<&ServiceInfo<'a>> {
        let fqdn = host::to_fqdn(host, from_ns);
        let get = |scope: &str| {
            self.exact
                .get(&(scope.to_owned(), fqdn.clone()))
                .and_then(|&i| self.services.get(i))
        };
        if let Some(s) = get(EXPORT_ALL) {
            return Some(s);
        }
        if export_to.is_empty() {
            if let Some(s) = get(from_ns) {
                return Some(s);
            }
        } else {
            for e in export_to {
                let scope = if e == EXPORT_LOCAL {
                    from_ns
                } else {
                    e.as_str()
                };
                if let Some(s) = get(scope) {
                    return Some(s);
                }
            }
        }
        let bare = host.strip_prefix('*').unwrap_or(host);
        self.wildcards
            .iter()
            .filter(|(scope, _, _)| scope == EXPORT_ALL || scope == from_ns)
            .find(|(_, se_host, _)| bare.ends_with(se_host.strip_prefix('*').unwrap_or(se_host)))
            .and_then(|&(_, _, i)| self.services.get(i))
    }

    /// Kubernetes Services (not ServiceEntries) in `ns` whose selector matches `labels`.
    /// A Service without selector matches every pod of its namespace, as in Istio.
    pub fn services_selecting<'s>(
        &'s self,
        ns: &'s str,
        labels: &'s BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'s ServiceInfo<'a>> + 's {
        self.kube_by_namespace
            .get(ns)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.services.get(i))
            .filter(move |s| {
                s.pod_selector
                    .as_ref()
                    .is_none_or(|sel| selector_matches(sel, labels))
            })
    }
}

/// Visibility scopes of a ServiceEntry/VirtualService/DestinationRule `exportTo`.
pub fn export_scopes(export_to: &[String], ns: &str) -> Vec<String> {
    if export_to.is_empty() || export_to.iter().any(|e| e == EXPORT_ALL) {
        return vec![EXPORT_ALL.to_owned()];
    }
    let mut out: Vec<String> = Vec::new();
    for e in export_to {
        let scope = if e == EXPORT_LOCAL { ns } else { e.as_str() };
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

/// Visibility scopes of a Service's `networking.istio.io/exportTo` annotation.
fn annotation_scopes(anno: &str, ns: &str) -> Vec<String> {
    if anno.trim().is_empty() {
        return vec![EXPORT_ALL.to_owned()];
    }
    let list: Vec<String> = anno.split(',').map(|s| s.trim().to_owned()).collect();
    export_scopes(&list, ns)
}

// ---------------------------------------------------------------------------
// DestinationRules
// ---------------------------------------------------------------------------

/// A DestinationRule as indexed by host.
#[derive(Debug, Clone, Copy)]
pub struct RuleRef<'a> {
    pub resource: &'a Resource,
    pub rule: &'a model::DestinationRule,
    /// Its effective namespace.
    pub namespace: &'a str,
}

/// DestinationRules by the FQDN of their `host`, and the (host, subset) pairs they define.
pub struct DestinationRuleIndex<'a> {
    by_host: HashMap<String, Vec<RuleRef<'a>>>,
    subsets: HashSet<(String, String)>,
}

impl<'a> DestinationRuleIndex<'a> {
    fn build(ctx: &Context<'a>) -> Self {
        let mut by_host: HashMap<String, Vec<RuleRef<'a>>> = HashMap::new();
        let mut subsets = HashSet::new();
        for r in ctx.objects_of_kind(Kind::DestinationRule) {
            let Some(dr) = r.destination_rule() else {
                continue;
            };
            let ns = ctx.namespace_of(r);
            let fqdn = host::to_fqdn(dr.host.as_deref().unwrap_or(""), ns);
            for s in dr.subsets.items() {
                subsets.insert((fqdn.clone(), s.name.clone().unwrap_or_default()));
            }
            by_host.entry(fqdn).or_default().push(RuleRef {
                resource: r,
                rule: dr,
                namespace: ns,
            });
        }
        DestinationRuleIndex { by_host, subsets }
    }

    /// DestinationRules whose host (resolved in their own namespace) is `fqdn`.
    pub fn for_host(&self, fqdn: &str) -> &[RuleRef<'a>] {
        self.by_host.get(fqdn).map(Vec::as_slice).unwrap_or(&[])
    }

    /// True when some DestinationRule for `fqdn` defines subset `subset`.
    pub fn has_subset(&self, fqdn: &str, subset: &str) -> bool {
        self.subsets.contains(&(fqdn.to_owned(), subset.to_owned()))
    }

    /// The subset `name` of a DestinationRule for `fqdn`, with its rule.
    pub fn subset(&self, fqdn: &str, name: &str) -> Option<(RuleRef<'a>, &'a model::Subset)> {
        self.for_host(fqdn).iter().find_map(|r| {
            r.rule
                .subsets
                .items()
                .iter()
                .find(|s| s.name.as_deref() == Some(name))
                .map(|s| (*r, s))
        })
    }
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

/// What a workload entry comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WorkloadOrigin<'a> {
    Pod(&'a Resource),
    /// A Deployment's pod template (the pods it will create).
    Deployment(&'a Resource),
    /// The dummy `istio-ingressgateway` pod Istio assumes in `istio-system`.
    DefaultIngress,
}

/// A pod (or pod template) with its labels.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    pub origin: WorkloadOrigin<'a>,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Topology labels Istio adds from the pod's node (region, zone, subzone, hostname).
    pub node_labels: BTreeMap<String, String>,
}

impl Workload<'_> {
    fn label(&self, key: &str, with_node: bool) -> Option<&String> {
        self.labels.get(key).or_else(|| {
            if with_node {
                self.node_labels.get(key)
            } else {
                None
            }
        })
    }
    /// True when every `key=value` of `selector` is on this workload (node
    /// topology labels count when `with_node`). An empty selector matches.
    pub fn matches(&self, selector: &BTreeMap<String, String>, with_node: bool) -> bool {
        selector
            .iter()
            .all(|(k, v)| self.label(k, with_node) == Some(v))
    }
}

/// Pods, Deployment pod templates and the default ingress gateway pod, indexed by label.
pub struct Workloads<'a> {
    items: Vec<Workload<'a>>,
    /// (key, value) → workloads carrying it (pod labels and node topology labels).
    by_label: HashMap<(String, String), Vec<usize>>,
}

impl<'a> Workloads<'a> {
    fn build(ctx: &Context<'a>, nodes: &HashMap<String, BTreeMap<String, String>>) -> Self {
        let mut items = Vec::new();
        for r in ctx.objects().iter().copied() {
            let (origin, labels, node_name) = match r.kind {
                Kind::Pod => (
                    WorkloadOrigin::Pod(r),
                    r.labels().cloned().unwrap_or_default(),
                    r.pod()
                        .and_then(|p| p.spec.as_ref())
                        .and_then(|s| s.node_name.as_deref()),
                ),
                Kind::Deployment => {
                    let labels = r
                        .deployment()
                        .and_then(|d| d.spec.as_ref())
                        .and_then(|s| s.template.as_ref())
                        .and_then(|t| t.metadata.as_ref())
                        .and_then(|m| m.labels.clone())
                        .unwrap_or_default();
                    (WorkloadOrigin::Deployment(r), labels, None)
                }
                _ => continue,
            };
            let mut node_labels = BTreeMap::new();
            if let Some(node) = node_name.filter(|n| !n.is_empty()) {
                if let Some(nl) = nodes.get(node) {
                    for k in NODE_TOPOLOGY_LABELS {
                        if let Some(v) = nl.get(*k) {
                            node_labels.insert((*k).to_owned(), v.clone());
                        }
                    }
                    node_labels.insert(HOSTNAME_LABEL.to_owned(), node.to_owned());
                }
            }
            items.push(Workload {
                origin,
                namespace: ctx.namespace_of(r).to_owned(),
                labels,
                node_labels,
            });
        }
        items.push(Workload {
            origin: WorkloadOrigin::DefaultIngress,
            namespace: ISTIO_SYSTEM.to_owned(),
            labels: default_ingress_labels(),
            node_labels: BTreeMap::new(),
        });
        let mut by_label: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, w) in items.iter().enumerate() {
            for (k, v) in w.labels.iter().chain(w.node_labels.iter()) {
                let list = by_label.entry((k.clone(), v.clone())).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        Workloads { items, by_label }
    }

    pub fn all(&self) -> &[Workload<'a>] {
        &self.items
    }

    /// Workloads (in any namespace) that `selector` selects; an empty selector
    /// selects all. Node topology labels count when `with_node`.
    pub fn matching<'s>(
        &'s self,
        selector: &'s BTreeMap<String, String>,
        with_node: bool,
    ) -> Box<dyn Iterator<Item = &'s Workload<'a>> + 's> {
        if selector.is_empty() {
            return Box::new(self.items.iter());
        }
        // Candidates: the shortest posting list among the selector's pairs.
        let mut best: Option<&Vec<usize>> = None;
        for (k, v) in selector {
            match self.by_label.get(&(k.clone(), v.clone())) {
                None => return Box::new(std::iter::empty()),
                Some(list) if best.is_none_or(|b| list.len() < b.len()) => best = Some(list),
                Some(_) => {}
            }
        }
        let candidates = best.map(Vec::as_slice).unwrap_or(&[]);
        Box::new(
            candidates
                .iter()
                .filter_map(move |&i| self.items.get(i))
                .filter(move |w| w.matches(selector, with_node)),
        )
    }

    /// True when some workload matches `selector`.
    pub fn any_matching(&self, selector: &BTreeMap<String, String>, with_node: bool) -> bool {
        self.matching(selector, with_node).next().is_some()
    }
}

/// True when every `key=value` of `selector` is in `labels` (Kubernetes `SelectorFromSet`).
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A label selector as Kubernetes prints it: `k1=v1,k2=v2` (sorted by key).
pub fn selector_string(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Node name → labels, from `v1 Node` documents (kept as raw documents by the loader).
fn node_labels(ctx: &Context<'_>) -> HashMap<String, BTreeMap<String, String>> {
    let mut out = HashMap::new();
    for doc in ctx.documents.iter().copied() {
        let Document::Other { raw, .. } = doc else {
            continue;
        };
        if raw.get("kind").and_then(Value::as_str) != Some("Node")
            || raw.get("apiVersion").and_then(Value::as_str) != Some("v1")
        {
            continue;
        }
        let meta = raw.get("metadata");
        let Some(name) = meta.and_then(|m| m.get("name")).and_then(Value::as_str) else {
            continue;
        };
        out.insert(
            name.to_owned(),
            string_map(meta.and_then(|m| m.get("labels"))),
        );
    }
    out
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Gateways
// ---------------------------------------------------------------------------

/// A Kubernetes Gateway API `Gateway` (kept as a raw document by the loader).
#[derive(Debug, Clone, PartialEq)]
pub struct KubeGateway {
    pub namespace: String,
    pub name: String,
    /// `spec.listeners[].hostname`; `None` for a listener without one (all hosts).
    pub hostnames: Vec<Option<String>>,
}

/// Istio Gateways and Kubernetes Gateway API Gateways by (namespace, name).
pub struct GatewayIndex<'a> {
    istio: HashMap<(String, String), &'a Resource>,
    kube: HashMap<(String, String), KubeGateway>,
}

impl<'a> GatewayIndex<'a> {
    fn build(ctx: &Context<'a>) -> Self {
        let mut istio = HashMap::new();
        for r in ctx.objects_of_kind(Kind::Gateway) {
            istio
                .entry((ctx.namespace_of(r).to_owned(), r.name().to_owned()))
                .or_insert(r);
        }
        let mut kube = HashMap::new();
        for doc in ctx.documents.iter().copied() {
            let Document::Other { raw, .. } = doc else {
                continue;
            };
            let api = raw.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if raw.get("kind").and_then(Value::as_str) != Some("Gateway")
                || !api.starts_with("gateway.networking.k8s.io/")
            {
                continue;
            }
            let meta = raw.get("metadata");
            let name = meta
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let namespace = meta
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(ctx.default_namespace);
            let hostnames = raw
                .get("spec")
                .and_then(|s| s.get("listeners"))
                .and_then(Value::as_array)
                .map(|ls| {
                    ls.iter()
                        .map(|l| {
                            l.get("hostname")
                                .and_then(Value::as_str)
                                .filter(|h| !h.is_empty())
                                .map(str::to_owned)
                        })
                        .collect()
                })
                .unwrap_or_default();
            kube.insert(
                (namespace.to_owned(), name.to_owned()),
                KubeGateway {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    hostnames,
                },
            );
        }
        GatewayIndex { istio, kube }
    }

    /// The Istio Gateway `name` in `namespace`.
    pub fn istio(&self, namespace: &str, name: &str) -> Option<&'a Resource> {
        self.istio
            .get(&(namespace.to_owned(), name.to_owned()))
            .copied()
    }

    /// The Kubernetes Gateway API Gateway `name` in `namespace`.
    pub fn kube(&self, namespace: &str, name: &str) -> Option<&KubeGateway> {
        self.kube.get(&(namespace.to_owned(), name.to_owned()))
    }
}

/// Splits a VirtualService `gateways` entry into (namespace, name): `ns/name`, or
/// `name` in `vs_ns` (Istio's `NewShortOrFullName`).
pub fn gateway_ref<'s>(reference: &'s str, vs_ns: &'s str) -> (&'s str, &'s str) {
    match reference.split_once('/') {
        Some((ns, name)) => (ns, name),
        None => (vs_ns, reference),
    }
}
