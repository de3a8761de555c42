//! The generated Cloudflare Worker in real workerd (`wrangler dev`) with local D1: refusals,
//! signed server events, and a real Chromium walking the funnel.

use crate::support;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const SECRET: &str = "test-signing-secret";
const DESKTOP_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// workerd starts in a few seconds; the bound is generous for a busy 2-core machine.
const READY_WITHIN: Duration = Duration::from_secs(120);
/// `/go/` clicks are written in `ctx.waitUntil`, after the redirect: their rows are polled for,
/// within a bound (`/e` and `/s` rows are in D1 when their 204 arrives).
const ROWS_WITHIN: Duration = Duration::from_secs(30);

/// A built example site with its collector running in `wrangler dev`; killed on drop, even
/// when the test panics.
pub(crate) struct Collector {
    pub(crate) site: tempfile::TempDir,
    child: Option<Child>,
    pub(crate) port: u16,
    log: PathBuf,
}

impl Collector {
    /// Build the example site into a temp dir, apply the D1 migrations locally, start the Worker.
    pub(crate) fn start(prepare_public: impl FnOnce(&Path)) -> Collector {
        let site = support::copy_site(&support::example_site());
        Collector::start_with(site, prepare_public, true, true, &[])
    }

    /// As [`Collector::start`], on a site you prepared (a copy of the example, edited).
    pub(crate) fn start_in(site: tempfile::TempDir) -> Collector {
        Collector::start_with(site, |_| {}, true, true, &[])
    }

    /// As [`Collector::start_in`] for a site in mode `route`: what the Worker does not answer
    /// goes to the origin at `upstream` (`host:port`), as a route sends it on.
    pub(crate) fn start_route(site: tempfile::TempDir, upstream: &str) -> Collector {
        Collector::start_with(site, |_| {}, true, true, &["--local-upstream", upstream])
    }

    /// As [`Collector::start_in`], with no `PP_VARIANT_SECRET` in `.dev.vars`.
    pub(crate) fn start_without_variant_key(site: tempfile::TempDir) -> Collector {
        Collector::start_with(site, |_| {}, true, false, &[])
    }

