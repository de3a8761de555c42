//! Render stage, host shell: partner pages dressed in a page the host site built.
//!
//! Takes: the `shell` of the config (a host-built HTML page and a CSS selector) and each page
//! our templates rendered. Gives: the host page with its `<head>` assets, header and footer
//! kept, the selected element's content replaced by the partner content (the inside of our
//! page's `<main>`), our title, meta description, robots, canonical, Open Graph and Markdown
//! alternate link in place of the host's, and our page's scripts (the beacon) at the end of
//! `<body>`. The HTML is rewritten by `lol_html`, a streaming rewriter that parses as browsers
//! do, so no string surgery on markup.
//!
//! Our own stylesheet and Content-Security-Policy are left out: the page takes the host's look
//! and the host's policy.

use crate::config::{ShellConfig, CONFIG_FILE};
use crate::diagnostics::Diagnostic;
use crate::load::at_field;
use lol_html::html_content::ContentType;
use lol_html::{element, rewrite_str, RewriteStrSettings, Selector};
use std::cell::{Cell, RefCell};
use std::path::Path;

/// Largest shell page read (a page, not a data dump).
const MAX_SHELL_BYTES: u64 = 8 * 1024 * 1024;

/// Head elements of the host page that describe the host page: replaced by ours.
const PAGE_HEAD: [&str; 7] = [
    "head > title",
    "head > meta[name=description]",
    "head > meta[name=robots]",
    "head > link[rel=canonical]",
    "head > link[rel=alternate][type=\"text/markdown\"]",
    "head > meta[property^=\"og:\"]",
    "head > meta[name^=\"twitter:\"]",
];

/// Marks a piece of our page to lift out (a comment no template writes).
const MARK: &str = "<!--pp-shell-9c1e-->";

/// A loaded, checked shell page.
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    html: String,
    main: String,
}

impl Shell {
    /// Read the shell page and check that the selector is valid and matches in it. Problems are
    /// located at `shell.page` / `shell.main` of the config.
    pub(crate) fn load(root: &Path, cfg: &ShellConfig) -> Result<Shell, Box<Diagnostic>> {
        let at = |field: &str, message: String| {
            Box::new(at_field(
                root,
                Path::new(CONFIG_FILE),
                &["shell", field],
                message,
            ))
        };
        let path = root.join(&cfg.page);
        let bytes = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.len() <= MAX_SHELL_BYTES => std::fs::read(&path).ok(),
            Ok(m) if m.is_file() => {
                return Err(at(
                    "page",
                    format!(
                        "shell page `{}` is {} bytes, more than a page ({MAX_SHELL_BYTES})",
                        cfg.page,
                        m.len()
                    ),
                )
                .expected("an HTML page of the host site")
                .into())
            }
            _ => None,
        };
        let Some(bytes) = bytes else {
            return Err(at("page", format!("shell page `{}` does not exist", cfg.page))
                .expected("an HTML page the host site built, relative to the site root, e.g. `public/about/index.html`")
                .hint("build the host site first (e.g. `hugo`), then `partner-pages build`")
                .into());
        };
        let Ok(html) = String::from_utf8(bytes) else {
            return Err(
                at("page", format!("shell page `{}` is not UTF-8", cfg.page))
                    .expected("an HTML page in UTF-8, as site generators write them")
                    .into(),
            );
        };
        if let Err(e) = cfg.main.parse::<Selector>() {
            return Err(at("main", format!("`{}` is not a CSS selector: {e}", cfg.main))
                .expected("a CSS selector of the element that gets the partner content, e.g. `main` or `#content`")
                .into());
        }
        let hits = count(&html, &cfg.main);
        if hits == 0 {
            return Err(at(
                "main",
                format!("no element of the shell page `{}` matches `{}`", cfg.page, cfg.main),
            )
            .expected("a CSS selector of the element that gets the partner content, e.g. `main` or `#content`")
            .hint("open the page and pick the element around the host's page content")
            .into());
        }
        Ok(Shell {
            html,
            main: cfg.main.clone(),
        })
    }

    /// Our rendered page inside the shell.
    pub(crate) fn wrap(&self, page: &str) -> Result<String, String> {
        let ours = Lifted::from(page)?;
        let done = Cell::new(false);
        let head_done = Cell::new(false);
        let body_done = Cell::new(false);
        let mut handlers = Vec::new();
        // The host's own copy of the beacon (`pp-beacon.js`, for its pages): ours replaces it,
        // or every click would be counted twice.
        let host_beacon = format!(
            "script[src$=\"/{}\"]",
            crate::render::beacon::HOST_SCRIPT_PATH
        );
        for sel in PAGE_HEAD.iter().copied().chain([host_beacon.as_str()]) {
            handlers.push(element!(sel, |el| {
                el.remove();
                Ok(())
            }));
        }
        handlers.push(element!("head", |el| {
            if !head_done.replace(true) {
                el.append(&ours.head, ContentType::Html);
            }
            Ok(())
        }));
        handlers.push(element!(&self.main, |el| {
            if !done.replace(true) {
                el.set_inner_content(&ours.main, ContentType::Html);
            }
            Ok(())
        }));
        handlers.push(element!("body", |el| {
            if !body_done.replace(true) {
                el.append(&ours.scripts, ContentType::Html);
            }
            Ok(())
        }));
        let out = rewrite_str(
            &self.html,
            RewriteStrSettings {
                element_content_handlers: handlers,
                ..RewriteStrSettings::new()
            },
        )
        .map_err(|e| format!("cannot put the page into the shell: {e}"));
        out
    }
}

