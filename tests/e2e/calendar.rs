//! `calendar` end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! `calendar` and `build --events/--preview` end to end: the example site, an event table
//! generated for it (the seed's two example partners plus other traffic), and the real parsers
//! (Python `icalendar` and `jsonschema`, the Nu HTML checker).

use crate::support;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::calendar::*;

fn python(script: &str, args: &[&Path]) -> std::process::Output {
    let py = crate::tools::require_tool("python3", "Python 3 with icalendar and jsonschema");
    Command::new(py)
        .arg(support::repo_root().join(script))
        .args(args)
        .output()
        .expect("run python")
}

#[test]
fn seed_partner_a_gets_a_headline_and_proof_block_update() {
    let (site, db) = seed_site();
    let root = site.path();
    let all = tasks(&calendar(root, &db, "json"));
    let p = task(&all, "seo-consultant", "proposal");
    assert_eq!(p["rule"], "fix-weakest-step");
    assert_eq!(p["target_stage"], "lead_magnet");
    assert_eq!(
        p["figures"]["action"]["rule"],
        "many_clicks_weak_lead_magnet"
    );
    assert_eq!(p["figures"]["visitors"], 290);
    assert_eq!(p["figures"]["clicks"], 300);
    let file = p["file"].as_str().unwrap();
    assert_eq!(file, "proposals/2026-11-30-seo-consultant.yaml.patch");
    let patch = read(root, file);
    assert!(
        patch.contains("\n-  headline: Ship AI content your clients can trust\n"),
        "{patch}"
    );
    assert!(patch.contains("\n+  headline: "), "{patch}");
    assert!(
        patch.contains("\n-  proof: 40-point checklist used on 1,200 client audits\n"),
        "{patch}"
    );
    assert!(patch.contains("\n+  proof: "), "{patch}");
    assert!(
        patch.contains("many_clicks_weak_lead_magnet"),
        "the patch names the rule: {patch}"
    );
    assert!(
        patch.contains("2 of 290") || patch.contains("0.7%"),
        "the patch states the figures: {patch}"
    );

    // The patch is a real, reviewable change: git applies it, and the result still loads.
    let git = crate::tools::require_tool("git", "git, to apply the proposal");
    let check = Command::new(&git)
        .current_dir(root)
        .args(["apply", "--check", file])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "git apply --check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let apply = Command::new(&git)
        .current_dir(root)
        .args(["apply", file])
        .output()
        .unwrap();
    assert!(apply.status.success());
    let loaded =
        partner_pages::load(root, &Default::default()).expect("site loads after the patch");
    let seo = loaded.partner("seo-consultant").unwrap();
    assert_ne!(
        seo.landing.headline,
        "Ship AI content your clients can trust"
    );
    assert!(
        seo.landing.headline.contains("Content QA checklist"),
        "{}",
        seo.landing.headline
    );

    // Partner A's brief targets the lead-magnet step; the build never publishes it.
    let brief = task(&all, "seo-consultant", "brief");
    assert_eq!(brief["target_stage"], "lead_magnet");
}

#[test]
fn ics_parses_with_one_event_per_task_on_the_right_dates() {
    let (site, db) = seed_site();
    let root = site.path();
    let ics = calendar(root, &db, "ics");
    let json = calendar(root, &db, "json");
    let dir = tempfile::tempdir().unwrap();
    let (ics_path, json_path) = (dir.path().join("c.ics"), dir.path().join("c.json"));
    std::fs::write(&ics_path, &ics).unwrap();
    std::fs::write(&json_path, &json).unwrap();
    let out = python("tests/py/check_ics.py", &[&ics_path, &json_path]);
    assert!(
        out.status.success(),
        "check_ics.py:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok: 10 events");
}

#[test]
fn json_validates_against_the_committed_schema() {
    let (site, db) = seed_site();
    let json = calendar(site.path(), &db, "json");
    crate::tools::assert_valid_json("calendar.schema.json", &json);
}

#[test]
fn preview_build_has_an_overlay_and_annotations_and_passes_the_html_checker() {
    let (site, db) = seed_site();
    let root = site.path();
    let dir = tempfile::tempdir().unwrap();
    build(
        root,
        dir.path(),
        &["--events", db.to_str().unwrap(), "--now", NOW, "--preview"],
    );
    let ann: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("annotations.json")).expect("annotations.json"),
    )
    .unwrap();
    assert_eq!(
        ann["partners"]["seo-consultant"]["figures"]["counts"]["visitors"],
        290
    );
    assert_eq!(
        ann["partners"]["nocode-agency"]["action"]["rule"],
        "few_visits_strong_activation"
    );
    let pages: Vec<PathBuf> = [
        "seo-consultant",
        "nocode-agency",
        "founder-community",
        "ai-tools-directory",
    ]
    .iter()
    .map(|c| dir.path().join(format!("p/{c}/index.html")))
    .collect();
    let seo = std::fs::read_to_string(&pages[0]).unwrap();
    assert!(seo.contains("class=\"pp-preview\""), "{seo}");
    assert!(seo.contains("many_clicks_weak_lead_magnet"));
    assert!(
        seo.contains("20%–35%") || seo.contains("20.0%–35.0%"),
        "the band is shown: {seo}"
    );

    crate::tools::assert_nu_clean(&pages);
}

