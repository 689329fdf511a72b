//! DestinationRule analyzers: TLS without CA certificates (IST0128, IST0129),
//! unknown hosts (IST0174) and subsets that select no pods (IST0173).

use std::collections::BTreeMap;

use super::Context;
use crate::diag::{codes, Diagnostic, Level};
use crate::load::Kind;
use crate::model::{ClientTLSSettings, DestinationRule, OptSliceExt};
use crate::yaml::{join_index, join_key};

/// True for the client TLS modes that verify (or should verify) the server: SIMPLE, MUTUAL.
fn verifies_server(tls: &ClientTLSSettings) -> bool {
    matches!(tls.mode.as_deref(), Some("SIMPLE") | Some("MUTUAL"))
}

/// True when `tls` leaves the server certificate unverified: no `caCertificates`,
/// unless a `credentialName` supplies them for the workloads a `workloadSelector` picks.
fn lacks_ca(tls: &ClientTLSSettings, dr: &DestinationRule) -> bool {
    let has = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    let ca_from_credential = has(&tls.credential_name) && dr.workload_selector.is_some();
    !(has(&tls.ca_certificates) || ca_from_credential)
}

/// `destinationrule.CaCertificateAnalyzer`: SIMPLE or MUTUAL TLS without
/// `caCertificates`, for the whole destination (IST0128) or a port (IST0129).
pub fn ca_certificates(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for r in ctx.objects_of_kind(Kind::DestinationRule) {
        let Some(dr) = r.destination_rule() else {
            continue;
        };
        let Some(policy) = dr.traffic_policy.as_ref() else {
            continue;
        };
        let ns = ctx.namespace_of(r);
        let name = ctx.full_name(r);
        let host = dr.host.as_deref().unwrap_or("");
        if let Some(tls) = policy
            .tls
            .as_ref()
            .filter(|t| verifies_server(t) && lacks_ca(t, dr))
        {
            out.push(r.diag(
                codes::IST0128,
                Level::Warning,
                "spec.trafficPolicy.tls.caCertificates",
                format!(
                    "DestinationRule {name} in namespace {ns} has TLS mode set to {} but no \
                     caCertificates are set to validate server identity for host: {host}",
                    tls.mode.as_deref().unwrap_or("")
                ),
            ));
        }
        for (i, p) in policy.port_level_settings.items().iter().enumerate() {
            let Some(tls) = p
                .tls
                .as_ref()
                .filter(|t| verifies_server(t) && lacks_ca(t, dr))
            else {
                continue;
            };
            let port = p
                .port
                .as_ref()
                .and_then(|p| p.number)
                .map(|n| format!("number:{n}"))
                .unwrap_or_default();
            out.push(r.diag(
                codes::IST0129,
                Level::Warning,
                join_key(
                    &join_key(&join_index("spec.trafficPolicy.portLevelSettings", i), "tls"),
                    "caCertificates",
                ),
                format!(
                    "DestinationRule {name} in namespace {ns} has TLS mode set to {} but no \
                     caCertificates are set to validate server identity for host: {host} at port {port}",
                    tls.mode.as_deref().unwrap_or("")
                ),
            ));
        }
    }
}

