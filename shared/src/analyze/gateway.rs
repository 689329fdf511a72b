//! Gateway analyzers: selectors without workloads (IST0101), ports the gateway
//! Service does not expose (IST0162), conflicting servers (IST0145) and
//! certificates shared between gateways (IST0138).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::index::{selector_string, Workloads};
use super::{go_list, go_quote, Context};
use crate::diag::{codes, Diagnostic, Level};
use crate::load::{Kind, Resource};
use crate::model::{Gateway, OptSliceExt, ServerTLSSettings};
use crate::yaml::{join_index, join_key};

fn gateways<'a, 'c>(
    ctx: &'c Context<'a>,
) -> impl Iterator<Item = (&'a Resource, &'a Gateway)> + 'c {
    ctx.objects_of_kind(Kind::Gateway)
        .filter_map(|r| r.gateway().map(|g| (r, g)))
}

fn selector_of(gw: &Gateway) -> BTreeMap<String, String> {
    gw.selector.clone().unwrap_or_default()
}

/// `gateway.IngressGatewayPortAnalyzer`: the gateway's selector must match some pod
/// (IST0101), and each server port must be a port or target port of a TCP Service
/// port selecting those pods (IST0162).
pub fn ingress_gateway_port(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let workloads = ctx.workloads();
    let registry = ctx.services();
    // Selector → (pods matched, ports their Services expose); gateways share selectors.
    let mut cache: HashMap<String, (usize, HashSet<u32>)> = HashMap::new();
    for (r, gw) in gateways(ctx) {
        let selector = selector_of(gw);
        let sel = selector_string(&selector);
        let (matched, ports) = cache.entry(sel.clone()).or_insert_with(|| {
            let mut matched = 0;
            let mut ports = HashSet::new();
            for w in workloads.matching(&selector, false) {
                matched += 1;
                for svc in registry.services_selecting(&w.namespace, &w.labels) {
                    for p in &svc.ports {
                        if p.protocol.as_deref().is_none_or(|proto| proto == "TCP") {
                            ports.insert(p.number);
                            if let Some(tp) = p.target_port.filter(|&tp| tp != 0) {
                                ports.insert(tp);
                            }
                        }
                    }
                }
            }
            (matched, ports)
        });
        if *matched == 0 {
            out.push(r.diag(
                codes::IST0101,
                Level::Error,
                "spec.selector",
                format!("Referenced selector not found: {}", go_quote(&sel)),
            ));
            continue;
        }
        for (i, server) in gw.servers.items().iter().enumerate() {
            let Some(port) = server.port.as_ref() else {
                continue;
            };
            let number = port.number.unwrap_or(0);
            if ports.contains(&number) {
                continue;
            }
            out.push(r.diag(
                codes::IST0162,
                Level::Warning,
                join_key(&join_key(&join_index("spec.servers", i), "port"), "number"),
                format!(
                    "The gateway is listening on a target port (port {number}) that is not defined in \
                     the Service associated with its workload instances (Pod selector {sel}). If you \
                     need to access the gateway port through the gateway Service, it will not be available."
                ),
            ));
        }
    }
}

/// True when some workload matches both selectors.
fn share_workload(
    workloads: &Workloads<'_>,
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> bool {
    let mut both = a.clone();
    for (k, v) in b {
        if both.get(k).is_some_and(|x| x != v) {
            return false;
        }
        both.insert(k.clone(), v.clone());
    }
    workloads.any_matching(&both, false)
}

/// (selector, port) of gateway servers that may conflict.
type BucketKey<'s> = (&'s str, u32);

