//! Scenario tests of `render`: clusters from ServiceEntries/DestinationRules, native route
//! translation of each HTTPRoute feature, Gateway listeners, and wasm mode.

use serde_json::{json, Value};

use super::*;
use crate::load_str;

const REVIEWS_SE: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  ports: [{number: 9080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints:
  - {address: 10.0.0.1, ports: {http: 18080}, labels: {version: v1}}
  - {address: 10.0.0.2, ports: {http: 18081}, labels: {version: v2}, weight: 3}
  - {address: 10.0.0.3, labels: {version: v3}}
"#;

const REVIEWS_DR: &str = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"#;

fn render_with(yaml: &str, opts: &RenderOptions) -> Rendered {
    let loaded = load_str(yaml, Some("test.yaml"));
    assert!(
        loaded.diagnostics.iter().all(|d| !d.is_error()),
        "load errors: {:?}",
        loaded.diagnostics
    );
    render(loaded.resources(), opts)
}

fn native(yaml: &str) -> Rendered {
    render_with(
        yaml,
        &RenderOptions {
            native: true,
            ..RenderOptions::default()
        },
    )
}

fn docs(parts: &[&str]) -> String {
    parts.join("\n---\n")
}

fn clusters(r: &Rendered) -> &Vec<Value> {
    r.bootstrap["static_resources"]["clusters"]
        .as_array()
        .unwrap()
}

fn cluster<'r>(r: &'r Rendered, name: &str) -> &'r Value {
    clusters(r)
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "no cluster {name} in {:#}",
                r.bootstrap["static_resources"]["clusters"]
            )
        })
}

fn listeners(r: &Rendered) -> &Vec<Value> {
    r.bootstrap["static_resources"]["listeners"]
        .as_array()
        .unwrap()
}

fn hcm(listener: &Value, chain: usize) -> &Value {
    &listener["filter_chains"][chain]["filters"][0]["typed_config"]
}

fn vhosts(r: &Rendered) -> &Vec<Value> {
    hcm(&listeners(r)[0], 0)["route_config"]["virtual_hosts"]
        .as_array()
        .unwrap()
}

fn vhost<'r>(r: &'r Rendered, name: &str) -> &'r Value {
    vhosts(r)
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vhost {name}: {:#}", json!(vhosts(r))))
}

fn routes<'r>(r: &'r Rendered, vhost_name: &str) -> &'r Vec<Value> {
    vhost(r, vhost_name)["routes"].as_array().unwrap()
}

const REVIEWS_VH: &str = "reviews.default.svc.cluster.local:9080";

fn vs(http: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: reviews, namespace: default}}\nspec:\n  hosts: [reviews]\n  http:\n{http}"
    )
}

fn codes_of(r: &Rendered) -> Vec<&str> {
    r.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// Clusters

#[test]
fn cluster_per_subset_with_subset_endpoints() {
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR]));
    let names: Vec<&str> = clusters(&r)
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "outbound|9080|v1|reviews.default.svc.cluster.local",
            "outbound|9080|v2|reviews.default.svc.cluster.local",
            "outbound|9080|v3|reviews.default.svc.cluster.local",
            "outbound|9080||reviews.default.svc.cluster.local",
        ]
    );
    let all = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(all["type"], "STATIC");
    assert_eq!(all["connect_timeout"], "10s");
    assert_eq!(all["lb_policy"], "LEAST_REQUEST");
    let eps = all["load_assignment"]["endpoints"][0]["lb_endpoints"]
        .as_array()
        .unwrap();
    assert_eq!(eps.len(), 3);
    let v2 = cluster(&r, "outbound|9080|v2|reviews.default.svc.cluster.local");
    let ep = &v2["load_assignment"]["endpoints"][0]["lb_endpoints"][0];
    assert_eq!(
        ep["endpoint"]["address"]["socket_address"],
        json!({"address": "10.0.0.2", "port_value": 18081})
    );
    assert_eq!(ep["load_balancing_weight"], 3);
    // No port mapping for the port name: the service port itself.
    let v3 = cluster(&r, "outbound|9080|v3|reviews.default.svc.cluster.local");
    assert_eq!(
        v3["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
            ["socket_address"]["port_value"],
        9080
    );
    // Istio's default circuit breakers.
    assert_eq!(
        v3["circuit_breakers"]["thresholds"][0],
        json!({"max_connections": 4294967295u32, "max_pending_requests": 4294967295u32,
               "max_requests": 4294967295u32, "max_retries": 4294967295u32, "track_remaining": true})
    );
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn subset_selecting_no_endpoint_is_reported() {
    let dr = REVIEWS_DR.replace(
        "{name: v3, labels: {version: v3}}",
        "{name: v4, labels: {version: v4}}",
    );
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let v4 = cluster(&r, "outbound|9080|v4|reviews.default.svc.cluster.local");
    assert_eq!(v4["load_assignment"]["endpoints"], json!([]));
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == codes::MR202)
        .unwrap();
    assert_eq!(d.path, "spec.subsets[2].labels");
}

#[test]
fn workload_entries_selected_by_service_entry() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: prod}
spec:
  hosts: [vm.example.com]
  ports: [{number: 80, name: web, protocol: HTTP, targetPort: 8080}]
  resolution: STATIC
  workloadSelector: {labels: {app: vm}}
  endpoints: [{address: 10.9.9.9}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: prod}
spec: {address: 192.168.0.1, labels: {app: vm, version: v1}, locality: us-east/zone1}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-2, namespace: prod, labels: {app: vm}}
spec: {address: 192.168.0.2, ports: {web: 9000}, labels: {app: other}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: other-ns, namespace: dev}
spec: {address: 192.168.0.3, labels: {app: vm}}
"#;
    let r = native(yaml);
    let c = cluster(&r, "outbound|80||vm.example.com");
    let groups = c["load_assignment"]["endpoints"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{groups:#?}");
    // No locality first, then us-east/zone1.
    assert_eq!(
        groups[0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"],
        json!({"address": "192.168.0.2", "port_value": 9000})
    );
    assert_eq!(
        groups[1]["locality"],
        json!({"region": "us-east", "zone": "zone1"})
    );
    assert_eq!(
        groups[1]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"],
        json!({"address": "192.168.0.1", "port_value": 8080})
    );
}

#[test]
fn dns_resolutions_and_none() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [httpbin.org]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr}
spec:
  hosts: [api.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
  endpoints: [{address: a.example.com}, {address: b.example.com}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: none}
spec:
  hosts: [none.example.com]
  ports: [{number: 80, name: http}]
"#;
    let r = native(yaml);
    let dns = cluster(&r, "outbound|443||httpbin.org");
    assert_eq!(dns["type"], "STRICT_DNS");
    assert_eq!(dns["respect_dns_ttl"], true);
    assert_eq!(dns["dns_lookup_family"], "V4_ONLY");
    assert_eq!(
        dns["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
            ["socket_address"],
        json!({"address": "httpbin.org", "port_value": 443})
    );
    let rr = cluster(&r, "outbound|80||api.example.com");
    assert_eq!(rr["type"], "LOGICAL_DNS");
    assert_eq!(
        rr["load_assignment"]["endpoints"][0]["lb_endpoints"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let none = cluster(&r, "outbound|80||none.example.com");
    assert_eq!(none["type"], "STATIC");
    assert_eq!(none["load_assignment"]["endpoints"], json!([]));
    let mr201: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::MR201)
        .collect();
    assert_eq!(mr201.len(), 2, "{mr201:?}");
    assert!(mr201
        .iter()
        .any(|d| d.path == "spec.resolution" && d.resource == "ServiceEntry none"));
}

fn dr_policy(policy: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: reviews, namespace: default}}\nspec:\n  host: reviews\n  trafficPolicy:\n{policy}"
    )
}

