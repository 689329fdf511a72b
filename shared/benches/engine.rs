//! Engine benchmark: nanoseconds per decision for 1/10/100/1,000 rules, the
//! request matching the LAST rule (the worst case for first-match-wins).
//!
//! Cases:
//! - `prefix`: rule i matches `uri.prefix: /svc{i}/`.
//! - `regex`: rule i matches `uri.regex: /svc{i}/items/[0-9]+` AND header
//!   `x-user` regex `user-[0-9]+` (the regex's literal prefix `/svc{i}/items/` is indexed).
//! - `regex-unindexed`: rule i matches `uri.regex: (/v1|/v2)/svc{i}/.*` (alternation:
//!   no literal prefix, every rule is a candidate) — the index's worst case.
//!
//! Each case is also measured without the index (`decide_unindexed`, a linear scan).
//!
//! Run: `cargo bench -p meshroute-model --bench engine`
//! Prints a table and writes `target/bench/engine.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{black_box, BenchmarkId, Criterion};
use meshroute_model::engine::{Engine, EngineOptions, Request};

const SIZES: [usize; 4] = [1, 10, 100, 1000];
const CASES: [&str; 3] = ["prefix", "regex", "regex-unindexed"];

fn yaml(case: &str, n: usize) -> String {
    let mut y = String::from(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bench, namespace: default}\nspec:\n  hosts: [bench.example.com]\n  http:\n",
    );
    for i in 0..n {
        let m = match case {
            "prefix" => format!("{{uri: {{prefix: \"/svc{i}/\"}}}}"),
            "regex" => format!(
                "{{uri: {{regex: \"/svc{i}/items/[0-9]+\"}}, headers: {{x-user: {{regex: \"user-[0-9]+\"}}}}}}"
            ),
            _ => format!("{{uri: {{regex: \"(/v1|/v2)/svc{i}/.*\"}}}}"),
        };
        y.push_str(&format!(
            "  - match: [{m}]\n    route: [{{destination: {{host: svc{i}.example.com}}}}]\n"
        ));
    }
    y
}

fn path(case: &str, n: usize) -> String {
    let last = n - 1;
    match case {
        "prefix" => format!("/svc{last}/items/42"),
        "regex" => format!("/svc{last}/items/42"),
        _ => format!("/v2/svc{last}/items/42"),
    }
}

fn compile(case: &str, n: usize) -> Engine {
    let loaded = meshroute_model::load_str(&yaml(case, n), None);
    match Engine::compile(loaded.resources(), &EngineOptions::default()) {
        Ok(e) => e,
        Err(errs) => {
            for e in errs {
                eprintln!("{e}");
            }
            std::process::exit(2);
        }
    }
}

#[derive(Default)]
struct Samples(Vec<f64>);

impl Samples {
    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

struct Row {
    case: &'static str,
    rules: usize,
    indexed: Samples,
    linear: Samples,
}

fn main() {
    let rows: RefCell<Vec<Row>> = RefCell::new(Vec::new());
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    {
        let mut group = c.benchmark_group("engine");
        for case in CASES {
            for n in SIZES {
                let engine = compile(case, n);
                let p = path(case, n);
                let headers = [("x-user", "user-7"), ("accept", "*/*")];
                let req = Request::new("GET", "bench.example.com", &p).with_headers(&headers);
                let want = Some(n - 1);
                assert_eq!(engine.decide(&req).rule_index(), want, "{case}/{n}");
                assert_eq!(
                    engine.decide_unindexed(&req).rule_index(),
                    want,
                    "{case}/{n}"
                );
                let row = rows.borrow().len();
                rows.borrow_mut().push(Row {
                    case,
                    rules: n,
                    indexed: Samples::default(),
                    linear: Samples::default(),
                });
                for linear in [false, true] {
                    let id = BenchmarkId::new(
                        if linear {
                            format!("{case}-linear")
                        } else {
                            case.to_string()
                        },
                        n,
                    );
                    group.bench_with_input(id, &n, |b, _| {
                        b.iter_custom(|iters| {
                            let start = Instant::now();
                            for _ in 0..iters {
                                let d = if linear {
                                    engine.decide_unindexed(black_box(&req))
                                } else {
                                    engine.decide(black_box(&req))
                                };
                                black_box(d.rule_index());
                            }
                            let el = start.elapsed();
                            let ns = el.as_nanos() as f64 / iters.max(1) as f64;
                            if let Some(r) = rows.borrow_mut().get_mut(row) {
                                if linear {
                                    r.linear.0.push(ns);
                                } else {
                                    r.indexed.0.push(ns);
                                }
                            }
                            el
                        })
                    });
                }
            }
        }
        group.finish();
    }
    c.final_summary();

    let rows = rows.into_inner();
    println!();
    println!(
        "{:<16} {:>6} {:>16} {:>16} {:>9}",
        "case", "rules", "ns/decision", "linear ns", "speedup"
    );
    let mut json_rows = Vec::new();
    for r in &rows {
        let (i, l) = (r.indexed.median(), r.linear.median());
        println!(
            "{:<16} {:>6} {:>16.1} {:>16.1} {:>8.1}x",
            r.case,
            r.rules,
            i,
            l,
            l / i
        );
        json_rows.push(serde_json::json!({
            "case": r.case,
            "rules": r.rules,
            "ns_per_decision": (i * 10.0).round() / 10.0,
            "linear_ns_per_decision": (l * 10.0).round() / 10.0,
        }));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            manifest.parent().unwrap_or(&manifest).join("target")
        });
    let dir = target.join("bench");
    let out = serde_json::json!({
        "benchmark": "engine",
        "command": "cargo bench -p meshroute-model --bench engine",
        "unit": "ns per decision (median of criterion samples), request matching the last rule",
        "results": json_rows,
    });
    let file = dir.join("engine.json");
    let written = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::write(
            &file,
            serde_json::to_string_pretty(&out).unwrap_or_default(),
        )
    });
    match written {
        Ok(()) => println!("\nwrote {}", file.display()),
        Err(e) => eprintln!("cannot write {}: {e}", file.display()),
    }
}
