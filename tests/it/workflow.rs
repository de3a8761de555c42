//! The weekly workflow `init` writes, read as YAML: least-privilege permissions per job, no
//! token left in a checkout, actions pinned by commit, tools pinned by version. (The workflow
//! schema check with `action-validator` is in the e2e tier: `tests/e2e/weekly.rs`.)

use crate::support;
use serde_json::Value;

const WORKFLOW: &str = ".github/workflows/partner-report.yml";

/// What is wrong with a workflow's security settings; empty when nothing.
fn problems(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let doc: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    if doc["permissions"] != serde_json::json!({}) {
        out.push(format!(
            "top-level permissions must be {{}}, got {}",
            doc["permissions"]
        ));
    }
    let Some(jobs) = doc["jobs"].as_object() else {
        return vec!["no jobs".into()];
    };
    // The only write grants: in the job that opens the pull request.
    let pr_write = serde_json::json!({"contents": "write", "pull-requests": "write"});
    let read_only = serde_json::json!({"contents": "read"});
    for (name, job) in jobs {
        let steps = job["steps"].as_array().cloned().unwrap_or_default();
        let uses = |s: &Value| s["uses"].as_str().unwrap_or("").to_string();
        let opens_pr = steps
            .iter()
            .any(|s| uses(s).starts_with("peter-evans/create-pull-request@"));
        let runs: String = steps
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let installs = runs.contains("cargo install") || runs.contains("npm install");
        let reads_secrets = steps
            .iter()
            .any(|s| s["env"].to_string().contains("secrets."));
        let want = if opens_pr { &pr_write } else { &read_only };
        if &job["permissions"] != want {
            out.push(format!(
                "job {name}: permissions {} (want {want})",
                job["permissions"]
            ));
        }
        if opens_pr && (installs || reads_secrets) {
            out.push(format!(
                "job {name} may write and also installs tools or reads secrets"
            ));
        }
        for step in &steps {
            let u = uses(step);
            if u.is_empty() {
                continue;
            }
            let pinned = u.split_once('@').is_some_and(|(repo, sha)| {
                repo.contains('/')
                    && sha.len() == 40
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            });
            if !pinned {
                out.push(format!(
                    "job {name}: `{u}` is not pinned by full commit SHA"
                ));
            }
            // The tag in a comment on the same line.
            let line = text.lines().find(|l| l.contains(&u)).unwrap_or("");
            let tagged = line
                .split_once(" # v")
                .is_some_and(|(_, tag)| tag.split('.').all(|n| n.parse::<u32>().is_ok()));
            if !tagged {
                out.push(format!("job {name}: `{u}` has no `# vX.Y.Z` tag comment"));
            }
            if u.starts_with("actions/checkout@")
                && step["with"]["persist-credentials"] != Value::Bool(false)
            {
                out.push(format!(
                    "job {name}: checkout without persist-credentials: false"
                ));
            }
        }
        for line in runs.lines() {
            let line = line.trim();
            if line.starts_with("cargo install")
                && !(line.contains("--locked") && line.contains("--rev \"$PARTNER_PAGES_REV\""))
            {
                out.push(format!("job {name}: unpinned `{line}`"));
            }
            if line.starts_with("npm install") {
                let pinned = line
                    .split_whitespace()
                    .filter(|w| !w.starts_with('-'))
                    .skip(2)
                    .all(|pkg| {
                        pkg.rsplit_once('@').is_some_and(|(n, v)| {
                            !n.is_empty()
                                && v.split('.').count() == 3
                                && v.split('.').all(|x| x.parse::<u32>().is_ok())
                        })
                    });
                if !pinned {
                    out.push(format!("job {name}: unpinned `{line}`"));
                }
            }
        }
    }
    out
}

