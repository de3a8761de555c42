//! Reliability suite: crashes, hostile requests and broken inputs, with the real binary, a real
//! SQLite file and raw HTTP over loopback. Complements `serve.rs` (kill -9 of serve, traversal,
//! refusals), `worker.rs` and `check.rs`; this file covers what those do not.

use crate::support::serve::{now, Serve, BROWSER_UA, SECRET};
use crate::support::{self, big_site, tree};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn has_temporaries(dir: &Path) -> bool {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains(".pp-tmp-"))
}

fn build_ok(root: &Path) {
    support::run_ok(root, &["build"]);
}

#[test]
fn kill_9_of_build_mid_write_leaves_whole_files_and_the_next_build_succeeds() {
    let site = big_site(1500);
    let public = site.path().join("public");
    build_ok(site.path());
    let before = tree(&public);
    assert!(before.len() > 1500, "{} files", before.len());

    // Every page changes: the next build has to rewrite them all.
    // The example site uses the built-in templates: the override starts from the default.
    let base = site.path().join("templates/base.html");
    std::fs::create_dir_all(base.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string(support::repo_root().join("templates/base.html")).unwrap();
    assert!(text.contains("</body>"), "base template has a body");
    std::fs::write(
        &base,
        text.replacen("</body>", "<!-- second version --></body>", 1),
    )
    .unwrap();

    // Kill -9 at moments that land mid-write: as soon as the first temporary file appears
    // (staging), and some time after it (staging or the renames), plus once early (render).
    let mut states = Vec::new();
    for extra_ms in [None, Some(0u64), Some(150), Some(400)] {
        let mut child = Command::new(support::bin())
            .arg("--root")
            .arg(site.path())
            .arg("build")
            .env_remove("PARTNER_PAGES_ROOT")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start build");
        match extra_ms {
            None => std::thread::sleep(Duration::from_millis(100)),
            Some(extra) => {
                let start = std::time::Instant::now();
                while child.try_wait().unwrap().is_none()
                    && start.elapsed() < Duration::from_secs(120)
                    && !has_temporaries(&public)
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                std::thread::sleep(Duration::from_millis(extra));
            }
        }
        child.kill().expect("kill -9 build"); // SIGKILL on unix
        let status = child.wait().unwrap();
        states.push((extra_ms, status.success(), tree(&public)));
    }
    assert!(
        states
            .iter()
            .any(|(_, _, st)| st.keys().any(|k| k.contains(".pp-tmp-"))),
        "no kill landed while temporaries were on disk (mid-write); the test proves nothing"
    );

    build_ok(site.path());
    let after = tree(&public);
    assert!(before != after, "the second version changed the pages");
    assert!(
        !after
            .keys()
            .any(|k| k.contains(".pp-tmp-") || k.ends_with(".partner-pages-writing")),
        "the build after the kills leaves no temporary file and no marker: {:?}",
        after
            .keys()
            .filter(|k| k.contains(".pp-tmp-"))
            .collect::<Vec<_>>()
    );
    for (delay, _, state) in &states {
        for (path, bytes) in state {
            if path.contains(".pp-tmp-") || path.ends_with(".partner-pages-writing") {
                continue; // a temporary name or the marker, never a page's name
            }
            let was = before.get(path);
            let will = after.get(path);
            assert!(
                was == Some(bytes) || will == Some(bytes),
                "after kill -9 ({delay:?} ms after the first temporary), {path} is neither its previous nor its new version (torn)"
            );
        }
        for path in before.keys() {
            assert!(
                state.contains_key(path) || !after.contains_key(path),
                "after kill -9 ({delay:?}), {path} is missing"
            );
        }
    }
    // At least one kill landed before the build finished (else the test proves nothing).
    assert!(
        states.iter().any(|(_, finished, state)| !finished
            && state
                .iter()
                .filter(|(p, _)| !p.contains(".pp-tmp-"))
                .any(|(p, b)| before.get(p) == Some(b) && after.get(p) != Some(b))),
        "no kill landed before the build finished writing; raise the site size"
    );
}

#[test]
fn build_into_an_unwritable_output_folder_is_a_user_error_that_writes_nothing() {
    let site = support::copy_site(&support::example_site());
    // A path under a regular file cannot be created, even by root.
    let blocker = site.path().join("not-a-folder");
    std::fs::write(&blocker, "a file\n").unwrap();
    let out_dir = blocker.join("sub");
    let before = tree(site.path());
    let out = support::run(site.path(), &["build", "--out", out_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("cannot create the output folder") && stderr.contains("not-a-folder/sub"),
        "the error names the folder: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(&blocker).unwrap(),
        b"a file\n",
        "the file in the way is untouched"
    );
    let after = tree(site.path());
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert!(
        new.iter().all(|k| !k.starts_with("public/")),
        "nothing written to public/: {new:?}"
    );
}

fn events_db(dir: &Path) -> PathBuf {
    let db = dir.join("events.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL, \
         campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL, \
         visitor_id TEXT, created_at TEXT NOT NULL);
         INSERT INTO partner_events VALUES ('1','seo-consultant','default','visit','/p/seo-consultant/','v1','2026-11-10T10:00:00.000Z');",
    )
    .unwrap();
    db
}

#[test]
fn report_on_a_locked_database_is_a_clear_user_error() {
    let site = support::copy_site(&support::example_site());
    let db = events_db(site.path());
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder
        .execute_batch("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE partner_events SET campaign = campaign;")
        .unwrap();
    let out = support::run(
        site.path(),
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("events.db") && stderr.contains("locked by another connection"),
        "the error names the file and the lock: {stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial report on stdout");
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn report_on_a_truncated_sql_dump_names_the_line_and_writes_nothing() {
    let site = support::copy_site(&support::example_site());
    let dump = site.path().join("events.sql");
    let mut text = String::from(
        "CREATE TABLE partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL, \
         campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL, \
         visitor_id TEXT, created_at TEXT NOT NULL);\n",
    );
    for i in 0..5 {
        text.push_str(&format!(
            "INSERT INTO partner_events VALUES('e{i}','seo-consultant','default','visit','/p/seo-consultant/','v{i}','2026-11-10T10:00:0{i}.000Z');\n"
        ));
    }
    // Cut in the middle of the 7th line's quoted value, as an interrupted export would.
    text.push_str("INSERT INTO partner_events VALUES('e9','seo-consul");
    std::fs::write(&dump, &text).unwrap();
    let report_file = site.path().join("report.md");
    let out = support::run(
        site.path(),
        &[
            "report",
            "--events",
            dump.to_str().unwrap(),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
            "--out",
            report_file.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("events.sql:7"),
        "the error names the file and line 7: {stderr}"
    );
    assert!(!report_file.exists(), "no partial report written");
}

// ---- hostile requests against serve ------------------------------------------------------

fn assert_only_own_headers(r: &crate::support::serve::Resp, what: &str) {
    for (k, v) in &r.headers {
        assert!(
            !k.starts_with("x-injected") && !v.to_ascii_lowercase().contains("x-injected"),
            "{what}: injected header {k}: {v}"
        );
        assert!(
            !v.contains('\r') && !v.contains('\n'),
            "{what}: header {k} carries a line break"
        );
    }
    for c in r.all("set-cookie") {
        assert!(
            !c.to_ascii_lowercase().starts_with("evil"),
            "{what}: injected cookie {c}"
        );
    }
}

#[test]
fn crlf_in_go_parameters_never_injects_a_header() {
    let s = Serve::start(&[]);
    let ua = [("User-Agent", BROWSER_UA)];
    for path in [
        "/go/seo-consultant?campaign=x%0d%0aX-Injected:%201",
        "/go/seo-consultant?campaign=%0d%0aSet-Cookie:%20evil=1",
        "/go/seo-consultant?campaign=a%0aX-Injected:1&x=%0d%0a",
        "/go/seo-consultant%0d%0aX-Injected:%201",
        "/go/seo-consultant?campaign=%E5%98%8A%E5%98%8DX-Injected:%201",
    ] {
        let r = s.get(path, &ua);
        assert_only_own_headers(&r, path);
        if r.status == 302 {
            let loc = r.header("location").unwrap();
            assert!(
                loc.starts_with("/p/seo-consultant/"),
                "{path} redirects only to the landing page: {loc}"
            );
        } else {
            assert_eq!(r.status, 404, "{path}");
        }
    }
    // The cookie holding the campaign is encoded too: no raw line break, no second cookie.
    let r = s.get("/go/seo-consultant?campaign=x%0d%0aX-Injected:%201", &ua);
    assert_eq!(r.all("set-cookie").len(), 2, "{:?}", r.headers);
}

#[test]
fn go_only_ever_redirects_to_registered_landing_pages() {
    let s = Serve::start(&[]);
    let ua = [("User-Agent", BROWSER_UA)];
    let registered: Vec<String> = std::fs::read_dir(s.site.path().join("partners"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            format!("/p/{}/", name.trim_end_matches(".yaml"))
        })
        .collect();
    for path in [
        "/go/%2F%2Fevil.example",
        "/go//evil.example",
        "/go/https:%2F%2Fevil.example",
        "/go/seo-consultant?campaign=//evil",
        "/go/seo-consultant?campaign=https://evil.example",
        "/go/seo-consultant?next=https://evil.example&campaign=%2F%2Fevil",
        "/go/..%2F..",
        "/go/../../evil",
        "/go/%2e%2e%2f%2e%2e",
        "/go/seo-consultant/..%2F..%2Fevil",
        "/go/seo-consultant%2F..%2F..%2F%2Fevil.example",
        "/go/\\evil.example",
    ] {
        let r = s.get(path, &ua);
        match r.status {
            302 | 301 | 303 | 307 | 308 => {
                let loc = r.header("location").unwrap_or("");
                assert!(
                    registered.iter().any(|l| loc == l
                        || loc.starts_with(&format!("{l}?campaign="))
                            && !loc[l.len()..].contains("//")),
                    "{path} redirected to {loc}, not a registered landing page"
                );
            }
            _ => assert!(
                r.header("location").is_none(),
                "{path}: {} with a Location",
                r.status
            ),
        }
    }
}

#[test]
fn forged_and_replayed_server_signatures_are_refused_and_write_nothing() {
    let s = Serve::start(&[]);
    let body = r#"{"event":"activation","partner":"seo-consultant","visitor_id":"v-1"}"#;
    let other =
        r#"{"event":"revenue","partner":"seo-consultant","visitor_id":"v-1","value":1000000}"#;
    let ts = now();
    let sign = |ts: i64, b: &str| {
        partner_pages::collector::requests::sign(SECRET.as_bytes(), ts, b.as_bytes())
    };
    let wrong_secret =
        partner_pages::collector::requests::sign(b"not-the-secret", ts, other.as_bytes());
    let post = |ts: String, sig: String, b: &str| {
        s.send(
            "POST",
            "/s",
            &[("X-PP-Timestamp", &ts), ("X-PP-Signature", &sig)],
            b.as_bytes(),
        )
    };
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "signature of another body",
            ts.to_string(),
            sign(ts, body),
            other,
        ),
        (
            "signature of another timestamp",
            (ts + 1).to_string(),
            sign(ts, other),
            other,
        ),
        (
            "signed with another secret",
            ts.to_string(),
            wrong_secret,
            other,
        ),
        (
            "replayed from an hour ago",
            (ts - 3600).to_string(),
            sign(ts - 3600, other),
            other,
        ),
        (
            "dated in the future",
            (ts + 3600).to_string(),
            sign(ts + 3600, other),
            other,
        ),
        ("negative timestamp", "-1".into(), sign(-1, other), other),
        (
            "timestamp with a sign",
            format!("+{ts}"),
            sign(ts, other),
            other,
        ),
        (
            "uppercase-only garbage",
            ts.to_string(),
            "ZZ".repeat(32),
            other,
        ),
        (
            "truncated signature",
            ts.to_string(),
            sign(ts, other)[..63].to_string(),
            other,
        ),
        (
            "signature with a suffix",
            ts.to_string(),
            format!("{}00", sign(ts, other)),
            other,
        ),
        ("empty signature", ts.to_string(), String::new(), other),
    ];
    for (what, t, sig, b) in cases {
        let r = post(t, sig, b);
        assert_eq!(r.status, 401, "{what}: {}", r.text());
    }
    // A body with a trailing byte the signature did not cover.
    let sig = sign(ts, other);
    let r = post(ts.to_string(), sig, &format!("{other} "));
    assert_eq!(r.status, 401, "a body changed after signing");
    assert!(s.rows().is_empty(), "{:?}", s.rows());
    // The genuine one still passes (the refusals were for the reasons above).
    let r = s.server_event(other, ts);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(s.rows().len(), 1);
}

/// Send a head promising `len` bytes, then `sent` of them, then stall.
fn stall(s: &Serve, path: &str, len: usize, sent: usize) -> TcpStream {
    let mut c = TcpStream::connect(s.addr).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nUser-Agent: {BROWSER_UA}\r\nContent-Length: {len}\r\n\r\n",
        s.addr
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&vec![b'{'; sent]).unwrap();
    c
}

#[test]
fn slow_bodies_do_not_block_other_clients_and_are_bounded() {
    let s = Serve::start(&[]);
    // Many stalled uploads at once, on both collector endpoints.
    let stalled: Vec<TcpStream> = (0..40)
        .map(|i| stall(&s, if i % 2 == 0 { "/e" } else { "/s" }, 900, 10))
        .collect();
    // Others are still served while they stall.
    let r = s.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        s.get("/go/seo-consultant", &[("User-Agent", BROWSER_UA)])
            .status,
        302
    );
    // A promised body over the limit is refused at once, before it arrives.
    let mut big = stall(&s, "/e", 10 * 1024 * 1024, 0);
    big.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = [0u8; 64];
    let n = big.read(&mut buf).unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 413"),
        "oversize promise answered with 413: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // A stalled body never becomes a row, however it ends: the client gives up.
    drop(stalled);
    let r = s.beacon(
        r#"{"e":"cta","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[],
    );
    assert_eq!(r.status, 204);
    let rows = s.rows();
    assert_eq!(rows.len(), 3, "{rows:?}");
}

