//! Render stage, agents: the clean Markdown mirror of every HTML page, and `llms-full.txt`.
//!
//! Takes: the site. Gives: one [`MirrorPage`] per generated HTML page (index, landing pages,
//! published content pages; not the partner kit) written from the data, with links made absolute
//! and tracked `/go/` links replaced by the canonical landing URL.

use super::{canonical_url, escape, markdown, txt};
use crate::config::Config;
use crate::content::ContentPage;
use crate::partner::Partner;
use crate::site::Site;

/// The Markdown of one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MirrorPage {
    /// Site path of the HTML page (`/p/seo-consultant/`).
    pub site_path: String,
    /// The `# ...` heading line, without the newline.
    pub h1: String,
    /// Everything after the H1 (starts with a blank line, ends with a newline).
    pub body: String,
}

impl MirrorPage {
    pub(super) fn markdown(&self) -> String {
        format!("{}\n{}", self.h1, self.body)
    }
}

/// Every page the build renders to HTML, except the partner kit (tracked links only).
pub(super) fn pages(site: &Site) -> Vec<MirrorPage> {
    let mut out = vec![index_page(site)];
    out.extend(site.partners.iter().map(|p| partner_page(site, p)));
    out.extend(
        site.content
            .iter()
            .filter(|c| c.is_published())
            .map(|c| content_page(&site.config, c)),
    );
    out
}

fn index_page(site: &Site) -> MirrorPage {
    let head = txt::head(site);
    let (h1, rest) = head.split_once('\n').unwrap_or((&head, ""));
    let mut body = rest.to_string();
    let listed: Vec<&Partner> = site.partners.iter().filter(|p| !p.noindex).collect();
    if !listed.is_empty() {
        body.push_str(&format!("\n## {}\n\n", txt::PARTNER_OFFERS));
        for p in listed {
            let item = txt::Item {
                url: site.config.absolute_url(&p.landing_path()),
                ..txt::partner_item(site, p)
            };
            body.push_str(&item.line());
            body.push('\n');
        }
    }
    let guides: Vec<&ContentPage> = site
        .content
        .iter()
        .filter(|c| c.is_published() && !c.front.noindex)
        .collect();
    if !guides.is_empty() {
        // Same heading and order as the HTML index.
        body.push_str("\n## Guides and resources\n\n");
        for c in guides {
            let item = txt::Item {
                title: c.front.title.clone(),
                url: site.config.absolute_url(&c.site_path()),
                notes: c.front.description.clone().unwrap_or_default(),
            };
            body.push_str(&item.line());
            body.push('\n');
        }
    }
    MirrorPage {
        site_path: "/".into(),
        h1: h1.to_string(),
        body,
    }
}

/// A landing page: headline, promise and audience, proof, the offer's facts with canonical
/// links, then the optional body section.
fn partner_page(site: &Site, p: &Partner) -> MirrorPage {
    let c = &site.config;
    let link = |label: &str, url: &str| {
        format!(
            "[{}]({})",
            escape::inline(label),
            escape::url(&canonical_url(c, url))
        )
    };
    let mut body = String::new();
    body.push_str(&format!("\n> {}\n", escape::inline(&p.promise)));
    body.push_str(&format!("\n{}\n\n", escape::block_start(&p.landing.proof)));
    body.push_str(&format!("- For: {}\n", escape::inline(&p.audience)));
    body.push_str(&format!("- Partner: {}\n", escape::inline(&p.name)));
    body.push_str(&format!(
        "- Free resource: {}\n",
        link(&p.lead_magnet.label, &p.lead_magnet.url)
    ));
    let kind = super::cta_kind_name(p.cta.kind);
    body.push_str(&format!(
        "- Next step: {} ({kind})\n",
        link(&p.cta.label, &p.cta.url)
    ));
    body.push_str(&format!(
        "- Activation: {} (event: {})\n",
        escape::inline(&p.activation.description),
        escape::inline(&p.activation.event)
    ));
    body.push_str(&format!(
        "- Page: <{}>\n",
        escape::url(&c.absolute_url(&p.landing_path()))
    ));
    if p.variants.len() > 1 {
        body.push_str(&format!(
            "- Note: a test is running on this page: visitors see one of {} versions; this is the original one.\n",
            p.variants.len()
        ));
    }
    if let Some(section) = p
        .landing
        .body
        .as_deref()
        .and_then(|b| site.content_by_source(b))
    {
        let md = markdown::clean(c, section.markdown.trim(), true);
        if !md.is_empty() {
            body.push('\n');
            body.push_str(&md);
            body.push('\n');
        }
    }
    MirrorPage {
        site_path: p.landing_path(),
        h1: format!("# {}", escape::inline(&p.landing.headline)),
        body,
    }
}

