//! `report --partner X --for-partner`: the report a partner can receive holds that partner's
//! own figures and nothing of anyone else's, in every format.

use crate::support::{self, example_site};
use std::path::{Path, PathBuf};

const SINCE: &str = "2026-11-16";
const UNTIL: &str = "2026-11-23";
/// Past every stage's horizon, with a row that late in the table: the cohort is mature.
const NOW: &str = "2026-12-08T00:00:00Z";
const ME: &str = "seo-consultant";

/// (partner, campaign, clicks without a visit, visitors, lead magnet, cta, activation). The
/// figures of the other partners are chosen so that none of them can be one of the
/// seo-consultant's (distinct three-digit counts, and rates shown with their intervals).
const TRAFFIC: &[(&str, &str, usize, usize, usize, usize, usize)] = &[
    (ME, "default", 9, 130, 20, 6, 1),
    (ME, "webinar-dec", 0, 110, 45, 14, 5),
    ("nocode-agency", "default", 28, 319, 3, 1, 0),
    ("founder-community", "default", 2, 143, 61, 37, 29),
    ("ai-tools-directory", "spring-list", 0, 211, 47, 9, 2),
    // Codes not in partners/.
    ("rival-affiliate", "default", 0, 7, 1, 0, 0),
    ("ghost-partner", "promo-x", 0, 3, 0, 0, 0),
];

fn table(dir: &Path) -> PathBuf {
    let path = dir.join("events.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    let mut ins = conn
        .prepare("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .unwrap();
    let mut n = 0usize;
    for &(code, campaign, clicks_only, visitors, lm, cta, act) in TRAFFIC {
        for i in 0..clicks_only + visitors {
            n += 1;
            let vid = format!("{n:08x}-0000-4000-8000-{:012x}", n * 7919);
            let day = 16 + i % 7;
            let mut push = |event: &str, minute: usize| {
                ins.execute(rusqlite::params![
                    format!("{vid}-{event}-{minute}"),
                    code,
                    campaign,
                    event,
                    format!("/p/{code}/"),
                    vid,
                    format!("2026-11-{day}T09:{minute:02}:{:02}.000Z", i % 60)
                ])
                .unwrap();
            };
            push("click", 0);
            if i < clicks_only {
                continue;
            }
            let k = i - clicks_only;
            push("visit", 1);
            for (reached, event, minute) in [
                (lm, "lead_magnet", 3),
                (cta, "cta", 4),
                (act, "activation", 5),
            ] {
                if k < reached {
                    push(event, minute);
                }
            }
        }
    }
    // A row after every horizon: the table was read late enough for a mature cohort.
    ins.execute(rusqlite::params![
        "late",
        "nocode-agency",
        "default",
        "visit",
        "/",
        "v-late",
        "2026-12-07T12:00:00.000Z"
    ])
    .unwrap();
    path
}

fn report(site: &Path, db: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "report",
        "--events",
        db.to_str().unwrap(),
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    support::run(site, &args)
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `text` holds the number `n` on its own (not as part of a longer number or decimal).
fn has_number(text: &str, n: u64) -> bool {
    let needle = n.to_string();
    let b = text.as_bytes();
    text.match_indices(&needle).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + needle.len()).copied();
        let part = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit() || c == b'.');
        !part(before) && !part(after)
    })
}

/// The rates a full report prints for a figures object of its JSON: `12.3% [8.1–17.9%]`, for
/// each banded stage and step.
fn printed_rates(figures: &serde_json::Value) -> Vec<String> {
    use partner_pages::funnel::stats::Proportion;
    let mut v = Vec::new();
    for s in ["lead_magnet", "cta", "activation"] {
        let r = &figures["rates"][s];
        let p = Proportion::new(r["count"].as_u64().unwrap(), r["of"].as_u64().unwrap());
        if p.of > 0 {
            v.push(p.display());
        }
    }
    for s in [
        "click_to_visit",
        "visit_to_lead_magnet",
        "lead_magnet_to_cta",
    ] {
        let r = &figures["steps"][s];
        let p = Proportion::new(r["count"].as_u64().unwrap(), r["of"].as_u64().unwrap());
        if p.of > 0 {
            v.push(p.display());
        }
    }
    v
}

