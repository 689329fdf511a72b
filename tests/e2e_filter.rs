//! The meshroute filter in a real Envoy: configurations rendered by `meshroute render`'s
//! library code (wasm mode) with ServiceEntries pointing at test upstreams that identify
//! themselves, real requests, assertions on who answered and how.
//!
//! Needs `.venv/bin/envoy` (scripts/setup.sh) and the filter built with
//! `cargo build --release -p meshroute-filter --target wasm32-wasip1`; every test skips
//! (prints `SKIP`) without them unless MESHROUTE_REQUIRE_E2E is set (tests/README.md).
//!
//! Tests take a process-wide lock so only one Envoy runs at a time: the timing assertions
//! (delays, timeouts) stay meaningful on a small machine. Measured numbers are printed
//! (`cargo test --test e2e_filter -- --nocapture`).

mod support;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use meshroute_model::envoy::{self as render, RenderOptions};
use serde_json::{json, Value};
use support::envoy::{self, Envoy};
use support::http::{Request, Response};
use support::upstream::{Fault, Upstream};

const CH: &str = "x-meshroute-cluster";

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A service backed by one upstream per subset (or one without subsets).
struct Svc {
    /// Short name in namespace `default`.
    name: &'static str,
    port: u32,
    subsets: &'static [&'static str],
    /// Generate a DestinationRule with `version: <subset>` subsets.
    dr: bool,
}

