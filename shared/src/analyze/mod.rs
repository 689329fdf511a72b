//! Cross-resource analyzers with Istio's codes (`istioctl analyze`).
//!
//! Each analyzer reproduces one of Istio's (`pkg/config/analysis/analyzers`), under
//! the same name (see [`ANALYZERS`]), with Istio's codes, levels and message wording.
//! Resources without a namespace are analyzed as if in [`Context::default_namespace`].
//! As `istioctl analyze` does for files, a default `istio-ingressgateway` Service and
//! pod (label `istio: ingressgateway`) are assumed in `istio-system`.
//!
//! The lookups every analyzer needs (services by host, DestinationRule subsets,
//! workloads by label, gateways by name) are built once per [`Context`], lazily, in
//! [`index`]; the lints use the same indexes through [`Context::services`] & co.

pub mod destinationrule;
pub mod gateway;
pub mod index;
pub mod virtualservice;

use std::cell::OnceCell;
use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::load::{Document, Kind, Loaded, Resource};

pub use index::{
    DestinationRuleIndex, GatewayIndex, Index, KubeGateway, PortInfo, RuleRef, ServiceInfo,
    ServiceOrigin, ServiceRegistry, Workload, WorkloadOrigin, Workloads,
};

/// What every analyzer and lint sees: all resources, with their effective namespace.
pub struct Context<'a> {
    /// Every document, typed or set aside (Nodes and Gateway API Gateways are read raw).
    pub documents: Vec<&'a Document>,
    /// Namespace of resources that do not name one.
    pub default_namespace: &'a str,
    pub resources: Vec<&'a Resource>,
    live: OnceCell<Vec<&'a Resource>>,
    index: OnceCell<Index<'a>>,
}

impl<'a> Context<'a> {
    pub fn new(loaded: &'a Loaded, default_namespace: &'a str) -> Self {
        Context::from_documents(&loaded.documents, default_namespace)
    }

    /// A context over borrowed documents that need not sit in one [`Loaded`] (the
    /// editor keeps one parse per YAML document and borrows them all, no copy).
    pub fn from_documents(
        documents: impl IntoIterator<Item = &'a Document>,
        default_namespace: &'a str,
    ) -> Self {
        let documents: Vec<&'a Document> = documents.into_iter().collect();
        let resources = documents
            .iter()
            .filter_map(|d| match d {
                Document::Resource(r) => Some(r.as_ref()),
                Document::Other { .. } => None,
            })
            .collect();
        Context {
            documents,
            default_namespace,
            resources,
            live: OnceCell::new(),
            index: OnceCell::new(),
        }
    }

    /// Resources of one kind, in input order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &'a Resource> + '_ {
        self.resources
            .iter()
            .copied()
            .filter(move |r| r.kind == kind)
    }

    /// The objects Istio would see: of several resources with the same kind,
    /// effective namespace and name, only the last one given (as applying the
    /// files in order leaves it). In input order. The analyzers use these.
    pub fn objects(&self) -> &[&'a Resource] {
        self.live.get_or_init(|| {
            let mut last: HashMap<(Kind, &str, &str), usize> = HashMap::new();
            for (i, r) in self.resources.iter().enumerate() {
                last.insert((r.kind, self.namespace_of(r), r.name()), i);
            }
            self.resources
                .iter()
                .enumerate()
                .filter(|(i, r)| last.get(&(r.kind, self.namespace_of(r), r.name())) == Some(i))
                .map(|(_, r)| *r)
                .collect()
        })
    }

    /// [`Context::objects`] of one kind, in input order.
    pub fn objects_of_kind(&self, kind: Kind) -> impl Iterator<Item = &'a Resource> + '_ {
        self.objects()
            .iter()
            .copied()
            .filter(move |r| r.kind == kind)
    }

    /// The effective namespace of `r`.
    pub fn namespace_of(&self, r: &'a Resource) -> &'a str {
        r.namespace().unwrap_or(self.default_namespace)
    }

    /// `namespace/name` of `r` with its effective namespace (Istio's `FullName`).
    pub fn full_name(&self, r: &'a Resource) -> String {
        format!("{}/{}", self.namespace_of(r), r.name())
    }

    /// All indexes, built on first use.
    pub fn index(&self) -> &Index<'a> {
        self.index.get_or_init(|| Index::build(self))
    }

    /// Services and ServiceEntries by host, with Istio's visibility rules:
    /// `ctx.services().lookup("reviews", "default")` finds
    /// `reviews.default.svc.cluster.local` and its ports.
    pub fn services(&self) -> &ServiceRegistry<'a> {
        &self.index().services
    }

    /// DestinationRules by host FQDN and their subsets:
    /// `ctx.destination_rules().has_subset("reviews.default.svc.cluster.local", "v1")`.
    pub fn destination_rules(&self) -> &DestinationRuleIndex<'a> {
        &self.index().destination_rules
    }

    /// Pods and Deployment pod templates by label.
    pub fn workloads(&self) -> &Workloads<'a> {
        &self.index().workloads
    }

    /// Istio and Kubernetes Gateway API Gateways by namespace and name.
    pub fn gateways(&self) -> &GatewayIndex<'a> {
        &self.index().gateways
    }
}

/// Istio's name of every analyzer implemented here, in run order.
pub const ANALYZERS: &[&str] = &[
    "gateway.IngressGatewayPortAnalyzer",
    "gateway.ConflictingGatewayAnalyzer",
    "gateway.CertificateAnalyzer",
    "virtualservice.ConflictingMeshGatewayHostsAnalyzer",
    "virtualservice.DestinationHostAnalyzer",
    "virtualservice.DestinationRuleAnalyzer",
    "virtualservice.GatewayAnalyzer",
    "destinationrule.CaCertificateAnalyzer",
    "destinationrule.PodNotSelectedAnalyzer",
];

