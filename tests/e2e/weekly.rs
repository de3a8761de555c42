//! The weekly loop end to end with external programs: the workflow `init` writes passes the
//! GitHub workflow schema (`@action-validator/cli`, pinned in package.json), a broken copy does
//! not, and the report for a partner is valid HTML (the W3C Nu checker) and valid against its
//! JSON Schema.

use crate::support::{self, example_site};
use crate::tools::{assert_nu_clean, require_tool};
use std::path::Path;
use std::process::Command;

const WORKFLOW: &str = ".github/workflows/partner-report.yml";

/// Run the validator on `file`: (passed, what it printed).
fn validate(file: &Path) -> (bool, String) {
    let validator = require_tool(
        "action-validator",
        "npm package @action-validator/cli (package.json)",
    );
    let out = Command::new(validator).arg(file).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_workflow_init_writes_passes_the_workflow_schema_and_a_broken_copy_fails() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("my-site");
    let out = Command::new(support::bin())
        .arg("init")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = site.join(WORKFLOW);
    let text = support::read(&file);
    let (ok, said) = validate(&file);
    assert!(ok, "the generated workflow fails the schema:\n{said}");

    // What the job does, as the docs say.
    for part in [
        "cron: \"0 6 * * 1\"",
        "workflow_dispatch:",
        "--events \"d1:$D1_DATABASE\"",
        "D1_DATABASE: partner-events",
        "secrets.CLOUDFLARE_API_TOKEN",
        "secrets.CLOUDFLARE_ACCOUNT_ID",
        "reports/$day.md",
        "partner-pages --quiet calendar",
        "peter-evans/create-pull-request@v7",
    ] {
        assert!(text.contains(part), "the workflow lacks `{part}`");
    }

    // Negative controls: each broken copy must fail, so the check above can fail.
    let broken = [
        (
            "no runs-on",
            text.replace("    runs-on: ubuntu-latest\n", ""),
        ),
        (
            "a permission that does not exist",
            text.replace("  pull-requests: write", "  pull-requests: admin"),
        ),
        (
            "a step with neither uses nor run",
            text.replace("      - uses: actions/checkout@v4", "      - name: nothing"),
        ),
    ];
    let mut failed = 0;
    for (what, copy) in &broken {
        assert_ne!(copy, &text, "{what}: the edit did not apply");
        let path = dir.path().join("broken.yml");
        std::fs::write(&path, copy).unwrap();
        let (ok, said) = validate(&path);
        assert!(
            !ok,
            "{what}: the validator accepted a broken workflow:\n{said}"
        );
        failed += 1;
    }
    println!(
        "workflow: the generated file passes; {failed} of {} broken copies fail",
        broken.len()
    );
}

#[test]
fn the_report_for_a_partner_is_valid_html_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::report::sqlite_file(dir.path());
    let mut files = Vec::new();
    for code in ["seo-consultant", "founder-community", "ai-tools-directory"] {
        let out_file = dir.path().join(format!("{code}.html"));
        support::run_ok(
            &example_site(),
            &[
                "report",
                "--events",
                db.to_str().unwrap(),
                "--since",
                support::report::SINCE,
                "--until",
                support::report::UNTIL,
                "--now",
                support::report::NOW,
                "--partner",
                code,
                "--for-partner",
                "--format",
                "html",
                "--out",
                out_file.to_str().unwrap(),
            ],
        );
        files.push(out_file);
        let json = support::run_ok(
            &example_site(),
            &[
                "report",
                "--events",
                db.to_str().unwrap(),
                "--since",
                support::report::SINCE,
                "--until",
                support::report::UNTIL,
                "--now",
                support::report::NOW,
                "--partner",
                code,
                "--for-partner",
                "--format",
                "json",
            ],
        );
        crate::tools::assert_valid_json(
            "partner-report.schema.json",
            &String::from_utf8(json.stdout).unwrap(),
        );
    }
    assert_nu_clean(&files);
}
