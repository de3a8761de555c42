//! `serve` end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! `partner-pages serve`: a real server process, a real SQLite file, raw HTTP over loopback.

use crate::support;
use std::process::Command;

use crate::support::serve::*;

/// A `serve` with a host-site `/pricing` page carrying the one-line beacon snippet
/// (founder-community's activation trigger is `page: /pricing`).
fn serve_with_pricing_page() -> Serve {
    let s = Serve::start(&["--no-watch"]);
    let site = partner_pages::load(s.site.path(), &Default::default()).expect("site loads");
    let snippet = partner_pages::render::beacon::host_snippet(&site);
    std::fs::create_dir_all(s.out.join("pricing")).unwrap();
    std::fs::write(
        s.out.join("pricing/index.html"),
        format!("<!doctype html><html lang=\"en\"><head><title>Pricing</title></head><body><h1>Pricing</h1>{snippet}</body></html>\n"),
    )
    .unwrap();
    s
}

/// Run `tests/browser/flow.mjs` for founder-community / slack-digest against `s`; gives the
/// flow's JSON and the visitor id the browser holds.
fn browser_flow(s: &Serve, extra: &[&str]) -> (serde_json::Value, String) {
    let node =
        crate::tools::require_tool("node", "Node.js drives Chromium through playwright-core");
    crate::tools::require_tool("chromium", "Debian package `chromium`");
    let base = format!("http://{}", s.addr);
    let out = Command::new(node)
        .arg(support::repo_root().join("tests/browser/flow.mjs"))
        .args(["--base", &base, "--partner", "founder-community"])
        .args([
            "--campaign",
            "slack-digest",
            "--activation",
            "page:/pricing/",
        ])
        .args(extra)
        .current_dir(support::repo_root())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser flow failed: {}\n{}\nserve log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.stderr()
    );
    let flow: serde_json::Value = serde_json::from_slice(&out.stdout).expect("flow prints JSON");
    assert_eq!(
        flow["landing"],
        format!("{base}/p/founder-community/?campaign=slack-digest")
    );
    assert_eq!(flow["page_errors"], serde_json::json!([]), "{flow}");
    let cookies = flow["cookies"].as_array().expect("cookies");
    let vid = cookies
        .iter()
        .find(|c| c["name"] == "pp_vid")
        .and_then(|c| c["value"].as_str())
        .expect("the browser holds the pp_vid cookie")
        .to_string();
    assert!(cookies
        .iter()
        .all(|c| c["httpOnly"] == true && c["sameSite"] == "Lax"));
    (flow, vid)
}

#[test]
fn chromium_direct_visit_clicking_at_once_keeps_one_visitor_id_in_serve() {
    let s = serve_with_pricing_page();
    // No /go/ link, so no cookie; visit, lead_magnet and cta all leave before any answer.
    let (flow, vid) = browser_flow(&s, &["--direct", "1"]);
    let beacons = flow["beacons"].as_array().expect("beacons");
    let page_ids: std::collections::BTreeSet<_> = beacons
        .iter()
        .filter(|b| b["body"]["u"] == "/p/founder-community/")
        .map(|b| {
            b["body"]["v"]
                .as_str()
                .expect("every event carries the page id")
        })
        .collect();
    assert_eq!(page_ids.len(), 1, "one page id per page load: {flow}");
    assert_eq!(page_ids.first(), Some(&vid.as_str()), "{flow}");
    let rows = s.rows();
    let mut got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.stage.as_str(),
                r.campaign.as_str(),
                r.page_path.as_str(),
                r.visitor_id.as_deref(),
            )
        })
        .collect();
    got.sort();
    let (l, v) = ("/p/founder-community/", Some(vid.as_str()));
    assert_eq!(
        got,
        [
            ("activation", "slack-digest", "/pricing/", v),
            ("cta", "slack-digest", l, v),
            ("lead_magnet", "slack-digest", l, v),
            ("visit", "slack-digest", l, v),
        ],
        "one journey, one visitor id: {rows:#?}"
    );
}

#[test]
fn chromium_walks_the_funnel_and_serve_writes_its_exact_rows() {
    let s = serve_with_pricing_page();
    let (_, vid) = browser_flow(&s, &[]);
    let vid = vid.as_str();
    // Every beacon was acknowledged only after its commit, so the rows are all there now.
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
    let fc = "founder-community";
    let v = Some(vid);
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
            ("activation", fc, "slack-digest", "/pricing/", v),
        ],
        "rows: {rows:#?}"
    );
}
