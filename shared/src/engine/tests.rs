//! Scenario tests for the engine, and a property test of the URI index against a
//! linear scan.

use super::*;
use crate::load_str;
use std::time::Duration;

fn engine(yaml: &str) -> Engine {
    engine_opts(yaml, &EngineOptions::default())
}

fn engine_opts(yaml: &str, opts: &EngineOptions) -> Engine {
    let loaded = load_str(yaml, Some("test.yaml"));
    assert!(
        loaded.diagnostics.iter().all(|d| !d.is_error()),
        "load errors: {:?}",
        loaded.diagnostics
    );
    match Engine::compile(loaded.resources(), opts) {
        Ok(e) => e,
        Err(errs) => panic!("compile errors: {errs:#?}"),
    }
}

fn compile_errors(yaml: &str) -> Vec<Diagnostic> {
    let loaded = load_str(yaml, Some("test.yaml"));
    match Engine::compile(loaded.resources(), &EngineOptions::default()) {
        Ok(_) => panic!("expected compile errors"),
        Err(e) => e,
    }
}

/// `(method, authority, path, headers)` → `(rule index, match index, first destination subset or cluster)`.
struct Case {
    name: &'static str,
    method: &'static str,
    authority: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    /// `None`: no route.
    rule: Option<usize>,
    /// The chosen destination's `subset` (or host when no subset), for routes.
    dest: Option<&'static str>,
}

fn run_cases(e: &Engine, cases: &[Case]) {
    for c in cases {
        let req = Request::new(c.method, c.authority, c.path).with_headers(c.headers);
        let d = e.decide(&req);
        assert_eq!(d.rule_index(), c.rule, "{}: rule index", c.name);
        if let Some(want) = c.dest {
            let got = d.choose(&mut SplitMix64(7));
            let got = got.map(|g| g.subset.unwrap_or(g.host).to_owned());
            assert_eq!(got.as_deref(), Some(want), "{}: destination", c.name);
        }
        // The index and a linear scan agree.
        let lin = e.decide_with(&req, true);
        assert_eq!(lin.rule_index(), d.rule_index(), "{}: linear", c.name);
        assert_eq!(
            lin.match_index(),
            d.match_index(),
            "{}: linear match",
            c.name
        );
    }
}

const BOOKINFO: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match:
    - name: jason-header
      headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - name: rest
    route:
    - destination: {host: reviews, subset: v1}
      weight: 50
    - destination: {host: reviews, subset: v3}
      weight: 50
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"#;

#[test]
fn bookinfo_jason_goes_to_v2() {
    let e = engine(BOOKINFO);
    assert!(e.warnings().is_empty(), "{:?}", e.warnings());
    let h = [("end-user", "jason")];
    let req = Request::new("GET", "reviews:9080", "/reviews/0").with_headers(&h);
    let d = e.decide(&req);
    assert_eq!(d.virtual_service(), Some("VirtualService default/reviews"));
    assert_eq!(d.rule_index(), Some(0));
    assert_eq!(d.rule_name(), Some("jason"));
    assert_eq!(d.match_index(), Some(0));
    assert_eq!(d.match_name(), Some("jason-header"));
    assert_eq!(d.route_name().as_deref(), Some("jason.jason-header"));
    let dest = d.choose(&mut SplitMix64(1)).unwrap();
    assert_eq!(dest.subset, Some("v2"));
    assert_eq!(dest.host, "reviews.default.svc.cluster.local");
    assert_eq!(
        dest.cluster,
        "outbound|9080|v2|reviews.default.svc.cluster.local"
    );
    assert_eq!(dest.subset_defined, Some(true));

    let h = [("end-user", "bob")];
    let req = Request::new("GET", "reviews:9080", "/").with_headers(&h);
    let d = e.decide(&req);
    assert_eq!(d.rule_index(), Some(1));
    assert_eq!(d.match_index(), None);
    let p = d.probabilities();
    assert_eq!(p.len(), 2);
    assert!((p[0].1 - 0.5).abs() < 1e-9 && (p[1].1 - 0.5).abs() < 1e-9);
}

#[test]
fn header_prefix_regex_and_catch_all() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ua, namespace: default}
spec:
  hosts: [web]
  http:
  - match: [{headers: {user-agent: {prefix: "Mozilla/5.0 (iPhone"}}}]
    route: [{destination: {host: web, subset: mobile}}]
  - match: [{headers: {user-agent: {regex: ".*(Chrome|Firefox)/[0-9]+.*"}}}]
    route: [{destination: {host: web, subset: desktop}}]
  - match: [{headers: {x-canary: {}}}]
    route: [{destination: {host: web, subset: canary}}]
  - route: [{destination: {host: web, subset: stable}}]
"#,
    );
    run_cases(
        &e,
        &[
            Case {
                name: "iphone prefix",
                method: "GET",
                authority: "web",
                path: "/",
                headers: &[("User-Agent", "Mozilla/5.0 (iPhone; CPU)")],
                rule: Some(0),
                dest: Some("mobile"),
            },
            Case {
                name: "chrome regex (full match)",
                method: "GET",
                authority: "web",
                path: "/",
                headers: &[("user-agent", "Mozilla/5.0 Chrome/120.0")],
                rule: Some(1),
                dest: Some("desktop"),
            },
            Case {
                name: "regex must match the whole value",
                method: "GET",
                authority: "web",
                path: "/",
                headers: &[("user-agent", "curl/8")],
                rule: Some(3),
                dest: Some("stable"),
            },
            Case {
                name: "presence match with empty value",
                method: "GET",
                authority: "web",
                path: "/",
                headers: &[("x-canary", "")],
                rule: Some(2),
                dest: Some("canary"),
            },
            Case {
                name: "catch-all",
                method: "POST",
                authority: "web",
                path: "/anything",
                headers: &[],
                rule: Some(3),
                dest: Some("stable"),
            },
        ],
    );
}

#[test]
fn first_match_wins_and_and_or_semantics() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: default}
spec:
  hosts: [api]
  http:
  - name: broad
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: api, subset: broad}}]
  - name: specific
    match: [{uri: {exact: /api/v2/users}}]
    route: [{destination: {host: api, subset: specific}}]
  - name: and-or
    match:
    - {uri: {prefix: /admin}, method: {exact: POST}}
    - {headers: {x-admin: {exact: "1"}}}
    route: [{destination: {host: api, subset: admin}}]
"#,
    );
    run_cases(
        &e,
        &[
            Case {
                name: "earlier broad rule wins over later exact",
                method: "GET",
                authority: "api",
                path: "/api/v2/users",
                headers: &[],
                rule: Some(0),
                dest: Some("broad"),
            },
            Case {
                name: "AND: both fields",
                method: "POST",
                authority: "api",
                path: "/admin/x",
                headers: &[],
                rule: Some(2),
                dest: Some("admin"),
            },
            Case {
                name: "AND: one field fails",
                method: "GET",
                authority: "api",
                path: "/admin/x",
                headers: &[],
                rule: None,
                dest: None,
            },
            Case {
                name: "OR: second block",
                method: "GET",
                authority: "api",
                path: "/other",
                headers: &[("x-admin", "1")],
                rule: Some(2),
                dest: Some("admin"),
            },
        ],
    );
    let d = e.decide(&Request::new("GET", "api", "/nothing"));
    assert!(matches!(
        d.action(),
        Action::NoRoute(NoRouteReason::NoMatchingRule)
    ));
    let d = e.decide(&Request::new("GET", "unknown.example.com", "/"));
    assert!(matches!(
        d.action(),
        Action::NoRoute(NoRouteReason::NoVirtualHost)
    ));
    assert_eq!(
        e.decide(&Request::new("POST", "api", "/admin"))
            .match_index(),
        Some(0)
    );
    let h = [("x-admin", "1")];
    assert_eq!(
        e.decide(&Request::new("POST", "api", "/other").with_headers(&h))
            .match_index(),
        Some(1)
    );
}