#[test]
fn lb_policies() {
    for (simple, want) in [
        ("ROUND_ROBIN", "ROUND_ROBIN"),
        ("RANDOM", "RANDOM"),
        ("LEAST_REQUEST", "LEAST_REQUEST"),
        ("LEAST_CONN", "LEAST_REQUEST"),
        ("PASSTHROUGH", "LEAST_REQUEST"),
    ] {
        let dr = dr_policy(&format!("    loadBalancer: {{simple: {simple}}}\n"));
        let r = native(&docs(&[REVIEWS_SE, &dr]));
        let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
        assert_eq!(c["lb_policy"], want, "{simple}");
        assert_eq!(
            codes_of(&r).contains(&codes::MR203),
            simple == "PASSTHROUGH",
            "{simple}: {:?}",
            r.diagnostics
        );
    }
    let dr = dr_policy("    loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 60s}\n");
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(
        c["round_robin_lb_config"],
        json!({"slow_start_config": {"slow_start_window": "60s"}})
    );
}

/// Two DestinationRules for one host: Istio takes the first in its order (creationTimestamp,
/// then name, then namespace), not the first in the file.
#[test]
fn the_destination_rule_first_in_istios_order_applies() {
    let z = dr_policy("    loadBalancer: {simple: RANDOM}\n")
        .replace("name: reviews", "name: reviews-z");
    let a = dr_policy("    loadBalancer: {simple: LEAST_REQUEST}\n")
        .replace("name: reviews", "name: reviews-a");
    let r = native(&docs(&[REVIEWS_SE, &z, &a]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(c["lb_policy"], "LEAST_REQUEST");
    let z_old = z.replace(
        "name: reviews-z",
        "name: reviews-z, creationTimestamp: \"2020-01-01T00:00:00Z\"",
    );
    let a_new = a.replace(
        "name: reviews-a",
        "name: reviews-a, creationTimestamp: \"2021-01-01T00:00:00Z\"",
    );
    let r = native(&docs(&[REVIEWS_SE, &a_new, &z_old]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(c["lb_policy"], "RANDOM");
}

#[test]
fn consistent_hash_lb_and_route_hash_policy() {
    let cases = [
        (
            "{httpHeaderName: x-user}",
            json!({"header": {"header_name": "x-user"}}),
            "RING_HASH",
        ),
        (
            "{httpCookie: {name: user, ttl: 0s, path: /}}",
            json!({"cookie": {"name": "user", "ttl": "0s", "path": "/"}}),
            "RING_HASH",
        ),
        (
            "{useSourceIp: true, maglev: {tableSize: 65537}}",
            json!({"connection_properties": {"source_ip": true}}),
            "MAGLEV",
        ),
        (
            "{httpQueryParameterName: u, ringHash: {minimumRingSize: 2048}}",
            json!({"query_parameter": {"name": "u"}}),
            "RING_HASH",
        ),
    ];
    for (ch, hash, lb) in cases {
        let dr = dr_policy(&format!("    loadBalancer: {{consistentHash: {ch}}}\n"));
        let v = vs("  - route: [{destination: {host: reviews}}]\n");
        let r = native(&docs(&[REVIEWS_SE, &dr, &v]));
        let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
        assert_eq!(c["lb_policy"], lb, "{ch}");
        let route = &routes(&r, REVIEWS_VH)[0]["route"];
        assert_eq!(route["hash_policy"], json!([hash]), "{ch}");
        // Istio's consistent-hash retry policy has no previous-hosts predicate.
        assert!(
            route["retry_policy"].get("retry_host_predicate").is_none(),
            "{ch}"
        );
    }
    let dr = dr_policy("    loadBalancer: {consistentHash: {httpHeaderName: x}}\n");
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(c["ring_hash_lb_config"], json!({"minimum_ring_size": 1024}));
    let mg = dr_policy(
        "    loadBalancer: {consistentHash: {httpHeaderName: x, maglev: {tableSize: 65537}}}\n",
    );
    let r = native(&docs(&[REVIEWS_SE, &mg]));
    assert_eq!(
        cluster(&r, "outbound|9080||reviews.default.svc.cluster.local")["maglev_lb_config"],
        json!({"table_size": 65537})
    );
    // The default route of a service without VirtualService hashes too.
    let default_route = &routes(&r, REVIEWS_VH)[0];
    assert_eq!(default_route["name"], "default");
    assert_eq!(
        default_route["route"]["hash_policy"],
        json!([{"header": {"header_name": "x"}}])
    );
}

#[test]
fn circuit_breakers_from_connection_pool() {
    let dr = dr_policy(
        "    connectionPool:\n      tcp: {maxConnections: 1, connectTimeout: 30ms, maxConnectionDuration: 1h, tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}}\n      http: {http1MaxPendingRequests: 2, http2MaxRequests: 3, maxRequestsPerConnection: 4, maxRetries: 5, idleTimeout: 5s}\n",
    );
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(
        c["circuit_breakers"]["thresholds"][0],
        json!({"max_connections": 1, "max_pending_requests": 2, "max_requests": 3, "max_retries": 5, "track_remaining": true})
    );
    assert_eq!(c["connect_timeout"], "0.03s");
    assert_eq!(
        c["upstream_connection_options"],
        json!({"tcp_keepalive": {"keepalive_probes": 3, "keepalive_time": 7200, "keepalive_interval": 75}})
    );
    let opts = &c["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    assert_eq!(
        opts["@type"],
        "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    );
    assert_eq!(
        opts["common_http_protocol_options"],
        json!({"idle_timeout": "5s", "max_requests_per_connection": 4, "max_connection_duration": "3600s"})
    );
    assert_eq!(
        opts["explicit_http_config"],
        json!({"http_protocol_options": {}})
    );
}

#[test]
fn h2_upgrade_grpc_ports_and_client_protocol() {
    let dr = dr_policy("    connectionPool: {http: {h2UpgradePolicy: UPGRADE}}\n");
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let opts = &cluster(&r, "outbound|9080||reviews.default.svc.cluster.local")
        ["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    assert_eq!(
        opts["explicit_http_config"],
        json!({"http2_protocol_options": {}})
    );

    let grpc = REVIEWS_SE.replace("protocol: HTTP}", "protocol: GRPC}");
    let dr = dr_policy("    connectionPool: {http: {maxConcurrentStreams: 100}}\n");
    let r = native(&docs(&[&grpc, &dr]));
    let opts = &cluster(&r, "outbound|9080||reviews.default.svc.cluster.local")
        ["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    assert_eq!(
        opts["explicit_http_config"],
        json!({"http2_protocol_options": {"max_concurrent_streams": 100}})
    );

    let dr = dr_policy("    connectionPool: {http: {useClientProtocol: true}}\n");
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let opts = &cluster(&r, "outbound|9080||reviews.default.svc.cluster.local")
        ["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    assert_eq!(
        opts["use_downstream_protocol_config"],
        json!({"http_protocol_options": {}, "http2_protocol_options": {}})
    );
}

#[test]
fn outlier_detection_as_istio_sets_it() {
    let dr = dr_policy(
        "    outlierDetection: {consecutive5xxErrors: 7, consecutiveGatewayErrors: 0, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 100, minHealthPercent: 10, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2}\n",
    );
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(
        c["outlier_detection"],
        json!({
            "enforcing_success_rate": 0,
            "consecutive_5xx": 7, "enforcing_consecutive_5xx": 100,
            "consecutive_gateway_failure": 0, "enforcing_consecutive_gateway_failure": 0,
            "interval": "300s", "base_ejection_time": "900s", "max_ejection_percent": 100,
            "split_external_local_origin_errors": true,
            "consecutive_local_origin_failure": 2, "enforcing_consecutive_local_origin_failure": 100,
            "enforcing_local_origin_success_rate": 0
        })
    );
    assert_eq!(
        c["common_lb_config"],
        json!({"healthy_panic_threshold": {"value": 10}})
    );
    // Without minHealthPercent Istio still disables the panic threshold.
    let dr = dr_policy("    outlierDetection: {consecutive5xxErrors: 1}\n");
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(
        c["common_lb_config"],
        json!({"healthy_panic_threshold": {"value": 0}})
    );
}

#[test]
fn port_level_override_and_subset_merge() {
    let se = REVIEWS_SE.replace(
        "ports: [{number: 9080, name: http, protocol: HTTP}]",
        "ports: [{number: 9080, name: http, protocol: HTTP}, {number: 9090, name: admin, protocol: HTTP}]",
    );
    let dr = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 10}}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {simple: ROUND_ROBIN}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool: {tcp: {maxConnections: 2}}
"#;
    let r = native(&docs(&[&se, dr]));
    let main = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(main["lb_policy"], "RANDOM");
    assert_eq!(
        main["circuit_breakers"]["thresholds"][0]["max_connections"],
        10
    );
    let admin = cluster(&r, "outbound|9090||reviews.default.svc.cluster.local");
    assert_eq!(admin["lb_policy"], "ROUND_ROBIN");
    assert_eq!(
        admin["circuit_breakers"]["thresholds"][0]["max_connections"], 4294967295u32,
        "port-level settings do not inherit the top-level connection pool"
    );
    let v1 = cluster(&r, "outbound|9080|v1|reviews.default.svc.cluster.local");
    assert_eq!(
        v1["lb_policy"], "RANDOM",
        "subset inherits the top-level load balancer"
    );
    assert_eq!(
        v1["circuit_breakers"]["thresholds"][0]["max_connections"],
        2
    );
    let v1_admin = cluster(&r, "outbound|9090|v1|reviews.default.svc.cluster.local");
    assert_eq!(v1_admin["lb_policy"], "ROUND_ROBIN");
    assert_eq!(
        v1_admin["circuit_breakers"]["thresholds"][0]["max_connections"],
        2
    );
}

#[test]
fn upstream_tls_modes() {
    let dr = dr_policy("    tls: {mode: SIMPLE, sni: reviews.example.com, subjectAltNames: [reviews.example.com], caCertificates: /etc/ca.pem}\n");
    let r = native(&docs(&[REVIEWS_SE, &dr]));
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    assert_eq!(c["transport_socket"]["name"], "envoy.transport_sockets.tls");
    let t = &c["transport_socket"]["typed_config"];
    assert_eq!(
        t["@type"],
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
    );
    assert_eq!(t["sni"], "reviews.example.com");
    assert_eq!(
        t["common_tls_context"]["validation_context"],
        json!({"trusted_ca": {"filename": "/etc/ca.pem"},
               "match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": "reviews.example.com"}}]})
    );
    assert!(
        c.get("typed_extension_protocol_options").is_none(),
        "explicit SNI: no auto_sni"
    );

    // MUTUAL with files relative to the YAML file; no SNI → auto_sni + auto_san_validation.
    let dr = dr_policy(
        "    tls: {mode: MUTUAL, clientCertificate: certs/c.pem, privateKey: certs/k.pem}\n",
    );
    let loaded = load_str(&docs(&[REVIEWS_SE, &dr]), Some("/cfg/dir/dr.yaml"));
    let r = render(loaded.resources(), &RenderOptions::default());
    let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
    let common = &c["transport_socket"]["typed_config"]["common_tls_context"];
    assert_eq!(
        common["tls_certificates"],
        json!([{"certificate_chain": {"filename": "/cfg/dir/certs/c.pem"}, "private_key": {"filename": "/cfg/dir/certs/k.pem"}}])
    );
    assert_eq!(
        common["validation_context"]["trusted_ca"]["filename"],
        DEFAULT_SYSTEM_CA
    );
    assert_eq!(
        c["typed_extension_protocol_options"]
            ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
            ["upstream_http_protocol_options"],
        json!({"auto_sni": true, "auto_san_validation": true})
    );

    // ISTIO_MUTUAL: plaintext with a diagnostic. MUTUAL without a key: plaintext, error.
    for (tls, level) in [
        ("{mode: ISTIO_MUTUAL}", Level::Warning),
        ("{mode: MUTUAL, clientCertificate: /c.pem}", Level::Error),
    ] {
        let dr = dr_policy(&format!("    tls: {tls}\n"));
        let r = native(&docs(&[REVIEWS_SE, &dr]));
        let c = cluster(&r, "outbound|9080||reviews.default.svc.cluster.local");
        assert!(c.get("transport_socket").is_none(), "{tls}");
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.code == codes::MR203)
            .unwrap();
        assert_eq!(d.level, level, "{tls}");
    }
}

