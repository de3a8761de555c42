//! Hostile input end to end: every event reader and the MCP server run over the corpus in
//! `tests/fixtures/hostile/` (plus big files made here) under a 1 GB address-space limit, and
//! must answer with a located error (exit 1, or a tool error), never a signal or a panic. Also
//! the site loader's symbolic-link rule.

use crate::support;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// 1 GB of address space, as `ulimit -v` counts it (KiB).
const ADDRESS_SPACE_KIB: u64 = 1 << 20;
const NOW: &str = "2026-11-20T00:00:00Z";

/// `partner-pages <args>` under the address-space limit (`ulimit -v` in `sh`, then `exec`).
fn limited() -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(support::bin())
        .env_remove("PARTNER_PAGES_ROOT");
    cmd
}

/// The committed corpus and the big files that are made rather than committed.
fn corpus(scratch: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(support::repo_root().join("tests/fixtures/hostile"))
            .expect("tests/fixtures/hostile exists")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x != "md"))
            .collect();
    files.sort();
    assert!(files.len() >= 12, "the corpus lost files: {files:?}");
    let head = "CREATE TABLE partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL, campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL, visitor_id TEXT, created_at TEXT NOT NULL);\n";
    let row = |value: &str| {
        format!("INSERT INTO partner_events VALUES('a','seo-consultant','default','visit',{value},'v','2026-11-17T10:00:00.000Z');\n")
    };
    let n = 50_000;
    let made = [
        // a(a(a(...'x'...))) 50,000 deep: a stack overflow before the nesting limit.
        (
            "nested-50000.sql",
            format!(
                "{head}{}",
                row(&format!("{}'x'{}", "a(".repeat(n), ")".repeat(n)))
            ),
        ),
        (
            "nested-replace-50000.sql",
            format!(
                "{head}{}",
                row(&format!(
                    "{}'x'{}",
                    "replace(".repeat(n),
                    ",'a','b')".repeat(n)
                ))
            ),
        ),
        // One 40 MB string literal, a 40 MB statement without `;` or line end.
        (
            "huge-string.sql",
            format!("{head}{}", row(&format!("'/{}'", "x".repeat(40 << 20)))),
        ),
        (
            "no-line-end.sql",
            format!(
                "INSERT INTO partner_events VALUES('{}",
                "y".repeat(40 << 20)
            ),
        ),
        // 70 MB of wrangler JSON (read whole, so refused by size).
        ("huge.json", {
            let one = r#"{"id":"a","partner_code":"seo-consultant","campaign":"default","event_name":"visit","page_path":"/p/","visitor_id":"v","created_at":"2026-11-17T10:00:00.000Z"}"#;
            let rows = vec![one; (70 << 20) / one.len()].join(",");
            format!(r#"[{{"results":[{rows}],"success":true,"meta":{{}}}}]"#)
        }),
    ];
    for (name, text) in made {
        let p = scratch.join(name);
        std::fs::write(&p, text).unwrap();
        files.push(p);
    }
    files
}

fn assert_refused(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit 1 (a located error), got {:?}\nstderr:\n{}",
        out.status,
        stderr.chars().take(2000).collect::<String>()
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!stderr.trim().is_empty(), "{what}: says what is wrong");
}

#[test]
fn every_reader_refuses_the_hostile_corpus_with_exit_1_under_1_gb() {
    let site = support::copy_site(&support::example_site());
    let scratch = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().to_str().unwrap();
    for file in corpus(scratch.path()) {
        let events = file.to_str().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let range = ["--now", NOW, "--last", "365d"];
        let runs: Vec<Vec<&str>> = vec![
            [&["report", "--events", events][..], &range].concat(),
            [
                &["report", "--events", events, "--format", "json"][..],
                &range,
            ]
            .concat(),
            [&["leads", "--events", events][..], &range].concat(),
            vec!["calendar", "--events", events, "--now", NOW],
            vec!["build", "--events", events, "--out", out],
        ];
        for args in runs {
            let run = limited()
                .arg("--root")
                .arg(site.path())
                .args(&args)
                .output()
                .unwrap();
            assert_refused(&run, &format!("{name}: {}", args[0]));
        }
    }
}

/// A minimal MCP client on a server started under the address-space limit.
struct Mcp {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
    next_id: u64,
}

impl Mcp {
    fn start(root: &Path) -> Mcp {
        let mut child = limited()
            .arg("--root")
            .arg(root)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut mcp = Mcp {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        mcp.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
        );
        mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        mcp
    }

    fn send(&mut self, msg: &Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(300))
                .unwrap_or_else(|_| {
                    let status = self.child.try_wait();
                    panic!(
                        "no answer to {method} {params}: the server stopped ({status:?}) or hung"
                    )
                });
            let msg: Value = serde_json::from_str(&line).unwrap();
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }
}

