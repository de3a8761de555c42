//! Link check: every internal link a partner file gives its pages resolves to a file of the
//! host output or of the partner output.
//!
//! Takes: the loaded site, the paths the build rendered (relative to the partner output) and,
//! in plugin mode, the host's output folder. Gives: one diagnostic per missing target, located
//! at the YAML field that produced the link (file:line:column). External URLs are not fetched.
//!
//! The one rule for paths (see [`crate::config::Config::link_href`]): a root-relative link is a
//! path of the host site. Under the base path it is a partner page (checked against what the
//! build rendered, so a stale file of an older build does not count); anywhere else it is a
//! host page, checked against the host output when there is one. Without a base path the
//! partner output is the site root and is checked first. A host served under a sub-path
//! (`host.base_path: /blog`) has its output at that path: `/blog/about/` is the file
//! `about/index.html` of the host output, and a path outside `/blog` is no page of it.

use crate::config::{in_host, under};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::load::at_field;
use crate::partner::Partner;
use crate::site::Site;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Where link targets can be.
pub(crate) struct Targets<'a> {
    /// Paths the build rendered, relative to the partner output (`p/x/index.html`).
    pub rendered: HashSet<&'a str>,
    /// The host site's output folder, served at `/` (plugin mode).
    pub host: Option<PathBuf>,
    /// The partner output folder (skipped inside the host output: its files are `rendered`).
    pub out: PathBuf,
}

/// The link fields of a partner file: (YAML path, value).
fn links(p: &Partner) -> Vec<([&'static str; 3], &str)> {
    let mut out = vec![
        (["lead_magnet", "url", ""], p.lead_magnet.url.as_str()),
        (["cta", "url", ""], p.cta.url.as_str()),
    ];
    if let Some(page) = &p.activation.trigger.page {
        out.push((["activation", "trigger", "page"], page.as_str()));
    }
    out
}

/// Check every partner's links; problems sorted by file and position.
pub(crate) fn check(site: &Site, targets: &Targets) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for p in &site.partners {
        for (field, url) in links(p) {
            let field: Vec<&str> = field.into_iter().filter(|f| !f.is_empty()).collect();
            if let Some(mut d) = check_one(site, targets, p, &field, url) {
                // A close page of ours is the likely fix of a typo.
                let base = site.config.base_path();
                let mut pages: Vec<String> = targets
                    .rendered
                    .iter()
                    .filter_map(|f| f.strip_suffix("index.html"))
                    .map(|dir| format!("{base}/{dir}"))
                    .collect();
                if let Some(host) = &targets.host {
                    let host_base = site.config.host_base_path();
                    pages.extend(
                        host_pages(host, &targets.out)
                            .into_iter()
                            .map(|p| format!("{host_base}{p}")),
                    );
                }
                let path = url.split(['?', '#']).next().unwrap_or(url);
                if let Some(m) =
                    crate::load::shape::did_you_mean(path, pages.iter().map(String::as_str))
                {
                    d.hint = Some(format!("did you mean `{m}`?"));
                }
                diags.push(d);
            }
        }
    }
    diags.sort();
    diags
}

