//! Load + analyze throughput on a generated 10,000-resource input.
//!
//! `cargo bench -p meshroute-model --bench analyze` runs each phase on the same
//! input in one process — YAML parse only, load (parse + typed model), load +
//! full check (validation, analyzers, lints) — prints a table with MB/s and
//! resources/s and the ratio of each phase to parsing, and writes
//! `target/bench/analyze.json`. `MESHROUTE_BENCH_RESOURCES` changes the size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic

use meshroute_model::yaml::{parse_stream, Limits};
use meshroute_model::{check, load_str, CheckOptions};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// A realistic mix: per service a Service, a DestinationRule with subsets and
/// policies, a VirtualService with header, prefix and weighted rules, and a ServiceEntry.
fn generate(resources: usize) -> String {
    let mut s = String::new();
    let services = resources.div_ceil(4);
    let mut n = 0;
    for i in 0..services {
        let ns = format!("team{}", i % 20);
        let _ = write!(
            s,
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\n  namespace: {ns}\nspec:\n  selector:\n    app: svc{i}\n  ports:\n  - name: http\n    port: 8080\n---\n"
        );
        let _ = write!(
            s,
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: svc{i}\n  namespace: {ns}\nspec:\n  host: svc{i}\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: 100\n      http:\n        http1MaxPendingRequests: 10\n    outlierDetection:\n      consecutive5xxErrors: 5\n      interval: 10s\n      baseEjectionTime: 30s\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n---\n"
        );
        let _ = write!(
            s,
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc{i}\n  namespace: {ns}\nspec:\n  hosts:\n  - svc{i}\n  http:\n  - name: jason\n    match:\n    - headers:\n        end-user:\n          exact: jason\n    route:\n    - destination:\n        host: svc{i}\n        subset: v2\n  - name: api\n    match:\n    - uri:\n        prefix: /api/\n      method:\n        exact: GET\n    retries:\n      attempts: 3\n      perTryTimeout: 2s\n    timeout: 10s\n    route:\n    - destination:\n        host: svc{i}\n        subset: v1\n  - name: canary\n    route:\n    - destination:\n        host: svc{i}\n        subset: v1\n      weight: 90\n    - destination:\n        host: svc{i}\n        subset: v2\n      weight: 10\n---\n"
        );
        let _ = write!(
            s,
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext{i}\n  namespace: {ns}\nspec:\n  hosts:\n  - ext{i}.example.com\n  ports:\n  - number: 443\n    name: https\n    protocol: TLS\n  resolution: DNS\n  location: MESH_EXTERNAL\n---\n"
        );
        n += 4;
        if n >= resources {
            break;
        }
    }
    s
}

struct Row {
    phase: &'static str,
    best: Duration,
    median: Duration,
}

fn measure(iters: usize, mut f: impl FnMut() -> usize) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(iters);
    let mut out = 0;
    for _ in 0..iters {
        let t = Instant::now();
        out = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[0], times[times.len() / 2], out)
}

fn main() {
    let resources: usize = std::env::var("MESHROUTE_BENCH_RESOURCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let iters: usize = std::env::var("MESHROUTE_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let input = generate(resources);
    let mb = input.len() as f64 / 1e6;
    let opts = CheckOptions::default();

    let mut rows = Vec::new();
    let (b, m, docs) = measure(iters, || parse_stream(&input, Limits::default()).len());
    rows.push(Row {
        phase: "parse YAML",
        best: b,
        median: m,
    });
    let (b, m, loaded_n) = measure(iters, || {
        load_str(&input, Some("bench.yaml")).resources().count()
    });
    rows.push(Row {
        phase: "load (parse + typed)",
        best: b,
        median: m,
    });
    let (b, m, diags) = measure(iters, || {
        let loaded = load_str(&input, Some("bench.yaml"));
        check(&loaded, &opts).len()
    });
    rows.push(Row {
        phase: "load + check (analyze)",
        best: b,
        median: m,
    });
    let loaded = load_str(&input, Some("bench.yaml"));
    let (b, m, _) = measure(iters, || check(&loaded, &opts).len());
    rows.push(Row {
        phase: "check only",
        best: b,
        median: m,
    });

    // What the diagnostics are, so the workload is known (code × count).
    let mut by_code = std::collections::BTreeMap::<String, usize>::new();
    for d in check(&loaded, &opts) {
        *by_code.entry(d.code.to_string()).or_default() += 1;
    }
    let codes: Vec<String> = by_code.iter().map(|(c, n)| format!("{c}×{n}")).collect();
    assert_eq!(docs, resources, "generator produced {docs} documents");
    assert_eq!(loaded_n, resources);
    println!(
        "\nload + analyze: {resources} resources, {:.2} MB, {iters} runs each (median; best in brackets); {diags} diagnostics ({})\n",
        mb,
        codes.join(", ")
    );
    println!("| phase | median ms | MB/s | resources/s | × parse |");
    println!("|---|---:|---:|---:|---:|");
    let parse = rows[0].median.as_secs_f64();
    let mut json = Vec::new();
    for r in &rows {
        let secs = r.median.as_secs_f64();
        println!(
            "| {} | {:.1} ({:.1}) | {:.1} | {:.0} | {:.2} |",
            r.phase,
            secs * 1e3,
            r.best.as_secs_f64() * 1e3,
            mb / secs,
            resources as f64 / secs,
            secs / parse
        );
        json.push(serde_json::json!({
            "phase": r.phase, "median_ms": secs * 1e3, "best_ms": r.best.as_secs_f64() * 1e3,
            "mb_per_s": mb / secs, "resources_per_s": resources as f64 / secs, "ratio_to_parse": secs / parse,
        }));
    }
    let out = serde_json::json!({
        "bench": "analyze", "resources": resources, "bytes": input.len(), "iterations": iters,
        "diagnostics": diags, "diagnostics_by_code": by_code, "phases": json,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("analyze.json");
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&out).unwrap_or_default(),
    ) {
        Ok(()) => println!("\nwrote {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}