#[test]
fn without_headers_and_query_params() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: q, namespace: default}
spec:
  hosts: [q]
  http:
  - match: [{withoutHeaders: {x-beta: {exact: "off"}}, uri: {prefix: /beta}}]
    route: [{destination: {host: q, subset: beta}}]
  - match: [{withoutHeaders: {x-debug: {}}, uri: {prefix: /nodebug}}]
    route: [{destination: {host: q, subset: nodebug}}]
  - match: [{queryParams: {v: {exact: "2"}}}]
    route: [{destination: {host: q, subset: v2}}]
  - match: [{queryParams: {id: {regex: "[0-9]+"}}}]
    route: [{destination: {host: q, subset: numeric}}]
  - match: [{queryParams: {lang: {prefix: "en"}}}]
    route: [{destination: {host: q, subset: english}}]
  - match: [{queryParams: {flag: {}}}]
    route: [{destination: {host: q, subset: flagged}}]
"#,
    );
    run_cases(
        &e,
        &[
            Case {
                name: "withoutHeaders: header absent",
                method: "GET",
                authority: "q",
                path: "/beta",
                headers: &[],
                rule: Some(0),
                dest: Some("beta"),
            },
            Case {
                name: "withoutHeaders: other value",
                method: "GET",
                authority: "q",
                path: "/beta",
                headers: &[("x-beta", "on")],
                rule: Some(0),
                dest: Some("beta"),
            },
            Case {
                name: "withoutHeaders: excluded value",
                method: "GET",
                authority: "q",
                path: "/beta",
                headers: &[("x-beta", "off")],
                rule: None,
                dest: None,
            },
            Case {
                name: "withoutHeaders presence: absent passes",
                method: "GET",
                authority: "q",
                path: "/nodebug",
                headers: &[],
                rule: Some(1),
                dest: Some("nodebug"),
            },
            Case {
                name: "withoutHeaders presence: present fails",
                method: "GET",
                authority: "q",
                path: "/nodebug",
                headers: &[("x-debug", "")],
                rule: None,
                dest: None,
            },
            Case {
                name: "query exact",
                method: "GET",
                authority: "q",
                path: "/x?a=1&v=2",
                headers: &[],
                rule: Some(2),
                dest: Some("v2"),
            },
            Case {
                name: "query exact is exact",
                method: "GET",
                authority: "q",
                path: "/x?v=22",
                headers: &[],
                rule: None,
                dest: None,
            },
            Case {
                name: "query regex full match",
                method: "GET",
                authority: "q",
                path: "/x?id=123",
                headers: &[],
                rule: Some(3),
                dest: Some("numeric"),
            },
            Case {
                name: "query regex rejects partial",
                method: "GET",
                authority: "q",
                path: "/x?id=a123",
                headers: &[],
                rule: None,
                dest: None,
            },
            Case {
                name: "query prefix",
                method: "GET",
                authority: "q",
                path: "/x?lang=en-US",
                headers: &[],
                rule: Some(4),
                dest: Some("english"),
            },
            Case {
                name: "query presence without value",
                method: "GET",
                authority: "q",
                path: "/x?flag",
                headers: &[],
                rule: Some(5),
                dest: Some("flagged"),
            },
        ],
    );
}

#[test]
fn ignore_uri_case_authority_and_port() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: default}
spec:
  hosts: [c.example.com]
  http:
  - match: [{uri: {prefix: /Api/}, ignoreUriCase: true}]
    route: [{destination: {host: c.example.com, subset: api}}]
  - match: [{uri: {exact: /Exact}, ignoreUriCase: true}]
    route: [{destination: {host: c.example.com, subset: exact}}]
  - match: [{uri: {prefix: /Case}}]
    route: [{destination: {host: c.example.com, subset: case}}]
  - match: [{authority: {prefix: "c.example.com:8443"}}]
    route: [{destination: {host: c.example.com, subset: auth}}]
  - match: [{port: 9090}]
    route: [{destination: {host: c.example.com, subset: port}}]
"#,
    );
    run_cases(
        &e,
        &[
            Case {
                name: "ignoreUriCase prefix",
                method: "GET",
                authority: "C.Example.com",
                path: "/API/users",
                headers: &[],
                rule: Some(0),
                dest: Some("api"),
            },
            Case {
                name: "ignoreUriCase exact",
                method: "GET",
                authority: "c.example.com",
                path: "/eXACT?x=1",
                headers: &[],
                rule: Some(1),
                dest: Some("exact"),
            },
            Case {
                name: "case-sensitive prefix",
                method: "GET",
                authority: "c.example.com",
                path: "/case",
                headers: &[],
                rule: None,
                dest: None,
            },
            Case {
                name: "authority includes the port as sent",
                method: "GET",
                authority: "c.example.com:8443",
                path: "/x",
                headers: &[],
                rule: Some(3),
                dest: Some("auth"),
            },
            Case {
                name: "port from authority",
                method: "GET",
                authority: "c.example.com:9090",
                path: "/x",
                headers: &[],
                rule: Some(4),
                dest: Some("port"),
            },
        ],
    );
    let d = e.decide(&Request::new("GET", "c.example.com", "/x").with_port(9090));
    assert_eq!(d.rule_index(), Some(4));
}

