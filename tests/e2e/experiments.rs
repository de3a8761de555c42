//! Experiments end to end with the generated Worker in `wrangler dev` (the opt-in tier).

use crate::support::serve::BROWSER_UA;

use crate::support::experiments::*;

/// The same with the generated Worker in `wrangler dev` (workerd, local D1): sticky variant by
/// cookie, the same URL, both variants across visitors, the variant in the D1 rows.
#[test]
fn the_worker_gives_each_visitor_a_sticky_variant_and_d1_rows_carry_it() {
    let c = crate::worker::Collector::start_in(site_with_variants());
    let ua = ("User-Agent", BROWSER_UA);
    let mut seen = std::collections::BTreeMap::new();
    let mut expected_rows = Vec::new();
    for visitor in 0..12 {
        let first = c.request("GET", "/p/seo-consultant/", &[ua], b"");
        assert_eq!(first.status, 200, "visitor {visitor}: {}", first.text());
        assert!(first.header_all("location").is_empty());
        let variant = shown(first.text());
        let cookie: String = first
            .header_all("set-cookie")
            .iter()
            .map(|c| c.split(';').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("; ");
        assert!(
            cookie.contains(&format!("pp_x_seo-consultant={variant}"))
                && cookie.contains("pp_vid="),
            "{cookie}"
        );
        *seen.entry(variant).or_insert(0) += 1;
        let again = c.request(
            "GET",
            "/p/seo-consultant/",
            &[ua, ("Cookie", cookie.as_str())],
            b"",
        );
        assert_eq!(shown(again.text()), variant);
        assert!(again.header_all("set-cookie").is_empty());
        let r = c.beacon(
            r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
            &[("Cookie", cookie.as_str())],
        );
        assert_eq!(r.status, 204, "{}", r.text());
        expected_rows.push(variant);
    }
    assert_eq!(seen.len(), 2, "12 visitors all got one variant: {seen:?}");
    let visits = c.query(
        "SELECT variant FROM partner_events WHERE event_name = 'visit' ORDER BY created_at, rowid",
    );
    let got: Vec<&str> = visits
        .iter()
        .filter_map(|r| r["variant"].as_str())
        .collect();
    assert_eq!(got, expected_rows);
}

/// A client cannot choose its variant in the Worker either: for every cookie of the shared
/// corpus (genuine, unsigned, another visitor's or partner's signature, a guessed key, ...)
/// the Worker in `wrangler dev` shows, sets and stores in local D1 exactly what the rules of
/// `serve` say: a made-up cookie is stored as no variant (NULL) and gets a fresh signed one.
#[test]
fn the_worker_stores_a_forged_variant_cookie_as_no_variant_and_signs_a_fresh_assignment() {
    let site = site_with_variants();
    let cases = variant_cookie_cases(site.path());
    let c = crate::worker::Collector::start_in(site);
    let ua = ("User-Agent", BROWSER_UA);
    for case in &cases {
        let cookie = ("Cookie", case.cookie.as_str());
        let page = c.request("GET", "/p/seo-consultant/", &[ua, cookie], b"");
        assert_eq!(page.status, 200, "{}: {}", case.what, page.text());
        assert_eq!(shown(page.text()), case.shown, "{}", case.what);
        assert_eq!(
            set_variant_value(&page.header_all("set-cookie")),
            case.landing_sets,
            "{}: the landing page's cookie",
            case.what
        );
        let r = c.beacon(
            r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
            &[cookie],
        );
        assert_eq!(r.status, 204, "{}: {}", case.what, r.text());
        assert_eq!(
            set_variant_value(&r.header_all("set-cookie")),
            case.event_sets,
            "{}: the beacon's cookie",
            case.what
        );
        let click = c.request("GET", "/go/seo-consultant", &[ua, cookie], b"");
        assert_eq!(click.status, 302, "{}", case.what);
        assert_eq!(
            set_variant_value(&click.header_all("set-cookie")),
            case.event_sets,
            "{}: the click's cookie",
            case.what
        );
    }
    // Clicks are written after the redirect: wait for every row.
    c.rows_at_least(2 * cases.len());
    let rows = c.query("SELECT event_name, visitor_id, variant FROM partner_events");
    for case in &cases {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r["visitor_id"].as_str() == Some(case.visitor.as_str()))
            .collect();
        assert_eq!(mine.len(), 2, "{}: {mine:?}", case.what);
        for row in mine {
            assert_eq!(
                row["variant"].as_str(),
                case.recorded.as_deref(),
                "{}: {row}",
                case.what
            );
        }
    }
}