#[test]
fn sql_in_every_field_is_stored_verbatim_or_refused_never_executed() {
    let s = Serve::start(&[]);
    let sql = "x'); DROP TABLE partner_events; --";
    let sql_q = "x\"; DELETE FROM partner_events WHERE 1=1; --";
    let enc = |t: &str| {
        t.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let ua = [("User-Agent", BROWSER_UA)];
    // Refused: SQL as the partner code, in the path and in each body.
    assert_eq!(s.get(&format!("/go/{}", enc(sql)), &ua).status, 404);
    let r = s.beacon(
        &serde_json::json!({"e":"visit","p":sql,"u":"/p/x/"}).to_string(),
        &[],
    );
    assert_eq!(r.status, 400);
    let r = s.beacon(
        &serde_json::json!({"e":sql,"p":"seo-consultant","u":"/p/x/"}).to_string(),
        &[],
    );
    assert_eq!(r.status, 400);
    let r = s.server_event(
        &serde_json::json!({"event":"activation","partner":sql_q,"visitor_id":"v"}).to_string(),
        now(),
    );
    assert_eq!(r.status, 400);
    assert!(s.rows().is_empty());

    // Accepted: SQL as campaign (mapped to default), page path, click name, cookies, ids.
    let r = s.get(&format!("/go/seo-consultant?campaign={}", enc(sql)), &ua);
    assert_eq!(r.status, 302);
    let cookie = format!(
        "pp_vid={}; pp_src=seo-consultant.{}",
        "5d2c1b0a-9e8f-4a7b-b6c5-d4e3f2a1b0c9",
        enc(sql)
    );
    let u = format!("/p/seo-consultant/?q={sql}");
    let r = s.beacon(
        &serde_json::json!({"e":"cta","p":"seo-consultant","c":sql_q,"u":u,"n":sql}).to_string(),
        &[("Cookie", &cookie)],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s.server_event(
        &serde_json::json!({"event":"revenue","partner":"seo-consultant","campaign":sql,
            "visitor_id":sql_q,"user_id":sql,"value":5,"page_path":format!("/{sql_q}")})
        .to_string(),
        now(),
    );
    assert_eq!(r.status, 204, "{}", r.text());

    let rows = s.rows();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|r| r.campaign == "default"), "{rows:?}");
    assert!(rows.iter().all(|r| r.partner == "seo-consultant"));
    assert_eq!(rows[1].page_path, u);
    assert_eq!(rows[2].page_path, format!("/{sql_q}"));
    assert_eq!(rows[2].visitor_id.as_deref(), Some(sql_q));
    // The table and its schema are intact.
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='partner_events'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
    let user: Option<String> = conn
        .query_row(
            "SELECT user_id FROM partner_events WHERE event_name='revenue'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(user.as_deref(), Some(sql));
}

// ---- property tests ----------------------------------------------------------------------

/// The collector agreement cases (`tests/fixtures/collector/`) hold for the local collector's
/// rules: every beacon body (with and without cookies), signed `/s` request and id gets the
/// answer the file states, and the limits, stage names and id pattern the files state are the
/// Rust constants, so a changed limit or stage name fails here, in the plain tier. The e2e
/// tier runs the same files against the Worker. `INSTA_UPDATE=always` rewrites the expectations.
#[test]
fn collector_fixtures_hold_for_the_local_collector_rules() {
    use crate::support::collector::{
        beacon_answer, bless, example_registry, expand, fixture, server_answer, signed,
    };
    use partner_pages::collector::requests::{BEACON_STAGES, PAGE_ID_PATTERN, SERVER_EVENTS};
    use partner_pages::collector::{cookies, requests};
    use serde_json::json;
    let blessing = crate::support::refreshing();
    let reg = example_registry();
    let mut wrong = Vec::new();
    let mut check = |what: String, stated: &mut serde_json::Value, got: serde_json::Value| {
        if blessing {
            *stated = got;
        } else if *stated != got {
            wrong.push(format!(
                "{what}: the file says {stated}, the rules answer {got}"
            ));
        }
    };

    let (path, mut f) = fixture("beacon");
    let limits = json!({
        "max_beacon_body": partner_pages::collector::MAX_BEACON_BODY,
        "max_json_depth": partner_pages::collector::MAX_JSON_DEPTH,
        "max_page_path": partner_pages::collector::MAX_PAGE_PATH,
    });
    check("beacon limits".into(), &mut f["limits"], limits);
    let stages: Vec<&str> = BEACON_STAGES.iter().map(|s| s.as_str()).collect();
    check("beacon stages".into(), &mut f["stages"], json!(stages));
    let cookie = f["cookie"].as_str().unwrap().to_string();
    for case in f["cases"].as_array_mut().unwrap() {
        let body = case["body"].as_str().unwrap().to_string();
        for (pass, jar) in [("a", None), ("b", Some(cookie.as_str()))] {
            let got = beacon_answer(&reg, &expand(&body, pass), jar);
            check(format!("beacon {body:?} pass {pass}"), &mut case[pass], got);
        }
    }
    if blessing {
        bless(&path, &f);
    }

    let (path, mut f) = fixture("server");
    let limits = json!({
        "max_server_body": partner_pages::collector::MAX_SERVER_BODY,
        "signature_window_secs": partner_pages::collector::SIGNATURE_WINDOW_SECS,
    });
    check("server limits".into(), &mut f["limits"], limits);
    check(
        "server events".into(),
        &mut f["events"],
        json!(SERVER_EVENTS),
    );
    let now = crate::support::collector::now();
    let n = f["cases"].as_array().unwrap().len();
    for (i, case) in f["cases"].as_array_mut().unwrap().iter_mut().enumerate() {
        let body = case["body"].as_str().unwrap().to_string();
        let bytes = expand(&body, &i.to_string());
        let sig = requests::sign(
            crate::support::collector::SIGNING_SECRET.as_bytes(),
            now,
            &bytes,
        );
        let got = server_answer(&reg, &bytes, &now.to_string(), Some(&sig), now);
        check(format!("server {body:?}"), &mut case["expect"], got);
    }
    let body = f["signature_body"].as_str().unwrap().to_string();
    for (i, case) in f["signatures"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let change = case["change"].as_str().unwrap().to_string();
        let marked = String::from_utf8(expand(&body, &(n + i).to_string())).unwrap();
        let (b, ts, sig) = signed(&marked, &change, now);
        let got = server_answer(&reg, b.as_bytes(), &ts, sig.as_deref(), now);
        check(format!("signature {change}"), &mut case["expect"], got);
    }
    if blessing {
        bless(&path, &f);
    }

    let (path, mut f) = fixture("ids");
    check(
        "id pattern".into(),
        &mut f["pattern"],
        json!(PAGE_ID_PATTERN),
    );
    for case in f["ids"].as_array_mut().unwrap() {
        let id = case["id"].as_str().unwrap().to_string();
        let (page, cookie) = (
            requests::valid_page_id(&id),
            cookies::valid_cookie_visitor_id(&id),
        );
        assert_eq!(page, cookie, "{id:?}: one format for page and cookie ids");
        check(format!("id {id:?}"), &mut case["valid"], json!(page));
    }
    if blessing {
        bless(&path, &f);
    }

    let (path, mut f) = fixture("variants");
    let key = f["key"].as_str().unwrap().as_bytes().to_vec();
    let draw = |partner: &str, variants: &serde_json::Value, visitor: &str| {
        let variants: Vec<(String, f64)> =
            serde_json::from_value(variants.clone()).expect("[[id, weight], ...]");
        let pick = cookies::deterministic_variant(&variants, &key, partner, visitor);
        json!({
            // As text: a JSON reader may miss the last bit of a float.
            "bucket": format!("{:.12}", cookies::bucket(&key, partner, visitor)),
            "pick": pick,
            "cookie": pick.map(|v| cookies::signed_variant(&key, partner, visitor, v)),
        })
    };
    let (partner, variants) = (
        f["partner"].as_str().unwrap().to_string(),
        f["variants"].clone(),
    );
    for case in f["draws"].as_array_mut().unwrap() {
        let visitor = case["visitor"].as_str().unwrap().to_string();
        let got = draw(&partner, &variants, &visitor);
        check(format!("draw for {visitor:?}"), &mut case["expect"], got);
    }
    for case in f["weighted"].as_array_mut().unwrap() {
        let (p, v) = (
            case["partner"].as_str().unwrap().to_string(),
            case["visitor"].as_str().unwrap().to_string(),
        );
        let got = draw(&p, &case["variants"], &v);
        check(format!("weighted draw for {v:?}"), &mut case["expect"], got);
    }
    if blessing {
        bless(&path, &f);
    }
    assert!(wrong.is_empty(), "{wrong:#?}\n{}", crate::support::REFRESH);
}

mod props {
    use partner_pages::collector::cookies::Cookies;
    use partner_pages::collector::registry::{PartnerRule, Registry};
    use partner_pages::collector::{requests, rows};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn registry() -> Registry {
        let mut partners = BTreeMap::new();
        partners.insert(
            "acme".to_string(),
            PartnerRule {
                campaigns: ["default", "launch"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<BTreeSet<_>>(),
                landing: "/p/acme/".into(),
                page: Some("/welcome".into()),
                click: Some("copy".into()),
                variants: Vec::new(),
            },
        );
        Registry {
            partners,
            base_path: String::new(),
            host_base_path: String::new(),
            endpoint: "/e".into(),
            cookie_prefix: "pp".into(),
            max_age_secs: 86400,
            honor_dnt: true,
            honor_gpc: true,
            variant_secret: None,
            stripe: None,
        }
    }

    /// JSON-ish bodies: arbitrary bytes, arbitrary objects with the right keys, near misses.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let field = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            any::<i64>().prop_map(|i| serde_json::json!(i)),
            ".{0,40}".prop_map(serde_json::Value::String),
            prop_oneof![
                Just("acme"),
                Just("visit"),
                Just("cta"),
                Just("activation"),
                Just("revenue"),
                Just("/p/acme/"),
                Just("/welcome"),
                Just("copy"),
                Just("launch"),
                Just("/"),
                Just("0b7e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
                Just("0B7E4F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B")
            ]
            .prop_map(|s| serde_json::Value::String(s.into())),
        ];
        let keys = prop_oneof![
            Just("e"),
            Just("p"),
            Just("c"),
            Just("u"),
            Just("n"),
            Just("v"),
            Just("event"),
            Just("partner"),
            Just("campaign"),
            Just("visitor_id"),
            Just("user_id"),
            Just("value"),
            Just("page_path"),
            Just("x")
        ];
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2000),
            proptest::collection::btree_map(keys, field, 0..8)
                .prop_map(|m| serde_json::to_vec(&m).unwrap()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_beacon_bodies_never_panic_and_give_a_row_only_when_valid(b in body()) {
            let reg = registry();
            match requests::beacon(&reg, &b, &Cookies::default(), || "vid-12345".to_string()) {
                Ok(rows::BeaconOutcome::Record(a)) => {
                    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                    prop_assert!(b.len() <= partner_pages::collector::MAX_BEACON_BODY);
                    prop_assert!(reg.partners.contains_key(&a.partner));
                    prop_assert!(reg.partners[&a.partner].campaigns.contains(&a.campaign));
                    prop_assert!(["visit", "lead_magnet", "cta", "activation"].contains(&a.stage.as_str()));
                    prop_assert_eq!(Some(a.page_path.as_str()), v["u"].as_str());
                    prop_assert!(a.page_path.starts_with('/'));
                    // No cookie: the page id when the body has one (only a valid one passes).
                    match v.get("v") {
                        Some(id) => {
                            prop_assert!(requests::valid_page_id(id.as_str().unwrap_or("")));
                            prop_assert_eq!(Some(a.visitor_id.as_str()), id.as_str());
                        }
                        None => prop_assert_eq!(a.visitor_id.as_str(), "vid-12345"),
                    }
                }
                Ok(_) => {}
                Err(r) => prop_assert!([400u16, 413].contains(&r.status())),
            }
        }

        #[test]
        fn arbitrary_server_bodies_never_panic_and_give_a_row_only_when_valid(b in body()) {
            let reg = registry();
            match requests::server_event(&reg, &b) {
                Ok(a) => {
                    prop_assert!(reg.partners.contains_key(&a.partner));
                    prop_assert!(["activation", "revenue"].contains(&a.stage.as_str()));
                    prop_assert!(!a.visitor_id.is_empty() && a.visitor_id.len() <= 128);
                    prop_assert!(a.value.is_none_or(f64::is_finite));
                    prop_assert!(a.stage != "revenue" || a.value.is_some());
                    prop_assert!(a.page_path.starts_with('/'));
                }
                Err(r) => prop_assert!([400u16, 413].contains(&r.status())),
            }
        }

        #[test]
        fn arbitrary_signature_headers_never_pass_without_the_secret(
            ts in ".{0,14}", sig in ".{0,70}", b in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let now = 1_700_000_000;
            let ok = requests::verify_signature(Some(b"secret"), Some(&ts), Some(&sig), &b, now).is_ok();
            let genuine = ts.parse::<i64>().ok().map(|t| requests::sign(b"secret", t, &b));
            prop_assert!(!ok || genuine.is_some_and(|g| g.eq_ignore_ascii_case(&sig)));
        }

        #[test]
        fn arbitrary_go_queries_redirect_only_to_the_landing_page(code in ".{0,30}", q in ".{0,80}") {
            let reg = registry();
            if let Ok(c) = requests::click(&reg, &code, Some(&q), &Cookies::default(), || "vid-12345".into()) {
                prop_assert!(c.location == "/p/acme/" || c.location == "/p/acme/?campaign=launch",
                    "{}", c.location);
                prop_assert!(!c.location.contains(['\r', '\n']));
            }
        }
    }
}

// ---- hostile partner strings through the whole build --------------------------------------

// ---- hostile requests against the Worker (wrangler dev, local D1) -------------------------
