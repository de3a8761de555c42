use super::*;

const HOST: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>About us</title>\
    <meta name=\"description\" content=\"Host about\"><link rel=\"canonical\" href=\"https://h.example/about/\">\
    <link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><header id=\"top\"><a href=\"/\">Host</a></header>\
    <main class=\"content\"><h1>About</h1><p>Host text</p></main><footer>Host footer</footer>\
    <script src=\"/partners/pp-beacon.js\" defer></script></body></html>";

const OURS: &str = "<!doctype html><html><head><title>Offer | P</title>\
    <meta name=\"description\" content=\"Ours\"><meta name=\"robots\" content=\"noindex\">\
    <link rel=\"canonical\" href=\"https://h.example/partners/p/x/\">\
    <link rel=\"alternate\" type=\"text/markdown\" href=\"/partners/p/x/index.html.md\">\
    <style>body{color:red}</style></head><body><header>Ours</header><main id=\"main\"><h1>Offer</h1>\
    <a data-pp=\"cta\" href=\"/demo\">Book</a></main><footer>Ours</footer>\
    <script data-partner=\"x\">f()</script></body></html>";

fn of(html: &str, main: &str) -> Shell {
    let (scope, body, charset) = layout(html).unwrap();
    Shell {
        html: html.into(),
        main: main.into(),
        scope,
        body,
        charset,
        current: crate::config::DEFAULT_CURRENT
            .iter()
            .map(|s| (s.to_string(), class_names(s)))
            .collect(),
        stylesheet: "<link rel=\"stylesheet\" href=\"/partners/pp-shell.css\">\n".into(),
    }
}

fn shell(main: &str) -> Shell {
    of(HOST, main)
}

const NEEDS: Needs = Needs {
    script_hash: "'sha256-abc='",
    endpoint: "/e",
    origin: "https://h.example",
    stylesheet: "/partners/pp-shell.css",
};

#[test]
fn the_host_keeps_its_look_and_the_page_gets_our_content_and_head() {
    let out = shell("main").wrap(OURS).unwrap();
    for kept in [
        "<header id=\"top\">",
        "<footer>Host footer</footer>",
        "href=\"/css/site.css\"",
        "<main class=\"content\">",
    ] {
        assert!(out.contains(kept), "lost {kept}: {out}");
    }
    for ours in [
        "<title>Offer | P</title>",
        "content=\"Ours\"",
        "content=\"noindex\"",
        "href=\"https://h.example/partners/p/x/\"",
        "type=\"text/markdown\" href=\"/partners/p/x/index.html.md\"",
        "<h1>Offer</h1>",
        "<script data-partner=\"x\">f()</script>",
    ] {
        assert!(out.contains(ours), "missing {ours}: {out}");
    }
    let script = out.find("<script data-partner").unwrap();
    assert!(script > out.find("Host footer").unwrap() && script < out.find("</body>").unwrap());
    for gone in [
        "About us",
        "Host about",
        "h.example/about/",
        "Host text",
        "color:red",
        "<header>Ours",
        "pp-beacon.js",
    ] {
        assert!(!out.contains(gone), "kept {gone}: {out}");
    }
    assert_eq!(out.matches("<title>").count(), 1);
    assert_eq!(out.matches("rel=\"canonical\"").count(), 1);
}

#[test]
fn only_the_first_match_gets_the_content() {
    let s = of(
        "<html><head></head><body><div class=\"c\">a</div><div class=\"c\">b</div></body></html>",
        ".c",
    );
    let out = s.wrap(OURS).unwrap();
    assert!(
        out.contains("<div class=\"c\"><div class=\"pp-partner\">\n<h1>Offer</h1>"),
        "{out}"
    );
    assert!(out.contains("<div class=\"c\">b</div>"), "{out}");
}

#[test]
fn a_missing_page_or_selector_is_located_in_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join(CONFIG_FILE),
        "name: S\nbase_url: https://h.example/partners\nsummary: S\nshell:\n  page: public/about/index.html\n  main: \"#content\"\n",
    )
    .unwrap();
    let cfg = ShellConfig {
        page: "public/about/index.html".into(),
        main: "#content".into(),
        accent: None,
        accent_text: None,
        current: None,
    };
    let d = Shell::load(root, &cfg, &NEEDS).unwrap_err();
    assert_eq!(d.location(), "partner-pages.yaml:5:9");
    assert!(d.message.contains("does not exist"), "{}", d.message);
    std::fs::create_dir_all(root.join("public/about")).unwrap();
    std::fs::write(root.join("public/about/index.html"), HOST).unwrap();
    let d = Shell::load(root, &cfg, &NEEDS).unwrap_err();
    assert_eq!(d.location(), "partner-pages.yaml:6:9");
    assert!(d.message.contains("matches `#content`"), "{}", d.message);
    let bad = ShellConfig {
        main: "main[".into(),
        ..cfg.clone()
    };
    let d = Shell::load(root, &bad, &NEEDS).unwrap_err();
    assert!(d.message.contains("is not a CSS selector"), "{}", d.message);
    let good = ShellConfig {
        main: "main".into(),
        ..cfg
    };
    assert!(Shell::load(root, &good, &NEEDS).is_ok());
}

