//! Validation of ServiceEntrys, as Istio's `ValidateServiceEntry` and
//! `validateWorkloadEntry` do it (`pkg/config/validation/validation.go`), plus the v1
//! CRD's enums and CEL rules.

use std::collections::{BTreeMap, BTreeSet};

use super::common;
use super::net::Protocol;
use super::Report;
use crate::model::{
    OptSliceExt, ServiceEntry, WorkloadEntry, SERVICE_ENTRY_LOCATIONS, SERVICE_ENTRY_RESOLUTIONS,
};
use crate::yaml::{join_index, join_key};

/// Prefix of a Unix domain socket endpoint address.
const UNIX_PREFIX: &str = "unix://";

/// Label with which a ServiceEntry opts out of (or into) automatic IP allocation.
const AUTOALLOCATE_LABEL: &str = "networking.istio.io/enable-autoallocate-ip";

pub(super) fn validate(spec: &ServiceEntry, report: &mut Report<'_>) {
    let res = report.resource();
    let ns = res.namespace_or("default");
    let resolution = spec.resolution.as_deref().unwrap_or("NONE");
    let hosts = spec.hosts.items();
    let endpoints = spec.endpoints.items();
    let addresses = spec.addresses.items();

    // workloadSelector
    if let Some(ws) = &spec.workload_selector {
        let base = "spec.workloadSelector";
        let labels_path = join_key(base, "labels");
        let labels = ws.labels.as_ref();
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
        }
        if labels.is_none_or(|l| l.is_empty()) {
            report.warning(
                base,
                "service entry: workload selector specified without labels, will be applied to all services in namespace",
            );
        }
        if !endpoints.is_empty() {
            report.error(
                base,
                "only one of WorkloadSelector or Endpoints is allowed in Service Entry",
            );
        }
    }

    // hosts
    if hosts.is_empty() {
        let path = if spec.hosts.is_some() {
            "spec.hosts"
        } else {
            "spec"
        };
        report.error(path, "service entry must have at least one host");
    }
    for (i, host) in hosts.iter().enumerate() {
        let hp = join_index("spec.hosts", i);
        if host == "*" {
            report.error(&hp, format!("invalid host {host}"));
            continue;
        }
        if let Err(e) = common::validate_wildcard_domain(host) {
            report.error(&hp, e);
        }
        if let Err(e) = common::validate_partial_wildcard(host) {
            report.warning(&hp, e);
        }
    }

    // addresses
    let mut cidr_found = false;
    for (i, address) in addresses.iter().enumerate() {
        cidr_found |= address.contains('/');
        if let Err(e) = common::validate_ip_subnet(address) {
            report.error(join_index("spec.addresses", i), e);
        }
    }
    if cidr_found && resolution != "NONE" && resolution != "STATIC" {
        report.error(
            "spec.resolution",
            "CIDR addresses are allowed only for NONE/STATIC resolution types",
        );
    }

    // location and resolution values
    if let Some(location) = spec.location.as_deref() {
        if !SERVICE_ENTRY_LOCATIONS.contains(&location) {
            report.error(
                "spec.location",
                format!(
                    "unsupported location {location:?}; valid values are {}",
                    SERVICE_ENTRY_LOCATIONS.join(", ")
                ),
            );
        }
    }
    if !SERVICE_ENTRY_RESOLUTIONS.contains(&resolution) {
        report.error(
            "spec.resolution",
            format!("unsupported resolution type {resolution}"),
        );
    }

    // ports
    let auto_allocation = resolution != "NONE"
        && !res
            .labels()
            .and_then(|l| l.get(AUTOALLOCATE_LABEL))
            .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let mut port_names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut port_numbers: BTreeMap<u32, usize> = BTreeMap::new();
    let mut warned_addresses = false;
    for (i, port) in spec.ports.items().iter().enumerate() {
        let pp = join_index("spec.ports", i);
        let name = port.name.as_deref().unwrap_or("");
        let number = port.number.unwrap_or(0);
        let protocol = port.protocol.as_deref().unwrap_or("");
        if port_names.insert(name, i).is_some() {
            report.error(
                join_key(&pp, "name"),
                format!("service entry port name {name:?} already defined"),
            );
        } else if let Err(e) = validate_port_name(name) {
            report.error(join_key(&pp, "name"), e);
        }
        if port_numbers.insert(number, i).is_some() {
            report.error(
                join_key(&pp, "number"),
                format!("service entry port {number} already defined"),
            );
        }
        if let Some(target) = port.target_port.filter(|t| *t != 0) {
            if let Err(e) = common::validate_port(i64::from(target)) {
                report.error(join_key(&pp, "targetPort"), e);
            }
        }
        if addresses.is_empty()
            && !auto_allocation
            && (protocol.is_empty() || protocol == "TCP")
            && !warned_addresses
        {
            warned_addresses = true;
            report.warning(
                &pp,
                "addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled",
            );
        }
        if !protocol.is_empty() && Protocol::parse(protocol) == Protocol::Unsupported {
            report.error(
                join_key(&pp, "protocol"),
                format!("unsupported protocol: {protocol}"),
            );
        }
        if let Err(e) = common::validate_port(i64::from(number)) {
            report.error(join_key(&pp, "number"), e);
        }
    }
    let service_ports: BTreeSet<&str> = port_names.keys().copied().collect();

    // resolution-specific rules
    match resolution {
        "NONE" => {
            if !endpoints.is_empty() {
                report.error(
                    "spec.endpoints",
                    "no endpoints should be provided for resolution type none",
                );
            }
            if spec.workload_selector.is_some() {
                report.warning(
                    "spec.workloadSelector",
                    "workloadSelector should not be set when resolution mode is NONE",
                );
            }
        }
        "STATIC" => {
            for (e, ep) in endpoints.iter().enumerate() {
                static_endpoint(ep, &service_ports, &join_index("spec.endpoints", e), report);
            }
        }
        "DNS" | "DNS_ROUND_ROBIN" => {
            if endpoints.is_empty() {
                for (i, host) in hosts.iter().enumerate() {
                    if common::validate_fqdn(host).is_err() {
                        report.error(
                            join_index("spec.hosts", i),
                            format!(
                                "hosts must be FQDN if no endpoints are provided for resolution mode {resolution}"
                            ),
                        );
                    }
                }
            }
            if resolution == "DNS_ROUND_ROBIN" && endpoints.len() > 1 {
                report.error(
                    "spec.endpoints",
                    format!("there must only be 0 or 1 endpoint for resolution mode {resolution}"),
                );
            }
            for (e, ep) in endpoints.iter().enumerate() {
                dns_endpoint(ep, &service_ports, &join_index("spec.endpoints", e), report);
            }
            if !addresses.is_empty() && hosts.len() > 1 {
                let tcp = spec
                    .ports
                    .items()
                    .iter()
                    .any(|p| Protocol::parse(p.protocol.as_deref().unwrap_or("")).is_tcp());
                if tcp {
                    report.warning(
                        "spec.hosts",
                        "service entry can not have more than one host specified simultaneously with address and tcp port",
                    );
                }
            }
        }
        _ => {}
    }

    // Plain TCP cannot tell several hosts apart (unless resolution is NONE, which
    // ignores the hosts).
    if resolution != "NONE" && hosts.len() > 1 {
        for (i, port) in spec.ports.items().iter().enumerate() {
            let p = Protocol::parse(port.protocol.as_deref().unwrap_or(""));
            if !p.is_http() && !p.is_tls() {
                report.error(
                    join_key(&join_index("spec.ports", i), "protocol"),
                    "multiple hosts provided with non-HTTP, non-TLS ports",
                );
                break;
            }
        }
    }

    if let Some(export_to) = &spec.export_to {
        for (idx, msg) in common::validate_export_to(ns, export_to, true, false) {
            let path = idx.map_or_else(
                || "spec.exportTo".to_owned(),
                |i| join_index("spec.exportTo", i),
            );
            report.error(path, msg);
        }
    }
}