// ---------------------------------------------------------------------------------------
// Native routes

#[test]
fn mesh_virtual_host_domains_expand_short_names() {
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR]));
    assert_eq!(
        vhost(&r, REVIEWS_VH)["domains"],
        json!([
            "reviews.default.svc.cluster.local",
            "reviews.default.svc.cluster.local:9080",
            "reviews",
            "reviews:9080",
            "reviews.default",
            "reviews.default:9080",
            "reviews.default.svc",
            "reviews.default.svc:9080"
        ])
    );
    // From another namespace, no bare short name.
    let r = render_with(
        &docs(&[REVIEWS_SE, REVIEWS_DR]),
        &RenderOptions {
            native: true,
            namespace: "other".into(),
            ..RenderOptions::default()
        },
    );
    let domains = vhost(&r, REVIEWS_VH)["domains"].as_array().unwrap().clone();
    assert!(!domains.contains(&json!("reviews")));
    assert!(domains.contains(&json!("reviews.default:9080")));
}

#[test]
fn default_route_for_service_without_virtual_service() {
    let r = native(REVIEWS_SE);
    let rt = &routes(&r, REVIEWS_VH)[0];
    assert_eq!(rt["match"], json!({"prefix": "/"}));
    assert_eq!(
        rt["route"]["cluster"],
        "outbound|9080||reviews.default.svc.cluster.local"
    );
    assert_eq!(rt["route"]["timeout"], "0s");
    assert_eq!(rt["route"]["retry_policy"]["num_retries"], 2);
}

