//! Real headless Chromium for the editor: a static file server for `editor/dist`,
//! a ChromeDriver process, and a fantoccini WebDriver session with the flags
//! this (offline) machine needs.

use super::http::{read_request, write_response};
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What a browser test needs.
#[derive(Debug, Clone)]
pub struct Prereqs {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    /// The trunk output directory (contains index.html).
    pub dist: PathBuf,
}

/// How to (re)build the editor (trunk with the pinned tools on PATH).
pub const EDITOR_BUILD: &str = "scripts/build.sh editor";

/// `$MESHROUTE_EDITOR_DIST`, else `editor/dist`.
pub fn editor_dist() -> PathBuf {
    match std::env::var("MESHROUTE_EDITOR_DIST") {
        Ok(p) => PathBuf::from(p),
        Err(_) => super::workspace_root().join("editor/dist"),
    }
}

/// Check for Chromium, ChromeDriver and an up-to-date editor build; `None` (after
/// printing SKIP) if missing and not required; panics if `MESHROUTE_REQUIRE_E2E` is set.
pub fn prereqs(test: &str) -> Option<Prereqs> {
    let Some(chromium) = super::find_executable(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    ) else {
        super::skip_or_fail(
            test,
            "chromium not found ($CHROMIUM or PATH); run scripts/setup.sh browser",
        );
        return None;
    };
    let Some(chromedriver) = super::find_executable("CHROMEDRIVER", &["chromedriver"]) else {
        super::skip_or_fail(
            test,
            "chromedriver not found ($CHROMEDRIVER or PATH); run scripts/setup.sh browser",
        );
        return None;
    };
    let dist = editor_dist();
    let index = dist.join("index.html");
    if !index.is_file() {
        super::skip_or_fail(
            test,
            &format!("{} missing; run {EDITOR_BUILD}", index.display()),
        );
        return None;
    }
    if std::env::var_os("MESHROUTE_EDITOR_DIST").is_none() {
        let root = super::workspace_root();
        let sources = [
            "editor/src",
            "editor/index.html",
            "editor/Cargo.toml",
            "shared/src",
        ]
        .map(|p| root.join(p));
        if let Some(reason) = super::stale_reason(&index, &sources, EDITOR_BUILD) {
            if super::require_e2e() {
                eprintln!("WARNING {test}: {reason}");
            } else {
                super::skip_or_fail(test, &reason);
                return None;
            }
        }
    }
    Some(Prereqs {
        chromium,
        chromedriver,
        dist,
    })
}

// ---------------------------------------------------------------------------
// Static file server.

/// Script injected at the top of every served HTML page: records uncaught errors
/// and `console.error` calls in `window.__meshrouteErrors` so tests can assert on
/// them (wasm panics land there through console_error_panic_hook).
pub const ERROR_CAPTURE_JS: &str = r#"<script>(function(){var e=window.__meshrouteErrors=[];
var ce=console.error;console.error=function(){e.push(Array.prototype.map.call(arguments,String).join(' '));return ce.apply(console,arguments)};
window.addEventListener('error',function(x){e.push('error: '+x.message)});
window.addEventListener('unhandledrejection',function(x){e.push('unhandledrejection: '+x.reason)});})();</script>"#;

/// Serves a directory over HTTP on 127.0.0.1:<ephemeral>; unknown paths get
/// `index.html` (client-side routing). Stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl StaticServer {
    pub fn serve(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind static server");
        let addr = listener.local_addr().expect("static server addr");
        let stop = Arc::new(AtomicBool::new(false));
        let (root, stop2) = (root.to_path_buf(), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = conn else { continue };
                let root = root.clone();
                std::thread::spawn(move || serve_files(stream, &root));
            }
        });
        StaticServer { addr, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "yaml" | "yml" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn serve_files(stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(req)) = read_request(&mut reader) {
        let keep_alive = req.keep_alive();
        let rel = req.path.trim_start_matches('/');
        let safe = !rel.split('/').any(|seg| seg == "..");
        let mut file = root.join(if rel.is_empty() { "index.html" } else { rel });
        if !safe || !file.is_file() {
            file = root.join("index.html");
        }
        let result = match std::fs::read(&file) {
            Ok(mut body) => {
                let ct = content_type(&file);
                if ct.starts_with("text/html") {
                    body = inject_after_head(&body, ERROR_CAPTURE_JS);
                }
                write_response(
                    &mut writer,
                    200,
                    &[("content-type", ct), ("cache-control", "no-store")],
                    &body,
                    keep_alive,
                )
            }
            Err(_) => write_response(
                &mut writer,
                404,
                &[("content-type", "text/plain")],
                b"not found",
                keep_alive,
            ),
        };
        if result.is_err() || !keep_alive {
            return;
        }
    }
}

fn inject_after_head(html: &[u8], snippet: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    match text.find("<head>") {
        Some(i) => format!("{}{snippet}{}", &text[..i + 6], &text[i + 6..]).into_bytes(),
        None => format!("{snippet}{text}").into_bytes(),
    }
}

// ---------------------------------------------------------------------------
// ChromeDriver + Chromium.

/// Flags Chromium needs here: headless, root (no sandbox), no GPU, and no
/// network chatter (the network is closed; background fetches only add delays).
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// A running ChromeDriver on 127.0.0.1:<free port>; killed on drop.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    dir: PathBuf,
    chromium: PathBuf,
}

impl ChromeDriver {
    pub fn start(pre: &Prereqs, label: &str) -> ChromeDriver {
        let dir = super::fresh_dir("browser", label);
        let port = super::free_port();
        let child = Command::new(&pre.chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", pre.chromedriver.display()));
        let mut me = ChromeDriver {
            child,
            port,
            dir,
            chromium: pre.chromium.clone(),
        };
        let status_url = format!("http://127.0.0.1:{port}/status");
        super::wait_until(
            "chromedriver /status ready",
            Duration::from_secs(30),
            || {
                if let Ok(Some(st)) = me.child.try_wait() {
                    panic!(
                        "chromedriver exited early ({st}); log in {}",
                        me.dir.display()
                    );
                }
                let r = super::http::Request::get(&status_url)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .ok()?;
                (r.status == 200 && r.json()["value"]["ready"] == true).then_some(())
            },
        );
        me
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Capabilities for a fresh headless Chromium profile under this driver's directory.
    pub fn capabilities(&self) -> serde_json::Map<String, Value> {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            self.dir.join("profile").display()
        ));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": self.chromium.display().to_string(), "args": args },
        });
        match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// Open a WebDriver session (plain HTTP to the local driver, no TLS).
    pub async fn session(&self) -> Client {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(self.capabilities())
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a WebDriver session: {e}; chromedriver log in {}",
                    self.dir.display()
                )
            })
    }

    /// Where the driver log and browser profile live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Errors captured by [`ERROR_CAPTURE_JS`] on the current page.
pub async fn page_errors(client: &Client) -> Vec<String> {
    match client
        .execute("return window.__meshrouteErrors || [];", vec![])
        .await
    {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        Ok(other) => vec![format!("unexpected __meshrouteErrors: {other}")],
        Err(e) => vec![format!("cannot read __meshrouteErrors: {e}")],
    }
}

/// Save a PNG screenshot to `target/test-artifacts/<name>`; returns the path.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("take screenshot");
    let path = super::artifacts_dir().join(name);
    std::fs::write(&path, png).expect("write screenshot");
    path
}
