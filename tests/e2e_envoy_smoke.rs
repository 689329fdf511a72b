//! Smoke test of the real pieces and of the harness itself: the built meshroute
//! filter (.wasm) loaded by a real Envoy (V8 runtime) with a configuration rendered
//! by `meshroute_model::envoy::render`, routing to real upstream servers. The
//! scenario catalogue lives in tests/e2e_filter.rs; this file stays minimal.
//!
//! Needs `.venv/bin/envoy` (scripts/setup.sh) and the filter built with
//! `cargo build --release -p meshroute-filter --target wasm32-wasip1`; skipped
//! otherwise unless MESHROUTE_REQUIRE_E2E is set (see tests/README.md).

mod support;

use meshroute_model::envoy::{self as render, RenderOptions};
use serde_json::{json, Value};
use support::envoy::{self, Envoy};
use support::http::{self, Request};
use support::upstream::{self, Fault, Upstream};

/// reviews v1/v2 on the given ports; every request goes to v2.
fn istio_yaml(v1: u16, v2: u16) -> String {
    format!(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: reviews, namespace: default}}
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  ports: [{{number: 9080, name: http, protocol: HTTP}}]
  resolution: STATIC
  endpoints:
  - {{address: 127.0.0.1, ports: {{http: {v1}}}, labels: {{version: v1}}}}
  - {{address: 127.0.0.1, ports: {{http: {v2}}}, labels: {{version: v2}}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: reviews, namespace: default}}
spec:
  host: reviews
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: default}}
spec:
  hosts: [reviews]
  http:
  - route: [{{destination: {{host: reviews, subset: v2}}}}]
"#
    )
}

/// Wasm-mode bootstrap with every port (listener, admin) bound by Envoy itself.
fn rendered_bootstrap(yaml: &str, wasm: &std::path::Path) -> Value {
    let loaded = meshroute_model::load_str(yaml, Some("smoke.yaml"));
    support::assert_no_errors(&loaded.diagnostics, "load");
    let opts = RenderOptions {
        listen_address: "127.0.0.1".into(),
        listen_port: 0,
        admin_address: "127.0.0.1".into(),
        admin_port: 0,
        wasm_path: wasm.display().to_string(),
        ..RenderOptions::default()
    };
    let rendered = render::render(loaded.resources(), &opts);
    support::assert_no_errors(&rendered.diagnostics, "render");
    rendered.bootstrap
}

#[test]
fn filter_in_envoy_routes_to_v2() {
    let Some(pre) = envoy::prereqs("filter_in_envoy_routes_to_v2") else {
        return;
    };
    let (v1, v2) = (Upstream::spawn("v1"), Upstream::spawn("v2"));
    let config = rendered_bootstrap(&istio_yaml(v1.port(), v2.port()), &pre.wasm);

    envoy::validate(&pre.envoy, &config).unwrap_or_else(|e| panic!("{e}"));
    let proxy = Envoy::start(&pre.envoy, "smoke", &config);

    for _ in 0..3 {
        let resp = Request::get(&proxy.url("/hello?x=1"))
            .header("host", "reviews")
            .header("x-test", "smoke")
            .send()
            .expect("request through envoy");
        assert_eq!(
            resp.status,
            200,
            "body: {}\nenvoy log:\n{}",
            resp.text(),
            proxy.log_tail(30)
        );
        let body = resp.json();
        assert_eq!(body["upstream"], "v2", "request should reach v2: {body}");
        assert_eq!(body["path"], "/hello");
        assert_eq!(body["query"], "x=1");
        assert_eq!(body["headers"]["x-test"], "smoke");
        assert_eq!(resp.header("x-upstream"), Some("v2"));
    }
    assert_eq!((v1.hits(), v2.hits()), (0, 3));
    // Envoy also counts per origin (`cluster.<name>.external.upstream_rq_200`): take the plain one.
    let stats = proxy.stats();
    let ok: Vec<(&String, &u64)> = stats
        .iter()
        .filter(|(k, _)| k.starts_with("cluster.outbound|") && k.ends_with(".upstream_rq_200"))
        .filter(|(k, _)| !k.contains(".external.") && !k.contains(".internal."))
        .collect();
    assert_eq!(ok.len(), 1, "one cluster answered: {ok:?}");
    assert!(ok[0].0.contains("|v2|") && *ok[0].1 == 3, "{ok:?}");
    let prom = proxy.prometheus();
    assert!(
        prom.contains("upstream_rq{envoy_response_code=\"200\""),
        "{}",
        &prom[..prom.len().min(3000)]
    );
}

