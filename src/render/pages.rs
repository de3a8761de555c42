//! Render stage, pages: landing page and kit per partner, the index, content pages, sitemap.
//!
//! Takes: the loaded site and its [`Templates`]. Gives: [`OutputFile`]s for `public/`. The
//! context each template gets is built here, by one function per page kind; `docs/build.md`
//! lists every variable.

use crate::config::Config;
use crate::content::ContentPage;
use crate::diagnostics::Diagnostic;
use crate::output::OutputFile;
use crate::partner::{Partner, DEFAULT_CAMPAIGN};
use crate::render::beacon::{csp_sha256, Beacon};
use crate::render::llms;
use crate::render::templates::Templates;
use crate::site::Site;
use minijinja::Value;
use serde::Serialize;
use std::collections::BTreeMap;

/// The templates that render public pages (with whatever they extend, include or import);
/// `kit.html` is the private one.
pub(crate) const PUBLIC_TEMPLATES: &[&str] = &["landing.html", "index.html", "page.html"];

/// `site`: the same for every page.
#[derive(Debug, Serialize)]
pub(crate) struct SiteCtx<'a> {
    pub name: &'a str,
    pub base_url: &'a str,
    /// "" or "/partners": prefix of every root-relative link.
    pub base_path: &'a str,
    pub language: &'a str,
    pub summary: &'a str,
    pub description: Option<&'a str>,
    /// Root-relative URL of the partner index (`<base_path>/`).
    pub home: String,
}

/// `page`: what the `<head>` of `base.html` needs.
#[derive(Debug, Serialize)]
pub(crate) struct PageCtx {
    pub title: String,
    pub description: String,
    /// Absolute URL of this page ("" for a kit that is not hosted: it has no URL).
    pub canonical: String,
    /// Root-relative URL of this page (with the base path; "" for a kit that is not hosted).
    pub url: String,
    pub noindex: bool,
    /// Root-relative URL of the page's Markdown mirror, none for pages without one (kit).
    pub markdown_url: Option<String>,
    /// The Content-Security-Policy of the page (inline style and beacon by hash); built by us
    /// from hashes, so it is marked safe (quotes stay quotes).
    pub csp: Value,
    /// `landing`, `kit`, `index` or `content`.
    pub kind: &'static str,
}

/// `style`: the site's CSS (`templates/style.css`) and its CSP hash.
#[derive(Debug, Serialize)]
pub(crate) struct StyleCtx {
    pub css: Value,
    pub csp_hash: String,
}

/// `beacon`: the inline script and its CSP hash (see `render/beacon.rs` for the page contract).
#[derive(Debug, Serialize)]
pub(crate) struct BeaconCtx {
    pub js: Value,
    pub csp_hash: String,
}

/// A resolved link: `href` is ready for an `href=` attribute (base path applied).
#[derive(Debug, Serialize)]
pub(crate) struct Href {
    pub href: String,
}

/// Where variant `id` of partner `code` is written, relative to `public/`.
pub(crate) fn variant_file(code: &str, id: &str) -> String {
    format!("p/{code}/v/{id}/index.html")
}

/// Context of `landing.html`.
#[derive(Debug, Serialize)]
pub(crate) struct LandingCtx<'a> {
    pub site: &'a SiteCtx<'a>,
    pub page: PageCtx,
    pub style: &'a StyleCtx,
    pub beacon: &'a BeaconCtx,
    /// The partner as in its YAML file, `commission` none (it is private to the kit).
    pub partner: crate::partner::PartnerView<'a>,
    pub lead_magnet: Href,
    pub cta: Href,
    /// The `landing.body` section rendered to HTML (headings shifted under the h1), or none.
    pub body: Option<Value>,
    /// Funnel figures of this partner (`build --events`); none otherwise.
    pub funnel: Option<&'a serde_json::Value>,
}

/// One tracked link of the kit.
#[derive(Debug, Serialize)]
pub(crate) struct TrackedLink {
    pub campaign: String,
    pub url: String,
}

/// Context of `kit.html`: a private page, sent to the partner or hosted at a secret path.
#[derive(Debug, Serialize)]
pub(crate) struct KitCtx<'a> {
    /// As on other pages, but `home` is absolute (the kit is also opened as a file).
    pub site: &'a SiteCtx<'a>,
    pub page: PageCtx,
    pub style: &'a StyleCtx,
    /// The partner as in its YAML file, `commission` included.
    pub partner: crate::partner::PartnerView<'a>,
    pub links: Vec<TrackedLink>,
    /// Absolute URL of the landing page.
    pub landing_url: String,
    /// A ready-to-post paragraph with the default tracked link.
    pub blurb: String,
    /// Absolute URL of the hosted kit (`kits.hosted`), none when kits are private only.
    pub hosted_url: Option<String>,
}