#[test]
fn wildcard_hosts_most_specific_wins() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  http: [{route: [{destination: {host: all.example.com}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wide, namespace: default}
spec:
  hosts: ["*.example.com"]
  http: [{route: [{destination: {host: wide.example.com}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: narrow, namespace: default}
spec:
  hosts: ["*.api.example.com"]
  http: [{route: [{destination: {host: narrow.example.com}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: exact, namespace: default}
spec:
  hosts: [v1.api.example.com]
  http: [{route: [{destination: {host: exact.example.com}}]}]
"#,
    );
    let vs = |a: &str| {
        e.decide(&Request::new("GET", a, "/"))
            .virtual_service()
            .map(str::to_owned)
    };
    assert_eq!(
        vs("v1.api.example.com").as_deref(),
        Some("VirtualService default/exact")
    );
    assert_eq!(
        vs("V1.API.example.com:80").as_deref(),
        Some("VirtualService default/exact")
    );
    assert_eq!(
        vs("v2.api.example.com").as_deref(),
        Some("VirtualService default/narrow")
    );
    assert_eq!(
        vs("www.example.com").as_deref(),
        Some("VirtualService default/wide")
    );
    assert_eq!(
        vs("example.com").as_deref(),
        Some("VirtualService default/all")
    );
    assert_eq!(
        vs("other.org").as_deref(),
        Some("VirtualService default/all")
    );
    let d = e.decide(&Request::new("GET", "v2.api.example.com", "/"));
    assert_eq!(d.host(), Some(("*.api.example.com", HostMatch::Wildcard)));
}

/// A VirtualService for the short host `reviews`, in namespace `ns`.
fn reviews_in(ns: &str) -> Engine {
    engine(&format!(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: r, namespace: {ns}}}
spec:
  hosts: [reviews]
  http: [{{route: [{{destination: {{host: reviews}}}}]}}]
"#
    ))
}

#[test]
fn short_names_resolve_per_namespace() {
    let e = reviews_in("prod");
    let d = e.decide(&Request::new("GET", "reviews", "/"));
    assert!(
        !d.is_match(),
        "default namespace client: reviews is reviews.default"
    );
    let d = e.decide(&Request::new("GET", "reviews", "/").with_source(&[], Some("prod")));
    assert!(d.is_match());
    let d = e.decide(&Request::new("GET", "Reviews:9080", "/").with_source(&[], Some("prod")));
    assert!(d.is_match());
    // From the default namespace (the short-name map's case), any case, with a port.
    let e2 = reviews_in("default");
    for a in ["reviews", "REVIEWS:80", "reviews."] {
        let d = e2.decide(&Request::new("GET", a, "/"));
        assert_eq!(
            d.host(),
            Some(("reviews.default.svc.cluster.local", HostMatch::Exact)),
            "{a}"
        );
    }
    let d = e2.decide(&Request::new("GET", "reviews", "/").with_source(&[], Some("prod")));
    assert!(!d.is_match(), "prod client: reviews is reviews.prod");
    for a in [
        "reviews.prod",
        "reviews.prod.svc",
        "reviews.prod.svc.cluster.local",
        "Reviews.Prod:9080",
    ] {
        assert!(e.decide(&Request::new("GET", a, "/")).is_match(), "{a}");
    }
    let dest = e
        .decide(&Request::new("GET", "reviews.prod", "/"))
        .choose(&mut SplitMix64(0))
        .unwrap();
    assert_eq!(dest.host, "reviews.prod.svc.cluster.local");
    assert_eq!(dest.cluster, "outbound|80||reviews.prod.svc.cluster.local");
}

const GATEWAYS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge, namespace: web}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/ingress, mesh]
  http:
  - match: [{gateways: [istio-system/ingress], uri: {prefix: /}}]
    route: [{destination: {host: frontend, subset: external}}]
  - match: [{gateways: [mesh]}]
    route: [{destination: {host: frontend, subset: internal}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: gw-only, namespace: web}
spec:
  hosts: [admin.example.com]
  gateways: [istio-system/ingress]
  http:
  - route: [{destination: {host: admin}}]
"#;

#[test]
fn gateway_binding() {
    let mesh = engine(GATEWAYS);
    let gw = engine_opts(
        GATEWAYS,
        &EngineOptions {
            gateway: Some("istio-system/ingress".into()),
            ..Default::default()
        },
    );
    let d = mesh.decide(&Request::new("GET", "shop.example.com", "/"));
    assert_eq!(
        d.choose(&mut SplitMix64(0)).unwrap().subset,
        Some("internal")
    );
    let d = gw.decide(&Request::new("GET", "shop.example.com", "/"));
    assert_eq!(
        d.choose(&mut SplitMix64(0)).unwrap().subset,
        Some("external")
    );
    assert!(!mesh
        .decide(&Request::new("GET", "admin.example.com", "/"))
        .is_match());
    assert!(gw
        .decide(&Request::new("GET", "admin.example.com", "/"))
        .is_match());
    assert_eq!(gw.gateway(), "istio-system/ingress");
    // The explanation names the gateway condition.
    let x = mesh.explain(&Request::new("GET", "shop.example.com", "/"));
    let m = &x.rules[0].failed[0].mismatches[0];
    assert_eq!(m.field, "match[0].gateways");
    assert!(m.message.contains("\"mesh\""), "{}", m.message);
}

#[test]
fn gateway_moves_catch_all_routes_last() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [shop.example.com]
  gateways: [ingress]
  http:
  - route: [{destination: {host: a}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: default}
spec:
  hosts: [shop.example.com]
  gateways: [ingress]
  http:
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: b}}]
"#;
    let gw = engine_opts(
        yaml,
        &EngineOptions {
            gateway: Some("ingress".into()),
            ..Default::default()
        },
    );
    let d = gw.decide(&Request::new("GET", "shop.example.com", "/b/1"));
    assert_eq!(d.virtual_service(), Some("VirtualService default/b"));
    let d = gw.decide(&Request::new("GET", "shop.example.com", "/x"));
    assert_eq!(d.virtual_service(), Some("VirtualService default/a"));
}

#[test]
fn sidecars_use_the_first_virtual_service_for_a_host() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: first, namespace: default}
spec:
  hosts: [svc]
  http: [{match: [{uri: {prefix: /a}}], route: [{destination: {host: svc, subset: a}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: second, namespace: default}
spec:
  hosts: [svc]
  http: [{route: [{destination: {host: svc, subset: b}}]}]
"#,
    );
    assert!(!e.decide(&Request::new("GET", "svc", "/b")).is_match());
    assert!(e.warnings().iter().any(|w| w.code == codes::MR306));
}

/// istiod orders VirtualServices by `creationTimestamp`, then name, then namespace
/// (`sortConfigByCreationTime`), not by where they appear in a file: without timestamps
/// `a-reviews` owns the host even when `z-reviews` comes first in the input.
#[test]
fn sidecars_use_the_virtual_service_first_in_istios_order_not_the_files() {
    let two = |ts_z: &str, ts_a: &str| {
        format!(
            r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: z-reviews, namespace: default{ts_z}}}
spec:
  hosts: [reviews]
  http: [{{route: [{{destination: {{host: reviews, subset: z}}}}]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: a-reviews, namespace: default{ts_a}}}
spec:
  hosts: [reviews]
  http: [{{route: [{{destination: {{host: reviews, subset: a}}}}]}}]
"#
        )
    };
    let subset = |e: &Engine| {
        let d = e.decide(&Request::new("GET", "reviews", "/"));
        let first = d
            .probabilities()
            .first()
            .and_then(|(x, _)| x.subset.map(str::to_owned));
        (d.virtual_service().map(str::to_owned), first)
    };
    // No timestamps: by name.
    let e = engine(&two("", ""));
    assert_eq!(
        subset(&e),
        (
            Some("VirtualService default/a-reviews".into()),
            Some("a".into())
        )
    );
    let w: Vec<_> = e
        .warnings()
        .iter()
        .filter(|w| w.code == codes::MR306)
        .collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].resource, "VirtualService default/z-reviews");
    assert!(w[0].message.contains("a-reviews"), "{}", w[0].message);
    // The older one wins, whatever its name.
    let e = engine(&two(
        ", creationTimestamp: \"2024-01-01T00:00:00Z\"",
        ", creationTimestamp: \"2024-06-01T00:00:00Z\"",
    ));
    assert_eq!(
        subset(&e),
        (
            Some("VirtualService default/z-reviews".into()),
            Some("z".into())
        )
    );
    // A timestamp beats none only by being later: Go's zero time sorts first.
    let e = engine(&two(", creationTimestamp: \"2024-01-01T00:00:00Z\"", ""));
    assert_eq!(subset(&e).1.as_deref(), Some("a"));
}

/// At a gateway, VirtualServices for one host are concatenated in istiod's order too.
#[test]
fn gateways_concatenate_virtual_services_in_istios_order() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: z-shop, namespace: default}
spec:
  hosts: [shop.example.com]
  gateways: [ingress]
  http: [{match: [{uri: {prefix: /}}], route: [{destination: {host: z}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-shop, namespace: default}
spec:
  hosts: [shop.example.com]
  gateways: [ingress]
  http: [{match: [{uri: {prefix: /}}], route: [{destination: {host: a}}]}]
"#;
    let gw = engine_opts(
        yaml,
        &EngineOptions {
            gateway: Some("ingress".into()),
            ..Default::default()
        },
    );
    let d = gw.decide(&Request::new("GET", "shop.example.com", "/x"));
    assert_eq!(d.virtual_service(), Some("VirtualService default/a-shop"));
}

#[test]
fn source_labels_and_namespace() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: s, namespace: default}
spec:
  hosts: [ratings]
  http:
  - match: [{sourceLabels: {app: reviews, version: v2}}]
    route: [{destination: {host: ratings, subset: v2}}]
  - match: [{sourceNamespace: test}]
    route: [{destination: {host: ratings, subset: test}}]
  - route: [{destination: {host: ratings, subset: v1}}]
"#,
    );
    let labels = [
        ("app", "reviews"),
        ("version", "v2"),
        ("pod-template-hash", "x"),
    ];
    let r = Request::new("GET", "ratings", "/").with_source(&labels, Some("default"));
    assert_eq!(e.decide(&r).rule_index(), Some(0));
    let partial = [("app", "reviews")];
    let r = Request::new("GET", "ratings", "/").with_source(&partial, Some("default"));
    assert_eq!(e.decide(&r).rule_index(), Some(2));
    let r = Request::new("GET", "ratings.default", "/").with_source(&[], Some("test"));
    assert_eq!(e.decide(&r).rule_index(), Some(1));
}

