//! Every example, rendered by `meshroute render` in both modes, passes
//! `envoy --mode validate` (real Envoy; in wasm mode the built filter is loaded and
//! configured, so it must accept the rendered plugin configuration).
//!
//! Needs `.venv/bin/envoy` (scripts/setup.sh) and, for wasm mode, the filter built with
//! `cargo build --release -p meshroute-filter --target wasm32-wasip1`; skipped with a
//! printed reason otherwise, unless MESHROUTE_REQUIRE_E2E is set (see tests/README.md).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::envoy;

const EXAMPLES: &[&str] = &[
    "bookinfo-header-routing",
    "canary",
    "fault-injection",
    "retries-timeouts",
    "mirroring",
    "ingress-gateway",
    "circuit-breaker",
];

fn render(example: &str, native: bool, wasm: &Path) -> Value {
    let dir = support::workspace_root().join("examples").join(example);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshroute"));
    cmd.args(["render", "--format", "json", "--wasm"]).arg(wasm);
    if native {
        cmd.arg("--native");
    }
    if example == "ingress-gateway" {
        cmd.args(["--gateway", "default/httpbin-gateway"]);
    }
    let out = cmd.arg(&dir).output().expect("run meshroute render");
    assert!(
        out.status.success(),
        "render {example} (native={native}) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON bootstrap")
}

/// Every feature render translates, in one input (certificate paths filled in at run time).
const KITCHEN_SINK: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  addresses: [10.96.0.10]
  location: MESH_INTERNAL
  ports:
  - {number: 9080, name: http, protocol: HTTP}
  - {number: 9090, name: grpc, protocol: GRPC}
  resolution: STATIC
  endpoints:
  - {address: 127.0.0.1, ports: {http: 18080, grpc: 19080}, labels: {version: v1}, locality: us-east/zone1/a, weight: 2}
  - {address: 127.0.0.1, ports: {http: 18081, grpc: 19081}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec:
  hosts: [httpbin.org]
  ports: [{number: 443, name: https, protocol: HTTPS}, {number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
  endpoints: [{address: localhost}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ext, namespace: default}
spec:
  host: httpbin.org
  trafficPolicy:
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: SIMPLE, caCertificates: @CRT@, subjectAltNames: [httpbin.org], caCrl: ""}
    - port: {number: 80}
      tls: {mode: MUTUAL, clientCertificate: @CRT@, privateKey: @KEY@, sni: httpbin.org}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rr, namespace: default}
spec:
  host: api.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, insecureSkipVerify: true}
    proxyProtocol: {version: V2}
    loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 30s}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 60s, path: /}}}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 30ms, maxConnectionDuration: 1h, idleTimeout: 1h, tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}}
      http: {http1MaxPendingRequests: 10, http2MaxRequests: 100, maxRequestsPerConnection: 5, maxRetries: 3, idleTimeout: 30s, maxConcurrentStreams: 50}
    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 20, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 4}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {consistentHash: {maglev: {tableSize: 65537}, useSourceIp: true}}
      connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpQueryParameterName: u, ringHash: {minimumRingSize: 2048}}}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: RANDOM}
  - name: v3
    labels: {version: v3}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: everything
    match:
    - name: m1
      uri: {regex: "/r/[0-9]+"}
      ignoreUriCase: true
      method: {exact: GET}
      authority: {prefix: reviews}
      scheme: {exact: http}
      headers: {end-user: {exact: jason}, x-any: {}, x-star: {regex: "*"}}
      withoutHeaders: {x-no: {prefix: a}, x-absent: {}}
      queryParams: {q: {exact: "1"}, p: {prefix: a}, r: {regex: "b.*"}, s: {}}
      port: 9080
    rewrite: {uriRegexRewrite: {match: "^/r/(.*)", rewrite: "/reviews/\\1"}, authority: reviews.internal}
    timeout: 10s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,503", retryRemoteLocalities: true, retryIgnorePreviousHosts: true, backoff: 25ms}
    fault:
      delay: {fixedDelay: 1s, percentage: {value: 0.5}}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}
    mirror: {host: reviews, subset: v2}
    mirrorPercentage: {value: 12.5}
    mirrors:
    - destination: {host: httpbin.org, port: {number: 80}}
      percentage: {value: 5}
    corsPolicy:
      allowOrigins: [{exact: "https://a.example.com"}, {prefix: "https://b"}, {regex: "https://.*\\.c\\.com"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a]
      exposeHeaders: [x-b]
      maxAge: 24h
      allowCredentials: true
    headers:
      request: {set: {x-set: "1", ":authority": ignored.example.com}, add: {x-add: "2"}, remove: [x-rm]}
      response: {set: {x-resp: "3"}, add: {x-resp-add: "4"}, remove: [server]}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 60
      headers: {request: {set: {x-v1: "1", host: v1.internal}}, response: {remove: [x-v]}}
    - destination: {host: reviews, subset: v2}
      weight: 40
  - match: [{uri: {prefix: /moved}}]
    redirect: {uri: /new, authority: other.example.com, redirectCode: 307, derivePort: FROM_REQUEST_PORT, scheme: https}
  - match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "teapot"}}
  - match: [{uri: {exact: /bytes}}]
    directResponse: {status: 200, body: {bytes: aGVsbG8=}}
  - match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new}
    retries: {attempts: 0}
    route: [{destination: {host: reviews, subset: v3, port: {number: 9080}}}]
  - match: [{uri: {prefix: /unknown}}]
    route: [{destination: {host: nowhere.example.com, port: {number: 8080}}}]
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8081, name: http2, protocol: HTTP}
    hosts: [secure.example.com]
    tls: {httpsRedirect: true}
  - port: {number: 8443, name: https-a, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, serverCertificate: @CRT@, privateKey: @KEY@, minProtocolVersion: TLSV1_3}
  - port: {number: 8443, name: https-b, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: MUTUAL, serverCertificate: @CRT@, privateKey: @KEY@, caCertificates: @CRT@, subjectAltNames: [client.example.com], cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}
  - port: {number: 8444, name: https-c, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: OPTIONAL_MUTUAL, serverCertificate: @CRT@, privateKey: @KEY@, caCertificates: @CRT@}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: default}