    /// As [`Collector::start`]; without `migrate` the local D1 has no `partner_events` table,
    /// so every write fails (a real D1 failure).
    fn start_with(
        site: tempfile::TempDir,
        prepare_public: impl FnOnce(&Path),
        migrate: bool,
        variant_key: bool,
        extra: &[&str],
    ) -> Collector {
        let wrangler = crate::tools::require_tool(
            "wrangler",
            "wrangler (pinned in package.json) runs the Worker in workerd with local D1",
        );
        let out = support::run(site.path(), &["build"]);
        assert!(
            out.status.success(),
            "build failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let collector = site.path().join("collector");
        assert!(
            collector.join("wrangler.toml").is_file(),
            "build wrote no collector/wrangler.toml"
        );
        prepare_public(&site.path().join("public"));
        let mut vars = format!(
            "PP_SIGNING_SECRET={SECRET}\nPP_STRIPE_WEBHOOK_SECRET={}\n",
            support::stripe::SECRETS.join(",")
        );
        if variant_key {
            vars.push_str(&format!(
                "PP_VARIANT_SECRET={}\n",
                crate::support::experiments::VARIANT_KEY
            ));
        }
        std::fs::write(collector.join(".dev.vars"), vars).unwrap();

        let mut c = Collector {
            log: site.path().join("wrangler-dev.log"),
            site,
            child: None,
            port: free_port(),
        };
        if migrate {
            c.migrate(&wrangler);
        }

        let log = std::fs::File::create(&c.log).unwrap();
        let port = c.port.to_string();
        let inspector = free_port().to_string();
        let mut args = vec![
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            &port,
            // The default inspector port (9229) is shared: two Workers at once would clash.
            "--inspector-port",
            &inspector,
            "--show-interactive-dev-session=false",
        ];
        args.extend_from_slice(extra);
        let mut cmd = c.wrangler_cmd(&wrangler, &args);
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // Own process group, so Drop ends wrangler and its workerd children together.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        c.child = Some(cmd.spawn().expect("spawn wrangler dev"));
        c.wait_ready();
        c
    }

    /// Apply the D1 migrations to the local database (`--persist-to` the site's `d1-state`).
    fn migrate(&self, wrangler: &Path) {
        let applied = self
            .wrangler_cmd(
                wrangler,
                &["d1", "migrations", "apply", "partner-events", "--local"],
            )
            .output()
            .expect("run wrangler");
        assert!(
            applied.status.success(),
            "wrangler d1 migrations apply failed: {}{}",
            String::from_utf8_lossy(&applied.stdout),
            String::from_utf8_lossy(&applied.stderr)
        );
    }

    fn collector_dir(&self) -> PathBuf {
        self.site.path().join("collector")
    }

    pub(crate) fn wrangler_cmd(&self, wrangler: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(wrangler);
        cmd.args(args)
            .arg("--persist-to")
            .arg(self.site.path().join("d1-state"))
            .current_dir(self.collector_dir())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .env("NO_COLOR", "1");
        cmd
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        while start.elapsed() < READY_WITHIN {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("wrangler dev exited with {status}:\n{}", self.log_text());
            }
            // A 404 for an unknown partner means the Worker itself answers.
            if let Ok(r) = try_http(self.port, "GET", "/go/readiness-probe", &[], b"") {
                if r.status == 404 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "wrangler dev was not ready within {READY_WITHIN:?}:\n{}",
            self.log_text()
        );
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether `needle` reaches wrangler dev's log within [`ROWS_WITHIN`]: a Worker's console
    /// output arrives there after the response, through wrangler's inspector connection.
    pub(crate) fn log_shows(&self, needle: &str) -> bool {
        let start = Instant::now();
        loop {
            if self.log_text().contains(needle) {
                return true;
            }
            if start.elapsed() > ROWS_WITHIN {
                return false;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        try_http(self.port, method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log_text()))
    }

    pub(crate) fn beacon(&self, body: &str, headers: &[(&str, &str)]) -> Response {
        self.beacon_bytes(body.as_bytes(), headers)
    }

    fn beacon_bytes(&self, body: &[u8], headers: &[(&str, &str)]) -> Response {
        let mut all = vec![("Content-Type", "text/plain;charset=UTF-8")];
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            all.push(("User-Agent", DESKTOP_UA));
        }
        all.extend_from_slice(headers);
        self.request("POST", "/e", &all, body)
    }

    pub(crate) fn signed(&self, body: &str, timestamp: i64, secret: &str) -> Response {
        let ts = timestamp.to_string();
        let sig = sign(secret, &ts, body);
        self.request(
            "POST",
            "/s",
            &[
                ("X-PP-Timestamp", &ts),
                ("X-PP-Signature", &sig),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    /// Every row of `partner_events`, via `wrangler d1 execute --local --json`.
    pub(crate) fn rows(&self) -> Vec<Value> {
        self.query(
            "SELECT id, partner_code, campaign, event_name, page_path, visitor_id, created_at, value, user_id FROM partner_events ORDER BY created_at, id",
        )
    }

    /// The result rows of one SQL statement on the local D1, read by `sqlite3` from the D1 file in
    /// read-only mode. Not `wrangler d1 execute --local`: that opens the same SQLite file in a
    /// second workerd, read-write and without a busy timeout, so next to the running Worker
    /// either side can fail with SQLITE_BUSY ("database is locked"). The file is in WAL mode: a
    /// read-only reader never blocks the Worker's writes and sees each committed one.
    pub(crate) fn query(&self, sql: &str) -> Vec<Value> {
        let sqlite3 = crate::tools::require_tool(
            "sqlite3",
            "the sqlite3 command reads the local D1 (apt-get install sqlite3)",
        );
        let db = self.d1_file();
        let out = Command::new(sqlite3)
            .args(["-readonly", "-json", "-cmd", ".timeout 10000"])
            .arg(&db)
            .arg(sql)
            .output()
            .expect("run sqlite3");
        assert!(
            out.status.success(),
            "sqlite3 {} failed: {}{}",
            db.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // No row: sqlite3 prints nothing.
        if out.stdout.trim_ascii().is_empty() {
            return Vec::new();
        }
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "sqlite3 printed no JSON array ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// The local D1's SQLite file, as wrangler keeps it under `--persist-to`: the one database
    /// of `v3/d1/miniflare-D1DatabaseObject/` besides its `metadata.sqlite`.
    fn d1_file(&self) -> PathBuf {
        let dir = self
            .site
            .path()
            .join("d1-state/v3/d1/miniflare-D1DatabaseObject");
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "sqlite")
                    && p.file_name().is_some_and(|n| n != "metadata.sqlite")
            })
            .collect();
        assert_eq!(
            files.len(),
            1,
            "one D1 database in {}: {files:?}",
            dir.display()
        );
        files.into_iter().next().unwrap()
    }

    /// Poll until at least `n` rows are there (writes happen after the responses).
    pub(crate) fn rows_at_least(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let rows = self.rows();
            if rows.len() >= n || start.elapsed() > ROWS_WITHIN {
                return rows;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
        }
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    pub(crate) fn text(&self) -> &str {
        &self.body
    }

    pub(crate) fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A minimal HTTP/1.1 client (one request per connection), enough to send exact bytes and
/// headers to the collector, including ones a browser would refuse to send.
pub(crate) fn try_http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    // Read the head, then exactly the body it announces: the server may keep the connection
    // open despite `Connection: close`.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = read_some(&mut stream, &mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other(
                "connection closed before the response head",
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut body = raw[head_end + 4..].to_vec();
    let complete = |body: &[u8]| -> bool {
        if method == "HEAD" || status == 204 || status == 304 {
            true
        } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.len() >= len
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            body.ends_with(b"0\r\n\r\n")
        } else {
            false
        }
    };
    while !complete(&body) {
        let n = read_some(&mut stream, &mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// One `read`, again when a signal interrupted it: the test binary's other threads start and end
/// child processes (wrangler, Chromium), and a SIGCHLD may land on this thread mid-read.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Hex HMAC-SHA256 of `<timestamp>.<body>`, as the product's backend computes it.
fn sign(secret: &str, ts: &str, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or("")
}

fn has_row(rows: &[Value], column: &str, value: &str) -> bool {
    rows.iter().any(|r| field(r, column) == value)
}

#[test]
fn worker_answers_204_only_once_d1_holds_the_row() {
    let c = Collector::start(|_| {});
    for i in 0..2 {
        let path = format!("/ack/beacon/{i}");
        let r = c.beacon(
            &json!({"e": "visit", "p": "seo-consultant", "u": path}).to_string(),
            &[],
        );
        assert_eq!(r.status, 204, "beacon: {}", r.body);
        // Read right after the answer, no polling: the 204 means the row is there.
        let rows = c.rows();
        assert!(
            has_row(&rows, "page_path", &path),
            "the acknowledged beacon row is in D1 when its 204 arrives: {rows:#?}"
        );

        let visitor = format!("ack-server-{i}");
        let body = json!({"event": "revenue", "partner": "nocode-agency",
            "visitor_id": visitor, "value": 12.5})
        .to_string();
        let r = c.signed(&body, now(), SECRET);
        assert_eq!(r.status, 204, "signed revenue: {}", r.body);
        let rows = c.rows();
        assert!(
            has_row(&rows, "visitor_id", &visitor),
            "the acknowledged /s row is in D1 when its 204 arrives: {rows:#?}"
        );
    }
}

#[test]
fn worker_answers_503_with_retry_after_when_the_d1_write_fails_and_redirects_clicks_anyway() {
    let wrangler = crate::tools::require_tool("wrangler", "wrangler runs local D1 migrations");
    // No migrations applied: the local D1 has no partner_events table, every INSERT fails.
    let c = Collector::start_with(
        support::copy_site(&support::example_site()),
        |_| {},
        false,
        true,
        &[],
    );
    let beacon = json!({"e": "visit", "p": "seo-consultant", "u": "/d1-down/beacon"}).to_string();
    let r = c.beacon(&beacon, &[]);
    assert_eq!(r.status, 503, "a beacon whose write failed: {}", r.body);
    assert_eq!(r.header_all("retry-after"), ["5"], "{:?}", r.headers);
    assert!(
        r.header_all("set-cookie").is_empty(),
        "no cookie for an event that was not stored: {:?}",
        r.headers
    );
    let server =
        r#"{"event":"activation","partner":"nocode-agency","visitor_id":"d1-down-server"}"#;
    let r = c.signed(server, now(), SECRET);
    assert_eq!(
        r.status, 503,
        "a signed event whose write failed: {}",
        r.body
    );
    assert_eq!(r.header_all("retry-after"), ["5"], "{:?}", r.headers);
    // A person's navigation is never held up by the database: the click still redirects.
    let r = c.request(
        "GET",
        "/go/seo-consultant",
        &[("User-Agent", DESKTOP_UA)],
        b"",
    );
    assert_eq!(
        r.status, 302,
        "a click redirects even when D1 fails: {}",
        r.body
    );
    assert_eq!(r.header_all("location"), ["/p/seo-consultant/"]);

    // Each failure is logged (console.error reaches wrangler dev's output).
    let start = Instant::now();
    let failures = loop {
        let log = c.log_text();
        let n = log.matches("partner-pages collector: write failed").count()
            + log
                .matches("partner-pages collector: click write failed")
                .count();
        if n >= 3 || start.elapsed() > ROWS_WITHIN {
            break n;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(failures, 3, "three failed writes logged:\n{}", c.log_text());

    // Once D1 works again, the same requests retried are stored, each exactly once: nothing
    // of the failed attempts was half-written.
    c.migrate(&wrangler);
    assert_eq!(c.rows().len(), 0, "the failed writes left no row");
    let r = c.beacon(&beacon, &[]);
    assert_eq!(r.status, 204, "the retried beacon: {}", r.body);
    let r = c.signed(server, now(), SECRET);
    assert_eq!(r.status, 204, "the retried signed event: {}", r.body);
    let rows = c.rows();
    let got: Vec<_> = rows
        .iter()
        .map(|r| (field(r, "event_name"), field(r, "page_path")))
        .collect();
    assert_eq!(
        got.len(),
        2,
        "exactly the two retried events are stored: {rows:#?}"
    );
    assert!(got.contains(&("visit", "/d1-down/beacon")), "{got:?}");
    assert!(got.contains(&("activation", "/s")), "{got:?}");
}

#[test]
fn worker_refuses_bad_requests_writes_nothing_for_them_and_stores_sql_verbatim() {
    let c = Collector::start(|_| {});
    let ua = ("User-Agent", DESKTOP_UA);

    // Mode `assets`: the Worker serves the site, but not the build's bookkeeping.
    let r = c.request("GET", "/pp-beacon.js", &[ua], b"");
    assert_eq!(r.status, 200, "the host-page beacon is served");
    let r = c.request("GET", "/.partner-pages-manifest", &[ua], b"");
    assert_eq!(
        r.status, 404,
        "public/.assetsignore keeps the manifest unserved"
    );

    // Refusals: each gets its status and writes nothing.
    let r = c.request("GET", "/go/no-such-partner?campaign=x", &[ua], b"");
    assert_eq!(r.status, 404, "unknown partner link: {}", r.body);
    let r = c.beacon(
        r#"{"e":"visit","p":"no-such-partner","u":"/refused/unknown-partner"}"#,
        &[],
    );
    assert_eq!(r.status, 400, "unknown partner: {}", r.body);
    let r = c.beacon(
        r#"{"e":"purchase","p":"seo-consultant","u":"/refused/unknown-stage"}"#,
        &[],
    );
    assert_eq!(r.status, 400, "unknown stage: {}", r.body);
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/refused/not-json""#,
        &[],
    );
    assert_eq!(r.status, 400, "malformed body: {}", r.body);
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"relative/path"}"#,
        &[],
    );
    assert_eq!(r.status, 400, "page path not starting with /: {}", r.body);
    let padding = "x".repeat(partner_pages::collector::MAX_BEACON_BODY);
    let big = format!(r#"{{"e":"visit","p":"seo-consultant","u":"/refused/too-big/{padding}"}}"#);
    let r = c.beacon(&big, &[]);
    assert_eq!(r.status, 413, "oversize beacon: {}", r.body);
    let r = c.request("GET", "/e", &[ua], b"");
    assert_eq!(r.status, 405, "GET on the beacon endpoint");

    // Not counted: answered normally, no row, no cookie.
    let bot = (
        "User-Agent",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    );
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/refused/bot"}"#,
        &[bot],
    );
    assert_eq!(r.status, 204, "bot beacon");
    let r = c.request("GET", "/go/seo-consultant", &[bot], b"");
    assert_eq!(r.status, 302, "bot click still redirects");
    assert!(r.header_all("set-cookie").is_empty(), "no cookie for a bot");
    // HEAD from a browser (a link checker, an unfurler) is not a click: same redirect, no row.
    let r = c.request(
        "HEAD",
        "/go/seo-consultant?campaign=webinar-dec",
        &[ua],
        b"",
    );
    assert_eq!(
        r.status, 302,
        "HEAD on a partner link redirects: {}",
        r.body
    );
    assert_eq!(
        r.header_all("location"),
        ["/p/seo-consultant/?campaign=webinar-dec"]
    );
    assert_eq!(r.header_all("cache-control"), ["no-store"]);
    assert!(r.header_all("set-cookie").is_empty(), "no cookie for HEAD");
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/refused/dnt"}"#,
        &[("DNT", "1")],
    );
    assert_eq!(r.status, 204, "DNT beacon");
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/refused/gpc"}"#,
        &[("Sec-GPC", "1")],
    );
    assert_eq!(r.status, 204, "GPC beacon");
    // seo-consultant's activation is server-side: a beacon activation is not its trigger.
    let r = c.beacon(
        r#"{"e":"activation","p":"seo-consultant","u":"/pricing"}"#,
        &[],
    );
    assert_eq!(
        r.status, 204,
        "activation that is not the partner's trigger"
    );

    // Server-to-server refusals.
    let activation =
        r#"{"event":"activation","partner":"nocode-agency","visitor_id":"refused-visitor"}"#;
    let r = c.request("POST", "/s", &[], activation.as_bytes());
    assert_eq!(r.status, 401, "missing signature: {}", r.body);
    let r = c.signed(activation, now(), "not-the-secret");
    assert_eq!(r.status, 401, "bad signature: {}", r.body);
    let r = c.signed(activation, now() - 3600, SECRET);
    assert_eq!(r.status, 401, "stale timestamp: {}", r.body);
    let r = c.signed(
        r#"{"event":"activation","partner":"no-such-partner","visitor_id":"refused-visitor"}"#,
        now(),
        SECRET,
    );
    assert_eq!(r.status, 400, "signed, unknown partner: {}", r.body);
    let r = c.signed(
        r#"{"event":"purchase","partner":"nocode-agency","visitor_id":"refused-visitor"}"#,
        now(),
        SECRET,
    );
    assert_eq!(r.status, 400, "signed, unknown event: {}", r.body);
    let r = c.signed(
        r#"{"event":"revenue","partner":"nocode-agency","visitor_id":"refused-visitor"}"#,
        now(),
        SECRET,
    );
    assert_eq!(r.status, 400, "revenue without a value: {}", r.body);
    let big = format!(
        r#"{{"event":"activation","partner":"nocode-agency","visitor_id":"refused-visitor","user_id":"{}"}}"#,
        "x".repeat(partner_pages::collector::MAX_SERVER_BODY)
    );
    let r = c.signed(&big, now(), SECRET);
    assert_eq!(r.status, 413, "oversize server event: {}", r.body);

    // Valid events, with SQL-looking values that must be stored verbatim.
    let sql_path = "/p/seo-consultant/'); DROP TABLE partner_events; --";
    let r = c.beacon(
        &json!({"e": "visit", "p": "seo-consultant", "c": "webinar-dec", "u": sql_path})
            .to_string(),
        &[],
    );
    assert_eq!(r.status, 204, "valid beacon: {}", r.body);
    let r = c.request(
        "GET",
        "/go/seo-consultant?campaign=not-a-campaign",
        &[ua],
        b"",
    );
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header_all("location"),
        ["/p/seo-consultant/"],
        "unknown campaign -> default, registered landing only"
    );
    let cookies = r.header_all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for ck in &cookies {
        assert!(
            ck.contains("; Path=/; HttpOnly;") && ck.contains("SameSite=Lax; Max-Age=2592000"),
            "{ck}"
        );
        assert!(
            !ck.contains("Secure"),
            "Secure is dropped on http://127.0.0.1: {ck}"
        );
    }
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("pp_src=seo-consultant.default;")),
        "{cookies:?}"
    );
    let sql_visitor = "v1'; DELETE FROM partner_events WHERE '1'='1";
    let body =
        json!({"event": "activation", "partner": "nocode-agency", "campaign": "partner-summit",
        "visitor_id": sql_visitor, "user_id": "1 OR 1=1"})
        .to_string();
    let r = c.signed(&body, now(), SECRET);
    assert_eq!(r.status, 204, "signed activation: {}", r.body);
    let body =
        json!({"event": "revenue", "partner": "nocode-agency", "visitor_id": "visitor-rev-1",
        "value": 49.5, "page_path": "/billing"})
        .to_string();
    let r = c.signed(&body, now(), SECRET);
    assert_eq!(r.status, 204, "signed revenue: {}", r.body);

    let rows = c.rows_at_least(4);
    let mut got: Vec<(String, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                field(r, "event_name").to_string(),
                field(r, "partner_code").to_string(),
                field(r, "campaign").to_string(),
                field(r, "page_path").to_string(),
                field(r, "visitor_id").to_string(),
            )
        })
        .collect();
    got.sort();
    let click_visitor = got
        .iter()
        .find(|r| r.0 == "click")
        .map(|r| r.4.clone())
        .unwrap_or_default();
    let beacon_visitor = got
        .iter()
        .find(|r| r.0 == "visit")
        .map(|r| r.4.clone())
        .unwrap_or_default();
    let s = |v: &str| v.to_string();
    assert_eq!(
        got,
        vec![
            (
                s("activation"),
                s("nocode-agency"),
                s("partner-summit"),
                s("/s"),
                s(sql_visitor)
            ),
            (
                s("click"),
                s("seo-consultant"),
                s("default"),
                s("/go/seo-consultant"),
                click_visitor.clone()
            ),
            (
                s("revenue"),
                s("nocode-agency"),
                s("default"),
                s("/billing"),
                s("visitor-rev-1")
            ),
            (
                s("visit"),
                s("seo-consultant"),
                s("webinar-dec"),
                s(sql_path),
                beacon_visitor.clone()
            ),
        ],
        "exactly the valid rows, none of the refused ones; log:\n{}",
        c.log_text()
    );
    for vid in [&click_visitor, &beacon_visitor] {
        assert_eq!(vid.len(), 36, "a random UUID visitor id: {vid}");
    }
    let by_event = |e: &str| rows.iter().find(|r| field(r, "event_name") == e).unwrap();
    assert_eq!(by_event("activation")["user_id"], "1 OR 1=1");
    assert_eq!(by_event("revenue")["value"], 49.5);
    assert!(by_event("visit")["value"].is_null() && by_event("visit")["user_id"].is_null());
    for r in &rows {
        let at = field(r, "created_at");
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.as_bytes()[19] == b'.',
            "created_at is UTC ISO-8601 with milliseconds: {at}"
        );
    }
}

