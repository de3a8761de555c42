//! Partner pages in a host shell: the shell page may be minified (no `<head>`/`<body>` tags);
//! kits are never dressed in it; a shell whose `<base>` or Content-Security-Policy would
//! misroute or block the beacon, or block our stylesheet, is refused by `check` and `build` with the fix.

use crate::support::{
    build_with_kit_secret, copy_site, example_site, kit_token, opt_in_hosted_kits, read, run,
    run_ok, tree, KIT_SECRET_A,
};
use std::path::Path;

/// A host page as minifiers write it: no `<head>`, `<body>`, `</html>`, with the host's own
/// title, canonical, robots, analytics and an Archive-like identity.
const MINIFIED: &str = "<!doctype html><html lang=en><meta charset=utf-8><title>About the host</title>\
<meta name=description content=\"About page\"><link rel=canonical href=https://aikit.example/about/>\
<meta name=robots content=index,follow><link rel=stylesheet href=/css/site.css>\
<script src=https://analytics.example/tag.js></script>\
<header class=site-nav><a href=/>Host</a></header><main id=content><h1>About</h1><p>Host text</p></main>\
<footer>Host footer</footer>";

fn with_shell(root: &Path, page: &str) {
    std::fs::create_dir_all(root.join("host/about")).unwrap();
    std::fs::write(root.join("host/about/index.html"), page).unwrap();
    let config = root.join("partner-pages.yaml");
    std::fs::write(
        &config,
        format!(
            "{}shell:\n  page: host/about/index.html\n  main: \"#content\"\n",
            read(&config)
        ),
    )
    .unwrap();
}

/// The `<head>` of a page as the browser would see it: everything before the first element
/// of the page's body content (for a page without `<head>`, before the host's `<header>`).
fn head(html: &str) -> &str {
    let end = ["</head>", "<header", "<body"]
        .iter()
        .filter_map(|m| html.find(m))
        .min()
        .unwrap_or(html.len());
    &html[..end]
}

#[test]
fn a_minified_shell_gives_every_page_our_head_and_beacon_and_kits_keep_their_own_page() {
    let site = copy_site(&example_site());
    let root = site.path();
    with_shell(root, MINIFIED);
    opt_in_hosted_kits(root);
    let out = build_with_kit_secret(root, Some(KIT_SECRET_A));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let landing = read(root.join("public/p/seo-consultant/index.html"));
    let h = head(&landing);
    assert!(
        h.contains("<link rel=stylesheet href=/css/site.css>"),
        "{h}"
    );
    assert_eq!(landing.matches("<title>").count(), 1, "{landing}");
    assert!(!landing.contains("About the host") && !landing.contains("About page"));
    assert!(!landing.contains("index,follow") && !landing.contains("aikit.example/about/"));
    assert!(
        h.contains("<link rel=\"canonical\" href=\"https://aikit.example/p/seo-consultant/\">"),
        "{h}"
    );
    assert!(h.contains("<meta name=\"description\""), "{h}");
    assert!(landing.contains("Host footer") && !landing.contains("Host text"));
    let beacon = landing
        .find("<script data-partner=\"seo-consultant\">")
        .expect("the beacon");
    assert!(beacon > landing.find("Host footer").unwrap(), "{landing}");
    // Every page built into the shell has exactly one title and canonical.
    for (path, bytes) in tree(&root.join("public")) {
        if path.ends_with(".html") && !path.starts_with("kits/") {
            let html = String::from_utf8(bytes).unwrap();
            assert_eq!(html.matches("<title>").count(), 1, "{path}");
            assert!(!html.contains("About the host"), "{path}");
        }
    }
    // Kits: our own page, not the host's: no host script or stylesheet, noindex, no referrer.
    let token = kit_token(KIT_SECRET_A, "seo-consultant");
    for kit in [
        root.join(format!("public/kits/{token}/index.html")),
        root.join("kits/seo-consultant/index.html"),
    ] {
        let html = read(&kit);
        let h = head(&html);
        for must in [
            "<meta name=\"robots\" content=\"noindex\">",
            "<meta name=\"referrer\" content=\"no-referrer\">",
            "<meta http-equiv=\"Content-Security-Policy\"",
        ] {
            assert!(h.contains(must), "{} lacks {must}:\n{h}", kit.display());
        }
        for host in [
            "analytics.example",
            "/css/site.css",
            "Host footer",
            "site-nav",
        ] {
            assert!(!html.contains(host), "{} has {host}", kit.display());
        }
    }
}

