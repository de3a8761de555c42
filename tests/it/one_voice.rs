//! One voice: every output tells the same decision for the same partner and window. A generated
//! 60-day table with a running test that has a winner, a broken redirect at low traffic, a weak
//! lead magnet at high traffic, a small partner with strong activation, a too-young partner and
//! one inside every band, and one whose landing-page beacon stopped while its clicks kept
//! coming; the team report (md, html, json), the partner report, the first
//! calendar task, the `build --events --preview` annotation and the MCP `funnel_report` tool
//! are read for every partner and compared.

use crate::support::calendar::{extra_partner, follow_through_site};
use crate::support::mcp::{tool_text, Client};
use crate::support::{self, read};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The table ends here; every output reads the 28 days before it.
const NOW: &str = "2026-12-31T00:00:00Z";
const DAY_MS: i64 = 86_400_000;

/// One partner's traffic: `visits` of `clicks` clicking visitors view the page; conversions
/// are spread evenly over the visitors, so every subset of them has the same rates.
struct T {
    code: &'static str,
    variant: Option<&'static str>,
    clicks: u32,
    visits: u32,
    lm: u32,
    cta: u32,
    act: u32,
    /// Days before NOW of the first and the last click.
    from_days: i64,
    to_days: i64,
    /// Days before NOW from which the page sends nothing (a beacon that stopped).
    beacon_stops: Option<i64>,
}

const fn t(code: &'static str, clicks: u32, visits: u32, lm: u32, cta: u32, act: u32) -> T {
    T {
        code,
        variant: None,
        clicks,
        visits,
        lm,
        cta,
        act,
        from_days: 27,
        to_days: 15,
        beacon_stops: None,
    }
}

/// The partners, and the rule each must get.
const TRAFFIC: &[(T, &str)] = &[
    // A weak lead magnet at high traffic.
    (
        t("seo-consultant", 1500, 1450, 20, 5, 0),
        "many_clicks_weak_lead_magnet",
    ),
    // A small partner with strong activation.
    (
        t("nocode-agency", 40, 38, 12, 6, 9),
        "few_visits_strong_activation",
    ),
    // Inside every band, with intervals narrow enough to say so.
    (t("webinar-club", 2100, 2000, 540, 160, 36), "within_bands"),
    // Too few visitors for a verdict.
    (t("newsletter-swap", 32, 30, 7, 1, 0), "insufficient_data"),
    // A running test whose variant `ten-minutes` wins on the lead magnet.
    (
        T {
            variant: Some("control"),
            ..t("ai-tools-directory", 310, 300, 45, 18, 4)
        },
        "promote_winner",
    ),
    (
        T {
            variant: Some("ten-minutes"),
            ..t("ai-tools-directory", 310, 300, 120, 24, 6)
        },
        "promote_winner",
    ),
    // The week before NOW: 120 clicks, 60 visits (a broken redirect at low traffic).
    (
        T {
            from_days: 7,
            to_days: 1,
            ..t("founder-community", 120, 60, 15, 4, 1)
        },
        "weak_click_to_visit",
    ),
    // Enough visitors, all from the last four days: too young to judge.
    (
        T {
            from_days: 4,
            to_days: 1,
            ..t("slack-group", 155, 150, 40, 9, 2)
        },
        "too_early",
    ),
    // 200 clicks over 26 days; the page stops sending beacon rows 6 days before NOW while
    // the clicks (server side) keep coming: the tracking, not the traffic or the redirect.
    (
        T {
            from_days: 27,
            to_days: 1,
            beacon_stops: Some(6),
            ..t("podcast-host", 200, 195, 50, 12, 3)
        },
        "beacon_stopped",
    ),
];

/// Whether the `k`-th of `n` gets one of `m` conversions (spread evenly).
fn spread(k: u32, m: u32, n: u32) -> bool {
    n > 0
        && (u64::from(k + 1) * u64::from(m)) / u64::from(n)
            > (u64::from(k) * u64::from(m)) / u64::from(n)
}