#[test]
fn delegate_is_merged_inline() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: istio-system}
spec:
  hosts: [bookinfo.example.com]
  http:
  - name: pp
    match: [{uri: {prefix: /productpage}}]
    timeout: 3s
    delegate: {name: productpage, namespace: nsa}
  - name: missing
    match: [{uri: {prefix: /gone}}]
    delegate: {name: nothing}
  - route: [{destination: {host: fallback.example.com}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: productpage, namespace: nsa}
spec:
  http:
  - name: v1
    match: [{uri: {prefix: /productpage/v1/}}]
    route: [{destination: {host: productpage-v1}}]
  - name: conflict
    match: [{uri: {prefix: /other}}]
    route: [{destination: {host: never}}]
  - route: [{destination: {host: productpage}}]
"#,
    );
    let d = e.decide(&Request::new(
        "GET",
        "bookinfo.example.com",
        "/productpage/v1/x",
    ));
    assert_eq!(
        d.virtual_service(),
        Some("VirtualService istio-system/root")
    );
    assert_eq!(d.rule_index(), Some(0));
    assert_eq!(d.rule_name(), Some("pp-v1"));
    assert_eq!(d.delegate(), Some(("VirtualService nsa/productpage", 0)));
    let dest = d.choose(&mut SplitMix64(0)).unwrap();
    // istiod resolves the delegate's short names in the delegate's namespace.
    assert_eq!(dest.host, "productpage-v1.nsa.svc.cluster.local");
    assert_eq!(
        d.timeout(),
        Some(Duration::from_secs(3)),
        "root timeout inherited"
    );
    // The delegate's catch-all inherits the root match.
    let d = e.decide(&Request::new("GET", "bookinfo.example.com", "/productpage"));
    assert_eq!(d.delegate(), Some(("VirtualService nsa/productpage", 2)));
    // Missing delegate and conflicting delegate rules are ignored (warnings).
    let d = e.decide(&Request::new("GET", "bookinfo.example.com", "/gone"));
    assert_eq!(d.rule_index(), Some(2));
    assert!(
        e.warnings()
            .iter()
            .filter(|w| w.code == codes::MR304)
            .count()
            >= 2
    );
    let x = e.explain(&Request::new("GET", "bookinfo.example.com", "/gone"));
    assert!(x.rules.iter().any(|r| r
        .ignored
        .as_deref()
        .is_some_and(|w| w.contains("not found"))));
}

#[test]
fn rewrite_prefix_semantics() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rw, namespace: default}
spec:
  hosts: [rw]
  http:
  - match: [{uri: {prefix: /api/}}]
    rewrite: {uri: /}
    route: [{destination: {host: rw}}]
  - match: [{uri: {prefix: /v1}}]
    rewrite: {uri: /}
    route: [{destination: {host: rw}}]
  - match: [{uri: {exact: /old}}]
    rewrite: {uri: /new, authority: new.example.com}
    route: [{destination: {host: rw}}]
  - match: [{uri: {regex: "/svc/([a-z]+)/(.*)"}}]
    rewrite: {uriRegexRewrite: {match: "^/svc/([a-z]+)/(.*)$", rewrite: '/\2/\1'}}
    route: [{destination: {host: rw}}]
  - match: [{uri: {prefix: /UP}, ignoreUriCase: true}]
    rewrite: {uri: /down}
    route: [{destination: {host: rw}}]
  - rewrite: {uri: /base}
    route: [{destination: {host: rw}}]
"#,
    );
    let rw = |p: &str| e.decide(&Request::new("GET", "rw", p)).rewritten_path();
    assert_eq!(rw("/api/users?x=1").as_deref(), Some("/users?x=1"));
    assert_eq!(rw("/api/").as_deref(), Some("/"));
    assert_eq!(
        rw("/v1/users").as_deref(),
        Some("//users"),
        "Envoy keeps the slash"
    );
    assert_eq!(rw("/v1").as_deref(), Some("/"));
    assert_eq!(rw("/v1beta").as_deref(), Some("/beta"));
    assert_eq!(rw("/old?q").as_deref(), Some("/new?q"));
    assert_eq!(rw("/svc/foo/a/b?z=1").as_deref(), Some("/a/b/foo?z=1"));
    assert_eq!(rw("/up/x").as_deref(), Some("/down/x"));
    assert_eq!(
        rw("/other").as_deref(),
        Some("/baseother"),
        "no match: prefix `/` replaced"
    );
    let d = e.decide(&Request::new("GET", "rw", "/old"));
    assert_eq!(d.rewritten_authority(), Some("new.example.com"));
}

#[test]
fn redirect_and_direct_response() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rd, namespace: default}
spec:
  hosts: [rd.example.com]
  http:
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: new.example.com, redirectCode: 308}
  - match: [{uri: {prefix: /secure}}]
    redirect: {scheme: https, port: 8443}
  - match: [{uri: {prefix: /teapot}}]
    directResponse: {status: 418, body: {string: "I'm a teapot"}}
  - match: [{uri: {prefix: /bytes}}]
    directResponse: {status: 200, body: {bytes: "aGVsbG8="}}
"#,
    );
    match e
        .decide(&Request::new("GET", "rd.example.com", "/old?a=1"))
        .action()
    {
        Action::Redirect(r) => {
            assert_eq!(r.status, 308);
            assert_eq!(r.location, "http://new.example.com/new?a=1");
        }
        other => panic!("{other:?}"),
    }
    match e
        .decide(&Request::new("GET", "rd.example.com:80", "/secure/x"))
        .action()
    {
        Action::Redirect(r) => {
            assert_eq!(r.status, 301);
            assert_eq!(r.location, "https://rd.example.com:8443/secure/x");
        }
        other => panic!("{other:?}"),
    }
    match e
        .decide(&Request::new("GET", "rd.example.com", "/teapot"))
        .action()
    {
        Action::DirectResponse { status, body } => {
            assert_eq!(status, 418);
            assert_eq!(body, Some(&b"I'm a teapot"[..]));
        }
        other => panic!("{other:?}"),
    }
    match e
        .decide(&Request::new("GET", "rd.example.com", "/bytes"))
        .action()
    {
        Action::DirectResponse { body, .. } => assert_eq!(body, Some(&b"hello"[..])),
        other => panic!("{other:?}"),
    }
    let d = e.decide(&Request::new("GET", "rd.example.com", "/teapot"));
    assert!(d.retries().is_none() && d.choose(&mut SplitMix64(0)).is_none());
}

#[test]
fn weighted_choice_statistics() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: w, namespace: default}
spec:
  hosts: [w]
  http:
  - route:
    - {destination: {host: w, subset: a}, weight: 70}
    - {destination: {host: w, subset: zero}, weight: 0}
    - {destination: {host: w, subset: b}, weight: 20}
    - {destination: {host: w, subset: c}, weight: 10}
