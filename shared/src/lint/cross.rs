//! Lints that look at other resources through the [`Index`]: subsets shadowed by
//! the namespace's DestinationRule (MR102), retries without outlier detection
//! (MR107) and hosts split across VirtualServices on a gateway (MR113).

use super::index::{defines_subset, is_selective, DrRef, Index};
use super::{emit, Lint};
use crate::diag::Diagnostic;
use crate::host;
use crate::load::Resource;
use crate::model::{Destination, OptSliceExt, VirtualService};
use crate::yaml::{join_index, join_key};
use std::collections::BTreeSet;

pub(super) fn check_virtual_service(
    r: &Resource,
    vs: &VirtualService,
    ns: &str,
    index: &Index<'_, '_>,
    out: &mut Vec<Diagnostic>,
) {
    shadowed_subsets(r, vs, ns, index, out);
    retries_without_outlier_detection(r, vs, ns, index, out);
}

/// Every destination of `vs` with the path of its `destination` object.
fn destinations(vs: &VirtualService) -> Vec<(&Destination, String)> {
    let mut out = Vec::new();
    for (i, rule) in vs.http.items().iter().enumerate() {
        let path = join_index("spec.http", i);
        for (j, d) in rule.route.items().iter().enumerate() {
            if let Some(dest) = &d.destination {
                out.push((
                    dest,
                    join_key(&join_index(&join_key(&path, "route"), j), "destination"),
                ));
            }
        }
        if let Some(m) = &rule.mirror {
            out.push((m, join_key(&path, "mirror")));
        }
        for (k, m) in rule.mirrors.items().iter().enumerate() {
            if let Some(dest) = &m.destination {
                out.push((
                    dest,
                    join_key(&join_index(&join_key(&path, "mirrors"), k), "destination"),
                ));
            }
        }
    }
    for (field, rules) in [
        (
            "tcp",
            vs.tcp
                .items()
                .iter()
                .map(|t| t.route.items())
                .collect::<Vec<_>>(),
        ),
        (
            "tls",
            vs.tls
                .items()
                .iter()
                .map(|t| t.route.items())
                .collect::<Vec<_>>(),
        ),
    ] {
        for (i, routes) in rules.iter().enumerate() {
            for (j, d) in routes.iter().enumerate() {
                if let Some(dest) = &d.destination {
                    let p = join_index(
                        &join_key(&join_index(&join_key("spec", field), i), "route"),
                        j,
                    );
                    out.push((dest, join_key(&p, "destination")));
                }
            }
        }
    }
    out
}

