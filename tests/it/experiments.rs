//! Experiments end to end with `serve`: a partner with two variants, plain HTTP over loopback,
//! the real SQLite file. (The Worker run is in the e2e tier: `tests/e2e/experiments.rs`.)

use crate::support::serve::{Serve, BROWSER_UA};

use crate::support::experiments::*;

fn variant_rows(s: &Serve) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    let mut stmt = conn
        .prepare("SELECT event_name, visitor_id, variant FROM partner_events ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn serve_gives_each_visitor_a_sticky_variant_under_the_same_url_and_records_it() {
    let s = Serve::start_in(site_with_variants(), &["--no-watch"], true);
    let ua = ("User-Agent", BROWSER_UA);
    let mut seen = std::collections::BTreeMap::new();
    for visitor in 0..24 {
        // First view, no cookie: the page under its own URL (no redirect) and two cookies.
        let first = s.get("/p/seo-consultant/", &[ua]);
        assert_eq!(first.status, 200, "visitor {visitor}");
        assert_eq!(first.header("location"), None);
        let variant = shown(&first.text());
        let cookie = first.cookie_header();
        assert!(cookie.contains("pp_vid="), "{cookie}");
        assert!(
            cookie.contains(&format!("pp_x_seo-consultant={variant}")),
            "{cookie}"
        );
        assert_eq!(first.header("cache-control"), Some("private, no-store"));
        *seen.entry(variant).or_insert(0) += 1;
        // Later views with the cookie: the same variant, nothing new to set.
        for _ in 0..2 {
            let again = s.get("/p/seo-consultant/", &[ua, ("Cookie", cookie.as_str())]);
            assert_eq!(again.status, 200);
            assert_eq!(shown(&again.text()), variant);
            assert!(again.all("set-cookie").is_empty());
        }
        // The beacon's events carry the variant of the cookie.
        let r = s.beacon(
            r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
            &[("Cookie", cookie.as_str())],
        );
        assert_eq!(r.status, 204, "{}", r.text());
        let rows = variant_rows(&s);
        let last = rows.last().expect("a row");
        assert_eq!(
            (last.0.as_str(), last.2.as_deref()),
            ("visit", Some(variant))
        );
        let vid = cookie
            .split("; ")
            .find_map(|c| c.strip_prefix("pp_vid="))
            .unwrap();
        assert_eq!(last.1, vid);
    }
    assert_eq!(seen.len(), 2, "24 visitors all got one variant: {seen:?}");
    // A partner without variants: no variant cookie, rows without a variant.
    let click = s.get("/go/founder-community", &[ua]);
    assert_eq!(click.status, 302);
    assert!(!click.cookie_header().contains("pp_x_"));
    assert_eq!(variant_rows(&s).last().unwrap().2, None);
    // A click on the tested partner's link assigns the variant there already.
    let click = s.get("/go/seo-consultant", &[ua]);
    let cookie = click.cookie_header();
    assert!(cookie.contains("pp_x_seo-consultant="), "{cookie}");
    let page = s.get("/p/seo-consultant/", &[ua, ("Cookie", cookie.as_str())]);
    assert!(cookie.contains(&format!("pp_x_seo-consultant={}", shown(&page.text()))));
    // The variant's page is its own file, kept out of the sitemap; agents read the control.
    let sitemap = s.get("/sitemap.xml", &[ua]).text();
    assert!(!sitemap.contains("/v/speed"), "{sitemap}");
    let mirror = s.get("/p/seo-consultant/index.html.md", &[ua]).text();
    assert!(
        mirror.contains(CONTROL_HEADLINE) && mirror.contains("a test is running"),
        "{mirror}"
    );
}