#[test]
fn header_routing_translates_to_ordered_routes() {
    let v = vs(r#"  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match:
    - name: ua
      headers: {user-agent: {regex: ".*Firefox.*"}, x-present: {}}
      withoutHeaders: {x-skip: {exact: "1"}, x-absent: {}}
    route: [{destination: {host: reviews, subset: v3}}]
  - route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v2}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs.len(), 3, "the catch-all ends the list");
    assert_eq!(rs[0]["name"], "jason");
    assert_eq!(
        rs[0]["match"],
        json!({"prefix": "/", "case_sensitive": true, "headers": [{"name": "end-user", "string_match": {"exact": "jason"}}]})
    );
    assert_eq!(
        rs[0]["route"]["cluster"],
        "outbound|9080|v2|reviews.default.svc.cluster.local"
    );
    assert_eq!(rs[1]["name"], ".ua");
    assert_eq!(
        rs[1]["match"]["headers"],
        json!([
            {"name": "user-agent", "string_match": {"safe_regex": {"regex": ".*Firefox.*"}}},
            {"name": "x-absent", "present_match": true, "invert_match": true},
            {"name": "x-present", "present_match": true},
            {"name": "x-skip", "string_match": {"exact": "1"}, "invert_match": true, "treat_missing_header_as_empty": true}
        ])
    );
    assert_eq!(rs[2]["match"], json!({"prefix": "/"}));
    assert_eq!(
        rs[2]["route"]["cluster"],
        "outbound|9080|v1|reviews.default.svc.cluster.local"
    );
    assert_eq!(
        rs[2]["decorator"]["operation"],
        "reviews.default.svc.cluster.local:9080/*"
    );
}

