//! The filter benchmark (`scripts/bench-filter.sh`): Envoy (`--concurrency 1`) in four arms
//! — A plain route, B `render --native`, C a no-op proxy-wasm filter, D meshroute — for
//! 1/10/100/1,000 rules (the request matches the last), prefix-only and regex-heavy, with
//! the same upstream and load generator. See `configs.rs` for the arms, `load.rs` for the
//! load generator and BENCHMARKS.md ("Filter in Envoy") for results.
//!
//! Per cell (kind × rules) the four Envoys run side by side; each round measures every arm
//! (in an order rotated per round) with the closed loop (throughput, Envoy CPU per request)
//! and then with the open loop at a fixed rate (latency). Medians over rounds are reported
//! with the min–max spread of throughput.
//!
//! Usage: `bench-filter [--quick] [--probe] [--rules 1,10,100,1000] [--kinds prefix,regex]`
//! (`--probe`: arms C, P1–P4, D to split D − C, see `configs.rs`; writes
//! `target/bench/filter-probe.json`; `--quick` writes `target/bench/filter-quick.json`)
//! Environment: `MESHROUTE_BENCH_ROUNDS` (3), `MESHROUTE_BENCH_SECS` (2, closed loop per
//! round and arm), `MESHROUTE_BENCH_LATENCY_SECS` (1.5), `MESHROUTE_BENCH_WARMUP_SECS` (0.5),
//! `MESHROUTE_BENCH_RATE` (500 requests/s), `MESHROUTE_BENCH_CONNS` (8 closed-loop
//! connections), `MESHROUTE_BENCH_WORKERS` (16 open-loop connections), `MESHROUTE_ENVOY`,
//! `MESHROUTE_FILTER_WASM`, `MESHROUTE_NOOP_WASM`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code: failures panic

mod configs;
mod envoy;
mod load;
mod upstream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use configs::{Arm, ARMS, PROBE_ARMS};
use envoy::Envoy;

struct Settings {
    quick: bool,
    probe: bool,
    rules: Vec<usize>,
    kinds: Vec<String>,
    rounds: usize,
    secs: f64,
    latency_secs: f64,
    warmup_secs: f64,
    rate: f64,
    conns: usize,
    workers: usize,
}

fn env_num(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn settings() -> Settings {
    let mut args = std::env::args().skip(1);
    let mut quick = false;
    let mut probe = false;
    let mut rules = None;
    let mut kinds = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--probe" => probe = true,
            "--rules" => {
                let v = args.next().expect("--rules needs a list, e.g. 1,10");
                rules = Some(
                    v.split(',')
                        .map(|s| s.trim().parse().expect("--rules: numbers"))
                        .filter(|&n: &usize| n > 0)
                        .collect::<Vec<_>>(),
                );
            }
            "--kinds" => {
                let v = args.next().expect("--kinds needs prefix,regex");
                kinds = Some(v.split(',').map(|s| s.trim().to_owned()).collect());
            }
            "-h" | "--help" => {
                println!("usage: bench-filter [--quick] [--probe] [--rules 1,10,100,1000] [--kinds prefix,regex]\nsee BENCHMARKS.md (\"Filter in Envoy\") for the environment knobs");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other:?} (try --help)");
                std::process::exit(2);
            }
        }
    }
    let kinds: Vec<String> =
        kinds.unwrap_or_else(|| configs::KINDS.iter().map(|s| s.to_string()).collect());
    for k in &kinds {
        if !configs::KINDS.contains(&k.as_str()) {
            eprintln!("unknown kind {k:?} (prefix, regex)");
            std::process::exit(2);
        }
    }
    let (d_rounds, d_secs, d_lat, d_warm) = if quick {
        (1.0, 0.5, 0.5, 0.2)
    } else {
        (3.0, 2.0, 1.5, 0.5)
    };
    Settings {
        quick,
        probe,
        rules: rules.unwrap_or_else(|| {
            if quick {
                vec![1, 100]
            } else {
                vec![1, 10, 100, 1000]
            }
        }),
        kinds,
        rounds: env_num("MESHROUTE_BENCH_ROUNDS", d_rounds).max(1.0) as usize,
        secs: env_num("MESHROUTE_BENCH_SECS", d_secs),
        latency_secs: env_num("MESHROUTE_BENCH_LATENCY_SECS", d_lat),
        warmup_secs: env_num("MESHROUTE_BENCH_WARMUP_SECS", d_warm),
        rate: env_num("MESHROUTE_BENCH_RATE", 500.0),
        conns: env_num("MESHROUTE_BENCH_CONNS", 8.0).max(1.0) as usize,
        workers: env_num("MESHROUTE_BENCH_WORKERS", 16.0).max(1.0) as usize,
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => root().join(d),
        None => root().join("target"),
    }
}

