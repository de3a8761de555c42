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
    let wrangler = crate::tools::require_tool("wrangler", "wrangler runs local D1 queries");
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