fn table(dir: &Path) -> PathBuf {
    let path = dir.join("voice.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    conn.execute_batch(partner_pages::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    let now = partner_pages::events::Ts::parse(NOW).unwrap().0;
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant, user_id) VALUES (?1, ?2, 'default', ?3, '/', ?4, ?5, ?6, ?7)")
            .unwrap();
        let mut n = 0u64;
        // Older traffic, outside the 28-day window: the table covers 60 days.
        let mut all: Vec<(&T, bool)> = TRAFFIC.iter().map(|(t, _)| (t, true)).collect();
        let old = t("webinar-club", 400, 380, 100, 30, 7);
        let old = T {
            from_days: 60,
            to_days: 40,
            ..old
        };
        all.push((&old, false));
        for (t, _) in all {
            let span = (t.from_days - t.to_days) * DAY_MS;
            let first = now - t.from_days * DAY_MS;
            let mut cta_seen = 0u32;
            for i in 0..t.clicks {
                n += 1;
                let vid = format!("{}-{}-{i}-{n}", t.code, t.variant.unwrap_or("c"));
                let at = first + span * i64::from(i) / i64::from(t.clicks.max(1));
                let mut push = |event: &str, dt: i64, user: Option<String>| {
                    let ts = partner_pages::events::Ts(at + dt).to_string();
                    ins.execute(rusqlite::params![
                        format!("{vid}-{event}"),
                        t.code,
                        event,
                        vid,
                        ts,
                        t.variant,
                        user
                    ])
                    .unwrap();
                };
                push("click", 0, None);
                if t.beacon_stops.is_some_and(|d| at >= now - d * DAY_MS) {
                    continue;
                }
                // The visitors who land are spread over the clicks too.
                if !spread(i, t.visits, t.clicks) {
                    continue;
                }
                let k = (u64::from(i) * u64::from(t.visits) / u64::from(t.clicks)) as u32;
                push("visit", 1_000, None);
                if spread(k, t.lm, t.visits) {
                    push("lead_magnet", 180_000, None);
                }
                if spread(k, t.cta, t.visits) {
                    cta_seen += 1;
                    // Every other CTA visitor signed in: a user id to contact.
                    let user = (cta_seen % 2 == 0).then(|| format!("acct-{vid}"));
                    push("cta", 3_600_000, user);
                }
                if spread(k, t.act, t.visits) {
                    push("activation", 2 * DAY_MS, None);
                }
            }
        }
    }
    tx.commit().unwrap();
    path
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = support::run(root, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The partners and their expected rule (one line per partner).
fn expected() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = TRAFFIC.iter().map(|(t, r)| (t.code, *r)).collect();
    v.sort();
    v.dedup();
    v
}

/// What the partner's own report says for each rule (it names no rule).
fn partner_words(rule: &str) -> &'static str {
    match rule {
        "promote_winner" => "converted best, so it becomes your page",
        "beacon_stopped" => "stopped recording visits",
        "weak_click_to_visit" => "we will check the redirect",
        "many_clicks_weak_lead_magnet" => "We will rewrite the page's headline",
        "few_visits_strong_activation" => "guest post, a webinar",
        "too_early" => "have not had time to convert",
        "within_bands" => "every stage is within our benchmark",
        "insufficient_data" => "a verdict needs",
        other => panic!("no partner wording listed for {other}"),
    }
}

/// The calendar rule the first task of a partner carries for each funnel rule.
fn calendar_rule(rule: &str) -> &'static str {
    match rule {
        "promote_winner" => "promote-winner",
        "weak_click_to_visit" | "beacon_stopped" => "fix-handoff",
        "many_clicks_weak_lead_magnet" => "fix-weakest-step",
        "few_visits_strong_activation" => "co-marketing",
        "too_early" => "wait-for-cohort",
        "within_bands" => "build-on-strength",
        "insufficient_data" => "collect-traffic",
        other => panic!("no calendar rule listed for {other}"),
    }
}

/// The section of a Markdown report about one partner: from its heading to the next.
fn md_section<'a>(md: &'a str, code: &str) -> &'a str {
    let head = format!("## {code} — ");
    let start = md
        .find(&head)
        .unwrap_or_else(|| panic!("no section {code}"));
    let rest = &md[start + head.len()..];
    &md[start..start + head.len() + rest.find("\n## ").unwrap_or(rest.len())]
}