/// Istio's `ValidatePortName`: a DNS-1123 label.
fn validate_port_name(name: &str) -> Result<(), String> {
    if common::is_dns1123_label(name) {
        Ok(())
    } else {
        Err(format!("invalid port name: {name}"))
    }
}

/// Port names of an endpoint must be service ports; numbers in range.
fn endpoint_ports(
    ep: &WorkloadEntry,
    service_ports: &BTreeSet<&str>,
    path: &str,
    report: &mut Report<'_>,
) {
    let ports_path = join_key(path, "ports");
    for (name, port) in ep.ports.iter().flatten() {
        let pp = join_key(&ports_path, name);
        if !service_ports.contains(name.as_str()) {
            report.error(
                &pp,
                format!("endpoint port {port} is not defined by the service entry"),
            );
        }
        if let Err(e) = validate_port_name(name) {
            report.error(&pp, e);
        }
        if let Err(e) = common::validate_port(i64::from(*port)) {
            report.error(&pp, e);
        }
    }
    if let Some(labels) = &ep.labels {
        let labels_path = join_key(path, "labels");
        for (key, msg) in common::validate_labels(labels) {
            report.error(join_key(&labels_path, &key), msg);
        }
    }
}

/// Istio's `validateWorkloadEntry` for STATIC endpoints (IP or Unix socket addresses).
fn static_endpoint(
    ep: &WorkloadEntry,
    service_ports: &BTreeSet<&str>,
    path: &str,
    report: &mut Report<'_>,
) {
    let ap = join_key(path, "address");
    let addr = ep.address.as_deref().unwrap_or("");
    if addr.is_empty() {
        match ep.network.as_deref().filter(|n| !n.is_empty()) {
            None => {
                report.error(&ap, "address is required");
                return;
            }
            Some(network) => {
                report.warning(&ap, format!("address is unset with network {network:?}"))
            }
        }
    }
    let unix = addr.starts_with(UNIX_PREFIX);
    if let Some(socket) = addr.strip_prefix(UNIX_PREFIX) {
        if let Err(e) = common::validate_unix_address(socket) {
            report.error(&ap, e);
        }
        if ep.ports.as_ref().is_some_and(|p| !p.is_empty()) {
            report.error(
                join_key(path, "ports"),
                format!("unix endpoint {addr} must not include ports"),
            );
        }
    } else if !addr.is_empty() && !common::is_ip(addr) {
        report.error(
            &ap,
            format!("endpoint address {addr:?} is not a valid IP address"),
        );
    }
    endpoint_ports(ep, service_ports, path, report);
    if unix && service_ports.len() != 1 {
        report.error(&ap, "exactly 1 service port required for unix endpoints");
    }
}

