//! Agent-facing outputs read back with the real parsers: llms.txt with the `llms-txt` package
//! (`llms_txt.parse_llms_file`), partners.json with `jsonschema`, merges into host files.

use crate::support;
use partner_pages::render::llms::{self};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

use crate::support::llms::*;

/// Every agent-facing file in `out`: no tracked link, no commission.
fn assert_agent_files_are_clean(out: &Path, base_url: &str) {
    let tracked = format!("{}/go/", base_url.trim_end_matches('/'));
    let mut seen = 0;
    for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy();
        if !(name.ends_with(".md") || name.ends_with(".txt") || name.ends_with(".json")) {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(entry.path()).unwrap();
        assert!(
            !text.contains(&tracked),
            "{} has a tracked link",
            entry.path().display()
        );
        assert!(
            !text.contains("SECRET-COMMISSION"),
            "{} shows a commission",
            entry.path().display()
        );
        assert!(
            !text.contains("20% of first-year"),
            "{} shows a commission",
            entry.path().display()
        );
    }
    assert!(seen > 3, "agent files found: {seen}");
}

#[test]
fn agent_files_hold_no_tracked_link_and_no_commission() {
    let site_dir = generated_site(20, "https://x.example");
    let out = publish(site_dir.path(), &[]);
    assert_agent_files_are_clean(out.path(), "https://x.example");
    let guide = std::fs::read_to_string(out.path().join("guide/index.html.md")).unwrap();
    assert!(
        guide.contains("[a partner](https://x.example/p/p0007/)"),
        "{guide}"
    );
    assert!(
        guide.contains("[the demo](https://x.example/demo)"),
        "{guide}"
    );
    let site = support::copy_site(&support::example_site());
    let out = publish(site.path(), &[]);
    assert_agent_files_are_clean(out.path(), "https://aikit.example");
}

#[test]
fn merge_replaces_only_what_is_between_our_markers() {
    // A copy: a build writes collector/ and kits/ into the site root, and tests run in parallel.
    let site = support::copy_site(&support::example_site());
    let root = site.path().to_path_buf();
    let host_dir = tempfile::tempdir().unwrap();
    let host = host_dir.path().join("llms.txt");
    let before =
        "# Host\r\n\r\n> Summary.\r\n\r\n## Docs\r\n\r\n- [A](https://h.example/a.md)\r\n\r\n";
    let after = "\r\n## Optional\r\n\r\n- [B](https://h.example/b.md)";
    let stale = format!(
        "{}\r\n## Partner offers\r\n\r\n- [Old](https://old.example/)\r\n{}\r\n",
        llms::MARKER_START,
        llms::MARKER_END
    );
    std::fs::write(&host, format!("{before}{stale}{after}")).unwrap();
    publish(&root, &["--llms-merge", host.to_str().unwrap()]);
    let merged = std::fs::read_to_string(&host).unwrap();
    assert!(merged.starts_with(before), "{merged}");
    assert!(merged.ends_with(after), "{merged}");
    assert!(!merged.contains("old.example"));
    assert!(merged.contains(
        "](https://aikit.example/p/seo-consultant/index.html.md): Promise: Content QA checklist."
    ));
    assert!(
        !merged.replace("\r\n", "").contains('\n'),
        "the host's CRLF line endings are kept"
    );
    publish(&root, &["--llms-merge", host.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&host).unwrap(), merged);
}

#[test]
fn merge_refuses_a_broken_marker_pair_or_a_host_without_h1_and_writes_nothing() {
    // A copy: a build writes collector/ and kits/ into the site root, and tests run in parallel.
    let site = support::copy_site(&support::example_site());
    let root = site.path().to_path_buf();
    let host_dir = tempfile::tempdir().unwrap();
    let host = host_dir.path().join("llms.txt");
    for (text, location, message) in [
        (
            format!(
                "# Host\n\n## Docs\n\n{}\n- [A](https://h.example/a.md)\n",
                llms::MARKER_START
            ),
            ":5:1",
            "start marker has no end marker",
        ),
        ("> no title\n\n## Docs\n".to_string(), ":1:1", "no H1"),
    ] {
        std::fs::write(&host, &text).unwrap();
        let out = tempfile::tempdir().unwrap();
        let run = support::run(
            &root,
            &[
                "build",
                "--out",
                out.path().to_str().unwrap(),
                "--llms-merge",
                host.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("{}{location}", host.display())),
            "{stderr}"
        );
        assert!(stderr.contains(message), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(&host).unwrap(),
            text,
            "host untouched"
        );
        assert!(
            !out.path().join("partners.json").exists(),
            "nothing written"
        );
    }
}

#[test]
fn llms_merge_in_the_config_is_relative_to_the_site_root() {
    let site = support::copy_site(&support::example_site());
    let config = site.path().join("partner-pages.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "llms:\n  full: true",
            "llms:\n  full: true\n  merge: host/llms.txt",
        ),
    )
    .unwrap();
    std::fs::create_dir_all(site.path().join("host")).unwrap();
    std::fs::write(site.path().join("host/llms.txt"), HOST).unwrap();
    let out = publish(site.path(), &[]);
    let merged = std::fs::read_to_string(site.path().join("host/llms.txt")).unwrap();
    assert!(merged.contains(llms::MARKER_START));
    assert!(!out.path().join("llms.txt").exists());
    let registry: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("partners.json")).unwrap()).unwrap();
    assert_eq!(registry["site"]["llms_txt"], Value::Null);
}

#[test]
fn merge_into_a_missing_host_file_is_a_user_error_with_a_hint() {
    let host_dir = tempfile::tempdir().unwrap();
    let host = host_dir.path().join("llms.txt");
    let out = tempfile::tempdir().unwrap();
    let site = support::copy_site(&support::example_site());
    let run = support::run(
        site.path(),
        &[
            "build",
            "--out",
            out.path().to_str().unwrap(),
            "--llms-merge",
            host.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
    assert!(!host.exists(), "no host file invented");
    assert!(
        !out.path().join("partners.json").exists(),
        "nothing written"
    );
}

#[cfg(unix)]
#[test]
fn merge_through_a_symlink_updates_the_target_and_keeps_the_link() {
    let host_dir = tempfile::tempdir().unwrap();
    let real = host_dir.path().join("shared-llms.txt");
    let link = host_dir.path().join("llms.txt");
    std::fs::write(&real, HOST).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    // A relative --llms-merge path is relative to the working directory, not to --root.
    let out = tempfile::tempdir().unwrap();
    let site = support::copy_site(&support::example_site());
    let run = Command::new(support::bin())
        .current_dir(host_dir.path())
        .args(["--root", site.path().to_str().unwrap(), "build", "--out"])
        .arg(out.path())
        .args(["--llms-merge", "llms.txt"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains(llms::MARKER_START));
    let leftovers: Vec<_> = std::fs::read_dir(host_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary file left: {leftovers:?}");
}