spec:
  hosts: ["*.example.com", "shop.test"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: reviews, port: {number: 9080}}}]
  - route: [{destination: {host: httpbin.org, port: {number: 80}}}]
"#;

fn kitchen_sink_file() -> PathBuf {
    let certs = support::workspace_root().join("examples/ingress-gateway/certs");
    let yaml = KITCHEN_SINK
        .replace(
            "@CRT@",
            &certs.join("httpbin.example.com.crt").to_string_lossy(),
        )
        .replace(
            "@KEY@",
            &certs.join("httpbin.example.com.key").to_string_lossy(),
        );
    let dir = support::fresh_dir("render", "kitchen-sink");
    let file = dir.join("kitchen-sink.yaml");
    std::fs::write(&file, yaml).expect("write kitchen sink");
    file
}

fn render_file(file: &Path, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_meshroute"))
        .args(["render", "--format", "json", "--wasm", "/unused.wasm"])
        .args(extra)
        .arg(file)
        .output()
        .expect("run meshroute render");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "render {extra:?} failed: {stderr}");
    assert!(!stderr.contains("Error"), "render {extra:?}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON bootstrap")
}

fn envoy_or_skip(test: &str) -> Option<PathBuf> {
    match envoy::envoy_binary().filter(|p| support::is_executable(p)) {
        Some(p) => Some(p),
        None => {
            support::skip_or_fail(
                test,
                "envoy not found (.venv/bin/envoy, $MESHROUTE_ENVOY, PATH); run scripts/setup.sh",
            );
            None
        }
    }
}

