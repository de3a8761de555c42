//! `partner-pages serve`: a real server process, a real SQLite file, raw HTTP over loopback.

use crate::support;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::support::serve::*;

#[test]
fn a_relative_db_path_is_in_the_site_root_not_the_working_folder() {
    let site = support::copy_site(&support::example_site());
    let elsewhere = site.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let s = Serve::spawn(
        site,
        &["--no-watch"],
        true,
        std::ffi::OsStr::new("relative.db"),
        Some(&elsewhere),
    );
    let r = s.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[],
    );
    assert_eq!(r.status, 204, "{}\n{}", r.text(), s.stderr());
    assert!(s.site.path().join("relative.db").is_file());
    assert_eq!(s.rows().len(), 1, "the row is in <root>/relative.db");
    assert!(
        !elsewhere.join("relative.db").exists(),
        "nothing is written under the working folder"
    );
}

#[test]
fn every_refusal_gets_its_status_and_writes_no_row() {
    let s = Serve::start(&["--no-watch"]);
    let ua = [("User-Agent", BROWSER_UA)];
    let big = format!(
        r#"{{"e":"visit","p":"seo-consultant","u":"/{}"}}"#,
        "a".repeat(2000)
    );
    let cases: Vec<(&str, Resp, u16)> = vec![
        (
            "unknown partner link",
            s.get("/go/no-such-partner", &ua),
            404,
        ),
        (
            "unknown partner in the beacon",
            s.beacon(r#"{"e":"visit","p":"no-such-partner","u":"/"}"#, &[]),
            400,
        ),
        (
            "unknown stage",
            s.beacon(r#"{"e":"purchase","p":"seo-consultant","u":"/"}"#, &[]),
            400,
        ),
        ("not JSON", s.beacon("visit seo-consultant", &[]), 400),
        ("body over the limit", s.beacon(&big, &[]), 413),
        (
            "unsigned /s",
            s.send(
                "POST",
                "/s",
                &[],
                br#"{"event":"activation","partner":"seo-consultant","visitor_id":"v1"}"#,
            ),
            401,
        ),
        (
            "bad signature",
            s.send(
                "POST",
                "/s",
                &[
                    ("X-PP-Timestamp", &now().to_string()),
                    ("X-PP-Signature", &"ab".repeat(32)),
                ],
                br#"{"event":"activation","partner":"seo-consultant","visitor_id":"v1"}"#,
            ),
            401,
        ),
        (
            "stale signature (replay)",
            s.server_event(
                r#"{"event":"activation","partner":"seo-consultant","visitor_id":"v1"}"#,
                now() - 3600,
            ),
            401,
        ),
        (
            "signed, unknown partner",
            s.server_event(
                r#"{"event":"activation","partner":"no-such-partner","visitor_id":"v1"}"#,
                now(),
            ),
            400,
        ),
        (
            "bot user agent on the beacon",
            s.beacon(
                r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
                &[("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")],
            ),
            204,
        ),
        (
            "bot user agent on a link",
            s.get("/go/seo-consultant", &[("User-Agent", "curl/8.5.0")]),
            302,
        ),
        (
            "Do-Not-Track",
            s.beacon(
                r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
                &[("DNT", "1")],
            ),
            204,
        ),
        (
            "Global Privacy Control on a link",
            s.get(
                "/go/seo-consultant",
                &[("User-Agent", BROWSER_UA), ("Sec-GPC", "1")],
            ),
            302,
        ),
        ("GET on /s", s.get("/s", &ua), 405),
    ];
    for (what, resp, status) in &cases {
        assert_eq!(resp.status, *status, "{what}: {}", resp.text());
        assert!(
            resp.all("set-cookie").is_empty(),
            "{what} set a cookie: {:?}",
            resp.headers
        );
    }
    assert!(s.rows().is_empty(), "rows written: {:?}", s.rows());
    // The same server does write a good event, so the empty table above means something.
    let ok = s.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[],
    );
    assert_eq!(ok.status, 204, "{}", ok.text());
    assert_eq!(s.rows().len(), 1);
}

#[test]
fn server_events_without_a_secret_answer_503() {
    let site = support::copy_site(&support::example_site());
    let s = Serve::start_in(site, &["--no-watch"], false);
    let resp = s.server_event(
        r#"{"event":"activation","partner":"seo-consultant","visitor_id":"v1"}"#,
        now(),
    );
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert!(s.rows().is_empty());
}

#[test]
fn sql_looking_values_are_stored_verbatim() {
    let s = Serve::start(&["--no-watch"]);
    let path = "/p/seo-consultant/?q=1'); DROP TABLE partner_events;--";
    let body = serde_json::json!({"e": "visit", "p": "seo-consultant", "u": path}).to_string();
    assert_eq!(s.beacon(&body, &[]).status, 204);
    let user = "x' OR '1'='1";
    let body = serde_json::json!({
        "event": "activation", "partner": "seo-consultant",
        "visitor_id": "v-1\"; DELETE FROM partner_events; --", "user_id": user,
        "campaign": "default' --",
    })
    .to_string();
    let resp = s.server_event(&body, now());
    assert_eq!(resp.status, 204, "{}", resp.text());
    let rows = s.rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].page_path, path);
    assert_eq!(
        rows[1].visitor_id.as_deref(),
        Some("v-1\"; DELETE FROM partner_events; --")
    );
    assert_eq!(rows[1].user_id.as_deref(), Some(user));
    assert_eq!(rows[1].campaign, "default");
}

