//! Envoy under test: `--concurrency 1`, admin and listener on ephemeral ports (read back
//! from the admin API), CPU time and RSS from `/proc/<pid>`. Killed on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Envoy {
    child: Child,
    pub dir: PathBuf,
    pub listener: SocketAddr,
    admin: SocketAddr,
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

impl Envoy {
    /// Starts Envoy with `config` (admin on 127.0.0.1:0 is set here) and waits until it is
    /// LIVE with its listener bound.
    pub fn start(envoy: &Path, dir: &Path, label: &str, config: &Value) -> Result<Envoy, String> {
        let dir = dir.join(label);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut config = config.clone();
        config["admin"] =
            json!({ "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } } });
        let cfg_path = dir.join("envoy.json");
        let admin_path = dir.join("admin-address.txt");
        let _ = std::fs::remove_file(&admin_path);
        let text = serde_json::to_vec_pretty(&config).map_err(|e| e.to_string())?;
        std::fs::write(&cfg_path, text).map_err(|e| format!("{}: {e}", cfg_path.display()))?;
        let log = std::fs::File::create(dir.join("envoy.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let base_id = (std::process::id() % 50_000) * 16 + next_id() % 16 + 2000;
        let child = Command::new(envoy)
            .arg("-c")
            .arg(&cfg_path)
            .args(["--concurrency", "1", "--base-id", &base_id.to_string()])
            .args(["-l", "warn", "--disable-hot-restart", "--drain-time-s", "0"])
            .arg("--admin-address-path")
            .arg(&admin_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", envoy.display()))?;
        let mut envoy = Envoy {
            child,
            dir: dir.clone(),
            listener: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = envoy.child.try_wait() {
                return Err(format!(
                    "envoy {label} exited ({status}); log: {}\n{}",
                    dir.join("envoy.log").display(),
                    envoy.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "envoy {label} not ready after 60 s (log: {})",
                    dir.join("envoy.log").display()
                ));
            }
            if let Some(addr) = std::fs::read_to_string(&admin_path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                envoy.admin = addr;
                if envoy
                    .admin_get("/ready")
                    .is_some_and(|s| s.trim() == "LIVE")
                {
                    if let Some(l) = envoy.listener_addr() {
                        envoy.listener = l;
                        return Ok(envoy);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn listener_addr(&self) -> Option<SocketAddr> {
        let text = self.admin_get("/listeners?format=json")?;
        let v: Value = serde_json::from_str(&text).ok()?;
        let sa = v["listener_statuses"].get(0)?["local_address"]["socket_address"].clone();
        let port = u16::try_from(sa["port_value"].as_u64()?).ok()?;
        (port != 0).then(|| SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// GET on the admin API (`connection: close`, read to the end); the body of a 200.
    pub fn admin_get(&self, path: &str) -> Option<String> {
        let mut c = TcpStream::connect(self.admin).ok()?;
        c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let req = format!("GET {path} HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n");
        c.write_all(req.as_bytes()).ok()?;
        let mut data = Vec::new();
        c.read_to_end(&mut data).ok()?;
        let head = data.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        if data.get(9..12)? != b"200" {
            return None;
        }
        let head_text = String::from_utf8_lossy(&data[..head]).to_ascii_lowercase();
        let body = &data[head..];
        let body = if head_text.contains("transfer-encoding: chunked") {
            dechunk(body)?
        } else {
            body.to_vec()
        };
        Some(String::from_utf8_lossy(&body).into_owned())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime of the whole process, in clock ticks.
    pub fn cpu_ticks(&self) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    }

    /// `VmRSS` in kB.
    pub fn rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("envoy.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

fn next_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}