/// A partner's kit, rendered: the HTML page and its Markdown twin for the private kits folder,
/// and the site path of its hosted copy (the same HTML) when kits are hosted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kit {
    /// `<code>/index.html` in the kits folder.
    pub html: OutputFile,
    /// `<code>/index.md` in the kits folder.
    pub markdown: OutputFile,
    /// `kits/<token>/index.html` in the static output, when hosted.
    pub hosted: Option<OutputFile>,
}

/// A partner as listed on the index.
#[derive(Debug, Serialize)]
pub(crate) struct PartnerCard<'a> {
    pub name: &'a str,
    pub code: &'a str,
    pub audience: &'a str,
    pub promise: &'a str,
    pub headline: &'a str,
    pub url: String,
}

/// A content page as listed on the index.
#[derive(Debug, Serialize)]
pub(crate) struct ContentCard<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub kind: crate::content::ContentKind,
    pub url: String,
}

/// Context of `index.html`.
#[derive(Debug, Serialize)]
pub(crate) struct IndexCtx<'a> {
    pub site: &'a SiteCtx<'a>,
    pub page: PageCtx,
    pub style: &'a StyleCtx,
    /// Partners that are not `noindex`, by code.
    pub partners: Vec<PartnerCard<'a>>,
    /// Published content pages that are not `noindex`, by slug.
    pub pages: Vec<ContentCard<'a>>,
}

/// Context of `page.html` (a published content page).
#[derive(Debug, Serialize)]
pub(crate) struct ContentCtx<'a> {
    pub site: &'a SiteCtx<'a>,
    pub page: PageCtx,
    pub style: &'a StyleCtx,
    pub beacon: &'a BeaconCtx,
    /// The front matter (title, description, kind, and any extra fields).
    pub content: &'a crate::content::FrontMatter,
    pub slug: &'a str,
    /// The Markdown body rendered to HTML.
    pub body: Value,
}

/// Everything shared by the pages of one build, computed once.
pub(crate) struct Pages<'a> {
    site: &'a Site,
    templates: &'a Templates,
    site_ctx: SiteCtx<'a>,
    /// `site_ctx` with an absolute `home`, for the kits.
    kit_site_ctx: SiteCtx<'a>,
    style: StyleCtx,
    beacon: BeaconCtx,
    csp_with_beacon: String,
    csp_without_script: String,
    /// `content/x.md` -> its HTML, headings shifted for use under a landing h1.
    bodies: BTreeMap<String, Value>,
    /// The host page every page is put into (config `shell`), read once.
    shell: Option<crate::render::shell::Shell>,
    /// Our stylesheet for the partner content in the shell (`pp-shell.css`).
    shell_css: Option<OutputFile>,
}

/// Where the stylesheet of the partner content in a host shell is written, relative to `public/`.
pub(crate) const SHELL_CSS: &str = "pp-shell.css";

impl<'a> Pages<'a> {
    pub(crate) fn new(
        site: &'a Site,
        templates: &'a Templates,
        beacon: &Beacon,
    ) -> Result<Self, Box<Diagnostic>> {
        let config = &site.config;
        let css = templates.render("style.css", ())?;
        let style = StyleCtx {
            csp_hash: csp_sha256(&css),
            css: Value::from_safe_string(css),
        };
        let connect = connect_src(config);
        let csp = |script: &str| {
            format!(
                "default-src 'none'; script-src {script}; style-src {}; img-src 'self' data: https:; connect-src {connect}; base-uri 'none'; form-action 'self'",
                style.csp_hash
            )
        };
        let csp_with_beacon = csp(&beacon.csp_hash);
        let csp_without_script = csp("'none'");
        let bodies = site
            .content
            .iter()
            .map(|c| {
                (
                    c.source.to_string_lossy().replace('\\', "/"),
                    Value::from_safe_string(shift_headings(&c.html)),
                )
            })
            .collect();
        let site_ctx = |home: String| SiteCtx {
            name: &config.name,
            base_url: &config.base_url,
            base_path: config.base_path(),
            language: &config.language,
            summary: &config.summary,
            description: config.description.as_deref(),
            home,
        };
        let shell = match &config.shell {
            Some(cfg) => Some(crate::render::shell::Shell::load(
                &site.root,
                cfg,
                &crate::render::shell::Needs {
                    script_hash: &beacon.csp_hash,
                    endpoint: &config.collector.endpoint,
                    origin: config.origin(),
                    stylesheet: &config.site_url(&format!("/{SHELL_CSS}")),
                },
            )?),
            None => None,
        };
        let shell_css = match &config.shell {
            Some(cfg) => Some(OutputFile::new(
                SHELL_CSS,
                templates.render(
                    "shell.css",
                    minijinja::context! {
                        accent => cfg.accent.as_deref().map(str::trim),
                        accent_text => cfg.accent_text.as_deref().map_or("#ffffff", str::trim),
                    },
                )?,
            )),
            None => None,
        };
        Ok(Pages {
            shell,
            shell_css,
            site,
            templates,
            site_ctx: site_ctx(config.site_url("/")),
            kit_site_ctx: site_ctx(config.absolute_url("/")),
            style,
            beacon: BeaconCtx {
                js: Value::from_safe_string(beacon.js.clone()),
                csp_hash: beacon.csp_hash.clone(),
            },
            csp_with_beacon,
            csp_without_script,
            bodies,
        })
    }