#[test]
fn a_minified_page_without_head_or_body_tags_gets_our_head_and_beacon() {
    let min = "<!doctype html><html lang=en><meta charset=utf-8><title>About us</title>\
        <meta name=description content=\"Host about\"><link rel=canonical href=/about/>\
        <link rel=stylesheet href=/s.css><header>Host</header><main>Host text</main><footer>F</footer>";
    let out = of(min, "main").wrap(OURS).unwrap();
    assert_eq!(out.matches("<title>").count(), 1, "{out}");
    for ours in [
        "<title>Offer | P</title>",
        "content=\"noindex\"",
        "href=\"https://h.example/partners/p/x/\"",
        "<h1>Offer</h1>",
    ] {
        assert!(out.contains(ours), "missing {ours}: {out}");
    }
    for gone in ["About us", "Host about", "href=/about/", "Host text"] {
        assert!(!out.contains(gone), "kept {gone}: {out}");
    }
    // The charset stays first, our head follows it, the beacon ends the document.
    let charset = out.find("charset=utf-8").unwrap();
    assert!(charset < out.find("<title>").unwrap(), "{out}");
    assert!(out.find("<script data-partner").unwrap() > out.find("<footer>F").unwrap());
    // A `<body>` with no `</body>`: the beacon still comes last.
    let open = "<html><head><title>A</title></head><body><main>x</main><p>end";
    let out = of(open, "main").wrap(OURS).unwrap();
    assert!(
        out.ends_with("<script data-partner=\"x\">f()</script>\n"),
        "{out}"
    );
    assert_eq!(out.matches("data-partner").count(), 1, "{out}");
}

fn load_page(html: &str) -> Result<Shell, Box<Diagnostic>> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join(CONFIG_FILE),
        "name: S\nbase_url: https://h.example/partners\nsummary: S\nshell:\n  page: about.html\n  main: main\n",
    )
    .unwrap();
    std::fs::write(root.join("about.html"), html).unwrap();
    let cfg = ShellConfig {
        page: "about.html".into(),
        main: "main".into(),
        accent: None,
        accent_text: None,
        current: None,
    };
    Shell::load(root, &cfg, &NEEDS)
}

#[test]
fn a_shell_with_a_base_element_or_no_page_structure_is_refused_where_it_is() {
    let d = load_page("<!doctype html>\n<html><head>\n  <base href=\"https://cdn.example/\">\n</head><body><main>x</main></body></html>").unwrap_err();
    assert_eq!(d.location(), "about.html:3:3");
    assert!(d.message.contains("`<base>`"), "{}", d.message);
    assert!(
        d.hint.as_deref().unwrap().contains("remove `<base>`"),
        "{d:?}"
    );
    let d = load_page("<title>A</title><main>x</main>").unwrap_err();
    assert_eq!(d.location(), "partner-pages.yaml:5:9");
    assert!(
        d.message.contains("neither an `<html>` nor a `<head>`"),
        "{}",
        d.message
    );
}

#[test]
fn a_shell_policy_that_blocks_the_beacon_or_our_stylesheet_is_refused_with_the_fix() {
    let page = |csp: &str| {
        format!("<!doctype html>\n<html><head>\n<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n</head><body><main>x</main></body></html>")
    };
    let d = load_page(&page("script-src 'self'")).unwrap_err();
    assert_eq!(d.location(), "about.html:3:19");
    assert!(
        d.message.contains("blocks the partner pages' beacon"),
        "{}",
        d.message
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains("add 'sha256-abc=' to `script-src`"),
        "{d:?}"
    );
    let d = load_page(&page(
        "default-src 'self'; script-src 'self' 'sha256-abc='; connect-src https://other.example",
    ))
    .unwrap_err();
    assert!(d.message.contains("requests to `/e`"), "{}", d.message);
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains("add 'self' to `connect-src`"),
        "{d:?}"
    );
    // Our stylesheet, a same-origin file under the base path.
    let d = load_page(&page(
        "default-src 'none'; script-src 'sha256-abc='; connect-src 'self'",
    ))
    .unwrap_err();
    assert!(
        d.message.contains(
            "blocks the partner pages' stylesheet `/partners/pp-shell.css` (`default-src 'none'`)"
        ),
        "{}",
        d.message
    );
    assert_eq!(d.location(), "about.html:3:19");
    let d = load_page(&page(
        "style-src https://fonts.example 'unsafe-inline'; script-src 'unsafe-inline'",
    ))
    .unwrap_err();
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains("add 'self' to `style-src`"),
        "{d:?}"
    );
    for fine in [
        "default-src 'self'; script-src 'self' 'sha256-abc='",
        "script-src 'unsafe-inline'; connect-src https://h.example",
        "img-src *",
        "script-src-elem 'sha256-abc='; script-src 'none'; default-src *",
        "default-src 'none'; script-src 'sha256-abc='; connect-src 'self'; style-src 'self'",
        "style-src https://h.example/partners/; script-src 'unsafe-inline'",
        "style-src-elem https:; style-src 'none'; script-src 'unsafe-inline'",
    ] {
        assert!(load_page(&page(fine)).is_ok(), "{fine}");
    }
    for blocked in [
        "script-src 'unsafe-inline' 'nonce-x'",
        "default-src 'self'",
        "script-src 'sha256-abc='; connect-src 'none'",
        "style-src 'none'; script-src 'unsafe-inline'",
        "style-src https://h.example/css/; script-src 'unsafe-inline'",
        "style-src https://cdn.example; script-src 'unsafe-inline'",
    ] {
        assert!(load_page(&page(blocked)).is_err(), "{blocked}");
    }
}