/// Run `tests/browser/flow.mjs` against the Worker; gives the visitor id the browser holds.
fn browser_flow(c: &Collector, partner: &str, campaign: &str, activation: &str) -> String {
    browser_flow_with(c, partner, campaign, activation, &[]).1
}

/// [`browser_flow`] with extra flow.mjs arguments; gives the flow's JSON too.
fn browser_flow_with(
    c: &Collector,
    partner: &str,
    campaign: &str,
    activation: &str,
    extra: &[&str],
) -> (Value, String) {
    let node =
        crate::tools::require_tool("node", "Node.js drives Chromium through playwright-core");
    crate::tools::require_tool("chromium", "Debian package `chromium`");
    let base = format!("http://127.0.0.1:{}", c.port);
    let out = Command::new(node)
        .arg(support::repo_root().join("tests/browser/flow.mjs"))
        .args([
            "--base",
            &base,
            "--partner",
            partner,
            "--campaign",
            campaign,
        ])
        .args(["--activation", activation])
        .args(extra)
        .current_dir(support::repo_root())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser flow failed: {}\n{}\nwrangler log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        c.log_text()
    );
    let flow: Value = serde_json::from_slice(&out.stdout).expect("flow prints JSON");
    assert_eq!(
        flow["page_errors"],
        json!([]),
        "no uncaught error on the pages: {flow}"
    );
    assert_eq!(
        flow["landing"],
        format!("{base}/p/{partner}/?campaign={campaign}")
    );
    let vid = flow["cookies"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "pp_vid"))
        .and_then(|c| c["value"].as_str())
        .expect("the browser holds the pp_vid cookie")
        .to_string();
    (flow, vid)
}

