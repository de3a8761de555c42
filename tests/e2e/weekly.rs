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
        "peter-evans/create-pull-request@22a9089034f40e5a961c8808d113e2c98fb63676 # v7.0.11",
        "persist-credentials: false",
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
            text.replace(
                "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0",
                "      - name: nothing",
            ),
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

/// The script of the workflow step named `name` (the lines of its `run: |` block, unindented).
pub(crate) fn step_script(workflow: &str, name: &str) -> String {
    let start = workflow
        .find(&format!("- name: {name}\n"))
        .unwrap_or_else(|| panic!("no step `{name}`"));
    let rest = &workflow[start..];
    let run = rest.find("run: |\n").expect("a run block") + "run: |\n".len();
    let mut script = String::new();
    for line in rest[run..].lines() {
        if !line.is_empty() && !line.starts_with("          ") {
            break;
        }
        script.push_str(line.strip_prefix("          ").unwrap_or(line));
        script.push('\n');
    }
    script
}

#[test]
fn the_workflows_report_step_runs_and_writes_every_file() {
    require_tool(
        "jq",
        "jq (apt-get install jq), as on GitHub's ubuntu runners",
    );
    let dir = tempfile::tempdir().unwrap();
    let site = support::copy_site(&example_site());
    let out = Command::new(support::bin())
        .arg("init")
        .arg(dir.path().join("fresh"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let workflow = support::read(dir.path().join("fresh").join(WORKFLOW));
    let script = step_script(&workflow, "Write the report and the calendar");
    assert!(script.contains("--events \"d1:$D1_DATABASE\""), "{script}");

    // The events of the last days, where the D1 pull leaves them: the step's first command
    // reads that cache instead of pulling (there is no remote D1 here), the rest is as written.
    let cache = site
        .path()
        .join(".partner-pages/cache/d1-partner-events.sqlite");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&cache).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut n = 0;
    for (code, visitors) in [("seo-consultant", 120), ("nocode-agency", 30)] {
        for i in 0..visitors {
            n += 1;
            let at = partner_pages::events::Ts(now_ms - 3 * 86_400_000 + i * 60_000).to_string();
            for (event, keep) in [("visit", true), ("lead_magnet", i % 4 == 0)] {
                if keep {
                    conn.execute(
                        "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES (?1, ?2, 'default', ?3, '/', ?4, ?5)",
                        rusqlite::params![format!("{n}-{event}"), code, event, format!("v{n}"), at],
                    )
                    .unwrap();
                }
            }
        }
    }
    drop(conn);
    let script = script.replace(
        "--events \"d1:$D1_DATABASE\"",
        "--events \".partner-pages/cache/d1-$D1_DATABASE.sqlite\"",
    );
    // The site is a git checkout, as on the runner (the pack step asks git what changed).
    let git = |cwd: &Path, args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ignore = site.path().join(".gitignore");
    let mut ignored = std::fs::read_to_string(&ignore).unwrap_or_default();
    ignored.push_str("/.partner-pages\n");
    std::fs::write(&ignore, ignored).unwrap();
    git(site.path(), &["init", "-q"]);
    git(site.path(), &["add", "-A"]);
    git(site.path(), &["commit", "-qm", "site"]);
    let github_output = dir.path().join("github-output");
    let bin_dir = support::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", &script])
        .current_dir(site.path())
        .env("PATH", path)
        .env("D1_DATABASE", "partner-events")
        .env("GITHUB_OUTPUT", &github_output)
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the step failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let day = support::read(&github_output)
        .trim()
        .strip_prefix("day=")
        .expect("day in GITHUB_OUTPUT")
        .to_string();
    let reports = site.path().join("reports");
    let report = support::read(reports.join(format!("{day}.md")));
    assert!(report.contains("# Partner funnel report"), "{report}");
    assert!(report.contains("| seo-consultant | 0 | 120 |"), "{report}");
    let calendar = support::read(reports.join(format!("{day}-calendar.md")));
    assert!(!calendar.trim().is_empty());
    let mut partners = 0;
    for code in [
        "seo-consultant",
        "nocode-agency",
        "founder-community",
        "ai-tools-directory",
    ] {
        let own = support::read(reports.join(format!("{day}-for-partners/{code}.md")));
        assert!(own.contains("your referral report"), "{code}: {own}");
        for other in ["seo-consultant", "nocode-agency"] {
            if other != code {
                assert!(!own.contains(other), "{code}'s report names {other}");
            }
        }
        partners += 1;
    }
    assert!(
        support::read(reports.join(format!("{day}-for-partners/seo-consultant.md")))
            .contains("120 reached your page")
    );
    // The read-only job hands its files to the job that opens the pull request in an
    // artifact: packed here, unpacked in a fresh checkout, every file arrives.
    let runner_temp = dir.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let run_step = |name: &str, cwd: &Path| run_step(&workflow, name, cwd, &runner_temp);
    run_step("Pack what the report wrote", site.path());
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            site.path().to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    // download-artifact puts the file in its `path:`.
    let artifact = runner_temp.join("partner-report");
    std::fs::create_dir_all(&artifact).unwrap();
    std::fs::rename(
        runner_temp.join("partner-report.tar"),
        artifact.join("partner-report.tar"),
    )
    .unwrap();
    run_step("Unpack the report", &clone);
    let mut carried = 0;
    for entry in walkdir::WalkDir::new(&reports) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(site.path()).unwrap();
            assert_eq!(
                std::fs::read(clone.join(rel)).ok(),
                Some(std::fs::read(entry.path()).unwrap()),
                "{} in the pull request's checkout",
                rel.display()
            );
            carried += 1;
        }
    }
    assert!(
        !clone.join(".partner-pages").exists(),
        "the D1 cache stays out of the pull request"
    );
    println!("workflow step: report, calendar and {partners} partner reports written for {day}; {carried} files carried to the pull request's job");
}