fn path_from_env(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map_or(default, PathBuf::from)
}

/// Measurements of one arm in one cell.
#[derive(Default)]
struct ArmResult {
    rps: Vec<f64>,
    cpu_us: Vec<f64>,
    latencies_ns: Vec<u64>,
    p50_rounds_us: Vec<f64>,
    errors: u64,
    late: u64,
    sent: u64,
    rss_kb: Option<u64>,
    startup_s: f64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

impl ArmResult {
    fn rps(&self) -> f64 {
        median(&self.rps)
    }
    fn cpu_us(&self) -> f64 {
        median(&self.cpu_us)
    }
    fn pct_us(&self, q: f64) -> f64 {
        let mut v = self.latencies_ns.clone();
        v.sort_unstable();
        load::quantile(&v, q).map_or(f64::NAN, |ns| ns as f64 / 1000.0)
    }
}

fn measure_throughput(
    e: &Envoy,
    req: &Arc<Vec<u8>>,
    s: &Settings,
    ticks_per_s: f64,
    out: &mut ArmResult,
) {
    let cl = load::closed_loop(e.listener, req.clone(), s.conns);
    std::thread::sleep(Duration::from_secs_f64(s.warmup_secs));
    let (ok0, err0, cpu0, t0) = (
        cl.counters.ok.load(std::sync::atomic::Ordering::Relaxed),
        cl.counters
            .errors
            .load(std::sync::atomic::Ordering::Relaxed),
        e.cpu_ticks().unwrap_or(0),
        Instant::now(),
    );
    std::thread::sleep(Duration::from_secs_f64(s.secs));
    let (ok1, err1, cpu1, t1) = (
        cl.counters.ok.load(std::sync::atomic::Ordering::Relaxed),
        cl.counters
            .errors
            .load(std::sync::atomic::Ordering::Relaxed),
        e.cpu_ticks().unwrap_or(0),
        Instant::now(),
    );
    let total_errors = cl
        .counters
        .errors
        .load(std::sync::atomic::Ordering::Relaxed);
    cl.stop();
    let n = ok1 - ok0;
    out.rps.push(n as f64 / (t1 - t0).as_secs_f64());
    if n > 0 {
        out.cpu_us
            .push((cpu1 - cpu0) as f64 / ticks_per_s * 1e6 / n as f64);
    }
    let _ = err1 - err0;
    out.errors += total_errors;
}

fn measure_latency(e: &Envoy, req: &Arc<Vec<u8>>, s: &Settings, out: &mut ArmResult) {
    // Short warm-up at the same rate (fresh connections), then the measured run.
    let _ = load::open_loop(
        e.listener,
        req.clone(),
        s.rate,
        Duration::from_secs_f64(s.warmup_secs.min(0.3)),
        s.workers,
    );
    let mut r = load::open_loop(
        e.listener,
        req.clone(),
        s.rate,
        Duration::from_secs_f64(s.latency_secs),
        s.workers,
    );
    r.latencies_ns.sort_unstable();
    if let Some(p50) = load::quantile(&r.latencies_ns, 0.5) {
        out.p50_rounds_us.push(p50 as f64 / 1000.0);
    }
    out.errors += r.errors;
    out.late += r.late;
    out.sent += r.sent;
    out.latencies_ns.append(&mut r.latencies_ns);
}

/// One request through `e`; must reach the `bench` upstream (the last rule).
fn probe(e: &Envoy, req: &[u8]) -> Result<(), String> {
    let mut c = load::Conn::open(e.listener).map_err(|e| e.to_string())?;
    let r = c.call(req).map_err(|e| e.to_string())?;
    if r.status == 200 && r.body == b"bench" {
        Ok(())
    } else {
        Err(format!(
            "probe got {} {:?} (want 200 \"bench\")",
            r.status,
            String::from_utf8_lossy(&r.body)
        ))
    }
}

type Cell = BTreeMap<Arm, ArmResult>;

fn run_cell(
    kind: &str,
    rules: usize,
    s: &Settings,
    ports: (u16, u16),
    bins: &Bins,
    run_dir: &Path,
    ticks_per_s: f64,
) -> Result<Cell, String> {
    let yaml = configs::yaml(kind, rules, ports.0, ports.1);
    let dir = run_dir.join(format!("{kind}-{rules}"));
    let mut envoys = BTreeMap::new();
    let mut cell: Cell = BTreeMap::new();
    let arms: &[Arm] = if s.probe { &PROBE_ARMS } else { &ARMS };
    for &arm in arms {
        let cfg = configs::bootstrap(arm, &yaml, &bins.filter, &bins.noop, &bins.probe)?;
        let t = Instant::now();
        let e = Envoy::start(&bins.envoy, &dir, arm.name(), &cfg)?;
        let req = configs::request(kind, rules, arm);
        probe(&e, &req).map_err(|m| format!("{kind}/{rules} arm {}: {m}", arm.letter()))?;
        cell.entry(arm).or_default().startup_s = t.elapsed().as_secs_f64();
        envoys.insert(arm, (e, Arc::new(req)));
    }
    for round in 0..s.rounds {
        let order: Vec<Arm> = (0..arms.len())
            .map(|i| arms[(i + round) % arms.len()])
            .collect();
        for &arm in &order {
            let (e, req) = &envoys[&arm];
            measure_throughput(e, req, s, ticks_per_s, cell.entry(arm).or_default());
        }
        for &arm in &order {
            let (e, req) = &envoys[&arm];
            measure_latency(e, req, s, cell.entry(arm).or_default());
        }
    }
    for (arm, (e, _)) in &envoys {
        cell.entry(*arm).or_default().rss_kb = e.rss_kb();
    }
    drop(envoys);
    Ok(cell)
}

struct Bins {
    envoy: PathBuf,
    filter: PathBuf,
    noop: PathBuf,
    probe: PathBuf,
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn print_cell(kind: &str, rules: usize, cell: &Cell) {
    println!("\n{kind}, {rules} rules");
    println!(
        "  {:<13} {:>9} {:>17} {:>8} {:>8} {:>10} {:>8} {:>6}",
        "arm", "rps", "rps min-max", "p50 µs", "p99 µs", "cpu µs/rq", "RSS MB", "errors"
    );
    for (arm, r) in cell {
        let (lo, hi) = min_max(&r.rps);
        println!(
            "  {:<13} {:>9.0} {:>17} {:>8.0} {:>8.0} {:>10.1} {:>8.1} {:>6}{}",
            format!("{} {}", arm.letter(), arm.name()),
            r.rps(),
            format!("{lo:.0}-{hi:.0}"),
            r.pct_us(0.5),
            r.pct_us(0.99),
            r.cpu_us(),
            r.rss_kb.unwrap_or(0) as f64 / 1024.0,
            r.errors,
            if r.late * 100 > r.sent.max(1) {
                format!(
                    "  ({} of {} latency slots started >1 ms late)",
                    r.late, r.sent
                )
            } else {
                String::new()
            }
        );
    }
    if let (Some(c), Some(d)) = (cell.get(&Arm::C), cell.get(&Arm::D)) {
        for (arm, r) in cell {
            if matches!(arm, Arm::P1 | Arm::P2 | Arm::P3 | Arm::P4) {
                println!(
                    "  {}-C cpu {:+.1} µs/req (D-C {:+.1})",
                    arm.letter(),
                    r.cpu_us() - c.cpu_us(),
                    d.cpu_us() - c.cpu_us()
                );
            }
        }
    }
    if let Some(x) = ratios(cell) {
        println!(
            "  D/A {:.2}  D/B {:.2}  D-C cpu {:+.1} µs/req  D-C p50 {:+.0} µs",
            x.d_over_a, x.d_over_b, x.d_minus_c_cpu_us, x.d_minus_c_p50_us
        );
    }
}

struct Ratios {
    d_over_a: f64,
    d_over_b: f64,
    d_minus_c_cpu_us: f64,
    d_minus_c_p50_us: f64,
}

fn ratios(cell: &Cell) -> Option<Ratios> {
    let (a, b, c, d) = (
        cell.get(&Arm::A)?,
        cell.get(&Arm::B)?,
        cell.get(&Arm::C)?,
        cell.get(&Arm::D)?,
    );
    Some(Ratios {
        d_over_a: d.rps() / a.rps(),
        d_over_b: d.rps() / b.rps(),
        d_minus_c_cpu_us: d.cpu_us() - c.cpu_us(),
        d_minus_c_p50_us: d.pct_us(0.5) - c.pct_us(0.5),
    })
}

fn main() {
    let s = settings();
    let root = root();
    let target = target_dir();
    let bins = Bins {
        envoy: path_from_env("MESHROUTE_ENVOY", root.join(".venv/bin/envoy")),
        filter: path_from_env(
            "MESHROUTE_FILTER_WASM",
            target.join("wasm32-wasip1/release/meshroute_filter.wasm"),
        ),
        noop: path_from_env(
            "MESHROUTE_NOOP_WASM",
            target.join("bench-noop/wasm32-wasip1/release/meshroute_noop_filter.wasm"),
        ),
        probe: path_from_env(
            "MESHROUTE_PROBE_WASM",
            target.join("bench-noop/wasm32-wasip1/release/meshroute_probe_filter.wasm"),
        ),
    };
    for (what, p) in [
        ("envoy (scripts/setup.sh filter)", &bins.envoy),
        ("filter wasm (scripts/build.sh filter)", &bins.filter),
        ("no-op wasm (scripts/bench-filter.sh builds it)", &bins.noop),
        (
            "probe wasm (scripts/bench-filter.sh builds it)",
            &bins.probe,
        ),
    ] {
        if !p.is_file() && (s.probe || !what.starts_with("probe")) {
            eprintln!("missing {what}: {}", p.display());
            std::process::exit(2);
        }
    }
    let filter_bytes = file_size(&bins.filter);
    let noop_bytes = file_size(&bins.noop);
    let ticks_per_s = envoy::clock_ticks();
    let envoy_version = std::process::Command::new(&bins.envoy)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "filter benchmark{}: kinds {:?}, rules {:?}, {} round(s) × ({} s closed loop with {} connections + {} s at {} req/s with {} workers) per arm, warm-up {} s",
        if s.quick { " (quick)" } else { "" },
        s.kinds,
        s.rules,
        s.rounds,
        s.secs,
        s.conns,
        s.latency_secs,
        s.rate,
        s.workers,
        s.warmup_secs
    );
    println!("envoy: {envoy_version}");
    println!(
        "meshroute .wasm {filter_bytes} bytes; no-op .wasm {noop_bytes} bytes; load average at start: {}",
        load_before.trim()
    );

