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
//! and the host's policy. A shell page that leaves out `<head>`/`<body>` (minified) works; one
//! with a `<base>` or a policy that would block the beacon is refused, located in the page.
//! Kits never go into the shell (see `Pages::kit`).

use crate::config::{ShellConfig, CONFIG_FILE};
use crate::diagnostics::Diagnostic;
use crate::load::at_field;
use lol_html::html_content::ContentType;
use lol_html::{element, end, rewrite_str, RewriteStrSettings, Selector};
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;

/// Largest shell page read (a page, not a data dump).
const MAX_SHELL_BYTES: u64 = 8 * 1024 * 1024;

/// Head elements of the host page that describe the host page: replaced by ours. Each is
/// taken under the page's `<head>`, or under `<html>` when the page leaves out the optional
/// `<head>` tag (as minifiers do).
const PAGE_HEAD: [&str; 7] = [
    "title",
    "meta[name=description]",
    "meta[name=robots]",
    "link[rel=canonical]",
    "link[rel=alternate][type=\"text/markdown\"]",
    "meta[property^=\"og:\"]",
    "meta[name^=\"twitter:\"]",
];

/// Marks a piece of our page to lift out (a comment no template writes).
const MARK: &str = "<!--pp-shell-9c1e-->";

/// What the partner pages need from the shell page's own Content-Security-Policy.
pub(crate) struct Needs<'a> {
    /// CSP source of the inline beacon, `'sha256-...'`.
    pub script_hash: &'a str,
    /// Where the beacon sends events (`collector.endpoint`): a path or an absolute URL.
    pub endpoint: &'a str,
    /// `https://host[:port]` of the site.
    pub origin: &'a str,
    /// Root-relative URL of our stylesheet for the partner content (`pp-shell.css`).
    pub stylesheet: &'a str,
}

/// What belongs to the shell page and not to the site, dropped from every partner page:
/// structured data, language alternates, pagination and article metadata. Under the head's
/// element (see [`PAGE_HEAD`]) except structured data, dropped wherever it is.
const PAGE_ONLY: [&str; 6] = [
    "link[rel=alternate][hreflang]",
    "link[rel=prev]",
    "link[rel=next]",
    "meta[property^=\"article:\"]",
    "meta[name=keywords]",
    "meta[itemprop]",
];

/// Class attribute of the element all partner content is put in: the root of our stylesheet.
pub(crate) const ROOT_CLASS: &str = "pp-partner";

/// A loaded, checked shell page.
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    html: String,
    main: String,
    /// The element holding the head elements: `head`, or `html` for a page without `<head>`.
    scope: &'static str,
    /// The page has a `<body>` tag (without one, our scripts go at the end of the document).
    body: bool,
    /// The page declares its encoding in a `<meta charset>` under `scope`: ours go after it.
    charset: bool,
    /// Selectors of the elements marking the shell page as current, with the classes each names.
    current: Vec<(String, Vec<String>)>,
    /// `<link>` of our stylesheet, put into the head with our head elements.
    stylesheet: String,
}

