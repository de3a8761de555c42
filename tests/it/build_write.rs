//! `build`'s write paths end to end: a first build into a missing or empty folder goes through
//! one staging folder beside it; a failure or a kill -9 leaves the output as it was and a
//! staging folder that the next build removes and that never lands in the output.

use crate::support::{self, big_site, copy_site, example_site, run, tree};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Names in `dir` that are staging folders or temporaries of a build.
fn leftovers(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.contains(".pp-staging-") || p.contains(".pp-tmp-"))
        .collect()
}

fn build(root: &Path, out: &Path) -> std::process::Output {
    run(root, &["build", "--out", out.to_str().unwrap()])
}

fn build_ok(root: &Path, out: &Path) -> String {
    let o = build(root, out);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "build failed: {stderr}");
    stderr
}

#[test]
fn first_build_into_a_missing_or_an_empty_folder_gives_the_same_bytes_as_an_update() {
    let site = copy_site(&example_site());
    let root = site.path();
    let missing = root.join("dist/deep/missing");
    build_ok(root, &missing);
    let fresh = tree(&missing);
    assert!(
        fresh.contains_key("p/seo-consultant/index.html"),
        "{fresh:?}"
    );
    assert!(fresh.contains_key(".partner-pages-manifest"));

    let empty = root.join("dist/empty");
    std::fs::create_dir_all(&empty).unwrap();
    build_ok(root, &empty);
    assert_eq!(tree(&empty), fresh, "missing and empty folder: same files");

    // A folder with a host file in it is written file by file (update mode): same bytes.
    let host = root.join("dist/host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("host.html"), "host page").unwrap();
    build_ok(root, &host);
    let mut updated = tree(&host);
    assert_eq!(
        updated.remove("host.html").as_deref(),
        Some(&b"host page"[..])
    );
    assert_eq!(updated, fresh, "staged and file-by-file builds differ");

    assert!(leftovers(root).is_empty(), "{:?}", leftovers(root));
    // And the fresh output is an ordinary output, rebuilt file by file like any other.
    build_ok(root, &missing);
    assert_eq!(tree(&missing), fresh);
}

#[test]
fn a_failure_after_pages_were_staged_leaves_no_output_and_no_staging_folder() {
    let site = copy_site(&example_site());
    let root = site.path();
    // Content pages render after the partner pages, which are already staged by then.
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(
        root.join("templates/page.html"),
        "{% extends \"base.html\" %}\n{% block main %}\n{{ page.no_such_field.x }}\n{% endblock %}\n",
    )
    .unwrap();
    let out = root.join("public");
    let o = build(root, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("templates/page.html:3:"), "{stderr}");
    assert!(
        !out.exists(),
        "a failed first build creates no output folder"
    );
    assert!(!root.join("collector").exists(), "nor the collector folder");
    assert!(leftovers(root).is_empty(), "{:?}", leftovers(root));

    // Same failure over a previous output: it stays byte for byte, no temporaries.
    std::fs::remove_file(root.join("templates/page.html")).unwrap();
    build_ok(root, &out);
    let before = tree(&out);
    std::fs::write(
        root.join("templates/page.html"),
        "{% extends \"base.html\" %}\n{% block main %}\n{{ page.no_such_field.x }}\n{% endblock %}\n",
    )
    .unwrap();
    let edited = std::fs::read_to_string(root.join("partners/seo-consultant.yaml"))
        .unwrap()
        .replace("Ship AI content", "Ship better AI content");
    std::fs::write(root.join("partners/seo-consultant.yaml"), edited).unwrap();
    let o = build(root, &out);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(tree(&out), before);
    assert!(leftovers(root).is_empty(), "{:?}", leftovers(root));
}

#[test]
fn a_staging_folder_left_by_a_failed_build_is_removed_by_the_next_and_host_names_are_kept() {
    let site = copy_site(&example_site());
    let root = site.path();
    // What a killed first build leaves, and names that only look like ours.
    let stale = root.join(".public.pp-staging-12345");
    std::fs::create_dir_all(stale.join("p/x")).unwrap();
    std::fs::write(stale.join("p/x/index.html"), "half a site").unwrap();
    for keep in [
        ".public.pp-staging-",
        ".public.pp-staging-12x",
        ".other.pp-staging-1",
    ] {
        std::fs::create_dir_all(root.join(keep)).unwrap();
    }
    build_ok(root, &root.join("public"));
    assert!(!stale.exists(), "the stale staging folder is removed");
    for keep in [
        ".public.pp-staging-",
        ".public.pp-staging-12x",
        ".other.pp-staging-1",
    ] {
        assert!(root.join(keep).is_dir(), "{keep} is not ours and is kept");
    }
    assert!(!tree(&root.join("public")).contains_key("p/x/index.html"));
}

fn staging_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(root)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".pp-staging-"))
        .collect()
}

