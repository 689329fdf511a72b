//! Real Envoy for e2e tests: locate the binary and the built filter, build
//! bootstrap configs, launch, wait until LIVE, read stats, kill on drop.
//!
//! Envoy binds every port itself (`port_value: 0` for listeners and admin); the
//! harness learns the admin address from `--admin-address-path` and the listener
//! ports from the admin `/listeners` endpoint, so there are no port races.

use super::http::{self, Request, Response};
use super::upstream::Upstream;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Default request header the filter writes the chosen cluster into
/// (`settings.cluster_header` of `meshroute_model::envoy::FilterConfig`).
pub const CLUSTER_HEADER: &str = "x-meshroute-cluster";

/// What an Envoy e2e test needs.
#[derive(Debug, Clone)]
pub struct Prereqs {
    pub envoy: PathBuf,
    pub wasm: PathBuf,
}

/// `$MESHROUTE_ENVOY`, else `<root>/.venv/bin/envoy` (installed by scripts/setup.sh), else `envoy` on PATH.
pub fn envoy_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MESHROUTE_ENVOY") {
        return Some(PathBuf::from(p));
    }
    let venv = super::workspace_root().join(".venv/bin/envoy");
    if super::is_executable(&venv) {
        return Some(venv);
    }
    super::find_executable("MESHROUTE_ENVOY", &["envoy"])
}

/// `$MESHROUTE_FILTER_WASM`, else `<target>/wasm32-wasip1/release/meshroute_filter.wasm`.
pub fn filter_wasm_path() -> PathBuf {
    match std::env::var("MESHROUTE_FILTER_WASM") {
        Ok(p) => PathBuf::from(p),
        Err(_) => super::target_dir().join("wasm32-wasip1/release/meshroute_filter.wasm"),
    }
}

pub const FILTER_BUILD: &str = "cargo build --release -p meshroute-filter --target wasm32-wasip1";

/// Check for Envoy and an up-to-date filter build; `None` (after printing SKIP) if
/// missing and not required; panics if missing and `MESHROUTE_REQUIRE_E2E` is set.
pub fn prereqs(test: &str) -> Option<Prereqs> {
    let Some(envoy) = envoy_binary().filter(|p| super::is_executable(p)) else {
        super::skip_or_fail(
            test,
            "envoy not found (.venv/bin/envoy, $MESHROUTE_ENVOY, PATH); run scripts/setup.sh",
        );
        return None;
    };
    let wasm = filter_wasm_path();
    if !wasm.is_file() {
        super::skip_or_fail(
            test,
            &format!("{} missing; run `{FILTER_BUILD}`", wasm.display()),
        );
        return None;
    }
    if std::env::var_os("MESHROUTE_FILTER_WASM").is_none() {
        let root = super::workspace_root();
        let sources = [
            "filter/src",
            "filter/Cargo.toml",
            "shared/src",
            "shared/Cargo.toml",
        ]
        .map(|p| root.join(p));
        if let Some(reason) = super::stale_reason(&wasm, &sources, FILTER_BUILD) {
            // scripts/test.sh builds right before testing, so under REQUIRE this is a
            // concurrent edit, not a forgotten build: warn instead of failing.
            if super::require_e2e() {
                eprintln!("WARNING {test}: {reason}");
            } else {
                super::skip_or_fail(test, &reason);
                return None;
            }
        }
    }
    Some(Prereqs { envoy, wasm })
}

// ---------------------------------------------------------------------------
// Config building blocks (plain serde_json values; Envoy reads JSON as YAML).

/// A bootstrap with the given listeners and clusters (admin is added by [`Envoy::start`]).
pub fn bootstrap(listeners: Vec<Value>, clusters: Vec<Value>) -> Value {
    json!({ "static_resources": { "listeners": listeners, "clusters": clusters } })
}

/// An HTTP listener on 127.0.0.1:0 with an inline route config and HTTP filters
/// (the router is appended).
pub fn http_listener(name: &str, route_config: Value, mut http_filters: Vec<Value>) -> Value {
    http_filters.push(router_filter());
    json!({
        "name": name,
        "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } },
        "filter_chains": [{ "filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": name,
                "route_config": route_config,
                "http_filters": http_filters,
            }
        }]}]
    })
}

pub fn router_filter() -> Value {
    json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
    })
}