/// Without `PP_VARIANT_SECRET` no test runs in the Worker: every visitor sees the control
/// page, no variant cookie is set, events store no variant (even with a variant cookie), and
/// the Worker says why in its log.
#[test]
fn without_the_variant_secret_the_worker_runs_no_test_and_says_so() {
    let c = crate::worker::Collector::start_without_variant_key(site_with_variants());
    let ua = ("User-Agent", BROWSER_UA);
    for _ in 0..8 {
        let page = c.request("GET", "/p/seo-consultant/", &[ua], b"");
        assert_eq!(page.status, 200, "{}", page.text());
        assert_eq!(shown(page.text()), "control");
        assert_eq!(set_variant_value(&page.header_all("set-cookie")), None);
    }
    let cookie = "pp_vid=0000abcd-5a6b-4c7d-8e9f-0a1b2c3d4e5f; pp_x_seo-consultant=speed";
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[("Cookie", cookie)],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(set_variant_value(&r.header_all("set-cookie")), None);
    let rows = c.query("SELECT variant FROM partner_events");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0]["variant"].is_null(), "{rows:?}");
    assert!(
        c.log_shows("PP_VARIANT_SECRET is not configured"),
        "{}",
        c.log_text()
    );
}

/// A plain static server (Python's) for the built output, killed on drop: the origin behind
/// a Worker in mode `route`.
struct Origin(std::process::Child);

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Mode `route`: the test runs too. The Worker, on the landing page's route, picks the
/// visitor's variant and serves its file from the origin (a plain static server) under the
/// page's own URL, signs the cookie, and the events carry the variant; a forged cookie is
/// stored as no variant, as in mode `assets`.
#[test]
fn in_route_mode_the_worker_runs_the_test_on_the_landing_page_route() {
    let site = site_with_variants();
    let config = site.path().join("partner-pages.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "  mode: assets\n",
            "  mode: route\n  route: \"aikit.example/go/*\"\n",
        ),
    )
    .unwrap();
    let built = crate::support::run(site.path(), &["build"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let toml = std::fs::read_to_string(site.path().join("collector/wrangler.toml")).unwrap();
    assert!(!toml.contains("[assets]"), "{toml}");
    for route in [
        "\"aikit.example/p/seo-consultant/\"",
        "\"aikit.example/p/seo-consultant/index.html\"",
    ] {
        assert!(toml.contains(route), "the landing page is a route: {toml}");
    }
    assert!(
        toml.contains("wrangler secret put PP_VARIANT_SECRET"),
        "{toml}"
    );
    let python =
        crate::tools::require_tool("python3", "Python serves the output as a plain origin");
    let origin_port = crate::worker::free_port();
    let origin = Origin(
        std::process::Command::new(python)
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(origin_port.to_string())
            .arg("--directory")
            .arg(site.path().join("public"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start python3 -m http.server"),
    );
    let start = std::time::Instant::now();
    while crate::worker::try_http(origin_port, "GET", "/p/seo-consultant/v/speed/", &[], b"")
        .map_or(true, |r| r.status != 200)
    {
        assert!(start.elapsed().as_secs() < 60, "the origin never answered");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let c = crate::worker::Collector::start_route(site, &format!("127.0.0.1:{origin_port}"));
    let ua = ("User-Agent", BROWSER_UA);
    let mut seen = std::collections::BTreeMap::new();
    for visitor in 0..12 {
        let first = c.request("GET", "/p/seo-consultant/", &[ua], b"");
        assert_eq!(first.status, 200, "visitor {visitor}: {}", first.text());
        assert!(first.header_all("location").is_empty());
        let variant = shown(first.text());
        let set = set_variant_value(&first.header_all("set-cookie"))
            .unwrap_or_else(|| panic!("no variant cookie: {:?}", first.header_all("set-cookie")));
        assert!(set.starts_with(&format!("{variant}.")), "{set}");
        let cookie: String = first
            .header_all("set-cookie")
            .iter()
            .map(|c| c.split(';').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("; ");
        *seen.entry(variant).or_insert(0) += 1;
        let again = c.request(
            "GET",
            "/p/seo-consultant/index.html",
            &[ua, ("Cookie", cookie.as_str())],
            b"",
        );
        assert_eq!(shown(again.text()), variant);
        assert!(again.header_all("set-cookie").is_empty());
        let r = c.beacon(
            r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
            &[("Cookie", cookie.as_str())],
        );
        assert_eq!(r.status, 204, "{}", r.text());
    }
    assert_eq!(seen.len(), 2, "12 visitors all got one variant: {seen:?}");
    // A forged cookie: a fresh signed assignment, stored as no variant.
    let forged = "pp_vid=0000abcd-5a6b-4c7d-8e9f-0a1b2c3d4e5f; pp_x_seo-consultant=speed";
    let r = c.beacon(
        r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
        &[("Cookie", forged)],
    );
    assert_eq!(r.status, 204);
    assert!(set_variant_value(&r.header_all("set-cookie")).is_some());
    let visits = c.query(
        "SELECT variant FROM partner_events WHERE event_name = 'visit' ORDER BY created_at, rowid",
    );
    let got: Vec<Option<&str>> = visits.iter().map(|r| r["variant"].as_str()).collect();
    assert_eq!(got.len(), 13, "{got:?}");
    assert!(got[..12].iter().all(|v| v.is_some()), "{got:?}");
    assert_eq!(got[12], None, "the forged cookie's visit");
    drop(c);
    drop(origin);
}

/// Visitors in the browser test: all of them get one variant with probability 2 × 2⁻²⁰.
const BROWSER_VISITORS: usize = 20;

/// Run `tests/browser/experiment.mjs` against `base`; `log` explains a failure.
fn browse(base: &str, log: impl Fn() -> String) -> serde_json::Value {
    let node =
        crate::tools::require_tool("node", "Node.js drives Chromium through playwright-core");
    crate::tools::require_tool("chromium", "Debian package `chromium`");
    let out = std::process::Command::new(node)
        .arg(crate::support::repo_root().join("tests/browser/experiment.mjs"))
        .args(["--base", base, "--partner", "seo-consultant"])
        .args(["--visitors", &BROWSER_VISITORS.to_string()])
        .current_dir(crate::support::repo_root())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser run failed: {}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        log()
    );
    serde_json::from_slice(&out.stdout).expect("experiment.mjs prints JSON")
}

/// What every visitor saw, checked: each view answered 200 at the requested URL with no
/// redirect in the chain, the three views (two page loads, then another day from the stored
/// cookies) showed one variant, the cookies name it, and both variants were seen. Gives
/// (visitor id, variant, visit beacons answered 204) per visitor.
fn visitors_saw_sticky_variants(run: &serde_json::Value) -> Vec<(String, &'static str, usize)> {
    assert_eq!(run["page_errors"], serde_json::json!([]), "{run}");
    let visitors = run["visitors"].as_array().expect("visitors");
    assert_eq!(visitors.len(), BROWSER_VISITORS);
    let mut out = Vec::new();
    for (i, v) in visitors.iter().enumerate() {
        let views = v["views"].as_array().expect("views");
        assert_eq!(views.len(), 3, "visitor {i}: {v}");
        let mut shown_here = std::collections::BTreeSet::new();
        for view in views {
            assert_eq!(view["status"], 200, "visitor {i}: {view}");
            assert_eq!(
                view["url"], view["requested"],
                "the address bar keeps the URL: {view}"
            );
            assert_eq!(view["redirected_from"], serde_json::Value::Null, "{view}");
            assert_eq!(
                view["chain"],
                serde_json::json!([{"url": view["requested"], "status": 200}]),
                "one navigation response, no 3xx: {view}"
            );
            shown_here.insert(shown(view["headline"].as_str().expect("headline")));
        }
        assert_eq!(shown_here.len(), 1, "visitor {i} saw {shown_here:?}: {v}");
        let variant = *shown_here.first().unwrap();
        let cookie = |name: &str| {
            v["cookies"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .and_then(|c| c["value"].as_str())
                .unwrap_or_else(|| panic!("visitor {i} holds no {name} cookie: {v}"))
                .to_string()
        };
        // `<variant>.<signature>`: the variant, signed for this visitor.
        let held = cookie("pp_x_seo-consultant");
        assert_eq!(held.split('.').next(), Some(variant), "{v}");
        assert_eq!(held.len(), variant.len() + 65, "{v}");
        let visits = v["beacons"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["body"]["e"] == "visit")
            .inspect(|b| assert_eq!(b["status"], 204, "visitor {i}: {b}"))
            .count();
        assert_eq!(visits, 3, "a visit beacon per page load: {v}");
        out.push((cookie("pp_vid"), variant, visits));
    }
    let mut seen = std::collections::BTreeMap::new();
    for (_, variant, _) in &out {
        *seen.entry(*variant).or_insert(0) += 1;
    }
    println!("visitors per variant (three views each, one variant each): {seen:?}");
    assert_eq!(
        seen.len(),
        2,
        "{BROWSER_VISITORS} visitors all saw one variant: {seen:?}"
    );
    out
}

/// Each visitor's rows are its visits, every one carrying the variant it saw.
fn rows_carry_the_variant(
    seen: &[(String, &'static str, usize)],
    rows: &[(String, Option<String>, Option<String>)],
) {
    for (vid, variant, visits) in seen {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.1.as_deref() == Some(vid.as_str()))
            .collect();
        assert_eq!(mine.len(), *visits, "visitor {vid}: {mine:?}");
        for r in mine {
            assert_eq!(
                (r.0.as_str(), r.2.as_deref()),
                ("visit", Some(*variant)),
                "visitor {vid}"
            );
        }
    }
    assert_eq!(
        rows.len(),
        seen.iter().map(|s| s.2).sum::<usize>(),
        "{rows:?}"
    );
}

/// Headless Chromium against the Worker in `wrangler dev`: sticky across page loads and days,
/// both variants across visitors, the same URL with no redirect, the variant in local D1.
#[test]
fn chromium_keeps_each_visitor_on_one_variant_in_the_worker_and_d1_rows_carry_it() {
    let c = crate::worker::Collector::start_in(site_with_variants());
    let base = format!("http://127.0.0.1:{}", c.port);
    let run = browse(&base, || c.log_text());
    let seen = visitors_saw_sticky_variants(&run);
    let rows: Vec<(String, Option<String>, Option<String>)> = c
        .query(
            "SELECT event_name, visitor_id, variant FROM partner_events WHERE partner_code = 'seo-consultant' ORDER BY created_at, rowid",
        )
        .iter()
        .map(|r| {
            (
                r["event_name"].as_str().unwrap_or("").to_string(),
                r["visitor_id"].as_str().map(String::from),
                r["variant"].as_str().map(String::from),
            )
        })
        .collect();
    rows_carry_the_variant(&seen, &rows);
}

/// The same against `partner-pages serve` and its SQLite file.
#[test]
fn chromium_keeps_each_visitor_on_one_variant_in_serve_and_its_rows_carry_it() {
    let s = crate::support::serve::Serve::start_in(site_with_variants(), &["--no-watch"], true);
    let base = format!("http://{}", s.addr);
    let run = browse(&base, || s.stderr());
    let seen = visitors_saw_sticky_variants(&run);
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT event_name, visitor_id, variant FROM partner_events \
             WHERE partner_code = 'seo-consultant' ORDER BY created_at, rowid",
        )
        .unwrap();
    let rows: Vec<(String, Option<String>, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows_carry_the_variant(&seen, &rows);
}

/// The HTML report with a running test (its tables, charts and week-by-week tables) is valid
/// HTML for the W3C Nu checker and still self-contained.
#[test]
fn html_report_with_a_test_passes_the_nu_checker() {
    let site = site_with_variants();
    let db = events_with_variants(site.path());
    let out_file = site.path().join("report.html");
    let out = crate::support::run(
        site.path(),
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--last",
            "7d",
            "--now",
            TEST_NOW,
            "--format",
            "html",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&out_file).unwrap();
    assert!(html.contains("<section id=\"test-seo-consultant\">"));
    assert!(html.contains("<desc id=\"test-seo-consultant-lead_magnet-0-desc\">"));
    assert!(!html.contains("<script") && !html.contains("<link ") && !html.contains("@import"));
    assert!(
        !html
            .replace("http://www.w3.org/2000/svg", "")
            .contains("http"),
        "external reference"
    );
    crate::tools::assert_nu_clean(&[out_file]);
}

/// The variant draws of `tests/fixtures/collector/variants.json` (the plain tier holds the Rust
/// rules to the same file): the Worker records each visitor's stated variant on a signed `/s`
/// row and, for a UUID visitor, sets the stated signed cookie on its first landing page.
#[test]
fn the_worker_draws_the_variants_the_fixture_states() {
    use crate::support::collector::{fixture, SIGNING_SECRET};
    let (_, f) = fixture("variants");
    assert_eq!(f["key"], VARIANT_KEY);
    assert_eq!(f["partner"], TESTED);
    let c = crate::worker::Collector::start_in(site_with_variants());
    let ua = ("User-Agent", BROWSER_UA);
    let draws = f["draws"].as_array().unwrap();
    for case in draws {
        let visitor = case["visitor"].as_str().unwrap();
        let want = &case["expect"];
        let body =
            serde_json::json!({"event": "activation", "partner": TESTED, "visitor_id": visitor})
                .to_string();
        let ts = crate::worker::now();
        let sig = partner_pages::collector::requests::sign(
            SIGNING_SECRET.as_bytes(),
            ts,
            body.as_bytes(),
        );
        let ts = ts.to_string();
        let r = c.request(
            "POST",
            "/s",
            &[
                ("X-PP-Timestamp", ts.as_str()),
                ("X-PP-Signature", sig.as_str()),
            ],
            body.as_bytes(),
        );
        assert_eq!(r.status, 204, "{visitor}: {}", r.text());
        if partner_pages::collector::requests::valid_page_id(visitor) {
            let cookie = format!("pp_vid={visitor}");
            let page = c.request(
                "GET",
                "/p/seo-consultant/",
                &[ua, ("Cookie", cookie.as_str())],
                b"",
            );
            assert_eq!(page.status, 200, "{visitor}");
            assert_eq!(
                set_variant_value(&page.header_all("set-cookie")).as_deref(),
                want["cookie"].as_str(),
                "{visitor}: the landing page's signed cookie"
            );
            assert_eq!(Some(shown(page.text())), want["pick"].as_str(), "{visitor}");
        }
    }
    let rows =
        c.query("SELECT visitor_id, variant FROM partner_events WHERE event_name = 'activation'");
    assert_eq!(rows.len(), draws.len(), "{rows:?}");
    for case in draws {
        let visitor = case["visitor"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r["visitor_id"] == visitor)
            .unwrap_or_else(|| panic!("no row for {visitor}"));
        assert_eq!(row["variant"], case["expect"]["pick"], "{visitor}");
    }
}
