//! Hostile plugin configurations (`tests/hostile/cases.rs`, shared with the real-Envoy suite
//! `tests/e2e_hostile.rs`) compiled natively: each is refused with a diagnostic naming the
//! resource and path, or accepted and then decides like Istio. Plus the 10,000-rule
//! configuration and a pathological regex on a 50 KB header (linear time).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests/hostile/cases.rs"]
mod cases;

use std::time::{Duration, Instant};

use cases::{Behaviour, Expect, Input};
use meshroute_filter::config::describe;
use meshroute_filter::plan::{plan, Outcome, PlanSettings};
use meshroute_model::engine::{Request, SplitMix64};
use serde_json::json;

fn config_for(input: &Input) -> String {
    match input {
        Input::Raw(s) => s.clone(),
        Input::Spec(spec) => {
            json!({"resources": [cases::destination_rule(), cases::virtual_service(spec)]})
                .to_string()
        }
    }
}

/// Where a request for `reviews` with `headers` goes: `Some(subset)`, or `None` for a local reply.
fn route(
    c: &meshroute_filter::Compiled,
    rng: &mut SplitMix64,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<String> {
    let mut h: Vec<(String, String)> = vec![
        (":authority".into(), "reviews".into()),
        (":path".into(), path.into()),
        (":method".into(), "GET".into()),
    ];
    h.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let req = Request::from_headers(&h).with_source(&[], Some("default"));
    let d = c.engine.decide(&req);
    let settings = PlanSettings {
        cluster_header: "x-meshroute-cluster",
        sticky: None,
    };
    let p = plan(&d, &req, &settings, rng);
    match p.outcome {
        Outcome::Reply(_) => None,
        Outcome::Forward => Some(p.destination.split('|').nth(2).unwrap_or("").to_owned()),
    }
}

#[test]
fn hostile_configurations_are_refused_with_resource_and_path_or_behave_like_istio() {
    let mut rng = SplitMix64(42);
    for case in cases::cases() {
        let raw = config_for(&case.input);
        let t = Instant::now();
        let result = meshroute_filter::compile(raw.as_bytes());
        let took = t.elapsed();
        assert!(took < Duration::from_secs(5), "{}: {took:?}", case.name);
        match (&case.expect, result) {
            (Expect::Reject { resource, path }, Err(diags)) => {
                let lines: Vec<String> = diags.iter().map(describe).collect();
                let want = format!("resource \"{resource}\" path \"{path}");
                assert!(
                    lines.iter().any(|l| l.starts_with(&want)),
                    "{}: want {want:?}, got {lines:#?}",
                    case.name
                );
            }
            (Expect::Accept(b), Ok(c)) => match b {
                Behaviour::AllTo(s) => {
                    for _ in 0..50 {
                        assert_eq!(
                            route(&c, &mut rng, "/", &[]).as_deref(),
                            Some(*s),
                            "{}",
                            case.name
                        );
                    }
                }
                Behaviour::Split(subsets) => {
                    let seen: Vec<String> = (0..200)
                        .filter_map(|_| route(&c, &mut rng, "/", &[]))
                        .collect();
                    for s in *subsets {
                        assert!(
                            seen.iter().any(|x| x == s),
                            "{}: {s} never chosen",
                            case.name
                        );
                    }
                }
                Behaviour::NoRoute => {
                    assert_eq!(route(&c, &mut rng, "/", &[]), None, "{}", case.name)
                }
            },
            (Expect::Reject { .. }, Ok(_)) => panic!("{}: accepted, must be refused", case.name),
            (Expect::Accept(_), Err(d)) => panic!(
                "{}: refused, must be accepted: {:#?}",
                case.name,
                d.iter().map(describe).collect::<Vec<_>>()
            ),
        }
    }
}

#[test]
fn ten_thousand_rules_compile_and_route() {
    let raw = config_for(&Input::Spec(cases::many_rules(10_000)));
    let t = Instant::now();
    let c = meshroute_filter::compile(raw.as_bytes()).unwrap_or_else(|d| panic!("{d:?}"));
    let took = t.elapsed();
    eprintln!(
        "MEASURED compile of 10,000 rules ({} KB of JSON): {took:?}",
        raw.len() / 1024
    );
    let mut rng = SplitMix64(1);
    assert_eq!(route(&c, &mut rng, "/r9997", &[]).as_deref(), Some("v2"));
    assert_eq!(route(&c, &mut rng, "/r9998", &[]).as_deref(), Some("v3"));
    assert_eq!(route(&c, &mut rng, "/nope", &[]).as_deref(), Some("v1"));
    let t = Instant::now();
    for i in 0..1000 {
        route(&c, &mut rng, &format!("/r{}", i * 9), &[]);
    }
    eprintln!(
        "MEASURED 1,000 decisions over 10,000 rules: {:?}",
        t.elapsed()
    );
}

#[test]
fn pathological_regex_is_linear() {
    let raw = config_for(&Input::Spec(cases::evil_spec()));
    let c = meshroute_filter::compile(raw.as_bytes()).unwrap_or_else(|d| panic!("{d:?}"));
    let mut rng = SplitMix64(1);
    for n in [1_000, 10_000, 50_000] {
        let v = cases::evil_value(n);
        let t = Instant::now();
        let to = route(&c, &mut rng, "/", &[("x-evil", &v)]);
        let took = t.elapsed();
        eprintln!("MEASURED (a+)+$ on {n} bytes + '!': {took:?}");
        assert_eq!(to.as_deref(), Some("v1"), "no match");
        assert!(took < Duration::from_secs(2), "{n}: {took:?}");
    }
    let v = "a".repeat(50_000);
    assert_eq!(
        route(&c, &mut rng, "/", &[("x-evil", &v)]).as_deref(),
        Some("v3")
    );
}