/// DNS endpoints: an IP address or a resolvable FQDN.
fn dns_endpoint(
    ep: &WorkloadEntry,
    service_ports: &BTreeSet<&str>,
    path: &str,
    report: &mut Report<'_>,
) {
    let addr = ep.address.as_deref().unwrap_or("");
    if !common::is_ip(addr) && common::validate_fqdn(addr).is_err() {
        report.error(
            join_key(path, "address"),
            format!("endpoint address {addr:?} is not a valid FQDN or an IP address"),
        );
    }
    endpoint_ports(ep, service_ports, path, report);
}

#[cfg(test)]
mod tests {
    use crate::diag::Level;

    /// Validates a ServiceEntry whose `spec` is `spec` (YAML, indented by two) and
    /// returns (level, path) of every IST0106/IST0133.
    fn run(spec: &str) -> Vec<(Level, String)> {
        let text = format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: se\n  namespace: ns1\nspec:\n{spec}"
        );
        let loaded = crate::load_str(&text, None);
        let r = loaded.resources().next().expect("a resource");
        crate::validate::validate_resource(r)
            .into_iter()
            .filter(|d| d.code == "IST0106" || d.code == "IST0133")
            .map(|d| (d.level, d.path))
            .collect()
    }

    fn paths(diags: &[(Level, String)], level: Level) -> Vec<&str> {
        diags
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, p)| p.as_str())
            .collect()
    }

    #[test]
    fn service_entries() {
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            (
                "external https api",
                "  hosts: [api.example.com]\n  ports: [{number: 443, name: https, protocol: TLS}]\n  location: MESH_EXTERNAL\n  resolution: DNS\n",
                &[],
                &[],
            ),
            ("no hosts", "  ports: [{number: 80, name: http, protocol: HTTP}]\n", &["spec"], &[]),
            ("star host", "  hosts: ['*']\n", &["spec.hosts[0]"], &[]),
            (
                "partial wildcard host",
                "  hosts: ['*bar.com']\n  ports: [{number: 80, name: http, protocol: HTTP}]\n",
                &[],
                &["spec.hosts[0]"],
            ),
            (
                "dns with wildcard host",
                "  hosts: ['*.example.com']\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n",
                &["spec.hosts[0]"],
                &[],
            ),
            (
                "bad address",
                "  hosts: [a.com]\n  addresses: [10.0.0.300]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n",
                &["spec.addresses[0]"],
                &[],
            ),
            (
                "cidr with dns",
                "  hosts: [a.com]\n  addresses: [10.0.0.0/24]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n",
                &["spec.resolution"],
                &[],
            ),
            (
                "duplicate ports",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n",
                &["spec.ports[1].name", "spec.ports[1].number"],
                &[],
            ),
            (
                "bad port name, protocol and number",
                "  hosts: [a.com]\n  ports: [{number: 0, name: 'x_y', protocol: kafka}]\n  resolution: DNS\n",
                &["spec.ports[0].name", "spec.ports[0].protocol", "spec.ports[0].number"],
                &[],
            ),
            (
                "tcp without addresses and resolution none",
                "  hosts: [a.com]\n  ports: [{number: 27017, name: mongo, protocol: TCP}]\n",
                &[],
                &["spec.ports[0]"],
            ),
            (
                "endpoints with resolution none",
                "  hosts: [a.com]\n  addresses: [1.1.1.1]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: 1.1.1.1}]\n",
                &["spec.endpoints"],
                &[],
            ),
            (
                "static endpoints",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints:\n  - address: 1.1.1.1\n    ports: {http: 8080}\n  - address: unix:///var/run/a.sock\n",
                &[],
                &[],
            ),
            (
                "static endpoint with host name",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: b.com}]\n",
                &["spec.endpoints[0].address"],
                &[],
            ),
            (
                "static endpoint port not in service",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: 1.1.1.1, ports: {grpc: 9000}}]\n",
                &["spec.endpoints[0].ports.grpc"],
                &[],
            ),
            (
                "unix endpoint with ports",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: 'unix://@sock', ports: {http: 80}}]\n",
                &["spec.endpoints[0].ports"],
                &[],
            ),
            (
                "static endpoint without address",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{labels: {app: a}}]\n",
                &["spec.endpoints[0].address"],
                &[],
            ),
            (
                "dns endpoint host name",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n  endpoints: [{address: b.example.com}, {address: 'not valid'}]\n",
                &["spec.endpoints[1].address"],
                &[],
            ),
            (
                "dns round robin with two endpoints",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS_ROUND_ROBIN\n  endpoints: [{address: b.com}, {address: c.com}]\n",
                &["spec.endpoints"],
                &[],
            ),
            (
                "several hosts on tcp",
                "  hosts: [a.com, b.com]\n  addresses: [1.1.1.1]\n  ports: [{number: 9000, name: tcp, protocol: TCP}]\n  resolution: DNS\n",
                &["spec.ports[0].protocol"],
                &["spec.hosts"],
            ),
            (
                "selector and endpoints",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  workloadSelector: {labels: {app: a}}\n  endpoints: [{address: 1.1.1.1}]\n",
                &["spec.workloadSelector"],
                &[],
            ),
            (
                "empty selector",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  workloadSelector: {}\n",
                &[],
                &["spec.workloadSelector"],
            ),
            (
                "unknown location and resolution",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  location: OUTSIDE\n  resolution: MAGIC\n",
                &["spec.location", "spec.resolution"],
                &[],
            ),
            (
                "export to nobody and someone",
                "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n  exportTo: ['~', '.']\n",
                &["spec.exportTo"],
                &[],
            ),
        ];
        for (name, spec, want_e, want_w) in cases {
            let got = run(spec);
            assert_eq!(paths(&got, Level::Error), *want_e, "{name}: errors");
            assert_eq!(paths(&got, Level::Warning), *want_w, "{name}: warnings");
        }
    }
}