#[test]
fn a_shell_that_would_misroute_or_block_the_beacon_or_our_stylesheet_is_refused_by_check_and_build()
{
    let cases = [
        (
            "<!doctype html>\n<html><head><meta charset=utf-8>\n<meta http-equiv=\"content-security-policy\" content=\"script-src 'self'\">\n</head><body><main id=content>x</main></body></html>",
            "host/about/index.html:3:19",
            "blocks the partner pages' beacon",
            "to `script-src` of that policy",
        ),
        (
            "<!doctype html>\n<html><head><meta charset=utf-8>\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'unsafe-inline'; connect-src https://stats.example\">\n</head><body><main id=content>x</main></body></html>",
            "host/about/index.html:3:19",
            "blocks the beacon's requests to `/e`",
            "add 'self' to `connect-src`",
        ),
        (
            "<!doctype html>\n<html><head><meta charset=utf-8>\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'unsafe-inline'; style-src https://fonts.example\">\n</head><body><main id=content>x</main></body></html>",
            "host/about/index.html:3:19",
            "blocks the partner pages' stylesheet `/pp-shell.css` (`style-src https://fonts.example`)",
            "add 'self' to `style-src`",
        ),
        (
            "<!doctype html>\n<html><head><meta charset=utf-8>\n<base href=\"https://elsewhere.example/\">\n</head><body><main id=content>x</main></body></html>",
            "host/about/index.html:3:1",
            "has a `<base>` element",
            "remove `<base>`",
        ),
    ];
    for (page, at, message, hint) in cases {
        let site = copy_site(&example_site());
        let root = site.path();
        with_shell(root, page);
        for cmd in ["check", "build"] {
            let out = run(root, &[cmd]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
            assert!(err.contains(at), "{cmd}: {at} not in {err}");
            assert!(err.contains(message), "{cmd}: {message} not in {err}");
            assert!(err.contains(hint), "{cmd}: {hint} not in {err}");
        }
        assert!(
            !root.join("public").exists(),
            "a refused build wrote public/"
        );
    }
    // The same page with the beacon's hash in its policy builds.
    let site = copy_site(&example_site());
    let root = site.path();
    with_shell(
        root,
        "<html><head><title>t</title></head><body><main id=content>x</main></body></html>",
    );
    run_ok(root, &["build"]);
    let landing = read(root.join("public/p/seo-consultant/index.html"));
    let start = landing.find("<script data-partner").unwrap();
    let js = &landing[landing[start..].find('>').unwrap() + start + 1
        ..landing[start..].find("</script>").unwrap() + start];
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(js.as_bytes()))
    };
    let site = copy_site(&example_site());
    let root = site.path();
    with_shell(
        root,
        &format!("<html><head><meta http-equiv=Content-Security-Policy content=\"default-src 'self'; script-src 'self' 'sha256-{hash}'\"></head><body><main id=content>x</main></body></html>"),
    );
    run_ok(root, &["build"]);
}

#[test]
fn partner_pages_in_a_shell_drop_its_page_identity_and_get_our_scoped_stylesheet() {
    let site = copy_site(&example_site());
    let root = site.path();
    run_ok(root, &["build"]);
    assert!(
        !root.join("public/pp-shell.css").exists(),
        "no shell, no shell stylesheet"
    );
    let archive = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Archive</title>\
        <link rel=\"alternate\" hreflang=\"fr\" href=\"https://aikit.example/fr/archives/\">\
        <script type=\"application/ld+json\">{\"@type\":\"BlogPosting\",\"headline\":\"Archive\"}</script>\
        <link rel=\"stylesheet\" href=\"/css/site.css\"></head><body>\
        <nav><a href=\"/archives/\" aria-current=\"page\" class=\"active\">Archive</a><a href=\"/about/\">About</a></nav>\
        <main id=\"content\"><h1>Archive</h1></main></body></html>";
    with_shell(root, archive);
    let config = root.join("partner-pages.yaml");
    std::fs::write(&config, format!("{}  accent: \"#0b6e4f\"\n", read(&config))).unwrap();
    run_ok(root, &["build"]);
    let landing = read(root.join("public/p/seo-consultant/index.html"));
    for gone in [
        "ld+json",
        "hreflang",
        "aria-current",
        "class=\"active\"",
        "Archive</title>",
    ] {
        assert!(!landing.contains(gone), "kept {gone}:\n{landing}");
    }
    assert!(
        landing.contains("<a href=\"/archives/\">Archive</a>"),
        "{landing}"
    );
    assert!(landing.contains("<link rel=\"stylesheet\" href=\"/pp-shell.css\">"));
    assert!(landing.contains("<main id=\"content\"><div class=\"pp-partner\">"));
    // Our parts use no element a theme styles globally.
    let ours = &landing[landing.find("pp-partner").unwrap()..landing.find("</main>").unwrap()];
    assert!(
        !ours.contains("<header") && !ours.contains("<nav"),
        "{ours}"
    );
    let css = read(root.join("public/pp-shell.css"));
    assert!(css.trim_start().starts_with("/*") && css.contains("@layer partner-pages {"));
    assert!(css.contains("--pp-accent: #0b6e4f;"), "{css}");
    // Every rule of ours is scoped under the root, with zero specificity.
    for line in css
        .lines()
        .filter(|l| l.contains('{') && !l.starts_with("@layer"))
    {
        assert!(
            line.starts_with(":where(.pp-partner)"),
            "unscoped rule: {line}"
        );
    }
}