#[test]
fn the_partner_report_holds_only_that_partners_figures_in_every_format() {
    let site = support::copy_site(&example_site());
    let db = table(site.path());
    // The team's report of the same data: what must not reach the partner.
    let full: serde_json::Value =
        serde_json::from_str(&ok(report(site.path(), &db, &["--format", "json"]))).unwrap();
    let partners = full["partners"].as_array().unwrap();
    assert_eq!(partners.len(), 4);
    let me = partners.iter().find(|p| p["code"] == ME).unwrap();
    assert_eq!(me["figures"]["counts"]["visitors"], 240);
    assert_eq!(me["figures"]["counts"]["clicks"], 249);

    let mut forbidden_text: Vec<String> = Vec::new();
    let mut forbidden_numbers: Vec<u64> = Vec::new();
    for p in partners.iter().filter(|p| p["code"] != ME) {
        forbidden_text.push(p["code"].as_str().unwrap().to_string());
        forbidden_text.push(p["name"].as_str().unwrap().to_string());
        forbidden_text.extend(printed_rates(&p["figures"]));
        let c = &p["figures"]["counts"];
        forbidden_numbers.push(c["visitors"].as_u64().unwrap());
        forbidden_numbers.push(c["clicks"].as_u64().unwrap());
        for camp in p["campaigns"].as_array().unwrap() {
            forbidden_text.extend(printed_rates(&camp["figures"]));
        }
    }
    // The pooled average, the rows of unknown codes, commission terms, internal rule names.
    forbidden_text.extend(printed_rates(&full["average"]));
    forbidden_numbers.push(full["average"]["counts"]["visitors"].as_u64().unwrap());
    forbidden_numbers.push(full["average"]["counts"]["clicks"].as_u64().unwrap());
    for unknown in full["excluded"]["unknown_partner_rows"]
        .as_object()
        .unwrap()
        .keys()
    {
        forbidden_text.push(unknown.clone());
    }
    assert!(forbidden_text.contains(&"rival-affiliate".to_string()));
    assert!(forbidden_text.contains(&"ghost-partner".to_string()));
    forbidden_text.push("promo-x".into()); // a campaign of an unknown code
    forbidden_text.push("spring-list".into()); // another partner's campaign
    for yaml in std::fs::read_dir(site.path().join("partners")).unwrap() {
        let text = std::fs::read_to_string(yaml.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some(terms) = line.strip_prefix("commission:") {
                forbidden_text.push(terms.trim().to_string());
            }
        }
    }
    forbidden_text.extend(["commission", "average", "pooled", "unknown"].map(String::from));
    for rule in partner_pages::funnel::RULES {
        forbidden_text.push(rule.name.to_string());
    }
    // The others' figures must not be this partner's by chance.
    let my_numbers = [240u64, 249, 65, 20, 6];
    for n in &forbidden_numbers {
        assert!(!my_numbers.contains(n), "{n} is also the partner's own");
    }
    let mine = printed_rates(&me["figures"]);
    assert_eq!(mine.len(), 6);

    let mut checked = 0;
    for format in ["md", "html", "json"] {
        let text = ok(report(
            site.path(),
            &db,
            &["--partner", ME, "--for-partner", "--format", format],
        ));
        for f in &forbidden_text {
            assert!(
                !text.to_lowercase().contains(&f.to_lowercase()),
                "{format}: the partner report shows `{f}`:\n{text}"
            );
            checked += 1;
        }
        for n in &forbidden_numbers {
            assert!(
                !has_number(&text, *n),
                "{format}: the partner report shows the figure {n}:\n{text}"
            );
            checked += 1;
        }
        // Its own figures are there: name, counts, stage rates with intervals, campaigns.
        let shown = |s: &str| {
            assert!(
                text.contains(s),
                "{format}: `{s}` is missing from the partner report:\n{text}"
            )
        };
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["partner"], ME);
            assert_eq!(v["visitors"], 240);
            assert_eq!(v["clicks"], 249);
            assert_eq!(v["stages"][0]["reached"], 65);
            assert_eq!(v["stages"][1]["reached"], 20);
            assert_eq!(v["stages"][2]["reached"], 6);
            assert_eq!(v["campaigns"].as_array().unwrap().len(), 2);
            assert!(v["next"]["we_change"].as_str().unwrap().len() > 20);
        } else {
            shown("SEO consultant network");
            for n in my_numbers {
                assert!(has_number(&text, n), "{format}: {n} missing:\n{text}");
            }
            for r in &mine[..3] {
                shown(r);
            }
            shown("webinar-dec");
            shown("Content QA checklist");
            shown("What changes next");
        }
    }
    println!("partner report: {checked} forbidden strings and figures checked over md, html, json");
}