/// One visitor's rows as (stage, partner, campaign, page_path), in funnel order.
fn journey(rows: &[Value], visitor: &str) -> Vec<(String, String, String, String)> {
    let stage_order = |e: &str| partner_pages::stage::Stage::from_name(e);
    let mut got: Vec<_> = rows
        .iter()
        .filter(|r| field(r, "visitor_id") == visitor)
        .map(|r| {
            (
                stage_order(field(r, "event_name")),
                field(r, "event_name").to_string(),
                field(r, "partner_code").to_string(),
                field(r, "campaign").to_string(),
                field(r, "page_path").to_string(),
            )
        })
        .collect();
    got.sort();
    got.into_iter()
        .map(|(_, e, p, c, u)| (e, p, c, u))
        .collect()
}

fn expected_journey(
    partner: &str,
    campaign: &str,
    activation_path: &str,
) -> Vec<(String, String, String, String)> {
    let landing = format!("/p/{partner}/");
    [
        ("click", format!("/go/{partner}")),
        ("visit", landing.clone()),
        ("lead_magnet", landing.clone()),
        ("cta", landing),
        ("activation", activation_path.to_string()),
    ]
    .into_iter()
    .map(|(e, u)| (e.to_string(), partner.to_string(), campaign.to_string(), u))
    .collect()
}