#[test]
fn uri_method_query_and_case_matches() {
    let v = vs(r#"  - match:
    - uri: {exact: /exact}
    - uri: {prefix: /Api}
      ignoreUriCase: true
      method: {exact: POST}
      authority: {prefix: reviews}
      scheme: {exact: http}
    - uri: {regex: "/r/[0-9]+"}
      queryParams: {q: {exact: "1"}, any: {regex: "*"}}
    route: [{destination: {host: reviews, subset: v1}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs.len(), 3);
    assert_eq!(
        rs[0]["match"],
        json!({"path": "/exact", "case_sensitive": true})
    );
    assert_eq!(
        rs[1]["match"],
        json!({"prefix": "/Api", "case_sensitive": false, "headers": [
            {"name": ":method", "string_match": {"exact": "POST"}},
            {"name": ":authority", "string_match": {"prefix": "reviews"}},
            {"name": ":scheme", "string_match": {"exact": "http"}}
        ]})
    );
    assert_eq!(
        rs[2]["match"],
        json!({"safe_regex": {"regex": "/r/[0-9]+"}, "case_sensitive": true, "query_parameters": [
            {"name": "any", "present_match": true},
            {"name": "q", "string_match": {"exact": "1"}}
        ]})
    );
    assert_eq!(
        rs[2]["decorator"]["operation"],
        "reviews.default.svc.cluster.local:9080/r/[0-9]+"
    );
}

#[test]
fn weighted_clusters_skip_zero_weights() {
    let v = vs(r#"  - route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10, headers: {request: {set: {x-canary: "true"}}}}
    - {destination: {host: reviews, subset: v3}, weight: 0}
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let route = &routes(&r, REVIEWS_VH)[0]["route"];
    assert_eq!(
        route["weighted_clusters"],
        json!({"clusters": [
            {"name": "outbound|9080|v1|reviews.default.svc.cluster.local", "weight": 90},
            {"name": "outbound|9080|v2|reviews.default.svc.cluster.local", "weight": 10,
             "request_headers_to_add": [{"header": {"key": "x-canary", "value": "true"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]}
        ]})
    );
    assert!(route.get("cluster").is_none());
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["decorator"]["operation"],
        "reviews:9080/*"
    );
}

#[test]
fn fault_injection_per_route() {
    let v = vs(r#"  - match: [{headers: {end-user: {exact: jason}}}]
    fault:
      delay: {fixedDelay: 7s, percentage: {value: 100}}
      abort: {httpStatus: 500, percentage: {value: 0.1}}
    route: [{destination: {host: reviews, subset: v1}}]
  - fault:
      delay: {fixedDelay: 1.5s, percent: 50}
      abort: {grpcStatus: UNAVAILABLE}
    route: [{destination: {host: reviews, subset: v1}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(
        rs[0]["typed_per_filter_config"]["envoy.filters.http.fault"],
        json!({"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
               "delay": {"fixed_delay": "7s", "percentage": {"numerator": 1000000, "denominator": "MILLION"}},
               "abort": {"http_status": 500, "percentage": {"numerator": 1000, "denominator": "MILLION"}}})
    );
    assert_eq!(
        rs[1]["typed_per_filter_config"]["envoy.filters.http.fault"],
        json!({"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
               "delay": {"fixed_delay": "1.5s", "percentage": {"numerator": 50, "denominator": "HUNDRED"}},
               "abort": {"grpc_status": 14}})
    );
    // The HCM has the fault filter (and CORS) before the router.
    let filters: Vec<&str> = hcm(&listeners(&r)[0], 0)["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            "envoy.filters.http.cors",
            "envoy.filters.http.fault",
            "envoy.filters.http.router"
        ]
    );
}

#[test]
fn retries_and_timeouts() {
    let v = vs(r#"  - match: [{uri: {prefix: /custom}}]
    timeout: 10s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,503,429", retryIgnorePreviousHosts: false, backoff: 25ms, retryRemoteLocalities: true}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /off}}]
    retries: {attempts: 0}
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v1}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    let custom = &rs[0]["route"];
    assert_eq!(custom["timeout"], "10s");
    assert_eq!(custom["max_grpc_timeout"], "10s");
    assert_eq!(
        custom["retry_policy"],
        json!({
            "retry_on": "5xx,reset,retriable-status-codes",
            "num_retries": 3,
            "host_selection_retry_max_attempts": 5,
            "retriable_status_codes": [503, 429],
            "per_try_timeout": "2s",
            "retry_priority": {"name": "envoy.retry_priorities.previous_priorities", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
                "update_frequency": 2}},
            "retry_back_off": {"base_interval": "0.025s"}
        })
    );
    assert!(
        rs[1]["route"].get("retry_policy").is_none(),
        "attempts 0 disables retries"
    );
    let default = &rs[2]["route"];
    assert_eq!(default["timeout"], "0s");
    assert_eq!(
        default["retry_policy"],
        json!({
            "retry_on": routes::DEFAULT_RETRY_ON,
            "num_retries": 2,
            "host_selection_retry_max_attempts": 5,
            "retriable_status_codes": [503],
            "retry_host_predicate": [{"name": "envoy.retry_host_predicates.previous_hosts", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}]
        })
    );
}

#[test]
fn mirrors_with_percentages_and_their_clusters() {
    let v = vs(r#"  - route: [{destination: {host: reviews, subset: v1}}]
    mirror: {host: reviews, subset: v2}
    mirrorPercentage: {value: 12.5}
    mirrors:
    - destination: {host: shadow.example.com, port: {number: 80}}
    - destination: {host: reviews, subset: v3}
      percentage: {value: 0}
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let route = &routes(&r, REVIEWS_VH)[0]["route"];
    assert_eq!(
        route["request_mirror_policies"],
        json!([
            {"cluster": "outbound|9080|v2|reviews.default.svc.cluster.local",
             "runtime_fraction": {"default_value": {"numerator": 125000, "denominator": "MILLION"}}, "trace_sampled": false},
            {"cluster": "outbound|80||shadow.example.com",
             "runtime_fraction": {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}, "trace_sampled": false}
        ])
    );
    // The mirror's cluster exists even though no ServiceEntry backs it.
    let shadow = cluster(&r, "outbound|80||shadow.example.com");
    assert_eq!(shadow["load_assignment"]["endpoints"], json!([]));
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == codes::MR202)
        .unwrap();
    assert_eq!(d.path, "spec.http[0].mirrors[0].destination");
    // Deprecated integer mirrorPercent.
    let v = vs("  - route: [{destination: {host: reviews}}]\n    mirror: {host: reviews, subset: v2}\n    mirrorPercent: 30\n");
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["route"]["request_mirror_policies"][0]["runtime_fraction"],
        json!({"default_value": {"numerator": 30, "denominator": "HUNDRED"}})
    );
}

#[test]
fn rewrites_redirects_direct_responses_and_header_ops() {
    let v = vs(r#"  - match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new, authority: new.example.com}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /re}}]
    rewrite: {uriRegexRewrite: {match: "^/re/(.*)", rewrite: "/\\1"}}
    headers:
      request: {set: {x-b: "2", x-a: "1"}, add: {x-c: "3"}, remove: [x-d, ":path"]}
      response: {set: {x-e: "5"}, remove: [server]}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /moved}}]
    redirect: {uri: /elsewhere, authority: other.example.com, redirectCode: 302, port: 8443, scheme: https}
  - match: [{uri: {prefix: /derived}}]
    redirect: {uri: /x, derivePort: FROM_REQUEST_PORT}
  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "I'm a teapot"}}
  - match: [{uri: {prefix: /auth}}]
    headers: {request: {set: {host: via-header.example.com}}}
    route: [{destination: {host: reviews, subset: v1}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs[0]["route"]["prefix_rewrite"], "/new");
    assert_eq!(rs[0]["route"]["host_rewrite_literal"], "new.example.com");
    assert_eq!(
        rs[1]["route"]["regex_rewrite"],
        json!({"pattern": {"regex": "^/re/(.*)"}, "substitution": "/\\1"})
    );
    assert_eq!(
        rs[1]["request_headers_to_add"],
        json!([
            {"header": {"key": "x-a", "value": "1"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
            {"header": {"key": "x-b", "value": "2"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
            {"header": {"key": "x-c", "value": "3"}, "append_action": "APPEND_IF_EXISTS_OR_ADD"}
        ])
    );
    assert_eq!(rs[1]["request_headers_to_remove"], json!(["x-d"]));
    assert_eq!(
        rs[1]["response_headers_to_add"],
        json!([{"header": {"key": "x-e", "value": "5"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}])
    );
    assert_eq!(rs[1]["response_headers_to_remove"], json!(["server"]));
    assert_eq!(
        rs[2]["redirect"],
        json!({"host_redirect": "other.example.com", "path_redirect": "/elsewhere", "scheme_redirect": "https",
               "port_redirect": 8443, "response_code": "FOUND"})
    );
    assert_eq!(
        rs[3]["redirect"],
        json!({"path_redirect": "/x", "port_redirect": 9080, "response_code": "MOVED_PERMANENTLY"})
    );
    assert_eq!(rs[4]["direct_response"]["status"], 418);
    assert_eq!(
        rs[5]["route"]["host_rewrite_literal"],
        "via-header.example.com"
    );
}

#[test]
fn redirect_ports_follow_istio() {
    let v = vs(r#"  - match: [{uri: {prefix: /a}}]
    redirect: {uri: /x, port: 8443, scheme: https}
  - match: [{uri: {prefix: /b}}]
    redirect: {uri: /x, port: 443, scheme: https}
  - match: [{uri: {prefix: /c}}]
    redirect: {uri: /x, derivePort: FROM_REQUEST_PORT}
  - match: [{uri: {prefix: /d}}]
    redirect: {authority: b.example.com, redirectCode: 308}
  - match: [{uri: {prefix: /e}}]
    redirect: {uri: /x, redirectCode: 399}
    route: [{destination: {host: reviews}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs[0]["redirect"]["port_redirect"], 8443);
    assert!(
        rs[1]["redirect"].get("port_redirect").is_none(),
        "443 is implicit for https"
    );
    assert_eq!(
        rs[2]["redirect"]["port_redirect"], 9080,
        "the listener (service) port"
    );
    assert_eq!(
        rs[3]["redirect"],
        json!({"host_redirect": "b.example.com", "response_code": "PERMANENT_REDIRECT"})
    );
    assert_eq!(rs.len(), 4, "unsupported redirect code: rule skipped");
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.path == "spec.http[4].redirect.redirectCode"));
}

#[test]
fn direct_response_and_authority_from_headers() {
    let v = vs(r#"  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "I'm a teapot"}}
  - match: [{uri: {prefix: /bytes}}]
    directResponse: {status: 200, body: {bytes: aGk=}}
  - headers: {request: {set: {host: via-header.example.com}}}
    route: [{destination: {host: reviews, subset: v1}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(
        rs[0]["direct_response"],
        json!({"status": 418, "body": {"inline_string": "I'm a teapot"}})
    );
    assert!(rs[0].get("route").is_none());
    assert_eq!(
        rs[1]["direct_response"],
        json!({"status": 200, "body": {"inline_bytes": "aGk="}})
    );
    assert_eq!(
        rs[2]["route"]["host_rewrite_literal"],
        "via-header.example.com"
    );
    assert!(
        rs[2].get("request_headers_to_add").is_none(),
        "host is not a header Envoy may set"
    );
    assert_eq!(
        hcm(&listeners(&r)[0], 0)["route_config"]["max_direct_response_body_size_bytes"],
        1024 * 1024
    );
}

#[test]
fn cors_policy_per_route() {
    let v = vs(r#"  - corsPolicy:
      allowOrigins: [{exact: "https://a.example.com"}, {regex: "https://.*\\.b\\.com"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a]
      exposeHeaders: [x-b]
      maxAge: 24h
      allowCredentials: true
      unmatchedPreflights: IGNORE
    route: [{destination: {host: reviews, subset: v1}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["typed_per_filter_config"]["envoy.filters.http.cors"],
        json!({
            "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
            "forward_not_matching_preflights": false,
            "allow_origin_string_match": [{"exact": "https://a.example.com"}, {"safe_regex": {"regex": "https://.*\\.b\\.com"}}],
            "filter_enabled": {"default_value": {"numerator": 100, "denominator": "HUNDRED"}},
            "allow_credentials": true,
            "allow_headers": "x-a",
            "allow_methods": "GET,POST",
            "expose_headers": "x-b",
            "max_age": "86400"
        })
    );
}

#[test]
fn port_source_and_gateway_conditions() {
    let v = vs(r#"  - match: [{port: 9999}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{sourceLabels: {app: productpage}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{gateways: [some-gateway]}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{sourceNamespace: other}]
    route: [{destination: {host: reviews, subset: v3}}]
  - match: [{port: 9080, sourceNamespace: default, gateways: [mesh]}]
    route: [{destination: {host: reviews, subset: v2}}]
"#);
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(
        rs[0]["route"]["cluster"],
        "outbound|9080|v2|reviews.default.svc.cluster.local"
    );
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.path == "spec.http[1].match[0].sourceLabels"));
}

#[test]
fn destination_port_inference_and_unknown_hosts() {
    // Multi-port service: a destination without port uses the listener (virtual host) port.
    let se = REVIEWS_SE.replace(
        "ports: [{number: 9080, name: http, protocol: HTTP}]",
        "ports: [{number: 9080, name: http, protocol: HTTP}, {number: 80, name: web, protocol: HTTP}]",
    );
    let v = vs("  - route: [{destination: {host: reviews}}]\n");
    let r = native(&docs(&[&se, &v]));
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["route"]["cluster"],
        "outbound|9080||reviews.default.svc.cluster.local"
    );
    let vh80 = vhost(&r, "reviews.default.svc.cluster.local:80");
    assert_eq!(
        vh80["routes"][0]["route"]["cluster"],
        "outbound|80||reviews.default.svc.cluster.local"
    );
    // Port-less Host headers go to port 80 when the service has it.
    assert!(vh80["domains"]
        .as_array()
        .unwrap()
        .contains(&json!("reviews")));
    assert!(!vhost(&r, REVIEWS_VH)["domains"]
        .as_array()
        .unwrap()
        .contains(&json!("reviews")));

    // A VirtualService for a host no ServiceEntry declares: bound on port 80.
    let v = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ext}\nspec:\n  hosts: [api.example.com]\n  http:\n  - route: [{destination: {host: api.example.com}}]\n";
    let r = native(v);
    let vh = vhost(&r, "api.example.com:80");
    assert_eq!(
        vh["domains"],
        json!(["api.example.com", "api.example.com:80"])
    );
    assert_eq!(
        vh["routes"][0]["route"]["cluster"],
        "outbound|80||api.example.com"
    );
    assert!(clusters(&r)
        .iter()
        .any(|c| c["name"] == "outbound|80||api.example.com"));
}

#[test]
fn first_virtual_service_wins_a_host() {
    let a = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n");
    let b = vs("  - route: [{destination: {host: reviews, subset: v2}}]\n")
        .replace("name: reviews", "name: reviews-b");
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &a, &b]));
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["route"]["cluster"],
        "outbound|9080|v1|reviews.default.svc.cluster.local"
    );
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == codes::MR204)
        .unwrap();
    assert_eq!(d.resource, "VirtualService default/reviews-b");
}

/// istiod's order (creationTimestamp, then name, then namespace), not the input order,
/// decides which VirtualService owns a host: the same answer as the engine's.
#[test]
fn the_virtual_service_first_in_istios_order_wins_a_host() {
    let a = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n")
        .replace("name: reviews", "name: reviews-a");
    let z = vs("  - route: [{destination: {host: reviews, subset: v2}}]\n")
        .replace("name: reviews", "name: reviews-z");
    // reviews-z comes first in the input, reviews-a first by name.
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &z, &a]));
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["route"]["cluster"],
        "outbound|9080|v1|reviews.default.svc.cluster.local"
    );
    let d: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::MR204)
        .collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].resource, "VirtualService default/reviews-z");
    // An older creationTimestamp wins over the name.
    let z_old = z.replace(
        "name: reviews-z",
        "name: reviews-z, creationTimestamp: \"2020-01-01T00:00:00Z\"",
    );
    let a_new = a.replace(
        "name: reviews-a",
        "name: reviews-a, creationTimestamp: \"2021-01-01T00:00:00Z\"",
    );
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &a_new, &z_old]));
    assert_eq!(
        routes(&r, REVIEWS_VH)[0]["route"]["cluster"],
        "outbound|9080|v2|reviews.default.svc.cluster.local"
    );
}