/// A content page: its Markdown without front matter. The title becomes the H1 unless the body
/// already opens with one.
fn content_page(config: &Config, page: &ContentPage) -> MirrorPage {
    let md = markdown::clean(config, page.markdown.trim(), false);
    let (h1, rest) = match md.split_once('\n') {
        Some((first, rest)) if is_h1(first) => (first.to_string(), rest.trim_start().to_string()),
        None if is_h1(&md) => (md.clone(), String::new()),
        _ => (format!("# {}", escape::inline(&page.front.title)), md),
    };
    let mut body = String::new();
    if let Some(d) = page.front.description.as_deref().map(escape::inline) {
        if !d.is_empty() {
            body.push_str(&format!("\n> {d}\n"));
        }
    }
    if !rest.is_empty() {
        body.push('\n');
        body.push_str(&rest);
        body.push('\n');
    }
    MirrorPage {
        site_path: page.site_path(),
        h1,
        body,
    }
}

fn is_h1(line: &str) -> bool {
    line == "#" || line.starts_with("# ")
}

/// `llms-full.txt`: the site head, then the mirror of every listed partner page (taken from
/// `pages`), each with a `Source:` line under its heading (the layout of the common doc-site
/// plugins).
pub(super) fn llms_full(site: &Site, pages: &[MirrorPage]) -> String {
    let by_path: std::collections::BTreeMap<&str, &MirrorPage> =
        pages.iter().map(|m| (m.site_path.as_str(), m)).collect();
    let mut out = txt::head(site);
    for p in site.partners.iter().filter(|p| txt::partner_listed(p)) {
        let path = p.landing_path();
        let Some(page) = by_path.get(path.as_str()) else {
            continue;
        };
        out.push_str("\n---\n\n");
        out.push_str(&page.h1);
        out.push_str(&format!(
            "\n\nSource: <{}>\n",
            escape::url(&site.config.absolute_url(&path))
        ));
        out.push_str(&page.body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::llms::tests::example_site;

    #[test]
    fn landing_mirror_has_facts_with_canonical_links_and_the_body() {
        let site = example_site();
        let p = site.partner("seo-consultant").unwrap();
        let md = partner_page(&site, p).markdown();
        assert!(md.starts_with("# Ship AI content your clients can trust\n\n> Content QA checklist\n\n40-point checklist used on 1,200 client audits\n\n- For: SEO consultants who audit AI-written content for their clients\n- Partner: SEO consultant network\n"), "{md}");
        assert!(md.contains("- Free resource: [Download the checklist](https://aikit.example/content-qa-checklist/)\n"));
        assert!(md.contains("- Next step: [Book a demo](https://aikit.example/demo) (demo)\n"));
        assert!(md.contains(
            "- Activation: Runs a first content audit in AIKit (event: runs_first_audit)\n"
        ));
        assert!(
            md.contains("\n## Content QA checklist\n"),
            "the body section follows, one level down"
        );
        assert_eq!(
            md.matches("# ").count() - md.matches("## ").count(),
            1,
            "one H1"
        );
        assert!(!md.contains("kind: section"), "front matter is stripped");
    }

    #[test]
    fn index_mirror_lists_offers_and_guides_with_canonical_urls() {
        let mut site = example_site();
        site.partners[0].noindex = true;
        // Independent of the example's descriptions.
        site.content
            .iter_mut()
            .for_each(|c| c.front.description = None);
        let md = index_page(&site).markdown();
        assert!(md.starts_with("# AIKit Partners\n\n> AIKit helps"));
        assert!(
            !md.contains("/p/ai-tools-directory/"),
            "noindex partners are not listed"
        );
        assert!(md.contains("\n## Partner offers\n\n- [Founder community](https://aikit.example/p/founder-community/): Promise: Cost reduction guide."));
        assert!(md.contains("\n## Guides and resources\n\n- [Content QA checklist (printable)](https://aikit.example/content-qa-checklist/)\n- [Cost reduction guide](https://aikit.example/cost-reduction-guide/)\n"));
        assert!(
            !md.contains("index.html.md"),
            "mirrors link to pages, as the HTML does"
        );
    }

    #[test]
    fn content_mirror_keeps_its_own_h1_or_gets_the_title() {
        let site = example_site();
        let guide = site
            .content
            .iter()
            .find(|c| c.slug == "migration-playbook")
            .unwrap();
        let page = content_page(&site.config, guide);
        assert_eq!(page.h1, "# Migration playbook");
        assert_eq!(page.markdown().matches("\n# ").count(), 0, "one H1 only");
        let mut untitled = guide.clone();
        untitled.markdown = "Just text.\n".into();
        untitled.front.description = None;
        assert_eq!(
            content_page(&site.config, &untitled).markdown(),
            "# Migration playbook\n\nJust text.\n"
        );
    }

    #[test]
    fn llms_full_has_every_listed_partner_with_its_source() {
        let mut site = example_site();
        site.partners[0].llms = false;
        let full = llms_full(&site, &pages(&site));
        assert!(full.starts_with("# AIKit Partners\n"));
        assert!(!full.contains(&site.partners[0].landing.headline));
        for p in &site.partners[1..] {
            assert!(full.contains(&format!(
                "# {}\n\nSource: <https://aikit.example/p/{}/>",
                p.landing.headline, p.code
            )));
        }
    }
}
