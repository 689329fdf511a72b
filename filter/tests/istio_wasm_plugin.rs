//! `examples/istio/wasm-plugin.yaml` documents how to deliver the filter with Istio's
//! WasmPlugin. Its `pluginConfig` must be a configuration the filter accepts: feed it (as the
//! JSON string Istio hands the filter) through the filter's own configuration code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use meshroute_model::engine::Request;
use meshroute_model::yaml::{parse_stream, Limits};

#[test]
fn istio_wasm_plugin_config_is_accepted_by_the_filter() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/istio/wasm-plugin.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<_> = parse_stream(&text, Limits::default())
        .into_iter()
        .map(|d| d.unwrap().value)
        .collect();
    let plugin = docs
        .iter()
        .find(|d| d["kind"] == "WasmPlugin")
        .expect("a WasmPlugin document");
    assert_eq!(plugin["apiVersion"], "extensions.istio.io/v1alpha1");
    assert_eq!(plugin["spec"]["pluginName"], "meshroute");
    let config = serde_json::to_vec(&plugin["spec"]["pluginConfig"]).unwrap();

    let compiled = match meshroute_filter::compile(&config) {
        Ok(c) => c,
        Err(errors) => panic!(
            "the filter refuses the WasmPlugin's pluginConfig:\n{}",
            errors
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert_eq!(compiled.resources, 2);

    // The rules do what the example says.
    let request = |user: &str| {
        vec![
            (":authority".to_owned(), "reviews".to_owned()),
            (":path".to_owned(), "/reviews/1".to_owned()),
            (":method".to_owned(), "GET".to_owned()),
            ("end-user".to_owned(), user.to_owned()),
        ]
    };
    let jason = request("jason");
    let decision = compiled.engine.decide(&Request::from_headers(&jason));
    assert_eq!(decision.rule_name(), Some("jason"));
    let other = request("alice");
    let decision = compiled.engine.decide(&Request::from_headers(&other));
    assert_eq!(decision.rule_name(), Some("canary"));
}