#[test]
fn unsupported_features_are_diagnosed_not_fatal() {
    let v = vs(
        r#"  - match: [{headers: {"@request.auth.claims.group": {exact: admin}}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - delegate: {name: child}
  - fault: {abort: {http2Error: CANCEL}, delay: {exponentialDelay: 1s}}
    route: [{destination: {host: reviews, subset: v9}}]
"#,
    );
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs.len(), 1);
    assert!(rs[0].get("typed_per_filter_config").is_none());
    let paths: Vec<&str> = r.diagnostics.iter().map(|d| d.path.as_str()).collect();
    for p in [
        "spec.http[0].match[0].headers",
        "spec.http[1].delegate",
        "spec.http[2].fault.abort",
        "spec.http[2].fault.delay",
        "spec.http[2].route[0].destination",
    ] {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
    assert!(!r.has_errors());
}

// ---------------------------------------------------------------------------------------
// Gateways

const GATEWAY: &str = r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["default/*.example.com"]
  - port: {number: 8081, name: http-redirect, protocol: HTTP}
    hosts: [secure.example.com]
    tls: {httpsRedirect: true}
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [secure.example.com]
    tls: {mode: SIMPLE, serverCertificate: /certs/tls.crt, privateKey: /certs/tls.key}
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
"#;

const GATEWAY_VS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: default}
spec:
  hosts: [shop.example.com, secure.example.com, other.org]
  gateways: [istio-system/gw]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: reviews, port: {number: 9080}}}]
"#;

fn gateway_opts(native: bool) -> RenderOptions {
    RenderOptions {
        native,
        gateway: Some("istio-system/gw".into()),
        listen_address: "127.0.0.1".into(),
        ..RenderOptions::default()
    }
}

#[test]
fn gateway_listeners_per_server_port() {
    let r = render_with(
        &docs(&[REVIEWS_SE, GATEWAY, GATEWAY_VS]),
        &gateway_opts(true),
    );
    let ls = listeners(&r);
    let names: Vec<&str> = ls.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["127.0.0.1_8080", "127.0.0.1_8081", "127.0.0.1_8443"],
        "TCP server skipped"
    );
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.path == "spec.servers[3].port.protocol"));

    // 8080: only hosts shared by the server (*.example.com for namespace default) and the VS.
    let h = hcm(&ls[0], 0);
    assert_eq!(h["use_remote_address"], true);
    let rc = &h["route_config"];
    assert_eq!(rc["ignore_port_in_host_matching"], true);
    let vhs = rc["virtual_hosts"].as_array().unwrap();
    let domains: Vec<&Value> = vhs.iter().map(|v| &v["domains"]).collect();
    assert_eq!(
        domains,
        [&json!(["secure.example.com"]), &json!(["shop.example.com"])]
    );
    assert_eq!(vhs[1]["name"], "shop.example.com:8080");
    assert_eq!(
        vhs[1]["routes"][0]["route"]["cluster"],
        "outbound|9080||reviews.default.svc.cluster.local"
    );

    // 8081: httpsRedirect → require_tls.
    let vhs = hcm(&ls[1], 0)["route_config"]["virtual_hosts"]
        .as_array()
        .unwrap();
    assert_eq!(vhs[0]["require_tls"], "ALL");

    // 8443: TLS chain with SNI.
    let l = &ls[2];
    assert_eq!(
        l["listener_filters"][0]["name"],
        "envoy.filters.listener.tls_inspector"
    );
    let chain = &l["filter_chains"][0];
    assert_eq!(
        chain["filter_chain_match"],
        json!({"server_names": ["secure.example.com"]})
    );
    let tls = &chain["transport_socket"]["typed_config"];
    assert_eq!(
        tls["@type"],
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
    );
    assert_eq!(
        tls["common_tls_context"]["tls_certificates"],
        json!([{"certificate_chain": {"filename": "/certs/tls.crt"}, "private_key": {"filename": "/certs/tls.key"}}])
    );
    assert_eq!(
        tls["common_tls_context"]["tls_params"]["tls_minimum_protocol_version"],
        "TLSv1_2"
    );
    let vhs = hcm(l, 0)["route_config"]["virtual_hosts"]
        .as_array()
        .unwrap();
    assert_eq!(vhs.len(), 1);
    assert_eq!(vhs[0]["domains"], json!(["secure.example.com"]));
}

