//! Listeners: the mesh listener on `--listen`, or one listener per Gateway server port, each
//! with an HTTP connection manager whose filters are the meshroute Wasm filter (wasm mode) or
//! Istio's CORS + fault filters (native mode), then the router.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::diag::Level;
use crate::load::Resource;
use crate::model::{OptSliceExt, Server};

use super::routes::{self, VHost, MAX_DIRECT_RESPONSE_BODY};
use super::{codes, socket_address, typed, Ctx};

const HCM: &str =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

pub(crate) fn build_listeners(ctx: &mut Ctx<'_>) -> Vec<Value> {
    match ctx.opts.gateway.clone() {
        None => vec![mesh_listener(ctx)],
        Some(g) => gateway_listeners(ctx, &g),
    }
}

fn mesh_listener(ctx: &mut Ctx<'_>) -> Value {
    // Always translated: in wasm mode this records every cluster a rule can name.
    let vhosts = routes::mesh_virtual_hosts(ctx);
    let virtual_hosts: Vec<Value> = if ctx.opts.native {
        vhosts.iter().map(VHost::to_value).collect()
    } else {
        vec![VHost {
            name: "meshroute".into(),
            domains: vec!["*".into()],
            routes: routes::wasm_routes(&ctx.opts.cluster_header),
            require_tls: false,
        }
        .to_value()]
    };
    let rc = route_config("mesh", virtual_hosts, false);
    let name = format!("mesh_{}_{}", ctx.opts.listen_address, ctx.opts.listen_port);
    json!({
        "name": name,
        "address": socket_address(&ctx.opts.listen_address, ctx.opts.listen_port),
        "filter_chains": [{"filters": [hcm(ctx, &name, rc, false)]}],
    })
}

fn route_config(name: &str, virtual_hosts: Vec<Value>, gateway: bool) -> Value {
    let mut rc = Map::new();
    rc.insert("name".into(), json!(name));
    rc.insert("virtual_hosts".into(), Value::Array(virtual_hosts));
    rc.insert("validate_clusters".into(), json!(false));
    if gateway {
        rc.insert("ignore_port_in_host_matching".into(), json!(true));
    }
    rc.insert(
        "max_direct_response_body_size_bytes".into(),
        json!(MAX_DIRECT_RESPONSE_BODY),
    );
    Value::Object(rc)
}

fn hcm(ctx: &Ctx<'_>, stat_prefix: &str, route_config: Value, gateway: bool) -> Value {
    let filters = if ctx.opts.native {
        vec![
            json!({"name": "envoy.filters.http.cors",
                   "typed_config": typed("envoy.extensions.filters.http.cors.v3.Cors", json!({}))}),
            json!({"name": "envoy.filters.http.fault",
                   "typed_config": typed("envoy.extensions.filters.http.fault.v3.HTTPFault", json!({}))}),
            router(),
        ]
    } else {
        // No Envoy fault filter behind the Wasm filter: the filter injects delays and aborts
        // itself, and a `header_delay`/`header_abort` fault filter would obey client-sent
        // `x-envoy-fault-*` headers whenever the Wasm filter did not strip them.
        vec![wasm_filter(ctx), router()]
    };
    let mut m = Map::new();
    m.insert("stat_prefix".into(), json!(stat_prefix));
    m.insert("codec_type".into(), json!("AUTO"));
    m.insert("route_config".into(), route_config);
    m.insert("http_filters".into(), Value::Array(filters));
    m.insert("use_remote_address".into(), json!(gateway));
    m.insert("normalize_path".into(), json!(true));
    m.insert(
        "upgrade_configs".into(),
        json!([{"upgrade_type": "websocket"}]),
    );
    json!({"name": "envoy.filters.network.http_connection_manager", "typed_config": typed(HCM, Value::Object(m))})
}

fn router() -> Value {
    json!({"name": "envoy.filters.http.router",
           "typed_config": typed("envoy.extensions.filters.http.router.v3.Router", json!({}))})
}

fn wasm_filter(ctx: &Ctx<'_>) -> Value {
    let config = super::filter_config(ctx.resources.iter().copied(), ctx.opts).to_json_string();
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": typed("envoy.extensions.filters.http.wasm.v3.Wasm", json!({
            "config": {
                "name": "meshroute",
                "root_id": "meshroute",
                "configuration": typed("google.protobuf.StringValue", json!({"value": config})),
                "vm_config": {
                    "vm_id": "meshroute",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": ctx.opts.wasm_path}},
                },
                "failure_policy": "FAIL_RELOAD",
            }
        })),
    })
}

/// Istio's `IsHTTP` for a server port protocol.
fn is_http_protocol(p: &str) -> bool {
    matches!(p, "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" | "HTTP_PROXY")
}

fn find_gateway<'a>(ctx: &Ctx<'a>, g: &str) -> Option<&'a Resource> {
    let (ns, name) = g
        .split_once('/')
        .unwrap_or((ctx.opts.namespace.as_str(), g));
    ctx.resources.iter().copied().find(|r| {
        r.gateway().is_some() && r.name() == name && r.namespace_or(&ctx.opts.namespace) == ns
    })
}