/// The meshroute Wasm HTTP filter (V8 runtime) loading `wasm` with plugin configuration
/// `config` (the `meshroute_model::envoy::FilterConfig` JSON; `{}` is valid).
pub fn meshroute_filter(wasm: &Path, config: &Value) -> Value {
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "meshroute",
                "root_id": "meshroute",
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": config.to_string(),
                },
                "vm_config": {
                    "vm_id": "meshroute",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": { "local": { "filename": wasm.display().to_string() } },
                },
                "failure_policy": "FAIL_CLOSED",
            }
        }
    })
}

/// A route config with one catch-all virtual host and the given routes.
pub fn route_config(routes: Vec<Value>) -> Value {
    json!({ "name": "local", "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": routes }] })
}

/// Catch-all route to the cluster named by request header `header`.
pub fn route_by_header(header: &str) -> Value {
    json!({ "match": { "prefix": "/" }, "route": { "cluster_header": header } })
}

/// Catch-all route to `cluster`.
pub fn route_to(cluster: &str) -> Value {
    json!({ "match": { "prefix": "/" }, "route": { "cluster": cluster } })
}

/// A STATIC cluster called `name` with the given endpoints.
pub fn static_cluster(name: &str, endpoints: &[std::net::SocketAddr]) -> Value {
    let lb_endpoints: Vec<Value> = endpoints
        .iter()
        .map(|a| {
            json!({ "endpoint": { "address": { "socket_address": {
                "address": a.ip().to_string(), "port_value": a.port() } } } })
        })
        .collect();
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": { "cluster_name": name, "endpoints": [{ "lb_endpoints": lb_endpoints }] }
    })
}

/// One STATIC cluster per upstream, named after it.
pub fn clusters_for(upstreams: &[Upstream]) -> Vec<Value> {
    upstreams
        .iter()
        .map(|u| static_cluster(u.name(), &[u.addr()]))
        .collect()
}

/// Listener `main` with the meshroute filter (plugin config `filter_config`),
/// routing by [`CLUSTER_HEADER`] to one cluster per upstream (named after it).
/// For Istio scenarios prefer `meshroute_model::envoy::render` (see tests/e2e_filter.rs).
pub fn filter_bootstrap(wasm: &Path, filter_config: &Value, upstreams: &[Upstream]) -> Value {
    let listener = http_listener(
        "main",
        route_config(vec![route_by_header(CLUSTER_HEADER)]),
        vec![meshroute_filter(wasm, filter_config)],
    );
    bootstrap(vec![listener], clusters_for(upstreams))
}

// ---------------------------------------------------------------------------
// Running Envoy.

fn unique_base_id() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    // Distinct per process and per launch; Envoy multiplies it internally, keep it small.
    (std::process::id() % 50_000) * 16 + N.fetch_add(1, Ordering::SeqCst) % 16 + 1000
}

fn log_level() -> String {
    std::env::var("MESHROUTE_ENVOY_LOG_LEVEL").unwrap_or_else(|_| "info".to_owned())
}