    /// `pp-shell.css`, when the pages go into a host shell.
    pub(crate) fn shell_css(&self) -> Option<OutputFile> {
        self.shell_css.clone()
    }

    fn config(&self) -> &Config {
        &self.site.config
    }

    fn page(
        &self,
        site_path: &str,
        title: String,
        description: String,
        noindex: bool,
        kind: &'static str,
    ) -> PageCtx {
        let config = self.config();
        let url = config.site_url(site_path);
        let (markdown_url, csp) = match kind {
            "index" => (
                Some(config.site_url(&llms::markdown_path(site_path))),
                self.csp_without_script.clone(),
            ),
            _ => (
                Some(config.site_url(&llms::markdown_path(site_path))),
                self.csp_with_beacon.clone(),
            ),
        };
        PageCtx {
            title,
            description,
            canonical: config.absolute_url(site_path),
            url,
            noindex,
            markdown_url,
            csp: Value::from_safe_string(csp),
            kind,
        }
    }

    /// Render a public page: put into the host shell when the site has one.
    fn render(
        &self,
        template: &str,
        out: String,
        ctx: impl Serialize,
        source: &std::path::Path,
    ) -> Result<OutputFile, Box<Diagnostic>> {
        self.render_in(template, out, ctx, source, self.shell.as_ref())
    }

    fn render_in(
        &self,
        template: &str,
        out: String,
        ctx: impl Serialize,
        source: &std::path::Path,
        shell: Option<&crate::render::shell::Shell>,
    ) -> Result<OutputFile, Box<Diagnostic>> {
        match self.templates.render(template, ctx) {
            Ok(mut html) => {
                if let Some(shell) = shell {
                    html = shell.wrap(&html).map_err(|e| {
                        Box::new(Diagnostic::new(
                            source,
                            0,
                            0,
                            format!("{e} (while rendering {})", source.display()),
                        ))
                    })?;
                }
                // The rendered String grew by doubling; 20,000 pages of slack is real memory.
                html.shrink_to_fit();
                Ok(OutputFile::new(out, html))
            }
            Err(mut d) => {
                d.message = format!("{} (while rendering {})", d.message, source.display());
                Err(d)
            }
        }
    }

    /// `p/<code>/index.html`.
    pub(crate) fn landing(
        &self,
        partner: &Partner,
        funnel: Option<&serde_json::Value>,
    ) -> Result<OutputFile, Box<Diagnostic>> {
        let path = partner.landing_path();
        let description = partner
            .description
            .clone()
            .unwrap_or_else(|| format!("{}: {}.", partner.promise, partner.landing.proof));
        let body = match &partner.landing.body {
            None => None,
            Some(src) => match self.bodies.get(src.trim_start_matches("./")) {
                Some(html) => Some(html.clone()),
                None => {
                    return Err(Box::new(
                        Diagnostic::new(
                            &partner.source,
                            0,
                            0,
                            format!("landing.body `{src}` is not a content file of this site"),
                        )
                        .hint(format!(
                            "give a path like `{}/<name>.md`, relative to the site root",
                            self.config().content_dir(&self.site.root)
                        )),
                    ))
                }
            },
        };
        let ctx = LandingCtx {
            site: &self.site_ctx,
            page: self.page(
                &path,
                format!("{} | {}", partner.landing.headline, self.config().name),
                description,
                partner.noindex,
                "landing",
            ),
            style: &self.style,
            beacon: &self.beacon,
            partner: partner.view(false),
            lead_magnet: Href {
                href: self.href(&partner.lead_magnet.url),
            },
            cta: Href {
                href: self.href(&partner.cta.url),
            },
            body,
            funnel,
        };
        self.render(
            "landing.html",
            format!("p/{}/index.html", partner.code),
            ctx,
            &partner.source,
        )
    }

