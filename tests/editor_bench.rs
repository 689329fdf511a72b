//! Editor speed benchmark in real headless Chromium (issue 4's targets):
//! navigation → interactive editor, and the cost of one keystroke in a
//! 200-resource workspace (re-parse, re-validate, problems on screen).
//!
//! Not a pass/fail test (speed is measured, not asserted): it is `#[ignore]`d so
//! `cargo test` skips it. Run it on purpose, after `scripts/build.sh editor`:
//!
//! ```sh
//! MESHROUTE_REQUIRE_E2E=1 cargo test --test editor_bench -- --ignored --nocapture
//! ```
//!
//! `MESHROUTE_BENCH_RUNS` (default 5) sets the number of runs. Prints a table
//! (median, min, max over every sample) and writes `target/bench/editor.json`.
//! The numbers come from the app's own `performance.now()` timings (the
//! `perf-*` elements) and the browser's navigation/resource timing.

mod support;

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use support::browser::{self, ChromeDriver, StaticServer};

type R<T = ()> = Result<T, String>;

fn css(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

async fn js(c: &Client, script: &str, args: Vec<Value>) -> R<Value> {
    c.execute(script, args)
        .await
        .map_err(|e| format!("script: {e}"))
}

async fn text(c: &Client, testid: &str) -> R<String> {
    let v = js(
        c,
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
        vec![json!(css(testid))],
    )
    .await?;
    Ok(v.as_str().unwrap_or_default().trim().to_owned())
}

async fn num(c: &Client, testid: &str) -> R<f64> {
    text(c, testid)
        .await?
        .parse()
        .map_err(|_| format!("{testid} is not a number"))
}

async fn wait_until<F, Fut>(what: &str, secs: u64, mut cond: F) -> R
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = R<bool>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if cond().await.unwrap_or(false) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_ready(c: &Client) -> R {
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(&css("app-title")))
        .await
        .map_err(|e| format!("the editor never started: {e}"))?;
    wait_until("interactive", 60, || async {
        Ok(!text(c, "perf-ready-ms").await?.is_empty())
    })
    .await
}

/// Waits until the workspace changed after `rev` and validation caught up, and
/// the frame after it ran (`perf-roundtrip-ms` set).
async fn settled(c: &Client, rev: u64) -> R {
    wait_until("validation", 60, || async {
        let ws: u64 = num(c, "ws-rev").await? as u64;
        let val: u64 = num(c, "validation-rev").await? as u64;
        Ok(ws > rev && val == ws && num(c, "perf-roundtrip-ms").await? >= 0.0)
    })
    .await
}

/// `n` VirtualService + DestinationRule pairs (2n resources), as in editor_e2e.
fn big_workspace(pairs: usize) -> String {
    let mut s = String::new();
    for i in 0..pairs {
        s.push_str(&format!(
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc-{i}\n  namespace: default\nspec:\n  hosts:\n  - svc-{i}\n  http:\n  - name: canary\n    match:\n    - headers:\n        x-canary:\n          exact: \"true\"\n    route:\n    - destination:\n        host: svc-{i}\n        subset: v2\n  - name: default\n    timeout: 5s\n    route:\n    - destination:\n        host: svc-{i}\n        subset: v1\n      weight: 90\n    - destination:\n        host: svc-{i}\n        subset: v2\n      weight: 10\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: svc-{i}\n  namespace: default\nspec:\n  host: svc-{i}\n  trafficPolicy:\n    outlierDetection:\n      consecutive5xxErrors: 5\n      interval: 10s\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n"
        ));
    }
    s
}

#[derive(Default)]
struct Samples(Vec<(&'static str, &'static str, f64)>);

impl Samples {
    fn add(&mut self, group: &'static str, metric: &'static str, v: f64) {
        self.0.push((group, metric, v));
    }