#[test]
fn for_partner_needs_a_known_partner() {
    let site = support::copy_site(&example_site());
    let db = table(site.path());
    let out = report(site.path(), &db, &["--for-partner"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--for-partner needs a partner"), "{err}");
    assert!(err.contains("nocode-agency, seo-consultant"), "{err}");
    assert!(out.stdout.is_empty());

    let out = report(
        site.path(),
        &db,
        &["--for-partner", "--partner", "seo-consultnat"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("did you mean `seo-consultant`"), "{err}");

    // Nothing half-written with --out.
    let target = site.path().join("kits-report.html");
    let out = report(
        site.path(),
        &db,
        &["--for-partner", "--out", target.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!target.exists());
}

#[test]
fn a_young_cohort_says_when_it_will_be_ready_never_a_verdict() {
    let site = support::copy_site(&example_site());
    let db = table(site.path());
    // Read the day after the range: the activation horizon has not passed for anyone.
    let out = support::run(
        site.path(),
        &[
            "report",
            "--events",
            db.to_str().unwrap(),
            "--since",
            SINCE,
            "--until",
            UNTIL,
            "--now",
            "2026-11-24T00:00:00Z",
            "--partner",
            ME,
            "--for-partner",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    let activation = &v["stages"][2];
    assert_eq!(activation["stage"], "activation");
    assert_eq!(activation["rate"]["verdict"], "too_early", "{activation}");
    let status = activation["status"].as_str().unwrap();
    assert!(status.starts_with("too early to judge"), "{status}");
    assert!(status.contains("ready on 2026-12-"), "{status}");
    for word in ["below", "within", "above"] {
        assert!(!status.contains(word), "{status}");
    }
}

#[test]
fn a_partner_running_a_test_sees_which_promise_converted() {
    let site = crate::support::experiments::site_with_variants();
    let path = site.path().join("events.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    // The collector's third migration: the variant a visitor saw.
    conn.execute_batch("ALTER TABLE partner_events ADD COLUMN variant TEXT")
        .unwrap();
    let mut ins = conn
        .prepare("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant) VALUES (?1, ?2, 'default', ?3, '/', ?4, ?5, ?6)")
        .unwrap();
    // 160 visitors per version over the week; "speed" gets 4 times the lead magnets.
    for (variant, lm) in [("control", 16usize), ("speed", 64)] {
        for i in 0..160usize {
            let vid = format!("{variant}-{i}");
            let at = |m: usize| format!("2026-11-{}T10:{m:02}:00.000Z", 16 + i % 7);
            ins.execute(rusqlite::params![
                format!("{vid}-v"),
                ME,
                "visit",
                vid,
                at(1),
                variant
            ])
            .unwrap();
            if i < lm {
                ins.execute(rusqlite::params![
                    format!("{vid}-l"),
                    ME,
                    "lead_magnet",
                    vid,
                    at(2),
                    variant
                ])
                .unwrap();
            }
        }
    }
    // 19 visitors another partner sent first (its click, then this page within the window,
    // shown `speed`): first touch makes them the other partner's, in every table.
    for i in 0..19usize {
        let vid = format!("other-{i}");
        let at = |m: usize| format!("2026-11-{}T11:{m:02}:00.000Z", 16 + i % 7);
        let row = |id: &str, code: &str, event: &str, m: usize, variant: Option<&str>| {
            conn.execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, variant) VALUES (?1, ?2, 'default', ?3, '/', ?4, ?5, ?6)",
                rusqlite::params![format!("{vid}-{id}"), code, event, vid, at(m), variant],
            )
            .unwrap();
        };
        row("c", "nocode-agency", "click", 0, None);
        row("v0", "nocode-agency", "visit", 1, None);
        row("v", ME, "visit", 2, Some("speed"));
        row("l", ME, "lead_magnet", 3, Some("speed"));
    }
    let out = report(
        site.path(),
        &path,
        &["--partner", ME, "--for-partner", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    let versions = v["promise"]["versions"].as_array().unwrap();
    // Every table counts only the visitors this partner sent.
    assert_eq!(v["visitors"], 320, "{v}");
    let sum: u64 = versions
        .iter()
        .map(|x| x["visitors"].as_u64().unwrap())
        .sum();
    assert_eq!(
        sum, 320,
        "the version table sums to the partner's own visitors: {v}"
    );
    let camp: u64 = v["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["visitors"].as_u64().unwrap())
        .sum();
    assert_eq!(camp, 320, "{v}");
    assert_eq!(versions.len(), 2, "{v}");
    assert_eq!(versions[0]["id"], "control");
    assert_eq!(versions[0]["promise"], "Content QA checklist");
    assert_eq!(versions[1]["promise"], "Audit in ten minutes");
    assert_eq!(versions[1]["headline"], "Audit AI content in ten minutes");
    for (i, lm) in [(0, 16), (1, 64)] {
        assert_eq!(versions[i]["visitors"], 160);
        assert_eq!(versions[i]["lead_magnet"], lm);
    }
    let summary = v["promise"]["summary"].as_str().unwrap();
    assert!(
        summary.contains(
            "on lead magnet, version \"speed\" (\"Audit in ten minutes\") converted best"
        ),
        "{summary}"
    );
    let md = ok(report(
        site.path(),
        &path,
        &["--partner", ME, "--for-partner"],
    ));
    assert!(
        md.contains("| speed | Audit in ten minutes | 160 | 64 |"),
        "{md}"
    );
}