"#,
    );
    let d = e.decide(&Request::new("GET", "w", "/"));
    let route = d.route().unwrap();
    assert_eq!(route.len(), 3, "zero weight dropped");
    assert_eq!(route.total_weight(), 100);
    let mut rng = SplitMix64(42);
    let mut counts = std::collections::BTreeMap::new();
    let n = 100_000;
    for _ in 0..n {
        let s = d.choose(&mut rng).unwrap().subset.unwrap();
        *counts.entry(s).or_insert(0u32) += 1;
    }
    for (s, want) in [("a", 0.7), ("b", 0.2), ("c", 0.1)] {
        let got = f64::from(counts[s]) / f64::from(n);
        assert!((got - want).abs() < 0.01, "{s}: {got} vs {want}");
    }
    assert!(!counts.contains_key("zero"));
    // Sticky choice: stable per key and spread across destinations.
    let a = d.choose_sticky(b"user-1").unwrap().subset;
    for _ in 0..10 {
        assert_eq!(d.choose_sticky(b"user-1").unwrap().subset, a);
    }
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..200 {
        seen.insert(
            d.choose_sticky(format!("user-{i}").as_bytes())
                .unwrap()
                .subset,
        );
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(decision::stable_hash(b"abc"), decision::stable_hash(b"abc"));
}

#[test]
fn retries_defaults_and_overrides() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [r]
  http:
  - match: [{uri: {prefix: /default}}]
    route: [{destination: {host: r}}]
  - match: [{uri: {prefix: /off}}]
    retries: {attempts: 0}
    route: [{destination: {host: r}}]
  - match: [{uri: {prefix: /custom}}]
    timeout: 5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error, 503,connect-failure,429"}
    route: [{destination: {host: r}}]
  - match: [{uri: {prefix: /hash}}]
    route: [{destination: {host: hashed}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hashed, namespace: default}
spec:
  host: hashed
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
"#,
    );
    let d = e.decide(&Request::new("GET", "r", "/default"));
    let r = d.retries().unwrap();
    assert_eq!(r.attempts, 2);
    assert_eq!(
        r.retry_on,
        "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
    );
    assert_eq!(r.retriable_status_codes, vec![503]);
    assert!(r.istio_default && r.retry_previous_hosts);
    assert_eq!(r.host_selection_retry_max_attempts, 5);
    assert_eq!(d.timeout(), None);

    assert!(e
        .decide(&Request::new("GET", "r", "/off"))
        .retries()
        .is_none());

    let d = e.decide(&Request::new("GET", "r", "/custom"));
    let r = d.retries().unwrap();
    assert_eq!(r.attempts, 3);
    assert_eq!(
        r.retry_on,
        "gateway-error,connect-failure,retriable-status-codes"
    );
    assert_eq!(r.retriable_status_codes, vec![503, 429]);
    assert_eq!(r.per_try_timeout, Some(Duration::from_secs(2)));
    assert!(!r.istio_default);
    assert_eq!(d.timeout(), Some(Duration::from_secs(5)));

    let r = e.decide(&Request::new("GET", "r", "/hash"));
    assert!(
        !r.retries().unwrap().retry_previous_hosts,
        "consistent hash: no previous-hosts predicate"
    );
}

#[test]
fn fault_percentages_follow_istiod() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: f, namespace: default}
spec:
  hosts: [f]
  http:
  - match: [{uri: {prefix: /unset}}]
    fault: {delay: {fixedDelay: 5s}, abort: {httpStatus: 503}}
    route: [{destination: {host: f}}]
  - match: [{uri: {prefix: /set}}]
    fault:
      delay: {fixedDelay: 1.5s, percentage: {value: 0.1}}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}
    route: [{destination: {host: f}}]
  - match: [{uri: {prefix: /legacy}}]
    fault: {delay: {fixedDelay: 1s, percent: 30}}
    route: [{destination: {host: f}}]
"#,
    );
    let d = e.decide(&Request::new("GET", "f", "/unset"));
    let f = d.fault().unwrap();
    // istiod: no `percentage` → 0% (istio/istio#36303), not "all requests".
    assert_eq!(f.delay.as_ref().unwrap().percentage, Percentage::NONE);
    assert_eq!(f.abort.as_ref().unwrap().percentage, Percentage::NONE);
    let mut rng = SplitMix64(3);
    assert!(
        (0..1000).all(|_| f.sample_abort(&mut rng).is_none() && f.sample_delay(&mut rng).is_none())
    );

    let d = e.decide(&Request::new("GET", "f", "/set"));
    let f = d.fault().unwrap();
    let delay = f.delay.as_ref().unwrap();
    assert_eq!(delay.fixed_delay, Duration::from_millis(1500));
    assert_eq!(delay.percentage.per_million(), 1000);
    assert_eq!(
        f.abort.as_ref().unwrap().error,
        AbortError::Grpc {
            name: "UNAVAILABLE".into(),
            code: 14
        }
    );
    assert!(f.sample_abort(&mut rng).is_some());
    let hits = (0..100_000)
        .filter(|_| f.sample_delay(&mut rng).is_some())
        .count();
    assert!((50..=150).contains(&hits), "0.1% of 100k: {hits}");

    let d = e.decide(&Request::new("GET", "f", "/legacy"));
    assert_eq!(
        d.fault()
            .unwrap()
            .delay
            .as_ref()
            .unwrap()
            .percentage
            .percent(),
        30.0
    );
}

#[test]
fn mirror_percentages() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: m, namespace: default}
spec:
  hosts: [m]
  http:
  - match: [{uri: {prefix: /all}}]
    mirror: {host: shadow, subset: v2}
    route: [{destination: {host: m}}]
  - match: [{uri: {prefix: /some}}]
    mirror: {host: shadow}
    mirrorPercentage: {value: 12.5}
    mirrors:
    - destination: {host: a}
    - destination: {host: b}
      percentage: {value: 0}
    - destination: {host: c, port: {number: 8080}}
      percentage: {value: 5}
    route: [{destination: {host: m}}]
  - match: [{uri: {prefix: /zero}}]
    mirror: {host: shadow}
    mirrorPercentage: {value: 0}
    route: [{destination: {host: m}}]
"#,
    );
    let d = e.decide(&Request::new("GET", "m", "/all"));
    let ms: Vec<_> = d.mirrors().collect();
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].percentage, Percentage::ALL);
    assert_eq!(
        ms[0].destination.cluster,
        "outbound|80|v2|shadow.default.svc.cluster.local"
    );
    let d = e.decide(&Request::new("GET", "m", "/some"));
    let ms: Vec<_> = d.mirrors().collect();
    let got: Vec<(&str, f64)> = ms
        .iter()
        .map(|m| (m.destination.host, m.percentage.percent()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("shadow.default.svc.cluster.local", 12.5),
            ("a.default.svc.cluster.local", 100.0),
            ("c.default.svc.cluster.local", 5.0)
        ]
    );
    assert_eq!(
        ms[2].destination.cluster,
        "outbound|8080||c.default.svc.cluster.local"
    );
    assert_eq!(
        e.decide(&Request::new("GET", "m", "/zero"))
            .mirrors()
            .count(),
        0
    );
}

#[test]
fn cluster_naming_and_default_routes() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec:
  hosts: [api.external.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  ports: [{port: 9080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: default}
spec:
  ports: [{port: 9080, name: http}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: default}
spec:
  hosts: [c]
  http:
  - match: [{uri: {prefix: /explicit}}]
    route: [{destination: {host: c, port: {number: 7000}}}]
  - match: [{uri: {prefix: /se}}]
    route: [{destination: {host: api.external.com}}]
  - match: [{uri: {prefix: /svc}}]
    route: [{destination: {host: ratings}}]
  - route: [{destination: {host: c}}]
"#,
    );
    let cluster = |a: &str, p: &str| {
        e.decide(&Request::new("GET", a, p))
            .choose(&mut SplitMix64(0))
            .map(|d| d.cluster.into_owned())
    };
    assert_eq!(
        cluster("c", "/explicit").as_deref(),
        Some("outbound|7000||c.default.svc.cluster.local")
    );
    assert_eq!(
        cluster("c", "/se").as_deref(),
        Some("outbound|443||api.external.com")
    );
    assert_eq!(
        cluster("c", "/svc").as_deref(),
        Some("outbound|9080||ratings.default.svc.cluster.local")
    );
    assert_eq!(
        cluster("c:8080", "/x").as_deref(),
        Some("outbound|8080||c.default.svc.cluster.local")
    );
    assert_eq!(
        cluster("c", "/x").as_deref(),
        Some("outbound|80||c.default.svc.cluster.local")
    );
    // A declared service without VirtualService: Istio's default route.
    let d = e.decide(&Request::new("GET", "details:9080", "/"));
    assert!(d.is_match() && d.virtual_service().is_none());
    assert_eq!(d.rule_name(), Some("default"));
    assert!(d.retries().unwrap().istio_default);
    assert!(d.report().default_route);
    assert_eq!(
        cluster("details", "/").as_deref(),
        Some("outbound|9080||details.default.svc.cluster.local")
    );
}