#[test]
fn the_mcp_server_answers_every_hostile_file_with_a_tool_error_and_keeps_running() {
    let site = support::copy_site(&support::example_site());
    let scratch = tempfile::tempdir().unwrap();
    let mut mcp = Mcp::start(site.path());
    for file in corpus(scratch.path()) {
        let events = file.to_str().unwrap();
        for (tool, args) in [
            (
                "funnel_report",
                json!({"events": events, "now": NOW, "last": "365d"}),
            ),
            (
                "experiments",
                json!({"events": events, "now": NOW, "last": "365d"}),
            ),
            (
                "leads",
                json!({"events": events, "now": NOW, "last": "365d"}),
            ),
            ("calendar_tasks", json!({"events": events, "now": NOW})),
        ] {
            let resp = mcp.request("tools/call", json!({"name": tool, "arguments": args}));
            assert_eq!(
                resp["result"]["isError"],
                true,
                "{}: {tool} answers a tool error: {resp}",
                file.display()
            );
        }
    }
    let resp = mcp.request(
        "tools/call",
        json!({"name": "list_partners", "arguments": {}}),
    );
    assert_eq!(resp["result"]["isError"], false, "{resp}");
    drop(mcp.stdin.take());
    let status = mcp.child.wait().unwrap();
    assert!(status.success(), "the server exits cleanly: {status:?}");
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_site_or_to_other_files_are_refused_without_their_content() {
    use std::os::unix::fs::symlink;
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.yaml"),
        "SECRET_OUTSIDE: hunter2\n",
    )
    .unwrap();
    std::fs::write(outside.path().join("notes.md"), "OUTSIDE-MARKDOWN\n").unwrap();
    std::fs::write(root.join(".env"), "API_KEY=sekrit-in-env\n").unwrap();
    symlink(
        outside.path().join("secret.yaml"),
        root.join("partners/outside.yaml"),
    )
    .unwrap();
    symlink(root.join(".env"), root.join("partners/env.yaml")).unwrap();
    symlink(
        outside.path().join("notes.md"),
        root.join("content/outside.md"),
    )
    .unwrap();
    // The example site uses the built-in templates: the override is the site's own file.
    std::fs::create_dir_all(root.join("templates")).unwrap();
    let _ = std::fs::remove_file(root.join("templates/page.html"));
    symlink(root.join(".env"), root.join("templates/page.html")).unwrap();
    let run = support::run(root, &["check"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    for secret in ["hunter2", "sekrit-in-env", "OUTSIDE-MARKDOWN"] {
        assert!(!stderr.contains(secret), "{secret} leaked:\n{stderr}");
    }
    for (file, why) in [
        ("partners/outside.yaml", "outside the site"),
        ("partners/env.yaml", "a file of another kind"),
        ("content/outside.md", "outside the site"),
    ] {
        assert!(
            stderr.contains(&format!("`{file}` is a symbolic link")) && stderr.contains(why),
            "{file}: {why}\n{stderr}"
        );
    }
    // The config too.
    let config = root.join("partner-pages.yaml");
    std::fs::rename(&config, outside.path().join("config.yaml")).unwrap();
    symlink(outside.path().join("config.yaml"), &config).unwrap();
    let run = support::run(root, &["check"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("`partner-pages.yaml` is a symbolic link")
            && stderr.contains("outside the site"),
        "{stderr}"
    );
    std::fs::remove_file(&config).unwrap();
    std::fs::rename(outside.path().join("config.yaml"), &config).unwrap();
    // Templates are read by the build, once the site itself loads.
    for f in [
        "partners/outside.yaml",
        "partners/env.yaml",
        "content/outside.md",
    ] {
        std::fs::remove_file(root.join(f)).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let run = support::run(root, &["build", "--out", out.path().to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("sekrit-in-env"), "leaked:\n{stderr}");
    assert!(
        stderr.contains("`templates/page.html` is a symbolic link")
            && stderr.contains("a file of another kind"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_content_file_inside_the_site_is_built() {
    use std::os::unix::fs::symlink;
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    std::fs::create_dir_all(root.join("drafts")).unwrap();
    std::fs::write(
        root.join("drafts/linked.md"),
        "---\ntitle: Linked page\ndescription: A page reached through a link.\nkind: page\n---\n\nLINKED-BODY\n",
    )
    .unwrap();
    symlink(
        root.join("drafts/linked.md"),
        root.join("content/linked.md"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    support::run_ok(root, &["build", "--out", out.path().to_str().unwrap()]);
    let built = support::tree(out.path());
    assert!(
        built.iter().any(|(name, bytes)| name.ends_with(".html")
            && String::from_utf8_lossy(bytes).contains("LINKED-BODY")),
        "the linked page was built: {:?}",
        built.keys().collect::<Vec<_>>()
    );
}

/// Open files the test process may hold (`Max open files` of /proc/self/limits, soft limit).
fn open_file_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(1024)
}

#[test]
fn serve_answers_at_once_while_2000_idle_connections_wait_and_closes_them_after_the_read_timeout() {
    use std::io::Read;
    const IDLE: usize = 2000;
    let limit = open_file_limit();
    assert!(
        limit >= (IDLE as u64) * 2 + 200,
        "this test holds {IDLE} sockets (and serve as many): raise the open-file limit \
         (`ulimit -n 8192`), it is {limit}"
    );
    let s = crate::support::serve::Serve::start(&["--no-watch", "--read-timeout", "3"]);
    let opened = std::time::Instant::now();
    let idle: Vec<std::net::TcpStream> = (0..IDLE)
        .map(|_| std::net::TcpStream::connect(s.addr).expect("connect"))
        .collect();
    // A normal request is answered within a second while they all wait.
    let asked = std::time::Instant::now();
    let r = s.get("/", &[]);
    let took = asked.elapsed();
    assert_eq!(r.status, 200);
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    // After the read timeout every idle socket is closed by the server: a read gives the end
    // of the stream (or a reset), not a wait. Sockets the kernel queued past the listen backlog
    // are accepted (and timed) a little later, so allow a few seconds more.
    std::thread::sleep(Duration::from_secs(3).saturating_sub(opened.elapsed()));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut open = idle;
    while !open.is_empty() && std::time::Instant::now() < deadline {
        open.retain(|c| {
            let mut c = c;
            c.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            let mut buf = [0u8; 256];
            match c.read(&mut buf) {
                Ok(_) => false,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
                Err(_) => true,
            }
        });
    }
    let still_open = open.len();
    assert_eq!(
        still_open, 0,
        "idle connections left open after the read timeout"
    );
    assert_eq!(s.get("/", &[]).status, 200);
}

/// One keep-alive client: `n` beacons on one connection; the number answered 204.
fn beacons_on_one_connection(addr: std::net::SocketAddr, n: usize) -> usize {
    use std::io::Read;
    let body = r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#;
    let request = format!(
        "POST /e HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        crate::support::serve::BROWSER_UA,
        body.len()
    );
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reader = BufReader::new(c.try_clone().unwrap());
    let mut ok = 0;
    for _ in 0..n {
        if c.write_all(request.as_bytes()).is_err() {
            break;
        }
        // The head of the answer; 204 has no body, anything else says its length.
        let mut status = String::new();
        if reader.read_line(&mut status).unwrap_or(0) == 0 {
            break;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return ok;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut skip = vec![0u8; length];
        let _ = reader.read_exact(&mut skip);
        if status.starts_with("HTTP/1.1 204") {
            ok += 1;
        }
    }
    ok
}

#[test]
fn serve_keeps_its_wal_under_64_mb_through_50000_events_and_kill_9_loses_none() {
    const CLIENTS: usize = 16;
    const EACH: usize = 3125;
    let mut s = crate::support::serve::Serve::start(&["--no-watch"]);
    let wal = {
        let mut p = s.db.clone().into_os_string();
        p.push("-wal");
        PathBuf::from(p)
    };
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (wal, done) = (wal.clone(), done.clone());
        std::thread::spawn(move || {
            let mut max = 0u64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                max = max.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(20));
            }
            max
        })
    };
    let addr = s.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| std::thread::spawn(move || beacons_on_one_connection(addr, EACH)))
        .collect();
    let acked: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let max_wal = sampler.join().unwrap();
    assert_eq!(acked, CLIENTS * EACH, "every event answered 204");
    eprintln!("WAL: at most {max_wal} bytes during {acked} events");
    assert!(
        max_wal < 64 << 20,
        "the WAL grew to {max_wal} bytes during {acked} events"
    );
    // SIGKILL: no graceful shutdown, no final checkpoint; every acknowledged event is there.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let rows: i64 = rusqlite::Connection::open(&s.db)
        .unwrap()
        .query_row("SELECT count(*) FROM partner_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as usize, acked);
}

#[test]
fn serve_takes_a_visitor_id_cookie_only_in_the_form_it_issues() {
    let s = crate::support::serve::Serve::start(&["--no-watch"]);
    let body = r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#;
    let issued = "6f1c2a3b-4d5e-4f60-9a1b-2c3d4e5f6a7b";
    for chosen in ["visitor1", "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", issued] {
        let r = s.beacon(body, &[("Cookie", &format!("pp_vid={chosen}"))]);
        assert_eq!(r.status, 204, "{}", r.text());
        let row = s.rows().pop().unwrap();
        let vid = row.visitor_id.unwrap();
        if chosen == issued {
            assert_eq!(vid, issued, "an issued id is kept");
        } else {
            assert_ne!(vid, chosen, "a chosen id is not stored");
            assert!(
                partner_pages::collector::requests::valid_page_id(&vid),
                "{vid}"
            );
            assert!(
                r.all("set-cookie")
                    .iter()
                    .any(|c| c.starts_with(&format!("pp_vid={vid}"))),
                "a new id is issued: {:?}",
                r.all("set-cookie")
            );
        }
    }
}

#[test]
fn a_collector_database_that_is_not_a_d1_name_is_a_located_config_error() {
    let site = support::copy_site(&support::example_site());
    let config = site.path().join("partner-pages.yaml");
    let text = support::read(&config);
    assert!(text.contains("database: partner-events"));
    std::fs::write(
        &config,
        text.replace("database: partner-events", "database: \"x; rm -rf ~\""),
    )
    .unwrap();
    let run = support::run(site.path(), &["check"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("is not a D1 database name") && stderr.contains("partner-pages.yaml:"),
        "{stderr}"
    );
}