#[test]
fn a_full_funnel_gives_the_exact_rows_with_one_visitor_id() {
    let s = Serve::start(&["--no-watch"]);
    let ua = ("User-Agent", BROWSER_UA);
    let click = s.get("/go/founder-community?campaign=slack-digest", &[ua]);
    assert_eq!(click.status, 302);
    assert_eq!(
        click.header("location"),
        Some("/p/founder-community/?campaign=slack-digest")
    );
    let set = click.all("set-cookie");
    assert_eq!(set.len(), 2, "{set:?}");
    for c in &set {
        assert!(
            c.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"),
            "cookie flags on http://127.0.0.1 (no Secure): {c}"
        );
    }
    assert!(set[1].starts_with("pp_src=founder-community.slack-digest;"));
    let cookie = click.cookie_header();
    let with_cookie = [("Cookie", cookie.as_str())];
    // The landing page the redirect points to exists.
    let landing = s.get("/p/founder-community/?campaign=slack-digest", &[ua]);
    assert_eq!(landing.status, 200);
    for body in [
        r#"{"e":"visit","p":"founder-community","c":"slack-digest","u":"/p/founder-community/"}"#,
        r#"{"e":"lead_magnet","u":"/p/founder-community/"}"#,
        r#"{"e":"cta","u":"/p/founder-community/"}"#,
        r#"{"e":"activation","u":"/pricing"}"#,
    ] {
        let r = s.beacon(body, &with_cookie);
        assert_eq!(r.status, 204, "{body}: {}", r.text());
        assert!(
            r.all("set-cookie").is_empty(),
            "a known visitor keeps its cookies"
        );
    }
    let vid = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("pp_vid="))
        .unwrap()
        .to_string();
    let body = serde_json::json!({"event": "revenue", "partner": "founder-community",
        "visitor_id": vid, "value": 49.0, "user_id": "acct-17"})
    .to_string();
    assert_eq!(s.server_event(&body, now()).status, 204);

    let rows = s.rows();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.stage.as_str(),
                r.partner.as_str(),
                r.campaign.as_str(),
                r.page_path.as_str(),
                r.visitor_id.as_deref(),
            )
        })
        .collect();
    let v = Some(vid.as_str());
    let fc = "founder-community";
    assert_eq!(
        got,
        [
            ("click", fc, "slack-digest", "/go/founder-community", v),
            ("visit", fc, "slack-digest", "/p/founder-community/", v),
            (
                "lead_magnet",
                fc,
                "slack-digest",
                "/p/founder-community/",
                v
            ),
            ("cta", fc, "slack-digest", "/p/founder-community/", v),
            ("activation", fc, "slack-digest", "/pricing", v),
            ("revenue", fc, "default", "/s", v),
        ]
    );
    assert_eq!(rows[5].value, Some(49.0));
    assert_eq!(rows[5].user_id.as_deref(), Some("acct-17"));
    assert!(rows[..5]
        .iter()
        .all(|r| r.value.is_none() && r.user_id.is_none()));
    let mut ids: Vec<_> = rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "row ids are distinct");
    for r in &rows {
        let t = &r.created_at;
        assert!(
            t.len() == 24 && t.ends_with('Z') && &t[10..11] == "T" && &t[19..20] == ".",
            "created_at {t}"
        );
        chrono::DateTime::parse_from_rfc3339(t).unwrap();
    }
}