/// No rate judged `within` whose interval crosses a band edge, in any rates object of `v`.
fn assert_within_is_inside(v: &Value, at: &str) {
    match v {
        Value::Object(m) => {
            if m.get("verdict").and_then(Value::as_str) == Some("within") && m.contains_key("band")
            {
                let (lo, hi) = (m["low"].as_f64().unwrap(), m["high"].as_f64().unwrap());
                let (bl, bh) = (
                    m["band"]["low"].as_f64().unwrap(),
                    m["band"]["high"].as_f64().unwrap(),
                );
                assert!(
                    lo >= bl && hi <= bh,
                    "{at}: `within` for [{lo}, {hi}] against the band [{bl}, {bh}]"
                );
            }
            for (k, x) in m {
                assert_within_is_inside(x, &format!("{at}.{k}"));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_within_is_inside(x, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

#[test]
fn every_output_names_the_same_decision_for_every_partner() {
    let (site, _) = follow_through_site();
    let root = site.path();
    std::fs::write(
        root.join("partners/podcast-host.yaml"),
        extra_partner(
            "podcast-host",
            "Podcast host",
            "Listeners of a weekly show on AI tools",
            "Show notes kit",
        ),
    )
    .unwrap();
    let db = table(root);
    let db_s = db.to_str().unwrap();
    let window = ["--events", db_s, "--last", "28d", "--now", NOW];
    let want = expected();

    // The team report, in its three formats.
    let json: Value = serde_json::from_str(&ok(
        root,
        &[&["report"][..], &window, &["--format", "json"]].concat(),
    ))
    .unwrap();
    assert_within_is_inside(&json, "report");
    let md = ok(root, &[&["report"][..], &window].concat());
    let html = ok(
        root,
        &[&["report"][..], &window, &["--format", "html"]].concat(),
    );

    // The calendar, the annotated staff build and the MCP tool, on the same window.
    let cal: Value = serde_json::from_str(&ok(
        root,
        &[
            "calendar", "--events", db_s, "--now", NOW, "--format", "json",
        ],
    ))
    .unwrap();
    let tasks = cal["tasks"].as_array().unwrap();
    let out = tempfile::tempdir().unwrap();
    ok(
        root,
        &[
            "build",
            "--out",
            out.path().to_str().unwrap(),
            "--events",
            db_s,
            "--now",
            NOW,
            "--preview",
        ],
    );
    let notes: Value = serde_json::from_str(&read(out.path().join("annotations.json"))).unwrap();
    assert_within_is_inside(&notes, "annotations.json");
    let mut mcp = Client::spawn(root, &db);
    mcp.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let tool: Value = serde_json::from_str(tool_text(
        &mcp.call("funnel_report", json!({"last": "28d", "now": NOW})),
    ))
    .unwrap();

    for (code, rule) in &want {
        let decision = &json["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == *code)
            .unwrap_or_else(|| panic!("{code} not in the report"))["action"];
        assert_eq!(decision["rule"], *rule, "{code}: report json: {decision}");
        // A fix only for a stage whose verdict is below.
        let fixes = match *rule {
            "many_clicks_weak_lead_magnet" | "weak_lead_magnet" => Some("lead_magnet"),
            "weak_cta" => Some("cta"),
            "weak_activation" => Some("activation"),
            _ => None,
        };
        if let Some(stage) = fixes {
            let v = decision["stages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["stage"] == stage)
                .unwrap();
            assert_eq!(
                v["verdict"], "below",
                "{code}: a fix of {stage}: {decision}"
            );
        }

        // Markdown: the summary row and the partner's section name the rule.
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {code} |")))
            .unwrap_or_else(|| panic!("{code}: no summary row"));
        assert!(
            row.ends_with(&format!("`{rule}` |")),
            "{code}: md row {row}"
        );
        let section = md_section(&md, code);
        assert!(
            section.contains(decision["action"].as_str().unwrap()),
            "{code}: {section}"
        );
        // HTML: the summary row.
        let hrow = html
            .lines()
            .find(|l| l.contains(&format!(">{code}<")) && l.starts_with("<tr>"))
            .unwrap_or_else(|| panic!("{code}: no html row"));
        assert!(
            hrow.contains(&format!(">{rule}<")),
            "{code}: html row {hrow}"
        );

        // The partner's own report: the wording of that rule (it names no rule).
        let pr: Value = serde_json::from_str(&ok(
            root,
            &[
                &["report"][..],
                &window,
                &["--partner", code, "--for-partner", "--format", "json"],
            ]
            .concat(),
        ))
        .unwrap();
        assert_within_is_inside(&pr, code);
        let we = pr["next"]["we_change"].as_str().unwrap();
        assert!(
            we.contains(partner_words(rule)),
            "{code}: partner report: {we}"
        );
        for s in pr["stages"].as_array().unwrap() {
            if s["status"] == "within our benchmark" {
                assert_eq!(s["rate"]["verdict"], "within", "{code}: {s}");
            }
        }

        // The calendar's first task for the partner carries the decision.
        let first = tasks
            .iter()
            .filter(|t| t["partner"] == *code)
            .min_by_key(|t| t["date"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{code}: no task"));
        assert_eq!(first["figures"]["action"]["rule"], *rule, "{code}: {first}");
        assert_eq!(first["rule"], calendar_rule(rule), "{code}: {first}");

        // The build annotation and its overlay.
        assert_eq!(
            notes["partners"][code]["action"]["rule"], *rule,
            "{code}: annotations"
        );
        let page = read(out.path().join(format!("p/{code}/index.html")));
        assert!(
            page.contains(&format!("(rule <code>{rule}</code>)")),
            "{code}: overlay"
        );

        // The MCP tool.
        let p = tool["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == *code)
            .unwrap();
        assert_eq!(p["action"]["rule"], *rule, "{code}: MCP");
        assert_eq!(
            p["action"], *decision,
            "{code}: the MCP tool returns the report's decision"
        );
    }

    // No "keep as is" next to a winner, in any output about that partner.
    let winner = "ai-tools-directory";
    let section = md_section(&md, winner);
    assert!(!section.contains("Keep the page"), "{section}");
    let pr = ok(
        root,
        &[
            &["report"][..],
            &window,
            &["--partner", winner, "--for-partner"],
        ]
        .concat(),
    );
    assert!(!pr.contains("Nothing changes"), "{pr}");
    for t in tasks.iter().filter(|t| t["partner"] == winner) {
        assert!(
            !t["reason"].as_str().unwrap().contains("keep the page"),
            "{t}"
        );
    }
    // A calendar fix only for a stage below its band.
    for t in tasks
        .iter()
        .filter(|t| t["rule"] == "fix-weakest-step" && t["kind"] == "proposal")
    {
        let stage = t["target_stage"].as_str().unwrap();
        let s = t["figures"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == stage)
            .unwrap();
        assert_eq!(s["verdict"], "below", "{t}");
    }
    // The team report counts the contactable leads.
    let seo = md_section(&md, "seo-consultant");
    assert!(
        seo.contains(", of whom 2 contactable (with a user id)"),
        "{seo}"
    );
}

#[test]
fn the_week_of_120_clicks_and_60_visits_names_the_redirect() {
    let (site, _) = follow_through_site();
    let root = site.path();
    let db = table(root);
    let json: Value = serde_json::from_str(&ok(
        root,
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--last",
            "7d",
            "--now",
            NOW,
            "--format",
            "json",
            "--partner",
            "founder-community",
        ],
    ))
    .unwrap();
    let d = &json["partners"][0]["action"];
    assert_eq!(d["rule"], "weak_click_to_visit", "{d}");
    assert!(
        d["action"].as_str().unwrap().contains("/go redirect"),
        "{d}"
    );
    assert_eq!(d["traffic"]["enough"], false, "{d}");
    assert_eq!(d["handoff"]["broken"], true, "{d}");
    assert_eq!(json["partners"][0]["figures"]["counts"]["clicks"], 120);
    assert_eq!(json["partners"][0]["figures"]["counts"]["visitors"], 60);
}

#[test]
fn contactable_leads_are_the_ones_with_a_user_id() {
    let (site, _) = follow_through_site();
    let root = site.path();
    let db = table(root);
    let db_s = db.to_str().unwrap();
    let base = [
        "leads", "--events", db_s, "--last", "28d", "--now", NOW, "--stage", "cta",
    ];
    let all: Value = serde_json::from_str(&ok(root, &base)).unwrap();
    let only: Value =
        serde_json::from_str(&ok(root, &[&base[..], &["--contactable"]].concat())).unwrap();
    let all = all["leads"].as_array().unwrap();
    let only = only["leads"].as_array().unwrap();
    assert!(!only.is_empty() && only.len() < all.len());
    assert!(only.iter().all(|l| l["user_id"].is_string()));
    assert_eq!(
        only.len(),
        all.iter().filter(|l| l["user_id"].is_string()).count()
    );
    for l in all {
        let rule = l["next_step"]["rule"].as_str().unwrap();
        if l["user_id"].is_null() {
            assert!(
                !["follow_up_cta", "hand_to_sales", "nurture_email"].contains(&rule),
                "a follow-up with no one to contact: {l}"
            );
        }
    }
}
