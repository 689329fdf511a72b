//! Table-driven tests: YAML in, the MR1xx diagnostics (code, resource, path) out.

use super::*;
use crate::load::load_str;
use std::collections::BTreeSet;

/// A VirtualService `default/r` with `spec` (written at column 0).
fn vs(spec: &str) -> String {
    named_vs("r", "default", spec)
}

fn named_vs(name: &str, ns: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{}---\n",
        indent(spec)
    )
}

/// A DestinationRule `ns/name` with `spec`.
fn dr(name: &str, ns: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{}---\n",
        indent(spec)
    )
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn lint(yaml: &str) -> Vec<Diagnostic> {
    let loaded = load_str(yaml, Some("t.yaml"));
    assert!(
        loaded.diagnostics.is_empty(),
        "test input must load cleanly: {:#?}\n{yaml}",
        loaded.diagnostics
    );
    let ctx = Context::new(&loaded, "default");
    run(&ctx)
}

struct Case {
    name: &'static str,
    yaml: String,
    /// The codes this case is about: other lints' findings are ignored.
    codes: &'static [&'static str],
    want: &'static [(&'static str, &'static str, &'static str)],
}

const VS_R: &str = "VirtualService default/r";
const DR_D: &str = "DestinationRule default/d";

fn check_cases(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in cases {
        let got: BTreeSet<(String, String, String)> = lint(&c.yaml)
            .into_iter()
            .filter(|d| c.codes.contains(&d.code.as_str()))
            .map(|d| (d.code, d.resource, d.path))
            .collect();
        let want: BTreeSet<(String, String, String)> = c
            .want
            .iter()
            .map(|(a, b, p)| (a.to_string(), b.to_string(), p.to_string()))
            .collect();
        if got != want {
            failures.push(format!("{}:\n  got  {got:?}\n  want {want:?}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const ROUTE_ALL: &str = "- route:\n  - destination:\n      host: reviews\n";

#[test]
fn mr101_catch_all() {
    check_cases(vec![
        Case {
            name: "last rule has a match",
            yaml: vs("hosts: [reviews]\nhttp:\n- match:\n  - uri:\n      prefix: /api\n  route:\n  - destination:\n      host: reviews\n"),
            codes: &["MR101"],
            want: &[("MR101", VS_R, "spec.http[0].match")],
        },
        Case {
            name: "rule without match",
            yaml: vs(&format!("hosts: [reviews]\nhttp:\n- match:\n  - uri:\n      prefix: /api\n  route:\n  - destination:\n      host: reviews\n{ROUTE_ALL}")),
            codes: &["MR101"],
            want: &[],
        },
        Case {
            name: "prefix / is a catch-all",
            yaml: vs("hosts: [reviews]\nhttp:\n- match:\n  - uri:\n      prefix: /\n  route:\n  - destination:\n      host: reviews\n"),
            codes: &["MR101"],
            want: &[],
        },
        Case {
            name: "catch-alls per gateway cover every gateway",
            yaml: vs("hosts: [a.example.com]\ngateways: [gw1, istio-system/gw2]\nhttp:\n- match:\n  - gateways: [gw1]\n  route:\n  - destination:\n      host: a\n- match:\n  - gateways: [istio-system/gw2]\n  route:\n  - destination:\n      host: b\n"),
            codes: &["MR101"],
            want: &[],
        },
        Case {
            name: "catch-all for one of two gateways",
            yaml: vs("hosts: [a.example.com]\ngateways: [gw1, gw2]\nhttp:\n- match:\n  - gateways: [gw1]\n  route:\n  - destination:\n      host: a\n"),
            codes: &["MR101"],
            want: &[("MR101", VS_R, "spec.http[0].match")],
        },
        Case {
            name: "delegate VirtualService (no hosts)",
            yaml: vs("http:\n- match:\n  - uri:\n      prefix: /api\n  route:\n  - destination:\n      host: reviews\n"),
            codes: &["MR101"],
            want: &[],
        },
    ]);
}

#[test]
fn mr102_subset_shadowed_by_namespace_rule() {
    let route = "hosts: [reviews.prod.svc.cluster.local]\nhttp:\n- route:\n  - destination:\n      host: reviews.prod.svc.cluster.local\n      subset: v2\n";
    let prod = dr(
        "reviews",
        "prod",
        "host: reviews\nsubsets:\n- name: v2\n  labels:\n    version: v2\n",
    );
    let web_no_v2 = dr("reviews-web", "web", "host: reviews.prod.svc.cluster.local\ntrafficPolicy:\n  connectionPool:\n    tcp:\n      maxConnections: 100\n");
    check_cases(vec![
        Case {
            name: "DR in the VirtualService's namespace lacks the subset",
            yaml: format!("{}{prod}{web_no_v2}", named_vs("r", "web", route)),
            codes: &["MR102"],
            want: &[("MR102", "VirtualService web/r", "spec.http[0].route[0].destination.subset")],
        },
        Case {
            name: "no DR in the VirtualService's namespace",
            yaml: format!("{}{prod}", named_vs("r", "web", route)),
            codes: &["MR102"],
            want: &[],
        },
        Case {
            name: "no DR defines the subset: IST0101's case, not ours",
            yaml: format!("{}{web_no_v2}", named_vs("r", "web", route)),
            codes: &["MR102"],
            want: &[],
        },
        Case {
            name: "a second DR in the same namespace defines it (merged)",
            yaml: format!(
                "{}{prod}{web_no_v2}{}",
                named_vs("r", "web", route),
                dr("reviews-web-2", "web", "host: reviews.prod.svc.cluster.local\nsubsets:\n- name: v2\n  labels:\n    version: v2\n")
            ),
            codes: &["MR102"],
            want: &[],
        },
    ]);
}

#[test]
fn mr103_mr116_mr117_weights() {
    let two = |a: &str, b: &str| {
        vs(&format!(
            "hosts: [reviews]\nhttp:\n- route:\n  - destination:\n      host: reviews\n      subset: v1\n{a}  - destination:\n      host: reviews\n      subset: v2\n{b}"
        ))
    };
    check_cases(vec![
        Case {
            name: "60 + 60",
            yaml: two("    weight: 60\n", "    weight: 60\n"),
            codes: &["MR103", "MR116", "MR117"],
            want: &[("MR103", VS_R, "spec.http[0].route")],
        },
        Case {
            name: "80 + 20",
            yaml: two("    weight: 80\n", "    weight: 20\n"),
            codes: &["MR103", "MR116", "MR117"],
            want: &[],
        },
        Case {
            name: "90 + omitted",
            yaml: two("    weight: 90\n", ""),
            codes: &["MR103", "MR116", "MR117"],
            want: &[("MR103", VS_R, "spec.http[0].route")],
        },
        Case {
            name: "100 + omitted",
            yaml: two("    weight: 100\n", ""),
            codes: &["MR103", "MR116", "MR117"],
            want: &[("MR117", VS_R, "spec.http[0].route[1]")],
        },
        Case {
            name: "100 + explicit 0 (deliberate drain)",
            yaml: two("    weight: 100\n", "    weight: 0\n"),
            codes: &["MR103", "MR116", "MR117"],
            want: &[],
        },
        Case {
            name: "all omitted: Istio rejects total 0 (IST0106)",
            yaml: two("", ""),
            codes: &["MR103", "MR116", "MR117"],
            want: &[],
        },
        Case {
            name: "single destination with weight 50",
            yaml: vs("hosts: [reviews]\nhttp:\n- route:\n  - destination:\n      host: reviews\n    weight: 50\n"),
            codes: &["MR103", "MR116", "MR117"],
            want: &[("MR116", VS_R, "spec.http[0].route[0].weight")],
        },
        Case {
            name: "single destination with weight 100",
            yaml: vs("hosts: [reviews]\nhttp:\n- route:\n  - destination:\n      host: reviews\n    weight: 100\n"),
            codes: &["MR103", "MR116", "MR117"],
            want: &[],
        },
        Case {
            name: "tcp route 30 + 30",
            yaml: vs("hosts: [db]\ntcp:\n- route:\n  - destination:\n      host: db-a\n    weight: 30\n  - destination:\n      host: db-b\n    weight: 30\n"),
            codes: &["MR103"],
            want: &[("MR103", VS_R, "spec.tcp[0].route")],
        },
    ]);
}

#[test]
fn mr104_timeout_shorter_than_retries() {
    let rule = |timeout: &str, retries: &str| {
        vs(&format!(
            "hosts: [reviews]\nhttp:\n- route:\n  - destination:\n      host: reviews\n{timeout}{retries}"
        ))
    };
    check_cases(vec![
        Case {
            name: "5s < 2s x 4",
            yaml: rule(
                "  timeout: 5s\n",
                "  retries:\n    attempts: 3\n    perTryTimeout: 2s\n",
            ),
            codes: &["MR104"],
            want: &[("MR104", VS_R, "spec.http[0].timeout")],
        },
        Case {
            name: "perTryTimeout longer than timeout",
            yaml: rule(
                "  timeout: 1s\n",
                "  retries:\n    attempts: 2\n    perTryTimeout: 3s\n",
            ),
            codes: &["MR104"],
            want: &[("MR104", VS_R, "spec.http[0].timeout")],
        },
        Case {
            name: "10s >= 2s x 4",
            yaml: rule(
                "  timeout: 10s\n",
                "  retries:\n    attempts: 3\n    perTryTimeout: 2s\n",
            ),
            codes: &["MR104"],
            want: &[],
        },
        Case {
            name: "no timeout (Istio's default: none)",
            yaml: rule("", "  retries:\n    attempts: 3\n    perTryTimeout: 2s\n"),
            codes: &["MR104"],
            want: &[],
        },
        Case {
            name: "retries omitted: default policy has no perTryTimeout",
            yaml: rule("  timeout: 1s\n", ""),
            codes: &["MR104"],
            want: &[],
        },
        Case {
            name: "perTryTimeout without attempts disables retries (IST0106)",
            yaml: rule("  timeout: 1s\n", "  retries:\n    perTryTimeout: 2s\n"),
            codes: &["MR104"],
            want: &[],
        },
    ]);
}

#[test]
fn mr105_mr106_unsafe_retries() {
    let rule = |matches: &str, retry_on: &str| {
        vs(&format!(
            "hosts: [orders]\nhttp:\n-{matches}  route:\n  - destination:\n      host: orders\n  retries:\n    attempts: 2\n    retryOn: {retry_on}\n"
        ))
    };
    const CODES: &[&str] = &["MR105", "MR106"];
    check_cases(vec![
        Case {
            name: "POST with 5xx",
            yaml: rule(" match:\n  - method:\n      exact: POST\n", "5xx"),
            codes: CODES,
            want: &[("MR105", VS_R, "spec.http[0].retries.retryOn")],
        },
        Case {
            name: "regex admitting PATCH with reset",
            yaml: rule(
                " match:\n  - method:\n      regex: PUT|PATCH\n",
                "connect-failure,reset",
            ),
            codes: CODES,
            want: &[("MR105", VS_R, "spec.http[0].retries.retryOn")],
        },
        Case {
            name: "GET with 5xx",
            yaml: rule(" match:\n  - method:\n      exact: GET\n", "5xx"),
            codes: CODES,
            want: &[],
        },
        Case {
            name: "POST with connect-failure only",
            yaml: rule(
                " match:\n  - method:\n      exact: POST\n",
                "connect-failure,refused-stream",
            ),
            codes: CODES,
            want: &[],
        },
        Case {
            name: "no method match with gateway-error",
            yaml: rule("\n", "gateway-error"),
            codes: CODES,
            want: &[("MR106", VS_R, "spec.http[0].retries.retryOn")],
        },
        Case {
            name: "503 only, like Istio's default",
            yaml: rule("\n", "\"503\""),
            codes: CODES,
            want: &[],
        },
    ]);
}

#[test]
fn mr107_retries_without_outlier_detection() {
    let retrying = |host: &str, subset: &str| {
        vs(&format!(
            "hosts: [{host}]\nhttp:\n- route:\n  - destination:\n      host: {host}\n{subset}  retries:\n    attempts: 2\n"
        ))
    };
    let od = "outlierDetection:\n  consecutive5xxErrors: 5\n";
    check_cases(vec![
        Case {
            name: "no DestinationRule",
            yaml: retrying("reviews", ""),
            codes: &["MR107"],
            want: &[("MR107", VS_R, "spec.http[0].retries")],
        },
        Case {
            name: "DestinationRule without outlierDetection",
            yaml: format!("{}{}", retrying("reviews", ""), dr("d", "default", "host: reviews\ntrafficPolicy:\n  tls:\n    mode: ISTIO_MUTUAL\n")),
            codes: &["MR107"],
            want: &[("MR107", VS_R, "spec.http[0].retries")],
        },
        Case {
            name: "DestinationRule with outlierDetection",
            yaml: format!("{}{}", retrying("reviews", ""), dr("d", "default", &format!("host: reviews\ntrafficPolicy:\n{}", indent(od)))),
            codes: &["MR107"],
            want: &[],
        },
        Case {
            name: "outlierDetection on the routed subset",
            yaml: format!(
                "{}{}",
                retrying("reviews", "      subset: v1\n"),
                dr("d", "default", &format!("host: reviews\nsubsets:\n- name: v1\n  labels:\n    version: v1\n  trafficPolicy:\n{}", indent(&indent(od))))
            ),
            codes: &["MR107"],
            want: &[],
        },
        Case {
            name: "outlierDetection on another subset",
            yaml: format!(
                "{}{}",
                retrying("reviews", "      subset: v2\n"),
                dr("d", "default", &format!("host: reviews\nsubsets:\n- name: v1\n  labels:\n    version: v1\n  trafficPolicy:\n{}- name: v2\n  labels:\n    version: v2\n", indent(&indent(od))))
            ),
            codes: &["MR107"],
            want: &[("MR107", VS_R, "spec.http[0].retries")],
        },
        Case {
            name: "wildcard DestinationRule with outlierDetection",
            yaml: format!("{}{}", retrying("api.example.com", ""), dr("d", "default", &format!("host: \"*.example.com\"\ntrafficPolicy:\n{}", indent(od)))),
            codes: &["MR107"],
            want: &[],
        },
    ]);
}

#[test]
fn mr108_to_mr111_mr118_to_mr120_destination_rules() {
    let one = |spec: &str| dr("d", "default", spec);
    check_cases(vec![
        Case {
            name: "locality failover without outlierDetection",
            yaml: one("host: reviews\ntrafficPolicy:\n  loadBalancer:\n    localityLbSetting:\n      enabled: true\n      failover:\n      - from: us-east\n        to: us-west\n"),
            codes: &["MR108"],
            want: &[("MR108", DR_D, "spec.trafficPolicy.loadBalancer.localityLbSetting")],
        },
        Case {
            name: "locality failover with outlierDetection",
            yaml: one("host: reviews\ntrafficPolicy:\n  loadBalancer:\n    localityLbSetting:\n      enabled: true\n  outlierDetection:\n    consecutive5xxErrors: 5\n"),
            codes: &["MR108"],
            want: &[],
        },
        Case {
            name: "locality distribute needs no outlierDetection",
            yaml: one("host: reviews\ntrafficPolicy:\n  loadBalancer:\n    localityLbSetting:\n      distribute:\n      - from: us-east/*\n        to:\n          us-east/*: 80\n          us-west/*: 20\n"),
            codes: &["MR108"],
            want: &[],
        },
        Case {
            name: "subset locality inherits top-level outlierDetection",
            yaml: one("host: reviews\ntrafficPolicy:\n  outlierDetection:\n    consecutive5xxErrors: 5\nsubsets:\n- name: v1\n  labels:\n    version: v1\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        enabled: true\n"),
            codes: &["MR108"],
            want: &[],
        },
        Case {
            name: "port-level locality without outlierDetection",
            yaml: one("host: reviews\ntrafficPolicy:\n  portLevelSettings:\n  - port:\n      number: 9080\n    loadBalancer:\n      localityLbSetting:\n        failoverPriority: [topology.kubernetes.io/region]\n"),
            codes: &["MR108"],
            want: &[("MR108", DR_D, "spec.trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting")],
        },
        Case {
            name: "maxEjectionPercent 100",
            yaml: one("host: reviews\ntrafficPolicy:\n  outlierDetection:\n    consecutive5xxErrors: 5\n    maxEjectionPercent: 100\n"),
            codes: &["MR110", "MR111"],
            want: &[("MR110", DR_D, "spec.trafficPolicy.outlierDetection.maxEjectionPercent")],
        },
        Case {
            name: "maxEjectionPercent 100 with minHealthPercent",
            yaml: one("host: reviews\ntrafficPolicy:\n  outlierDetection:\n    maxEjectionPercent: 100\n    minHealthPercent: 50\n"),
            codes: &["MR110"],
            want: &[],
        },
        Case {
            name: "maxEjectionPercent 50",
            yaml: one("host: reviews\ntrafficPolicy:\n  outlierDetection:\n    maxEjectionPercent: 50\n"),
            codes: &["MR110"],
            want: &[],
        },
        Case {
            name: "consecutive5xxErrors 1 and port-level consecutiveGatewayErrors 2",
            yaml: one("host: reviews\ntrafficPolicy:\n  outlierDetection:\n    consecutive5xxErrors: 1\n  portLevelSettings:\n  - port:\n      number: 80\n    outlierDetection:\n      consecutiveGatewayErrors: 2\n"),
            codes: &["MR111"],
            want: &[
                ("MR111", DR_D, "spec.trafficPolicy.outlierDetection.consecutive5xxErrors"),
                ("MR111", DR_D, "spec.trafficPolicy.portLevelSettings[0].outlierDetection.consecutiveGatewayErrors"),
            ],
        },
        Case {
            name: "consecutive5xxErrors 5, 0 (disabled)",
            yaml: one("host: reviews\ntrafficPolicy:\n  outlierDetection:\n    consecutive5xxErrors: 5\n    consecutiveGatewayErrors: 0\n"),
            codes: &["MR111"],
            want: &[],
        },
        Case {
            name: "TLS DISABLE to an in-mesh host",
            yaml: one("host: reviews\ntrafficPolicy:\n  tls:\n    mode: DISABLE\n"),
            codes: &["MR118"],
            want: &[("MR118", DR_D, "spec.trafficPolicy.tls.mode")],
        },
        Case {
            name: "TLS DISABLE to an external host",
            yaml: one("host: api.example.com\ntrafficPolicy:\n  tls:\n    mode: DISABLE\n"),
            codes: &["MR118"],
            want: &[],
        },
        Case {
            name: "subset without labels",
            yaml: one("host: reviews\nsubsets:\n- name: all\n- name: v1\n  labels:\n    version: v1\n"),
            codes: &["MR119"],
            want: &[("MR119", DR_D, "spec.subsets[0]")],
        },
        Case {
            name: "pool of one",
            yaml: one("host: reviews\ntrafficPolicy:\n  connectionPool:\n    tcp:\n      maxConnections: 1\n    http:\n      http1MaxPendingRequests: 1\n      http2MaxRequests: 1000\n"),
            codes: &["MR120"],
            want: &[
                ("MR120", DR_D, "spec.trafficPolicy.connectionPool.tcp.maxConnections"),
                ("MR120", DR_D, "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests"),
            ],
        },
        Case {
            name: "reasonable pool",
            yaml: one("host: reviews\ntrafficPolicy:\n  connectionPool:\n    tcp:\n      maxConnections: 100\n    http:\n      http1MaxPendingRequests: 64\n"),
            codes: &["MR120"],
            want: &[],
        },
    ]);
}

#[test]
fn mr109_mr121_faults() {
    let rule = |matches: &str, fault: &str| {
        vs(&format!(
            "hosts: [ratings]\nhttp:\n-{matches}  route:\n  - destination:\n      host: ratings\n  fault:\n{}",
            indent(&indent(fault))
        ))
    };
    const CODES: &[&str] = &["MR109", "MR121"];
    check_cases(vec![
        Case {
            name: "100% abort without match",
            yaml: rule(
                "\n",
                "abort:\n  httpStatus: 500\n  percentage:\n    value: 100\n",
            ),
            codes: CODES,
            want: &[("MR109", VS_R, "spec.http[0].fault.abort.percentage.value")],
        },
        Case {
            name: "10% delay on prefix /",
            yaml: rule(
                " match:\n  - uri:\n      prefix: /\n",
                "delay:\n  fixedDelay: 5s\n  percentage:\n    value: 10\n",
            ),
            codes: CODES,
            want: &[("MR109", VS_R, "spec.http[0].fault")],
        },
        Case {
            name: "100% abort scoped by a header",
            yaml: rule(
                " match:\n  - headers:\n      x-chaos:\n        exact: \"on\"\n",
                "abort:\n  httpStatus: 500\n  percentage:\n    value: 100\n",
            ),
            codes: CODES,
            want: &[],
        },
        Case {
            name: "abort without percentage",
            yaml: rule(
                " match:\n  - headers:\n      x-chaos:\n        exact: \"on\"\n",
                "abort:\n  httpStatus: 500\n",
            ),
            codes: CODES,
            want: &[("MR121", VS_R, "spec.http[0].fault.abort")],
        },
        Case {
            name: "delay with the deprecated integer percent",
            yaml: rule(
                " match:\n  - headers:\n      x-chaos:\n        exact: \"on\"\n",
                "delay:\n  fixedDelay: 1s\n  percent: 50\n",
            ),
            codes: CODES,
            want: &[],
        },
    ]);
    // The 100% abort on all traffic is an error, the rest warnings.
    let d = lint(&rule(
        "\n",
        "abort:\n  httpStatus: 500\n  percentage:\n    value: 100\n",
    ));
    let levels: Vec<Level> = d
        .iter()
        .filter(|d| d.code == "MR109")
        .map(|d| d.level)
        .collect();
    assert_eq!(levels, vec![Level::Error]);
    let d = lint(&rule(
        "\n",
        "abort:\n  httpStatus: 500\n  percentage:\n    value: 5\n",
    ));
    let levels: Vec<Level> = d
        .iter()
        .filter(|d| d.code == "MR109")
        .map(|d| d.level)
        .collect();
    assert_eq!(levels, vec![Level::Warning]);
}

#[test]
fn mr112_regex() {
    let m = |field: &str| {
        vs(&format!(
            "hosts: [reviews]\nhttp:\n- match:\n  - {field}\n  route:\n  - destination:\n      host: reviews\n"
        ))
    };
    check_cases(vec![
        Case {
            name: "uri regex ^/api/.*",
            yaml: m("uri:\n      regex: ^/api/.*"),
            codes: &["MR112"],
            want: &[("MR112", VS_R, "spec.http[0].match[0].uri.regex")],
        },
        Case {
            name: "header regex literal",
            yaml: m("headers:\n      end-user:\n        regex: jason"),
            codes: &["MR112"],
            want: &[(
                "MR112",
                VS_R,
                "spec.http[0].match[0].headers.end-user.regex",
            )],
        },
        Case {
            name: "character class",
            yaml: m("uri:\n      regex: /api/v[12]/.*"),
            codes: &["MR112"],
            want: &[],
        },
        Case {
            name: "query param prefix is not supported by Istio",
            yaml: m("queryParams:\n      q:\n        regex: abc.*"),
            codes: &["MR112"],
            want: &[],
        },
        Case {
            name: "query param literal is exact",
            yaml: m("queryParams:\n      q:\n        regex: abc"),
            codes: &["MR112"],
            want: &[("MR112", VS_R, "spec.http[0].match[0].queryParams.q.regex")],
        },
    ]);
    let d = lint(&m("uri:\n      regex: ^/api/.*"));
    let msg = d
        .iter()
        .find(|d| d.code == "MR112")
        .map(|d| d.message.clone())
        .unwrap_or_default();
    assert!(msg.contains("prefix: \"/api/\""), "{msg}");
}

#[test]
fn mr113_host_split_on_gateway() {
    let on = |name: &str, gw: &str, host: &str| {
        named_vs(
            name,
            "default",
            &format!("hosts: [{host}]\ngateways: [{gw}]\nhttp:\n{ROUTE_ALL}"),
        )
    };
    check_cases(vec![
        Case {
            name: "two VirtualServices, same host, same gateway",
            yaml: format!(
                "{}{}",
                on("a", "gw", "shop.example.com"),
                on("b", "default/gw", "shop.example.com")
            ),
            codes: &["MR113"],
            want: &[
                ("MR113", "VirtualService default/a", "spec.hosts[0]"),
                ("MR113", "VirtualService default/b", "spec.hosts[0]"),
            ],
        },
        Case {
            name: "different gateways",
            yaml: format!(
                "{}{}",
                on("a", "gw", "shop.example.com"),
                on("b", "other", "shop.example.com")
            ),
            codes: &["MR113"],
            want: &[],
        },
        Case {
            name: "mesh gateway is IST0109's case",
            yaml: format!(
                "{}{}",
                on("a", "mesh", "reviews"),
                on("b", "mesh", "reviews")
            ),
            codes: &["MR113"],
            want: &[],
        },
    ]);
}

#[test]
fn mr114_mr115_mirrors() {
    let rule = |mirror: &str| {
        vs(&format!(
            "hosts: [reviews]\nhttp:\n- route:\n  - destination:\n      host: reviews\n      subset: v1\n{mirror}"
        ))
    };
    const CODES: &[&str] = &["MR114", "MR115"];
    check_cases(vec![
        Case {
            name: "mirror to the routed subset, no percentage",
            yaml: rule("  mirror:\n    host: reviews.default.svc.cluster.local\n    subset: v1\n"),
            codes: CODES,
            want: &[("MR114", VS_R, "spec.http[0].mirror.host"), ("MR115", VS_R, "spec.http[0].mirror")],
        },
        Case {
            name: "mirror to another subset, 10%",
            yaml: rule("  mirror:\n    host: reviews\n    subset: v2\n  mirrorPercentage:\n    value: 10\n"),
            codes: CODES,
            want: &[],
        },
        Case {
            name: "mirrors[] at 100%",
            yaml: rule("  mirrors:\n  - destination:\n      host: reviews\n      subset: v2\n    percentage:\n      value: 100\n"),
            codes: CODES,
            want: &[("MR115", VS_R, "spec.http[0].mirrors[0].percentage.value")],
        },
    ]);
}

#[test]
fn clean_production_config_has_no_lints() {
    let yaml = format!(
        "{}{}",
        vs("hosts: [reviews]\nhttp:\n- match:\n  - uri:\n      prefix: /api/\n    method:\n      exact: GET\n  route:\n  - destination:\n      host: reviews\n      subset: v1\n    weight: 90\n  - destination:\n      host: reviews\n      subset: v2\n    weight: 10\n  timeout: 10s\n  retries:\n    attempts: 3\n    perTryTimeout: 2s\n    retryOn: 5xx,connect-failure\n- route:\n  - destination:\n      host: reviews\n      subset: v1\n  mirror:\n    host: reviews\n    subset: v2\n  mirrorPercentage:\n    value: 5\n"),
        dr("d", "default", "host: reviews\ntrafficPolicy:\n  connectionPool:\n    http:\n      http1MaxPendingRequests: 128\n  outlierDetection:\n    consecutive5xxErrors: 5\n    interval: 10s\n    baseEjectionTime: 30s\n    maxEjectionPercent: 50\n  loadBalancer:\n    localityLbSetting:\n      enabled: true\nsubsets:\n- name: v1\n  labels:\n    version: v1\n- name: v2\n  labels:\n    version: v2\n"),
    );
    let d = lint(&yaml);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn diagnostics_carry_file_line_and_level() {
    let yaml = vs("hosts: [reviews]\nhttp:\n- match:\n  - uri:\n      prefix: /api\n  route:\n  - destination:\n      host: reviews\n");
    let d = lint(&yaml);
    let mr101 = d.iter().find(|d| d.code == "MR101");
    let Some(mr101) = mr101 else {
        panic!("no MR101 in {d:#?}")
    };
    assert_eq!(mr101.file.as_deref(), Some("t.yaml"));
    // Line 9 is `  - match:` (the header is 6 lines, then hosts, http).
    assert_eq!(mr101.line, Some(9));
    assert_eq!(mr101.level, Level::Warning);
    assert_eq!(mr101.resource, "VirtualService default/r");
}

#[test]
fn every_lint_has_code_constant_hint_and_docs() {
    let docs = include_str!("../../../docs/diagnostics.md");
    let mut seen = BTreeSet::new();
    for l in ALL {
        assert!(seen.insert(l.code), "duplicate {}", l.code);
        assert!(l.code.starts_with("MR1"), "{}", l.code);
        assert_eq!(hint_for(l.code), Some(l.hint));
        assert!(!l.why.is_empty() && !l.hint.is_empty() && !l.title.is_empty());
        assert!(
            docs.contains(&format!("### {}", l.code)),
            "docs/diagnostics.md lacks a section for {}",
            l.code
        );
    }
    for c in [
        codes::MR001,
        codes::MR002,
        codes::MR003,
        codes::MR004,
        codes::MR005,
    ] {
        assert!(hint_for(c).is_some(), "{c}");
        assert!(docs.contains(c), "docs/diagnostics.md lacks {c}");
    }
    assert_eq!(hint_for("IST0101"), None);
    assert_eq!(hint_for("MR999"), None);
}

#[test]
fn many_resources_stay_linear() {
    // 200 VirtualServices and 200 DestinationRules, as in the editor's budget.
    let mut yaml = String::new();
    for i in 0..200 {
        yaml.push_str(&named_vs(
            &format!("vs{i}"),
            "default",
            &format!("hosts: [svc{i}]\ngateways: [gw]\nhttp:\n- route:\n  - destination:\n      host: svc{i}\n      subset: v1\n  retries:\n    attempts: 2\n"),
        ));
        yaml.push_str(&dr(
            &format!("dr{i}"),
            "default",
            &format!("host: svc{i}\ntrafficPolicy:\n  outlierDetection:\n    consecutive5xxErrors: 5\nsubsets:\n- name: v1\n  labels:\n    version: v1\n"),
        ));
    }
    let d = lint(&yaml);
    assert!(d.is_empty(), "{:#?}", d.first());
}