/// `envoy --mode validate`: `Ok(output)` if Envoy accepts the config.
pub fn validate(envoy: &Path, config: &Value) -> Result<String, String> {
    let dir = super::fresh_dir("envoy-validate", "validate");
    let cfg = dir.join("envoy.json");
    std::fs::write(
        &cfg,
        serde_json::to_vec_pretty(&with_admin(config)).expect("serialize"),
    )
    .expect("write config");
    let out = Command::new(envoy)
        .args(["--mode", "validate", "-c"])
        .arg(&cfg)
        .args(["-l", "warn", "--disable-hot-restart"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", envoy.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        Ok(text)
    } else {
        Err(format!(
            "envoy --mode validate rejected {} ({}):\n{text}",
            cfg.display(),
            out.status
        ))
    }
}

fn with_admin(config: &Value) -> Value {
    let mut config = config.clone();
    if config.get("admin").is_none() {
        config["admin"] =
            json!({ "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } } });
    }
    config
}

/// A running Envoy; killed on drop. Its config and log are kept under
/// `target/test-artifacts/envoy/` when the test panics (removed otherwise).
pub struct Envoy {
    child: Child,
    dir: PathBuf,
    log_path: PathBuf,
    admin: String,
    listeners: BTreeMap<String, u16>,
}

impl Envoy {
    /// Start Envoy with `config` (admin on 127.0.0.1:0 added if absent) and wait
    /// until `/ready` says LIVE and listeners are bound. Panics with the log on failure.
    pub fn start(envoy: &Path, label: &str, config: &Value) -> Envoy {
        Self::start_with_drain_time(envoy, label, config, 0)
    }

    /// [`Envoy::start`] with `--drain-time-s drain_secs` (tests use 0 for fast listener
    /// updates; with 0, a listener update closes connections that have not sent a request
    /// yet, which a zero-failure reload test must avoid).
    pub fn start_with_drain_time(
        envoy: &Path,
        label: &str,
        config: &Value,
        drain_secs: u32,
    ) -> Envoy {
        let dir = super::fresh_dir("envoy", label);
        let cfg_path = dir.join("envoy.json");
        let admin_path = dir.join("admin-address.txt");
        let log_path = dir.join("envoy.log");
        std::fs::write(
            &cfg_path,
            serde_json::to_vec_pretty(&with_admin(config)).expect("serialize"),
        )
        .expect("write envoy config");
        let log = std::fs::File::create(&log_path).expect("create envoy log");
        let child = Command::new(envoy)
            .arg("-c")
            .arg(&cfg_path)
            .args([
                "--concurrency",
                "1",
                "--base-id",
                &unique_base_id().to_string(),
            ])
            .args([
                "-l",
                &log_level(),
                "--disable-hot-restart",
                "--drain-time-s",
                &drain_secs.to_string(),
            ])
            .arg("--admin-address-path")
            .arg(&admin_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", envoy.display()));
        let mut me = Envoy {
            child,
            dir,
            log_path,
            admin: String::new(),
            listeners: BTreeMap::new(),
        };

        let deadline = Instant::now() + Duration::from_secs(60);
        let wait = |me: &mut Envoy, what: &str| {
            if let Ok(Some(status)) = me.child.try_wait() {
                panic!(
                    "envoy exited ({status}) while waiting for {what}\n{}",
                    me.log_tail(80)
                );
            }
            if Instant::now() > deadline {
                panic!("envoy not {what} after 60s\n{}", me.log_tail(80));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        loop {
            match std::fs::read_to_string(&admin_path) {
                Ok(a) if !a.trim().is_empty() => {
                    me.admin = a.trim().to_owned();
                    break;
                }
                _ => wait(&mut me, "writing its admin address"),
            }
        }
        loop {
            match Request::get(&me.admin_url("/ready"))
                .timeout(Duration::from_secs(2))
                .send()
            {
                Ok(r) if r.status == 200 && r.text().trim() == "LIVE" => break,
                _ => wait(&mut me, "LIVE"),
            }
        }
        let listeners = me.admin_get("/listeners?format=json").json();
        for l in listeners["listener_statuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = l["name"].as_str().unwrap_or_default().to_owned();
            if let Some(port) = l["local_address"]["socket_address"]["port_value"].as_u64() {
                me.listeners.insert(name, port as u16);
            }
        }
        me
    }

    /// Port of listener `name`.
    pub fn listener_port(&self, name: &str) -> u16 {
        *self
            .listeners
            .get(name)
            .unwrap_or_else(|| panic!("no listener {name:?}; listeners: {:?}", self.listeners))
    }

    /// Port of the only (or first, by name) listener.
    pub fn port(&self) -> u16 {
        *self
            .listeners
            .values()
            .next()
            .expect("envoy has no listeners")
    }

    /// `http://127.0.0.1:<first listener><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port())
    }

    /// `http://<admin><path>`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    pub fn admin_get(&self, path: &str) -> Response {
        http::get(&self.admin_url(path))
    }

    /// Counters and gauges from `/stats?format=json` (histograms omitted).
    pub fn stats(&self) -> BTreeMap<String, u64> {
        let v = self.admin_get("/stats?format=json").json();
        v["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some((s["name"].as_str()?.to_owned(), s["value"].as_u64()?)))
            .collect()
    }

    /// One counter or gauge (`None` if Envoy has not created it).
    pub fn stat(&self, name: &str) -> Option<u64> {
        self.stats().remove(name)
    }

    /// `/stats/prometheus` text.
    pub fn prometheus(&self) -> String {
        self.admin_get("/stats/prometheus").text()
    }

    /// Wait until stat `name` satisfies `pred` (stats are flushed asynchronously).
    pub fn wait_for_stat(&self, name: &str, timeout: Duration, pred: impl Fn(u64) -> bool) -> u64 {
        super::wait_until(&format!("stat {name}"), timeout, || {
            self.stat(name).filter(|v| pred(*v))
        })
    }

    /// The whole Envoy log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last `n` log lines.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Process id (the `.venv/bin/envoy` shim execs Envoy in place: same pid).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size of the Envoy process in KiB (`VmRSS` from `/proc`), if readable.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Directory holding `envoy.json` and `envoy.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- envoy log tail ({}; config and full log kept in {}) ---\n{}\n---",
                self.log_path.display(),
                self.dir.display(),
                self.log_tail(60)
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
