//! Render stage, agents: `llms.txt` per llmstxt.org — H1, blockquote summary, plain paragraphs,
//! then H2 sections of `- [title](url): notes`, with `## Optional` last.
//!
//! Takes: the site. Gives: the sections (shared with the merge and the index mirror) and the text.

use super::{escape, markdown_path};
use crate::content::{ContentKind, ContentPage};
use crate::partner::Partner;
use crate::site::Site;
use std::collections::BTreeMap;

/// Default section of partner offers.
pub const PARTNER_OFFERS: &str = "Partner offers";
/// Default section of lead magnets and tutorials.
pub const GUIDES: &str = "Guides";
/// The spec's section for secondary links an agent may skip; always last.
pub const OPTIONAL: &str = "Optional";

/// One `- [title](url): notes` line, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The link text.
    pub title: String,
    /// Absolute URL.
    pub url: String,
    /// What is behind the link, after the colon (may be empty).
    pub notes: String,
}

impl Item {
    /// The list line, escaped so no user text can break the list structure.
    pub fn line(&self) -> String {
        let mut title = escape::inline(&self.title);
        if title.is_empty() {
            // `[](url)` is a link without text, and no title at all for the reference parser.
            title = escape::inline(&self.url);
        }
        let mut line = format!("- [{title}]({})", escape::url(&self.url));
        let notes = escape::inline(&self.notes);
        if !notes.is_empty() {
            line.push_str(": ");
            line.push_str(&notes);
        }
        line
    }
}

/// One H2 section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The H2 title.
    pub name: String,
    /// Its links, in order.
    pub items: Vec<Item>,
}

/// Whether a partner is listed for agents (llms.txt, llms-full.txt).
pub(super) fn partner_listed(p: &Partner) -> bool {
    p.llms && !p.noindex && !p.draft
}

/// Whether a content page is listed for agents: published, indexable, and not `llms: false`.
pub(super) fn content_listed(c: &ContentPage) -> bool {
    c.is_published() && !c.front.noindex && c.front.llms.unwrap_or(true)
}

/// The sections of our llms.txt in output order: "Partner offers", "Guides", other named
/// sections alphabetically, "Optional" last. Empty sections are left out.
pub(super) fn sections(site: &Site) -> Vec<Section> {
    let mut by_name: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let mut push = |section: Option<&str>, default: &str, item: Item| {
        let name = section
            .map(escape::one_line)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default.to_string());
        by_name.entry(name).or_default().push(item);
    };

    let mut partners: Vec<&Partner> = site.partners.iter().filter(|p| partner_listed(p)).collect();
    partners.sort_by(|a, b| a.code.cmp(&b.code));
    for p in partners {
        push(
            p.llms_section.as_deref(),
            PARTNER_OFFERS,
            partner_item(site, p),
        );
    }

    let mut content: Vec<&ContentPage> =
        site.content.iter().filter(|c| content_listed(c)).collect();
    content.sort_by(|a, b| a.slug.cmp(&b.slug));
    for c in content {
        let default = match c.front.kind {
            ContentKind::LeadMagnet | ContentKind::Tutorial => GUIDES,
            ContentKind::Page | ContentKind::Section => OPTIONAL,
        };
        let mut notes = c.front.description.clone().unwrap_or_default();
        append_note(&mut notes, offered_by(site, c).as_deref());
        append_note(&mut notes, c.front.llms_note.as_deref());
        push(
            c.front.llms_section.as_deref(),
            default,
            Item {
                title: c.front.title.clone(),
                url: site.config.absolute_url(&markdown_path(&c.site_path())),
                notes,
            },
        );
    }

    for item in generated_items(site) {
        push(None, OPTIONAL, item);
    }

    let rank = |name: &str| match name {
        PARTNER_OFFERS => 0,
        GUIDES => 1,
        OPTIONAL => 3,
        _ => 2,
    };
    let mut out: Vec<Section> = by_name
        .into_iter()
        .map(|(name, items)| Section { name, items })
        .collect();
    // Stable sort: same-rank custom sections stay alphabetical (BTreeMap order).
    out.sort_by_key(|s| rank(&s.name));
    out
}

