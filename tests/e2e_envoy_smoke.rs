//! Smoke test of the real pieces: the built meshroute filter (.wasm) loaded by a
//! real Envoy (V8 runtime), routing to real upstream servers.
//!
//! Needs `.venv/bin/envoy` (scripts/setup.sh) and the filter built with
//! `cargo build --release -p meshroute-filter --target wasm32-wasip1`; skipped
//! otherwise unless MESHROUTE_REQUIRE_E2E is set (see tests/README.md).

mod support;

use serde_json::json;
use support::envoy::{self, Envoy};
use support::http::{self, Request};
use support::upstream;

#[test]
fn filter_routes_to_configured_cluster_and_marks_response() {
    let Some(pre) = envoy::prereqs("filter_routes_to_configured_cluster_and_marks_response") else {
        return;
    };
    let ups = upstream::spawn_many(&["v1", "v2"]);
    let config = envoy::filter_bootstrap(&pre.wasm, &json!({ "cluster": "v2" }), &ups);

    envoy::validate(&pre.envoy, &config).unwrap_or_else(|e| panic!("{e}"));
    let proxy = Envoy::start(&pre.envoy, "smoke", &config);

    let resp = Request::get(&proxy.url("/hello?x=1"))
        .header("x-test", "smoke")
        .send()
        .expect("request through envoy");
    assert_eq!(resp.status, 200, "body: {}", resp.text());
    let body = resp.json();
    assert_eq!(body["upstream"], "v2", "request should reach v2: {body}");
    assert_eq!(body["path"], "/hello");
    assert_eq!(body["query"], "x=1");
    assert_eq!(body["headers"]["x-test"], "smoke");
    assert_eq!(body["headers"][envoy::CLUSTER_HEADER], "v2");
    assert_eq!(
        resp.header("x-meshroute"),
        Some(env!("CARGO_PKG_VERSION")),
        "headers: {:?}",
        resp.headers
    );
    assert_eq!(resp.header("x-upstream"), Some("v2"));
    assert_eq!((ups[0].hits(), ups[1].hits()), (0, 1));

    // The filter overrides a client-supplied cluster header (route cache is cleared after the change).
    let resp = Request::get(&proxy.url("/"))
        .header(envoy::CLUSTER_HEADER, "v1")
        .send()
        .expect("request");
    assert_eq!(resp.json()["upstream"], "v2");
    assert_eq!(ups[0].hits(), 0, "v1 must not be hit");

    assert_eq!(
        proxy.stat("cluster.v2.upstream_rq_200"),
        Some(2),
        "stats: {:?}",
        proxy.stats()
    );
    assert!(proxy.prometheus().contains("envoy_cluster_upstream_rq"));
}

#[test]
fn without_cluster_config_the_client_header_routes() {
    let Some(pre) = envoy::prereqs("without_cluster_config_the_client_header_routes") else {
        return;
    };
    let ups = upstream::spawn_many(&["v1", "v2"]);
    let config = envoy::filter_bootstrap(&pre.wasm, &json!({}), &ups);
    let proxy = Envoy::start(&pre.envoy, "no-cluster", &config);

    let resp = Request::get(&proxy.url("/"))
        .header(envoy::CLUSTER_HEADER, "v1")
        .send()
        .expect("request");
    assert_eq!(resp.json()["upstream"], "v1");
    assert_eq!(resp.header("x-meshroute"), Some(env!("CARGO_PKG_VERSION")));

    // Upstream failure injection flows through Envoy unchanged (no retry policy here).
    ups[0].fail_next(1, upstream::Fault::Status(503));
    let resp = Request::get(&proxy.url("/"))
        .header(envoy::CLUSTER_HEADER, "v1")
        .send()
        .expect("request");
    assert_eq!(resp.status, 503);
    let resp = Request::get(&proxy.url("/"))
        .header(envoy::CLUSTER_HEADER, "v1")
        .send()
        .expect("request");
    assert_eq!(resp.status, 200);
}

#[test]
fn invalid_filter_config_is_rejected_by_envoy() {
    let Some(pre) = envoy::prereqs("invalid_filter_config_is_rejected_by_envoy") else {
        return;
    };
    let ups = upstream::spawn_many(&["v1"]);
    let config = envoy::filter_bootstrap(&pre.wasm, &json!({ "cluster": 42 }), &ups);
    // on_configure returning false fails the listener: validation mode loads the VM too.
    let err = envoy::validate(&pre.envoy, &config)
        .expect_err("envoy must reject an invalid plugin config");
    assert!(err.contains("invalid value for \"cluster\""), "{err}");
}

#[test]
fn harness_upstream_answers_directly() {
    // No Envoy needed: keeps the harness itself honest.
    let up = upstream::Upstream::spawn("solo");
    up.set_status(201);
    let r = http::get(&up.url("/p?q=1"));
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["upstream"], "solo");
    assert_eq!(r.json()["query"], "q=1");
    up.fail_next(1, upstream::Fault::Reset);
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
}