#[test]
fn chromium_walks_the_funnel_and_the_worker_writes_its_exact_rows() {
    // A host-site page outside the partner pages, carrying the one-line beacon snippet:
    // founder-community's activation trigger is `page: /pricing`.
    let snippet = {
        let site = partner_pages::load(&support::example_site(), &Default::default())
            .expect("example site loads");
        partner_pages::render::beacon::host_snippet(&site)
    };
    let c = Collector::start(|public| {
        std::fs::create_dir_all(public.join("pricing")).unwrap();
        std::fs::write(
            public.join("pricing/index.html"),
            format!("<!doctype html><html lang=\"en\"><head><title>Pricing</title></head><body><h1>Pricing</h1>{snippet}</body></html>\n"),
        )
        .unwrap();
    });
    // Two visitors, two fresh browser profiles: a page trigger on a host page, and a click
    // trigger (ai-tools-directory's landing body has `data-pp-click="copy-snippet"`).
    let pricing_visitor = browser_flow(&c, "founder-community", "slack-digest", "page:/pricing/");
    let snippet_visitor = browser_flow(
        &c,
        "ai-tools-directory",
        "featured-listing",
        "click:copy-snippet",
    );
    assert_ne!(
        pricing_visitor, snippet_visitor,
        "each browser gets its own visitor id"
    );

    let rows = c.rows_at_least(10);
    assert_eq!(rows.len(), 10, "two journeys of five rows: {rows:#?}");
    assert_eq!(
        journey(&rows, &pricing_visitor),
        expected_journey("founder-community", "slack-digest", "/pricing/"),
        "rows: {rows:#?}"
    );
    assert_eq!(
        journey(&rows, &snippet_visitor),
        expected_journey(
            "ai-tools-directory",
            "featured-listing",
            "/p/ai-tools-directory/"
        ),
        "rows: {rows:#?}"
    );

    // The beacon's own promises: opt-outs send nothing, a missing sendBeacon falls back to
    // fetch, a broken transport never surfaces as a page error.
    let node =
        crate::tools::require_tool("node", "Node.js drives Chromium through playwright-core");
    let out = Command::new(node)
        .arg(support::repo_root().join("tests/browser/beacon.mjs"))
        .args(["--base", &format!("http://127.0.0.1:{}", c.port)])
        .args(["--partner", "founder-community"])
        .current_dir(support::repo_root())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "beacon scenarios failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let b: Value = serde_json::from_slice(&out.stdout).expect("beacon.mjs prints JSON");
    for opt_out in ["gpc", "dnt"] {
        assert_eq!(b[opt_out]["calls"], 0, "{opt_out}: nothing sent: {b}");
    }
    assert_eq!(
        b["fallback"]["calls"], 2,
        "fallback: visit and lead_magnet by fetch: {b}"
    );
    assert_eq!(
        b["fallback"]["answered"],
        json!(["lead_magnet", "visit"]),
        "{b}"
    );
    assert_eq!(
        b["throwing"]["calls"], 2,
        "throwing: both events tried: {b}"
    );
    for scenario in ["gpc", "dnt", "fallback", "throwing"] {
        assert_eq!(
            b[scenario]["errors"],
            json!([]),
            "{scenario}: no page error: {b}"
        );
    }
    let rows = c.rows_at_least(12);
    let fallback: Vec<_> = rows
        .iter()
        .map(|r| field(r, "visitor_id"))
        .filter(|v| *v != pricing_visitor && *v != snippet_visitor)
        .collect();
    assert_eq!(
        fallback.len(),
        2,
        "only the fallback scenario wrote rows: {rows:#?}"
    );
    assert_eq!(
        journey(&rows, fallback[0]),
        [
            ("visit", "/p/founder-community/"),
            ("lead_magnet", "/p/founder-community/")
        ]
        .map(|(e, u)| (
            e.into(),
            "founder-community".into(),
            "default".into(),
            u.into()
        ))
        .to_vec(),
        "rows: {rows:#?}"
    );
}