    let bench_up = upstream::Upstream::spawn("200 OK", "bench").expect("upstream");
    let decoy_up = upstream::Upstream::spawn("418 I'm a teapot", "decoy").expect("upstream");
    let ports = (bench_up.port(), decoy_up.port());
    let run_dir = target.join("bench/filter-run");
    let _ = std::fs::remove_dir_all(&run_dir);

    let started = Instant::now();
    let mut cells: Vec<(String, usize, Cell)> = Vec::new();
    let mut failures = Vec::new();
    for kind in &s.kinds {
        for &rules in &s.rules {
            match run_cell(kind, rules, &s, ports, &bins, &run_dir, ticks_per_s) {
                Ok(cell) => {
                    print_cell(kind, rules, &cell);
                    cells.push((kind.clone(), rules, cell));
                }
                Err(e) => {
                    eprintln!("\n{kind}/{rules}: FAILED: {e}");
                    failures.push(format!("{kind}/{rules}: {e}"));
                }
            }
        }
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    // Summary and targets.
    println!(
        "\nsummary (median of {} round(s); {:.0} s; load average at end: {})",
        s.rounds,
        started.elapsed().as_secs_f64(),
        load_after.trim()
    );
    println!(
        "  {:<7} {:>5} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9} {:>9}",
        "kind", "rules", "A rps", "B rps", "C rps", "D rps", "D/A", "D/B", "D-C cpu", "D-C p50"
    );
    let mut targets = Vec::new();
    let mut results = Vec::new();
    let mut ratio_rows = Vec::new();
    for (kind, rules, cell) in &cells {
        let rps = |a: Arm| cell.get(&a).map_or(f64::NAN, ArmResult::rps);
        if let Some(x) = ratios(cell) {
            println!(
                "  {:<7} {:>5} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>6.2} {:>6.2} {:>+8.1}µ {:>+8.0}µ",
                kind,
                rules,
                rps(Arm::A),
                rps(Arm::B),
                rps(Arm::C),
                rps(Arm::D),
                x.d_over_a,
                x.d_over_b,
                x.d_minus_c_cpu_us,
                x.d_minus_c_p50_us
            );
            ratio_rows.push(json!({
                "kind": kind, "rules": rules,
                "d_over_a": x.d_over_a, "d_over_b": x.d_over_b,
                "d_minus_c_cpu_us_per_req": x.d_minus_c_cpu_us,
                "d_minus_c_p50_us": x.d_minus_c_p50_us,
            }));
            if *rules == 100 {
                targets.push((
                    format!("{kind}/100: D >= 0.9 x B throughput"),
                    x.d_over_b >= 0.9,
                    format!("D/B = {:.2}", x.d_over_b),
                ));
            }
            if *rules == 1000 {
                targets.push((
                    format!("{kind}/1000: D >= B throughput"),
                    x.d_over_b >= 1.0,
                    format!("D/B = {:.2}", x.d_over_b),
                ));
            }
            if *rules <= 50 {
                targets.push((
                    format!("{kind}/{rules}: D - C <= 3 µs CPU per request"),
                    x.d_minus_c_cpu_us <= 3.0,
                    format!("D - C = {:.1} µs", x.d_minus_c_cpu_us),
                ));
            }
        }
        for (arm, r) in cell {
            let (lo, hi) = min_max(&r.rps);
            results.push(json!({
                "arm": arm.letter(),
                "arm_name": arm.name(),
                "kind": kind,
                "rules": rules,
                "rps": r.rps(),
                "rps_min": lo,
                "rps_max": hi,
                "rps_rounds": r.rps,
                "p50_us": r.pct_us(0.5),
                "p99_us": r.pct_us(0.99),
                "p50_us_rounds": r.p50_rounds_us,
                "cpu_us_per_req": r.cpu_us(),
                "cpu_us_per_req_rounds": r.cpu_us,
                "rss_kb": r.rss_kb,
                "wasm_bytes": match arm { Arm::C => Some(noop_bytes), Arm::D => Some(filter_bytes), _ => None },
                "errors": r.errors,
                "latency_samples": r.latencies_ns.len(),
                "latency_late_starts": r.late,
                "startup_s": r.startup_s,
            }));
        }
    }
    targets.push((
        "meshroute .wasm <= 300 KB raw".to_owned(),
        filter_bytes <= 300 * 1024,
        format!("{filter_bytes} bytes"),
    ));
    println!("\ntargets");
    for (what, met, detail) in &targets {
        println!(
            "  {:<8} {what} ({detail})",
            if *met { "met" } else { "NOT MET" }
        );
    }
    let errors: u64 = cells
        .iter()
        .flat_map(|(_, _, c)| c.values())
        .map(|r| r.errors)
        .sum();

    let out: Value = json!({
        "bench": "filter",
        "command": "scripts/bench-filter.sh",
        "quick": s.quick,
        "probe": s.probe,
        "envoy": envoy_version,
        "concurrency": 1,
        "settings": {
            "rounds": s.rounds, "closed_loop_secs": s.secs, "closed_loop_connections": s.conns,
            "latency_secs": s.latency_secs, "latency_rate_rps": s.rate, "latency_workers": s.workers,
            "warmup_secs": s.warmup_secs,
        },
        "machine": {
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "loadavg_start": load_before.trim(),
            "loadavg_end": load_after.trim(),
        },
        "wasm": { "meshroute_bytes": filter_bytes, "noop_bytes": noop_bytes },
        "results": results,
        "ratios": ratio_rows,
        "targets": targets.iter().map(|(w, m, d)| json!({"target": w, "met": m, "value": d})).collect::<Vec<_>>(),
        "failures": failures,
        "errors": errors,
    });
    // Quick and probe runs do not overwrite a full run's results.
    let path = target.join(if s.probe {
        "bench/filter-probe.json"
    } else if s.quick {
        "bench/filter-quick.json"
    } else {
        "bench/filter.json"
    });
    let _ = std::fs::create_dir_all(target.join("bench"));
    std::fs::write(&path, serde_json::to_vec_pretty(&out).expect("json")).expect("write json");
    println!("\nwrote {}", path.display());
    if !failures.is_empty() || errors > 0 {
        eprintln!(
            "{} cell(s) failed, {errors} request error(s); Envoy configs and logs under {}",
            failures.len(),
            run_dir.display()
        );
        std::process::exit(1);
    }
}
