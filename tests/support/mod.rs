//! Shared harness for the root package's integration tests (`tests/*.rs`):
//! real Envoy + the built filter `.wasm`, upstream servers, an HTTP client, and
//! a headless-Chromium driver for the editor. Use it with `mod support;`.
//!
//! Skip rule: a test that needs Envoy, the built `.wasm`, Chromium/ChromeDriver or
//! the built editor prints `SKIP <test>: <reason>` and passes when they are
//! missing — unless `MESHROUTE_REQUIRE_E2E` is set (scripts/test.sh and CI set it),
//! in which case it fails loudly. See tests/README.md.
#![allow(dead_code)]

pub mod browser;
pub mod envoy;
pub mod http;
pub mod upstream;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The workspace root (the root package lives there).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether missing e2e prerequisites must fail instead of skip.
pub fn require_e2e() -> bool {
    std::env::var("MESHROUTE_REQUIRE_E2E").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Report a missing prerequisite: print a skip line, or panic if [`require_e2e`].
pub fn skip_or_fail(test: &str, reason: &str) {
    if require_e2e() {
        panic!("{test}: {reason} (MESHROUTE_REQUIRE_E2E is set; run scripts/test.sh or see tests/README.md)");
    }
    eprintln!("SKIP {test}: {reason} (set MESHROUTE_REQUIRE_E2E=1 to make this an error)");
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR` layouts by looking for
/// the `CACHEDIR.TAG` cargo writes at its root, starting from the test binary).
pub fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe
            .ancestors()
            .skip(1)
            .find(|d| d.join("CACHEDIR.TAG").is_file())
        {
            return dir.to_path_buf();
        }
    }
    workspace_root().join("target")
}

/// `target/test-artifacts/` (created): screenshots, Envoy configs and logs of failed tests.
pub fn artifacts_dir() -> PathBuf {
    let dir = target_dir().join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// A fresh, unique directory under `target/test-artifacts/<kind>/`.
pub fn fresh_dir(kind: &str, label: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = artifacts_dir()
        .join(kind)
        .join(format!("{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create artifacts subdir");
    dir
}

/// Newest modification time of the files under `paths` (recursively).
pub fn newest_mtime(paths: &[PathBuf]) -> Option<SystemTime> {
    fn walk(p: &Path, newest: &mut Option<SystemTime>) {
        let Ok(meta) = std::fs::metadata(p) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(p) {
                for e in entries.flatten() {
                    walk(&e.path(), newest);
                }
            }
        } else if let Ok(m) = meta.modified() {
            if newest.is_none_or(|n| m > n) {
                *newest = Some(m);
            }
        }
    }
    let mut newest = None;
    for p in paths {
        walk(p, &mut newest);
    }
    newest
}

/// `Some(reason)` if `artifact` is older than any of `sources`.
pub fn stale_reason(artifact: &Path, sources: &[PathBuf], rebuild: &str) -> Option<String> {
    let built = std::fs::metadata(artifact)
        .and_then(|m| m.modified())
        .ok()?;
    let newest = newest_mtime(sources)?;
    (newest > built).then(|| {
        format!(
            "{} is older than its sources; rebuild with `{rebuild}`",
            artifact.display()
        )
    })
}

/// Find an executable: `$env_var` if set, else the first of `names` on `PATH`.
pub fn find_executable(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env_var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| is_executable(p))
}

pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A free TCP port on 127.0.0.1 (bind :0 and release; prefer letting the server
/// bind :0 itself when it can report the port, as Envoy does).
pub fn free_port() -> u16 {
    // Pick below the kernel's ephemeral range (32768+ on Linux): a port handed
    // out by `bind(0)` can be handed out again to the next `bind(0)` (an
    // upstream started after this call), which raced Envoy for the listener
    // port in CI. Ports from 20000..32000 are never chosen by `bind(0)`.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    for _ in 0..2000 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = 20000 + (seed.wrapping_add(n.wrapping_mul(37)) % 12000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// Poll `f` every 50 ms until it returns `Some`, or panic after `timeout` with `what`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fails the test with every error-level diagnostic of a load or a render, labelled `what`.
pub fn assert_no_errors(diagnostics: &[meshroute_model::diag::Diagnostic], what: &str) {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}
