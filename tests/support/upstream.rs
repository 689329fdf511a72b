//! Programmable upstream HTTP/1.1 servers on 127.0.0.1 ephemeral ports.
//!
//! Every response is JSON identifying the upstream and echoing what it received:
//! ```json
//! {"upstream":"v2","method":"GET","path":"/a","query":"x=1",
//!  "headers":{"host":"...","x-meshroute-cluster":"v2"},"body":"","hit":1}
//! ```
//! plus the response header `x-upstream: <name>`.
//!
//! Behaviour is controlled from the test ([`Upstream::set_status`], [`Upstream::set_delay`],
//! [`Upstream::fail_next`]) or per request with headers that Envoy forwards:
//! `x-upstream-status: 503`, `x-upstream-delay-ms: 250`.

use super::http::{read_request, write_response, ParsedRequest};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// How one request fails (see [`Upstream::fail_next`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (and the usual JSON body).
    Status(u16),
    /// Close the connection without answering (Envoy sees a reset / `upstream_reset_before_response_started`).
    Reset,
    /// Wait this long, then answer normally (for timeout tests).
    Delay(Duration),
}

/// A request as received by an upstream.
#[derive(Debug, Clone)]
pub struct Received {
    pub request: ParsedRequest,
    /// 1-based arrival number at this upstream.
    pub hit: usize,
    pub at: Instant,
}

#[derive(Debug, Default)]
struct Behaviour {
    status: Option<u16>,
    delay: Duration,
    faults: VecDeque<Fault>,
    extra_headers: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct State {
    behaviour: Mutex<Behaviour>,
    received: Mutex<Vec<Received>>,
    hits: AtomicUsize,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler thread must not wedge the test.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running upstream; stops accepting when dropped.
pub struct Upstream {
    name: String,
    addr: SocketAddr,
    state: Arc<State>,
}

impl Upstream {
    /// Start an upstream called `name` on 127.0.0.1:<ephemeral>.
    pub fn spawn(name: &str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        deepen_backlog(&listener);
        let addr = listener.local_addr().expect("upstream addr");
        let state = Arc::new(State::default());
        let (n, st) = (name.to_owned(), Arc::clone(&state));
        thread::Builder::new()
            .name(format!("upstream-{name}"))
            .spawn(move || accept_loop(listener, n, st))
            .expect("spawn upstream thread");
        Upstream {
            name: name.to_owned(),
            addr,
            state,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path>`, for talking to the upstream directly.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Status of normal responses (default 200).
    pub fn set_status(&self, status: u16) {
        lock(&self.state.behaviour).status = Some(status);
    }

    /// Delay before every response (default none).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.state.behaviour).delay = delay;
    }

    /// Add a header to every response.
    pub fn add_response_header(&self, name: &str, value: &str) {
        lock(&self.state.behaviour)
            .extra_headers
            .push((name.to_owned(), value.to_owned()));
    }

    /// The next `n` requests fail with `fault`, later ones succeed (queued after earlier faults).
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut b = lock(&self.state.behaviour);
        b.faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Number of requests received so far (including failed ones).
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state.received).clone()
    }

    /// Forget received requests and reset behaviour to defaults.
    pub fn reset(&self) {
        *lock(&self.state.behaviour) = Behaviour::default();
        lock(&self.state.received).clear();
        self.state.hits.store(0, Ordering::SeqCst);
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Unblock accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Raises the accept backlog from std's 128 to the kernel's maximum (`somaxconn`): with 128,
/// thousands of simultaneous connections from Envoy overflow it and wait for SYN
/// retransmissions (1 s, 3 s), which looks like Envoy being late. Calling `listen(2)` again
/// on a listening socket only changes its backlog.
#[allow(unsafe_code)]
fn deepen_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    extern "C" {
        fn listen(fd: i32, backlog: i32) -> i32;
    }
    // SAFETY: listen(2) on a valid socket descriptor owned by `listener`; no memory is shared.
    let _ = unsafe { listen(listener.as_raw_fd(), 65535) };
}

/// Start one upstream per name.
pub fn spawn_many(names: &[&str]) -> Vec<Upstream> {
    names.iter().map(|n| Upstream::spawn(n)).collect()
}

fn accept_loop(listener: TcpListener, name: String, state: Arc<State>) {
    for conn in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else { continue };
        let (name, state) = (name.clone(), Arc::clone(&state));
        let _ = thread::Builder::new()
            .name(format!("upstream-{name}-conn"))
            .spawn(move || serve_connection(stream, &name, &state));
    }
}

fn serve_connection(stream: TcpStream, name: &str, state: &State) {
    let _ = stream.set_nodelay(true);
    // Idle keep-alive connections go away eventually so threads do not pile up.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let request = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        let hit = state.hits.fetch_add(1, Ordering::SeqCst) + 1;
        lock(&state.received).push(Received {
            request: request.clone(),
            hit,
            at: Instant::now(),
        });

        let (fault, status, delay, extra) = {
            let mut b = lock(&state.behaviour);
            (
                b.faults.pop_front(),
                b.status.unwrap_or(200),
                b.delay,
                b.extra_headers.clone(),
            )
        };
        let mut status = request
            .header("x-upstream-status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(status);
        let mut delay = request
            .header("x-upstream-delay-ms")
            .and_then(|s| s.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(delay);
        match fault {
            Some(Fault::Reset) => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Status(s)) => status = s,
            Some(Fault::Delay(d)) => delay = d,
            None => {}
        }
        if !delay.is_zero() {
            thread::sleep(delay);
        }

        let headers: BTreeMap<&str, String> =
            request
                .headers
                .iter()
                .fold(BTreeMap::new(), |mut m, (k, v)| {
                    m.entry(k.as_str())
                        .and_modify(|e: &mut String| {
                            e.push_str(", ");
                            e.push_str(v);
                        })
                        .or_insert_with(|| v.clone());
                    m
                });
        let body = serde_json::json!({
            "upstream": name,
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "headers": headers,
            "body": String::from_utf8_lossy(&request.body),
            "hit": hit,
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let keep_alive = request.keep_alive();
        let mut resp_headers: Vec<(&str, &str)> =
            vec![("content-type", "application/json"), ("x-upstream", name)];
        resp_headers.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let body = if request.method == "HEAD" {
            Vec::new()
        } else {
            body
        };
        if write_response(&mut writer, status, &resp_headers, &body, keep_alive).is_err()
            || !keep_alive
        {
            let _ = writer.flush();
            return;
        }
    }
}
