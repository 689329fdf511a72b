//! The VirtualServices and the four bootstraps of one (kind, rules) cell.
//!
//! Rule *i* of *N* routes to `decoy` (an upstream answering 418) except the last, which
//! routes to `bench` (answering 200); the request matches only the last rule.
//!
//! - `prefix`: rule *i* matches `uri.prefix: /r{i}/`; request `GET /r{N-1}/items/42`.
//! - `regex`: rule *i* matches `uri.regex: /r{i}/items/[0-9]+` **and** header `x-user`
//!   regex `user-[0-9]+`; request `GET /r{N-1}/items/42` with `x-user: user-42`.
//!
//! Arms (all: one listener, `--concurrency 1`, the same clusters and upstreams):
//!
//! - **A** (`plain`): one route `prefix: /` → the `bench` cluster; HTTP filters: router only.
//! - **B** (`native`): `meshroute render --native` of the VirtualService (Istio's routes:
//!   one Envoy route per rule, scanned in order; cors + fault + router filters).
//! - **C** (`noop-wasm`): D's bootstrap with the `.wasm` swapped for the no-op filter. The
//!   no-op filter sets no header, so the client sends `x-meshroute-cluster: outbound|80||bench…`
//!   itself and the same `cluster_header` route table (and fault filter, router) routes it.
//! - **D** (`meshroute`): `meshroute render` (wasm mode) with the meshroute filter.
//!
//! With `--probe`, arms P1–P4 split D − C: D's bootstrap with the probe filter
//! (`bench/probe-filter`), which does the meshroute filter's per-request host operations
//! without its engine, cumulatively: P1 reads the request headers (the client sends the
//! cluster header, as for C), P2 sets the cluster header, P3 also sets Istio's default retry
//! policy headers (as D does for a rule without `retries`), P4 also increments the request
//! metric.

use std::path::Path;

use meshroute_model::envoy::{self as render, RenderOptions};
use serde_json::{json, Value};

pub const KINDS: [&str; 2] = ["prefix", "regex"];
pub const ARMS: [Arm; 4] = [Arm::A, Arm::B, Arm::C, Arm::D];
pub const PROBE_ARMS: [Arm; 6] = [Arm::C, Arm::P1, Arm::P2, Arm::P3, Arm::P4, Arm::D];

/// The cluster of the last rule's destination.
pub const TARGET_CLUSTER: &str = "outbound|80||bench.default.svc.cluster.local";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arm {
    A,
    B,
    C,
    D,
    P1,
    P2,
    P3,
    P4,
}

impl Arm {
    pub fn letter(self) -> &'static str {
        match self {
            Arm::A => "A",
            Arm::B => "B",
            Arm::C => "C",
            Arm::D => "D",
            Arm::P1 => "P1",
            Arm::P2 => "P2",
            Arm::P3 => "P3",
            Arm::P4 => "P4",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arm::A => "plain",
            Arm::B => "native",
            Arm::C => "noop-wasm",
            Arm::D => "meshroute",
            Arm::P1 => "get-headers",
            Arm::P2 => "+cluster-hdr",
            Arm::P3 => "+retry-hdrs",
            Arm::P4 => "+metric",
        }
    }
}

/// The Istio YAML of a cell: the VirtualService plus ServiceEntries for both upstreams.
pub fn yaml(kind: &str, rules: usize, bench_port: u16, decoy_port: u16) -> String {
    let mut y = String::from(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bench, namespace: default}\nspec:\n  hosts: [bench]\n  http:\n",
    );
    for i in 0..rules {
        let m = match kind {
            "prefix" => format!("{{uri: {{prefix: \"/r{i}/\"}}}}"),
            _ => format!(
                "{{uri: {{regex: \"/r{i}/items/[0-9]+\"}}, headers: {{x-user: {{regex: \"user-[0-9]+\"}}}}}}"
            ),
        };
        let dest = if i + 1 == rules { "bench" } else { "decoy" };
        y.push_str(&format!(
            "  - name: r{i}\n    match: [{m}]\n    route: [{{destination: {{host: {dest}}}}}]\n"
        ));
    }
    for (name, port) in [("bench", bench_port), ("decoy", decoy_port)] {
        y.push_str(&format!(
            "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  hosts: [{name}.default.svc.cluster.local]\n  location: MESH_INTERNAL\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n  resolution: STATIC\n  endpoints: [{{address: 127.0.0.1, ports: {{http: {port}}}}}]\n"
        ));
    }
    y
}