fn report_of(site: &std::path::Path, db: &std::path::Path, format: &str) -> String {
    let out = crate::support::run(
        site,
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--last",
            "7d",
            "--now",
            TEST_NOW,
            "--format",
            format,
        ],
    );
    assert!(
        out.status.success(),
        "report --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The same test in the three formats: the JSON has the counts of the known truth and the
/// interval of every look; Markdown and HTML say the same verdicts, rules and reasons; the HTML
/// draws each difference over the looks, with a title, a description and the table of figures.
#[test]
fn report_shows_the_test_in_json_markdown_and_html_from_the_same_figures() {
    let site = site_with_variants();
    let db = events_with_variants(site.path());
    let json: serde_json::Value =
        serde_json::from_str(&report_of(site.path(), &db, "json")).unwrap();
    let tests = json["experiments"]
        .as_array()
        .expect("an experiments section");
    assert_eq!(tests.len(), 1, "{tests:?}");
    let t = &tests[0];
    assert_eq!(t["partner"], "seo-consultant");
    let visitors = (TEST_DAYS * PER_DAY) as u64;
    assert_eq!(
        t["split"]["last"]["observed"],
        serde_json::json!([visitors, visitors])
    );
    assert_eq!(t["split"]["mismatch_at"], serde_json::Value::Null);
    let looks = t["looks"].as_array().unwrap();
    assert_eq!(looks.len(), 6, "{looks:?}");
    assert_eq!(looks.last().unwrap(), "2026-11-24T00:00:00.000Z");
    let stage = |name: &str| {
        t["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == name)
            .unwrap_or_else(|| panic!("stage {name}"))
            .clone()
    };
    let lm = stage("lead_magnet");
    assert_eq!(
        lm["arms"],
        serde_json::json!([
            {"visitors": visitors, "conversions": visitors / 5},
            {"visitors": visitors, "conversions": 2 * visitors / 5}
        ])
    );
    // A 20-point lift on 420 visitors a variant: found.
    assert_eq!(lm["decision"]["verdict"], "winner");
    assert_eq!(lm["decision"]["winner"], "speed");
    let pair = &lm["pairs"][0];
    let intervals = pair["intervals"].as_array().unwrap();
    let running = pair["running"].as_array().unwrap();
    assert_eq!(intervals.len(), looks.len());
    assert_eq!(running.len(), looks.len());
    assert_eq!(pair["current"], *running.last().unwrap());
    // Every readable look's interval holds the true difference (+0.2 exactly, by construction),
    // and the running interval never widens.
    let mut last_width = f64::INFINITY;
    for (iv, run) in intervals.iter().zip(running) {
        if iv.is_null() {
            continue;
        }
        let (lo, hi) = (iv["low"].as_f64().unwrap(), iv["high"].as_f64().unwrap());
        assert!(lo <= 0.2 && 0.2 <= hi, "{iv}");
        assert!(
            (iv["estimate"].as_f64().unwrap() - 0.2).abs() < 1e-9,
            "{iv}"
        );
        let w = run["high"].as_f64().unwrap() - run["low"].as_f64().unwrap();
        assert!(w <= last_width + 1e-12, "{run} wider than {last_width}");
        last_width = w;
    }
    assert_ne!(stage("cta")["decision"]["verdict"], "winner");

    let md = report_of(site.path(), &db, "md");
    let html = report_of(site.path(), &db, "html");
    assert!(md.contains("## Test: seo-consultant"), "{md}");
    assert!(html.contains("<h2>Test: seo-consultant</h2>"), "{html}");
    assert!(
        html.contains("<a href=\"#test-seo-consultant\">"),
        "the partner's section links to its test"
    );
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    for s in t["stages"].as_array().unwrap() {
        let d = &s["decision"];
        let verdict = match d["winner"].as_str() {
            Some(w) => format!("{} {w}", d["verdict"].as_str().unwrap()),
            None => d["verdict"].as_str().unwrap().to_string(),
        };
        let because = d["because"].as_str().unwrap();
        assert!(md.contains(because), "md lacks {because}");
        assert!(html.contains(&esc(because)), "html lacks {because}");
        let rule = d["rule"].as_str().unwrap();
        assert!(md.contains(&format!("| {verdict} | {rule} |")), "{md}");
        assert!(
            html.contains(&format!("{verdict}</td><td><code>{rule}</code></td></tr>")),
            "{html}"
        );
    }
    let method = t["method"].as_str().unwrap();
    assert!(md.contains(method) && html.contains(&esc(method)));
    let split = "Split: 420/420 visitors per variant where the weights expect 420/420";
    assert!(md.contains(split) && html.contains(split), "{md}");

    // One chart per stage (one pair): a labelled image with a dot per readable look, then
    // the same figures as a table, a row per look.
    let readable = |name: &str| {
        stage(name)["pairs"][0]["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| !x.is_null())
            .count()
    };
    let charts: Vec<&str> = html.split("<svg").skip(1).collect();
    let funnel_charts = 1 + json["partners"].as_array().unwrap().len();
    let drawn: Vec<&str> = charts
        .iter()
        .filter(|c| c.contains("aria-labelledby=\"test-seo-consultant-"))
        .copied()
        .collect();
    let expected: Vec<usize> = ["lead_magnet", "cta", "activation"]
        .iter()
        .map(|s| readable(s))
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(charts.len(), funnel_charts + drawn.len());
    assert_eq!(drawn.len(), expected.len(), "a chart per readable stage");
    for (svg, n) in drawn.iter().zip(&expected) {
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"test-seo-consultant-") && svg.contains("<desc id="));
        assert_eq!(svg.matches("<circle").count(), *n, "{svg}");
        assert!(svg.contains("stroke-dasharray"), "± the smallest lift");
    }
    let lm_title = format!(
        "speed − control, lead magnet rate, in points, at each of {} weekly looks",
        looks.len()
    );
    assert!(html.contains(&lm_title), "{html}");
    let tables = html.matches("<details><summary>Week by week: ").count();
    assert_eq!(tables, 3, "a table of figures per stage, drawn or not");
    let lm_table = &html[html
        .find("<summary>Week by week: speed − control, lead magnet rate")
        .unwrap()..];
    let lm_table = &lm_table[..lm_table.find("</details>").unwrap()];
    assert_eq!(lm_table.matches("<tr><td>").count(), looks.len());
    assert!(lm_table.contains("2026-11-24 00:00 UTC</td><td class=\"n\">+20.0</td>"));
}

/// Visitors whose rows name no variant (what the collectors store for a forged or unsigned
/// variant cookie) are in no arm once the test has started: a flood of them, each converting,
/// leaves every arm, interval and verdict as it was, while the partner's funnel counts them.
#[test]
fn forged_variant_visitors_leave_the_test_unchanged_and_count_in_the_funnel() {
    let site = site_with_variants();
    let plain = events_with_forged_variants(site.path(), 0);
    let flooded = events_with_forged_variants(site.path(), 15);
    let read = |db: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&report_of(site.path(), db, "json")).unwrap()
    };
    let (a, b) = (read(&plain), read(&flooded));
    let tests = a["experiments"].as_array().unwrap();
    assert_eq!(tests.len(), 1);
    let visitors = (TEST_DAYS * PER_DAY) as u64;
    assert_eq!(
        tests[0]["split"]["last"]["observed"],
        serde_json::json!([visitors, visitors])
    );
    assert_eq!(tests[0]["stages"][0]["decision"]["winner"], "speed");
    assert_eq!(
        a["experiments"], b["experiments"],
        "forged visitors moved the test"
    );
    // The funnel counts them: 15 more visitors a day over the report's 7 days.
    let funnel = |v: &serde_json::Value| {
        v["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == "seo-consultant")
            .map(|p| p["figures"]["counts"]["visitors"].as_u64().unwrap())
            .expect("the tested partner in the funnel")
    };
    assert_eq!(funnel(&a), 7 * 2 * PER_DAY as u64);
    assert_eq!(funnel(&b), funnel(&a) + 7 * 15);
}

