//! Partner kits are private: built beside `public/`, never in it; hosted only at a path derived
//! from a secret, listed nowhere, 404 for any other path; `check` warns when a template of a
//! public page uses a private partner field.

use crate::support::serve::Serve;
use crate::support::{
    build_with_kit_secret as build_with_secret, copy_site, example_site, kit_token as token,
    opt_in_hosted_kits, read, repo_root, run, run_ok, tree, KIT_SECRET_A as SECRET_A,
    KIT_SECRET_B as SECRET_B,
};
use std::path::Path;

/// Commission text of every partner file that has one (read from the YAML as a user wrote it).
fn commissions(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root.join("partners")).unwrap() {
        let path = e.unwrap().path();
        let text = read(&path);
        let code = text
            .lines()
            .find_map(|l| l.strip_prefix("code: "))
            .unwrap()
            .to_string();
        if let Some(c) = text.lines().find_map(|l| l.strip_prefix("commission: ")) {
            out.push((code, c.trim().to_string()));
        }
    }
    out.sort();
    out
}

fn codes(root: &Path) -> Vec<String> {
    let mut codes: Vec<String> = std::fs::read_dir(root.join("partners"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    codes.sort();
    codes
}

/// Every file under `public/` that a web server gives out: not the dotfiles (build bookkeeping,
/// which neither `serve` nor the Worker serve).
fn served_files(public: &Path) -> Vec<(String, String)> {
    tree(public)
        .into_iter()
        .filter(|(p, _)| !p.split('/').any(|s| s.starts_with('.')))
        .map(|(p, b)| (p, String::from_utf8_lossy(&b).into_owned()))
        .collect()
}

#[test]
fn example_site_kits_are_private_and_public_holds_no_term_or_kit_link() {
    let site = copy_site(&example_site());
    let commissions = commissions(site.path());
    assert!(commissions.len() >= 3, "the example site has commissions");
    run_ok(site.path(), &["build"]);

    // Every file of public/, dotfiles included: no commission, no kit link.
    let public = tree(&site.path().join("public"));
    assert!(public.len() > 10);
    for (path, bytes) in &public {
        let text = String::from_utf8_lossy(bytes);
        for (code, c) in &commissions {
            assert!(
                !text.contains(c.as_str()),
                "public/{path} holds {code}'s commission {c:?}"
            );
        }
        assert!(!text.contains("/kit"), "public/{path} links a kit");
        assert!(!path.contains("kit"), "public/{path} is a kit");
    }

    // One kit per partner, HTML and Markdown, in kits/ beside public/.
    let kits = tree(&site.path().join("kits"));
    let listed: Vec<&str> = kits
        .keys()
        .map(String::as_str)
        .filter(|p| !p.starts_with('.'))
        .collect();
    let mut expected = Vec::new();
    for code in codes(site.path()) {
        expected.push(format!("{code}/index.html"));
        expected.push(format!("{code}/index.md"));
    }
    assert_eq!(listed, expected);
    for (code, c) in &commissions {
        for f in ["index.html", "index.md"] {
            let kit = read(site.path().join("kits").join(code).join(f));
            assert!(kit.contains(c.as_str()), "kits/{code}/{f} lacks {c:?}");
            assert!(kit.contains(&format!("https://aikit.example/go/{code}")));
        }
    }

    // What agents get from the MCP server: no commission either.
    let partners = partner_pages::mcp::tools::partners_json(
        &partner_pages::load(site.path(), &Default::default()).unwrap(),
    );
    for (code, c) in &commissions {
        assert!(
            !partners.contains(c.as_str()),
            "list_partners gives {code}'s commission"
        );
    }
}

#[test]
fn kits_follow_the_partners_on_rebuild_and_a_kits_folder_in_the_output_is_refused() {
    let site = copy_site(&example_site());
    run_ok(site.path(), &["build"]);
    let kit = site.path().join("kits/nocode-agency/index.md");
    let file = site.path().join("partners/nocode-agency.yaml");
    std::fs::write(
        &file,
        read(&file).replace("25% recurring for 12 months", "30% recurring for 12 months"),
    )
    .unwrap();
    run_ok(site.path(), &["build"]);
    assert!(read(&kit).contains("30% recurring"), "the kit is updated");
    std::fs::remove_file(&file).unwrap();
    run_ok(site.path(), &["build"]);
    assert!(!kit.exists() && !site.path().join("kits/nocode-agency").exists());
    assert!(site.path().join("kits/seo-consultant/index.md").is_file());

    // `--out` into the folder that holds the kits: refused before anything is written.
    let before = tree(&site.path().join("kits"));
    let out = run(
        site.path(),
        &["build", "--out", site.path().to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`kits.dir`"), "{stderr}");
    assert_eq!(tree(&site.path().join("kits")), before);
    assert!(!site.path().join("index.html").exists());

    // `kits.dir` under public/ is refused at its line.
    let config = site.path().join("partner-pages.yaml");
    let text = read(&config);
    std::fs::write(&config, format!("{text}kits:\n  dir: public/kits\n")).unwrap();
    let out = run(site.path(), &["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = text.lines().count() + 2;
    assert!(
        stderr.contains(&format!("--> partner-pages.yaml:{line}:8")),
        "{stderr}"
    );
}

#[test]
fn hosted_kits_live_at_a_secret_path_listed_nowhere_and_move_with_the_secret() {
    let site = copy_site(&example_site());
    opt_in_hosted_kits(site.path());
    let public = site.path().join("public");

    // No secret: the build refuses, naming the setting; check only warns.
    let out = build_with_secret(site.path(), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no kit secret"), "{stderr}");
    assert!(stderr.contains("--> partner-pages.yaml:"), "{stderr}");
    assert!(!public.exists(), "nothing written");
    let out = run(site.path(), &["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("warning: "), "{stderr}");
    // A secret too short to be safe is refused too.
    let short = build_with_secret(site.path(), Some("short"));
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("shorter than 16 bytes"));

    let out = build_with_secret(site.path(), Some(SECRET_A));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes = codes(site.path());
    let served = served_files(&public);
    for code in &codes {
        let (a, b) = (token(SECRET_A, code), token(SECRET_B, code));
        assert_ne!(a, b);
        let page = format!("kits/{a}/index.html");
        let kit = read(public.join(&page));
        assert!(kit.contains(r#"<meta name="robots" content="noindex">"#));
        assert!(kit.contains(r#"<meta name="referrer" content="no-referrer">"#));
        assert_eq!(
            kit,
            read(site.path().join(format!("kits/{code}/index.html")))
        );
        // Absent from every listing: sitemap, llms.txt, llms-full.txt, partners.json, the
        // Markdown mirrors, the index; in fact from every served file but the kit itself.
        for (path, text) in &served {
            if *path != page {
                assert!(!text.contains(&a), "{path} reveals {code}'s kit");
            }
        }
        assert!(!public.join(format!("kits/{a}/index.html.md")).exists());
    }
    // The private Markdown kit says where the hosted copy is.
    let md = read(site.path().join("kits/seo-consultant/index.md"));
    assert!(
        md.contains(&format!(
            "<https://aikit.example/kits/{}/>",
            token(SECRET_A, "seo-consultant")
        )),
        "{md}"
    );

    // Rotation: a new secret moves every kit; the old paths are gone after the rebuild.
    let out = build_with_secret(site.path(), Some(SECRET_B));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hosted: Vec<String> = tree(&public.join("kits")).into_keys().collect();
    let mut expected: Vec<String> = codes
        .iter()
        .map(|c| format!("{}/index.html", token(SECRET_B, c)))
        .collect();
    expected.sort();
    assert_eq!(hosted, expected);
}

#[test]
fn serve_answers_the_hosted_kit_and_404_for_any_other_kit_path() {
    let site = copy_site(&example_site());
    opt_in_hosted_kits(site.path());
    std::fs::write(site.path().join(".kit-secret"), format!("{SECRET_A}\n")).unwrap();
    let code = "nocode-agency";
    let serve = Serve::start_in(site, &[], true);
    let right = format!("/kits/{}/", token(SECRET_A, code));
    let r = serve.get(&right, &[]);
    assert_eq!(r.status, 200, "{}", serve.stderr());
    assert!(String::from_utf8_lossy(&r.body).contains("25% recurring for 12 months"));
    for wrong in [
        format!("/kits/{}/", token(SECRET_B, code)),
        format!("/kits/{}/", &token(SECRET_A, code)[..31]),
        format!("/p/{code}/kit/"),
        "/kits/".to_string(),
        format!("/kits/{code}/"),
    ] {
        assert_eq!(serve.get(&wrong, &[]).status, 404, "{wrong}");
    }
}

#[test]
fn check_warns_at_the_template_line_that_prints_a_commission_on_a_public_page() {
    let site = copy_site(&example_site());
    let tdir = site.path().join("templates");
    std::fs::create_dir_all(&tdir).unwrap();
    let landing = read(repo_root().join("templates/landing.html")).replace(
        "<p class=\"promise pp-promise\">{{ partner.promise }}</p>\n",
        "<p class=\"promise pp-promise\">{{ partner.promise }}</p>\n<p>Partner earns {{ partner.commission }}</p>\n",
    );
    let (line, column) = landing
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("partner.commission").map(|c| (i + 1, c + 1)))
        .unwrap();
    std::fs::write(tdir.join("landing.html"), &landing).unwrap();
    let out = run_ok(site.path(), &["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: `partner.commission` is private to the partner kit"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("--> templates/landing.html:{line}:{column}")),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(1 warning in 1 file)"));
    let json = run_ok(site.path(), &["check", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["severity"], "warning");
    assert_eq!(v[0]["line"], line);

    // And the build publishes nothing of it: public pages get the field as none.
    run_ok(site.path(), &["build"]);
    for (path, text) in served_files(&site.path().join("public")) {
        for (code, c) in commissions(site.path()) {
            assert!(
                !text.contains(c.as_str()),
                "{path} holds {code}'s commission"
            );
        }
    }
}