#[test]
fn init_workflow_in_a_repository_subfolder_passes_the_schema_and_carries_the_subfolders_files() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let git = |cwd: &Path, args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // The partner files in `marketing/` of a repository made with git.
    let site = repo.join("marketing");
    std::fs::create_dir_all(&repo).unwrap();
    let out = Command::new(support::bin())
        .arg("init")
        .arg(&site)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::remove_dir_all(site.join(".github")).unwrap();
    git(&repo, &["init", "-q"]);
    let out = Command::new(support::bin())
        .args(["init", "--workflow"])
        .current_dir(&site)
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = repo.join(WORKFLOW);
    let text = support::read(&file);
    assert!(!site.join(".github").exists());
    assert!(
        text.contains("    working-directory: \"marketing\"\n"),
        "{text}"
    );
    let (ok, said) = validate(&file);
    assert!(ok, "the generated workflow fails the schema:\n{said}");
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        text.replace(
            "    working-directory: \"marketing\"\n",
            "    working-dir: x\n",
        ),
    )
    .unwrap();
    assert!(!validate(&broken).0, "a misspelt key must fail");

    // The pack step runs in the subfolder and the unpack step in the subfolder of a fresh
    // checkout: what the report wrote arrives where it was written.
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "site"]);
    std::fs::create_dir_all(site.join("reports")).unwrap();
    std::fs::write(site.join("reports/2026-12-07.md"), "# Report\n").unwrap();
    let runner_temp = dir.path().join("runner-temp");
    std::fs::create_dir_all(runner_temp.join("partner-report")).unwrap();
    let run_step = |name: &str, cwd: &Path| run_step(&text, name, cwd, &runner_temp);
    run_step("Pack what the report wrote", &site);
    std::fs::rename(
        runner_temp.join("partner-report.tar"),
        runner_temp.join("partner-report/partner-report.tar"),
    )
    .unwrap();
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            repo.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    run_step("Unpack the report", &clone.join("marketing"));
    assert_eq!(
        support::read(clone.join("marketing/reports/2026-12-07.md")),
        "# Report\n"
    );
    assert!(!clone.join("reports").exists());
}

/// Runs the workflow step `name` as the runner would (bash -eo pipefail, `RUNNER_TEMP` set) in
/// `cwd`, and fails the test with the script and its stderr when it fails.
fn run_step(workflow: &str, name: &str, cwd: &Path, runner_temp: &Path) {
    let script = step_script(workflow, name);
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", &script])
        .current_dir(cwd)
        .env("RUNNER_TEMP", runner_temp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "step {name} failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