#[test]
fn the_weekly_workflow_grants_least_privilege_per_job_and_pins_every_action_and_tool() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let out = std::process::Command::new(support::bin())
        .arg("init")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = support::read(site.join(WORKFLOW));
    assert_eq!(problems(&text), Vec::<String>::new(), "{text}");

    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let jobs = doc["jobs"].as_object().unwrap();
    assert_eq!(
        jobs.len(),
        2,
        "a read-only job and a job that opens the pull request"
    );
    assert_eq!(
        doc["jobs"]["report"]["permissions"],
        serde_json::json!({"contents": "read"})
    );
    assert_eq!(
        doc["jobs"]["pull-request"]["permissions"],
        serde_json::json!({"contents": "write", "pull-requests": "write"})
    );
    assert_eq!(doc["jobs"]["pull-request"]["needs"], "report");
    // The Cloudflare token is read by the read-only job only.
    assert!(!doc["jobs"]["pull-request"]
        .to_string()
        .contains("CLOUDFLARE"));
    // wrangler at the version the tests run (package.json).
    let package: Value =
        serde_json::from_str(&support::read(support::repo_root().join("package.json"))).unwrap();
    let wrangler = package["devDependencies"]["wrangler"].as_str().unwrap();
    assert!(
        text.contains(&format!("npm install --global wrangler@{wrangler}\n")),
        "wrangler@{wrangler}: {text}"
    );

    // Negative controls: each broken copy is caught, so the check above can fail.
    let broken = [
        (
            "write for all jobs",
            text.replace("permissions: {}", "permissions:\n  contents: write"),
        ),
        (
            "write in the job that reads D1",
            text.replacen("      contents: read\n", "      contents: write\n", 1),
        ),
        (
            "a checkout that keeps the token",
            text.replacen("          persist-credentials: false\n", "", 1),
        ),
        (
            "an action pinned by tag",
            text.replace(
                "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0",
                "actions/cache@v4",
            ),
        ),
        (
            "a SHA without its tag",
            text.replace(
                "d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0",
                "d3f86a106a0bac45b974a628896c90dbdf5c8093",
            ),
        ),
        (
            "wrangler by major",
            text.replace(&format!("wrangler@{wrangler}"), "wrangler@4"),
        ),
        (
            "cargo install without --rev",
            text.replace(" --rev \"$PARTNER_PAGES_REV\"", ""),
        ),
    ];
    for (what, copy) in &broken {
        assert_ne!(copy, &text, "{what}: the edit did not apply");
        assert!(!problems(copy).is_empty(), "{what}: not caught");
    }
}

/// `partner-pages init DIR` (`init` with `args`) and its stdout; fails the test on an error.
fn init(args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(support::bin())
        .arg("init")
        .args(args)
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn init_workflow_in_a_subfolder_of_a_repository_writes_it_at_the_root_running_in_the_subfolder() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    for sub in ["marketing", "web/partner pages"] {
        // A site made outside any repository (its workflow in its own `.github/`), then moved
        // into a subfolder of one: a repository's `.git` is a folder (or, in a worktree or a
        // submodule, a file).
        let site = repo.join(sub);
        let _ = std::fs::remove_dir_all(repo.join(".git"));
        init(&[site.as_os_str()]);
        std::fs::remove_dir_all(site.join(".github")).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        let said = init(&["--workflow".as_ref(), site.as_os_str()]);
        let file = repo.join(WORKFLOW);
        assert!(said.contains(&file.display().to_string()), "{said}");
        assert!(
            !site.join(".github").exists(),
            "{sub}: nothing in the subfolder"
        );
        let text = support::read(&file);
        assert_eq!(problems(&text), Vec::<String>::new(), "{text}");
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        // Every `run:` step runs where partner-pages.yaml is; action inputs are paths from the
        // repository's root.
        assert_eq!(doc["defaults"]["run"]["working-directory"], sub, "{text}");
        let cache = doc["jobs"]["report"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["uses"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("actions/cache@")
            })
            .unwrap();
        assert_eq!(
            cache["with"]["path"],
            format!("{sub}/.partner-pages/cache"),
            "{text}"
        );
        // A second run (or a workflow of the repository) is never overwritten.
        let again = std::process::Command::new(support::bin())
            .args(["init", "--workflow"])
            .arg(&site)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
        assert_eq!(support::read(&file), text);
        std::fs::remove_file(&file).unwrap();
    }

    // A new site in a subfolder: the scaffold's workflow goes to the root too, and one there
    // already is left as it is.
    let said = init(&[repo.join("shop").as_os_str()]);
    let text = support::read(repo.join(WORKFLOW));
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(
        doc["defaults"]["run"]["working-directory"], "shop",
        "{said}"
    );
    assert!(!repo.join("shop/.github").exists());
    let said = init(&[repo.join("blog").as_os_str()]);
    assert!(said.contains("exists: left as it is"), "{said}");
    assert_eq!(support::read(repo.join(WORKFLOW)), text);

    // At the repository's root: no working directory.
    std::fs::create_dir_all(repo.join("shop/.git")).unwrap();
    std::fs::remove_dir_all(repo.join("shop/.github")).ok();
    init(&["--workflow".as_ref(), repo.join("shop").as_os_str()]);
    let text = support::read(repo.join("shop").join(WORKFLOW));
    assert!(!text.contains("working-directory"), "{text}");
    assert!(
        text.contains("          path: .partner-pages/cache\n"),
        "{text}"
    );
}