#[test]
fn cookies_are_secure_unless_the_host_is_localhost() {
    let s = Serve::start(&["--no-watch"]);
    // `send` writes its own Host header, so this request is written by hand.
    let mut raw = TcpStream::connect(s.addr).unwrap();
    let body = r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#;
    write!(
        raw,
        "POST /e HTTP/1.1\r\nHost: aikit.example\r\nUser-Agent: {BROWSER_UA}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut bytes = Vec::new();
    raw.read_to_end(&mut bytes).unwrap();
    let resp = Resp::parse(&bytes);
    assert_eq!(resp.status, 204);
    let cookies = resp.all("set-cookie");
    assert_eq!(cookies.len(), 2);
    assert!(
        cookies.iter().all(|c| c.contains("; Secure;")),
        "{cookies:?}"
    );
}

#[test]
fn acknowledged_events_survive_kill_9() {
    let mut s = Serve::start(&["--no-watch"]);
    let body = r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#;
    for _ in 0..200 {
        assert_eq!(s.beacon(body, &[]).status, 204);
    }
    // SIGKILL: no graceful shutdown, no final checkpoint.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    assert_eq!(s.rows().len(), 200);
}

#[test]
fn static_files_have_their_content_types() {
    let s = Serve::start(&["--no-watch"]);
    let dir = s.out.join("fixture");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (name, bytes) in [
        ("a.css", &b"body{}"[..]),
        ("a.js", b"1"),
        ("a.json", b"{}"),
        ("a.svg", b"<svg/>"),
        ("a.pdf", b"%PDF"),
        ("a.bin", b"\x00"),
        ("sub/index.html", b"<p>sub</p>"),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let ct = |p: &str| {
        let r = s.get(p, &[]);
        assert_eq!(r.status, 200, "{p}");
        r.header("content-type").unwrap_or("").to_string()
    };
    assert_eq!(ct("/"), "text/html; charset=utf-8");
    assert_eq!(ct("/sitemap.xml"), "application/xml");
    assert_eq!(ct("/fixture/a.css"), "text/css; charset=utf-8");
    assert_eq!(ct("/fixture/a.js"), "text/javascript; charset=utf-8");
    assert_eq!(ct("/fixture/a.json"), "application/json");
    assert_eq!(ct("/fixture/a.svg"), "image/svg+xml");
    assert_eq!(ct("/fixture/a.pdf"), "application/pdf");
    assert_eq!(ct("/fixture/a.bin"), "application/octet-stream");
    assert_eq!(ct("/fixture/sub/"), "text/html; charset=utf-8");
    let slashless = s.get("/fixture/sub", &[]);
    assert_eq!(slashless.status, 301);
    assert_eq!(slashless.header("location"), Some("/fixture/sub/"));
    // Extra leading slashes never make a scheme-relative `Location` (another host).
    for path in ["//fixture/sub", "///fixture/sub", "//fixture/sub?x=1"] {
        let r = s.get(path, &[]);
        assert_eq!(r.status, 301, "{path}");
        let loc = r.header("location").unwrap_or("");
        assert!(loc.starts_with("/fixture/sub/"), "{path} -> {loc}");
    }
    assert_eq!(s.get("/fixture/missing.css", &[]).status, 404);
    // Without --no-watch nothing is injected: the served bytes are the built bytes.
    let built = std::fs::read(s.out.join("index.html")).unwrap();
    assert_eq!(s.get("/", &[]).body, built);
}

#[test]
fn head_on_a_partner_link_redirects_like_get_but_records_nothing() {
    let s = Serve::start(&["--no-watch"]);
    let ua = [("User-Agent", BROWSER_UA)];
    let path = "/go/seo-consultant?campaign=webinar-dec";
    let head = s.send("HEAD", path, &ua, b"");
    assert_eq!(head.status, 302, "{}", head.text());
    assert_eq!(
        head.header("location"),
        Some("/p/seo-consultant/?campaign=webinar-dec")
    );
    assert_eq!(head.header("cache-control"), Some("no-store"));
    assert!(head.all("set-cookie").is_empty(), "{:?}", head.headers);
    assert!(head.body.is_empty());
    assert!(s.rows().is_empty(), "HEAD is not a click: {:?}", s.rows());
    // The same request as GET is one (the test above would have seen its row).
    let get = s.get(path, &ua);
    assert_eq!(get.status, 302);
    assert_eq!(get.header("location"), head.header("location"));
    assert_eq!(s.rows().len(), 1);
    assert_eq!(s.rows()[0].stage, "click");
}

#[test]
fn a_trickling_body_is_cut_off_with_408_and_writes_no_row() {
    let s = Serve::start(&["--no-watch", "--read-timeout", "1"]);
    // A valid beacon, sent one byte every 100 ms: complete after ~6 s if nobody stops it.
    let body = br#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/slow-loris"}"#;
    let mut c = TcpStream::connect(s.addr).unwrap();
    let head = format!(
        "POST /e HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nUser-Agent: {BROWSER_UA}\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        body.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    // Bounded: the reader gives up after 30 s; the writer stops when the server answered.
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = c.try_clone().unwrap();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = answered.clone();
    let read = std::thread::spawn(move || {
        let mut raw = Vec::new();
        let closed = reader.read_to_end(&mut raw).is_ok();
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        (raw, closed)
    });
    let mut sent = 0;
    for b in body {
        if answered.load(std::sync::atomic::Ordering::SeqCst) || c.write_all(&[*b]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let (raw, closed) = read.join().unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(closed, "the server closed the connection: {text}");
    assert!(sent < body.len(), "cut off before the body was complete");
    assert!(s.rows().is_empty(), "{:?}", s.rows());
    // Everyone else is still served.
    let r = s.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[],
    );
    assert_eq!(r.status, 204);
    assert_eq!(s.rows().len(), 1);
}

#[test]
fn a_trickling_request_head_gets_its_connection_closed() {
    let s = Serve::start(&["--no-watch", "--read-timeout", "1"]);
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.write_all(format!("GET / HTTP/1.1\r\nHost: {}\r\n", s.addr).as_bytes())
        .unwrap();
    // Bounded: the reader gives up after 30 s; the writer sends at most 100 header lines, one
    // every 100 ms, and stops as soon as the server has closed the connection.
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = c.try_clone().unwrap();
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = closed.clone();
    let read = std::thread::spawn(move || {
        let mut raw = Vec::new();
        let eof = reader.read_to_end(&mut raw).is_ok();
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        (raw, eof)
    });
    let mut sent = 0;
    while sent < 100 && !closed.load(std::sync::atomic::Ordering::SeqCst) {
        if c.write_all(format!("X-Slow-{sent}: y\r\n").as_bytes())
            .is_err()
        {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let (raw, eof) = read.join().unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(eof, "the server closed the connection");
    assert!(
        sent < 100,
        "closed before the client gave up ({sent} lines sent)"
    );
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "no page for an unfinished head: {text}"
    );
    // Everyone else is still served.
    assert_eq!(s.get("/", &[]).status, 200);
}

#[test]
fn dotfiles_of_the_output_are_not_served_but_well_known_is() {
    let s = Serve::start(&["--no-watch"]);
    // The build's own bookkeeping files (manifest, stamp, .assetsignore, ...).
    let mut dotfiles: Vec<String> = std::fs::read_dir(&s.out)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.') && s.out.join(n).is_file())
        .collect();
    assert!(
        !dotfiles.is_empty(),
        "the build writes dotfiles into the output"
    );
    std::fs::create_dir_all(s.out.join("fixture/.git")).unwrap();
    std::fs::write(s.out.join("fixture/.git/config"), "SECRET-GIT").unwrap();
    std::fs::write(s.out.join(".pp-tmp-123"), "SECRET-TMP").unwrap();
    dotfiles.push("fixture/.git/config".into());
    dotfiles.push(".pp-tmp-123".into());
    for f in &dotfiles {
        for path in [format!("/{f}"), format!("/{}", f.replacen('.', "%2e", 1))] {
            let r = s.get(&path, &[]);
            assert_eq!(r.status, 404, "{path}: {}", r.text());
            let on_disk = std::fs::read(s.out.join(f)).unwrap();
            assert!(
                on_disk.is_empty() || !r.body.windows(on_disk.len()).any(|w| w == on_disk),
                "{path} leaks its content"
            );
        }
    }
    assert_eq!(s.get("/fixture/.git/", &[]).status, 404);
    std::fs::create_dir_all(s.out.join(".well-known")).unwrap();
    std::fs::write(s.out.join(".well-known/security.txt"), "Contact: x").unwrap();
    let r = s.get("/.well-known/security.txt", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "Contact: x");
}

#[test]
fn path_traversal_is_refused() {
    let s = Serve::start(&["--no-watch"]);
    // A file right outside the served folder, and a symlink that points to it.
    std::fs::write(s.site.path().join("outside.txt"), "SECRET-OUTSIDE").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(s.site.path().join("outside.txt"), s.out.join("link.txt")).unwrap();
    for path in [
        "/../outside.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/outside.txt",
        "/%2E%2E%2Foutside.txt",
        "/p/..%2f..%2foutside.txt",
        "/..%5coutside.txt",
        "/%5c..%5coutside.txt",
        "/index.html%00.txt",
        "/%00",
    ] {
        let r = s.get(path, &[]);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert!(!r.text().contains("SECRET-OUTSIDE") && !r.text().contains("root:"));
    }
    #[cfg(unix)]
    {
        let r = s.get("/link.txt", &[]);
        assert_eq!(r.status, 404, "a symlink out of the folder is not followed");
    }
}

/// Read server-sent events from `/__pp/reload` until a `reload` event arrives.
struct ReloadStream(BufReader<TcpStream>);

impl ReloadStream {
    fn open(s: &Serve) -> ReloadStream {
        let mut tcp = TcpStream::connect(s.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(
            tcp,
            "GET /__pp/reload HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            s.addr
        )
        .unwrap();
        let mut r = BufReader::new(tcp);
        let mut status = String::new();
        r.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "{status}");
        ReloadStream(r)
    }

    /// Blocks until the next `reload` event (the read timeout fails the test if none comes).
    fn next_reload(&mut self) {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.0.read_line(&mut line).expect("a reload event");
            assert!(n > 0, "reload stream closed");
            if line.trim_end() == "event: reload" {
                return;
            }
        }
    }
}

/// Wait for reload events until `ready` holds (a change may take more than one rebuild).
fn until(stream: &mut ReloadStream, mut ready: impl FnMut() -> bool) {
    for _ in 0..10 {
        stream.next_reload();
        if ready() {
            return;
        }
    }
    panic!("the condition did not hold after 10 rebuilds");
}

#[test]
fn rebuilds_on_change_and_shows_build_errors_until_fixed() {
    let s = Serve::start(&[]);
    let html = [("Accept", "text/html")];
    let page = s.get("/", &html);
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("new EventSource(\"/__pp/reload\")"),
        "live reload script injected"
    );
    let built = std::fs::read_to_string(s.out.join("index.html")).unwrap();
    assert!(!built.contains("__pp"), "never in the built files");
    let mut stream = ReloadStream::open(&s);

    // A new partner: rebuilt, its link works.
    let partners = s.site.path().join("partners");
    let seo = std::fs::read_to_string(partners.join("seo-consultant.yaml")).unwrap();
    let fresh = seo.replace("code: seo-consultant", "code: fresh-partner");
    std::fs::write(partners.join("fresh-partner.yaml"), &fresh).unwrap();
    until(&mut stream, || {
        s.out.join("p/fresh-partner/index.html").exists()
    });
    let ua = [("User-Agent", BROWSER_UA)];
    assert_eq!(s.get("/go/fresh-partner", &ua).status, 302);

    // A broken partner file: HTML requests get the diagnostics, not the stale page.
    let broken = fresh.replace("promise:", "promis:");
    std::fs::write(partners.join("fresh-partner.yaml"), &broken).unwrap();
    until(&mut stream, || s.get("/", &html).status == 500);
    let err = s.get("/p/fresh-partner/", &html);
    assert_eq!(err.status, 500);
    let text = err.text();
    assert!(text.contains("Build failed"), "{text}");
    assert!(text.contains("partners/fresh-partner.yaml"), "{text}");
    assert!(
        text.contains("__pp/reload"),
        "the error page reloads by itself"
    );
    // The collector keeps working on the last good registry meanwhile.
    assert_eq!(s.get("/go/fresh-partner", &ua).status, 302);

    // Fixed: the page is back.
    std::fs::write(partners.join("fresh-partner.yaml"), &fresh).unwrap();
    until(&mut stream, || s.get("/", &html).status == 200);
    assert_eq!(s.get("/p/fresh-partner/", &html).status, 200);
    assert!(s.stderr().contains("partners/fresh-partner.yaml"));
}

#[test]
fn serve_exits_with_the_diagnostics_when_the_site_is_broken_and_not_watched() {
    let site = support::copy_site(&support::example_site());
    let p = site.path().join("partners/seo-consultant.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("promise:", "promis:")).unwrap();
    let out = Command::new(support::bin())
        .arg("--root")
        .arg(site.path())
        .args(["serve", "--port", "0", "--no-watch", "--db"])
        .arg(site.path().join("e.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("partners/seo-consultant.yaml"), "{err}");
}

#[test]
fn a_base_path_prefixes_links_redirects_and_pages() {
    let s = Serve::start(&["--no-watch", "--base-url", "https://aikit.example/partners"]);
    let ua = [("User-Agent", BROWSER_UA)];
    let click = s.get("/partners/go/seo-consultant?campaign=webinar-dec", &ua);
    assert_eq!(click.status, 302, "{}", click.text());
    assert_eq!(
        click.header("location"),
        Some("/partners/p/seo-consultant/?campaign=webinar-dec")
    );
    let landing = s.get("/partners/p/seo-consultant/?campaign=webinar-dec", &ua);
    assert_eq!(landing.status, 200);
    assert!(
        landing.text().contains("href=\"/partners/"),
        "links carry the base path"
    );
    let rows = s.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].page_path, "/partners/go/seo-consultant");
}

#[test]
fn a_failed_write_answers_503_with_retry_after_and_a_click_still_redirects() {
    let s = Serve::start(&["--no-watch"]);
    // A real SQLite failure: the table is dropped under the running server.
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.execute_batch("DROP TABLE partner_events").unwrap();
    drop(conn);

    let r = s.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[],
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("5"));
    assert!(
        r.all("set-cookie").is_empty(),
        "no cookie for an unstored event"
    );
    let r = s.server_event(
        r#"{"event":"activation","partner":"seo-consultant","visitor_id":"v1"}"#,
        now(),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("5"));
    let r = s.get("/go/seo-consultant", &[("User-Agent", BROWSER_UA)]);
    assert_eq!(r.status, 302, "a click redirects even when its write fails");
    assert_eq!(r.header("location"), Some("/p/seo-consultant/"));
    assert_eq!(
        s.stderr().matches("write failed").count(),
        3,
        "{}",
        s.stderr()
    );
}