    /// `p/<code>/v/<id>/index.html`: the landing page as variant `id` shows it (not the control,
    /// which is `p/<code>/index.html`). The Worker and `serve` answer `/p/<code>/` with this
    /// file for the visitors assigned to `id`; its canonical URL stays `/p/<code>/`, and it is
    /// in no sitemap, llms.txt or mirror.
    pub(crate) fn variant(
        &self,
        partner: &Partner,
        id: &str,
    ) -> Result<OutputFile, Box<Diagnostic>> {
        let Some(shown) = partner.with_variant(id) else {
            return Err(Box::new(Diagnostic::new(
                &partner.source,
                partner.source_line,
                0,
                format!("variant `{id}` is not declared"),
            )));
        };
        let mut file = self.landing(&shown, None)?;
        file.path = variant_file(&partner.code, id);
        Ok(file)
    }

    /// The partner's kit: `<code>/index.html` and `index.md` for the private kits folder, and
    /// the hosted copy at `kits/<token>/index.html` when kits are hosted (noindex, no referrer,
    /// listed nowhere).
    pub(crate) fn kit(&self, partner: &Partner) -> Result<Kit, Box<Diagnostic>> {
        let config = self.config();
        let links: Vec<TrackedLink> = partner
            .all_campaigns()
            .into_iter()
            .map(|c| TrackedLink {
                campaign: c.to_string(),
                url: tracked_link(config, &partner.code, c),
            })
            .collect();
        let blurb = format!(
            "{}. {}. Get the {}: {}",
            partner.landing.headline.trim_end_matches('.'),
            partner.landing.proof.trim_end_matches('.'),
            partner.promise,
            tracked_link(config, &partner.code, DEFAULT_CAMPAIGN)
        );
        let hosted_path = self.site.kit_hosting.path(partner);
        let hosted_url = hosted_path.as_deref().map(|p| config.absolute_url(p));
        let landing_url = config.absolute_url(&partner.landing_path());
        let markdown = crate::kits::markdown(
            partner,
            &landing_url,
            &links
                .iter()
                .map(|l| (l.campaign.clone(), l.url.clone()))
                .collect::<Vec<_>>(),
            &blurb,
            hosted_url.as_deref(),
        );
        let ctx = KitCtx {
            site: &self.kit_site_ctx,
            page: PageCtx {
                title: format!("Partner kit: {} | {}", partner.name, config.name),
                description: format!("Tracked links and copy for {}.", partner.name),
                canonical: hosted_url.clone().unwrap_or_default(),
                url: hosted_path
                    .as_deref()
                    .map(|p| config.site_url(p))
                    .unwrap_or_default(),
                noindex: true,
                markdown_url: None,
                csp: Value::from_safe_string(self.csp_without_script.clone()),
                kind: "kit",
            },
            style: &self.style,
            partner: partner.view(true),
            links,
            landing_url,
            blurb,
            hosted_url,
        };
        // Never in the host shell: the host's head (analytics, tag managers) would see the
        // kit's secret address and lose our `noindex` and `no-referrer`.
        let html = self.render_in(
            "kit.html",
            format!("{}/index.html", partner.code),
            ctx,
            &partner.source,
            None,
        )?;
        let hosted = hosted_path.map(|p| {
            OutputFile::new(
                format!("{}index.html", p.trim_start_matches('/')),
                html.bytes.clone(),
            )
        });
        Ok(Kit {
            markdown: OutputFile::new(format!("{}/index.md", partner.code), markdown),
            html,
            hosted,
        })
    }

    /// `index.html`: the partners and the published content.
    pub(crate) fn index(&self) -> Result<OutputFile, Box<Diagnostic>> {
        let config = self.config();
        let partners = self
            .site
            .partners
            .iter()
            .filter(|p| !p.noindex)
            .map(|p| PartnerCard {
                name: &p.name,
                code: &p.code,
                audience: &p.audience,
                promise: &p.promise,
                headline: &p.landing.headline,
                url: config.site_url(&p.landing_path()),
            })
            .collect();
        let pages = published(self.site)
            .filter(|c| !c.front.noindex)
            .map(|c| ContentCard {
                title: &c.front.title,
                description: c.front.description.as_deref(),
                kind: c.front.kind,
                url: config.site_url(&c.site_path()),
            })
            .collect();
        let ctx = IndexCtx {
            site: &self.site_ctx,
            page: self.page(
                "/",
                config.name.clone(),
                one_line(&config.summary),
                false,
                "index",
            ),
            style: &self.style,
            partners,
            pages,
        };
        self.render(
            "index.html",
            "index.html".into(),
            ctx,
            std::path::Path::new(crate::config::CONFIG_FILE),
        )
    }