/// The llms.txt item of a partner: its name, the mirror of its landing page, and notes saying
/// the promise, the audience, the call to action and what activation means.
pub(super) fn partner_item(site: &Site, p: &Partner) -> Item {
    Item {
        title: p.name.clone(),
        url: site.config.absolute_url(&markdown_path(&p.landing_path())),
        notes: partner_notes(p),
    }
}

/// "Promise: …. Audience: …. Call to action: … (demo). Activation means: …." plus `llms_note`.
pub(super) fn partner_notes(p: &Partner) -> String {
    let cta_kind = super::cta_kind_name(p.cta.kind);
    let mut notes = format!(
        "Promise: {} Audience: {} Free resource: {} Call to action: {} ({cta_kind}). Activation means: {}",
        escape::sentence(&p.promise),
        escape::sentence(&p.audience),
        escape::sentence(&p.lead_magnet.label),
        p.cta.label.trim_end(),
        escape::sentence(&p.activation.description),
    );
    append_note(&mut notes, p.llms_note.as_deref());
    notes
}

/// "Free resource of: A, B." for a guide that listed partners link as their lead magnet or call
/// to action, so an agent can go from a guide to the offers built on it.
fn offered_by(site: &Site, page: &ContentPage) -> Option<String> {
    let url = site.config.absolute_url(&page.site_path());
    let links_here = |u: &str| {
        let u = super::canonical_url(&site.config, u);
        let u = u.split('#').next().unwrap_or_default();
        u == url || u == url.trim_end_matches('/')
    };
    let names: Vec<&str> = site
        .partners
        .iter()
        .filter(|p| partner_listed(p) && (links_here(&p.lead_magnet.url) || links_here(&p.cta.url)))
        .map(|p| p.name.as_str())
        .collect();
    (!names.is_empty()).then(|| format!("Free resource of: {}.", names.join(", ")))
}

fn append_note(notes: &mut String, note: Option<&str>) {
    if let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) {
        if !notes.is_empty() {
            notes.push(' ');
        }
        notes.push_str(note);
    }
}

/// Links to files we generate: the index mirror, partners.json, llms-full.txt.
fn generated_items(site: &Site) -> Vec<Item> {
    let c = &site.config;
    let mut items = vec![
        Item {
            title: "All partner offers".into(),
            url: c.absolute_url(&markdown_path("/")),
            notes: "The index page: every offer with its promise and audience.".into(),
        },
        Item {
            title: "Partner registry (JSON)".into(),
            url: c.absolute_url(&format!("/{}", super::PARTNERS_JSON)),
            notes: "Machine-readable list of the public offers: promise, audience, call to action, activation, URLs.".into(),
        },
    ];
    if c.llms.full {
        items.push(Item {
            title: "Full text of every partner page".into(),
            url: c.absolute_url(&format!("/{}", super::LLMS_FULL_TXT)),
            notes: "All partner pages as one Markdown file.".into(),
        });
    }
    items
}

/// H1, blockquote summary and description paragraphs: the head of llms.txt and of the index
/// mirror.
pub(super) fn head(site: &Site) -> String {
    let c = &site.config;
    let mut out = format!("# {}\n", escape::inline(&c.name));
    let summary = escape::inline(&c.summary);
    if !summary.is_empty() {
        out.push_str(&format!("\n> {summary}\n"));
    }
    if let Some(description) = &c.description {
        for p in escape::paragraphs(description) {
            out.push_str(&format!("\n{p}\n"));
        }
    }
    out
}

/// H2 sections as Markdown, each followed by a blank line between sections.
pub(super) fn sections_markdown(sections: &[Section]) -> String {
    let mut out = String::new();
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("## {}\n\n", escape::inline(&s.name)));
        for item in &s.items {
            out.push_str(&item.line());
            out.push('\n');
        }
    }
    out
}