#[test]
fn header_operations_and_cors() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: h, namespace: default}
spec:
  hosts: [h]
  http:
  - headers:
      request:
        set: {x-a: "1", ":authority": rewritten.example.com}
        add: {x-b: "2"}
        remove: [x-c, host]
      response:
        remove: [server]
    corsPolicy:
      allowOrigins: [{exact: "https://a.example.com"}]
      allowMethods: [GET]
    route:
    - destination: {host: h, subset: v1}
      weight: 90
      headers: {response: {set: {x-version: v1}}}
    - destination: {host: h, subset: v2}
      weight: 10
"#,
    );
    let d = e.decide(&Request::new("GET", "h", "/"));
    let h = d.headers().unwrap();
    assert_eq!(h.request.set, vec![("x-a".to_string(), "1".to_string())]);
    assert_eq!(h.request.add, vec![("x-b".to_string(), "2".to_string())]);
    assert_eq!(h.request.remove, vec!["x-c".to_string()]);
    assert_eq!(h.response.remove, vec!["server".to_string()]);
    assert_eq!(d.rewritten_authority(), Some("rewritten.example.com"));
    let first = d.route().unwrap().destinations().next().unwrap();
    assert_eq!(
        first.headers.response.set,
        vec![("x-version".to_string(), "v1".to_string())]
    );
    assert!(d.cors().is_some());
    let json = serde_json::to_value(d.report()).unwrap();
    assert_eq!(json["cors"]["allowMethods"][0], "GET");
    assert_eq!(json["action"]["type"], "route");
    assert_eq!(json["action"]["destinations"][0]["probability"], 0.9);
    assert_eq!(json["retries"]["attempts"], 2);
}

#[test]
fn compile_errors_name_resource_and_path() {
    let errs = compile_errors(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [bad]
  http:
  - match: [{headers: {x: {regex: "a(b"}}}]
    timeout: 5 seconds
    route: [{destination: {host: bad}}]
"#,
    );
    let re = errs.iter().find(|d| d.code == codes::MR301).unwrap();
    assert_eq!(re.resource, "VirtualService default/bad");
    assert_eq!(re.path, "spec.http[0].match[0].headers.x");
    assert_eq!(re.file.as_deref(), Some("test.yaml"));
    assert!(re.line.is_some());
    let du = errs.iter().find(|d| d.code == codes::MR302).unwrap();
    assert_eq!(du.path, "spec.http[0].timeout");

    let errs = compile_errors(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [bad]
  http:
  - match: [{uri: {exact: /a, prefix: /b}}]
    redirect: {uri: /x, redirectCode: 399}
  - route:
    - {destination: {host: a}, weight: 0}
    - {destination: {host: b}, weight: 0}
"#,
    );
    let paths: Vec<&str> = errs.iter().map(|d| d.path.as_str()).collect();
    assert!(paths.contains(&"spec.http[0].match[0].uri"), "{paths:?}");
    assert!(
        paths.contains(&"spec.http[0].redirect.redirectCode"),
        "{paths:?}"
    );
    assert!(paths.contains(&"spec.http[1].route"), "{paths:?}");
}

#[test]
fn undefined_subset_is_a_warning() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: s, namespace: default}
spec:
  hosts: [s]
  http: [{route: [{destination: {host: s, subset: v9}}]}]
"#,
    );
    let w = &e.warnings()[0];
    assert_eq!(w.code, codes::MR305);
    assert_eq!(w.path, "spec.http[0].route[0].destination.subset");
    let d = e.decide(&Request::new("GET", "s", "/"));
    assert_eq!(
        d.choose(&mut SplitMix64(0)).unwrap().subset_defined,
        Some(false)
    );
}

#[test]
fn explanation_says_why_earlier_rules_failed() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: x, namespace: default}
spec:
  hosts: [x]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: x, subset: v2}}]
  - match: [{method: {exact: POST}, uri: {prefix: /api}}]
    route: [{destination: {host: x, subset: post}}]
  - match: [{queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: x, subset: debug}}]
  - route: [{destination: {host: x, subset: v1}}]
"#,
    );
    let h = [("end-user", "bob")];
    let x = e.explain(&Request::new("GET", "x", "/x").with_headers(&h));
    assert_eq!(x.rules.len(), 4);
    let msgs: Vec<String> = x.rules[..3]
        .iter()
        .flat_map(|r| {
            r.failed
                .iter()
                .flat_map(|m| m.mismatches.iter().map(|mm| mm.to_string()))
        })
        .collect();
    assert_eq!(
        msgs,
        vec![
            r#"match[0].headers.end-user: exact "jason" != "bob""#.to_string(),
            r#"match[0].method: exact "POST" != "GET""#.to_string(),
            r#"match[0].uri: prefix "/api" does not match "/x""#.to_string(),
            r#"match[0].queryParams.debug: query parameter "debug" is absent (exact "1")"#
                .to_string(),
        ]
    );
    assert!(x.rules[3].matched && x.rules[3].matched_match.is_none());
    assert_eq!(
        x.rules[0].failed[0].mismatches[0].path,
        "spec.http[0].match[0].headers.end-user"
    );
    let text = x.to_text();
    assert!(text.contains("Decision: route"), "{text}");
    assert!(
        text.contains("outbound|80|v1|x.default.svc.cluster.local"),
        "{text}"
    );
    // A missing header is explained too.
    let x = e.explain(&Request::new("GET", "x", "/x"));
    assert!(x.rules[0].failed[0].mismatches[0]
        .message
        .contains("absent"));
}

// ---- property test: the URI index against a linear scan ----

struct Gen(SplitMix64);

impl Gen {
    fn below(&mut self, n: u32) -> u32 {
        self.0.next_u32() % n.max(1)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u32) as usize]
    }
}

const SEGMENTS: &[&str] = &[
    "",
    "/",
    "/a",
    "/a/",
    "/a/b",
    "/A/b",
    "/ab",
    "/b",
    "/b/c",
    "/api",
    "/api/v1",
    "/API/V1/x",
];

fn gen_uri(g: &mut Gen) -> String {
    let base = g.pick(SEGMENTS);
    match g.below(5) {
        0 => format!(
            "{{exact: \"{}\"}}",
            if base.is_empty() { "/" } else { base }
        ),
        1 | 2 => format!("{{prefix: \"{base}\"}}"),
        3 => format!("{{regex: \"{}[a-z/]*\"}}", base),
        _ => format!(
            "{{regex: \"{}\"}}",
            g.pick(&[".*", "/a.*", "(/a|/b)/.*", "/[ab]+"])
        ),
    }
}