fn svc(name: &'static str, port: u32, subsets: &'static [&'static str]) -> Svc {
    Svc {
        name,
        port,
        subsets,
        dr: true,
    }
}

/// `name-subset` (or `name`): the upstream's identity.
fn up_name(name: &str, subset: Option<&str>) -> String {
    match subset {
        Some(s) => format!("{name}-{s}"),
        None => name.to_owned(),
    }
}

/// ServiceEntries (and DestinationRules) for `services`, with one upstream per endpoint.
fn backends(services: &[Svc]) -> (String, BTreeMap<String, Upstream>) {
    let mut yaml = String::new();
    let mut ups = BTreeMap::new();
    for s in services {
        let mut endpoints = String::new();
        let subsets: Vec<Option<&str>> = if s.subsets.is_empty() {
            vec![None]
        } else {
            s.subsets.iter().map(|x| Some(*x)).collect()
        };
        for sub in &subsets {
            let n = up_name(s.name, *sub);
            let u = Upstream::spawn(&n);
            let labels = match sub {
                Some(v) => format!(", labels: {{app: {}, version: {v}}}", s.name),
                None => format!(", labels: {{app: {}}}", s.name),
            };
            endpoints.push_str(&format!(
                "  - {{address: 127.0.0.1, ports: {{http: {}}}{labels}}}\n",
                u.port()
            ));
            ups.insert(n, u);
        }
        yaml.push_str(&format!(
            "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {n}, namespace: default}}\nspec:\n  hosts: [{n}.default.svc.cluster.local]\n  location: MESH_INTERNAL\n  ports: [{{number: {p}, name: http, protocol: HTTP}}]\n  resolution: STATIC\n  endpoints:\n{endpoints}",
            n = s.name,
            p = s.port
        ));
        if s.dr && !s.subsets.is_empty() {
            let subsets: String = s
                .subsets
                .iter()
                .map(|x| format!("  - {{name: {x}, labels: {{version: {x}}}}}\n"))
                .collect();
            yaml.push_str(&format!(
                "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {n}, namespace: default}}\nspec:\n  host: {n}\n  subsets:\n{subsets}",
                n = s.name
            ));
        }
    }
    (yaml, ups)
}

/// Renders `yaml` (wasm mode unless `native`) with admin on an ephemeral port, plus the
/// metric tag extractors.
fn render_bootstrap(
    yaml: &str,
    wasm: &std::path::Path,
    listen_port: u32,
    gateway: Option<&str>,
    native: bool,
) -> Value {
    let loaded = meshroute_model::load_str(yaml, Some("e2e.yaml"));
    support::assert_no_errors(&loaded.diagnostics, "test YAML does not load");
    let opts = RenderOptions {
        listen_address: "127.0.0.1".into(),
        listen_port,
        admin_address: "127.0.0.1".into(),
        admin_port: 0,
        wasm_path: wasm.display().to_string(),
        gateway: gateway.map(str::to_owned),
        native,
        ..RenderOptions::default()
    };
    let rendered = render::render(loaded.resources(), &opts);
    support::assert_no_errors(&rendered.diagnostics, "render errors");
    // `stats_config.stats_tags` (the labels of the filter's metrics) come from render itself.
    rendered.bootstrap
}

struct Fixture {
    envoy: Envoy,
    ups: BTreeMap<String, Upstream>,
    port: u16,
}

impl Fixture {
    /// Starts upstreams for `services` and an Envoy rendered from `routing` + their entries.
    fn start(test: &str, routing: &str, services: &[Svc]) -> Option<Fixture> {
        Self::start_with(test, routing, services, None, 0)
    }

    fn start_with(
        test: &str,
        routing: &str,
        services: &[Svc],
        gateway: Option<&str>,
        port: u32,
    ) -> Option<Fixture> {
        let pre = envoy::prereqs(test)?;
        let (entries, ups) = backends(services);
        let yaml = format!("{routing}\n{entries}");
        let bootstrap = render_bootstrap(&yaml, &pre.wasm, port, gateway, false);
        let envoy = Envoy::start(&pre.envoy, test, &bootstrap);
        let port = if port == 0 { envoy.port() } else { port as u16 };
        Some(Fixture { envoy, ups, port })
    }

    fn req(&self, method: &str, host: &str, path: &str) -> Request {
        Request::new(method, &format!("http://127.0.0.1:{}{path}", self.port)).header("host", host)
    }

    fn get(&self, host: &str, path: &str) -> Request {
        self.req("GET", host, path)
    }

    fn up(&self, name: &str) -> &Upstream {
        self.ups
            .get(name)
            .unwrap_or_else(|| panic!("no upstream {name}"))
    }
}

fn send(r: Request) -> Response {
    let desc = format!("{} {} {:?}", r.method, r.url, r.headers);
    r.send().unwrap_or_else(|e| panic!("{desc}: {e}"))
}

/// Which upstream answered (`""` for a local reply).
fn who(r: &Response) -> String {
    r.header("x-upstream").unwrap_or_default().to_owned()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

const BOOKINFO_DIR: &str = "examples/bookinfo-header-routing";

fn example(dir: &str, files: &[&str]) -> String {
    let root = support::workspace_root().join(dir);
    files
        .iter()
        .map(|f| {
            let p = root.join(f);
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn bookinfo_header_routing_and_catch_all() {
    let _g = serial();
    let routing = example(
        BOOKINFO_DIR,
        &["virtual-service.yaml", "destination-rule.yaml"],
    );
    let services = [Svc {
        name: "reviews",
        port: 9080,
        subsets: &["v1", "v2", "v3"],
        dr: false,
    }];
    let Some(f) = Fixture::start("bookinfo_header_routing_and_catch_all", &routing, &services)
    else {
        return;
    };

    let r = send(f.get("reviews", "/reviews/0").header("end-user", "jason"));
    assert_eq!(
        (r.status, who(&r).as_str()),
        (200, "reviews-v2"),
        "{}",
        r.text()
    );
    assert_eq!(
        r.json()["headers"][CH],
        "outbound|9080|v2|reviews.default.svc.cluster.local"
    );
    let r = send(f.get("reviews", "/").header("user-agent", "curl/8.5.0"));
    assert_eq!(who(&r), "reviews-v3");
    let r = send(f.get("reviews", "/").header("user-agent", "Mozilla/5.0"));
    assert_eq!(who(&r), "reviews-v1", "catch-all");
    let r = send(f.get("reviews", "/").header("end-user", "mallory"));
    assert_eq!(who(&r), "reviews-v1", "catch-all");
    // Full and short host names, with and without port.
    for host in [
        "reviews.default.svc.cluster.local",
        "reviews.default",
        "reviews:9080",
    ] {
        let r = send(f.get(host, "/").header("end-user", "jason"));
        assert_eq!(who(&r), "reviews-v2", "host {host}");
    }
    // A host no VirtualService or service declares: 404 (Istio's NR).
    let r = send(f.get("unknown.example.com", "/"));
    assert_eq!((r.status, who(&r).as_str()), (404, ""));
}

#[test]
fn client_sent_cluster_header_is_ignored() {
    let _g = serial();
    let routing = example(
        BOOKINFO_DIR,
        &["virtual-service.yaml", "destination-rule.yaml"],
    );
    let services = [Svc {
        name: "reviews",
        port: 9080,
        subsets: &["v1", "v2", "v3"],
        dr: false,
    }];
    let Some(f) = Fixture::start("client_sent_cluster_header_is_ignored", &routing, &services)
    else {
        return;
    };
    // The route was selected (and cached) with the client's header before the filter ran:
    // reaching v1 proves both the override and Envoy's route cache clearing (ABI 0.2.1).
    for _ in 0..5 {
        let r = send(
            f.get("reviews", "/")
                .header(CH, "outbound|9080|v3|reviews.default.svc.cluster.local")
                .header("x-envoy-fault-abort-request", "500")
                .header("x-envoy-upstream-rq-timeout-ms", "1"),
        );
        assert_eq!(
            (r.status, who(&r).as_str()),
            (200, "reviews-v1"),
            "{}",
            r.text()
        );
        let seen = r.json()["headers"].clone();
        assert_eq!(
            seen[CH],
            "outbound|9080|v1|reviews.default.svc.cluster.local"
        );
        assert!(seen.get("x-envoy-fault-abort-request").is_none(), "{seen}");
    }
    assert_eq!(f.up("reviews-v3").hits(), 0);
}

const MATCHERS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web]
  http:
  - name: exact
    match: [{uri: {exact: /exact}}]
    route: [{destination: {host: web, subset: a}}]
  - name: post-api
    match: [{uri: {prefix: /api/}, method: {exact: POST}}]
    route: [{destination: {host: web, subset: b}}]
  - name: regex
    match: [{uri: {regex: "/items/[0-9]+"}}]
    route: [{destination: {host: web, subset: c}}]
  - name: query
    match: [{queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: web, subset: d}}]
  - name: tenant
    match: [{headers: {x-tenant: {prefix: acme}}}]
    route: [{destination: {host: web, subset: e}}]
  - name: authority
    match: [{authority: {exact: "web:8080"}}]
    route: [{destination: {host: web, subset: f}}]
  - name: default
    route: [{destination: {host: web, subset: default}}]
"#;

#[test]
fn uri_method_query_header_authority_matches() {
    let _g = serial();
    let services = [svc("web", 80, &["a", "b", "c", "d", "e", "f", "default"])];
    let Some(f) = Fixture::start(
        "uri_method_query_header_authority_matches",
        MATCHERS,
        &services,
    ) else {
        return;
    };
    let cases: Vec<(Request, &str)> = vec![
        (f.get("web", "/exact"), "web-a"),
        (f.get("web", "/exact/more"), "web-default"),
        (f.req("POST", "web", "/api/x").body("{}"), "web-b"),
        (f.get("web", "/api/x"), "web-default"),
        (f.get("web", "/items/42"), "web-c"),
        (f.get("web", "/items/x42"), "web-default"),
        (f.get("web", "/any?debug=1&x=2"), "web-d"),
        (f.get("web", "/any?debug=2"), "web-default"),
        (f.get("web", "/").header("x-tenant", "acme-corp"), "web-e"),
        (f.get("web", "/").header("x-tenant", "other"), "web-default"),
        (f.get("web:8080", "/"), "web-f"),
        (f.get("web:8081", "/"), "web-default"),
    ];
    for (req, want) in cases {
        let desc = format!("{} {} {:?}", req.method, req.url, req.headers);
        let r = send(req);
        assert_eq!(
            (r.status, who(&r)),
            (200, want.to_owned()),
            "{desc}: {}",
            r.text()
        );
    }
    // The query string reaches the upstream untouched.
    let r = send(f.get("web", "/any?debug=1&x=2"));
    assert_eq!(r.json()["query"], "debug=1&x=2");
}

#[test]
fn weighted_split_90_10() {
    let _g = serial();
    // examples/canary: 90% of reviews on v1, 10% on v2.
    let routing = example(
        "examples/canary",
        &["virtual-service.yaml", "destination-rule.yaml"],
    );
    let services = [Svc {
        name: "reviews",
        port: 9080,
        subsets: &["v1", "v2"],
        dr: false,
    }];
    let Some(f) = Fixture::start("weighted_split_90_10", &routing, &services) else {
        return;
    };
    let n = 2000u32;
    let start = Instant::now();
    let mut canary = 0u32;
    for i in 0..n {
        let r = send(f.get("reviews", "/"));
        assert_eq!(r.status, 200, "request {i}: {:?} {}", r.headers, r.text());
        if who(&r) == "reviews-v2" {
            canary += 1;
        }
    }
    let took = start.elapsed();
    // Binomial(2000, 0.1): mean 200, σ = √(2000·0.1·0.9) ≈ 13.4; ±4σ.
    let sigma = (f64::from(n) * 0.1 * 0.9).sqrt();
    let z = (f64::from(canary) - 200.0) / sigma;
    eprintln!(
        "MEASURED weighted 90/10 (examples/canary): v2 {canary}/{n} = {:.2}% (z = {z:+.2}); v1 {}; {n} requests in {:.1}s",
        f64::from(canary) * 100.0 / f64::from(n),
        n - canary,
        took.as_secs_f64()
    );
    assert!(z.abs() <= 4.0, "canary {canary} of {n} is {z:.1}σ from 200");
    assert_eq!(
        f.up("reviews-v1").hits() + f.up("reviews-v2").hits(),
        n as usize
    );
}

const CHAOS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - name: delay-200
    match: [{headers: {x-chaos: {exact: delay}}}]
    fault: {delay: {fixedDelay: 200ms, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - name: delay-100
    match: [{headers: {x-chaos: {exact: delay-100}}}]
    fault: {delay: {fixedDelay: 100ms, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - name: delay-300
    match: [{headers: {x-chaos: {exact: delay-300}}}]
    fault: {delay: {fixedDelay: 300ms, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - name: delay-never
    match: [{headers: {x-chaos: {exact: delay-0}}}]
    fault: {delay: {fixedDelay: 200ms, percentage: {value: 0}}}
    route: [{destination: {host: ratings}}]
  - name: abort
    match: [{headers: {x-chaos: {exact: abort}}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - name: abort-half
    match: [{headers: {x-chaos: {exact: abort-half}}}]
    fault: {abort: {httpStatus: 500, percentage: {value: 50}}}
    route: [{destination: {host: ratings}}]
  - name: both
    match: [{headers: {x-chaos: {exact: both}}}]
    fault:
      delay: {fixedDelay: 150ms, percentage: {value: 100}}
      abort: {httpStatus: 429, percentage: {value: 100}}
    route: [{destination: {host: ratings}}]
  - name: grpc
    match: [{headers: {x-chaos: {exact: grpc}}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: ratings}}]
  - name: default
    route: [{destination: {host: ratings}}]
"#;

#[test]
fn fault_delay_accuracy_and_concurrency() {
    let _g = serial();
    let Some(f) = Fixture::start(
        "fault_delay_accuracy_and_concurrency",
        CHAOS,
        &[svc("ratings", 9080, &[])],
    ) else {
        return;
    };
    let timed = |chaos: Option<&str>| {
        let mut r = f.get("ratings", "/");
        if let Some(c) = chaos {
            r = r.header("x-chaos", c);
        }
        let r = send(r);
        assert_eq!(r.status, 200, "{}", r.text());
        r.latency
    };
    for _ in 0..3 {
        timed(None); // warm up connections
    }
    let n = 20;
    let mut base: Vec<Duration> = (0..n).map(|_| timed(None)).collect();
    let mut never: Vec<Duration> = (0..n).map(|_| timed(Some("delay-0"))).collect();
    let mut delayed: Vec<Duration> = (0..n).map(|_| timed(Some("delay"))).collect();
    let (b, nv, d) = (median(&mut base), median(&mut never), median(&mut delayed));
    let max = *delayed.iter().max().unwrap_or(&Duration::ZERO);
    let min = *delayed.iter().min().unwrap_or(&Duration::ZERO);
    eprintln!(
        "MEASURED delay 200ms x{n}: median {:.1}ms (baseline {:.1}ms → excess {:.1}ms), min {:.1}ms, max {:.1}ms; 0% delay median {:.1}ms",
        ms(d), ms(b), ms(d) - ms(b) - 200.0, ms(min), ms(max), ms(nv)
    );
    assert!(
        min >= Duration::from_millis(200),
        "a delay ended early: {min:?}"
    );
    assert!(
        d <= Duration::from_millis(200) + b + Duration::from_millis(20),
        "median {d:?}"
    );
    assert!(max <= Duration::from_millis(350), "max {max:?}");
    assert!(
        nv < Duration::from_millis(100),
        "0% delay must not delay: {nv:?}"
    );

    // Many concurrent delays of different lengths on one worker: each ends on time, and
    // undelayed requests are not held up meanwhile.
    let start = Instant::now();
    let results: Vec<(&str, Duration)> = std::thread::scope(|s| {
        let mut hs = Vec::new();
        for i in 0..30 {
            let chaos = ["delay-300", "delay-100", "none"][i % 3];
            let f = &f;
            hs.push(s.spawn(move || {
                let mut r = f.get("ratings", "/");
                if chaos != "none" {
                    r = r.header("x-chaos", chaos);
                }
                let r = send(r);
                assert_eq!(r.status, 200);
                (chaos, r.latency)
            }));
        }
        hs.into_iter()
            .map(|h| h.join().unwrap_or(("panic", Duration::ZERO)))
            .collect()
    });
    let total = start.elapsed();
    let mut by: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for (c, l) in results {
        by.entry(c).or_default().push(l);
    }
    for (c, ls) in &by {
        let lo = ls.iter().min().copied().unwrap_or_default();
        let hi = ls.iter().max().copied().unwrap_or_default();
        eprintln!(
            "MEASURED concurrent {c} x{}: min {:.1}ms max {:.1}ms",
            ls.len(),
            ms(lo),
            ms(hi)
        );
        let (want_lo, want_hi) = match *c {
            "delay-100" => (100, 250),
            "delay-300" => (300, 450),
            "none" => (0, 150),
            other => panic!("{other}"),
        };
        assert!(
            lo >= Duration::from_millis(want_lo) && hi <= Duration::from_millis(want_hi),
            "{c}: {ls:?}"
        );
    }
    assert!(
        total < Duration::from_millis(1000),
        "30 concurrent requests took {total:?}"
    );
    let delayed = f.envoy.prometheus();
    assert!(
        delayed.contains("meshroute_delayed_total"),
        "delay metric missing"
    );
}

#[test]
fn fault_abort_delay_abort_and_scoping() {
    let _g = serial();
    let Some(f) = Fixture::start(
        "fault_abort_delay_abort_and_scoping",
        CHAOS,
        &[svc("ratings", 9080, &[])],
    ) else {
        return;
    };
    let r = send(f.get("ratings", "/").header("x-chaos", "abort"));
    assert_eq!(
        (r.status, r.text().as_str(), who(&r).as_str()),
        (503, "fault filter abort", "")
    );
    assert_eq!(f.up("ratings").hits(), 0);

    // Delay, then abort (Envoy's fault filter order).
    let r = send(f.get("ratings", "/").header("x-chaos", "both"));
    eprintln!("MEASURED delay 150ms + abort 429: {:.1}ms", ms(r.latency));
    assert_eq!((r.status, r.text().as_str()), (429, "fault filter abort"));
    assert!(
        r.latency >= Duration::from_millis(150) && r.latency < Duration::from_millis(300),
        "{:?}",
        r.latency
    );

    // gRPC abort: HTTP 200 with grpc-status for gRPC requests.
    let r = send(
        f.req("POST", "ratings", "/pkg.Svc/Get")
            .header("x-chaos", "grpc")
            .header("content-type", "application/grpc"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("grpc-status"), Some("14"), "{:?}", r.headers);
    assert_eq!(r.header("grpc-message"), Some("fault filter abort"));

    // Header-scoped chaos: traffic without the header is untouched (and not delayed).
    for _ in 0..20 {
        let r = send(f.get("ratings", "/"));
        assert_eq!(r.status, 200);
        assert!(r.latency < Duration::from_millis(100), "{:?}", r.latency);
    }
    assert_eq!(f.up("ratings").hits(), 20);

    // 50% abort.
    let n = 400u32;
    let aborted = (0..n)
        .filter(|_| {
            let r = send(f.get("ratings", "/").header("x-chaos", "abort-half"));
            assert!(r.status == 200 || r.status == 500, "{}", r.status);
            r.status == 500
        })
        .count() as u32;
    let sigma = (f64::from(n) * 0.25).sqrt();
    let z = (f64::from(aborted) - f64::from(n) / 2.0) / sigma;
    eprintln!("MEASURED abort 50%: {aborted}/{n} aborted (z = {z:+.2})");
    assert!(z.abs() <= 4.0, "{aborted} of {n} aborted");

    // Requests keep flowing after local replies from the tick (no stuck iteration state).
    let r = send(f.get("ratings", "/"));
    assert_eq!((r.status, who(&r).as_str()), (200, "ratings"));
    let prom = f.envoy.prometheus();
    assert!(
        prom.lines()
            .any(|l| l.starts_with("meshroute_aborted_total{") && l.contains("rule=\"abort\"")),
        "{prom}"
    );
}

const EDGE: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge, namespace: default}
spec:
  hosts: [edge]
  http:
  - name: rewrite
    match: [{uri: {prefix: /old/}}]
    rewrite: {uri: /new/, authority: backend.internal}
    headers:
      request: {set: {x-added: "yes"}, remove: [x-secret]}
      response: {set: {x-served-by: meshroute}, remove: [x-upstream-private]}
    route: [{destination: {host: edge}}]
  - name: redirect
    match: [{uri: {exact: /go}}]
    redirect: {uri: /landing, authority: other.example.com, redirectCode: 302}
  - name: teapot
    match: [{uri: {exact: /teapot}}]
    directResponse: {status: 418, body: {string: "short and stout"}}
  - route: [{destination: {host: edge}}]
"#;

#[test]
fn rewrite_redirect_direct_response_and_header_ops() {
    let _g = serial();
    let Some(f) = Fixture::start(
        "rewrite_redirect_direct_response_and_header_ops",
        EDGE,
        &[svc("edge", 8000, &[])],
    ) else {
        return;
    };
    f.up("edge").add_response_header("x-upstream-private", "1");
    let r = send(f.get("edge", "/old/page?q=1").header("x-secret", "s"));
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["path"], "/new/page");
    assert_eq!(b["query"], "q=1");
    assert_eq!(b["headers"]["host"], "backend.internal");
    assert_eq!(b["headers"]["x-added"], "yes");
    assert_eq!(b["headers"]["x-envoy-original-path"], "/old/page?q=1");
    assert!(b["headers"].get("x-secret").is_none());
    assert_eq!(r.header("x-served-by"), Some("meshroute"));
    assert_eq!(r.header("x-upstream-private"), None);

    let r = send(f.get("edge", "/go"));
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("http://other.example.com/landing"))
    );
    let r = send(f.get("edge", "/teapot"));
    assert_eq!((r.status, r.text().as_str()), (418, "short and stout"));
    let r = send(f.get("edge", "/other"));
    assert_eq!((r.status, r.json()["path"].as_str()), (200, Some("/other")));
    assert_eq!(
        r.header("x-upstream-private"),
        Some("1"),
        "rule without response ops"
    );
}

const RESILIENCE: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: flaky, namespace: default}
spec:
  hosts: [flaky]
  http:
  - name: slow
    match: [{uri: {prefix: /slow}}]
    timeout: 300ms
    route: [{destination: {host: flaky}}]
  - name: no-retries
    match: [{uri: {prefix: /none}}]
    retries: {attempts: 0}
    route: [{destination: {host: flaky}}]
  - name: narrow
    match: [{uri: {prefix: /narrow}}]
    retries: {attempts: 2, retryOn: reset}
    route: [{destination: {host: flaky}}]
  - name: istio-default
    match: [{uri: {prefix: /default}}]
    route: [{destination: {host: flaky}}]
  - name: retry
    retries: {attempts: 3, retryOn: 5xx}
    route: [{destination: {host: flaky}}]
"#;

#[test]
fn retries_and_timeout() {
    let _g = serial();
    let Some(f) = Fixture::start(
        "retries_and_timeout",
        RESILIENCE,
        &[svc("flaky", 7000, &[])],
    ) else {
        return;
    };
    let up = f.up("flaky");
    up.fail_next(2, Fault::Status(503));
    let r = send(f.get("flaky", "/x"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(up.hits(), 3, "two failures, then success");
    let b = r.json();
    assert_eq!(
        b["headers"].get(CH),
        Some(&json!("outbound|7000||flaky.default.svc.cluster.local"))
    );

    // More failures than attempts: the last failure reaches the client.
    up.reset();
    up.fail_next(10, Fault::Status(503));
    let r = send(f.get("flaky", "/x"));
    assert_eq!(r.status, 503);
    assert_eq!(up.hits(), 4, "1 try + 3 retries");

    // Timeout: 300ms route timeout, upstream answers after 2s → 504 at ~300ms.
    up.reset();
    let r = send(
        f.get("flaky", "/slow")
            .header("x-upstream-delay-ms", "2000"),
    );
    eprintln!("MEASURED timeout 300ms: 504 after {:.1}ms", ms(r.latency));
    assert_eq!(
        (r.status, r.text().as_str()),
        (504, "upstream request timeout")
    );
    // Envoy arms its timer from the event loop's cached clock, so the 504 may come a
    // couple of milliseconds before 300ms as the client measures it (seen: 298.1ms).
    assert!(
        r.latency >= Duration::from_millis(290) && r.latency < Duration::from_millis(450),
        "{:?}",
        r.latency
    );
    // No timeout on the other rule (Istio's default): a 600ms upstream is fine.
    let r = send(f.get("flaky", "/x").header("x-upstream-delay-ms", "600"));
    assert_eq!(r.status, 200);

    // Istio's default policy (the rendered route's own, no header from the filter):
    // 2 retries on 503.
    up.reset();
    up.fail_next(2, Fault::Status(503));
    let r = send(f.get("flaky", "/default"));
    assert_eq!(
        (r.status, up.hits()),
        (200, 3),
        "Istio's default: 2 retries"
    );
    up.reset();
    up.fail_next(10, Fault::Status(503));
    let r = send(f.get("flaky", "/default"));
    assert_eq!((r.status, up.hits()), (503, 3), "1 try + 2 retries");
    // attempts 0: no retry at all, although the route's default policy would retry 503.
    up.reset();
    up.fail_next(1, Fault::Status(503));
    let r = send(f.get("flaky", "/none"));
    assert_eq!((r.status, up.hits()), (503, 1), "attempts 0: not retried");
    // retryOn narrower than the default: 503 is not among its conditions, so not retried
    // (the route the filter selects for it has no retry_on of its own).
    up.reset();
    up.fail_next(1, Fault::Status(503));
    let r = send(f.get("flaky", "/narrow"));
    assert_eq!(
        (r.status, up.hits()),
        (503, 1),
        "retryOn reset: 503 not retried"
    );
}

const MIRROR: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin]
  http:
  - route: [{destination: {host: httpbin, subset: v1}}]
    mirror: {host: httpbin, subset: v2}
    mirrorPercentage: {value: 100.0}
"#;

#[test]
fn mirror_sends_a_shadow_copy() {
    let _g = serial();
    let Some(f) = Fixture::start(
        "mirror_sends_a_shadow_copy",
        MIRROR,
        &[svc("httpbin", 8000, &["v1", "v2"])],
    ) else {
        return;
    };
    let shadow = f.up("httpbin-v2");
    shadow.set_delay(Duration::from_millis(1500));
    let r = send(
        f.req("POST", "httpbin", "/anything?x=1")
            .body("hello mirror")
            .header("x-trace", "t1"),
    );
    assert_eq!((r.status, who(&r).as_str()), (200, "httpbin-v1"));
    eprintln!(
        "MEASURED mirror (shadow answers after 1.5s): client latency {:.1}ms",
        ms(r.latency)
    );
    assert!(
        r.latency < Duration::from_millis(500),
        "the client must not wait for the mirror: {:?}",
        r.latency
    );
    let got = support::wait_until("the shadow copy", Duration::from_secs(5), || {
        shadow.received().into_iter().next()
    });
    let req = &got.request;
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/anything");
    assert_eq!(req.query, "x=1");
    assert_eq!(req.header("host"), Some("httpbin-shadow"));
    assert_eq!(req.header("x-trace"), Some("t1"));
    assert_eq!(req.header(CH), None);
    assert_eq!(String::from_utf8_lossy(&req.body), "hello mirror");
    assert_eq!(f.up("httpbin-v1").hits(), 1);
    let prom = f.envoy.prometheus();
    assert!(
        prom.lines()
            .any(|l| l.starts_with("meshroute_mirrored_total{")
                && l.contains(
                    "destination=\"outbound|8000|v2|httpbin.default.svc.cluster.local\""
                )),
        "{prom}"
    );
}

#[test]
fn gateway_host_binding() {
    let _g = serial();
    let port = support::free_port();
    let routing = format!(
        r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: bookinfo-gateway, namespace: default}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: {port}, name: http, protocol: HTTP}}
    hosts: ["bookinfo.example.com", "*.shop.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: bookinfo, namespace: default}}
spec:
  hosts: [bookinfo.example.com]
  gateways: [bookinfo-gateway]
  http:
  - match: [{{uri: {{prefix: /productpage}}}}]
    route: [{{destination: {{host: productpage, port: {{number: 9080}}}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: shop, namespace: default}}
spec:
  hosts: ["*.shop.example.com"]
  gateways: [default/bookinfo-gateway, mesh]
  http:
  - route: [{{destination: {{host: shop, port: {{number: 8080}}}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: internal, namespace: default}}
spec:
  hosts: [productpage]
  http:
  - route: [{{destination: {{host: productpage}}}}]
"#
    );
    let services = [svc("productpage", 9080, &[]), svc("shop", 8080, &[])];
    let Some(f) = Fixture::start_with(
        "gateway_host_binding",
        &routing,
        &services,
        Some("default/bookinfo-gateway"),
        u32::from(port),
    ) else {
        return;
    };
    let r = send(f.get("bookinfo.example.com", "/productpage"));
    assert_eq!(
        (r.status, who(&r).as_str()),
        (200, "productpage"),
        "{}",
        r.text()
    );
    let r = send(f.get(&format!("bookinfo.example.com:{port}"), "/productpage"));
    assert_eq!(who(&r), "productpage", "port in Host");
    let r = send(f.get("eu.shop.example.com", "/"));
    assert_eq!(who(&r), "shop", "wildcard host bound to the gateway");
    let r = send(f.get("bookinfo.example.com", "/other"));
    assert_eq!(r.status, 404, "no rule matches");
    // A mesh-only VirtualService is not served by the gateway.
    let r = send(f.get("productpage", "/"));
    assert_eq!((r.status, who(&r).as_str()), (404, ""));
    let r = send(f.get("evil.example.com", "/productpage"));
    assert_eq!(r.status, 404);
}

/// Writes an LDS file atomically (Envoy watches the directory for moves).
fn write_lds(dir: &std::path::Path, listeners: &[Value]) {
    let resources: Vec<Value> = listeners
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l["@type"] = json!("type.googleapis.com/envoy.config.listener.v3.Listener");
            l
        })
        .collect();
    let tmp = dir.join("lds.json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&json!({ "resources": resources })).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, dir.join("lds.json")).unwrap_or_else(|e| panic!("rename lds: {e}"));
}

#[test]
fn bad_config_is_rejected_and_envoy_keeps_serving() {
    let _g = serial();
    let Some(pre) = envoy::prereqs("bad_config_is_rejected_and_envoy_keeps_serving") else {
        return;
    };
    let good = example(
        BOOKINFO_DIR,
        &["virtual-service.yaml", "destination-rule.yaml"],
    );
    let services = [Svc {
        name: "reviews",
        port: 9080,
        subsets: &["v1", "v2", "v3"],
        dr: false,
    }];
    let (entries, ups) = backends(&services);
    let port = support::free_port();
    let good_boot = render_bootstrap(
        &format!("{good}\n{entries}"),
        &pre.wasm,
        u32::from(port),
        None,
        false,
    );
    let bad_vs = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match: [{uri: {regex: "/items/([0-9]+"}}]
    route: [{destination: {host: ratings}}]
"#;
    // Render cannot know the regex is bad for RE2 users; the filter must refuse it.
    let loaded = meshroute_model::load_str(&format!("{good}\n---\n{bad_vs}\n{entries}"), None);
    let opts = RenderOptions {
        listen_address: "127.0.0.1".into(),
        listen_port: u32::from(port),
        admin_port: 0,
        wasm_path: pre.wasm.display().to_string(),
        ..RenderOptions::default()
    };
    let bad_boot = render::render(loaded.resources(), &opts).bootstrap;

    // 1. At startup: Envoy refuses the configuration (validation mode loads the VM too).
    let err = envoy::validate(&pre.envoy, &bad_boot)
        .expect_err("envoy must reject a bad plugin configuration");
    assert!(err.contains("meshroute: configuration rejected"), "{err}");
    assert!(
        err.contains("VirtualService default/broken") && err.contains("spec.http[0].match[0].uri"),
        "{err}"
    );

    // 2. Hot reload: the listener comes from a watched LDS file; a bad update is rejected and
    //    the running listener keeps serving with the previous configuration.
    let dir = support::fresh_dir("lds", "bad-config");
    let listeners = |boot: &Value| {
        boot["static_resources"]["listeners"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    write_lds(&dir, &listeners(&good_boot));
    let mut boot = good_boot.clone();
    boot["static_resources"]["listeners"] = json!([]);
    boot["dynamic_resources"] = json!({"lds_config": {
        "resource_api_version": "V3",
        "path_config_source": {"path": dir.join("lds.json").display().to_string(),
                               "watched_directory": {"path": dir.display().to_string()}}}});
    let proxy = Envoy::start(&pre.envoy, "bad-config-lds", &boot);
    let url = format!("http://127.0.0.1:{port}/");
    let ask = || {
        send(
            Request::get(&url)
                .header("host", "reviews")
                .header("end-user", "jason"),
        )
    };
    support::wait_until("the LDS listener", Duration::from_secs(20), || {
        Request::get(&url)
            .header("host", "reviews")
            .send()
            .ok()
            .filter(|r| r.status == 200)
    });
    assert_eq!(who(&ask()), "reviews-v2");

    write_lds(&dir, &listeners(&bad_boot));
    proxy.wait_for_stat(
        "listener_manager.lds.update_rejected",
        Duration::from_secs(20),
        |v| v >= 1,
    );
    let log = proxy.log();
    let line = log
        .lines()
        .find(|l| {
            l.contains(
                "meshroute: configuration rejected: resource \"VirtualService default/broken\"",
            )
        })
        .unwrap_or_else(|| panic!("no rejection line in the log:\n{}", proxy.log_tail(40)));
    eprintln!("LOGGED {}", line.trim());
    assert!(line.contains("path \"spec.http[0].match[0].uri"), "{line}");
    for _ in 0..5 {
        let r = ask();
        assert_eq!(
            (r.status, who(&r).as_str()),
            (200, "reviews-v2"),
            "still serving the old configuration"
        );
    }
    drop(ups);
}

#[test]
fn stats_in_prometheus() {
    let _g = serial();
    let routing = example(
        BOOKINFO_DIR,
        &["virtual-service.yaml", "destination-rule.yaml"],
    );
    let services = [Svc {
        name: "reviews",
        port: 9080,
        subsets: &["v1", "v2", "v3"],
        dr: false,
    }];
    let Some(f) = Fixture::start("stats_in_prometheus", &routing, &services) else {
        return;
    };
    for _ in 0..3 {
        send(f.get("reviews", "/").header("end-user", "jason"));
    }
    send(f.get("reviews", "/"));
    send(f.get("nowhere", "/"));
    // The filter batches `meshroute_requests_total` and hands it to Envoy on its tick, at
    // most 100 ms after the first count (`COUNTER_FLUSH`): poll until all five are there.
    let deadline = Instant::now() + Duration::from_secs(5);
    let prom = loop {
        let prom = f.envoy.prometheus();
        let total: u64 = prom
            .lines()
            .filter(|l| l.starts_with("meshroute_requests_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        if total >= 5 || Instant::now() > deadline {
            break prom;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let find = |rule: &str, dest: &str| -> Option<u64> {
        prom.lines()
            .filter(|l| l.starts_with("meshroute_requests_total{"))
            .find(|l| {
                l.contains(&format!("rule=\"{rule}\""))
                    && l.contains(&format!("destination=\"{dest}\""))
                    && l.contains(if rule == "none" {
                        "virtual_service=\"none\""
                    } else {
                        "virtual_service=\"default/reviews\""
                    })
            })
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    assert_eq!(
        find(
            "jason",
            "outbound|9080|v2|reviews.default.svc.cluster.local"
        ),
        Some(3),
        "{prom}"
    );
    assert_eq!(
        find(
            "default",
            "outbound|9080|v1|reviews.default.svc.cluster.local"
        ),
        Some(1),
        "{prom}"
    );
    assert_eq!(find("none", "no_route"), Some(1), "{prom}");
    assert!(
        prom.contains("# TYPE meshroute_requests_total counter"),
        "{prom}"
    );
}

/// Sets `settings.sticky` (the filter's extension) in every meshroute plugin configuration.
fn with_sticky(bootstrap: &mut Value, sticky: Value) {
    let listeners = bootstrap["static_resources"]["listeners"].as_array_mut();
    for l in listeners.into_iter().flatten() {
        for chain in l["filter_chains"].as_array_mut().into_iter().flatten() {
            for f in chain["filters"].as_array_mut().into_iter().flatten() {
                let hcm = &mut f["typed_config"];
                for hf in hcm["http_filters"].as_array_mut().into_iter().flatten() {
                    if hf["name"] != "envoy.filters.http.wasm" {
                        continue;
                    }
                    let v = hf.pointer_mut("/typed_config/config/configuration/value");
                    let Some(v) = v else { continue };
                    let Some(text) = v.as_str() else { continue };
                    let mut cfg: Value =
                        serde_json::from_str(text).unwrap_or_else(|e| panic!("plugin config: {e}"));
                    cfg["settings"]["sticky"] = sticky.clone();
                    *v = Value::String(cfg.to_string());
                }
            }
        }
    }
}

#[test]
fn sticky_weighted_choice_by_cookie() {
    let _g = serial();
    let Some(pre) = envoy::prereqs("sticky_weighted_choice_by_cookie") else {
        return;
    };
    let routing = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: default}
spec:
  hosts: [shop]
  http:
  - route:
    - {destination: {host: shop, subset: blue}, weight: 50}
    - {destination: {host: shop, subset: green}, weight: 50}
"#;
    let (entries, ups) = backends(&[svc("shop", 8080, &["blue", "green"])]);
    let mut boot = render_bootstrap(&format!("{routing}\n{entries}"), &pre.wasm, 0, None, false);
    with_sticky(&mut boot, json!({"cookie": "session"}));
    let proxy = Envoy::start(&pre.envoy, "sticky", &boot);
    let get = |cookie: Option<&str>| {
        let mut r = Request::get(&proxy.url("/")).header("host", "shop");
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        who(&send(r))
    };
    let mut per_color: BTreeMap<String, usize> = BTreeMap::new();
    for user in 0..20 {
        let cookie = format!("theme=dark; session=user-{user}");
        let first = get(Some(&cookie));
        for _ in 0..5 {
            assert_eq!(
                get(Some(&cookie)),
                first,
                "user {user} must keep its subset"
            );
        }
        *per_color.entry(first).or_default() += 1;
    }
    eprintln!("MEASURED sticky 50/50 over 20 sessions: {per_color:?}");
    assert_eq!(
        per_color.len(),
        2,
        "both subsets get sessions: {per_color:?}"
    );
    // Without the cookie: random per request, both subsets.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..40 {
        *seen.entry(get(None)).or_default() += 1;
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    drop(ups);
}