/// Run git in `dir`; panics with its stderr when it fails.
fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let git = crate::tools::require_tool("git", "git, to apply the proposals");
    Command::new(git)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run git")
}

#[test]
fn four_weeks_of_proposals_apply_in_order_with_git_and_the_json_is_valid() {
    for (name, (site, db)) in [
        ("follow-through fixture", follow_through_site()),
        ("example site", seed_site()),
    ] {
        let root = site.path();
        let out = support::run(
            root,
            &[
                "calendar",
                "--events",
                db.to_str().unwrap(),
                "--now",
                NOW,
                "--start",
                START,
                "--weeks",
                "4",
                "--format",
                "json",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8(out.stdout).unwrap();
        crate::tools::assert_valid_json("calendar.schema.json", &json);
        let all = tasks(&json);
        // A git repository holding the site as it is before any proposal.
        for args in [
            &["init", "-q"][..],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "add",
                "-A",
            ],
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "commit",
                "-qm",
                "site",
            ],
        ] {
            let o = git(root, args);
            assert!(
                o.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let mut proposals: Vec<&serde_json::Value> =
            all.iter().filter(|t| t["kind"] == "proposal").collect();
        proposals.sort_by_key(|t| {
            (
                t["date"].as_str().unwrap().to_string(),
                t["partner"].to_string(),
            )
        });
        let mut stacked = 0;
        for p in &proposals {
            let file = p["file"].as_str().unwrap();
            let o = git(root, &["apply", file]);
            assert!(
                o.status.success(),
                "{name}: git apply {file} after the earlier proposals: {}\n{}",
                String::from_utf8_lossy(&o.stderr),
                read(root, file)
            );
            if proposals
                .iter()
                .any(|q| q["partner"] == p["partner"] && q["date"].as_str() < p["date"].as_str())
            {
                stacked += 1;
            }
        }
        let loaded = partner_pages::load(root, &Default::default());
        assert!(
            loaded.is_ok(),
            "{name}: the site after every proposal: {:?}",
            loaded.err()
        );
        let check = support::run(root, &["check"]);
        assert!(
            check.status.success(),
            "{name}: check after every proposal: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        println!(
            "{name}: {} proposals applied in order with git, {stacked} on top of an earlier one",
            proposals.len()
        );
        assert!(stacked >= 2, "{name}: nothing stacked");
        if name == "follow-through fixture" {
            let ai = loaded.unwrap();
            let p = ai.partner("ai-tools-directory").unwrap();
            assert!(p.variants.is_empty());
            assert_eq!(p.promise, "Agent-ready in ten minutes");
        }
    }
}

/// The staff overlay, the team report and the partner's report in Chromium at 375 px and 1280
/// px: no table header is broken mid-word.
#[test]
fn no_table_header_breaks_mid_word_at_phone_or_desktop_width() {
    let node = crate::tools::require_tool("node", "Node.js 20");
    let (site, db) = seed_site();
    let root = site.path();
    let dir = tempfile::tempdir().unwrap();
    build(
        root,
        dir.path(),
        &["--events", db.to_str().unwrap(), "--now", NOW, "--preview"],
    );
    let db_s = db.to_str().unwrap();
    let team = dir.path().join("team.html");
    let partner = dir.path().join("partner.html");
    for (out, extra) in [
        (&team, &[][..]),
        (
            &partner,
            &["--partner", "seo-consultant", "--for-partner"][..],
        ),
    ] {
        let mut args = vec![
            "report", "--events", db_s, "--last", "28d", "--now", NOW, "--format", "html", "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let o = crate::support::run(root, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut files = vec![team, partner];
    for code in ["seo-consultant", "nocode-agency"] {
        files.push(dir.path().join(format!("p/{code}/index.html")));
    }
    let out = std::process::Command::new(&node)
        .arg(crate::support::repo_root().join("tests/browser/headers.mjs"))
        .args(&files)
        .current_dir(crate::support::repo_root())
        .output()
        .expect("run node tests/browser/headers.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a header broken mid-word:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 2 * files.len(), "{stdout}");
}