fn gen_vs(g: &mut Gen, rules: usize) -> String {
    let mut y = String::from(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: p, namespace: default}\nspec:\n  hosts: [p]\n  http:\n",
    );
    for i in 0..rules {
        let nm = g.below(4);
        if nm == 0 {
            y.push_str("  - route: [{destination: {host: p}}]\n");
            continue;
        }
        y.push_str("  - match:\n");
        for _ in 0..nm.min(2) {
            let mut fields = Vec::new();
            if g.below(4) != 0 {
                fields.push(format!("uri: {}", gen_uri(g)));
                if g.below(3) == 0 {
                    fields.push("ignoreUriCase: true".to_string());
                }
            }
            if g.below(4) == 0 {
                fields.push(format!(
                    "headers: {{x: {{exact: \"{}\"}}}}",
                    g.pick(&["1", "2"])
                ));
            }
            if g.below(6) == 0 {
                fields.push(format!("method: {{exact: {}}}", g.pick(&["GET", "POST"])));
            }
            if fields.is_empty() {
                fields.push("method: {prefix: \"\"}".to_string());
            }
            y.push_str(&format!("    - {{{}}}\n", fields.join(", ")));
        }
        y.push_str(&format!(
            "    route: [{{destination: {{host: p, subset: r{i}}}}}]\n"
        ));
    }
    y
}

#[test]
fn property_index_agrees_with_linear_scan() {
    let mut g = Gen(SplitMix64(0x5eed));
    let mut routed = 0;
    for round in 0..60 {
        let n = 1 + g.below(40) as usize;
        let yaml = gen_vs(&mut g, n);
        let e = engine(&yaml);
        for _ in 0..200 {
            let mut path = g.pick(SEGMENTS).to_string();
            if g.below(2) == 0 {
                path.push_str(g.pick(&["", "/", "x", "/c", "/b/c"]));
            }
            if path.is_empty() {
                path.push('/');
            }
            if g.below(4) == 0 {
                path.push_str("?q=1");
            }
            let hv = g.pick(&["1", "2", "3"]);
            let headers = [("x", hv)];
            let method = g.pick(&["GET", "POST"]);
            let req = Request::new(method, "p", &path).with_headers(&headers);
            let a = e.decide_with(&req, false);
            let b = e.decide_with(&req, true);
            assert_eq!(
                (a.rule_index(), a.match_index(), a.matched_len),
                (b.rule_index(), b.match_index(), b.matched_len),
                "round {round}: {method} {path} x={hv}\n{yaml}"
            );
            if a.is_match() {
                routed += 1;
            }
            // The explanation's winner is the decision's.
            if g.below(20) == 0 {
                let x = e.explain(&req);
                let winner = x.rules.iter().find(|r| r.matched).map(|r| r.index);
                assert_eq!(winner, a.rule_index(), "explain round {round}: {path}");
            }
        }
    }
    assert!(
        routed > 1000,
        "the generator should produce matches: {routed}"
    );
}

#[test]
fn rule_keys_and_destination_indices_identify_without_names() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web]
  http:
  - match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}]
    route:
    - {destination: {host: web, subset: v1}, weight: 50}
    - {destination: {host: web, subset: v2}, weight: 50}
    mirror: {host: shadow}
  - route: [{destination: {host: web}}]
"#,
    );
    let key = |path: &str| e.decide(&Request::new("GET", "web", path)).rule_key();
    assert!(key("/a").is_some());
    assert_eq!(
        key("/a"),
        key("/b"),
        "one key per rule, whichever match block"
    );
    assert_ne!(key("/a"), key("/c"));
    assert_eq!(
        e.decide(&Request::new("GET", "other", "/")).rule_key(),
        None
    );
    let d = e.decide(&Request::new("GET", "web", "/a"));
    let Some(route) = d.route() else {
        panic!("{d:?}")
    };
    let all: Vec<(u32, String)> = route
        .destinations()
        .map(|d| (d.index, d.cluster.into_owned()))
        .collect();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].0, all[1].0), (0, 1));
    for seed in 0..50 {
        let Some(c) = route.choose(&mut SplitMix64(seed)) else {
            panic!("no destination")
        };
        assert_eq!(all[c.index as usize].1, c.cluster, "index of {c:?}");
    }
    assert_eq!(
        d.mirrors().map(|m| m.destination.index).collect::<Vec<_>>(),
        [0]
    );
}

/// istiod resolves every VirtualService's short names in its own namespace before it
/// merges delegates (`initVirtualServices`: `resolveVirtualServiceShortnames` on each,
/// then `mergeVirtualServicesIfNeeded`; istio/istio#30387, fixed by #30423): a
/// delegate's `route`, `mirror`, `mirrors` and match `gateways` are the delegate
/// namespace's, while what the merged rule inherits from the root stays the root's.
#[test]
fn delegate_short_names_resolve_in_the_delegate_namespace() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: istio-system}
spec:
  hosts: [bookinfo.example.com]
  gateways: [ingress, mesh]
  http:
  - match: [{uri: {prefix: /pp}}]
    mirror: {host: shadow}
    delegate: {name: pp, namespace: nsa}
  - match: [{uri: {prefix: /ratings}}]
    delegate: {name: ratings, namespace: nsa}
  - match: [{uri: {prefix: /x}, gateways: [ingress]}]
    delegate: {name: x, namespace: nsa}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: x, namespace: nsa}
spec:
  http:
  - name: nsa-gateway
    match: [{uri: {prefix: /x/a}, gateways: [ingress]}]
    route: [{destination: {host: xa}}]
  - name: root-gateway
    match: [{uri: {prefix: /x/b}, gateways: [istio-system/ingress]}]
    route: [{destination: {host: xb}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pp, namespace: nsa}
spec:
  http:
  - match: [{uri: {prefix: /pp/gw}, gateways: [ingress]}]
    route: [{destination: {host: productpage, subset: gw}}]
  - route: [{destination: {host: productpage}}]
    mirrors: [{destination: {host: pp-shadow}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: nsa}
spec:
  http:
  - route: [{destination: {host: ratings}}]
    mirror: {host: ratings-shadow}
"#;
    let e = engine(yaml);
    let d = e.decide(&Request::new("GET", "bookinfo.example.com", "/pp"));
    let dest = d.choose(&mut SplitMix64(0)).unwrap();
    assert_eq!(dest.host, "productpage.nsa.svc.cluster.local");
    let mirrors: Vec<&str> = d.mirrors().map(|m| m.destination.host).collect();
    assert_eq!(
        mirrors,
        [
            // `mirror` inherited from the root rule: the root's namespace.
            "shadow.istio-system.svc.cluster.local",
            // `mirrors` of the delegate rule: the delegate's.
            "pp-shadow.nsa.svc.cluster.local",
        ]
    );
    let d = e.decide(&Request::new("GET", "bookinfo.example.com", "/ratings"));
    let ms: Vec<&str> = d.mirrors().map(|m| m.destination.host).collect();
    assert_eq!(ms, ["ratings-shadow.nsa.svc.cluster.local"]);

    // The delegate's match gateway `ingress` is nsa/ingress, not the root's
    // istio-system/ingress: on istio-system/ingress that block never matches.
    let gw = engine_opts(
        yaml,
        &EngineOptions {
            gateway: Some("istio-system/ingress".into()),
            ..Default::default()
        },
    );
    let d = gw.decide(&Request::new("GET", "bookinfo.example.com", "/pp/gw"));
    assert_eq!(d.delegate(), Some(("VirtualService nsa/pp", 1)));
    // Match conflicts compare resolved names: nsa/ingress is not a subset of the
    // root's istio-system/ingress (ignored), istio-system/ingress is.
    let d = gw.decide(&Request::new("GET", "bookinfo.example.com", "/x/a"));
    assert!(!d.is_match(), "{d:?}");
    let d = gw.decide(&Request::new("GET", "bookinfo.example.com", "/x/b"));
    assert_eq!(d.rule_name(), Some("root-gateway"));
}

/// istiod `BuildHTTPRoutesForVirtualService` stops a VirtualService's routes at its first
/// catch-all route (a rule without `match`, or a match block that translates to prefix
/// `/` or regex `.*` without header/query matchers); only then does the gateway's
/// `SortVHostRoutes` move catch-alls last. Rules after a catch-all never reach Envoy:
/// sorting must not bring them back in front of it.
#[test]
fn gateway_drops_rules_after_a_catch_all_of_the_same_virtual_service() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [shop.example.com]
  gateways: [ingress]
  http:
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: a1}}]
  - route: [{destination: {host: a-all}}]
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: a-dead}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: default}
spec:
  hosts: [shop.example.com]
  gateways: [ingress]
  http:
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: b}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c, namespace: default}
spec:
  hosts: [ports.example.com]
  gateways: [ingress]
  http:
  - match: [{uri: {prefix: /}, port: 8080}, {uri: {prefix: /other}}]
    route: [{destination: {host: c-8080}}]
  - match: [{uri: {prefix: /c}}]
    route: [{destination: {host: c}}]
  - match: [{uri: {prefix: /d}}, {uri: {prefix: /e}}, {uri: {exact: /f}}]
    route: [{destination: {host: def}}]
