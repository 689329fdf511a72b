//! `meshroute render` as a user runs it: the binary on the examples, options, exit codes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

fn render(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshroute"))
        .arg("render")
        .args(args)
        .current_dir(root())
        .output()
        .expect("run meshroute")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "status {:?}, stderr:\n{}",
        o.status,
        stderr(o)
    );
    serde_json::from_slice(&o.stdout).expect("render --format json prints JSON")
}

fn clusters(config: &Value) -> Vec<&str> {
    config["static_resources"]["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| c["name"].as_str().expect("cluster name"))
        .collect()
}

fn names_in(config: &Value, key: &str) -> Vec<String> {
    fn walk(v: &Value, key: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == key {
                        if let Some(s) = x.as_str() {
                            out.push(s.to_owned());
                        }
                    }
                    walk(x, key, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(config, key, &mut out);
    out
}

const EXAMPLES: &[&str] = &[
    "bookinfo-header-routing",
    "canary",
    "fault-injection",
    "retries-timeouts",
    "mirroring",
    "ingress-gateway",
    "circuit-breaker",
];

fn gateway_args(example: &str) -> Vec<&'static str> {
    if example == "ingress-gateway" {
        vec!["--gateway", "default/httpbin-gateway"]
    } else {
        Vec::new()
    }
}

#[test]
fn every_example_renders_cleanly_in_both_modes() {
    for ex in EXAMPLES {
        let dir = example(ex);
        for native in [true, false] {
            let mut args = vec![
                "--format",
                "json",
                "--wasm",
                "/nonexistent/meshroute_filter.wasm",
            ];
            args.extend(gateway_args(ex));
            if native {
                args.push("--native");
            }
            let d = dir.to_string_lossy().into_owned();
            args.push(&d);
            let o = render(&args);
            let config = json_of(&o);
            let err = stderr(&o);
            let diags: Vec<&str> = err.lines().filter(|l| !l.starts_with("note:")).collect();
            assert!(
                diags.is_empty(),
                "{ex} native={native}: unexpected diagnostics:\n{err}"
            );
            // Every cluster a route, weighted cluster or mirror names is defined.
            let defined = clusters(&config);
            for c in names_in(&config, "cluster")
                .into_iter()
                .filter(|n| n.starts_with("outbound|"))
            {
                assert!(
                    defined.contains(&c.as_str()),
                    "{ex} native={native}: route names undefined cluster {c}"
                );
            }
            for c in names_in(&config, "name")
                .into_iter()
                .filter(|n| n.starts_with("outbound|"))
            {
                assert!(
                    defined.contains(&c.as_str()),
                    "{ex} native={native}: {c} undefined"
                );
            }
        }
    }
}

#[test]
fn canary_native_has_subset_clusters_and_weights() {
    let o = render(&[
        "--native",
        "--format",
        "json",
        &example("canary").to_string_lossy(),
    ]);
    let config = json_of(&o);
    assert_eq!(
        clusters(&config),
        [
            "outbound|9080|v1|reviews.default.svc.cluster.local",
            "outbound|9080|v2|reviews.default.svc.cluster.local",
            "outbound|9080|v3|reviews.default.svc.cluster.local",
            "outbound|9080||reviews.default.svc.cluster.local",
        ]
    );
    let listener = &config["static_resources"]["listeners"][0];
    assert_eq!(listener["address"]["socket_address"]["port_value"], 10000);
    let hcm = &listener["filter_chains"][0]["filters"][0]["typed_config"];
    let route = &hcm["route_config"]["virtual_hosts"][0]["routes"][0]["route"];
    assert_eq!(route["weighted_clusters"]["clusters"][0]["weight"], 90);
    assert_eq!(route["weighted_clusters"]["clusters"][1]["weight"], 10);
    let v1 = &config["static_resources"]["clusters"][0];
    let ep = &v1["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        ["socket_address"];
    assert_eq!(ep["address"], "127.0.0.1");
    assert_eq!(ep["port_value"], 18080);
}

#[test]
fn wasm_mode_points_at_an_absolute_wasm_and_embeds_the_rules() {
    let o = render(&[
        "--format",
        "json",
        "--listen",
        "127.0.0.1:15001",
        "--admin",
        "127.0.0.1:15000",
        "--wasm",
        "target/some.wasm",
        "-n",
        "default",
        &example("bookinfo-header-routing").to_string_lossy(),
    ]);
    let config = json_of(&o);
    assert!(stderr(&o).contains("does not exist yet"), "{}", stderr(&o));
    assert_eq!(
        config["admin"]["address"]["socket_address"]["port_value"],
        15000
    );
    let listener = &config["static_resources"]["listeners"][0];
    assert_eq!(
        listener["address"]["socket_address"]["address"],
        "127.0.0.1"
    );
    assert_eq!(listener["address"]["socket_address"]["port_value"], 15001);
    let filters = &listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"];
    assert_eq!(filters[0]["name"], "envoy.filters.http.wasm");
    let wasm = &filters[0]["typed_config"]["config"];
    let file = wasm["vm_config"]["code"]["local"]["filename"]
        .as_str()
        .unwrap();
    assert!(Path::new(file).is_absolute(), "{file}");
    assert!(file.ends_with("target/some.wasm"), "{file}");
    let plugin: Value =
        serde_json::from_str(wasm["configuration"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(plugin["settings"]["gateway"], "mesh");
    assert_eq!(plugin["settings"]["cluster_header"], "x-meshroute-cluster");
    let kinds: Vec<&str> = plugin["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["DestinationRule", "ServiceEntry", "VirtualService"]);
}

#[test]
fn gateway_example_listens_on_server_ports_with_absolute_certificates() {
    let o = render(&[
        "--native",
        "--format",
        "json",
        "--gateway",
        "default/httpbin-gateway",
        "--listen",
        "127.0.0.1",
        &example("ingress-gateway").to_string_lossy(),
    ]);
    let config = json_of(&o);
    let listeners = config["static_resources"]["listeners"].as_array().unwrap();
    let ports: Vec<u64> = listeners
        .iter()
        .map(|l| {
            l["address"]["socket_address"]["port_value"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ports, [8080, 8443]);
    assert!(listeners
        .iter()
        .all(|l| l["address"]["socket_address"]["address"] == "127.0.0.1"));
    let certs = names_in(&config, "filename");
    assert_eq!(certs.len(), 2, "{certs:?}");
    for c in certs {
        assert!(
            Path::new(&c).is_absolute() && Path::new(&c).is_file(),
            "{c}"
        );
    }
}

#[test]
fn yaml_output_is_the_same_document() {
    let dir = example("fault-injection").to_string_lossy().into_owned();
    let json = json_of(&render(&["--native", "--format", "json", &dir]));
    let o = render(&["--native", &dir]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let docs = meshroute_model::yaml::parse_stream(&text, Default::default());
    assert_eq!(docs.len(), 1);
    let yaml = docs.into_iter().next().unwrap().expect("valid YAML").value;
    assert_eq!(yaml, json);
}

#[test]
fn bad_options_and_missing_gateway() {
    let dir = example("canary").to_string_lossy().into_owned();
    let o = render(&["--listen", "nope", &dir]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--listen"));
    let o = render(&["--gateway", "a/b/c", &dir]);
    assert_eq!(o.status.code(), Some(2));
    let o = render(&["--native", "--gateway", "default/missing", &dir]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("MR205"), "{}", stderr(&o));
    let o = render(&["--native", "/nonexistent/dir/rules.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn endpoints_can_be_swapped() {
    // Routing YAML from an example + a test's own endpoints: the clusters follow.
    let tmp = std::env::temp_dir().join(format!("meshroute-cli-render-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let endpoints = std::fs::read_to_string(example("canary").join("endpoints.yaml"))
        .unwrap()
        .replace("18080", "41001")
        .replace("18081", "41002");
    std::fs::write(tmp.join("endpoints.yaml"), endpoints).unwrap();
    let o = render(&[
        "--native",
        "--format",
        "json",
        &example("canary")
            .join("virtual-service.yaml")
            .to_string_lossy(),
        &example("canary")
            .join("destination-rule.yaml")
            .to_string_lossy(),
        &tmp.join("endpoints.yaml").to_string_lossy(),
    ]);
    let config = json_of(&o);
    let text = config.to_string();
    assert!(text.contains("41001") && text.contains("41002") && !text.contains("18080"));
    let _ = std::fs::remove_dir_all(&tmp);
}
