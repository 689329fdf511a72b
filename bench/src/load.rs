//! The load generator: keep-alive HTTP/1.1 clients on plain threads (blocking sockets,
//! `TCP_NODELAY`), the same for every arm.
//!
//! - **Closed loop** ([`closed_loop`]): `conns` connections, each sending the next request
//!   as soon as the previous response is read. Throughput and Envoy CPU are sampled between
//!   two snapshots after a warm-up, while the load keeps running.
//! - **Open loop** ([`open_loop`]): requests scheduled at a fixed rate (slot *k* at
//!   `t0 + k/rate`), taken by a pool of worker connections; each worker sleeps until its
//!   slot. Latency is measured from the moment the request is written to the moment the
//!   whole response is read (exact percentiles over every sample). Slots that start more
//!   than 1 ms late (every worker busy: the proxy is saturated) are counted and reported.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::upstream::content_length;

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    len: usize,
}

/// What one request got.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            stream,
            buf: vec![0; 16 * 1024],
            len: 0,
        })
    }

    /// Sends `request` (complete bytes) and reads one response.
    pub fn call(&mut self, request: &[u8]) -> std::io::Result<Reply> {
        self.stream.write_all(request)?;
        loop {
            if let Some(reply) = self.take_response()? {
                return Ok(reply);
            }
            if self.len == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let n = self.stream.read(&mut self.buf[self.len..])?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            self.len += n;
        }
    }

    fn take_response(&mut self) -> std::io::Result<Option<Reply>> {
        let data = &self.buf[..self.len];
        let Some(head) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Ok(None);
        };
        let head = head + 4;
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
        let status = data
            .get(9..12)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let body_len =
            content_length(&data[..head]).ok_or_else(|| bad("response without content-length"))?;
        if data.len() < head + body_len {
            return Ok(None);
        }
        let body = data[head..head + body_len].to_vec();
        self.buf.copy_within(head + body_len..self.len, 0);
        self.len -= head + body_len;
        Ok(Some(Reply { status, body }))
    }
}

/// Counters shared by closed-loop clients.
#[derive(Default)]
pub struct Counters {
    pub ok: AtomicU64,
    pub errors: AtomicU64,
}

/// A running closed-loop load; stopped (and joined) by [`ClosedLoop::stop`].
pub struct ClosedLoop {
    pub counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

/// Starts `conns` closed-loop clients sending `request` to `addr`.
pub fn closed_loop(addr: SocketAddr, request: Arc<Vec<u8>>, conns: usize) -> ClosedLoop {
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let threads = (0..conns)
        .map(|_| {
            let (counters, stop, request) = (counters.clone(), stop.clone(), request.clone());
            thread::spawn(move || {
                let mut conn = None;
                while !stop.load(Ordering::Relaxed) {
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match Conn::open(addr) {
                            Ok(c) => conn.insert(c),
                            Err(_) => {
                                counters.errors.fetch_add(1, Ordering::Relaxed);
                                thread::sleep(Duration::from_millis(10));
                                continue;
                            }
                        },
                    };
                    match c.call(&request) {
                        Ok(r) if r.status == 200 => {
                            counters.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                            conn = None;
                        }
                    }
                }
            })
        })
        .collect();
    ClosedLoop {
        counters,
        stop,
        threads,
    }
}

impl ClosedLoop {
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Result of an open-loop run.
#[derive(Debug, Default, Clone)]
pub struct OpenLoopResult {
    /// Latencies in nanoseconds (successful requests).
    pub latencies_ns: Vec<u64>,
    pub errors: u64,
    /// Slots that started more than 1 ms after their scheduled time.
    pub late: u64,
    pub sent: u64,
}

/// Sends `request` to `addr` at `rate` requests/s for `duration` with `workers` connections.
pub fn open_loop(
    addr: SocketAddr,
    request: Arc<Vec<u8>>,
    rate: f64,
    duration: Duration,
    workers: usize,
) -> OpenLoopResult {
    let next = Arc::new(AtomicU64::new(0));
    let total = (rate * duration.as_secs_f64()).ceil() as u64;
    let interval_ns = 1e9 / rate;
    let out = Arc::new(Mutex::new(OpenLoopResult::default()));
    // Connect every worker first, then start the clock.
    let conns: Vec<Option<Conn>> = (0..workers).map(|_| Conn::open(addr).ok()).collect();
    let t0 = Instant::now() + Duration::from_millis(5);
    let threads: Vec<_> = conns
        .into_iter()
        .map(|conn| {
            let (next, request, out) = (next.clone(), request.clone(), out.clone());
            thread::spawn(move || {
                let mut conn = conn;
                let mut mine = OpenLoopResult::default();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= total {
                        break;
                    }
                    let due = t0 + Duration::from_nanos((k as f64 * interval_ns) as u64);
                    let now = Instant::now();
                    if due > now {
                        thread::sleep(due - now);
                    } else if now - due > Duration::from_millis(1) {
                        mine.late += 1;
                    }
                    mine.sent += 1;
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match Conn::open(addr) {
                            Ok(c) => conn.insert(c),
                            Err(_) => {
                                mine.errors += 1;
                                continue;
                            }
                        },
                    };
                    let start = Instant::now();
                    match c.call(&request) {
                        Ok(r) if r.status == 200 => {
                            mine.latencies_ns.push(start.elapsed().as_nanos() as u64);
                        }
                        Ok(_) => mine.errors += 1,
                        Err(_) => {
                            mine.errors += 1;
                            conn = None;
                        }
                    }
                }
                let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                o.latencies_ns.append(&mut mine.latencies_ns);
                o.errors += mine.errors;
                o.late += mine.late;
                o.sent += mine.sent;
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let r = out.lock().unwrap_or_else(|e| e.into_inner()).clone();
    r
}

/// The `q` quantile (0..=1) of sorted `v`.
pub fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied()
}