#[test]
fn the_worker_serves_no_dotfile_of_the_output_but_well_known() {
    // What a build killed mid-write can leave (temporaries beside their targets, the marker),
    // a stray dot-folder, and a .well-known file that must stay public.
    let c = Collector::start(|public| {
        let write = |rel: &str, text: &str| {
            let path = public.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(".index.html.pp-tmp-4242", "SECRET-TMP-ROOT");
        write(
            "p/seo-consultant/.index.html.pp-tmp-4242",
            "SECRET-TMP-DEEP",
        );
        write(".partner-pages-writing", "SECRET-MARKER");
        // An earlier version kept its build stamp here (the build now keeps it beside the site).
        write(".partner-pages-stamp", "SECRET-OLD-STAMP");
        write("fixture/.git/config", "SECRET-GIT");
        write(
            ".well-known/security.txt",
            "Contact: mailto:security@example.com\n",
        );
    });
    let public = c.site.path().join("public");
    let ignore = std::fs::read_to_string(public.join(".assetsignore")).expect(".assetsignore");
    for path in [
        "/.index.html.pp-tmp-4242",
        "/p/seo-consultant/.index.html.pp-tmp-4242",
        "/.partner-pages-writing",
        "/.partner-pages-manifest",
        "/.partner-pages-stamp",
        "/.assetsignore",
        "/fixture/.git/config",
    ] {
        assert!(
            public.join(&path[1..]).is_file(),
            "{path} is on disk, so the test means something"
        );
        let r = c.request("GET", path, &[("User-Agent", DESKTOP_UA)], b"");
        assert_eq!(
            r.status, 404,
            "{path} must not be served: {}\n{ignore}",
            r.body
        );
        assert!(
            !r.body.contains("SECRET") && !r.body.contains("pp-tmp"),
            "{path}: {}",
            r.body
        );
    }
    let r = c.request(
        "GET",
        "/.well-known/security.txt",
        &[("User-Agent", DESKTOP_UA)],
        b"",
    );
    assert_eq!(r.status, 200, "{ignore}");
    assert!(r.body.contains("Contact:"), "{}", r.body);
    // The site itself is still served.
    let r = c.request(
        "GET",
        "/p/seo-consultant/",
        &[("User-Agent", DESKTOP_UA)],
        b"",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn chromium_direct_visit_clicking_at_once_keeps_one_visitor_id_in_the_worker() {
    // No /go/ link, so no cookie; visit, lead_magnet and cta all leave before any answer.
    let c = Collector::start(|_| {});
    let (flow, vid) = browser_flow_with(
        &c,
        "ai-tools-directory",
        "featured-listing",
        "click:copy-snippet",
        &["--direct", "1"],
    );
    let page_ids: std::collections::BTreeSet<_> = flow["beacons"]
        .as_array()
        .expect("beacons")
        .iter()
        .map(|b| {
            b["body"]["v"]
                .as_str()
                .expect("every event carries the page id")
        })
        .collect();
    assert_eq!(page_ids.len(), 1, "one page id per page load: {flow}");
    assert_eq!(page_ids.first(), Some(&vid.as_str()), "{flow}");
    let rows = c.rows_at_least(4);
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let landing = "/p/ai-tools-directory/";
    let want: Vec<_> = ["visit", "lead_magnet", "cta", "activation"]
        .into_iter()
        .map(|e| {
            (
                e.to_string(),
                "ai-tools-directory".to_string(),
                "featured-listing".to_string(),
                landing.to_string(),
            )
        })
        .collect();
    assert_eq!(
        journey(&rows, &vid),
        want,
        "one journey, one visitor id: {rows:#?}"
    );
}

/// `POST /e` with a chunked body of `chunks` x 1 KB (no Content-Length); the answer's status.
fn chunked_beacon(port: u16, chunks: usize) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "POST /e HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: {DESKTOP_UA}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
    for _ in 0..chunks {
        // The server may answer and stop reading before the end: that is its right.
        if stream.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        match read_some(&mut stream, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&raw);
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))
}

#[test]
fn an_oversize_chunked_body_gets_413_and_the_next_requests_are_served() {
    let c = Collector::start(|_| {});
    let ok = r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/after-chunked"}"#;
    for round in 0..3 {
        let status = chunked_beacon(c.port, 64)
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{}", c.log_text()));
        assert_eq!(status, 413, "round {round}\n{}", c.log_text());
        let next = c.beacon(ok, &[]);
        assert_eq!(
            next.status,
            204,
            "round {round}: the request after a refused chunked body: {}\n{}",
            next.body,
            c.log_text()
        );
    }
    assert_eq!(
        c.rows()
            .iter()
            .filter(|r| field(r, "page_path").ends_with("after-chunked"))
            .count(),
        3
    );
}

/// The beacon cases of `tests/fixtures/collector/beacon.json` (each body without cookies and
/// with the file's cookie) and the ids of `ids.json` (each as a beacon's page id): the Worker
/// answers each with the status the file states (the plain tier holds the Rust rules to the
/// same file), sets the visitor cookie to the adopted id, and writes exactly the rows stated.
#[test]
fn worker_and_the_local_collector_rules_agree_on_every_beacon_case() {
    use crate::support::collector::{expand, fixture};
    let c = Collector::start(|_| {});
    let (_, f) = fixture("beacon");
    let cookie = f["cookie"].as_str().unwrap();
    let mut expected: Vec<Value> = Vec::new();
    let mut check = |body: &[u8], jar: Option<&str>, want: &Value| {
        let mut headers = vec![];
        if let Some(ck) = jar {
            headers.push(("Cookie", ck));
        }
        let r = c.beacon_bytes(body, &headers);
        assert_eq!(
            u64::from(r.status),
            want["status"].as_u64().unwrap(),
            "the Worker disagrees with the file on {:?} (cookie {jar:?}): it said {} {}",
            String::from_utf8_lossy(body),
            r.status,
            r.body
        );
        if want["row"].is_null() {
            return;
        }
        if let (true, Some(vid)) = (want["vid_cookie"] == true, want["row"][4].as_str()) {
            let set = r.header_all("set-cookie");
            assert!(
                set.iter().any(|c| c.starts_with(&format!("pp_vid={vid};"))),
                "the Worker sets pp_vid to the adopted id for {:?}: {set:?}",
                String::from_utf8_lossy(body)
            );
        }
        expected.push(want["row"].clone());
    };
    for case in f["cases"].as_array().unwrap() {
        let body = case["body"].as_str().unwrap();
        for (pass, jar) in [("a", None), ("b", Some(cookie))] {
            check(&expand(body, pass), jar, &case[pass]);
        }
    }
    let (_, ids) = fixture("ids");
    for (i, case) in ids["ids"].as_array().unwrap().iter().enumerate() {
        let id = &case["id"];
        let body = json!({"e": "visit", "p": "seo-consultant", "u": format!("/ids/{i}"), "v": id});
        let want = if case["valid"] == true {
            json!({"status": 204, "row": ["visit", "seo-consultant", "default", format!("/ids/{i}"), id], "vid_cookie": true})
        } else {
            json!({"status": 400, "row": null})
        };
        check(body.to_string().as_bytes(), None, &want);
    }
    assert!(expected.len() >= 40, "the files record rows: {expected:?}");

    // A visitor id the files state is kept exactly; any other is a fresh one (null).
    let kept: std::collections::BTreeSet<String> = expected
        .iter()
        .filter_map(|r| r[4].as_str().map(String::from))
        .collect();
    let mut got: Vec<Value> = c
        .rows()
        .iter()
        .map(|r| {
            let vid = field(r, "visitor_id");
            json!([
                field(r, "event_name"),
                field(r, "partner_code"),
                field(r, "campaign"),
                field(r, "page_path"),
                kept.contains(vid).then_some(vid),
            ])
        })
        .collect();
    let key = |v: &Value| v.to_string();
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(
        got, expected,
        "the Worker wrote exactly the rows the file states"
    );
}

/// The signed cases of `tests/fixtures/collector/server.json`: the Worker answers each body
/// and each changed signature with the status the file states and writes exactly its rows.
#[test]
fn worker_and_the_local_collector_rules_agree_on_every_signed_case() {
    use crate::support::collector::{expand, fixture, signed};
    let c = Collector::start(|_| {});
    let (_, f) = fixture("server");
    let mut expected: Vec<Value> = Vec::new();
    let mut send = |body: &[u8], ts: &str, sig: Option<&str>, want: &Value| {
        let mut headers = vec![("X-PP-Timestamp", ts)];
        if let Some(sig) = sig {
            headers.push(("X-PP-Signature", sig));
        }
        let r = c.request("POST", "/s", &headers, body);
        assert_eq!(
            u64::from(r.status),
            want["status"].as_u64().unwrap(),
            "the Worker disagrees with the file on {:?} (ts {ts}, sig {sig:?}): it said {} {}",
            String::from_utf8_lossy(body),
            r.status,
            r.body
        );
        if !want["row"].is_null() {
            expected.push(want["row"].clone());
        }
    };
    let cases = f["cases"].as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        let body = expand(case["body"].as_str().unwrap(), &i.to_string());
        let ts = now();
        let sig = partner_pages::collector::requests::sign(SECRET.as_bytes(), ts, &body);
        send(&body, &ts.to_string(), Some(&sig), &case["expect"]);
    }
    let body = f["signature_body"].as_str().unwrap();
    for (i, case) in f["signatures"].as_array().unwrap().iter().enumerate() {
        let marked = String::from_utf8(expand(body, &(cases.len() + i).to_string())).unwrap();
        let (b, ts, sig) = signed(&marked, case["change"].as_str().unwrap(), now());
        send(b.as_bytes(), &ts, sig.as_deref(), &case["expect"]);
    }
    assert!(expected.len() >= 15, "the file records rows: {expected:?}");

    let mut got: Vec<Value> = c
        .rows()
        .iter()
        .map(|r| {
            json!([
                field(r, "event_name"),
                field(r, "campaign"),
                field(r, "page_path"),
                field(r, "visitor_id"),
                r["value"].as_f64(),
                r["user_id"],
            ])
        })
        .collect();
    let key = |v: &Value| v.to_string();
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(
        got, expected,
        "the Worker wrote exactly the rows the file states"
    );
}