/// A client cannot choose its variant: every made-up variant cookie (unsigned, another
/// visitor's or partner's signature, a guessed key, ...) is shown a fresh signed assignment
/// and its events are stored with no variant (NULL); a genuine signed cookie is kept and
/// recorded. `serve` does exactly what the shared rules say for each case.
#[test]
fn serve_stores_a_forged_variant_cookie_as_no_variant_and_signs_a_fresh_assignment() {
    let site = site_with_variants();
    let cases = variant_cookie_cases(site.path());
    let s = Serve::start_with_variant_key(site, VARIANT_KEY);
    let ua = ("User-Agent", BROWSER_UA);
    for case in &cases {
        let page = s.get(
            "/p/seo-consultant/",
            &[ua, ("Cookie", case.cookie.as_str())],
        );
        assert_eq!(page.status, 200, "{}", case.what);
        assert_eq!(shown(&page.text()), case.shown, "{}", case.what);
        assert_eq!(
            set_variant_value(&page.all("set-cookie")),
            case.landing_sets,
            "{}: the landing page's cookie",
            case.what
        );
        let r = s.beacon(
            r#"{"e":"visit","p":"seo-consultant","u":"/p/seo-consultant/"}"#,
            &[("Cookie", case.cookie.as_str())],
        );
        assert_eq!(r.status, 204, "{}: {}", case.what, r.text());
        assert_eq!(
            set_variant_value(&r.all("set-cookie")),
            case.event_sets,
            "{}: the beacon's cookie",
            case.what
        );
        let click = s.get(
            "/go/seo-consultant",
            &[ua, ("Cookie", case.cookie.as_str())],
        );
        assert_eq!(click.status, 302, "{}", case.what);
        assert_eq!(
            set_variant_value(&click.all("set-cookie")),
            case.event_sets,
            "{}: the click's cookie",
            case.what
        );
    }
    let rows = variant_rows(&s);
    for case in &cases {
        let mine: Vec<_> = rows.iter().filter(|r| r.1 == case.visitor).collect();
        assert_eq!(mine.len(), 2, "{}: {mine:?}", case.what);
        for row in mine {
            assert_eq!(row.2, case.recorded, "{}: {row:?}", case.what);
        }
    }
    let forged = cases.iter().filter(|c| c.recorded.is_none()).count();
    println!(
        "variant cookies: {forged} of {} made-up cookies stored as no variant",
        cases.len() - 3
    );
}

/// `build` reminds that the Worker needs the variant secret when a partner runs a test (no
/// build can see a Worker secret), and says nothing of it otherwise.
#[test]
fn build_names_the_variant_secret_when_a_partner_runs_a_test() {
    let note = "npx wrangler secret put PP_VARIANT_SECRET";
    let tested = site_with_variants();
    let out = crate::support::run(tested.path(), &["build"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(note), "{said}");
    let plain = crate::support::copy_site(&crate::support::example_site());
    let out = crate::support::run(plain.path(), &["build"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("PP_VARIANT_SECRET"), "{said}");
    // The key is read at run time: nothing built holds it or changes with it.
    let built = crate::support::read(tested.path().join("collector/worker.js"));
    assert!(built.contains("env.PP_VARIANT_SECRET"));
}