/// The request of a cell (complete HTTP/1.1 bytes) for `arm`.
pub fn request(kind: &str, rules: usize, arm: Arm) -> Vec<u8> {
    let last = rules - 1;
    let mut r = format!("GET /r{last}/items/42 HTTP/1.1\r\nhost: bench\r\n");
    if kind == "regex" {
        r.push_str("x-user: user-42\r\n");
    }
    if matches!(arm, Arm::C | Arm::P1) {
        r.push_str(&format!("x-meshroute-cluster: {TARGET_CLUSTER}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

fn render(yaml: &str, native: bool, wasm: &Path) -> Result<Value, String> {
    let loaded = meshroute_model::load_str(yaml, Some("bench.yaml"));
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(format!("bench YAML does not load: {errors:#?}"));
    }
    let opts = RenderOptions {
        listen_address: "127.0.0.1".into(),
        listen_port: 0,
        admin_address: "127.0.0.1".into(),
        admin_port: 0,
        wasm_path: wasm.display().to_string(),
        native,
        ..RenderOptions::default()
    };
    let rendered = render::render(loaded.resources(), &opts);
    if rendered.has_errors() {
        let errors: Vec<String> = rendered
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        return Err(format!("render errors: {errors:#?}"));
    }
    Ok(rendered.bootstrap)
}

fn hcm(bootstrap: &mut Value) -> Result<&mut Value, String> {
    bootstrap
        .pointer_mut("/static_resources/listeners/0/filter_chains/0/filters/0/typed_config")
        .ok_or_else(|| "rendered bootstrap has no HTTP connection manager".to_owned())
}

/// The bootstrap of `arm` for the cell.
pub fn bootstrap(
    arm: Arm,
    yaml: &str,
    filter_wasm: &Path,
    noop_wasm: &Path,
    probe_wasm: &Path,
) -> Result<Value, String> {
    match arm {
        Arm::A => {
            let mut b = render(yaml, true, filter_wasm)?;
            let h = hcm(&mut b)?;
            h["route_config"] = json!({
                "name": "plain",
                "virtual_hosts": [{
                    "name": "plain",
                    "domains": ["*"],
                    "routes": [{ "match": { "prefix": "/" }, "route": { "cluster": TARGET_CLUSTER } }]
                }]
            });
            h["http_filters"] = json!([{
                "name": "envoy.filters.http.router",
                "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
            }]);
            Ok(b)
        }
        Arm::B => render(yaml, true, filter_wasm),
        Arm::D => render(yaml, false, filter_wasm),
        Arm::C | Arm::P1 | Arm::P2 | Arm::P3 | Arm::P4 => {
            let mut b = render(yaml, false, filter_wasm)?;
            let h = hcm(&mut b)?;
            let filters = h["http_filters"]
                .as_array_mut()
                .ok_or("no http_filters in the wasm bootstrap")?;
            let wasm = filters
                .iter_mut()
                .find(|f| f["name"] == "envoy.filters.http.wasm")
                .ok_or("no wasm filter in the wasm bootstrap")?;
            let code = wasm
                .pointer_mut("/typed_config/config/vm_config/code/local")
                .ok_or("wasm filter has no local code")?;
            let (wasm_path, probe) = match arm {
                Arm::P1 => (probe_wasm, "headers"),
                Arm::P2 => (probe_wasm, "cluster"),
                Arm::P3 => (probe_wasm, "retry"),
                Arm::P4 => (probe_wasm, "metric"),
                _ => (noop_wasm, ""),
            };
            code["filename"] = json!(wasm_path.display().to_string());
            if !probe.is_empty() {
                wasm["typed_config"]["config"]["configuration"]["value"] = json!(probe);
            }
            Ok(b)
        }
    }
}