    fn stats(&self) -> Vec<(&'static str, &'static str, usize, f64, f64, f64)> {
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for (g, m, _) in &self.0 {
            if !keys.contains(&(g, m)) {
                keys.push((g, m));
            }
        }
        keys.into_iter()
            .map(|(g, m)| {
                let mut v: Vec<f64> = self
                    .0
                    .iter()
                    .filter(|(g2, m2, _)| *g2 == g && *m2 == m)
                    .map(|s| s.2)
                    .collect();
                v.sort_by(f64::total_cmp);
                let med = if v.len() % 2 == 1 {
                    v[v.len() / 2]
                } else {
                    (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
                };
                (g, m, v.len(), med, v[0], v[v.len() - 1])
            })
            .collect()
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One navigation with an empty or 200-resource autosave: the phases.
async fn navigate(c: &Client, url: &str, s: &mut Samples, group: &'static str) -> R {
    c.goto("about:blank")
        .await
        .map_err(|e| format!("blank: {e}"))?;
    let t0 = Instant::now();
    c.goto(url).await.map_err(|e| format!("goto: {e}"))?;
    wait_ready(c).await?;
    let wall = t0.elapsed().as_secs_f64() * 1000.0;
    let t = js(
        c,
        "const n = performance.getEntriesByType('navigation')[0];
         const w = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm'));
         const j = performance.getEntriesByType('resource').find(r => r.name.endsWith('.js'));
         return {html: n.responseEnd, dcl: n.domContentLoadedEventEnd,
                 jsEnd: j ? j.responseEnd : null, wasmEnd: w ? w.responseEnd : null};",
        vec![],
    )
    .await?;
    let boot = num(c, "perf-boot-ms").await?;
    let restore = num(c, "perf-restore-ms").await?;
    let ready = num(c, "perf-ready-ms").await?;
    s.add(
        group,
        "html received",
        t["html"].as_f64().unwrap_or(f64::NAN),
    );
    s.add(
        group,
        "wasm received",
        t["wasmEnd"].as_f64().unwrap_or(f64::NAN),
    );
    s.add(group, "wasm compiled+started (main)", boot);
    s.add(group, "restore workspace", restore);
    s.add(group, "first render done (interactive)", ready);
    s.add(group, "WebDriver goto→interactive (wall)", wall);
    Ok(())
}

/// Puts the caret at `pos` (UTF-16) of the pane and types `key` with WebDriver.
async fn type_at(c: &Client, pos: Option<usize>, key: &str) -> R {
    js(
        c,
        "const a = document.querySelector('[data-testid=yaml-pane]'); a.focus();
         const p = arguments[0] === null ? a.value.length : arguments[0];
         a.setSelectionRange(p, p);",
        vec![json!(pos)],
    )
    .await?;
    let el = c
        .find(Locator::Css(&css("yaml-pane")))
        .await
        .map_err(|e| format!("pane: {e}"))?;
    el.send_keys(key)
        .await
        .map_err(|e| format!("send_keys: {e}"))
}

async fn keystrokes(c: &Client, s: &mut Samples, n: usize) -> R {
    // The middle document's first subset reference (svc-50's VirtualService).
    let mid = js(
        c,
        "return document.querySelector('[data-testid=yaml-pane]').value.indexOf('subset: v2', document.querySelector('[data-testid=yaml-pane]').value.indexOf('name: svc-50')) + 'subset: v2'.length;",
        vec![],
    )
    .await?
    .as_u64()
    .ok_or("no svc-50 in the pane")? as usize;
    for i in 0..n {
        // Alternate: a comment at the end (problems unchanged), and a subset
        // name in the middle document (IST0101 appears, then goes).
        let (group, pos, key) = match i % 4 {
            0 => ("keystroke: comment at the end", None, "#"),
            1 => (
                "keystroke: subset in the middle (IST0101 appears)",
                Some(mid),
                "x",
            ),
            2 => ("keystroke: comment at the end", None, "\u{E003}"),
            _ => (
                "keystroke: subset in the middle (IST0101 goes)",
                Some(mid + 1),
                "\u{E003}",
            ),
        };
        let rev = num(c, "ws-rev").await? as u64;
        let t0 = Instant::now();
        type_at(c, pos, key).await?;
        settled(c, rev).await?;
        let wall = t0.elapsed().as_secs_f64() * 1000.0;
        s.add(
            group,
            "re-parse (split + changed doc)",
            num(c, "perf-parse-ms").await?,
        );
        s.add(
            group,
            "re-validate (incremental check)",
            num(c, "perf-validate-ms").await?,
        );
        s.add(
            group,
            "validation → next frame (DOM updated)",
            num(c, "perf-render-ms").await?,
        );
        s.add(
            group,
            "keystroke → problems painted",
            num(c, "perf-roundtrip-ms").await?,
        );
        s.add(group, "WebDriver send_keys → settled (wall)", wall);
    }
    Ok(())
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored (see the file header)"]
async fn editor_bench() {
    let Some(pre) = browser::prereqs("editor_bench") else {
        return;
    };
    let runs: usize = std::env::var("MESHROUTE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let keys_per_run = 12;
    let server = StaticServer::serve(&pre.dist);
    let url = server.url("/");
    let load_before = loadavg();
    let mut s = Samples::default();
    let mut wasm_bytes = 0u64;
    if let Some(w) = std::fs::read_dir(&pre.dist).ok().and_then(|d| {
        d.flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "wasm"))
    }) {
        wasm_bytes = std::fs::metadata(&w).map(|m| m.len()).unwrap_or(0);
    }
    for run in 0..runs {
        let driver = ChromeDriver::start(&pre, &format!("editor_bench_{run}"));
        let c = driver.session().await;
        let outcome: R = async {
            // Fresh profile: nothing saved, the starter workspace.
            navigate(&c, &url, &mut s, "first load (new browser, empty storage)").await?;
            // 200 resources through the YAML pane.
            let rev = num(&c, "ws-rev").await? as u64;
            js(
                &c,
                "const a = document.querySelector('[data-testid=yaml-pane]'); a.value = arguments[0];
                 a.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![json!(big_workspace(100))],
            )
            .await?;
            settled(&c, rev).await?;
            s.add("load 200 resources (paste)", "parse", num(&c, "perf-parse-ms").await?);
            s.add("load 200 resources (paste)", "validate (cold)", num(&c, "perf-validate-ms").await?);
            keystrokes(&c, &mut s, keys_per_run).await?;
            // Navigation with the 200-resource workspace autosaved.
            navigate(&c, &url, &mut s, "load again (same browser, 200-resource autosave)").await?;
            let n = js(&c, "return document.querySelectorAll('[data-doc-id]').length;", vec![]).await?;
            if n.as_u64() != Some(200) {
                return Err(format!("restored {n} resources, expected 200"));
            }
            Ok(())
        }
        .await;
        let _ = c.close().await;
        drop(driver);
        if let Err(e) = outcome {
            panic!("editor_bench run {run}: {e}");
        }
    }
    let load_after = loadavg();
    let stats = s.stats();
    let mut table = format!(
        "editor benchmark: {runs} runs, {keys_per_run} keystrokes per run; wasm {wasm_bytes} bytes; \
         load average before {load_before}, after {load_after}; {} CPUs\n\n\
         | group | metric | n | median ms | min ms | max ms |\n|---|---|---:|---:|---:|---:|\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    for (g, m, n, med, min, max) in &stats {
        table.push_str(&format!(
            "| {g} | {m} | {n} | {med:.1} | {min:.1} | {max:.1} |\n"
        ));
    }
    println!("{table}");
    let json = json!({
        "runs": runs,
        "keystrokes_per_run": keys_per_run,
        "wasm_bytes": wasm_bytes,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "results": stats.iter().map(|(g, m, n, med, min, max)| json!({
            "group": g, "metric": m, "n": n, "median_ms": med, "min_ms": min, "max_ms": max,
        })).collect::<Vec<_>>(),
        "samples": s.0.iter().map(|(g, m, v)| json!([g, m, v])).collect::<Vec<_>>(),
    });
    let dir = support::target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let path = dir.join("editor.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .expect("write editor.json");
    println!("wrote {}", path.display());
}
