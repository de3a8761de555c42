//! What is published stays what is meant to be public: the build's bookkeeping names no kit,
//! the published folder never holds the site's own files, `host.data` writes only host files,
//! symbolic links are refused, and a refused build leaves every folder as it was.

use crate::support::{
    build_with_kit_secret, copy_site, example_site, kit_token, manifest_hash, opt_in_hosted_kits,
    read, run, KIT_SECRET_A, KIT_SECRET_B,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Every entry under `dir`, folders included (empty ones too), each with what identifies it:
/// a file's SHA-256, a link's target. Equal snapshots mean a byte-identical tree.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    use sha2::Digest;
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let what = if e.path_is_symlink() {
                format!("link {}", std::fs::read_link(e.path()).unwrap().display())
            } else if e.file_type().is_dir() {
                "dir".to_string()
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                format!("{:x}", sha2::Sha256::digest(&bytes))
            };
            (rel, what)
        })
        .collect()
}

fn set_config(root: &Path, from: &str, to: &str) {
    let config = root.join("partner-pages.yaml");
    let text = read(&config);
    assert!(text.contains(from), "{from} not in the config");
    std::fs::write(&config, text.replacen(from, to, 1)).unwrap();
}

fn append_config(root: &Path, text: &str) {
    let config = root.join("partner-pages.yaml");
    std::fs::write(&config, format!("{}{text}", read(&config))).unwrap();
}

/// The 1-based line of the first line of `partner-pages.yaml` starting with `prefix`.
fn config_line(root: &Path, prefix: &str) -> usize {
    read(root.join("partner-pages.yaml"))
        .lines()
        .position(|l| l.trim_start().starts_with(prefix))
        .unwrap()
        + 1
}