#[test]
fn invalid_plugin_config_is_rejected_by_envoy() {
    let Some(pre) = envoy::prereqs("invalid_plugin_config_is_rejected_by_envoy") else {
        return;
    };
    let ups = upstream::spawn_many(&["v1"]);
    // on_configure returning false fails the listener; validation mode loads the VM too.
    let config = envoy::filter_bootstrap(&pre.wasm, &json!({ "no such field": 1 }), &ups);
    let err = envoy::validate(&pre.envoy, &config)
        .expect_err("envoy must reject an invalid plugin config");
    assert!(err.contains("Wasm plugin"), "{err}");
    // The same bootstrap with an empty (valid) plugin config is accepted.
    let config = envoy::filter_bootstrap(&pre.wasm, &json!({}), &ups);
    envoy::validate(&pre.envoy, &config).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn harness_plain_envoy_and_fault_injection() {
    // No filter: keeps the Envoy launcher and the config helpers honest on their own.
    let Some(envoy_bin) = envoy::envoy_binary().filter(|p| support::is_executable(p)) else {
        support::skip_or_fail(
            "harness_plain_envoy_and_fault_injection",
            "envoy not found; run scripts/setup.sh",
        );
        return;
    };
    let ups = upstream::spawn_many(&["only"]);
    let listener = envoy::http_listener(
        "plain",
        envoy::route_config(vec![envoy::route_to("only")]),
        vec![],
    );
    let proxy = Envoy::start(
        &envoy_bin,
        "plain",
        &envoy::bootstrap(vec![listener], envoy::clusters_for(&ups)),
    );
    assert_eq!(proxy.port(), proxy.listener_port("plain"));

    let resp = http::get(&proxy.url("/a"));
    assert_eq!(
        (resp.status, resp.json()["upstream"].as_str()),
        (200, Some("only"))
    );
    ups[0].fail_next(1, Fault::Status(503));
    assert_eq!(http::get(&proxy.url("/")).status, 503);
    let resp = Request::get(&proxy.url("/"))
        .header("x-upstream-status", "418")
        .send()
        .expect("request");
    assert_eq!(resp.status, 418);
    assert_eq!(http::get(&proxy.url("/")).status, 200);
    assert_eq!(
        proxy.wait_for_stat(
            "cluster.only.upstream_rq_completed",
            std::time::Duration::from_secs(5),
            |v| v >= 4
        ),
        4
    );
}

#[test]
fn harness_upstream_answers_directly() {
    // No Envoy needed.
    let up = Upstream::spawn("solo");
    up.set_status(201);
    let r = http::get(&up.url("/p?q=1"));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["upstream"], "solo");
    assert_eq!(r.json()["query"], "q=1");
    up.fail_next(1, Fault::Reset);
    assert!(
        Request::get(&up.url("/")).send().is_err(),
        "reset must surface as a transport error"
    );
    let r = Request::post(&up.url("/b"), "payload")
        .header("x-upstream-delay-ms", "50")
        .send()
        .expect("post");
    assert!(r.latency.as_millis() >= 50);
    assert_eq!(r.json()["body"], "payload");
    assert_eq!(up.hits(), 3);
    assert_eq!(up.received()[2].request.method, "POST");
}