impl Shell {
    /// Read the shell page and check that the selector is valid and matches in it, that it has
    /// somewhere to put our head, no `<base>` and no Content-Security-Policy that would block the
    /// beacon. Problems are located at `shell.page` / `shell.main` of the config, or in the
    /// shell page itself.
    pub(crate) fn load(
        root: &Path,
        cfg: &ShellConfig,
        needs: &Needs,
    ) -> Result<Shell, Box<Diagnostic>> {
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
        for (field, value) in [("accent", &cfg.accent), ("accent_text", &cfg.accent_text)] {
            if let Some(v) = value.as_deref().filter(|v| !is_css_colour(v)) {
                return Err(at(field, format!("`{v}` is not a CSS colour"))
                    .expected(
                        "a CSS colour: `\"#0b6e4f\"`, `rgb(11 110 79)`, `teal`, `var(--accent)`",
                    )
                    .into());
            }
        }
        let selectors: Vec<String> = match &cfg.current {
            Some(list) => list.clone(),
            None => crate::config::DEFAULT_CURRENT
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let mut current = Vec::new();
        for sel in selectors {
            if let Err(e) = sel.parse::<Selector>() {
                return Err(at("current", format!("`{sel}` is not a CSS selector: {e}"))
                    .expected("CSS selectors of the elements that mark the current page, e.g. `.active` or `nav a[aria-current]`")
                    .into());
            }
            let classes = class_names(&sel);
            current.push((sel, classes));
        }
        let Some((scope, body, charset)) = layout(&html) else {
            return Err(at(
                "page",
                format!("shell page `{}` has neither an `<html>` nor a `<head>` tag", cfg.page),
            )
            .expected("a whole HTML page, with `<html>` or `<head>`, so the partner pages' title, canonical link, robots tag and beacon have a place")
            .hint("pick a page the host generator writes from its base layout, or keep `<html>` when minifying")
            .into());
        };
        let in_page = |needle: &str, nth: usize, message: String| {
            let (line, column) = locate(&html, needle, nth);
            Box::new(Diagnostic::new(&cfg.page, line, column, message).with_source(&html))
        };
        if count(&html, "base") > 0 {
            return Err(in_page(
                "<base",
                0,
                format!("shell page `{}` has a `<base>` element", cfg.page),
            )
            .expected("a shell page without `<base>`: it would send the partner pages' links and the beacon's events wherever it points")
            .hint("remove `<base>` from the host layout of this page, or pick as `shell.page` a page without one")
            .into());
        }
        for (nth, policy) in policies(&html).iter().enumerate() {
            if let Some((message, hint)) = csp_problem(policy, needs) {
                return Err(in_page(
                    "content-security-policy",
                    nth,
                    format!(
                        "the Content-Security-Policy of shell page `{}` {message}",
                        cfg.page
                    ),
                )
                .expected("a shell page policy that lets the partner pages' beacon run and report and their stylesheet load")
                .hint(hint)
                .into());
            }
        }
        Ok(Shell {
            body,
            html,
            main: cfg.main.clone(),
            scope,
            charset,
            current,
            stylesheet: format!(
                "<link rel=\"stylesheet\" href=\"{}\">\n",
                needs
                    .stylesheet
                    .replace('&', "&amp;")
                    .replace('"', "&quot;")
                    .replace('<', "&lt;")
            ),
        })
    }

    /// Our rendered page inside the shell.
    pub(crate) fn wrap(&self, page: &str) -> Result<String, String> {
        let mut ours = Lifted::from(page)?;
        ours.head.push_str(&self.stylesheet);
        let main = format!("<div class=\"{ROOT_CLASS}\">\n{}</div>\n", ours.main);
        let done = Cell::new(false);
        let head_done = Cell::new(false);
        let body_done = Rc::new(Cell::new(false));
        let mut handlers = Vec::new();
        // The host's own copy of the beacon (`pp-beacon.js`, for its pages): ours replaces it,
        // or every click would be counted twice.
        let host_beacon = format!(
            "script[src$=\"/{}\"]",
            crate::render::beacon::HOST_SCRIPT_PATH
        );
        let page_head: Vec<String> = PAGE_HEAD
            .iter()
            .map(|sel| format!("{} > {sel}", self.scope))
            .chain(
                PAGE_ONLY
                    .iter()
                    .map(|sel| format!("{} > {sel}", self.scope)),
            )
            .chain([
                host_beacon,
                "script[type=\"application/ld+json\"]".to_string(),
            ])
            .collect();
        for sel in &page_head {
            handlers.push(element!(sel, |el| {
                el.remove();
                Ok(())
            }));
        }
        // Our head goes right after the page's `<meta charset>` (which must stay in the first
        // 1024 bytes), else first in `<head>` (or `<html>`): both work when the page leaves
        // out its end tags.
        let charset = format!("{} > meta[charset]", self.scope);
        if self.charset {
            handlers.push(element!(&charset, |el| {
                if !head_done.replace(true) {
                    el.after(&ours.head, ContentType::Html);
                }
                Ok(())
            }));
        } else {
            handlers.push(element!(self.scope, |el| {
                if !head_done.replace(true) {
                    el.prepend(&ours.head, ContentType::Html);
                }
                Ok(())
            }));
        }
        for (sel, classes) in &self.current {
            handlers.push(element!(sel, move |el| {
                el.remove_attribute("aria-current");
                if let Some(class) = el.get_attribute("class") {
                    let kept: Vec<&str> = class
                        .split_ascii_whitespace()
                        .filter(|c| !classes.iter().any(|x| x == c))
                        .collect();
                    if kept.is_empty() {
                        el.remove_attribute("class");
                    } else {
                        el.set_attribute("class", &kept.join(" "))
                            .map_err(|e| e.to_string())?;
                    }
                }
                Ok(())
            }));
        }
        handlers.push(element!(&self.main, |el| {
            if !done.replace(true) {
                el.set_inner_content(&main, ContentType::Html);
            }
            Ok(())
        }));
        // Our scripts go before `</body>`; without a `</body>` (or `<body>`) tag, at the end
        // of the document, which browsers put in the body too.
        if self.body {
            handlers.push(element!("body", |el| {
                if let Some(handlers) = el.end_tag_handlers() {
                    let scripts = ours.scripts.clone();
                    let placed = Rc::clone(&body_done);
                    let before_end: lol_html::EndTagHandler<'static> = Box::new(move |end| {
                        if !placed.replace(true) {
                            end.before(&scripts, ContentType::Html);
                        }
                        Ok(())
                    });
                    handlers.push(before_end);
                }
                Ok(())
            }));
        }
        let out = rewrite_str(
            &self.html,
            RewriteStrSettings {
                element_content_handlers: handlers,
                document_content_handlers: vec![end!(|end| {
                    if !body_done.replace(true) {
                        end.append(&ours.scripts, ContentType::Html);
                    }
                    Ok(())
                })],
                ..RewriteStrSettings::new()
            },
        )
        .map_err(|e| format!("cannot put the page into the shell: {e}"));
        out
    }
}