/// `gateway.ConflictingGatewayAnalyzer`: two gateways whose selectors pick the same
/// workloads must not declare the same host (and bind) on the same port (IST0145).
/// As in Istio, a gateway's hosts on a port are those of its last server on that port,
/// and hosts are compared as written.
pub fn conflicting_gateways(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    struct Gw<'a> {
        r: &'a Resource,
        gw: &'a Gateway,
        name: String,
        selector: BTreeMap<String, String>,
        sel: String,
    }
    let all: Vec<Gw<'_>> = gateways(ctx)
        .map(|(r, gw)| {
            let selector = selector_of(gw);
            Gw {
                r,
                gw,
                name: ctx.full_name(r),
                sel: selector_string(&selector),
                selector,
            }
        })
        .collect();
    // (selector, port) → gateway → (hosts, bind) of its last server on that port.
    let mut buckets: HashMap<BucketKey<'_>, HashMap<usize, (&[String], &str)>> = HashMap::new();
    for (gi, g) in all.iter().enumerate() {
        for server in g.gw.servers.items() {
            let port = server.port.as_ref().and_then(|p| p.number).unwrap_or(0);
            let bind = server.bind.as_deref().unwrap_or("");
            buckets
                .entry((g.sel.as_str(), port))
                .or_default()
                .insert(gi, (server.hosts.items(), bind));
        }
    }
    // Per bucket: (host, bind) → gateways declaring it.
    let mut hosts: HashMap<BucketKey<'_>, HashMap<(&str, &str), Vec<usize>>> = HashMap::new();
    for (key, per_gw) in &buckets {
        let index = hosts.entry(*key).or_default();
        let mut gis: Vec<&usize> = per_gw.keys().collect();
        gis.sort();
        for gi in gis {
            if let Some((hs, bind)) = per_gw.get(gi) {
                for h in hs.iter() {
                    index.entry((h.as_str(), bind)).or_default().push(*gi);
                }
            }
        }
    }
    // Distinct selectors of gateways with servers, and which of them pick the same pods.
    let mut selectors: Vec<(&str, &BTreeMap<String, String>)> = Vec::new();
    let mut seen = HashSet::new();
    for g in &all {
        if !g.gw.servers.items().is_empty() && seen.insert(g.sel.as_str()) {
            selectors.push((g.sel.as_str(), &g.selector));
        }
    }
    let workloads = ctx.workloads();
    let mut related: HashMap<(&str, &str), bool> = HashMap::new();
    for (gi, g) in all.iter().enumerate() {
        let mut same: Vec<&str> = Vec::new();
        for &(x, xsel) in &selectors {
            let hit = *related.entry((g.sel.as_str(), x)).or_insert_with(|| {
                x == g.sel
                    || ((x.contains(g.sel.as_str()) || g.sel.contains(x))
                        && share_workload(workloads, &g.selector, xsel))
            });
            if hit {
                same.push(x);
            }
        }
        for (i, server) in g.gw.servers.items().iter().enumerate() {
            let port = server.port.as_ref().and_then(|p| p.number).unwrap_or(0);
            let bind = server.bind.as_deref().unwrap_or("");
            let mut conflicting: BTreeSet<&str> = BTreeSet::new();
            for x in &same {
                let Some(index) = hosts.get(&(*x, port)) else {
                    continue;
                };
                for h in server.hosts.items() {
                    for &gj in index.get(&(h.as_str(), bind)).into_iter().flatten() {
                        if let Some(other) = all.get(gj).filter(|o| gj != gi && o.name != g.name) {
                            conflicting.insert(other.name.as_str());
                        }
                    }
                }
            }
            if conflicting.is_empty() {
                continue;
            }
            let more = conflicting.len().saturating_sub(MAX_LISTED);
            let names: Vec<&str> = conflicting.into_iter().take(MAX_LISTED).collect();
            out.push(g.r.diag(
                codes::IST0145,
                Level::Error,
                join_key(&join_index("spec.servers", i), "hosts"),
                format!(
                    "Conflict with gateways {}{} (workload selector {}, port {port}, hosts {}).",
                    names.join(","),
                    and_more(more),
                    g.sel,
                    server.hosts.items().join(",")
                ),
            ));
        }
    }
}

/// The identity of a server certificate, as Istio compares them: the credential
/// name, or the certificate and key files when both are set.
fn certificate_key(tls: &ServerTLSSettings) -> Option<(String, &'static str)> {
    fn set(s: &Option<String>) -> Option<&str> {
        s.as_deref().filter(|s| !s.is_empty())
    }
    if let Some(c) = set(&tls.credential_name) {
        return Some((format!("credential\0{c}"), "credentialName"));
    }
    match (set(&tls.server_certificate), set(&tls.private_key)) {
        (Some(cert), Some(key)) => Some((format!("files\0{cert}\0{key}"), "serverCertificate")),
        _ => None,
    }
}

/// True when every `key=value` of `x` is in `y` (an empty `x` is in every selector).
fn selector_subset(x: &BTreeMap<String, String>, y: &BTreeMap<String, String>) -> bool {
    x.iter().all(|(k, v)| y.get(k) == Some(v))
}