fn gateway_listeners(ctx: &mut Ctx<'_>, g: &str) -> Vec<Value> {
    let Some(gw_res) = find_gateway(ctx, g) else {
        ctx.error(
            codes::MR205,
            format!("Gateway {g} not found in the input: no listener rendered"),
        );
        return Vec::new();
    };
    let Some(gw) = gw_res.gateway() else {
        return Vec::new();
    };
    let mut by_port: BTreeMap<u32, Vec<(usize, &Server)>> = BTreeMap::new();
    for (i, s) in gw.servers.items().iter().enumerate() {
        match s.port.as_ref().and_then(|p| p.number) {
            Some(p) => by_port.entry(p).or_default().push((i, s)),
            None => ctx.diag(
                gw_res,
                codes::MR204,
                Level::Warning,
                format!("spec.servers[{i}].port"),
                "server without port number: skipped",
            ),
        }
    }
    let mut listeners = Vec::new();
    for (port, servers) in by_port {
        let mut http = Vec::new();
        let mut https = Vec::new();
        for (i, s) in servers {
            let proto = s
                .port
                .as_ref()
                .and_then(|p| p.protocol.as_deref())
                .unwrap_or("")
                .to_ascii_uppercase();
            if is_http_protocol(&proto) {
                http.push((i, s));
            } else if proto == "HTTPS" {
                https.push((i, s));
            } else {
                ctx.diag(
                    gw_res,
                    codes::MR203,
                    Level::Warning,
                    format!("spec.servers[{i}].port.protocol"),
                    format!("{proto} servers (no HTTP termination) are not rendered: skipped"),
                );
            }
        }
        if !http.is_empty() && !https.is_empty() {
            for (i, _) in &https {
                ctx.diag(
                    gw_res,
                    codes::MR204,
                    Level::Warning,
                    format!("spec.servers[{i}]"),
                    format!("port {port} already has plain HTTP servers: this HTTPS server is skipped (Istio does not mix them on one port)"),
                );
            }
            https.clear();
        }
        let name = format!("{}_{port}", ctx.opts.listen_address);
        let mut chains = Vec::new();
        let mut sni = false;
        if !http.is_empty() {
            let servers: Vec<&Server> = http.iter().map(|(_, s)| *s).collect();
            let vhosts = routes::gateway_virtual_hosts(ctx, gw_res, &servers, port);
            let rc = route_config(
                &format!("http.{port}"),
                gateway_vhost_values(ctx, vhosts),
                true,
            );
            chains.push(json!({"filters": [hcm(ctx, &format!("outbound_{name}"), rc, true)]}));
        }
        let mut seen_sni: BTreeSet<Vec<String>> = BTreeSet::new();
        for (i, s) in https {
            let path = format!("spec.servers[{i}].tls");
            let Some(tls) = s.tls.as_ref() else {
                ctx.diag(
                    gw_res,
                    codes::MR203,
                    Level::Warning,
                    path,
                    "HTTPS server without tls: skipped",
                );
                continue;
            };
            let Some(socket) = super::tls::downstream(ctx, gw_res, tls, &path) else {
                continue;
            };
            let hosts: Vec<String> = s
                .hosts
                .items()
                .iter()
                .map(|h| {
                    h.split_once('/')
                        .map_or(h.as_str(), |(_, h)| h)
                        .to_ascii_lowercase()
                })
                .collect();
            let server_names: Vec<String> = if hosts.iter().any(|h| h == "*") {
                Vec::new()
            } else {
                super::sorted_set(hosts)
            };
            if !seen_sni.insert(server_names.clone()) {
                ctx.diag(
                    gw_res,
                    codes::MR204,
                    Level::Warning,
                    format!("spec.servers[{i}].hosts"),
                    format!(
                        "another HTTPS server on port {port} already serves these hosts: skipped"
                    ),
                );
                continue;
            }
            let vhosts = routes::gateway_virtual_hosts(ctx, gw_res, &[s], port);
            let server_name = s.name.clone().unwrap_or_else(|| i.to_string());
            let rc = route_config(
                &format!("https.{port}.{server_name}"),
                gateway_vhost_values(ctx, vhosts),
                true,
            );
            let mut chain = Map::new();
            if !server_names.is_empty() {
                sni = true;
                chain.insert(
                    "filter_chain_match".into(),
                    json!({"server_names": server_names}),
                );
            }
            chain.insert("transport_socket".into(), socket);
            chain.insert(
                "filters".into(),
                json!([hcm(
                    ctx,
                    &format!("outbound_{name}_{server_name}"),
                    rc,
                    true
                )]),
            );
            chains.push(Value::Object(chain));
        }
        if chains.is_empty() {
            continue;
        }
        let mut l = Map::new();
        l.insert("name".into(), json!(name));
        l.insert(
            "address".into(),
            socket_address(&ctx.opts.listen_address, port),
        );
        if sni {
            l.insert(
                "listener_filters".into(),
                json!([{"name": "envoy.filters.listener.tls_inspector",
                        "typed_config": typed("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", json!({}))}]),
            );
        }
        l.insert("filter_chains".into(), Value::Array(chains));
        listeners.push(Value::Object(l));
    }
    listeners
}

/// Gateway virtual hosts as JSON; in wasm mode every routed host goes to the filter.
fn gateway_vhost_values(ctx: &Ctx<'_>, vhosts: Vec<VHost>) -> Vec<Value> {
    vhosts
        .into_iter()
        .map(|mut v| {
            if !ctx.opts.native && !v.routes.is_empty() {
                v.routes = routes::wasm_routes(&ctx.opts.cluster_header);
            }
            v.to_value()
        })
        .collect()
}
