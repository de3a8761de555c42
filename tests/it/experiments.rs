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