fn names(drs: &[DrRef<'_>]) -> String {
    drs.iter()
        .map(|d| format!("{}/{}", d.namespace, d.resource.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// MR102: the subset exists (so no IST0101), but not in the DestinationRule that
/// sidecars in the VirtualService's namespace use for the host.
fn shadowed_subsets(
    r: &Resource,
    vs: &VirtualService,
    ns: &str,
    index: &Index<'_, '_>,
    out: &mut Vec<Diagnostic>,
) {
    // Only mesh traffic: for gateway-bound rules the client is the gateway, in its own namespace.
    let gws = vs.gateways.items();
    if !gws.is_empty() && !gws.iter().any(|g| g == "mesh") {
        return;
    }
    for (d, path) in destinations(vs) {
        let (Some(h), Some(subset)) = (d.host.as_deref(), d.subset.as_deref()) else {
            continue;
        };
        let fqdn = host::to_fqdn(h, ns);
        let drs = index.drs_for(&fqdn);
        let defining: Vec<DrRef<'_>> = drs
            .iter()
            .copied()
            .filter(|x| defines_subset(x, subset))
            .collect();
        if defining.is_empty() {
            continue; // IST0101
        }
        // Istio merges the DestinationRules of one namespace for one host.
        let local: Vec<DrRef<'_>> = drs
            .iter()
            .copied()
            .filter(|x| x.namespace == ns && !is_selective(x))
            .collect();
        if local.is_empty() || local.iter().any(|x| defines_subset(x, subset)) {
            continue;
        }
        emit(
            out,
            r,
            Lint::MR102,
            join_key(&path, "subset"),
            format!(
                "subset {subset:?} of {h} is defined by DestinationRule {} but not by {} in namespace {ns}, which sidecars in {ns} use for this host: their requests to the subset get 503 NC (no cluster)",
                names(&defining),
                names(&local),
            ),
        );
    }
}

/// MR107: explicit retries to a destination whose DestinationRule has no outlier detection.
fn retries_without_outlier_detection(
    r: &Resource,
    vs: &VirtualService,
    ns: &str,
    index: &Index<'_, '_>,
    out: &mut Vec<Diagnostic>,
) {
    for (i, rule) in vs.http.items().iter().enumerate() {
        let Some(retries) = &rule.retries else {
            continue;
        };
        if retries.attempts.unwrap_or(0) <= 0 {
            continue;
        }
        let mut missing: BTreeSet<String> = BTreeSet::new();
        for d in rule
            .route
            .items()
            .iter()
            .filter_map(|d| d.destination.as_ref())
        {
            let Some(h) = d.host.as_deref() else { continue };
            let fqdn = host::to_fqdn(h, ns);
            match index.effective_dr(&fqdn, ns) {
                None => {
                    missing.insert(format!("{h} (no DestinationRule)"));
                }
                Some(dr) if !has_outlier_detection(&dr, d) => {
                    missing.insert(format!(
                        "{h} (DestinationRule {}/{})",
                        dr.namespace,
                        dr.resource.name()
                    ));
                }
                Some(_) => {}
            }
        }
        if missing.is_empty() {
            continue;
        }
        let list: Vec<String> = missing.into_iter().collect();
        emit(
            out,
            r,
            Lint::MR107,
            join_key(&join_index("spec.http", i), "retries"),
            format!(
                "retries go to {} without outlierDetection: a failing host is never ejected, so retries keep landing on it and multiply its load",
                list.join(", ")
            ),
        );
    }
}

/// True when outlier detection applies to traffic for `d` under `dr` (any level
/// that can apply: top-level, the port's, the subset's).
fn has_outlier_detection(dr: &DrRef<'_>, d: &Destination) -> bool {
    let port = d.port.as_ref().and_then(|p| p.number);
    let port_matches = |p: Option<u32>| port.is_none() || p == port;
    let top = dr.rule.traffic_policy.as_ref();
    if top.is_some_and(|t| t.outlier_detection.is_some()) {
        return true;
    }
    let top_ports = top.map(|t| t.port_level_settings.items()).unwrap_or(&[]);
    if top_ports.iter().any(|p| {
        p.outlier_detection.is_some() && port_matches(p.port.as_ref().and_then(|s| s.number))
    }) {
        return true;
    }
    let Some(subset) = d.subset.as_deref() else {
        return false;
    };
    dr.rule
        .subsets
        .items()
        .iter()
        .filter(|s| s.name.as_deref() == Some(subset))
        .filter_map(|s| s.traffic_policy.as_ref())
        .any(|tp| {
            tp.outlier_detection.is_some()
                || tp.port_level_settings.items().iter().any(|p| {
                    p.outlier_detection.is_some()
                        && port_matches(p.port.as_ref().and_then(|s| s.number))
                })
        })
}

/// MR113: one host in several VirtualServices bound to the same (non-mesh) gateway.
pub(super) fn check_gateway_hosts(index: &Index<'_, '_>, out: &mut Vec<Diagnostic>) {
    const SHOWN: usize = 5;
    for ((gateway, fqdn), list) in &index.gateway_hosts {
        if list.len() < 2 {
            continue;
        }
        let names: Vec<String> = list.iter().map(|o| o.r.display_name()).collect();
        let others = names.len() - 1;
        for (n, e) in list.iter().enumerate() {
            // At most SHOWN names per message: linear in the group size.
            let mut shown = names
                .iter()
                .enumerate()
                .filter(|(m, _)| *m != n)
                .take(SHOWN)
                .map(|(_, name)| name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if others > SHOWN {
                shown.push_str(&format!(" and {} more", others - SHOWN));
            }
            let written =
                e.r.virtual_service()
                    .and_then(|vs| vs.hosts.items().get(e.host_index))
                    .map(String::as_str)
                    .unwrap_or(fqdn);
            emit(
                out,
                e.r,
                Lint::MR113,
                join_index("spec.hosts", e.host_index),
                format!(
                    "host {written} on gateway {gateway} is also routed by {shown}: Istio merges their rules in creation-time order, so which rule wins for overlapping matches depends on which object is older"
                ),
            );
        }
    }
}