fn check_one(
    site: &Site,
    targets: &Targets,
    p: &Partner,
    field: &[&str],
    url: &str,
) -> Option<Diagnostic> {
    // Only root-relative links are ours to check; absolute URLs are not fetched.
    if !url.starts_with('/') || url.starts_with("//") {
        return None;
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = percent_decode(path);
    let config = &site.config;
    let base = config.base_path();
    // The host output is served under this path (`host.base_path`; "" at the root).
    let host_base = config.host_base_path();
    let under_base = !base.is_empty() && under(&path, base);
    let in_host_site = under(&path, host_base);
    let found = if under_base {
        let local = &path[base.len()..];
        is_route(site, local) || in_rendered(targets, local)
    } else if base.is_empty() {
        is_route(site, &path)
            || in_rendered(targets, &path)
            || targets
                .host
                .as_deref()
                .is_some_and(|h| on_disk(h, &targets.out, &path))
    } else {
        match targets.host.as_deref() {
            // Outside the host's base path: no page of the host output is served there.
            Some(_) if !in_host_site => false,
            Some(h) => on_disk(h, &targets.out, in_host(&path, host_base)),
            // No host output to look in: host paths cannot be checked.
            None => true,
        }
    };
    if found {
        return None;
    }
    let name = field.join(".");
    let mut d = at_field(
        &site.root,
        &p.source,
        field,
        format!("`{name}` links to `{url}`, which is not a page of the site"),
    )
    .expected(match (&targets.host, under_base) {
        (Some(_), false) => "a path of a page the host site built, or an absolute URL",
        _ => "a path of a page partner-pages built, or an absolute URL",
    });
    let hint = if !under_base && !in_host_site && targets.host.is_some() {
        format!(
            "the host site is served under `{host_base}` (`host.base_path`): `{host_base}{path}`; a page outside it needs an absolute URL"
        )
    } else if under_base || targets.host.is_none() {
        format!(
            "partner pages are under `{}`: `{}/p/<code>/`, content pages `{}/<name>/`",
            if base.is_empty() { "/" } else { base },
            base,
            base
        )
    } else {
        format!(
            "links starting with `/` are paths from the origin's root; a partner page needs the base path: `{base}{}`",
            in_host(&path, host_base)
        )
    };
    d = d.hint(hint);
    Some(d)
}

/// Page URLs of the host output (folders with an `index.html`, other files as they are), for
/// suggestions on the error path only; bounded.
fn host_pages(host: &Path, out: &Path) -> Vec<String> {
    walkdir::WalkDir::new(host)
        .into_iter()
        .filter_entry(|e| e.path() != out)
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .take(100_000)
        .filter_map(|e| {
            let rel = e
                .path()
                .strip_prefix(host)
                .ok()?
                .to_str()?
                .replace('\\', "/");
            Some(match rel.strip_suffix("index.html") {
                Some(dir) => format!("/{dir}"),
                None => format!("/{rel}"),
            })
        })
        .collect()
}

/// The collector's routes are link targets too: `/go/<code>` of a partner of this site.
fn is_route(site: &Site, local: &str) -> bool {
    local
        .strip_prefix("/go/")
        .is_some_and(|code| site.partner(code.trim_end_matches('/')).is_some())
}

/// A local path (`/p/x/`) is a rendered file, a folder with an index, or a page without `.html`.
fn in_rendered(targets: &Targets, local: &str) -> bool {
    candidates(local)
        .iter()
        .any(|c| targets.rendered.contains(c.as_str()))
}

fn on_disk(host: &Path, out: &Path, path: &str) -> bool {
    candidates(path).iter().any(|c| {
        if c.split('/').any(|s| s == ".." || s == ".") {
            return false;
        }
        let full = host.join(c);
        // The partner output inside the host output holds files of older builds: skip it.
        !full.starts_with(out) && full.is_file()
    })
}

/// Files a server answers a path with: the file, `<path>/index.html`, `<path>.html`.
fn candidates(path: &str) -> Vec<String> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() {
        return vec!["index.html".into()];
    }
    if rel.ends_with('/') {
        return vec![format!("{rel}index.html")];
    }
    vec![
        rel.to_string(),
        format!("{rel}/index.html"),
        format!("{rel}.html"),
    ]
}

/// `%20` -> ` `; invalid escapes stay as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The host output folder of a partner output: the folder the base path is under, when the
/// output's last folders spell the base path (`site/public/partners` with `/partners` ->
/// `site/public`).
pub(crate) fn host_of(out: &Path, base_path: &str) -> Option<PathBuf> {
    let mut dir = out.to_path_buf();
    for seg in base_path.split('/').filter(|s| !s.is_empty()).rev() {
        if dir.file_name()? != seg {
            return None;
        }
        dir = dir.parent()?.to_path_buf();
    }
    (!base_path.is_empty()).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_what_servers_answer() {
        assert_eq!(candidates("/"), vec!["index.html"]);
        assert_eq!(candidates("/p/x/"), vec!["p/x/index.html"]);
        assert_eq!(
            candidates("/demo"),
            vec!["demo", "demo/index.html", "demo.html"]
        );
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("/a%20b/%zz%4"), "/a b/%zz%4");
    }

    #[test]
    fn the_host_output_is_above_the_base_path() {
        assert_eq!(
            host_of(Path::new("/s/public/partners"), "/partners"),
            Some(PathBuf::from("/s/public"))
        );
        assert_eq!(
            host_of(Path::new("/s/public/a/b"), "/a/b"),
            Some(PathBuf::from("/s/public"))
        );
        assert_eq!(host_of(Path::new("/s/public"), "/partners"), None);
        assert_eq!(host_of(Path::new("/s/public"), ""), None);
    }
}