/// `destinationrule.PodNotSelectedAnalyzer`: the host must be a visible Service or
/// ServiceEntry (IST0174), and each subset must select some pod (IST0173). The
/// subset's labels, with the ServiceEntry's `workloadSelector`, are matched against
/// pods in any namespace, with the topology labels of their node, as Istio does.
pub fn pod_not_selected(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let registry = ctx.services();
    let workloads = ctx.workloads();
    for r in ctx.objects_of_kind(Kind::DestinationRule) {
        let Some(dr) = r.destination_rule() else {
            continue;
        };
        let ns = ctx.namespace_of(r);
        let host = dr.host.as_deref().unwrap_or("");
        let Some(service) = registry.lookup_exported(host, ns, dr.export_to.items()) else {
            out.push(r.diag(
                codes::IST0174,
                Level::Warning,
                "spec.host",
                format!("The host {host} defined in the DestinationRule does not match any services in the mesh."),
            ));
            continue;
        };
        for (i, subset) in dr.subsets.items().iter().enumerate() {
            let mut selector: BTreeMap<String, String> =
                service.workload_selector.cloned().unwrap_or_default();
            if let Some(labels) = &subset.labels {
                selector.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            if workloads.any_matching(&selector, true) {
                continue;
            }
            out.push(r.diag(
                codes::IST0173,
                Level::Error,
                join_key(&join_index("spec.subsets", i), "labels"),
                format!(
                    "The Subset {} defined in the DestinationRule does not select any pods. \
                     Which may lead to 503 UH (NoHealthyUpstream).",
                    subset.name.as_deref().unwrap_or("")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{analyze, t, triples};

    fn dr(body: &str) -> String {
        format!("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: db\nspec:\n  host: db.prod.svc.cluster.local\n{body}---\n")
    }

    #[test]
    fn ca_certificate_scenarios() {
        let cases = [
            (
                "SIMPLE at destination level without CA",
                dr("  trafficPolicy:\n    tls:\n      mode: SIMPLE\n"),
                vec![t("IST0128", "DestinationRule db", "spec.trafficPolicy.tls.caCertificates")],
            ),
            (
                "MUTUAL with CA",
                dr("  trafficPolicy:\n    tls:\n      mode: MUTUAL\n      caCertificates: /ca.pem\n"),
                vec![],
            ),
            ("ISTIO_MUTUAL needs no CA", dr("  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n"), vec![]),
            (
                "SIMPLE at port level without CA",
                dr("  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 443}\n      tls: {mode: SIMPLE}\n"),
                vec![t(
                    "IST0129",
                    "DestinationRule db",
                    "spec.trafficPolicy.portLevelSettings[0].tls.caCertificates",
                )],
            ),
            (
                "credentialName without workloadSelector still warns",
                dr("  trafficPolicy:\n    tls: {mode: SIMPLE, credentialName: c}\n"),
                vec![t("IST0128", "DestinationRule db", "spec.trafficPolicy.tls.caCertificates")],
            ),
            (
                "credentialName with workloadSelector is fine",
                dr("  workloadSelector:\n    matchLabels: {app: db}\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 443}\n      tls: {mode: SIMPLE, credentialName: c}\n"),
                vec![],
            ),
        ];
        for (name, yaml, want) in cases {
            let d = analyze("destinationrule.CaCertificateAnalyzer", &yaml);
            assert_eq!(triples(&d), want, "{name}");
        }
        let d = analyze(
            "destinationrule.CaCertificateAnalyzer",
            &dr("  trafficPolicy:\n    tls:\n      mode: MUTUAL\n"),
        );
        assert_eq!(
            d[0].message,
            "DestinationRule default/db in namespace default has TLS mode set to MUTUAL but no \
             caCertificates are set to validate server identity for host: db.prod.svc.cluster.local"
        );
    }

    #[test]
    fn pod_selection_scenarios() {
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  ports:\n  - port: 80\n---\n";
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: default\n  labels: {app: web, version: v1}\nspec:\n  nodeName: n1\n---\n";
        let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    topology.kubernetes.io/zone: z1\n---\n";
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-v2\n  namespace: default\nspec:\n  template:\n    metadata:\n      labels: {app: web, version: v2}\n---\n";
        let rule = |host: &str, subsets: &str| {
            format!("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: web\n  namespace: default\nspec:\n  host: {host}\n  subsets:\n{subsets}---\n")
        };
        let cases = [
            ("subset selecting a pod", rule("web", "  - name: v1\n    labels: {version: v1}\n"), vec![]),
            ("subset selecting a deployment's pods", rule("web", "  - name: v2\n    labels: {version: v2}\n"), vec![]),
            ("subset on node topology labels", rule("web", "  - name: z\n    labels:\n      topology.kubernetes.io/zone: z1\n"), vec![]),
            (
                "subset selecting nothing",
                rule("web", "  - name: v1\n    labels: {version: v1}\n  - name: v9\n    labels: {version: v9}\n"),
                vec![t("IST0173", "DestinationRule default/web", "spec.subsets[1].labels")],
            ),
            (
                "unknown host",
                rule("nope", "  - name: v1\n    labels: {version: v1}\n"),
                vec![t("IST0174", "DestinationRule default/web", "spec.host")],
            ),
        ];
        for (name, yaml, want) in cases {
            let d = analyze(
                "destinationrule.PodNotSelectedAnalyzer",
                &format!("{svc}{pod}{node}{deploy}{yaml}"),
            );
            assert_eq!(triples(&d), want, "{name}");
        }
    }
}