#[test]
fn the_worker_serves_a_hosted_kit_only_at_its_secret_path() {
    use crate::support::{
        build_with_kit_secret, kit_token as token, opt_in_hosted_kits, KIT_SECRET_A as SECRET_A,
        KIT_SECRET_B as SECRET_B,
    };
    let code = "nocode-agency";
    let c = Collector::start(|public| {
        // Rebuilt with hosted kits before the Worker starts.
        let root = public.parent().unwrap();
        opt_in_hosted_kits(root);
        let out = build_with_kit_secret(root, Some(SECRET_A));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let get = |path: &str| c.request("GET", path, &[("User-Agent", DESKTOP_UA)], b"");
    let right = format!("/kits/{}/", token(SECRET_A, code));
    let r = get(&right);
    assert_eq!(r.status, 200, "{right}");
    assert!(r.body.contains("25% recurring for 12 months"), "{}", r.body);
    for wrong in [
        format!("/kits/{}/", token(SECRET_B, code)),
        format!("/kits/{}/", &token(SECRET_A, code)[..31]),
        format!("/p/{code}/kit/"),
        format!("/kits/{code}/"),
        "/kits/".to_string(),
    ] {
        let r = get(&wrong);
        assert_eq!(r.status, 404, "{wrong}: {}", r.body);
        assert!(!r.body.contains("recurring"), "{wrong}: {}", r.body);
    }
}

/// `npx wrangler d1 execute <db> --remote ...` as the pull runs it, sent to the local D1 of
/// `persist_to` instead (there is no remote here): the real wrangler, the real D1 engine.
struct LocalD1 {
    wrangler: PathBuf,
    persist_to: PathBuf,
}

impl partner_pages::events::wrangler::CommandRunner for LocalD1 {
    fn run(
        &self,
        program: &str,
        args: &[String],
        dir: &Path,
    ) -> partner_pages::error::Result<Vec<u8>> {
        assert_eq!((program, args[0].as_str()), ("npx", "wrangler"));
        let args: Vec<&str> = args[1..]
            .iter()
            .map(|a| {
                if a == "--remote" {
                    "--local"
                } else {
                    a.as_str()
                }
            })
            .collect();
        let out = Command::new(&self.wrangler)
            .args(&args)
            .arg("--persist-to")
            .arg(&self.persist_to)
            .current_dir(dir)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .env("NO_COLOR", "1")
            .output()
            .expect("run wrangler");
        assert!(
            out.status.success(),
            "wrangler {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out.stdout)
    }
}

#[test]
fn the_d1_pull_fetches_a_late_committed_earlier_row_once() {
    use partner_pages::events::wrangler::{pull_remote, CommandRunner};
    let wrangler = crate::tools::require_tool("wrangler", "wrangler runs the local D1");
    let site = support::copy_site(&support::example_site());
    support::run_ok(site.path(), &["build"]);
    let collector = site.path().join("collector");
    let d1 = LocalD1 {
        wrangler,
        persist_to: site.path().join("d1-state"),
    };
    let execute = |sql: &str| {
        let args: Vec<String> = [
            "wrangler",
            "d1",
            "execute",
            "partner-events",
            "--remote",
            "--command",
            sql,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        d1.run("npx", &args, &collector).unwrap();
    };
    let migrate: Vec<String> = [
        "wrangler",
        "d1",
        "migrations",
        "apply",
        "partner-events",
        "--remote",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    d1.run("npx", &migrate, &collector).unwrap();
    let row = |id: &str, at: &str| {
        format!("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES ('{id}', 'seo-consultant', 'default', 'visit', '/p/seo-consultant/', 'v-{id}', '{at}')")
    };
    execute(&format!(
        "{}; {}; {}",
        row("a", "2026-11-17T10:00:00.000Z"),
        row("b", "2026-11-17T10:05:00.000Z"),
        row("c", "2026-11-17T10:09:00.000Z")
    ));
    let cache = site
        .path()
        .join(".partner-pages/cache/d1-partner-events.sqlite");
    let codes = ["seo-consultant".to_string()];
    let first = pull_remote(&d1, &collector, "partner-events", &codes, &cache).unwrap();
    assert_eq!(first, 3);
    // Another Worker's INSERT commits now, with a created_at before the newest pulled row.
    execute(&row("late", "2026-11-17T10:04:59.999Z"));
    let second = pull_remote(&d1, &collector, "partner-events", &codes, &cache).unwrap();
    assert_eq!(second, 1, "the late row, and only it, is new");
    let ids: Vec<String> = rusqlite::Connection::open(&cache)
        .unwrap()
        .prepare("SELECT id FROM partner_events ORDER BY created_at, id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, ["a", "late", "b", "c"], "every row once");
    // A third pull reads the window again and adds nothing.
    assert_eq!(
        pull_remote(&d1, &collector, "partner-events", &codes, &cache).unwrap(),
        0
    );
}