"#;
    let gw = engine_opts(
        yaml,
        &EngineOptions {
            gateway: Some("ingress".into()),
            ..Default::default()
        },
    );
    let host = |d: &Decision<'_>| d.choose(&mut SplitMix64(0)).map(|x| x.host.to_owned());
    let d = gw.decide(&Request::new("GET", "shop.example.com", "/a/1"));
    assert_eq!(host(&d).as_deref(), Some("a1.default.svc.cluster.local"));
    // a's third rule follows its catch-all: Envoy gets b's /b route, then a's catch-all.
    for linear in [false, true] {
        let d = gw.decide_with(&Request::new("GET", "shop.example.com", "/b/1"), linear);
        assert_eq!(d.virtual_service(), Some("VirtualService default/b"));
        let d = gw.decide_with(&Request::new("GET", "shop.example.com", "/x"), linear);
        assert_eq!(host(&d).as_deref(), Some("a-all.default.svc.cluster.local"));
    }
    // A catch-all that exists only on listener port 8080 ends c's routes there
    // (with the rest of its own rule's match blocks), not on port 80.
    let on = |port| gw.decide(&Request::new("GET", "ports.example.com", "/c/1").with_port(port));
    assert_eq!(
        host(&on(80)).as_deref(),
        Some("c.default.svc.cluster.local")
    );
    assert_eq!(
        host(&on(8080)).as_deref(),
        Some("c-8080.default.svc.cluster.local")
    );
    // The same through the URI index (more than a handful of entries) and a linear scan.
    for linear in [false, true] {
        let at = |port, path| {
            let d = gw.decide_with(
                &Request::new("GET", "ports.example.com", path).with_port(port),
                linear,
            );
            host(&d)
        };
        let def = Some("def.default.svc.cluster.local");
        let c8080 = Some("c-8080.default.svc.cluster.local");
        assert_eq!(at(80, "/e/1").as_deref(), def);
        assert_eq!(at(8080, "/e/1").as_deref(), c8080);
        assert_eq!(at(8080, "/f").as_deref(), c8080);
    }
    let x = gw.explain(&Request::new("GET", "ports.example.com", "/other").with_port(8080));
    assert!(x.decision.is_match());
}

/// Applies borrowed header operations the way Envoy's header map does (test helper).
fn apply_header_ops(headers: &mut Vec<(String, String)>, ops: &[HeaderOpRef<'_>]) {
    for op in ops {
        match *op {
            HeaderOpRef::Remove(k) => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k)),
            HeaderOpRef::Set(k, v) => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                headers.push((k.into(), v.into()));
            }
            HeaderOpRef::Add(k, v) => headers.push((k.into(), v.into())),
        }
    }
}

/// istiod `processDestination`: with a single destination, its `headers` are appended to
/// the rule's route-level `request_headers_to_add`/`_remove` (so a destination `set` comes
/// after, and wins over, the rule's), and Envoy's `HeaderParser` removes before it sets
/// or adds. With several destinations they sit on the weighted cluster
/// (`processWeightedDestination`), applied before the route's: the rule's `set` wins.
#[test]
fn single_destination_header_ops_are_appended_to_the_rules_at_route_level() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: h, namespace: default}
spec:
  hosts: [h]
  http:
  - match: [{uri: {prefix: /one}}]
    headers:
      request: {set: {x-a: rule}, remove: [x-b]}
      response: {set: {x-r: rule}}
    route:
    - destination: {host: h}
      headers:
        request: {set: {x-a: dest, x-b: dest}}
        response: {set: {x-r: dest}}
  - headers:
      request: {set: {x-a: rule}}
    route:
    - destination: {host: h, subset: a}
      weight: 50
      headers: {request: {set: {x-a: dest}}}
    - destination: {host: h, subset: b}
      weight: 50
      headers: {request: {set: {x-a: dest}}}
"#,
    );
    let run = |path: &str, response: bool| -> Vec<(String, String)> {
        let d = e.decide(&Request::new("GET", "h", path));
        let dest = d.choose(&mut SplitMix64(1)).unwrap();
        let mut ops = Vec::new();
        d.header_ops(&dest, response, &mut ops);
        let mut h = vec![("x-b".to_owned(), "client".to_owned())];
        apply_header_ops(&mut h, &ops);
        h.sort();
        h
    };
    let kv = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    };
    assert_eq!(run("/one", false), kv(&[("x-a", "dest"), ("x-b", "dest")]));
    assert_eq!(run("/one", true), kv(&[("x-b", "client"), ("x-r", "dest")]));
    assert_eq!(
        run("/two", false),
        kv(&[("x-a", "rule"), ("x-b", "client")])
    );
}

/// Where consistent hashing drops the previous-hosts retry predicate, as istiod decides it:
/// `hashForHTTPDestination` reads port-level settings only for a destination that names its
/// port (`portLevelSettingsConsistentHash` checks `dst.Port`), not a port inferred from a
/// one-port service; and a service's default route (no VirtualService) gets
/// `retry.ConvertPolicy(default, false)` from `BuildDefaultHTTPOutboundRoute`: always the
/// predicate, whatever its DestinationRule hashes on.
#[test]
fn previous_hosts_predicate_follows_istiod_consistent_hash_lookup() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: pls, namespace: default}
spec:
  hosts: [pls.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pls, namespace: default}
spec:
  host: pls
  trafficPolicy:
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {consistentHash: {httpHeaderName: x-user}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: plain, namespace: default}
spec:
  hosts: [plain.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: plain, namespace: default}
spec:
  host: plain
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pls, namespace: default}
spec:
  hosts: [pls]
  http:
  - match: [{uri: {prefix: /named}}]
    route: [{destination: {host: pls, port: {number: 9080}}}]
  - route: [{destination: {host: pls}}]
"#,
    );
    let prev = |authority: &str, path: &str| {
        let d = e.decide(&Request::new("GET", authority, path));
        d.retries().map(|r| r.retry_previous_hosts)
    };
    assert_eq!(prev("pls", "/named"), Some(false), "port named: hashed");
    assert_eq!(
        prev("pls", "/inferred"),
        Some(true),
        "port inferred: not hashed"
    );
    assert_eq!(prev("plain:8080", "/"), Some(true), "default route");
}

/// Envoy `RouteEntryImplBase::newUri` puts a `/` in front of a redirect path that lacks
/// one; istiod passes `redirect.uri` through as `path_redirect`, and its validation does
/// not require the slash.
#[test]
fn redirect_uri_without_leading_slash_gets_one_like_envoy() {
    let e = engine(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [r.example.com]
  http:
  - redirect: {uri: new/place}
"#,
    );
    let d = e.decide(&Request::new("GET", "r.example.com", "/old?x=1"));
    let Action::Redirect(r) = d.action() else {
        panic!("not a redirect: {d:?}");
    };
    assert_eq!(r.path, "/new/place?x=1");
    assert_eq!(r.location, "http://r.example.com/new/place?x=1");
}