/// `gateway.CertificateAnalyzer`: a gateway must not share a server certificate with
/// another gateway whose selector includes its own (IST0138): HTTP/2 connection reuse
/// then sends requests to the wrong server.
pub fn duplicate_certificates(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    struct Use<'a> {
        r: &'a Resource,
        name: String,
        selector: BTreeMap<String, String>,
        server: usize,
        field: &'static str,
    }
    let mut groups: HashMap<String, Vec<Use<'_>>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (r, gw) in gateways(ctx) {
        for (i, server) in gw.servers.items().iter().enumerate() {
            let Some((key, field)) = server.tls.as_ref().and_then(certificate_key) else {
                continue;
            };
            let list = groups.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                Vec::new()
            });
            list.push(Use {
                r,
                name: ctx.full_name(r),
                selector: selector_of(gw),
                server: i,
                field,
            });
        }
    }
    for key in &order {
        let Some(uses) = groups.get(key) else {
            continue;
        };
        if uses.len() < 2 {
            continue;
        }
        // Gateways sharing this certificate, by selector (a group usually has few selectors).
        let mut by_selector: Vec<(&BTreeMap<String, String>, Vec<&str>)> = Vec::new();
        for u in uses {
            match by_selector.iter_mut().find(|(sel, _)| **sel == u.selector) {
                Some((_, names)) => {
                    if !names.contains(&u.name.as_str()) {
                        names.push(u.name.as_str());
                    }
                }
                None => by_selector.push((&u.selector, vec![u.name.as_str()])),
            }
        }
        for cur in uses {
            let mut others: Vec<&str> = Vec::new();
            let mut more = 0usize;
            for (sel, names) in &by_selector {
                if !selector_subset(&cur.selector, sel) {
                    continue;
                }
                for name in names.iter().filter(|n| **n != cur.name) {
                    if others.len() < MAX_LISTED {
                        others.push(name);
                    } else {
                        more += 1;
                    }
                }
            }
            if others.is_empty() {
                continue;
            }
            let mut listed = vec![cur.name.as_str()];
            listed.extend(others);
            out.push(cur.r.diag(
                codes::IST0138,
                Level::Warning,
                join_key(
                    &join_key(&join_index("spec.servers", cur.server), "tls"),
                    cur.field,
                ),
                format!(
                    "Duplicate certificate in multiple gateways {}{} may cause 404s if clients \
                     re-use HTTP2 connections.",
                    go_list(&listed),
                    and_more(more)
                ),
            ));
        }
    }
}

/// At most this many other gateways are named in one message.
const MAX_LISTED: usize = 10;

