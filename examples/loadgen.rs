//! Load generator for `scripts/bench-collector`: N requests from C keep-alive HTTP/1.1 clients.
//!
//! Loopback only. Every client sends one request at a time on its own connection and waits for
//! the answer (a beacon is acknowledged only once its row is committed), so the figures are
//! end-to-end: parse, validate, queue, commit, answer.
//!
//! ```text
//! cargo run --release --example loadgen -- --addr 127.0.0.1:8080 --events 100000 --clients 50
//! ```
//!
//! Bounded in count and time: at most `--events` requests, none started after `--max-secs`
//! (default 300), and an answer that takes longer than `--request-secs` (default 30) counts as an
//! error; a client whose connection fails reconnects and goes on.
//!
//! Prints one line: `requests=<n> ok=<n> errors=<n> seconds=<s> per_sec=<r> p50_us=<t>
//! p99_us=<t> stopped_early=<0|1>`. `ok` counts the answers with the expected status (204 for a
//! beacon: an acknowledged event), `errors` any other status, a failed connection or a timeout,
//! `requests` = ok + errors, and the rate is answered requests per second.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A browser user agent: the collector does not count bots.
const UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

struct Opts {
    addr: SocketAddr,
    events: usize,
    clients: usize,
    partner: String,
    /// `beacon` (POST /e) or a path to GET (the static-file peer).
    mode: String,
    expect: u16,
    max_secs: f64,
    request_secs: f64,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        addr: "127.0.0.1:8080".parse().map_err(|e| format!("{e}"))?,
        events: 100_000,
        clients: 50,
        partner: "seo-consultant".into(),
        mode: "beacon".into(),
        expect: 204,
        max_secs: 300.0,
        request_secs: 30.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => o.addr = value.parse().map_err(|e| format!("--addr: {e}"))?,
            "--events" => o.events = value.parse().map_err(|e| format!("--events: {e}"))?,
            "--clients" => o.clients = value.parse().map_err(|e| format!("--clients: {e}"))?,
            "--partner" => o.partner = value,
            "--max-secs" => o.max_secs = value.parse().map_err(|e| format!("--max-secs: {e}"))?,
            "--request-secs" => {
                o.request_secs = value.parse().map_err(|e| format!("--request-secs: {e}"))?
            }
            "--get" => {
                o.mode = value;
                o.expect = 200;
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if !o.addr.ip().is_loopback() {
        return Err("loopback addresses only".into());
    }
    Ok(o)
}

fn request(o: &Opts, client: usize) -> Vec<u8> {
    if o.mode == "beacon" {
        let body = format!(r#"{{"e":"visit","p":"{p}","u":"/p/{p}/"}}"#, p = o.partner);
        // One stable visitor per client, as a browser with its cookie would be.
        format!(
            "POST /e HTTP/1.1\r\nHost: {}\r\nUser-Agent: {UA}\r\nContent-Type: text/plain\r\n\
             Cookie: pp_vid=loadgen-client-{client:04}\r\nContent-Length: {}\r\n\r\n{body}",
            o.addr,
            body.len()
        )
        .into_bytes()
    } else {
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {UA}\r\n\r\n",
            o.mode, o.addr
        )
        .into_bytes()
    }
}

/// Read one response; gives its status. Handles `Content-Length` bodies (ours always have one
/// or none).
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..end + 4 + len);
            return Ok(status);
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// What one client saw: latencies of answered requests, expected answers, other outcomes.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    ok: usize,
    errors: usize,
    stopped_early: bool,
}

async fn connect(o: &Opts) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(o.addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

async fn client(o: Arc<Opts>, id: usize, next: Arc<AtomicUsize>, deadline: Instant) -> Tally {
    let req = request(&o, id);
    let per_request = Duration::from_secs_f64(o.request_secs);
    let mut tally = Tally::default();
    let mut conn: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(8192);
    let mut failed_connects = 0;
    while next.fetch_add(1, Ordering::Relaxed) < o.events {
        if Instant::now() >= deadline {
            tally.stopped_early = true;
            break;
        }
        if conn.is_none() {
            match connect(&o).await {
                Ok(s) => {
                    conn = Some(s);
                    buf.clear();
                    failed_connects = 0;
                }
                Err(e) => {
                    tally.errors += 1;
                    failed_connects += 1;
                    if failed_connects >= 10 {
                        eprintln!("loadgen: client {id} gives up: {e}");
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let Some(s) = conn.as_mut() else { continue };
        let t = Instant::now();
        let answer = tokio::time::timeout(per_request, async {
            s.write_all(&req).await?;
            read_response(s, &mut buf).await
        })
        .await;
        match answer {
            Ok(Ok(status)) => {
                tally
                    .latencies
                    .push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if status == o.expect {
                    tally.ok += 1;
                } else {
                    tally.errors += 1;
                }
            }
            // A failed or timed-out request: its connection is dropped, the next one reconnects.
            Ok(Err(_)) | Err(_) => {
                tally.errors += 1;
                conn = None;
            }
        }
    }
    tally
}

#[tokio::main]
async fn main() {
    let o = match parse_args() {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    };
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(o.max_secs);
    let tasks: Vec<_> = (0..o.clients)
        .map(|id| tokio::spawn(client(o.clone(), id, next.clone(), deadline)))
        .collect();
    let mut all = Vec::with_capacity(o.events);
    let (mut ok, mut errors, mut stopped_early) = (0, 0, false);
    for t in tasks {
        match t.await {
            Ok(tally) => {
                all.extend(tally.latencies);
                ok += tally.ok;
                errors += tally.errors;
                stopped_early |= tally.stopped_early;
            }
            Err(e) => {
                eprintln!("loadgen: a client panicked: {e}");
                errors += 1;
            }
        }
    }
    let secs = started
        .elapsed()
        .max(Duration::from_micros(1))
        .as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "requests={} ok={} errors={} seconds={:.3} per_sec={:.0} p50_us={} p99_us={} stopped_early={}",
        ok + errors,
        ok,
        errors,
        secs,
        all.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        u8::from(stopped_early)
    );
    if errors > 0 || stopped_early {
        std::process::exit(1);
    }
}