/// The class names a selector names (`nav a.active.x` -> `active`, `x`).
fn class_names(selector: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = selector;
    while let Some(i) = rest.find('.') {
        rest = &rest[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push(rest[..end].to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// A CSS colour value safe to put in a stylesheet: a hex colour, a name, or a function of
/// numbers and names (`rgb(...)`, `hsl(...)`, `var(--x)`); nothing that could end a declaration.
fn is_css_colour(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty()
        && v.len() <= 80
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || " #(),.%/+-".contains(c))
        && !v.contains("/*")
        && v.matches('(').count() == v.matches(')').count()
}

/// Where the head elements of a page are (`head`, or `html` when the page leaves out `<head>`),
/// whether it has a `<body>` tag and a `<meta charset>`; `None` for a page with neither
/// `<html>` nor `<head>`.
fn layout(html: &str) -> Option<(&'static str, bool, bool)> {
    let scope = if count(html, "head") > 0 {
        "head"
    } else if count(html, "html") > 0 {
        "html"
    } else {
        return None;
    };
    let charset = count(html, &format!("{scope} > meta[charset]")) > 0;
    Some((scope, count(html, "body") > 0, charset))
}

/// The Content-Security-Policies the page sets in `<meta http-equiv>`, in document order.
fn policies(html: &str) -> Vec<String> {
    let found = RefCell::new(Vec::new());
    let _ = rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: vec![element!("meta[http-equiv]", |el| {
                let equiv = el.get_attribute("http-equiv").unwrap_or_default();
                if equiv.trim().eq_ignore_ascii_case("content-security-policy") {
                    found
                        .borrow_mut()
                        .push(el.get_attribute("content").unwrap_or_default());
                }
                Ok(())
            })],
            ..RewriteStrSettings::new()
        },
    );
    found.into_inner()
}

/// The sources of the first directive of `policy` named one of `names` (in that order of
/// fallback, e.g. `script-src-elem`, `script-src`, `default-src`); `None`: nothing restricts.
fn directive<'p>(policy: &'p str, names: &[&str]) -> Option<(String, Vec<&'p str>)> {
    names.iter().find_map(|name| {
        policy.split(';').find_map(|d| {
            let mut words = d.split_ascii_whitespace();
            words
                .next()
                .filter(|n| n.eq_ignore_ascii_case(name))
                .map(|n| (n.to_ascii_lowercase(), words.collect()))
        })
    })
}