fn refused(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn the_public_output_names_no_hosted_kit_in_any_file_dotfiles_included() {
    let site = copy_site(&example_site());
    opt_in_hosted_kits(site.path());
    let out = build_with_kit_secret(site.path(), Some(KIT_SECRET_A));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = site.path().join("public");
    let codes = [
        "ai-tools-directory",
        "founder-community",
        "nocode-agency",
        "seo-consultant",
    ];
    let tokens: Vec<String> = codes.iter().map(|c| kit_token(KIT_SECRET_A, c)).collect();
    for (code, t) in codes.iter().zip(&tokens) {
        assert!(
            public.join("kits").join(t).join("index.html").is_file(),
            "{code}'s hosted kit is published"
        );
    }
    // Every file of the output, as a static origin would give it out: the kit pages themselves
    // hold their own token (their canonical URL); no other file holds any token.
    let mut files = 0;
    for e in walkdir::WalkDir::new(&public)
        .into_iter()
        .filter_map(Result::ok)
    {
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(&public)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
        for t in &tokens {
            if rel == format!("kits/{t}/index.html") {
                continue;
            }
            assert!(
                !text.contains(t.as_str()),
                "public/{rel} names the kit token {t}"
            );
        }
        files += 1;
    }
    assert!(files > 20, "{files} files");
    // The manifest still knows the kit pages (as hashes): rotating the secret removes them.
    let manifest = read(public.join(".partner-pages-manifest"));
    assert!(manifest.contains(&manifest_hash(&format!("kits/{}/index.html", tokens[0]))));
    let out = build_with_kit_secret(site.path(), Some(KIT_SECRET_B));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for t in &tokens {
        assert!(
            !public.join("kits").join(t).exists(),
            "the old kit {t} is removed"
        );
    }
    assert!(public
        .join("kits")
        .join(kit_token(KIT_SECRET_B, "seo-consultant"))
        .join("index.html")
        .is_file());
}

#[test]
fn a_host_output_holding_the_site_is_refused_by_check_and_build_at_the_field() {
    for output in [".", "..", "partners", "kits"] {
        let site = copy_site(&example_site());
        set_config(
            site.path(),
            "base_url: https://aikit.example",
            "base_url: https://aikit.example/partners",
        );
        append_config(site.path(), &format!("host:\n  output: \"{output}\"\n"));
        let line = config_line(site.path(), "output:");
        let before = snapshot(site.path());
        for cmd in [&["check"][..], &["build"][..]] {
            let stderr = refused(&run(site.path(), cmd));
            assert!(
                stderr.contains(&format!("partner-pages.yaml:{line}:11")),
                "{cmd:?} with host.output {output}: {stderr}"
            );
            assert!(stderr.contains("`host.output`"), "{output}: {stderr}");
        }
        assert_eq!(snapshot(site.path()), before, "{output}: nothing written");
    }
    // `--host-dir` and `--out` name the published folder too: the site root is refused.
    let site = copy_site(&example_site());
    let before = snapshot(site.path());
    let root = site.path().to_str().unwrap();
    for flags in [["--out", root], ["--host-dir", root]] {
        let stderr = refused(&run(site.path(), &["build", flags[0], flags[1]]));
        assert!(stderr.contains("would be publi"), "{flags:?}: {stderr}");
    }
    assert_eq!(snapshot(site.path()), before);
}

#[test]
fn host_data_onto_the_site_or_out_of_the_host_is_refused_and_nothing_is_overwritten() {
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("x.json");
    for data in [
        "partner-pages.yaml",
        "partners/seo-consultant.yaml",
        "partners/x.json",
        "../../x.json",
        absolute.to_str().unwrap(),
    ] {
        let site = copy_site(&example_site());
        append_config(site.path(), &format!("host:\n  data: [\"{data}\"]\n"));
        let line = config_line(site.path(), "data:");
        let before = snapshot(site.path());
        for cmd in [
            &["check"][..],
            &["build"][..],
            &["build", "--data-only"][..],
        ] {
            let stderr = refused(&run(site.path(), cmd));
            assert!(
                stderr.contains(&format!("partner-pages.yaml:{line}:10")),
                "{cmd:?} with host.data {data}: {stderr}"
            );
        }
        assert_eq!(snapshot(site.path()), before, "{data}: nothing written");
        assert!(!absolute.exists());
        assert!(!site
            .path()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("x.json")
            .exists());
    }
}

#[test]
fn a_symlink_in_the_published_folder_is_refused_by_build() {
    let site = copy_site(&example_site());
    crate::support::run_ok(site.path(), &["build"]);
    let public = site.path().join("public");
    for (name, target) in [("passwd", "/etc/passwd"), ("etc", "/etc")] {
        std::os::unix::fs::symlink(target, public.join(name)).unwrap();
        let before = snapshot(site.path());
        let stderr = refused(&run(site.path(), &["build"]));
        assert!(
            stderr.contains(&format!("{name} is a symbolic link")),
            "{stderr}"
        );
        assert_eq!(snapshot(site.path()), before, "{name}: nothing written");
        std::fs::remove_file(public.join(name)).unwrap();
    }
    crate::support::run_ok(site.path(), &["build"]);
}

#[test]
fn a_build_refused_by_the_link_check_leaves_every_folder_byte_identical() {
    let site = copy_site(&example_site());
    opt_in_hosted_kits(site.path());
    let out = build_with_kit_secret(site.path(), Some(KIT_SECRET_A));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let partner = site.path().join("partners/seo-consultant.yaml");
    std::fs::write(
        &partner,
        read(&partner).replace("url: /demo", "url: /no-such-page"),
    )
    .unwrap();
    // A new secret: every kit would move to a new folder named after its new token.
    let before = snapshot(site.path());
    let stderr = refused(&build_with_kit_secret(site.path(), Some(KIT_SECRET_B)));
    assert!(stderr.contains("no-such-page"), "{stderr}");
    assert_eq!(snapshot(site.path()), before);

    // A first build refused: no output folder, no staging folder.
    for d in ["public", "collector", "kits"] {
        std::fs::remove_dir_all(site.path().join(d)).unwrap();
    }
    let before = snapshot(site.path());
    refused(&build_with_kit_secret(site.path(), Some(KIT_SECRET_B)));
    assert_eq!(snapshot(site.path()), before);
}

#[test]
fn check_and_build_warn_when_the_hosts_own_assetsignore_lets_our_dotfiles_through() {
    let site = copy_site(&example_site());
    set_config(
        site.path(),
        "base_url: https://aikit.example",
        "base_url: https://aikit.example/partners",
    );
    append_config(site.path(), "host:\n  output: host-public\n");
    let host = site.path().join("host-public");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join(".assetsignore"), "_worker.js\n_routes.json\n").unwrap();
    let warned = |out: &std::process::Output| {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr.contains("warning") && stderr.contains(".partner-pages-manifest")
    };
    // The host output holds none of the host's pages the partner files link to.
    assert!(warned(&run(site.path(), &["check", "--no-link-check"])));
    assert!(warned(&run(site.path(), &["build", "--no-link-check"])));
    assert_eq!(
        read(host.join(".assetsignore")),
        "_worker.js\n_routes.json\n",
        "the host's file is left alone"
    );
    // With the lines the warning asks for, no warning.
    std::fs::write(
        host.join(".assetsignore"),
        "_worker.js\n_routes.json\n.*\n!.well-known\n",
    )
    .unwrap();
    assert!(!warned(&run(site.path(), &["check", "--no-link-check"])));
    assert!(!warned(&run(site.path(), &["build", "--no-link-check"])));
}