/// ` (and N more)` when a list was cut at [`MAX_LISTED`].
fn and_more(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" (and {n} more)")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{analyze, t, triples};

    fn gw(name: &str, ns: &str, selector: &str, servers: &str) -> String {
        format!("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector: {selector}\n  servers:\n{servers}---\n")
    }
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: gw-1\n  namespace: gw\n  labels: {app: gw}\n---\n";
    const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: gw\n  namespace: gw\nspec:\n  selector: {app: gw}\n  ports:\n  - port: 80\n    targetPort: 8080\n  - port: 53\n    protocol: UDP\n---\n";

    #[test]
    fn ingress_port_scenarios() {
        let http = |n: u32| {
            format!("  - port: {{number: {n}, name: p, protocol: HTTP}}\n    hosts: [\"*\"]\n")
        };
        let cases = [
            (
                "service port",
                gw("a", "gw", "{app: gw}", &http(80)),
                vec![],
            ),
            (
                "service target port",
                gw("a", "gw", "{app: gw}", &http(8080)),
                vec![],
            ),
            (
                "port the service lacks",
                gw("a", "gw", "{app: gw}", &http(9000)),
                vec![t("IST0162", "Gateway gw/a", "spec.servers[0].port.number")],
            ),
            (
                "UDP ports do not count",
                gw("a", "gw", "{app: gw}", &http(53)),
                vec![t("IST0162", "Gateway gw/a", "spec.servers[0].port.number")],
            ),
            (
                "selector without pods",
                gw("a", "gw", "{app: typo}", &http(80)),
                vec![t("IST0101", "Gateway gw/a", "spec.selector")],
            ),
            (
                "default ingress gateway",
                gw("a", "x", "{istio: ingressgateway}", &http(443)),
                vec![],
            ),
        ];
        for (name, yaml, want) in cases {
            let d = analyze(
                "gateway.IngressGatewayPortAnalyzer",
                &format!("{POD}{SVC}{yaml}"),
            );
            assert_eq!(triples(&d), want, "{name}");
        }
        let d = analyze(
            "gateway.IngressGatewayPortAnalyzer",
            &gw("a", "gw", "{istio: typo}", &http(80)),
        );
        assert_eq!(
            d[0].message,
            "Referenced selector not found: \"istio=typo\""
        );
    }

    #[test]
    fn conflict_scenarios() {
        let srv = |port: u32, host: &str| {
            format!(
                "  - port: {{number: {port}, name: p, protocol: HTTP}}\n    hosts: [\"{host}\"]\n"
            )
        };
        let cases = [
            (
                "same selector, port and host",
                gw("a", "d", "{istio: ingressgateway}", &srv(80, "x.com")) + &gw("b", "d", "{istio: ingressgateway}", &srv(80, "x.com")),
                vec![
                    t("IST0145", "Gateway d/a", "spec.servers[0].hosts"),
                    t("IST0145", "Gateway d/b", "spec.servers[0].hosts"),
                ],
            ),
            (
                "different port",
                gw("a", "d", "{istio: ingressgateway}", &srv(80, "x.com")) + &gw("b", "d", "{istio: ingressgateway}", &srv(443, "x.com")),
                vec![],
            ),
            (
                "different host",
                gw("a", "d", "{istio: ingressgateway}", &srv(80, "x.com")) + &gw("b", "d", "{istio: ingressgateway}", &srv(80, "y.com")),
                vec![],
            ),
            (
                "wildcard and host are not duplicates",
                gw("a", "d", "{istio: ingressgateway}", &srv(80, "*.x.com")) + &gw("b", "d", "{istio: ingressgateway}", &srv(80, "a.x.com")),
                vec![],
            ),
            (
                "sub-selector picking the same pod",
                gw("a", "d", "{app: gw}", &srv(80, "x.com")) + &gw("b", "d", "{app: gw, tier: edge}", &srv(80, "x.com"))
                    + "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: d\n  labels: {app: gw, tier: edge}\n---\n",
                vec![
                    t("IST0145", "Gateway d/a", "spec.servers[0].hosts"),
                    t("IST0145", "Gateway d/b", "spec.servers[0].hosts"),
                ],
            ),
        ];
        for (name, yaml, want) in cases {
            let d = analyze("gateway.ConflictingGatewayAnalyzer", &yaml);
            assert_eq!(triples(&d), want, "{name}");
        }
    }

    #[test]
    fn certificate_scenarios() {
        let tls = |cred: &str| {
            format!("  - port: {{number: 443, name: https, protocol: HTTPS}}\n    hosts: [\"a.com\"]\n    tls: {{mode: SIMPLE, credentialName: {cred}}}\n")
        };
        let cases = [
            (
                "same credential, same selector",
                gw("a", "d", "{istio: ingressgateway}", &tls("c"))
                    + &gw("b", "d", "{istio: ingressgateway}", &tls("c")),
                vec![
                    t(
                        "IST0138",
                        "Gateway d/a",
                        "spec.servers[0].tls.credentialName",
                    ),
                    t(
                        "IST0138",
                        "Gateway d/b",
                        "spec.servers[0].tls.credentialName",
                    ),
                ],
            ),
            (
                "narrower selector is reported only on the broader gateway",
                gw("a", "d", "{istio: ingressgateway}", &tls("c"))
                    + &gw(
                        "b",
                        "d",
                        "{istio: ingressgateway, type: internal}",
                        &tls("c"),
                    ),
                vec![t(
                    "IST0138",
                    "Gateway d/a",
                    "spec.servers[0].tls.credentialName",
                )],
            ),
            (
                "three gateways: one warning per gateway server",
                gw("a", "d", "{istio: ingressgateway}", &tls("c"))
                    + &gw("b", "d", "{istio: ingressgateway}", &tls("c"))
                    + &gw("e", "d", "{istio: ingressgateway}", &tls("c")),
                vec![
                    t(
                        "IST0138",
                        "Gateway d/a",
                        "spec.servers[0].tls.credentialName",
                    ),
                    t(
                        "IST0138",
                        "Gateway d/b",
                        "spec.servers[0].tls.credentialName",
                    ),
                    t(
                        "IST0138",
                        "Gateway d/e",
                        "spec.servers[0].tls.credentialName",
                    ),
                ],
            ),
            (
                "different credentials",
                gw("a", "d", "{istio: ingressgateway}", &tls("c1"))
                    + &gw("b", "d", "{istio: ingressgateway}", &tls("c2")),
                vec![],
            ),
        ];
        for (name, yaml, want) in cases {
            let d = analyze("gateway.CertificateAnalyzer", &yaml);
            assert_eq!(triples(&d), want, "{name}");
        }
        let d = analyze(
            "gateway.CertificateAnalyzer",
            &(gw("a", "d", "{istio: ingressgateway}", &tls("c"))
                + &gw("b", "d", "{istio: ingressgateway}", &tls("c"))),
        );
        assert_eq!(
            d[0].message,
            "Duplicate certificate in multiple gateways [d/a d/b] may cause 404s if clients re-use HTTP2 connections."
        );
    }
}
