//! Render stage, agents: llms.txt, the `.md` mirror of every page, llms-full.txt, partners.json,
//! and the merge of our section into a host site's llms.txt (plugin mode).
//!
//! Takes: the loaded [`Site`]. Gives: files for `public/` ([`render`]) and, in plugin mode, the
//! new bytes of the host's llms.txt ([`merge::prepare`]). Everything here is built from the
//! partner and content data, never by converting HTML, and never contains a tracked `/go/` link:
//! agents get canonical URLs.
//!
//! What is listed where:
//! - llms.txt: partners and published content, minus drafts, `noindex` and `llms: false`;
//! - a `.md` mirror beside every HTML page except the partner kit (its content is tracked links);
//! - partners.json: every partner whose page is indexable.

pub(crate) use crate::escape;
mod markdown;
pub mod merge;
mod mirror;
pub mod registry;
mod txt;

pub use merge::{HostUpdate, MARKER_END, MARKER_START};
pub use txt::{Item, Section, GUIDES, OPTIONAL, PARTNER_OFFERS};

use crate::config::Config;
use crate::output::OutputFile;
use crate::site::Site;

/// `public/llms.txt`.
pub const LLMS_TXT: &str = "llms.txt";
/// `public/llms-full.txt` (with `llms.full: true`).
pub const LLMS_FULL_TXT: &str = "llms-full.txt";
/// `public/partners.json`.
pub const PARTNERS_JSON: &str = "partners.json";

/// Files for agents, relative to `public/`, sorted by path.
///
/// In plugin mode (`llms.merge` set) there is no `llms.txt` of our own: our sections go into the
/// host's file through [`merge::prepare`].
pub fn render(site: &Site) -> crate::Result<Vec<OutputFile>> {
    let mut files = Vec::new();
    render_each(site, &mut |f| {
        files.push(f);
        Ok(())
    })?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// [`render`], handing each file to `put` as soon as it is made (unsorted), so the mirrors of a
/// large site do not sit in memory next to llms-full.txt.
pub fn render_each(
    site: &Site,
    put: &mut dyn FnMut(OutputFile) -> crate::Result<()>,
) -> crate::Result<()> {
    if site.config.llms.merge.is_none() {
        put(OutputFile::new(LLMS_TXT, txt::llms_txt(site)))?;
    }
    let pages = mirror::pages(site);
    if site.config.llms.full {
        put(OutputFile::new(
            LLMS_FULL_TXT,
            mirror::llms_full(site, &pages),
        ))?;
    }
    for page in pages {
        put(OutputFile::new(
            output_path(&markdown_path(&page.site_path)),
            page.markdown(),
        ))?;
    }
    put(OutputFile::new(
        PARTNERS_JSON,
        registry::partners_json(site)?,
    ))
}

/// The site path of a page's Markdown mirror: the page URL plus `.md`, and for a URL without a
/// file name, `index.html.md`. `/p/seo-consultant/` -> `/p/seo-consultant/index.html.md`,
/// `/` -> `/index.html.md`, `/about.html` -> `/about.html.md`.
///
/// Pages advertise their mirror with `<link rel="alternate" type="text/markdown">` at
/// `config.site_url(&markdown_path(page_path))`.
pub fn markdown_path(site_path: &str) -> String {
    if site_path.is_empty() || site_path.ends_with('/') {
        format!("{site_path}index.html.md")
    } else {
        format!("{site_path}.md")
    }
}

/// The YAML name of a CTA kind (`demo`, `newsletter`, `tutorial`, `download`).
fn cta_kind_name(kind: crate::partner::CtaKind) -> &'static str {
    use crate::partner::CtaKind;
    match kind {
        CtaKind::Demo => "demo",
        CtaKind::Newsletter => "newsletter",
        CtaKind::Tutorial => "tutorial",
        CtaKind::Download => "download",
    }
}

/// A site path (`/p/x/index.html.md`) as a path relative to `public/`.
fn output_path(site_path: &str) -> String {
    site_path.trim_start_matches('/').to_string()
}