#[test]
fn gateway_without_matching_virtual_service_is_a_404_blackhole() {
    let gw = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: istio-system}\nspec:\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n";
    let r = render_with(gw, &gateway_opts(true));
    let vhs = hcm(&listeners(&r)[0], 0)["route_config"]["virtual_hosts"].clone();
    assert_eq!(
        vhs,
        json!([{"name": "blackhole:8080", "domains": ["*"], "routes": [], "include_request_attempt_count": true}])
    );
}

#[test]
fn unknown_gateway_is_an_error() {
    let r = render_with(REVIEWS_SE, &gateway_opts(false));
    assert!(listeners(&r).is_empty());
    assert!(r.has_errors());
    assert_eq!(r.diagnostics[0].code, codes::MR205);
}

// ---------------------------------------------------------------------------------------
// Wasm mode

#[test]
fn wasm_mode_routes_by_cluster_header_and_carries_the_filter_config() {
    let v = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n    mirror: {host: reviews, subset: v9}\n");
    let r = render_with(
        &docs(&[REVIEWS_SE, REVIEWS_DR, &v]),
        &RenderOptions {
            wasm_path: "/abs/meshroute_filter.wasm".into(),
            ..RenderOptions::default()
        },
    );
    let l = &listeners(&r)[0];
    assert_eq!(
        l["address"]["socket_address"],
        json!({"address": "0.0.0.0", "port_value": 10000})
    );
    assert_eq!(
        r.bootstrap["admin"]["address"]["socket_address"],
        json!({"address": "127.0.0.1", "port_value": 9901})
    );
    let h = hcm(l, 0);
    let filters = h["http_filters"].as_array().unwrap();
    let names: Vec<&str> = filters
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["envoy.filters.http.wasm", "envoy.filters.http.router"]
    );
    let wasm = &filters[0]["typed_config"]["config"];
    assert_eq!(wasm["root_id"], "meshroute");
    assert_eq!(wasm["vm_config"]["vm_id"], "meshroute");
    assert_eq!(wasm["vm_config"]["runtime"], "envoy.wasm.runtime.v8");
    assert_eq!(
        wasm["vm_config"]["code"]["local"]["filename"],
        "/abs/meshroute_filter.wasm"
    );
    let text = wasm["configuration"]["value"].as_str().unwrap();
    let fc = FilterConfig::from_slice(text.as_bytes()).unwrap();
    assert_eq!(fc.settings, FilterSettings::default());
    let kinds: Vec<&str> = fc
        .resources
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ServiceEntry", "DestinationRule", "VirtualService"]);
    let loaded = fc.load();
    assert_eq!(loaded.resources().count(), 3);

    // No fault filter: it would obey client-sent x-envoy-fault-* headers.
    assert!(!filters
        .iter()
        .any(|f| f["name"] == "envoy.filters.http.fault"));

    let vhs = h["route_config"]["virtual_hosts"].as_array().unwrap();
    assert_eq!(vhs.len(), 1);
    assert_eq!(vhs[0]["domains"], json!(["*"]));
    let rs = vhs[0]["routes"].as_array().unwrap();
    assert_eq!(rs.len(), 5);
    assert_eq!(
        rs[0]["match"]["headers"],
        json!([{"name": "x-meshroute-cluster", "present_match": false}])
    );
    assert_eq!(rs[0]["direct_response"], json!({"status": 404}));
    // (header name, must be present) of each route's match.
    let headers = |r: &Value| -> Vec<(String, bool)> {
        r["match"]["headers"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|m| {
                        let name = m["name"].as_str().unwrap_or_default().to_owned();
                        (name, m["present_match"].as_bool().unwrap())
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let nph = filter_config::HEADER_NO_PREVIOUS_HOSTS;
    let mr = filter_config::HEADER_MAX_RETRIES;
    let want = |h: &[(&str, bool)]| -> Vec<(String, bool)> {
        h.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect()
    };
    // The common case first (Envoy matches again after the filter set the cluster header).
    assert_eq!(rs[1]["name"], "meshroute");
    assert_eq!(headers(&rs[1]), want(&[(mr, false), (nph, false)]));
    assert_eq!(headers(&rs[2]), want(&[(mr, true), (nph, true)]));
    assert_eq!(headers(&rs[3]), want(&[(mr, true)]));
    assert_eq!(headers(&rs[4]), want(&[(nph, true)]));
    for r in &rs[1..] {
        assert_eq!(r["route"]["cluster_header"], "x-meshroute-cluster");
        assert_eq!(r["route"]["timeout"], "0s");
        assert_eq!(
            r["route"]["retry_policy"]["host_selection_retry_max_attempts"],
            5
        );
        let predicate = r["route"]["retry_policy"]
            .get("retry_host_predicate")
            .is_some();
        assert_eq!(
            predicate,
            !headers(r).contains(&(nph.to_owned(), true)),
            "{r}"
        );
    }
    // x-envoy-max-retries (set by the filter for a non-default policy): the headers decide.
    for r in &rs[2..4] {
        assert!(
            r["route"]["retry_policy"].get("retry_on").is_none(),
            "retry_on comes from x-envoy-retry-on: {r}"
        );
        assert!(r["route"]["retry_policy"].get("num_retries").is_none());
    }
    // Otherwise Istio's default policy, in the route (no header per request).
    for r in [&rs[1], &rs[4]] {
        let rp = &r["route"]["retry_policy"];
        assert_eq!(rp["retry_on"], filter_config::ROUTE_DEFAULT_RETRY_ON);
        assert_eq!(rp["num_retries"], 2);
        assert_eq!(rp["retriable_status_codes"], json!([503]));
    }
    // The mirror's cluster exists for the filter's HTTP calls.
    cluster(&r, "outbound|9080|v9|reviews.default.svc.cluster.local");
}

#[test]
fn wasm_mode_gateway_keeps_host_binding() {
    let r = render_with(
        &docs(&[REVIEWS_SE, GATEWAY, GATEWAY_VS]),
        &gateway_opts(false),
    );
    let l = &listeners(&r)[0];
    let vhs = hcm(l, 0)["route_config"]["virtual_hosts"]
        .as_array()
        .unwrap();
    assert_eq!(vhs[1]["domains"], json!(["shop.example.com"]));
    assert_eq!(
        vhs[1]["routes"][2]["route"]["cluster_header"],
        "x-meshroute-cluster"
    );
    let text = hcm(l, 0)["http_filters"][0]["typed_config"]["config"]["configuration"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let fc = FilterConfig::from_slice(text.as_bytes()).unwrap();
    assert_eq!(fc.settings.gateway, "istio-system/gw");
    // The filter binds by the gateway's name (settings.gateway); the Gateway resource
    // itself is Envoy's listener config, not the filter's.
    let kinds: Vec<&str> = fc
        .resources
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["ServiceEntry", "VirtualService"]);
}

#[test]
fn parse_addresses() {
    assert_eq!(
        parse_address("0.0.0.0:10000"),
        Ok(("0.0.0.0".into(), 10000))
    );
    assert_eq!(parse_address("[::1]:9901"), Ok(("::1".into(), 9901)));
    assert_eq!(parse_address("localhost:0"), Ok(("localhost".into(), 0)));
    for bad in ["10000", ":80", "a:b", "a:70000"] {
        assert!(parse_address(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_virtual_service_naming_a_host_twice_is_not_a_conflict() {
    let v = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n").replace(
        "hosts: [reviews]",
        "hosts: [reviews, reviews.default.svc.cluster.local]",
    );
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    assert_eq!(routes(&r, REVIEWS_VH).len(), 1);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn retry_on_with_only_status_codes_passes_through_like_istio() {
    let v = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n    retries: {attempts: 2, retryOn: \"503\"}\n");
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, &v]));
    let rp = &routes(&r, REVIEWS_VH)[0]["route"]["retry_policy"];
    assert_eq!(rp["retry_on"], ",retriable-status-codes");
    assert_eq!(rp["retriable_status_codes"], json!([503]));
}

#[test]
fn short_service_entry_host_gets_a_hint() {
    let se = REVIEWS_SE.replace(
        "hosts: [reviews.default.svc.cluster.local]",
        "hosts: [reviews]",
    );
    let v = vs("  - route: [{destination: {host: reviews, subset: v1}}]\n");
    let r = native(&docs(&[&se, REVIEWS_DR, &v]));
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == codes::MR202)
        .unwrap();
    assert!(d.message.contains("declare the FQDN"), "{}", d.message);
}

#[test]
fn delegation_merges_root_and_delegate_rules_like_istio() {
    let root = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: root
    match: [{uri: {prefix: /api}, headers: {x-team: {exact: a}}}]
    timeout: 3s
    delegate: {name: reviews-api, namespace: team-a}
  - route: [{destination: {host: reviews, subset: v3}}]
"#;
    let child = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api, namespace: team-a}
spec:
  http:
  - name: v1
    match: [{uri: {prefix: /api/v1}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - name: conflicting
    match: [{uri: {prefix: /other}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - timeout: 1s
    route: [{destination: {host: reviews, subset: v2}}]
"#;
    let r = native(&docs(&[REVIEWS_SE, REVIEWS_DR, root, child]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(rs.len(), 3, "{rs:#?}");
    assert_eq!(rs[0]["name"], "root-v1");
    assert_eq!(
        rs[0]["match"],
        json!({"prefix": "/api/v1", "case_sensitive": true,
               "headers": [{"name": "x-team", "string_match": {"exact": "a"}}]})
    );
    assert_eq!(
        rs[0]["route"]["timeout"], "3s",
        "inherited from the root rule"
    );
    // The delegate's short names resolve in the delegate's namespace (team-a).
    assert_eq!(
        rs[0]["route"]["cluster"],
        "outbound|9080|v1|reviews.team-a.svc.cluster.local"
    );
    assert_eq!(rs[1]["name"], "root");
    assert_eq!(rs[1]["match"]["prefix"], "/api");
    assert_eq!(rs[1]["route"]["timeout"], "1s");
    assert_eq!(
        rs[2]["route"]["cluster"],
        "outbound|9080|v3|reviews.default.svc.cluster.local"
    );
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.code == codes::MR204 && d.message.contains("rule 1 of delegate")));
}

/// istiod resolves each VirtualService's short names in its own namespace, then merges
/// delegates (`initVirtualServices`; istio/istio#30387, fixed by #30423).
#[test]
fn delegate_short_names_resolve_in_the_delegate_namespace() {
    let root = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /api}}]
    mirror: {host: shadow, port: {number: 80}}
    delegate: {name: reviews-api, namespace: team-a}
"#;
    let child = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api, namespace: team-a}
spec:
  http:
  - route: [{destination: {host: api, port: {number: 8080}}}]
    mirrors: [{destination: {host: api-shadow, port: {number: 8080}}}]
"#;
    let r = native(&docs(&[REVIEWS_SE, root, child]));
    let rs = routes(&r, REVIEWS_VH);
    assert_eq!(
        rs[0]["route"]["cluster"],
        "outbound|8080||api.team-a.svc.cluster.local"
    );
    let mirrors: Vec<&str> = rs[0]["route"]["request_mirror_policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(
        mirrors,
        [
            // Inherited from the root rule: the root's namespace.
            "outbound|80||shadow.default.svc.cluster.local",
            "outbound|8080||api-shadow.team-a.svc.cluster.local",
        ]
    );
}

/// istiod `resolveGatewayName`: `./name` is the VirtualService's namespace, and the legacy
/// FQDN form `name.ns.svc.cluster.local` (or `name.ns`) is `ns/name`; the engine already
/// resolves them so (engine::compile::resolve_gateway).
#[test]
fn gateway_names_in_dot_slash_and_legacy_fqdn_form_bind_like_istio() {
    for gws in ["[gw.istio-system.svc.cluster.local]", "[gw.istio-system]"] {
        let v = GATEWAY_VS.replace("[istio-system/gw]", gws);
        let r = render_with(&docs(&[REVIEWS_SE, GATEWAY, &v]), &gateway_opts(true));
        let rc = &hcm(&listeners(&r)[0], 0)["route_config"];
        let vhs = rc["virtual_hosts"].as_array().unwrap();
        assert!(
            vhs.iter().any(|vh| vh["name"] == "shop.example.com:8080"),
            "{gws}: {vhs:#?}"
        );
    }
    let v = GATEWAY_VS
        .replace("namespace: default", "namespace: istio-system")
        .replace("[istio-system/gw]", "[./gw]")
        .replace("host: reviews,", "host: reviews.default.svc.cluster.local,");
    let gw = GATEWAY.replace("\"default/*.example.com\"", "\"*/*.example.com\"");
    let r = render_with(&docs(&[REVIEWS_SE, &gw, &v]), &gateway_opts(true));
    let rc = &hcm(&listeners(&r)[0], 0)["route_config"];
    let vhs = rc["virtual_hosts"].as_array().unwrap();
    assert!(
        vhs.iter().any(|vh| vh["name"] == "shop.example.com:8080"),
        "./gw: {vhs:#?}"
    );
}