/// The details paragraph of an llms.txt whose site has no `description`: the llms.txt format
/// reads the summary blockquote only when something follows it before the first section.
pub(super) const DEFAULT_DETAILS: &str =
    "The sections below link to Markdown copies of this site's pages: each partner offer with its promise, audience, call to action and activation event.";

/// The whole `llms.txt`.
pub(super) fn llms_txt(site: &Site) -> String {
    let mut out = head(site);
    if site.config.description.is_none() {
        out.push_str(&format!("\n{DEFAULT_DETAILS}\n"));
    }
    let sections = sections(site);
    if !sections.is_empty() {
        out.push('\n');
        out.push_str(&sections_markdown(&sections));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::llms::tests::example_site;
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};

    /// A Markdown list as CommonMark reads it: (link text, destination, text after the link).
    fn list_items(markdown: &str) -> Vec<(String, String, String)> {
        let mut items = Vec::new();
        let mut in_link = false;
        let mut current: Option<(String, String, String)> = None;
        for ev in Parser::new(markdown) {
            match ev {
                Event::Start(Tag::Item) => current = Some(Default::default()),
                Event::End(TagEnd::Item) => items.extend(current.take()),
                Event::Start(Tag::Link { dest_url, .. }) => {
                    in_link = true;
                    if let Some(c) = current.as_mut() {
                        c.1 = dest_url.to_string();
                    }
                }
                Event::End(TagEnd::Link) => in_link = false,
                Event::Text(t) | Event::Code(t) => {
                    if let Some(c) = current.as_mut() {
                        if in_link {
                            c.0.push_str(&t);
                        } else {
                            c.2.push_str(&t);
                        }
                    }
                }
                Event::SoftBreak | Event::HardBreak => {
                    if let Some(c) = current.as_mut() {
                        c.2.push('\n');
                    }
                }
                _ => {}
            }
        }
        items
    }

    fn site_with_partner_name(name: &str, promise: &str) -> Site {
        let mut site = example_site();
        site.partners.truncate(1);
        site.content.clear();
        site.partners[0].name = name.into();
        site.partners[0].promise = promise.into();
        site
    }

    #[test]
    fn example_site_has_h1_summary_and_sections_in_order() {
        let site = example_site();
        let text = llms_txt(&site);
        assert!(text.starts_with("# AIKit Partners\n\n> AIKit helps small teams"));
        let h2: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
        assert_eq!(h2, ["## Partner offers", "## Guides", "## Optional"]);
        let offers = &sections(&site)[0];
        let codes: Vec<&str> = offers
            .items
            .iter()
            .map(|i| i.url.rsplit('/').nth(1).unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "ai-tools-directory",
                "founder-community",
                "nocode-agency",
                "seo-consultant"
            ]
        );
    }

    #[test]
    fn partner_notes_say_promise_audience_cta_and_activation() {
        let site = example_site();
        let seo = site.partner("seo-consultant").unwrap();
        assert_eq!(
            partner_notes(seo),
            "Promise: Content QA checklist. Audience: SEO consultants who audit AI-written content for their clients. Free resource: Download the checklist. Call to action: Book a demo (demo). Activation means: Runs a first content audit in AIKit."
        );
    }

    #[test]
    fn guides_name_the_offers_that_use_them() {
        let mut site = example_site();
        // Independent of the example's descriptions.
        site.content
            .iter_mut()
            .for_each(|c| c.front.description = None);
        let guides = &sections(&site)[1];
        let notes: Vec<(&str, &str)> = guides
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.notes.as_str()))
            .collect();
        assert_eq!(
            notes,
            [
                (
                    "Content QA checklist (printable)",
                    "Free resource of: SEO consultant network."
                ),
                (
                    "Cost reduction guide",
                    "Free resource of: Founder community."
                ),
                (
                    "Agent-ready llms.txt guide",
                    "Free resource of: AI tools directory."
                ),
                (
                    "Migration playbook",
                    "Free resource of: No-code agency partners."
                ),
            ]
        );
    }

    #[test]
    fn noindex_drafts_and_llms_false_are_left_out() {
        let mut site = example_site();
        site.partners[0].noindex = true;
        site.partners[1].llms = false;
        for c in site.content.iter_mut() {
            if c.slug == "migration-playbook" {
                c.front.draft = true;
            }
            if c.slug == "cost-reduction-guide" || c.slug == "content-qa-checklist" {
                c.front.noindex = true;
            }
            if c.slug == "llms-txt-guide" {
                c.front.llms = Some(false);
            }
        }
        let text = llms_txt(&site);
        for gone in [
            site.partners[0].code.as_str(),
            site.partners[1].code.as_str(),
            "migration-playbook",
            "cost-reduction-guide",
            "llms-txt-guide",
        ] {
            assert!(!text.contains(gone), "{gone} listed:\n{text}");
        }
        assert!(text.contains(&site.partners[2].code));
        assert!(!text.contains("## Guides"), "an empty section is left out");
    }

    #[test]
    fn llms_section_and_note_override_the_defaults() {
        let mut site = example_site();
        site.partners[0].llms_section = Some("Directories".into());
        site.partners[0].llms_note = Some("Listed since 2024.".into());
        site.content[0].front.llms_section = Some("Optional".into());
        let s = sections(&site);
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["Partner offers", "Guides", "Directories", "Optional"]
        );
        assert!(s[2].items[0]
            .notes
            .ends_with("Activation means: Copies the implementation snippet. Listed since 2024."));
        assert_eq!(s[3].items[0].title, site.content[0].front.title);
    }

    #[test]
    fn a_blank_title_falls_back_to_the_url() {
        let item = Item {
            title: " \n ".into(),
            url: "https://x.example/a_b/".into(),
            notes: String::new(),
        };
        assert_eq!(
            item.line(),
            "- [https://x.example/a_b/](https://x.example/a_b/)"
        );
    }

    #[test]
    fn hostile_partner_name_keeps_one_item_with_the_same_text() {
        let name =
            "Evil ] name) [x](https://evil.example)\n## Heading\n- item `code` <b>#1</b> &amp;";
        let site = site_with_partner_name(name, "promise ]:(\n# not a heading");
        let text = llms_txt(&site);
        let offers = text.split("## Partner offers\n").nth(1).unwrap();
        let offers = offers.split("\n## ").next().unwrap();
        let items = list_items(offers);
        assert_eq!(items.len(), 1, "{offers}");
        assert_eq!(items[0].0, escape::one_line(name));
        assert_eq!(
            items[0].1,
            "https://aikit.example/p/ai-tools-directory/index.html.md"
        );
        assert!(
            items[0].2.contains("promise ]:( # not a heading"),
            "{}",
            items[0].2
        );
        assert_eq!(text.lines().filter(|l| l.starts_with("## ")).count(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_partner_name_renders_as_exactly_one_list_item(
            name in "[ -~\\n\\t\\[\\]()`<>#*_!&;\u{e9}\u{2028}]{1,40}",
            promise in "[ -~\\n\\[\\]()`<>#]{1,40}",
        ) {
            proptest::prop_assume!(!escape::one_line(&name).is_empty());
            let site = site_with_partner_name(&name, &promise);
            let text = llms_txt(&site);
            let offers = text.split("\n## Partner offers\n").nth(1).unwrap();
            let offers = offers.split("\n## ").next().unwrap();
            let items = list_items(offers);
            proptest::prop_assert_eq!(items.len(), 1, "{}", offers);
            proptest::prop_assert_eq!(&items[0].0, &escape::one_line(&name));
            proptest::prop_assert!(!items[0].2.contains('\n'));
            let promise_note = format!("Promise: {}", escape::sentence(&escape::one_line(&promise)));
            proptest::prop_assert!(items[0].2.contains(&promise_note), "{} lacks {}", items[0].2, promise_note);
            let h2 = text.lines().filter(|l| l.starts_with("##")).count();
            proptest::prop_assert_eq!(h2, 2);
        }
    }
}