/// Why `policy` would stop the beacon (message, hint), or `None` when it lets it run and send.
fn csp_problem(policy: &str, needs: &Needs) -> Option<(String, String)> {
    let keyword = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
    if let Some((name, sources)) =
        directive(policy, &["script-src-elem", "script-src", "default-src"])
    {
        let hashed = sources.contains(&needs.script_hash);
        let pinned = sources.iter().any(|w| {
            let w = w.to_ascii_lowercase();
            ["'nonce-", "'sha256-", "'sha384-", "'sha512-"]
                .iter()
                .any(|p| w.starts_with(p))
                || w == "'strict-dynamic'"
        });
        let inline = sources.iter().any(|w| keyword(w, "'unsafe-inline'")) && !pinned;
        if !hashed && !inline {
            return Some((
                format!(
                    "blocks the partner pages' beacon, an inline script (`{name} {}`): no visit or click would be counted",
                    sources.join(" ")
                ),
                format!(
                    "add {} to `{name}` of that policy (the build tells you if the beacon changes), or remove the policy's `<meta http-equiv>` from the shell page",
                    needs.script_hash
                ),
            ));
        }
    }
    if let Some((name, sources)) =
        directive(policy, &["style-src-elem", "style-src", "default-src"])
    {
        // Our stylesheet is a file of the site's own origin, under the base path.
        let (scheme, host) = needs
            .origin
            .split_once("://")
            .unwrap_or(("https", needs.origin));
        let path = needs.stylesheet;
        if !sources
            .iter()
            .any(|w| source_allows(w, scheme, host, true) && source_path_allows(w, path))
        {
            return Some((
                format!(
                    "blocks the partner pages' stylesheet `{path}` (`{name} {}`): the partner content would lose its layout",
                    sources.join(" ")
                ),
                format!(
                    "add 'self' to `{name}` of that policy, or remove the policy's `<meta http-equiv>` from the shell page"
                ),
            ));
        }
    }
    if let Some((name, sources)) = directive(policy, &["connect-src", "default-src"]) {
        let (scheme, host) = match needs.endpoint.split_once("://") {
            Some((scheme, rest)) => (scheme, rest.split('/').next().unwrap_or(rest)),
            None => match needs.origin.split_once("://") {
                Some((scheme, host)) => (scheme, host),
                None => ("https", needs.origin),
            },
        };
        let same = needs
            .origin
            .split_once("://")
            .is_some_and(|(s, h)| s.eq_ignore_ascii_case(scheme) && h.eq_ignore_ascii_case(host));
        if !sources.iter().any(|w| source_allows(w, scheme, host, same)) {
            let wanted = if same {
                "'self'".to_string()
            } else {
                format!("{scheme}://{host}")
            };
            return Some((
                format!(
                    "blocks the beacon's requests to `{}` (`{name} {}`): no visit or click would be counted",
                    needs.endpoint,
                    sources.join(" ")
                ),
                format!(
                    "add {wanted} to `{name}` of that policy, or remove the policy's `<meta http-equiv>` from the shell page"
                ),
            ));
        }
    }
    None
}

/// Whether the path part of one CSP source expression (`https://h.example/partners/`) allows
/// `path`: a path ending in `/` is a prefix, another one the exact path; none allows any.
fn source_path_allows(source: &str, path: &str) -> bool {
    let rest = source.split_once("://").map_or(source, |(_, r)| r);
    if source.starts_with('\'') || (source.ends_with(':') && !source.contains('/')) {
        return true;
    }
    match rest.find('/') {
        None => true,
        Some(i) => {
            let want = &rest[i..];
            if want.ends_with('/') {
                path.starts_with(want)
            } else {
                path == want
            }
        }
    }
}

/// Whether one CSP source expression allows a request to `scheme://host` (`same`: the page's
/// own origin).
fn source_allows(source: &str, scheme: &str, host: &str, same: bool) -> bool {
    let s = source.to_ascii_lowercase();
    let scheme = scheme.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let scheme_ok = |want: &str| want == scheme || (want == "http" && scheme == "https");
    match s.as_str() {
        "'self'" => same,
        "*" => scheme == "http" || scheme == "https",
        _ if s.starts_with('\'') => false,
        _ if s.ends_with(':') && !s.contains('/') => scheme_ok(s.trim_end_matches(':')),
        _ => {
            let (want_scheme, rest) = match s.split_once("://") {
                Some((w, r)) => (Some(w), r),
                None => (None, s.as_str()),
            };
            if want_scheme.is_some_and(|w| !scheme_ok(w)) {
                return false;
            }
            let want = rest.split('/').next().unwrap_or(rest);
            let (want_host, want_port) = match want.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (want, None),
            };
            let (got_host, got_port) = match host.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host.as_str(), None),
            };
            let port_ok = match want_port {
                Some("*") => true,
                Some(p) => got_port.unwrap_or(if scheme == "http" { "80" } else { "443" }) == p,
                None => got_port.is_none(),
            };
            let host_ok = match want_host.strip_prefix("*.") {
                Some(suffix) => got_host.ends_with(&format!(".{suffix}")),
                None => got_host == want_host,
            };
            port_ok && host_ok
        }
    }
}

/// 1-based line and column of the `nth` (0-based) case-insensitive occurrence of `needle`
/// (ASCII) in `text`; (0, 0) when it is not there.
fn locate(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let lower = text.to_ascii_lowercase();
    let Some(at) = lower.match_indices(needle).nth(nth).map(|(i, _)| i) else {
        return (0, 0);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or(before).chars().count() + 1;
    (line, column)
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
mod tests;