/// Replaces the filter's plugin configuration (a `StringValue`) everywhere.
fn with_plugin_config(mut config: Value, text: &str) -> Value {
    fn walk(v: &mut Value, text: &str) {
        match v {
            Value::Object(m) => {
                if m.get("@type").and_then(Value::as_str)
                    == Some("type.googleapis.com/google.protobuf.StringValue")
                {
                    m.insert("value".into(), Value::String(text.to_owned()));
                }
                m.values_mut().for_each(|x| walk(x, text));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, text)),
            _ => {}
        }
    }
    walk(&mut config, text);
    config
}

#[test]
fn native_examples_pass_envoy_validate() {
    let Some(bin) = envoy_or_skip("native_examples_pass_envoy_validate") else {
        return;
    };
    let mut failures = Vec::new();
    for ex in EXAMPLES {
        let config = render(ex, true, Path::new("/unused.wasm"));
        if let Err(e) = envoy::validate(&bin, &config) {
            failures.push(format!("{ex}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every translated feature (matches, weighted clusters, rewrites, redirects, direct
/// responses, faults, CORS, retries, mirrors, hash policies, connection pools, outlier
/// detection, upstream and downstream TLS, DNS clusters, Gateway servers) is accepted by Envoy.
#[test]
fn kitchen_sink_passes_envoy_validate_in_every_mode() {
    let Some(bin) = envoy_or_skip("kitchen_sink_passes_envoy_validate_in_every_mode") else {
        return;
    };
    let file = kitchen_sink_file();
    let mut failures = Vec::new();
    for extra in [
        &["--native"][..],
        &["--native", "--gateway", "default/gw"],
        &[],
        &["--gateway", "default/gw"],
    ] {
        // Wasm mode without the filter: Envoy only needs the module when it loads it, so
        // point at a real .wasm when there is one, else validate the native parts only.
        let mut config = render_file(&file, extra);
        if !extra.contains(&"--native") {
            let wasm = envoy::filter_wasm_path();
            if !wasm.is_file() {
                continue;
            }
            config = with_plugin_config(config, "{}");
            set_wasm_path(&mut config, &wasm);
        }
        if let Err(e) = envoy::validate(&bin, &config) {
            failures.push(format!("{extra:?}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn set_wasm_path(config: &mut Value, wasm: &Path) {
    match config {
        Value::Object(m) => {
            if let Some(Value::Object(local)) = m.get_mut("local") {
                local.insert(
                    "filename".into(),
                    Value::String(wasm.to_string_lossy().into_owned()),
                );
            }
            m.values_mut().for_each(|x| set_wasm_path(x, wasm));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| set_wasm_path(x, wasm)),
        _ => {}
    }
}

/// The rendered bootstrap as is: Envoy loads the filter, which must accept the
/// `FilterConfig` contract (`meshroute_model::envoy::FilterConfig`) with the example's
/// resources. On failure, the same bootstrap with an empty plugin configuration (which
/// every filter version accepts) tells whether the bootstrap or the contract is at fault.
#[test]
fn wasm_examples_pass_envoy_validate() {
    let Some(pre) = envoy::prereqs("wasm_examples_pass_envoy_validate") else {
        return;
    };
    let mut failures = Vec::new();
    for ex in EXAMPLES {
        let config = render(ex, false, &pre.wasm);
        let Err(e) = envoy::validate(&pre.envoy, &config) else {
            continue;
        };
        let culprit = match envoy::validate(&pre.envoy, &with_plugin_config(config, "{}")) {
            Ok(_) => {
                "the filter refused the rendered plugin configuration: it must deserialize \
                      meshroute_model::envoy::FilterConfig (shared/src/envoy/filter_config.rs)"
            }
            Err(_) => "the bootstrap is invalid even with an empty plugin configuration",
        };
        failures.push(format!("{ex}: {culprit}\n{e}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
