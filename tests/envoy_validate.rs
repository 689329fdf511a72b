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

/// The wasm-mode bootstrap itself (listeners, filters, clusters) with an empty plugin
/// configuration, which every version of the filter accepts.
#[test]
fn wasm_bootstraps_pass_envoy_validate() {
    let Some(pre) = envoy::prereqs("wasm_bootstraps_pass_envoy_validate") else {
        return;
    };
    let mut failures = Vec::new();
    for ex in EXAMPLES {
        let config = with_plugin_config(render(ex, false, &pre.wasm), "{}");
        if let Err(e) = envoy::validate(&pre.envoy, &config) {
            failures.push(format!("{ex}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The rendered bootstrap as is: the filter must accept the `FilterConfig` contract
/// (`meshroute_model::envoy::FilterConfig`) with the example's resources.
#[test]
fn wasm_examples_pass_envoy_validate() {
    let Some(pre) = envoy::prereqs("wasm_examples_pass_envoy_validate") else {
        return;
    };
    let mut failures = Vec::new();
    for ex in EXAMPLES {
        let config = render(ex, false, &pre.wasm);
        if let Err(e) = envoy::validate(&pre.envoy, &config) {
            let hint = if e.contains("invalid plugin configuration") {
                "\n(the filter refused the plugin configuration: it must deserialize meshroute_model::envoy::FilterConfig — see shared/src/envoy/filter_config.rs)"
            } else {
                ""
            };
            failures.push(format!("{ex}: {e}{hint}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
