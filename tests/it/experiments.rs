//! Experiments end to end with `serve`: a partner with two variants, plain HTTP over loopback,
//! the real SQLite file. (The browser and Worker runs are in the opt-in browser tests.)

use crate::serve::{Serve, BROWSER_UA};
use crate::support;

const VARIANTS: &str = "variants:\n  - id: control\n  - id: speed\n    promise: Audit in ten minutes\n    landing: { headline: Audit AI content in ten minutes }\n    cta: { label: Start an audit }\n";
const CONTROL_HEADLINE: &str = "Ship AI content your clients can trust";
const SPEED_HEADLINE: &str = "Audit AI content in ten minutes";

fn site_with_variants() -> tempfile::TempDir {
    let site = support::copy_site(&support::repo_root());
    let file = site.path().join("partners/seo-consultant.yaml");
    let mut text = std::fs::read_to_string(&file).expect("example partner");
    text.push_str(VARIANTS);
    std::fs::write(&file, text).unwrap();
    site
}

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

fn shown(body: &str) -> &'static str {
    match (
        body.contains(SPEED_HEADLINE),
        body.contains(CONTROL_HEADLINE),
    ) {
        (true, false) => "speed",
        (false, true) => "control",
        _ => panic!("the page shows neither or both headlines"),
    }
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
    let wrangler = support::require_tool("wrangler", "wrangler runs local D1 queries");
    let out = c
        .wrangler_cmd(
            &wrangler,
            &[
                "d1",
                "execute",
                "partner-events",
                "--local",
                "--json",
                "--command",
                "SELECT variant FROM partner_events WHERE event_name = 'visit' ORDER BY created_at, rowid",
            ],
        )
        .output()
        .expect("run wrangler d1 execute");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let got: Vec<&str> = v[0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["variant"].as_str())
        .collect();
    assert_eq!(got, expected_rows);
}

/// `report` on a test with a clear lift: the winner, its rule and the method, in Markdown and
/// in JSON that matches the schema; the other partners' figures are untouched.
#[test]
fn report_shows_the_test_and_names_the_winner() {
    let site = site_with_variants();
    let db = site.path().join("events.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    // 8 weeks from 2026-10-05, 150 visitors a week, half each; lead magnet 20% vs 40%.
    let mut seed: u64 = 7;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    let tx = conn.unchecked_transaction().unwrap();
    for i in 0..1200u32 {
        let day = 4 + i / 25; // 2026-10-05 ..
        let at = |m: u32| format!("2026-{}T10:{m:02}:00.000Z", date(day));
        let variant = if i % 2 == 0 { "control" } else { "speed" };
        let vid = format!("{i:08x}-0000-4000-8000-000000000000");
        let rate = if variant == "speed" { 0.4 } else { 0.2 };
        let put = |stage: &str, m: u32| {
            tx.execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant) VALUES (?1, 'seo-consultant', 'default', ?2, '/p/seo-consultant/', ?3, ?4, ?5)",
                rusqlite::params![format!("{vid}-{stage}"), stage, vid, at(m), variant],
            )
            .unwrap();
        };
        put("visit", 0);
        if next() < rate {
            put("lead_magnet", 1);
        }
    }
    tx.commit().unwrap();
    let args = [
        "report",
        "--events",
        "events.db",
        "--since",
        "2026-10-01",
        "--until",
        "2026-12-01",
    ];
    let json = support::run(site.path(), &[&args[..], &["--format", "json"]].concat());
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let text = String::from_utf8(json.stdout).unwrap();
    support::assert_valid_json("report.schema.json", &text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let test = &v["experiments"][0];
    assert_eq!(test["partner"], "seo-consultant");
    assert_eq!(test["split"]["mismatch_at"], serde_json::Value::Null);
    let lead = &test["stages"][0];
    assert_eq!(lead["stage"], "lead_magnet");
    assert_eq!(lead["decision"]["verdict"], "winner", "{lead}");
    assert_eq!(lead["decision"]["winner"], "speed");
    assert_eq!(lead["arms"][0]["visitors"], 600);
    let md = support::run(site.path(), &args);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("## Test: seo-consultant"), "{md}");
    assert!(md.contains("| Lead magnet | speed − control: +"), "{md}");
    assert!(
        md.contains("| winner speed | interval_excludes_zero |"),
        "{md}"
    );
    assert!(
        md.contains("Method: normal-mixture confidence sequence"),
        "{md}"
    );
}

/// `MM-DD` of day `n` counted from 2026-10-01 (October and November only).
fn date(n: u32) -> String {
    if n < 31 {
        format!("10-{:02}", n + 1)
    } else {
        format!("11-{:02}", n - 30)
    }
}