/// The canonical absolute URL of a link written in YAML or front matter: a host path
/// (`/demo`, `/downloads/x.pdf`) is resolved against the origin of `base_url` by the one rule
/// of [`Config::link_url`]; an absolute URL is kept; a tracked `<base path>/go/<code>` link
/// becomes the landing page it redirects to.
pub fn canonical_url(config: &Config, url: &str) -> String {
    let absolute = config.link_url(url.trim());
    untracked(config, &absolute).unwrap_or(absolute)
}

/// For `<base_url>/go/<code>[?query]`, the canonical landing URL of `<code>`.
fn untracked(config: &Config, absolute: &str) -> Option<String> {
    let tracked_prefix = config.absolute_url("/go/");
    let rest = absolute.strip_prefix(&tracked_prefix)?;
    let code = rest.split(['?', '#', '/']).next().unwrap_or_default();
    Some(config.absolute_url(&format!("/p/{code}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn example_site() -> Site {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aikit"));
        crate::site::load(root, &crate::site::LoadOptions::default())
            .expect("the example site loads")
    }

    #[test]
    fn cta_kind_names_are_the_yaml_names() {
        use crate::partner::CtaKind;
        for kind in [
            CtaKind::Demo,
            CtaKind::Newsletter,
            CtaKind::Tutorial,
            CtaKind::Download,
        ] {
            assert_eq!(serde_json::json!(kind), cta_kind_name(kind));
        }
    }

    #[test]
    fn mirror_of_a_directory_url_is_index_html_md() {
        assert_eq!(
            markdown_path("/p/seo-consultant/"),
            "/p/seo-consultant/index.html.md"
        );
        assert_eq!(markdown_path("/"), "/index.html.md");
        assert_eq!(markdown_path("/about.html"), "/about.html.md");
    }

    #[test]
    fn canonical_urls_are_absolute_base_path_aware_and_untracked() {
        let mut site = example_site();
        site.config.base_url = "https://host.example/partners".into();
        let c = &site.config;
        // Host paths are paths of the host site: no base path.
        assert_eq!(canonical_url(c, "/demo"), "https://host.example/demo");
        assert_eq!(
            canonical_url(c, "/partners/llms-txt-guide/"),
            "https://host.example/partners/llms-txt-guide/"
        );
        assert_eq!(
            canonical_url(c, "https://other.example/x"),
            "https://other.example/x"
        );
        assert_eq!(
            canonical_url(c, "/partners/go/seo-consultant?campaign=webinar-dec"),
            "https://host.example/partners/p/seo-consultant/"
        );
    }

    #[test]
    fn every_file_is_listed_once_in_path_order() {
        let site = example_site();
        let files = render(&site).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(paths, sorted);
        for expected in [
            "index.html.md",
            "llms-full.txt",
            "llms.txt",
            "p/seo-consultant/index.html.md",
            "partners.json",
            "migration-playbook/index.html.md",
        ] {
            assert!(paths.contains(&expected), "{expected} missing in {paths:?}");
        }
        assert!(
            !paths.iter().any(|p| p.contains("kit")),
            "the kit has no mirror"
        );
        assert!(
            !paths.contains(&"seo-checklist/index.html.md"),
            "sections are not pages"
        );
    }

    #[test]
    fn plugin_mode_writes_no_llms_txt_of_its_own() {
        let mut site = example_site();
        site.config.llms.merge = Some("host/llms.txt".into());
        let files = render(&site).unwrap();
        assert!(files.iter().all(|f| f.path != LLMS_TXT));
        assert!(files.iter().any(|f| f.path == PARTNERS_JSON));
    }

    #[test]
    fn no_agent_file_contains_a_tracked_link() {
        let site = example_site();
        let tracked = site.config.absolute_url("/go/");
        for f in render(&site).unwrap() {
            let text = String::from_utf8(f.bytes).unwrap();
            assert!(!text.contains(&tracked), "{} has a tracked link", f.path);
        }
    }
}