/// Runs one analyzer by Istio's name (one of [`ANALYZERS`]); `None` for an unknown name.
/// This is how Istio's own analyzer tests run them: one at a time.
pub fn run_analyzer(ctx: &Context<'_>, name: &str) -> Option<Vec<Diagnostic>> {
    let mut out = Vec::new();
    run_into(ctx, name, &mut out).then_some(out)
}

/// Appends the diagnostics of the analyzer `name` to `out`; false for an unknown name.
fn run_into(ctx: &Context<'_>, name: &str, out: &mut Vec<Diagnostic>) -> bool {
    match name {
        "gateway.IngressGatewayPortAnalyzer" => gateway::ingress_gateway_port(ctx, out),
        "gateway.ConflictingGatewayAnalyzer" => gateway::conflicting_gateways(ctx, out),
        "gateway.CertificateAnalyzer" => gateway::duplicate_certificates(ctx, out),
        "virtualservice.ConflictingMeshGatewayHostsAnalyzer" => {
            virtualservice::conflicting_mesh_gateway_hosts(ctx, out)
        }
        "virtualservice.DestinationHostAnalyzer" => virtualservice::destination_hosts(ctx, out),
        "virtualservice.DestinationRuleAnalyzer" => virtualservice::destination_subsets(ctx, out),
        "virtualservice.GatewayAnalyzer" => virtualservice::gateways(ctx, out),
        "destinationrule.CaCertificateAnalyzer" => destinationrule::ca_certificates(ctx, out),
        "destinationrule.PodNotSelectedAnalyzer" => destinationrule::pod_not_selected(ctx, out),
        _ => return false,
    }
    true
}

/// Runs every analyzer, in [`ANALYZERS`] order, into one list (a plain loop: no
/// per-analyzer list and no iterator adaptors to inline them into).
pub fn run(ctx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for name in ANALYZERS {
        run_into(ctx, name, &mut out);
    }
    out
}

/// Go's `%v` of a string slice: `[a b c]`.
pub(crate) fn go_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(" "))
}

/// Go's `%q` of a string.
pub(crate) fn go_quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use crate::load::load_str;

    /// Runs analyzer `name` on `yaml` (namespace `default` for resources without one).
    pub fn analyze(name: &str, yaml: &str) -> Vec<Diagnostic> {
        let loaded = load_str(yaml, Some("t.yaml"));
        let ctx = Context::new(&loaded, "default");
        let mut d = run_analyzer(&ctx, name).unwrap();
        d.sort_by(|a, b| (&a.resource, &a.path, &a.code).cmp(&(&b.resource, &b.path, &b.code)));
        d
    }

    /// (code, resource, path) of each diagnostic.
    pub fn triples(d: &[Diagnostic]) -> Vec<(String, String, String)> {
        d.iter()
            .map(|d| (d.code.clone(), d.resource.clone(), d.path.clone()))
            .collect()
    }

    pub fn t(code: &str, resource: &str, path: &str) -> (String, String, String) {
        (code.to_owned(), resource.to_owned(), path.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_str;

    #[test]
    fn every_listed_analyzer_runs_and_unknown_names_do_not() {
        let loaded = load_str("", None);
        let ctx = Context::new(&loaded, "default");
        for name in ANALYZERS {
            assert!(run_analyzer(&ctx, name).is_some(), "{name}");
        }
        assert!(run_analyzer(&ctx, "nope.Analyzer").is_none());
        assert!(run(&ctx).is_empty());
    }

    #[test]
    fn later_resource_with_the_same_name_replaces_earlier_ones() {
        let vs = |host: &str| {
            format!("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [{host}]\n---\n")
        };
        let yaml = format!("{}{}", vs("a"), vs("b"));
        let loaded = load_str(&yaml, None);
        let ctx = Context::new(&loaded, "default");
        assert_eq!(ctx.resources.len(), 2);
        let live = ctx.objects();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].source.line, ctx.resources[1].source.line);
        assert!(
            run(&ctx).is_empty(),
            "no IST0109 between two versions of one object"
        );
    }

    #[test]
    fn context_registry_resolves_short_names_and_ports() {
        let yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: bookinfo\nspec:\n  ports:\n  - port: 9080\n    name: http\n";
        let loaded = load_str(yaml, None);
        let ctx = Context::new(&loaded, "default");
        let s = ctx.services().lookup("reviews", "bookinfo").unwrap();
        assert_eq!(
            s.hosts,
            vec!["reviews.bookinfo.svc.cluster.local".to_owned()]
        );
        assert_eq!(s.port(9080).and_then(|p| p.name.as_deref()), Some("http"));
        assert!(ctx.services().lookup("reviews", "default").is_none());
        assert!(ctx
            .services()
            .lookup("reviews.bookinfo.svc.cluster.local", "default")
            .is_some());
        assert!(ctx
            .services()
            .lookup("istio-ingressgateway.istio-system.svc.cluster.local", "x")
            .is_some());
        assert_eq!(ctx.full_name(ctx.resources[0]), "bookinfo/reviews");
    }

    #[test]
    fn go_formatting_helpers() {
        assert_eq!(go_list(&["a", "b"]), "[a b]");
        assert_eq!(go_quote("v\"1"), "\"v\\\"1\"");
    }
}