/// How many elements of `html` match `selector` (already checked to parse).
fn count(html: &str, selector: &str) -> usize {
    let n = Cell::new(0usize);
    let _ = rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: vec![element!(selector, |_el| {
                n.set(n.get() + 1);
                Ok(())
            })],
            ..RewriteStrSettings::new()
        },
    );
    n.get()
}

/// What our rendered page gives the shell.
struct Lifted {
    /// Title, description, robots, canonical, Open Graph, Markdown alternate: HTML.
    head: String,
    /// The inside of our `<main>` (or `<body>` for a template without one).
    main: String,
    /// The scripts at the end of our `<body>` (the beacon).
    scripts: String,
}

impl Lifted {
    fn from(page: &str) -> Result<Lifted, String> {
        let head = pieces(page, &PAGE_HEAD, false)?;
        let mut main = pieces(page, &["main"], true)?;
        if main.is_empty() {
            main = pieces(page, &["body"], true)?;
        }
        let scripts = pieces(page, &["body > script"], false)?;
        Ok(Lifted {
            head,
            main,
            scripts,
        })
    }
}

/// The elements of `page` matching `selectors` (or only their content when `inner`), first
/// match only for `inner`, joined in document order.
fn pieces(page: &str, selectors: &[&str], inner: bool) -> Result<String, String> {
    let first = RefCell::new(false);
    let handlers = selectors
        .iter()
        .map(|sel| {
            element!(sel, |el| {
                if inner {
                    if first.replace(true) {
                        return Ok(());
                    }
                    el.prepend(MARK, ContentType::Html);
                    el.append(MARK, ContentType::Html);
                } else {
                    el.before(MARK, ContentType::Html);
                    el.after(MARK, ContentType::Html);
                }
                Ok(())
            })
        })
        .collect();
    let marked = rewrite_str(
        page,
        RewriteStrSettings {
            element_content_handlers: handlers,
            ..RewriteStrSettings::new()
        },
    )
    .map_err(|e| format!("cannot read the rendered page: {e}"))?;
    // Marks come in pairs: keep what is between the 1st and 2nd, 3rd and 4th, ...
    let mut out = String::new();
    for (i, part) in marked.split(MARK).enumerate() {
        if i % 2 == 1 {
            out.push_str(part.trim());
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
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

    fn shell(main: &str) -> Shell {
        Shell {
            html: HOST.into(),
            main: main.into(),
        }
    }

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
        let s = Shell {
            html: "<html><head></head><body><div class=\"c\">a</div><div class=\"c\">b</div></body></html>"
                .into(),
            main: ".c".into(),
        };
        let out = s.wrap(OURS).unwrap();
        assert!(out.contains("<div class=\"c\"><h1>Offer</h1>"), "{out}");
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
        };
        let d = Shell::load(root, &cfg).unwrap_err();
        assert_eq!(d.location(), "partner-pages.yaml:5:9");
        assert!(d.message.contains("does not exist"), "{}", d.message);
        std::fs::create_dir_all(root.join("public/about")).unwrap();
        std::fs::write(root.join("public/about/index.html"), HOST).unwrap();
        let d = Shell::load(root, &cfg).unwrap_err();
        assert_eq!(d.location(), "partner-pages.yaml:6:9");
        assert!(d.message.contains("matches `#content`"), "{}", d.message);
        let bad = ShellConfig {
            main: "main[".into(),
            ..cfg.clone()
        };
        let d = Shell::load(root, &bad).unwrap_err();
        assert!(d.message.contains("is not a CSS selector"), "{}", d.message);
        let good = ShellConfig {
            main: "main".into(),
            ..cfg
        };
        assert!(Shell::load(root, &good).is_ok());
    }
}