#[test]
fn kill_9_of_a_first_build_leaves_no_output_and_the_next_build_cleans_up() {
    let site = big_site(1500);
    let root = site.path();
    let public = root.join("public");
    let mut landed = false;
    // Kill as soon as the staging folder appears, and some time after (mid-stage).
    for extra_ms in [0u64, 200] {
        let earlier = staging_dirs(root);
        let mut child = Command::new(support::bin())
            .arg("--root")
            .arg(root)
            .arg("build")
            .env_remove("PARTNER_PAGES_ROOT")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start build");
        let start = Instant::now();
        while child.try_wait().unwrap().is_none()
            && start.elapsed() < Duration::from_secs(120)
            && staging_dirs(root).iter().all(|d| earlier.contains(d))
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(extra_ms));
        child.kill().expect("kill -9 build"); // SIGKILL on unix
        let finished = child.wait().unwrap().success();
        if finished {
            std::fs::remove_dir_all(&public).unwrap();
            let _ = std::fs::remove_dir_all(root.join("collector"));
            continue;
        }
        landed |= staging_dirs(root).iter().any(|d| !earlier.contains(d));
        // Killed before the commit, public/ does not exist; killed after it (before the
        // stamp), it is whole: every file its manifest lists is there. Never a part of a site.
        if public.exists() {
            let files = tree(&public);
            let manifest = files.get(".partner-pages-manifest").unwrap_or_else(|| {
                panic!("after kill -9 ({extra_ms} ms), public/ has no manifest")
            });
            let manifest = String::from_utf8_lossy(manifest);
            let on_disk: std::collections::BTreeSet<String> =
                files.keys().map(|k| support::manifest_hash(k)).collect();
            for line in manifest.lines().filter(|l| !l.starts_with('#')) {
                assert!(
                    on_disk.contains(line),
                    "after kill -9 ({extra_ms} ms), the file of {line} is missing"
                );
            }
            std::fs::remove_dir_all(&public).unwrap();
            let _ = std::fs::remove_dir_all(root.join("collector"));
        }
    }
    assert!(
        landed,
        "no kill landed while a staging folder was on disk; the test proves nothing"
    );

    let out = run(root, &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(staging_dirs(root).is_empty(), "{:?}", staging_dirs(root));
    assert!(leftovers(&public).is_empty(), "{:?}", leftovers(&public));
    let files = tree(&public);
    assert!(files.contains_key("p/partner-01499/index.html"));
    // The manifest lists exactly the files of the folder (the stamp is bookkeeping).
    let manifest = String::from_utf8(files[".partner-pages-manifest"].clone()).unwrap();
    let listed: Vec<&str> = manifest.lines().filter(|l| !l.starts_with('#')).collect();
    let mut on_disk: Vec<String> = files
        .keys()
        .filter(|k| *k != ".partner-pages-manifest")
        .map(|k| support::manifest_hash(k))
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk);
}