#[test]
fn connect_sources_match_as_browsers_match_them() {
    let other = |s| source_allows(s, "https", "c.example.net", false);
    assert!(other("https://c.example.net"));
    assert!(other("c.example.net"));
    assert!(other("*.example.net"));
    assert!(other("https:"));
    assert!(other("http://c.example.net"));
    assert!(!other("'self'"));
    assert!(!other("c.example.net:8443"));
    assert!(!other("example.net"));
    assert!(source_allows("'self'", "https", "h.example", true));
    assert!(source_allows(
        "h.example:*",
        "https",
        "h.example:8443",
        true
    ));
}

#[test]
fn the_shell_page_loses_its_own_identity_and_our_content_gets_its_root_and_stylesheet() {
    let host = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Archive</title>\
        <link rel=\"alternate\" hreflang=\"fr\" href=\"/fr/archives/\"><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/index.xml\">\
        <meta property=\"article:section\" content=\"x\"><meta name=\"keywords\" content=\"a,b\"><meta itemprop=\"name\" content=\"Archive\">\
        <script type=\"application/ld+json\">{\"headline\":\"Archive\"}</script><link rel=\"stylesheet\" href=\"/site.css\"></head>\
        <body><nav><a href=\"/archives/\" class=\"nav-link active\" aria-current=\"page\"><span class=\"active\">Archive</span></a>\
        <a href=\"/about/\">About</a></nav><main>x</main></body></html>";
    let out = of(host, "main").wrap(OURS).unwrap();
    for gone in [
        "hreflang",
        "article:section",
        "keywords",
        "itemprop",
        "ld+json",
        "\"headline\"",
        "aria-current",
        "active",
    ] {
        assert!(!out.contains(gone), "kept {gone}: {out}");
    }
    for kept in [
        "application/rss+xml",
        "href=\"/site.css\"",
        "<a href=\"/archives/\" class=\"nav-link\"><span>Archive</span></a>",
        "<main><div class=\"pp-partner\">\n<h1>Offer</h1>",
        "<link rel=\"stylesheet\" href=\"/partners/pp-shell.css\">",
    ] {
        assert!(out.contains(kept), "lost {kept}: {out}");
    }
    // Our stylesheet comes before the host's: the host's unlayered rules win anyway.
    assert!(out.find("pp-shell.css").unwrap() < out.find("/site.css").unwrap());
}

#[test]
fn current_page_markers_and_colours_are_checked_where_they_are_set() {
    assert_eq!(class_names("nav a.active.x-y"), ["active", "x-y"]);
    assert!(class_names("[aria-current]").is_empty());
    for ok in ["#0b6e4f", "teal", "rgb(11 110 79 / 90%)", "var(--accent)"] {
        assert!(is_css_colour(ok), "{ok}");
    }
    for bad in ["red; } body { display:none", "", "a /* b", "rgb(1", "x\"y"] {
        assert!(!is_css_colour(bad), "{bad}");
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join(CONFIG_FILE),
        "name: S\nbase_url: https://h.example/partners\nsummary: S\nshell:\n  page: a.html\n  main: main\n  accent: \"red;}\"\n  current: [\"a[\"]\n",
    )
    .unwrap();
    std::fs::write(root.join("a.html"), HOST).unwrap();
    let mut cfg = ShellConfig {
        page: "a.html".into(),
        main: "main".into(),
        accent: Some("red;}".into()),
        accent_text: None,
        current: Some(vec!["a[".into()]),
    };
    let d = Shell::load(root, &cfg, &NEEDS).unwrap_err();
    assert_eq!(d.location(), "partner-pages.yaml:7:11");
    assert!(d.message.contains("is not a CSS colour"), "{}", d.message);
    cfg.accent = Some("#0b6e4f".into());
    let d = Shell::load(root, &cfg, &NEEDS).unwrap_err();
    assert_eq!(d.location(), "partner-pages.yaml:8:12");
    assert!(d.message.contains("is not a CSS selector"), "{}", d.message);
}