    /// `<slug>/index.html` for a published content page.
    pub(crate) fn content(&self, c: &ContentPage) -> Result<OutputFile, Box<Diagnostic>> {
        let description = c
            .front
            .description
            .clone()
            .unwrap_or_else(|| c.front.title.clone());
        let ctx = ContentCtx {
            site: &self.site_ctx,
            page: self.page(
                &c.site_path(),
                format!("{} | {}", c.front.title, self.config().name),
                description,
                c.front.noindex,
                "content",
            ),
            style: &self.style,
            beacon: &self.beacon,
            content: &c.front,
            slug: &c.slug,
            body: Value::from_safe_string(shift_headings(&c.html)),
        };
        self.render(
            "page.html",
            format!("{}/index.html", c.slug),
            ctx,
            &c.source,
        )
    }

    /// A link target from YAML, ready for `href=`: a host path or URL, by the one rule of
    /// [`Config::link_href`].
    fn href(&self, url: &str) -> String {
        self.config().link_href(url)
    }
}

/// Content pages published at `/<slug>/`: not drafts, not sections.
pub(crate) fn published(site: &Site) -> impl Iterator<Item = &ContentPage> {
    site.content.iter().filter(|c| c.is_published())
}

/// `<base_url>/go/<code>` (default campaign) or `...?campaign=<c>`.
pub(crate) fn tracked_link(config: &Config, code: &str, campaign: &str) -> String {
    let base = config.absolute_url(&format!("/go/{code}"));
    if campaign == DEFAULT_CAMPAIGN {
        base
    } else {
        format!("{base}?campaign={campaign}")
    }
}

/// `sitemap.xml`: absolute URLs of the index, indexable landing pages and published content,
/// sorted; no kits, drafts or noindex pages; no dates (deterministic output).
pub(crate) fn sitemap(site: &Site) -> OutputFile {
    let config = &site.config;
    let mut urls = vec![config.absolute_url("/")];
    urls.extend(
        site.partners
            .iter()
            .filter(|p| !p.noindex)
            .map(|p| config.absolute_url(&p.landing_path())),
    );
    urls.extend(
        published(site)
            .filter(|c| !c.front.noindex)
            .map(|c| config.absolute_url(&c.site_path())),
    );
    urls.sort();
    urls.dedup();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for u in urls {
        xml.push_str("  <url><loc>");
        xml.push_str(&xml_escape(&u));
        xml.push_str("</loc></url>\n");
    }
    xml.push_str("</urlset>\n");
    OutputFile::new("sitemap.xml", xml)
}

use crate::text::html::escape_xml as xml_escape;

/// `connect-src` of the CSP: same origin, plus the endpoint's origin when it is absolute.
fn connect_src(config: &Config) -> String {
    let ep = &config.collector.endpoint;
    match ep.split_once("://") {
        Some((scheme, rest)) if scheme == "https" || scheme == "http" => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("'self' {scheme}://{host}")
        }
        _ => "'self'".into(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shift every heading one level down (h1 -> h2 ... h5 -> h6) when the HTML has an `<h1`, so
/// the page keeps exactly one h1 (the template's).
pub(crate) fn shift_headings(html: &str) -> String {
    if !html.contains("<h1") {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let b = rest.as_bytes();
        let (close, at) = if b.get(1) == Some(&b'/') {
            (true, 2)
        } else {
            (false, 1)
        };
        let level = match (b.get(at), b.get(at + 1), b.get(at + 2)) {
            (Some(b'h'), Some(d @ b'1'..=b'5'), Some(b'>' | b' ')) => Some(d - b'0'),
            _ => None,
        };
        match level {
            Some(l) => {
                out.push_str(if close { "</h" } else { "<h" });
                out.push(char::from(b'0' + l + 1));
                rest = &rest[at + 2..];
            }
            None => {
                out.push('<');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_shift_down_only_when_there_is_an_h1() {
        assert_eq!(
            shift_headings("<h1 id=\"a\">A</h1><p>x<b>y</b></p><h2>B</h2><h6>C</h6>"),
            "<h2 id=\"a\">A</h2><p>x<b>y</b></p><h3>B</h3><h6>C</h6>"
        );
        assert_eq!(shift_headings("<h2>B</h2><hr>"), "<h2>B</h2><hr>");
    }

    #[test]
    fn sitemap_escapes_urls() {
        assert_eq!(
            xml_escape("https://a.example/?a=1&b=<2>"),
            "https://a.example/?a=1&amp;b=&lt;2&gt;"
        );
    }
}
