//! The upstream every arm forwards to: a minimal HTTP/1.1 keep-alive server on plain
//! threads (one per connection) that answers every request with a fixed response.
//! Two of them run: `bench` (200, body `bench`: the last rule's destination) and
//! `decoy` (418, body `decoy`: every other rule's destination), so a request routed by
//! the wrong rule is counted as an error.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

pub struct Upstream {
    addr: SocketAddr,
}

impl Upstream {
    /// Binds 127.0.0.1:0 and serves `status` with body `body` until the process exits.
    pub fn spawn(status: &str, body: &str) -> std::io::Result<Upstream> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        thread::Builder::new()
            .name(format!("upstream-{body}"))
            .spawn(move || {
                for conn in listener.incoming().flatten() {
                    let response = response.clone();
                    let _ = thread::Builder::new()
                        .name("upstream-conn".into())
                        .spawn(move || serve(conn, &response));
                }
            })?;
        Ok(Upstream { addr })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

fn serve(mut conn: TcpStream, response: &[u8]) {
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    let mut len = 0;
    loop {
        // Answer every complete request in the buffer (pipelining-safe).
        while let Some(end) = request_end(&buf[..len]) {
            if conn.write_all(response).is_err() {
                return;
            }
            buf.copy_within(end..len, 0);
            len -= end;
        }
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match conn.read(&mut buf[len..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => len += n,
        }
    }
}

/// End of the first complete request (headers + `content-length` body) in `buf`.
fn request_end(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body = content_length(&buf[..head]).unwrap_or(0);
    (buf.len() >= head + body).then_some(head + body)
}

/// `content-length` of a header block (case-insensitive name).
pub fn content_length(head: &[u8]) -> Option<usize> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = std::str::from_utf8(line).ok()?;
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}
