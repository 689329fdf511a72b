//! Differential test: the same Istio resources rendered twice — wasm mode (the meshroute
//! filter decides) and `render --native` (Envoy's own routes, translated as istiod does) —
//! and 1,000 generated requests sent through both Envoys. For every request whose rule is
//! not weighted, both must give the same answer: same status, same upstream, same path at
//! the upstream (rewrites), same `location` (redirects), same body (direct responses).
//!
//! Needs Envoy and the built filter (see tests/e2e_filter.rs); skips otherwise unless
//! MESHROUTE_REQUIRE_E2E is set.

mod support;

use std::collections::BTreeMap;

use meshroute_model::engine::{Engine, EngineOptions};
use meshroute_model::envoy::{self as render, RenderOptions};
use serde_json::Value;
use support::envoy::{self, Envoy};
use support::http::{Request, Response};
use support::upstream::Upstream;

const ROUTING: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: curl
    match: [{headers: {user-agent: {prefix: curl/}}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: cookie
    match: [{headers: {cookie: {regex: ".*user=jason.*"}}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: no-canary-header
    match: [{uri: {prefix: /api/}, withoutHeaders: {x-canary: {}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: default
    route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - name: api-get
    match: [{uri: {prefix: /api/}, ignoreUriCase: true, method: {exact: GET}}]
    route: [{destination: {host: ratings, subset: v1}}]
  - name: items
    match: [{uri: {regex: "/items/[0-9]+"}}]
    route: [{destination: {host: ratings, subset: v2}}]
  - name: debug
    match: [{queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: ratings, subset: v2}}]
  - name: login
    match: [{uri: {exact: /login}, method: {exact: POST}}]
    redirect: {uri: /signin, redirectCode: 302}
  - name: health
    match: [{uri: {exact: /healthz}}]
    directResponse: {status: 200, body: {string: "ok"}}
  - name: tenants
    match: [{headers: {x-tenant: {prefix: acme}}}]
    route:
    - {destination: {host: ratings, subset: v1}, weight: 50}
    - {destination: {host: ratings, subset: v2}, weight: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web, web.example.com]
  http:
  - name: static-or-debug
    match: [{uri: {prefix: /static/}}, {headers: {x-debug: {exact: "true"}}}]
    route: [{destination: {host: web, subset: v2}}]
  - name: old
    match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new}
    route: [{destination: {host: web, subset: v1}}]
  - name: exact
    match: [{uri: {exact: /exact}}]
    route: [{destination: {host: web, subset: v2}}]
  - name: put
    match: [{method: {regex: "PUT|DELETE"}}]
    route: [{destination: {host: web, subset: v2}}]
  - name: default
    route: [{destination: {host: web, subset: v1}}]
"#;

const SERVICES: &[(&str, u32, &[&str])] = &[
    ("reviews", 9080, &["v1", "v2", "v3"]),
    ("ratings", 9080, &["v1", "v2"]),
    ("web", 80, &["v1", "v2"]),
];

fn backends() -> (String, BTreeMap<String, Upstream>) {
    let mut yaml = String::new();
    let mut ups = BTreeMap::new();
    for (name, port, subsets) in SERVICES {
        let mut eps = String::new();
        let mut drs = String::new();
        for s in *subsets {
            let u = Upstream::spawn(&format!("{name}-{s}"));
            eps.push_str(&format!(
                "  - {{address: 127.0.0.1, ports: {{http: {}}}, labels: {{version: {s}}}}}\n",
                u.port()
            ));
            drs.push_str(&format!("  - {{name: {s}, labels: {{version: {s}}}}}\n"));
            ups.insert(format!("{name}-{s}"), u);
        }
        yaml.push_str(&format!(
            "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  hosts: [{name}.default.svc.cluster.local]\n  location: MESH_INTERNAL\n  ports: [{{number: {port}, name: http, protocol: HTTP}}]\n  resolution: STATIC\n  endpoints:\n{eps}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  host: {name}\n  subsets:\n{drs}"
        ));
    }
    (yaml, ups)
}

/// xorshift64*: reproducible request generation.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Clone)]
struct Gen {
    method: &'static str,
    host: &'static str,
    path: String,
    headers: Vec<(&'static str, &'static str)>,
}

fn generate(rng: &mut Rng) -> Gen {
    const HOSTS: &[&str] = &[
        "reviews",
        "reviews.default.svc.cluster.local",
        "reviews.default",
        "ratings",
        "RATINGS",
        "web",
        "web.example.com",
        "web.default",
        "unknown.example.com",
    ];
    const PATHS: &[&str] = &[
        "/",
        "/api/v1",
        "/API/v1/x",
        "/api",
        "/items/123",
        "/items/12a",
        "/items/",
        "/login",
        "/healthz",
        "/healthz/",
        "/static/app.js",
        "/staticx",
        "/old",
        "/old/page",
        "/older",
        "/exact",
        "/exact/",
        "/v1/x",
    ];
    const QUERIES: &[&str] = &[
        "",
        "",
        "",
        "?debug=1",
        "?debug=0",
        "?a=b&debug=1",
        "?debug",
        "?x=1",
    ];
    const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"];
    const HEADERS: &[(&str, &[&str])] = &[
        ("end-user", &["jason", "JASON", "json", ""]),
        ("user-agent", &["curl/8.5.0", "Mozilla/5.0", "curl"]),
        (
            "cookie",
            &["session=1; user=jason", "user=jasonx", "user=bob"],
        ),
        ("x-canary", &["1", ""]),
        ("x-tenant", &["acme-1", "beta"]),
        ("x-debug", &["true", "TRUE"]),
    ];
    let host = *rng.pick(HOSTS);
    let base = *rng.pick(PATHS);
    // Redirects need POST /login: make that combination likely enough to show up.
    let method = if base == "/login" && rng.chance(60) {
        "POST"
    } else {
        *rng.pick(METHODS)
    };
    let path = format!("{base}{}", rng.pick(QUERIES));
    let mut headers = Vec::new();
    for (name, values) in HEADERS {
        if rng.chance(30) {
            headers.push((*name, *rng.pick(values)));
        }
    }
    Gen {
        method,
        host,
        path,
        headers,
    }
}

/// What a client can observe about where a request went.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    status: u16,
    upstream: String,
    upstream_path: String,
    location: String,
    body: String,
}

fn observe(r: &Response, method: &str) -> Outcome {
    let upstream = r.header("x-upstream").unwrap_or_default().to_owned();
    let (upstream_path, body) = if !upstream.is_empty() && method != "HEAD" {
        let b = r.json();
        (
            format!(
                "{}?{}",
                b["path"].as_str().unwrap_or(""),
                b["query"].as_str().unwrap_or("")
            ),
            String::new(),
        )
    } else {
        (String::new(), r.text())
    };
    Outcome {
        status: r.status,
        upstream,
        upstream_path,
        location: r.header("location").unwrap_or_default().to_owned(),
        body,
    }
}

fn send(port: u16, g: &Gen) -> Outcome {
    let mut req = Request::new(g.method, &format!("http://127.0.0.1:{port}{}", g.path))
        .header("host", g.host);
    for (k, v) in &g.headers {
        req = req.header(k, v);
    }
    if g.method == "POST" || g.method == "PUT" {
        req = req.body("{}");
    }
    let r = req.send().unwrap_or_else(|e| panic!("{g:?}: {e}"));
    observe(&r, g.method)
}

#[test]
fn wasm_filter_and_native_routes_agree_on_1000_requests() {
    let Some(pre) = envoy::prereqs("wasm_filter_and_native_routes_agree_on_1000_requests") else {
        return;
    };
    let (entries, ups) = backends();
    let yaml = format!("{ROUTING}\n{entries}");
    let loaded = meshroute_model::load_str(&yaml, Some("differential.yaml"));
    support::assert_no_errors(&loaded.diagnostics, "load");

    let boot = |native: bool| -> Value {
        let opts = RenderOptions {
            listen_address: "127.0.0.1".into(),
            listen_port: 0,
            admin_port: 0,
            wasm_path: pre.wasm.display().to_string(),
            native,
            ..RenderOptions::default()
        };
        let r = render::render(loaded.resources(), &opts);
        support::assert_no_errors(&r.diagnostics, &format!("render (native: {native})"));
        r.bootstrap
    };
    let wasm = Envoy::start(&pre.envoy, "differential-wasm", &boot(false));
    let native = Envoy::start(&pre.envoy, "differential-native", &boot(true));

    // The engine says which requests hit weighted rules (those may differ by chance).
    let engine = Engine::compile(loaded.resources(), &EngineOptions::default())
        .unwrap_or_else(|d| panic!("engine: {d:#?}"));

    let mut rng = Rng(0x6d65_7368_726f_7574);
    let n = 1000;
    let (mut compared, mut weighted) = (0, 0);
    let mut mismatches = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..n {
        let g = generate(&mut rng);
        let mut hs: Vec<(&str, &str)> = vec![
            (":method", g.method),
            (":authority", g.host),
            (":path", &g.path),
            (":scheme", "http"),
        ];
        hs.extend(g.headers.iter().copied());
        let req = meshroute_model::engine::Request::from_headers(&hs);
        let decision = engine.decide(&req);
        if decision.route().is_some_and(|r| r.len() > 1) {
            weighted += 1;
            continue;
        }
        let a = send(wasm.port(), &g);
        let b = send(native.port(), &g);
        compared += 1;
        let key = if a.upstream.is_empty() {
            format!("local {}", a.status)
        } else {
            a.upstream.clone()
        };
        *seen.entry(key).or_default() += 1;
        if a != b {
            mismatches.push(format!("{g:?}\n    wasm:   {a:?}\n    native: {b:?}"));
        }
    }
    eprintln!(
        "MEASURED differential: {compared} compared, {weighted} weighted skipped, {} mismatches",
        mismatches.len()
    );
    eprintln!("  outcomes: {seen:?}");
    assert!(compared >= 800, "too few comparable requests: {compared}");
    for want in [
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
        "ratings-v1",
        "ratings-v2",
        "web-v1",
        "web-v2",
        "local 302",
        "local 404",
    ] {
        assert!(
            seen.contains_key(want),
            "the generator should reach {want}: {seen:?}"
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} requests differ; first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(ups);
}
